//! The artifacts manifest: everything `cargo xtask build` produced for one
//! target, with hashes, so the device can verify what it runs and every
//! figure can be traced to the exact binary that produced it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Dataset;
use crate::workload::WorkloadBuild;

pub const MANIFEST_SCHEMA: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub schema: u32,
    pub target: String,
    /// Rust-style triple of the device, e.g. `aarch64-unknown-linux-musl`.
    pub triple: String,
    pub compilers: Vec<CompilerInfo>,
    pub artifacts: Vec<Artifact>,
}

/// One compiler used for the kernels, exactly as invoked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompilerInfo {
    /// The artifact kind it produced (`wasm`, `native`).
    pub kind: ArtifactKind,
    pub command: String,
    pub version: String,
    pub target: String,
    pub flags: Vec<String>,
    /// The external suite these flags are for (`polybench`); `None` for ours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suite: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ArtifactKind {
    /// A wasm32-wasip1 module.
    Wasm,
    /// A statically linked executable for the target.
    Native,
    /// A module precompiled by Wasmtime for the target (`.cwasm`).
    WasmtimePrecompiled,
    /// A wasm32-wasip1 module built with 128-bit SIMD (`-msimd128`).
    WasmSimd,
    /// A [`ArtifactKind::WasmSimd`] module precompiled by Wasmtime.
    WasmtimePrecompiledSimd,
    /// A device program: the harness or an engine executor.
    Program,
    /// A root filesystem tarball for a container image (Debian minbase).
    Rootfs,
    /// A file a workload reads, shipped read-only beside it (named by the
    /// workload; its path is below the workload's inputs directory).
    Input,
}

impl ArtifactKind {
    /// Whether this is a Wasm module as compiled from C (scalar or SIMD).
    pub fn is_wasm_module(self) -> bool {
        matches!(self, ArtifactKind::Wasm | ArtifactKind::WasmSimd)
    }

    /// The kinds compiled from C: always Wasm and native, and the SIMD
    /// build of the Wasm module when asked for.
    pub fn compiled(simd: bool) -> Vec<ArtifactKind> {
        let mut kinds = vec![ArtifactKind::Wasm, ArtifactKind::Native];
        if simd {
            kinds.push(ArtifactKind::WasmSimd);
        }
        kinds
    }

    /// The kind a SIMD variant runs in place of this one (with `simd`): the
    /// SIMD build of a Wasm module, scalar or precompiled.
    pub fn with_simd(self, simd: bool) -> ArtifactKind {
        match (self, simd) {
            (ArtifactKind::Wasm, true) => ArtifactKind::WasmSimd,
            (ArtifactKind::WasmtimePrecompiled, true) => ArtifactKind::WasmtimePrecompiledSimd,
            (kind, _) => kind,
        }
    }

    /// The module Wasmtime precompiles from this kind, if it is a Wasm module.
    pub fn wasmtime_precompiled(self) -> Option<ArtifactKind> {
        match self {
            ArtifactKind::Wasm => Some(ArtifactKind::WasmtimePrecompiled),
            ArtifactKind::WasmSimd => Some(ArtifactKind::WasmtimePrecompiledSimd),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ArtifactKind::Wasm => "wasm",
            ArtifactKind::Native => "native",
            ArtifactKind::WasmtimePrecompiled => "wasmtime-precompiled",
            ArtifactKind::WasmSimd => "wasm-simd",
            ArtifactKind::WasmtimePrecompiledSimd => "wasmtime-precompiled-simd",
            ArtifactKind::Program => "program",
            ArtifactKind::Rootfs => "rootfs",
            ArtifactKind::Input => "input",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Artifact {
    /// Kernel name, or the program's name for [`ArtifactKind::Program`].
    pub name: String,
    pub dataset: Option<Dataset>,
    pub kind: ArtifactKind,
    /// Path relative to the target's artifact directory.
    pub path: String,
    pub size: u64,
    pub sha256: String,
    /// Set for an artifact built from an external suite's sources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suite: Option<SuiteSource>,
    /// Set for an artifact of a workload of the user's own: how it was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<WorkloadBuild>,
}

/// What an artifact of an external suite was built from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuiteSource {
    /// The suite, e.g. `polybench`.
    pub suite: String,
    /// The checkout it was built from, as an absolute path.
    pub root: String,
    /// The sha256 of every file compiled or included, by path below `root`.
    pub sources: BTreeMap<String, String>,
    /// The suite's own switches it was built with (dataset, timing or array dumps).
    pub defines: Vec<String>,
}

impl Manifest {
    pub fn find(&self, name: &str, dataset: Option<Dataset>, kind: ArtifactKind) -> Option<&Artifact> {
        self.artifacts
            .iter()
            .find(|a| a.name == name && a.kind == kind && (a.dataset == dataset || kind == ArtifactKind::Program))
    }
}
