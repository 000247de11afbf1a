//! Reading YAML files with errors that name the file, line and column, say
//! what is wrong in the file's own terms (the key, the value, what it must
//! be) and show the line with a caret under the place.
//!
//! We use `serde-saphyr`: pure Rust, maintained, with source locations on
//! errors and on `Spanned` values. (`serde_yaml` is archived, its last
//! release marked deprecated; `yaml-rust`, which other YAML crates build on,
//! is flagged unmaintained by RUSTSEC-2024-0320.)

use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use serde::de::DeserializeOwned;
use serde_saphyr::Location;

use crate::planning::suggestions;

/// The largest pipeline or targets file read: far above any real one.
const MAX_FILE_BYTES: u64 = 1 << 20;
/// The most of a source line, or of a parser's message, an error shows.
const MAX_SHOWN_CHARS: usize = 160;

/// Reads and parses a YAML file.
pub fn read<T: DeserializeOwned>(path: &Path) -> Result<T> {
    load(path).map(|(value, _)| value)
}

/// Reads and parses a YAML file, and keeps its text for errors that point
/// into it later.
pub fn load<T: DeserializeOwned>(path: &Path) -> Result<(T, String)> {
    // Before reading: a FIFO would block forever, a device or a huge file
    // would be read whole, and neither is a pipeline.
    let meta = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
    if !meta.is_file() {
        bail!("{}: not a regular file (a directory, FIFO or device); name a YAML file", path.display());
    }
    if meta.len() > MAX_FILE_BYTES {
        bail!(
            "{}: {} bytes; a pipeline or targets file is at most {} KiB — is this the right file?",
            path.display(),
            meta.len(),
            MAX_FILE_BYTES / 1024
        );
    }
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let text = utf8(path, &bytes)?.to_string();
    Ok((parse(path, &text)?, text))
}

/// The text of a file, or where its first byte that is not UTF-8 is.
pub fn utf8<'a>(path: &Path, bytes: &'a [u8]) -> Result<&'a str> {
    std::str::from_utf8(bytes).map_err(|e| {
        let valid = &bytes[..e.valid_up_to()];
        let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
        let line_start = valid.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        let column = String::from_utf8_lossy(&valid[line_start..]).chars().count() + 1;
        anyhow!(
            "{}:{line}:{column}: not UTF-8 text (byte 0x{:02x}); save the file as UTF-8",
            path.display(),
            bytes[e.valid_up_to()]
        )
    })
}

pub fn parse<T: DeserializeOwned>(path: &Path, text: &str) -> Result<T> {
    if text.lines().all(|l| l.trim().is_empty() || l.trim_start().starts_with('#')) {
        return Err(anyhow!("{}: the file is empty", path.display()));
    }
    serde_saphyr::from_str(text).map_err(|e| {
        let raw = e.to_string();
        match e.location() {
            Some(at) => located(path, text, at, &message(&raw, text, at)),
            None => anyhow!("{}: {}", path.display(), message(&raw, text, Location::UNKNOWN)),
        }
    })
}

/// `file:line:column: message`, then the line with a caret under the column.
pub fn located(path: &Path, text: &str, at: Location, message: &str) -> anyhow::Error {
    anyhow!("{}: {message}{}", position(path, at), snippet(text, at))
}

/// `file:line:column` of a location.
pub fn position(path: &Path, at: Location) -> String {
    format!("{}:{}:{}", path.display(), at.line(), at.column())
}

/// The line of `at` with carets under the value, as compilers show it.
fn snippet(text: &str, at: Location) -> String {
    let Some(line) = usize::try_from(at.line()).ok().and_then(|n| text.lines().nth(n.checked_sub(1)?)) else {
        return String::new();
    };
    let column = usize::try_from(at.column()).unwrap_or(1).max(1);
    let width = value_at(text, at).map_or(1, |v| v.chars().count()).clamp(1, 60);
    let number = at.line().to_string();
    let pad = " ".repeat(number.len());
    // A very long line is shown around the column only.
    let chars: Vec<char> = line.chars().collect();
    let from = column.saturating_sub(MAX_SHOWN_CHARS / 2).min(chars.len());
    let to = (from + MAX_SHOWN_CHARS).min(chars.len());
    let shown: String = chars[from..to].iter().collect();
    let (lead, tail) = (if from > 0 { "…" } else { "" }, if to < chars.len() { "…" } else { "" });
    let caret_at = column - 1 - from + lead.chars().count();
    format!("\n{pad} |\n{number} | {lead}{shown}{tail}\n{pad} | {}{}", " ".repeat(caret_at), "^".repeat(width))
}

/// The source text of the value at `at`, when the parser gave its span.
fn value_at(text: &str, at: Location) -> Option<&str> {
    let span = at.span();
    let start = usize::try_from(span.byte_offset()?).ok()?;
    let len = usize::try_from(span.byte_len()?).ok()?;
    text.get(start..start.checked_add(len)?).filter(|v| !v.is_empty() && !v.contains('\n'))
}

