//! `cargo xtask compare OLD [NEW]`: what changed between two snapshots.
//! Every cell and metric gets a verdict: regressed or improved (the
//! rank-sum test, adjusted for the number of tests, and larger than the
//! threshold), equivalent (the change's (1 − 2α) interval inside ± the
//! threshold), or inconclusive; with the smallest change the data could
//! have detected. `--fail-on-regression` turns a counted slowdown (or
//! growth in memory) into a failing exit status, for CI gates.

use std::collections::BTreeSet;
use std::fmt::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use edgebench_stats::analysis::{KERNEL_MS, MAX_RSS_MIB, PEAK_MEMORY_MIB, WALL_MS};
use edgebench_stats::compare::{Detection, detection};
use edgebench_stats::resample::DEFAULT_SEED;
use edgebench_stats::{Bootstrap, Change, Criteria, Samples, Verdict};

use crate::flags::{CompareArgs, Format};
use crate::planning::suggestions;
use crate::snapshot;

pub const DEFAULT_METRICS: &[&str] = &[WALL_MS, KERNEL_MS, MAX_RSS_MIB, PEAK_MEMORY_MIB];

/// A finished comparison, in any format.
struct Comparison<'a> {
    args: &'a CompareArgs,
    old: &'a Path,
    new: &'a Path,
    changes: Vec<Change>,
}

pub fn run(args: &CompareArgs) -> Result<()> {
    let old_dir = &args.old;
    let old = Side::read(old_dir)?;
    let new_dir = match &args.new {
        Some(dir) => dir.clone(),
        None => latest_sibling(old_dir)?,
    };
    let new = Side::read(&new_dir)?;
    let metrics = chosen_metrics(&args.metrics, &[&old.samples, &new.samples])?;
    if old.pipeline != new.pipeline || old.target != new.target {
        eprintln!(
            "note: comparing `{}` on `{}` with `{}` on `{}`; only cells present in both count",
            old.pipeline, old.target, new.pipeline, new.target
        );
    }
    let criteria = Criteria { alpha: args.alpha, threshold: args.threshold };
    let changes = edgebench_stats::compare(&old.samples, &new.samples, &criteria, &Bootstrap::new(DEFAULT_SEED), |m| {
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

/// One snapshot's verified runs, from its raw records.
struct Side {
    pipeline: String,
    target: String,
    samples: Samples,
}

impl Side {
    fn read(dir: &Path) -> Result<Side> {
        let (records, _) = snapshot::read_records(dir)?;
        let provenance = snapshot::read_provenance(dir)?;
        snapshot::records_match_plan(dir, &records, &provenance, "(compare takes whole snapshots only)")?;
        Ok(Side {
            pipeline: provenance.plan.pipeline,
            target: provenance.target.name,
            samples: edgebench_stats::samples(&records),
        })
    }
}

/// The metrics asked for (or the default ones), each known to one of the
/// snapshots.
fn chosen_metrics(asked: &[String], sides: &[&Samples]) -> Result<Vec<String>> {
    if asked.is_empty() {
        return Ok(DEFAULT_METRICS.iter().map(|m| m.to_string()).collect());
    }
    let known: BTreeSet<&str> =
        sides.iter().flat_map(|s| s.values()).flat_map(|m| m.keys()).map(String::as_str).collect();
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
        self.changes.iter().filter(|c| self.args.all || matches!(c.verdict, Verdict::Regressed | Verdict::Improved))
    }

    fn rule(&self) -> String {
        format!(
            "a change counts when it exceeds {t:.1} % and the rank-sum test's p, adjusted for all {n} tests (Holm), is below {a}; a cell is equivalent when the {level:.0} % bootstrap interval of its change lies within ±{t:.1} %",
            t = self.args.threshold * 100.0,
            n = self.tests(),
            a = self.args.alpha,
            level = (1.0 - 2.0 * self.args.alpha) * 100.0
        )
    }

    fn totals(&self) -> String {
        format!(
            "{} comparisons: {} regressed, {} improved, {} equivalent, {} inconclusive",
            self.changes.len(),
            self.count(Verdict::Regressed),
            self.count(Verdict::Improved),
            self.count(Verdict::Equivalent),
            self.count(Verdict::Inconclusive)
        )
    }

    /// The smallest change the data could have detected, over the cells.
    fn detectable(&self) -> String {
        let Detection { tested, blind, range } = detection(&self.changes);
        let Some((median, lo, hi)) = range else {
            return format!(
                "smallest detectable change: none; with these runs per cell, no change in any of the {tested} tested cells could have been shown"
            );
        };
        let mut text = format!(
            "smallest detectable change: median {:.1} % over {} cells (from {:.1} % to {:.1} %)",
            median * 100.0,
            tested - blind,
            lo * 100.0,
            hi * 100.0
        );
        if blind > 0 {
            let _ = write!(text, "; {blind} cell(s) had too few runs to detect any change");
        }
        text
    }

    fn text(&self) -> String {
        let mut out = format!(
            "old: {}\nnew: {}\n{}\n{}\n\n",
            self.old.display(),
            self.new.display(),
            self.rule(),
            self.detectable()
        );
        let _ = writeln!(
            out,
            "{:<44} {:<12} {:>12} {:>12} {:>9} {:>17} {:>10} {:>10}  verdict",
            "cell", "metric", "old median", "new median", "change", "interval", "p (Holm)", "detectable"
        );
        let mut shown = 0;
        for c in self.listed() {
            shown += 1;
            let [cell, metric, old, new, change, interval, holm, detectable, verdict] = columns(c);
            let _ = writeln!(
                out,
                "{cell:<44} {metric:<12} {old:>12} {new:>12} {change:>8}% {interval:>17} {holm:>10} {detectable:>10}  {verdict}"
            );
        }
        if shown == 0 {
            out.push_str("(no counted change; --all lists every comparison)\n");
        }
        let _ = writeln!(out, "\n{}", self.totals());
        out
    }

    fn markdown(&self) -> String {
        let mut out = format!(
            "## Comparison\n\n- old: `{}`\n- new: `{}`\n- {}\n- {}\n- {}\n\n",
            self.old.display(),
            self.new.display(),
            self.rule(),
            self.detectable(),
            self.totals()
        );
        out.push_str(
            "| cell | metric | old median | new median | change | interval | p (Holm) | detectable | verdict |\n",
        );
        out.push_str("|---|---|---:|---:|---:|---:|---:|---:|---|\n");
        let mut shown = 0;
        for c in self.listed() {
            shown += 1;
            let [cell, metric, old, new, change, interval, holm, detectable, verdict] = columns(c);
            let _ = writeln!(
                out,
                "| `{cell}` | {metric} | {old} | {new} | {change} % | {interval} | {holm} | {detectable} | {verdict} |"
            );
        }
        if shown == 0 {
            out.push_str("| (no counted change) | | | | | | | | |\n");
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
                "equivalent": self.count(Verdict::Equivalent),
                "inconclusive": self.count(Verdict::Inconclusive),
            },
            "detectable": self.detectable(),
            "changes": self.listed().collect::<Vec<_>>(),
        });
        Ok(serde_json::to_string_pretty(&value)? + "\n")
    }
}

