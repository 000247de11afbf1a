//! How small a change a comparison can detect: the change that it would
//! call regressed four times in five ([`POWER`]), given how noisy the runs
//! are, how many there are, and how many tests share the error rate.
//!
//! The figure is the usual normal approximation of a test's power on the
//! log scale (times are compared as ratios), with the rank tests'
//! efficiency against a t-test under normal noise (3/π) and the strictest
//! step of Benjamini–Hochberg (α / m: one real change among m tests). A
//! regression also needs its estimated change above the threshold, so the
//! figure is never below it. The simulation tests check it against the
//! rate at which planted changes are actually found.

use statrs::distribution::{ContinuousCDF, Normal};
use statrs::statistics::Statistics;

use crate::{resample, tdist};

/// The chance of detecting a change of the detectable size.
pub const POWER: f64 = 0.8;

/// The asymptotic relative efficiency of the Wilcoxon tests against the
/// t-test when the noise is normal.
const RANK_EFFICIENCY: f64 = 3.0 / std::f64::consts::PI;

/// The standard deviation of a normal sample estimated from its median
/// absolute deviation: robust to the runs a host disturbed.
const MAD_TO_SD: f64 = 1.482_602_218_505_602;

/// The noise a test sees, on the log scale.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Noise {
    /// The standard error of the test's location (the shift the rank test
    /// looks for).
    pub test: f64,
    /// The standard error of the estimate the threshold is read on (the
    /// log of the ratio of medians).
    pub estimate: f64,
    /// Degrees of freedom of `test`: a spread read from few runs is itself
    /// uncertain, so the critical value is Student's t, not the normal's.
    pub freedom: f64,
}

impl Noise {
    /// Paired by round: the per-round differences of log values.
    pub fn paired(log_differences: &[f64]) -> Option<Noise> {
        let n = log_differences.len();
        let spread = robust_sd(log_differences)?;
        let se = spread / (n as f64).sqrt();
        Some(Noise::of(se, n as f64 - 1.0))
    }

    /// Two independent sets of log values.
    pub fn independent(old_logs: &[f64], new_logs: &[f64]) -> Option<Noise> {
        let (a, b) = (robust_sd(old_logs)?, robust_sd(new_logs)?);
        let se = (a * a / old_logs.len() as f64 + b * b / new_logs.len() as f64).sqrt();
        Some(Noise::of(se, (old_logs.len() + new_logs.len()) as f64 - 2.0))
    }

    /// A plan not yet run: `runs` per side, each side's runs spread by
    /// `spread` on the log scale, paired by round (the rounds' shared
    /// disturbances cancel; what is left of each run's noise does not).
    pub fn planned_paired(spread: f64, runs: usize) -> Option<Noise> {
        if runs < 2 || !(spread.is_finite() && spread >= 0.0) {
            return None;
        }
        let se = spread * (2.0 / runs as f64).sqrt();
        Some(Noise::of(se, runs as f64 - 1.0))
    }

    /// From the standard error of a mean log difference: the rank test
    /// needs 1/efficiency times the runs, the median 1.25² times.
    fn of(se: f64, freedom: f64) -> Noise {
        Noise { test: se / RANK_EFFICIENCY.sqrt(), estimate: se * MEDIAN_EFFICIENCY_FACTOR, freedom }
    }

    /// Adds a spread between sessions (log scale, one standard deviation)
    /// that neither side's runs show: two sessions' comparison is only as
    /// sharp as the sessions agree. The log ratio is then both what is
    /// tested and what the threshold is read on.
    pub fn with_sessions(self, between: f64) -> Noise {
        let total = (self.estimate * self.estimate + between * between).sqrt();
        Noise { test: total, estimate: total, ..self }
    }

    /// Replaces the estimate's standard error by the one a bootstrap
    /// measured (the standard deviation of its log replicates).
    pub fn with_bootstrap(self, log_replicates: &[f64]) -> Noise {
        match standard_deviation(log_replicates) {
            Some(sd) if sd.is_finite() => Noise { estimate: sd, ..self },
            _ => self,
        }
    }
}

/// A median's standard error is √(π/2) ≈ 1.25 times a mean's under normal
/// noise.
const MEDIAN_EFFICIENCY_FACTOR: f64 = 1.253_314_137_315_500_3;

