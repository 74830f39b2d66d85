//! Close and failure bookkeeping of [`Client`]: the close handshake (our close,
//! theirs, the reply when the application polls it, the end of TLS), an end without
//! one (EOF, close_notify, the close timeout: a 1006 close message), and failure
//! (sticky, told to the peer, deferred behind undelivered messages, or a caught
//! panic).

use super::*;

impl Client {
    /// Whether a failure can wait behind undelivered messages (a protocol error on an
    /// open connection): they are polled first, in stream order.
    pub(super) fn can_defer(&self, e: &Error) -> bool {
        e.close_code().is_some() && self.phase == Phase::Open && !self.queue.is_empty()
    }

    /// Applies a deferred failure once every message before it has been polled.
    pub(super) fn surface_pending_failure(&mut self) -> Result<()> {
        if self.queue.is_empty() {
            if let Some(e) = self.pending_failure.take() {
                return Err(self.fail(e));
            }
        }
        Ok(())
    }

    /// The application polled the server's close: answer it (echoing the code, RFC
    /// 6455 5.5.1; an empty close gets an empty reply) and end TLS.
    pub(super) fn on_close_polled(&mut self, code: u16) {
        if self.phase != Phase::Open {
            return;
        }
        if !self.close_sent {
            let bytes = code.to_be_bytes();
            let parts: &[&[u8]] = if code == 1005 { &[] } else { &[&bytes] };
            self.write_frame(SendKind::Close, parts);
            self.close_sent = true;
        }
        self.finish();
    }

    /// The close handshake is complete (or the connection is over): end TLS cleanly.
    pub(super) fn finish(&mut self) {
        self.phase = Phase::Done;
        self.flush_tls();
        if let Some(tls) = self.tls.as_mut() {
            tls.close_notify(&mut self.out);
        }
    }

    pub(super) fn on_close_notify(&mut self) {
        match self.phase {
            // The close frame came first: it is answered (and TLS ended) when polled.
            Phase::Open if self.close_received => {}
            Phase::Open => {
                self.drop_without_close(
                    "the server ended TLS (close_notify) without a WebSocket close frame",
                );
                self.finish();
            }
            Phase::Done => {}
            _ => {
                self.fail(Error::new(
                    ErrorKind::ConnectionLost,
                    "the server ended TLS during the handshake",
                ));
            }
        }
    }

    pub(super) fn on_eof(&mut self) {
        if let Some(t) = self.tunnel.as_ref().filter(|t| !t.is_open()) {
            let e = t.eof_error();
            self.fail(e);
            return;
        }
        match self.phase {
            Phase::TlsHandshaking | Phase::Verifying | Phase::WsHandshaking => {
                self.fail(Error::new(
                    ErrorKind::ConnectionLost,
                    "the server closed the connection during the handshake",
                ));
            }
            Phase::Open => {
                if !self.close_received {
                    self.drop_without_close(
                        "the server closed the connection without a close frame",
                    );
                }
                self.phase = Phase::Done;
            }
            Phase::Done => {}
        }
    }

    /// Delivers a synthetic 1006 close (like a browser's `wasClean == false`).
    pub(super) fn drop_without_close(&mut self, why: &str) {
        self.close_received = true;
        self.queue.push_back(Incoming {
            kind: MessageKind::Close,
            data: Vec::new(),
            close_code: 1006,
        });
        self.last_error.event(why);
    }

    /// Records a fatal error: the peer is told why (close frame, TLS alert or
    /// close_notify, left in the output), and the error becomes sticky.
    pub(super) fn fail(&mut self, e: Error) -> Error {
        if self.failure.is_none() {
            if let Some(code) = e.close_code() {
                if self.phase == Phase::Open && !self.close_sent {
                    let reason = match code {
                        1007 => "invalid UTF-8",
                        1009 => "message too big",
                        1011 => "internal error",
                        _ => "protocol error",
                    };
                    self.write_frame(SendKind::Close, &[&code.to_be_bytes(), reason.as_bytes()]);
                    self.close_sent = true;
                }
            }
            let tls_failed = matches!(
                e.kind(),
                ErrorKind::Tls
                    | ErrorKind::TlsCorrupt
                    | ErrorKind::TlsAlertReceived
                    | ErrorKind::TlsVersion
                    | ErrorKind::CertUntrusted
                    | ErrorKind::CertExpired
                    | ErrorKind::CertNotYetValid
                    | ErrorKind::CertWrongHost
                    | ErrorKind::CertPinMismatch
                    | ErrorKind::CertInvalid
            );
            if !tls_failed && self.phase != Phase::TlsHandshaking {
                if let Some(tls) = self.tls.as_mut() {
                    tls.close_notify(&mut self.out);
                }
            }
            self.flush_tls();
            self.last_error.event(e.message());
            self.failure = Some(e);
            // A failure found later in the stream no longer matters.
            self.pending_failure = None;
        }
        // Sticky: whatever happens next, the first failure is the answer.
        self.failure.clone().expect("recorded above")
    }

    /// Marks a panic caught at the boundary: the client fails with [`ErrorKind::Panic`].
    pub fn poison(&mut self, what: &str) {
        let e = Error::new(ErrorKind::Panic, format!("internal error (panic): {what}"));
        if self.failure.is_none() {
            self.last_error.event(e.message());
            self.failure = Some(e);
        }
        // The panic may have struck halfway through writing a frame or a TLS record:
        // handing out the rest would send the peer a broken stream. Nothing more is
        // sent; `read_output` returns the failure.
        self.out.discard();
        self.pongs.clear();
    }

    pub(super) fn end_status(&self) -> Result<bool> {
        if let Some(e) = &self.failure {
            return Err(e.clone());
        }
        Ok(self.phase == Phase::Done)
    }

    /// After a failure calls return it, before any argument is looked at (except
    /// `poll_message`, which first hands out what arrived before the failure, and
    /// `read_output`, which first hands out what tells the peer why).
    pub(super) fn check_failed(&self) -> Result<()> {
        match &self.failure {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }
}
