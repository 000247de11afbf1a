//! Starting a measured child: a `fork`-style `clone` from the launcher,
//! timed from right before it, and the child's own steps up to `exec`.
//!
//! Why not `posix_spawn` (a `clone` sharing the parent's memory until
//! `exec`, as hyperfine does): Linux carries the peak resident size of the
//! memory map a process had before `exec` into its own peak (`ru_maxrss`).
//! A shared map is the launcher's whole map, binary pages and all: about
//! 1.9 MiB, where the native start-up kernel's own peak is a few pages.
//! Sharing the map of a process forked just for the run still carried
//! 1.1 MiB, because any path through Rust and libc code pages in much of the
//! launcher's 2 MiB of code, 64 KiB at a time (the kernel's fault-around);
//! dropping the launcher's code pages and resetting its peak right before
//! the spawn (`MADV_DONTNEED`, `/proc/self/clear_refs`) left 0.85–0.98 MiB:
//! 0.6 MiB of the executable's pages were resident again at once (not
//! explained; possibly file pages mapped back in large folios).
//! A forked child starts with a copy of the launcher's anonymous pages only
//! (about 0.1 MiB) and pages in only the code it runs before `exec`, which
//! is why that code is raw system calls. The price is time: on a 2-core VM
//! forking measured 0.03–0.05 ms more than `posix_spawn`. The launcher's
//! anonymous share is recorded beside every run's peak
//! ([`Spawned::rss_floor_kib`]); with the child's code, a program whose own
//! peak is smaller reads about 0.27 MiB (measured by having the child report
//! its peak right before `exec`, which cost the span 5 % and was not kept).
//!
//! Between `clone` and `exec` the child runs on a stack of its own and makes
//! only system calls on data prepared beforehand: it must not allocate or
//! take a lock, which another thread of the launcher may hold.

use std::ffi::{CString, OsStr, OsString};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

/// Everything the child needs, prepared before it exists.
pub struct Spec {
    program: CString,
    argv: Vec<CString>,
    envp: Vec<CString>,
    workdir: CString,
    pub stdin: OwnedFd,
    pub stdout: OwnedFd,
    pub stderr: OwnedFd,
    pub address_space_limit: Option<u64>,
}

impl Spec {
    /// `program` with a `/` is used as given; a bare name is looked up on the
    /// `PATH` of `env` (the child's environment) now, so that a missing
    /// program is reported before anything starts.
    pub fn new(
        program: &OsStr,
        args: &[OsString],
        env: &[(OsString, OsString)],
        workdir: &Path,
        stdio: [OwnedFd; 3],
        address_space_limit: Option<u64>,
    ) -> io::Result<Spec> {
        let resolved = if program.as_bytes().contains(&b'/') {
            PathBuf::from(program)
        } else {
            let path = env.iter().rev().find(|(k, _)| k == "PATH").map(|(_, v)| v.clone()).unwrap_or_default();
            find_on_path(program, &path).ok_or_else(|| {
                io::Error::new(io::ErrorKind::NotFound, format!("{} not found on PATH", program.to_string_lossy()))
            })?
        };
        let argv: io::Result<Vec<CString>> =
            std::iter::once(program.to_os_string()).chain(args.iter().cloned()).map(c_string).collect();
        let envp: io::Result<Vec<CString>> = env
            .iter()
            .map(|(k, v)| {
                let mut pair = k.clone();
                pair.push("=");
                pair.push(v);
                c_string(pair)
            })
            .collect();
        let [stdin, stdout, stderr] = stdio;
        Ok(Spec {
            program: c_string(resolved.into_os_string())?,
            argv: argv?,
            envp: envp?,
            workdir: c_string(workdir.as_os_str().to_os_string())?,
            stdin,
            stdout,
            stderr,
            address_space_limit,
        })
    }
}

fn c_string(s: OsString) -> io::Result<CString> {
    CString::new(s.into_vec()).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a NUL byte in an argument"))
}

fn find_on_path(program: &OsStr, path: &OsStr) -> Option<PathBuf> {
    std::env::split_paths(path).map(|dir| dir.join(program)).find(|candidate| {
        let Ok(c) = CString::new(candidate.as_os_str().as_bytes()) else { return false };
        // SAFETY: a valid C string.
        unsafe { libc::access(c.as_ptr(), libc::X_OK) == 0 }
    })
}

/// A started child.
pub struct Spawned {
    pub pid: libc::pid_t,
    /// Monotonic nanoseconds right before `clone`: the start of the measured span.
    pub started_ns: u64,
    /// The launcher's anonymous resident memory when it forked the child:
    /// the child's copy of it is the floor of its `ru_maxrss` (see the
    /// module docs).
    pub rss_floor_kib: u64,
}

/// What the child reads: the spec, its parent's pid and where to report a
/// failed `exec`.
struct ChildContext<'a> {
    spec: &'a Spec,
    argv: Vec<*const libc::c_char>,
    envp: Vec<*const libc::c_char>,
    parent: libc::pid_t,
    error_pipe: RawFd,
}

const CHILD_STACK: usize = 32 * 1024;

