//! In-memory transport pieces: the output buffer the caller drains, and the source
//! of frame masks.

use ring::rand::{SecureRandom, SystemRandom};

/// Bytes waiting for the caller to send, drained front to back.
#[derive(Debug, Default)]
pub(crate) struct Output {
    buf: Vec<u8>,
    pos: usize,
}

impl Output {
    /// Number of bytes waiting.
    pub(crate) fn len(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// The vector to append to. Appending never loses what is waiting.
    pub(crate) fn vec(&mut self) -> &mut Vec<u8> {
        if self.pos > 0 && self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        }
        &mut self.buf
    }

    /// Copies as many waiting bytes as fit into `dst`; returns how many.
    pub(crate) fn read(&mut self, dst: &mut [u8]) -> usize {
        let n = self.len().min(dst.len());
        dst[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        if self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        }
        n
    }

    /// The waiting bytes, without copying them.
    pub(crate) fn peek(&self) -> &[u8] {
        &self.buf[self.pos..]
    }

    /// Marks `n` waiting bytes as sent (`n <= len()`).
    pub(crate) fn consume(&mut self, n: usize) {
        debug_assert!(n <= self.len());
        self.pos += n;
        if self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        }
    }

    /// Capacity of the buffer.
    pub(crate) fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Releases the buffer's memory when it is empty and larger than `keep`.
    pub(crate) fn trim(&mut self, keep: usize) {
        if self.len() == 0 && self.buf.capacity() > keep {
            self.buf = Vec::new();
            self.pos = 0;
        }
    }
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
