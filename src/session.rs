//! The session: one WebSocket client connection as a sans-IO state machine.
//!
//! A [`Client`] ties the layers together: TLS (rustls, only for `wss://`), the HTTP
//! upgrade (`handshake`), and frames and messages (`frame`). The caller owns the
//! socket and the clock and drives the client with four verbs:
//!
//! 1. [`Client::offer_input`]: bytes received from the socket (empty = the peer closed).
//! 2. [`Client::poll_message`]: decoded messages, until [`Poll::NeedInput`].
//! 3. [`Client::read_output`]: bytes to write to the socket, until it returns 0.
//! 4. [`Client::tick`]: the current time, for keepalive and timeouts.
//!
//! Sends ([`Client::send_text`], ...) only queue frames; their bytes leave through
//! `read_output`, like pongs, close replies and TLS records.

use std::collections::VecDeque;

use crate::bytes;
use crate::config::{Config, ExternalVerification, Settings, TlsVersion};
use crate::deflate::{DeflateParams, Deflater};
use crate::error::{err, Error, ErrorKind, LastError, Result};
use crate::frame::{self, Decoder, Incoming, MessageKind, SendKind};
use crate::handshake::{self, Progress, ResponseReader};
use crate::proxy::Tunnel;
use crate::timers::{Due, Running, Timers};
use crate::transport::{Input, MaskSource, Output, Window};

mod ending;
mod tls_io;

use tls_io::{Step, TlsIo};

/// The connection state as the caller sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// The TLS handshake is in progress (`wss://` only).
    TlsHandshaking,
    /// The TLS handshake is done and the server's chain waits for the caller's verdict
    /// ([`Client::set_verdict`]; external verification only). Nothing of the
    /// application has been sent.
    Verifying,
    /// The HTTP upgrade request is sent or about to be; waiting for the 101.
    WsHandshaking,
    /// Messages flow both ways.
    Open,
    /// A close frame was sent or received, or the final bytes still wait in the output.
    Closing,
    /// The connection ended and everything to send has been read out.
    Closed,
    /// The connection failed; see [`Client::last_error`].
    Failed,
}

/// A message borrowed from the client until the next `poll_message` (or drop).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    /// What it is.
    pub kind: MessageKind,
    /// The payload; for a close, the reason.
    pub data: &'a [u8],
    /// For a close: the code (1005 when the frame carried none, 1006 when the
    /// connection dropped without a close frame); 0 otherwise.
    pub close_code: u16,
}

/// The outcome of [`Client::poll_message`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Poll<'a> {
    /// The next message.
    Message(Message<'a>),
    /// Nothing is ready; offer more input.
    NeedInput,
    /// The connection ended and every message has been polled; the last was a
    /// [`MessageKind::Close`] (code 1006 when it ended without a close handshake).
    /// Nothing is delivered after a close message.
    Closed,
}

/// The outcome of [`Client::poll_message_into`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollInto {
    /// A message of `len` bytes was copied to the front of the buffer.
    Message {
        /// What it is.
        kind: MessageKind,
        /// Bytes copied.
        len: usize,
        /// For a close: the code; 0 otherwise.
        close_code: u16,
    },
    /// The next message needs a buffer of this many bytes; it stays queued.
    TooSmall(usize),
    /// Nothing is ready.
    NeedInput,
    /// The connection ended and every message has been polled (see [`Poll::Closed`]).
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    TlsHandshaking,
    Verifying,
    WsHandshaking,
    Open,
    /// The close handshake completed, or the connection ended.
    Done,
}

/// Pings whose pongs may wait at once; past it the oldest is dropped.
const MAX_PENDING_PONGS: usize = 16;
/// Largest slice decoded between checks of the undelivered-message bound.
const DECODE_CHUNK: usize = 16 << 10;
/// Plaintext per write to rustls: one full TLS record.
const TLS_CHUNK: usize = 16 << 10;
/// Upper bound of a TLS record's overhead (TLS 1.2 AES-GCM: header, nonce, tag).
const TLS_RECORD_OVERHEAD: usize = 29;
/// Smallest payload remainder worth a direct window; less goes through the stage.
const DIRECT_MIN: u64 = 4 << 10;
/// Largest direct window, so that a frame's announced length commits no more memory
/// than the bytes that really arrive plus this.
const DIRECT_MAX: usize = 1 << 20;
/// What may wait in the output beyond `max_pending_output`: the close frame and TLS
/// alert or close_notify a failure adds, whatever is pending. Also the headroom of the
/// output's allocation over the limit.
pub(crate) const OUTPUT_SLACK: usize = 1 << 10;
/// Capacity each retained buffer is trimmed to when the connection is idle.
const TRIM_TO: usize = 4 << 10;

/// One WebSocket client connection. See the [module docs](self).
#[derive(Debug)]
pub struct Client {
    settings: Settings,
    tls: Option<Box<TlsIo>>,
    phase: Phase,
    response: Option<ResponseReader>,
    decoder: Decoder,
    queue: VecDeque<Incoming>,
    current: Option<Incoming>,
    /// Payloads of pings not answered yet, oldest first, at most [`MAX_PENDING_PONGS`]:
    /// past that the oldest is dropped (RFC 6455 5.5.3: only the latest needs a pong),
    /// so a ping flood holds at most that many payloads of at most 125 bytes. They
    /// wait while the output is at its limit.
    pongs: VecDeque<Vec<u8>>,
    /// Payload bytes of the messages in `queue`.
    queued_bytes: usize,
    out: Output,
    scratch: Vec<u8>,
    masks: MaskSource,
    close_sent: bool,
    close_received: bool,
    failure: Option<Error>,
    last_error: LastError,
    http_status: Option<u16>,
    subprotocol: Option<String>,
    rx_bytes: u64,
    timers: Timers,
    /// A protocol error found behind undelivered messages; applied once they are polled.
    pending_failure: Option<Error>,
    /// Bytes handed out by `read_output`, for the idle trim.
    tx_bytes: u64,
    /// permessage-deflate as negotiated, and our compressor.
    deflate: Option<DeflateParams>,
    deflater: Option<Deflater>,
    /// Compressed payload of the message being sent.
    zbuf: Vec<u8>,
    /// The staging buffer `input_window` lends when no direct window fits, and the
    /// window lent last, until it is committed.
    input: Input,
    /// `commit_input` is processing a window: the bound on undelivered messages was
    /// checked when the window was lent.
    committing: bool,
    /// The tunnel through a proxy: socket bytes go through it first, and output
    /// through it last. `None` without a proxy.
    tunnel: Option<Box<Tunnel>>,
    /// Where the caller's socket connects: the proxy, or the URL's host and port.
    connect: (String, u16),
    /// The upgrade request, held until TLS is established (and, with external
    /// verification, until the chain is accepted).
    request: Option<Vec<u8>>,
    /// The verdict of this connection (external verification only).
    gate: Option<std::sync::Arc<crate::verdict::Gate>>,
    /// The server's chain, copied once asked for (it then lives as long as the client).
    peer_chain: Option<Vec<rustls::pki_types::CertificateDer<'static>>>,
}

