//! WASI preview 1 for wasm3, as host functions: stdio, arguments, the
//! environment the host gives and clocks — what the kernels and workloads
//! may use, and no more (no files, no network).
//!
//! wasm3's C core ships without WASI here (its own WASI is a separate,
//! larger file), so the executor brings these. Each function reads its
//! arguments from wasm3's slot stack and answers with a WASI errno; a
//! pointer outside the guest's memory traps, as in wasm3's own host
//! functions.

use std::cell::RefCell;
use std::ffi::{CStr, c_void};

use crate::ffi::{self, M3Result, Module, RawCall, Runtime};

const ERRNO_SUCCESS: i32 = 0;
const ERRNO_BADF: i32 = 8;
const ERRNO_INVAL: i32 = 28;
const ERRNO_IO: i32 = 29;
const ERRNO_NOTSUP: i32 = 58;
const ERRNO_SPIPE: i32 = 70;

/// `filetype::character_device`, which stdio is to the guest.
const FILETYPE_CHARACTER_DEVICE: u8 = 2;
/// Rights of a stdio descriptor: `fd_read`, `fd_write`, `fd_fdstat_set_flags`
/// and `poll_fd_readwrite`, the rights a character device has.
const STDIO_RIGHTS: u64 = (1 << 1) | (1 << 6) | (1 << 3) | (1 << 27);

/// What the guest sees of its process: its arguments, and how it exited.
#[derive(Default)]
struct Process {
    args: Vec<Vec<u8>>,
    /// `NAME=VALUE` each.
    env: Vec<Vec<u8>>,
    exit_code: Option<i32>,
}

thread_local! {
    static PROCESS: RefCell<Process> = RefCell::default();
}

/// The functions, by import name, with their wasm3 signatures.
const FUNCTIONS: &[(&CStr, &CStr, RawCall)] = &[
    (c"args_get", c"i(ii)", args_get),
    (c"args_sizes_get", c"i(ii)", args_sizes_get),
    (c"environ_get", c"i(ii)", environ_get),
    (c"environ_sizes_get", c"i(ii)", environ_sizes_get),
    (c"clock_res_get", c"i(ii)", clock_res_get),
    (c"clock_time_get", c"i(iIi)", clock_time_get),
    (c"fd_close", c"i(i)", fd_close),
    (c"fd_fdstat_get", c"i(ii)", fd_fdstat_get),
    (c"fd_fdstat_set_flags", c"i(ii)", fd_fdstat_set_flags),
    (c"fd_prestat_get", c"i(ii)", fd_prestat_get),
    (c"fd_prestat_dir_name", c"i(iii)", fd_prestat_dir_name),
    (c"fd_read", c"i(iiii)", fd_read),
    (c"fd_seek", c"i(iIii)", fd_seek),
    (c"fd_write", c"i(iiii)", fd_write),
    (c"path_open", c"i(iiiiiIIii)", path_open),
    (c"path_unlink_file", c"i(iii)", path_unlink_file),
    (c"proc_exit", c"v(i)", proc_exit),
    (c"sched_yield", c"i()", sched_yield),
];

/// Links every function the module imports from `wasi_snapshot_preview1`;
/// `args` become the guest's `argv`, `env` (`NAME=VALUE` each) its whole
/// environment.
pub fn link(module: Module, args: Vec<Vec<u8>>, env: Vec<Vec<u8>>) -> Result<(), String> {
    PROCESS.with_borrow_mut(|p| *p = Process { args, env, exit_code: None });
    for (name, signature, function) in FUNCTIONS {
        // SAFETY: the module is loaded, the strings are NUL-terminated and
        // static, and each function matches its signature.
        let result = unsafe {
            ffi::m3_LinkRawFunction(
                module,
                c"wasi_snapshot_preview1".as_ptr(),
                name.as_ptr(),
                signature.as_ptr(),
                *function,
            )
        };
        // SAFETY: reading an immutable static of the C library.
        if !result.is_null() && result != unsafe { ffi::m3Err_functionLookupFailed } {
            let message = ffi::message(std::ptr::null_mut(), result).unwrap_or_default();
            return Err(format!("linking WASI's {}: {message}", name.to_string_lossy()));
        }
    }
    Ok(())
}

