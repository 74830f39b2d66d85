//! Test harness: an in-memory pipe between a wsmachine client and a real server
//! built from rustls (ServerConnection) and tungstenite (server-role WebSocket).
//! No sockets, no mocks: both sides speak real TLS and real WebSocket framing.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::{ServerConfig, ServerConnection, StreamOwned};
use tungstenite::protocol::{Role, WebSocketConfig};
use tungstenite::{Message, WebSocket};
use wsmachine::{Client, Config, MessageKind, Poll};

mod pki;
pub use pki::{Leaf, Pki};

pub fn server_config(
    leaf: &Leaf,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Arc<ServerConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(leaf.chain.clone(), leaf.key.clone_key())
        .unwrap();
    Arc::new(cfg)
}

/// One side of an in-memory duplex: reads from `inbox` (WouldBlock when empty).
#[derive(Default)]
pub struct Mem {
    pub inbox: VecDeque<u8>,
    pub outbox: Vec<u8>,
    pub eof: bool,
}

impl Read for Mem {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.inbox.is_empty() {
            if self.eof {
                return Ok(0);
            }
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = self.inbox.read(buf)?;
        Ok(n)
    }
}

impl Write for Mem {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.outbox.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

pub enum Stream {
    Plain(Mem),
    Tls(Box<StreamOwned<ServerConnection, Mem>>),
}

impl Stream {
    pub fn mem(&mut self) -> &mut Mem {
        match self {
            Stream::Plain(m) => m,
            Stream::Tls(s) => &mut s.sock,
        }
    }
    pub fn tls(&self) -> Option<&ServerConnection> {
        match self {
            Stream::Plain(_) => None,
            Stream::Tls(s) => Some(&s.conn),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(m) => m.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(m) => m.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(m) => m.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

/// How the server answers the upgrade request.
#[derive(Clone)]
pub enum Answer {
    /// A correct 101, then `extra` raw bytes in the same write.
    Accept {
        extra: Vec<u8>,
        protocol: Option<String>,
    },
    /// A correct 101 that accepts an extension with this header value.
    AcceptExt(String),
    /// A wrong Sec-WebSocket-Accept.
    BadAccept,
    /// HTTP 403.
    Forbidden,
    /// Arbitrary bytes instead of an HTTP response.
    Raw(Vec<u8>),
}

pub enum Phase {
    Request(Vec<u8>),
    Ws(Box<WebSocket<Stream>>),
    Done,
}

/// A received message, owned.
#[derive(Debug, Clone, PartialEq)]
pub struct Got {
    pub kind: MessageKind,
    pub data: Vec<u8>,
    pub code: u16,
}

pub struct Server {
    pub stream: Option<Stream>,
    pub phase: Phase,
    pub answer: Answer,
    pub echo: bool,
    pub received: Vec<Message>,
    pub request_head: String,
    pub server_error: Option<String>,
}

impl Server {
    pub fn new(tls: Option<Arc<ServerConfig>>, answer: Answer) -> Server {
        let stream = match tls {
            Some(cfg) => Stream::Tls(Box::new(StreamOwned::new(
                ServerConnection::new(cfg).unwrap(),
                Mem::default(),
            ))),
            None => Stream::Plain(Mem::default()),
        };
        Server {
            stream: Some(stream),
            phase: Phase::Request(Vec::new()),
            answer,
            echo: true,
            received: Vec::new(),
            request_head: String::new(),
            server_error: None,
        }
    }

    pub fn mem(&mut self) -> &mut Mem {
        match &mut self.phase {
            Phase::Ws(ws) => ws.get_mut().mem(),
            _ => self.stream.as_mut().unwrap().mem(),
        }
    }

    pub fn ws(&mut self) -> &mut WebSocket<Stream> {
        match &mut self.phase {
            Phase::Ws(ws) => ws,
            _ => panic!("server not open"),
        }
    }

    /// Writes raw bytes into the server's stream (through TLS if any).
    pub fn write_raw(&mut self, bytes: &[u8]) {
        let s = match &mut self.phase {
            Phase::Ws(ws) => ws.get_mut(),
            _ => self.stream.as_mut().unwrap(),
        };
        s.write_all(bytes).unwrap();
        s.flush().unwrap();
    }

    /// Does whatever the server can do with the input it has.
    pub fn step(&mut self) {
        if let Phase::Request(buf) = &mut self.phase {
            let s = self.stream.as_mut().unwrap();
            let mut tmp = [0u8; 4096];
            loop {
                match s.read(&mut tmp) {
                    Ok(0) => break,
                    Ok(n) => buf.extend_from_slice(&tmp[..n]),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) => {
                        // A TLS failure on the server side: send its alert, stop.
                        if let Stream::Tls(t) = s {
                            while t.conn.wants_write() {
                                t.conn.write_tls(&mut t.sock).unwrap();
                            }
                        }
                        self.server_error = Some(e.to_string());
                        self.phase = Phase::Done;
                        return;
                    }
                }
            }
            // Drive TLS output (handshake) even when no plaintext arrived.
            let _ = s.flush();
            if let Stream::Tls(t) = s {
                while t.conn.wants_write() {
                    t.conn.write_tls(&mut t.sock).unwrap();
                }
            }
            let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                return;
            };
            let head = String::from_utf8(buf[..end + 4].to_vec()).unwrap();
            let rest = buf[end + 4..].to_vec();
            assert!(rest.is_empty(), "client sent frames before the 101");
            self.request_head = head.clone();
            let key = head
                .lines()
                .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
                .expect("Sec-WebSocket-Key")
                .trim()
                .to_string();
            let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
            let mut stream = self.stream.take().unwrap();
            let response = match &self.answer {
                Answer::Accept { extra, protocol } => {
                    let mut r = format!(
                        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n"
                    );
                    if let Some(p) = protocol {
                        r.push_str(&format!("Sec-WebSocket-Protocol: {p}\r\n"));
                    }
                    r.push_str("\r\n");
                    let mut v = r.into_bytes();
                    v.extend_from_slice(extra);
                    v
                }
                                Answer::AcceptExt(ext) => format!(
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\nSec-WebSocket-Extensions: {ext}\r\n\r\n"
                )
                .into_bytes(),
                Answer::BadAccept => b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n".to_vec(),
                Answer::Forbidden => b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n".to_vec(),
                Answer::Raw(b) => b.clone(),
            };
            stream.write_all(&response).unwrap();
            stream.flush().unwrap();
            if matches!(self.answer, Answer::Accept { .. } | Answer::AcceptExt(_)) {
                let cfg = WebSocketConfig::default()
                    .max_message_size(None)
                    .max_frame_size(None);
                self.phase = Phase::Ws(Box::new(WebSocket::from_raw_socket(
                    stream,
                    Role::Server,
                    Some(cfg),
                )));
            } else {
                self.stream = Some(stream);
                self.phase = Phase::Done;
            }
            return;
        }
        if let Phase::Ws(ws) = &mut self.phase {
            loop {
                match ws.read() {
                    Ok(msg) => {
                        if self.echo && (msg.is_text() || msg.is_binary()) {
                            ws.send(msg.clone()).unwrap();
                        }
                        self.received.push(msg);
                    }
                    Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {
                        break
                    }
                    Err(tungstenite::Error::ConnectionClosed)
                    | Err(tungstenite::Error::AlreadyClosed) => break,
                    Err(e) => panic!("server ws error: {e}"),
                }
            }
            let _ = ws.flush();
        }
    }
}

/// Client and server joined in memory.
pub struct Pipe {
    pub client: Client,
    pub server: Server,
    /// Bytes per `offer_input` call (1 = byte at a time).
    pub step: usize,
    pub got: Vec<Got>,
    pub to_server_bytes: usize,
    /// Deliver input through `input_window`/`commit_input` instead of `offer_input`.
    pub use_window: bool,
}

pub struct Setup {
    pub pki: Pki,
    pub config: Config,
    pub server_tls: Arc<ServerConfig>,
}

impl Setup {
    /// A PKI, a server cert for localhost, and a client config trusting the CA.
    pub fn new() -> Setup {
        let pki = Pki::new();
        let leaf = pki.leaf(&["localhost"]);
        let server_tls = server_config(&leaf, &[&rustls::version::TLS13, &rustls::version::TLS12]);
        let mut config = Config::new();
        config.add_root_pem(pki.ca_pem.as_bytes()).unwrap();
        Setup {
            pki,
            config,
            server_tls,
        }
    }

