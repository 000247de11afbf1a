//! The kernel suite (`kernels/suite.yaml`): names, categories, element types,
//! size parameters and dataset sizes. The YAML is read on the host; these are
//! the types it deserializes into.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::Dataset;
use crate::workload::Workload;

/// Categories whose kernels are not benchmarks.
pub const STARTUP_CATEGORY: &str = "startup";
pub const FAULTS_CATEGORY: &str = "faults";
/// Kernels that do a known amount more work than another kernel (its
/// source at larger sizes): a slowdown planted for real, to show what a
/// same-session A/B comparison finds.
pub const PLANTED_CATEGORY: &str = "planted";
/// The kernel whose `main` returns at once: it measures a runtime's
/// start-up, not code, so it is never averaged with the benchmarks.
pub const STARTUP_KERNEL: &str = "startup";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Suite {
    pub kernels: Vec<Kernel>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Kernel {
    pub name: String,
    /// A path-like category, e.g. `linear-algebra/blas`; the source is
    /// `kernels/<category>/<name>.c`.
    pub category: String,
    pub element: Element,
    /// Names of the size parameters, passed to the compiler as `-DEB_<PARAM>`.
    pub params: Vec<String>,
    /// One value per parameter for each dataset. Absent for kernels whose
    /// code does not depend on the dataset (start-up, faults).
    #[serde(default)]
    pub sizes: Option<BTreeMap<Dataset, Vec<u64>>>,
    /// Whether the kernel prints an `EDGEBENCH_RESULT` line.
    #[serde(default = "yes")]
    pub reports: bool,
    /// Another kernel's source below `kernels/` to compile instead of
    /// `<category>/<name>.c` (a planted kernel: that code at other sizes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Set for a kernel of the original PolyBench/C suite, compiled from a
    /// user's checkout instead of `kernels/`. Never read from `suite.yaml`.
    #[serde(skip)]
    pub polybench: Option<PolybenchSource>,
    /// Set for a workload of the user's own, defined in a pipeline (its
    /// program, arguments and output check). Never read from `suite.yaml`.
    #[serde(skip)]
    pub workload: Option<Box<Workload>>,
}

/// Where a PolyBench/C kernel's sources are: `<dir>/<name>.c` and
/// `<dir>/<name>.h` below `root`, built with `utilities/polybench.c`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolybenchSource {
    /// The checkout, as an absolute path.
    pub root: PathBuf,
    /// The kernel's directory below `root`, e.g. `linear-algebra/blas/gemm`.
    pub dir: String,
    /// The kernel's name in the suite, e.g. `gemm`.
    pub name: String,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Element {
    Double,
    Float,
    Int,
    None,
}

impl Suite {
    pub fn kernel(&self, name: &str) -> Option<&Kernel> {
        self.kernels.iter().find(|k| k.name == name)
    }

    /// The benchmark kernels: everything but start-up, faults and planted ones.
    pub fn benchmarks(&self) -> impl Iterator<Item = &Kernel> {
        self.kernels.iter().filter(|k| k.is_benchmark())
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.kernels.iter().map(|k| k.name.as_str())
    }

    /// Checks the suite's internal consistency (sizes match parameters).
    pub fn validate(&self) -> Result<(), String> {
        let mut seen = std::collections::BTreeSet::new();
        for k in &self.kernels {
            if !seen.insert(&k.name) {
                return Err(format!("kernel `{}` is listed twice", k.name));
            }
            if let Some(code) = &k.code
                && (!code.ends_with(".c")
                    || code.starts_with('/')
                    || code.split('/').any(|p| p == ".." || p.is_empty()))
            {
                return Err(format!(
                    "kernel `{}`: `code` must be a C source below kernels/, like linear-algebra/blas/gemm.c, not `{code}`",
                    k.name
                ));
            }
            match &k.sizes {
                None if !k.params.is_empty() => {
                    return Err(format!("kernel `{}` has parameters but no sizes", k.name));
                }
                None => {}
                Some(sizes) => {
                    for d in Dataset::ALL {
                        let values = sizes.get(&d).ok_or_else(|| format!("kernel `{}` has no `{d}` size", k.name))?;
                        if values.len() != k.params.len() {
                            return Err(format!(
                                "kernel `{}` size `{d}` has {} values for {} parameters",
                                k.name,
                                values.len(),
                                k.params.len()
                            ));
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

impl Kernel {
    pub fn is_benchmark(&self) -> bool {
        ![STARTUP_CATEGORY, FAULTS_CATEGORY, PLANTED_CATEGORY].contains(&self.category.as_str())
    }

    /// Whether the kernel runs at each of the pipeline's datasets (its
    /// code or its arguments depend on the dataset) rather than once.
    pub fn per_dataset(&self) -> bool {
        self.sizes.is_some() || self.workload.as_ref().is_some_and(|w| w.args.per_dataset())
    }

    /// The dataset its artifacts are built for: `None` when one build
    /// serves every dataset (start-up, a workload, whose dataset is only
    /// its arguments).
    pub fn build_dataset(&self, dataset: Dataset) -> Option<Dataset> {
        self.sizes.as_ref().map(|_| dataset)
    }

    /// The program's arguments at `dataset` (a workload's; none for a kernel).
    pub fn args(&self, dataset: Dataset) -> &[String] {
        self.workload.as_ref().map_or(&[], |w| w.args.at(dataset))
    }

    /// Relative path of the source below `kernels/`.
    pub fn source(&self) -> String {
        self.code.clone().unwrap_or_else(|| format!("{}/{}.c", self.category, self.name))
    }

    /// The preprocessor definitions for `dataset`, as `(EB_<PARAM>, value)`.
    pub fn defines(&self, dataset: Dataset) -> Vec<(String, u64)> {
        let Some(sizes) = &self.sizes else {
            return Vec::new();
        };
        let values = sizes.get(&dataset).map(Vec::as_slice).unwrap_or(&[]);
        self.params.iter().zip(values).map(|(p, v)| (format!("EB_{p}"), *v)).collect()
    }
}
