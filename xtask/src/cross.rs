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

use crate::programs::Program;
use crate::target::Arch;
use crate::tools::{self, Tool};
use crate::{images, project};

const SID: &str = "sid";
/// What the sid root needs to cross-build for arm64.
const PACKAGES: &[&str] =
    &["rustc", "cargo", "libstd-rust-dev:arm64", "gcc-aarch64-linux-gnu", "libc6-dev-arm64-cross", "ca-certificates"];
const STATIC: &str = "-C target-feature=+crt-static -C relocation-model=static";

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
/// [`SystemNeeds`]) are built in the sid root, whatever this toolchain has.
pub fn build(sh: &Shell, arch: Arch, programs: &[&'static Program], quiet: bool) -> Result<Vec<Built>> {
    let (plain, with_needs): (Vec<&'static Program>, Vec<&'static Program>) =
        programs.iter().copied().partition(|p| p.system.is_none());
    // Before anything is built: a program with system needs builds for
    // this machine only.
    let host = Arch::host()?;
    if let Some(program) = with_needs.iter().find(|_| arch != host) {
        bail!(
            "{} is built only for {host} (this machine): its build links {}'s libraries, and the Debian \
             sid root holds them for its own architecture only; drop its runtime variant from the \
             pipeline for an {arch} target",
            program.binary,
            program.system.map_or("system", |n| n.what)
        );
    }
    let mut built = Vec::new();
    if !plain.is_empty() {
        let route = route(sh, arch)?;
        built.push(build_with(sh, arch, &route, &plain, quiet)?);
    }
    for program in with_needs {
        let needs = program.system.expect("partitioned on it");
        let root = sid_root(sh).with_context(|| format!("{} is built in a Debian sid root", program.binary))?;
        install_needs(sh, &root, program.binary, needs)?;
        built.push(build_with(sh, arch, &Route::SidRoot(root), &[program], quiet)?);
    }
    Ok(built)
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
    /// from their static archives instead (see [`install_needs`]).
    pub static_libs: &'static [&'static str],
    /// Libraries listed by a build script but not needed by the program,
    /// with no static archive to be had: an empty archive stands in.
    pub unused_libs: &'static [&'static str],
    /// Linker arguments put last: the C++ runtime's own dependencies on the
    /// C library come after the C library in rustc's order.
    pub link_tail: &'static [&'static str],
}

/// Where the static archives of a program's [`SystemNeeds`] are, in the root.
fn static_lib_dir(binary: &str) -> String {
    format!("/opt/edgebench/static-libs/{binary}")
}

