//! The TLS object (`ws_tls_*`, through the C ABI) against rustls's own
//! `ClientConnection` driven directly, in one process, against the same in-memory
//! rustls server (TLS 1.3, AES-128-GCM).
//!
//! `cargo bench --bench tls_object` prints MiB per CPU second (this thread: client and
//! server together, the server's share is the same for both) for:
//! 1. bulk plaintext client to server, in writes of 16 KiB (one record) and 1 MiB;
//! 2. bulk plaintext server to client, in 16 KiB records;
//! 3. small-record round trips (64 bytes each way), round trips per CPU second.
//!
//! Both clients move ciphertext through the same 64 KiB caller buffer ("the socket"):
//! `ws_tls_read_output` / `ws_tls_offer_input` for wsmachine, `write_tls` / `read_tls`
//! for rustls. Options: `--reps N` (default 9), `--quick` (3 reps, less data).
#![allow(clippy::print_stdout)]

mod support;

use std::ffi::CString;
use std::io::{Read, Write};
use std::sync::Arc;

use rustls::{ClientConnection, ServerConnection};
use support::*;
use wsmachine::ffi::*;

const IO: usize = 64 << 10;
const MIB: f64 = (1 << 20) as f64;

/// A TLS client under test.
trait Tls {
    /// Queues plaintext; returns how much was taken.
    fn write(&mut self, data: &[u8]) -> usize;
    /// Ciphertext out into `buf`; 0 when none.
    fn output(&mut self, buf: &mut [u8]) -> usize;
    /// Ciphertext in; returns how much was taken.
    fn input(&mut self, data: &[u8]) -> usize;
    /// Plaintext out; 0 when none.
    fn read(&mut self, buf: &mut [u8]) -> usize;
    fn handshaking(&self) -> bool;
}

struct Wsm(ws_tls);

impl Tls for Wsm {
    fn write(&mut self, data: &[u8]) -> usize {
        let mut n = 0;
        check(unsafe { ws_tls_write(self.0, data.as_ptr(), data.len(), &mut n) });
        n
    }
    fn output(&mut self, buf: &mut [u8]) -> usize {
        let mut n = 0;
        check(unsafe { ws_tls_read_output(self.0, buf.as_mut_ptr(), buf.len(), &mut n) });
        n
    }
    fn input(&mut self, data: &[u8]) -> usize {
        let mut n = 0;
        check(unsafe { ws_tls_offer_input(self.0, data.as_ptr(), data.len(), &mut n) });
        n
    }
    fn read(&mut self, buf: &mut [u8]) -> usize {
        let mut n = 0;
        match unsafe { ws_tls_read(self.0, buf.as_mut_ptr(), buf.len(), &mut n) } {
            ws_result::WS_OK => n,
            ws_result::WS_NEED_INPUT => 0,
            rc => panic!("ws_tls_read: {rc:?}"),
        }
    }
    fn handshaking(&self) -> bool {
        let mut s = ws_state::WS_STATE_FAILED;
        check(unsafe { ws_tls_state(self.0, &mut s) });
        s == ws_state::WS_STATE_TLS_HANDSHAKING
    }
}

impl Drop for Wsm {
    fn drop(&mut self) {
        ws_tls_free(self.0);
    }
}

struct Ref(ClientConnection);

impl Tls for Ref {
    fn write(&mut self, data: &[u8]) -> usize {
        self.0.writer().write(data).unwrap()
    }
    fn output(&mut self, mut buf: &mut [u8]) -> usize {
        let mut total = 0;
        while !buf.is_empty() && self.0.wants_write() {
            let n = self.0.write_tls(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            total += n;
        }
        total
    }
    fn input(&mut self, mut data: &[u8]) -> usize {
        let len = data.len();
        while !data.is_empty() {
            match self.0.read_tls(&mut data) {
                Ok(0) => break,
                Ok(_) => {
                    self.0.process_new_packets().unwrap();
                }
                // Plaintext buffer full: the caller reads first.
                Err(_) => break,
            }
        }
        len - data.len()
    }
    fn read(&mut self, buf: &mut [u8]) -> usize {
        match self.0.reader().read(buf) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => 0,
            Err(e) => panic!("read: {e}"),
        }
    }
    fn handshaking(&self) -> bool {
        self.0.is_handshaking()
    }
}

