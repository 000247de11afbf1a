//! The planning wing: from what a user writes to what a device executes.
//! A pipeline (YAML, validated with file:line:column errors) names kernels
//! of the suite, datasets and runtimes; each runtime turns a cell into a
//! command line; the plan holds every cell resolved, the files they use
//! with their hashes, a seeded run order and the settings the run was made
//! with; a same-session A/B bench of two revisions merges both sides' plans
//! into one. Once planned, nothing downstream reads the pipeline again.
//!
//! Depends on `toolchain` (which programs and artifacts a runtime needs).

pub mod pipeline;
pub mod plan;
pub mod runtime;
pub mod sides;
pub mod suggestions;
pub mod suite;
pub mod yaml;
