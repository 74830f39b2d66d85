//! TLS for [`Client`](super::Client): rustls's unbuffered client, and the buffer its
//! input lives in.
//!
//! rustls's buffered `ClientConnection` copies received bytes into a buffer of its
//! own. Here the buffer is ours, so the window `input_window` lends for `wss://` *is*
//! the TLS input buffer: the caller receives straight into it and rustls decrypts the
//! records where they lie, one pass fewer over every received byte (BENCHMARKS.md,
//! eighth round).
//!
//! The rules the session keeps:
//! - Every complete record in the buffer is processed before a call returns: only a
//!   partial record (or a handshake message being joined across records) stays. So
//!   rustls is always ready to encrypt ([`TlsIo::encrypt`]) without decrypting input
//!   the session did not ask for.
//! - The buffer is bounded: [`MAX_BUFFER`], enough for the largest handshake message
//!   rustls joins across records plus one record; past the handshake it holds one or
//!   two records.

use std::sync::Arc;

use rustls::client::UnbufferedClientConnection;
use rustls::unbuffered::{ConnectionState, EncodeError, EncryptError, InsufficientSizeError};

use crate::error::Result;
use crate::transport::{Output, STAGE_MIN};

/// The largest TLS record on the wire: header, 16 KiB of plaintext and the most
/// expansion a cipher may add (RFC 8446 5.2, RFC 5246 6.2.3).
const MAX_RECORD: usize = 5 + (16 << 10) + 2048;
/// The largest handshake message rustls joins across records (its limit), with its
/// header.
const MAX_HANDSHAKE_MESSAGE: usize = 0xffff + 4;
/// The most the TLS input buffer holds: a handshake message being joined plus the
/// record after it.
const MAX_BUFFER: usize = MAX_HANDSHAKE_MESSAGE + MAX_RECORD;
/// The largest window (one whole record), and the most one `offer` takes before
/// processing: what a commit decodes whole, past the bound on undelivered messages,
/// is at most this.
const WINDOW_MAX: usize = MAX_RECORD;
/// What a record adds to its plaintext, at most, for the suites we offer (TLS 1.2
/// AES-GCM: header 5, explicit nonce 8, tag 16); the session reserves this much per
/// record. A TLS 1.3 key update rustls puts before a record needs more: rustls says
/// how much and `encrypt` asks again.
const SEAL_OVERHEAD: usize = 29;

/// What one step of processing came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Something was done; step again.
    Again,
    /// The handshake completed: the session reacts (sends its request, or waits for
    /// a verdict) before any application data is handed over. Step again.
    Established,
    /// The server's close_notify arrived (reported once). Step again.
    PeerClosed,
    /// Every complete record is processed: more input is needed.
    Idle,
}

/// rustls's unbuffered client and its input buffer. See the [module docs](self).
pub(crate) struct TlsIo {
    conn: UnbufferedClientConnection,
    /// Received bytes: `buf[head..tail]` wait for rustls (a partial record, or a
    /// handshake message being joined); `buf[tail..]` is room for more, lent as the
    /// window. Every byte of `buf` is initialized (it only grows by zero-filling).
    buf: Vec<u8>,
    head: usize,
    tail: usize,
    /// The window wanted: [`STAGE_MIN`] at first and after a trim, one whole record
    /// ([`WINDOW_MAX`]) once a read filled the window. `window` sizes the buffer
    /// from it.
    want: usize,
    /// Handshake records and alerts rustls produced, for the session's output.
    records: Vec<u8>,
    /// The handshake completed and the session was told ([`Step::Established`]).
    established: bool,
    /// The server's close_notify was reported; input after it is discarded.
    peer_closed: bool,
    /// rustls failed: nothing more is processed.
    failed: bool,
}

impl std::fmt::Debug for TlsIo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsIo")
            .field("buffered", &(self.tail - self.head))
            .field("capacity", &self.buf.capacity())
            .field("established", &self.established)
            .field("peer_closed", &self.peer_closed)
            .finish_non_exhaustive()
    }
}

