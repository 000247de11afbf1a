//! Runtimes: how a cell (kernel × dataset × runtime × variant) becomes a
//! command line on the device. Each runtime is one file and one entry in
//! [`ALL`]; nothing else needs to change to add one.
//!
//! A Wasm runtime's variant with the suffix [`SIMD_SUFFIX`] (`jit+simd`) is
//! the same engine and settings running the kernels built with 128-bit
//! SIMD: the runtime sees its own variant name and asks for its usual
//! artifact kinds; [`CellContext::artifact`] hands it the SIMD build.

mod command;
mod docker;
mod native;
mod wasm3;
mod wasmer;
mod wasmi;
mod wasmtime;

use std::collections::BTreeMap;

use anyhow::{Result, anyhow};
use edgebench_model::Dataset;
use edgebench_model::executor::{Guest, INPUTS_GUEST_DIR};
use edgebench_model::manifest::{Artifact, ArtifactKind, Manifest};
use edgebench_model::plan::{Invocation, WORKDIR};
use edgebench_model::suite::Kernel;
use edgebench_model::workload::{INPUTS, inputs_dir};

use crate::toolchain::programs::Program;

/// The suffix of a variant that runs the kernels built with 128-bit SIMD.
pub const SIMD_SUFFIX: &str = "+simd";

/// A variant's own name and whether it runs the SIMD build.
pub fn split_simd(variant: &str) -> (&str, bool) {
    match variant.strip_suffix(SIMD_SUFFIX) {
        Some(base) => (base, true),
        None => (variant, false),
    }
}

pub trait Runtime: Sync {
    fn name(&self) -> &'static str;
    /// One line for `--help`-style listings and reports.
    fn description(&self) -> &'static str;
    /// The variants this runtime knows; the first is the default. An empty
    /// list means variants are named freely by the pipeline (`command`).
    fn variants(&self) -> &'static [&'static str];
    /// Options the pipeline may set for this runtime, beside `variants`.
    fn options(&self) -> &'static [&'static str] {
        &[]
    }
    /// Checks the pipeline's options for a variant before anything runs.
    fn check(&self, _variant: &str, _options: &Options) -> Result<(), String> {
        Ok(())
    }
    /// Whether the variant runs Wasm built with SIMD (`<variant>+simd`), or
    /// why not. The device's probe checks again where support depends on
    /// the machine.
    fn simd(&self, _variant: &str) -> Result<(), String> {
        Err(format!("runtime `{}` runs no Wasm modules, so it has no `{SIMD_SUFFIX}` variants", self.name()))
    }
    /// Whether it can give a workload its input files (read-only), or why not.
    fn reads_inputs(&self) -> Result<(), String> {
        Ok(())
    }
    /// The kernel artifacts a variant runs.
    fn artifacts(&self, variant: &str) -> &'static [ArtifactKind];
    /// Whether its engine is installed on the device outside edgebench (the
    /// Docker engine, a templated program), so a footprint cannot count it.
    fn external_engine(&self) -> bool {
        false
    }
    /// The device programs a variant (with `simd`, its SIMD form) needs.
    fn programs(&self, _variant: &str, _simd: bool) -> &'static [&'static Program] {
        &[]
    }
    fn invocation(&self, cell: &CellContext<'_>) -> Result<Invocation>;
    /// A command that must succeed on the device for the variant (with
    /// `simd`, its SIMD form) to run, and whose failure output says why it
    /// cannot.
    fn probe(&self, _variant: &str, _simd: bool, _options: &Options, _manifest: &Manifest) -> Option<Invocation> {
        None
    }
}

/// A runtime's options from the pipeline, as plain strings.
pub type Options = BTreeMap<String, String>;

/// Everything a runtime may use to build a cell's command line.
pub struct CellContext<'a> {
    pub kernel: &'a Kernel,
    pub dataset: Dataset,
    /// The runtime's own variant name, without [`SIMD_SUFFIX`].
    pub variant: &'a str,
    /// Whether the cell runs the SIMD build of its kernel.
    pub simd: bool,
    pub options: &'a Options,
    pub manifest: &'a Manifest,
    pub memory_limit: Option<u64>,
}

