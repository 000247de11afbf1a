//! Comparing two sides of runs: an old snapshot against a new one (two
//! sessions), or two sides of one same-session A/B bench (paired round by
//! round). What regressed, what improved, what is shown to be unchanged,
//! and what the data cannot tell — with the smallest change each cell
//! could have shown.
//!
//! Only each cell's *primary* metric decides a verdict; the other metrics
//! are described (their change and its interval), never tested, so they do
//! not dilute the error rate of the ones that matter. The rules are written
//! down once, in docs/method.md ("Comparing snapshots").

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::analysis::{CellKey, INSTRUCTIONS_MILLIONS, KERNEL_MS, Samples, WALL_MS, values};
use crate::multiplicity::benjamini_hochberg;
use crate::power::{self, Noise, detectable_change};
use crate::resample::{self, Bootstrap};
use crate::signrank::{self, signed_rank};
use crate::summary::Summary;
use crate::tdist;

/// What happened to one metric of one cell. Lower is better for every
/// metric edgebench records (times and memory).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Significantly lower, by more than the threshold.
    Improved,
    /// Significantly higher, by more than the threshold.
    Regressed,
    /// Shown to be within ± the threshold: two one-sided tests, read as
    /// the (1 − 2α) interval of the change lying inside the margin.
    Equivalent,
    /// Neither: the runs are too few or too noisy to tell.
    Inconclusive,
    /// Not a primary metric: its change is shown, not judged.
    Described,
}

/// How the two sides' runs relate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pairing {
    /// Both sides ran in one session, one run of each per round: round r
    /// of the old side is paired with round r of the new one, and what
    /// disturbed a whole round, or the whole session, cancels.
    ByRound,
    /// Two sessions: the sides' runs are independent, and nothing cancels
    /// what differs between the sessions.
    Independent,
}

/// How strict a comparison is, and how its sides relate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Criteria {
    /// The false discovery rate of the primary tests (Benjamini–Hochberg),
    /// and the α of each equivalence test.
    pub alpha: f64,
    /// The smallest relative change that matters (0.05 = 5 %), which is
    /// also the equivalence margin.
    pub threshold: f64,
    pub pairing: Pairing,
}

/// Whether a metric of a cell is compared, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Tested: it decides the cell's verdict.
    Primary,
    /// Shown with its change and interval, not tested.
    Described,
}

/// Which way the test's own statistic leans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lean {
    /// The new runs tend to be the larger ones.
    Larger,
    /// The new runs tend to be the smaller ones.
    Smaller,
    Level,
}

