//! SSH targets against a real OpenSSH server (Debian's openssh-server) that
//! each test starts on a loopback port, with its own host key, its own user
//! key and a strict known_hosts: deploy, detached runs, dropped connections,
//! resume, fleets, `doctor`, and bad inputs.

mod common;

use std::collections::BTreeMap;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use edgebench_model::plan::Plan;
use edgebench_model::record::RunRecord;

/// A private sshd on 127.0.0.1, and the client files that reach it.
struct Sshd {
    dir: tempfile::TempDir,
    port: u16,
    listener: Option<Child>,
}

impl Sshd {
    fn start() -> Sshd {
        let sshd = sshd_binary();
        let dir = tempfile::Builder::new().prefix("edgebench-sshd").tempdir().unwrap();
        let d = dir.path();
        for key in ["host_key", "user_key", "other_host_key"] {
            run(Command::new("ssh-keygen").args(["-q", "-t", "ed25519", "-N", "", "-C", key, "-f"]).arg(d.join(key)));
        }
        std::fs::copy(d.join("user_key.pub"), d.join("authorized_keys")).unwrap();
        let port = free_port();
        let user = user();
        std::fs::write(
            d.join("sshd_config"),
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_key\nPidFile {d}/sshd.pid\n\
                 AuthorizedKeysFile {d}/authorized_keys\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n\
                 PubkeyAuthentication yes\nPermitRootLogin prohibit-password\nUsePAM no\nStrictModes no\n\
                 AllowUsers {user}\nMaxSessions 64\nMaxStartups 64\nSubsystem sftp internal-sftp\n",
                d = d.display()
            ),
        )
        .unwrap();
        let host_key = std::fs::read_to_string(d.join("host_key.pub")).unwrap();
        std::fs::write(d.join("known_hosts"), format!("[127.0.0.1]:{port} {host_key}")).unwrap();
        let other_key = std::fs::read_to_string(d.join("other_host_key.pub")).unwrap();
        std::fs::write(d.join("wrong_known_hosts"), format!("[127.0.0.1]:{port} {other_key}")).unwrap();
        let mut config = String::new();
        for (alias, known_hosts) in [("device", "known_hosts"), ("impostor", "wrong_known_hosts")] {
            config.push_str(&format!(
                "Host {alias}\n  HostName 127.0.0.1\n  Port {port}\n  User {user}\n  IdentityFile {d}/user_key\n  \
                 IdentitiesOnly yes\n  UserKnownHostsFile {d}/{known_hosts}\n  GlobalKnownHostsFile /dev/null\n  \
                 StrictHostKeyChecking yes\n",
                d = d.display()
            ));
        }
        std::fs::write(d.join("ssh_config"), config).unwrap();
        // sshd refuses to start without its privilege separation directory.
        std::fs::create_dir_all("/run/sshd").ok();
        let mut server = Sshd { dir, port, listener: None };
        server.listener = Some(server.spawn(&sshd));
        server
    }

    fn spawn(&self, sshd: &Path) -> Child {
        let log = std::fs::File::options().create(true).append(true).open(self.path("sshd.log")).unwrap();
        let child = Command::new(sshd)
            .args(["-D", "-e", "-f"])
            .arg(self.path("sshd_config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("starting sshd");
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "sshd did not listen:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
        child
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.path("sshd.log")).unwrap_or_default()
    }

    /// Kills every session the server has open, as a dropped link would;
    /// the server goes on accepting connections.
    fn cut_sessions(&self) {
        let pid = self.listener.as_ref().expect("sshd runs").id();
        for child in descendants(pid) {
            unsafe { libc::kill(child as i32, libc::SIGKILL) };
        }
    }

    /// Stops the server and its sessions.
    fn stop(&mut self) {
        self.cut_sessions();
        if let Some(mut listener) = self.listener.take() {
            let _ = listener.kill();
            let _ = listener.wait();
        }
    }

    fn restart(&mut self) {
        self.listener = Some(self.spawn(&sshd_binary()));
    }

    /// Writes a targets file naming `entries` (YAML bodies by name).
    fn targets(&self, entries: &[(&str, String)]) -> PathBuf {
        let mut yaml = String::from("targets:\n");
        for (name, body) in entries {
            yaml.push_str(&format!("  {name}:\n"));
            for line in body.lines() {
                yaml.push_str(&format!("    {line}\n"));
            }
        }
        let path = self.path(&format!("targets-{}.yaml", entries[0].0));
        std::fs::write(&path, yaml).unwrap();
        path
    }

    /// A target on this server; `workdir` is on the "device".
    fn target(&self, alias: &str, arch: &str, workdir: &Path) -> String {
        format!(
            "arch: {arch}\nssh: {alias}\nssh_config: {}\nworkdir: {}",
            self.path("ssh_config").display(),
            workdir.display()
        )
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        self.stop();
    }
}

