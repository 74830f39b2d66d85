//! A network that inspects TLS, end to end: Debian's squid with `ssl_bump` re-signs
//! the origin's certificate with a "corporate" CA that only the operating system's
//! store (here a bundle in `SSL_CERT_FILE`) trusts. The client opens the tunnel itself
//! (the caller owns the socket: CONNECT, then the bytes go through wsmachine).
//!
//! Run by scripts/test-trust-squid.sh, which starts squid and a wss echo server and
//! sets WSM_SQUID_PORT, WSM_ORIGIN_PORT and WSM_CORP_BUNDLE.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use wsmachine::{Client, Config, ErrorKind, ExternalVerification, MessageKind, Poll, State};

fn env(name: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} is not set: run scripts/test-trust-squid.sh"))
}

/// A TCP connection through squid to the origin (CONNECT answered 200).
fn tunnel() -> TcpStream {
    let mut s =
        TcpStream::connect(("127.0.0.1", env("WSM_SQUID_PORT").parse::<u16>().unwrap())).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    let origin = env("WSM_ORIGIN_PORT");
    write!(
        s,
        "CONNECT localhost:{origin} HTTP/1.1\r\nHost: localhost:{origin}\r\n\r\n"
    )
    .unwrap();
    let mut head = Vec::new();
    let start = Instant::now();
    while !head.ends_with(b"\r\n\r\n") {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no CONNECT answer"
        );
        let mut b = [0u8; 1];
        match s.read(&mut b) {
            Ok(1) => head.push(b[0]),
            Ok(_) => panic!("squid closed: {}", String::from_utf8_lossy(&head)),
            Err(_) => continue,
        }
    }
    let head = String::from_utf8_lossy(&head).to_string();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    s
}

/// Drives `client` over `sock` until `done` holds, the client fails, or 10 s pass.
fn drive(
    client: &mut Client,
    sock: &mut TcpStream,
    done: impl Fn(&Client) -> bool,
) -> wsmachine::Result<()> {
    let start = Instant::now();
    let mut buf = vec![0u8; 32 << 10];
    while !done(client) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "timed out in {:?}",
            client.state()
        );
        loop {
            let n = client.read_output(&mut buf)?;
            if n == 0 {
                break;
            }
            sock.write_all(&buf[..n]).unwrap();
        }
        if done(client) {
            break;
        }
        match sock.read(&mut buf) {
            Ok(0) => {
                client.offer_input(&[])?;
            }
            Ok(n) => {
                client.offer_input(&buf[..n])?;
            }
            Err(_) => {}
        }
    }
    Ok(())
}

fn url() -> String {
    format!("wss://localhost:{}/", env("WSM_ORIGIN_PORT"))
}

fn echo(client: &mut Client, sock: &mut TcpStream) {
    client.send_text(b"through the inspecting proxy").unwrap();
    drive(client, sock, |c| c.queued_messages() > 0).unwrap();
    match client.poll_message().unwrap() {
        Poll::Message(m) => {
            assert_eq!(m.kind, MessageKind::Text);
            assert_eq!(m.data, b"through the inspecting proxy");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
#[ignore = "needs squid with ssl_bump: run scripts/test-trust-squid.sh"]
fn corporate_inspection_needs_system_roots_or_a_verdict() {
    assert!(
        std::env::var_os("SSL_CERT_FILE").is_some(),
        "the corporate bundle must be in SSL_CERT_FILE"
    );

    // The built-in roots only: the re-signed chain is untrusted, and the error says
    // what to do about it.
    let mut sock = tunnel();
    let mut client = Client::new(&Config::new(), &url()).unwrap();
    let e = drive(&mut client, &mut sock, |c| c.state() == State::Open).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::CertUntrusted, "{e}");
    let msg = client.last_error().unwrap().to_string();
    assert!(msg.contains("ws_config_set_system_roots"), "{msg}");
    assert!(msg.contains("ws_config_set_external_verification"), "{msg}");

    // The operating system's roots: squid's corporate CA is among them.
    let mut config = Config::new();
    let counts = config.set_system_roots(true).unwrap();
    assert!(counts.loaded >= 1, "{counts:?}");
    let mut sock = tunnel();
    let mut client = Client::new(&config, &url()).unwrap();
    drive(&mut client, &mut sock, |c| c.state() == State::Open).unwrap();
    echo(&mut client, &mut sock);

    // External verification: the chain squid made waits for the caller, who sees the
    // corporate issuer and accepts.
    let mut config = Config::new();
    config.set_external_verification(ExternalVerification::UnknownIssuer);
    let mut sock = tunnel();
    let mut client = Client::new(&config, &url()).unwrap();
    drive(&mut client, &mut sock, |c| c.state() == State::Verifying).unwrap();
    let chain = client.peer_certificates().unwrap().to_vec();
    let corp = std::fs::read_to_string(env("WSM_CORP_BUNDLE")).unwrap();
    let corp_der = rustls::pki_types::pem::PemObject::from_pem_slice(corp.as_bytes())
        .map(|c: rustls::pki_types::CertificateDer<'static>| c.to_vec())
        .unwrap();
    assert!(
        issuer_is(&chain[0], &corp_der),
        "squid re-signed the leaf with the corporate CA"
    );
    client.set_verdict(true, "").unwrap();
    drive(&mut client, &mut sock, |c| c.state() == State::Open).unwrap();
    echo(&mut client, &mut sock);
}

/// Whether `leaf` verifies under `ca_der` as its only trust anchor.
fn issuer_is(leaf: &[u8], ca_der: &[u8]) -> bool {
    let ca = rustls::pki_types::CertificateDer::from(ca_der.to_vec());
    let mut roots = rustls::RootCertStore::empty();
    if roots.add(ca).is_err() {
        return false;
    }
    let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
        roots.into(),
        std::sync::Arc::new(rustls::crypto::ring::default_provider()),
    )
    .build()
    .unwrap();
    use rustls::client::danger::ServerCertVerifier;
    verifier
        .verify_server_cert(
            &rustls::pki_types::CertificateDer::from(leaf.to_vec()),
            &[],
            &rustls::pki_types::ServerName::try_from("localhost").unwrap(),
            &[],
            rustls::pki_types::UnixTime::now(),
        )
        .is_ok()
}
