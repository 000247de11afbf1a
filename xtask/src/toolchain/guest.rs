//! The disk image, kernel and keys of an emulated aarch64 machine: Debian
//! bookworm arm64 with its own kernel, sshd and Docker engine, made with
//! debootstrap (the second stage runs under qemu-user through binfmt_misc).
//!
//! Made once per recipe and kept outside the clone, in a cache directory
//! keyed by the hash of everything that goes into it (suite, packages,
//! configuration files), so a new checkout on the same machine reuses it
//! and a changed recipe makes a new one. Debian does not build images
//! reproducibly (keys, timestamps), so the image's own sha256 is recorded
//! beside it and in the provenance of every snapshot made on it.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use xshell::{Shell, cmd};

use crate::toolchain::apt::{self, Tool};
use crate::toolchain::arch::Arch;
use crate::toolchain::{binfmt, images};

/// The Debian suite of the guest: a Pi 3 runs Raspberry Pi OS or Debian
/// bookworm today.
const SUITE: &str = "bookworm";
/// Besides minbase: an init, the kernel (and its modules), sshd, Docker
/// and what its systemd cgroup driver needs (dbus), and udev so that
/// systemd-networkd sees the network card.
const PACKAGES: &[&str] =
    &["systemd-sysv", "udev", "kmod", "dbus", "openssh-server", "docker.io", "iproute2", "procps", "linux-image-arm64"];
/// The image's size: sparse, so only what the root holds is on disk.
const IMAGE_BYTES: &str = "4G";
/// The file system label the kernel command line mounts as root.
pub const ROOT_LABEL: &str = "edgebench-root";
/// The name the guest's host key is known by, whatever port it is on.
pub const HOST_KEY_ALIAS: &str = "edgebench-guest";

/// Files written into the root: (path, mode, contents).
const FILES: &[(&str, u32, &str)] = &[
    ("etc/hostname", 0o644, "edgebench-guest\n"),
    ("etc/hosts", 0o644, "127.0.0.1 localhost\n127.0.1.1 edgebench-guest\n::1 localhost\n"),
    ("etc/fstab", 0o644, "LABEL=edgebench-root / ext4 defaults,noatime 0 1\n"),
    // DHCP from QEMU's user-mode network on any wired card.
    (
        "etc/systemd/network/50-dhcp.network",
        0o644,
        "[Match]\nName=en* eth*\n\n[Network]\nDHCP=ipv4\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n",
    ),
    ("etc/resolv.conf", 0o644, "nameserver 10.0.2.3\n"),
    // Root logs in by key only.
    (
        "etc/ssh/sshd_config.d/50-edgebench.conf",
        0o644,
        "PermitRootLogin prohibit-password\nPasswordAuthentication no\nUseDNS no\n",
    ),
    // Debian's unit does not restart sshd after a SIGTERM; a device under
    // test should come back whatever ended it (the resume test kills it).
    ("etc/systemd/system/ssh.service.d/restart.conf", 0o644, "[Service]\nRestart=always\nRestartSec=1\n"),
    // systemd's cgroup driver, Debian's default, named so that the guest
    // keeps it: the Docker executor must find the container's peak under
    // the driver most devices run (the host's engine has `cgroupfs`).
    (
        "etc/docker/daemon.json",
        0o644,
        "{ \"storage-driver\": \"overlay2\", \"log-driver\": \"local\", \"exec-opts\": [\"native.cgroupdriver=systemd\"] }\n",
    ),
    // A small initrd: the modules the virt machine's disk needs. Debian's
    // default (`most`) takes minutes to make under qemu-user.
    ("etc/initramfs-tools/conf.d/edgebench.conf", 0o644, "MODULES=list\n"),
    (
        "etc/initramfs-tools/hooks/edgebench-modules",
        0o755,
        "#!/bin/sh\ncase \"$1\" in prereqs) exit 0;; esac\n. /usr/share/initramfs-tools/hook-functions\n\
         for m in virtio_pci virtio_mmio virtio_blk virtio_net ext4 crc32c_generic; do manual_add_modules \"$m\"; done\n",
    ),
];
/// Units switched off (linked to /dev/null): waiting for the network, and
/// timers that would run during a bench.
const MASKED: &[&str] = &[
    "systemd-networkd-wait-online.service",
    "apt-daily.timer",
    "apt-daily-upgrade.timer",
    "e2scrub_all.timer",
    "fstrim.timer",
    "dpkg-db-backup.timer",
];
/// Units switched on.
const ENABLED: &[(&str, &str)] =
    &[("multi-user.target.wants", "systemd-networkd.service"), ("sockets.target.wants", "systemd-networkd.socket")];

