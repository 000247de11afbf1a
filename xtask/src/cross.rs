//! Building the device programs for another architecture.
//!
//! Where the Rust toolchain has the target's standard library (rustup, the
//! Nix devShell) and a cross linker is at hand, the programs are built the
//! standard way, `cargo build --target <triple>`. Where it has not — rustup
//! cannot add targets without a network — Debian's packages alone do it:
//! sid ships rustc with a multiarch standard library for arm64
//! (`libstd-rust-dev:arm64`) and the aarch64 cross gcc. A sid root made once
//! with debootstrap under `target/toolchains/` holds them, and each build
//! runs chrooted into it, in a private mount namespace (so no mount outlives
//! it) that sees the project and the host's cargo registry, offline.
//!
//! Either way the programs are linked statically (`+crt-static`): they run
//! on any arm64 Linux, whatever its C library, with nothing installed.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use edgebench_model::manifest::{ArtifactKind, CompilerInfo};
use xshell::{Shell, cmd};

use crate::programs::Program;
use crate::target::Arch;
use crate::tools::{self, Tool};
use crate::{images, project};

const SID: &str = "sid";
/// What the sid root needs to cross-build for arm64.
const PACKAGES: &[&str] =
    &["rustc", "cargo", "libstd-rust-dev:arm64", "gcc-aarch64-linux-gnu", "libc6-dev-arm64-cross", "ca-certificates"];
const STATIC: &str = "-C target-feature=+crt-static";

/// How the programs for a target are built.
enum Route {
    /// This toolchain has the target's standard library.
    Host { linker: String },
    /// A Debian sid root (see the module docs).
    SidRoot(PathBuf),
}

/// Builds `programs` for `arch` (not this host's) and returns the directory
/// holding the binaries, and the compiler that made them.
pub fn build(sh: &Shell, arch: Arch, programs: &[&Program], quiet: bool) -> Result<(PathBuf, CompilerInfo)> {
    let triple = arch.rust_triple();
    let cargo = tools::cargo();
    let env_key = triple.to_uppercase().replace('-', "_");
    let route = route(sh, arch)?;
    let target_dir = match &route {
        Route::Host { .. } => project::root().join("target/device"),
        // Another rustc: its own directory, so neither invalidates the other.
        Route::SidRoot(_) => project::root().join("target/device-sid"),
    };
    for p in programs {
        let manifest = project::root().join(p.manifest);
        let bin = p.binary;
        match &route {
            Route::Host { linker } => {
                let mut command = cmd!(
                    sh,
                    "{cargo} build --release --locked --manifest-path {manifest} --bin {bin} --target {triple}"
                )
                .env("CARGO_TARGET_DIR", &target_dir)
                .env(format!("CARGO_TARGET_{env_key}_LINKER"), linker)
                .env(format!("CARGO_TARGET_{env_key}_RUSTFLAGS"), STATIC);
                if quiet {
                    command = command.arg("--quiet");
                }
                command.run().with_context(|| format!("building {bin} for {triple}"))?;
            }
            Route::SidRoot(root) => {
                // Fetched by the host's cargo, so the build inside runs offline.
                cmd!(sh, "{cargo} fetch --locked --quiet --manifest-path {manifest}")
                    .run()
                    .with_context(|| format!("fetching the crates of {bin}"))?;
                let registry = cargo_home().join("registry");
                let project = project::root();
                let linker = format!("{}-linux-gnu-gcc", arch.as_str());
                let quiet_flag: &[&str] = if quiet { &["--quiet"] } else { &[] };
                let env = [
                    "PATH=/usr/bin:/bin".to_string(),
                    "HOME=/root".to_string(),
                    "CARGO_HOME=/cargo-home".to_string(),
                    format!("CARGO_TARGET_{env_key}_LINKER={linker}"),
                    format!("CC_{}={linker}", triple.replace('-', "_")),
                    format!("CARGO_TARGET_{env_key}_RUSTFLAGS={STATIC}"),
                ];
                cmd!(
                    sh,
                    "unshare --mount --propagation private -- sh -c {IN_ROOT_WITH_PROJECT} edgebench {root} {project} {registry}
                     /usr/bin/env -i {env...} cargo build --release --locked --offline {quiet_flag...}
                     --manifest-path {manifest} --bin {bin} --target {triple} --target-dir {target_dir}"
                )
                .quiet()
                .run()
                .with_context(|| format!("building {bin} for {triple} in the Debian sid root {}", root.display()))?;
            }
        }
    }
    let compiler = match &route {
        Route::Host { linker } => CompilerInfo {
            kind: ArtifactKind::Program,
            command: format!("cargo build --release --target {triple} (linker {linker})"),
            version: cmd!(sh, "rustc --version").quiet().read().unwrap_or_default(),
            target: triple.into(),
            flags: vec![STATIC.into()],
            suite: None,
        },
        Route::SidRoot(root) => CompilerInfo {
            kind: ArtifactKind::Program,
            command: format!("cargo build --release --target {triple} in a Debian sid root"),
            version: fs::read_to_string(root.join(READY)).unwrap_or_default().trim().replace('\n', "; "),
            target: triple.into(),
            flags: vec![STATIC.into()],
            suite: None,
        },
    };
    Ok((target_dir.join(triple).join("release"), compiler))
}

