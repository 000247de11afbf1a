//! Compiling C kernels: one job per kernel × dataset × kind, run in
//! parallel, each skipped when the hash of all its inputs is unchanged. Our
//! own kernels and those of a PolyBench/C checkout go through the same
//! [`Compile`] jobs.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, Result, bail};
use edgebench_model::Dataset;
use edgebench_model::manifest::{ArtifactKind, CompilerInfo, SuiteSource};
use edgebench_model::suite::Kernel;
use edgebench_model::workload::WorkloadBuild;
use xshell::Shell;

use crate::toolchain::arch::Arch;
use crate::toolchain::up_to_date;
use crate::toolchain::zig::Zig;
use edgebench_model::digest::sha256_hex;

/// Flags shared by every kernel build. `-ffp-contract=off` keeps the compiler
/// from fusing multiply-adds, which some targets have and others do not, so
/// checksums agree bit for bit across x86-64, aarch64 and wasm32.
const COMMON_FLAGS: &[&str] = &["-O3", "-ffp-contract=off", "-std=c11", "-Wall", "-Wextra", "-s"];

/// The Wasm modules' stack: 1 MiB. zig links executables with a 16 MiB
/// stack, which a module carries as 16 MiB of initial linear memory; engines
/// that map memory lazily never touch it, but an interpreter that allocates
/// it up front (Wasmi) zero-fills all of it at start-up (10 ms and 16 MiB
/// of resident memory here). The kernels keep their data on the heap and
/// need a few KiB of stack; wasm-ld's own default is 64 KiB.
const WASM_STACK: &str = "-Wl,-z,stack-size=1048576";

/// zig's default Wasm CPU (`lime1`) less `call-indirect-overlong`, which
/// writes `call_indirect`'s table index as a 5-byte LEB128. That encoding is
/// valid since reference types, but wasm3 0.5.0 reads the index as one
/// byte and refuses the module ("LEB encoded value overflow"). Without the
/// feature the index is one byte; the code is otherwise the same, and every
/// engine runs the same modules.
const WASM_CPU: &str = "-mcpu=lime1-call_indirect_overlong";

pub const SUPPORT_FILES: &[&str] = &["support/edgebench.h", "support/edgebench.c"];

/// One of our kernels at one dataset, for one kind of artifact.
#[derive(Debug, Clone)]
pub struct Job<'a> {
    pub kernel: &'a Kernel,
    /// `None` for kernels whose code does not depend on the dataset.
    pub dataset: Option<Dataset>,
    pub kind: ArtifactKind,
}

/// One compiler run: C sources to one artifact.
#[derive(Debug, Clone)]
pub struct Compile {
    /// The artifact's name in the manifest.
    pub name: String,
    pub dataset: Option<Dataset>,
    pub kind: ArtifactKind,
    /// What is built, for messages: "kernel `gemm` at small".
    pub what: String,
    /// Where the compiler runs; paths in `args` and `files` are relative to
    /// it, which keeps absolute paths of the machine out of the artifacts.
    pub dir: PathBuf,
    /// The C target (`wasm32-wasi`, `x86_64-linux-musl`, …).
    pub target: &'static str,
    /// Everything between `-target` and `-o`: flags, defines, sources, libraries.
    pub args: Vec<String>,
    /// Every file the output depends on: sources and the headers they include.
    pub files: Vec<String>,
    /// Relative to the target directory.
    pub output: String,
    /// For an external suite's kernel, its marker in the manifest; the
    /// source hashes are filled in by the build.
    pub suite: Option<SuiteSource>,
    /// For a workload built from its sources, its marker in the manifest;
    /// the source hashes are filled in by the build.
    pub workload: Option<WorkloadBuild>,
    /// Whether the sources are C++ (`zig c++`, which links libc++).
    pub cxx: bool,
    /// A workload's fetched source tree, which its `files` name as
    /// `{fetched}/…` (so the manifest holds no path of this machine).
    pub fetched: Option<PathBuf>,
}