/// What was made, as recorded in `guest.json` beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Guest {
    pub suite: String,
    pub arch: String,
    /// `uname -r` of the guest's kernel.
    pub kernel: String,
    /// sha256 of the disk image as made.
    pub image_sha256: String,
    pub image_bytes: u64,
    /// The recipe's hash: the cache key.
    pub recipe: String,
}

/// A made guest's files.
pub struct GuestFiles {
    pub dir: PathBuf,
    pub guest: Guest,
}

impl GuestFiles {
    pub fn image(&self) -> PathBuf {
        self.dir.join("root.img")
    }
    pub fn kernel(&self) -> PathBuf {
        self.dir.join("vmlinuz")
    }
    pub fn initrd(&self) -> PathBuf {
        self.dir.join("initrd.img")
    }
    /// The key root logs in with.
    pub fn client_key(&self) -> PathBuf {
        self.dir.join("id_ed25519")
    }
    /// A known_hosts line for [`HOST_KEY_ALIAS`].
    pub fn known_hosts(&self) -> PathBuf {
        self.dir.join("known_hosts")
    }
}

/// The hash of everything that goes into the image.
fn recipe(arch: Arch) -> String {
    let mut hash = Vec::new();
    for part in [SUITE, arch.as_str(), IMAGE_BYTES, ROOT_LABEL, &images::mirror()] {
        hash.extend([part.as_bytes(), &[0]].concat());
    }
    for p in PACKAGES.iter().chain(MASKED) {
        hash.extend([p.as_bytes(), &[0]].concat());
    }
    for (path, mode, text) in FILES {
        hash.extend([path.as_bytes(), &mode.to_le_bytes(), text.as_bytes(), &[0]].concat());
    }
    for (dir, unit) in ENABLED {
        hash.extend([dir.as_bytes(), &[0], unit.as_bytes(), &[0]].concat());
    }
    edgebench_model::digest::sha256_hex(&hash)
}

/// The guest for `arch`, made on first use (as root: debootstrap and
/// chroot; about 5 minutes on 2 cores).
pub fn ensure(sh: &Shell, arch: Arch, quiet: bool) -> Result<GuestFiles> {
    let recipe = recipe(arch);
    let dir = crate::project::cache_dir()?.join(format!("guest-{SUITE}-{arch}-{}", &recipe[..16]));
    if let Ok(text) = fs::read_to_string(dir.join("guest.json")) {
        let guest: Guest = serde_json::from_str(&text).with_context(|| format!("{}/guest.json", dir.display()))?;
        return Ok(GuestFiles { dir, guest });
    }
    if !apt::is_root(sh) {
        bail!(
            "the emulated machine's disk image is made once, as root (debootstrap and chroot); \
             run `sudo cargo xtask doctor --target <this target>` once"
        );
    }
    apt::ensure(sh, TOOLS)?;
    binfmt::ensure(sh, arch)?;
    crate::project::make_dir(dir.parent().expect("in the cache"))?;
    let partial = dir.with_extension("partial");
    if partial.exists() {
        fs::remove_dir_all(&partial).with_context(|| format!("removing {}", partial.display()))?;
    }
    crate::project::make_dir(&partial)?;
    if !quiet {
        eprintln!("making the emulated machine's disk image (Debian {SUITE} {arch}; once, about 5 minutes)…");
    }
    let guest = make(sh, arch, &partial, recipe)?;
    fs::write(partial.join("guest.json"), serde_json::to_vec_pretty(&guest)?)?;
    fs::rename(&partial, &dir)?;
    Ok(GuestFiles { dir, guest })
}

/// What making a guest needs on this machine (see also [`BOOT_TOOLS`]).
pub const TOOLS: &[Tool] = &[
    Tool { command: "debootstrap", package: "debootstrap", why: "the emulated machine's Debian root" },
    Tool { command: "mkfs.ext4", package: "e2fsprogs", why: "its disk image, without loop mounts" },
    Tool { command: "ssh-keygen", package: "openssh-client", why: "its keys" },
    Tool { command: "unshare", package: "util-linux", why: "private mounts while its root is made" },
];

/// What booting a made guest needs, checked on every boot.
pub const BOOT_TOOLS: &[Tool] = &[
    Tool { command: "qemu-system-aarch64", package: "qemu-system-arm", why: "booting it" },
    Tool { command: "qemu-img", package: "qemu-utils", why: "its copy-on-write disk" },
];

