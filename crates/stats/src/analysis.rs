//! From run records to per-cell summaries, ratios against a baseline and
//! their geometric means.
//!
//! One estimator throughout: the median, with a percentile-bootstrap
//! interval; ratios are of medians. Means, spreads and extremes are kept as
//! description, never as the basis of a ratio or a verdict.
//!
//! The output is deterministic for a given list of records and seed
//! (ordered maps, sorted vectors, seeded streams only), because the host
//! writes it to `summary.json` and recomputes it from the records to check
//! it.

use std::collections::BTreeMap;

use edgebench_model::Dataset;
use edgebench_model::plan::split_side;
use edgebench_model::record::{InstructionSource, Outcome, RunRecord};
use serde::{Deserialize, Serialize};

use crate::ratio::{GeoMean, Ratio, RatioEstimate, geometric_mean, ratio_of_medians};
use crate::resample::{Bootstrap, DEFAULT_SEED};
use crate::rounds::{RoundShift, round_shifts};
use crate::summary::Summary;

/// Spawn-to-exit time of the run, milliseconds.
pub const WALL_MS: &str = "wall_ms";
/// The kernel's own timing of its kernel region, milliseconds.
pub const KERNEL_MS: &str = "kernel_ms";
/// User CPU time of the child, milliseconds.
pub const USER_MS: &str = "user_ms";
/// System CPU time of the child, milliseconds.
pub const SYS_MS: &str = "sys_ms";
/// The child's peak resident set size, MiB.
pub const MAX_RSS_MIB: &str = "max_rss_mib";
/// Peak memory measured by an executor (a container's cgroup), MiB.
pub const PEAK_MEMORY_MIB: &str = "peak_memory_mib";
/// Peak memory of the workload itself, MiB: what the executor measured
/// where it measured one (the container, not the Docker client), else the
/// child's max RSS (the program, or the engine running the module). The
/// memory metric to compare runtimes by.
pub const WORKLOAD_PEAK_MIB: &str = "workload_peak_mib";
/// User-space instructions of the run, millions: from hardware counters
/// alongside its timings, or from valgrind's callgrind instead of them.
pub const INSTRUCTIONS_MILLIONS: &str = "instructions_millions";
/// User-space CPU cycles of the run, millions, from hardware counters.
pub const CYCLES_MILLIONS: &str = "cycles_millions";
/// An executor phase `p` is reported as `phase_<p>_ms`.
pub const PHASE_PREFIX: &str = "phase_";
pub const PHASE_SUFFIX: &str = "_ms";

/// Metrics compared against the baseline in [`Analysis::ratios`].
/// Memory is compared by the workload's peak: a ratio against the Docker
/// client's own resident set would repeat the study's mistake.
pub const RATIO_METRICS: [&str; 4] = [WALL_MS, KERNEL_MS, WORKLOAD_PEAK_MIB, INSTRUCTIONS_MILLIONS];

/// The runtime whose checksums are the reference for everybody else.
pub const NATIVE_RUNTIME: &str = "native";

/// Failure kind of an ok run whose checksum differs from the reference; the
/// same string as [`Outcome::ChecksumMismatch`]'s kind.
pub const CHECKSUM_MISMATCH: &str = "checksum_mismatch";

/// How many distinct failure reasons a cell keeps as examples.
const MAX_FAILURE_EXAMPLES: usize = 3;
/// Failure reasons are cut to one line of at most this many characters.
const MAX_REASON_CHARS: usize = 200;

/// The name of the metric for executor phase `phase`.
pub fn phase_metric(phase: &str) -> String {
    format!("{PHASE_PREFIX}{phase}{PHASE_SUFFIX}")
}

/// One cell of the plan: a kernel at a dataset size on a runtime variant.
///
/// Field order is the sort order: cells of one kernel stay together.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CellKey {
    pub kernel: String,
    pub dataset: Dataset,
    pub runtime: String,
    pub variant: String,
}

impl CellKey {
    pub fn of(record: &RunRecord) -> CellKey {
        CellKey {
            kernel: record.kernel.clone(),
            dataset: record.dataset,
            runtime: record.runtime.clone(),
            variant: record.variant.clone(),
        }
    }

    /// `kernel/dataset/runtime/variant`, as the plan names cells.
    pub fn label(&self) -> String {
        edgebench_model::plan::cell_label(&self.kernel, self.dataset, &self.runtime, &self.variant)
    }

    /// `runtime/variant`, the form a baseline is given in.
    pub fn runtime_label(&self) -> String {
        format!("{}/{}", self.runtime, self.variant)
    }
}

/// Where a kernel × dataset's reference checksum came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferenceSource {
    /// Every measured ok run of the native runtime agreed on it.
    Native,
    /// No native run reported a checksum: the most common checksum among all
    /// measured ok runs.
    MostCommon,
    /// Native runs reported different checksums, so they could not serve;
    /// the most common checksum among all measured ok runs.
    MostCommonNativeDisagreed,
}

/// Everything known about one cell after verification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellSummary {
    pub key: CellKey,
    /// Non-warm-up runs, whatever their outcome: `ok_runs` plus the failures.
    pub measured_runs: usize,
    /// Runs that ended ok and passed the checksum check; the metrics are over
    /// these.
    pub ok_runs: usize,
    /// Warm-up runs, which are in no other count and in no metric.
    pub warmup_runs: usize,
    /// Outcome kind → count, measured runs only; includes
    /// [`CHECKSUM_MISMATCH`] for ok runs that failed verification.
    pub failures: BTreeMap<String, usize>,
    /// Up to three distinct readable failure reasons, in run order.
    pub failure_examples: Vec<String>,
    /// The checksum this cell's ok runs reported (the most common one should
    /// they disagree); `None` when none reported one.
    pub checksum: Option<String>,
    /// The checksum of this kernel × dataset every runtime is held to.
    pub reference_checksum: Option<String>,
    pub reference_source: Option<ReferenceSource>,
    /// Metric name → summary over the ok runs that have the metric.
    pub metrics: BTreeMap<String, Summary>,
}

