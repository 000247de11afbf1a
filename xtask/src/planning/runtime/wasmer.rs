//! `wasmer`: the module under the embedded Wasmer executor, with the
//! compiler named by the variant.

use anyhow::Result;
use edgebench_model::manifest::{ArtifactKind, Manifest};
use edgebench_model::plan::Invocation;

use super::{CellContext, Options, Runtime, executor_invocation, executor_probe};
use crate::toolchain::programs::{self, Program};

pub struct Wasmer;

impl Runtime for Wasmer {
    fn name(&self) -> &'static str {
        "wasmer"
    }

    fn description(&self) -> &'static str {
        "Wasmer, embedded; cranelift (its default), singlepass, or llvm"
    }

    fn variants(&self) -> &'static [&'static str] {
        &["cranelift", "singlepass", "llvm"]
    }

    fn simd(&self, variant: &str) -> Result<(), String> {
        match variant {
            "singlepass" => Err("Wasmer's Singlepass compiler does not support Wasm SIMD".into()),
            _ => Ok(()),
        }
    }

    fn artifacts(&self, _variant: &str) -> &'static [ArtifactKind] {
        &[ArtifactKind::Wasm]
    }

    /// LLVM has an executor of its own: it is large, and its build needs
    /// LLVM's development files (see `programs::WASMER_LLVM`).
    fn programs(&self, variant: &str, _simd: bool) -> &'static [&'static Program] {
        if variant == "llvm" { &[&programs::WASMER_LLVM] } else { &[&programs::WASMER] }
    }

    fn invocation(&self, cell: &CellContext<'_>) -> Result<Invocation> {
        let module = cell.artifact(ArtifactKind::Wasm)?;
        Ok(executor_invocation(self.programs(cell.variant, cell.simd)[0], cell, module))
    }

    /// The LLVM executor checks on the device that its backend works there;
    /// a SIMD variant, that it compiles SIMD there.
    fn probe(&self, variant: &str, simd: bool, _options: &Options, manifest: &Manifest) -> Option<Invocation> {
        (variant == "llvm" || simd).then(|| executor_probe(self.programs(variant, simd)[0], manifest, variant, simd))
    }
}
