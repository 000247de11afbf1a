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
//!     # fetch: { debian_source: sqlite3, version: "3.40.1-2+deb12u2", dsc_sha256: …,
//!     #          prepare: [[./configure], [make, sqlite3.c]] }  — then `{fetched}/sqlite3.c`
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
    Arguments, COMMAND_PLACEHOLDERS, DEFAULT_CATEGORY, DebianSource, FETCHED, Flavour, INPUTS, Origin, Prebuilt,
    StdoutCheck, Workload,
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
    fetch: Option<FetchEntry>,
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
    #[serde(default)]
    inputs: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    env: Option<BTreeMap<String, Spanned<String>>>,
}

/// `build: { command: [make, "OUT={out}"], flavours: [native, wasm] }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BuildEntry {
    command: Vec<Spanned<String>>,
    #[serde(default)]
    flavours: Option<Vec<Spanned<String>>>,
}

/// `fetch: { debian_source: sqlite3, version: …, dsc_sha256: …, prepare: [[make, sqlite3.c]] }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FetchEntry {
    debian_source: Spanned<String>,
    version: Spanned<String>,
    dsc_sha256: Spanned<String>,
    #[serde(default)]
    prepare: Vec<Vec<Spanned<String>>>,
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
            let inputs = self.inputs(entry, &dir)?;
            let workload = Workload {
                origin: self.origin(entry, &dir)?,
                args: self.arguments(entry)?,
                check: self.output_check(entry)?,
                env: self.environment(entry)?,
                inputs,
                dir: dir.clone(),
            };
            self.inputs_named(entry, !workload.inputs.is_empty())?;
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
        if (entry.flags.is_some() || entry.headers.is_some() || entry.fetch.is_some()) && entry.sources.is_none() {
            return Err(self.err(
                at,
                "`flags`, `headers` and `fetch` go with `sources`; a build command or a prebuilt file has its own",
            ));
        }
        if let Some(sources) = &entry.sources {
            return self.sources(entry, sources, dir);
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
            let pinned = self.sha256(&file.sha256, "sha256")?;
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

    /// `sources` (with `headers`, `flags` and perhaps `fetch`): files below
    /// the pipeline's directory or, as `{fetched}/…`, in the fetched tree.
    fn sources(&self, entry: &WorkloadEntry, sources: &[Spanned<String>], dir: &Path) -> Result<Origin> {
        let at = entry.name.referenced;
        if sources.is_empty() {
            return Err(self.err(at, format!("`sources` of workload `{}` is empty", entry.name.value)));
        }
        let fetch = entry.fetch.as_ref().map(|f| self.debian_source(f)).transpose()?;
        let headers = entry.headers.as_deref().unwrap_or_default();
        for file in sources.iter().chain(headers) {
            match file.value.strip_prefix(FETCHED) {
                // Made by `fetch`, so it cannot be looked for yet.
                Some(rest) if fetch.is_some() => {
                    let rest = rest.strip_prefix('/').filter(|r| !r.is_empty()).ok_or_else(|| {
                        self.err(file.referenced, format!("name a file in the fetched tree: `{FETCHED}/path`"))
                    })?;
                    self.relative_path(dir, file, rest)?;
                }
                _ => {
                    self.check_fetched(file, fetch.is_some(), false)?;
                    self.relative_file(dir, file)?;
                }
            }
        }
        let flags = match &entry.flags {
            Some(flags) => flags
                .iter()
                .map(|f| self.check_fetched(f, fetch.is_some(), true).and_then(|_| self.argument(f)))
                .collect::<Result<_>>()?,
            None => DEFAULT_FLAGS.iter().map(|f| f.to_string()).collect(),
        };
        Ok(Origin::Sources {
            sources: sources.iter().map(|s| s.value.clone()).collect(),
            headers: headers.iter().map(|s| s.value.clone()).collect(),
            flags,
            fetch,
        })
    }

    /// A Debian source package as `fetch:` pins it.
    fn debian_source(&self, fetch: &FetchEntry) -> Result<DebianSource> {
        let package = &fetch.debian_source;
        let first_ok = package.value.bytes().next().is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        let rest_ok =
            package.value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+-.".contains(&b));
        if package.value.len() < 2 || !first_ok || !rest_ok {
            return Err(self.err(
                package.referenced,
                format!(
                    "`{}` is not a Debian source package name (lower-case letters, digits, `+`, `-`, `.`; two or \
                     more, starting with a letter or digit)",
                    package.value
                ),
            ));
        }
        let version = &fetch.version;
        let version_ok = version.value.bytes().next().is_some_and(|b| b.is_ascii_digit())
            && version.value.bytes().all(|b| b.is_ascii_alphanumeric() || b".+~:-".contains(&b));
        if !version_ok {
            return Err(self.err(
                version.referenced,
                format!(
                    "`{}` is not a Debian version (digits first, then letters, digits and `.+~:-`); quote it, as \
                     YAML reads 1.10 as a number",
                    version.value
                ),
            ));
        }
        let dsc_sha256 = self.sha256(&fetch.dsc_sha256, "dsc_sha256")?;
        let mut prepare = Vec::new();
        for argv in &fetch.prepare {
            let Some(program) = argv.first() else {
                return Err(self.err(
                    fetch.debian_source.referenced,
                    "a `prepare` command is empty; give each as a list: [program, arguments…]",
                ));
            };
            if program.value.trim().is_empty() {
                return Err(self.err(program.referenced, "a prepare command's program is empty"));
            }
            prepare.push(argv.iter().map(|a| self.argument(a)).collect::<Result<_>>()?);
        }
        Ok(DebianSource { package: package.value.clone(), version: version.value.clone(), dsc_sha256, prepare })
    }

    /// Refuses `{fetched}` in `text` (a flag, or a source that does not
    /// start with it) unless it names the tree of a fetched source package,
    /// which only a flag can.
    fn check_fetched(&self, text: &Spanned<String>, fetching: bool, in_flag: bool) -> Result<()> {
        if (fetching && in_flag) || !text.value.contains(FETCHED) {
            return Ok(());
        }
        let why = match fetching {
            true => format!("`{FETCHED}` can only start a source or header (`{FETCHED}/file.c`)"),
            false => {
                format!("`{FETCHED}` names the tree of a fetched source package, and this workload has no `fetch:`")
            }
        };
        Err(self.err(text.referenced, why))
    }

    /// 64 hex digits (`key`'s value), as written lower-case.
    fn sha256(&self, given: &Spanned<String>, key: &str) -> Result<String> {
        let pinned = given.value.to_ascii_lowercase();
        if pinned.len() != 64 || !pinned.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(self.err(given.referenced, format!("`{key}` must be 64 hex digits")));
        }
        Ok(pinned)
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

    /// `inputs`: files and directories below the pipeline's directory.
    fn inputs(&self, entry: &WorkloadEntry, dir: &Path) -> Result<Vec<String>> {
        let mut inputs = Vec::new();
        for input in entry.inputs.iter().flatten() {
            self.relative_path(dir, input, &input.value)?;
            let path = dir.join(&input.value);
            let meta = std::fs::symlink_metadata(&path)
                .map_err(|e| self.err(input.referenced, format!("{}: {e}", path.display())))?;
            if !meta.is_file() && !meta.is_dir() {
                return Err(self.err(
                    input.referenced,
                    format!("{} is neither a file nor a directory (a link? name what it points to)", path.display()),
                ));
            }
            let name = input.value.trim_end_matches('/').to_string();
            if inputs.contains(&name) {
                return Err(self.err(input.referenced, format!("`{name}` is named twice in `inputs`")));
            }
            inputs.push(name);
        }
        Ok(inputs)
    }

    /// `{inputs}` in arguments and the environment only where there are inputs.
    fn inputs_named(&self, entry: &WorkloadEntry, has_inputs: bool) -> Result<()> {
        if has_inputs {
            return Ok(());
        }
        let args = entry.args.iter().flatten().chain(entry.args_by_dataset.iter().flat_map(|m| m.values().flatten()));
        let env = entry.env.iter().flat_map(|m| m.values());
        match args.chain(env).find(|a| a.value.contains(INPUTS)) {
            Some(at) => Err(self.err(
                at.referenced,
                format!("`{INPUTS}` names the directory of the workload's input files, and it has no `inputs:`"),
            )),
            None => Ok(()),
        }
    }

    /// `env`: names as a shell would take them, values on one line of text.
    fn environment(&self, entry: &WorkloadEntry) -> Result<BTreeMap<String, String>> {
        let mut env = BTreeMap::new();
        for (name, value) in entry.env.iter().flatten() {
            let first_ok = name.bytes().next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_');
            if !first_ok || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return Err(self.err(
                    value.referenced,
                    format!(
                        "`{}` is not an environment variable's name (letters, digits and `_`, not starting with a \
                         digit)",
                        name
                    ),
                ));
            }
            env.insert(name.clone(), self.argument(value)?);
        }
        Ok(env)
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

    /// `path` (of `file`) is relative and has no `..`.
    fn relative_path(&self, dir: &Path, file: &Spanned<String>, path: &str) -> Result<()> {
        let given = Path::new(path);
        if path.is_empty()
            || given.is_absolute()
            || given.components().any(|c| matches!(c, std::path::Component::ParentDir))
        {
            let below = match path.len() == file.value.len() {
                true => format!("the pipeline's directory ({})", dir.display()),
                false => "the fetched tree".to_string(),
            };
            return Err(
                self.err(file.referenced, format!("`{}` must be a path below {below}, without `..`", file.value))
            );
        }
        Ok(())
    }

    /// A file below the pipeline's directory that exists: a relative path
    /// without `..`, so a workload carries nothing from elsewhere.
    fn relative_file(&self, dir: &Path, file: &Spanned<String>) -> Result<std::path::PathBuf> {
        self.relative_path(dir, file, &file.value)?;
        let path = dir.join(&file.value);
        if !path.is_file() {
            return Err(self.err(file.referenced, format!("{} does not exist or is not a file", path.display())));
        }
        Ok(path)
    }
}
