//! permessage-deflate (RFC 7692): negotiation, and compression of messages.
//!
//! # Design
//! tungstenite rejects frames with RSV1 set, so compression lives in our own message
//! layer (`frame`), which already owns frame decoding; tungstenite's frame types and
//! handshake helpers are used as before. No fork of tungstenite is needed.
//!
//! - Incoming: the first frame of a compressed message has RSV1. Its payload, and that
//!   of its continuation frames, is inflated as it arrives (so UTF-8 is still checked
//!   fragment by fragment), and the output is capped at the maximum message size: a
//!   zip bomb ends in [`ErrorKind::MessageTooBig`] after at most that many bytes.
//!   Inflation always uses a 32 KiB window, which accepts any `server_max_window_bits`.
//! - Outgoing: messages of at least the configured threshold are compressed with a
//!   sync flush and the trailing `00 00 ff ff` removed. When the server limits our
//!   window to 8 bits we send messages uncompressed instead (RFC 7692 lets a sender
//!   leave any message uncompressed): zlib cannot produce a raw deflate stream with a
//!   256-byte window (it silently uses 512), which a strict peer would reject.
//! - Context takeover is kept unless negotiated off, in which case the compressor or
//!   the decompressor is reset after every message.
//! - Both zlib contexts are created on first use, so a connection that never sends or
//!   receives a compressed message pays no memory for them.
//!
//! # Default: off
//! Compression is opt-in (`Config::set_deflate`). It costs about 300 KiB of memory
//! per connection once used and CPU on every message, game traffic is often small
//! binary messages that do not compress, and compressing secrets next to
//! attacker-influenced data in one context is the CRIME/BREACH side channel. Turn it
//! on for JSON-heavy traffic, where it typically saves 3x on the wire.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use crate::error::{err, Error, ErrorKind, Result};

/// What the client asks for (configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeflateConfig {
    /// Offer permessage-deflate at all.
    pub enabled: bool,
    /// Ask the server to keep its window at most this large (8-15); `None` = no request.
    pub server_max_window_bits: Option<u8>,
    /// The largest window our compressor may use (9-15); offered as
    /// `client_max_window_bits` so the server may lower it.
    pub client_max_window_bits: u8,
    /// Ask the server not to keep its compression context between messages.
    pub server_no_context_takeover: bool,
    /// Promise not to keep our compression context between messages.
    pub client_no_context_takeover: bool,
    /// Messages shorter than this are sent uncompressed.
    pub threshold: usize,
    /// zlib compression level, 0-9 (default 1: on ~280-byte JSON messages it costs
    /// about a fifth of the CPU of level 6 for about 16% more bytes; see BENCHMARKS.md).
    pub level: u32,
}

impl Default for DeflateConfig {
    fn default() -> Self {
        DeflateConfig {
            enabled: false,
            server_max_window_bits: None,
            client_max_window_bits: 15,
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            threshold: 64,
            level: 1,
        }
    }
}

impl DeflateConfig {
    pub(crate) fn validate(&self) -> Result<()> {
        if let Some(b) = self.server_max_window_bits {
            if !(8..=15).contains(&b) {
                return err(
                    ErrorKind::InvalidConfig,
                    "server_max_window_bits must be 8-15",
                );
            }
        }
        if !(8..=15).contains(&self.client_max_window_bits) {
            return err(
                ErrorKind::InvalidConfig,
                "client_max_window_bits must be 8-15",
            );
        }
        if self.level > 9 {
            return err(ErrorKind::InvalidConfig, "deflate level must be 0-9");
        }
        Ok(())
    }

    /// The `Sec-WebSocket-Extensions` offer.
    pub(crate) fn offer(&self) -> String {
        let mut s = String::from("permessage-deflate");
        if self.client_no_context_takeover {
            s.push_str("; client_no_context_takeover");
        }
        if self.server_no_context_takeover {
            s.push_str("; server_no_context_takeover");
        }
        if let Some(b) = self.server_max_window_bits {
            s.push_str(&format!("; server_max_window_bits={b}"));
        }
        if self.client_max_window_bits == 15 {
            s.push_str("; client_max_window_bits");
        } else {
            s.push_str(&format!(
                "; client_max_window_bits={}",
                self.client_max_window_bits
            ));
        }
        s
    }
}

