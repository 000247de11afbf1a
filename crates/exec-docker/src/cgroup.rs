//! The container's own peak memory. Docker removes a container's cgroup as
//! soon as the container exits, taking its peak with it; so each run gets a
//! parent cgroup of its own (`--cgroup-parent`), which outlives the
//! container and whose peak covers it: `memory.max_usage_in_bytes` on
//! cgroup v1, `memory.peak` on cgroup v2.
//!
//! Both of Docker's cgroup drivers are served. With `cgroupfs` the parent is
//! a directory we make (`/edgebench-<pid>`). With `systemd` (the default of
//! Debian, Raspberry Pi OS, Ubuntu and GitHub's runners on cgroup v2) the
//! parent must be a slice: the engine asks systemd for
//! `edgebench-<pid>_<ns>.slice`, which systemd realises as
//! `edgebench.slice/edgebench-<pid>_<ns>.slice` and keeps after the
//! container's scope is gone. Either way the run's cgroup is removed once its
//! peak is read (an empty cgroup's `rmdir` costs a syscall); systemd's slice
//! units of finished runs are stopped by the next probe, outside any measured
//! run. This needs permission to make or remove cgroups (root); elsewhere the
//! executor falls back to sampling the engine's stats, and the record says
//! which it used.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use bollard::Docker;
use edgebench_model::executor::PeakMemory;

const CGROUP_ROOT: &str = "/sys/fs/cgroup";
/// The slice every run's slice sits in under the `systemd` driver.
const SYSTEMD_SLICE: &str = "edgebench.slice";

/// Which of Docker's cgroup drivers places the container.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Driver {
    Cgroupfs,
    Systemd,
}

impl Driver {
    fn of(docker_driver: &str) -> Option<Driver> {
        match docker_driver {
            "cgroupfs" => Some(Driver::Cgroupfs),
            "systemd" => Some(Driver::Systemd),
            _ => None,
        }
    }
}

/// The cgroup hierarchy that holds the memory controller, and its peak file.
struct MemoryHierarchy {
    root: PathBuf,
    peak_file: &'static str,
    version: &'static str,
}

impl MemoryHierarchy {
    fn find() -> MemoryHierarchy {
        let v1 = Path::new(CGROUP_ROOT).join("memory");
        if v1.join("memory.max_usage_in_bytes").exists() {
            MemoryHierarchy { root: v1, peak_file: "memory.max_usage_in_bytes", version: "v1" }
        } else {
            MemoryHierarchy { root: CGROUP_ROOT.into(), peak_file: "memory.peak", version: "v2" }
        }
    }
}

pub struct RunCgroup {
    driver: Driver,
    /// The cgroup's path below the hierarchy's root.
    relative: PathBuf,
    dir: PathBuf,
    peak_file: &'static str,
    method: String,
}