impl Client {
    /// Creates a client for `url` (`ws://` or `wss://host[:port]/path?query`). The
    /// TLS ClientHello (for `wss://`) or the upgrade request (for `ws://`) is ready in
    /// the output right away.
    pub fn new(config: &Config, url: &str) -> Result<Client> {
        let settings = config.settings.clone();
        let out_limit = settings
            .limits
            .max_pending_output
            .saturating_add(OUTPUT_SLACK);
        let target = handshake::prepare(url, &settings)?;
        let mut client = Client {
            response: Some(ResponseReader::new(target.accept.clone(), &settings)),
            decoder: Decoder::new(&settings.limits),
            settings,
            tls: None,
            phase: Phase::WsHandshaking,
            queue: VecDeque::new(),
            current: None,
            pongs: VecDeque::new(),
            queued_bytes: 0,
            out: Output::new(out_limit),
            scratch: Vec::new(),
            masks: MaskSource::default(),
            close_sent: false,
            close_received: false,
            failure: None,
            last_error: LastError::default(),
            http_status: None,
            subprotocol: None,
            rx_bytes: 0,
            timers: Timers::default(),
            pending_failure: None,
            tx_bytes: 0,
            deflate: None,
            deflater: None,
            zbuf: Vec::new(),
            input: Input::default(),
            committing: false,
            tunnel: None,
            connect: (target.host.clone(), target.port),
            request: None,
            gate: None,
            peer_chain: None,
        };
        if client.settings.proxy.url.is_some() {
            let proxy = &client.settings.proxy;
            let proxy_tls = match proxy.url.as_ref().map(|u| u.kind()) {
                Some(crate::proxy::ProxyKind::Https) => {
                    Some(crate::tls::proxy_client_config(config)?)
                }
                _ => None,
            };
            let t = Tunnel::new(
                proxy,
                &target.host,
                target.port,
                proxy_tls,
                client.settings.limits.max_header_size,
            )?;
            let (host, port) = t.address();
            client.connect = (host.to_string(), port);
            client.tunnel = Some(Box::new(t));
        }
        if target.tls {
            let name = client.settings.server_name.clone().unwrap_or(target.host);
            let server_name =
                rustls::pki_types::ServerName::try_from(name.clone()).map_err(|_| {
                    Error::new(
                        ErrorKind::InvalidUrl,
                        format!("invalid TLS server name {name:?}"),
                    )
                })?;
            if client.settings.external != ExternalVerification::Off && config.client_auth.is_some()
            {
                return err(
                    ErrorKind::InvalidConfig,
                    "external verification cannot be combined with a client certificate: TLS sends the certificate before any verdict, so it would already have gone to an unverified server",
                );
            }
            let gate = crate::verdict::gate(config, &server_name);
            let tls = TlsIo::new(crate::tls::client_config(config)?, server_name)?;
            // The request waits until TLS is established (see `on_tls_established`).
            client.request = Some(target.request);
            client.gate = gate;
            client.tls = Some(Box::new(tls));
            client.phase = Phase::TlsHandshaking;
            // The ClientHello.
            client.process_tls()?;
        } else {
            client.out.extend(&target.request);
        }
        Ok(client)
    }

    // ----- state -------------------------------------------------------------------

    /// The current state.
    pub fn state(&self) -> State {
        if self.failure.is_some() {
            return State::Failed;
        }
        match self.phase {
            Phase::TlsHandshaking => State::TlsHandshaking,
            Phase::Verifying => State::Verifying,
            Phase::WsHandshaking => State::WsHandshaking,
            Phase::Open if self.close_sent || self.close_received => State::Closing,
            Phase::Open => State::Open,
            Phase::Done if self.pending_output() > 0 => State::Closing,
            Phase::Done => State::Closed,
        }
    }

    /// The failure, if the connection failed.
    pub fn failure(&self) -> Option<&Error> {
        self.failure.as_ref()
    }

    /// The last error in words: the failure if the connection failed, else the newer
    /// of why the connection ended uncleanly and the last call refused with an error
    /// that was passed to [`Client::note_rejected`].
    pub fn last_error(&self) -> Option<&str> {
        match &self.failure {
            Some(e) => Some(e.message()),
            None => self.last_error.newest(),
        }
    }

    /// Records that a call on this client was refused with `e`, so that
    /// [`Client::last_error`] can report it until something newer happens. Rust
    /// callers have the error in hand; the C ABI records every refused call.
    pub fn note_rejected(&mut self, e: &Error) {
        self.last_error.rejected(e.message());
    }

    /// The HTTP status of the upgrade response, once it has been received; or the
    /// proxy's status when it refused the tunnel (407, 403, ...).
    pub fn http_status(&self) -> Option<u16> {
        self.http_status
    }

    /// Where the caller's socket must connect: the proxy's host and port when the
    /// config has a proxy, the URL's (default port 443 or 80) otherwise. The host is a
    /// name or an IP address without brackets.
    pub fn connect_address(&self) -> (&str, u16) {
        (&self.connect.0, self.connect.1)
    }

    /// The `Proxy-Authenticate` challenges of a proxy's 407 answer, in order
    /// (for example `Basic realm="corp"`, `NTLM`); empty otherwise.
    pub fn proxy_challenges(&self) -> &[String] {
        self.tunnel.as_ref().map_or(&[], |t| t.challenges())
    }

    /// The subprotocol the server selected.
    pub fn subprotocol(&self) -> Option<&str> {
        self.subprotocol.as_deref()
    }

    /// Whether the TLS session was resumed from an earlier connection made with the
    /// same config.
    pub fn is_resumed(&self) -> bool {
        self.tls
            .as_ref()
            .and_then(|c| c.state().handshake_kind())
            .is_some_and(|k| k == rustls::HandshakeKind::Resumed)
    }

    /// Whether certificate verification is off for this client (its config used
    /// `Config::dangerous_disable_certificate_verification`).
    pub fn is_insecure(&self) -> bool {
        self.settings.insecure
    }

    /// The negotiated TLS version, once the TLS handshake completed (`None` for `ws://`).
    pub fn tls_version(&self) -> Option<TlsVersion> {
        match self.tls.as_ref()?.state().protocol_version()? {
            rustls::ProtocolVersion::TLSv1_3 => Some(TlsVersion::Tls13),
            rustls::ProtocolVersion::TLSv1_2 => Some(TlsVersion::Tls12),
            // rustls speaks no other version.
            _ => None,
        }
    }

    /// The negotiated cipher suite, once known.
    pub fn cipher_suite(&self) -> Option<String> {
        self.tls
            .as_ref()?
            .state()
            .negotiated_cipher_suite()
            .map(|s| format!("{:?}", s.suite()))
    }

    /// permessage-deflate as negotiated with the server, if it was.
    pub fn deflate(&self) -> Option<DeflateParams> {
        self.deflate
    }