/// What the server accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeflateParams {
    /// The window the server compresses with (15 when it did not say).
    pub server_max_window_bits: u8,
    /// The window our compressor may use.
    pub client_max_window_bits: u8,
    /// The server resets its context after every message.
    pub server_no_context_takeover: bool,
    /// We reset our context after every message.
    pub client_no_context_takeover: bool,
}

fn ext_error<T>(why: impl std::fmt::Display) -> Result<T> {
    err(
        ErrorKind::Extension,
        format!("invalid permessage-deflate response: {why}"),
    )
}

/// Parses the server's `Sec-WebSocket-Extensions` values against our offer.
/// Returns `None` when the server accepted no extension.
pub(crate) fn negotiate(
    values: &[&[u8]],
    offered: Option<&DeflateConfig>,
) -> Result<Option<DeflateParams>> {
    let mut result = None;
    for value in values {
        let text = std::str::from_utf8(value)
            .map_err(|_| Error::new(ErrorKind::Extension, "extension header is not UTF-8"))?;
        for ext in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let mut parts = ext.split(';').map(str::trim);
            let name = parts.next().unwrap_or("");
            let Some(cfg) = offered.filter(|_| name.eq_ignore_ascii_case("permessage-deflate"))
            else {
                return err(
                    ErrorKind::Extension,
                    format!("the server selected extension {name:?}, which was not offered"),
                );
            };
            if result.is_some() {
                return ext_error("permessage-deflate selected twice");
            }
            let mut p = DeflateParams {
                server_max_window_bits: 15,
                client_max_window_bits: cfg.client_max_window_bits,
                server_no_context_takeover: false,
                client_no_context_takeover: cfg.client_no_context_takeover,
            };
            let mut seen: Vec<String> = Vec::new();
            for param in parts {
                let (key, val) = match param.split_once('=') {
                    Some((k, v)) => (
                        k.trim().to_ascii_lowercase(),
                        Some(v.trim().trim_matches('"')),
                    ),
                    None => (param.to_ascii_lowercase(), None),
                };
                if seen.contains(&key) {
                    return ext_error(format!("parameter {key} repeated"));
                }
                seen.push(key.clone());
                let bits = |v: Option<&str>| -> Result<u8> {
                    match v.and_then(|v| v.parse::<u8>().ok()) {
                        Some(b) if (8..=15).contains(&b) && !v.unwrap_or("").starts_with('0') => {
                            Ok(b)
                        }
                        _ => ext_error(format!("{key} needs a value from 8 to 15, got {v:?}")),
                    }
                };
                match key.as_str() {
                    "server_no_context_takeover" if val.is_none() => {
                        p.server_no_context_takeover = true
                    }
                    "client_no_context_takeover" if val.is_none() => {
                        p.client_no_context_takeover = true
                    }
                    "server_max_window_bits" => {
                        let b = bits(val)?;
                        if cfg.server_max_window_bits.is_some_and(|asked| b > asked) {
                            return ext_error(format!(
                                "server_max_window_bits={b} exceeds what was requested"
                            ));
                        }
                        p.server_max_window_bits = b;
                    }
                    "client_max_window_bits" => {
                        let b = bits(val)?;
                        if b > cfg.client_max_window_bits {
                            return ext_error(format!(
                                "client_max_window_bits={b} exceeds what was offered"
                            ));
                        }
                        p.client_max_window_bits = b;
                    }
                    _ => return ext_error(format!("unknown or malformed parameter {param:?}")),
                }
            }
            if cfg.server_no_context_takeover && !p.server_no_context_takeover {
                return ext_error("server_no_context_takeover was requested but not accepted");
            }
            if cfg.server_max_window_bits.is_some()
                && !seen.iter().any(|k| k == "server_max_window_bits")
            {
                // RFC 7692 7.1.2.1: a server that accepts the offer includes the
                // parameter; one that cannot honour it declines the extension.
                return ext_error("server_max_window_bits was requested but not answered");
            }
            result = Some(p);
        }
    }
    Ok(result)
}

/// Inflates received messages.
pub(crate) struct Inflater {
    inner: Decompress,
    reset_each_message: bool,
}

