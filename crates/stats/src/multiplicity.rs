//! Adjusting p-values for the number of tests a comparison makes.
//!
//! A gate tests one primary metric per cell, a few dozen to a few hundred
//! tests. Benjamini–Hochberg controls the false discovery rate: of the
//! changes it reports, at most a fraction α are expected to be false, and
//! when nothing changed at all (an A/A comparison) the chance of reporting
//! anything is at most α. Holm's method, which the comparison used before,
//! bounds the chance of *any* false change whatever else changed, but its
//! first step needs p < α / m from every test, which the rank tests of a
//! few runs a side could never reach (see docs/method.md).

use std::cmp::Ordering;

/// Benjamini–Hochberg adjusted p-values (q-values), in the order given;
/// `None` stays `None` and does not count as a test. With the p-values
/// sorted ascending, the i-th (from 1) of m becomes the smallest
/// `m / j · p₍ⱼ₎` over j ≥ i, capped at 1. A test is a discovery at false
/// discovery rate α exactly when its q-value is at most α.
pub fn benjamini_hochberg(p: &[Option<f64>]) -> Vec<Option<f64>> {
    let order = ascending(p);
    let m = order.len();
    let mut out = vec![None; p.len()];
    let mut running = 1.0_f64;
    for (rank, &i) in order.iter().enumerate().rev() {
        let scaled = (m as f64 / (rank + 1) as f64 * p[i].unwrap_or(1.0)).min(1.0);
        running = running.min(scaled);
        out[i] = Some(running);
    }
    out
}

/// The indices of the tests, by ascending p.
fn ascending(p: &[Option<f64>]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..p.len()).filter(|&i| p[i].is_some()).collect();
    order.sort_by(|&a, &b| p[a].partial_cmp(&p[b]).unwrap_or(Ordering::Equal));
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(got: &[Option<f64>], want: &[Option<f64>]) {
        for (g, w) in got.iter().zip(want) {
            match (g, w) {
                (Some(g), Some(w)) => assert!((g - w).abs() < 1e-12, "{got:?} vs {want:?}"),
                (g, w) => assert_eq!(g, w),
            }
        }
    }

    #[test]
    fn benjamini_hochberg_matches_scipy() {
        // scipy 1.17.1: stats.false_discovery_control([0.01, 0.04, 0.03,
        // 0.005, 0.2]) = [0.025, 0.05, 0.05, 0.025, 0.2]: sorted 0.005,
        // 0.01, 0.03, 0.04, 0.2 scale by 5/1 … 5/5 to 0.025, 0.025, 0.05,
        // 0.05, 0.2, already monotone from the top.
        let q = benjamini_hochberg(&[Some(0.01), Some(0.04), None, Some(0.03), Some(0.005), Some(0.2)]);
        close(&q, &[Some(0.025), Some(0.05), None, Some(0.05), Some(0.025), Some(0.2)]);
        // A larger p can pull a smaller one's q down, never up.
        close(&benjamini_hochberg(&[Some(0.02), Some(0.021)]), &[Some(0.021), Some(0.021)]);
        assert_eq!(benjamini_hochberg(&[None]), [None]);
    }

    #[test]
    fn several_strong_changes_among_many_pass_together() {
        // Five changes at p = 0.001 among 50 tests pass at 0.01 (q = 50/5 ·
        // 0.001 = 0.01), where Holm would give the first 50 · 0.001 = 0.05.
        let mut p = vec![Some(0.5); 45];
        p.extend([Some(0.001); 5]);
        let bh = benjamini_hochberg(&p);
        assert!(bh[45..].iter().all(|q| (q.unwrap() - 0.01).abs() < 1e-12), "{bh:?}");
    }
}
