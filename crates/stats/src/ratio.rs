//! Ratios of means (runtime vs baseline) and their geometric mean over
//! kernels.
//!
//! Intervals are built on the log scale: a ratio of positive quantities is
//! skewed, its logarithm much less so, and the interval then never crosses
//! zero.

use serde::{Deserialize, Serialize};

use crate::summary::Summary;
use crate::tdist;

/// A ratio of two means with its 95 % confidence interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ratio {
    pub value: f64,
    pub ci95: Option<(f64, f64)>,
}

/// `num.mean / den.mean`; `None` when the denominator's mean is zero.
///
/// The interval uses the delta method on ln(ratio): the variance of the log of
/// a mean is approximately s² / (n · m²), the two samples are independent, so
/// the variances add; the degrees of freedom come from Welch–Satterthwaite on
/// the same two terms. It is `None` when either side has fewer than two
/// values or a mean that is not positive (its logarithm is undefined).
pub fn ratio_of_means(num: &Summary, den: &Summary) -> Option<Ratio> {
    if den.mean == 0.0 {
        return None;
    }
    let value = num.mean / den.mean;
    if !value.is_finite() {
        return None;
    }
    Some(Ratio { value, ci95: log_ratio_ci95(value, num, den) })
}

fn log_ratio_ci95(value: f64, num: &Summary, den: &Summary) -> Option<(f64, f64)> {
    let va = log_mean_variance(num)?;
    let vb = log_mean_variance(den)?;
    let var = va + vb;
    if var == 0.0 {
        return Some((value, value));
    }
    let df = tdist::satterthwaite_df(va, num.n, vb, den.n)?;
    let half = tdist::t975(df)? * var.sqrt();
    finite_pair(value * (-half).exp(), value * half.exp())
}

/// Delta-method variance of ln(mean): s² / (n · m²).
fn log_mean_variance(s: &Summary) -> Option<f64> {
    let sd = s.stddev?;
    if s.n < 2 || s.mean <= 0.0 {
        return None;
    }
    let rel = sd / s.mean;
    Some(rel * rel / s.n as f64)
}

/// Geometric mean of ratios with a 95 % interval over them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GeoMean {
    pub value: f64,
    /// exp(mean(ln r) ± t₀.₉₇₅,ₙ₋₁ · sd(ln r) / √n); `None` when n < 2.
    pub ci95: Option<(f64, f64)>,
    pub n: usize,
}

/// exp(mean(ln r)), the usual way to average speed-ups over kernels (it does
/// not depend on which side is the numerator). `None` when `ratios` is empty
/// or holds a value that is not a positive, finite number.
pub fn geometric_mean(ratios: &[f64]) -> Option<GeoMean> {
    if ratios.iter().any(|r| !(r.is_finite() && *r > 0.0)) {
        return None;
    }
    let logs: Vec<f64> = ratios.iter().map(|r| r.ln()).collect();
    // The interval of the mean of the logs is exactly what a summary of the
    // logs computes; exponentiating maps it back.
    let s = Summary::of(&logs)?;
    let value = s.mean.exp();
    let ci95 = s.ci95.and_then(|(lo, hi)| finite_pair(lo.exp(), hi.exp()));
    Some(GeoMean { value, ci95, n: s.n })
}

fn finite_pair(lo: f64, hi: f64) -> Option<(f64, f64)> {
    (lo.is_finite() && hi.is_finite()).then_some((lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    fn summary(values: &[f64]) -> Summary {
        Summary::of(values).expect("non-empty")
    }

    #[test]
    fn ratio_with_delta_method_interval() {
        // Expected values from a separate NumPy/SciPy 1.17.1 computation:
        //   a = [22, 20, 24, 21, 23]: mean 22, s² = 2.5
        //   b = [10, 11, 12]:         mean 11, s² = 1
        //   va = 2.5/(5·22²) = 0.0010330578512396695
        //   vb = 1/(3·11²)   = 0.0027548209366391185
        //   df = (va+vb)² / (va²/4 + vb²/2) = 3.532846715328467
        //   half = t.ppf(0.975, df) · √(va+vb) = 2.9274053061524556 · 0.061545... = 0.1801693419175579
        //   ci = 2 · exp(∓half) = (1.6702575542554141, 2.3948402387457928)
        let r =
            ratio_of_means(&summary(&[22.0, 20.0, 24.0, 21.0, 23.0]), &summary(&[10.0, 11.0, 12.0])).expect("den ≠ 0");
        assert!(close(r.value, 2.0, 1e-12));
        let (lo, hi) = r.ci95.expect("both n ≥ 2");
        assert!(close(lo, 1.6702575542554141, 1e-6), "{lo}");
        assert!(close(hi, 2.3948402387457928, 1e-6), "{hi}");
    }

    #[test]
    fn ratio_edge_cases() {
        let zero = summary(&[0.0, 0.0]);
        let one = summary(&[1.0]);
        let flat = summary(&[4.0, 4.0, 4.0]);
        let two = summary(&[2.0, 2.0]);
        assert_eq!(ratio_of_means(&flat, &zero), None);
        // A zero numerator is a valid ratio, but its log is not.
        assert_eq!(ratio_of_means(&zero, &flat), Some(Ratio { value: 0.0, ci95: None }));
        assert_eq!(ratio_of_means(&flat, &one), Some(Ratio { value: 4.0, ci95: None }));
        assert_eq!(ratio_of_means(&flat, &two), Some(Ratio { value: 2.0, ci95: Some((2.0, 2.0)) }));
        // Negative means have no logarithm.
        let neg = summary(&[-2.0, -3.0]);
        assert_eq!(ratio_of_means(&flat, &neg).and_then(|r| r.ci95), None);
    }

    #[test]
    fn geometric_mean_with_interval() {
        // Expected values from SciPy 1.17.1: stats.gmean(r) and
        // exp(mean(ln r) ± t.ppf(0.975, 3) · std(ln r, ddof=1) / 2).
        let g = geometric_mean(&[1.2, 1.5, 0.9, 1.1]).expect("valid ratios");
        assert_eq!(g.n, 4);
        assert!(close(g.value, 1.1553855320529245, 1e-9), "{}", g.value);
        let (lo, hi) = g.ci95.expect("n ≥ 2");
        assert!(close(lo, 0.8250236127181257, 1e-6), "{lo}");
        assert!(close(hi, 1.6180333594079825, 1e-6), "{hi}");
    }

    #[test]
    fn geometric_mean_edge_cases() {
        assert_eq!(geometric_mean(&[]), None);
        assert_eq!(geometric_mean(&[1.0, 0.0]), None);
        assert_eq!(geometric_mean(&[1.0, -2.0]), None);
        assert_eq!(geometric_mean(&[1.0, f64::INFINITY]), None);
        assert_eq!(geometric_mean(&[1.0, f64::NAN]), None);
        let single = geometric_mean(&[2.5]).expect("one ratio");
        assert!(close(single.value, 2.5, 1e-12));
        assert_eq!((single.ci95, single.n), (None, 1));
        // 2 and 8: exp((ln 2 + ln 8)/2) = √16 = 4.
        assert!(close(geometric_mean(&[2.0, 8.0]).expect("valid").value, 4.0, 1e-12));
    }
}
