//! `workloads:` in a pipeline: programs of the user's own, run like
//! kernels. Each is checked before anything is built: its name, exactly
//! one origin (sources, a build command or prebuilt files, whose files must
//! exist and, when prebuilt, match their pinned sha256), its arguments and
//! how its output is checked. Every error names the file, line and column.
//!
//! ```yaml
//! workloads:
//!   - name: wordfreq
//!     sources: [wordfreq.c]          # or build: / prebuilt:
//!     flags: [-O2]
//!     args_by_dataset: { small: [--n, "1000"], medium: [--n, "100000"] }
//!     check_prefix: "total:"         # hash only stdout's lines starting with it
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Result;
use edgebench_model::Dataset;
use edgebench_model::digest::sha256_file;
use edgebench_model::suite::{Element, Kernel, Suite};
use edgebench_model::workload::{
    Arguments, COMMAND_PLACEHOLDERS, DEFAULT_CATEGORY, Flavour, Origin, Prebuilt, StdoutCheck, Workload,
};
use serde::Deserialize;
use serde_saphyr::{Location, Spanned};

use super::{Check, check_name};
use crate::planning::suggestions;
use crate::toolchain::workload::DEFAULT_FLAGS;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WorkloadEntry {
    name: Spanned<String>,
    #[serde(default)]
    category: Option<Spanned<String>>,
    #[serde(default)]
    sources: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    headers: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    flags: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    build: Option<BuildEntry>,
    #[serde(default)]
    prebuilt: Option<BTreeMap<String, PrebuiltEntry>>,
    #[serde(default)]
    args: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    args_by_dataset: Option<BTreeMap<String, Vec<Spanned<String>>>>,
    #[serde(default)]
    check: Option<Spanned<String>>,
    #[serde(default)]
    check_prefix: Option<Spanned<String>>,
}

/// `build: { command: [make, "OUT={out}"], flavours: [native, wasm] }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BuildEntry {
    command: Vec<Spanned<String>>,
    #[serde(default)]
    flavours: Option<Vec<Spanned<String>>>,
}

/// `prebuilt: { wasm: { path: x.wasm, sha256: … } }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PrebuiltEntry {
    path: Spanned<String>,
    sha256: Spanned<String>,
}

/// What `check:` may say.
const CHECKS: [&str; 2] = ["stdout", "exit"];
/// What a build command's `flavours` may name: `native` is built for the
/// target's architecture (`{triple}` says which).
const COMMAND_FLAVOURS: [&str; 3] = ["native", "wasm", "wasm-simd"];

