//! `edgebench-docker`: runs a native kernel in a Docker container through
//! the engine's API (the protocol of `edgebench_model::executor`).
//!
//! Variants name the image: `debian` (a Debian root filesystem, as in the
//! study) and `scratch` (nothing but the kernel, bind-mounted read-only).
//! A run creates the container (no network, read-only root filesystem,
//! optional memory limit), starts it, waits, copies its logs to this
//! process's stdout and stderr, reads its peak memory, and removes it: what
//! `docker run --rm` costs a user, in phases. The container's peak memory is
//! its own cgroup's, never this client's.

mod cgroup;
mod scratch;

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use bollard::Docker;
use bollard::body_full;
use bollard::container::LogOutput;
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    CreateImageOptionsBuilder, ListContainersOptionsBuilder, LogsOptionsBuilder, RemoveContainerOptionsBuilder,
    StatsOptionsBuilder, TagImageOptionsBuilder, WaitContainerOptionsBuilder,
};
use edgebench_model::executor::{
    ExecutorCommand, ExecutorReport, Guest, INPUTS_GUEST_DIR, LOAD_FAILURE_EXIT_CODE, PeakMemory, elapsed_ns,
};
use futures_util::StreamExt;
use tokio::signal::unix::{Signal, SignalKind};

const ENGINE: &str = "docker";
const VARIANTS: &[&str] = &["debian", "scratch"];
/// Where the kernel appears inside the container.
const KERNEL_PATH: &str = "/edgebench/kernel";
/// Every container this executor creates carries these labels, so that one
/// left behind by a killed executor can be found and removed.
const LABEL: &str = "edgebench.executor";
const OWNER_LABEL: &str = "edgebench.owner-pid";
/// How long importing an image may take.
const IMPORT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(540);

fn main() -> ExitCode {
    let command = match ExecutorCommand::from_process_args("edgebench-docker") {
        Ok(c) => c,
        Err(code) => return code,
    };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("edgebench-docker: starting the Tokio runtime: {e}");
            return ExitCode::from(LOAD_FAILURE_EXIT_CODE as u8);
        }
    };
    match command {
        ExecutorCommand::Run { variant, max_memory, image, module, guest } => {
            runtime.block_on(run(&variant, max_memory, image, &module, &guest))
        }
        ExecutorCommand::Probe { variant, image, rootfs, .. } => match runtime.block_on(probe(&variant, image, rootfs))
        {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("edgebench-docker: {e}");
                ExitCode::FAILURE
            }
        },
        ExecutorCommand::Precompile { .. } => {
            eprintln!("edgebench-docker: nothing to precompile for containers");
            ExitCode::from(2)
        }
    }
}

fn check_variant(variant: &str) -> Result<(), String> {
    if VARIANTS.contains(&variant) {
        Ok(())
    } else {
        Err(format!("unknown variant `{variant}`; valid variants: {}", VARIANTS.join(", ")))
    }
}

/// The engine, from `DOCKER_HOST` or the default local socket.
async fn connect() -> Result<Docker, String> {
    let place = match std::env::var("DOCKER_HOST") {
        Ok(host) => format!("DOCKER_HOST={host}"),
        Err(_) => "the default socket unix:///var/run/docker.sock (DOCKER_HOST is not set)".into(),
    };
    let docker = Docker::connect_with_defaults().map_err(|e| format!("no Docker engine reachable at {place}: {e}"))?;
    let docker = docker.negotiate_version().await.map_err(|e| format!("no Docker engine reachable at {place}: {e}"))?;
    docker.ping().await.map_err(|e| format!("no Docker engine answers at {place}: {e}"))?;
    Ok(docker)
}

/// The image of a variant: as given, or for `scratch` our content-addressed
/// empty image.
fn image_name(variant: &str, image: Option<String>) -> Result<String, String> {
    match (variant, image) {
        (_, Some(image)) => Ok(image),
        ("scratch", None) => Ok(scratch::image_name()),
        (v, None) => Err(format!("variant `{v}` needs --image")),
    }
}

/// Checks the engine, removes containers of executors that were killed, and
/// makes sure the image exists (importing it when it does not).
async fn probe(variant: &str, image: Option<String>, rootfs: Option<String>) -> Result<(), String> {
    check_variant(variant)?;
    let docker = connect().await?;
    remove_orphans(&docker).await;
    cgroup::remove_stale();
    let image = image_name(variant, image)?;
    if docker.inspect_image(&image).await.is_err() {
        import(&docker, variant, &image, rootfs).await?;
    }
    // A stable second name (`edgebench/debian:latest`), so that command
    // templates (e.g. the study's `docker run … debian`) can name it.
    let (repo, _) = image.rsplit_once(':').unwrap_or((image.as_str(), ""));
    let options = TagImageOptionsBuilder::new().repo(repo).tag("latest").build();
    docker.tag_image(&image, Some(options)).await.map_err(|e| format!("tagging {image} as {repo}:latest: {e}"))?;
    Ok(())
}

