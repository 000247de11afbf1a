//! Which charts a snapshot gets, made from its analysis alone: start-up time
//! and memory as sorted bars, per dataset a heatmap of compute and memory
//! ratios and the geometric means as sorted bars, and the trade-off between
//! start-up, compute and memory. The Markdown report links them as images,
//! the HTML report draws them inline.

use std::collections::BTreeMap;

use edgebench_model::Dataset;
use edgebench_model::suite::STARTUP_KERNEL as STARTUP;
use edgebench_stats::Analysis;
use edgebench_stats::analysis::{WALL_MS, WORKLOAD_PEAK_MIB};

use crate::snapshot::glance;
use crate::snapshot::plot::bars::{Bar, BarChart};
use crate::snapshot::plot::heatmap::{Heatmap, Row, Value};
use crate::snapshot::plot::tradeoff::TradeOff;

/// A kernel's category when the suite does not know it.
const OTHER_CATEGORY: &str = "other";

/// Charts by file name, in the order a report shows them. `categories`
/// maps kernels to their category; `emulator` names the emulator of an
/// emulated target, which every chart then says.
pub fn all(
    analysis: &Analysis,
    categories: &BTreeMap<String, String>,
    emulator: Option<&str>,
) -> Vec<(String, String)> {
    let emulated = emulator.map(String::from);
    let mut out = Vec::new();
    if let Some(dataset) = glance::startup_dataset(analysis) {
        out.push(("startup-time.svg".into(), startup_chart(analysis, dataset, WALL_MS, &emulated)));
        out.push(("startup-memory.svg".into(), startup_chart(analysis, dataset, WORKLOAD_PEAK_MIB, &emulated)));
    }
    let points = glance::trade_off_points(analysis);
    if points.len() >= 2 {
        let baseline = analysis.baseline.as_deref().unwrap_or("the baseline");
        let dataset = glance::compute_dataset(analysis).map(|d| d.to_string()).unwrap_or_default();
        let chart = TradeOff {
            title: "Trade-offs: start-up, compute and memory".into(),
            baseline: analysis.baseline.clone(),
            x_axis: "start-up time, empty main (ms)".into(),
            y_axis: format!("compute ÷ {baseline}, geometric mean at {dataset}"),
            points,
            emulated: emulated.clone(),
        };
        out.push(("tradeoff.svg".into(), chart.to_svg()));
    }
    for dataset in datasets(analysis) {
        let metric = glance::compute_metric(analysis, dataset);
        if let Some(map) = heatmap(analysis, dataset, metric, categories, &emulated) {
            out.push((format!("heatmap-{dataset}-time.svg"), map));
        }
        if let Some(map) = heatmap(analysis, dataset, WORKLOAD_PEAK_MIB, categories, &emulated) {
            out.push((format!("heatmap-{dataset}-memory.svg"), map));
        }
        if let Some(chart) = geomean_chart(analysis, dataset, metric, &emulated) {
            out.push((format!("geomean-{dataset}.svg"), chart));
        }
    }
    out
}

fn datasets(analysis: &Analysis) -> Vec<Dataset> {
    let mut out: Vec<Dataset> = analysis.ratios.iter().map(|r| r.dataset).collect();
    out.sort();
    out.dedup();
    out
}

fn startup_chart(analysis: &Analysis, dataset: Dataset, metric: &str, emulated: &Option<String>) -> String {
    let bars = analysis
        .cells
        .iter()
        .filter(|c| c.key.kernel == STARTUP && c.key.dataset == dataset)
        .filter_map(|c| {
            let s = c.metric(metric)?;
            Some(Bar { label: c.key.runtime_label(), value: s.median, interval: s.median_ci95, note: None })
        })
        .collect();
    let (title, axis, unit) = if metric == WALL_MS {
        ("Start-up time: an empty main, spawn to exit (median, 95 % CI)", "wall time (ms)", "ms")
    } else {
        (
            "Peak memory at start-up (median, 95 % CI)",
            "peak memory: the container's for docker, else the process's (MiB)",
            "MiB",
        )
    };
    BarChart {
        id: format!("startup-{metric}"),
        title: title.into(),
        axis: axis.into(),
        unit: unit.into(),
        bars,
        reference: None,
        emulated: emulated.clone(),
    }
    .to_svg()
}