impl From<std::cmp::Ordering> for Lean {
    /// A statistic against its centre.
    fn from(side: std::cmp::Ordering) -> Lean {
        match side {
            std::cmp::Ordering::Greater => Lean::Larger,
            std::cmp::Ordering::Less => Lean::Smaller,
            std::cmp::Ordering::Equal => Lean::Level,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub key: CellKey,
    pub metric: String,
    /// Whether this metric decides the cell's verdict.
    pub primary: bool,
    pub old: Summary,
    pub new: Summary,
    /// Rounds compared pair by pair (a same-session comparison only).
    pub pairs: Option<usize>,
    /// `median(new) / median(old) − 1` (over the paired rounds when
    /// paired): 0.05 is 5 % slower (or bigger). Zero when both medians are
    /// zero; infinite when only the old one is, which JSON cannot hold
    /// (serde_json writes `null`).
    pub relative: f64,
    /// The (1 − 2α) percentile-bootstrap interval of `relative`, paired
    /// rounds resampled together; equivalence is read from it. `None` below
    /// two runs a side.
    pub interval: Option<(f64, f64)>,
    /// The test of a primary metric: the signed-rank test of the per-round
    /// log ratios when paired, else the rank-sum test of the two sets.
    pub test: Option<TestName>,
    /// Its two-sided p-value; `None` for a described metric or below two
    /// runs a side.
    pub p: Option<f64>,
    /// Which way the test's statistic leans.
    pub lean: Option<Lean>,
    /// `p` adjusted over every primary test of the comparison
    /// (Benjamini–Hochberg); the verdict is taken on this one.
    pub p_adjusted: Option<f64>,
    /// The smallest slowdown this comparison would have called regressed
    /// four times in five (see [`power`]), at least the threshold. `None`
    /// when no change could have been counted (too few runs for so many
    /// tests) or when a value is zero or negative (a ratio means nothing).
    pub detectable: Option<f64>,
    pub verdict: Verdict,
}

/// The test behind a primary verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TestName {
    /// Paired by round: Wilcoxon's signed-rank test of the per-round log
    /// ratios.
    SignedRank,
    /// Two sessions: the log ratio of medians against its bootstrap
    /// standard error and the sessions' own spread (Student's t).
    LogRatio,
}

/// The defaults of a comparison (`cargo xtask compare`'s `--alpha`,
/// `--threshold` and `--detect`): the false discovery rate, the smallest
/// change that counts, and the change a gate must be able to see.
pub const DEFAULT_ALPHA: f64 = 0.01;
pub const DEFAULT_THRESHOLD: f64 = 0.05;
pub const DEFAULT_DETECT: f64 = 0.10;

/// Runs a side that two sessions' comparison needs to test a cell.
const INDEPENDENT_RUNS: usize = 5;

/// Primary cells needed to estimate how much two sessions move cells by
/// themselves; with fewer, the comparison says it could not.
pub const SESSION_CELLS: usize = 8;

/// A comparison's changes, and what it learnt about its sides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub pairing: Pairing,
    /// Primary tests, the family Benjamini–Hochberg adjusts over.
    pub tests: usize,
    /// Two sessions: how far a cell moves between them by itself (a
    /// relative change, one standard deviation), estimated from the
    /// primary cells' changes beyond their own runs' noise and added to
    /// every primary test's noise. `None` when paired, or with fewer than
    /// [`SESSION_CELLS`] primary cells.
    pub between_sessions: Option<f64>,
    pub changes: Vec<Change>,
}

/// The metric that decides a cell's verdict unless the user names one: the
/// kernel's own time where the kernel reports it (the work itself, without
/// process start-up), else the run's wall time (start-up cells); for runs
/// counted under callgrind, which have no timings, their instructions.
pub fn default_primary(metrics: &BTreeMap<String, Vec<(u32, f64)>>) -> &'static str {
    if metrics.contains_key(KERNEL_MS) {
        KERNEL_MS
    } else if metrics.contains_key(WALL_MS) || !metrics.contains_key(INSTRUCTIONS_MILLIONS) {
        WALL_MS
    } else {
        // Counted under callgrind: the count is all there is.
        INSTRUCTIONS_MILLIONS
    }
}

