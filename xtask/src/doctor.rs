//! `cargo xtask doctor`: checks a target before a long run and says what to
//! fix — reachable (SSH targets), architecture, work directory, disk space,
//! Docker engine, clock, CPU governor, throttling.

use anyhow::{Result, bail};
use edgebench_model::manifest::ArtifactKind;
use edgebench_model::suite::Kernel;
use edgebench_model::workload::{Flavour, Origin, Workload};
use xshell::Shell;

use crate::device::availability;
use crate::device::machine;
use crate::device::preflight::{self, Check, Facts, Level};
use crate::device::ssh::Ssh;
use crate::device::target::{self, Access, Target};
use crate::flags::DoctorArgs;
use crate::planning::{pipeline, suite};
use crate::project;
use crate::snapshot;
use crate::toolchain::arch::Arch;
use crate::toolchain::{apt, binfmt, debian_source, guest, workload};

/// The pipeline, validated, and one check per runtime variant: whether it
/// can run on the target (a variant that cannot is a warning: its runs
/// would be recorded as unavailable).
fn runtime_checks(pipeline: &str, target: &Target, facts: &Facts) -> Result<Vec<Check>> {
    let pipeline = pipeline::load(pipeline, &suite::load()?)?;
    println!("pipeline `{}`: valid ({} runtime variant(s))", pipeline.name, pipeline.runtimes.len());
    for line in snapshot::detectable::planned_for(&target.name, &pipeline) {
        println!("{line}");
    }
    let unavailable = availability::check(&Shell::new()?, &pipeline, target, facts, &project::target_dir(&target.name));
    let mut checks: Vec<Check> = pipeline.cpus.iter().map(|cpus| facts.cpus_check(cpus)).collect();
    let sh = Shell::new()?;
    for kernel in &pipeline.kernels {
        if let Some(workload) = &kernel.workload {
            checks.push(workload_check(&sh, kernel, workload, target.arch));
        }
    }
    checks.extend(pipeline.runtimes.iter().map(|used| {
        let label = used.label();
        match unavailable.get(&label) {
            None => Check::ok(label, "can run here"),
            Some(why) => Check::warning(label, format!("unavailable: {why}"), None),
        }
    }));
    Ok(checks)
}

/// What building a workload needs on this machine, checked before a bench:
/// the host tools of its origin (curl and dpkg-source for a source
/// package, the build command's program), and which of its builds the
/// target gets. A missing tool is a failure; a flavour the workload does
/// not offer, a warning (its cells would be unavailable).
fn workload_check(sh: &Shell, kernel: &Kernel, workload: &Workload, arch: Arch) -> Check {
    let name = format!("workload {}", kernel.name);
    let native = workload::flavour(ArtifactKind::Native, arch).expect("native code has a flavour");
    // The builds this target would get: its own native one, and Wasm.
    let offered: Vec<&str> = Flavour::ALL
        .into_iter()
        .filter(|f| workload::offers(workload, *f) && (!f.is_native() || *f == native))
        .map(Flavour::as_str)
        .collect();
    let (origin, tools): (String, Vec<&str>) = match &workload.origin {
        Origin::Sources { sources, fetch: None, .. } => {
            (format!("{} source file(s), the pinned zig", sources.len()), vec![])
        }
        Origin::Sources { sources, fetch: Some(package), .. } => (
            format!(
                "{} source file(s) with Debian's {} {}, the pinned zig",
                sources.len(),
                package.package,
                package.version
            ),
            debian_source::TOOLS.iter().map(|(tool, _)| *tool).collect(),
        ),
        Origin::Command { argv, .. } => (format!("the command `{}`", argv.join(" ")), vec![argv[0].as_str()]),
        Origin::Prebuilt { files } => (format!("{} prebuilt file(s), pinned", files.len()), vec![]),
    };
    let missing: Vec<&str> = tools
        .into_iter()
        .filter(|tool| {
            // A program of the pipeline's own directory, or one on PATH.
            let here = tool.contains('/') && workload.dir.join(tool).is_file();
            !here && !apt::has(sh, tool)
        })
        .collect();
    if !missing.is_empty() {
        return Check::failure(
            name,
            format!("built from {origin}: `{}` not found", missing.join("`, `")),
            "install it (curl; dpkg-source is in Debian's and Ubuntu's dpkg-dev) or put it on PATH",
        );
    }
    let detail = format!("built from {origin}; builds for this target: {}", offered.join(", "));
    if workload::offers(workload, native) {
        Check::ok(name, detail)
    } else {
        Check::warning(
            name,
            format!("{detail}; no {} build, so native and docker cells will be unavailable", native.as_str()),
            Some("add that build to its definition, or leave those runtimes out"),
        )
    }
}

