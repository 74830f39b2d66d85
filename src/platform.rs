//! The operating system's own verifier (rustls-platform-verifier), run on demand by
//! the caller on a thread of its choosing: it may block (revocation checks, network
//! I/O, the OS's policy), so the session never calls it.
//!
//! Windows (CertGetCertificateChain), macOS and iOS (SecTrust), Linux (webpki with
//! the distribution's roots). Not on Android: there the verifier needs the app's JNI
//! context and the `rustls-platform-verifier-android` Kotlin component, which a native
//! plugin cannot set up on its own; use the C# `WsPlatformTrust` or Android's
//! `X509TrustManager` from Java and hand the verdict to `ws_client_set_verdict`.

use rustls::pki_types::{CertificateDer, ServerName};

use crate::error::Result;

/// Verifies `chain` (leaf first) for `name` with the operating system's verifier.
/// Blocks. `Ok` when the OS trusts it; else the certificate error (its kind tells
/// untrusted, expired, wrong host, ...).
#[cfg(any(
    windows,
    target_os = "macos",
    target_os = "ios",
    all(target_os = "linux", not(target_os = "android"))
))]
pub fn verify_with_platform(chain: &[CertificateDer<'_>], name: &ServerName<'_>) -> Result<()> {
    use rustls::client::danger::ServerCertVerifier;
    use std::sync::Arc;
    let Some((leaf, intermediates)) = chain.split_first() else {
        return crate::error::err(
            crate::ErrorKind::CertInvalid,
            "the server presented no certificate",
        );
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let rejected = |e: rustls::Error| {
        let kind = crate::tls::map_error(&e).kind();
        crate::Error::new(
            kind,
            format!("the platform's verifier rejected the chain: {e}"),
        )
    };
    let verifier = rustls_platform_verifier::Verifier::new(provider).map_err(rejected)?;
    verifier
        .verify_server_cert(
            leaf,
            intermediates,
            name,
            &[],
            rustls::pki_types::UnixTime::now(),
        )
        .map(|_| ())
        .map_err(rejected)
}

/// Not available on this platform: [`crate::ErrorKind::InvalidState`].
#[cfg(not(any(
    windows,
    target_os = "macos",
    target_os = "ios",
    all(target_os = "linux", not(target_os = "android"))
)))]
pub fn verify_with_platform(_chain: &[CertificateDer<'_>], _name: &ServerName<'_>) -> Result<()> {
    crate::error::err(
        crate::ErrorKind::InvalidState,
        "the platform verifier is not available on this platform (on Android, verify from Java)",
    )
}
