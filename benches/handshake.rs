//! Handshake cost: a full TLS 1.3 handshake plus the WebSocket upgrade against a
//! resumed one from the same config, in CPU time and bytes on the wire.
//!
//! `cargo bench --bench handshake [-- --reps N --ops N]`
//!
//! Each operation creates a client, runs the TLS handshake and the HTTP upgrade
//! against a fresh in-memory tungstenite server until both are open and every byte
//! (including TLS 1.3 session tickets) has been taken, then frees the client. The
//! client's CPU time is measured around client calls only (thread CPU time); the
//! total includes the server. Kinds are interleaved batch by batch; the table shows
//! medians of the per-batch means.
#![allow(clippy::print_stdout)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use rustls::{ClientConfig, ServerConfig};
use support::*;
use wsmachine::ffi::*;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    /// wsmachine, TLS 1.3 full handshake (the server issues no tickets).
    WsmFull,
    /// wsmachine, first connection to a server that issues 2 tickets (fresh config).
    WsmFullTickets,
    /// wsmachine, resumed from a ticket in the same config.
    WsmResumed,
    /// wsmachine over plain ws: the upgrade alone.
    WsmPlain,
    /// The reference (tungstenite + rustls ClientConfig), full handshake.
    RefFull,
    /// The reference, resumed.
    RefResumed,
    /// The reference over plain ws.
    RefPlain,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::WsmFull => "wsmachine wss full",
            Kind::WsmFullTickets => "wsmachine wss full + 2 tickets",
            Kind::WsmResumed => "wsmachine wss resumed",
            Kind::WsmPlain => "wsmachine ws (upgrade only)",
            Kind::RefFull => "reference wss full",
            Kind::RefResumed => "reference wss resumed",
            Kind::RefPlain => "reference ws (upgrade only)",
        }
    }
}

struct Setup {
    pki: Pki,
    wsm_full: ws_config,
    wsm_resume: ws_config,
    ref_full: Arc<ClientConfig>,
    ref_resume: Arc<ClientConfig>,
    server_full: Arc<ServerConfig>,
    server_resume: Arc<ServerConfig>,
}

/// One operation's costs.
#[derive(Default, Clone, Copy)]
struct Op {
    client: Duration,
    total: Duration,
    c2s: u64,
    s2c: u64,
}

/// Runs `f` and adds the thread CPU time it took to `acc`.
fn timed<T>(acc: &mut Duration, f: impl FnOnce() -> T) -> T {
    let t0 = cpu_time();
    let r = f();
    *acc += cpu_time() - t0;
    r
}

/// A config whose rustls config is already built (as after its first client), so
/// that a fresh session store costs nothing inside the measured operation.
fn fresh_wsm_config(pki: &Pki) -> ws_config {
    let cfg = wsm_config(pki);
    let (p, _q) = bench_pipe();
    drop(WsmClient::new(cfg, true, p, Poll::Borrow));
    cfg
}

fn op(s: &Setup, kind: Kind, spare_cfg: Option<ws_config>) -> Op {
    let (cp, sp) = bench_pipe();
    let mut o = Op::default();
    let t0 = cpu_time();
    let tls = !matches!(kind, Kind::WsmPlain | Kind::RefPlain);
    let server_cfg = match kind {
        Kind::WsmFull | Kind::RefFull => Some(s.server_full.clone()),
        Kind::WsmPlain | Kind::RefPlain => None,
        _ => Some(s.server_resume.clone()),
    };
    let mut client: Box<dyn BenchClient> = timed(&mut o.client, || -> Box<dyn BenchClient> {
        match kind {
            Kind::WsmFull | Kind::WsmPlain => {
                Box::new(WsmClient::new(s.wsm_full, tls, cp, Poll::Borrow))
            }
            Kind::WsmFullTickets => Box::new(WsmClient::new(
                spare_cfg.expect("a fresh config"),
                true,
                cp,
                Poll::Borrow,
            )),
            Kind::WsmResumed => Box::new(WsmClient::new(s.wsm_resume, true, cp, Poll::Borrow)),
            Kind::RefFull => Box::new(RefClient::new(Some(s.ref_full.clone()), cp, None)),
            Kind::RefResumed => Box::new(RefClient::new(Some(s.ref_resume.clone()), cp, None)),
            Kind::RefPlain => Box::new(RefClient::new(None, cp, None)),
        }
    });
    let mut server = bench_server(server_cfg, sp);
    let mut rounds = 0;
    loop {
        server.step();
        timed(&mut o.client, || client.step());
        if client.is_open() && server.is_open() {
            // Tickets and anything else in flight.
            server.step();
            timed(&mut o.client, || client.step());
            break;
        }
        rounds += 1;
        assert!(rounds < 50, "{kind:?} did not open");
    }
    let resumed = client.is_resumed();
    let want = matches!(kind, Kind::WsmResumed | Kind::RefResumed);
    assert_eq!(resumed, want, "{kind:?}: resumed = {resumed}");
    let (c2s, s2c) = client.wire();
    o.c2s = c2s;
    o.s2c = s2c;
    timed(&mut o.client, || drop(client));
    drop(server);
    o.total = cpu_time() - t0;
    o
}

