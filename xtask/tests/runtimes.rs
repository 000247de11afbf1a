//! The device harness driving every runtime built here: correct checksums,
//! failures recorded as what they are, resume after a kill.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::*;
use edgebench_model::Dataset;
use edgebench_model::manifest::ArtifactKind;
use edgebench_model::record::{Outcome, RunRecord};

/// Every Wasm runtime variant but Wasmer's LLVM, whose executor takes a
/// build of its own (see the extended test below).
const WASM_RUNTIMES: &str = "
  - runtime: wasmtime
    variants: [jit, aot, winch, pulley]
  - runtime: wasmer
    variants: [cranelift, singlepass]
  - runtime: wasmi
    variants: [eager, lazy]
  - runtime: wasm3
    variants: [eager, lazy]";
const WASM_VARIANTS: usize = 10;

/// Every variant that runs Wasm built with SIMD (all but Singlepass, which
/// has no SIMD, and Wasmi's lazy translation, which differs from eager only
/// in when it translates).
const SIMD_RUNTIMES: &str = "
  - runtime: wasmtime
    variants: [jit+simd, aot+simd, winch+simd, pulley+simd]
  - runtime: wasmer
    variants: [cranelift+simd]
  - runtime: wasmi
    variants: [eager+simd]";
const SIMD_VARIANTS: usize = 6;

const LLVM: &str = "
  - runtime: wasmer
    variants: [llvm]";

#[test]
fn every_runtime_reproduces_the_native_checksum_of_every_kernel() {
    checksums_equal_native(WASM_RUNTIMES, WASM_VARIANTS);
}

/// The SIMD build of every kernel gives native's checksum, hence the
/// scalar build's.
#[test]
fn every_simd_variant_reproduces_the_native_checksum_of_every_kernel() {
    checksums_equal_native(SIMD_RUNTIMES, SIMD_VARIANTS);
}

/// `probe --simd` compiles a module that uses SIMD with the variant's
/// engine: Singlepass, which has no SIMD, and the Wasmi build without it
/// fail it and say so; the others pass it. wasm3 has no SIMD at all.
#[test]
fn the_simd_probe_tells_engines_with_simd_from_those_without() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = "kernels: [startup]\ndatasets: [mini]\nruntimes:\n  - runtime: wasmtime\n  - runtime: wasmer\n    \
                variants: [singlepass]\n  - runtime: wasmi\n    variants: [eager, eager+simd]\n  - runtime: wasm3\n    \
                variants: [eager]\nrepetitions: 1\ntimeout_s: 60\n";
    let (_, records) = bench(&pipeline(dir.path(), "probes", yaml), &[]);
    assert!(records.iter().all(|r| r.outcome.is_ok()), "{records:#?}");
    let executor = |name: &str| target_dir("local").join("bin").join(name);
    let probe = |name: &str, variant: &str, simd: bool| {
        let mut command = std::process::Command::new(executor(name));
        command.args(["probe", "--variant", variant]);
        if simd {
            command.arg("--simd");
        }
        command.output().unwrap()
    };
    for (executor, variant) in
        [("edgebench-wasmtime", "jit"), ("edgebench-wasmer", "cranelift"), ("edgebench-wasmi-simd", "eager")]
    {
        let out = probe(executor, variant, true);
        assert!(out.status.success(), "{executor} {variant}: {}", String::from_utf8_lossy(&out.stderr));
    }
    for (executor, variant, what) in
        [("edgebench-wasmer", "singlepass", "compiling"), ("edgebench-wasmi", "eager", "translating")]
    {
        assert!(probe(executor, variant, false).status.success());
        let out = probe(executor, variant, true);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{executor} {variant} compiled SIMD");
        assert!(stderr.contains(&format!("{what} a SIMD module")), "{stderr}");
    }
    assert!(probe("edgebench-wasm3", "lazy", false).status.success());
    let out = probe("edgebench-wasm3", "lazy", true);
    assert!(!out.status.success(), "wasm3 claims SIMD");
    assert!(String::from_utf8_lossy(&out.stderr).contains("wasm3 does not implement Wasm SIMD"));
}

#[test]
#[ignore = "extended: builds Wasmer's LLVM executor in the Debian sid root (about 15 minutes from cold); \
            run with `cargo xtask test --extended`"]
fn wasmer_llvm_reproduces_the_native_checksum_and_the_fault_outcomes() {
    checksums_equal_native(LLVM, 1);
    fault_outcomes(LLVM, 1);
}

#[test]
fn failures_are_recorded_for_what_they_are_and_later_runs_still_happen() {
    fault_outcomes(WASM_RUNTIMES, WASM_VARIANTS);
}

