//! External verification: the caller's verdict on the server's chain, over real
//! rustls and tungstenite in memory. The server records every plaintext byte it
//! receives, so "nothing of the application before the verdict" is checked on the
//! server's side of TLS.

mod common;

use std::sync::Arc;

use common::*;
use wsmachine::{Client, Config, ErrorKind, ExternalVerification, MessageKind, State};

type Versions = &'static [&'static rustls::SupportedProtocolVersion];
const TLS13: Versions = &[&rustls::version::TLS13];
const TLS12: Versions = &[&rustls::version::TLS12];

/// A server whose chain is the leaf and the CA, so the client sees two certificates.
fn server_with_chain(
    pki: &Pki,
    names: &[&str],
    versions: Versions,
) -> (Arc<rustls::ServerConfig>, Vec<Vec<u8>>) {
    let mut leaf = pki.leaf(names);
    leaf.chain.push(pki.ca_der.clone());
    let chain = leaf.chain.iter().map(|c| c.to_vec()).collect();
    (server_config(&leaf, versions), chain)
}

fn connect(config: &Config, url: &str, server: &Arc<rustls::ServerConfig>) -> Pipe {
    Pipe::new(config, url, Server::new(Some(server.clone()), accept()))
}

/// Plaintext the server received so far (the upgrade request is all it can get
/// before the 101).
fn server_plaintext(p: &Pipe) -> usize {
    match &p.server.phase {
        Phase::Request(buf) => buf.len(),
        _ => usize::MAX,
    }
}

fn external(mode: ExternalVerification, trust: Option<&Pki>) -> Config {
    let mut config = Config::new();
    if let Some(pki) = trust {
        config.add_root_pem(pki.ca_pem.as_bytes()).unwrap();
    }
    config.set_external_verification(mode);
    config
}

/// Runs the pipe until it settles and checks the client waits for a verdict with
/// nothing of the application sent: the server finished its TLS handshake and
/// received no plaintext at all.
fn waits_for_verdict(p: &mut Pipe) {
    p.run().unwrap();
    assert_eq!(
        p.client.state(),
        State::Verifying,
        "{:?}",
        p.client.last_error()
    );
    assert_eq!(server_plaintext(p), 0, "no HTTP byte before the verdict");
    let tls = p.server.stream.as_ref().unwrap().tls().unwrap();
    assert!(!tls.is_handshaking(), "the TLS handshake itself completed");
    // Sends wait for the open state.
    assert_eq!(
        p.client.send_text(b"early").unwrap_err().kind(),
        ErrorKind::NotOpen
    );
}

fn chain_of(p: &mut Pipe) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while let Some(der) = p.client.peer_certificate_kept(out.len()) {
        out.push(der.to_vec());
    }
    out
}

#[test]
fn always_mode_holds_the_request_until_accept_then_opens_and_echoes() {
    let pki = Pki::new();
    let (server, sent_chain) = server_with_chain(&pki, &["localhost"], TLS13);
    let config = external(ExternalVerification::Always, Some(&pki));
    let mut p = connect(&config, "wss://localhost/chat", &server);
    waits_for_verdict(&mut p);
    // The chain as the server sent it, leaf first.
    assert_eq!(chain_of(&mut p), sent_chain);
    let listed: Vec<Vec<u8>> = p
        .client
        .peer_certificates()
        .unwrap()
        .iter()
        .map(|c| c.to_vec())
        .collect();
    assert_eq!(listed, sent_chain);
    // Nothing moves while waiting, however often the caller pumps.
    for _ in 0..3 {
        p.run().unwrap();
        assert_eq!(server_plaintext(&p), 0);
    }
    p.client.set_verdict(true, "").unwrap();
    p.open();
    assert!(p.server.request_head.starts_with("GET /chat HTTP/1.1\r\n"));
    p.echo(MessageKind::Text, b"after the verdict");
    // A second verdict is a caller mistake.
    assert_eq!(
        p.client.set_verdict(true, "").unwrap_err().kind(),
        ErrorKind::InvalidState
    );
}

