//! `edgebench-wasmer-llvm`: Wasmer with its LLVM backend alone.

fn main() -> std::process::ExitCode {
    edgebench_exec_wasmer::Executor::LLVM.main()
}
