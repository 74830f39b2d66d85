//! Certificate verification, TLS versions and session resumption, over real rustls.

mod common;

use common::*;
use wsmachine::{Config, ErrorKind, State, TlsVersion};

fn connect(config: &Config, url: &str, server_tls: std::sync::Arc<rustls::ServerConfig>) -> Pipe {
    Pipe::new(config, url, Server::new(Some(server_tls), accept()))
}

fn fails_with(mut p: Pipe, kind: ErrorKind) -> String {
    let e = p.run().unwrap_err();
    assert_eq!(e.kind(), kind, "{e}");
    assert_eq!(p.client.state(), State::Failed);
    // The alert telling the server why is still handed out.
    assert!(p.client.pending_output() > 0 || p.to_server_bytes > 0);
    p.client.last_error().unwrap().to_string()
}

#[test]
fn private_ca_untrusted_by_default_trusted_after_add_root_pem() {
    let pki = Pki::new();
    let server = server_config(&pki.leaf(&["localhost"]), &[&rustls::version::TLS13]);
    let msg = fails_with(
        connect(&Config::new(), "wss://localhost/", server.clone()),
        ErrorKind::CertUntrusted,
    );
    assert!(msg.contains("UnknownIssuer"), "{msg}");

    let mut config = Config::new();
    assert_eq!(config.add_root_pem(pki.ca_pem.as_bytes()).unwrap(), 1);
    connect(&config, "wss://localhost/", server).open();
}

#[test]
fn bad_pem_is_rejected() {
    let mut config = Config::new();
    assert_eq!(
        config.add_root_pem(b"not a pem").unwrap_err().kind(),
        ErrorKind::InvalidConfig
    );
    let garbage = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    assert_eq!(
        config.add_root_pem(garbage).unwrap_err().kind(),
        ErrorKind::InvalidConfig
    );
}

#[test]
fn only_added_roots_when_builtin_roots_are_off() {
    let s = Setup::new();
    let mut config = Config::new();
    config.set_builtin_roots(false);
    config.add_root_pem(s.pki.ca_pem.as_bytes()).unwrap();
    connect(&config, "wss://localhost/", s.server_tls.clone()).open();
}

#[test]
fn wrong_host_name_has_its_own_code() {
    let s = Setup::new();
    let msg = fails_with(
        connect(&s.config, "wss://game.example/", s.server_tls.clone()),
        ErrorKind::CertWrongHost,
    );
    assert!(
        msg.contains("game.example") || msg.contains("NotValidForName"),
        "{msg}"
    );
}

#[test]
fn server_name_override_verifies_against_the_given_name() {
    let s = Setup::new();
    let mut config = s.config.clone_for_test();
    config.set_server_name(Some("localhost")).unwrap();
    connect(&config, "wss://127.0.0.1:8443/", s.server_tls.clone()).open();
}

#[test]
fn expired_and_not_yet_valid_certificates() {
    let s = Setup::new();
    let expired = server_config(
        &s.pki.leaf_with(&["localhost"], (2020, 1, 1), (2021, 1, 1)),
        &[&rustls::version::TLS13],
    );
    let msg = fails_with(
        connect(&s.config, "wss://localhost/", expired),
        ErrorKind::CertExpired,
    );
    assert!(msg.to_lowercase().contains("expired"), "{msg}");
    let future = server_config(
        &s.pki.leaf_with(&["localhost"], (2090, 1, 1), (2100, 1, 1)),
        &[&rustls::version::TLS13],
    );
    fails_with(
        connect(&s.config, "wss://localhost/", future),
        ErrorKind::CertNotYetValid,
    );
}

#[test]
fn tls12_works_and_min_version_13_refuses_a_12_only_server() {
    let s = Setup::new();
    let tls12 = server_config(&s.pki.leaf(&["localhost"]), &[&rustls::version::TLS12]);
    let mut p = connect(&s.config, "wss://localhost/", tls12.clone());
    p.open();
    assert_eq!(p.client.tls_version(), Some(TlsVersion::Tls12));

    let mut config = s.config.clone_for_test();
    config.set_min_tls_version(TlsVersion::Tls13);
    let msg = fails_with(
        connect(&config, "wss://localhost/", tls12),
        ErrorKind::TlsVersion,
    );
    assert!(!msg.is_empty());
}

