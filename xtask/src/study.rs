//! `cargo xtask study [--write | --check]`: the tables of the write-up
//! (`results/README.md`), generated from the snapshots they cite.
//!
//! The write-up holds blocks `<!-- study: KIND SNAPSHOT… -->` … `<!-- /study -->`.
//! Each block's body is a table this verb derives from the raw records of
//! the snapshots named (paths under `results/`), so every figure in it can
//! be traced to its runs and reproduced: `--check` fails when a body differs
//! from a regeneration (a test runs it), `--write` rewrites the bodies, and
//! with neither the regenerated write-up goes to stdout. Prose between the
//! blocks interprets; it carries no figure of its own.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use edgebench_model::Dataset;
use edgebench_stats::analysis::{KERNEL_MS, MAX_RSS_MIB, WALL_MS, WORKLOAD_PEAK_MIB, same_rounds, values};
use edgebench_stats::compare::{DEFAULT_ALPHA, DEFAULT_THRESHOLD};
use edgebench_stats::resample::DEFAULT_SEED;
use edgebench_stats::{Analysis, Bootstrap, CellKey, Criteria, Pairing, Ratio, Role, Samples, Summary, Verdict};

use crate::compare::DEFAULT_METRICS;
use crate::flags::StudyArgs;
use crate::snapshot::{self, provenance::Provenance};

const OPEN: &str = "<!-- study:";
const CLOSE: &str = "<!-- /study -->";

pub fn run(args: &StudyArgs) -> Result<()> {
    let results = snapshot::results_root();
    let path = results.join("README.md");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let generated = regenerate(&text, &results).with_context(|| format!("in {}", path.display()))?;
    if args.check {
        if generated != text {
            bail!(
                "{}: a generated table differs from what the snapshots give now{}; if the snapshots are as they should be, `cargo xtask study --write` rewrites the tables",
                path.display(),
                first_difference(&text, &generated)
            );
        }
        println!("{}: every generated table matches its snapshots", path.display());
    } else if args.write {
        snapshot::write_atomically(&path, generated.as_bytes())?;
        println!("{}: tables regenerated", path.display());
    } else {
        print!("{generated}");
    }
    Ok(())
}

fn first_difference(old: &str, new: &str) -> String {
    old.lines()
        .zip(new.lines())
        .enumerate()
        .find(|(_, (a, b))| a != b)
        .map(|(i, (a, b))| format!(" (line {}: `{a}` would be `{b}`)", i + 1))
        .unwrap_or_default()
}

/// The write-up with every block's body derived again.
fn regenerate(text: &str, results: &Path) -> Result<String> {
    let mut out = String::new();
    let mut cache = Snapshots { results: results.to_path_buf(), loaded: BTreeMap::new() };
    let mut rest = text;
    while let Some(start) = rest.find(OPEN) {
        let line_end = rest[start..].find('\n').map(|i| start + i + 1).context("a study marker ends the file")?;
        let marker = &rest[start..line_end];
        let spec = marker.trim().trim_start_matches(OPEN).trim_end_matches("-->").trim();
        let close = rest[line_end..]
            .find(CLOSE)
            .map(|i| line_end + i)
            .with_context(|| format!("`{}` has no `{CLOSE}`", marker.trim()))?;
        out.push_str(&rest[..line_end]);
        let body = table(spec, &mut cache).with_context(|| format!("in `{}`", marker.trim()))?;
        out.push('\n');
        out.push_str(&body);
        out.push('\n');
        rest = &rest[close..];
    }
    out.push_str(rest);
    Ok(out)
}

