//! The two sides of a same-session A/B bench of two revisions of the
//! project (`bench --base REV`), each built by its own build.
//!
//! Both sides are built the same way, in the same place: the tree of a side
//! (the base commit, exported with `git archive`; the head, this working
//! tree's files as they are) is put at one fixed path in the machine's
//! cache, outside this clone (so no configuration of this tree applies to
//! it), and its own `cargo xtask build --pipeline P --target T` builds its
//! kernels, device programs and precompiled modules there, with its own
//! sources, flags, pins and Rust toolchain (its `rust-toolchain.toml`: the
//! toolchain this program was started with is not passed on). The same
//! path matters: rustc's output depends on it (crate metadata hashes the
//! absolute path of a dependency outside a workspace, and code generation
//! follows the symbols), and a program built from the same sources at
//! another path was measured 15–20 % slower to start here. Built at one
//! path, a program unchanged between the sides is the same file on both.
//!
//! Every file of a tree put there is as new as the putting, so Cargo, which
//! tells a crate's sources from another tree's at that path only by their
//! modification times, compiles each side's own crates from its own
//! sources; the engines' crates from crates.io are compiled once for both
//! (in `target/revisions/device`, first copied from this tree's
//! `target/device`). Each side's output goes below this target's directory
//! (`revisions/<side>-<commit>/`), so the device gets both sides' files in
//! one work directory and one plan runs them round by round.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use edgebench_model::digest::sha256_hex;
use edgebench_model::manifest::{MANIFEST_SCHEMA, Manifest};
use edgebench_model::plan::RevisionSide;
use xshell::{Shell, cmd};

use crate::project;

/// What this program's own start chose and a side's build must choose for
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
    let dirty = project::tracked_changes(sh).context("git could not say whether this tree has changes")?;
    Ok(RevisionSide { dirty, ..head.side(name) })
}

/// Which tree a side is built from.
pub enum Source<'a> {
    /// A commit, exported with `git archive`.
    Commit(&'a Revision),
    /// This working tree: its tracked files and the untracked ones git does
    /// not ignore, as they are now.
    WorkingTree,
}

/// The fixed path every side is built at, per clone (its builds use the
/// clone's directories).
pub fn tree_dir() -> Result<PathBuf> {
    let clone = sha256_hex(project::root().as_os_str().as_encoded_bytes());
    Ok(project::cache_dir()?.join("revisions").join(format!("tree-{}", &clone[..12])))
}

/// Builds the side `name` from `source` with its own build of the pipeline
/// file `pipeline` (the head's, read by the side's own pipeline reader and
/// suite; paths in it stay relative to it) for `target`; returns its
/// manifest with every artifact's path relative to this target's directory.
pub fn build(
    sh: &Shell,
    name: &str,
    source: Source<'_>,
    target: &str,
    pipeline: &Path,
    quiet: bool,
) -> Result<Manifest> {
    let tree = tree_dir()?;
    crate::project::make_dir(tree.parent().expect("below the cache"))?;
    // One side's build at a time in the one tree (benches may run at once).
    let lock = File::create(tree.with_extension("lock"))?;
    lock.lock().context("locking the tree the sides are built in")?;
    let (what, label) = match &source {
        Source::Commit(revision) => {
            (format!("{name}-{}", revision.short()), format!("{} ({})", revision.short(), revision.subject))
        }
        Source::WorkingTree => (format!("{name}-worktree"), "this working tree".to_string()),
    };
    put(sh, &source, &tree)?;
    link_build_dirs(&tree, quiet)?;
    // Kept from one bench to the next: its up-to-date stamps spare the
    // kernels and images of an unchanged side a rebuild.
    let out = project::target_dir(target).join("revisions").join(&what);
    crate::project::make_dir(&out)?;
    let pipeline = std::path::absolute(pipeline)?;
    let xtask_target = project::root().join("target").join("revisions").join("xtask");
    if !quiet {
        eprintln!("building the {name} side, {label}, with its own build…");
    }
    let quiet_flag: &[&str] = if quiet { &["--quiet"] } else { &[] };
    let _dir = sh.push_dir(&tree);
    let mut build = cmd!(
        sh,
        "cargo run --quiet --locked --target-dir {xtask_target} --package xtask -- build --pipeline {pipeline} --target {target} {quiet_flag...}"
    )
    .env("EDGEBENCH_OUT_DIR", &out)
    .quiet();
    for variable in NOT_PASSED_ON {
        build = build.env_remove(variable);
    }
    build.run().with_context(|| {
        format!(
            "the {name} side, {label}, could not build this pipeline for `{target}` (its own build, in {}); \
             a side must know the pipeline's kernels, runtimes and keys, and the target",
            tree.display()
        )
    })?;
    read_manifest(&out, target, &format!("revisions/{what}/{target}"))
}

