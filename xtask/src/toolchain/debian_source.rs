//! A workload's sources from a Debian source package: the `.dsc` fetched
//! from the archive's pool and checked against the sha256 its pipeline
//! pins, every file it lists checked against the sha256 it gives,
//! unpacked by `dpkg-source` (which applies Debian's patches), then the
//! pipeline's `prepare` commands run in the tree. No root, no apt
//! configuration: curl is the download client and the pinned hash the
//! trust anchor. The prepared tree is kept below `target/sources/`, keyed
//! by everything that made it.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use edgebench_model::digest::{sha256_file, sha256_hex};
use edgebench_model::workload::DebianSource;
use xshell::{Shell, cmd};

use crate::project;
use crate::toolchain::{apt, printed, up_to_date};

/// The archive the pool is read from, unless `EDGEBENCH_DEBIAN_MIRROR`
/// names another (a mirror or a snapshot.debian.org archive).
const DEFAULT_MIRROR: &str = "http://deb.debian.org/debian";

/// What fetching and unpacking need on the host, and why.
pub const TOOLS: [(&str, &str); 2] = [
    ("curl", "curl downloads Debian source packages; install it"),
    (
        "dpkg-source",
        "dpkg-source unpacks Debian source packages; install it (`apt-get install dpkg-dev` on Debian and Ubuntu)",
    ),
];

/// Marks a tree whose `prepare` finished; holds the key of what made it.
const PREPARED_STAMP: &str = ".edgebench-prepared";

/// Where the prepared tree of `source` is: the same path on every build,
/// so that a workload's compile jobs can name it before it is made.
pub fn tree(source: &DebianSource) -> PathBuf {
    let version = source.version.replace(':', "_");
    project::root().join("target").join("sources").join(format!(
        "{}_{version}-{}",
        source.package,
        &source.dsc_sha256[..12]
    ))
}

/// The key of a prepared tree: the package as pinned and its commands.
fn key(source: &DebianSource) -> String {
    sha256_hex(serde_json::to_string(source).expect("a source package serialises").as_bytes())
}

/// Returns the prepared tree of `source`, fetching, checking, unpacking and
/// preparing it first if that has not been done.
pub fn ensure(sh: &Shell, source: &DebianSource, quiet: bool) -> Result<PathBuf> {
    let tree = tree(source);
    let key = key(source);
    let sources = tree.parent().expect("the tree is below target/sources");
    project::make_dir(sources)?;
    // Builds for two targets may want the same package at once.
    let lock = fs::File::create(up_to_date::with_suffix(&tree, ".lock"))?;
    lock.lock().context("locking the source package's tree")?;
    if fs::read_to_string(tree.join(PREPARED_STAMP)).is_ok_and(|k| k == key) {
        return Ok(tree);
    }
    let what = format!("Debian source package {} {}", source.package, source.version);
    if !quiet {
        eprintln!("fetching and preparing {what}");
    }
    for (tool, why) in TOOLS {
        if !apt::has(sh, tool) {
            bail!("{why}");
        }
    }
    let downloads = sources.join("downloads");
    project::make_dir(&downloads)?;
    let mirror = std::env::var("EDGEBENCH_DEBIAN_MIRROR").ok().filter(|m| !m.is_empty());
    let mirror = mirror.as_deref().unwrap_or(DEFAULT_MIRROR).trim_end_matches('/');
    let pool = format!("{mirror}/{}", source.pool_dir());

    let dsc_name = source.dsc_name();
    let dsc = fetch(sh, &pool, &downloads, &dsc_name, &source.dsc_sha256, "its pipeline pins")?;
    let text = fs::read_to_string(&dsc).with_context(|| format!("reading {}", dsc.display()))?;
    let files = listed_files(&text).with_context(|| format!("reading the file list of {dsc_name}"))?;
    for (name, sha256) in &files {
        fetch(sh, &pool, &downloads, name, sha256, &format!("{dsc_name} lists"))?;
    }

    let staging = up_to_date::with_suffix(&tree, ".partial");
    for old in [&staging, &tree] {
        if old.exists() {
            fs::remove_dir_all(old).with_context(|| format!("removing {}", old.display()))?;
        }
    }
    let unpacked = cmd!(sh, "dpkg-source --no-copy -x {dsc} {staging}").quiet().ignore_status().output()?;
    if !unpacked.status.success() {
        bail!("dpkg-source could not unpack {dsc_name} ({}):\n{}", unpacked.status, printed(&unpacked));
    }
    for (i, argv) in source.prepare.iter().enumerate() {
        let (program, args) = argv.split_first().context("a prepare command is empty")?;
        let _dir = sh.push_dir(&staging);
        let command = cmd!(sh, "{program} {args...}").quiet().ignore_status();
        let shown = command.to_string();
        let output =
            command.output().with_context(|| format!("running prepare command {} of {what}: {shown}", i + 1))?;
        if !output.status.success() {
            bail!(
                "prepare command {} of {what} failed ({}), in {}:\n$ {shown}\n{}",
                i + 1,
                output.status,
                staging.display(),
                printed(&output)
            );
        }
    }
    fs::write(staging.join(PREPARED_STAMP), &key)?;
    fs::rename(&staging, &tree).with_context(|| format!("moving {} to {}", staging.display(), tree.display()))?;
    Ok(tree)
}

