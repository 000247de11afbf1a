//! The bad-input corpus (`xtask/tests/bad-inputs/`): pipelines, targets
//! files, command lines and damaged snapshots that must each be refused
//! cleanly — an `error: …` that says what is wrong (and where, for a file),
//! an exit status of 1 (2 for a command-line usage error), never a panic,
//! and before anything is built or written.
//!
//! Each pipeline and targets file says what it expects in a first-line
//! comment, `# expect: <a piece of the message>`; a targets file may name
//! the target to ask for with `# target: <name>` (default `t`).

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::*;

fn corpus() -> PathBuf {
    root().join("xtask/tests/bad-inputs")
}

/// A checked-in snapshot to read from, and another one beside it.
const SNAPSHOT: &str = "results/local/startup/20261204T143614Z";
const OTHER: &str = "results/local/edge/20261204T190903Z";

/// The `# key: value` header lines of a corpus file.
fn header(path: &Path, key: &str) -> Option<String> {
    let bytes = std::fs::read(path).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    let prefix = format!("# {key}: ");
    text.lines().take_while(|l| l.starts_with('#')).find_map(|l| l.strip_prefix(&prefix).map(String::from))
}

fn files(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus().join(dir)).unwrap().flatten().map(|e| e.path()).collect();
    files.sort();
    files
}

/// Refused cleanly: the right exit status, `error: ` first, the expected
/// message, no panic, no backtrace. Returns what is wrong, if anything.
fn refusal_problem(case: &str, output: &Output, expected: &str) -> Option<String> {
    let stderr = String::from_utf8_lossy(&output.stderr);
    let code = output.status.code();
    let problem = if !matches!(code, Some(1 | 2)) {
        format!("exit status {code:?} (1 or 2 expected)")
    } else if !stderr.starts_with("error: ") {
        "stderr does not start with `error: `".into()
    } else if !stderr.contains(expected) {
        format!("expected …{expected}…")
    } else if stderr.contains("panicked") || stderr.contains("stack backtrace") {
        "a panic or a backtrace".into()
    } else {
        return None;
    };
    Some(format!("{case}: {problem}; got:\n{stderr}"))
}

fn assert_refused(case: &str, output: &Output, expected: &str) {
    if let Some(problem) = refusal_problem(case, output, expected) {
        panic!("{problem}");
    }
}

/// Fails with every problem at once, so a corpus is fixed in one pass.
fn assert_none(problems: Vec<String>) {
    assert!(problems.is_empty(), "{} case(s) not refused as expected:\n\n{}", problems.len(), problems.join("\n"));
}

#[test]
fn every_bad_pipeline_is_refused_with_its_place_and_what_is_wrong() {
    let cases = files("pipelines");
    assert!(cases.len() >= 30, "{} pipelines", cases.len());
    let mut problems = Vec::new();
    for path in cases {
        let expected = header(&path, "expect").unwrap_or_else(|| panic!("{} has no `# expect:`", path.display()));
        let output = xtask(&["bench", "--dry-run", "--pipeline", path.to_str().unwrap()])
            .env("RUST_BACKTRACE", "1")
            .output()
            .unwrap();
        // A message about the file's contents points into the file.
        let expected = match expected.chars().next().is_some_and(|c| c.is_ascii_digit()) {
            true => format!("{}:{expected}", path.display()),
            false => expected,
        };
        problems.extend(refusal_problem(&path.display().to_string(), &output, &expected));
    }
    assert_none(problems);
}

#[test]
fn every_bad_targets_file_is_refused_and_names_where_it_came_from() {
    let valid = corpus().join("valid/never-run.yaml");
    let mut problems = Vec::new();
    for path in files("targets") {
        let expected = header(&path, "expect").unwrap_or_else(|| panic!("{} has no `# expect:`", path.display()));
        let target = header(&path, "target").unwrap_or_else(|| "t".into());
        let output = xtask(&["bench", "--dry-run", "--target", &target, "--pipeline", valid.to_str().unwrap()])
            .env("EDGEBENCH_TARGETS", &path)
            .env("RUST_BACKTRACE", "1")
            .output()
            .unwrap();
        problems.extend(refusal_problem(&path.display().to_string(), &output, &expected));
    }
    assert_none(problems);
    // A targets file that cannot be read names the variable that chose it.
    let output =
        xtask(&["bench", "--dry-run", "--target", "t"]).env("EDGEBENCH_TARGETS", "/no/such/targets.yaml").output();
    let output = output.unwrap();
    assert_refused("missing targets file", &output, "/no/such/targets.yaml (named by EDGEBENCH_TARGETS)");
}