    /// Releases memory held for large messages: buffers keep the size of the largest
    /// message so that a stream of large messages does not allocate per message, and
    /// this shrinks them back (to 4 KiB each; the TLS input buffer is freed). `tick`
    /// calls it after a second without traffic (sparing a window `input_window` lent);
    /// call it directly after a burst. Called directly, it also closes that window.
    pub fn trim(&mut self) {
        self.trim_buffers(false);
    }

    fn trim_buffers(&mut self, keep_window: bool) {
        // Scratch buffers: their contents are dead between calls.
        fn shrink(v: &mut Vec<u8>) {
            v.clear();
            if v.capacity() > TRIM_TO {
                *v = Vec::new();
            }
        }
        self.out.trim(TRIM_TO);
        if let Some(t) = self.tunnel.as_mut() {
            t.trim(TRIM_TO);
        }
        shrink(&mut self.scratch);
        shrink(&mut self.zbuf);
        // A window lent from the TLS input buffer keeps that buffer.
        let tls_lent = keep_window && matches!(self.input.lent(), Some(Window::Tls(_)));
        self.input.trim(keep_window);
        // A direct window lies inside a message in progress, which `trim` keeps.
        self.decoder.trim(TRIM_TO);
        self.queue.shrink_to_fit();
        if let Some(tls) = self.tls.as_mut().filter(|_| !tls_lent) {
            tls.trim();
        }
        self.timers.note_trimmed();
    }

    /// Bytes of buffer capacity the engine itself retains (the TLS input buffer
    /// included, rustls's own state not), for tests and benchmarks of the retention
    /// policy.
    #[doc(hidden)]
    pub fn retained_capacity(&self) -> usize {
        self.out.capacity()
            + self.tunnel.as_ref().map_or(0, |t| t.capacity())
            + self.scratch.capacity()
            + self.zbuf.capacity()
            + self.input.capacity()
            + self.decoder.retained_capacity()
            + self.tls.as_ref().map_or(0, |t| t.capacity())
    }

    /// Capacity of the output buffer, for the fuzz targets' memory invariants.
    #[doc(hidden)]
    pub fn output_capacity(&self) -> usize {
        self.out.capacity()
    }

    /// The limits this client was made with.
    pub fn limits(&self) -> &crate::config::Limits {
        &self.settings.limits
    }

    /// TLS sessions the server handed out that wait for the verdict (external
    /// verification), for tests of their bound.
    #[doc(hidden)]
    pub fn held_sessions(&self) -> usize {
        self.gate.as_ref().map_or(0, |g| g.held())
    }

    /// Undelivered messages waiting for `poll_message`.
    pub fn queued_messages(&self) -> usize {
        self.queue.len()
    }

    /// Payload bytes of the undelivered messages waiting for `poll_message`.
    pub fn queued_bytes(&self) -> usize {
        self.queued_bytes
    }

    // ----- input -------------------------------------------------------------------

    /// Offers bytes received from the socket; an empty slice means the peer closed its
    /// end. Returns how many bytes were taken: all of them, unless the bound on
    /// undelivered messages was reached (poll messages, then offer the rest).
    ///
    /// After the connection ended, input is taken and discarded. After a failure,
    /// every call returns that failure. Input that lies in the client's own memory
    /// (the window `input_window` lent, the message being assembled, the pending
    /// output; only possible through the C ABI) is refused with
    /// [`ErrorKind::InvalidArgument`] before anything is read, and the connection
    /// carries on.
    pub fn offer_input(&mut self, data: &[u8]) -> Result<usize> {
        if let Some(e) = &self.failure {
            return Err(e.clone());
        }
        if !self.committing {
            if self.is_own_memory(data) {
                return err(
                    ErrorKind::InvalidArgument,
                    "the input lies in the client's own memory (the input window, a message \
                     buffer or the pending output): copy it out first, or commit the window \
                     with commit_input",
                );
            }
            self.input.close();
        }
        self.feed(data)
    }

    /// `offer_input` after its checks of the caller's memory (a commit skips them: its
    /// bytes are the library's own window).
    #[inline(always)]
    fn feed(&mut self, data: &[u8]) -> Result<usize> {
        if self.phase == Phase::Done {
            return Ok(data.len());
        }
        if self.pending_failure.is_some() {
            self.surface_pending_failure()?;
            return Ok(data.len());
        }
        if data.is_empty() {
            self.on_eof();
            return match &self.failure {
                Some(e) => Err(e.clone()),
                None => Ok(0),
            };
        }
        let result = match self.tunnel.as_ref() {
            Some(t) if !t.is_transparent() => self.input_tunnel(data),
            _ => self.input_inner(data),
        };
        self.after_input(result, data.len())
    }

    /// Input for the TLS and WebSocket layers (after the tunnel, if any).
    #[inline(always)]
    fn input_inner(&mut self, data: &[u8]) -> Result<usize> {
        if self.tls.is_some() {
            self.input_tls(data)
        } else {
            self.input_plain(data)
        }
    }

    /// Socket input through the proxy tunnel: its answer, then the server's bytes.
    fn input_tunnel(&mut self, data: &[u8]) -> Result<usize> {
        let mut t = self.tunnel.take().expect("tunnel");
        let committing = self.committing;
        let l = &self.settings.limits;
        let (max_count, max_bytes) = (l.max_queued_messages, l.max_queued_bytes);
        let result = {
            let this = &mut *self;
            // The bounds on undelivered messages are checked between the proxy's TLS
            // records (`more`); what one record holds is decoded whole.
            let queued = std::cell::Cell::new((this.queue.len(), this.queued_bytes));
            let mut more = || {
                let (count, bytes) = queued.get();
                committing || (count < max_count && bytes < max_bytes)
            };
            t.input(data, &mut more, &mut |b| {
                this.committing = true;
                let r = this.input_inner(b);
                this.committing = committing;
                queued.set((this.queue.len(), this.queued_bytes));
                r
            })
        };
        self.http_status = t.status().or(self.http_status);
        self.tunnel = Some(t);
        let fed = result?;
        if fed.eof {
            self.on_eof();
        }
        Ok(fed.used)
    }

    /// Sends automatic replies and applies the outcome of processing `offered` bytes.
    fn after_input(&mut self, result: Result<usize>, offered: usize) -> Result<usize> {
        self.send_pongs();
        match result {
            // Something during processing failed the connection (close_notify during
            // the handshake, for example): this call reports it.
            Ok(_) if self.failure.is_some() => Err(self.failure.clone().expect("checked")),
            Ok(n) => {
                self.rx_bytes += n as u64;
                Ok(n)
            }
            // A bad frame behind undelivered messages fails the connection in stream
            // order: the messages are polled (and may be answered) first, then the
            // failure surfaces from poll_message. The rest of the input is garbage.
            Err(e) if self.can_defer(&e) => {
                self.rx_bytes += offered as u64;
                self.pending_failure = Some(e);
                Ok(offered)
            }
            Err(e) => Err(self.fail(e)),
        }
    }

