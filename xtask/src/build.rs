//! `cargo xtask build`: kernels, device programs and precompiled modules for
//! one target, recorded with their hashes in `manifest.json`.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use edgebench_model::Dataset;
use edgebench_model::digest::sha256_file;
use edgebench_model::executor::ExecutorCommand;
use edgebench_model::manifest::{Artifact, ArtifactKind, CompilerInfo, MANIFEST_SCHEMA, Manifest};
use edgebench_model::suite::Kernel;
use xshell::Shell;

use crate::device::target::{self, Access, Target};
use crate::flags::BuildArgs;
use crate::planning::pipeline::{self, Pipeline, RuntimeUse};
use crate::planning::plan::Unavailable;
use crate::planning::suite;
use crate::project;
use crate::toolchain::images;
use crate::toolchain::kernels::{self, Job};
use crate::toolchain::polybench;
use crate::toolchain::up_to_date;
use crate::toolchain::workload;
use crate::toolchain::zig;
use crate::toolchain::{cross, programs};

/// What to build.
pub struct Request<'a> {
    pub target: &'a Target,
    /// Ours, those of a PolyBench/C checkout (see [`Kernel::polybench`])
    /// and the pipeline's workloads (see [`Kernel::workload`]).
    pub kernels: Vec<&'a Kernel>,
    pub datasets: Vec<Dataset>,
    /// Device programs to build (none for a kernels-only build).
    pub programs: Vec<&'static programs::Program>,
    /// Whether to build the Debian root filesystem (for docker/debian).
    pub debian_rootfs: bool,
    /// Whether to build the kernels' Wasm also with 128-bit SIMD (for
    /// `+simd` variants).
    pub simd: bool,
    pub quiet: bool,
}

impl<'a> Request<'a> {
    /// What a pipeline needs on a target: its kernels and datasets, the
    /// programs of its runtimes, the Debian image if a runtime runs it —
    /// leaving out what only variants that cannot run there would need.
    pub fn for_pipeline(
        target: &'a Target,
        pipeline: &'a Pipeline,
        unavailable: &Unavailable,
        quiet: bool,
    ) -> Request<'a> {
        let available: Vec<&RuntimeUse> =
            pipeline.runtimes.iter().filter(|r| !unavailable.contains_key(&r.label())).collect();
        Request {
            target,
            kernels: pipeline.kernels.iter().collect(),
            datasets: pipeline.datasets.clone(),
            programs: pipeline::programs_of(available.iter().copied()),
            debian_rootfs: available.iter().any(|r| r.artifacts().contains(&ArtifactKind::Rootfs)),
            simd: available.iter().any(|r| r.split().1),
            quiet,
        }
    }
}

pub fn run(args: &BuildArgs) -> Result<Manifest> {
    let target = target::resolve(&args.target)?;
    let suite = suite::load()?;
    if let Some(pipeline) = &args.pipeline {
        let pipeline = pipeline::load(pipeline, &suite)?;
        return build(&Request::for_pipeline(&target, &pipeline, &Unavailable::new(), args.quiet));
    }
    if let Some(name) = args.kernels.iter().find(|k| polybench::is_suite_name(k.trim())) {
        bail!(
            "`{name}` is a kernel of the PolyBench/C suite, which is read from the checkout a pipeline names \
             (`suite: {{ polybench: <path> }}`); build it with `cargo xtask build --pipeline <that pipeline>`"
        );
    }
    let mut kernels = suite::select(&suite, &args.kernels)?;
    if args.with_faults {
        kernels.extend(suite::faults(&suite));
    }
    let datasets = suite::datasets(&args.datasets)?;
    let programs = if args.kernels_only { Vec::new() } else { programs::DEFAULT.to_vec() };
    let request = Request {
        target: &target,
        kernels,
        datasets,
        programs,
        debian_rootfs: args.debian_rootfs,
        simd: args.simd,
        quiet: args.quiet,
    };
    build(&request)
}

pub fn manifest_path(target: &str) -> PathBuf {
    project::target_dir(target).join("manifest.json")
}

