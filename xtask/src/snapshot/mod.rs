//! The snapshot wing: `results/<target>/<pipeline>/<UTC timestamp>/` with
//! the raw records, the plan that made them, the summary (JSON and CSV), the
//! report, the plots and the provenance. Everything but the records, the
//! plan and the provenance is derived, and can be derived again from them.
//! Also the console table a bench prints.
//!
//! Depends on `device` (the target a snapshot describes).

pub mod charts;
pub mod console;
pub mod detectable;
pub mod exports;
pub mod footprint;
pub mod formats;
pub mod glance;
pub mod html;
pub mod plot;
pub mod provenance;
pub mod report;
pub mod style;

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use edgebench_model::digest::sha256_hex;
use edgebench_model::plan::{Order, Plan};
use edgebench_model::record::RunRecord;
use edgebench_model::rundir::PLAN_FILE;
use edgebench_stats::{Analysis, Options};
use serde::{Deserialize, Serialize};

use crate::device::session;
use crate::project;
use provenance::Provenance;

/// 2: `summary.json` names the records it was derived from (their sha256).
/// 3: one estimator, the median: bootstrap intervals of medians, ratios of
/// medians paired by round, two intervals per geometric mean, round shifts.
pub const SUMMARY_SCHEMA: u32 = 3;

pub const RECORDS_FILE: &str = "records.jsonl";
pub const PROVENANCE_FILE: &str = "provenance.json";
pub const SUMMARY_FILE: &str = "summary.json";

/// `summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryFile {
    pub schema: u32,
    pub pipeline: String,
    pub target: String,
    pub plan_id: String,
    /// The sha256 of the `records.jsonl` this summary was derived from.
    #[serde(default)]
    pub records_sha256: String,
    pub analysis: Analysis,
}

/// The results root: `results/`, or `EDGEBENCH_RESULTS_DIR` (tests).
pub fn results_root() -> PathBuf {
    match std::env::var_os("EDGEBENCH_RESULTS_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => project::root().join("results"),
    }
}

/// Whether a snapshot of `pipeline` on `target` can be written, checked
/// before the runs: a folder found read-only only after them would leave
/// finished runs that never become a snapshot.
pub fn check_writable(target: &str, pipeline: &str) -> Result<()> {
    let dir = results_root().join(target).join(pipeline);
    let probe = dir.join(format!(".write-check-{}", std::process::id()));
    let written = fs::create_dir_all(&dir).and_then(|()| fs::write(&probe, b"")).and_then(|()| fs::remove_file(&probe));
    written.with_context(|| {
        format!(
            "the snapshot will be written to {}, which cannot be written; fix that (or set EDGEBENCH_RESULTS_DIR \
             to another folder) before the runs",
            dir.display()
        )
    })
}

/// The newest snapshot directory in `dir` other than `except` (their
/// names are UTC stamps, so the last in order is the newest).
pub fn newest_in(dir: &Path, except: Option<&Path>) -> Result<Option<PathBuf>> {
    let mut found: Vec<PathBuf> = fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join(RECORDS_FILE).is_file() && except.is_none_or(|e| p.file_name() != e.file_name()))
        .collect();
    found.sort();
    Ok(found.pop())
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
    write_atomically(&dir.join(RECORDS_FILE), raw.as_bytes())?;
    write_atomically(&dir.join(PLAN_FILE), (serde_json::to_string_pretty(plan)? + "\n").as_bytes())?;
    write_atomically(&dir.join(PROVENANCE_FILE), (serde_json::to_string_pretty(provenance)? + "\n").as_bytes())?;
    // The raw files are the snapshot; everything else derives from them.
    render(&dir, records, &sha256_hex(raw.as_bytes()), analysis, provenance).with_context(|| {
        format!(
            "{} holds the records, plan and provenance, but its derived files could not all be written; once the \
             cause is fixed (a full disk?), `cargo xtask reanalyse {}` completes it",
            dir.display(),
            dir.display()
        )
    })?;
    Ok(dir)
}

/// The analysis of a plan's records against `baseline`: paired by round
/// unless the plan ran each cell's runs back to back.
pub fn analyse(records: &[RunRecord], baseline: Option<&str>, order: Order) -> Analysis {
    edgebench_stats::analyse(records, &Options { rounds: order != Order::Sequential, ..Options::new(baseline) })
}

/// A snapshot's records and the sha256 of their file.
pub fn read_records(dir: &Path) -> Result<(Vec<RunRecord>, String)> {
    let path = dir.join(RECORDS_FILE);
    let bytes =
        fs::read(&path).with_context(|| format!("{} is not a snapshot (no readable {RECORDS_FILE})", dir.display()))?;
    Ok((session::parse_records(&path, &bytes)?, sha256_hex(&bytes)))
}

