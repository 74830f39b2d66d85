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
use rustls::pki_types::CertificateDer;

use crate::error::{err, ErrorKind, Result};

/// Default maximum size of one received message: 64 MiB.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 64 << 20;
/// Default maximum size of one received frame: 16 MiB.
pub const DEFAULT_MAX_FRAME_SIZE: usize = 16 << 20;
/// Default maximum size of the server's HTTP upgrade response head: 16 KiB.
pub const DEFAULT_MAX_HEADER_SIZE: usize = 16 << 10;
/// Default bound on decoded messages waiting to be polled before input is refused: 1024.
pub const DEFAULT_MAX_QUEUED_MESSAGES: usize = 1024;
/// Default bound on bytes waiting in [`crate::Client::read_output`]: 128 MiB.
pub const DEFAULT_MAX_PENDING_OUTPUT: usize = 128 << 20;
/// Default handshake timeout (TLS plus HTTP upgrade): 15 s.
pub const DEFAULT_HANDSHAKE_TIMEOUT_MS: u64 = 15_000;
/// Default time to wait for the peer's close frame after sending ours: 5 s.
pub const DEFAULT_CLOSE_TIMEOUT_MS: u64 = 5_000;
/// Default keepalive ping interval when the line is quiet: 20 s.
pub const DEFAULT_KEEPALIVE_INTERVAL_MS: u64 = 20_000;
/// Default dead-peer timeout (no bytes at all from the peer): 60 s.
pub const DEFAULT_IDLE_TIMEOUT_MS: u64 = 60_000;

/// Lowest TLS protocol version a client will negotiate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsVersion {
    /// TLS 1.2 or 1.3 (the default).
    Tls12,
    /// TLS 1.3 only.
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

/// The snapshot of settings a client is created with.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub subprotocols: Vec<String>,
    pub headers: Vec<(String, String)>,
    pub server_name: Option<String>,
    pub limits: Limits,
    pub timeouts: Timeouts,
}

/// Configuration shared by clients. See the [module docs](self).
#[derive(Debug)]
pub struct Config {
    pub(crate) builtin_roots: bool,
    pub(crate) extra_roots: Vec<CertificateDer<'static>>,
    pub(crate) min_tls_version: TlsVersion,
    pub(crate) settings: Settings,
    pub(crate) session_store: Arc<ClientSessionMemoryCache>,
    tls: OnceCell<Arc<rustls::ClientConfig>>,
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
            settings: Settings {
                subprotocols: Vec::new(),
                headers: Vec::new(),
                server_name: None,
                limits: Limits::default(),
                timeouts: Timeouts::default(),
            },
            session_store: Arc::new(ClientSessionMemoryCache::new(256)),
            tls: OnceCell::new(),
        }
    }

    fn changed(&mut self) {
        self.tls = OnceCell::new();
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

    /// The lowest TLS version to negotiate (default TLS 1.2).
    pub fn set_min_tls_version(&mut self, version: TlsVersion) {
        self.min_tls_version = version;
        self.changed();
    }

    /// The limits that clients made from now on will use.
    pub fn limits(&self) -> &Limits {
        &self.settings.limits
    }

    /// Replaces the limits. Every limit must be at least 1, and the frame limit may not
    /// exceed the message limit.
    pub fn set_limits(&mut self, limits: Limits) -> Result<()> {
        if limits.max_message_size == 0
            || limits.max_frame_size == 0
            || limits.max_header_size == 0
            || limits.max_queued_messages == 0
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

    /// The rustls configuration, built once and cached until a TLS setting changes.
    pub(crate) fn tls_config(&self) -> Result<Arc<rustls::ClientConfig>> {
        self.tls
            .get_or_try_init(|| crate::tls::build_client_config(self))
            .cloned()
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
            settings: self.settings.clone(),
            session_store: Arc::new(ClientSessionMemoryCache::new(256)),
            tls: OnceCell::new(),
        }
    }
}
