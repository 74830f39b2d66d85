//! The result codes, and `Fail`: why an export did not finish, mapped from the core's
//! errors in one place.

use std::borrow::Cow;

use crate::error::{Error, ErrorKind};

/// Result codes: every function returns one, as a ws_result (a uint32_t in C). The
/// numbers are stable and never reused; they fall in blocks: 0-99 statuses that are
/// not errors, 100-199 caller errors, 200-299 TLS, 300-399 opening handshake,
/// 400-499 WebSocket protocol and capacity, 500-599 connection ended, 600-699 proxy,
/// 900 panic.
/// Functions that take a code (ws_result_str) take it as a uint32_t.
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
    /// `ws_tls_read`: the peer's stream ended without close_notify, after everything
    /// before the end was read. What arrived may be cut short (a truncation attack
    /// looks the same); many servers end this way after a complete answer.
    WS_TLS_TRUNCATED = 210,

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
    /// The server closed the connection during the handshake, or did not answer a
    /// liveness probe (`ws_client_probe`) in time.
    WS_CONNECTION_LOST = 501,
    /// A handshake or idle (dead-peer) timeout expired.
    WS_TIMEOUT = 502,

    /// The proxy wants credentials: HTTP 407 (`ws_client_http_status` returns 407,
    /// `ws_client_proxy_challenges` gives its `Proxy-Authenticate` challenges; retry on
    /// a new connection with `ws_config_set_proxy_authorization`), or a SOCKS5 proxy
    /// rejected the user name and password (or wants some).
    WS_PROXY_AUTH_REQUIRED = 600,
    /// The proxy refused the tunnel: an HTTP status other than 2xx and 407 (read it
    /// with `ws_client_http_status`), or a SOCKS5 reply code; the last error names it.
    WS_PROXY_REFUSED = 601,
    /// The proxy's answer is not valid HTTP or SOCKS5, or exceeds the header size limit.
    WS_PROXY_BAD_RESPONSE = 602,
    /// The proxy closed the connection before the tunnel to the server was open.
    WS_PROXY_CLOSED = 603,

    /// An internal error (a caught panic). The handle is poisoned; others still work.
    WS_PANIC = 900,
}

impl From<ErrorKind> for ws_result {
    fn from(kind: ErrorKind) -> Self {
        use ws_result::*;
        use ErrorKind as K;
        match kind {
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
            K::ProxyAuthRequired => WS_PROXY_AUTH_REQUIRED,
            K::ProxyRefused => WS_PROXY_REFUSED,
            K::ProxyBadResponse => WS_PROXY_BAD_RESPONSE,
            K::ProxyClosed => WS_PROXY_CLOSED,
            K::Panic => WS_PANIC,
        }
    }
}

/// Why an export did not finish: its code, and the detail that the panic boundary
/// records for `ws_last_error` (none for a plain status).
#[derive(Debug)]
pub(crate) struct Fail {
    pub(crate) code: ws_result,
    pub(crate) detail: Option<Cow<'static, str>>,
}

impl Fail {
    /// A failure with a readable detail.
    pub(crate) fn new(code: ws_result, detail: impl Into<Cow<'static, str>>) -> Self {
        Fail {
            code,
            detail: Some(detail.into()),
        }
    }

    /// A required pointer argument was NULL. The code says it all: no detail is
    /// recorded, so a misused `ws_last_error` does not overwrite the message it
    /// was asked for.
    pub(crate) fn null() -> Self {
        Fail {
            code: ws_result::WS_NULL_POINTER,
            detail: None,
        }
    }
}

impl From<Error> for Fail {
    fn from(e: Error) -> Self {
        Fail::new(e.kind().into(), e.message().to_string())
    }
}
