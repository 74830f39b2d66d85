//! `ws_client`: one connection, driven by the caller's bytes and clock.

use std::ffi::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};

use super::config::{with_config, ws_config, ws_tls_version};
use super::handles::{self, Object};
use super::panic::{boundary, describe};
use super::result::{ws_result, ws_result::*, Fail};
use super::util::{in_opt_str, in_slice, in_str, out_ptr, out_slice, StrOut};
use crate::config::TlsVersion;
use crate::error::Error;
use crate::session::{Client, Poll, PollInto, State};
use crate::MessageKind;

/// A client handle: a generation-counted uint64_t; 0 is never valid.
pub type ws_client = u64;

/// Kinds of received messages (the kind of a ws_message).
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

/// Connection states, written by ws_client_state.
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
    /// Ended (after a close handshake, or with a 1006 CLOSE message when it ended
    /// without one), and everything to send has been read out.
    WS_STATE_CLOSED = 5,
    /// Failed; every call returns the failure code (see `ws_client_last_error`).
    WS_STATE_FAILED = 6,
    /// The TLS handshake is done and the server's chain waits for the caller's verdict
    /// (`ws_client_set_verdict`; external verification only). Nothing of the
    /// application (the upgrade request with its headers, queued messages) has been
    /// sent; the handshake timeout keeps running.
    WS_STATE_VERIFYING = 7,
}

/// A received message, borrowed from the client.
///
/// `data` stays valid until the next `ws_poll_message`, `ws_poll_message_copy` or
/// `ws_client_free` on the same handle; sends do not invalidate it, so echoing
/// straight from `data` is legal. `data` is never NULL (an empty message points to a
/// static empty buffer).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ws_message {
    /// One of WS_MESSAGE_TEXT, _BINARY, _PING, _PONG, _CLOSE.
    pub kind: ws_message_kind,
    /// The payload; for a close, the UTF-8 reason.
    pub data: *const u8,
    /// Payload length in bytes.
    pub len: usize,
    /// For a close: the code (1005 = the frame had none, 1006 = the connection
    /// dropped without a close frame); 0 for other kinds.
    pub close_code: u16,
}

static EMPTY: [u8; 1] = [0];

impl From<MessageKind> for ws_message_kind {
    fn from(kind: MessageKind) -> Self {
        match kind {
            MessageKind::Text => ws_message_kind::WS_MESSAGE_TEXT,
            MessageKind::Binary => ws_message_kind::WS_MESSAGE_BINARY,
            MessageKind::Ping => ws_message_kind::WS_MESSAGE_PING,
            MessageKind::Pong => ws_message_kind::WS_MESSAGE_PONG,
            MessageKind::Close => ws_message_kind::WS_MESSAGE_CLOSE,
        }
    }
}

impl From<State> for ws_state {
    fn from(state: State) -> Self {
        match state {
            State::TlsHandshaking => ws_state::WS_STATE_TLS_HANDSHAKING,
            State::Verifying => ws_state::WS_STATE_VERIFYING,
            State::WsHandshaking => ws_state::WS_STATE_WS_HANDSHAKING,
            State::Open => ws_state::WS_STATE_OPEN,
            State::Closing => ws_state::WS_STATE_CLOSING,
            State::Closed => ws_state::WS_STATE_CLOSED,
            State::Failed => ws_state::WS_STATE_FAILED,
        }
    }
}

/// Runs `f` on the client behind `c`. An error is recorded on the client (for
/// `ws_client_last_error`) and returned as a `Fail` (for the code and `ws_last_error`).
/// A panic poisons this client only: it fails with `WS_PANIC` from then on.
#[inline(always)]
pub(crate) fn with_client<T>(
    c: ws_client,
    f: impl FnOnce(&mut Client) -> Result<T, Error>,
) -> Result<T, Fail> {
    let mut obj = handles::lock(c);
    let Some(Object::Client(client)) = obj.as_deref_mut() else {
        return Err(not_a_client());
    };
    match catch_unwind(AssertUnwindSafe(|| f(client))) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(rejected(client, e)),
        Err(payload) => Err(poisoned(client, payload)),
    }
}

#[cold]
#[inline(never)]
fn not_a_client() -> Fail {
    Fail::new(
        WS_INVALID_HANDLE,
        "invalid, stale or wrong-type client handle",
    )
}

#[cold]
#[inline(never)]
fn rejected(client: &mut Client, e: Error) -> Fail {
    client.note_rejected(&e);
    e.into()
}

#[cold]
#[inline(never)]
fn poisoned(client: &mut Client, payload: Box<dyn std::any::Any + Send>) -> Fail {
    let what = describe(&*payload);
    client.poison(&what);
    Fail::new(WS_PANIC, format!("internal error (panic): {what}"))
}

