//! `ws_tls`: TLS on its own, for any protocol, driven by the caller's bytes and clock.
//!
//! The event loop of a TLS object, on one thread:
//!
//! ```c
//! ws_tls t; ws_tls_new(cfg, "db.example", &t);          // ClientHello is ready
//! for (;;) {
//!     n = recv(sock, rx, sizeof rx, 0);                  // 1. feed (n == 0: EOF)
//!     for (off = 0; off < n || n == 0; off += used) {
//!         if (ws_tls_offer_input(t, rx + off, n - off, &used) != WS_OK) goto failed;
//!         while ((r = ws_tls_read(t, plain, sizeof plain, &got)) == WS_OK)
//!             handle(plain, got);                        // 2. read until WS_NEED_INPUT
//!         if (n == 0) break;                             //    (WS_CLOSED: peer ended)
//!     }
//!     ws_tls_write(t, req, req_len, &taken);             // 3. plaintext (keep the rest)
//!     ws_tls_tick(t, now_ms());                          // 4. handshake timeout
//!     while (ws_tls_read_output(t, tx, sizeof tx, &k) == WS_OK && k > 0)
//!         send_all(sock, tx, k);                         // 5. drain output until empty
//! }
//! ```

use std::ffi::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};

use super::client::ws_state;
use super::config::{with_config, ws_config, ws_tls_version};
use super::handles::{self, Object};
use super::panic::{boundary, describe};
use super::result::{ws_result, ws_result::*, Fail};
use super::util::{in_slice, in_str, out_ptr, out_slice, StrOut};
use crate::config::TlsVersion;
use crate::error::Error;
use crate::tls_stream::{TlsClient, TlsRead, TlsState};

/// A TLS object handle: a generation-counted uint64_t; 0 is never valid.
pub type ws_tls = u64;

impl From<TlsState> for ws_state {
    fn from(state: TlsState) -> Self {
        match state {
            TlsState::Handshaking => ws_state::WS_STATE_TLS_HANDSHAKING,
            TlsState::Open => ws_state::WS_STATE_OPEN,
            TlsState::Closing => ws_state::WS_STATE_CLOSING,
            TlsState::Closed => ws_state::WS_STATE_CLOSED,
            TlsState::Failed => ws_state::WS_STATE_FAILED,
        }
    }
}

/// Runs `f` on the TLS object behind `t`. An error is recorded on the object (for
/// `ws_tls_last_error`) and returned as a `Fail` (for the code and `ws_last_error`).
/// A panic poisons this object only: it fails with `WS_PANIC` from then on.
/// Inlined into each export, with the failure paths out of line, as `with_client`.
#[inline(always)]
fn with_tls<T>(t: ws_tls, f: impl FnOnce(&mut TlsClient) -> Result<T, Error>) -> Result<T, Fail> {
    let mut obj = handles::lock(t);
    let Some(Object::Tls(tls)) = obj.as_deref_mut() else {
        return Err(not_a_tls());
    };
    match catch_unwind(AssertUnwindSafe(|| f(tls))) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(rejected(tls, e)),
        Err(payload) => Err(poisoned(tls, payload)),
    }
}

#[cold]
#[inline(never)]
fn not_a_tls() -> Fail {
    Fail::new(WS_INVALID_HANDLE, "invalid, stale or wrong-type TLS handle")
}

#[cold]
#[inline(never)]
fn rejected(tls: &mut TlsClient, e: Error) -> Fail {
    tls.note_rejected(&e);
    e.into()
}

#[cold]
#[inline(never)]
fn poisoned(tls: &mut TlsClient, payload: Box<dyn std::any::Any + Send>) -> Fail {
    let what = describe(&*payload);
    tls.poison(&what);
    Fail::new(WS_PANIC, format!("internal error (panic): {what}"))
}

/// Creates a TLS client connection to `server_name`: a DNS host name or an IP
/// literal, UTF-8 and NUL-terminated; SNI and certificate verification use it. It
/// uses the config's trust settings (roots, pins, pin mode, client certificate,
/// minimum version, the dangerous no-verification switch), its handshake timeout and
/// pending-output limit, and its TLS session store: a second connection of one config
/// to the same name resumes the session. No ALPN protocol is offered. The config's
/// settings are copied; the config may be freed afterwards. The ClientHello is ready
/// in `ws_tls_read_output` at once.
///
/// Ownership: free the object with `ws_tls_free`.
/// Returns `WS_OK` and writes `*out_tls`; `WS_INVALID_ARGUMENT` (not a valid name, or
/// not UTF-8), `WS_INVALID_HANDLE` (config), `WS_NULL_POINTER`, `WS_INVALID_CONFIG`,
/// or `WS_INVALID_STATE` when 4,194,304 handles are already live.
#[no_mangle]
pub unsafe extern "C" fn ws_tls_new(
    cfg: ws_config,
    server_name: *const c_char,
    out_tls: *mut ws_tls,
) -> ws_result {
    boundary(|| {
        // SAFETY: the caller passes a writable ws_tls (or NULL, refused here).
        let out = unsafe { out_ptr(out_tls) }?;
        // SAFETY: the caller passes a NUL-terminated string (or NULL, refused here).
        let name = unsafe { in_str(server_name) }?;
        let tls = with_config(cfg, |config| TlsClient::new(config, name))?;
        out.write(handles::insert_or_fail(Object::Tls(Box::new(tls)))?);
        Ok(WS_OK)
    })
}

