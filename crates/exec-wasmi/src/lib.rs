//! The Wasmi executor: run one WASI preview-1 module under the Wasmi
//! interpreter and report its phases to the harness (see
//! `edgebench_model::executor`).
//!
//! Wasmi translates Wasm into its own register-based bytecode and
//! interprets that; nothing is compiled to machine code, so it runs where
//! a JIT may not. Variants pick when functions are translated: `eager`
//! translates the whole module before instantiation (Wasmi's default);
//! `lazy` validates the whole module up front, as `eager` does, but
//! translates each function on its first call, which shortens start-up
//! for modules that call few of their functions.

use std::process::ExitCode;
use std::time::Instant;

mod read_only;

use edgebench_model::executor::{
    ExecutorCommand, ExecutorReport, Guest, INPUTS_GUEST_DIR, PHASE_COMPILE, PHASE_ENGINE, PHASE_EXECUTE,
    PHASE_INSTANTIATE, SIMD_PROBE_MODULE, TRAP_EXIT_CODE, elapsed_ns, probe_answer, program_name, run_reported,
};
use wasmi::{CompilationMode, Config, Engine, Linker, Module, Store, StoreLimits, StoreLimitsBuilder};
use wasmi_wasi::{WasiCtx, WasiCtxBuilder};

/// This build's name: with Wasmi's SIMD or without (see Cargo.toml).
const NAME: &str = if cfg!(feature = "simd") { "edgebench-wasmi-simd" } else { "edgebench-wasmi" };
const ENGINE: &str = "wasmi";
const VARIANTS: &[&str] = &["eager", "lazy"];

struct State {
    wasi: WasiCtx,
    limits: StoreLimits,
}

pub fn main() -> ExitCode {
    let command = match ExecutorCommand::from_process_args(NAME) {
        Ok(c) => c,
        Err(code) => return code,
    };
    match command {
        ExecutorCommand::Run { variant, max_memory, module, guest, .. } => run(&variant, max_memory, &module, &guest),
        ExecutorCommand::Precompile { .. } => {
            eprintln!("{NAME}: Wasmi interprets modules; it has nothing to precompile");
            ExitCode::from(2)
        }
        ExecutorCommand::Probe { variant, simd, .. } => {
            probe_answer(NAME, mode(&variant).and_then(|mode| probe(mode, simd)))
        }
    }
}

/// The translation mode of a variant.
fn mode(variant: &str) -> Result<CompilationMode, String> {
    match variant {
        "eager" => Ok(CompilationMode::Eager),
        "lazy" => Ok(CompilationMode::LazyTranslation),
        other => Err(format!("{NAME} runs variants {}, not `{other}`", VARIANTS.join(", "))),
    }
}

/// With `simd`, whether this build translates a module using SIMD (only
/// `edgebench-wasmi-simd` does).
fn probe(mode: CompilationMode, simd: bool) -> Result<(), String> {
    if simd {
        Module::new(&engine(mode), SIMD_PROBE_MODULE).map_err(|e| format!("translating a SIMD module: {e}"))?;
    }
    Ok(())
}

fn engine(mode: CompilationMode) -> Engine {
    let mut config = Config::default();
    config.compilation_mode(mode);
    Engine::new(&config)
}

fn run(variant: &str, max_memory: Option<u64>, module_path: &str, guest: &Guest) -> ExitCode {
    run_reported(NAME, ENGINE, variant, |report| {
        mode(variant).and_then(|mode| execute(mode, max_memory, module_path, guest, report))
    })
}

/// Returns the process exit status; errors are failures to load or link.
fn execute(
    mode: CompilationMode,
    max_memory: Option<u64>,
    module_path: &str,
    guest: &Guest,
    report: &mut ExecutorReport,
) -> Result<i32, String> {
    let start = Instant::now();
    let engine = engine(mode);
    report.phases.insert(PHASE_ENGINE.into(), elapsed_ns(start));
    let wasm = std::fs::read(module_path).map_err(|e| format!("{module_path}: {e}"))?;

    let start = Instant::now();
    let module = Module::new(&engine, &wasm).map_err(|e| format!("translating {module_path}: {e}"))?;
    report.phases.insert(PHASE_COMPILE.into(), elapsed_ns(start));

    let start = Instant::now();
    let program = program_name(module_path);
    // Stdio, arguments, the workload's environment and its input files
    // (read-only); nothing of the executor's own environment, no network.
    let mut wasi = WasiCtxBuilder::new();
    wasi.arg(&program).and_then(|b| b.args(&guest.args)).map_err(|e| format!("guest arguments: {e}"))?;
    wasi.envs(&guest.env).map_err(|e| format!("guest environment: {e}"))?;
    let wasi = wasi.inherit_stdout().inherit_stderr().build();
    if let Some(dir) = &guest.inputs {
        let opened = wasmi_wasi::Dir::open_ambient_dir(dir, wasmi_wasi::ambient_authority())
            .map_err(|e| format!("opening the input files {dir}: {e}"))?;
        let opened = wasmi_wasi::wasi_common::sync::dir::Dir::from_cap_std(opened);
        wasi.push_preopened_dir(Box::new(read_only::ReadOnlyDir(Box::new(opened))), INPUTS_GUEST_DIR)
            .map_err(|e| format!("giving the guest {dir}: {e}"))?;
    }
    let mut limits = StoreLimitsBuilder::new();
    if let Some(bytes) = max_memory {
        limits = limits.memory_size(usize::try_from(bytes).unwrap_or(usize::MAX));
    }
    let mut store = Store::new(&engine, State { wasi, limits: limits.build() });
    store.limiter(|s| &mut s.limits);
    let mut linker: Linker<State> = Linker::new(&engine);
    wasmi_wasi::add_to_linker(&mut linker, |s| &mut s.wasi).map_err(|e| format!("linking WASI: {e}"))?;
    let instance =
        linker.instantiate_and_start(&mut store, &module).map_err(|e| format!("instantiating {module_path}: {e}"))?;
    let start_fn = instance
        .get_typed_func::<(), ()>(&store, "_start")
        .map_err(|e| format!("{module_path} has no `_start`: {e}"))?;
    report.phases.insert(PHASE_INSTANTIATE.into(), elapsed_ns(start));

    let start = Instant::now();
    let outcome = start_fn.call(&mut store, ());
    report.phases.insert(PHASE_EXECUTE.into(), elapsed_ns(start));

    let code = match outcome {
        Ok(()) => 0,
        Err(e) => match e.i32_exit_status() {
            Some(code) => code,
            None => {
                let message = format!("trap: {e}");
                eprintln!("{NAME}: {message}");
                report.error = Some(message);
                TRAP_EXIT_CODE
            }
        },
    };
    report.exit_code = Some(code);
    Ok(code)
}