#[test]
fn reject_fails_with_a_certificate_code_and_the_reason() {
    let pki = Pki::new();
    let (server, _) = server_with_chain(&pki, &["localhost"], TLS13);
    let config = external(ExternalVerification::Always, Some(&pki));
    let mut p = connect(&config, "wss://localhost/", &server);
    waits_for_verdict(&mut p);
    p.client
        .set_verdict(false, "revoked by the platform (test)")
        .unwrap();
    assert_eq!(p.client.state(), State::Failed);
    let e = p.client.failure().unwrap().clone();
    assert_eq!(e.kind(), ErrorKind::CertUntrusted);
    let msg = p.client.last_error().unwrap();
    assert!(msg.contains("revoked by the platform (test)"), "{msg}");
    // Sticky, and still nothing reached the server.
    assert_eq!(
        p.client.send_text(b"x").unwrap_err().kind(),
        ErrorKind::CertUntrusted
    );
    let _ = p.run();
    assert_eq!(server_plaintext(&p), 0);
}

#[test]
fn no_verdict_ends_in_the_handshake_timeout() {
    let pki = Pki::new();
    let (server, _) = server_with_chain(&pki, &["localhost"], TLS13);
    let mut config = external(ExternalVerification::Always, Some(&pki));
    let mut t = config.timeouts().clone();
    t.handshake_ms = 5_000;
    config.set_timeouts(t);
    let mut p = connect(&config, "wss://localhost/", &server);
    p.client.tick(1_000).unwrap();
    waits_for_verdict(&mut p);
    assert_eq!(
        p.client.next_deadline(),
        Some(6_000),
        "the handshake timer keeps running"
    );
    p.client.tick(5_999).unwrap();
    assert_eq!(p.client.state(), State::Verifying);
    assert_eq!(p.client.tick(6_000).unwrap_err().kind(), ErrorKind::Timeout);
    assert_eq!(
        p.client.set_verdict(true, "").unwrap_err().kind(),
        ErrorKind::Timeout,
        "a verdict after the timeout is too late"
    );
    let _ = p.run();
    assert_eq!(server_plaintext(&p), 0);
}

#[test]
fn unknown_issuer_mode_never_waits_for_a_chain_the_roots_trust() {
    let pki = Pki::new();
    let (server, _) = server_with_chain(&pki, &["localhost"], TLS13);
    let config = external(ExternalVerification::UnknownIssuer, Some(&pki));
    let mut p = connect(&config, "wss://localhost/", &server);
    p.open();
    p.echo(MessageKind::Binary, b"trusted");
}

#[test]
fn unknown_issuer_mode_asks_for_an_unknown_ca_and_still_fails_other_problems_at_once() {
    let pki = Pki::new();
    let (server, sent_chain) = server_with_chain(&pki, &["localhost"], TLS13);
    // The built-in roots do not know this CA: the chain waits.
    let config = external(ExternalVerification::UnknownIssuer, None);
    let mut p = connect(&config, "wss://localhost/", &server);
    waits_for_verdict(&mut p);
    assert_eq!(chain_of(&mut p), sent_chain);
    p.client.set_verdict(true, "").unwrap();
    p.open();

    // A wrong host name fails at once, without asking.
    let mut p = connect(&config, "wss://game.example/", &server);
    let e = p.run().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::CertWrongHost, "{e}");
    // So does an expired certificate.
    let expired = server_config(
        &pki.leaf_with(&["localhost"], (2000, 1, 1), (2001, 1, 1)),
        TLS13,
    );
    let e = connect(&config, "wss://localhost/", &expired)
        .run()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::CertExpired, "{e}");
    // And a pin mismatch.
    let mut pinned = external(ExternalVerification::UnknownIssuer, None);
    pinned.add_pin_sha256(&[7u8; 32]).unwrap();
    let e = connect(&pinned, "wss://localhost/", &server)
        .run()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::CertPinMismatch, "{e}");
    // In ALWAYS mode too.
    let always = external(ExternalVerification::Always, None);
    let e = connect(&always, "wss://game.example/", &server)
        .run()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::CertWrongHost, "{e}");
}

#[test]
fn default_mode_is_unchanged_an_unknown_ca_fails_and_names_the_fixes() {
    let pki = Pki::new();
    let (server, _) = server_with_chain(&pki, &["localhost"], TLS13);
    let mut p = connect(&Config::new(), "wss://localhost/", &server);
    let e = p.run().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::CertUntrusted);
    let msg = p.client.last_error().unwrap();
    assert!(msg.contains("ws_config_set_system_roots"), "{msg}");
    assert!(msg.contains("ws_config_set_external_verification"), "{msg}");
}