struct Setup {
    pki: Pki,
    server: Arc<rustls::ServerConfig>,
    client: Arc<rustls::ClientConfig>,
    cfg: ws_config,
}

impl Setup {
    fn new() -> Setup {
        let pki = Pki::new();
        let server = server_config(&pki, Suite::Aes128Gcm, false);
        let mut client = (*reference_client_config(&pki)).clone();
        client.alpn_protocols.clear(); // the TLS object offers none either
        let cfg = wsm_config(&pki);
        Setup {
            pki,
            server,
            client: Arc::new(client),
            cfg,
        }
    }

    fn connect(&self, wsm: bool) -> (Box<dyn Tls>, ServerConnection) {
        let mut c: Box<dyn Tls> = if wsm {
            let name = CString::new("localhost").unwrap();
            let mut t = 0;
            check(unsafe { ws_tls_new(self.cfg, name.as_ptr(), &mut t) });
            Box::new(Wsm(t))
        } else {
            let name = "localhost".try_into().unwrap();
            let mut conn = ClientConnection::new(self.client.clone(), name).unwrap();
            conn.set_buffer_limit(None);
            Box::new(Ref(conn))
        };
        let mut s = ServerConnection::new(self.server.clone()).unwrap();
        s.set_buffer_limit(None);
        let mut io = vec![0u8; IO];
        while c.handshaking() || s.is_handshaking() {
            to_server(&mut *c, &mut s, &mut io);
            to_client(&mut s, &mut *c, &mut io, &mut Vec::new());
        }
        let _ = &self.pki;
        (c, s)
    }
}

/// Moves the client's ciphertext to the server; returns the plaintext bytes the server read.
fn to_server(c: &mut dyn Tls, s: &mut ServerConnection, io: &mut [u8]) -> usize {
    let mut plain = 0;
    let mut sink = [0u8; 16 << 10];
    loop {
        let n = c.output(io);
        if n == 0 {
            return plain;
        }
        let mut rd = &io[..n];
        while !rd.is_empty() {
            s.read_tls(&mut rd).unwrap();
            s.process_new_packets().unwrap();
            loop {
                match s.reader().read(&mut sink) {
                    Ok(0) => break,
                    Ok(k) => plain += k,
                    Err(_) => break,
                }
            }
        }
    }
}

/// Moves the server's ciphertext to the client, reading the client's plaintext into
/// `got` (only its length is kept, to stay cheap); returns the plaintext bytes read.
fn to_client(s: &mut ServerConnection, c: &mut dyn Tls, io: &mut [u8], got: &mut Vec<u8>) -> usize {
    let mut plain = 0;
    let mut buf = [0u8; 16 << 10];
    while s.wants_write() {
        let mut w = &mut io[..];
        let mut n = 0;
        while !w.is_empty() && s.wants_write() {
            let k = s.write_tls(&mut w).unwrap();
            if k == 0 {
                break;
            }
            n += k;
        }
        let mut off = 0;
        while off < n {
            off += c.input(&io[off..n]);
            loop {
                let k = c.read(&mut buf);
                if k == 0 {
                    break;
                }
                plain += k;
            }
        }
    }
    got.clear();
    plain
}