/// Compares every metric of every cell present on both sides that `role`
/// gives a role, in cell and metric order.
///
/// A primary change counts only when it is both statistically significant
/// and practically relevant (|relative| > threshold): with many runs, tiny
/// real differences become significant and would drown the report.
/// Significance is the test's p adjusted by Benjamini–Hochberg over the
/// primary tests, at most α. What does not count is either shown equivalent
/// within the threshold or inconclusive.
pub fn compare(
    old: &Samples,
    new: &Samples,
    criteria: &Criteria,
    bootstrap: &Bootstrap,
    role: impl Fn(&CellKey, &str) -> Option<Role>,
) -> Comparison {
    let mut changes = Vec::new();
    let mut noise = Vec::new();
    for (key, metrics) in new {
        let Some(before) = old.get(key) else {
            continue;
        };
        for (metric, now) in metrics {
            let (Some(role), Some(then)) = (role(key, metric), before.get(metric)) else {
                continue;
            };
            let (Some(old_summary), Some(new_summary)) = (Summary::of(&values(then)), Summary::of(&values(now))) else {
                continue;
            };
            let sides = Sides::of(then, now, criteria.pairing);
            let stream = format!("{}/{metric}", key.label());
            let replicates = sides.ratio_replicates(bootstrap, &stream);
            let interval = replicates.as_ref().and_then(|r| {
                let (lo, hi) = resample::percentile_interval(r.clone(), 1.0 - 2.0 * criteria.alpha)?;
                Some((lo - 1.0, hi - 1.0))
            });
            let primary = role == Role::Primary;
            let tested = if primary { sides.paired_test() } else { None };
            noise.push(if primary { sides.noise(replicates.as_deref()) } else { None });
            changes.push(Change {
                key: key.clone(),
                metric: metric.to_string(),
                primary,
                old: old_summary,
                new: new_summary,
                pairs: sides.pairs(),
                relative: relative_change(resample::median(&sides.old), resample::median(&sides.new)),
                interval,
                test: tested.map(|t| t.name),
                p: tested.map(|t| t.p),
                lean: tested.map(|t| t.lean),
                p_adjusted: None,
                detectable: None,
                verdict: Verdict::Described,
            });
        }
    }
    let between_sessions = match criteria.pairing {
        Pairing::ByRound => None,
        Pairing::Independent => {
            let spread = session_spread(&changes, &noise);
            for (c, noise) in changes.iter_mut().zip(noise.iter_mut()) {
                if let Some((n, _)) = noise.as_mut() {
                    *n = n.with_sessions(spread.unwrap_or(0.0));
                    let t = log_ratio_test(c.relative, *n);
                    (c.test, c.p, c.lean) = (t.map(|t| t.name), t.map(|t| t.p), t.map(|t| t.lean));
                }
            }
            spread.map(f64::exp_m1)
        }
    };
    let adjusted = benjamini_hochberg(&changes.iter().map(|c| c.p).collect::<Vec<_>>());
    let tests = adjusted.iter().flatten().count();
    for ((c, q), noise) in changes.iter_mut().zip(adjusted).zip(noise) {
        c.p_adjusted = q;
        if !c.primary {
            continue;
        }
        c.detectable = q.and(noise).and_then(|(noise, floor)| {
            // Benjamini–Hochberg's strictest step: one real change among
            // all the tests must reach α / m.
            let bound = criteria.alpha / tests as f64;
            (floor < bound).then(|| detectable_change(noise, bound, criteria.threshold))
        });
        c.verdict = verdict(c, criteria);
    }
    Comparison { pairing: criteria.pairing, tests, between_sessions, changes }
}

/// How far two sessions move a cell by themselves, on the log scale: the
/// robust variance of the primary cells' log changes less the typical
/// variance their runs explain (Efron's empirical null: the bulk of many
/// cells that did not change shows the null's real width). A change every
/// cell shares (the whole machine faster today) is not in it, and cannot
/// be told from a real change between sessions either.
fn session_spread(changes: &[Change], noise: &[Option<(Noise, f64)>]) -> Option<f64> {
    let cells: Vec<(f64, f64)> = changes
        .iter()
        .zip(noise)
        .filter_map(|(c, n)| Some((c.relative.ln_1p(), n.as_ref()?.0.estimate)))
        .filter(|(l, _)| l.is_finite())
        .collect();
    if cells.len() < SESSION_CELLS {
        return None;
    }
    let logs: Vec<f64> = cells.iter().map(|(l, _)| *l).collect();
    let own: Vec<f64> = cells.iter().map(|(_, se)| se * se).collect();
    let total = power::robust_sd(&logs)?.powi(2);
    Some((total - resample::median(&own)).max(0.0).sqrt())
}

/// Two sessions: the log ratio of medians against its noise, Student's t.
fn log_ratio_test(relative: f64, noise: Noise) -> Option<Tested> {
    let log = relative.ln_1p();
    if !log.is_finite() || noise.estimate.is_nan() {
        return None;
    }
    let lean = Lean::from(log.total_cmp(&0.0));
    let p = if noise.estimate > 0.0 {
        tdist::two_sided_p(log / noise.estimate, noise.freedom)
    } else if log == 0.0 {
        1.0
    } else {
        0.0
    };
    Some(Tested { name: TestName::LogRatio, p, lean })
}

/// One cell's metric on both sides: the paired rounds, or every run.
struct Sides {
    old: Vec<f64>,
    new: Vec<f64>,
    pairing: Pairing,
}

/// A primary metric's test result.
#[derive(Clone, Copy)]
struct Tested {
    name: TestName,
    p: f64,
    lean: Lean,
}

impl Sides {
    fn of(old: &[(u32, f64)], new: &[(u32, f64)], pairing: Pairing) -> Sides {
        match pairing {
            Pairing::Independent => Sides { old: values(old), new: values(new), pairing },
            Pairing::ByRound => {
                let by_round: BTreeMap<u32, f64> = old.iter().copied().collect();
                let (old, new) = new.iter().filter_map(|(r, v)| by_round.get(r).map(|o| (*o, *v))).unzip();
                Sides { old, new, pairing }
            }
        }
    }

