//! `wasm3`: the module under the embedded wasm3 interpreter (C, built from
//! its pinned source). `eager` translates every function into wasm3's
//! handler chains before `_start` runs; `lazy`, wasm3's default, translates
//! each function on its first call. wasm3 has no SIMD.

use anyhow::Result;
use edgebench_model::manifest::ArtifactKind;
use edgebench_model::plan::Invocation;

use super::{CellContext, Runtime, executor_invocation};
use crate::toolchain::programs::{self, Program};

pub struct Wasm3;

impl Runtime for Wasm3 {
    fn name(&self) -> &'static str {
        "wasm3"
    }

    fn description(&self) -> &'static str {
        "wasm3 interpreter (C), embedded; eager or lazy translation"
    }

    fn variants(&self) -> &'static [&'static str] {
        &["eager", "lazy"]
    }

    fn simd(&self, _variant: &str) -> Result<(), String> {
        Err("wasm3 does not implement Wasm SIMD".into())
    }

    fn reads_inputs(&self) -> Result<(), String> {
        Err("wasm3's WASI in edgebench has stdio, arguments, the environment and clocks, but no file system".into())
    }

    fn artifacts(&self, _variant: &str) -> &'static [ArtifactKind] {
        &[ArtifactKind::Wasm]
    }

    fn programs(&self, _variant: &str, _simd: bool) -> &'static [&'static Program] {
        &[&programs::WASM3]
    }

    fn invocation(&self, cell: &CellContext<'_>) -> Result<Invocation> {
        let module = cell.artifact(ArtifactKind::Wasm)?;
        Ok(executor_invocation(&programs::WASM3, cell, module))
    }
}
