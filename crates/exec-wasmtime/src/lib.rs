//! The Wasmtime executors: run one WASI preview-1 module under Wasmtime and
//! report its phases to the harness (see `edgebench_model::executor`).
//!
//! Variants: `jit` compiles the module at start with Cranelift at full
//! optimisation and no compilation cache (the study's cold start); `winch`
//! compiles at start with Winch, Wasmtime's single-pass baseline compiler;
//! `pulley` compiles at start with Cranelift to Pulley bytecode, which
//! Wasmtime's portable interpreter runs (no machine code is generated, so
//! it runs where a JIT may not); `aot` loads a module precompiled by
//! `precompile`. Two binaries share this code (see Cargo.toml):
//! [`Executor::COMPILER`] runs `jit`, `winch` and `pulley` and precompiles;
//! [`Executor::RUNTIME`], built without a compiler, runs `aot`.

use std::process::ExitCode;
use std::time::Instant;

use edgebench_model::executor::{
    ExecutorCommand, ExecutorReport, Guest, INPUTS_GUEST_DIR, PHASE_COMPILE, PHASE_ENGINE, PHASE_EXECUTE,
    PHASE_INSTANTIATE, SIMD_PROBE_MODULE, TRAP_EXIT_CODE, elapsed_ns, probe_answer, program_name, run_reported,
};
use wasmtime::{Config, Engine, Linker, Module, Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::p1::{self, WasiP1Ctx};
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};

const ENGINE: &str = "wasmtime";

struct State {
    wasi: WasiP1Ctx,
    limits: StoreLimits,
}

/// One of the two executor binaries: its name and the variants it runs.
pub struct Executor {
    name: &'static str,
    variants: &'static [&'static str],
}

impl Executor {
    /// `edgebench-wasmtime`: Cranelift compiles at start; also precompiles.
    #[cfg(feature = "compiler")]
    pub const COMPILER: Executor = Executor { name: "edgebench-wasmtime", variants: &["jit", "winch", "pulley"] };
    /// `edgebench-wasmtime-aot`: loads precompiled modules only.
    pub const RUNTIME: Executor = Executor { name: "edgebench-wasmtime-aot", variants: &["aot"] };

    pub fn main(&self) -> ExitCode {
        let command = match ExecutorCommand::from_process_args(self.name) {
            Ok(c) => c,
            Err(code) => return code,
        };
        let outcome = match command {
            ExecutorCommand::Run { variant, max_memory, module, guest, .. } => {
                return self.run(&variant, max_memory, &module, &guest);
            }
            ExecutorCommand::Precompile { target, module, output, .. } => self
                .precompile(target.as_deref(), &module, &output)
                .map_err(|e| format!("precompiling {module}: {e:#}")),
            ExecutorCommand::Probe { variant, simd, .. } => {
                self.check(&variant).and_then(|()| probe(&variant, simd)).map_err(|e| format!("{e:#}"))
            }
        };
        probe_answer(self.name, outcome)
    }

    fn check(&self, variant: &str) -> wasmtime::Result<()> {
        if !self.variants.contains(&variant) {
            wasmtime::bail!("{} runs variants {}, not `{variant}`", self.name, self.variants.join(", "));
        }
        Ok(())
    }

    #[cfg(feature = "compiler")]
    fn precompile(&self, target: Option<&str>, module: &str, output: &str) -> wasmtime::Result<()> {
        let engine = engine("aot", target)?;
        let wasm = std::fs::read(module)?;
        let bytes = engine.precompile_module(&wasm)?;
        std::fs::write(output, bytes)?;
        Ok(())
    }

    #[cfg(not(feature = "compiler"))]
    fn precompile(&self, _target: Option<&str>, _module: &str, _output: &str) -> wasmtime::Result<()> {
        wasmtime::bail!("{} has no compiler; edgebench-wasmtime precompiles", self.name)
    }

    fn run(&self, variant: &str, max_memory: Option<u64>, module_path: &str, guest: &Guest) -> ExitCode {
        run_reported(self.name, ENGINE, variant, |report| {
            self.check(variant)
                .and_then(|()| execute(variant, max_memory, module_path, guest, report))
                .map_err(|e| format!("{e:#}"))
        })
    }
}

/// The engine of a variant. `aot`'s settings are the same for precompiling
/// and loading, so that a precompiled module is compatible with it.
#[cfg_attr(not(feature = "compiler"), allow(unused_variables, reason = "only compilers have variants"))]
fn engine(variant: &str, target: Option<&str>) -> wasmtime::Result<Engine> {
    let mut config = Config::new();
    #[cfg(feature = "compiler")]
    config.cranelift_opt_level(wasmtime::OptLevel::Speed);
    #[cfg(feature = "compiler")]
    match variant {
        "winch" => {
            config.strategy(wasmtime::Strategy::Winch);
        }
        "pulley" => {
            config.target(PULLEY)?;
        }
        _ => {}
    }
    if let Some(triple) = target {
        config.target(triple)?;
    }
    Engine::new(&config)
}

