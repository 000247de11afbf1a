//! Pipelines (`pipelines/<name>.yaml`): which kernels, datasets and runtimes
//! to run, how often, and in which order. Everything is validated before
//! anything is built or run; each error names the file, line and column and,
//! for a misspelt name, the closest valid one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow, bail};
use edgebench_model::Dataset;
use edgebench_model::manifest::{ArtifactKind, Manifest};
pub use edgebench_model::plan::Order;
use edgebench_model::plan::{Adaptive, Invocation};
use edgebench_model::suite::{Kernel, Suite};
use edgebench_model::workload::Arguments;
use serde::Deserialize;
use serde_saphyr::{Location, Spanned};

use crate::planning::runtime::{self, Runtime};
use crate::planning::suggestions;
use crate::planning::suite;
use crate::planning::yaml;
use crate::project;
use crate::toolchain::polybench;
use crate::toolchain::programs::{self, Program};

mod workloads;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PipelineFile {
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    suite: Option<SuiteEntry>,
    #[serde(default)]
    kernels: Vec<Spanned<String>>,
    #[serde(default)]
    workloads: Vec<workloads::WorkloadEntry>,
    datasets: Vec<Spanned<String>>,
    runtimes: Vec<RuntimeEntry>,
    repetitions: Spanned<u32>,
    #[serde(default)]
    adaptive: Option<Spanned<AdaptiveEntry>>,
    #[serde(default)]
    warmups: Option<Spanned<u32>>,
    timeout_s: Spanned<f64>,
    #[serde(default)]
    memory_limit_mib: Option<Spanned<u64>>,
    #[serde(default)]
    cpus: Option<Vec<Spanned<u64>>>,
    #[serde(default)]
    instructions: Option<Spanned<String>>,
    #[serde(default)]
    baseline: Option<Spanned<String>>,
    #[serde(default)]
    order: Order,
    #[serde(default)]
    seed: Option<u64>,
}

/// `adaptive: { precision: 0.02, max_repetitions: 200 }`: rounds beyond
/// `repetitions` until every primary cell is known to within `precision`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AdaptiveEntry {
    precision: Spanned<f64>,
    max_repetitions: Spanned<u32>,
}

/// External kernel suites, by path to the user's checkout (relative to the
/// pipeline's directory).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SuiteEntry {
    polybench: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuntimeEntry {
    runtime: Spanned<String>,
    #[serde(default)]
    variants: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    options: BTreeMap<String, Spanned<String>>,
}

/// Measured runs per cell, at most.
const MAX_REPETITIONS: u32 = 100_000;
/// The least rounds of an adaptive plan: a 95 % interval of a median from
/// order statistics needs six.
const MIN_ADAPTIVE_REPETITIONS: u32 = 6;
/// CPU numbers above this are not CPUs (Linux's `cpu_set_t` holds 1 024).
const MAX_CPU: u64 = 1024;
/// A memory cap above 4 TiB caps nothing a device has.
const MAX_MEMORY_LIMIT_MIB: u64 = 4 << 20;
/// Unmeasured runs per cell, at most.
const MAX_WARMUPS: u32 = 1_000;
/// Runs in one plan, at most (every run is a record, a line of progress and
/// a row of the analysis).
pub const MAX_RUNS: u64 = 1_000_000;

/// A validated pipeline.
#[derive(Debug, Clone)]
pub struct Pipeline {
    pub name: String,
    pub description: Option<String>,
    pub kernels: Vec<Kernel>,
    pub datasets: Vec<Dataset>,
    pub runtimes: Vec<RuntimeUse>,
    /// Measured runs per cell: with `adaptive`, at the least.
    pub repetitions: u32,
    pub adaptive: Option<Adaptive>,
    pub warmups: u32,
    pub timeout_ms: u64,
    pub memory_limit: Option<u64>,
    /// CPUs to pin the measured runs to.
    pub cpus: Option<Vec<usize>>,
    /// Count every run's instructions with valgrind's callgrind.
    pub callgrind: bool,
    /// `runtime/variant` the ratios are taken against.
    pub baseline: Option<String>,
    pub order: Order,
    pub seed: Option<u64>,
    /// The file as it was read.
    pub text: String,
}

