//! A first run as an ordinary user: not root, Docker reached through the
//! `docker` group, in a working copy of their own. As root, the test makes
//! such a user (`edgebench-user`), gives it a copy of this tree and lets it
//! use this machine's Rust toolchain; run by an ordinary user, it is that
//! user. Either way the user validates the default pipeline and checks the
//! machine (`doctor --pipeline default`), then benches native code and both
//! Docker images — the Debian one made without root — and every run must be
//! ok.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;

const USER: &str = "edgebench-user";

fn run(command: &mut Command) -> Output {
    let output = command.output().unwrap_or_else(|e| panic!("{command:?}: {e}"));
    assert!(output.status.success(), "{command:?} failed:\n{}", text(&output));
    output
}

fn is_root() -> bool {
    unsafe { libc::geteuid() == 0 }
}

/// The files of this tree a user's clone would hold: tracked, and new ones
/// not ignored.
fn copy_tree(to: &Path) {
    let listed = run(Command::new("git").args(["ls-files", "-z", "-co", "--exclude-standard"]).current_dir(root()));
    for name in listed.stdout.split(|b| *b == 0).filter(|n| !n.is_empty()) {
        let name = Path::new(std::str::from_utf8(name).unwrap());
        let from = root().join(name);
        if !from.is_file() {
            continue;
        }
        let dest = to.join(name);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(&from, &dest).unwrap();
    }
}

/// As root: the ordinary user, in the `docker` group.
fn ensure_user() {
    let exists = Command::new("id").arg(USER).output().unwrap().status.success();
    if !exists {
        // Debian's useradd gives a new user subordinate ids (/etc/subuid),
        // which an unprivileged mmdebstrap needs.
        run(Command::new("useradd").args(["--create-home", "--groups", "docker", "--shell", "/bin/sh", USER]));
    }
    run(Command::new("usermod").args(["--append", "--groups", "docker", USER]));
}

/// As root: the user owns its working copy, and may traverse the
/// directories above this machine's Rust toolchain that others may not
/// (root's home): nothing else of root's.
fn hand_over(home: &Path, sysroot: &Path) {
    use std::os::unix::fs::PermissionsExt;
    for dir in sysroot.ancestors().skip(1) {
        let mode = std::fs::metadata(dir).unwrap().permissions().mode();
        if mode & 0o001 == 0 {
            run(Command::new("setfacl").args(["--modify", &format!("u:{USER}:x")]).arg(dir));
        }
    }
    run(Command::new("chown").args(["-R", &format!("{USER}:{USER}")]).arg(home));
}

/// `cargo …` in the working copy, as the user, with only what an ordinary
/// user's environment has.
fn cargo_as_user(work: &Path, cargo_home: &Path, sysroot: &Path, args: &[&str]) -> Output {
    let mut command = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", USER, "--"]);
        c
    } else {
        Command::new("env")
    };
    let path = format!("{}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", sysroot.join("bin").display());
    command
        .args(["env", "-i", "LANG=C.UTF-8"])
        .arg(format!("HOME={}", work.parent().unwrap().display()))
        .arg(format!("PATH={path}"))
        .arg(format!("CARGO_HOME={}", cargo_home.display()))
        .arg("cargo")
        .args(args)
        .current_dir(work);
    command.output().unwrap()
}

