//! Hardware counters of a run: the instructions and cycles its process (and
//! every process it starts) executes in user space, through
//! `perf_event_open` — where the kernel exposes a PMU (a Cortex-A53 has one;
//! many VMs do not).
//!
//! The launcher opens each counter on itself, disabled, inherited by the
//! tasks it creates and enabled when a task calls `exec`. The launcher never
//! execs, so its own counter stays at zero; the measured child's copy starts
//! counting at its `exec` and is folded into the launcher's counter when it
//! exits, so reading the launcher's descriptor after the child is reaped
//! gives the child's count from its first instruction to its last. Opening
//! and reading happen outside the measured span, and counting itself costs
//! nothing the run could see.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// What a counter counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// Instructions retired (`PERF_COUNT_HW_INSTRUCTIONS`).
    Instructions,
    /// CPU cycles (`PERF_COUNT_HW_CPU_CYCLES`).
    Cycles,
    /// The task's CPU time in nanoseconds, a software event every kernel
    /// with perf events has: the same mechanism where no PMU is exposed.
    TaskClock,
}

const PERF_TYPE_HARDWARE: u32 = 0;
const PERF_TYPE_SOFTWARE: u32 = 1;
const PERF_COUNT_HW_CPU_CYCLES: u64 = 0;
const PERF_COUNT_HW_INSTRUCTIONS: u64 = 1;
const PERF_COUNT_SW_TASK_CLOCK: u64 = 1;

/// `perf_event_attr` up to its first published size (`PERF_ATTR_SIZE_VER0`,
/// 64 bytes): every kernel with perf events accepts it.
#[repr(C)]
#[derive(Default)]
struct Attr {
    kind: u32,
    size: u32,
    config: u64,
    sample_period: u64,
    sample_type: u64,
    read_format: u64,
    flags: u64,
    wakeup_events: u32,
    bp_type: u32,
    config1: u64,
}

/// With each count, how long the counter was enabled and how long it was
/// actually counting: less means the PMU was shared (multiplexed) or the
/// task ran where this PMU does not count (a big.LITTLE core of another
/// kind), and the count is an estimate, so it is not reported.
const READ_FORMAT_ENABLED_AND_RUNNING: u64 = 1 | 2;
/// The descriptor closes at `exec`: the measured program does not inherit it.
const PERF_FLAG_FD_CLOEXEC: libc::c_ulong = 1 << 3;

const DISABLED: u64 = 1 << 0;
const INHERIT: u64 = 1 << 1;
const EXCLUDE_KERNEL: u64 = 1 << 5;
const EXCLUDE_HV: u64 = 1 << 6;
const ENABLE_ON_EXEC: u64 = 1 << 12;

/// One open counter of this process and the tasks it starts from now on.
pub struct Counter(OwnedFd);