impl RunCgroup {
    pub async fn create(docker: &Docker) -> Option<RunCgroup> {
        let info = docker.info().await.ok()?;
        let driver = Driver::of(&info.cgroup_driver.map(|d| d.to_string()).unwrap_or_default())?;
        // A rootless engine's cgroups are its user's, elsewhere than ours.
        if info.security_options.unwrap_or_default().iter().any(|o| o.contains("rootless")) {
            return None;
        }
        let memory = MemoryHierarchy::find();
        let pid = std::process::id();
        let cgroup = match driver {
            Driver::Cgroupfs => {
                let relative = PathBuf::from(format!("edgebench-{pid}"));
                let dir = memory.root.join(&relative);
                std::fs::create_dir(&dir).ok()?;
                let method = format!(
                    "cgroup {} {} of a per-run parent cgroup (cgroupfs driver)",
                    memory.version, memory.peak_file
                );
                RunCgroup { driver, relative, dir, peak_file: memory.peak_file, method }
            }
            Driver::Systemd => {
                // systemd makes the slice when the container starts; whether
                // it will carry the peak file is known from a slice that
                // exists (memory accounting on, and Linux ≥ 5.19 on v2).
                if !memory.root.join("system.slice").join(memory.peak_file).exists() {
                    return None;
                }
                let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).ok()?.subsec_nanos();
                // Unique per run, though pids come round again: a slice of an
                // earlier run may still be loaded until the next probe.
                let relative = Path::new(SYSTEMD_SLICE).join(format!("edgebench-{pid}_{nanos}.slice"));
                let dir = memory.root.join(&relative);
                let method = format!(
                    "cgroup {} {} of a per-run parent slice (systemd driver)",
                    memory.version, memory.peak_file
                );
                RunCgroup { driver, relative, dir, peak_file: memory.peak_file, method }
            }
        };
        // memory.peak needs Linux 5.19 and the memory controller enabled;
        // without it, give up the cgroup so the caller samples stats instead.
        if driver == Driver::Cgroupfs && !cgroup.dir.join(cgroup.peak_file).exists() {
            cgroup.remove();
            return None;
        }
        Some(cgroup)
    }

    /// Whether the run's peak can be read: under systemd the slice exists
    /// only once the container has started, and only where we predicted.
    pub fn measurable(&self) -> bool {
        self.dir.join(self.peak_file).exists()
    }

    /// What the engine is given as `--cgroup-parent`.
    pub fn parent_name(&self) -> String {
        match self.driver {
            Driver::Cgroupfs => format!("/{}", self.relative.display()),
            Driver::Systemd => self.relative.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        }
    }

    pub fn peak(&self) -> Option<PeakMemory> {
        let text = std::fs::read_to_string(self.dir.join(self.peak_file)).ok()?;
        let bytes = text.trim().parse().ok()?;
        Some(PeakMemory { bytes, method: self.method.clone() })
    }

    /// Removes the run's cgroup, and the ones made for it under the other
    /// cgroup v1 controllers. Under systemd the slice unit stays loaded,
    /// without a cgroup, until the next probe stops it.
    pub fn remove(self) {
        let _ = std::fs::remove_dir(&self.dir);
        if let Ok(controllers) = std::fs::read_dir(CGROUP_ROOT) {
            for controller in controllers.flatten() {
                let _ = std::fs::remove_dir(controller.path().join(&self.relative));
            }
        }
    }
}

/// The pid in a run cgroup's name (`edgebench-<pid>` or
/// `edgebench-<pid>_<ns>.slice`), if it is one.
fn owner_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix("edgebench-")?;
    let rest = rest.strip_suffix(".slice").map_or(rest, |r| r.split('_').next().unwrap_or(r));
    rest.parse().ok()
}

fn is_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Removes per-run cgroups of executors that no longer exist, and stops the
/// systemd slice units of finished runs.
pub fn remove_stale() {
    let Ok(roots) = std::fs::read_dir(CGROUP_ROOT) else { return };
    let mut dirs: Vec<PathBuf> = vec![PathBuf::from(CGROUP_ROOT)];
    dirs.extend(roots.flatten().map(|e| e.path()).filter(|p| p.is_dir()));
    let slices: Vec<PathBuf> = dirs.iter().map(|d| d.join(SYSTEMD_SLICE)).collect();
    for dir in dirs.iter().chain(&slices) {
        let Ok(entries) = std::fs::read_dir(dir) else { continue };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if owner_pid(&name).is_some_and(|pid| !is_alive(pid)) {
                let _ = std::fs::remove_dir(entry.path());
            }
        }
    }
    stop_finished_slices();
}

/// Stops the slice units systemd still holds for runs whose executor is
/// gone (their cgroups were removed by the runs themselves).
fn stop_finished_slices() {
    let Ok(listed) = Command::new("systemctl")
        .args(["list-units", "--all", "--plain", "--no-legend", "--type=slice", "edgebench-*"])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
    else {
        return;
    };
    let finished: Vec<String> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|unit| owner_pid(unit).is_some_and(|pid| !is_alive(pid)))
        .map(String::from)
        .collect();
    if !finished.is_empty() {
        let _ = Command::new("systemctl")
            .arg("stop")
            .arg("--")
            .args(&finished)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_cgroups_are_recognised_by_their_owner() {
        assert_eq!(owner_pid("edgebench-4242"), Some(4242));
        assert_eq!(owner_pid("edgebench-4242_123456.slice"), Some(4242));
        assert_eq!(owner_pid("edgebench.slice"), None);
        assert_eq!(owner_pid("edgebench-x_1.slice"), None);
        assert_eq!(owner_pid("docker-4242.scope"), None);
    }

    #[test]
    fn drivers_are_named_as_the_engine_names_them() {
        assert_eq!(Driver::of("cgroupfs"), Some(Driver::Cgroupfs));
        assert_eq!(Driver::of("systemd"), Some(Driver::Systemd));
        assert_eq!(Driver::of("none"), None);
    }
}