/// One runtime variant of a pipeline.
#[derive(Clone)]
pub struct RuntimeUse {
    pub runtime: &'static dyn Runtime,
    pub variant: String,
    pub options: runtime::Options,
}

impl std::fmt::Debug for RuntimeUse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.runtime.name(), self.variant)
    }
}

impl RuntimeUse {
    pub fn label(&self) -> String {
        format!("{}/{}", self.runtime.name(), self.variant)
    }

    /// The runtime's own variant name and whether it runs the SIMD build.
    pub fn split(&self) -> (&str, bool) {
        runtime::split_simd(&self.variant)
    }

    /// The kinds of kernel artifact its cells run.
    pub fn artifacts(&self) -> Vec<ArtifactKind> {
        let (variant, simd) = self.split();
        self.runtime.artifacts(variant).iter().map(|kind| kind.with_simd(simd)).collect()
    }

    /// The device programs it needs.
    pub fn programs(&self) -> &'static [&'static Program] {
        let (variant, simd) = self.split();
        self.runtime.programs(variant, simd)
    }

    /// The command that must succeed on the device before its cells run.
    pub fn probe(&self, manifest: &Manifest) -> Option<Invocation> {
        let (variant, simd) = self.split();
        self.runtime.probe(variant, simd, &self.options, manifest)
    }
}

/// The harness and every device program the runtime variants need, in
/// [`programs::ALL`] order.
pub fn programs_of<'a>(uses: impl IntoIterator<Item = &'a RuntimeUse>) -> Vec<&'static Program> {
    let wanted: Vec<&'static Program> = uses.into_iter().flat_map(|r| r.programs().iter().copied()).collect();
    programs::ALL.iter().copied().filter(|p| **p == programs::HARNESS || wanted.contains(p)).collect()
}

/// Names that become parts of paths, file names, CSV fields and Markdown:
/// letters, digits, `.`, `_` and `-`, starting with a letter or digit, at
/// most 64 characters.
pub fn check_name(what: &str, name: &str) -> Result<(), String> {
    let ok_start = name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
    let ok_chars = name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok_start && ok_chars && name.len() <= 64 {
        return Ok(());
    }
    Err(format!(
        "{what} `{name}` must be 1 to 64 letters, digits, `.`, `_` or `-`, starting with a letter or digit \
         (it becomes part of paths, CSV and Markdown)"
    ))
}

/// Finds a pipeline by name (`pipelines/<name>.yaml`) or path.
pub fn locate(name_or_path: &str) -> Result<PathBuf> {
    let as_path = Path::new(name_or_path);
    let path = if name_or_path.ends_with(".yaml") || name_or_path.ends_with(".yml") || name_or_path.contains('/') {
        if !as_path.exists() {
            bail!("pipeline file {} does not exist", as_path.display());
        }
        as_path.to_path_buf()
    } else {
        let path = project::pipelines_dir().join(format!("{name_or_path}.yaml"));
        if name_or_path == TARGETS || !path.exists() {
            let names = available()?;
            let unknown = suggestions::unknown("pipeline", name_or_path, names.iter().map(String::as_str));
            if name_or_path == TARGETS {
                bail!("{unknown} (pipelines/targets.yaml defines targets, for --target)");
            }
            bail!(unknown);
        }
        path
    };
    if !path.is_file() {
        bail!("{} is not a file; name a pipeline (`pipelines/<name>.yaml`) or a YAML file", path.display());
    }
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
    check_name("pipeline name", stem).map_err(|e| anyhow!("{}: {e}; rename the file", path.display()))?;
    Ok(path)
}

/// The targets file beside the pipelines, which is not one.
const TARGETS: &str = "targets";

/// The pipelines shipped in `pipelines/`.
pub fn available() -> Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(project::pipelines_dir())? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "yaml")
            && let Some(stem) = path.file_stem().and_then(|s| s.to_str())
            && stem != TARGETS
        {
            names.push(stem.to_string());
        }
    }
    names.sort();
    Ok(names)
}

