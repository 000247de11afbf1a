//! `cargo xtask calibrate`: the start-up benchmark. Runs the start-up
//! pipeline (every runtime on a kernel whose `main` returns 0) on this
//! machine, prints median wall time and peak memory per runtime variant, and
//! measures the same native binary with the harness's launcher and with
//! hyperfine in alternating rounds, so the harness's own overhead is visible
//! as a ratio of medians. Alternating matters: on a shared machine the
//! start-up time of one binary drifts by half over a minute, and back-to-back
//! blocks would compare the drift, not the tools.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use edgebench_model::manifest::{ArtifactKind, Manifest};
use edgebench_stats::analysis::WALL_MS;
use edgebench_stats::summary::Summary;
use serde::Deserialize;
use xshell::{Shell, cmd};

use crate::bench;
use crate::device::session;
use crate::device::target::LOCAL;
use crate::flags::{BenchArgs, CalibrateArgs};
use crate::planning::{pipeline, plan, suite};
use crate::project;
use crate::toolchain::programs;

use edgebench_model::suite::STARTUP_KERNEL as STARTUP;

#[derive(Deserialize)]
struct HyperfineExport {
    results: Vec<HyperfineResult>,
}

#[derive(Deserialize)]
struct HyperfineResult {
    /// Wall time of each run, seconds.
    times: Vec<f64>,
}

/// Rounds of the harness-vs-hyperfine comparison; each side does a share of
/// the runs in every round, after warm-up runs of its own.
const ROUNDS: u32 = 10;
const WARMUP_RUNS: u32 = 5;

pub fn run(args: &CalibrateArgs) -> Result<()> {
    let sh = Shell::new()?;
    if cmd!(sh, "hyperfine --version").quiet().ignore_stdout().ignore_stderr().run().is_err() {
        bail!("hyperfine is needed to calibrate the harness: apt-get install hyperfine");
    }
    let finished = bench::run(&BenchArgs {
        target: vec![LOCAL.into()],
        pipeline: args.pipeline.clone(),
        seed: None,
        resume: false,
        base: None,
        dry_run: false,
        quiet: true,
        json: false,
        reconnect_for: 0,
    })?
    .into_iter()
    .next()
    .context("the start-up bench did not run")?;

    println!("\nStart-up (kernel `{STARTUP}`), medians over the measured runs:");
    println!("{:<24} {:>5} {:>12} {:>14} {:>12}", "runtime", "runs", "wall ms", "peak MiB", "× native");
    let native_wall = finished
        .analysis
        .cells
        .iter()
        .find(|c| c.key.kernel == STARTUP && c.key.runtime == "native")
        .and_then(|c| c.metric(WALL_MS))
        .map(|s| s.median);
    for cell in finished.analysis.cells.iter().filter(|c| c.key.kernel == STARTUP) {
        // The workload's own peak: for docker the container's, not the client's.
        let (Some(wall), Some(rss)) = (cell.metric(WALL_MS), crate::snapshot::console::workload_peak(cell)) else {
            continue;
        };
        let ratio = native_wall.map(|n| format!("{:.1}", wall.median / n)).unwrap_or_default();
        println!(
            "{:<24} {:>5} {:>12.3} {:>14.2} {:>12}",
            cell.key.runtime_label(),
            wall.n,
            wall.median,
            rss.median,
            ratio
        );
    }

    let calibration = finished.snapshot_dir.join("calibration");
    let comparison = compare_with_hyperfine(&sh, args.hyperfine_runs, &calibration)?;
    print!("\n{comparison}");
    println!("results: {}", finished.run_dir.display());
    println!("snapshot: {}", finished.snapshot_dir.display());
    Ok(())
}

