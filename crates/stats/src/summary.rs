//! Descriptive statistics of one metric over the runs of one cell.

use serde::{Deserialize, Serialize};
use statrs::statistics::Statistics;

use crate::resample::{self, Bootstrap};

/// Modified z-score above which a value counts as an outlier (Iglewicz and
/// Hoaglin's recommendation).
pub const OUTLIER_Z: f64 = 3.5;

/// Φ⁻¹(0.75): scales the MAD to the standard deviation of a normal sample,
/// as the modified z-score requires.
const MAD_TO_SIGMA: f64 = 0.6745;

/// What one metric looked like over the runs of one cell.
///
/// Fields that need at least two values to mean anything are `Option`s rather
/// than NaN, so a summary always survives a JSON round trip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub n: usize,
    pub mean: f64,
    pub min: f64,
    pub max: f64,
    /// Sample standard deviation (n − 1 denominator); `None` when n < 2.
    pub stddev: Option<f64>,
    pub median: f64,
    /// 95 % percentile-bootstrap interval of the median (see
    /// [`resample`]); `None` when n < 2 or when the summary was made
    /// without resampling ([`Summary::of`]).
    pub median_ci95: Option<(f64, f64)>,
    /// Coefficient of variation, stddev / mean; `None` without a stddev or
    /// when the mean is zero.
    pub cv: Option<f64>,
    /// Median absolute deviation from the median, unscaled.
    pub mad: f64,
    /// Values whose modified z-score exceeds [`OUTLIER_Z`]; zero whenever the
    /// MAD is zero, since the score is then undefined.
    pub outliers: usize,
}

impl Summary {
    /// Summarises `values`; `None` when there are none, or when one is NaN or
    /// infinite (no measurement produces those, and they would poison every
    /// statistic).
    pub fn of(values: &[f64]) -> Option<Summary> {
        if values.is_empty() || values.iter().any(|v| !v.is_finite()) {
            return None;
        }
        let n = values.len();
        let mean = Statistics::mean(values);
        let min = Statistics::min(values);
        let max = Statistics::max(values);
        let stddev = (n >= 2).then(|| Statistics::std_dev(values));
        let median = resample::median(values);
        let cv = match stddev {
            Some(sd) if mean != 0.0 => Some(sd / mean),
            _ => None,
        };
        let deviations: Vec<f64> = values.iter().map(|v| (v - median).abs()).collect();
        let mad = resample::median(&deviations);
        let outliers =
            if mad > 0.0 { deviations.iter().filter(|&&d| MAD_TO_SIGMA * d / mad > OUTLIER_Z).count() } else { 0 };
        Some(Summary { n, mean, min, max, stddev, median, median_ci95: None, cv, mad, outliers })
    }

