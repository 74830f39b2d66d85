//! The WebSocket frame and message layer (RFC 6455 section 5), sans-IO.
//!
//! # Why our own message layer on tungstenite's frame types
//! tungstenite's `WebSocketContext` reads through a `Read` adapter into a 128 KiB
//! zero-filled buffer, rejects RSV1 frames (so permessage-deflate cannot be added on
//! top), and decides on its own when to flush control replies. A sans-IO engine needs
//! byte-exact control instead: take whatever plaintext arrived (one byte or a whole
//! record), append payload straight into the message being assembled, validate UTF-8
//! fragment by fragment, and hand replies to the session to send. So this module
//! decodes frames into tungstenite's public frame types ([`FrameHeader`], [`OpCode`],
//! [`CloseCode`]), parsing and encoding headers by hand (checked against
//! `FrameHeader::parse` and `FrameHeader::format` in the tests), while keeping message
//! assembly here. The
//! opening handshake also stays with tungstenite's request types (see `handshake`).

use tungstenite::protocol::frame::coding::{Control, Data, OpCode};
use tungstenite::protocol::frame::FrameHeader;

use crate::bytes;
use crate::config::Limits;
use crate::deflate::{DeflateParams, Inflater};
use crate::error::{err, ErrorKind, Result};

/// What a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    /// A UTF-8 text message.
    Text,
    /// A binary message.
    Binary,
    /// A ping from the peer (already answered with a pong).
    Ping,
    /// A pong from the peer.
    Pong,
    /// The peer's close frame (or a synthetic 1006 when the connection dropped).
    Close,
}

/// A decoded event from the peer.
#[derive(Debug)]
pub(crate) struct Incoming {
    pub kind: MessageKind,
    pub data: Vec<u8>,
    /// For [`MessageKind::Close`]: the code (1005 when the frame had none).
    pub close_code: u16,
}

#[derive(Debug)]
struct FrameState {
    opcode: OpCode,
    fin: bool,
    remaining: u64,
}

/// Incremental frame decoder and message assembler.
#[derive(Debug)]
pub(crate) struct Decoder {
    header: [u8; 14],
    header_len: usize,
    frame: Option<FrameState>,
    /// The data message being assembled and its kind.
    message: Option<MessageKind>,
    buf: Vec<u8>,
    /// The first `buf_init` bytes of `buf`'s allocation are initialized (at least
    /// `buf.len()`), so that a direct input window needs no zero-filling.
    buf_init: usize,
    /// `buf[..utf8_checked]` is known to be valid UTF-8 (text messages only).
    utf8_checked: usize,
    control: Vec<u8>,
    max_message: usize,
    max_frame: usize,
    /// Spare buffers to reuse for the next message.
    spare: Vec<u8>,
    /// Initialized bytes of `spare`'s allocation.
    spare_init: usize,
    /// permessage-deflate, once negotiated; the inflater is made on first use.
    deflate: Option<DeflateParams>,
    inflater: Option<Inflater>,
    /// The message being assembled is compressed (RSV1 on its first frame).
    compressed: bool,
}

/// True when the close code may appear on the wire (RFC 6455 7.4, IANA registry).
pub(crate) fn is_valid_close_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

impl Decoder {
    pub(crate) fn new(limits: &Limits) -> Self {
        Decoder {
            header: [0; 14],
            header_len: 0,
            frame: None,
            message: None,
            buf: Vec::new(),
            buf_init: 0,
            utf8_checked: 0,
            control: Vec::new(),
            max_message: limits.max_message_size,
            max_frame: limits.max_frame_size,
            spare: Vec::new(),
            spare_init: 0,
            deflate: None,
            inflater: None,
            compressed: false,
        }
    }

    /// Accepts RSV1 (compressed messages) from now on, as negotiated.
    pub(crate) fn enable_deflate(&mut self, params: DeflateParams) {
        self.deflate = Some(params);
    }

    /// Gives a delivered message's buffer back for reuse.
    pub(crate) fn recycle(&mut self, mut buf: Vec<u8>) {
        if buf.capacity() > self.spare.capacity() {
            // The delivered message's bytes stay initialized after `clear`.
            self.spare_init = buf.len();
            buf.clear();
            self.spare = buf;
        }
    }

    /// Whether `range` (addresses) overlaps a buffer decoding writes to.
    pub(crate) fn overlaps(&self, range: &std::ops::Range<usize>) -> bool {
        use crate::transport::overlaps;
        overlaps(&self.buf, range) || overlaps(&self.control, range)
    }

    /// Capacity of the message buffers held.
    pub(crate) fn retained_capacity(&self) -> usize {
        self.spare.capacity() + self.buf.capacity()
    }