impl std::fmt::Debug for Inflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inflater").finish_non_exhaustive()
    }
}

impl Inflater {
    pub(crate) fn new(p: &DeflateParams) -> Self {
        Inflater {
            inner: Decompress::new_with_window_bits(false, 15),
            reset_each_message: p.server_no_context_takeover,
        }
    }

    /// Inflates `input` onto `out`, failing once `out` would exceed `limit` bytes.
    pub(crate) fn inflate(
        &mut self,
        mut input: &[u8],
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<()> {
        loop {
            if out.len() == out.capacity() {
                let room = (limit + 1).saturating_sub(out.len());
                if room == 0 {
                    return too_big(limit);
                }
                out.reserve(room.min(out.len().max(input.len() * 4).max(4096)));
            }
            let (in0, out0) = (self.inner.total_in(), self.inner.total_out());
            let status = self
                .inner
                .decompress_vec(input, out, FlushDecompress::Sync)
                .map_err(|e| {
                    Error::new(
                        ErrorKind::Protocol,
                        format!("compressed message is corrupt: {e}"),
                    )
                })?;
            if out.len() > limit {
                return too_big(limit);
            }
            let used = (self.inner.total_in() - in0) as usize;
            let produced = self.inner.total_out() - out0;
            input = &input[used..];
            if status == Status::StreamEnd {
                return err(
                    ErrorKind::Protocol,
                    "compressed message ends the deflate stream (BFINAL)",
                );
            }
            if input.is_empty() && out.len() < out.capacity() {
                return Ok(());
            }
            if used == 0 && produced == 0 && out.len() < out.capacity() {
                return Ok(()); // needs more input
            }
        }
    }

    /// Ends a message: feeds the removed `00 00 ff ff` trailer.
    pub(crate) fn finish(&mut self, out: &mut Vec<u8>, limit: usize) -> Result<()> {
        self.inflate(&[0, 0, 0xff, 0xff], out, limit)?;
        if self.reset_each_message {
            self.inner.reset(false);
        }
        Ok(())
    }
}

fn too_big<T>(limit: usize) -> Result<T> {
    err(
        ErrorKind::MessageTooBig,
        format!("decompressed message exceeds the limit of {limit} bytes"),
    )
}

/// Compresses outgoing messages.
pub(crate) struct Deflater {
    inner: Option<Compress>,
    params: DeflateParams,
    level: u32,
    pub threshold: usize,
}

impl std::fmt::Debug for Deflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deflater")
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

impl Deflater {
    pub(crate) fn new(p: DeflateParams, cfg: &DeflateConfig) -> Self {
        Deflater {
            inner: None,
            params: p,
            level: cfg.level,
            threshold: cfg.threshold,
        }
    }

    /// Whether a message of `len` bytes goes out compressed.
    pub(crate) fn wants(&self, len: usize) -> bool {
        // An empty message goes out uncompressed: a sync flush with no new input
        // produces nothing, so there would be no `00 00 ff ff` tail to strip.
        self.params.client_max_window_bits >= 9 && len >= self.threshold && len > 0
    }