pub fn build(req: &Request<'_>) -> Result<Manifest> {
    let started = Instant::now();
    let sh = Shell::new()?;
    let target_dir = project::target_dir(&req.target.name);
    crate::project::make_dir(&target_dir)?;
    // One build per target at a time (tests and users may start several).
    let lock = File::create(target_dir.join(".build.lock"))?;
    lock.lock().context("locking the target directory")?;

    let zig = zig::ensure(&sh, req.quiet)?;
    workload::fetch_sources(&sh, &req.kernels, req.quiet)?;
    let mut built = kernels::build_all(&zig, &target_dir, &compiles(req))?;
    built.extend(workloads_built_otherwise(&sh, &zig, req, &target_dir)?);
    let rebuilt = built.iter().filter(|b| b.rebuilt).count();
    let mut artifacts = Vec::new();
    for b in &built {
        artifacts.push(Artifact {
            suite: b.suite.clone(),
            workload: b.workload.clone(),
            ..artifact(&target_dir, &b.name, b.dataset, b.kind, &b.path)?
        });
    }
    let mut program_compilers = Vec::new();
    if !req.programs.is_empty() {
        program_compilers = cross::install(&sh, req.target.arch, &target_dir, &req.programs, req.quiet)?;
        for p in &req.programs {
            artifacts.push(artifact(&target_dir, p.binary, None, ArtifactKind::Program, &programs::path(p))?);
        }
    }
    if req.programs.contains(&&programs::WASMTIME) {
        artifacts.extend(precompiled_modules(&sh, req.target, &target_dir, &artifacts)?);
    }
    if req.debian_rootfs {
        let rel = images::debian_rootfs(&sh, req.target.arch, &target_dir, req.quiet)?;
        artifacts.push(artifact(&target_dir, images::DEBIAN_ROOTFS, None, ArtifactKind::Rootfs, &rel)?);
    }
    keep_earlier_artifacts(&target_dir, &manifest_path(&req.target.name), &mut artifacts);
    // A workload built now reads exactly the inputs copied now.
    artifacts.retain(|a| {
        a.kind != ArtifactKind::Input
            || built.iter().any(|b| b.path == a.path)
            || !req.kernels.iter().any(|k| k.name == a.name && k.workload.is_some())
    });
    artifacts.sort_by(|a, b| (a.kind, &a.name, a.dataset).cmp(&(b.kind, &b.name, b.dataset)));

    let version = kernels::compiler_version(&sh, &zig)?;
    let simd = artifacts.iter().any(|a| a.kind == ArtifactKind::WasmSimd);
    let mut compilers = kernels::compiler_info(&version, req.target.arch, simd);
    if artifacts.iter().any(|a| a.suite.as_ref().is_some_and(|s| s.suite == polybench::SUITE)) {
        compilers.extend(polybench::compiler_info(&version, req.target.arch, simd));
    }
    compilers.extend(program_compilers);
    for kind in [ArtifactKind::WasmtimePrecompiled, ArtifactKind::WasmtimePrecompiledSimd] {
        if artifacts.iter().any(|a| a.kind == kind) {
            compilers.push(precompiler_info(req.target, kind)?);
        }
    }
    let manifest = Manifest {
        schema: MANIFEST_SCHEMA,
        target: req.target.name.clone(),
        triple: req.target.arch.rust_triple().into(),
        compilers,
        artifacts,
    };
    let path = write_manifest(&req.target.name, &manifest)?;
    if !req.quiet {
        eprintln!(
            "built {} kernel artifact(s) ({rebuilt} compiled, {} up to date) for `{}` in {:.1} s; manifest: {}",
            built.len(),
            built.len() - rebuilt,
            req.target.name,
            started.elapsed().as_secs_f64(),
            path.display()
        );
    }
    Ok(manifest)
}