/// Starts the child; returns once it has called `exec` (the error pipe
/// closes). An error means the program could not be started (its `errno`
/// from the child).
pub fn spawn(spec: &Spec) -> io::Result<Spawned> {
    let (error_read, error_write) = pipe()?;
    let nul_terminated = |v: &[CString]| v.iter().map(|s| s.as_ptr()).chain([std::ptr::null()]).collect();
    let context = ChildContext {
        spec,
        argv: nul_terminated(&spec.argv),
        envp: nul_terminated(&spec.envp),
        // SAFETY: getpid is always safe.
        parent: unsafe { libc::getpid() },
        error_pipe: error_write.as_raw_fd(),
    };
    let rss_floor_kib = own_anonymous_kib();
    let mut stack = vec![0u8; CHILD_STACK];
    // The stack grows down on every architecture this runs on; 16-byte aligned.
    let top = (stack.as_mut_ptr() as usize + CHILD_STACK) & !15;
    let started_ns = crate::measure::monotonic_ns();
    // SAFETY: the child runs `child_main` on (its copy of) the stack, reads
    // only (its copy of) the prepared context, and either execs or exits.
    let pid = unsafe {
        libc::clone(
            child_main,
            top as *mut libc::c_void,
            libc::SIGCHLD,
            (&context as *const ChildContext<'_>).cast_mut().cast(),
        )
    };
    let clone_error = io::Error::last_os_error();
    drop(error_write);
    drop(stack);
    if pid < 0 {
        return Err(clone_error);
    }
    let mut errno = [0u8; 4];
    // SAFETY: reading into a buffer of the stated size from our descriptor.
    let n = unsafe { libc::read(error_read.as_raw_fd(), errno.as_mut_ptr().cast(), errno.len()) };
    if n == errno.len() as isize {
        // The child could not exec and has exited: reap it.
        let mut status = 0;
        // SAFETY: our own child.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        return Err(io::Error::from_raw_os_error(i32::from_ne_bytes(errno)));
    }
    Ok(Spawned { pid, started_ns, rss_floor_kib })
}

/// The child between `clone` and `exec`. Every step is a raw system call:
/// each libc wrapper lives elsewhere in the launcher's code, and the child's
/// first touch of each maps another 64 KiB of it (the kernel's fault-around),
/// which counts into the measured program's peak and costs time within the
/// measured span.
extern "C" fn child_main(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the `ChildContext` the parent keeps alive until we exec.
    let context = unsafe { &*(arg as *const ChildContext<'_>) };
    let spec = context.spec;
    // SAFETY: raw system calls on prepared data only (see module docs).
    unsafe {
        let fail = || -> ! {
            let errno = (*libc::__errno_location()).to_ne_bytes();
            libc::syscall(libc::SYS_write, context.error_pipe, errno.as_ptr(), errno.len());
            libc::syscall(libc::SYS_exit_group, 127);
            unreachable!("exit_group returned")
        };
        let check = |rc: libc::c_long| {
            if rc < 0 {
                fail();
            }
        };
        // The launcher's handlers and ignored signals (Rust ignores SIGPIPE)
        // must not reach the program; nor its blocked signals.
        let default = KernelSigaction { handler: libc::SIG_DFL, flags: 0, restorer: 0, mask: 0 };
        for signal in [libc::SIGPIPE, libc::SIGSEGV, libc::SIGBUS] {
            let no_old: *mut KernelSigaction = std::ptr::null_mut();
            check(libc::syscall(libc::SYS_rt_sigaction, signal, &default, no_old, SIGSET_BYTES));
        }
        let empty: u64 = 0;
        check(libc::syscall(libc::SYS_rt_sigprocmask, libc::SIG_SETMASK, &empty, 0usize, SIGSET_BYTES));
        for (from, to) in [(&spec.stdin, 0), (&spec.stdout, 1), (&spec.stderr, 2)] {
            let from = from.as_raw_fd();
            if from == to {
                // Already in place: only let it survive the exec.
                check(libc::syscall(libc::SYS_fcntl, to, libc::F_SETFD, 0));
            } else {
                check(libc::syscall(libc::SYS_dup3, from, to, 0));
            }
        }
        check(libc::syscall(libc::SYS_chdir, spec.workdir.as_ptr()));
        // Own process group, so a timeout kills the whole tree.
        check(libc::syscall(libc::SYS_setpgid, 0, 0));
        // A child must not outlive a killed harness: it would keep running
        // unmeasured and disturb every later run.
        check(libc::syscall(libc::SYS_prctl, libc::PR_SET_PDEATHSIG, libc::SIGKILL));
        if libc::syscall(libc::SYS_getppid) != libc::c_long::from(context.parent) {
            libc::syscall(libc::SYS_exit_group, 1);
        }
        if let Some(bytes) = spec.address_space_limit {
            let rl = libc::rlimit64 { rlim_cur: bytes, rlim_max: bytes };
            let no_old: *mut libc::rlimit64 = std::ptr::null_mut();
            check(libc::syscall(libc::SYS_prlimit64, 0, libc::RLIMIT_AS, &rl, no_old));
        }
        libc::syscall(libc::SYS_execve, spec.program.as_ptr(), context.argv.as_ptr(), context.envp.as_ptr());
        fail()
    }
}

/// The kernel's `struct sigaction` for `rt_sigaction` (the same on x86-64
/// and aarch64), not libc's.
#[repr(C)]
struct KernelSigaction {
    handler: libc::sighandler_t,
    flags: libc::c_ulong,
    restorer: usize,
    mask: u64,
}

/// The kernel's signal set: 64 signals.
const SIGSET_BYTES: usize = 8;

fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    use std::os::fd::FromRawFd;
    let mut fds = [0; 2];
    // SAFETY: a valid two-element array; on success both are new descriptors we own.
    unsafe {
        if libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok((OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])))
    }
}

/// This process's anonymous resident memory (`RssAnon`), in KiB: what a
/// forked child starts with.
fn own_anonymous_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("RssAnon:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
