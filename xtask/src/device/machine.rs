//! An emulated device: a whole aarch64 machine that edgebench boots with
//! QEMU (TCG, no KVM) for a bench and shuts down after it. Once it is up it
//! is an SSH target like any other: the same preflight, deploy, detached
//! harness, resume and fetch as a real device.
//!
//! QEMU's `virt` board with Cortex-A53 cores and 1 GiB, as a Pi 3 has;
//! `raspi3b` boots the same kernel with the Pi 3's device tree, but its
//! only network is full-speed USB (files copy about 20× slower there), it
//! boots about twice as slowly and idles at a third of a host core, and it
//! runs the same emulated CPU, so it is no closer to a Pi's speed.
//!
//! The machine's disk is a copy-on-write layer over the cached image
//! (see [`crate::toolchain::guest`]), kept in the target's directory: like a
//! device's SD card it survives from one bench to the next (so `--resume`
//! finds the run it left), and it is made anew when the image changes.

use std::fs;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use xshell::{Shell, cmd};

use crate::project;
use crate::toolchain::guest::{self, GuestFiles};

/// The emulated hardware, from the target's `machine:` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MachineSpec {
    /// QEMU's CPU model.
    #[serde(default = "default_cpu")]
    pub cpu: String,
    #[serde(default = "default_cores")]
    pub cores: u32,
    #[serde(default = "default_memory")]
    pub memory_mib: u32,
}

fn default_cpu() -> String {
    "cortex-a53".into()
}
fn default_cores() -> u32 {
    4
}
fn default_memory() -> u32 {
    1024
}

/// What a snapshot records of the emulation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Emulation {
    /// `qemu-system-aarch64 --version`, first line.
    pub qemu: String,
    /// The QEMU board.
    pub machine: String,
    pub cpu: String,
    pub cores: u32,
    pub memory_mib: u32,
    pub guest: guest::Guest,
    /// Seconds from starting QEMU until the guest had finished starting
    /// (its systemd says so over SSH: sshd and the Docker engine are up).
    pub boot_s: f64,
}

impl Emulation {
    /// One line: QEMU, board, CPUs and memory.
    pub fn describe(&self) -> String {
        let version = self.qemu.trim_start_matches("QEMU emulator version ");
        format!("QEMU {version} {}, {} × {}, {} MiB, TCG", self.machine, self.cores, self.cpu, self.memory_mib)
    }
}

/// The board: see the module docs for why not `raspi3b`.
const BOARD: &str = "virt";
/// How long a boot may take before it counts as failed (typically 25–50 s
/// on 2 busy cores).
const BOOT_TIMEOUT: Duration = Duration::from_secs(600);
/// The work directory on the machine, in root's home.
pub const WORKDIR: &str = "edgebench";

/// The host name the generated ssh_config defines for the machine.
pub fn ssh_host(target: &str) -> String {
    format!("edgebench-{target}")
}

/// The machine's files in the target's directory.
pub fn dir(target: &str) -> PathBuf {
    project::target_dir(target).join("machine")
}

/// The ssh_config that reaches the machine (rewritten at every boot with
/// its port).
pub fn ssh_config(target: &str) -> PathBuf {
    dir(target).join("ssh_config")
}

/// A running machine; dropping it shuts the machine down.
pub struct Running {
    child: Child,
    target: String,
    pub emulation: Emulation,
}

