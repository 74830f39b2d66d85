//! Large copies of bytes, made in pieces on AMD CPUs.
//!
//! glibc's `memcpy` (Debian 12's 2.36, for one) copies 2,112 bytes to 512 KiB with
//! `rep movsb` on x86 CPUs that report fast short `rep mov` (FSRM). On the AMD EPYC
//! CPU the benchmarks ran on, that instruction drops from 40-80 GB/s to about 2 GB/s
//! whenever the destination is 1 to 31 bytes ahead of the source modulo 4 KiB (glibc
//! bug 30994, "REP MOVSB performance suffers from page aliasing on Zen 4"). Large
//! buffers from the allocator start at the same offset in a page, so a copy between
//! them lands there whenever a header (a TLS record's, a frame's) shifts one by a few
//! bytes: a 16 KiB record copied that way costs 8 µs instead of 0.3. Below the
//! threshold glibc copies with a vector loop that runs at full speed at every distance,
//! so on AMD CPUs the copies the library makes of more than [`PIECE`] bytes (received
//! records into rustls, plaintext into the message buffer, records into the output
//! buffer or the caller's, output and messages into the caller's buffer) go in pieces
//! of that size. Intel CPUs have no such cliff (an Intel Xeon measured 96-144 GB/s at
//! every distance), and there the pieces cost about 15% of a copy's speed, so
//! elsewhere a copy stays one `memcpy`.
//! BENCHMARKS.md has the measurements (`cargo bench --bench throughput`, "Copies
//! alone").

use std::io::{IoSlice, Read, Write};

/// The size of the pieces: below glibc's smallest `rep movsb` threshold (2,112 bytes
/// with FSRM, 4,096 or more without).
pub(crate) const PIECE: usize = 2 << 10;

/// Whether copies are made in pieces: on x86 CPUs whose vendor is AMD (or Hygon, which
/// builds AMD's Zen cores), found once with `cpuid` and kept.
#[inline]
fn in_pieces() -> bool {
    #[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
    {
        use std::sync::atomic::{AtomicU8, Ordering::Relaxed};
        // 0: not known yet, 1: in pieces, 2: whole.
        static IN_PIECES: AtomicU8 = AtomicU8::new(0);
        match IN_PIECES.load(Relaxed) {
            1 => true,
            2 => false,
            _ => {
                let amd = cpu_is_amd();
                IN_PIECES.store(if amd { 1 } else { 2 }, Relaxed);
                amd
            }
        }
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "x86")))]
    {
        false
    }
}

/// The CPU's vendor string (`cpuid` leaf 0) is AMD's or Hygon's.
#[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
fn cpu_is_amd() -> bool {
    #[cfg(target_arch = "x86")]
    use std::arch::x86::__cpuid;
    #[cfg(target_arch = "x86_64")]
    use std::arch::x86_64::__cpuid;
    // SAFETY: every CPU Rust's x86 targets run on has `cpuid` (the function is safe in
    // newer Rust, hence the allow).
    #[allow(unused_unsafe)]
    let leaf = unsafe { __cpuid(0) };
    let mut vendor = [0u8; 12];
    vendor[..4].copy_from_slice(&leaf.ebx.to_le_bytes());
    vendor[4..8].copy_from_slice(&leaf.edx.to_le_bytes());
    vendor[8..].copy_from_slice(&leaf.ecx.to_le_bytes());
    &vendor == b"AuthenticAMD" || &vendor == b"HygonGenuine"
}

/// Copies `src` into `dst`, which has the same length.
#[inline]
pub(crate) fn copy(dst: &mut [u8], src: &[u8]) {
    if src.len() > PIECE && in_pieces() {
        copy_in_pieces(dst, src);
    } else {
        dst.copy_from_slice(src);
    }
}

fn copy_in_pieces(dst: &mut [u8], src: &[u8]) {
    assert_eq!(
        dst.len(),
        src.len(),
        "copy between slices of different lengths"
    );
    for (d, s) in dst.chunks_mut(PIECE).zip(src.chunks(PIECE)) {
        d.copy_from_slice(s);
    }
}

/// Appends `src` to `v`.
#[inline]
pub(crate) fn extend(v: &mut Vec<u8>, src: &[u8]) {
    if src.len() > PIECE && in_pieces() {
        extend_in_pieces(v, src);
    } else {
        v.extend_from_slice(src);
    }
}

fn extend_in_pieces(v: &mut Vec<u8>, src: &[u8]) {
    v.reserve(src.len());
    for s in src.chunks(PIECE) {
        v.extend_from_slice(s);
    }
}

/// Bytes to read from, front to back, copied with [`copy`]: what `read_tls` takes the
/// caller's input from.
#[derive(Debug)]
pub(crate) struct Source<'a>(pub(crate) &'a [u8]);