impl TlsIo {
    /// A client for `name`; its ClientHello is ready after the first [`TlsIo::step`].
    pub(crate) fn new(
        config: Arc<rustls::ClientConfig>,
        name: rustls::pki_types::ServerName<'static>,
    ) -> Result<TlsIo> {
        let conn =
            UnbufferedClientConnection::new(config, name).map_err(|e| crate::tls::map_error(&e))?;
        Ok(TlsIo {
            conn,
            buf: Vec::new(),
            head: 0,
            tail: 0,
            want: STAGE_MIN,
            records: Vec::new(),
            established: false,
            peer_closed: false,
            failed: false,
        })
    }

    /// rustls's view of the connection: version, suite, peer certificates, ...
    pub(crate) fn state(&self) -> &rustls::CommonState {
        &self.conn
    }

    /// Whether the server's close_notify arrived.
    pub(crate) fn peer_closed(&self) -> bool {
        self.peer_closed
    }

    /// Room to receive into: the buffer after the bytes waiting, at most
    /// [`WINDOW_MAX`] bytes. The buffer is 2 KiB long at first; once a read filled
    /// the window, two records long (a partial record is then moved to the front
    /// about every other read rather than after each). It grows past that only while
    /// it is full of bytes rustls cannot process yet (a handshake message being
    /// joined across records), up to [`MAX_BUFFER`]. Nothing moves the window until
    /// the next call that takes `&mut self`.
    pub(crate) fn window(&mut self) -> &mut [u8] {
        let len = if self.want >= WINDOW_MAX {
            2 * WINDOW_MAX
        } else {
            self.want
        };
        if self.buf.len() < len {
            self.grow_to(len);
        }
        if self.head > 0 && self.buf.len() - self.tail < self.want / 2 {
            // Only a partial record waits here: move it to the front (as rustls's
            // own buffer does after every read; here only when room runs short).
            self.buf.copy_within(self.head..self.tail, 0);
            self.tail -= self.head;
            self.head = 0;
        }
        if self.tail == self.buf.len() {
            self.grow_to((self.buf.len() + WINDOW_MAX).min(MAX_BUFFER));
        }
        let end = self.buf.len().min(self.tail + WINDOW_MAX);
        &mut self.buf[self.tail..end]
    }

    /// Makes the buffer `len` bytes long (zero-filled), allocating exactly that: the
    /// bound is on the allocation, not only on what is used.
    fn grow_to(&mut self, len: usize) {
        if len > self.buf.len() {
            self.buf.reserve_exact(len - self.buf.len());
            self.buf.resize(len, 0);
        }
    }

    /// Takes the first `n` bytes of the last [`TlsIo::window`] as received.
    pub(crate) fn commit(&mut self, n: usize) {
        debug_assert!(self.tail + n <= self.buf.len());
        if n == (self.buf.len() - self.tail).min(WINDOW_MAX) {
            // A full window suggests more was waiting: one whole record next time.
            self.want = WINDOW_MAX;
        }
        self.tail += n;
        if self.peer_closed {
            // rustls reads nothing after the server's close_notify.
            self.head = 0;
            self.tail = 0;
        }
    }

    /// Copies as much of `data` as fits into the buffer; returns how many bytes.
    pub(crate) fn offer(&mut self, data: &[u8]) -> usize {
        if data.len() > self.want {
            self.want = WINDOW_MAX;
        }
        let room = self.window();
        let n = room.len().min(data.len());
        crate::bytes::copy(&mut room[..n], &data[..n]);
        self.commit(n);
        n
    }

    /// Whether the buffer is full without a complete record in it: the server sent
    /// something larger than any TLS message may be.
    pub(crate) fn is_stuck(&self) -> bool {
        self.head == 0 && self.tail == MAX_BUFFER
    }

