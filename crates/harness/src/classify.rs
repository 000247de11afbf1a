//! Turning what a child did into an [`Outcome`].

use edgebench_model::executor::{ExecutorReport, TRAP_EXIT_CODE};
use edgebench_model::record::{KernelResult, Outcome, polybench};
use edgebench_model::workload::StdoutCheck;

use crate::measure::{Exit, Measurement};

/// What the harness knows after a run, beside the measurement.
pub struct Observed<'a> {
    pub measurement: &'a Measurement,
    /// What the run printed on stdout (read only where its result is there).
    pub stdout: &'a [u8],
    pub stderr: &'a str,
    pub report: Option<&'a ExecutorReport>,
    pub timeout_ms: u64,
    pub result: ResultSource<'a>,
    pub expected_checksum: Option<&'a str>,
}

/// Where a run's kernel-region time and checksum come from.
#[derive(Debug, Clone, Copy)]
pub enum ResultSource<'a> {
    /// Nowhere: the kernel reports nothing (start-up).
    None,
    /// Our kernels' `EDGEBENCH_RESULT` line on stderr.
    ResultLine,
    /// A PolyBench/C kernel: the `POLYBENCH_TIME` line on stdout, and the
    /// checksum of the cell's dump run (or why there is none).
    Polybench { dump_checksum: &'a Result<String, String> },
    /// A workload checked by its stdout: no kernel-region time, and the
    /// checksum of what it printed.
    Stdout(&'a StdoutCheck),
}

/// What a run that finished well reported: its kernel-region time where
/// it measures one, and the checksum of its output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reported {
    pub kernel_ns: Option<u64>,
    pub checksum: String,
}

impl From<KernelResult> for Reported {
    fn from(r: KernelResult) -> Reported {
        Reported { kernel_ns: Some(r.kernel_ns), checksum: r.checksum }
    }
}

pub fn classify(o: &Observed<'_>) -> (Outcome, Option<Reported>) {
    if o.measurement.timed_out {
        return (Outcome::Timeout { timeout_ms: o.timeout_ms }, None);
    }
    match o.measurement.exit {
        Exit::Signal(signal) => (Outcome::Signal { signal, name: signal_name(signal).into() }, None),
        Exit::Code(code) if code != 0 => {
            let trap = o.report.and_then(|r| r.error.clone()).filter(|_| code == TRAP_EXIT_CODE);
            match trap {
                Some(message) => (Outcome::Trap { message }, None),
                None => {
                    let message = o.report.and_then(|r| r.error.clone()).unwrap_or_else(|| last_line(o.stderr));
                    (Outcome::Exit { code, message }, None)
                }
            }
        }
        Exit::Code(_) => {
            let parsed = match o.result {
                ResultSource::None => return (Outcome::Ok, None),
                ResultSource::ResultLine => KernelResult::parse(o.stderr).map(Reported::from),
                ResultSource::Polybench { dump_checksum } => {
                    polybench_result(&String::from_utf8_lossy(o.stdout), dump_checksum).map(Reported::from)
                }
                ResultSource::Stdout(check) => {
                    check.checksum(o.stdout).map(|checksum| Reported { kernel_ns: None, checksum })
                }
            };
            match parsed {
                Err(message) => (Outcome::BadOutput { message }, None),
                Ok(result) => match o.expected_checksum {
                    Some(expected) if expected != result.checksum => (
                        Outcome::ChecksumMismatch { expected: expected.into(), actual: result.checksum.clone() },
                        Some(result),
                    ),
                    _ => (Outcome::Ok, Some(result)),
                },
            }
        }
    }
}

fn polybench_result(stdout: &str, dump_checksum: &Result<String, String>) -> Result<KernelResult, String> {
    let kernel_ns = polybench::kernel_ns(stdout)?;
    let checksum = dump_checksum.as_ref().map_err(|e| format!("no checksum: {e}"))?;
    Ok(KernelResult { kernel_ns, checksum: checksum.clone() })
}

fn last_line(text: &str) -> String {
    text.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").trim().to_string()
}

