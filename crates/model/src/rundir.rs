//! The run directory: everything host and harness exchange about one run
//! of a plan, by file name. The host writes the plan; the harness appends
//! records and progress lines and, when it ends, its exit status; `follow`
//! answers with one of [`follow_exit`]'s codes. Nothing else crosses.
//!
//! - `plan.json`: the [`Plan`](crate::plan::Plan);
//! - `results.jsonl`: one [`RunRecord`] per run, appended and synced;
//! - `progress.jsonl`: one [`ProgressLine`] per recorded run, appended;
//! - `harness.log`: the harness's stderr, appended;
//! - `harness.pid`: the process started last;
//! - `status`: its exit code, written when it ends (absent while it runs,
//!   and when it was killed).

use serde::{Deserialize, Serialize};

use crate::record::RunRecord;

pub const PLAN_FILE: &str = "plan.json";
pub const RESULTS_FILE: &str = "results.jsonl";
pub const PROGRESS_FILE: &str = "progress.jsonl";
pub const LOG_FILE: &str = "harness.log";
pub const PID_FILE: &str = "harness.pid";
pub const STATUS_FILE: &str = "status";

/// Exit codes of `edgebench-harness follow`, read by the host.
pub mod follow_exit {
    /// The harness finished and succeeded.
    pub const FINISHED: u8 = 0;
    /// The harness finished with an error (see `harness.log`).
    pub const FAILED: u8 = 3;
    /// No harness runs for this directory and none finished: it was killed
    /// (or the device rebooted); starting it again resumes the plan.
    pub const NOT_RUNNING: u8 = 4;
}

/// A run just recorded, as `run --json` prints it and `progress.jsonl`
/// holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgressLine {
    /// 1-based position among the plan's runs.
    pub position: usize,
    pub total: usize,
    /// The cell, `kernel/dataset/runtime/variant`.
    pub label: String,
    pub warmup: bool,
    /// The outcome's kind (`ok`, `timeout`, …).
    pub status: String,
    pub wall_ns: u64,
}

impl ProgressLine {
    pub fn of(record: &RunRecord, position: usize, total: usize) -> ProgressLine {
        ProgressLine {
            position,
            total,
            label: record.label(),
            warmup: record.warmup,
            status: record.outcome.kind().to_string(),
            wall_ns: record.wall_ns,
        }
    }
}
