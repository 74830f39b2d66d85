//! Errors of the core engine.
//!
//! Every fallible operation returns [`Result<T, Error>`]. An [`Error`] carries an
//! [`ErrorKind`] (what went wrong, stable enough to map to a result code) and a
//! human-readable message (what exactly, for logs and the last-error API).

use std::fmt;

/// What went wrong, coarse enough to branch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// An argument given by the caller is out of range or malformed.
    InvalidArgument,
    /// The URL could not be parsed or has an unsupported scheme.
    InvalidUrl,
    /// A configuration value (PEM data, header, size) was rejected.
    InvalidConfig,
    /// The operation needs an open connection and the handshake has not finished.
    NotOpen,
    /// The call does not fit the client's state (a commit without an input window).
    InvalidState,
    /// The connection is closing or closed; nothing more can be sent.
    AlreadyClosed,
    /// Queueing this would exceed the configured maximum of pending output.
    OutputFull,
    /// A TLS failure not covered by a more specific kind.
    Tls,
    /// The server certificate does not chain to a trusted root.
    CertUntrusted,
    /// The server certificate (or one in its chain) has expired.
    CertExpired,
    /// The server certificate (or one in its chain) is not valid yet.
    CertNotYetValid,
    /// The server certificate is not valid for the host name (or IP) connected to.
    CertWrongHost,
    /// The server's public key matched none of the configured pins.
    CertPinMismatch,
    /// The certificate is malformed, badly signed, revoked or otherwise unusable.
    CertInvalid,
    /// The peer sent a fatal TLS alert.
    TlsAlertReceived,
    /// No TLS protocol version or cipher suite acceptable to both sides.
    TlsVersion,
    /// The peer sent bytes that are not valid TLS.
    TlsCorrupt,
    /// The HTTP upgrade failed for a reason without a more specific kind.
    Handshake,
    /// The server answered the upgrade with a status other than 101.
    HttpStatus,
    /// `Sec-WebSocket-Accept` did not match the key we sent.
    BadAccept,
    /// The upgrade response is not valid HTTP or lacks required headers.
    BadResponse,
    /// The server chose a subprotocol we did not offer (or none when one was required).
    Subprotocol,
    /// The server selected an extension we did not offer.
    Extension,
    /// The upgrade response headers exceed the configured limit.
    HeaderTooLarge,
    /// The peer violated RFC 6455 framing rules.
    Protocol,
    /// A text message or close reason from the peer is not valid UTF-8.
    InvalidUtf8,
    /// A message from the peer exceeds the configured maximum message size.
    MessageTooBig,
    /// A frame from the peer exceeds the configured maximum frame size.
    FrameTooBig,
    /// A configured timeout expired.
    Timeout,
    /// The peer closed the connection before the handshake finished, or did not
    /// answer a liveness probe in time.
    ConnectionLost,
    /// The proxy wants credentials (HTTP 407, or SOCKS5 authentication failed).
    ProxyAuthRequired,
    /// The proxy refused the tunnel (an HTTP status other than 2xx and 407, or a
    /// SOCKS5 reply code).
    ProxyRefused,
    /// The proxy's answer is not valid HTTP or SOCKS5, or exceeds the header limit.
    ProxyBadResponse,
    /// The proxy closed the connection before the tunnel was open.
    ProxyClosed,
    /// A bug inside the library (a caught panic).
    Panic,
}

/// An error from the engine: a kind and a readable message.
///
/// Boxed, so that it is one pointer: every `Result<usize>` and `Result<()>` of the
/// message path then travels in registers instead of through memory (errors are
/// rare; results are on every call, see BENCHMARKS.md, issue 18).
#[derive(Clone, PartialEq, Eq)]
pub struct Error(Box<Inner>);

#[derive(Clone, PartialEq, Eq)]
struct Inner {
    kind: ErrorKind,
    message: String,
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.0.kind)
            .field("message", &self.0.message)
            .finish()
    }
}

impl Error {
    /// Builds an error of `kind` with `message`.
    #[cold]
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error(Box::new(Inner {
            kind,
            message: message.into(),
        }))
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// The readable description.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// Is this an error of the network peer (as opposed to a caller mistake)?
    /// Such errors make the connection fail.
    pub fn is_fatal(&self) -> bool {
        !matches!(
            self.0.kind,
            ErrorKind::InvalidArgument
                | ErrorKind::InvalidUrl
                | ErrorKind::InvalidConfig
                | ErrorKind::NotOpen
                | ErrorKind::InvalidState
                | ErrorKind::AlreadyClosed
                | ErrorKind::OutputFull
        )
    }

    /// The WebSocket close code a client sends when failing the connection for this error.
    pub(crate) fn close_code(&self) -> Option<u16> {
        match self.0.kind {
            ErrorKind::Protocol => Some(1002),
            ErrorKind::InvalidUtf8 => Some(1007),
            ErrorKind::MessageTooBig | ErrorKind::FrameTooBig => Some(1009),
            ErrorKind::Panic => Some(1011),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.message)
    }
}

impl std::error::Error for Error {}

/// A connection's last error in words, and the order things happened in.
///
/// Two things are recorded: the connection's own events (its failure, or why it
/// ended uncleanly) and the calls the caller made that were refused. Each record
/// takes the next sequence number, so the newer of the two is known by comparing
/// numbers.
#[derive(Debug, Clone, Default)]
pub(crate) struct LastError {
    next: u64,
    event: Option<(u64, String)>,
    rejected: Option<(u64, String)>,
}

impl LastError {
    fn stamp(&mut self, message: &str) -> Option<(u64, String)> {
        self.next += 1;
        Some((self.next, message.to_string()))
    }

    /// Records an event of the connection itself.
    pub(crate) fn event(&mut self, message: &str) {
        self.event = self.stamp(message);
    }

    /// Records a call that was refused.
    pub(crate) fn rejected(&mut self, message: &str) {
        self.rejected = self.stamp(message);
    }

    /// The newer of the last event and the last refused call.
    pub(crate) fn newest(&self) -> Option<&str> {
        [&self.event, &self.rejected]
            .into_iter()
            .flatten()
            .max_by_key(|(seq, _)| *seq)
            .map(|(_, message)| message.as_str())
    }
}

/// Shorthand for results of the engine.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cold]
pub(crate) fn err<T>(kind: ErrorKind, message: impl Into<String>) -> Result<T> {
    Err(Error::new(kind, message))
}

#[cfg(test)]
mod tests {
    use super::LastError;

    #[test]
    fn the_newer_record_wins_whichever_kind_it_is() {
        let mut log = LastError::default();
        assert_eq!(log.newest(), None);
        log.rejected("refused");
        assert_eq!(log.newest(), Some("refused"));
        log.event("dropped");
        assert_eq!(log.newest(), Some("dropped"));
        // The same message again is still newer: order comes from the sequence, not
        // from comparing messages.
        log.rejected("refused");
        assert_eq!(log.newest(), Some("refused"));
        log.event("refused");
        log.rejected("other");
        assert_eq!(log.newest(), Some("other"));
    }
}
