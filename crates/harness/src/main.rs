//! `edgebench-harness`: the device-side program. See the library docs.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use edgebench_harness::detach::{self, From, Started};
use edgebench_harness::launcher;
use edgebench_harness::runner::{self, Options, Progress};
use edgebench_model::plan::Plan;

const USAGE: &str =
    "usage: edgebench-harness run <plan.json> [--results <file>] [--workdir <dir>] [--quiet | --json] [--status <file>]
       edgebench-harness start <run-dir> [--workdir <dir>]
       edgebench-harness follow <run-dir> [--from <line> | --from end]
       edgebench-harness info

Runs every run of the plan that the results file does not hold yet, one
measured child process each, and appends one JSON record per run.
  --results   results file (default: results.jsonl beside the plan)
  --workdir   directory the plan's paths are relative to (default: the plan's)
  --quiet     no progress output
  --json      progress as one JSON object per run on stdout
  --status    write the exit code to this file when done

A `rounds` file beside the plan limits the run to that many measured
rounds (and every warm-up): an adaptive plan's host extends it between runs.

`start` runs the plan of a run directory (<run-dir>/plan.json) detached
from this session, unless it already runs: results, progress, log, pid and
exit status go into the run directory. `follow` prints its progress lines as
they come and exits when it ends: 0 finished, 3 failed (see harness.log),
4 not running (killed: `start` again resumes).

`info` prints the device's model, CPU, kernel, governor, temperatures and
throttling state as JSON.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some(launcher::LAUNCH_COMMAND) => return launcher::serve(),
        Some("info") => {
            let info = serde_json::to_string_pretty(&edgebench_harness::device::collect()).unwrap_or_default();
            // A reader that went away is not our failure.
            let _ = writeln!(std::io::stdout(), "{info}");
            return ExitCode::SUCCESS;
        }
        Some("start") => return report(start(&args[1..]).map(|()| ExitCode::SUCCESS)),
        Some("follow") => return report(follow(&args[1..])),
        _ => {}
    }
    report(parse(&args).and_then(|(plan, options, status)| {
        let outcome = run(&plan, &options);
        if let Some(status) = status {
            detach::write_status(&status, if outcome.is_ok() { 0 } else { 1 })?;
        }
        outcome.map(|()| ExitCode::SUCCESS)
    }))
}

fn report(outcome: Result<ExitCode, String>) -> ExitCode {
    outcome.unwrap_or_else(|e| {
        eprintln!("edgebench-harness: {e}");
        ExitCode::FAILURE
    })
}

fn absolute(p: PathBuf) -> Result<PathBuf, String> {
    let p = if p.as_os_str().is_empty() { PathBuf::from(".") } else { p };
    std::path::absolute(&p).map_err(|e| format!("{}: {e}", p.display()))
}

/// `start <run-dir> [--workdir <dir>]`; prints `started <pid>` or `running <pid>`.
fn start(args: &[String]) -> Result<(), String> {
    let (run_dir, workdir) = match args {
        [run_dir] => (run_dir, None),
        [run_dir, flag, workdir] if flag == "--workdir" => (run_dir, Some(workdir)),
        _ => return Err(format!("usage: start <run-dir> [--workdir <dir>]\n{USAGE}")),
    };
    let run_dir = absolute(PathBuf::from(run_dir))?;
    let workdir = match workdir {
        Some(w) => absolute(PathBuf::from(w))?,
        None => std::env::current_dir().map_err(|e| format!("the current directory: {e}"))?,
    };
    match detach::start(&run_dir, &workdir)? {
        Started::Started(pid) => println!("started {pid}"),
        Started::AlreadyRunning(pid) => println!("running {pid}"),
    }
    Ok(())
}

/// `follow <run-dir> [--from <line>|end]`.
fn follow(args: &[String]) -> Result<ExitCode, String> {
    let (run_dir, from) = match args {
        [run_dir] => (run_dir, From::Line(0)),
        [run_dir, flag, from] if flag == "--from" => {
            let from = match from.as_str() {
                "end" => From::End,
                n => From::Line(n.parse().map_err(|_| format!("--from takes a line number or `end`, not `{n}`"))?),
            };
            (run_dir, from)
        }
        _ => return Err(format!("usage: follow <run-dir> [--from <line> | --from end]\n{USAGE}")),
    };
    let run_dir = absolute(PathBuf::from(run_dir))?;
    detach::follow(&run_dir, from, &mut std::io::stdout().lock()).map(ExitCode::from)
}

fn parse(args: &[String]) -> Result<(PathBuf, Options, Option<PathBuf>), String> {
    let mut it = args.iter();
    match it.next().map(String::as_str) {
        Some("run") => {}
        Some("--help" | "-h") | None => return Err(USAGE.into()),
        Some(other) => return Err(format!("unknown command `{other}`\n{USAGE}")),
    }
    let mut plan = None;
    let mut results = None;
    let mut workdir = None;
    let mut progress = Progress::Lines;
    let mut status = None;
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--results" => results = Some(PathBuf::from(it.next().ok_or("--results needs a file")?)),
            "--workdir" => workdir = Some(PathBuf::from(it.next().ok_or("--workdir needs a directory")?)),
            "--quiet" => progress = Progress::Quiet,
            "--json" => progress = Progress::Json,
            "--status" => status = Some(PathBuf::from(it.next().ok_or("--status needs a file")?)),
            flag if flag.starts_with('-') => return Err(format!("unknown flag `{flag}`\n{USAGE}")),
            path if plan.is_none() => plan = Some(PathBuf::from(path)),
            extra => return Err(format!("unexpected argument `{extra}`\n{USAGE}")),
        }
    }
    let plan = plan.ok_or_else(|| format!("missing plan file\n{USAGE}"))?;
    // Absolute from here on: children run in the work directory and must
    // find every path we hand them (the executor's report file, say).
    let base = absolute(plan.parent().map(PathBuf::from).unwrap_or_default())?;
    let workdir = match workdir {
        Some(w) => absolute(w)?,
        None => base.clone(),
    };
    let results = match results {
        Some(r) => absolute(r)?,
        None => base.join("results.jsonl"),
    };
    let status = status.map(absolute).transpose()?;
    let rounds = rounds(&base)?;
    Ok((plan, Options { workdir, results, progress, rounds }, status))
}

/// How many measured rounds to run, from the run directory's `rounds` file
/// (an adaptive plan's host writes it between passes); without it, all.
fn rounds(run_dir: &std::path::Path) -> Result<Option<u32>, String> {
    let path = run_dir.join(edgebench_model::plan::ROUNDS_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => text
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| format!("{}: `{}` is not a number of rounds", path.display(), text.trim())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

fn run(plan_path: &PathBuf, options: &Options) -> Result<(), String> {
    let text = std::fs::read_to_string(plan_path).map_err(|e| format!("{}: {e}", plan_path.display()))?;
    let plan: Plan = serde_json::from_str(&text)
        .map_err(|e| format!("{}:{}:{}: not a valid plan: {e}", plan_path.display(), e.line(), e.column()))?;
    let summary = runner::execute(&plan, options)?;
    if options.progress == Progress::Lines {
        eprintln!(
            "done: {} run(s) executed ({} failed), {} already recorded",
            summary.executed, summary.failed, summary.skipped
        );
    }
    Ok(())
}
