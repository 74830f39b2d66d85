//! TLS records from a hostile server.
//!
//! A `wss://localhost/chat` client's ClientHello is read out; then the payload is
//! offered as the server's TLS byte stream, split at the fuzzer-chosen chunk sizes
//! (see `wsmachine_fuzz::Input`), with messages polled and output (alerts) drained
//! between chunks. Flags: `0x01` TLS 1.3 only, `0x02` trust the seed CA
//! (`seeds/ca.pem`, which signed the certificate in the captured server flights of
//! the corpus) instead of the built-in roots, `0x10` small limits.
//!
//! The client's random and key share change on every run, so a captured server
//! flight gets as far as the key exchange, never to the encrypted part. Most inputs
//! end early in a TLS error; the point is that none of them panics or breaks the
//! state machine's invariants.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsmachine::{Client, Config, State, TlsVersion};
use wsmachine_fuzz::*;

const SEED_CA: &[u8] = include_bytes!("../seeds/ca.pem");

thread_local! {
    // Building a rustls config (and parsing the built-in roots) is slow; do it once.
    static CONFIGS: Vec<Config> = (0..8u8)
        .map(|i| {
            let mut c = config(if i & 4 != 0 { 0x10 } else { 0 });
            if i & 1 != 0 {
                c.set_min_tls_version(TlsVersion::Tls13);
            }
            if i & 2 != 0 {
                c.set_builtin_roots(false);
                c.add_root_pem(SEED_CA).expect("seed CA");
            }
            c
        })
        .collect();
}

fuzz_target!(|data: &[u8]| {
    let input = Input::parse(data);
    let i = (input.flags & 3) | if input.flags & 0x10 != 0 { 4 } else { 0 };
    CONFIGS.with(|configs| {
        let mut c = Client::new(&configs[i as usize], "wss://localhost/chat").expect("client");
        let mut w = Watch::new(&c);
        assert_eq!(c.state(), State::TlsHandshaking);
        let hello = drain_output(&mut c, &mut w);
        assert_eq!(
            hello.first(),
            Some(&0x16),
            "the ClientHello is a handshake record"
        );

        for chunk in input.chunks() {
            if offer_all(&mut c, &mut w, chunk).is_err() {
                break;
            }
            poll_all(&mut c, &mut w);
            drain_output(&mut c, &mut w);
        }
        offer_eof(&mut c, &mut w);
        poll_all(&mut c, &mut w);
        drain_output(&mut c, &mut w);
        w.check_sticky(&mut c);
    });
});
