//! The container's own peak memory. Docker removes a container's cgroup as
//! soon as the container exits, taking its peak with it; so each run gets a
//! parent cgroup of its own (`--cgroup-parent`), which outlives the
//! container and whose peak covers it: `memory.max_usage_in_bytes` on
//! cgroup v1, `memory.peak` on cgroup v2. This needs the `cgroupfs` driver
//! and permission to create cgroups (root); elsewhere the executor falls
//! back to sampling the engine's stats, and the record says which it used.

use std::path::PathBuf;

use bollard::Docker;
use edgebench_model::executor::PeakMemory;

pub struct RunCgroup {
    name: String,
    dir: PathBuf,
    peak_file: &'static str,
    method: &'static str,
}

impl RunCgroup {
    pub async fn create(docker: &Docker) -> Option<RunCgroup> {
        let info = docker.info().await.ok()?;
        let driver = info.cgroup_driver.map(|d| d.to_string()).unwrap_or_default();
        if driver != "cgroupfs" {
            return None;
        }
        let name = format!("edgebench-{}", std::process::id());
        let v1 = PathBuf::from("/sys/fs/cgroup/memory");
        let (dir, peak_file, method) = if v1.join("memory.max_usage_in_bytes").exists() {
            (
                v1.join(&name),
                "memory.max_usage_in_bytes",
                "cgroup v1 memory.max_usage_in_bytes of a per-run parent cgroup",
            )
        } else {
            (
                PathBuf::from("/sys/fs/cgroup").join(&name),
                "memory.peak",
                "cgroup v2 memory.peak of a per-run parent cgroup",
            )
        };
        std::fs::create_dir(&dir).ok()?;
        let cgroup = RunCgroup { name, dir, peak_file, method };
        // memory.peak needs Linux 5.19 and the memory controller enabled;
        // without it, give up the cgroup so the caller samples stats instead.
        if !cgroup.dir.join(cgroup.peak_file).exists() {
            cgroup.remove();
            return None;
        }
        Some(cgroup)
    }

    pub fn parent_name(&self) -> String {
        format!("/{}", self.name)
    }

    pub fn peak(&self) -> Option<PeakMemory> {
        let text = std::fs::read_to_string(self.dir.join(self.peak_file)).ok()?;
        let bytes = text.trim().parse().ok()?;
        Some(PeakMemory { bytes, method: self.method.into() })
    }

    /// Removes the parent cgroup, and the ones the runtime made for it
    /// under the other cgroup v1 controllers.
    pub fn remove(self) {
        let _ = std::fs::remove_dir(&self.dir);
        if let Ok(controllers) = std::fs::read_dir("/sys/fs/cgroup") {
            for controller in controllers.flatten() {
                let _ = std::fs::remove_dir(controller.path().join(&self.name));
            }
        }
    }
}

/// Removes per-run cgroups of executors that no longer exist.
pub fn remove_stale() {
    let Ok(roots) = std::fs::read_dir("/sys/fs/cgroup") else { return };
    let mut dirs: Vec<PathBuf> = vec![PathBuf::from("/sys/fs/cgroup")];
    dirs.extend(roots.flatten().map(|e| e.path()).filter(|p| p.is_dir()));
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(pid) = name.strip_prefix("edgebench-").and_then(|p| p.parse::<u32>().ok()) else { continue };
            if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
                let _ = std::fs::remove_dir(entry.path());
            }
        }
    }
}
