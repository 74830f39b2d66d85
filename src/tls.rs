//! The TLS layer: rustls (ring provider) over in-memory buffers.
//!
//! This module builds the rustls client configuration from a [`Config`] and turns
//! rustls errors into [`Error`]s with distinct kinds for the certificate problems a
//! developer needs to tell apart (untrusted, expired, wrong host, ...). The session
//! drives rustls's unbuffered client over its own input buffer (`session/tls_io.rs`);
//! the TLS object (`tls_stream.rs`) and the proxy tunnel drive a buffered
//! `rustls::ClientConnection`. No socket is involved.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{Resumption, WebPkiServerVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    AlertDescription, CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme,
};

use crate::config::{Config, ExternalVerification, PinMode, TlsVersion};
use crate::error::{Error, ErrorKind, Result};

/// The rustls configuration for `config`, built once and cached in it until a TLS
/// setting changes.
pub(crate) fn client_config(config: &Config) -> Result<Arc<rustls::ClientConfig>> {
    config
        .tls_cache()
        .get_or_try_init(|| build_client_config(config, false, &[b"http/1.1"]))
        .cloned()
}

/// The rustls configuration for TLS to an `https://` proxy: the same roots, versions
/// and verification switch, without pins and client certificate; cached like
/// [`client_config`].
pub(crate) fn proxy_client_config(config: &Config) -> Result<Arc<rustls::ClientConfig>> {
    config
        .proxy_tls_cache()
        .get_or_try_init(|| build_client_config(config, true, &[b"http/1.1"]))
        .cloned()
}

/// Builds the rustls client configuration for `config`, offering the `alpn` protocols;
/// `for_proxy` leaves out the pins and the client certificate (they are for the server,
/// not an HTTPS proxy).
pub(crate) fn build_client_config(
    config: &Config,
    for_proxy: bool,
    alpn: &[&[u8]],
) -> Result<Arc<rustls::ClientConfig>> {
    let pins: &[[u8; 32]] = if for_proxy { &[] } else { &config.pins };
    let client_auth = if for_proxy {
        None
    } else {
        config.client_auth.as_ref()
    };
    let mut roots = RootCertStore::empty();
    if config.builtin_roots {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    if let Some((anchors, _)) = &config.system_roots {
        roots.extend(anchors.iter().cloned());
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
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .map_err(|e| Error::new(ErrorKind::InvalidConfig, format!("TLS versions: {e}")))?;
    let insecure = config.settings.insecure;
    // External verification is for the server's chain, never an HTTPS proxy's.
    let external = if for_proxy {
        ExternalVerification::Off
    } else {
        config.settings.external
    };
    let builder = if pins.is_empty() && !insecure && external == ExternalVerification::Off {
        if roots.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                "no trusted roots: the built-in roots are off and none were added",
            ));
        }
        builder.with_root_certificates(roots)
    } else {
        let needs_ca = !insecure && (pins.is_empty() || config.pin_mode == PinMode::PinAndCa);
        if needs_ca && roots.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                "no trusted roots: the built-in roots are off and none were added",
            ));
        }
        let webpki = if needs_ca {
            let v = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|e| Error::new(ErrorKind::InvalidConfig, format!("verifier: {e}")))?;
            Some(v)
        } else {
            None
        };
        let verifier = Verifier {
            webpki,
            pins: if insecure { Vec::new() } else { pins.to_vec() },
            algorithms: provider.signature_verification_algorithms,
            external,
        };
        let verifier: Arc<dyn ServerCertVerifier> = match external {
            ExternalVerification::Off => Arc::new(verifier),
            _ => Arc::new(crate::verdict::Deferring::new(verifier)),
        };
        builder
            .dangerous()
            .with_custom_certificate_verifier(verifier)
    };
    let mut tls = match client_auth {
        Some(auth) => builder
            .with_client_auth_cert(auth.chain.clone(), auth.key.clone_key())
            .map_err(|e| {
                Error::new(ErrorKind::InvalidConfig, format!("client certificate: {e}"))
            })?,
        None => builder.with_no_client_auth(),
    };
    tls.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    tls.resumption = match external {
        ExternalVerification::Off => Resumption::store(config.session_store.clone()),
        _ => crate::verdict::gated_resumption(config.session_store.clone()),
    };
    Ok(Arc::new(tls))
}

/// A pin mismatch, carried through rustls as `CertificateError::Other`.
#[derive(Debug)]
struct PinMismatch(String);

impl std::fmt::Display for PinMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PinMismatch {}