impl CellContext<'_> {
    /// The artifact of this cell's kernel and dataset of `kind` (its SIMD
    /// build for a SIMD cell).
    pub fn artifact(&self, kind: ArtifactKind) -> Result<&Artifact> {
        let kind = kind.with_simd(self.simd);
        let dataset = self.kernel.build_dataset(self.dataset);
        self.manifest.find(&self.kernel.name, dataset, kind).ok_or_else(|| {
            anyhow!(
                "no {} artifact of kernel `{}`{} in the manifest of target `{}`; run `cargo xtask build`",
                kind.as_str(),
                self.kernel.name,
                dataset.map(|d| format!(" at {d}")).unwrap_or_default(),
                self.manifest.target
            )
        })
    }

    /// The program's own arguments (a workload's at this dataset; none
    /// for a kernel) for a program that runs on the device
    /// itself (native code, a command): `{inputs}` is the work directory's
    /// copy of its input files.
    pub fn args(&self) -> Vec<String> {
        self.with_inputs_at(self.kernel.args(self.dataset), &self.inputs_on_device())
    }

    /// The workload's arguments inside a Wasm engine or a container, where
    /// its input files are at [`INPUTS_GUEST_DIR`].
    pub fn guest_args(&self) -> Vec<String> {
        self.with_inputs_at(self.kernel.args(self.dataset), INPUTS_GUEST_DIR)
    }

    /// The workload's environment, `{inputs}` as in [`Self::args`].
    pub fn env(&self) -> BTreeMap<String, String> {
        self.env_with_inputs_at(&self.inputs_on_device())
    }

    /// The workload's environment, `{inputs}` as in [`Self::guest_args`].
    pub fn guest_env(&self) -> Vec<(String, String)> {
        self.env_with_inputs_at(INPUTS_GUEST_DIR).into_iter().collect()
    }

    /// The directory of the workload's input files in the work directory,
    /// if it reads any.
    pub fn inputs(&self) -> Option<String> {
        let workload = self.kernel.workload.as_ref()?;
        (!workload.inputs.is_empty()).then(|| inputs_dir(&self.kernel.name))
    }

    fn inputs_on_device(&self) -> String {
        format!("{WORKDIR}/{}", inputs_dir(&self.kernel.name))
    }

    fn with_inputs_at<'s>(&self, texts: impl IntoIterator<Item = &'s String>, at: &str) -> Vec<String> {
        texts.into_iter().map(|t| t.replace(INPUTS, at)).collect()
    }

    fn env_with_inputs_at(&self, at: &str) -> BTreeMap<String, String> {
        let Some(workload) = &self.kernel.workload else { return BTreeMap::new() };
        workload.env.iter().map(|(k, v)| (k.clone(), v.replace(INPUTS, at))).collect()
    }
}

pub static ALL: &[&dyn Runtime] = &[
    &native::Native,
    &docker::Docker,
    &wasmtime::Wasmtime,
    &wasmer::Wasmer,
    &wasmi::Wasmi,
    &wasm3::Wasm3,
    &command::Command,
];

pub fn find(name: &str) -> Option<&'static dyn Runtime> {
    ALL.iter().copied().find(|r| r.name() == name)
}

pub fn names() -> impl Iterator<Item = &'static str> + Clone {
    ALL.iter().map(|r| r.name())
}

/// Where `program` is in the work directory: the path the manifest records
/// (for the base side of a same-session A/B of two revisions, below that
/// revision's directory), so each side runs its own build of it.
pub fn program_path(manifest: &Manifest, program: &Program) -> String {
    manifest
        .artifacts
        .iter()
        .find(|a| a.kind == ArtifactKind::Program && a.name == program.binary)
        .map_or_else(|| crate::toolchain::programs::path(program), |a| a.path.clone())
}

/// The standard invocation of an engine executor.
pub fn executor_invocation(program: &Program, cell: &CellContext<'_>, module: &Artifact) -> Invocation {
    let command = edgebench_model::executor::ExecutorCommand::Run {
        variant: cell.variant.to_string(),
        max_memory: cell.memory_limit,
        image: None,
        module: module.path.clone(),
        guest: Guest { args: cell.guest_args(), env: cell.guest_env(), inputs: cell.inputs() },
    };
    let mut argv = vec![program_path(cell.manifest, program)];
    argv.extend(command.to_args());
    Invocation { argv, executor_report: true, ..Default::default() }
}

/// The standard probe of an engine executor for a variant (and SIMD).
pub fn executor_probe(program: &Program, manifest: &Manifest, variant: &str, simd: bool) -> Invocation {
    let command = edgebench_model::executor::ExecutorCommand::Probe {
        variant: variant.to_string(),
        simd,
        image: None,
        rootfs: None,
    };
    let mut argv = vec![program_path(manifest, program)];
    argv.extend(command.to_args());
    Invocation { argv, ..Default::default() }
}
