//! The checked-in reports in a real browser: headless Chromium (Debian's
//! `chromium`) opens every snapshot's `report.html`, the results browser
//! and its comparison pages from disk, runs their script, and the test
//! fails on a script error, a console error or a missing section. A
//! screenshot of each report's first screen is kept in
//! `target/report-screenshots/` to look at.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// The sections every snapshot report has, by id.
const REPORT_SECTIONS: [&str; 5] = ["summary", "charts", "cells", "report", "provenance"];

fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"].iter().find_map(|name| {
        let out = Command::new("sh").args(["-c", &format!("command -v {name}")]).output().ok()?;
        out.status.success().then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
    })
}

/// Headless Chromium, isolated from any profile of the user's.
fn browser(chromium: &Path, profile: &Path) -> Command {
    let mut command = Command::new(chromium);
    command.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--hide-scrollbars",
        "--allow-file-access-from-files",
        "--enable-logging=stderr",
        "--v=0",
    ]);
    command.arg(format!("--user-data-dir={}", profile.display()));
    command
}

/// The page's DOM after its script ran, and what the browser logged.
fn load(chromium: &Path, page: &Path) -> (String, String) {
    let profile = tempfile::tempdir().unwrap();
    let out = browser(chromium, profile.path())
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    assert!(out.status.success(), "chromium failed on {}: {}", page.display(), text(&out));
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Lines the browser logged from the page's console, or of an uncaught
/// exception: our pages log nothing, so any such line is an error.
fn console_errors(log: &str) -> Vec<&str> {
    log.lines().filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught")).collect()
}

fn pages(root: &Path, name: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if entry.file_name().to_string_lossy() == name {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// Every relative link of the page at `page` leads to a file.
fn assert_links_resolve(page: &Path) {
    let text = std::fs::read_to_string(page).unwrap();
    for link in text.split("href=\"").skip(1).map(|s| &s[..s.find('"').unwrap()]) {
        if link.starts_with('#') || link.contains("://") {
            continue;
        }
        let target = page.parent().unwrap().join(link);
        assert!(target.is_file(), "{} links to {link}, which is missing", page.display());
    }
}

fn the_browser() -> PathBuf {
    match chromium() {
        Some(path) => path,
        None => panic!(
            "these tests need Chromium (Debian's `chromium`; `cargo xtask test` installs it as root): CI must have it"
        ),
    }
}

#[test]
fn every_checked_in_report_renders_in_chromium_without_errors() {
    let chromium = the_browser();
    // The check can fail: a page whose script errs is caught.
    let bad = tempfile::tempdir().unwrap();
    let page = bad.path().join("bad.html");
    std::fs::write(&page, "<html><body><script>console.error('boom'); missing();</script></body></html>").unwrap();
    let (dom, log) = load(&chromium, &page);
    assert_eq!(console_errors(&log).len(), 2, "{log}");
    assert!(!dom.contains("data-ready"));

    let results = root().join("results");
    let reports = pages(&results, "report.html");
    let snapshots = pages(&results, "records.jsonl");
    assert_eq!(reports.len(), snapshots.len(), "every snapshot has an HTML report: {reports:#?}");
    let shots = root().join("target/report-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    for report in &reports {
        let (dom, log) = load(&chromium, report);
        let errors = console_errors(&log);
        assert!(errors.is_empty(), "{}: {errors:#?}", report.display());
        assert!(dom.contains("data-ready=\"1\""), "{}: its script did not run to the end", report.display());
        for id in REPORT_SECTIONS {
            assert!(dom.contains(&format!("id=\"{id}\"")), "{}: no section `{id}`", report.display());
        }
        // Every chart of the snapshot is drawn inline.
        let plots = std::fs::read_dir(report.parent().unwrap().join("plots")).map(|d| d.count()).unwrap_or(0);
        assert_eq!(dom.matches("<svg ").count(), plots, "{}: one inline chart per plot", report.display());
        assert!(
            !dom.contains("src=\"http") && !dom.contains("<link "),
            "{}: loads nothing from elsewhere",
            report.display()
        );
        assert_links_resolve(report);

        let name = report.strip_prefix(&results).unwrap().parent().unwrap().to_string_lossy().replace('/', "_");
        let shot = shots.join(format!("{name}.png"));
        let profile = tempfile::tempdir().unwrap();
        let out = browser(&chromium, profile.path())
            .arg("--window-size=1280,1600")
            .arg(format!("--screenshot={}", shot.display()))
            .arg(format!("file://{}", report.display()))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
        let png = std::fs::read(&shot).unwrap();
        assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "{}: an empty screenshot", shot.display());
    }
}

#[test]
fn the_results_browser_and_its_comparisons_render_in_chromium() {
    let chromium = the_browser();
    let results = root().join("results");
    let index = results.join("index.html");
    let (dom, log) = load(&chromium, &index);
    assert!(console_errors(&log).is_empty(), "{log}");
    assert!(dom.contains("data-ready=\"1\""));
    // Every snapshot is listed, and every link leads to a file.
    let snapshots = pages(&results, "records.jsonl").len();
    assert_eq!(dom.matches("report.html</a>").count(), snapshots, "one row per snapshot");
    assert_links_resolve(&index);
    let comparisons: Vec<PathBuf> =
        std::fs::read_dir(results.join("compare")).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    assert!(!comparisons.is_empty(), "the results browser has comparison pages");
    for page in comparisons {
        let (dom, log) = load(&chromium, &page);
        assert!(console_errors(&log).is_empty(), "{}: {log}", page.display());
        assert!(dom.contains("data-ready=\"1\"") && dom.contains("Gate:"), "{}", page.display());
        assert_links_resolve(&page);
        let coloured = ["equivalent", "regressed", "improved", "inconclusive"]
            .iter()
            .any(|v| dom.contains(&format!("<td class=\"{v}\">")));
        assert!(coloured, "{}: verdicts in colour", page.display());
    }
}
