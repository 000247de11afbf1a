//! The device programs: the harness and one executor per embedded engine,
//! built in release mode into their own cargo target directory.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result};
use edgebench_model::manifest::{ArtifactKind, CompilerInfo};
use xshell::{Shell, cmd};

use crate::project;
use crate::target::{Arch, Target};

/// A device program: its cargo package and binary name.
#[derive(Debug, PartialEq, Eq)]
pub struct Program {
    /// Its Cargo.toml, relative to the workspace root.
    pub manifest: &'static str,
    pub binary: &'static str,
}

pub const HARNESS: Program = Program { manifest: "crates/harness/Cargo.toml", binary: "edgebench-harness" };
pub const WASMTIME: Program = Program { manifest: "crates/exec-wasmtime/Cargo.toml", binary: "edgebench-wasmtime" };
pub const WASMER: Program = Program { manifest: "crates/exec-wasmer/Cargo.toml", binary: "edgebench-wasmer" };
pub const DOCKER: Program = Program { manifest: "crates/exec-docker/Cargo.toml", binary: "edgebench-docker" };

pub const ALL: &[&Program] = &[&HARNESS, &WASMTIME, &WASMER, &DOCKER];

/// The harness and every program the given runtimes need, in `ALL` order.
pub fn needed<'a>(runtimes: impl IntoIterator<Item = &'a dyn crate::runtime::Runtime>) -> Vec<&'static Program> {
    let wanted: Vec<&'static Program> = runtimes.into_iter().flat_map(|r| r.programs().iter().copied()).collect();
    ALL.iter().copied().filter(|p| **p == HARNESS || wanted.contains(p)).collect()
}

/// Relative path of a program in the target directory.
pub fn path(program: &Program) -> String {
    format!("bin/{}", program.binary)
}

/// Builds `programs` for `target` and copies them into `bin/` of the target
/// directory; returns the compiler that made them. Cargo decides what is
/// stale; a no-op build is quick. Another architecture's are cross-built
/// (see [`crate::cross`]).
pub fn build(
    sh: &Shell,
    target: &Target,
    target_dir: &Path,
    programs: &[&Program],
    quiet: bool,
) -> Result<CompilerInfo> {
    let (built_dir, compiler) = if target.arch == Arch::host()? {
        build_native(sh, programs, quiet)?
    } else {
        crate::cross::build(sh, target.arch, programs, quiet)?
    };
    let bin = target_dir.join("bin");
    fs::create_dir_all(&bin)?;
    for p in programs {
        let built = built_dir.join(p.binary);
        let dest = target_dir.join(path(p));
        if fs::read(&built).ok() != fs::read(&dest).ok() {
            let partial = crate::stamp::with_suffix(&dest, ".partial");
            fs::copy(&built, &partial).with_context(|| format!("copying {}", built.display()))?;
            fs::rename(&partial, &dest)?;
        }
    }
    Ok(compiler)
}

/// Builds for this machine; returns where the binaries are.
fn build_native(sh: &Shell, programs: &[&Program], quiet: bool) -> Result<(std::path::PathBuf, CompilerInfo)> {
    let cargo = crate::tools::cargo();
    let cargo_target = project::root().join("target").join("device");
    // The executors are workspaces of their own (see the root Cargo.toml);
    // all share one target directory, so common crates build once.
    let _dir = sh.push_dir(project::root());
    for p in programs {
        let manifest = project::root().join(p.manifest);
        let bin = p.binary;
        let mut command = cmd!(sh, "{cargo} build --release --locked --manifest-path {manifest} --bin {bin}")
            .env("CARGO_TARGET_DIR", &cargo_target);
        if quiet {
            command = command.arg("--quiet");
        }
        command.run().with_context(|| format!("building {}", p.binary))?;
    }
    let compiler = CompilerInfo {
        kind: ArtifactKind::Program,
        command: format!("{cargo} build --release"),
        version: cmd!(sh, "rustc --version").quiet().read().unwrap_or_default(),
        target: Arch::host()?.rust_triple().into(),
        flags: Vec::new(),
        suite: None,
    };
    Ok((cargo_target.join("release"), compiler))
}