/// The records are those of the plan the provenance describes: as many as
/// it had runs, all of its id. A snapshot whose records were edited or cut
/// would otherwise be analysed as if it were whole.
pub fn records_match_plan(dir: &Path, records: &[RunRecord], provenance: &Provenance, force: &str) -> Result<()> {
    let plan = &provenance.plan;
    if let Some(other) = records.iter().find(|r| r.plan_id != plan.id) {
        bail!(
            "{}: run {} belongs to plan {}, but the provenance names plan {} {force}",
            dir.join(RECORDS_FILE).display(),
            other.run,
            other.plan_id,
            plan.id
        );
    }
    let runs = plan.runs_run();
    if records.len() != runs {
        bail!(
            "{}: {} records, but plan {} ran {} runs {force}",
            dir.join(RECORDS_FILE).display(),
            records.len(),
            plan.id,
            runs
        );
    }
    // As many records, but one run twice and another missing (a record
    // replaced by a copy of another), or a run the plan never had (or an
    // adaptive plan never reached).
    let mut seen = vec![false; runs];
    for r in records {
        match seen.get_mut(r.run) {
            None => bail!(
                "{}: run {} is outside plan {}, which had runs 0 to {} {force}",
                dir.join(RECORDS_FILE).display(),
                r.run,
                plan.id,
                runs.saturating_sub(1)
            ),
            Some(true) => bail!(
                "{}: run {} is recorded twice (and another run of plan {} not at all) {force}",
                dir.join(RECORDS_FILE).display(),
                r.run,
                plan.id
            ),
            Some(slot) => *slot = true,
        }
    }
    Ok(())
}

/// The records are the ones the derived files were made from: the sha256
/// `summary.json` names (where it names one) is theirs. Records edited
/// after the fact would otherwise be derived again as if they were the
/// evidence.
pub fn records_match_summary(dir: &Path, records_sha256: &str, force: &str) -> Result<()> {
    let Ok(text) = fs::read_to_string(dir.join(SUMMARY_FILE)) else {
        return Ok(());
    };
    let named = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v["records_sha256"].as_str().map(String::from))
        .unwrap_or_default();
    if !named.is_empty() && named != records_sha256 {
        bail!(
            "{}: its sha256 is {records_sha256}, but {SUMMARY_FILE} was derived from records with sha256 {named}: the records changed since; restore them from the repository's history {force}",
            dir.join(RECORDS_FILE).display()
        );
    }
    Ok(())
}

/// A snapshot's `provenance.json`.
pub fn read_provenance(dir: &Path) -> Result<Provenance> {
    read_json(dir, PROVENANCE_FILE)
}

fn read_json<T: serde::de::DeserializeOwned>(dir: &Path, file: &str) -> Result<T> {
    let path = dir.join(file);
    let text = fs::read_to_string(&path).with_context(|| format!("{} is not a snapshot (no {file})", dir.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{}: not what this version of edgebench reads", path.display()))
}

/// Writes the derived files of a snapshot — summary, CSV exports, plots and
/// the Markdown and HTML reports — each atomically, and removes plots this analysis no longer
/// makes.
pub fn render(
    dir: &Path,
    records: &[RunRecord],
    records_sha256: &str,
    analysis: &Analysis,
    provenance: &Provenance,
) -> Result<()> {
    let summary = SummaryFile {
        schema: SUMMARY_SCHEMA,
        pipeline: provenance.plan.pipeline.clone(),
        target: provenance.target.name.clone(),
        plan_id: provenance.plan.id.clone(),
        records_sha256: records_sha256.to_string(),
        analysis: analysis.clone(),
    };
    write_atomically(&dir.join(SUMMARY_FILE), (serde_json::to_string_pretty(&summary)? + "\n").as_bytes())?;
    for (name, bytes) in exports::all(analysis)? {
        write_atomically(&dir.join(name), &bytes)?;
    }
    let plots = charts::all(analysis, &kernel_categories(), provenance.target.emulator.as_deref());
    let plot_dir = dir.join("plots");
    // Plots are written, and stale ones removed, in the snapshot's own
    // directory: never through a link into somewhere else (another
    // snapshot's plots, say).
    if fs::symlink_metadata(&plot_dir).is_ok_and(|m| !m.is_dir()) {
        bail!(
            "{} is not a directory of this snapshot's own (a link or a file): remove it, and the plots are made again",
            plot_dir.display()
        );
    }
    crate::project::make_dir(&plot_dir)?;
    for (name, svg) in &plots {
        write_atomically(&plot_dir.join(name), svg.as_bytes())?;
    }
    let names: Vec<String> = plots.iter().map(|(n, _)| n.clone()).collect();
    remove_other_plots(&plot_dir, &names)?;
    write_atomically(&dir.join("report.md"), report::markdown(records, analysis, provenance, &names).as_bytes())?;
    write_atomically(&dir.join(html::HTML_FILE), html::render(records, analysis, provenance, &plots).as_bytes())
}

/// Each kernel's category, from the kernel suite (empty if it cannot be
/// read: the charts then put every kernel under "other").
fn kernel_categories() -> std::collections::BTreeMap<String, String> {
    crate::planning::suite::load()
        .map(|suite| suite.kernels.iter().map(|k| (k.name.clone(), k.category.clone())).collect())
        .unwrap_or_default()
}

/// Plots of an earlier analysis that this one does not make (a baseline
/// whose runtime is gone, say) would be read as current: they go.
fn remove_other_plots(plot_dir: &Path, keep: &[String]) -> Result<()> {
    for entry in fs::read_dir(plot_dir)?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".svg") && !keep.contains(&name) {
            fs::remove_file(entry.path()).with_context(|| format!("removing {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// Writes a file so that it is never seen half-written: a temporary file
/// beside it, renamed over it.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.partial"));
    fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    fs::rename(&tmp, path).with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))
}
