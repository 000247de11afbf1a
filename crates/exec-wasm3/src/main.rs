//! `edgebench-wasm3`: the wasm3 interpreter (variants `eager`, `lazy`).

fn main() -> std::process::ExitCode {
    edgebench_exec_wasm3::main()
}