async fn import(docker: &Docker, variant: &str, image: &str, rootfs: Option<String>) -> Result<(), String> {
    let tar = match (variant, rootfs) {
        (_, Some(path)) => std::fs::read(&path).map_err(|e| format!("reading the root filesystem {path}: {e}"))?,
        ("scratch", None) => scratch::tarball(),
        (_, None) => return Err(format!("image {image} is missing and no root filesystem was given to import")),
    };
    let (repo, tag) = image.rsplit_once(':').unwrap_or((image, "latest"));
    let options = CreateImageOptionsBuilder::new().from_src("-").repo(repo).tag(tag).build();
    // The client's default of 120 s is too short for the Debian image (some
    // 190 MB) on a Pi 3's SD card or an emulated Cortex-A53; the harness
    // gives a probe 600 s, and this error should come first.
    let docker = docker.clone().with_timeout(IMPORT_TIMEOUT);
    let mut progress = docker.create_image(Some(options), Some(body_full(tar.into())), None);
    while let Some(step) = progress.next().await {
        step.map_err(|e| format!("importing {image}: {e}"))?;
    }
    docker.inspect_image(image).await.map_err(|e| format!("{image} is still missing after the import: {e}"))?;
    Ok(())
}

/// Removes containers left by executors that no longer exist (killed with
/// SIGKILL, which leaves no chance to clean up).
async fn remove_orphans(docker: &Docker) {
    let mut filters = HashMap::new();
    filters.insert("label".to_string(), vec![LABEL.to_string()]);
    let options = ListContainersOptionsBuilder::new().all(true).filters(&filters).build();
    let Ok(containers) = docker.list_containers(Some(options)).await else { return };
    for c in containers {
        let owner = c.labels.as_ref().and_then(|l| l.get(OWNER_LABEL)).and_then(|p| p.parse::<u32>().ok());
        let alive = owner.is_some_and(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists());
        if let (false, Some(id)) = (alive, c.id) {
            let _ = force_remove(docker, &id).await;
        }
    }
}

async fn run(variant: &str, max_memory: Option<u64>, image: Option<String>, module: &str, guest: &Guest) -> ExitCode {
    let mut report = ExecutorReport { engine: ENGINE.into(), variant: variant.into(), ..Default::default() };
    let code = match execute(variant, max_memory, image, module, guest, &mut report).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("edgebench-docker: {e}");
            report.error = Some(e);
            LOAD_FAILURE_EXIT_CODE
        }
    };
    report.finish("edgebench-docker", code)
}

async fn execute(
    variant: &str,
    max_memory: Option<u64>,
    image: Option<String>,
    module: &str,
    guest: &Guest,
    report: &mut ExecutorReport,
) -> Result<i32, String> {
    check_variant(variant)?;
    let image = image_name(variant, image)?;
    let kernel = kernel_path(module)?;
    let inputs = match &guest.inputs {
        Some(dir) => Some(std::path::absolute(dir).map_err(|e| format!("the input files {dir}: {e}"))?),
        None => None,
    };
    let mut terminate = termination_signal()?;
    let docker = connect().await?;
    let memory_cgroup = memory_cgroup(&docker).await;
    let mounts = Mounts { kernel: &kernel, inputs: inputs.as_deref() };
    let config = container_config(&image, &mounts, guest, max_memory, memory_cgroup.as_ref());
    let id = match create(&docker, config, &image, max_memory, report).await {
        Ok(id) => id,
        Err(e) => {
            if let Some(cg) = memory_cgroup {
                cg.remove();
            }
            return Err(e);
        }
    };
    // From here on the container exists: whatever happens, remove it.
    run_and_remove(&docker, &id, &mut terminate, memory_cgroup, report).await
}

/// The kernel's absolute path, which the container gets bind-mounted.
fn kernel_path(module: &str) -> Result<PathBuf, String> {
    let kernel = std::path::absolute(module).map_err(|e| format!("{module}: {e}"))?;
    if !kernel.is_file() {
        return Err(format!("{}: no such kernel", kernel.display()));
    }
    Ok(kernel)
}

