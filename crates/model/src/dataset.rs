use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A PolyBench dataset size class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dataset {
    Mini,
    Small,
    Medium,
    Large,
    Extralarge,
}

impl Dataset {
    pub const ALL: [Dataset; 5] = [Dataset::Mini, Dataset::Small, Dataset::Medium, Dataset::Large, Dataset::Extralarge];

    pub fn as_str(self) -> &'static str {
        match self {
            Dataset::Mini => "mini",
            Dataset::Small => "small",
            Dataset::Medium => "medium",
            Dataset::Large => "large",
            Dataset::Extralarge => "extralarge",
        }
    }
}

impl fmt::Display for Dataset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Dataset {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Dataset::ALL.into_iter().find(|d| d.as_str().eq_ignore_ascii_case(s)).ok_or_else(|| {
            let valid: Vec<_> = Dataset::ALL.iter().map(|d| d.as_str()).collect();
            format!("unknown dataset `{s}`; valid datasets: {}", valid.join(", "))
        })
    }
}