/// Server certificate verification with public-key pins, external verification
/// (and, only when the caller asked for it by name, no verification at all).
/// Handshake signatures are always verified, so the server must hold the key it
/// presents.
#[derive(Debug)]
pub(crate) struct Verifier {
    /// CA and host-name verification; `None` in pin-only and dangerous modes.
    webpki: Option<Arc<WebPkiServerVerifier>>,
    /// SHA-256 of acceptable SubjectPublicKeyInfos; empty = no pin check.
    pins: Vec<[u8; 32]>,
    algorithms: WebPkiSupportedAlgorithms,
    /// Which chains wait for the caller's verdict (see [`Verifier::check`]).
    external: ExternalVerification,
}

/// SHA-256 of the certificate's DER SubjectPublicKeyInfo.
pub(crate) fn spki_sha256(
    cert: &CertificateDer<'_>,
) -> std::result::Result<[u8; 32], rustls::Error> {
    let ee = webpki::EndEntityCert::try_from(cert)
        .map_err(|_| rustls::Error::InvalidCertificate(CertificateError::BadEncoding))?;
    let spki = ee.subject_public_key_info();
    let digest = ring::digest::digest(&ring::digest::SHA256, spki.as_ref());
    Ok(digest.as_ref().try_into().expect("32 bytes"))
}

fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in data.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

impl Verifier {
    /// Runs the built-in checks. `Ok(None)`: trusted. `Ok(Some(why))`: the chain waits
    /// for the caller's verdict (external verification only: a chain the roots cannot
    /// anchor in either mode, every chain in `Always`). `Err`: rejected at once, which
    /// includes a wrong host name, an expired certificate and a pin mismatch in every
    /// mode.
    pub(crate) fn check(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<Option<&'static str>, rustls::Error> {
        let mut waits = None;
        if let Some(v) = &self.webpki {
            match v.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
                Ok(_) => {}
                Err(rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer))
                    if self.external != ExternalVerification::Off =>
                {
                    // webpki stops at the missing issuer before the name: check it here.
                    let cert = rustls::server::ParsedCertificate::try_from(end_entity)?;
                    rustls::client::verify_server_name(&cert, server_name)?;
                    waits = Some("the chain does not lead to a trusted root (UnknownIssuer)");
                }
                Err(e) => return Err(e),
            }
        }
        self.check_pins(end_entity)?;
        if waits.is_none() && self.external == ExternalVerification::Always {
            waits = Some("external verification is on for every chain");
        }
        Ok(waits)
    }

    fn check_pins(
        &self,
        end_entity: &CertificateDer<'_>,
    ) -> std::result::Result<(), rustls::Error> {
        if !self.pins.is_empty() {
            let hash = spki_sha256(end_entity)?;
            if !self.pins.contains(&hash) {
                let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
                let msg = format!(
                    "the server's public key matches none of the {} configured pins; it presented pin-sha256 \"{}\" (hex {hex})",
                    self.pins.len(),
                    base64(&hash)
                );
                return Err(rustls::Error::InvalidCertificate(CertificateError::Other(
                    rustls::OtherError(Arc::new(PinMismatch(msg))),
                )));
            }
        }
        Ok(())
    }
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        match self.check(end_entity, intermediates, server_name, ocsp_response, now)? {
            None => Ok(ServerCertVerified::assertion()),
            // A chain that waits for a verdict is only ever let through by
            // crate::verdict::Deferring, for a connection that has a gate.
            Some(why) => Err(rustls::Error::General(format!(
                "certificate needs an external verdict: {why}"
            ))),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Maps a rustls error to an engine error with a specific kind and a readable message.
pub(crate) fn map_error(e: &rustls::Error) -> Error {
    use rustls::Error as E;
    let (kind, what) = match e {
        E::InvalidCertificate(CertificateError::Other(o))
            if o.0.downcast_ref::<PinMismatch>().is_some() =>
        {
            return Error::new(ErrorKind::CertPinMismatch, o.0.to_string());
        }
        E::InvalidCertificate(CertificateError::UnknownIssuer) => {
            return Error::new(ErrorKind::CertUntrusted, format!("server certificate rejected: {e}: the chain does not lead to a trusted root. If this network inspects TLS (a corporate proxy or an antivirus re-signing traffic with its own CA), trust the operating system's roots (ws_config_set_system_roots) or let the platform decide (ws_config_set_external_verification); for a private server, add its CA (ws_config_add_root_pem)"));
        }
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
        C::Other(o) if o.0.downcast_ref::<PinMismatch>().is_some() => ErrorKind::CertPinMismatch,
        _ => ErrorKind::CertInvalid,
    }
}