#[test]
fn client_certificate_with_external_verification_is_refused_at_creation() {
    let pki = Pki::new();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["player".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let mut config = external(ExternalVerification::UnknownIssuer, Some(&pki));
    config
        .set_client_cert_pem(cert.pem().as_bytes(), key.serialize_pem().as_bytes())
        .unwrap();
    let e = Client::new(&config, "wss://localhost/").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidConfig);
    assert!(e.message().contains("client certificate"), "{e}");
    // Without external verification the same config is fine.
    config.set_external_verification(ExternalVerification::Off);
    Client::new(&config, "wss://localhost/").unwrap();
}

fn reconnect_case(versions: Versions) {
    let pki = Pki::new();
    let (server, _) = server_with_chain(&pki, &["localhost"], versions);
    let config = external(ExternalVerification::UnknownIssuer, None);

    // First connection: rejected. Whatever sessions it got are never used.
    let mut p = connect(&config, "wss://localhost/", &server);
    waits_for_verdict(&mut p);
    p.client.set_verdict(false, "no").unwrap();
    let _ = p.run();

    // The reconnect does a full handshake and asks again.
    let mut p = connect(&config, "wss://localhost/", &server);
    waits_for_verdict(&mut p);
    assert!(!p.client.is_resumed(), "a rejected chain is never resumed");
    p.client.set_verdict(true, "").unwrap();
    p.open();
    p.echo(MessageKind::Text, b"hi");

    // Accepted: the next connection resumes without asking (its chain was accepted).
    let mut p = connect(&config, "wss://localhost/", &server);
    p.open();
    assert!(p.client.is_resumed(), "an accepted session resumes");
    assert!(p.server.stream_resumed());

    // A server with another key under the same name cannot resume: full handshake,
    // the chain waits, and a reject also forgets the accepted sessions of that name.
    let other = Pki::new();
    let (other_server, _) = server_with_chain(&other, &["localhost"], versions);
    let mut b = connect(&config, "wss://localhost/", &other_server);
    waits_for_verdict(&mut b);
    assert!(!b.client.is_resumed());
    b.client.set_verdict(false, "another key").unwrap();
    let mut c = connect(&config, "wss://localhost/", &server);
    waits_for_verdict(&mut c);
    assert!(
        !c.client.is_resumed(),
        "the reject forgot the earlier sessions"
    );
}

#[test]
fn reconnect_after_reject_does_a_full_handshake_and_asks_again_tls13() {
    reconnect_case(TLS13);
}

#[test]
fn reconnect_after_reject_does_a_full_handshake_and_asks_again_tls12() {
    reconnect_case(TLS12);
}

#[test]
fn abandoned_verdict_leaves_no_session_to_resume() {
    let pki = Pki::new();
    let (server, _) = server_with_chain(&pki, &["localhost"], TLS13);
    let config = external(ExternalVerification::UnknownIssuer, None);
    let mut p = connect(&config, "wss://localhost/", &server);
    waits_for_verdict(&mut p);
    drop(p); // the caller never answered
    let mut p = connect(&config, "wss://localhost/", &server);
    waits_for_verdict(&mut p);
    assert!(!p.client.is_resumed());
}

#[test]
fn always_mode_asks_again_on_a_resumed_session_with_its_chain() {
    let pki = Pki::new();
    let (server, sent_chain) = server_with_chain(&pki, &["localhost"], TLS13);
    let config = external(ExternalVerification::Always, Some(&pki));
    let mut p = connect(&config, "wss://localhost/", &server);
    waits_for_verdict(&mut p);
    p.client.set_verdict(true, "").unwrap();
    p.open();
    p.echo(MessageKind::Text, b"one");

    let mut p = connect(&config, "wss://localhost/", &server);
    waits_for_verdict(&mut p);
    assert!(p.client.is_resumed());
    assert_eq!(chain_of(&mut p), sent_chain, "the resumed session's chain");
    p.client.set_verdict(true, "").unwrap();
    p.open();
    p.echo(MessageKind::Text, b"two");
}

