//! The Markdown report of a snapshot, derived from the analysis and the
//! provenance alone (so it can be regenerated from a checked-in snapshot).

use std::collections::BTreeSet;
use std::fmt::Write;

use edgebench_model::Dataset;
use edgebench_model::device::DeviceInfo;
use edgebench_model::executor::{PHASE_COMPILE, PHASE_ENGINE, PHASE_EXECUTE, PHASE_INSTANTIATE};
use edgebench_model::manifest::ArtifactKind;
use edgebench_model::record::RunRecord;
use edgebench_model::workload::WorkloadBuild;
use edgebench_stats::analysis::{KERNEL_MS, MAX_RSS_MIB, PEAK_MEMORY_MIB, WALL_MS, WORKLOAD_PEAK_MIB, phase_metric};
use edgebench_stats::rounds::{DISTURBED_ERRORS, DISTURBED_SHIFT};
use edgebench_stats::{Analysis, CellSummary, Summary};

use crate::snapshot::provenance::{Provenance, WorkloadArtifact};
use crate::snapshot::{footprint, glance};

/// The report of a snapshot: one section after the other, in this order.
pub fn markdown(records: &[RunRecord], analysis: &Analysis, provenance: &Provenance, plot_files: &[String]) -> String {
    let mut md = heading(provenance);
    md.push_str(&glance::markdown(&glance::findings(analysis, &provenance.footprint)));
    md.push_str(&body(records, analysis, provenance, plot_files));
    md
}

/// The title and the warnings: what comes before the summary.
pub fn heading(provenance: &Provenance) -> String {
    let mut md = String::new();
    title(&mut md, provenance);
    warnings(&mut md, provenance);
    md
}

/// Everything after the summary: the device, verification, rounds, tables,
/// footprint, failures, the plots (as images) and the method.
pub fn body(records: &[RunRecord], analysis: &Analysis, provenance: &Provenance, plot_files: &[String]) -> String {
    let mut md = String::new();
    device_and_software(&mut md, provenance);
    verification(&mut md, analysis);
    workloads(&mut md, &provenance.workloads);
    rounds(&mut md, analysis);
    for dataset in datasets(analysis) {
        dataset_tables(&mut md, analysis, dataset);
    }
    geomeans(&mut md, analysis);
    footprint::section(&mut md, &provenance.footprint, analysis);
    failures(&mut md, analysis);
    plot_links(&mut md, plot_files);
    method_section(&mut md, records, analysis, provenance);
    md
}

/// The pipeline, the target, and the plan the snapshot was taken with.
fn title(md: &mut String, p: &Provenance) {
    let _ = writeln!(md, "# `{}` on `{}`\n", p.plan.pipeline, p.target.name);
    let _ = writeln!(
        md,
        "Taken {} · plan `{}` · seed {} · {} runs in {} cells ({} order, {} warm-up + {} measured per cell)\n",
        p.created_utc,
        p.plan.id,
        p.plan.seed,
        p.plan.runs_run(),
        p.plan.cells,
        order_name(p),
        p.plan.warmups,
        p.plan.stop.as_ref().map_or(p.plan.repetitions, |s| s.rounds)
    );
    if let Some(stop) = &p.plan.stop {
        let _ = writeln!(
            md,
            "Adaptive repetitions ({} to {} rounds): {stop}. The rule reads precision only, never a test's outcome.\n",
            p.plan.repetitions,
            p.plan.runs / p.plan.cells.max(1) - p.plan.warmups as usize,
        );
    }
    if let [base, head] = p.plan.sides.as_slice() {
        let dirty = if head.dirty { ", with uncommitted changes" } else { "" };
        let _ = writeln!(
            md,
            "Same-session A/B of two revisions, round by round: `@base` is `{}` ({}), `@head` is `{}` ({}{dirty}). Compare them with `cargo xtask compare <this snapshot> --sides base,head`.\n",
            &base.commit[..12],
            base.subject,
            &head.commit[..12],
            head.subject
        );
    }
}

