//! The table printed at the end of a bench: per cell, how many runs were ok
//! and the medians that matter, with the ratio to the baseline.

use std::fmt::Write;

use edgebench_stats::analysis::{KERNEL_MS, PEAK_MEMORY_MIB, WALL_MS, WORKLOAD_PEAK_MIB};
use edgebench_stats::{Analysis, CellSummary};

pub fn table(analysis: &Analysis) -> String {
    let mut rows = vec![[
        "kernel".to_string(),
        "dataset".into(),
        "runtime".into(),
        "ok".into(),
        "wall ms (median)".into(),
        "median's 95% CI".into(),
        "kernel ms".into(),
        "peak MiB".into(),
        format!("wall ÷ {}", analysis.baseline.as_deref().unwrap_or("baseline")),
    ]];
    for cell in &analysis.cells {
        let wall = cell.metric(WALL_MS);
        let ratio = analysis
            .ratios
            .iter()
            .find(|r| {
                r.metric == WALL_MS
                    && r.kernel == cell.key.kernel
                    && r.dataset == cell.key.dataset
                    && r.runtime == cell.key.runtime_label()
            })
            .map(|r| format!("{:.2}", r.ratio.value))
            .unwrap_or_else(|| "".into());
        rows.push([
            cell.key.kernel.clone(),
            cell.key.dataset.to_string(),
            cell.key.runtime_label(),
            ok_column(cell),
            wall.map(|s| format!("{:.3}", s.median)).unwrap_or_else(|| "—".into()),
            wall.and_then(|s| s.median_ci95).map(|(lo, hi)| format!("{lo:.3}–{hi:.3}")).unwrap_or_else(|| "—".into()),
            cell.metric(KERNEL_MS).map(|s| format!("{:.3}", s.median)).unwrap_or_else(|| "—".into()),
            peak(cell).map(|m| format!("{m:.1}")).unwrap_or_else(|| "—".into()),
            ratio,
        ]);
    }
    render(&rows)
}

/// `ok/measured`, with the failure kinds when some failed.
fn ok_column(cell: &CellSummary) -> String {
    let mut s = format!("{}/{}", cell.ok_runs, cell.measured_runs);
    if !cell.failures.is_empty() {
        let kinds: Vec<String> = cell.failures.iter().map(|(k, n)| format!("{n} {k}")).collect();
        let _ = write!(s, " ({})", kinds.join(", "));
    }
    s
}

/// Runtimes whose measured process is a client, not the workload: their
/// max RSS is never shown as the workload's memory (the study's mistake).
const CLIENT_RUNTIMES: &[&str] = &["docker"];

/// The workload's own peak memory (see [`WORKLOAD_PEAK_MIB`]); none for a
/// client-type runtime whose executor could not measure it.
pub fn workload_peak(cell: &CellSummary) -> Option<&edgebench_stats::Summary> {
    if CLIENT_RUNTIMES.contains(&cell.key.runtime.as_str()) && cell.metric(PEAK_MEMORY_MIB).is_none() {
        return None;
    }
    cell.metric(WORKLOAD_PEAK_MIB)
}

pub fn peak(cell: &CellSummary) -> Option<f64> {
    workload_peak(cell).map(|s| s.median)
}

fn render<const N: usize>(rows: &[[String; N]]) -> String {
    let mut widths = [0usize; N];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for (i, row) in rows.iter().enumerate() {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .enumerate()
            .map(|(c, (cell, w))| if c < 3 { format!("{cell:<w$}") } else { format!("{cell:>w$}") })
            .collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
        if i == 0 {
            let rule: Vec<String> = widths.iter().map(|w| "─".repeat(*w)).collect();
            let _ = writeln!(out, "{}", rule.join("  "));
        }
    }
    out
}

/// The `--json` output of a bench: where everything went, and per cell the
/// counts and medians a script is most likely to want.
pub fn json(analysis: &Analysis, run_dir: &std::path::Path, snapshot: &std::path::Path) -> serde_json::Value {
    let cells: Vec<serde_json::Value> = analysis
        .cells
        .iter()
        .map(|c| {
            serde_json::json!({
                "kernel": c.key.kernel,
                "dataset": c.key.dataset,
                "runtime": c.key.runtime,
                "variant": c.key.variant,
                "ok_runs": c.ok_runs,
                "measured_runs": c.measured_runs,
                "failures": c.failures,
                "wall_ms_median": c.metric(WALL_MS).map(|s| s.median),
                "kernel_ms_median": c.metric(KERNEL_MS).map(|s| s.median),
                "peak_mib_median": peak(c),
            })
        })
        .collect();
    serde_json::json!({
        "results": run_dir,
        "snapshot": snapshot,
        "summary": snapshot.join("summary.json"),
        "cells": cells,
    })
}
