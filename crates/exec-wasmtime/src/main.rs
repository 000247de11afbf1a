//! `edgebench-wasmtime`: Wasmtime with Cranelift (variant `jit`; precompiles
//! modules for `aot`).

fn main() -> std::process::ExitCode {
    edgebench_exec_wasmtime::Executor::COMPILER.main()
}