/// SIGTERM, which a timeout or the harness's death sends us, so that we can
/// remove the container before we exit.
fn termination_signal() -> Result<Signal, String> {
    // Installed before the container exists: a timeout's SIGTERM must never
    // find us unable to remove it.
    let terminate = tokio::signal::unix::signal(SignalKind::terminate())
        .map_err(|e| format!("installing a SIGTERM handler: {e}"))?;
    // The harness has us killed (SIGKILL) when it dies; ask for SIGTERM
    // instead, which we handle by removing the container.
    // SAFETY: plain syscalls.
    unsafe {
        let parent = libc::getppid();
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
        if libc::getppid() != parent {
            return Err("the harness is gone".into());
        }
    }
    Ok(terminate)
}

/// A cgroup of the run's own, to read the container's peak memory from; none
/// when it cannot be made, or when EDGEBENCH_DOCKER_MEMORY=stats forces the
/// sampled method (to compare it).
async fn memory_cgroup(docker: &Docker) -> Option<cgroup::RunCgroup> {
    let sampled_only = std::env::var("EDGEBENCH_DOCKER_MEMORY").is_ok_and(|m| m == "stats");
    if sampled_only { None } else { cgroup::RunCgroup::create(docker).await }
}

/// What a run's container is given from the device: the program, and the
/// workload's input files if it reads any.
struct Mounts<'a> {
    kernel: &'a Path,
    inputs: Option<&'a Path>,
}

