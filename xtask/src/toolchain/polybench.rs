//! The original PolyBench/C 4.2.1 suite, from a user's checkout named by a
//! pipeline (`suite: { polybench: <path> }`). None of its code is part of
//! this repository: this module reads the checkout's layout and says how its
//! kernels are compiled; `build.rs` compiles them beside ours.
//!
//! Layout: `utilities/polybench.{c,h}` are the support code,
//! `utilities/benchmark_list` lists the kernels as `./<category>/<name>/<name>.c`,
//! and each kernel's `<name>.h` picks its sizes by `-D<DATASET>_DATASET`.
//! A kernel is built twice per dataset and kind: with `-DPOLYBENCH_TIME`
//! (measured; prints its kernel-region time on stdout) and with
//! `-DPOLYBENCH_DUMP_ARRAYS` (run once per cell; its dump gives the checksum).

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};
use edgebench_model::Dataset;
use edgebench_model::manifest::{ArtifactKind, CompilerInfo, SuiteSource};
use edgebench_model::suite::{Element, Kernel, PolybenchSource, Suite};

use crate::toolchain::arch::Arch;
use crate::toolchain::kernels::{self, Compile};

/// The suite's name in pipelines and in the manifest.
pub const SUITE: &str = "polybench";

/// Names of the suite's kernels and categories start with this, so they
/// never collide with ours: `polybench/gemm`, `polybench/stencils`.
pub const PREFIX: &str = "polybench/";

const SUPPORT_C: &str = "utilities/polybench.c";
const SUPPORT_H: &str = "utilities/polybench.h";
const LIST: &str = "utilities/benchmark_list";

/// Compiler flags of every build: ours, less `-std=c11 -Wall -Wextra`, since
/// the suite is written for its compilers' default dialect.
const FLAGS: &[&str] = &["-O3", "-ffp-contract=off", "-s"];

/// wasi-libc offers `<sys/resource.h>`, which `polybench.c` includes, only
/// with emulated process clocks.
const WASI_DEFINE: &str = "-D_WASI_EMULATED_PROCESS_CLOCKS";
const WASI_LIB: &str = "-lwasi-emulated-process-clocks";

/// The cache flush before the timer allocates and reads about 32 MB, which
/// would dominate peak memory; our kernels do not flush either.
const NO_FLUSH: &str = "-DPOLYBENCH_NO_FLUSH_CACHE";

/// The artifact name of a kernel's build with array dumps.
pub fn dump_name(kernel: &str) -> String {
    format!("{kernel}.dump-arrays")
}

/// Whether a kernel name in a pipeline refers to this suite.
pub fn is_suite_name(name: &str) -> bool {
    name == SUITE || name.starts_with(PREFIX)
}

/// Reads a checkout: every kernel listed in `utilities/benchmark_list`,
/// checked to exist, as a suite of kernels named `polybench/<name>`.
pub fn open(root: &Path) -> Result<Suite> {
    let meta = fs::metadata(root).with_context(|| format!("{}: no such directory", root.display()))?;
    if !meta.is_dir() {
        bail!("{} is not a directory", root.display());
    }
    let root = root.canonicalize().with_context(|| format!("resolving {}", root.display()))?;
    for file in [SUPPORT_C, SUPPORT_H, LIST] {
        if !root.join(file).is_file() {
            bail!(
                "{} is not a PolyBench/C checkout: {file} is missing (expected {SUPPORT_C}, {SUPPORT_H}, {LIST} \
                 and kernels in <category>/<name>/<name>.c with <name>.h, as in PolyBench/C 4.2.1)",
                root.display()
            );
        }
    }
    let list_path = root.join(LIST);
    let list = fs::read_to_string(&list_path).with_context(|| format!("reading {}", list_path.display()))?;
    let mut kernels: Vec<Kernel> = Vec::new();
    for (i, line) in list.lines().enumerate() {
        let entry = line.trim();
        if entry.is_empty() {
            continue;
        }
        let at = format!("{}:{}", list_path.display(), i + 1);
        let (dir, name) = parse_entry(entry).with_context(|| format!("{at}: `{entry}`"))?;
        for file in [format!("{dir}/{name}.c"), format!("{dir}/{name}.h")] {
            if !root.join(&file).is_file() {
                bail!("{at}: kernel `{name}` is listed, but {} is missing", root.join(&file).display());
            }
        }
        let full_name = format!("{PREFIX}{name}");
        if kernels.iter().any(|k| k.name == full_name) {
            bail!("{at}: kernel `{name}` is listed twice");
        }
        let category = dir.rsplit_once('/').map_or("", |(category, _)| category);
        kernels.push(Kernel {
            name: full_name,
            category: format!("{PREFIX}{category}"),
            element: element(&root.join(format!("{dir}/{name}.h"))),
            params: Vec::new(),
            // The kernel's own header holds the sizes; nothing is passed but the dataset.
            sizes: Some(Dataset::ALL.into_iter().map(|d| (d, Vec::new())).collect()),
            reports: true,
            code: None,
            polybench: Some(PolybenchSource { root: root.clone(), dir: dir.to_string(), name: name.to_string() }),
            workload: None,
        });
    }
    if kernels.is_empty() {
        bail!("{} lists no kernels", list_path.display());
    }
    Ok(Suite { kernels })
}

