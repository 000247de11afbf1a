//! `cargo xtask bench`: build, deploy, run, collect, analyse, snapshot — on
//! one target, or on several at once (a fleet: one connection, one harness
//! and one snapshot per device).

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, anyhow, bail};
use edgebench_model::manifest::Manifest;
use edgebench_model::plan::{Adaptive, Plan};
use edgebench_stats::precision;
use xshell::Shell;

use crate::build::{self, Request};
use crate::device::availability;
use crate::device::machine;
use crate::device::progress::Progress;
use crate::device::session::{Pass, ReconnectPolicy, RunDir, Session};
use crate::device::target::{self, Target};
use crate::flags::BenchArgs;
use crate::planning::pipeline;
use crate::planning::pipeline::Pipeline;
use crate::planning::plan;
use crate::planning::sides::{self, SidePlan};
use crate::planning::suite;
use crate::snapshot;
use crate::snapshot::console;
use crate::snapshot::provenance::{self, Stop, StopReason};
use crate::toolchain::revision::{self, Revision, Source};

/// What a finished bench leaves behind, per target.
pub struct Finished {
    pub target: String,
    pub run_dir: PathBuf,
    pub snapshot_dir: PathBuf,
    pub analysis: edgebench_stats::Analysis,
    pub records: usize,
    pub failed: usize,
    pub throttled: bool,
    pub build_time: Duration,
    pub run_time: Duration,
}

/// A target made ready: connected, built for, planned and deployed.
struct Prepared {
    target: Target,
    session: Session,
    manifest: Manifest,
    plan: Plan,
    run_dir: RunDir,
    resumed: bool,
    build_time: Duration,
    /// The emulated machine the target is, running until the bench ends.
    machine: Option<machine::Running>,
    /// How the base side was built, for a same-session A/B of two revisions.
    base_build: Option<provenance::BaseBuild>,
}

pub fn run(args: &BenchArgs) -> Result<Vec<Finished>> {
    let started = Instant::now();
    if let Some(rev) = &args.base {
        // Before anything connects or builds: a base that is not there.
        Revision::resolve(&Shell::new()?, rev)?;
    }
    let suite = suite::load()?;
    let pipeline = pipeline::load(&args.pipeline, &suite)?;
    let mut targets: Vec<Target> = Vec::new();
    for name in &args.target {
        if targets.iter().any(|t| &t.name == name) {
            bail!("target `{name}` is named twice");
        }
        targets.push(target::resolve(name)?);
    }
    if !args.dry_run {
        for target in &targets {
            snapshot::check_writable(&target.name, &pipeline.name)?;
        }
    }
    let reconnect = ReconnectPolicy { give_up_after: Duration::from_secs(args.reconnect_for) };

    // One after another: builds share this machine's cores.
    let mut prepared = Vec::new();
    for target in targets {
        let name = target.name.clone();
        prepared.push(prepare(args, &pipeline, target, reconnect).map_err(|e| e.context(format!("target `{name}`")))?);
    }
    if args.dry_run {
        for p in &prepared {
            println!("plan: {}", p.session.mirror().join(p.run_dir.plan()).display());
            for line in snapshot::detectable::planned_for(&p.target.name, &pipeline) {
                println!("{line}");
            }
        }
        return Ok(Vec::new());
    }
    if !args.quiet && !args.json {
        if let Some(description) = &pipeline.description {
            eprintln!("{}: {description}", pipeline.name);
        }
        for used in &pipeline.runtimes {
            eprintln!("  {:<22} {}", used.label(), used.runtime.description());
        }
    }

    let fleet = prepared.len() > 1;
    let outcomes: Vec<(String, Result<Finished>)> = std::thread::scope(|scope| {
        let running: Vec<_> =
            prepared.into_iter().map(|p| (p.target.name.clone(), scope.spawn(|| execute(args, p, fleet)))).collect();
        running
            .into_iter()
            .map(|(name, handle)| {
                (name, handle.join().unwrap_or_else(|_| Err(anyhow!("the bench of this target panicked"))))
            })
            .collect()
    });

    let mut finished = Vec::new();
    let mut failures = Vec::new();
    for (name, outcome) in outcomes {
        match outcome {
            Ok(f) => finished.push(f),
            Err(e) if !fleet => return Err(e),
            Err(e) => failures.push(format!("{name}: {e:#}")),
        }
    }
    report(args, &finished, started.elapsed())?;
    if !failures.is_empty() {
        bail!("{} of {} target(s) failed:\n{}", failures.len(), args.target.len(), failures.join("\n"));
    }
    Ok(finished)
}

