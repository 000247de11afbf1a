//! A session on a device reached over SSH.
//!
//! Deploying copies only the files whose hash on the device differs. The
//! harness runs detached from the connection (`edgebench-harness start`),
//! so a dropped link loses nothing: we reconnect and follow its progress
//! again, or a later `--resume` picks the run up, restarting the harness if
//! it was killed. Records come back as a copy of the device's results file.

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use edgebench_model::device::DeviceInfo;
use edgebench_model::manifest::Manifest;
use edgebench_model::plan::Plan;
use edgebench_model::rundir::{LOG_FILE, PROGRESS_FILE, ProgressLine, follow_exit};

use super::{Deployed, Pass, RunDir};
use crate::device::preflight::{self, Facts};
use crate::device::ssh::Ssh;
use crate::device::target::Target;
use crate::toolchain::programs;

/// How long to keep trying when the connection drops during a run.
#[derive(Debug, Clone, Copy)]
pub struct ReconnectPolicy {
    pub give_up_after: Duration,
}

/// Times the harness may be found killed and restarted within one bench.
const MAX_RESTARTS: u32 = 2;

pub struct Remote {
    pub target: String,
    pub ssh: Ssh,
    /// The absolute work directory on the device.
    pub workdir: String,
    pub mirror: PathBuf,
    pub facts: Facts,
    reconnect: ReconnectPolicy,
}

impl Remote {
    pub fn open(
        target: &Target,
        destination: &str,
        workdir: &str,
        config: Option<&Path>,
        mirror: PathBuf,
        reconnect: ReconnectPolicy,
    ) -> Result<Remote> {
        let ssh = Ssh::new(&target.name, destination, config)?;
        ssh.connect().with_context(|| format!("target `{}`", target.name))?;
        let facts = preflight::remote(&ssh, workdir).with_context(|| format!("target `{}`", target.name))?;
        preflight::require(target, &facts)?;
        let workdir = facts.workdir.clone().map_err(anyhow::Error::msg)?;
        Ok(Remote { target: target.name.clone(), ssh, workdir, mirror, facts, reconnect })
    }

    pub fn describe(&self) -> String {
        format!("{}:{}", self.ssh.destination(), self.workdir)
    }

    fn harness(&self) -> String {
        format!("{}/{}", self.workdir, programs::path(&programs::HARNESS))
    }

    fn at(&self, rel: &str) -> String {
        format!("{}/{rel}", self.workdir)
    }

    /// Copies what the device lacks (by sha256), then the plan.
    pub fn deploy(&self, manifest: &Manifest, run: &RunDir, plan: &Plan) -> Result<Deployed> {
        let harness = programs::path(&programs::HARNESS);
        let mut wanted: BTreeMap<&str, &str> =
            plan.files.iter().map(|f| (f.path.as_str(), f.sha256.as_str())).collect();
        let harness_sha = manifest
            .artifacts
            .iter()
            .find(|a| a.path == harness)
            .map(|a| a.sha256.as_str())
            .context("the manifest has no harness; run `cargo xtask build` for this target")?;
        wanted.insert(&harness, harness_sha);

        let present = self.hashes(wanted.keys().copied())?;
        let stale: Vec<String> = wanted
            .iter()
            .filter(|(p, sha)| present.get(**p).map(String::as_str) != Some(*sha))
            .map(|(p, _)| p.to_string())
            .collect();
        let bytes: u64 = stale.iter().map(|p| fs::metadata(self.mirror.join(p)).map(|m| m.len()).unwrap_or(0)).sum();
        if let Some(free) = self.facts.free_bytes
            && bytes + (16 << 20) > free
        {
            bail!(
                "the work directory {} on `{}` has {} free; this deploy needs {} (+16 MiB to spare). Free space there, or point the target's `workdir` at a larger filesystem; earlier results are untouched.",
                self.workdir,
                self.target,
                preflight::mib(free),
                preflight::mib(bytes)
            );
        }
        self.ssh.upload(&self.mirror, &self.workdir, &stale)?;
        let copied = self.hashes(stale.iter().map(String::as_str))?;
        if let Some(bad) =
            stale.iter().find(|p| copied.get(p.as_str()).map(String::as_str) != wanted.get(p.as_str()).copied())
        {
            bail!("{bad} on `{}` does not have the hash it was sent with; deploy again", self.target);
        }
        self.ssh.upload(&self.mirror, &self.workdir, &[run.plan()])?;
        Ok(Deployed { copied: stale.len(), bytes, present: wanted.len() - stale.len() })
    }