impl CellSummary {
    pub fn metric(&self, name: &str) -> Option<&Summary> {
        self.metrics.get(name)
    }
}

/// A cell's metric relative to the baseline's for the same kernel × dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RatioRow {
    pub kernel: String,
    pub dataset: Dataset,
    /// `runtime/variant`.
    pub runtime: String,
    pub metric: String,
    pub ratio: Ratio,
}

/// Geometric mean of one runtime's ratios over the kernels of a dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GeoMeanRow {
    /// `runtime/variant`.
    pub runtime: String,
    pub dataset: Dataset,
    pub metric: String,
    pub geomean: GeoMean,
}

/// The whole statistical picture of a set of records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// Sorted by key.
    pub cells: Vec<CellSummary>,
    /// Sorted by kernel, dataset, runtime, then in [`RATIO_METRICS`] order.
    pub ratios: Vec<RatioRow>,
    /// Sorted by runtime, dataset, metric.
    pub geomeans: Vec<GeoMeanRow>,
    /// The `runtime/variant` the ratios are against, as requested.
    pub baseline: Option<String>,
    /// How every interval was resampled.
    pub bootstrap: Bootstrap,
    /// Whether the runs came in rounds (one run of every cell per round),
    /// so that ratios could be paired by round.
    pub rounds_paired: bool,
    /// How much each round ran slower or faster than the cells' medians;
    /// empty unless the runs came in rounds.
    pub round_shifts: Vec<RoundShift>,
}

/// What [`analyse`] needs besides the records.
#[derive(Debug, Clone, Copy)]
pub struct Options<'a> {
    /// The `runtime/variant` to take ratios against; none, no ratios.
    pub baseline: Option<&'a str>,
    /// The plan ran round by round (interleaved or shuffled order), so the
    /// i-th measured run of every cell belongs to round i.
    pub rounds: bool,
    /// The bootstrap seed.
    pub seed: u64,
}

impl<'a> Options<'a> {
    /// Ratios against `baseline`, runs in rounds, the default seed.
    pub fn new(baseline: Option<&'a str>) -> Options<'a> {
        Options { baseline, rounds: true, seed: DEFAULT_SEED }
    }
}

/// The verified values of every metric of every cell, each with the round
/// (repetition) of its run and in round order: what resampling draws from.
pub type Samples = BTreeMap<CellKey, BTreeMap<String, Vec<(u32, f64)>>>;

/// Whether two cells' samples come from exactly the same rounds, one run
/// each: only then can their ratio be paired by round.
pub fn same_rounds(a: &[(u32, f64)], b: &[(u32, f64)]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.0 == y.0)
}

/// The values of a metric, without their rounds.
pub fn values(sample: &[(u32, f64)]) -> Vec<f64> {
    sample.iter().map(|(_, v)| *v).collect()
}

impl Analysis {
    /// The summary of one cell.
    pub fn cell(&self, key: &CellKey) -> Option<&CellSummary> {
        self.cells.binary_search_by(|c| c.key.cmp(key)).ok().map(|i| &self.cells[i])
    }
}

/// The native runtime's `runtime/variant` when the records hold exactly one
/// native variant: the natural baseline when the caller names none.
pub fn default_baseline(records: &[RunRecord]) -> Option<String> {
    let mut variants: Vec<&str> =
        records.iter().filter(|r| r.runtime == NATIVE_RUNTIME).map(|r| r.variant.as_str()).collect();
    variants.sort_unstable();
    variants.dedup();
    match variants.as_slice() {
        [only] => Some(format!("{NATIVE_RUNTIME}/{only}")),
        _ => None,
    }
}

/// Summarises `records` per cell and, given a baseline (`runtime/variant`),
/// computes every other cell's ratios to it and their geometric means. With
/// no baseline there are no ratios.
///
/// Records are taken in `run` order (stable for equal indices), so the
/// failure examples do not depend on how the records were concatenated.
pub fn analyse(records: &[RunRecord], options: &Options) -> Analysis {
    let bootstrap = Bootstrap::new(options.seed);
    let (accumulated, samples) = verify(records);
    let cells: Vec<CellSummary> = accumulated
        .into_iter()
        .map(|(key, acc)| {
            let metrics = samples.get(&key).map(|m| summarise(&key, m, &bootstrap)).unwrap_or_default();
            acc.finish(key, metrics)
        })
        .collect();

    let estimates =
        options.baseline.map(|b| ratios_against(&cells, &samples, b, options.rounds, &bootstrap)).unwrap_or_default();
    let geomeans = geomeans_of(&estimates);
    let ratios = estimates.into_iter().map(|(row, _)| row).collect();
    let round_shifts = if options.rounds { round_shifts(&samples, WALL_MS) } else { Vec::new() };
    Analysis {
        cells,
        ratios,
        geomeans,
        baseline: options.baseline.map(str::to_string),
        bootstrap,
        rounds_paired: options.rounds,
        round_shifts,
    }
}

/// The verified metric values of every cell of `records`: only measured
/// runs that ended ok and reproduced their reference checksum.
pub fn samples(records: &[RunRecord]) -> Samples {
    verify(records).1
}

/// Checks every record against its reference and sorts what it measured
/// into cells.
fn verify(records: &[RunRecord]) -> (BTreeMap<CellKey, CellAcc>, Samples) {
    let mut ordered: Vec<&RunRecord> = records.iter().collect();
    ordered.sort_by_key(|r| r.run);
    let references = reference_checksums(&ordered);
    let mut cells: BTreeMap<CellKey, CellAcc> = BTreeMap::new();
    let mut samples = Samples::new();
    for record in ordered {
        let key = CellKey::of(record);
        let reference = references.get(&reference_key(record));
        if cells.entry(key.clone()).or_default().add(record, reference) {
            let metrics = samples.entry(key).or_default();
            for (name, value) in metric_values(record) {
                metrics.entry(name).or_default().push((record.repetition, value));
            }
        }
    }
    for metrics in samples.values_mut() {
        for sample in metrics.values_mut() {
            sample.sort_by_key(|(round, _)| *round);
        }
    }
    (cells, samples)
}

