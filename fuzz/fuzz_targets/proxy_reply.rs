//! A proxy's answer, from hostile bytes.
//!
//! A `ws://` client goes through a proxy with credentials in its URL (`flags & 1`:
//! 0 = `http://` CONNECT, 1 = `socks5://` with username/password); its first request
//! to the proxy is read out. Then, by `flags & 6`:
//!
//! - 0: the payload is the proxy's whole answer (and whatever follows it);
//! - 2: a correct opening answer (`HTTP/1.1 200 OK` head, or the SOCKS5 method choice,
//!   auth success and CONNECT reply), then the payload as the server's answer to the
//!   upgrade request, with every `$ACCEPT` replaced by the correct accept key;
//! - 4: a 407 head whose `Proxy-Authenticate` values are the payload (HTTP), or a
//!   SOCKS5 CONNECT reply whose address part is the payload;
//! - 6: like 2, but the correct answer and the payload go in one stream, split
//!   together at the fuzzer's chunk sizes.
//!
//! All of it is offered at the fuzzer-chosen chunk sizes. Checked: the password never
//! appears in an error; a 407 failure has status 407; challenges only come with a
//! proxy auth failure; nothing for the server is sent before the tunnel is open; the
//! usual state and sticky-failure invariants.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsmachine::{Client, ErrorKind, State};
use wsmachine_fuzz::*;

const PASSWORD: &str = "fuzz-s3cret";

fn substitute(payload: &[u8], accept: &str) -> Vec<u8> {
    const TOKEN: &[u8] = b"$ACCEPT";
    let mut out = Vec::with_capacity(payload.len() + 32);
    let mut rest = payload;
    while let Some(p) = rest.windows(TOKEN.len()).position(|w| w == TOKEN) {
        out.extend_from_slice(&rest[..p]);
        out.extend_from_slice(accept.as_bytes());
        rest = &rest[p + TOKEN.len()..];
    }
    out.extend_from_slice(rest);
    out
}

/// The correct opening answers of the proxy, one per request it reads.
fn opening(socks: bool) -> Vec<Vec<u8>> {
    if socks {
        vec![vec![5, 2], vec![1, 0], vec![5, 0, 0, 1, 127, 0, 0, 1, 0x1f, 0x90]]
    } else {
        vec![b"HTTP/1.1 200 Connection established\r\n\r\n".to_vec()]
    }
}

fn offer(c: &mut Client, w: &mut Watch, input: &Input, bytes: &[u8]) -> bool {
    for chunk in input.split(bytes) {
        if offer_all(c, w, chunk).is_err() {
            return false;
        }
        poll_all(c, w);
    }
    true
}

fuzz_target!(|data: &[u8]| {
    let input = Input::parse(data);
    let socks = input.flags & 1 == 1;
    let mut config = config(input.flags & 0x10);
    let proxy = if socks {
        format!("socks5://fuzzer:{PASSWORD}@proxy.example:1080")
    } else {
        format!("http://fuzzer:{PASSWORD}@proxy.example:3128")
    };
    config.set_proxy(Some(&proxy)).expect("proxy URL");
    let mut c = Client::new(&config, "ws://fuzz.example/chat").expect("client");
    assert_eq!(c.connect_address().0, "proxy.example");
    let mut w = Watch::new(&c);
    let first = drain_output(&mut c, &mut w);
    if socks {
        assert_eq!(first, [5, 2, 0, 2]);
    } else {
        assert!(first.starts_with(b"CONNECT fuzz.example:80 HTTP/1.1\r\n"));
    }

    let mode = input.flags & 6;
    // Everything the client sent after its first request.
    let mut sent = Vec::new();
    match mode {
        0 => {
            offer(&mut c, &mut w, &input, input.payload);
        }
        4 => {
            let answer = if socks {
                let mut a = vec![5, 2, 1, 0, 5, 0, 0];
                a.extend_from_slice(input.payload);
                a
            } else {
                let mut a =
                    b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: ".to_vec();
                a.extend_from_slice(input.payload);
                a.extend_from_slice(b"\r\n\r\n");
                a
            };
            offer(&mut c, &mut w, &input, &answer);
        }
        _ => {
            let mut ok = true;
            if mode == 6 {
                // All answers in one stream: still read in order, one per request.
                ok = offer(&mut c, &mut w, &input, &opening(socks).concat());
            } else {
                for answer in opening(socks) {
                    if !offer(&mut c, &mut w, &input, &answer) {
                        ok = false;
                        break;
                    }
                    sent.extend(drain_output(&mut c, &mut w));
                }
            }
            sent.extend(drain_output(&mut c, &mut w));
            if ok {
                assert_eq!(c.state(), State::WsHandshaking, "a correct answer opens the tunnel");
                let accept = accept_for(&sent);
                let payload = substitute(input.payload, &accept);
                offer(&mut c, &mut w, &input, &payload);
            }
        }
    }
    sent.extend(drain_output(&mut c, &mut w));
    if mode == 0 || mode == 4 {
        if let Some(e) = c.failure() {
            if matches!(
                e.kind(),
                ErrorKind::ProxyAuthRequired
                    | ErrorKind::ProxyRefused
                    | ErrorKind::ProxyBadResponse
                    | ErrorKind::ProxyClosed
            ) {
                let leaked = sent.windows(9).any(|x| x == b"GET /chat");
                assert!(!leaked, "the upgrade request went to a proxy that refused");
            }
        }
    }
    if let Some(e) = c.failure() {
        assert!(!e.message().contains(PASSWORD), "the password leaked: {e}");
        if e.kind() == ErrorKind::ProxyAuthRequired && !socks {
            assert_eq!(c.http_status(), Some(407));
        }
        if e.kind() != ErrorKind::ProxyAuthRequired {
            assert!(c.proxy_challenges().is_empty(), "challenges without a 407");
        }
    }
    if let Some(m) = c.last_error() {
        assert!(!m.contains(PASSWORD), "the password leaked: {m}");
    }
    drain_output(&mut c, &mut w);
    offer_eof(&mut c, &mut w);
    poll_all(&mut c, &mut w);
    drain_output(&mut c, &mut w);
    w.check_sticky(&mut c);
});
