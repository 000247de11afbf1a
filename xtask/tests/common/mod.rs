//! Helpers shared by the end-to-end tests: they drive the real `cargo xtask`
//! binary, which builds real artifacts and runs the real harness.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use edgebench_model::manifest::Manifest;
use edgebench_model::record::{KernelResult, RunRecord};

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

pub fn xtask(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    // Snapshots of test benches go below target/, never into results/.
    command.args(args).current_dir(root()).env_remove("EDGEBENCH_OUT_DIR").env("EDGEBENCH_RESULTS_DIR", test_results());
    command
}

/// Runs `cargo xtask …` and returns its output, failing the test with both
/// streams when it fails.
pub fn xtask_ok(args: &[&str]) -> Output {
    let output = xtask(args).output().expect("xtask runs");
    assert!(output.status.success(), "cargo xtask {} failed:\n{}", args.join(" "), text(&output));
    output
}

pub fn xtask_err(args: &[&str]) -> String {
    let output = xtask(args).output().expect("xtask runs");
    assert!(!output.status.success(), "cargo xtask {} should have failed:\n{}", args.join(" "), text(&output));
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn test_results() -> PathBuf {
    root().join("target/test-results")
}

pub fn text(output: &Output) -> String {
    format!(
        "--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

pub fn target_dir(target: &str) -> PathBuf {
    root().join("target/edgebench").join(target)
}

pub fn manifest(target: &str) -> Manifest {
    manifest_at(&target_dir(target))
}

pub fn manifest_at(dir: &Path) -> Manifest {
    let text = std::fs::read_to_string(dir.join("manifest.json")).expect("manifest.json exists");
    serde_json::from_str(&text).expect("manifest.json parses")
}

/// Writes a pipeline into a temporary directory and returns its path.
pub fn pipeline(dir: &Path, name: &str, yaml: &str) -> PathBuf {
    let path = dir.join(format!("{name}.yaml"));
    std::fs::write(&path, yaml).unwrap();
    path
}

/// Runs a bench and returns its run directory and records.
pub fn bench(pipeline: &Path, extra: &[&str]) -> (PathBuf, Vec<RunRecord>) {
    let (dir, _, records) = bench_with_snapshot(pipeline, extra);
    (dir, records)
}

/// Runs a bench and returns its run directory, snapshot directory and records.
pub fn bench_with_snapshot(pipeline: &Path, extra: &[&str]) -> (PathBuf, PathBuf, Vec<RunRecord>) {
    let mut args = vec!["bench", "--quiet", "--pipeline", pipeline.to_str().unwrap()];
    args.extend_from_slice(extra);
    let output = xtask_ok(&args);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let dir = stdout
        .lines()
        .find_map(|l| l.strip_prefix("results: "))
        .unwrap_or_else(|| panic!("no `results:` line:\n{}", text(&output)));
    let dir = PathBuf::from(dir);
    let snapshot = stdout.lines().find_map(|l| l.strip_prefix("snapshot: ")).expect("a `snapshot:` line");
    let records = read_records(&dir.join("results.jsonl"));
    (dir, PathBuf::from(snapshot), records)
}

pub fn read_records(path: &Path) -> Vec<RunRecord> {
    std::fs::read_to_string(path).unwrap().lines().map(|l| serde_json::from_str(l).expect("a record")).collect()
}

/// Runs an executable (under `emulator` when given) and parses its result line.
pub fn run_kernel(exe: &Path, emulator: Option<&str>) -> KernelResult {
    let mut command = match emulator {
        Some(e) => {
            let mut c = Command::new(e);
            c.arg(exe);
            c
        }
        None => Command::new(exe),
    };
    let output = command.output().unwrap_or_else(|e| panic!("running {}: {e}", exe.display()));
    assert!(output.status.success(), "{} failed:\n{}", exe.display(), text(&output));
    assert!(output.stdout.is_empty(), "{} wrote to stdout", exe.display());
    KernelResult::parse(&String::from_utf8_lossy(&output.stderr)).unwrap()
}

/// Builds, plans and deploys a pipeline without running it; returns the
/// plan's path and the plan.
pub fn dry_run(pipeline: &Path) -> (String, edgebench_model::plan::Plan) {
    let output = xtask_ok(&["bench", "--quiet", "--dry-run", "--pipeline", pipeline.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let path = stdout.lines().find_map(|l| l.strip_prefix("plan: ")).expect("a plan path").to_string();
    let plan = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    (path, plan)
}

pub const EM_AARCH64: u16 = 183;
pub const EM_X86_64: u16 = 62;
const PT_INTERP: u32 = 3;
const ET_EXEC: u16 = 2;

/// What a test needs of a 64-bit little-endian ELF file's header.
pub struct Elf {
    pub machine: u16,
    /// `ET_EXEC` or `ET_DYN` (a position-independent executable).
    pub kind: u16,
    pub has_interpreter: bool,
}

impl Elf {
    pub fn read(path: &Path) -> Elf {
        let bytes = std::fs::read(path).unwrap();
        assert_eq!(&bytes[..4], b"\x7fELF", "{} is not ELF", path.display());
        assert_eq!((bytes[4], bytes[5]), (2, 1), "{} is not 64-bit little-endian", path.display());
        let u16_at = |o: usize| u16::from_le_bytes([bytes[o], bytes[o + 1]]);
        let u32_at = |o: usize| u32::from_le_bytes(bytes[o..o + 4].try_into().unwrap());
        let u64_at = |o: usize| u64::from_le_bytes(bytes[o..o + 8].try_into().unwrap());
        let (phoff, phentsize, phnum) = (u64_at(32) as usize, u16_at(54) as usize, u16_at(56) as usize);
        let has_interpreter = (0..phnum).any(|i| u32_at(phoff + i * phentsize) == PT_INTERP);
        Elf { machine: u16_at(18), kind: u16_at(16), has_interpreter }
    }

    /// Statically linked and not position independent: no dynamic loader
    /// and no relocations at start.
    pub fn is_static_executable(&self) -> bool {
        !self.has_interpreter && self.kind == ET_EXEC
    }
}
