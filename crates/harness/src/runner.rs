//! Executing a plan: verify, probe, then every remaining run in plan order.

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use edgebench_model::device::HealthSample;
use edgebench_model::executor::{ExecutorReport, REPORT_ENV};
use edgebench_model::plan::{Cell, Invocation, Plan, PlannedRun};
use edgebench_model::record::{InstructionSource, Outcome, RunRecord, polybench};
use edgebench_model::rundir::ProgressLine;

use crate::callgrind;
use crate::classify::{Observed, ResultSource, classify};
use crate::launcher::{LaunchError, launch};
use crate::measure::{self, Capture, Measurement};
use crate::results::ResultsFile;
use crate::verify::verify_files;

/// How much of a failed run's stderr goes into its record.
const STDERR_TAIL_BYTES: usize = 2048;
/// A probe that has not answered by then is a failed probe. Generous: the
/// Docker executor's first probe on a device imports the Debian image (some
/// 190 MB), which takes minutes on a Pi 3's SD card or an emulated Cortex-A53
/// (the emulated machine's cold import passed 120 s).
const PROBE_TIMEOUT: Duration = Duration::from_secs(600);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    Quiet,
    /// A human-readable line per run on stderr.
    Lines,
    /// A JSON object per run on stdout, for the host to render.
    Json,
}

pub struct Options {
    pub workdir: PathBuf,
    pub results: PathBuf,
    pub progress: Progress,
    /// Run only the first this many measured rounds (and every warm-up):
    /// an adaptive plan's host decides, between passes, whether more are needed.
    pub rounds: Option<u32>,
}

pub struct Summary {
    pub executed: usize,
    pub skipped: usize,
    pub failed: usize,
}

