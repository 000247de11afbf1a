//! The checked-in snapshots under `results/`: every derived file (summary,
//! CSV, report, plots) is what this version derives again from the
//! snapshot's records, byte for byte, so a change to the analysis or the
//! report shows up here as a diff to look at, not silently in the next
//! snapshot.

mod common;

use std::path::{Path, PathBuf};

use common::*;

/// Snapshot directories (those holding `records.jsonl`) below `results/`.
fn snapshots() -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![root().join("results")];
    while let Some(dir) = stack.pop() {
        if dir.join("records.jsonl").is_file() {
            found.push(dir.clone());
        }
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            if entry.path().is_dir() {
                stack.push(entry.path());
            }
        }
    }
    found.sort();
    found
}

/// Every file below `dir`, relative to it, except the snapshot's own inputs
/// and other derived directories.
fn derived_files(dir: &Path) -> Vec<PathBuf> {
    let inputs = ["records.jsonl", "provenance.json", "plan.json"];
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                // Another baseline's files, and calibration's raw data, are not derived here.
                if !(name.starts_with("vs-") || name == "calibration") {
                    stack.push(path);
                }
            } else if !inputs.contains(&name.as_str()) {
                files.push(path.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    files.sort();
    files
}

fn assert_same(expected: &Path, actual: &Path) {
    let want = derived_files(expected);
    let got = derived_files(actual);
    assert_eq!(want, got, "{} and its re-derivation hold different files", expected.display());
    for file in &want {
        let (a, b) = (std::fs::read(expected.join(file)).unwrap(), std::fs::read(actual.join(file)).unwrap());
        assert!(a == b, "{} differs when derived again (in {})", expected.join(file).display(), actual.display());
    }
}

#[test]
fn every_checked_in_snapshot_derives_again_byte_for_byte() {
    let snapshots = snapshots();
    assert!(!snapshots.is_empty(), "no snapshots under results/");
    for snapshot in snapshots {
        let out = tempfile::tempdir().unwrap();
        let at = snapshot.to_str().unwrap();
        xtask_ok(&["reanalyse", at, "--out", out.path().to_str().unwrap()]);
        assert_same(&snapshot, out.path());
        // Derived against another baseline: as checked in.
        for entry in std::fs::read_dir(&snapshot).unwrap().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(baseline) = name.strip_prefix("vs-") else { continue };
            let baseline = baseline.replacen('-', "/", 1);
            let out = tempfile::tempdir().unwrap();
            xtask_ok(&["reanalyse", at, "--baseline", &baseline, "--out", out.path().to_str().unwrap()]);
            assert_same(&entry.path(), out.path());
        }
    }
}

/// A snapshot in `results/` is evidence: it must come from a committed tree
/// without uncommitted changes, so its revision says exactly what made it.
#[test]
fn every_checked_in_snapshot_comes_from_a_clean_committed_tree() {
    let mut dirty = Vec::new();
    for snapshot in snapshots() {
        let provenance: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(snapshot.join("provenance.json")).unwrap()).unwrap();
        let git = &provenance["git"];
        if git["dirty"] != serde_json::Value::Bool(false) || !git["revision"].is_string() {
            dirty.push(format!("{} ({git})", snapshot.display()));
        }
    }
    assert!(dirty.is_empty(), "snapshots from a dirty or unknown tree:\n{}", dirty.join("\n"));
}

/// Every table of the write-up is what `cargo xtask study` derives from the
/// snapshots it cites, today.
#[test]
fn the_write_up_tables_equal_a_regeneration() {
    let write_up = std::fs::read_to_string(root().join("results/README.md")).unwrap();
    assert!(write_up.matches("<!-- study:").count() >= 6, "the write-up has lost its generated tables");
    // The checked-in results, not the tests' own results directory.
    let output = xtask(&["study", "--check"]).env_remove("EDGEBENCH_RESULTS_DIR").output().unwrap();
    assert!(output.status.success(), "{}", text(&output));
}

/// The results browser (`results/index.html` and its comparison pages) is
/// what `cargo xtask index` derives from the snapshots, today.
#[test]
fn the_results_browser_equals_a_regeneration() {
    let output = xtask(&["index", "--check"]).env_remove("EDGEBENCH_RESULTS_DIR").output().unwrap();
    assert!(output.status.success(), "{}", text(&output));
}

/// Every chart of a snapshot taken on an emulated target says so, and no
/// chart of a real one does.
#[test]
fn every_chart_of_an_emulated_snapshot_says_so() {
    let mut emulated = 0;
    for snapshot in snapshots() {
        let provenance: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(snapshot.join("provenance.json")).unwrap()).unwrap();
        let is_emulated = provenance["target"]["emulator"].is_string();
        emulated += usize::from(is_emulated);
        // A plan with nothing to chart (counts under callgrind only) has no
        // plots, and git keeps no empty directory.
        let Ok(plots) = std::fs::read_dir(snapshot.join("plots")) else { continue };
        for plot in plots.flatten() {
            let svg = std::fs::read_to_string(plot.path()).unwrap();
            assert_eq!(svg.contains("EMULATED"), is_emulated, "{}", plot.path().display());
        }
    }
    assert!(emulated > 0, "the checked-in snapshots include emulated ones");
}