/// `name` from `pool` into `downloads`, unless it is there with `sha256`;
/// a file with any other hash is removed and refused.
fn fetch(sh: &Shell, pool: &str, downloads: &Path, name: &str, sha256: &str, pinned_by: &str) -> Result<PathBuf> {
    let path = downloads.join(name);
    if sha256_file(&path).is_ok_and(|actual| actual == sha256) {
        return Ok(path);
    }
    let partial = up_to_date::with_suffix(&path, ".partial");
    let url = format!("{pool}/{name}");
    let got = cmd!(sh, "curl --fail --silent --show-error --location --retry 3 --output {partial} {url}")
        .quiet()
        .ignore_status()
        .output()?;
    if !got.status.success() {
        let _ = fs::remove_file(&partial);
        bail!(
            "downloading {url} failed ({}): {}\nIs the archive reachable? EDGEBENCH_DEBIAN_MIRROR names another \
             (a mirror, or https://snapshot.debian.org/archive/debian/<date> for a version the archive dropped)",
            got.status,
            printed(&got).trim()
        );
    }
    let actual = sha256_file(&partial)?;
    if actual != sha256 {
        let _ = fs::remove_file(&partial);
        bail!("{url} has sha256 {actual}, but {pinned_by} {sha256}; the download was removed, refusing to use it");
    }
    fs::rename(&partial, &path)?;
    Ok(path)
}

/// `(file name, sha256)` of every file a `.dsc` lists in its
/// `Checksums-Sha256` field.
fn listed_files(dsc: &str) -> Result<Vec<(String, String)>> {
    let mut files = Vec::new();
    let mut inside = false;
    for line in dsc.lines() {
        if line.starts_with("Checksums-Sha256:") {
            inside = true;
            continue;
        }
        if !inside {
            continue;
        }
        // A field's continuation lines start with a space; anything else ends it.
        let Some(entry) = line.strip_prefix(' ') else { break };
        let parts: Vec<&str> = entry.split_whitespace().collect();
        let [sha256, _size, name] = parts[..] else { bail!("a malformed Checksums-Sha256 line: `{line}`") };
        let sane_hash = sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit());
        // A name is a file in the pool's folder, never a path.
        let sane_name = !name.is_empty() && !name.contains('/') && name != "..";
        if !sane_hash || !sane_name {
            bail!("a malformed Checksums-Sha256 line: `{line}`");
        }
        files.push((name.to_string(), sha256.to_ascii_lowercase()));
    }
    if files.is_empty() {
        bail!("it has no Checksums-Sha256 field");
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DSC: &str = "Format: 3.0 (quilt)\nSource: sqlite3\nChecksums-Sha1:\n \
        0123 5865720 sqlite3_3.40.1.orig-www.tar.xz\nChecksums-Sha256:\n \
        a5e95a18d1b59729278860559ded78751b9163ffb5bb906c5cd24c015f71d5fd 5865720 sqlite3_3.40.1.orig-www.tar.xz\n \
        0843bc12e4364076477935ce313a6d0796fd899a989ff18ebb6545540e10e4ca 34260 sqlite3_3.40.1-2+deb12u2.debian.tar.xz\n\
        Files:\n 1234 34260 sqlite3_3.40.1-2+deb12u2.debian.tar.xz\n";

    #[test]
    fn a_dsc_lists_its_files_by_sha256() {
        let files = listed_files(DSC).unwrap();
        assert_eq!(files.len(), 2);
        assert_eq!(files[0].0, "sqlite3_3.40.1.orig-www.tar.xz");
        assert_eq!(
            files[1],
            (
                "sqlite3_3.40.1-2+deb12u2.debian.tar.xz".to_string(),
                "0843bc12e4364076477935ce313a6d0796fd899a989ff18ebb6545540e10e4ca".to_string()
            )
        );
    }

    #[test]
    fn a_dsc_naming_a_path_or_a_bad_hash_is_refused() {
        let escaping = DSC.replace(" 5865720 sqlite3_3.40.1.orig-www.tar.xz\n 0843", " 5865720 ../../x\n 0843");
        assert!(listed_files(&escaping).unwrap_err().to_string().contains("malformed"));
        let short = DSC.replace("a5e95a18d1b5", "a5e9");
        assert!(listed_files(&short).unwrap_err().to_string().contains("malformed"));
        assert!(listed_files("Format: 3.0\n").unwrap_err().to_string().contains("no Checksums-Sha256"));
    }
}
