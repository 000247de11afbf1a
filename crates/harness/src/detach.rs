//! Running a plan detached from the session that started it, and following
//! its progress from another session.
//!
//! A remote host starts the harness over SSH with `start`; the harness then
//! lives in its own session, so a dropped connection does not end it. The
//! host watches with `follow`, which it can run again after reconnecting.
//! Everything lives in the run's directory, whose files are the contract
//! with the host ([`edgebench_model::rundir`]).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use edgebench_model::rundir::{LOG_FILE, PID_FILE, PLAN_FILE, PROGRESS_FILE, RESULTS_FILE, STATUS_FILE, follow_exit};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Started {
    /// A harness was already running this plan; nothing was started.
    AlreadyRunning(u32),
    Started(u32),
}

/// Starts `run` on the run directory's plan in a new session, unless one is
/// already running it.
pub fn start(run_dir: &Path, workdir: &Path) -> Result<Started, String> {
    let at = |name: &str| run_dir.join(name);
    if let Some(pid) = running_pid(run_dir) {
        return Ok(Started::AlreadyRunning(pid));
    }
    let plan = at(PLAN_FILE);
    if !plan.is_file() {
        return Err(format!("{}: no plan here; deploy it first", plan.display()));
    }
    // Read here, not only by the detached run: a plan cut short or damaged
    // is said now, not found later in its log.
    let text = fs::read_to_string(&plan).map_err(|e| format!("{}: {e}", plan.display()))?;
    let parsed: edgebench_model::plan::Plan = serde_json::from_str(&text).map_err(|e| {
        format!("{}:{}:{}: not a valid plan: {e}; deploy it again", plan.display(), e.line(), e.column())
    })?;
    parsed.validate().map_err(|e| format!("{}: {e}", plan.display()))?;
    remove_if_present(&at(STATUS_FILE))?;
    let append = |path: PathBuf| {
        OpenOptions::new().create(true).append(true).open(&path).map_err(|e| format!("{}: {e}", path.display()))
    };
    let mut command = Command::new("/proc/self/exe");
    command
        .arg("run")
        .arg(&plan)
        .arg("--workdir")
        .arg(workdir)
        .arg("--results")
        .arg(at(RESULTS_FILE))
        .arg("--json")
        .arg("--status")
        .arg(at(STATUS_FILE))
        .current_dir(workdir)
        .stdin(Stdio::null())
        .stdout(append(at(PROGRESS_FILE))?)
        .stderr(append(at(LOG_FILE))?);
    // SAFETY: setsid is async-signal-safe and touches no memory of ours.
    unsafe {
        command.pre_exec(|| if libc::setsid() == -1 { Err(io::Error::last_os_error()) } else { Ok(()) });
    }
    let child = command.spawn().map_err(|e| format!("starting the harness: {e}"))?;
    let pid = child.id();
    // The child outlives us; init reaps it.
    drop(child);
    write_atomically(&at(PID_FILE), format!("{pid}\n").as_bytes())?;
    Ok(Started::Started(pid))
}

/// Where `follow` begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum From {
    /// After this many lines (0: from the start).
    Line(usize),
    /// After what the file holds now.
    End,
}

