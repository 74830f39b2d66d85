//! Shared pieces of the benchmark programs: the in-memory duplex pipe and echo server
//! the tests use too (`tests/common/server.rs`: tungstenite server role over rustls
//! `ServerConnection`, here with the pipe placed and the server tuned for timing),
//! the test PKI, the two clients under test (wsmachine through its C ABI, and the
//! reference: tungstenite client role over rustls `StreamOwned<ClientConnection,
//! MemPipe>`), a counting global allocator, and timing helpers.
//!
//! Each bench program includes this module with `mod support;`; not every program
//! uses every item.
#![allow(dead_code)]

use std::ffi::CString;
use std::io::{self, Read, Write};
use std::ptr::{null, null_mut};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::crypto::ring as rcrypto;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, ClientConnection, ServerConfig, StreamOwned};
use tungstenite::handshake::client::ClientHandshake;
use tungstenite::handshake::{HandshakeError, MidHandshake};
use tungstenite::protocol::WebSocketConfig;
use tungstenite::{Bytes, Message, WebSocket};
use wsmachine::ffi::*;

#[path = "../../tests/common/server.rs"]
mod server;
#[path = "../../tests/common/pki.rs"]
mod test_pki;
pub use server::{accept, MemPipe, Placement, Server};

// ----- in-memory pipe and echo server ---------------------------------------------------

/// Capacity of each pipe direction, reserved up front (it grows only beyond this),
/// so that how a writer chunks its bytes does not change where they land.
const PIPE_CAP: usize = (2 << 20) + 8192;

/// Where the bytes start in the pipe's buffer. Large buffers come from mmap, page
/// aligned; without a skew, the server's 4 KiB copies out of the pipe into its own
/// page-aligned buffer often had source and destination at the same offset modulo
/// 4096 ("4K aliasing"), which made those copies up to 3x slower. Which client
/// suffered depended only on allocation history (the size of a caller's I/O
/// buffer flipped it), so the harness keeps the pipe's bytes half a page away.
const SKEW_DEFAULT: usize = 2048 + 64;

fn skew() -> usize {
    static SKEW: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *SKEW.get_or_init(|| {
        std::env::var("WSBENCH_SKEW")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(SKEW_DEFAULT)
    })
}

/// Two connected pipe ends placed for timing: [`PIPE_CAP`] reserved, bytes
/// [`skew`] into the buffer.
pub fn bench_pipe() -> (MemPipe, MemPipe) {
    MemPipe::pair_at(Placement {
        capacity: PIPE_CAP,
        skew: skew(),
    })
}

/// The echo server on `pipe` (see [`server_ws_config`]); it keeps no log of what it
/// received. The same server serves both clients under test.
pub fn bench_server(tls: Option<Arc<ServerConfig>>, pipe: MemPipe) -> Server {
    let mut s = Server::on_pipe(tls, accept(), pipe);
    s.ws_config = server_ws_config();
    s.record = false;
    s
}

/// The server's tungstenite config: no size limits, and a 4 KiB read buffer. With the
/// default 128 KiB read buffer, tungstenite zero-fills 128 KiB on every read, which
/// made the server 80-90% of a small message's round trip (callgrind) and hid the
/// clients' differences; the reference's own default config is measured as such.
fn server_ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(None)
        .max_frame_size(None)
        .read_buffer_size(4096)
}

// ----- PKI and TLS configs -------------------------------------------------------------

/// A CA and a leaf certificate for "localhost" (ECDSA P-256, as rcgen makes them),
/// from the test PKI the tests use (`tests/common/pki.rs`).
pub struct Pki {
    pub ca_pem: String,
    pub ca_der: CertificateDer<'static>,
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
}

impl Pki {
    pub fn new() -> Pki {
        let ca = test_pki::Pki::new();
        let leaf = ca.leaf(&["localhost"]);
        Pki {
            ca_pem: ca.ca_pem.clone(),
            ca_der: ca.ca_der.clone(),
            chain: leaf.chain,
            key: leaf.key,
        }
    }
}

/// The TLS 1.3 cipher suite the server insists on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Suite {
    Aes128Gcm,
    ChaCha20,
}

/// What a connection runs over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// Plain `ws://`.
    Ws,
    /// `wss://` with the server forcing this suite (TLS 1.3).
    Wss(Suite),
}