/// One block's table: `KIND SNAPSHOT…`.
fn table(spec: &str, cache: &mut Snapshots) -> Result<String> {
    let mut words = spec.split_whitespace();
    let kind = words.next().context("a study block names a kind")?;
    let dirs: Vec<&str> = words.collect();
    let need = |n: usize| -> Result<()> {
        if dirs.len() == n { Ok(()) } else { bail!("`{kind}` takes {n} snapshot(s), not {}", dirs.len()) }
    };
    match kind {
        "snapshots" => {
            let loaded = cache.all(&dirs)?;
            Ok(snapshots_table(&loaded))
        }
        "startup" => {
            need(1)?;
            Ok(startup_table(cache.get(dirs[0])?))
        }
        "geomeans" => {
            need(1)?;
            Ok(geomeans_table(cache.get(dirs[0])?))
        }
        "long" => {
            need(1)?;
            Ok(long_table(cache.get(dirs[0])?))
        }
        "rounds" => {
            let loaded = cache.all(&dirs)?;
            Ok(rounds_table(&loaded))
        }
        "noise" => {
            need(2)?;
            let loaded = cache.all(&dirs)?;
            noise_table(loaded[0], loaded[1])
        }
        "workload" => {
            need(1)?;
            Ok(workload_table(cache.get(dirs[0])?))
        }
        "claims" => {
            need(3)?;
            let loaded = cache.all(&dirs)?;
            Ok(claims_table(loaded[0], loaded[1], loaded[2]))
        }
        other => {
            bail!("unknown kind `{other}`; one of snapshots, startup, geomeans, long, rounds, noise, workload, claims")
        }
    }
}

/// Snapshots read once per regeneration.
struct Snapshots {
    results: PathBuf,
    loaded: BTreeMap<String, Loaded>,
}

/// A snapshot's provenance, its verified runs and their analysis, all from
/// its raw records.
struct Loaded {
    dir: String,
    provenance: Provenance,
    records: usize,
    samples: Samples,
    analysis: Analysis,
}

impl Snapshots {
    fn all(&mut self, dirs: &[&str]) -> Result<Vec<&Loaded>> {
        for d in dirs {
            self.get(d)?;
        }
        Ok(dirs.iter().map(|d| &self.loaded[*d]).collect())
    }

    fn get(&mut self, dir: &str) -> Result<&Loaded> {
        if !self.loaded.contains_key(dir) {
            // A citation names a snapshot of this results folder: no
            // absolute path, no `..`, nothing reached through a link out.
            let inside = Path::new(dir).components().all(|c| matches!(c, std::path::Component::Normal(_)));
            let outside = || {
                anyhow::anyhow!(
                    "`{dir}` is not a snapshot of {}: the write-up cites only its own snapshots",
                    self.results.display()
                )
            };
            if !inside {
                return Err(outside());
            }
            let path = self.results.join(dir);
            let resolved =
                path.canonicalize().with_context(|| format!("snapshot {dir} is not in {}", self.results.display()))?;
            if !resolved.starts_with(self.results.canonicalize()?) {
                return Err(outside());
            }
            let (records, records_sha256) = snapshot::read_records(&path)?;
            let provenance = snapshot::read_provenance(&path)?;
            snapshot::records_match_plan(&path, &records, &provenance, "(the write-up cites whole snapshots only)")?;
            snapshot::records_match_summary(&path, &records_sha256, "(the write-up cites its snapshots as recorded)")?;
            if provenance.git.dirty != Some(false) {
                bail!("{dir} was taken from a tree with uncommitted changes; the write-up cites clean snapshots only");
            }
            let analysis = snapshot::analyse(&records, provenance.plan.baseline.as_deref(), provenance.plan.order);
            let samples = edgebench_stats::samples(&records);
            let loaded = Loaded { dir: dir.to_string(), provenance, records: records.len(), samples, analysis };
            self.loaded.insert(dir.to_string(), loaded);
        }
        Ok(&self.loaded[dir])
    }
}

impl Loaded {
    fn key(&self, kernel: &str, runtime: &str) -> Option<CellKey> {
        self.samples.keys().find(|k| k.kernel == kernel && k.runtime_label() == runtime).cloned()
    }

    fn summary(&self, kernel: &str, runtime: &str, metric: &str) -> Option<&Summary> {
        self.analysis.cell(&self.key(kernel, runtime)?)?.metric(metric)
    }

    fn sample(&self, kernel: &str, runtime: &str, metric: &str) -> Option<&Vec<(u32, f64)>> {
        self.samples.get(&self.key(kernel, runtime)?)?.get(metric)
    }