pub fn execute(plan: &Plan, options: &Options) -> Result<Summary, String> {
    plan.validate()?;
    verify_files(&options.workdir, &plan.files)?;
    // Before the first launcher starts: each inherits the affinity.
    if let Some(cpus) = &plan.settings.cpus {
        crate::pin::pin(cpus)?;
    }
    let mut results = ResultsFile::open(&options.results, &plan.id)?;
    let skipped = results.done_count();

    // Per process: several harnesses may share a work directory.
    let scratch = options.workdir.join("scratch").join(std::process::id().to_string());
    fs::create_dir_all(&scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
    let _cleanup = RemoveOnDrop(&scratch);
    let stdout_path = scratch.join("run.stdout");
    let stderr_path = scratch.join("run.stderr");
    let report_path = scratch.join("executor-report.json");
    let capture = Capture { stdout: &stdout_path, stderr: &stderr_path };

    let within = |r: &PlannedRun| r.warmup || options.rounds.is_none_or(|rounds| r.repetition < rounds);
    let pending = plan.runs.iter().enumerate().filter(|(i, r)| !results.is_done(*i) && within(r)).count();
    let needed_probes: Vec<&str> = plan
        .runs
        .iter()
        .enumerate()
        .filter(|(i, r)| !results.is_done(*i) && within(r) && plan.cells[r.cell].unavailable.is_none())
        .filter_map(|(_, r)| plan.cells[r.cell].probe.as_deref())
        .collect();
    let probes = run_probes(plan, options, &capture, &needed_probes);

    let mut executed = 0;
    let mut failed = 0;
    let mut health = HealthMonitor::default();
    // Per cell of a PolyBench/C kernel: the checksum of its dump run, or why there is none.
    let mut dump_checksums: BTreeMap<usize, Result<String, String>> = BTreeMap::new();
    for (index, run) in plan.runs.iter().enumerate() {
        if results.is_done(index) || !within(run) {
            continue;
        }
        let cell = &plan.cells[run.cell];
        let unavailable = cell
            .unavailable
            .clone()
            .or_else(|| cell.probe.as_ref().and_then(|p| probes.get(p.as_str()).cloned().flatten()));
        let health = health.current();
        let mut record = match unavailable {
            Some(reason) => unavailable_record(plan, index, run, cell, reason),
            None => {
                if let Some(dump) = &cell.polybench_dump
                    && !dump_checksums.contains_key(&run.cell)
                {
                    let checksum = dump_run(dump, cell, options, &capture, &report_path)?;
                    if options.progress == Progress::Lines {
                        match &checksum {
                            Ok(sum) => eprintln!("dump run {}: checksum {sum}", cell.label()),
                            Err(e) => eprintln!("dump run {}: FAILED: {e}", cell.label()),
                        }
                    }
                    dump_checksums.insert(run.cell, checksum);
                }
                let dump_checksum = dump_checksums.get(&run.cell);
                measure_run(plan, index, run, cell, dump_checksum, options, &capture, &report_path)?
            }
        };
        record.health = Some(health);
        executed += 1;
        if !record.outcome.is_ok() {
            failed += 1;
        }
        results.append(&record)?;
        report_progress(options.progress, &record, skipped + executed, plan.runs.len(), pending);
    }
    Ok(Summary { executed, skipped, failed })
}

/// The device's health, sampled again when the last sample is older than
/// [`HealthMonitor::INTERVAL`]: often enough to catch throttling, rarely
/// enough that reading it (a `vcgencmd` process on a Pi) costs nothing.
#[derive(Default)]
struct HealthMonitor {
    last: Option<(Instant, HealthSample)>,
}

impl HealthMonitor {
    const INTERVAL: Duration = Duration::from_secs(5);

    fn current(&mut self) -> HealthSample {
        match &self.last {
            Some((at, sample)) if at.elapsed() < Self::INTERVAL => sample.clone(),
            _ => {
                let sample = crate::device::health();
                self.last = Some((Instant::now(), sample.clone()));
                sample
            }
        }
    }
}

/// Runs each needed probe once; maps probe name to `Some(reason)` when the
/// runtime is unavailable.
fn run_probes(
    plan: &Plan,
    options: &Options,
    capture: &Capture<'_>,
    needed: &[&str],
) -> BTreeMap<String, Option<String>> {
    let mut out = BTreeMap::new();
    for probe in plan.probes.iter().filter(|p| needed.contains(&p.name.as_str())) {
        let verdict = match launch(&probe.invocation, &options.workdir, &[], capture, PROBE_TIMEOUT) {
            Err(e) => Some(format!("cannot start `{}`: {e}", probe.invocation.argv[0])),
            Ok(m) if m.timed_out => Some(format!("probe did not answer within {PROBE_TIMEOUT:?}")),
            Ok(m) if m.exit == measure::Exit::Code(0) => None,
            Ok(m) => {
                let err = fs::read_to_string(capture.stderr).unwrap_or_default();
                let out = fs::read_to_string(capture.stdout).unwrap_or_default();
                let text = format!("{}{}", out.trim(), err.trim());
                Some(if text.is_empty() { format!("probe failed ({:?})", m.exit) } else { tail(&text, 1024) })
            }
        };
        if options.progress == Progress::Lines {
            match &verdict {
                None => eprintln!("probe {}: available", probe.name),
                Some(reason) => eprintln!("probe {}: UNAVAILABLE: {reason}", probe.name),
            }
        }
        out.insert(probe.name.clone(), verdict);
    }
    out
}

/// Runs a PolyBench/C cell's dump build once, unmeasured, and hashes the
/// arrays it prints. The outer error is the harness's own failure.
fn dump_run(
    invocation: &Invocation,
    cell: &Cell,
    options: &Options,
    capture: &Capture<'_>,
    report_path: &Path,
) -> Result<Result<String, String>, String> {
    const WHAT: &str = "the dump run (the kernel built with -DPOLYBENCH_DUMP_ARRAYS)";
    let _ = fs::remove_file(report_path);
    let extra_env: Vec<(&str, &Path)> =
        if invocation.executor_report { vec![(REPORT_ENV, report_path)] } else { Vec::new() };
    let timeout = Duration::from_millis(cell.timeout_ms);
    let measurement = match launch(invocation, &options.workdir, &extra_env, capture, timeout) {
        Ok(m) => m,
        Err(LaunchError::NotStarted(e)) => {
            return Ok(Err(format!("cannot start {WHAT}, `{}`: {e}", invocation.argv[0])));
        }
        Err(LaunchError::Harness(e)) => return Err(format!("dump run of {}: {e}", cell.label())),
    };
    if measurement.timed_out || measurement.exit != measure::Exit::Code(0) {
        let stderr = String::from_utf8_lossy(&fs::read(capture.stderr).unwrap_or_default()).into_owned();
        let report: Option<ExecutorReport> = fs::read(report_path).ok().and_then(|b| serde_json::from_slice(&b).ok());
        let (outcome, _) = classify(&Observed {
            measurement: &measurement,
            stdout: b"",
            stderr: &stderr,
            report: report.as_ref(),
            timeout_ms: cell.timeout_ms,
            result: ResultSource::None,
            expected_checksum: None,
        });
        return Ok(Err(format!("{WHAT} failed: {}", describe(&outcome))));
    }
    let stderr = fs::File::open(capture.stderr).map_err(|e| format!("{}: {e}", capture.stderr.display()))?;
    Ok(polybench::dump_checksum(BufReader::new(stderr)).map_err(|e| format!("{WHAT}: {e}")))
}

/// An outcome in a few words, for a message.
fn describe(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Exit { code, message } => format!("exit status {code}: {message}"),
        Outcome::Signal { name, .. } => format!("killed by {name}"),
        Outcome::Trap { message } => format!("trap: {message}"),
        Outcome::Timeout { timeout_ms } => format!("no exit within {timeout_ms} ms"),
        Outcome::BadOutput { message } | Outcome::SpawnFailed { message } => message.clone(),
        Outcome::Unavailable { reason } => reason.clone(),
        Outcome::Ok | Outcome::ChecksumMismatch { .. } => outcome.kind().into(),
    }
}

