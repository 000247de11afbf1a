//! Workloads of the user's own, end to end on this machine: the three
//! examples in `pipelines/examples/` (from C sources, by a build command,
//! prebuilt) run under every runtime they name with one checksum across
//! runtimes, a runtime that lacks a build is recorded unavailable with the
//! reason, and bad definitions end in a clear error or a recorded failure —
//! never a silent pass.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use common::*;
use edgebench_model::manifest::ArtifactKind;
use edgebench_model::record::{Outcome, RunRecord};

/// A copy of the examples (their files are relative to the pipeline) with
/// fewer rounds; returns the copied pipeline.
fn example(dir: &Path, name: &str) -> std::path::PathBuf {
    let examples = root().join("pipelines/examples");
    copy_tree(&examples, dir);
    let text = std::fs::read_to_string(examples.join(format!("{name}.yaml"))).unwrap();
    let text = text.replace("repetitions: 10\nwarmups: 1", "repetitions: 2\nwarmups: 0");
    assert!(text.contains("repetitions: 2"), "the example {name} keeps its rounds where the test expects them");
    pipeline(dir, name, &text)
}

/// Copies every directory below `from` (not the pipelines beside them).
fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let path = entry.path();
        let target = to.join(entry.file_name());
        if path.is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&path, &target);
            for file in std::fs::read_dir(&path).unwrap().flatten().filter(|f| f.path().is_file()) {
                std::fs::copy(file.path(), target.join(file.file_name())).unwrap();
            }
        }
    }
}

/// Every record of `workload` that ran ok has the one checksum, and every
/// variant in `ran` ran it.
fn one_checksum(records: &[RunRecord], workload: &str, ran: &[&str]) -> String {
    let runs: Vec<&RunRecord> =
        records.iter().filter(|r| r.kernel == workload && !matches!(r.outcome, Outcome::Unavailable { .. })).collect();
    let failed: Vec<String> = runs
        .iter()
        .filter(|r| !r.outcome.is_ok())
        .map(|r| format!("{}/{}: {:?}", r.runtime, r.variant, r.outcome))
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
    let variants: BTreeSet<String> = runs.iter().map(|r| format!("{}/{}", r.runtime, r.variant)).collect();
    assert_eq!(variants, ran.iter().map(|v| v.to_string()).collect(), "the variants that ran {workload}");
    let sums: BTreeSet<&str> = runs.iter().map(|r| r.checksum.as_deref().expect("a checksum of stdout")).collect();
    assert_eq!(sums.len(), 1, "{workload}: one checksum across runtimes, not {sums:?}");
    assert!(runs.iter().all(|r| r.kernel_ns.is_none()), "a workload reports no kernel-region time");
    sums.into_iter().next().unwrap().to_string()
}

