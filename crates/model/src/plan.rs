//! The plan: what the device executes, fully resolved by the host.
//!
//! The host expands a pipeline into cells (kernel × dataset × runtime ×
//! variant) and a seeded run order, and resolves every cell to the exact
//! command line to run. The harness therefore knows nothing about runtimes:
//! it verifies files, runs probes, runs commands, measures and records.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Dataset;
use crate::workload::StdoutCheck;

/// 2: the plan carries the settings it was made with ([`Settings`]).
pub const PLAN_SCHEMA: u32 = 2;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    pub schema: u32,
    /// A hash of everything below; records carry it so results of another
    /// plan are never mixed in on resume.
    pub id: String,
    pub pipeline: String,
    pub target: String,
    pub seed: u64,
    /// How the runs were planned, as the pipeline said when the plan was
    /// made: everything downstream (provenance, summary, report) reads these
    /// here, so a pipeline edited before a `--resume` cannot change what a
    /// snapshot says about the runs.
    pub settings: Settings,
    /// Every file a run uses, relative to the work directory, with the hash
    /// the harness checks before running anything.
    pub files: Vec<PlanFile>,
    /// Per runtime (and variant) a command that must succeed on the device
    /// before its cells run; when it fails, their runs are recorded as
    /// unavailable with its output as the reason.
    pub probes: Vec<Probe>,
    pub cells: Vec<Cell>,
    /// The run order, warm-ups included.
    pub runs: Vec<PlannedRun>,
    /// The revisions of the project a same-session A/B bench ran side by
    /// side (`bench --base REV`): each cell's variant ends in `@` and its
    /// side's name. Empty for a bench of one revision.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sides: Vec<RevisionSide>,
}

/// One revision of the project in a same-session A/B bench: its kernels,
/// executors and precompiled modules were built by that revision's own
/// build, from its own sources.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevisionSide {
    /// `base` or `head`: the suffix of its cells' variants after `@`.
    pub name: String,
    /// The commit, in full.
    pub commit: String,
    /// Whether the side was built from a working tree with uncommitted
    /// changes to tracked files (the head side only can be).
    pub dirty: bool,
    /// The commit's subject line.
    pub subject: String,
}

/// The revision side a change is measured against (`bench --base`).
pub const BASE_SIDE: &str = "base";
/// The revision side under test: the working tree.
pub const HEAD_SIDE: &str = "head";

/// What separates a variant from the name of its revision side.
pub const SIDE_SEPARATOR: char = '@';

/// `variant@side`, the variant of a cell of one revision side.
pub fn side_variant(variant: &str, side: &str) -> String {
    format!("{variant}{SIDE_SEPARATOR}{side}")
}

/// The variant without its revision side, and the side's name, if any.
pub fn split_side(variant: &str) -> (&str, Option<&str>) {
    match variant.split_once(SIDE_SEPARATOR) {
        Some((variant, side)) => (variant, Some(side)),
        None => (variant, None),
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Measured runs per cell: with [`Settings::adaptive`], at the least.
    pub repetitions: u32,
    /// Rounds added until the runs are precise enough, up to a maximum
    /// (the plan's run order holds that maximum).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adaptive: Option<Adaptive>,
    /// Unmeasured runs per cell, before its measured ones.
    pub warmups: u32,
    pub order: Order,
    /// Per run, as in every cell.
    pub timeout_ms: u64,
    pub memory_limit_bytes: Option<u64>,
    /// Whether every run's instructions are counted by valgrind's callgrind
    /// (every cell's command line runs under it): near-deterministic
    /// counts, and no timings of the device's.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub callgrind: bool,
    /// CPUs the harness and every measured child are pinned to
    /// (`sched_setaffinity`); none, the scheduler places them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpus: Option<Vec<usize>>,
    /// `runtime/variant` the ratios are taken against.
    pub baseline: Option<String>,
    /// The pipeline file as it was read, and its sha256.
    pub pipeline_sha256: String,
    pub pipeline_text: String,
}

/// Adaptive repetitions: after the first `repetitions` rounds, more rounds
/// until every primary cell's median (or, with revision sides, its
/// base-to-head ratio) is known to within `precision` — the relative
/// half-width of its 95 % interval — or `max_repetitions` rounds ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Adaptive {
    pub precision: f64,
    pub max_repetitions: u32,
}