/// Why the timings may not be a device's: an emulator, or throttling.
fn warnings(md: &mut String, p: &Provenance) {
    if let Some(emulator) = &p.target.emulator {
        let _ = writeln!(md, "> **Emulated target** ({emulator} on this host): {EMULATED_TIMINGS}\n");
    }
    let busy: Vec<String> = [("before the runs", &p.device_before), ("after them", &p.device_after)]
        .into_iter()
        .filter_map(|(when, d)| Some(format!("{when}, {}", d.as_ref()?.busy()?)))
        .collect();
    if !busy.is_empty() {
        let _ = writeln!(
            md,
            "> **Busy machine**: other processes competed with the runs ({}). Timings may be inflated; see the rounds below.\n",
            busy.join("; ")
        );
    }
    if p.health.throttled_runs > 0 {
        let _ = writeln!(
            md,
            "> **Warning: {} run(s) were taken while the device reported throttling or under-voltage** (cells: {}); their timings are suspect.\n",
            p.health.throttled_runs,
            p.health.throttled_cells.join(", ")
        );
    } else if p.throttled == Some(true) {
        let _ = writeln!(md, "{THROTTLED_AROUND_THE_RUNS}\n");
    }
}

const EMULATED_TIMINGS: &str = "timings are emulated and say nothing about a real device's speed; checksums and the pipeline are what this snapshot proves.";
const THROTTLED_AROUND_THE_RUNS: &str = "> **Warning: the device reported throttling or under-voltage** before or after the runs, now or since boot (see provenance.json); its timings may be suspect.";

fn device_and_software(md: &mut String, p: &Provenance) {
    let _ = writeln!(md, "## Device and software\n");
    if let Some(d) = p.device_before.as_ref() {
        device_lines(md, d);
    }
    environment_lines(md, p);
    if p.health.samples > 0 {
        let _ = writeln!(
            md,
            "- During the runs: {} health sample(s), hottest {}, {} run(s) under throttling",
            p.health.samples,
            p.health.max_temperature_c.map(|t| format!("{t:.1} °C")).unwrap_or_else(|| "no thermal zone".into()),
            p.health.throttled_runs
        );
    }
    if p.plan.callgrind {
        let _ = writeln!(
            md,
            "- Instructions: counted by valgrind's callgrind (a simulated CPU); the runs' timings and memory are the simulator's and are not summarised"
        );
    } else if let Some(counters) = p.device_before.as_ref().and_then(|d| d.hardware_counters.as_deref()) {
        let _ = writeln!(md, "- Instructions and cycles from hardware counters: {counters}");
    }
    let engines: Vec<String> = p.engines.iter().map(|(k, v)| format!("{k} {v}")).collect();
    let _ = writeln!(md, "- Engines: {}", engines.join(", "));
    if let Some(c) = p.compilers.first() {
        let _ = writeln!(md, "- Kernels: {} {}, flags `{}`", c.command, c.version, c.flags.join(" "));
    }
    if p.compilers.iter().any(|c| c.kind == ArtifactKind::WasmSimd) {
        let _ = writeln!(md, "- Wasm SIMD builds (`+simd` variants): the Wasm flags and `-msimd128`");
    }
    let _ = writeln!(
        md,
        "- Source: {}{}\n",
        p.git.revision.as_deref().unwrap_or("unknown revision"),
        if p.git.dirty == Some(true) { " (with uncommitted changes)" } else { "" }
    );
}

