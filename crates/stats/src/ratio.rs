//! Ratios of medians (runtime vs baseline) and their geometric mean over
//! kernels.
//!
//! A ratio's interval is a bootstrap one, paired by round where the runs
//! were (see [`resample`]). A geometric mean gets two intervals that answer
//! different questions: how precisely were these kernels measured, and how
//! much do the kernels differ from one another.

use serde::{Deserialize, Serialize};

use crate::resample::{self, Bootstrap, LEVEL};
use crate::tdist;

/// `median(num) / median(den)` with its 95 % bootstrap interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ratio {
    pub value: f64,
    /// Percentile bootstrap; `None` when either side has fewer than two
    /// runs, or when a resample's baseline median is zero.
    pub ci95: Option<(f64, f64)>,
    /// Whether the interval resampled rounds (one run of each side per
    /// round) rather than each side on its own.
    pub paired: bool,
}

/// A ratio and the bootstrap replicates its interval came from, which the
/// geometric mean's measurement interval reuses.
#[derive(Debug, Clone)]
pub struct RatioEstimate {
    pub ratio: Ratio,
    pub replicates: Option<Vec<f64>>,
}

/// The ratio of the medians of `num` and `den` (both non-empty); `None`
/// when it is not a finite number. `paired` values are in round order on
/// both sides, one per round; the stream `name` of `bootstrap` draws the
/// resamples.
pub fn ratio_of_medians(
    num: &[f64],
    den: &[f64],
    paired: bool,
    bootstrap: &Bootstrap,
    name: &str,
) -> Option<RatioEstimate> {
    if num.is_empty() || den.is_empty() {
        return None;
    }
    let value = resample::median(num) / resample::median(den);
    if !value.is_finite() {
        return None;
    }
    let paired = paired && num.len() == den.len();
    let replicates = resample::ratio_replicates(num, den, paired, &mut bootstrap.stream(name), bootstrap.resamples);
    let ci95 = replicates.clone().and_then(|r| resample::percentile_interval(r, LEVEL));
    let paired = paired && ci95.is_some();
    Some(RatioEstimate { ratio: Ratio { value, ci95, paired }, replicates })
}

/// The geometric mean of ratios over kernels, with two intervals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GeoMean {
    pub value: f64,
    pub n: usize,
    /// Measurement: the 95 % percentile-bootstrap interval of the geometric
    /// mean when each kernel's runs are resampled. It says how well these
    /// kernels were measured; `None` when a kernel had too few runs.
    pub measurement_ci95: Option<(f64, f64)>,
    /// Spread across kernels: exp(mean(ln r) ± t₀.₉₇₅,ₙ₋₁ · sd(ln r) / √n),
    /// treating the kernels as a sample of all kernels one might run. It says
    /// how much kernels differ; `None` when n < 2.
    pub across_kernels_ci95: Option<(f64, f64)>,
}

/// exp(mean(ln r)), the usual way to average speed-ups over kernels (it does
/// not depend on which side is the numerator). `replicates` are each
/// kernel's bootstrap replicates, in the order of `ratios`, when every kernel
/// has them. `None` when `ratios` is empty or holds a value that is not a
/// positive, finite number.
pub fn geometric_mean(ratios: &[f64], replicates: Option<&[&[f64]]>) -> Option<GeoMean> {
    if ratios.is_empty() || ratios.iter().any(|r| !(r.is_finite() && *r > 0.0)) {
        return None;
    }
    let n = ratios.len();
    let logs: Vec<f64> = ratios.iter().map(|r| r.ln()).collect();
    let mean = logs.iter().sum::<f64>() / n as f64;
    let measurement_ci95 = replicates
        .filter(|r| r.len() == n)
        .and_then(resample::geometric_mean_replicates)
        .and_then(|r| resample::percentile_interval(r, LEVEL));
    Some(GeoMean { value: mean.exp(), n, measurement_ci95, across_kernels_ci95: across_kernels(&logs, mean) })
}

