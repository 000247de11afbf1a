//! Root filesystems for container images, built on the host and shipped as
//! artifacts: the device imports them into its engine, so no registry is
//! ever needed (many device networks, and this project's CI, have none).

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};
use xshell::{Shell, cmd};

use crate::toolchain::apt::{self, Tool};
use crate::toolchain::arch::Arch;
use crate::toolchain::up_to_date;

pub const DEBIAN_SUITE: &str = "bookworm";
pub const DEBIAN_ROOTFS: &str = "debian-bookworm-minbase";
const DEFAULT_MIRROR: &str = "http://deb.debian.org/debian";

/// The Debian mirror debootstrap uses: `EDGEBENCH_DEBIAN_MIRROR`, or
/// deb.debian.org.
pub fn mirror() -> String {
    std::env::var("EDGEBENCH_DEBIAN_MIRROR").unwrap_or_else(|_| DEFAULT_MIRROR.into())
}

/// Relative path of the Debian root filesystem tarball in a target directory.
pub fn debian_rootfs_path(arch: Arch) -> String {
    format!("images/{DEBIAN_ROOTFS}-{arch}.tar")
}

/// Builds Debian bookworm minbase with debootstrap (the study ran its
/// kernels in `debian`), unless the same inputs already built it. The
/// tarball is not byte-reproducible (debootstrap writes dates); its hash in
/// the manifest names exactly what ran.
pub fn debian_rootfs(sh: &Shell, target_arch: Arch, target_dir: &Path, quiet: bool) -> Result<String> {
    let arch = Arch::host()?;
    if target_arch != arch {
        bail!(
            "building a Debian root filesystem for {} on this {arch} host is not supported yet \
             (it needs debootstrap --foreign and a second stage under qemu)",
            target_arch
        );
    }
    let debian_arch = match arch {
        Arch::X86_64 => "amd64",
        Arch::Aarch64 => "arm64",
    };
    let mirror = mirror();
    let rel = debian_rootfs_path(arch);
    let out = target_dir.join(&rel);
    let inputs = format!("debootstrap --variant=minbase --arch={debian_arch} {DEBIAN_SUITE} {mirror}; no apt caches");
    if up_to_date::is_current(&out, &inputs) {
        return Ok(rel);
    }
    if !apt::is_root(sh) {
        bail!(
            "building the Debian image's root filesystem needs root (debootstrap); run as root or use the `scratch` variant"
        );
    }
    apt::ensure(
        sh,
        &[Tool { command: "debootstrap", package: "debootstrap", why: "building the Debian image's root filesystem" }],
    )?;
    if !quiet {
        eprintln!("building the Debian {DEBIAN_SUITE} minbase root filesystem with debootstrap ({mirror})…");
    }
    up_to_date::clear(&out);
    let staging = target_dir.join("images/debian-root.partial");
    if staging.exists() {
        fs::remove_dir_all(&staging)?;
    }
    fs::create_dir_all(&staging)?;
    cmd!(sh, "debootstrap --variant=minbase --arch={debian_arch} {DEBIAN_SUITE} {staging} {mirror}")
        .quiet()
        .ignore_stdout()
        .run()
        .context("debootstrap failed")?;
    let partial = up_to_date::with_suffix(&out, ".partial");
    // Without the downloaded packages and index files: they are not part of
    // the system, only of how it was made.
    cmd!(
        sh,
        "tar --numeric-owner --exclude=./var/cache/apt/archives/*.deb --exclude=./var/lib/apt/lists/* -C {staging} -cf {partial} ."
    )
    .run()
    .context("packing the root filesystem")?;
    fs::remove_dir_all(&staging)?;
    fs::rename(&partial, &out)?;
    up_to_date::record(&out, &inputs)?;
    Ok(rel)
}
