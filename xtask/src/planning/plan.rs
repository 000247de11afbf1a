//! Expanding a pipeline into a plan for one target: cells, probes, the files
//! they use with their hashes, and a seeded run order.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use edgebench_model::digest::sha256_hex;
use edgebench_model::manifest::{Artifact, ArtifactKind, Manifest};
use edgebench_model::plan::{CALLGRIND, Cell, Invocation, PLAN_SCHEMA, Plan, PlanFile, PlannedRun, Probe, Settings};
use edgebench_model::suite::Kernel;
use edgebench_model::workload::Flavour;

use crate::planning::pipeline::{Order, Pipeline, RuntimeUse};
use crate::planning::runtime::CellContext;
use crate::toolchain::arch::Arch;
use crate::toolchain::{polybench, workload};

/// Runtime variants (`runtime/variant`) found unable to run on the target
/// before anything was built, each with the reason.
pub type Unavailable = BTreeMap<String, String>;

/// Expands a pipeline into a plan for the target the manifest was built
/// for; the cells of an `unavailable` variant are planned as such.
pub fn expand(pipeline: &Pipeline, manifest: &Manifest, seed: u64, unavailable: &Unavailable) -> Result<Plan> {
    let mut cells = Vec::new();
    let mut probes: BTreeMap<String, Probe> = BTreeMap::new();
    for kernel in &pipeline.kernels {
        let datasets: Vec<_> = if kernel.per_dataset() {
            pipeline.datasets.clone()
        } else {
            // Dataset-independent kernels (start-up) run once, not per dataset.
            vec![pipeline.datasets[0]]
        };
        for dataset in datasets {
            for used in &pipeline.runtimes {
                let (variant, simd) = used.split();
                let context = CellContext {
                    kernel,
                    dataset,
                    variant,
                    simd,
                    options: &used.options,
                    manifest,
                    memory_limit: pipeline.memory_limit,
                };
                let reason = unavailable.get(&used.label()).cloned().or_else(|| missing_build(used, &context));
                if let Some(reason) = reason {
                    cells.push(unavailable_cell(used, &context, pipeline.timeout_ms, &reason));
                    continue;
                }
                let probe = used.probe(manifest).map(|invocation| {
                    let name = used.label();
                    probes.entry(name.clone()).or_insert(Probe { name: name.clone(), invocation });
                    name
                });
                let cell = cell(used, &context, pipeline.timeout_ms, probe)
                    .with_context(|| format!("planning {}/{dataset}/{}", kernel.name, used.label()))?;
                cells.push(if pipeline.callgrind { under_callgrind(cell, &mut probes) } else { cell });
            }
        }
    }

    if pipeline.callgrind {
        // A probe runs the program as its cells will: under valgrind, which
        // must be there and must run it.
        for probe in probes.values_mut().filter(|p| p.name != CALLGRIND_PROBE) {
            probe.invocation.argv.splice(0..0, CALLGRIND.iter().map(|a| a.to_string()));
        }
    }
    let files = files_used(&cells, probes.values(), manifest);
    // An adaptive plan holds every round it may run; the harness is told
    // how many to run (see `ROUNDS_FILE`).
    let rounds = pipeline.adaptive.as_ref().map_or(pipeline.repetitions, |a| a.max_repetitions);
    let runs = order(cells.len(), pipeline.warmups, rounds, pipeline.order, seed);
    let mut plan = Plan {
        schema: PLAN_SCHEMA,
        id: String::new(),
        pipeline: pipeline.name.clone(),
        target: manifest.target.clone(),
        seed,
        settings: Settings {
            repetitions: pipeline.repetitions,
            adaptive: pipeline.adaptive.clone(),
            warmups: pipeline.warmups,
            order: pipeline.order,
            timeout_ms: pipeline.timeout_ms,
            memory_limit_bytes: pipeline.memory_limit,
            cpus: pipeline.cpus.clone(),
            callgrind: pipeline.callgrind,
            baseline: pipeline.baseline.clone(),
            pipeline_sha256: sha256_hex(pipeline.text.as_bytes()),
            pipeline_text: pipeline.text.clone(),
        },
        files,
        probes: probes.into_values().collect(),
        cells,
        runs,
        sides: Vec::new(),
    };
    seal(&mut plan)?;
    Ok(plan)
}

