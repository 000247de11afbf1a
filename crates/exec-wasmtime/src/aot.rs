//! `edgebench-wasmtime-aot`: Wasmtime's runtime without a compiler; runs
//! modules precompiled by `edgebench-wasmtime` (variant `aot`).

fn main() -> std::process::ExitCode {
    edgebench_exec_wasmtime::Executor::RUNTIME.main()
}