/// Every compile the request's kernels need: each dataset (once for a
/// dataset-independent kernel), as Wasm and as native code, and as Wasm
/// with SIMD if asked.
fn compiles<'a>(req: &Request<'a>) -> Vec<kernels::Compile> {
    let arch = req.target.arch;
    let mut compiles = Vec::new();
    for kernel in &req.kernels {
        if let Some(workload) = &kernel.workload {
            compiles.extend(
                ArtifactKind::compiled(req.simd)
                    .into_iter()
                    .filter_map(|kind| workload::compile(kernel, workload, kind, arch)),
            );
            continue;
        }
        let datasets: Vec<Option<Dataset>> =
            if kernel.sizes.is_some() { req.datasets.iter().copied().map(Some).collect() } else { vec![None] };
        for dataset in datasets {
            for kind in ArtifactKind::compiled(req.simd) {
                match (&kernel.polybench, dataset) {
                    (Some(source), Some(dataset)) => {
                        compiles.extend(polybench::compiles(kernel, source, dataset, kind, arch));
                    }
                    _ => compiles.push(kernels::compile(&Job { kernel, dataset, kind }, arch, &project::kernels_dir())),
                }
            }
        }
    }
    compiles
}

/// The artifacts of workloads built by their own command or prebuilt
/// (every build each offers of the kinds the request compiles), and every
/// workload's input files.
fn workloads_built_otherwise(
    sh: &Shell,
    zig: &zig::Zig,
    req: &Request<'_>,
    target_dir: &Path,
) -> Result<Vec<kernels::Built>> {
    let mut built = Vec::new();
    for kernel in &req.kernels {
        let Some(w) = &kernel.workload else { continue };
        built.extend(workload::copy_inputs(target_dir, kernel, w)?);
        for kind in ArtifactKind::compiled(req.simd) {
            built.extend(workload::build_other(sh, zig, target_dir, kernel, w, kind, req.target.arch)?);
        }
    }
    Ok(built)
}

/// The triple `aot` modules are compiled for, when it is not this machine's
/// own CPU: a device's CPU features are not this machine's (nor qemu-user's,
/// which emulates a recent CPU), so Cranelift compiles for the
/// architecture's baseline and the module loads on any CPU of it (a Pi 3's
/// Cortex-A53 has no LSE atomics, which qemu-user's CPU has). On `local`,
/// this machine is the device and its own features are used.
pub fn precompile_triple(target: &Target) -> Result<Option<&'static str>> {
    let on_this_machine = target.access == Access::Local && target.emulator_on_host()?.is_none();
    Ok((!on_this_machine).then(|| target.arch.rust_triple()))
}

/// How the `aot` modules were compiled: by the target's Wasmtime executor,
/// for the architecture's baseline or for this machine's CPU.
fn precompiler_info(target: &Target, kind: ArtifactKind) -> Result<CompilerInfo> {
    let triple = precompile_triple(target)?;
    let mut command = "edgebench-wasmtime precompile --variant aot".to_string();
    if let Some(triple) = triple {
        command.push_str(&format!(" --target {triple}"));
    }
    let features = match triple {
        Some(_) => "Cranelift, the architecture's baseline CPU features (the device's are not known here)",
        None => "Cranelift, this machine's CPU features (it is the device)",
    };
    let version = crate::snapshot::provenance::engines().get("wasmtime").cloned().unwrap_or_default();
    Ok(CompilerInfo {
        kind,
        command,
        version: format!("wasmtime {version}"),
        target: target.arch.rust_triple().into(),
        flags: vec![features.into()],
        suite: None,
    })
}

/// Every Wasm module (scalar and SIMD) precompiled by the target's own
/// Wasmtime executor.
fn precompiled_modules(
    sh: &Shell,
    target: &Target,
    target_dir: &Path,
    artifacts: &[Artifact],
) -> Result<Vec<Artifact>> {
    let executor_sha256 = sha256_file(&target_dir.join(programs::path(&programs::WASMTIME)))?;
    let mut out = Vec::new();
    for wasm in artifacts.iter() {
        let Some(kind) = wasm.kind.wasmtime_precompiled() else { continue };
        let rel = precompile_wasmtime(sh, target, target_dir, wasm, kind, &executor_sha256)?;
        let precompiled = artifact(target_dir, &wasm.name, wasm.dataset, kind, &rel)?;
        out.push(Artifact { suite: wasm.suite.clone(), workload: wasm.workload.clone(), ..precompiled });
    }
    Ok(out)
}

