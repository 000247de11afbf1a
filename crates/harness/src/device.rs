//! Reading the device's identity and state from `/proc` and `/sys`.

use std::fs;
use std::process::Command;

use edgebench_model::device::{DeviceInfo, HealthSample};

pub fn collect() -> DeviceInfo {
    DeviceInfo {
        model: read_trimmed("/proc/device-tree/model").or_else(|| read_trimmed("/sys/class/dmi/id/product_name")),
        cpu: cpu_name(),
        arch: std::env::consts::ARCH.to_string(),
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        memory_kib: meminfo_total(),
        kernel: kernel(),
        os: os_release(),
        governor: read_trimmed("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"),
        temperatures_c: temperatures(),
        throttled: vcgencmd_throttled(),
        memory_cgroup: memory_cgroup(),
        hostname: read_trimmed("/proc/sys/kernel/hostname"),
        docker_engine: docker_engine(),
    }
}

/// The device's state now: the hottest thermal zone and the firmware's
/// throttling flags. Cheap enough to take between runs.
pub fn health() -> HealthSample {
    let unix_ms =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
    HealthSample {
        unix_ms,
        max_temperature_c: temperatures().into_iter().reduce(f64::max),
        throttled: vcgencmd_throttled(),
    }
}

fn read_trimmed(path: &str) -> Option<String> {
    let text = fs::read_to_string(path).ok()?;
    let text = text.trim_matches(|c: char| c.is_whitespace() || c == '\0');
    (!text.is_empty()).then(|| text.to_string())
}

fn cpu_name() -> Option<String> {
    let info = fs::read_to_string("/proc/cpuinfo").ok()?;
    let value = |key: &str| {
        info.lines()
            .find(|l| l.split(':').next().is_some_and(|k| k.trim() == key))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_string())
    };
    // x86 names the model; ARM kernels give implementer and part numbers.
    value("model name").or_else(|| {
        let part = value("CPU part")?;
        let implementer = value("CPU implementer").unwrap_or_default();
        Some(format!("{} (implementer {implementer}, part {part})", arm_core_name(&part).unwrap_or("ARM core")))
    })
}

fn arm_core_name(part: &str) -> Option<&'static str> {
    match part {
        "0xd03" => Some("Cortex-A53"),
        "0xd04" => Some("Cortex-A35"),
        "0xd05" => Some("Cortex-A55"),
        "0xd07" => Some("Cortex-A57"),
        "0xd08" => Some("Cortex-A72"),
        "0xd0b" => Some("Cortex-A76"),
        _ => None,
    }
}

fn meminfo_total() -> Option<u64> {
    let info = fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn kernel() -> Option<String> {
    let release = read_trimmed("/proc/sys/kernel/osrelease")?;
    match read_trimmed("/proc/sys/kernel/version") {
        Some(version) => Some(format!("{release} {version}")),
        None => Some(release),
    }
}

fn os_release() -> Option<String> {
    let text = fs::read_to_string("/etc/os-release").ok()?;
    let line = text.lines().find(|l| l.starts_with("PRETTY_NAME="))?;
    Some(line.trim_start_matches("PRETTY_NAME=").trim_matches('"').to_string())
}

fn temperatures() -> Vec<f64> {
    let Ok(entries) = fs::read_dir("/sys/class/thermal") else { return Vec::new() };
    let mut zones: Vec<_> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("thermal_zone")))
        .collect();
    zones.sort();
    zones
        .iter()
        .filter_map(|z| fs::read_to_string(z.join("temp")).ok())
        .filter_map(|t| t.trim().parse::<f64>().ok())
        .map(|milli| milli / 1000.0)
        .collect()
}

fn vcgencmd_throttled() -> Option<String> {
    let output = Command::new("vcgencmd").arg("get_throttled").output().ok()?;
    output.status.success().then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// The server version the `docker` client reports, if there is a client and
/// it reaches an engine.
fn docker_engine() -> Option<String> {
    let output = Command::new("docker").args(["version", "--format", "{{.Server.Version}}"]).output().ok()?;
    let version = String::from_utf8_lossy(&output.stdout).trim().to_string();
    (output.status.success() && !version.is_empty()).then_some(version)
}

/// cgroup v2 with the memory controller enabled at the root.
fn memory_cgroup() -> Option<bool> {
    let controllers = fs::read_to_string("/sys/fs/cgroup/cgroup.controllers").ok()?;
    Some(controllers.split_whitespace().any(|c| c == "memory"))
}
