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
use std::io::{BufRead, Write};

use crate::config::{Config, Settings, TlsVersion};
use crate::deflate::{DeflateParams, Deflater};
use crate::error::{err, Error, ErrorKind, LastError, Result};
use crate::frame::{self, Decoder, Incoming, MessageKind, SendKind};
use crate::handshake::{self, Progress, ResponseReader};
use crate::proxy::Tunnel;
use crate::transport::{MaskSource, Output};

/// The connection state as the caller sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// The TLS handshake is in progress (`wss://` only).
    TlsHandshaking,
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
    /// The connection ended cleanly and every message has been polled.
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
    /// The connection ended cleanly and every message has been polled.
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    TlsHandshaking,
    WsHandshaking,
    Open,
    /// The close handshake completed, or the connection ended.
    Done,
}

/// Caller-clock timestamps (milliseconds) for the timers.
#[derive(Debug, Default)]
struct Timers {
    now: Option<u64>,
    handshake_start: Option<u64>,
    last_rx_at: u64,
    rx_seen: u64,
    last_moved_at: u64,
    moved_seen: u64,
    last_ping_at: u64,
    close_start: Option<u64>,
    /// A liveness probe is waiting for input: (deadline, its length, `rx_bytes` when sent).
    probe: Option<(u64, u64, u64)>,
}

/// Largest slice decoded between checks of the undelivered-message bound.
const DECODE_CHUNK: usize = 16 << 10;
/// Plaintext per write to rustls: one full TLS record.
const TLS_CHUNK: usize = 16 << 10;
/// Upper bound of a TLS record's overhead (TLS 1.2 AES-GCM: header, nonce, tag).
const TLS_RECORD_OVERHEAD: usize = 29;
/// Size of the staging window `input_window` lends at first, and after the idle trim.
const STAGE_MIN: usize = 2 << 10;
/// Size it grows to once a commit filled the whole window (one full TLS record).
const STAGE_MAX: usize = 16 << 10;
/// Smallest payload remainder worth a direct window; less goes through the stage.
const DIRECT_MIN: u64 = 4 << 10;
/// Largest direct window, so that a frame's announced length commits no more memory
/// than the bytes that really arrive plus this.
const DIRECT_MAX: usize = 1 << 20;
/// Capacity each retained buffer is trimmed to when the connection is idle.
const TRIM_TO: usize = 4 << 10;
/// Quiet time after which `tick` trims retained buffers.
const IDLE_TRIM_MS: u64 = 1000;

/// One WebSocket client connection. See the [module docs](self).
#[derive(Debug)]
pub struct Client {
    settings: Settings,
    tls: Option<Box<rustls::ClientConnection>>,
    phase: Phase,
    response: Option<ResponseReader>,
    decoder: Decoder,
    queue: VecDeque<Incoming>,
    current: Option<Incoming>,
    /// Payloads of received pings, answered with pongs after the input is processed.
    pongs: Vec<Vec<u8>>,
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
    /// Buffers were trimmed and nothing has moved since.
    trimmed: bool,
    /// permessage-deflate as negotiated, and our compressor.
    deflate: Option<DeflateParams>,
    deflater: Option<Deflater>,
    /// Compressed payload of the message being sent.
    zbuf: Vec<u8>,
    /// Receives socket bytes through `input_window` when no direct window fits.
    stage: Vec<u8>,
    /// The window `input_window` lent last, until it is committed.
    window: Option<Window>,
    /// `commit_input` is processing a window: the bound on undelivered messages was
    /// checked when the window was lent.
    committing: bool,
    /// The tunnel through a proxy: socket bytes go through it first, and output
    /// through it last. `None` without a proxy.
    tunnel: Option<Box<Tunnel>>,
    /// Where the caller's socket connects: the proxy, or the URL's host and port.
    connect: (String, u16),
}

/// What `input_window` lent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Window {
    /// `stage[..n]`.
    Stage(usize),
    /// The next `n` bytes of the message buffer (payload of the current frame).
    Direct(usize),
}

