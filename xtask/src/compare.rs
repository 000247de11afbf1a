//! `cargo xtask compare`: what changed, either between two sides of one
//! same-session A/B bench (`compare SNAPSHOT --sides A,B`, paired round by
//! round) or between two snapshots (two sessions, unpaired). Each cell's
//! primary metric gets a verdict — regressed or improved (significant
//! after Benjamini–Hochberg over the primary tests, and beyond the
//! threshold), equivalent, or inconclusive — with the smallest change it
//! could have detected; the other metrics are described. With
//! `--fail-on-regression` the exit status is the gate's answer: a
//! regression, or a comparison too blunt to have seen one, is not a pass.
//! The rules are docs/method.md's ("Comparing snapshots").

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use edgebench_model::plan::{Order, Plan, side_variant, split_side};
use edgebench_model::rundir::PLAN_FILE;
use edgebench_stats::analysis::{CellKey, KERNEL_MS, MAX_RSS_MIB, PEAK_MEMORY_MIB, WALL_MS};
use edgebench_stats::compare::{Comparison, Detection, Pairing, Role, default_primary, detection, unable_to_detect};
use edgebench_stats::resample::DEFAULT_SEED;
use edgebench_stats::{Bootstrap, Change, Criteria, Samples, Verdict};

use crate::flags::{CompareArgs, Format};
use crate::planning::suggestions;
use crate::snapshot::{self, html};

pub const DEFAULT_METRICS: &[&str] = &[WALL_MS, KERNEL_MS, MAX_RSS_MIB, PEAK_MEMORY_MIB];

/// What a gate (`--fail-on-regression`) answers; each is its own exit
/// status (see `main.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// No regression, and every primary cell could have shown one of the
    /// size asked for (`--detect`).
    Pass,
    /// A primary cell regressed.
    Regression,
    /// No regression found, but some primary cell could not have shown one
    /// of the size asked for: nothing can be concluded there.
    Undetectable,
}

/// What was compared with what.
enum Subject {
    /// Two sides of one snapshot: runtime variant (or kernel) `a` against
    /// `b`; for two revisions, which of their built files are the same.
    Sides { snapshot: PathBuf, a: String, b: String, built: Option<String> },
    /// Two snapshots.
    Sessions { old: PathBuf, new: PathBuf },
}

/// A finished comparison, in any format.
struct Report<'a> {
    args: &'a CompareArgs,
    subject: Subject,
    comparison: Comparison,
    /// Cells with verified runs on the old side only.
    lost: Vec<String>,
    /// Cells with verified runs on the new side only: not compared, and
    /// not a regression (a kernel or runtime the old side could not run).
    gained: Vec<String>,
}

/// Of one plan: the cells verified on the old side only (lost), and on the
/// new side only (gained).
fn one_sided(old: &Samples, new: &Samples) -> (Vec<String>, Vec<String>) {
    let only = |a: &Samples, b: &Samples| a.keys().filter(|k| !b.contains_key(*k)).map(CellKey::label).collect();
    (only(old, new), only(new, old))
}

pub fn run(args: &CompareArgs) -> Result<Gate> {
    let report = Report::of(args)?;
    let text = match args.format {
        Format::Text => report.text(),
        Format::Markdown => report.markdown(),
        Format::Json => report.json()?,
        Format::Html => report.html(None),
    };
    print!("{text}");
    if !args.fail_on_regression {
        return Ok(Gate::Pass);
    }
    let gate = report.gate();
    match gate {
        Gate::Pass => {}
        Gate::Regression => eprintln!(
            "gate: {} regression(s){}",
            report.count(Verdict::Regressed),
            if report.lost.is_empty() { String::new() } else { format!(", {} cell(s) lost", report.lost.len()) }
        ),
        Gate::Undetectable => eprintln!("gate: {}", report.blind_cells()),
    }
    Ok(gate)
}

