//! A session on this machine: the target's directory is the work directory,
//! and the harness runs as our child.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::Stdio;

use anyhow::{Context, Result, bail};
use edgebench_model::device::DeviceInfo;
use xshell::{Shell, cmd};

use edgebench_model::rundir::ProgressLine;

use super::RunDir;
use crate::toolchain::programs;

pub struct Local {
    pub workdir: PathBuf,
}

impl Local {
    pub fn run(&self, run: &RunDir, mut on_progress: impl FnMut(&ProgressLine)) -> Result<()> {
        let sh = Shell::new()?;
        let workdir = &self.workdir;
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
        let stdout = child.stdout.take().context("the harness's stdout")?;
        for line in BufReader::new(stdout).lines() {
            if let Ok(progress) = serde_json::from_str::<ProgressLine>(&line?) {
                on_progress(&progress);
            }
        }
        let status = child.wait()?;
        if !status.success() {
            // Killed, it resumes as it was; failed, it fails again until its
            // cause (said above) is fixed.
            let next = match status.code() {
                None => "Run the bench again with --resume to continue where it stopped.",
                Some(_) => "Fix the cause it names, then run the bench again with --resume.",
            };
            bail!("the harness failed ({status}); its message is above. {next}");
        }
        Ok(())
    }

    pub fn device_info(&self) -> Option<DeviceInfo> {
        let sh = Shell::new().ok()?;
        let harness = self.workdir.join(programs::path(&programs::HARNESS));
        let text = cmd!(sh, "{harness} info").quiet().ignore_stderr().read().ok()?;
        serde_json::from_str(&text).ok()
    }
}