    /// Releases retained buffers larger than `keep` (see `Client::trim`).
    pub(crate) fn trim(&mut self, keep: usize) {
        if self.spare.capacity() > keep {
            self.spare = Vec::new();
            self.spare_init = 0;
        }
        if self.message.is_none() && self.buf.capacity() > keep {
            self.buf = Vec::new();
            self.buf_init = 0;
        }
    }

    /// Keeps `buf_init` true after `buf` was appended to: a reallocation (capacity
    /// changed) copies only what the new allocation is known to hold initialized.
    fn track_growth(&mut self, cap_before: usize) {
        self.buf_init = if self.buf.capacity() == cap_before {
            self.buf_init.max(self.buf.len())
        } else {
            self.buf.len()
        };
    }

    /// Payload bytes of the current data frame still to come, when they can be
    /// received straight into the message buffer (an uncompressed data frame).
    #[inline]
    pub(crate) fn direct_remaining(&self) -> Option<u64> {
        let frame = self.frame.as_ref()?;
        (matches!(frame.opcode, OpCode::Data(_)) && !self.compressed && frame.remaining > 0)
            .then_some(frame.remaining)
    }

    /// Lends the next `min(remaining, max)` bytes of the message buffer, for the
    /// caller to receive frame payload into (see [`Decoder::commit_direct`]). Memory
    /// is zero-filled only the first time the buffer grows this far.
    pub(crate) fn direct_window(&mut self, max: usize) -> Option<&mut [u8]> {
        let remaining = self.direct_remaining()?;
        let want = (remaining.min(max as u64)) as usize;
        let cap = self.buf.capacity();
        self.buf.reserve(want);
        self.track_growth(cap);
        let len = self.buf.len();
        if self.buf_init < len + want {
            let spare = self.buf.spare_capacity_mut();
            for b in &mut spare[self.buf_init - len..want] {
                b.write(0);
            }
            self.buf_init = len + want;
        }
        // SAFETY: `len..len + want` lies inside the allocation (reserved above) and is
        // initialized (`buf_init`); the slice borrows `self`, so nothing reallocates
        // while it lives.
        Some(unsafe { std::slice::from_raw_parts_mut(self.buf.as_mut_ptr().add(len), want) })
    }

    /// Takes `n` payload bytes the caller wrote at the start of the last direct window,
    /// then finishes the frame if it is complete (passing events to `sink` as
    /// [`Decoder::decode`] does).
    pub(crate) fn commit_direct(
        &mut self,
        n: usize,
        sink: &mut impl FnMut(Incoming) -> bool,
    ) -> Result<()> {
        let len = self.buf.len();
        if self.direct_remaining().is_none_or(|r| (n as u64) > r) || len + n > self.buf_init {
            return err(
                ErrorKind::InvalidArgument,
                "no direct input window of that size is open",
            );
        }
        // SAFETY: `buf[len..len + n]` is inside the allocation and initialized
        // (`buf_init`, checked above).
        unsafe { self.buf.set_len(len + n) };
        let frame = self.frame.as_mut().expect("checked above");
        frame.remaining -= n as u64;
        if self.message == Some(MessageKind::Text) {
            self.check_utf8(false)?;
        }
        if self.frame.as_ref().is_some_and(|f| f.remaining == 0) {
            self.finish_frame(sink)?;
        }
        Ok(())
    }

    /// Decodes `data`. Each complete message, ping, pong or close is passed to `sink`,
    /// which returns `false` to stop decoding (after a close frame). Returns the number
    /// of bytes consumed, which is `data.len()` unless `sink` stopped it.
    pub(crate) fn decode(
        &mut self,
        mut data: &[u8],
        sink: &mut impl FnMut(Incoming) -> bool,
    ) -> Result<usize> {
        let total = data.len();
        while !data.is_empty() {
            if self.frame.is_none() {
                // The whole header in `data` (the common case) is parsed in place.
                let whole = if self.header_len == 0 {
                    parse_header(data)
                } else {
                    None
                };
                let used = match whole {
                    Some((hdr, len, n)) => {
                        self.start_frame(hdr, len)?;
                        n
                    }
                    None => self.read_header(data)?,
                };
                data = &data[used..];
                if self.frame.is_none() {
                    continue; // header incomplete: all of data was taken
                }
                // Empty frames complete immediately.
                if self.frame.as_ref().is_some_and(|f| f.remaining == 0)
                    && !self.finish_frame(sink)?
                {
                    return Ok(total - data.len());
                }
                continue;
            }
            let frame = self.frame.as_mut().expect("frame in progress");
            let n = (frame.remaining.min(data.len() as u64)) as usize;
            let (chunk, rest) = data.split_at(n);
            data = rest;
            frame.remaining -= n as u64;
            let is_control = matches!(frame.opcode, OpCode::Control(_));
            if is_control {
                self.control.extend_from_slice(chunk);
            } else {
                let cap = self.buf.capacity();
                if self.compressed {
                    let inflater = self
                        .inflater
                        .as_mut()
                        .expect("inflater for a compressed message");
                    let inflated = inflater.inflate(chunk, &mut self.buf, self.max_message);
                    self.track_growth(cap);
                    inflated?;
                } else {
                    bytes::extend(&mut self.buf, chunk);
                    self.track_growth(cap);
                }
                if self.message == Some(MessageKind::Text) {
                    self.check_utf8(false)?;
                }
            }
            if self.frame.as_ref().is_some_and(|f| f.remaining == 0) && !self.finish_frame(sink)? {
                return Ok(total - data.len());
            }
        }
        Ok(total)
    }

