//! A hostile mix of caller calls and server bytes on an open `ws://` connection.
//!
//! Input: `[flags: u8]` then a sequence of operations, each an opcode byte and its
//! arguments (see `run`). Flags: `0x01` short timeouts (handshake 1 s, close 500 ms,
//! keepalive 200 ms, idle 1 s), `0x10` small limits, `0x40` permessage-deflate
//! negotiated (`0x80`: without context takeover).
//!
//! Invariants (besides those of `Watch`): `read_output` never returns more than the
//! buffer, and `pending_output` shrinks by what it returned; a successful send grows
//! the pending output; `poll_message_into` reports `TooSmall` only for a message
//! that does not fit, which then stays queued; a failed client has no deadline.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsmachine::{Client, PollInto, State, Timeouts};
use wsmachine_fuzz::*;

/// Reads operation arguments; missing bytes are 0.
struct Args<'a>(&'a [u8]);

impl<'a> Args<'a> {
    fn u8(&mut self) -> u8 {
        let (b, rest) = self.0.split_first().map_or((0, &[][..]), |(b, r)| (*b, r));
        self.0 = rest;
        b
    }
    fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.u8(), self.u8()])
    }
    fn bytes(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.0.len());
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        a
    }
}

/// An unmasked server frame with the fuzzer's first byte (FIN, RSV, opcode).
fn server_frame(b0: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![b0];
    if payload.len() < 126 {
        v.push(payload.len() as u8);
    } else {
        v.push(126);
        v.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    }
    v.extend_from_slice(payload);
    v
}

/// KNOWN BUG (reported, not yet fixed in src/): with permessage-deflate and a
/// threshold of 0, an empty text or binary message sent after another compressed
/// message panics in `Deflater::compress` (zlib emits nothing for a second sync flush
/// with no input, so `out` lacks the `00 00 ff ff` tail). Repro:
/// `printf '\x40\x00\x00\x00' > r; cargo fuzz run -a api_sequence r`.
/// While true, the target skips empty data messages when deflate is negotiated, so
/// that fuzzing can go past it. Set to false once fixed.
const SKIP_EMPTY_DEFLATED_SENDS: bool = false;

/// KNOWN BUG (reported, not yet fixed in src/): a protocol error deferred behind
/// queued messages (`pending_failure`) surfaces from `poll_message` with its own kind
/// even when the client has failed meanwhile (e.g. `Timeout` from `tick`), breaking
/// the sticky-error rule once: `Client::fail` returns the new error instead of the
/// recorded one. Repro: `printf '\xff\x05\x89\x00\x2f\x0d\x03\x03\xe8\x0b\x0a\x0c\x0a\x0d\x0a\x0d' > r;
/// cargo fuzz run -a api_sequence r`. While true, the target does not tick while
/// messages are queued (the only way to fail with a deferred failure pending).
const NO_TICK_WHILE_QUEUED: bool = false;

fn send(
    c: &mut Client,
    w: &mut Watch,
    what: &str,
    f: impl FnOnce(&mut Client) -> wsmachine::Result<()>,
) {
    let before = c.pending_output();
    let r = f(c);
    w.after(c, what, &r, Allow::ARG_ERROR);
    if r.is_ok() {
        assert!(c.pending_output() > before, "{what}: Ok but nothing queued");
    }
}

