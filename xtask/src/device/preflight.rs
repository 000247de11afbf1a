//! What a target's device is and whether a bench can run on it: facts read
//! by one small shell script (run over SSH, or here for local targets), and
//! the checks made of them. `cargo xtask doctor` prints every check; a bench
//! stops at the first failure before building anything.

use std::collections::BTreeMap;
use std::fmt;

use anyhow::{Context, Result, bail};
use xshell::{Shell, cmd};

use crate::device::ssh::Ssh;
use crate::device::target::Target;
use crate::toolchain::arch::Arch;

/// Prints `key=value` lines. `$1` is the work directory, created if missing.
const FACTS_SCRIPT: &str = r#"
echo "arch=$(uname -m)"
echo "clock=$(date +%s)"
if err=$(mkdir -p -- "$1" 2>&1) && cd -- "$1"; then
    echo "workdir=$(pwd)"
    if (: > .edgebench-write-check) 2>/dev/null && rm -f .edgebench-write-check; then
        echo writable=yes
    else
        echo writable=no
    fi
    echo "df=$(df -Pk . 2>/dev/null | tail -n 1)"
else
    echo "workdir_error=$(printf '%s' "$err" | head -n 1)"
fi
command -v sha256sum >/dev/null 2>&1 && echo sha256sum=yes || echo sha256sum=no
if command -v docker >/dev/null 2>&1; then
    if v=$(docker info --format '{{.ServerVersion}}' 2>&1); then
        echo "docker=$v"
    else
        echo "docker_error=$(printf '%s\n' "$v" | grep -v '^[[:space:]]*$' | head -n 1)"
    fi
fi
if [ -r /sys/devices/system/cpu/cpu0/cpufreq/scaling_governor ]; then
    echo "governor=$(cat /sys/devices/system/cpu/cpu0/cpufreq/scaling_governor)"
fi
command -v vcgencmd >/dev/null 2>&1 && echo "throttled=$(vcgencmd get_throttled 2>&1)"
echo "cpus=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status 2>/dev/null)"
exit 0
"#;

/// The device as the facts script saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    /// `uname -m`.
    pub machine: String,
    /// The device's clock minus ours, in seconds (round trip included).
    pub clock_offset_s: Option<i64>,
    /// The absolute work directory, or why it could not be made.
    pub workdir: Result<String, String>,
    pub writable: bool,
    pub free_bytes: Option<u64>,
    pub sha256sum: bool,
    /// The engine's version, or why it did not answer; `None`: no client.
    pub docker: Option<Result<String, String>>,
    pub governor: Option<String>,
    pub throttled: Option<String>,
    /// The CPUs a process there may run on (its affinity), where read.
    pub cpus: Option<Vec<usize>>,
}

impl Facts {
    /// The Rust/edgebench name of `uname -m`.
    pub fn arch(&self) -> Option<Arch> {
        match self.machine.as_str() {
            "x86_64" | "amd64" => Some(Arch::X86_64),
            "aarch64" | "arm64" => Some(Arch::Aarch64),
            _ => None,
        }
    }

    fn parse(text: &str, our_clock: i64) -> Facts {
        let values: BTreeMap<&str, &str> = text.lines().filter_map(|l| l.split_once('=')).collect();
        let get = |k: &str| values.get(k).map(|v| v.trim().to_string());
        let yes = |k: &str| values.get(k).is_some_and(|v| v.trim() == "yes");
        let workdir = match (get("workdir"), get("workdir_error")) {
            (Some(dir), _) => Ok(dir),
            (None, Some(error)) => Err(error),
            (None, None) => Err("the device did not report its work directory".into()),
        };
        // `df -P`: filesystem, blocks, used, available, capacity, mount.
        let free_bytes =
            get("df").and_then(|l| l.split_whitespace().nth(3).and_then(|v| v.parse::<u64>().ok())).map(|k| k * 1024);
        let docker = match (get("docker"), get("docker_error")) {
            (Some(v), _) if !v.is_empty() => Some(Ok(v)),
            (_, Some(e)) => Some(Err(e)),
            _ => None,
        };
        Facts {
            machine: get("arch").unwrap_or_default(),
            clock_offset_s: get("clock").and_then(|c| c.parse::<i64>().ok()).map(|c| c - our_clock),
            workdir,
            writable: yes("writable"),
            free_bytes,
            sha256sum: yes("sha256sum"),
            docker,
            governor: get("governor"),
            throttled: get("throttled"),
            cpus: get("cpus").and_then(|list| cpu_list(&list)),
        }
    }

