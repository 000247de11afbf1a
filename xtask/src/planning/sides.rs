//! A same-session A/B plan of two revisions of the project: every cell
//! planned once per side, from that side's build, and all of them run round
//! by round in one session, so round r of a cell on the base side pairs with
//! round r of the same cell on the head side (`compare --sides base,head`).
//!
//! A side's cells are named by their variant with `@base` or `@head`
//! appended; their probes likewise. The baseline of the ratios is the head
//! side's.

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use edgebench_model::manifest::Manifest;
use edgebench_model::plan::{Plan, PlanFile, RevisionSide, side_variant};

use crate::planning::pipeline::Pipeline;
use crate::planning::plan::{self, Unavailable};

pub use edgebench_model::plan::{BASE_SIDE as BASE, HEAD_SIDE as HEAD};

/// One side to plan: which revision, built into which manifest.
pub struct SidePlan<'a> {
    pub side: RevisionSide,
    pub manifest: &'a Manifest,
}

/// Plans `pipeline` once per side and merges the plans: the cells and
/// probes of each side tagged with its name, the files of both, and one
/// seeded run order over all cells.
pub fn expand(
    pipeline: &Pipeline,
    base: SidePlan<'_>,
    head: SidePlan<'_>,
    seed: u64,
    unavailable: &Unavailable,
) -> Result<Plan> {
    let planned = [
        (base.side.name.as_str(), plan::expand(pipeline, base.manifest, seed, unavailable)?),
        (head.side.name.as_str(), plan::expand(pipeline, head.manifest, seed, unavailable)?),
    ];
    // The head's plan, emptied of cells and probes, holds the settings.
    let mut merged = Plan { cells: Vec::new(), probes: Vec::new(), ..planned[1].1.clone() };
    let mut files: BTreeMap<String, String> = BTreeMap::new();
    for (name, one) in planned {
        for mut probe in one.probes {
            probe.name = side_variant(&probe.name, name);
            merged.probes.push(probe);
        }
        for mut cell in one.cells {
            cell.variant = side_variant(&cell.variant, name);
            cell.probe = cell.probe.map(|p| side_variant(&p, name));
            merged.cells.push(cell);
        }
        for file in one.files {
            if let Some(other) = files.insert(file.path.clone(), file.sha256.clone())
                && other != file.sha256
            {
                bail!("both sides use {} with different contents; their outputs must not overlap", file.path);
            }
        }
    }
    merged.files = files.into_iter().map(|(path, sha256)| PlanFile { path, sha256 }).collect();
    let settings = &mut merged.settings;
    let rounds = settings.adaptive.as_ref().map_or(settings.repetitions, |a| a.max_repetitions);
    merged.runs = plan::order(merged.cells.len(), settings.warmups, rounds, settings.order, seed);
    settings.baseline = settings.baseline.as_deref().map(|b| side_variant(b, HEAD));
    merged.sides = vec![base.side, head.side];
    plan::seal(&mut merged)?;
    merged.validate().map_err(anyhow::Error::msg)?;
    Ok(merged)
}
