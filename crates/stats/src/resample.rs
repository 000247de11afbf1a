//! Seeded, deterministic bootstrap: the intervals of medians, of ratios of
//! medians and of their geometric means.
//!
//! The intervals of an analysis are percentile bootstraps: the 2.5th and
//! 97.5th percentiles of the statistic over [`RESAMPLES`] resamples
//! (numpy's linear interpolation between order statistics); `compare`
//! reads the (1 − 2α) one. The random stream of each statistic is derived
//! from the analysis seed and the statistic's name, so an interval depends
//! on the seed and its own data only: not on the thread, nor on which other
//! cells are in the analysis. Medians and ratios of medians come out
//! bit for bit the same on every machine; a geometric mean goes through
//! `ln` and `exp`, whose last bit may differ between platforms' maths
//! libraries.

use serde::{Deserialize, Serialize};

/// Resamples per interval. The percentiles of 2 000 resamples move by well
/// under a tenth of an interval's width from one seed to another.
pub const RESAMPLES: usize = 2000;

/// The seed of every analysis unless the caller picks another.
pub const DEFAULT_SEED: u64 = 20_211_001;

/// Confidence level of every interval edgebench reports.
pub const LEVEL: f64 = 0.95;

/// How an analysis resampled, as recorded next to its intervals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bootstrap {
    pub seed: u64,
    pub resamples: usize,
    /// Always `percentile`; named so the intervals are never mistaken for
    /// Student's t or BCa ones.
    pub method: String,
}

impl Bootstrap {
    pub fn new(seed: u64) -> Bootstrap {
        Bootstrap { seed, resamples: RESAMPLES, method: "percentile".into() }
    }

    /// The random stream of the statistic called `name`.
    pub fn stream(&self, name: &str) -> Rng {
        Rng::new(self.seed ^ fnv1a(name.as_bytes()))
    }
}

/// SplitMix64 (Steele, Lea and Flood, 2014): a 64-bit state, a fixed
/// increment and an output mix. Small, fast, and its output is the same on
/// every platform, which is all a reproducible bootstrap needs.
#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
}

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0), without modulo bias: Lemire's
    /// multiply-and-shift, rejecting the few products that would favour
    /// small results.
    pub fn below(&mut self, n: usize) -> usize {
        let n = n as u64;
        let threshold = n.wrapping_neg() % n;
        loop {
            let product = u128::from(self.next_u64()) * u128::from(n);
            if (product as u64) >= threshold {
                return (product >> 64) as usize;
            }
        }
    }
}

/// 64-bit FNV-1a: turns a statistic's name into a stream offset.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3))
}

/// The median of `values` (the mean of the two middle ones for an even
/// count); reorders `values`. `values` must not be empty.
pub fn median_in_place(values: &mut [f64]) -> f64 {
    let n = values.len();
    let mid = n / 2;
    let (below, upper, _) = values.select_nth_unstable_by(mid, f64::total_cmp);
    let upper = *upper;
    if n % 2 == 1 {
        upper
    } else {
        let lower = below.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (lower + upper) / 2.0
    }
}

/// The median of `values`, which must not be empty.
pub fn median(values: &[f64]) -> f64 {
    median_in_place(&mut values.to_vec())
}

