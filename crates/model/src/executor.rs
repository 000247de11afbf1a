//! The protocol between the harness and an engine executor.
//!
//! An executor is a small program that embeds one Wasm engine. The harness runs
//! it as a measured child process:
//!
//! ```text
//! <executor> run --variant <v> [--max-memory <bytes>] <module> [-- <args>...]
//! <executor> precompile --variant <v> [--target <triple>] <module.wasm> <output>
//! <executor> probe --variant <v> [--simd]
//! ```
//!
//! `probe` exits 0 when the executor can run the variant on this machine,
//! and otherwise prints why not; with `--simd`, when it can also run
//! modules that use 128-bit SIMD ([`SIMD_PROBE_MODULE`]).
//!
//! The kernel's own stdout and stderr pass straight through. The executor's
//! phases and outcome travel on a side channel instead: a JSON
//! [`ExecutorReport`] written to the file named by [`REPORT_ENV`], so they are
//! never mixed into the kernel's output.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Environment variable naming the file the executor writes its report to.
pub const REPORT_ENV: &str = "EDGEBENCH_REPORT";

/// Exit status an executor uses when the guest trapped (as 128 + SIGABRT, the
/// convention of the Wasmtime and Wasmer command-line tools).
pub const TRAP_EXIT_CODE: i32 = 134;

/// Exit status for an executor that could not even load the module.
pub const LOAD_FAILURE_EXIT_CODE: i32 = 125;

/// Phase names used by the Wasm executors, in order. Whatever a run's wall
/// time holds beyond their sum is process start-up: loading the executor
/// itself before `main`.
pub const PHASE_ENGINE: &str = "engine";
pub const PHASE_COMPILE: &str = "compile";
pub const PHASE_INSTANTIATE: &str = "instantiate";
pub const PHASE_EXECUTE: &str = "execute";

/// The smallest module that needs 128-bit SIMD: one function that adds two
/// `i32x4` constants and returns a lane. An engine without SIMD (or with SIMD
/// switched off) refuses to compile it; `probe --simd` compiles it with the
/// variant's engine on the device.
pub const SIMD_PROBE_MODULE: &[u8] = &[
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
    0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f, // types: () -> i32
    0x03, 0x02, 0x01, 0x00, // functions: one, of type 0
    0x07, 0x05, 0x01, 0x01, 0x66, 0x00, 0x00, // exports: "f" = function 0
    0x0a, 0x2e, 0x01, 0x2c, 0x00, // code: one body of 44 bytes, no locals
    0xfd, 0x0c, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, // v128.const i32x4 1 2 3 4
    0xfd, 0x0c, 5, 0, 0, 0, 6, 0, 0, 0, 7, 0, 0, 0, 8, 0, 0, 0, // v128.const i32x4 5 6 7 8
    0xfd, 0xae, 0x01, // i32x4.add
    0xfd, 0x1b, 0x00, // i32x4.extract_lane 0
    0x0b, // end
];

/// Nanoseconds since `start`, as a phase duration.
pub fn elapsed_ns(start: std::time::Instant) -> u64 {
    duration_ns(start.elapsed())
}

/// A duration in nanoseconds, as a phase duration (a phase summed from
/// several steps, say).
pub fn duration_ns(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

/// The guest's program name (its `argv[0]`): the module's file stem.
pub fn program_name(module_path: &str) -> String {
    std::path::Path::new(module_path).file_stem().and_then(|s| s.to_str()).unwrap_or("kernel").to_string()
}

/// What an executor saw while running one module.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExecutorReport {
    pub engine: String,
    pub variant: String,
    /// Phase name → duration in nanoseconds, e.g. `engine` (setting up the
    /// engine), `compile` (or the load of a precompiled module),
    /// `instantiate`, `execute`; a container executor
    /// reports `create`, `start_to_exit`, `remove`.
    pub phases: BTreeMap<String, u64>,
    /// The guest's exit status (0 when `_start` returned normally).
    pub exit_code: Option<i32>,
    /// The trap or load error, when the guest did not finish.
    pub error: Option<String>,
    /// Peak memory measured by the executor itself, where the process's own
    /// rusage does not cover the workload (a container).
    pub peak_memory: Option<PeakMemory>,
}

impl ExecutorReport {
    /// Writes the report where the harness asked for it ([`REPORT_ENV`]) and
    /// turns `code` into the executor's exit status (clamped to 0..=255).
    pub fn finish(&self, program: &str, code: i32) -> std::process::ExitCode {
        if let Some(path) = std::env::var_os(REPORT_ENV)
            && let Err(e) = serde_json::to_vec(self).map_err(std::io::Error::from).and_then(|b| std::fs::write(path, b))
        {
            eprintln!("{program}: cannot write report: {e}");
        }
        std::process::ExitCode::from(code.clamp(0, 255) as u8)
    }
}