fn build_with(sh: &Shell, arch: Arch, route: &Route, programs: &[&'static Program], quiet: bool) -> Result<Built> {
    let triple = arch.rust_triple();
    let cargo = tools::cargo();
    let env_key = triple.to_uppercase().replace('-', "_");
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
        let manifest = project::root().join(p.manifest);
        let bin = p.binary;
        let select = p.cargo_args();
        match route {
            Route::Host { linker } => {
                let mut command = cmd!(
                    sh,
                    "{cargo} build --release --locked --manifest-path {manifest} {select...} --target {triple}"
                )
                .env("CARGO_TARGET_DIR", &target_dir)
                .env(format!("CARGO_TARGET_{env_key}_RUSTFLAGS"), STATIC);
                if let Some(linker) = linker {
                    command = command.env(format!("CARGO_TARGET_{env_key}_LINKER"), linker);
                }
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
                let mut rustflags = STATIC.to_string();
                let mut env = vec![
                    "PATH=/usr/bin:/bin".to_string(),
                    "HOME=/root".to_string(),
                    "CARGO_HOME=/cargo-home".to_string(),
                    format!("CARGO_TARGET_{env_key}_LINKER={linker}"),
                    format!("CC_{}={linker}", triple.replace('-', "_")),
                ];
                if let Some(needs) = p.system {
                    // Searched first, so the linker finds these archives
                    // before the shared libraries beside their originals.
                    let mut extra = vec![format!("-L native={}", static_lib_dir(bin))];
                    extra.extend(needs.link_tail.iter().map(|arg| format!("-C link-arg={arg}")));
                    for flag in extra {
                        rustflags = format!("{rustflags} {flag}");
                        flags.push(flag);
                    }
                    env.extend(needs.env.iter().map(|(k, v)| format!("{k}={v}")));
                    versions.push(fs::read_to_string(root.join(needs_stamp(bin))).unwrap_or_default());
                }
                env.push(format!("CARGO_TARGET_{env_key}_RUSTFLAGS={rustflags}"));
                cmd!(
                    sh,
                    "unshare --mount --propagation private -- sh -c {IN_ROOT_WITH_PROJECT} edgebench {root} {project} {registry}
                     /usr/bin/env -i {env...} cargo build --release --locked --offline {quiet_flag...}
                     --manifest-path {manifest} {select...} --target {triple} --target-dir {target_dir}"
                )
                .quiet()
                .run()
                .with_context(|| format!("building {bin} for {triple} in the Debian sid root {}", root.display()))?;
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
            let mut version = fs::read_to_string(root.join(READY)).unwrap_or_default();
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

/// Written into the root once a program's packages are in: their versions.
fn needs_stamp(binary: &str) -> String {
    format!(".edgebench-ready-{binary}")
}

/// Installs a program's packages into the sid root, once, and puts its
/// static archives in a directory of their own: the build scripts of such
/// libraries (llvm-sys) ask for shared libraries even for a static
/// executable, and a linker looking for `libz.so` in that directory first
/// finds only `libz.a` there.
fn install_needs(sh: &Shell, root: &Path, binary: &str, needs: &SystemNeeds) -> Result<()> {
    let stamp = root.join(needs_stamp(binary));
    if stamp.is_file() {
        return Ok(());
    }
    if !tools::is_root(sh) {
        bail!("installing {} into the Debian sid root needs root; run the build once as root", needs.what);
    }
    eprintln!("installing {} into the Debian sid root for {binary} (once)…", needs.what);
    let versions = install_packages(sh, root, needs.packages)?;

    let dir = root.join(static_lib_dir(binary).trim_start_matches('/'));
    if dir.exists() {
        fs::remove_dir_all(&dir)?;
    }
    fs::create_dir_all(&dir)?;
    for lib in needs.static_libs {
        let archive = format!("lib{lib}.a");
        let found = find_archive(root, &archive)
            .with_context(|| format!("no static {archive} in the sid root after installing {}", needs.what))?;
        std::os::unix::fs::symlink(&found, dir.join(&archive))?;
    }
    for lib in needs.unused_libs {
        fs::write(dir.join(format!("lib{lib}.a")), "!<arch>\n")?;
    }
    fs::write(&stamp, versions)?;
    Ok(())
}

/// The path (as seen inside the root) of a static archive of this
/// machine's architecture: its multiarch library directory, or GCC's.
fn find_archive(root: &Path, archive: &str) -> Option<PathBuf> {
    let multiarch = format!("{}-linux-gnu", Arch::host().ok()?.as_str());
    let gcc = root.join("usr/lib/gcc").join(&multiarch);
    let mut dirs = vec![Path::new("/usr/lib").join(&multiarch)];
    let mut versions: Vec<PathBuf> = fs::read_dir(&gcc)
        .ok()?
        .flatten()
        .map(|e| Path::new("/usr/lib/gcc").join(&multiarch).join(e.file_name()))
        .collect();
    versions.sort();
    dirs.extend(versions.into_iter().rev());
    dirs.into_iter().map(|d| d.join(archive)).find(|p| root.join(p.strip_prefix("/").unwrap_or(p)).is_file())
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
    if arch == Arch::host()? {
        return Ok(Route::Host { linker: None });
    }
    let triple = arch.rust_triple();
    let sysroot = cmd!(sh, "rustc --print sysroot").quiet().read().unwrap_or_default();
    let has_std = Path::new(sysroot.trim()).join("lib/rustlib").join(triple).join("lib").is_dir();
    let env_key = format!("CARGO_TARGET_{}_LINKER", triple.to_uppercase().replace('-', "_"));
    let linker = std::env::var(&env_key)
        .ok()
        .or_else(|| tools::has(sh, &format!("{arch}-linux-gnu-gcc")).then(|| format!("{arch}-linux-gnu-gcc")));
    if has_std && let Some(linker) = linker {
        return Ok(Route::Host { linker: Some(linker) });
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
    run_in_root(sh, &partial, &["dpkg", "--add-architecture", "arm64"])?;
    let versions = install_packages(sh, &partial, PACKAGES)?;
    fs::write(partial.join(READY), versions)?;
    fs::rename(&partial, &root)?;
    Ok(root)
}

/// A command chrooted into the sid root (with /proc, in a private mount
/// namespace), for provisioning.
fn in_root<'a>(sh: &'a Shell, root: &Path, args: &[&str]) -> xshell::Cmd<'a> {
    cmd!(sh, "unshare --mount --propagation private -- sh -c {IN_ROOT} edgebench {root} {args...}")
        .env("DEBIAN_FRONTEND", "noninteractive")
        .quiet()
}

/// Runs [`in_root`] a command whose output is not needed.
fn run_in_root(sh: &Shell, root: &Path, args: &[&str]) -> Result<()> {
    in_root(sh, root, args).ignore_stdout().run().with_context(|| format!("in the sid root: {}", args.join(" ")))
}

/// Installs Debian packages into the sid root; returns their versions, one
/// `package=version` line each, for the manifest.
fn install_packages(sh: &Shell, root: &Path, packages: &[&str]) -> Result<String> {
    run_in_root(sh, root, &["apt-get", "update", "-qq"])?;
    let mut install = vec!["apt-get", "install", "-y", "-qq", "--no-install-recommends"];
    install.extend_from_slice(packages);
    run_in_root(sh, root, &install)?;
    run_in_root(sh, root, &["apt-get", "clean"])?;
    let mut query = vec!["dpkg-query", "-W", "--showformat", "${binary:Package}=${Version}\n"];
    query.extend_from_slice(packages);
    let versions = in_root(sh, root, &query).read().context("reading the sid root's package versions")?;
    Ok(versions + "\n")
}

fn cargo_home() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/root".into())).join(".cargo"))
}
