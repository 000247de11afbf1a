//! A snapshot in the formats continuous-benchmarking tools read:
//!
//! - [Bencher's metric format](https://bencher.dev/docs/reference/bencher-metric-format)
//!   (BMF JSON): one benchmark per cell, one measure per metric, the median
//!   with its 95 % interval as `lower_value` and `upper_value`;
//! - github-action-benchmark's `customSmallerIsBetter` JSON: one entry per
//!   cell and metric, the median, its interval in `range`, where it came
//!   from in `extra`;
//! - hyperfine's `--export-json` shape: one result per cell, its verified
//!   runs' wall times in seconds, as hyperfine itself writes them, so tools
//!   made for hyperfine's files (its scripts, plotters) read ours.
//!
//! Every figure is one the snapshot's analysis states (verified runs only);
//! nothing is recomputed here but hyperfine's own descriptive statistics
//! from the runs.

use std::collections::BTreeMap;

use edgebench_model::record::RunRecord;
use edgebench_stats::Analysis;
use edgebench_stats::analysis::{CellKey, WALL_MS};
use serde_json::{Value, json};

/// Where the figures came from, for the formats that carry a note.
pub struct Origin<'a> {
    pub snapshot: &'a str,
    pub revision: &'a str,
    pub target: &'a str,
}

/// The unit of one of our metrics, by its name's suffix.
fn unit(metric: &str) -> &'static str {
    if metric.ends_with("_ms") {
        "ms"
    } else if metric.ends_with("_mib") {
        "MiB"
    } else if metric.ends_with("_millions") {
        "millions"
    } else {
        ""
    }
}

/// Bencher's metric format: `{ benchmark: { measure: { value, lower_value,
/// upper_value } } }`, a benchmark per cell, a measure per metric (named as
/// the metric, which says its unit).
pub fn bencher(analysis: &Analysis, metrics: &[String]) -> Value {
    let mut out = serde_json::Map::new();
    for cell in &analysis.cells {
        let mut measures = serde_json::Map::new();
        for (metric, summary) in cell.metrics.iter().filter(|(m, _)| chosen(metrics, m)) {
            let mut value = json!({ "value": summary.median });
            if let Some((lo, hi)) = summary.median_ci95 {
                value["lower_value"] = json!(lo);
                value["upper_value"] = json!(hi);
            }
            measures.insert(metric.clone(), value);
        }
        if !measures.is_empty() {
            out.insert(cell.key.label(), Value::Object(measures));
        }
    }
    Value::Object(out)
}

/// github-action-benchmark's `customSmallerIsBetter`: `[{ name, unit,
/// value, range, extra }]`, every metric of ours being smaller-is-better.
pub fn github_action_benchmark(analysis: &Analysis, metrics: &[String], origin: &Origin<'_>) -> Value {
    let mut out = Vec::new();
    for cell in &analysis.cells {
        for (metric, summary) in cell.metrics.iter().filter(|(m, _)| chosen(metrics, m)) {
            let mut entry = json!({
                "name": format!("{} {metric}", cell.key.label()),
                "unit": unit(metric),
                "value": summary.median,
                "extra": format!(
                    "median of {} verified runs on {}; snapshot {} at {}",
                    summary.n, origin.target, origin.snapshot, origin.revision
                ),
            });
            if let Some((lo, hi)) = summary.median_ci95 {
                entry["range"] = json!(format!("{lo:.6} to {hi:.6} (95 %)"));
            }
            out.push(entry);
        }
    }
    Value::Array(out)
}

/// hyperfine's `--export-json`: `{ results: [{ command, mean, stddev,
/// median, user, system, min, max, times, exit_codes }] }`, in seconds, one
/// result per cell over its verified measured runs (their wall time, and
/// their user and system CPU time).
pub fn hyperfine(analysis: &Analysis, records: &[RunRecord]) -> Value {
    let verified = edgebench_stats::samples(records);
    let mut runs: BTreeMap<CellKey, Vec<&RunRecord>> = BTreeMap::new();
    for r in records.iter().filter(|r| !r.warmup && r.outcome.is_ok()) {
        runs.entry(CellKey::of(r)).or_default().push(r);
    }
    let mut results = Vec::new();
    for cell in &analysis.cells {
        let Some(wall) = verified.get(&cell.key).and_then(|m| m.get(WALL_MS)) else { continue };
        let rounds: Vec<u32> = wall.iter().map(|(round, _)| *round).collect();
        // The verified runs themselves: ok, and of a round the analysis kept.
        let kept: Vec<&RunRecord> = runs
            .get(&cell.key)
            .map(|rs| rs.iter().copied().filter(|r| rounds.contains(&r.repetition)).collect())
            .unwrap_or_default();
        let seconds = |ms: f64| ms / 1e3;
        let times: Vec<f64> = wall.iter().map(|(_, ms)| seconds(*ms)).collect();
        let mean = |xs: &[f64]| xs.iter().sum::<f64>() / xs.len() as f64;
        let user: Vec<f64> = kept.iter().map(|r| r.user_ns as f64 / 1e9).collect();
        let system: Vec<f64> = kept.iter().map(|r| r.sys_ns as f64 / 1e9).collect();
        let summary = &cell.metrics[WALL_MS];
        results.push(json!({
            "command": cell.key.label(),
            "mean": seconds(summary.mean),
            "stddev": summary.stddev.map(seconds),
            "median": seconds(summary.median),
            "user": if user.is_empty() { 0.0 } else { mean(&user) },
            "system": if system.is_empty() { 0.0 } else { mean(&system) },
            "min": seconds(summary.min),
            "max": seconds(summary.max),
            "times": times,
            "exit_codes": vec![0; wall.len()],
        }));
    }
    json!({ "results": results })
}

fn chosen(metrics: &[String], metric: &str) -> bool {
    metrics.is_empty() || metrics.iter().any(|m| m == metric)
}