fn resumption_case(versions: &[&'static rustls::SupportedProtocolVersion]) {
    let s = Setup::new();
    let server = server_config(&s.pki.leaf(&["localhost"]), versions);
    let mut first = connect(&s.config, "wss://localhost/", server.clone());
    first.open();
    assert!(!first.client.is_resumed());
    first.client.send_text(b"x").unwrap();
    first.run().unwrap();
    let full_bytes = first.to_server_bytes;

    let mut second = connect(&s.config, "wss://localhost/", server.clone());
    second.open();
    assert!(
        second.client.is_resumed(),
        "second connection from the same config resumes"
    );
    assert!(
        second.server.stream_resumed(),
        "the server agrees it resumed"
    );

    // A different config has its own session store: no resumption.
    let other = s.config.clone_for_test();
    let mut third = connect(&other, "wss://localhost/", server);
    third.open();
    assert!(!third.client.is_resumed());
    assert!(full_bytes > 0);
}

#[test]
fn tls13_session_resumption() {
    resumption_case(&[&rustls::version::TLS13]);
}

#[test]
fn tls12_session_resumption() {
    resumption_case(&[&rustls::version::TLS12]);
}

fn spki_sha256(leaf: &Leaf) -> [u8; 32] {
    let ee = webpki::EndEntityCert::try_from(&leaf.chain[0]).unwrap();
    let d = ring::digest::digest(&ring::digest::SHA256, ee.subject_public_key_info().as_ref());
    d.as_ref().try_into().unwrap()
}

#[test]
fn pin_and_ca_mode() {
    let pki = Pki::new();
    let leaf = pki.leaf(&["localhost"]);
    let server = server_config(&leaf, &[&rustls::version::TLS13]);
    let mut config = Config::new();
    config.add_root_pem(pki.ca_pem.as_bytes()).unwrap();
    config.add_pin_sha256(&spki_sha256(&leaf)).unwrap();
    connect(&config, "wss://localhost/", server.clone()).open();

    // A wrong pin fails even though the CA is trusted, and names the presented key.
    let mut wrong = Config::new();
    wrong.add_root_pem(pki.ca_pem.as_bytes()).unwrap();
    wrong.add_pin_sha256(&[7u8; 32]).unwrap();
    let msg = fails_with(
        connect(&wrong, "wss://localhost/", server.clone()),
        ErrorKind::CertPinMismatch,
    );
    let hex: String = spki_sha256(&leaf)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(msg.contains(&hex), "{msg}");
    assert!(msg.contains("pin-sha256"), "{msg}");

    // The right pin does not make an untrusted CA acceptable in this mode.
    let mut no_ca = Config::new();
    no_ca.add_pin_sha256(&spki_sha256(&leaf)).unwrap();
    fails_with(
        connect(&no_ca, "wss://localhost/", server),
        ErrorKind::CertUntrusted,
    );
    assert_eq!(
        Config::new().add_pin_sha256(&[1, 2, 3]).unwrap_err().kind(),
        ErrorKind::InvalidConfig
    );
}

#[test]
fn pin_only_mode_accepts_a_self_signed_server() {
    // A self-signed leaf (not a CA) that no root store would accept.
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["game.local".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let leaf = Leaf {
        chain: vec![cert.der().clone()],
        key: rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
    };
    let server = server_config(&leaf, &[&rustls::version::TLS13, &rustls::version::TLS12]);
    let mut config = Config::new();
    config.add_pin_sha256(&spki_sha256(&leaf)).unwrap();
    fails_with(
        connect(&config, "wss://game.local/", server.clone()),
        ErrorKind::CertUntrusted,
    );
    config.set_pin_mode(wsmachine::PinMode::PinOnly);
    let mut p = connect(&config, "wss://game.local/", server.clone());
    p.open();
    assert!(!p.client.is_insecure());
    config.add_pin_sha256(&[0u8; 32]).unwrap(); // a second (rotation) pin changes nothing
    connect(&config, "wss://game.local/", server.clone()).open();

    let mut other = Config::new();
    other.set_pin_mode(wsmachine::PinMode::PinOnly);
    other.add_pin_sha256(&[9u8; 32]).unwrap();
    fails_with(
        connect(&other, "wss://game.local/", server),
        ErrorKind::CertPinMismatch,
    );
}

#[test]
fn dangerous_mode_is_explicit_and_reported() {
    let s = Setup::new();
    let mut config = Config::new();
    fails_with(
        connect(&config, "wss://localhost/", s.server_tls.clone()),
        ErrorKind::CertUntrusted,
    );
    config.dangerous_disable_certificate_verification();
    assert!(config.is_insecure());
    let mut p = connect(&config, "wss://wrong.example/", s.server_tls.clone());
    p.open();
    assert!(
        p.client.is_insecure(),
        "every client of such a config reports it"
    );
}

#[test]
fn mutual_tls_with_client_certificate() {
    let s = Setup::new();
    let client_leaf = s.pki.leaf_with(&["player-1"], (2020, 1, 1), (2100, 1, 1));
    let mut roots = rustls::RootCertStore::empty();
    roots.add(s.pki.ca_der.clone()).unwrap();
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let verifier =
        rustls::server::WebPkiClientVerifier::builder_with_provider(roots.into(), provider.clone())
            .build()
            .unwrap();
    let server_leaf = s.pki.leaf(&["localhost"]);
    let server = std::sync::Arc::new(
        rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_client_cert_verifier(verifier)
            .with_single_cert(server_leaf.chain.clone(), server_leaf.key.clone_key())
            .unwrap(),
    );
    // Without a client certificate the server refuses us.
    let mut p = connect(&s.config, "wss://localhost/", server.clone());
    let e = p.run().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TlsAlertReceived, "{e}");

    let mut config = s.config.clone_for_test();
    let chain_pem = pem_of("CERTIFICATE", &client_leaf.chain[0]);
    let key_pem = pem_of("PRIVATE KEY", client_leaf.key.secret_der());
    assert_eq!(
        config
            .set_client_cert_pem(chain_pem.as_bytes(), b"junk")
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidConfig
    );
    config
        .set_client_cert_pem(chain_pem.as_bytes(), key_pem.as_bytes())
        .unwrap();
    let mut p = connect(&config, "wss://localhost/", server);
    p.open();
    let presented = p.server.peer_certificates();
    assert_eq!(presented.first(), Some(&client_leaf.chain[0]));
}

fn pem_of(label: &str, der: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut b64 = String::new();
    for c in der.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            b64.push(if i <= c.len() {
                T[(n >> (18 - 6 * i) & 63) as usize] as char
            } else {
                '='
            });
        }
    }
    let body: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|l| std::str::from_utf8(l).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        body.join("\n")
    )
}
