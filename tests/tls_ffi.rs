//! The TLS object's C ABI (`ws_tls_*`) called directly from Rust, against an in-memory
//! rustls server: echo with one byte per offer, close_notify and EOF, handle and
//! pointer misuse, and the panic boundary.

mod common;

use std::ffi::CString;
use std::io::{Read, Write};
use std::ptr::{null, null_mut};

use common::*;
use rustls::ServerConnection;
use wsmachine::ffi::*;

const OK: ws_result = ws_result::WS_OK;

fn code(r: ws_result) -> ws_result {
    r
}

fn config_trusting(pki: &Pki) -> ws_config {
    let mut cfg = 0;
    assert_eq!(unsafe { ws_config_new(&mut cfg) }, OK);
    let pem = pki.ca_pem.as_bytes();
    assert_eq!(
        unsafe { ws_config_add_root_pem(cfg, pem.as_ptr(), pem.len()) },
        OK
    );
    cfg
}

fn new_tls(cfg: ws_config, name: &str) -> Result<ws_tls, ws_result> {
    let name = CString::new(name).unwrap();
    let mut t = 0;
    match unsafe { ws_tls_new(cfg, name.as_ptr(), &mut t) } {
        ws_result::WS_OK => Ok(t),
        rc => {
            assert_eq!(t, 0, "out_tls written only on success");
            Err(rc)
        }
    }
}

fn state(t: ws_tls) -> u32 {
    let mut s = ws_state::WS_STATE_FAILED;
    assert_eq!(unsafe { ws_tls_state(t, &mut s) }, OK);
    s as u32
}

fn last_error(t: ws_tls) -> String {
    let mut buf = [0u8; 512];
    let mut len = 0;
    assert_eq!(
        unsafe { ws_tls_last_error(t, buf.as_mut_ptr().cast(), buf.len(), &mut len) },
        OK
    );
    String::from_utf8_lossy(&buf[..len.min(511)]).into_owned()
}

/// A `ws_tls` and a rustls server joined by memory.
struct Pair {
    t: ws_tls,
    server: ServerConnection,
    /// Offer at most this many bytes per call.
    step: usize,
    /// Server bytes not offered yet.
    wire: Vec<u8>,
}

impl Pair {
    fn new(pki: &Pki, step: usize) -> Pair {
        let cfg = config_trusting(pki);
        let t = new_tls(cfg, "localhost").unwrap();
        ws_config_free(cfg); // the object keeps its own copy
        let leaf = pki.leaf(&["localhost"]);
        let mut server = ServerConnection::new(server_config(
            &leaf,
            &[&rustls::version::TLS13, &rustls::version::TLS12],
        ))
        .unwrap();
        server.set_buffer_limit(None);
        Pair {
            t,
            server,
            step,
            wire: Vec::new(),
        }
    }

    /// Client to server, then server to client (offered `step` bytes at a time).
    fn pump(&mut self) -> ws_result {
        let mut buf = [0u8; 4096];
        loop {
            let mut n = 0;
            let rc = unsafe { ws_tls_read_output(self.t, buf.as_mut_ptr(), buf.len(), &mut n) };
            if rc != OK {
                return rc;
            }
            if n == 0 {
                break;
            }
            let mut rd = &buf[..n];
            while !rd.is_empty() {
                self.server.read_tls(&mut rd).unwrap();
                self.server.process_new_packets().unwrap();
            }
        }
        while self.server.wants_write() {
            self.server.write_tls(&mut self.wire).unwrap();
        }
        let mut off = 0;
        let mut rc = OK;
        while off < self.wire.len() {
            let end = (off + self.step).min(self.wire.len());
            let mut used = 0;
            rc = unsafe {
                ws_tls_offer_input(self.t, self.wire[off..end].as_ptr(), end - off, &mut used)
            };
            if rc != OK || used == 0 {
                // Failed, or unread plaintext holds input back: read first.
                break;
            }
            off += used;
        }
        self.wire.drain(..off);
        rc
    }