/// Load, frequencies and competing processes before and after the runs,
/// and the CPUs the runs were pinned to.
fn environment_lines(md: &mut String, p: &Provenance) {
    for (when, device) in [("before", &p.device_before), ("after", &p.device_after)] {
        let Some(d) = device else { continue };
        let Some([one, five, fifteen]) = d.load_average else { continue };
        let mhz = match (d.cpu_mhz.iter().min(), d.cpu_mhz.iter().max()) {
            (Some(lo), Some(hi)) if lo == hi => format!(" · CPUs at {lo} MHz"),
            (Some(lo), Some(hi)) => format!(" · CPUs at {lo}–{hi} MHz"),
            _ => String::new(),
        };
        let others: Vec<String> =
            d.busiest_processes.iter().map(|b| format!("{} {:.0} %", b.command, b.cpu_percent)).collect();
        let others = if others.is_empty() { "none above 1 % of a CPU".to_string() } else { others.join(", ") };
        let _ = writeln!(
            md,
            "- {when} the runs: load average {one:.2} / {five:.2} / {fifteen:.2}{mhz} · other processes: {others}"
        );
    }
    let pinned = match &p.plan.cpus {
        Some(cpus) => format!("pinned to CPU(s) {}", cpus.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(", ")),
        None => "not pinned (the scheduler placed them)".into(),
    };
    let _ = writeln!(md, "- Measured runs: {pinned}");
}

/// The device as it was before the runs: hardware, OS, governor and temperatures.
fn device_lines(md: &mut String, d: &DeviceInfo) {
    let _ = writeln!(
        md,
        "- Device: {} · {} · {} cores · {} · {}",
        d.model.as_deref().unwrap_or("unknown model"),
        d.cpu.as_deref().unwrap_or("unknown CPU"),
        d.cores,
        d.memory_kib.map(|k| format!("{:.1} GiB RAM", k as f64 / 1048576.0)).unwrap_or_default(),
        d.arch
    );
    let _ = writeln!(md, "- OS: {} · kernel {}", d.os.as_deref().unwrap_or("?"), d.kernel.as_deref().unwrap_or("?"));
    let _ =
        writeln!(md, "- CPU governor: {} · temperatures: {}", d.governor.as_deref().unwrap_or("not exposed"), temps(d));
}

/// A dataset's tables: timings, memory peaks and, where reported, executor phases.
fn dataset_tables(md: &mut String, analysis: &Analysis, dataset: Dataset) {
    let _ = writeln!(md, "## Dataset `{dataset}`\n");
    metric_table(md, analysis, dataset, WALL_MS, WALL_TABLE, true);
    metric_table(md, analysis, dataset, KERNEL_MS, KERNEL_TABLE, false);
    metric_table(md, analysis, dataset, MAX_RSS_MIB, MAX_RSS_TABLE, false);
    if analysis.cells.iter().any(|c| c.key.dataset == dataset && c.metrics.contains_key(PEAK_MEMORY_MIB)) {
        metric_table(md, analysis, dataset, PEAK_MEMORY_MIB, EXECUTOR_PEAK_TABLE, false);
    }
    phases(md, analysis, dataset);
}

const WALL_TABLE: &str =
    "Wall time, spawn to exit (ms): median (95 % bootstrap CI of the median), and the ratio of medians to the baseline";
const KERNEL_TABLE: &str = "Kernel-region time reported by the kernel (ms): median (95 % bootstrap CI of the median)";
const MAX_RSS_TABLE: &str =
    "Peak resident memory of the measured process (MiB): median (95 % bootstrap CI of the median)";
const EXECUTOR_PEAK_TABLE: &str =
    "Peak memory measured by the executor (container cgroup, MiB): median (95 % bootstrap CI of the median)";

fn plot_links(md: &mut String, plot_files: &[String]) {
    if plot_files.is_empty() {
        return;
    }
    let _ = writeln!(md, "## Plots\n");
    for f in plot_files {
        let _ = writeln!(md, "![{f}](plots/{f})\n");
    }
}

fn method_section(md: &mut String, records: &[RunRecord], analysis: &Analysis, provenance: &Provenance) {
    let _ = writeln!(md, "## Method\n");
    let floors: Vec<u64> = records.iter().filter_map(|r| r.max_rss_floor_kib).collect();
    let device = provenance.device_before.as_ref().or(provenance.device_after.as_ref());
    let kernel = device.and_then(|d| d.kernel.as_deref());
    let _ = writeln!(md, "{} {}", method(floors, kernel, device.map_or(1, |d| d.cores)), statistics(analysis));
}