#[test]
fn tickets_held_for_the_verdict_are_bounded() {
    let pki = Pki::new();
    let mut leaf = pki.leaf(&["localhost"]);
    leaf.chain.push(pki.ca_der.clone());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut server = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(TLS13)
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(leaf.chain.clone(), leaf.key.clone_key())
        .unwrap();
    server.send_tls13_tickets = 100; // a server that floods tickets while we wait
    let server = Arc::new(server);
    let config = external(ExternalVerification::Always, Some(&pki));
    let mut p = connect(&config, "wss://localhost/", &server);
    waits_for_verdict(&mut p);
    assert_eq!(
        p.client.held_sessions(),
        8,
        "at most 8 sessions wait for the verdict"
    );
    p.client.set_verdict(true, "").unwrap();
    assert_eq!(p.client.held_sessions(), 0, "handed to the shared cache");
    p.open();
    // The held tickets are usable: the next connection resumes (and, in ALWAYS mode, asks).
    let mut p = connect(&config, "wss://localhost/", &server);
    waits_for_verdict(&mut p);
    assert!(p.client.is_resumed());
}

#[test]
fn byte_at_a_time_through_the_verdict() {
    let pki = Pki::new();
    let (server, _) = server_with_chain(&pki, &["localhost"], TLS12);
    let config = external(ExternalVerification::Always, Some(&pki));
    let mut p = connect(&config, "wss://localhost/", &server);
    p.step = 1;
    waits_for_verdict(&mut p);
    p.client.set_verdict(true, "").unwrap();
    p.open();
    p.echo(MessageKind::Text, b"slow");
}

// ----- the same through the C ABI ---------------------------------------------------

mod c_abi {
    use super::*;
    use std::ffi::CString;
    use std::ptr::null;
    use wsmachine::ffi::*;

    const OK: ws_result = ws_result::WS_OK;

    fn state(c: ws_client) -> ws_state {
        let mut s = ws_state::WS_STATE_FAILED;
        assert_eq!(unsafe { ws_client_state(c, &mut s) }, OK);
        s
    }

    /// Moves bytes both ways until nothing moves.
    fn run(c: ws_client, server: &mut Server) {
        let mut buf = vec![0u8; 32 << 10];
        loop {
            let mut moved = false;
            loop {
                let mut n = 0;
                if unsafe { ws_read_output(c, buf.as_mut_ptr(), buf.len(), &mut n) } != OK || n == 0
                {
                    break;
                }
                moved = true;
                server.mem().push(&buf[..n]);
            }
            server.step();
            let out = server.mem().take();
            if !out.is_empty() {
                moved = true;
                let mut used = 0;
                unsafe { ws_offer_input(c, out.as_ptr(), out.len(), &mut used) };
            }
            if !moved {
                return;
            }
        }
    }

    fn new_client(cfg: ws_config) -> ws_client {
        let url = CString::new("wss://localhost/").unwrap();
        let mut c = 0;
        assert_eq!(unsafe { ws_client_new(cfg, url.as_ptr(), &mut c) }, OK);
        c
    }

