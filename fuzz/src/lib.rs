//! Shared pieces of the wsmachine fuzz targets.
//!
//! Most targets read their input as
//!
//! ```text
//! [flags: u8] [n: u8] [size_1 .. size_n: u8] [payload ...]
//! ```
//!
//! `flags` picks a variant of the setup (limits, subprotocols, ...); `n & 7` chunk
//! sizes (each `1 + size`, so 1..=256 bytes) are used in turn to split the payload
//! into `offer_input` calls; `n & 7 == 0` offers the payload in one call. Missing
//! bytes count as 0, so every input is valid.
//!
//! [`Watch`] checks the documented invariants after every call: a fatal error leaves
//! the client `Failed` and every later call returns the same error kind; a call that
//! succeeded or failed with a caller error does not fail the client; `Closed` and
//! `Failed` are final, and `Closing` never goes back to `Open`.

use wsmachine::{
    Client, Config, DeflateConfig, Error, ErrorKind, Limits, MessageKind, Poll, PollInto, Result,
    State,
};

/// A fuzz input split into its setup flags, chunk sizes and payload.
pub struct Input<'a> {
    /// Variant bits for the setup; each target documents its own.
    pub flags: u8,
    sizes: Vec<usize>,
    /// The bytes to offer.
    pub payload: &'a [u8],
}

impl<'a> Input<'a> {
    /// Splits raw fuzz bytes into flags, chunk sizes and payload.
    pub fn parse(data: &'a [u8]) -> Input<'a> {
        let flags = data.first().copied().unwrap_or(0);
        let n = data.get(1).map_or(0, |b| (b & 7) as usize);
        let rest = data.get(2..).unwrap_or(&[]);
        let n = n.min(rest.len());
        let sizes = rest[..n].iter().map(|&b| b as usize + 1).collect();
        Input {
            flags,
            sizes,
            payload: &rest[n..],
        }
    }

    /// The payload cut into the chunks to offer, in order.
    pub fn chunks(&self) -> Vec<&'a [u8]> {
        self.split(self.payload)
    }

    /// Any byte stream cut with this input's chunk sizes.
    pub fn split<'b>(&self, bytes: &'b [u8]) -> Vec<&'b [u8]> {
        let mut out = Vec::new();
        if self.sizes.is_empty() {
            if !bytes.is_empty() {
                out.push(bytes);
            }
            return out;
        }
        let mut rest = bytes;
        let mut i = 0;
        while !rest.is_empty() {
            let n = self.sizes[i % self.sizes.len()].min(rest.len());
            out.push(&rest[..n]);
            rest = &rest[n..];
            i += 1;
        }
        out
    }
}

/// Builds the bytes of an input in the format [`Input::parse`] reads (for seeds).
pub fn encode_input(flags: u8, sizes: &[u8], payload: &[u8]) -> Vec<u8> {
    assert!(sizes.len() <= 7);
    let mut v = vec![flags, sizes.len() as u8];
    v.extend_from_slice(sizes);
    v.extend_from_slice(payload);
    v
}

/// Small limits, so that the fuzzer reaches every limit with short inputs.
pub fn small_limits() -> Limits {
    Limits {
        max_message_size: 300,
        max_frame_size: 200,
        max_header_size: 256,
        max_queued_messages: 2,
        max_queued_bytes: 600,
        max_pending_output: 512,
    }
}

/// A config for the fuzz targets. Flag bits: 0x10 small limits, 0x20 offer the
/// subprotocols "chat" and "superchat", 0x40 offer permessage-deflate (compressing
/// every message we send).
pub fn config(flags: u8) -> Config {
    let mut config = Config::new();
    if flags & 0x10 != 0 {
        config.set_limits(small_limits()).expect("valid limits");
    } else {
        // Defaults, except sizes that would let one input allocate much memory.
        let limits = Limits {
            max_message_size: 1 << 20,
            max_frame_size: 1 << 20,
            ..Limits::default()
        };
        config.set_limits(limits).expect("valid limits");
    }
    if flags & 0x20 != 0 {
        config
            .set_subprotocols(["chat", "superchat"])
            .expect("valid subprotocols");
    }
    if flags & 0x40 != 0 {
        let deflate = DeflateConfig {
            enabled: true,
            threshold: 0,
            ..DeflateConfig::default()
        };
        config.set_deflate(deflate).expect("valid deflate config");
    }
    config
}

