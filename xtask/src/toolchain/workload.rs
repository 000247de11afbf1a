//! Building a workload of the user's own for a target: from its sources
//! with the pinned zig (the same hermetic, hashed compile jobs as the
//! kernels), by the user's own build command, or from prebuilt files
//! checked against their pinned sha256. Every artifact carries in the
//! manifest how it was made.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use anyhow::{Context, Result, bail};
use edgebench_model::digest::sha256_file;
use edgebench_model::manifest::ArtifactKind;
use edgebench_model::suite::Kernel;
use edgebench_model::workload::{FETCHED, Flavour, Origin, Workload, WorkloadBuild, inputs_dir};
use xshell::Shell;

use crate::toolchain::arch::Arch;
use crate::toolchain::debian_source;
use crate::toolchain::kernels::{self, Built, Compile};
use crate::toolchain::zig::Zig;
use crate::toolchain::{printed, up_to_date};

/// Flags of every workload compiled from sources, before the user's: the
/// binaries are stripped, as the kernels are.
const COMMON_FLAGS: &[&str] = &["-s"];

/// The optimisation a workload gets when its pipeline gives no flags.
pub const DEFAULT_FLAGS: &[&str] = &["-O2"];

/// C++ source suffixes: compiled with `zig c++`.
const CXX_SUFFIXES: [&str; 4] = [".cc", ".cpp", ".cxx", ".C"];

/// The build of a workload an artifact kind runs, on `arch`.
pub fn flavour(kind: ArtifactKind, arch: Arch) -> Option<Flavour> {
    match kind {
        ArtifactKind::Native => Some(match arch {
            Arch::X86_64 => Flavour::NativeX86_64,
            Arch::Aarch64 => Flavour::NativeAarch64,
        }),
        ArtifactKind::Wasm | ArtifactKind::WasmtimePrecompiled => Some(Flavour::Wasm),
        ArtifactKind::WasmSimd | ArtifactKind::WasmtimePrecompiledSimd => Some(Flavour::WasmSimd),
        ArtifactKind::Program | ArtifactKind::Rootfs | ArtifactKind::Input => None,
    }
}

/// Whether the workload can be built as `flavour`.
pub fn offers(workload: &Workload, flavour: Flavour) -> bool {
    match &workload.origin {
        Origin::Sources { .. } => true,
        Origin::Command { flavours, .. } => flavours.contains(&flavour),
        Origin::Prebuilt { files } => files.contains_key(&flavour),
    }
}

/// Fetches and prepares the source package of every workload that names
/// one (once per package), before any is compiled.
pub fn fetch_sources(sh: &Shell, kernels: &[&Kernel], quiet: bool) -> Result<()> {
    for kernel in kernels {
        if let Some(Origin::Sources { fetch: Some(source), .. }) = kernel.workload.as_ref().map(|w| &w.origin) {
            debian_source::ensure(sh, source, quiet).with_context(|| format!("workload `{}`", kernel.name))?;
        }
    }
    Ok(())
}

/// The compile job of a workload built from its sources, for `kind` on `arch`.
pub fn compile(kernel: &Kernel, workload: &Workload, kind: ArtifactKind, arch: Arch) -> Option<Compile> {
    let Origin::Sources { sources, headers, flags, fetch } = &workload.origin else { return None };
    let (target, mut args) = kernels::c_target(kind, arch, COMMON_FLAGS);
    // The compiler is given the fetched tree's real path; the manifest keeps
    // `{fetched}` (see `Compile::fetched`).
    let fetched = fetch.as_ref().map(debian_source::tree);
    let resolve = |arg: &String| match &fetched {
        Some(tree) => arg.replace(FETCHED, &tree.display().to_string()),
        None => arg.clone(),
    };
    args.extend(flags.iter().map(resolve));
    args.extend(sources.iter().map(resolve));
    let cxx = sources.iter().any(|s| CXX_SUFFIXES.iter().any(|x| s.ends_with(x)));
    if !cxx {
        args.push("-lm".into());
    }
    Some(Compile {
        name: kernel.name.clone(),
        dataset: None,
        kind,
        what: format!("workload `{}`", kernel.name),
        dir: workload.dir.clone(),
        target,
        args,
        files: sources.iter().chain(headers).cloned().collect(),
        output: kernels::output_path(&kernel.name, None, kind),
        suite: None,
        workload: Some(WorkloadBuild::Sources {
            root: workload.dir.display().to_string(),
            sources: Default::default(),
            flags: flags.clone(),
            fetched: fetch.clone(),
        }),
        cxx,
        fetched,
    })
}

