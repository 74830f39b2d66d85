//! Client configuration: trust, TLS options, handshake headers, limits and timeouts.
//!
//! A [`Config`] is built once and shared by many clients. Each [`crate::Client`] made
//! from it takes a snapshot, so changing or dropping the config later does not
//! affect clients that already exist. All clients made from one config share one TLS
//! session store, so the second connection to a server resumes the TLS session
//! (TLS 1.3 tickets or TLS 1.2 session IDs/tickets) without any work by the caller.

use std::sync::Arc;

use once_cell::sync::OnceCell;
use rustls::client::ClientSessionMemoryCache;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, TrustAnchor};

use crate::deflate::DeflateConfig;
use crate::error::{err, ErrorKind, Result};
use crate::proxy::{ProxySettings, ProxyUrl};

/// Default maximum size of one received message: 64 MiB.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 64 << 20;
/// Default maximum size of one received frame: 16 MiB.
pub const DEFAULT_MAX_FRAME_SIZE: usize = 16 << 20;
/// Default maximum size of the server's HTTP upgrade response head: 16 KiB.
pub const DEFAULT_MAX_HEADER_SIZE: usize = 16 << 10;
/// Default bound on decoded messages waiting to be polled before input is refused: 1024.
pub const DEFAULT_MAX_QUEUED_MESSAGES: usize = 1024;
/// Default bound on the bytes of decoded messages waiting to be polled before input
/// is refused: 128 MiB (twice the default message limit).
pub const DEFAULT_MAX_QUEUED_BYTES: usize = 128 << 20;
/// Default bound on bytes waiting in the output (ws_read_output): 128 MiB.
pub const DEFAULT_MAX_PENDING_OUTPUT: usize = 128 << 20;
/// Default handshake timeout (TLS plus HTTP upgrade): 15 s.
pub const DEFAULT_HANDSHAKE_TIMEOUT_MS: u64 = 15_000;
/// Default time to wait for the peer's close frame after sending ours: 5 s.
pub const DEFAULT_CLOSE_TIMEOUT_MS: u64 = 5_000;
/// Default keepalive ping interval when the line is quiet: 20 s.
pub const DEFAULT_KEEPALIVE_INTERVAL_MS: u64 = 20_000;
/// Default dead-peer timeout (no bytes at all from the peer): 60 s.
pub const DEFAULT_IDLE_TIMEOUT_MS: u64 = 60_000;

/// A TLS protocol version: the lowest a client will negotiate
/// ([`Config::set_min_tls_version`]), or the one it negotiated
/// ([`crate::Client::tls_version`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsVersion {
    /// TLS 1.2 (as the lowest: 1.2 or 1.3, the default).
    Tls12,
    /// TLS 1.3 (as the lowest: 1.3 only).
    Tls13,
}

/// Size limits. Every limit protects memory against a hostile or broken peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest message accepted from the peer, in bytes (after reassembly).
    pub max_message_size: usize,
    /// Largest single frame accepted from the peer, in bytes.
    pub max_frame_size: usize,
    /// Largest HTTP upgrade response head accepted, in bytes.
    pub max_header_size: usize,
    /// Undelivered messages after which `offer_input` stops consuming input.
    pub max_queued_messages: usize,
    /// Bytes of undelivered messages after which `offer_input` stops consuming input.
    /// The message that crosses the bound is still queued, so at most this plus
    /// `max_message_size` bytes wait.
    pub max_queued_bytes: usize,
    /// Pending output bytes after which sends fail with [`ErrorKind::OutputFull`].
    pub max_pending_output: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            max_frame_size: DEFAULT_MAX_FRAME_SIZE,
            max_header_size: DEFAULT_MAX_HEADER_SIZE,
            max_queued_messages: DEFAULT_MAX_QUEUED_MESSAGES,
            max_queued_bytes: DEFAULT_MAX_QUEUED_BYTES,
            max_pending_output: DEFAULT_MAX_PENDING_OUTPUT,
        }
    }
}

