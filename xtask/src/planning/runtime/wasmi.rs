//! `wasmi`: the module under the embedded Wasmi interpreter. `eager`
//! translates every function into Wasmi's bytecode before instantiation;
//! `lazy` validates up front and translates each function on first call.

use anyhow::Result;
use edgebench_model::manifest::ArtifactKind;
use edgebench_model::plan::Invocation;

use super::{CellContext, Runtime, executor_invocation};
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

    fn artifacts(&self, _variant: &str) -> &'static [ArtifactKind] {
        &[ArtifactKind::Wasm]
    }

    fn programs(&self, _variant: &str) -> &'static [&'static Program] {
        &[&programs::WASMI]
    }

    fn invocation(&self, cell: &CellContext<'_>) -> Result<Invocation> {
        let module = cell.artifact(ArtifactKind::Wasm)?;
        Ok(executor_invocation(&programs::WASMI, cell, module))
    }
}