    /// [`Summary::of`] with the median's bootstrap interval, drawn from the
    /// stream `name` of `bootstrap`.
    pub fn resampled(values: &[f64], bootstrap: &Bootstrap, name: &str) -> Option<Summary> {
        let mut s = Summary::of(values)?;
        s.median_ci95 = resample::median_interval(values, &mut bootstrap.stream(name), bootstrap.resamples);
        Some(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn textbook_sample() {
        // By hand: Σx = 40, mean 5; Σ(x − 5)² = 9+1+1+1+0+0+4+16 = 32, so the
        // sample sd is √(32/7) = 2.138089935299395. Sorted, the middle pair
        // is (4, 5): median 4.5. |x − 4.5| = 2.5, .5, .5, .5, .5, .5, 2.5,
        // 4.5, whose median is 0.5 = MAD. Only 9 scores above 3.5:
        // 0.6745 · 4.5 / 0.5 = 6.07 (2 and 7 score 3.37).
        let s = Summary::of(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]).expect("non-empty");
        assert_eq!(s.n, 8);
        assert!(close(s.mean, 5.0, 1e-12));
        assert_eq!((s.min, s.max), (2.0, 9.0));
        assert!(close(s.stddev.expect("n ≥ 2"), 2.138089935299395, 1e-12));
        assert!(close(s.median, 4.5, 1e-12));
        assert!(close(s.cv.expect("mean ≠ 0"), 2.138089935299395 / 5.0, 1e-12));
        assert_eq!(s.median_ci95, None, "only a resampled summary has one");
        assert!(close(s.mad, 0.5, 1e-12));
        assert_eq!(s.outliers, 1);
    }

    #[test]
    fn a_single_value_has_no_spread() {
        let s = Summary::of(&[7.5]).expect("non-empty");
        assert_eq!((s.n, s.mean, s.min, s.max, s.median, s.mad), (1, 7.5, 7.5, 7.5, 7.5, 0.0));
        assert_eq!((s.stddev, s.cv, s.median_ci95), (None, None, None));
        assert_eq!(s.outliers, 0);
    }

    #[test]
    fn zero_variance() {
        let s = Summary::of(&[3.0, 3.0, 3.0]).expect("non-empty");
        assert_eq!(s.stddev, Some(0.0));
        assert_eq!(s.cv, Some(0.0));
        assert_eq!((s.mad, s.outliers), (0.0, 0));
    }

    #[test]
    fn zero_mean_has_no_cv() {
        let s = Summary::of(&[-1.0, 1.0]).expect("non-empty");
        assert_eq!(s.mean, 0.0);
        assert_eq!(s.cv, None);
    }

    #[test]
    fn a_resampled_summary_has_the_median_interval() {
        let values = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        let bootstrap = Bootstrap::new(resample::DEFAULT_SEED);
        let s = Summary::resampled(&values, &bootstrap, "cell/metric").expect("non-empty");
        let (lo, hi) = s.median_ci95.expect("n ≥ 2");
        assert!(lo <= s.median && s.median <= hi && lo >= 2.0 && hi <= 9.0, "{lo} {hi}");
        assert_eq!(Summary::resampled(&values, &bootstrap, "cell/metric"), Some(s.clone()));
        assert_eq!(Summary { median_ci95: None, ..s }, Summary::of(&values).expect("non-empty"));
        assert_eq!(Summary::resampled(&[3.0, 3.0, 3.0], &bootstrap, "c").and_then(|s| s.median_ci95), Some((3.0, 3.0)));
    }

    #[test]
    fn nothing_to_summarise() {
        assert_eq!(Summary::of(&[]), None);
        assert_eq!(Summary::of(&[1.0, f64::NAN]), None);
        assert_eq!(Summary::of(&[f64::INFINITY]), None);
    }

    #[test]
    fn outliers_are_counted_against_the_mad() {
        // Median 10; |x − 10| sorted = 0 0 0 1 1 2 2 90, MAD = 1. Scores:
        // 100 → 0.6745 · 90 = 60.7; 12 and 8 → 1.35. One outlier.
        let s = Summary::of(&[10.0, 11.0, 9.0, 10.0, 12.0, 8.0, 10.0, 100.0]).expect("non-empty");
        assert_eq!((s.median, s.mad, s.outliers), (10.0, 1.0, 1));
    }

    #[test]
    fn a_zero_mad_flags_nothing() {
        // Five of the eight values equal the median 10, so more than half of
        // the absolute deviations are 0 and the MAD is 0: the modified z-score
        // is undefined and, by design, nothing is flagged, even 100.
        let s = Summary::of(&[10.0, 10.0, 11.0, 10.0, 10.0, 9.0, 10.0, 100.0]).expect("non-empty");
        assert_eq!((s.median, s.mad, s.outliers), (10.0, 0.0, 0));
    }

    #[test]
    fn survives_a_json_round_trip() {
        let s = Summary::of(&[1.1, 2.3, 0.7, 9.9]).expect("non-empty");
        let back: Summary = serde_json::from_str(&serde_json::to_string(&s).expect("serialize")).expect("parse");
        assert_eq!(back, s);
    }
}