/// Whether this machine can run a variant: its engine is made and, where it
/// compiles, compiles an empty module (Winch, for one, supports fewer
/// architectures than Cranelift) or, with `simd`, a module using SIMD
/// (which Winch supports on fewer still). `aot` compiles nothing here: its
/// SIMD modules were precompiled by `edgebench-wasmtime` for this target.
fn probe(variant: &str, simd: bool) -> wasmtime::Result<()> {
    let engine = engine(variant, None)?;
    if variant != "aot" {
        let module: &[u8] = if simd { SIMD_PROBE_MODULE } else { b"\0asm\x01\0\0\0" };
        compile_bytes(&engine, module).map_err(|e| if simd { e.context("compiling a SIMD module") } else { e })?;
    }
    Ok(())
}

/// Pulley's flavour for this machine's pointer width and byte order.
#[cfg(feature = "compiler")]
const PULLEY: &str = match (cfg!(target_pointer_width = "64"), cfg!(target_endian = "little")) {
    (true, true) => "pulley64",
    (true, false) => "pulley64be",
    (false, true) => "pulley32",
    (false, false) => "pulley32be",
};

/// Returns the process exit status; errors are failures to load or link.
fn execute(
    variant: &str,
    max_memory: Option<u64>,
    module_path: &str,
    guest: &Guest,
    report: &mut ExecutorReport,
) -> wasmtime::Result<i32> {
    let start = Instant::now();
    let engine = engine(variant, None)?;
    report.phases.insert(PHASE_ENGINE.into(), elapsed_ns(start));

    let start = Instant::now();
    let module = if variant == "aot" {
        // SAFETY: the harness verified the artifact's sha256 against the
        // manifest, and it was produced by `precompile` of this same source
        // and Wasmtime version; Wasmtime checks the settings match.
        unsafe { Module::deserialize_file(&engine, module_path)? }
    } else {
        compile(&engine, module_path)?
    };
    report.phases.insert(PHASE_COMPILE.into(), elapsed_ns(start));

    let start = Instant::now();
    let mut linker: Linker<State> = Linker::new(&engine);
    p1::add_to_linker_sync(&mut linker, |s| &mut s.wasi)?;
    let program = program_name(module_path);
    // Stdio, arguments, the workload's environment and its input files
    // (read-only); nothing of the executor's own environment, no network.
    let mut wasi = WasiCtxBuilder::new();
    wasi.arg(&program).args(&guest.args).envs(&guest.env).inherit_stdout().inherit_stderr();
    if let Some(dir) = &guest.inputs {
        wasi.preopened_dir(dir, INPUTS_GUEST_DIR, FsPerms::ReadOnly)
            .map_err(|e| wasmtime::format_err!("opening the input files {dir}: {e}"))?;
    }
    let wasi = wasi.build_p1();
    let mut limits = StoreLimitsBuilder::new();
    if let Some(bytes) = max_memory {
        limits = limits.memory_size(usize::try_from(bytes).unwrap_or(usize::MAX));
    }
    let mut store = Store::new(&engine, State { wasi, limits: limits.build() });
    store.limiter(|s| &mut s.limits);
    let instance = linker.instantiate(&mut store, &module)?;
    let start_fn = instance.get_typed_func::<(), ()>(&mut store, "_start")?;
    report.phases.insert(PHASE_INSTANTIATE.into(), elapsed_ns(start));

    let start = Instant::now();
    let outcome = start_fn.call(&mut store, ());
    report.phases.insert(PHASE_EXECUTE.into(), elapsed_ns(start));

    let code = match outcome {
        Ok(()) => 0,
        Err(e) => match e.downcast_ref::<wasmtime_wasi::I32Exit>() {
            Some(exit) => exit.0,
            None => {
                let message = match e.downcast_ref::<wasmtime::Trap>() {
                    Some(trap) => format!("trap: {trap}"),
                    None => format!("{e:#}"),
                };
                eprintln!("edgebench-wasmtime: {message}");
                report.error = Some(message);
                TRAP_EXIT_CODE
            }
        },
    };
    report.exit_code = Some(code);
    Ok(code)
}

fn compile(engine: &Engine, module_path: &str) -> wasmtime::Result<Module> {
    compile_bytes(engine, &std::fs::read(module_path)?)
}

#[cfg(feature = "compiler")]
fn compile_bytes(engine: &Engine, wasm: &[u8]) -> wasmtime::Result<Module> {
    Module::new(engine, wasm)
}

#[cfg(not(feature = "compiler"))]
fn compile_bytes(_engine: &Engine, _wasm: &[u8]) -> wasmtime::Result<Module> {
    wasmtime::bail!("built without a compiler: only precompiled modules (variant `aot`)")
}
