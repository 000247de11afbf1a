//! `cargo xtask bench`: build, deploy, run, collect, analyse, snapshot.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Result, bail};
use edgebench_model::manifest::ArtifactKind;
use xshell::Shell;

use crate::build::{self, Request};
use crate::flags::BenchArgs;
use crate::progress::Progress;
use crate::session::{self, RunDir};
use crate::target::{self, Access};
use crate::{pipeline, plan, programs, project, provenance, snapshot, suite, summary};

/// What a finished bench leaves behind.
pub struct Finished {
    pub run_dir: std::path::PathBuf,
    pub snapshot_dir: std::path::PathBuf,
    pub analysis: edgebench_stats::Analysis,
}

pub fn run(args: &BenchArgs) -> Result<Option<Finished>> {
    let started = Instant::now();
    let target = target::resolve(&args.target)?;
    let suite = suite::load()?;
    let pipeline = pipeline::load(&args.pipeline, &suite)?;
    let Access::Local = target.access else {
        bail!("target `{}` is reached over SSH, which this version cannot do yet; use `--target local`", target.name);
    };
    let workdir = project::target_dir(&target.name);

    let kernels: Vec<_> = pipeline.kernels.iter().collect();
    let manifest = build::build(&Request {
        target: &target,
        kernels,
        datasets: pipeline.datasets.clone(),
        programs: programs::needed(pipeline.runtimes.iter().map(|r| r.runtime)),
        debian_rootfs: pipeline
            .runtimes
            .iter()
            .any(|r| r.runtime.artifacts(&r.variant).contains(&ArtifactKind::Rootfs)),
        quiet: args.quiet,
    })?;
    let build_time = started.elapsed();

    let sh = Shell::new()?;
    let resumed = if args.resume { session::unfinished(&workdir, &pipeline.name)? } else { None };
    let (run_dir, plan) = match resumed {
        Some((dir, plan)) => {
            if !args.quiet {
                eprintln!("resuming {}", dir.rel);
            }
            (dir, plan)
        }
        None => {
            let seed = args.seed.or(pipeline.seed).unwrap_or_else(fresh_seed);
            let plan = plan::expand(&pipeline, &manifest, seed)?;
            let dir = RunDir { rel: format!("runs/{}-{}-{}", utc_stamp(), pipeline.name, plan.id) };
            session::deploy_local(&workdir, &dir, &plan)?;
            (dir, plan)
        }
    };

    if args.dry_run {
        println!("plan: {}", workdir.join(run_dir.plan()).display());
        return Ok(None);
    }
    if !args.quiet && !args.json {
        if let Some(description) = &pipeline.description {
            eprintln!("{}: {description}", pipeline.name);
        }
        for used in &pipeline.runtimes {
            eprintln!("  {:<22} {}", used.label(), used.runtime.description());
        }
        eprintln!(
            "running {} run(s) of `{}` on `{}` ({} cells, seed {})",
            plan.runs.len(),
            pipeline.name,
            target.name,
            plan.cells.len(),
            plan.seed
        );
    }
    let device_before = session::device_info_local(&sh, &workdir);
    let run_started = Instant::now();
    let done = session::read_records(&workdir.join(run_dir.results())).map(|r| r.len()).unwrap_or(0);
    let mut progress = Progress::new(plan.runs.len(), done, args.quiet || args.json);
    let outcome = session::run_local(&sh, &workdir, &run_dir, |p| progress.update(p));
    progress.finish();
    outcome?;
    let run_time = run_started.elapsed();
    let device_after = session::device_info_local(&sh, &workdir);
    let records = session::read_records(&workdir.join(run_dir.results()))?;
    let analysis = edgebench_stats::analyse(&records, pipeline.baseline.as_deref());
    let pipeline_text = std::fs::read_to_string(pipeline::locate(&args.pipeline)?)?;
    let stamp = utc_stamp();
    let provenance = provenance::collect(
        &sh,
        provenance::Inputs {
            pipeline: &pipeline,
            pipeline_text: &pipeline_text,
            plan: &plan,
            manifest: &manifest,
            target: &target,
            device_before,
            device_after,
            created_utc: stamp.clone(),
        },
    );
    let snapshot_dir = snapshot::write(&records, &analysis, &provenance, &stamp)?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&summary::json(&analysis, &workdir.join(&run_dir.rel), &snapshot_dir))?
        );
    } else {
        print!("{}", summary::table(&analysis));
    }
    if !args.quiet && !args.json {
        let failed = records.iter().filter(|r| !r.outcome.is_ok()).count();
        eprintln!(
            "{} record(s), {failed} not ok; build {:.1} s, runs {:.1} s, total {:.1} s",
            records.len(),
            secs(build_time),
            secs(run_time),
            secs(started.elapsed())
        );
    }
    if provenance.throttled == Some(true) {
        eprintln!(
            "warning: the device reported throttling or under-voltage; see {}",
            snapshot_dir.join("report.md").display()
        );
    }
    if !args.json {
        println!("results: {}", workdir.join(&run_dir.rel).display());
        println!("snapshot: {}", snapshot_dir.display());
    }
    Ok(Some(Finished { run_dir: workdir.join(&run_dir.rel), snapshot_dir, analysis }))
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn fresh_seed() -> u64 {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    (nanos as u64) ^ u64::from(std::process::id()).rotate_left(32)
}

/// `YYYYMMDDTHHMMSSZ`, from the system clock, without a date library.
pub fn utc_stamp() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!("{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(20_513), (2026, 3, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }
}
