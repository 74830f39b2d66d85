//! A fast wss echo server for benchmarks (`scripts/bench-mono.sh`): rustls (ring) +
//! tungstenite, blocking I/O, one thread per connection, TCP_NODELAY, no logging on the
//! data path. Echoes text and binary messages as they come; answers pings (tungstenite).
//!
//! It listens on 127.0.0.1 twice, with the same certificate: one port allows only TLS 1.2
//! (what Mono's SslStream speaks, and so ClientWebSocket) with the single suite
//! ECDHE-ECDSA-AES128-GCM-SHA256, the other TLS 1.2 and 1.3 with rustls's default suites
//! (the client's preference wins: AES-256-GCM for a rustls client).
//!
//!   cargo run --release --example bench_echo_server -- CERT.pem KEY.pem [PORT12 [PORT13]]
//!
//! Ports default to 0 (any free port); it prints `PORT12 n` and `PORT13 n` on stdout, then
//! one line per connection on stderr (`conn TLSv1_2 TLS13_AES_128_GCM_SHA256 ...`) when
//! the handshake is done and when the connection ends, with the bytes echoed.

use std::io::{BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tungstenite::protocol::WebSocketConfig;
use tungstenite::Message;

fn config(
    certs: &[CertificateDer<'static>],
    key: &PrivateKeyDer<'static>,
    versions: &[&'static rustls::SupportedProtocolVersion],
    suites: Option<Vec<rustls::SupportedCipherSuite>>,
) -> Arc<rustls::ServerConfig> {
    let mut provider = rustls::crypto::ring::default_provider();
    if let Some(suites) = suites {
        provider.cipher_suites = suites;
    }
    let provider = Arc::new(provider);
    let cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(certs.to_vec(), key.clone_key())
        .expect("certificate and key");
    Arc::new(cfg)
}

fn serve(tcp: TcpStream, cfg: Arc<rustls::ServerConfig>) {
    let _ = tcp.set_nodelay(true);
    let peer = tcp.peer_addr().map(|a| a.to_string()).unwrap_or_default();
    let mut conn = match rustls::ServerConnection::new(cfg) {
        Ok(c) => c,
        Err(_) => return,
    };
    let mut tcp = tcp;
    // Finish the TLS handshake first, so the negotiated parameters can be logged.
    while conn.is_handshaking() {
        if conn.complete_io(&mut tcp).is_err() {
            eprintln!("conn {peer} TLS handshake failed");
            return;
        }
    }
    eprintln!(
        "conn {peer} {:?} {:?}",
        conn.protocol_version(),
        conn.negotiated_cipher_suite().map(|s| s.suite())
    );
    let tls = rustls::StreamOwned::new(conn, tcp);
    let mut ws_cfg = WebSocketConfig::default();
    ws_cfg.max_message_size = Some(256 << 20);
    ws_cfg.max_frame_size = Some(256 << 20);
    let mut ws = match tungstenite::accept_with_config(tls, Some(ws_cfg)) {
        Ok(ws) => ws,
        Err(e) => {
            eprintln!("conn {peer} upgrade failed: {e}");
            return;
        }
    };
    let (mut msgs, mut bytes) = (0u64, 0u64);
    loop {
        match ws.read() {
            Ok(m @ (Message::Text(_) | Message::Binary(_))) => {
                msgs += 1;
                bytes += m.len() as u64;
                if ws.send(m).is_err() {
                    break;
                }
            }
            Ok(Message::Close(_)) => {
                // tungstenite queued the close reply; flush until it reports the end.
                while ws.flush().is_ok() {}
                break;
            }
            Ok(_) => {} // ping (pong queued and flushed by the next write/read), pong, frame
            Err(_) => break,
        }
    }
    let _ = ws.get_mut().flush();
    eprintln!("conn {peer} ended: {msgs} messages, {bytes} bytes echoed");
}

fn listen(port: u16, cfg: Arc<rustls::ServerConfig>) -> u16 {
    let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind");
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            let cfg = cfg.clone();
            std::thread::spawn(move || serve(tcp, cfg));
        }
    });
    port
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 || args.len() > 4 {
        eprintln!("usage: bench_echo_server CERT.pem KEY.pem [PORT12 [PORT13]]");
        std::process::exit(2);
    }
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_reader_iter(&mut BufReader::new(
        std::fs::File::open(&args[0]).expect("cert file"),
    ))
    .collect::<Result<_, _>>()
    .expect("certificate PEM");
    let key = PrivateKeyDer::from_pem_file(&args[1]).expect("key PEM");
    let port12: u16 = args.get(2).map_or(0, |p| p.parse().expect("PORT12"));
    let port13: u16 = args.get(3).map_or(0, |p| p.parse().expect("PORT13"));

    // TLS 1.2: one suite, so that every client pays for the same cipher (Mono's BoringSSL
    // would pick AES-128-GCM, rustls clients AES-256-GCM).
    let aes128 = vec![rustls::crypto::ring::cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256];
    let p12 = listen(
        port12,
        config(&certs, &key, &[&rustls::version::TLS12], Some(aes128)),
    );
    let p13 = listen(
        port13,
        config(
            &certs,
            &key,
            &[&rustls::version::TLS13, &rustls::version::TLS12],
            None,
        ),
    );
    println!("PORT12 {p12}");
    println!("PORT13 {p13}");
    std::io::stdout().flush().unwrap();
    loop {
        std::thread::park();
    }
}
