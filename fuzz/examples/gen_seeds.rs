//! Writes the seed corpora under `fuzz/corpus/<target>/` and the seed CA under
//! `fuzz/seeds/`. Run from anywhere:
//!
//! ```text
//! cargo run --manifest-path fuzz/Cargo.toml --example gen_seeds
//! ```
//!
//! The TLS seeds are real server flights: a rustls server in memory answers a real
//! wsmachine ClientHello, with a certificate from a CA written to `seeds/ca.pem`
//! (which the `tls_records` target trusts with flag 0x02). Every run makes a new CA,
//! so the CA and the TLS seeds are only regenerated together.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection};
use wsmachine::{Client, Config, Poll, State, TlsVersion};
use wsmachine_fuzz::{accept_for, encode_input, response_101, response_101_start};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn write(target: &str, name: &str, bytes: &[u8]) {
    let dir = root().join("corpus").join(target);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), bytes).unwrap();
}

/// An unmasked server frame.
fn frame(b0: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![b0];
    match payload.len() {
        n if n < 126 => v.push(n as u8),
        n if n < 65536 => {
            v.push(126);
            v.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            v.push(127);
            v.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    v.extend_from_slice(payload);
    v
}

fn close_frame(code: u16, reason: &[u8]) -> Vec<u8> {
    let mut p = code.to_be_bytes().to_vec();
    p.extend_from_slice(reason);
    frame(0x88, &p)
}

/// "Hello" compressed with permessage-deflate (RFC 7692 section 7.2.3.1).
const HELLO_DEFLATED: &[u8] = &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];

fn frames_seeds() -> Vec<(&'static str, u8, Vec<u8>)> {
    let text = frame(0x81, b"Hello");
    let binary = frame(0x82, &[0, 1, 2, 3, 255]);
    let mut fragmented = frame(0x01, "Hel".as_bytes());
    fragmented.extend(frame(0x89, b"ping in the middle"));
    fragmented.extend(frame(0x80, "lo \u{e9}".as_bytes()));
    let mut all = Vec::new();
    all.extend(&text);
    all.extend(&binary);
    all.extend(frame(0x89, b"ping"));
    all.extend(frame(0x8a, b"pong"));
    all.extend(frame(0x82, &[7u8; 300]));
    all.extend(close_frame(1000, b"bye"));
    all.extend(frame(0x81, b"after close"));
    let mut big16 = frame(0x82, &[0x5a; 1000]);
    big16.extend(close_frame(1001, b""));
    let mut len64 = vec![0x82, 127];
    len64.extend_from_slice(&5u64.to_be_bytes());
    len64.extend_from_slice(b"abcde");
    let mut deflated = vec![0xc1, HELLO_DEFLATED.len() as u8];
    deflated.extend_from_slice(HELLO_DEFLATED);
    let mut deflated_fragments = vec![0x41, 3];
    deflated_fragments.extend_from_slice(&HELLO_DEFLATED[..3]);
    deflated_fragments.extend_from_slice(&[0x80, 4]);
    deflated_fragments.extend_from_slice(&HELLO_DEFLATED[3..]);
    deflated_fragments.extend(deflated.iter());
    vec![
        ("text", 0x00, text),
        ("binary", 0x01, binary),
        ("fragmented_with_ping", 0x03, fragmented),
        ("mixed_then_close", 0x01, all.clone()),
        ("mixed_small_limits", 0x13, all),
        ("len16_and_empty_close", 0x00, big16),
        ("len64", 0x02, len64),
        ("close_after_our_close", 0x05, close_frame(1000, b"")),
        (
            "masked",
            0x00,
            vec![
                0x81,
                0x85,
                1,
                2,
                3,
                4,
                b'H' ^ 1,
                b'e' ^ 2,
                b'l' ^ 3,
                b'l' ^ 4,
                b'o' ^ 1,
            ],
        ),
        ("reserved_opcode", 0x00, frame(0x83, b"x")),
        ("rsv1_without_deflate", 0x00, frame(0xc1, b"x")),
        ("bad_utf8", 0x00, frame(0x81, &[0xc3, 0x28])),
        ("bad_close_code", 0x00, close_frame(1005, b"")),
        ("long_ping", 0x00, frame(0x89, &[1; 126])),
        ("deflated_hello", 0x49, deflated.clone()),
        ("deflated_fragments", 0xc9, deflated_fragments),
        (
            "deflated_no_takeover",
            0xc0,
            [deflated.clone(), deflated].concat(),
        ),
    ]
}

fn handshake_seeds() -> Vec<(&'static str, u8, Vec<u8>)> {
    let ok = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: $ACCEPT\r\n\r\n".to_vec();
    let mut ok_frames = ok.clone();
    ok_frames.extend(frame(0x81, b"right after the head"));
    vec![
        ("valid_101", 0x00, ok.clone()),
        ("valid_101_split", 0x00, ok.clone()),
        ("valid_101_with_frames", 0x00, ok_frames),
        (
            "valid_101_subprotocol",
            0x20,
            b"HTTP/1.1 101 Switching Protocols\r\nupgrade: WebSocket\r\nconnection: keep-alive, Upgrade\r\nsec-websocket-accept:  $ACCEPT \r\nSec-WebSocket-Protocol: chat\r\n\r\n".to_vec(),
        ),
        (
            "deflate_offer_accepted",
            0x40,
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: $ACCEPT\r\nSec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10; client_max_window_bits=9\r\n\r\n".to_vec(),
        ),
        (
            "deflate_not_offered",
            0x00,
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: $ACCEPT\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n".to_vec(),
        ),
        (
            "forbidden",
            0x00,
            b"HTTP/1.1 403 Forbidden\r\nContent-Length: 5\r\n\r\nnope!".to_vec(),
        ),
        (
            "bad_accept",
            0x00,
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n".to_vec(),
        ),
        ("headers_after_accept", 0x01, b"Sec-WebSocket-Protocol: chat\r\nX-Extra: 1\r\n\r\n".to_vec()),
        ("frames_after_101", 0x02, frame(0x81, b"Hello")),
        (
            "status_line_only",
            0x03,
            b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: $ACCEPT\r\n\r\n".to_vec(),
        ),
        ("head_too_large", 0x10, [b"HTTP/1.1 101 OK\r\nX: ".to_vec(), vec![b'a'; 300], b"\r\n\r\n".to_vec()].concat()),
        ("not_http", 0x00, b"SSH-2.0-OpenSSH_9.2\r\n\r\n".to_vec()),
    ]
}

fn api_seeds() -> Vec<(&'static str, Vec<u8>)> {
    // Opcodes as in fuzz_targets/api_sequence.rs.
    let mut echo = vec![0x00];
    echo.extend([0, 5]);
    echo.extend(b"hello");
    echo.extend([9, 255]); // read_output
    echo.extend([5, 0x81, 5]);
    echo.extend(b"hello");
    echo.extend([7]); // poll_message
    echo.extend([2, 4]);
    echo.extend(b"ping");
    echo.extend([5, 0x89, 2]);
    echo.extend(b"hi");
    echo.extend([8, 1]); // poll_message_into, too small
    echo.extend([8, 16]);
    echo.extend([11, 13]);
    echo.extend([3, 0x03, 0xe8, 3]);
    echo.extend(b"bye");
    echo.extend([5, 0x88, 2, 0x03, 0xe8]);
    echo.extend([12, 11, 13]);
    let mut timeouts = vec![0x01];
    timeouts.extend([10, 0, 100, 1]); // tick +100
    timeouts.extend([10, 0, 250, 1]); // keepalive ping
    timeouts.extend([11]);
    timeouts.extend([10, 4, 0, 1]); // idle timeout
    timeouts.extend([13, 7, 11]);
    let mut close_timeout = vec![0x01];
    close_timeout.extend([3, 0x0f, 0xa0, 0]); // close(4000)
    close_timeout.extend([10, 0, 1, 1, 10, 3, 0, 1, 12, 13]);
    let mut small = vec![0x10];
    small.extend([1, 0, 200]); // send_binary, 200 bytes
    small.extend([0xAA; 200]);
    small.extend([1, 1, 44]); // send_binary, 300 bytes: over the pending-output limit
    small.extend([0xBB; 300]);
    small.extend([9, 255]); // read_output, 256 bytes
    small.extend([5, 0x82, 10]);
    small.extend([1; 10]);
    small.extend([5, 0x82, 10]);
    small.extend([2; 10]);
    small.extend([5, 0x82, 10]);
    small.extend([3; 10]);
    small.extend([6, 12, 13]);
    let mut deflate = vec![0x40];
    deflate.extend([0, 40]);
    deflate.extend([b'a'; 40]);
    deflate.extend([5, 0xc1, HELLO_DEFLATED.len() as u8]);
    deflate.extend(HELLO_DEFLATED);
    deflate.extend([12, 11, 13]);
    vec![
        ("echo_ping_close", echo),
        ("timeouts", timeouts),
        ("close_timeout", close_timeout),
        ("small_limits", small),
        ("deflate", deflate),
        (
            "bad_args",
            vec![
                0x00, 2, 200, 3, 0, 5, 0, 0, 3, 0x03, 0xe8, 2, 0xff, 0xfe, 13,
            ],
        ),
    ]
}

struct Pki {
    ca_pem: String,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

fn pki() -> Pki {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "wsmachine fuzz seed CA");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(2100, 1, 1);
    let ca_key = KeyPair::generate().unwrap();
    let ca = params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(params, ca_key);
    let mut leaf = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    leaf.not_before = rcgen::date_time_ymd(2020, 1, 1);
    leaf.not_after = rcgen::date_time_ymd(2100, 1, 1);
    let key = KeyPair::generate().unwrap();
    let cert = leaf.signed_by(&key, &issuer).unwrap();
    Pki {
        ca_pem: ca.pem(),
        chain: vec![cert.der().clone()],
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    }
}

/// Runs a real handshake between a wsmachine client and a rustls server in memory.
/// Returns the server's first flight and everything the server sent, in order
/// (flight, rest of the handshake, tickets, the 101, a text frame, a close frame).
fn tls_capture(
    pki: &Pki,
    version: &'static rustls::SupportedProtocolVersion,
) -> (Vec<u8>, Vec<u8>) {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server_cfg = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[version])
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(pki.chain.clone(), pki.key.clone_key())
        .unwrap();
    let mut server = ServerConnection::new(Arc::new(server_cfg)).unwrap();
    let mut config = Config::new();
    config.set_builtin_roots(false);
    config.add_root_pem(pki.ca_pem.as_bytes()).unwrap();
    if version == &rustls::version::TLS13 {
        config.set_min_tls_version(TlsVersion::Tls13);
    }
    let mut client = Client::new(&config, "wss://localhost/chat").unwrap();
    let mut first_flight = Vec::new();
    let mut all = Vec::new();
    let mut request = Vec::new();
    let mut answered = false;
    let mut buf = vec![0u8; 1 << 16];
    for round in 0..50 {
        // client -> server
        loop {
            let n = client.read_output(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            let mut rd = &buf[..n];
            while !rd.is_empty() {
                server.read_tls(&mut rd).unwrap();
                server.process_new_packets().unwrap();
            }
        }
        let mut tmp = [0u8; 4096];
        while let Ok(n) = server.reader().read(&mut tmp) {
            if n == 0 {
                break;
            }
            request.extend_from_slice(&tmp[..n]);
        }
        if !answered && request.ends_with(b"\r\n\r\n") {
            let accept = accept_for(&request);
            let mut out = response_101(&accept, 0);
            out.extend(frame(0x81, b"hello over TLS"));
            out.extend(close_frame(1000, b"done"));
            server.writer().write_all(&out).unwrap();
            answered = true;
        }
        // server -> client
        let mut out = Vec::new();
        while server.wants_write() {
            server.write_tls(&mut out).unwrap();
        }
        if round == 0 {
            first_flight = out.clone();
        }
        all.extend_from_slice(&out);
        if out.is_empty() && answered {
            break;
        }
        let mut off = 0;
        while off < out.len() {
            off += client.offer_input(&out[off..]).unwrap();
            while let Poll::Message(_) = client.poll_message().unwrap() {}
        }
    }
    assert!(
        matches!(client.state(), State::Closing | State::Closed),
        "{:?}",
        client.last_error()
    );
    (first_flight, all)
}

fn main() {
    for (name, flags, payload) in frames_seeds() {
        write("frames", name, &encode_input(flags, &[], &payload));
    }
    write(
        "frames",
        "text_byte_at_a_time",
        &encode_input(0x01, &[0], &frame(0x81, b"Hello")),
    );
    write(
        "frames",
        "mixed_split",
        &encode_input(0x01, &[2, 0, 6], &frames_seeds()[3].2),
    );

    for (name, flags, payload) in handshake_seeds() {
        let sizes: &[u8] = if name.ends_with("_split") {
            &[0, 9, 40]
        } else {
            &[]
        };
        write(
            "handshake_response",
            name,
            &encode_input(flags, sizes, &payload),
        );
    }
    // Sanity check of the 101 builder the targets share.
    assert!(response_101_start("x").starts_with(b"HTTP/1.1 101"));

    for (name, bytes) in api_seeds() {
        write("api_sequence", name, &bytes);
    }

    let pki = pki();
    let seeds = root().join("seeds");
    std::fs::create_dir_all(&seeds).unwrap();
    std::fs::write(seeds.join("ca.pem"), &pki.ca_pem).unwrap();
    let (flight13, all13) = tls_capture(&pki, &rustls::version::TLS13);
    let (flight12, all12) = tls_capture(&pki, &rustls::version::TLS12);
    write(
        "tls_records",
        "tls13_first_flight",
        &encode_input(0x03, &[], &flight13),
    );
    write(
        "tls_records",
        "tls13_whole_conversation",
        &encode_input(0x03, &[], &all13),
    );
    write(
        "tls_records",
        "tls13_server_hello_only",
        &encode_input(0x03, &[], &flight13[..first_record_len(&flight13)]),
    );
    write(
        "tls_records",
        "tls12_first_flight",
        &encode_input(0x02, &[], &flight12),
    );
    write(
        "tls_records",
        "tls12_first_flight_split",
        &encode_input(0x02, &[4, 0, 255, 99], &flight12),
    );
    write(
        "tls_records",
        "tls12_whole_conversation",
        &encode_input(0x02, &[], &all12),
    );
    write(
        "tls_records",
        "tls12_untrusted_roots",
        &encode_input(0x00, &[], &flight12),
    );
    write(
        "tls_records",
        "fatal_alert",
        &encode_input(0x00, &[], &[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]),
    );
    write(
        "tls_records",
        "http_instead_of_tls",
        &encode_input(0x00, &[], b"HTTP/1.1 400 Bad Request\r\n\r\n"),
    );
    write("tls_records", "empty", &encode_input(0x10, &[], &[]));
    println!("seeds written under {}", root().join("corpus").display());
}

fn first_record_len(bytes: &[u8]) -> usize {
    5 + u16::from_be_bytes([bytes[3], bytes[4]]) as usize
}
