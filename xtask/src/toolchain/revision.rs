//! Another revision of the project, built by its own build for a
//! same-session A/B bench (`bench --base REV`).
//!
//! The revision's tree is exported from git (`git archive`, never a
//! checkout of this working tree) into the machine's cache, outside this
//! clone (so no configuration of this tree applies to it), and its own
//! `cargo xtask build --pipeline P --target T` builds the kernels, device
//! programs and precompiled modules there, with that revision's sources,
//! flags, pins and Rust toolchain (its `rust-toolchain.toml`: the toolchain
//! this program was started with is not passed on). Its output goes below
//! this target's directory (`revisions/<commit>/`), so the device gets both
//! sides' files in one work directory and one plan runs them round by
//! round, each side's cells with its own programs.
//!
//! What is shared: the pinned toolchains, and the Cargo target directory of
//! the device programs built on this machine directly (the engines' crates,
//! which take many minutes to compile, are built once for both sides when
//! their versions and toolchain agree; each side's own crates are compiled
//! from its own path). Programs built in the Debian sid root are not shared:
//! that build sees only the revision's own tree. The revision's xtask is
//! compiled in a target directory of its own, never over the one this
//! program runs from.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use edgebench_model::digest::sha256_hex;
use edgebench_model::manifest::{MANIFEST_SCHEMA, Manifest};
use edgebench_model::plan::RevisionSide;
use xshell::{Shell, cmd};

use crate::project;

/// The directories below `target/` a revision's build shares with this
/// one's: not those the sid-root builds use, which see only the tree they
/// build (a link out of it would lead nowhere there).
const SHARED: [&str; 2] = ["device", "toolchains"];

/// What this program's own start chose and a revision must choose for
/// itself: the Rust toolchain (rustup's override, cargo's own paths).
const NOT_PASSED_ON: [&str; 5] = ["RUSTUP_TOOLCHAIN", "CARGO", "RUSTC", "RUSTDOC", "CARGO_TARGET_DIR"];

/// A revision resolved to its commit.
pub struct Revision {
    pub commit: String,
    pub subject: String,
}

impl Revision {
    /// `rev` (a commit, branch, tag or `HEAD~1`) in this repository.
    pub fn resolve(sh: &Shell, rev: &str) -> Result<Revision> {
        let root = project::root();
        let spec = format!("{rev}^{{commit}}");
        let commit = cmd!(sh, "git -C {root} rev-parse --verify --quiet --end-of-options {spec}")
            .quiet()
            .ignore_stderr()
            .read()
            .ok()
            .filter(|c| c.len() == 40 && c.bytes().all(|b| b.is_ascii_hexdigit()))
            .with_context(|| {
                format!(
                    "--base {rev}: not a commit of this repository (a shallow clone may lack it: fetch it, \
                     e.g. `git fetch --deepen=50 origin` or check out with `fetch-depth: 0`)"
                )
            })?;
        let subject = cmd!(sh, "git -C {root} log -1 --format=%s {commit}").quiet().read()?;
        Ok(Revision { commit, subject })
    }

    pub fn short(&self) -> &str {
        &self.commit[..12]
    }

    pub fn side(&self, name: &str) -> RevisionSide {
        RevisionSide { name: name.into(), commit: self.commit.clone(), dirty: false, subject: self.subject.clone() }
    }
}

/// This working tree as the head side: its commit, and whether tracked
/// files differ from it (then the working tree is what was built).
pub fn head_side(sh: &Shell, name: &str) -> Result<RevisionSide> {
    let head = Revision::resolve(sh, "HEAD")?;
    let root = project::root();
    let status = cmd!(sh, "git -C {root} status --porcelain --untracked-files=no").quiet().read()?;
    Ok(RevisionSide { dirty: !status.trim().is_empty(), ..head.side(name) })
}

/// Where a revision's tree is exported to: the machine's cache, per commit
/// and per clone (its build links to the clone's shared directories).
pub fn source_dir(revision: &Revision) -> Result<PathBuf> {
    let clone = sha256_hex(project::root().as_os_str().as_encoded_bytes());
    Ok(project::cache_dir()?.join("revisions").join(format!("{}-{}", revision.commit, &clone[..12])))
}

/// The revision's output for `target`, relative to that target's directory:
/// where its artifacts' paths start.
pub fn output_prefix(revision: &Revision, target: &str) -> String {
    format!("revisions/{}/{target}", revision.short())
}

