//! Echo throughput, one-direction throughput and AEAD-alone throughput, in memory.
//!
//! `cargo bench --bench throughput` prints three tables (the reference and the server are
//! tungstenite 0.30, the newest release, the crate's own dependency):
//! 1. Echo round trips (client sends one binary message, the tungstenite server echoes
//!    it, the client receives it) for 16 B, 1 KiB, 64 KiB and 1 MiB over ws, wss with
//!    AES-128-GCM and wss with ChaCha20-Poly1305, for wsmachine through its C ABI and
//!    for the reference (tungstenite client over rustls `StreamOwned`) with the default
//!    config and with `read_buffer_size(4096)`. The server is the same for all.
//! 2. 1 MiB one direction (client to server, server to client).
//! 3. AES-128-GCM / ChaCha20-Poly1305 alone: ring `seal_in_place`/`open_in_place` over
//!    16 KiB records, and a rustls client/server pair with no WebSocket.
//! 4. Copies alone: 16 KiB copied with one `copy_from_slice` (glibc's `memcpy`) and in
//!    2 KiB pieces (what the library does on AMD CPUs), at several distances from source to
//!    destination modulo 4 KiB.
//!
//! Options: `--reps N` (default 11), `--quick` (3 reps, fewer messages),
//! `--transport ws|wss-aes128gcm|wss-chacha20`, `--sizes 16,1024`, `--count N` (round
//! trips per repetition), `--only wsm|ref|ref4k` (measure one implementation), and the
//! profiling mode `--profile --transport T --sizes N --impl wsm|wsm-copy|ref|ref4k
//! --count N`, which runs one cell with no repetitions (for callgrind or perf). The
//! environment variable `WSBENCH_IO_BUF` changes the wsmachine caller's socket buffer
//! (default 64 KiB).
//!
//! Every block of 2 KiB or more is placed at a pseudo-random (seeded) 16-byte step
//! within a page by the bench's global allocator ([`Scatter`]), so that whether a large
//! copy falls in glibc's `rep movsb` cliff is drawn per block rather than fixed for the
//! whole process by its allocation history; `WSBENCH_PLACEMENT=native` turns that off.
#![allow(clippy::print_stdout)]

mod support;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use ring::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey};
use rustls::{ClientConnection, ServerConnection};
use support::*;

/// Blocks of 2 KiB and more at scattered places (see [`Scatter`]);
/// `WSBENCH_PLACEMENT=native` keeps the allocator's own placement.
#[global_allocator]
static A: Scatter = Scatter;

const SIZES: [usize; 4] = [16, 1 << 10, 64 << 10, 1 << 20];
const MIB: f64 = (1 << 20) as f64;

/// Round trips per measured repetition: about 32 MiB of payload, 6 to 30,000 messages
/// (roughly 10-70 ms each; shorter repetitions of small messages were noisy).
fn count_for(size: usize, quick: bool) -> usize {
    let n = ((32 << 20) / size).clamp(6, 30_000);
    if quick {
        (n / 4).max(4)
    } else {
        n
    }
}

struct Cell {
    /// Round trips per CPU second, per repetition.
    rate: Vec<f64>,
    /// Client-side time per round trip (median round trip of the repetition), in
    /// microseconds, per repetition.
    client_us: Vec<f64>,
    /// Minor page faults per round trip, per repetition.
    faults: Vec<f64>,
}

