//! `cargo xtask bench` end to end: plan, runs, snapshot, statistics,
//! plots and provenance; and the pipeline loader's errors.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;

use common::*;
use edgebench_model::digest::sha256_hex;
use edgebench_model::plan::Plan;
use edgebench_model::record::RunRecord;
use edgebench_stats::Options;
use serde_json::Value;

#[test]
fn a_bench_writes_a_complete_and_consistent_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = "description: snapshot test\nkernels: [gemm, startup]\ndatasets: [mini]\nruntimes:\n  - runtime: native\n\
                - runtime: wasmtime\n    variants: [aot]\nrepetitions: 3\nwarmups: 1\ntimeout_s: 60\nbaseline: native\nseed: 7\n";
    let yaml = yaml.replace("\n- runtime", "\n  - runtime");
    let (run_dir, snapshot, records) = bench_with_snapshot(&pipeline(dir.path(), "snap", &yaml), &[]);

    // Every planned run is in the records exactly once.
    let plan: Plan = serde_json::from_str(&std::fs::read_to_string(run_dir.join("plan.json")).unwrap()).unwrap();
    assert_eq!(plan.seed, 7);
    assert_eq!(plan.runs.len(), 2 * 2 * (3 + 1));
    let runs: Vec<usize> = records.iter().map(|r| r.run).collect();
    assert_eq!(runs.iter().copied().collect::<BTreeSet<_>>().len(), runs.len());
    assert_eq!(runs.len(), plan.runs.len());
    assert!(records.iter().all(|r| r.outcome.is_ok()), "{records:#?}");

    // The snapshot holds the raw records as the harness wrote them.
    for file in ["records.jsonl", "plan.json", "summary.json", "summary.csv", "report.md", "provenance.json"] {
        assert!(snapshot.join(file).is_file(), "{file} missing");
    }
    let snapshot_records = read_records(&snapshot.join("records.jsonl"));
    assert_eq!(snapshot_records, records);

    // Statistics recomputed from records.jsonl equal summary.json.
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(snapshot.join("summary.json")).unwrap()).unwrap();
    let recomputed = edgebench_stats::analyse(&snapshot_records, &Options::new(Some("native/default")));
    let stored: edgebench_stats::Analysis = serde_json::from_value(summary["analysis"].clone()).unwrap();
    assert_eq!(stored, recomputed);
    assert_eq!(stored.cells.len(), 4);
    let gemm_aot = stored.cells.iter().find(|c| c.key.kernel == "gemm" && c.key.runtime == "wasmtime").unwrap();
    assert_eq!(gemm_aot.ok_runs, 3);
    assert_eq!(gemm_aot.warmup_runs, 1);
    assert!(stored.ratios.iter().any(|r| r.kernel == "gemm" && r.runtime == "wasmtime/aot" && r.metric == "wall_ms"));

    assert_eq!(snapshot_plan(&snapshot), plan, "the snapshot keeps the plan that ran");
    assert_eq!(plan.settings.pipeline_text, yaml);
    assert_eq!(plan.settings.pipeline_sha256, sha256_hex(yaml.as_bytes()));
    check_csv_and_plots(&snapshot, &stored);
    check_provenance_and_report(&snapshot, &plan, &records);
    check_reanalyse(&snapshot, &snapshot_records);
}