impl Transport {
    pub fn name(self) -> &'static str {
        match self {
            Transport::Ws => "ws",
            Transport::Wss(Suite::Aes128Gcm) => "wss-aes128gcm",
            Transport::Wss(Suite::ChaCha20) => "wss-chacha20",
        }
    }

    pub fn parse(s: &str) -> Option<Transport> {
        [
            Transport::Ws,
            Transport::Wss(Suite::Aes128Gcm),
            Transport::Wss(Suite::ChaCha20),
        ]
        .into_iter()
        .find(|t| t.name() == s)
    }
}

/// A TLS 1.3-only server config offering only `suite`. With `resumption` false it
/// keeps no session cache and sends no tickets, so every handshake is a full one.
pub fn server_config(pki: &Pki, suite: Suite, resumption: bool) -> Arc<ServerConfig> {
    let cs = match suite {
        Suite::Aes128Gcm => rcrypto::cipher_suite::TLS13_AES_128_GCM_SHA256,
        Suite::ChaCha20 => rcrypto::cipher_suite::TLS13_CHACHA20_POLY1305_SHA256,
    };
    let provider = rustls::crypto::CryptoProvider {
        cipher_suites: vec![cs],
        ..rcrypto::default_provider()
    };
    let mut cfg = ServerConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(pki.chain.clone(), pki.key.clone_key())
        .unwrap();
    if !resumption {
        cfg.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
        cfg.send_tls13_tickets = 0;
    }
    Arc::new(cfg)
}

/// The reference client's rustls config: ring provider with every suite, trusting the
/// bench CA, default in-memory resumption, ALPN http/1.1 (as wsmachine sends).
pub fn reference_client_config(pki: &Pki) -> Arc<ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(pki.ca_der.clone()).unwrap();
    let mut cfg = ClientConfig::builder_with_provider(Arc::new(rcrypto::default_provider()))
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(cfg)
}

/// A wsmachine config (C ABI) trusting only the bench CA.
pub fn wsm_config(pki: &Pki) -> ws_config {
    let mut cfg = 0;
    unsafe {
        check(ws_config_new(&mut cfg));
        check(ws_config_set_builtin_roots(cfg, 0));
        check(ws_config_add_root_pem(
            cfg,
            pki.ca_pem.as_ptr(),
            pki.ca_pem.len(),
        ));
    }
    cfg
}

pub fn check(code: ws_result) {
    assert_eq!(code, ws_result::WS_OK, "C ABI call failed: {code:?}");
}

// ----- the clients under test ----------------------------------------------------------

/// How the wsmachine client takes messages out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Poll {
    /// `ws_poll_message`: a borrowed view.
    Borrow,
    /// `ws_poll_message_copy` into the caller's buffer.
    Copy,
}

/// A client under test. `send` queues one binary message and writes its bytes to the
/// pipe; `recv` reads what the pipe holds and returns the messages completed (their
/// payload is checked by length and last byte).
pub trait BenchClient {
    fn name(&self) -> String;
    fn is_open(&self) -> bool;
    /// Handshake progress: read what arrived, write what is due.
    fn step(&mut self);
    fn send(&mut self, data: &Bytes);
    fn recv(&mut self, expect_len: usize) -> usize;
    /// Whether TLS resumed a session (false for ws).
    fn is_resumed(&self) -> bool;
    /// Bytes (sent, received) on the client's pipe so far.
    fn wire(&self) -> (u64, u64);
}

/// Buffer the wsmachine caller reads the socket into and drains output into.
pub const IO_BUF: usize = 64 << 10;

/// The caller's socket buffer size: [`IO_BUF`], or `WSBENCH_IO_BUF` (experiments).
pub fn io_buf() -> usize {
    std::env::var("WSBENCH_IO_BUF")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(IO_BUF)
}

/// wsmachine through the C ABI exports, as a C or C# caller drives it.
pub struct WsmClient {
    pub c: ws_client,
    pub pipe: MemPipe,
    inbuf: Vec<u8>,
    outbuf: Vec<u8>,
    copybuf: Vec<u8>,
    pub poll: Poll,
    /// `WSM_READ_OUTPUT` was set: drain with `ws_read_output` (read once, at
    /// construction: `getenv` per flush cost more than a 16 B round trip's C calls).
    read_output: bool,
    /// `WSM_OFFER_INPUT` was set: read the pipe into the caller's buffer and offer it
    /// with `ws_offer_input` (one more copy) instead of reading into
    /// `ws_prepare_input`.
    offer_input: bool,
    /// `WSM_WINDOW_EACH_READ` was set: `ws_prepare_input` before and `ws_commit_input`
    /// after every read (two calls), instead of keeping the window lent between reads
    /// with `ws_commit_prepare_input` (one call).
    window_each_read: bool,
    /// The window `ws_commit_prepare_input` lent last (kept between reads).
    window: Option<(*mut u8, usize)>,
}