    pub fn pipe(&self) -> Pipe {
        Pipe::new(
            &self.config,
            "wss://localhost/chat",
            Server::new(Some(self.server_tls.clone()), accept()),
        )
    }
}

pub fn accept() -> Answer {
    Answer::Accept {
        extra: Vec::new(),
        protocol: None,
    }
}

impl Pipe {
    pub fn new(config: &Config, url: &str, server: Server) -> Pipe {
        Pipe {
            client: Client::new(config, url).unwrap(),
            server,
            step: 64 << 10,
            got: Vec::new(),
            to_server_bytes: 0,
            use_window: false,
        }
    }

    /// Moves bytes both ways once and lets the server act. Returns the client's
    /// first error, if any.
    pub fn pump(&mut self) -> wsmachine::Result<bool> {
        let mut moved = false;
        let mut buf = vec![0u8; 32 << 10];
        loop {
            let n = self.client.read_output(&mut buf).unwrap_or_default();
            if n == 0 {
                break;
            }
            moved = true;
            self.to_server_bytes += n;
            self.server.mem().inbox.extend(&buf[..n]);
        }
        self.server.step();
        let out = std::mem::take(&mut self.server.mem().outbox);
        moved |= !out.is_empty();
        for chunk in out.chunks(self.step.max(1)) {
            let mut off = 0;
            while off < chunk.len() {
                let n = if self.use_window {
                    let window = self.client.input_window()?;
                    let n = window.len().min(chunk.len() - off);
                    window[..n].copy_from_slice(&chunk[off..off + n]);
                    self.client.commit_input(n)?;
                    n
                } else {
                    self.client.offer_input(&chunk[off..])?
                };
                off += n;
                if n == 0 {
                    self.drain()?;
                }
            }
        }
        self.drain()?;
        Ok(moved)
    }

