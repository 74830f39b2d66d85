//! The TLS layer: rustls (ring provider) over in-memory buffers.
//!
//! This module builds the rustls client configuration from a [`Config`] and turns
//! rustls errors into [`Error`]s with distinct kinds for the certificate problems a
//! developer needs to tell apart (untrusted, expired, wrong host, ...). The session
//! drives the `rustls::ClientConnection` directly: `read_tls` from the caller's
//! bytes, `process_new_packets`, plaintext through `reader()`/`writer()`, and
//! `write_tls` into the output buffer. No socket is involved.

use std::sync::Arc;

use rustls::client::Resumption;
use rustls::{AlertDescription, CertificateError, RootCertStore};

use crate::config::{Config, TlsVersion};
use crate::error::{Error, ErrorKind, Result};

/// Builds the rustls client configuration for `config`.
pub(crate) fn build_client_config(config: &Config) -> Result<Arc<rustls::ClientConfig>> {
    let mut roots = RootCertStore::empty();
    if config.builtin_roots {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    for cert in &config.extra_roots {
        roots
            .add(cert.clone())
            .map_err(|e| Error::new(ErrorKind::InvalidConfig, format!("bad root: {e}")))?;
    }
    let versions: &[&'static rustls::SupportedProtocolVersion] = match config.min_tls_version {
        TlsVersion::Tls12 => &[&rustls::version::TLS13, &rustls::version::TLS12],
        TlsVersion::Tls13 => &[&rustls::version::TLS13],
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .map_err(|e| Error::new(ErrorKind::InvalidConfig, format!("TLS versions: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    tls.resumption = Resumption::store(config.session_store.clone());
    Ok(Arc::new(tls))
}

/// Maps a rustls error to an engine error with a specific kind and a readable message.
pub(crate) fn map_error(e: &rustls::Error) -> Error {
    use rustls::Error as E;
    let (kind, what) = match e {
        E::InvalidCertificate(c) => (cert_kind(c), "server certificate rejected"),
        E::AlertReceived(a) => {
            let kind = match a {
                AlertDescription::ProtocolVersion | AlertDescription::InsufficientSecurity => {
                    ErrorKind::TlsVersion
                }
                _ => ErrorKind::TlsAlertReceived,
            };
            return Error::new(kind, format!("TLS alert received from the server: {a:?}"));
        }
        E::PeerIncompatible(_) => (
            ErrorKind::TlsVersion,
            "no TLS version or cipher suite in common",
        ),
        E::InvalidMessage(_)
        | E::InappropriateMessage { .. }
        | E::InappropriateHandshakeMessage { .. } => (
            ErrorKind::TlsCorrupt,
            "the server sent bytes that are not valid TLS",
        ),
        E::NoCertificatesPresented => (
            ErrorKind::CertInvalid,
            "the server presented no certificate",
        ),
        E::DecryptError => (ErrorKind::TlsCorrupt, "a TLS record failed to decrypt"),
        _ => (ErrorKind::Tls, "TLS error"),
    };
    Error::new(kind, format!("{what}: {e}"))
}

fn cert_kind(c: &CertificateError) -> ErrorKind {
    use CertificateError as C;
    match c {
        C::UnknownIssuer => ErrorKind::CertUntrusted,
        C::Expired | C::ExpiredContext { .. } => ErrorKind::CertExpired,
        C::NotValidYet | C::NotValidYetContext { .. } => ErrorKind::CertNotYetValid,
        C::NotValidForName | C::NotValidForNameContext { .. } => ErrorKind::CertWrongHost,
        _ => ErrorKind::CertInvalid,
    }
}