impl WsmClient {
    pub fn new(cfg: ws_config, tls: bool, pipe: MemPipe, poll: Poll) -> WsmClient {
        let url = CString::new(if tls {
            "wss://localhost/bench"
        } else {
            "ws://localhost/bench"
        })
        .unwrap();
        let mut c = 0;
        check(unsafe { ws_client_new(cfg, url.as_ptr(), &mut c) });
        let mut me = WsmClient {
            c,
            pipe,
            inbuf: vec![0; io_buf()],
            outbuf: vec![0; io_buf()],
            copybuf: Vec::new(),
            poll,
            read_output: std::env::var_os("WSM_READ_OUTPUT").is_some(),
            offer_input: std::env::var_os("WSM_OFFER_INPUT").is_some(),
            window_each_read: std::env::var_os("WSM_WINDOW_EACH_READ").is_some(),
            window: None,
        };
        me.flush();
        me
    }

    /// Drains the output into the pipe: by default through the zero-copy
    /// `ws_peek_output`/`ws_consume_output`; with `WSM_READ_OUTPUT=1` through
    /// `ws_read_output` into the caller's buffer (one more copy).
    pub fn flush(&mut self) {
        if !self.read_output {
            let (mut p, mut n) = (null(), 0usize);
            check(unsafe { ws_peek_output(self.c, &mut p, &mut n) });
            if n > 0 {
                // SAFETY: the view is valid until the next mutating call on the handle.
                let view = unsafe { std::slice::from_raw_parts(p, n) };
                self.pipe.write_all(view).unwrap();
                check(ws_consume_output(self.c, n));
            }
            // The view was all of the pending output (ws_peek_output's contract).
            return;
        }
        loop {
            let mut n = 0;
            check(unsafe {
                ws_read_output(self.c, self.outbuf.as_mut_ptr(), self.outbuf.len(), &mut n)
            });
            if n == 0 {
                return;
            }
            self.pipe.write_all(&self.outbuf[..n]).unwrap();
        }
    }

    /// Polls every ready message; returns how many data messages came out.
    fn poll_all(&mut self, expect_len: usize) -> usize {
        let mut got = 0;
        loop {
            match self.poll {
                Poll::Borrow => {
                    let mut m = ws_message {
                        kind: ws_message_kind::WS_MESSAGE_TEXT,
                        data: null(),
                        len: 0,
                        close_code: 0,
                    };
                    let r = unsafe { ws_poll_message(self.c, &mut m) };
                    if r == ws_result::WS_NEED_INPUT {
                        return got;
                    }
                    check(r);
                    if m.kind == ws_message_kind::WS_MESSAGE_BINARY {
                        assert_eq!(m.len, expect_len);
                        if m.len > 0 {
                            // SAFETY: valid until the next poll on this handle.
                            let last = unsafe { *m.data.add(m.len - 1) };
                            assert_eq!(last, payload_byte(m.len - 1));
                        }
                        got += 1;
                    }
                }
                Poll::Copy => {
                    if self.copybuf.len() < expect_len {
                        self.copybuf.resize(expect_len, 0);
                    }
                    let (mut kind, mut len, mut code) =
                        (ws_message_kind::WS_MESSAGE_TEXT, 0usize, 0u16);
                    let r = unsafe {
                        ws_poll_message_copy(
                            self.c,
                            self.copybuf.as_mut_ptr(),
                            self.copybuf.len(),
                            &mut kind,
                            &mut len,
                            &mut code,
                        )
                    };
                    if r == ws_result::WS_NEED_INPUT {
                        return got;
                    }
                    check(r);
                    if kind == ws_message_kind::WS_MESSAGE_BINARY {
                        assert_eq!(len, expect_len);
                        if len > 0 {
                            assert_eq!(self.copybuf[len - 1], payload_byte(len - 1));
                        }
                        got += 1;
                    }
                }
            }
        }
    }

    pub fn state(&self) -> ws_state {
        let mut s = ws_state::WS_STATE_FAILED;
        check(unsafe { ws_client_state(self.c, &mut s) });
        s
    }
}

impl WsmClient {
    /// Gives up the handle without freeing it (the bench buffers are dropped).
    pub fn into_handle(mut self) -> ws_client {
        std::mem::take(&mut self.c)
    }
}

impl Drop for WsmClient {
    fn drop(&mut self) {
        ws_client_free(self.c);
    }
}