/// Creates a client for `url`: `ws://` or `wss://host[:port]/path?query`, UTF-8 and
/// NUL-terminated (`ws://` means no TLS). The config's settings are copied; the config
/// may be freed afterwards. Nothing is sent by itself: the TLS ClientHello (or, for
/// `ws://`, the upgrade request) is ready in `ws_read_output` at once.
///
/// Ownership: free the client with `ws_client_free`.
/// Returns `WS_OK` and writes `*out_client`; `WS_INVALID_URL` (details from
/// `ws_last_error`), `WS_INVALID_HANDLE` (config), `WS_NULL_POINTER`,
/// `WS_INVALID_ARGUMENT` (URL not UTF-8), `WS_INVALID_CONFIG`, or `WS_INVALID_STATE`
/// when 4,194,304 handles are already live.
#[no_mangle]
pub unsafe extern "C" fn ws_client_new(
    cfg: ws_config,
    url: *const c_char,
    out_client: *mut ws_client,
) -> ws_result {
    boundary(|| {
        // SAFETY: the caller passes a writable ws_client (or NULL, refused here).
        let out = unsafe { out_ptr(out_client) }?;
        // SAFETY: the caller passes a NUL-terminated string (or NULL, refused here).
        let url = unsafe { in_str(url) }?;
        let client = with_config(cfg, |config| Client::new(config, url))?;
        out.write(handles::insert_or_fail(Object::Client(Box::new(client)))?);
        Ok(WS_OK)
    })
}

/// Frees a client and everything it holds (any borrowed `ws_message` data becomes
/// invalid). It does not send anything: close first for a clean shutdown. Freeing 0,
/// a stale handle, or freeing twice does nothing. Returns `WS_OK`.
#[no_mangle]
pub extern "C" fn ws_client_free(c: ws_client) -> ws_result {
    boundary(|| {
        handles::remove(c, |o| matches!(o, Object::Client(_)));
        Ok(WS_OK)
    })
}

/// Offers `data[0..len]`, bytes received from the socket. `len == 0` means the peer
/// closed the TCP stream. The bytes are processed at once (TLS records decrypted,
/// frames decoded into messages, automatic pongs and close replies queued to the
/// output) and are not referenced after the call.
///
/// `*out_consumed` is written on success and is less than `len` only when a bound on
/// undelivered messages (`max_queued_messages`, `max_queued_bytes`) was reached:
/// poll messages, then offer the rest. Input after the connection ended is taken and
/// discarded. Ending without a close frame delivers a CLOSE message with code 1006.
///
/// Returns `WS_OK`, or on failure the failure code (TLS, handshake, protocol; sticky:
/// every later call returns it), `WS_INVALID_ARGUMENT` when `data` lies in memory the
/// client owns (the window of `ws_prepare_input`, a message buffer, the pending
/// output; nothing is read and the connection carries on), `WS_NULL_POINTER`,
/// `WS_INVALID_HANDLE`.
#[no_mangle]
pub unsafe extern "C" fn ws_offer_input(
    c: ws_client,
    data: *const u8,
    len: usize,
    out_consumed: *mut usize,
) -> ws_result {
    boundary(|| {
        // SAFETY: the caller passes len readable bytes at data and a writable size_t.
        let (data, out) = unsafe { (in_slice(data, len)?, out_ptr(out_consumed)?) };
        out.write(with_client(c, |client| client.offer_input(data))?);
        Ok(WS_OK)
    })
}

/// Lends a window of the library's memory to receive socket bytes into, saving the
/// copy `ws_offer_input` makes: `recv()` straight into `*out_buf[0..*out_cap]`, then
/// pass the count received to `ws_commit_input`. On a plain `ws://` connection inside
/// a large frame the window is the message buffer itself, so payload is never copied
/// again. On `wss://` it is the TLS input buffer itself (records are decrypted where
/// they were received): 2 KiB at first, one whole TLS record (18,437 bytes) once a
/// commit fills it. Otherwise it is a staging buffer of 2 KiB, which grows to 16 KiB
/// once a commit fills it. Both shrink back at the idle trim.
///
/// The window stays valid until `ws_commit_input` (or `ws_commit_prepare_input`),
/// `ws_offer_input`, the next `ws_prepare_input`, `ws_client_trim` or
/// `ws_client_free`; no other call moves it
/// (the idle trim of `ws_client_tick` leaves a lent window alone). Passing the window
/// itself to `ws_offer_input` is refused with `WS_INVALID_ARGUMENT`. `*out_cap` is 0
/// while the undelivered messages are at `max_queued_messages` or
/// `max_queued_bytes`: poll messages first. If the connection ends while a window is
/// lent, the commit takes its bytes and discards them. The end of the stream is still
/// reported with `ws_offer_input(c, NULL, 0, ...)`.
///
/// Returns `WS_OK`, the sticky failure code, `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
#[no_mangle]
pub unsafe extern "C" fn ws_prepare_input(
    c: ws_client,
    out_buf: *mut *mut u8,
    out_cap: *mut usize,
) -> ws_result {
    boundary(|| {
        // SAFETY: the caller passes writable out-parameters.
        let (out_buf, out_cap) = unsafe { (out_ptr(out_buf)?, out_ptr(out_cap)?) };
        let (ptr, cap) = with_client(c, |client| {
            client.input_window().map(|w| (w.as_mut_ptr(), w.len()))
        })?;
        out_buf.write(ptr);
        out_cap.write(cap);
        Ok(WS_OK)
    })
}