/// A results folder that cannot be written is found before the runs, not
/// after them (when finished runs could no longer become a snapshot).
#[test]
fn an_unwritable_results_folder_is_refused_before_anything_runs() {
    let valid = corpus().join("valid/never-run.yaml");
    let output = xtask(&["bench", "--pipeline", valid.to_str().unwrap()])
        .env("EDGEBENCH_RESULTS_DIR", "/proc/edgebench-results")
        .output()
        .unwrap();
    assert_refused(
        "unwritable results folder",
        &output,
        "/proc/edgebench-results/local/never-run, which cannot be written",
    );
}

/// The write-up cites only snapshots of its own results folder.
#[test]
fn a_study_citing_a_snapshot_outside_the_results_folder_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    std::fs::create_dir_all(&results).unwrap();
    let outside = root().join(SNAPSHOT);
    for cited in [outside.to_str().unwrap().to_string(), format!("../../{}", outside.display())] {
        let readme = format!("# x\n<!-- study: startup {cited} -->\n<!-- /study -->\n");
        std::fs::write(results.join("README.md"), readme).unwrap();
        let output = xtask(&["study", "--check"]).env("EDGEBENCH_RESULTS_DIR", &results).output().unwrap();
        assert_refused(&cited, &output, "the write-up cites only its own snapshots");
    }
}

#[test]
fn every_bad_command_line_is_refused() {
    let text = std::fs::read_to_string(corpus().join("flags.txt")).unwrap();
    let cases: Vec<&str> = text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()).collect();
    assert!(cases.len() >= 25, "{} command lines", cases.len());
    let mut problems = Vec::new();
    for line in cases {
        let (args, expected) = line.split_once(" => ").unwrap_or_else(|| panic!("no ` => ` in `{line}`"));
        let args: Vec<String> =
            args.split_whitespace().map(|a| a.replace("{snapshot}", SNAPSHOT).replace("{other}", OTHER)).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = xtask(&args).env("RUST_BACKTRACE", "1").output().unwrap();
        problems.extend(refusal_problem(line, &output, expected));
    }
    assert_none(problems);
}

/// A copy of a checked-in snapshot, damaged by `damage`.
fn damaged(name: &str, damage: impl FnOnce(&Path)) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join(name);
    std::fs::create_dir_all(copy.join("plots")).unwrap();
    for file in ["records.jsonl", "provenance.json", "summary.json"] {
        std::fs::copy(root().join(SNAPSHOT).join(file), copy.join(file)).unwrap();
    }
    damage(&copy);
    (dir, copy)
}

/// The records with the last one replaced by a copy of the first: as many
/// lines as the plan had runs, all of its id.
fn duplicate_first_line(text: &str) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    let first = lines[0];
    *lines.last_mut().unwrap() = first;
    lines.join("\n") + "\n"
}

fn edit(path: &Path, change: impl FnOnce(String) -> String) {
    let text = std::fs::read_to_string(path).unwrap();
    std::fs::write(path, change(text)).unwrap();
}

/// A way of damaging a copied snapshot.
type Damage = Box<dyn FnOnce(&Path)>;

fn cut_last_line(text: String) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    lines.pop();
    lines.join("\n") + "\n"
}