fn main() {
    let env = Env::new();
    let quick = flag("--quick");
    let reps: usize = arg("--reps")
        .and_then(|s| s.parse().ok())
        .unwrap_or(if quick { 3 } else { 11 });
    let transports: Vec<Transport> = match arg("--transport") {
        Some(t) => vec![Transport::parse(&t).expect("unknown transport")],
        None => vec![
            Transport::Wss(Suite::Aes128Gcm),
            Transport::Wss(Suite::ChaCha20),
            Transport::Ws,
        ],
    };
    let sizes: Vec<usize> = match arg("--sizes") {
        Some(s) => s.split(',').map(|x| x.parse().unwrap()).collect(),
        None => SIZES.to_vec(),
    };

    if flag("--profile") {
        profile(&env, transports[0], &sizes);
        return;
    }

    println!(
        "# Echo round trips (in memory, one process; median of {reps} interleaved repetitions)"
    );
    println!("# rt/s = round trips per CPU second (client + server, thread CPU time);");
    println!("# MiB/s = payload MiB echoed per CPU second; cl = wall us inside client calls");
    println!("# (median round trip); a/b = wsm rt/s / ref rt/s; cl a/b = ref cl / wsm cl;");
    println!("# ratios are medians of per-repetition ratios; > 1 means wsmachine is faster;");
    println!("# flt = minor page faults per round trip (wsm / ref4k)");
    println!(
        "# placement of blocks >= 2 KiB: {} (WSBENCH_PLACEMENT=native for the allocator's own)",
        placement_name()
    );
    println!(
        "{:<14} {:>7} | {:>8} {:>8} {:>8} | {:>7} {:>7} {:>7} | {:>7} {:>7} {:>7} | {:>5} {:>5} | {:>6} {:>6} | {:>5} {:>5}",
        "transport", "size", "wsm rt/s", "ref", "ref4k", "wsm MiB", "ref", "ref4k", "wsm cl", "ref cl", "ref4k", "a/b", "a/b4k", "cl a/b", "cl 4k", "flt", "flt4k"
    );
    for &t in &transports {
        for &size in &sizes {
            let cells = echo_cells(&env, t, size, reps, quick);
            let rate: Vec<f64> = cells.iter().map(|c| median(&mut c.rate.clone())).collect();
            let flt: Vec<f64> = cells
                .iter()
                .map(|c| median(&mut c.faults.clone()))
                .collect();
            let cus: Vec<f64> = cells
                .iter()
                .map(|c| median(&mut c.client_us.clone()))
                .collect();
            let ratio = |a: &[f64], b: &[f64], inv: bool| {
                let mut r: Vec<f64> = a
                    .iter()
                    .zip(b)
                    .map(|(x, y)| if inv { y / x } else { x / y })
                    .collect();
                median(&mut r)
            };
            let mib = |r: f64| r * size as f64 / MIB;
            println!(
                "{:<14} {:>7} | {:>8.0} {:>8.0} {:>8.0} | {:>7.1} {:>7.1} {:>7.1} | {:>7.2} {:>7.2} {:>7.2} | {:>5.2} {:>5.2} | {:>6.2} {:>6.2} | {:>5.0} {:>5.0}",
                t.name(),
                size_name(size),
                rate[0],
                rate[1],
                rate[2],
                mib(rate[0]),
                mib(rate[1]),
                mib(rate[2]),
                cus[0],
                cus[1],
                cus[2],
                ratio(&cells[0].rate, &cells[1].rate, false),
                ratio(&cells[0].rate, &cells[2].rate, false),
                ratio(&cells[0].client_us, &cells[1].client_us, true),
                ratio(&cells[0].client_us, &cells[2].client_us, true),
                flt[0],
                flt[2],
            );
        }
    }

    println!();
    one_direction(&env, &transports, reps, quick);
    println!();
    aead_alone(reps);
    println!();
    copies_alone(reps);
}

/// Measures one (transport, size) for the three implementations, interleaved. Each
/// repetition connects a fresh pair, warms it up, measures it and drops it, so that
/// only one connection is alive at a time (as in a game client) and no pair's
/// buffers sit in the heap or the caches while another is measured.
fn echo_cells(env: &Env, t: Transport, size: usize, reps: usize, quick: bool) -> Vec<Cell> {
    let impls = [Impl::Wsm(Poll::Borrow), Impl::RefDefault, Impl::Ref4096];
    let only = arg("--only").map(|s| Impl::parse(&s).expect("unknown impl"));
    let msg = payload(size);
    let n = arg("--count")
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| count_for(size, quick));
    let mut cells: Vec<Cell> = impls
        .iter()
        .map(|_| Cell {
            rate: Vec::new(),
            client_us: Vec::new(),
            faults: Vec::new(),
        })
        .collect();
    for rep in 0..reps {
        for k in 0..impls.len() {
            let i = (rep + k) % impls.len();
            if only.is_some_and(|o| o != impls[i]) {
                cells[i].rate.push(f64::NAN);
                cells[i].client_us.push(f64::NAN);
                cells[i].faults.push(f64::NAN);
                continue;
            }
            let (mut c, mut s) = env.connect(t, impls[i]);
            // Warm-up: buffers reach their steady size, caches and predictors settle.
            for _ in 0..(n / 4).max(3) {
                round_trip(c.as_mut(), &mut s, &msg);
            }
            let mut client = Vec::with_capacity(n);
            let f0 = minor_faults();
            let t0 = cpu_time();
            for _ in 0..n {
                client.push(round_trip(c.as_mut(), &mut s, &msg).as_secs_f64() * 1e6);
            }
            let total = cpu_time() - t0;
            let faults = minor_faults() - f0;
            cells[i].rate.push(n as f64 / total.as_secs_f64());
            // The median round trip: a wall-clock sum would count the time this thread
            // spent preempted on the shared machine.
            cells[i].client_us.push(median(&mut client));
            cells[i].faults.push(faults as f64 / n as f64);
        }
    }
    cells
}

