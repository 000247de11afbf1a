//! Building the device programs, for this machine or another architecture.
//!
//! Where the Rust toolchain has the target's standard library (always for
//! this machine's; for another, with rustup or the Nix devShell) and a
//! linker is at hand, the programs are built the standard way,
//! `cargo build --target <triple>`. Where it has not — rustup
//! cannot add targets without a network — Debian's packages alone do it:
//! sid ships rustc with a multiarch standard library for arm64
//! (`libstd-rust-dev:arm64`) and the aarch64 cross gcc. A sid root made once
//! with debootstrap under `target/toolchains/` holds them, and each build
//! runs chrooted into it, in a private mount namespace (so no mount outlives
//! it) that sees the project and the host's cargo registry, offline.
//!
//! Either way the programs are linked statically and not position
//! independent (`+crt-static`, `relocation-model=static`): they run on any
//! Linux of their architecture, whatever its C library, with nothing
//! installed, and start without a dynamic loader or relocations, so an
//! executor's start-up is its engine's, not `ld.so`'s. Passing `--target`
//! even for this machine keeps these flags off build scripts and proc macros.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use edgebench_model::manifest::{ArtifactKind, CompilerInfo};
use xshell::{Shell, cmd};

use crate::project;
use crate::toolchain::apt;
use crate::toolchain::arch::Arch;
use crate::toolchain::programs::{self, Program};
use crate::toolchain::{sid_root, up_to_date, wheels};

pub const STATIC: &str = "-C target-feature=+crt-static -C relocation-model=static";

/// How the programs for a target are built.
enum Route {
    /// This toolchain has the target's standard library; the linker is
    /// cargo's default for this machine's own.
    Host { linker: Option<String> },
    /// A Debian sid root (see the module docs).
    SidRoot(PathBuf),
}

/// Programs built the same way: where the binaries are, and the compiler.
pub struct Built {
    pub programs: Vec<&'static Program>,
    pub dir: PathBuf,
    pub compiler: CompilerInfo,
}

