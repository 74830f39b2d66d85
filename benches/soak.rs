//! Soak run: the heap under long mixed traffic stays flat (issue #19).
//!
//! `cargo bench --bench soak [-- SECONDS]` (default 600; BENCHMARKS.md records a run)
//!
//! One `ws://` client and a server written here exchange traffic in memory for the
//! given time: server messages of 0 B to 256 KiB (binary and text, some fragmented,
//! some compressed with permessage-deflate), pings, input in random chunk sizes
//! through `offer_input` and the input window, polling that sometimes pauses until
//! the queue bounds hold input back, echoes of what arrived, client pings, and output
//! drained a random part at a time (a socket that takes "some" each round). The
//! caller's clock advances 7 ms per round, so keepalive and the idle trim run. A
//! counting allocator samples the live heap once a second; the run reports the mean
//! of the first and the last minute (or tenth, for short runs) and their ratio.
#![allow(clippy::print_stdout)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

use flate2::{Compress, Compression, FlushCompress};
use wsmachine::{Client, Config, DeflateConfig, Poll};

#[path = "../tests/common/server.rs"]
mod server;
use server::answer;

struct Counting;
static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards to the system allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size() as isize, Relaxed);
        // SAFETY: the caller's contract.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size() as isize, Relaxed);
        // SAFETY: the caller's contract.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        LIVE.fetch_add(n as isize - l.size() as isize, Relaxed);
        // SAFETY: the caller's contract.
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> usize {
        (self.next() % n.max(1)) as usize
    }
}

fn frame(first: u8, payload: &[u8], out: &mut Vec<u8>) {
    out.push(first);
    if payload.len() < 126 {
        out.push(payload.len() as u8);
    } else if payload.len() <= 0xffff {
        out.push(126);
        out.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    } else {
        out.push(127);
        out.extend_from_slice(&(payload.len() as u64).to_be_bytes());
    }
    out.extend_from_slice(payload);
}

/// The largest character boundary of `s` at or below `n`.
fn floor(s: &str, n: usize) -> usize {
    (0..=n.min(s.len()))
        .rev()
        .find(|&c| s.is_char_boundary(c))
        .unwrap_or(0)
}

fn handshake(client: &mut Client, extra: &str) {
    let mut req = vec![0u8; 4096];
    let n = client.read_output(&mut req).unwrap();
    client.offer_input(&answer(&req[..n], extra)).unwrap();
}

