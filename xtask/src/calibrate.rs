//! `cargo xtask calibrate`: the start-up benchmark. Runs the start-up
//! pipeline (every runtime on a kernel whose `main` returns 0) on this
//! machine, prints median wall time and peak memory per runtime variant, and
//! measures the same native binary with hyperfine, so the harness's own
//! overhead is visible as a ratio of medians.

use anyhow::{Context, Result, bail};
use edgebench_model::manifest::ArtifactKind;
use edgebench_stats::analysis::WALL_MS;
use serde::Deserialize;
use xshell::{Shell, cmd};

use crate::bench;
use crate::flags::{BenchArgs, CalibrateArgs};
use crate::project;

use edgebench_model::suite::STARTUP_KERNEL as STARTUP;

#[derive(Deserialize)]
struct HyperfineExport {
    results: Vec<HyperfineResult>,
}

#[derive(Deserialize)]
struct HyperfineResult {
    median: f64,
    mean: f64,
    stddev: Option<f64>,
}

pub fn run(args: &CalibrateArgs) -> Result<()> {
    let sh = Shell::new()?;
    if cmd!(sh, "hyperfine --version").quiet().ignore_stdout().ignore_stderr().run().is_err() {
        bail!("hyperfine is needed to calibrate the harness: apt-get install hyperfine");
    }
    let finished = bench::run(&BenchArgs {
        target: vec!["local".into()],
        pipeline: args.pipeline.clone(),
        seed: None,
        resume: false,
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
        let (Some(wall), Some(rss)) = (cell.metric(WALL_MS), crate::summary::workload_peak(cell)) else { continue };
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

    let manifest = crate::build::manifest_path("local");
    let manifest: edgebench_model::manifest::Manifest = serde_json::from_slice(&std::fs::read(&manifest)?)?;
    let native = manifest.find(STARTUP, None, ArtifactKind::Native).context("no native start-up binary was built")?;
    let exe = project::target_dir("local").join(&native.path);
    // Kept in the snapshot beside the harness's records, so both sides of
    // the comparison can be traced.
    let calibration = finished.snapshot_dir.join("calibration");
    std::fs::create_dir_all(&calibration).with_context(|| format!("creating {}", calibration.display()))?;
    let export = calibration.join("hyperfine.json");
    let runs = args.hyperfine_runs.to_string();
    cmd!(sh, "hyperfine --style none --shell=none --warmup 5 --runs {runs} --export-json {export} {exe}")
        .quiet()
        .ignore_stdout()
        .run()
        .context("running hyperfine")?;
    let export: HyperfineExport = serde_json::from_slice(&std::fs::read(&export)?)?;
    let h = export.results.first().context("hyperfine reported nothing")?;
    let harness = native_wall.context("the start-up pipeline has no native cell")?;
    let comparison = format!(
        "The native start-up binary, harness vs hyperfine ({} runs, no shell):\n  harness median {harness:.3} ms; hyperfine median {:.3} ms (mean {:.3} ± {:.3}); harness ÷ hyperfine = {:.3}\n",
        args.hyperfine_runs,
        h.median * 1e3,
        h.mean * 1e3,
        h.stddev.unwrap_or(0.0) * 1e3,
        harness / (h.median * 1e3)
    );
    std::fs::write(calibration.join("harness-vs-hyperfine.txt"), &comparison)?;
    print!("\n{comparison}");
    println!("results: {}", finished.run_dir.display());
    println!("snapshot: {}", finished.snapshot_dir.display());
    Ok(())
}