    fn pairs(&self) -> Option<usize> {
        (self.pairing == Pairing::ByRound).then_some(self.old.len())
    }

    /// Paired, the signed-rank test's own floor says what few rounds can
    /// show; two sessions' standard errors need a few runs a side to mean
    /// anything.
    fn testable(&self) -> bool {
        let least = match self.pairing {
            Pairing::ByRound => 2,
            Pairing::Independent => INDEPENDENT_RUNS,
        };
        self.old.len() >= least && self.new.len() >= least
    }

    fn positive(&self) -> bool {
        self.old.iter().chain(&self.new).all(|v| *v > 0.0 && v.is_finite())
    }

    fn ratio_replicates(&self, bootstrap: &Bootstrap, stream: &str) -> Option<Vec<f64>> {
        let paired = self.pairing == Pairing::ByRound;
        resample::ratio_replicates(&self.new, &self.old, paired, &mut bootstrap.stream(stream), bootstrap.resamples)
    }

    /// Per-round differences: of logs where every value is positive (a
    /// ratio is what changed), else of the values themselves.
    fn differences(&self) -> Vec<f64> {
        let log = self.positive();
        self.old.iter().zip(&self.new).map(|(o, n)| if log { n.ln() - o.ln() } else { n - o }).collect()
    }

    /// The signed-rank test of the per-round differences; two sessions
    /// are tested once their spread is known ([`log_ratio_test`]).
    fn paired_test(&self) -> Option<Tested> {
        if !self.testable() || self.pairing != Pairing::ByRound {
            return None;
        }
        let t = signed_rank(&self.differences())?;
        Some(Tested { name: TestName::SignedRank, p: t.p, lean: Lean::from(t.leans()) })
    }

    /// The noise the test sees, and its test's smallest possible p; `None`
    /// where a ratio means nothing (a value at or below zero).
    fn noise(&self, ratio_replicates: Option<&[f64]>) -> Option<(Noise, f64)> {
        if !self.testable() || !self.positive() {
            return None;
        }
        let (noise, floor) = match self.pairing {
            Pairing::ByRound => (Noise::paired(&self.differences())?, signrank::smallest_p(self.old.len())),
            Pairing::Independent => {
                let logs = |v: &[f64]| v.iter().map(|x| x.ln()).collect::<Vec<_>>();
                // The t test of a continuous statistic has no floor.
                (Noise::independent(&logs(&self.old), &logs(&self.new))?, 0.0)
            }
        };
        let logs: Option<Vec<f64>> = ratio_replicates.map(|r| r.iter().map(|x| x.ln()).collect());
        Some((logs.map_or(noise, |l| noise.with_bootstrap(&l)), floor))
    }
}

fn verdict(c: &Change, criteria: &Criteria) -> Verdict {
    if !c.primary {
        return Verdict::Described;
    }
    let Some(q) = c.p_adjusted else {
        return Verdict::Inconclusive;
    };
    if q <= criteria.alpha && c.relative.abs() > criteria.threshold {
        // The test is two-sided: which way it found the runs moved is its
        // statistic's side of the centre. Should the medians say the other
        // way (runs in two clusters), neither verdict is safe.
        return match (c.relative > 0.0, c.lean) {
            (true, Some(Lean::Larger)) => Verdict::Regressed,
            (false, Some(Lean::Smaller)) => Verdict::Improved,
            _ => Verdict::Inconclusive,
        };
    }
    match c.interval {
        Some((lo, hi)) if lo > -criteria.threshold && hi < criteria.threshold => Verdict::Equivalent,
        _ => Verdict::Inconclusive,
    }
}

/// How small a change a comparison could have shown, over its primary
/// cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// Primary cells with a test.
    pub tested: usize,
    /// Tested cells too short of runs to show any change.
    pub blind: usize,
    /// Median, smallest and largest `detectable` of the other tested cells.
    pub range: Option<(f64, f64, f64)>,
}