/// The container of a run: the program (and the input files) bind-mounted
/// read-only, the workload's environment, no network, a read-only root
/// filesystem, the optional memory limit, and our labels.
fn container_config(
    image: &str,
    mounts: &Mounts<'_>,
    guest: &Guest,
    max_memory: Option<u64>,
    memory_cgroup: Option<&cgroup::RunCgroup>,
) -> ContainerCreateBody {
    let mut cmd = vec![KERNEL_PATH.to_string()];
    cmd.extend(guest.args.iter().cloned());
    let mut binds = vec![format!("{}:{KERNEL_PATH}:ro", mounts.kernel.display())];
    if let Some(inputs) = mounts.inputs {
        binds.push(format!("{}:{INPUTS_GUEST_DIR}:ro", inputs.display()));
    }
    let env: Vec<String> = guest.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let labels = HashMap::from([
        (LABEL.to_string(), "1".to_string()),
        (OWNER_LABEL.to_string(), std::process::id().to_string()),
    ]);
    ContainerCreateBody {
        image: Some(image.to_string()),
        cmd: Some(cmd),
        // Only the workload's: an image's own environment is empty (scratch)
        // or Debian's minimal one, and the executor's never reaches it.
        env: (!env.is_empty()).then_some(env),
        network_disabled: Some(true),
        labels: Some(labels),
        host_config: Some(HostConfig {
            binds: Some(binds),
            network_mode: Some("none".into()),
            readonly_rootfs: Some(true),
            memory: max_memory.map(|m| i64::try_from(m).unwrap_or(i64::MAX)),
            cgroup_parent: memory_cgroup.map(|c| c.parent_name()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Creates the container (the `create` phase) and returns its id. A container
/// that would run without the memory limit it was given is removed again.
async fn create(
    docker: &Docker,
    config: ContainerCreateBody,
    image: &str,
    max_memory: Option<u64>,
    report: &mut ExecutorReport,
) -> Result<String, String> {
    let start = Instant::now();
    let created =
        docker.create_container(None, config).await.map_err(|e| format!("creating a container of {image}: {e}"))?;
    report.phases.insert("create".into(), elapsed_ns(start));
    let id = created.id;
    // The engine drops settings it cannot honour (a memory limit without the
    // memory cgroup, on a Raspberry Pi without cgroup_enable=memory) and only
    // warns: a run that was to be capped must not silently run uncapped.
    let warnings: Vec<String> = created.warnings.into_iter().filter(|w| !w.is_empty()).collect();
    if !warnings.is_empty() {
        eprintln!("edgebench-docker: the engine warned: {}", warnings.join("; "));
        if max_memory.is_some() {
            let _ = force_remove(docker, &id).await;
            return Err(format!("the engine would not apply the memory limit: {}", warnings.join("; ")));
        }
    }
    Ok(id)
}

/// Runs the created container, then removes it (the `remove` phase) and the
/// run's cgroup whatever the run's outcome. Returns the container's exit status.
async fn run_and_remove(
    docker: &Docker,
    id: &str,
    terminate: &mut Signal,
    memory_cgroup: Option<cgroup::RunCgroup>,
    report: &mut ExecutorReport,
) -> Result<i32, String> {
    let outcome = start_and_wait(docker, id, terminate, memory_cgroup.as_ref(), report).await;
    // The cgroup's peak where it has one; else what sampling found.
    if let Some(peak) = memory_cgroup.as_ref().and_then(cgroup::RunCgroup::peak) {
        report.peak_memory = Some(peak);
    }
    let start = Instant::now();
    let removed = force_remove(docker, id).await;
    report.phases.insert("remove".into(), elapsed_ns(start));
    if let Some(cg) = memory_cgroup {
        cg.remove();
    }
    let code = outcome?;
    removed.map_err(|e| format!("removing container {id}: {e}"))?;
    report.exit_code = Some(code);
    Ok(code)
}

/// Removes a container, running or not.
async fn force_remove(docker: &Docker, id: &str) -> Result<(), bollard::errors::Error> {
    docker.remove_container(id, Some(RemoveContainerOptionsBuilder::new().force(true).build())).await
}

/// Starts the container, waits for it (or for SIGTERM, which stops it), and
/// copies its logs out. Returns the container's exit status.
async fn start_and_wait(
    docker: &Docker,
    id: &str,
    terminate: &mut Signal,
    memory_cgroup: Option<&cgroup::RunCgroup>,
    report: &mut ExecutorReport,
) -> Result<i32, String> {
    let start = Instant::now();
    docker.start_container(id, None).await.map_err(|e| format!("starting container {id}: {e}"))?;
    // Without a cgroup of ours whose peak can be read, sample the engine's
    // stats instead (a systemd slice is realised at start, or not at all).
    let sample_stats = memory_cgroup.is_none_or(|c| !c.measurable());
    let (code, sampled_peak) = wait_for_exit(docker, id, terminate, sample_stats).await?;
    if let Some(bytes) = sampled_peak.filter(|b| *b > 0) {
        report.peak_memory = Some(PeakMemory { bytes, method: "max of the engine's streamed stats (sampled)".into() });
    }
    report.phases.insert("start_to_exit".into(), elapsed_ns(start));

    let start = Instant::now();
    copy_logs(docker, id).await?;
    report.phases.insert("logs".into(), elapsed_ns(start));
    Ok(code)
}

/// Waits until the container stops, or SIGTERM arrives. Returns the
/// container's exit status and, with `sample_stats`, the highest memory use
/// the engine's stats stream reported meanwhile.
async fn wait_for_exit(
    docker: &Docker,
    id: &str,
    terminate: &mut Signal,
    sample_stats: bool,
) -> Result<(i32, Option<u64>), String> {
    let options = WaitContainerOptionsBuilder::new().condition("not-running").build();
    let mut wait = docker.wait_container(id, Some(options));
    // Without a cgroup of our own, the engine's stats stream is the only
    // view of the container's memory: sampled, so a short peak may be missed.
    let mut stats = sample_stats.then(|| docker.stats(id, Some(StatsOptionsBuilder::new().stream(true).build())));
    let mut sampled_peak: Option<u64> = None;
    let code = loop {
        tokio::select! {
            answer = wait.next() => break match answer {
                Some(Ok(status)) => i32::try_from(status.status_code).unwrap_or(i32::MAX),
                Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => i32::try_from(code).unwrap_or(i32::MAX),
                Some(Err(e)) => return Err(format!("waiting for container {id}: {e}")),
                None => return Err(format!("the engine stopped answering about container {id}")),
            },
            Some(Ok(sample)) = async {
                match stats.as_mut() {
                    Some(stream) => stream.next().await,
                    None => std::future::pending().await,
                }
            } => {
                if let Some(memory) = sample.memory_stats {
                    let bytes = memory.max_usage.or(memory.usage).unwrap_or(0);
                    sampled_peak = Some(sampled_peak.map_or(bytes, |p| p.max(bytes)));
                }
            },
            _ = terminate.recv() => return Err("terminated (timeout); the container is being removed".into()),
        }
    };
    Ok((code, sampled_peak))
}

/// Copies the container's stdout and stderr to ours.
async fn copy_logs(docker: &Docker, id: &str) -> Result<(), String> {
    let options = LogsOptionsBuilder::new().stdout(true).stderr(true).build();
    let mut logs = docker.logs(id, Some(options));
    let (mut out, mut err) = (std::io::stdout().lock(), std::io::stderr().lock());
    while let Some(chunk) = logs.next().await {
        match chunk.map_err(|e| format!("reading the logs of {id}: {e}"))? {
            LogOutput::StdOut { message } | LogOutput::Console { message } => {
                let _ = out.write_all(&message);
            }
            LogOutput::StdErr { message } => {
                let _ = err.write_all(&message);
            }
            LogOutput::StdIn { .. } => {}
        }
    }
    let _ = (out.flush(), err.flush());
    Ok(())
}