/// Every metric of one cell, each from its own bootstrap stream.
fn summarise(
    key: &CellKey,
    metrics: &BTreeMap<String, Vec<(u32, f64)>>,
    bootstrap: &Bootstrap,
) -> BTreeMap<String, Summary> {
    metrics
        .iter()
        .filter_map(|(name, sample)| {
            let stream = format!("{}/{name}", key.label());
            Summary::resampled(&values(sample), bootstrap, &stream).map(|s| (name.clone(), s))
        })
        .collect()
}

/// The checksum a kernel × dataset is held to.
#[derive(Clone)]
struct Reference {
    checksum: String,
    source: ReferenceSource,
}

/// Whose runs must agree on a checksum: one kernel at one dataset, within
/// one revision side of a same-session A/B of two revisions (a revision may
/// change what a kernel computes).
type PairKey<'a> = (&'a str, Dataset, Option<&'a str>);

fn reference_key(record: &RunRecord) -> PairKey<'_> {
    (record.kernel.as_str(), record.dataset, split_side(&record.variant).1)
}

fn reference_checksums<'a>(records: &[&'a RunRecord]) -> BTreeMap<PairKey<'a>, Reference> {
    // Measured ok runs that reported a checksum: the only ones that vote.
    let mut native: BTreeMap<PairKey<'a>, BTreeMap<&'a str, usize>> = BTreeMap::new();
    let mut everyone: BTreeMap<PairKey<'a>, BTreeMap<&'a str, usize>> = BTreeMap::new();
    for r in records.iter().filter(|r| !r.warmup && r.outcome.is_ok()) {
        let Some(checksum) = r.checksum.as_deref() else {
            continue;
        };
        let pair = reference_key(r);
        *everyone.entry(pair).or_default().entry(checksum).or_default() += 1;
        if r.runtime == NATIVE_RUNTIME {
            *native.entry(pair).or_default().entry(checksum).or_default() += 1;
        }
    }
    everyone
        .into_iter()
        .filter_map(|(pair, counts)| {
            let reference = match native.get(&pair) {
                Some(n) if n.len() == 1 => {
                    let checksum = n.keys().next()?.to_string();
                    Reference { checksum, source: ReferenceSource::Native }
                }
                Some(_) => {
                    Reference { checksum: most_common(&counts)?, source: ReferenceSource::MostCommonNativeDisagreed }
                }
                None => Reference { checksum: most_common(&counts)?, source: ReferenceSource::MostCommon },
            };
            Some((pair, reference))
        })
        .collect()
}

/// The most frequent key; among equally frequent ones the smallest, which the
/// ascending map order yields by keeping the first maximum.
fn most_common(counts: &BTreeMap<&str, usize>) -> Option<String> {
    let mut best: Option<(&str, usize)> = None;
    for (&checksum, &count) in counts {
        if best.is_none_or(|(_, c)| count > c) {
            best = Some((checksum, count));
        }
    }
    best.map(|(checksum, _)| checksum.to_string())
}

/// A cell's runs while they are being collected.
#[derive(Default)]
struct CellAcc {
    measured_runs: usize,
    ok_runs: usize,
    warmup_runs: usize,
    failures: BTreeMap<String, usize>,
    failure_examples: Vec<String>,
    /// Checksums of runs whose outcome was ok, verified or not.
    checksums: BTreeMap<String, usize>,
    /// The same for every record of the cell (it is per kernel × dataset).
    reference: Option<Reference>,
}

impl CellAcc {
    /// Counts `record`; true when it is a verified measurement, whose
    /// metrics count.
    fn add(&mut self, record: &RunRecord, reference: Option<&Reference>) -> bool {
        if self.reference.is_none() {
            self.reference = reference.cloned();
        }
        if record.warmup {
            self.warmup_runs += 1;
            return false;
        }
        self.measured_runs += 1;
        if !record.outcome.is_ok() {
            self.fail(record.outcome.kind(), failure_reason(&record.outcome));
            return false;
        }
        if let Some(checksum) = &record.checksum {
            *self.checksums.entry(checksum.clone()).or_default() += 1;
            if let Some(reference) = reference.filter(|r| &r.checksum != checksum) {
                let reason = format!(
                    "checksum {checksum} differs from the reference {} ({})",
                    reference.checksum,
                    source_phrase(reference.source)
                );
                self.fail(CHECKSUM_MISMATCH, reason);
                return false;
            }
        }
        self.ok_runs += 1;
        true
    }

    fn fail(&mut self, kind: &str, reason: String) {
        *self.failures.entry(kind.to_string()).or_default() += 1;
        if self.failure_examples.len() < MAX_FAILURE_EXAMPLES && !self.failure_examples.contains(&reason) {
            self.failure_examples.push(reason);
        }
    }

    fn finish(self, key: CellKey, metrics: BTreeMap<String, Summary>) -> CellSummary {
        let counts: BTreeMap<&str, usize> = self.checksums.iter().map(|(c, n)| (c.as_str(), *n)).collect();
        CellSummary {
            key,
            measured_runs: self.measured_runs,
            ok_runs: self.ok_runs,
            warmup_runs: self.warmup_runs,
            failures: self.failures,
            failure_examples: self.failure_examples,
            checksum: most_common(&counts),
            reference_checksum: self.reference.as_ref().map(|r| r.checksum.clone()),
            reference_source: self.reference.as_ref().map(|r| r.source),
            metrics,
        }
    }
}

fn source_phrase(source: ReferenceSource) -> &'static str {
    match source {
        ReferenceSource::Native => "native",
        ReferenceSource::MostCommon => "most common; no native reference",
        ReferenceSource::MostCommonNativeDisagreed => "most common; native runs disagreed",
    }
}