/// Timeouts in milliseconds of the caller's clock; 0 switches one off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeouts {
    /// The TLS and WebSocket handshakes must finish within this time.
    pub handshake_ms: u64,
    /// After sending a close frame, wait this long for the peer's.
    pub close_ms: u64,
    /// Send a ping when nothing has been received for this long.
    pub keepalive_ms: u64,
    /// Fail with [`ErrorKind::Timeout`] when nothing has been received for this long.
    pub idle_ms: u64,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            handshake_ms: DEFAULT_HANDSHAKE_TIMEOUT_MS,
            close_ms: DEFAULT_CLOSE_TIMEOUT_MS,
            keepalive_ms: DEFAULT_KEEPALIVE_INTERVAL_MS,
            idle_ms: DEFAULT_IDLE_TIMEOUT_MS,
        }
    }
}

/// How configured public-key pins combine with CA verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinMode {
    /// The chain must verify against the trusted roots AND the server key must match
    /// a pin (the default once a pin is added).
    PinAndCa,
    /// Only the pin is checked: a self-signed server works without any CA. The host
    /// name is not checked either; the pin identifies the server.
    PinOnly,
}

/// Whether certificate chains wait for the caller's own verdict
/// ([`Config::set_external_verification`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExternalVerification {
    /// The built-in checks decide alone (the default).
    #[default]
    Off,
    /// Only a chain the trusted roots cannot anchor (`UnknownIssuer`) waits for the
    /// caller's verdict; a wrong host name, an expired certificate or a pin mismatch
    /// still fail at once, and a chain the roots trust never waits.
    UnknownIssuer,
    /// Every chain waits for the caller's verdict once the built-in checks passed or
    /// failed only on the issuer (a resumed session too).
    Always,
}

/// What [`Config::set_system_roots`] loaded from the operating system's store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SystemRoots {
    /// Certificates trusted as roots.
    pub loaded: usize,
    /// Certificates found but skipped because they do not parse as trust anchors.
    pub skipped: usize,
}

/// A client certificate chain and its private key, for mutual TLS.
#[derive(Debug)]
pub(crate) struct ClientAuth {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
}

impl Clone for ClientAuth {
    fn clone(&self) -> Self {
        ClientAuth {
            chain: self.chain.clone(),
            key: self.key.clone_key(),
        }
    }
}

/// The snapshot of settings a client is created with.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub subprotocols: Vec<String>,
    pub headers: Vec<(String, String)>,
    pub server_name: Option<String>,
    pub limits: Limits,
    pub timeouts: Timeouts,
    /// Certificate verification is off (see `Config::dangerous_disable_certificate_verification`).
    pub insecure: bool,
    /// permessage-deflate settings.
    pub deflate: DeflateConfig,
    /// Whether chains wait for the caller's verdict.
    pub external: ExternalVerification,
    /// The proxy to tunnel through, if any.
    pub proxy: ProxySettings,
}

/// Configuration shared by clients. See the [module docs](self).
#[derive(Debug)]
pub struct Config {
    pub(crate) builtin_roots: bool,
    pub(crate) extra_roots: Vec<CertificateDer<'static>>,
    pub(crate) min_tls_version: TlsVersion,
    pub(crate) pins: Vec<[u8; 32]>,
    pub(crate) pin_mode: PinMode,
    pub(crate) client_auth: Option<ClientAuth>,
    /// Roots loaded from the operating system's store, and the counts.
    pub(crate) system_roots: Option<(Vec<TrustAnchor<'static>>, SystemRoots)>,
    pub(crate) settings: Settings,
    pub(crate) session_store: Arc<ClientSessionMemoryCache>,
    tls: OnceCell<Arc<rustls::ClientConfig>>,
    proxy_tls: OnceCell<Arc<rustls::ClientConfig>>,
    /// The same without ALPN, for the TLS object.
    plain_tls: OnceCell<Arc<rustls::ClientConfig>>,
}

impl Default for Config {
    fn default() -> Self {
        Config::new()
    }
}

impl Config {
    /// A config that trusts the Mozilla root program (webpki-roots), verifies host
    /// names, allows TLS 1.2 and 1.3, and uses the documented default limits.
    pub fn new() -> Self {
        Config {
            builtin_roots: true,
            extra_roots: Vec::new(),
            min_tls_version: TlsVersion::Tls12,
            pins: Vec::new(),
            pin_mode: PinMode::PinAndCa,
            client_auth: None,
            system_roots: None,
            settings: Settings {
                subprotocols: Vec::new(),
                headers: Vec::new(),
                server_name: None,
                limits: Limits::default(),
                timeouts: Timeouts::default(),
                insecure: false,
                deflate: DeflateConfig::default(),
                external: ExternalVerification::Off,
                proxy: ProxySettings::default(),
            },
            session_store: Arc::new(ClientSessionMemoryCache::new(256)),
            tls: OnceCell::new(),
            proxy_tls: OnceCell::new(),
            plain_tls: OnceCell::new(),
        }
    }