impl Client {
    /// Creates a client for `url` (`ws://` or `wss://host[:port]/path?query`). The
    /// TLS ClientHello (for `wss://`) or the upgrade request (for `ws://`) is ready in
    /// the output right away.
    pub fn new(config: &Config, url: &str) -> Result<Client> {
        let settings = config.settings.clone();
        let target = handshake::prepare(url, &settings)?;
        let mut client = Client {
            response: Some(ResponseReader::new(target.accept.clone(), &settings)),
            decoder: Decoder::new(&settings.limits),
            settings,
            tls: None,
            phase: Phase::WsHandshaking,
            queue: VecDeque::new(),
            current: None,
            pongs: Vec::new(),
            out: Output::default(),
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
            trimmed: false,
            deflate: None,
            deflater: None,
            zbuf: Vec::new(),
            stage: Vec::new(),
            window: None,
            committing: false,
            tunnel: None,
            connect: (target.host.clone(), target.port),
        };
        if client.settings.proxy.url.is_some() {
            let proxy = &client.settings.proxy;
            let proxy_tls = match proxy.url.as_ref().map(|u| u.kind()) {
                Some(crate::proxy::ProxyKind::Https) => Some(config.proxy_tls_config()?),
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
            let mut conn = rustls::ClientConnection::new(config.tls_config()?, server_name)
                .map_err(|e| crate::tls::map_error(&e))?;
            // Sends are bounded by our own `max_pending_output`, never truncated by rustls.
            conn.set_buffer_limit(None);
            // rustls holds the request until the handshake completes, then encrypts it.
            conn.writer()
                .write_all(&target.request)
                .expect("unbounded rustls buffer");
            client.tls = Some(Box::new(conn));
            client.phase = Phase::TlsHandshaking;
            client.flush_tls();
        } else {
            client.out.vec().extend_from_slice(&target.request);
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
            .and_then(|c| c.handshake_kind())
            .is_some_and(|k| k == rustls::HandshakeKind::Resumed)
    }

    /// Whether certificate verification is off for this client (its config used
    /// `Config::dangerous_disable_certificate_verification`).
    pub fn is_insecure(&self) -> bool {
        self.settings.insecure
    }

    /// The negotiated TLS version, once the TLS handshake completed (`None` for `ws://`).
    pub fn tls_version(&self) -> Option<TlsVersion> {
        match self.tls.as_ref()?.protocol_version()? {
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
            .negotiated_cipher_suite()
            .map(|s| format!("{:?}", s.suite()))
    }

    /// permessage-deflate as negotiated with the server, if it was.
    pub fn deflate(&self) -> Option<DeflateParams> {
        self.deflate
    }

    /// Trims retained buffers once nothing has moved for `IDLE_TRIM_MS`.
    fn trim_if_idle(&mut self, now_ms: u64) {
        let moved = self.rx_bytes + self.tx_bytes;
        let t = &mut self.timers;
        if moved != t.moved_seen || t.now.is_none() {
            t.moved_seen = moved;
            t.last_moved_at = now_ms;
            self.trimmed = false;
        } else if !self.trimmed && now_ms.saturating_sub(t.last_moved_at) >= IDLE_TRIM_MS {
            self.trim();
        }
    }

    /// Releases memory held for large messages: buffers keep the size of the largest
    /// message so that a stream of large messages does not allocate per message, and
    /// this shrinks them back (to 4 KiB each, rustls's read buffer included). `tick`
    /// calls it after a second without traffic; call it directly after a burst.
    pub fn trim(&mut self) {
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
        self.stage = Vec::new();
        self.window = None;
        self.decoder.trim(TRIM_TO);
        self.queue.shrink_to_fit();
        if let Some(conn) = self.tls.as_mut() {
            // rustls shrinks an empty read buffer before reading; a reader with nothing
            // to give (WouldBlock, not EOF) triggers exactly that.
            struct Nothing;
            impl std::io::Read for Nothing {
                fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
                    Err(std::io::ErrorKind::WouldBlock.into())
                }
            }
            if self.phase == Phase::Open && !self.close_received {
                let _ = conn.read_tls(&mut Nothing);
            }
        }
        self.trimmed = true;
    }

    /// Bytes of buffer capacity the engine itself retains (not counting rustls), for
    /// tests and benchmarks of the retention policy.
    #[doc(hidden)]
    pub fn retained_capacity(&self) -> usize {
        self.out.capacity()
            + self.tunnel.as_ref().map_or(0, |t| t.capacity())
            + self.scratch.capacity()
            + self.zbuf.capacity()
            + self.stage.capacity()
            + self.decoder.retained_capacity()
    }

    /// Undelivered messages waiting for `poll_message`.
    pub fn queued_messages(&self) -> usize {
        self.queue.len()
    }

    // ----- input -------------------------------------------------------------------

    /// Offers bytes received from the socket; an empty slice means the peer closed its
    /// end. Returns how many bytes were taken: all of them, unless the bound on
    /// undelivered messages was reached (poll messages, then offer the rest).
    ///
    /// After the connection ended, input is taken and discarded. After a failure,
    /// every call returns that failure.
    pub fn offer_input(&mut self, data: &[u8]) -> Result<usize> {
        if !self.committing {
            self.window = None;
        }
        if let Some(e) = &self.failure {
            return Err(e.clone());
        }
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
        let max_queued = self.settings.limits.max_queued_messages;
        let result = {
            let this = &mut *self;
            // The bound on undelivered messages is checked between the proxy's TLS
            // records (`more`); what one record holds is decoded whole.
            let queue = std::cell::Cell::new(this.queue.len());
            let mut more = || committing || queue.get() < max_queued;
            t.input(data, &mut more, &mut |b| {
                this.committing = true;
                let r = this.input_inner(b);
                this.committing = committing;
                queue.set(this.queue.len());
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

    fn can_defer(&self, e: &Error) -> bool {
        e.close_code().is_some() && self.phase == Phase::Open && !self.queue.is_empty()
    }

    /// Applies a deferred failure once every message before it has been polled.
    fn surface_pending_failure(&mut self) -> Result<()> {
        if self.queue.is_empty() {
            if let Some(e) = self.pending_failure.take() {
                return Err(self.fail(e));
            }
        }
        Ok(())
    }

    fn queue_full(&self) -> bool {
        !self.committing && self.queue.len() >= self.settings.limits.max_queued_messages
    }

    /// Lends memory to receive socket bytes into, saving the copy `offer_input`
    /// makes; pass the count received to [`Client::commit_input`]. While a plain `ws://`
    /// connection is inside a large frame's payload the window is the message buffer
    /// itself (the bytes are never copied again), otherwise it is a staging buffer of
    /// 2 KiB, which grows to 16 KiB once a commit fills it and shrinks back when idle.
    /// Use the window before any other call on the client.
    ///
    /// The window is empty while `max_queued_messages` are undelivered: poll first.
    /// After a failure, returns it.
    pub fn input_window(&mut self) -> Result<&mut [u8]> {
        self.window = None;
        if let Some(e) = &self.failure {
            return Err(e.clone());
        }
        if self.queue_full() && self.phase != Phase::Done {
            return Ok(&mut []);
        }
        let direct = self.tls.is_none()
            && self.tunnel.as_ref().is_none_or(|t| t.is_transparent())
            && self.phase == Phase::Open
            && !self.close_received
            && self.pending_failure.is_none()
            && self
                .decoder
                .direct_remaining()
                .is_some_and(|r| r >= DIRECT_MIN);
        if direct {
            let window = self.decoder.direct_window(DIRECT_MAX).expect("checked");
            self.window = Some(Window::Direct(window.len()));
            return Ok(window);
        }
        if self.stage.is_empty() {
            self.stage = vec![0; STAGE_MIN];
        }
        self.window = Some(Window::Stage(self.stage.len()));
        Ok(&mut self.stage[..])
    }

    /// Processes the first `n` bytes of the window [`Client::input_window`] lent, as
    /// [`Client::offer_input`] would, taking all of them. `n == 0` does nothing (the
    /// end of the stream is `offer_input(&[])`).
    pub fn commit_input(&mut self, n: usize) -> Result<()> {
        if let Some(e) = &self.failure {
            return Err(e.clone());
        }
        let Some(window) = self.window.take() else {
            return err(
                ErrorKind::InvalidState,
                "no input window is open (call input_window first)",
            );
        };
        let (Window::Stage(cap) | Window::Direct(cap)) = window;
        if n > cap {
            return err(
                ErrorKind::InvalidArgument,
                format!("{n} bytes committed to a window of {cap}"),
            );
        }
        if n == 0 {
            return Ok(());
        }
        self.committing = true;
        let result = match window {
            Window::Stage(_) => {
                let mut stage = std::mem::take(&mut self.stage);
                let taken = self.offer_input(&stage[..n]);
                // A full window suggests more was waiting: grow it, once, until the
                // idle trim (as the other buffers do for large messages).
                if n == stage.len() && stage.len() < STAGE_MAX {
                    stage = vec![0; STAGE_MAX];
                }
                self.stage = stage;
                taken.map(|_| ())
            }
            Window::Direct(_) => {
                let result = self.commit_direct(n).map(|()| n);
                self.after_input(result, n).map(|_| ())
            }
        };
        self.committing = false;
        result
    }

    fn commit_direct(&mut self, n: usize) -> Result<()> {
        let queue = &mut self.queue;
        self.decoder.commit_direct(n, &mut |ev| {
            // Only data frames are received directly: never a ping or close.
            queue.push_back(ev);
            true
        })
    }

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

    fn input_tls(&mut self, data: &[u8]) -> Result<usize> {
        let mut rest = data;
        while !rest.is_empty() && !self.queue_full() {
            if self.phase == Phase::Done {
                return Ok(data.len());
            }
            let conn = self.tls.as_mut().expect("tls");
            let n = conn
                .read_tls(&mut rest)
                .map_err(|e| Error::new(ErrorKind::Tls, format!("TLS input refused: {e}")))?;
            if n == 0 {
                // rustls takes nothing after the server's close_notify: discard it.
                return Ok(data.len());
            }
            let io = match conn.process_new_packets() {
                Ok(io) => io,
                Err(e) => {
                    let mapped = crate::tls::map_error(&e);
                    // The alert rustls queued tells the server why.
                    self.flush_tls();
                    return Err(mapped);
                }
            };
            if self.phase == Phase::TlsHandshaking && !conn.is_handshaking() {
                self.phase = Phase::WsHandshaking;
            }
            let peer_closed = io.peer_has_closed();
            self.drain_plaintext()?;
            if peer_closed {
                self.on_close_notify();
            }
            self.flush_tls();
        }
        Ok(data.len() - rest.len())
    }

    /// Decodes all plaintext rustls holds, without copying it out first.
    fn drain_plaintext(&mut self) -> Result<()> {
        let mut conn = self.tls.take().expect("tls");
        let result = (|| loop {
            let mut reader = conn.reader();
            match reader.fill_buf() {
                Ok([]) => return Ok(()),
                Ok(buf) => {
                    let n = buf.len();
                    let used = self.on_plaintext(buf)?;
                    // After the close frame nothing more is decoded; the rest is dropped.
                    reader.consume(if self.phase == Phase::Done { n } else { used });
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
                Err(e) => return err(ErrorKind::Tls, format!("TLS read failed: {e}")),
            }
        })();
        self.tls = Some(conn);
        result
    }

    /// Handles decrypted (or plain) bytes; returns how many were used.
    fn on_plaintext(&mut self, data: &[u8]) -> Result<usize> {
        match self.phase {
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
        let pongs = &mut self.pongs;
        let close_received = &mut self.close_received;
        let used = self.decoder.decode(data, &mut |ev| match ev.kind {
            MessageKind::Ping => {
                pongs.push(ev.data.clone());
                queue.push_back(ev);
                true
            }
            MessageKind::Close => {
                // Answered when the application polls it, so that it can still
                // answer the messages that came before the close.
                *close_received = true;
                queue.push_back(ev);
                false
            }
            _ => {
                queue.push_back(ev);
                true
            }
        })?;
        Ok(used)
    }

    /// Sends automatic pongs.
    fn send_pongs(&mut self) {
        for payload in std::mem::take(&mut self.pongs) {
            if !self.close_sent && self.failure.is_none() && self.phase == Phase::Open {
                self.write_frame(SendKind::Pong, &[&payload]);
            }
        }
    }

    /// The application polled the server's close: answer it (echoing the code, RFC
    /// 6455 5.5.1; an empty close gets an empty reply) and end TLS.
    fn on_close_polled(&mut self, code: u16) {
        if self.phase != Phase::Open {
            return;
        }
        if !self.close_sent {
            let bytes = code.to_be_bytes();
            let parts: &[&[u8]] = if code == 1005 { &[] } else { &[&bytes] };
            self.write_frame(SendKind::Close, parts);
            self.close_sent = true;
        }
        self.finish();
    }

    /// The close handshake is complete (or the connection is over): end TLS cleanly.
    fn finish(&mut self) {
        self.phase = Phase::Done;
        if let Some(conn) = self.tls.as_mut() {
            conn.send_close_notify();
        }
        self.flush_tls();
    }

    fn on_close_notify(&mut self) {
        match self.phase {
            // The close frame came first: it is answered (and TLS ended) when polled.
            Phase::Open if self.close_received => {}
            Phase::Open => {
                self.drop_without_close(
                    "the server ended TLS (close_notify) without a WebSocket close frame",
                );
                self.finish();
            }
            Phase::Done => {}
            _ => {
                self.fail(Error::new(
                    ErrorKind::ConnectionLost,
                    "the server ended TLS during the handshake",
                ));
            }
        }
    }

    fn on_eof(&mut self) {
        if let Some(t) = self.tunnel.as_ref().filter(|t| !t.is_open()) {
            let e = t.eof_error();
            self.fail(e);
            return;
        }
        match self.phase {
            Phase::TlsHandshaking | Phase::WsHandshaking => {
                self.fail(Error::new(
                    ErrorKind::ConnectionLost,
                    "the server closed the connection during the handshake",
                ));
            }
            Phase::Open => {
                if !self.close_received {
                    self.drop_without_close(
                        "the server closed the connection without a close frame",
                    );
                }
                self.phase = Phase::Done;
            }
            Phase::Done => {}
        }
    }

    /// Delivers a synthetic 1006 close (like a browser's `wasClean == false`).
    fn drop_without_close(&mut self, why: &str) {
        self.close_received = true;
        self.queue.push_back(Incoming {
            kind: MessageKind::Close,
            data: Vec::new(),
            close_code: 1006,
        });
        self.last_error.event(why);
    }

    /// Records a fatal error: the peer is told why (close frame, TLS alert or
    /// close_notify, left in the output), and the error becomes sticky.
    fn fail(&mut self, e: Error) -> Error {
        if self.failure.is_none() {
            if let Some(code) = e.close_code() {
                if self.phase == Phase::Open && !self.close_sent {
                    let reason = match code {
                        1007 => "invalid UTF-8",
                        1009 => "message too big",
                        1011 => "internal error",
                        _ => "protocol error",
                    };
                    self.write_frame(SendKind::Close, &[&code.to_be_bytes(), reason.as_bytes()]);
                    self.close_sent = true;
                }
            }
            let tls_failed = matches!(
                e.kind(),
                ErrorKind::Tls
                    | ErrorKind::TlsCorrupt
                    | ErrorKind::TlsAlertReceived
                    | ErrorKind::TlsVersion
                    | ErrorKind::CertUntrusted
                    | ErrorKind::CertExpired
                    | ErrorKind::CertNotYetValid
                    | ErrorKind::CertWrongHost
                    | ErrorKind::CertPinMismatch
                    | ErrorKind::CertInvalid
            );
            if !tls_failed && self.phase != Phase::TlsHandshaking {
                if let Some(conn) = self.tls.as_mut() {
                    conn.send_close_notify();
                }
            }
            self.flush_tls();
            self.last_error.event(e.message());
            self.failure = Some(e);
            // A failure found later in the stream no longer matters.
            self.pending_failure = None;
        }
        // Sticky: whatever happens next, the first failure is the answer.
        self.failure.clone().expect("recorded above")
    }

    /// Marks a panic caught at the boundary: the client fails with [`ErrorKind::Panic`].
    pub fn poison(&mut self, what: &str) {
        let e = Error::new(ErrorKind::Panic, format!("internal error (panic): {what}"));
        if self.failure.is_none() {
            self.last_error.event(e.message());
            self.failure = Some(e);
        }
    }

    // ----- messages ----------------------------------------------------------------

    fn release_current(&mut self) {
        if let Some(m) = self.current.take() {
            self.decoder.recycle(m.data);
        }
    }

    fn end_status(&self) -> Result<bool> {
        if let Some(e) = &self.failure {
            return Err(e.clone());
        }
        Ok(self.phase == Phase::Done)
    }

    /// The next decoded message. Its data stays valid until the next call of
    /// `poll_message` (the borrow checker enforces it). Messages that arrived before
    /// a close or a failure come out first; then [`Poll::Closed`] or the failure.
    pub fn poll_message(&mut self) -> Result<Poll<'_>> {
        self.release_current();
        if let Some(m) = self.queue.pop_front() {
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
                self.on_polled(&m);
                buf[..m.data.len()].copy_from_slice(&m.data);
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
        match self.tunnel.as_mut() {
            Some(t) => t.output(&mut self.out),
            None => &mut self.out,
        }
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
    /// produces output.
    pub fn peek_output(&mut self) -> &[u8] {
        self.wire().peek()
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

    fn flush_tls(&mut self) {
        if let Some(conn) = self.tls.as_mut() {
            let out = self.out.vec();
            while conn.wants_write() {
                // Writing into a Vec cannot fail.
                if conn.write_tls(out).unwrap_or(0) == 0 {
                    break;
                }
            }
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
            None => frame::encode_with(self.out.vec(), kind, compressed, parts, mask),
            Some(conn) => {
                // Frame and mask in record-sized chunks (the first carries the header),
                // so that every write to rustls fills one TLS record and no buffer the
                // size of the message is needed.
                let len: usize = parts.iter().map(|p| p.len()).sum();
                let scratch = &mut self.scratch;
                scratch.clear();
                frame::encode_header(scratch, kind, compressed, len, mask);
                let mut offset = 0;
                for part in parts {
                    let mut rest = *part;
                    while !rest.is_empty() {
                        let take = (TLS_CHUNK - scratch.len()).min(rest.len());
                        frame::extend_masked(scratch, &rest[..take], frame::mask_at(mask, offset));
                        offset += take;
                        rest = &rest[take..];
                        if scratch.len() == TLS_CHUNK {
                            conn.writer()
                                .write_all(scratch)
                                .expect("unbounded rustls buffer");
                            scratch.clear();
                        }
                    }
                }
                if !scratch.is_empty() {
                    conn.writer()
                        .write_all(scratch)
                        .expect("unbounded rustls buffer");
                }
                // Room for the records in one go instead of a chain of reallocations.
                let records = len / TLS_CHUNK + 1;
                self.out
                    .vec()
                    .reserve(frame::encoded_len(len) + records * TLS_RECORD_OVERHEAD);
                self.flush_tls();
            }
        }
    }

    // ----- sending -----------------------------------------------------------------

    /// After a failure every call returns it, before any argument is looked at.
    fn check_failed(&self) -> Result<()> {
        match &self.failure {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    fn check_send(&self, len: usize) -> Result<()> {
        if let Some(e) = &self.failure {
            return Err(e.clone());
        }
        match self.phase {
            Phase::TlsHandshaking | Phase::WsHandshaking => {
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
        let max = self.settings.limits.max_pending_output;
        let need = frame::encoded_len(len);
        // pending_output counts what waits in the proxy tunnel too.
        if self.pending_output().saturating_add(need) > max {
            return err(
                ErrorKind::OutputFull,
                format!("queueing {need} more bytes would exceed the pending-output limit of {max}; drain read_output first"),
            );
        }
        Ok(())
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
        self.trim_if_idle(now_ms);
        let t = &mut self.timers;
        if t.now.is_none() {
            t.last_rx_at = now_ms;
            t.last_ping_at = now_ms;
            t.handshake_start = Some(now_ms);
        }
        t.now = Some(now_ms);
        if self.rx_bytes != t.rx_seen {
            t.rx_seen = self.rx_bytes;
            t.last_rx_at = now_ms;
        }
        let to = self.settings.timeouts.clone();
        match self.phase {
            Phase::TlsHandshaking | Phase::WsHandshaking => {
                let start = t.handshake_start.unwrap_or(now_ms);
                if to.handshake_ms > 0 && now_ms.saturating_sub(start) >= to.handshake_ms {
                    let e = Error::new(
                        ErrorKind::Timeout,
                        format!(
                            "the handshake did not complete within {} ms",
                            to.handshake_ms
                        ),
                    );
                    return Err(self.fail(e));
                }
            }
            Phase::Open if self.close_sent => {
                let start = *t.close_start.get_or_insert(now_ms);
                if to.close_ms > 0 && now_ms.saturating_sub(start) >= to.close_ms {
                    if !self.close_received {
                        self.drop_without_close(
                            "the server did not answer the close frame in time",
                        );
                    }
                    self.finish();
                }
            }
            Phase::Open => {
                if let Some((until, ms, rx)) = t.probe {
                    if self.rx_bytes == rx && now_ms >= until {
                        let e = Error::new(
                            ErrorKind::ConnectionLost,
                            format!("no answer to the liveness probe within {ms} ms"),
                        );
                        return Err(self.fail(e));
                    }
                    if self.rx_bytes == rx {
                        return Ok(()); // idle timeout and keepalive wait for the probe
                    }
                    t.probe = None; // answered: anything from the server counts
                }
                let quiet = now_ms.saturating_sub(t.last_rx_at);
                if to.idle_ms > 0 && quiet >= to.idle_ms {
                    let e = Error::new(
                        ErrorKind::Timeout,
                        format!(
                            "no data from the server for {quiet} ms (idle timeout {} ms)",
                            to.idle_ms
                        ),
                    );
                    return Err(self.fail(e));
                }
                let since = now_ms.saturating_sub(t.last_rx_at.max(t.last_ping_at));
                if to.keepalive_ms > 0 && since >= to.keepalive_ms && self.check_send(0).is_ok() {
                    self.timers.last_ping_at = now_ms;
                    self.write_frame(SendKind::Ping, &[]);
                }
            }
            Phase::Done => {}
        }
        Ok(())
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
        let t = &mut self.timers;
        if waiting {
            return Ok(()); // the probe in flight keeps its deadline
        }
        t.now = Some(t.now.map_or(now_ms, |n| n.max(now_ms)));
        t.last_rx_at = now_ms;
        t.last_ping_at = now_ms;
        t.rx_seen = self.rx_bytes;
        t.probe = Some((
            now_ms.saturating_add(deadline_ms),
            deadline_ms,
            self.rx_bytes,
        ));
        Ok(())
    }

    /// True while a [`Client::probe`] waits for its answer.
    pub fn is_probing(&self) -> bool {
        self.failure.is_none()
            && self.phase == Phase::Open
            && matches!(self.timers.probe, Some((_, _, rx)) if rx == self.rx_bytes)
    }

    /// When `tick` should be called next (caller-clock milliseconds), or `None` when
    /// no timer is running. Before the first `tick` it is 0: call `tick` now.
    pub fn next_deadline(&self) -> Option<u64> {
        if self.failure.is_some() {
            return None;
        }
        let to = &self.settings.timeouts;
        let t = &self.timers;
        let Some(_now) = t.now else {
            let any = to.handshake_ms | to.close_ms | to.keepalive_ms | to.idle_ms;
            return (any > 0).then_some(0);
        };
        let on = |ms: u64, from: u64| (ms > 0).then(|| from.saturating_add(ms));
        match self.phase {
            Phase::TlsHandshaking | Phase::WsHandshaking => {
                on(to.handshake_ms, t.handshake_start.unwrap_or(0))
            }
            Phase::Open if self.close_sent => on(to.close_ms, t.close_start.unwrap_or(0)),
            Phase::Open => {
                if let Some((until, _, rx)) = t.probe {
                    if self.rx_bytes == rx {
                        return Some(until);
                    }
                }
                let idle = on(to.idle_ms, t.last_rx_at);
                let ka = on(to.keepalive_ms, t.last_rx_at.max(t.last_ping_at));
                match (idle, ka) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                }
            }
            Phase::Done => None,
        }
    }
}