/// As root: `doctor --pipeline default` as the user, in a user namespace
/// whose limit of nested user namespaces is 0 — a host that refuses them,
/// as AppArmor does on Ubuntu 24.04, simulated where the host's own
/// setting cannot be changed. The namespace maps the ids one to one; once
/// the map is written the shell execs again to regain its capabilities in
/// it, sets the limit and becomes the user.
fn doctor_without_user_namespaces(work: &Path, cargo_home: &Path, sysroot: &Path) -> Output {
    use std::io::{BufRead, BufReader, Write};
    use std::process::Stdio;
    let script = r#"echo ready; read go; exec sh -c 'echo 0 > /proc/sys/user/max_user_namespaces && cd "$0" && exec "$@"' "$0" "$@""#;
    let path = format!("{}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", sysroot.join("bin").display());
    let mut child = Command::new("unshare")
        .args(["--user", "--", "sh", "-c", script])
        .arg(work)
        .args(["setpriv", &format!("--reuid={USER}"), &format!("--regid={USER}"), "--init-groups"])
        .args(["env", "-i", "LANG=C.UTF-8"])
        .arg(format!("HOME={}", work.parent().unwrap().display()))
        .arg(format!("PATH={path}"))
        .arg(format!("CARGO_HOME={}", cargo_home.display()))
        .args(["cargo", "xtask", "doctor", "--pipeline", "default"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut ready = String::new();
    stdout.read_line(&mut ready).unwrap();
    assert_eq!(ready.trim(), "ready");
    for map in ["uid_map", "gid_map"] {
        std::fs::write(format!("/proc/{}/{map}", child.id()), "0 0 65536\n").unwrap();
    }
    child.stdin.take().unwrap().write_all(b"go\n").unwrap();
    let mut rest = Vec::new();
    std::io::Read::read_to_end(&mut stdout, &mut rest).unwrap();
    let mut output = child.wait_with_output().unwrap();
    output.stdout = rest;
    output
}

#[test]
fn an_ordinary_user_checks_and_benches_without_root() {
    let base = if is_root() {
        ensure_user();
        PathBuf::from(format!("/home/{USER}"))
    } else {
        std::env::temp_dir()
    };
    let home = tempfile::Builder::new().prefix("edgebench-first-run-").tempdir_in(&base).unwrap();
    let work = home.path().join("edgebench");
    copy_tree(&work);
    // The pinned toolchains this tree provisioned already (zig and its
    // caches): a user's first run downloads them, which is not under test.
    for dir in ["zig-0.17.1", "zig-cache", "downloads"] {
        let from = root().join("target/toolchains").join(dir);
        if from.exists() {
            std::fs::create_dir_all(work.join("target/toolchains")).unwrap();
            run(Command::new("cp").arg("-a").arg(&from).arg(work.join("target/toolchains")));
        }
    }
    // The crates this machine has fetched, so the user's builds need not.
    let cargo_home = home.path().join("cargo-home");
    let ours = std::env::var_os("CARGO_HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/root/.cargo"));
    std::fs::create_dir_all(cargo_home.join("registry")).unwrap();
    for dir in ["index", "cache"] {
        if ours.join("registry").join(dir).exists() {
            run(Command::new("cp").arg("-a").arg(ours.join("registry").join(dir)).arg(cargo_home.join("registry")));
        }
    }
    let sysroot = run(Command::new("rustc").args(["--print", "sysroot"]).current_dir(root()));
    let sysroot = PathBuf::from(String::from_utf8_lossy(&sysroot.stdout).trim());
    if is_root() {
        hand_over(home.path(), &sysroot);
    }

    let doctor = cargo_as_user(&work, &cargo_home, &sysroot, &["xtask", "doctor", "--pipeline", "default"]);
    let shown = text(&doctor);
    assert!(doctor.status.success(), "doctor --pipeline default as {USER}:\n{shown}");
    assert!(shown.contains("pipeline `default`: valid"), "{shown}");
    for variant in ["native/default", "docker/debian", "docker/scratch", "wasmtime/jit", "wasmer/cranelift"] {
        assert!(shown.contains(&format!("[ok  ] {variant:<18} can run here")), "{variant}:\n{shown}");
    }

    // On a host that refuses unprivileged user namespaces (Ubuntu 24.04,
    // GitHub's runners), the same check says why the Debian image cannot be
    // made without root, and what to do.
    if is_root() {
        let refused = doctor_without_user_namespaces(&work, &cargo_home, &sysroot);
        let shown = text(&refused);
        assert!(shown.contains("docker/debian") && shown.contains("`unshare --user` failed"), "{shown}");
        assert!(shown.contains("user.max_user_namespaces = 0"), "{shown}");
        assert!(shown.contains("[ok  ] native/default"), "only the image needs a namespace:\n{shown}");
    }

    let pipeline = work.join("first-run.yaml");
    std::fs::write(
        &pipeline,
        "kernels: [startup, gemm]\ndatasets: [mini]\nruntimes:\n  - runtime: native\n  - runtime: docker\n    \
         variants: [scratch, debian]\nrepetitions: 2\ntimeout_s: 120\nbaseline: native\n",
    )
    .unwrap();
    if is_root() {
        run(Command::new("chown").arg(format!("{USER}:{USER}")).arg(&pipeline));
    }
    let bench = cargo_as_user(&work, &cargo_home, &sysroot, &["xtask", "bench", "--pipeline", "first-run.yaml"]);
    assert!(bench.status.success(), "bench as {USER}:\n{}", text(&bench));
    let stdout = String::from_utf8_lossy(&bench.stdout);
    let run_dir = PathBuf::from(stdout.lines().find_map(|l| l.strip_prefix("results: ")).expect("a results line"));
    let records = read_records(&work.join(&run_dir).join("results.jsonl"));
    assert_eq!(records.len(), 2 * 3 * 2, "{records:#?}");
    for r in &records {
        assert!(r.outcome.is_ok(), "{}/{} as {USER}: {:?}", r.runtime, r.variant, r.outcome);
    }
    let manifest = manifest_at(&work.join("target/edgebench/local"));
    assert!(
        manifest.artifacts.iter().any(|a| a.kind == edgebench_model::manifest::ArtifactKind::Rootfs),
        "the Debian image was built by the user"
    );
}
