//! One record per run, as the harness appends them to `results.jsonl`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Dataset;
use crate::executor::PeakMemory;
use crate::plan::{Cell, Invocation, PlannedRun, cell_label};

pub const RECORD_SCHEMA: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub schema: u32,
    pub plan_id: String,
    /// Index of the run in the plan's run order.
    pub run: usize,
    pub cell: usize,
    pub kernel: String,
    pub dataset: Dataset,
    pub runtime: String,
    pub variant: String,
    pub repetition: u32,
    pub warmup: bool,
    /// Wall-clock start, milliseconds since the Unix epoch (for provenance;
    /// durations come from the monotonic clock).
    pub started_unix_ms: u64,
    pub outcome: Outcome,
    /// Spawn to exit, monotonic clock.
    pub wall_ns: u64,
    /// From the child's own `wait4` rusage.
    pub user_ns: u64,
    pub sys_ns: u64,
    pub max_rss_kib: u64,
    /// The launcher's anonymous memory when it forked the child: the child
    /// starts with a copy of it, and Linux counts that copy into the child's
    /// peak across `exec`, so `max_rss_kib` does not go below it.
    #[serde(default)]
    pub max_rss_floor_kib: Option<u64>,
    /// The kernel's own timing of its kernel region.
    pub kernel_ns: Option<u64>,
    /// User-space instructions the run's process and its descendants
    /// executed: from hardware counters where the device has them, or from
    /// a simulated CPU (see [`RunRecord::instructions_source`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<u64>,
    /// User-space CPU cycles, from hardware counters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cycles: Option<u64>,
    /// Where `instructions` came from; absent with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions_source: Option<InstructionSource>,
    pub checksum: Option<String>,
    /// Phases reported by an executor, in nanoseconds.
    #[serde(default)]
    pub phases: BTreeMap<String, u64>,
    /// Peak memory measured by an executor where rusage does not cover the
    /// workload (a container's cgroup).
    pub peak_memory: Option<PeakMemory>,
    /// The tail of the child's stderr when the run failed.
    pub stderr_tail: Option<String>,
    /// The device's state sampled just before the run (temperature,
    /// throttling), where the harness could read it.
    #[serde(default)]
    pub health: Option<crate::device::HealthSample>,
}

impl RunRecord {
    /// The record of a run before it is measured: which plan, which run
    /// (`index`, its position in the plan's order) and which cell; outcome
    /// `ok` and every figure zero or absent until the harness fills them in.
    pub fn new(plan_id: &str, index: usize, run: &PlannedRun, cell: &Cell, started_unix_ms: u64) -> RunRecord {
        RunRecord {
            schema: RECORD_SCHEMA,
            plan_id: plan_id.to_string(),
            run: index,
            cell: run.cell,
            kernel: cell.kernel.clone(),
            dataset: cell.dataset,
            runtime: cell.runtime.clone(),
            variant: cell.variant.clone(),
            repetition: run.repetition,
            warmup: run.warmup,
            started_unix_ms,
            outcome: Outcome::Ok,
            wall_ns: 0,
            user_ns: 0,
            sys_ns: 0,
            max_rss_kib: 0,
            max_rss_floor_kib: None,
            kernel_ns: None,
            instructions: None,
            cycles: None,
            instructions_source: None,
            checksum: None,
            phases: BTreeMap::new(),
            peak_memory: None,
            stderr_tail: None,
            health: None,
        }
    }

    /// For tests: run `index` of plan `test`, a measured run of the named
    /// cell (as its own cell 0), built by [`RunRecord::new`].
    pub fn for_test(kernel: &str, dataset: Dataset, runtime: &str, variant: &str, index: usize) -> RunRecord {
        let cell = Cell {
            kernel: kernel.into(),
            dataset,
            runtime: runtime.into(),
            variant: variant.into(),
            timeout_ms: 0,
            reports: true,
            expected_checksum: None,
            probe: None,
            invocation: Invocation::default(),
            polybench_dump: None,
            stdout_check: None,
            unavailable: None,
        };
        let run = PlannedRun { cell: 0, repetition: u32::try_from(index).unwrap_or(u32::MAX), warmup: false };
        RunRecord::new("test", index, &run, &cell, 0)
    }

    /// `kernel/dataset/runtime/variant`, the run's cell in messages.
    pub fn label(&self) -> String {
        cell_label(&self.kernel, self.dataset, &self.runtime, &self.variant)
    }
}

