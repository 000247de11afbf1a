//! Welch's unequal-variance t-test on two summaries.
//!
//! Benchmark samples of two runtimes (or two sessions) rarely share a
//! variance, so the pooled Student test would be the wrong default.

use serde::{Deserialize, Serialize};

use crate::summary::Summary;
use crate::tdist;

/// Result of [`welch`]. `t` is positive when `a`'s mean is the larger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Welch {
    pub t: f64,
    pub df: f64,
    /// Two-sided p-value.
    pub p: f64,
}

/// Tests whether `a` and `b` have the same mean. `None` when either has fewer
/// than two values (no variance estimate).
///
/// When both samples are constant the test degenerates: equal means give
/// t = 0, p = 1; different means are certainly different, t = ±∞, p = 0. The
/// degrees of freedom are then the pooled n_a + n_b − 2.
pub fn welch(a: &Summary, b: &Summary) -> Option<Welch> {
    let (sa, sb) = (a.stddev?, b.stddev?);
    if a.n < 2 || b.n < 2 {
        return None;
    }
    let va = sa * sa / a.n as f64;
    let vb = sb * sb / b.n as f64;
    let diff = a.mean - b.mean;
    if va + vb == 0.0 {
        let df = (a.n + b.n - 2) as f64;
        return Some(if diff == 0.0 {
            Welch { t: 0.0, df, p: 1.0 }
        } else {
            Welch { t: f64::INFINITY.copysign(diff), df, p: 0.0 }
        });
    }
    let t = diff / (va + vb).sqrt();
    let df = tdist::satterthwaite_df(va, a.n, vb, b.n)?;
    let p = tdist::two_sided_p(t, df)?;
    Some(Welch { t, df, p })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(values: &[f64]) -> Summary {
        Summary::of(values).expect("non-empty")
    }

    #[test]
    fn matches_scipy() {
        // scipy 1.17.1: stats.ttest_ind(a, b, equal_var=False) and, for df,
        // the Welch–Satterthwaite formula evaluated in NumPy.
        let a = summary(&[10.1, 10.4, 9.8, 10.3, 10.0]);
        let b = summary(&[10.9, 11.2, 10.7, 11.4]);
        let w = welch(&a, &b).expect("n ≥ 2");
        assert!((w.t + 4.931299343440864).abs() < 1e-9, "t {}", w.t);
        assert!((w.df - 5.56856303436222).abs() < 1e-9, "df {}", w.df);
        assert!((w.p - 0.0032375717028194943).abs() < 1e-9, "p {}", w.p);
        // Swapping the samples flips the sign only.
        let back = welch(&b, &a).expect("n ≥ 2");
        assert!((back.t + w.t).abs() < 1e-12 && (back.p - w.p).abs() < 1e-15);
    }

    #[test]
    fn matches_scipy_with_unequal_spreads() {
        // scipy 1.17.1, as above; very different variances and sizes.
        let a = summary(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]);
        let b = summary(&[5.0, 5.2, 4.9]);
        let w = welch(&a, &b).expect("n ≥ 2");
        assert!((w.t - 0.4853626716970756).abs() < 1e-9, "t {}", w.t);
        assert!((w.df - 9.15041077601306).abs() < 1e-9, "df {}", w.df);
        assert!((w.p - 0.6388286740883218).abs() < 1e-9, "p {}", w.p);
    }

    #[test]
    fn degenerate_samples() {
        let three = summary(&[3.0, 3.0, 3.0]);
        let four = summary(&[4.0, 4.0]);
        assert_eq!(welch(&three, &three), Some(Welch { t: 0.0, df: 4.0, p: 1.0 }));
        assert_eq!(welch(&three, &four), Some(Welch { t: f64::NEG_INFINITY, df: 3.0, p: 0.0 }));
        assert_eq!(welch(&four, &three), Some(Welch { t: f64::INFINITY, df: 3.0, p: 0.0 }));
        assert_eq!(welch(&three, &summary(&[3.0])), None);
        assert_eq!(welch(&summary(&[1.0]), &summary(&[2.0])), None);
    }

    #[test]
    fn one_constant_sample_still_tests() {
        // Only b varies: df = n_b − 1 exactly, t = (3 − 4) / √(1/3).
        let a = summary(&[3.0, 3.0, 3.0, 3.0]);
        let b = summary(&[3.0, 4.0, 5.0]);
        let w = welch(&a, &b).expect("n ≥ 2");
        assert!((w.df - 2.0).abs() < 1e-12);
        assert!((w.t + 3f64.sqrt()).abs() < 1e-12);
        // scipy 1.17.1: 2 * stats.t.sf(sqrt(3), 2)
        assert!((w.p - 0.22540333075851665).abs() < 1e-9, "p {}", w.p);
    }
}