/// The extension header a server answers with for `flags` (see [`config`]): with
/// 0x40, permessage-deflate, and with 0x80 as well, both no-context-takeover options.
pub fn extension_header(flags: u8) -> &'static str {
    match (flags & 0x40 != 0, flags & 0x80 != 0) {
        (false, _) => "",
        (true, false) => "Sec-WebSocket-Extensions: permessage-deflate\r\n",
        (true, true) => "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\n",
    }
}

/// Takes everything pending in the output, checking `read_output`'s contract.
pub fn drain_output(c: &mut Client, w: &mut Watch) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    for _ in 0..1_000_000 {
        let pending = c.pending_output();
        let r = c.read_output(&mut buf);
        w.after(c, "read_output", &r, Allow::OK_AFTER_FAILURE);
        match r {
            Ok(0) => {
                assert_eq!(
                    pending, 0,
                    "read_output gave 0 with {pending} bytes pending"
                );
                return out;
            }
            Ok(n) => {
                assert!(n <= buf.len(), "read_output returned more than the buffer");
                assert_eq!(
                    c.pending_output(),
                    pending - n,
                    "pending_output did not shrink by n"
                );
                out.extend_from_slice(&buf[..n]);
            }
            Err(_) => {
                assert_eq!(
                    pending, 0,
                    "read_output failed with {pending} bytes pending"
                );
                return out;
            }
        }
    }
    panic!("read_output never ran dry");
}

/// The `Sec-WebSocket-Accept` the server must send for the client's request.
pub fn accept_for(request: &[u8]) -> String {
    let head = String::from_utf8_lossy(request);
    let key = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case("sec-websocket-key")
                .then(|| value.trim().to_string())
        })
        .expect("the request carries Sec-WebSocket-Key");
    tungstenite::handshake::derive_accept_key(key.as_bytes())
}

/// The head of a correct 101 response up to (and including) the accept header line.
pub fn response_101_start(accept: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n"
    )
    .into_bytes()
}

/// A complete, correct 101 response for a client made with `config(flags)`.
pub fn response_101(accept: &str, flags: u8) -> Vec<u8> {
    let mut v = response_101_start(accept);
    v.extend_from_slice(extension_header(flags).as_bytes());
    v.extend_from_slice(b"\r\n");
    v
}

/// A `ws://` client whose request has been read out, its watch, and the accept key
/// the server must answer with.
pub fn new_plain(config: &Config) -> (Client, Watch, String) {
    let mut c = Client::new(config, "ws://fuzz.example/chat").expect("client");
    let mut watch = Watch::new(&c);
    let request = drain_output(&mut c, &mut watch);
    assert!(
        request.ends_with(b"\r\n\r\n"),
        "the request is one complete head"
    );
    let accept = accept_for(&request);
    (c, watch, accept)
}

/// A `ws://` client made with `config(flags)`, brought to `Open` with a correct 101.
pub fn open_plain(config: &Config, flags: u8) -> (Client, Watch) {
    let (mut c, mut w, accept) = new_plain(config);
    let r = c.offer_input(&response_101(&accept, flags));
    w.after(&c, "offer_input(101)", &r, Allow::NONE);
    assert!(r.is_ok(), "a correct 101 was refused: {r:?}");
    assert_eq!(c.state(), State::Open);
    (c, w)
}