#[test]
fn the_example_from_sources_runs_under_every_runtime_with_one_checksum() {
    let dir = tempfile::tempdir().unwrap();
    let (_, snapshot, records) = bench_with_snapshot(&example(dir.path(), "wordfreq"), &[]);
    let ran = ["native/default", "docker/scratch", "wasmtime/aot", "wasmi/eager", "wasm3/eager"];
    let checksum = one_checksum(&records, "wordfreq", &ran);

    // The checksum is the hash of what the program prints, run by hand with
    // the small dataset's arguments.
    let native = manifest("local").find("wordfreq", None, ArtifactKind::Native).unwrap().clone();
    let out = std::process::Command::new(target_dir("local").join(&native.path)).arg("200000").output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("words: 200000\n"));
    assert_eq!(checksum, format!("{:016x}", edgebench_model::record::fnv1a(&out.stdout)));

    // Provenance says how each artifact that ran was made: from which
    // sources, with which flags.
    let provenance: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(snapshot.join("provenance.json")).unwrap()).unwrap();
    let workloads = provenance["workloads"].as_array().expect("the workloads' builds");
    let kinds: BTreeSet<&str> = workloads.iter().map(|w| w["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, BTreeSet::from(["native", "wasm", "wasmtime-precompiled"]));
    for w in workloads {
        assert_eq!(w["build"]["from"], "sources", "{w}");
        assert_eq!(w["build"]["flags"], serde_json::json!(["-O2"]), "{w}");
        assert!(w["build"]["sources"]["wordfreq/wordfreq.c"].as_str().is_some_and(|h| h.len() == 64), "{w}");
    }
    let report = std::fs::read_to_string(snapshot.join("report.md")).unwrap();
    assert!(report.contains("wordfreq"), "the report shows the workload");
}

#[test]
fn the_example_built_by_a_command_and_the_prebuilt_one_run_with_one_checksum_each() {
    let dir = tempfile::tempdir().unwrap();
    let (_, snapshot, records) = bench_with_snapshot(&example(dir.path(), "crc"), &[]);
    one_checksum(&records, "crc", &["native/default", "wasmtime/aot", "wasmi/eager", "wasm3/eager"]);
    let provenance = std::fs::read_to_string(snapshot.join("provenance.json")).unwrap();
    assert!(provenance.contains("\"from\": \"command\""), "{provenance}");
    assert!(provenance.contains("CC={zig} cc"), "the command as given, without this machine's paths: {provenance}");

    // Only a Wasm module is prebuilt: native is unavailable, and says why —
    // `doctor` first, then the bench.
    let collatz = example(dir.path(), "collatz");
    let doctor = xtask_ok(&["doctor", "--pipeline", collatz.to_str().unwrap()]);
    let said = String::from_utf8_lossy(&doctor.stdout);
    assert!(
        said.contains("[warn] workload collatz") && said.contains("no native-x86_64 build, so native and docker cells"),
        "{said}"
    );
    let (_, records) = bench(&collatz, &[]);
    one_checksum(&records, "collatz", &["wasmtime/jit", "wasmtime/aot", "wasmi/eager", "wasm3/eager"]);
    let native: Vec<&RunRecord> = records.iter().filter(|r| r.runtime == "native").collect();
    assert!(!native.is_empty());
    for r in native {
        let Outcome::Unavailable { reason } = &r.outcome else { panic!("native ran a Wasm-only workload: {r:?}") };
        assert!(reason.contains("workload `collatz` has no native-x86_64 build (it offers wasm)"), "{reason}");
    }
}

#[test]
fn the_example_with_input_files_reads_them_under_every_runtime_that_can_give_them() {
    let dir = tempfile::tempdir().unwrap();
    let (_, snapshot, records) = bench_with_snapshot(&example(dir.path(), "lines"), &[]);
    let ran = ["native/default", "docker/scratch", "wasmtime/aot", "wasmer/cranelift", "wasmi/eager"];
    let checksum = one_checksum(&records, "lines", &ran);

    // What the program prints when run by hand on the files, with the
    // pipeline's environment: every runtime found the same files, and the
    // same variable.
    let native = manifest("local").find("lines", None, ArtifactKind::Native).unwrap().clone();
    let data = root().join("pipelines/examples/lines/data");
    let out = std::process::Command::new(target_dir("local").join(&native.path))
        .args([data.join("a.txt"), data.join("b.txt")])
        .env("LINES_LABEL", "edge words")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("edge words\na.txt: 120 lines"), "{}", text(&out));
    assert_eq!(checksum, format!("{:016x}", edgebench_model::record::fnv1a(&out.stdout)));

    // wasm3 cannot give a guest files: unavailable, with the reason.
    let wasm3: Vec<&RunRecord> = records.iter().filter(|r| r.runtime == "wasm3").collect();
    assert!(!wasm3.is_empty());
    for r in wasm3 {
        let Outcome::Unavailable { reason } = &r.outcome else { panic!("wasm3 ran a workload with inputs: {r:?}") };
        assert!(reason.contains("reads input files") && reason.contains("no file system"), "{reason}");
    }

    // The input files went with the plan, and provenance lists them.
    let plan = std::fs::read_to_string(snapshot.join("plan.json")).unwrap();
    assert!(plan.contains("inputs/lines/lines/data/b.txt"), "{plan}");
    let provenance: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(snapshot.join("provenance.json")).unwrap()).unwrap();
    let inputs: Vec<&str> = provenance["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["build"]["from"] == "input")
        .map(|w| w["build"]["path"].as_str().unwrap())
        .collect();
    assert_eq!(inputs, ["lines/data/a.txt", "lines/data/b.txt"]);
}

