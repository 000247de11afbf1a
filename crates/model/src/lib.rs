//! Shared, pure data types of edgebench.
//!
//! Everything that crosses a process or machine boundary is defined here once:
//! the kernel suite, the artifacts manifest, the plan the device executes, the
//! records it writes, and the report an engine executor hands back to the
//! harness. Every serialized top-level type carries a schema version.

pub mod dataset;
pub mod device;
pub mod executor;
pub mod manifest;
pub mod plan;
pub mod record;
pub mod suite;

pub use dataset::Dataset;