    fn changed(&mut self) {
        self.tls = OnceCell::new();
        self.proxy_tls = OnceCell::new();
        self.plain_tls = OnceCell::new();
    }

    /// Trusts the certificates in `pem` (one or a bundle) as roots, in addition to
    /// the built-in ones. Returns how many certificates were added.
    ///
    /// This is how a self-signed or private-CA server becomes trusted. Fails with
    /// [`ErrorKind::InvalidConfig`] when `pem` holds no certificate or a malformed one;
    /// nothing is added then.
    pub fn add_root_pem(&mut self, pem: &[u8]) -> Result<usize> {
        let mut certs = Vec::new();
        for item in CertificateDer::pem_slice_iter(pem) {
            match item {
                Ok(cert) => certs.push(cert),
                Err(e) => return err(ErrorKind::InvalidConfig, format!("invalid PEM: {e}")),
            }
        }
        if certs.is_empty() {
            return err(
                ErrorKind::InvalidConfig,
                "no CERTIFICATE block found in the PEM data",
            );
        }
        // Check that each one parses as a trust anchor before accepting any.
        let mut probe = rustls::RootCertStore::empty();
        for cert in &certs {
            if let Err(e) = probe.add(cert.clone()) {
                return err(
                    ErrorKind::InvalidConfig,
                    format!("unusable root certificate: {e}"),
                );
            }
        }
        let n = certs.len();
        self.extra_roots.extend(certs);
        self.changed();
        Ok(n)
    }

    /// Whether the built-in Mozilla roots are trusted (default `true`). Switch them off
    /// to trust only the roots added with [`Config::add_root_pem`].
    pub fn set_builtin_roots(&mut self, enabled: bool) {
        self.builtin_roots = enabled;
        self.changed();
    }

    /// Also trusts the operating system's certificate store (`on`), or stops trusting
    /// it (`!on`). The store is read now, in this call, never during a handshake:
    /// through rustls-native-certs, that is the Windows store, the macOS keychain, or on
    /// other Unix systems the file in `SSL_CERT_FILE` and the directories in
    /// `SSL_CERT_DIR` when set, else the distribution's bundle. Certificates that do not
    /// parse as trust anchors are skipped and counted. The roots add to the built-in
    /// ones, those from [`Config::add_root_pem`], and pins. Calling it again reloads.
    ///
    /// This is what makes a network that inspects TLS work (a corporate proxy or an
    /// antivirus re-signing traffic with a CA installed in the OS store).
    ///
    /// Fails with [`ErrorKind::InvalidConfig`] when the store yields no usable
    /// certificate (iOS, Android and WebGL have no store to read this way; see
    /// [`Config::set_external_verification`]); the setting is unchanged then.
    pub fn set_system_roots(&mut self, on: bool) -> Result<SystemRoots> {
        if !on {
            self.system_roots = None;
            self.changed();
            return Ok(SystemRoots::default());
        }
        let found = rustls_native_certs::load_native_certs();
        let mut store = rustls::RootCertStore::empty();
        let (loaded, skipped) = store.add_parsable_certificates(found.certs);
        if loaded == 0 {
            let why: Vec<String> = found.errors.iter().map(|e| e.to_string()).collect();
            return err(
                ErrorKind::InvalidConfig,
                format!(
                    "the operating system's certificate store yielded no usable root ({skipped} skipped){}{}",
                    if why.is_empty() { "" } else { ": " },
                    why.join("; ")
                ),
            );
        }
        let counts = SystemRoots { loaded, skipped };
        self.system_roots = Some((store.roots, counts));
        self.changed();
        Ok(counts)
    }

