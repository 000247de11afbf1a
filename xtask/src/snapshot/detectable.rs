//! What a plan can detect, said before it runs (`bench --dry-run`,
//! `doctor --pipeline`): from the newest snapshot of the same pipeline on
//! the same target, each cell's primary metric's spread, and from it the
//! smallest slowdown of one cell that a same-session A/B bench of the plan
//! would call regressed four times in five (docs/method.md).

use edgebench_stats::analysis::values;
use edgebench_stats::compare::{DEFAULT_ALPHA, DEFAULT_THRESHOLD, default_primary};
use edgebench_stats::power::{Noise, detectable_change, robust_sd};
use edgebench_stats::resample;

use crate::planning::pipeline::Pipeline;
use crate::snapshot;

/// One line saying what a same-session A/B bench of `repetitions` rounds
/// of this pipeline could detect, or why that cannot be said yet.
/// [`planned`] for a pipeline's rounds: for an adaptive one, at its least
/// and at its most rounds.
pub fn planned_for(target: &str, pipeline: &Pipeline) -> Vec<String> {
    let mut rounds = vec![pipeline.repetitions];
    rounds.extend(pipeline.adaptive.as_ref().map(|a| a.max_repetitions));
    rounds.into_iter().map(|r| planned(target, &pipeline.name, r)).collect()
}

pub fn planned(target: &str, pipeline: &str, repetitions: u32) -> String {
    let Ok(Some(dir)) = snapshot::newest_in(&snapshot::results_root().join(target).join(pipeline), None) else {
        return format!(
            "detectable: no snapshot of `{pipeline}` on `{target}` yet to judge its noise by; after this bench, `bench --dry-run` and `doctor --pipeline {pipeline}` will say what a same-session A/B of it can detect"
        );
    };
    let Ok((records, _)) = snapshot::read_records(&dir) else {
        return format!("detectable: {} could not be read to judge the noise by", dir.display());
    };
    let samples = edgebench_stats::samples(&records);
    let spreads: Vec<f64> = samples
        .values()
        .filter_map(|metrics| {
            let sample = metrics.get(default_primary(metrics))?;
            let logs: Vec<f64> = values(sample).iter().filter(|v| **v > 0.0).map(|v| v.ln()).collect();
            robust_sd(&logs)
        })
        .collect();
    if spreads.is_empty() {
        return format!("detectable: {} has no cell with two runs to judge the noise by", dir.display());
    }
    let bound = DEFAULT_ALPHA / spreads.len() as f64;
    let mut detectable: Vec<f64> = spreads
        .iter()
        .filter_map(|s| Noise::planned_paired(*s, repetitions as usize))
        .map(|noise| detectable_change(noise, bound, DEFAULT_THRESHOLD))
        .collect();
    if detectable.is_empty() {
        return format!(
            "detectable: nothing; {repetitions} round(s) are too few for a same-session A/B comparison (at least 2, and 20 or more to resolve a few per cent)"
        );
    }
    detectable.sort_unstable_by(f64::total_cmp);
    format!(
        "detectable: a same-session A/B bench of this plan ({repetitions} rounds a side, compare --sides) would find a slowdown of one of its {} cells of median {:.1} % (from {:.1} % to {:.1} %) four times in five, judging the runs' noise by {}; two sessions resolve far less (docs/method.md)",
        detectable.len(),
        resample::median(&detectable) * 100.0,
        detectable[0] * 100.0,
        detectable[detectable.len() - 1] * 100.0,
        dir.display()
    )
}
