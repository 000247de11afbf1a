//! The snapshot wing: `results/<target>/<pipeline>/<UTC timestamp>/` with
//! the raw records, the plan that made them, the summary (JSON and CSV), the
//! report, the plots and the provenance. Everything but the records, the
//! plan and the provenance is derived, and can be derived again from them.
//! Also the console table a bench prints.
//!
//! Depends on `device` (the target a snapshot describes).

pub mod console;
pub mod plot;
pub mod provenance;
pub mod report;

use std::fmt::Write;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use edgebench_model::plan::Plan;
use edgebench_model::record::RunRecord;
use edgebench_model::rundir::PLAN_FILE;
use edgebench_stats::Analysis;
use serde::{Deserialize, Serialize};

use crate::project;
use provenance::Provenance;

pub const SUMMARY_SCHEMA: u32 = 1;

/// `summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryFile {
    pub schema: u32,
    pub pipeline: String,
    pub target: String,
    pub plan_id: String,
    pub analysis: Analysis,
}

/// The results root: `results/`, or `EDGEBENCH_RESULTS_DIR` (tests).
pub fn results_root() -> PathBuf {
    match std::env::var_os("EDGEBENCH_RESULTS_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => project::root().join("results"),
    }
}

pub fn write(
    plan: &Plan,
    records: &[RunRecord],
    analysis: &Analysis,
    provenance: &Provenance,
    stamp: &str,
) -> Result<PathBuf> {
    let base = results_root().join(&provenance.target.name).join(&provenance.plan.pipeline);
    let mut dir = base.join(stamp);
    let mut n = 1;
    while dir.exists() {
        n += 1;
        dir = base.join(format!("{stamp}-{n}"));
    }
    fs::create_dir_all(dir.join("plots")).with_context(|| format!("creating {}", dir.display()))?;

    let mut raw = String::new();
    for r in records {
        raw.push_str(&serde_json::to_string(r)?);
        raw.push('\n');
    }
    fs::write(dir.join("records.jsonl"), raw)?;
    fs::write(dir.join(PLAN_FILE), serde_json::to_string_pretty(plan)? + "\n")?;
    fs::write(dir.join("provenance.json"), serde_json::to_string_pretty(provenance)? + "\n")?;
    render(&dir, records, analysis, provenance)?;
    Ok(dir)
}

/// A snapshot's `summary.json`.
pub fn read_summary(dir: &Path) -> Result<SummaryFile> {
    read_json(dir, "summary.json")
}

/// A snapshot's `provenance.json`.
pub fn read_provenance(dir: &Path) -> Result<Provenance> {
    read_json(dir, "provenance.json")
}

fn read_json<T: serde::de::DeserializeOwned>(dir: &Path, file: &str) -> Result<T> {
    let path = dir.join(file);
    let text = fs::read_to_string(&path).with_context(|| format!("{} is not a snapshot (no {file})", dir.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{}: not what this version of edgebench reads", path.display()))
}

/// Writes the derived files of a snapshot: summary, report, plots.
pub fn render(dir: &Path, records: &[RunRecord], analysis: &Analysis, provenance: &Provenance) -> Result<()> {
    let summary = SummaryFile {
        schema: SUMMARY_SCHEMA,
        pipeline: provenance.plan.pipeline.clone(),
        target: provenance.target.name.clone(),
        plan_id: provenance.plan.id.clone(),
        analysis: analysis.clone(),
    };
    fs::write(dir.join("summary.json"), serde_json::to_string_pretty(&summary)? + "\n")?;
    fs::write(dir.join("summary.csv"), csv(analysis))?;
    let plots = report::plots(analysis, provenance.target.emulator.as_deref());
    fs::create_dir_all(dir.join("plots"))?;
    for (name, svg) in &plots {
        fs::write(dir.join("plots").join(name), svg)?;
    }
    let names: Vec<String> = plots.into_iter().map(|(n, _)| n).collect();
    fs::write(dir.join("report.md"), report::markdown(records, analysis, provenance, &names))?;
    Ok(())
}

/// One row per cell and metric.
pub fn csv(analysis: &Analysis) -> String {
    let mut out = String::from(
        "kernel,dataset,runtime,variant,metric,n,mean,median,min,max,stddev,cv,ci95_low,ci95_high,outliers,ok_runs,measured_runs\n",
    );
    let opt = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    for c in &analysis.cells {
        for (metric, s) in &c.metrics {
            let _ = writeln!(
                out,
                "{},{},{},{},{metric},{},{},{},{},{},{},{},{},{},{},{},{}",
                c.key.kernel,
                c.key.dataset,
                c.key.runtime,
                c.key.variant,
                s.n,
                s.mean,
                s.median,
                s.min,
                s.max,
                opt(s.stddev),
                opt(s.cv),
                opt(s.ci95.map(|c| c.0)),
                opt(s.ci95.map(|c| c.1)),
                s.outliers,
                c.ok_runs,
                c.measured_runs
            );
        }
    }
    out
}