/// What the harness that made the records measured (known from whether they
/// carry the launcher's floor), and how precise their peaks are on the
/// device's kernel.
fn method(mut floors: Vec<u64>, kernel: Option<&str>, cpus: usize) -> String {
    floors.sort_unstable();
    let median_floor = floors.get(floors.len() / 2).copied();
    let span = match median_floor {
        // Records from before the launcher recorded its floor were timed from the child's `exec`.
        None => SPAN_FROM_EXEC,
        Some(_) => SPAN_FROM_FORK,
    };
    let floor = median_floor
        .map(|kib| format!(" A child's peak includes the launcher's memory it starts with (median {:.2} MiB here, `max_rss_floor_kib` in the records) and the launcher code it runs before `exec`.", kib as f64 / 1024.0))
        .unwrap_or_default();
    let spawn = format!(
        "Every run is a fresh child process, forked from a small launcher process of the harness. Wall time is taken on the monotonic clock from {span}; peak memory, user and system time come from that child's own `wait4` rusage.{floor}"
    );
    // Linux 6.2 made the per-mm resident counters per-CPU.
    let counted_in_batches = kernel
        .and_then(kernel_release)
        .filter(|release| *release >= (6, 2))
        .map(|(major, minor)| {
            format!(
                " This device's kernel (Linux {major}.{minor}) counts a process's resident pages per CPU and adds them up in batches of 32, so `ru_maxrss` comes in steps of 128 KiB per kind of page and can read up to {} KiB low per kind ({cpus} CPUs): peaks under about 0.5 MiB are not resolved.",
                124 * cpus
            )
        })
        .unwrap_or_default();
    format!("{spawn}{counted_in_batches}")
}

const SPAN_FROM_EXEC: &str = "the child's `exec` (the last instruction before it) to the moment the kernel reports the child's exit, so the harness's own cost of forking it is left out";
const SPAN_FROM_FORK: &str =
    "right before the fork to the moment the kernel reports the child's exit (the span hyperfine measures)";
/// The method of the statistics, with the seed and resample count filled in.
fn statistics(analysis: &Analysis) -> String {
    let pairing = if analysis.rounds_paired {
        "The runs came in rounds (one run of every cell per round), so a ratio's interval resamples whole rounds, keeping each round's two runs together: a disturbance that slowed a whole round cancels in the ratio. A cell that lost a round to a failure is resampled on its own."
    } else {
        "Each cell's runs ran back to back, so the two sides of a ratio are resampled independently."
    };
    format!(
        "One estimator throughout: the median, over the measured runs that ended ok and reproduced the reference checksum of their kernel and dataset; warm-ups and failed runs are counted, never included. Every interval is a 95 % percentile bootstrap ({} resamples, seed {}, the same on every machine). Ratios are ratios of medians. {pairing} A geometric mean over kernels has two intervals: *measurement* (each kernel's runs resampled: how precisely these kernels were measured) and *across kernels* (Student's t over the kernels' log-ratios: how much kernels differ, the wider one). Means, extremes and standard deviations are in `summary.csv` as description; no ratio or verdict rests on them.",
        analysis.bootstrap.resamples, analysis.bootstrap.seed
    )
}