/// An executor's `run`: `body` runs the module, filling `report`, and
/// returns the guest's exit status; its error (the module could not be
/// loaded, compiled or linked) is printed, recorded and becomes
/// [`LOAD_FAILURE_EXIT_CODE`]. Writes the report; returns the exit status.
pub fn run_reported(
    program: &str,
    engine: &str,
    variant: &str,
    body: impl FnOnce(&mut ExecutorReport) -> Result<i32, String>,
) -> std::process::ExitCode {
    let mut report = ExecutorReport { engine: engine.into(), variant: variant.into(), ..Default::default() };
    let code = match body(&mut report) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{program}: {e}");
            report.error = Some(e);
            LOAD_FAILURE_EXIT_CODE
        }
    };
    report.finish(program, code)
}

/// An executor's answer to `probe`: success, or why not, printed.
pub fn probe_answer(program: &str, answer: Result<(), String>) -> std::process::ExitCode {
    match answer {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{program}: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// A peak-memory figure and how it was obtained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeakMemory {
    pub bytes: u64,
    /// e.g. `cgroup-v2 memory.peak`, `max of streamed stats`.
    pub method: String,
}

/// A parsed executor command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecutorCommand {
    Run {
        variant: String,
        max_memory: Option<u64>,
        /// The container image to run in (container executors).
        image: Option<String>,
        module: String,
        guest: Guest,
    },
    Precompile {
        variant: String,
        target: Option<String>,
        module: String,
        output: String,
    },
    /// Whether the variant can run here (with `simd`, also SIMD modules); a
    /// container executor also imports `rootfs` as `image` when the engine
    /// does not have it yet.
    Probe {
        variant: String,
        simd: bool,
        image: Option<String>,
        rootfs: Option<String>,
    },
}

/// Where a guest (a Wasm module, a container) finds its workload's input
/// files.
pub const INPUTS_GUEST_DIR: &str = "/inputs";

/// What the program run inside an engine or a container is given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Guest {
    /// Its arguments (after `--`).
    pub args: Vec<String>,
    /// Its whole environment (`--env NAME=VALUE`): nothing of the
    /// executor's own reaches it.
    pub env: Vec<(String, String)>,
    /// A directory it reads at [`INPUTS_GUEST_DIR`], read-only
    /// (`--inputs DIR`).
    pub inputs: Option<String>,
}

impl ExecutorCommand {
    /// This process's own command line. A usage error is printed after the
    /// executor's name and becomes exit status 2, the executors' convention.
    pub fn from_process_args(executor: &str) -> Result<ExecutorCommand, std::process::ExitCode> {
        let args: Vec<String> = std::env::args().skip(1).collect();
        ExecutorCommand::parse(&args).map_err(|e| {
            eprintln!("{executor}: {e}");
            std::process::ExitCode::from(2)
        })
    }

    /// Parses `args` (without the program name). Hand-rolled so executors stay
    /// free of an argument-parsing dependency.
    pub fn parse(args: &[String]) -> Result<ExecutorCommand, String> {
        let (verb, rest) = args.split_first().ok_or_else(usage)?;
        let mut variant = None;
        let mut max_memory = None;
        let mut target = None;
        let mut image = None;
        let mut rootfs = None;
        let mut simd = false;
        let mut env = Vec::new();
        let mut inputs = None;
        let mut positional = Vec::new();
        let mut guest_args = Vec::new();
        let mut it = rest.iter();
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "--variant" => variant = Some(value(&mut it, "--variant")?),
                "--target" => target = Some(value(&mut it, "--target")?),
                "--image" => image = Some(value(&mut it, "--image")?),
                "--rootfs" => rootfs = Some(value(&mut it, "--rootfs")?),
                "--simd" => simd = true,
                "--inputs" => inputs = Some(value(&mut it, "--inputs")?),
                "--env" => {
                    let v = value(&mut it, "--env")?;
                    let (name, value) =
                        v.split_once('=').ok_or_else(|| format!("--env takes NAME=VALUE, not `{v}`"))?;
                    env.push((name.to_string(), value.to_string()));
                }
                "--max-memory" => {
                    let v = value(&mut it, "--max-memory")?;
                    let bytes = v.parse().map_err(|_| format!("--max-memory takes a number of bytes, not `{v}`"))?;
                    max_memory = Some(bytes);
                }
                "--" => {
                    guest_args.extend(it.by_ref().cloned());
                }
                flag if flag.starts_with("--") => return Err(format!("unknown flag `{flag}`\n{}", usage())),
                _ => positional.push(arg.clone()),
            }
        }
        let variant = variant.ok_or_else(|| format!("--variant is required\n{}", usage()))?;
        match (verb.as_str(), positional.as_slice()) {
            ("run", [module]) => Ok(ExecutorCommand::Run {
                variant,
                max_memory,
                image,
                module: module.clone(),
                guest: Guest { args: guest_args, env, inputs },
            }),
            ("precompile", [module, output]) => {
                Ok(ExecutorCommand::Precompile { variant, target, module: module.clone(), output: output.clone() })
            }
            ("probe", []) => Ok(ExecutorCommand::Probe { variant, simd, image, rootfs }),
            _ => Err(usage()),
        }
    }

    /// The command line that [`ExecutorCommand::parse`] reads back.
    pub fn to_args(&self) -> Vec<String> {
        let mut out = Vec::new();
        match self {
            ExecutorCommand::Run { variant, max_memory, image, module, guest } => {
                let Guest { args, env, inputs } = guest;
                out.extend(["run".into(), "--variant".into(), variant.clone()]);
                if let Some(bytes) = max_memory {
                    out.extend(["--max-memory".into(), bytes.to_string()]);
                }
                if let Some(image) = image {
                    out.extend(["--image".into(), image.clone()]);
                }
                for (name, value) in env {
                    out.extend(["--env".into(), format!("{name}={value}")]);
                }
                if let Some(inputs) = inputs {
                    out.extend(["--inputs".into(), inputs.clone()]);
                }
                out.push(module.clone());
                if !args.is_empty() {
                    out.push("--".into());
                    out.extend(args.iter().cloned());
                }
            }
            ExecutorCommand::Precompile { variant, target, module, output } => {
                out.extend(["precompile".into(), "--variant".into(), variant.clone()]);
                if let Some(target) = target {
                    out.extend(["--target".into(), target.clone()]);
                }
                out.extend([module.clone(), output.clone()]);
            }
            ExecutorCommand::Probe { variant, simd, image, rootfs } => {
                out.extend(["probe".into(), "--variant".into(), variant.clone()]);
                if *simd {
                    out.push("--simd".into());
                }
                if let Some(image) = image {
                    out.extend(["--image".into(), image.clone()]);
                }
                if let Some(rootfs) = rootfs {
                    out.extend(["--rootfs".into(), rootfs.clone()]);
                }
            }
        }
        out
    }
}

