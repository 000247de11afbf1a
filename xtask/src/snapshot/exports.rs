//! A snapshot's tables for other tools: CSV written by the `csv` crate, so
//! any name with a comma or a quote in it stays one field.
//!
//! - `summary.csv`: one row per cell and metric, the median with its
//!   bootstrap interval first, then the description (mean, extremes,
//!   spread);
//! - `ratios.csv`: one row per cell and metric relative to the baseline, a
//!   ratio of medians, and whether its interval was paired by round;
//! - `geomeans.csv`: one row per runtime, dataset and metric: the geometric
//!   mean of its ratios over the benchmark kernels, with the measurement
//!   interval and the interval of the spread across kernels.
//!
//! Every interval is 95 %.

use anyhow::Result;
use edgebench_stats::Analysis;

const SUMMARY_HEADER: [&str; 17] = [
    "kernel",
    "dataset",
    "runtime",
    "variant",
    "metric",
    "n",
    "median",
    "median_ci95_low",
    "median_ci95_high",
    "mean",
    "min",
    "max",
    "stddev",
    "cv",
    "outliers",
    "ok_runs",
    "measured_runs",
];

/// `(file name, contents)` of every CSV export.
pub fn all(analysis: &Analysis) -> Result<Vec<(&'static str, Vec<u8>)>> {
    Ok(vec![
        ("summary.csv", summary(analysis)?),
        ("ratios.csv", ratios(analysis)?),
        ("geomeans.csv", geomeans(analysis)?),
    ])
}

fn writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(Vec::new())
}

fn finish(writer: csv::Writer<Vec<u8>>) -> Result<Vec<u8>> {
    writer.into_inner().map_err(|e| anyhow::anyhow!("writing CSV: {}", e.error()))
}

fn opt(v: Option<f64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn summary(analysis: &Analysis) -> Result<Vec<u8>> {
    let mut w = writer();
    w.write_record(SUMMARY_HEADER)?;
    for c in &analysis.cells {
        for (metric, s) in &c.metrics {
            w.write_record([
                c.key.kernel.clone(),
                c.key.dataset.to_string(),
                c.key.runtime.clone(),
                c.key.variant.clone(),
                metric.clone(),
                s.n.to_string(),
                s.median.to_string(),
                opt(s.median_ci95.map(|c| c.0)),
                opt(s.median_ci95.map(|c| c.1)),
                s.mean.to_string(),
                s.min.to_string(),
                s.max.to_string(),
                opt(s.stddev),
                opt(s.cv),
                s.outliers.to_string(),
                c.ok_runs.to_string(),
                c.measured_runs.to_string(),
            ])?;
        }
    }
    finish(w)
}

fn ratios(analysis: &Analysis) -> Result<Vec<u8>> {
    let mut w = writer();
    w.write_record([
        "kernel",
        "dataset",
        "runtime",
        "baseline",
        "metric",
        "ratio_of_medians",
        "ci95_low",
        "ci95_high",
        "paired_by_round",
    ])?;
    let baseline = analysis.baseline.clone().unwrap_or_default();
    for r in &analysis.ratios {
        w.write_record([
            r.kernel.clone(),
            r.dataset.to_string(),
            r.runtime.clone(),
            baseline.clone(),
            r.metric.clone(),
            r.ratio.value.to_string(),
            opt(r.ratio.ci95.map(|c| c.0)),
            opt(r.ratio.ci95.map(|c| c.1)),
            r.ratio.paired.to_string(),
        ])?;
    }
    finish(w)
}

fn geomeans(analysis: &Analysis) -> Result<Vec<u8>> {
    let mut w = writer();
    w.write_record([
        "runtime",
        "dataset",
        "baseline",
        "metric",
        "geomean",
        "measurement_ci95_low",
        "measurement_ci95_high",
        "across_kernels_ci95_low",
        "across_kernels_ci95_high",
        "kernels",
    ])?;
    let baseline = analysis.baseline.clone().unwrap_or_default();
    for g in &analysis.geomeans {
        w.write_record([
            g.runtime.clone(),
            g.dataset.to_string(),
            baseline.clone(),
            g.metric.clone(),
            g.geomean.value.to_string(),
            opt(g.geomean.measurement_ci95.map(|c| c.0)),
            opt(g.geomean.measurement_ci95.map(|c| c.1)),
            opt(g.geomean.across_kernels_ci95.map(|c| c.0)),
            opt(g.geomean.across_kernels_ci95.map(|c| c.1)),
            g.geomean.n.to_string(),
        ])?;
    }
    finish(w)
}

#[cfg(test)]
mod tests {
    use edgebench_model::Dataset;
    use edgebench_model::record::RunRecord;

    use super::*;

    #[test]
    fn names_with_commas_and_quotes_stay_one_field() {
        let mut record = RunRecord::for_test("k,1", Dataset::Mini, "command", "say \"hi\"", 0);
        record.wall_ns = 1_000_000;
        let analysis = edgebench_stats::analyse(&[record], &edgebench_stats::Options::new(None));
        let text = String::from_utf8(summary(&analysis).unwrap()).unwrap();
        let row = text.lines().find(|l| l.contains("wall_ms")).unwrap();
        assert!(row.starts_with("\"k,1\",mini,command,\"say \"\"hi\"\"\",wall_ms,1,1,"), "{row}");
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        for record in reader.records() {
            assert_eq!(record.unwrap().len(), SUMMARY_HEADER.len());
        }
    }
}