/// Every kernel at MINI and SMALL, and the start-up kernel, under native
/// and `runtimes` (`variants` in all): every run ok with native's checksum.
fn checksums_equal_native(runtimes: &str, variants: usize) {
    let dir = tempfile::tempdir().unwrap();
    let yaml = format!(
        "kernels: [all, startup]\ndatasets: [mini, small]\nruntimes:\n  - runtime: native{runtimes}\n\
         repetitions: 1\ntimeout_s: 300\nbaseline: native\n"
    );
    let (_, records) = bench(&pipeline(dir.path(), "checksums", &yaml), &[]);
    // 30 kernels at two datasets and the start-up kernel once, under native and the Wasm variants.
    assert_eq!(records.len(), (30 * 2 + 1) * (1 + variants));
    let failed: Vec<String> = records
        .iter()
        .filter(|r| !r.outcome.is_ok())
        .map(|r| format!("{}/{}/{}/{}: {:?}", r.kernel, r.dataset, r.runtime, r.variant, r.outcome))
        .collect();
    assert!(failed.is_empty(), "failed runs:\n{}", failed.join("\n"));

    let mut native: BTreeMap<(String, Dataset), String> = BTreeMap::new();
    for r in records.iter().filter(|r| r.runtime == "native" && r.kernel != "startup") {
        native.insert((r.kernel.clone(), r.dataset), r.checksum.clone().expect("a checksum"));
    }
    assert_eq!(native.len(), 60);
    for r in records.iter().filter(|r| r.kernel != "startup") {
        let expected = &native[&(r.kernel.clone(), r.dataset)];
        assert_eq!(r.checksum.as_ref(), Some(expected), "{}/{}/{}/{}", r.kernel, r.dataset, r.runtime, r.variant);
        assert!(r.kernel_ns.is_some());
        assert!(r.wall_ns > 0);
        // ru_maxrss does not resolve peaks under about 0.5 MiB (see
        // docs/method.md), so a small native kernel may read 0; an engine
        // never does.
        assert!(r.runtime == "native" || r.max_rss_kib > 0, "{}/{}: no peak", r.runtime, r.variant);
        if r.runtime != "native" {
            for phase in ["engine", "compile", "instantiate", "execute"] {
                assert!(r.phases.contains_key(phase), "{} lacks phase {phase}: {:?}", r.runtime, r.phases);
            }
        }
    }

    // The device programs are static, position-dependent executables, so an
    // executor's start-up is its engine's, not the dynamic loader's.
    let programs: Vec<_> =
        manifest("local").artifacts.into_iter().filter(|a| a.kind == ArtifactKind::Program).collect();
    assert!(programs.len() >= 2, "the harness and an executor: {programs:?}");
    for p in programs {
        let elf = Elf::read(&target_dir("local").join(&p.path));
        assert!(elf.is_static_executable(), "{} is not a static, position-dependent executable", p.path);
    }
}

/// The fault kernels under native and `runtimes` give the same outcomes,
/// and a kernel run after them is ok.
fn fault_outcomes(runtimes: &str, variants: usize) {
    let dir = tempfile::tempdir().unwrap();
    let yaml = format!(
        "kernels: [trap, crash, spin, hog, gemm]\ndatasets: [mini]\nruntimes:\n  - runtime: native{runtimes}\n\
         repetitions: 1\ntimeout_s: 2\nmemory_limit_mib: 64\norder: sequential\n"
    );
    let (_, records) = bench(&pipeline(dir.path(), "faults", &yaml), &[]);
    assert_eq!(records.len(), 5 * (1 + variants));
    let of = |kernel: &str| -> Vec<&RunRecord> { records.iter().filter(|r| r.kernel == kernel).collect() };

    for r in of("trap") {
        match (r.runtime.as_str(), &r.outcome) {
            ("native", Outcome::Signal { name, .. }) => assert!(name == "SIGILL" || name == "SIGTRAP", "{name}"),
            (_, Outcome::Trap { message }) => assert!(message.contains("unreachable"), "{message}"),
            other => panic!("trap under {}/{}: {other:?}", r.runtime, r.variant),
        }
    }
    for r in of("crash") {
        match (r.runtime.as_str(), &r.outcome) {
            ("native", Outcome::Signal { name, .. }) => assert_eq!(name, "SIGSEGV"),
            (_, Outcome::Trap { message }) => assert!(message.contains("out of bounds"), "{message}"),
            other => panic!("crash under {}/{}: {other:?}", r.runtime, r.variant),
        }
    }
    for r in of("spin") {
        assert_eq!(r.outcome, Outcome::Timeout { timeout_ms: 2000 }, "{}/{}", r.runtime, r.variant);
    }
    for r in of("hog") {
        match &r.outcome {
            Outcome::Exit { code: 3, message } => assert!(message.starts_with("hog: out of memory"), "{message}"),
            other => panic!("hog under {}/{}: {other:?}", r.runtime, r.variant),
        }
        // Capped at 64 MiB of heap, plus what the runtime itself needs.
        assert!(r.max_rss_kib < 256 * 1024, "{}/{} peaked at {} KiB", r.runtime, r.variant, r.max_rss_kib);
    }
    for r in of("gemm") {
        assert!(r.outcome.is_ok(), "gemm after the faults under {}/{}: {:?}", r.runtime, r.variant, r.outcome);
    }
    for r in records.iter().filter(|r| !r.outcome.is_ok()) {
        assert!(r.stderr_tail.is_some() || matches!(r.outcome, Outcome::Timeout { .. } | Outcome::Signal { .. }));
    }
}