impl BenchClient for WsmClient {
    fn name(&self) -> String {
        match self.poll {
            Poll::Borrow => "wsmachine".into(),
            Poll::Copy => "wsmachine (copy)".into(),
        }
    }

    fn is_open(&self) -> bool {
        self.state() == ws_state::WS_STATE_OPEN
    }

    fn step(&mut self) {
        self.recv(0);
    }

    fn is_resumed(&self) -> bool {
        let mut r = 0;
        check(unsafe { ws_client_is_resumed(self.c, &mut r) });
        r == 1
    }

    fn wire(&self) -> (u64, u64) {
        (self.pipe.sent_total(), self.pipe.recv_total())
    }

    fn send(&mut self, data: &Bytes) {
        check(unsafe { ws_send_binary(self.c, data.as_ptr(), data.len()) });
        self.flush();
    }

    fn recv(&mut self, expect_len: usize) -> usize {
        let mut got = 0;
        while !self.offer_input {
            // What poll() on a socket would say: borrow a window only when bytes wait.
            if self.pipe.readable() == 0 {
                break;
            }
            let (p, cap) = match self.window.take() {
                Some(w) => w,
                None => {
                    let (mut p, mut cap) = (null_mut(), 0usize);
                    check(unsafe { ws_prepare_input(self.c, &mut p, &mut cap) });
                    (p, cap)
                }
            };
            if cap == 0 {
                got += self.poll_all(expect_len);
                continue;
            }
            // SAFETY: the window stays lent until a commit, ws_offer_input,
            // ws_prepare_input, ws_client_trim or free; this client makes none of those
            // calls while it keeps `self.window`.
            let window = unsafe { std::slice::from_raw_parts_mut(p, cap) };
            let n = match self.pipe.read(window) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.window = Some((p, cap));
                    break;
                }
                Err(e) => panic!("{e}"),
            };
            if self.window_each_read {
                check(ws_commit_input(self.c, n));
            } else {
                let (mut next, mut next_cap) = (null_mut(), 0usize);
                check(unsafe { ws_commit_prepare_input(self.c, n, &mut next, &mut next_cap) });
                self.window = Some((next, next_cap));
            }
            got += self.poll_all(expect_len);
        }
        while self.offer_input {
            let n = match self.pipe.read(&mut self.inbuf) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("{e}"),
            };
            let mut off = 0;
            while off < n {
                let mut used = 0;
                check(unsafe {
                    ws_offer_input(self.c, self.inbuf[off..].as_ptr(), n - off, &mut used)
                });
                off += used;
                if off < n {
                    got += self.poll_all(expect_len);
                }
            }
            got += self.poll_all(expect_len);
        }
        // Automatic replies, and during the handshake the next flight.
        self.flush();
        got
    }
}

/// The reference client's byte stream.
pub enum CStream {
    Plain(MemPipe),
    Tls(Box<StreamOwned<ClientConnection, MemPipe>>),
}

impl Read for CStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            CStream::Plain(p) => p.read(buf),
            CStream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for CStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            CStream::Plain(p) => p.write(buf),
            CStream::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            CStream::Plain(p) => p.flush(),
            CStream::Tls(s) => s.flush(),
        }
    }
}

enum RefState {
    Handshaking(Box<MidHandshake<ClientHandshake<CStream>>>),
    Open(Box<WebSocket<CStream>>),
    Gone,
}

/// The reference: tungstenite's `WebSocket` (client role) over rustls
/// `StreamOwned<ClientConnection, MemPipe>`, driven directly in Rust.
pub struct RefClient {
    state: RefState,
    label: &'static str,
}

impl RefClient {
    /// `read_buffer`: `None` for tungstenite's default config, or a read buffer size.
    pub fn new(tls: Option<Arc<ClientConfig>>, pipe: MemPipe, read_buffer: Option<usize>) -> Self {
        let stream = match tls {
            Some(cfg) => {
                let conn = ClientConnection::new(cfg, "localhost".try_into().unwrap()).unwrap();
                CStream::Tls(Box::new(StreamOwned::new(conn, pipe)))
            }
            None => CStream::Plain(pipe),
        };
        let mut cfg = WebSocketConfig::default();
        let label = match read_buffer {
            Some(n) => {
                cfg = cfg.read_buffer_size(n);
                "tungstenite rb=4096"
            }
            None => "tungstenite default",
        };
        let state = match tungstenite::client::client_with_config(
            "ws://localhost/bench",
            stream,
            Some(cfg),
        ) {
            Ok((ws, _)) => RefState::Open(Box::new(ws)),
            Err(HandshakeError::Interrupted(mid)) => RefState::Handshaking(Box::new(mid)),
            Err(HandshakeError::Failure(e)) => panic!("reference handshake: {e}"),
        };
        RefClient { state, label }
    }

