//! Test harness: an in-memory pipe between a wsmachine client and a real server
//! built from rustls (ServerConnection) and tungstenite (server-role WebSocket),
//! the one in `server.rs` that the benchmarks use too. No sockets, no mocks: both
//! sides speak real TLS and real WebSocket framing.
#![allow(dead_code)]

use std::sync::Arc;

use rustls::ServerConfig;
use wsmachine::{Client, Config, MessageKind, Poll};

mod pki;
mod server;
pub use pki::{Leaf, Pki};
#[allow(unused_imports)] // each test program uses some of them
pub use server::{accept, answer, Answer, MemPipe, Phase, Server, Stream};

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

/// A received message, owned.
#[derive(Debug, Clone, PartialEq)]
pub struct Got {
    pub kind: MessageKind,
    pub data: Vec<u8>,
    pub code: u16,
}

/// Polls every message the client has ready into `got`.
pub fn drain_into(client: &mut Client, got: &mut Vec<Got>) -> wsmachine::Result<()> {
    loop {
        match client.poll_message()? {
            Poll::Message(m) => got.push(Got {
                kind: m.kind,
                data: m.data.to_vec(),
                code: m.close_code,
            }),
            Poll::NeedInput | Poll::Closed => return Ok(()),
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
            self.server.mem().push(&buf[..n]);
        }
        self.server.step();
        let out = self.server.mem().take();
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
        drain_into(&mut self.client, &mut self.got)
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

// ----- raw server bytes (for tests that play the server themselves) -----------------

/// `n` TLS handshake records of one byte each: the start of a ServerHello that
/// announces 65,535 bytes (a peer that makes the client join a large handshake message
/// from tiny records, each record's header kept until the message is whole).
pub fn server_hello_in_one_byte_records(n: usize) -> Vec<u8> {
    let mut wire = Vec::with_capacity(n * 6);
    for i in 0..n {
        let b = match i {
            0 => 2,
            1 => 0,
            2 | 3 => 0xff,
            _ => 0x41,
        };
        wire.extend_from_slice(&[0x16, 0x03, 0x03, 0x00, 0x01, b]);
    }
    wire
}

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
