//! `wasmtime`: the module under an embedded Wasmtime executor. `jit`
//! compiles at start (no cache) in `edgebench-wasmtime`; `aot` loads a
//! module precompiled at build time for the target in
//! `edgebench-wasmtime-aot`, which has no compiler.

use anyhow::Result;
use edgebench_model::manifest::ArtifactKind;
use edgebench_model::plan::Invocation;

use super::{CellContext, Runtime, executor_invocation};
use crate::toolchain::programs::{self, Program};

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

    /// `aot` needs the compiler too: it precompiles at build time.
    fn programs(&self, variant: &str) -> &'static [&'static Program] {
        if variant == "aot" { &[&programs::WASMTIME, &programs::WASMTIME_AOT] } else { &[&programs::WASMTIME] }
    }

    fn invocation(&self, cell: &CellContext<'_>) -> Result<Invocation> {
        let module = cell.artifact(self.artifacts(cell.variant)[0])?;
        let executor = if cell.variant == "aot" { &programs::WASMTIME_AOT } else { &programs::WASMTIME };
        Ok(executor_invocation(executor, cell, module))
    }
}
