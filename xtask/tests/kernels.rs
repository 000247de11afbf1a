//! The kernel suite: builds for wasm32-wasip1 and native at every dataset,
//! well-formed modules, equal checksums across architectures, reproducible
//! and incremental builds, clear errors.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use common::*;
use edgebench_model::Dataset;
use edgebench_model::manifest::{Artifact, ArtifactKind};
use edgebench_model::suite::{PLANTED_CATEGORY, Suite};

const BENCHMARKS: usize = 30;
const FAULTS: usize = 4;

/// Whether an artifact is one of the kernels these tests build: ours (not
/// a PolyBench/C checkout's), and not a planted kernel, which only the
/// pipelines that ask for one build — the manifest keeps whatever other
/// builds for the target made.
fn tested(artifact: &Artifact) -> bool {
    static PLANTED: std::sync::OnceLock<BTreeSet<String>> = std::sync::OnceLock::new();
    let planted = PLANTED.get_or_init(|| {
        let text = std::fs::read_to_string(root().join("kernels/suite.yaml")).unwrap();
        let suite: Suite = serde_saphyr::from_str(&text).unwrap();
        suite.kernels.into_iter().filter(|k| k.category == PLANTED_CATEGORY).map(|k| k.name).collect()
    });
    // The manifest also keeps what earlier builds made for the target:
    // another suite's kernels and the workloads of pipelines benched here.
    artifact.suite.is_none() && artifact.workload.is_none() && !planted.contains(&artifact.name)
}

#[test]
fn every_kernel_builds_for_wasm_wasm_simd_and_native_at_every_dataset() {
    xtask_ok(&[
        "build",
        "--quiet",
        "--kernels-only",
        "--kernels",
        "all,startup",
        "--datasets",
        "all",
        "--with-faults",
        "--simd",
    ]);
    let manifest = manifest("local");
    let count = |kind| manifest.artifacts.iter().filter(|a| a.kind == kind && tested(a)).count();
    // 30 kernels × 5 datasets, plus the dataset-independent start-up and fault kernels.
    let expected = BENCHMARKS * Dataset::ALL.len() + 1 + FAULTS;
    assert_eq!(count(ArtifactKind::Wasm), expected);
    assert_eq!(count(ArtifactKind::WasmSimd), expected);
    assert_eq!(count(ArtifactKind::Native), expected);
    for kind in [ArtifactKind::Wasm, ArtifactKind::WasmSimd, ArtifactKind::Native] {
        let info = manifest.compilers.iter().find(|c| c.kind == kind && c.suite.is_none()).expect("compiler recorded");
        assert!(info.version.contains("zig 0.17.1"), "{info:?}");
        assert!(info.flags.iter().any(|f| f == "-ffp-contract=off"));
        assert_eq!(info.flags.iter().any(|f| f == "-msimd128"), kind == ArtifactKind::WasmSimd, "{info:?}");
    }

    let dir = target_dir("local");
    for artifact in manifest.artifacts.iter().filter(|a| tested(a)) {
        let bytes = std::fs::read(dir.join(&artifact.path)).unwrap();
        assert_eq!(bytes.len() as u64, artifact.size, "{}", artifact.path);
        assert_eq!(artifact.sha256.len(), 64);
        match artifact.kind {
            ArtifactKind::Wasm | ArtifactKind::WasmSimd => check_wasi_command(&artifact.path, &bytes),
            ArtifactKind::Native => assert_static_elf(&artifact.path, &bytes),
            _ => {}
        }
    }
}

