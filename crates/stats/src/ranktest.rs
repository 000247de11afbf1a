//! The Wilcoxon–Mann–Whitney rank-sum test: do two samples come from the
//! same distribution, or is one shifted?
//!
//! It fits edgebench's estimator, the median: it uses only the order of the
//! runs, so one run a host disturbed moves it no more than any other
//! slow run, where a t-test on means would follow the outlier. Small samples
//! (the usual 10 + 10 runs) get the exact permutation distribution of the
//! rank sum, ties included; larger ones the normal approximation with the
//! tie and continuity corrections.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};

/// Pooled sizes up to this get the exact distribution. Its cost grows with
/// n₁ · N · ΣN; 40 stays well under a millisecond per test.
pub const EXACT_UP_TO: usize = 40;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankTest {
    /// Mann–Whitney U of the first sample: how many (x, y) pairs have
    /// x > y, ties counting half.
    pub u: f64,
    /// Two-sided p-value: twice the smaller one-sided one, at most 1.
    pub p: f64,
    pub exact: bool,
}

/// Tests `x` against `y`. `None` when either is empty or holds a value that
/// is not finite.
pub fn mann_whitney(x: &[f64], y: &[f64]) -> Option<RankTest> {
    let (n1, n2) = (x.len(), y.len());
    if n1 == 0 || n2 == 0 || x.iter().chain(y).any(|v| !v.is_finite()) {
        return None;
    }
    let pooled: Vec<f64> = x.iter().chain(y).copied().collect();
    let (doubled_ranks, tie_groups) = doubled_midranks(&pooled);
    let rank_sum_x2: u64 = doubled_ranks[..n1].iter().sum();
    let u = rank_sum_x2 as f64 / 2.0 - (n1 * (n1 + 1)) as f64 / 2.0;
    let n = n1 + n2;
    let p = if n <= EXACT_UP_TO { exact_p(&doubled_ranks, n1, rank_sum_x2) } else { normal_p(u, n1, n2, &tie_groups) };
    Some(RankTest { u, p, exact: n <= EXACT_UP_TO })
}

/// Twice the mid-rank of every value (so ties stay integers), in input
/// order, and the sizes of the groups of tied values.
fn doubled_midranks(values: &[f64]) -> (Vec<u64>, Vec<usize>) {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0u64; values.len()];
    let mut groups = Vec::new();
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        // Ranks start+1 ..= end share their mean, (start + 1 + end) / 2.
        let doubled = (start + 1 + end) as u64;
        for &i in &order[start..end] {
            ranks[i] = doubled;
        }
        groups.push(end - start);
        start = end;
    }
    (ranks, groups)
}

/// The exact two-sided p of a rank sum under the permutation distribution:
/// every way of choosing which n₁ of the pooled values are "x" is equally
/// likely.
fn exact_p(doubled_ranks: &[u64], n1: usize, observed: u64) -> f64 {
    two_sided(&rank_sum_counts(doubled_ranks, n1), observed)
}

/// How many subsets of n₁ of the items have each doubled-rank sum (index =
/// sum), counted item by item. f64 holds the counts (at most
/// C(40, 20) ≈ 1.4e11) exactly.
fn rank_sum_counts(doubled_ranks: &[u64], n1: usize) -> Vec<f64> {
    let total: u64 = doubled_ranks.iter().sum();
    let width = total as usize + 1;
    // counts[k * width + s]: subsets of size k with doubled-rank sum s.
    let mut counts = vec![0.0f64; (n1 + 1) * width];
    counts[0] = 1.0;
    let mut reach = 0usize;
    for &r in doubled_ranks {
        let r = r as usize;
        reach += r;
        for k in (1..=n1).rev() {
            for s in (r..=reach.min(total as usize)).rev() {
                let from = counts[(k - 1) * width + s - r];
                if from != 0.0 {
                    counts[k * width + s] += from;
                }
            }
        }
    }
    counts.split_off(n1 * width)
}

/// Twice the smaller tail at `observed` (both tails include it), at most 1.
fn two_sided(counts: &[f64], observed: u64) -> f64 {
    let all: f64 = counts.iter().sum();
    let observed = (observed as usize).min(counts.len() - 1);
    let at_most: f64 = counts[..=observed].iter().sum();
    let at_least: f64 = counts[observed..].iter().sum();
    (2.0 * at_most.min(at_least) / all).min(1.0)
}

