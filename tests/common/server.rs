//! The in-memory server shared by the tests (`tests/common`) and the benchmarks
//! (`benches/support`, which includes this file by path): a duplex pipe standing in
//! for a non-blocking socket, and a real server on it built from rustls
//! (`ServerConnection`) and tungstenite (server-role `WebSocket`). No sockets, no
//! mocks: both sides speak real TLS and real WebSocket framing.
//!
//! The benchmarks tune two things through parameters rather than a copy of their
//! own: where the pipe's bytes lie in memory ([`Placement`]) and the server's
//! tungstenite config ([`Server::ws_config`]), and they keep no log of what the
//! server received ([`Server::record`]).
#![allow(dead_code)]

use std::cell::RefCell;
use std::io::{self, IoSlice, Read, Write};
use std::rc::Rc;
use std::sync::Arc;

use rustls::{ServerConfig, ServerConnection, StreamOwned};
use tungstenite::protocol::{Role, WebSocketConfig};
use tungstenite::{Bytes, Message, WebSocket};

// ----- in-memory pipe ------------------------------------------------------------------

/// Where a pipe direction keeps its bytes.
#[derive(Clone, Copy, Debug, Default)]
pub struct Placement {
    /// Bytes reserved up front (the buffer grows only beyond this), so that how a
    /// writer chunks its bytes does not change where they land.
    pub capacity: usize,
    /// How far from the start of the buffer the bytes start. Large buffers come
    /// from mmap, page aligned; a skew keeps a reader's copies out of the pipe from
    /// landing at the same offset modulo 4096 as their source ("4K aliasing", up to
    /// 3x slower copies), which the benchmarks must avoid; tests use 0.
    pub skew: usize,
}

/// One direction of the pipe: bytes written and not yet read, `data[skew + pos..]`.
struct Buf {
    data: Vec<u8>,
    pos: usize,
    skew: usize,
    /// Every byte ever written (for bytes-on-the-wire counts).
    total: u64,
}

impl Buf {
    fn new(at: Placement) -> Buf {
        let mut data = Vec::with_capacity(at.capacity.max(at.skew));
        data.resize(at.skew, 0);
        Buf {
            data,
            pos: 0,
            skew: at.skew,
            total: 0,
        }
    }

    fn readable(&self) -> usize {
        self.data.len() - self.skew - self.pos
    }
}

/// One end of an in-memory duplex, standing in for a non-blocking socket: `read` is
/// `WouldBlock` when nothing is waiting, `write` always takes everything.
pub struct MemPipe {
    rx: Rc<RefCell<Buf>>,
    tx: Rc<RefCell<Buf>>,
}

impl MemPipe {
    /// Two connected ends, bytes at the start of buffers that grow as needed.
    pub fn pair() -> (MemPipe, MemPipe) {
        MemPipe::pair_at(Placement::default())
    }

    /// Two connected ends whose buffers follow `at`.
    pub fn pair_at(at: Placement) -> (MemPipe, MemPipe) {
        let a = Rc::new(RefCell::new(Buf::new(at)));
        let b = Rc::new(RefCell::new(Buf::new(at)));
        (
            MemPipe {
                rx: a.clone(),
                tx: b.clone(),
            },
            MemPipe { rx: b, tx: a },
        )
    }

    /// Bytes this end has written in total.
    pub fn sent_total(&self) -> u64 {
        self.tx.borrow().total
    }

    /// Bytes this end has been sent in total (read or not).
    pub fn recv_total(&self) -> u64 {
        self.rx.borrow().total
    }

    /// Bytes waiting to be read at this end.
    pub fn readable(&self) -> usize {
        self.rx.borrow().readable()
    }

    /// Bytes this end wrote that the other end has not read yet.
    pub fn in_flight(&self) -> usize {
        self.tx.borrow().readable()
    }

    /// Writes `bytes` towards the other end.
    pub fn push(&mut self, bytes: &[u8]) {
        self.write_all(bytes).unwrap();
    }

    /// Reads everything waiting at this end.
    pub fn take(&mut self) -> Vec<u8> {
        let mut v = vec![0; self.readable()];
        if !v.is_empty() {
            self.read_exact(&mut v).unwrap();
        }
        v
    }
}

impl Read for MemPipe {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let mut b = self.rx.borrow_mut();
        let avail = b.readable();
        if avail == 0 {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = avail.min(out.len());
        let start = b.skew + b.pos;
        out[..n].copy_from_slice(&b.data[start..start + n]);
        b.pos += n;
        if b.readable() == 0 {
            let skew = b.skew;
            b.data.truncate(skew);
            b.pos = 0;
        }
        Ok(n)
    }
}

impl Write for MemPipe {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut b = self.tx.borrow_mut();
        b.data.extend_from_slice(buf);
        b.total += buf.len() as u64;
        Ok(buf.len())
    }

    // Takes every slice (the default takes only the first), so rustls's `write_tls`
    // moves all its records in one call, as `writev` on a socket would.
    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let mut b = self.tx.borrow_mut();
        let mut n = 0;
        for s in bufs {
            b.data.extend_from_slice(s);
            n += s.len();
        }
        b.total += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

// ----- the server ----------------------------------------------------------------------

/// The server's byte stream: plain or rustls over its end of the pipe.
pub enum Stream {
    Plain(MemPipe),
    Tls(Box<StreamOwned<ServerConnection, MemPipe>>),
}

