//! The main job on an embedded default, with no internet:
//!
//! 1. starts a wss echo server on 127.0.0.1 (rustls + tungstenite, on its own thread)
//!    with a throw-away CA and certificate made by rcgen;
//! 2. drives a wsmachine client through the C ABI (the same `extern "C"` functions
//!    C and C# call) over a real TCP socket, on this thread: offer input, poll
//!    messages, tick, drain output;
//! 3. trusts the server through `ws_config_add_root_pem`, echoes a few messages,
//!    pings, closes cleanly, and prints the exchange.
//!
//! Run: `cargo run --example demo`

use std::ffi::{CStr, CString};
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use wsmachine::ffi::*;

const OK: ws_result = ws_result::WS_OK;

fn check(what: &str, code: ws_result, c: ws_client) {
    if code != OK {
        let mut buf = [0u8; 512];
        let mut len = 0;
        unsafe { ws_client_last_error(c, buf.as_mut_ptr().cast(), buf.len(), &mut len) };
        let detail = String::from_utf8_lossy(&buf[..len.min(511)]);
        let name = unsafe { CStr::from_ptr(ws_result_str(code as u32)) }.to_string_lossy();
        panic!("{what} failed: {} ({name}): {detail}", code as u32);
    }
}

/// A throw-away CA and a server certificate for 127.0.0.1 and localhost.
fn make_pki() -> (
    String,
    rustls::pki_types::CertificateDer<'static>,
    PrivateKeyDer<'static>,
) {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().unwrap();
    let ca_pem = ca.self_signed(&ca_key).unwrap().pem();
    let issuer = Issuer::new(ca, ca_key);
    let leaf =
        CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let cert = leaf.signed_by(&leaf_key, &issuer).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    (ca_pem, cert.der().clone(), key)
}

/// The demo's echo server: one thread per connection, blocking I/O.
fn start_server(
    cert: rustls::pki_types::CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
) -> u16 {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            let config = config.clone();
            std::thread::spawn(move || {
                let tls =
                    rustls::StreamOwned::new(rustls::ServerConnection::new(config).unwrap(), tcp);
                let Ok(mut ws) = tungstenite::accept(tls) else {
                    return;
                };
                while let Ok(msg) = ws.read() {
                    if msg.is_text() || msg.is_binary() {
                        let _ = ws.send(msg);
                    }
                }
            });
        }
    });
    port
}

