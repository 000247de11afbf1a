//! "Did you mean …?" for misspelt names.

/// The candidate closest to `name`, if it is close enough to be a likely typo.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(&name.to_lowercase(), &c.to_lowercase()), c))
        .filter(|(d, c)| *d <= (c.len().max(name.len()) / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// `unknown <what> `name``, with the closest valid name or the list of all.
pub fn unknown<'a>(what: &str, name: &str, candidates: impl IntoIterator<Item = &'a str> + Clone) -> String {
    match closest(name, candidates.clone()) {
        Some(best) => format!("unknown {what} `{name}`; did you mean `{best}`?"),
        None => {
            let all: Vec<&str> = candidates.into_iter().collect();
            format!("unknown {what} `{name}`; valid: {}", all.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_typos_but_not_strangers() {
        let names = ["gemm", "gemver", "gesummv", "jacobi-1d", "jacobi-2d"];
        assert_eq!(closest("gemmm", names), Some("gemm"));
        assert_eq!(closest("jacobi1d", names), Some("jacobi-1d"));
        assert_eq!(closest("Gemver", names), Some("gemver"));
        assert_eq!(closest("fft", names), None);
        assert!(unknown("kernel", "fft", names).contains("valid: gemm, gemver"));
    }
}