    /// What [`Config::set_system_roots`] loaded, or `None` while system roots are off.
    pub fn system_roots(&self) -> Option<SystemRoots> {
        self.system_roots.as_ref().map(|(_, counts)| *counts)
    }

    /// Lets the caller decide about certificate chains, with any verifier and on its
    /// own schedule (the platform's, on a worker thread): see [`ExternalVerification`].
    /// A chain that waits puts the client in [`crate::State::Verifying`] once the TLS
    /// handshake is done; nothing of the application (the upgrade request with its
    /// headers, any message) is sent until [`crate::Client::set_verdict`] accepts.
    /// The handshake timeout keeps running meanwhile. Sessions are resumed only from
    /// connections whose chain was accepted (or trusted by the built-in checks).
    ///
    /// A client certificate (mutual TLS) cannot be combined with it: TLS sends the
    /// client certificate before any verdict, so creating such a client fails.
    pub fn set_external_verification(&mut self, mode: ExternalVerification) {
        self.settings.external = mode;
        self.changed();
    }

    /// Offers these subprotocols (`Sec-WebSocket-Protocol`), in order of preference.
    /// The server must pick one of them; an empty list offers none.
    pub fn set_subprotocols<I, S>(&mut self, protocols: I) -> Result<()>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let list: Vec<String> = protocols.into_iter().map(Into::into).collect();
        for p in &list {
            if p.is_empty() || !p.bytes().all(is_token_byte) {
                return err(
                    ErrorKind::InvalidConfig,
                    format!("invalid subprotocol token {p:?}"),
                );
            }
        }
        self.settings.subprotocols = list;
        Ok(())
    }