/// A run killed part-way, its pipeline edited, then resumed: the snapshot
/// says what ran (the plan's settings, the pipeline as it was planned), not
/// what the pipeline says now.
#[test]
fn a_resumed_run_is_described_by_its_plan_not_by_the_pipeline_edited_since() {
    let dir = tempfile::tempdir().unwrap();
    let original = "kernels: [spin, startup]\ndatasets: [mini]\nruntimes:\n  - runtime: native\nrepetitions: 4\n\
                    timeout_s: 0.25\nbaseline: native\norder: shuffled\nseed: 11\n";
    let path = pipeline(dir.path(), "edited-before-resume", original);
    let (plan_path, plan) = dry_run(&path);
    assert_eq!(plan.runs.len(), 8);

    // The harness runs part of the plan and is killed (each `spin` run takes
    // its 0.25 s timeout, so it cannot finish before it is stopped).
    let run_dir = std::path::Path::new(&plan_path).parent().unwrap().to_path_buf();
    let results = run_dir.join("results.jsonl");
    let mut harness = std::process::Command::new(target_dir("local").join("bin/edgebench-harness"))
        .args(["run", plan_path.as_str(), "--quiet", "--workdir"])
        .arg(target_dir("local"))
        .arg("--results")
        .arg(&results)
        .spawn()
        .expect("the harness starts");
    let count = || std::fs::read_to_string(&results).map(|t| t.lines().count()).unwrap_or(0);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while count() < 2 {
        assert!(std::time::Instant::now() < deadline, "the harness wrote no records");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    harness.kill().unwrap();
    harness.wait().unwrap();
    assert!(count() < plan.runs.len(), "killed too late to test resuming");

    let edited = original.replace("repetitions: 4", "repetitions: 6").replace("seed: 11", "seed: 12").replace(
        "runtimes:\n  - runtime: native\n",
        "runtimes:\n  - runtime: native\n  - runtime: wasmtime\n    variants: [aot]\n",
    );
    std::fs::write(&path, &edited).unwrap();
    let (resumed_dir, snapshot, records) = bench_with_snapshot(&path, &["--resume"]);

    assert_eq!(resumed_dir, run_dir, "the killed run was resumed");
    assert_eq!(records.len(), plan.runs.len());
    assert!(records.iter().all(|r| r.plan_id == plan.id && r.runtime == "native"));
    assert_eq!(snapshot_plan(&snapshot), plan);
    let prov = json(&snapshot.join("provenance.json"));
    assert_eq!(prov["plan"]["id"], plan.id.as_str());
    assert_eq!(prov["plan"]["repetitions"], 4);
    assert_eq!(prov["plan"]["seed"], 11);
    assert_eq!(prov["plan"]["runs"], 8);
    assert_eq!(prov["plan"]["baseline"], "native/default");
    assert_eq!(prov["plan"]["pipeline_sha256"], sha256_hex(original.as_bytes()).as_str());
    let summary = json(&snapshot.join("summary.json"));
    assert_eq!(summary["plan_id"], plan.id.as_str());
    assert_eq!(summary["analysis"]["baseline"], "native/default");
    let cells: Vec<&str> = summary["analysis"]["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["key"]["runtime"].as_str().unwrap())
        .collect();
    assert!(cells.iter().all(|r| *r == "native"), "the summary has a runtime the run never had: {cells:?}");
}

/// Adaptive repetitions: rounds are added pass by pass until every primary
/// cell is precise enough or the maximum ran; the snapshot holds exactly
/// the rounds that ran, and says why it stopped.
#[test]
fn adaptive_repetitions_add_rounds_until_precise_or_the_maximum() {
    let dir = tempfile::tempdir().unwrap();
    let pipeline_with = |name: &str, precision: &str| {
        let yaml = format!(
            "kernels: [gemm, startup]\ndatasets: [mini]\nruntimes:\n  - runtime: native\nrepetitions: 6\n\
             adaptive: {{ precision: {precision}, max_repetitions: 9 }}\nwarmups: 1\ntimeout_s: 60\nseed: 3\n"
        );
        pipeline(dir.path(), name, &yaml)
    };

    // No run is precise to a billionth: the first pass's 6 rounds, then 9,
    // the maximum.
    let (run_dir, snapshot, records) = bench_with_snapshot(&pipeline_with("adaptive-max", "0.000000001"), &[]);
    let plan: Plan = serde_json::from_str(&std::fs::read_to_string(run_dir.join("plan.json")).unwrap()).unwrap();
    assert_eq!(plan.runs.len(), 2 * (1 + 9), "the plan holds every round it may run");
    assert_eq!(records.len(), 2 * (1 + 9));
    let stop = &json(&snapshot.join("provenance.json"))["plan"]["stop"];
    assert_eq!((stop["rounds"].as_u64(), stop["reason"].as_str()), (Some(9), Some("maximum")), "{stop}");
    assert_eq!(stop["runs"], 20);
    let report = std::fs::read_to_string(snapshot.join("report.md")).unwrap();
    assert!(report.contains("Adaptive repetitions (6 to 9 rounds): stopped after 9 rounds"), "{report}");
    // A stopped run is finished: nothing to resume.
    let err =
        xtask_err(&["bench", "--pipeline", pipeline_with("adaptive-max", "0.000000001").to_str().unwrap(), "--resume"]);
    assert!(err.contains("nothing to resume"), "{err}");

    // Any precision: the bench stops after 6 or 9 rounds, and its reason
    // agrees with the precision the recorded runs have.
    let (_, snapshot, records) = bench_with_snapshot(&pipeline_with("adaptive-loose", "0.5"), &[]);
    let stop = &json(&snapshot.join("provenance.json"))["plan"]["stop"];
    let rounds = stop["rounds"].as_u64().unwrap();
    assert!(rounds == 6 || rounds == 9, "{stop}");
    assert_eq!(records.len() as u64, 2 * (1 + rounds));
    let measured: Vec<&RunRecord> = records.iter().filter(|r| !r.warmup).collect();
    assert!(measured.iter().all(|r| u64::from(r.repetition) < rounds));
    let precisions = edgebench_stats::precision::of(&edgebench_stats::samples(&records));
    let met = precisions.iter().all(|p| p.meets(0.5));
    assert_eq!(stop["reason"], if met { "precision" } else { "maximum" }, "{stop} {precisions:?}");
    if rounds == 9 {
        // It went on: its first 6 rounds were not precise enough.
        let first: Vec<RunRecord> = records.iter().filter(|r| r.warmup || r.repetition < 6).cloned().collect();
        let after_six = edgebench_stats::precision::of(&edgebench_stats::samples(&first));
        assert!(!after_six.iter().all(|p| p.meets(0.5)), "{after_six:?}");
    }
    // The snapshot reads back whole: the runs of the rounds it stopped after.
    xtask_ok(&["reanalyse", snapshot.to_str().unwrap()]);
}

fn snapshot_plan(snapshot: &std::path::Path) -> Plan {
    serde_json::from_str(&std::fs::read_to_string(snapshot.join("plan.json")).unwrap()).unwrap()
}

fn json(path: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn check_csv_and_plots(snapshot: &std::path::Path, stored: &edgebench_stats::Analysis) {
    // CSV: a header and one row per cell and metric.
    let csv = std::fs::read_to_string(snapshot.join("summary.csv")).unwrap();
    let metrics: usize = stored.cells.iter().map(|c| c.metrics.len()).sum();
    assert_eq!(csv.lines().count(), 1 + metrics);

    // Plots are well-formed SVG with labelled axes.
    let plots: Vec<_> = std::fs::read_dir(snapshot.join("plots")).unwrap().flatten().map(|e| e.path()).collect();
    assert!(plots.len() >= 4, "{plots:?}");
    for plot in &plots {
        let text = std::fs::read_to_string(plot).unwrap();
        let doc = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", plot.display()));
        assert_eq!(doc.root_element().tag_name().name(), "svg");
        // A unit on its axis, or the ratio its colours or bars are.
        let labelled = text.contains("(ms)") || text.contains("(MiB)") || text.contains(" ÷ ");
        assert!(labelled, "{} says nothing of what it shows", plot.display());
    }
}

fn check_provenance_and_report(snapshot: &std::path::Path, plan: &Plan, records: &[RunRecord]) {
    // Provenance is complete.
    let prov = json(&snapshot.join("provenance.json"));
    assert_eq!(prov["plan"]["id"], plan.id.as_str());
    assert_eq!(prov["plan"]["seed"], 7);
    assert_eq!(prov["plan"]["baseline"], "native/default");
    assert_eq!(prov["plan"]["pipeline_sha256"], plan.settings.pipeline_sha256.as_str());
    assert_eq!(prov["git"]["revision"].as_str().map(str::len), Some(40));
    assert!(prov["git"]["dirty"].is_boolean());
    assert_eq!(prov["engines"]["wasmtime"], "48.0.8");
    assert!(prov["toolchains"]["rustc"].as_str().unwrap().starts_with("rustc 1.95"));
    assert!(prov["compilers"][0]["flags"].as_array().unwrap().iter().any(|f| f == "-ffp-contract=off"));
    assert_eq!(prov["artifacts"].as_array().unwrap().len(), plan.files.len());
    for key in ["cpu", "arch", "cores", "kernel"] {
        assert!(!prov["device_before"][key].is_null(), "device_before.{key} missing");
        assert!(!prov["device_after"][key].is_null(), "device_after.{key} missing");
    }
    // Every run carries the device's health sampled before it.
    assert!(records.iter().all(|r| r.health.as_ref().is_some_and(|h| h.unix_ms > 0)), "{records:#?}");
    let samples = prov["health"]["samples"].as_u64().unwrap();
    assert!((1..=records.len() as u64).contains(&samples), "{}", prov["health"]);
    assert_eq!(prov["health"]["throttled_runs"], 0);
    let report = std::fs::read_to_string(snapshot.join("report.md")).unwrap();
    assert!(report.contains("# `snap` on `local`"));
    assert!(
        report.contains("16 of 16 measured runs ended ok") || report.contains("12 of 12 measured runs ended ok"),
        "{report}"
    );
    assert!(report.contains("![heatmap-mini-time.svg](plots/heatmap-mini-time.svg)"), "{report}");
    // The HTML report: self-contained, its charts inline, every cell a row.
    let html = std::fs::read_to_string(snapshot.join("report.html")).unwrap();
    for id in ["summary", "charts", "cells", "report", "provenance"] {
        assert!(html.contains(&format!("id=\"{id}\"")), "no section {id}");
    }
    let plots = std::fs::read_dir(snapshot.join("plots")).unwrap().count();
    assert_eq!(html.matches("<svg xmlns").count(), plots);
    assert!(html.matches("<tr id=\"cell-").count() >= 4, "a row per cell");
    assert!(!html.contains("<script src") && !html.contains("<link "), "nothing loaded from elsewhere");
    check_footprint(&prov, &report);
}

/// The footprint names the bytes each runtime needs on the device: the
/// AOT executor and the precompiled modules for Wasmtime, the binaries alone
/// for native; never the harness.
fn check_footprint(prov: &Value, report: &str) {
    let manifest = manifest("local");
    let size = |path: &str| manifest.artifacts.iter().find(|a| a.path == path).unwrap().size;
    let footprint = prov["footprint"].as_array().unwrap();
    let runtimes: Vec<&str> = footprint.iter().map(|f| f["runtime"].as_str().unwrap()).collect();
    assert_eq!(runtimes, ["native/default", "wasmtime/aot"]);
    let native = &footprint[0];
    assert_eq!(native["programs"], serde_json::json!({}));
    assert_eq!(native["artifacts"], 2, "gemm at mini and startup");
    let native_bytes = size("kernels/native/gemm.mini") + size("kernels/native/startup");
    assert_eq!(native["artifact_bytes"], native_bytes);
    let aot = &footprint[1];
    let executor = "bin/edgebench-wasmtime-aot";
    assert_eq!(aot["programs"], serde_json::json!({ executor: size(executor) }));
    assert_eq!(aot["artifacts"], 2);
    let cwasm = size("kernels/wasmtime/gemm.mini.cwasm") + size("kernels/wasmtime/startup.cwasm");
    assert_eq!(aot["artifact_bytes"], cwasm);
    assert!(report.contains("## Footprint on the device"), "{report}");
    let mib = format!("{:.2}", size(executor) as f64 / 1_048_576.0);
    assert!(report.contains(&format!("| wasmtime/aot | {mib} | 0.00 | {mib} | 2 |")), "{report}");
}

fn check_reanalyse(snapshot: &std::path::Path, snapshot_records: &[RunRecord]) {
    // The same records against another baseline: derived files only, in a
    // directory of their own; the snapshot is left as it was.
    let snapshot_arg = snapshot.to_str().unwrap();
    let before: Vec<_> = ["records.jsonl", "summary.json", "report.md", "provenance.json"]
        .iter()
        .map(|f| std::fs::read(snapshot.join(f)).unwrap())
        .collect();
    xtask_ok(&["reanalyse", snapshot_arg, "--baseline", "wasmtime/aot"]);
    let derived = snapshot.join("vs-wasmtime-aot");
    let rebased: edgebench_stats::Analysis =
        serde_json::from_value(json(&derived.join("summary.json"))["analysis"].clone()).unwrap();
    assert_eq!(rebased, edgebench_stats::analyse(snapshot_records, &Options::new(Some("wasmtime/aot"))));
    assert!(rebased.ratios.iter().all(|r| r.runtime == "native/default"), "{:?}", rebased.ratios);
    assert!(std::fs::read_to_string(derived.join("report.md")).unwrap().contains("relative to `wasmtime/aot`"));
    assert!(!derived.join("records.jsonl").exists());
    for (f, bytes) in ["records.jsonl", "summary.json", "report.md", "provenance.json"].iter().zip(&before) {
        assert_eq!(&std::fs::read(snapshot.join(f)).unwrap(), bytes, "{f} changed");
    }
    // Without a baseline, the snapshot's own derived files are written again, unchanged.
    xtask_ok(&["reanalyse", snapshot_arg]);
    assert_eq!(std::fs::read(snapshot.join("summary.json")).unwrap(), before[1]);
    let err = xtask_err(&["reanalyse", snapshot_arg, "--baseline", "wasmtime/jot"]);
    assert!(err.contains("unknown baseline `wasmtime/jot`; did you mean `wasmtime/aot`?"), "{err}");
}

fn first_error(name: &str, yaml: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = pipeline(dir.path(), name, yaml);
    let err = xtask_err(&["bench", "--dry-run", "--pipeline", path.to_str().unwrap()]);
    let line = err.lines().find(|l| l.starts_with("error: ")).unwrap_or_else(|| panic!("no error line:\n{err}"));
    line.trim_start_matches("error: ").replace(&format!("{}", path.display()), name)
}

const RUNTIMES: &str = "runtimes:\n  - runtime: native\n";

#[test]
fn pipeline_errors_name_the_file_line_column_and_the_closest_valid_name() {
    let cases: &[(&str, String, &str)] = &[
        ("kernel", format!("kernels: [gemm, jacobi1d]\ndatasets: [mini]\n{RUNTIMES}repetitions: 1\ntimeout_s: 1\n"), "kernel:1:17: unknown kernel or category `jacobi1d`; did you mean `jacobi-1d`?"),
        ("dataset", format!("kernels: [gemm]\ndatasets: [mni]\n{RUNTIMES}repetitions: 1\ntimeout_s: 1\n"), "dataset:2:12: unknown dataset `mni`; did you mean `mini`?"),
        ("runtime", "kernels: [gemm]\ndatasets: [mini]\nruntimes:\n  - runtime: wasmtme\nrepetitions: 1\ntimeout_s: 1\n".into(), "runtime:4:14: unknown runtime `wasmtme`; did you mean `wasmtime`?"),
        ("variant", "kernels: [gemm]\ndatasets: [mini]\nruntimes:\n  - runtime: wasmer\n    variants: [singlpass]\nrepetitions: 1\ntimeout_s: 1\n".into(), "variant:5:16: unknown variant of `wasmer` `singlpass`; did you mean `singlepass`?"),
        ("field", format!("kernels: [gemm]\ndatasets: [mini]\n{RUNTIMES}repetitons: 1\ntimeout_s: 1\n"), "field:5:1: unknown field `repetitons`; did you mean `repetitions`?"),
        ("type", format!("kernels: [gemm]\ndatasets: [mini]\n{RUNTIMES}repetitions: many\ntimeout_s: 1\n"), "type:5:14: `repetitions` must be a whole number from 1 to 100000, not `many`"),
        ("zero", format!("kernels: [gemm]\ndatasets: [mini]\n{RUNTIMES}repetitions: 0\ntimeout_s: 1\n"), "zero:5:14: `repetitions` must be at least 1"),
        ("baseline", format!("kernels: [gemm]\ndatasets: [mini]\n{RUNTIMES}repetitions: 1\ntimeout_s: 1\nbaseline: wasmtime\n"), "baseline:7:11: unknown baseline `wasmtime`"),
        ("template", "kernels: [gemm]\ndatasets: [mini]\nruntimes:\n  - runtime: command\n    variants: [cli]\nrepetitions: 1\ntimeout_s: 1\n".into(), "template:5:16: the `command` runtime needs a `template`"),
        ("option", "kernels: [gemm]\ndatasets: [mini]\nruntimes:\n  - runtime: command\n    variants: [cli]\n    options: { templat: \"x {wasm}\" }\nrepetitions: 1\ntimeout_s: 1\n".into(), "option:6:25: unknown option of runtime `command` `templat`; did you mean `template`?"),
        ("syntax", "kernels: [gemm\ndatasets: [mini]\n".into(), "syntax:2:9:"),
    ];
    for (name, yaml, expected) in cases {
        let err = first_error(name, yaml);
        assert!(err.starts_with(expected), "{name}:\n  got      {err}\n  expected {expected}…");
    }
}

#[test]
fn an_unknown_pipeline_name_gets_a_suggestion() {
    let err = xtask_err(&["bench", "--dry-run", "--pipeline", "defualt"]);
    assert!(err.contains("unknown pipeline `defualt`; did you mean `default`?"), "{err}");
}

/// Exit statuses of `compare --fail-on-regression` (README, "Exit
/// statuses").
const GATE_REGRESSION: i32 = 3;
const GATE_UNDETECTABLE: i32 = 4;

/// A copy of a snapshot with `edit` applied to its records (compare reads
/// the records, never the derived files).
fn edited_copy(
    snapshot: &std::path::Path,
    to: &std::path::Path,
    records: &[RunRecord],
    edit: impl Fn(&mut RunRecord),
) -> Vec<String> {
    std::fs::create_dir_all(to).unwrap();
    let mut edited = records.to_vec();
    edited.iter_mut().for_each(edit);
    let lines: Vec<String> = edited.iter().map(|r| serde_json::to_string(r).unwrap() + "\n").collect();
    std::fs::write(to.join("records.jsonl"), lines.concat()).unwrap();
    for file in ["provenance.json", "plan.json"] {
        std::fs::copy(snapshot.join(file), to.join(file)).unwrap();
    }
    lines
}

#[test]
fn compare_counts_a_real_regression_and_can_gate_on_it() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = "kernels: [gemm]\ndatasets: [mini]\nruntimes:\n  - runtime: native\nrepetitions: 8\ntimeout_s: 60\n";
    let (_, old, records) = bench_with_snapshot(&pipeline(dir.path(), "gate", yaml), &[]);
    let (old_s, gate) = (old.to_str().unwrap(), |args: &[&str]| xtask(args).output().unwrap());

    // A copy of the snapshot whose runs all took a second longer: far beyond
    // any noise, whatever the machine is doing meanwhile.
    let slower = dir.path().join("slower");
    let lines = edited_copy(&old, &slower, &records, |r| r.wall_ns += 1_000_000_000);
    xtask_ok(&["reanalyse", slower.to_str().unwrap()]);
    let slower_s = slower.to_str().unwrap();

    // gemm reports its kernel time, which did not change: by default it
    // decides, and wall time is only described.
    let output = xtask_ok(&["compare", old_s, slower_s, "--all"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("1 primary comparisons: 0 regressed") && stdout.contains("described"), "{stdout}");
    assert!(stdout.contains("unpaired: two sessions, and only 1 primary cell(s)"), "{stdout}");

    let output = xtask_ok(&["compare", old_s, slower_s, "--primary", "wall_ms", "--metrics", "wall_ms"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("gemm/mini/native/default") && stdout.contains("REGRESSED"), "{stdout}");
    assert!(stdout.contains("1 primary comparisons: 1 regressed"), "{stdout}");

    let output = gate(&["compare", old_s, slower_s, "--primary", "wall_ms", "--fail-on-regression"]);
    assert_eq!(output.status.code(), Some(GATE_REGRESSION), "{}", text(&output));
    assert!(String::from_utf8_lossy(&output.stderr).contains("gate: 1 regression(s)"), "{}", text(&output));

    // A gate asked to see a change no comparison can (below the 5 %
    // threshold) does not pass: it says nothing was detectable.
    let same = dir.path().join("same");
    edited_copy(&old, &same, &records, |_| {});
    let output = gate(&["compare", old_s, same.to_str().unwrap(), "--fail-on-regression", "--detect", "0.01"]);
    assert_eq!(output.status.code(), Some(GATE_UNDETECTABLE), "{}", text(&output));
    assert!(String::from_utf8_lossy(&output.stderr).contains("nothing detectable: 1 of 1 primary cells"));
    // Runs without noise can show a change of 10 %: the gate passes.
    let steady = |to: &str| {
        let path = dir.path().join(to);
        edited_copy(&old, &path, &records, |r| {
            r.wall_ns = 1_000_000 + r.repetition as u64;
            if let Some(k) = r.kernel_ns.as_mut() {
                *k = 500_000 + r.repetition as u64;
            }
        });
        path
    };
    let (a, b) = (steady("steady-a"), steady("steady-b"));
    let output = gate(&["compare", a.to_str().unwrap(), b.to_str().unwrap(), "--fail-on-regression"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));

    // The same comparison for other tools.
    let json = xtask_ok(&["compare", old_s, slower_s, "--primary", "wall_ms", "--format", "json"]);
    let value: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(value["counts"]["regressed"], 1, "{value}");
    assert_eq!((value["pairing"].as_str(), value["gate"].as_str()), (Some("independent"), Some("regression")));
    assert_eq!(value["changes"][0]["verdict"], "regressed");
    let markdown = xtask_ok(&["compare", old_s, slower_s, "--primary", "wall_ms", "--format", "markdown"]);
    assert!(String::from_utf8_lossy(&markdown.stdout).contains("| `gemm/mini/native/default` | wall_ms |"));

    // Records that are not all of their plan are refused, not compared.
    let cut: Vec<String> = lines[..lines.len() - 1].to_vec();
    std::fs::write(slower.join("records.jsonl"), cut.concat()).unwrap();
    let err = xtask_err(&["compare", old_s, slower_s]);
    assert!(err.contains("records, but plan") && err.contains("whole snapshots"), "{err}");
}

/// A same-session A/B bench: the same native kernels run as two runtime
/// variants of one plan, round by round, compared pair by pair. Planting a
/// slowdown in one side's records is found; the untouched A/A comparison
/// is paired and tested.
#[test]
fn compare_sides_pairs_two_variants_of_one_session_round_by_round() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = "kernels: [gemm, atax, startup]\ndatasets: [mini]\nruntimes:\n  - runtime: native\n  - runtime: command\n    \
                variants: [same]\n    options: { template: \"{native}\" }\nrepetitions: 12\ntimeout_s: 60\norder: shuffled\n";
    let path = pipeline(dir.path(), "ab", yaml);
    let (_, snapshot, records) = bench_with_snapshot(&path, &[]);
    let snapshot_s = snapshot.to_str().unwrap();
    let sides = ["--sides", "native/default,command/same"];

    // Before the next run, the plan says what it can detect, judged by
    // this snapshot's noise.
    let dry = xtask_ok(&["bench", "--dry-run", "--pipeline", path.to_str().unwrap()]);
    let said = String::from_utf8_lossy(&dry.stdout);
    let line = said.lines().find(|l| l.starts_with("detectable: ")).expect("a detectable line");
    assert!(line.contains("(12 rounds a side") && line.contains(snapshot_s), "{said}");

    let output = xtask_ok(&[&["compare", snapshot_s][..], &sides, &["--format", "json", "--all"]].concat());
    let value: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(value["pairing"], "by_round", "{value}");
    assert_eq!(value["tests"], 3, "one primary test per kernel: {value}");
    let changes = value["changes"].as_array().unwrap();
    let primary: Vec<&Value> = changes.iter().filter(|c| c["primary"] == true).collect();
    assert_eq!(primary.len(), 3);
    for c in &primary {
        assert_eq!((c["pairs"].as_u64(), c["test"].as_str()), (Some(12), Some("signed-rank")), "{c}");
        let metric = if c["key"]["kernel"] == "startup" { "wall_ms" } else { "kernel_ms" };
        assert_eq!(c["metric"], metric, "{c}");
    }

    // One side's gemm runs planted a millisecond slower in kernel time (and
    // a second in wall time): at MINI, hundreds of times its kernel region,
    // far beyond any noise, whatever the machine is doing meanwhile. That
    // cell regresses, and the gate says so.
    let planted = dir.path().join("planted");
    edited_copy(&snapshot, &planted, &records, |r| {
        if r.runtime == "command" && r.kernel == "gemm" {
            r.wall_ns += 1_000_000_000;
            r.kernel_ns = r.kernel_ns.map(|k| k + 1_000_000);
        }
    });
    let output = xtask(&[&["compare", planted.to_str().unwrap()][..], &sides, &["--fail-on-regression"]].concat())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(GATE_REGRESSION), "{}", text(&output));
    assert!(stdout.contains("paired: both sides ran in one session"), "{stdout}");
    assert!(stdout.contains("gemm/mini/command/same") && stdout.contains("REGRESSED"), "{stdout}");

    // Every run of one side's atax failed: no timing to compare, and the
    // worst regression there is. The gate says so instead of skipping it.
    let broken = dir.path().join("broken");
    edited_copy(&snapshot, &broken, &records, |r| {
        if r.runtime == "command" && r.kernel == "atax" {
            r.outcome = edgebench_model::record::Outcome::Exit { code: 1, message: "broken".into() };
        }
    });
    let output = xtask(&[&["compare", broken.to_str().unwrap()][..], &sides, &["--fail-on-regression"]].concat())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(GATE_REGRESSION), "{}", text(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("LOST: 1 cell(s)"), "{}", text(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("`atax/mini/command/same`"), "{}", text(&output));
}

/// `calibrate` runs the start-up pipeline and then the harness binary and
/// hyperfine on the native start-up kernel, in alternating rounds; both
/// sides' times are kept in the snapshot.
#[test]
fn calibrate_compares_the_harness_with_hyperfine_and_keeps_both_sides() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = "kernels: [startup]\ndatasets: [mini]\nruntimes:\n  - runtime: native\n  - runtime: wasmtime\n    \
                variants: [aot]\nrepetitions: 5\ntimeout_s: 30\nbaseline: native\n";
    let path = pipeline(dir.path(), "calibrate-test", yaml);
    let output = xtask_ok(&["calibrate", "--pipeline", path.to_str().unwrap(), "--hyperfine-runs", "20"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("native") && stdout.contains("wasmtime/aot"), "{stdout}");
    let snapshot = PathBuf::from(stdout.lines().find_map(|l| l.strip_prefix("snapshot: ")).expect("a snapshot line"));
    let calibration = snapshot.join("calibration");
    let harness = json(&calibration.join("harness.json"));
    let walls = harness["wall_ms"].as_array().unwrap();
    // 10 rounds of ceil(20 / 10) = 2 measured runs each, warm-ups left out.
    assert_eq!(walls.len(), 20, "{harness}");
    assert!(walls.iter().all(|w| w.as_f64().is_some_and(|w| w > 0.0)));
    assert_eq!(harness["max_rss_floor_kib"].as_array().unwrap().len(), 20);
    for round in 0..10 {
        let export = json(&calibration.join(format!("hyperfine-round-{round}.json")));
        assert_eq!(export["results"][0]["times"].as_array().unwrap().len(), 2, "round {round}");
    }
    let comparison = std::fs::read_to_string(calibration.join("harness-vs-hyperfine.txt")).unwrap();
    assert!(comparison.contains("harness ÷ hyperfine = "), "{comparison}");
    assert!(stdout.contains(&comparison), "the comparison is printed as kept");
    assert!(!calibration.join("scratch").exists(), "the harness's scratch plans are cleaned up");
}

/// `cpus` pins every measured child: a `command` run that is `grep`
/// finding its own affinity in `/proc/self/status` succeeds only if it was
/// pinned. The environment before and after lands in the report.
#[test]
fn cpus_pin_every_measured_run_and_the_environment_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = "kernels: [startup]\ndatasets: [mini]\nruntimes:\n  - runtime: native\n  - runtime: command\n    \
                variants: [affinity]\n    options: { template: \"grep -q Cpus_allowed_list:.0$ /proc/self/status {native}\" }\n\
                repetitions: 2\ntimeout_s: 30\ncpus: [0]\n";
    let (_, snapshot, records) = bench_with_snapshot(&pipeline(dir.path(), "pinned", yaml), &[]);
    assert_eq!(records.len(), 4);
    assert!(records.iter().all(|r| r.outcome.is_ok()), "{records:#?}");
    let provenance = json(&snapshot.join("provenance.json"));
    assert_eq!(provenance["plan"]["cpus"], serde_json::json!([0]));
    for when in ["device_before", "device_after"] {
        assert_eq!(provenance[when]["load_average"].as_array().map(Vec::len), Some(3), "{when}");
        assert!(provenance[when]["busiest_processes"].is_array(), "{when}");
    }
    let report = std::fs::read_to_string(snapshot.join("report.md")).unwrap();
    assert!(report.contains("- Measured runs: pinned to CPU(s) 0"), "{report}");
    assert!(report.contains("- before the runs: load average "), "{report}");

    // Unpinned, the same check fails on a machine with more than one CPU:
    // the test above is not passing by accident.
    if std::thread::available_parallelism().map_or(1, |n| n.get()) > 1 {
        let unpinned = yaml.replace("cpus: [0]\n", "").replace("native\n  - runtime: command", "command");
        let (_, _, records) = bench_with_snapshot(&pipeline(dir.path(), "unpinned", &unpinned), &[]);
        assert!(records.iter().all(|r| !r.outcome.is_ok()), "{records:#?}");
    }

    // A CPU the machine lacks stops the bench before any run.
    let missing = yaml.replace("cpus: [0]", "cpus: [1000]");
    let err =
        xtask_err(&["bench", "--quiet", "--pipeline", pipeline(dir.path(), "missing", &missing).to_str().unwrap()]);
    assert!(err.contains("CPU 1000, which this device does not offer"), "{err}");
    // It would fail the same way resumed: the cause first.
    assert!(err.contains("Fix the cause it names, then run the bench again with --resume"), "{err}");
}