/// `(major, minor)` of a kernel release such as `6.18.44-fc-v509 #1 SMP …`.
fn kernel_release(kernel: &str) -> Option<(u32, u32)> {
    let mut parts = kernel.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

fn order_name(p: &Provenance) -> String {
    serde_json::to_value(p.plan.order).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
}

fn temps(d: &DeviceInfo) -> String {
    if d.temperatures_c.is_empty() {
        "not exposed".into()
    } else {
        d.temperatures_c.iter().map(|t| format!("{t:.1} °C")).collect::<Vec<_>>().join(", ")
    }
}

fn verification(md: &mut String, analysis: &Analysis) {
    let measured: usize = analysis.cells.iter().map(|c| c.measured_runs).sum();
    let ok: usize = analysis.cells.iter().map(|c| c.ok_runs).sum();
    let checked = analysis.cells.iter().filter(|c| c.reference_checksum.is_some()).count();
    let _ = writeln!(md, "## Verification\n");
    let _ = writeln!(
        md,
        "{ok} of {measured} measured runs ended ok. {checked} cells were checked against a reference checksum of their kernel and dataset; every ok run reproduced it.\n"
    );
}

/// The user's own programs that ran: every artifact and how it was made.
fn workloads(md: &mut String, built: &[WorkloadArtifact]) {
    if built.is_empty() {
        return;
    }
    let _ = writeln!(
        md,
        "## Workloads
"
    );
    let _ = writeln!(
        md,
        "Programs of the pipeline's own, run like the kernels. A workload's runs are checked by the hash of what \
         they print on stdout (only the lines with the prefix its pipeline names, if it names one), held to \
         native's like a kernel's checksum, or by their exit status alone where its pipeline says `check: exit`; \
         `plan.json` has the pipeline as it was read. A workload reports no kernel-region time: its figures are \
         wall time, start-up included.\n"
    );
    let _ = writeln!(md, "| workload | artifact | sha256 | built from |");
    let _ = writeln!(md, "|---|---|---|---|");
    for w in built {
        let from = match &w.build {
            WorkloadBuild::Sources { sources, flags, fetched, .. } => {
                let files: Vec<&str> = sources.keys().map(String::as_str).collect();
                let mut from = format!("`{}` by the pinned zig, flags `{}`", files.join("`, `"), flags.join(" "));
                if let Some(package) = fetched {
                    let prepare: Vec<String> = package.prepare.iter().map(|argv| argv.join(" ")).collect();
                    let _ = write!(
                        from,
                        "; `{{fetched}}` is Debian's source package {} {} (`.dsc` sha256 `{}…`), prepared by `{}`",
                        package.package,
                        package.version,
                        &package.dsc_sha256[..16],
                        prepare.join("`, then `")
                    );
                }
                from
            }
            WorkloadBuild::Command { argv, .. } => format!("the command `{}`", argv.join(" ")),
            WorkloadBuild::Prebuilt { path, .. } => format!("the prebuilt `{path}`, as pinned"),
            WorkloadBuild::Input { path, .. } => format!("the input file `{path}`, read-only"),
        };
        let _ = writeln!(md, "| {} | `{}` | `{}` | {from} |", w.name, w.path, &w.sha256[..w.sha256.len().min(16)]);
    }
    md.push('\n');
}

fn metric_table(md: &mut String, analysis: &Analysis, dataset: Dataset, metric: &str, title: &str, with_ratio: bool) {
    let runtimes = runtimes(analysis);
    let kernels = kernels(analysis, dataset);
    if !kernels
        .iter()
        .any(|k| runtimes.iter().any(|rt| find(analysis, k, dataset, rt).and_then(|c| c.metric(metric)).is_some()))
    {
        return;
    }
    let _ = writeln!(md, "**{title}**\n");
    let _ = writeln!(md, "| kernel | {} |", runtimes.join(" | "));
    let _ = writeln!(md, "|---|{}", "---:|".repeat(runtimes.len()));
    for k in &kernels {
        let cells: Vec<String> = runtimes
            .iter()
            .map(|rt| {
                let Some(cell) = find(analysis, k, dataset, rt) else { return String::new() };
                let Some(s) = cell.metric(metric) else {
                    return if cell.ok_runs == 0 && cell.measured_runs > 0 { "failed".into() } else { "—".into() };
                };
                let mut text = fmt_value(s);
                if with_ratio
                    && let Some(r) = analysis
                        .ratios
                        .iter()
                        .find(|r| r.metric == metric && r.kernel == *k && r.dataset == dataset && r.runtime == *rt)
                {
                    let _ = write!(text, " (×{:.2})", r.ratio.value);
                }
                text
            })
            .collect();
        let _ = writeln!(md, "| {k} | {} |", cells.join(" | "));
    }
    let _ = writeln!(md);
}

fn fmt_value(s: &Summary) -> String {
    let digits = if s.median >= 100.0 {
        1
    } else if s.median >= 1.0 {
        2
    } else {
        3
    };
    match s.median_ci95 {
        Some((lo, hi)) => format!("{:.*} ({:.*}–{:.*})", digits, s.median, digits, lo, digits, hi),
        None => format!("{:.*}", digits, s.median),
    }
}

fn phases(md: &mut String, analysis: &Analysis, dataset: Dataset) {
    let names = [PHASE_ENGINE, PHASE_COMPILE, PHASE_INSTANTIATE, PHASE_EXECUTE];
    let rows: Vec<&CellSummary> = analysis
        .cells
        .iter()
        .filter(|c| c.key.dataset == dataset && c.metrics.contains_key(&phase_metric(PHASE_COMPILE)))
        .collect();
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(md, "**Executor phases (ms, medians); the rest of the wall time is process start-up**\n");
    let _ = writeln!(md, "| kernel | runtime | {} | wall |", names.join(" | "));
    let _ = writeln!(md, "|---|---|{}---:|", "---:|".repeat(names.len()));
    for c in rows {
        let values: Vec<String> = names
            .iter()
            .map(|n| c.metric(&phase_metric(n)).map(|s| format!("{:.3}", s.median)).unwrap_or_default())
            .collect();
        let wall = c.metric(WALL_MS).map(|s| format!("{:.3}", s.median)).unwrap_or_default();
        let _ = writeln!(md, "| {} | {} | {} | {wall} |", c.key.kernel, c.key.runtime_label(), values.join(" | "));
    }
    let _ = writeln!(md);
}

fn geomeans(md: &mut String, analysis: &Analysis) {
    if analysis.geomeans.is_empty() {
        return;
    }
    let _ = writeln!(
        md,
        "## Geometric means over kernels, relative to `{}`\n",
        analysis.baseline.as_deref().unwrap_or("the baseline")
    );
    let _ = writeln!(
        md,
        "| runtime | dataset | metric | kernels | geometric mean of ratios of medians | 95 % CI, measurement | 95 % CI, spread across kernels |"
    );
    let _ = writeln!(md, "|---|---|---|---:|---:|---|---|");
    let range = |ci: Option<(f64, f64)>| ci.map(|(l, h)| format!("{l:.2} – {h:.2}")).unwrap_or_else(|| "—".into());
    for g in &analysis.geomeans {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {:.2} | {} | {} |",
            g.runtime,
            g.dataset,
            g.metric,
            g.geomean.n,
            g.geomean.value,
            range(g.geomean.measurement_ci95),
            range(g.geomean.across_kernels_ci95)
        );
    }
    let _ = writeln!(
        md,
        "\n`{WORKLOAD_PEAK_MIB}` is the workload's own peak: the container's for `docker` (from its cgroup), the measured process's max RSS for everything else.\n"
    );
}