    /// Whether `data` overlaps a buffer this client may write or move while it reads
    /// the input: decoding into it would read memory it is rewriting or freeing.
    fn is_own_memory(&self, data: &[u8]) -> bool {
        if data.is_empty() {
            return false;
        }
        let start = data.as_ptr() as usize;
        let range = start..start + data.len();
        self.input.overlaps(&range)
            || self.out.overlaps(&range)
            || self.decoder.overlaps(&range)
            || self.tls.as_ref().is_some_and(|t| t.overlaps(&range))
    }

    fn queue_full(&self) -> bool {
        !self.committing && self.queue_at_bound()
    }

    /// The undelivered messages reached one of their bounds (count or bytes).
    fn queue_at_bound(&self) -> bool {
        let l = &self.settings.limits;
        self.queue.len() >= l.max_queued_messages || self.queued_bytes >= l.max_queued_bytes
    }

    /// Lends memory to receive socket bytes into, saving the copy `offer_input`
    /// makes; pass the count received to [`Client::commit_input`]. While a plain `ws://`
    /// connection is inside a large frame's payload the window is the message buffer
    /// itself (the bytes are never copied again); on `wss://` it is the TLS input
    /// buffer (records are decrypted where they were received), 2 KiB at first and
    /// one whole record once a commit fills it; otherwise it is a staging buffer of
    /// 2 KiB, which grows to 16 KiB once a commit fills it. Both shrink back when idle.
    /// The window stays valid until `commit_input`, `offer_input`, the next
    /// `input_window`, `trim` or drop; no other call moves it (the idle trim in `tick`
    /// leaves a lent window alone). If the connection ends while it is lent, the
    /// commit discards its bytes.
    ///
    /// The window is empty while the undelivered messages are at a bound
    /// (`max_queued_messages` or `max_queued_bytes`): poll first. After a failure,
    /// returns it.
    #[inline]
    pub fn input_window(&mut self) -> Result<&mut [u8]> {
        self.input.close();
        if let Some(e) = &self.failure {
            return Err(e.clone());
        }
        self.lend_window()
    }

    /// [`Client::input_window`] once no window is lent and the client has not failed.
    #[inline]
    fn lend_window(&mut self) -> Result<&mut [u8]> {
        if self.queue_full() && self.phase != Phase::Done {
            return Ok(&mut []);
        }
        // The decoder's test first: between frames (small messages) it is the only one.
        let direct = self
            .decoder
            .direct_remaining()
            .is_some_and(|r| r >= DIRECT_MIN)
            && self.tls.is_none()
            && self.tunnel.as_ref().is_none_or(|t| t.is_transparent())
            && self.phase == Phase::Open
            && !self.close_received
            && self.pending_failure.is_none();
        if direct {
            let window = self.decoder.direct_window(DIRECT_MAX).expect("checked");
            self.input.lend_direct(window.len());
            return Ok(window);
        }
        // `wss://`: the TLS input buffer itself, unless a proxy's answer (or its TLS)
        // comes first or nothing more is read.
        if self.phase != Phase::Done
            && self.pending_failure.is_none()
            && self.tunnel.as_ref().is_none_or(|t| t.is_transparent())
        {
            if let Some(tls) = self.tls.as_mut().filter(|t| !t.peer_closed()) {
                let window = tls.window();
                self.input.lend_tls(window.len());
                return Ok(window);
            }
        }
        Ok(self.input.lend_stage())
    }

    /// Processes the first `n` bytes of the window [`Client::input_window`] lent, as
    /// [`Client::offer_input`] would, taking all of them. `n == 0` does nothing (the
    /// end of the stream is `offer_input(&[])`).
    #[inline]
    pub fn commit_input(&mut self, n: usize) -> Result<()> {
        if let Some(e) = &self.failure {
            return Err(e.clone());
        }
        let Some(window) = self.input.take_lent() else {
            return err(
                ErrorKind::InvalidState,
                "no input window is open (call input_window first)",
            );
        };
        let cap = window.len();
        // One comparison for both `n == 0` and `n > cap` on the way through.
        if n.wrapping_sub(1) >= cap {
            if n == 0 {
                return Ok(());
            }
            return err(
                ErrorKind::InvalidArgument,
                format!("{n} bytes committed to a window of {cap}"),
            );
        }
        self.committing = true;
        let result = match window {
            Window::Stage(_) => {
                let staged = self.input.staged(n, cap);
                // What `offer_input` does, minus the checks already made here. The
                // bytes are read in place rather than moved out and back (about 20
                // instructions per read, see BENCHMARKS.md, issue 18).
                // SAFETY: `staged` is the first `n` bytes of the staging buffer's heap
                // allocation (`n <= cap`, checked above, and `cap` is the buffer's
                // length: `Input::staged` says why).
                // Only `Input`'s own methods write, grow or free that allocation, and
                // only `offer_input`, `input_window`, the commits and the trims call
                // them; `feed` reaches none of those (it takes its bytes as a slice
                // and never touches `self.input`). So the bytes stay in place and
                // unchanged while `feed` reads them, and the reference ends with it.
                let taken = self.feed(unsafe { &*staged });
                debug_assert!(std::ptr::eq(staged, self.input.staged(n, cap)));
                if n == cap {
                    self.input.filled();
                }
                taken.map(|_| ())
            }
            Window::Tls(_) => {
                self.tls.as_mut().expect("a TLS window").commit(n);
                let result = self.commit_tls().map(|()| n);
                self.after_input(result, n).map(|_| ())
            }
            // The connection ended (or the peer's close came) while the window was
            // lent: its bytes are discarded, as `offer_input` discards late input, so
            // nothing is delivered after the close message.
            Window::Direct(_) if self.phase == Phase::Done || self.close_received => Ok(()),
            Window::Direct(_) => {
                let result = self.commit_direct(n).map(|()| n);
                self.after_input(result, n).map(|_| ())
            }
        };
        self.committing = false;
        result
    }

    /// [`Client::commit_input`], then [`Client::input_window`]: processes `n` bytes of
    /// the lent window and lends the next one, so a caller that keeps a window lent
    /// between reads crosses into the library once per read (as with `offer_input`),
    /// without its copy. If the commit fails, no window is lent.
    pub fn commit_and_window(&mut self, n: usize) -> Result<&mut [u8]> {
        self.commit_input(n)?;
        // A commit that succeeded leaves no window lent and the client not failed
        // (`after_input` turns a failure during processing into an error).
        debug_assert!(!self.input.is_lent() && self.failure.is_none());
        self.lend_window()
    }

    fn commit_direct(&mut self, n: usize) -> Result<()> {
        let queue = &mut self.queue;
        let queued_bytes = &mut self.queued_bytes;
        self.decoder.commit_direct(n, &mut |ev| {
            // Only data frames are received directly: never a ping or close.
            *queued_bytes += ev.data.len();
            queue.push_back(ev);
            true
        })
    }

