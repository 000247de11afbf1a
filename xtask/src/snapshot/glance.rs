//! The decision summary at the top of a report: for this device, which
//! runtime starts fastest, which computes nearest native, which needs least
//! memory and least room, and which of them nothing beats on every axis —
//! each answer with its figure, its interval and the cells behind it.

use std::collections::BTreeMap;

use edgebench_model::Dataset;
use edgebench_model::suite::STARTUP_KERNEL as STARTUP;
use edgebench_stats::analysis::{KERNEL_MS, WALL_MS, WORKLOAD_PEAK_MIB};
use edgebench_stats::{Analysis, GeoMeanRow};

use crate::snapshot::footprint::Footprint;
use crate::snapshot::plot::tradeoff::{self, Point};
use crate::snapshot::plot::{figure, with_interval};

/// One answer of the summary.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub question: &'static str,
    /// Plain text, figures with their 95 % intervals.
    pub answer: String,
    /// The cells (or geometric means) the answer rests on: label and anchor.
    pub evidence: Vec<(String, String)>,
}

/// The anchor of the report's footprint section (its heading's).
pub const FOOTPRINT_ANCHOR: &str = "footprint-on-the-device";
/// The anchor of the trade-off chart.
pub const TRADEOFF_ANCHOR: &str = "chart-tradeoff";

/// The anchor of a cell's row in the HTML report.
pub fn cell_anchor(kernel: &str, dataset: Dataset, runtime: &str) -> String {
    slug(&format!("cell-{kernel}-{dataset}-{runtime}"))
}

/// The anchor of a geometric mean's row in the HTML report.
pub fn geomean_anchor(runtime: &str, dataset: Dataset, metric: &str) -> String {
    slug(&format!("geomean-{runtime}-{dataset}-{metric}"))
}

fn slug(text: &str) -> String {
    text.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' }).collect()
}

/// A measured figure of one runtime variant.
#[derive(Debug, Clone)]
struct Figure {
    runtime: String,
    value: f64,
    interval: Option<(f64, f64)>,
    anchor: String,
}

/// The metric compute is judged by at `dataset`: the kernel's own timing of
/// its region where the geometric means have it, else wall time.
pub fn compute_metric(analysis: &Analysis, dataset: Dataset) -> &'static str {
    if analysis.geomeans.iter().any(|g| g.dataset == dataset && g.metric == KERNEL_MS) { KERNEL_MS } else { WALL_MS }
}