    /// `num ÷ den` for one kernel: a ratio of medians, paired by round when
    /// both ran in the same rounds, its interval drawn from a stream named
    /// after the two cells.
    fn ratio(&self, kernel: &str, num: &str, den: &str, metric: &str) -> Option<(Ratio, Option<Vec<f64>>)> {
        let (a, b) = (self.sample(kernel, num, metric)?, self.sample(kernel, den, metric)?);
        let paired = self.analysis.rounds_paired && same_rounds(a, b);
        let stream = format!("{kernel}/{num} ÷ {den}/{metric}");
        let e =
            edgebench_stats::ratio_of_medians(&values(a), &values(b), paired, &Bootstrap::new(DEFAULT_SEED), &stream)?;
        Some((e.ratio, e.replicates))
    }

    /// The geometric mean over the benchmark kernels of `num ÷ den`.
    fn geomean(&self, num: &str, den: &str, metric: &str) -> Option<edgebench_stats::GeoMean> {
        let estimates: Vec<(Ratio, Option<Vec<f64>>)> =
            self.kernels().iter().filter_map(|k| self.ratio(k, num, den, metric)).collect();
        let ratios: Vec<f64> = estimates.iter().map(|(r, _)| r.value).collect();
        let replicates: Option<Vec<&[f64]>> = estimates.iter().map(|(_, r)| r.as_deref()).collect();
        edgebench_stats::geometric_mean(&ratios, replicates.as_deref())
    }

    /// Benchmark kernels (not the start-up one), in the analysis's order.
    fn kernels(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for k in self.samples.keys() {
            if k.kernel != edgebench_model::suite::STARTUP_KERNEL && !out.contains(&k.kernel) {
                out.push(k.kernel.clone());
            }
        }
        out
    }

    fn runtimes(&self) -> Vec<String> {
        let mut out: Vec<String> = self.samples.keys().map(CellKey::runtime_label).collect();
        out.sort();
        out.dedup();
        let baseline = self.analysis.baseline.clone();
        out.sort_by_key(|r| Some(r) != baseline.as_ref());
        out
    }

    fn dataset(&self) -> Option<Dataset> {
        self.samples.keys().next().map(|k| k.dataset)
    }

    fn link(&self) -> String {
        format!("[`{}`]({}/report.md)", self.dir, self.dir)
    }
}

fn snapshots_table(loaded: &[&Loaded]) -> String {
    let mut md = String::from("| snapshot | pipeline | taken (UTC) | commit | runs | order, seed | host |\n");
    md.push_str("|---|---|---|---|---:|---|---|\n");
    for s in loaded {
        let p = &s.provenance;
        let host = p
            .device_before
            .as_ref()
            .map(|d| format!("{} · {} cores", d.cpu.as_deref().unwrap_or("?"), d.cores))
            .unwrap_or_default();
        // A whole emulated machine's CPU is the emulated one: the host
        // it ran on is named by the emulation itself.
        let host = match (&p.emulation, &p.target.emulator) {
            (Some(machine), _) => format!("EMULATED ({})", machine.describe()),
            (None, Some(e)) => format!("EMULATED ({e}) on {host}"),
            (None, None) => host,
        };
        let _ = writeln!(
            md,
            "| {} | `{}` | {} | `{}` | {} | {}, {} | {host} |",
            s.link(),
            p.plan.pipeline,
            p.created_utc,
            p.git.revision.as_deref().map(|r| &r[..r.len().min(10)]).unwrap_or("?"),
            s.records,
            serde_json::to_value(p.plan.order).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default(),
            p.plan.seed
        );
    }
    md
}

/// `x (lo–hi)` with a precision fitting x.
fn with_interval(value: f64, ci: Option<(f64, f64)>) -> String {
    let digits = if value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    match ci {
        Some((lo, hi)) => format!("{value:.digits$} ({lo:.digits$}–{hi:.digits$})"),
        None => format!("{value:.digits$}"),
    }
}

fn summary_text(s: Option<&Summary>) -> String {
    s.map(|s| with_interval(s.median, s.median_ci95)).unwrap_or_else(|| "—".into())
}

fn ratio_text(r: Option<&Ratio>) -> String {
    r.map(|r| format!("×{}", with_interval(r.value, r.ci95))).unwrap_or_else(|| "—".into())
}