/// What counted a run's instructions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstructionSource {
    /// The CPU's own counters, through `perf_event_open`; the run's
    /// timings are real.
    HardwareCounters,
    /// valgrind's callgrind, a simulated CPU: near-deterministic counts,
    /// while the run's timings are the simulator's, not the device's.
    Callgrind,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// Exit status 0, result line present and checksum as expected.
    Ok,
    /// A non-zero exit status.
    Exit { code: i32, message: String },
    /// Killed by a signal (a native crash).
    Signal { signal: i32, name: String },
    /// The Wasm guest trapped.
    Trap { message: String },
    /// Killed after its timeout.
    Timeout { timeout_ms: u64 },
    /// The kernel exited 0 but its result line was missing or malformed.
    BadOutput { message: String },
    /// The checksum differs from the expected one.
    ChecksumMismatch { expected: String, actual: String },
    /// The runtime's probe failed on this device.
    Unavailable { reason: String },
    /// The harness could not start the program.
    SpawnFailed { message: String },
}

impl Outcome {
    pub fn is_ok(&self) -> bool {
        matches!(self, Outcome::Ok)
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Exit { .. } => "exit",
            Outcome::Signal { .. } => "signal",
            Outcome::Trap { .. } => "trap",
            Outcome::Timeout { .. } => "timeout",
            Outcome::BadOutput { .. } => "bad_output",
            Outcome::ChecksumMismatch { .. } => "checksum_mismatch",
            Outcome::Unavailable { .. } => "unavailable",
            Outcome::SpawnFailed { .. } => "spawn_failed",
        }
    }
}

/// The line a kernel prints on stderr: `EDGEBENCH_RESULT {json}`.
pub const RESULT_PREFIX: &str = "EDGEBENCH_RESULT ";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KernelResult {
    pub kernel_ns: u64,
    pub checksum: String,
}

impl KernelResult {
    /// Finds the kernel's result line in its stderr. Exactly one is expected.
    pub fn parse(stderr: &str) -> Result<KernelResult, String> {
        let mut lines = stderr.lines().filter_map(|l| l.strip_prefix(RESULT_PREFIX));
        let line = lines.next().ok_or("the kernel printed no EDGEBENCH_RESULT line")?;
        if lines.next().is_some() {
            return Err("the kernel printed more than one EDGEBENCH_RESULT line".into());
        }
        let result: KernelResult =
            serde_json::from_str(line).map_err(|e| format!("malformed EDGEBENCH_RESULT line `{line}`: {e}"))?;
        if result.checksum.len() != 16 || !result.checksum.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("malformed checksum `{}` (want 16 hex digits)", result.checksum));
        }
        Ok(result)
    }
}

/// The output conventions of the original PolyBench/C suite, turned into
/// the same figures as our [`KernelResult`].
pub mod polybench {
    use std::io::BufRead;

    /// The lines around the arrays a `-DPOLYBENCH_DUMP_ARRAYS` build prints on stderr.
    pub const DUMP_BEGIN: &str = "==BEGIN DUMP_ARRAYS==";
    pub const DUMP_END: &str = "==END   DUMP_ARRAYS==";

    /// The kernel-region time a `-DPOLYBENCH_TIME` build prints on stdout:
    /// one line of seconds (`%0.6f`), in nanoseconds.
    pub fn kernel_ns(stdout: &str) -> Result<u64, String> {
        let lines: Vec<&str> = stdout.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        let line = match lines.as_slice() {
            [line] => *line,
            [] => return Err("the kernel printed no POLYBENCH_TIME line on stdout".into()),
            _ => {
                return Err(format!(
                    "the kernel printed {} lines on stdout; a -DPOLYBENCH_TIME build prints one, its time in seconds",
                    lines.len()
                ));
            }
        };
        match line.parse::<f64>() {
            Ok(seconds) if seconds.is_finite() && seconds >= 0.0 => Ok((seconds * 1e9).round() as u64),
            _ => Err(format!("malformed POLYBENCH_TIME line `{line}` (want seconds, e.g. 0.012345)")),
        }
    }

    /// The checksum of a dump: 64-bit FNV-1a (as in our kernels) over the
    /// bytes of every line between [`DUMP_BEGIN`] and [`DUMP_END`], as 16
    /// hex digits. Read as a stream: a large dataset dumps tens of MB.
    pub fn dump_checksum(mut stderr: impl BufRead) -> Result<String, String> {
        let mut line = Vec::new();
        let mut hash: Option<super::Fnv1a> = None;
        loop {
            line.clear();
            let read = stderr.read_until(b'\n', &mut line).map_err(|e| format!("reading the array dump: {e}"))?;
            if read == 0 {
                return Err(match hash {
                    None => format!("no `{DUMP_BEGIN}` line on stderr; was it built with -DPOLYBENCH_DUMP_ARRAYS?"),
                    Some(_) => format!("the array dump ends without its `{DUMP_END}` line"),
                });
            }
            let text = line.strip_suffix(b"\n").unwrap_or(&line);
            match &mut hash {
                None if text == DUMP_BEGIN.as_bytes() => hash = Some(super::Fnv1a::new()),
                None => {}
                Some(h) if text == DUMP_END.as_bytes() => return Ok(format!("{:016x}", h.0)),
                Some(h) => h.update(&line),
            }
        }
    }
}