impl Check<'_> {
    /// Every workload as a kernel of its own category, in the order given.
    pub(super) fn workloads(&self, entries: &[WorkloadEntry], suite: &Suite) -> Result<Vec<Kernel>> {
        let dir = self.path.parent().map_or_else(|| Path::new(".").to_path_buf(), Path::to_path_buf);
        let dir = std::path::absolute(&dir).unwrap_or(dir);
        let mut kernels: Vec<Kernel> = Vec::new();
        for entry in entries {
            let name = &entry.name;
            check_name("workload name", &name.value).map_err(|e| self.err(name.referenced, e))?;
            if suite.kernel(&name.value).is_some() || kernels.iter().any(|k| k.name == name.value) {
                return Err(self.err(
                    name.referenced,
                    format!("`{}` is already the name of a kernel or another workload; name it otherwise", name.value),
                ));
            }
            let category = match &entry.category {
                Some(c) => {
                    c.value
                        .split('/')
                        .try_for_each(|part| check_name("category", part))
                        .map_err(|e| self.err(c.referenced, e))?;
                    c.value.clone()
                }
                None => DEFAULT_CATEGORY.to_string(),
            };
            let workload = Workload {
                origin: self.origin(entry, &dir)?,
                args: self.arguments(entry)?,
                check: self.output_check(entry)?,
                dir: dir.clone(),
            };
            kernels.push(Kernel {
                name: name.value.clone(),
                category,
                element: Element::None,
                params: Vec::new(),
                sizes: None,
                reports: false,
                code: None,
                polybench: None,
                workload: Some(Box::new(workload)),
            });
        }
        Ok(kernels)
    }

    /// Exactly one of `sources`, `build` and `prebuilt`.
    fn origin(&self, entry: &WorkloadEntry, dir: &Path) -> Result<Origin> {
        let at = entry.name.referenced;
        let given = [entry.sources.is_some(), entry.build.is_some(), entry.prebuilt.is_some()];
        if given.iter().filter(|g| **g).count() != 1 {
            return Err(self.err(
                at,
                format!(
                    "workload `{}` needs exactly one of `sources` (C or C++ built by the pinned zig), `build` (your \
                     own command) and `prebuilt` (files with their sha256)",
                    entry.name.value
                ),
            ));
        }
        if (entry.flags.is_some() || entry.headers.is_some()) && entry.sources.is_none() {
            return Err(
                self.err(at, "`flags` and `headers` go with `sources`; a build command or a prebuilt file has its own")
            );
        }
        if let Some(sources) = &entry.sources {
            if sources.is_empty() {
                return Err(self.err(at, format!("`sources` of workload `{}` is empty", entry.name.value)));
            }
            let headers = entry.headers.as_deref().unwrap_or_default();
            for file in sources.iter().chain(headers) {
                self.relative_file(dir, file)?;
            }
            let flags = match &entry.flags {
                Some(flags) => flags.iter().map(|f| self.argument(f)).collect::<Result<_>>()?,
                None => DEFAULT_FLAGS.iter().map(|f| f.to_string()).collect(),
            };
            return Ok(Origin::Sources {
                sources: sources.iter().map(|s| s.value.clone()).collect(),
                headers: headers.iter().map(|s| s.value.clone()).collect(),
                flags,
            });
        }
        if let Some(build) = &entry.build {
            return self.command(build, at);
        }
        let prebuilt = entry.prebuilt.as_ref().expect("one origin is given");
        if prebuilt.is_empty() {
            return Err(self.err(at, format!("`prebuilt` of workload `{}` names no file", entry.name.value)));
        }
        let mut files = BTreeMap::new();
        for (key, file) in prebuilt {
            let Some(flavour) = Flavour::ALL.into_iter().find(|f| f.as_str() == key) else {
                let known = Flavour::ALL.map(Flavour::as_str);
                return Err(self.err(file.path.referenced, suggestions::unknown("prebuilt flavour", key, known)));
            };
            let path = self.relative_file(dir, &file.path)?;
            let pinned = file.sha256.value.to_ascii_lowercase();
            if pinned.len() != 64 || !pinned.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(self.err(file.sha256.referenced, "`sha256` must be 64 hex digits"));
            }
            let actual =
                sha256_file(&path).map_err(|e| self.err(file.path.referenced, format!("{}: {e}", path.display())))?;
            if actual != pinned {
                return Err(self.err(
                    file.sha256.referenced,
                    format!(
                        "{} has sha256 {actual}, not the one pinned here; rebuild it or pin the new hash",
                        file.path.value
                    ),
                ));
            }
            files.insert(flavour, Prebuilt { path: file.path.value.clone(), sha256: pinned });
        }
        Ok(Origin::Prebuilt { files })
    }

    /// A build command: a program and its arguments, never a shell line,
    /// with `{out}` somewhere, and the flavours it builds.
    fn command(&self, build: &BuildEntry, at: Location) -> Result<Origin> {
        let Some(program) = build.command.first() else {
            return Err(self.err(at, "`build.command` is empty; give the program and its arguments as a list"));
        };
        if program.value.trim().is_empty() {
            return Err(self.err(program.referenced, "the build command's program is empty"));
        }
        let mut argv = Vec::new();
        for arg in &build.command {
            argv.push(self.argument(arg)?);
            for piece in arg.value.split('{').skip(1) {
                let placeholder = format!("{{{}}}", piece.split('}').next().unwrap_or_default());
                if !COMMAND_PLACEHOLDERS.contains(&placeholder.as_str()) {
                    return Err(self
                        .err(arg.referenced, suggestions::unknown("placeholder", &placeholder, COMMAND_PLACEHOLDERS)));
                }
            }
        }
        if !argv.iter().any(|a| a.contains("{out}")) {
            return Err(self.err(program.referenced, "the build command never names `{out}`, the file it must write"));
        }
        let named: Vec<&Spanned<String>> = build.flavours.iter().flatten().collect();
        let mut flavours = Vec::new();
        for f in &named {
            let expanded = match f.value.as_str() {
                "native" => vec![Flavour::NativeX86_64, Flavour::NativeAarch64],
                "wasm" => vec![Flavour::Wasm],
                "wasm-simd" => vec![Flavour::WasmSimd],
                other => {
                    return Err(self.err(f.referenced, suggestions::unknown("flavour", other, COMMAND_FLAVOURS)));
                }
            };
            flavours.extend(expanded);
        }
        if build.flavours.is_none() {
            flavours = vec![Flavour::NativeX86_64, Flavour::NativeAarch64, Flavour::Wasm];
        } else if flavours.is_empty() {
            return Err(
                self.err(at, "`build.flavours` is empty; name what the command builds: native, wasm, wasm-simd")
            );
        }
        Ok(Origin::Command { argv, flavours })
    }

    /// `args` (the same at every dataset) or `args_by_dataset` (one set per
    /// dataset), not both; neither, no arguments.
    fn arguments(&self, entry: &WorkloadEntry) -> Result<Arguments> {
        match (&entry.args, &entry.args_by_dataset) {
            (Some(_), Some(_)) => Err(self.err(
                entry.name.referenced,
                "give `args` (the same at every dataset) or `args_by_dataset` (a set per dataset), not both",
            )),
            (Some(args), None) => Ok(Arguments::Same(args.iter().map(|a| self.argument(a)).collect::<Result<_>>()?)),
            (None, None) => Ok(Arguments::Same(Vec::new())),
            (None, Some(sets)) => {
                if sets.is_empty() {
                    return Err(self.err(entry.name.referenced, "`args_by_dataset` is empty"));
                }
                let mut out = BTreeMap::new();
                for (key, args) in sets {
                    let at = args.first().map_or(entry.name.referenced, |a| a.referenced);
                    let dataset: Dataset = key.parse().map_err(|_| {
                        self.err(at, suggestions::unknown("dataset", key, Dataset::ALL.iter().map(|d| d.as_str())))
                    })?;
                    out.insert(dataset, args.iter().map(|a| self.argument(a)).collect::<Result<_>>()?);
                }
                Ok(Arguments::PerDataset(out))
            }
        }
    }

    /// `check: stdout` (the default) or `exit`, and `check_prefix`.
    fn output_check(&self, entry: &WorkloadEntry) -> Result<Option<StdoutCheck>> {
        let check = entry.check.as_ref().map_or("stdout", |c| c.value.as_str());
        if !CHECKS.contains(&check) {
            let at = entry.check.as_ref().expect("a check was given").referenced;
            return Err(self.err(at, suggestions::unknown("check", check, CHECKS)));
        }
        match (check, &entry.check_prefix) {
            ("exit", Some(prefix)) => {
                Err(self
                    .err(prefix.referenced, "`check_prefix` selects lines of stdout; it has no use with `check: exit`"))
            }
            ("exit", None) => Ok(None),
            (_, Some(prefix)) if prefix.value.is_empty() || prefix.value.contains('\n') => {
                Err(self.err(prefix.referenced, "`check_prefix` must be some text on one line"))
            }
            (_, prefix) => Ok(Some(StdoutCheck { line_prefix: prefix.as_ref().map(|p| p.value.clone()) })),
        }
    }

    /// A command-line argument: any text but a NUL.
    fn argument(&self, arg: &Spanned<String>) -> Result<String> {
        if arg.value.contains('\0') {
            return Err(self.err(arg.referenced, "an argument holds a NUL character, which no command line can"));
        }
        Ok(arg.value.clone())
    }

    /// A file below the pipeline's directory that exists: a relative path
    /// without `..`, so a workload carries nothing from elsewhere.
    fn relative_file(&self, dir: &Path, file: &Spanned<String>) -> Result<std::path::PathBuf> {
        let given = Path::new(&file.value);
        if file.value.is_empty()
            || given.is_absolute()
            || given.components().any(|c| matches!(c, std::path::Component::ParentDir))
        {
            return Err(self.err(
                file.referenced,
                format!(
                    "`{}` must be a path below the pipeline's directory ({}), without `..`",
                    file.value,
                    dir.display()
                ),
            ));
        }
        let path = dir.join(given);
        if !path.is_file() {
            return Err(self.err(file.referenced, format!("{} does not exist or is not a file", path.display())));
        }
        Ok(path)
    }
}