/// Polls every message out (checking the invariants); returns how many.
pub fn poll_all(c: &mut Client, w: &mut Watch) -> usize {
    let mut n = 0;
    for _ in 0..1_000_000 {
        let queued = c.queued_messages();
        let r = c.poll_message().map(|p| match p {
            Poll::Message(m) => Some((m.kind, m.close_code)),
            Poll::NeedInput | Poll::Closed => None,
        });
        let got = matches!(r, Ok(Some(_)));
        if let Ok(Some((kind, code))) = r {
            w.on_message(kind, code);
        }
        w.after(c, "poll_message", &r, Allow::OK_AFTER_FAILURE);
        if got {
            assert!(queued > 0, "a message came out of an empty queue");
            n += 1;
        } else {
            assert_eq!(
                queued, 0,
                "poll_message stopped with {queued} messages queued"
            );
            return n;
        }
    }
    panic!("poll_message never ran dry");
}

/// Offers `chunk` until all of it is taken, polling whenever the client stops
/// taking input. Checks that every call makes progress or fails.
pub fn offer_all(c: &mut Client, w: &mut Watch, chunk: &[u8]) -> Result<()> {
    let mut off = 0;
    let mut stalls = 0;
    while off < chunk.len() {
        let r = c.offer_input(&chunk[off..]);
        w.after(c, "offer_input", &r, Allow::NONE);
        let n = r?;
        let offered = chunk.len() - off;
        assert!(n <= offered, "offer_input took {n} of {offered} bytes");
        off += n;
        if n < offered {
            // Input is refused only while the queue of undelivered messages is full.
            assert!(
                c.queued_messages() > 0,
                "offer_input took {n} of {offered} bytes with no message queued"
            );
            poll_all(c, w);
            stalls += 1;
            assert!(stalls <= chunk.len() + 1, "offer_input makes no progress");
        }
    }
    Ok(())
}

/// Delivers `chunk` through `input_window` + `commit_input` (what a caller that
/// receives straight into the library does), polling whenever the window is empty.
pub fn commit_all(c: &mut Client, w: &mut Watch, chunk: &[u8]) -> Result<()> {
    let mut off = 0;
    let mut stalls = 0;
    while off < chunk.len() {
        let r = c.input_window().map(|win| {
            let n = win.len().min(chunk.len() - off);
            win[..n].copy_from_slice(&chunk[off..off + n]);
            n
        });
        w.after(c, "input_window", &r, Allow::NONE);
        let n = r?;
        if n == 0 {
            // The window is empty only while the queue of undelivered messages is full.
            assert!(
                c.queued_messages() > 0,
                "an empty input window with no message queued"
            );
            poll_all(c, w);
            stalls += 1;
            assert!(stalls <= chunk.len() + 1, "input_window makes no progress");
            continue;
        }
        let r = c.commit_input(n);
        w.after(c, "commit_input", &r, Allow::NONE);
        r?;
        off += n;
    }
    Ok(())
}

/// Offers the end of the stream (an empty slice) and checks the outcome.
pub fn offer_eof(c: &mut Client, w: &mut Watch) {
    let before = c.state();
    let r = c.offer_input(&[]);
    w.after(c, "offer_input(EOF)", &r, Allow::NONE);
    if let Ok(n) = r {
        assert_eq!(n, 0, "EOF consumed bytes");
        // A failure deferred behind undelivered messages surfaces when they have been
        // polled; until then the client may still look open.
        assert!(
            !matches!(
                c.state(),
                State::Open | State::WsHandshaking | State::TlsHandshaking
            ) || c.queued_messages() > 0,
            "still {:?} after EOF (was {before:?})",
            c.state()
        );
    }
}

/// What a call may do once the client has failed, besides returning the failure.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Allow(u8);

impl Allow {
    /// Nothing: the call must return the failure.
    pub const NONE: Allow = Allow(0);
    /// `Ok` is fine too (pending output and queued messages still come out).
    pub const OK_AFTER_FAILURE: Allow = Allow(1);
    /// A caller error (`InvalidArgument`) checked before the state is fine too.
    pub const ARG_ERROR: Allow = Allow(2);