fn main() {
    let secs: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(600);
    let mut config = Config::new();
    let mut limits = config.limits().clone();
    limits.max_queued_messages = 64;
    limits.max_queued_bytes = 1 << 20;
    limits.max_pending_output = 1 << 20;
    config.set_limits(limits).unwrap();
    config
        .set_deflate(DeflateConfig {
            enabled: true,
            ..DeflateConfig::default()
        })
        .unwrap();
    let mut client = Client::new(&config, "ws://127.0.0.1:9/soak").unwrap();
    handshake(
        &mut client,
        "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n",
    );

    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut z = Compress::new(Compression::fast(), false);
    let text = "soak € 𝄞 ".repeat(40_000);
    let binary: Vec<u8> = (0..(256u32 << 10)).map(|i| (i * 31 % 251) as u8).collect();
    let mut wire: Vec<u8> = Vec::with_capacity(1 << 20);
    let mut wire_off = 0usize;
    let mut zout = Vec::with_capacity(1 << 20);
    let mut sink = vec![0u8; 64 << 10];
    let (mut now, mut rounds, mut got, mut sent, mut refused) = (0u64, 0u64, 0u64, 0u64, 0u64);
    let mut paused_until = 0u64;

    let start = Instant::now();
    let mut samples: Vec<isize> = Vec::new();
    let mut next_sample = start + Duration::from_secs(1);
    while start.elapsed() < Duration::from_secs(secs) {
        rounds += 1;
        now += 7;
        // The server: a few frames when its backlog is small.
        if wire.len() - wire_off < 256 << 10 {
            if wire_off > 0 {
                wire.drain(..wire_off);
                wire_off = 0;
            }
            for _ in 0..rng.below(4) {
                let size = match rng.below(10) {
                    0..=5 => rng.below(200),
                    6..=8 => rng.below(16 << 10),
                    _ => rng.below(256 << 10),
                };
                match rng.below(8) {
                    0 => frame(0x89, &binary[..size.min(125)], &mut wire),
                    1 => {
                        // Text split into fragments with a ping between them.
                        // Fragments cut anywhere, even inside a character.
                        let s = &text.as_bytes()[..floor(&text, size)];
                        let cut = s.len().min(8);
                        frame(0x01, &s[..cut], &mut wire);
                        frame(0x89, b"mid", &mut wire);
                        frame(0x80, &s[cut..], &mut wire);
                    }
                    2 | 3 => {
                        zout.clear();
                        z.reset();
                        z.compress_vec(&binary[..size], &mut zout, FlushCompress::Sync)
                            .unwrap();
                        zout.truncate(zout.len() - 4);
                        frame(0xc2, &zout, &mut wire);
                    }
                    _ => frame(0x82, &binary[..size], &mut wire),
                }
            }
        }
        // The socket delivers a random amount; sometimes through the input window.
        let chunk = (1 + rng.below(32 << 10)).min(wire.len() - wire_off);
        if chunk > 0 {
            if rng.below(2) == 0 {
                let w = client.input_window().unwrap();
                let n = w.len().min(chunk);
                if n > 0 {
                    // (An empty window: the queue is at its bounds.)
                    w[..n].copy_from_slice(&wire[wire_off..wire_off + n]);
                    client.commit_input(n).unwrap();
                    wire_off += n;
                }
            } else {
                wire_off += client
                    .offer_input(&wire[wire_off..wire_off + chunk])
                    .unwrap();
            }
        }
        // The application polls, except during pauses; it echoes some messages.
        if now >= paused_until {
            if rng.below(500) == 0 {
                paused_until = now + 200;
            }
            let mut echo: Option<(bool, usize)> = None;
            while let Poll::Message(m) = client.poll_message().unwrap() {
                got += 1;
                if m.data.len() < 64 << 10 && rng.below(3) == 0 {
                    echo = Some((m.kind == wsmachine::MessageKind::Text, m.data.len()));
                }
            }
            if let Some((is_text, len)) = echo {
                let r = if is_text {
                    client.send_text(&text.as_bytes()[..floor(&text, len)])
                } else {
                    client.send_binary(&binary[..len])
                };
                match r {
                    Ok(()) => sent += 1,
                    Err(_) => refused += 1,
                }
            }
            if rng.below(50) == 0 {
                let _ = client.send_ping(b"soak");
            }
        }
        // The socket takes a random part of the pending output.
        let pending = client.pending_output();
        let take = rng.below(pending as u64 + 1);
        let mut left = take;
        while left > 0 {
            let n = client.read_output(&mut sink[..left.min(64 << 10)]).unwrap();
            if n == 0 {
                break;
            }
            left -= n;
        }
        client.tick(now).unwrap();
        if Instant::now() >= next_sample {
            samples.push(LIVE.load(Relaxed));
            next_sample += Duration::from_secs(1);
        }
    }
    let window = (samples.len() / 10).clamp(1, 60);
    let mean = |s: &[isize]| s.iter().sum::<isize>() as f64 / s.len().max(1) as f64;
    let first = mean(&samples[..window.min(samples.len())]);
    let last = mean(&samples[samples.len().saturating_sub(window)..]);
    let max = samples.iter().copied().max().unwrap_or(0);
    println!(
        "soak: {secs} s, {rounds} rounds, {got} messages received, {sent} sent ({refused} refused: output full)"
    );
    println!(
        "heap (live bytes, sampled every second, {} samples): first {window} s mean {:.0}, last {window} s mean {:.0}, ratio {:.4}, max {max}",
        samples.len(),
        first,
        last,
        last / first
    );
}
