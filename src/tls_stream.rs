//! TLS on its own: [`TlsClient`], a sans-IO TLS client connection for any protocol
//! (the SSLEngine .NET never had).
//!
//! It is the TLS layer of the WebSocket client without the WebSocket: ciphertext in
//! and out through the caller's buffers, plaintext in and out through
//! [`TlsClient::write`] and [`TlsClient::read`], time from the caller's clock. It is
//! built from the same [`Config`] as a [`crate::Client`] and shares what the config
//! gives: trusted roots, pins and pin mode, the client certificate, the minimum TLS
//! version, the "dangerous" no-verification switch, the handshake timeout, the
//! pending-output limit, and the TLS session store, so a second connection of one
//! config resumes the session. It offers no ALPN protocol.
//!
//! The event loop, on one thread:
//!
//! 1. [`TlsClient::offer_input`]: bytes received from the socket (empty = EOF).
//!    It may take fewer than offered while 16 KiB of decrypted plaintext wait
//!    unread: read them, then offer the rest.
//! 2. [`TlsClient::read`]: decrypted plaintext, until [`TlsRead::NeedInput`].
//! 3. [`TlsClient::write`]: plaintext to send; it may take fewer bytes than given
//!    when the pending-output limit is reached (back-pressure).
//! 4. [`TlsClient::tick`]: the time, for the handshake timeout.
//! 5. [`TlsClient::read_output`]: ciphertext for the socket, until it returns 0.
//!
//! Plaintext written before the handshake completes is buffered (up to the
//! pending-output limit) and encrypted once it completes.

use std::io::{BufRead, Write};
use std::sync::Arc;

use rustls::pki_types::ServerName;
use rustls::ClientConnection;

use crate::bytes::{self, Sink, Source};
use crate::config::{Config, Timeouts, TlsVersion};
use crate::error::{err, Error, ErrorKind, LastError, Result};

/// Decrypted plaintext that may wait unread before `offer_input` stops taking input
/// (rustls's own bound on received plaintext).
pub const MAX_UNREAD_PLAINTEXT: usize = 16 << 10;

/// The state of a [`TlsClient`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsState {
    /// The handshake is in progress; written plaintext is buffered.
    Handshaking,
    /// Plaintext flows both ways.
    Open,
    /// One side ended: close_notify was sent or received, or the peer's stream ended,
    /// or the last bytes still wait in the output.
    Closing,
    /// Both sides ended and everything to send has been read out.
    Closed,
    /// The connection failed; see [`TlsClient::failure`].
    Failed,
}

/// The outcome of [`TlsClient::read`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsRead {
    /// This many bytes were copied (never 0 for a non-empty buffer).
    Data(usize),
    /// No plaintext is waiting; offer more input.
    NeedInput,
    /// The peer sent close_notify and everything before it has been read.
    Closed,
    /// The peer's stream ended without close_notify, after everything before it was
    /// read: what arrived may be cut short (a truncation attack looks the same).
    Truncated,
}

/// One TLS client connection. See the [module docs](self).
#[derive(Debug)]
pub struct TlsClient {
    conn: Box<ClientConnection>,
    timeouts: Timeouts,
    insecure: bool,
    failure: Option<Error>,
    last_error: LastError,
    /// Decrypted bytes waiting in rustls.
    unread: usize,
    close_sent: bool,
    peer_closed: bool,
    eof: bool,
    handshake_start: Option<u64>,
}