/// 64-bit FNV-1a of `bytes`, the hash behind every checksum.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h = Fnv1a::new();
    h.update(bytes);
    h.0
}

/// 64-bit FNV-1a, the hash behind every checksum.
struct Fnv1a(u64);

impl Fnv1a {
    fn new() -> Fnv1a {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }

    fn update(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polybench_time_lines_become_nanoseconds() {
        assert_eq!(polybench::kernel_ns("0.000004\n"), Ok(4_000));
        assert_eq!(polybench::kernel_ns("\n12.345678\n"), Ok(12_345_678_000));
        assert!(polybench::kernel_ns("").unwrap_err().contains("no POLYBENCH_TIME line"));
        assert!(polybench::kernel_ns("0.1\n0.2\n").unwrap_err().contains("2 lines"));
        assert!(polybench::kernel_ns("fast\n").unwrap_err().contains("malformed"));
        assert!(polybench::kernel_ns("-0.5\n").is_err());
    }

    #[test]
    fn a_dump_is_hashed_between_its_markers_only() {
        let dump = |body: &str| format!("noise\n{}\n{body}{}\ntrailing\n", polybench::DUMP_BEGIN, polybench::DUMP_END);
        let body = "begin dump: C\n1.00 2.00 \nend   dump: C\n";
        let sum = polybench::dump_checksum(dump(body).as_bytes()).unwrap();
        // FNV-1a of the body alone, so the markers and the noise around them do not count.
        let mut expected = Fnv1a::new();
        expected.update(body.as_bytes());
        assert_eq!(sum, format!("{:016x}", expected.0));
        assert_eq!(polybench::dump_checksum(dump("").as_bytes()).unwrap(), "cbf29ce484222325");
        assert_ne!(sum, polybench::dump_checksum(dump(&body.replace("2.00", "2.01")).as_bytes()).unwrap());
        // The published FNV-1a test vector, so this is the hash our kernels use.
        let mut a = Fnv1a::new();
        a.update(b"a");
        assert_eq!(a.0, 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn a_missing_or_unfinished_dump_is_an_error() {
        assert!(polybench::dump_checksum(&b"0.001\n"[..]).unwrap_err().contains("-DPOLYBENCH_DUMP_ARRAYS"));
        let unfinished = format!("{}\n1.00 ", polybench::DUMP_BEGIN);
        assert!(polybench::dump_checksum(unfinished.as_bytes()).unwrap_err().contains("without its"));
    }

    #[test]
    fn parses_one_result_line_among_others() {
        let err = "warming up\nEDGEBENCH_RESULT {\"kernel_ns\":42,\"checksum\":\"00ff00ff00ff00ff\"}\nbye\n";
        let r = KernelResult::parse(err).unwrap();
        assert_eq!(r.kernel_ns, 42);
        assert_eq!(r.checksum, "00ff00ff00ff00ff");
    }

    #[test]
    fn rejects_missing_duplicate_and_malformed_lines() {
        assert!(KernelResult::parse("").unwrap_err().contains("no EDGEBENCH_RESULT"));
        let line = "EDGEBENCH_RESULT {\"kernel_ns\":1,\"checksum\":\"0000000000000000\"}\n";
        assert!(KernelResult::parse(&line.repeat(2)).unwrap_err().contains("more than one"));
        assert!(KernelResult::parse("EDGEBENCH_RESULT {\"kernel_ns\":-1}").is_err());
        assert!(KernelResult::parse("EDGEBENCH_RESULT {\"kernel_ns\":1,\"checksum\":\"xyz\"}").is_err());
    }

    #[test]
    fn outcome_serializes_with_a_status_tag() {
        let json = serde_json::to_string(&Outcome::Timeout { timeout_ms: 5 }).unwrap();
        assert_eq!(json, r#"{"status":"timeout","timeout_ms":5}"#);
        let back: Outcome = serde_json::from_str(&json).unwrap();
        assert_eq!(back, Outcome::Timeout { timeout_ms: 5 });
    }
}
