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
}

impl DeviceInfo {
    /// Whether the Pi's firmware reports throttling or under-voltage, now or
    /// since boot. `None` where the device cannot tell.
    pub fn was_throttled(&self) -> Option<bool> {
        let raw = self.throttled.as_deref()?;
        let hex = raw.trim().trim_start_matches("throttled=").trim_start_matches("0x");
        u64::from_str_radix(hex, 16).ok().map(|bits| bits != 0)
    }
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
}
