//! The original PolyBench/C suite from a user's checkout, exercised on a
//! stand-in checkout with the suite's layout and conventions
//! (`fixtures/polybench/`): built for every kind into the manifest, run
//! under every runtime with equal checksums, and clear errors.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use edgebench_model::Dataset;
use edgebench_model::digest::sha256_file;
use edgebench_model::manifest::ArtifactKind;
use edgebench_model::record::polybench;

const KERNELS: [&str; 3] = ["polybench/gemm", "polybench/jacobi-1d", "polybench/floyd-warshall"];

fn fixture() -> PathBuf {
    root().join("xtask/tests/fixtures/polybench")
}

/// A copy of the fixture to break in a test.
fn fixture_copy(dir: &Path) -> PathBuf {
    let copy = dir.join("PolyBenchC");
    let status = Command::new("cp").arg("-r").arg(fixture()).arg(&copy).status().unwrap();
    assert!(status.success());
    copy
}

#[test]
fn the_example_pipeline_runs_the_suite_under_every_runtime_with_equal_checksums() {
    let (_, records) = bench(&root().join("pipelines/polybench-example.yaml"), &[]);
    let failed: Vec<String> = records
        .iter()
        .filter(|r| !r.outcome.is_ok())
        .map(|r| format!("{}/{}/{}/{}: {:?} {:?}", r.kernel, r.dataset, r.runtime, r.variant, r.outcome, r.stderr_tail))
        .collect();
    assert!(failed.is_empty(), "failed runs:\n{}", failed.join("\n"));

    let mut checksums: BTreeMap<(String, Dataset), Vec<String>> = BTreeMap::new();
    for r in records.iter().filter(|r| r.kernel.starts_with("polybench/")) {
        let kernel_ns = r.kernel_ns.expect("a kernel time from the POLYBENCH_TIME line");
        assert_eq!(kernel_ns % 1000, 0, "microseconds, as the %0.6f line has them: {kernel_ns}");
        checksums.entry((r.kernel.clone(), r.dataset)).or_default().push(r.checksum.clone().expect("a checksum"));
    }
    let runtimes = ["native", "wasmtime/jit", "wasmtime/aot", "wasmer/cranelift"];
    assert_eq!(checksums.len(), KERNELS.len() * 2, "{:?}", checksums.keys());
    for ((kernel, dataset), sums) in &checksums {
        assert_eq!(sums.len(), runtimes.len() * (5 + 1), "{kernel} at {dataset}");
        assert!(sums.iter().all(|s| *s == sums[0]), "{kernel} at {dataset}: {sums:?}");
    }
    for kernel in KERNELS {
        let of = |d| &checksums[&(kernel.to_string(), d)][0];
        assert_ne!(of(Dataset::Mini), of(Dataset::Small), "{kernel}: the dataset changes the result");
    }

    // The checksum is the hash of what the dump build prints, run by hand.
    let manifest = manifest("local");
    let dir = target_dir("local");
    for ((kernel, dataset), sums) in &checksums {
        let dump = manifest.find(&format!("{kernel}.dump-arrays"), Some(*dataset), ArtifactKind::Native).unwrap();
        let output = Command::new(dir.join(&dump.path)).output().unwrap();
        assert!(output.status.success(), "{}", text(&output));
        assert_eq!(polybench::dump_checksum(&output.stderr[..]).unwrap(), sums[0], "{kernel} at {dataset}");

        let timed = manifest.find(kernel, Some(*dataset), ArtifactKind::Native).unwrap();
        let output = Command::new(dir.join(&timed.path)).output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let line = stdout.trim_end();
        let (whole, fraction) = line.split_once('.').expect("seconds with a fraction");
        assert!(whole.bytes().all(|b| b.is_ascii_digit()) && fraction.len() == 6, "a %0.6f line: {stdout:?}");
        assert!(output.stderr.is_empty(), "the timed build dumps nothing: {}", text(&output));
    }
}