/// The command line a cell's program runs under when a plan counts
/// instructions with callgrind: every process it starts counted too (each
/// reports its own total), no profile file (the totals are on stderr), and
/// JIT-compiled code retranslated when it is rewritten.
pub const CALLGRIND: [&str; 5] = [
    "valgrind",
    "--tool=callgrind",
    "--trace-children=yes",
    "--callgrind-out-file=/dev/null",
    "--smc-check=all-non-file",
];

/// The file in a run directory that holds how many measured rounds the
/// harness is to run (of an adaptive plan; without it, all of them).
pub const ROUNDS_FILE: &str = "rounds";

impl Plan {
    /// The runs of the first `rounds` measured rounds, and every warm-up:
    /// with an interleaved or shuffled order, a prefix of the run order.
    pub fn runs_within(&self, rounds: Option<u32>) -> usize {
        match rounds {
            None => self.runs.len(),
            Some(rounds) => self.runs.iter().filter(|r| r.warmup || r.repetition < rounds).count(),
        }
    }
}

/// The run order. Every order runs warm-ups before measured runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    /// Each cell's runs back to back.
    Sequential,
    /// Round by round: one run of every cell per round, in a fixed order.
    Interleaved,
    /// Round by round, in a new seeded random order each round, so that
    /// drift (heat, frequency) does not favour one runtime.
    #[default]
    Shuffled,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanFile {
    pub path: String,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Probe {
    /// The key cells refer to, e.g. `docker/debian`.
    pub name: String,
    pub invocation: Invocation,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cell {
    pub kernel: String,
    pub dataset: Dataset,
    pub runtime: String,
    pub variant: String,
    pub timeout_ms: u64,
    /// Whether the kernel prints an `EDGEBENCH_RESULT` line that must be there.
    pub reports: bool,
    /// The checksum every runtime must reproduce, where known in advance.
    pub expected_checksum: Option<String>,
    /// The probe this cell depends on, if any.
    pub probe: Option<String>,
    pub invocation: Invocation,
    /// Set for a kernel of the PolyBench/C suite: the same runtime on the
    /// kernel built with `-DPOLYBENCH_DUMP_ARRAYS`. Printing is not part of
    /// the timed build, so the harness runs this once, unmeasured, and the
    /// hash of the arrays it dumps is the checksum of the cell's runs; their
    /// kernel-region time is the `POLYBENCH_TIME` line on stdout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub polybench_dump: Option<Invocation>,
    /// Set for a workload checked by its stdout: the checksum of a run is
    /// the hash of what it printed (see [`StdoutCheck`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdout_check: Option<StdoutCheck>,
    /// Set when the host found, before building anything, that this cell
    /// cannot run there (no Docker engine, a compiler only root can
    /// provision, …): the harness records its runs as unavailable with this
    /// reason and runs nothing. Its invocation is then empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<String>,
}

impl Cell {
    /// `kernel/dataset/runtime/variant`, the cell's name in messages.
    pub fn label(&self) -> String {
        cell_label(&self.kernel, self.dataset, &self.runtime, &self.variant)
    }
}

/// A cell's name everywhere — messages, reports, provenance:
/// `kernel/dataset/runtime/variant`.
pub fn cell_label(kernel: &str, dataset: Dataset, runtime: &str, variant: &str) -> String {
    format!("{kernel}/{dataset}/{runtime}/{variant}")
}

/// The placeholder for the work directory's absolute path in an argument.
pub const WORKDIR: &str = "{workdir}";

/// One command line, run as a fresh child process in the work directory.
/// [`WORKDIR`] in an argument stands for the work directory's absolute path.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Invocation {
    /// Program and arguments; a relative program path is taken from the work
    /// directory, a bare name from `PATH`.
    pub argv: Vec<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// A cap on the child's address space (`RLIMIT_AS`), for native code.
    /// Wasm engines reserve large address ranges, so they are capped through
    /// their own options instead.
    #[serde(default)]
    pub address_space_limit: Option<u64>,
    /// Whether the program is an executor that writes an
    /// [`ExecutorReport`](crate::executor::ExecutorReport).
    #[serde(default)]
    pub executor_report: bool,
    /// Whether the workload runs outside the program's process tree (a
    /// container, started by the Docker engine): what is counted on the
    /// program's processes (instructions, cycles) is then the client's,
    /// not the workload's, and is not recorded.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub workload_elsewhere: bool,
}

impl Invocation {
    /// Whether an argument names the file `path` (relative to the work
    /// directory): as the whole argument, or as a piece of it between `:`,
    /// `=` or `,` (a `docker -v` mount, `--flag=path`), as is or below
    /// [`WORKDIR`].
    pub fn names(&self, path: &str) -> bool {
        let is_path =
            |piece: &str| piece == path || piece.strip_prefix(WORKDIR).and_then(|p| p.strip_prefix('/')) == Some(path);
        // Splitting an argument without separators yields the argument itself.
        self.argv.iter().any(|arg| arg.split([':', '=', ',']).any(is_path))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlannedRun {
    pub cell: usize,
    /// 0-based; warm-ups and measured runs are counted separately.
    pub repetition: u32,
    pub warmup: bool,
}

impl Plan {
    /// Checks references inside the plan (cells, probes) so the harness never
    /// indexes out of bounds on a hand-written or corrupted plan.
    pub fn validate(&self) -> Result<(), String> {
        if self.schema != PLAN_SCHEMA {
            return Err(format!(
                "plan schema {} is not supported (this harness reads schema {PLAN_SCHEMA}); rebuild and redeploy",
                self.schema
            ));
        }
        for (i, run) in self.runs.iter().enumerate() {
            if run.cell >= self.cells.len() {
                return Err(format!("run {i} refers to cell {} but the plan has {}", run.cell, self.cells.len()));
            }
        }
        for cell in &self.cells {
            if cell.timeout_ms == 0 {
                return Err(format!("cell {} has a timeout of 0 ms; every run would time out", cell.label()));
            }
            let runs_something = cell.unavailable.is_none();
            if runs_something
                && (cell.invocation.argv.is_empty() || cell.polybench_dump.as_ref().is_some_and(|d| d.argv.is_empty()))
            {
                return Err(format!("cell {} has an empty command line", cell.label()));
            }
            if let Some(p) = &cell.probe
                && !self.probes.iter().any(|probe| &probe.name == p)
            {
                return Err(format!("cell {} refers to unknown probe `{p}`", cell.label()));
            }
        }
        for probe in &self.probes {
            if probe.invocation.argv.is_empty() {
                return Err(format!("probe {} has an empty command line", probe.name));
            }
        }
        for cell in &self.cells {
            let side = split_side(&cell.variant).1;
            if side.is_some_and(|side| !self.sides.iter().any(|s| s.name == side))
                || (side.is_none() && !self.sides.is_empty())
            {
                return Err(format!("cell {} belongs to no revision side of the plan", cell.label()));
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for run in &self.runs {
            if !seen.insert((run.cell, run.repetition, run.warmup)) {
                return Err(format!(
                    "run of cell {} repetition {} is listed twice",
                    self.cells[run.cell].label(),
                    run.repetition
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invocation(argv: &[&str]) -> Invocation {
        Invocation { argv: argv.iter().map(|a| a.to_string()).collect(), ..Default::default() }
    }

    #[test]
    fn an_argument_names_a_file_whole_in_a_mount_or_after_a_flag() {
        let path = "kernels/native/gemm.mini";
        assert!(invocation(&["bin/x", path]).names(path));
        assert!(invocation(&["docker", "-v", "{workdir}/kernels/native/gemm.mini:/edgebench/kernel:ro"]).names(path));
        assert!(invocation(&["tool", "--input=kernels/native/gemm.mini"]).names(path));
        assert!(!invocation(&["bin/x", "kernels/native/gemm.mini.extra"]).names(path));
        assert!(!invocation(&["bin/x", "other/kernels/native/gemm.mini"]).names(path));
        assert!(!invocation(&["{workdir}kernels/native/gemm.mini"]).names(path));
    }
}
