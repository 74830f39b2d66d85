//! WebSocket frames from a hostile server, on an open `ws://` connection.
//!
//! The client is brought to `Open` with a correct 101; then the payload is offered
//! as frames, split at the fuzzer-chosen chunk sizes (see `wsmachine_fuzz::Input`),
//! with every message polled between chunks. Flags: `0x01` drain the output between
//! chunks, `0x02` end with EOF, `0x04` the client sends a close first, `0x08` the
//! client sends a text message first, `0x10` small limits (queue of 2, 200-byte
//! frames, 300-byte messages, 512 bytes of pending output), `0x20` deliver the chunks
//! through `input_window`/`commit_input` instead of `offer_input` (and offer two
//! subprotocols, which the 101 does not pick), `0x40` permessage-deflate negotiated
//! (`0x80`: without context takeover).
//!
//! Invariants: no panic; `offer_input` takes input or fails, and refuses input only
//! while messages are queued; after an error the state is `Failed` and every later
//! call returns the same error kind; nothing is delivered after the close message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsmachine::State;
use wsmachine_fuzz::*;

fuzz_target!(|data: &[u8]| {
    let input = Input::parse(data);
    let config = config(input.flags);
    let (mut c, mut w) = open_plain(&config, input.flags);

    if input.flags & 0x08 != 0 {
        let r = c.send_text("hello".as_bytes());
        w.after(&c, "send_text", &r, Allow::NONE);
        r.expect("send_text on an open client");
    }
    if input.flags & 0x04 != 0 {
        let r = c.close(1000, b"bye");
        w.after(&c, "close", &r, Allow::NONE);
        r.expect("close on an open client");
        assert_eq!(c.state(), State::Closing);
    }

    for chunk in input.chunks() {
        let delivered = if input.flags & 0x20 != 0 {
            commit_all(&mut c, &mut w, chunk)
        } else {
            offer_all(&mut c, &mut w, chunk)
        };
        if delivered.is_err() {
            break;
        }
        poll_all(&mut c, &mut w);
        if input.flags & 0x01 != 0 {
            drain_output(&mut c, &mut w);
        }
    }
    poll_all(&mut c, &mut w);
    if input.flags & 0x02 != 0 {
        offer_eof(&mut c, &mut w);
        poll_all(&mut c, &mut w);
    }
    drain_output(&mut c, &mut w);
    if w.failure().is_none() {
        // A clean end leaves nothing to poll and nothing to send.
        if c.state() == State::Closed {
            assert_eq!(c.queued_messages(), 0);
        }
    }
    w.check_sticky(&mut c);
});