/// Normal approximation: U against n₁n₂/2, with variance
/// n₁n₂/12 · ((N + 1) − Σ(t³ − t) / (N(N − 1))) for tie groups of size t,
/// and a continuity correction of ½ towards the centre.
fn normal_p(u: f64, n1: usize, n2: usize, tie_groups: &[usize]) -> f64 {
    let (n1f, n2f) = (n1 as f64, n2 as f64);
    let n = n1f + n2f;
    let ties: f64 = tie_groups.iter().map(|&t| (t * t * t - t) as f64).sum();
    let variance = n1f * n2f / 12.0 * ((n + 1.0) - ties / (n * (n - 1.0)));
    if variance <= 0.0 {
        return 1.0;
    }
    let distance = ((u - n1f * n2f / 2.0).abs() - 0.5).max(0.0);
    let z = distance / variance.sqrt();
    let standard = Normal::new(0.0, 1.0).expect("the standard normal is valid");
    (2.0 * standard.sf(z)).min(1.0)
}

/// The smallest U of the larger side that reaches a two-sided p below
/// `bound` when n₁ and n₂ values do not tie; `None` when no outcome does
/// (too few runs for so strict a bound).
pub fn critical_u(n1: usize, n2: usize, bound: f64) -> Option<usize> {
    if n1 == 0 || n2 == 0 || smallest_p(n1, n2) >= bound {
        return None;
    }
    let n = n1 + n2;
    let pairs = n1 * n2;
    if n <= EXACT_UP_TO {
        // One distribution, read at every candidate: U of the first sample
        // is (doubled rank sum − n₁(n₁+1)) / 2.
        let doubled: Vec<u64> = (1..=n as u64).map(|r| 2 * r).collect();
        let counts = rank_sum_counts(&doubled, n1);
        let base = (n1 * (n1 + 1)) as u64;
        (pairs.div_ceil(2)..=pairs).find(|&u| two_sided(&counts, 2 * u as u64 + base) < bound)
    } else {
        (pairs.div_ceil(2)..=pairs).find(|&u| normal_p(u as f64, n1, n2, &[]) < bound)
    }
}

/// The smallest two-sided p any outcome can reach with sizes n₁ and n₂ and
/// no ties (complete separation): 2 / C(n₁ + n₂, n₁). Below a test's
/// threshold no difference, however large, can be declared.
pub fn smallest_p(n1: usize, n2: usize) -> f64 {
    let (k, n) = (n1.min(n2), n1 + n2);
    let ways = (0..k).fold(1.0f64, |acc, i| acc * (n - i) as f64 / (i + 1) as f64);
    (2.0 / ways).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubled_midranks_of_ties() {
        // Sorted: 1 (rank 1), 2 2 (ranks 2, 3 → 2.5), 5 (4).
        let (ranks, groups) = doubled_midranks(&[2.0, 5.0, 1.0, 2.0]);
        assert_eq!(ranks, [5, 8, 2, 5]);
        assert_eq!(groups, [1, 2, 1]);
    }

    #[test]
    fn complete_separation_is_the_smallest_p() {
        let x = [1.0, 2.0, 3.0];
        let y = [4.0, 5.0, 6.0];
        let t = mann_whitney(&x, &y).expect("testable");
        assert_eq!(t.u, 0.0);
        assert!(t.exact);
        // 2 / C(6, 3) = 0.1
        assert!((t.p - 0.1).abs() < 1e-15, "{}", t.p);
        assert!((smallest_p(3, 3) - 0.1).abs() < 1e-15);
        assert!((smallest_p(10, 10) - 2.0 / 184_756.0).abs() < 1e-18);
        assert_eq!(mann_whitney(&y, &x).expect("testable").u, 9.0);
    }

    #[test]
    fn critical_values() {
        // 3 + 3: only complete separation (U = 9, p = 0.1) gets below 0.2,
        // nothing gets below 0.1.
        assert_eq!(critical_u(3, 3, 0.2), Some(9));
        assert_eq!(critical_u(3, 3, 0.1), None);
        // 10 + 10 at 5 %: the textbook table's critical U is 23 for the
        // smaller side, so 100 − 23 = 77 for the larger.
        assert_eq!(critical_u(10, 10, 0.05), Some(77));
    }

    #[test]
    fn identical_constant_samples() {
        let t = mann_whitney(&[3.0, 3.0], &[3.0, 3.0, 3.0]).expect("testable");
        assert_eq!(t.p, 1.0);
        assert_eq!(t.u, 3.0);
    }

    #[test]
    fn nothing_to_test() {
        assert_eq!(mann_whitney(&[], &[1.0]), None);
        assert_eq!(mann_whitney(&[1.0, f64::NAN], &[1.0]), None);
    }
}