/// Processes the first `n` bytes written into the window of the last
/// `ws_prepare_input` call, as `ws_offer_input` would; all `n` are taken. `n == 0`
/// does nothing.
///
/// Returns `WS_OK`, the failure code (sticky, as for `ws_offer_input`),
/// `WS_INVALID_STATE` (no window open: none was lent, or `ws_offer_input`,
/// `ws_client_trim` or another `ws_prepare_input` came in between),
/// `WS_INVALID_ARGUMENT` (`n` larger than the window; the window is closed) or
/// `WS_INVALID_HANDLE`.
#[no_mangle]
pub extern "C" fn ws_commit_input(c: ws_client, n: usize) -> ws_result {
    boundary(|| {
        with_client(c, |client| client.commit_input(n))?;
        Ok(WS_OK)
    })
}

/// `ws_commit_input(c, n)`, then `ws_prepare_input(c, out_buf, out_cap)`, in one
/// call: processes the first `n` bytes received into the lent window and lends the
/// next window. A loop that keeps the window between reads (`recv()` into it, pass
/// the count here, receive into the new window next time) crosses into the library
/// once per read, as `ws_offer_input` does, without its copy. The new window follows
/// the rules of `ws_prepare_input`: valid until `ws_commit_input`,
/// `ws_commit_prepare_input`, `ws_offer_input`, `ws_prepare_input`, `ws_client_trim`
/// or `ws_client_free`; `*out_cap` is 0 while the undelivered messages are at a bound
/// (poll messages, then call `ws_prepare_input`). A lent window is never trimmed by
/// `ws_client_tick`: `ws_client_trim` releases it when the connection goes quiet.
///
/// Returns `WS_OK`, or what `ws_commit_input` returns (the out-parameters are then
/// not written and no window is lent), `WS_NULL_POINTER` (nothing is committed).
#[no_mangle]
pub unsafe extern "C" fn ws_commit_prepare_input(
    c: ws_client,
    n: usize,
    out_buf: *mut *mut u8,
    out_cap: *mut usize,
) -> ws_result {
    boundary(|| {
        // SAFETY: the caller passes writable out-parameters.
        let (out_buf, out_cap) = unsafe { (out_ptr(out_buf)?, out_ptr(out_cap)?) };
        let (ptr, cap) = with_client(c, |client| {
            client
                .commit_and_window(n)
                .map(|w| (w.as_mut_ptr(), w.len()))
        })?;
        out_buf.write(ptr);
        out_cap.write(cap);
        Ok(WS_OK)
    })
}