/// Frees a TLS object. It sends nothing: `ws_tls_close` and drain the output first
/// for a clean shutdown. Freeing 0, a stale handle, or freeing twice does nothing.
/// Returns `WS_OK`.
#[no_mangle]
pub extern "C" fn ws_tls_free(t: ws_tls) -> ws_result {
    boundary(|| {
        handles::remove(t, |o| matches!(o, Object::Tls(_)));
        Ok(WS_OK)
    })
}

/// Offers `data[0..len]`, ciphertext received from the socket; `len == 0` means the
/// peer's stream ended (EOF). The bytes are processed at once (handshake messages
/// answered into the output, records decrypted) and not referenced after the call.
///
/// `*out_consumed` is written on success and is less than `len` only while 16 KiB of
/// decrypted plaintext wait unread: `ws_tls_read` them, then offer the rest. Input
/// after the peer's close_notify is taken and discarded. EOF is not a failure once the
/// handshake completed: `ws_tls_read` reports it (`WS_CLOSED` or `WS_TLS_TRUNCATED`).
///
/// Returns `WS_OK`; on failure the failure code (a certificate code such as
/// `WS_CERT_UNTRUSTED`, `WS_TLS_ALERT`, `WS_TLS_CORRUPT`, `WS_CONNECTION_LOST` for EOF
/// or close_notify during the handshake; sticky: every later call returns it, and the
/// alert telling the peer why waits in `ws_tls_read_output`); `WS_NULL_POINTER`;
/// `WS_INVALID_HANDLE`.
#[no_mangle]
pub unsafe extern "C" fn ws_tls_offer_input(
    t: ws_tls,
    data: *const u8,
    len: usize,
    out_consumed: *mut usize,
) -> ws_result {
    boundary(|| {
        // SAFETY: the caller passes len readable bytes at data and a writable size_t.
        let (data, out) = unsafe { (in_slice(data, len)?, out_ptr(out_consumed)?) };
        out.write(with_tls(t, |tls| tls.offer_input(data))?);
        Ok(WS_OK)
    })
}

