//! The device wing: where a plan runs. Targets (`local`, or devices in
//! `pipelines/targets.yaml`), the OpenSSH connection to a device, the
//! preflight that says whether a bench can run there, the session that
//! deploys a plan, runs the harness and brings its records home, and the
//! progress shown meanwhile, and which runtime variants can run there at
//! all, found before anything is built; and the emulated machine it boots
//! for a target that is one.
//!
//! It talks to the harness only through what `edgebench-model` defines of
//! a run directory: the plan, the records, the progress lines, the exit
//! codes of `follow`. Depends on `toolchain` and `planning`.

pub mod availability;
pub mod machine;
pub mod preflight;
pub mod progress;
pub mod session;
pub mod ssh;
pub mod target;
