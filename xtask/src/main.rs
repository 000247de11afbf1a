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
mod export;
mod index;
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

/// Exit statuses, the same for every verb (the README, "Exit statuses"): 0 done,
/// 1 an error (said on stderr), 2 a command line clap refused; and the
/// answers of `compare --fail-on-regression`.
mod exit {
    pub const ERROR: u8 = 1;
    pub const REGRESSION: u8 = 3;
    pub const UNDETECTABLE: u8 = 4;
}

fn main() -> ExitCode {
    let flags = flags::Xtask::parse();
    let outcome = match flags.command {
        flags::Command::Build(args) => build::run(&args).map(|_| ExitCode::SUCCESS),
        flags::Command::Bench(args) => bench::run(&args).map(|_| ExitCode::SUCCESS),
        flags::Command::Calibrate(args) => calibrate::run(&args).map(|()| ExitCode::SUCCESS),
        flags::Command::Compare(args) => compare::run(&args).map(|gate| match gate {
            compare::Gate::Pass => ExitCode::SUCCESS,
            compare::Gate::Regression => ExitCode::from(exit::REGRESSION),
            compare::Gate::Undetectable => ExitCode::from(exit::UNDETECTABLE),
        }),
        flags::Command::Doctor(args) => doctor::run(&args).map(|()| ExitCode::SUCCESS),
        flags::Command::Reanalyse(args) => reanalyse::run(&args).map(|()| ExitCode::SUCCESS),
        flags::Command::Export(args) => export::run(&args).map(|()| ExitCode::SUCCESS),
        flags::Command::Study(args) => study::run(&args).map(|()| ExitCode::SUCCESS),
        flags::Command::Index(args) => index::run(&args).map(|()| ExitCode::SUCCESS),
        flags::Command::Test(args) => test::run(&args).map(|()| ExitCode::SUCCESS),
    };
    outcome.unwrap_or_else(|error| {
        report(&error);
        ExitCode::from(exit::ERROR)
    })
}

/// A failure the user can act on: `error: …` and what caused it, never a
/// backtrace (those stay for panics, which are bugs).
fn report(error: &anyhow::Error) {
    eprintln!("error: {error}");
    for cause in error.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
}
