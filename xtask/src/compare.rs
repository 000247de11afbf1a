//! `cargo xtask compare OLD [NEW]`: what changed between two snapshots. A
//! change counts only when Welch's t-test finds it significant (adjusted for
//! the number of tests) and it is larger than a noise threshold;
//! `--fail-on-regression` turns a counted slowdown (or growth in memory) into
//! a failing exit status, for CI gates.

use std::collections::BTreeSet;
use std::fmt::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use edgebench_stats::analysis::{KERNEL_MS, MAX_RSS_MIB, PEAK_MEMORY_MIB, WALL_MS};
use edgebench_stats::{Change, Verdict};

use crate::flags::{CompareArgs, Format};
use crate::planning::suggestions;
use crate::snapshot;

const DEFAULT_METRICS: &[&str] = &[WALL_MS, KERNEL_MS, MAX_RSS_MIB, PEAK_MEMORY_MIB];

/// A finished comparison, in any format.
struct Comparison<'a> {
    args: &'a CompareArgs,
    old: &'a Path,
    new: &'a Path,
    changes: Vec<Change>,
}

pub fn run(args: &CompareArgs) -> Result<()> {
    let old_dir = &args.old;
    let old = snapshot::read_summary(old_dir)?;
    let new_dir = match &args.new {
        Some(dir) => dir.clone(),
        None => latest_sibling(old_dir)?,
    };
    let new = snapshot::read_summary(&new_dir)?;
    if old.pipeline != new.pipeline || old.target != new.target {
        eprintln!(
            "note: comparing `{}` on `{}` with `{}` on `{}`; only cells present in both count",
            old.pipeline, old.target, new.pipeline, new.target
        );
    }
    let metrics = chosen_metrics(&args.metrics, &[&old.analysis, &new.analysis])?;
    let changes: Vec<Change> =
        edgebench_stats::compare(&old.analysis, &new.analysis, args.alpha, args.threshold, |m| {
            metrics.iter().any(|k| k == m)
        });
    if changes.is_empty() {
        bail!("the two snapshots have no cell and metric in common");
    }
    let comparison = Comparison { args, old: old_dir, new: &new_dir, changes };
    let text = match args.format {
        Format::Text => comparison.text(),
        Format::Markdown => comparison.markdown(),
        Format::Json => comparison.json()?,
    };
    print!("{text}");
    let regressed = comparison.count(Verdict::Regressed);
    if args.fail_on_regression && regressed > 0 {
        bail!("{regressed} regression(s)");
    }
    Ok(())
}

/// The metrics asked for (or the default ones), each known to one of the
/// snapshots.
fn chosen_metrics(asked: &[String], analyses: &[&edgebench_stats::Analysis]) -> Result<Vec<String>> {
    if asked.is_empty() {
        return Ok(DEFAULT_METRICS.iter().map(|m| m.to_string()).collect());
    }
    let known: BTreeSet<&str> =
        analyses.iter().flat_map(|a| a.cells.iter()).flat_map(|c| c.metrics.keys()).map(String::as_str).collect();
    for metric in asked {
        if !known.contains(metric.as_str()) {
            bail!("--metrics: {}", suggestions::unknown("metric", metric, known.iter().copied()));
        }
    }
    Ok(asked.to_vec())
}