pub fn detection(changes: &[Change]) -> Detection {
    let tested: Vec<&Change> = changes.iter().filter(|c| c.primary && c.p.is_some()).collect();
    let mut shifts: Vec<f64> = tested.iter().filter_map(|c| c.detectable).collect();
    shifts.sort_unstable_by(f64::total_cmp);
    let range = (!shifts.is_empty()).then(|| (resample::median(&shifts), shifts[0], shifts[shifts.len() - 1]));
    Detection { tested: tested.len(), blind: tested.len() - shifts.len(), range }
}

/// The primary cells that could not have shown a change of `target`: no
/// test, no detectable change, or one larger than `target`.
pub fn unable_to_detect(changes: &[Change], target: f64) -> Vec<&Change> {
    changes.iter().filter(|c| c.primary && c.detectable.is_none_or(|d| d > target)).collect()
}

fn relative_change(old: f64, new: f64) -> f64 {
    if old == 0.0 { if new == 0.0 { 0.0 } else { f64::INFINITY.copysign(new) } } else { new / old - 1.0 }
}

#[cfg(test)]
mod tests {
    use edgebench_model::Dataset;

    use super::*;
    use crate::analysis::{MAX_RSS_MIB, WALL_MS};
    use crate::resample::DEFAULT_SEED;

    const CRITERIA: Criteria = Criteria { alpha: 0.05, threshold: 0.02, pairing: Pairing::Independent };
    const PAIRED: Criteria = Criteria { pairing: Pairing::ByRound, ..CRITERIA };

    fn key(kernel: &str) -> CellKey {
        CellKey { kernel: kernel.into(), dataset: Dataset::Small, runtime: "wasmtime".into(), variant: "jit".into() }
    }

    /// Samples with one cell per kernel, each with only a wall time, one
    /// run per round.
    fn snapshot(cells: &[(&str, &[f64])]) -> Samples {
        cells
            .iter()
            .filter(|(_, wall)| !wall.is_empty())
            .map(|(kernel, wall)| {
                let runs = wall.iter().enumerate().map(|(i, v)| (i as u32, *v)).collect();
                (key(kernel), [(WALL_MS.to_string(), runs)].into())
            })
            .collect()
    }

    fn primary(_: &CellKey, _: &str) -> Option<Role> {
        Some(Role::Primary)
    }

    fn with(old: &[f64], new: &[f64], criteria: Criteria) -> Change {
        let changes = compare(
            &snapshot(&[("k", old)]),
            &snapshot(&[("k", new)]),
            &criteria,
            &Bootstrap::new(DEFAULT_SEED),
            primary,
        )
        .changes;
        assert_eq!(changes.len(), 1);
        changes.into_iter().next().expect("one change")
    }

    fn one(old: &[f64], new: &[f64]) -> Change {
        with(old, new, CRITERIA)
    }

    #[test]
    fn a_clear_regression_and_its_reverse() {
        // 20 % slower, no overlap, one cell: no spread between sessions can
        // be estimated from one cell, so only the runs' noise counts.
        let old = [10.0, 10.1, 9.9, 10.0, 10.05];
        let new = [12.0, 12.1, 11.9, 12.05, 11.95];
        let c = one(&old, &new);
        assert_eq!(c.verdict, Verdict::Regressed);
        assert_eq!((c.test, c.lean, c.pairs), (Some(TestName::LogRatio), Some(Lean::Larger), None));
        assert!((c.relative - (12.0 / 10.0 - 1.0)).abs() < 1e-12, "{}", c.relative);
        assert!(c.p.expect("testable") < 1e-4);
        assert_eq!((c.key, c.metric.as_str()), (key("k"), WALL_MS));
        let (lo, hi) = c.interval.expect("testable");
        assert!(lo > 0.15 && hi < 0.25, "{lo} {hi}");

        let back = one(&new, &old);
        assert_eq!(back.verdict, Verdict::Improved);
        assert!(back.relative < 0.0);
    }

