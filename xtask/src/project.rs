//! Where things are: the workspace and the directories the host writes.

use std::path::{Path, PathBuf};

/// The workspace root (the parent of `xtask/`).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

/// Everything edgebench generates: `target/edgebench/`, or the directory
/// named by `EDGEBENCH_OUT_DIR` (used by tests to build from scratch).
pub fn out_dir() -> PathBuf {
    match std::env::var_os("EDGEBENCH_OUT_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => root().join("target").join("edgebench"),
    }
}

/// Per-target build output: `target/edgebench/<target>/`.
pub fn target_dir(target: &str) -> PathBuf {
    out_dir().join(target)
}

/// Pinned toolchains the build provisions for itself. Shared by every output
/// directory: a toolchain is an input of the build, not an output.
pub fn toolchains_dir() -> PathBuf {
    root().join("target").join("toolchains")
}

/// The cache shared by every checkout on this machine: `EDGEBENCH_CACHE`,
/// else `$XDG_CACHE_HOME/edgebench`, else `~/.cache/edgebench` — outside
/// the clone, for what is keyed by its inputs (guest disk images, exported
/// revisions).
pub fn cache_dir() -> anyhow::Result<PathBuf> {
    use anyhow::Context;
    if let Some(dir) = std::env::var_os("EDGEBENCH_CACHE").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir).join("edgebench"));
    }
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty()).context("neither EDGEBENCH_CACHE nor HOME is set")?;
    Ok(PathBuf::from(home).join(".cache/edgebench"))
}

/// Whether tracked files of this working tree differ from its commit (what
/// a snapshot calls dirty); `None` where git cannot tell.
pub fn tracked_changes(sh: &xshell::Shell) -> Option<bool> {
    let root = root();
    xshell::cmd!(sh, "git -C {root} status --porcelain --untracked-files=no")
        .quiet()
        .ignore_stderr()
        .read()
        .ok()
        .map(|s| !s.trim().is_empty())
}

/// `fs::create_dir_all` whose error names the directory (a bare `File
/// exists` says nothing of which).
pub fn make_dir(path: impl AsRef<Path>) -> anyhow::Result<()> {
    let path = path.as_ref();
    std::fs::create_dir_all(path).map_err(|e| anyhow::anyhow!("creating the directory {}: {e}", path.display()))
}

pub fn kernels_dir() -> PathBuf {
    root().join("kernels")
}

pub fn pipelines_dir() -> PathBuf {
    root().join("pipelines")
}