/// A change's columns, formatted once for every table: cell, metric, old
/// and new median, change and its interval in per cent, Holm's p, the
/// smallest detectable change, verdict.
fn columns(c: &Change) -> [String; 9] {
    let percent = |v: f64| format!("{:+.1}", v * 100.0);
    [
        c.key.label(),
        c.metric.clone(),
        format!("{:.4}", c.old.median),
        format!("{:.4}", c.new.median),
        format!("{:.1}", c.relative * 100.0),
        c.interval.map(|(lo, hi)| format!("{} – {} %", percent(lo), percent(hi))).unwrap_or_else(|| "—".into()),
        c.p_adjusted.map(|p| format!("{p:.2e}")).unwrap_or_else(|| "—".into()),
        c.detectable.map(|d| format!("{:.1} %", d * 100.0)).unwrap_or_else(|| "none".into()),
        verdict(c.verdict).to_string(),
    ]
}

fn verdict(v: Verdict) -> &'static str {
    match v {
        Verdict::Improved => "improved",
        Verdict::Regressed => "REGRESSED",
        Verdict::Equivalent => "equivalent",
        Verdict::Inconclusive => "inconclusive",
    }
}

/// The newest other snapshot beside `dir` (same target and pipeline).
fn latest_sibling(dir: &Path) -> Result<PathBuf> {
    let parent = dir.parent().context("a snapshot directory has a parent")?;
    let mut others: Vec<PathBuf> = std::fs::read_dir(parent)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join(snapshot::RECORDS_FILE).is_file() && p.file_name() != dir.file_name())
        .collect();
    others.sort();
    others.pop().with_context(|| format!("no other snapshot in {} to compare with; name two", parent.display()))
}