impl Stream {
    pub fn pipe(&mut self) -> &mut MemPipe {
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
    pub fn tls_mut(&mut self) -> Option<&mut ServerConnection> {
        match self {
            Stream::Plain(_) => None,
            Stream::Tls(s) => Some(&mut s.conn),
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

/// A correct 101 and nothing more.
pub fn accept() -> Answer {
    Answer::Accept {
        extra: Vec::new(),
        protocol: None,
    }
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

pub enum Phase {
    Request(Vec<u8>),
    Ws(Box<WebSocket<Stream>>),
    Done,
}

pub struct Server {
    pub stream: Option<Stream>,
    pub phase: Phase,
    pub answer: Answer,
    /// The tungstenite config of the WebSocket made after the 101 (set it before).
    pub ws_config: WebSocketConfig,
    /// Echo every text and binary message.
    pub echo: bool,
    /// Keep every message in `received`.
    pub record: bool,
    pub received: Vec<Message>,
    /// How many messages arrived (recorded or not).
    pub received_count: u64,
    pub request_head: String,
    pub server_error: Option<String>,
    /// The other end of the server's pipe, when [`Server::new`] made the pipe.
    peer: Option<MemPipe>,
}

impl Server {
    /// A server on a fresh pipe whose other end [`Server::mem`] gives.
    pub fn new(tls: Option<Arc<ServerConfig>>, answer: Answer) -> Server {
        let (ours, theirs) = MemPipe::pair();
        let mut s = Server::on_pipe(tls, answer, ours);
        s.peer = Some(theirs);
        s
    }

    /// A server on `pipe` (the caller holds the other end).
    pub fn on_pipe(tls: Option<Arc<ServerConfig>>, answer: Answer, pipe: MemPipe) -> Server {
        let stream = match tls {
            Some(cfg) => Stream::Tls(Box::new(StreamOwned::new(
                ServerConnection::new(cfg).unwrap(),
                pipe,
            ))),
            None => Stream::Plain(pipe),
        };
        Server {
            stream: Some(stream),
            phase: Phase::Request(Vec::new()),
            answer,
            ws_config: WebSocketConfig::default()
                .max_message_size(None)
                .max_frame_size(None),
            echo: true,
            record: true,
            received: Vec::new(),
            received_count: 0,
            request_head: String::new(),
            server_error: None,
            peer: None,
        }
    }

    /// The client's end of the pipe (made by [`Server::new`]): push the client's
    /// bytes into it, take the server's bytes out of it.
    pub fn mem(&mut self) -> &mut MemPipe {
        self.peer.as_mut().expect("a server made by Server::new")
    }

    /// Whether the upgrade was answered with a 101.
    pub fn is_open(&self) -> bool {
        matches!(self.phase, Phase::Ws(_))
    }

    pub fn ws(&mut self) -> &mut WebSocket<Stream> {
        match &mut self.phase {
            Phase::Ws(ws) => ws,
            _ => panic!("server not open"),
        }
    }

    /// Sends one binary message.
    pub fn send(&mut self, data: &Bytes) {
        self.ws().send(Message::Binary(data.clone())).unwrap();
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
            let mut stream = self.stream.take().unwrap();
            let response = match &self.answer {
                Answer::Accept { extra, protocol } => {
                    let line = match protocol {
                        Some(p) => format!("Sec-WebSocket-Protocol: {p}\r\n"),
                        None => String::new(),
                    };
                    let mut v = answer(head.as_bytes(), &line);
                    v.extend_from_slice(extra);
                    v
                }
                Answer::AcceptExt(ext) => {
                    answer(head.as_bytes(), &format!("Sec-WebSocket-Extensions: {ext}\r\n"))
                }
                Answer::BadAccept => b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n".to_vec(),
                Answer::Forbidden => b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n".to_vec(),
                Answer::Raw(b) => b.clone(),
            };
            self.request_head = head;
            stream.write_all(&response).unwrap();
            stream.flush().unwrap();
            if matches!(self.answer, Answer::Accept { .. } | Answer::AcceptExt(_)) {
                self.phase = Phase::Ws(Box::new(WebSocket::from_raw_socket(
                    stream,
                    Role::Server,
                    Some(self.ws_config),
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
                        self.received_count += 1;
                        let echo = self.echo && (msg.is_text() || msg.is_binary());
                        if self.record {
                            self.received.push(msg.clone());
                        }
                        if echo {
                            ws.send(msg).unwrap();
                        }
                    }
                    Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {
                        break
                    }
                    Err(tungstenite::Error::ConnectionClosed)
                    | Err(tungstenite::Error::AlreadyClosed) => break,
                    Err(e) => panic!("server ws error: {e}"),
                }
            }
            // Session tickets and anything else rustls holds.
            let _ = ws.flush();
        }
    }

    fn conn(&self) -> Option<&ServerConnection> {
        match &self.phase {
            Phase::Ws(ws) => ws.get_ref().tls(),
            _ => self.stream.as_ref().unwrap().tls(),
        }
    }

    /// Whether the server side resumed the TLS session.
    pub fn stream_resumed(&mut self) -> bool {
        self.conn().and_then(|c| c.handshake_kind()) == Some(rustls::HandshakeKind::Resumed)
    }

    /// The certificates the client presented (mutual TLS).
    pub fn peer_certificates(&mut self) -> Vec<rustls::pki_types::CertificateDer<'static>> {
        self.conn()
            .and_then(|c| c.peer_certificates())
            .map(|c| c.to_vec())
            .unwrap_or_default()
    }
}