fn main() {
    let (ca_pem, cert, key) = make_pki();
    let port = start_server(cert, key);
    let url = format!("wss://127.0.0.1:{port}/demo");
    println!("server: wss echo on 127.0.0.1:{port} (certificate from a throw-away CA)");

    // Configure: trust the private CA. Verification stays on.
    let mut cfg: ws_config = 0;
    check("ws_config_new", unsafe { ws_config_new(&mut cfg) }, 0);
    check(
        "add_root_pem",
        unsafe { ws_config_add_root_pem(cfg, ca_pem.as_ptr(), ca_pem.len()) },
        0,
    );
    let curl = CString::new(url.clone()).unwrap();
    let mut c: ws_client = 0;
    check(
        "ws_client_new",
        unsafe { ws_client_new(cfg, curl.as_ptr(), &mut c) },
        0,
    );
    println!(
        "client: {url} (wsmachine {})",
        unsafe { CStr::from_ptr(ws_version()) }.to_string_lossy()
    );

    // The caller owns the socket; wsmachine only sees bytes. It says where to connect
    // (the URL's host and port, or a proxy's when the config has one).
    let mut host = [0u8; 256];
    let (mut host_len, mut connect_port) = (0usize, 0u16);
    check(
        "ws_client_connect_address",
        unsafe {
            ws_client_connect_address(
                c,
                host.as_mut_ptr().cast(),
                host.len(),
                &mut host_len,
                &mut connect_port,
            )
        },
        0,
    );
    let host = std::str::from_utf8(&host[..host_len]).unwrap();
    assert_eq!(connect_port, port);
    let mut sock = TcpStream::connect((host, connect_port)).unwrap();
    sock.set_nonblocking(true).unwrap();
    sock.set_nodelay(true).unwrap();

    let to_send: Vec<(&str, Vec<u8>)> = vec![
        ("text", b"hello from the C ABI".to_vec()),
        (
            "text",
            "unicode: h\u{e9}llo w\u{f6}rld \u{1f3ae}"
                .as_bytes()
                .to_vec(),
        ),
        ("binary", (0..=255u8).collect()),
        ("binary", vec![0x5a; 1 << 20]),
    ];
    let mut next = 0;
    let mut echoed = 0;
    let mut closing = false;
    let start = Instant::now();
    let (mut rx, mut tx) = (vec![0u8; 64 << 10], vec![0u8; 64 << 10]);
    let mut state = ws_state::WS_STATE_TLS_HANDSHAKING;
    loop {
        assert!(start.elapsed() < Duration::from_secs(20), "demo timed out");
        // 1. Feed whatever the socket has (0 bytes = the server closed).
        match sock.read(&mut rx) {
            Ok(n) => {
                let mut off = 0;
                loop {
                    let mut used = 0;
                    check(
                        "ws_offer_input",
                        unsafe { ws_offer_input(c, rx[off..n].as_ptr(), n - off, &mut used) },
                        c,
                    );
                    off += used;
                    // 2. Poll messages until none is ready.
                    loop {
                        let mut m = ws_message {
                            kind: ws_message_kind::WS_MESSAGE_TEXT,
                            data: std::ptr::null(),
                            len: 0,
                            close_code: 0,
                        };
                        let r = unsafe { ws_poll_message(c, &mut m) };
                        if r != OK {
                            break;
                        }
                        let data = unsafe { std::slice::from_raw_parts(m.data, m.len) };
                        match m.kind {
                            ws_message_kind::WS_MESSAGE_TEXT => {
                                println!(
                                    "  <- text   {:>7} bytes: {}",
                                    m.len,
                                    String::from_utf8_lossy(data)
                                );
                                echoed += 1;
                            }
                            ws_message_kind::WS_MESSAGE_BINARY => {
                                let ok = data == to_send[echoed].1.as_slice();
                                println!(
                                    "  <- binary {:>7} bytes, identical to what was sent: {ok}",
                                    m.len
                                );
                                assert!(ok);
                                echoed += 1;
                            }
                            ws_message_kind::WS_MESSAGE_PONG => {
                                println!("  <- pong   payload {:?}", String::from_utf8_lossy(data));
                            }
                            ws_message_kind::WS_MESSAGE_CLOSE => {
                                println!(
                                    "  <- close  code {} reason {:?}",
                                    m.close_code,
                                    String::from_utf8_lossy(data)
                                );
                            }
                            _ => {}
                        }
                    }
                    if off >= n {
                        break;
                    }
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(e) => panic!("socket: {e}"),
        }
        // 3. Time comes from the caller.
        check(
            "ws_client_tick",
            ws_client_tick(c, start.elapsed().as_millis() as u64),
            c,
        );
        check(
            "ws_client_state",
            unsafe { ws_client_state(c, &mut state) },
            c,
        );
        if state == ws_state::WS_STATE_OPEN && !closing {
            if next == 0 {
                // C writes 0 here for ws:// (no TLS), which is no ws_tls_version
                // variant in Rust: read it as the uint32_t it is in C.
                let mut v = 0u32;
                unsafe { ws_client_tls_version(c, (&raw mut v).cast()) };
                println!("open: TLS 1.{}, HTTP 101", v % 10);
            }
            if next < to_send.len() && echoed == next {
                let (kind, data) = &to_send[next];
                let r = if *kind == "text" {
                    unsafe { ws_send_text(c, data.as_ptr(), data.len()) }
                } else {
                    unsafe { ws_send_binary(c, data.as_ptr(), data.len()) }
                };
                check("send", r, c);
                println!("  -> {kind:<6} {:>7} bytes", data.len());
                next += 1;
            } else if echoed == to_send.len() {
                check("ping", unsafe { ws_send_ping(c, b"rtt".as_ptr(), 3) }, c);
                println!("  -> ping   payload \"rtt\"");
                check(
                    "close",
                    unsafe { ws_close(c, 1000, b"demo done".as_ptr(), 9) },
                    c,
                );
                println!("  -> close  code 1000 reason \"demo done\"");
                closing = true;
            }
        }
        // 4. Drain output until empty; keep what a partial write leaves.
        loop {
            let mut k = 0;
            check(
                "ws_read_output",
                unsafe { ws_read_output(c, tx.as_mut_ptr(), tx.len(), &mut k) },
                c,
            );
            if k == 0 {
                break;
            }
            let mut sent = 0;
            while sent < k {
                match sock.write(&tx[sent..k]) {
                    Ok(w) => sent += w,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(1))
                    }
                    Err(e) => panic!("socket: {e}"),
                }
            }
        }
        if state == ws_state::WS_STATE_CLOSED {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    println!(
        "closed cleanly after {} ms; {} messages echoed",
        start.elapsed().as_millis(),
        echoed
    );
    ws_client_free(c);
    ws_config_free(cfg);
}
