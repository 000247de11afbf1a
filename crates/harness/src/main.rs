//! `edgebench-harness`: the device-side program. See the library docs.

use std::path::PathBuf;
use std::process::ExitCode;

use edgebench_harness::launcher;
use edgebench_harness::runner::{self, Options, Progress};
use edgebench_model::plan::Plan;

const USAGE: &str = "usage: edgebench-harness run <plan.json> [--results <file>] [--workdir <dir>] [--quiet | --json]
       edgebench-harness info

Runs every run of the plan that the results file does not hold yet, one
measured child process each, and appends one JSON record per run.
  --results   results file (default: results.jsonl beside the plan)
  --workdir   directory the plan's paths are relative to (default: the plan's)
  --quiet     no progress output
  --json      progress as one JSON object per run on stdout

`info` prints the device's model, CPU, kernel, governor, temperatures and
throttling state as JSON.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some(launcher::LAUNCH_COMMAND) => return launcher::serve(),
        Some("info") => {
            println!("{}", serde_json::to_string_pretty(&edgebench_harness::device::collect()).unwrap_or_default());
            return ExitCode::SUCCESS;
        }
        _ => {}
    }
    match parse(&args).and_then(|(plan, options)| run(&plan, &options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("edgebench-harness: {e}");
            ExitCode::FAILURE
        }
    }
}

fn parse(args: &[String]) -> Result<(PathBuf, Options), String> {
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
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--results" => results = Some(PathBuf::from(it.next().ok_or("--results needs a file")?)),
            "--workdir" => workdir = Some(PathBuf::from(it.next().ok_or("--workdir needs a directory")?)),
            "--quiet" => progress = Progress::Quiet,
            "--json" => progress = Progress::Json,
            flag if flag.starts_with('-') => return Err(format!("unknown flag `{flag}`\n{USAGE}")),
            path if plan.is_none() => plan = Some(PathBuf::from(path)),
            extra => return Err(format!("unexpected argument `{extra}`\n{USAGE}")),
        }
    }
    let plan = plan.ok_or_else(|| format!("missing plan file\n{USAGE}"))?;
    // Absolute from here on: children run in the work directory and must
    // find every path we hand them (the executor's report file, say).
    let absolute = |p: PathBuf| -> Result<PathBuf, String> {
        let p = if p.as_os_str().is_empty() { PathBuf::from(".") } else { p };
        std::path::absolute(&p).map_err(|e| format!("{}: {e}", p.display()))
    };
    let base = absolute(plan.parent().map(PathBuf::from).unwrap_or_default())?;
    let workdir = match workdir {
        Some(w) => absolute(w)?,
        None => base.clone(),
    };
    let results = match results {
        Some(r) => absolute(r)?,
        None => base.join("results.jsonl"),
    };
    Ok((plan, Options { workdir, results, progress }))
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
