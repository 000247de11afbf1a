//! The GitHub workflows keep their promises: CI on x86-64 and ARM through
//! .ci/run, the ARM bench with the CI pipeline, and self-hosted devices
//! reachable only by hand, from main, never from a fork. actionlint (run by
//! `cargo xtask test` and the xtask unit tests) checks syntax, expressions,
//! inputs and scripts; this checks what it cannot know.

use std::path::Path;

use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

fn yaml(rel: &str) -> Value {
    let path = root().join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
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
    assert!(all.len() >= 3, "ci.yml, bench.yml and device-bench.yml exist");
    all
}

fn jobs(workflow: &Value) -> &serde_json::Map<String, Value> {
    workflow["jobs"].as_object().expect("a workflow has jobs")
}

fn steps(job: &Value) -> Vec<&Value> {
    job["steps"].as_array().map(|s| s.iter().collect()).unwrap_or_default()
}

fn runs(job: &Value) -> String {
    steps(job).iter().filter_map(|s| s["run"].as_str()).collect::<Vec<_>>().join("\n")
}

fn uses(job: &Value, action: &str) -> bool {
    steps(job).iter().any(|s| s["uses"].as_str().is_some_and(|u| u.starts_with(action)))
}

fn runs_on(job: &Value) -> String {
    job["runs-on"].to_string()
}

#[test]
fn ci_runs_format_lints_and_tests_on_x86_64_and_arm_with_caching() {
    let ci = yaml(".github/workflows/ci.yml");
    let test = &jobs(&ci)["test"];
    let runners: Vec<&str> =
        test["strategy"]["matrix"]["runner"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
    assert_eq!(runners, ["ubuntu-24.04", "ubuntu-24.04-arm"]);
    assert_eq!(test["runs-on"], "${{ matrix.runner }}");
    assert!(runs(test).contains("bash .ci/run"), "CI goes through .ci/run (format, clippy, actionlint, tests)");
    let cache = steps(test).into_iter().find(|s| s["uses"].as_str().is_some_and(|u| u.starts_with("actions/cache@")));
    let paths = cache.expect("the build is cached")["with"]["path"].as_str().unwrap();
    for path in ["~/.cargo/registry", "target/"] {
        assert!(paths.contains(path), "{path} is cached");
    }
}

#[test]
fn self_hosted_devices_run_only_by_hand_from_main_and_never_from_forks() {
    for (name, workflow) in workflows() {
        let on = &workflow["on"];
        assert!(on.get("pull_request_target").is_none(), "{name}: pull_request_target runs fork code with secrets");
        for (id, job) in jobs(&workflow) {
            if runs_on(job).contains("self-hosted") {
                assert_eq!(name, "device-bench.yml", "{name}/{id}: only device-bench.yml runs on self-hosted runners");
            }
            // A job that reaches the devices is dispatched by hand, on main,
            // in this repository.
            if job["uses"].as_str().is_some_and(|u| u.ends_with("device-bench.yml")) {
                let guard = job["if"].as_str().unwrap_or_else(|| panic!("{name}/{id} has no guard"));
                for part in [
                    "github.event_name == 'workflow_dispatch'",
                    "github.ref == 'refs/heads/main'",
                    "!github.event.repository.fork",
                ] {
                    assert!(guard.contains(part), "{name}/{id}: the guard lacks {part}: {guard}");
                }
            }
        }
    }

    let device = yaml(".github/workflows/device-bench.yml");
    let triggers: Vec<&String> = device["on"].as_object().unwrap().keys().collect();
    assert_eq!(triggers, ["workflow_call"], "the device workflow is only ever called by bench.yml");
    let bench = &jobs(&device)["bench"];
    let guard = bench["if"].as_str().unwrap();
    assert!(guard.contains("refs/heads/main") && guard.contains("!github.event.repository.fork"), "{guard}");
    assert!(bench["concurrency"]["group"].as_str().unwrap().contains("inputs.device"), "one bench per device at once");
    assert!(uses(bench, "peter-evans/create-pull-request@"), "the snapshot is proposed as a pull request");
    assert!(uses(bench, "actions/upload-artifact@"));

    let bench = yaml(".github/workflows/bench.yml");
    let fleet = &jobs(&bench)["fleet"];
    assert_eq!(fleet["strategy"]["matrix"]["device"], "${{ fromJSON(inputs.fleet) }}");
}

#[test]
fn the_arm_bench_runs_the_ci_pipeline_uploads_and_compares_its_snapshot() {
    let bench = yaml(".github/workflows/bench.yml");
    assert_eq!(bench["env"]["PIPELINE"], "${{ inputs.pipeline || 'ci' }}");
    let arm = &jobs(&bench)["arm"];
    assert_eq!(arm["runs-on"], "ubuntu-24.04-arm");
    let script = runs(arm);
    assert!(script.contains("cargo xtask bench --pipeline \"$PIPELINE\""), "{script}");
    assert!(script.contains(".github/bench-compare.sh"), "{script}");
    assert!(uses(arm, "actions/upload-artifact@") && uses(arm, "actions/cache@"));
    assert!(root().join(".github/bench-compare.sh").exists());

    let pipeline = yaml("pipelines/ci.yaml");
    assert_eq!(pipeline["datasets"], serde_json::json!(["small"]));
    assert_eq!(pipeline["repetitions"], 5);
    let runtimes: Vec<String> = pipeline["runtimes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!("{}{}", r["runtime"].as_str().unwrap(), r.get("variants").map(Value::to_string).unwrap_or_default())
        })
        .collect();
    assert_eq!(runtimes, ["native", "wasmtime[\"jit\",\"aot\"]", "wasmer[\"cranelift\"]"]);
}