    /// Compresses `data` onto `out` (without the trailing `00 00 ff ff`).
    pub(crate) fn compress(&mut self, data: &[u8], out: &mut Vec<u8>) {
        let bits = self.params.client_max_window_bits;
        let level = self.level;
        let c = self.inner.get_or_insert_with(|| {
            Compress::new_with_window_bits(Compression::new(level), false, bits)
        });
        let start = out.len();
        out.reserve(data.len() / 2 + 64);
        let mut input = data;
        loop {
            if out.len() == out.capacity() {
                out.reserve(out.capacity().max(4096));
            }
            let in0 = c.total_in();
            c.compress_vec(input, out, FlushCompress::Sync)
                .expect("deflate on memory cannot fail");
            input = &input[(c.total_in() - in0) as usize..];
            // Done when all input is taken and the flush fit (room was left over).
            if input.is_empty() && out.len() < out.capacity() {
                break;
            }
        }
        if out[start..].ends_with(&[0, 0, 0xff, 0xff]) {
            out.truncate(out.len() - 4);
        } else {
            // Nothing new to flush (empty input): RFC 7692 7.2.3.6 allows one 0x00 byte.
            out.push(0);
        }
        if self.params.client_no_context_takeover {
            c.reset();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> DeflateConfig {
        DeflateConfig {
            enabled: true,
            ..DeflateConfig::default()
        }
    }

    #[test]
    fn negotiation_accepts_valid_parameters() {
        let p = negotiate(
            &[b"permessage-deflate; server_no_context_takeover; client_max_window_bits=10"],
            Some(&cfg()),
        )
        .unwrap()
        .unwrap();
        assert!(p.server_no_context_takeover);
        assert_eq!(p.client_max_window_bits, 10);
        assert_eq!(p.server_max_window_bits, 15);
        assert_eq!(negotiate(&[], Some(&cfg())).unwrap(), None);
        let p = negotiate(
            &[b"permessage-deflate; server_max_window_bits=\"9\""],
            Some(&cfg()),
        )
        .unwrap()
        .unwrap();
        assert_eq!(p.server_max_window_bits, 9);
    }

    #[test]
    fn negotiation_rejects_invalid_parameters() {
        let bad: &[&[u8]] = &[
            b"permessage-deflate; client_max_window_bits=16",
            b"permessage-deflate; client_max_window_bits=7",
            b"permessage-deflate; client_max_window_bits",
            b"permessage-deflate; server_max_window_bits=08",
            b"permessage-deflate; server_no_context_takeover=1",
            b"permessage-deflate; foo",
            b"permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            b"permessage-deflate, permessage-deflate",
            b"x-webkit-deflate-frame",
        ];
        for v in bad {
            let e = negotiate(&[v], Some(&cfg())).unwrap_err();
            assert_eq!(
                e.kind(),
                ErrorKind::Extension,
                "{}",
                String::from_utf8_lossy(v)
            );
        }
        // Nothing offered: any extension is unrequested.
        assert!(negotiate(&[b"permessage-deflate"], None).is_err());
        let asked = DeflateConfig {
            server_max_window_bits: Some(10),
            ..cfg()
        };
        assert!(negotiate(
            &[b"permessage-deflate; server_max_window_bits=12"],
            Some(&asked)
        )
        .is_err());
        let limited = DeflateConfig {
            client_max_window_bits: 10,
            ..cfg()
        };
        assert!(negotiate(
            &[b"permessage-deflate; client_max_window_bits=12"],
            Some(&limited)
        )
        .is_err());
    }

    #[test]
    fn roundtrip_with_and_without_context_takeover() {
        for no_ctx in [false, true] {
            let p = DeflateParams {
                server_max_window_bits: 15,
                client_max_window_bits: 15,
                server_no_context_takeover: no_ctx,
                client_no_context_takeover: no_ctx,
            };
            let mut d = Deflater::new(p, &cfg());
            let mut i = Inflater::new(&p);
            for round in 0..3 {
                let msg = format!(
                    "{{\"player\":{round},\"x\":1.5,\"y\":2.5,\"name\":\"aaaaaaaaaaaaaaaaaaaa\"}}"
                )
                .repeat(20);
                let mut wire = Vec::new();
                d.compress(msg.as_bytes(), &mut wire);
                assert!(wire.len() < msg.len() / 3);
                let mut out = Vec::new();
                i.inflate(&wire, &mut out, 1 << 20).unwrap();
                i.finish(&mut out, 1 << 20).unwrap();
                assert_eq!(out, msg.as_bytes());
            }
        }
    }

    #[test]
    fn zip_bomb_is_bounded() {
        let p = DeflateParams {
            server_max_window_bits: 15,
            client_max_window_bits: 15,
            server_no_context_takeover: false,
            client_no_context_takeover: false,
        };
        let mut d = Deflater::new(p, &DeflateConfig { level: 9, ..cfg() });
        let mut wire = Vec::new();
        d.compress(&vec![0u8; 50 << 20], &mut wire);
        assert!(wire.len() < 100 << 10);
        let mut i = Inflater::new(&p);
        let mut out = Vec::new();
        let e = i.inflate(&wire, &mut out, 1 << 20).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::MessageTooBig);
        assert!(
            out.capacity() <= (2 << 20),
            "memory stays bounded: {}",
            out.capacity()
        );
    }
}