/// `./linear-algebra/blas/gemm/gemm.c` → (`linear-algebra/blas/gemm`, `gemm`).
fn parse_entry(entry: &str) -> Result<(&str, &str)> {
    let path = entry.strip_prefix("./").unwrap_or(entry);
    let parts: Vec<&str> = path.split('/').collect();
    let well_formed = parts.len() >= 3
        && parts.iter().all(|p| !p.is_empty() && *p != "." && *p != "..")
        && parts[parts.len() - 1].strip_suffix(".c") == Some(parts[parts.len() - 2]);
    if !well_formed {
        bail!("not of the form ./<category>/<name>/<name>.c");
    }
    let (dir, _) = path.rsplit_once('/').expect("three parts or more");
    Ok((dir, parts[parts.len() - 2]))
}

/// The element type a kernel's header chooses by default (`DATA_TYPE_IS_*`).
fn element(header: &Path) -> Element {
    let text = fs::read_to_string(header).unwrap_or_default();
    for line in text.lines() {
        let words: Vec<&str> = line.trim_start_matches([' ', '\t', '#']).split_whitespace().collect();
        match words.as_slice() {
            ["define", "DATA_TYPE_IS_INT", ..] => return Element::Int,
            ["define", "DATA_TYPE_IS_FLOAT", ..] => return Element::Float,
            ["define", "DATA_TYPE_IS_DOUBLE", ..] => return Element::Double,
            _ => {}
        }
    }
    Element::Double
}

/// The compiler runs of one kernel at one dataset for one kind: the timed
/// build and the build with array dumps.
pub fn compiles(
    kernel: &Kernel,
    source: &PolybenchSource,
    dataset: Dataset,
    kind: ArtifactKind,
    arch: Arch,
) -> [Compile; 2] {
    let (target, flags) = compiler(kind, arch);
    let dataset_define = format!("-D{}_DATASET", dataset.as_str().to_uppercase());
    let dir = &source.dir;
    let compile = |name: String, mode: &str| {
        let defines = vec![dataset_define.clone(), mode.to_string(), NO_FLUSH.to_string()];
        let mut args = flags.clone();
        args.extend(["-Iutilities".to_string(), format!("-I{dir}")]);
        args.extend(defines.iter().cloned());
        args.extend([SUPPORT_C.to_string(), format!("{dir}/{}.c", source.name), "-lm".into()]);
        if kind.is_wasm_module() {
            args.push(WASI_LIB.into());
        }
        Compile {
            what: format!("PolyBench/C kernel `{}` at {dataset} ({mode})", source.name),
            dir: source.root.clone(),
            target,
            args,
            files: vec![
                SUPPORT_H.into(),
                SUPPORT_C.into(),
                format!("{dir}/{}.h", source.name),
                format!("{dir}/{}.c", source.name),
            ],
            output: kernels::output_path(&name, Some(dataset), kind),
            suite: Some(SuiteSource {
                suite: SUITE.into(),
                root: source.root.display().to_string(),
                sources: BTreeMap::new(),
                defines,
            }),
            workload: None,
            cxx: false,
            fetched: None,
            name,
            dataset: Some(dataset),
            kind,
        }
    };
    [compile(kernel.name.clone(), "-DPOLYBENCH_TIME"), compile(dump_name(&kernel.name), "-DPOLYBENCH_DUMP_ARRAYS")]
}

/// The C target and flags for `kind` on `arch`.
fn compiler(kind: ArtifactKind, arch: Arch) -> (&'static str, Vec<String>) {
    let (target, mut flags) = kernels::c_target(kind, arch, FLAGS);
    if kind.is_wasm_module() {
        flags.push(WASI_DEFINE.into());
    }
    (target, flags)
}

