//! Pointer checks shared by the exports.

use std::ffi::{c_char, CStr};

use super::result::ws_result::*;

/// An input buffer: `(NULL, 0)` is empty; `(NULL, n>0)` is `WS_NULL_POINTER`.
///
/// # Safety
/// When non-NULL, `ptr` must point to `len` readable bytes for the returned lifetime.
pub(crate) unsafe fn in_slice<'a>(ptr: *const u8, len: usize) -> Result<&'a [u8], u32> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(WS_NULL_POINTER as u32);
    }
    if len > isize::MAX as usize {
        return Err(WS_INVALID_ARGUMENT as u32);
    }
    // SAFETY: non-null, and the caller guarantees `len` readable bytes.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// An output buffer, with the same NULL rules as [`in_slice`].
///
/// # Safety
/// When non-NULL, `ptr` must point to `len` writable bytes, not aliased elsewhere.
pub(crate) unsafe fn out_slice<'a>(ptr: *mut u8, len: usize) -> Result<&'a mut [u8], u32> {
    if len == 0 {
        return Ok(&mut []);
    }
    if ptr.is_null() {
        return Err(WS_NULL_POINTER as u32);
    }
    if len > isize::MAX as usize {
        return Err(WS_INVALID_ARGUMENT as u32);
    }
    // SAFETY: non-null, and the caller guarantees `len` writable, unaliased bytes.
    Ok(unsafe { std::slice::from_raw_parts_mut(ptr, len) })
}

/// A NUL-terminated UTF-8 string argument.
///
/// # Safety
/// When non-NULL, `ptr` must point to a NUL-terminated string.
pub(crate) unsafe fn in_str<'a>(ptr: *const c_char) -> Result<&'a str, u32> {
    if ptr.is_null() {
        return Err(WS_NULL_POINTER as u32);
    }
    // SAFETY: non-null and NUL-terminated per the caller's contract.
    let s = unsafe { CStr::from_ptr(ptr) };
    s.to_str().map_err(|_| {
        super::result::set_thread_error("string argument is not valid UTF-8");
        WS_INVALID_ARGUMENT as u32
    })
}

/// Writes `value` through an out-pointer.
///
/// # Safety
/// `ptr` must be NULL or valid for a write of `T`.
pub(crate) unsafe fn write_out<T>(ptr: *mut T, value: T) -> u32 {
    if ptr.is_null() {
        return WS_NULL_POINTER as u32;
    }
    // SAFETY: non-null and writable per the caller's contract.
    unsafe { ptr.write(value) };
    WS_OK as u32
}

/// The last-error copy-out convention: at most `cap - 1` bytes plus a NUL, and
/// `*out_len` = the full length without the NUL.
///
/// # Safety
/// `buf` must be NULL or point to `cap` writable bytes; `out_len` NULL or writable.
pub(crate) unsafe fn copy_str_out(
    s: &str,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> u32 {
    if out_len.is_null() || (buf.is_null() && cap > 0) {
        return WS_NULL_POINTER as u32;
    }
    if cap > 0 {
        let n = s.len().min(cap - 1);
        // SAFETY: buf has cap >= n + 1 writable bytes; s has n readable bytes.
        unsafe {
            std::ptr::copy_nonoverlapping(s.as_ptr(), buf.cast::<u8>(), n);
            *buf.add(n) = 0;
        }
    }
    // SAFETY: checked non-null above.
    unsafe { *out_len = s.len() };
    WS_OK as u32
}
