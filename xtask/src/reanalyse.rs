//! `cargo xtask reanalyse SNAPSHOT [--baseline RUNTIME/VARIANT]`: derives a
//! snapshot's summary, report and plots again from its raw records — against
//! another baseline (Wasm against Docker rather than native, say), or with
//! this version's analysis. The records and the provenance are never touched.

use anyhow::{Context, Result, bail};
use edgebench_stats::analysis::CellKey;

use crate::device::session;
use crate::flags::ReanalyseArgs;
use crate::planning::suggestions;
use crate::snapshot;

pub fn run(args: &ReanalyseArgs) -> Result<()> {
    let dir = &args.snapshot;
    let records = session::read_records(&dir.join("records.jsonl"))
        .with_context(|| format!("{} is not a snapshot (no readable records.jsonl)", dir.display()))?;
    let provenance = snapshot::read_provenance(dir)?;
    let summary = snapshot::read_summary(dir)?;

    let mut labels: Vec<String> = records.iter().map(|r| CellKey::of(r).runtime_label()).collect();
    labels.sort();
    labels.dedup();
    let baseline = match &args.baseline {
        Some(b) if labels.contains(b) => Some(b.clone()),
        Some(b) => {
            bail!("{} in {}", suggestions::unknown("baseline", b, labels.iter().map(String::as_str)), dir.display())
        }
        None => summary.analysis.baseline.clone(),
    };
    let out = match (&args.out, &args.baseline) {
        (Some(out), _) => out.clone(),
        (None, Some(b)) if Some(b) != summary.analysis.baseline.as_ref() => {
            dir.join(format!("vs-{}", b.replace('/', "-")))
        }
        (None, _) => dir.clone(),
    };
    if out != *dir && out.join("records.jsonl").exists() {
        bail!("{} holds a snapshot of its own; name an empty or derived directory with --out", out.display());
    }

    let analysis = edgebench_stats::analyse(&records, baseline.as_deref());
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    snapshot::render(&out, &records, &analysis, &provenance)?;
    println!(
        "{} records of {} analysed against {}: {}",
        records.len(),
        dir.display(),
        baseline.as_deref().unwrap_or("no baseline"),
        out.join("report.md").display()
    );
    Ok(())
}
