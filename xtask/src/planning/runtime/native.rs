//! `native`: the kernel compiled for the target, run directly.

use anyhow::Result;
use edgebench_model::manifest::ArtifactKind;
use edgebench_model::plan::Invocation;

use super::{CellContext, Runtime};

pub struct Native;

impl Runtime for Native {
    fn name(&self) -> &'static str {
        "native"
    }

    fn description(&self) -> &'static str {
        "the kernel as a statically linked executable for the target"
    }

    fn variants(&self) -> &'static [&'static str] {
        &["default"]
    }

    fn artifacts(&self, _variant: &str) -> &'static [ArtifactKind] {
        &[ArtifactKind::Native]
    }

    fn invocation(&self, cell: &CellContext<'_>) -> Result<Invocation> {
        let exe = cell.artifact(ArtifactKind::Native)?;
        let mut argv = vec![exe.path.clone()];
        argv.extend(cell.args());
        Ok(Invocation { argv, env: cell.env(), address_space_limit: cell.memory_limit, ..Default::default() })
    }
}