/// Copies up to `cap` bytes that must be written to the socket into `buf`: TLS
/// records, the HTTP upgrade, frames, automatic pongs, close frames, close_notify.
/// Call until `*out_len` is 0. Bytes are removed from the library as they are copied;
/// the caller must send them all, in order (keep what a partial socket write left).
///
/// Returns `WS_OK` with `*out_len == 0` when nothing is pending. After a failure the
/// pending bytes (an alert or close frame telling the peer why) are still handed out
/// with `WS_OK`; once they are gone it returns the failure code with `*out_len = 0`.
/// `WS_BUFFER_TOO_SMALL` when `cap` is 0 and bytes are pending (`*out_len` = pending
/// count). Also `WS_NULL_POINTER`, `WS_INVALID_HANDLE`.
#[no_mangle]
pub unsafe extern "C" fn ws_read_output(
    c: ws_client,
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> ws_result {
    boundary(|| {
        // SAFETY: the caller passes cap writable bytes at buf and a writable size_t.
        let (buf, out) = unsafe { (out_slice(buf, cap)?, out_ptr(out_len)?) };
        let (code, n) = with_client(c, |client| {
            let pending = client.pending_output();
            if buf.is_empty() && pending > 0 {
                return Ok((WS_BUFFER_TOO_SMALL, pending));
            }
            // Documented exception: *out_len is 0 after a failure.
            client
                .read_output(buf)
                .map(|n| (WS_OK, n))
                .inspect_err(|_| out.write(0))
        })?;
        out.write(n);
        Ok(code)
    })
}

/// Zero-copy output: points `*out_data` at the bytes waiting to be written to the
/// socket and writes their count to `*out_len` (0 when nothing is pending; then
/// `*out_data` points to a static empty buffer, never NULL). Write from there, then
/// call `ws_consume_output` with how many bytes the socket took. Nothing is removed by
/// peeking. The view is all of the pending output: once it is consumed, nothing is
/// pending until the next call that produces output (a send, input, a tick, a close),
/// so a caller that sent it all need not peek again. The view stays valid until the next call on this handle other than
/// `ws_peek_output`, `ws_client_pending_output`, `ws_client_state` and
/// `ws_client_last_error`; the memory belongs to the library.
///
/// Returns `WS_OK`; after a failure, pending bytes are still shown with `WS_OK` and
/// once they are gone the failure code (with `*out_len = 0`). Also `WS_NULL_POINTER`,
/// `WS_INVALID_HANDLE`.
#[no_mangle]
pub unsafe extern "C" fn ws_peek_output(
    c: ws_client,
    out_data: *mut *const u8,
    out_len: *mut usize,
) -> ws_result {
    boundary(|| {
        // SAFETY: the caller passes writable out-parameters.
        let (out_data, out) = unsafe { (out_ptr(out_data)?, out_ptr(out_len)?) };
        let (ptr, len) = with_client(c, |client| match client.peek_output() {
            Ok(view) => Ok((view.as_ptr(), view.len())),
            Err(e) => {
                // Documented exception: *out_len is 0 after a failure.
                out.write(0);
                Err(e)
            }
        })?;
        out_data.write(if len == 0 { EMPTY.as_ptr() } else { ptr });
        out.write(len);
        Ok(WS_OK)
    })
}

/// Marks the first `n` bytes shown by `ws_peek_output` as sent. `n` larger than what
/// is pending is `WS_INVALID_ARGUMENT` and nothing is consumed; `n == 0` does nothing.
/// Returns `WS_OK`, `WS_INVALID_ARGUMENT` or `WS_INVALID_HANDLE`.
#[no_mangle]
pub extern "C" fn ws_consume_output(c: ws_client, n: usize) -> ws_result {
    boundary(|| {
        with_client(c, |client| client.consume_output(n))?;
        Ok(WS_OK)
    })
}

/// Releases memory kept for large messages. Buffers keep the size of the largest
/// recent message, so that a stream of large messages does not allocate per message;
/// `ws_client_tick` trims them (to 4 KiB each; the TLS input buffer is freed) after a second
/// without traffic, and this does it now, for example after a burst of large messages.
/// Borrowed `ws_message` data stays valid. Returns `WS_OK` or `WS_INVALID_HANDLE`.
#[no_mangle]
pub extern "C" fn ws_client_trim(c: ws_client) -> ws_result {
    boundary(|| {
        with_client(c, |client| {
            client.trim();
            Ok(())
        })?;
        Ok(WS_OK)
    })
}

/// Writes the number of bytes waiting for `ws_read_output` to `*out_len`.
/// Returns `WS_OK`, `WS_NULL_POINTER` or `WS_INVALID_HANDLE` (also when failed: the
/// count stays readable).
#[no_mangle]
pub unsafe extern "C" fn ws_client_pending_output(c: ws_client, out_len: *mut usize) -> ws_result {
    boundary(|| {
        // SAFETY: the caller passes a writable out-parameter (or NULL, refused here).
        let out = unsafe { out_ptr(out_len) }?;
        out.write(with_client(c, |client| Ok(client.pending_output()))?);
        Ok(WS_OK)
    })
}

/// Takes the next received message into `*out_msg` (see `ws_message` for how long
/// its data stays valid). Never blocks.
///
/// Returns `WS_OK` with a message; `WS_NEED_INPUT` when none is ready (not an error);
/// `WS_CLOSED` when the connection ended and every message has been taken (the last
/// message was a CLOSE: the server's code, or 1006 when it ended without a close
/// handshake). Nothing is delivered after a CLOSE message. Messages that arrived
/// before a close or a failure come out first; after a failure it then returns the
/// failure code. Also `WS_NULL_POINTER`, `WS_INVALID_HANDLE`.
#[no_mangle]
pub unsafe extern "C" fn ws_poll_message(c: ws_client, out_msg: *mut ws_message) -> ws_result {
    boundary(|| {
        // SAFETY: the caller passes a writable ws_message (or NULL, refused here).
        let out = unsafe { out_ptr(out_msg) }?;
        with_client(c, |client| {
            Ok(match client.poll_message()? {
                Poll::Message(m) => {
                    out.write(ws_message {
                        kind: m.kind.into(),
                        data: if m.data.is_empty() {
                            EMPTY.as_ptr()
                        } else {
                            m.data.as_ptr()
                        },
                        len: m.data.len(),
                        close_code: m.close_code,
                    });
                    WS_OK
                }
                Poll::NeedInput => WS_NEED_INPUT,
                Poll::Closed => WS_CLOSED,
            })
        })
    })
}

/// Like `ws_poll_message`, but copies the payload into the caller's `buf[0..cap]`,
/// so no library memory is borrowed. On success writes the kind, length and close
/// code. When `cap` is too small it returns `WS_BUFFER_TOO_SMALL`, writes the size
/// needed to `*out_len`, and the message stays queued.
///
/// Returns `WS_OK`, `WS_BUFFER_TOO_SMALL`, `WS_NEED_INPUT`, `WS_CLOSED`, the failure
/// code, `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
#[no_mangle]
pub unsafe extern "C" fn ws_poll_message_copy(
    c: ws_client,
    buf: *mut u8,
    cap: usize,
    out_kind: *mut ws_message_kind,
    out_len: *mut usize,
    out_close_code: *mut u16,
) -> ws_result {
    boundary(|| {
        // SAFETY: the caller passes cap writable bytes at buf and writable
        // out-parameters.
        let (buf, out_kind, out_len, out_close_code) = unsafe {
            (
                out_slice(buf, cap)?,
                out_ptr(out_kind)?,
                out_ptr(out_len)?,
                out_ptr(out_close_code)?,
            )
        };
        with_client(c, |client| {
            Ok(match client.poll_message_into(buf)? {
                PollInto::Message {
                    kind,
                    len,
                    close_code,
                } => {
                    out_kind.write(kind.into());
                    out_len.write(len);
                    out_close_code.write(close_code);
                    WS_OK
                }
                PollInto::TooSmall(need) => {
                    out_len.write(need);
                    WS_BUFFER_TOO_SMALL
                }
                PollInto::NeedInput => WS_NEED_INPUT,
                PollInto::Closed => WS_CLOSED,
            })
        })
    })
}

fn send_with(
    c: ws_client,
    data: *const u8,
    len: usize,
    send: fn(&mut Client, &[u8]) -> crate::Result<()>,
) -> ws_result {
    boundary(|| {
        // SAFETY: every caller passes on its own caller's promise of len readable
        // bytes at data.
        let data = unsafe { in_slice(data, len) }?;
        with_client(c, |client| send(client, data))?;
        Ok(WS_OK)
    })
}

/// Queues a text message; its bytes leave through `ws_read_output`. The bytes are
/// copied. Invalid UTF-8 is refused with `WS_INVALID_ARGUMENT` and nothing is sent.
///
/// Returns `WS_OK`; `WS_INVALID_STATE` before the handshake completed (sends are
/// refused, not queued, until `WS_STATE_OPEN`); `WS_ALREADY_CLOSED` once a close was
/// sent; `WS_OUTPUT_FULL`; the failure code; `WS_NULL_POINTER`; `WS_INVALID_HANDLE`.
#[no_mangle]
pub unsafe extern "C" fn ws_send_text(c: ws_client, utf8: *const u8, len: usize) -> ws_result {
    send_with(c, utf8, len, Client::send_text)
}

/// Queues a binary message. Same rules and codes as `ws_send_text`, without the
/// UTF-8 check.
#[no_mangle]
pub unsafe extern "C" fn ws_send_binary(c: ws_client, data: *const u8, len: usize) -> ws_result {
    send_with(c, data, len, Client::send_binary)
}

/// Queues a ping with up to 125 bytes of payload; the pong arrives as a
/// `WS_MESSAGE_PONG` message. Codes as `ws_send_text`, plus `WS_INVALID_ARGUMENT`
/// for a payload over 125 bytes.
#[no_mangle]
pub unsafe extern "C" fn ws_send_ping(c: ws_client, data: *const u8, len: usize) -> ws_result {
    send_with(c, data, len, Client::send_ping)
}

/// Starts the close handshake with `code` and a UTF-8 `reason` of at most 123 bytes.
/// Accepted codes: 1000-1003, 1007-1011, 3000-4999; anything else is
/// `WS_INVALID_ARGUMENT` and nothing is sent. Messages keep arriving until the
/// server's close frame (delivered as `WS_MESSAGE_CLOSE`); then TLS ends with
/// close_notify, and the state becomes `WS_STATE_CLOSED` once the output is drained.
///
/// Returns `WS_OK`, `WS_INVALID_ARGUMENT`, `WS_INVALID_STATE` (handshake not done),
/// `WS_ALREADY_CLOSED`, the failure code, `WS_NULL_POINTER`, `WS_INVALID_HANDLE`.
#[no_mangle]
pub unsafe extern "C" fn ws_close(
    c: ws_client,
    code: u16,
    reason: *const u8,
    len: usize,
) -> ws_result {
    boundary(|| {
        // SAFETY: the caller passes len readable bytes at reason.
        let reason = unsafe { in_slice(reason, len) }?;
        with_client(c, |client| client.close(code, reason))?;
        Ok(WS_OK)
    })
}

/// Tells the client the time, in milliseconds of any monotonic clock of the caller's
/// (the library never reads a clock). The first call starts the timers. It sends
/// keepalive pings and applies the handshake, idle and close timeouts. Call it every
/// frame, or when `ws_client_next_deadline` says.
///
/// Returns `WS_OK`; `WS_TIMEOUT` when the handshake or idle timeout expired (the
/// client fails); the failure code; `WS_INVALID_HANDLE`. A close timeout is not a
/// failure: a 1006 close message is delivered and the state becomes CLOSED.
#[no_mangle]
pub extern "C" fn ws_client_tick(c: ws_client, now_ms: u64) -> ws_result {
    boundary(|| {
        with_client(c, |client| client.tick(now_ms))?;
        Ok(WS_OK)
    })
}

/// Writes when `ws_client_tick` should next be called (caller-clock ms) to
/// `*out_deadline_ms`: 0 before the first tick, `UINT64_MAX` when no timer runs.
/// Returns `WS_OK`, `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
#[no_mangle]
pub unsafe extern "C" fn ws_client_next_deadline(
    c: ws_client,
    out_deadline_ms: *mut u64,
) -> ws_result {
    boundary(|| {
        // SAFETY: the caller passes a writable out-parameter (or NULL, refused here).
        let out = unsafe { out_ptr(out_deadline_ms) }?;
        out.write(with_client(c, |client| {
            Ok(client.next_deadline().unwrap_or(u64::MAX))
        })?);
        Ok(WS_OK)
    })
}

/// Checks that the server is still there after the caller's clock jumped (the game
/// was paused or in the background, a long load blocked the loop): queues a ping and
/// gives the server `deadline_ms` from `now_ms` to send anything (the pong, or any
/// other input). Call it with the jumped time before `ws_client_tick`: the time up to
/// `now_ms` no longer counts toward the idle timeout, and the idle timeout and
/// keepalive wait until the answer arrives. When a `ws_client_tick` at or after
/// `now_ms + deadline_ms` finds no input since the probe, the client fails with
/// `WS_CONNECTION_LOST` ("no answer to the liveness probe within N ms").
/// `ws_client_next_deadline` reports the probe's deadline while it waits; a probe while
/// one waits sends another ping but keeps the earlier deadline.
///
/// Returns `WS_OK` (the ping leaves through `ws_read_output`); `WS_INVALID_ARGUMENT`
/// for a `deadline_ms` of 0; `WS_INVALID_STATE` before the handshake completed;
/// `WS_ALREADY_CLOSED` once closing; `WS_OUTPUT_FULL`; the failure code;
/// `WS_INVALID_HANDLE`. A refused probe changes nothing.
#[no_mangle]
pub extern "C" fn ws_client_probe(c: ws_client, now_ms: u64, deadline_ms: u64) -> ws_result {
    boundary(|| {
        with_client(c, |client| client.probe(now_ms, deadline_ms))?;
        Ok(WS_OK)
    })
}

/// Writes the connection state (`WS_STATE_*`) to `*out_state`. Works in every state,
/// including failed. Returns `WS_OK`, `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
#[no_mangle]
pub unsafe extern "C" fn ws_client_state(c: ws_client, out_state: *mut ws_state) -> ws_result {
    boundary(|| {
        // SAFETY: the caller passes a writable out-parameter (or NULL, refused here).
        let out = unsafe { out_ptr(out_state) }?;
        out.write(with_client(c, |client| Ok(client.state().into()))?);
        Ok(WS_OK)
    })
}

/// Copies the detailed last error of this client: the failure if it failed, else
/// the most recent of the last failed call on it and why the connection ended
/// uncleanly (for example "the server closed the connection without a close frame").
///
/// Writes at most `cap - 1` bytes plus a NUL and sets `*out_len` to the full length
/// without the NUL (0 = no error), so a caller can size a buffer. `buf` may be NULL
/// when `cap` is 0. Returns `WS_OK`, `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
#[no_mangle]
pub unsafe extern "C" fn ws_client_last_error(
    c: ws_client,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> ws_result {
    boundary(|| {
        // SAFETY: the caller passes cap writable bytes at buf and a writable size_t.
        let out = unsafe { StrOut::new(buf, cap, out_len) }?;
        with_client(c, |client| {
            out.write(client.last_error().unwrap_or(""));
            Ok(())
        })?;
        Ok(WS_OK)
    })
}

/// Writes the HTTP status of the upgrade response (101 on success, for example 403
/// when refused) to `*out_status`, or 0 when no response head was received yet.
/// Returns `WS_OK`, `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
#[no_mangle]
pub unsafe extern "C" fn ws_client_http_status(c: ws_client, out_status: *mut u16) -> ws_result {
    boundary(|| {
        // SAFETY: the caller passes a writable out-parameter (or NULL, refused here).
        let out = unsafe { out_ptr(out_status) }?;
        out.write(with_client(c, |client| {
            Ok(client.http_status().unwrap_or(0))
        })?);
        Ok(WS_OK)
    })
}

/// Writes 1 to `*out_resumed` when the TLS session was resumed from an earlier
/// connection made with the same config (TLS 1.3 ticket or TLS 1.2 session), else 0.
/// Returns `WS_OK`, `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
#[no_mangle]
pub unsafe extern "C" fn ws_client_is_resumed(c: ws_client, out_resumed: *mut u32) -> ws_result {
    boundary(|| {
        // SAFETY: the caller passes a writable out-parameter (or NULL, refused here).
        let out = unsafe { out_ptr(out_resumed) }?;
        out.write(with_client(c, |client| Ok(client.is_resumed().into()))?);
        Ok(WS_OK)
    })
}

/// Writes 1 to `*out_insecure` when certificate verification is off for this client
/// (its config used `ws_config_dangerous_disable_certificate_verification`), else 0.
/// Returns `WS_OK`, `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
#[no_mangle]
pub unsafe extern "C" fn ws_client_is_insecure(c: ws_client, out_insecure: *mut u32) -> ws_result {
    boundary(|| {
        // SAFETY: the caller passes a writable out-parameter (or NULL, refused here).
        let out = unsafe { out_ptr(out_insecure) }?;
        out.write(with_client(c, |client| Ok(client.is_insecure().into()))?);
        Ok(WS_OK)
    })
}

/// What permessage-deflate negotiated (see `ws_client_deflate`).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct ws_deflate_info {
    /// 1 when compression was negotiated, else 0 (and the other fields are 0).
    pub enabled: u32,
    /// The window our compressor uses (8-15; 8 means we send uncompressed).
    pub client_max_window_bits: u32,
    /// The window the server compresses with (8-15).
    pub server_max_window_bits: u32,
    /// 1 when we reset our compressor after every message.
    pub client_no_context_takeover: u32,
    /// 1 when the server resets its compressor after every message.
    pub server_no_context_takeover: u32,
}

/// Writes what permessage-deflate negotiated to `*out_info` (all 0 when it was not,
/// or before the handshake completed).
/// Returns `WS_OK`, `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
#[no_mangle]
pub unsafe extern "C" fn ws_client_deflate(
    c: ws_client,
    out_info: *mut ws_deflate_info,
) -> ws_result {
    boundary(|| {
        // SAFETY: the caller passes a writable ws_deflate_info (or NULL, refused here).
        let out = unsafe { out_ptr(out_info) }?;
        let params = with_client(c, |client| Ok(client.deflate()))?;
        out.write(
            params.map_or(ws_deflate_info::default(), |p| ws_deflate_info {
                enabled: 1,
                client_max_window_bits: p.client_max_window_bits.into(),
                server_max_window_bits: p.server_max_window_bits.into(),
                client_no_context_takeover: p.client_no_context_takeover.into(),
                server_no_context_takeover: p.server_no_context_takeover.into(),
            }),
        );
        Ok(WS_OK)
    })
}

/// Writes the negotiated TLS version to `*out_version`: `WS_TLS_VERSION_1_2` (12) or
/// `WS_TLS_VERSION_1_3` (13), or 0 for `ws://` and before the TLS handshake completed.
/// Returns `WS_OK`, `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
#[no_mangle]
pub unsafe extern "C" fn ws_client_tls_version(
    c: ws_client,
    out_version: *mut ws_tls_version,
) -> ws_result {
    boundary(|| {
        // SAFETY: the caller passes a writable ws_tls_version (or NULL, refused here).
        let out = unsafe { out_ptr(out_version) }?;
        match with_client(c, |client| Ok(client.tls_version()))? {
            Some(TlsVersion::Tls12) => out.write(ws_tls_version::WS_TLS_VERSION_1_2),
            Some(TlsVersion::Tls13) => out.write(ws_tls_version::WS_TLS_VERSION_1_3),
            None => out.write_u32(0),
        }
        Ok(WS_OK)
    })
}

/// Copies the subprotocol the server selected (empty when none), with the
/// `ws_client_last_error` copy-out convention.
/// Returns `WS_OK`, `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
#[no_mangle]
pub unsafe extern "C" fn ws_client_subprotocol(
    c: ws_client,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> ws_result {
    boundary(|| {
        // SAFETY: the caller passes cap writable bytes at buf and a writable size_t.
        let out = unsafe { StrOut::new(buf, cap, out_len) }?;
        with_client(c, |client| {
            out.write(client.subprotocol().unwrap_or(""));
            Ok(())
        })?;
        Ok(WS_OK)
    })
}

/// Where the caller's socket must connect: the proxy's host and port when the config
/// has a proxy (`ws_config_set_proxy`), else the URL's host and port (443 for `wss://`
/// and 80 for `ws://` by default). The host is a name or an IP address, without IPv6
/// brackets; resolve and connect it, then drive the client as usual.
///
/// Writes the host like `ws_client_last_error` does (at most `cap - 1` bytes plus a
/// NUL; `*out_len` = its full length) and the port to `*out_port`. When the host does
/// not fit, returns `WS_BUFFER_TOO_SMALL` with `*out_len` set and `*out_port` untouched
/// (a cut host name is no use). Works in every state. Returns `WS_OK`,
/// `WS_BUFFER_TOO_SMALL`, `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
#[no_mangle]
pub unsafe extern "C" fn ws_client_connect_address(
    c: ws_client,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
    out_port: *mut u16,
) -> ws_result {
    boundary(|| {
        // SAFETY: the caller passes cap writable bytes at buf, a writable size_t and a
        // writable uint16_t (NULLs are refused here).
        let (out, port_out) = unsafe { (StrOut::new(buf, cap, out_len)?, out_ptr(out_port)?) };
        let (host, port) = with_client(c, |client| {
            let (host, port) = client.connect_address();
            Ok((host.to_string(), port))
        })?;
        if host.len() >= cap {
            out.write_len(host.len());
            return Err(Fail::new(
                WS_BUFFER_TOO_SMALL,
                "the buffer is too small for the connect host; *out_len has its length",
            ));
        }
        out.write(&host);
        port_out.write(port);
        Ok(WS_OK)
    })
}

/// Copies the `Proxy-Authenticate` challenges of a proxy's 407 answer (the client
/// failed with `WS_PROXY_AUTH_REQUIRED`), one per line, separated by `\n`, in the
/// proxy's order (for example `Basic realm="corp"` and `NTLM`). Compute a
/// `Proxy-Authorization` value from them, set it with
/// `ws_config_set_proxy_authorization` and connect again with a new client.
///
/// Same buffer conventions as `ws_client_last_error`; `*out_len` is 0 when there were
/// none. Returns `WS_OK`, `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
#[no_mangle]
pub unsafe extern "C" fn ws_client_proxy_challenges(
    c: ws_client,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> ws_result {
    boundary(|| {
        // SAFETY: the caller passes cap writable bytes at buf and a writable size_t.
        let out = unsafe { StrOut::new(buf, cap, out_len) }?;
        with_client(c, |client| {
            out.write(&client.proxy_challenges().join("\n"));
            Ok(())
        })?;
        Ok(WS_OK)
    })
}

/// Lends certificate `index` of the server's chain as it sent it (0 = the leaf, then
/// the intermediates in the server's order; for a resumed session, the chain of the
/// session it resumed): `*out_der` points to its DER bytes and `*out_len` is their
/// length. Meant for `WS_STATE_VERIFYING` (hand the chain to the platform's verifier),
/// and works in every later state too.
///
/// The bytes are owned by the client and stay valid, unchanged, until
/// `ws_client_free`. Returns `WS_OK`; `WS_INVALID_ARGUMENT` when `index` is past the
/// end of the chain (iterate from 0 until it is returned); `WS_INVALID_STATE` for
/// `ws://` and before the server's certificate arrived; `WS_NULL_POINTER`,
/// `WS_INVALID_HANDLE`.
#[no_mangle]
pub unsafe extern "C" fn ws_client_peer_certificate(
    c: ws_client,
    index: usize,
    out_der: *mut *const u8,
    out_len: *mut usize,
) -> ws_result {
    boundary(|| {
        // SAFETY: the caller passes writable out-parameters (or NULL, refused here).
        let out_der = unsafe { out_ptr(out_der) }?;
        // SAFETY: as above.
        let out_len = unsafe { out_ptr(out_len) }?;
        // (pointer, length) of the kept copy; None past the end, Err before any chain.
        let found = with_client(c, |client| {
            if client.peer_certificates().is_none() {
                return Err(Error::new(
                    crate::ErrorKind::InvalidState,
                    "no server certificate (yet): ws:// or the TLS handshake has not got that far",
                ));
            }
            Ok(client
                .peer_certificate_kept(index)
                .map(|der| (der.as_ptr(), der.len())))
        })?;
        // Past the end is the end of an iteration, not a mistake on the client: it is
        // not recorded in the client's last error.
        let (ptr, len) = found.ok_or_else(|| {
            Fail::new(
                WS_INVALID_ARGUMENT,
                format!("index {index} is past the end of the server's certificate chain"),
            )
        })?;
        out_der.write(ptr);
        out_len.write(len);
        Ok(WS_OK)
    })
}

/// Gives the caller's verdict on the server's chain while the client is in
/// `WS_STATE_VERIFYING`: `accept` = 1 sends the upgrade request and the handshake
/// goes on; `accept` = 0 fails the client with `WS_CERT_UNTRUSTED`, its last error
/// naming `reason` (UTF-8, NUL-terminated; NULL = none given), and forgets the TLS
/// sessions of this server, so that the next connection does a full handshake and
/// asks again. Bytes to send (the request, or nothing) are in `ws_read_output`.
///
/// Returns `WS_OK` once the verdict is taken (also a reject: the client's state then
/// says `WS_STATE_FAILED`); `WS_INVALID_STATE` when no verdict is awaited; the
/// failure code of a failed client (the handshake timeout, for example);
/// `WS_INVALID_ARGUMENT` (reason not UTF-8), `WS_INVALID_HANDLE`.
#[no_mangle]
pub unsafe extern "C" fn ws_client_set_verdict(
    c: ws_client,
    accept: u32,
    reason: *const c_char,
) -> ws_result {
    boundary(|| {
        // SAFETY: the caller passes a NUL-terminated string or NULL.
        let reason = unsafe { in_opt_str(reason) }?.unwrap_or("");
        with_client(c, |client| client.set_verdict(accept != 0, reason))?;
        Ok(WS_OK)
    })
}

/// Asks the operating system's verifier about the chain the client waits with in
/// `WS_STATE_VERIFYING` (rustls-platform-verifier: Windows CertGetCertificateChain,
/// macOS/iOS SecTrust, Linux webpki with the distribution's roots), for the URL's
/// host (or `ws_config_set_server_name`'s). **It blocks** (the OS may check
/// revocation over the network): call it on a worker thread of your own, then give
/// the answer to `ws_client_set_verdict` on the thread that drives the client. The
/// client is locked only while its chain is copied, so driving it meanwhile is fine.
///
/// Writes 1 to `*out_trusted` when the OS trusts the chain, else 0, and copies why
/// not (empty when trusted) with the `ws_client_last_error` convention (`reason` may
/// be NULL when `cap` is 0; `*out_len` is the full length). Not available on Android
/// (the verifier there needs the app's JNI context and a Kotlin component; verify
/// from Java, or with the C# `WsPlatformTrust`) nor on the web.
///
/// Returns `WS_OK` when the verifier ran; `WS_INVALID_STATE` when the client is not
/// verifying or on a platform without it; the failure code of a failed client;
/// `WS_NULL_POINTER`, `WS_INVALID_HANDLE`.
#[no_mangle]
pub unsafe extern "C" fn ws_client_verify_with_platform(
    c: ws_client,
    out_trusted: *mut u32,
    reason: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> ws_result {
    boundary(|| {
        // SAFETY: the caller passes a writable out-parameter (or NULL, refused here).
        let trusted = unsafe { out_ptr(out_trusted) }?;
        // SAFETY: the caller passes cap writable bytes at reason and a writable size_t.
        let out = unsafe { StrOut::new(reason, cap, out_len) }?;
        let (chain, name) = with_client(c, |client| client.verification_request())?;
        // The client is unlocked: this may block as long as the OS likes.
        match crate::platform::verify_with_platform(&chain, &name) {
            Ok(()) => {
                trusted.write(1);
                out.write("");
            }
            Err(e) if e.kind() == crate::ErrorKind::InvalidState => return Err(e.into()),
            Err(e) => {
                trusted.write(0);
                out.write(e.message());
            }
        }
        Ok(WS_OK)
    })
}

/// Test hook (Rust only, not exported to C): panics inside the boundary of `c`, the
/// way a bug in the engine would, and returns what the boundary returned.
#[doc(hidden)]
pub fn __test_panic_inside(c: ws_client) -> ws_result {
    boundary(|| {
        with_client(c, |_| -> Result<ws_result, Error> {
            panic!("forced by a test")
        })
    })
}
