//! In-memory transport pieces, both directions: the input the caller receives
//! straight into the library's memory (the staging buffer and the lent window), the
//! output buffer the caller drains, and the source of frame masks.

use ring::rand::{SecureRandom, SystemRandom};

/// Size of the staging window `input_window` lends at first, and after a trim.
pub(crate) const STAGE_MIN: usize = 2 << 10;
/// Size it grows to once a commit filled the whole window (one full TLS record).
pub(crate) const STAGE_MAX: usize = 16 << 10;

/// What `input_window` lent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Window {
    /// The first `n` bytes of the staging buffer.
    Stage(usize),
    /// The next `n` bytes of the message buffer (payload of the current frame).
    Direct(usize),
    /// `n` bytes of the TLS input buffer (`wss://`), after the bytes waiting there.
    Tls(usize),
}

impl Window {
    /// Bytes lent.
    pub(crate) fn len(self) -> usize {
        let (Window::Stage(n) | Window::Direct(n) | Window::Tls(n)) = self;
        n
    }
}

/// Input received straight into the library's memory: the staging buffer, and the
/// window lent last. The rule for lent memory lives here: only `take_lent` (a
/// commit), `close` (`offer_input`, a new window) and `trim(false)` (an explicit
/// trim) end a window; `trim(true)` (the idle trim) leaves a lent window alone.
#[derive(Debug, Default)]
pub(crate) struct Input {
    stage: Vec<u8>,
    lent: Option<Window>,
}

impl Input {
    /// Whether a window is lent.
    #[inline]
    pub(crate) fn is_lent(&self) -> bool {
        self.lent.is_some()
    }

    /// Ends the lent window, if any (its memory stays where it is).
    #[inline]
    pub(crate) fn close(&mut self) {
        self.lent = None;
    }

    /// What is lent, if anything.
    #[inline]
    pub(crate) fn lent(&self) -> Option<Window> {
        self.lent
    }

    /// Records that `n` bytes of the TLS input buffer were lent.
    #[inline]
    pub(crate) fn lend_tls(&mut self, n: usize) {
        self.lent = Some(Window::Tls(n));
    }

    /// Records that `n` bytes of the message buffer were lent.
    #[inline]
    pub(crate) fn lend_direct(&mut self, n: usize) {
        self.lent = Some(Window::Direct(n));
    }

    /// Lends the staging buffer (made on first use).
    #[inline]
    pub(crate) fn lend_stage(&mut self) -> &mut [u8] {
        if self.stage.is_empty() {
            self.stage = vec![0; STAGE_MIN];
        }
        self.lent = Some(Window::Stage(self.stage.len()));
        &mut self.stage[..]
    }

    /// Ends the lent window and says what it was (for a commit).
    #[inline]
    pub(crate) fn take_lent(&mut self) -> Option<Window> {
        self.lent.take()
    }

    /// The first `n` bytes of the staging buffer, for a commit of the window
    /// `Window::Stage(cap)` to process in place (`Client::commit_input` says why
    /// reading them while the client is borrowed mutably is sound), given `n <= cap`.
    /// `cap` is the buffer's length: `lend_stage` lends all of it, and while a window
    /// is lent nothing changes the buffer (only `close`, `take_lent` and `trim(false)`
    /// end a window, and only `lend_stage`, `filled` and `trim` change the buffer).
    #[inline]
    pub(crate) fn staged(&self, n: usize, cap: usize) -> *const [u8] {
        debug_assert!(n <= cap && cap == self.stage.len());
        std::ptr::slice_from_raw_parts(self.stage.as_ptr(), n)
    }

    /// A commit filled the whole staging window: that suggests more was waiting, so
    /// it grows, once, until a trim (as the other buffers do for large messages).
    #[inline]
    pub(crate) fn filled(&mut self) {
        if self.stage.len() < STAGE_MAX {
            self.stage = vec![0; STAGE_MAX];
        }
    }

    /// Releases the staging buffer, unless `keep_lent` and a window is lent.
    pub(crate) fn trim(&mut self, keep_lent: bool) {
        if !(keep_lent && self.is_lent()) {
            self.stage = Vec::new();
            self.lent = None;
        }
    }

    /// Capacity of the staging buffer.
    pub(crate) fn capacity(&self) -> usize {
        self.stage.capacity()
    }

    /// Whether `range` (addresses) overlaps the staging buffer.
    pub(crate) fn overlaps(&self, range: &std::ops::Range<usize>) -> bool {
        overlaps(&self.stage, range)
    }
}

/// Bytes waiting for the caller to send, drained front to back.
///
/// Memory stays bounded however the caller drains: bytes already handed out are
/// dropped from the front (compaction) before the buffer ever grows, and growth stops
/// doubling at `limit`, so the allocation never exceeds `limit` or the largest amount
/// that was waiting at once, whichever is larger (see `reserve`).
///
/// `buf[pos..end]` waits. The vector's length is how much of its allocation has been
/// written at some point (`end` or more): the bytes past `end` are room that
/// [`Output::append_with`] lends to rustls without zeroing it again, and without
/// `unsafe`.
#[derive(Debug)]
pub(crate) struct Output {
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    /// Capacity beyond which the buffer grows only by what is needed.
    limit: usize,
}