/// The key whose value is at `at`: the last `key:` before it on its line,
/// else the nearest less indented `key:` line above (a block list's parent).
fn key_at(text: &str, at: Location) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let index = usize::try_from(at.line()).ok()?.checked_sub(1)?;
    let line = lines.get(index)?;
    let column = usize::try_from(at.column()).ok()?.saturating_sub(1);
    let before: String = line.chars().take(column).collect();
    if let Some(key) = last_key(&before) {
        return Some(key);
    }
    let indent = |l: &str| l.len() - l.trim_start().len();
    let own = indent(line);
    lines[..index].iter().rev().filter(|l| !l.trim().is_empty() && indent(l) < own).find_map(|l| last_key(l))
}

/// The last `name:` in a piece of a line.
fn last_key(text: &str) -> Option<String> {
    let mut found = None;
    for (at, _) in text.match_indices(':') {
        let name: String = text[..at]
            .chars()
            .rev()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-')
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        if !name.is_empty() && !name.starts_with('-') {
            found = Some(name);
        }
    }
    found
}

/// The parser's message in the file's own terms: which key, what its value
/// must be, the closest valid name for a misspelt one.
fn message(raw: &str, text: &str, at: Location) -> String {
    let first = raw.lines().next().unwrap_or(raw);
    let plain = first
        .strip_prefix("error: ")
        .and_then(|rest| rest.strip_prefix("line "))
        .and_then(|rest| rest.split_once(": "))
        .map_or(first, |(_, msg)| msg);
    if plain.contains("from_str_multiple") {
        return "the file holds more than one YAML document (`---`); it must be one".into();
    }
    if let Some(breach) = plain.strip_prefix("budget breached: ") {
        let what = match breach.split([' ', '{']).next().unwrap_or(breach) {
            "Aliases" | "RecordedAnchorEvents" => "too many aliases (`*name`), or aliases that expand too far",
            "Anchors" => "too many anchors (`&name`)",
            "Depth" => "values nested too deeply",
            "Documents" => "too many documents",
            _ => "too many values",
        };
        return format!("{what} for a pipeline or targets file; is this the right file?");
    }
    let shortened: String;
    let plain = if plain.chars().count() > MAX_SHOWN_CHARS {
        shortened = plain.chars().take(MAX_SHOWN_CHARS).collect::<String>() + "…";
        shortened.as_str()
    } else {
        plain
    };
    let key = key_at(text, at);
    if key.is_none() && plain == "expected mapping start" {
        return "the file must be a mapping of keys to values (`key: value` lines)".into();
    }
    let key = key.as_deref().map_or_else(|| "this value".to_string(), |k| format!("`{k}`"));
    let value = value_at(text, at).map(|v| format!(", not `{v}`")).unwrap_or_default();
    if let Some(rest) = plain.strip_prefix("unknown field `")
        && let Some((field, expected)) = rest.split_once("`, expected one of ")
    {
        return unknown("field", field, expected);
    }
    if let Some(rest) = plain.strip_prefix("unknown variant `")
        && let Some((name, expected)) = rest.split_once("`, expected one of ")
    {
        return unknown(&format!("value of {key}"), name, expected);
    }
    if let Some(name) = plain.strip_prefix("duplicate mapping key: ") {
        let name = name.split(", set ").next().unwrap_or(name);
        return format!("duplicate key `{name}`: each key may be given once; remove one of them");
    }
    if let Some(name) = plain.strip_prefix("missing field ") {
        return format!("missing key {name}, which is required");
    }
    match plain {
        "invalid u8" | "invalid u16" | "invalid u32" | "invalid u64" | "invalid usize"
            if let Some(range) = key_at(text, at).as_deref().and_then(field_range) =>
        {
            format!("{key} must be a whole number from {range}{value}")
        }
        "invalid u8" | "invalid u16" | "invalid u32" | "invalid u64" | "invalid usize" => {
            let max = match plain {
                "invalid u8" => u64::from(u8::MAX),
                "invalid u16" => u64::from(u16::MAX),
                "invalid u32" => u64::from(u32::MAX),
                _ => u64::MAX,
            };
            format!("{key} must be a whole number from 0 to {max}{value}")
        }
        "invalid floating point" => format!("{key} must be a number{value}"),
        "invalid boolean" => format!("{key} must be `true` or `false`{value}"),
        "expected sequence start" => format!("{key} must be a list, e.g. `[a, b]`{value}"),
        "expected mapping start" => format!("{key} must be a mapping (`{{ name: value }}`)"),
        "expected string scalar" => format!("{key} must be a plain string here"),
        // A syntax error: the parser's words, and the likeliest cause.
        _ => plain.to_string() + &unclosed_before(text, at),
    }
}

