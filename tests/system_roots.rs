//! The operating system's roots on Linux, through rustls-native-certs: a bundle in
//! `SSL_CERT_FILE` and a directory in `SSL_CERT_DIR`. The variables are process-wide,
//! so this file holds one test that changes them step by step.

mod common;

use common::*;
use wsmachine::{Config, ErrorKind, State, SystemRoots};

fn connect(config: &Config, server: &std::sync::Arc<rustls::ServerConfig>) -> Pipe {
    Pipe::new(
        config,
        "wss://localhost/",
        Server::new(Some(server.clone()), accept()),
    )
}

fn untrusted(config: &Config, server: &std::sync::Arc<rustls::ServerConfig>) {
    let mut p = connect(config, server);
    let e = p.run().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::CertUntrusted, "{e}");
    assert_eq!(p.client.state(), State::Failed);
}

#[test]
fn system_roots_from_ssl_cert_file_and_ssl_cert_dir() {
    let pki = Pki::new();
    let server = server_config(&pki.leaf(&["localhost"]), &[&rustls::version::TLS13]);
    let dir = std::env::temp_dir().join(format!("wsm-system-roots-{}", std::process::id()));
    let certs = dir.join("certs");
    std::fs::create_dir_all(&certs).unwrap();
    // A bundle: the test CA, and a block that is PEM but no certificate (skipped).
    let bundle = dir.join("bundle.pem");
    let junk = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    std::fs::write(&bundle, format!("{}{junk}", pki.ca_pem)).unwrap();
    std::fs::write(certs.join("corporate-ca.pem"), &pki.ca_pem).unwrap();
    let empty = dir.join("empty.pem");
    std::fs::write(&empty, "").unwrap();

    // --- SSL_CERT_FILE
    std::env::remove_var("SSL_CERT_DIR");
    std::env::set_var("SSL_CERT_FILE", &bundle);
    let mut config = Config::new();
    assert_eq!(config.system_roots(), None, "off by default");
    untrusted(&config, &server);
    let counts = config.set_system_roots(true).unwrap();
    assert_eq!(
        counts,
        SystemRoots {
            loaded: 1,
            skipped: 1
        }
    );
    assert_eq!(config.system_roots(), Some(counts));
    connect(&config, &server).open();
    // Only the system roots: the built-in ones off.
    config.set_builtin_roots(false);
    let mut p = connect(&config, &server);
    p.open();
    p.echo(wsmachine::MessageKind::Text, b"through the OS store");
    // Off again: untrusted again (and with no roots left at all, refused).
    config.set_builtin_roots(true);
    assert_eq!(
        config.set_system_roots(false).unwrap(),
        SystemRoots::default()
    );
    assert_eq!(config.system_roots(), None);
    untrusted(&config, &server);

    // --- A store with nothing usable is an error, and the setting is unchanged.
    std::env::set_var("SSL_CERT_FILE", &empty);
    let e = config.set_system_roots(true).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidConfig, "{e}");
    assert!(e.message().contains("no usable root"), "{e}");
    assert_eq!(config.system_roots(), None);

    // --- SSL_CERT_DIR
    std::env::remove_var("SSL_CERT_FILE");
    std::env::set_var("SSL_CERT_DIR", &certs);
    let mut config = Config::new();
    config.set_builtin_roots(false);
    assert_eq!(config.set_system_roots(true).unwrap().loaded, 1);
    connect(&config, &server).open();

    // --- The platform's verifier (blocking, on demand) sees the same store: trusted
    // with the bundle, not without it.
    std::env::remove_var("SSL_CERT_DIR");
    std::env::set_var("SSL_CERT_FILE", &bundle);
    let mut config = Config::new();
    config.set_external_verification(wsmachine::ExternalVerification::UnknownIssuer);
    assert_eq!(platform_verdict(&config, &server), Ok(()));
    std::env::set_var("SSL_CERT_FILE", &empty);
    let e = platform_verdict(&config, &server).unwrap_err();
    assert!(
        e.contains("the platform's verifier rejected the chain"),
        "{e}"
    );

    // --- Neither set: the distribution's bundle (Debian's ca-certificates).
    std::env::remove_var("SSL_CERT_FILE");
    std::env::remove_var("SSL_CERT_DIR");
    if std::path::Path::new("/etc/ssl/certs/ca-certificates.crt").exists() {
        let counts = Config::new().set_system_roots(true).unwrap();
        assert!(counts.loaded > 50, "{counts:?}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Connects until the client waits for a verdict, then asks the platform's verifier
/// through the C export (from another thread, as a caller would). Ok = trusted.
fn platform_verdict(
    config: &Config,
    server: &std::sync::Arc<rustls::ServerConfig>,
) -> Result<(), String> {
    use wsmachine::ffi::*;
    let mut p = connect(config, server);
    p.run().unwrap();
    assert_eq!(p.client.state(), State::Verifying);
    let (chain, name) = p.client.verification_request().unwrap();
    assert_eq!(name.to_str(), "localhost");
    let direct =
        std::thread::spawn(move || wsmachine::platform::verify_with_platform(&chain, &name))
            .join()
            .unwrap();
    // The same through the C ABI, on a handle.
    let mut cfg = 0;
    assert_eq!(unsafe { ws_config_new(&mut cfg) }, ws_result::WS_OK);
    assert_eq!(
        ws_config_set_external_verification(cfg, 1),
        ws_result::WS_OK
    );
    let mut trusted = 9u32;
    let mut len = 0;
    let mut c = 0;
    let url = std::ffi::CString::new("wss://localhost/").unwrap();
    assert_eq!(
        unsafe { ws_client_new(cfg, url.as_ptr(), &mut c) },
        ws_result::WS_OK
    );
    assert_eq!(
        unsafe {
            ws_client_verify_with_platform(c, &mut trusted, std::ptr::null_mut(), 0, &mut len)
        },
        ws_result::WS_INVALID_STATE,
        "not verifying yet"
    );
    assert_eq!(trusted, 9, "out-parameters untouched on failure");
    ws_client_free(c);
    ws_config_free(cfg);
    direct.map_err(|e| e.message().to_string())
}