    #[inline(always)]
    fn input_plain(&mut self, data: &[u8]) -> Result<usize> {
        let mut used = 0;
        while used < data.len() && !self.queue_full() {
            if self.phase == Phase::Done {
                return Ok(data.len());
            }
            let end = data.len().min(used + DECODE_CHUNK);
            used += self.on_plaintext(&data[used..end])?;
        }
        Ok(used)
    }

    /// Socket bytes for TLS, copied into its input buffer as they fit and processed
    /// (the copying path; a window lent from that buffer saves the copy).
    fn input_tls(&mut self, data: &[u8]) -> Result<usize> {
        let mut used = 0;
        while used < data.len() && !self.queue_full() {
            if self.phase == Phase::Done {
                return Ok(data.len());
            }
            let tls = self.tls.as_mut().expect("tls");
            if tls.peer_closed() {
                // rustls reads nothing after the server's close_notify: discard it.
                return Ok(data.len());
            }
            used += tls.offer(&data[used..]);
            self.process_tls()?;
        }
        Ok(used)
    }

    /// A commit of the TLS window: `feed`'s checks, then the records. After the end,
    /// or behind a protocol error, the bytes still go through rustls (every complete
    /// record must, before it can encrypt again) and their data is dropped, as
    /// `feed` drops late input.
    fn commit_tls(&mut self) -> Result<()> {
        if self.phase == Phase::Done || self.pending_failure.is_some() {
            // A TLS error in input nobody reads any more changes nothing.
            let _ = self.run_tls(true);
            return self.surface_pending_failure();
        }
        self.run_tls(false)
    }

    /// Runs TLS over its waiting input (see [`Client::run_tls`]).
    fn process_tls(&mut self) -> Result<()> {
        self.run_tls(false)
    }

    /// Runs TLS over its waiting input until every complete record is processed:
    /// handshake records go to the output, application data to `on_plaintext` (or
    /// nowhere, when `discard`). Only then may rustls encrypt again (tls_io's rule),
    /// so the upgrade request the handshake's end calls for, and the close_notify the
    /// server's calls for, are sent after the loop. If `on_plaintext` fails, the rest
    /// of the input is garbage: it still goes through rustls, its data dropped, and
    /// that failure is returned.
    fn run_tls(&mut self, mut discard: bool) -> Result<()> {
        let mut established = false;
        let mut peer_closed = false;
        let mut refused: Option<Error> = None;
        let result = loop {
            let Some(mut tls) = self.tls.take() else {
                break Ok(());
            };
            let gate = self.gate.take();
            let mut plain_failed = false;
            let step = crate::verdict::scope(gate.as_ref(), || {
                tls.step(&mut |p| {
                    if discard {
                        return Ok(p.len());
                    }
                    let r = self.on_plaintext(p);
                    plain_failed = r.is_err();
                    r
                })
            });
            self.gate = gate;
            tls.take_records(&mut self.out);
            let stuck = tls.is_stuck();
            self.tls = Some(tls);
            match step {
                Err(e) if plain_failed => {
                    refused = Some(e);
                    discard = true;
                }
                Err(e) => break Err(e),
                Ok(Step::Again) => {}
                Ok(Step::Established) => {
                    if self.phase == Phase::TlsHandshaking {
                        self.on_tls_established();
                        established = true;
                    }
                }
                Ok(Step::PeerClosed) => peer_closed = true,
                Ok(Step::Idle) if stuck => {
                    break err(
                        ErrorKind::TlsCorrupt,
                        "the server sent a TLS message larger than any TLS message may be",
                    )
                }
                Ok(Step::Idle) => break Ok(()),
            }
        };
        if let Some(e) = refused {
            return Err(e);
        }
        result?;
        if established && self.phase == Phase::WsHandshaking {
            self.send_request();
        }
        if peer_closed {
            self.on_close_notify();
        }
        Ok(())
    }

    /// TLS is established: the upgrade request is due (`run_tls` sends it once every
    /// record is processed), or the caller's verdict (a chain the verifier deferred; in
    /// `Always` mode a resumed session too).
    fn on_tls_established(&mut self) {
        let waits = self.gate.as_ref().is_some_and(|g| {
            g.waits().is_some()
                || (self.settings.external == ExternalVerification::Always && self.is_resumed())
        });
        if waits {
            self.phase = Phase::Verifying;
        } else {
            if let Some(g) = &self.gate {
                g.accept();
            }
            self.phase = Phase::WsHandshaking;
        }
    }

    /// Encrypts the upgrade request into the output.
    fn send_request(&mut self) {
        self.phase = Phase::WsHandshaking;
        if let Some(request) = self.request.take() {
            self.tls_write(&request);
        }
    }

    /// The caller's verdict on the server's chain while [`State::Verifying`]: `accept`
    /// sends the upgrade request and the handshake goes on; a reject fails the client
    /// with [`ErrorKind::CertUntrusted`] and `reason` in its last error, and drops the
    /// TLS sessions of this server so that the next connection asks again.
    /// [`ErrorKind::InvalidState`] in any other state (a failed client returns its
    /// failure).
    pub fn set_verdict(&mut self, accept: bool, reason: &str) -> Result<()> {
        self.check_failed()?;
        let Some(gate) = self.gate.clone().filter(|_| self.phase == Phase::Verifying) else {
            return err(
                ErrorKind::InvalidState,
                "no verdict is awaited: the client is not in the Verifying state",
            );
        };
        if accept {
            gate.accept();
            self.send_request();
            self.flush_tls();
        } else {
            gate.reject();
            let reason = if reason.is_empty() {
                "no reason given"
            } else {
                reason
            };
            self.fail(Error::new(
                ErrorKind::CertUntrusted,
                format!(
                    "the server certificate was rejected by the application's verifier: {reason}"
                ),
            ));
        }
        Ok(())
    }

    /// The server's certificate chain as it sent it, leaf first (for a resumed session,
    /// the chain of the session it resumed), once the TLS handshake got that far;
    /// `None` for `ws://` and before.
    pub fn peer_certificates(&self) -> Option<&[rustls::pki_types::CertificateDer<'static>]> {
        if let Some(chain) = &self.peer_chain {
            return Some(chain);
        }
        self.tls.as_ref()?.state().peer_certificates()
    }

    /// What the platform's verifier needs while [`State::Verifying`]: the chain and the
    /// name it must be valid for (copies, so the check can run without the client).
    /// [`ErrorKind::InvalidState`] in any other state.
    pub fn verification_request(
        &self,
    ) -> Result<(
        Vec<rustls::pki_types::CertificateDer<'static>>,
        rustls::pki_types::ServerName<'static>,
    )> {
        self.check_failed()?;
        match (&self.gate, self.phase, self.peer_certificates()) {
            (Some(gate), Phase::Verifying, Some(chain)) if !chain.is_empty() => {
                Ok((chain.to_vec(), gate.server_name().clone()))
            }
            _ => err(
                ErrorKind::InvalidState,
                "no verdict is awaited: the client is not in the Verifying state",
            ),
        }
    }

