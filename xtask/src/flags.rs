//! The command line of `cargo xtask`, in one place.

use clap::{Args, Parser, Subcommand};
use edgebench_stats::compare::{DEFAULT_ALPHA, DEFAULT_DETECT, DEFAULT_THRESHOLD};

#[derive(Debug, Parser)]
#[command(
    name = "cargo xtask",
    version,
    about = "edgebench: build, ship and benchmark Wasm runtimes vs native vs Docker"
)]
pub struct Xtask {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build kernels and device programs for a target and write its manifest.
    Build(BuildArgs),
    /// Build, deploy, run a pipeline on a target, and analyse the results.
    Bench(BenchArgs),
    /// Compare two snapshots (or a snapshot with the newest one beside it).
    Compare(CompareArgs),
    /// Derive a snapshot's summary, report and plots again from its records, optionally against another baseline.
    Reanalyse(ReanalyseArgs),
    /// A snapshot's figures for other tools: Bencher's metric format, github-action-benchmark, hyperfine's JSON.
    Export(ExportArgs),
    /// The write-up's tables (results/README.md), generated from the snapshots they cite.
    Study(StudyArgs),
    /// The results browser: results/index.html lists every snapshot, with side-by-side comparisons.
    Index(IndexArgs),
    /// Start-up benchmark: every runtime on the empty kernel, and the harness checked against hyperfine.
    Calibrate(CalibrateArgs),
    /// Check a target before a long run: reachable, architecture, disk, Docker, clock; says what to fix.
    Doctor(DoctorArgs),
    /// Run the project's tests (installing the system tools they need as root on Debian).
    Test(TestArgs),
}

#[derive(Debug, Args)]
pub struct StudyArgs {
    /// Rewrite the generated tables of results/README.md in place.
    #[arg(long, conflicts_with = "check")]
    pub write: bool,
    /// Fail if a generated table of results/README.md differs from a regeneration.
    #[arg(long)]
    pub check: bool,
}

#[derive(Debug, Args)]
pub struct IndexArgs {
    /// Fail if results/index.html or a comparison page differs from a regeneration.
    #[arg(long)]
    pub check: bool,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Skip `cargo fmt --check`, `cargo clippy` and the workflow lint.
    #[arg(long)]
    pub no_lint: bool,
    /// Also run the extended tests: the variants whose executors take a
    /// long build of their own (Wasmer's LLVM executor; Wasmer, Winch and
    /// Pulley on emulated aarch64). About 30 minutes more from cold.
    #[arg(long)]
    pub extended: bool,
    /// Passed on to `cargo test` (a test name filter, `--nocapture` after `--`, …).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub filter: Vec<String>,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Target to check: `local` or a name from pipelines/targets.yaml.
    #[arg(long, default_value = "local")]
    pub target: String,
    /// Also validate this pipeline and say which of its runtime variants can run on the target.
    #[arg(long)]
    pub pipeline: Option<String>,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Target(s) to run on: `local` (this machine) or names from pipelines/targets.yaml;
    /// several, comma-separated, run concurrently (a fleet), each with its own snapshot.
    #[arg(long, value_delimiter = ',', default_value = "local")]
    pub target: Vec<String>,
    /// Pipeline: a name from pipelines/ or a path to a YAML file.
    #[arg(long, default_value = "default")]
    pub pipeline: String,
    /// Seed of the run order (default: the pipeline's, else a fresh one; recorded either way).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Continue the newest unfinished run of this pipeline instead of starting a new one.
    #[arg(long)]
    pub resume: bool,
    /// Same-session A/B of two revisions: also build this git revision (a commit, branch or tag;
    /// e.g. the merge base of a pull request) with its own build, and run both sides round by round
    /// in one plan (variants `…@base` and `…@head`); compare with `compare SNAPSHOT --sides base,head`.
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,
    /// Build, plan and deploy, then print the plan's path instead of running it.
    #[arg(long)]
    pub dry_run: bool,
    /// Print nothing but errors and the final summary.
    #[arg(long)]
    pub quiet: bool,
    /// Print one JSON object (paths, counts, per-cell medians) on stdout instead of the table
    /// (a JSON array of them for several targets).
    #[arg(long)]
    pub json: bool,
    /// When the connection to a remote device drops, keep trying to reconnect this long (seconds).
    #[arg(long, default_value_t = 120)]
    pub reconnect_for: u64,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Target to build for: `local` (this machine) or a name from pipelines/targets.yaml.
    #[arg(long, default_value = "local")]
    pub target: String,
    /// Build what this pipeline needs (kernels, datasets, external suite, its runtimes' programs)
    /// instead of --kernels and --datasets: a name from pipelines/ or a path.
    #[arg(long, conflicts_with_all = ["kernels", "datasets", "with_faults", "kernels_only"])]
    pub pipeline: Option<String>,
    /// Kernels to build: `all`, a category (e.g. `stencils`), or names, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "all")]
    pub kernels: Vec<String>,
    /// Datasets to build: `all` or names (mini, small, medium, large, extralarge), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "all")]
    pub datasets: Vec<String>,
    /// Also build the deliberately broken kernels used by the tests.
    #[arg(long)]
    pub with_faults: bool,
    /// Build only the kernels, not the harness and executors.
    #[arg(long)]
    pub kernels_only: bool,
    /// Also build the Debian root filesystem for docker/debian (debootstrap, as root).
    #[arg(long)]
    pub debian_rootfs: bool,
    /// Also build every kernel's Wasm with 128-bit SIMD (`-msimd128`), for `+simd` variants.
    #[arg(long)]
    pub simd: bool,
    /// Print nothing but errors.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct CalibrateArgs {
    /// Runs of the native start-up binary under each of the harness and hyperfine (in alternating rounds).
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(10..=1_000_000))]
    pub hyperfine_runs: u32,
    /// Pipeline of the start-up experiment.
    #[arg(long, default_value = "startup")]
    pub pipeline: String,
}

