//! The C toolchain for the kernels: `zig cc`, from the `ziglang` wheel on
//! PyPI, at a pinned version verified by sha256. It bundles clang with
//! wasi-libc and musl, so one download covers wasm32-wasip1 and static
//! x86-64/aarch64 executables, without root and without a system compiler.

use std::path::PathBuf;

use anyhow::Result;
use xshell::{Shell, cmd};

use crate::project;
use crate::toolchain::wheels::{self, Pinned};

pub const VERSION: &str = "0.17.1";

/// The wheels we accept, per host architecture: (file name, sha256).
const WHEELS: &[(&str, &str, &str)] = &[
    (
        "x86_64",
        "ziglang-0.17.1-py3-none-manylinux_2_12_x86_64.manylinux2010_x86_64.musllinux_1_1_x86_64.whl",
        "ea6cc5d87b033cf0aedfbc8f9549a908cae6c50ac31f1698188fa48a74524b54",
    ),
    (
        "aarch64",
        "ziglang-0.17.1-py3-none-manylinux_2_17_aarch64.manylinux2014_aarch64.musllinux_1_1_aarch64.whl",
        "b7c5f02fccd40f89b999ee16a1f5ddced56e6182370f8affe494bcf8a28cf07e",
    ),
];

const PIN: Pinned = Pinned {
    name: "zig",
    package: "ziglang",
    version: VERSION,
    wheels: WHEELS,
    executables: &["ziglang/zig"],
    defined_in: "xtask/src/toolchain/zig.rs",
};

pub struct Zig {
    pub exe: PathBuf,
    pub cache_dir: PathBuf,
    pub wheel_sha256: String,
}

impl Zig {
    /// `zig <driver>` (`cc`, or `c++`, which links libc++) with our
    /// hermetic cache directories.
    pub fn compiler<'a>(&self, sh: &'a Shell, driver: &str) -> xshell::Cmd<'a> {
        let exe = &self.exe;
        self.with_caches(cmd!(sh, "{exe} {driver}"))
    }

    /// `command` with zig's caches set to ours: for any command that may
    /// run this zig (a workload's own build command).
    pub fn with_caches<'a>(&self, command: xshell::Cmd<'a>) -> xshell::Cmd<'a> {
        command.env("ZIG_GLOBAL_CACHE_DIR", &self.cache_dir).env("ZIG_LOCAL_CACHE_DIR", &self.cache_dir)
    }

    pub fn version(&self, sh: &Shell) -> Result<String> {
        let exe = &self.exe;
        Ok(cmd!(sh, "{exe} version").read()?.trim().to_string())
    }
}

/// Returns the pinned zig, downloading and verifying it on first use.
pub fn ensure(sh: &Shell, quiet: bool) -> Result<Zig> {
    let unpacked = wheels::ensure(sh, &PIN, quiet)?;
    Ok(Zig {
        exe: unpacked.home.join("ziglang").join("zig"),
        cache_dir: project::toolchains_dir().join("zig-cache"),
        wheel_sha256: unpacked.sha256.into(),
    })
}