    /// Accumulates header bytes; sets `self.frame` once the header is complete.
    fn read_header(&mut self, data: &[u8]) -> Result<usize> {
        let mut used = 0;
        loop {
            let need = header_size(&self.header[..self.header_len]);
            if self.header_len >= need {
                break;
            }
            if used == data.len() {
                return Ok(used);
            }
            let n = (need - self.header_len).min(data.len() - used);
            self.header[self.header_len..self.header_len + n]
                .copy_from_slice(&data[used..used + n]);
            self.header_len += n;
            used += n;
        }
        let (hdr, len, _) =
            parse_header(&self.header[..self.header_len]).expect("header is complete");
        self.header_len = 0;
        self.start_frame(hdr, len)?;
        Ok(used)
    }

    fn start_frame(&mut self, hdr: FrameHeader, len: u64) -> Result<()> {
        if hdr.rsv2 || hdr.rsv3 {
            return err(ErrorKind::Protocol, "reserved bits RSV2/RSV3 set");
        }
        if hdr.rsv1 {
            let starts_message = matches!(
                hdr.opcode,
                OpCode::Data(Data::Text) | OpCode::Data(Data::Binary)
            );
            if self.deflate.is_none() {
                return err(
                    ErrorKind::Protocol,
                    "RSV1 set without a negotiated extension",
                );
            }
            if !starts_message {
                return err(
                    ErrorKind::Protocol,
                    "RSV1 set on a control or continuation frame",
                );
            }
        }
        if hdr.mask.is_some() {
            return err(ErrorKind::Protocol, "the server sent a masked frame");
        }
        if len >> 63 != 0 {
            return err(
                ErrorKind::Protocol,
                "frame length has the most significant bit set",
            );
        }
        match hdr.opcode {
            OpCode::Control(Control::Reserved(op)) | OpCode::Data(Data::Reserved(op)) => {
                return err(ErrorKind::Protocol, format!("reserved opcode {op}"));
            }
            OpCode::Control(_) => {
                if !hdr.is_final {
                    return err(ErrorKind::Protocol, "fragmented control frame");
                }
                if len > 125 {
                    return err(
                        ErrorKind::Protocol,
                        "control frame payload longer than 125 bytes",
                    );
                }
            }
            OpCode::Data(Data::Continue) => {
                if self.message.is_none() {
                    return err(
                        ErrorKind::Protocol,
                        "continuation frame without a message to continue",
                    );
                }
            }
            OpCode::Data(d) => {
                if self.message.is_some() {
                    return err(
                        ErrorKind::Protocol,
                        "new data frame while a fragmented message is open",
                    );
                }
                self.message = Some(if d == Data::Text {
                    MessageKind::Text
                } else {
                    MessageKind::Binary
                });
                self.utf8_checked = 0;
                self.compressed = hdr.rsv1;
                if self.compressed && self.inflater.is_none() {
                    let params = self.deflate.as_ref().expect("checked above");
                    self.inflater = Some(Inflater::new(params));
                }
                if self.buf.capacity() == 0 {
                    self.buf = std::mem::take(&mut self.spare);
                    self.buf_init = std::mem::take(&mut self.spare_init);
                }
            }
        }
        if matches!(hdr.opcode, OpCode::Data(_)) {
            if len > self.max_frame as u64 {
                return err(
                    ErrorKind::FrameTooBig,
                    format!(
                        "frame of {len} bytes exceeds the limit of {} bytes",
                        self.max_frame
                    ),
                );
            }
            if !self.compressed && self.buf.len() as u64 + len > self.max_message as u64 {
                return err(
                    ErrorKind::MessageTooBig,
                    format!(
                        "message of at least {} bytes exceeds the limit of {} bytes",
                        self.buf.len() as u64 + len,
                        self.max_message
                    ),
                );
            }
            // Reserve for the announced frame, bounded so that a lying length costs
            // no more memory than the bytes that really arrive (plus 1 MiB).
            if !self.compressed {
                let cap = self.buf.capacity();
                self.buf.reserve((len as usize).min(1 << 20));
                self.track_growth(cap);
            }
        } else {
            self.control.clear();
        }
        self.frame = Some(FrameState {
            opcode: hdr.opcode,
            fin: hdr.is_final,
            remaining: len,
        });
        Ok(())
    }

