//! What each runtime variant needs on the device, in bytes: the engine
//! programs it runs, the container images it imports and the kernel
//! artifacts of the plan. Taken from the plan's command lines and the
//! manifest's sizes when the snapshot is written, kept in its provenance,
//! and shown in its report beside start-up time and memory.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use edgebench_model::manifest::{Artifact, ArtifactKind, Manifest};
use edgebench_model::plan::{Invocation, Plan};
use edgebench_model::suite::STARTUP_KERNEL as STARTUP;
use edgebench_stats::Analysis;
use edgebench_stats::analysis::{WALL_MS, WORKLOAD_PEAK_MIB};
use serde::{Deserialize, Serialize};

use crate::planning::runtime;
use crate::toolchain::programs;

/// The bytes one runtime variant needs on the device beside the harness.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Footprint {
    /// `runtime/variant`.
    pub runtime: String,
    /// The device programs it runs (engine executors), path → bytes.
    pub programs: BTreeMap<String, u64>,
    /// The container root filesystems it imports, path → bytes.
    pub images: BTreeMap<String, u64>,
    /// How many kernel artifacts of the plan it runs, and their bytes.
    pub artifacts: usize,
    pub artifact_bytes: u64,
    /// Whether its engine is a program installed on the device outside
    /// edgebench (the `command` runtime, the Docker engine), not counted.
    pub external_engine: bool,
}

impl Footprint {
    /// Engine and images: what the variant costs whatever it runs.
    pub fn runtime_bytes(&self) -> u64 {
        self.programs.values().sum::<u64>() + self.images.values().sum::<u64>()
    }
}

/// One footprint per runtime variant of the plan that ran (variants the
/// target could not run are left out), in the plan's order.
pub fn of(plan: &Plan, manifest: &Manifest) -> Vec<Footprint> {
    // Only the plan's files can be named by its cells.
    let planned: Vec<&Artifact> =
        manifest.artifacts.iter().filter(|a| plan.files.iter().any(|f| f.path == a.path)).collect();
    let mut out: Vec<Footprint> = Vec::new();
    for cell in plan.cells.iter().filter(|c| c.unavailable.is_none()) {
        let label = format!("{}/{}", cell.runtime, cell.variant);
        let index = match out.iter().position(|f| f.runtime == label) {
            Some(i) => i,
            None => {
                out.push(Footprint {
                    runtime: label.clone(),
                    programs: BTreeMap::new(),
                    images: BTreeMap::new(),
                    artifacts: 0,
                    artifact_bytes: 0,
                    external_engine: runtime::find(&cell.runtime).is_some_and(|r| r.external_engine()),
                });
                out.len() - 1
            }
        };
        let probe = plan.probes.iter().filter(|p| Some(&p.name) == cell.probe.as_ref()).map(|p| &p.invocation);
        let invocations: Vec<&Invocation> =
            std::iter::once(&cell.invocation).chain(&cell.polybench_dump).chain(probe).collect();
        let named = planned.iter().copied().filter(|a| invocations.iter().any(|i| i.names(&a.path)));
        let mut kernel_files: Vec<&Artifact> = Vec::new();
        for artifact in named {
            let footprint = &mut out[index];
            match artifact.kind {
                ArtifactKind::Program if artifact.name == programs::HARNESS.binary => {}
                ArtifactKind::Program => {
                    footprint.programs.insert(artifact.path.clone(), artifact.size);
                }
                ArtifactKind::Rootfs => {
                    footprint.images.insert(artifact.path.clone(), artifact.size);
                }
                _ => kernel_files.push(artifact),
            }
        }
        let footprint = &mut out[index];
        footprint.artifacts += kernel_files.len();
        footprint.artifact_bytes += kernel_files.iter().map(|a| a.size).sum::<u64>();
    }
    out
}

/// The report's section: per runtime variant, its bytes on the device and,
/// where the plan ran the start-up kernel, its start-up time and peak.
pub fn section(md: &mut String, footprints: &[Footprint], analysis: &Analysis) {
    if footprints.is_empty() {
        return;
    }
    let startup = |runtime: &str, metric: &str| {
        analysis
            .cells
            .iter()
            .find(|c| c.key.kernel == STARTUP && c.key.runtime_label() == runtime)
            .and_then(|c| c.metric(metric))
            .map(|s| format!("{:.2}", s.median))
            .unwrap_or_else(|| "—".into())
    };
    let _ = writeln!(md, "## Footprint on the device\n");
    let _ = writeln!(
        md,
        "**Bytes each runtime needs on the device beside the harness: its engine (executor programs), the container \
         images it imports, and the kernel artifacts of this plan; with the start-up kernel's median wall time and \
         the workload's median peak memory (the container's for `docker`) where the plan ran it**\n"
    );
    let _ = writeln!(
        md,
        "| runtime | engine (MiB) | images (MiB) | engine + images (MiB) | kernel artifacts | artifacts (MiB) | start-up (ms) | start-up peak (MiB) |"
    );
    let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|---:|---:|");
    let mut external = false;
    for f in footprints {
        let mark = if f.external_engine { " ¹" } else { "" };
        external |= f.external_engine;
        let _ = writeln!(
            md,
            "| {}{mark} | {} | {} | {} | {} | {} | {} | {} |",
            f.runtime,
            mib(f.programs.values().sum()),
            mib(f.images.values().sum()),
            mib(f.runtime_bytes()),
            f.artifacts,
            mib(f.artifact_bytes),
            startup(&f.runtime, WALL_MS),
            startup(&f.runtime, WORKLOAD_PEAK_MIB),
        );
    }
    if external {
        let _ = writeln!(
            md,
            "\n¹ Also needs an engine installed on the device that is not counted here: the Docker engine (and the \
             image's base layers it already holds) for `docker`, the templated program for `command`."
        );
    }
    let _ = writeln!(md);
}

fn mib(bytes: u64) -> String {
    format!("{:.2}", bytes as f64 / 1_048_576.0)
}
