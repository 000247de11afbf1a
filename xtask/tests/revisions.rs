//! `bench --base REV`: a same-session A/B bench of two revisions of the
//! project. Each side is built by its own build from its own sources, both
//! run round by round in one plan, the snapshot says which side each record
//! belongs to, and `compare --sides` pairs them by round.

mod common;

use std::process::{Command, Stdio};

use common::*;
use edgebench_model::plan::{Plan, split_side};
use serde_json::Value;

/// Runs git in the project and returns its trimmed output.
fn git(args: &[&str], envs: &[(&str, &str)], stdin: Option<&str>) -> String {
    let mut command = Command::new("git");
    command.arg("-C").arg(root()).args(args).envs(envs.iter().copied());
    command.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn().expect("git runs");
    if let Some(text) = stdin {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    }
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "git {}:\n{}", args.join(" "), text(&output));
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

/// A commit on top of HEAD (reachable from no branch) whose only change is
/// `path` edited by `edit`. Dates and author are fixed, so the same HEAD
/// gives the same commit, and its export is reused from one run to the next.
fn commit_with(path: &str, edit: impl Fn(&str) -> String, message: &str) -> String {
    let original = git(&["show", &format!("HEAD:{path}")], &[], None) + "\n";
    let edited = edit(&original);
    assert_ne!(edited, original, "the edit changes {path}");
    let blob = git(&["hash-object", "-w", "--stdin"], &[], Some(&edited));
    let index = tempfile::NamedTempFile::new().unwrap();
    let index_env = [("GIT_INDEX_FILE", index.path().to_str().unwrap())];
    git(&["read-tree", "HEAD"], &index_env, None);
    git(&["update-index", "--cacheinfo", &format!("100644,{blob},{path}")], &index_env, None);
    let tree = git(&["write-tree"], &index_env, None);
    let identity = [
        ("GIT_AUTHOR_NAME", "edgebench tests"),
        ("GIT_AUTHOR_EMAIL", "tests@edgebench.invalid"),
        ("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z"),
        ("GIT_COMMITTER_NAME", "edgebench tests"),
        ("GIT_COMMITTER_EMAIL", "tests@edgebench.invalid"),
        ("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z"),
    ];
    git(&["commit-tree", &tree, "-p", "HEAD", "-m", message], &identity, None)
}

#[test]
fn two_revisions_run_round_by_round_in_one_plan_and_compare_paired() {
    // The base revision does 10 % more work in gemm at SMALL (its inner
    // dimension 80 → 88): the head, this tree, is the faster side.
    let base = commit_with(
        "kernels/suite.yaml",
        |suite| {
            suite
                .replace("small: [60, 70, 80], medium: [200, 220, 240]", "small: [60, 70, 88], medium: [200, 220, 240]")
        },
        "gemm: NK 10 % larger at SMALL",
    );
    let dir = tempfile::tempdir().unwrap();
    let yaml = "kernels: [gemm, startup]\ndatasets: [small]\nruntimes:\n  - runtime: native\n  - runtime: wasmtime\n    \
                variants: [aot]\nrepetitions: 16\nwarmups: 1\ntimeout_s: 60\nbaseline: native\norder: shuffled\n\
                cpus: [1]\nseed: 5\n";
    let (run_dir, snapshot, records) =
        bench_with_snapshot(&pipeline(dir.path(), "revisions", yaml), &["--base", &base]);

    // One plan, both sides: each cell once per side, every run of both in
    // one shuffled order, the sides named with their commits.
    let plan: Plan = serde_json::from_str(&std::fs::read_to_string(run_dir.join("plan.json")).unwrap()).unwrap();
    let sides: Vec<(&str, &str)> = plan.sides.iter().map(|s| (s.name.as_str(), s.commit.as_str())).collect();
    let head = git(&["rev-parse", "HEAD"], &[], None);
    assert_eq!(sides, [("base", base.as_str()), ("head", head.as_str())]);
    assert_eq!(plan.sides[0].subject, "gemm: NK 10 % larger at SMALL");
    let variants: Vec<&str> = plan.cells.iter().map(|c| c.variant.as_str()).collect();
    for variant in ["default@base", "default@head", "aot@base", "aot@head"] {
        assert_eq!(variants.iter().filter(|v| **v == variant).count(), 2, "{variant}: {variants:?}");
    }
    assert_eq!(plan.runs.len(), 8 * (16 + 1));
    assert_eq!(plan.settings.baseline.as_deref(), Some("native/default@head"));
    let first_round: Vec<usize> = plan.runs.iter().filter(|r| !r.warmup && r.repetition == 0).map(|r| r.cell).collect();
    assert_eq!(first_round.len(), 8, "a round runs every cell of both sides");

    // Each side ran its own build: the base side's kernel comes from below
    // its revision's directory and differs from the head's.
    let short = &base[..12];
    let base_kernel = plan.cells.iter().find(|c| c.kernel == "gemm" && c.variant == "default@base").unwrap();
    let head_kernel = plan.cells.iter().find(|c| c.kernel == "gemm" && c.variant == "default@head").unwrap();
    assert!(base_kernel.invocation.argv[0].starts_with(&format!("revisions/base-{short}/local/")), "{base_kernel:?}");
    assert!(head_kernel.invocation.argv[0].starts_with("revisions/head-worktree/local/"), "{head_kernel:?}");
    let hash_of = |path: &str| plan.files.iter().find(|f| f.path == path).map(|f| f.sha256.clone()).unwrap();
    assert_ne!(hash_of(&base_kernel.invocation.argv[0]), hash_of(&head_kernel.invocation.argv[0]));
    check_engine_cells_run_their_own_side(&plan, short);

    // Every record says its side, and every run was verified: gemm's result
    // differs between the sides (the base multiplies larger matrices), the
    // start-up kernel's does not.
    assert_eq!(records.len(), plan.runs.len());
    assert!(records.iter().all(|r| r.outcome.is_ok()), "{records:#?}");
    let checksums = |kernel: &str, side: &str| -> std::collections::BTreeSet<String> {
        records
            .iter()
            .filter(|r| r.kernel == kernel && split_side(&r.variant).1 == Some(side))
            .map(|r| r.checksum.clone().unwrap_or_default())
            .collect()
    };
    assert_eq!(checksums("gemm", "base").len(), 1);
    assert_ne!(checksums("gemm", "base"), checksums("gemm", "head"));
    assert_eq!(checksums("startup", "base"), checksums("startup", "head"));

    // The provenance names both revisions and how the base side was built.
    let provenance: Value =
        serde_json::from_str(&std::fs::read_to_string(snapshot.join("provenance.json")).unwrap()).unwrap();
    assert_eq!(provenance["plan"]["sides"][0]["commit"], base.as_str());
    assert!(!provenance["base_build"]["compilers"].as_array().unwrap().is_empty(), "{provenance:#}");

    check_paired_comparison(&snapshot);

    // A revision that is not in the repository is refused before anything is built.
    let error = xtask_err(&["bench", "--pipeline", "quick", "--base", "no-such-revision", "--dry-run"]);
    assert!(error.contains("--base no-such-revision: not a commit of this repository"), "{error}");
}