    /// Validates the newly appended text bytes. With `complete`, a truncated
    /// sequence at the end is an error too.
    fn check_utf8(&mut self, complete: bool) -> Result<()> {
        let tail = &self.buf[self.utf8_checked..];
        match std::str::from_utf8(tail) {
            Ok(_) => self.utf8_checked = self.buf.len(),
            Err(e) => {
                if e.error_len().is_some() || complete {
                    return err(ErrorKind::InvalidUtf8, "text message is not valid UTF-8");
                }
                self.utf8_checked += e.valid_up_to();
            }
        }
        Ok(())
    }

    fn finish_frame(&mut self, sink: &mut impl FnMut(Incoming) -> bool) -> Result<bool> {
        let frame = self.frame.take().expect("frame in progress");
        match frame.opcode {
            OpCode::Control(c) => {
                let data = std::mem::take(&mut self.control);
                let ev = match c {
                    Control::Ping => Incoming {
                        kind: MessageKind::Ping,
                        data,
                        close_code: 0,
                    },
                    Control::Pong => Incoming {
                        kind: MessageKind::Pong,
                        data,
                        close_code: 0,
                    },
                    Control::Close => {
                        let (code, reason) = parse_close(data)?;
                        let keep_going = false;
                        sink(Incoming {
                            kind: MessageKind::Close,
                            data: reason,
                            close_code: code,
                        });
                        return Ok(keep_going);
                    }
                    Control::Reserved(_) => unreachable!("rejected in start_frame"),
                };
                Ok(sink(ev))
            }
            OpCode::Data(_) => {
                if !frame.fin {
                    return Ok(true);
                }
                let kind = self.message.take().expect("message in progress");
                if self.compressed {
                    let inflater = self
                        .inflater
                        .as_mut()
                        .expect("inflater for a compressed message");
                    let cap = self.buf.capacity();
                    let finished = inflater.finish(&mut self.buf, self.max_message);
                    self.track_growth(cap);
                    finished?;
                    self.compressed = false;
                }
                if kind == MessageKind::Text {
                    self.check_utf8(true)?;
                }
                let data = std::mem::take(&mut self.buf);
                self.buf_init = 0;
                Ok(sink(Incoming {
                    kind,
                    data,
                    close_code: 0,
                }))
            }
        }
    }
}

/// Parses the frame header at the start of `h` (RFC 6455 section 5.2): the header, the
/// payload length and the header's size in bytes; `None` while `h` holds less than the
/// whole header. The same result as tungstenite's `FrameHeader::parse` (checked against
/// it in the tests), except that a reserved opcode is returned for `start_frame` to
/// refuse rather than refused here. Written by hand: `FrameHeader::parse` reads
/// through `io::Read` on a `Cursor` and cost about 115 instructions per frame (see
/// BENCHMARKS.md, issue 18).
#[inline]
pub(crate) fn parse_header(h: &[u8]) -> Option<(FrameHeader, u64, usize)> {
    let (&first, &second) = (h.first()?, h.get(1)?);
    let (len, at) = match second & 0x7f {
        126 => (
            u64::from(u16::from_be_bytes(h.get(2..4)?.try_into().ok()?)),
            4,
        ),
        127 => (u64::from_be_bytes(h.get(2..10)?.try_into().ok()?), 10),
        n => (u64::from(n), 2),
    };
    let (mask, size) = if second & 0x80 != 0 {
        let key: [u8; 4] = h.get(at..at + 4)?.try_into().ok()?;
        (Some(key), at + 4)
    } else {
        (None, at)
    };
    let opcode = match first & 0x0f {
        0 => OpCode::Data(Data::Continue),
        1 => OpCode::Data(Data::Text),
        2 => OpCode::Data(Data::Binary),
        8 => OpCode::Control(Control::Close),
        9 => OpCode::Control(Control::Ping),
        10 => OpCode::Control(Control::Pong),
        op @ 3..=7 => OpCode::Data(Data::Reserved(op)),
        op => OpCode::Control(Control::Reserved(op)),
    };
    let hdr = FrameHeader {
        is_final: first & 0x80 != 0,
        rsv1: first & 0x40 != 0,
        rsv2: first & 0x20 != 0,
        rsv3: first & 0x10 != 0,
        opcode,
        mask,
    };
    Some((hdr, len, size))
}

