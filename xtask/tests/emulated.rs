//! The cross-built path, proven under emulation: the `emulated-aarch64`
//! target runs the aarch64 harness, the engine executors and the kernels
//! under qemu-user through the whole bench, and every kernel gives the
//! checksum the x86-64 build gives. Its timings are emulated and mean
//! nothing. The default proof covers native code and wasm3 (an engine in
//! C, cross-compiled by the aarch64 C compiler); the extended one the
//! engines whose aarch64 builds take long from cold — Wasmtime (Cranelift
//! at start and precompiled, scalar and SIMD, Winch, Pulley) about 9
//! minutes, Wasmi, and Wasmer (Cranelift, single-pass) about 18.

mod common;

use std::collections::BTreeMap;

use common::*;
use edgebench_model::Dataset;
use edgebench_model::manifest::ArtifactKind;

const TARGET: &str = "emulated-aarch64";

#[test]
fn every_kernel_on_emulated_aarch64_checksums_like_x86_64() {
    checksums_like_x86_64("  - runtime: native\n  - runtime: wasm3\n    variants: [eager, lazy]\n", 3);
}

#[test]
#[ignore = "extended: builds Wasmtime and Wasmi for aarch64 (about 12 minutes from cold); run with `cargo xtask test --extended`"]
fn every_kernel_on_emulated_aarch64_checksums_like_x86_64_under_wasmtime_and_wasmi() {
    checksums_like_x86_64(
        "  - runtime: native\n  - runtime: wasmtime\n    variants: [jit, aot, jit+simd, aot+simd, winch, pulley]\n  \
         - runtime: wasmi\n    variants: [eager, lazy, eager+simd]\n",
        10,
    );
}

#[test]
#[ignore = "extended: builds Wasmer for aarch64 (about 18 minutes from cold); run with `cargo xtask test --extended`"]
fn every_kernel_on_emulated_aarch64_checksums_like_x86_64_under_wasmer() {
    checksums_like_x86_64(
        "  - runtime: native\n  - runtime: wasmer\n    variants: [cranelift, singlepass, cranelift+simd]\n",
        4,
    );
}

/// Every kernel at MINI and SMALL and the start-up kernel under `runtimes`
/// (`variants` in all, native among them) on the emulated target: every
/// run ok, with the checksum of this machine's native build.
fn checksums_like_x86_64(runtimes: &str, variants: usize) {
    let dir = tempfile::tempdir().unwrap();
    let yaml = format!(
        "kernels: [all, startup]\ndatasets: [mini, small]\nruntimes:\n{runtimes}\
         repetitions: 1\nwarmups: 0\ntimeout_s: 900\norder: sequential\n"
    );
    let (_, snapshot, records) = bench_with_snapshot(&pipeline(dir.path(), "emulated", &yaml), &["--target", TARGET]);

    // 30 kernels × 2 datasets + startup (one build for every dataset), under each variant.
    assert_eq!(records.len(), 61 * variants);
    let failed: Vec<_> = records.iter().filter(|r| !r.outcome.is_ok()).collect();
    assert!(failed.is_empty(), "{failed:#?}");

    // The same checksums as the x86-64 natives of this machine.
    xtask_ok(&["build", "--quiet", "--kernels-only", "--kernels", "all", "--datasets", "mini,small"]);
    let local = manifest("local");
    let mut expected: BTreeMap<(String, String), String> = BTreeMap::new();
    // Only what the bench ran: the manifest also keeps other builds for the
    // target (larger datasets, a PolyBench/C checkout's kernels).
    for a in local.artifacts.iter().filter(|a| a.kind == ArtifactKind::Native) {
        let Some(dataset) = a.dataset else { continue };
        if a.name == "startup" || a.suite.is_some() || !matches!(dataset, Dataset::Mini | Dataset::Small) {
            continue;
        }
        let result = run_kernel(&target_dir("local").join(&a.path), None);
        expected.insert((a.name.clone(), dataset.to_string()), result.checksum);
    }
    let mut compared = 0;
    for r in records.iter().filter(|r| r.kernel != "startup") {
        let want = &expected[&(r.kernel.clone(), r.dataset.to_string())];
        assert_eq!(r.checksum.as_ref(), Some(want), "{}/{}/{}/{}", r.kernel, r.dataset, r.runtime, r.variant);
        compared += 1;
    }
    assert_eq!(compared, 60 * variants);

    // The device programs are aarch64 and static: they run on any arm64 Linux.
    let emulated = manifest(TARGET);
    let programs: Vec<_> = emulated.artifacts.iter().filter(|a| a.kind == ArtifactKind::Program).collect();
    // The harness and the engines' executors.
    assert!(programs.len() >= 2, "{programs:?}");
    for p in programs {
        let elf = Elf::read(&target_dir(TARGET).join(&p.path));
        assert_eq!(elf.machine, EM_AARCH64, "{} is not aarch64", p.path);
        assert!(elf.is_static_executable(), "{} is not a static, position-dependent executable", p.path);
    }

    // The snapshot names the aarch64 toolchain that built them.
    let provenance: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(snapshot.join("provenance.json")).unwrap()).unwrap();
    assert_eq!(provenance["target"]["arch"], "aarch64");
    let compilers = provenance["compilers"].as_array().unwrap();
    assert!(
        compilers.iter().any(|c| c["kind"] == "program" && c["target"] == "aarch64-unknown-linux-gnu"),
        "{compilers:#?}"
    );
}

