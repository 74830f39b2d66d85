//! The library-wide functions: versions, code descriptions, the thread's last error,
//! and the live-handle count (a test hook).

use std::ffi::c_char;

use super::handles;
use super::last_error;
use super::panic::boundary;
use super::result::ws_result::{self, *};
use super::util::{out_ptr, StrOut};

macro_rules! cstr {
    ($s:expr) => {
        concat!($s, "\0").as_ptr().cast::<c_char>()
    };
}

/// A static, NUL-terminated description of a result code, for example
/// ws_result_str(WS_CERT_EXPIRED). Unknown codes give "unknown result code". The
/// string is owned by the library, lives forever, and must not be freed.
#[no_mangle]
pub extern "C" fn ws_result_str(code: u32) -> *const c_char {
    match code {
        0 => cstr!("ok"),
        1 => cstr!("no message ready; offer more input"),
        2 => cstr!("connection closed cleanly"),
        100 => cstr!("a required pointer argument was NULL"),
        101 => cstr!("invalid, stale or wrong-type handle"),
        102 => cstr!("not allowed in the current state"),
        103 => cstr!("buffer too small"),
        104 => cstr!("invalid argument"),
        105 => cstr!("invalid URL"),
        106 => cstr!("invalid configuration value"),
        107 => cstr!("pending output limit reached"),
        200 => cstr!("TLS error"),
        201 => cstr!("certificate not trusted (unknown issuer)"),
        202 => cstr!("certificate expired"),
        203 => cstr!("certificate not valid yet"),
        204 => cstr!("certificate not valid for this host"),
        205 => cstr!("certificate public key does not match a pin"),
        206 => cstr!("certificate invalid or unsupported"),
        207 => cstr!("TLS alert received from the server"),
        208 => cstr!("no TLS version or cipher suite in common"),
        209 => cstr!("server sent invalid TLS data"),
        300 => cstr!("WebSocket handshake failed"),
        301 => cstr!("server answered the upgrade with a non-101 HTTP status"),
        302 => cstr!("Sec-WebSocket-Accept mismatch"),
        303 => cstr!("malformed upgrade response"),
        304 => cstr!("server selected a subprotocol that was not offered"),
        305 => cstr!("server selected an extension that was not offered"),
        306 => cstr!("upgrade response head too large"),
        400 => cstr!("WebSocket protocol error"),
        401 => cstr!("invalid UTF-8 from the server"),
        402 => cstr!("message too big"),
        403 => cstr!("frame too big"),
        500 => cstr!("connection already closed"),
        501 => cstr!("connection lost during the handshake"),
        502 => cstr!("timeout"),
        600 => cstr!("the proxy requires authentication (407)"),
        601 => cstr!("the proxy refused the tunnel"),
        602 => cstr!("malformed answer from the proxy"),
        603 => cstr!("the proxy closed the connection before the tunnel was open"),
        900 => cstr!("internal error (panic)"),
        _ => cstr!("unknown result code"),
    }
}

/// The library version as a static, NUL-terminated string (for example "0.1.0"),
/// matching the WSMACHINE_VERSION_* macros of the header it was built with. Owned by
/// the library; never free it.
#[no_mangle]
pub extern "C" fn ws_version() -> *const c_char {
    cstr!(env!("CARGO_PKG_VERSION"))
}

/// Copies the detailed message of the most recent failed call on this thread (any
/// function, including ones without a handle such as ws_client_new).
///
/// Writes at most cap - 1 bytes plus a NUL to buf and sets *out_len to the full length
/// without the NUL, so a caller can size a buffer; *out_len is 0 when no call has
/// failed on this thread. buf may be NULL when cap is 0.
///
/// Returns WS_OK, or WS_NULL_POINTER (out_len NULL, or buf NULL with cap > 0).
#[no_mangle]
pub unsafe extern "C" fn ws_last_error(
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> ws_result {
    boundary(|| {
        // SAFETY: the caller passes cap writable bytes at buf and a writable out_len.
        let out = unsafe { StrOut::new(buf, cap, out_len) }?;
        last_error::with(|msg| out.write(msg));
        Ok(WS_OK)
    })
}

/// Test hook, not part of the API: writes the number of live handles (configs plus
/// clients, in the whole process) to *out_count, for leak checks in tests.
///
/// Returns WS_OK or WS_NULL_POINTER.
#[no_mangle]
pub unsafe extern "C" fn ws_handle_count(out_count: *mut usize) -> ws_result {
    boundary(|| {
        // SAFETY: the caller passes a writable size_t (or NULL, refused here).
        let out = unsafe { out_ptr(out_count) }?;
        out.write(handles::count());
        Ok(WS_OK)
    })
}