/// Mounts /proc into the root, binds the project and the cargo registry
/// into it, and runs the rest of the arguments chrooted there.
const IN_ROOT_WITH_PROJECT: &str = r#"
root=$1 project=$2 registry=$3
shift 3
mount -t proc proc "$root/proc" || exit 1
mkdir -p "$root$project" "$root/cargo-home/registry" || exit 1
mount --bind "$project" "$root$project" || exit 1
mount --bind "$registry" "$root/cargo-home/registry" || exit 1
exec chroot "$root" "$@"
"#;

/// The same without the project, for provisioning.
const IN_ROOT: &str = r#"
root=$1
shift
mount -t proc proc "$root/proc" || exit 1
exec chroot "$root" "$@"
"#;

/// Written into the root once it is complete: the versions of its packages.
const READY: &str = ".edgebench-ready";

fn route(sh: &Shell, arch: Arch) -> Result<Route> {
    let triple = arch.rust_triple();
    let sysroot = cmd!(sh, "rustc --print sysroot").quiet().read().unwrap_or_default();
    let has_std = Path::new(sysroot.trim()).join("lib/rustlib").join(triple).join("lib").is_dir();
    let env_key = format!("CARGO_TARGET_{}_LINKER", triple.to_uppercase().replace('-', "_"));
    let linker = std::env::var(&env_key)
        .ok()
        .or_else(|| tools::has(sh, &format!("{arch}-linux-gnu-gcc")).then(|| format!("{arch}-linux-gnu-gcc")));
    if has_std && let Some(linker) = linker {
        return Ok(Route::Host { linker });
    }
    if arch != Arch::Aarch64 {
        bail!("no {triple} standard library in this Rust toolchain: `rustup target add {triple}`");
    }
    let lacks =
        if has_std { format!("no {arch}-linux-gnu-gcc linker") } else { format!("no {triple} standard library") };
    sid_root(sh).map(Route::SidRoot).with_context(|| {
        format!(
            "this Rust toolchain has {lacks}, so the device programs are built in a Debian sid root; \
             with rustup and a network, `rustup target add {triple}` and an {arch}-linux-gnu-gcc avoid that"
        )
    })
}

/// The sid root, made once.
fn sid_root(sh: &Shell) -> Result<PathBuf> {
    let host = Arch::host()?;
    let root = project::toolchains_dir().join(format!("debian-sid-cross-{host}"));
    if root.join(READY).is_file() {
        return Ok(root);
    }
    if !tools::is_root(sh) {
        bail!("making it needs root (debootstrap and chroot); run once as root");
    }
    tools::ensure(
        sh,
        &[
            Tool { command: "debootstrap", package: "debootstrap", why: "making the Debian sid root" },
            Tool { command: "unshare", package: "util-linux", why: "private mounts for the sid root" },
        ],
    )?;
    let mirror = images::mirror();
    let partial = root.with_extension("partial");
    if partial.exists() {
        fs::remove_dir_all(&partial).with_context(|| format!("removing {}", partial.display()))?;
    }
    eprintln!("making a Debian sid root for cross-building ({mirror}; once, a few minutes)…");
    cmd!(sh, "debootstrap --variant=minbase {SID} {partial} {mirror}")
        .quiet()
        .ignore_stdout()
        .run()
        .context("debootstrap sid failed")?;
    // The mirror's sid may be a frozen snapshot whose Release file expired.
    fs::write(partial.join("etc/apt/apt.conf.d/99edgebench"), "Acquire::Check-Valid-Until \"false\";\n")?;
    fs::copy("/etc/resolv.conf", partial.join("etc/resolv.conf")).context("copying /etc/resolv.conf")?;
    let run_in = |args: &[&str]| -> Result<()> {
        cmd!(sh, "unshare --mount --propagation private -- sh -c {IN_ROOT} edgebench {partial} {args...}")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .quiet()
            .ignore_stdout()
            .run()
            .with_context(|| format!("in the sid root: {}", args.join(" ")))
    };
    run_in(&["dpkg", "--add-architecture", "arm64"])?;
    run_in(&["apt-get", "update", "-qq"])?;
    let mut install = vec!["apt-get", "install", "-y", "-qq", "--no-install-recommends"];
    install.extend_from_slice(PACKAGES);
    run_in(&install)?;
    run_in(&["apt-get", "clean"])?;
    let format = "${binary:Package}=${Version}\n";
    let versions = cmd!(
        sh,
        "unshare --mount --propagation private -- sh -c {IN_ROOT} edgebench {partial} dpkg-query -W --showformat {format} {PACKAGES...}"
    )
    .quiet()
    .read()
    .context("reading the sid root's package versions")?;
    fs::write(partial.join(READY), versions + "\n")?;
    fs::rename(&partial, &root)?;
    Ok(root)
}

fn cargo_home() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/root".into())).join(".cargo"))
}