    /// Certificate `index` of [`Client::peer_certificates`], from a copy that lives
    /// until the client is dropped (what the C ABI lends). `None` past the end.
    #[doc(hidden)]
    pub fn peer_certificate_kept(&mut self, index: usize) -> Option<&[u8]> {
        if self.peer_chain.is_none() {
            let chain = self.tls.as_ref()?.state().peer_certificates()?;
            self.peer_chain = Some(chain.to_vec());
        }
        self.peer_chain.as_ref()?.get(index).map(|c| c.as_ref())
    }

    /// Handles decrypted (or plain) bytes; returns how many were used.
    fn on_plaintext(&mut self, data: &[u8]) -> Result<usize> {
        match self.phase {
            Phase::Verifying => err(
                ErrorKind::BadResponse,
                "the server sent data before the upgrade request",
            ),
            Phase::TlsHandshaking | Phase::WsHandshaking => {
                let reader = self.response.as_mut().expect("response reader");
                let progress = reader.feed(data);
                self.http_status = reader.status;
                match progress? {
                    Progress::NeedMore => Ok(data.len()),
                    Progress::Done(n, agreed) => {
                        self.response = None;
                        self.subprotocol = agreed.subprotocol;
                        if let Some(p) = agreed.deflate {
                            self.decoder.enable_deflate(p);
                            self.deflater = Some(Deflater::new(p, &self.settings.deflate));
                            self.deflate = Some(p);
                        }
                        self.phase = Phase::Open;
                        Ok(n + self.decode(&data[n..])?)
                    }
                }
            }
            // After the close frame nothing more is decoded.
            Phase::Open if self.close_received => Ok(data.len()),
            Phase::Open => self.decode(data),
            Phase::Done => Ok(data.len()),
        }
    }

    fn decode(&mut self, data: &[u8]) -> Result<usize> {
        let queue = &mut self.queue;
        let queued_bytes = &mut self.queued_bytes;
        let pongs = &mut self.pongs;
        let close_received = &mut self.close_received;
        let l = &self.settings.limits;
        // Decoding stops once the queue reaches its bounds (unless a commit is being
        // processed: a window is taken whole), so the caller's input is back-pressured.
        let bounded = !self.committing;
        let (max_count, max_bytes) = (l.max_queued_messages, l.max_queued_bytes);
        let used = self.decoder.decode(data, &mut |ev| {
            *queued_bytes += ev.data.len();
            let keep_going = match ev.kind {
                MessageKind::Ping => {
                    // Every ping is answered while few wait; in a flood only the most
                    // recent ones are (RFC 6455 5.5.3 requires only the latest).
                    if pongs.len() == MAX_PENDING_PONGS {
                        pongs.pop_front();
                    }
                    pongs.push_back(ev.data.clone());
                    true
                }
                MessageKind::Close => {
                    // Answered when the application polls it, so that it can still
                    // answer the messages that came before the close.
                    *close_received = true;
                    false
                }
                _ => true,
            };
            queue.push_back(ev);
            keep_going && !(bounded && (queue.len() >= max_count || *queued_bytes >= max_bytes))
        })?;
        Ok(used)
    }

    /// Answers the waiting pings in order, each once the output has room for its pong
    /// under `max_pending_output`; until then they wait (in a flood the oldest give way
    /// to newer ones), and the next `offer_input` or `tick` tries again. `read_output`
    /// never adds output.
    fn send_pongs(&mut self) {
        if self.close_sent || self.failure.is_some() || self.phase != Phase::Open {
            self.pongs.clear();
            return;
        }
        while let Some(payload) = self.pongs.front() {
            if !self.fits_pending(payload.len()) {
                break;
            }
            let payload = self.pongs.pop_front().expect("a waiting pong");
            self.write_frame(SendKind::Pong, &[&payload]);
        }
    }

    // ----- messages ----------------------------------------------------------------

    fn release_current(&mut self) {
        if let Some(m) = self.current.take() {
            self.decoder.recycle(m.data);
        }
    }