/// Input files are read-only inside every engine and container: a program
/// that tries to change them succeeds (exit 0) only if every attempt is
/// refused.
#[test]
fn input_files_cannot_be_changed_from_wasm_or_a_container() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("data")).unwrap();
    std::fs::write(dir.path().join("data/keep.txt"), "keep me\n").unwrap();
    std::fs::write(
        dir.path().join("change.c"),
        r#"#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv) {
    char path[512];
    FILE *f = fopen(argv[1], "r");
    char line[16] = {0};
    if (!f || !fgets(line, sizeof line, f) || strcmp(line, "keep me\n") != 0) { puts("cannot read"); return 2; }
    fclose(f);
    int changed = 0;
    if ((f = fopen(argv[1], "a"))) { changed = 1; fclose(f); }
    snprintf(path, sizeof path, "%s/new.txt", argv[2]);
    if ((f = fopen(path, "w"))) { changed = 1; fclose(f); }
    if (unlink(argv[1]) == 0) changed = 1;
    if (changed) { puts("changed"); return 1; }
    puts("refused");
    return 0;
}
"#,
    )
    .unwrap();
    let yaml = "workloads:\n  - name: change\n    sources: [change.c]\n    inputs: [data]\n    \
                args: [\"{inputs}/data/keep.txt\", \"{inputs}/data\"]\n    check: exit\ndatasets: [mini]\n\
                runtimes:\n  - runtime: docker\n    variants: [scratch]\n  - runtime: wasmtime\n    variants: [jit]\n  \
                - runtime: wasmer\n    variants: [cranelift]\n  - runtime: wasmi\n    variants: [eager]\n\
                repetitions: 1\ntimeout_s: 60\n";
    let (_, records) = bench(&pipeline(dir.path(), "change", yaml), &[]);
    let ran: BTreeSet<String> = records
        .iter()
        .map(|r| {
            assert!(
                r.outcome.is_ok(),
                "{}/{}: the files could be changed or not read: {:?}",
                r.runtime,
                r.variant,
                r.outcome
            );
            format!("{}/{}", r.runtime, r.variant)
        })
        .collect();
    assert_eq!(ran.len(), 4, "{ran:?}");
    assert_eq!(std::fs::read_to_string(dir.path().join("data/keep.txt")).unwrap(), "keep me\n");
}

/// SQLite's speedtest1 from Debian's source package (fetched, checked
/// against the pinned `.dsc`, unpacked, its amalgamation generated), built
/// by the pinned zig, run at its smallest size: one verification hash under
/// native, Wasmtime, Wasmer, Wasmi and wasm3 — the hash speedtest1 itself
/// prints when run by hand.
#[test]
fn sqlite_speedtest1_from_debians_source_package_verifies_under_every_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = dir.path().join("sqlite");
    std::fs::create_dir(&sqlite).unwrap();
    std::fs::copy(root().join("pipelines/sqlite/memvfs.c"), sqlite.join("memvfs.c")).unwrap();
    let yaml = std::fs::read_to_string(root().join("pipelines/speedtest1.yaml")).unwrap();
    let (head, _) = yaml.split_once("datasets:").expect("the pipeline's workload comes before its datasets");
    let yaml = format!(
        "{head}datasets: [mini]\nruntimes:\n  - runtime: native\n  - runtime: wasmtime\n    variants: [aot]\n  \
         - runtime: wasmer\n    variants: [cranelift]\n  - runtime: wasmi\n    variants: [eager]\n  \
         - runtime: wasm3\n    variants: [eager]\nrepetitions: 2\nwarmups: 0\ntimeout_s: 300\n"
    );
    let (_, snapshot, records) = bench_with_snapshot(&pipeline(dir.path(), "speedtest1", &yaml), &[]);
    let ran = ["native/default", "wasmtime/aot", "wasmer/cranelift", "wasmi/eager", "wasm3/eager"];
    let checksum = one_checksum(&records, "speedtest1", &ran);

    let native = manifest("local").find("speedtest1", None, ArtifactKind::Native).unwrap().clone();
    let out = std::process::Command::new(target_dir("local").join(&native.path))
        .args(["--memdb", "--verify", "--size", "1"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("SQLite 3.40.1"), "speedtest1 names the SQLite it tests:\n{stdout}");
    let hash_line: String =
        stdout.lines().filter(|l| l.starts_with("Verification Hash:")).map(|l| format!("{l}\n")).collect();
    assert!(!hash_line.is_empty(), "{stdout}");
    assert_eq!(checksum, format!("{:016x}", edgebench_model::record::fnv1a(hash_line.as_bytes())));

    // Provenance names the package, its pinned `.dsc` and the commands that
    // prepared it; the fetched files are named as `{fetched}/…`, with no
    // path of this machine.
    let provenance: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(snapshot.join("provenance.json")).unwrap()).unwrap();
    let built = &provenance["workloads"][0]["build"];
    assert_eq!(built["fetched"]["package"], "sqlite3", "{built}");
    assert_eq!(built["fetched"]["version"], "3.40.1-2+deb12u2", "{built}");
    assert_eq!(built["fetched"]["prepare"][1], serde_json::json!(["make", "sqlite3.c"]), "{built}");
    assert!(built["sources"]["{fetched}/sqlite3.c"].as_str().is_some_and(|h| h.len() == 64), "{built}");
    assert!(built["sources"]["sqlite/memvfs.c"].as_str().is_some_and(|h| h.len() == 64), "{built}");
    let report = std::fs::read_to_string(snapshot.join("report.md")).unwrap();
    assert!(report.contains("Debian's source package sqlite3 3.40.1-2+deb12u2"), "{report}");
}