/// Copies up to `cap` bytes of ciphertext that must be written to the socket into
/// `buf`: handshake messages, records of written plaintext, alerts, close_notify. Call
/// until `*out_len` is 0; the caller must send every byte, in order.
///
/// Returns `WS_OK` with `*out_len == 0` when nothing is pending (also when `cap` is 0;
/// `ws_tls_wants_write` tells whether anything is). After a failure the pending alert
/// is still handed out with `WS_OK`; once it is gone the failure code is returned with
/// `*out_len = 0`. Also `WS_NULL_POINTER`, `WS_INVALID_HANDLE`.
#[no_mangle]
pub unsafe extern "C" fn ws_tls_read_output(
    t: ws_tls,
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> ws_result {
    boundary(|| {
        // SAFETY: the caller passes cap writable bytes at buf and a writable size_t.
        let (buf, out) = unsafe { (out_slice(buf, cap)?, out_ptr(out_len)?) };
        // Documented exception: *out_len is 0 after a failure.
        let n = with_tls(t, |tls| tls.read_output(buf).inspect_err(|_| out.write(0)))?;
        out.write(n);
        Ok(WS_OK)
    })
}

/// Queues plaintext `data[0..len]` to be encrypted and sent; its records leave
/// through `ws_tls_read_output`. The bytes are copied. `*out_consumed` says how many
/// were taken: fewer than `len` (even 0) when the pending-output limit
/// (`ws_config_set_max_pending_output`, default 128 MiB) is reached; drain
/// `ws_tls_read_output`, then write the rest. Before the handshake completes,
/// plaintext is buffered (within the same limit) and encrypted once it completes.
///
/// Returns `WS_OK`; `WS_ALREADY_CLOSED` after `ws_tls_close`; the failure code;
/// `WS_NULL_POINTER`; `WS_INVALID_HANDLE`.
#[no_mangle]
pub unsafe extern "C" fn ws_tls_write(
    t: ws_tls,
    data: *const u8,
    len: usize,
    out_consumed: *mut usize,
) -> ws_result {
    boundary(|| {
        // SAFETY: the caller passes len readable bytes at data and a writable size_t.
        let (data, out) = unsafe { (in_slice(data, len)?, out_ptr(out_consumed)?) };
        out.write(with_tls(t, |tls| tls.write(data))?);
        Ok(WS_OK)
    })
}

/// Copies decrypted plaintext into `buf[0..cap]` and writes the count to `*out_len`.
/// Never blocks.
///
/// Returns `WS_OK` with `*out_len > 0` (or 0 when `cap` is 0); `WS_NEED_INPUT` when no
/// plaintext is waiting (not an error); `WS_CLOSED` once the peer sent close_notify
/// and everything before it was read; `WS_TLS_TRUNCATED` once the peer's stream ended
/// without close_notify and everything before it was read (the data may be cut short;
/// the state is not failed). Plaintext that arrived before a failure is still
/// delivered, then the failure code is returned. Also `WS_NULL_POINTER`,
/// `WS_INVALID_HANDLE`.
#[no_mangle]
pub unsafe extern "C" fn ws_tls_read(
    t: ws_tls,
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> ws_result {
    boundary(|| {
        // SAFETY: the caller passes cap writable bytes at buf and a writable size_t.
        let (buf, out) = unsafe { (out_slice(buf, cap)?, out_ptr(out_len)?) };
        match with_tls(t, |tls| tls.read(buf))? {
            TlsRead::Data(n) => {
                out.write(n);
                Ok(WS_OK)
            }
            TlsRead::NeedInput => Ok(WS_NEED_INPUT),
            TlsRead::Closed => Ok(WS_CLOSED),
            TlsRead::Truncated => Err(Fail::new(
                WS_TLS_TRUNCATED,
                "the peer closed the connection without close_notify: the data may be truncated",
            )),
        }
    })
}

/// Sends close_notify after the plaintext already written; it leaves through
/// `ws_tls_read_output`. Nothing more can be written; reading goes on until the
/// peer's close_notify (`WS_CLOSED`) or EOF. The state becomes `WS_STATE_CLOSED` once
/// the peer ended too and the output is drained. Closing twice does nothing.
///
/// Returns `WS_OK`; `WS_INVALID_STATE` before the handshake completed (free the
/// object instead); the failure code; `WS_INVALID_HANDLE`.
#[no_mangle]
pub extern "C" fn ws_tls_close(t: ws_tls) -> ws_result {
    boundary(|| {
        with_tls(t, |tls| tls.close())?;
        Ok(WS_OK)
    })
}

/// Tells the object the time, in milliseconds of any monotonic clock of the caller's.
/// The first call starts the handshake clock; a handshake still running after the
/// config's handshake timeout (`ws_config_set_handshake_timeout`, default 15 s) fails
/// with `WS_TIMEOUT`. The other timeouts of the config do not apply to a TLS object
/// (the protocol on top decides what idle means).
///
/// Returns `WS_OK`, `WS_TIMEOUT`, the failure code or `WS_INVALID_HANDLE`.
#[no_mangle]
pub extern "C" fn ws_tls_tick(t: ws_tls, now_ms: u64) -> ws_result {
    boundary(|| {
        with_tls(t, |tls| tls.tick(now_ms))?;
        Ok(WS_OK)
    })
}

/// Writes when `ws_tls_tick` should next be called (caller-clock ms) to
/// `*out_deadline_ms`: 0 before the first tick, `WS_NO_DEADLINE` (`UINT64_MAX`) once
/// the handshake completed or when no timer runs.
/// Returns `WS_OK`, `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
#[no_mangle]
pub unsafe extern "C" fn ws_tls_next_deadline(t: ws_tls, out_deadline_ms: *mut u64) -> ws_result {
    boundary(|| {
        // SAFETY: the caller passes a writable out-parameter (or NULL, refused here).
        let out = unsafe { out_ptr(out_deadline_ms) }?;
        out.write(with_tls(t, |tls| {
            Ok(tls.next_deadline().unwrap_or(u64::MAX))
        })?);
        Ok(WS_OK)
    })
}

/// Writes 1 to `*out_wants` when ciphertext waits for `ws_tls_read_output` (wait for
/// the socket to be writable), else 0. Returns `WS_OK`, `WS_NULL_POINTER` or
/// `WS_INVALID_HANDLE`.
#[no_mangle]
pub unsafe extern "C" fn ws_tls_wants_write(t: ws_tls, out_wants: *mut u32) -> ws_result {
    boundary(|| {
        // SAFETY: the caller passes a writable out-parameter (or NULL, refused here).
        let out = unsafe { out_ptr(out_wants) }?;
        out.write(with_tls(t, |tls| Ok(tls.wants_write().into()))?);
        Ok(WS_OK)
    })
}

/// Writes the state to `*out_state`, with the client's `WS_STATE_*` values:
/// `WS_STATE_TLS_HANDSHAKING`, `WS_STATE_OPEN`, `WS_STATE_CLOSING` (close_notify sent
/// or received, EOF, or final bytes still in the output), `WS_STATE_CLOSED` (both
/// sides ended and the output is drained), `WS_STATE_FAILED`. Works in every state.
/// Returns `WS_OK`, `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
#[no_mangle]
pub unsafe extern "C" fn ws_tls_state(t: ws_tls, out_state: *mut ws_state) -> ws_result {
    boundary(|| {
        // SAFETY: the caller passes a writable out-parameter (or NULL, refused here).
        let out = unsafe { out_ptr(out_state) }?;
        out.write(with_tls(t, |tls| Ok(tls.state().into()))?);
        Ok(WS_OK)
    })
}

/// Copies the detailed last error of this object: the failure if it failed, else the
/// last failed call on it, else a stream that ended without close_notify. Same
/// copy-out convention as `ws_client_last_error` (`*out_len` = full length, 0 = none).
/// Returns `WS_OK`, `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
#[no_mangle]
pub unsafe extern "C" fn ws_tls_last_error(
    t: ws_tls,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> ws_result {
    boundary(|| {
        // SAFETY: the caller passes cap writable bytes at buf and a writable size_t.
        let out = unsafe { StrOut::new(buf, cap, out_len) }?;
        with_tls(t, |tls| {
            out.write(tls.last_error().unwrap_or(""));
            Ok(())
        })?;
        Ok(WS_OK)
    })
}

/// Writes the negotiated TLS version to `*out_version`: 12 or 13
/// (`ws_tls_version` values), or 0 before the handshake completed.
/// Returns `WS_OK`, `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
#[no_mangle]
pub unsafe extern "C" fn ws_tls_protocol_version(
    t: ws_tls,
    out_version: *mut ws_tls_version,
) -> ws_result {
    boundary(|| {
        // SAFETY: the caller passes a writable ws_tls_version (or NULL, refused here).
        let out = unsafe { out_ptr(out_version) }?;
        match with_tls(t, |tls| Ok(tls.protocol_version()))? {
            Some(TlsVersion::Tls12) => out.write(ws_tls_version::WS_TLS_VERSION_1_2),
            Some(TlsVersion::Tls13) => out.write(ws_tls_version::WS_TLS_VERSION_1_3),
            None => out.write_u32(0),
        }
        Ok(WS_OK)
    })
}

/// Copies the negotiated cipher suite's name (for example
/// "TLS13_AES_128_GCM_SHA256"; empty before the handshake completed), with the
/// `ws_client_last_error` copy-out convention.
/// Returns `WS_OK`, `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
#[no_mangle]
pub unsafe extern "C" fn ws_tls_cipher_suite(
    t: ws_tls,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> ws_result {
    boundary(|| {
        // SAFETY: the caller passes cap writable bytes at buf and a writable size_t.
        let out = unsafe { StrOut::new(buf, cap, out_len) }?;
        with_tls(t, |tls| {
            out.write(&tls.cipher_suite().unwrap_or_default());
            Ok(())
        })?;
        Ok(WS_OK)
    })
}

/// Writes 1 to `*out_resumed` when the session was resumed from an earlier
/// connection of the same config (TLS 1.3 ticket or TLS 1.2 session), else 0.
/// Returns `WS_OK`, `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
#[no_mangle]
pub unsafe extern "C" fn ws_tls_is_resumed(t: ws_tls, out_resumed: *mut u32) -> ws_result {
    boundary(|| {
        // SAFETY: the caller passes a writable out-parameter (or NULL, refused here).
        let out = unsafe { out_ptr(out_resumed) }?;
        out.write(with_tls(t, |tls| Ok(tls.is_resumed().into()))?);
        Ok(WS_OK)
    })
}

/// Writes 1 to `*out_insecure` when certificate verification is off for this object
/// (its config used `ws_config_dangerous_disable_certificate_verification`), else 0.
/// Returns `WS_OK`, `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
#[no_mangle]
pub unsafe extern "C" fn ws_tls_is_insecure(t: ws_tls, out_insecure: *mut u32) -> ws_result {
    boundary(|| {
        // SAFETY: the caller passes a writable out-parameter (or NULL, refused here).
        let out = unsafe { out_ptr(out_insecure) }?;
        out.write(with_tls(t, |tls| Ok(tls.is_insecure().into()))?);
        Ok(WS_OK)
    })
}

/// Test hook (Rust only, not exported to C): panics inside the boundary of `t`.
#[doc(hidden)]
pub fn __test_tls_panic_inside(t: ws_tls) -> ws_result {
    boundary(|| {
        with_tls(t, |_| -> Result<ws_result, Error> {
            panic!("forced by a test")
        })
    })
}
