//! Targets: where a bench runs. `local` is this machine; others are named in
//! `pipelines/targets.yaml`.

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use serde::Deserialize;

use crate::planning::suggestions;
use crate::planning::yaml;
use crate::project;
use crate::toolchain::arch::Arch;

pub const LOCAL: &str = "local";

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetEntry {
    arch: Arch,
    #[serde(default)]
    ssh: Option<String>,
    #[serde(default)]
    workdir: Option<String>,
    /// An ssh_config file to use instead of `~/.ssh/config`, relative to
    /// the targets file.
    #[serde(default)]
    ssh_config: Option<String>,
    /// For a local target of another architecture: the user-mode emulator
    /// that runs its programs (e.g. `qemu-aarch64-static`).
    #[serde(default)]
    emulator: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetsFile {
    targets: BTreeMap<String, TargetEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub name: String,
    pub arch: Arch,
    pub access: Access,
    /// Runs the target's programs on this machine (an emulated target).
    pub emulator: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// This machine; the work directory is below `target/edgebench/<name>/`.
    Local,
    /// A device reached with the system OpenSSH client.
    Ssh {
        destination: String,
        /// On the device; relative paths are below the login's home.
        workdir: String,
        config: Option<std::path::PathBuf>,
    },
}

/// The targets file: `pipelines/targets.yaml`, or `EDGEBENCH_TARGETS`.
pub fn targets_file() -> std::path::PathBuf {
    match std::env::var_os("EDGEBENCH_TARGETS") {
        Some(path) if !path.is_empty() => std::path::PathBuf::from(path),
        _ => project::pipelines_dir().join("targets.yaml"),
    }
}

impl Target {
    /// What runs the target's programs on this machine: nothing for this
    /// machine's architecture, else the target's emulator or qemu-user.
    pub fn emulator_on_host(&self) -> Result<Option<String>> {
        if self.arch == Arch::host()? {
            return Ok(None);
        }
        Ok(Some(self.emulator.clone().unwrap_or_else(|| self.arch.qemu_user().to_string())))
    }
}

pub fn resolve(name: &str) -> Result<Target> {
    if name == LOCAL {
        return Ok(Target { name: LOCAL.into(), arch: Arch::host()?, access: Access::Local, emulator: None });
    }
    let path = targets_file();
    let file: TargetsFile = yaml::read(&path)?;
    let Some(entry) = file.targets.get(name) else {
        let names = std::iter::once(LOCAL).chain(file.targets.keys().map(String::as_str));
        bail!("{} (targets are defined in {})", suggestions::unknown("target", name, names), path.display());
    };
    let access = match (&entry.ssh, &entry.workdir) {
        (Some(destination), Some(workdir)) => Access::Ssh {
            destination: destination.clone(),
            workdir: workdir.clone(),
            config: entry.ssh_config.as_ref().map(|c| path.parent().unwrap_or(std::path::Path::new(".")).join(c)),
        },
        (Some(_), None) => bail!("{}: target `{name}` needs a `workdir` on the device", path.display()),
        (None, Some(_)) => bail!(
            "{}: target `{name}` has a `workdir` but no `ssh`; a local target's work directory is target/edgebench/{name}",
            path.display()
        ),
        (None, None) => Access::Local,
    };
    if entry.ssh_config.is_some() && entry.ssh.is_none() {
        bail!("{}: target `{name}` has an `ssh_config` but no `ssh`", path.display());
    }
    if entry.emulator.is_some() && entry.ssh.is_some() {
        bail!("{}: target `{name}` has both `ssh` and `emulator`; an emulated target is local", path.display());
    }
    Ok(Target { name: name.into(), arch: entry.arch, access, emulator: entry.emulator.clone() })
}
