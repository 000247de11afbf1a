//! `cargo xtask export`: a checked-in snapshot in the formats other tools
//! read, each checked against that format's published shape — Bencher's
//! BMF JSON schema, github-action-benchmark's custom benchmark entries, and
//! a file hyperfine itself writes.

mod common;

use std::collections::BTreeSet;
use std::process::Command;

use common::*;
use serde_json::Value;

/// An A/A bench of two revisions: every cell verified, 80 rounds.
const SNAPSHOT: &str = "results/local/ci/20261207T054039Z";

fn export(format: &str, extra: &[&str]) -> Value {
    let mut args = vec!["export", SNAPSHOT, "--format", format];
    args.extend_from_slice(extra);
    let output = xtask_ok(&args);
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{format}: {e}\n{}", text(&output)))
}

/// The snapshot's own figures: cell → metric → (median, interval).
fn summary() -> Value {
    let text = std::fs::read_to_string(root().join(SNAPSHOT).join("summary.json")).unwrap();
    serde_json::from_str::<Value>(&text).unwrap()["analysis"].clone()
}

fn median_of(summary: &Value, cell: &str, metric: &str) -> f64 {
    let cells = summary["cells"].as_array().unwrap();
    let found = cells.iter().find(|c| {
        let k = &c["key"];
        format!(
            "{}/{}/{}/{}",
            k["kernel"].as_str().unwrap(),
            k["dataset"].as_str().unwrap(),
            k["runtime"].as_str().unwrap(),
            k["variant"].as_str().unwrap()
        ) == cell
    });
    found.unwrap_or_else(|| panic!("no cell {cell}"))["metrics"][metric]["median"].as_f64().unwrap()
}

#[test]
fn bencher_metric_format_follows_its_schema_and_the_snapshot() {
    let bmf = export("bencher", &[]);
    // The published JSON schema: an object of benchmarks, each an object of
    // measures, each with a number `value` and optional number bounds.
    let benchmarks = bmf.as_object().expect("an object of benchmarks");
    assert_eq!(benchmarks.len(), 40, "every cell of both sides");
    let summary = summary();
    for (name, measures) in benchmarks {
        assert!(!name.is_empty() && name.len() <= 1024, "{name}");
        for (measure, metric) in measures.as_object().expect("an object of measures") {
            assert!(measure.len() <= 64, "{measure}");
            let keys: BTreeSet<&str> = metric.as_object().unwrap().keys().map(String::as_str).collect();
            assert!(keys.contains("value") && keys.iter().all(|k| ["value", "lower_value", "upper_value"].contains(k)));
            let value = metric["value"].as_f64().unwrap();
            let (lo, hi) = (metric["lower_value"].as_f64().unwrap(), metric["upper_value"].as_f64().unwrap());
            assert!(lo <= value && value <= hi, "{name} {measure}: {lo} {value} {hi}");
            assert_eq!(value, median_of(&summary, name, measure), "{name} {measure}");
        }
    }
    let only = export("bencher", &["--metrics", "kernel_ms"]);
    assert!(only.as_object().unwrap().values().all(|m| m.as_object().unwrap().keys().all(|k| k == "kernel_ms")));
}

#[test]
fn github_action_benchmark_entries_are_custom_smaller_is_better() {
    let entries = export("github-action-benchmark", &["--metrics", "kernel_ms,wall_ms"]);
    let entries = entries.as_array().expect("an array of benchmark results");
    // The action reads `name`, `unit` and `value` (required) and `range`
    // and `extra` (optional strings); names must not repeat.
    let mut names = BTreeSet::new();
    for e in entries {
        assert!(e["name"].is_string() && e["unit"] == "ms" && e["value"].is_f64(), "{e}");
        assert!(e["range"].is_string() && e["extra"].as_str().unwrap().contains(SNAPSHOT), "{e}");
        assert!(names.insert(e["name"].as_str().unwrap().to_string()), "{e}");
    }
    // 40 cells with wall time, 32 with a kernel time (not the start-up kernel's).
    assert_eq!(entries.len(), 40 + 32);
}

#[test]
fn hyperfine_shape_is_the_one_hyperfine_writes() {
    let ours = export("hyperfine", &[]);
    // A file hyperfine writes itself, for its keys.
    let dir = tempfile::tempdir().unwrap();
    let theirs_path = dir.path().join("hyperfine.json");
    let status = Command::new("hyperfine")
        .args(["-N", "--runs", "2", "--export-json"])
        .arg(&theirs_path)
        .arg("true")
        .status()
        .expect("hyperfine is installed for the tests");
    assert!(status.success());
    let theirs: Value = serde_json::from_str(&std::fs::read_to_string(&theirs_path).unwrap()).unwrap();
    let keys = |v: &Value| -> BTreeSet<String> { v.as_object().unwrap().keys().cloned().collect() };
    assert_eq!(keys(&ours), keys(&theirs));
    let result_keys = keys(&theirs["results"][0]);
    let results = ours["results"].as_array().unwrap();
    assert_eq!(results.len(), 40);
    let summary = summary();
    for r in results {
        assert_eq!(keys(r), result_keys, "{r}");
        let times = r["times"].as_array().unwrap();
        assert_eq!(times.len(), 80);
        assert_eq!(r["exit_codes"].as_array().unwrap().len(), 80);
        // Seconds, and the snapshot's own median.
        let median_ms = median_of(&summary, r["command"].as_str().unwrap(), "wall_ms");
        assert!((r["median"].as_f64().unwrap() * 1e3 - median_ms).abs() < 1e-9, "{r}");
    }
    let err = xtask_err(&["export", SNAPSHOT, "--format", "hyperfine", "--metrics", "kernel_ms"]);
    assert!(err.contains("hyperfine's shape holds wall times only"), "{err}");
    let err = xtask_err(&["export", SNAPSHOT, "--format", "bencher", "--metrics", "wal_ms"]);
    assert!(err.contains("unknown metric `wal_ms`; did you mean `wall_ms`?"), "{err}");
}