/// The range a whole-number key of a pipeline or targets file takes, where
/// it is narrower than its type's (the validators check the same bounds).
fn field_range(key: &str) -> Option<&'static str> {
    Some(match key {
        "repetitions" | "max_repetitions" => "1 to 100000",
        "warmups" => "0 to 1000",
        "cpus" => "0 to 1023",
        "memory_limit_mib" => "1 to 4194304",
        "cores" => "1 to 8",
        "memory_mib" => "512 to 16384",
        _ => return None,
    })
}

/// A hint for the commonest cause of a confusing syntax error: a `[` or `{`
/// opened on an earlier line and never closed.
fn unclosed_before(text: &str, at: Location) -> String {
    let line = usize::try_from(at.line()).unwrap_or(0);
    for (index, earlier) in text.lines().enumerate().take(line.saturating_sub(1)).collect::<Vec<_>>().into_iter().rev()
    {
        let code = earlier.split(" #").next().unwrap_or(earlier);
        for (open, close) in [('[', ']'), ('{', '}')] {
            if code.matches(open).count() > code.matches(close).count() {
                return format!(" (line {} opens a `{open}` that is not closed)", index + 1);
            }
        }
    }
    String::new()
}

/// `unknown <what> `name``, with the closest of the parser's expected names.
fn unknown(what: &str, name: &str, expected: &str) -> String {
    let valid: Vec<&str> = expected.split(", ").map(|s| s.trim_matches('`')).collect();
    if let Some(best) = suggestions::closest(name, valid.iter().copied()) {
        return format!("unknown {what} `{name}`; did you mean `{best}`? (valid: {})", valid.join(", "));
    }
    format!("unknown {what} `{name}`; valid: {}", valid.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct File {
        repetitions: u32,
        timeout_s: f64,
        kernels: Vec<String>,
        #[serde(default)]
        order: Option<Order>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Order {
        Sequential,
        Shuffled,
    }

    fn first_line(text: &str) -> String {
        let err = parse::<File>(Path::new("p.yaml"), text).unwrap_err().to_string();
        err.lines().next().unwrap().to_string()
    }

    #[test]
    fn parser_messages_speak_of_keys_values_and_what_they_must_be() {
        let cases = [
            (
                "repetitions: many\ntimeout_s: 1\nkernels: [a]\n",
                "p.yaml:1:14: `repetitions` must be a whole number from 1 to 100000, not `many`",
            ),
            (
                "repetitions: -3\ntimeout_s: 1\nkernels: [a]\n",
                "p.yaml:1:14: `repetitions` must be a whole number from 1 to 100000, not `-3`",
            ),
            (
                "repetitions: 1\nrepetitions: 2\ntimeout_s: 1\nkernels: [a]\n",
                "p.yaml:2:1: duplicate key `repetitions`: each key may be given once; remove one of them",
            ),
            ("repetitions: 1\nkernels: [a]\n", "p.yaml:2:1: missing key `timeout_s`, which is required"),
            (
                "repetitions: 1\ntimeout_s: soon\nkernels: [a]\n",
                "p.yaml:2:12: `timeout_s` must be a number, not `soon`",
            ),
            (
                "repetitions: 1\ntimeout_s: 1\nkernels: a\n",
                "p.yaml:3:10: `kernels` must be a list, e.g. `[a, b]`, not `a`",
            ),
            (
                "repetitions: 1\ntimeout_s: 1\nkernels:\n  - {a: 1}\n",
                "p.yaml:4:5: `kernels` must be a plain string here",
            ),
            ("- 1\n", "p.yaml:1:1: the file must be a mapping of keys to values (`key: value` lines)"),
            (
                "repetitions: 1\ntimeout_s: 1\nkernels: [a]\norder: shufled\n",
                "p.yaml:4:8: unknown value of `order` `shufled`; did you mean `shuffled`? (valid: sequential, shuffled)",
            ),
            (
                "repetitons: 1\n",
                "p.yaml:1:1: unknown field `repetitons`; did you mean `repetitions`? (valid: repetitions, timeout_s, kernels, order)",
            ),
            ("", "p.yaml: the file is empty"),
        ];
        for (text, expected) in cases {
            assert_eq!(first_line(text), expected, "{text:?}");
        }
    }

    #[test]
    fn a_located_error_shows_the_line_with_a_caret_under_the_value() {
        let err = parse::<File>(Path::new("p.yaml"), "repetitions: many\ntimeout_s: 1\nkernels: [a]\n").unwrap_err();
        let lines: Vec<String> = err.to_string().lines().map(String::from).collect();
        assert_eq!(lines[1..], ["  |", "1 | repetitions: many", "  |              ^^^^"]);
    }

    #[test]
    fn invalid_utf8_says_where() {
        let err = utf8(Path::new("p.yaml"), b"kernels: [gemm]\ndatasets: [mi\xffni]\n").unwrap_err().to_string();
        assert_eq!(err, "p.yaml:2:14: not UTF-8 text (byte 0xff); save the file as UTF-8");
    }
}
