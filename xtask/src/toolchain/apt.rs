//! System tools from Debian packages: checked, and installed with apt-get
//! when running as root on Debian (a fresh CI machine, a fresh device);
//! otherwise the error says exactly what to install.

use anyhow::{Result, bail};
use xshell::{Shell, cmd};

/// A command, the Debian package that provides it, and what it is for.
#[derive(Clone, Copy)]
pub struct Tool {
    pub command: &'static str,
    pub package: &'static str,
    pub why: &'static str,
}

pub fn has(sh: &Shell, command: &str) -> bool {
    cmd!(sh, "sh -c 'command -v \"$0\"' {command}").quiet().ignore_stdout().ignore_stderr().run().is_ok()
}

/// Whether we run as root (and may install packages, mount, chroot).
pub fn is_root(sh: &Shell) -> bool {
    cmd!(sh, "id -u").quiet().read().map(|u| u.trim() == "0").unwrap_or(false)
}

/// The cargo that runs us (`CARGO`), else the one on PATH.
pub fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

pub fn ensure(sh: &Shell, tools: &[Tool]) -> Result<()> {
    let missing: Vec<&Tool> = tools.iter().filter(|t| !has(sh, t.command)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let packages: Vec<&str> = missing.iter().map(|t| t.package).collect();
    if is_root(sh) && has(sh, "apt-get") {
        cmd!(sh, "apt-get update -qq").run()?;
        // Installing one package can remove another of the list: Debian
        // 12's qemu-system-arm removes a newer qemu-utils from backports.
        // So the whole list is checked again, and what went is installed
        // once more, from the same release.
        let mut wanted = missing;
        for round in ["", " again"] {
            let packages: Vec<&str> = wanted.iter().map(|t| t.package).collect();
            eprintln!("installing Debian packages{round}: {}", packages.join(" "));
            cmd!(sh, "apt-get install -y -qq --no-install-recommends {packages...}")
                .env("DEBIAN_FRONTEND", "noninteractive")
                .run()?;
            wanted = tools.iter().filter(|t| !has(sh, t.command)).collect();
            if wanted.is_empty() {
                return Ok(());
            }
        }
        let still: Vec<&str> = wanted.iter().map(|t| t.command).collect();
        bail!("still missing after installing: {}", still.join(", "));
    }
    let lines: Vec<String> =
        missing.iter().map(|t| format!("  {} (Debian package {}): {}", t.command, t.package, t.why)).collect();
    bail!(
        "this needs tools the machine lacks:\n{}\ninstall them with: sudo apt-get install {}",
        lines.join("\n"),
        packages.join(" ")
    )
}
