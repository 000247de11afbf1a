//! Measuring from a small process.
//!
//! A forked child starts with a copy of its parent's memory, and Linux
//! carries that copy's resident size into the child's peak (`ru_maxrss`)
//! even across `exec` (see [`crate::spawn`]). Forked by the harness itself,
//! which holds the plan and its bookkeeping, a small program like the
//! start-up kernel would report the harness's size as its own, and the fork
//! would take longer. So each run is forked from a fresh, nearly empty
//! launcher — the harness binary in its `__launch` mode — which measures
//! the child and reports back on a pipe. Starting the launcher is outside
//! the measured span.

use std::io::{self, Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Duration;

use edgebench_model::plan::Invocation;
use serde::{Deserialize, Serialize};

use crate::measure::{self, Capture, Measurement, Watchdog};

/// The hidden subcommand that turns the harness binary into a launcher.
pub const LAUNCH_COMMAND: &str = "__launch";

#[derive(Debug, Serialize, Deserialize)]
struct Request {
    invocation: Invocation,
    workdir: PathBuf,
    env: Vec<(String, PathBuf)>,
    stdout: PathBuf,
    stderr: PathBuf,
    timeout: Duration,
}

#[derive(Debug, Serialize, Deserialize)]
enum Response {
    Measured(Measurement),
    /// The measured program could not be started: a fact about the run.
    NotStarted(String),
    /// The launcher itself failed: a fact about the harness, not the run.
    Failed(String),
}

/// Why a run was not measured.
#[derive(Debug)]
pub enum LaunchError {
    /// The program could not be started (missing, not executable, …); the
    /// run is recorded as such.
    NotStarted(String),
    /// The harness's own machinery failed; nothing is recorded, so the run
    /// happens when the harness is started again.
    Harness(String),
}

impl std::fmt::Display for LaunchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LaunchError::NotStarted(e) | LaunchError::Harness(e) => f.write_str(e),
        }
    }
}

/// Measures `invocation` from a fresh launcher process: this executable,
/// through `/proc/self/exe`, which stays valid even when the file on disk is
/// replaced by a rebuild during a long run.
pub fn launch(
    invocation: &Invocation,
    workdir: &Path,
    extra_env: &[(&str, &Path)],
    capture: &Capture<'_>,
    timeout: Duration,
) -> Result<Measurement, LaunchError> {
    launch_with(Path::new("/proc/self/exe"), invocation, workdir, extra_env, capture, timeout)
}

/// Measures `invocation` from a fresh launcher process running `harness`.
pub fn launch_with(
    harness: &Path,
    invocation: &Invocation,
    workdir: &Path,
    extra_env: &[(&str, &Path)],
    capture: &Capture<'_>,
    timeout: Duration,
) -> Result<Measurement, LaunchError> {
    let harness_error = |e: io::Error| LaunchError::Harness(format!("the launcher failed: {e}"));
    let request = Request {
        invocation: invocation.clone(),
        workdir: workdir.to_path_buf(),
        env: extra_env.iter().map(|(k, v)| (k.to_string(), v.to_path_buf())).collect(),
        stdout: capture.stdout.to_path_buf(),
        stderr: capture.stderr.to_path_buf(),
        timeout,
    };
    let mut command = Command::new(harness);
    command.arg(LAUNCH_COMMAND).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::inherit());
    // SAFETY: a single async-signal-safe call between fork and exec.
    unsafe {
        command.pre_exec(|| {
            // The launcher, and through it the run, dies with the harness.
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = command.spawn().map_err(harness_error)?;
    let exchange = |child: &mut std::process::Child| -> io::Result<Vec<u8>> {
        let mut stdin = child.stdin.take().expect("stdin is piped");
        stdin.write_all(&serde_json::to_vec(&request)?)?;
        drop(stdin);
        let mut answer = Vec::new();
        child.stdout.take().expect("stdout is piped").read_to_end(&mut answer)?;
        Ok(answer)
    };
    let answer = exchange(&mut child);
    // Always reaped, also when the exchange failed.
    let status = child.wait().map_err(harness_error)?;
    let answer = answer.map_err(harness_error)?;
    match serde_json::from_slice::<Response>(&answer) {
        Ok(Response::Measured(m)) => Ok(m),
        Ok(Response::NotStarted(e)) => Err(LaunchError::NotStarted(e)),
        Ok(Response::Failed(e)) => Err(LaunchError::Harness(e)),
        Err(e) => Err(LaunchError::Harness(format!("the launcher failed ({status}): {e}"))),
    }
}

/// The launcher's side: one request on stdin, one response on stdout.
pub fn serve() -> ExitCode {
    let response = match read_request() {
        Ok(request) => {
            let env: Vec<(&str, &Path)> = request.env.iter().map(|(k, v)| (k.as_str(), v.as_path())).collect();
            let capture = Capture { stdout: &request.stdout, stderr: &request.stderr };
            let watchdog = Watchdog::new();
            match measure::run(&request.invocation, &request.workdir, &env, &capture, request.timeout, &watchdog) {
                Ok(m) => Response::Measured(m),
                Err(measure::Error::Spawn(e)) => Response::NotStarted(e.to_string()),
                Err(measure::Error::Harness(e)) => Response::Failed(e.to_string()),
            }
        }
        Err(e) => Response::Failed(format!("bad launch request: {e}")),
    };
    let mut out = io::stdout().lock();
    match serde_json::to_writer(&mut out, &response).and_then(|()| out.flush().map_err(serde_json::Error::io)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::FAILURE,
    }
}

fn read_request() -> Result<Request, String> {
    let mut text = Vec::new();
    io::stdin().read_to_end(&mut text).map_err(|e| e.to_string())?;
    serde_json::from_slice(&text).map_err(|e| e.to_string())
}
