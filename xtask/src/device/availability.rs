//! What each runtime variant of a pipeline needs, of this machine to build
//! it and of the device to run it, checked before anything is built. A
//! variant that cannot run is planned as `unavailable`, with the reason, so
//! its runs are recorded as such: never a failure after a long build, never
//! silently dropped.

use xshell::Shell;

use crate::device::preflight::Facts;
use crate::device::target::Target;
use crate::planning::pipeline::{Pipeline, RuntimeUse};
use crate::planning::plan::Unavailable;
use crate::toolchain::arch::Arch;
use crate::toolchain::{apt, binfmt, images, programs, sid_root};
use edgebench_model::manifest::ArtifactKind;

/// Every runtime variant of the pipeline that cannot run on the target.
pub fn check(
    sh: &Shell,
    pipeline: &Pipeline,
    target: &Target,
    facts: &Facts,
    target_dir: &std::path::Path,
) -> Unavailable {
    pipeline
        .runtimes
        .iter()
        .filter_map(|used| why_not(sh, used, target, facts, target_dir).map(|why| (used.label(), why)))
        .collect()
}

/// Why a runtime variant cannot run on the target, if it cannot.
fn why_not(
    sh: &Shell,
    used: &RuntimeUse,
    target: &Target,
    facts: &Facts,
    target_dir: &std::path::Path,
) -> Option<String> {
    let needs = used.programs();
    if needs.contains(&&programs::DOCKER) {
        match &facts.docker {
            Some(Ok(_)) => {}
            Some(Err(error)) => {
                return Some(format!(
                    "the Docker engine did not answer ({error}); start it, and let this user reach it \
                     (the `docker` group)"
                ));
            }
            None => return Some("no Docker engine on the device (`docker` is not installed)".into()),
        }
    }
    for program in needs {
        if let Err(why) = sid_root::can_provide(sh, program, target.arch) {
            return Some(why);
        }
    }
    let needs_rootfs = used.artifacts().contains(&ArtifactKind::Rootfs);
    let foreign = Arch::host().is_ok_and(|host| host != target.arch);
    if needs_rootfs && foreign && binfmt::status(target.arch).is_err() && !apt::is_root(sh) {
        return Some(format!(
            "the Debian image for {} is built under qemu-user, which is not registered with binfmt_misc here; \
             run the bench once as root (it registers it)",
            target.arch
        ));
    }
    if needs_rootfs && !images::debian_rootfs_is_current(target_dir, target.arch) {
        return images::can_build_debian_rootfs(sh).err();
    }
    None
}
