//! The device side of edgebench.
//!
//! `edgebench-harness run plan.json` verifies the files the plan uses, probes
//! the runtimes, then executes every planned run as a fresh child process,
//! measured from spawn to exit (see [`measure`]) by a small launcher process
//! (see [`launcher`]), with its instructions and cycles where the device has
//! hardware counters (see [`counters`]), and appends one
//! [`RunRecord`](edgebench_model::record::RunRecord) per run to the results
//! file. Interrupted, it resumes where it stopped (see [`results`]).

pub mod callgrind;
pub mod classify;
pub mod counters;
pub mod detach;
pub mod device;
pub mod launcher;
pub mod measure;
pub mod pin;
pub mod results;
pub mod runner;
pub mod spawn;
pub mod verify;