pub fn load(name_or_path: &str, suite: &Suite) -> Result<Pipeline> {
    let path = locate(name_or_path)?;
    let bytes = std::fs::read(&path).map_err(|e| anyhow!("{}: {e}", path.display()))?;
    parse(&path, yaml::utf8(&path, &bytes)?, suite)
}

pub fn parse(path: &Path, text: &str, suite: &Suite) -> Result<Pipeline> {
    let file: PipelineFile = yaml::parse(path, text)?;
    let check = Check { path, text };
    let polybench = check.suite(file.suite.as_ref())?;
    let mut kernels = check.kernels(&file.kernels, suite, polybench.as_ref(), !file.workloads.is_empty())?;
    // A workload's name is no kernel's: `workloads` refuses our kernels'
    // names, and a PolyBench/C kernel's has a `/`, which a workload's cannot.
    kernels.extend(check.workloads(&file.workloads, suite)?);
    let datasets = check.datasets(&file.datasets)?;
    check.workload_datasets(&kernels, &datasets, &file.datasets)?;
    let runtimes = check.runtimes(&file.runtimes)?;
    let repetitions = check.repetitions(&file.repetitions)?;
    let warmups = check.warmups(file.warmups.as_ref())?;
    let adaptive = check.adaptive(file.adaptive.as_ref(), repetitions, file.order)?;
    let most = adaptive.as_ref().map_or(repetitions, |a| a.max_repetitions);
    check.total_runs(&kernels, datasets.len(), runtimes.len(), most + warmups, &file.repetitions)?;
    let timeout_ms = check.timeout(&file.timeout_s)?;
    let memory_limit = check.memory_limit(file.memory_limit_mib.as_ref())?;
    let cpus = check.cpus(file.cpus.as_deref())?;
    let callgrind = check.instructions(file.instructions.as_ref(), memory_limit)?;
    let baseline = check.baseline(file.baseline.as_ref(), &runtimes)?;
    Ok(Pipeline {
        name: path.file_stem().and_then(|s| s.to_str()).unwrap_or("pipeline").to_string(),
        description: file.description,
        kernels,
        datasets,
        runtimes,
        repetitions,
        adaptive,
        warmups,
        timeout_ms,
        memory_limit,
        cpus,
        callgrind,
        baseline,
        order: file.order,
        seed: file.seed,
        text: text.to_string(),
    })
}