/// An output without a limit of its own (the proxy tunnel's: what passes through it
/// is bounded by the client's output).
impl Default for Output {
    fn default() -> Self {
        Output::new(usize::MAX)
    }
}

impl Output {
    /// An empty output whose allocation stops doubling at `limit` bytes.
    pub(crate) fn new(limit: usize) -> Output {
        Output {
            buf: Vec::new(),
            pos: 0,
            end: 0,
            limit,
        }
    }

    /// Number of bytes waiting.
    pub(crate) fn len(&self) -> usize {
        self.end - self.pos
    }

    /// Drops the bytes already handed out from the front of the buffer.
    fn compact(&mut self) {
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
        }
    }

    /// Makes room for `additional` more bytes. Handed-out bytes are dropped first when
    /// they are at least as many as those waiting (so each byte is moved at most once,
    /// on average) or when the buffer would otherwise grow; growth doubles up to
    /// `limit` and beyond it takes only what is needed.
    pub(crate) fn reserve(&mut self, additional: usize) {
        let fits = self.end + additional <= self.buf.capacity();
        if self.pos > 0 && (self.pos >= self.len() || !fits) {
            self.compact();
        }
        let need = self.end + additional;
        if need > self.buf.capacity() {
            let target = (self.buf.capacity() * 2).min(self.limit).max(need);
            self.buf.reserve_exact(target - self.buf.len());
        }
    }

    /// Appends `bytes` (see [`Output::reserve`]).
    pub(crate) fn extend(&mut self, bytes: &[u8]) {
        self.reserve(bytes.len());
        self.put(bytes);
    }

    /// Appends `bytes` after `reserve` made room: over the written room first, the
    /// rest by extending the vector.
    fn put(&mut self, bytes: &[u8]) {
        let over = (self.buf.len() - self.end).min(bytes.len());
        crate::bytes::copy(&mut self.buf[self.end..self.end + over], &bytes[..over]);
        if over < bytes.len() {
            crate::bytes::extend(&mut self.buf, &bytes[over..]);
        }
        self.end += bytes.len();
    }

    /// Lets `write` fill up to `max` bytes at the end of the output (rustls an
    /// encrypted record) and keeps the count it returns; on an error nothing is
    /// appended. The room is zeroed only the first time the allocation is used that
    /// far.
    pub(crate) fn append_with<E>(
        &mut self,
        max: usize,
        write: impl FnOnce(&mut [u8]) -> Result<usize, E>,
    ) -> Result<usize, E> {
        self.reserve(max);
        if self.buf.len() < self.end + max {
            self.buf.resize(self.end + max, 0);
        }
        let n = write(&mut self.buf[self.end..self.end + max])?;
        assert!(n <= max, "wrote more than the room given");
        self.end += n;
        Ok(n)
    }

    /// Lets `append` append to the vector, after [`Output::reserve`] made room for what
    /// is appended. Appending never loses what is waiting.
    pub(crate) fn append_vec<R>(&mut self, append: impl FnOnce(&mut Vec<u8>) -> R) -> R {
        if self.pos > 0 && self.pos == self.end {
            self.pos = 0;
            self.end = 0;
        }
        self.buf.truncate(self.end);
        let r = append(&mut self.buf);
        self.end = self.buf.len();
        r
    }

    /// Appends every record `conn` has ready to send (`write_tls` through this buffer's
    /// `Write`, which cannot fail): the proxy tunnel's TLS.
    pub(crate) fn take_tls(&mut self, conn: &mut rustls::ClientConnection) {
        while conn.wants_write() {
            if conn.write_tls(self).unwrap_or(0) == 0 {
                break;
            }
        }
    }

    /// Copies as many waiting bytes as fit into `dst`; returns how many.
    pub(crate) fn read(&mut self, dst: &mut [u8]) -> usize {
        let n = self.len().min(dst.len());
        crate::bytes::copy(&mut dst[..n], &self.buf[self.pos..self.pos + n]);
        self.consume(n);
        n
    }

    /// The waiting bytes, without copying them.
    pub(crate) fn peek(&self) -> &[u8] {
        &self.buf[self.pos..self.end]
    }

    /// Marks `n` waiting bytes as sent (`n <= len()`).
    pub(crate) fn consume(&mut self, n: usize) {
        debug_assert!(n <= self.len());
        self.pos += n;
        if self.pos == self.end {
            self.pos = 0;
            self.end = 0;
        }
    }

    /// Drops every waiting byte (after a panic, when a frame may be half written).
    pub(crate) fn discard(&mut self) {
        self.buf = Vec::new();
        self.pos = 0;
        self.end = 0;
    }

    /// Capacity of the buffer.
    pub(crate) fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Whether `range` (addresses) overlaps the buffer's allocation.
    pub(crate) fn overlaps(&self, range: &std::ops::Range<usize>) -> bool {
        overlaps(&self.buf, range)
    }

    /// Drops handed-out bytes and releases capacity beyond what is waiting or `keep`.
    pub(crate) fn trim(&mut self, keep: usize) {
        self.compact();
        if self.end == 0 && self.buf.capacity() > keep {
            self.buf = Vec::new();
        } else if self.buf.capacity() > keep.max(self.end) {
            self.buf.truncate(self.end);
            self.buf.shrink_to(keep.max(self.end));
        }
    }
}