impl Compile {
    /// The zig subcommand that compiles it.
    fn driver(&self) -> &'static str {
        if self.cxx { "c++" } else { "cc" }
    }

    /// Where one of its `files` is.
    fn path(&self, file: &str) -> PathBuf {
        match (&self.fetched, file.strip_prefix(edgebench_model::workload::FETCHED)) {
            (Some(tree), Some(rest)) => tree.join(rest.trim_start_matches('/')),
            _ => self.dir.join(file),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Built {
    pub name: String,
    pub dataset: Option<Dataset>,
    pub kind: ArtifactKind,
    /// Relative to the target directory.
    pub path: String,
    pub rebuilt: bool,
    pub suite: Option<SuiteSource>,
    pub workload: Option<WorkloadBuild>,
}

/// The C target for `kind` on `arch`, and the flags it adds to `common`.
pub fn c_target(kind: ArtifactKind, arch: Arch, common: &[&str]) -> (&'static str, Vec<String>) {
    let mut flags: Vec<String> = common.iter().map(|s| s.to_string()).collect();
    let target = match kind {
        ArtifactKind::Wasm => {
            flags.extend([WASM_CPU.into(), WASM_STACK.into()]);
            "wasm32-wasi"
        }
        ArtifactKind::WasmSimd => {
            flags.extend([WASM_CPU.into(), WASM_STACK.into(), "-msimd128".into()]);
            "wasm32-wasi"
        }
        ArtifactKind::Native => {
            flags.push("-static".into());
            arch.zig_native_target()
        }
        other => unreachable!("{other:?} is not compiled from C"),
    };
    (target, flags)
}

/// The C target and flags of our kernels for `kind` on `arch`.
pub fn compiler(kind: ArtifactKind, arch: Arch) -> (&'static str, Vec<String>) {
    c_target(kind, arch, COMMON_FLAGS)
}

/// The compiler version as the manifest records it.
pub fn compiler_version(sh: &Shell, zig: &Zig) -> Result<String> {
    Ok(format!("zig {} (ziglang wheel sha256 {})", zig.version(sh)?, zig.wheel_sha256))
}

pub fn compiler_info(version: &str, arch: Arch, simd: bool) -> Vec<CompilerInfo> {
    ArtifactKind::compiled(simd).into_iter().map(|kind| zig_cc(kind, version, compiler(kind, arch), None)).collect()
}

/// zig cc for one kind of artifact as the manifest records it: the C
/// target and flags of the build, and the suite its kernels come from.
pub fn zig_cc(
    kind: ArtifactKind,
    version: &str,
    (target, flags): (&str, Vec<String>),
    suite: Option<&str>,
) -> CompilerInfo {
    CompilerInfo {
        kind,
        command: "zig cc".into(),
        version: version.into(),
        target: target.into(),
        flags,
        suite: suite.map(str::to_string),
    }
}

/// Where a kernel's artifact goes, relative to the target directory: the
/// compiled ones and Wasmtime's precompiled modules. A name with a `/`
/// (`polybench/gemm`) lands in a subdirectory.
pub fn output_path(name: &str, dataset: Option<Dataset>, kind: ArtifactKind) -> String {
    let stem = match dataset {
        Some(d) => format!("{name}.{d}"),
        None => name.to_string(),
    };
    match kind {
        ArtifactKind::Wasm => format!("kernels/wasm/{stem}.wasm"),
        ArtifactKind::WasmSimd => format!("kernels/wasm-simd/{stem}.wasm"),
        ArtifactKind::WasmtimePrecompiled => format!("kernels/wasmtime/{stem}.cwasm"),
        ArtifactKind::WasmtimePrecompiledSimd => format!("kernels/wasmtime-simd/{stem}.cwasm"),
        ArtifactKind::Native => format!("kernels/native/{stem}"),
        other => unreachable!("{other:?} is not a kernel's artifact"),
    }
}

/// The compiler run of one of our kernels; `kernels_dir` holds the sources
/// (normally `kernels/`).
pub fn compile(job: &Job<'_>, arch: Arch, kernels_dir: &Path) -> Compile {
    let (target, flags) = compiler(job.kind, arch);
    let defines = match job.dataset {
        Some(d) => job.kernel.defines(d).iter().map(|(k, v)| format!("-D{k}={v}")).collect(),
        None => Vec::new(),
    };
    let source = job.kernel.source();
    let mut args = flags;
    args.push("-Isupport".into());
    args.extend(defines);
    args.extend([SUPPORT_FILES[1].to_string(), source.clone(), "-lm".into()]);
    Compile {
        name: job.kernel.name.clone(),
        dataset: job.dataset,
        kind: job.kind,
        what: format!("kernel `{}`{}", job.kernel.name, job.dataset.map(|d| format!(" at {d}")).unwrap_or_default()),
        dir: kernels_dir.to_path_buf(),
        target,
        args,
        files: SUPPORT_FILES.iter().map(|f| f.to_string()).chain([source]).collect(),
        output: output_path(&job.kernel.name, job.dataset, job.kind),
        suite: None,
        workload: None,
        cxx: false,
        fetched: None,
    }
}

/// Runs all compiles on as many threads as there are cores.
pub fn build_all(zig: &Zig, target_dir: &Path, compiles: &[Compile]) -> Result<Vec<Built>> {
    let queue = Mutex::new(compiles.iter().collect::<Vec<_>>());
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
                    match build_one(&sh, zig, target_dir, job) {
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

fn build_one(sh: &Shell, zig: &Zig, target_dir: &Path, job: &Compile) -> Result<Built> {
    let out = target_dir.join(&job.output);
    let file_hashes = hash_files(job)?;
    let inputs = inputs_hash(zig, job, &file_hashes);
    let built = |rebuilt| Built {
        name: job.name.clone(),
        dataset: job.dataset,
        kind: job.kind,
        path: job.output.clone(),
        rebuilt,
        suite: job.suite.clone().map(|mut s| {
            s.sources = file_hashes.iter().cloned().collect();
            s
        }),
        workload: job.workload.clone().map(|mut w| {
            if let WorkloadBuild::Sources { sources, .. } = &mut w {
                *sources = file_hashes.iter().cloned().collect();
            }
            w
        }),
    };
    if up_to_date::is_current(&out, &inputs) {
        return Ok(built(false));
    }

    crate::project::make_dir(out.parent().expect("output has a parent"))?;
    up_to_date::clear(&out);
    let _dir = sh.push_dir(&job.dir);
    let partial = up_to_date::with_suffix(&out, ".partial");
    let command = zig
        .compiler(sh, job.driver())
        .arg("-target")
        .arg(job.target)
        .args(&job.args)
        .arg("-o")
        .arg(&partial)
        .quiet()
        .ignore_status();
    let shown = command.to_string();
    let output = command.output().with_context(|| format!("running {shown}"))?;
    if !output.status.success() {
        let _ = fs::remove_file(&partial);
        bail!(
            "compiling {} failed ({}), in {}:\n$ {shown}\n{}",
            job.what,
            output.status,
            job.dir.display(),
            crate::toolchain::printed(&output)
        );
    }
    fs::rename(&partial, &out)?;
    up_to_date::record(&out, &inputs)?;
    Ok(built(true))
}

/// `(file, sha256)` for each file of a compile.
fn hash_files(job: &Compile) -> Result<Vec<(String, String)>> {
    job.files
        .iter()
        .map(|file| {
            let path = job.path(file);
            let bytes =
                fs::read(&path).with_context(|| format!("reading {}, a source of {}", path.display(), job.what))?;
            Ok((file.clone(), sha256_hex(&bytes)))
        })
        .collect()
}

/// A hash of everything that determines an artifact's bytes.
fn inputs_hash(zig: &Zig, job: &Compile, file_hashes: &[(String, String)]) -> String {
    let mut text = format!("zig {} {}\ntarget {}\nargs {:?}\n", zig.wheel_sha256, job.driver(), job.target, job.args);
    for (file, sha256) in file_hashes {
        text.push_str(&format!("{file} {sha256}\n"));
    }
    sha256_hex(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use edgebench_model::suite::Element;

    use super::*;

    fn build_kernels(
        zig: &Zig,
        arch: Arch,
        kernels_dir: &Path,
        target_dir: &Path,
        jobs: &[Job<'_>],
    ) -> Result<Vec<Built>> {
        let compiles: Vec<Compile> = jobs.iter().map(|job| compile(job, arch, kernels_dir)).collect();
        build_all(zig, target_dir, &compiles)
    }

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
            code: None,
            polybench: None,
            workload: None,
        };
        (sources, kernel)
    }

    #[test]
    fn a_changed_source_is_rebuilt_and_an_unchanged_one_is_not() {
        let sh = Shell::new().unwrap();
        let zig = crate::toolchain::zig::ensure(&sh, true).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (sources, kernel) = scratch_suite(dir.path(), "int main(void) { return 0; }\n");
        let jobs = [Job { kernel: &kernel, dataset: None, kind: ArtifactKind::Wasm }];
        let out = dir.path().join("out");
        let build = || build_kernels(&zig, Arch::host().unwrap(), &sources, &out, &jobs).unwrap()[0].rebuilt;
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
        let zig = crate::toolchain::zig::ensure(&sh, true).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (sources, kernel) = scratch_suite(dir.path(), "int main(void) { return undeclared_thing; }\n");
        let jobs = [Job { kernel: &kernel, dataset: None, kind: ArtifactKind::Native }];
        let err = build_kernels(&zig, Arch::host().unwrap(), &sources, &dir.path().join("out"), &jobs).unwrap_err();
        let text = format!("{err:#}");
        assert!(text.contains("compiling kernel `oops` failed"), "{text}");
        assert!(text.contains("scratch/oops.c"), "the command is shown: {text}");
        assert!(text.contains("undeclared_thing"), "the compiler's diagnostics are shown: {text}");
        assert!(!dir.path().join("out/kernels/native/oops").exists());
    }
}