fn value<'a>(it: &mut impl Iterator<Item = &'a String>, flag: &str) -> Result<String, String> {
    it.next().cloned().ok_or_else(|| format!("{flag} needs a value"))
}

fn usage() -> String {
    "usage:\n  <executor> run --variant <v> [--max-memory <bytes>] [--image <image>] [--env NAME=VALUE]... \
     [--inputs <dir>] <module> [-- <args>...]\n  \
     <executor> precompile --variant <v> [--target <triple>] <module.wasm> <output>\n  \
     <executor> probe --variant <v> [--simd] [--image <image>] [--rootfs <tarball>]"
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn run_round_trips() {
        let cmd = ExecutorCommand::Run {
            variant: "jit".into(),
            max_memory: Some(1 << 20),
            image: Some("edgebench/scratch:1".into()),
            module: "k.wasm".into(),
            guest: Guest {
                args: strings(&["a", "--b"]),
                env: vec![("LANG".into(), "C".into()), ("EMPTY".into(), String::new()), ("EQ".into(), "a=b".into())],
                inputs: Some("inputs/w".into()),
            },
        };
        assert_eq!(ExecutorCommand::parse(&cmd.to_args()), Ok(cmd));
    }

    #[test]
    fn precompile_round_trips() {
        let cmd = ExecutorCommand::Precompile {
            variant: "aot".into(),
            target: Some("aarch64-unknown-linux-gnu".into()),
            module: "k.wasm".into(),
            output: "k.cwasm".into(),
        };
        assert_eq!(ExecutorCommand::parse(&cmd.to_args()), Ok(cmd));
    }

    #[test]
    fn probe_round_trips() {
        let cmd = ExecutorCommand::Probe { variant: "llvm".into(), simd: false, image: None, rootfs: None };
        assert_eq!(ExecutorCommand::parse(&cmd.to_args()), Ok(cmd));
        let cmd = ExecutorCommand::Probe { variant: "jit".into(), simd: true, image: None, rootfs: None };
        assert_eq!(ExecutorCommand::parse(&cmd.to_args()), Ok(cmd));
        let cmd = ExecutorCommand::Probe {
            variant: "debian".into(),
            simd: false,
            image: Some("edgebench/debian:abc".into()),
            rootfs: Some("images/debian.tar".into()),
        };
        assert_eq!(ExecutorCommand::parse(&cmd.to_args()), Ok(cmd));
    }

    #[test]
    fn rejects_bad_input() {
        assert!(ExecutorCommand::parse(&[]).is_err());
        assert!(ExecutorCommand::parse(&strings(&["run", "k.wasm"])).is_err());
        assert!(ExecutorCommand::parse(&strings(&["run", "--variant", "jit"])).is_err());
        assert!(ExecutorCommand::parse(&strings(&["run", "--variant", "jit", "--max-memory", "x", "k"])).is_err());
        assert!(ExecutorCommand::parse(&strings(&["fly", "--variant", "jit", "k"])).is_err());
        assert!(ExecutorCommand::parse(&strings(&["run", "--bogus", "--variant", "jit", "k"])).is_err());
        assert!(ExecutorCommand::parse(&strings(&["run", "--env", "NOVALUE", "--variant", "jit", "k"])).is_err());
    }
}
