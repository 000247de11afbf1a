//! `docker`: the native kernel in a Docker container, run through the
//! engine's API by the `edgebench-docker` executor. `debian` runs it in a
//! Debian bookworm minbase image, as the study did; `scratch` in an image
//! holding nothing else. The images are imported from root filesystems the
//! build made (no registry needed). Peak memory is the container's own, from
//! its cgroup; the executor's own RSS is the client's and is not the
//! workload's.

use anyhow::{Result, anyhow};
use edgebench_model::executor::{ExecutorCommand, Guest};
use edgebench_model::manifest::{Artifact, ArtifactKind, Manifest};
use edgebench_model::plan::Invocation;

use super::{CellContext, Options, Runtime, program_path};
use crate::toolchain::images;
use crate::toolchain::programs::{self, Program};

pub struct Docker;

impl Docker {
    fn rootfs(manifest: &Manifest) -> Result<&Artifact> {
        manifest.find(images::DEBIAN_ROOTFS, None, ArtifactKind::Rootfs).ok_or_else(|| {
            anyhow!("no Debian root filesystem in the manifest of target `{}`; run `cargo xtask bench` (it builds one when a pipeline uses docker/debian)", manifest.target)
        })
    }

    /// `edgebench/debian:<hash>`: named after the root filesystem's content.
    fn image(variant: &str, manifest: &Manifest) -> Result<Option<String>> {
        match variant {
            "debian" => Ok(Some(format!("edgebench/debian:{}", &Self::rootfs(manifest)?.sha256[..12]))),
            // The executor names its built-in empty image by content itself.
            _ => Ok(None),
        }
    }
}

impl Runtime for Docker {
    fn name(&self) -> &'static str {
        "docker"
    }

    fn description(&self) -> &'static str {
        "the native kernel in a Docker container (engine API); debian or scratch image"
    }

    fn variants(&self) -> &'static [&'static str] {
        &["debian", "scratch"]
    }

    fn artifacts(&self, variant: &str) -> &'static [ArtifactKind] {
        if variant == "debian" { &[ArtifactKind::Native, ArtifactKind::Rootfs] } else { &[ArtifactKind::Native] }
    }

    /// The Docker engine runs the containers; the executor only drives it.
    fn external_engine(&self) -> bool {
        true
    }

    fn programs(&self, _variant: &str, _simd: bool) -> &'static [&'static Program] {
        &[&programs::DOCKER]
    }

    fn invocation(&self, cell: &CellContext<'_>) -> Result<Invocation> {
        let kernel = cell.artifact(ArtifactKind::Native)?;
        let command = ExecutorCommand::Run {
            variant: cell.variant.into(),
            max_memory: cell.memory_limit,
            image: Self::image(cell.variant, cell.manifest)?,
            module: kernel.path.clone(),
            guest: Guest { args: cell.guest_args(), env: cell.guest_env(), inputs: cell.inputs() },
        };
        let mut argv = vec![program_path(cell.manifest, &programs::DOCKER)];
        argv.extend(command.to_args());
        Ok(Invocation { argv, executor_report: true, workload_elsewhere: true, ..Default::default() })
    }

    /// Reaches the engine and imports the image when it is missing.
    fn probe(&self, variant: &str, _simd: bool, _options: &Options, manifest: &Manifest) -> Option<Invocation> {
        let rootfs = (variant == "debian").then(|| Self::rootfs(manifest).ok().map(|a| a.path.clone())).flatten();
        let image = Self::image(variant, manifest).ok().flatten();
        let command = ExecutorCommand::Probe { variant: variant.into(), simd: false, image, rootfs };
        let mut argv = vec![program_path(manifest, &programs::DOCKER)];
        argv.extend(command.to_args());
        Some(Invocation { argv, ..Default::default() })
    }
}
