//! The hostile-peer suite (issue #19): a server we write speaks raw frames over real
//! 127.0.0.1 sockets and tries, one scenario at a time, to make the client's memory
//! grow. The client runs on the test's thread, and a counting global allocator
//! measures the heap that thread holds (its peak above the level before the
//! connection). Each scenario asserts the bound docs/SECURITY.md states, or a clean
//! failure with a specific code.
//!
//! `cargo test --release --test hostile` (part of scripts/test.sh; about 15 s).

mod common;

use common::frame;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::{ErrorKind as IoKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use wsmachine::{
    Client, Config, DeflateConfig, ErrorKind, Limits, MessageKind, Poll, State, Timeouts,
};

// ----- the client thread's heap ----------------------------------------------------

struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn note(delta: isize) {
    // `try_with`: the allocator may run while thread-locals are torn down.
    let _ = LIVE.try_with(|l| {
        let v = l.get() + delta;
        l.set(v);
        let _ = PEAK.try_with(|p| p.set(p.get().max(v)));
    });
}

// SAFETY: forwards to the system allocator; the bookkeeping allocates nothing.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size() as isize);
        // SAFETY: the caller's contract, passed on.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note(-(layout.size() as isize));
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size as isize - layout.size() as isize);
        // SAFETY: the caller's contract, passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Heap this thread holds, relative to `start`, and its peak since `start`.
struct Meter {
    base: isize,
}

impl Meter {
    fn start() -> Meter {
        let base = LIVE.with(|l| l.get());
        PEAK.with(|p| p.set(base));
        Meter { base }
    }
    fn peak(&self) -> usize {
        (PEAK.with(|p| p.get()) - self.base).max(0) as usize
    }
}

// ----- a server we write -------------------------------------------------------------

/// Reads the upgrade request and answers 101 (with `extra` header lines).
fn accept_ws(s: &mut TcpStream, extra: &str) {
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut b).unwrap();
        head.push(b[0]);
    }
    s.write_all(&common::answer(&head, extra)).unwrap();
}

/// Starts `serve` on a fresh loopback port; returns the port.
fn server(serve: impl FnOnce(TcpStream) + Send + 'static) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    thread::spawn(move || {
        if let Ok((s, _)) = l.accept() {
            s.set_nodelay(true).unwrap();
            serve(s);
        }
    });
    port
}

// ----- the client's event loop -------------------------------------------------------

const IO: usize = 64 << 10;

/// A client on a non-blocking socket, with fixed buffers allocated up front (so that
/// the meter sees only the client's own memory).
struct Conn {
    sock: TcpStream,
    client: Client,
    inbuf: Vec<u8>,
    in_off: usize,
    in_len: usize,
    eof: bool,
}

impl Conn {
    fn new(config: &Config, url: &str, port: u16) -> Conn {
        let sock = TcpStream::connect(("127.0.0.1", port)).unwrap();
        sock.set_nonblocking(true).unwrap();
        sock.set_nodelay(true).unwrap();
        Conn {
            sock,
            client: Client::new(config, url).unwrap(),
            inbuf: vec![0; IO],
            in_off: 0,
            in_len: 0,
            eof: false,
        }
    }

    /// Reads the socket (when the last read was taken) and offers the bytes; returns
    /// how many the client took, or its error.
    fn feed(&mut self) -> wsmachine::Result<usize> {
        if self.in_off == self.in_len && !self.eof {
            match self.sock.read(&mut self.inbuf) {
                Ok(0) => self.eof = true,
                Ok(n) => (self.in_off, self.in_len) = (0, n),
                Err(e) if e.kind() == IoKind::WouldBlock => {}
                Err(e) => panic!("read: {e}"),
            }
        }
        if self.in_off < self.in_len {
            let n = self
                .client
                .offer_input(&self.inbuf[self.in_off..self.in_len])?;
            self.in_off += n;
            return Ok(n);
        }
        if self.eof {
            self.client.offer_input(&[])?;
        }
        Ok(0)
    }

