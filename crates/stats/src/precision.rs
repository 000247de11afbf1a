//! How precisely a bench has measured so far: the stopping rule of adaptive
//! repetitions (`adaptive:` in a pipeline).
//!
//! A bench with a precision target adds rounds until every primary cell's
//! median is known to within the target — the relative half-width of its
//! 95 % interval — or its maximum is reached. It stops on precision, never
//! on a test's outcome, so the number of rounds carries no information about
//! the difference being measured (no optional-stopping bias).
//!
//! The interval is the distribution-free one of a median from order
//! statistics (the binomial interval: no assumption about the runs' shape,
//! and deterministic, so the decision to stop can be recomputed from the
//! records). For a same-session A/B of two revisions, what must be precise
//! is each cell's base-to-head ratio, so the interval is that of the median
//! of its per-round log ratios.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use edgebench_model::plan::{BASE_SIDE, HEAD_SIDE, side_variant, split_side};

use crate::Samples;
use crate::analysis::CellKey;
use crate::compare::default_primary;

/// One cell's metrics, each by round.
type Metrics = BTreeMap<String, Vec<(u32, f64)>>;

/// The confidence of the intervals the rule reads.
pub const CONFIDENCE: f64 = 0.95;

/// One primary cell's (or pair of cells') precision so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Precision {
    /// The cell (for a pair of revision sides, its head side).
    pub cell: String,
    pub metric: String,
    /// Rounds it has (paired rounds, for a pair).
    pub n: usize,
    /// Half the width of the 95 % interval, over the median: 0.02 is ±2 %.
    /// `None` while there are too few rounds for a 95 % interval (fewer
    /// than 6).
    pub half_width: Option<f64>,
}

impl Precision {
    /// Whether the cell is known to within `target`.
    pub fn meets(&self, target: f64) -> bool {
        self.half_width.is_some_and(|h| h <= target)
    }
}

/// The interval `[x(k), x(n+1−k)]` (1-based order statistics) that holds
/// the median with at least `confidence`: k the largest with
/// P(Binomial(n, ½) < k) ≤ (1 − confidence) / 2. `None` when even the
/// extremes do not reach that confidence.
pub fn order_statistic_interval(sorted: &[f64], confidence: f64) -> Option<(f64, f64)> {
    let n = sorted.len();
    let tail = (1.0 - confidence) / 2.0;
    // P(B < k) for k = 1, 2, …: ln C(n, i) + n ln ½, summed in order.
    let ln_half_n = n as f64 * 0.5f64.ln();
    let mut ln_choose = 0.0; // ln C(n, 0)
    let mut below = 0.0; // P(B < k)
    let mut k = 0;
    for i in 0..n {
        let next = below + (ln_choose + ln_half_n).exp(); // P(B ≤ i) = P(B < i + 1)
        if next > tail {
            break;
        }
        below = next;
        k = i + 1;
        ln_choose += ((n - i) as f64).ln() - ((i + 1) as f64).ln();
    }
    (k >= 1 && k <= n - k + 1).then(|| (sorted[k - 1], sorted[n - k]))
}

/// The relative half-width of the median's interval of positive `values`,
/// read on the log scale (so a ratio and its inverse are equally precise):
/// `(e^(hi − m) − e^(lo − m)) / 2` around the log median m.
fn relative_half_width(mut logs: Vec<f64>) -> Option<f64> {
    logs.sort_by(f64::total_cmp);
    let (lo, hi) = order_statistic_interval(&logs, CONFIDENCE)?;
    let m = crate::resample::median(&logs);
    Some(((hi - m).exp() - (lo - m).exp()) / 2.0)
}

/// Each primary cell's precision: of its median, or — where a cell has
/// revision sides (`variant@base`, `variant@head`) — of the median of its
/// per-round head-to-base log ratios.
pub fn of(samples: &Samples) -> Vec<Precision> {
    // Per cell without its side: the base's and the head's metrics.
    let mut pairs: BTreeMap<CellKey, [Option<&Metrics>; 2]> = BTreeMap::new();
    let mut out = Vec::new();
    for (key, metrics) in samples {
        match split_side(&key.variant) {
            (variant, Some(side)) if side == BASE_SIDE || side == HEAD_SIDE => {
                let slot = usize::from(side == HEAD_SIDE);
                let pair = CellKey { variant: variant.into(), ..key.clone() };
                pairs.entry(pair).or_default()[slot] = Some(metrics);
            }
            _ => {
                let metric = default_primary(metrics);
                let Some(values) = metrics.get(metric) else { continue };
                let logs: Vec<f64> = values.iter().filter(|(_, v)| *v > 0.0).map(|(_, v)| v.ln()).collect();
                out.push(Precision {
                    cell: key.label(),
                    metric: metric.into(),
                    n: logs.len(),
                    half_width: relative_half_width(logs),
                });
            }
        }
    }
    // A cell verified on one side only has no ratio to make precise (and
    // more rounds would not give it one): like a cell with no verified run,
    // it does not hold the bench up; the comparison names it.
    for (key, sides) in pairs {
        let [Some(base), Some(head)] = sides else { continue };
        // One metric for both sides: the primary of what both measured.
        let common: Metrics =
            head.iter().filter(|(m, _)| base.contains_key(*m)).map(|(m, v)| (m.clone(), v.clone())).collect();
        let metric = default_primary(&common);
        let (Some(base), Some(head)) = (base.get(metric), head.get(metric)) else { continue };
        let base: BTreeMap<u32, f64> = base.iter().copied().collect();
        let logs: Vec<f64> = head
            .iter()
            .filter_map(|(round, h)| base.get(round).filter(|b| **b > 0.0 && *h > 0.0).map(|b| (h / b).ln()))
            .collect();
        out.push(Precision {
            cell: side_variant(&key.label(), HEAD_SIDE),
            metric: metric.into(),
            n: logs.len(),
            half_width: relative_half_width(logs),
        });
    }
    out
}