    fn read_all(&mut self) -> (Vec<u8>, ws_result) {
        let mut got = Vec::new();
        let mut buf = [0u8; 1000];
        loop {
            let mut n = usize::MAX;
            let rc = unsafe { ws_tls_read(self.t, buf.as_mut_ptr(), buf.len(), &mut n) };
            if rc != OK {
                return (got, rc);
            }
            got.extend_from_slice(&buf[..n]);
        }
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        ws_tls_free(self.t);
    }
}

#[test]
fn echo_through_the_exports_one_byte_per_offer() {
    let pki = Pki::new();
    let mut p = Pair::new(&pki, 1);
    assert_eq!(state(p.t), ws_state::WS_STATE_TLS_HANDSHAKING as u32);
    // Written before the handshake: buffered.
    let mut used = 0;
    assert_eq!(
        unsafe { ws_tls_write(p.t, b"early".as_ptr(), 5, &mut used) },
        OK
    );
    assert_eq!(used, 5);
    for _ in 0..4 {
        assert_eq!(p.pump(), OK);
    }
    assert_eq!(state(p.t), ws_state::WS_STATE_OPEN as u32);
    let mut early = [0u8; 5];
    p.server.reader().read_exact(&mut early).unwrap();
    assert_eq!(&early, b"early");
    let mut v = ws_tls_version::WS_TLS_VERSION_1_2;
    assert_eq!(unsafe { ws_tls_protocol_version(p.t, &mut v) }, OK);
    assert_eq!(v, ws_tls_version::WS_TLS_VERSION_1_3);
    let mut name = [0u8; 64];
    let mut len = 0;
    assert_eq!(
        unsafe { ws_tls_cipher_suite(p.t, name.as_mut_ptr().cast(), name.len(), &mut len) },
        OK
    );
    assert!(std::str::from_utf8(&name[..len])
        .unwrap()
        .starts_with("TLS13_"));
    let mut flag = 7;
    assert_eq!(unsafe { ws_tls_is_insecure(p.t, &mut flag) }, OK);
    assert_eq!(flag, 0);
    let mut deadline = 0;
    assert_eq!(unsafe { ws_tls_next_deadline(p.t, &mut deadline) }, OK);
    assert_eq!(deadline, u64::MAX, "no timer after the handshake");

    // 100 KB from the server, offered one byte at a time.
    let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    p.server.writer().write_all(&data).unwrap();
    let mut got = Vec::new();
    while got.len() < data.len() {
        assert_eq!(p.pump(), OK);
        let (chunk, rc) = p.read_all();
        assert_eq!(rc, code(ws_result::WS_NEED_INPUT));
        got.extend(chunk);
    }
    assert!(got == data);

    // The server's close_notify, after more data.
    p.server.writer().write_all(b"last words").unwrap();
    p.server.send_close_notify();
    assert_eq!(p.pump(), OK);
    let (last, rc) = p.read_all();
    assert_eq!(last, b"last words");
    assert_eq!(rc, code(ws_result::WS_CLOSED));
    assert_eq!(state(p.t), ws_state::WS_STATE_CLOSING as u32);
    assert_eq!(ws_tls_close(p.t), OK);
    assert_eq!(ws_tls_close(p.t), OK, "twice does nothing");
    let mut wants = 0;
    assert_eq!(unsafe { ws_tls_wants_write(p.t, &mut wants) }, OK);
    assert_eq!(wants, 1, "close_notify waits");
    assert_eq!(p.pump(), OK);
    assert_eq!(state(p.t), ws_state::WS_STATE_CLOSED as u32);
    assert_eq!(
        unsafe { ws_tls_write(p.t, b"x".as_ptr(), 1, &mut used) },
        code(ws_result::WS_ALREADY_CLOSED)
    );
}