/// Sets the plan's id: a hash of everything else in it.
pub fn seal(plan: &mut Plan) -> Result<()> {
    plan.id = String::new();
    plan.id = sha256_hex(&serde_json::to_vec(&*plan)?)[..16].to_string();
    Ok(())
}

/// One cell: its command line, and for a PolyBench/C kernel the command
/// line of its dump build, run like the kernel itself.
fn cell(used: &RuntimeUse, context: &CellContext<'_>, timeout_ms: u64, probe: Option<String>) -> Result<Cell> {
    let kernel = context.kernel;
    let invocation = used.runtime.invocation(context)?;
    let polybench_dump = match &kernel.polybench {
        Some(_) => {
            let dump_kernel = Kernel { name: polybench::dump_name(&kernel.name), ..kernel.clone() };
            Some(used.runtime.invocation(&CellContext { kernel: &dump_kernel, ..*context })?)
        }
        None => None,
    };
    Ok(Cell {
        kernel: kernel.name.clone(),
        dataset: context.dataset,
        runtime: used.runtime.name().into(),
        variant: used.variant.clone(),
        timeout_ms,
        reports: kernel.reports,
        expected_checksum: None,
        probe,
        invocation,
        polybench_dump,
        stdout_check: kernel.workload.as_ref().and_then(|w| w.check.clone()),
        unavailable: None,
    })
}

/// The probe of every cell counted under callgrind that has none of its own.
const CALLGRIND_PROBE: &str = "callgrind";

/// A cell whose program runs under callgrind; unavailable where the
/// workload is not the program's process tree (callgrind would count the
/// client).
fn under_callgrind(mut cell: Cell, probes: &mut BTreeMap<String, Probe>) -> Cell {
    if cell.invocation.workload_elsewhere {
        cell.invocation = Invocation::default();
        cell.polybench_dump = None;
        cell.probe = None;
        cell.unavailable = Some(
            "instructions: callgrind counts the program's own processes, and this runtime's workload runs \
             elsewhere (in a container the engine starts): only its client would be counted"
                .into(),
        );
        return cell;
    }
    let mut argv: Vec<String> = CALLGRIND.iter().map(|a| a.to_string()).collect();
    argv.append(&mut cell.invocation.argv);
    cell.invocation.argv = argv;
    if cell.probe.is_none() {
        let name = CALLGRIND_PROBE.to_string();
        let version = Invocation { argv: vec![CALLGRIND[0].into(), "--version".into()], ..Invocation::default() };
        probes.entry(name.clone()).or_insert(Probe { name: name.clone(), invocation: version });
        cell.probe = Some(name);
    }
    cell
}

/// Why a cell of a workload cannot run: its runtime needs a build the
/// workload does not offer (a prebuilt Wasm module alone, under `native`),
/// or cannot give it the input files it reads.
pub fn missing_build(used: &RuntimeUse, cell: &CellContext<'_>) -> Option<String> {
    let workload = cell.kernel.workload.as_ref()?;
    if let (Some(_), Err(why)) = (cell.inputs(), used.runtime.reads_inputs()) {
        return Some(format!(
            "workload `{}` reads input files, and {} cannot give them: {why}",
            cell.kernel.name,
            used.label()
        ));
    }
    let arch = Arch::of_triple(&cell.manifest.triple)?;
    let missing: Vec<&str> = used
        .artifacts()
        .into_iter()
        .filter_map(|kind| workload::flavour(kind, arch))
        .filter(|f| !workload::offers(workload, *f))
        .map(Flavour::as_str)
        .collect();
    if missing.is_empty() {
        return None;
    }
    let offered: Vec<&str> =
        Flavour::ALL.into_iter().filter(|f| workload::offers(workload, *f)).map(Flavour::as_str).collect();
    Some(format!(
        "workload `{}` has no {} build (it offers {}); add one to its definition to run it under {}",
        cell.kernel.name,
        missing.join(" or "),
        if offered.is_empty() { "none".to_string() } else { offered.join(", ") },
        used.label()
    ))
}

/// A cell that cannot run on the target: nothing to invoke, and why.
fn unavailable_cell(used: &RuntimeUse, context: &CellContext<'_>, timeout_ms: u64, reason: &str) -> Cell {
    Cell {
        kernel: context.kernel.name.clone(),
        dataset: context.dataset,
        runtime: used.runtime.name().into(),
        variant: used.variant.clone(),
        timeout_ms,
        reports: context.kernel.reports,
        expected_checksum: None,
        probe: None,
        invocation: Invocation::default(),
        polybench_dump: None,
        stdout_check: None,
        unavailable: Some(reason.to_string()),
    }
}

