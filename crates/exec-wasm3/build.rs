//! Compiles wasm3's C core into the executor.
//!
//! The source is not kept in this repository: `cargo xtask build` fetches a
//! pinned release (verified by sha256, see `xtask/src/toolchain/sources.rs`)
//! and names its directory in `EDGEBENCH_WASM3_SOURCE`.

use std::path::PathBuf;

const SOURCE_ENV: &str = "EDGEBENCH_WASM3_SOURCE";

fn main() {
    println!("cargo::rerun-if-env-changed={SOURCE_ENV}");
    println!("cargo::rerun-if-changed=src/memory_cap.c");
    let Some(source) = std::env::var_os(SOURCE_ENV).map(PathBuf::from) else {
        panic!(
            "{SOURCE_ENV} is not set: it names the directory of wasm3's C source. \
             Build this executor with `cargo xtask build`, which provisions the pinned source."
        );
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&source)
        .unwrap_or_else(|e| panic!("{SOURCE_ENV}={}: {e}", source.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "c"))
        .collect();
    assert!(!files.is_empty(), "{SOURCE_ENV}={} holds no C files", source.display());
    files.sort();
    for file in &files {
        println!("cargo::rerun-if-changed={}", file.display());
    }
    cc::Build::new()
        .files(&files)
        .file("src/memory_cap.c")
        .include(&source)
        .opt_level(3)
        // The flags wasm3's own release builds use: its interpreter is a
        // chain of tail calls between operation handlers, and the frame
        // pointer and stack checks would cost in every one of them.
        .flag("-fomit-frame-pointer")
        .flag("-fno-stack-protector")
        .flag_if_supported("-fno-stack-check")
        .define("NASSERTS", None)
        // wasm3's own WASI is not compiled; the executor brings its own.
        .define("d_m3HasWASI", "0")
        .warnings(false)
        .compile("wasm3");
}