/// The comparison of two snapshots (or, with `sides`, two sides of `old`)
/// as a page, with the defaults of `compare`; the snapshots' reports are
/// linked relative to `links_from`, the directory the page will be in.
pub fn page(old: &Path, new: Option<&Path>, sides: Option<[&str; 2]>, links_from: &Path) -> Result<String> {
    let args = CompareArgs {
        old: old.to_path_buf(),
        new: new.map(Path::to_path_buf),
        sides: sides.map(|s| s.iter().map(|x| x.to_string()).collect()),
        primary: None,
        alpha: edgebench_stats::compare::DEFAULT_ALPHA,
        threshold: edgebench_stats::compare::DEFAULT_THRESHOLD,
        detect: edgebench_stats::compare::DEFAULT_DETECT,
        metrics: Vec::new(),
        all: true,
        fail_on_regression: false,
        format: Format::Html,
    };
    Ok(Report::of(&args)?.html(Some(links_from)))
}

/// The two sides' samples, from one snapshot's two runtime variants (or
/// kernels) or from two snapshots; and a note for two different pipelines.
fn sides(args: &CompareArgs) -> Result<(Subject, Samples, Samples, Pairing, Option<String>)> {
    if let Some(pair) = &args.sides {
        if args.new.is_some() {
            bail!("--sides compares two sides of one snapshot; name one snapshot, not two");
        }
        let [a, b] = pair.as_slice() else {
            bail!(
                "--sides takes two sides, A,B: the revisions of `bench --base` (--sides base,head), runtime variants (--sides command/base,command/head) or kernels (--sides gemm,gemm-plus10)"
            );
        };
        if a == b {
            bail!("--sides names `{a}` twice; name the two sides to compare");
        }
        let side = Side::read(&args.old)?;
        if side.order == Order::Sequential {
            bail!(
                "{}: its plan ran each cell's runs back to back (order: sequential), so its sides cannot be paired by round; run the A/B pipeline with order: shuffled",
                args.old.display()
            );
        }
        // Both sides' cells are named as the new side's, so that they meet.
        let old = side.cells_of(a, b)?;
        let new = side.cells_of(b, b)?;
        let built = built_files(&args.old);
        let subject = Subject::Sides { snapshot: args.old.clone(), a: a.clone(), b: b.clone(), built };
        return Ok((subject, old, new, Pairing::ByRound, None));
    }
    let old = Side::read(&args.old)?;
    let new_dir = match &args.new {
        Some(dir) => dir.clone(),
        None => latest_sibling(&args.old)?,
    };
    if same_directory(&args.old, &new_dir) {
        bail!(
            "{} is both sides: a snapshot compared with itself shows nothing; name two snapshots, or two sides of one with --sides A,B",
            args.old.display()
        );
    }
    let new = Side::read(&new_dir)?;
    let subject = Subject::Sessions { old: args.old.clone(), new: new_dir };
    let note = (old.pipeline != new.pipeline || old.target != new.target).then(|| {
        format!(
            "note: comparing `{}` on `{}` with `{}` on `{}`; only cells present in both count",
            old.pipeline, old.target, new.pipeline, new.target
        )
    });
    Ok((subject, old.samples, new.samples, Pairing::Independent, note))
}

/// For a same-session A/B of two revisions: how many of the files the two
/// sides' builds made (programs, kernels, modules) are the same file on
/// both, and which differ — what the change touched.
fn built_files(snapshot: &Path) -> Option<String> {
    let plan: Plan = serde_json::from_str(&std::fs::read_to_string(snapshot.join(PLAN_FILE)).ok()?).ok()?;
    if plan.sides.is_empty() {
        return None;
    }
    // `revisions/<side>-<what>/<target>/<file>`: each file by side.
    let mut files: BTreeMap<&str, BTreeMap<&str, &str>> = BTreeMap::new();
    for f in &plan.files {
        let mut parts = f.path.strip_prefix("revisions/")?.splitn(3, '/');
        let (side_dir, _target, file) = (parts.next()?, parts.next()?, parts.next()?);
        let side = side_dir.split('-').next()?;
        files.entry(file).or_default().insert(side, &f.sha256);
    }
    let both: Vec<(&str, bool)> = files
        .iter()
        .filter(|(_, by_side)| by_side.len() == 2)
        .map(|(file, by_side)| (*file, by_side.values().collect::<BTreeSet<_>>().len() == 1))
        .collect();
    let same = both.iter().filter(|(_, same)| *same).count();
    let differ: Vec<&str> = both.iter().filter(|(_, same)| !same).map(|(f, _)| *f).collect();
    Some(match differ.as_slice() {
        [] => format!("built: all {same} files the two sides' builds made are the same on both"),
        _ => format!("built: {same} files the same on both sides; different: {}", differ.join(", ")),
    })
}