/// Boots the machine of `target` and waits until root can log in over SSH.
pub fn boot(sh: &Shell, target: &str, spec: &MachineSpec, quiet: bool) -> Result<Running> {
    let files = guest::ensure(sh, crate::toolchain::arch::Arch::Aarch64, quiet)?;
    // A cached image does not mean the host still has QEMU: check (and,
    // as root, install) what booting needs every time.
    crate::toolchain::apt::ensure(sh, guest::BOOT_TOOLS)?;
    let dir = dir(target);
    crate::project::make_dir(&dir)?;
    let disk = disk(sh, &dir, &files)?;
    let port = free_port()?;
    write_ssh_config(target, &files, port)?;
    let serial = dir.join("serial.log");
    let qemu =
        cmd!(sh, "qemu-system-aarch64 --version").quiet().read().context("qemu-system-aarch64 is not installed")?;

    let cores = spec.cores.to_string();
    let memory = spec.memory_mib.to_string();
    let append = format!("console=ttyAMA0 root=LABEL={} rw quiet apparmor=0", guest::ROOT_LABEL);
    let drive = format!("file={},format=qcow2,if=none,id=disk,cache=unsafe,discard=unmap", disk.display());
    let netdev = format!("user,id=net,hostfwd=tcp:127.0.0.1:{port}-:22");
    let mut command = Command::new("qemu-system-aarch64");
    command
        .args(["-M", BOARD, "-cpu", &spec.cpu, "-smp", &cores, "-m", &memory, "-accel", "tcg,thread=multi"])
        .arg("-kernel")
        .arg(files.kernel())
        .arg("-initrd")
        .arg(files.initrd())
        .args(["-append", &append, "-drive", &drive, "-device", "virtio-blk-pci,drive=disk"])
        // No option ROM: the kernel is loaded directly, nothing boots over
        // the network, and without `romfile=` QEMU wants ipxe-qemu's
        // efi-virtio.rom, which Debian installs only as a recommendation.
        .args(["-netdev", &netdev, "-device", "virtio-net-pci,netdev=net,romfile=", "-device", "virtio-rng-pci"])
        .args(["-display", "none", "-monitor", "none"])
        .arg("-serial")
        .arg(format!("file:{}", serial.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    // QEMU must not outlive the bench, even when edgebench is killed: the
    // kernel sends it SIGTERM when its parent dies. (A background child is
    // the one process not run through xshell, which waits for its commands.)
    // SAFETY: prctl is async-signal-safe and touches no memory of ours.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    if !quiet {
        eprintln!(
            "{target}: booting the emulated machine ({BOARD}, {} × {}, {} MiB)…",
            spec.cores, spec.cpu, spec.memory_mib
        );
    }
    let started = Instant::now();
    let child = command.spawn().context("starting qemu-system-aarch64")?;
    let mut running = Running {
        child,
        target: target.into(),
        emulation: Emulation {
            qemu: qemu.lines().next().unwrap_or_default().to_string(),
            machine: BOARD.into(),
            cpu: spec.cpu.clone(),
            cores: spec.cores,
            memory_mib: spec.memory_mib,
            guest: files.guest.clone(),
            boot_s: 0.0,
        },
    };
    running.wait_for_ssh(sh, started, &serial)?;
    running.emulation.boot_s = started.elapsed().as_secs_f64();
    if !quiet {
        eprintln!("{target}: up after {:.1} s", running.emulation.boot_s);
    }
    Ok(running)
}

impl Running {
    fn wait_for_ssh(&mut self, sh: &Shell, started: Instant, serial: &Path) -> Result<()> {
        let config = ssh_config(&self.target);
        let host = ssh_host(&self.target);
        loop {
            if let Some(status) = self.child.try_wait()? {
                let mut stderr = String::new();
                if let Some(mut pipe) = self.child.stderr.take() {
                    use std::io::Read;
                    let _ = pipe.read_to_string(&mut stderr);
                }
                bail!(
                    "QEMU exited ({status}) before the machine came up: {}\nthe console's last lines:\n{}",
                    stderr.trim(),
                    tail(serial)
                );
            }
            // sshd may answer before the rest of the system is up (and the
            // network may still be reconfigured): wait for systemd to finish
            // starting. Its answer may be `degraded`; only ssh's own failure
            // (255) means not yet.
            let waited = cmd!(sh, "ssh -F {config} -o ConnectTimeout=5 {host} systemctl is-system-running --wait")
                .quiet()
                .ignore_stdout()
                .ignore_stderr()
                .ignore_status()
                .output()?;
            if waited.status.code().is_some_and(|c| c != 255) {
                return Ok(());
            }
            if started.elapsed() > BOOT_TIMEOUT {
                bail!(
                    "the machine was not reachable over SSH {} s after QEMU started; the console's last lines:\n{}",
                    BOOT_TIMEOUT.as_secs(),
                    tail(serial)
                );
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

impl Drop for Running {
    /// A clean shutdown (the disk is written back), else QEMU is killed.
    fn drop(&mut self) {
        let config = ssh_config(&self.target);
        let host = ssh_host(&self.target);
        let _ = Command::new("ssh")
            .arg("-F")
            .arg(&config)
            .args(["-o", "ConnectTimeout=5", &host, "systemctl", "poweroff"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The machine's disk: a qcow2 layer over the image, made anew when the
/// image is not the one it was made over.
fn disk(sh: &Shell, dir: &Path, files: &GuestFiles) -> Result<PathBuf> {
    let disk = dir.join("disk.qcow2");
    let stamp = dir.join("disk.base-sha256");
    if disk.exists() && fs::read_to_string(&stamp).ok().as_deref() == Some(files.guest.image_sha256.as_str()) {
        return Ok(disk);
    }
    let _ = fs::remove_file(&disk);
    let base = files.image();
    cmd!(sh, "qemu-img create -q -f qcow2 -F raw -b {base} {disk}")
        .quiet()
        .run()
        .context("making the machine's disk")?;
    fs::write(&stamp, &files.guest.image_sha256)?;
    Ok(disk)
}

/// A loopback port nothing listens on now.
fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("finding a free loopback port")?;
    Ok(listener.local_addr()?.port())
}

fn write_ssh_config(target: &str, files: &GuestFiles, port: u16) -> Result<()> {
    let text = format!(
        "# Written by edgebench when it boots the emulated machine `{target}`.\n\
         Host {host}\n  HostName 127.0.0.1\n  Port {port}\n  User root\n  IdentityFile {key}\n  IdentitiesOnly yes\n  \
         UserKnownHostsFile {known}\n  HostKeyAlias {alias}\n  StrictHostKeyChecking yes\n  BatchMode yes\n  \
         ServerAliveInterval 5\n  ServerAliveCountMax 6\n  LogLevel ERROR\n",
        host = ssh_host(target),
        key = files.client_key().display(),
        known = files.known_hosts().display(),
        alias = guest::HOST_KEY_ALIAS,
    );
    fs::write(ssh_config(target), text)?;
    Ok(())
}

/// The last lines of the console log, for errors.
fn tail(serial: &Path) -> String {
    let text = fs::read_to_string(serial).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}