/// The status the guest passed to `proc_exit`, if it called it.
pub fn exit_code() -> Option<i32> {
    PROCESS.with_borrow(|p| p.exit_code)
}

/// Whether `result` is the trap `proc_exit` ends the guest with.
pub fn is_exit(result: M3Result) -> bool {
    // SAFETY: reading an immutable static of the C library.
    result == unsafe { ffi::m3Err_trapExit }
}

/// One call's arguments and the guest's memory.
struct Call {
    sp: *mut u64,
    memory: *mut u8,
    memory_len: usize,
}

/// A guest pointer outside its memory.
struct OutOfBounds;

/// `base + by` as a guest address.
fn offset(base: u32, by: u32) -> Result<u32, OutOfBounds> {
    base.checked_add(by).ok_or(OutOfBounds)
}

impl Call {
    /// # Safety
    /// `sp` and `mem` are what wasm3 passed to a host function of `runtime`.
    unsafe fn new(runtime: Runtime, sp: *mut u64, mem: *mut c_void) -> Call {
        let memory_len = unsafe { ffi::m3_GetMemorySize(runtime) } as usize;
        Call { sp, memory: mem.cast(), memory_len }
    }

    /// The value in slot `slot`: functions that return have their return
    /// slot first, so their arguments start at slot 1.
    fn u32(&self, slot: usize) -> u32 {
        // SAFETY: wasm3 passes one 64-bit slot per argument, the value in
        // its low-addressed bytes as in C's `*(uint32_t *) sp`.
        unsafe { *self.sp.add(slot).cast::<u32>() }
    }

    fn u64(&self, slot: usize) -> u64 {
        // SAFETY: as for `u32`.
        unsafe { *self.sp.add(slot) }
    }

    fn ret(&self, errno: i32) {
        // SAFETY: the first slot is the return value's.
        unsafe { *self.sp.cast::<i32>() = errno }
    }

    /// `len` bytes of guest memory at `ptr`.
    fn bytes(&self, ptr: u32, len: u32) -> Result<&[u8], OutOfBounds> {
        let start = self.range(ptr, len)?;
        // SAFETY: in bounds of the guest's memory (see `range`).
        Ok(unsafe { std::slice::from_raw_parts(self.memory.add(start), len as usize) })
    }

    fn bytes_mut(&mut self, ptr: u32, len: u32) -> Result<&mut [u8], OutOfBounds> {
        let start = self.range(ptr, len)?;
        // SAFETY: in bounds of the guest's memory, which nothing else touches
        // while a host function runs.
        Ok(unsafe { std::slice::from_raw_parts_mut(self.memory.add(start), len as usize) })
    }

    /// The start of `len` bytes at `ptr`, when they lie inside the memory.
    fn range(&self, ptr: u32, len: u32) -> Result<usize, OutOfBounds> {
        let (start, len) = (ptr as usize, len as usize);
        match start.checked_add(len) {
            Some(end) if end <= self.memory_len => Ok(start),
            _ => Err(OutOfBounds),
        }
    }

    fn read_u32(&self, ptr: u32) -> Result<u32, OutOfBounds> {
        Ok(u32::from_le_bytes(self.bytes(ptr, 4)?.try_into().expect("4 bytes")))
    }

    fn write(&mut self, ptr: u32, value: &[u8]) -> Result<(), OutOfBounds> {
        self.bytes_mut(ptr, value.len() as u32)?.copy_from_slice(value);
        Ok(())
    }

    /// The guest's iovec array: (address, length) pairs.
    fn iovecs(&self, ptr: u32, count: u32) -> Result<Vec<(u32, u32)>, OutOfBounds> {
        (0..count)
            .map(|i| {
                let at = offset(ptr, i.checked_mul(8).ok_or(OutOfBounds)?)?;
                Ok((self.read_u32(at)?, self.read_u32(offset(at, 4)?)?))
            })
            .collect()
    }
}

