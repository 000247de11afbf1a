//! One bench session on a target: the plan deployed to the work directory,
//! the harness run there, and the records brought back.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{Context, Result, bail};
use edgebench_model::plan::Plan;
use edgebench_model::record::RunRecord;
use serde::Deserialize;
use xshell::{Shell, cmd};

use crate::programs;

/// Progress lines the harness prints with `--json`.
#[derive(Debug, Deserialize)]
pub struct ProgressLine {
    pub position: usize,
    pub total: usize,
    pub label: String,
    pub warmup: bool,
    pub status: String,
    pub wall_ns: u64,
}

/// A plan's directory in a work directory: `runs/<run-id>/`.
pub struct RunDir {
    /// Relative to the work directory.
    pub rel: String,
}

impl RunDir {
    pub fn plan(&self) -> String {
        format!("{}/plan.json", self.rel)
    }

    pub fn results(&self) -> String {
        format!("{}/results.jsonl", self.rel)
    }
}

/// Writes the plan into a local work directory.
pub fn deploy_local(workdir: &Path, run: &RunDir, plan: &Plan) -> Result<()> {
    let dir = workdir.join(&run.rel);
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    fs::write(workdir.join(run.plan()), serde_json::to_vec_pretty(plan)?)?;
    Ok(())
}

/// Runs the harness on a local work directory, calling `on_progress` per run.
pub fn run_local(sh: &Shell, workdir: &Path, run: &RunDir, mut on_progress: impl FnMut(&ProgressLine)) -> Result<()> {
    let harness = workdir.join(programs::path(&programs::HARNESS));
    let plan = workdir.join(run.plan());
    let results = workdir.join(run.results());
    let mut command: std::process::Command =
        cmd!(sh, "{harness} run {plan} --workdir {workdir} --results {results} --json").into();
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("starting {}", harness.display()))?;
    let stdout = child.stdout.take().expect("stdout is piped");
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        if let Ok(progress) = serde_json::from_str::<ProgressLine>(&line) {
            on_progress(&progress);
        }
    }
    let status = child.wait()?;
    if !status.success() {
        bail!("the harness failed ({status}); its message is above. Run the bench again to resume.");
    }
    Ok(())
}

/// Reads a results file.
pub fn read_records(path: &Path) -> Result<Vec<RunRecord>> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).with_context(|| format!("{}:{}: not a run record", path.display(), i + 1))
        })
        .collect()
}

/// The newest run directory of `pipeline` whose results are incomplete.
pub fn unfinished(workdir: &Path, pipeline: &str) -> Result<Option<(RunDir, Plan)>> {
    let runs = workdir.join("runs");
    let Ok(entries) = fs::read_dir(&runs) else { return Ok(None) };
    let mut dirs: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_dir()).collect();
    dirs.sort();
    for dir in dirs.into_iter().rev() {
        let Ok(text) = fs::read_to_string(dir.join("plan.json")) else { continue };
        let Ok(plan) = serde_json::from_str::<Plan>(&text) else { continue };
        if plan.pipeline != pipeline {
            continue;
        }
        let done = read_records(&dir.join("results.jsonl")).map(|r| r.len()).unwrap_or(0);
        if done < plan.runs.len() {
            let rel = format!("runs/{}", dir.file_name().unwrap_or_default().to_string_lossy());
            return Ok(Some((RunDir { rel }, plan)));
        }
    }
    Ok(None)
}

/// The device's identity and state, from the harness on a local work directory.
pub fn device_info_local(sh: &Shell, workdir: &Path) -> Option<edgebench_model::device::DeviceInfo> {
    let harness = workdir.join(programs::path(&programs::HARNESS));
    let text = cmd!(sh, "{harness} info").quiet().ignore_stderr().read().ok()?;
    serde_json::from_str(&text).ok()
}