fn make(sh: &Shell, arch: Arch, out: &Path, recipe: String) -> Result<Guest> {
    let root = out.join("root");
    let mirror = images::mirror();
    let include = PACKAGES.join(",");
    let debian_arch = arch.debian();
    cmd!(
        sh,
        "debootstrap --arch={debian_arch} --variant=minbase --foreign --include={include} {SUITE} {root} {mirror}"
    )
    .quiet()
    .ignore_stdout()
    .run()
    .context("debootstrap (first stage) failed")?;
    // Before the second stage, so the kernel's postinst makes the small initrd.
    write_files(&root)?;
    // In a private mount namespace: the mounts debootstrap makes in the root
    // vanish with it, whatever happens.
    cmd!(sh, "unshare --mount --propagation private -- chroot {root} /debootstrap/debootstrap --second-stage")
        .quiet()
        .ignore_stdout()
        .run()
        .context("debootstrap (second stage, under qemu-user) failed")?;
    configure(&root)?;
    keys(sh, &root, out)?;

    let kernel = fs::read_dir(root.join("lib/modules"))?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .next()
        .context("no kernel modules in the guest's root")?;
    fs::copy(root.join(format!("boot/vmlinuz-{kernel}")), out.join("vmlinuz"))?;
    fs::copy(root.join(format!("boot/initrd.img-{kernel}")), out.join("initrd.img"))?;
    let format = "-f=${Package}\t${Version}\t${Architecture}\n";
    let packages =
        cmd!(sh, "chroot {root} dpkg-query -W {format}").quiet().read().context("listing the guest's packages")?;
    fs::write(out.join("packages.tsv"), packages + "\n")?;
    // QEMU passes the kernel and initrd; apt's lists and caches only take space.
    for dir in ["var/lib/apt/lists", "var/cache/apt/archives", "usr/share/doc", "usr/share/man"] {
        let _ = fs::remove_dir_all(root.join(dir));
    }

    let image = out.join("root.img");
    cmd!(sh, "truncate -s {IMAGE_BYTES} {image}").quiet().run()?;
    cmd!(sh, "mkfs.ext4 -q -F -L {ROOT_LABEL} -E root_owner=0:0 -d {root} {image}")
        .quiet()
        .run()
        .context("making the guest's ext4 image (mkfs.ext4 -d needs e2fsprogs 1.43 or later)")?;
    fs::remove_dir_all(&root)?;
    Ok(Guest {
        suite: SUITE.into(),
        arch: arch.to_string(),
        kernel,
        image_sha256: edgebench_model::digest::sha256_file(&image)?,
        image_bytes: fs::metadata(&image)?.len(),
        recipe,
    })
}

fn write_files(root: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    for (path, mode, text) in FILES {
        let file = root.join(path);
        crate::project::make_dir(file.parent().expect("a file in a directory"))?;
        fs::write(&file, text).with_context(|| format!("writing {}", file.display()))?;
        fs::set_permissions(&file, fs::Permissions::from_mode(*mode))?;
    }
    Ok(())
}

/// After the second stage: the files again (packages may have replaced
/// some), units, and no password for root.
fn configure(root: &Path) -> Result<()> {
    write_files(root)?;
    let systemd = root.join("etc/systemd/system");
    for unit in MASKED {
        let link = systemd.join(unit);
        let _ = fs::remove_file(&link);
        std::os::unix::fs::symlink("/dev/null", &link).with_context(|| format!("linking {}", link.display()))?;
    }
    for (dir, unit) in ENABLED {
        crate::project::make_dir(systemd.join(dir))?;
        let link = systemd.join(dir).join(unit);
        let _ = fs::remove_file(&link);
        std::os::unix::fs::symlink(format!("/lib/systemd/system/{unit}"), &link)
            .with_context(|| format!("linking {}", link.display()))?;
    }
    Ok(())
}

/// A key pair root logs in with, and the guest's host key, made here so
/// that known_hosts is written before the first boot.
fn keys(sh: &Shell, root: &Path, out: &Path) -> Result<()> {
    let client = out.join("id_ed25519");
    cmd!(sh, "ssh-keygen -q -t ed25519 -N '' -C edgebench -f {client}").quiet().run()?;
    let ssh_dir = root.join("root/.ssh");
    crate::project::make_dir(&ssh_dir)?;
    fs::copy(client.with_extension("pub"), ssh_dir.join("authorized_keys"))?;
    for entry in fs::read_dir(root.join("etc/ssh"))?.flatten() {
        if entry.file_name().to_string_lossy().starts_with("ssh_host_") {
            fs::remove_file(entry.path())?;
        }
    }
    let host_key = root.join("etc/ssh/ssh_host_ed25519_key");
    cmd!(sh, "ssh-keygen -q -t ed25519 -N '' -C root@edgebench-guest -f {host_key}").quiet().run()?;
    let public = fs::read_to_string(host_key.with_extension("pub"))?;
    let mut fields = public.split_whitespace();
    let (kind, key) = (fields.next().unwrap_or_default(), fields.next().unwrap_or_default());
    fs::write(out.join("known_hosts"), format!("{HOST_KEY_ALIAS} {kind} {key}\n"))?;
    Ok(())
}