    /// Whether the device offers every CPU in `cpus` (a pipeline's), or
    /// the check that says which it lacks.
    pub fn cpus_check(&self, cpus: &[usize]) -> Check {
        let Some(offered) = &self.cpus else {
            return Check::warning("cpus", "the device did not say which CPUs it offers", None);
        };
        let listed = offered.iter().map(usize::to_string).collect::<Vec<_>>().join(", ");
        match cpus.iter().find(|c| !offered.contains(c)) {
            None => Check::ok("cpus", format!("runs pinned to {cpus:?}, of the device's {listed}")),
            Some(missing) => Check::failure(
                "cpus",
                format!(
                    "the pipeline pins runs to CPU {missing}, which the device does not offer (it offers {listed})"
                ),
                "change `cpus` in the pipeline",
            ),
        }
    }
}

/// A kernel CPU list (`0-3,6`), as in `Cpus_allowed_list`.
fn cpu_list(text: &str) -> Option<Vec<usize>> {
    let mut cpus = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((lo, hi)) => cpus.extend(lo.parse::<usize>().ok()?..=hi.parse::<usize>().ok()?),
            None => cpus.push(part.parse().ok()?),
        }
    }
    (!cpus.is_empty()).then_some(cpus)
}

/// Reads the facts of a device reached over SSH.
pub fn remote(ssh: &Ssh, workdir: &str) -> Result<Facts> {
    let now = unix_now();
    let text = ssh.run(FACTS_SCRIPT, &[workdir])?;
    Ok(Facts::parse(&text, now))
}

/// Reads the facts of this machine, for a local work directory.
pub fn local(workdir: &std::path::Path) -> Result<Facts> {
    let sh = Shell::new()?;
    let now = unix_now();
    let text = cmd!(sh, "sh -c {FACTS_SCRIPT} edgebench {workdir}").quiet().read().context("running sh")?;
    Ok(Facts::parse(&text, now))
}

fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Ok,
    Warning,
    /// A bench cannot run until this is fixed.
    Failure,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub name: String,
    pub level: Level,
    pub detail: String,
    /// What to do about it (for warnings and failures).
    pub fix: Option<String>,
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mark = match self.level {
            Level::Ok => "ok  ",
            Level::Warning => "warn",
            Level::Failure => "FAIL",
        };
        write!(f, "[{mark}] {:<18} {}", self.name, self.detail)?;
        if let Some(fix) = &self.fix {
            write!(f, "\n       {:<18} → {fix}", "")?;
        }
        Ok(())
    }
}

/// Below this, even a small pipeline's programs do not fit.
const MIN_FREE_BYTES: u64 = 32 << 20;
/// Below this, a pipeline with every executor and the Debian image may not.
const LOW_FREE_BYTES: u64 = 512 << 20;
/// Clocks further apart than this make the records' timestamps misleading.
const MAX_CLOCK_OFFSET_S: i64 = 5;

/// Every check of a device's facts, in the order `doctor` prints them.
pub fn checks(target: &Target, facts: &Facts) -> Vec<Check> {
    let mut out = vec![architecture(target, facts), work_directory(facts)];
    if facts.workdir.is_ok() {
        out.push(disk_space(facts));
    }
    out.extend([sha256sum(facts), docker_engine(facts), clock(facts), cpu_governor(facts)]);
    out.extend(throttling(facts));
    out
}

impl Check {
    pub fn ok(name: impl Into<String>, detail: impl Into<String>) -> Check {
        Check { name: name.into(), level: Level::Ok, detail: detail.into(), fix: None }
    }

    pub fn warning(name: impl Into<String>, detail: impl Into<String>, fix: Option<&str>) -> Check {
        Check { name: name.into(), level: Level::Warning, detail: detail.into(), fix: fix.map(String::from) }
    }