fn startup_table(s: &Loaded) -> String {
    let kernel = edgebench_model::suite::STARTUP_KERNEL;
    let baseline = s.analysis.baseline.clone().unwrap_or_default();
    let mut md = format!(
        "Medians of {} (95 % bootstrap intervals); ratios of medians to `{baseline}`, paired by round.\n\n",
        s.link()
    );
    md.push_str("| runtime | start-up (ms) | × native | workload's peak (MiB) | measured process's peak (MiB) |\n");
    md.push_str("|---|---:|---:|---:|---:|\n");
    for rt in s.runtimes() {
        let ratio = s.ratio(kernel, &rt, &baseline, WALL_MS).map(|(r, _)| r);
        let _ = writeln!(
            md,
            "| {rt} | {} | {} | {} | {} |",
            summary_text(s.summary(kernel, &rt, WALL_MS)),
            if rt == baseline { "1".into() } else { ratio_text(ratio.as_ref()) },
            summary_text(s.summary(kernel, &rt, WORKLOAD_PEAK_MIB)),
            summary_text(s.summary(kernel, &rt, MAX_RSS_MIB)),
        );
    }
    md
}

fn geomeans_table(s: &Loaded) -> String {
    let baseline = s.analysis.baseline.clone().unwrap_or_default();
    let mut md = format!(
        "Geometric means over the {} kernels of {} of each runtime's ratio of medians to `{baseline}`. First interval: measurement (runs resampled); second: spread across kernels.\n\n",
        s.kernels().len(),
        s.link()
    );
    md.push_str("| runtime | wall time | kernel region | workload's peak memory |\n|---|---:|---:|---:|\n");
    for rt in s.runtimes().into_iter().filter(|r| *r != baseline) {
        let cell = |metric: &str| {
            s.analysis
                .geomeans
                .iter()
                .find(|g| g.runtime == rt && g.metric == metric)
                .map(|g| {
                    let (m, k) = (g.geomean.measurement_ci95, g.geomean.across_kernels_ci95);
                    let range = |c: Option<(f64, f64)>| c.map(|(l, h)| format!("{l:.2}–{h:.2}")).unwrap_or("—".into());
                    format!("{:.2} ({}; {})", g.geomean.value, range(m), range(k))
                })
                .unwrap_or_else(|| "—".into())
        };
        let _ = writeln!(md, "| {rt} | {} | {} | {} |", cell(WALL_MS), cell(KERNEL_MS), cell(WORKLOAD_PEAK_MIB));
    }
    md
}

/// One program at each of its datasets: every runtime's wall time (start-up
/// included: a workload has no kernel region) and its ratio to the
/// baseline, paired by round, and its peak memory.
fn workload_table(s: &Loaded) -> String {
    let baseline = s.analysis.baseline.clone().unwrap_or_default();
    let mut datasets: Vec<Dataset> = s.analysis.cells.iter().map(|c| c.key.dataset).collect();
    datasets.sort();
    datasets.dedup();
    let mut md = format!(
        "Medians of {} (95 % bootstrap intervals); ratios of medians to `{baseline}`, paired by round; wall time \
         includes start-up. Only runs whose output matched native's are counted.\n\n",
        s.link()
    );
    let mut header = String::from("| workload | runtime |");
    for d in &datasets {
        let _ = write!(header, " {d}: wall (ms) | {d}: × {baseline} | {d}: peak (MiB) |");
    }
    let _ = writeln!(md, "{header}\n|---|---|{}", "---:|".repeat(3 * datasets.len()));
    for kernel in s.kernels() {
        for rt in s.runtimes() {
            let mut row = format!("| {kernel} | {rt} |");
            for &d in &datasets {
                let cell = s
                    .analysis
                    .cells
                    .iter()
                    .find(|c| c.key.kernel == kernel && c.key.dataset == d && c.key.runtime_label() == rt);
                let metric = |m: &str| cell.and_then(|c| c.metric(m));
                let wall = metric(WALL_MS).map_or("—".into(), |m| with_interval(m.median, m.median_ci95));
                let ratio = s
                    .analysis
                    .ratios
                    .iter()
                    .find(|r| r.kernel == kernel && r.dataset == d && r.runtime == rt && r.metric == WALL_MS);
                let ratio = if rt == baseline { "1".into() } else { ratio_text(ratio.map(|r| &r.ratio)) };
                let peak = metric(WORKLOAD_PEAK_MIB).map_or("—".into(), |m| with_interval(m.median, m.median_ci95));
                let _ = write!(row, " {wall} | {ratio} | {peak} |");
            }
            let _ = writeln!(md, "{row}");
        }
    }
    md
}