/// The least precise of `precisions` (an unknown precision first).
pub fn worst(precisions: &[Precision]) -> Option<&Precision> {
    precisions.iter().max_by(|a, b| {
        let key = |p: &Precision| p.half_width.unwrap_or(f64::INFINITY);
        key(a).total_cmp(&key(b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgebench_model::Dataset;

    #[test]
    fn the_median_interval_is_the_binomial_one() {
        let sorted: Vec<f64> = (1..=10).map(f64::from).collect();
        // n = 10: P(B ≤ 1) = 11/1024 ≈ 0.0107 ≤ 0.025 < P(B ≤ 2) ≈ 0.0547,
        // so k = 2: [x(2), x(9)], 97.9 % coverage.
        assert_eq!(order_statistic_interval(&sorted, 0.95), Some((2.0, 9.0)));
        // Five values: even the extremes cover only 1 − 2/32 = 93.75 %.
        assert_eq!(order_statistic_interval(&sorted[..5], 0.95), None);
        assert_eq!(order_statistic_interval(&sorted[..6], 0.95), Some((1.0, 6.0)));
        // n = 100: k = 40 (the textbook 95 % interval is x(40) … x(61)).
        let hundred: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(order_statistic_interval(&hundred, 0.95), Some((40.0, 61.0)));
        // Large n: no underflow of ½ⁿ.
        let many: Vec<f64> = (1..=5000).map(f64::from).collect();
        let (lo, hi) = order_statistic_interval(&many, 0.95).unwrap();
        assert!((2430.0..2440.0).contains(&lo) && (2561.0..2571.0).contains(&hi), "{lo} {hi}");
    }

    fn cell(variant: &str) -> CellKey {
        CellKey { kernel: "gemm".into(), dataset: Dataset::Small, runtime: "native".into(), variant: variant.into() }
    }

    #[test]
    fn cells_and_pairs_of_revision_sides() {
        let mut samples = Samples::new();
        // 20 rounds spread ±10 % around 100 ms.
        let spread: Vec<(u32, f64)> = (0..20).map(|r| (r, 100.0 * (0.9 + 0.01 * f64::from((r * 7) % 21)))).collect();
        samples.entry(cell("default")).or_default().insert("kernel_ms".into(), spread.clone());
        // The head is exactly 5 % slower than the base in every round: the
        // ratio is known exactly, however much the rounds vary.
        samples.entry(cell("o2@base")).or_default().insert("kernel_ms".into(), spread.clone());
        let slower = spread.iter().map(|(r, v)| (*r, v * 1.05)).collect();
        samples.entry(cell("o2@head")).or_default().insert("kernel_ms".into(), slower);
        let precisions = of(&samples);
        assert_eq!(precisions.len(), 2);
        let single = &precisions[0];
        assert_eq!((single.cell.as_str(), single.n), ("gemm/small/native/default", 20));
        let h = single.half_width.unwrap();
        assert!(h > 0.02 && h < 0.15, "{h}");
        let pair = &precisions[1];
        assert_eq!((pair.cell.as_str(), pair.n), ("gemm/small/native/o2@head", 20));
        assert!(pair.half_width.unwrap() < 1e-12, "{pair:?}");
        assert!(pair.meets(0.001) && !single.meets(0.01));
        assert_eq!(worst(&precisions).unwrap().cell, single.cell);

        // A pair verified on one side only holds nothing up; a pair whose
        // sides measured different things is judged by what both measured.
        samples.entry(cell("lost@base")).or_default().insert("kernel_ms".into(), spread.clone());
        samples.entry(cell("new@base")).or_default().insert("wall_ms".into(), spread.clone());
        let head = samples.entry(cell("new@head")).or_default();
        head.insert("wall_ms".into(), spread.clone());
        head.insert("kernel_ms".into(), spread.iter().map(|(r, v)| (*r, v / 2.0)).collect());
        let precisions = of(&samples);
        assert_eq!(precisions.len(), 3, "{precisions:?}");
        let new = precisions.iter().find(|p| p.cell == "gemm/small/native/new@head").unwrap();
        assert_eq!((new.metric.as_str(), new.half_width), ("wall_ms", Some(0.0)));
    }
}