#[test]
fn an_output_that_differs_between_runtimes_is_recorded_as_a_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("where.c"),
        "#include <stdio.h>\nint main(void) {\n#ifdef __wasm__\n  puts(\"wasm\");\n#else\n  puts(\"native\");\n#endif\n  return 0;\n}\n",
    )
    .unwrap();
    let yaml = "workloads:\n  - name: where\n    sources: [where.c]\ndatasets: [mini]\nruntimes:\n  - runtime: native\n  \
                - runtime: wasmtime\n    variants: [aot]\nrepetitions: 2\ntimeout_s: 30\n";
    let (_, snapshot, records) = bench_with_snapshot(&pipeline(dir.path(), "where", yaml), &[]);
    let sums: BTreeMap<String, BTreeSet<String>> = records.iter().fold(BTreeMap::new(), |mut m, r| {
        m.entry(r.runtime.clone()).or_default().insert(r.checksum.clone().unwrap_or_default());
        m
    });
    assert_ne!(sums["native"], sums["wasmtime"], "{sums:?}");
    // The analysis holds every runtime to native's output: the Wasm runs
    // count as failed, by name.
    let summary = std::fs::read_to_string(snapshot.join("summary.json")).unwrap();
    assert!(summary.contains("checksum_mismatch"), "{summary}");
    let report = std::fs::read_to_string(snapshot.join("report.md")).unwrap();
    assert!(report.contains("checksum"), "the report names the mismatch:\n{report}");
}

/// What follows a bad workload definition: a pipeline that would run it.
const TAIL: &str = "datasets: [mini]\nruntimes:\n  - runtime: native\nrepetitions: 1\ntimeout_s: 10\n";

/// `cargo xtask bench --dry-run` of `workloads` (with [`TAIL`]) in `dir`: its error.
fn refused(dir: &Path, name: &str, workloads: &str) -> String {
    let path = pipeline(dir, name, &format!("{workloads}{TAIL}"));
    let err = xtask_err(&["bench", "--quiet", "--dry-run", "--pipeline", path.to_str().unwrap()]);
    assert!(!err.contains("panicked"), "{err}");
    err
}

#[test]
fn bad_definitions_are_refused_where_they_are_written() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ok.c"), "int main(void) { return 0; }\n").unwrap();
    std::fs::write(dir.path().join("ok.wasm"), b"\0asm\x01\0\0\0").unwrap();
    let cases = [
        ("missing", "workloads:\n  - name: w\n    sources: [gone.c]\n", "missing.yaml:3:15:", "gone.c does not exist"),
        (
            "two-origins",
            "workloads:\n  - name: w\n    sources: [ok.c]\n    prebuilt: { wasm: { path: ok.wasm, sha256: x } }\n",
            "two-origins.yaml:2:11:",
            "exactly one of `sources`",
        ),
        (
            "sha256",
            &format!(
                "workloads:\n  - name: w\n    prebuilt:\n      wasm: {{ path: ok.wasm, sha256: {} }}\n",
                "ab".repeat(32)
            ),
            "sha256.yaml:4:38:",
            "ok.wasm has sha256 ",
        ),
        (
            "placeholder",
            "workloads:\n  - name: w\n    build: { command: [make, \"OUT={output}\"] }\n",
            "placeholder.yaml:3:30:",
            "unknown placeholder `{output}`; valid: {out},",
        ),
        (
            "no-out",
            "workloads:\n  - name: w\n    build: { command: [make] }\n",
            "no-out.yaml:3:24:",
            "never names `{out}`",
        ),
        (
            "dataset",
            "workloads:\n  - name: w\n    sources: [ok.c]\n    args_by_dataset: { small: [\"1\"] }\n",
            "dataset.yaml:",
            "workload `w` has no arguments for dataset `mini`",
        ),
        (
            "clash",
            "workloads:\n  - name: gemm\n    sources: [ok.c]\n",
            "clash.yaml:2:11:",
            "`gemm` is already the name of a kernel",
        ),
        ("outside", "workloads:\n  - name: w\n    sources: [../ok.c]\n", "outside.yaml:3:15:", "without `..`"),
        (
            "check",
            "workloads:\n  - name: w\n    sources: [ok.c]\n    check: stdot\n",
            "check.yaml:4:12:",
            "did you mean `stdout`?",
        ),
    ];
    refused_at(dir.path(), &cases);
}

