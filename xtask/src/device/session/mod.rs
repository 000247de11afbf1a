//! One bench session on a target's device: the plan and its files deployed
//! to the work directory, the harness run there, and the records brought
//! back. [`local`] runs on this machine; [`remote`] over SSH, with the
//! harness detached from the connection.
//!
//! Either way, the target's directory here (`target/edgebench/<target>/`)
//! holds `runs/<run>/plan.json` and `results.jsonl`: for a remote target, a
//! copy of the device's, refreshed from it.

mod local;
mod remote;

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use edgebench_model::device::DeviceInfo;
use edgebench_model::manifest::Manifest;
use edgebench_model::plan::{Plan, ROUNDS_FILE};
use edgebench_model::record::RunRecord;
use edgebench_model::rundir::{PLAN_FILE, ProgressLine, RESULTS_FILE};

use crate::device::preflight::{self, Facts};
use crate::device::target::{Access, Target};
use crate::project;

pub use remote::ReconnectPolicy;

/// A plan's directory in a work directory: `runs/<run-id>/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunDir {
    /// Relative to the work directory.
    pub rel: String,
}

impl RunDir {
    pub fn plan(&self) -> String {
        format!("{}/{PLAN_FILE}", self.rel)
    }

    pub fn results(&self) -> String {
        format!("{}/{RESULTS_FILE}", self.rel)
    }
}

/// In a run directory here: why an adaptive run stopped adding rounds.
pub const STOPPED_FILE: &str = "stopped.json";

/// Which pass over a plan a run of the harness is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// The first, of a new run.
    New,
    /// `--resume` of an unfinished run.
    Resume,
    /// More rounds of an adaptive run.
    More,
}

/// What a deploy copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deployed {
    pub copied: usize,
    pub bytes: u64,
    /// Files already on the device with the right hash.
    pub present: usize,
}

pub enum Session {
    Local(local::Local),
    Remote(Box<remote::Remote>),
}

impl Session {
    /// Opens a session on the target's device; for a remote one, connects
    /// and checks the device (reachable, architecture, work directory)
    /// before anything is built for it.
    pub fn open(target: &Target, reconnect: ReconnectPolicy) -> Result<Session> {
        let mirror = project::target_dir(&target.name);
        Ok(match &target.access {
            Access::Local => {
                if target.emulator.is_some() {
                    crate::toolchain::binfmt::ensure(&xshell::Shell::new()?, target.arch)?;
                }
                Session::Local(local::Local { workdir: mirror })
            }
            Access::Ssh { destination, workdir, config } => Session::Remote(Box::new(remote::Remote::open(
                target,
                destination,
                workdir,
                config.as_deref(),
                mirror,
                reconnect,
            )?)),
        })
    }

    /// This machine's copy of the work directory: build outputs, plans and
    /// (copies of) results.
    pub fn mirror(&self) -> &Path {
        match self {
            Session::Local(l) => &l.workdir,
            Session::Remote(r) => &r.mirror,
        }
    }

    /// Where the device runs, for messages.
    pub fn describe(&self) -> String {
        match self {
            Session::Local(l) => l.workdir.display().to_string(),
            Session::Remote(r) => r.describe(),
        }
    }

    /// Puts the plan and every file it uses in the device's work directory.
    pub fn deploy(&self, manifest: &Manifest, run: &RunDir, plan: &Plan) -> Result<Deployed> {
        write_plan(self.mirror(), run, plan)?;
        match self {
            Session::Local(_) => Ok(Deployed { copied: 0, bytes: 0, present: plan.files.len() }),
            Session::Remote(r) => r.deploy(manifest, run, plan),
        }
    }

    /// Runs (or resumes, or extends) the plan, calling `on_progress` per run.
    pub fn run(&self, run: &RunDir, pass: Pass, on_progress: impl FnMut(&ProgressLine)) -> Result<()> {
        match self {
            Session::Local(l) => l.run(run, on_progress),
            Session::Remote(r) => r.run(run, pass, on_progress),
        }
    }