/// The validators of a pipeline file's keys, one each; every error names
/// the file, line and column of the value at fault.
struct Check<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Check<'_> {
    fn err(&self, at: Location, msg: impl Into<String>) -> anyhow::Error {
        yaml::located(self.path, self.text, at, &msg.into())
    }

    /// `suite: { polybench: <path> }`, relative to the pipeline, like any
    /// path in it, not to where the command runs.
    fn suite(&self, entry: Option<&SuiteEntry>) -> Result<Option<Suite>> {
        let Some(entry) = entry else { return Ok(None) };
        let at = &entry.polybench;
        let given = Path::new(&at.value);
        let root = match self.path.parent() {
            Some(dir) if given.is_relative() => dir.join(given),
            _ => given.to_path_buf(),
        };
        polybench::open(&root).map(Some).map_err(|e| self.err(at.referenced, format!("{e:#}")))
    }

    /// Kernel names, categories or `all`, ours or the PolyBench/C suite's;
    /// each kernel once, in the order first named.
    fn kernels(
        &self,
        names: &[Spanned<String>],
        suite: &Suite,
        polybench: Option<&Suite>,
        has_workloads: bool,
    ) -> Result<Vec<Kernel>> {
        if names.is_empty() && !has_workloads {
            bail!(
                "{}: `kernels` is empty and there are no `workloads`; name kernels, categories or `all`, or define \
                 workloads",
                self.path.display()
            );
        }
        let mut kernels: Vec<Kernel> = Vec::new();
        for k in names {
            let chosen = if polybench::is_suite_name(&k.value) {
                let Some(external) = polybench else {
                    return Err(self.err(
                        k.referenced,
                        format!(
                            "`{}` names a kernel of the PolyBench/C suite; say where your checkout is with \
                             `suite: {{ polybench: <path to PolyBenchC-4.2.1> }}`",
                            k.value
                        ),
                    ));
                };
                suite::select_polybench(external, &k.value)
            } else {
                suite::select(suite, std::slice::from_ref(&k.value))
            };
            for kernel in chosen.map_err(|e| self.err(k.referenced, e.to_string()))? {
                if !kernels.iter().any(|c| c.name == kernel.name) {
                    kernels.push(kernel.clone());
                }
            }
        }
        Ok(kernels)
    }

    /// A workload with an argument set per dataset has one for every
    /// dataset the pipeline runs.
    fn workload_datasets(&self, kernels: &[Kernel], datasets: &[Dataset], at: &[Spanned<String>]) -> Result<()> {
        for kernel in kernels {
            let Some(Arguments::PerDataset(sets)) = kernel.workload.as_ref().map(|w| &w.args) else { continue };
            if let Some(missing) = datasets.iter().find(|d| !sets.contains_key(d)) {
                let given: Vec<String> = sets.keys().map(Dataset::to_string).collect();
                let where_ = at.iter().find(|d| d.value.trim() == missing.as_str()).or(at.first());
                let msg = format!(
                    "workload `{}` has no arguments for dataset `{missing}` (its `args_by_dataset` has {}); add a set \
                     or leave the dataset out",
                    kernel.name,
                    given.join(", ")
                );
                return Err(match where_ {
                    Some(d) => self.err(d.referenced, msg),
                    None => anyhow!("{}: {msg}", self.path.display()),
                });
            }
        }
        Ok(())
    }

    fn datasets(&self, names: &[Spanned<String>]) -> Result<Vec<Dataset>> {
        if names.is_empty() {
            bail!("{}: `datasets` is empty", self.path.display());
        }
        let mut datasets = Vec::new();
        for d in names {
            datasets.extend(
                suite::datasets(std::slice::from_ref(&d.value)).map_err(|e| self.err(d.referenced, e.to_string()))?,
            );
        }
        datasets.sort();
        datasets.dedup();
        Ok(datasets)
    }

    /// Every runtime variant, once each.
    fn runtimes(&self, entries: &[RuntimeEntry]) -> Result<Vec<RuntimeUse>> {
        if entries.is_empty() {
            bail!("{}: `runtimes` is empty", self.path.display());
        }
        let mut runtimes: Vec<RuntimeUse> = Vec::new();
        for entry in entries {
            let name = &entry.runtime;
            let rt = runtime::find(&name.value).ok_or_else(|| {
                self.err(name.referenced, suggestions::unknown("runtime", &name.value, runtime::names()))
            })?;
            let options = self.options(rt, &entry.options)?;
            for (variant, at) in self.variants(rt, entry)? {
                self.variant_name(rt, &variant, at)?;
                rt.check(&variant, &options).map_err(|e| self.err(at, e))?;
                let used = RuntimeUse { runtime: rt, variant, options: options.clone() };
                if runtimes.iter().any(|r| r.label() == used.label()) {
                    return Err(self.err(at, format!("`{}` is listed twice", used.label())));
                }
                runtimes.push(used);
            }
        }
        Ok(runtimes)
    }

    fn options(&self, rt: &dyn Runtime, given: &BTreeMap<String, Spanned<String>>) -> Result<runtime::Options> {
        let mut options = runtime::Options::new();
        for (key, value) in given {
            if !rt.options().contains(&key.as_str()) {
                let msg = if rt.options().is_empty() {
                    format!("runtime `{}` takes no options, but `{key}` is set", rt.name())
                } else {
                    suggestions::unknown(
                        &format!("option of runtime `{}`", rt.name()),
                        key,
                        rt.options().iter().copied(),
                    )
                };
                return Err(self.err(value.referenced, msg));
            }
            options.insert(key.clone(), value.value.clone());
        }
        Ok(options)
    }

    /// The variants named, or the runtime's default one.
    fn variants(&self, rt: &dyn Runtime, entry: &RuntimeEntry) -> Result<Vec<(String, Location)>> {
        let name = &entry.runtime;
        match &entry.variants {
            Some(vs) if vs.is_empty() => {
                Err(self.err(name.referenced, format!("`variants` of `{}` is empty", rt.name())))
            }
            Some(vs) => Ok(vs.iter().map(|v| (v.value.clone(), v.referenced)).collect()),
            None if rt.variants().is_empty() => {
                Err(self
                    .err(name.referenced, format!("runtime `{}` needs `variants` (names of your choice)", rt.name())))
            }
            None => Ok(vec![(rt.variants()[0].to_string(), name.referenced)]),
        }
    }

    /// A variant the runtime knows (any name for `command`), optionally with
    /// [`runtime::SIMD_SUFFIX`] where the engine runs Wasm SIMD.
    fn variant_name(&self, rt: &dyn Runtime, variant: &str, at: Location) -> Result<()> {
        let (base, simd) = runtime::split_simd(variant);
        if !rt.variants().is_empty() && !rt.variants().contains(&base) {
            let mut known: Vec<String> = rt.variants().iter().map(|v| v.to_string()).collect();
            known.extend(
                rt.variants().iter().filter(|v| rt.simd(v).is_ok()).map(|v| format!("{v}{}", runtime::SIMD_SUFFIX)),
            );
            return Err(self.err(
                at,
                suggestions::unknown(&format!("variant of `{}`", rt.name()), variant, known.iter().map(String::as_str)),
            ));
        }
        if simd {
            rt.simd(base).map_err(|e| self.err(at, format!("`{variant}` cannot run: {e}")))?;
        }
        check_name("variant name", base).map_err(|e| self.err(at, e))
    }

    fn repetitions(&self, repetitions: &Spanned<u32>) -> Result<u32> {
        if repetitions.value == 0 {
            return Err(self.err(repetitions.referenced, "`repetitions` must be at least 1"));
        }
        if repetitions.value > MAX_REPETITIONS {
            return Err(self.err(
                repetitions.referenced,
                format!("`repetitions` must be at most {MAX_REPETITIONS}, not {}", repetitions.value),
            ));
        }
        Ok(repetitions.value)
    }

    /// `adaptive`: a precision between 0 and 1 (exclusive), a maximum above
    /// `repetitions` (the minimum), and an order that runs in rounds.
    fn adaptive(
        &self,
        entry: Option<&Spanned<AdaptiveEntry>>,
        repetitions: u32,
        order: Order,
    ) -> Result<Option<Adaptive>> {
        let Some(entry) = entry else { return Ok(None) };
        let AdaptiveEntry { precision, max_repetitions } = &entry.value;
        if !(precision.value > 0.0 && precision.value < 1.0) {
            return Err(self.err(
                precision.referenced,
                format!(
                    "`precision` is the half-width of each primary cell's 95 % interval relative to its median, from 0 to 1 exclusive (0.02 = ±2 %), not {}",
                    precision.value
                ),
            ));
        }
        if repetitions < MIN_ADAPTIVE_REPETITIONS {
            return Err(self.err(
                entry.referenced,
                format!(
                    "with `adaptive`, `repetitions` is the least number of rounds and must be at least {MIN_ADAPTIVE_REPETITIONS} (fewer rounds give no 95 % interval of a median), not {repetitions}"
                ),
            ));
        }
        if max_repetitions.value <= repetitions || max_repetitions.value > MAX_REPETITIONS {
            return Err(self.err(
                max_repetitions.referenced,
                format!(
                    "`max_repetitions` must be above `repetitions` ({repetitions}) and at most {MAX_REPETITIONS}, not {}",
                    max_repetitions.value
                ),
            ));
        }
        if order == Order::Sequential {
            return Err(self.err(
                entry.referenced,
                "`adaptive` adds rounds, and `order: sequential` runs each cell's runs back to back, with no rounds: use `order: shuffled` (the default) or `interleaved`",
            ));
        }
        Ok(Some(Adaptive { precision: precision.value, max_repetitions: max_repetitions.value }))
    }

    /// `instructions: callgrind`, the one way of counting instructions a
    /// pipeline chooses (hardware counters are read wherever the device has
    /// them); callgrind needs the address space a memory cap would deny it.
    fn instructions(&self, instructions: Option<&Spanned<String>>, memory_limit: Option<u64>) -> Result<bool> {
        let Some(given) = instructions else { return Ok(false) };
        if given.value != "callgrind" {
            return Err(self.err(
                given.referenced,
                suggestions::unknown("way of counting instructions", &given.value, ["callgrind"])
                    + " (hardware counters need no key: they are read wherever the device has them)",
            ));
        }
        if memory_limit.is_some() {
            return Err(self.err(
                given.referenced,
                "`instructions: callgrind` cannot run under `memory_limit_mib`: valgrind needs the address space the cap denies; drop one of the two",
            ));
        }
        Ok(true)
    }

    fn warmups(&self, warmups: Option<&Spanned<u32>>) -> Result<u32> {
        match warmups {
            Some(w) if w.value > MAX_WARMUPS => Err(self.err(
                w.referenced,
                format!("`warmups` must be at most {MAX_WARMUPS} (unmeasured runs per cell), not {}", w.value),
            )),
            Some(w) => Ok(w.value),
            None => Ok(0),
        }
    }

    /// The plan's size, known before anything is built: a plan of millions
    /// of runs is a typo, and would take days.
    fn total_runs(
        &self,
        kernels: &[Kernel],
        datasets: usize,
        runtimes: usize,
        per_cell: u32,
        at: &Spanned<u32>,
    ) -> Result<()> {
        let cells: usize = kernels.iter().map(|k| if k.per_dataset() { datasets } else { 1 }).sum::<usize>() * runtimes;
        let runs = cells as u64 * u64::from(per_cell);
        if runs > MAX_RUNS {
            return Err(self.err(
                at.referenced,
                format!(
                    "the plan would hold {runs} runs ({cells} cells × {per_cell} runs each); at most {MAX_RUNS}: \
                     name fewer kernels, datasets or runtimes, or fewer repetitions"
                ),
            ));
        }
        Ok(())
    }

    /// `timeout_s` in milliseconds.
    fn timeout(&self, timeout_s: &Spanned<f64>) -> Result<u64> {
        let timeout = timeout_s.value;
        // Runs are timed out in whole milliseconds: less than one would
        // round to nothing and time every run out at random.
        if !(timeout.is_finite() && (0.001..=86_400.0).contains(&timeout)) {
            return Err(self.err(
                timeout_s.referenced,
                format!("`timeout_s` must be from 0.001 (a millisecond) to 86400 seconds, not {timeout}"),
            ));
        }
        Ok((timeout * 1000.0).round() as u64)
    }

    /// `cpus`: CPU numbers, distinct. Whether the device has them is
    /// checked on the device, before the first run.
    fn cpus(&self, cpus: Option<&[Spanned<u64>]>) -> Result<Option<Vec<usize>>> {
        let Some(cpus) = cpus else { return Ok(None) };
        if cpus.is_empty() {
            bail!("{}: `cpus` is empty; name at least one CPU, or leave it out", self.path.display());
        }
        let mut seen = Vec::new();
        for cpu in cpus {
            if cpu.value >= MAX_CPU {
                return Err(self
                    .err(cpu.referenced, format!("`cpus`: {} is not a CPU number (0 to {})", cpu.value, MAX_CPU - 1)));
            }
            if seen.contains(&(cpu.value as usize)) {
                return Err(self.err(cpu.referenced, format!("`cpus`: CPU {} is listed twice", cpu.value)));
            }
            seen.push(cpu.value as usize);
        }
        Ok(Some(seen))
    }

    /// `memory_limit_mib` in bytes.
    fn memory_limit(&self, mib: Option<&Spanned<u64>>) -> Result<Option<u64>> {
        match mib {
            Some(m) if !(1..=MAX_MEMORY_LIMIT_MIB).contains(&m.value) => Err(self.err(
                m.referenced,
                format!("`memory_limit_mib` must be from 1 to {MAX_MEMORY_LIMIT_MIB} (4 TiB), not {}", m.value),
            )),
            Some(m) => Ok(Some(m.value << 20)),
            None => Ok(None),
        }
    }

    /// The baseline as `runtime/variant`: one of the pipeline's runtime
    /// variants, named in full or by a runtime that has only one.
    fn baseline(&self, baseline: Option<&Spanned<String>>, runtimes: &[RuntimeUse]) -> Result<Option<String>> {
        let Some(b) = baseline else { return Ok(None) };
        let labels: Vec<String> = runtimes.iter().map(RuntimeUse::label).collect();
        let matched: Vec<&String> =
            labels.iter().filter(|l| **l == b.value || l.split('/').next() == Some(b.value.as_str())).collect();
        match matched.as_slice() {
            [one] => Ok(Some((*one).clone())),
            [] => Err(self.err(
                b.referenced,
                format!(
                    "{} (the baseline must be one of the pipeline's runtimes)",
                    suggestions::unknown("baseline", &b.value, labels.iter().map(String::as_str))
                ),
            )),
            _ => Err(self.err(
                b.referenced,
                format!("baseline `{}` is ambiguous; name a variant: {}", b.value, labels.join(", ")),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = "description: x\nkernels: [gemm, stencils, startup]\ndatasets: [mini, small]\nruntimes:\n  - runtime: native\n  - runtime: wasmtime\n    variants: [jit, aot]\n  - runtime: command\n    variants: [cli]\n    options: { template: \"wasmtime run {wasm}\" }\nrepetitions: 3\nwarmups: 1\ntimeout_s: 2.5\nmemory_limit_mib: 64\nbaseline: native\norder: interleaved\nseed: 9\n";

    #[test]
    fn a_valid_pipeline_expands_names_categories_and_defaults() {
        let suite = suite::load().unwrap();
        let p = parse(Path::new("p.yaml"), VALID, &suite).unwrap();
        assert_eq!(p.kernels.len(), 1 + 6 + 1);
        assert_eq!(p.datasets, [Dataset::Mini, Dataset::Small]);
        let labels: Vec<String> = p.runtimes.iter().map(RuntimeUse::label).collect();
        assert_eq!(labels, ["native/default", "wasmtime/jit", "wasmtime/aot", "command/cli"]);
        assert_eq!(p.timeout_ms, 2500);
        assert_eq!(p.memory_limit, Some(64 << 20));
        assert_eq!(p.baseline.as_deref(), Some("native/default"));
        assert_eq!(p.order, Order::Interleaved);
    }

    /// `+simd` runs the SIMD build under engines that have SIMD, and is
    /// refused, with the reason and where it was written, elsewhere.
    #[test]
    fn simd_variants_are_accepted_where_the_engine_has_simd_and_refused_elsewhere() {
        let suite = suite::load().unwrap();
        let with = |runtimes: &str| {
            let yaml =
                format!("kernels: [gemm]\ndatasets: [mini]\nruntimes:\n{runtimes}\nrepetitions: 1\ntimeout_s: 5\n");
            parse(Path::new("p.yaml"), &yaml, &suite)
        };
        let p = with("  - runtime: wasmtime\n    variants: [jit, jit+simd, aot+simd]\n  - runtime: wasmi\n    variants: [eager+simd]\n  - runtime: wasmer\n    variants: [cranelift+simd]").unwrap();
        let simd: Vec<(String, Vec<ArtifactKind>)> =
            p.runtimes.iter().filter(|r| r.split().1).map(|r| (r.label(), r.artifacts())).collect();
        assert_eq!(
            simd,
            [
                ("wasmtime/jit+simd".to_string(), vec![ArtifactKind::WasmSimd]),
                ("wasmtime/aot+simd".to_string(), vec![ArtifactKind::WasmtimePrecompiledSimd]),
                ("wasmi/eager+simd".to_string(), vec![ArtifactKind::WasmSimd]),
                ("wasmer/cranelift+simd".to_string(), vec![ArtifactKind::WasmSimd]),
            ]
        );
        assert_eq!(p.runtimes[0].artifacts(), [ArtifactKind::Wasm]);

        let refused = [
            (
                "  - runtime: wasmer\n    variants: [singlepass+simd]",
                "p.yaml:5:16: `singlepass+simd` cannot run: Wasmer's Singlepass compiler does not support Wasm SIMD",
            ),
            (
                "  - runtime: native\n    variants: [default+simd]",
                "p.yaml:5:16: `default+simd` cannot run: runtime `native` runs no Wasm modules",
            ),
            ("  - runtime: docker\n    variants: [scratch+simd]", "runtime `docker` runs no Wasm modules"),
            (
                "  - runtime: wasm3\n    variants: [eager+simd]",
                "p.yaml:5:16: `eager+simd` cannot run: wasm3 does not implement Wasm SIMD",
            ),
            (
                "  - runtime: command\n    variants: [iwasm+simd]\n    options: { template: \"iwasm {wasm}\" }",
                "runtime `command` runs no Wasm modules",
            ),
            ("  - runtime: wasmtime\n    variants: [jot+simd]", "did you mean `jit+simd`?"),
        ];
        for (runtimes, expected) in refused {
            let err = format!("{:#}", with(runtimes).unwrap_err());
            assert!(err.contains(expected), "{runtimes}: {err}");
        }
    }

    /// Every pipeline checked in is one a user can run as is.
    #[test]
    fn every_checked_in_pipeline_is_valid() {
        let suite = suite::load().unwrap();
        let names = available().unwrap();
        assert!(names.iter().any(|n| n == "edge") && names.iter().any(|n| n == "startup"), "{names:?}");
        for name in names {
            load(&name, &suite).unwrap_or_else(|e| panic!("pipelines/{name}.yaml: {e:#}"));
        }
    }

    #[test]
    fn a_polybench_checkout_is_found_relative_to_the_pipeline_and_its_kernels_beside_ours() {
        let suite = suite::load().unwrap();
        let yaml = "suite: { polybench: ../xtask/tests/fixtures/polybench }\nkernels: [polybench/stencils, gemm, polybench/gemm]\n\
                    datasets: [mini]\nruntimes:\n  - runtime: native\nrepetitions: 1\ntimeout_s: 5\n";
        let p = parse(&project::pipelines_dir().join("p.yaml"), yaml, &suite).unwrap();
        let names: Vec<&str> = p.kernels.iter().map(|k| k.name.as_str()).collect();
        assert_eq!(names, ["polybench/jacobi-1d", "gemm", "polybench/gemm"]);
        let source = p.kernels[0].polybench.as_ref().unwrap();
        assert_eq!(source.root, project::root().join("xtask/tests/fixtures/polybench"));
        assert!(p.kernels[1].polybench.is_none());

        let err = parse(Path::new("/elsewhere/p.yaml"), yaml, &suite).unwrap_err().to_string();
        assert!(
            err.starts_with("/elsewhere/p.yaml:1:21: /elsewhere/../xtask/tests/fixtures/polybench: no such directory"),
            "{err}"
        );
    }

    /// The loader never panics, whatever the text: a seeded mutation fuzz
    /// over the valid pipeline (deleting, duplicating and replacing bytes with
    /// YAML-significant characters).
    #[test]
    fn the_loader_never_panics_on_mutated_input() {
        let suite = suite::load().unwrap();
        let alphabet = b":-[]{}#&*!|>'\"%@` \n\t,0123456789abcxyz.~";
        let mut state = 0x5eed_u64;
        let mut next = move || {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        let mut accepted = 0;
        for _ in 0..3000 {
            let mut bytes = VALID.as_bytes().to_vec();
            for _ in 0..(1 + next() % 4) {
                let i = (next() % bytes.len() as u64) as usize;
                match next() % 3 {
                    0 => {
                        bytes.remove(i);
                    }
                    1 => bytes.insert(i, alphabet[(next() % alphabet.len() as u64) as usize]),
                    _ => bytes[i] = alphabet[(next() % alphabet.len() as u64) as usize],
                }
            }
            let text = String::from_utf8_lossy(&bytes);
            let outcome = std::panic::catch_unwind(|| parse(Path::new("fuzz.yaml"), &text, &suite).is_ok());
            match outcome {
                Ok(ok) => accepted += usize::from(ok),
                Err(_) => panic!("the loader panicked on:\n{text}"),
            }
        }
        // Some mutations are harmless (a comment, a space); most are errors.
        assert!(accepted > 0 && accepted < 3000, "{accepted}");
    }
}