/// `n` of what a geometric mean of `metric` is over: kernels (timed in
/// their kernel region), else whole programs (workloads, timed end to end).
pub fn programs(n: usize, metric: &str) -> String {
    let noun = if metric == KERNEL_MS { "kernel" } else { "program" };
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

/// The dataset compute is judged at: the largest with geometric means.
pub fn compute_dataset(analysis: &Analysis) -> Option<Dataset> {
    analysis.geomeans.iter().map(|g| g.dataset).max()
}

/// The start-up kernel's dataset, if the snapshot ran it.
pub fn startup_dataset(analysis: &Analysis) -> Option<Dataset> {
    analysis.cells.iter().find(|c| c.key.kernel == STARTUP).map(|c| c.key.dataset)
}

/// The start-up kernel's `metric` per runtime variant.
fn startup_figures(analysis: &Analysis, metric: &str) -> Vec<Figure> {
    let Some(dataset) = startup_dataset(analysis) else { return Vec::new() };
    analysis
        .cells
        .iter()
        .filter(|c| c.key.kernel == STARTUP && c.key.dataset == dataset)
        .filter_map(|c| {
            let s = c.metric(metric)?;
            Some(Figure {
                runtime: c.key.runtime_label(),
                value: s.median,
                interval: s.median_ci95,
                anchor: cell_anchor(STARTUP, dataset, &c.key.runtime_label()),
            })
        })
        .collect()
}

/// The geometric means of compute slowdown at the compute dataset, of the
/// runtimes that ran every kernel there: a mean over fewer (the heavy
/// kernels failed, say) is not comparable, and is left out of the ranking.
fn compute_figures(analysis: &Analysis) -> Vec<(Figure, &GeoMeanRow)> {
    let Some(dataset) = compute_dataset(analysis) else { return Vec::new() };
    let metric = compute_metric(analysis, dataset);
    let rows = || analysis.geomeans.iter().filter(|g| g.dataset == dataset && g.metric == metric);
    let kernels = rows().map(|g| g.geomean.n).max().unwrap_or(0);
    rows()
        .filter(|g| g.geomean.n == kernels)
        .map(|g| {
            let figure = Figure {
                runtime: g.runtime.clone(),
                value: g.geomean.value,
                interval: g.geomean.measurement_ci95,
                anchor: geomean_anchor(&g.runtime, dataset, metric),
            };
            (figure, g)
        })
        .collect()
}

fn sorted(mut figures: Vec<Figure>) -> Vec<Figure> {
    figures.sort_by(|a, b| a.value.total_cmp(&b.value).then_with(|| a.runtime.cmp(&b.runtime)));
    figures
}

/// Whether the intervals of two figures (`a` the smaller) overlap, so that
/// the two are not told apart; `None` when one has no interval.
fn overlap(a: &Figure, b: &Figure) -> Option<bool> {
    match (a.interval, b.interval) {
        (Some((_, ah)), Some((bl, _))) => Some(bl <= ah),
        _ => None,
    }
}

/// `b ÷ a` as a factor, where `a` is positive.
fn factor(b: f64, a: f64) -> Option<String> {
    (a > 0.0 && b.is_finite()).then(|| format!("×{}", figure(b / a)))
}

/// "X: 3.96 ms (3.9–4.02)", then the runner-up and how far behind it is.
fn ranked(figures: Vec<Figure>, unit: &str, baseline: Option<&str>) -> Option<(String, Vec<(String, String)>)> {
    let figures = sorted(figures);
    let best = figures.first()?;
    let mut text = format!("{}: {} {unit}", best.runtime, with_interval(best.value, best.interval));
    let mut evidence = vec![(best.runtime.clone(), best.anchor.clone())];
    // Native first says little to someone choosing among the others.
    let others: Vec<&Figure> = figures.iter().filter(|f| Some(f.runtime.as_str()) != baseline).collect();
    let alternative = if Some(best.runtime.as_str()) == baseline { others.first().copied() } else { None };
    if let Some(alt) = alternative {
        let times = factor(alt.value, best.value).map(|f| format!(" ({f} {}'s)", best.runtime)).unwrap_or_default();
        text.push_str(&format!(
            "; of the others, {}: {} {unit}{times}",
            alt.runtime,
            with_interval(alt.value, alt.interval)
        ));
        evidence.push((alt.runtime.clone(), alt.anchor.clone()));
    }
    let leader = alternative.unwrap_or(best);
    let position = figures.iter().position(|f| f.runtime == leader.runtime).unwrap_or(0);
    if let Some(next) = figures.iter().skip(position + 1).find(|f| Some(f.runtime.as_str()) != baseline) {
        let relation = match overlap(leader, next) {
            Some(true) => {
                format!("not told apart from {} ({} {unit}: the intervals overlap)", next.runtime, figure(next.value))
            }
            told => {
                let times =
                    factor(next.value, leader.value).map(|f| format!(", {f} {}'s", leader.runtime)).unwrap_or_default();
                let unsure = if told.is_none() { " (no interval to tell them apart)" } else { "" };
                format!("next {}: {} {unit}{times}{unsure}", next.runtime, figure(next.value))
            }
        };
        text.push_str(&format!("; {relation}"));
        evidence.push((next.runtime.clone(), next.anchor.clone()));
    }
    Some((text, evidence))
}

/// The answers this snapshot can give.
pub fn findings(analysis: &Analysis, footprint: &[Footprint]) -> Vec<Finding> {
    let baseline = analysis.baseline.as_deref();
    let mut out = Vec::new();
    if let Some((answer, evidence)) = ranked(startup_figures(analysis, WALL_MS), "ms", baseline) {
        out.push(Finding { question: "Fastest start-up (empty main, spawn to exit)", answer, evidence });
    }
    let compute = compute_figures(analysis);
    if let Some(dataset) = compute_dataset(analysis)
        && !compute.is_empty()
    {
        let metric = compute_metric(analysis, dataset);
        let kernels = compute.iter().map(|(_, g)| g.geomean.n).max().unwrap_or(0);
        let left_out = analysis
            .geomeans
            .iter()
            .filter(|g| g.dataset == dataset && g.metric == metric && g.geomean.n < kernels)
            .map(|g| format!("{} ({} kernels)", g.runtime, g.geomean.n))
            .collect::<Vec<_>>();
        let figures: Vec<Figure> = compute.iter().map(|(f, _)| f.clone()).collect();
        if let Some((answer, evidence)) = ranked(figures, &format!("× {}", baseline.unwrap_or("the baseline")), None) {
            let general = sorted(compute.iter().map(|(f, _)| f.clone()).collect())
                .first()
                .and_then(|best| compute.iter().find(|(f, _)| f.runtime == best.runtime))
                .and_then(|(_, g)| g.geomean.across_kernels_ci95)
                .map(|(l, h)| {
                    format!(
                        " Taking these kernels as a sample of all one might run, its 95 % interval is {}–{}.",
                        figure(l),
                        figure(h)
                    )
                })
                .unwrap_or_default();
            let left_out = if left_out.is_empty() {
                String::new()
            } else {
                format!(" Not ranked, having run fewer kernels: {}.", left_out.join(", "))
            };
            out.push(Finding {
                question: "Nearest-native compute",
                answer: format!(
                    "{answer} — geometric mean of `{metric}` ratios over {} at {dataset}, with the 95 % \
                     measurement interval.{general}{left_out}",
                    programs(kernels, metric)
                ),
                evidence,
            });
        }
    }
    if let Some((answer, evidence)) = ranked(startup_figures(analysis, WORKLOAD_PEAK_MIB), "MiB", baseline) {
        out.push(Finding {
            question: "Least memory (peak at start-up: the container's for docker, else the process's)",
            answer,
            evidence,
        });
    }
    if let Some(finding) = least_footprint(footprint) {
        out.push(finding);
    }
    if let Some(finding) = trade_offs(analysis) {
        out.push(finding);
    }
    out
}

fn least_footprint(footprint: &[Footprint]) -> Option<Finding> {
    let mut shipped: Vec<&Footprint> =
        footprint.iter().filter(|f| !f.external_engine && !f.runtime.starts_with("native/")).collect();
    shipped.sort_by(|a, b| a.runtime_bytes().cmp(&b.runtime_bytes()).then_with(|| a.runtime.cmp(&b.runtime)));
    let best = shipped.first()?;
    let external: Vec<&str> = footprint.iter().filter(|f| f.external_engine).map(|f| f.runtime.as_str()).collect();
    let mut answer =
        format!("{}: {} MiB of engine and images beside the program", best.runtime, mib(best.runtime_bytes()));
    if let Some(next) = shipped.get(1) {
        answer.push_str(&format!("; next {}: {} MiB", next.runtime, mib(next.runtime_bytes())));
    }
    if !external.is_empty() {
        answer.push_str(&format!(" (not counted: engines installed outside edgebench, {})", external.join(", ")));
    }
    Some(Finding {
        question: "Least room on the device (beside native code, which needs none)",
        answer,
        evidence: vec![(best.runtime.clone(), FOOTPRINT_ANCHOR.into())],
    })
}

fn mib(bytes: u64) -> String {
    figure(bytes as f64 / 1_048_576.0)
}

/// The trade-off points: every runtime variant with a start-up time, a
/// start-up peak and a compute slowdown (the baseline's is 1).
pub fn trade_off_points(analysis: &Analysis) -> Vec<Point> {
    let startup: BTreeMap<String, f64> =
        startup_figures(analysis, WALL_MS).into_iter().map(|f| (f.runtime, f.value)).collect();
    let memory: BTreeMap<String, f64> =
        startup_figures(analysis, WORKLOAD_PEAK_MIB).into_iter().map(|f| (f.runtime, f.value)).collect();
    let mut slowdown: BTreeMap<String, f64> =
        compute_figures(analysis).into_iter().map(|(f, _)| (f.runtime, f.value)).collect();
    if slowdown.is_empty() {
        return Vec::new();
    }
    if let Some(b) = &analysis.baseline {
        slowdown.insert(b.clone(), 1.0);
    }
    startup
        .iter()
        .filter_map(|(runtime, ms)| {
            Some(Point {
                label: runtime.clone(),
                startup_ms: *ms,
                slowdown: *slowdown.get(runtime)?,
                memory_mib: *memory.get(runtime)?,
            })
        })
        .collect()
}

fn trade_offs(analysis: &Analysis) -> Option<Finding> {
    let points = trade_off_points(analysis);
    if points.len() < 2 {
        return None;
    }
    let baseline = analysis.baseline.as_deref();
    let best = tradeoff::pareto(&points);
    let others: Vec<Point> = points.iter().filter(|p| Some(p.label.as_str()) != baseline).cloned().collect();
    let best_others = tradeoff::pareto(&others);
    let mut answer = format!("nothing is as good as {} on start-up, compute and memory at once", best.join(", "));
    if best.iter().any(|b| Some(b.as_str()) == baseline) && !best_others.is_empty() {
        answer.push_str(&format!("; among the others, {}", best_others.join(", ")));
    }
    let beaten: Vec<String> =
        others.iter().filter(|p| !best_others.contains(&p.label)).map(|p| p.label.clone()).collect();
    if !beaten.is_empty() {
        answer.push_str(&format!(
            "; for each of the rest ({}) one of them is at least as good on every axis and better on one",
            beaten.join(", ")
        ));
    }
    let mut named: Vec<&String> = best.iter().chain(&best_others).collect();
    named.sort();
    named.dedup();
    let evidence = named.into_iter().map(|r| (r.clone(), TRADEOFF_ANCHOR.to_string())).collect();
    Some(Finding { question: "Trade-offs", answer: format!("{answer}."), evidence })
}

/// The summary as a Markdown section.
pub fn markdown(findings: &[Finding]) -> String {
    if findings.is_empty() {
        return String::new();
    }
    let mut md = String::from("## At a glance\n\n");
    for f in findings {
        md.push_str(&format!("- **{}**: {}\n", f.question, f.answer));
    }
    md.push('\n');
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fig(runtime: &str, value: f64, interval: (f64, f64)) -> Figure {
        Figure { runtime: runtime.into(), value, interval: Some(interval), anchor: format!("a-{runtime}") }
    }

    #[test]
    fn the_leader_beside_native_and_its_runner_up_are_named_with_their_factor() {
        let figures = vec![
            fig("docker/debian", 210.0, (200.0, 220.0)),
            fig("native/default", 0.28, (0.27, 0.29)),
            fig("wasmtime/aot", 3.96, (3.9, 4.0)),
            fig("wasmtime/jit", 11.5, (11.0, 12.0)),
        ];
        let (text, evidence) = ranked(figures, "ms", Some("native/default")).unwrap();
        assert_eq!(
            text,
            "native/default: 0.28 (0.27–0.29) ms; of the others, wasmtime/aot: 3.96 (3.9–4) ms (×14.1 native/default's); \
             next wasmtime/jit: 11.5 ms, ×2.9 wasmtime/aot's"
        );
        assert_eq!(evidence.len(), 3);
        let close = vec![fig("a/x", 1.0, (0.9, 1.1)), fig("b/y", 1.05, (1.0, 1.2))];
        let (text, _) = ranked(close, "ms", None).unwrap();
        assert!(text.contains("not told apart from b/y"), "{text}");
    }

    #[test]
    fn anchors_are_plain() {
        assert_eq!(cell_anchor("2mm", Dataset::Small, "wasmtime/jit+simd"), "cell-2mm-small-wasmtime-jit-simd");
    }
}
