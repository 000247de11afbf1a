//! `edgebench-wasmi`: the Wasmi interpreter (variants `eager`, `lazy`).

fn main() -> std::process::ExitCode {
    edgebench_exec_wasmi::main()
}