    /// Copies one file of the mirror (a path relative to it) to the device.
    pub fn upload(&self, rel: &str) -> Result<()> {
        self.ssh.upload(&self.mirror, &self.workdir, &[rel.to_string()])
    }

    /// sha256 of each of `paths` that exists on the device.
    fn hashes<'a>(&'a self, paths: impl IntoIterator<Item = &'a str>) -> Result<BTreeMap<String, String>> {
        const SCRIPT: &str = r#"cd "$1" || exit 1; shift; for f; do [ -f "$f" ] && sha256sum -- "$f"; done; exit 0"#;
        let mut args: Vec<&str> = vec![self.workdir.as_str()];
        args.extend(paths);
        let text = self.ssh.run(SCRIPT, &args)?;
        Ok(text
            .lines()
            .filter_map(|l| l.split_once("  ").map(|(sha, path)| (path.to_string(), sha.to_string())))
            .collect())
    }

    /// Starts the harness unless it runs, then follows it to the end,
    /// reconnecting when the link drops.
    pub fn run(&self, run: &RunDir, pass: Pass, mut on_progress: impl FnMut(&ProgressLine)) -> Result<()> {
        let run_dir = self.at(&run.rel);
        let mut line = if pass == Pass::New { 0 } else { self.progress_lines(&run_dir)? };
        let already_running = self.start(&run_dir)?;
        if pass == Pass::Resume {
            eprintln!(
                "{}: {}",
                self.target,
                if already_running {
                    "the harness is still running on the device; following it"
                } else {
                    "the harness was not running (killed, or the device restarted); started it again to resume"
                }
            );
        }
        let mut restarts = 0;
        loop {
            let (seen, exit) = self.follow(&run_dir, line, &mut on_progress)?;
            line += seen;
            match exit {
                Some(code) if code == i32::from(follow_exit::FINISHED) => return Ok(()),
                Some(code) if code == i32::from(follow_exit::FAILED) => bail!(
                    "the harness failed on `{}`:\n{}\nFix the cause, then run the bench again with --resume.",
                    self.target,
                    self.log_tail(&run_dir)
                ),
                Some(code) if code == i32::from(follow_exit::NOT_RUNNING) && restarts < MAX_RESTARTS => {
                    restarts += 1;
                    eprintln!(
                        "{}: the harness is not running (killed, or the device restarted); starting it again to resume",
                        self.target
                    );
                    self.start(&run_dir)?;
                }
                Some(code) if code == i32::from(follow_exit::NOT_RUNNING) => {
                    bail!("the harness on `{}` keeps stopping:\n{}", self.target, self.log_tail(&run_dir))
                }
                None => self.reconnect(run)?,
                Some(code) => bail!("following the harness on `{}` failed (exit {code})", self.target),
            }
        }
    }

    /// Starts the harness on the run unless it runs; says whether it did.
    fn start(&self, run_dir: &str) -> Result<bool> {
        const SCRIPT: &str = r#"exec "$1" start "$2" --workdir "$3""#;
        let said = self.ssh.run(SCRIPT, &[&self.harness(), run_dir, &self.workdir]).context("starting the harness")?;
        Ok(said.starts_with("running"))
    }

    /// One `follow` over the connection: returns the progress lines seen and
    /// its exit code, `None` when the connection failed.
    fn follow(
        &self,
        run_dir: &str,
        from: usize,
        on_progress: &mut impl FnMut(&ProgressLine),
    ) -> Result<(usize, Option<i32>)> {
        const SCRIPT: &str = r#"exec "$1" follow "$2" --from "$3""#;
        let mut child = self
            .ssh
            .script(SCRIPT, &[&self.harness(), run_dir, &from.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .context("running ssh")?;
        let mut seen = 0;
        for line in BufReader::new(child.stdout.take().context("ssh's stdout")?).lines() {
            let Ok(line) = line else { break };
            seen += 1;
            if let Ok(progress) = serde_json::from_str::<ProgressLine>(&line) {
                on_progress(&progress);
            }
        }
        let mut stderr = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = e.read_to_string(&mut stderr);
        }
        let status = child.wait()?;
        match status.code() {
            Some(255) | None => {
                eprintln!("{}: lost the connection: {}", self.target, stderr.trim());
                Ok((seen, None))
            }
            Some(code) => {
                if code != 0 && !stderr.trim().is_empty() {
                    eprintln!("{}: {}", self.target, stderr.trim());
                }
                Ok((seen, Some(code)))
            }
        }
    }

    fn reconnect(&self, run: &RunDir) -> Result<()> {
        let started = Instant::now();
        let mut wait = Duration::from_millis(500);
        loop {
            self.ssh.disconnect();
            match self.ssh.connect() {
                Ok(()) => {
                    eprintln!("{}: reconnected", self.target);
                    return Ok(());
                }
                Err(e) if started.elapsed() >= self.reconnect.give_up_after => {
                    bail!(
                        "lost the connection to `{}` and could not reconnect within {} s: {e:#}\n\
                         The harness goes on running on the device. When it is reachable again, \
                         `cargo xtask bench --target {} --pipeline <same> --resume` collects {} and resumes if needed.",
                        self.target,
                        self.reconnect.give_up_after.as_secs(),
                        self.target,
                        run.rel
                    )
                }
                Err(_) => {
                    std::thread::sleep(wait);
                    wait = (wait * 2).min(Duration::from_secs(5));
                }
            }
        }
    }

    fn progress_lines(&self, run_dir: &str) -> Result<usize> {
        const SCRIPT: &str = r#"[ -f "$1" ] && wc -l < "$1" || echo 0"#;
        let text = self.ssh.run(SCRIPT, &[&format!("{run_dir}/{PROGRESS_FILE}")])?;
        text.trim().parse().with_context(|| format!("counting progress lines: {text:?}"))
    }

    fn log_tail(&self, run_dir: &str) -> String {
        const SCRIPT: &str = r#"tail -n 20 "$1" 2>/dev/null"#;
        self.ssh
            .run(SCRIPT, &[&format!("{run_dir}/{LOG_FILE}")])
            .unwrap_or_else(|e| format!("(its log could not be read: {e:#})"))
    }

    /// Copies the device's results file (complete lines only) and the
    /// harness's log into the mirror.
    pub fn fetch_results(&self, run: &RunDir) -> Result<()> {
        const SCRIPT: &str = r#"[ -f "$1" ] && cat "$1"; exit 0"#;
        let text = self.ssh.run(SCRIPT, &[&self.at(&run.results())]).context("fetching the records")?;
        let complete = &text[..text.rfind('\n').map_or(0, |i| i + 1)];
        write_atomically(&self.mirror.join(run.results()), complete.as_bytes())?;
        if let Ok(log) = self.ssh.run(SCRIPT, &[&self.at(&format!("{}/{LOG_FILE}", run.rel))]) {
            write_atomically(&self.mirror.join(&run.rel).join(LOG_FILE), log.as_bytes())?;
        }
        Ok(())
    }

    pub fn device_info(&self) -> Option<DeviceInfo> {
        let text = self.ssh.run(r#"exec "$1" info"#, &[&self.harness()]).ok()?;
        serde_json::from_str(&text).ok()
    }
}

impl Drop for Remote {
    fn drop(&mut self) {
        self.ssh.disconnect();
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("part");
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}