    #[test]
    fn paired_by_round_a_shared_disturbance_cancels() {
        // Every round moves both sides alike by up to ±30 %; the new side
        // is 4 % slower in every round. Unpaired, the rounds' spread hides
        // it; paired, every per-round ratio says 1.04 or a hair more: p =
        // 2 / 2¹².
        let shifts = [1.0, 1.3, 0.8, 1.1, 0.7, 1.25, 0.9, 1.05, 0.75, 1.2, 0.95, 1.15];
        let old: Vec<f64> = shifts.iter().enumerate().map(|(i, s)| 10.0 * s + 0.001 * i as f64).collect();
        let new: Vec<f64> = old.iter().enumerate().map(|(i, v)| v * (1.04 + 0.0001 * i as f64)).collect();
        let unpaired = one(&old, &new);
        assert_eq!(unpaired.verdict, Verdict::Inconclusive);
        let paired = with(&old, &new, PAIRED);
        assert_eq!(
            (paired.verdict, paired.test, paired.pairs),
            (Verdict::Regressed, Some(TestName::SignedRank), Some(12))
        );
        assert!((paired.p.expect("tested") - 2.0 / 4096.0).abs() < 1e-15);
        let (lo, hi) = paired.interval.expect("testable");
        assert!(lo > 0.04 && hi < 0.0412, "{lo} {hi}");
    }

    #[test]
    fn pairs_are_only_rounds_both_sides_ran() {
        let old: Samples = [(key("k"), [(WALL_MS.to_string(), vec![(0, 1.0), (1, 1.1), (3, 1.2)])].into())].into();
        let new: Samples = [(key("k"), [(WALL_MS.to_string(), vec![(1, 2.2), (2, 9.0), (3, 2.4)])].into())].into();
        let c = compare(&old, &new, &PAIRED, &Bootstrap::new(1), primary).changes.remove(0);
        assert_eq!(c.pairs, Some(2));
        assert!((c.relative - 1.0).abs() < 1e-12, "{}", c.relative);
    }

    #[test]
    fn identical_tight_samples_are_shown_equivalent() {
        let s = [10.0, 10.01, 9.99, 10.0, 10.02, 9.98, 10.0, 10.01];
        let c = one(&s, &s);
        assert_eq!((c.verdict, c.relative, c.p), (Verdict::Equivalent, 0.0, Some(1.0)));
        let (lo, hi) = c.interval.expect("testable");
        assert!(lo > -0.005 && hi < 0.005, "{lo} {hi}");
        let paired = with(&s, &s, PAIRED);
        assert_eq!((paired.verdict, paired.p), (Verdict::Equivalent, Some(1.0)));
    }

    #[test]
    fn significant_but_below_the_threshold_is_equivalent() {
        // A 1 % shift, significant, but inside the 2 % that counts, and
        // measured tightly enough to show it.
        let old = [100.0, 100.1, 99.9, 100.0, 100.05, 99.95];
        let new = [101.0, 101.1, 100.9, 101.0, 101.05, 100.95];
        let c = one(&old, &new);
        assert_eq!(c.verdict, Verdict::Equivalent);
        assert!(c.p.expect("testable") < 0.01);
        assert!((c.relative - 0.01).abs() < 1e-12);
        // The same shift counts against a 0.5 % threshold.
        assert_eq!(with(&old, &new, Criteria { threshold: 0.005, ..CRITERIA }).verdict, Verdict::Regressed);
    }

    #[test]
    fn large_but_noisy_is_inconclusive_not_unchanged() {
        let c = one(&[10.0, 20.0, 5.0, 30.0, 15.0], &[12.0, 25.0, 6.0, 28.0, 18.0]);
        assert_eq!(c.verdict, Verdict::Inconclusive);
        assert!(c.p.expect("testable") > 0.5);
        let (lo, hi) = c.interval.expect("testable");
        assert!(lo < -0.02 && hi > 0.02, "{lo} {hi}");
    }

    #[test]
    fn a_single_run_is_inconclusive() {
        let c = one(&[10.0], &[20.0, 21.0, 19.0]);
        assert_eq!((c.verdict, c.p, c.interval, c.detectable), (Verdict::Inconclusive, None, None, None));
        assert!((c.relative - 1.0).abs() < 1e-12);
        assert_eq!(one(&[10.0, 11.0], &[20.0]).verdict, Verdict::Inconclusive);
    }

    #[test]
    fn three_against_two_runs_cannot_show_a_change() {
        // Constant and 10 % apart, but two sessions' standard errors need
        // five runs a side: the data cannot say, and the comparison says so.
        let c = one(&[10.0, 10.0, 10.0], &[11.0, 11.0]);
        assert_eq!((c.verdict, c.p, c.detectable), (Verdict::Inconclusive, None, None));
        assert_eq!(unable_to_detect(&[c], 0.5).len(), 1);
    }

