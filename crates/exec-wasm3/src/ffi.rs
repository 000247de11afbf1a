//! The part of wasm3's C API (`wasm3.h`, 0.5.0) the executor calls.

use std::ffi::{c_char, c_void};

/// An error: null for success, else a static C string. wasm3 compares
/// results by address, so the named ones below are the same pointers its
/// operations return.
pub type M3Result = *const c_char;

#[repr(C)]
pub struct Opaque {
    _private: [u8; 0],
}
pub type Environment = *mut Opaque;
pub type Runtime = *mut Opaque;
pub type Module = *mut Opaque;
pub type Function = *mut Opaque;

/// A host function: `sp` holds the return slots, then one 64-bit slot per
/// argument; `mem` is the start of the linear memory. Returns an
/// [`M3Result`]: null, or a trap that ends the call.
pub type RawCall =
    unsafe extern "C" fn(runtime: Runtime, ctx: *mut c_void, sp: *mut u64, mem: *mut c_void) -> *const c_void;

/// Where and why the last error of a runtime arose (`M3ErrorInfo`).
#[repr(C)]
pub struct ErrorInfo {
    pub result: M3Result,
    pub runtime: Runtime,
    pub module: Module,
    pub function: Function,
    pub file: *const c_char,
    pub line: u32,
    pub message: *const c_char,
}

unsafe extern "C" {
    pub fn m3_NewEnvironment() -> Environment;
    pub fn m3_NewRuntime(environment: Environment, stack_bytes: u32, userdata: *mut c_void) -> Runtime;
    pub fn m3_ParseModule(environment: Environment, module: *mut Module, wasm: *const u8, len: u32) -> M3Result;
    pub fn m3_LoadModule(runtime: Runtime, module: Module) -> M3Result;
    pub fn m3_CompileModule(module: Module) -> M3Result;
    pub fn m3_LinkRawFunction(
        module: Module,
        module_name: *const c_char,
        function_name: *const c_char,
        signature: *const c_char,
        function: RawCall,
    ) -> M3Result;
    pub fn m3_FindFunction(function: *mut Function, runtime: Runtime, name: *const c_char) -> M3Result;
    pub fn m3_CallV(function: Function, ...) -> M3Result;
    pub fn m3_GetMemorySize(runtime: Runtime) -> u32;
    pub fn m3_GetErrorInfo(runtime: Runtime, info: *mut ErrorInfo);

    pub static m3Err_functionLookupFailed: M3Result;
    pub static m3Err_trapExit: M3Result;
    pub static m3Err_trapOutOfBoundsMemoryAccess: M3Result;

    /// Ours (src/memory_cap.c): lowers the runtime's page maximum.
    pub fn edgebench_wasm3_cap_memory(runtime: Runtime, max_pages: u32);
}

/// A result as text, with the runtime's detail when it has one (which
/// import is missing, say); `None` for success.
pub fn message(runtime: Runtime, result: M3Result) -> Option<String> {
    if result.is_null() {
        return None;
    }
    // SAFETY: wasm3 results are static, NUL-terminated strings, and its error
    // message (when set) is a NUL-terminated buffer inside the runtime.
    unsafe {
        let text = |s: *const c_char| std::ffi::CStr::from_ptr(s).to_string_lossy().into_owned();
        let mut message = text(result);
        if !runtime.is_null() {
            let mut info: ErrorInfo = std::mem::zeroed();
            m3_GetErrorInfo(runtime, &mut info);
            if info.result == result && !info.message.is_null() && *info.message != 0 {
                message = format!("{message}: {}", text(info.message));
            }
        }
        Some(message)
    }
}
