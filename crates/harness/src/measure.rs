//! Running one child process and measuring it. The harness does this in a
//! launcher process (see [`crate::launcher`]), not in itself.
//!
//! Wall time runs on the monotonic clock from right before the child is
//! forked (see [`crate::spawn`]) to the moment the kernel reports its exit
//! (its pidfd turns readable, or `waitid` with `WNOWAIT`), as hyperfine
//! measures from before its spawn to after its wait.
//! Max RSS and CPU times come from the child's own `wait4` rusage, never from
//! the cumulative `RUSAGE_CHILDREN`, which is a maximum over every child ever
//! waited for.

use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use edgebench_model::plan::Invocation;

use crate::counters::RunCounters;
use crate::spawn;

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
    /// The launcher's anonymous memory that the child started with, below
    /// which `max_rss_kib` does not go (see [`crate::spawn`]).
    pub rss_floor_kib: u64,
    /// User-space instructions and cycles of the child and its
    /// descendants, where the device has hardware counters.
    #[serde(default)]
    pub instructions: Option<u64>,
    #[serde(default)]
    pub cycles: Option<u64>,
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
    let spec = spec(invocation, workdir, extra_env, capture)?;
    let use_pidfd = prefer_pidfd && pidfds_supported();
    if !use_pidfd {
        // Before the child starts, so no thread is created while it runs.
        watchdog.start();
    }
    // Outside the measured span; they count from the child's exec.
    let counters = RunCounters::open();
    let spawned = spawn::spawn(&spec).map_err(Error::Spawn)?;
    let pid = spawned.pid;
    // Opened only where it will be used: this is inside the measured span.
    let (end, timed_out) = match use_pidfd.then(|| pidfd_open(pid)).flatten() {
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
    let wall = Duration::from_nanos(end.saturating_sub(spawned.started_ns));
    // Whatever the child left running in its group dies with it; the leader
    // is still a zombie here, so the group id cannot have been reused.
    signal_group(pid, libc::SIGKILL);
    let (status, usage) = reap(pid).map_err(Error::Harness)?;
    let (instructions, cycles) = counters.read();

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
        rss_floor_kib: spawned.rss_floor_kib,
        instructions,
        cycles,
    })
}

/// The child's spec for `invocation`: a program path with a `/` is taken
/// relative to `workdir`, a bare name is looked up on `PATH`; `{workdir}` in
/// an argument becomes the work directory's absolute path. The child gets
/// this process's environment with the invocation's and `extra_env` on top,
/// stdin from `/dev/null`, and its output in the capture files.
fn spec(
    invocation: &Invocation,
    workdir: &Path,
    extra_env: &[(&str, &Path)],
    capture: &Capture<'_>,
) -> Result<spawn::Spec, Error> {
    // Absolute, because a relative program path would be resolved against
    // the child's new working directory.
    let workdir = std::path::absolute(workdir).map_err(Error::Harness)?;
    let program = &invocation.argv[0];
    let program: OsString =
        if program.contains('/') { workdir.join(program).into_os_string() } else { OsString::from(program) };
    let shown = workdir.to_string_lossy();
    let args: Vec<OsString> =
        invocation.argv[1..].iter().map(|a| a.replace(edgebench_model::plan::WORKDIR, &shown).into()).collect();
    let mut env: Vec<(OsString, OsString)> = std::env::vars_os().collect();
    env.extend(invocation.env.iter().map(|(k, v)| (k.into(), v.into())));
    env.extend(extra_env.iter().map(|(k, v)| (k.into(), v.as_os_str().to_os_string())));
    // Later entries win, as with `Command::env`.
    let mut seen = std::collections::BTreeSet::new();
    env.reverse();
    env.retain(|(k, _)| seen.insert(k.clone()));
    env.reverse();
    let open = || -> io::Result<[std::os::fd::OwnedFd; 3]> {
        Ok([
            File::open("/dev/null")?.into(),
            File::create(capture.stdout)?.into(),
            File::create(capture.stderr)?.into(),
        ])
    };
    let stdio = open().map_err(Error::Harness)?;
    spawn::Spec::new(&program, &args, &env, &workdir, stdio, invocation.address_space_limit).map_err(Error::Spawn)
}

/// Whether this kernel has pidfds (Linux 5.3 and later); asked once.
fn pidfds_supported() -> bool {
    static SUPPORTED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    // SAFETY: getpid is always safe.
    *SUPPORTED.get_or_init(|| pidfd_open(unsafe { libc::getpid() }).is_some())
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

/// CLOCK_MONOTONIC in nanoseconds.
pub(crate) fn monotonic_ns() -> u64 {
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

/// Kills a child that outlives its deadline where the kernel has no pidfds.
/// One thread serves all runs, started before the first child that needs it,
/// so no thread is created while a run is measured, and where pidfds serve
/// the launcher stays a single thread (the child is forked from it).
pub struct Watchdog {
    shared: Arc<(Mutex<WatchState>, Condvar)>,
    worker: std::sync::Once,
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
        Watchdog {
            shared: Arc::new((Mutex::new(WatchState::default()), Condvar::new())),
            worker: std::sync::Once::new(),
        }
    }

    fn start(&self) {
        self.worker.call_once(|| {
            let shared = Arc::clone(&self.shared);
            thread::spawn(move || watch(&shared));
        });
    }

    fn arm(&self, pid: libc::pid_t, deadline: Instant) {
        self.start();
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