impl Read for Source<'_> {
    #[inline]
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.0.len());
        let (head, rest) = self.0.split_at(n);
        copy(&mut buf[..n], head);
        self.0 = rest;
        Ok(n)
    }
}

/// Room to write into, front to back, filled with [`copy`]: where `write_tls` puts
/// records for the caller's buffer. Writes take what fits; a full sink takes 0.
#[derive(Debug)]
pub(crate) struct Sink<'a>(pub(crate) &'a mut [u8]);

impl Write for Sink<'_> {
    #[inline]
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let n = bytes.len().min(self.0.len());
        let (head, rest) = std::mem::take(&mut self.0).split_at_mut(n);
        copy(head, &bytes[..n]);
        self.0 = rest;
        Ok(n)
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> std::io::Result<usize> {
        let mut total = 0;
        for b in bufs {
            let n = self.write(b)?;
            total += n;
            if n < b.len() {
                break;
            }
        }
        Ok(total)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 7 + i / 251) as u8).collect()
    }

    #[test]
    fn copies_and_appends_every_size_at_every_offset() {
        let src = pattern(3 * PIECE + 77);
        for len in [0, 1, PIECE - 1, PIECE, PIECE + 1, 2 * PIECE, 3 * PIECE + 13] {
            for off in [0, 1, 31, 33, 63] {
                let s = &src[off..off + len];
                // What this CPU uses, and the pieces whatever the CPU.
                for (name, copy, extend) in [
                    (
                        "",
                        copy as fn(&mut [u8], &[u8]),
                        extend as fn(&mut Vec<u8>, &[u8]),
                    ),
                    (" in pieces", copy_in_pieces, extend_in_pieces),
                ] {
                    let mut dst = vec![0u8; len + 64];
                    copy(&mut dst[off..off + len], s);
                    assert_eq!(&dst[off..off + len], s, "copy{name} len {len} off {off}");
                    let mut v = b"head".to_vec();
                    extend(&mut v, s);
                    assert_eq!(&v[..4], b"head");
                    assert_eq!(&v[4..], s, "extend{name} len {len} off {off}");
                }
            }
        }
    }

    /// The vendor `cpuid` reports is the one Linux reports.
    #[cfg(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "x86")))]
    #[test]
    fn copies_go_in_pieces_on_amd_cpus_only() {
        let info = std::fs::read_to_string("/proc/cpuinfo").expect("/proc/cpuinfo");
        let vendor = info
            .lines()
            .find_map(|l| l.strip_prefix("vendor_id"))
            .and_then(|l| l.split(':').nth(1))
            .expect("vendor_id in /proc/cpuinfo")
            .trim();
        let amd = vendor == "AuthenticAMD" || vendor == "HygonGenuine";
        assert_eq!(cpu_is_amd(), amd, "vendor {vendor}");
        assert_eq!(in_pieces(), amd, "vendor {vendor}");
        assert_eq!(in_pieces(), amd, "kept");
    }

    #[test]
    fn a_large_copy_between_different_lengths_panics_like_copy_from_slice() {
        let src = pattern(PIECE * 2);
        // What this CPU uses, and the pieces whatever the CPU.
        for copy in [copy as fn(&mut [u8], &[u8]), copy_in_pieces] {
            let mut dst = vec![0u8; PIECE * 2 - 1];
            let panic =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| copy(&mut dst, &src)))
                    .expect_err("a copy between slices of different lengths panics");
            let text = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            assert!(text.contains("length"), "{text}");
        }
    }

    #[test]
    fn a_source_reads_front_to_back_in_any_sizes() {
        let src = pattern(5 * PIECE + 3);
        let mut from = Source(&src);
        let mut got = Vec::new();
        for size in [1, PIECE + 1, 3 * PIECE, 7, 100_000] {
            let mut buf = vec![0u8; size];
            let n = from.read(&mut buf).expect("in memory");
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(got, src);
        assert_eq!(from.read(&mut [0u8; 8]).expect("in memory"), 0);
    }

    #[test]
    fn a_sink_fills_front_to_back_and_then_takes_nothing() {
        let src = pattern(4 * PIECE + 9);
        let mut room = vec![0u8; 3 * PIECE + 5];
        let mut sink = Sink(&mut room);
        let (a, rest) = src.split_at(PIECE + 1);
        let (b, c) = rest.split_at(7);
        assert_eq!(sink.write(a).expect("in memory"), a.len());
        let bufs = [IoSlice::new(b), IoSlice::new(c)];
        assert_eq!(
            sink.write_vectored(&bufs).expect("in memory"),
            3 * PIECE + 5 - a.len()
        );
        assert_eq!(sink.write(b"more").expect("in memory"), 0);
        assert_eq!(room, src[..3 * PIECE + 5]);
    }
}
