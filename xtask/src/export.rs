//! `cargo xtask export SNAPSHOT --format F`: a snapshot's figures in a
//! format continuous-benchmarking tools read (see [`formats`]). The
//! snapshot is read whole and checked as `compare` reads it; the figures
//! are its analysis's, derived again from its records.

use anyhow::{Result, bail};

use crate::flags::{ExportArgs, ExportFormat};
use crate::planning::suggestions;
use crate::snapshot::{self, formats};

pub fn run(args: &ExportArgs) -> Result<()> {
    let dir = &args.snapshot;
    let (records, records_sha256) = snapshot::read_records(dir)?;
    let provenance = snapshot::read_provenance(dir)?;
    snapshot::records_match_plan(dir, &records, &provenance, "(export takes whole snapshots only)")?;
    snapshot::records_match_summary(dir, &records_sha256, "(export takes snapshots as recorded)")?;
    let analysis = snapshot::analyse(&records, provenance.plan.baseline.as_deref(), provenance.plan.order);
    let known: Vec<&str> = analysis.cells.iter().flat_map(|c| c.metrics.keys()).map(String::as_str).collect();
    for metric in &args.metrics {
        if !known.contains(&metric.as_str()) {
            let mut names = known.clone();
            names.sort_unstable();
            names.dedup();
            bail!("--metrics: {}", suggestions::unknown("metric", metric, names));
        }
    }
    let value = match args.format {
        ExportFormat::Bencher => formats::bencher(&analysis, &args.metrics),
        ExportFormat::GithubActionBenchmark => {
            let origin = formats::Origin {
                snapshot: &dir.display().to_string(),
                revision: provenance.git.revision.as_deref().unwrap_or("an unknown revision"),
                target: &provenance.target.name,
            };
            formats::github_action_benchmark(&analysis, &args.metrics, &origin)
        }
        ExportFormat::Hyperfine => {
            if args.metrics.iter().any(|m| m != edgebench_stats::analysis::WALL_MS) {
                bail!("--metrics: hyperfine's shape holds wall times only (wall_ms)");
            }
            formats::hyperfine(&analysis, &records)
        }
    };
    let text = serde_json::to_string_pretty(&value)? + "\n";
    match &args.out {
        Some(path) => snapshot::write_atomically(path, text.as_bytes()),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}
