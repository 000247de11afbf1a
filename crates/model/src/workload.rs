//! A workload of the user's own: a program named in a pipeline, run like a
//! kernel under every runtime. The host reads its definition
//! ([`Workload`]); the device sees only its cells, with their arguments and
//! how a run's output is checked ([`StdoutCheck`]).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::Dataset;

/// The category of a workload whose pipeline names none.
pub const DEFAULT_CATEGORY: &str = "workloads";

/// A workload as its pipeline defines it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workload {
    /// The pipeline's directory: every path of the definition is below it.
    pub dir: PathBuf,
    pub origin: Origin,
    pub args: Arguments,
    /// How its runs are checked beyond their exit status; `None`, by the
    /// exit status alone.
    pub check: Option<StdoutCheck>,
    /// Files and directories it reads (below [`Workload::dir`]), shipped
    /// with it and given to every runtime read-only; its arguments name
    /// them as [`INPUTS`]`/…`.
    pub inputs: Vec<String>,
    /// Its environment under every runtime.
    pub env: BTreeMap<String, String>,
}

/// How a workload's arguments name the directory of its input files: each
/// runtime puts its own path there (the work directory's copy for native
/// code, [`crate::executor::INPUTS_GUEST_DIR`] inside Wasm and containers).
pub const INPUTS: &str = "{inputs}";

/// The directory of a workload's input files, relative to the work
/// directory (and to the target's build directory).
pub fn inputs_dir(workload: &str) -> String {
    format!("inputs/{workload}")
}

/// Where a workload's programs come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// C or C++ sources compiled by the project's pinned zig, for every
    /// flavour (native, Wasm, Wasm with SIMD), like the kernels.
    Sources {
        /// Compiled, relative to [`Workload::dir`].
        sources: Vec<String>,
        /// Other files the build reads (headers), hashed with the sources.
        headers: Vec<String>,
        /// Compiler flags, after the project's own.
        flags: Vec<String>,
        /// A source package fetched and prepared before the build; sources,
        /// headers and flags name its tree as [`FETCHED`].
        fetch: Option<DebianSource>,
    },
    /// The user's own build command, run once per flavour on the host.
    Command {
        /// Program and arguments, with [`COMMAND_PLACEHOLDERS`] filled in.
        argv: Vec<String>,
        /// The flavours it can build.
        flavours: Vec<Flavour>,
    },
    /// Files built elsewhere, pinned by their sha256.
    Prebuilt { files: BTreeMap<Flavour, Prebuilt> },
}

/// How sources, headers and flags of a workload name the tree of its
/// [`DebianSource`]: `{fetched}/sqlite3.c`, `-I{fetched}`.
pub const FETCHED: &str = "{fetched}";

/// A Debian source package, pinned by the sha256 of its `.dsc` (which pins
/// every file of the package by its own sha256), unpacked and prepared by
/// commands run in its tree: generated sources (SQLite's amalgamation, say)
/// built from a distribution's own released code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DebianSource {
    /// The source package's name (`sqlite3`).
    pub package: String,
    /// Its version, as the archive names it (`3.40.1-2+deb12u2`).
    pub version: String,
    pub dsc_sha256: String,
    /// Commands (program and arguments, no shell) run in order in the
    /// unpacked tree.
    pub prepare: Vec<Vec<String>>,
}

impl DebianSource {
    /// The `.dsc`'s file name: the version without its epoch.
    pub fn dsc_name(&self) -> String {
        let version = self.version.split_once(':').map_or(self.version.as_str(), |(_, v)| v);
        format!("{}_{version}.dsc", self.package)
    }

    /// The package's folder below an archive's root: `pool/main/s/sqlite3`
    /// (`lib*` packages sit under four letters, `pool/main/libx/libxml2`).
    pub fn pool_dir(&self) -> String {
        let prefix = if self.package.starts_with("lib") && self.package.len() > 3 {
            &self.package[..4]
        } else {
            &self.package[..1]
        };
        format!("pool/main/{prefix}/{}", self.package)
    }
}

/// What a build command is told: `{out}` the file to write, `{flavour}`
/// `native`, `wasm` or `wasm-simd`, `{triple}` the target's Rust-style
/// triple (`x86_64-unknown-linux-musl`, `wasm32-wasip1`), and the project's
/// pinned C toolchain, should the command want it: `{zig}` the zig
/// executable and `{zig_target}` its target (`x86_64-linux-musl`,
/// `wasm32-wasi`).
pub const COMMAND_PLACEHOLDERS: [&str; 5] = ["{out}", "{flavour}", "{triple}", "{zig}", "{zig_target}"];

/// One prebuilt file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prebuilt {
    /// Relative to [`Workload::dir`].
    pub path: String,
    pub sha256: String,
}

/// A build of a workload's program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Flavour {
    /// A static executable for x86-64 Linux.
    NativeX86_64,
    /// A static executable for aarch64 Linux.
    NativeAarch64,
    /// A wasm32-wasip1 module.
    Wasm,
    /// A wasm32-wasip1 module with 128-bit SIMD.
    WasmSimd,
}

impl Flavour {
    pub const ALL: [Flavour; 4] = [Flavour::NativeX86_64, Flavour::NativeAarch64, Flavour::Wasm, Flavour::WasmSimd];