/// rustls writes its records here (`write_tls`), through [`Output::reserve`].
impl std::io::Write for Output {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.extend(bytes);
        Ok(bytes.len())
    }

    fn write_vectored(&mut self, bufs: &[std::io::IoSlice<'_>]) -> std::io::Result<usize> {
        let total = bufs.iter().map(|b| b.len()).sum();
        self.reserve(total);
        for b in bufs {
            self.put(b);
        }
        Ok(total)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Whether `range` (addresses) overlaps the allocation of `v` (its whole capacity).
pub(crate) fn overlaps(v: &Vec<u8>, range: &std::ops::Range<usize>) -> bool {
    let start = v.as_ptr() as usize;
    let end = start + v.capacity();
    v.capacity() > 0 && range.start < end && start < range.end
}

/// Masking keys from the operating system's CSPRNG, fetched 64 keys at a time.
#[derive(Debug)]
pub(crate) struct MaskSource {
    pool: [u8; 256],
    pos: usize,
    rng: SystemRandom,
}

impl Default for MaskSource {
    fn default() -> Self {
        MaskSource {
            pool: [0; 256],
            pos: 256,
            rng: SystemRandom::new(),
        }
    }
}

impl MaskSource {
    /// The next unpredictable 4-byte masking key (RFC 6455 section 5.3).
    pub(crate) fn next_mask(&mut self) -> [u8; 4] {
        if self.pos + 4 > self.pool.len() {
            self.rng
                .fill(&mut self.pool)
                .expect("the OS random number generator failed");
            self.pos = 0;
        }
        let m = [
            self.pool[self.pos],
            self.pool[self.pos + 1],
            self.pool[self.pos + 2],
            self.pool[self.pos + 3],
        ];
        self.pos += 4;
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partially_drained_output_is_compacted_instead_of_growing() {
        let mut out = Output::new(1000);
        let mut sent = Vec::new();
        let mut want = Vec::new();
        let mut dst = [0u8; 200];
        for i in 0..10_000u32 {
            let chunk = [(i % 251) as u8; 100];
            out.extend(&chunk);
            want.extend_from_slice(&chunk);
            // Always leave a little behind.
            let n = out.read(&mut dst[..(out.len() - 1).min(200)]);
            sent.extend_from_slice(&dst[..n]);
            assert!(out.capacity() <= 1000, "capacity {}", out.capacity());
        }
        let n = out.len();
        sent.extend_from_slice(out.peek());
        out.consume(n);
        assert_eq!(sent, want);
    }

    /// `append_with` lends written room without zeroing it each time: across growth,
    /// compaction, partial drains, trims and plain appends, what was appended is what
    /// comes out and a write that fails appends nothing.
    #[test]
    fn append_with_keeps_the_stream_intact_whatever_happened_to_the_buffer() {
        let mut out = Output::new(4096);
        let mut want = Vec::new();
        let mut sent = Vec::new();
        let mut dst = [0u8; 700];
        for i in 0..300usize {
            let len = (i * 37) % 900 + 1;
            let byte = (i % 251) as u8;
            let n = out
                .append_with(len + 16, |room| {
                    assert_eq!(room.len(), len + 16);
                    // Every byte lent is initialized: reading it is defined.
                    let _sum: u32 = room.iter().map(|&b| u32::from(b)).sum();
                    room[..len].fill(byte);
                    Ok::<usize, ()>(len)
                })
                .unwrap();
            assert_eq!(n, len);
            want.extend(std::iter::repeat_n(byte, len));
            // A write that fails appends nothing.
            assert!(out.append_with(64, |_| Err::<usize, ()>(())).is_err());
            match i % 7 {
                0 => out.trim(64),
                1 => {
                    out.append_vec(|v| v.push(byte));
                    want.push(byte);
                }
                2 => out.extend(&[byte; 300]),
                _ => {}
            }
            if i % 7 == 2 {
                want.extend([byte; 300]);
            }
            // Leave some behind, so that compaction has something to move.
            let take = out.len().saturating_sub(i % 3 * 100).min(dst.len());
            let got = out.read(&mut dst[..take]);
            sent.extend_from_slice(&dst[..got]);
        }
        sent.extend_from_slice(out.peek());
        assert_eq!(sent, want);
    }
}