const DOCKER: &str = "docker/debian";
const DOCKER_CLI: &str = "command/docker-cli";

fn long_table(s: &Loaded) -> String {
    let others: Vec<String> = s.runtimes().into_iter().filter(|r| r != DOCKER).collect();
    let mut md = format!(
        "End-to-end wall time of each runtime ÷ Docker through the engine (`{DOCKER}`), ratio of medians of {} (paired by round, 95 % bootstrap interval); below 1, faster than Docker.\n\n",
        s.link()
    );
    let _ = writeln!(md, "| kernel | {} |", others.join(" | "));
    let _ = writeln!(md, "|---|{}", "---:|".repeat(others.len()));
    for k in s.kernels() {
        let cells: Vec<String> =
            others.iter().map(|rt| ratio_text(s.ratio(&k, rt, DOCKER, WALL_MS).map(|(r, _)| r).as_ref())).collect();
        let _ = writeln!(md, "| {k} | {} |", cells.join(" | "));
    }
    md
}

fn rounds_table(loaded: &[&Loaded]) -> String {
    let mut md = String::from(
        "| snapshot | rounds | disturbed rounds (shift ≥ 3 % and > 3 standard errors) | largest shift |\n|---|---:|---|---:|\n",
    );
    for s in loaded {
        let shifts = &s.analysis.round_shifts;
        let disturbed: Vec<String> = shifts
            .iter()
            .filter(|r| r.disturbed)
            .map(|r| format!("{} ({:+.1} %)", r.round + 1, r.shift * 100.0))
            .collect();
        let largest = shifts.iter().map(|r| r.shift).max_by(|a, b| a.abs().total_cmp(&b.abs())).unwrap_or(0.0);
        let _ = writeln!(
            md,
            "| {} | {} | {} | {:+.1} % |",
            s.link(),
            shifts.len(),
            if disturbed.is_empty() { "none".into() } else { disturbed.join(", ") },
            largest * 100.0
        );
    }
    md
}

/// The same plan in two sessions, compared as `cargo xtask compare` does,
/// once per metric with that metric as every cell's primary one: what two
/// sessions can and cannot tell apart, metric by metric.
fn noise_table(a: &Loaded, b: &Loaded) -> Result<String> {
    let criteria = Criteria { alpha: DEFAULT_ALPHA, threshold: DEFAULT_THRESHOLD, pairing: Pairing::Independent };
    let mut md = format!(
        "The same plan twice, seeds {} and {}: {} against {} (`cargo xtask compare --primary METRIC`, two sessions, α = {}, threshold {} %).\n\n",
        a.provenance.plan.seed,
        b.provenance.plan.seed,
        a.link(),
        b.link(),
        criteria.alpha,
        criteria.threshold * 100.0
    );
    md.push_str("| metric | cells | regressed | improved | equivalent (±5 %) | inconclusive | between sessions (±1 sd) | smallest detectable change (median, range) |\n");
    md.push_str("|---|---:|---:|---:|---:|---:|---:|---|\n");
    let (mut changed, mut rows) = (Vec::new(), 0);
    for metric in DEFAULT_METRICS {
        let comparison =
            edgebench_stats::compare(&a.samples, &b.samples, &criteria, &Bootstrap::new(DEFAULT_SEED), |_, m| {
                (m == *metric).then_some(Role::Primary)
            });
        let changes = &comparison.changes;
        if changes.is_empty() {
            continue;
        }
        let count = |v: Verdict| changes.iter().filter(|c| c.verdict == v).count();
        let detection = edgebench_stats::compare::detection(changes);
        let detect = match detection.range {
            None => format!("none: no change could be shown in any of the {} tested cells", detection.tested),
            Some((median, lo, hi)) => format!(
                "{:.1} % ({:.1}–{:.1} %){}",
                median * 100.0,
                lo * 100.0,
                hi * 100.0,
                match detection.blind {
                    0 => String::new(),
                    blind => format!("; {blind} cells could detect none"),
                }
            ),
        };
        rows += 1;
        let between = comparison.between_sessions.map(|s| format!("{:.1} %", s * 100.0)).unwrap_or("—".into());
        let _ = writeln!(
            md,
            "| {metric} | {} | {} | {} | {} | {} | {between} | {detect} |",
            changes.len(),
            count(Verdict::Regressed),
            count(Verdict::Improved),
            count(Verdict::Equivalent),
            count(Verdict::Inconclusive)
        );
        changed.extend(
            changes
                .iter()
                .filter(|c| matches!(c.verdict, Verdict::Regressed | Verdict::Improved))
                .map(|c| format!("`{}` {} {:+.1} %", c.key.label(), c.metric, c.relative * 100.0)),
        );
    }
    if rows == 0 {
        bail!("{} and {} have no cell in common", a.dir, b.dir);
    }
    if !changed.is_empty() {
        let _ = writeln!(md, "\nCounted changes: {}.", changed.join(", "));
    }
    Ok(md)
}

