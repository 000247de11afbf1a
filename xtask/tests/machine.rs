//! The emulated Pi-class device: edgebench boots a whole aarch64 machine
//! (its own kernel, sshd and Docker engine) under QEMU, benches on it over
//! SSH like on a real device, survives a cut link, and shuts it down.
//! Timings under TCG mean nothing; what is checked is the path: every
//! checksum equals the x86-64 native's. Both tests are extended (`cargo
//! xtask test --extended`): from cold, making the guest's disk image takes
//! about 6 minutes, booting it, deploying and importing the arm64 Debian
//! image into its Docker engine under TCG about 10, and the aarch64 builds
//! of Wasmtime and Wasmer about 9 and 18 — together more than a CI run on
//! 2 cores can give on every push. The first covers native code, the
//! guest's Docker engine (systemd's cgroup driver), Wasmtime and wasm3, the
//! second Wasmer.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::*;
use edgebench_model::Dataset;
use edgebench_model::manifest::ArtifactKind;
use edgebench_model::record::{Outcome, RunRecord};

const TARGET: &str = "emulated-pi3";

/// The start-up kernel and gemm at MINI, natively, in the guest's Docker
/// engine (Debian's image, built for arm64), and under Wasmtime (compiling
/// at start, and precompiled) and wasm3, twice each; and `spin`,
/// which runs until its timeout, so the plan is long enough to cut the link
/// while it runs, however fast the emulation. The timeout leaves room for
/// the first container on a cold guest, which starts in 12–14 s under TCG
/// (systemd creating its slice and scope, the image's first mount).
const PIPELINE: &str = "kernels: [startup, gemm, spin]\ndatasets: [mini]\nruntimes:\n  - runtime: native\n  \
                        - runtime: docker\n    variants: [debian]\n  \
                        - runtime: wasmtime\n    variants: [jit, aot]\n  - runtime: wasm3\n    variants: [eager]\n\
                        repetitions: 2\nwarmups: 0\ntimeout_s: 20\norder: interleaved\n";

/// Start-up and gemm at MINI under Wasmer's Cranelift and single-pass
/// compilers, once each, beside native code.
const WASMER_PIPELINE: &str = "kernels: [startup, gemm]\ndatasets: [mini]\nruntimes:\n  - runtime: native\n  \
                               - runtime: wasmer\n    variants: [cranelift, singlepass]\n\
                               repetitions: 1\nwarmups: 0\ntimeout_s: 300\norder: sequential\n";

/// There is one emulated machine: its tests take turns.
static MACHINE: Mutex<()> = Mutex::new(());

#[test]
#[ignore = "extended: boots the emulated machine and builds Wasmtime for aarch64 (about 20 minutes from cold); \
            run with `cargo xtask test --extended`"]
fn a_bench_on_the_emulated_machine_survives_a_cut_link_and_checksums_like_x86_64() {
    let _machine = MACHINE.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let pipeline = pipeline(dir.path(), "machine", PIPELINE);
    // The machine's disk keeps earlier runs, as a device's would: this
    // bench's run is the one named after now.
    let started = utc_stamp();
    let mut bench = xtask(&["bench", "--target", TARGET, "--pipeline", pipeline.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_records(&started, 3, &mut bench);
    // Every SSH session the guest has, the bench's among them, ends at
    // once, as on a dropped link; sshd itself goes on.
    guest_ssh("nohup sh -c 'sleep 1; pkill -KILL -f \"^sshd: root\"' >/dev/null 2>&1 &");
    let out = bench.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("lost the connection") && stderr.contains("reconnected"), "{stderr}");
    assert!(stderr.contains("booting the emulated machine"), "{stderr}");

    let stdout = String::from_utf8_lossy(&out.stdout);
    let run = PathBuf::from(stdout.lines().find_map(|l| l.strip_prefix("results: ")).expect("a results line"));
    let records = read_records(&run.join("results.jsonl"));
    assert_eq!(records.len(), 3 * 5 * 2);
    // Every run ok, but `spin`'s, which time out.
    let expected = |r: &&RunRecord| match r.kernel.as_str() {
        "spin" => matches!(r.outcome, Outcome::Timeout { .. }),
        _ => r.outcome.is_ok(),
    };
    let failed: Vec<_> = records.iter().filter(|r| !expected(r)).collect();
    assert!(failed.is_empty(), "{failed:#?}");
    let mut runs: Vec<usize> = records.iter().map(|r| r.run).collect();
    runs.sort();
    assert_eq!(runs, (0..records.len()).collect::<Vec<_>>(), "each planned run exactly once");

    // The provenance describes the guest (its own kernel and Docker engine)
    // and the emulation.
    let snapshot = PathBuf::from(stdout.lines().find_map(|l| l.strip_prefix("snapshot: ")).expect("a snapshot line"));
    let provenance: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(snapshot.join("provenance.json")).unwrap()).unwrap();
    let device = provenance["device_before"].to_string();
    assert!(device.contains("aarch64") && device.contains("6.1.0"), "{device}");
    let emulation = &provenance["emulation"];
    assert_eq!(emulation["machine"], "virt", "{emulation}");
    assert_eq!(emulation["cpu"], "cortex-a53");
    assert_eq!(emulation["cores"], 4);
    assert!(emulation["qemu"].as_str().unwrap().starts_with("QEMU emulator version"), "{emulation}");
    assert_eq!(emulation["guest"]["image_sha256"].as_str().unwrap().len(), 64);
    let report = std::fs::read_to_string(snapshot.join("report.md")).unwrap();
    assert!(report.contains("**Emulated target** (QEMU"), "the report says EMULATED");

    // gemm's checksum equals this machine's native build's, under all five.
    assert_eq!(gemm_checksums_like_x86_64(&records), 5);

    // The guest's engine has systemd's cgroup driver (Debian's default, as
    // on most devices): each container's peak comes from its run's slice.
    let containers: Vec<&RunRecord> = records.iter().filter(|r| r.runtime == "docker" && r.outcome.is_ok()).collect();
    assert!(!containers.is_empty(), "docker ran on the guest");
    for r in containers {
        let peak = r.peak_memory.as_ref().expect("the container's own peak memory");
        assert!(peak.method.contains("memory.peak of a per-run parent slice (systemd driver)"), "{}", peak.method);
        assert!(peak.bytes > 0 && peak.bytes < 256 << 20, "{} bytes", peak.bytes);
    }

    assert_machine_shut_down();
}

