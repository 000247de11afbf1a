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
    crate::project::make_dir(out.parent().expect("has a parent"))?;
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
            "mmdebstrap failed (without root it needs the `uidmap` package, an entry for you in /etc/subuid and \
             an unprivileged user namespace)",
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
    // mmdebstrap's unshare mode needs an unprivileged user namespace, which
    // some hosts refuse (Ubuntu 24.04 through AppArmor, GitHub's runners).
    let probe = cmd!(sh, "unshare --user --map-root-user true").quiet().ignore_stdout().ignore_status().output();
    match probe {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(user_namespaces_refused(&String::from_utf8_lossy(&out.stderr), &Sysctls::read())),
        Err(e) => Err(user_namespaces_refused(&e.to_string(), &Sysctls::read())),
    }
}

/// The settings that decide whether an ordinary user may make a user
/// namespace; each `None` where this kernel has no such setting.
#[derive(Debug, Default, PartialEq)]
struct Sysctls {
    /// `kernel.apparmor_restrict_unprivileged_userns` (Ubuntu 23.10 on).
    apparmor_restrict: Option<u64>,
    /// `kernel.unprivileged_userns_clone` (Debian's kernels before 5.10).
    userns_clone: Option<u64>,
    /// `user.max_user_namespaces`.
    max_user_namespaces: Option<u64>,
}

impl Sysctls {
    fn read() -> Sysctls {
        let value = |path: &str| fs::read_to_string(path).ok().and_then(|t| t.trim().parse().ok());
        Sysctls {
            apparmor_restrict: value("/proc/sys/kernel/apparmor_restrict_unprivileged_userns"),
            userns_clone: value("/proc/sys/kernel/unprivileged_userns_clone"),
            max_user_namespaces: value("/proc/sys/user/max_user_namespaces"),
        }
    }
}

/// Why this user cannot make a user namespace, and what to do about it.
fn user_namespaces_refused(error: &str, sysctls: &Sysctls) -> String {
    let error = error.trim();
    let cause = if sysctls.apparmor_restrict == Some(1) {
        "this host restricts unprivileged user namespaces through AppArmor \
         (kernel.apparmor_restrict_unprivileged_userns = 1, the default of Ubuntu 23.10 and later and of GitHub's \
         ubuntu-24.04 runners). Allow them for this boot with \
         `sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0` (a file in /etc/sysctl.d/ keeps it), \
         or give mmdebstrap an AppArmor profile that allows `userns`"
    } else if sysctls.userns_clone == Some(0) {
        "this kernel refuses unprivileged user namespaces (kernel.unprivileged_userns_clone = 0); allow them with \
         `sudo sysctl -w kernel.unprivileged_userns_clone=1`"
    } else if sysctls.max_user_namespaces == Some(0) {
        "user namespaces are switched off here (user.max_user_namespaces = 0); allow them with \
         `sudo sysctl -w user.max_user_namespaces=15000`"
    } else {
        "this host refuses them (a container's seccomp profile, a security module, or no namespaces left \
         in user.max_user_namespaces)"
    };
    format!(
        "building the Debian image without root needs an unprivileged user namespace, and `unshare --user` failed{}: \
         {cause}; or build the image once as root: `sudo cargo xtask build --debian-rootfs`",
        if error.is_empty() { String::new() } else { format!(" ({error})") }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_user_namespace_names_the_setting_and_what_to_do() {
        let ubuntu = Sysctls { apparmor_restrict: Some(1), max_user_namespaces: Some(63000), ..Default::default() };
        let why =
            user_namespaces_refused("unshare: write failed /proc/self/uid_map: Operation not permitted\n", &ubuntu);
        assert!(why.contains("through AppArmor") && why.contains("apparmor_restrict_unprivileged_userns=0"), "{why}");
        assert!(why.contains("(unshare: write failed /proc/self/uid_map: Operation not permitted)"), "{why}");
        assert!(why.contains("sudo cargo xtask build --debian-rootfs"), "{why}");
        let off = Sysctls { max_user_namespaces: Some(0), ..Default::default() };
        assert!(user_namespaces_refused("", &off).contains("user.max_user_namespaces = 0"));
        let old_debian = Sysctls { userns_clone: Some(0), ..Default::default() };
        assert!(user_namespaces_refused("", &old_debian).contains("unprivileged_userns_clone=1"));
        let other = user_namespaces_refused("unshare: unshare failed: No space left on device", &Sysctls::default());
        assert!(other.contains("no namespaces left") && other.contains("No space left on device"), "{other}");
    }
}
