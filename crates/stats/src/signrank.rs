//! The Wilcoxon signed-rank test: are paired differences centred on zero?
//!
//! A same-session A/B comparison runs both sides once per round, so each
//! round gives one pair and its difference of log times: a disturbance of
//! the host that slowed the whole round cancels in it, and what is left is
//! the runs' own noise. The test uses only the signs and the ranks of the
//! differences, so one run the host disturbed moves it no more than any
//! other large difference. Unlike a rank test between two separate sets of
//! runs (2 / C(20, 10) ≈ 1e-5 for ten runs a side), its resolution has no
//! practical floor: with n pairs the
//! smallest two-sided p is 2 / 2ⁿ (1.9e-6 at 20 rounds), far below any
//! threshold a family of a few hundred tests needs.
//!
//! Zero differences are dropped (Wilcoxon's own rule, SciPy's default).
//! Without ties, up to [`EXACT_UP_TO`] pairs get the exact distribution of
//! W⁺; otherwise the normal approximation with the tie correction and no
//! continuity correction (SciPy's `method="approx"`, `correction=False`).

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};

/// Pairs up to this (without ties) get the exact distribution, as SciPy's.
pub const EXACT_UP_TO: usize = 50;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignedRankTest {
    /// W⁺: the sum of the ranks of |d| over the positive differences.
    pub w_plus: f64,
    /// Non-zero differences, the ones ranked.
    pub n: usize,
    /// Two-sided p-value.
    pub p: f64,
    pub exact: bool,
}

impl SignedRankTest {
    /// Whether the differences lean positive (W⁺ above its centre),
    /// negative, or neither.
    pub fn leans(&self) -> std::cmp::Ordering {
        let centre = (self.n * (self.n + 1)) as f64 / 4.0;
        self.w_plus.total_cmp(&centre)
    }
}

/// Tests the differences `d` against zero. `None` when a difference is not
/// finite; every difference zero gives p = 1 with n = 0.
pub fn signed_rank(d: &[f64]) -> Option<SignedRankTest> {
    if d.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let nonzero: Vec<f64> = d.iter().copied().filter(|v| *v != 0.0).collect();
    let n = nonzero.len();
    if n == 0 {
        return Some(SignedRankTest { w_plus: 0.0, n: 0, p: 1.0, exact: true });
    }
    let magnitudes: Vec<f64> = nonzero.iter().map(|v| v.abs()).collect();
    let (doubled, groups) = doubled_midranks(&magnitudes);
    let w_plus_x2: u64 = nonzero.iter().zip(&doubled).filter(|(v, _)| **v > 0.0).map(|(_, r)| *r).sum();
    let w_plus = w_plus_x2 as f64 / 2.0;
    let ties = groups.iter().any(|&t| t > 1);
    let exact = !ties && n <= EXACT_UP_TO;
    let p = if exact { exact_p(n, w_plus as u64) } else { normal_p(w_plus, n, &groups) };
    Some(SignedRankTest { w_plus, n, p, exact })
}

/// The smallest two-sided p of `n` non-zero, untied differences: every
/// one of the same sign, 2 / 2ⁿ.
pub fn smallest_p(n: usize) -> f64 {
    (2.0 * 0.5f64.powi(n.min(i32::MAX as usize) as i32)).min(1.0)
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

/// The exact two-sided p of W⁺ = `w`: under the null every one of the 2ⁿ
/// sign patterns of ranks 1..=n is equally likely. Counts of each sum are
/// built rank by rank; u64 holds them (at most C(50, 25) ≈ 1.3e14).
fn exact_p(n: usize, w: u64) -> f64 {
    let top = n * (n + 1) / 2;
    let mut counts = vec![0u64; top + 1];
    counts[0] = 1;
    let mut reach = 0;
    for rank in 1..=n {
        reach += rank;
        for s in (rank..=reach).rev() {
            counts[s] += counts[s - rank];
        }
    }
    let all = counts.iter().map(|&c| c as f64).sum::<f64>();
    let w = (w as usize).min(top);
    let at_most: f64 = counts[..=w].iter().map(|&c| c as f64).sum();
    let at_least: f64 = counts[w..].iter().map(|&c| c as f64).sum();
    (2.0 * at_most.min(at_least) / all).min(1.0)
}

/// Normal approximation: W⁺ against n(n+1)/4, with variance
/// n(n+1)(2n+1)/24 − Σ(t³ − t)/48 for tie groups of size t.
fn normal_p(w_plus: f64, n: usize, tie_groups: &[usize]) -> f64 {
    let nf = n as f64;
    let ties: f64 = tie_groups.iter().map(|&t| (t * t * t - t) as f64).sum();
    let variance = nf * (nf + 1.0) * (2.0 * nf + 1.0) / 24.0 - ties / 48.0;
    if variance <= 0.0 {
        return 1.0;
    }
    let z = (w_plus - nf * (nf + 1.0) / 4.0).abs() / variance.sqrt();
    let standard = Normal::new(0.0, 1.0).expect("the standard normal is valid");
    (2.0 * standard.sf(z)).min(1.0)
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
    fn all_positive_is_the_smallest_p() {
        let t = signed_rank(&[0.1, 0.2, 0.3, 0.4, 0.5]).expect("finite");
        assert_eq!((t.w_plus, t.n, t.exact), (15.0, 5, true));
        assert!((t.p - 2.0 / 32.0).abs() < 1e-15, "{}", t.p);
        assert!((smallest_p(5) - 0.0625).abs() < 1e-15);
        assert_eq!(t.leans(), std::cmp::Ordering::Greater);
        let back = signed_rank(&[-0.1, -0.2, -0.3, -0.4, -0.5]).expect("finite");
        assert_eq!((back.w_plus, back.p), (0.0, t.p));
        assert_eq!(back.leans(), std::cmp::Ordering::Less);
    }

    #[test]
    fn zeros_are_dropped_and_all_zero_says_nothing() {
        let t = signed_rank(&[0.0, 0.1, 0.0, 0.2]).expect("finite");
        assert_eq!((t.n, t.w_plus), (2, 3.0));
        let none = signed_rank(&[0.0, 0.0]).expect("finite");
        assert_eq!((none.n, none.p), (0, 1.0));
        assert_eq!(signed_rank(&[1.0, f64::NAN]), None);
    }

    #[test]
    fn the_exact_distribution_sums_to_one_and_is_symmetric() {
        // n = 4: sums 0..=10 occur 1,1,1,2,2,2,2,2,1,1,1 times in 16.
        assert!((exact_p(4, 0) - 2.0 / 16.0).abs() < 1e-15);
        assert!((exact_p(4, 10) - 2.0 / 16.0).abs() < 1e-15);
        assert!((exact_p(4, 3) - 2.0 * 5.0 / 16.0).abs() < 1e-15);
        assert_eq!(exact_p(4, 5), 1.0);
    }
}
