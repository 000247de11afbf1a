//! Root filesystems for container images, built on the host and shipped as
//! artifacts: the device imports them into its engine, so no registry is
//! ever needed (many device networks, and this project's CI, have none).

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};
use xshell::{Shell, cmd};

use crate::toolchain::apt::{self, Tool};
use crate::toolchain::arch::Arch;
use crate::toolchain::{binfmt, up_to_date};

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

/// Builds Debian bookworm minbase (the study ran its kernels in `debian`)
/// with mmdebstrap, unless the same inputs already built it. mmdebstrap
/// needs no root: without it, it works in a user namespace (`unshare` mode,
/// with the user's subordinate ids from /etc/subuid). With
/// `SOURCE_DATE_EPOCH` fixed, the same mirror gives the same tarball byte
/// for byte, as root or not.
///
/// For another architecture, its packages' maintainer scripts run under
/// qemu-user, which must be registered with binfmt_misc (as root, this
/// registers it).
pub fn debian_rootfs(sh: &Shell, target_arch: Arch, target_dir: &Path, quiet: bool) -> Result<String> {
    let arch = target_arch;
    if arch != Arch::host()? {
        binfmt::ensure(sh, arch).with_context(|| {
            format!("a Debian root filesystem for {arch} runs its packages' scripts under qemu-user")
        })?;
        apt::ensure(
            sh,
            &[Tool { command: "arch-test", package: "arch-test", why: "mmdebstrap for another architecture" }],
        )?;
    }
    let debian_arch = arch.debian();
    let mirror = mirror();
    let rel = debian_rootfs_path(arch);
    let out = target_dir.join(&rel);
    let inputs = rootfs_inputs(arch);
    if up_to_date::is_current(&out, &inputs) {
        return Ok(rel);
    }
    if let Err(why) = can_build_debian_rootfs(sh) {
        bail!("{why}");
    }
    if !quiet {
        eprintln!("building the Debian {DEBIAN_SUITE} minbase root filesystem with mmdebstrap ({mirror})…");
    }
    up_to_date::clear(&out);
    fs::create_dir_all(out.parent().expect("has a parent"))?;
    // mmdebstrap picks the format from the name: the partial file is a `.tar` too.
    let partial = out.with_file_name(format!(".partial-{DEBIAN_ROOTFS}-{arch}.tar"));
    // mmdebstrap leaves out apt's downloaded packages and index files: they
    // are not part of the system, only of how it was made.
    cmd!(sh, "mmdebstrap --quiet --variant=minbase --mode=auto --arch={debian_arch} {DEBIAN_SUITE} {partial} {mirror}")
        .env("SOURCE_DATE_EPOCH", SOURCE_DATE_EPOCH)
        .quiet()
        .ignore_stdout()
        .run()
        .context(
            "mmdebstrap failed (without root it needs the `uidmap` package and an entry for you in /etc/subuid)",
        )?;
    fs::rename(&partial, &out)?;
    up_to_date::record(&out, &inputs)?;
    Ok(rel)
}

/// Everything that determines the root filesystem.
fn rootfs_inputs(arch: Arch) -> String {
    format!(
        "mmdebstrap --variant=minbase --arch={} {DEBIAN_SUITE} {}; SOURCE_DATE_EPOCH={SOURCE_DATE_EPOCH}",
        arch.debian(),
        mirror()
    )
}

/// Whether the Debian root filesystem for `arch` is built and current in a
/// target directory.
pub fn debian_rootfs_is_current(target_dir: &Path, arch: Arch) -> bool {
    up_to_date::is_current(&target_dir.join(debian_rootfs_path(arch)), &rootfs_inputs(arch))
}

/// The time stamp every file of the root filesystem gets (2023-11-14), so
/// that it is reproducible.
const SOURCE_DATE_EPOCH: &str = "1700000000";

/// Whether this user can build the Debian root filesystem here, and if not,
/// why and what to do. Root installs what is missing; anyone else needs
/// mmdebstrap, and for its user namespace newuidmap and subordinate ids.
pub fn can_build_debian_rootfs(sh: &Shell) -> Result<(), String> {
    let tools = [
        Tool { command: "mmdebstrap", package: "mmdebstrap", why: "building the Debian image's root filesystem" },
        Tool { command: "newuidmap", package: "uidmap", why: "mmdebstrap's user namespace, without root" },
    ];
    if apt::is_root(sh) {
        return apt::ensure(sh, &tools[..1]).map_err(|e| format!("{e:#}"));
    }
    apt::ensure(sh, &tools).map_err(|e| format!("{e:#}"))?;
    let user = cmd!(sh, "id -un").quiet().read().unwrap_or_default();
    let listed = fs::read_to_string("/etc/subuid").is_ok_and(|t| t.lines().any(|l| l.split(':').next() == Some(&user)));
    if !listed {
        return Err(format!(
            "building the Debian image without root needs subordinate user ids for `{user}`: \
             `sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 {user}`"
        ));
    }
    Ok(())
}