/// Which way a ratio's interval points, read as "`num` is larger".
fn direction(r: Option<&Ratio>) -> &'static str {
    match r.and_then(|r| r.ci95) {
        Some((lo, _)) if lo > 1.0 => "larger",
        Some((_, hi)) if hi < 1.0 => "smaller",
        Some(_) => "level",
        None => "untested",
    }
}

/// `a` vs `b` medians and their ratio.
fn versus(s: &Loaded, kernel: &str, a: &str, b: &str, metric: &str, unit: &str) -> (String, Option<Ratio>) {
    let median = |rt: &str| s.summary(kernel, rt, metric).map(|m| format!("{:.1} {unit}", m.median));
    let ratio = s.ratio(kernel, a, b, metric).map(|(r, _)| r);
    let text = format!(
        "`{a}` {} vs `{b}` {}: {}",
        median(a).unwrap_or("—".into()),
        median(b).unwrap_or("—".into()),
        ratio_text(ratio.as_ref())
    );
    (text, ratio)
}

/// Over the long kernels (all but jacobi-1d, which stays short), how
/// often `num` is faster, level or slower than `den`.
fn places(s: &Loaded, num: &str, den: &str) -> (String, bool) {
    let (mut faster, mut level, mut slower) = (Vec::new(), Vec::new(), Vec::new());
    for k in s.kernels().into_iter().filter(|k| k != "jacobi-1d") {
        let r = s.ratio(&k, num, den, WALL_MS).map(|(r, _)| r);
        let entry = format!("{k} {}", r.as_ref().map(|r| format!("{:.2}", r.value)).unwrap_or("—".into()));
        match direction(r.as_ref()) {
            "smaller" => faster.push(entry),
            "larger" => slower.push(entry),
            _ => level.push(entry),
        }
    }
    let list = |v: &[String]| if v.is_empty() { "none".to_string() } else { v.join(", ") };
    let traded = !faster.is_empty() && !slower.is_empty();
    (
        format!(
            "`{num}` ÷ `{den}`: faster on {}; level on {}; slower on {}",
            list(&faster),
            list(&level),
            list(&slower)
        ),
        traded,
    )
}

fn claims_table(startup: &Loaded, matrix: &Loaded, long: &Loaded) -> String {
    let mut rows = start_up_and_short_claims(startup, matrix);
    rows.extend(long_kernel_claims(long));
    rows.extend(memory_claims(startup, matrix, long));
    let mut md = format!(
        "Each claim of the study beside ours for the *same* configuration (the `docker` client and its memory, Wasmtime and Wasmer compiling at start), then corrected (the container's own memory, Docker through the engine, precompiled Wasm). Medians; ratios of medians with 95 % bootstrap intervals, from {}, {} and {}. A verdict reads the interval: \"holds\" only when it excludes 1 in the study's direction.\n\n",
        startup.link(),
        matrix.link(),
        long.link()
    );
    md.push_str(
        "| claim | the study (Pi 3) | ours, like-for-like | ours, corrected | verdict |\n|---|---|---|---|---|\n",
    );
    for row in rows {
        let _ = writeln!(md, "| {} |", row.map(|c| c.replace('|', "\\|")).join(" | "));
    }
    md
}