    pub fn drain(&mut self) -> wsmachine::Result<()> {
        loop {
            match self.client.poll_message()? {
                Poll::Message(m) => self.got.push(Got {
                    kind: m.kind,
                    data: m.data.to_vec(),
                    code: m.close_code,
                }),
                Poll::NeedInput | Poll::Closed => return Ok(()),
            }
        }
    }

    /// Pumps until nothing moves; returns the client's error if one occurred.
    pub fn run(&mut self) -> wsmachine::Result<()> {
        for _ in 0..10_000 {
            if !self.pump()? {
                return Ok(());
            }
        }
        panic!("pipe did not settle");
    }

    pub fn open(&mut self) {
        self.run().unwrap();
        assert_eq!(
            self.client.state(),
            wsmachine::State::Open,
            "{:?}",
            self.client.last_error()
        );
    }

    pub fn take_got(&mut self) -> Vec<Got> {
        std::mem::take(&mut self.got)
    }

    /// Sends `payload` as a `kind` message, runs the pipe, and checks that exactly
    /// that message came back.
    pub fn echo(&mut self, kind: MessageKind, payload: &[u8]) {
        match kind {
            MessageKind::Text => self.client.send_text(payload).unwrap(),
            _ => self.client.send_binary(payload).unwrap(),
        }
        self.run().unwrap();
        let got = self.take_got();
        assert_eq!(got.len(), 1, "one echo expected");
        assert_eq!(got[0].kind, kind);
        assert!(
            got[0].data == payload,
            "payload of {} bytes differs",
            payload.len()
        );
    }
}

impl Server {
    /// Whether the server side resumed the TLS session.
    pub fn stream_resumed(&mut self) -> bool {
        let conn = match &mut self.phase {
            Phase::Ws(ws) => ws.get_ref().tls(),
            _ => self.stream.as_ref().unwrap().tls(),
        };
        conn.and_then(|c| c.handshake_kind()) == Some(rustls::HandshakeKind::Resumed)
    }
}

impl Server {
    /// The certificates the client presented (mutual TLS).
    pub fn peer_certificates(&mut self) -> Vec<CertificateDer<'static>> {
        let conn = match &mut self.phase {
            Phase::Ws(ws) => ws.get_ref().tls(),
            _ => self.stream.as_ref().unwrap().tls(),
        };
        conn.and_then(|c| c.peer_certificates())
            .map(|c| c.to_vec())
            .unwrap_or_default()
    }
}

// ----- raw server bytes (for tests that play the server themselves) -----------------

/// A server frame (unmasked), final unless `fin` is false.
pub fn frame(op: u8, fin: bool, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![op | if fin { 0x80 } else { 0 }];
    if payload.len() < 126 {
        v.push(payload.len() as u8);
    } else if payload.len() <= 0xffff {
        v.push(126);
        v.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    } else {
        v.push(127);
        v.extend_from_slice(&(payload.len() as u64).to_be_bytes());
    }
    v.extend_from_slice(payload);
    v
}

/// The 101 answer to the upgrade request in `request`, with extra header lines.
pub fn answer(request: &[u8], extra: &str) -> Vec<u8> {
    let head = String::from_utf8_lossy(request);
    let key = head
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
        .expect("a key")
        .trim();
    let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n{extra}\r\n"
    )
    .into_bytes()
}