#[test]
#[ignore = "extended: builds Wasmer for aarch64 (about 15 minutes from cold); run with `cargo xtask test --extended`"]
fn wasmer_on_the_emulated_machine_checksums_like_x86_64() {
    let _machine = MACHINE.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let pipeline = pipeline(dir.path(), "machine-wasmer", WASMER_PIPELINE);
    let (_, snapshot, records) = bench_with_snapshot(&pipeline, &["--target", TARGET]);
    assert_eq!(records.len(), 2 * 3);
    let failed: Vec<_> = records.iter().filter(|r| !r.outcome.is_ok()).collect();
    assert!(failed.is_empty(), "{failed:#?}");
    let provenance = std::fs::read_to_string(snapshot.join("provenance.json")).unwrap();
    assert!(provenance.contains("\"cortex-a53\""), "taken on the emulated machine: {provenance}");
    assert_eq!(gemm_checksums_like_x86_64(&records), 3);
    assert_machine_shut_down();
}

/// Checks that every gemm run in `records` gave the checksum of this
/// machine's native gemm at MINI, and returns how many variants ran it.
fn gemm_checksums_like_x86_64(records: &[RunRecord]) -> usize {
    xtask_ok(&["build", "--quiet", "--kernels-only", "--kernels", "gemm", "--datasets", "mini"]);
    let local = manifest("local");
    let native = local
        .artifacts
        .iter()
        .find(|a| a.kind == ArtifactKind::Native && a.name == "gemm" && a.dataset == Some(Dataset::Mini))
        .unwrap();
    let out = Command::new(target_dir("local").join(&native.path)).output().unwrap();
    let expected = String::from_utf8_lossy(&out.stderr).to_string();
    let mut checksums: BTreeMap<String, String> = BTreeMap::new();
    for r in records.iter().filter(|r| r.kernel == "gemm") {
        let checksum = r.checksum.clone().expect("a checksum");
        assert!(expected.contains(&checksum), "{}/{}: {checksum} is not x86-64's ({expected})", r.runtime, r.variant);
        checksums.insert(format!("{}/{}", r.runtime, r.variant), checksum);
    }
    checksums.len()
}

/// The machine was shut down: no QEMU is left.
fn assert_machine_shut_down() {
    let qemu = Command::new("pgrep").args(["-f", "qemu-system-aarch64"]).output().unwrap();
    assert!(!qemu.status.success(), "QEMU still runs: {}", String::from_utf8_lossy(&qemu.stdout));
}

/// Runs `command` on the guest as root.
fn guest_ssh(command: &str) {
    let config = target_dir(TARGET).join("machine/ssh_config");
    let status = Command::new("ssh")
        .arg("-F")
        .arg(config)
        .args([&format!("edgebench-{TARGET}"), command])
        .stdin(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "ssh {command}");
}

/// Now as run directories are named (`20261204T105022Z`).
fn utc_stamp() -> String {
    let out = Command::new("date").args(["-u", "+%Y%m%dT%H%M%SZ"]).output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// Waits until a run on the guest started at or after `started` has `n`
/// records.
fn wait_for_records(started: &str, n: usize, bench: &mut Child) {
    let config = target_dir(TARGET).join("machine/ssh_config");
    let deadline = Instant::now() + Duration::from_secs(1800);
    loop {
        if let Some(status) = bench.try_wait().unwrap() {
            panic!("the bench ended ({status}) before {n} records were written");
        }
        let out = Command::new("ssh")
            .arg("-F")
            .arg(&config)
            .args([
                "-o",
                "ConnectTimeout=5",
                &format!("edgebench-{TARGET}"),
                &format!(
                    "for d in edgebench/runs/*/; do [ \"$(basename $d)\" \\> {started} ] && cat $d/results.jsonl; \
                     done 2>/dev/null | wc -l"
                ),
            ])
            .stdin(Stdio::null())
            .output();
        if let Ok(out) = out
            && String::from_utf8_lossy(&out.stdout).trim().parse::<usize>().unwrap_or(0) >= n
        {
            return;
        }
        assert!(Instant::now() < deadline, "no {n} records on the guest in time");
        std::thread::sleep(Duration::from_secs(2));
    }
}