fn sshd_binary() -> PathBuf {
    let path = PathBuf::from("/usr/sbin/sshd");
    assert!(path.exists(), "these tests need an SSH server: apt-get install openssh-server");
    path
}

fn user() -> String {
    let out = Command::new("id").arg("-un").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn run(command: &mut Command) {
    let out = command.output().unwrap();
    assert!(out.status.success(), "{command:?}:\n{}", text(&out));
}

/// Every process below `pid`, from /proc.
fn descendants(pid: u32) -> Vec<u32> {
    let mut parents: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        // The parent is the second field after the parenthesised name.
        let Some(ppid) = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(1)) else { continue };
        parents.entry(ppid.parse().unwrap_or(0)).or_default().push(child);
    }
    let mut out = Vec::new();
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        for &c in parents.get(&p).map(Vec::as_slice).unwrap_or(&[]) {
            out.push(c);
            todo.push(c);
        }
    }
    out
}

fn xtask_with(targets: &Path, args: &[&str]) -> Command {
    let mut command = xtask(args);
    command.env("EDGEBENCH_TARGETS", targets);
    command
}

fn ok(mut command: Command) -> std::process::Output {
    let out = command.output().unwrap();
    assert!(out.status.success(), "{command:?} failed:\n{}", text(&out));
    out
}

fn err(mut command: Command) -> String {
    let out = command.output().unwrap();
    assert!(!out.status.success(), "{command:?} should have failed:\n{}", text(&out));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn lines_with<'a>(out: &'a std::process::Output, prefix: &str) -> Vec<&'a str> {
    let stdout = std::str::from_utf8(&out.stdout).unwrap();
    stdout.lines().filter_map(|l| l.strip_prefix(prefix)).collect()
}

/// Every planned run is recorded exactly once, and nothing else is.
fn assert_exactly_once(plan: &Plan, records: &[RunRecord]) {
    let mut seen = vec![0; plan.runs.len()];
    for r in records {
        let planned = &plan.runs[r.run];
        assert_eq!((r.cell, r.repetition, r.warmup), (planned.cell, planned.repetition, planned.warmup));
        assert_eq!(r.plan_id, plan.id);
        seen[r.run] += 1;
    }
    let wrong: Vec<(usize, i32)> = seen.iter().enumerate().filter(|(_, n)| **n != 1).map(|(i, n)| (i, *n)).collect();
    assert!(wrong.is_empty(), "runs not recorded exactly once (run, times): {wrong:?}");
}

fn plan_of(run_dir: &Path) -> Plan {
    serde_json::from_str(&std::fs::read_to_string(run_dir.join("plan.json")).unwrap()).unwrap()
}

