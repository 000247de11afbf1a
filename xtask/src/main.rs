//! `cargo xtask <verb>`: the host side of edgebench. One file per verb at
//! this level; the rest lives in four wings (see ARCHITECTURE.md):
//! `planning` (pipeline → plan), `toolchain` (sources → artifacts),
//! `device` (where a plan runs) and `snapshot` (records → results).
//! Every external process goes through `xshell`.

mod bench;
mod build;
mod calibrate;
mod compare;
mod doctor;
mod reanalyse;
mod study;
mod test;

mod device;
mod flags;
mod planning;
mod project;
mod snapshot;
mod toolchain;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let flags = flags::Xtask::parse();
    let outcome = match flags.command {
        flags::Command::Build(args) => build::run(&args).map(drop),
        flags::Command::Bench(args) => bench::run(&args).map(drop),
        flags::Command::Calibrate(args) => calibrate::run(&args),
        flags::Command::Compare(args) => compare::run(&args),
        flags::Command::Doctor(args) => doctor::run(&args),
        flags::Command::Reanalyse(args) => reanalyse::run(&args),
        flags::Command::Study(args) => study::run(&args),
        flags::Command::Test(args) => test::run(&args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            report(&error);
            ExitCode::FAILURE
        }
    }
}

/// A failure the user can act on: `error: …` and what caused it, never a
/// backtrace (those stay for panics, which are bugs).
fn report(error: &anyhow::Error) {
    eprintln!("error: {error}");
    for cause in error.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
}
