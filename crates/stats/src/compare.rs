//! Comparing two sets of runs of the same plan, an old snapshot against a
//! new run: what regressed, what improved, what is shown to be unchanged,
//! and what the data cannot tell.

use serde::{Deserialize, Serialize};

use crate::analysis::{CellKey, Samples, values};
use crate::ranktest::{critical_u, mann_whitney, smallest_p};
use crate::resample::{self, Bootstrap};
use crate::summary::Summary;

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
}

/// How strict a comparison is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Criteria {
    /// The family-wise error rate of the regression tests, and the α of
    /// each equivalence test.
    pub alpha: f64,
    /// The smallest relative change that matters (0.05 = 5 %), which is
    /// also the equivalence margin.
    pub threshold: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub key: CellKey,
    pub metric: String,
    pub old: Summary,
    pub new: Summary,
    /// `median(new) / median(old) − 1`: 0.05 is 5 % slower (or bigger).
    /// Zero when both medians are zero; infinite when only the old one is,
    /// which JSON cannot hold (serde_json writes `null`).
    pub relative: f64,
    /// The (1 − 2α) percentile-bootstrap interval of `relative`, the one
    /// equivalence is read from; `None` below two runs a side.
    pub interval: Option<(f64, f64)>,
    /// The rank-sum test's two-sided p-value; `None` below two runs a side.
    pub p: Option<f64>,
    /// Mann–Whitney U of the old runs: the pairs (old, new) with the old
    /// run larger, ties counting half. Below half of all pairs, the new
    /// runs tend to be the larger ones.
    pub u: Option<f64>,
    /// `p` adjusted for every test of the comparison (Holm–Bonferroni);
    /// the verdict is taken on this one.
    pub p_adjusted: Option<f64>,
    /// The smallest slowdown of the old runs that this comparison would
    /// have counted (at least the threshold): the old runs against
    /// themselves shifted, at α divided by the number of tests, ties
    /// ignored, the critical U scaled to the old runs' own pairs when the
    /// two sides differ in size. `None` when no shift could have been
    /// counted (too few runs on either side for that many tests), or when
    /// an old value is zero or negative (a shift of it means nothing).
    pub detectable: Option<f64>,
    pub verdict: Verdict,
}

/// Compares every metric (those `keep` accepts) of every cell present in
/// both sample sets, in cell and metric order.
///
/// A change counts only when it is both statistically significant and
/// practically relevant (|relative| > threshold): with many runs, tiny real
/// differences become significant and would drown the report. Significance
/// is the Wilcoxon–Mann–Whitney p adjusted by Holm's step-down method over
/// all the tests made, below α: a matrix of hundreds of cells tested at
/// 1 % each would otherwise report a few changes between two runs of the
/// same code by chance alone. What does not count is either shown
/// equivalent within the threshold or inconclusive.
pub fn compare(
    old: &Samples,
    new: &Samples,
    criteria: &Criteria,
    bootstrap: &Bootstrap,
    keep: impl Fn(&str) -> bool,
) -> Vec<Change> {
    let mut changes = Vec::new();
    for (key, metrics) in new {
        let Some(before) = old.get(key) else {
            continue;
        };
        for (metric, now) in metrics.iter().filter(|(m, _)| keep(m)) {
            let Some(then) = before.get(metric) else {
                continue;
            };
            let (then, now) = (values(then), values(now));
            let (Some(old_summary), Some(new_summary)) = (Summary::of(&then), Summary::of(&now)) else {
                continue;
            };
            let testable = then.len() >= 2 && now.len() >= 2;
            let stream = format!("{}/{metric}", key.label());
            let interval =
                if testable { change_interval(&then, &now, criteria.alpha, bootstrap, &stream) } else { None };
            let test = if testable { mann_whitney(&then, &now) } else { None };
            changes.push(Change {
                key: key.clone(),
                metric: metric.to_string(),
                relative: relative_change(old_summary.median, new_summary.median),
                old: old_summary,
                new: new_summary,
                interval,
                p: test.as_ref().map(|t| t.p),
                u: test.as_ref().map(|t| t.u),
                p_adjusted: None,
                detectable: None,
                verdict: Verdict::Inconclusive,
            });
        }
    }
    let adjusted = holm(&changes.iter().map(|c| c.p).collect::<Vec<_>>());
    let tests = adjusted.iter().flatten().count();
    for (c, q) in changes.iter_mut().zip(adjusted) {
        c.p_adjusted = q;
        c.detectable = q.and(smallest_detectable(&samples_of(old, c), c.new.n, criteria, tests));
        c.verdict = verdict(c, criteria);
    }
    changes
}