/// The body of a host function that returns an errno: run `body`, store its
/// errno, or trap when it touched memory out of bounds.
///
/// # Safety
/// As for [`Call::new`].
unsafe fn host(
    runtime: Runtime,
    sp: *mut u64,
    mem: *mut c_void,
    body: impl FnOnce(&mut Call) -> Result<i32, OutOfBounds>,
) -> *const c_void {
    let mut call = unsafe { Call::new(runtime, sp, mem) };
    match body(&mut call) {
        Ok(errno) => {
            call.ret(errno);
            std::ptr::null()
        }
        // SAFETY: reading an immutable static of the C library.
        Err(OutOfBounds) => unsafe { ffi::m3Err_trapOutOfBoundsMemoryAccess }.cast(),
    }
}

/// `args_sizes_get` and `environ_sizes_get`: how many strings, and their
/// bytes with a NUL each.
fn write_sizes(call: &mut Call, strings: &[Vec<u8>]) -> Result<i32, OutOfBounds> {
    let bytes: usize = strings.iter().map(|s| s.len() + 1).sum();
    call.write(call.u32(1), &(strings.len() as u32).to_le_bytes())?;
    call.write(call.u32(2), &(bytes as u32).to_le_bytes())?;
    Ok(ERRNO_SUCCESS)
}

/// `args_get` and `environ_get`: a pointer to each string, and the strings,
/// NUL-terminated, one after another.
fn write_strings(call: &mut Call, strings: &[Vec<u8>]) -> Result<i32, OutOfBounds> {
    let (mut pointers, mut buffer) = (call.u32(1), call.u32(2));
    for string in strings {
        let len = u32::try_from(string.len()).map_err(|_| OutOfBounds)?;
        call.write(pointers, &buffer.to_le_bytes())?;
        call.write(buffer, string)?;
        call.write(offset(buffer, len)?, &[0])?;
        pointers = offset(pointers, 4)?;
        buffer = offset(buffer, len + 1)?;
    }
    Ok(ERRNO_SUCCESS)
}

/// Declares host functions: each gets its call, from argument slot 1 on.
macro_rules! host_functions {
    ($($name:ident($call:ident) $body:block)*) => {$(
        unsafe extern "C" fn $name(runtime: Runtime, _ctx: *mut c_void, sp: *mut u64, mem: *mut c_void) -> *const c_void {
            let body = |$call: &mut Call| -> Result<i32, OutOfBounds> { $body };
            // SAFETY: wasm3 calls host functions with their slots and memory.
            unsafe { host(runtime, sp, mem, body) }
        }
    )*};
}