/// The `p` quantile (0 ≤ p ≤ 1) of sorted values, linearly interpolated
/// between order statistics (numpy's default, Hyndman and Fan's type 7).
pub fn quantile_sorted(sorted: &[f64], p: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// The central `level` percentile interval of bootstrap replicates; `None`
/// when there are none or one is not finite.
pub fn percentile_interval(mut replicates: Vec<f64>, level: f64) -> Option<(f64, f64)> {
    if replicates.is_empty() || replicates.iter().any(|r| !r.is_finite()) {
        return None;
    }
    replicates.sort_unstable_by(f64::total_cmp);
    let tail = (1.0 - level) / 2.0;
    Some((quantile_sorted(&replicates, tail), quantile_sorted(&replicates, 1.0 - tail)))
}

/// The medians of `resamples` resamples of `values` (drawn with
/// replacement, same size).
pub fn median_replicates(values: &[f64], rng: &mut Rng, resamples: usize) -> Vec<f64> {
    let mut buffer = vec![0.0; values.len()];
    (0..resamples)
        .map(|_| {
            for slot in buffer.iter_mut() {
                *slot = values[rng.below(values.len())];
            }
            median_in_place(&mut buffer)
        })
        .collect()
}

/// The 95 % percentile interval of the median; `None` below two values,
/// where resampling cannot say anything.
pub fn median_interval(values: &[f64], rng: &mut Rng, resamples: usize) -> Option<(f64, f64)> {
    if values.len() < 2 {
        return None;
    }
    percentile_interval(median_replicates(values, rng, resamples), LEVEL)
}

/// The bootstrap distribution of `median(num) / median(den)`.
///
/// `paired` rounds are resampled together: pair `i` is one run of each side
/// taken in the same round, so a disturbance of the host that slowed both
/// moves both medians of a resample, and cancels in their ratio. Unpaired
/// sides are resampled independently. Either side needs at least two values.
pub fn ratio_replicates(num: &[f64], den: &[f64], paired: bool, rng: &mut Rng, resamples: usize) -> Option<Vec<f64>> {
    if num.len() < 2 || den.len() < 2 || (paired && num.len() != den.len()) {
        return None;
    }
    let mut a = vec![0.0; num.len()];
    let mut b = vec![0.0; den.len()];
    let replicates = (0..resamples)
        .map(|_| {
            if paired {
                for (x, y) in a.iter_mut().zip(b.iter_mut()) {
                    let i = rng.below(num.len());
                    (*x, *y) = (num[i], den[i]);
                }
            } else {
                for x in a.iter_mut() {
                    *x = num[rng.below(num.len())];
                }
                for y in b.iter_mut() {
                    *y = den[rng.below(den.len())];
                }
            }
            median_in_place(&mut a) / median_in_place(&mut b)
        })
        .collect();
    Some(replicates)
}

/// exp(mean(ln rᵢ)) for each resample `j` of the per-kernel ratio
/// replicates `per_kernel[i][j]`: the bootstrap distribution of the
/// geometric mean, kernels resampled independently (they ran as separate
/// cells). `None` if a replicate is not a positive, finite number.
pub fn geometric_mean_replicates(per_kernel: &[&[f64]]) -> Option<Vec<f64>> {
    let resamples = per_kernel.first()?.len();
    if per_kernel.iter().any(|r| r.len() != resamples || r.iter().any(|v| !(v.is_finite() && *v > 0.0))) {
        return None;
    }
    let k = per_kernel.len() as f64;
    Some((0..resamples).map(|j| (per_kernel.iter().map(|r| r[j].ln()).sum::<f64>() / k).exp()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_splitmix64() {
        // The first outputs for seed 0 and seed 1234567, as published with
        // the reference implementation (and Java's SplittableRandom).
        let mut rng = Rng::new(0);
        assert_eq!(rng.next_u64(), 0xe220_a839_7b1d_cdaf);
        assert_eq!(rng.next_u64(), 0x6e78_9e6a_a1b9_65f4);
        let mut rng = Rng::new(1_234_567);
        assert_eq!(rng.next_u64(), 6_457_827_717_110_365_317);
        assert_eq!(rng.next_u64(), 3_203_168_211_198_807_973);
    }

    #[test]
    fn below_stays_in_range_and_covers_it() {
        let mut rng = Rng::new(7);
        let mut seen = [0usize; 10];
        for _ in 0..10_000 {
            seen[rng.below(10)] += 1;
        }
        // 1 000 expected each; 5 standard deviations is ±150.
        assert!(seen.iter().all(|&n| (850..=1150).contains(&n)), "{seen:?}");
        assert_eq!(Rng::new(3).below(1), 0);
    }

    #[test]
    fn streams_depend_on_seed_and_name_only() {
        let b = Bootstrap::new(42);
        assert_eq!(b.stream("gemm/wall").next_u64(), b.stream("gemm/wall").next_u64());
        assert_ne!(b.stream("gemm/wall").next_u64(), b.stream("gemm/kernel").next_u64());
        assert_ne!(b.stream("gemm/wall").next_u64(), Bootstrap::new(43).stream("gemm/wall").next_u64());
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(&[5.0]), 5.0);
        assert_eq!(median(&[2.0, 2.0, 1.0, 9.0]), 2.0);
    }

    #[test]
    fn quantiles_interpolate_like_numpy() {
        // numpy.quantile([1, 2, 4, 8], [0, 0.1, 0.5, 0.975, 1])
        //   = [1, 1.3, 3, 7.7, 8]
        let sorted = [1.0, 2.0, 4.0, 8.0];
        for (p, want) in [(0.0, 1.0), (0.1, 1.3), (0.5, 3.0), (0.975, 7.7), (1.0, 8.0)] {
            assert!((quantile_sorted(&sorted, p) - want).abs() < 1e-12, "{p}");
        }
    }

    #[test]
    fn intervals_are_reproducible_and_contain_the_estimate() {
        let values = [10.0, 10.4, 9.8, 10.1, 12.0, 10.2, 9.9, 10.0, 10.3, 30.0];
        let b = Bootstrap::new(DEFAULT_SEED);
        let one = median_interval(&values, &mut b.stream("x"), RESAMPLES).expect("n ≥ 2");
        let two = median_interval(&values, &mut b.stream("x"), RESAMPLES).expect("n ≥ 2");
        assert_eq!(one, two);
        let m = median(&values);
        assert!(one.0 <= m && m <= one.1, "{one:?} {m}");
        // A median interval never leaves the data's range.
        assert!(one.0 >= 9.8 && one.1 <= 30.0);
        assert_eq!(median_interval(&[1.0], &mut b.stream("x"), RESAMPLES), None);
        assert_eq!(median_interval(&[2.0, 2.0, 2.0], &mut b.stream("x"), RESAMPLES), Some((2.0, 2.0)));
    }

    #[test]
    fn pairing_cancels_a_shared_round_effect() {
        // Both sides slowed by the same factor in rounds 0–3: paired, the
        // ratio is exactly 2 in every round, so every resample says 2.
        let den: Vec<f64> = (0..10).map(|i| if i < 4 { 13.0 } else { 10.0 } + 0.01 * i as f64).collect();
        let num: Vec<f64> = den.iter().map(|d| 2.0 * d).collect();
        let b = Bootstrap::new(1);
        let paired = ratio_replicates(&num, &den, true, &mut b.stream("r"), RESAMPLES).expect("n ≥ 2");
        let (lo, hi) = percentile_interval(paired, LEVEL).expect("finite");
        assert!((lo - 2.0).abs() < 1e-12 && (hi - 2.0).abs() < 1e-12, "{lo} {hi}");
        let unpaired = ratio_replicates(&num, &den, false, &mut b.stream("r"), RESAMPLES).expect("n ≥ 2");
        let (lo, hi) = percentile_interval(unpaired, LEVEL).expect("finite");
        assert!(lo < 1.8 && hi > 2.2, "independent resampling sees the round effect: {lo} {hi}");
        assert_eq!(ratio_replicates(&num[..1], &den, false, &mut b.stream("r"), 10), None);
        assert_eq!(ratio_replicates(&num[..3], &den, true, &mut b.stream("r"), 10), None);
    }

    #[test]
    fn geometric_means_of_replicates() {
        let a = [2.0, 4.0];
        let b = [8.0, 1.0];
        let g = geometric_mean_replicates(&[&a, &b]).expect("positive");
        assert!((g[0] - 4.0).abs() < 1e-12 && (g[1] - 2.0).abs() < 1e-12, "{g:?}");
        assert_eq!(geometric_mean_replicates(&[&a, &[1.0, 0.0]]), None);
        assert_eq!(geometric_mean_replicates(&[&a, &[1.0]]), None);
        assert_eq!(geometric_mean_replicates(&[]), None);
    }
}