/// Measures the native start-up binary with the harness (exactly as a bench
/// run is measured: `edgebench-harness run` on a plan of that one cell) and
/// with hyperfine, `runs` each, in alternating rounds; keeps both sides'
/// times in `calibration/` of the snapshot and returns the comparison.
fn compare_with_hyperfine(sh: &Shell, runs: u32, calibration: &Path) -> Result<String> {
    let manifest: Manifest = serde_json::from_slice(&std::fs::read(crate::build::manifest_path(LOCAL))?)?;
    let native = manifest.find(STARTUP, None, ArtifactKind::Native).context("no native start-up binary was built")?;
    let workdir = project::target_dir(LOCAL);
    let exe = workdir.join(&native.path);
    std::fs::create_dir_all(calibration).with_context(|| format!("creating {}", calibration.display()))?;
    let scratch = fresh_dir(calibration)?;
    let per_round = runs.div_ceil(ROUNDS).max(1);
    let hyperfine_runs = per_round.to_string();
    let warmup = WARMUP_RUNS.to_string();

    let (mut harness_ms, mut hyperfine_ms, mut floors_kib) = (Vec::new(), Vec::new(), Vec::new());
    let mut round_ratios = Vec::new();
    for round in 0..ROUNDS {
        let round_harness = harness_round(sh, &manifest, &scratch, round, per_round, &mut floors_kib)?;
        let export = calibration.join(format!("hyperfine-round-{round}.json"));
        cmd!(
            sh,
            "hyperfine --style none --shell=none --warmup {warmup} --runs {hyperfine_runs} --export-json {export} {exe}"
        )
        .quiet()
        .ignore_stdout()
        .run()
        .context("running hyperfine")?;
        let export: HyperfineExport = serde_json::from_slice(&std::fs::read(&export)?)?;
        let round_hyperfine: Vec<f64> =
            export.results.first().context("hyperfine reported nothing")?.times.iter().map(|t| t * 1e3).collect();
        round_ratios.push(median(&round_harness) / median(&round_hyperfine));
        harness_ms.extend(round_harness);
        hyperfine_ms.extend(round_hyperfine);
    }
    std::fs::remove_dir_all(&scratch)?;
    let harness_json = serde_json::json!({ "wall_ms": harness_ms, "max_rss_floor_kib": floors_kib });
    std::fs::write(calibration.join("harness.json"), serde_json::to_string_pretty(&harness_json)? + "\n")?;

    let (h, f) = (median(&harness_ms), median(&hyperfine_ms));
    let (low, high) = round_ratios.iter().fold((f64::MAX, f64::MIN), |(l, h), r| (l.min(*r), h.max(*r)));
    let comparison = format!(
        "The native start-up binary, harness vs hyperfine ({ROUNDS} alternating rounds of {per_round} runs each, \
         after {WARMUP_RUNS} warm-up runs; no shell):\n  harness median {h:.3} ms; hyperfine median {f:.3} ms; \
         harness ÷ hyperfine = {:.3} (rounds: {low:.3}–{high:.3})\n  the launcher's share of each run's peak memory: \
         {:.2} MiB (median)\n",
        h / f,
        median(&floors_kib) / 1024.0
    );
    std::fs::write(calibration.join("harness-vs-hyperfine.txt"), &comparison)?;
    Ok(comparison)
}

/// One round of the harness's side: a plan of the native start-up cell,
/// planned from a pipeline as any bench is, run by the harness binary.
/// Returns the measured runs' wall times in ms; adds their floors.
fn harness_round(
    sh: &Shell,
    manifest: &Manifest,
    scratch: &Path,
    round: u32,
    runs: u32,
    floors_kib: &mut Vec<f64>,
) -> Result<Vec<f64>> {
    let text = format!(
        "kernels: [{STARTUP}]\ndatasets: [mini]\nruntimes:\n  - runtime: native\nrepetitions: {runs}\n\
         warmups: {WARMUP_RUNS}\ntimeout_s: 60\norder: sequential\nseed: {round}\n"
    );
    let pipeline_path = scratch.join(format!("calibrate-round-{round}.yaml"));
    let pipeline = pipeline::parse(&pipeline_path, &text, &suite::load()?)?;
    let plan = plan::expand(&pipeline, manifest, u64::from(round), &Default::default())?;
    let plan_path = scratch.join(format!("plan-round-{round}.json"));
    std::fs::write(&plan_path, serde_json::to_vec_pretty(&plan)?)?;
    let results = scratch.join(format!("results-round-{round}.jsonl"));
    let workdir = project::target_dir(LOCAL);
    let harness = workdir.join(programs::path(&programs::HARNESS));
    cmd!(sh, "{harness} run {plan_path} --workdir {workdir} --results {results} --quiet")
        .quiet()
        .run()
        .context("running the harness on the start-up cell")?;
    let mut wall_ms = Vec::new();
    for record in session::read_records(&results)?.into_iter().filter(|r| !r.warmup) {
        if !record.outcome.is_ok() {
            bail!("the native start-up binary ended with {:?}", record.outcome);
        }
        wall_ms.push(record.wall_ns as f64 / 1e6);
        floors_kib.push(record.max_rss_floor_kib.unwrap_or(0) as f64);
    }
    Ok(wall_ms)
}

fn median(values: &[f64]) -> f64 {
    Summary::of(values).map_or(f64::NAN, |s| s.median)
}

/// A fresh directory for the harness's plans and records.
fn fresh_dir(parent: &Path) -> Result<PathBuf> {
    let dir = parent.join("scratch");
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    crate::project::make_dir(&dir)?;
    Ok(dir)
}
