//! Memory per idle open client, measured with a counting global allocator.
//!
//! `cargo bench --bench memory [-- --quick]`
//!
//! For each scenario, N clients are created through the C ABI, each handshakes with
//! its own in-memory tungstenite server, exchanges a few echo messages, and is then
//! left open and idle (its server and the bench's socket buffers are dropped; only the
//! `ws_client` handle stays). Heap bytes live before and after, divided by N, are the
//! per-client heap (it includes the handle table's share). Resident set size (RSS) is
//! reported too; it also holds allocator slack and fragmentation.
#![allow(clippy::print_stdout)]

mod support;

use std::sync::atomic::Ordering::Relaxed;

use support::*;
use wsmachine::ffi::*;

#[global_allocator]
static ALLOC: Counting = Counting;

/// How far each client gets before it is left idle.
#[derive(Clone, Copy)]
enum Stage {
    /// `ws_client_new` only (ClientHello queued).
    Created,
    /// Handshake done, no message.
    Open,
    /// Handshake done, then `count` echo round trips of `size` bytes.
    Messages { count: usize, size: usize },
    /// As `Messages`, then idle: `ws_client_trim` (what `ws_client_tick` does after a
    /// second without traffic).
    Trimmed { count: usize, size: usize },
}

impl Stage {
    fn label(self) -> String {
        match self {
            Stage::Created => "created, not connected".into(),
            Stage::Open => "open, no message".into(),
            Stage::Messages { count, size } => {
                format!("open, {count} x {} echoed", size_name(size))
            }
            Stage::Trimmed { count, size } => {
                format!("... {count} x {}, then idle", size_name(size))
            }
        }
    }
}

/// Returns (heap bytes per client, RSS bytes per client).
fn measure(env: &Env, t: Transport, stage: Stage, n: usize) -> (f64, f64) {
    let live = || LIVE.load(Relaxed);
    let heap0 = live();
    let rss0 = rss_bytes();
    let mut handles = Vec::with_capacity(n);
    let handles_cap = n * std::mem::size_of::<ws_client>();
    for _ in 0..n {
        let (cp, sp) = bench_pipe();
        let mut c = WsmClient::new(env.wsm_cfg, t != Transport::Ws, cp, Poll::Borrow);
        if let Stage::Created = stage {
            handles.push(c.into_handle());
            continue;
        }
        let mut s = bench_server(env.server_tls(t), sp);
        handshake(&mut c, &mut s);
        if let Stage::Messages { count, size } | Stage::Trimmed { count, size } = stage {
            let msg = payload(size);
            for _ in 0..count {
                round_trip(&mut c, &mut s, &msg);
            }
        }
        drop(s);
        let h = c.into_handle();
        if let Stage::Trimmed { .. } = stage {
            check(ws_client_trim(h));
        }
        handles.push(h);
    }
    let heap = (live() - heap0) as f64 - handles_cap as f64;
    let rss = rss_bytes() as f64 - rss0 as f64;
    for h in handles {
        ws_client_free(h);
    }
    (heap / n as f64, rss / n as f64)
}

const STAGES: [Stage; 6] = [
    Stage::Created,
    Stage::Open,
    Stage::Messages { count: 3, size: 16 },
    Stage::Messages {
        count: 3,
        size: 1024,
    },
    Stage::Messages {
        count: 1,
        size: 64 << 10,
    },
    Stage::Trimmed {
        count: 1,
        size: 64 << 10,
    },
];

/// Runs one scenario in this (fresh) process and prints its result.
fn child(t: Transport, stage: Stage, n: usize) {
    let env = Env::new_without_resumption();
    // Warm up: the handle table, lazies, the rustls config, allocator arenas.
    let _ = measure(&env, t, stage, 10);
    let (heap, rss) = measure(&env, t, stage, n);
    println!("RESULT {heap} {rss}");
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        let t = Transport::parse(&args[i + 1]).unwrap();
        let stage = STAGES[args[i + 2].parse::<usize>().unwrap()];
        let n = args[i + 3].parse().unwrap();
        child(t, stage, n);
        return;
    }
    let quick = flag("--quick");
    println!("# Memory per idle open client (C ABI; counting global allocator)");
    println!("# each row runs in a fresh process; heap = live heap bytes / clients (includes the");
    println!("# handle table); RSS = resident set growth / clients (includes allocator slack)");
    println!(
        "# sizes of the core structs: Client {} B, rustls::client::UnbufferedClientConnection {} B",
        std::mem::size_of::<wsmachine::Client>(),
        std::mem::size_of::<rustls::client::UnbufferedClientConnection>()
    );
    println!(
        "{:<14} {:<26} {:>7} | {:>10} {:>10}",
        "transport", "stage", "clients", "heap/cl B", "RSS/cl B"
    );
    let big = if quick { 2_000 } else { 10_000 };
    let mut rows: Vec<(Transport, usize, usize)> = Vec::new();
    for t in [Transport::Wss(Suite::Aes128Gcm), Transport::Ws] {
        for stage in 0..STAGES.len() {
            rows.push((t, stage, 1_000));
        }
        rows.push((t, 2, big));
        rows.push((t, 3, big));
    }
    let exe = std::env::current_exe().unwrap();
    for (t, stage, n) in rows {
        let out = std::process::Command::new(&exe)
            .args(["--child", t.name(), &stage.to_string(), &n.to_string()])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let line = text
            .lines()
            .find_map(|l| l.strip_prefix("RESULT "))
            .unwrap_or_else(|| panic!("child failed: {}", String::from_utf8_lossy(&out.stderr)));
        let v: Vec<f64> = line.split(' ').map(|x| x.parse().unwrap()).collect();
        println!(
            "{:<14} {:<26} {:>7} | {:>10.0} {:>10.0}",
            t.name(),
            STAGES[stage].label(),
            n,
            v[0],
            v[1]
        );
    }
    println!("# target: <= 16384 B heap per idle client after receiving");
}