#[allow(clippy::too_many_arguments)]
fn measure_run(
    plan: &Plan,
    index: usize,
    run: &PlannedRun,
    cell: &Cell,
    dump_checksum: Option<&Result<String, String>>,
    options: &Options,
    capture: &Capture<'_>,
    report_path: &Path,
) -> Result<RunRecord, String> {
    let _ = fs::remove_file(report_path);
    let started_unix_ms = unix_ms();
    let timeout = Duration::from_millis(cell.timeout_ms);
    let extra_env: Vec<(&str, &Path)> =
        if cell.invocation.executor_report { vec![(REPORT_ENV, report_path)] } else { Vec::new() };
    let mut record = base_record(plan, index, run, cell, started_unix_ms);

    let measurement = match launch(&cell.invocation, &options.workdir, &extra_env, capture, timeout) {
        Ok(m) => m,
        Err(LaunchError::NotStarted(e)) => {
            record.outcome =
                Outcome::SpawnFailed { message: format!("cannot start `{}`: {e}", cell.invocation.argv[0]) };
            return Ok(record);
        }
        // Nothing is recorded: the run happens when the harness runs again.
        Err(LaunchError::Harness(e)) => return Err(format!("measuring {}: {e}", cell.label())),
    };
    let stderr = String::from_utf8_lossy(&fs::read(capture.stderr).unwrap_or_default()).into_owned();
    // Only a PolyBench/C kernel and a workload checked by its output report
    // on stdout; our kernels leave it alone.
    let stdout = match (dump_checksum, &cell.stdout_check) {
        (None, None) => Vec::new(),
        _ => fs::read(capture.stdout).unwrap_or_default(),
    };
    let result = match (dump_checksum, &cell.stdout_check) {
        (_, Some(check)) => ResultSource::Stdout(check),
        _ if !cell.reports => ResultSource::None,
        (Some(dump_checksum), None) => ResultSource::Polybench { dump_checksum },
        (None, None) => ResultSource::ResultLine,
    };
    let report: Option<ExecutorReport> = if cell.invocation.executor_report {
        fs::read(report_path).ok().and_then(|b| serde_json::from_slice(&b).ok())
    } else {
        None
    };
    let (outcome, result) = classify(&Observed {
        measurement: &measurement,
        stdout: &stdout,
        stderr: &stderr,
        report: report.as_ref(),
        timeout_ms: cell.timeout_ms,
        result,
        expected_checksum: cell.expected_checksum.as_deref(),
    });

    record.wall_ns = nanos(measurement.wall);
    record.user_ns = nanos(measurement.user);
    record.sys_ns = nanos(measurement.sys);
    record.max_rss_kib = measurement.max_rss_kib;
    record.max_rss_floor_kib = Some(measurement.rss_floor_kib);
    let outcome = count_instructions(&mut record, plan, cell, &measurement, &stderr, outcome);
    if let Some(result) = result {
        record.kernel_ns = result.kernel_ns;
        record.checksum = Some(result.checksum);
    }
    if let Some(report) = report {
        record.phases = report.phases;
        record.peak_memory = report.peak_memory;
    }
    if !outcome.is_ok() {
        record.stderr_tail = Some(tail(&stderr, STDERR_TAIL_BYTES));
    }
    record.outcome = outcome;
    Ok(record)
}

