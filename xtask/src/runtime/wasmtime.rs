//! `wasmtime`: the module under the embedded Wasmtime executor. `jit`
//! compiles at start (no cache); `aot` loads a module precompiled at build
//! time for the target.

use anyhow::Result;
use edgebench_model::manifest::ArtifactKind;
use edgebench_model::plan::Invocation;

use super::{CellContext, Runtime, executor_invocation};
use crate::programs::{self, Program};

pub struct Wasmtime;

impl Runtime for Wasmtime {
    fn name(&self) -> &'static str {
        "wasmtime"
    }

    fn description(&self) -> &'static str {
        "Wasmtime (Cranelift), embedded; jit: compile at start, aot: precompiled module"
    }

    fn variants(&self) -> &'static [&'static str] {
        &["jit", "aot"]
    }

    fn artifacts(&self, variant: &str) -> &'static [ArtifactKind] {
        if variant == "aot" { &[ArtifactKind::WasmtimePrecompiled] } else { &[ArtifactKind::Wasm] }
    }

    fn programs(&self) -> &'static [&'static Program] {
        &[&programs::WASMTIME]
    }

    fn invocation(&self, cell: &CellContext<'_>) -> Result<Invocation> {
        let module = cell.artifact(self.artifacts(cell.variant)[0])?;
        Ok(executor_invocation(&programs::WASMTIME, cell, module))
    }
}