/// Writes the manifest unless it is unchanged (its time stamp tells tools
/// whether anything was rebuilt); returns its path.
fn write_manifest(target: &str, manifest: &Manifest) -> Result<PathBuf> {
    let path = manifest_path(target);
    let json = serde_json::to_string_pretty(manifest)? + "\n";
    if fs::read_to_string(&path).ok().as_deref() != Some(json.as_str()) {
        fs::write(&path, json)?;
    }
    Ok(path)
}

/// Builds of other kernels or datasets for the same target accumulate: the
/// manifest keeps earlier entries this build did not touch, as long as their
/// file is still there unchanged in size (its hash was taken when it was
/// built, and the device checks it again before running it).
fn keep_earlier_artifacts(target_dir: &Path, path: &Path, artifacts: &mut Vec<Artifact>) {
    let Ok(text) = fs::read_to_string(path) else { return };
    let Ok(old) = serde_json::from_str::<Manifest>(&text) else { return };
    if old.schema != MANIFEST_SCHEMA {
        return;
    }
    for a in old.artifacts {
        let current = fs::metadata(target_dir.join(&a.path)).map(|m| m.len() == a.size).unwrap_or(false);
        let rebuilt = artifacts.iter().any(|n| n.kind == a.kind && n.name == a.name && n.dataset == a.dataset);
        if current && !rebuilt {
            artifacts.push(a);
        }
    }
}

fn artifact(
    target_dir: &Path,
    name: &str,
    dataset: Option<Dataset>,
    kind: ArtifactKind,
    rel: &str,
) -> Result<Artifact> {
    let path = target_dir.join(rel);
    let size = fs::metadata(&path).with_context(|| format!("{} was not built", path.display()))?.len();
    Ok(Artifact {
        name: name.into(),
        dataset,
        kind,
        path: rel.into(),
        size,
        sha256: sha256_file(&path)?,
        suite: None,
        workload: None,
    })
}

/// Precompiles one module with the target's own Wasmtime executor (under
/// qemu-user for another architecture: the exact engine the device runs);
/// skipped when neither the module nor the executor changed.
fn precompile_wasmtime(
    sh: &Shell,
    target: &Target,
    target_dir: &Path,
    wasm: &Artifact,
    kind: ArtifactKind,
    executor_sha256: &str,
) -> Result<String> {
    let wasm_rel = wasm.path.as_str();
    let out_rel = kernels::output_path(&wasm.name, wasm.dataset, kind);
    let out = target_dir.join(&out_rel);
    let executor = target_dir.join(programs::path(&programs::WASMTIME));
    let triple = precompile_triple(target)?;
    // The module's hash was taken when it was built.
    let inputs = format!("{}+{executor_sha256}+{}", wasm.sha256, triple.unwrap_or("this machine's CPU"));
    if up_to_date::is_current(&out, &inputs) {
        return Ok(out_rel);
    }
    up_to_date::clear(&out);
    crate::project::make_dir(out.parent().expect("has a parent"))?;
    let command = ExecutorCommand::Precompile {
        variant: "aot".into(),
        target: triple.map(String::from),
        module: target_dir.join(wasm_rel).display().to_string(),
        output: out.display().to_string(),
    };
    let args = command.to_args();
    let mut argv: Vec<String> = target.emulator_on_host()?.into_iter().collect();
    argv.push(executor.display().to_string());
    argv.extend(args);
    let (program, rest) = (&argv[0], &argv[1..]);
    xshell::cmd!(sh, "{program} {rest...}")
        .quiet()
        .run()
        .with_context(|| format!("precompiling {wasm_rel} for Wasmtime"))?;
    up_to_date::record(&out, &inputs)?;
    Ok(out_rel)
}