/// Bytes needed for the complete header given the bytes seen so far.
fn header_size(seen: &[u8]) -> usize {
    if seen.len() < 2 {
        return 2;
    }
    let ext = match seen[1] & 0x7f {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    let mask = if seen[1] & 0x80 != 0 { 4 } else { 0 };
    2 + ext + mask
}

fn parse_close(data: Vec<u8>) -> Result<(u16, Vec<u8>)> {
    match data.len() {
        0 => Ok((1005, Vec::new())),
        1 => err(ErrorKind::Protocol, "close frame with a 1-byte payload"),
        _ => {
            let code = u16::from_be_bytes([data[0], data[1]]);
            if !is_valid_close_code(code) {
                return err(ErrorKind::Protocol, format!("invalid close code {code}"));
            }
            if std::str::from_utf8(&data[2..]).is_err() {
                return err(ErrorKind::InvalidUtf8, "close reason is not valid UTF-8");
            }
            Ok((code, data[2..].to_vec()))
        }
    }
}

/// Client-to-server frame opcodes we send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SendKind {
    Text,
    Binary,
    Ping,
    Pong,
    Close,
}

impl SendKind {
    /// The opcode as tungstenite names it (the tests check our header against its encoder).
    #[cfg(test)]
    fn opcode(self) -> OpCode {
        match self {
            SendKind::Text => OpCode::Data(Data::Text),
            SendKind::Binary => OpCode::Data(Data::Binary),
            SendKind::Ping => OpCode::Control(Control::Ping),
            SendKind::Pong => OpCode::Control(Control::Pong),
            SendKind::Close => OpCode::Control(Control::Close),
        }
    }
}

/// Size of a masked client frame carrying `len` payload bytes.
pub(crate) fn encoded_len(len: usize) -> usize {
    let ext = if len < 126 {
        0
    } else if len <= u16::MAX as usize {
        2
    } else {
        8
    };
    2 + ext + 4 + len
}

/// Appends one masked, final frame to `out`. `parts` are concatenated as the payload
/// (a close frame's code and reason, for example).
#[cfg(test)]
pub(crate) fn encode(out: &mut Vec<u8>, kind: SendKind, parts: &[&[u8]], mask: [u8; 4]) {
    encode_with(out, kind, false, parts, mask)
}

/// [`encode`], with RSV1 (a compressed message) when `compressed`.
pub(crate) fn encode_with(
    out: &mut Vec<u8>,
    kind: SendKind,
    compressed: bool,
    parts: &[&[u8]],
    mask: [u8; 4],
) {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    out.reserve(encoded_len(len));
    encode_header(out, kind, compressed, len, mask);
    let mut offset = 0;
    for p in parts {
        extend_masked(out, p, mask_at(mask, offset));
        offset += p.len();
    }
}

/// The mask as it applies from payload byte `offset` on.
pub(crate) fn mask_at(mask: [u8; 4], offset: usize) -> [u8; 4] {
    let r = offset & 3;
    [
        mask[r],
        mask[(r + 1) & 3],
        mask[(r + 2) & 3],
        mask[(r + 3) & 3],
    ]
}

/// Appends the header of a masked, final frame carrying `len` payload bytes (RFC 6455
/// section 5.2: FIN, RSV1, opcode; MASK and the shortest length encoding; the key).
/// Written by hand: tungstenite's `FrameHeader::format` went through `io::Write` and
/// cost about 70 instructions per small frame (see BENCHMARKS.md, issue 18).
pub(crate) fn encode_header(
    out: &mut Vec<u8>,
    kind: SendKind,
    compressed: bool,
    len: usize,
    mask: [u8; 4],
) {
    let opcode: u8 = match kind {
        SendKind::Text => 0x1,
        SendKind::Binary => 0x2,
        SendKind::Close => 0x8,
        SendKind::Ping => 0x9,
        SendKind::Pong => 0xA,
    };
    let mut h = [0u8; 14];
    h[0] = 0x80 | if compressed { 0x40 } else { 0 } | opcode;
    let at = if len < 126 {
        h[1] = 0x80 | len as u8;
        2
    } else if len <= u16::MAX as usize {
        h[1] = 0x80 | 126;
        h[2..4].copy_from_slice(&(len as u16).to_be_bytes());
        4
    } else {
        h[1] = 0x80 | 127;
        h[2..10].copy_from_slice(&(len as u64).to_be_bytes());
        10
    };
    h[at..at + 4].copy_from_slice(&mask);
    // A constant length per case: a few moves instead of a call to memcpy.
    match at {
        2 => out.extend_from_slice(&h[..6]),
        4 => out.extend_from_slice(&h[..8]),
        _ => out.extend_from_slice(&h[..14]),
    }
}