    /// Adds a header to the upgrade request (for example `Authorization`, `Origin` or
    /// `Cookie`). Headers that the WebSocket handshake itself sets are refused.
    pub fn add_header(&mut self, name: &str, value: &str) -> Result<()> {
        if name.is_empty() || !name.bytes().all(is_token_byte) {
            return err(
                ErrorKind::InvalidConfig,
                format!("invalid header name {name:?}"),
            );
        }
        if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
            return err(
                ErrorKind::InvalidConfig,
                "header value contains CR, LF or NUL",
            );
        }
        const RESERVED: [&str; 7] = [
            "host",
            "connection",
            "upgrade",
            "sec-websocket-key",
            "sec-websocket-version",
            "sec-websocket-protocol",
            "sec-websocket-extensions",
        ];
        if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(name)) {
            return err(
                ErrorKind::InvalidConfig,
                format!("header {name:?} is set by the handshake itself"),
            );
        }
        self.settings
            .headers
            .push((name.to_string(), value.to_string()));
        Ok(())
    }

    /// Verifies the certificate against `name` and sends it as SNI instead of the
    /// URL's host. `None` goes back to the URL's host.
    pub fn set_server_name(&mut self, name: Option<&str>) -> Result<()> {
        if let Some(n) = name {
            if rustls::pki_types::ServerName::try_from(n).is_err() {
                return err(
                    ErrorKind::InvalidConfig,
                    format!("invalid server name {n:?}"),
                );
            }
        }
        self.settings.server_name = name.map(str::to_string);
        Ok(())
    }

    /// Pins the server's public key: `sha256` is the SHA-256 of its DER
    /// SubjectPublicKeyInfo (the value behind HPKP's `pin-sha256`, decoded from
    /// base64). With one or more pins, a server whose key matches none fails with
    /// [`ErrorKind::CertPinMismatch`], and the error names the key it presented.
    pub fn add_pin_sha256(&mut self, sha256: &[u8]) -> Result<()> {
        let Ok(pin) = <[u8; 32]>::try_from(sha256) else {
            return err(
                ErrorKind::InvalidConfig,
                format!("a SHA-256 pin has 32 bytes, not {}", sha256.len()),
            );
        };
        self.pins.push(pin);
        self.changed();
        Ok(())
    }

    /// Whether pins are checked on top of CA verification (default) or instead of it.
    pub fn set_pin_mode(&mut self, mode: PinMode) {
        self.pin_mode = mode;
        self.changed();
    }

    /// Presents this client certificate chain (PEM, leaf first) and private key (PEM,
    /// PKCS#8, PKCS#1 or SEC1) when the server asks for one (mutual TLS).
    pub fn set_client_cert_pem(&mut self, chain_pem: &[u8], key_pem: &[u8]) -> Result<()> {
        let mut chain = Vec::new();
        for item in CertificateDer::pem_slice_iter(chain_pem) {
            chain.push(item.map_err(|e| {
                crate::error::Error::new(
                    ErrorKind::InvalidConfig,
                    format!("invalid certificate PEM: {e}"),
                )
            })?);
        }
        if chain.is_empty() {
            return err(
                ErrorKind::InvalidConfig,
                "no CERTIFICATE block in the client chain PEM",
            );
        }
        let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| {
            crate::error::Error::new(
                ErrorKind::InvalidConfig,
                format!("invalid private key PEM: {e}"),
            )
        })?;
        // Check that the key is usable and belongs to the chain now, not at connect time.
        let provider = rustls::crypto::ring::default_provider();
        let signing = provider
            .key_provider
            .load_private_key(key.clone_key())
            .map_err(|e| {
                crate::error::Error::new(
                    ErrorKind::InvalidConfig,
                    format!("unusable private key: {e}"),
                )
            })?;
        let certified = rustls::sign::CertifiedKey::new(chain.clone(), signing);
        if let Err(e) = certified.keys_match() {
            if !matches!(
                e,
                rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)
            ) {
                return err(
                    ErrorKind::InvalidConfig,
                    format!("client key does not match its certificate: {e}"),
                );
            }
        }
        self.client_auth = Some(ClientAuth { chain, key });
        self.changed();
        Ok(())
    }

    /// **Dangerous.** Turns off certificate and host-name verification entirely:
    /// any server, including an attacker in the middle, is accepted. For development
    /// against throw-away servers only; prefer [`Config::add_root_pem`] or a pin.
    /// Every client made from this config reports [`crate::Client::is_insecure`].
    pub fn dangerous_disable_certificate_verification(&mut self) {
        self.settings.insecure = true;
        self.changed();
    }

    /// Whether certificate verification was turned off.
    pub fn is_insecure(&self) -> bool {
        self.settings.insecure
    }

    /// The permessage-deflate settings clients made from now on will use.
    pub fn deflate(&self) -> &DeflateConfig {
        &self.settings.deflate
    }

    /// Replaces the permessage-deflate settings (off by default; see the
    /// [`crate::deflate`] module docs for why).
    pub fn set_deflate(&mut self, deflate: DeflateConfig) -> Result<()> {
        deflate.validate()?;
        self.settings.deflate = deflate;
        Ok(())
    }

    /// The lowest TLS version to negotiate (default TLS 1.2).
    pub fn set_min_tls_version(&mut self, version: TlsVersion) {
        self.min_tls_version = version;
        self.changed();
    }

    /// The limits that clients made from now on will use.
    pub fn limits(&self) -> &Limits {
        &self.settings.limits
    }

    /// Replaces the limits. Every limit must be at least 1 (the header limit at least
    /// 256). A frame limit above the message limit is allowed and has no effect: a
    /// frame larger than the message limit fails as a too-big message first (so each
    /// limit can be set on its own, in any order). `max_queued_bytes` does not follow
    /// `max_message_size`; set both.
    pub fn set_limits(&mut self, limits: Limits) -> Result<()> {
        if limits.max_message_size == 0
            || limits.max_frame_size == 0
            || limits.max_header_size == 0
            || limits.max_queued_messages == 0
            || limits.max_queued_bytes == 0
            || limits.max_pending_output == 0
        {
            return err(ErrorKind::InvalidConfig, "limits must be at least 1");
        }
        if limits.max_header_size < 256 {
            return err(
                ErrorKind::InvalidConfig,
                "max header size must be at least 256 bytes",
            );
        }
        self.settings.limits = limits;
        Ok(())
    }

    /// The timeouts that clients made from now on will use.
    pub fn timeouts(&self) -> &Timeouts {
        &self.settings.timeouts
    }

    /// Replaces the timeouts (0 switches one off).
    pub fn set_timeouts(&mut self, timeouts: Timeouts) {
        self.settings.timeouts = timeouts;
    }

    /// Sends every connection through a proxy: `http://[user:pass@]host:port`
    /// (HTTP CONNECT), `https://[user:pass@]host:port` (CONNECT inside TLS to the
    /// proxy, the server's TLS inside that) or `socks5://[user:pass@]host:port` (the
    /// proxy resolves the server's name, like curl's `socks5h://`). `None` or `""`
    /// clears it. User and password may be %-encoded; with an HTTP proxy they go out
    /// as `Proxy-Authorization: Basic` on the first request.
    ///
    /// The caller's socket then connects to the proxy
    /// ([`crate::Client::connect_address`]). SNI, certificate verification and the
    /// `Host` header still use the server's name. An `https://` proxy's certificate is
    /// verified with this config's roots and TLS settings; pins, the pin mode and the
    /// client certificate apply to the server only.
    ///
    /// A malformed URL fails with [`ErrorKind::InvalidUrl`]; the message never repeats
    /// the URL (it may hold a password), and the previous proxy setting stays.
    pub fn set_proxy(&mut self, url: Option<&str>) -> Result<()> {
        self.settings.proxy.url = match url {
            None | Some("") => None,
            Some(u) => Some(ProxyUrl::parse(u)?),
        };
        Ok(())
    }

    /// The proxy set with [`Config::set_proxy`] (its `Debug` form hides credentials).
    pub fn proxy(&self) -> Option<&ProxyUrl> {
        self.settings.proxy.url.as_ref()
    }

    /// Sends this `Proxy-Authorization` value (for example `Basic dXNlcjpwYXNz`, or an
    /// NTLM/Negotiate token computed by the caller) with the CONNECT request, instead
    /// of Basic credentials from the proxy URL. `None` or `""` clears it. Values with
    /// CR, LF or NUL are refused with [`ErrorKind::InvalidConfig`]. SOCKS5 proxies
    /// ignore it (they use the URL's user and password).
    pub fn set_proxy_authorization(&mut self, value: Option<&str>) -> Result<()> {
        if let Some(v) = value {
            if v.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
                return err(
                    ErrorKind::InvalidConfig,
                    "the Proxy-Authorization value contains CR, LF or NUL",
                );
            }
        }
        self.settings.proxy.authorization = value.filter(|v| !v.is_empty()).map(str::to_string);
        Ok(())
    }

    /// Where `tls::client_config` caches the rustls configuration built from this
    /// config; emptied whenever a TLS setting changes. (The caches live here, the
    /// building in `tls`, so that `tls` depends on `config` and not the other way.)
    pub(crate) fn tls_cache(&self) -> &OnceCell<Arc<rustls::ClientConfig>> {
        &self.tls
    }

    /// Where `tls::proxy_client_config` caches the configuration for TLS to an
    /// `https://` proxy.
    pub(crate) fn proxy_tls_cache(&self) -> &OnceCell<Arc<rustls::ClientConfig>> {
        &self.proxy_tls
    }

    /// Where `tls_stream::client_config` caches the TLS object's configuration (no
    /// ALPN).
    pub(crate) fn plain_tls_cache(&self) -> &OnceCell<Arc<rustls::ClientConfig>> {
        &self.plain_tls
    }
}

/// RFC 7230 `tchar`.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[doc(hidden)]
impl Config {
    /// A copy of the settings with a fresh session store (tests only).
    pub fn clone_for_test(&self) -> Config {
        Config {
            builtin_roots: self.builtin_roots,
            extra_roots: self.extra_roots.clone(),
            min_tls_version: self.min_tls_version,
            pins: self.pins.clone(),
            pin_mode: self.pin_mode,
            client_auth: self.client_auth.clone(),
            system_roots: self.system_roots.clone(),
            settings: self.settings.clone(),
            session_store: Arc::new(ClientSessionMemoryCache::new(256)),
            tls: OnceCell::new(),
            proxy_tls: OnceCell::new(),
            plain_tls: OnceCell::new(),
        }
    }
}