    pub fn as_str(self) -> &'static str {
        match self {
            Flavour::NativeX86_64 => "native-x86_64",
            Flavour::NativeAarch64 => "native-aarch64",
            Flavour::Wasm => "wasm",
            Flavour::WasmSimd => "wasm-simd",
        }
    }

    /// Whether it is an executable for the device (not a Wasm module).
    pub fn is_native(self) -> bool {
        matches!(self, Flavour::NativeX86_64 | Flavour::NativeAarch64)
    }

    /// `native`, `wasm` or `wasm-simd`: what a build command is asked for
    /// (the architecture is in `{triple}`).
    pub fn kind_name(self) -> &'static str {
        if self.is_native() { "native" } else { self.as_str() }
    }
}

/// A workload's command-line arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arguments {
    /// The same at every dataset: the workload runs once, at the pipeline's
    /// first dataset, like the start-up kernel.
    Same(Vec<String>),
    /// One argument set per dataset (the dataset names the set): the
    /// workload runs at each of the pipeline's datasets.
    PerDataset(BTreeMap<Dataset, Vec<String>>),
}

impl Arguments {
    pub fn per_dataset(&self) -> bool {
        matches!(self, Arguments::PerDataset(_))
    }

    /// The arguments at `dataset`.
    pub fn at(&self, dataset: Dataset) -> &[String] {
        match self {
            Arguments::Same(args) => args,
            Arguments::PerDataset(sets) => sets.get(&dataset).map_or(&[], Vec::as_slice),
        }
    }
}

/// A run's output checked by what it printed on stdout: the checksum of the
/// run is the 64-bit FNV-1a of those bytes, and every runtime must print the
/// same.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StdoutCheck {
    /// Only the lines that start with this are hashed (the rest may hold
    /// timings); `None`, all of stdout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_prefix: Option<String>,
}

impl StdoutCheck {
    /// The checksum of a run that printed `stdout`, or why there is none.
    pub fn checksum(&self, stdout: &[u8]) -> Result<String, String> {
        let hash = match &self.line_prefix {
            None => crate::record::fnv1a(stdout),
            Some(prefix) => {
                let mut lines = Vec::new();
                for line in stdout.split_inclusive(|&b| b == b'\n') {
                    if line.starts_with(prefix.as_bytes()) {
                        lines.extend_from_slice(line);
                    }
                }
                if lines.is_empty() {
                    return Err(format!("the workload printed no line starting with `{prefix}` on stdout"));
                }
                crate::record::fnv1a(&lines)
            }
        };
        Ok(format!("{hash:016x}"))
    }
}

/// How an artifact of a workload was made, as the manifest records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "from")]
pub enum WorkloadBuild {
    /// Compiled by the pinned zig from these files (path → sha256, below
    /// `root`, or below the fetched package's tree where they start with
    /// [`FETCHED`]).
    Sources {
        root: String,
        sources: BTreeMap<String, String>,
        flags: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fetched: Option<DebianSource>,
    },
    /// Written by the user's command, run in `root`.
    Command { root: String, argv: Vec<String> },
    /// Copied from `path` below `root`, its sha256 as pinned.
    Prebuilt { root: String, path: String },
    /// An input file, copied from `path` below `root`.
    Input { root: String, path: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stdout_is_hashed_whole_or_by_its_lines_with_the_prefix() {
        let out = b"setup 0.1s\nVerification Hash: 42\nTOTAL 0.5s\n";
        let whole = StdoutCheck::default();
        assert_eq!(whole.checksum(out).unwrap(), format!("{:016x}", crate::record::fnv1a(out)));
        let lines = StdoutCheck { line_prefix: Some("Verification Hash:".into()) };
        let other_timings = b"setup 0.3s\nVerification Hash: 42\nTOTAL 0.9s\n";
        assert_eq!(lines.checksum(out), lines.checksum(other_timings));
        assert_ne!(whole.checksum(out), whole.checksum(other_timings));
        assert_ne!(lines.checksum(out), lines.checksum(b"Verification Hash: 43\n"));
        assert!(lines.checksum(b"nothing\n").unwrap_err().contains("no line starting with `Verification Hash:`"));
    }

    #[test]
    fn a_source_package_is_found_in_the_pool_by_its_name_and_version() {
        let sqlite = DebianSource {
            package: "sqlite3".into(),
            version: "3.40.1-2+deb12u2".into(),
            dsc_sha256: String::new(),
            prepare: Vec::new(),
        };
        assert_eq!(sqlite.pool_dir(), "pool/main/s/sqlite3");
        assert_eq!(sqlite.dsc_name(), "sqlite3_3.40.1-2+deb12u2.dsc");
        let xml = DebianSource { package: "libxml2".into(), version: "2:2.9.14+dfsg-1.3".into(), ..sqlite };
        assert_eq!(xml.pool_dir(), "pool/main/libx/libxml2");
        assert_eq!(xml.dsc_name(), "libxml2_2.9.14+dfsg-1.3.dsc");
    }

    #[test]
    fn arguments_per_dataset_or_the_same_everywhere() {
        let same = Arguments::Same(vec!["-n".into(), "5".into()]);
        assert!(!same.per_dataset());
        assert_eq!(same.at(Dataset::Large), ["-n", "5"]);
        let sets = Arguments::PerDataset([(Dataset::Small, vec!["--size".into(), "10".into()])].into());
        assert!(sets.per_dataset());
        assert_eq!(sets.at(Dataset::Small), ["--size", "10"]);
    }
}
