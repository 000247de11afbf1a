//! The measurement primitives against real child processes.

use std::path::Path;
use std::time::Duration;

use edgebench_harness::measure::{self, Capture, Exit, Watchdog};
use edgebench_model::plan::Invocation;

fn invocation(argv: &[&str]) -> Invocation {
    Invocation { argv: argv.iter().map(|s| s.to_string()).collect(), ..Default::default() }
}

fn run(argv: &[&str], timeout: Duration, dir: &Path, watchdog: &Watchdog) -> measure::Measurement {
    let stdout = dir.join("out");
    let stderr = dir.join("err");
    let capture = Capture { stdout: &stdout, stderr: &stderr };
    measure::run(&invocation(argv), dir, &[], &capture, timeout, watchdog).expect("the child starts")
}

/// Measures `argv` in `dir` as the harness does: through a launcher process.
fn launch(argv: &[&str], dir: &Path) -> Result<measure::Measurement, edgebench_harness::launcher::LaunchError> {
    let stdout = dir.join("out");
    let stderr = dir.join("err");
    let capture = Capture { stdout: &stdout, stderr: &stderr };
    let harness = Path::new(env!("CARGO_BIN_EXE_edgebench-harness"));
    edgebench_harness::launcher::launch_with(harness, &invocation(argv), dir, &[], &capture, Duration::from_secs(60))
}

/// `getrusage(RUSAGE_CHILDREN)` would report the first child's peak for the
/// second one too; each run must carry its own child's peak.
#[test]
fn peak_memory_is_the_childs_own_not_the_maximum_over_all_children() {
    let dir = tempfile::tempdir().unwrap();
    let watchdog = Watchdog::new();
    let big = run(
        &["python3", "-c", "b = bytearray(200 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096])"],
        Duration::from_secs(60),
        dir.path(),
        &watchdog,
    );
    assert_eq!(big.exit, Exit::Code(0));
    assert!(big.max_rss_kib > 200 * 1024, "the big child peaked at {} KiB", big.max_rss_kib);

    let small = run(&["true"], Duration::from_secs(60), dir.path(), &watchdog);
    assert_eq!(small.exit, Exit::Code(0));
    // Forked from this test process, `true` starts with a copy of its
    // anonymous memory (the floor), which other tests running meanwhile
    // make larger or smaller; above the floor it is its own.
    let own = small.max_rss_kib.saturating_sub(small.rss_floor_kib);
    assert!(own < 20 * 1024, "`true` reported {} KiB above its floor: cumulative rusage?", own);
    assert!(small.max_rss_kib * 4 < big.max_rss_kib);
}

#[test]
fn exit_codes_signals_and_output_are_captured() {
    let dir = tempfile::tempdir().unwrap();
    let watchdog = Watchdog::new();
    let m = run(&["sh", "-c", "echo out; echo err >&2; exit 7"], Duration::from_secs(60), dir.path(), &watchdog);
    assert_eq!(m.exit, Exit::Code(7));
    assert!(!m.timed_out);
    assert_eq!(std::fs::read_to_string(dir.path().join("out")).unwrap(), "out\n");
    assert_eq!(std::fs::read_to_string(dir.path().join("err")).unwrap(), "err\n");

    let m = run(&["sh", "-c", "kill -SEGV $$"], Duration::from_secs(60), dir.path(), &watchdog);
    assert_eq!(m.exit, Exit::Signal(libc::SIGSEGV));
}

#[test]
fn a_child_past_its_timeout_is_terminated_and_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let watchdog = Watchdog::new();
    let m = run(&["sleep", "30"], Duration::from_millis(200), dir.path(), &watchdog);
    assert!(m.timed_out);
    assert_eq!(m.exit, Exit::Signal(libc::SIGTERM));
    // The same watchdog serves the next run, which finishes in time.
    let m = run(&["true"], Duration::from_secs(60), dir.path(), &watchdog);
    assert!(!m.timed_out);
    assert_eq!(m.exit, Exit::Code(0));
}

#[test]
fn without_pidfds_the_watchdog_thread_enforces_timeouts() {
    let dir = tempfile::tempdir().unwrap();
    let watchdog = Watchdog::new();
    let stdout = dir.path().join("out");
    let stderr = dir.path().join("err");
    let capture = Capture { stdout: &stdout, stderr: &stderr };
    let slow = invocation(&["sleep", "30"]);
    let m = measure::run_with(&slow, dir.path(), &[], &capture, Duration::from_millis(200), &watchdog, false).unwrap();
    assert!(m.timed_out);
    assert_eq!(m.exit, Exit::Signal(libc::SIGTERM));
    let quick = invocation(&["true"]);
    let m = measure::run_with(&quick, dir.path(), &[], &capture, Duration::from_secs(60), &watchdog, false).unwrap();
    assert!(!m.timed_out);
    assert_eq!(m.exit, Exit::Code(0));
}

#[test]
fn a_child_that_ignores_sigterm_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    let watchdog = Watchdog::new();
    // A shell ignores SIGTERM within a millisecond or two of starting;
    // Python took longer than the timeout on a loaded machine, and died of
    // the SIGTERM it had not yet learnt to ignore.
    let m = run(&["sh", "-c", "trap '' TERM; sleep 60"], Duration::from_millis(500), dir.path(), &watchdog);
    assert!(m.timed_out);
    assert_eq!(m.exit, Exit::Signal(libc::SIGKILL));
}

