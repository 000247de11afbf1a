//! `cargo xtask compare OLD [NEW]`: what changed between two snapshots. A
//! change counts only when Welch's t-test finds it significant (adjusted for
//! the number of tests) and it is larger than a noise threshold;
//! `--fail-on-regression` turns a counted slowdown (or growth in memory) into
//! a failing exit status, for CI gates.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use edgebench_stats::analysis::{KERNEL_MS, MAX_RSS_MIB, PEAK_MEMORY_MIB, WALL_MS};
use edgebench_stats::{Change, Verdict};

use crate::flags::CompareArgs;
use crate::snapshot;

const DEFAULT_METRICS: &[&str] = &[WALL_MS, KERNEL_MS, MAX_RSS_MIB, PEAK_MEMORY_MIB];

pub fn run(args: &CompareArgs) -> Result<()> {
    let old_dir = &args.old;
    let new_dir = match &args.new {
        Some(dir) => dir.clone(),
        None => latest_sibling(old_dir)?,
    };
    let old = snapshot::read_summary(old_dir)?;
    let new = snapshot::read_summary(&new_dir)?;
    if old.pipeline != new.pipeline || old.target != new.target {
        eprintln!(
            "note: comparing `{}` on `{}` with `{}` on `{}`; only cells present in both count",
            old.pipeline, old.target, new.pipeline, new.target
        );
    }
    let metrics: Vec<&str> = if args.metrics.is_empty() {
        DEFAULT_METRICS.to_vec()
    } else {
        args.metrics.iter().map(String::as_str).collect()
    };
    let changes: Vec<Change> =
        edgebench_stats::compare(&old.analysis, &new.analysis, args.alpha, args.threshold, |m| metrics.contains(&m));
    if changes.is_empty() {
        bail!("the two snapshots have no cell and metric in common");
    }

    println!("old: {}\nnew: {}", old_dir.display(), new_dir.display());
    println!(
        "a change counts when it exceeds {:.1} % and Welch's p, adjusted for all {} tests (Holm), is below {}\n",
        args.threshold * 100.0,
        changes.iter().filter(|c| c.p.is_some()).count(),
        args.alpha
    );
    println!(
        "{:<44} {:<12} {:>12} {:>12} {:>9} {:>10} {:>10}  verdict",
        "cell", "metric", "old mean", "new mean", "change", "p", "p (Holm)"
    );
    let mut shown = 0;
    for c in &changes {
        if !args.all && c.verdict == Verdict::Unchanged {
            continue;
        }
        shown += 1;
        println!(
            "{:<44} {:<12} {:>12.4} {:>12.4} {:>8.1}% {:>10} {:>10}  {}",
            c.key.label(),
            c.metric,
            c.old.mean,
            c.new.mean,
            c.relative * 100.0,
            p_value(c.p),
            p_value(c.p_adjusted),
            verdict(c.verdict)
        );
    }
    if shown == 0 {
        println!("(no counted change; --all lists every comparison)");
    }
    let count = |v: Verdict| changes.iter().filter(|c| c.verdict == v).count();
    let (regressed, improved) = (count(Verdict::Regressed), count(Verdict::Improved));
    println!(
        "\n{} comparisons: {regressed} regressed, {improved} improved, {} unchanged, {} inconclusive",
        changes.len(),
        count(Verdict::Unchanged),
        count(Verdict::Inconclusive)
    );
    if args.fail_on_regression && regressed > 0 {
        bail!("{regressed} regression(s)");
    }
    Ok(())
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
