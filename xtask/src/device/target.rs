//! Targets: where a bench runs. `local` is this machine; others are named in
//! `pipelines/targets.yaml`.

use std::collections::HashMap;

use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use serde_saphyr::{Location, Spanned};

use crate::device::machine::{self, MachineSpec};
use crate::planning::suggestions;
use crate::planning::{pipeline, yaml};
use crate::project;
use crate::toolchain::arch::Arch;

pub const LOCAL: &str = "local";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetEntry {
    arch: Arch,
    #[serde(default)]
    ssh: Option<Spanned<String>>,
    #[serde(default)]
    workdir: Option<Spanned<String>>,
    /// An ssh_config file to use instead of `~/.ssh/config`, relative to
    /// the targets file.
    #[serde(default)]
    ssh_config: Option<Spanned<String>>,
    /// For a local target of another architecture: the user-mode emulator
    /// that runs its programs (e.g. `qemu-aarch64-static`).
    #[serde(default)]
    emulator: Option<Spanned<String>>,
    /// A whole machine edgebench boots with QEMU (see [`machine`]).
    /// `machine: ~` is refused, not read as no machine.
    #[serde(default, deserialize_with = "present")]
    machine: Option<Spanned<MachineSpec>>,
}

/// A key that is there must have a value: YAML's `~` (null) is refused
/// rather than taken for the key's absence.
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// The QEMU CPU models an emulated `machine` may name: the 64-bit Arm
/// cores of the boards edgebench stands in for, and QEMU's `max`.
const MACHINE_CPUS: [&str; 6] = ["cortex-a53", "cortex-a57", "cortex-a72", "cortex-a76", "neoverse-n1", "max"];
/// The most memory an emulated machine may have, MiB: a Raspberry Pi has at
/// most 16 GiB, and more would only be taken from this machine.
const MACHINE_MAX_MEMORY_MIB: u32 = 16 * 1024;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetsFile {
    targets: HashMap<Spanned<String>, TargetEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub name: String,
    pub arch: Arch,
    pub access: Access,
    /// Runs the target's programs on this machine (an emulated target).
    pub emulator: Option<String>,
    /// A machine edgebench boots for the bench and reaches over SSH.
    pub machine: Option<MachineSpec>,
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

/// The environment variable that names another targets file.
pub const TARGETS_ENV: &str = "EDGEBENCH_TARGETS";

/// The targets file: `pipelines/targets.yaml`, or `EDGEBENCH_TARGETS`.
pub fn targets_file() -> std::path::PathBuf {
    match std::env::var_os(TARGETS_ENV) {
        Some(path) if !path.is_empty() => std::path::PathBuf::from(path),
        _ => project::pipelines_dir().join("targets.yaml"),
    }
}

/// The targets file for messages: its path, and where the path came from
/// when it was not the default.
fn describe_targets_file(path: &Path) -> String {
    match std::env::var_os(TARGETS_ENV) {
        Some(v) if !v.is_empty() => format!("{} (named by {TARGETS_ENV})", path.display()),
        _ => path.display().to_string(),
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
        refuse_local_entry()?;
        return Ok(Target {
            name: LOCAL.into(),
            arch: Arch::host()?,
            access: Access::Local,
            emulator: None,
            machine: None,
        });
    }
    let path = targets_file();
    let (file, text): (TargetsFile, String) =
        yaml::load(&path).with_context(|| format!("in the targets file {}", describe_targets_file(&path)))?;
    let Some((key, entry)) = file.targets.iter().find(|(k, _)| k.value == name) else {
        let mut names: Vec<&str> = file.targets.keys().map(|k| k.value.as_str()).collect();
        names.sort();
        names.insert(0, LOCAL);
        bail!(
            "{} (targets are defined in {})",
            suggestions::unknown("target", name, names.iter().copied()),
            describe_targets_file(&path)
        );
    };
    let located = |at: Location, msg: String| yaml::located(&path, &text, at, &format!("target `{name}`: {msg}"));
    let host = Arch::host()?;
    pipeline::check_name("target name", name).map_err(|e| located(key.referenced, e))?;
    if let Some(spec) = &entry.machine {
        return emulated_machine(name, entry, spec, &located);
    }
    // Not refused: the same file serves hosts of either architecture; on
    // this machine's own, the target runs natively and is not emulated.
    let emulator = entry.emulator.as_ref().map(|e| e.value.clone()).filter(|_| entry.arch != host);
    if entry.emulator.is_some() && emulator.is_none() {
        eprintln!("note: target `{name}`: its `emulator` is not used: `arch: {host}` is this machine's own");
    }
    let access = access(entry, name, &path, &located)?;
    if let (Some(config), Access::Ssh { config: Some(resolved), .. }) = (&entry.ssh_config, &access)
        && !resolved.is_file()
    {
        let what = if resolved.is_dir() { "is a directory" } else { "does not exist" };
        return Err(located(
            config.referenced,
            format!("`ssh_config` {} {what}; name an ssh_config file", resolved.display()),
        ));
    }
    if let (Some(config), None) = (&entry.ssh_config, &entry.ssh) {
        return Err(located(config.referenced, "has an `ssh_config` but no `ssh`".into()));
    }
    if let (Some(emulator), Some(_)) = (&entry.emulator, &entry.ssh) {
        return Err(located(emulator.referenced, "has both `ssh` and `emulator`; an emulated target is local".into()));
    }
    Ok(Target { name: name.into(), arch: entry.arch, access, emulator, machine: None })
}

/// `local` is this machine and always exists: a targets file that defines
/// it would be silently ignored, so it is refused (a file that cannot be
/// read is left to the targets that need it).
fn refuse_local_entry() -> Result<()> {
    let path = targets_file();
    if !path.is_file() {
        return Ok(());
    }
    let Ok((file, text)) = yaml::load::<TargetsFile>(&path) else { return Ok(()) };
    match file.targets.keys().find(|k| k.value == LOCAL) {
        Some(key) => Err(yaml::located(
            &path,
            &text,
            key.referenced,
            "`local` is this machine, built in: a targets file cannot redefine it; give the target another name",
        )),
        None => Ok(()),
    }
}

/// A target that is an emulated machine: reached over SSH through the
/// ssh_config written when it boots, with its work directory in root's home.
fn emulated_machine(
    name: &str,
    entry: &TargetEntry,
    spec: &Spanned<MachineSpec>,
    located: &impl Fn(Location, String) -> anyhow::Error,
) -> Result<Target> {
    for (key, at) in [
        ("ssh", entry.ssh.as_ref().map(|s| s.referenced)),
        ("workdir", entry.workdir.as_ref().map(|s| s.referenced)),
        ("ssh_config", entry.ssh_config.as_ref().map(|s| s.referenced)),
        ("emulator", entry.emulator.as_ref().map(|s| s.referenced)),
    ] {
        if let Some(at) = at {
            return Err(located(at, format!("an emulated `machine` is reached by edgebench itself; drop `{key}`")));
        }
    }
    if entry.arch != Arch::Aarch64 {
        return Err(located(spec.referenced, "an emulated `machine` is aarch64 (`arch: aarch64`)".into()));
    }
    let (at, spec) = (spec.referenced, spec.value.clone());
    if spec.cores == 0 || spec.cores > 8 || !(512..=MACHINE_MAX_MEMORY_MIB).contains(&spec.memory_mib) {
        return Err(located(
            at,
            format!(
                "`machine` needs 1–8 `cores` and 512–{MACHINE_MAX_MEMORY_MIB} `memory_mib`; got {} cores, {} MiB",
                spec.cores, spec.memory_mib
            ),
        ));
    }
    if !MACHINE_CPUS.contains(&spec.cpu.as_str()) {
        // It becomes QEMU's `-cpu` argument: nothing but a known model.
        return Err(located(
            at,
            format!("`machine`: {}", suggestions::unknown("QEMU CPU model", &spec.cpu, MACHINE_CPUS)),
        ));
    }
    Ok(Target {
        name: name.into(),
        arch: entry.arch,
        access: Access::Ssh {
            destination: machine::ssh_host(name),
            workdir: machine::WORKDIR.into(),
            config: Some(machine::ssh_config(name)),
        },
        emulator: None,
        machine: Some(spec),
    })
}

/// How a target is reached: over SSH when it names a destination and a work
/// directory (neither of which may be read as an option), else locally.
fn access(
    entry: &TargetEntry,
    name: &str,
    path: &Path,
    located: &impl Fn(Location, String) -> anyhow::Error,
) -> Result<Access> {
    Ok(match (&entry.ssh, &entry.workdir) {
        (Some(destination), Some(workdir)) => {
            for (what, value) in [("ssh", destination), ("workdir", workdir)] {
                if value.value.starts_with('-')
                    || value.value.trim().is_empty()
                    || value.value.contains(char::is_control)
                {
                    return Err(located(
                        value.referenced,
                        format!(
                            "`{what}` must not be empty or start with `-` (it would be read as an option): `{}`",
                            value.value
                        ),
                    ));
                }
            }
            if destination.value.contains(char::is_whitespace) {
                return Err(located(
                    destination.referenced,
                    "`ssh` is one destination (`user@host[:port]` or a host alias), without spaces".into(),
                ));
            }
            Access::Ssh {
                destination: destination.value.clone(),
                workdir: workdir.value.clone(),
                config: entry.ssh_config.as_ref().map(|c| path.parent().unwrap_or(Path::new(".")).join(&c.value)),
            }
        }
        (Some(destination), None) => {
            return Err(located(destination.referenced, "needs a `workdir` on the device".into()));
        }
        (None, Some(workdir)) => {
            return Err(located(
                workdir.referenced,
                format!("has a `workdir` but no `ssh`; a local target's work directory is target/edgebench/{name}"),
            ));
        }
        (None, None) => Access::Local,
    })
}
