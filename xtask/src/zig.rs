//! The C toolchain for the kernels: `zig cc`, from the `ziglang` wheel on
//! PyPI, at a pinned version verified by sha256. It bundles clang with
//! wasi-libc and musl, so one download covers wasm32-wasip1 and static
//! x86-64/aarch64 executables, without root and without a system compiler.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use xshell::{Shell, cmd};

use crate::project;

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

pub struct Zig {
    pub exe: PathBuf,
    pub cache_dir: PathBuf,
    pub wheel_sha256: String,
}

impl Zig {
    /// The `zig cc` command with our hermetic cache directories.
    pub fn cc<'a>(&self, sh: &'a Shell) -> xshell::Cmd<'a> {
        let exe = &self.exe;
        cmd!(sh, "{exe} cc").env("ZIG_GLOBAL_CACHE_DIR", &self.cache_dir).env("ZIG_LOCAL_CACHE_DIR", &self.cache_dir)
    }

    pub fn version(&self, sh: &Shell) -> Result<String> {
        let exe = &self.exe;
        Ok(cmd!(sh, "{exe} version").read()?.trim().to_string())
    }
}

/// Returns the pinned zig, downloading and verifying it on first use.
pub fn ensure(sh: &Shell, quiet: bool) -> Result<Zig> {
    let arch = std::env::consts::ARCH;
    let Some(&(_, wheel, sha256)) = WHEELS.iter().find(|(a, _, _)| *a == arch) else {
        bail!("no pinned zig wheel for a {arch} host; add one to xtask/src/zig.rs");
    };
    let home = project::toolchains_dir().join(format!("zig-{VERSION}"));
    let exe = home.join("ziglang").join("zig");
    let stamp = home.join(".verified-sha256");
    let zig =
        Zig { exe: exe.clone(), cache_dir: project::toolchains_dir().join("zig-cache"), wheel_sha256: sha256.into() };
    if exe.exists() && fs::read_to_string(&stamp).ok().as_deref() == Some(sha256) {
        return Ok(zig);
    }
    // Several builds may start at once (tests do): one provisions, the others
    // wait and then find it done.
    fs::create_dir_all(project::toolchains_dir())?;
    let lock = fs::File::create(project::toolchains_dir().join(".zig.lock"))?;
    lock.lock().context("locking the toolchains directory")?;
    if exe.exists() && fs::read_to_string(&stamp).ok().as_deref() == Some(sha256) {
        return Ok(zig);
    }

    if !quiet {
        eprintln!("provisioning zig {VERSION} (ziglang wheel from PyPI, verified by sha256)…");
    }
    let download = project::toolchains_dir().join("downloads");
    fs::create_dir_all(&download)?;
    let wheel_path = download.join(wheel);
    if !wheel_path.exists() {
        let python = python(sh)?;
        let spec = format!("ziglang=={VERSION}");
        cmd!(sh, "{python} -m pip download --quiet --no-deps --only-binary=:all: --dest {download} {spec}")
            .run()
            .context("downloading the ziglang wheel with pip (needs python3 with pip and access to PyPI)")?;
    }
    if !wheel_path.exists() {
        bail!(
            "pip did not fetch the expected wheel {wheel} into {}; is the PyPI index serving ziglang {VERSION}?",
            download.display()
        );
    }
    let actual = edgebench_harness::verify::sha256_file(&wheel_path)?;
    if actual != sha256 {
        fs::remove_file(&wheel_path)?;
        bail!("{wheel}: sha256 {actual}, expected {sha256}; the download was removed, refusing to use it");
    }

    let staging = project::toolchains_dir().join(format!("zig-{VERSION}.partial"));
    if staging.exists() {
        fs::remove_dir_all(&staging)?;
    }
    let python = python(sh)?;
    cmd!(sh, "{python} -m zipfile -e {wheel_path} {staging}").run().context("unpacking the ziglang wheel")?;
    set_executable(&staging.join("ziglang").join("zig"))?;
    if home.exists() {
        fs::remove_dir_all(&home)?;
    }
    fs::rename(&staging, &home)?;
    fs::write(&stamp, sha256)?;
    Ok(zig)
}

fn python(sh: &Shell) -> Result<&'static str> {
    for candidate in ["python3", "python"] {
        if cmd!(sh, "{candidate} --version").quiet().ignore_stdout().ignore_stderr().run().is_ok() {
            return Ok(candidate);
        }
    }
    bail!("python3 is needed once to fetch the pinned zig toolchain from PyPI; install python3 with pip")
}

fn set_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut perms =
        fs::metadata(path).with_context(|| format!("{} missing from the wheel", path.display()))?.permissions();
    perms.set_mode(0o755);
    fs::set_permissions(path, perms)?;
    Ok(())
}