#[test]
fn eof_without_close_notify_reads_as_truncated() {
    let pki = Pki::new();
    let mut p = Pair::new(&pki, 4096);
    for _ in 0..4 {
        assert_eq!(p.pump(), OK);
    }
    p.server.writer().write_all(b"partial").unwrap();
    assert_eq!(p.pump(), OK);
    let mut used = 7;
    assert_eq!(unsafe { ws_tls_offer_input(p.t, null(), 0, &mut used) }, OK);
    assert_eq!(used, 0);
    let (got, rc) = p.read_all();
    assert_eq!(got, b"partial");
    assert_eq!(rc, code(ws_result::WS_TLS_TRUNCATED));
    assert!(last_error(p.t).contains("truncated"));
    assert_ne!(state(p.t), ws_state::WS_STATE_FAILED as u32);
}

#[test]
fn failure_is_sticky_and_typed() {
    let pki = Pki::new();
    // A config that does not trust the test CA: untrusted.
    let mut cfg = 0;
    assert_eq!(unsafe { ws_config_new(&mut cfg) }, OK);
    let leaf = pki.leaf(&["localhost"]);
    let mut p = Pair {
        t: new_tls(cfg, "localhost").unwrap(),
        server: ServerConnection::new(server_config(&leaf, &[&rustls::version::TLS13])).unwrap(),
        step: 100,
        wire: Vec::new(),
    };
    let mut rc = OK;
    for _ in 0..4 {
        rc = p.pump();
        if rc != OK {
            break;
        }
    }
    let untrusted = code(ws_result::WS_CERT_UNTRUSTED);
    assert_eq!(rc, untrusted);
    assert_eq!(state(p.t), ws_state::WS_STATE_FAILED as u32);
    assert!(
        last_error(p.t).contains("UnknownIssuer"),
        "{}",
        last_error(p.t)
    );
    let mut used = 99;
    assert_eq!(
        unsafe { ws_tls_write(p.t, b"x".as_ptr(), 1, &mut used) },
        untrusted
    );
    assert_eq!(used, 99, "out_consumed untouched on failure");
    assert_eq!(
        unsafe { ws_tls_offer_input(p.t, b"x".as_ptr(), 1, &mut used) },
        untrusted
    );
    assert_eq!(ws_tls_tick(p.t, 0), untrusted);
    assert_eq!(ws_tls_close(p.t), untrusted);
    let t = p.t;
    drop(p);
    assert_eq!(ws_tls_free(t), OK, "freeing twice is harmless");
    ws_config_free(cfg);
}

