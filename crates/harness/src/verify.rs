//! Refuse to run anything whose bytes differ from what the host built.

use std::path::Path;

use edgebench_model::digest::sha256_file;
use edgebench_model::plan::PlanFile;

/// Checks every file of the plan; the error lists each missing or altered one.
pub fn verify_files(workdir: &Path, files: &[PlanFile]) -> Result<(), String> {
    let mut problems = Vec::new();
    for f in files {
        let path = workdir.join(&f.path);
        match sha256_file(&path) {
            Ok(actual) if actual == f.sha256 => {}
            Ok(actual) => problems.push(format!("{}: sha256 {actual}, expected {}", f.path, f.sha256)),
            Err(e) => problems.push(format!("{}: {e}", f.path)),
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "refusing to run: {} file(s) differ from the plan (redeploy with `cargo xtask bench`):\n  {}",
            problems.len(),
            problems.join("\n  ")
        ))
    }
}