impl Counter {
    /// Opens `event` for the next child's run (see the module docs). An
    /// error says why in words: no PMU, not permitted, …
    pub fn open(event: Event) -> Result<Counter, String> {
        let (kind, config) = match event {
            Event::Instructions => (PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS),
            Event::Cycles => (PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES),
            Event::TaskClock => (PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK),
        };
        let attr = Attr {
            kind,
            size: std::mem::size_of::<Attr>() as u32,
            config,
            read_format: READ_FORMAT_ENABLED_AND_RUNNING,
            flags: DISABLED | INHERIT | EXCLUDE_KERNEL | EXCLUDE_HV | ENABLE_ON_EXEC,
            ..Attr::default()
        };
        let (this_process, any_cpu, no_group) = (0, -1, -1);
        // SAFETY: a valid attribute of the size it states; the kernel returns a new descriptor or -1.
        let fd = unsafe {
            libc::syscall(
                libc::SYS_perf_event_open,
                &attr as *const Attr,
                this_process,
                any_cpu,
                no_group,
                PERF_FLAG_FD_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(why(event, io::Error::last_os_error()));
        }
        // SAFETY: a descriptor the kernel just gave us, owned by nobody else.
        Ok(Counter(unsafe { OwnedFd::from_raw_fd(fd as i32) }))
    }

    /// The count so far (after the child is reaped: its whole run); `None`
    /// when the counter did not count all the time it was enabled.
    pub fn read(&self) -> io::Result<Option<u64>> {
        let mut words = [0u64; 3];
        let size = std::mem::size_of_val(&words);
        // SAFETY: reading at most `size` bytes into a buffer of that size from our descriptor.
        let n = unsafe { libc::read(self.0.as_raw_fd(), words.as_mut_ptr().cast(), size) };
        match n {
            n if n < 0 => Err(io::Error::last_os_error()),
            n if n as usize == size => {
                let [value, enabled, running] = words;
                Ok((running == enabled).then_some(value))
            }
            n => Err(io::Error::other(format!("a counter read returned {n} bytes, not {size}"))),
        }
    }
}

/// Why a counter could not be opened, in words a reader can act on.
fn why(event: Event, error: io::Error) -> String {
    let name = match event {
        Event::Instructions => "instructions",
        Event::Cycles => "cycles",
        Event::TaskClock => "task-clock",
    };
    let meaning = match error.raw_os_error() {
        Some(libc::ENOENT | libc::EOPNOTSUPP) => {
            "this kernel exposes no such hardware counter (no PMU, as in many VMs)"
        }
        Some(libc::EACCES | libc::EPERM) => {
            "not permitted (kernel.perf_event_paranoid, or the container's seccomp profile forbids perf_event_open)"
        }
        Some(libc::ENOSYS) => "this kernel has no perf events",
        Some(libc::ENODEV) => "the PMU does not support this event",
        _ => "failed",
    };
    format!("perf_event_open({name}): {meaning} ({error})")
}

/// Whether this device counts instructions: `Ok`, or why not.
pub fn support() -> Result<(), String> {
    Counter::open(Event::Instructions).map(drop)
}

/// The counters of one run, opened before its child starts.
pub struct RunCounters {
    instructions: Option<Counter>,
    cycles: Option<Counter>,
}

impl RunCounters {
    /// Opens what the device has; nothing where it has none.
    pub fn open() -> RunCounters {
        RunCounters { instructions: Counter::open(Event::Instructions).ok(), cycles: Counter::open(Event::Cycles).ok() }
    }

    /// `(instructions, cycles)` of the reaped child.
    pub fn read(&self) -> (Option<u64>, Option<u64>) {
        let read = |c: &Option<Counter>| c.as_ref().and_then(|c| c.read().ok().flatten());
        (read(&self.instructions), read(&self.cycles))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    /// The mechanism, with the software event every kernel has: a child's
    /// CPU time from its `exec` to its exit, counted through the parent's
    /// inherited counter — more for more work, nothing of the parent's.
    #[test]
    fn an_inherited_counter_counts_the_child_from_exec_to_exit() {
        let busy = |n: u32| {
            let counter = Counter::open(Event::TaskClock).expect("task-clock is a software event");
            let before = counter.read().unwrap().expect("counting all along");
            // The parent's own work before and after is not counted.
            let mut x = 0u64;
            for i in 0..2_000_000u64 {
                x = x.wrapping_add(std::hint::black_box(i));
            }
            assert_eq!(counter.read().unwrap(), Some(before), "disabled until an exec ({x})");
            let script = format!("i=0; while [ $i -lt {n} ]; do i=$((i+1)); done");
            assert!(Command::new("/bin/sh").args(["-c", &script]).status().unwrap().success());
            counter.read().unwrap().expect("a software event is never multiplexed")
        };
        let (little, much) = (busy(10), busy(200_000));
        assert!(little > 0, "the child's CPU time is counted");
        assert!(much > 10 * little, "more work, more counted: {little} ns, then {much} ns");
    }

    #[test]
    fn the_counter_does_not_reach_the_measured_program() {
        let _counter = Counter::open(Event::TaskClock).unwrap();
        // The child names what each of its descriptors is: a perf event
        // among them would be ours, leaked. (Numbers say nothing: the
        // child's own listing may reuse the number ours had.)
        let out = Command::new("/bin/sh")
            .args(["-c", "for fd in /proc/self/fd/*; do readlink \"$fd\"; done"])
            .output()
            .unwrap();
        let held = String::from_utf8_lossy(&out.stdout);
        assert!(!held.is_empty() && !held.contains("perf_event"), "the child holds:\n{held}");
    }

    #[test]
    fn a_missing_counter_says_why() {
        let message = why(Event::Instructions, io::Error::from_raw_os_error(libc::ENOENT));
        assert!(message.starts_with("perf_event_open(instructions): this kernel exposes no such hardware counter"));
        assert_eq!(support().err().is_some(), Counter::open(Event::Instructions).is_err());
    }
}
