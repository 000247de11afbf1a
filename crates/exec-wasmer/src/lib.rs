//! The Wasmer executors: run one WASI module under Wasmer and report its
//! phases to the harness (see `edgebench_model::executor`).
//!
//! Variants pick the compiler: `cranelift` (Wasmer's default) and
//! `singlepass` (fast compile, slower code) in `edgebench-wasmer`; `llvm` in
//! `edgebench-wasmer-llvm`. Each run compiles the module at start, without
//! a cache.

mod limits;
mod read_only;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use edgebench_model::executor::{
    ExecutorCommand, ExecutorReport, Guest, INPUTS_GUEST_DIR, PHASE_COMPILE, PHASE_ENGINE, PHASE_EXECUTE,
    PHASE_INSTANTIATE, SIMD_PROBE_MODULE, TRAP_EXIT_CODE, elapsed_ns, probe_answer, program_name, run_reported,
};
use wasmer::sys::NativeEngineExt;
use wasmer::{Engine, Module, Store};
use wasmer_wasix::{WasiEnv, WasiError, virtual_fs};

use crate::limits::LimitingTunables;

const ENGINE: &str = "wasmer";

/// One of the two executor binaries: its name and the variants it runs.
pub struct Executor {
    name: &'static str,
    variants: &'static [&'static str],
}

impl Executor {
    /// `edgebench-wasmer`: Cranelift and Singlepass.
    #[cfg(all(feature = "cranelift", feature = "singlepass"))]
    pub const DEFAULT: Executor = Executor { name: "edgebench-wasmer", variants: &["cranelift", "singlepass"] };
    /// `edgebench-wasmer-llvm`: LLVM alone.
    #[cfg(feature = "llvm")]
    pub const LLVM: Executor = Executor { name: "edgebench-wasmer-llvm", variants: &["llvm"] };

    pub fn main(&self) -> ExitCode {
        let command = match ExecutorCommand::from_process_args(self.name) {
            Ok(c) => c,
            Err(code) => return code,
        };
        match command {
            ExecutorCommand::Run { variant, max_memory, module, guest, .. } => {
                self.run(&variant, max_memory, &module, &guest)
            }
            ExecutorCommand::Precompile { .. } => {
                eprintln!("{}: precompiled modules are not supported by this executor", self.name);
                ExitCode::from(2)
            }
            ExecutorCommand::Probe { variant, simd, .. } => {
                probe_answer(self.name, self.engine(&variant).and_then(|e| probe(e, simd)))
            }
        }
    }

    fn engine(&self, variant: &str) -> Result<Engine, String> {
        if !self.variants.contains(&variant) {
            return Err(format!("{} runs variants {}, not `{variant}`", self.name, self.variants.join(", ")));
        }
        compiler(variant)
    }

    fn run(&self, variant: &str, max_memory: Option<u64>, module_path: &str, guest: &Guest) -> ExitCode {
        run_reported(self.name, ENGINE, variant, |report| {
            self.engine(variant).and_then(|engine| execute(engine, max_memory, module_path, guest, report))
        })
    }
}

/// With `simd`, whether the engine compiles a module using SIMD (Singlepass
/// does not).
fn probe(engine: Engine, simd: bool) -> Result<(), String> {
    if simd {
        let store = Store::new(engine);
        Module::new(&store, SIMD_PROBE_MODULE).map_err(|e| format!("compiling a SIMD module: {e}"))?;
    }
    Ok(())
}

/// The engine of a compiler this build has.
fn compiler(variant: &str) -> Result<Engine, String> {
    match variant {
        #[cfg(feature = "cranelift")]
        "cranelift" => Ok(wasmer::sys::Cranelift::default().into()),
        #[cfg(feature = "singlepass")]
        "singlepass" => Ok(wasmer::sys::Singlepass::default().into()),
        #[cfg(feature = "llvm")]
        "llvm" => Ok(wasmer::sys::LLVM::default().into()),
        other => Err(format!("this build has no compiler `{other}`")),
    }
}

/// Returns the process exit status; errors are failures to load or link.
fn execute(
    mut engine: Engine,
    max_memory: Option<u64>,
    module_path: &str,
    guest: &Guest,
    report: &mut ExecutorReport,
) -> Result<i32, String> {
    let start = Instant::now();
    // wasmer-wasix drives its syscalls through a Tokio runtime.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("starting the Tokio runtime: {e}"))?;
    let _guard = runtime.enter();

    if let Some(bytes) = max_memory {
        engine.set_tunables(LimitingTunables::new(bytes));
    }
    let mut store = Store::new(engine);
    report.phases.insert(PHASE_ENGINE.into(), elapsed_ns(start));
    let wasm = std::fs::read(module_path).map_err(|e| format!("{module_path}: {e}"))?;

    let start = Instant::now();
    let module = Module::new(&store, wasm).map_err(|e| format!("compiling {module_path}: {e}"))?;
    report.phases.insert(PHASE_COMPILE.into(), elapsed_ns(start));

    let start = Instant::now();
    let program = program_name(module_path);
    // Stdio, arguments, the workload's environment and its input files
    // (read-only); nothing of the executor's own environment, no network.
    let mut builder = WasiEnv::builder(program).args(&guest.args).envs(guest.env.iter().cloned());
    if let Some(dir) = &guest.inputs {
        // The guest's file system is the inputs directory, and nothing
        // else of the host's; it sees it at INPUTS_GUEST_DIR.
        let host = virtual_fs::host_fs::FileSystem::new(runtime.handle().clone(), dir)
            .map_err(|e| format!("opening the input files {dir}: {e}"))?;
        builder = builder
            .fs(Arc::new(read_only::ReadOnlyFs(host)) as Arc<dyn virtual_fs::FileSystem + Send + Sync>)
            .preopen_build(|p| p.directory("/").alias(INPUTS_GUEST_DIR).read(true).write(false).create(false))
            .map_err(|e| format!("giving the guest {dir}: {e}"))?;
    }
    let (instance, wasi_env) = builder
        .engine(store.engine().clone())
        .instantiate(module, &mut store)
        .map_err(|e| format!("instantiating {module_path}: {e}"))?;
    let start_fn =
        instance.exports.get_function("_start").map_err(|e| format!("{module_path} has no `_start`: {e}"))?.clone();
    report.phases.insert(PHASE_INSTANTIATE.into(), elapsed_ns(start));

    let start = Instant::now();
    let outcome = start_fn.call(&mut store, &[]);
    report.phases.insert(PHASE_EXECUTE.into(), elapsed_ns(start));

    let code = match outcome {
        Ok(_) => 0,
        Err(e) => match e.downcast_ref::<WasiError>() {
            Some(WasiError::Exit(code)) => code.raw(),
            _ => {
                let message = format!("trap: {}", e.message());
                eprintln!("edgebench-wasmer: {message}");
                report.error = Some(message);
                TRAP_EXIT_CODE
            }
        },
    };
    wasi_env.on_exit(&mut store, None);
    report.exit_code = Some(code);
    Ok(code)
}
