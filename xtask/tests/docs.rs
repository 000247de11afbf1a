//! First contact: what the README and the docs name exists — every
//! pipeline a command in them runs (`--pipeline NAME`), and every file of
//! the project they point to (`xtask/src/…rs`, `pipelines/….yaml`, …) —
//! and `cargo xtask --version` answers. A renamed file or a transcript of a
//! pipeline that was never shipped fails here, not on a newcomer's first
//! try.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The project's prose: the READMEs, ARCHITECTURE.md and docs/.
fn documents() -> Vec<PathBuf> {
    let root = root();
    let mut out: Vec<PathBuf> =
        ["README.md", "ARCHITECTURE.md", "results/README.md"].iter().map(|f| root.join(f)).collect();
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    out.extend(docs);
    out
}

/// The word after each `--pipeline ` in `text`, with its line number.
fn pipelines_named(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        for piece in line.split("--pipeline ").skip(1) {
            let name: String = piece.chars().take_while(|c| c.is_ascii_alphanumeric() || "-_./".contains(*c)).collect();
            // Placeholders (P, NAME, METRIC) are upper case.
            if name.chars().next().is_some_and(|c| c.is_ascii_lowercase()) {
                out.push((i + 1, name));
            }
        }
    }
    out
}

/// Paths of the project's own files in `text`: words starting with one of
/// its top-level directories and ending in a file extension.
fn paths_named(text: &str) -> Vec<(usize, String)> {
    const DIRS: [&str; 6] = ["xtask/", "crates/", "kernels/", "pipelines/", "docs/", ".github/"];
    const EXTENSIONS: [&str; 9] = [".rs", ".yaml", ".yml", ".md", ".c", ".h", ".py", ".sh", ".toml"];
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let words = line.split(|c: char| !(c.is_ascii_alphanumeric() || "-_./".contains(c)));
        for word in words {
            let word = word.trim_end_matches('.');
            if DIRS.iter().any(|d| word.starts_with(d)) && EXTENSIONS.iter().any(|e| word.ends_with(e)) {
                out.push((i + 1, word.to_string()));
            }
        }
    }
    out
}

/// What `scan` finds in every document, as `(document, line, item)`;
/// fails if it finds fewer than `at_least` (a broken scan passes nothing).
fn named(scan: fn(&str) -> Vec<(usize, String)>, at_least: usize) -> Vec<(PathBuf, usize, String)> {
    let found: Vec<(PathBuf, usize, String)> = documents()
        .into_iter()
        .flat_map(|doc| {
            let text = std::fs::read_to_string(&doc).unwrap();
            scan(&text).into_iter().map(move |(line, item)| (doc.clone(), line, item))
        })
        .collect();
    assert!(found.len() >= at_least, "only {} found: is the scan broken?", found.len());
    found
}

#[test]
fn every_pipeline_the_docs_run_exists() {
    let root = root();
    let missing: Vec<String> = named(pipelines_named, 3)
        .into_iter()
        .filter(|(_, _, name)| {
            !root.join("pipelines").join(format!("{name}.yaml")).is_file() && !root.join(name).is_file()
        })
        .map(|(doc, line, name)| format!("{}:{line}: --pipeline {name}", doc.strip_prefix(&root).unwrap().display()))
        .collect();
    assert!(missing.is_empty(), "pipelines the docs run but the project lacks:\n{}", missing.join("\n"));
}

#[test]
fn every_project_file_the_docs_name_exists() {
    let root = root();
    let missing: Vec<String> = named(paths_named, 20)
        .into_iter()
        // From the root, or relative to the document (docs link `../x`); an
        // error message's example names a user's own pipeline.
        .filter(|(doc, _, path)| {
            path != "pipelines/my-bench.yaml" && !root.join(path).exists() && !doc.parent().unwrap().join(path).exists()
        })
        .map(|(doc, line, path)| format!("{}:{line}: {path}", doc.strip_prefix(&root).unwrap().display()))
        .collect();
    assert!(missing.is_empty(), "files the docs name but the project lacks:\n{}", missing.join("\n"));
}

#[test]
fn the_scans_find_what_they_should() {
    assert_eq!(pipelines_named("cargo xtask bench --pipeline gate-aa, then --pipeline P"), [(1, "gate-aa".into())]);
    assert_eq!(
        paths_named("see `xtask/src/compare.rs` and (crates/stats/src/power.rs).\nnot xtask/src/<verb>.rs"),
        [(1, "xtask/src/compare.rs".into()), (1, "crates/stats/src/power.rs".into())]
    );
}

#[test]
fn the_version_is_told() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_xtask")).arg("--version").output().unwrap();
    assert!(output.status.success());
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), format!("cargo xtask {}", env!("CARGO_PKG_VERSION")));
}
