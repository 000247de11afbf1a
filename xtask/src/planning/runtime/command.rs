//! `command`: any runtime installed on the device, given as a command
//! template over the artifact paths, e.g. `wasmtime run {wasm}`,
//! `iwasm {wasm}`, or the study's `/usr/bin/time -f %M docker run … {native}`.
//! A workload's own arguments follow the template's words.
//! The template is split on whitespace, never passed to a shell; braces
//! are for placeholders only, so a misspelt one is refused. A runtime
//! of your own has no `+simd` variants: name the SIMD build `{wasm_simd}`.
//! Its engine is on the device already, so its footprint counts only the
//! artifacts.

use anyhow::{Result, bail};
use edgebench_model::manifest::{ArtifactKind, Manifest};
use edgebench_model::plan::{Invocation, WORKDIR};

use super::{CellContext, Options, Runtime};
use crate::planning::suggestions;

/// Programs whose workload is a container the engine starts, not their
/// own child.
const CONTAINER_CLIENTS: [&str; 4] = ["docker", "podman", "nerdctl", "ctr"];

pub struct Command;

const PLACEHOLDERS: &[(&str, ArtifactKind)] = &[
    ("{wasm}", ArtifactKind::Wasm),
    ("{native}", ArtifactKind::Native),
    ("{cwasm}", ArtifactKind::WasmtimePrecompiled),
    ("{wasm_simd}", ArtifactKind::WasmSimd),
];

impl Runtime for Command {
    fn name(&self) -> &'static str {
        "command"
    }

    fn description(&self) -> &'static str {
        "any runtime installed on the device, as a command template over {wasm}, {wasm_simd}, {native}, {cwasm} and {workdir}"
    }

    fn variants(&self) -> &'static [&'static str] {
        &[]
    }

    fn options(&self) -> &'static [&'static str] {
        &["template", "probe"]
    }

    fn check(&self, _variant: &str, options: &Options) -> Result<(), String> {
        let template = options.get("template").ok_or("the `command` runtime needs a `template`")?;
        let Some(program) = template.split_whitespace().next() else {
            return Err("`template` is empty".into());
        };
        if program.starts_with('-') {
            return Err(format!(
                "`template` starts with `{program}`, an option; it must start with the program to run"
            ));
        }
        for (name, text) in options {
            if text.contains('\0') {
                return Err(format!("`{name}` holds a NUL character, which no command line can"));
            }
        }
        if options.get("probe").is_some_and(|p| p.split_whitespace().next().is_none()) {
            return Err("`probe` is empty; give a command, or leave it out".into());
        }
        // A misspelt placeholder would reach the program literally.
        let known: Vec<&str> = PLACEHOLDERS.iter().map(|(p, _)| *p).chain([WORKDIR]).collect();
        for piece in template.split('{').skip(1) {
            let name = piece.split('}').next().unwrap_or_default();
            let placeholder = format!("{{{name}}}");
            if !known.contains(&placeholder.as_str()) {
                return Err(format!(
                    "`template`: {}",
                    suggestions::unknown("placeholder", &placeholder, known.iter().copied())
                ));
            }
        }
        if !PLACEHOLDERS.iter().any(|(p, _)| template.contains(p)) {
            return Err(format!(
                "`template` names no artifact; use one of {{wasm}}, {{wasm_simd}}, {{native}}, {{cwasm}}: `{template}`"
            ));
        }
        Ok(())
    }

    fn external_engine(&self) -> bool {
        true
    }

    fn artifacts(&self, _variant: &str) -> &'static [ArtifactKind] {
        // The template decides; `CellContext::artifact` finds what it names.
        &[]
    }

    fn invocation(&self, cell: &CellContext<'_>) -> Result<Invocation> {
        let Some(template) = cell.options.get("template") else {
            bail!("the `command` runtime needs a `template`");
        };
        let mut argv = Vec::new();
        for word in template.split_whitespace() {
            let mut word = word.to_string();
            for (placeholder, kind) in PLACEHOLDERS {
                if word.contains(placeholder) {
                    word = word.replace(placeholder, &cell.artifact(*kind)?.path);
                }
            }
            argv.push(word);
        }
        // A workload's own arguments follow the template's.
        argv.extend(cell.args());
        // A container engine's client starts the workload elsewhere: what is
        // counted on its processes is the client's.
        let program = argv.first().and_then(|p| p.rsplit('/').next()).unwrap_or_default();
        let workload_elsewhere = CONTAINER_CLIENTS.contains(&program);
        Ok(Invocation { argv, env: cell.env(), workload_elsewhere, ..Default::default() })
    }

    fn probe(&self, _variant: &str, _simd: bool, options: &Options, _manifest: &Manifest) -> Option<Invocation> {
        let argv: Vec<String> = match options.get("probe") {
            Some(probe) => probe.split_whitespace().map(String::from).collect(),
            None => {
                let program = options.get("template")?.split_whitespace().next()?.to_string();
                // A program that is one of the plan's artifacts is deployed
                // and verified with the plan: nothing to look for on PATH.
                if PLACEHOLDERS.iter().any(|(placeholder, _)| program.contains(placeholder)) {
                    return None;
                }
                let check = "command -v \"$0\" >/dev/null || { echo \"$0: not found on PATH\" >&2; exit 1; }";
                vec!["sh".into(), "-c".into(), check.into(), program]
            }
        };
        Some(Invocation { argv, ..Default::default() })
    }
}
