//! Shared, pure data types of edgebench.
//!
//! Everything that crosses a process or machine boundary is defined here once:
//! the kernel suite and the user's workloads, the artifacts manifest, the plan the device executes, the
//! records it writes, the run directory host and harness share (file names,
//! progress lines, exit codes), the digests both compute, and the report an
//! engine executor hands back to the harness. Every serialized top-level type
//! carries a schema version.
//!
//! This crate depends on nothing of edgebench's own; everything else depends
//! on it, and host and device meet only here.

pub mod dataset;
pub mod device;
#[cfg(feature = "digest")]
pub mod digest;
pub mod executor;
pub mod manifest;
pub mod plan;
pub mod record;
pub mod rundir;
pub mod suite;
pub mod workload;

pub use dataset::Dataset;
