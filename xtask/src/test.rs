//! `cargo xtask test`: the project's test command. Checks (and, as root on
//! Debian, installs) the system tools the tests need, checks formatting and
//! lints, then runs the whole test suite. The tests drive the real pipeline:
//! they build kernels and device programs and run them.

use anyhow::{Context, Result};
use xshell::{Shell, cmd};

use crate::flags::TestArgs;
use crate::project;
use crate::toolchain::apt::{self, Tool};
use crate::toolchain::{actionlint, deny};

/// The system tools the tests use.
const TOOLS: &[Tool] = &[
    Tool { command: "python3", package: "python3", why: "fetching the pinned zig toolchain from PyPI" },
    Tool {
        command: "qemu-aarch64-static",
        package: "qemu-user-static",
        why: "running aarch64 kernels under emulation",
    },
    Tool {
        command: "debootstrap",
        package: "debootstrap",
        why: "the Debian sid root that cross-builds device programs",
    },
    Tool { command: "/usr/sbin/sshd", package: "openssh-server", why: "the SSH server the remote-target tests start" },
    Tool { command: "sftp", package: "openssh-client", why: "deploying to SSH targets" },
    Tool { command: "hyperfine", package: "hyperfine", why: "the harness checked against hyperfine (calibrate)" },
    Tool { command: BROWSERS[0], package: "chromium", why: "the HTML reports checked in a real browser" },
    Tool { command: "mmdebstrap", package: "mmdebstrap", why: "the Debian image, made with or without root" },
    Tool { command: "newuidmap", package: "uidmap", why: "mmdebstrap without root (the first-run test)" },
    Tool { command: "setfacl", package: "acl", why: "letting the first-run test's user reach this Rust toolchain" },
    Tool { command: "runuser", package: "util-linux", why: "running the first-run test as an ordinary user" },
];

/// Browsers the report test can drive: Debian's Chromium, or what another
/// distribution calls it (GitHub's Ubuntu runners come with Google Chrome,
/// and Ubuntu has no `chromium` package).
const BROWSERS: [&str; 3] = ["chromium", "chromium-browser", "google-chrome"];

pub fn run(args: &TestArgs) -> Result<()> {
    let sh = Shell::new()?;
    sh.change_dir(project::root());
    let has_browser = BROWSERS.iter().any(|b| apt::has(&sh, b));
    let tools: Vec<Tool> = TOOLS.iter().copied().filter(|t| t.command != BROWSERS[0] || !has_browser).collect();
    apt::ensure(&sh, &tools)?;
    if !args.no_lint {
        let cargo = apt::cargo();
        cmd!(sh, "{cargo} fmt --all --check").run().context("formatting differs; run `cargo fmt --all`")?;
        for manifest in ["exec-wasmtime", "exec-wasmer", "exec-wasmi", "exec-wasm3", "exec-docker"]
            .map(|c| format!("crates/{c}/Cargo.toml"))
        {
            cmd!(sh, "{cargo} fmt --manifest-path {manifest} --check")
                .run()
                .with_context(|| format!("formatting differs; run `cargo fmt --manifest-path {manifest}`"))?;
        }
        cmd!(sh, "{cargo} clippy --workspace --all-targets --locked -- -D warnings")
            .run()
            .context("clippy found problems")?;
        actionlint::check(&sh)?;
        deny::check(&sh)?;
    }
    let cargo = apt::cargo();
    let filter = test_arguments(&args.filter, args.extended);
    cmd!(sh, "{cargo} test --workspace --locked {filter...}").run().context("tests failed")?;
    Ok(())
}

/// `cargo test`'s arguments: the user's, and with `--extended` the ignored
/// (extended) tests too, which is an argument of the test binaries.
fn test_arguments(filter: &[String], extended: bool) -> Vec<String> {
    let mut out = filter.to_vec();
    if extended {
        if !out.iter().any(|a| a == "--") {
            out.push("--".into());
        }
        out.push("--include-ignored".into());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::test_arguments;

    #[test]
    fn extended_adds_the_ignored_tests_after_the_separator() {
        let s = |v: &[&str]| v.iter().map(|a| a.to_string()).collect::<Vec<_>>();
        assert_eq!(test_arguments(&s(&["emulated"]), false), s(&["emulated"]));
        assert_eq!(test_arguments(&[], true), s(&["--", "--include-ignored"]));
        assert_eq!(
            test_arguments(&s(&["emulated", "--", "--nocapture"]), true),
            s(&["emulated", "--", "--nocapture", "--include-ignored"])
        );
    }
}
