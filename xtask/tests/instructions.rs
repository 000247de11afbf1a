//! Instruction counts, the low-noise metric: hardware counters where the
//! device has them (recorded as unavailable, with the reason, where it has
//! none), and valgrind's callgrind as an opt-in measurement mode whose
//! near-deterministic counts let the gate see a change that wall time on a
//! noisy machine cannot.

mod common;

use common::*;
use edgebench_model::record::{InstructionSource, RunRecord};
use serde_json::Value;

fn counts(records: &[RunRecord], kernel: &str, runtime: &str) -> Vec<u64> {
    records
        .iter()
        .filter(|r| !r.warmup && r.kernel == kernel && r.runtime == runtime)
        .map(|r| r.instructions.unwrap_or_else(|| panic!("{} has no instruction count: {r:#?}", r.label())))
        .collect()
}

#[test]
fn callgrind_counts_every_run_and_the_gate_reads_the_counts() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = "kernels: [gemm, gemm-plus10]\ndatasets: [mini]\nruntimes:\n  - runtime: native\n  - runtime: wasmtime\n    \
                variants: [jit]\n  - runtime: docker\n    variants: [scratch]\nrepetitions: 10\nwarmups: 0\ntimeout_s: 120\n\
                instructions: callgrind\nbaseline: native\nseed: 4\n";
    let (_, snapshot, records) = bench_with_snapshot(&pipeline(dir.path(), "callgrind", yaml), &[]);

    // Every run that ran was counted by callgrind; a container cannot be.
    for r in &records {
        if r.runtime == "docker" {
            let why = format!("{:?}", r.outcome);
            assert!(why.contains("only its client would be counted"), "{why}");
        } else {
            assert!(r.outcome.is_ok(), "{r:#?}");
            assert_eq!(r.instructions_source, Some(InstructionSource::Callgrind), "{r:#?}");
        }
    }
    // A simulated CPU counts the same program alike every time; 10 % more
    // multiply-adds are more instructions, natively and in Wasm.
    let native = counts(&records, "gemm", "native");
    let spread = |c: &[u64]| *c.iter().max().unwrap() as f64 / *c.iter().min().unwrap() as f64 - 1.0;
    assert!(spread(&native) < 0.001, "{native:?}");
    assert!(spread(&counts(&records, "gemm", "wasmtime")) < 0.01);
    assert!(counts(&records, "gemm-plus10", "native")[0] > native[0] + native[0] / 20);
    assert!(counts(&records, "gemm", "wasmtime")[0] > native[0], "an engine runs more than the kernel alone");

    // Without timings, the count is each cell's primary metric, and a
    // same-session comparison of the planted kernel finds it natively,
    // every time: ten rounds alike give the signed-rank test's smallest p.
    let summary = std::fs::read_to_string(snapshot.join("summary.json")).unwrap();
    assert!(!summary.contains("\"wall_ms\""), "no timing of a simulated CPU is summarised");
    let output = xtask(&[
        "compare",
        snapshot.to_str().unwrap(),
        "--sides",
        "gemm,gemm-plus10",
        "--format",
        "json",
        "--fail-on-regression",
    ])
    .output()
    .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|_| panic!("{}", text(&output)));
    assert_eq!(output.status.code(), Some(3), "{report:#}");
    let regressed: Vec<(&str, &str)> = report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["verdict"] == "regressed")
        .map(|c| (c["key"]["runtime"].as_str().unwrap(), c["metric"].as_str().unwrap()))
        .collect();
    // Natively the planted work is 7 % more instructions at MINI; under
    // Wasmtime the whole process is counted, and compiling the module
    // outweighs the kernel a thousandfold: a 0.1 % difference, not a 5 % one.
    assert_eq!(regressed, [("native", "instructions_millions")]);
}

/// The device says whether it counts instructions in hardware, and why not.
#[test]
fn hardware_counters_are_recorded_or_said_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let yaml =
        "kernels: [gemm]\ndatasets: [mini]\nruntimes:\n  - runtime: native\nrepetitions: 3\ntimeout_s: 60\nseed: 2\n";
    let (_, snapshot, records) = bench_with_snapshot(&pipeline(dir.path(), "counters", yaml), &[]);
    let provenance: Value =
        serde_json::from_str(&std::fs::read_to_string(snapshot.join("provenance.json")).unwrap()).unwrap();
    let said = provenance["device_before"]["hardware_counters"].as_str().unwrap().to_string();
    if said == "available" {
        assert!(records.iter().all(|r| r.instructions.is_some() && r.cycles.is_some()), "{records:#?}");
        assert!(records.iter().all(|r| r.instructions_source == Some(InstructionSource::HardwareCounters)));
    } else {
        assert!(said.starts_with("unavailable: perf_event_open(instructions): "), "{said}");
        assert!(records.iter().all(|r| r.instructions.is_none() && r.instructions_source.is_none()));
    }
    let report = std::fs::read_to_string(snapshot.join("report.md")).unwrap();
    assert!(report.contains("from hardware counters: "), "the report says it: {report}");
}