#[derive(Debug, Args)]
pub struct ReanalyseArgs {
    /// The snapshot directory (results/<target>/<pipeline>/<timestamp>).
    pub snapshot: std::path::PathBuf,
    /// Baseline of the ratios and geometric means, as runtime/variant (default: the snapshot's own).
    #[arg(long)]
    pub baseline: Option<String>,
    /// Where the derived files go (default: SNAPSHOT/vs-<runtime>-<variant> for another baseline, else SNAPSHOT itself).
    #[arg(long)]
    pub out: Option<std::path::PathBuf>,
    /// Analyse records that do not match the plan in the provenance (fewer, more, or another plan's).
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The older snapshot directory (results/<target>/<pipeline>/<timestamp>), or with --sides the one snapshot.
    pub old: std::path::PathBuf,
    /// The newer snapshot; default: the newest other snapshot beside OLD.
    pub new: Option<std::path::PathBuf>,
    /// Compare two sides of one snapshot, A (old) against B (new), paired round by round: a same-session
    /// A/B bench. The two revisions of `bench --base` (--sides base,head), two runtime variants
    /// (--sides command/base,command/head) or two kernels (--sides gemm,gemm-plus10).
    #[arg(long, value_delimiter = ',', num_args = 1)]
    pub sides: Option<Vec<String>>,
    /// The metric that decides every cell's verdict (default: kernel_ms, or wall_ms where the kernel reports no time, or instructions_millions under callgrind).
    #[arg(long)]
    pub primary: Option<String>,
    /// Error rate: the false discovery rate of the primary tests (Benjamini–Hochberg), and the α of each equivalence test (between 0 and 0.5).
    #[arg(long, default_value_t = DEFAULT_ALPHA, value_parser = alpha)]
    pub alpha: f64,
    /// Smallest relative change that counts (0.05 = 5 %), and the margin within which a cell is shown equivalent (between 0 and 1).
    #[arg(long, default_value_t = DEFAULT_THRESHOLD, value_parser = fraction)]
    pub threshold: f64,
    /// The change a gate must be able to see: with --fail-on-regression, a primary cell that could not have
    /// shown a change this large (four times in five) makes the comparison "nothing detectable" (between 0 and 1).
    #[arg(long, default_value_t = DEFAULT_DETECT, value_parser = fraction)]
    pub detect: f64,
    /// Metrics to describe beside the primary one (default: wall_ms, kernel_ms, max_rss_mib, peak_memory_mib).
    #[arg(long, value_delimiter = ',')]
    pub metrics: Vec<String>,
    /// List every comparison, not only the regressions and improvements.
    #[arg(long)]
    pub all: bool,
    /// Make the exit status the gate's answer: 0 no regression (and every primary cell could have shown one
    /// of --detect), 3 a regression, 4 nothing detectable; 1 stays an error.
    #[arg(long)]
    pub fail_on_regression: bool,
    /// How to print the comparison.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The snapshot directory (results/<target>/<pipeline>/<timestamp>).
    pub snapshot: std::path::PathBuf,
    /// The format: bencher (Bencher's metric format, BMF JSON), github-action-benchmark (its
    /// customSmallerIsBetter JSON) or hyperfine (the shape of `hyperfine --export-json`, wall times).
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// Only these metrics (default: every metric the snapshot has; hyperfine's shape is wall time only).
    #[arg(long, value_delimiter = ',')]
    pub metrics: Vec<String>,
    /// Write to this file instead of stdout.
    #[arg(long)]
    pub out: Option<std::path::PathBuf>,
}

/// A format of continuous-benchmarking tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    Bencher,
    GithubActionBenchmark,
    Hyperfine,
}

/// An output format for people (text, Markdown, an HTML page) or other tools (JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Markdown,
    Json,
    /// A self-contained page: every comparison listed, verdicts in colour, each snapshot's report linked by the path given.
    Html,
}

/// A probability or a relative change: a finite number strictly between 0 and 1.
/// An error rate: strictly between 0 and 0.5, since equivalence reads the
/// (1 − 2α) interval.
fn alpha(text: &str) -> Result<f64, String> {
    let v = fraction(text)?;
    if v < 0.5 {
        Ok(v)
    } else {
        Err(format!("{v} is not below 0.5 (equivalence reads the 1 − 2α interval); e.g. 0.01"))
    }
}

fn fraction(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v < 1.0 => Ok(v),
        Ok(v) => Err(format!("{v} is not strictly between 0 and 1 (e.g. 0.01 for 1 %)")),
        Err(_) => Err(format!("`{text}` is not a number; give one strictly between 0 and 1 (e.g. 0.01)")),
    }
}