    /// The next decoded message. Its data stays valid until the next call of
    /// `poll_message` (the borrow checker enforces it). Messages that arrived before
    /// a close or a failure come out first; then [`Poll::Closed`] or the failure.
    pub fn poll_message(&mut self) -> Result<Poll<'_>> {
        self.release_current();
        if let Some(m) = self.queue.pop_front() {
            self.queued_bytes -= m.data.len();
            self.on_polled(&m);
            let m = self.current.insert(m);
            return Ok(Poll::Message(Message {
                kind: m.kind,
                data: &m.data,
                close_code: m.close_code,
            }));
        }
        self.surface_pending_failure()?;
        Ok(if self.end_status()? {
            Poll::Closed
        } else {
            Poll::NeedInput
        })
    }

    fn on_polled(&mut self, m: &Incoming) {
        // 1006 is never on the wire: it is our note that the connection dropped.
        if m.kind == MessageKind::Close && m.close_code != 1006 {
            self.on_close_polled(m.close_code);
        }
    }

    /// Like [`Client::poll_message`], but copies the payload into `buf`. When `buf` is
    /// too small, the message stays queued and the size needed is returned.
    pub fn poll_message_into(&mut self, buf: &mut [u8]) -> Result<PollInto> {
        self.release_current();
        match self.queue.front() {
            Some(m) if m.data.len() > buf.len() => Ok(PollInto::TooSmall(m.data.len())),
            Some(_) => {
                let m = self.queue.pop_front().expect("front exists");
                self.queued_bytes -= m.data.len();
                self.on_polled(&m);
                bytes::copy(&mut buf[..m.data.len()], &m.data);
                let r = PollInto::Message {
                    kind: m.kind,
                    len: m.data.len(),
                    close_code: m.close_code,
                };
                self.decoder.recycle(m.data);
                Ok(r)
            }
            None => {
                self.surface_pending_failure()?;
                Ok(if self.end_status()? {
                    PollInto::Closed
                } else {
                    PollInto::NeedInput
                })
            }
        }
    }

    // ----- output ------------------------------------------------------------------

    /// Bytes waiting to be written to the socket. Through an `https://` proxy, bytes
    /// not yet encrypted for it count without the TLS overhead.
    pub fn pending_output(&self) -> usize {
        match self.tunnel.as_ref() {
            Some(t) if !t.is_open() => t.pending(),
            Some(t) => t.pending() + self.out.len(),
            None => self.out.len(),
        }
    }

    /// The output the socket sends: ours, or through the proxy tunnel.
    fn wire(&mut self) -> &mut Output {
        wire_of(&mut self.tunnel, &mut self.out)
    }

    /// Copies bytes to write to the socket into `buf`; returns how many (0 when
    /// nothing is pending). Pending bytes are handed out even after a failure, so the
    /// peer learns why; once they are gone a failed client returns its failure.
    pub fn read_output(&mut self, buf: &mut [u8]) -> Result<usize> {
        let n = self.wire().read(buf);
        self.tx_bytes += n as u64;
        if n == 0 {
            if let Some(e) = &self.failure {
                return Err(e.clone());
            }
        }
        Ok(n)
    }

    /// The bytes waiting to be written to the socket, without copying them: write
    /// them from here, then call [`Client::consume_output`] with how many were sent.
    /// The zero-copy alternative to [`Client::read_output`]. It shows all pending
    /// output, so once that is consumed nothing is pending until the next call that
    /// produces output (an empty slice). Like `read_output`, pending bytes are shown
    /// even after a failure; once they are gone a failed client returns its failure.
    #[inline]
    pub fn peek_output(&mut self) -> Result<&[u8]> {
        // `wire_of` rather than `wire`: the view borrows only these two fields, so the
        // failure can still be read below.
        let view = wire_of(&mut self.tunnel, &mut self.out).peek();
        if view.is_empty() {
            if let Some(e) = &self.failure {
                return Err(e.clone());
            }
        }
        Ok(view)
    }

    /// Marks the first `n` bytes of [`Client::peek_output`] as sent. More than are
    /// waiting is [`ErrorKind::InvalidArgument`] and nothing is consumed.
    pub fn consume_output(&mut self, n: usize) -> Result<()> {
        let out = self.wire();
        if n > out.len() {
            return err(
                ErrorKind::InvalidArgument,
                format!("consume_output({n}) with only {} bytes waiting", out.len()),
            );
        }
        out.consume(n);
        self.tx_bytes += n as u64;
        Ok(())
    }

    /// Moves the records TLS produced on its own (handshake, alerts) to the output.
    fn flush_tls(&mut self) {
        if let Some(tls) = self.tls.as_mut() {
            tls.take_records(&mut self.out);
        }
    }

    /// Encrypts `data` (at most one record's worth) into the output. If TLS cannot
    /// send (which the phases rule out), the connection fails rather than dropping
    /// the bytes unnoticed.
    fn tls_write(&mut self, data: &[u8]) {
        let tls = self.tls.as_mut().expect("tls");
        if !tls.encrypt(data, &mut self.out) && self.failure.is_none() {
            let e = Error::new(ErrorKind::Tls, "TLS could not encrypt data to send");
            self.last_error.event(e.message());
            self.failure = Some(e);
        }
    }

    /// Queues a data message, compressed when negotiated and worthwhile.
    fn write_message(&mut self, kind: SendKind, data: &[u8]) {
        match self.deflater.as_mut().filter(|d| d.wants(data.len())) {
            Some(d) => {
                let mut z = std::mem::take(&mut self.zbuf);
                z.clear();
                d.compress(data, &mut z);
                self.write_frame_with(kind, true, &[&z]);
                self.zbuf = z;
            }
            None => self.write_frame(kind, &[data]),
        }
    }

    fn write_frame(&mut self, kind: SendKind, parts: &[&[u8]]) {
        self.write_frame_with(kind, false, parts)
    }

    fn write_frame_with(&mut self, kind: SendKind, compressed: bool, parts: &[&[u8]]) {
        let mask = self.masks.next_mask();
        match self.tls.as_mut() {
            None => {
                let len: usize = parts.iter().map(|p| p.len()).sum();
                self.out.reserve(frame::encoded_len(len));
                self.out
                    .append_vec(|v| frame::encode_with(v, kind, compressed, parts, mask))
            }
            Some(_) => {
                // Frame and mask in record-sized chunks (the first carries the header),
                // so that every write to rustls fills one TLS record and no buffer the
                // size of the message is needed.
                let len: usize = parts.iter().map(|p| p.len()).sum();
                // Room for the records in one go instead of a chain of reallocations:
                // the frame (header included) in chunks of one record each.
                let framed = frame::encoded_len(len);
                let records = framed.div_ceil(TLS_CHUNK);
                self.out.reserve(framed + records * TLS_RECORD_OVERHEAD);
                let mut scratch = std::mem::take(&mut self.scratch);
                scratch.clear();
                frame::encode_header(&mut scratch, kind, compressed, len, mask);
                let mut offset = 0;
                for part in parts {
                    let mut rest = *part;
                    while !rest.is_empty() {
                        let take = (TLS_CHUNK - scratch.len()).min(rest.len());
                        frame::extend_masked(
                            &mut scratch,
                            &rest[..take],
                            frame::mask_at(mask, offset),
                        );
                        offset += take;
                        rest = &rest[take..];
                        if scratch.len() == TLS_CHUNK {
                            self.tls_write(&scratch);
                            scratch.clear();
                        }
                    }
                }
                if !scratch.is_empty() {
                    self.tls_write(&scratch);
                }
                self.scratch = scratch;
            }
        }
    }

    // ----- sending -----------------------------------------------------------------

    fn check_send(&self, len: usize) -> Result<()> {
        if let Some(e) = &self.failure {
            return Err(e.clone());
        }
        match self.phase {
            Phase::TlsHandshaking | Phase::Verifying | Phase::WsHandshaking => {
                return err(
                    ErrorKind::NotOpen,
                    "the handshake has not completed; wait for the Open state",
                )
            }
            Phase::Open if !self.close_sent => {}
            _ => {
                return err(
                    ErrorKind::AlreadyClosed,
                    "the connection is closing or closed",
                )
            }
        }
        if !self.fits_pending(len) {
            let max = self.settings.limits.max_pending_output;
            let need = self.wire_len(len);
            return err(
                ErrorKind::OutputFull,
                format!("queueing {need} more bytes would exceed the pending-output limit of {max}; drain read_output first"),
            );
        }
        Ok(())
    }

    /// The most bytes a message of `len` payload bytes adds to the output: the frame,
    /// what compression can add to incompressible data, and the TLS records' overhead.
    fn wire_len(&self, len: usize) -> usize {
        let mut payload = len;
        if self.deflater.is_some() {
            // zlib's deflateBound, rounded up: stored blocks cost 5 bytes per 16 KiB.
            payload = payload.saturating_add(len / 4096 + 64);
        }
        let mut need = frame::encoded_len(payload);
        if self.tls.is_some() {
            need = need.saturating_add((need / TLS_CHUNK + 1) * TLS_RECORD_OVERHEAD);
        }
        need
    }

    /// Whether a frame of `len` payload bytes fits under `max_pending_output`.
    fn fits_pending(&self, len: usize) -> bool {
        let max = self.settings.limits.max_pending_output;
        // pending_output counts what waits in the proxy tunnel too.
        self.pending_output().saturating_add(self.wire_len(len)) <= max
    }

    /// Queues a text message. Invalid UTF-8 is refused and nothing is sent.
    pub fn send_text(&mut self, utf8: &[u8]) -> Result<()> {
        self.check_failed()?;
        if std::str::from_utf8(utf8).is_err() {
            return err(
                ErrorKind::InvalidArgument,
                "send_text: the text is not valid UTF-8",
            );
        }
        self.check_send(utf8.len())?;
        self.write_message(SendKind::Text, utf8);
        Ok(())
    }

    /// Queues a binary message.
    pub fn send_binary(&mut self, data: &[u8]) -> Result<()> {
        self.check_send(data.len())?;
        self.write_message(SendKind::Binary, data);
        Ok(())
    }

    /// Queues a ping with up to 125 bytes of payload.
    pub fn send_ping(&mut self, payload: &[u8]) -> Result<()> {
        self.check_failed()?;
        if payload.len() > 125 {
            return err(
                ErrorKind::InvalidArgument,
                "ping payload longer than 125 bytes",
            );
        }
        self.check_send(payload.len())?;
        self.write_frame(SendKind::Ping, &[payload]);
        Ok(())
    }

    /// Starts the close handshake with `code` (1000-1003, 1007-1011 or 3000-4999) and
    /// a UTF-8 `reason` of at most 123 bytes. Messages keep arriving until the peer's
    /// close frame; then TLS ends with close_notify.
    pub fn close(&mut self, code: u16, reason: &[u8]) -> Result<()> {
        self.check_failed()?;
        if !matches!(code, 1000..=1003 | 1007..=1011 | 3000..=4999) {
            return err(
                ErrorKind::InvalidArgument,
                format!("close code {code} may not be sent"),
            );
        }
        if reason.len() > 123 {
            return err(
                ErrorKind::InvalidArgument,
                "close reason longer than 123 bytes",
            );
        }
        if std::str::from_utf8(reason).is_err() {
            return err(
                ErrorKind::InvalidArgument,
                "close reason is not valid UTF-8",
            );
        }
        self.check_send(2 + reason.len())?;
        self.write_frame(SendKind::Close, &[&code.to_be_bytes(), reason]);
        self.close_sent = true;
        if self.close_received {
            self.finish();
        }
        Ok(())
    }

    // ----- time --------------------------------------------------------------------

    /// Tells the client the time on the caller's monotonic clock, in milliseconds.
    /// Sends keepalive pings and applies the handshake, idle and close timeouts. The
    /// first call starts the clocks. A timeout fails the client with
    /// [`ErrorKind::Timeout`], except the close timeout, which ends it with a 1006 close.
    pub fn tick(&mut self, now_ms: u64) -> Result<()> {
        if let Some(e) = &self.failure {
            return Err(e.clone());
        }
        self.surface_pending_failure()?;
        if self.pending_failure.is_some() {
            // The connection is as good as failed; only the queued messages remain.
            return Ok(());
        }
        // Input held back by the queue bound is the peer's activity too: an
        // application that stops polling must not time out a server that is sending.
        let held_back = self.queue_at_bound();
        let moved = self.rx_bytes + self.tx_bytes;
        if self.timers.observe(now_ms, self.rx_bytes, moved, held_back) {
            // Memory lent by `input_window` is the caller's until it commits: the idle
            // trim leaves the window (and the buffer behind it) alone.
            self.trim_buffers(self.input.is_lent());
        }
        // A pong that waited for room in the output.
        self.send_pongs();
        let running = self.running();
        let to = &self.settings.timeouts;
        match self.timers.due(to, running, now_ms, self.rx_bytes) {
            Due::Nothing => {}
            Due::HandshakeTimeout => {
                let e = Error::new(
                    ErrorKind::Timeout,
                    format!(
                        "the handshake did not complete within {} ms",
                        to.handshake_ms
                    ),
                );
                return Err(self.fail(e));
            }
            Due::CloseTimeout => {
                if !self.close_received {
                    self.drop_without_close("the server did not answer the close frame in time");
                }
                self.finish();
            }
            Due::IdleTimeout { quiet } => {
                let e = Error::new(
                    ErrorKind::Timeout,
                    format!(
                        "no data from the server for {quiet} ms (idle timeout {} ms)",
                        to.idle_ms
                    ),
                );
                return Err(self.fail(e));
            }
            Due::ProbeTimeout { ms } => {
                let e = Error::new(
                    ErrorKind::ConnectionLost,
                    format!("no answer to the liveness probe within {ms} ms"),
                );
                return Err(self.fail(e));
            }
            Due::Keepalive => {
                if self.check_send(0).is_ok() {
                    self.timers.pinged(now_ms);
                    self.write_frame(SendKind::Ping, &[]);
                }
            }
        }
        Ok(())
    }

    /// Which timers run in the current phase.
    fn running(&self) -> Running {
        match self.phase {
            _ if self.failure.is_some() => Running::Nothing,
            Phase::TlsHandshaking | Phase::Verifying | Phase::WsHandshaking => Running::Handshake,
            Phase::Open if self.close_sent => Running::Closing,
            Phase::Open => Running::Open,
            Phase::Done => Running::Nothing,
        }
    }

    /// When `tick` should be called next (caller-clock milliseconds), or `None` when
    /// no timer is running. Before the first `tick` it is 0: call `tick` now.
    pub fn next_deadline(&self) -> Option<u64> {
        if self.failure.is_some() {
            return None;
        }
        self.timers
            .next_deadline(&self.settings.timeouts, self.running(), self.rx_bytes)
    }

    /// Checks that the server is still there after the caller's clock jumped (the app
    /// was paused or in the background, a long load blocked the loop): queues a ping
    /// and gives the server `deadline_ms` from `now_ms` to send anything. The time up
    /// to `now_ms` no longer counts toward the idle timeout and keepalive, which wait
    /// until the answer arrives; any input answers. When `tick` sees the deadline pass
    /// in silence, the client fails with [`ErrorKind::ConnectionLost`]. Call it before
    /// the first `tick` with the jumped time. Only when open (else the error
    /// `check_send` gives); a `deadline_ms` of 0 is refused. A probe while one waits
    /// sends another ping but keeps the earlier deadline.
    pub fn probe(&mut self, now_ms: u64, deadline_ms: u64) -> Result<()> {
        self.check_failed()?;
        if deadline_ms == 0 {
            return err(
                ErrorKind::InvalidArgument,
                "the probe deadline must be > 0 ms",
            );
        }
        self.check_send(0)?;
        let waiting = self.is_probing();
        self.write_frame(SendKind::Ping, &[]);
        if !waiting {
            self.timers.start_probe(now_ms, deadline_ms, self.rx_bytes);
        }
        Ok(())
    }

    /// True while a [`Client::probe`] waits for its answer.
    pub fn is_probing(&self) -> bool {
        self.failure.is_none() && self.phase == Phase::Open && self.timers.is_probing(self.rx_bytes)
    }
}

/// The output the socket is given: through the proxy tunnel while there is one (see
/// [`Client::wire`]). A free function so that a caller can borrow these two fields
/// alone and still read the rest of the client.
#[inline]
fn wire_of<'a>(tunnel: &'a mut Option<Box<Tunnel>>, out: &'a mut Output) -> &'a mut Output {
    match tunnel.as_mut() {
        Some(t) => t.output(out),
        None => out,
    }
}
