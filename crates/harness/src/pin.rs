//! Pinning the harness, and so every child it starts, to chosen CPUs
//! (a plan's `cpus`): children inherit the affinity across fork and exec.

/// Pins this process to `cpus`. Fails, before any run, if the device does
/// not have one of them.
pub fn pin(cpus: &[usize]) -> Result<(), String> {
    let online = online_cpus()?;
    if let Some(missing) = cpus.iter().find(|c| !online.contains(c)) {
        return Err(format!(
            "the plan pins runs to CPU {missing}, which this device does not offer (it has {}); change `cpus` in the pipeline",
            describe(&online)
        ));
    }
    // SAFETY: a zeroed cpu_set_t is the empty set; CPU_SET stays inside it
    // for the numbers checked above (every online CPU is below
    // CPU_SETSIZE), and sched_setaffinity reads exactly its size.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        for &cpu in cpus {
            libc::CPU_SET(cpu, &mut set);
        }
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            return Err(format!("pinning to CPUs {cpus:?}: {}", std::io::Error::last_os_error()));
        }
    }
    Ok(())
}

/// The CPUs this process may run on now.
pub fn online_cpus() -> Result<Vec<usize>, String> {
    // SAFETY: as in `pin`; sched_getaffinity writes at most the set's size.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return Err(format!("reading the CPU affinity: {}", std::io::Error::last_os_error()));
        }
        Ok((0..libc::CPU_SETSIZE as usize).filter(|&c| libc::CPU_ISSET(c, &set)).collect())
    }
}

fn describe(cpus: &[usize]) -> String {
    match cpus {
        [] => "none".into(),
        [one] => format!("CPU {one}"),
        many => format!("CPUs {}", many.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cpu_the_device_lacks_is_refused() {
        let err = pin(&[1023]).unwrap_err();
        assert!(err.contains("CPU 1023") && err.contains("change `cpus`"), "{err}");
    }

    #[test]
    fn pinning_to_an_offered_cpu_holds_for_children() {
        // In a thread of its own: affinity is per thread, and the test
        // harness's other threads keep theirs.
        std::thread::spawn(|| {
            let first = online_cpus().unwrap()[0];
            pin(&[first]).unwrap();
            assert_eq!(online_cpus().unwrap(), [first]);
            let out = std::process::Command::new("grep").args(["Cpus_allowed_list", "/proc/self/status"]).output();
            let text = String::from_utf8_lossy(&out.unwrap().stdout).into_owned();
            assert!(text.trim_end().ends_with(&format!("\t{first}")), "{text}");
        })
        .join()
        .unwrap();
    }
}
