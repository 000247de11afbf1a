//! `edgebench-wasmer`: Wasmer with Cranelift and Singlepass.

fn main() -> std::process::ExitCode {
    edgebench_exec_wasmer::Executor::DEFAULT.main()
}