    /// One round of rustls's state machine over the waiting input. Decrypted
    /// application data goes to `plain`, which returns how many bytes it used and is
    /// called until it used all of them. Handshake records go to
    /// [`TlsIo::take_records`].
    pub(crate) fn step(&mut self, plain: &mut dyn FnMut(&[u8]) -> Result<usize>) -> Result<Step> {
        if self.failed {
            return Ok(Step::Idle);
        }
        let status = self
            .conn
            .process_tls_records(&mut self.buf[self.head..self.tail]);
        let discard = status.discard;
        let mut delivered = Ok(());
        let step = match status.state {
            Err(e) => Err(e),
            Ok(ConnectionState::ReadTraffic(_)) if !self.established => {
                // The handshake completed in this round and application data came
                // right behind it: the session hears of the handshake first (the
                // data waits in rustls until the next step).
                self.established = true;
                Ok(Step::Established)
            }
            Ok(ConnectionState::ReadTraffic(mut traffic)) => {
                delivered = (|| {
                    while let Some(record) = traffic.next_record() {
                        let record = record.map_err(|e| crate::tls::map_error(&e))?;
                        let mut rest = record.payload;
                        while !rest.is_empty() {
                            let used = plain(rest)?;
                            rest = &rest[used..];
                        }
                    }
                    Ok(())
                })();
                Ok(Step::Again)
            }
            Ok(ConnectionState::EncodeTlsData(mut encode)) => {
                encode_into(&mut self.records, |room| encode.encode(room));
                Ok(Step::Again)
            }
            Ok(ConnectionState::TransmitTlsData(transmit)) => {
                // The records wait in the session's output, in order.
                transmit.done();
                Ok(Step::Again)
            }
            Ok(ConnectionState::PeerClosed) => {
                self.peer_closed = true;
                Ok(Step::PeerClosed)
            }
            // BlockedHandshake, WriteTraffic, Closed; early data is the server side's,
            // and a state a later rustls adds ends here too.
            Ok(_) => Ok(Step::Idle),
        };
        self.advance(discard);
        match step {
            Err(e) => {
                self.failed = true;
                let mapped = crate::tls::map_error(&e);
                self.flush_alert();
                Err(mapped)
            }
            Ok(step) => {
                delivered?;
                if matches!(step, Step::Again | Step::Idle)
                    && !self.established
                    && !self.conn.is_handshaking()
                {
                    self.established = true;
                    return Ok(Step::Established);
                }
                Ok(step)
            }
        }
    }

    /// Drops `n` processed bytes from the front of the input.
    fn advance(&mut self, n: usize) {
        self.head += n;
        debug_assert!(self.head <= self.tail);
        if self.head == self.tail || self.peer_closed {
            self.head = 0;
            self.tail = 0;
        }
    }

    /// Lets rustls hand out the records it queued (an alert after a failure, a
    /// handshake record; into `records`) until it reaches another state, which `then`
    /// gets with those records (`None` if rustls failed or took more than a few
    /// rounds).
    fn drain_records<R>(
        &mut self,
        then: impl FnOnce(
            ConnectionState<'_, '_, rustls::client::ClientConnectionData>,
            &mut Vec<u8>,
        ) -> Option<R>,
    ) -> Option<R> {
        for _ in 0..8 {
            let status = self
                .conn
                .process_tls_records(&mut self.buf[self.head..self.tail]);
            let discard = status.discard;
            match status.state {
                Ok(ConnectionState::EncodeTlsData(mut encode)) => {
                    encode_into(&mut self.records, |room| encode.encode(room));
                }
                Ok(ConnectionState::TransmitTlsData(transmit)) => transmit.done(),
                // Received data here would break the module's rule (every complete
                // record is processed before anything is sent): refuse rather than
                // drop it.
                Ok(ConnectionState::ReadTraffic(_)) => return None,
                Ok(state) => {
                    debug_assert_eq!(discard, 0, "no complete record waits");
                    return then(state, &mut self.records);
                }
                Err(_) => return None,
            }
            self.advance(discard);
        }
        None
    }

