//! `cargo xtask doctor`: checks a target before a long run and says what to
//! fix — reachable (SSH targets), architecture, work directory, disk space,
//! Docker engine, clock, CPU governor, throttling.

use anyhow::{Result, bail};
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
use crate::toolchain::apt;
use crate::toolchain::{binfmt, guest};

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
            checks.push(crate::toolchain::workload::doctor(&sh, kernel, workload, target.arch));
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