fn same_directory(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// One snapshot's verified runs, from its raw records.
struct Side {
    pipeline: String,
    target: String,
    order: Order,
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
            order: provenance.plan.order,
            samples: edgebench_stats::samples(&records),
        })
    }

    /// The cells of one side — a runtime variant (`runtime/variant`) or a
    /// kernel (a planted one against its original, say) — named as side
    /// `name`'s cells, so that the two sides' cells meet.
    fn cells_of(&self, label: &str, name: &str) -> Result<Samples> {
        let revisions: BTreeSet<&str> = self.samples.keys().filter_map(|k| split_side(&k.variant).1).collect();
        if !revisions.is_empty() && !label.contains('/') && !name.contains('/') {
            return self.revision_cells(&revisions, label, name);
        }
        let variants: BTreeSet<String> = self.samples.keys().map(|k| format!("{}/{}", k.runtime, k.variant)).collect();
        let kernels: BTreeSet<&str> = self.samples.keys().map(|k| k.kernel.as_str()).collect();
        let is_variant = label.contains('/');
        if is_variant != name.contains('/') {
            bail!("--sides: `{label}` and `{name}` must both be runtime variants (runtime/variant) or both kernels");
        }
        if is_variant && !variants.contains(label) {
            bail!("--sides: {}", suggestions::unknown("runtime variant", label, variants.iter().map(String::as_str)));
        }
        if !is_variant && !kernels.contains(label) {
            bail!("--sides: {}", suggestions::unknown("kernel", label, kernels.iter().copied()));
        }
        let (runtime, variant) = name.split_once('/').unwrap_or_default();
        Ok(self
            .samples
            .iter()
            .filter(
                |(k, _)| if is_variant { format!("{}/{}", k.runtime, k.variant) == label } else { k.kernel == label },
            )
            .map(|(k, metrics)| {
                let key = if is_variant {
                    CellKey { runtime: runtime.into(), variant: variant.into(), ..k.clone() }
                } else {
                    CellKey { kernel: name.into(), ..k.clone() }
                };
                (key, metrics.clone())
            })
            .collect())
    }
}

impl Side {
    /// The cells of one revision side (`base` or `head` of `bench --base`),
    /// named as side `name`'s.
    fn revision_cells(&self, revisions: &BTreeSet<&str>, label: &str, name: &str) -> Result<Samples> {
        if !revisions.contains(label) {
            bail!("--sides: {}", suggestions::unknown("revision side", label, revisions.iter().copied()));
        }
        Ok(self
            .samples
            .iter()
            .filter_map(|(k, metrics)| match split_side(&k.variant) {
                (variant, Some(side)) if side == label => {
                    Some((CellKey { variant: side_variant(variant, name), ..k.clone() }, metrics.clone()))
                }
                _ => None,
            })
            .collect())
    }
}

impl Subject {
    fn describe(&self) -> String {
        match self {
            Subject::Sides { snapshot, a, b, .. } => format!("`{a}` and `{b}` of {}", snapshot.display()),
            Subject::Sessions { old, new } => format!("{} and {}", old.display(), new.display()),
        }
    }
}