    /// Limits the harness to the first `rounds` measured rounds of an
    /// adaptive plan: the run directory's [`ROUNDS_FILE`], here and on the
    /// device.
    pub fn set_rounds(&self, run: &RunDir, rounds: u32) -> Result<()> {
        let rel = format!("{}/{ROUNDS_FILE}", run.rel);
        let path = self.mirror().join(&rel);
        fs::write(&path, format!("{rounds}\n")).with_context(|| format!("writing {}", path.display()))?;
        match self {
            Session::Local(_) => Ok(()),
            Session::Remote(r) => r.upload(&rel),
        }
    }

    /// Marks an adaptive run as done before its last round: `why` (JSON) in
    /// its [`STOPPED_FILE`], so `--resume` does not take it for unfinished.
    pub fn mark_stopped(&self, run: &RunDir, why: &str) -> Result<()> {
        let path = self.mirror().join(&run.rel).join(STOPPED_FILE);
        fs::write(&path, why).with_context(|| format!("writing {}", path.display()))
    }

    /// The rounds an adaptive run was last limited to, if it was.
    pub fn rounds(&self, run: &RunDir) -> Option<u32> {
        let text = fs::read_to_string(self.mirror().join(&run.rel).join(ROUNDS_FILE)).ok()?;
        text.trim().parse().ok()
    }

    /// The run's records, brought here first from a remote device.
    pub fn records(&self, run: &RunDir) -> Result<Vec<RunRecord>> {
        if let Session::Remote(r) = self {
            r.fetch_results(run)?;
        }
        read_records(&self.mirror().join(run.results()))
    }

    /// How many runs are recorded so far (0 when unknown).
    pub fn recorded(&self, run: &RunDir) -> usize {
        self.records(run).map(|r| r.len()).unwrap_or(0)
    }

    /// What the preflight found on the device: architecture, work
    /// directory, space, Docker engine, clock, governor.
    pub fn facts(&self) -> Result<Facts> {
        match self {
            Session::Local(l) => preflight::local(&l.workdir),
            Session::Remote(r) => Ok(r.facts.clone()),
        }
    }

    /// The device's identity and state, from its harness.
    pub fn device_info(&self) -> Option<DeviceInfo> {
        match self {
            Session::Local(l) => l.device_info(),
            Session::Remote(r) => r.device_info(),
        }
    }

    /// The newest run of `pipeline` whose records are incomplete.
    pub fn unfinished(&self, pipeline: &str) -> Result<Option<(RunDir, Plan)>> {
        for (run, plan) in runs_of(self.mirror(), pipeline) {
            let stopped = self.mirror().join(&run.rel).join(STOPPED_FILE).is_file();
            if !stopped && self.recorded(&run) < plan.runs.len() {
                return Ok(Some((run, plan)));
            }
        }
        Ok(None)
    }
}

fn write_plan(workdir: &Path, run: &RunDir, plan: &Plan) -> Result<()> {
    let dir = workdir.join(&run.rel);
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = workdir.join(run.plan());
    fs::write(&path, serde_json::to_vec_pretty(plan)?).with_context(|| format!("writing {}", path.display()))
}

/// Reads a results file.
pub fn read_records(path: &Path) -> Result<Vec<RunRecord>> {
    let bytes = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    parse_records(path, &bytes)
}

/// Records from a results file's bytes; an unreadable line is an error
/// that says which.
pub fn parse_records(path: &Path, bytes: &[u8]) -> Result<Vec<RunRecord>> {
    let text = crate::planning::yaml::utf8(path, bytes)?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).with_context(|| format!("{}:{}: not a run record", path.display(), i + 1))
        })
        .collect()
}

/// The runs of `pipeline` in a work directory, newest first.
fn runs_of(workdir: &Path, pipeline: &str) -> Vec<(RunDir, Plan)> {
    let Ok(entries) = fs::read_dir(workdir.join("runs")) else { return Vec::new() };
    let mut dirs: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_dir()).collect();
    dirs.sort();
    dirs.into_iter()
        .rev()
        .filter_map(|dir| {
            let plan: Plan = serde_json::from_str(&fs::read_to_string(dir.join(PLAN_FILE)).ok()?).ok()?;
            let rel = format!("runs/{}", dir.file_name()?.to_string_lossy());
            (plan.pipeline == pipeline).then_some((RunDir { rel }, plan))
        })
        .collect()
}