/// Runs one cell for a fixed count, for a profiler.
fn profile(env: &Env, t: Transport, sizes: &[usize]) {
    let imp = Impl::parse(&arg("--impl").unwrap_or_else(|| "wsm".into())).expect("unknown impl");
    let size = sizes[0];
    let count: usize = arg("--count").and_then(|s| s.parse().ok()).unwrap_or(1000);
    let msg = payload(size);
    let (mut c, mut s) = env.connect(t, imp);
    for _ in 0..10 {
        round_trip(c.as_mut(), &mut s, &msg);
    }
    let t0 = Instant::now();
    let c0 = cpu_time();
    for _ in 0..count {
        round_trip(c.as_mut(), &mut s, &msg);
    }
    let cpu = cpu_time() - c0;
    let el = t0.elapsed();
    println!(
        "profile {} {} {}: {count} round trips in {:.3} s wall, {:.3} s CPU ({:.0} rt per CPU s)",
        t.name(),
        size_name(size),
        imp.name(),
        el.as_secs_f64(),
        cpu.as_secs_f64(),
        count as f64 / cpu.as_secs_f64()
    );
}

/// 1 MiB messages in one direction: client to server, and server to client.
fn one_direction(env: &Env, transports: &[Transport], reps: usize, quick: bool) {
    let size = 1 << 20;
    let msg = payload(size);
    let n = if quick { 4 } else { 8 };
    println!("# 1 MiB messages, one direction (median of {reps}); MiB/s of payload");
    println!("# total = client and server CPU time; cli = CPU time inside client calls only");
    println!("# flt = minor page faults per message (send + receive), client and server");
    println!(
        "{:<14} {:<20} | {:>10} {:>10} | {:>10} {:>10} | {:>6}",
        "transport", "client", "c->s total", "c->s cli", "s->c total", "s->c cli", "flt"
    );
    let impls = [Impl::Wsm(Poll::Borrow), Impl::RefDefault, Impl::Ref4096];
    for &t in transports {
        // [impl][c2s total, c2s client, s2c total, s2c client, faults per message]
        let mut res = vec![vec![Vec::new(); 5]; impls.len()];
        for rep in 0..reps {
            for k in 0..impls.len() {
                let i = (rep + k) % impls.len();
                let (mut c, mut s) = env.connect(t, impls[i]);
                s.echo = false;
                // Warm-up, as in the echo benchmark.
                for _ in 0..3 {
                    c.send(&msg);
                    s.step();
                    s.send(&msg);
                    assert_eq!(c.recv(size), 1);
                }
                let (mut c2s_cli, mut c2s_tot) = (Duration::ZERO, Duration::ZERO);
                let (mut s2c_cli, mut s2c_tot) = (Duration::ZERO, Duration::ZERO);
                let f0 = minor_faults();
                for _ in 0..n {
                    let before = s.received_count;
                    let t0 = cpu_time();
                    c.send(&msg);
                    c2s_cli += cpu_time() - t0;
                    s.step();
                    c2s_tot += cpu_time() - t0;
                    assert_eq!(s.received_count, before + 1);

                    let t0 = cpu_time();
                    s.send(&msg);
                    let t1 = cpu_time();
                    let got = c.recv(size);
                    s2c_cli += cpu_time() - t1;
                    s2c_tot += cpu_time() - t0;
                    assert_eq!(got, 1);
                }
                let faults = (minor_faults() - f0) as f64 / (2 * n) as f64;
                res[i][4].push(faults);
                let mibs = |d: Duration| n as f64 * size as f64 / MIB / d.as_secs_f64();
                for (j, d) in [c2s_tot, c2s_cli, s2c_tot, s2c_cli].into_iter().enumerate() {
                    res[i][j].push(mibs(d));
                }
            }
        }
        for i in 0..impls.len() {
            let m: Vec<f64> = res[i].iter_mut().map(|v| median(v)).collect();
            println!(
                "{:<14} {:<20} | {:>10.1} {:>10.1} | {:>10.1} {:>10.1} | {:>6.0}",
                t.name(),
                impls[i].name(),
                m[0],
                m[1],
                m[2],
                m[3],
                m[4]
            );
        }
    }
}

