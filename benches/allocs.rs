//! Heap allocations per message on the send path and the receive path, counted with
//! a global allocator.
//!
//! `cargo bench --bench allocs [-- --trace]`
//!
//! After a warm-up, each echo round trip counts the allocator calls made inside the
//! client's send (`ws_send_binary` + draining `ws_read_output`) and inside its receive
//! (reading the socket, `ws_offer_input`, `ws_poll_message` or `ws_poll_message_copy`).
//! Server work is not counted. `alloc` = alloc + alloc_zeroed; `realloc` counted apart.
//! With `--trace`, the sizes of one message's allocations are listed ("r" = realloc).
#![allow(clippy::print_stdout)]

mod support;

use support::*;

#[global_allocator]
static ALLOC: Counting = Counting;

fn main() {
    let trace = flag("--trace");
    let env = Env::new();
    println!("# Allocations per message (steady state, after warm-up; client calls only)");
    println!(
        "{:<14} {:>7} {:<20} | {:>9} {:>9} | {:>9} {:>9}",
        "transport", "size", "client", "send allc", "send rall", "recv allc", "recv rall"
    );
    let impls = [
        Impl::Wsm(Poll::Borrow),
        Impl::Wsm(Poll::Copy),
        Impl::RefDefault,
        Impl::Ref4096,
    ];
    for t in [Transport::Ws, Transport::Wss(Suite::Aes128Gcm)] {
        for size in [16usize, 1 << 10, 64 << 10] {
            let msg = payload(size);
            let n = if size >= 64 << 10 { 100 } else { 1000 };
            for imp in impls {
                let (mut c, mut s) = env.connect(t, imp);
                for _ in 0..50 {
                    round_trip(c.as_mut(), &mut s, &msg);
                }
                let (mut sa, mut sr, mut ra, mut rr) = (0, 0, 0, 0);
                let mut traces = Vec::new();
                for i in 0..n {
                    let ((), a, r) = counted(|| c.send(&msg));
                    if trace && i == 0 {
                        traces.push(format!("send [{}]", take_trace().join(" ")));
                    }
                    sa += a;
                    sr += r;
                    let mut got = 0;
                    while got == 0 {
                        s.step();
                        let (g, a, r) = counted(|| c.recv(size));
                        got = g;
                        ra += a;
                        rr += r;
                    }
                    if trace && i == 0 {
                        traces.push(format!("recv [{}]", take_trace().join(" ")));
                    }
                    take_trace();
                }
                let per = |x: u64| x as f64 / n as f64;
                println!(
                    "{:<14} {:>7} {:<20} | {:>9.2} {:>9.2} | {:>9.2} {:>9.2}",
                    t.name(),
                    size_name(size),
                    c.name(),
                    per(sa),
                    per(sr),
                    per(ra),
                    per(rr)
                );
                for tr in traces {
                    println!("    {tr}");
                }
            }
        }
    }
    println!("# targets: 0 per message on send; <= 1 on receive (0 with ws_poll_message_copy)");
}
