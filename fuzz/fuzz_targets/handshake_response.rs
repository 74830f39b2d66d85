//! The server's answer to the upgrade request, from hostile bytes.
//!
//! A `ws://` client's request is read out; then the fuzz payload, behind a prefix
//! chosen by `flags & 3`, is offered as the server's response, split at the
//! fuzzer-chosen chunk sizes (see `wsmachine_fuzz::Input`):
//!
//! - 0: the payload alone, with every `$ACCEPT` replaced by the correct accept key;
//! - 1: a correct 101 up to the accept line, then the payload (more headers, the end
//!   of the head, frames);
//! - 2: a complete, correct 101, then the payload (frames);
//! - 3: only the status line `HTTP/1.1 101 Switching Protocols`, then the payload
//!   (with `$ACCEPT` replaced).
//!
//! `flags & 0x10` uses small limits, `0x20` offers subprotocols, `0x40` offers
//! permessage-deflate (mode 2 then accepts it; `0x80`: without context takeover).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsmachine::State;
use wsmachine_fuzz::*;

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

fuzz_target!(|data: &[u8]| {
    let input = Input::parse(data);
    let config = config(input.flags);
    let (mut c, mut w, accept) = new_plain(&config);

    let mut stream = match input.flags & 3 {
        0 => Vec::new(),
        1 => response_101_start(&accept),
        2 => response_101(&accept, input.flags),
        _ => b"HTTP/1.1 101 Switching Protocols\r\n".to_vec(),
    };
    if input.flags & 3 == 2 {
        stream.extend_from_slice(input.payload);
    } else {
        stream.extend_from_slice(&substitute(input.payload, &accept));
    }

    for chunk in input.split(&stream) {
        if offer_all(&mut c, &mut w, chunk).is_err() {
            break;
        }
        poll_all(&mut c, &mut w);
    }
    match c.state() {
        State::WsHandshaking => assert_eq!(
            c.http_status(),
            None,
            "a status without the end of the head"
        ),
        State::Open | State::Closing | State::Closed => {
            assert_eq!(c.http_status(), Some(101));
            if let Some(p) = c.subprotocol() {
                assert!(
                    p == "chat" || p == "superchat",
                    "subprotocol {p:?} was never offered"
                );
            }
        }
        State::Failed => {}
        State::TlsHandshaking | State::Verifying => panic!("a ws:// client in a TLS state"),
    }
    drain_output(&mut c, &mut w);
    offer_eof(&mut c, &mut w);
    poll_all(&mut c, &mut w);
    drain_output(&mut c, &mut w);
    w.check_sticky(&mut c);
});
