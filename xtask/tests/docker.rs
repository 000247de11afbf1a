//! The `docker` runtime against the real engine on this machine: CI has one
//! and must not skip these; elsewhere, without one, the runtime must report
//! itself unavailable with the reason.

mod common;

use std::process::Command;

use common::*;
use edgebench_model::record::{Outcome, RunRecord};

/// The tests check that no container of ours is left behind, so they must
/// not run at the same time.
static ENGINE: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn engine_reachable() -> bool {
    Command::new("docker").arg("info").output().map(|o| o.status.success()).unwrap_or(false)
}

/// The engine's cgroup driver (`cgroupfs` or `systemd`).
fn cgroup_driver() -> String {
    let out = Command::new("docker").args(["info", "--format", "{{.CgroupDriver}}"]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Containers of ours that still exist.
fn leftover_containers() -> Vec<String> {
    let out = Command::new("docker")
        .args(["ps", "--all", "--quiet", "--filter", "label=edgebench.executor"])
        .output()
        .expect("the docker client runs");
    String::from_utf8_lossy(&out.stdout).lines().map(String::from).collect()
}

/// Runs the pipeline, or checks the runtime calls itself unavailable when
/// there is no engine (and fails in CI, where there must be one).
fn bench_docker(name: &str, yaml: &str) -> Option<Vec<RunRecord>> {
    let dir = tempfile::tempdir().unwrap();
    let reachable = engine_reachable();
    if !reachable && std::env::var_os("CI").is_some() {
        panic!("CI must provide a running Docker engine for the docker runtime's tests");
    }
    let (_, records) = bench(&pipeline(dir.path(), name, yaml), &[]);
    if reachable {
        return Some(records);
    }
    for r in records.iter().filter(|r| r.runtime == "docker") {
        match &r.outcome {
            Outcome::Unavailable { reason } => assert!(reason.contains("Docker engine"), "{reason}"),
            other => panic!("without an engine docker runs must be unavailable, not {other:?}"),
        }
    }
    None
}

#[test]
fn kernels_in_containers_reproduce_native_checksums_and_report_the_containers_own_memory() {
    let _one_at_a_time = ENGINE.lock().unwrap_or_else(|e| e.into_inner());
    let yaml = "kernels: [gemm, startup]\ndatasets: [mini]\nruntimes:\n  - runtime: native\n  - runtime: docker\n    variants: [debian, scratch]\nrepetitions: 2\ntimeout_s: 120\nbaseline: native\n";
    let Some(records) = bench_docker("containers", yaml) else { return };
    assert_eq!(records.len(), 2 * 3 * 2);
    let failed: Vec<String> = records
        .iter()
        .filter(|r| !r.outcome.is_ok())
        .map(|r| format!("{}/{}: {:?} {:?}", r.runtime, r.variant, r.outcome, r.stderr_tail))
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
    let native = records.iter().find(|r| r.runtime == "native" && r.kernel == "gemm").unwrap().checksum.clone();
    for r in records.iter().filter(|r| r.runtime == "docker") {
        if r.kernel == "gemm" {
            assert_eq!(r.checksum, native, "{}", r.variant);
            assert!(r.kernel_ns.is_some());
        }
        for phase in ["create", "start_to_exit", "logs", "remove"] {
            assert!(r.phases.contains_key(phase), "{} lacks {phase}: {:?}", r.variant, r.phases);
        }
        // From the run's own cgroup, under whichever driver the engine has
        // (`cgroupfs` on this project's CI machine, `systemd` on GitHub's).
        let peak = r.peak_memory.as_ref().expect("the container's own peak memory");
        let driver = cgroup_driver();
        assert!(
            peak.method.contains("cgroup") && peak.method.contains(&format!("({driver} driver)")),
            "{}",
            peak.method
        );
        assert!(peak.bytes > 0 && peak.bytes < 256 << 20, "{} bytes", peak.bytes);
    }
    assert!(leftover_containers().is_empty(), "containers left behind: {:?}", leftover_containers());
}

#[test]
fn failed_and_timed_out_containers_are_recorded_and_removed() {
    let _one_at_a_time = ENGINE.lock().unwrap_or_else(|e| e.into_inner());
    let yaml = "kernels: [trap, spin, gemm]\ndatasets: [mini]\nruntimes:\n  - runtime: docker\n    variants: [scratch]\nrepetitions: 1\ntimeout_s: 3\norder: sequential\n";
    let Some(records) = bench_docker("container-faults", yaml) else { return };
    let of = |k: &str| records.iter().find(|r| r.kernel == k).unwrap();
    match &of("trap").outcome {
        // 128 + SIGILL (x86-64) or SIGTRAP (aarch64), as the engine reports a killed process.
        Outcome::Exit { code, .. } => assert!(*code == 132 || *code == 133, "{code}"),
        other => panic!("trap in a container: {other:?}"),
    }
    assert_eq!(of("spin").outcome, Outcome::Timeout { timeout_ms: 3000 });
    assert!(of("gemm").outcome.is_ok(), "{:?}", of("gemm"));
    assert!(leftover_containers().is_empty(), "containers left behind: {:?}", leftover_containers());
}

/// An executor killed with SIGKILL cannot clean up; the next probe removes
/// what it left.
#[test]
fn a_container_of_a_killed_executor_is_removed_by_the_next_probe() {
    let _one_at_a_time = ENGINE.lock().unwrap_or_else(|e| e.into_inner());
    if !engine_reachable() {
        assert!(std::env::var_os("CI").is_none(), "CI must provide a running Docker engine");
        return;
    }
    // Builds the executor, the spin kernel and the scratch image.
    let dir = tempfile::tempdir().unwrap();
    let yaml = "kernels: [spin]\ndatasets: [mini]\nruntimes:\n  - runtime: docker\n    variants: [scratch]\nrepetitions: 1\ntimeout_s: 1\n";
    bench(&pipeline(dir.path(), "orphan", yaml), &[]);

    let workdir = target_dir("local");
    let executor = workdir.join("bin/edgebench-docker");
    let mut run = Command::new(&executor)
        .args(["run", "--variant", "scratch", "kernels/native/spin"])
        .current_dir(&workdir)
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while leftover_containers().is_empty() {
        assert!(std::time::Instant::now() < deadline, "the container never appeared");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    run.kill().unwrap();
    run.wait().unwrap();
    assert_eq!(leftover_containers().len(), 1, "the killed executor's container is still there");

    let probe = Command::new(&executor).args(["probe", "--variant", "scratch"]).current_dir(&workdir).output().unwrap();
    assert!(probe.status.success(), "{}", text(&probe));
    assert!(leftover_containers().is_empty(), "the probe did not remove {:?}", leftover_containers());
}

/// A harness killed in the middle of a container run takes the container
/// with it: its launcher and the executor die, and the executor, told by a
/// SIGTERM, removes the container.
#[test]
fn a_killed_harness_leaves_no_container_running() {
    let _one_at_a_time = ENGINE.lock().unwrap_or_else(|e| e.into_inner());
    if !engine_reachable() {
        assert!(std::env::var_os("CI").is_none(), "CI must provide a running Docker engine");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let yaml = "kernels: [spin]\ndatasets: [mini]\nruntimes:\n  - runtime: docker\n    variants: [scratch]\nrepetitions: 1\ntimeout_s: 120\n";
    let (plan, _) = dry_run(&pipeline(dir.path(), "killed", yaml));
    let workdir = target_dir("local");
    let mut harness = Command::new(workdir.join("bin/edgebench-harness"))
        .args(["run", &plan, "--quiet", "--workdir"])
        .arg(&workdir)
        .arg("--results")
        .arg(dir.path().join("results.jsonl"))
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while leftover_containers().is_empty() {
        assert!(std::time::Instant::now() < deadline, "the container never appeared");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    harness.kill().unwrap();
    harness.wait().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !leftover_containers().is_empty() {
        assert!(std::time::Instant::now() < deadline, "left behind: {:?}", leftover_containers());
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}
