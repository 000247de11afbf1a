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
use edgebench_model::workload::{FETCHED, Flavour, Origin, Workload, WorkloadBuild};
use xshell::Shell;

use crate::toolchain::arch::Arch;
use crate::toolchain::debian_source;
use crate::toolchain::kernels::{self, Built, Compile};
use crate::toolchain::up_to_date;
use crate::toolchain::zig::Zig;

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
        ArtifactKind::Program | ArtifactKind::Rootfs => None,
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
    let said = || format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    if !output.status.success() {
        bail!(
            "the build command of workload `{name}` ({}) failed ({}), in {}:\n$ {shown}\n{}",
            flavour.kind_name(),
            output.status,
            workload.dir.display(),
            said()
        );
    }
    if !partial.is_file() {
        bail!(
            "the build command of workload `{name}` ({}) succeeded but wrote no file at {{out}} ({}):\n$ {shown}\n{}",
            flavour.kind_name(),
            partial.display(),
            said()
        );
    }
    fs::rename(&partial, out)?;
    // The command as the manifest keeps it: no paths of this machine.
    let zig_exe = zig.exe.display().to_string();
    Ok(filled.iter().map(|a| a.replace(&partial.display().to_string(), "{out}").replace(&zig_exe, "{zig}")).collect())
}