/// Exports `revision` (once: a commit's tree never changes) and runs its own
/// build of the pipeline file `pipeline` (the head's, read by the
/// revision's own pipeline reader and suite; paths in it stay relative to
/// it) for `target`; returns its manifest with every artifact's path
/// relative to this target's directory.
pub fn build(sh: &Shell, revision: &Revision, target: &str, pipeline: &Path, quiet: bool) -> Result<Manifest> {
    let src = source_dir(revision)?;
    fs::create_dir_all(src.parent().expect("below the cache"))?;
    // One export and build of a revision at a time (benches may run at once).
    let lock = File::create(src.with_extension("lock"))?;
    lock.lock().context("locking the revision's export")?;
    export(sh, revision, &src)?;
    share_builds(&src)?;
    let out = project::target_dir(target).join("revisions").join(revision.short());
    fs::create_dir_all(&out)?;
    let pipeline = std::path::absolute(pipeline)?;
    let xtask_target = project::root().join("target").join("revisions").join("xtask");
    if !quiet {
        eprintln!("building the base revision {} ({}) with its own build…", revision.short(), revision.subject);
    }
    let quiet_flag: &[&str] = if quiet { &["--quiet"] } else { &[] };
    let _dir = sh.push_dir(&src);
    let mut build = cmd!(
        sh,
        "cargo run --quiet --locked --target-dir {xtask_target} --package xtask -- build --pipeline {pipeline} --target {target} {quiet_flag...}"
    )
    .env("EDGEBENCH_OUT_DIR", &out)
    .quiet();
    for name in NOT_PASSED_ON {
        build = build.env_remove(name);
    }
    build.run().with_context(|| {
        format!(
            "the base revision {} could not build this pipeline for `{target}` (its own build, in {}); \
                 a base must know the pipeline's kernels, runtimes and keys, and the target",
            revision.short(),
            src.display()
        )
    })?;
    let path = out.join(target).join("manifest.json");
    let text = fs::read_to_string(&path)
        .with_context(|| format!("the base revision's build wrote no manifest ({})", path.display()))?;
    let mut manifest: Manifest = serde_json::from_str(&text).with_context(|| {
        format!(
            "{}: the base revision's manifest is not one this version reads (manifest schema {MANIFEST_SCHEMA}); \
             choose a newer base",
            path.display()
        )
    })?;
    if manifest.schema != MANIFEST_SCHEMA {
        bail!(
            "{}: the base revision writes manifest schema {}, this version reads {MANIFEST_SCHEMA}; choose a newer base",
            path.display(),
            manifest.schema
        );
    }
    let prefix = output_prefix(revision, target);
    for artifact in &mut manifest.artifacts {
        artifact.path = format!("{prefix}/{}", artifact.path);
    }
    Ok(manifest)
}

/// `git archive` of the commit into `dir`, unless done before (a marker
/// written last says the export finished).
fn export(sh: &Shell, revision: &Revision, dir: &Path) -> Result<()> {
    let done = dir.join(".edgebench-exported");
    if done.exists() {
        return Ok(());
    }
    if dir.exists() {
        fs::remove_dir_all(dir).with_context(|| format!("removing the unfinished export {}", dir.display()))?;
    }
    fs::create_dir_all(dir)?;
    let root = project::root();
    let commit = &revision.commit;
    let tar = dir.with_extension("tar");
    cmd!(sh, "git -C {root} archive --format=tar --output={tar} {commit}")
        .quiet()
        .run()
        .with_context(|| format!("exporting {commit} with git archive"))?;
    let extracted = cmd!(sh, "tar -xf {tar} -C {dir}").quiet().run();
    let _ = fs::remove_file(&tar);
    extracted.with_context(|| format!("unpacking {commit} into {}", dir.display()))?;
    fs::write(&done, commit)?;
    Ok(())
}

/// Points the revision's build directories for device programs and
/// toolchains at this tree's.
fn share_builds(src: &Path) -> Result<()> {
    let target = src.join("target");
    fs::create_dir_all(&target)?;
    for name in SHARED {
        let ours = project::root().join("target").join(name);
        fs::create_dir_all(&ours)?;
        let link = target.join(name);
        if fs::read_link(&link).is_ok_and(|to| to == ours) {
            continue;
        }
        if link.symlink_metadata().is_ok() {
            bail!("{} exists and is not a link to {}; remove it", link.display(), ours.display());
        }
        std::os::unix::fs::symlink(&ours, &link).with_context(|| format!("linking {}", link.display()))?;
    }
    Ok(())
}