    fn has(self, other: Allow) -> bool {
        self.0 & other.0 != 0
    }
}

impl std::ops::BitOr for Allow {
    type Output = Allow;
    fn bitor(self, o: Allow) -> Allow {
        Allow(self.0 | o.0)
    }
}

/// The memory bounds of docs/SECURITY.md ("Memory bounds"), after every operation:
/// the pending output stays within `max_pending_output` plus what a failure or a close
/// reply adds, the output's allocation within that or one handshake flight, and after
/// `offer_input` on `ws://` the undelivered messages within their count and byte
/// bounds, or no more than before the call (a TLS record or a committed window is
/// decoded whole, so those may add the messages of one record or window; a later
/// `offer_input` then takes nothing until they are polled). `before` is the
/// (count, bytes) queued before the call.
pub fn check_memory_bounds(c: &Client, what: &str, before: (usize, usize)) {
    /// `OUTPUT_SLACK` in src/session.rs.
    const SLACK: usize = 1 << 10;
    let l = c.limits();
    if matches!(c.state(), State::Open | State::Closing | State::Closed) {
        assert!(
            c.pending_output() <= l.max_pending_output + SLACK,
            "{what}: {} bytes pending with a limit of {}",
            c.pending_output(),
            l.max_pending_output
        );
    }
    let cap_bound = (l.max_pending_output + SLACK).max(16 << 10);
    assert!(
        c.output_capacity() <= cap_bound,
        "{what}: output allocation of {} bytes (bound {cap_bound})",
        c.output_capacity()
    );
    if what == "offer_input" && c.tls_version().is_none() {
        assert!(
            c.queued_messages() <= l.max_queued_messages.max(before.0),
            "{what}: {} messages queued with a limit of {}",
            c.queued_messages(),
            l.max_queued_messages
        );
        assert!(
            c.queued_bytes() <= (l.max_queued_bytes + l.max_message_size).max(before.1),
            "{what}: {} bytes queued with a limit of {} (+ one message of {})",
            c.queued_bytes(),
            l.max_queued_bytes,
            l.max_message_size
        );
    }
}

/// Checks the state machine's invariants across calls.
pub struct Watch {
    failed: Option<ErrorKind>,
    last: State,
    close_polled: bool,
    /// (count, bytes) of undelivered messages after the last call.
    queued: (usize, usize),
}

impl Watch {
    /// Starts watching `c`.
    pub fn new(c: &Client) -> Watch {
        Watch {
            failed: None,
            last: c.state(),
            close_polled: false,
            queued: (c.queued_messages(), c.queued_bytes()),
        }
    }

    /// Checks a message that was polled: close codes only on closes, and nothing
    /// after the close message.
    pub fn on_message(&mut self, kind: MessageKind, close_code: u16) {
        assert!(
            !self.close_polled,
            "a {kind:?} message came after the close message"
        );
        if kind == MessageKind::Close {
            assert!(close_code >= 1000, "a close message with code {close_code}");
            self.close_polled = true;
        } else {
            assert_eq!(
                close_code, 0,
                "close code {close_code} on a {kind:?} message"
            );
        }
    }

    /// The sticky failure seen so far.
    pub fn failure(&self) -> Option<ErrorKind> {
        self.failed
    }

