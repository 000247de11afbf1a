//! `cargo xtask test`: the project's test command. Checks (and, as root on
//! Debian, installs) the system tools the tests need, checks formatting and
//! lints, then runs the whole test suite. The tests drive the real pipeline:
//! they build kernels and device programs and run them.

use anyhow::{Context, Result, bail};
use xshell::{Shell, cmd};

use crate::flags::TestArgs;
use crate::project;

/// A tool the tests need, and the Debian package that provides it.
struct Tool {
    command: &'static str,
    package: &'static str,
    why: &'static str,
}

const TOOLS: &[Tool] = &[
    Tool { command: "python3", package: "python3", why: "fetching the pinned zig toolchain from PyPI" },
    Tool {
        command: "qemu-aarch64-static",
        package: "qemu-user-static",
        why: "running aarch64 kernels under emulation",
    },
];

pub fn run(args: &TestArgs) -> Result<()> {
    let sh = Shell::new()?;
    sh.change_dir(project::root());
    ensure_tools(&sh)?;
    if !args.no_lint {
        let cargo = cargo();
        cmd!(sh, "{cargo} fmt --all --check").run().context("formatting differs; run `cargo fmt --all`")?;
        for manifest in ["crates/exec-wasmtime/Cargo.toml", "crates/exec-wasmer/Cargo.toml"] {
            cmd!(sh, "{cargo} fmt --manifest-path {manifest} --check")
                .run()
                .with_context(|| format!("formatting differs; run `cargo fmt --manifest-path {manifest}`"))?;
        }
        cmd!(sh, "{cargo} clippy --workspace --all-targets --locked -- -D warnings")
            .run()
            .context("clippy found problems")?;
    }
    let cargo = cargo();
    let filter = &args.filter;
    cmd!(sh, "{cargo} test --workspace --locked {filter...}").run().context("tests failed")?;
    Ok(())
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

fn has(sh: &Shell, command: &str) -> bool {
    cmd!(sh, "sh -c 'command -v \"$0\"' {command}").quiet().ignore_stdout().ignore_stderr().run().is_ok()
}

/// Installs missing tools with apt-get when running as root on Debian;
/// otherwise says exactly what to install.
fn ensure_tools(sh: &Shell) -> Result<()> {
    let missing: Vec<&Tool> = TOOLS.iter().filter(|t| !has(sh, t.command)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let packages: Vec<&str> = missing.iter().map(|t| t.package).collect();
    let root = cmd!(sh, "id -u").quiet().read().map(|u| u.trim() == "0").unwrap_or(false);
    if root && has(sh, "apt-get") {
        eprintln!("installing Debian packages the tests need: {}", packages.join(" "));
        cmd!(sh, "apt-get update -qq").run()?;
        cmd!(sh, "apt-get install -y -qq --no-install-recommends {packages...}")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .run()?;
        let still: Vec<&str> = missing.iter().filter(|t| !has(sh, t.command)).map(|t| t.command).collect();
        if still.is_empty() {
            return Ok(());
        }
        bail!("still missing after installing: {}", still.join(", "));
    }
    let lines: Vec<String> =
        missing.iter().map(|t| format!("  {} (Debian package {}): {}", t.command, t.package, t.why)).collect();
    bail!(
        "the tests need tools this machine lacks:\n{}\ninstall them with: sudo apt-get install {}",
        lines.join("\n"),
        packages.join(" ")
    )
}