/// The reference for [`extend_masked`] in the tests.
///
/// XORs `buf` with the repeating 4-byte `mask`: byte-wise up to an 8-byte boundary,
/// then whole aligned words (which the compiler vectorises), then the tail.
#[cfg(test)]
pub(crate) fn apply_mask(buf: &mut [u8], mask: [u8; 4]) {
    fn bytewise(bytes: &mut [u8], mask: [u8; 4]) {
        for (i, b) in bytes.iter_mut().enumerate() {
            *b ^= mask[i & 3];
        }
    }
    // SAFETY: every bit pattern is a valid u64, and `align_to_mut` only hands out the
    // correctly aligned middle part as words; prefix and suffix stay bytes.
    let (prefix, words, suffix) = unsafe { buf.align_to_mut::<u64>() };
    bytewise(prefix, mask);
    let m = mask_at(mask, prefix.len());
    let m8 = u64::from_ne_bytes([m[0], m[1], m[2], m[3], m[0], m[1], m[2], m[3]]);
    for w in words.iter_mut() {
        *w ^= m8;
    }
    // Words are 8 bytes, a multiple of 4: the tail continues where the prefix left off.
    bytewise(suffix, m);
}

/// Appends `src` XOR the repeating `mask` to `out` in one pass (a copy and then
/// [`apply_mask`] would read and write the bytes twice).
pub(crate) fn extend_masked(out: &mut Vec<u8>, src: &[u8], mask: [u8; 4]) {
    const BLOCK: usize = 32;
    out.reserve(src.len());
    let len = out.len();
    let dst = out.spare_capacity_mut()[..src.len()]
        .as_mut_ptr()
        .cast::<u8>();
    let m4 = u32::from_ne_bytes(mask);
    // Fixed-size blocks: the XOR over an array compiles to vector instructions.
    let blocks = src.chunks_exact(BLOCK);
    let tail = blocks.remainder();
    let m8 = u64::from(m4) | (u64::from(m4) << 32);
    for (i, block) in blocks.enumerate() {
        let mut x = [0u64; BLOCK / 8];
        for (j, w) in x.iter_mut().enumerate() {
            let b: [u8; 8] = block[j * 8..j * 8 + 8].try_into().expect("8 bytes");
            *w = u64::from_ne_bytes(b) ^ m8;
        }
        // SAFETY: block `i` lies inside the `src.len()` bytes of spare capacity
        // reserved above; an unaligned write needs no alignment.
        unsafe {
            dst.add(i * BLOCK)
                .cast::<[u64; BLOCK / 8]>()
                .write_unaligned(x)
        };
    }
    // Blocks are a multiple of 4 bytes: the tail starts at mask[0] again, and so do
    // its whole 4-byte words.
    let done = src.len() - tail.len();
    let words = tail.chunks_exact(4);
    let rest = words.remainder();
    for (i, w) in words.enumerate() {
        let x = u32::from_ne_bytes(w.try_into().expect("4 bytes")) ^ m4;
        // SAFETY: inside the reserved spare capacity, as above.
        unsafe { dst.add(done + i * 4).cast::<u32>().write_unaligned(x) };
    }
    let done = src.len() - rest.len();
    for (i, b) in rest.iter().enumerate() {
        // SAFETY: inside the reserved spare capacity, as above.
        unsafe { dst.add(done + i).write(b ^ mask[i & 3]) };
    }
    // SAFETY: the loops above wrote all `src.len()` bytes after `len`, inside the
    // capacity reserved at the top.
    unsafe { out.set_len(len + src.len()) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_header_equals_tungstenites_format() {
        let mask = [0x12, 0x34, 0x56, 0x78];
        let kinds = [
            SendKind::Text,
            SendKind::Binary,
            SendKind::Ping,
            SendKind::Pong,
            SendKind::Close,
        ];
        for kind in kinds {
            for compressed in [false, true] {
                for len in [
                    0usize,
                    1,
                    125,
                    126,
                    127,
                    65535,
                    65536,
                    1 << 20,
                    u32::MAX as usize + 7,
                ] {
                    let mut ours = Vec::new();
                    encode_header(&mut ours, kind, compressed, len, mask);
                    let hdr = FrameHeader {
                        opcode: kind.opcode(),
                        rsv1: compressed,
                        mask: Some(mask),
                        ..FrameHeader::default()
                    };
                    let mut theirs = Vec::new();
                    hdr.format(len as u64, &mut theirs).unwrap();
                    assert_eq!(ours, theirs, "{kind:?} compressed={compressed} len={len}");
                    assert_eq!(ours.len() + len, encoded_len(len));
                }
            }
        }
    }

    /// Our header parser against tungstenite's, on `bytes` and every prefix of it.
    fn check_parse_against_tungstenite(bytes: &[u8]) {
        for cut in 0..=bytes.len() {
            let b = &bytes[..cut];
            let mut cursor = std::io::Cursor::new(b);
            let theirs = FrameHeader::parse(&mut cursor);
            let ours = parse_header(b);
            match theirs {
                Ok(None) => assert!(ours.is_none(), "{b:?}: {ours:?}"),
                Ok(Some((hdr, len))) => {
                    let n = cursor.position() as usize;
                    assert_eq!(ours, Some((hdr, len, n)), "{b:?}");
                    assert_eq!(header_size(b), n, "{b:?}");
                }
                // tungstenite refuses reserved opcodes once the header is complete; we
                // return them for `start_frame` to refuse (`protocol_violations`).
                Err(e) => {
                    let (hdr, _, n) = ours.unwrap_or_else(|| panic!("{b:?}: {e}"));
                    assert!(
                        matches!(
                            hdr.opcode,
                            OpCode::Data(Data::Reserved(_)) | OpCode::Control(Control::Reserved(_))
                        ),
                        "{b:?}: {e}"
                    );
                    assert_eq!(header_size(b), n, "{b:?}");
                }
            }
        }
    }

    #[test]
    fn parse_header_equals_tungstenites_parse() {
        // Every first byte (FIN, RSV1-3, all 16 opcodes) with every length encoding,
        // masked and not, at the length boundaries, and every truncation of each.
        let lengths: [&[u8]; 9] = [
            &[0],
            &[1],
            &[125],
            &[126, 0, 0],
            &[126, 0, 126],
            &[126, 0xff, 0xff],
            &[127, 0, 0, 0, 0, 0, 1, 0, 0],
            &[127, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            &[127, 0x80, 0, 0, 0, 0, 0, 0, 1],
        ];
        for first in 0..=255u8 {
            for len in lengths {
                for masked in [false, true] {
                    let mut h = vec![first, len[0] | if masked { 0x80 } else { 0 }];
                    h.extend_from_slice(&len[1..]);
                    if masked {
                        h.extend_from_slice(&[0x12, 0x34, 0x56, 0x78]);
                    }
                    h.extend_from_slice(b"payload");
                    check_parse_against_tungstenite(&h);
                }
            }
        }
        // And arbitrary bytes.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            let mut b = [0u8; 16];
            for v in &mut b {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *v = x as u8;
            }
            check_parse_against_tungstenite(&b);
        }
    }

    #[test]
    fn extend_masked_equals_copy_then_mask() {
        let mask = [0x12, 0x34, 0x56, 0x78];
        for len in [
            0usize, 1, 3, 4, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 4099,
        ] {
            for start in 0..3 {
                let src: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
                let mut want = vec![0xaa; start];
                want.extend_from_slice(&src);
                apply_mask(&mut want[start..], mask);
                let mut got = vec![0xaa; start];
                extend_masked(&mut got, &src, mask);
                assert_eq!(got, want, "len {len}, start {start}");
            }
        }
    }

    fn server_frame(op: u8, fin: bool, payload: &[u8]) -> Vec<u8> {
        let mut v = vec![op | if fin { 0x80 } else { 0 }];
        if payload.len() < 126 {
            v.push(payload.len() as u8);
        } else if payload.len() <= 0xffff {
            v.push(126);
            v.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        } else {
            v.push(127);
            v.extend_from_slice(&(payload.len() as u64).to_be_bytes());
        }
        v.extend_from_slice(payload);
        v
    }

    fn decode_all(d: &mut Decoder, bytes: &[u8], step: usize) -> Result<Vec<Incoming>> {
        let mut out = Vec::new();
        for chunk in bytes.chunks(step.max(1)) {
            d.decode(chunk, &mut |ev| {
                out.push(ev);
                true
            })?;
        }
        Ok(out)
    }

    #[test]
    fn mask_matches_bytewise() {
        let mask = [1, 2, 3, 4];
        for len in 0..40 {
            let orig: Vec<u8> = (0..len as u8).collect();
            let mut fast = orig.clone();
            apply_mask(&mut fast, mask);
            let slow: Vec<u8> = orig
                .iter()
                .enumerate()
                .map(|(i, b)| b ^ mask[i % 4])
                .collect();
            assert_eq!(fast, slow);
        }
    }

    #[test]
    fn fragmented_text_one_byte_at_a_time() {
        let text = "héllo wörld €".as_bytes();
        let mut bytes = server_frame(0x1, false, &text[..2]);
        bytes.extend(server_frame(0x9, true, b"p"));
        bytes.extend(server_frame(0x0, false, &text[2..9]));
        bytes.extend(server_frame(0x0, true, &text[9..]));
        for step in [1, 2, 3, 7, 1000] {
            let mut d = Decoder::new(&Limits::default());
            let evs = decode_all(&mut d, &bytes, step).unwrap();
            assert_eq!(evs.len(), 2);
            assert_eq!(evs[0].kind, MessageKind::Ping);
            assert_eq!(evs[1].kind, MessageKind::Text);
            assert_eq!(evs[1].data, text);
        }
    }

    #[test]
    fn invalid_utf8_fails_fast_in_first_fragment() {
        let mut d = Decoder::new(&Limits::default());
        let bytes = server_frame(0x1, false, &[0xce, 0xba, 0xff]);
        let e = decode_all(&mut d, &bytes, 1).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidUtf8);
    }

    #[test]
    fn truncated_utf8_at_message_end_fails() {
        let mut d = Decoder::new(&Limits::default());
        let e = decode_all(&mut d, &server_frame(0x1, true, &[0xe2, 0x82]), 100).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidUtf8);
    }

    #[test]
    fn protocol_violations() {
        let cases: Vec<Vec<u8>> = vec![
            server_frame(0x3, true, b""),               // reserved data opcode
            server_frame(0xb, true, b""),               // reserved control opcode
            server_frame(0x0, true, b"x"),              // continuation without start
            server_frame(0x9, false, b""),              // fragmented ping
            server_frame(0x9, true, &[0u8; 126]),       // long ping
            vec![0xc1, 0x00],                           // rsv1
            vec![0xa2, 0x00],                           // rsv2
            vec![0x92, 0x00],                           // rsv3
            server_frame(0x8, true, &[0x03]),           // 1-byte close
            server_frame(0x8, true, &[0x03, 0xed]),     // close code 1005
            vec![0x82, 0x81, 1, 2, 3, 4, 0],            // masked
            vec![0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0], // 2^63
        ];
        for c in cases {
            // Byte by byte (the header is gathered first) and whole (parsed in place).
            for step in [1, 2, 1000] {
                let mut d = Decoder::new(&Limits::default());
                let e = decode_all(&mut d, &c, step).unwrap_err();
                assert_eq!(e.kind(), ErrorKind::Protocol, "{c:?} in steps of {step}");
            }
        }
    }

    #[test]
    fn limits() {
        let limits = Limits {
            max_message_size: 100,
            max_frame_size: 60,
            ..Limits::default()
        };
        let mut d = Decoder::new(&limits);
        let e = decode_all(&mut d, &server_frame(0x2, true, &[0; 61]), 1000).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::FrameTooBig);
        let mut d = Decoder::new(&limits);
        let mut two = server_frame(0x2, false, &[0; 60]);
        two.extend(server_frame(0x0, true, &[0; 41]));
        let e = decode_all(&mut d, &two, 1000).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::MessageTooBig);
    }

    #[test]
    fn close_stops_decoding() {
        let mut d = Decoder::new(&Limits::default());
        let mut bytes = server_frame(0x8, true, &[0x03, 0xe8, b'o', b'k']);
        bytes.extend(server_frame(0x2, true, b"after"));
        let mut evs = Vec::new();
        let used = d
            .decode(&bytes, &mut |ev| {
                evs.push(ev);
                true
            })
            .unwrap();
        assert_eq!(used, 6);
        assert_eq!(evs.len(), 1);
        assert_eq!(evs[0].close_code, 1000);
        assert_eq!(evs[0].data, b"ok");
    }

    #[test]
    fn encode_roundtrip_lengths() {
        for len in [0usize, 125, 126, 65535, 65536] {
            let payload = vec![7u8; len];
            let mut out = Vec::new();
            encode(&mut out, SendKind::Binary, &[&payload], [9, 8, 7, 6]);
            assert_eq!(out.len(), encoded_len(len));
        }
    }
}
