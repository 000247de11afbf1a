//! `edgebench-wasmi-simd`: the Wasmi interpreter with SIMD (variants
//! `eager`, `lazy` on modules built with `-msimd128`).

fn main() -> std::process::ExitCode {
    edgebench_exec_wasmi::main()
}