/// The compilers as the manifest records them.
pub fn compiler_info(version: &str, arch: Arch, simd: bool) -> Vec<CompilerInfo> {
    ArtifactKind::compiled(simd)
        .into_iter()
        .map(|kind| {
            let (target, mut flags) = compiler(kind, arch);
            flags.extend([NO_FLUSH, "-lm"].map(String::from));
            if kind.is_wasm_module() {
                flags.push(WASI_LIB.into());
            }
            kernels::zig_cc(kind, version, (target, flags), Some(SUITE))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> std::path::PathBuf {
        crate::project::root().join("xtask/tests/fixtures/polybench")
    }

    #[test]
    fn the_fixture_reads_as_a_suite() {
        let suite = open(&fixture()).unwrap();
        let names: Vec<&str> = suite.names().collect();
        assert_eq!(names, ["polybench/gemm", "polybench/jacobi-1d", "polybench/floyd-warshall"]);
        let gemm = suite.kernel("polybench/gemm").unwrap();
        assert_eq!(gemm.category, "polybench/linear-algebra/blas");
        assert_eq!(gemm.element, Element::Double);
        assert_eq!(suite.kernel("polybench/floyd-warshall").unwrap().element, Element::Int);
        assert_eq!(gemm.polybench.as_ref().unwrap().dir, "linear-algebra/blas/gemm");
        suite.validate().unwrap();
    }

    #[test]
    fn list_entries_must_have_the_suite_shape() {
        assert_eq!(parse_entry("./stencils/jacobi-1d/jacobi-1d.c").unwrap(), ("stencils/jacobi-1d", "jacobi-1d"));
        assert_eq!(parse_entry("linear-algebra/blas/gemm/gemm.c").unwrap(), ("linear-algebra/blas/gemm", "gemm"));
        for bad in ["./gemm/gemm.c", "./stencils/jacobi-1d/other.c", "./stencils/jacobi-1d/jacobi-1d.h", "./../x/y/y.c"]
        {
            assert!(parse_entry(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn timed_and_dump_builds_differ_only_in_their_mode() {
        let suite = open(&fixture()).unwrap();
        let gemm = suite.kernel("polybench/gemm").unwrap();
        let source = gemm.polybench.as_ref().unwrap();
        let [timed, dump] = compiles(gemm, source, Dataset::Small, ArtifactKind::Wasm, Arch::X86_64);
        assert_eq!(timed.output, "kernels/wasm/polybench/gemm.small.wasm");
        assert_eq!(dump.output, "kernels/wasm/polybench/gemm.dump-arrays.small.wasm");
        for flag in ["-DSMALL_DATASET", "-DPOLYBENCH_NO_FLUSH_CACHE", WASI_DEFINE, WASI_LIB, "-Iutilities"] {
            assert!(timed.args.iter().any(|a| a == flag), "{flag} in {:?}", timed.args);
        }
        assert!(timed.args.iter().any(|a| a == "-DPOLYBENCH_TIME"));
        assert!(dump.args.iter().any(|a| a == "-DPOLYBENCH_DUMP_ARRAYS"));
        let [native, _] = compiles(gemm, source, Dataset::Small, ArtifactKind::Native, Arch::X86_64);
        assert!(!native.args.iter().any(|a| a.contains("WASI") || a.contains("wasi")), "{:?}", native.args);
        assert!(native.args.iter().any(|a| a == "-static"));
    }

    /// The manifest records the flags the suite's builds are made with.
    #[test]
    fn the_recorded_compilers_carry_the_suites_flags() {
        let suite = open(&fixture()).unwrap();
        let gemm = suite.kernel("polybench/gemm").unwrap();
        for arch in [Arch::X86_64, Arch::Aarch64] {
            for info in compiler_info("zig x", arch, true) {
                let [timed, _] = compiles(gemm, gemm.polybench.as_ref().unwrap(), Dataset::Mini, info.kind, arch);
                assert_eq!(info.suite.as_deref(), Some(SUITE));
                for flag in &info.flags {
                    assert!(timed.args.contains(flag), "{flag} of {:?} is not passed: {:?}", info.kind, timed.args);
                }
                assert!(!info.flags.iter().any(|f| f == "-std=c11"), "{:?}", info.flags);
                let wasi = info.flags.iter().any(|f| f == WASI_DEFINE);
                assert_eq!(wasi, info.kind.is_wasm_module(), "{:?}", info.flags);
                let simd = info.flags.iter().any(|f| f == "-msimd128");
                assert_eq!(simd, info.kind == ArtifactKind::WasmSimd, "{:?}", info.flags);
            }
        }
    }

    /// Built for aarch64 and run under qemu-user, the kernels dump exactly
    /// what the builds for this host dump.
    #[test]
    fn aarch64_builds_dump_the_same_arrays_as_the_host_builds() {
        let sh = xshell::Shell::new().unwrap();
        let zig = crate::toolchain::zig::ensure(&sh, true).unwrap();
        let suite = open(&fixture()).unwrap();
        let out = tempfile::tempdir().unwrap();
        let dumps = |arch: Arch, emulator: Option<&str>| -> BTreeMap<String, String> {
            let dir = out.path().join(arch.as_str());
            let jobs: Vec<Compile> = suite
                .kernels
                .iter()
                .map(|k| {
                    let [_, dump] =
                        compiles(k, k.polybench.as_ref().unwrap(), Dataset::Small, ArtifactKind::Native, arch);
                    dump
                })
                .collect();
            let mut sums = BTreeMap::new();
            for built in kernels::build_all(&zig, &dir, &jobs).unwrap() {
                let exe = dir.join(&built.path);
                let output = match emulator {
                    Some(e) => std::process::Command::new(e).arg(&exe).output(),
                    None => std::process::Command::new(&exe).output(),
                }
                .unwrap_or_else(|e| panic!("running {}: {e}", exe.display()));
                assert!(output.status.success(), "{}: {}", exe.display(), String::from_utf8_lossy(&output.stderr));
                let sum = edgebench_model::record::polybench::dump_checksum(&output.stderr[..]).unwrap();
                sums.insert(built.name, sum);
            }
            sums
        };
        let host = dumps(Arch::host().unwrap(), None);
        assert_eq!(host.len(), 3);
        assert_eq!(host, dumps(Arch::Aarch64, Some("qemu-aarch64-static")));
    }
}
