//! The device programs — the harness and the executors of the embedded
//! engines — as a catalogue: each one's package, binary, features and what
//! its build needs beyond Rust. [`crate::toolchain::cross`] builds them.

use crate::toolchain::wheels::PinnedSource;

/// A device program: its cargo package and binary name.
#[derive(Debug, PartialEq, Eq)]
pub struct Program {
    /// Its Cargo.toml, relative to the workspace root.
    pub manifest: &'static str,
    pub binary: &'static str,
    /// The cargo features it is built with; `None`: the package's defaults.
    pub features: Option<&'static [&'static str]>,
    /// System libraries its build needs; such a program is built in the
    /// Debian sid root (see [`crate::toolchain::sid_root`]).
    pub system: Option<&'static SystemNeeds>,
    /// C source its build script compiles, provisioned before the build.
    pub source: Option<&'static PinnedSource>,
}

impl Program {
    /// Cargo's arguments selecting this program and its features.
    pub fn cargo_args(&self) -> Vec<String> {
        let mut args = vec!["--bin".to_string(), self.binary.to_string()];
        if let Some(features) = self.features {
            args.push("--no-default-features".into());
            if !features.is_empty() {
                args.extend(["--features".into(), features.join(",")]);
            }
        }
        args
    }
}

pub const HARNESS: Program = Program {
    manifest: "crates/harness/Cargo.toml",
    binary: "edgebench-harness",
    features: None,
    system: None,
    source: None,
};
/// Wasmtime with Cranelift: `jit`, and precompiling for `aot`.
pub const WASMTIME: Program = Program {
    manifest: "crates/exec-wasmtime/Cargo.toml",
    binary: "edgebench-wasmtime",
    features: None,
    system: None,
    source: None,
};
/// Wasmtime's runtime without a compiler: `aot`.
pub const WASMTIME_AOT: Program = Program {
    manifest: "crates/exec-wasmtime/Cargo.toml",
    binary: "edgebench-wasmtime-aot",
    features: Some(&[]),
    system: None,
    source: None,
};
pub const WASMER: Program = Program {
    manifest: "crates/exec-wasmer/Cargo.toml",
    binary: "edgebench-wasmer",
    features: None,
    system: None,
    source: None,
};
/// The Wasmi interpreter: `eager` and `lazy`, on scalar modules.
pub const WASMI: Program = Program {
    manifest: "crates/exec-wasmi/Cargo.toml",
    binary: "edgebench-wasmi",
    features: None,
    system: None,
    source: None,
};
/// The Wasmi interpreter with its SIMD: `eager+simd` and `lazy+simd`.
pub const WASMI_SIMD: Program = Program {
    manifest: "crates/exec-wasmi/Cargo.toml",
    binary: "edgebench-wasmi-simd",
    features: Some(&["simd"]),
    system: None,
    source: None,
};
/// The wasm3 interpreter: `eager` and `lazy`, compiled from wasm3's C.
pub const WASM3: Program = Program {
    manifest: "crates/exec-wasm3/Cargo.toml",
    binary: "edgebench-wasm3",
    features: None,
    system: None,
    source: Some(&WASM3_SOURCE),
};

/// wasm3 0.5.0's C core. crates.io's `wasm3-sys` bundles 0.4.7, which lacks
/// the bulk-memory operations every kernel uses; wasm3's author publishes
/// the 0.5.0 core in the `pywasm3` sdist (`wasm3/`, MIT).
pub const WASM3_SOURCE: PinnedSource = PinnedSource {
    name: "wasm3",
    package: "pywasm3",
    version: "0.5.0",
    sdist: "pywasm3-0.5.0.tar.gz",
    sha256: "5a47c8a39f7f6ae71b3316b2e5d86c9d0db6e771a65f09a86e4d4aa3a19aefcc",
    dir: "pywasm3-0.5.0/wasm3",
    env: "EDGEBENCH_WASM3_SOURCE",
};

pub const DOCKER: Program = Program {
    manifest: "crates/exec-docker/Cargo.toml",
    binary: "edgebench-docker",
    features: None,
    system: None,
    source: None,
};

/// Wasmer with its LLVM backend only: built when a pipeline runs
/// `wasmer/llvm`, in the Debian sid root, which has LLVM 22 (see
/// [`crate::toolchain::sid_root`]).
pub const WASMER_LLVM: Program = Program {
    manifest: "crates/exec-wasmer/Cargo.toml",
    binary: "edgebench-wasmer-llvm",
    features: Some(&["llvm"]),
    system: Some(&LLVM_22),
    source: None,
};

/// LLVM 22, which wasmer 7.4's LLVM backend (through inkwell and llvm-sys
/// 221) needs; of Debian's suites only sid has it.
const LLVM_22: SystemNeeds = SystemNeeds {
    what: "LLVM 22",
    packages: &[
        "llvm-22-dev",
        "libpolly-22-dev",
        "libzstd-dev",
        "zlib1g-dev",
        "libffi-dev",
        "libxml2-dev",
        "libstdc++-16-dev",
    ],
    env: &[("LLVM_SYS_221_PREFIX", "/usr/lib/llvm-22")],
    static_libs: &["stdc++", "z", "zstd", "xml2", "ffi", "m", "rt", "dl"],
    // `llvm-config --system-libs` lists Z3 (clang's static analyser uses
    // it; code generation does not), and Debian ships no static libz3: that
    // the executor links without it shows nothing needed it.
    unused_libs: &["z3"],
    link_tail: &["-Wl,-Bstatic", "-Wl,--start-group", "-lstdc++", "-lm", "-lc", "-lgcc_eh", "-lgcc", "-Wl,--end-group"],
};

/// What `cargo xtask build` builds without a pipeline.
pub const DEFAULT: &[&Program] = &[&HARNESS, &WASMTIME, &WASMTIME_AOT, &WASMER, &WASMI, &WASMI_SIMD, &WASM3, &DOCKER];
pub const ALL: &[&Program] =
    &[&HARNESS, &WASMTIME, &WASMTIME_AOT, &WASMER, &WASMER_LLVM, &WASMI, &WASMI_SIMD, &WASM3, &DOCKER];

/// Relative path of a program in the target directory.
pub fn path(program: &Program) -> String {
    format!("bin/{}", program.binary)
}

/// What a program's build needs beyond Rust: Debian sid packages, and how
/// to link their libraries into a static executable.
#[derive(Debug, PartialEq, Eq)]
pub struct SystemNeeds {
    /// What the packages are, for messages.
    pub what: &'static str,
    /// Installed into the sid root when the program is first built there.
    pub packages: &'static [&'static str],
    /// The environment of its cargo build.
    pub env: &'static [(&'static str, &'static str)],
    /// Libraries its build scripts ask for as shared ones; they are linked
    /// from their static archives instead (see [`sid_root::install_needs`](crate::toolchain::sid_root::install_needs)).
    pub static_libs: &'static [&'static str],
    /// Libraries listed by a build script but not needed by the program,
    /// with no static archive to be had: an empty archive stands in.
    pub unused_libs: &'static [&'static str],
    /// Linker arguments put last: the C++ runtime's own dependencies on the
    /// C library come after the C library in rustc's order.
    pub link_tail: &'static [&'static str],
}
