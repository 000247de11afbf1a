//! `cargo xtask doctor`: checks a target before a long run and says what to
//! fix — reachable (SSH targets), architecture, work directory, disk space,
//! Docker engine, clock, CPU governor, throttling.

use anyhow::{Result, bail};
use xshell::Shell;

use crate::device::preflight::{self, Level};
use crate::device::ssh::Ssh;
use crate::device::target::{self, Access};
use crate::flags::DoctorArgs;
use crate::project;
use crate::toolchain::apt;
use crate::toolchain::binfmt;

pub fn run(args: &DoctorArgs) -> Result<()> {
    let target = target::resolve(&args.target)?;
    println!("target `{}` ({})", target.name, target.arch);
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
    let checks = preflight::checks(&target, &facts);
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
