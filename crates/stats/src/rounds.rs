//! Round effects: when every cell runs once per round, a round in which the
//! host was busy shows up as the same slowdown across all cells.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::analysis::Samples;
use crate::resample;

/// A round whose median shift is at least this large (either way) is
/// flagged as disturbed: larger than the run-to-run noise of a quiet host,
/// where rounds differ by about 1 %.
pub const DISTURBED_SHIFT: f64 = 0.03;

/// Cells need this many runs before their median is a reference a single
/// round can be held against.
const MIN_RUNS: usize = 3;

/// How one round compared with the cells' medians.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoundShift {
    /// The repetition index, from 0.
    pub round: u32,
    /// Cells with a verified run in this round.
    pub cells: usize,
    /// exp(median over cells of ln(run ÷ cell median)) − 1: +0.05 means the
    /// round ran 5 % slower than usual across the board.
    pub shift: f64,
    /// |shift| ≥ [`DISTURBED_SHIFT`].
    pub disturbed: bool,
}

/// The shift of every round in `metric`, in round order. Cells with fewer
/// than three runs, or a median that is not positive, take no part.
pub fn round_shifts(samples: &Samples, metric: &str) -> Vec<RoundShift> {
    let mut by_round: BTreeMap<u32, Vec<f64>> = BTreeMap::new();
    for sample in samples.values().filter_map(|m| m.get(metric)) {
        if sample.len() < MIN_RUNS {
            continue;
        }
        let median = resample::median(&crate::analysis::values(sample));
        if median.is_nan() || median <= 0.0 {
            continue;
        }
        for (round, value) in sample {
            if *value > 0.0 {
                by_round.entry(*round).or_default().push((value / median).ln());
            }
        }
    }
    by_round
        .into_iter()
        .map(|(round, logs)| {
            let shift = resample::median(&logs).exp() - 1.0;
            RoundShift { round, cells: logs.len(), shift, disturbed: shift.abs() >= DISTURBED_SHIFT }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use edgebench_model::Dataset;

    use super::*;
    use crate::analysis::CellKey;

    fn key(kernel: &str) -> CellKey {
        CellKey { kernel: kernel.into(), dataset: Dataset::Small, runtime: "native".into(), variant: "default".into() }
    }

    #[test]
    fn a_round_slow_everywhere_is_flagged() {
        let mut samples = Samples::new();
        for (i, base) in [10.0, 200.0, 3.0].into_iter().enumerate() {
            // Round 1 is 8 % slow in every cell; the rest within ±0.5 %.
            let runs: Vec<(u32, f64)> = (0..5)
                .map(|r| {
                    let noise = 1.0 + 0.001 * ((r + i) % 3) as f64;
                    (r as u32, base * noise * if r == 1 { 1.08 } else { 1.0 })
                })
                .collect();
            samples.entry(key(&format!("k{i}"))).or_default().insert("wall_ms".into(), runs);
        }
        // Too few runs to judge a round by: ignored.
        samples.entry(key("short")).or_default().insert("wall_ms".into(), vec![(0, 1.0), (1, 9.0)]);
        let shifts = round_shifts(&samples, "wall_ms");
        assert_eq!(shifts.len(), 5);
        assert!(shifts.iter().all(|s| s.cells == 3));
        let flagged: Vec<u32> = shifts.iter().filter(|s| s.disturbed).map(|s| s.round).collect();
        assert_eq!(flagged, [1]);
        assert!((shifts[1].shift - 0.08).abs() < 0.005, "{:?}", shifts[1]);
        assert!(shifts.iter().filter(|s| s.round != 1).all(|s| s.shift.abs() < 0.005), "{shifts:?}");
        assert!(round_shifts(&samples, "kernel_ms").is_empty());
    }
}
