//! `wasmtime`: the module under an embedded Wasmtime executor. In
//! `edgebench-wasmtime`, compiling at start (no cache): `jit` with
//! Cranelift, `winch` with Winch (the baseline compiler), `pulley` with
//! Cranelift to Pulley bytecode that Wasmtime's interpreter runs. `aot`
//! loads a module precompiled at build time for the target in
//! `edgebench-wasmtime-aot`, which has no compiler.

use anyhow::Result;
use edgebench_model::manifest::{ArtifactKind, Manifest};
use edgebench_model::plan::Invocation;

use super::{CellContext, Options, Runtime, executor_invocation, executor_probe};
use crate::toolchain::programs::{self, Program};

pub struct Wasmtime;

impl Runtime for Wasmtime {
    fn name(&self) -> &'static str {
        "wasmtime"
    }

    fn description(&self) -> &'static str {
        "Wasmtime, embedded; jit (Cranelift) / winch / pulley (interpreter): compile at start, aot: precompiled"
    }

    fn variants(&self) -> &'static [&'static str] {
        &["jit", "aot", "winch", "pulley"]
    }

    /// Every compiler Wasmtime has compiles SIMD, Winch on fewer
    /// architectures: the device's probe tells.
    fn simd(&self, _variant: &str) -> Result<(), String> {
        Ok(())
    }

    fn artifacts(&self, variant: &str) -> &'static [ArtifactKind] {
        if variant == "aot" { &[ArtifactKind::WasmtimePrecompiled] } else { &[ArtifactKind::Wasm] }
    }

    /// `aot` needs the compiler too: it precompiles at build time.
    fn programs(&self, variant: &str, _simd: bool) -> &'static [&'static Program] {
        if variant == "aot" { &[&programs::WASMTIME, &programs::WASMTIME_AOT] } else { &[&programs::WASMTIME] }
    }

    fn invocation(&self, cell: &CellContext<'_>) -> Result<Invocation> {
        let module = cell.artifact(self.artifacts(cell.variant)[0])?;
        let executor = if cell.variant == "aot" { &programs::WASMTIME_AOT } else { &programs::WASMTIME };
        Ok(executor_invocation(executor, cell, module))
    }

    /// Winch and Pulley check on the device that they compile there, and
    /// any compile-at-start variant that it compiles SIMD there. (`aot`'s
    /// SIMD modules are compiled when they are built, by the target's own
    /// executor.)
    fn probe(&self, variant: &str, simd: bool, _options: &Options, manifest: &Manifest) -> Option<Invocation> {
        let probed = matches!(variant, "winch" | "pulley") || (simd && variant != "aot");
        probed.then(|| executor_probe(&programs::WASMTIME, manifest, variant, simd))
    }
}