impl Comparison<'_> {
    fn count(&self, verdict: Verdict) -> usize {
        self.changes.iter().filter(|c| c.verdict == verdict).count()
    }

    fn tests(&self) -> usize {
        self.changes.iter().filter(|c| c.p.is_some()).count()
    }

    /// The changes to list: the counted ones, or all with `--all`.
    fn listed(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|c| self.args.all || c.verdict != Verdict::Unchanged)
    }

    fn rule(&self) -> String {
        format!(
            "a change counts when it exceeds {:.1} % and Welch's p, adjusted for all {} tests (Holm), is below {}",
            self.args.threshold * 100.0,
            self.tests(),
            self.args.alpha
        )
    }

    fn totals(&self) -> String {
        format!(
            "{} comparisons: {} regressed, {} improved, {} unchanged, {} inconclusive",
            self.changes.len(),
            self.count(Verdict::Regressed),
            self.count(Verdict::Improved),
            self.count(Verdict::Unchanged),
            self.count(Verdict::Inconclusive)
        )
    }

    fn text(&self) -> String {
        let mut out = format!("old: {}\nnew: {}\n{}\n\n", self.old.display(), self.new.display(), self.rule());
        let _ = writeln!(
            out,
            "{:<44} {:<12} {:>12} {:>12} {:>9} {:>10} {:>10}  verdict",
            "cell", "metric", "old mean", "new mean", "change", "p", "p (Holm)"
        );
        let mut shown = 0;
        for c in self.listed() {
            shown += 1;
            let [cell, metric, old, new, change, p, holm, verdict] = columns(c);
            let _ =
                writeln!(out, "{cell:<44} {metric:<12} {old:>12} {new:>12} {change:>8}% {p:>10} {holm:>10}  {verdict}");
        }
        if shown == 0 {
            out.push_str("(no counted change; --all lists every comparison)\n");
        }
        let _ = writeln!(out, "\n{}", self.totals());
        out
    }

    fn markdown(&self) -> String {
        let mut out = format!(
            "## Comparison\n\n- old: `{}`\n- new: `{}`\n- {}\n- {}\n\n",
            self.old.display(),
            self.new.display(),
            self.rule(),
            self.totals()
        );
        out.push_str("| cell | metric | old mean | new mean | change | p | p (Holm) | verdict |\n");
        out.push_str("|---|---|---:|---:|---:|---:|---:|---|\n");
        let mut shown = 0;
        for c in self.listed() {
            shown += 1;
            let [cell, metric, old, new, change, p, holm, verdict] = columns(c);
            let _ = writeln!(out, "| `{cell}` | {metric} | {old} | {new} | {change} % | {p} | {holm} | {verdict} |");
        }
        if shown == 0 {
            out.push_str("| (no counted change) | | | | | | | |\n");
        }
        out
    }

    fn json(&self) -> Result<String> {
        let value = serde_json::json!({
            "old": self.old,
            "new": self.new,
            "alpha": self.args.alpha,
            "threshold": self.args.threshold,
            "tests": self.tests(),
            "counts": {
                "regressed": self.count(Verdict::Regressed),
                "improved": self.count(Verdict::Improved),
                "unchanged": self.count(Verdict::Unchanged),
                "inconclusive": self.count(Verdict::Inconclusive),
            },
            "changes": self.listed().collect::<Vec<_>>(),
        });
        Ok(serde_json::to_string_pretty(&value)? + "\n")
    }
}

/// A change's columns, formatted once for every table: cell, metric, old
/// and new mean, change in per cent, p, Holm's p, verdict.
fn columns(c: &Change) -> [String; 8] {
    [
        c.key.label(),
        c.metric.clone(),
        format!("{:.4}", c.old.mean),
        format!("{:.4}", c.new.mean),
        format!("{:.1}", c.relative * 100.0),
        p_value(c.p),
        p_value(c.p_adjusted),
        verdict(c.verdict).to_string(),
    ]
}

fn p_value(p: Option<f64>) -> String {
    p.map(|p| format!("{p:.2e}")).unwrap_or_else(|| "—".into())
}

fn verdict(v: Verdict) -> &'static str {
    match v {
        Verdict::Improved => "improved",
        Verdict::Regressed => "REGRESSED",
        Verdict::Unchanged => "unchanged",
        Verdict::Inconclusive => "inconclusive",
    }
}

/// The newest other snapshot beside `dir` (same target and pipeline).
fn latest_sibling(dir: &Path) -> Result<PathBuf> {
    let parent = dir.parent().context("a snapshot directory has a parent")?;
    let mut others: Vec<PathBuf> = std::fs::read_dir(parent)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("summary.json").is_file() && p.file_name() != dir.file_name())
        .collect();
    others.sort();
    others.pop().with_context(|| format!("no other snapshot in {} to compare with; name two", parent.display()))
}
