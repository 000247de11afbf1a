//! The wasm3 executor: run one WASI preview-1 module under the wasm3
//! interpreter and report its phases to the harness (see
//! `edgebench_model::executor`).
//!
//! wasm3 is a small C interpreter built for microcontrollers and
//! constrained devices: it rewrites Wasm into a chain of operation handlers
//! that tail-call each other, and never makes machine code. Variants pick
//! when functions are translated: `eager` translates every function before
//! `_start` runs; `lazy` (wasm3's default) translates each function on its
//! first call.

mod ffi;
mod wasi;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use edgebench_model::executor::{
    ExecutorCommand, ExecutorReport, Guest, PHASE_COMPILE, PHASE_ENGINE, PHASE_EXECUTE, PHASE_INSTANTIATE,
    TRAP_EXIT_CODE, duration_ns, elapsed_ns, probe_answer, program_name, run_reported,
};

const NAME: &str = "edgebench-wasm3";
const ENGINE: &str = "wasm3";
const VARIANTS: &[&str] = &["eager", "lazy"];

/// wasm3's value stack, for the interpreter's frames (the guest's own C
/// stack is in its linear memory). Allocated zeroed, so pages the guest
/// never reaches are never touched.
const STACK_BYTES: u32 = 1 << 20;
const WASM_PAGE_BYTES: u64 = 65536;

pub fn main() -> ExitCode {
    let command = match ExecutorCommand::from_process_args(NAME) {
        Ok(c) => c,
        Err(code) => return code,
    };
    match command {
        ExecutorCommand::Run { variant, max_memory, module, guest, .. } => run(&variant, max_memory, &module, &guest),
        ExecutorCommand::Precompile { .. } => {
            eprintln!("{NAME}: wasm3 interprets modules; it has nothing to precompile");
            ExitCode::from(2)
        }
        ExecutorCommand::Probe { variant, simd, .. } => probe_answer(
            NAME,
            eager(&variant).and_then(|_| if simd { Err("wasm3 does not implement Wasm SIMD".into()) } else { Ok(()) }),
        ),
    }
}

/// Whether a variant translates every function up front.
fn eager(variant: &str) -> Result<bool, String> {
    match variant {
        "eager" => Ok(true),
        "lazy" => Ok(false),
        other => Err(format!("{NAME} runs variants {}, not `{other}`", VARIANTS.join(", "))),
    }
}

fn run(variant: &str, max_memory: Option<u64>, module_path: &str, guest: &Guest) -> ExitCode {
    run_reported(NAME, ENGINE, variant, |report| {
        if let Some(dir) = &guest.inputs {
            // The host plans such runs as unavailable; a hand-written
            // command line gets the same answer.
            return Err(format!("{NAME} cannot give a guest files ({dir}): its WASI has no file system"));
        }
        eager(variant).and_then(|eager| execute(eager, max_memory, module_path, guest, report))
    })
}

/// Times one step into a phase's total.
fn timed<T>(total: &mut Duration, step: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = step();
    *total += start.elapsed();
    out
}

/// Fails with wasm3's message (and its detail) when `result` is an error.
fn check(runtime: ffi::Runtime, result: ffi::M3Result, doing: &str) -> Result<(), String> {
    match ffi::message(runtime, result) {
        None => Ok(()),
        Some(message) => Err(format!("{doing}: {message}")),
    }
}

/// Returns the process exit status; errors are failures to load or link.
///
/// wasm3 links imports into a loaded module and translates functions only
/// after that, so the phases are sums of steps: `compile` is parsing plus
/// (for `eager`) translating every function; `instantiate` is loading
/// (memory, globals, data), linking WASI and finding `_start` (which
/// translates `_start` itself under `lazy`).
fn execute(
    eager: bool,
    max_memory: Option<u64>,
    module_path: &str,
    guest: &Guest,
    report: &mut ExecutorReport,
) -> Result<i32, String> {
    let start = Instant::now();
    // SAFETY: plain constructors; null means out of memory.
    let environment = unsafe { ffi::m3_NewEnvironment() };
    let runtime = if environment.is_null() {
        std::ptr::null_mut()
    } else {
        unsafe { ffi::m3_NewRuntime(environment, STACK_BYTES, std::ptr::null_mut()) }
    };
    if runtime.is_null() {
        return Err("wasm3 could not allocate its runtime".into());
    }
    report.phases.insert(PHASE_ENGINE.into(), elapsed_ns(start));
    // wasm3 keeps pointers into the bytes for the module's lifetime, which
    // is the process's: neither is freed before exit.
    let wasm: &'static [u8] = std::fs::read(module_path).map_err(|e| format!("{module_path}: {e}"))?.leak();
    let len = u32::try_from(wasm.len()).map_err(|_| format!("{module_path} is larger than 4 GiB"))?;

    let (mut compile, mut instantiate) = (Duration::ZERO, Duration::ZERO);
    let mut module: ffi::Module = std::ptr::null_mut();
    // SAFETY: `wasm` lives for the rest of the process.
    let parsed = timed(&mut compile, || unsafe { ffi::m3_ParseModule(environment, &mut module, wasm.as_ptr(), len) });
    check(runtime, parsed, &format!("parsing {module_path}"))?;

    let mut guest_args = vec![program_name(module_path).into_bytes()];
    guest_args.extend(guest.args.iter().map(|a| a.clone().into_bytes()));
    let guest_env = guest.env.iter().map(|(k, v)| format!("{k}={v}").into_bytes()).collect();
    timed(&mut instantiate, || -> Result<(), String> {
        // SAFETY: a parsed module, loaded into its runtime once.
        check(runtime, unsafe { ffi::m3_LoadModule(runtime, module) }, &format!("loading {module_path}"))?;
        if let Some(bytes) = max_memory {
            let pages = u32::try_from(bytes / WASM_PAGE_BYTES).unwrap_or(u32::MAX);
            // SAFETY: a live runtime with the module's memory set up.
            unsafe { ffi::edgebench_wasm3_cap_memory(runtime, pages) };
        }
        wasi::link(module, guest_args, guest_env)
    })?;
    if eager {
        // SAFETY: a loaded module whose imports are linked.
        let compiled = timed(&mut compile, || unsafe { ffi::m3_CompileModule(module) });
        check(runtime, compiled, &format!("translating {module_path}"))?;
    }
    let mut start_fn: ffi::Function = std::ptr::null_mut();
    let found = timed(&mut instantiate, || unsafe { ffi::m3_FindFunction(&mut start_fn, runtime, c"_start".as_ptr()) });
    check(runtime, found, &format!("{module_path}: finding `_start`"))?;
    report.phases.insert(PHASE_COMPILE.into(), duration_ns(compile));
    report.phases.insert(PHASE_INSTANTIATE.into(), duration_ns(instantiate));

    let start = Instant::now();
    // SAFETY: `_start` takes and returns nothing.
    let outcome = unsafe { ffi::m3_CallV(start_fn) };
    report.phases.insert(PHASE_EXECUTE.into(), elapsed_ns(start));

    let code = match ffi::message(runtime, outcome) {
        None => 0,
        Some(_) if wasi::is_exit(outcome) => wasi::exit_code().unwrap_or(0),
        Some(message) if message.starts_with("[trap]") => {
            let message = format!("trap: {}", message.trim_start_matches("[trap] "));
            eprintln!("{NAME}: {message}");
            report.error = Some(message);
            TRAP_EXIT_CODE
        }
        // Under `lazy`, a function that fails to translate fails the call.
        Some(message) => return Err(format!("running {module_path}: {message}")),
    };
    report.exit_code = Some(code);
    Ok(code)
}