#[test]
fn the_address_space_limit_applies_to_the_child() {
    let dir = tempfile::tempdir().unwrap();
    let watchdog = Watchdog::new();
    let stdout = dir.path().join("out");
    let stderr = dir.path().join("err");
    let capture = Capture { stdout: &stdout, stderr: &stderr };
    let mut inv = invocation(&["python3", "-c", "b = bytearray(512 * 1024 * 1024)"]);
    inv.address_space_limit = Some(256 << 20);
    let m = measure::run(&inv, dir.path(), &[], &capture, Duration::from_secs(60), &watchdog).unwrap();
    assert_ne!(m.exit, Exit::Code(0));
    assert!(std::fs::read_to_string(&stderr).unwrap().contains("MemoryError"));
}

#[test]
fn workdir_placeholder_and_relative_programs_resolve_against_the_work_directory() {
    let dir = tempfile::tempdir().unwrap();
    let watchdog = Watchdog::new();
    std::fs::create_dir(dir.path().join("bin")).unwrap();
    let script = dir.path().join("bin/show");
    std::fs::write(&script, "#!/bin/sh\necho \"$1\"\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let m = run(&["bin/show", "{workdir}/x"], Duration::from_secs(60), dir.path(), &watchdog);
    assert_eq!(m.exit, Exit::Code(0));
    let printed = std::fs::read_to_string(dir.path().join("out")).unwrap();
    let expected = format!("{}/x\n", std::path::absolute(dir.path()).unwrap().display());
    assert_eq!(printed, expected);
}

/// A child forked from a big process inherits the copy's resident size as
/// the floor of its `ru_maxrss`; forked from the launcher it does not, and
/// the launcher's own share is reported with the measurement.
#[test]
fn the_launcher_keeps_the_parents_memory_out_of_the_childs_peak() {
    let dir = tempfile::tempdir().unwrap();
    let watchdog = Watchdog::new();
    // This test process becomes big: 128 MiB touched.
    let ballast = vec![1u8; 128 << 20];
    assert_eq!(ballast.iter().step_by(4096).map(|b| *b as usize).sum::<usize>(), (128 << 20) / 4096);

    let direct = run(&["true"], Duration::from_secs(60), dir.path(), &watchdog);
    assert!(direct.max_rss_kib > 100 * 1024, "forked from a big parent: {} KiB", direct.max_rss_kib);

    let launched = launch(&["true"], dir.path()).unwrap();
    assert_eq!(launched.exit, Exit::Code(0));
    assert!(launched.max_rss_kib < 10 * 1024, "forked from the launcher: {} KiB", launched.max_rss_kib);
    // The floor is the launcher's own, small, not the big parent's, and the
    // child's peak includes it.
    assert!(launched.rss_floor_kib > 0 && launched.rss_floor_kib < 10 * 1024, "{launched:?}");
    assert!(launched.rss_floor_kib <= launched.max_rss_kib, "{launched:?}");
    drop(ballast);
}

/// Through the launcher, a program that cannot be found or executed comes
/// back as "not started", not as a run or as a fault of the harness.
#[test]
fn the_launcher_reports_a_program_that_cannot_start() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("not-executable"), "#!/bin/sh\n").unwrap();
    for argv in [&["no-such-program-anywhere"][..], &["./missing"], &["./not-executable"]] {
        match launch(argv, dir.path()) {
            Err(edgebench_harness::launcher::LaunchError::NotStarted(e)) => assert!(!e.is_empty()),
            other => panic!("{argv:?}: expected a program that did not start, got {other:?}"),
        }
    }
}

#[test]
fn a_program_that_cannot_start_is_a_spawn_error_not_a_run() {
    let dir = tempfile::tempdir().unwrap();
    let watchdog = Watchdog::new();
    let stdout = dir.path().join("out");
    let stderr = dir.path().join("err");
    let capture = Capture { stdout: &stdout, stderr: &stderr };
    std::fs::write(dir.path().join("not-executable"), "#!/bin/sh\n").unwrap();
    for argv in [&["no-such-program-anywhere"][..], &["./missing"], &["./not-executable"]] {
        let outcome = measure::run(&invocation(argv), dir.path(), &[], &capture, Duration::from_secs(60), &watchdog);
        match outcome {
            Err(measure::Error::Spawn(e)) => assert!(!e.to_string().is_empty()),
            other => panic!("{argv:?}: expected a spawn error, got {other:?}"),
        }
    }
    // The launcher goes on measuring afterwards.
    assert_eq!(run(&["true"], Duration::from_secs(60), dir.path(), &watchdog).exit, Exit::Code(0));
}

/// Rust ignores SIGPIPE in its own processes; a measured program must get
/// the default disposition back, or a pipeline inside it behaves otherwise
/// than from a shell (`yes` would report a broken pipe instead of dying).
#[test]
fn the_child_starts_with_default_signal_dispositions() {
    let dir = tempfile::tempdir().unwrap();
    let watchdog = Watchdog::new();
    let m = run(&["sh", "-c", "yes | head -n 1"], Duration::from_secs(60), dir.path(), &watchdog);
    assert_eq!(m.exit, Exit::Code(0));
    assert_eq!(std::fs::read_to_string(dir.path().join("out")).unwrap(), "y\n");
    assert_eq!(std::fs::read_to_string(dir.path().join("err")).unwrap(), "");
}
