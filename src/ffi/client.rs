//! `ws_client`: one connection, driven by the caller's bytes and clock.

use std::ffi::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};

use super::config::ws_config;
use super::handles::{self, ClientSlot, Object};
use super::panic::{describe, guard};
use super::result::{code_of, set_thread_error, ws_message_kind, ws_result::*, ws_state};
use super::util::{copy_str_out, in_slice, in_str, out_slice, write_out};
use crate::error::Error;
use crate::session::{Client, Poll, PollInto, State};
use crate::MessageKind;

/// A client handle: a generation-counted `uint64_t`; 0 is never valid.
pub type ws_client = u64;

/// A received message, borrowed from the client.
///
/// `data` stays valid until the next `ws_poll_message`, `ws_poll_message_copy` or
/// `ws_client_free` on the same handle; sends do not invalidate it, so echoing
/// straight from `data` is legal. `data` is never NULL (an empty message points to a
/// static empty buffer).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ws_message {
    /// One of `WS_MESSAGE_TEXT`, `_BINARY`, `_PING`, `_PONG`, `_CLOSE`.
    pub kind: u32,
    /// The payload; for a close, the UTF-8 reason.
    pub data: *const u8,
    /// Payload length in bytes.
    pub len: usize,
    /// For a close: the code (1005 = the frame had none, 1006 = the connection
    /// dropped without a close frame); 0 for other kinds.
    pub close_code: u16,
}

static EMPTY: [u8; 1] = [0];

fn kind_code(kind: MessageKind) -> u32 {
    (match kind {
        MessageKind::Text => ws_message_kind::WS_MESSAGE_TEXT,
        MessageKind::Binary => ws_message_kind::WS_MESSAGE_BINARY,
        MessageKind::Ping => ws_message_kind::WS_MESSAGE_PING,
        MessageKind::Pong => ws_message_kind::WS_MESSAGE_PONG,
        MessageKind::Close => ws_message_kind::WS_MESSAGE_CLOSE,
    }) as u32
}

/// Records an error on the handle and the thread; returns its code.
fn note(slot: &mut ClientSlot, e: &Error) -> u32 {
    set_thread_error(e.message());
    slot.note = Some(e.message().to_string());
    code_of(e.kind())
}

