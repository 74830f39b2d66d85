//! Result codes, message kinds, states, and the last-error plumbing.

use std::cell::RefCell;
use std::ffi::c_char;

use crate::error::ErrorKind;
use crate::ffi::panic::guard;
use crate::ffi::util::copy_str_out;

/// Result codes. The numbers are stable and never reused; they fall in blocks:
/// 0-99 statuses that are not errors, 100-199 caller errors, 200-299 TLS,
/// 300-399 opening handshake, 400-499 WebSocket protocol and capacity,
/// 500-599 connection ended, 900 panic. Functions return them as `uint32_t`.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ws_result {
    /// Success.
    WS_OK = 0,
    /// Not an error: no message is ready; offer more input.
    WS_NEED_INPUT = 1,
    /// Not an error: the connection ended and every message has been polled (the last
    /// was a CLOSE message; code 1006 when it ended without a close handshake).
    WS_CLOSED = 2,

    /// A required pointer argument was NULL.
    WS_NULL_POINTER = 100,
    /// The handle is 0, stale (already freed), of the wrong type, or garbage.
    WS_INVALID_HANDLE = 101,
    /// The call is not allowed in the current state (for example a send before the
    /// handshake completed).
    WS_INVALID_STATE = 102,
    /// The caller's buffer is too small; the size needed was written to `*out_len`.
    WS_BUFFER_TOO_SMALL = 103,
    /// An argument is out of range or malformed (close code, invalid UTF-8 text, ...).
    WS_INVALID_ARGUMENT = 104,
    /// The URL is malformed or not `ws://`/`wss://`.
    WS_INVALID_URL = 105,
    /// A configuration value was rejected (bad PEM, header, limit).
    WS_INVALID_CONFIG = 106,
    /// Queueing this send would exceed the pending-output limit; drain
    /// `ws_read_output` and retry. Nothing was queued.
    WS_OUTPUT_FULL = 107,

    /// A TLS error without a more specific code.
    WS_TLS_ERROR = 200,
    /// The server certificate does not chain to a trusted root (add its CA with
    /// `ws_config_add_root_pem`).
    WS_CERT_UNTRUSTED = 201,
    /// The server certificate has expired.
    WS_CERT_EXPIRED = 202,
    /// The server certificate is not valid yet (check the device clock).
    WS_CERT_NOT_YET_VALID = 203,
    /// The server certificate is not valid for the host name or IP in the URL.
    WS_CERT_WRONG_HOST = 204,
    /// The server's public key matches none of the configured pins.
    WS_CERT_PIN_MISMATCH = 205,
    /// The certificate is malformed, badly signed, revoked or unsupported.
    WS_CERT_INVALID = 206,
    /// The server sent a fatal TLS alert (named in the last error).
    WS_TLS_ALERT = 207,
    /// No TLS version or cipher suite in common with the server.
    WS_TLS_VERSION = 208,
    /// The server sent bytes that are not valid TLS.
    WS_TLS_CORRUPT = 209,

    /// The opening handshake failed without a more specific code.
    WS_HANDSHAKE_ERROR = 300,
    /// The server answered the upgrade with an HTTP status other than 101
    /// (read it with `ws_client_http_status`).
    WS_HTTP_STATUS = 301,
    /// `Sec-WebSocket-Accept` did not match.
    WS_BAD_ACCEPT = 302,
    /// The upgrade response is not valid HTTP or lacks required headers.
    WS_BAD_RESPONSE = 303,
    /// The server selected a subprotocol that was not offered.
    WS_SUBPROTOCOL = 304,
    /// The server selected an extension that was not offered.
    WS_EXTENSION = 305,
    /// The upgrade response head exceeds the configured limit.
    WS_HEADER_TOO_LARGE = 306,

    /// The server violated the WebSocket protocol (close code 1002 was sent).
    WS_PROTOCOL_ERROR = 400,
    /// A text message or close reason was not valid UTF-8 (close code 1007 was sent).
    WS_INVALID_UTF8 = 401,
    /// A message exceeds the maximum message size (close code 1009 was sent).
    WS_MESSAGE_TOO_BIG = 402,
    /// A frame exceeds the maximum frame size (close code 1009 was sent).
    WS_FRAME_TOO_BIG = 403,

    /// The connection is closing or closed; nothing more can be sent.
    WS_ALREADY_CLOSED = 500,
    /// The server closed the connection during the handshake.
    WS_CONNECTION_LOST = 501,
    /// A handshake or idle (dead-peer) timeout expired.
    WS_TIMEOUT = 502,

    /// An internal error (a caught panic). The handle is poisoned; others still work.
    WS_PANIC = 900,
}

/// Kinds of [`crate::ffi::ws_message`].
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ws_message_kind {
    /// A UTF-8 text message.
    WS_MESSAGE_TEXT = 1,
    /// A binary message.
    WS_MESSAGE_BINARY = 2,
    /// A ping from the server (already answered with a pong).
    WS_MESSAGE_PING = 3,
    /// A pong from the server.
    WS_MESSAGE_PONG = 4,
    /// The server's close frame (`close_code`, `data` = reason), or 1006 when the
    /// connection dropped without one.
    WS_MESSAGE_CLOSE = 5,
}