    #[test]
    fn only_cells_and_metrics_on_both_sides_and_with_a_role() {
        let old = snapshot(&[("gone", &[1.0, 2.0]), ("kept", &[1.0, 1.1]), ("failed", &[])]);
        let new = snapshot(&[("kept", &[1.0, 1.1]), ("added", &[3.0, 3.0]), ("failed", &[2.0, 2.0])]);
        let changes = compare(&old, &new, &CRITERIA, &Bootstrap::new(1), primary).changes;
        let kernels: Vec<&str> = changes.iter().map(|c| c.key.kernel.as_str()).collect();
        assert_eq!(kernels, ["kept"]);
        let none = compare(&old, &new, &CRITERIA, &Bootstrap::new(1), |_, m| (m != WALL_MS).then_some(Role::Primary));
        assert!(none.changes.is_empty());
    }

    #[test]
    fn described_metrics_are_shown_and_never_tested() {
        let runs = |v: &[f64]| v.iter().enumerate().map(|(i, x)| (i as u32, *x)).collect::<Vec<_>>();
        let cell = |wall: &[f64], rss: &[f64]| -> Samples {
            [(key("k"), [(WALL_MS.to_string(), runs(wall)), (MAX_RSS_MIB.to_string(), runs(rss))].into())].into()
        };
        let old = cell(&[10.0, 10.1, 9.9, 10.0, 10.05], &[5.0, 5.0, 5.0, 5.0, 5.0]);
        let new = cell(&[10.0, 10.1, 9.9, 10.0, 10.05], &[9.0, 9.0, 9.0, 9.0, 9.0]);
        let role = |_: &CellKey, m: &str| Some(if m == WALL_MS { Role::Primary } else { Role::Described });
        let changes = compare(&old, &new, &CRITERIA, &Bootstrap::new(1), role).changes;
        let rss = changes.iter().find(|c| c.metric == MAX_RSS_MIB).expect("described");
        assert_eq!((rss.verdict, rss.p, rss.primary, rss.detectable), (Verdict::Described, None, false, None));
        assert!((rss.relative - 0.8).abs() < 1e-12);
        assert!(rss.interval.is_some());
        assert_eq!(detection(&changes).tested, 1);
    }

    #[test]
    fn benjamini_hochberg_lets_a_clear_change_through_many_tests() {
        // Fifty cells, twenty rounds a side, paired. One is 10 % slower in
        // every round, with ±1 % noise; the others are identical. With
        // Holm or Bonferroni at 0.05 / 50 the signed-rank test's 2 / 2²⁰
        // would pass too; what must not happen is that the identical
        // cells are called changed.
        let base: Vec<f64> = (0..20).map(|i| 10.0 * (1.0 + 0.01 * ((i * 7 % 11) as f64 - 5.0) / 5.0)).collect();
        let slower: Vec<f64> = base.iter().map(|v| v * 1.1).collect();
        let mut cells: Vec<(String, &[f64], &[f64])> =
            (0..49).map(|i| (format!("same{i:02}"), &base[..], &base[..])).collect();
        cells.push(("moved".into(), &base, &slower));
        let before: Vec<(&str, &[f64])> = cells.iter().map(|(k, o, _)| (k.as_str(), *o)).collect();
        let after: Vec<(&str, &[f64])> = cells.iter().map(|(k, _, n)| (k.as_str(), *n)).collect();
        let comparison = compare(&snapshot(&before), &snapshot(&after), &PAIRED, &Bootstrap::new(1), primary);
        let changes = comparison.changes;
        assert_eq!((changes.len(), comparison.tests, comparison.between_sessions), (50, 50, None));
        let moved = changes.iter().find(|c| c.key.kernel == "moved").expect("compared");
        assert_eq!(moved.verdict, Verdict::Regressed);
        assert!(changes.iter().filter(|c| c.key.kernel != "moved").all(|c| c.verdict == Verdict::Equivalent));
        // The detectable change of the noisy cells is stated, above the
        // threshold and below the planted 10 %.
        let d = moved.detectable.expect("twenty pairs detect something");
        assert!((CRITERIA.threshold..0.1).contains(&d), "{d}");
    }

