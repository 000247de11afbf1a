//! Where every figure of a snapshot comes from: source revision, toolchains,
//! engine versions, compiler flags, artifact hashes, plan and seed, and the
//! device's identity and state before and after the runs.

use std::collections::BTreeMap;
use std::path::Path;

use edgebench_model::device::{DeviceInfo, HealthSample};
use edgebench_model::manifest::{ArtifactKind, CompilerInfo, Manifest};
use edgebench_model::plan::{Order, Plan, PlanFile, RevisionSide};
use edgebench_model::record::RunRecord;
use edgebench_model::workload::WorkloadBuild;
use edgebench_stats::precision::Precision;
use serde::{Deserialize, Serialize};
use xshell::{Shell, cmd};

use crate::device::machine::Emulation;
use crate::device::target::{Access, Target};
use crate::project;
use crate::snapshot::footprint::{self, Footprint};

pub const PROVENANCE_SCHEMA: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Provenance {
    pub schema: u32,
    pub created_utc: String,
    pub git: Git,
    pub toolchains: BTreeMap<String, String>,
    /// Engine crate → version, from the executors' lock files.
    pub engines: BTreeMap<String, String>,
    pub compilers: Vec<CompilerInfo>,
    /// Every file the plan ran, with the sha256 the device verified.
    pub artifacts: Vec<PlanFile>,
    pub plan: PlanInfo,
    pub target: TargetInfo,
    pub device_before: Option<DeviceInfo>,
    pub device_after: Option<DeviceInfo>,
    /// Whether the device reported throttling or under-voltage before or
    /// after the runs (Raspberry Pi firmware); `None` where it cannot tell.
    pub throttled: Option<bool>,
    /// The device's health during the runs, from the samples the harness
    /// attached to them.
    #[serde(default)]
    pub health: RunHealth,
    /// What each runtime variant needed on the device (absent from
    /// snapshots taken before it was recorded).
    #[serde(default)]
    pub footprint: Vec<Footprint>,
    /// The emulated machine the target was, if it was one: its timings say
    /// nothing of a real device's.
    #[serde(default)]
    pub emulation: Option<Emulation>,
    /// How the base side of a same-session A/B of two revisions was built,
    /// by its own build (the head side's is the rest of this file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_build: Option<BaseBuild>,
    /// How every artifact of a workload of the user's own that the plan
    /// ran was made: its sources and flags, the build command, or the
    /// prebuilt file it was copied from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workloads: Vec<WorkloadArtifact>,
}

/// One artifact of a workload, and how it was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkloadArtifact {
    pub name: String,
    pub kind: ArtifactKind,
    pub path: String,
    pub sha256: String,
    pub build: WorkloadBuild,
}

impl WorkloadArtifact {
    /// The workloads' artifacts of `manifest` that `plan` runs.
    fn of(plan: &Plan, manifest: &Manifest) -> Vec<WorkloadArtifact> {
        manifest
            .artifacts
            .iter()
            .filter(|a| plan.files.iter().any(|f| f.path == a.path))
            .filter_map(|a| {
                Some(WorkloadArtifact {
                    name: a.name.clone(),
                    kind: a.kind,
                    path: a.path.clone(),
                    sha256: a.sha256.clone(),
                    build: a.workload.clone()?,
                })
            })
            .collect()
    }
}

/// The engines and compilers of the base side's build.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaseBuild {
    pub engines: BTreeMap<String, String>,
    pub compilers: Vec<CompilerInfo>,
}