#[test]
fn handles_and_pointers() {
    let pki = Pki::new();
    let cfg = config_trusting(&pki);
    // Bad names.
    assert_eq!(
        new_tls(cfg, "not a host name"),
        Err(code(ws_result::WS_INVALID_ARGUMENT))
    );
    assert_eq!(new_tls(cfg, ""), Err(code(ws_result::WS_INVALID_ARGUMENT)));
    let bad_utf8 = [0xffu8, 0];
    let mut t = 0;
    assert_eq!(
        unsafe { ws_tls_new(cfg, bad_utf8.as_ptr().cast(), &mut t) },
        code(ws_result::WS_INVALID_ARGUMENT)
    );
    assert_eq!(
        unsafe { ws_tls_new(cfg, null(), &mut t) },
        code(ws_result::WS_NULL_POINTER)
    );
    let name = CString::new("localhost").unwrap();
    assert_eq!(
        unsafe { ws_tls_new(cfg, name.as_ptr(), null_mut()) },
        code(ws_result::WS_NULL_POINTER)
    );
    assert_eq!(
        unsafe { ws_tls_new(0, name.as_ptr(), &mut t) },
        code(ws_result::WS_INVALID_HANDLE)
    );
    // A config handle is not a TLS handle, and a TLS handle is not a client handle.
    let mut s = ws_state::WS_STATE_FAILED;
    assert_eq!(
        unsafe { ws_tls_state(cfg, &mut s) },
        code(ws_result::WS_INVALID_HANDLE)
    );
    let t = new_tls(cfg, "127.0.0.1").unwrap();
    assert_eq!(
        unsafe { ws_client_state(t, &mut s) },
        code(ws_result::WS_INVALID_HANDLE)
    );
    assert_eq!(ws_client_free(t), OK);
    assert_eq!(ws_config_free(t), OK);
    assert_eq!(
        state(t),
        ws_state::WS_STATE_TLS_HANDSHAKING as u32,
        "still alive"
    );
    // NULL out-pointers and buffers.
    let mut n = 0;
    assert_eq!(
        unsafe { ws_tls_read_output(t, null_mut(), 0, null_mut()) },
        code(ws_result::WS_NULL_POINTER)
    );
    assert_eq!(
        unsafe { ws_tls_read_output(t, null_mut(), 10, &mut n) },
        code(ws_result::WS_NULL_POINTER)
    );
    assert_eq!(unsafe { ws_tls_read_output(t, null_mut(), 0, &mut n) }, OK);
    assert_eq!(n, 0);
    assert_eq!(
        unsafe { ws_tls_read(t, null_mut(), 0, null_mut()) },
        code(ws_result::WS_NULL_POINTER)
    );
    assert_eq!(
        unsafe { ws_tls_read(t, null_mut(), 0, &mut n) },
        OK,
        "an empty read"
    );
    let mut buf = [0u8; 16];
    assert_eq!(
        unsafe { ws_tls_read(t, buf.as_mut_ptr(), buf.len(), &mut n) },
        code(ws_result::WS_NEED_INPUT)
    );
    assert_eq!(
        unsafe { ws_tls_write(t, null(), 5, &mut n) },
        code(ws_result::WS_NULL_POINTER)
    );
    assert_eq!(unsafe { ws_tls_write(t, null(), 0, &mut n) }, OK);
    assert_eq!(
        unsafe { ws_tls_state(t, null_mut()) },
        code(ws_result::WS_NULL_POINTER)
    );
    assert_eq!(ws_tls_close(t), code(ws_result::WS_INVALID_STATE));
    // Stale handles.
    assert_eq!(ws_tls_free(t), OK);
    assert_eq!(
        unsafe { ws_tls_state(t, &mut s) },
        code(ws_result::WS_INVALID_HANDLE)
    );
    assert_eq!(ws_tls_tick(t, 0), code(ws_result::WS_INVALID_HANDLE));
    assert_eq!(ws_tls_free(t), OK);
    assert_eq!(ws_tls_free(0), OK);
    ws_config_free(cfg);
}

#[test]
fn a_panic_poisons_only_its_object() {
    let pki = Pki::new();
    let cfg = config_trusting(&pki);
    let a = new_tls(cfg, "localhost").unwrap();
    let b = new_tls(cfg, "localhost").unwrap();
    let panic = code(ws_result::WS_PANIC);
    assert_eq!(__test_tls_panic_inside(a), panic);
    assert_eq!(state(a), ws_state::WS_STATE_FAILED as u32);
    assert_eq!(ws_tls_tick(a, 0), panic);
    assert!(last_error(a).contains("panic"));
    assert_eq!(state(b), ws_state::WS_STATE_TLS_HANDSHAKING as u32);
    assert_eq!(ws_tls_tick(b, 0), OK);
    ws_tls_free(a);
    ws_tls_free(b);
    ws_config_free(cfg);
}

#[test]
fn write_back_pressure_through_out_consumed() {
    let pki = Pki::new();
    let cfg = config_trusting(&pki);
    assert_eq!(ws_config_set_max_pending_output(cfg, 32 << 10), OK);
    let t = new_tls(cfg, "localhost").unwrap();
    let big = vec![7u8; 100_000];
    let mut used = 0;
    assert_eq!(
        unsafe { ws_tls_write(t, big.as_ptr(), big.len(), &mut used) },
        OK
    );
    assert_eq!(
        used,
        32 << 10,
        "buffered up to the limit before the handshake"
    );
    assert_eq!(
        unsafe { ws_tls_write(t, big.as_ptr(), big.len(), &mut used) },
        OK
    );
    assert_eq!(used, 0, "full: nothing more taken");
    ws_tls_free(t);
    ws_config_free(cfg);
}