/// The manifest a side's build wrote, its paths made relative to this
/// target's directory (`prefix` below it).
fn read_manifest(out: &Path, target: &str, prefix: &str) -> Result<Manifest> {
    let path = out.join(target).join("manifest.json");
    let text = fs::read_to_string(&path)
        .with_context(|| format!("the side's build wrote no manifest ({})", path.display()))?;
    let mut manifest: Manifest = serde_json::from_str(&text).with_context(|| {
        format!(
            "{}: the side's manifest is not one this version reads (manifest schema {MANIFEST_SCHEMA}); \
             choose a newer base",
            path.display()
        )
    })?;
    if manifest.schema != MANIFEST_SCHEMA {
        bail!(
            "{}: the side writes manifest schema {}, this version reads {MANIFEST_SCHEMA}; choose a newer base",
            path.display(),
            manifest.schema
        );
    }
    for artifact in &mut manifest.artifacts {
        artifact.path = format!("{prefix}/{}", artifact.path);
    }
    Ok(manifest)
}

/// Empties the tree (all but its `target/`) and puts the side's files there,
/// every one as new as now (`tar -m`).
fn put(sh: &Shell, source: &Source<'_>, tree: &Path) -> Result<()> {
    crate::project::make_dir(tree)?;
    for entry in fs::read_dir(tree)? {
        let entry = entry?;
        if entry.file_name() == "target" {
            continue;
        }
        let path = entry.path();
        let removed = if entry.file_type()?.is_dir() { fs::remove_dir_all(&path) } else { fs::remove_file(&path) };
        removed.with_context(|| format!("emptying {}", path.display()))?;
    }
    let root = project::root();
    let tar = tree.with_extension("tar");
    match source {
        Source::Commit(revision) => {
            let commit = &revision.commit;
            cmd!(sh, "git -C {root} archive --format=tar --output={tar} {commit}")
                .quiet()
                .run()
                .with_context(|| format!("exporting {commit} with git archive"))?;
        }
        Source::WorkingTree => {
            // Deleted files git still tracks are left out.
            let listed = cmd!(sh, "git -C {root} ls-files -z --cached --others --exclude-standard").quiet().read()?;
            let files: Vec<&str> = listed.split('\0').filter(|f| !f.is_empty() && root.join(f).exists()).collect();
            let list = tree.with_extension("files");
            fs::write(&list, files.join("\0"))?;
            let made = cmd!(sh, "tar -C {root} --null --files-from={list} -cf {tar}").quiet().run();
            let _ = fs::remove_file(&list);
            made.context("packing the working tree's files")?;
        }
    }
    let unpacked = cmd!(sh, "tar -xmf {tar} -C {tree}").quiet().run();
    let _ = fs::remove_file(&tar);
    unpacked.with_context(|| format!("unpacking into {}", tree.display()))
}

/// Points the tree's `target/toolchains` at this clone's, and its
/// `target/device` at the sides' own, made once as a copy of this clone's.
/// The sid-root builds stay in the tree's own `target/`: they see only it.
fn link_build_dirs(tree: &Path, quiet: bool) -> Result<()> {
    let ours = project::root().join("target");
    let device = ours.join("revisions").join("device");
    if !device.exists() && ours.join("device").exists() {
        if !quiet {
            eprintln!("copying the device programs' build for the sides (once)…");
        }
        let partial = device.with_extension("partial");
        let _ = fs::remove_dir_all(&partial);
        crate::project::make_dir(device.parent().expect("below target"))?;
        let (sh, from) = (Shell::new()?, ours.join("device"));
        cmd!(sh, "cp -a {from} {partial}").quiet().run().context("copying target/device")?;
        fs::rename(&partial, &device)?;
    }
    crate::project::make_dir(&device)?;
    crate::project::make_dir(ours.join("toolchains"))?;
    let theirs = tree.join("target");
    crate::project::make_dir(&theirs)?;
    for (name, to) in [("toolchains", ours.join("toolchains")), ("device", device)] {
        let link = theirs.join(name);
        if fs::read_link(&link).is_ok_and(|at| at == to) {
            continue;
        }
        if link.symlink_metadata().is_ok() {
            bail!("{} exists and is not a link to {}; remove it", link.display(), to.display());
        }
        std::os::unix::fs::symlink(&to, &link).with_context(|| format!("linking {}", link.display()))?;
    }
    Ok(())
}