host_functions! {
    args_sizes_get(call) {
        PROCESS.with_borrow(|p| write_sizes(call, &p.args))
    }
    args_get(call) {
        PROCESS.with_borrow(|p| write_strings(call, &p.args))
    }
    environ_sizes_get(call) {
        PROCESS.with_borrow(|p| write_sizes(call, &p.env))
    }
    environ_get(call) {
        PROCESS.with_borrow(|p| write_strings(call, &p.env))
    }
    clock_res_get(call) {
        let Some(clock) = clock(call.u32(1)) else { return Ok(ERRNO_INVAL) };
        let mut res = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: a valid clock id and a timespec to fill.
        if unsafe { libc::clock_getres(clock, &mut res) } != 0 {
            return Ok(ERRNO_INVAL);
        }
        call.write(call.u32(2), &nanoseconds(&res).to_le_bytes())?;
        Ok(ERRNO_SUCCESS)
    }
    clock_time_get(call) {
        // Slot 2 is the precision the guest asks for; the host clock's own is used.
        let _precision = call.u64(2);
        let Some(clock) = clock(call.u32(1)) else { return Ok(ERRNO_INVAL) };
        let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: a valid clock id and a timespec to fill.
        if unsafe { libc::clock_gettime(clock, &mut now) } != 0 {
            return Ok(ERRNO_INVAL);
        }
        call.write(call.u32(3), &nanoseconds(&now).to_le_bytes())?;
        Ok(ERRNO_SUCCESS)
    }
    fd_close(call) {
        Ok(if is_stdio(call.u32(1)) { ERRNO_SUCCESS } else { ERRNO_BADF })
    }
    fd_fdstat_get(call) {
        if !is_stdio(call.u32(1)) {
            return Ok(ERRNO_BADF);
        }
        // fdstat: filetype (u8), flags (u16 at 2), rights base and inheriting (u64 at 8, 16).
        let mut stat = [0u8; 24];
        stat[0] = FILETYPE_CHARACTER_DEVICE;
        stat[8..16].copy_from_slice(&STDIO_RIGHTS.to_le_bytes());
        call.write(call.u32(2), &stat)?;
        Ok(ERRNO_SUCCESS)
    }
    fd_prestat_get(_call) {
        // No preopened directories.
        Ok(ERRNO_BADF)
    }
    fd_prestat_dir_name(_call) {
        Ok(ERRNO_BADF)
    }
    fd_fdstat_set_flags(call) {
        // Stdio stays blocking and unbuffered; no other descriptor exists.
        Ok(if is_stdio(call.u32(1)) { ERRNO_NOTSUP } else { ERRNO_BADF })
    }
    path_open(_call) {
        // Paths are relative to a preopened directory, and there is none: a
        // C library that links `fopen` (SQLite does) links this, and a call
        // fails as a missing file would.
        Ok(ERRNO_BADF)
    }
    path_unlink_file(_call) {
        Ok(ERRNO_BADF)
    }
    fd_seek(call) {
        Ok(if is_stdio(call.u32(1)) { ERRNO_SPIPE } else { ERRNO_BADF })
    }
    fd_read(call) {
        if call.u32(1) != 0 {
            return Ok(ERRNO_BADF);
        }
        let mut total = 0u32;
        for (ptr, len) in call.iovecs(call.u32(2), call.u32(3))? {
            let buffer = call.bytes_mut(ptr, len)?;
            // SAFETY: reading into a buffer of `len` bytes.
            let n = unsafe { libc::read(0, buffer.as_mut_ptr().cast(), buffer.len()) };
            if n < 0 {
                return Ok(ERRNO_IO);
            }
            total = total.saturating_add(n as u32);
            if (n as u32) < len {
                break;
            }
        }
        call.write(call.u32(4), &total.to_le_bytes())?;
        Ok(ERRNO_SUCCESS)
    }
    fd_write(call) {
        let fd = call.u32(1);
        if fd != 1 && fd != 2 {
            return Ok(ERRNO_BADF);
        }
        let mut total = 0u32;
        for (ptr, len) in call.iovecs(call.u32(2), call.u32(3))? {
            if !write_all(fd as i32, call.bytes(ptr, len)?) {
                return Ok(ERRNO_IO);
            }
            total = total.saturating_add(len);
        }
        call.write(call.u32(4), &total.to_le_bytes())?;
        Ok(ERRNO_SUCCESS)
    }
    sched_yield(_call) {
        Ok(ERRNO_SUCCESS)
    }
}

/// `proc_exit` returns nothing and ends the guest: its status is kept and the
/// call traps with wasm3's exit result, which unwinds to the executor.
unsafe extern "C" fn proc_exit(_runtime: Runtime, _ctx: *mut c_void, sp: *mut u64, _mem: *mut c_void) -> *const c_void {
    // SAFETY: the one argument, in the first slot (no return slot).
    let code = unsafe { *sp.cast::<i32>() };
    PROCESS.with_borrow_mut(|p| p.exit_code = Some(code));
    // SAFETY: reading an immutable static of the C library.
    unsafe { ffi::m3Err_trapExit }.cast()
}

/// The host clock of a WASI clock id: realtime, monotonic, process and
/// thread CPU time.
fn clock(id: u32) -> Option<libc::clockid_t> {
    match id {
        0 => Some(libc::CLOCK_REALTIME),
        1 => Some(libc::CLOCK_MONOTONIC),
        2 => Some(libc::CLOCK_PROCESS_CPUTIME_ID),
        3 => Some(libc::CLOCK_THREAD_CPUTIME_ID),
        _ => None,
    }
}

fn nanoseconds(t: &libc::timespec) -> u64 {
    (t.tv_sec as u64).saturating_mul(1_000_000_000).saturating_add(t.tv_nsec as u64)
}

fn is_stdio(fd: u32) -> bool {
    fd <= 2
}

/// Writes all of `bytes` to `fd` unbuffered, so the guest's output and the
/// executor's own interleave as they happened.
fn write_all(fd: i32, mut bytes: &[u8]) -> bool {
    while !bytes.is_empty() {
        // SAFETY: writing from a live buffer.
        let n = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
        if n < 0 {
            if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return false;
        }
        bytes = &bytes[n as usize..];
    }
    true
}