    /// Checks the client after a call named `what` returned `r`.
    pub fn after<T: std::fmt::Debug>(
        &mut self,
        c: &Client,
        what: &str,
        r: &Result<T>,
        allow: Allow,
    ) {
        check_memory_bounds(c, what, self.queued);
        self.queued = (c.queued_messages(), c.queued_bytes());
        let st = c.state();
        let before = self.last;
        if let Some(kind) = self.failed {
            assert_eq!(
                st,
                State::Failed,
                "{what}: the client left Failed ({before:?} -> {st:?})"
            );
            match r {
                Err(e) if e.kind() == kind => {}
                Err(e) if e.kind() == ErrorKind::InvalidArgument && allow.has(Allow::ARG_ERROR) => {
                }
                Err(e) => panic!(
                    "{what}: failed with {kind:?}, later returned {:?}: {e}",
                    e.kind()
                ),
                Ok(_) if allow.has(Allow::OK_AFTER_FAILURE) => {}
                Ok(v) => panic!("{what}: failed with {kind:?}, later returned Ok({v:?})"),
            }
        } else {
            match r {
                Err(e) if e.is_fatal() => {
                    assert_eq!(st, State::Failed, "{what}: fatal {e:?} but state {st:?}");
                    assert_eq!(
                        c.failure().map(Error::kind),
                        Some(e.kind()),
                        "{what}: failure() differs"
                    );
                    self.failed = Some(e.kind());
                }
                Err(e) => {
                    assert_eq!(st, before, "{what}: caller error {e:?} changed the state");
                }
                Ok(_) => {
                    assert_ne!(
                        st,
                        State::Failed,
                        "{what}: returned Ok but the client failed: {:?}",
                        c.failure()
                    );
                }
            }
        }
        // The order of states: nothing comes back from Closed, Failed, or to Open from Closing.
        match (before, st) {
            (State::Closed, s) => assert_eq!(s, State::Closed, "{what}: left Closed for {s:?}"),
            (State::Failed, s) => assert_eq!(s, State::Failed, "{what}: left Failed for {s:?}"),
            (State::Closing, s) => assert!(
                matches!(s, State::Closing | State::Closed | State::Failed),
                "{what}: Closing -> {s:?}"
            ),
            (State::Open, s) => assert!(
                !matches!(
                    s,
                    State::WsHandshaking | State::TlsHandshaking | State::Verifying
                ),
                "{what}: Open -> {s:?}"
            ),
            (State::WsHandshaking, s) => assert!(
                !matches!(s, State::TlsHandshaking | State::Verifying),
                "{what}: back to TLS ({s:?})"
            ),
            (State::Verifying, s) => {
                assert_ne!(s, State::TlsHandshaking, "{what}: back to TLS")
            }
            (State::TlsHandshaking, _) => {}
        }
        self.last = st;
    }

    /// After a failure, checks that every verb returns the same error.
    pub fn check_sticky(&mut self, c: &mut Client) {
        let Some(kind) = self.failed else { return };
        let r = c.offer_input(b"\x81\x00");
        self.after(c, "offer_input after failure", &r, Allow::NONE);
        let r = c.send_text(b"x");
        self.after(c, "send_text after failure", &r, Allow::NONE);
        let r = c.send_binary(b"");
        self.after(c, "send_binary after failure", &r, Allow::NONE);
        let r = c.send_ping(b"");
        self.after(c, "send_ping after failure", &r, Allow::NONE);
        let r = c.close(1000, b"");
        self.after(c, "close after failure", &r, Allow::NONE);
        let r = c.tick(u64::MAX / 2);
        self.after(c, "tick after failure", &r, Allow::NONE);
        let r = c.offer_input(&[]);
        self.after(c, "EOF after failure", &r, Allow::NONE);
        poll_all(c, self);
        let mut buf = [0u8; 16];
        let r = c
            .poll_message_into(&mut buf)
            .map(|p| matches!(p, PollInto::TooSmall(_)));
        // A message bigger than 16 bytes may still wait; then TooSmall is fine.
        self.after(
            c,
            "poll_message_into after failure",
            &r,
            Allow::OK_AFTER_FAILURE,
        );
        drain_output(c, self);
        let r = c.read_output(&mut buf);
        self.after(c, "read_output after failure", &r, Allow::NONE);
        assert_eq!(c.next_deadline(), None, "a failed client has a deadline");
        assert_eq!(self.failed, Some(kind));
    }
}