/// Every manifest artifact named in a command line (see
/// [`Invocation::names`]), so the device gets it and verifies it before
/// running anything.
fn files_used<'a>(cells: &[Cell], probes: impl Iterator<Item = &'a Probe>, manifest: &Manifest) -> Vec<PlanFile> {
    let invocations: Vec<&Invocation> = cells
        .iter()
        .flat_map(|c| std::iter::once(&c.invocation).chain(&c.polybench_dump))
        .chain(probes.map(|p| &p.invocation))
        .collect();
    // A workload's input files are named by their directory: they go
    // wherever one of its cells runs.
    let reads = |a: &Artifact| {
        a.kind == ArtifactKind::Input && cells.iter().any(|c| c.kernel == a.name && c.unavailable.is_none())
    };
    let files: BTreeMap<&str, &str> = manifest
        .artifacts
        .iter()
        .filter(|a| invocations.iter().any(|i| i.names(&a.path)) || reads(a))
        .map(|a| (a.path.as_str(), a.sha256.as_str()))
        .collect();
    files.into_iter().map(|(path, sha256)| PlanFile { path: path.into(), sha256: sha256.into() }).collect()
}

/// The run order: warm-up rounds first, then measured rounds.
pub fn order(cells: usize, warmups: u32, repetitions: u32, order: Order, seed: u64) -> Vec<PlannedRun> {
    let mut rng = SplitMix64(seed);
    let mut runs = Vec::new();
    let mut round = |repetition: u32, warmup: bool, runs: &mut Vec<PlannedRun>| {
        let mut cell_order: Vec<usize> = (0..cells).collect();
        if order == Order::Shuffled {
            rng.shuffle(&mut cell_order);
        }
        runs.extend(cell_order.into_iter().map(|cell| PlannedRun { cell, repetition, warmup }));
    };
    match order {
        Order::Sequential => {
            for cell in 0..cells {
                runs.extend((0..warmups).map(|repetition| PlannedRun { cell, repetition, warmup: true }));
                runs.extend((0..repetitions).map(|repetition| PlannedRun { cell, repetition, warmup: false }));
            }
        }
        Order::Interleaved | Order::Shuffled => {
            for r in 0..warmups {
                round(r, true, &mut runs);
            }
            for r in 0..repetitions {
                round(r, false, &mut runs);
            }
        }
    }
    runs
}

/// A small, fully specified PRNG, so a recorded seed reproduces the order
/// on any machine and with any version of any dependency.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Fisher–Yates.
    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_order_holds_each_run_exactly_once() {
        for o in [Order::Sequential, Order::Interleaved, Order::Shuffled] {
            let runs = order(7, 2, 5, o, 42);
            assert_eq!(runs.len(), 7 * 7);
            let mut keys: Vec<_> = runs.iter().map(|r| (r.cell, r.repetition, r.warmup)).collect();
            keys.sort();
            keys.dedup();
            assert_eq!(keys.len(), 49, "{o:?}");
            // Warm-ups of a cell come before its measured runs.
            for cell in 0..7 {
                let last_warm = runs.iter().rposition(|r| r.cell == cell && r.warmup).unwrap();
                let first_run = runs.iter().position(|r| r.cell == cell && !r.warmup).unwrap();
                assert!(last_warm < first_run, "{o:?}");
            }
        }
    }

    #[test]
    fn shuffling_is_seeded_and_varies_between_rounds() {
        let a = order(10, 0, 3, Order::Shuffled, 7);
        assert_eq!(a, order(10, 0, 3, Order::Shuffled, 7));
        assert_ne!(a, order(10, 0, 3, Order::Shuffled, 8));
        let round = |r: u32| a.iter().filter(|x| x.repetition == r).map(|x| x.cell).collect::<Vec<_>>();
        assert_ne!(round(0), round(1));
        // Known values pin the generator: a changed PRNG would silently change
        // every recorded order.
        let mut rng = SplitMix64(0);
        assert_eq!(rng.next(), 0xe220_a839_7b1d_cdaf);
    }

    #[test]
    fn interleaving_visits_every_cell_each_round() {
        let runs = order(3, 0, 2, Order::Interleaved, 0);
        let cells: Vec<usize> = runs.iter().map(|r| r.cell).collect();
        assert_eq!(cells, [0, 1, 2, 0, 1, 2]);
    }
}