    #[test]
    fn too_few_rounds_for_the_family_detect_nothing() {
        // Five pairs: 2 / 2⁵ = 0.0625 is the best p, above 0.05 / 1.
        let old = [10.0, 10.1, 9.9, 10.0, 10.05];
        let new = [12.0, 12.1, 11.9, 12.05, 11.95];
        let c = with(&old, &new, PAIRED);
        assert_eq!((c.verdict, c.detectable), (Verdict::Inconclusive, None));
        assert!((c.p.expect("tested") - 0.0625).abs() < 1e-15);
    }

    #[test]
    fn a_median_and_a_rank_test_that_disagree_give_no_verdict() {
        // Thirty rounds: in sixteen the new run is 5 % faster, in fourteen
        // 2.5× slower. The signed-rank test sees the large differences
        // positive (p ≈ 0.04); the medians see the new side 5 % faster.
        // Neither "improved" nor "regressed" is safe.
        let old = [100.0; 30];
        let new: Vec<f64> = [95.0; 16].into_iter().chain([245.0; 14]).collect();
        let c = with(&old, &new, PAIRED);
        assert!(c.p.expect("testable") < 0.05 && c.relative < -0.02, "{c:?}");
        assert_eq!((c.lean, c.verdict), (Some(Lean::Larger), Verdict::Inconclusive));
    }

    #[test]
    fn between_sessions_the_cells_own_moves_widen_every_test() {
        // Twelve cells measured tightly (±0.1 %), each moved by its session
        // by a few per cent either way: their spread, not their runs, says
        // how sharp the comparison can be. A 4 % move of one cell is then
        // no regression; a 40 % one is.
        let moves = [0.03, -0.04, 0.02, -0.01, 0.0, 0.035, -0.02, 0.01, -0.03, 0.025, 0.04, 0.40];
        let cells: Vec<(String, Vec<f64>, Vec<f64>)> = moves
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let old: Vec<f64> = (0..10).map(|r| 10.0 * (1.0 + 0.001 * ((r * 3 % 7) as f64 - 3.0))).collect();
                let new = old.iter().map(|v| v * (1.0 + m)).collect();
                (format!("k{i:02}"), old, new)
            })
            .collect();
        let before: Vec<(&str, &[f64])> = cells.iter().map(|(k, o, _)| (k.as_str(), &o[..])).collect();
        let after: Vec<(&str, &[f64])> = cells.iter().map(|(k, _, n)| (k.as_str(), &n[..])).collect();
        let comparison = compare(&snapshot(&before), &snapshot(&after), &CRITERIA, &Bootstrap::new(1), primary);
        let spread = comparison.between_sessions.expect("twelve cells");
        assert!(spread > 0.015 && spread < 0.06, "{spread}");
        let verdict = |k: &str| comparison.changes.iter().find(|c| c.key.kernel == k).expect("compared").verdict;
        assert_eq!(verdict("k10"), Verdict::Inconclusive);
        assert_eq!(verdict("k11"), Verdict::Regressed);
        // What the two sessions can detect is bounded by their spread.
        let detectable = comparison.changes[0].detectable.expect("tested");
        assert!(detectable > 2.0 * spread, "{detectable} vs {spread}");
        // Too few cells to tell: said, not guessed.
        let few = compare(&snapshot(&before[..3]), &snapshot(&after[..3]), &CRITERIA, &Bootstrap::new(1), primary);
        assert_eq!(few.between_sessions, None);
    }

    #[test]
    fn the_default_primary_metric_is_the_kernels_time_where_it_has_one() {
        let mut metrics: BTreeMap<String, Vec<(u32, f64)>> = [(WALL_MS.to_string(), vec![])].into();
        assert_eq!(default_primary(&metrics), WALL_MS);
        metrics.insert(KERNEL_MS.to_string(), vec![]);
        assert_eq!(default_primary(&metrics), KERNEL_MS);
    }

    #[test]
    fn relative_change_from_zero() {
        assert_eq!(relative_change(0.0, 0.0), 0.0);
        assert_eq!(relative_change(0.0, 1.0), f64::INFINITY);
        assert!((relative_change(4.0, 5.0) - 0.25).abs() < 1e-15);
    }
}
