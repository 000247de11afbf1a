//! Running one child process and measuring it. The harness does this in a
//! launcher process (see [`crate::launcher`]), not in itself.
//!
//! Wall time runs on the monotonic clock from the child's last instruction
//! before `exec` (it writes the time to a pipe) to the moment the kernel
//! reports the child's exit (`waitid` with `WNOWAIT`): the program's own
//! life, without the cost of forking it, which belongs to the harness.
//! Max RSS and CPU times come from the child's own `wait4` rusage, never from
//! the cumulative `RUSAGE_CHILDREN`, which is a maximum over every child ever
//! waited for.

use std::fs::File;
use std::io;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use edgebench_model::plan::Invocation;

/// How long a child gets between SIGTERM and SIGKILL after its timeout, so an
/// executor can clean up (a container executor removes its container).
const KILL_GRACE: Duration = Duration::from_secs(3);

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Exit {
    Code(i32),
    Signal(i32),
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Measurement {
    pub exit: Exit,
    pub timed_out: bool,
    pub wall: Duration,
    pub user: Duration,
    pub sys: Duration,
    pub max_rss_kib: u64,
}

/// Where a child's output goes: files, so that no reader thread competes
/// with the child while it is measured.
pub struct Capture<'a> {
    pub stdout: &'a Path,
    pub stderr: &'a Path,
}