    /// Writes what the socket takes, at most `max` bytes, from the pending output.
    fn write(&mut self, max: usize) -> usize {
        let out = self.client.peek_output().unwrap();
        let n = out.len().min(max);
        if n == 0 {
            return 0;
        }
        match self.sock.write(&out[..n]) {
            Ok(w) => {
                self.client.consume_output(w).unwrap();
                w
            }
            Err(e) if e.kind() == IoKind::WouldBlock => 0,
            Err(e) => panic!("write: {e}"),
        }
    }

    fn open(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.client.state() != State::Open {
            assert!(
                Instant::now() < deadline,
                "handshake: {:?}",
                self.client.last_error()
            );
            self.write(usize::MAX);
            self.feed().unwrap();
            thread::sleep(Duration::from_millis(1));
        }
    }
}

fn config_with(f: impl FnOnce(&mut Limits)) -> Config {
    let mut config = Config::new();
    let mut l = config.limits().clone();
    f(&mut l);
    config.set_limits(l).unwrap();
    config
}

/// Memory the client's fixed parts take (the config snapshot, the decoder, buffers
/// at their small sizes): what every bound below allows on top of its limits.
const BASE: usize = 96 << 10;
/// Bookkeeping per queued message beyond its payload (the queue entry, allocator
/// rounding), as docs/SECURITY.md counts it.
const PER_MESSAGE: usize = 64;

// ----- scenarios ---------------------------------------------------------------------

#[test]
fn ping_flood_while_the_client_cannot_write() {
    let max_pending = 64 << 10;
    let port = server(|mut s| {
        accept_ws(&mut s, "");
        let mut burst = Vec::new();
        for i in 0..1000u32 {
            let mut p = i.to_be_bytes().to_vec();
            p.resize(125, b'p');
            burst.extend(frame(0x9, true, &p));
        }
        // 40 MB of pings, as fast as the client takes them.
        for _ in 0..300 {
            if s.write_all(&burst).is_err() {
                return;
            }
        }
    });
    let config = config_with(|l| l.max_pending_output = max_pending);
    let mut c = Conn::new(&config, "ws://127.0.0.1/", port);
    c.open();
    let meter = Meter::start();
    let mut pings = 0usize;
    let deadline = Instant::now() + Duration::from_secs(20);
    // The socket "cannot be written": nothing is written from here on.
    while !c.eof && Instant::now() < deadline {
        c.feed().unwrap();
        while let Poll::Message(m) = c.client.poll_message().unwrap() {
            match m.kind {
                MessageKind::Ping => pings += 1,
                // The server hung up: its end of the flood.
                MessageKind::Close => assert_eq!(m.close_code, 1006),
                other => panic!("{other:?}"),
            }
        }
        assert!(c.client.pending_output() <= max_pending);
    }
    assert!(pings > 200_000, "{pings} pings");
    let peak = meter.peak();
    eprintln!("ping flood: {pings} pings, client heap peak +{peak} bytes");
    // The pending output, and the pings queued between polls (at most
    // max_queued_messages, each a 125-byte payload in its own allocation).
    let queued = config.limits().max_queued_messages * (125 + PER_MESSAGE);
    assert!(
        peak <= max_pending + queued + BASE,
        "heap grew by {peak} bytes"
    );
}

#[test]
fn slow_reader_takes_a_little_less_than_everything() {
    let max_pending = 256 << 10;
    let port = server(|mut s| {
        accept_ws(&mut s, "");
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = vec![0u8; 4096];
        // Reads slowly: 4 KiB every millisecond at most.
        while let Ok(n) = s.read(&mut buf) {
            if n == 0 {
                return;
            }
            thread::sleep(Duration::from_micros(500));
        }
    });
    let config = config_with(|l| l.max_pending_output = max_pending);
    let mut c = Conn::new(&config, "ws://127.0.0.1/", port);
    c.open();
    let msg = vec![b'x'; 4000];
    let meter = Meter::start();
    let (mut sent, mut full) = (0usize, 0usize);
    let end = Instant::now() + Duration::from_secs(3);
    while Instant::now() < end {
        match c.client.send_binary(&msg) {
            Ok(()) => sent += 1,
            Err(e) if e.kind() == ErrorKind::OutputFull => full += 1,
            Err(e) => panic!("{e}"),
        }
        // The socket takes all but the last byte of what is pending.
        let pending = c.client.pending_output();
        c.write(pending.saturating_sub(1));
    }
    let peak = meter.peak();
    eprintln!("slow reader: {sent} sent, {full} refused (output full), heap peak +{peak}");
    assert!(sent > 1000);
    assert!(peak <= max_pending + BASE, "heap grew by {peak} bytes");
}

