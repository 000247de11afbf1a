//! Comparing two analyses of the same plan, an old snapshot against a new
//! run, to spot regressions.

use serde::{Deserialize, Serialize};

use crate::analysis::{Analysis, CellKey};
use crate::summary::Summary;
use crate::welch::welch;

/// What happened to one metric of one cell. Lower is better for every
/// metric edgebench records (times and memory).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Improved,
    Regressed,
    /// Not both significant and larger than the threshold.
    Unchanged,
    /// A side has fewer than two values: no test is possible.
    Inconclusive,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub key: CellKey,
    pub metric: String,
    pub old: Summary,
    pub new: Summary,
    /// `new.mean / old.mean − 1`: 0.05 is 5 % slower (or bigger). Zero when
    /// both means are zero; infinite when only the old one is, which JSON
    /// cannot hold (serde_json writes `null`).
    pub relative: f64,
    /// Welch's two-sided p-value; `None` when no test was possible.
    pub p: Option<f64>,
    /// `p` adjusted for every test of the comparison (Holm–Bonferroni);
    /// the verdict is taken on this one.
    #[serde(default)]
    pub p_adjusted: Option<f64>,
    pub verdict: Verdict,
}

/// Compares every metric (those `keep` accepts) of every cell present in
/// both analyses, in cell and metric order.
///
/// A change counts only when it is both statistically significant and
/// practically relevant (|relative| > `threshold`, e.g. 0.02 for 2 %): with
/// many runs, tiny real differences become significant and would drown the
/// report. Significance is Welch's p adjusted by Holm's step-down method
/// over all the tests made, below `alpha`: a matrix of hundreds of cells
/// tested at 1 % each would otherwise report a few changes between two runs
/// of the same code by chance alone. Holm bounds the chance of any false
/// change at `alpha`.
pub fn compare(old: &Analysis, new: &Analysis, alpha: f64, threshold: f64, keep: impl Fn(&str) -> bool) -> Vec<Change> {
    let mut changes = Vec::new();
    for cell in &new.cells {
        let Some(before) = old.cell(&cell.key) else {
            continue;
        };
        for (metric, now) in cell.metrics.iter().filter(|(m, _)| keep(m)) {
            let Some(then) = before.metrics.get(metric) else {
                continue;
            };
            let p = welch(then, now).map(|w| w.p);
            changes.push(Change {
                key: cell.key.clone(),
                metric: metric.to_string(),
                old: then.clone(),
                new: now.clone(),
                relative: relative_change(then.mean, now.mean),
                p,
                p_adjusted: None,
                verdict: Verdict::Inconclusive,
            });
        }
    }
    let adjusted = holm(&changes.iter().map(|c| c.p).collect::<Vec<_>>());
    for (c, q) in changes.iter_mut().zip(adjusted) {
        c.p_adjusted = q;
        c.verdict = match q {
            None => Verdict::Inconclusive,
            Some(q) if q < alpha && c.relative.abs() > threshold => {
                if c.relative > 0.0 {
                    Verdict::Regressed
                } else {
                    Verdict::Improved
                }
            }
            Some(_) => Verdict::Unchanged,
        };
    }
    changes
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
    use std::collections::BTreeMap;

    use edgebench_model::Dataset;

    use super::*;
    use crate::analysis::{CellSummary, WALL_MS};

    const ALPHA: f64 = 0.05;
    const THRESHOLD: f64 = 0.02;

    fn key(kernel: &str) -> CellKey {
        CellKey { kernel: kernel.into(), dataset: Dataset::Small, runtime: "wasmtime".into(), variant: "jit".into() }
    }

    /// An analysis with one cell per kernel, each with only a wall time.
    fn snapshot(cells: &[(&str, &[f64])]) -> Analysis {
        let mut cells: Vec<CellSummary> = cells
            .iter()
            .map(|(kernel, wall)| CellSummary {
                key: key(kernel),
                measured_runs: wall.len(),
                ok_runs: wall.len(),
                warmup_runs: 0,
                failures: BTreeMap::new(),
                failure_examples: Vec::new(),
                checksum: None,
                reference_checksum: None,
                reference_source: None,
                metrics: Summary::of(wall).map(|s| (WALL_MS.to_string(), s)).into_iter().collect(),
            })
            .collect();
        cells.sort_by(|a, b| a.key.cmp(&b.key));
        Analysis { cells, ratios: Vec::new(), geomeans: Vec::new(), baseline: None }
    }

    fn one(old: &[f64], new: &[f64], threshold: f64) -> Change {
        let changes = compare(&snapshot(&[("k", old)]), &snapshot(&[("k", new)]), ALPHA, threshold, |_| true);
        assert_eq!(changes.len(), 1);
        changes.into_iter().next().expect("one change")
    }

    #[test]
    fn a_clear_regression_and_its_reverse() {
        // 20 % slower with a spread of 1 %: scipy 1.17.1 ttest_ind(old, new,
        // equal_var=False) gives p = 1.468347758346303e-10.
        let old = [10.0, 10.1, 9.9, 10.0, 10.05];
        let new = [12.0, 12.1, 11.9, 12.05, 11.95];
        let c = one(&old, &new, THRESHOLD);
        assert_eq!(c.verdict, Verdict::Regressed);
        assert!((c.relative - (12.0 / 10.01 - 1.0)).abs() < 1e-12, "{}", c.relative);
        let p = c.p.expect("testable");
        assert!((p - 1.468347758346303e-10).abs() < 1e-15, "{p}");
        assert_eq!((c.key, c.metric.as_str()), (key("k"), WALL_MS));

        let back = one(&new, &old, THRESHOLD);
        assert_eq!(back.verdict, Verdict::Improved);
        assert!(back.relative < 0.0);
    }

    #[test]
    fn identical_samples_are_unchanged() {
        let s = [10.0, 10.4, 9.7, 10.1];
        let c = one(&s, &s, THRESHOLD);
        assert_eq!((c.verdict, c.relative, c.p), (Verdict::Unchanged, 0.0, Some(1.0)));
    }

    #[test]
    fn significant_but_below_the_threshold_is_unchanged() {
        // A 1 % shift, very significant (scipy: p = 2.933859023075543e-10),
        // but within the 2 % that counts.
        let old = [100.0, 100.1, 99.9, 100.0, 100.05, 99.95];
        let new = [101.0, 101.1, 100.9, 101.0, 101.05, 100.95];
        let c = one(&old, &new, THRESHOLD);
        assert_eq!(c.verdict, Verdict::Unchanged);
        assert!(c.p.expect("testable") < 1e-9);
        assert!((c.relative - 0.01).abs() < 1e-12);
        // The same shift counts against a 0.5 % threshold.
        assert_eq!(one(&old, &new, 0.005).verdict, Verdict::Regressed);
    }

    #[test]
    fn large_but_noisy_is_unchanged() {
        // +11 % on the mean, but scipy gives p = 0.8505408894206634.
        let c = one(&[10.0, 20.0, 5.0, 30.0], &[12.0, 25.0, 6.0, 28.0], THRESHOLD);
        assert_eq!(c.verdict, Verdict::Unchanged);
        assert!((c.p.expect("testable") - 0.8505408894206634).abs() < 1e-9);
    }

    #[test]
    fn a_single_run_is_inconclusive() {
        let c = one(&[10.0], &[20.0, 21.0, 19.0], THRESHOLD);
        assert_eq!((c.verdict, c.p), (Verdict::Inconclusive, None));
        assert!((c.relative - 1.0).abs() < 1e-12);
        assert_eq!(one(&[10.0, 11.0], &[20.0], THRESHOLD).verdict, Verdict::Inconclusive);
    }

    #[test]
    fn constant_samples_that_differ_are_certain() {
        let c = one(&[10.0, 10.0, 10.0], &[11.0, 11.0], THRESHOLD);
        assert_eq!((c.verdict, c.p), (Verdict::Regressed, Some(0.0)));
    }

    #[test]
    fn only_cells_and_metrics_on_both_sides() {
        let old = snapshot(&[("gone", &[1.0, 2.0]), ("kept", &[1.0, 1.1]), ("failed", &[])]);
        let new = snapshot(&[("kept", &[1.0, 1.1]), ("added", &[3.0, 3.0]), ("failed", &[2.0, 2.0])]);
        let changes = compare(&old, &new, ALPHA, THRESHOLD, |_| true);
        let kernels: Vec<&str> = changes.iter().map(|c| c.key.kernel.as_str()).collect();
        assert_eq!(kernels, ["kept"]);
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
        // Alone, a 17 % change with 0.001 < p < 0.05 counts at alpha 0.05.
        // Among 49 unchanged cells, Holm multiplies its p by 50: it no longer
        // counts, while a far clearer change still does.
        let old = [10.0, 11.0, 9.0, 10.5, 9.5];
        let new = [11.6, 12.9, 10.5, 12.3, 11.2];
        let alone = one(&old, &new, THRESHOLD);
        assert_eq!(alone.verdict, Verdict::Regressed);
        let p = alone.p.expect("testable");
        assert!(p > 0.05 / 50.0 && p < 0.05, "{p}");

        let same = [10.0, 10.1, 9.9];
        let clear_old = [10.0, 10.01, 9.99, 10.0];
        let clear_new = [20.0, 20.01, 19.99, 20.0];
        let mut cells: Vec<(String, &[f64], &[f64])> =
            (0..48).map(|i| (format!("same{i:02}"), &same[..], &same[..])).collect();
        cells.push(("moved".into(), &old, &new));
        cells.push(("doubled".into(), &clear_old, &clear_new));
        let before: Vec<(&str, &[f64])> = cells.iter().map(|(k, o, _)| (k.as_str(), *o)).collect();
        let after: Vec<(&str, &[f64])> = cells.iter().map(|(k, _, n)| (k.as_str(), *n)).collect();
        let changes = compare(&snapshot(&before), &snapshot(&after), ALPHA, THRESHOLD, |_| true);
        assert_eq!(changes.len(), 50);
        let by = |k: &str| changes.iter().find(|c| c.key.kernel == k).expect("compared");
        assert_eq!(by("moved").verdict, Verdict::Unchanged);
        assert!(by("moved").p_adjusted.expect("tested") > 0.05);
        assert_eq!(by("doubled").verdict, Verdict::Regressed);
        assert!(changes.iter().filter(|c| c.key.kernel.starts_with("same")).all(|c| c.verdict == Verdict::Unchanged));
    }

    #[test]
    fn relative_change_from_zero() {
        assert_eq!(relative_change(0.0, 0.0), 0.0);
        assert_eq!(relative_change(0.0, 1.0), f64::INFINITY);
        assert!((relative_change(4.0, 5.0) - 0.25).abs() < 1e-15);
    }
}