/// An engine cell runs its own side's executor on its own side's
/// precompiled module: every file it names is below its revision's
/// directory, and in the plan's files.
fn check_engine_cells_run_their_own_side(plan: &Plan, short: &str) {
    let engine = |variant: &str| plan.cells.iter().find(|c| c.kernel == "gemm" && c.variant == variant).unwrap();
    let named: Vec<&String> =
        engine("aot@base").invocation.argv.iter().filter(|a| plan.files.iter().any(|f| &f.path == *a)).collect();
    assert!(named.len() >= 2, "the executor and the module: {:?}", engine("aot@base").invocation.argv);
    assert!(named.iter().all(|a| a.starts_with(&format!("revisions/base-{short}/local/"))), "{named:?}");
    let head_executor = &engine("aot@head").invocation.argv[0];
    assert!(head_executor.starts_with("revisions/head-worktree/local/"), "{head_executor}");
    // Built the same way at the same path, a program whose sources the
    // sides share is the same file on both (when this tree has no changes
    // of its own to them).
    let unchanged = std::process::Command::new("git")
        .args(["diff", "--quiet", "HEAD", "--", "crates/exec-wasmtime", "crates/model", "rust-toolchain.toml"])
        .current_dir(root())
        .status()
        .unwrap()
        .success();
    if unchanged {
        let sha = |path: &str| plan.files.iter().find(|f| f.path == path).map(|f| f.sha256.clone()).unwrap();
        assert_eq!(sha(named[0]), sha(head_executor), "{} and {head_executor}", named[0]);
    }
}

/// `compare --sides` pairs the two revisions' cells by round.
fn check_paired_comparison(snapshot: &std::path::Path) {
    // Paired by round: head (old) against base (new). The base does 10 %
    // more work, which a paired test of 16 rounds can never read as the
    // base being faster.
    let snapshot_arg = snapshot.to_str().unwrap();
    let output =
        xtask(&["compare", snapshot_arg, "--sides", "head,base", "--all", "--format", "json"]).output().unwrap();
    assert!(matches!(output.status.code(), Some(0)), "{}", text(&output));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["compared"]["sides"], serde_json::json!(["head", "base"]), "{report:#}");
    assert_eq!(report["pairing"], "by_round", "{report:#}");
    // It says what the change touched: gemm's builds, not the start-up kernel's.
    let built = report["compared"]["built"].as_str().unwrap_or_default();
    assert!(built.contains("different: ") && built.contains("kernels/native/gemm.small"), "{built}");
    assert!(!built.contains("kernels/native/startup"), "{built}");
    let gemm = report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["key"]["kernel"] == "gemm" && c["metric"] == "kernel_ms")
        .unwrap_or_else(|| panic!("no gemm kernel_ms change:\n{report:#}"));
    assert_eq!(gemm["pairs"], 16, "{gemm:#}");
    assert_ne!(gemm["verdict"], "improved", "{gemm:#}");

    // A side the snapshot does not have is named with the ones it has.
    let error = xtask_err(&["compare", snapshot_arg, "--sides", "base,main"]);
    assert!(error.contains("unknown revision side `main`") && error.contains("head"), "{error}");
}
