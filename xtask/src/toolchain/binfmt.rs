//! An emulated target runs another architecture's programs on this machine.
//! The harness starts its children (a launcher, kernels, executors) with
//! plain `exec`, so qemu-user must be registered with the kernel's
//! binfmt_misc for that architecture — with the fix-binary flag, so it also
//! works inside containers and chroots. Debian's qemu-user-static describes
//! the registration in `/usr/share/binfmts/qemu-<arch>`; as root, we apply
//! it when it is missing.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};
use xshell::{Shell, cmd};

use crate::toolchain::apt::Tool;
use crate::toolchain::arch::Arch;

const BINFMT_DIR: &str = "/proc/sys/fs/binfmt_misc";

/// Whether `arch`'s binaries run here through binfmt_misc: `Ok` with what
/// runs them, `Err` with why not.
pub fn status(arch: Arch) -> Result<String, String> {
    let entry = Path::new(BINFMT_DIR).join(format!("qemu-{arch}"));
    let text = fs::read_to_string(&entry).map_err(|_| format!("qemu-user is not registered for {arch} binaries"))?;
    if text.lines().next() != Some("enabled") {
        return Err(format!("{} is registered but disabled", entry.display()));
    }
    let interpreter = text.lines().find_map(|l| l.strip_prefix("interpreter ")).unwrap_or("?");
    let flags = text.lines().find_map(|l| l.strip_prefix("flags: ")).unwrap_or("");
    if !flags.contains('F') {
        return Err(format!("{} lacks the fix-binary (F) flag", entry.display()));
    }
    Ok(format!("{interpreter} (flags {flags})"))
}

/// Registers qemu-user for `arch` unless it is; needs root then (and, as
/// root on Debian, installs qemu-user-static when it is missing).
pub fn ensure(sh: &Shell, arch: Arch) -> Result<()> {
    if status(arch).is_ok() {
        return Ok(());
    }
    if !crate::toolchain::apt::is_root(sh) {
        bail!(
            "{arch} binaries do not run on this machine: qemu-user is not registered with binfmt_misc. \
             On Debian: `sudo apt-get install qemu-user-static binfmt-support` registers it (with the fix-binary flag), \
             or run edgebench as root and it registers it itself"
        );
    }
    crate::toolchain::apt::ensure(
        sh,
        &[Tool { command: arch.qemu_user(), package: "qemu-user-static", why: "runs the emulated target's programs" }],
    )?;
    let description = Path::new("/usr/share/binfmts").join(format!("qemu-{arch}"));
    if !description.is_file() {
        bail!(
            "{arch} binaries do not run on this machine, and {} (from qemu-user-static) is missing to register them",
            description.display()
        );
    }
    if !Path::new(BINFMT_DIR).join("register").exists() {
        cmd!(sh, "mount -t binfmt_misc binfmt_misc {BINFMT_DIR}").quiet().run().context("mounting binfmt_misc")?;
    }
    let text = fs::read_to_string(&description)?;
    let field = |key: &str| text.lines().find_map(|l| l.strip_prefix(key).map(|v| v.trim().to_string()));
    let (Some(magic), Some(mask), Some(interpreter)) = (field("magic "), field("mask "), field("interpreter ")) else {
        bail!("{}: no magic, mask or interpreter", description.display());
    };
    let offset = field("offset ").unwrap_or_else(|| "0".into());
    let mut flags = String::from("F");
    if field("preserve ").as_deref() == Some("yes") {
        flags.push('P');
    }
    if field("credentials ").as_deref() == Some("yes") {
        flags.push('C');
    }
    let line = format!(":qemu-{arch}:M:{offset}:{magic}:{mask}:{interpreter}:{flags}");
    fs::write(Path::new(BINFMT_DIR).join("register"), line)
        .with_context(|| format!("registering qemu-user for {arch} with binfmt_misc"))?;
    status(arch).map(drop).map_err(anyhow::Error::msg)
}