/// Copies the run's progress lines to `out` as they are written, until the
/// harness ends; returns one of [`follow_exit`]'s codes.
pub fn follow(run_dir: &Path, from: From, out: &mut impl Write) -> Result<u8, String> {
    let progress = run_dir.join(PROGRESS_FILE);
    let status = run_dir.join(STATUS_FILE);
    let (mut offset, mut skip) = match from {
        From::Line(n) => (0, n),
        From::End => (fs::metadata(&progress).map(|m| m.len()).unwrap_or(0), 0),
    };
    let mut pending = Vec::new();
    loop {
        // Status first: every progress line is written before it, so the
        // read below then sees them all.
        let finished = read_status(&status)?;
        let alive = finished.is_none() && running_pid(run_dir).is_some();
        offset += copy_new_lines(&progress, offset, &mut pending, &mut skip, out)?;
        match finished {
            Some(0) => return Ok(follow_exit::FINISHED),
            Some(_) => return Ok(follow_exit::FAILED),
            None if !alive => {
                // It may have finished between the two checks.
                if read_status(&status)?.is_some() {
                    continue;
                }
                return Ok(follow_exit::NOT_RUNNING);
            }
            None => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// Reads bytes from `offset`, writes each complete line (after skipping
/// `skip` of them) and returns how many bytes it consumed.
fn copy_new_lines(
    path: &Path,
    offset: u64,
    pending: &mut Vec<u8>,
    skip: &mut usize,
    out: &mut impl Write,
) -> Result<u64, String> {
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    file.seek(SeekFrom::Start(offset)).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut fresh = Vec::new();
    let read = file.read_to_end(&mut fresh).map_err(|e| format!("{}: {e}", path.display()))?;
    pending.extend_from_slice(&fresh);
    let mut wrote = false;
    while let Some(end) = pending.iter().position(|&b| b == b'\n') {
        let line: Vec<u8> = pending.drain(..=end).collect();
        if *skip > 0 {
            *skip -= 1;
            continue;
        }
        out.write_all(&line).map_err(|e| format!("writing progress: {e}"))?;
        wrote = true;
    }
    if wrote {
        out.flush().map_err(|e| format!("writing progress: {e}"))?;
    }
    Ok(read as u64)
}

fn read_status(path: &Path) -> Result<Option<i32>, String> {
    match fs::read_to_string(path) {
        Ok(text) => text
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| format!("{}: not an exit code: {:?}", path.display(), text.trim())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// Records how `run` ended, for `follow`.
pub fn write_status(path: &Path, code: i32) -> Result<(), String> {
    write_atomically(path, format!("{code}\n").as_bytes())
}

/// The pid of the harness running this run directory's plan, if it still
/// runs. A recycled pid is told apart by its command line.
pub fn running_pid(run_dir: &Path) -> Option<u32> {
    let text = fs::read_to_string(run_dir.join(PID_FILE)).ok()?;
    let pid: u32 = text.trim().parse().ok()?;
    let cmdline = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let plan = run_dir.join(PLAN_FILE);
    let runs_plan = cmdline.split(|&b| b == 0).any(|arg| Path::new(std::ffi::OsStr::from_bytes(arg)) == plan);
    // A zombie has an empty command line: it has ended.
    runs_plan.then_some(pid)
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let tmp = path.with_file_name(format!(
        ".{}.tmp",
        path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
    ));
    let write = || -> io::Result<()> {
        let mut file = File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    };
    write().map_err(|e| format!("{}: {e}", path.display()))
}

fn remove_if_present(path: &Path) -> Result<(), String> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(format!("{}: {e}", path.display())),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_complete_lines_only_and_skips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(PROGRESS_FILE);
        fs::write(&path, "a\nb\nc").unwrap();
        let (mut pending, mut skip, mut out) = (Vec::new(), 1, Vec::new());
        let consumed = copy_new_lines(&path, 0, &mut pending, &mut skip, &mut out).unwrap();
        assert_eq!(consumed, 5);
        assert_eq!(out, b"b\n");
        fs::write(&path, "a\nb\nc\nd\n").unwrap();
        copy_new_lines(&path, consumed, &mut pending, &mut skip, &mut out).unwrap();
        assert_eq!(out, b"b\nc\nd\n");
    }

    #[test]
    fn follow_reports_a_finished_and_a_dead_run() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(PROGRESS_FILE), "1\n2\n").unwrap();
        // No pid file and no status: nothing runs this plan.
        let mut out = Vec::new();
        assert_eq!(follow(dir.path(), From::Line(0), &mut out).unwrap(), follow_exit::NOT_RUNNING);
        assert_eq!(out, b"1\n2\n");
        write_status(&dir.path().join(STATUS_FILE), 0).unwrap();
        let mut out = Vec::new();
        assert_eq!(follow(dir.path(), From::Line(1), &mut out).unwrap(), follow_exit::FINISHED);
        assert_eq!(out, b"2\n");
        write_status(&dir.path().join(STATUS_FILE), 1).unwrap();
        assert_eq!(follow(dir.path(), From::End, &mut Vec::new()).unwrap(), follow_exit::FAILED);
    }

    #[test]
    fn a_plan_cut_short_is_refused_before_anything_starts() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(PLAN_FILE), "{\"schema\": 2, \"id\": \"abc\", \"pipe").unwrap();
        let err = start(dir.path(), dir.path()).unwrap_err();
        assert!(err.contains("not a valid plan") && err.contains("deploy it again"), "{err}");
        assert!(!dir.path().join(PID_FILE).exists(), "nothing was started");
    }

    #[test]
    fn a_recycled_pid_is_not_the_harness() {
        let dir = tempfile::tempdir().unwrap();
        // Our own pid runs a test binary, not this plan.
        fs::write(dir.path().join(PID_FILE), format!("{}\n", std::process::id())).unwrap();
        assert_eq!(running_pid(dir.path()), None);
    }
}