    /// After rustls failed: the alert it queued, for [`TlsIo::take_records`].
    fn flush_alert(&mut self) {
        // Only while rustls has records queued: a further round would look at the
        // input again, and an error found while splitting records is not sticky in
        // rustls (it would be found, and an alert queued, twice).
        while self.conn.wants_write() {
            let status = self
                .conn
                .process_tls_records(&mut self.buf[self.head..self.tail]);
            match status.state {
                Ok(ConnectionState::EncodeTlsData(mut encode)) => {
                    encode_into(&mut self.records, |room| encode.encode(room));
                }
                _ => return,
            }
        }
    }

    /// Handshake records and alerts produced since the last call, appended to `out`.
    pub(crate) fn take_records(&mut self, out: &mut Output) {
        if !self.records.is_empty() {
            out.extend(&self.records);
            // Records of its own are rare after the handshake: keep no capacity.
            self.records = Vec::new();
        }
    }

    /// Encrypts `data` (at most one record's worth) into `out`, after any records
    /// rustls still had to send. `false` when rustls cannot send application data
    /// now (before the handshake completed, after close_notify, after a failure).
    pub(crate) fn encrypt(&mut self, data: &[u8], out: &mut Output) -> bool {
        if self.failed {
            return false;
        }
        self.take_records(out);
        // Every complete record was processed before this call (the module's rule),
        // so rustls reaches its write state without decrypting anything.
        self.drain_records(|state, records| {
            let ConnectionState::WriteTraffic(mut traffic) = state else {
                return None;
            };
            if !records.is_empty() {
                out.extend(records);
                *records = Vec::new();
            }
            let mut max = data.len() + SEAL_OVERHEAD;
            loop {
                match out.append_with(max, |room| traffic.encrypt(data, room)) {
                    Ok(_) => return Some(()),
                    Err(EncryptError::InsufficientSize(InsufficientSizeError {
                        required_size,
                    })) => max = required_size,
                    Err(_) => return None,
                }
            }
        })
        .is_some()
    }

    /// Queues close_notify into `out`, after any records rustls still had to send
    /// (nothing when rustls cannot send it now).
    pub(crate) fn close_notify(&mut self, out: &mut Output) {
        if self.failed {
            return;
        }
        self.take_records(out);
        self.drain_records(|state, records| {
            out.extend(records);
            *records = Vec::new();
            let ConnectionState::WriteTraffic(mut traffic) = state else {
                return None;
            };
            out.append_with(64, |room| traffic.queue_close_notify(room))
                .ok()
        });
    }

    /// Releases the buffer if nothing waits in it.
    pub(crate) fn trim(&mut self) {
        if self.head == self.tail {
            self.buf = Vec::new();
            self.head = 0;
            self.tail = 0;
            self.want = STAGE_MIN;
        }
    }

    /// Capacity of the input buffer.
    pub(crate) fn capacity(&self) -> usize {
        self.buf.capacity() + self.records.capacity()
    }

    /// Whether `range` (addresses) overlaps the input buffer.
    pub(crate) fn overlaps(&self, range: &std::ops::Range<usize>) -> bool {
        crate::transport::overlaps(&self.buf, range)
    }
}

/// Runs `encode` (a handshake record into the room given) against the end of `v`,
/// with room for exactly the record (rustls says its size when the room is short).
fn encode_into(
    v: &mut Vec<u8>,
    mut encode: impl FnMut(&mut [u8]) -> std::result::Result<usize, EncodeError>,
) {
    let size = match encode(&mut []) {
        Ok(_) => return,
        Err(EncodeError::InsufficientSize(InsufficientSizeError { required_size })) => {
            required_size
        }
        Err(_) => return,
    };
    let old = v.len();
    v.reserve_exact(size);
    v.resize(old + size, 0);
    match encode(&mut v[old..]) {
        Ok(n) => v.truncate(old + n),
        Err(_) => v.truncate(old),
    }
}