/// A verdict from a ratio's interval: "holds" when it lies wholly on the
/// study's side (`want`) of 1.
fn holds(r: Option<&Ratio>, want: &str) -> &'static str {
    match direction(r) {
        d if d == want => "holds",
        "level" => "not shown",
        "untested" => "untested",
        _ => "reversed",
    }
}

/// Rows of the claims table: start up and short claims.
fn start_up_and_short_claims(startup: &Loaded, matrix: &Loaded) -> Vec<[String; 5]> {
    let st = edgebench_model::suite::STARTUP_KERNEL;
    let mut rows: Vec<[String; 5]> = Vec::new();
    let (like, r1) = versus(startup, st, DOCKER_CLI, "wasmtime/jit", WALL_MS, "ms");
    let (fixed, r2) = versus(startup, st, DOCKER, "wasmtime/aot", WALL_MS, "ms");
    rows.push([
        "Start-up: Docker far slower than Wasmtime".into(),
        "≈ 6300 ms vs ≈ 50 ms (≈ 125×)".into(),
        like,
        fixed,
        format!(
            "order {} (like-for-like), {} (corrected); the factor is the host's",
            holds(r1.as_ref(), "larger"),
            holds(r2.as_ref(), "larger")
        ),
    ]);

    let (like, r1) = versus(startup, st, DOCKER_CLI, "wasmtime/jit", MAX_RSS_MIB, "MiB");
    let (fixed, r2) = versus(startup, st, DOCKER, "wasmtime/aot", WORKLOAD_PEAK_MIB, "MiB");
    rows.push([
        "Start-up memory: Docker ≈ 5× Wasmtime".into(),
        "≈ 46 MB vs a little over 9 MB".into(),
        format!("{like} (the client's peak, as `/usr/bin/time docker run` reports it)"),
        format!("{fixed} (the container's own peak)"),
        format!(
            "{} with the client's memory; {} with the container's",
            holds(r1.as_ref(), "larger"),
            holds(r2.as_ref(), "larger")
        ),
    ]);

    let (like, r1) = versus(matrix, "jacobi-1d", DOCKER_CLI, "wasmtime/jit", WALL_MS, "ms");
    let (fixed, r2) = versus(matrix, "jacobi-1d", DOCKER, "wasmtime/aot", WALL_MS, "ms");
    let widest = matrix
        .kernels()
        .iter()
        .filter_map(|k| Some((k.clone(), matrix.ratio(k, DOCKER_CLI, "wasmtime/jit", WALL_MS)?.0.value)))
        .max_by(|a, b| a.1.total_cmp(&b.1));
    rows.push([
        format!("Short kernels: Wasm far faster than Docker end to end (jacobi-1d, {})", dataset_name(matrix)),
        "up to ≈ 69×".into(),
        format!("{like}; widest: {}", widest.map(|(k, r)| format!("{k} ×{r:.1}")).unwrap_or("—".into())),
        fixed,
        format!(
            "direction {} / {}; the factor is the host's",
            holds(r1.as_ref(), "larger"),
            holds(r2.as_ref(), "larger")
        ),
    ]);
    rows
}

/// Rows of the claims table: long kernel claims.
fn long_kernel_claims(long: &Loaded) -> Vec<[String; 5]> {
    let mut rows: Vec<[String; 5]> = Vec::new();
    let (like, traded1) = places(long, "wasmtime/jit", DOCKER_CLI);
    let (fixed, traded2) = places(long, "wasmtime/aot", DOCKER);
    let verdict = |t: bool| if t { "holds" } else { "does not hold" };
    rows.push([
        format!("Long kernels ({}): Docker and Wasmtime trade places", dataset_name(long)),
        "qualitative".into(),
        like,
        fixed,
        format!("{} (like-for-like), {} (corrected)", verdict(traded1), verdict(traded2)),
    ]);

    let (like, r1) = versus(long, "gemm", "wasmer/cranelift", DOCKER_CLI, WALL_MS, "ms");
    let (fixed, _) = versus(long, "gemm", "wasmtime/jit", DOCKER_CLI, WALL_MS, "ms");
    rows.push([
        format!("Wasmer (Cranelift) slowest, up to ≈ 3.5× Docker on gemm ({})", dataset_name(long)),
        "≈ 3.5×".into(),
        like,
        format!("the same compiler in Wasmtime: {fixed}"),
        format!("Wasmer slower than Docker: {}", holds(r1.as_ref(), "larger")),
    ]);
    rows
}