/// Round effects: each round's shift across all cells, disturbed rounds
/// called out with their figure.
fn rounds(md: &mut String, analysis: &Analysis) {
    let shifts = &analysis.round_shifts;
    if shifts.len() < 2 {
        return;
    }
    let _ = writeln!(md, "## Rounds\n");
    let disturbed: Vec<String> = shifts
        .iter()
        .filter(|r| r.disturbed)
        .map(|r| format!("round {} ({:+.1} %)", r.round + 1, r.shift * 100.0))
        .collect();
    let rule = format!(
        "a round is disturbed when its median shift across cells reaches ±{:.0} % and exceeds {:.0} standard errors of that median (what the cells' own scatter explains)",
        DISTURBED_SHIFT * 100.0,
        DISTURBED_ERRORS
    );
    if disturbed.is_empty() {
        let widest = shifts.iter().map(|r| r.shift.abs()).fold(0.0, f64::max);
        let _ = writeln!(md, "No round was disturbed ({rule}); the largest shift was {:.1} %.\n", widest * 100.0);
    } else {
        let _ = writeln!(
            md,
            "> **Disturbed rounds: {}** ({rule}): the host was busier (or quieter) then. Ratios are paired by round, which cancels a shift both sides of a ratio shared.\n",
            disturbed.join(", ")
        );
    }
    let _ = writeln!(md, "| round | cells | median shift of wall time vs each cell's median | standard error |");
    let _ = writeln!(md, "|---:|---:|---:|---:|");
    for r in shifts {
        let flag = if r.disturbed { " **disturbed**" } else { "" };
        let _ = writeln!(
            md,
            "| {} | {} | {:+.2} %{flag} | {:.2} % |",
            r.round + 1,
            r.cells,
            r.shift * 100.0,
            r.standard_error * 100.0
        );
    }
    let _ = writeln!(md);
}

