//! One record per run, as the harness appends them to `results.jsonl`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Dataset;
use crate::executor::PeakMemory;

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
    /// The kernel's own timing of its kernel region.
    pub kernel_ns: Option<u64>,
    pub checksum: Option<String>,
    /// Phases reported by an executor, in nanoseconds.
    #[serde(default)]
    pub phases: BTreeMap<String, u64>,
    /// Peak memory measured by an executor where rusage does not cover the
    /// workload (a container's cgroup).
    pub peak_memory: Option<PeakMemory>,
    /// The tail of the child's stderr when the run failed.
    pub stderr_tail: Option<String>,
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

#[cfg(test)]
mod tests {
    use super::*;

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
