//! Measuring from a small process.
//!
//! A forked child starts with a copy of its parent's memory map, and Linux
//! carries that copy's resident size into the child's peak (`ru_maxrss`)
//! even across `exec`. A child forked by the harness itself, which holds the
//! plan and its bookkeeping, would report the harness's size as its own
//! floor: on a small program like the start-up kernel that doubles the
//! figure (and with `vfork`/`posix_spawn` the whole parent counts). So each
//! run is forked from a fresh, nearly empty launcher — the harness binary in
//! its `__launch` mode — which measures the child and reports back on a pipe.
//! Starting the launcher is outside the measured span.

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
    Failed(String),
}

/// Measures `invocation` from a fresh launcher process: this executable.
pub fn launch(
    invocation: &Invocation,
    workdir: &Path,
    extra_env: &[(&str, &Path)],
    capture: &Capture<'_>,
    timeout: Duration,
) -> io::Result<Measurement> {
    launch_with(&std::env::current_exe()?, invocation, workdir, extra_env, capture, timeout)
}

/// Measures `invocation` from a fresh launcher process running `harness`.
pub fn launch_with(
    harness: &Path,
    invocation: &Invocation,
    workdir: &Path,
    extra_env: &[(&str, &Path)],
    capture: &Capture<'_>,
    timeout: Duration,
) -> io::Result<Measurement> {
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
    let mut child = command.spawn()?;
    {
        let mut stdin = child.stdin.take().expect("stdin is piped");
        stdin.write_all(&serde_json::to_vec(&request)?)?;
    }
    let mut answer = Vec::new();
    child.stdout.take().expect("stdout is piped").read_to_end(&mut answer)?;
    let status = child.wait()?;
    match serde_json::from_slice::<Response>(&answer) {
        Ok(Response::Measured(m)) => Ok(m),
        Ok(Response::Failed(e)) => Err(io::Error::other(e)),
        Err(e) => Err(io::Error::other(format!("the launcher failed ({status}): {e}"))),
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
                Err(e) => Response::Failed(e.to_string()),
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