#[test]
fn every_kind_is_in_the_manifest_marked_with_the_suite_and_its_source_hashes() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = format!(
        "suite: {{ polybench: {} }}\nkernels: [polybench/all]\ndatasets: [mini]\nruntimes:\n  - runtime: native\n  \
         - runtime: wasmtime\n    variants: [aot]\nrepetitions: 1\ntimeout_s: 60\n",
        fixture().display()
    );
    let (_, plan) = dry_run(&pipeline(dir.path(), "manifest", &yaml));
    let manifest = manifest("local");
    let fixture_hash = |file: &str| sha256_file(&fixture().join(file)).unwrap();
    let kinds = [ArtifactKind::Wasm, ArtifactKind::Native, ArtifactKind::WasmtimePrecompiled];
    for kernel in KERNELS {
        let short = kernel.strip_prefix("polybench/").unwrap();
        let kernel_dir = match short {
            "gemm" => "linear-algebra/blas/gemm",
            "jacobi-1d" => "stencils/jacobi-1d",
            _ => "medley/floyd-warshall",
        };
        for (name, mode) in
            [(kernel.to_string(), "-DPOLYBENCH_TIME"), (format!("{kernel}.dump-arrays"), "-DPOLYBENCH_DUMP_ARRAYS")]
        {
            for kind in kinds {
                let a = manifest.find(&name, Some(Dataset::Mini), kind).unwrap_or_else(|| panic!("{name} {kind:?}"));
                let suite = a.suite.as_ref().unwrap_or_else(|| panic!("{name} {kind:?} is marked"));
                assert_eq!(suite.suite, "polybench");
                assert_eq!(Path::new(&suite.root), fixture().canonicalize().unwrap());
                assert_eq!(suite.defines, ["-DMINI_DATASET", mode, "-DPOLYBENCH_NO_FLUSH_CACHE"]);
                let files = [
                    "utilities/polybench.c".to_string(),
                    "utilities/polybench.h".to_string(),
                    format!("{kernel_dir}/{short}.c"),
                    format!("{kernel_dir}/{short}.h"),
                ];
                let expected: BTreeMap<String, String> = files.iter().map(|f| (f.clone(), fixture_hash(f))).collect();
                assert_eq!(suite.sources, expected, "{name} {kind:?}");
            }
        }
    }
    assert!(manifest.compilers.iter().any(|c| c.suite.as_deref() == Some("polybench")
        && c.kind == ArtifactKind::Wasm
        && c.flags.iter().any(|f| f == "-D_WASI_EMULATED_PROCESS_CLOCKS")));
    // Every cell has its dump run under the same runtime, and the plan verifies its file.
    for cell in &plan.cells {
        let dump = cell.polybench_dump.as_ref().expect("a dump run");
        let module = dump.argv.iter().find(|a| a.contains(".dump-arrays.")).expect("the dump build");
        assert!(plan.files.iter().any(|f| f.path == *module), "{module} is verified");
    }
}

#[test]
fn a_path_without_the_suite_layout_is_refused_where_the_pipeline_names_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("not-polybench")).unwrap();
    let yaml = "suite: { polybench: not-polybench }\nkernels: [polybench/all]\ndatasets: [mini]\n\
                runtimes:\n  - runtime: native\nrepetitions: 1\ntimeout_s: 5\n";
    let path = pipeline(dir.path(), "layout", yaml);
    let err = xtask_err(&["bench", "--dry-run", "--pipeline", path.to_str().unwrap()]);
    assert!(err.contains(&format!("{}:1:21:", path.display())), "{err}");
    assert!(err.contains("is not a PolyBench/C checkout: utilities/polybench.c is missing"), "{err}");

    let path = pipeline(dir.path(), "nowhere", &yaml.replace("not-polybench", "nowhere"));
    let err = xtask_err(&["bench", "--dry-run", "--pipeline", path.to_str().unwrap()]);
    assert!(err.contains("nowhere: no such directory"), "{err}");
}