/// Builds `programs` for `arch`. Those that need system libraries (see
/// [`SystemNeeds`](programs::SystemNeeds)) are built in the sid root, whatever this toolchain has.
pub fn build(sh: &Shell, arch: Arch, programs: &[&'static Program], quiet: bool) -> Result<Vec<Built>> {
    let (plain, with_needs): (Vec<&'static Program>, Vec<&'static Program>) =
        programs.iter().copied().partition(|p| p.system.is_none());
    // Before anything is built: a program with system needs builds for
    // this machine only, and needs its sid root provisioned.
    for program in &with_needs {
        sid_root::can_provide(sh, program, arch).map_err(anyhow::Error::msg)?;
    }
    let mut built = Vec::new();
    if !plain.is_empty() {
        let route = route(sh, arch)?;
        built.push(build_with(sh, arch, &route, &plain, quiet)?);
    }
    for program in with_needs {
        let needs = program.system.expect("partitioned on it");
        let root = sid_root::make(sh).with_context(|| format!("{} is built in a Debian sid root", program.binary))?;
        sid_root::install_needs(sh, &root, program.binary, needs)?;
        built.push(build_with(sh, arch, &Route::SidRoot(root), &[program], quiet)?);
    }
    Ok(built)
}

fn build_with(sh: &Shell, arch: Arch, route: &Route, programs: &[&'static Program], quiet: bool) -> Result<Built> {
    let triple = arch.rust_triple();
    let target_dir = match route {
        Route::Host { .. } => project::root().join("target/device"),
        // Programs with system needs build with flags and an environment of
        // their own; sharing a directory with the other sid builds, each
        // kind recompiled most of its crates after the other had run.
        Route::SidRoot(_) if programs.iter().any(|p| p.system.is_some()) => {
            project::root().join("target/device-sid-system")
        }
        // Another rustc: its own directory, so neither invalidates the other.
        Route::SidRoot(_) => project::root().join("target/device-sid"),
    };
    let mut flags = vec![STATIC.to_string()];
    let mut versions = Vec::new();
    for p in programs {
        match route {
            Route::Host { linker } => build_on_host(sh, arch, p, &target_dir, linker.as_deref(), quiet)?,
            Route::SidRoot(root) => {
                let extra = sid_root::link_flags(p);
                sid_root::cargo_build(sh, root, arch, p, &target_dir, &extra, quiet)?;
                if p.system.is_some() {
                    versions.push(fs::read_to_string(root.join(sid_root::needs_stamp(p.binary))).unwrap_or_default());
                }
                flags.extend(extra);
            }
        }
    }
    let compiler = match route {
        Route::Host { linker } => CompilerInfo {
            kind: ArtifactKind::Program,
            command: match linker {
                Some(linker) => format!("cargo build --release --target {triple} (linker {linker})"),
                None => format!("cargo build --release --target {triple}"),
            },
            version: cmd!(sh, "rustc --version").quiet().read().unwrap_or_default(),
            target: triple.into(),
            flags,
            suite: None,
        },
        Route::SidRoot(root) => {
            let mut version = fs::read_to_string(root.join(sid_root::READY)).unwrap_or_default();
            version.extend(versions);
            CompilerInfo {
                kind: ArtifactKind::Program,
                command: format!(
                    "cargo build --release --target {triple} in a Debian sid root ({})",
                    programs.iter().map(|p| p.binary).collect::<Vec<_>>().join(", ")
                ),
                version: version.trim().replace('\n', "; "),
                target: triple.into(),
                flags,
                suite: None,
            }
        }
    };
    Ok(Built { programs: programs.to_vec(), dir: target_dir.join(triple).join("release"), compiler })
}

/// `cargo build --target` with this machine's toolchain.
fn build_on_host(
    sh: &Shell,
    arch: Arch,
    program: &Program,
    target_dir: &Path,
    linker: Option<&str>,
    quiet: bool,
) -> Result<()> {
    let (cargo, triple) = (apt::cargo(), arch.rust_triple());
    let env_key = triple.to_uppercase().replace('-', "_");
    let manifest = project::root().join(program.manifest);
    let select = program.cargo_args();
    let mut command =
        cmd!(sh, "{cargo} build --release --locked --manifest-path {manifest} {select...} --target {triple}")
            .env("CARGO_TARGET_DIR", target_dir)
            .env(format!("CARGO_TARGET_{env_key}_RUSTFLAGS"), STATIC);
    if let Some(linker) = linker {
        command = command.env(format!("CARGO_TARGET_{env_key}_LINKER"), linker);
    }
    for (key, dir) in source_env(sh, program, quiet)? {
        command = command.env(key, dir);
    }
    if quiet {
        command = command.arg("--quiet");
    }
    command.run().with_context(|| format!("building {} for {triple}", program.binary))
}

/// Builds `programs` for `arch` and copies them into `bin/` of the target
/// directory; returns the compilers that made them. Cargo decides what is
/// stale; a no-op build is quick.
pub fn install(
    sh: &Shell,
    arch: Arch,
    target_dir: &Path,
    programs: &[&'static Program],
    quiet: bool,
) -> Result<Vec<CompilerInfo>> {
    let bin = target_dir.join("bin");
    crate::project::make_dir(&bin)?;
    let mut compilers = Vec::new();
    for built in build(sh, arch, programs, quiet)? {
        for p in &built.programs {
            let from = built.dir.join(p.binary);
            let dest = target_dir.join(programs::path(p));
            if fs::read(&from).ok() != fs::read(&dest).ok() {
                let partial = up_to_date::with_suffix(&dest, ".partial");
                fs::copy(&from, &partial).with_context(|| format!("copying {}", from.display()))?;
                fs::rename(&partial, &dest)?;
            }
        }
        compilers.push(built.compiler);
    }
    Ok(compilers)
}

/// The environment naming the C source a program's build script compiles,
/// provisioned first (see [`Program::source`]).
pub fn source_env(sh: &Shell, program: &Program, quiet: bool) -> Result<Vec<(&'static str, PathBuf)>> {
    let Some(source) = program.source else { return Ok(Vec::new()) };
    let dir = wheels::ensure_source(sh, source, quiet)
        .with_context(|| format!("{} compiles {} {}'s C source", program.binary, source.name, source.version))?;
    Ok(vec![(source.env, dir)])
}

fn route(sh: &Shell, arch: Arch) -> Result<Route> {
    if arch == Arch::host()? {
        return Ok(Route::Host { linker: None });
    }
    let triple = arch.rust_triple();
    let sysroot = cmd!(sh, "rustc --print sysroot").quiet().read().unwrap_or_default();
    let has_std = Path::new(sysroot.trim()).join("lib/rustlib").join(triple).join("lib").is_dir();
    let env_key = format!("CARGO_TARGET_{}_LINKER", triple.to_uppercase().replace('-', "_"));
    let linker = std::env::var(&env_key)
        .ok()
        .or_else(|| apt::has(sh, &format!("{arch}-linux-gnu-gcc")).then(|| format!("{arch}-linux-gnu-gcc")));
    if has_std && let Some(linker) = linker {
        return Ok(Route::Host { linker: Some(linker) });
    }
    if arch != Arch::Aarch64 {
        bail!("no {triple} standard library in this Rust toolchain: `rustup target add {triple}`");
    }
    let lacks =
        if has_std { format!("no {arch}-linux-gnu-gcc linker") } else { format!("no {triple} standard library") };
    sid_root::make(sh).map(Route::SidRoot).with_context(|| {
        format!(
            "this Rust toolchain has {lacks}, so the device programs are built in a Debian sid root; \
             with rustup and a network, `rustup target add {triple}` and an {arch}-linux-gnu-gcc avoid that"
        )
    })
}