fn across_kernels(logs: &[f64], mean: f64) -> Option<(f64, f64)> {
    let n = logs.len();
    if n < 2 {
        return None;
    }
    let variance = logs.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    if variance == 0.0 {
        return Some((mean.exp(), mean.exp()));
    }
    let half = tdist::t975((n - 1) as f64)? * (variance / n as f64).sqrt();
    let (lo, hi) = ((mean - half).exp(), (mean + half).exp());
    (lo.is_finite() && hi.is_finite()).then_some((lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resample::DEFAULT_SEED;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    fn estimate(num: &[f64], den: &[f64], paired: bool) -> RatioEstimate {
        ratio_of_medians(num, den, paired, &Bootstrap::new(DEFAULT_SEED), "r").expect("a ratio")
    }

    #[test]
    fn the_ratio_is_of_medians_not_of_means() {
        // One slow native run among nine fast ones: the means' ratio would
        // say 0.86 (Wasm ahead); the medians say 1.005.
        let native = [0.26, 0.26, 0.26, 0.26, 0.55, 0.26, 0.26, 0.26, 0.26, 0.26];
        let wasm = [0.2613; 10];
        let r = estimate(&wasm, &native, true).ratio;
        assert!(close(r.value, 0.2613 / 0.26, 1e-12), "{}", r.value);
        assert!(r.paired);
        let (lo, hi) = r.ci95.expect("n ≥ 2");
        assert!(lo <= r.value && r.value <= hi);
    }

    #[test]
    fn pairing_needs_one_run_per_round_on_both_sides() {
        let e = estimate(&[2.0, 2.2, 2.1], &[1.0, 1.1], true);
        assert!(!e.ratio.paired, "unequal counts cannot be paired");
        assert!(close(e.ratio.value, 2.1 / 1.05, 1e-12));
        assert_eq!(e.replicates.as_ref().map(Vec::len), Some(crate::resample::RESAMPLES));
        let single = estimate(&[2.0], &[1.0, 1.0], true);
        assert_eq!((single.ratio.ci95, single.ratio.paired, single.replicates.is_none()), (None, false, true));
        assert!(ratio_of_medians(&[1.0], &[0.0], false, &Bootstrap::new(1), "r").is_none());
        assert!(ratio_of_medians(&[], &[1.0], false, &Bootstrap::new(1), "r").is_none());
        assert!(close(estimate(&[0.0, 0.0], &[1.0, 2.0], false).ratio.value, 0.0, 0.0));
    }

    #[test]
    fn geometric_mean_across_kernels() {
        // Expected values from SciPy 1.17.1: stats.gmean(r) and
        // exp(mean(ln r) ± t.ppf(0.975, 3) · std(ln r, ddof=1) / 2).
        let g = geometric_mean(&[1.2, 1.5, 0.9, 1.1], None).expect("valid ratios");
        assert_eq!(g.n, 4);
        assert!(close(g.value, 1.1553855320529245, 1e-9), "{}", g.value);
        let (lo, hi) = g.across_kernels_ci95.expect("n ≥ 2");
        assert!(close(lo, 0.8250236127181257, 1e-6), "{lo}");
        assert!(close(hi, 1.6180333594079825, 1e-6), "{hi}");
        assert_eq!(g.measurement_ci95, None);
    }

    #[test]
    fn the_measurement_interval_is_much_narrower_than_the_spread() {
        // Two kernels measured precisely (±1 %) whose ratios differ a lot.
        let fast: Vec<f64> = (0..10).map(|i| 1.0 + 0.002 * i as f64).collect();
        let twice: Vec<f64> = fast.iter().map(|v| 2.0 * v).collect();
        let four: Vec<f64> = fast.iter().rev().map(|v| 4.0 * v).collect();
        let a = estimate(&twice, &fast, true);
        let b = estimate(&four, &fast, true);
        let reps = [a.replicates.as_deref().expect("n ≥ 2"), b.replicates.as_deref().expect("n ≥ 2")];
        let g = geometric_mean(&[a.ratio.value, b.ratio.value], Some(&reps)).expect("valid");
        assert!(close(g.value, 8f64.sqrt(), 0.01), "{}", g.value);
        let (mlo, mhi) = g.measurement_ci95.expect("every kernel resampled");
        let (klo, khi) = g.across_kernels_ci95.expect("n = 2");
        assert!(mlo <= g.value && g.value <= mhi);
        assert!((mhi - mlo) * 50.0 < khi - klo, "measurement {mlo}–{mhi}, across kernels {klo}–{khi}");
    }

    #[test]
    fn geometric_mean_edge_cases() {
        assert_eq!(geometric_mean(&[], None), None);
        assert_eq!(geometric_mean(&[1.0, 0.0], None), None);
        assert_eq!(geometric_mean(&[1.0, -2.0], None), None);
        assert_eq!(geometric_mean(&[1.0, f64::INFINITY], None), None);
        assert_eq!(geometric_mean(&[1.0, f64::NAN], None), None);
        let single = geometric_mean(&[2.5], None).expect("one ratio");
        assert!(close(single.value, 2.5, 1e-12));
        assert_eq!((single.across_kernels_ci95, single.n), (None, 1));
        // 2 and 8: exp((ln 2 + ln 8)/2) = √16 = 4.
        assert!(close(geometric_mean(&[2.0, 8.0], None).expect("valid").value, 4.0, 1e-12));
        // Replicates that do not match the kernels are not used.
        let one: &[f64] = &[1.0, 1.0];
        assert_eq!(geometric_mean(&[2.0, 8.0], Some(&[one])).expect("valid").measurement_ci95, None);
    }
}
