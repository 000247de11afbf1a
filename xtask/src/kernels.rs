//! Compiling the C kernels: one job per kernel × dataset × kind, run in
//! parallel, each skipped when the hash of all its inputs is unchanged.

use std::fs;
use std::path::Path;
use std::sync::Mutex;

use anyhow::{Context, Result, bail};
use edgebench_model::Dataset;
use edgebench_model::manifest::{ArtifactKind, CompilerInfo};
use edgebench_model::suite::Kernel;
use xshell::Shell;

use crate::stamp;
use crate::target::Arch;
use crate::zig::Zig;
use edgebench_harness::verify::sha256_hex;

/// Flags shared by every kernel build. `-ffp-contract=off` keeps the compiler
/// from fusing multiply-adds, which some targets have and others do not, so
/// checksums agree bit for bit across x86-64, aarch64 and wasm32.
const COMMON_FLAGS: &[&str] = &["-O3", "-ffp-contract=off", "-std=c11", "-Wall", "-Wextra", "-s"];

pub const SUPPORT_FILES: &[&str] = &["support/edgebench.h", "support/edgebench.c"];

#[derive(Debug, Clone)]
pub struct Job<'a> {
    pub kernel: &'a Kernel,
    /// `None` for kernels whose code does not depend on the dataset.
    pub dataset: Option<Dataset>,
    pub kind: ArtifactKind,
}

#[derive(Debug, Clone)]
pub struct Built {
    pub name: String,
    pub dataset: Option<Dataset>,
    pub kind: ArtifactKind,
    /// Relative to the target directory.
    pub path: String,
    pub rebuilt: bool,
}

/// The C target and flags for `kind` on `arch`.
pub fn compiler(kind: ArtifactKind, arch: Arch) -> (&'static str, Vec<String>) {
    let mut flags: Vec<String> = COMMON_FLAGS.iter().map(|s| s.to_string()).collect();
    let target = match kind {
        ArtifactKind::Wasm => "wasm32-wasi",
        ArtifactKind::Native => {
            flags.push("-static".into());
            arch.zig_native_target()
        }
        other => unreachable!("{other:?} is not compiled from C"),
    };
    (target, flags)
}

pub fn compiler_info(sh: &Shell, zig: &Zig, arch: Arch) -> Result<Vec<CompilerInfo>> {
    let version = format!("zig {} (ziglang wheel sha256 {})", zig.version(sh)?, zig.wheel_sha256);
    Ok([ArtifactKind::Wasm, ArtifactKind::Native]
        .into_iter()
        .map(|kind| {
            let (target, flags) = compiler(kind, arch);
            CompilerInfo { kind, command: "zig cc".into(), version: version.clone(), target: target.into(), flags }
        })
        .collect())
}

/// Where a job's output goes, relative to the target directory.
pub fn output_path(job: &Job<'_>) -> String {
    let stem = match job.dataset {
        Some(d) => format!("{}.{d}", job.kernel.name),
        None => job.kernel.name.clone(),
    };
    match job.kind {
        ArtifactKind::Wasm => format!("kernels/wasm/{stem}.wasm"),
        ArtifactKind::Native => format!("kernels/native/{stem}"),
        other => unreachable!("{other:?} is not compiled from C"),
    }
}

/// Runs all jobs on as many threads as there are cores; `kernels_dir` holds
/// the sources (normally `kernels/`).
pub fn build_all(zig: &Zig, arch: Arch, kernels_dir: &Path, target_dir: &Path, jobs: &[Job<'_>]) -> Result<Vec<Built>> {
    let queue = Mutex::new(jobs.iter().collect::<Vec<_>>());
    let results = Mutex::new(Vec::new());
    let errors = Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                let sh = match Shell::new() {
                    Ok(sh) => sh,
                    Err(e) => {
                        errors.lock().unwrap_or_else(|p| p.into_inner()).push(anyhow::Error::from(e));
                        return;
                    }
                };
                loop {
                    let next = queue.lock().unwrap_or_else(|p| p.into_inner()).pop();
                    let Some(job) = next else { break };
                    match build_one(&sh, zig, arch, kernels_dir, target_dir, job) {
                        Ok(b) => results.lock().unwrap_or_else(|p| p.into_inner()).push(b),
                        Err(e) => errors.lock().unwrap_or_else(|p| p.into_inner()).push(e),
                    }
                }
            });
        }
    });
    let errors = errors.into_inner().unwrap_or_else(|p| p.into_inner());
    if !errors.is_empty() {
        let n = errors.len();
        let all: Vec<String> = errors.iter().map(|e| format!("{e:#}")).collect();
        bail!("{n} kernel build(s) failed:\n\n{}", all.join("\n\n"));
    }
    Ok(results.into_inner().unwrap_or_else(|p| p.into_inner()))
}

