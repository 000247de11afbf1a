//! `cargo xtask index [--check]`: the results browser. One page,
//! `results/index.html`, lists every snapshot (target, pipeline, when,
//! which commit, emulated or not) with links to its reports; beside each
//! snapshot that has an older one of the same pipeline and target, a
//! side-by-side comparison with it, and beside each same-session A/B of two
//! revisions, the comparison of its sides — pages in `results/compare/`,
//! verdicts in colour. Everything is derived from the snapshots: `--check`
//! fails when a page differs from a regeneration (a test runs it).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::compare;
use crate::flags::IndexArgs;
use crate::snapshot::{self, RECORDS_FILE, html};

const INDEX_FILE: &str = "index.html";
const COMPARE_DIR: &str = "compare";

/// A snapshot, by its path under the results folder.
struct Entry {
    /// `<target>/<pipeline>/<stamp>`.
    path: PathBuf,
    target: String,
    pipeline: String,
    stamp: String,
    provenance: snapshot::provenance::Provenance,
}

pub fn run(args: &IndexArgs) -> Result<()> {
    let root = snapshot::results_root();
    let root = root.canonicalize().with_context(|| format!("{} is not a results folder", root.display()))?;
    // Paths in the pages are the snapshots' under the results folder, the
    // same on every machine.
    std::env::set_current_dir(&root).with_context(|| format!("entering {}", root.display()))?;
    let entries = entries(Path::new("."))?;
    let pages = pages(&entries);
    if args.check {
        return check(&root, &pages);
    }
    snapshot::write_atomically(&root.join(INDEX_FILE), pages[INDEX_FILE].as_bytes())?;
    crate::project::make_dir(root.join(COMPARE_DIR))?;
    for (name, page) in pages.iter().filter(|(n, _)| n.as_str() != INDEX_FILE) {
        snapshot::write_atomically(&root.join(name), page.as_bytes())?;
    }
    remove_stale(&root, &pages)?;
    println!("{} snapshots: {}", entries.len(), root.join(INDEX_FILE).display());
    Ok(())
}

/// Every snapshot under `root`, by target, pipeline and time.
fn entries(root: &Path) -> Result<Vec<Entry>> {
    let mut out = Vec::new();
    for target in subdirectories(root)? {
        for pipeline in subdirectories(&target)? {
            for dir in subdirectories(&pipeline)? {
                if !dir.join(RECORDS_FILE).is_file() {
                    continue;
                }
                let provenance = snapshot::read_provenance(&dir)?;
                let name = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                let path = dir.strip_prefix(root).unwrap_or(&dir).to_path_buf();
                out.push(Entry {
                    stamp: name(&dir),
                    pipeline: name(&pipeline),
                    target: name(&target),
                    path,
                    provenance,
                });
            }
        }
    }
    out.sort_by(|a, b| (&a.target, &a.pipeline, &a.stamp).cmp(&(&b.target, &b.pipeline, &b.stamp)));
    Ok(out)
}

fn subdirectories(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir() && !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')))
        .filter(|p| p.file_name().is_none_or(|n| n != COMPARE_DIR))
        .collect();
    out.sort();
    Ok(out)
}