impl TlsClient {
    /// Starts a connection to `server_name` (a DNS name or an IP literal; SNI and
    /// certificate verification use it). The ClientHello is ready in the output at once.
    pub fn new(config: &Config, server_name: &str) -> Result<TlsClient> {
        let name = ServerName::try_from(server_name.to_string()).map_err(|_| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!("invalid TLS server name {server_name:?} (a DNS name or an IP address)"),
            )
        })?;
        let mut conn = ClientConnection::new(client_config(config)?, name)
            .map_err(|e| crate::tls::map_error(&e))?;
        let limits = &config.settings.limits;
        conn.set_buffer_limit(Some(limits.max_pending_output));
        Ok(TlsClient {
            conn: Box::new(conn),
            timeouts: config.settings.timeouts.clone(),
            insecure: config.settings.insecure,
            failure: None,
            last_error: LastError::default(),
            unread: 0,
            close_sent: false,
            peer_closed: false,
            eof: false,
            handshake_start: None,
        })
    }

    /// The current state.
    pub fn state(&self) -> TlsState {
        if self.failure.is_some() {
            TlsState::Failed
        } else if self.conn.is_handshaking() {
            TlsState::Handshaking
        } else if !self.close_sent && !self.peer_closed && !self.eof {
            TlsState::Open
        } else if self.close_sent && (self.peer_closed || self.eof) && !self.conn.wants_write() {
            TlsState::Closed
        } else {
            TlsState::Closing
        }
    }

    /// The failure, if the connection failed.
    pub fn failure(&self) -> Option<&Error> {
        self.failure.as_ref()
    }

    /// The last error in words: the failure if the connection failed, else the newer
    /// of a stream that ended without close_notify and the last call refused with an
    /// error that was passed to [`TlsClient::note_rejected`].
    pub fn last_error(&self) -> Option<&str> {
        match &self.failure {
            Some(e) => Some(e.message()),
            None => self.last_error.newest(),
        }
    }

    /// Records that a call was refused with `e`, so that [`TlsClient::last_error`]
    /// reports it until something newer happens (the C ABI records every refused call).
    pub fn note_rejected(&mut self, e: &Error) {
        self.last_error.rejected(e.message());
    }

    /// Whether the session was resumed from an earlier connection of the same config.
    pub fn is_resumed(&self) -> bool {
        self.conn.handshake_kind() == Some(rustls::HandshakeKind::Resumed)
    }

    /// Whether certificate verification is off (the config used
    /// `Config::dangerous_disable_certificate_verification`).
    pub fn is_insecure(&self) -> bool {
        self.insecure
    }

    /// The negotiated protocol version, once known.
    pub fn protocol_version(&self) -> Option<TlsVersion> {
        match self.conn.protocol_version()? {
            rustls::ProtocolVersion::TLSv1_3 => Some(TlsVersion::Tls13),
            rustls::ProtocolVersion::TLSv1_2 => Some(TlsVersion::Tls12),
            // rustls speaks no other version.
            _ => None,
        }
    }

    /// The negotiated cipher suite's IANA name (`"TLS13_AES_128_GCM_SHA256"`), once known.
    pub fn cipher_suite(&self) -> Option<String> {
        self.conn
            .negotiated_cipher_suite()
            .map(|s| format!("{:?}", s.suite()))
    }

    /// Whether ciphertext waits for [`TlsClient::read_output`].
    pub fn wants_write(&self) -> bool {
        self.conn.wants_write()
    }

    fn check_failed(&self) -> Result<()> {
        match &self.failure {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    /// Records a fatal error (sticky). An alert rustls queued stays in the output.
    fn fail(&mut self, e: Error) -> Error {
        if self.failure.is_none() {
            self.failure = Some(e);
        }
        self.failure.clone().expect("recorded above")
    }

    /// Marks a panic caught at the boundary: the connection fails with
    /// [`ErrorKind::Panic`].
    pub fn poison(&mut self, what: &str) {
        let e = Error::new(ErrorKind::Panic, format!("internal error (panic): {what}"));
        self.fail(e);
    }

    /// Offers ciphertext received from the socket; an empty slice means the peer's
    /// stream ended (EOF). Returns how many bytes were taken: all of them, unless
    /// [`MAX_UNREAD_PLAINTEXT`] decrypted bytes wait unread (read, then offer the rest).
    /// Input after the peer's close_notify is taken and discarded.
    ///
    /// A handshake or record error fails the connection; the failure is sticky and
    /// the alert telling the peer why waits in the output.
    pub fn offer_input(&mut self, data: &[u8]) -> Result<usize> {
        self.check_failed()?;
        if data.is_empty() {
            return self.on_eof().map(|()| 0);
        }
        if self.peer_closed || self.eof {
            return Ok(data.len());
        }
        let mut rest = Source(data);
        while !rest.0.is_empty() && self.unread <= MAX_UNREAD_PLAINTEXT {
            let n = match self.conn.read_tls(&mut rest) {
                Ok(n) => n,
                Err(e) => {
                    let e = Error::new(ErrorKind::Tls, format!("TLS input refused: {e}"));
                    return Err(self.fail(e));
                }
            };
            if n == 0 {
                // rustls takes nothing after the peer's close_notify.
                return Ok(data.len());
            }
            match self.conn.process_new_packets() {
                Ok(io) => {
                    self.unread = io.plaintext_bytes_to_read();
                    if io.peer_has_closed() {
                        self.peer_closed = true;
                        if self.conn.is_handshaking() {
                            let e = Error::new(
                                ErrorKind::ConnectionLost,
                                "the peer ended TLS (close_notify) during the handshake",
                            );
                            return Err(self.fail(e));
                        }
                        return Ok(data.len());
                    }
                }
                Err(e) => {
                    let e = crate::tls::map_error(&e);
                    return Err(self.fail(e));
                }
            }
        }
        Ok(data.len() - rest.0.len())
    }

    fn on_eof(&mut self) -> Result<()> {
        if self.eof || self.peer_closed {
            self.eof = true;
            return Ok(());
        }
        self.eof = true;
        if self.conn.is_handshaking() {
            let e = Error::new(
                ErrorKind::ConnectionLost,
                "the peer closed the connection during the TLS handshake",
            );
            return Err(self.fail(e));
        }
        // Tell rustls, so that its reader reports the unclean end.
        let _ = self.conn.read_tls(&mut &[][..]);
        self.last_error.event(
            "the peer closed the connection without close_notify: the data may be truncated",
        );
        Ok(())
    }

    /// Copies decrypted plaintext into `buf`. [`TlsRead::NeedInput`] when none is
    /// waiting; [`TlsRead::Closed`] or [`TlsRead::Truncated`] once the peer's stream
    /// ended and everything before the end has been read. Plaintext received before a
    /// failure is still delivered, then the failure is returned.
    pub fn read(&mut self, buf: &mut [u8]) -> Result<TlsRead> {
        if buf.is_empty() {
            self.check_failed()?;
            return Ok(TlsRead::Data(0));
        }
        let mut reader = self.conn.reader();
        let read = reader.fill_buf().map(|waiting| {
            let n = waiting.len().min(buf.len());
            bytes::copy(&mut buf[..n], &waiting[..n]);
            n
        });
        if let Ok(n) = read {
            reader.consume(n);
        }
        match read {
            Ok(0) => {
                self.check_failed()?;
                Ok(TlsRead::Closed)
            }
            Ok(n) => {
                self.unread = self.unread.saturating_sub(n);
                Ok(TlsRead::Data(n))
            }
            Err(e) => {
                self.check_failed()?;
                match e.kind() {
                    std::io::ErrorKind::WouldBlock => Ok(TlsRead::NeedInput),
                    std::io::ErrorKind::UnexpectedEof => Ok(TlsRead::Truncated),
                    _ => err(ErrorKind::Tls, format!("TLS read failed: {e}")),
                }
            }
        }
    }

    /// Queues plaintext to send; returns how many bytes were taken. Fewer than
    /// `data.len()` (even 0) when the pending-output limit is reached: drain
    /// [`TlsClient::read_output`] and write the rest. Before the handshake completes
    /// the plaintext is buffered (within the same limit) and encrypted once it does.
    ///
    /// [`ErrorKind::AlreadyClosed`] after [`TlsClient::close`]; the failure after one.
    pub fn write(&mut self, data: &[u8]) -> Result<usize> {
        self.check_failed()?;
        if self.close_sent {
            return err(
                ErrorKind::AlreadyClosed,
                "close_notify was sent; nothing more can be written",
            );
        }
        if data.is_empty() {
            return Ok(0);
        }
        match self.conn.writer().write(data) {
            Ok(n) => Ok(n),
            Err(e) => err(ErrorKind::Tls, format!("TLS write failed: {e}")),
        }
    }

    /// Sends close_notify (after any plaintext already written): nothing more can be
    /// written. Reading goes on until the peer's close_notify or EOF. Closing twice
    /// does nothing. Before the handshake completes it fails with
    /// [`ErrorKind::NotOpen`].
    pub fn close(&mut self) -> Result<()> {
        self.check_failed()?;
        if self.close_sent {
            return Ok(());
        }
        if self.conn.is_handshaking() {
            return err(
                ErrorKind::NotOpen,
                "the TLS handshake has not completed; free the connection instead",
            );
        }
        self.conn.send_close_notify();
        self.close_sent = true;
        Ok(())
    }

    /// Copies ciphertext for the socket into `buf`; returns how many bytes (0 when
    /// nothing is pending). Pending bytes (an alert after a failure) are handed out
    /// even after a failure; once they are gone a failed connection returns its
    /// failure.
    pub fn read_output(&mut self, buf: &mut [u8]) -> Result<usize> {
        let mut total = 0;
        while total < buf.len() && self.conn.wants_write() {
            match self.conn.write_tls(&mut Sink(&mut buf[total..])) {
                Ok(0) | Err(_) => break,
                Ok(n) => total += n,
            }
        }
        if total == 0 && !buf.is_empty() {
            self.check_failed()?;
        }
        Ok(total)
    }

    /// Tells the connection the time on the caller's monotonic clock (milliseconds).
    /// The first call starts the handshake clock; a handshake still running after the
    /// config's handshake timeout fails with [`ErrorKind::Timeout`].
    pub fn tick(&mut self, now_ms: u64) -> Result<()> {
        self.check_failed()?;
        let start = *self.handshake_start.get_or_insert(now_ms);
        let limit = self.timeouts.handshake_ms;
        if self.conn.is_handshaking() && limit > 0 && now_ms.saturating_sub(start) >= limit {
            let e = Error::new(
                ErrorKind::Timeout,
                format!("the TLS handshake did not complete within {limit} ms"),
            );
            return Err(self.fail(e));
        }
        Ok(())
    }

    /// When [`TlsClient::tick`] should be called next (caller-clock ms): 0 before the
    /// first tick, `None` when no timer runs (the handshake completed, or no timeout).
    pub fn next_deadline(&self) -> Option<u64> {
        let limit = self.timeouts.handshake_ms;
        if self.failure.is_some() || !self.conn.is_handshaking() || limit == 0 {
            return None;
        }
        Some(match self.handshake_start {
            None => 0,
            Some(start) => start.saturating_add(limit),
        })
    }
}

/// The rustls configuration of the TLS object: the WebSocket client's without ALPN,
/// built once and cached in `config` until a TLS setting changes.
pub(crate) fn client_config(config: &Config) -> Result<Arc<rustls::ClientConfig>> {
    config
        .plain_tls_cache()
        .get_or_try_init(|| crate::tls::build_client_config(config, false, &[]))
        .cloned()
}