/// The scalar modules need no SIMD; the SIMD builds of the kernels the
/// compiler can vectorise do use it.
#[test]
fn simd_builds_use_simd_and_scalar_builds_do_not() {
    xtask_ok(&["build", "--quiet", "--kernels-only", "--kernels", "all", "--datasets", "small", "--simd"]);
    let manifest = manifest("local");
    let dir = target_dir("local");
    let mut without_simd = wasmparser::WasmFeatures::default();
    without_simd.remove(wasmparser::WasmFeatures::SIMD | wasmparser::WasmFeatures::RELAXED_SIMD);
    let needs_simd = |path: &str| {
        let bytes = std::fs::read(dir.join(path)).unwrap();
        wasmparser::Validator::new().validate_all(&bytes).unwrap_or_else(|e| panic!("{path}: {e}"));
        wasmparser::Validator::new_with_features(without_simd).validate_all(&bytes).is_err()
    };
    let mut vectorised = Vec::new();
    for a in manifest.artifacts.iter().filter(|a| a.dataset == Some(Dataset::Small)) {
        match a.kind {
            ArtifactKind::Wasm => assert!(!needs_simd(&a.path), "{} needs SIMD", a.path),
            ArtifactKind::WasmSimd if needs_simd(&a.path) => vectorised.push(a.name.clone()),
            _ => {}
        }
    }
    for kernel in ["gemm", "jacobi-2d", "heat-3d"] {
        assert!(vectorised.iter().any(|k| k == kernel), "{kernel} is not vectorised: {vectorised:?}");
    }
    assert!(vectorised.len() >= BENCHMARKS / 2, "only {} of {BENCHMARKS} use SIMD: {vectorised:?}", vectorised.len());
}

/// The module `probe --simd` compiles is well-formed and needs SIMD.
#[test]
fn the_simd_probe_module_needs_simd() {
    let module = edgebench_model::executor::SIMD_PROBE_MODULE;
    wasmparser::Validator::new().validate_all(module).expect("a valid module");
    let mut without_simd = wasmparser::WasmFeatures::default();
    without_simd.remove(wasmparser::WasmFeatures::SIMD | wasmparser::WasmFeatures::RELAXED_SIMD);
    assert!(wasmparser::Validator::new_with_features(without_simd).validate_all(module).is_err());
}

/// Imports only from `wasi_snapshot_preview1`, exports `_start` and `memory`,
/// and starts with a small linear memory (a 1 MiB stack, not zig's 16 MiB).
fn check_wasi_command(path: &str, bytes: &[u8]) {
    let mut exports = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        match payload.unwrap_or_else(|e| panic!("{path}: {e}")) {
            wasmparser::Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import.unwrap();
                    assert_eq!(import.module, "wasi_snapshot_preview1", "{path} imports {}", import.name);
                }
            }
            wasmparser::Payload::MemorySection(reader) => {
                for memory in reader {
                    let initial_mib = memory.unwrap().initial * 64 / 1024;
                    assert!(initial_mib <= 2, "{path} starts with {initial_mib} MiB of linear memory");
                }
            }
            wasmparser::Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export.unwrap();
                    exports.push((export.name.to_string(), export.kind));
                }
            }
            _ => {}
        }
    }
    assert!(exports.contains(&("_start".into(), wasmparser::ExternalKind::Func)), "{path}: {exports:?}");
    assert!(exports.contains(&("memory".into(), wasmparser::ExternalKind::Memory)), "{path}: {exports:?}");
    // Without reference types (and the overlong `call_indirect` table index
    // they allow), as wasm3 reads modules.
    let mut before_reference_types = wasmparser::WasmFeatures::default();
    before_reference_types.remove(wasmparser::WasmFeatures::REFERENCE_TYPES);
    wasmparser::Validator::new_with_features(before_reference_types)
        .validate_all(bytes)
        .unwrap_or_else(|e| panic!("{path} needs reference types or an overlong table index: {e}"));
}

/// A static executable: ELF without a program interpreter.
fn assert_static_elf(path: &str, bytes: &[u8]) {
    assert_eq!(&bytes[..4], b"\x7fELF", "{path}");
    assert!(!bytes.windows(b"ld-linux".len()).any(|w| w == b"ld-linux"), "{path} names a dynamic loader");
}