/// The metric that decides every cell's verdict, if the user named one
/// (else each cell's default: kernel time, or wall time for start-up).
fn chosen_primary(asked: &Option<String>, sides: &[&Samples]) -> Result<Option<String>> {
    let Some(metric) = asked else {
        return Ok(None);
    };
    let known = known_metrics(sides);
    if !known.contains(metric.as_str()) {
        bail!("--primary: {}", suggestions::unknown("metric", metric, known.iter().copied()));
    }
    Ok(Some(metric.clone()))
}

/// The metrics asked for (or the default ones), each known to one of the
/// snapshots.
fn chosen_metrics(asked: &[String], sides: &[&Samples]) -> Result<Vec<String>> {
    if asked.is_empty() {
        return Ok(DEFAULT_METRICS.iter().map(|m| m.to_string()).collect());
    }
    let known = known_metrics(sides);
    for metric in asked {
        if !known.contains(metric.as_str()) {
            bail!("--metrics: {}", suggestions::unknown("metric", metric, known.iter().copied()));
        }
    }
    Ok(asked.to_vec())
}

fn known_metrics<'a>(sides: &[&'a Samples]) -> BTreeSet<&'a str> {
    sides.iter().flat_map(|s| s.values()).flat_map(|m| m.keys()).map(String::as_str).collect()
}