    #[test]
    fn verdict_through_the_exports() {
        let pki = Pki::new();
        let (server_tls, sent_chain) = server_with_chain(&pki, &["localhost"], TLS13);
        let mut cfg = 0;
        assert_eq!(unsafe { ws_config_new(&mut cfg) }, OK);
        assert_eq!(
            ws_config_set_external_verification(cfg, 3),
            ws_result::WS_INVALID_ARGUMENT
        );
        assert_eq!(
            ws_config_set_external_verification(
                cfg,
                ws_external_verify::WS_EXTERNAL_VERIFY_UNKNOWN_ISSUER as u32
            ),
            OK
        );
        let (mut loaded, mut skipped) = (9, 9);
        assert_eq!(
            unsafe { ws_config_system_roots_count(cfg, &mut loaded, &mut skipped) },
            OK
        );
        assert_eq!((loaded, skipped), (0, 0), "system roots are off by default");

        // Accept.
        let c = new_client(cfg);
        let (mut der, mut len) = (null(), 0);
        assert_eq!(
            unsafe { ws_client_peer_certificate(c, 0, &mut der, &mut len) },
            ws_result::WS_INVALID_STATE,
            "no chain before the handshake"
        );
        assert_eq!(
            unsafe { ws_client_set_verdict(c, 1, null()) },
            ws_result::WS_INVALID_STATE
        );
        let mut server = Server::new(Some(server_tls.clone()), accept());
        run(c, &mut server);
        assert_eq!(state(c), ws_state::WS_STATE_VERIFYING);
        let mut chain = Vec::new();
        loop {
            match unsafe { ws_client_peer_certificate(c, chain.len(), &mut der, &mut len) } {
                // SAFETY: the client lends len bytes at der until it is freed.
                OK => chain.push(unsafe { std::slice::from_raw_parts(der, len) }.to_vec()),
                ws_result::WS_INVALID_ARGUMENT => break,
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(chain, sent_chain);
        // The lent bytes stay put through the rest of the connection.
        let (first, first_len) = {
            assert_eq!(
                unsafe { ws_client_peer_certificate(c, 0, &mut der, &mut len) },
                OK
            );
            (der, len)
        };
        assert_eq!(unsafe { ws_client_set_verdict(c, 1, null()) }, OK);
        run(c, &mut server);
        assert_eq!(state(c), ws_state::WS_STATE_OPEN);
        // SAFETY: still lent (the client is alive).
        assert_eq!(
            unsafe { std::slice::from_raw_parts(first, first_len) },
            &sent_chain[0][..]
        );
        ws_client_free(c);

        // Reject: a certificate code, and the reason in the client's last error.
        let other = Pki::new();
        let (other_tls, _) = server_with_chain(&other, &["localhost"], TLS13);
        let c = new_client(cfg);
        let mut server = Server::new(Some(other_tls), accept());
        run(c, &mut server);
        assert_eq!(state(c), ws_state::WS_STATE_VERIFYING);
        let reason = CString::new("the platform said no").unwrap();
        assert_eq!(unsafe { ws_client_set_verdict(c, 0, reason.as_ptr()) }, OK);
        assert_eq!(state(c), ws_state::WS_STATE_FAILED);
        let mut buf = vec![0u8; 1024];
        let mut n = 0;
        assert_eq!(
            unsafe { ws_client_last_error(c, buf.as_mut_ptr().cast(), buf.len(), &mut n) },
            OK
        );
        let msg = String::from_utf8_lossy(&buf[..n]).to_string();
        assert!(msg.contains("the platform said no"), "{msg}");
        let mut used = 0;
        assert_eq!(
            unsafe { ws_offer_input(c, b"x".as_ptr(), 1, &mut used) },
            ws_result::WS_CERT_UNTRUSTED
        );
        ws_client_free(c);

        // mTLS + external: refused at creation.
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["player".to_string()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let (cp, kp) = (cert.pem(), key.serialize_pem());
        assert_eq!(
            unsafe {
                ws_config_set_client_cert_pem(cfg, cp.as_ptr(), cp.len(), kp.as_ptr(), kp.len())
            },
            OK
        );
        let url = CString::new("wss://localhost/").unwrap();
        let mut c = 0;
        assert_eq!(
            unsafe { ws_client_new(cfg, url.as_ptr(), &mut c) },
            ws_result::WS_INVALID_CONFIG
        );
        assert_eq!(c, 0);
        ws_config_free(cfg);
    }
}

#[test]
fn the_tls_object_never_lets_a_waiting_chain_through() {
    use std::io::{Read, Write};
    use wsmachine::tls_stream::TlsClient;
    let pki = Pki::new();
    let (server_tls, _) = server_with_chain(&pki, &["localhost"], TLS13);
    // In ALWAYS mode every chain would wait: the TLS object has no Verifying state, so
    // it fails instead of trusting provisionally.
    let config = external(ExternalVerification::Always, Some(&pki));
    let mut client = TlsClient::new(&config, "localhost").unwrap();
    let mut server = rustls::ServerConnection::new(server_tls).unwrap();
    let mut buf = vec![0u8; 64 << 10];
    let mut failure = None;
    for _ in 0..20 {
        let n = client.read_output(&mut buf).unwrap_or(0);
        let mut rd = &buf[..n];
        while !rd.is_empty() {
            server.read_tls(&mut rd).unwrap();
        }
        let _ = server.process_new_packets();
        let mut out = Vec::new();
        while server.wants_write() {
            server.write_tls(&mut out).unwrap();
        }
        let _ = server.reader().read(&mut buf);
        let _ = server.writer().flush();
        if !out.is_empty() {
            if let Err(e) = client.offer_input(&out) {
                failure = Some(e);
                break;
            }
        }
    }
    let e = failure.expect("the handshake must fail");
    assert!(e.message().contains("external verdict"), "{e}");
}