/// The index and the comparison pages, by path under the results folder.
fn pages(entries: &[Entry]) -> BTreeMap<String, String> {
    let mut pages = BTreeMap::new();
    let mut rows = String::new();
    let compare_dir = Path::new(COMPARE_DIR);
    // Targets and pipelines in name order, each one's snapshots newest first.
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.sort_by(|&a, &b| {
        let (a, b) = (&entries[a], &entries[b]);
        (&a.target, &a.pipeline).cmp(&(&b.target, &b.pipeline)).then_with(|| b.stamp.cmp(&a.stamp))
    });
    for i in order {
        let e = &entries[i];
        let previous = entries[..i].iter().rev().find(|p| p.target == e.target && p.pipeline == e.pipeline);
        let mut comparisons = Vec::new();
        if let Some(p) = previous {
            let name = format!("{COMPARE_DIR}/{}--{}--{}--{}.html", e.target, e.pipeline, p.stamp, e.stamp);
            // Two sessions of one pipeline may share no cell (another set of
            // runtimes, or of A/B sides): said, not an error.
            match compare::page(&p.path, Some(&e.path), None, compare_dir) {
                Ok(page) => {
                    comparisons.push(format!("<a href=\"{}\">with {}</a>", html::esc(&name), html::esc(&p.stamp)));
                    pages.insert(name, page);
                }
                Err(error) => {
                    comparisons.push(format!("with {}: {}", html::esc(&p.stamp), html::esc(&error.to_string())))
                }
            }
        }
        if e.provenance.plan.sides.len() == 2 {
            let name = format!("{COMPARE_DIR}/{}--{}--{}--base-head.html", e.target, e.pipeline, e.stamp);
            match compare::page(&e.path, None, Some(["base", "head"]), compare_dir) {
                Ok(page) => {
                    comparisons.push(format!("<a href=\"{}\">base against head</a>", html::esc(&name)));
                    pages.insert(name, page);
                }
                Err(error) => comparisons.push(format!("base against head: {}", html::esc(&error.to_string()))),
            }
        }
        row(&mut rows, e, &comparisons);
    }
    let body = format!(
        "<h1>edgebench results</h1>\n<p>Every snapshot in this folder, newest first within each pipeline. A snapshot's \
         report answers which runtime to ship on that device; the comparisons set two sessions of one pipeline side by \
         side (unpaired), or the two revisions of a same-session A/B (paired by round). Emulated targets' timings are \
         not a device's. Regenerate with <code>cargo xtask index</code>.</p>\n<div class=\"wrap\"><table>\n<thead><tr>\
         <th>target</th><th>pipeline</th><th>taken (UTC)</th><th>commit</th><th>emulated</th><th>runs</th><th>cells</th>\
         <th>baseline</th><th>reports</th><th>compared</th></tr></thead>\n<tbody>\n{rows}</tbody></table></div>\n"
    );
    pages.insert(INDEX_FILE.to_string(), html::page("edgebench results", &body));
    pages
}

fn row(rows: &mut String, e: &Entry, comparisons: &[String]) {
    let p = &e.provenance;
    let commit = match (&p.git.revision, p.git.dirty) {
        (Some(r), Some(true)) => format!("<code>{}</code> + changes", html::esc(&r[..r.len().min(12)])),
        (Some(r), _) => format!("<code>{}</code>", html::esc(&r[..r.len().min(12)])),
        (None, _) => "unknown".into(),
    };
    let emulated = match &p.target.emulator {
        Some(e) => format!("<span class=\"bad\">yes</span> ({})", html::esc(e)),
        None => "no".into(),
    };
    let link = |file: &str| {
        let path = e.path.join(file);
        let shown = path.to_string_lossy().trim_start_matches("./").to_string();
        format!("<a href=\"{}\">{file}</a>", html::esc(&shown))
    };
    let _ = writeln!(
        rows,
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{commit}</td><td>{emulated}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
         <td>{}</td><td>{} · {}</td><td>{}</td></tr>",
        html::esc(&e.target),
        html::esc(&e.pipeline),
        html::esc(&e.stamp),
        p.plan.runs_run(),
        p.plan.cells,
        html::esc(p.plan.baseline.as_deref().unwrap_or("—")),
        link(html::HTML_FILE),
        link("report.md"),
        comparisons.join("<br>")
    );
}

/// Fails when a page on disk is missing, differs or is no longer made.
fn check(root: &Path, pages: &BTreeMap<String, String>) -> Result<()> {
    let mut problems = Vec::new();
    for (name, page) in pages {
        match std::fs::read_to_string(root.join(name)) {
            Ok(text) if &text == page => {}
            Ok(_) => problems.push(format!("{name} differs from a regeneration")),
            Err(_) => problems.push(format!("{name} is missing")),
        }
    }
    for stale in stale(root, pages)? {
        problems.push(format!("{} is no longer made", stale.display()));
    }
    if !problems.is_empty() {
        bail!("the results browser is out of date: {}; `cargo xtask index` writes it again", problems.join("; "));
    }
    Ok(())
}

/// Comparison pages on disk that the snapshots no longer make.
fn stale(root: &Path, pages: &BTreeMap<String, String>) -> Result<Vec<PathBuf>> {
    let dir = root.join(COMPARE_DIR);
    let Ok(listing) = std::fs::read_dir(&dir) else { return Ok(Vec::new()) };
    Ok(listing
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = format!("{COMPARE_DIR}/{}", p.file_name().unwrap_or_default().to_string_lossy());
            p.extension().is_some_and(|x| x == "html") && !pages.contains_key(&name)
        })
        .collect())
}

fn remove_stale(root: &Path, pages: &BTreeMap<String, String>) -> Result<()> {
    for path in stale(root, pages)? {
        std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
    }
    Ok(())
}
