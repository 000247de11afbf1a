//! `edgebench-wasmtime`: runs one WASI preview-1 module under Wasmtime and
//! reports its phases to the harness (see `edgebench_model::executor`).
//!
//! Variants: `jit` compiles the module at start with Cranelift at full
//! optimisation and no compilation cache (the study's cold start); `aot`
//! loads a module precompiled by `precompile` for this machine.

use std::process::ExitCode;
use std::time::Instant;

use edgebench_model::executor::{
    ExecutorCommand, ExecutorReport, LOAD_FAILURE_EXIT_CODE, PHASE_COMPILE, PHASE_ENGINE, PHASE_EXECUTE,
    PHASE_INSTANTIATE, TRAP_EXIT_CODE,
};
use wasmtime::{Config, Engine, Linker, Module, OptLevel, Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::p1::{self, WasiP1Ctx};

const ENGINE: &str = "wasmtime";

struct State {
    wasi: WasiP1Ctx,
    limits: StoreLimits,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = match ExecutorCommand::parse(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("edgebench-wasmtime: {e}");
            return ExitCode::from(2);
        }
    };
    match command {
        ExecutorCommand::Run { variant, max_memory, module, args, .. } => run(&variant, max_memory, &module, &args),
        ExecutorCommand::Precompile { variant, target, module, output } => {
            match precompile(&variant, target.as_deref(), &module, &output) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("edgebench-wasmtime: precompiling {module}: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
        ExecutorCommand::Probe { variant, .. } => match engine(&variant, None) {
            Ok(_) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("edgebench-wasmtime: {e:#}");
                ExitCode::FAILURE
            }
        },
    }
}

fn engine(variant: &str, target: Option<&str>) -> wasmtime::Result<Engine> {
    if variant != "jit" && variant != "aot" {
        wasmtime::bail!("unknown variant `{variant}`; valid variants: jit, aot");
    }
    let mut config = Config::new();
    config.cranelift_opt_level(OptLevel::Speed);
    if let Some(triple) = target {
        config.target(triple)?;
    }
    Engine::new(&config)
}

fn precompile(variant: &str, target: Option<&str>, module: &str, output: &str) -> wasmtime::Result<()> {
    let engine = engine(variant, target)?;
    let wasm = std::fs::read(module)?;
    let bytes = engine.precompile_module(&wasm)?;
    std::fs::write(output, bytes)?;
    Ok(())
}

fn run(variant: &str, max_memory: Option<u64>, module_path: &str, args: &[String]) -> ExitCode {
    let mut report = ExecutorReport { engine: ENGINE.into(), variant: variant.into(), ..Default::default() };
    let code = match execute(variant, max_memory, module_path, args, &mut report) {
        Ok(code) => code,
        Err(e) => {
            report.error = Some(format!("{e:#}"));
            eprintln!("edgebench-wasmtime: {e:#}");
            LOAD_FAILURE_EXIT_CODE
        }
    };
    report.finish("edgebench-wasmtime", code)
}

/// Returns the process exit status; errors are failures to load or link.
fn execute(
    variant: &str,
    max_memory: Option<u64>,
    module_path: &str,
    args: &[String],
    report: &mut ExecutorReport,
) -> wasmtime::Result<i32> {
    let start = Instant::now();
    let engine = engine(variant, None)?;
    report.phases.insert(PHASE_ENGINE.into(), elapsed_ns(start));

    let start = Instant::now();
    let module = if variant == "aot" {
        // SAFETY: the harness verified the artifact's sha256 against the
        // manifest, and it was produced by `precompile` of this same build.
        unsafe { Module::deserialize_file(&engine, module_path)? }
    } else {
        Module::from_file(&engine, module_path)?
    };
    report.phases.insert(PHASE_COMPILE.into(), elapsed_ns(start));

    let start = Instant::now();
    let mut linker: Linker<State> = Linker::new(&engine);
    p1::add_to_linker_sync(&mut linker, |s| &mut s.wasi)?;
    let program =
        std::path::Path::new(module_path).file_stem().and_then(|s| s.to_str()).unwrap_or("kernel").to_string();
    // Only stdio and arguments: no preopened directories, no environment, no network.
    let wasi = WasiCtxBuilder::new().arg(&program).args(args).inherit_stdout().inherit_stderr().build_p1();
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

fn elapsed_ns(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX)
}