#[test]
fn bad_fetches_inputs_and_environments_are_refused_where_they_are_written() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ok.c"), "int main(void) { return 0; }\n").unwrap();
    let cases = [
        (
            "inputs-missing",
            "workloads:\n  - name: w\n    sources: [ok.c]\n    inputs: [nothing-here]\n",
            "inputs-missing.yaml:4:14:",
            "nothing-here",
        ),
        (
            "inputs-unnamed",
            "workloads:\n  - name: w\n    sources: [ok.c]\n    args: [\"{inputs}/x\"]\n",
            "inputs-unnamed.yaml:4:12:",
            "it has no `inputs:`",
        ),
        (
            "env-name",
            "workloads:\n  - name: w\n    sources: [ok.c]\n    env: { 1X: y }\n",
            "env-name.yaml:4:16:",
            "`1X` is not an environment variable's name",
        ),
        (
            "fetched-without-fetch",
            "workloads:\n  - name: w\n    sources: [ok.c, \"{fetched}/x.c\"]\n",
            "fetched-without-fetch.yaml:3:21:",
            "this workload has no `fetch:`",
        ),
        (
            "fetch-package",
            "workloads:\n  - name: w\n    sources: [ok.c]\n    fetch: { debian_source: SQLite, version: \"1\", \
             dsc_sha256: x }\n",
            "fetch-package.yaml:4:29:",
            "is not a Debian source package name",
        ),
        (
            "fetch-sha256",
            "workloads:\n  - name: w\n    sources: [ok.c]\n    fetch: { debian_source: zlib, version: \"1.2\", \
             dsc_sha256: abc }\n",
            "fetch-sha256.yaml:4:",
            "`dsc_sha256` must be 64 hex digits",
        ),
        (
            "fetched-outside",
            &format!(
                "workloads:\n  - name: w\n    sources: [\"{{fetched}}/../x.c\"]\n    fetch: {{ debian_source: zlib, \
                 version: \"1.2\", dsc_sha256: {} }}\n",
                "ab".repeat(32)
            ),
            "fetched-outside.yaml:3:15:",
            "must be a path below the fetched tree, without `..`",
        ),
    ];
    refused_at(dir.path(), &cases);
}

/// Each case — name, workloads, where the error is, what it says — is
/// refused there with that.
fn refused_at(dir: &Path, cases: &[(&str, &str, &str, &str)]) {
    for (name, workloads, place, message) in cases {
        let err = refused(dir, name, workloads);
        assert!(err.contains(place) && err.contains(message), "{name}: want `{place}` and `{message}` in:\n{err}");
    }
}

/// A build command that fails, and one that writes nothing, are shown with
/// what they printed; a source package whose `.dsc` is not the one pinned
/// is refused, and nothing of it is kept.
#[test]
fn failing_builds_and_wrong_sources_say_what_happened() {
    let dir = tempfile::tempdir().unwrap();
    let commands = [
        ("fails", "[sh, -c, 'echo it broke >&2; exit 3', sh, '{out}']", "failed (exit status: 3)", "it broke"),
        ("silent", "[sh, -c, 'echo done', sh, '{out}']", "succeeded but wrote no file", "done"),
    ];
    for (name, command, what, said) in commands {
        let yaml = format!("workloads:\n  - name: w\n    build: {{ command: {command}, flavours: [native] }}\n");
        let err = refused(dir.path(), name, &yaml);
        assert!(err.contains("the build command of workload `w` (native)") && err.contains(what), "{name}:\n{err}");
        assert!(err.contains(said), "{name}: the command's own output is shown:\n{err}");
    }

    let yaml = format!(
        "workloads:\n  - name: w\n    sources: [\"{{fetched}}/x.c\"]\n    fetch: {{ debian_source: sqlite3, \
         version: \"3.40.1-2+deb12u2\", dsc_sha256: {} }}\n",
        "0".repeat(64)
    );
    let err = refused(dir.path(), "wrong-dsc", &yaml);
    assert!(
        err.contains(
            "sqlite3_3.40.1-2+deb12u2.dsc has sha256 ee3459ae9d00939741c7708fc1b8ce1bde12d8c3fb1dfa005bbbc8651d884e23"
        ) && err.contains("the download was removed"),
        "{err}"
    );
}