pub fn signal_name(signal: i32) -> &'static str {
    match signal {
        libc::SIGILL => "SIGILL",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGTERM => "SIGTERM",
        libc::SIGXCPU => "SIGXCPU",
        _ => "signal",
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn measurement(exit: Exit, timed_out: bool) -> Measurement {
        Measurement {
            exit,
            timed_out,
            wall: Duration::from_millis(1),
            user: Duration::ZERO,
            sys: Duration::ZERO,
            max_rss_kib: 1,
            rss_floor_kib: 0,
            instructions: None,
            cycles: None,
        }
    }

    fn observe<'a>(m: &'a Measurement, stderr: &'a str, report: Option<&'a ExecutorReport>) -> Observed<'a> {
        Observed {
            measurement: m,
            stdout: b"",
            stderr,
            report,
            timeout_ms: 10,
            result: ResultSource::ResultLine,
            expected_checksum: Some("00000000000000aa"),
        }
    }

    const GOOD: &str = "EDGEBENCH_RESULT {\"kernel_ns\":5,\"checksum\":\"00000000000000aa\"}\n";

    #[test]
    fn ok_needs_exit_zero_a_result_and_the_right_checksum() {
        let m = measurement(Exit::Code(0), false);
        let (outcome, result) = classify(&observe(&m, GOOD, None));
        assert_eq!(outcome, Outcome::Ok);
        assert_eq!(result.unwrap().kernel_ns, Some(5));

        let (outcome, _) = classify(&observe(&m, "", None));
        assert!(matches!(outcome, Outcome::BadOutput { .. }));

        let wrong = GOOD.replace("aa", "bb");
        let (outcome, _) = classify(&observe(&m, &wrong, None));
        assert!(matches!(outcome, Outcome::ChecksumMismatch { .. }));
    }

    #[test]
    fn timeout_wins_over_the_signal_that_ended_it() {
        let m = measurement(Exit::Signal(libc::SIGTERM), true);
        assert_eq!(classify(&observe(&m, "", None)).0, Outcome::Timeout { timeout_ms: 10 });
    }

    #[test]
    fn signals_traps_and_exit_codes() {
        let m = measurement(Exit::Signal(libc::SIGSEGV), false);
        assert_eq!(
            classify(&observe(&m, "", None)).0,
            Outcome::Signal { signal: libc::SIGSEGV, name: "SIGSEGV".into() }
        );

        let report = ExecutorReport { error: Some("trap: unreachable".into()), ..Default::default() };
        let m = measurement(Exit::Code(TRAP_EXIT_CODE), false);
        assert_eq!(classify(&observe(&m, "", Some(&report))).0, Outcome::Trap { message: "trap: unreachable".into() });

        let m = measurement(Exit::Code(3), false);
        assert_eq!(
            classify(&observe(&m, "hog: out of memory after 12 MiB\n", None)).0,
            Outcome::Exit { code: 3, message: "hog: out of memory after 12 MiB".into() }
        );
    }

    #[test]
    fn polybench_runs_take_the_time_line_and_the_dump_checksum() {
        let m = measurement(Exit::Code(0), false);
        let dumped: Result<String, String> = Ok("00000000000000aa".into());
        let observed = |stdout, dump_checksum| Observed {
            stdout,
            result: ResultSource::Polybench { dump_checksum },
            ..observe(&m, "", None)
        };
        let (outcome, result) = classify(&observed(b"0.001250\n", &dumped));
        assert_eq!(outcome, Outcome::Ok);
        assert_eq!(result, Some(Reported { kernel_ns: Some(1_250_000), checksum: "00000000000000aa".into() }));

        let (outcome, _) = classify(&observed(b"", &dumped));
        assert!(matches!(outcome, Outcome::BadOutput { message } if message.contains("POLYBENCH_TIME")));

        let failed: Result<String, String> = Err("the dump run exited with status 1".into());
        let (outcome, _) = classify(&observed(b"0.001250\n", &failed));
        assert!(matches!(outcome, Outcome::BadOutput { message } if message.contains("dump run exited")));

        let other: Result<String, String> = Ok("00000000000000bb".into());
        let (outcome, _) = classify(&observed(b"0.001250\n", &other));
        assert!(matches!(outcome, Outcome::ChecksumMismatch { .. }));

        // A crash is a crash, whatever the dump run found.
        let crashed = measurement(Exit::Signal(libc::SIGSEGV), false);
        let o = Observed { result: ResultSource::Polybench { dump_checksum: &dumped }, ..observe(&crashed, "", None) };
        assert!(matches!(classify(&o).0, Outcome::Signal { .. }));
    }

    #[test]
    fn workloads_are_checked_by_their_stdout_against_the_expected_checksum() {
        let m = measurement(Exit::Code(0), false);
        let check = StdoutCheck { line_prefix: Some("hash:".into()) };
        let observed = |stdout, expected| Observed {
            stdout,
            result: ResultSource::Stdout(&check),
            expected_checksum: expected,
            ..observe(&m, "", None)
        };
        let (outcome, result) = classify(&observed(b"took 3 s\nhash: 17\n", None));
        assert_eq!(outcome, Outcome::Ok);
        let result = result.unwrap();
        assert_eq!(result.kernel_ns, None);
        assert_eq!(Ok(result.checksum.clone()), check.checksum(b"hash: 17\n"));

        let (outcome, _) = classify(&observed(b"hash: 18\n", Some(&result.checksum)));
        assert!(matches!(outcome, Outcome::ChecksumMismatch { .. }));
        let (outcome, _) = classify(&observed(b"took 3 s\n", None));
        assert!(matches!(outcome, Outcome::BadOutput { message } if message.contains("no line starting with `hash:`")));
    }
}