fn samples_of(old: &Samples, c: &Change) -> Vec<f64> {
    old.get(&c.key).and_then(|m| m.get(&c.metric)).map(|s| values(s)).unwrap_or_default()
}

fn verdict(c: &Change, criteria: &Criteria) -> Verdict {
    let Some(q) = c.p_adjusted else {
        return Verdict::Inconclusive;
    };
    if q < criteria.alpha && c.relative.abs() > criteria.threshold {
        // The test is two-sided: which way it found the runs moved is U's
        // side of the centre. Should the medians say the other way (runs
        // in two clusters), neither verdict is safe.
        let half = (c.old.n * c.new.n) as f64 / 2.0;
        let new_larger = c.u.is_some_and(|u| u < half);
        let new_smaller = c.u.is_some_and(|u| u > half);
        return match (c.relative > 0.0, new_larger, new_smaller) {
            (true, true, _) => Verdict::Regressed,
            (false, _, true) => Verdict::Improved,
            _ => Verdict::Inconclusive,
        };
    }
    match c.interval {
        Some((lo, hi)) if lo > -criteria.threshold && hi < criteria.threshold => Verdict::Equivalent,
        _ => Verdict::Inconclusive,
    }
}

/// The (1 − 2α) bootstrap interval of median(new) / median(old) − 1, the
/// two sides resampled independently (they ran at different times).
fn change_interval(old: &[f64], new: &[f64], alpha: f64, bootstrap: &Bootstrap, stream: &str) -> Option<(f64, f64)> {
    let replicates = resample::ratio_replicates(new, old, false, &mut bootstrap.stream(stream), bootstrap.resamples)?;
    let (lo, hi) = resample::percentile_interval(replicates, 1.0 - 2.0 * alpha)?;
    Some((lo - 1.0, hi - 1.0))
}

/// How small a change a comparison could have shown, over its tested cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// Cells with a rank test.
    pub tested: usize,
    /// Tested cells too short of runs to show any change.
    pub blind: usize,
    /// Median, smallest and largest `detectable` of the other tested cells.
    pub range: Option<(f64, f64, f64)>,
}

pub fn detection(changes: &[Change]) -> Detection {
    let tested: Vec<&Change> = changes.iter().filter(|c| c.p.is_some()).collect();
    let mut shifts: Vec<f64> = tested.iter().filter_map(|c| c.detectable).collect();
    shifts.sort_unstable_by(f64::total_cmp);
    let range = (!shifts.is_empty()).then(|| (resample::median(&shifts), shifts[0], shifts[shifts.len() - 1]));
    Detection { tested: tested.len(), blind: tested.len() - shifts.len(), range }
}

/// The smallest δ for which the old runs against the old runs × (1 + δ)
/// would pass the rank test at α / tests (Bonferroni, Holm's first and
/// strictest step), and at least the threshold.
///
/// Shifting by δ makes U the number of pairs with oldⱼ / oldᵢ ≤ 1 + δ, so
/// the k-th smallest of those quotients, k the critical U (scaled from
/// n_old · n_new pairs to n_old² when the sides differ in size), is the
/// shift at which the test starts to reject.
fn smallest_detectable(old: &[f64], n_new: usize, criteria: &Criteria, tests: usize) -> Option<f64> {
    let n = old.len();
    if n < 2 || n_new < 2 || tests == 0 || old.iter().any(|v| v.is_nan() || *v <= 0.0) {
        return None;
    }
    let bound = criteria.alpha / tests as f64;
    if smallest_p(n, n_new) >= bound {
        return None;
    }
    let u = critical_u(n, n_new, bound)?;
    let k = ((u as f64 / (n * n_new) as f64) * (n * n) as f64).ceil().clamp(1.0, (n * n) as f64) as usize;
    let mut sorted = old.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    Some((kth_quotient(&sorted, k) - 1.0).max(criteria.threshold))
}