/// Every metric one ok run contributes, with the unit the name promises.
fn metric_values(r: &RunRecord) -> Vec<(String, f64)> {
    const NS_PER_MS: f64 = 1e6;
    const KIB_PER_MIB: f64 = 1024.0;
    const BYTES_PER_MIB: f64 = (1u64 << 20) as f64;
    const MILLION: f64 = 1e6;
    let counted = r.instructions.map(|i| (INSTRUCTIONS_MILLIONS.to_string(), i as f64 / MILLION));
    if r.instructions_source == Some(InstructionSource::Callgrind) {
        // Under a simulated CPU the times and memory are the simulator's,
        // not the program's: the count is the run's only figure.
        return counted.into_iter().collect();
    }
    let max_rss_mib = r.max_rss_kib as f64 / KIB_PER_MIB;
    let mut out = vec![
        (WALL_MS.to_string(), r.wall_ns as f64 / NS_PER_MS),
        (USER_MS.to_string(), r.user_ns as f64 / NS_PER_MS),
        (SYS_MS.to_string(), r.sys_ns as f64 / NS_PER_MS),
        (MAX_RSS_MIB.to_string(), max_rss_mib),
    ];
    if let Some(ns) = r.kernel_ns {
        out.push((KERNEL_MS.to_string(), ns as f64 / NS_PER_MS));
    }
    match &r.peak_memory {
        Some(peak) => {
            let mib = peak.bytes as f64 / BYTES_PER_MIB;
            out.push((PEAK_MEMORY_MIB.to_string(), mib));
            out.push((WORKLOAD_PEAK_MIB.to_string(), mib));
        }
        None => out.push((WORKLOAD_PEAK_MIB.to_string(), max_rss_mib)),
    }
    for (phase, ns) in &r.phases {
        out.push((phase_metric(phase), *ns as f64 / NS_PER_MS));
    }
    out.extend(counted);
    if let Some(cycles) = r.cycles {
        out.push((CYCLES_MILLIONS.to_string(), cycles as f64 / MILLION));
    }
    out
}

/// One line, not too long: trap messages can carry whole backtraces.
fn failure_reason(outcome: &Outcome) -> String {
    let text = match outcome {
        Outcome::Ok => "ok".to_string(),
        Outcome::Exit { code, message } if message.trim().is_empty() => {
            format!("exit status {code}")
        }
        Outcome::Exit { code, message } => format!("exit status {code}: {message}"),
        Outcome::Signal { signal, name } => format!("killed by {name} (signal {signal})"),
        Outcome::Trap { message } => format!("trap: {message}"),
        Outcome::Timeout { timeout_ms } => format!("timed out after {timeout_ms} ms"),
        Outcome::BadOutput { message } => format!("bad output: {message}"),
        Outcome::ChecksumMismatch { expected, actual } => {
            format!("checksum {actual}, expected {expected}")
        }
        Outcome::Unavailable { reason } => format!("unavailable: {reason}"),
        Outcome::SpawnFailed { message } => format!("could not start: {message}"),
    };
    let line = text.lines().next().unwrap_or("").trim_end();
    if line.chars().count() > MAX_REASON_CHARS {
        let cut: String = line.chars().take(MAX_REASON_CHARS).collect();
        format!("{cut}…")
    } else {
        line.to_string()
    }
}

/// Every cell's ratios to the baseline cell of its kernel × dataset, with
/// the bootstrap replicates behind each interval.
///
/// A ratio is paired by round when the runs came in rounds and both cells
/// have a verified run in exactly the same rounds; a cell that lost runs to
/// failures is resampled unpaired rather than on a subset.
fn ratios_against(
    cells: &[CellSummary],
    samples: &Samples,
    baseline: &str,
    rounds: bool,
    bootstrap: &Bootstrap,
) -> Vec<(RatioRow, RatioEstimate)> {
    let base: BTreeMap<(&str, Dataset), &CellKey> = cells
        .iter()
        .filter(|c| c.key.runtime_label() == baseline)
        .map(|c| ((c.key.kernel.as_str(), c.key.dataset), &c.key))
        .collect();
    let mut rows = Vec::new();
    for cell in cells.iter().filter(|c| c.key.runtime_label() != baseline) {
        let Some(base) = base.get(&(cell.key.kernel.as_str(), cell.key.dataset)) else {
            continue;
        };
        for metric in RATIO_METRICS {
            let num = samples.get(&cell.key).and_then(|m| m.get(metric));
            let den = samples.get(*base).and_then(|m| m.get(metric));
            let (Some(num), Some(den)) = (num, den) else {
                continue;
            };
            let stream = format!("{} ÷ {baseline}/{metric}", cell.key.label());
            let Some(estimate) =
                ratio_of_medians(&values(num), &values(den), rounds && same_rounds(num, den), bootstrap, &stream)
            else {
                continue;
            };
            let row = RatioRow {
                kernel: cell.key.kernel.clone(),
                dataset: cell.key.dataset,
                runtime: cell.key.runtime_label(),
                metric: metric.to_string(),
                ratio: estimate.ratio.clone(),
            };
            rows.push((row, estimate));
        }
    }
    rows
}