/// The run's instructions: callgrind's count from its stderr (a run it did
/// not count is bad output), or the hardware counters' — never a
/// container's client's.
fn count_instructions(
    record: &mut RunRecord,
    plan: &Plan,
    cell: &Cell,
    measurement: &Measurement,
    stderr: &str,
    outcome: Outcome,
) -> Outcome {
    if plan.settings.callgrind {
        record.instructions = callgrind::instructions(stderr);
        record.instructions_source = record.instructions.map(|_| InstructionSource::Callgrind);
        if outcome.is_ok() && record.instructions.is_none() {
            return Outcome::BadOutput { message: "callgrind printed no instruction count (`Collected : …`)".into() };
        }
    } else if !cell.invocation.workload_elsewhere {
        record.instructions = measurement.instructions;
        record.instructions_source = measurement.instructions.map(|_| InstructionSource::HardwareCounters);
        record.cycles = measurement.cycles;
    }
    outcome
}

fn base_record(plan: &Plan, index: usize, run: &PlannedRun, cell: &Cell, started_unix_ms: u64) -> RunRecord {
    RunRecord::new(&plan.id, index, run, cell, started_unix_ms)
}

fn unavailable_record(plan: &Plan, index: usize, run: &PlannedRun, cell: &Cell, reason: String) -> RunRecord {
    let mut record = base_record(plan, index, run, cell, unix_ms());
    record.outcome = Outcome::Unavailable { reason };
    record
}

fn report_progress(progress: Progress, record: &RunRecord, position: usize, total: usize, _pending: usize) {
    match progress {
        Progress::Quiet => {}
        Progress::Json => {
            let line = serde_json::to_string(&ProgressLine::of(record, position, total)).unwrap_or_default();
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        }
        Progress::Lines => {
            let what = if record.warmup { "warm-up" } else { "run" };
            eprintln!(
                "[{position}/{total}] {} {what} {}: {} {:.3} ms {} KiB",
                record.label(),
                record.repetition,
                record.outcome.kind(),
                record.wall_ns as f64 / 1e6,
                record.max_rss_kib
            );
        }
    }
}

struct RemoveOnDrop<'a>(&'a Path);

impl Drop for RemoveOnDrop<'_> {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(self.0);
    }
}

fn tail(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    format!("…{}", &text[start..])
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

fn unix_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| u64::try_from(d.as_millis()).unwrap_or(0)).unwrap_or(0)
}