fn prepare(args: &BenchArgs, pipeline: &Pipeline, target: Target, reconnect: ReconnectPolicy) -> Result<Prepared> {
    let started = Instant::now();
    let machine = match &target.machine {
        Some(spec) => Some(machine::boot(&Shell::new()?, &target.name, spec, args.quiet || args.json)?),
        None => None,
    };
    // Connect and check the device first: a wrong architecture, an
    // unreachable host or nothing to resume should not wait for a build.
    let session = Session::open(&target, reconnect)?;
    let resumed = match args.resume {
        true => Some(session.unfinished(&pipeline.name)?.with_context(|| {
            format!(
                "nothing to resume: no unfinished run of `{}` on `{}` (its runs are in {}); run without --resume",
                pipeline.name,
                target.name,
                session.mirror().join("runs").display()
            )
        })?),
        false => None,
    };
    let unavailable = availability::check(&Shell::new()?, pipeline, &target, &session.facts()?, session.mirror());
    for (label, why) in &unavailable {
        eprintln!("{}: {label} cannot run here; its runs are recorded as unavailable: {why}", target.name);
    }
    let sides = match base_revision(args, resumed.as_ref().map(|(_, plan)| plan))? {
        Some(revision) => Some(build_sides(args, &target.name, revision)?),
        None => None,
    };
    let mut manifest = build::build(&Request::for_pipeline(&target, pipeline, &unavailable, args.quiet))?;
    let build_time = started.elapsed();
    let (run_dir, plan, resumed) = match resumed {
        Some((dir, plan)) => {
            if !args.quiet {
                eprintln!("{}: resuming {}", target.name, dir.rel);
            }
            (dir, plan, true)
        }
        None => {
            let seed = args.seed.or(pipeline.seed).unwrap_or_else(fresh_seed);
            let plan = match &sides {
                Some(built) => sides::expand(
                    pipeline,
                    SidePlan { side: built.base.side(sides::BASE), manifest: &built.base_manifest },
                    SidePlan {
                        side: revision::head_side(&Shell::new()?, sides::HEAD)?,
                        manifest: &built.head_manifest,
                    },
                    seed,
                    &unavailable,
                )?,
                None => plan::expand(pipeline, &manifest, seed, &unavailable)?,
            };
            let dir = RunDir { rel: format!("runs/{}-{}-{}", utc_stamp(), pipeline.name, plan.id) };
            (dir, plan, false)
        }
    };
    // One manifest for the device and the provenance: this tree's (its
    // harness runs the plan), with each side's files (below their own
    // directories) beside its own.
    let base_build = sides.as_ref().map(|built| built.base_build.clone());
    if let Some(built) = sides {
        manifest.artifacts.extend(built.base_manifest.artifacts);
        manifest.artifacts.extend(built.head_manifest.artifacts);
    }
    let deployed = session.deploy(&manifest, &run_dir, &plan)?;
    if !args.quiet && matches!(session, Session::Remote(_)) {
        eprintln!(
            "{}: deployed {} file(s), {} ({} already on the device)",
            target.name,
            deployed.copied,
            crate::device::preflight::mib(deployed.bytes),
            deployed.present
        );
    }
    Ok(Prepared { target, session, manifest, plan, run_dir, resumed, build_time, machine, base_build })
}