/// Files below `dir`, relative, sorted.
fn tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                todo.push(path);
            } else {
                out.push(path.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

const SMALL: &str = "kernels: [gemm, jacobi-1d, startup]\ndatasets: [mini]\nruntimes:\n  - runtime: native\n  \
                     - runtime: wasmtime\n    variants: [aot]\n  - runtime: wasmer\n    variants: [singlepass]\n\
                     repetitions: 3\nwarmups: 1\ntimeout_s: 60\nbaseline: native\n";

/// doctor first: everything that must hold does, and a pipeline pinned to
/// a CPU the device lacks is not "ready".
fn check_doctor(sshd: &Sshd, targets: &Path) {
    let out = ok(xtask_with(targets, &["doctor", "--target", "loopback"]));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for check in ["reachable", "architecture", "work directory", "disk space", "sha256sum", "clock"] {
        assert!(stdout.lines().any(|l| l.starts_with("[ok  ] ") && l.contains(check)), "{check}:\n{stdout}");
    }
    let pinned = common::pipeline(sshd.dir.path(), "pinned-away", &format!("{SMALL}cpus: [1023]\n"));
    let out = xtask_with(targets, &["doctor", "--target", "loopback", "--pipeline", pinned.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(stdout.contains("[FAIL] cpus") && stdout.contains("CPU 1023, which the device does not offer"), "{stdout}");
}

#[test]
fn a_fleet_of_a_remote_and_the_local_target_gives_snapshots_of_the_same_shape() {
    let sshd = Sshd::start();
    let device = sshd.path("device-home/edgebench");
    let targets = sshd.targets(&[("loopback", sshd.target("device", "x86_64", &device))]);
    let pipeline = pipeline(sshd.dir.path(), "remote-small", SMALL);
    let p = pipeline.to_str().unwrap();

    check_doctor(&sshd, &targets);

    let out = ok(xtask_with(&targets, &["bench", "--target", "loopback,local", "--pipeline", p]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("loopback: deployed "), "{stderr}");
    let runs = lines_with(&out, "results: ");
    let snapshots = lines_with(&out, "snapshot: ");
    assert_eq!((runs.len(), snapshots.len()), (2, 2), "{}", text(&out));
    let (remote_run, local_run) = (Path::new(runs[0]), Path::new(runs[1]));
    let (remote_snap, local_snap) = (Path::new(snapshots[0]), Path::new(snapshots[1]));
    assert!(remote_snap.starts_with(test_results().join("loopback")), "{}", remote_snap.display());
    assert!(local_snap.starts_with(test_results().join("local")), "{}", local_snap.display());

    // The records came from the device: the copy equals the device's file.
    let rel = remote_run.strip_prefix(target_dir("loopback")).unwrap();
    let on_device = std::fs::read_to_string(device.join(rel).join("results.jsonl")).unwrap();
    assert_eq!(std::fs::read_to_string(remote_run.join("results.jsonl")).unwrap(), on_device);
    let records = read_records(&remote_run.join("results.jsonl"));
    assert_exactly_once(&plan_of(remote_run), &records);
    assert!(records.iter().all(|r| r.outcome.is_ok()), "{records:#?}");
    assert!(device.join("bin/edgebench-harness").is_file());

    // Same kernels, same checksums, here and there.
    let checksums = |records: &[RunRecord]| -> BTreeMap<String, String> {
        records.iter().filter_map(|r| Some((r.kernel.clone(), r.checksum.clone()?))).collect()
    };
    let local_records = read_records(&local_run.join("results.jsonl"));
    assert_eq!(checksums(&records), checksums(&local_records));

    // Snapshots of the same shape: same files, same cells and metrics.
    assert_eq!(tree(remote_snap), tree(local_snap));
    let cells = |snap: &Path| -> Vec<(String, Vec<String>)> {
        let summary: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(snap.join("summary.json")).unwrap()).unwrap();
        summary["analysis"]["cells"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                let key = &c["key"];
                let metrics = c["metrics"].as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default();
                (format!("{}/{}/{}/{}", key["kernel"], key["dataset"], key["runtime"], key["variant"]), metrics)
            })
            .collect()
    };
    assert_eq!(cells(remote_snap), cells(local_snap));
    let provenance: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(remote_snap.join("provenance.json")).unwrap()).unwrap();
    assert!(provenance["target"]["access"].as_str().unwrap().contains("ssh"), "{}", provenance["target"]);
    assert!(provenance["device_before"]["kernel"].is_string(), "device provenance: {}", provenance["device_before"]);

    // A second bench copies nothing but its plan; a file altered on the
    // device is noticed by its hash and copied again.
    let harness = device.join("bin/edgebench-harness");
    let mut bytes = std::fs::read(&harness).unwrap();
    bytes.push(0);
    std::fs::write(&harness, bytes).unwrap();
    let out = ok(xtask_with(&targets, &["bench", "--target", "loopback", "--pipeline", p]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("loopback: deployed 1 file(s)"), "{stderr}");
    let out = ok(xtask_with(&targets, &["bench", "--target", "loopback", "--pipeline", p]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("loopback: deployed 0 file(s)"), "{stderr}");
}

/// A plan long enough to cut the connection in the middle: `spin` runs
/// until its timeout, whatever the machine's speed.
const LONG: &str = "kernels: [spin, startup]\ndatasets: [mini]\nruntimes:\n  - runtime: native\n\
                    repetitions: 16\ntimeout_s: 0.25\norder: interleaved\n";

/// The run directory of the newest run on the device, once it holds at
/// least `n` records.
fn wait_for_records(device: &Path, n: usize, bench: &mut Child) -> PathBuf {
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        if let Some(status) = bench.try_wait().unwrap() {
            panic!("the bench ended ({status}) before {n} records were written");
        }
        let newest =
            std::fs::read_dir(device.join("runs")).ok().and_then(|entries| entries.flatten().map(|e| e.path()).max());
        if let Some(run) = newest
            && std::fs::read_to_string(run.join("results.jsonl")).map(|t| t.lines().count()).unwrap_or(0) >= n
        {
            return run;
        }
        assert!(Instant::now() < deadline, "no {n} records on the device in time");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn finish(bench: Child) -> std::process::Output {
    bench.wait_with_output().unwrap()
}

#[test]
fn a_dropped_connection_is_reconnected_and_nothing_is_lost_or_repeated() {
    let sshd = Sshd::start();
    let device = sshd.path("device");
    let targets = sshd.targets(&[("cut", sshd.target("device", "x86_64", &device))]);
    let pipeline = pipeline(sshd.dir.path(), "remote-long", LONG);
    let mut bench = xtask_with(&targets, &["bench", "--target", "cut", "--pipeline", pipeline.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_records(&device, 4, &mut bench);
    sshd.cut_sessions();
    let out = finish(bench);
    assert!(out.status.success(), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cut: lost the connection") && stderr.contains("cut: reconnected"), "{stderr}");
    let run = PathBuf::from(lines_with(&out, "results: ")[0]);
    assert_exactly_once(&plan_of(&run), &read_records(&run.join("results.jsonl")));
}

#[test]
fn a_bench_run_again_after_the_device_was_lost_resumes_without_loss_or_repeats() {
    let mut sshd = Sshd::start();
    let device = sshd.path("device");
    let targets = sshd.targets(&[("lost", sshd.target("device", "x86_64", &device))]);
    let pipeline = pipeline(sshd.dir.path(), "remote-lost", LONG);
    let p = pipeline.to_str().unwrap();
    let mut bench = xtask_with(&targets, &["bench", "--target", "lost", "--pipeline", p, "--reconnect-for", "2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let run_on_device = wait_for_records(&device, 3, &mut bench);
    // The link goes, and the harness with it (a power cut, say).
    sshd.stop();
    let pid: i32 = std::fs::read_to_string(run_on_device.join("harness.pid")).unwrap().trim().parse().unwrap();
    unsafe { libc::kill(pid, libc::SIGKILL) };
    let out = finish(bench);
    assert!(!out.status.success(), "the bench should fail without its device:\n{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("could not reconnect") && stderr.contains("--resume"), "{stderr}");
    let partial = std::fs::read_to_string(run_on_device.join("results.jsonl")).unwrap().lines().count();

    sshd.restart();
    let out = ok(xtask_with(&targets, &["bench", "--target", "lost", "--pipeline", p, "--resume"]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("lost: resuming runs/"), "{stderr}");
    assert!(stderr.contains("lost: the harness was not running") && stderr.contains("to resume"), "{stderr}");
    let run = PathBuf::from(lines_with(&out, "results: ")[0]);
    assert_eq!(run.file_name(), run_on_device.file_name(), "the same run was resumed");
    let records = read_records(&run.join("results.jsonl"));
    assert!(records.len() > partial);
    assert_exactly_once(&plan_of(&run), &records);
}

#[test]
fn bad_targets_fail_clearly_and_leave_earlier_results_alone() {
    let sshd = Sshd::start();
    let pipeline = pipeline(sshd.dir.path(), "remote-bad", SMALL);
    let p = pipeline.to_str().unwrap();
    let not_a_dir = sshd.path("a-file");
    std::fs::write(&not_a_dir, "").unwrap();
    // Room for the harness, not for both engines' executors.
    let small_disk = SmallDisk::mount(&sshd.path("small-disk"), 48);
    let user = user();
    let targets = sshd.targets(&[
        ("unreachable", format!("arch: x86_64\nssh: {user}@127.0.0.1:{}\nworkdir: edgebench", free_port())),
        ("impostor", sshd.target("impostor", "x86_64", &sshd.path("device"))),
        ("wrong-arch", sshd.target("device", "aarch64", &sshd.path("device"))),
        ("unwritable", sshd.target("device", "x86_64", &not_a_dir.join("edgebench"))),
        ("full", sshd.target("device", "x86_64", &small_disk.path.join("edgebench"))),
    ]);
    // Results of an earlier bench, which nothing below may touch.
    let earlier = sshd.path("results");
    std::fs::create_dir_all(earlier.join("impostor/remote-bad/20260101T000000Z")).unwrap();
    std::fs::write(earlier.join("impostor/remote-bad/20260101T000000Z/records.jsonl"), "{}\n").unwrap();
    let before = tree(&earlier);
    let cases = [
        ("unreachable", "nothing accepts SSH connections"),
        ("impostor", "host key"),
        ("wrong-arch", "the device is `x86_64`, the target says `aarch64`"),
        ("unwritable", "Not a directory"),
        ("full", "this deploy needs"),
    ];
    for (target, expected) in cases {
        let mut bench = xtask_with(&targets, &["bench", "--quiet", "--target", target, "--pipeline", p]);
        bench.env("EDGEBENCH_RESULTS_DIR", &earlier);
        let stderr = err(bench);
        assert!(stderr.contains(expected), "{target}: expected `{expected}` in:\n{stderr}");
    }
    let stderr = err(xtask_with(&targets, &["doctor", "--target", "wrong-arch"]));
    assert!(stderr.contains("check(s) failed"), "{stderr}");
    // Nothing was written into the results; the full disk got no partial files.
    assert_eq!(tree(&earlier), before);
    let leftovers: Vec<String> = tree(&small_disk.path).into_iter().filter(|f| f.ends_with(".part")).collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// A small tmpfs, so a device's disk can be full.
struct SmallDisk {
    path: PathBuf,
}

impl SmallDisk {
    fn mount(path: &Path, mib: u32) -> SmallDisk {
        std::fs::create_dir_all(path).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
            .arg(path)
            .output()
            .unwrap();
        assert!(out.status.success(), "this test mounts a small tmpfs and needs root:\n{}", text(&out));
        SmallDisk { path: path.to_path_buf() }
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.path).status();
    }
}
