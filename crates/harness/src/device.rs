//! Reading the device's identity and state from `/proc` and `/sys`.

use std::fs;
use std::process::Command;

use edgebench_model::device::{DeviceInfo, HealthSample, ProcessLoad};

/// How long other processes' CPU use is sampled.
const SAMPLING: std::time::Duration = std::time::Duration::from_millis(500);
/// Processes listed, at most.
const BUSIEST: usize = 5;

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
        load_average: load_average(),
        cpu_mhz: cpu_mhz(),
        busiest_processes: busiest_processes(),
        hardware_counters: Some(match crate::counters::support() {
            Ok(()) => "available".into(),
            Err(why) => format!("unavailable: {why}"),
        }),
    }
}

fn load_average() -> Option<[f64; 3]> {
    let text = fs::read_to_string("/proc/loadavg").ok()?;
    let mut fields = text.split_whitespace().map(|f| f.parse::<f64>().ok());
    Some([fields.next()??, fields.next()??, fields.next()??])
}

fn cpu_mhz() -> Vec<u32> {
    let Ok(entries) = fs::read_dir("/sys/devices/system/cpu") else { return Vec::new() };
    let mut cpus: Vec<(usize, u32)> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let index: usize = name.strip_prefix("cpu")?.parse().ok()?;
            let khz: u64 = fs::read_to_string(e.path().join("cpufreq/scaling_cur_freq")).ok()?.trim().parse().ok()?;
            Some((index, (khz / 1000) as u32))
        })
        .collect();
    cpus.sort_unstable();
    cpus.into_iter().map(|(_, mhz)| mhz).collect()
}

/// The [`BUSIEST`] other processes of [`cpu_loads`].
fn busiest_processes() -> Vec<ProcessLoad> {
    let mut loads = cpu_loads();
    loads.truncate(BUSIEST);
    loads
}

/// The other processes that used more than 1 % of a CPU over
/// [`SAMPLING`], busiest first: their user + system ticks from
/// `/proc/<pid>/stat`, read before and after.
fn cpu_loads() -> Vec<ProcessLoad> {
    // SAFETY: sysconf only reads a constant.
    let ticks_per_s = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks_per_s <= 0 {
        return Vec::new();
    }
    let before = cpu_ticks();
    std::thread::sleep(SAMPLING);
    let after = cpu_ticks();
    let own = std::process::id();
    let window = ticks_per_s as f64 * SAMPLING.as_secs_f64();
    let mut loads: Vec<ProcessLoad> = after
        .into_iter()
        .filter(|(pid, _)| *pid != own)
        .filter_map(|(pid, (command, ticks))| {
            let (_, earlier) = before.get(&pid)?;
            let cpu_percent = ticks.saturating_sub(*earlier) as f64 / window * 100.0;
            (cpu_percent > 1.0).then_some(ProcessLoad { pid, command, cpu_percent })
        })
        .collect();
    loads.sort_by(|a, b| b.cpu_percent.total_cmp(&a.cpu_percent).then(a.pid.cmp(&b.pid)));
    loads
}

/// pid → (command, user + system ticks) of every process readable now.
fn cpu_ticks() -> std::collections::BTreeMap<u32, (String, u64)> {
    let Ok(entries) = fs::read_dir("/proc") else { return Default::default() };
    entries
        .flatten()
        .filter_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let stat = fs::read_to_string(e.path().join("stat")).ok()?;
            Some((pid, parse_stat(&stat)?))
        })
        .collect()
}

/// The command and utime + stime of a `/proc/<pid>/stat` line. The command
/// is in parentheses and may itself hold spaces and parentheses, so the
/// fields are counted from the last `)`.
fn parse_stat(stat: &str) -> Option<(String, u64)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let command = stat.get(open + 1..close)?.to_string();
    // After ")": state (field 3) … utime is field 14, stime field 15.
    let mut rest = stat.get(close + 1..)?.split_whitespace().skip(11);
    let utime: u64 = rest.next()?.parse().ok()?;
    let stime: u64 = rest.next()?.parse().ok()?;
    Some((command, utime + stime))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_with_awkward_command_names() {
        let line = "4242 (my (odd) prog) R 1 4242 4242 0 -1 4194304 120 0 0 0 731 42 0 0 20 0 1 0 99 1000 10";
        assert_eq!(parse_stat(line), Some(("my (odd) prog".to_string(), 773)));
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn a_spinning_process_is_seen_as_busy() {
        let mut child = std::process::Command::new("sh").args(["-c", "while :; do :; done"]).spawn().unwrap();
        let loads = cpu_loads();
        child.kill().unwrap();
        child.wait().unwrap();
        let spinner = loads.iter().find(|p| p.pid == child.id()).unwrap_or_else(|| panic!("{loads:?}"));
        assert_eq!(spinner.command, "sh");
        assert!(spinner.cpu_percent > 0.0 && spinner.cpu_percent <= 101.0, "{spinner:?}");
        assert!(load_average().is_some());
    }
}