#[test]
fn missing_kernels_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let copy = fixture_copy(dir.path());
    let list = copy.join("utilities/benchmark_list");
    let mut entries = std::fs::read_to_string(&list).unwrap();
    entries.push_str("./stencils/heat-3d/heat-3d.c\n");
    std::fs::write(&list, entries).unwrap();
    let yaml = "suite: { polybench: PolyBenchC }\nkernels: [polybench/gemm]\ndatasets: [mini]\n\
                runtimes:\n  - runtime: native\nrepetitions: 1\ntimeout_s: 5\n";
    let path = pipeline(dir.path(), "listed", yaml);
    let err = xtask_err(&["bench", "--dry-run", "--pipeline", path.to_str().unwrap()]);
    assert!(err.contains("utilities/benchmark_list:4: kernel `heat-3d` is listed, but"), "{err}");
    assert!(err.contains("stencils/heat-3d/heat-3d.c is missing"), "{err}");

    let path = pipeline(
        dir.path(),
        "misspelt",
        &yaml.replace("PolyBenchC", &fixture().display().to_string()).replace("polybench/gemm", "polybench/gemmm"),
    );
    let err = xtask_err(&["bench", "--dry-run", "--pipeline", path.to_str().unwrap()]);
    assert!(err.contains(&format!("{}:2:11:", path.display())), "{err}");
    assert!(err.contains("did you mean `polybench/gemm`"), "{err}");

    let err = xtask_err(&["build", "--kernels-only", "--kernels", "polybench/gemm"]);
    assert!(err.contains("cargo xtask build --pipeline"), "{err}");
    // And `build --pipeline` builds them, marked with their suite.
    let example = root().join("pipelines/polybench-example.yaml");
    xtask_ok(&["build", "--quiet", "--pipeline", example.to_str().unwrap()]);
    assert!(manifest("local").artifacts.iter().any(|a| a.name == "polybench/gemm" && a.suite.is_some()));

    let path = pipeline(
        dir.path(),
        "no-suite",
        "kernels: [polybench/gemm]\ndatasets: [mini]\nruntimes:\n  - runtime: native\nrepetitions: 1\ntimeout_s: 5\n",
    );
    let err = xtask_err(&["bench", "--dry-run", "--pipeline", path.to_str().unwrap()]);
    assert!(err.contains(&format!("{}:1:11:", path.display())), "{err}");
    assert!(err.contains("suite: { polybench: <path to PolyBenchC-4.2.1> }"), "{err}");
}

#[test]
fn a_compile_error_shows_the_command_and_the_compiler_output() {
    let dir = tempfile::tempdir().unwrap();
    let copy = fixture_copy(dir.path());
    let source = copy.join("stencils/jacobi-1d/jacobi-1d.c");
    let broken = std::fs::read_to_string(&source).unwrap().replace("B[i] = (A[i - 1]", "B[i] = (undeclared_thing");
    std::fs::write(&source, broken).unwrap();
    let yaml = "suite: { polybench: PolyBenchC }\nkernels: [polybench/stencils]\ndatasets: [mini]\n\
                runtimes:\n  - runtime: native\nrepetitions: 1\ntimeout_s: 5\n";
    let path = pipeline(dir.path(), "broken", yaml);
    let output = xtask(&["bench", "--dry-run", "--pipeline", path.to_str().unwrap()])
        .env("EDGEBENCH_OUT_DIR", dir.path().join("out"))
        .output()
        .unwrap();
    assert!(!output.status.success(), "{}", text(&output));
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("compiling PolyBench/C kernel `jacobi-1d` at mini (-DPOLYBENCH_TIME) failed"), "{err}");
    assert!(err.contains(&format!("in {}", copy.canonicalize().unwrap().display())), "the directory: {err}");
    assert!(err.contains("cc -target x86_64-linux-musl") || err.contains("cc -target aarch64-linux-musl"), "{err}");
    assert!(err.contains("utilities/polybench.c stencils/jacobi-1d/jacobi-1d.c -lm"), "the command: {err}");
    assert!(err.contains("jacobi-1d.c:") && err.contains("undeclared_thing"), "the diagnostics: {err}");
}

#[test]
fn a_dump_build_that_dumps_nothing_leaves_runs_without_a_checksum_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let copy = fixture_copy(dir.path());
    let header = copy.join("utilities/polybench.h");
    let silent = std::fs::read_to_string(&header).unwrap().replace("\"==BEGIN DUMP_ARRAYS==\\n\"", "\"\"");
    assert!(silent.contains("POLYBENCH_DUMP_START fprintf(POLYBENCH_DUMP_TARGET, \"\")"), "{silent}");
    std::fs::write(&header, silent).unwrap();
    let yaml = "suite: { polybench: PolyBenchC }\nkernels: [polybench/gemm]\ndatasets: [mini]\n\
                runtimes:\n  - runtime: native\nrepetitions: 2\ntimeout_s: 30\n";
    let path = pipeline(dir.path(), "nodump", yaml);
    let output = xtask(&["bench", "--quiet", "--pipeline", path.to_str().unwrap()])
        .env("EDGEBENCH_OUT_DIR", dir.path().join("out"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let results = stdout.lines().find_map(|l| l.strip_prefix("results: ")).expect("a results line");
    let records = read_records(&Path::new(results).join("results.jsonl"));
    assert_eq!(records.len(), 2);
    for r in &records {
        match &r.outcome {
            edgebench_model::record::Outcome::BadOutput { message } => {
                assert!(message.contains("no checksum") && message.contains("-DPOLYBENCH_DUMP_ARRAYS"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(r.checksum, None);
    }
}