    pub fn failure(name: impl Into<String>, detail: impl Into<String>, fix: impl Into<String>) -> Check {
        Check { name: name.into(), level: Level::Failure, detail: detail.into(), fix: Some(fix.into()) }
    }
}

fn architecture(target: &Target, facts: &Facts) -> Check {
    match facts.arch() {
        Some(arch) if arch == target.arch || target.emulator.is_some() => Check::ok("architecture", &facts.machine),
        _ => Check::failure(
            "architecture",
            format!("the device is `{}`, the target says `{}`", facts.machine, target.arch),
            match facts.machine.as_str() {
                "armv7l" | "armv6l" => "this is a 32-bit OS: install a 64-bit (arm64) OS on the device",
                _ => "correct `arch` in the target's entry in pipelines/targets.yaml",
            },
        ),
    }
}

fn work_directory(facts: &Facts) -> Check {
    match &facts.workdir {
        Ok(dir) if facts.writable => Check::ok("work directory", dir),
        Ok(dir) => Check::failure(
            "work directory",
            format!("{dir} is not writable"),
            "choose a writable `workdir` for the target, or fix its permissions",
        ),
        Err(error) => Check::failure("work directory", error.clone(), "choose a `workdir` the login user can create"),
    }
}

fn disk_space(facts: &Facts) -> Check {
    const NAME: &str = "disk space";
    match facts.free_bytes {
        Some(free) if free < MIN_FREE_BYTES => Check::failure(
            NAME,
            format!("{} free", mib(free)),
            format!("free at least {} on the work directory's filesystem", mib(MIN_FREE_BYTES)),
        ),
        Some(free) if free < LOW_FREE_BYTES => Check::warning(
            NAME,
            format!("{} free", mib(free)),
            Some(&format!(
                "every executor and the Debian image need about 200 MiB; {} or more is comfortable",
                mib(LOW_FREE_BYTES)
            )),
        ),
        Some(free) => Check::ok(NAME, format!("{} free", mib(free))),
        None => Check::warning(NAME, "unknown (df gave nothing)", None),
    }
}

fn sha256sum(facts: &Facts) -> Check {
    if facts.sha256sum {
        Check::ok("sha256sum", "present")
    } else {
        Check::failure(
            "sha256sum",
            "missing: deploying compares files by hash",
            "install coreutils (or busybox with sha256sum)",
        )
    }
}

const DOCKER_UNREACHABLE_FIX: &str = "start the engine and let the login user reach it (the `docker` group), or runs \
                                      of the docker runtime are recorded as unavailable";

fn docker_engine(facts: &Facts) -> Check {
    const NAME: &str = "docker engine";
    match &facts.docker {
        Some(Ok(version)) => Check::ok(NAME, format!("Docker {version}")),
        Some(Err(error)) => Check::warning(
            NAME,
            format!("the client is there, the engine did not answer: {error}"),
            Some(DOCKER_UNREACHABLE_FIX),
        ),
        None => {
            Check::warning(NAME, "not installed", Some("runs of the docker runtime will be recorded as unavailable"))
        }
    }
}

fn clock(facts: &Facts) -> Check {
    match facts.clock_offset_s {
        Some(offset) if offset.abs() > MAX_CLOCK_OFFSET_S => Check::warning(
            "clock",
            format!("{offset:+} s from this machine's"),
            Some("synchronise the device's clock (e.g. `timedatectl set-ntp true`); records carry its timestamps"),
        ),
        Some(offset) => Check::ok("clock", format!("{offset:+} s from this machine's")),
        None => Check::warning("clock", "unreadable", None),
    }
}

const GOVERNOR_FIX: &str = "run times vary with frequency scaling; for stable figures: \
                            `echo performance | sudo tee /sys/devices/system/cpu/cpu*/cpufreq/scaling_governor`";

fn cpu_governor(facts: &Facts) -> Check {
    match facts.governor.as_deref() {
        Some("performance") => Check::ok("cpu governor", "performance"),
        Some(other) => Check::warning("cpu governor", other, Some(GOVERNOR_FIX)),
        None => Check::ok("cpu governor", "no cpufreq (fixed frequency)"),
    }
}