#[test]
fn a_killed_harness_resumes_without_losing_or_repeating_a_run() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = "kernels: [spin, startup]\ndatasets: [mini]\nruntimes:\n  - runtime: native\n\
                repetitions: 12\ntimeout_s: 0.25\n";
    let (plan_path, plan) = dry_run(&pipeline(dir.path(), "resume", yaml));
    let plan_path = plan_path.as_str();
    assert_eq!(plan.runs.len(), 24);

    let workdir = target_dir("local");
    let results = dir.path().join("results.jsonl");
    let harness = |results: &std::path::Path| {
        std::process::Command::new(workdir.join("bin/edgebench-harness"))
            .args(["run", plan_path, "--quiet", "--workdir"])
            .arg(&workdir)
            .arg("--results")
            .arg(results)
            .spawn()
            .expect("the harness starts")
    };
    let count = || std::fs::read_to_string(&results).map(|t| t.lines().count()).unwrap_or(0);

    let mut first = harness(&results);
    let deadline = Instant::now() + Duration::from_secs(60);
    while count() < 5 {
        assert!(Instant::now() < deadline, "the harness wrote no records");
        std::thread::sleep(Duration::from_millis(20));
    }
    unsafe { libc::kill(first.id() as i32, libc::SIGKILL) };
    first.wait().unwrap();
    let after_kill = count();
    // The run it was measuring dies with it instead of spinning on unmeasured.
    let deadline = Instant::now() + Duration::from_secs(10);
    while orphaned_spinners() > 0 {
        assert!(Instant::now() < deadline, "a child of the killed harness is still running");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(after_kill < plan.runs.len(), "killed too late to test resuming ({after_kill} records)");

    let status = harness(&results).wait().unwrap();
    assert!(status.success());
    let records = read_records(&results);
    let mut runs: Vec<usize> = records.iter().map(|r| r.run).collect();
    runs.sort();
    assert_eq!(runs, (0..plan.runs.len()).collect::<Vec<_>>(), "each planned run exactly once");
    assert!(records.iter().all(|r| r.plan_id == plan.id));
    // A third start finds everything done and adds nothing.
    assert!(harness(&results).wait().unwrap().success());
    assert_eq!(count(), plan.runs.len());
}

#[test]
fn the_harness_refuses_an_artifact_that_differs_from_the_plan() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = "kernels: [startup]\ndatasets: [mini]\nruntimes:\n  - runtime: native\nrepetitions: 1\ntimeout_s: 10\n";
    let (_, mut plan) = dry_run(&pipeline(dir.path(), "tamper", yaml));
    plan.files[0].sha256 = "0".repeat(64);
    let tampered = dir.path().join("plan.json");
    std::fs::write(&tampered, serde_json::to_vec(&plan).unwrap()).unwrap();
    let output = std::process::Command::new(target_dir("local").join("bin/edgebench-harness"))
        .arg("run")
        .arg(&tampered)
        .arg("--workdir")
        .arg(target_dir("local"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("refusing to run") && stderr.contains(&plan.files[0].path), "{stderr}");
    assert!(!dir.path().join("results.jsonl").exists());
}

/// Processes running the native `spin` kernel whose parent is not a harness.
fn orphaned_spinners() -> usize {
    let mut n = 0;
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else { continue };
        if !String::from_utf8_lossy(&cmdline).contains("kernels/native/spin") {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        // The parent pid is the second field after the parenthesised name.
        let Some(ppid) = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(1)) else { continue };
        let parent = std::fs::read(format!("/proc/{ppid}/cmdline")).unwrap_or_default();
        if !String::from_utf8_lossy(&parent).contains("edgebench-harness") {
            n += 1;
        }
    }
    n
}

#[test]
fn the_command_runtime_runs_a_template_and_reports_a_missing_runtime_as_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = "kernels: [gemm, startup]\ndatasets: [mini]\nruntimes:\n  - runtime: native\n  - runtime: command\n    variants: [env]\n    options: { template: \"env {native}\" }\n  - runtime: command\n    variants: [absent]\n    options: { template: \"no-such-wasm-runtime run {wasm}\" }\nrepetitions: 2\ntimeout_s: 60\n";
    let (_, records) = bench(&pipeline(dir.path(), "command", yaml), &[]);
    assert_eq!(records.len(), 2 * 3 * 2);
    let native_gemm = records.iter().find(|r| r.runtime == "native" && r.kernel == "gemm").unwrap().checksum.clone();
    for r in records.iter().filter(|r| r.variant == "env") {
        assert!(r.outcome.is_ok(), "{r:?}");
        if r.kernel == "gemm" {
            assert_eq!(r.checksum, native_gemm);
        }
    }
    for r in records.iter().filter(|r| r.variant == "absent") {
        match &r.outcome {
            Outcome::Unavailable { reason } => {
                assert!(reason.contains("probe failed") || !reason.is_empty(), "{reason}")
            }
            other => panic!("a missing runtime must be unavailable, not {other:?}"),
        }
        assert_eq!(r.wall_ns, 0, "an unavailable run is not measured");
    }
}
