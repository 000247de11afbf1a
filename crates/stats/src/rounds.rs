//! Round effects: when every cell runs once per round, a round in which the
//! host was busy shows up as the same slowdown across all cells.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::analysis::Samples;
use crate::resample;

/// A round whose median shift is at least this large (either way), and
/// beyond what the cells' own scatter explains (see [`RoundShift`]), is
/// flagged as disturbed: on a quiet host rounds differ by about 1 %.
pub const DISTURBED_SHIFT: f64 = 0.03;

/// How many standard errors of its own median a round's shift must exceed
/// to be flagged: a round of few, noisy cells (start-up, say) moves by
/// several per cent by chance alone.
pub const DISTURBED_ERRORS: f64 = 3.0;

/// √(π/2): the standard error of a median over that of a mean, for a
/// normal scatter.
const MEDIAN_SE: f64 = 1.2533;
/// Scales a MAD to a standard deviation (normal scatter).
const MAD_TO_SD: f64 = 1.4826;

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
    /// The standard error of that median of logs, from their scatter
    /// (1.2533 · 1.4826 · MAD / √cells, the median's error under a normal
    /// scatter).
    pub standard_error: f64,
    /// |shift| ≥ [`DISTURBED_SHIFT`] and |ln(1 + shift)| above
    /// [`DISTURBED_ERRORS`] standard errors.
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
            let centre = resample::median(&logs);
            let deviations: Vec<f64> = logs.iter().map(|l| (l - centre).abs()).collect();
            let standard_error = MEDIAN_SE * MAD_TO_SD * resample::median(&deviations) / (logs.len() as f64).sqrt();
            let shift = centre.exp() - 1.0;
            let disturbed = shift.abs() >= DISTURBED_SHIFT && centre.abs() > DISTURBED_ERRORS * standard_error;
            RoundShift { round, cells: logs.len(), shift, standard_error, disturbed }
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

    #[test]
    fn a_shift_the_cells_scatter_explains_is_not_flagged() {
        // Three cells whose runs scatter by ±20 %: a round 5 % off is
        // within what three such values do by chance.
        let mut samples = Samples::new();
        let scatter = [1.0, 1.2, 0.8, 1.1, 0.9];
        for (i, base) in [10.0, 200.0, 3.0].into_iter().enumerate() {
            let runs: Vec<(u32, f64)> =
                (0..5).map(|r| (r as u32, base * scatter[(r + i) % 5] * if r == 1 { 1.05 } else { 1.0 })).collect();
            samples.entry(key(&format!("k{i}"))).or_default().insert("wall_ms".into(), runs);
        }
        let shifts = round_shifts(&samples, "wall_ms");
        assert!(shifts.iter().any(|s| s.shift.abs() >= DISTURBED_SHIFT), "{shifts:?}");
        assert!(shifts.iter().all(|s| !s.disturbed), "{shifts:?}");
    }
}