    fn stream(&self) -> &CStream {
        match &self.state {
            RefState::Open(ws) => ws.get_ref(),
            _ => panic!("reference not open"),
        }
    }
}

impl BenchClient for RefClient {
    fn name(&self) -> String {
        self.label.into()
    }

    fn is_open(&self) -> bool {
        matches!(self.state, RefState::Open(_))
    }

    fn step(&mut self) {
        if let RefState::Handshaking(_) = self.state {
            let RefState::Handshaking(mid) = std::mem::replace(&mut self.state, RefState::Gone)
            else {
                unreachable!()
            };
            self.state = match mid.handshake() {
                Ok((ws, _)) => RefState::Open(Box::new(ws)),
                Err(HandshakeError::Interrupted(mid)) => RefState::Handshaking(Box::new(mid)),
                Err(HandshakeError::Failure(e)) => panic!("reference handshake: {e}"),
            };
        }
        if self.is_open() {
            self.recv(0);
        }
    }

    fn is_resumed(&self) -> bool {
        match self.stream() {
            CStream::Tls(s) => s.conn.handshake_kind() == Some(rustls::HandshakeKind::Resumed),
            CStream::Plain(_) => false,
        }
    }

    fn wire(&self) -> (u64, u64) {
        let p = match self.stream() {
            CStream::Tls(s) => &s.sock,
            CStream::Plain(p) => p,
        };
        (p.sent_total(), p.recv_total())
    }

    fn send(&mut self, data: &Bytes) {
        match &mut self.state {
            // `Bytes` clones share the buffer: the reference gets its best case.
            RefState::Open(ws) => ws.send(Message::Binary(data.clone())).unwrap(),
            _ => panic!("reference not open"),
        }
    }

    fn recv(&mut self, expect_len: usize) -> usize {
        let RefState::Open(ws) = &mut self.state else {
            panic!("reference not open")
        };
        let mut got = 0;
        loop {
            match ws.read() {
                Ok(Message::Binary(b)) => {
                    assert_eq!(b.len(), expect_len);
                    if !b.is_empty() {
                        assert_eq!(b[b.len() - 1], payload_byte(b.len() - 1));
                    }
                    got += 1;
                }
                Ok(_) => {}
                Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {
                    return got
                }
                Err(e) => panic!("reference: {e}"),
            }
        }
    }
}

/// Which client implementation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Impl {
    Wsm(Poll),
    RefDefault,
    Ref4096,
}

impl Impl {
    pub fn name(self) -> &'static str {
        match self {
            Impl::Wsm(Poll::Borrow) => "wsm",
            Impl::Wsm(Poll::Copy) => "wsm-copy",
            Impl::RefDefault => "ref",
            Impl::Ref4096 => "ref4k",
        }
    }

    pub fn parse(s: &str) -> Option<Impl> {
        [
            Impl::Wsm(Poll::Borrow),
            Impl::Wsm(Poll::Copy),
            Impl::RefDefault,
            Impl::Ref4096,
        ]
        .into_iter()
        .find(|i| i.name() == s)
    }
}

/// Everything a client/server pair needs, made once per run.
pub struct Env {
    pub pki: Pki,
    pub wsm_cfg: ws_config,
    pub ref_cfg: Arc<ClientConfig>,
    pub server_aes: Arc<ServerConfig>,
    pub server_chacha: Arc<ServerConfig>,
}

impl Env {
    pub fn new() -> Env {
        let pki = Pki::new();
        Env {
            wsm_cfg: wsm_config(&pki),
            ref_cfg: reference_client_config(&pki),
            server_aes: server_config(&pki, Suite::Aes128Gcm, true),
            server_chacha: server_config(&pki, Suite::ChaCha20, true),
            pki,
        }
    }

    /// Like [`Env::new`], but the servers issue no session tickets: every wss
    /// connection makes a full handshake and the config's session store stays empty.
    pub fn new_without_resumption() -> Env {
        let pki = Pki::new();
        Env {
            wsm_cfg: wsm_config(&pki),
            ref_cfg: reference_client_config(&pki),
            server_aes: server_config(&pki, Suite::Aes128Gcm, false),
            server_chacha: server_config(&pki, Suite::ChaCha20, false),
            pki,
        }
    }