/// The smallest relative change (0.10 = 10 % slower) that is called
/// regressed with probability [`POWER`]: the test at two-sided level
/// `bound` rejects *and* the estimate exceeds `threshold`, taken as
/// independent events, each in the normal approximation (the test's
/// critical value from Student's t).
pub fn detectable_change(noise: Noise, bound: f64, threshold: f64) -> f64 {
    let standard = Normal::new(0.0, 1.0).expect("the standard normal is valid");
    let critical = tdist::quantile(1.0 - bound / 2.0, noise.freedom);
    let relevant = threshold.ln_1p();
    let chance = |shift: f64, se: f64, bar: f64| {
        if se > 0.0 {
            standard.cdf((shift - bar) / se)
        } else if shift > bar {
            1.0
        } else {
            0.0
        }
    };
    let found = |shift: f64| chance(shift, noise.test, critical * noise.test) * chance(shift, noise.estimate, relevant);
    // Bisection on the log scale: found() grows with the shift.
    let (mut lo, mut hi) = (0.0, 1.0);
    while found(hi) < POWER && hi < 50.0 {
        (lo, hi) = (hi, hi * 2.0);
    }
    for _ in 0..200 {
        let mid = (lo + hi) / 2.0;
        if found(mid) >= POWER { hi = mid } else { lo = mid }
    }
    hi.exp_m1()
}

/// 1.4826 × the median absolute deviation, or the standard deviation when
/// more than half of the values are equal (a MAD of 0 says nothing about
/// the rest). `None` below two values.
pub fn robust_sd(values: &[f64]) -> Option<f64> {
    if values.len() < 2 {
        return None;
    }
    let centre = resample::median(values);
    let deviations: Vec<f64> = values.iter().map(|v| (v - centre).abs()).collect();
    let mad = resample::median(&deviations) * MAD_TO_SD;
    if mad > 0.0 { Some(mad) } else { standard_deviation(values) }
}

fn standard_deviation(values: &[f64]) -> Option<f64> {
    (values.len() >= 2).then(|| Statistics::std_dev(values))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_detectable_change_grows_with_noise_and_tests_and_never_undercuts_the_threshold() {
        let quiet = Noise { test: 0.001, estimate: 0.001, freedom: 1000.0 };
        assert!((detectable_change(quiet, 0.01, 0.05) - 0.05).abs() < 0.002);
        let noisy = Noise { test: 0.03, estimate: 1e-9, freedom: 1e9 };
        let one = detectable_change(noisy, 0.01, 0.05);
        let many = detectable_change(noisy, 0.01 / 100.0, 0.05);
        assert!(one > 0.05 && many > one, "{one} {many}");
        // Significance alone: (z(0.995) + z(0.8)) · 0.03 = (2.5758 +
        // 0.8416) · 0.03 = 0.10252.
        assert!((one - 0.10252f64.exp_m1()).abs() < 1e-4, "{one}");
        // Needing the estimate above the threshold as well costs more.
        assert!(detectable_change(Noise { estimate: 0.03, ..noisy }, 0.01, 0.05) > one);
        // So does a spread read from few runs.
        assert!(detectable_change(Noise { freedom: 9.0, ..noisy }, 0.01, 0.05) > one);
    }

    #[test]
    fn robust_spread_ignores_one_wild_value() {
        let mut v: Vec<f64> = (0..20).map(|i| (i as f64 - 9.5) * 0.01).collect();
        let clean = robust_sd(&v).expect("n ≥ 2");
        v[0] = 5.0;
        let wild = robust_sd(&v).expect("n ≥ 2");
        assert!((wild / clean - 1.0).abs() < 0.15, "{clean} {wild}");
        assert_eq!(robust_sd(&[1.0]), None);
        // Mostly equal: the MAD is 0, the standard deviation is not.
        assert!(robust_sd(&[1.0, 1.0, 1.0, 2.0]).expect("n ≥ 2") > 0.0);
    }

    #[test]
    fn pairing_by_round_measures_only_what_differs_within_a_round() {
        let d = [0.01, -0.01, 0.02, -0.02, 0.0, 0.01, -0.01];
        let paired = Noise::paired(&d).expect("n ≥ 2");
        assert!(paired.test > 0.0 && paired.estimate > 0.0);
        assert!(Noise::planned_paired(0.1, 60).expect("runs") == Noise::planned_paired(0.1, 60).expect("runs"));
        assert_eq!(Noise::planned_paired(0.1, 1), None);
    }
}