/// Geometric means over the benchmark kernels; the start-up kernel has its
/// ratios but is left out here (an empty `main` is not code to average).
fn geomeans_of(estimates: &[(RatioRow, RatioEstimate)]) -> Vec<GeoMeanRow> {
    type Group<'a> = (Vec<f64>, Vec<Option<&'a [f64]>>);
    let mut groups: BTreeMap<(&str, Dataset, &str), Group> = BTreeMap::new();
    for (row, estimate) in estimates.iter().filter(|(r, _)| r.kernel != edgebench_model::suite::STARTUP_KERNEL) {
        let (ratios, replicates) = groups.entry((row.runtime.as_str(), row.dataset, row.metric.as_str())).or_default();
        ratios.push(row.ratio.value);
        replicates.push(estimate.replicates.as_deref());
    }
    groups
        .into_iter()
        .filter_map(|((runtime, dataset, metric), (ratios, replicates))| {
            let replicates: Option<Vec<&[f64]>> = replicates.into_iter().collect();
            let geomean = geometric_mean(&ratios, replicates.as_deref())?;
            Some(GeoMeanRow { runtime: runtime.to_string(), dataset, metric: metric.to_string(), geomean })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use edgebench_model::executor::PeakMemory;

    use super::*;

    const A: &str = "00000000000000aa";
    const B: &str = "00000000000000bb";
    const C: &str = "00000000000000cc";

    const NATIVE: (&str, &str) = ("native", "O2");
    const WASMTIME: (&str, &str) = ("wasmtime", "cranelift");
    const WASMER: (&str, &str) = ("wasmer", "llvm");
    const DOCKER: (&str, &str) = ("docker", "default");

    fn native() -> Options<'static> {
        Options::new(Some("native/O2"))
    }

    /// Appends records in run order; every run is ok unless changed after.
    /// A cell's measured runs are its rounds 0, 1, 2, …
    struct Runs(Vec<RunRecord>);

    impl Runs {
        fn add(
            &mut self,
            kernel: &str,
            dataset: Dataset,
            (runtime, variant): (&str, &str),
            wall_us: u64,
            checksum: Option<&str>,
        ) -> &mut RunRecord {
            let run = self.0.len();
            let mut record = RunRecord::for_test(kernel, dataset, runtime, variant, run);
            record.plan_id = "test-plan".into();
            record.started_unix_ms = 1_700_000_000_000 + run as u64;
            record.wall_ns = wall_us * 1000;
            record.user_ns = wall_us * 500;
            record.max_rss_kib = 1024;
            record.checksum = checksum.map(str::to_string);
            record.repetition = self.0.iter().filter(|r| r.label() == record.label() && !r.warmup).count() as u32;
            self.0.push(record);
            let last = self.0.len() - 1;
            &mut self.0[last]
        }

        /// A run with a kernel timing and a resident set size as well.
        fn timed(
            &mut self,
            kernel: &str,
            dataset: Dataset,
            rt: (&str, &str),
            (wall_us, kernel_us, rss_kib): (u64, u64, u64),
            checksum: &str,
        ) -> &mut RunRecord {
            let r = self.add(kernel, dataset, rt, wall_us, Some(checksum));
            r.kernel_ns = Some(kernel_us * 1000);
            r.max_rss_kib = rss_kib;
            r
        }
    }

    fn fail(r: &mut RunRecord, outcome: Outcome) -> &mut RunRecord {
        r.outcome = outcome;
        r.checksum = None;
        r.kernel_ns = None;
        r
    }

    fn records() -> Vec<RunRecord> {
        use Dataset::{Medium, Mini, Small};
        let mut runs = Runs(Vec::new());
        let r = &mut runs;

        // gemm/small: wasmtime is exactly twice as slow and as big as native.
        r.timed("gemm", Small, NATIVE, (500_000, 1, 9999), A).warmup = true;
        for (wall, kernel) in [(10_000, 8_000), (11_000, 9_000), (12_000, 10_000)] {
            r.timed("gemm", Small, NATIVE, (wall, kernel, 2048), A);
        }
        // A warm-up with a wrong checksum is neither a failure nor a vote.
        r.timed("gemm", Small, WASMTIME, (900_000, 1, 9999), B).warmup = true;
        for (i, (wall, kernel)) in [(20_000, 16_000), (22_000, 18_000), (24_000, 20_000)].into_iter().enumerate() {
            let run = r.timed("gemm", Small, WASMTIME, (wall, kernel, 4096), A);
            run.phases.insert("compile".into(), 2_000_000 + 1_000_000 * i as u64);
        }
        r.timed("gemm", Small, WASMTIME, (1_000_000, 1, 4096), B);
        fail(r.add("gemm", Small, WASMTIME, 5_000_000, None), Outcome::Timeout { timeout_ms: 5000 });
        // gemm/small on wasmer: nothing works.
        let trap = || Outcome::Trap { message: "wasm trap: unreachable\n  0: backtrace frame".into() };
        fail(r.add("gemm", Small, WASMER, 1, None), trap()).warmup = true;
        fail(r.add("gemm", Small, WASMER, 1, None), trap());
        let oom = Outcome::Exit { code: 1, message: "out of memory".into() };
        fail(r.add("gemm", Small, WASMER, 1, None), oom);
        fail(r.add("gemm", Small, WASMER, 1, None), trap());

        // atax/small: wasmtime is 1.2 × native in time, 3 × in memory.
        for (wall, kernel) in [(5_000, 4_000), (5_500, 4_400), (6_000, 4_800)] {
            r.timed("atax", Small, NATIVE, (wall, kernel, 1024), C);
        }
        for (wall, kernel) in [(6_000, 4_800), (6_600, 5_280), (7_200, 5_760)] {
            r.timed("atax", Small, WASMTIME, (wall, kernel, 3072), C);
        }
        // A container: the cgroup's peak memory, 3 and 5 MiB.
        for (wall, mib) in [(50_000, 3), (60_000, 5)] {
            let run = r.timed("atax", Small, DOCKER, (wall, wall, 1024), C);
            run.peak_memory = Some(PeakMemory { bytes: mib << 20, method: "cgroup-v2 memory.peak".into() });
        }

        // startup/mini reports no checksum and no kernel time.
        for wall in [1_000, 1_200] {
            r.add("startup", Mini, NATIVE, wall, None);
        }
        for wall in [3_000, 3_300, 3_600] {
            r.add("startup", Mini, WASMTIME, wall, None);
        }

        // Medium: references without (agreeing) native runs.
        // mvt: no native at all; C outvotes B.
        for c in [C, C, B] {
            r.add("mvt", Medium, WASMTIME, 1_000, Some(c));
        }
        // bicg: one vote each; the smaller checksum wins the tie.
        r.add("bicg", Medium, WASMTIME, 1_000, Some(C));
        r.add("bicg", Medium, WASMER, 1_000, Some(B));
        // trmm: native disagrees with itself; B has two votes to A's one.
        r.add("trmm", Medium, NATIVE, 1_000, Some(A));
        r.add("trmm", Medium, NATIVE, 1_000, Some(B));
        r.add("trmm", Medium, WASMTIME, 2_000, Some(B));
        runs.0
    }

    fn key(kernel: &str, dataset: Dataset, (runtime, variant): (&str, &str)) -> CellKey {
        CellKey { kernel: kernel.into(), dataset, runtime: runtime.into(), variant: variant.into() }
    }

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    fn mean(cell: &CellSummary, metric: &str) -> f64 {
        cell.metric(metric).unwrap_or_else(|| panic!("{} lacks {metric}", cell.key.label())).mean
    }

    fn ratio<'a>(a: &'a Analysis, kernel: &str, rt: &str, metric: &str) -> &'a Ratio {
        let row = a.ratios.iter().find(|r| r.kernel == kernel && r.runtime == rt && r.metric == metric);
        &row.unwrap_or_else(|| panic!("no {metric} ratio for {kernel} {rt}")).ratio
    }

    fn geomean<'a>(a: &'a Analysis, rt: &str, dataset: Dataset, metric: &str) -> &'a GeoMean {
        let row = a.geomeans.iter().find(|g| g.runtime == rt && g.dataset == dataset && g.metric == metric);
        &row.unwrap_or_else(|| panic!("no {metric} geomean for {rt} {dataset}")).geomean
    }

    #[test]
    fn labels() {
        let k = key("gemm", Dataset::Small, WASMTIME);
        assert_eq!(k.label(), "gemm/small/wasmtime/cranelift");
        assert_eq!(k.runtime_label(), "wasmtime/cranelift");
        assert_eq!(phase_metric("compile"), "phase_compile_ms");
    }

    #[test]
    fn cells_are_sorted_and_counts_add_up() {
        let a = analyse(&records(), &native());
        let keys: Vec<&CellKey> = a.cells.iter().map(|c| &c.key).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        assert_eq!(a.cells.len(), 13);
        for c in &a.cells {
            let failed: usize = c.failures.values().sum();
            assert_eq!(c.measured_runs, c.ok_runs + failed, "{}", c.key.label());
        }
    }

    #[test]
    fn native_cell() {
        let a = analyse(&records(), &native());
        let c = a.cell(&key("gemm", Dataset::Small, NATIVE)).expect("cell");
        assert_eq!((c.measured_runs, c.ok_runs, c.warmup_runs), (3, 3, 1));
        assert!(c.failures.is_empty() && c.failure_examples.is_empty());
        assert_eq!(c.checksum.as_deref(), Some(A));
        assert_eq!(c.reference_checksum.as_deref(), Some(A));
        assert_eq!(c.reference_source, Some(ReferenceSource::Native));
        // The 500 ms warm-up is not in the wall time.
        let wall = c.metric(WALL_MS).expect("wall");
        assert_eq!(wall.n, 3);
        assert!(close(wall.mean, 11.0, 1e-12) && close(wall.max, 12.0, 1e-12));
        assert!(close(mean(c, KERNEL_MS), 9.0, 1e-12));
        assert!(close(mean(c, MAX_RSS_MIB), 2.0, 1e-12));
        assert!(close(mean(c, USER_MS), 5.5, 1e-12));
        assert_eq!(mean(c, SYS_MS), 0.0);
        assert!(c.metric(PEAK_MEMORY_MIB).is_none());
    }

    #[test]
    fn mismatches_and_timeouts_are_failures_outside_the_metrics() {
        let a = analyse(&records(), &native());
        let c = a.cell(&key("gemm", Dataset::Small, WASMTIME)).expect("cell");
        assert_eq!((c.measured_runs, c.ok_runs, c.warmup_runs), (5, 3, 1));
        let want: BTreeMap<String, usize> = [(CHECKSUM_MISMATCH.to_string(), 1), ("timeout".to_string(), 1)].into();
        assert_eq!(c.failures, want);
        assert_eq!(
            c.failure_examples,
            [format!("checksum {B} differs from the reference {A} (native)"), "timed out after 5000 ms".to_string()]
        );
        // Neither the 1 s mismatched run nor the 5 s timeout is in the mean.
        let wall = c.metric(WALL_MS).expect("wall");
        assert_eq!(wall.n, 3);
        assert!(close(wall.mean, 22.0, 1e-12) && close(wall.max, 24.0, 1e-12));
        assert!(close(mean(c, &phase_metric("compile")), 3.0, 1e-12));
        assert_eq!(c.checksum.as_deref(), Some(A));
        assert_eq!(c.reference_checksum.as_deref(), Some(A));
    }

    #[test]
    fn a_cell_where_everything_failed() {
        let a = analyse(&records(), &native());
        let c = a.cell(&key("gemm", Dataset::Small, WASMER)).expect("cell");
        assert_eq!((c.measured_runs, c.ok_runs, c.warmup_runs), (3, 0, 1));
        let want: BTreeMap<String, usize> = [("trap".to_string(), 2), ("exit".to_string(), 1)].into();
        assert_eq!(c.failures, want);
        // Distinct reasons only, first line only.
        assert_eq!(c.failure_examples, ["trap: wasm trap: unreachable", "exit status 1: out of memory"]);
        assert!(c.metrics.is_empty());
        assert_eq!(c.checksum, None);
        // The kernel × dataset has a reference even if this cell never got near it.
        assert_eq!(c.reference_checksum.as_deref(), Some(A));
        assert!(a.ratios.iter().all(|r| r.runtime != "wasmer/llvm" || r.dataset != Dataset::Small));
    }

    #[test]
    fn kernels_without_a_checksum_are_not_checked() {
        let a = analyse(&records(), &native());
        let c = a.cell(&key("startup", Dataset::Mini, WASMTIME)).expect("cell");
        assert_eq!((c.measured_runs, c.ok_runs), (3, 3));
        assert_eq!((c.checksum.as_deref(), c.reference_checksum.as_deref(), c.reference_source), (None, None, None));
        assert!(close(mean(c, WALL_MS), 3.3, 1e-12));
        assert!(c.metric(KERNEL_MS).is_none());
        // Wall time is still compared; the kernel time is not there to be.
        assert!(close(ratio(&a, "startup", "wasmtime/cranelift", WALL_MS).value, 3.0, 1e-12));
        assert!(!a.ratios.iter().any(|r| r.kernel == "startup" && r.metric == KERNEL_MS));
    }

    #[test]
    fn references_without_an_agreeing_native_run() {
        let a = analyse(&records(), &native());
        let medium = |kernel, rt| a.cell(&key(kernel, Dataset::Medium, rt)).expect("cell");

        let mvt = medium("mvt", WASMTIME);
        assert_eq!(mvt.reference_checksum.as_deref(), Some(C));
        assert_eq!(mvt.reference_source, Some(ReferenceSource::MostCommon));
        assert_eq!((mvt.ok_runs, mvt.failures.get(CHECKSUM_MISMATCH)), (2, Some(&1)));
        assert_eq!(
            mvt.failure_examples,
            [format!("checksum {B} differs from the reference {C} (most common; no native reference)")]
        );

        // One vote each: the lexicographically smaller checksum is the reference.
        let bicg = medium("bicg", WASMTIME);
        assert_eq!(bicg.reference_checksum.as_deref(), Some(B));
        assert_eq!((bicg.ok_runs, bicg.failures.get(CHECKSUM_MISMATCH)), (0, Some(&1)));
        assert_eq!(bicg.checksum.as_deref(), Some(C));
        assert_eq!(medium("bicg", WASMER).ok_runs, 1);

        // Native disagreed with itself, so it is held to the majority too.
        let trmm = medium("trmm", NATIVE);
        assert_eq!(trmm.reference_checksum.as_deref(), Some(B));
        assert_eq!(trmm.reference_source, Some(ReferenceSource::MostCommonNativeDisagreed));
        assert_eq!((trmm.measured_runs, trmm.ok_runs), (2, 1));
        // One run each side: a ratio, but no interval.
        let r = ratio(&a, "trmm", "wasmtime/cranelift", WALL_MS);
        assert!(close(r.value, 2.0, 1e-12));
        assert_eq!(r.ci95, None);
    }

    /// A revision may change what a kernel computes: in a same-session A/B
    /// of two revisions each side's runs agree among themselves.
    #[test]
    fn each_revision_side_has_its_own_reference() {
        let mut runs = Runs(Vec::new());
        for _ in 0..3 {
            runs.timed("gemm", Dataset::Small, ("native", "default@base"), (10_000, 8_000, 1024), A);
            runs.timed("gemm", Dataset::Small, ("native", "default@head"), (9_000, 7_000, 1024), B);
            runs.timed("gemm", Dataset::Small, ("wasmtime", "aot@head"), (12_000, 9_000, 1024), B);
        }
        runs.timed("gemm", Dataset::Small, ("wasmtime", "aot@head"), (12_000, 9_000, 1024), A);
        let a = analyse(&runs.0, &Options::new(Some("native/default@head")));
        let cell = |runtime: &'static str, variant: &'static str| {
            a.cell(&key("gemm", Dataset::Small, (runtime, variant))).unwrap()
        };
        assert_eq!(
            (cell("native", "default@base").ok_runs, cell("native", "default@base").reference_checksum.as_deref()),
            (3, Some(A))
        );
        assert_eq!(
            (cell("native", "default@head").ok_runs, cell("native", "default@head").reference_checksum.as_deref()),
            (3, Some(B))
        );
        // The head's reference is the head's native checksum, not the base's.
        assert_eq!(cell("wasmtime", "aot@head").failures.get(CHECKSUM_MISMATCH), Some(&1));
    }

    #[test]
    fn executor_peak_memory() {
        let a = analyse(&records(), &native());
        let c = a.cell(&key("atax", Dataset::Small, DOCKER)).expect("cell");
        let peak = c.metric(PEAK_MEMORY_MIB).expect("peak memory");
        assert_eq!((peak.n, peak.min, peak.max), (2, 3.0, 5.0));
        assert!(close(peak.mean, 4.0, 1e-12));
        // The workload's peak is the container's, not the client's RSS; for
        // a runtime without an executor-measured peak it is the max RSS.
        assert_eq!(c.metric(WORKLOAD_PEAK_MIB), Some(peak));
        assert_ne!(c.metric(MAX_RSS_MIB), Some(peak));
        let native = a.cell(&key("atax", Dataset::Small, NATIVE)).expect("cell");
        assert_eq!(native.metric(WORKLOAD_PEAK_MIB), native.metric(MAX_RSS_MIB));
    }

    #[test]
    fn ratios_of_medians_against_the_baseline() {
        let a = analyse(&records(), &native());
        assert_eq!(a.baseline.as_deref(), Some("native/O2"));
        assert!(a.ratios.iter().all(|r| r.runtime != "native/O2"));

        // gemm: wasmtime's verified runs (rounds 0–2) are exactly twice
        // native's in the same rounds, so paired resampling never moves the
        // ratio of medians: 22 ÷ 11.
        let wall = ratio(&a, "gemm", "wasmtime/cranelift", WALL_MS);
        assert_eq!((wall.value, wall.ci95, wall.paired), (2.0, Some((2.0, 2.0)), true));
        let kernel = ratio(&a, "gemm", "wasmtime/cranelift", KERNEL_MS);
        assert_eq!((kernel.value, kernel.paired), (2.0, true));
        let rss = ratio(&a, "gemm", "wasmtime/cranelift", WORKLOAD_PEAK_MIB);
        assert_eq!(rss.ci95, Some((2.0, 2.0)));
        let atax = ratio(&a, "atax", "wasmtime/cranelift", WALL_MS);
        assert!(close(atax.value, 1.2, 1e-12));

        // docker ran two rounds to native's three: resampled unpaired,
        // 55 ÷ 5.5, and the interval shows both sides' spread.
        let docker = ratio(&a, "atax", "docker/default", WALL_MS);
        assert!(close(docker.value, 10.0, 1e-12) && !docker.paired);
        let (lo, hi) = docker.ci95.expect("n ≥ 2 each");
        assert!(lo >= 50.0 / 6.0 - 1e-12 && hi <= 60.0 / 5.0 + 1e-12 && lo < 10.0 && hi > 10.0, "{lo} {hi}");

        // startup: medians 3.3 and 1.1.
        assert!(close(ratio(&a, "startup", "wasmtime/cranelift", WALL_MS).value, 3.0, 1e-12));
        // The same seed gives the same intervals, and the seed is recorded.
        assert_eq!(analyse(&records(), &native()), a);
        assert_eq!(analyse(&records(), &Options { seed: 7, ..native() }).bootstrap.seed, 7);
    }

    #[test]
    fn geometric_means_over_kernels() {
        let a = analyse(&records(), &native());
        // gemm 2 and atax 1.2 in both wall and kernel time. SciPy 1.17.1:
        // stats.gmean([2, 1.2]) and exp(mean(ln r) ± t.ppf(0.975, 1) · sd(ln r) / √2).
        for metric in [WALL_MS, KERNEL_MS] {
            let g = geomean(&a, "wasmtime/cranelift", Dataset::Small, metric);
            assert_eq!(g.n, 2);
            assert!(close(g.value, 1.5491933384829666, 1e-9), "{metric} {}", g.value);
            let (lo, hi) = g.across_kernels_ci95.expect("n = 2");
            assert!(close(lo, 0.060350073632363894, 1e-6) && close(hi, 39.76797136355032, 1e-6), "{lo} {hi}");
            // Both kernels' ratios were exact in every round: measured
            // precisely, however much the kernels differ.
            let (lo, hi) = g.measurement_ci95.expect("every kernel resampled");
            assert!(close(lo, g.value, 1e-12) && close(hi, g.value, 1e-12), "{lo} {hi}");
        }
        // Memory: 2 and 3, so √6 = 2.449489742783178.
        let g = geomean(&a, "wasmtime/cranelift", Dataset::Small, WORKLOAD_PEAK_MIB);
        assert!(close(g.value, 2.449489742783178, 1e-9));
        let (lo, hi) = g.across_kernels_ci95.expect("n = 2");
        assert!(close(lo, 0.1863587678194832, 1e-6) && close(hi, 32.19596303519195, 1e-6), "{lo} {hi}");
        // One kernel only: no interval across kernels.
        let docker = geomean(&a, "docker/default", Dataset::Small, WALL_MS);
        assert_eq!((docker.n, docker.across_kernels_ci95), (1, None));
        assert!(docker.measurement_ci95.is_some());
        // Datasets stay apart: trmm is Medium, one run a side, so neither
        // interval. Startup (Mini) has ratios but no geometric mean.
        let trmm = geomean(&a, "wasmtime/cranelift", Dataset::Medium, WALL_MS);
        assert_eq!((trmm.n, trmm.measurement_ci95), (1, None));
        assert!(!a.geomeans.iter().any(|g| g.dataset == Dataset::Mini), "{:?}", a.geomeans);
        // The failed wasmer cell has no ratio, hence no geometric mean.
        assert!(a.geomeans.iter().all(|g| g.runtime != "wasmer/llvm"));
    }

    #[test]
    fn rounds_are_read_only_when_the_runs_came_in_rounds() {
        let a = analyse(&records(), &native());
        assert!(a.rounds_paired);
        assert_eq!(a.round_shifts.iter().map(|r| r.round).collect::<Vec<_>>(), [0, 1, 2]);
        let sequential = analyse(&records(), &Options { rounds: false, ..native() });
        assert!(sequential.round_shifts.is_empty());
        assert!(sequential.ratios.iter().all(|r| !r.ratio.paired));
        assert_eq!(sequential.cells, a.cells);
    }

    #[test]
    fn no_baseline_no_ratios() {
        let records = records();
        let a = analyse(&records, &Options::new(None));
        assert!(a.ratios.is_empty() && a.geomeans.is_empty() && a.baseline.is_none());
        assert_eq!(a.cells, analyse(&records, &native()).cells);
        let b = analyse(&records, &Options::new(Some("nonexistent/x")));
        assert!(b.ratios.is_empty() && b.geomeans.is_empty());
        assert_eq!(default_baseline(&records).as_deref(), Some("native/O2"));
    }

    #[test]
    fn default_baseline_needs_a_single_native_variant() {
        let mut runs = Runs(Vec::new());
        runs.add("k", Dataset::Mini, WASMTIME, 1, None);
        assert_eq!(default_baseline(&runs.0), None);
        runs.add("k", Dataset::Mini, ("native", "O3"), 1, None);
        runs.add("k", Dataset::Mini, ("native", "O3"), 1, None);
        assert_eq!(default_baseline(&runs.0).as_deref(), Some("native/O3"));
        runs.add("k", Dataset::Mini, ("native", "Os"), 1, None);
        assert_eq!(default_baseline(&runs.0), None);
    }

    #[test]
    fn nothing_in_nothing_out() {
        let a = analyse(&[], &native());
        assert!(a.cells.is_empty() && a.ratios.is_empty() && a.geomeans.is_empty());
    }

    #[test]
    fn order_of_the_input_does_not_matter() {
        let records = records();
        let mut reversed = records.clone();
        reversed.reverse();
        assert_eq!(analyse(&reversed, &native()), analyse(&records, &native()));
    }

    #[test]
    fn survives_a_json_round_trip() {
        let a = analyse(&records(), &native());
        let json = serde_json::to_string_pretty(&a).expect("serialize");
        let back: Analysis = serde_json::from_str(&json).expect("parse");
        assert_eq!(back, a);
    }

    #[test]
    fn long_reasons_are_cut() {
        let message = "x".repeat(500);
        let reason = failure_reason(&Outcome::BadOutput { message });
        assert_eq!(reason.chars().count(), MAX_REASON_CHARS + 1);
        assert!(reason.starts_with("bad output: xxx") && reason.ends_with('…'));
        assert_eq!(failure_reason(&Outcome::Exit { code: 2, message: " ".into() }), "exit status 2");
        let signal = Outcome::Signal { signal: 11, name: "SIGSEGV".into() };
        assert_eq!(failure_reason(&signal), "killed by SIGSEGV (signal 11)");
    }
}