/// Rows of the claims table: memory claims.
fn memory_claims(startup: &Loaded, matrix: &Loaded, long: &Loaded) -> Vec<[String; 5]> {
    let st = edgebench_model::suite::STARTUP_KERNEL;
    let mut rows: Vec<[String; 5]> = Vec::new();
    let (like, r1) = versus(startup, st, "wasmer/cranelift", "wasmtime/jit", MAX_RSS_MIB, "MiB");
    let g = matrix.geomean("wasmer/cranelift", "wasmtime/jit", WORKLOAD_PEAK_MIB);
    rows.push([
        "Wasmer ≈ 1.27× Wasmtime's memory".into(),
        "≈ 1.27×".into(),
        format!("start-up: {like}"),
        format!("{} matrix, geometric mean: {}", dataset_name(matrix), geo_text(g.as_ref())),
        format!("Wasmer larger at start-up: {}", holds(r1.as_ref(), "larger")),
    ]);

    let (like, r1) = versus(startup, st, "wasmer/llvm", "wasmer/cranelift", MAX_RSS_MIB, "MiB");
    let g = matrix.geomean("wasmer/llvm", "wasmer/cranelift", WORKLOAD_PEAK_MIB);
    rows.push([
        "Wasmer LLVM's memory (measured in the study, not tested here before)".into(),
        "—".into(),
        format!("start-up: {like}"),
        format!("{} matrix, geometric mean: {}", dataset_name(matrix), geo_text(g.as_ref())),
        format!("LLVM larger than Cranelift at start-up: {}", holds(r1.as_ref(), "larger")),
    ]);

    let heaviest = long
        .kernels()
        .into_iter()
        .max_by(|a, b| {
            let peak = |k: &str| long.summary(k, "native/default", MAX_RSS_MIB).map_or(0.0, |s| s.median);
            peak(a).total_cmp(&peak(b))
        })
        .unwrap_or_default();
    let cli: Vec<f64> =
        long.kernels().iter().filter_map(|k| long.summary(k, DOCKER_CLI, MAX_RSS_MIB).map(|s| s.median)).collect();
    let spread = match (cli.iter().copied().reduce(f64::min), cli.iter().copied().reduce(f64::max)) {
        (Some(lo), Some(hi)) => format!("client's peak {lo:.1}–{hi:.1} MiB over the kernels"),
        _ => "—".into(),
    };
    let (like, r1) = versus(long, &heaviest, DOCKER_CLI, "wasmtime/jit", MAX_RSS_MIB, "MiB");
    let (fixed, r2) = versus(long, &heaviest, DOCKER, "wasmtime/jit", WORKLOAD_PEAK_MIB, "MiB");
    rows.push([
        format!("Docker's memory constant, and lower than Wasm on heavy kernels ({heaviest}, {})", dataset_name(long)),
        "≈ 46 MB throughout".into(),
        format!("{spread}; {like}"),
        format!("the container's: {fixed}"),
        format!(
            "Docker lower: {} (client), {} (container)",
            holds(r1.as_ref(), "smaller"),
            holds(r2.as_ref(), "smaller")
        ),
    ]);
    rows
}

fn geo_text(g: Option<&edgebench_stats::GeoMean>) -> String {
    g.map(|g| format!("×{}", with_interval(g.value, g.measurement_ci95))).unwrap_or_else(|| "—".into())
}

fn dataset_name(s: &Loaded) -> String {
    s.dataset().map(|d| d.to_string().to_uppercase()).unwrap_or_default()
}