/// AEAD alone: ring over 16 KiB records, and a rustls pair without WebSocket.
fn aead_alone(reps: usize) {
    let size = 1 << 20;
    println!("# AEAD alone, 1 MiB (median of {reps}); MiB/s");
    println!(
        "{:<18} | {:>10} {:>10} {:>12} | {:>10} {:>10} {:>12}",
        "suite", "ring seal", "ring open", "ring s+o", "rustls enc", "rustls dec", "rustls e+d"
    );
    let pki = Pki::new();
    for (name, alg, suite) in [
        ("AES-128-GCM", &aead::AES_128_GCM, Suite::Aes128Gcm),
        (
            "ChaCha20-Poly1305",
            &aead::CHACHA20_POLY1305,
            Suite::ChaCha20,
        ),
    ] {
        let (mut seal, mut open) = (Vec::new(), Vec::new());
        let (mut enc, mut dec) = (Vec::new(), Vec::new());
        let mut pair = RustlsPair::new(&pki, suite);
        let data = payload(size).to_vec();
        for rep in 0..reps + 1 {
            let (s, o) = ring_once(alg, size);
            let (e, d) = pair.once(&data);
            if rep > 0 {
                seal.push(size as f64 / MIB / s.as_secs_f64());
                open.push(size as f64 / MIB / o.as_secs_f64());
                enc.push(size as f64 / MIB / e.as_secs_f64());
                dec.push(size as f64 / MIB / d.as_secs_f64());
            }
        }
        let (s, o) = (median(&mut seal), median(&mut open));
        let (e, d) = (median(&mut enc), median(&mut dec));
        println!(
            "{:<18} | {:>10.1} {:>10.1} {:>12.1} | {:>10.1} {:>10.1} {:>12.1}",
            name,
            s,
            o,
            1.0 / (1.0 / s + 1.0 / o),
            e,
            d,
            1.0 / (1.0 / e + 1.0 / d)
        );
    }
    println!("# s+o and e+d: one direction's crypto (sender encrypts, receiver decrypts)");
}

/// Seals then opens `size` bytes in 16 KiB records; returns (seal, open) times.
fn ring_once(alg: &'static aead::Algorithm, size: usize) -> (Duration, Duration) {
    const REC: usize = 16 << 10;
    let key = LessSafeKey::new(UnboundKey::new(alg, &[7u8; 32][..alg.key_len()]).unwrap());
    let nonce = |i: usize| {
        let mut n = [0u8; 12];
        n[4..].copy_from_slice(&(i as u64).to_be_bytes());
        Nonce::assume_unique_for_key(n)
    };
    let mut recs: Vec<Vec<u8>> = (0..size / REC)
        .map(|_| {
            let mut v = vec![0x5a; REC + 16];
            v.truncate(REC);
            v
        })
        .collect();
    let t0 = cpu_time();
    for (i, r) in recs.iter_mut().enumerate() {
        let tag = key
            .seal_in_place_separate_tag(nonce(i), Aad::empty(), r)
            .unwrap();
        r.extend_from_slice(tag.as_ref());
    }
    let seal = cpu_time() - t0;
    let t0 = cpu_time();
    for (i, r) in recs.iter_mut().enumerate() {
        let plain = key.open_in_place(nonce(i), Aad::empty(), r).unwrap();
        assert_eq!(plain.len(), REC);
    }
    (seal, (cpu_time() - t0))
}