#[test]
fn deflate_burst_while_the_client_does_not_poll() {
    use flate2::{Compress, Compression, FlushCompress};
    let (max_message, max_queued) = (4 << 20, 8 << 20);
    let port = server(|mut s| {
        accept_ws(&mut s, "Sec-WebSocket-Extensions: permessage-deflate\r\n");
        let plain = vec![b'a'; 4 << 20];
        let mut z = Compress::new(Compression::best(), false);
        let mut burst = Vec::new();
        for _ in 0..64 {
            let mut out = Vec::with_capacity(64 << 10);
            z.reset();
            z.compress_vec(&plain, &mut out, FlushCompress::Sync)
                .unwrap();
            out.truncate(out.len() - 4);
            let mut f = frame(0x2, true, &out);
            f[0] |= 0x40;
            burst.extend(f);
        }
        // 256 MiB of messages in about 300 KB.
        let _ = s.write_all(&burst);
        thread::sleep(Duration::from_secs(5));
    });
    let mut config = config_with(|l| {
        l.max_message_size = max_message;
        l.max_frame_size = max_message;
        l.max_queued_bytes = max_queued;
    });
    config
        .set_deflate(DeflateConfig {
            enabled: true,
            ..DeflateConfig::default()
        })
        .unwrap();
    let mut c = Conn::new(&config, "ws://127.0.0.1/", port);
    c.open();
    let meter = Meter::start();
    // Not polling: offer until the client takes nothing more.
    let end = Instant::now() + Duration::from_secs(2);
    while Instant::now() < end {
        c.feed().unwrap();
    }
    let queued = c.client.queued_bytes();
    let peak = meter.peak();
    eprintln!(
        "deflate burst: {} messages ({queued} bytes) queued, heap peak +{peak}",
        c.client.queued_messages()
    );
    assert!(queued <= max_queued + max_message, "{queued} bytes queued");
    // The queue, the message being inflated, and the inflater's window.
    assert!(
        peak <= max_queued + 2 * max_message + BASE + (256 << 10),
        "heap grew by {peak} bytes"
    );
    // Polling lets the rest in: all 64 arrive.
    let mut got = 0;
    let end = Instant::now() + Duration::from_secs(20);
    while got < 64 && Instant::now() < end {
        while let Poll::Message(m) = c.client.poll_message().unwrap() {
            assert_eq!(m.data.len(), 4 << 20);
            got += 1;
        }
        c.feed().unwrap();
    }
    assert_eq!(got, 64);
}

#[test]
fn a_message_in_200000_one_byte_fragments() {
    let port = server(|mut s| {
        accept_ws(&mut s, "");
        let mut wire = Vec::with_capacity(600_000);
        for i in 0..200_000u32 {
            let op = if i == 0 { 0x1 } else { 0x0 };
            wire.extend(frame(op, i == 199_999, b"z"));
        }
        let _ = s.write_all(&wire);
        thread::sleep(Duration::from_secs(5));
    });
    let mut c = Conn::new(&Config::new(), "ws://127.0.0.1/", port);
    c.open();
    let meter = Meter::start();
    let end = Instant::now() + Duration::from_secs(10);
    let len = loop {
        assert!(Instant::now() < end, "no message");
        c.feed().unwrap();
        if let Poll::Message(m) = c.client.poll_message().unwrap() {
            assert!(m.data.iter().all(|&b| b == b'z'));
            break m.data.len();
        }
    };
    assert_eq!(len, 200_000);
    let peak = meter.peak();
    eprintln!("200,000 fragments: heap peak +{peak}");
    // The message buffer (grown by doubling) and nothing per fragment.
    assert!(peak <= 2 * 200_000 + BASE, "heap grew by {peak} bytes");
}

