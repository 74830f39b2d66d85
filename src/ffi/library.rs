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
        2 => cstr!("connection ended; every message polled"),
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
        210 => cstr!("the peer ended the stream without close_notify (possible truncation)"),
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

/// The ABI version of this header: it changes whenever a function signature, a struct
/// layout or the meaning of a result code changes incompatibly (and the Linux SONAME
/// libwsmachine.so.N with it). Additions (new functions, new codes) do not change it.
pub const WS_ABI_VERSION: u32 = 1;

/// What ws_abi_version returns: WS_ABI_VERSION, except in a library built with
/// WSMACHINE_TEST_ABI_VERSION=<n> in the environment (a test hook that checks that
/// bindings refuse a mismatched library; never set it for a release).
const BUILT_ABI_VERSION: u32 = match option_env!("WSMACHINE_TEST_ABI_VERSION") {
    Some(s) => parse_u32(s),
    None => WS_ABI_VERSION,
};

const fn parse_u32(s: &str) -> u32 {
    let b = s.as_bytes();
    assert!(!b.is_empty(), "WSMACHINE_TEST_ABI_VERSION is empty");
    let mut i = 0;
    let mut n: u32 = 0;
    while i < b.len() {
        assert!(
            b[i].is_ascii_digit(),
            "WSMACHINE_TEST_ABI_VERSION must be decimal digits"
        );
        n = n * 10 + (b[i] - b'0') as u32;
        i += 1;
    }
    n
}

/// The ABI version of the loaded library: the WS_ABI_VERSION of the header it was
/// built with. A program compares it with the WS_ABI_VERSION it was compiled against
/// before anything else and refuses a different one; the C# bindings do so on their
/// first call. Unlike the other functions it returns the value itself, not a
/// ws_result: it takes nothing, cannot fail and never panics, and may be called
/// before any other function.
#[no_mangle]
pub extern "C" fn ws_abi_version() -> u32 {
    BUILT_ABI_VERSION
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