/// Runs `f` on the client behind `c` inside the panic boundary. A panic poisons
/// this client only: it fails with `WS_PANIC` from then on.
fn with_client(c: ws_client, f: impl FnOnce(&mut ClientSlot) -> u32) -> u32 {
    guard(|| {
        let mut obj = handles::lock(c);
        let Some(Object::Client(slot)) = obj.as_deref_mut() else {
            set_thread_error("invalid, stale or wrong-type client handle");
            return WS_INVALID_HANDLE as u32;
        };
        // Which detail is newer: a String replaced during the call has a new address
        // (the new one is made before the old one is dropped).
        let event_before = slot.client.last_error().map(str::as_ptr);
        let note_before = slot.note.as_deref().map(str::as_ptr);
        match catch_unwind(AssertUnwindSafe(|| f(slot))) {
            Ok(code) => {
                let new_event = slot.client.last_error().map(str::as_ptr) != event_before;
                let new_note = slot.note.as_deref().map(str::as_ptr) != note_before;
                if new_event && !new_note {
                    // The connection recorded something (an unclean end, say) after the
                    // last rejected call: that is now the last error.
                    slot.note = None;
                }
                code
            }
            Err(payload) => {
                let what = describe(&*payload);
                slot.client.poison(&what);
                set_thread_error(&format!("internal error (panic): {what}"));
                WS_PANIC as u32
            }
        }
    })
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
///
/// # Safety
/// `url` must be a NUL-terminated string; `out_client` writable.
#[no_mangle]
pub unsafe extern "C" fn ws_client_new(
    cfg: ws_config,
    url: *const c_char,
    out_client: *mut ws_client,
) -> u32 {
    guard(|| {
        if out_client.is_null() {
            return WS_NULL_POINTER as u32;
        }
        // SAFETY: the caller guarantees a NUL-terminated string.
        let url = match unsafe { in_str(url) } {
            Ok(u) => u,
            Err(code) => return code,
        };
        let client = match handles::lock(cfg).as_deref() {
            Some(Object::Config(config)) => Client::new(config, url),
            _ => {
                set_thread_error("invalid, stale or wrong-type config handle");
                return WS_INVALID_HANDLE as u32;
            }
        };
        match client {
            Ok(client) => {
                let slot = ClientSlot { client, note: None };
                match handles::insert(Object::Client(Box::new(slot))) {
                    // SAFETY: checked non-null; writable per the caller's contract.
                    Some(h) => unsafe { write_out(out_client, h) },
                    None => handles::table_full(),
                }
            }
            Err(e) => {
                set_thread_error(e.message());
                code_of(e.kind())
            }
        }
    })
}

/// Frees a client and everything it holds (any borrowed `ws_message` data becomes
/// invalid). It does not send anything: close first for a clean shutdown. Freeing 0,
/// a stale handle, or freeing twice does nothing. Returns `WS_OK`.
#[no_mangle]
pub extern "C" fn ws_client_free(c: ws_client) -> u32 {
    guard(|| {
        handles::remove(c, |o| matches!(o, Object::Client(_)));
        WS_OK as u32
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
/// client owns (the window of `ws_input_window`, a message buffer, the pending
/// output; nothing is read and the connection carries on), `WS_NULL_POINTER`,
/// `WS_INVALID_HANDLE`.
///
/// # Safety
/// `data` must point to `len` readable bytes (or be NULL with `len` 0);
/// `out_consumed` writable.
#[no_mangle]
pub unsafe extern "C" fn ws_offer_input(
    c: ws_client,
    data: *const u8,
    len: usize,
    out_consumed: *mut usize,
) -> u32 {
    if out_consumed.is_null() {
        return WS_NULL_POINTER as u32;
    }
    // SAFETY: the caller guarantees `data` and `len`.
    let data = match unsafe { in_slice(data, len) } {
        Ok(d) => d,
        Err(code) => return code,
    };
    with_client(c, |s| match s.client.offer_input(data) {
        // SAFETY: checked non-null above.
        Ok(n) => unsafe { write_out(out_consumed, n) },
        Err(e) => note(s, &e),
    })
}

/// Lends a window of the library's memory to receive socket bytes into, saving the
/// copy `ws_offer_input` makes: `recv()` straight into `*out_buf[0..*out_cap]`, then
/// pass the count received to `ws_input_commit`. On a plain `ws://` connection inside
/// a large frame the window is the message buffer itself, so payload is never copied
/// again; otherwise it is a staging buffer of 2 KiB, which grows to 16 KiB (one TLS
/// record) once a commit fills it, until the idle trim.
///
/// The window stays valid until `ws_input_commit`, `ws_offer_input`, the next
/// `ws_input_window`, `ws_client_trim` or `ws_client_free`; no other call moves it
/// (the idle trim of `ws_client_tick` leaves a lent window alone). Passing the window
/// itself to `ws_offer_input` is refused with `WS_INVALID_ARGUMENT`. `*out_cap` is 0
/// while the undelivered messages are at `max_queued_messages` or
/// `max_queued_bytes`: poll messages first. If the connection ends while a window is
/// lent, the commit takes its bytes and discards them. The end of the stream is still
/// reported with `ws_offer_input(c, NULL, 0, ...)`.
///
/// Returns `WS_OK`, the sticky failure code, `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
///
/// # Safety
/// `out_buf` and `out_cap` must be writable.
#[no_mangle]
pub unsafe extern "C" fn ws_input_window(
    c: ws_client,
    out_buf: *mut *mut u8,
    out_cap: *mut usize,
) -> u32 {
    if out_buf.is_null() || out_cap.is_null() {
        return WS_NULL_POINTER as u32;
    }
    with_client(c, |s| match s.client.input_window() {
        Ok(window) => {
            // SAFETY: checked non-null above.
            unsafe {
                *out_buf = window.as_mut_ptr();
                *out_cap = window.len();
            }
            WS_OK as u32
        }
        Err(e) => note(s, &e),
    })
}

/// Processes the first `n` bytes written into the window of the last
/// `ws_input_window` call, as `ws_offer_input` would; all `n` are taken. `n == 0`
/// does nothing.
///
/// Returns `WS_OK`, the failure code (sticky, as for `ws_offer_input`),
/// `WS_INVALID_STATE` (no window open: none was lent, or `ws_offer_input`,
/// `ws_client_trim` or another `ws_input_window` came in between),
/// `WS_INVALID_ARGUMENT` (`n` larger than the window; the window is closed) or
/// `WS_INVALID_HANDLE`.
#[no_mangle]
pub extern "C" fn ws_input_commit(c: ws_client, n: usize) -> u32 {
    with_client(c, |s| match s.client.commit_input(n) {
        Ok(()) => WS_OK as u32,
        Err(e) => note(s, &e),
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
///
/// # Safety
/// `buf` must point to `cap` writable bytes (or be NULL with `cap` 0); `out_len`
/// writable.
#[no_mangle]
pub unsafe extern "C" fn ws_read_output(
    c: ws_client,
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> u32 {
    if out_len.is_null() {
        return WS_NULL_POINTER as u32;
    }
    // SAFETY: the caller guarantees `buf` and `cap`.
    let buf = match unsafe { out_slice(buf, cap) } {
        Ok(b) => b,
        Err(code) => return code,
    };
    with_client(c, |s| {
        let pending = s.client.pending_output();
        if buf.is_empty() && pending > 0 {
            // SAFETY: checked non-null above.
            unsafe { *out_len = pending };
            return WS_BUFFER_TOO_SMALL as u32;
        }
        match s.client.read_output(buf) {
            // SAFETY: checked non-null above.
            Ok(n) => unsafe { write_out(out_len, n) },
            Err(e) => {
                // SAFETY: checked non-null above.
                unsafe { *out_len = 0 };
                note(s, &e)
            }
        }
    })
}

/// Zero-copy output: points `*out_data` at the bytes waiting to be written to the
/// socket and writes their count to `*out_len` (0 when nothing is pending; then
/// `*out_data` points to a static empty buffer, never NULL). Write from there, then
/// call `ws_output_consume` with how many bytes the socket took. Nothing is removed by
/// peeking. The view is all of the pending output: once it is consumed, nothing is
/// pending until the next call that produces output (a send, input, a tick, a close),
/// so a caller that sent it all need not peek again. The view stays valid until the next call on this handle other than
/// `ws_output_peek`, `ws_client_pending_output`, `ws_client_state` and
/// `ws_client_last_error`; the memory belongs to the library.
///
/// Returns `WS_OK`; after a failure, pending bytes are still shown with `WS_OK` and
/// once they are gone the failure code (with `*out_len = 0`). Also `WS_NULL_POINTER`,
/// `WS_INVALID_HANDLE`.
///
/// # Safety
/// `out_data` and `out_len` must be writable.
#[no_mangle]
pub unsafe extern "C" fn ws_output_peek(
    c: ws_client,
    out_data: *mut *const u8,
    out_len: *mut usize,
) -> u32 {
    if out_data.is_null() || out_len.is_null() {
        return WS_NULL_POINTER as u32;
    }
    with_client(c, |s| {
        let view = match s.client.peek_output() {
            Ok(view) => view,
            Err(e) => {
                // SAFETY: checked non-null above.
                unsafe { *out_len = 0 };
                return note(s, &e);
            }
        };
        // SAFETY: checked non-null above.
        unsafe {
            *out_data = if view.is_empty() {
                EMPTY.as_ptr()
            } else {
                view.as_ptr()
            };
            *out_len = view.len();
        }
        WS_OK as u32
    })
}

/// Marks the first `n` bytes shown by `ws_output_peek` as sent. `n` larger than what
/// is pending is `WS_INVALID_ARGUMENT` and nothing is consumed; `n == 0` does nothing.
/// Returns `WS_OK`, `WS_INVALID_ARGUMENT` or `WS_INVALID_HANDLE`.
#[no_mangle]
pub extern "C" fn ws_output_consume(c: ws_client, n: usize) -> u32 {
    with_client(c, |s| match s.client.consume_output(n) {
        Ok(()) => WS_OK as u32,
        Err(e) => note(s, &e),
    })
}

/// Releases memory kept for large messages. Buffers keep the size of the largest
/// recent message, so that a stream of large messages does not allocate per message;
/// `ws_client_tick` trims them (to 4 KiB each, TLS read buffer included) after a second
/// without traffic, and this does it now, for example after a burst of large messages.
/// Borrowed `ws_message` data stays valid. Returns `WS_OK` or `WS_INVALID_HANDLE`.
#[no_mangle]
pub extern "C" fn ws_client_trim(c: ws_client) -> u32 {
    with_client(c, |s| {
        s.client.trim();
        WS_OK as u32
    })
}

/// Writes the number of bytes waiting for `ws_read_output` to `*out_len`.
/// Returns `WS_OK`, `WS_NULL_POINTER` or `WS_INVALID_HANDLE` (also when failed: the
/// count stays readable).
///
/// # Safety
/// `out_len` must be writable.
#[no_mangle]
pub unsafe extern "C" fn ws_client_pending_output(c: ws_client, out_len: *mut usize) -> u32 {
    if out_len.is_null() {
        return WS_NULL_POINTER as u32;
    }
    // SAFETY: checked non-null above.
    with_client(c, |s| unsafe {
        write_out(out_len, s.client.pending_output())
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
///
/// # Safety
/// `out_msg` must be writable.
#[no_mangle]
pub unsafe extern "C" fn ws_poll_message(c: ws_client, out_msg: *mut ws_message) -> u32 {
    if out_msg.is_null() {
        return WS_NULL_POINTER as u32;
    }
    with_client(c, |s| match s.client.poll_message() {
        Ok(Poll::Message(m)) => {
            let msg = ws_message {
                kind: kind_code(m.kind),
                data: if m.data.is_empty() {
                    EMPTY.as_ptr()
                } else {
                    m.data.as_ptr()
                },
                len: m.data.len(),
                close_code: m.close_code,
            };
            // SAFETY: checked non-null above.
            unsafe { write_out(out_msg, msg) }
        }
        Ok(Poll::NeedInput) => WS_NEED_INPUT as u32,
        Ok(Poll::Closed) => WS_CLOSED as u32,
        Err(e) => note(s, &e),
    })
}

/// Like `ws_poll_message`, but copies the payload into the caller's `buf[0..cap]`,
/// so no library memory is borrowed. On success writes the kind, length and close
/// code. When `cap` is too small it returns `WS_BUFFER_TOO_SMALL`, writes the size
/// needed to `*out_len`, and the message stays queued.
///
/// Returns `WS_OK`, `WS_BUFFER_TOO_SMALL`, `WS_NEED_INPUT`, `WS_CLOSED`, the failure
/// code, `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
///
/// # Safety
/// `buf` must point to `cap` writable bytes (or be NULL with `cap` 0); the out
/// pointers writable.
#[no_mangle]
pub unsafe extern "C" fn ws_poll_message_copy(
    c: ws_client,
    buf: *mut u8,
    cap: usize,
    out_kind: *mut u32,
    out_len: *mut usize,
    out_close_code: *mut u16,
) -> u32 {
    if out_kind.is_null() || out_len.is_null() || out_close_code.is_null() {
        return WS_NULL_POINTER as u32;
    }
    // SAFETY: the caller guarantees `buf` and `cap`.
    let buf = match unsafe { out_slice(buf, cap) } {
        Ok(b) => b,
        Err(code) => return code,
    };
    with_client(c, |s| match s.client.poll_message_into(buf) {
        // SAFETY (all arms): the out pointers were checked non-null above.
        Ok(PollInto::Message {
            kind,
            len,
            close_code,
        }) => unsafe {
            *out_kind = kind_code(kind);
            *out_len = len;
            *out_close_code = close_code;
            WS_OK as u32
        },
        Ok(PollInto::TooSmall(need)) => unsafe {
            *out_len = need;
            WS_BUFFER_TOO_SMALL as u32
        },
        Ok(PollInto::NeedInput) => WS_NEED_INPUT as u32,
        Ok(PollInto::Closed) => WS_CLOSED as u32,
        Err(e) => note(s, &e),
    })
}

fn send_with(
    c: ws_client,
    data: *const u8,
    len: usize,
    f: fn(&mut Client, &[u8]) -> crate::Result<()>,
) -> u32 {
    // SAFETY: every caller passes on its own caller's guarantee for `data`/`len`.
    let data = match unsafe { in_slice(data, len) } {
        Ok(d) => d,
        Err(code) => return code,
    };
    with_client(c, |s| match f(&mut s.client, data) {
        Ok(()) => WS_OK as u32,
        Err(e) => note(s, &e),
    })
}

/// Queues a text message; its bytes leave through `ws_read_output`. The bytes are
/// copied. Invalid UTF-8 is refused with `WS_INVALID_ARGUMENT` and nothing is sent.
///
/// Returns `WS_OK`; `WS_INVALID_STATE` before the handshake completed (sends are
/// refused, not queued, until `WS_STATE_OPEN`); `WS_ALREADY_CLOSED` once a close was
/// sent; `WS_OUTPUT_FULL`; the failure code; `WS_NULL_POINTER`; `WS_INVALID_HANDLE`.
///
/// # Safety
/// `utf8` must point to `len` readable bytes (or be NULL with `len` 0).
#[no_mangle]
pub unsafe extern "C" fn ws_send_text(c: ws_client, utf8: *const u8, len: usize) -> u32 {
    send_with(c, utf8, len, Client::send_text)
}

/// Queues a binary message. Same rules and codes as `ws_send_text`, without the
/// UTF-8 check.
///
/// # Safety
/// `data` must point to `len` readable bytes (or be NULL with `len` 0).
#[no_mangle]
pub unsafe extern "C" fn ws_send_binary(c: ws_client, data: *const u8, len: usize) -> u32 {
    send_with(c, data, len, Client::send_binary)
}

/// Queues a ping with up to 125 bytes of payload; the pong arrives as a
/// `WS_MESSAGE_PONG` message. Codes as `ws_send_text`, plus `WS_INVALID_ARGUMENT`
/// for a payload over 125 bytes.
///
/// # Safety
/// `data` must point to `len` readable bytes (or be NULL with `len` 0).
#[no_mangle]
pub unsafe extern "C" fn ws_send_ping(c: ws_client, data: *const u8, len: usize) -> u32 {
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
///
/// # Safety
/// `reason` must point to `len` readable bytes (or be NULL with `len` 0).
#[no_mangle]
pub unsafe extern "C" fn ws_close(c: ws_client, code: u16, reason: *const u8, len: usize) -> u32 {
    // SAFETY: the caller guarantees `reason` and `len`.
    let reason = match unsafe { in_slice(reason, len) } {
        Ok(r) => r,
        Err(code) => return code,
    };
    with_client(c, |s| match s.client.close(code, reason) {
        Ok(()) => WS_OK as u32,
        Err(e) => note(s, &e),
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
pub extern "C" fn ws_client_tick(c: ws_client, now_ms: u64) -> u32 {
    with_client(c, |s| match s.client.tick(now_ms) {
        Ok(()) => WS_OK as u32,
        Err(e) => note(s, &e),
    })
}

/// Writes when `ws_client_tick` should next be called (caller-clock ms) to
/// `*out_deadline_ms`: 0 before the first tick, `UINT64_MAX` when no timer runs.
/// Returns `WS_OK`, `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
///
/// # Safety
/// `out_deadline_ms` must be writable.
#[no_mangle]
pub unsafe extern "C" fn ws_client_next_deadline(c: ws_client, out_deadline_ms: *mut u64) -> u32 {
    if out_deadline_ms.is_null() {
        return WS_NULL_POINTER as u32;
    }
    // SAFETY: checked non-null above.
    with_client(c, |s| unsafe {
        write_out(
            out_deadline_ms,
            s.client.next_deadline().unwrap_or(u64::MAX),
        )
    })
}

/// Writes the connection state (`WS_STATE_*`) to `*out_state`. Works in every state,
/// including failed. Returns `WS_OK`, `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
///
/// # Safety
/// `out_state` must be writable.
#[no_mangle]
pub unsafe extern "C" fn ws_client_state(c: ws_client, out_state: *mut u32) -> u32 {
    if out_state.is_null() {
        return WS_NULL_POINTER as u32;
    }
    with_client(c, |s| {
        let st = match s.client.state() {
            State::TlsHandshaking => ws_state::WS_STATE_TLS_HANDSHAKING,
            State::WsHandshaking => ws_state::WS_STATE_WS_HANDSHAKING,
            State::Open => ws_state::WS_STATE_OPEN,
            State::Closing => ws_state::WS_STATE_CLOSING,
            State::Closed => ws_state::WS_STATE_CLOSED,
            State::Failed => ws_state::WS_STATE_FAILED,
        };
        // SAFETY: checked non-null above.
        unsafe { write_out(out_state, st as u32) }
    })
}

/// Copies the detailed last error of this client: the failure if it failed, else
/// the most recent of the last failed call on it and why the connection ended
/// uncleanly (for example "the server closed the connection without a close frame").
///
/// Writes at most `cap - 1` bytes plus a NUL and sets `*out_len` to the full length
/// without the NUL (0 = no error), so a caller can size a buffer. `buf` may be NULL
/// when `cap` is 0. Returns `WS_OK`, `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
///
/// # Safety
/// `buf` must point to `cap` writable bytes (or be NULL with `cap` 0); `out_len`
/// writable.
#[no_mangle]
pub unsafe extern "C" fn ws_client_last_error(
    c: ws_client,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> u32 {
    with_client(c, |s| {
        let msg = match s.client.failure() {
            Some(e) => e.message(),
            None => s.note.as_deref().or(s.client.last_error()).unwrap_or(""),
        };
        // SAFETY: the caller guarantees `buf`/`cap` and `out_len`.
        unsafe { copy_str_out(msg, buf, cap, out_len) }
    })
}

/// Writes the HTTP status of the upgrade response (101 on success, for example 403
/// when refused) to `*out_status`, or 0 when no response head was received yet.
/// Returns `WS_OK`, `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
///
/// # Safety
/// `out_status` must be writable.
#[no_mangle]
pub unsafe extern "C" fn ws_client_http_status(c: ws_client, out_status: *mut u16) -> u32 {
    if out_status.is_null() {
        return WS_NULL_POINTER as u32;
    }
    // SAFETY: checked non-null above.
    with_client(c, |s| unsafe {
        write_out(out_status, s.client.http_status().unwrap_or(0))
    })
}

/// Writes 1 to `*out_resumed` when the TLS session was resumed from an earlier
/// connection made with the same config (TLS 1.3 ticket or TLS 1.2 session), else 0.
/// Returns `WS_OK`, `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
///
/// # Safety
/// `out_resumed` must be writable.
#[no_mangle]
pub unsafe extern "C" fn ws_client_is_resumed(c: ws_client, out_resumed: *mut u32) -> u32 {
    if out_resumed.is_null() {
        return WS_NULL_POINTER as u32;
    }
    // SAFETY: checked non-null above.
    with_client(c, |s| unsafe {
        write_out(out_resumed, s.client.is_resumed() as u32)
    })
}

/// Writes 1 to `*out_insecure` when certificate verification is off for this client
/// (its config used `ws_config_dangerous_disable_certificate_verification`), else 0.
/// Returns `WS_OK`, `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
///
/// # Safety
/// `out_insecure` must be writable.
#[no_mangle]
pub unsafe extern "C" fn ws_client_is_insecure(c: ws_client, out_insecure: *mut u32) -> u32 {
    if out_insecure.is_null() {
        return WS_NULL_POINTER as u32;
    }
    // SAFETY: checked non-null above.
    with_client(c, |s| unsafe {
        write_out(out_insecure, s.client.is_insecure() as u32)
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
///
/// # Safety
/// `out_info` must be writable.
#[no_mangle]
pub unsafe extern "C" fn ws_client_deflate(c: ws_client, out_info: *mut ws_deflate_info) -> u32 {
    if out_info.is_null() {
        return WS_NULL_POINTER as u32;
    }
    with_client(c, |s| {
        let info = s
            .client
            .deflate()
            .map_or(ws_deflate_info::default(), |p| ws_deflate_info {
                enabled: 1,
                client_max_window_bits: p.client_max_window_bits.into(),
                server_max_window_bits: p.server_max_window_bits.into(),
                client_no_context_takeover: p.client_no_context_takeover.into(),
                server_no_context_takeover: p.server_no_context_takeover.into(),
            });
        // SAFETY: checked non-null above.
        unsafe { write_out(out_info, info) }
    })
}

/// Writes the negotiated TLS version to `*out_version`: 12 or 13, or 0 for `ws://`
/// and before the TLS handshake completed.
/// Returns `WS_OK`, `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
///
/// # Safety
/// `out_version` must be writable.
#[no_mangle]
pub unsafe extern "C" fn ws_client_tls_version(c: ws_client, out_version: *mut u32) -> u32 {
    if out_version.is_null() {
        return WS_NULL_POINTER as u32;
    }
    with_client(c, |s| {
        let v = match s.client.tls_version().as_deref() {
            Some("TLSv1_3") => 13,
            Some("TLSv1_2") => 12,
            _ => 0,
        };
        // SAFETY: checked non-null above.
        unsafe { write_out(out_version, v) }
    })
}

/// Copies the subprotocol the server selected (empty when none), with the
/// `ws_client_last_error` copy-out convention.
/// Returns `WS_OK`, `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
///
/// # Safety
/// `buf` must point to `cap` writable bytes (or be NULL with `cap` 0); `out_len`
/// writable.
#[no_mangle]
pub unsafe extern "C" fn ws_client_subprotocol(
    c: ws_client,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> u32 {
    // SAFETY: the caller guarantees `buf`/`cap` and `out_len`.
    with_client(c, |s| unsafe {
        copy_str_out(s.client.subprotocol().unwrap_or(""), buf, cap, out_len)
    })
}

/// Writes the number of live handles (configs plus clients) to `*out_count`; for
/// leak checks in tests. Returns `WS_OK` or `WS_NULL_POINTER`.
///
/// # Safety
/// `out_count` must be writable.
#[no_mangle]
pub unsafe extern "C" fn ws_handle_count(out_count: *mut usize) -> u32 {
    // SAFETY: write_out checks for NULL; writable per the caller's contract.
    guard(|| unsafe { write_out(out_count, handles::count()) })
}

/// Test hook (Rust only, not exported to C): panics inside the boundary of `c`, the
/// way a bug in the engine would, and returns what the boundary returned.
#[doc(hidden)]
pub fn __test_panic_inside(c: ws_client) -> u32 {
    with_client(c, |_| panic!("forced by a test"))
}