impl BaseBuild {
    /// From the revision's exported tree and the manifest its build wrote.
    pub fn of(source: &Path, manifest: &Manifest) -> BaseBuild {
        BaseBuild { engines: engines_in(source), compilers: manifest.compilers.clone() }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunHealth {
    /// Distinct samples taken.
    pub samples: usize,
    /// The hottest reading of any sample, in °C.
    pub max_temperature_c: Option<f64>,
    /// Runs taken while the firmware reported throttling or under-voltage.
    pub throttled_runs: usize,
    /// Their cells (`kernel/dataset/runtime/variant`).
    pub throttled_cells: Vec<String>,
}

impl RunHealth {
    pub fn of(records: &[RunRecord]) -> RunHealth {
        let samples: Vec<&HealthSample> = records.iter().filter_map(|r| r.health.as_ref()).collect();
        let mut stamps: Vec<u64> = samples.iter().map(|s| s.unix_ms).collect();
        stamps.sort_unstable();
        stamps.dedup();
        let throttled: Vec<&RunRecord> =
            records.iter().filter(|r| r.health.as_ref().and_then(HealthSample::throttling_now) == Some(true)).collect();
        let mut cells: Vec<String> = throttled.iter().map(|r| r.label()).collect();
        cells.sort();
        cells.dedup();
        RunHealth {
            samples: stamps.len(),
            max_temperature_c: samples.iter().filter_map(|s| s.max_temperature_c).reduce(f64::max),
            throttled_runs: throttled.len(),
            throttled_cells: cells,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Git {
    pub revision: Option<String>,
    pub dirty: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlanInfo {
    pub id: String,
    pub pipeline: String,
    pub pipeline_sha256: String,
    pub seed: u64,
    pub order: Order,
    pub repetitions: u32,
    pub warmups: u32,
    pub timeout_ms: u64,
    pub memory_limit_bytes: Option<u64>,
    /// The CPUs the runs were pinned to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpus: Option<Vec<usize>>,
    /// Absent in snapshots made before plans carried it (their summary
    /// names it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<String>,
    pub cells: usize,
    pub runs: usize,
    /// The two revisions of a same-session A/B bench, base first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sides: Vec<RevisionSide>,
    /// Whether every run's instructions were counted under callgrind.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub callgrind: bool,
    /// For an adaptive plan: how many rounds ran and why no more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<Stop>,
}

impl PlanInfo {
    /// The runs that ran: all of the plan's, or an adaptive plan's warm-ups
    /// and the rounds it stopped after.
    pub fn runs_run(&self) -> usize {
        self.stop.as_ref().map_or(self.runs, |s| s.runs)
    }
}

/// Why an adaptive bench stopped adding rounds. It never stops on a test's
/// outcome: on precision, at its maximum, or when nothing was verified.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stop {
    /// Measured rounds run.
    pub rounds: u32,
    /// Runs of the plan that ran: its warm-ups and those rounds.
    pub runs: usize,
    pub reason: StopReason,
    /// The target: every primary cell's 95 % interval within ± this.
    pub precision: f64,
    /// The least precise primary cell when it stopped.
    pub worst: Option<Precision>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// Every primary cell was known to within the target.
    Precision,
    /// The maximum number of rounds ran first.
    Maximum,
    /// No run of any cell was verified, so more rounds would not help.
    NothingVerified,
}

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let worst = match &self.worst {
            Some(Precision { cell, half_width: Some(h), .. }) => {
                format!("; least precise: {cell}, ±{:.1} %", h * 100.0)
            }
            Some(Precision { cell, half_width: None, .. }) => format!("; least precise: {cell}, no interval yet"),
            None => String::new(),
        };
        let why = match self.reason {
            StopReason::Precision => "every primary cell within",
            StopReason::Maximum => "the maximum reached before every primary cell was within",
            StopReason::NothingVerified => "no verified run to reach",
        };
        write!(f, "stopped after {} rounds: {why} ±{:.1} %{worst}", self.rounds, self.precision * 100.0)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TargetInfo {
    pub name: String,
    pub arch: String,
    pub triple: String,
    pub access: String,
    pub emulator: Option<String>,
}

/// What provenance is collected from: the plan (never the pipeline file,
/// which may have changed since), the build, the target and the run.
pub struct Inputs<'a> {
    pub plan: &'a Plan,
    pub manifest: &'a Manifest,
    pub target: &'a Target,
    pub device_before: Option<DeviceInfo>,
    pub device_after: Option<DeviceInfo>,
    pub records: &'a [RunRecord],
    pub created_utc: String,
    pub emulation: Option<Emulation>,
    pub base_build: Option<BaseBuild>,
    pub stop: Option<Stop>,
}

pub fn collect(sh: &Shell, inputs: Inputs<'_>) -> Provenance {
    let throttled = [&inputs.device_before, &inputs.device_after]
        .iter()
        .filter_map(|d| d.as_ref().and_then(DeviceInfo::was_throttled))
        .reduce(|a, b| a || b);
    let plan = inputs.plan;
    let settings = &plan.settings;
    Provenance {
        schema: PROVENANCE_SCHEMA,
        created_utc: inputs.created_utc,
        git: git(sh),
        toolchains: toolchains(sh, inputs.manifest),
        engines: engines(),
        compilers: inputs.manifest.compilers.clone(),
        artifacts: plan.files.clone(),
        plan: PlanInfo {
            id: plan.id.clone(),
            pipeline: plan.pipeline.clone(),
            pipeline_sha256: settings.pipeline_sha256.clone(),
            seed: plan.seed,
            order: settings.order,
            repetitions: settings.repetitions,
            warmups: settings.warmups,
            timeout_ms: settings.timeout_ms,
            memory_limit_bytes: settings.memory_limit_bytes,
            cpus: settings.cpus.clone(),
            baseline: settings.baseline.clone(),
            cells: plan.cells.len(),
            runs: plan.runs.len(),
            sides: plan.sides.clone(),
            callgrind: settings.callgrind,
            stop: inputs.stop,
        },
        target: TargetInfo {
            name: inputs.target.name.clone(),
            arch: inputs.target.arch.to_string(),
            triple: inputs.manifest.triple.clone(),
            access: match &inputs.target.access {
                Access::Local => "local".into(),
                Access::Ssh { destination, .. } => format!("ssh {destination}"),
            },
            // An emulated machine is named like a user-mode emulator, so
            // reports and plots say EMULATED either way.
            emulator: inputs.emulation.as_ref().map(Emulation::describe).or_else(|| inputs.target.emulator.clone()),
        },
        device_before: inputs.device_before,
        device_after: inputs.device_after,
        throttled,
        health: RunHealth::of(inputs.records),
        emulation: inputs.emulation,
        footprint: footprint::of(plan, inputs.manifest),
        base_build: inputs.base_build,
        workloads: WorkloadArtifact::of(plan, inputs.manifest),
    }
}

fn git(sh: &Shell) -> Git {
    let _dir = sh.push_dir(project::root());
    let revision = cmd!(sh, "git rev-parse HEAD").quiet().ignore_stderr().read().ok();
    Git { revision, dirty: project::tracked_changes(sh) }
}

fn toolchains(sh: &Shell, manifest: &Manifest) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let _dir = sh.push_dir(project::root());
    for (name, tool) in [("rustc", "rustc"), ("cargo", "cargo")] {
        if let Ok(v) = cmd!(sh, "{tool} --version").quiet().ignore_stderr().read() {
            out.insert(name.to_string(), v.trim().to_string());
        }
    }
    if let Some(c) = manifest.compilers.first() {
        out.insert("kernels".into(), format!("{} {}", c.command, c.version));
    }
    out
}

/// Versions of the engines: crates read from the executors' lock files, C
/// sources from their pins.
pub fn engines() -> BTreeMap<String, String> {
    engines_in(&project::root())
}

/// [`engines`] of the tree at `root`.
fn engines_in(root: &Path) -> BTreeMap<String, String> {
    let source = &crate::toolchain::programs::WASM3_SOURCE;
    let mut out = BTreeMap::from([(
        source.name.to_string(),
        format!("{} ({} {} sdist, sha256 {})", source.version, source.package, source.version, source.sha256),
    )]);
    for (lock, crates) in [
        ("crates/exec-wasmtime/Cargo.lock", &["wasmtime", "wasmtime-wasi"][..]),
        ("crates/exec-wasmer/Cargo.lock", &["wasmer", "wasmer-wasix"][..]),
        ("crates/exec-wasmi/Cargo.lock", &["wasmi", "wasmi_wasi"][..]),
    ] {
        let Ok(text) = std::fs::read_to_string(root.join(lock)) else { continue };
        let lines: Vec<&str> = text.lines().collect();
        for pair in lines.windows(2) {
            for name in crates {
                if pair[0] == format!("name = \"{name}\"")
                    && let Some(v) = pair[1].strip_prefix("version = \"").and_then(|v| v.strip_suffix('"'))
                {
                    out.insert(name.to_string(), v.to_string());
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgebench_model::Dataset;

    fn record(kernel: &str, unix_ms: u64, temperature: f64, throttled: &str) -> RunRecord {
        let mut record = RunRecord::for_test(kernel, Dataset::Mini, "native", "default", 0);
        record.health =
            Some(HealthSample { unix_ms, max_temperature_c: Some(temperature), throttled: Some(throttled.into()) });
        record
    }

    #[test]
    fn runs_under_throttling_are_counted_by_cell() {
        let records = [
            record("gemm", 1000, 61.0, "throttled=0x50000"),
            record("gemm", 1000, 61.0, "throttled=0x50000"),
            record("atax", 6000, 80.5, "throttled=0x50005"),
        ];
        let health = RunHealth::of(&records);
        assert_eq!(health.samples, 2);
        assert_eq!(health.max_temperature_c, Some(80.5));
        assert_eq!(health.throttled_runs, 1);
        assert_eq!(health.throttled_cells, ["atax/mini/native/default"]);
    }
}
