//! The architecture, checked: the rules ARCHITECTURE.md states, read from the
//! sources as text, so a change that breaks one fails here with the place.
//!
//! - xtask never links the harness crate: it talks to the device only
//!   through the run directory that `edgebench-model` defines.
//! - `edgebench-model` depends on nothing of ours.
//! - A runtime file never uses a sibling runtime file.
//! - xtask's wings only look down: toolchain < planning < device <
//!   snapshot; no wing uses a verb; no module cycles.
//! - `main.rs` declares only verbs, wings, `flags` and `project`.
//! - No function is longer than 80 lines.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() && path.file_name().is_some_and(|n| n != "target" && n != "fixtures") {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The code of a file without its comments (line comments only: the
/// project writes no block comments), so prose may name anything.
fn code(path: &Path) -> String {
    read(path)
        .lines()
        .map(|l| {
            let t = l.trim_start();
            if t.starts_with("//") { "" } else { l }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `(line number, line)` of every line of `path` that contains `needle`.
fn lines_with(path: &Path, needle: &str) -> Vec<String> {
    code(path)
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains(needle))
        .map(|(i, l)| format!("{}:{}: {}", path.display(), i + 1, l.trim()))
        .collect()
}

/// The `[dependencies]`-like sections of a Cargo manifest, as text.
fn dependency_sections(manifest: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in manifest.lines() {
        if line.starts_with('[') {
            inside = line.contains("dependencies");
        } else if inside {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

#[test]
fn xtask_does_not_link_the_harness() {
    let manifest = read(&root().join("xtask/Cargo.toml"));
    assert!(
        !dependency_sections(&manifest).contains("edgebench-harness"),
        "xtask/Cargo.toml depends on the harness crate; use edgebench-model's run directory instead"
    );
    // Spelt in two halves, so this file does not find itself.
    let needle = concat!("edgebench", "_harness");
    let uses: Vec<String> = rust_files(&root().join("xtask")).iter().flat_map(|f| lines_with(f, needle)).collect();
    assert!(uses.is_empty(), "xtask uses the harness crate:\n{}", uses.join("\n"));
}

#[test]
fn the_model_depends_on_nothing_of_ours() {
    let manifest = read(&root().join("crates/model/Cargo.toml"));
    let deps = dependency_sections(&manifest);
    assert!(!deps.contains("edgebench") && !deps.contains("path ="), "crates/model/Cargo.toml:\n{deps}");
    let uses: Vec<String> =
        rust_files(&root().join("crates/model/src")).iter().flat_map(|f| lines_with(f, "edgebench_")).collect();
    assert!(uses.is_empty(), "the model uses another crate of ours:\n{}", uses.join("\n"));
}

#[test]
fn a_runtime_never_uses_a_sibling_runtime() {
    let dir = root().join("xtask/src/planning/runtime");
    let files: Vec<PathBuf> = rust_files(&dir).into_iter().filter(|f| !f.ends_with("mod.rs")).collect();
    let names: Vec<String> = files.iter().map(|f| f.file_stem().unwrap().to_string_lossy().into_owned()).collect();
    let mut found = Vec::new();
    for file in &files {
        let own = file.file_stem().unwrap().to_string_lossy();
        for sibling in names.iter().filter(|n| **n != own) {
            for needle in [format!("super::{sibling}"), format!("runtime::{sibling}")] {
                found.extend(lines_with(file, &needle));
            }
        }
    }
    assert!(found.is_empty(), "a runtime uses another runtime's file:\n{}", found.join("\n"));
}

const WINGS: [&str; 4] = ["toolchain", "planning", "device", "snapshot"];
const SHARED: [&str; 1] = ["project"];

/// xtask's modules (`toolchain::cross`, `bench`, …) by file.
fn xtask_modules() -> BTreeMap<String, PathBuf> {
    let src = root().join("xtask/src");
    rust_files(&src)
        .into_iter()
        .map(|f| {
            let rel = f.strip_prefix(&src).unwrap().with_extension("");
            let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
            if parts.last().is_some_and(|p| p == "mod" || p == "main") {
                parts.pop();
            }
            (parts.join("::"), f)
        })
        .collect()
}

/// The modules a file refers to through `crate::…` and `super::…`,
/// resolved to the longest module path that exists.
fn references(module: &str, file: &Path, modules: &BTreeMap<String, PathBuf>) -> BTreeSet<String> {
    let text = code(file);
    let is_mod_rs = file.ends_with("mod.rs");
    let mut parent: Vec<&str> = module.split("::").filter(|s| !s.is_empty()).collect();
    if !is_mod_rs {
        parent.pop();
    }
    let mut out = BTreeSet::new();
    for (prefix, base) in [("crate::", Vec::new()), ("super::", parent)] {
        for (at, _) in text.match_indices(prefix) {
            let before = text[..at].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let path: Vec<&str> = text[at + prefix.len()..]
                .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .next()
                .unwrap_or("")
                .split("::")
                .filter(|s| !s.is_empty())
                .collect();
            let mut full = base.clone();
            full.extend(path);
            let target =
                (1..=full.len()).rev().map(|n| full[..n].join("::")).find(|candidate| modules.contains_key(candidate));
            if let Some(target) = target
                && target != module
            {
                out.insert(target);
            }
        }
    }
    out
}

fn wing(module: &str) -> Option<usize> {
    WINGS.iter().position(|w| module == *w || module.starts_with(&format!("{w}::")))
}

#[test]
fn wings_only_look_down_and_never_at_a_verb() {
    let modules = xtask_modules();
    let mut wrong = Vec::new();
    for (module, file) in &modules {
        let Some(level) = wing(module) else { continue };
        for target in references(module, file, &modules) {
            let allowed = match wing(&target) {
                Some(other) => other <= level,
                None => SHARED.contains(&target.as_str()),
            };
            if !allowed {
                wrong.push(format!("{module} ({}) uses {target}", file.display()));
            }
        }
    }
    assert!(wrong.is_empty(), "the wings are {WINGS:?}, each using only those before it:\n{}", wrong.join("\n"));
}

#[test]
fn no_module_cycles() {
    let modules = xtask_modules();
    // A module and its own submodules share their items by design; every
    // other reference is an edge.
    let related = |a: &str, b: &str| a.starts_with(&format!("{b}::")) || b.starts_with(&format!("{a}::"));
    let edges: BTreeMap<&str, Vec<String>> = modules
        .iter()
        .map(|(m, f)| (m.as_str(), references(m, f, &modules).into_iter().filter(|t| !related(m, t)).collect()))
        .collect();
    fn visit<'a>(
        node: &'a str,
        edges: &'a BTreeMap<&str, Vec<String>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|n| *n == node) {
            let mut cycle: Vec<String> = path[start..].iter().map(|s| s.to_string()).collect();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if !done.insert(node) {
            return None;
        }
        path.push(node);
        for next in edges.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, edges, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    for node in edges.keys() {
        if let Some(cycle) = visit(node, &edges, &mut Vec::new(), &mut done) {
            panic!("a module cycle: {}", cycle.join(" → "));
        }
    }
}

#[test]
fn main_declares_only_verbs_and_wings() {
    let src = root().join("xtask/src");
    let mut wrong = Vec::new();
    for line in code(&src.join("main.rs")).lines() {
        let Some(name) = line.trim().strip_prefix("mod ").and_then(|l| l.strip_suffix(';')) else { continue };
        let file = src.join(format!("{name}.rs"));
        let is_verb = file.is_file() && read(&file).contains("\npub fn run(");
        if !(is_verb || WINGS.contains(&name) || SHARED.contains(&name) || name == "flags") {
            wrong.push(name.to_string());
        }
    }
    assert!(wrong.is_empty(), "main.rs declares modules that are neither verbs nor wings: {wrong:?}");
}

const MAX_FUNCTION_LINES: usize = 80;

/// `(lines, file:line, name)` of every function whose body spans more than
/// the limit: from its `fn` line to the `}` at the same indentation.
fn long_functions(file: &Path) -> Vec<String> {
    let text = read(file);
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        let indent = &line[..line.len() - trimmed.len()];
        let declaration = ["fn ", "pub fn ", "pub(crate) fn ", "async fn ", "pub async fn ", "unsafe fn ", "const fn "]
            .iter()
            .find_map(|p| trimmed.strip_prefix(p));
        let Some(rest) = declaration else { continue };
        let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        // A declaration without a body (a trait's) ends with `;` first.
        let opens = lines[i..].iter().position(|l| l.trim_end().ends_with('{') || l.trim_end().ends_with(';'));
        let Some(opens) = opens.filter(|o| lines[i + o].trim_end().ends_with('{')) else { continue };
        let closing = format!("{indent}}}");
        if let Some(end) = lines[i + opens..].iter().position(|l| l.trim_end() == closing) {
            let length = opens + end + 1;
            if length > MAX_FUNCTION_LINES {
                out.push(format!("{length} lines: {}:{} {name}", file.display(), i + 1));
            }
        }
    }
    out
}

#[test]
fn no_function_is_longer_than_80_lines() {
    let mut long = Vec::new();
    for dir in ["xtask", "crates"] {
        for file in rust_files(&root().join(dir)) {
            long.extend(long_functions(&file));
        }
    }
    assert!(long.is_empty(), "split these into named steps:\n{}", long.join("\n"));
}

#[test]
fn the_function_length_check_measures_what_it_says() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("f.rs");
    let body = "    let x = 1;\n".repeat(MAX_FUNCTION_LINES);
    std::fs::write(&file, format!("fn short() {{\n}}\n\npub fn long() {{\n{body}}}\n\ntrait T {{\n    fn f();\n}}\n"))
        .unwrap();
    let found = long_functions(&file);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with(&format!("{} lines", MAX_FUNCTION_LINES + 2)) && found[0].ends_with(":4 long"));
}