    pub fn server_tls(&self, t: Transport) -> Option<Arc<ServerConfig>> {
        match t {
            Transport::Ws => None,
            Transport::Wss(Suite::Aes128Gcm) => Some(self.server_aes.clone()),
            Transport::Wss(Suite::ChaCha20) => Some(self.server_chacha.clone()),
        }
    }

    /// A connected, open client/server pair.
    pub fn connect(&self, t: Transport, imp: Impl) -> (Box<dyn BenchClient>, Server) {
        let (cp, sp) = bench_pipe();
        let tls = t != Transport::Ws;
        let mut client: Box<dyn BenchClient> = match imp {
            Impl::Wsm(p) => Box::new(WsmClient::new(self.wsm_cfg, tls, cp, p)),
            Impl::RefDefault => {
                Box::new(RefClient::new(tls.then(|| self.ref_cfg.clone()), cp, None))
            }
            Impl::Ref4096 => Box::new(RefClient::new(
                tls.then(|| self.ref_cfg.clone()),
                cp,
                Some(4096),
            )),
        };
        let mut server = bench_server(self.server_tls(t), sp);
        handshake(client.as_mut(), &mut server);
        (client, server)
    }
}

/// Steps both sides until both are open.
pub fn handshake(client: &mut dyn BenchClient, server: &mut Server) {
    for _ in 0..100 {
        server.step();
        client.step();
        if client.is_open() && server.is_open() {
            // Let the server see the last flight, and the client take the tickets.
            server.step();
            client.step();
            return;
        }
    }
    panic!("handshake did not complete ({})", client.name());
}

/// The payload byte at offset `i` (checked at the receiving end).
pub fn payload_byte(i: usize) -> u8 {
    (i % 251) as u8
}

pub fn payload(len: usize) -> Bytes {
    Bytes::from((0..len).map(payload_byte).collect::<Vec<u8>>())
}

/// One echo round trip; returns the time spent in client code.
pub fn round_trip(client: &mut dyn BenchClient, server: &mut Server, msg: &Bytes) -> Duration {
    let t0 = Instant::now();
    client.send(msg);
    let mut spent = t0.elapsed();
    let mut got = 0;
    while got == 0 {
        server.step();
        let t1 = Instant::now();
        got = client.recv(msg.len());
        spent += t1.elapsed();
    }
    assert_eq!(got, 1);
    spent
}

/// CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID): unlike wall time, it
/// does not grow while the thread waits for a core on this shared machine. About 1 us
/// per call, so it is read per batch, not per message.
pub fn cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec.
    let r = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(r, 0);
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Minor page faults of the calling thread so far (fresh pages the kernel had to map
/// and zero: the cost of memory that the allocator returned to the OS and took back).
pub fn minor_faults() -> u64 {
    // SAFETY: an all-zero rusage is valid; getrusage fills it.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `ru` is valid and writable.
    let r = unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut ru) };
    assert_eq!(r, 0);
    ru.ru_minflt as u64
}

// ----- statistics and formatting ---------------------------------------------------------

/// The median of the values that are not NaN (NaN when there are none).
pub fn median(v: &mut [f64]) -> f64 {
    let mut v: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

pub fn size_name(n: usize) -> String {
    if n >= 1 << 20 && n % (1 << 20) == 0 {
        format!("{} MiB", n >> 20)
    } else if n >= 1 << 10 && n % (1 << 10) == 0 {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} B")
    }
}

/// Reads `--name value` from the program's arguments.
pub fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

pub fn flag(name: &str) -> bool {
    std::env::args().any(|a| a == name)
}

// ----- counting allocator ----------------------------------------------------------------

/// A global allocator that counts calls and live bytes. Install it in a bench program
/// with `#[global_allocator] static A: Counting = Counting;`. Calls are counted only
/// while [`COUNTING`] is set; live bytes are always tracked.
pub struct Counting;

pub static COUNTING: AtomicBool = AtomicBool::new(false);
pub static ALLOCS: AtomicU64 = AtomicU64::new(0);
pub static REALLOCS: AtomicU64 = AtomicU64::new(0);
pub static LIVE: AtomicI64 = AtomicI64::new(0);
/// Sizes of the first allocations made while counting (for `--trace`), and how many.
pub static TRACE: [AtomicU64; 32] = [const { AtomicU64::new(0) }; 32];
pub static TRACED: AtomicU64 = AtomicU64::new(0);

fn note(size: usize, realloc: bool) {
    let i = TRACED.fetch_add(1, Relaxed) as usize;
    if i < TRACE.len() {
        TRACE[i].store(size as u64 | (realloc as u64) << 63, Relaxed);
    }
}