fn failures(md: &mut String, analysis: &Analysis) {
    let failed: Vec<&CellSummary> = analysis.cells.iter().filter(|c| !c.failures.is_empty()).collect();
    if failed.is_empty() {
        return;
    }
    let _ = writeln!(md, "## Failures\n");
    let _ = writeln!(md, "| cell | failures | example |");
    let _ = writeln!(md, "|---|---|---|");
    for c in failed {
        let kinds: Vec<String> = c.failures.iter().map(|(k, n)| format!("{n}× {k}")).collect();
        let example = c.failure_examples.first().map(|e| e.replace('|', "\\|")).unwrap_or_default();
        let _ = writeln!(md, "| {} | {} | {example} |", c.key.label(), kinds.join(", "));
    }
    let _ = writeln!(md);
}

fn datasets(analysis: &Analysis) -> Vec<Dataset> {
    analysis.cells.iter().map(|c| c.key.dataset).collect::<BTreeSet<_>>().into_iter().collect()
}

/// Kernels of a dataset, in the analysis's (alphabetical) order.
fn kernels(analysis: &Analysis, dataset: Dataset) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in analysis.cells.iter().filter(|c| c.key.dataset == dataset) {
        if !out.contains(&c.key.kernel) {
            out.push(c.key.kernel.clone());
        }
    }
    out
}

/// `runtime/variant` labels, baseline first.
fn runtimes(analysis: &Analysis) -> Vec<String> {
    let mut out: Vec<String> =
        analysis.cells.iter().map(|c| c.key.runtime_label()).collect::<BTreeSet<_>>().into_iter().collect();
    if let Some(b) = &analysis.baseline
        && let Some(i) = out.iter().position(|r| r == b)
    {
        let b = out.remove(i);
        out.insert(0, b);
    }
    out
}

fn find<'a>(analysis: &'a Analysis, kernel: &str, dataset: Dataset, runtime: &str) -> Option<&'a CellSummary> {
    analysis
        .cells
        .iter()
        .find(|c| c.key.kernel == kernel && c.key.dataset == dataset && c.key.runtime_label() == runtime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_releases_are_read_from_uname_strings() {
        assert_eq!(kernel_release("6.18.44-fc-v509 #1 SMP PREEMPT_DYNAMIC @0"), Some((6, 18)));
        assert_eq!(kernel_release("5.15.0-1034-raspi"), Some((5, 15)));
        assert_eq!(kernel_release("Linux"), None);
    }

    #[test]
    fn the_method_follows_the_records_and_the_kernel() {
        // Records without a floor were timed from `exec`.
        let old = method(Vec::new(), Some("6.1.21-v8+"), 4);
        assert!(old.contains("from the child's `exec`"), "{old}");
        assert!(!old.contains("batches"), "{old}");
        let new = method(vec![300, 100, 200], Some("6.18.44"), 2);
        assert!(new.contains("right before the fork"), "{new}");
        assert!(new.contains("median 0.20 MiB"), "{new}");
        assert!(new.contains("Linux 6.18") && new.contains("248 KiB low"), "{new}");
        assert!(!method(vec![100], None, 2).contains("batches"));
    }
}