/// Runs a prepared target's plan and writes its snapshot. From here on the
/// plan is the only source of what the run is: the pipeline file may have
/// been edited since the plan was made (a `--resume`).
fn execute(args: &BenchArgs, p: Prepared, fleet: bool) -> Result<Finished> {
    let Prepared { target, session, manifest, plan, run_dir, resumed, build_time, machine, base_build } = p;
    let quiet = args.quiet || args.json;
    if !quiet {
        eprintln!(
            "{}: running {} run(s) of `{}` on {} ({} cells, seed {})",
            target.name,
            plan.runs.len(),
            plan.pipeline,
            session.describe(),
            plan.cells.len(),
            plan.seed
        );
    }
    let device_before = session.device_info();
    let run_started = Instant::now();
    let prefix = fleet.then(|| target.name.clone());
    let first = if resumed { Pass::Resume } else { Pass::New };
    let stop = match &plan.settings.adaptive {
        None => {
            let mut progress = Progress::new(plan.runs.len(), session.recorded(&run_dir), quiet, prefix);
            let outcome = session.run(&run_dir, first, |line| progress.update(line));
            progress.finish();
            outcome?;
            None
        }
        Some(adaptive) => {
            let stop = run_adaptively(&session, &run_dir, &plan, adaptive, first, quiet, prefix)?;
            if !quiet {
                eprintln!("{}: {stop}", target.name);
            }
            Some(stop)
        }
    };
    let run_time = run_started.elapsed();
    let device_after = session.device_info();
    let records = session.records(&run_dir)?;
    let analysis = snapshot::analyse(&records, plan.settings.baseline.as_deref(), plan.settings.order);
    let stamp = utc_stamp();
    let provenance = provenance::collect(
        &Shell::new()?,
        provenance::Inputs {
            plan: &plan,
            manifest: &manifest,
            target: &target,
            device_before,
            device_after,
            records: &records,
            created_utc: stamp.clone(),
            emulation: machine.as_ref().map(|m| m.emulation.clone()),
            base_build,
            stop,
        },
    );
    // Shut down (cleanly) before the snapshot is analysed.
    drop(machine);
    let snapshot_dir = snapshot::write(&plan, &records, &analysis, &provenance, &stamp)?;
    Ok(Finished {
        target: target.name,
        run_dir: session.mirror().join(&run_dir.rel),
        snapshot_dir,
        analysis,
        failed: records.iter().filter(|r| !r.outcome.is_ok()).count(),
        records: records.len(),
        throttled: provenance.throttled == Some(true) || provenance.health.throttled_runs > 0,
        build_time,
        run_time,
    })
}

/// Runs an adaptive plan pass by pass: its least rounds first, then half as
/// many again each pass, until every primary cell is known to within the
/// plan's precision or its maximum ran. The rule reads precision only,
/// never a test, so when it stops says nothing about what it measured.
fn run_adaptively(
    session: &Session,
    run_dir: &RunDir,
    plan: &Plan,
    adaptive: &Adaptive,
    first: Pass,
    quiet: bool,
    prefix: Option<String>,
) -> Result<Stop> {
    let mut rounds = session.rounds(run_dir).unwrap_or(plan.settings.repetitions);
    let mut pass = first;
    loop {
        session.set_rounds(run_dir, rounds)?;
        let total = plan.runs_within(Some(rounds));
        let mut progress = Progress::new(total, session.recorded(run_dir), quiet, prefix.clone());
        let outcome = session.run(run_dir, pass, |line| progress.update(line));
        progress.finish();
        outcome?;
        let records = session.records(run_dir)?;
        let precisions = precision::of(&edgebench_stats::samples(&records));
        let worst = precision::worst(&precisions).cloned();
        let reason = if precisions.is_empty() {
            Some(StopReason::NothingVerified)
        } else if precisions.iter().all(|p| p.meets(adaptive.precision)) {
            Some(StopReason::Precision)
        } else if rounds >= adaptive.max_repetitions {
            Some(StopReason::Maximum)
        } else {
            None
        };
        if let Some(reason) = reason {
            let stop = Stop { rounds, runs: total, reason, precision: adaptive.precision, worst };
            session.mark_stopped(run_dir, &serde_json::to_string_pretty(&stop)?)?;
            return Ok(stop);
        }
        let next = (rounds + rounds.div_ceil(2)).min(adaptive.max_repetitions);
        if !quiet && let Some(w) = &worst {
            let known = w.half_width.map(|h| format!("±{:.1} %", h * 100.0)).unwrap_or_else(|| "no interval".into());
            eprintln!(
                "{}after {rounds} rounds {} is known to {known} (target ±{:.1} %): running up to {next} rounds",
                prefix.as_ref().map(|p| format!("{p}: ")).unwrap_or_default(),
                w.cell,
                adaptive.precision * 100.0
            );
        }
        rounds = next;
        pass = Pass::More;
    }
}