/// The allocation sizes traced since the last call ("r" marks a realloc to that size).
pub fn take_trace() -> Vec<String> {
    let n = (TRACED.swap(0, Relaxed) as usize).min(TRACE.len());
    TRACE[..n]
        .iter()
        .map(|a| {
            let v = a.load(Relaxed);
            let size = v & !(1 << 63);
            if v >> 63 == 1 {
                format!("r{size}")
            } else {
                format!("{size}")
            }
        })
        .collect()
}

unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        if COUNTING.load(Relaxed) {
            ALLOCS.fetch_add(1, Relaxed);
            note(layout.size(), false);
        }
        LIVE.fetch_add(layout.size() as i64, Relaxed);
        // SAFETY: forwarded unchanged.
        unsafe { std::alloc::System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        if COUNTING.load(Relaxed) {
            ALLOCS.fetch_add(1, Relaxed);
            note(layout.size(), false);
        }
        LIVE.fetch_add(layout.size() as i64, Relaxed);
        // SAFETY: forwarded unchanged.
        unsafe { std::alloc::System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        LIVE.fetch_sub(layout.size() as i64, Relaxed);
        // SAFETY: forwarded unchanged.
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Relaxed) {
            REALLOCS.fetch_add(1, Relaxed);
            note(new_size, true);
        }
        LIVE.fetch_add(new_size as i64 - layout.size() as i64, Relaxed);
        // SAFETY: forwarded unchanged.
        unsafe { std::alloc::System.realloc(ptr, layout, new_size) }
    }
}

/// Runs `f` with allocation counting on; returns (allocs, reallocs) it made.
pub fn counted<T>(f: impl FnOnce() -> T) -> (T, u64, u64) {
    let (a0, r0) = (ALLOCS.load(Relaxed), REALLOCS.load(Relaxed));
    COUNTING.store(true, Relaxed);
    let out = f();
    COUNTING.store(false, Relaxed);
    (out, ALLOCS.load(Relaxed) - a0, REALLOCS.load(Relaxed) - r0)
}

/// Resident set size of this process, in bytes.
pub fn rss_bytes() -> u64 {
    let s = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = s
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

// ----- scattering allocator ----------------------------------------------------------------

/// Allocations at least this large are scattered; glibc copies fewer than 2,112 bytes
/// with its vector loop, which has no cliff.
const SCATTER_MIN: usize = 2048;
/// Room for the offset (up to a page) and the word that remembers the real block.
const SCATTER_PAD: usize = 4096 + 16;

/// A global allocator that places every block of at least 2 KiB at a pseudo-random
/// 16-byte step within a page (seeded, so a run can be repeated), unless
/// `WSBENCH_PLACEMENT=native`. Install it in a bench program with
/// `#[global_allocator] static A: Scatter = Scatter;`.
///
/// Why: on x86 glibc copies 2,112 B-512 KiB with `rep movsb`, which on some CPUs drops
/// to about 2 GB/s when the destination is 1-31 bytes ahead of the source modulo 4 KiB
/// (BENCHMARKS.md, "Sixth round"). With the allocator's own placement whether a given
/// copy of any implementation (client, reference or the shared server) falls in that
/// is fixed by the process's allocation history, so a cell's ratio was one draw of a
/// lottery and moved between processes. Scattered, each block draws its own place, and
/// a median over repetitions is the cost at a typical placement.
pub struct Scatter;

/// 0: not decided yet, 1: native, 2: scatter.
static PLACEMENT: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);
static SCATTER_RNG: AtomicU64 = AtomicU64::new(0x9e37_79b9_7f4a_7c15);

/// Whether blocks are scattered: decided on the first large allocation, from the
/// environment (read with libc's `getenv`, which does not allocate).
fn scattering() -> bool {
    match PLACEMENT.load(Relaxed) {
        1 => false,
        2 => true,
        _ => {
            // SAFETY: a NUL-terminated name; the result is read at once, before any
            // other code could change the environment (the bench is single-threaded).
            let native = unsafe {
                let v = libc::getenv(c"WSBENCH_PLACEMENT".as_ptr());
                !v.is_null() && std::ffi::CStr::from_ptr(v).to_bytes() == b"native"
            };
            PLACEMENT.store(if native { 1 } else { 2 }, Relaxed);
            !native
        }
    }
}

/// "scatter" or "native", for the bench's header.
pub fn placement_name() -> &'static str {
    if scattering() {
        "scatter"
    } else {
        "native"
    }
}