impl<'a> Report<'a> {
    /// Reads both sides and compares them as `args` asks.
    fn of(args: &'a CompareArgs) -> Result<Report<'a>> {
        let (subject, old, new, pairing, note) = sides(args)?;
        let primary = chosen_primary(&args.primary, &[&old, &new])?;
        let metrics = chosen_metrics(&args.metrics, &[&old, &new])?;
        // Of one plan, a cell with verified runs on the old side and none on
        // the new one (every run failed, or its checksum was wrong) is the
        // worst regression there is; of two different pipelines, it may just
        // not be in the new one.
        let (lost, gained) = if note.is_none() { one_sided(&old, &new) } else { (Vec::new(), Vec::new()) };
        if let Some(note) = note {
            eprintln!("{note}");
        }
        let criteria = Criteria { alpha: args.alpha, threshold: args.threshold, pairing };
        let role = |key: &CellKey, metric: &str| -> Option<Role> {
            let cell = new.get(key)?;
            let decides = match &primary {
                Some(chosen) => chosen == metric,
                None => default_primary(cell) == metric,
            };
            if decides { Some(Role::Primary) } else { metrics.iter().any(|m| m == metric).then_some(Role::Described) }
        };
        let comparison = edgebench_stats::compare(&old, &new, &criteria, &Bootstrap::new(DEFAULT_SEED), role);
        if comparison.changes.is_empty() {
            bail!("{} have no cell and metric in common", subject.describe());
        }
        Ok(Report { args, subject, comparison, lost, gained })
    }

    fn changes(&self) -> &[Change] {
        &self.comparison.changes
    }

    fn count(&self, verdict: Verdict) -> usize {
        self.changes().iter().filter(|c| c.verdict == verdict).count()
    }

    fn gate(&self) -> Gate {
        if self.count(Verdict::Regressed) > 0 || !self.lost.is_empty() {
            Gate::Regression
        } else if unable_to_detect(self.changes(), self.args.detect).is_empty() {
            Gate::Pass
        } else {
            Gate::Undetectable
        }
    }

    /// The changes to list: the counted ones, or all with `--all`.
    fn listed(&self) -> impl Iterator<Item = &Change> {
        // A page lists everything: its table sorts and its verdicts are coloured.
        let all = self.args.all || self.args.format == Format::Html;
        self.changes().iter().filter(move |c| all || matches!(c.verdict, Verdict::Regressed | Verdict::Improved))
    }

    fn subject(&self) -> String {
        match &self.subject {
            Subject::Sides { snapshot, a, b, built } => {
                let built = built.as_ref().map(|b| format!("\n{b}")).unwrap_or_default();
                format!("snapshot: {}\nsides: {a} (old) against {b} (new){built}", snapshot.display())
            }
            Subject::Sessions { old, new } => format!("old: {}\nnew: {}", old.display(), new.display()),
        }
    }

    /// How the sides relate, and what that costs.
    fn pairing(&self) -> String {
        let pairs: Vec<usize> = self.changes().iter().filter(|c| c.primary).filter_map(|c| c.pairs).collect();
        match (self.comparison.pairing, self.comparison.between_sessions) {
            (Pairing::ByRound, _) => format!(
                "paired: both sides ran in one session, compared round by round ({} rounds per cell at the least); what disturbed a round or the session cancels",
                pairs.iter().min().copied().unwrap_or(0)
            ),
            (Pairing::Independent, Some(spread)) if spread < 0.001 => format!(
                "unpaired: two sessions. Across their {} primary cells the changes spread no wider than the runs' own noise explains, so no extra spread between the sessions could be measured; what the whole session shared (the machine faster today) is in no test, and only a same-session bench cancels it (docs/method.md)",
                self.comparison.tests
            ),
            (Pairing::Independent, Some(spread)) => format!(
                "unpaired: two sessions. Their cells move by ±{:.1} % between them by themselves (one standard deviation, from {} primary cells), which every test counts as noise: a change much below {:.1} % cannot be told from the sessions. Run both sides in one session to resolve less (docs/method.md)",
                spread * 100.0,
                self.comparison.tests,
                2.0 * spread * 100.0
            ),
            (Pairing::Independent, None) => format!(
                "unpaired: two sessions, and only {} primary cell(s) — too few (under {}) to estimate how much the sessions themselves differ: the tests count only the runs' noise, so a difference between the sessions reads as a change. Run both sides in one session (docs/method.md)",
                self.comparison.tests,
                edgebench_stats::compare::SESSION_CELLS
            ),
        }
    }

    fn rule(&self) -> String {
        format!(
            "each cell's primary metric ({}) decides: a change counts when it exceeds {t:.1} % and its test's p, adjusted over all {n} primary tests (Benjamini–Hochberg), is at most {a}; a cell is equivalent when the {level:.0} % bootstrap interval of its change lies within ±{t:.1} %; other metrics are described, not tested",
            self.args.primary.as_deref().unwrap_or("kernel_ms, or wall_ms where the kernel reports no time, or instructions_millions for runs counted under callgrind"),
            t = self.args.threshold * 100.0,
            n = self.comparison.tests,
            a = self.args.alpha,
            level = (1.0 - 2.0 * self.args.alpha) * 100.0
        )
    }

    fn totals(&self) -> String {
        let primary = self.changes().iter().filter(|c| c.primary).count();
        format!(
            "{primary} primary comparisons: {} regressed, {} improved, {} equivalent, {} inconclusive; {} described",
            self.count(Verdict::Regressed),
            self.count(Verdict::Improved),
            self.count(Verdict::Equivalent),
            self.count(Verdict::Inconclusive),
            self.count(Verdict::Described)
        )
    }

    /// Per metric: its verdicts (primary cells) and descriptions (the
    /// others), and how many of its changes' intervals lie within ± the
    /// threshold — for a described metric, equivalence shown but not tested.
    fn by_metric(&self) -> BTreeMap<&str, MetricCounts> {
        let mut out: BTreeMap<&str, MetricCounts> = BTreeMap::new();
        for c in self.changes() {
            let counts = out.entry(c.metric.as_str()).or_default();
            counts.cells += 1;
            *counts.verdicts.entry(verdict_name(c.verdict)).or_default() += 1;
            let t = self.args.threshold;
            if c.interval.is_some_and(|(lo, hi)| lo >= -t && hi <= t) {
                counts.within_threshold += 1;
            }
        }
        out
    }

    fn by_metric_line(&self) -> String {
        let parts: Vec<String> = self
            .by_metric()
            .into_iter()
            .map(|(metric, c)| {
                let verdicts: Vec<String> = c.verdicts.iter().map(|(v, n)| format!("{n} {v}")).collect();
                format!("{metric} {} ({} of {} within)", verdicts.join(", "), c.within_threshold, c.cells)
            })
            .collect();
        format!(
            "by metric (verdicts; changes whose interval lies within ±{:.1} %): {}",
            self.args.threshold * 100.0,
            parts.join("; ")
        )
    }

    /// The smallest change the data could have detected, over the primary
    /// cells.
    fn detectable(&self) -> String {
        let Detection { tested, blind, range } = detection(self.changes());
        let Some((median, lo, hi)) = range else {
            return format!(
                "smallest detectable change: none; with these runs per cell, no change in any of the {tested} tested primary cells could have been shown"
            );
        };
        let mut text = format!(
            "smallest detectable change (found 4 times in 5): median {:.1} % over {} primary cells (from {:.1} % to {:.1} %)",
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

    /// The cells that ran on the old side and have no verified run on the
    /// new one.
    fn lost_cells(&self) -> Option<String> {
        named_cells(
            "LOST",
            "have verified runs on the old side and none on the new one (every run failed, or its checksum was wrong)",
            &self.lost,
        )
    }

    /// The cells verified on the new side only, which nothing was compared with.
    fn gained_cells(&self) -> Option<String> {
        named_cells(
            "NEW",
            "have verified runs on the new side only, so nothing was compared for them (the old side could not run them, or every run of it failed)",
            &self.gained,
        )
    }

    /// The primary cells that could not have shown a change of `--detect`.
    fn blind_cells(&self) -> String {
        let blind = unable_to_detect(self.changes(), self.args.detect);
        let primary = self.changes().iter().filter(|c| c.primary).count();
        if blind.is_empty() {
            return format!(
                "every one of the {primary} primary cells could have shown a change of {:.1} %",
                self.args.detect * 100.0
            );
        }
        let names: Vec<String> = blind.iter().take(5).map(|c| format!("`{}` {}", c.key.label(), c.metric)).collect();
        format!(
            "nothing detectable: {} of {primary} primary cells could not have shown a change of {:.1} % (--detect), e.g. {}{}; no regression found there is not \"no regression\"",
            blind.len(),
            self.args.detect * 100.0,
            names.join(", "),
            if blind.len() > names.len() { ", …" } else { "" }
        )
    }

    fn text(&self) -> String {
        let mut out = format!(
            "{}\n{}\n{}\n{}\n{}\n",
            self.subject(),
            self.pairing(),
            self.rule(),
            self.detectable(),
            self.blind_cells()
        );
        for line in self.lost_cells().into_iter().chain(self.gained_cells()) {
            let _ = writeln!(out, "{line}");
        }
        out.push('\n');
        let _ = writeln!(
            out,
            "{:<44} {:<12} {:>12} {:>12} {:>9} {:>17} {:>10} {:>10}  verdict",
            "cell", "metric", "old median", "new median", "change", "interval", "q (BH)", "detectable"
        );
        let mut shown = 0;
        for c in self.listed() {
            shown += 1;
            let [cell, metric, old, new, change, interval, q, detectable, verdict] = columns(c);
            let _ = writeln!(
                out,
                "{cell:<44} {metric:<12} {old:>12} {new:>12} {change:>8}% {interval:>17} {q:>10} {detectable:>10}  {verdict}"
            );
        }
        if shown == 0 {
            out.push_str("(no counted change; --all lists every comparison)\n");
        }
        let _ = writeln!(out, "\n{}\n{}", self.totals(), self.by_metric_line());
        out
    }

    fn markdown(&self) -> String {
        let mut out = String::from("## Comparison\n\n");
        for line in self.subject().lines() {
            let _ = writeln!(out, "- {line}");
        }
        let lines =
            [self.pairing(), self.rule(), self.detectable(), self.blind_cells(), self.totals(), self.by_metric_line()];
        for line in lines.into_iter().chain(self.lost_cells()).chain(self.gained_cells()) {
            let _ = writeln!(out, "- {line}");
        }
        out.push_str(
            "\n| cell | metric | old median | new median | change | interval | q (BH) | detectable | verdict |\n",
        );
        out.push_str("|---|---|---:|---:|---:|---:|---:|---:|---|\n");
        let mut shown = 0;
        for c in self.listed() {
            shown += 1;
            let [cell, metric, old, new, change, interval, q, detectable, verdict] = columns(c);
            let _ = writeln!(
                out,
                "| `{cell}` | {metric} | {old} | {new} | {change} % | {interval} | {q} | {detectable} | {verdict} |"
            );
        }
        if shown == 0 {
            out.push_str("| (no counted change) | | | | | | | | |\n");
        }
        out
    }

    /// The comparison as a page: the two sides (each snapshot's report
    /// linked), the rules, and every comparison with its verdict in colour.
    fn html(&self, links_from: Option<&Path>) -> String {
        let (title, links) = match &self.subject {
            Subject::Sides { snapshot, a, b, .. } => {
                (format!("edgebench: {a} against {b}"), vec![(format!("{a} and {b}"), snapshot.clone())])
            }
            Subject::Sessions { old, new } => (
                format!("edgebench: {} against {}", old.display(), new.display()),
                vec![("old".to_string(), old.clone()), ("new".to_string(), new.clone())],
            ),
        };
        let mut body = format!("<h1>{}</h1>\n<ul>\n", html::esc(&title));
        for (name, dir) in links {
            let report = match links_from {
                Some(from) => relative(&dir.join(html::HTML_FILE), from),
                None => dir.join(html::HTML_FILE),
            };
            let _ = writeln!(
                body,
                "<li>{}: <a href=\"{}\">{}</a></li>",
                html::esc(&name),
                html::esc(&report.display().to_string()),
                html::esc(&dir.display().to_string())
            );
        }
        let gate = match self.gate() {
            Gate::Pass => {
                "<p class=\"improved\">Gate: pass — no regression, and every primary cell could have shown one.</p>"
            }
            Gate::Regression => "<p class=\"regressed\">Gate: REGRESSION.</p>",
            Gate::Undetectable => "<p class=\"inconclusive\">Gate: nothing detectable — see below.</p>",
        };
        let _ = writeln!(body, "</ul>\n{gate}");
        body.push_str(&colour_verdicts(&html::markdown_html(&self.markdown())));
        html::page(&title, &body)
    }

    fn json(&self) -> Result<String> {
        let subject = match &self.subject {
            Subject::Sides { snapshot, a, b, built } => {
                serde_json::json!({ "snapshot": snapshot, "sides": [a, b], "built": built })
            }
            Subject::Sessions { old, new } => serde_json::json!({ "old": old, "new": new }),
        };
        let counts: BTreeMap<&str, usize> =
            [Verdict::Regressed, Verdict::Improved, Verdict::Equivalent, Verdict::Inconclusive, Verdict::Described]
                .into_iter()
                .map(|v| (verdict_name(v), self.count(v)))
                .collect();
        let value = serde_json::json!({
            "compared": subject,
            "pairing": self.comparison.pairing,
            "between_sessions": self.comparison.between_sessions,
            "alpha": self.args.alpha,
            "threshold": self.args.threshold,
            "detect": self.args.detect,
            "tests": self.comparison.tests,
            "counts": counts,
            "by_metric": self.by_metric(),
            "detectable": self.detectable(),
            "unable_to_detect": unable_to_detect(self.changes(), self.args.detect).len(),
            "lost": self.lost,
            "gained": self.gained,
            "gate": match self.gate() {
                Gate::Pass => "pass",
                Gate::Regression => "regression",
                Gate::Undetectable => "undetectable",
            },
            "changes": self.listed().collect::<Vec<_>>(),
        });
        Ok(serde_json::to_string_pretty(&value)? + "\n")
    }
}

/// One metric's verdicts in a comparison (see [`Report::by_metric`]).
#[derive(Default, serde::Serialize)]
struct MetricCounts {
    cells: usize,
    verdicts: BTreeMap<&'static str, usize>,
    /// Changes whose interval lies within ± the threshold.
    within_threshold: usize,
}

/// `LABEL: n cell(s) <what>: `a`, `b``, or nothing for no cell.
fn named_cells(label: &str, what: &str, cells: &[String]) -> Option<String> {
    (!cells.is_empty()).then(|| {
        let names: Vec<String> = cells.iter().map(|c| format!("`{c}`")).collect();
        format!("{label}: {} cell(s) {what}: {}", cells.len(), names.join(", "))
    })
}

/// A change's columns, formatted once for every table: cell, metric, old
/// and new median, change and its interval in per cent, the adjusted p,
/// the smallest detectable change, verdict.
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
        match (c.primary, c.detectable) {
            (false, _) => "—".into(),
            (true, Some(d)) => format!("{:.1} %", d * 100.0),
            (true, None) => "none".into(),
        },
        verdict(c.verdict).to_string(),
    ]
}

/// `path` as seen from directory `from` (both absolute, or both relative
/// to one directory): `../local/ci/…` from `results/compare`.
fn relative(path: &Path, from: &Path) -> PathBuf {
    let (path, from): (Vec<_>, Vec<_>) = (path.components().collect(), from.components().collect());
    let common = path.iter().zip(&from).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..from.len() {
        out.push("..");
    }
    for part in &path[common..] {
        out.push(part);
    }
    out
}

/// Verdict cells of a rendered table, classed by their verdict (coloured
/// by the page's style).
fn colour_verdicts(html: &str) -> String {
    [Verdict::Regressed, Verdict::Improved, Verdict::Equivalent, Verdict::Inconclusive, Verdict::Described]
        .into_iter()
        .fold(html.to_string(), |page, v| {
            page.replace(
                &format!("<td>{}</td>", verdict(v)),
                &format!("<td class=\"{}\">{}</td>", verdict_name(v), verdict(v)),
            )
        })
}

/// A verdict's name in JSON and in counts.
fn verdict_name(v: Verdict) -> &'static str {
    match v {
        Verdict::Improved => "improved",
        Verdict::Regressed => "regressed",
        Verdict::Equivalent => "equivalent",
        Verdict::Inconclusive => "inconclusive",
        Verdict::Described => "described",
    }
}

