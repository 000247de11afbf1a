//! `wasmi`: the module under the embedded Wasmi interpreter. `eager`
//! translates every function into Wasmi's bytecode before instantiation;
//! `lazy` validates up front and translates each function on first call.
//! Scalar modules run in `edgebench-wasmi`, built without Wasmi's SIMD:
//! with it, every value slot is 128 bits wide, which made scalar kernels
//! 4–20 % slower here. `+simd` variants run in `edgebench-wasmi-simd`.

use anyhow::Result;
use edgebench_model::manifest::{ArtifactKind, Manifest};
use edgebench_model::plan::Invocation;

use super::{CellContext, Options, Runtime, executor_invocation, executor_probe};
use crate::toolchain::programs::{self, Program};

pub struct Wasmi;

impl Runtime for Wasmi {
    fn name(&self) -> &'static str {
        "wasmi"
    }

    fn description(&self) -> &'static str {
        "Wasmi interpreter, embedded; eager or lazy translation to its bytecode"
    }

    fn variants(&self) -> &'static [&'static str] {
        &["eager", "lazy"]
    }

    fn simd(&self, _variant: &str) -> Result<(), String> {
        Ok(())
    }

    fn artifacts(&self, _variant: &str) -> &'static [ArtifactKind] {
        &[ArtifactKind::Wasm]
    }

    fn programs(&self, _variant: &str, simd: bool) -> &'static [&'static Program] {
        if simd { &[&programs::WASMI_SIMD] } else { &[&programs::WASMI] }
    }

    fn invocation(&self, cell: &CellContext<'_>) -> Result<Invocation> {
        let module = cell.artifact(ArtifactKind::Wasm)?;
        Ok(executor_invocation(self.programs(cell.variant, cell.simd)[0], cell, module))
    }

    /// A SIMD variant checks that its executor translates SIMD.
    fn probe(&self, variant: &str, simd: bool, _options: &Options, manifest: &Manifest) -> Option<Invocation> {
        simd.then(|| executor_probe(&programs::WASMI_SIMD, manifest, variant, simd))
    }
}