/// Workloads × runtimes of `metric`'s ratios at `dataset`, grouped by
/// category; `None` without ratios.
fn heatmap(
    analysis: &Analysis,
    dataset: Dataset,
    metric: &str,
    categories: &BTreeMap<String, String>,
    emulated: &Option<String>,
) -> Option<String> {
    let ratios: Vec<_> =
        analysis.ratios.iter().filter(|r| r.dataset == dataset && r.metric == metric && r.kernel != STARTUP).collect();
    if ratios.is_empty() {
        return None;
    }
    let mut columns: Vec<String> = ratios.iter().map(|r| r.runtime.clone()).collect();
    columns.sort();
    columns.dedup();
    // Kernels by category, each category in name order.
    let mut groups: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for r in &ratios {
        let category = categories.get(&r.kernel).map_or(OTHER_CATEGORY, String::as_str);
        let kernels = groups.entry(category).or_default();
        if !kernels.contains(&r.kernel.as_str()) {
            kernels.push(&r.kernel);
        }
    }
    let value = |kernel: &str, runtime: &str| {
        ratios
            .iter()
            .find(|r| r.kernel == kernel && r.runtime == runtime)
            .map(|r| Value { ratio: r.ratio.value, interval: r.ratio.ci95 })
    };
    let mut rows = Vec::new();
    for (category, mut kernels) in groups {
        kernels.sort();
        let geomeans = columns
            .iter()
            .map(|runtime| {
                let logs: Vec<f64> = kernels
                    .iter()
                    .filter_map(|k| value(k, runtime))
                    .filter(|v| v.ratio > 0.0)
                    .map(|v| v.ratio.ln())
                    .collect();
                (!logs.is_empty()).then(|| (logs.iter().sum::<f64>() / logs.len() as f64).exp())
            })
            .collect();
        rows.push(Row::Group { name: category.to_string(), geomeans });
        for kernel in kernels {
            rows.push(Row::Workload {
                name: kernel.to_string(),
                values: columns.iter().map(|runtime| value(kernel, runtime)).collect(),
            });
        }
    }
    let baseline = analysis.baseline.as_deref().unwrap_or("the baseline");
    let (what, words) = if metric == WORKLOAD_PEAK_MIB {
        ("Peak memory", ("less", "more"))
    } else {
        ("Compute time", ("faster", "slower"))
    };
    Some(
        Heatmap {
            title: format!("{what} ÷ {baseline} per workload ({dataset})"),
            scale: format!("ratio of medians, {metric} ÷ {baseline}'s"),
            words,
            columns,
            rows,
            emulated: emulated.clone(),
        }
        .to_svg(),
    )
}

/// The geometric mean of `metric`'s ratios per runtime, as sorted bars.
fn geomean_chart(analysis: &Analysis, dataset: Dataset, metric: &str, emulated: &Option<String>) -> Option<String> {
    let rows: Vec<_> = analysis.geomeans.iter().filter(|g| g.dataset == dataset && g.metric == metric).collect();
    let kernels = rows.iter().map(|g| g.geomean.n).max()?;
    let baseline = analysis.baseline.as_deref().unwrap_or("the baseline");
    let bars = rows
        .iter()
        .map(|g| Bar {
            label: g.runtime.clone(),
            value: g.geomean.value,
            interval: g.geomean.measurement_ci95,
            // A mean over fewer kernels is not the others' mean: said.
            note: (g.geomean.n < kernels).then(|| format!("over {} of {kernels} kernels", g.geomean.n)),
        })
        .collect();
    Some(
        BarChart {
            id: format!("geomean-{dataset}"),
            title: format!(
                "Compute ÷ {baseline} ({dataset}), geometric mean over {}",
                glance::programs(kernels, metric)
            ),
            axis: format!("{metric} ÷ {baseline}'s, with the 95 % measurement interval"),
            unit: "×".into(),
            bars,
            reference: Some(1.0),
            emulated: emulated.clone(),
        }
        .to_svg(),
    )
}
