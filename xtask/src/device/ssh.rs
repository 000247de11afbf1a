//! The system OpenSSH client, one multiplexed connection per target.
//!
//! Everything the user configured is honoured (`~/.ssh/config`, the agent,
//! jump hosts, known_hosts); edgebench only adds batch mode (keys, never
//! passwords), keep-alives that notice a dead link, and a control socket of
//! its own. Host keys are always checked.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use anyhow::{Context, Result, bail};
use xshell::{Shell, cmd};

/// How long to wait for the device to answer a new connection.
const CONNECT_TIMEOUT_S: u32 = 10;

pub struct Ssh {
    sh: Shell,
    /// What the user wrote, for messages.
    display: String,
    /// The host (alias) argument passed to ssh.
    host: String,
    /// Options every ssh and sftp invocation gets.
    options: Vec<String>,
}

impl Ssh {
    /// `destination` is a host alias from the ssh configuration, or
    /// `[user@]host[:port]`; `config` an ssh_config file to use instead of
    /// `~/.ssh/config`; `name` keeps the control sockets of targets apart.
    pub fn new(name: &str, destination: &str, config: Option<&Path>) -> Result<Ssh> {
        let (user_host, port) = split_port(destination)?;
        let (user, host) = match user_host.rsplit_once('@') {
            Some((user, host)) => (Some(user), host),
            None => (None, user_host),
        };
        if host.is_empty() || user.is_some_and(str::is_empty) {
            bail!("`{destination}` is not an SSH destination: use a host alias or [user@]host[:port]");
        }
        let mut options = Vec::new();
        if let Some(config) = config {
            options.extend(["-F".to_string(), config.display().to_string()]);
        }
        for option in [
            "BatchMode=yes".to_string(),
            format!("ConnectTimeout={CONNECT_TIMEOUT_S}"),
            "ServerAliveInterval=5".to_string(),
            "ServerAliveCountMax=3".to_string(),
            format!("ControlPath={}", control_dir()?.join(format!("{name}-%C")).display()),
        ] {
            options.extend(["-o".to_string(), option]);
        }
        if let Some(port) = port {
            options.extend(["-o".to_string(), format!("Port={port}")]);
        }
        if let Some(user) = user {
            options.extend(["-o".to_string(), format!("User={user}")]);
        }
        Ok(Ssh { sh: Shell::new()?, display: destination.to_string(), host: host.to_string(), options })
    }

    pub fn destination(&self) -> &str {
        &self.display
    }