#[test]
fn an_endless_header_block_after_101() {
    let port = server(|mut s| {
        let mut b = [0u8; 4096];
        let _ = s.read(&mut b);
        let _ = s.write_all(b"HTTP/1.1 101 Switching Protocols\r\n");
        let line =
            b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
        for _ in 0..1_000_000 {
            if s.write_all(line).is_err() {
                return;
            }
        }
    });
    let config = config_with(|_| {});
    let mut c = Conn::new(&config, "ws://127.0.0.1/", port);
    let meter = Meter::start();
    c.write(usize::MAX);
    let end = Instant::now() + Duration::from_secs(10);
    let e = loop {
        assert!(Instant::now() < end, "no failure");
        c.write(usize::MAX);
        if let Err(e) = c.feed() {
            break e;
        }
    };
    assert_eq!(e.kind(), ErrorKind::HeaderTooLarge, "{e}");
    assert_eq!(c.client.state(), State::Failed);
    let peak = meter.peak();
    eprintln!("endless header: {e}; heap peak +{peak}");
    assert!(
        peak <= config.limits().max_header_size * 2 + BASE,
        "heap grew by {peak} bytes"
    );
}

#[test]
fn a_tls_peer_trickling_one_byte_a_second_during_the_handshake() {
    let s = common::Setup::new();
    let server_tls = s.server_tls.clone();
    let port = server(move |mut sock| {
        let mut conn = rustls::ServerConnection::new(server_tls).unwrap();
        let mut flight = Vec::new();
        sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        while flight.is_empty() {
            if conn.read_tls(&mut sock).unwrap_or(0) == 0 {
                return;
            }
            conn.process_new_packets().unwrap();
            while conn.wants_write() {
                conn.write_tls(&mut flight).unwrap();
            }
        }
        // The server's flight, one byte a second.
        for b in flight {
            if sock.write_all(&[b]).is_err() {
                return;
            }
            thread::sleep(Duration::from_secs(1));
        }
    });
    let mut config = s.config.clone_for_test();
    config.set_timeouts(Timeouts {
        handshake_ms: 2500,
        ..Timeouts::default()
    });
    let mut c = Conn::new(&config, "wss://localhost/", port);
    let meter = Meter::start();
    let start = Instant::now();
    let e = loop {
        assert!(start.elapsed() < Duration::from_secs(10), "no timeout");
        c.write(usize::MAX);
        if let Err(e) = c.feed() {
            break e;
        }
        if let Err(e) = c.client.tick(start.elapsed().as_millis() as u64) {
            break e;
        }
        thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    let peak = meter.peak();
    eprintln!(
        "TLS trickle: {e} after {:?}; heap peak +{peak}",
        start.elapsed()
    );
    assert!(peak <= BASE, "heap grew by {peak} bytes");
}

/// A handshake message cut into records of one byte each: rustls joins the pieces in
/// the TLS input buffer, where every record's header stays until the message is
/// complete, so six bytes of buffer hold one byte of message. The buffer stops at its
/// bound (docs/SECURITY.md: 64 KiB for a handshake message plus one record) and the
/// client fails with `TlsCorrupt` instead of growing.
#[test]
fn a_handshake_message_in_one_byte_tls_records() {
    let port = server(|mut sock| {
        // The ClientHello: one record; read its header and body.
        let mut head = [0u8; 5];
        if sock.read_exact(&mut head).is_err() {
            return;
        }
        let mut body = vec![0u8; u16::from_be_bytes([head[3], head[4]]) as usize];
        let _ = sock.read_exact(&mut body);
        // A ServerHello announcing 65535 bytes, one byte per handshake record.
        let wire = common::server_hello_in_one_byte_records(40_000);
        let _ = sock.write_all(&wire);
        thread::sleep(Duration::from_secs(2));
    });
    let s = common::Setup::new();
    let mut c = Conn::new(&s.config, "wss://localhost/", port);
    let meter = Meter::start();
    let start = Instant::now();
    let e = loop {
        assert!(start.elapsed() < Duration::from_secs(10), "no failure");
        c.write(usize::MAX);
        if let Err(e) = c.feed() {
            break e;
        }
        thread::sleep(Duration::from_millis(1));
    };
    assert_eq!(e.kind(), ErrorKind::TlsCorrupt, "{e}");
    let peak = meter.peak();
    eprintln!("one-byte handshake records: {e}; heap peak +{peak}");
    // The bound: 65539 bytes of message plus one record of 18437 bytes.
    assert!(
        peak <= 65_539 + 18_437 + (16 << 10),
        "heap grew by {peak} bytes"
    );
}