/// A verdict in a table: a regression stands out.
fn verdict(v: Verdict) -> &'static str {
    match v {
        Verdict::Regressed => "REGRESSED",
        other => verdict_name(other),
    }
}

/// The newest other snapshot beside `dir` (same target and pipeline).
fn latest_sibling(dir: &Path) -> Result<PathBuf> {
    let parent = dir.parent().context("a snapshot directory has a parent")?;
    snapshot::newest_in(parent, Some(dir))?
        .with_context(|| format!("no other snapshot in {} to compare with; name two", parent.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgebench_model::Dataset;

    fn cells(variants: &[&str]) -> Samples {
        variants
            .iter()
            .map(|v| {
                let key = CellKey {
                    kernel: "gemm".into(),
                    dataset: Dataset::Small,
                    runtime: "native".into(),
                    variant: (*v).into(),
                };
                (key, BTreeMap::from([("wall_ms".to_string(), vec![(0, 1.0)])]))
            })
            .collect()
    }

    #[test]
    fn cells_verified_on_one_side_only_are_named_lost_or_gained() {
        let (lost, gained) = one_sided(&cells(&["a", "b"]), &cells(&["b", "c"]));
        assert_eq!(lost, ["gemm/small/native/a"]);
        assert_eq!(gained, ["gemm/small/native/c"]);
        assert_eq!(one_sided(&cells(&["a"]), &cells(&["a"])), (Vec::new(), Vec::new()));
    }
}