/// The k-th smallest (from 1) of the n² quotients sⱼ / sᵢ of positive
/// sorted values, without making them: bisection on the value, counting
/// the quotients at or below it in one pass of two pointers.
fn kth_quotient(sorted: &[f64], k: usize) -> f64 {
    let at_most = |x: f64| -> usize {
        // For each i, the j with sⱼ ≤ x · sᵢ; the bound grows with i.
        let mut j = 0;
        sorted
            .iter()
            .map(|si| {
                while j < sorted.len() && sorted[j] <= x * si {
                    j += 1;
                }
                j
            })
            .sum()
    };
    let (first, last) = (sorted[0], sorted[sorted.len() - 1]);
    let (mut lo, mut hi) = (first / last, last / first);
    if at_most(lo) >= k {
        return lo;
    }
    // at_most(lo) < k ≤ at_most(hi) throughout; the halvings stop when the
    // two ends are neighbouring floats, hi then being the quotient itself.
    loop {
        let mid = lo + (hi - lo) / 2.0;
        if mid <= lo || mid >= hi {
            return hi;
        }
        if at_most(mid) >= k {
            hi = mid;
        } else {
            lo = mid;
        }
    }
}

/// Holm–Bonferroni adjusted p-values, in the order given; `None` (no test)
/// stays `None` and does not count as a test. With the p-values sorted
/// ascending, the i-th (from 0) of m becomes the running maximum of
/// `(m − i) · p`, capped at 1.
pub fn holm(p: &[Option<f64>]) -> Vec<Option<f64>> {
    let mut order: Vec<usize> = (0..p.len()).filter(|&i| p[i].is_some()).collect();
    order.sort_by(|&a, &b| p[a].partial_cmp(&p[b]).unwrap_or(std::cmp::Ordering::Equal));
    let m = order.len();
    let mut out = vec![None; p.len()];
    let mut running = 0.0_f64;
    for (rank, &i) in order.iter().enumerate() {
        let scaled = ((m - rank) as f64 * p[i].unwrap_or(1.0)).min(1.0);
        running = running.max(scaled);
        out[i] = Some(running);
    }
    out
}

fn relative_change(old: f64, new: f64) -> f64 {
    if old == 0.0 { if new == 0.0 { 0.0 } else { f64::INFINITY.copysign(new) } } else { new / old - 1.0 }
}

#[cfg(test)]
mod tests {
    use edgebench_model::Dataset;

    use super::*;
    use crate::analysis::WALL_MS;
    use crate::resample::DEFAULT_SEED;

    const CRITERIA: Criteria = Criteria { alpha: 0.05, threshold: 0.02 };

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

    fn with(old: &[f64], new: &[f64], criteria: Criteria) -> Change {
        let changes = compare(
            &snapshot(&[("k", old)]),
            &snapshot(&[("k", new)]),
            &criteria,
            &Bootstrap::new(DEFAULT_SEED),
            |_| true,
        );
        assert_eq!(changes.len(), 1);
        changes.into_iter().next().expect("one change")
    }

    fn one(old: &[f64], new: &[f64]) -> Change {
        with(old, new, CRITERIA)
    }

