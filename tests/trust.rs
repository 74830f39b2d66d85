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
    assert_eq!(p.client.tls_version().as_deref(), Some("TLSv1_2"));

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