/// A rustls client and server joined by byte vectors, with no WebSocket.
struct RustlsPair {
    client: ClientConnection,
    server: ServerConnection,
    wire: Vec<u8>,
    out: Vec<u8>,
}

impl RustlsPair {
    fn new(pki: &Pki, suite: Suite) -> RustlsPair {
        let ccfg = reference_client_config(pki);
        let scfg = server_config(pki, suite, false);
        let mut client = ClientConnection::new(ccfg, "localhost".try_into().unwrap()).unwrap();
        let mut server = ServerConnection::new(scfg).unwrap();
        client.set_buffer_limit(None);
        let mut wire = Vec::new();
        while client.is_handshaking() || server.is_handshaking() {
            wire.clear();
            while client.wants_write() {
                client.write_tls(&mut wire).unwrap();
            }
            let mut rd = &wire[..];
            while !rd.is_empty() {
                server.read_tls(&mut rd).unwrap();
                server.process_new_packets().unwrap();
            }
            wire.clear();
            while server.wants_write() {
                server.write_tls(&mut wire).unwrap();
            }
            let mut rd = &wire[..];
            while !rd.is_empty() {
                client.read_tls(&mut rd).unwrap();
                client.process_new_packets().unwrap();
            }
        }
        RustlsPair {
            client,
            server,
            wire,
            out: vec![0; 64 << 10],
        }
    }

    /// Client encrypts `data`, server decrypts it; returns (encrypt, decrypt) times.
    fn once(&mut self, data: &[u8]) -> (Duration, Duration) {
        self.wire.clear();
        let t0 = cpu_time();
        self.client.writer().write_all(data).unwrap();
        while self.client.wants_write() {
            self.client.write_tls(&mut self.wire).unwrap();
        }
        let enc = cpu_time() - t0;
        let t0 = cpu_time();
        let mut rd = &self.wire[..];
        let mut got = 0;
        while !rd.is_empty() {
            self.server.read_tls(&mut rd).unwrap();
            self.server.process_new_packets().unwrap();
            loop {
                match self.server.reader().read(&mut self.out) {
                    Ok(0) => break,
                    Ok(n) => got += n,
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(e) => panic!("{e}"),
                }
            }
        }
        let dec = cpu_time() - t0;
        assert_eq!(got, data.len());
        (enc, dec)
    }
}

/// 16 KiB copies alone: one `memcpy` against 2 KiB pieces (the library's
/// `bytes::copy` on AMD CPUs), by the distance from source to destination modulo 4 KiB. On
/// AMD Zen with glibc's `rep movsb` path, distances of 1-31 bytes are the slow case the
/// pieces avoid; large buffers from the allocator start at the same offset in a page,
/// so copies between them land there whenever a header shifts one by a few bytes.
fn copies_alone(reps: usize) {
    const N: usize = 16 << 10;
    const PIECE: usize = 2 << 10;
    println!("# Copies alone, 16 KiB (median of {reps}); GB/s");
    println!("# distance = (destination - source) modulo 4096, in bytes");
    let src = vec![0x5au8; N + 8192];
    let mut dst = vec![0u8; N + 8192];
    let s0 = src.as_ptr().align_offset(4096);
    let d0 = dst.as_ptr().align_offset(4096);
    println!("{:<18} | {:>8} {:>8}", "distance", "one", "pieces");
    for distance in [0usize, 5, 16, 31, 32, 64, 1040] {
        let s = &src[s0..s0 + N];
        let mut rate = |pieces: bool| {
            let mut r: Vec<f64> = (0..reps)
                .map(|_| {
                    let d = &mut dst[d0 + distance..d0 + distance + N];
                    let rounds = 20_000;
                    let t = Instant::now();
                    for _ in 0..rounds {
                        if pieces {
                            for (d, s) in d.chunks_mut(PIECE).zip(s.chunks(PIECE)) {
                                d.copy_from_slice(std::hint::black_box(s));
                            }
                        } else {
                            d.copy_from_slice(std::hint::black_box(s));
                        }
                        std::hint::black_box(&mut *d);
                    }
                    (N * rounds) as f64 / t.elapsed().as_secs_f64() / 1e9
                })
                .collect();
            median(&mut r)
        };
        let one = rate(false);
        let pieces = rate(true);
        println!("{:<18} | {:>8.1} {:>8.1}", distance, one, pieces);
    }
}