    /// Opens the shared connection (or checks the open one). It closes by
    /// itself after ten idle minutes if we never get to close it.
    pub fn connect(&self) -> Result<()> {
        if self.control(&["-O", "check"]).map(|o| o.status.success()).unwrap_or(false) {
            return Ok(());
        }
        let output = self
            .ssh_command(&["-o", "ControlMaster=yes", "-o", "ControlPersist=600", "-f", "-N"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .output()
            .context("starting ssh (is the OpenSSH client installed?)")?;
        if !output.status.success() {
            bail!("{}", self.explain(&String::from_utf8_lossy(&output.stderr)));
        }
        Ok(())
    }

    /// Closes the shared connection, ending every session multiplexed on it.
    pub fn disconnect(&self) {
        let _ = self.control(&["-O", "exit"]);
    }

    fn control(&self, args: &[&str]) -> std::io::Result<Output> {
        self.ssh_command(args).stdin(Stdio::null()).output()
    }

    /// `ssh <options> <extra> <host>`.
    fn ssh_command(&self, extra: &[&str]) -> Command {
        let (options, host) = (&self.options, &self.host);
        cmd!(self.sh, "ssh {options...} {extra...} {host}").into()
    }

    /// A command running `script` under the device's `sh` with positional
    /// arguments `args` (`$1` …), ready to spawn. Nothing is spliced into
    /// the script: arguments travel quoted.
    pub fn script(&self, script: &str, args: &[&str]) -> Command {
        let mut remote = format!("sh -c {} edgebench", quote(script));
        for arg in args {
            let _ = write!(remote, " {}", quote(arg));
        }
        let mut command = self.ssh_command(&["-o", "ControlMaster=no", "-T", "--"]);
        command.arg(remote).stdin(Stdio::null());
        command
    }

    /// Runs a script on the device and returns its stdout; fails with its
    /// stderr (and a hint when the connection was the problem).
    pub fn run(&self, script: &str, args: &[&str]) -> Result<String> {
        let output = self.script(script, args).output().context("running ssh")?;
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() {
            if is_connection_failure(&output) {
                bail!("{}", self.explain(&stderr));
            }
            bail!("on {}: {}", self.display, stderr.trim());
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// Copies `files` (paths relative to `local_root`) to the same paths
    /// below `remote_root`, each first to `<path>.part` and then renamed, so
    /// an interrupted copy never leaves a file that looks complete.
    pub fn upload(&self, local_root: &Path, remote_root: &str, files: &[String]) -> Result<()> {
        if files.is_empty() {
            return Ok(());
        }
        let mut batch =
            format!("lcd {}\ncd {}\n", sftp_quote(&local_root.display().to_string()), sftp_quote(remote_root));
        let mut dirs: Vec<&str> = files.iter().flat_map(|f| ancestors(f)).collect();
        dirs.sort();
        dirs.dedup();
        for dir in dirs {
            // `-`: an existing directory is not an error.
            let _ = writeln!(batch, "-mkdir {}", sftp_quote(dir));
        }
        for file in files {
            let _ = writeln!(batch, "put -p {} {}", sftp_quote(file), sftp_quote(&format!("{file}.part")));
        }
        let batch_file = control_dir()?.join(format!("upload-{}.sftp", std::process::id()));
        std::fs::write(&batch_file, batch).with_context(|| format!("writing {}", batch_file.display()))?;
        let (options, host) = (&self.options, &self.host);
        let output = Command::from(cmd!(self.sh, "sftp {options...} -o ControlMaster=no -b {batch_file} {host}"))
            .stdin(Stdio::null())
            .output()
            .context("running sftp (is the OpenSSH client installed?)");
        let _ = std::fs::remove_file(&batch_file);
        let output = output?;
        let mut names: Vec<&str> = vec![remote_root];
        names.extend(files.iter().map(String::as_str));
        if !output.status.success() {
            let _ = self.run(REMOVE_PARTS, &names);
            let stderr = String::from_utf8_lossy(&output.stderr);
            if is_connection_failure(&output) {
                bail!("{}", self.explain(&stderr));
            }
            bail!(
                "copying to {}:{remote_root} failed: {}\nIs the device's disk full, or the work directory not writable? `cargo xtask doctor` checks both.",
                self.display,
                stderr.trim()
            );
        }
        self.run(RENAME_PARTS, &names).context("moving the copied files into place")?;
        Ok(())
    }

    /// The connection failure in `stderr`, with what to do about it.
    pub fn explain(&self, stderr: &str) -> String {
        let d = &self.display;
        let hint = if stderr.contains("Host key verification failed") || stderr.contains("IDENTIFICATION HAS CHANGED") {
            format!(
                "the host key of `{d}` is unknown or differs from the one in known_hosts. Check the device's key fingerprint, then add it (`ssh {d}` once, or ssh-keyscan); edgebench never turns host-key checking off"
            )
        } else if stderr.contains("Permission denied") {
            format!(
                "`{d}` refused our keys. edgebench logs in with keys only (batch mode, no passwords): load your key into ssh-agent or name it with IdentityFile in your ssh configuration"
            )
        } else if stderr.contains("Could not resolve hostname") {
            format!("`{d}` is not a known host name: check the target's `ssh` entry and your ssh configuration")
        } else if stderr.contains("Connection refused") {
            format!("nothing accepts SSH connections at `{d}`: is the device on, and its SSH server running?")
        } else if ["timed out", "No route to host", "Network is unreachable", "Connection closed", "Connection reset"]
            .iter()
            .any(|s| stderr.contains(s))
        {
            format!("cannot reach `{d}`: check that the device is on and on the network")
        } else {
            format!("cannot connect to `{d}`")
        };
        format!("{hint}\nssh said: {}", stderr.trim())
    }
}

/// Removes the partial copies of an interrupted upload.
const REMOVE_PARTS: &str = r#"cd "$1" || exit 1; shift; for f; do rm -f -- "$f.part"; done"#;
const RENAME_PARTS: &str = r#"cd "$1" || exit 1; shift; for f; do mv -f -- "$f.part" "$f" || exit 1; done"#;

/// ssh exits with 255 when the connection itself failed, and the remote
/// command's status otherwise.
pub fn is_connection_failure(output: &Output) -> bool {
    output.status.code() == Some(255)
}

/// The directory of the control sockets. Short, because a socket path may
/// not exceed about 100 bytes.
fn control_dir() -> Result<PathBuf> {
    let user = std::env::var("USER").unwrap_or_else(|_| "user".into());
    let dir = std::env::temp_dir().join(format!("edgebench-ssh-{user}"));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
        .with_context(|| format!("making {} private", dir.display()))?;
    Ok(dir)
}

fn split_port(destination: &str) -> Result<(&str, Option<u16>)> {
    let Some((head, port)) = destination.rsplit_once(':') else { return Ok((destination, None)) };
    let port = port.parse().with_context(|| format!("`{destination}`: `{port}` is not a port number"))?;
    Ok((head, Some(port)))
}

/// Every proper ancestor directory of a relative path, outermost first.
fn ancestors(path: &str) -> Vec<&str> {
    path.match_indices('/').map(|(i, _)| &path[..i]).filter(|d| !d.is_empty()).collect()
}

/// Quotes a word for a POSIX shell.
pub fn quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// Quotes a path for an sftp batch file.
fn sftp_quote(word: &str) -> String {
    format!("\"{}\"", word.replace('\\', r"\\").replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations() {
        let ssh = Ssh::new("t", "pi@raspberrypi.local:2222", None).unwrap();
        assert_eq!(ssh.host, "raspberrypi.local");
        assert!(ssh.options.windows(2).any(|w| w == ["-o", "Port=2222"]));
        assert!(ssh.options.windows(2).any(|w| w == ["-o", "User=pi"]));
        let alias = Ssh::new("t", "pi3", Some(Path::new("/cfg"))).unwrap();
        assert_eq!(alias.host, "pi3");
        assert_eq!(&alias.options[..2], ["-F", "/cfg"]);
        assert!(!alias.options.iter().any(|o| o.starts_with("Port=") || o.contains("StrictHostKeyChecking")));
        assert!(Ssh::new("t", "pi@host:ssh", None).is_err());
        assert!(Ssh::new("t", "@host", None).is_err());
    }

    #[test]
    fn quoting() {
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(sftp_quote(r#"a "b"\c"#), r#""a \"b\"\\c""#);
        assert_eq!(ancestors("a/b/c.wasm"), ["a", "a/b"]);
        assert!(ancestors("plan.json").is_empty());
    }
}
