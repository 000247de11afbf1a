//! Incremental builds: an output is up to date when the hash of everything
//! that determines it matches the one recorded beside it, and the output
//! still has the hash it had when it was made (so a damaged or hand-edited
//! artifact is rebuilt, not shipped).

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Result;
use edgebench_model::digest::sha256_file;

/// `<output>.inputs`, holding `<inputs hash> <output sha256>`.
fn path(out: &Path) -> PathBuf {
    with_suffix(out, ".inputs")
}

pub fn is_current(out: &Path, inputs: &str) -> bool {
    let Ok(text) = fs::read_to_string(path(out)) else { return false };
    // The output hash is last and has no spaces; the inputs may have some.
    let Some((recorded_inputs, recorded_output)) = text.rsplit_once(' ') else { return false };
    recorded_inputs == inputs && sha256_file(out).is_ok_and(|actual| actual == recorded_output)
}

/// Forgets the stamp before `out` is rebuilt, so a failed build is never
/// taken for a current one.
pub fn clear(out: &Path) {
    let _ = fs::remove_file(path(out));
}

pub fn record(out: &Path, inputs: &str) -> Result<()> {
    fs::write(path(out), format!("{inputs} {}", sha256_file(out)?))?;
    Ok(())
}

/// `path` with `suffix` appended to its file name. (`with_extension` would
/// replace the dataset in `gemm.small`, and all datasets of a kernel would
/// share one temporary file.)
pub fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().expect("a file path").to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_output_is_current_only_with_the_same_inputs_and_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("gemm.small");
        assert!(!is_current(&out, "abc"));
        fs::write(&out, b"binary").unwrap();
        assert!(!is_current(&out, "abc"), "no stamp yet");
        record(&out, "abc").unwrap();
        assert!(is_current(&out, "abc"));
        assert!(!is_current(&out, "abd"), "other inputs");
        fs::write(&out, b"damaged").unwrap();
        assert!(!is_current(&out, "abc"), "other bytes");
        clear(&out);
        assert!(!dir.path().join("gemm.small.inputs").exists());
    }

    #[test]
    fn inputs_may_contain_spaces() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("rootfs.tar");
        fs::write(&out, b"tar").unwrap();
        let inputs = "debootstrap --variant=minbase bookworm http://deb.debian.org/debian";
        record(&out, inputs).unwrap();
        assert!(is_current(&out, inputs));
        assert!(!is_current(&out, "debootstrap --variant=minbase trixie http://deb.debian.org/debian"));
    }

    #[test]
    fn suffixes_keep_the_dataset() {
        assert_eq!(with_suffix(Path::new("k/gemm.small"), ".partial"), Path::new("k/gemm.small.partial"));
    }
}
