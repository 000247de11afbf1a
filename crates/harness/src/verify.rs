//! Refuse to run anything whose bytes differ from what the host built.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use edgebench_model::plan::PlanFile;
use sha2::{Digest, Sha256};

pub fn sha256_file(path: &Path) -> io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

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
