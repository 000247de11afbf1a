//! The Debian sid root that cross-builds device programs where this Rust
//! toolchain cannot: sid ships rustc with a multiarch standard library for
//! arm64 (`libstd-rust-dev:arm64`) and the aarch64 cross gcc, and LLVM 22
//! for Wasmer's LLVM backend. Made once with debootstrap under
//! `target/toolchains/`; every command runs chrooted into it in a private
//! mount namespace, so no mount outlives it.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use xshell::{Shell, cmd};

use crate::project;
use crate::toolchain::apt::{self, Tool};
use crate::toolchain::arch::Arch;
use crate::toolchain::cross::STATIC;
use crate::toolchain::images;
use crate::toolchain::programs::{Program, SystemNeeds};

const SID: &str = "sid";
/// What the sid root needs to cross-build for arm64.
const PACKAGES: &[&str] =
    &["rustc", "cargo", "libstd-rust-dev:arm64", "gcc-aarch64-linux-gnu", "libc6-dev-arm64-cross", "ca-certificates"];
/// Written into the root once it is complete: the versions of its packages.
pub const READY: &str = ".edgebench-ready";

/// Where the static archives of a program's [`SystemNeeds`] are, in the root.
pub fn static_lib_dir(binary: &str) -> String {
    format!("/opt/edgebench/static-libs/{binary}")
}

/// Written into the root once a program's packages are in: their versions.
pub fn needs_stamp(binary: &str) -> String {
    format!(".edgebench-ready-{binary}")
}

/// Installs a program's packages into the sid root, once, and puts its
/// static archives in a directory of their own: the build scripts of such
/// libraries (llvm-sys) ask for shared libraries even for a static
/// executable, and a linker looking for `libz.so` in that directory first
/// finds only `libz.a` there.
pub fn install_needs(sh: &Shell, root: &Path, binary: &str, needs: &SystemNeeds) -> Result<()> {
    let stamp = root.join(needs_stamp(binary));
    if stamp.is_file() {
        return Ok(());
    }
    if !apt::is_root(sh) {
        bail!("installing {} into the Debian sid root needs root; run the build once as root", needs.what);
    }
    eprintln!("installing {} into the Debian sid root for {binary} (once)…", needs.what);
    let versions = install_packages(sh, root, needs.packages)?;

    let dir = root.join(static_lib_dir(binary).trim_start_matches('/'));
    if dir.exists() {
        fs::remove_dir_all(&dir)?;
    }
    crate::project::make_dir(&dir)?;
    for lib in needs.static_libs {
        let archive = format!("lib{lib}.a");
        let found = find_archive(root, &archive)
            .with_context(|| format!("no static {archive} in the sid root after installing {}", needs.what))?;
        let link = dir.join(&archive);
        std::os::unix::fs::symlink(&found, &link).with_context(|| format!("linking {}", link.display()))?;
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

/// Where the sid root is (or will be).
fn path() -> Result<PathBuf> {
    Ok(project::toolchains_dir().join(format!("debian-sid-cross-{}", Arch::host()?)))
}

/// Whether `program` can be built here for `arch`, and if not, why and what
/// to do: a program with system needs builds only for this machine's
/// architecture, and only root can make and provision its sid root (once;
/// anyone can build in it afterwards).
pub fn can_provide(sh: &Shell, program: &Program, arch: Arch) -> Result<(), String> {
    let Some(needs) = program.system else { return Ok(()) };
    let host = Arch::host().map_err(|e| e.to_string())?;
    if arch != host {
        return Err(format!(
            "{} is built only for {host} (this machine): its build links {}'s libraries, and the Debian sid \
             root holds them for its own architecture only",
            program.binary, needs.what
        ));
    }
    let root = path().map_err(|e| e.to_string())?;
    if apt::is_root(sh) || (root.join(READY).is_file() && root.join(needs_stamp(program.binary)).is_file()) {
        return Ok(());
    }
    Err(format!(
        "{} links {}, which only root can install (once, into a Debian sid root under target/toolchains): \
         run `sudo cargo xtask build --pipeline <this pipeline>` once, or leave this variant out",
        program.binary, needs.what
    ))
}

/// The sid root, made once.
pub fn make(sh: &Shell) -> Result<PathBuf> {
    let root = path()?;
    if root.join(READY).is_file() {
        return Ok(root);
    }
    if !apt::is_root(sh) {
        bail!("making it needs root (debootstrap and chroot); run once as root");
    }
    apt::ensure(
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

/// The rustc flags that link a program's [`SystemNeeds`] statically.
pub fn link_flags(program: &Program) -> Vec<String> {
    let Some(needs) = program.system else { return Vec::new() };
    // Searched first, so the linker finds these archives before the shared
    // libraries beside their originals.
    let mut flags = vec![format!("-L native={}", static_lib_dir(program.binary))];
    flags.extend(needs.link_tail.iter().map(|arg| format!("-C link-arg={arg}")));
    flags
}

/// `cargo build --target` with the root's toolchain, chrooted, offline:
/// the host's cargo fetches the crates first, and the root sees the project
/// and the host's registry through bind mounts.
pub fn cargo_build(
    sh: &Shell,
    root: &Path,
    arch: Arch,
    program: &Program,
    target_dir: &Path,
    extra_flags: &[String],
    quiet: bool,
) -> Result<()> {
    let (cargo, triple, bin) = (apt::cargo(), arch.rust_triple(), program.binary);
    let manifest = project::root().join(program.manifest);
    cmd!(sh, "{cargo} fetch --locked --quiet --manifest-path {manifest}")
        .run()
        .with_context(|| format!("fetching the crates of {bin}"))?;
    let registry = cargo_home().join("registry");
    let project = project::root();
    let env_key = triple.to_uppercase().replace('-', "_");
    let linker = format!("{}-linux-gnu-gcc", arch.as_str());
    let quiet_flag: &[&str] = if quiet { &["--quiet"] } else { &[] };
    let select = program.cargo_args();
    let rustflags = std::iter::once(STATIC).chain(extra_flags.iter().map(String::as_str)).collect::<Vec<_>>().join(" ");
    let mut env = vec![
        "PATH=/usr/bin:/bin".to_string(),
        "HOME=/root".to_string(),
        "CARGO_HOME=/cargo-home".to_string(),
        format!("CARGO_TARGET_{env_key}_LINKER={linker}"),
        format!("CC_{}={linker}", triple.replace('-', "_")),
        format!("CARGO_TARGET_{env_key}_RUSTFLAGS={rustflags}"),
    ];
    if let Some(needs) = program.system {
        env.extend(needs.env.iter().map(|(k, v)| format!("{k}={v}")));
    }
    // The project is mounted at its own path, so the source's path holds.
    for (key, dir) in crate::toolchain::cross::source_env(sh, program, quiet)? {
        env.push(format!("{key}={}", dir.display()));
    }
    cmd!(
        sh,
        "unshare --mount --propagation private -- sh -c {IN_ROOT_WITH_PROJECT} edgebench {root} {project} {registry}
         /usr/bin/env -i {env...} cargo build --release --locked --offline {quiet_flag...}
         --manifest-path {manifest} {select...} --target {triple} --target-dir {target_dir}"
    )
    .quiet()
    .run()
    .with_context(|| format!("building {bin} for {triple} in the Debian sid root {}", root.display()))
}

fn cargo_home() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/root".into())).join(".cargo"))
}
