//! Reading YAML files with errors that name the file, line and column.
//!
//! We use `serde-saphyr`: pure Rust, maintained, with source locations on
//! errors and on `Spanned` values (`serde_yaml` is archived and flagged
//! unmaintained, RUSTSEC-2024-0320).

use std::path::Path;

use anyhow::{Context, Result, anyhow};
use serde::de::DeserializeOwned;

use crate::planning::suggestions;

pub fn read<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    parse(path, &text)
}

pub fn parse<T: DeserializeOwned>(path: &Path, text: &str) -> Result<T> {
    serde_saphyr::from_str(text).map_err(|e| {
        let at = e.location().map(|l| at(path, l)).unwrap_or_else(|| path.display().to_string());
        anyhow!("{at}: {}", message(&e.to_string()))
    })
}

/// `file:line:column` of a spanned value.
pub fn at(path: &Path, location: serde_saphyr::Location) -> String {
    format!("{}:{}:{}", path.display(), location.line(), location.column())
}

/// The parser's message without its own position prefix (we give ours), and
/// with the closest valid name for an unknown field.
fn message(raw: &str) -> String {
    let first = raw.lines().next().unwrap_or(raw);
    let text = first
        .strip_prefix("error: ")
        .and_then(|rest| rest.strip_prefix("line "))
        .and_then(|rest| rest.split_once(": "))
        .map_or(first, |(_, msg)| msg);
    if let Some(rest) = text.strip_prefix("unknown field `")
        && let Some((field, expected)) = rest.split_once("`, expected one of ")
    {
        let valid: Vec<&str> = expected.split(", ").map(|s| s.trim_matches('`')).collect();
        if let Some(best) = suggestions::closest(field, valid.iter().copied()) {
            return format!("unknown field `{field}`; did you mean `{best}`? (valid: {})", valid.join(", "));
        }
        return format!("unknown field `{field}`; valid: {}", valid.join(", "));
    }
    text.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_lose_the_duplicate_position_and_gain_a_suggestion() {
        assert_eq!(message("error: line 5 column 14: invalid u32"), "invalid u32");
        assert_eq!(
            message("error: line 5 column 1: unknown field `repetitons`, expected one of kernels, repetitions"),
            "unknown field `repetitons`; did you mean `repetitions`? (valid: kernels, repetitions)"
        );
        assert_eq!(message("something else"), "something else");
    }
}