fn build_one(sh: &Shell, zig: &Zig, arch: Arch, kernels_dir: &Path, target_dir: &Path, job: &Job<'_>) -> Result<Built> {
    let rel = output_path(job);
    let out = target_dir.join(&rel);
    let (target, flags) = compiler(job.kind, arch);
    let defines: Vec<String> = match job.dataset {
        Some(d) => job.kernel.defines(d).iter().map(|(k, v)| format!("-D{k}={v}")).collect(),
        None => Vec::new(),
    };
    let source = job.kernel.source();
    let inputs = inputs_hash(zig, kernels_dir, target, &flags, &defines, &source)?;
    let built = |rebuilt| Built {
        name: job.kernel.name.clone(),
        dataset: job.dataset,
        kind: job.kind,
        path: rel.clone(),
        rebuilt,
    };
    if stamp::is_current(&out, &inputs) {
        return Ok(built(false));
    }

    fs::create_dir_all(out.parent().expect("output has a parent"))?;
    stamp::clear(&out);
    // Relative source paths from the kernels directory keep absolute paths
    // of this checkout out of the artifacts.
    let _dir = sh.push_dir(kernels_dir);
    let partial = stamp::with_suffix(&out, ".partial");
    let support_c = SUPPORT_FILES[1];
    let command = zig
        .cc(sh)
        .arg("-target")
        .arg(target)
        .args(&flags)
        .arg("-Isupport")
        .args(&defines)
        .arg(support_c)
        .arg(&source)
        .arg("-lm")
        .arg("-o")
        .arg(&partial)
        .quiet()
        .ignore_status();
    let shown = command.to_string();
    let output = command.output().with_context(|| format!("running {shown}"))?;
    if !output.status.success() {
        let _ = fs::remove_file(&partial);
        bail!(
            "compiling kernel `{}`{} failed ({}):\n$ {shown}\n{}{}",
            job.kernel.name,
            job.dataset.map(|d| format!(" at {d}")).unwrap_or_default(),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    fs::rename(&partial, &out)?;
    stamp::record(&out, &inputs)?;
    Ok(built(true))
}

/// A hash of everything that determines a kernel artifact's bytes.
fn inputs_hash(
    zig: &Zig,
    kernels: &Path,
    target: &str,
    flags: &[String],
    defines: &[String],
    source: &str,
) -> Result<String> {
    let mut text = format!("zig {}\ntarget {target}\nflags {flags:?}\ndefines {defines:?}\n", zig.wheel_sha256);
    for file in SUPPORT_FILES.iter().copied().chain([source]) {
        let path = kernels.join(file);
        let bytes = fs::read(&path).with_context(|| {
            format!("reading {} (is the kernel listed in suite.yaml missing its source?)", path.display())
        })?;
        text.push_str(&format!("{file} {}\n", sha256_hex(&bytes)));
    }
    Ok(sha256_hex(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use edgebench_model::suite::Element;

    use super::*;

    /// A kernels directory with the real support code and one kernel `oops`
    /// in category `scratch` with the given source.
    fn scratch_suite(dir: &Path, source: &str) -> (std::path::PathBuf, Kernel) {
        let sources = dir.join("kernels");
        fs::create_dir_all(sources.join("support")).unwrap();
        fs::create_dir_all(sources.join("scratch")).unwrap();
        for file in SUPPORT_FILES {
            fs::copy(crate::project::kernels_dir().join(file), sources.join(file)).unwrap();
        }
        fs::write(sources.join("scratch/oops.c"), source).unwrap();
        let kernel = Kernel {
            name: "oops".into(),
            category: "scratch".into(),
            element: Element::None,
            params: vec![],
            sizes: None,
            reports: true,
        };
        (sources, kernel)
    }

    #[test]
    fn a_changed_source_is_rebuilt_and_an_unchanged_one_is_not() {
        let sh = Shell::new().unwrap();
        let zig = crate::zig::ensure(&sh, true).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (sources, kernel) = scratch_suite(dir.path(), "int main(void) { return 0; }\n");
        let jobs = [Job { kernel: &kernel, dataset: None, kind: ArtifactKind::Wasm }];
        let out = dir.path().join("out");
        let build = || build_all(&zig, Arch::host().unwrap(), &sources, &out, &jobs).unwrap()[0].rebuilt;
        assert!(build());
        assert!(!build());
        fs::write(sources.join("scratch/oops.c"), "int main(void) { return 1; }\n").unwrap();
        assert!(build(), "a changed kernel source is rebuilt");
        assert!(!build());
        fs::write(sources.join("support/edgebench.h"), "/* changed */\n").unwrap();
        assert!(build(), "a changed support file is rebuilt");
    }

    #[test]
    fn a_compiler_failure_shows_the_command_and_the_diagnostics() {
        let sh = Shell::new().unwrap();
        let zig = crate::zig::ensure(&sh, true).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (sources, kernel) = scratch_suite(dir.path(), "int main(void) { return undeclared_thing; }\n");
        let jobs = [Job { kernel: &kernel, dataset: None, kind: ArtifactKind::Native }];
        let err = build_all(&zig, Arch::host().unwrap(), &sources, &dir.path().join("out"), &jobs).unwrap_err();
        let text = format!("{err:#}");
        assert!(text.contains("compiling kernel `oops` failed"), "{text}");
        assert!(text.contains("scratch/oops.c"), "the command is shown: {text}");
        assert!(text.contains("undeclared_thing"), "the compiler's diagnostics are shown: {text}");
        assert!(!dir.path().join("out/kernels/native/oops").exists());
    }
}