/// Only where the firmware reports it (a Raspberry Pi's `vcgencmd`).
fn throttling(facts: &Facts) -> Option<Check> {
    let throttled = facts.throttled.as_ref()?;
    let info = edgebench_model::device::DeviceInfo { throttled: Some(throttled.clone()), ..Default::default() };
    Some(match info.was_throttled() {
        Some(true) => Check::warning(
            "throttling",
            throttled.clone(),
            Some("the firmware reports under-voltage or throttling: use the official power supply and cooling"),
        ),
        _ => Check::ok("throttling", throttled.clone()),
    })
}

/// Fails with every failed check, each with its fix.
pub fn require(target: &Target, facts: &Facts) -> Result<()> {
    let failed: Vec<String> =
        checks(target, facts).into_iter().filter(|c| c.level == Level::Failure).map(|c| c.to_string()).collect();
    if !failed.is_empty() {
        bail!(
            "target `{}` is not ready:\n{}\n(`cargo xtask doctor --target {}` checks everything)",
            target.name,
            failed.join("\n"),
            target.name
        );
    }
    Ok(())
}

pub fn mib(bytes: u64) -> String {
    format!("{:.0} MiB", bytes as f64 / f64::from(1u32 << 20))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::target::Access;

    fn target(arch: Arch) -> Target {
        Target { name: "t".into(), arch, access: Access::Local, emulator: None, machine: None }
    }

    #[test]
    fn cpus_a_pipeline_pins_to_must_be_offered() {
        assert_eq!(cpu_list("0-3,6"), Some(vec![0, 1, 2, 3, 6]));
        assert_eq!(cpu_list("1"), Some(vec![1]));
        assert_eq!(cpu_list(""), None);
        assert_eq!(cpu_list("0-x"), None);
        let facts = Facts::parse("arch=x86_64\ncpus=0-1\n", 0);
        assert_eq!(facts.cpus_check(&[1]).level, Level::Ok);
        let lacking = facts.cpus_check(&[1, 7]);
        assert_eq!(lacking.level, Level::Failure);
        assert!(lacking.detail.contains("CPU 7, which the device does not offer (it offers 0, 1)"), "{lacking}");
        assert_eq!(Facts::parse("arch=x86_64\n", 0).cpus_check(&[0]).level, Level::Warning);
    }

    #[test]
    fn parses_and_checks_facts() {
        let text = "arch=aarch64\nclock=1000\nworkdir=/home/pi/edgebench\nwritable=yes\n\
                    df=/dev/root 30000000 1000 20000 2% /\nsha256sum=yes\ngovernor=ondemand\nthrottled=throttled=0x50005\n";
        let facts = Facts::parse(text, 1002);
        assert_eq!(facts.arch(), Some(Arch::Aarch64));
        assert_eq!(facts.clock_offset_s, Some(-2));
        assert_eq!(facts.free_bytes, Some(20000 * 1024));
        assert_eq!(facts.docker, None);
        let checks = checks(&target(Arch::Aarch64), &facts);
        let level = |name: &str| checks.iter().find(|c| c.name == name).map(|c| c.level);
        assert_eq!(level("architecture"), Some(Level::Ok));
        assert_eq!(level("disk space"), Some(Level::Failure));
        assert_eq!(level("cpu governor"), Some(Level::Warning));
        assert_eq!(level("throttling"), Some(Level::Warning));
        assert_eq!(level("docker engine"), Some(Level::Warning));
        let error = require(&target(Arch::X86_64), &facts).unwrap_err().to_string();
        assert!(error.contains("the device is `aarch64`, the target says `x86_64`"), "{error}");
        assert!(error.contains("disk space"), "{error}");
    }

    #[test]
    fn an_unmakeable_work_directory_fails() {
        let facts = Facts::parse("arch=x86_64\nworkdir_error=mkdir: cannot create directory: Not a directory\n", 0);
        let error = require(&target(Arch::X86_64), &facts).unwrap_err().to_string();
        assert!(error.contains("Not a directory"), "{error}");
    }
}
