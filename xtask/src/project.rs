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

pub fn kernels_dir() -> PathBuf {
    root().join("kernels")
}

pub fn pipelines_dir() -> PathBuf {
    root().join("pipelines")
}