/// Prints each target's summary (a table, or JSON) and where things are.
fn report(args: &BenchArgs, finished: &[Finished], total: Duration) -> Result<()> {
    let fleet = args.target.len() > 1;
    if args.json {
        let values: Vec<_> = finished.iter().map(|f| console::json(&f.analysis, &f.run_dir, &f.snapshot_dir)).collect();
        let text = match values.as_slice() {
            [one] if !fleet => serde_json::to_string_pretty(one)?,
            _ => serde_json::to_string_pretty(&values)?,
        };
        println!("{text}");
    }
    for f in finished {
        if !args.json {
            if fleet {
                println!("\n== {}", f.target);
            }
            print!("{}", console::table(&f.analysis));
        }
        if !args.quiet && !args.json {
            eprintln!(
                "{}: {} record(s), {} not ok; build {:.1} s, runs {:.1} s, total {:.1} s",
                f.target,
                f.records,
                f.failed,
                secs(f.build_time),
                secs(f.run_time),
                secs(total)
            );
        }
        if f.throttled {
            eprintln!(
                "warning: {} reported throttling or under-voltage; see {}",
                f.target,
                f.snapshot_dir.join("report.md").display()
            );
        }
        if !args.json {
            println!("results: {}", f.run_dir.display());
            println!("snapshot: {}", f.snapshot_dir.display());
        }
    }
    Ok(())
}

/// Both sides of a same-session A/B of two revisions, built the same way
/// in the same place (see [`revision`]).
struct BuiltSides {
    base: Revision,
    base_manifest: Manifest,
    head_manifest: Manifest,
    base_build: provenance::BaseBuild,
}

fn build_sides(args: &BenchArgs, target: &str, base: Revision) -> Result<BuiltSides> {
    let (sh, quiet) = (Shell::new()?, args.quiet || args.json);
    let file = pipeline::locate(&args.pipeline)?;
    let base_manifest = revision::build(&sh, sides::BASE, Source::Commit(&base), target, &file, quiet)?;
    // Read before the head's tree takes its place.
    let base_build = provenance::BaseBuild::of(&revision::tree_dir()?, &base_manifest);
    let head_manifest = revision::build(&sh, sides::HEAD, Source::WorkingTree, target, &file, quiet)?;
    Ok(BuiltSides { base, base_manifest, head_manifest, base_build })
}

/// The revision of the base side, if the bench is a same-session A/B of
/// two revisions: `--base`, or on `--resume` the one the plan was made with.
fn base_revision(args: &BenchArgs, resumed: Option<&Plan>) -> Result<Option<Revision>> {
    let sh = Shell::new()?;
    let asked = args.base.as_deref().map(|rev| Revision::resolve(&sh, rev)).transpose()?;
    let Some(plan) = resumed else { return Ok(asked) };
    let planned = plan.sides.iter().find(|s| s.name == sides::BASE);
    match (asked, planned) {
        (None, None) => Ok(None),
        (Some(_), None) => bail!("the unfinished run is of one revision; resume it without --base"),
        (Some(asked), Some(planned)) if asked.commit != planned.commit => bail!(
            "the unfinished run's base side is {} ({}), not {}; resume it with --base {} or without --base",
            &planned.commit[..12],
            planned.subject,
            asked.short(),
            &planned.commit[..12]
        ),
        (_, Some(planned)) => Revision::resolve(&sh, &planned.commit).map(Some),
    }
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
