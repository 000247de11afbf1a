//! `cargo xtask <verb>`: the host side of edgebench. One module per verb;
//! every external process goes through `xshell`.

mod actionlint;
mod bench;
mod binfmt;
mod build;
mod calibrate;
mod compare;
mod cross;
mod doctor;
mod flags;
mod images;
mod kernels;
mod pipeline;
mod plan;
mod plot;
mod polybench;
mod preflight;
mod programs;
mod progress;
mod project;
mod provenance;
mod reanalyse;
mod report;
mod runtime;
mod session;
mod snapshot;
mod ssh;
mod stamp;
mod suggest;
mod suite;
mod summary;
mod target;
mod test;
mod tools;
mod wheel;
mod yaml;
mod zig;

use clap::Parser;

fn main() -> anyhow::Result<()> {
    let flags = flags::Xtask::parse();
    match flags.command {
        flags::Command::Build(args) => build::run(&args).map(drop),
        flags::Command::Bench(args) => bench::run(&args).map(drop),
        flags::Command::Calibrate(args) => calibrate::run(&args),
        flags::Command::Compare(args) => compare::run(&args),
        flags::Command::Doctor(args) => doctor::run(&args),
        flags::Command::Reanalyse(args) => reanalyse::run(&args),
        flags::Command::Test(args) => test::run(&args),
    }
}
