//! Reading YAML files with errors that name the file, line and column.
//!
//! We use `serde-saphyr`: pure Rust, maintained, with source locations on
//! errors and on `Spanned` values (`serde_yaml` is archived and flagged
//! unmaintained, RUSTSEC-2024-0320).

use std::path::Path;

use anyhow::{Context, Result, anyhow};
use serde::de::DeserializeOwned;

pub fn read<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    parse(path, &text)
}

pub fn parse<T: DeserializeOwned>(path: &Path, text: &str) -> Result<T> {
    serde_saphyr::from_str(text).map_err(|e| {
        let at = e
            .location()
            .map(|l| format!("{}:{}:{}", path.display(), l.line(), l.column()))
            .unwrap_or_else(|| path.display().to_string());
        anyhow!("{at}: {e}")
    })
}

/// `file:line:column` of a spanned value.
pub fn at(path: &Path, location: serde_saphyr::Location) -> String {
    format!("{}:{}:{}", path.display(), location.line(), location.column())
}