/// The next offset: a multiple of `align` (itself a multiple of 16) below 4 KiB.
fn scatter_offset(align: usize) -> usize {
    // xorshift64*: deterministic for a given sequence of allocations.
    let mut x = SCATTER_RNG.load(Relaxed);
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    SCATTER_RNG.store(x, Relaxed);
    let r = (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32) as usize;
    (r % 4096) / align * align
}

fn scattered(layout: std::alloc::Layout) -> bool {
    layout.size() >= SCATTER_MIN && layout.align() <= 4096 && scattering()
}

/// The layout of the real block behind a scattered one.
fn scatter_block(layout: std::alloc::Layout) -> std::alloc::Layout {
    let align = layout.align().max(16);
    std::alloc::Layout::from_size_align(layout.size() + SCATTER_PAD, align).expect("layout")
}

unsafe fn scatter_alloc(layout: std::alloc::Layout, zeroed: bool) -> *mut u8 {
    use std::alloc::GlobalAlloc;
    let block = scatter_block(layout);
    // SAFETY: `block` has a non-zero size.
    let base = unsafe {
        if zeroed {
            std::alloc::System.alloc_zeroed(block)
        } else {
            std::alloc::System.alloc(block)
        }
    };
    if base.is_null() {
        return base;
    }
    // The user's block starts one alignment (at least 16 bytes) in, plus the offset, a
    // multiple of the alignment below 4096: so `start` <= 4096 = SCATTER_PAD - 16. The
    // word before it holds `base`.
    let start = block.align() + scatter_offset(block.align());
    // SAFETY: `start` + the user's size lies within the block (its size is the user's
    // plus SCATTER_PAD), and `start` >= 16 leaves room for the word, which is aligned
    // because `start` is a multiple of 16.
    unsafe {
        let p = base.add(start);
        (p as *mut *mut u8).sub(1).write(base);
        p
    }
}

unsafe fn scatter_dealloc(ptr: *mut u8, layout: std::alloc::Layout) {
    use std::alloc::GlobalAlloc;
    // SAFETY: `ptr` came from `scatter_alloc` with this layout, which wrote the word.
    unsafe {
        let base = (ptr as *mut *mut u8).sub(1).read();
        std::alloc::System.dealloc(base, scatter_block(layout));
    }
}

unsafe impl std::alloc::GlobalAlloc for Scatter {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        if scattered(layout) {
            // SAFETY: forwarded contract.
            unsafe { scatter_alloc(layout, false) }
        } else {
            // SAFETY: forwarded unchanged.
            unsafe { std::alloc::System.alloc(layout) }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        if scattered(layout) {
            // SAFETY: forwarded contract.
            unsafe { scatter_alloc(layout, true) }
        } else {
            // SAFETY: forwarded unchanged.
            unsafe { std::alloc::System.alloc_zeroed(layout) }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        if scattered(layout) {
            // SAFETY: a scattered layout was allocated by `scatter_alloc`.
            unsafe { scatter_dealloc(ptr, layout) }
        } else {
            // SAFETY: forwarded unchanged.
            unsafe { std::alloc::System.dealloc(ptr, layout) }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees a valid new layout.
        let new =
            unsafe { std::alloc::Layout::from_size_align_unchecked(new_size, layout.align()) };
        match (scattered(layout), scattered(new)) {
            // SAFETY: forwarded unchanged.
            (false, false) => return unsafe { std::alloc::System.realloc(ptr, layout, new_size) },
            // The real block is resized by the system's `realloc`, in place where it can
            // be, as it would without scattering (rustls's read buffer grows and shrinks
            // so); the user's block keeps its offset in it.
            // SAFETY: `ptr` came from `scatter_alloc` with `layout`; the offset is at
            // most SCATTER_PAD - 16, so the user's block fits in the new real block.
            (true, true) => unsafe {
                let base = (ptr as *mut *mut u8).sub(1).read();
                let start = ptr.offset_from(base) as usize;
                let block = scatter_block(layout);
                let moved = std::alloc::System.realloc(base, block, new_size + SCATTER_PAD);
                if moved.is_null() {
                    return moved;
                }
                let p = moved.add(start);
                (p as *mut *mut u8).sub(1).write(moved);
                return p;
            },
            _ => {}
        }
        // Into or out of the scattered sizes: a fresh block and a copy (std's default
        // `realloc`).
        // SAFETY: as `GlobalAlloc::realloc`'s default body.
        unsafe {
            let p = self.alloc(new);
            if !p.is_null() {
                std::ptr::copy_nonoverlapping(ptr, p, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
            p
        }
    }
}
