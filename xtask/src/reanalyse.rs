//! `cargo xtask reanalyse SNAPSHOT [--baseline RUNTIME/VARIANT]`: derives a
//! snapshot's summary, exports, report and plots again from its raw records
//! — against another baseline (Wasm against Docker rather than native, say),
//! or with this version's analysis. The records, the plan and the provenance
//! are never touched, and nothing is written into another snapshot.

use std::path::Path;

use anyhow::{Context, Result, bail};
use edgebench_model::record::RunRecord;
use edgebench_stats::analysis::CellKey;

use crate::flags::ReanalyseArgs;
use crate::planning::suggestions;
use crate::snapshot::provenance::Provenance;
use crate::snapshot::{self, RECORDS_FILE};

pub fn run(args: &ReanalyseArgs) -> Result<()> {
    let dir = &args.snapshot;
    let (records, records_sha256) = snapshot::read_records(dir)?;
    let provenance = snapshot::read_provenance(dir)?;
    if !args.force {
        snapshot::records_match_plan(dir, &records, &provenance, "(--force analyses them anyway)")?;
        snapshot::records_match_summary(dir, &records_sha256, "(--force analyses them anyway)")?;
    }
    let baseline = baseline(args, dir, &records, &provenance)?;
    let out = match (&args.out, &args.baseline) {
        (Some(out), _) => out.clone(),
        (None, Some(b)) if Some(b) != provenance_baseline(dir, &provenance).as_ref() => {
            dir.join(format!("vs-{}", b.replace('/', "-")))
        }
        (None, _) => dir.clone(),
    };
    refuse_other_snapshots(dir, &out)?;

    let analysis = snapshot::analyse(&records, baseline.as_deref(), provenance.plan.order);
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    snapshot::render(&out, &records, &records_sha256, &analysis, &provenance)?;
    println!(
        "{} records of {} analysed against {}: {}",
        records.len(),
        dir.display(),
        baseline.as_deref().unwrap_or("no baseline"),
        out.join("report.md").display()
    );
    Ok(())
}

/// The baseline asked for (one of the records' runtimes), or the one the
/// snapshot was made with.
fn baseline(
    args: &ReanalyseArgs,
    dir: &Path,
    records: &[RunRecord],
    provenance: &Provenance,
) -> Result<Option<String>> {
    let mut labels: Vec<String> = records.iter().map(|r| CellKey::of(r).runtime_label()).collect();
    labels.sort();
    labels.dedup();
    match &args.baseline {
        Some(b) if labels.contains(b) => Ok(Some(b.clone())),
        Some(b) => {
            bail!("{} in {}", suggestions::unknown("baseline", b, labels.iter().map(String::as_str)), dir.display())
        }
        None => Ok(provenance_baseline(dir, provenance)),
    }
}

/// The baseline the snapshot was made with: its plan's, or (for snapshots
/// made before plans carried it) the one its summary was derived against.
fn provenance_baseline(dir: &Path, provenance: &Provenance) -> Option<String> {
    provenance.plan.baseline.clone().or_else(|| {
        let text = std::fs::read_to_string(dir.join(snapshot::SUMMARY_FILE)).ok()?;
        let summary: serde_json::Value = serde_json::from_str(&text).ok()?;
        summary["analysis"]["baseline"].as_str().map(String::from)
    })
}

/// Derived files go into the snapshot itself or a directory of their own,
/// never into (or below) another snapshot.
fn refuse_other_snapshots(dir: &Path, out: &Path) -> Result<()> {
    let own = std::path::absolute(dir)?;
    let out = std::path::absolute(out)?;
    for ancestor in out.ancestors() {
        if ancestor != own && ancestor.join(RECORDS_FILE).exists() {
            let place =
                if ancestor == out { "is".to_string() } else { format!("is inside {}, which is", ancestor.display()) };
            bail!(
                "{} {place} another snapshot; name an empty directory, or one inside {}, with --out",
                out.display(),
                dir.display()
            );
        }
        if ancestor == own {
            break;
        }
    }
    Ok(())
}