#[test]
fn native_x86_64_and_aarch64_give_the_same_checksums() {
    let datasets = "mini,small";
    xtask_ok(&["build", "--quiet", "--kernels-only", "--kernels", "all", "--datasets", datasets]);
    xtask_ok(&[
        "build",
        "--quiet",
        "--kernels-only",
        "--target",
        "emulated-aarch64",
        "--kernels",
        "all",
        "--datasets",
        datasets,
    ]);
    let x86 = manifest("local");
    let arm = manifest("emulated-aarch64");
    assert_eq!(arm.triple, "aarch64-unknown-linux-gnu");
    let mut compared = 0;
    for a in x86.artifacts.iter().filter(|a| a.kind == ArtifactKind::Native && tested(a)) {
        let Some(dataset) = a.dataset else { continue };
        if !matches!(dataset, Dataset::Mini | Dataset::Small) {
            continue;
        }
        let b = arm.find(&a.name, a.dataset, ArtifactKind::Native).expect("the aarch64 build has it");
        let on_x86 = run_kernel(&target_dir("local").join(&a.path), None);
        let on_arm = run_kernel(&target_dir("emulated-aarch64").join(&b.path), Some("qemu-aarch64-static"));
        assert_eq!(on_x86.checksum, on_arm.checksum, "{} at {dataset}", a.name);
        compared += 1;
    }
    assert_eq!(compared, BENCHMARKS * 2);
}

#[test]
fn clean_builds_are_byte_identical_and_a_repeated_build_does_no_work() {
    let first = tempfile::tempdir().unwrap();
    let second = tempfile::tempdir().unwrap();
    let build = |out: &Path| {
        let output = xtask(&["build", "--kernels-only", "--kernels", "all,startup", "--datasets", "mini"])
            .env("EDGEBENCH_OUT_DIR", out)
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", text(&output));
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let log = build(first.path());
    assert!(log.contains("(62 compiled, 0 up to date)"), "{log}");
    build(second.path());
    let hashes = |dir: &Path| -> BTreeMap<String, String> {
        manifest_at(&dir.join("local")).artifacts.into_iter().map(|a| (a.path, a.sha256)).collect()
    };
    assert_eq!(hashes(first.path()), hashes(second.path()));

    let manifest_file = first.path().join("local/manifest.json");
    let before = std::fs::metadata(&manifest_file).unwrap().modified().unwrap();
    let log = build(first.path());
    assert!(log.contains("(0 compiled, 62 up to date)"), "{log}");
    assert_eq!(std::fs::metadata(&manifest_file).unwrap().modified().unwrap(), before, "manifest rewritten");
}

#[test]
fn only_missing_artifacts_are_built() {
    let out = tempfile::tempdir().unwrap();
    let build = |kernels: &str| {
        let output = xtask(&["build", "--kernels-only", "--kernels", kernels, "--datasets", "mini"])
            .env("EDGEBENCH_OUT_DIR", out.path())
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", text(&output));
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    assert!(build("gemm,atax").contains("(4 compiled, 0 up to date)"));
    // Another dataset of the same kernels is new work; the old ones are kept.
    assert!(build("gemm,atax,bicg").contains("(2 compiled, 4 up to date)"));
}

#[test]
fn unknown_names_are_reported_with_the_closest_valid_one() {
    let err = xtask_err(&["build", "--kernels-only", "--kernels", "jacobi1d"]);
    assert!(err.contains("unknown kernel or category `jacobi1d`; did you mean `jacobi-1d`?"), "{err}");
    let err = xtask_err(&["build", "--kernels-only", "--datasets", "larg"]);
    assert!(err.contains("unknown dataset `larg`; did you mean `large`?"), "{err}");
    let err = xtask_err(&["build", "--kernels-only", "--kernels", "fft"]);
    assert!(err.contains("valid: correlation, covariance, gemm"), "{err}");
    let err = xtask_err(&["build", "--kernels-only", "--target", "pi4"]);
    assert!(err.contains("unknown target `pi4`; did you mean `pi3`?"), "{err}");
}