fn main() {
    let reps: usize = arg("--reps").and_then(|s| s.parse().ok()).unwrap_or(7);
    let ops: usize = arg("--ops").and_then(|s| s.parse().ok()).unwrap_or(40);
    let pki = Pki::new();
    let s = Setup {
        wsm_full: fresh_wsm_config(&pki),
        wsm_resume: fresh_wsm_config(&pki),
        ref_full: reference_client_config(&pki),
        ref_resume: reference_client_config(&pki),
        server_full: server_config(&pki, Suite::Aes128Gcm, false),
        server_resume: server_config(&pki, Suite::Aes128Gcm, true),
        pki,
    };
    let kinds = [
        Kind::WsmFull,
        Kind::WsmResumed,
        Kind::WsmFullTickets,
        Kind::RefFull,
        Kind::RefResumed,
        Kind::WsmPlain,
        Kind::RefPlain,
    ];
    // Seed the resumption stores: one connection each to the ticket-issuing server.
    let _ = op(&s, Kind::WsmFullTickets, Some(s.wsm_resume));
    {
        let (cp, sp) = bench_pipe();
        let mut c = RefClient::new(Some(s.ref_resume.clone()), cp, None);
        let mut srv = bench_server(Some(s.server_resume.clone()), sp);
        handshake(&mut c, &mut srv);
    }
    // [kind] -> per-batch means
    let mut client_us: Vec<Vec<f64>> = vec![Vec::new(); kinds.len()];
    let mut total_us: Vec<Vec<f64>> = vec![Vec::new(); kinds.len()];
    let mut bytes: Vec<(u64, u64)> = vec![(0, 0); kinds.len()];
    for rep in 0..reps + 1 {
        for k in 0..kinds.len() {
            let i = (rep + k) % kinds.len();
            let kind = kinds[i];
            let spares: Vec<ws_config> = if kind == Kind::WsmFullTickets {
                (0..ops).map(|_| fresh_wsm_config(&s.pki)).collect()
            } else {
                Vec::new()
            };
            let (mut cl, mut tot) = (Duration::ZERO, Duration::ZERO);
            for j in 0..ops {
                let o = op(&s, kind, spares.get(j).copied());
                cl += o.client;
                tot += o.total;
                bytes[i] = (o.c2s, o.s2c);
            }
            for c in spares {
                ws_config_free(c);
            }
            if rep == 0 {
                continue; // warm-up
            }
            client_us[i].push(cl.as_secs_f64() * 1e6 / ops as f64);
            total_us[i].push(tot.as_secs_f64() * 1e6 / ops as f64);
        }
    }
    println!("# Handshake: TLS 1.3 (AES-128-GCM, X25519, ECDSA P-256 cert) + WebSocket upgrade, in memory");
    println!("# CPU us per connection (thread CPU time; median of {reps} batches of {ops}); bytes per connection");
    println!(
        "{:<32} | {:>9} {:>9} | {:>7} {:>7} | {:>8}",
        "kind", "client us", "total us", "c->s B", "s->c B", "vs full"
    );
    let med: Vec<(f64, f64)> = (0..kinds.len())
        .map(|i| (median(&mut client_us[i]), median(&mut total_us[i])))
        .collect();
    for (i, kind) in kinds.iter().enumerate() {
        let base = match kind {
            Kind::WsmResumed | Kind::WsmFullTickets => Some(med[0].0),
            Kind::RefResumed => Some(med[3].0),
            _ => None,
        };
        println!(
            "{:<32} | {:>9.1} {:>9.1} | {:>7} {:>7} | {:>8}",
            kind.label(),
            med[i].0,
            med[i].1,
            bytes[i].0,
            bytes[i].1,
            base.map_or(String::new(), |b| format!("{:.2}x", med[i].0 / b)),
        );
    }
    println!("# vs full = client CPU time relative to the same client's full handshake");
    println!(
        "# wsmachine / reference client CPU: full {:.2}x, resumed {:.2}x, ws upgrade {:.2}x",
        med[0].0 / med[3].0,
        med[1].0 / med[4].0,
        med[5].0 / med[6].0
    );
}