/// Each damage: its name, what it does to a copy, the verb that reads it
/// and the piece of the refusal expected.
fn damages() -> Vec<(&'static str, Damage, &'static str, &'static str)> {
    let records = |d: &Path| d.join("records.jsonl");
    vec![
        ("cut", Box::new(move |d| edit(&records(d), cut_last_line)), "reanalyse", "479 records, but plan"),
        (
            "other-plan",
            Box::new(move |d| edit(&records(d), |t| t.replacen("\"plan_id\":\"", "\"plan_id\":\"x", 1))),
            "reanalyse",
            "belongs to plan x",
        ),
        ("garbage", Box::new(move |d| edit(&records(d), |t| t + "{not json\n")), "reanalyse", ":481: not a run record"),
        (
            "not-utf8",
            Box::new(move |d| std::fs::write(records(d), b"{\"schema\":1,\xff}\n").unwrap()),
            "reanalyse",
            "not UTF-8 text",
        ),
        (
            "no-provenance",
            Box::new(|d| std::fs::remove_file(d.join("provenance.json")).unwrap()),
            "reanalyse",
            "no provenance.json",
        ),
        (
            "bad-provenance",
            Box::new(|d| std::fs::write(d.join("provenance.json"), "{}").unwrap()),
            "reanalyse",
            "not what this version of edgebench reads",
        ),
        ("cut-compared", Box::new(move |d| edit(&records(d), cut_last_line)), "compare", "479 records, but plan"),
        (
            "duplicated",
            Box::new(move |d| edit(&records(d), |t| duplicate_first_line(&t))),
            "reanalyse",
            "run 0 is recorded twice",
        ),
        (
            "duplicated-compared",
            Box::new(move |d| edit(&records(d), |t| duplicate_first_line(&t))),
            "compare",
            "run 0 is recorded twice",
        ),
        (
            "out-of-range",
            Box::new(move |d| edit(&records(d), |t| t.replacen("\"run\":0,", "\"run\":4800,", 1))),
            "reanalyse",
            "run 4800 is outside plan",
        ),
        (
            "plots-linked",
            Box::new(move |d| {
                std::fs::remove_dir(d.join("plots")).unwrap();
                std::os::unix::fs::symlink(root().join(OTHER).join("plots"), d.join("plots")).unwrap();
            }),
            "reanalyse",
            "is not a directory of this snapshot's own",
        ),
        (
            "edited-records",
            Box::new(move |d| edit(&records(d), |t| t.replacen("\"wall_ns\":", "\"wall_ns\":1", 1))),
            "reanalyse",
            "the records changed since",
        ),
    ]
}

#[test]
fn damaged_snapshots_are_refused_and_never_silently_rewritten() {
    let cases = damages();
    for (name, damage, verb, expected) in cases {
        let (_keep, copy) = damaged(name, damage);
        let before = std::fs::read(copy.join("summary.json")).unwrap();
        let at = copy.to_str().unwrap();
        let args = match verb {
            "compare" => vec!["compare", at, SNAPSHOT],
            _ => vec![verb, at],
        };
        let output = xtask(&args).output().unwrap();
        assert_refused(name, &output, expected);
        assert_eq!(std::fs::read(copy.join("summary.json")).unwrap(), before, "{name}: summary.json was rewritten");
    }
    // With --force, records that do not match their plan are analysed anyway.
    let (_keep, copy) = damaged("forced", |d| edit(&d.join("records.jsonl"), cut_last_line));
    xtask_ok(&["reanalyse", copy.to_str().unwrap(), "--force"]);
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(copy.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["schema"], 3);
}

#[test]
fn reanalyse_removes_plots_it_no_longer_makes() {
    let (_keep, copy) = damaged("stale-plot", |d| {
        std::fs::write(d.join("plots/time-gone.svg"), "<svg/>").unwrap();
    });
    xtask_ok(&["reanalyse", copy.to_str().unwrap()]);
    assert!(!copy.join("plots/time-gone.svg").exists());
    let plots = std::fs::read_dir(copy.join("plots")).unwrap().count();
    assert!(plots > 0);
    for file in ["summary.json", "summary.csv", "ratios.csv", "geomeans.csv", "report.md"] {
        assert!(copy.join(file).is_file(), "{file}");
    }
    let leftovers: Vec<_> = std::fs::read_dir(&copy)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".partial"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}
