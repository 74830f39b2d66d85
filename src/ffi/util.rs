//! Pointer checks shared by the exports. Each turns a C argument into a Rust value or
//! a `Fail`, so an export reads: check the arguments, call the core, write the outputs.

use std::ffi::{c_char, CStr};
use std::ptr::NonNull;

use super::result::{ws_result::*, Fail};

/// An input buffer: `(NULL, 0)` is empty; `(NULL, n>0)` is `WS_NULL_POINTER`.
///
/// # Safety
/// When non-NULL, `ptr` must point to `len` readable bytes for the returned lifetime.
pub(crate) unsafe fn in_slice<'a>(ptr: *const u8, len: usize) -> Result<&'a [u8], Fail> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(Fail::null());
    }
    if len > isize::MAX as usize {
        return Err(Fail::new(WS_INVALID_ARGUMENT, "buffer length too large"));
    }
    // SAFETY: non-null, and the caller guarantees `len` readable bytes.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// An output buffer, with the same NULL rules as [`in_slice`].
///
/// # Safety
/// When non-NULL, `ptr` must point to `len` writable bytes, not aliased elsewhere.
pub(crate) unsafe fn out_slice<'a>(ptr: *mut u8, len: usize) -> Result<&'a mut [u8], Fail> {
    if len == 0 {
        return Ok(&mut []);
    }
    if ptr.is_null() {
        return Err(Fail::null());
    }
    if len > isize::MAX as usize {
        return Err(Fail::new(WS_INVALID_ARGUMENT, "buffer length too large"));
    }
    // SAFETY: non-null, and the caller guarantees `len` writable, unaliased bytes.
    Ok(unsafe { std::slice::from_raw_parts_mut(ptr, len) })
}

/// A NUL-terminated UTF-8 string argument; NULL is `WS_NULL_POINTER`.
///
/// # Safety
/// When non-NULL, `ptr` must point to a NUL-terminated string.
pub(crate) unsafe fn in_str<'a>(ptr: *const c_char) -> Result<&'a str, Fail> {
    // SAFETY: passed on from the caller.
    unsafe { in_opt_str(ptr) }?.ok_or_else(Fail::null)
}

/// A NUL-terminated UTF-8 string argument that may be NULL.
///
/// # Safety
/// When non-NULL, `ptr` must point to a NUL-terminated string.
pub(crate) unsafe fn in_opt_str<'a>(ptr: *const c_char) -> Result<Option<&'a str>, Fail> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: non-null and NUL-terminated per the caller's contract.
    let s = unsafe { CStr::from_ptr(ptr) };
    s.to_str()
        .map(Some)
        .map_err(|_| Fail::new(WS_INVALID_ARGUMENT, "string argument is not valid UTF-8"))
}

/// A checked, non-NULL out-parameter. Nothing is written until [`Out::write`], so an
/// export writes its outputs only once the call succeeded.
pub(crate) struct Out<T>(NonNull<T>);

/// Checks an out-parameter: NULL is `WS_NULL_POINTER`.
///
/// # Safety
/// When non-NULL, `ptr` must be valid for writing a `T` until the export returns.
pub(crate) unsafe fn out_ptr<T>(ptr: *mut T) -> Result<Out<T>, Fail> {
    NonNull::new(ptr).map(Out).ok_or_else(Fail::null)
}

impl<T> Out<T> {
    /// Writes the value.
    pub(crate) fn write(&self, value: T) {
        // SAFETY: non-null, and writable per the contract of `out_ptr`.
        unsafe { self.0.as_ptr().write(value) }
    }
}

impl<T: Copy> Out<T> {
    /// Writes a raw `uint32_t` where C declares an enum typedef (a `uint32_t` in C) but
    /// the value is none of the Rust enum's variants (0 for "unknown").
    pub(crate) fn write_u32(&self, value: u32) {
        assert_eq!(std::mem::size_of::<T>(), 4, "a uint32_t enum");
        // SAFETY: as for `write`; T is a 4-byte `repr(u32)` enum, and Rust never reads
        // the value back as a T.
        unsafe { self.0.as_ptr().cast::<u32>().write(value) }
    }
}

/// The string copy-out convention of `ws_last_error` and friends: at most `cap - 1`
/// bytes plus a NUL to `buf`, and the full length without the NUL to `*out_len`.
pub(crate) struct StrOut {
    buf: *mut c_char,
    cap: usize,
    out_len: Out<usize>,
}

impl StrOut {
    /// Checks the arguments: `out_len` NULL, or `buf` NULL with `cap > 0`, is
    /// `WS_NULL_POINTER`.
    ///
    /// # Safety
    /// `buf` must be NULL or point to `cap` writable bytes; `out_len` NULL or writable.
    pub(crate) unsafe fn new(
        buf: *mut c_char,
        cap: usize,
        out_len: *mut usize,
    ) -> Result<Self, Fail> {
        if buf.is_null() && cap > 0 {
            return Err(Fail::null());
        }
        // SAFETY: passed on from the caller.
        let out_len = unsafe { out_ptr(out_len) }?;
        Ok(StrOut { buf, cap, out_len })
    }

    /// Writes only the length, for `WS_BUFFER_TOO_SMALL` (the size needed).
    pub(crate) fn write_len(&self, len: usize) {
        self.out_len.write(len);
    }

    /// Copies `s` out.
    pub(crate) fn write(&self, s: &str) {
        if self.cap > 0 {
            let n = s.len().min(self.cap - 1);
            // SAFETY: buf has cap >= n + 1 writable bytes (checked in `new`); s has n
            // readable bytes.
            unsafe {
                std::ptr::copy_nonoverlapping(s.as_ptr(), self.buf.cast::<u8>(), n);
                *self.buf.add(n) = 0;
            }
        }
        self.out_len.write(s.len());
    }
}
