//! Loading the kernel suite and resolving user-given kernel and dataset names.

use std::path::PathBuf;

use anyhow::{Result, bail};
use edgebench_model::Dataset;
use edgebench_model::suite::{FAULTS_CATEGORY, Kernel, Suite};

use crate::planning::suggestions;
use crate::planning::yaml;
use crate::project;
use crate::toolchain::polybench;

pub fn path() -> PathBuf {
    project::kernels_dir().join("suite.yaml")
}

pub fn load() -> Result<Suite> {
    let path = path();
    let suite: Suite = yaml::read(&path)?;
    if let Err(e) = suite.validate() {
        bail!("{}: {e}", path.display());
    }
    Ok(suite)
}

/// Resolves `all`, category names and kernel names to kernels, in suite
/// order, without duplicates. `all` means every benchmark kernel (not the
/// start-up kernel, not the faults).
pub fn select<'a>(suite: &'a Suite, names: &[String]) -> Result<Vec<&'a Kernel>> {
    let mut chosen: Vec<&Kernel> = Vec::new();
    for name in names {
        let name = name.trim();
        let matched: Vec<&Kernel> = if name == "all" {
            suite.benchmarks().collect()
        } else if let Some(k) = suite.kernel(name) {
            vec![k]
        } else {
            let in_category: Vec<&Kernel> = suite
                .kernels
                .iter()
                .filter(|k| k.category == name || k.category.starts_with(&format!("{name}/")))
                .collect();
            if in_category.is_empty() {
                let mut valid: Vec<&str> = suite.names().collect();
                let categories = categories(suite);
                valid.extend(categories.iter().map(String::as_str));
                valid.push("all");
                bail!(suggestions::unknown("kernel or category", name, valid.iter().copied()));
            }
            in_category
        };
        for k in matched {
            if !chosen.iter().any(|c| c.name == k.name) {
                chosen.push(k);
            }
        }
    }
    Ok(chosen)
}

/// Categories and their parents (`linear-algebra` for `linear-algebra/blas`).
pub fn categories(suite: &Suite) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for k in &suite.kernels {
        let mut prefix = String::new();
        for part in k.category.split('/') {
            if !prefix.is_empty() {
                prefix.push('/');
            }
            prefix.push_str(part);
            if !out.contains(&prefix) {
                out.push(prefix.clone());
            }
        }
    }
    out
}

pub fn faults(suite: &Suite) -> Vec<&Kernel> {
    suite.kernels.iter().filter(|k| k.category == FAULTS_CATEGORY).collect()
}

pub fn datasets(names: &[String]) -> Result<Vec<Dataset>> {
    let mut out = Vec::new();
    for name in names {
        let name = name.trim();
        if name == "all" {
            out.extend(Dataset::ALL);
            continue;
        }
        match name.parse::<Dataset>() {
            Ok(d) => out.push(d),
            Err(_) => {
                bail!(suggestions::unknown("dataset", name, Dataset::ALL.iter().map(|d| d.as_str()).chain(["all"])))
            }
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Resolves `polybench`, `polybench/all`, `polybench/<category>` and
/// `polybench/<name>` to kernels of a PolyBench/C checkout's suite.
pub fn select_polybench<'a>(suite: &'a Suite, name: &str) -> Result<Vec<&'a Kernel>> {
    match name.strip_prefix(polybench::PREFIX) {
        None | Some("all") => Ok(suite.kernels.iter().collect()),
        Some(_) => select(suite, &[name.to_string()]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(ks: &[&Kernel]) -> Vec<String> {
        ks.iter().map(|k| k.name.clone()).collect()
    }

    #[test]
    fn the_suite_has_the_thirty_polybench_kernels() {
        let suite = load().unwrap();
        assert_eq!(suite.benchmarks().count(), 30);
        assert!(suite.kernel("startup").is_some());
        let all = select(&suite, &["all".into()]).unwrap();
        assert_eq!(all.len(), 30);
        assert!(all.iter().all(|k| k.is_benchmark()));
    }

    #[test]
    fn selects_categories_and_names_without_duplicates() {
        let suite = load().unwrap();
        let ks = select(&suite, &["linear-algebra/solvers".into(), "lu".into(), "startup".into()]).unwrap();
        assert_eq!(names(&ks), ["cholesky", "durbin", "gramschmidt", "lu", "ludcmp", "trisolv", "startup"]);
        assert_eq!(select(&suite, &["linear-algebra".into()]).unwrap().len(), 19);
    }

    #[test]
    fn misspelt_names_get_a_suggestion() {
        let suite = load().unwrap();
        let err = select(&suite, &["jacobi1d".into()]).unwrap_err().to_string();
        assert!(err.contains("did you mean `jacobi-1d`"), "{err}");
        let err = datasets(&["smal".into()]).unwrap_err().to_string();
        assert!(err.contains("did you mean `small`"), "{err}");
    }

    #[test]
    fn polybench_names_categories_and_all_select_kernels() {
        let suite = polybench::open(&project::root().join("xtask/tests/fixtures/polybench")).unwrap();
        let names = |n: &str| select_polybench(&suite, n).unwrap().iter().map(|k| k.name.clone()).collect::<Vec<_>>();
        assert_eq!(names("polybench").len(), 3);
        assert_eq!(names("polybench/all").len(), 3);
        assert_eq!(names("polybench/stencils"), ["polybench/jacobi-1d"]);
        assert_eq!(names("polybench/linear-algebra"), ["polybench/gemm"]);
        let err = select_polybench(&suite, "polybench/gem").unwrap_err().to_string();
        assert!(err.contains("did you mean `polybench/gemm`"), "{err}");
    }
}