fn run(c: &mut Client, w: &mut Watch, mut a: Args, deflate: bool) {
    let skip_empty = SKIP_EMPTY_DEFLATED_SENDS && deflate;
    let mut now: u64 = 0;
    for _ in 0..512 {
        if a.0.is_empty() {
            return;
        }
        match a.u8() % 15 {
            0 => {
                let n = a.u8() as usize;
                let p = a.bytes(n);
                if !(skip_empty && p.is_empty()) {
                    send(c, w, "send_text", |c| c.send_text(p));
                }
            }
            1 => {
                let n = a.u16() as usize;
                let p = a.bytes(n);
                if !(skip_empty && p.is_empty()) {
                    send(c, w, "send_binary", |c| c.send_binary(p));
                }
            }
            2 => {
                let n = a.u8() as usize;
                let p = a.bytes(n);
                send(c, w, "send_ping", |c| c.send_ping(p));
            }
            3 => {
                let code = a.u16();
                let n = a.u8() as usize;
                let p = a.bytes(n);
                send(c, w, "close", |c| c.close(code, p));
            }
            4 => {
                let n = a.u8() as usize;
                let p = a.bytes(n);
                let _ = offer_all(c, w, p);
            }
            5 => {
                let b0 = a.u8();
                let n = a.u8() as usize;
                let p = a.bytes(n);
                let _ = offer_all(c, w, &server_frame(b0, p));
            }
            6 => offer_eof(c, w),
            7 => {
                let queued = c.queued_messages();
                let r = c.poll_message().map(|p| match p {
                    wsmachine::Poll::Message(m) => Some((m.kind, m.close_code)),
                    _ => None,
                });
                w.after(c, "poll_message", &r, Allow::OK_AFTER_FAILURE);
                match r {
                    Ok(Some((kind, code))) => w.on_message(kind, code),
                    _ => assert_eq!(queued, 0, "poll_message gave nothing with {queued} queued"),
                }
            }
            8 => {
                let mut buf = vec![0u8; a.u8() as usize];
                let queued = c.queued_messages();
                let r = c.poll_message_into(&mut buf);
                w.after(c, "poll_message_into", &r, Allow::OK_AFTER_FAILURE);
                match r {
                    Ok(PollInto::Message {
                        kind,
                        len,
                        close_code,
                    }) => {
                        assert!(
                            len <= buf.len(),
                            "poll_message_into: {len} bytes in {}",
                            buf.len()
                        );
                        w.on_message(kind, close_code);
                    }
                    Ok(PollInto::TooSmall(need)) => {
                        assert!(
                            need > buf.len(),
                            "TooSmall({need}) for a buffer of {}",
                            buf.len()
                        );
                        assert_eq!(c.queued_messages(), queued, "TooSmall dropped the message");
                    }
                    _ => assert_eq!(
                        queued, 0,
                        "poll_message_into gave nothing with {queued} queued"
                    ),
                }
            }
            9 => {
                let mut buf = vec![0u8; a.u8() as usize + 1];
                let pending = c.pending_output();
                let r = c.read_output(&mut buf);
                w.after(c, "read_output", &r, Allow::OK_AFTER_FAILURE);
                match r {
                    Ok(n) => {
                        assert!(
                            n <= buf.len(),
                            "read_output: {n} bytes from a buffer of {}",
                            buf.len()
                        );
                        assert_eq!(n, pending.min(buf.len()), "read_output left bytes behind");
                        assert_eq!(c.pending_output(), pending - n);
                    }
                    Err(_) => assert_eq!(pending, 0, "read_output failed with bytes pending"),
                }
            }
            10 => {
                now = now.saturating_add(a.u16() as u64 * (1 + (a.u8() as u64 & 0x3f)));
                if NO_TICK_WHILE_QUEUED && c.queued_messages() > 0 {
                    continue;
                }
                let r = c.tick(now);
                w.after(c, "tick", &r, Allow::NONE);
                if c.state() == State::Failed {
                    assert_eq!(c.next_deadline(), None, "a failed client has a deadline");
                }
            }
            11 => {
                drain_output(c, w);
            }
            12 => {
                poll_all(c, w);
            }
            13 => {
                // A pause: the clock jumps, then a liveness probe with its own deadline.
                now = now.saturating_add(a.u16() as u64 * 64);
                let deadline = a.u8() as u64; // 0 is refused
                let before = c.pending_output();
                let waiting = c.is_probing();
                let earlier = c.next_deadline();
                let r = c.probe(now, deadline);
                w.after(c, "probe", &r, Allow::ARG_ERROR);
                if r.is_ok() {
                    assert!(c.pending_output() > before, "probe: Ok but no ping queued");
                    assert!(c.is_probing());
                    if waiting {
                        assert_eq!(c.next_deadline(), earlier, "probe: a waiting probe's deadline moved");
                    } else {
                        assert_eq!(
                            c.next_deadline(),
                            Some(now + deadline),
                            "probe: the deadline is not the probe's"
                        );
                    }
                }
            }
            _ => {
                let st = c.state();
                if st == State::Failed {
                    assert!(c.failure().is_some());
                    assert!(c.last_error().is_some(), "failed without a last error");
                    assert_eq!(c.next_deadline(), None);
                } else {
                    assert!(c.failure().is_none());
                }
                assert_eq!(c.http_status(), Some(101));
                let _ = (
                    c.subprotocol(),
                    c.is_resumed(),
                    c.tls_version(),
                    c.cipher_suite(),
                );
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let flags = data.first().copied().unwrap_or(0);
    let mut config = config(flags);
    if flags & 0x01 != 0 {
        config.set_timeouts(Timeouts {
            handshake_ms: 1000,
            close_ms: 500,
            keepalive_ms: 200,
            idle_ms: 1000,
        });
    }
    let (mut c, mut w) = open_plain(&config, flags);
    run(
        &mut c,
        &mut w,
        Args(data.get(1..).unwrap_or(&[])),
        flags & 0x40 != 0,
    );
    offer_eof(&mut c, &mut w);
    poll_all(&mut c, &mut w);
    drain_output(&mut c, &mut w);
    w.check_sticky(&mut c);
});