fn boot_machine(name: &str, spec: &machine::MachineSpec) -> Result<machine::Running> {
    let sh = Shell::new()?;
    for tool in guest::TOOLS.iter().chain(guest::BOOT_TOOLS) {
        let found = apt::has(&sh, tool.command);
        println!(
            "[{}] {:<18} {}{}",
            if found { "ok  " } else { "FAIL" },
            tool.command,
            tool.why,
            if found { String::new() } else { format!(" (Debian package {})", tool.package) }
        );
    }
    let running = machine::boot(&sh, name, spec, false)?;
    let e = &running.emulation;
    println!(
        "[ok  ] {:<18} {}, {} × {}, {} MiB, up in {:.1} s",
        "machine", e.qemu, e.cores, e.cpu, e.memory_mib, e.boot_s
    );
    println!(
        "[ok  ] {:<18} Debian {} {}, kernel {}, sha256 {}",
        "disk image", e.guest.suite, e.guest.arch, e.guest.kernel, e.guest.image_sha256
    );
    Ok(running)
}

pub fn run(args: &DoctorArgs) -> Result<()> {
    let target = target::resolve(&args.target)?;
    println!("target `{}` ({})", target.name, target.arch);
    // An emulated machine is booted (its disk image made first, once, as
    // root) and then checked like any device; it shuts down at the end.
    let _machine = match &target.machine {
        Some(spec) => Some(boot_machine(&target.name, spec)?),
        None => None,
    };
    let facts = match &target.access {
        Access::Local => {
            if let Some(emulator) = &target.emulator {
                let found = apt::has(&Shell::new()?, emulator);
                println!(
                    "[{}] {:<18} {emulator}{}",
                    if found { "ok  " } else { "FAIL" },
                    "emulator",
                    if found { "" } else { " not found: install it (Debian: qemu-user-static)" }
                );
                match binfmt::status(target.arch) {
                    Ok(how) => println!("[ok  ] {:<18} {how}", "binfmt_misc"),
                    Err(why) => println!(
                        "[warn] {:<18} {why}\n       {:<18} → run the bench as root (it registers it), or install binfmt-support",
                        "binfmt_misc", ""
                    ),
                }
            }
            preflight::local(&project::target_dir(&target.name))?
        }
        Access::Ssh { destination, workdir, config } => {
            let ssh = Ssh::new(&target.name, destination, config.as_deref())?;
            let reached = ssh.connect().and_then(|()| preflight::remote(&ssh, workdir));
            ssh.disconnect();
            match reached {
                Ok(facts) => {
                    println!("[ok  ] {:<18} {destination}", "reachable");
                    facts
                }
                Err(e) => {
                    println!("[FAIL] {:<18} {e:#}", "reachable");
                    bail!("target `{}` cannot be reached", target.name);
                }
            }
        }
    };
    let mut checks = preflight::checks(&target, &facts);
    if let Some(pipeline) = &args.pipeline {
        checks.extend(runtime_checks(pipeline, &target, &facts)?);
    }
    for check in &checks {
        println!("{check}");
    }
    let failed = checks.iter().filter(|c| c.level == Level::Failure).count();
    let warned = checks.iter().filter(|c| c.level == Level::Warning).count();
    if failed > 0 {
        bail!("target `{}`: {failed} check(s) failed, {warned} warning(s)", target.name);
    }
    println!("target `{}` is ready ({warned} warning(s))", target.name);
    Ok(())
}