/// Builds (by command) or places (prebuilt) a workload's artifact of
/// `kind`, if it offers that build; sources go through [`compile`].
pub fn build_other(
    sh: &Shell,
    zig: &Zig,
    target_dir: &Path,
    kernel: &Kernel,
    workload: &Workload,
    kind: ArtifactKind,
    arch: Arch,
) -> Result<Option<Built>> {
    if matches!(workload.origin, Origin::Sources { .. }) {
        return Ok(None);
    }
    let Some(flavour) = flavour(kind, arch).filter(|f| offers(workload, *f)) else { return Ok(None) };
    let output = kernels::output_path(&kernel.name, None, kind);
    let out = target_dir.join(&output);
    crate::project::make_dir(out.parent().expect("an artifact path has a directory"))?;
    let (rebuilt, how) = match &workload.origin {
        Origin::Sources { .. } => unreachable!("sources are compiled by `compile`"),
        Origin::Command { argv, .. } => (
            true,
            run_command(sh, zig, &kernel.name, workload, argv, flavour, arch, &out)
                .map(|argv| WorkloadBuild::Command { root: workload.dir.display().to_string(), argv })?,
        ),
        Origin::Prebuilt { files } => {
            let file = &files[&flavour];
            let source = workload.dir.join(&file.path);
            let actual = sha256_file(&source)
                .with_context(|| format!("reading workload `{}`'s {}", kernel.name, source.display()))?;
            if actual != file.sha256 {
                bail!(
                    "workload `{}`: {} has sha256 {actual}, but its pipeline pins {}; rebuild it or pin the new hash",
                    kernel.name,
                    source.display(),
                    file.sha256
                );
            }
            let current = up_to_date::is_current(&out, &actual);
            if !current {
                up_to_date::clear(&out);
                fs::copy(&source, &out)
                    .with_context(|| format!("copying {} to {}", source.display(), out.display()))?;
                // A native build runs as a program, whatever mode the file had
                // (a checkout or an unpacked archive may have lost its `x`).
                if flavour.is_native() {
                    fs::set_permissions(&out, fs::Permissions::from_mode(0o755))?;
                }
                up_to_date::record(&out, &actual)?;
            }
            (!current, WorkloadBuild::Prebuilt { root: workload.dir.display().to_string(), path: file.path.clone() })
        }
    };
    Ok(Some(Built {
        name: kernel.name.clone(),
        dataset: None,
        kind,
        path: output,
        rebuilt,
        suite: None,
        workload: Some(how),
    }))
}