/// Why a run could not be measured.
#[derive(Debug)]
pub enum Error {
    /// The program could not be started (missing, not executable, …).
    Spawn(io::Error),
    /// Preparing, waiting or reaping failed: the harness's problem.
    Harness(io::Error),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Spawn(e) | Error::Harness(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for Error {}

/// Spawns `invocation` in `workdir`, waits for it (killing it after
/// `timeout`), and measures it.
pub fn run(
    invocation: &Invocation,
    workdir: &Path,
    extra_env: &[(&str, &Path)],
    capture: &Capture<'_>,
    timeout: Duration,
    watchdog: &Watchdog,
) -> Result<Measurement, Error> {
    run_with(invocation, workdir, extra_env, capture, timeout, watchdog, true)
}

/// [`run`], choosing whether to wait on a pidfd (where the kernel has them)
/// or with the watchdog thread; public so tests can cover both.
#[doc(hidden)]
pub fn run_with(
    invocation: &Invocation,
    workdir: &Path,
    extra_env: &[(&str, &Path)],
    capture: &Capture<'_>,
    timeout: Duration,
    watchdog: &Watchdog,
    prefer_pidfd: bool,
) -> Result<Measurement, Error> {
    let mut command = command(invocation, workdir);
    for (key, value) in extra_env {
        command.env(key, value);
    }
    let stdout = File::create(capture.stdout).map_err(Error::Harness)?;
    let stderr = File::create(capture.stderr).map_err(Error::Harness)?;
    command.stdin(Stdio::null()).stdout(stdout).stderr(stderr);
    let limit = invocation.address_space_limit;
    // SAFETY: getpid is always safe.
    let harness_pid = unsafe { libc::getpid() };
    let (start_read, start_write) = start_pipe().map_err(Error::Harness)?;
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        command.pre_exec(move || {
            // Own process group, so a timeout kills the whole tree.
            if libc::setpgid(0, 0) != 0 {
                return Err(io::Error::last_os_error());
            }
            // A child must not outlive a killed harness: it would keep
            // running unmeasured and disturb every later run.
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(io::Error::last_os_error());
            }
            if libc::getppid() != harness_pid {
                libc::_exit(1);
            }
            if let Some(bytes) = limit {
                let rl = libc::rlimit { rlim_cur: bytes as libc::rlim_t, rlim_max: bytes as libc::rlim_t };
                if libc::setrlimit(libc::RLIMIT_AS, &rl) != 0 {
                    return Err(io::Error::last_os_error());
                }
            }
            // Last: the start of the measured span, right before exec.
            let now = monotonic_ns().to_ne_bytes();
            if libc::write(start_write, now.as_ptr().cast(), now.len()) != now.len() as isize {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }

    let spawned = command.spawn();
    // SAFETY: our copy of the write end; the child's closes at exec.
    unsafe { libc::close(start_write) };
    let child = match spawned {
        Ok(child) => child,
        Err(e) => {
            // SAFETY: closing our own descriptor.
            unsafe { libc::close(start_read) };
            return Err(Error::Spawn(e));
        }
    };
    let pid = child.id() as libc::pid_t;
    let (end, timed_out) = match pidfd_open(pid).filter(|_| prefer_pidfd) {
        // The child's exit makes its pidfd readable: one thread waits for
        // exit and deadline alike, and nothing else wakes while it runs.
        Some(pidfd) => wait_with_pidfd(&pidfd, pid, timeout).map_err(Error::Harness)?,
        // Kernels before 5.3: a watchdog thread enforces the deadline.
        None => {
            watchdog.arm(pid, Instant::now() + timeout);
            wait_for_exit_without_reaping(pid).map_err(Error::Harness)?;
            let end = monotonic_ns();
            // The child is a zombie until reaped below, so its pid cannot
            // be reused while the watchdog might still signal it.
            (end, watchdog.disarm())
        }
    };
    let start = read_start(start_read);
    let wall = Duration::from_nanos(end.saturating_sub(start.unwrap_or(end)));
    // Whatever the child left running in its group dies with it; the leader
    // is still a zombie here, so the group id cannot have been reused.
    signal_group(pid, libc::SIGKILL);
    let (status, usage) = reap(pid).map_err(Error::Harness)?;
    // `child` is dropped without `wait`; it was reaped above.
    drop(child);

    let exit = if libc::WIFSIGNALED(status) {
        Exit::Signal(libc::WTERMSIG(status))
    } else {
        Exit::Code(libc::WEXITSTATUS(status))
    };
    Ok(Measurement {
        exit,
        timed_out,
        wall,
        user: timeval(usage.ru_utime),
        sys: timeval(usage.ru_stime),
        // Linux reports ru_maxrss in KiB.
        max_rss_kib: u64::try_from(usage.ru_maxrss).unwrap_or(0),
    })
}

/// The command for `invocation`: a program path with a `/` is taken relative
/// to `workdir`, a bare name is looked up on `PATH`; `{workdir}` in an
/// argument becomes the work directory's absolute path.
pub fn command(invocation: &Invocation, workdir: &Path) -> Command {
    // Absolute, because a relative program path would be resolved against
    // the child's new working directory.
    let workdir = std::path::absolute(workdir).unwrap_or_else(|_| workdir.to_path_buf());
    let program = &invocation.argv[0];
    let mut command = if program.contains('/') { Command::new(workdir.join(program)) } else { Command::new(program) };
    let shown = workdir.to_string_lossy();
    command
        .args(invocation.argv[1..].iter().map(|a| a.replace("{workdir}", &shown)))
        .current_dir(&workdir)
        .envs(&invocation.env);
    command
}

fn pidfd_open(pid: libc::pid_t) -> Option<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    // SAFETY: a plain syscall; a non-negative result is a new descriptor we own.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    // SAFETY: `fd` was just returned by the kernel and is owned by nobody else.
    (fd >= 0).then(|| unsafe { std::os::fd::OwnedFd::from_raw_fd(fd as libc::c_int) })
}

/// Waits until the child exits or its deadline passes; on the deadline,
/// SIGTERM to its group, then SIGKILL after [`KILL_GRACE`]. Returns the exit
/// time (monotonic ns) and whether the deadline passed. The child is not
/// reaped, so its pid stays ours while it is signalled.
fn wait_with_pidfd(pidfd: &std::os::fd::OwnedFd, pid: libc::pid_t, timeout: Duration) -> io::Result<(u64, bool)> {
    use std::os::fd::AsRawFd;
    let poll_until = |deadline: Instant| -> io::Result<bool> {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            // Round up, so that a deadline less than a millisecond away does not spin.
            let ms = if left.is_zero() { 0 } else { left.as_millis().max(1) };
            let ms = libc::c_int::try_from(ms).unwrap_or(libc::c_int::MAX);
            let mut fds = libc::pollfd { fd: pidfd.as_raw_fd(), events: libc::POLLIN, revents: 0 };
            // SAFETY: one valid pollfd.
            let rc = unsafe { libc::poll(&mut fds, 1, ms) };
            if rc > 0 {
                return Ok(true);
            }
            if rc < 0 {
                let err = io::Error::last_os_error();
                if err.kind() != io::ErrorKind::Interrupted {
                    return Err(err);
                }
            } else if Instant::now() >= deadline {
                return Ok(false);
            }
        }
    };
    if poll_until(Instant::now() + timeout)? {
        return Ok((monotonic_ns(), false));
    }
    signal_group(pid, libc::SIGTERM);
    if !poll_until(Instant::now() + KILL_GRACE)? {
        signal_group(pid, libc::SIGKILL);
        poll_until(Instant::now() + Duration::from_secs(3600))?;
    }
    Ok((monotonic_ns(), true))
}

/// A pipe for the child's start time; the read end is ours, the write end
/// is closed in the child by exec.
fn start_pipe() -> io::Result<(libc::c_int, libc::c_int)> {
    let mut fds = [0; 2];
    // SAFETY: a valid two-element array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((fds[0], fds[1]))
}

fn read_start(fd: libc::c_int) -> Option<u64> {
    let mut buf = [0u8; 8];
    // SAFETY: reading into a buffer of the stated size, then closing our fd.
    let n = unsafe {
        let n = libc::read(fd, buf.as_mut_ptr().cast(), buf.len());
        libc::close(fd);
        n
    };
    (n == buf.len() as isize).then(|| u64::from_ne_bytes(buf))
}

/// CLOCK_MONOTONIC in nanoseconds; async-signal-safe, so the child may call
/// it between fork and exec.
fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: a valid out-parameter.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn wait_for_exit_without_reaping(pid: libc::pid_t) -> io::Result<()> {
    loop {
        // SAFETY: plain syscall on a zeroed out-parameter.
        let rc = unsafe {
            let mut info: libc::siginfo_t = std::mem::zeroed();
            libc::waitid(libc::P_PID, pid as libc::id_t, &mut info, libc::WEXITED | libc::WNOWAIT)
        };
        if rc == 0 {
            return Ok(());
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

fn reap(pid: libc::pid_t) -> io::Result<(i32, libc::rusage)> {
    loop {
        let mut status = 0;
        // SAFETY: plain syscall with valid out-parameters.
        let (rc, usage) = unsafe {
            let mut usage: libc::rusage = std::mem::zeroed();
            let rc = libc::wait4(pid, &mut status, 0, &mut usage);
            (rc, usage)
        };
        if rc == pid {
            return Ok((status, usage));
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

fn timeval(tv: libc::timeval) -> Duration {
    Duration::from_secs(tv.tv_sec as u64) + Duration::from_micros(tv.tv_usec as u64)
}

/// Kills a child that outlives its deadline. One thread serves all runs, so
/// nothing is spawned while a run is measured.
pub struct Watchdog {
    shared: Arc<(Mutex<WatchState>, Condvar)>,
}

#[derive(Default)]
struct WatchState {
    armed: Option<(libc::pid_t, Instant)>,
    fired: bool,
    shutdown: bool,
}

impl Default for Watchdog {
    fn default() -> Self {
        Self::new()
    }
}

impl Watchdog {
    pub fn new() -> Watchdog {
        let shared = Arc::new((Mutex::new(WatchState::default()), Condvar::new()));
        let worker = Arc::clone(&shared);
        thread::spawn(move || watch(&worker));
        Watchdog { shared }
    }

    fn arm(&self, pid: libc::pid_t, deadline: Instant) {
        let (lock, cv) = &*self.shared;
        let mut state = lock.lock().unwrap_or_else(|e| e.into_inner());
        state.armed = Some((pid, deadline));
        state.fired = false;
        cv.notify_all();
    }

    /// Stops watching; returns whether the child was killed for its timeout.
    fn disarm(&self) -> bool {
        let (lock, cv) = &*self.shared;
        let mut state = lock.lock().unwrap_or_else(|e| e.into_inner());
        state.armed = None;
        cv.notify_all();
        std::mem::take(&mut state.fired)
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        let (lock, cv) = &*self.shared;
        let mut state = lock.lock().unwrap_or_else(|e| e.into_inner());
        state.shutdown = true;
        cv.notify_all();
    }
}

fn watch(shared: &(Mutex<WatchState>, Condvar)) {
    let (lock, cv) = shared;
    let mut state = lock.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        if state.shutdown {
            return;
        }
        let Some((pid, deadline)) = state.armed else {
            state = cv.wait(state).unwrap_or_else(|e| e.into_inner());
            continue;
        };
        let now = Instant::now();
        if now < deadline {
            state = cv.wait_timeout(state, deadline - now).unwrap_or_else(|e| e.into_inner()).0;
            continue;
        }
        // Deadline passed while still armed: terminate the group, give it a
        // grace period, then kill it. The lock is held only while signalling.
        state.fired = true;
        signal_group(pid, libc::SIGTERM);
        let grace_end = Instant::now() + KILL_GRACE;
        while state.armed == Some((pid, deadline)) {
            let now = Instant::now();
            if now >= grace_end {
                signal_group(pid, libc::SIGKILL);
                break;
            }
            state = cv.wait_timeout(state, grace_end - now).unwrap_or_else(|e| e.into_inner()).0;
        }
        // Wait to be disarmed before watching anything else.
        while state.armed == Some((pid, deadline)) && !state.shutdown {
            state = cv.wait(state).unwrap_or_else(|e| e.into_inner());
        }
    }
}

fn signal_group(pid: libc::pid_t, signal: i32) {
    // SAFETY: plain syscalls; the child is not yet reaped, so `pid` is ours.
    unsafe {
        libc::kill(-pid, signal);
        libc::kill(pid, signal);
    }
}
