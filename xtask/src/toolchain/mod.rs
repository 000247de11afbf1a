//! The toolchain wing: everything that turns sources into artifacts for a
//! target. The pinned C toolchain (zig, from a verified PyPI wheel), the
//! kernels and the original PolyBench/C suite compiled with it, the device
//! programs cross-built static for any architecture (a Debian sid root where
//! the Rust toolchain lacks the target), container root filesystems,
//! the emulated machine's disk image, qemu-user through binfmt_misc, Debian tools installed on demand, the
//! workflow lint, another revision of the project built by its own build
//! (for a same-session A/B bench), and the up-to-date stamps that let a build skip what did
//! not change.
//!
//! Depends on nothing else of xtask but `project`; every other wing may use it.

pub mod actionlint;
pub mod apt;
pub mod arch;
pub mod binfmt;
pub mod cross;
pub mod debian_source;
pub mod deny;
pub mod guest;
pub mod images;
pub mod kernels;
pub mod polybench;
pub mod programs;
pub mod revision;
pub mod sid_root;
pub mod up_to_date;
pub mod wheels;
pub mod workload;
pub mod zig;

/// What a finished command printed, stdout then stderr, for an error that
/// shows it.
pub fn printed(output: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}
