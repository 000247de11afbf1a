//! What the harness reports about the device it runs on, for provenance:
//! every figure must say on what machine and in what state it was taken.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeviceInfo {
    /// Board model (`/proc/device-tree/model`) or DMI product name.
    pub model: Option<String>,
    pub cpu: Option<String>,
    pub arch: String,
    pub cores: usize,
    pub memory_kib: Option<u64>,
    /// `uname -r`-style kernel release and version.
    pub kernel: Option<String>,
    pub os: Option<String>,
    /// CPU frequency governor of cpu0, where cpufreq is exposed.
    pub governor: Option<String>,
    /// Temperatures of the thermal zones, in °C.
    pub temperatures_c: Vec<f64>,
    /// `vcgencmd get_throttled` on a Raspberry Pi (e.g. `0x0`; non-zero bits
    /// mean under-voltage or throttling now or since boot).
    pub throttled: Option<String>,
    /// Whether the memory cgroup controller is available (Docker's
    /// per-container peak memory needs it).
    pub memory_cgroup: Option<bool>,
    pub hostname: Option<String>,
    /// The Docker Engine's version, where its client can reach one: the
    /// `docker` runtime's figures depend on it.
    #[serde(default)]
    pub docker_engine: Option<String>,
    /// 1-, 5- and 15-minute load averages (`/proc/loadavg`).
    #[serde(default)]
    pub load_average: Option<[f64; 3]>,
    /// Each CPU's current frequency in MHz, where cpufreq exposes it.
    #[serde(default)]
    pub cpu_mhz: Vec<u32>,
    /// The other processes that used the most CPU over a short window as
    /// this was read, busiest first (at most five, each above 1 %).
    #[serde(default)]
    pub busiest_processes: Vec<ProcessLoad>,
    /// Whether runs' instructions and cycles are counted by hardware
    /// counters (`perf_event_open`): `available`, or why not (most VMs
    /// expose no PMU). Absent from snapshots made before it was asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hardware_counters: Option<String>,
}

/// One process's share of a CPU over the sampling window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessLoad {
    pub pid: u32,
    pub command: String,
    /// 100 is one whole CPU.
    pub cpu_percent: f64,
}

/// Another process using at least this share of a CPU while the runs are
/// about to start (or just ended) makes the machine busy: it competes
/// with the measured runs for CPU time and caches.
pub const BUSY_PROCESS_PERCENT: f64 = 20.0;

impl DeviceInfo {
    /// Why the device was busy when this was read, if it was: the other
    /// processes that used at least [`BUSY_PROCESS_PERCENT`] of a CPU.
    pub fn busy(&self) -> Option<String> {
        let busy: Vec<String> = self
            .busiest_processes
            .iter()
            .filter(|p| p.cpu_percent >= BUSY_PROCESS_PERCENT)
            .map(|p| format!("`{}` (pid {}) at {:.0} % of a CPU", p.command, p.pid, p.cpu_percent))
            .collect();
        (!busy.is_empty()).then(|| busy.join(", "))
    }

    /// Whether the Pi's firmware reports throttling or under-voltage, now or
    /// since boot. `None` where the device cannot tell.
    pub fn was_throttled(&self) -> Option<bool> {
        throttled_bits(self.throttled.as_deref()?).map(|bits| bits != 0)
    }
}

/// The device's state at one moment, sampled by the harness between runs
/// (at most every few seconds) and attached to the runs that follow.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HealthSample {
    pub unix_ms: u64,
    /// The hottest thermal zone, in °C.
    pub max_temperature_c: Option<f64>,
    /// `vcgencmd get_throttled`, as printed.
    pub throttled: Option<String>,
}

impl HealthSample {
    /// Whether the firmware reported under-voltage, a capped frequency,
    /// throttling or the soft temperature limit *at that moment* (bits 0–3;
    /// the bits from 16 up only say it happened since boot). `None` where
    /// the device cannot tell.
    pub fn throttling_now(&self) -> Option<bool> {
        throttled_bits(self.throttled.as_deref()?).map(|bits| bits & 0xf != 0)
    }
}

/// The bits of `throttled=0x50005` (or `0x50005`).
fn throttled_bits(raw: &str) -> Option<u64> {
    let hex = raw.trim().trim_start_matches("throttled=").trim_start_matches("0x");
    u64::from_str_radix(hex, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_bits() {
        let mut d = DeviceInfo::default();
        assert_eq!(d.was_throttled(), None);
        d.throttled = Some("throttled=0x0".into());
        assert_eq!(d.was_throttled(), Some(false));
        d.throttled = Some("throttled=0x50005".into());
        assert_eq!(d.was_throttled(), Some(true));
        d.throttled = Some("garbage".into());
        assert_eq!(d.was_throttled(), None);
    }

    #[test]
    fn busy_means_another_process_took_a_fifth_of_a_cpu() {
        let mut d = DeviceInfo::default();
        assert_eq!(d.busy(), None);
        let load = |command: &str, cpu_percent| ProcessLoad { pid: 7, command: command.into(), cpu_percent };
        d.busiest_processes = vec![load("rustc", 97.4), load("sshd", 2.0)];
        assert_eq!(d.busy().as_deref(), Some("`rustc` (pid 7) at 97 % of a CPU"));
        d.busiest_processes = vec![load("sshd", 19.9)];
        assert_eq!(d.busy(), None);
    }

    #[test]
    fn throttling_now_ignores_what_happened_since_boot() {
        let sample = |raw: &str| HealthSample { throttled: Some(raw.into()), ..Default::default() };
        assert_eq!(sample("throttled=0x50000").throttling_now(), Some(false));
        assert_eq!(sample("throttled=0x50005").throttling_now(), Some(true));
        assert_eq!(sample("throttled=0x8").throttling_now(), Some(true));
        assert_eq!(HealthSample::default().throttling_now(), None);
    }
}