    #[test]
    fn a_clear_regression_and_its_reverse() {
        // 20 % slower, no overlap: scipy 1.17.1 mannwhitneyu(old, new,
        // method="exact") gives p = 2 / C(10, 5) = 0.007936507936507936.
        let old = [10.0, 10.1, 9.9, 10.0, 10.05];
        let new = [12.0, 12.1, 11.9, 12.05, 11.95];
        let c = one(&old, &new);
        assert_eq!(c.verdict, Verdict::Regressed);
        assert!((c.relative - (12.0 / 10.0 - 1.0)).abs() < 1e-12, "{}", c.relative);
        assert!((c.p.expect("testable") - 0.007936507936507936).abs() < 1e-15);
        assert_eq!((c.key, c.metric.as_str()), (key("k"), WALL_MS));
        let (lo, hi) = c.interval.expect("testable");
        assert!(lo > 0.15 && hi < 0.25, "{lo} {hi}");

        let back = one(&new, &old);
        assert_eq!(back.verdict, Verdict::Improved);
        assert!(back.relative < 0.0);
    }

    #[test]
    fn identical_tight_samples_are_shown_equivalent() {
        let s = [10.0, 10.01, 9.99, 10.0, 10.02, 9.98, 10.0, 10.01];
        let c = one(&s, &s);
        assert_eq!((c.verdict, c.relative, c.p), (Verdict::Equivalent, 0.0, Some(1.0)));
        let (lo, hi) = c.interval.expect("testable");
        assert!(lo > -0.005 && hi < 0.005, "{lo} {hi}");
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
        let c = one(&[10.0, 20.0, 5.0, 30.0], &[12.0, 25.0, 6.0, 28.0]);
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
        // Constant and 10 % apart, but ranks of 3 + 2 runs reach p = 0.2 at
        // best: the data cannot say, and the comparison says so.
        let c = one(&[10.0, 10.0, 10.0], &[11.0, 11.0]);
        assert_eq!(c.verdict, Verdict::Inconclusive);
        assert!((c.p.expect("testable") - 0.2).abs() < 1e-12);
        assert_eq!(c.detectable, None);
    }

    #[test]
    fn only_cells_and_metrics_on_both_sides() {
        let old = snapshot(&[("gone", &[1.0, 2.0]), ("kept", &[1.0, 1.1]), ("failed", &[])]);
        let new = snapshot(&[("kept", &[1.0, 1.1]), ("added", &[3.0, 3.0]), ("failed", &[2.0, 2.0])]);
        let changes = compare(&old, &new, &CRITERIA, &Bootstrap::new(1), |_| true);
        let kernels: Vec<&str> = changes.iter().map(|c| c.key.kernel.as_str()).collect();
        assert_eq!(kernels, ["kept"]);
        assert!(compare(&old, &new, &CRITERIA, &Bootstrap::new(1), |m| m != WALL_MS).is_empty());
    }

    #[test]
    fn holm_adjusts_in_rank_order_and_keeps_monotone() {
        // By hand: sorted 0.005, 0.01, 0.03, 0.04 (m = 4) scale to 0.02,
        // 0.03, 0.06, 0.04; the running maximum makes the last 0.06.
        let q = holm(&[Some(0.01), Some(0.04), None, Some(0.03), Some(0.005)]);
        let want = [Some(0.03), Some(0.06), None, Some(0.06), Some(0.02)];
        for (got, want) in q.iter().zip(want) {
            match (got, want) {
                (Some(g), Some(w)) => assert!((g - w).abs() < 1e-12, "{q:?}"),
                (g, w) => assert_eq!(*g, w),
            }
        }
        assert_eq!(holm(&[Some(0.6), Some(0.7)]), [Some(1.0), Some(1.0)]);
    }