/// Copies a workload's input files into `inputs/<workload>/` of the
/// target's build directory (what was there before is removed), read-only,
/// each an artifact of its own; a directory is copied whole.
pub fn copy_inputs(target_dir: &Path, kernel: &Kernel, workload: &Workload) -> Result<Vec<Built>> {
    let rel_dir = inputs_dir(&kernel.name);
    let dir = target_dir.join(&rel_dir);
    if dir.exists() {
        // Read-only copies: their directories must be writable to go.
        make_writable(&dir)?;
        fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    if workload.inputs.is_empty() {
        return Ok(Vec::new());
    }
    let mut files = Vec::new();
    for input in &workload.inputs {
        files_below(&workload.dir, Path::new(input), &mut files)
            .with_context(|| format!("workload `{}`'s input `{input}`", kernel.name))?;
    }
    let mut built = Vec::new();
    for rel in files {
        let to = dir.join(&rel);
        crate::project::make_dir(to.parent().expect("an input below the inputs directory"))?;
        let from = workload.dir.join(&rel);
        fs::copy(&from, &to).with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
        fs::set_permissions(&to, fs::Permissions::from_mode(0o444))?;
        let rel = rel.to_string_lossy().into_owned();
        built.push(Built {
            name: kernel.name.clone(),
            dataset: None,
            kind: ArtifactKind::Input,
            path: format!("{rel_dir}/{rel}"),
            rebuilt: true,
            suite: None,
            workload: Some(WorkloadBuild::Input { root: workload.dir.display().to_string(), path: rel }),
        });
    }
    Ok(built)
}

/// Every regular file at `rel` below `root` (itself, or below it if a
/// directory), as paths relative to `root`; a link or a device is refused.
fn files_below(root: &Path, rel: &Path, out: &mut Vec<std::path::PathBuf>) -> Result<()> {
    let path = root.join(rel);
    let meta = fs::symlink_metadata(&path).with_context(|| format!("reading {}", path.display()))?;
    if meta.is_file() {
        out.push(rel.to_path_buf());
    } else if meta.is_dir() {
        let mut entries: Vec<_> = fs::read_dir(&path)?.collect::<std::io::Result<_>>()?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            files_below(root, &rel.join(entry.file_name()), out)?;
        }
    } else {
        bail!("{} is neither a file nor a directory (a link? name what it points to)", path.display());
    }
    Ok(())
}

fn make_writable(dir: &Path) -> Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            make_writable(&path)?;
        }
    }
    fs::set_permissions(dir, fs::Permissions::from_mode(0o755))?;
    Ok(())
}

/// Runs the user's build command for one flavour in the workload's
/// directory; it writes `out`. Returns the command as it ran.
#[allow(clippy::too_many_arguments)]
fn run_command(
    sh: &Shell,
    zig: &Zig,
    name: &str,
    workload: &Workload,
    argv: &[String],
    flavour: Flavour,
    arch: Arch,
    out: &Path,
) -> Result<Vec<String>> {
    let partial = up_to_date::with_suffix(out, ".partial");
    let _ = fs::remove_file(&partial);
    up_to_date::clear(out);
    let (triple, zig_target) = match flavour.is_native() {
        true => (format!("{}-unknown-linux-musl", arch.as_str()), arch.zig_native_target()),
        false => ("wasm32-wasip1".to_string(), "wasm32-wasi"),
    };
    let filled: Vec<String> = argv
        .iter()
        .map(|a| {
            a.replace("{out}", &partial.display().to_string())
                .replace("{flavour}", flavour.kind_name())
                .replace("{triple}", &triple)
                .replace("{zig_target}", zig_target)
                .replace("{zig}", &zig.exe.display().to_string())
        })
        .collect();
    let _dir = sh.push_dir(&workload.dir);
    let (program, rest) = filled.split_first().expect("a build command is never empty");
    let command = zig.with_caches(xshell::cmd!(sh, "{program} {rest...}")).quiet().ignore_status();
    let shown = command.to_string();
    let output = command.output().with_context(|| format!("running workload `{name}`'s build command: {shown}"))?;
    if !output.status.success() {
        bail!(
            "the build command of workload `{name}` ({}) failed ({}), in {}:\n$ {shown}\n{}",
            flavour.kind_name(),
            output.status,
            workload.dir.display(),
            printed(&output)
        );
    }
    if !partial.is_file() {
        bail!(
            "the build command of workload `{name}` ({}) succeeded but wrote no file at {{out}} ({}):\n$ {shown}\n{}",
            flavour.kind_name(),
            partial.display(),
            printed(&output)
        );
    }
    fs::rename(&partial, out)?;
    // The command as the manifest keeps it: no paths of this machine.
    let zig_exe = zig.exe.display().to_string();
    Ok(filled.iter().map(|a| a.replace(&partial.display().to_string(), "{out}").replace(&zig_exe, "{zig}")).collect())
}