fn bulk_up(setup: &Setup, wsm: bool, write: usize, total: usize) -> f64 {
    let (mut c, mut s) = setup.connect(wsm);
    let data = vec![0x5au8; write];
    let mut io = vec![0u8; IO];
    let t0 = cpu_time();
    let mut got = 0;
    let mut sent = 0;
    while sent < total {
        let mut rest = &data[..];
        while !rest.is_empty() {
            let n = c.write(rest);
            rest = &rest[n..];
            got += to_server(&mut *c, &mut s, &mut io);
        }
        sent += write;
    }
    assert_eq!(got, total);
    total as f64 / MIB / (cpu_time() - t0).as_secs_f64()
}

fn bulk_down(setup: &Setup, wsm: bool, total: usize) -> f64 {
    let (mut c, mut s) = setup.connect(wsm);
    let data = vec![0xa5u8; 16 << 10];
    let mut io = vec![0u8; IO];
    let mut scratch = Vec::new();
    let t0 = cpu_time();
    let mut got = 0;
    let mut sent = 0;
    while sent < total {
        // Four records per turn, as a socket read would bring them.
        for _ in 0..4 {
            s.writer().write_all(&data).unwrap();
        }
        sent += 4 * data.len();
        got += to_client(&mut s, &mut *c, &mut io, &mut scratch);
    }
    assert_eq!(got, total);
    total as f64 / MIB / (cpu_time() - t0).as_secs_f64()
}

fn round_trips(setup: &Setup, wsm: bool, count: usize) -> f64 {
    let (mut c, mut s) = setup.connect(wsm);
    let msg = [0x42u8; 64];
    let mut io = vec![0u8; IO];
    let mut scratch = Vec::new();
    let mut back = [0u8; 64];
    let t0 = cpu_time();
    for _ in 0..count {
        assert_eq!(c.write(&msg), 64);
        // The server echoes what it read.
        loop {
            let n = c.output(&mut io);
            if n == 0 {
                break;
            }
            let mut rd = &io[..n];
            s.read_tls(&mut rd).unwrap();
            s.process_new_packets().unwrap();
        }
        s.reader().read_exact(&mut back).unwrap();
        s.writer().write_all(&back).unwrap();
        assert_eq!(to_client(&mut s, &mut *c, &mut io, &mut scratch), 64);
    }
    count as f64 / (cpu_time() - t0).as_secs_f64()
}

fn main() {
    let quick = flag("--quick");
    let reps: usize = arg("--reps")
        .and_then(|s| s.parse().ok())
        .unwrap_or(if quick { 3 } else { 9 });
    let total = if quick { 16 << 20 } else { 64 << 20 };
    let count = if quick { 5_000 } else { 20_000 };
    let setup = Setup::new();
    println!("TLS object (ws_tls_*) vs rustls ClientConnection; median of {reps} reps, CPU time of client + server");
    println!(
        "{:<40} {:>12} {:>12} {:>7}",
        "case", "ws_tls", "rustls", "ratio"
    );
    type Case<'a> = (&'a str, &'a str, Box<dyn Fn(bool) -> f64 + 'a>);
    let cases: Vec<Case> = vec![
        (
            "up, 16 KiB writes",
            "MiB/s",
            Box::new(|w| bulk_up(&setup, w, 16 << 10, total)),
        ),
        (
            "up, 1 MiB writes",
            "MiB/s",
            Box::new(|w| bulk_up(&setup, w, 1 << 20, total)),
        ),
        (
            "down, 16 KiB records",
            "MiB/s",
            Box::new(|w| bulk_down(&setup, w, total)),
        ),
        (
            "64-byte round trips",
            "/s",
            Box::new(|w| round_trips(&setup, w, count)),
        ),
    ];
    for (name, unit, f) in &cases {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for _ in 0..reps {
            // Alternate, so that drift hits both alike.
            a.push(f(true));
            b.push(f(false));
        }
        let (ma, mb) = (median(&mut a), median(&mut b));
        println!(
            "{:<40} {:>12.0} {:>12.0} {:>6.3}x",
            format!("{name} ({unit})"),
            ma,
            mb,
            ma / mb
        );
    }
}