    #[test]
    fn many_tests_raise_the_bar_for_each() {
        // Alone, five runs a side that do not overlap count (p = 0.0079).
        // Among 50 tests Holm multiplies that by 50: five runs a side can no
        // longer show any change (detectable: none), while ten runs a side
        // (p = 2 / C(20, 10) = 1.1e-5) still can.
        let old = [10.0, 11.0, 9.0, 10.5, 9.5];
        let new = [11.6, 12.9, 11.5, 12.3, 11.2];
        assert_eq!(one(&old, &new).verdict, Verdict::Regressed);

        let same = [10.0, 10.1, 9.9, 10.05, 9.95];
        let clear_old: Vec<f64> = (0..10).map(|i| 10.0 + 0.01 * i as f64).collect();
        let clear_new: Vec<f64> = clear_old.iter().map(|v| 2.0 * v).collect();
        let mut cells: Vec<(String, &[f64], &[f64])> =
            (0..48).map(|i| (format!("same{i:02}"), &same[..], &same[..])).collect();
        cells.push(("moved".into(), &old, &new));
        cells.push(("doubled".into(), &clear_old, &clear_new));
        let before: Vec<(&str, &[f64])> = cells.iter().map(|(k, o, _)| (k.as_str(), *o)).collect();
        let after: Vec<(&str, &[f64])> = cells.iter().map(|(k, _, n)| (k.as_str(), *n)).collect();
        let changes = compare(&snapshot(&before), &snapshot(&after), &CRITERIA, &Bootstrap::new(1), |_| true);
        assert_eq!(changes.len(), 50);
        let by = |k: &str| changes.iter().find(|c| c.key.kernel == k).expect("compared");
        assert_eq!(by("moved").verdict, Verdict::Inconclusive);
        assert!(by("moved").p_adjusted.expect("tested") > 0.05);
        assert_eq!(by("moved").detectable, None);
        assert_eq!(by("doubled").verdict, Verdict::Regressed);
        assert!(by("doubled").detectable.expect("ten runs a side") < 0.05);
        // Identical, but five noisy runs a side do not pin the change down
        // to ±2 %.
        assert!(changes.iter().filter(|c| c.key.kernel.starts_with("same")).all(|c| c.verdict != Verdict::Regressed));
    }

    #[test]
    fn the_k_th_quotient_without_making_them_all() {
        let values = [1.0, 1.5, 2.0, 4.0];
        let mut all: Vec<f64> = values.iter().flat_map(|a| values.iter().map(move |b| b / a)).collect();
        all.sort_unstable_by(f64::total_cmp);
        for k in 1..=16 {
            let got = kth_quotient(&values, k);
            assert!((got - all[k - 1]).abs() <= 1e-12 * all[k - 1], "k = {k}: {got} vs {}", all[k - 1]);
        }
    }

    #[test]
    fn a_median_and_a_rank_test_that_disagree_give_no_verdict() {
        // Nine of twenty new runs 2.5× slower, the rest a little faster than
        // the old median: the rank test sees the new runs larger, the
        // medians see them smaller. Neither "improved" nor "regressed" is
        // safe.
        let old: Vec<f64> = [100.0; 9].into_iter().chain([120.0; 11]).collect();
        let new: Vec<f64> = [110.0; 11].into_iter().chain([300.0; 9]).collect();
        let c = one(&old, &new);
        assert!(c.p.expect("testable") < 0.05 && c.relative < -0.05, "{c:?}");
        assert_eq!(c.verdict, Verdict::Inconclusive);
    }

    #[test]
    fn detection_needs_enough_runs_on_both_sides() {
        // Ten old runs, three new: 2 / C(13, 3) = 0.007 is the best p, so at
        // 0.05 over 50 tests nothing could be counted.
        let old: Vec<f64> = (0..10).map(|i| 10.0 + 0.01 * i as f64).collect();
        assert_eq!(smallest_detectable(&old, 3, &CRITERIA, 50), None);
        assert!(smallest_detectable(&old, 3, &CRITERIA, 1).is_some());
        assert_eq!(smallest_detectable(&[1.0, 0.0, 2.0], 10, &CRITERIA, 1), None);
    }

    #[test]
    fn relative_change_from_zero() {
        assert_eq!(relative_change(0.0, 0.0), 0.0);
        assert_eq!(relative_change(0.0, 1.0), f64::INFINITY);
        assert!((relative_change(4.0, 5.0) - 0.25).abs() < 1e-15);
    }
}