/// Connection states reported by `ws_client_state`.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ws_state {
    /// TLS handshake in progress (`wss://` only).
    WS_STATE_TLS_HANDSHAKING = 1,
    /// HTTP upgrade in progress.
    WS_STATE_WS_HANDSHAKING = 2,
    /// Messages flow both ways.
    WS_STATE_OPEN = 3,
    /// A close frame was sent or received, or final bytes still wait in the output.
    WS_STATE_CLOSING = 4,
    /// Ended (by a close handshake, or without one: see the CLOSE message's code), and
    /// everything to send has been read out.
    WS_STATE_CLOSED = 5,
    /// Failed; calls return the failure code (see `ws_client_last_error`), after
    /// `ws_poll_message` has handed out the messages that arrived before it.
    WS_STATE_FAILED = 6,
}

/// Lowest TLS versions for `ws_config_set_min_tls_version`.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ws_tls_version {
    /// TLS 1.2 and 1.3 (the default).
    WS_TLS_1_2 = 12,
    /// TLS 1.3 only.
    WS_TLS_1_3 = 13,
}

/// Pin modes for `ws_config_set_pin_mode`.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ws_pin_mode {
    /// The chain must verify against the trusted roots and the key must match a pin
    /// (the default).
    WS_PIN_AND_CA = 1,
    /// Only the pin is checked (no CA, no host name): a self-signed server works.
    WS_PIN_ONLY = 2,
}

pub(crate) fn code_of(kind: ErrorKind) -> u32 {
    use ws_result::*;
    use ErrorKind as K;
    (match kind {
        K::InvalidArgument => WS_INVALID_ARGUMENT,
        K::InvalidUrl => WS_INVALID_URL,
        K::InvalidConfig => WS_INVALID_CONFIG,
        K::NotOpen | K::InvalidState => WS_INVALID_STATE,
        K::AlreadyClosed => WS_ALREADY_CLOSED,
        K::OutputFull => WS_OUTPUT_FULL,
        K::Tls => WS_TLS_ERROR,
        K::CertUntrusted => WS_CERT_UNTRUSTED,
        K::CertExpired => WS_CERT_EXPIRED,
        K::CertNotYetValid => WS_CERT_NOT_YET_VALID,
        K::CertWrongHost => WS_CERT_WRONG_HOST,
        K::CertPinMismatch => WS_CERT_PIN_MISMATCH,
        K::CertInvalid => WS_CERT_INVALID,
        K::TlsAlertReceived => WS_TLS_ALERT,
        K::TlsVersion => WS_TLS_VERSION,
        K::TlsCorrupt => WS_TLS_CORRUPT,
        K::Handshake => WS_HANDSHAKE_ERROR,
        K::HttpStatus => WS_HTTP_STATUS,
        K::BadAccept => WS_BAD_ACCEPT,
        K::BadResponse => WS_BAD_RESPONSE,
        K::Subprotocol => WS_SUBPROTOCOL,
        K::Extension => WS_EXTENSION,
        K::HeaderTooLarge => WS_HEADER_TOO_LARGE,
        K::Protocol => WS_PROTOCOL_ERROR,
        K::InvalidUtf8 => WS_INVALID_UTF8,
        K::MessageTooBig => WS_MESSAGE_TOO_BIG,
        K::FrameTooBig => WS_FRAME_TOO_BIG,
        K::Timeout => WS_TIMEOUT,
        K::ConnectionLost => WS_CONNECTION_LOST,
        K::Panic => WS_PANIC,
    }) as u32
}

macro_rules! cstr {
    ($s:expr) => {
        concat!($s, "\0").as_ptr().cast::<c_char>()
    };
}

/// A static, NUL-terminated description of a result code.
///
/// Unknown codes give "unknown result code". The string is owned by the library,
/// lives forever, and must not be freed.
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
        900 => cstr!("internal error (panic)"),
        _ => cstr!("unknown result code"),
    }
}

/// The library version as a static, NUL-terminated string (for example "0.1.0").
/// Owned by the library; never free it.
#[no_mangle]
pub extern "C" fn ws_version() -> *const c_char {
    cstr!(env!("CARGO_PKG_VERSION"))
}

thread_local! {
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Records the detail of a failed call for `ws_last_error` on this thread.
pub(crate) fn set_thread_error(msg: &str) {
    LAST_ERROR.with(|e| {
        let mut e = e.borrow_mut();
        e.clear();
        e.push_str(msg);
    });
}

/// Copies the detailed message of the most recent failed call on this thread
/// (any function, including ones without a handle such as `ws_client_new`).
///
/// Writes at most `cap - 1` bytes plus a NUL to `buf` and sets `*out_len` to the full
/// length without the NUL, so a caller can size a buffer; `*out_len` is 0 when no call
/// has failed on this thread. `buf` may be NULL when `cap` is 0. Returns `WS_OK` or
/// `WS_NULL_POINTER` (`out_len` NULL, or `buf` NULL with `cap > 0`).
///
/// # Safety
/// `buf` must point to `cap` writable bytes; `out_len` to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn ws_last_error(buf: *mut c_char, cap: usize, out_len: *mut usize) -> u32 {
    guard(|| {
        LAST_ERROR.with(|e| {
            // SAFETY: the caller guarantees buf/cap and out_len as documented.
            unsafe { copy_str_out(&e.borrow(), buf, cap, out_len) }
        })
    })
}