/// A workload of your own, built from its C sources for aarch64 by the
/// pinned zig, prints under qemu-user what the x86-64 build prints here:
/// the `wordfreq` example under native code and wasm3.
#[test]
fn a_workload_of_your_own_on_emulated_aarch64_prints_what_it_prints_on_x86_64() {
    let dir = tempfile::tempdir().unwrap();
    let sources = dir.path().join("wordfreq");
    std::fs::create_dir(&sources).unwrap();
    std::fs::copy(root().join("pipelines/examples/wordfreq/wordfreq.c"), sources.join("wordfreq.c")).unwrap();
    let yaml = "workloads:\n  - name: wordfreq\n    sources: [wordfreq/wordfreq.c]\n    \
                args_by_dataset: { small: [\"200000\"] }\ndatasets: [small]\nruntimes:\n  - runtime: native\n  \
                - runtime: wasm3\n    variants: [eager]\nrepetitions: 2\nwarmups: 0\ntimeout_s: 600\n";
    let path = pipeline(dir.path(), "wordfreq", yaml);
    let (_, records) = bench(&path, &["--target", TARGET]);
    assert_eq!(records.len(), 4, "{records:#?}");
    let failed: Vec<_> = records.iter().filter(|r| !r.outcome.is_ok()).collect();
    assert!(failed.is_empty(), "{failed:#?}");
    assert!(records.iter().all(|r| r.kernel_ns.is_none()), "a workload reports no kernel-region time");

    // The x86-64 build of the same sources, run here by hand.
    xtask_ok(&["build", "--quiet", "--pipeline", path.to_str().unwrap()]);
    let native = manifest("local").find("wordfreq", None, ArtifactKind::Native).unwrap().clone();
    let out = std::process::Command::new(target_dir("local").join(&native.path)).arg("200000").output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let want = format!("{:016x}", edgebench_model::record::fnv1a(&out.stdout));
    for r in &records {
        assert_eq!(r.checksum.as_deref(), Some(want.as_str()), "{}/{}", r.runtime, r.variant);
    }
    let aarch64 = manifest(TARGET).find("wordfreq", None, ArtifactKind::Native).unwrap().clone();
    assert_eq!(Elf::read(&target_dir(TARGET).join(&aarch64.path)).machine, EM_AARCH64);
}
