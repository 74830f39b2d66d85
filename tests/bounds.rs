//! Memory bounds under slow sockets and hostile servers (issue #19): every buffer a
//! peer or a slow socket can fill stays within what its limit allows, and memory the
//! library lent to the caller is never moved behind the caller's back. Each test here
//! reproduces one defect the review found; docs/SECURITY.md's table names them.

mod common;

use common::*;
use wsmachine::ffi::*;
use wsmachine::{Client, Config, ErrorKind, Limits, MessageKind, Poll, State, Timeouts};

/// A plain `ws://` client, open, with nothing pending.
fn open_plain(config: &Config, extra: &str) -> Client {
    let mut c = Client::new(config, "ws://127.0.0.1:9/b").unwrap();
    let mut req = vec![0u8; 4096];
    let n = c.read_output(&mut req).unwrap();
    let resp = answer(&req[..n], extra);
    assert_eq!(c.offer_input(&resp).unwrap(), resp.len());
    assert_eq!(c.state(), State::Open, "{:?}", c.last_error());
    c
}

fn limits(f: impl FnOnce(&mut Limits)) -> Config {
    let mut config = Config::new();
    let mut l = config.limits().clone();
    f(&mut l);
    config.set_limits(l).unwrap();
    config
}

/// Client frames in `wire` (masked): (opcode, unmasked payload).
fn client_frames(mut wire: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut v = Vec::new();
    while wire.len() >= 2 {
        let op = wire[0] & 0x0f;
        let (len, mut at) = match wire[1] & 0x7f {
            126 => (u16::from_be_bytes([wire[2], wire[3]]) as usize, 4),
            127 => (
                u64::from_be_bytes(wire[2..10].try_into().unwrap()) as usize,
                10,
            ),
            n => (n as usize, 2),
        };
        let mask = [wire[at], wire[at + 1], wire[at + 2], wire[at + 3]];
        at += 4;
        let payload = wire[at..at + len]
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ mask[i & 3])
            .collect();
        v.push((op, payload));
        wire = &wire[at + len..];
    }
    v
}

// ----- 1. output compaction ------------------------------------------------------

#[test]
fn output_retained_stays_bounded_while_always_partially_consumed() {
    let max = 64 << 10;
    let mut c = open_plain(&limits(|l| l.max_pending_output = max), "");
    let msg = vec![7u8; 4000];
    for _ in 0..3000 {
        c.send_binary(&msg).unwrap();
        // "Send what the socket took": it takes all but the last byte.
        let pending = c.pending_output();
        c.consume_output(pending - 1).unwrap();
    }
    assert!(c.pending_output() < max);
    let retained = c.retained_capacity();
    assert!(
        retained <= max + (8 << 10),
        "retained {retained} bytes with a pending-output limit of {max}"
    );
    // The bytes still come out in order: the last frame's tail.
    let mut rest = vec![0u8; 64];
    assert_eq!(c.read_output(&mut rest).unwrap(), 1);
}

#[test]
fn output_compaction_keeps_every_byte_in_order() {
    let mut c = open_plain(&limits(|l| l.max_pending_output = 10_000), "");
    let mut wire = Vec::new();
    let mut buf = [0u8; 997];
    for i in 0..500u32 {
        let msg: Vec<u8> = (0..(i % 300)).map(|j| (i + j) as u8).collect();
        c.send_binary(&msg).unwrap();
        let n = c.read_output(&mut buf[..(i as usize % 250) + 1]).unwrap();
        wire.extend_from_slice(&buf[..n]);
        if i % 7 == 0 {
            let peek = c.peek_output().unwrap().to_vec();
            let take = peek.len() / 3;
            wire.extend_from_slice(&peek[..take]);
            c.consume_output(take).unwrap();
        }
    }
    loop {
        let n = c.read_output(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        wire.extend_from_slice(&buf[..n]);
    }
    let frames = client_frames(&wire);
    assert_eq!(frames.len(), 500);
    for (i, (op, payload)) in frames.into_iter().enumerate() {
        let i = i as u32;
        assert_eq!(op, 2);
        let want: Vec<u8> = (0..(i % 300)).map(|j| (i + j) as u8).collect();
        assert_eq!(payload, want, "frame {i}");
    }
}

// ----- 2. automatic pongs --------------------------------------------------------

#[test]
fn a_ping_flood_cannot_grow_pending_output_and_the_last_ping_is_answered() {
    let max = 4 << 10;
    let mut c = open_plain(&limits(|l| l.max_pending_output = max), "");
    let mut flood = Vec::new();
    for i in 0..10_000u32 {
        let mut p = i.to_be_bytes().to_vec();
        p.resize(125, b'p');
        flood.extend(frame(0x9, true, &p));
    }
    // The socket cannot be written: nothing is read out. The pings are polled.
    let mut off = 0;
    while off < flood.len() {
        off += c.offer_input(&flood[off..]).unwrap();
        while let Poll::Message(m) = c.poll_message().unwrap() {
            assert_eq!(m.kind, MessageKind::Ping);
        }
        assert!(
            c.pending_output() <= max,
            "{} bytes pending with a limit of {max}",
            c.pending_output()
        );
    }
    // Once the socket drains, the most recent ping is answered (by the next tick or
    // input: read_output itself never adds output).
    let mut wire = vec![0u8; 64 << 10];
    let mut got = Vec::new();
    for _ in 0..2 {
        loop {
            let n = c.read_output(&mut wire).unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&wire[..n]);
        }
        c.tick(0).unwrap();
    }
    let pongs = client_frames(&got);
    let last = pongs.last().expect("a pong");
    assert_eq!(last.0, 0xA);
    assert_eq!(&last.1[..4], &9_999u32.to_be_bytes());
    assert!(pongs.len() < 100, "{} pongs for 10,000 pings", pongs.len());
}

#[test]
fn a_few_pings_in_one_read_are_each_answered_in_order() {
    // Autobahn 2.10: ten pings arrive in one read; each gets its pong, in order (only
    // a flood is thinned to the most recent ones).
    let mut c = open_plain(&Config::new(), "");
    let mut burst = Vec::new();
    for i in 0..10u8 {
        burst.extend(frame(0x9, true, &[i; 20]));
    }
    assert_eq!(c.offer_input(&burst).unwrap(), burst.len());
    while let Poll::Message(_) = c.poll_message().unwrap() {}
    let mut wire = vec![0u8; 64 << 10];
    let n = c.read_output(&mut wire).unwrap();
    let pongs = client_frames(&wire[..n]);
    assert_eq!(pongs.len(), 10, "one pong per ping");
    for (i, (op, payload)) in pongs.iter().enumerate() {
        assert_eq!(*op, 0xA);
        assert_eq!(payload, &vec![i as u8; 20]);
    }
}

/// An open wss pipe whose client allows `max` bytes of pending output.
fn pipe_with_pending_output_limit(max: usize) -> Pipe {
    let s = Setup::new();
    let mut config = s.config.clone_for_test();
    let mut l = config.limits().clone();
    l.max_pending_output = max;
    config.set_limits(l).unwrap();
    let mut p = Pipe::new(
        &config,
        "wss://localhost/x",
        Server::new(Some(s.server_tls.clone()), accept()),
    );
    p.open();
    p
}

#[test]
fn a_ping_flood_over_tls_cannot_grow_pending_output() {
    let mut p = pipe_with_pending_output_limit(4 << 10);
    p.server.echo = false;
    for _ in 0..20_000 {
        p.server.write_raw(&frame(0x9, true, b""));
    }
    p.server.step();
    let wire = p.server.mem().take();
    let mut off = 0;
    while off < wire.len() {
        let end = wire.len().min(off + 997);
        off += p.client.offer_input(&wire[off..end]).unwrap();
        while let Poll::Message(_) = p.client.poll_message().unwrap() {}
    }
    let pending = p.client.pending_output();
    assert!(pending <= (4 << 10) + 1024, "{pending} bytes pending");
}

#[test]
fn pending_output_over_tls_never_exceeds_its_limit() {
    let max = 100_000;
    let mut p = pipe_with_pending_output_limit(max);
    let msg = vec![1u8; 16_000];
    loop {
        match p.client.send_binary(&msg) {
            Ok(()) => {}
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::OutputFull);
                break;
            }
        }
    }
    // A message whose frame fills the room exactly: its TLS record does not fit.
    let room = max - p.client.pending_output();
    assert!((200..16_000).contains(&room), "{room}");
    let _ = p.client.send_binary(&msg[..room - 8]);
    let pending = p.client.pending_output();
    assert!(
        pending <= max,
        "{pending} bytes pending with a limit of {max}"
    );
}

// ----- 3. queued bytes ----------------------------------------------------------

#[test]
fn queued_bytes_are_bounded_as_back_pressure() {
    let config = limits(|l| {
        l.max_message_size = 1 << 20;
        l.max_frame_size = 1 << 20;
        l.max_queued_bytes = 2 << 20;
    });
    let mut c = open_plain(&config, "");
    let mut wire = Vec::new();
    for _ in 0..64 {
        wire.extend(frame(0x2, true, &vec![3u8; 256 << 10]));
    }
    let taken = c.offer_input(&wire).unwrap();
    assert!(taken < wire.len(), "back-pressure: not all input taken");
    assert!(
        c.queued_bytes() <= (2 << 20) + (1 << 20),
        "{}",
        c.queued_bytes()
    );
    // Polling makes room; then the rest is taken and every message arrives.
    let mut off = taken;
    let mut count = 0;
    loop {
        while let Poll::Message(m) = c.poll_message().unwrap() {
            assert_eq!(m.data.len(), 256 << 10);
            count += 1;
        }
        if off == wire.len() {
            break;
        }
        off += c.offer_input(&wire[off..]).unwrap();
        assert!(c.queued_bytes() <= (3 << 20));
    }
    assert_eq!(count, 64);
}

#[test]
fn a_deflate_burst_is_bounded_by_queued_bytes() {
    use flate2::{Compress, Compression, FlushCompress};
    let mut config = limits(|l| {
        l.max_message_size = 4 << 20;
        l.max_frame_size = 4 << 20;
        l.max_queued_bytes = 8 << 20;
    });
    config
        .set_deflate(wsmachine::DeflateConfig {
            enabled: true,
            ..Default::default()
        })
        .unwrap();
    let mut c = open_plain(&config, "Sec-WebSocket-Extensions: permessage-deflate\r\n");
    let mut z = Compress::new(Compression::best(), false);
    let plain = vec![b'a'; 4 << 20];
    let mut wire = Vec::new();
    for _ in 0..64 {
        let mut out = Vec::with_capacity(64 << 10);
        z.reset();
        z.compress_vec(&plain, &mut out, FlushCompress::Sync)
            .unwrap();
        assert!(out.ends_with(&[0, 0, 0xff, 0xff]));
        out.truncate(out.len() - 4);
        let mut f = frame(0x2, true, &out);
        f[0] |= 0x40; // RSV1: compressed
        wire.extend(f);
    }
    assert!(wire.len() < 400 << 10);
    let taken = c.offer_input(&wire).unwrap();
    assert!(taken < wire.len());
    let q = c.queued_bytes();
    assert!(q <= (8 << 20) + (4 << 20), "{q} bytes queued");
}

const OK: ws_result = ws_result::WS_OK;

// ----- 4, 5, 6. lent memory -------------------------------------------------------

fn ffi_open_plain(cfg: ws_config) -> ws_client {
    let url = c"ws://127.0.0.1:9/b";
    let mut h: ws_client = 0;
    // SAFETY: valid pointers for the duration of each call.
    unsafe {
        assert_eq!(ws_client_new(cfg, url.as_ptr(), &mut h), OK);
        let mut req = vec![0u8; 4096];
        let mut n = 0;
        assert_eq!(ws_read_output(h, req.as_mut_ptr(), req.len(), &mut n), OK);
        let resp = answer(&req[..n], "");
        let mut used = 0;
        assert_eq!(ws_offer_input(h, resp.as_ptr(), resp.len(), &mut used), OK);
        assert_eq!(used, resp.len());
    }
    h
}

fn empty_message() -> ws_message {
    ws_message {
        kind: ws_message_kind::WS_MESSAGE_TEXT,
        data: std::ptr::null(),
        len: 0,
        close_code: 0,
    }
}

fn ffi_config() -> ws_config {
    let mut cfg: ws_config = 0;
    // SAFETY: valid out-pointer.
    unsafe { assert_eq!(ws_config_new(&mut cfg), OK) };
    cfg
}

/// Lends a window; returns (pointer, capacity).
fn window(h: ws_client) -> (*mut u8, usize) {
    let mut p = std::ptr::null_mut();
    let mut n = 0;
    // SAFETY: valid out-pointers.
    assert_eq!(unsafe { ws_prepare_input(h, &mut p, &mut n) }, OK);
    (p, n)
}

fn offer(h: ws_client, data: &[u8]) -> ws_result {
    let mut used = 0;
    // SAFETY: valid pointers.
    unsafe { ws_offer_input(h, data.as_ptr(), data.len(), &mut used) }
}

#[test]
fn the_idle_trim_never_moves_a_lent_window() {
    let cfg = ffi_config();
    let h = ffi_open_plain(cfg);
    assert_eq!(ws_client_tick(h, 0), OK);
    let (p, cap) = window(h);
    assert!(cap >= 7);
    // Idle for longer than the trim delay, with the window lent.
    assert_eq!(ws_client_tick(h, 1), OK);
    assert_eq!(ws_client_tick(h, 5_000), OK);
    let msg = frame(0x2, true, b"hello");
    // SAFETY: the window stays lent across tick (the rule under test).
    unsafe { std::ptr::copy_nonoverlapping(msg.as_ptr(), p, msg.len()) };
    assert_eq!(ws_commit_input(h, msg.len()), OK);
    let mut m = empty_message();
    // SAFETY: valid out-pointer.
    assert_eq!(unsafe { ws_poll_message(h, &mut m) }, OK);
    assert_eq!(m.len, 5);
    // An explicit trim still closes it.
    let _ = window(h);
    assert_eq!(ws_client_trim(h), OK);
    assert_eq!(ws_commit_input(h, 1), ws_result::WS_INVALID_STATE);
    ws_client_free(h);
    ws_config_free(cfg);
}

#[test]
fn the_lent_window_passed_back_to_offer_input_is_refused() {
    let cfg = ffi_config();
    let h = ffi_open_plain(cfg);
    // Inside a large frame the window is the message buffer itself.
    let head = &frame(0x2, true, &vec![0u8; 100_000])[..10];
    assert_eq!(offer(h, head), OK);
    let (p, cap) = window(h);
    assert_eq!(cap, 100_000, "a direct window");
    // SAFETY: the window is 100,000 writable bytes, lent just above.
    unsafe { std::ptr::write_bytes(p, 9, 50_000) };
    let mut used = 0;
    // SAFETY: the pointer is valid for reads; the call under test must refuse it.
    let code = unsafe { ws_offer_input(h, p, 50_000, &mut used) };
    assert_eq!(code, ws_result::WS_INVALID_ARGUMENT);
    // The connection is not failed by the caller's mistake.
    let mut st = ws_state::WS_STATE_FAILED;
    // SAFETY: valid out-pointer.
    assert_eq!(unsafe { ws_client_state(h, &mut st) }, OK);
    assert_eq!(st, ws_state::WS_STATE_OPEN);
    // Nor through the staging window or pending output.
    let (p, cap) = window(h);
    // SAFETY: as above: readable, and refused.
    let code = unsafe { ws_offer_input(h, p.add(1), cap - 1, &mut used) };
    assert_eq!(code, ws_result::WS_INVALID_ARGUMENT);
    assert_eq!(ws_send_binary_slice(h, b"x"), OK);
    let mut out = std::ptr::null();
    let mut n = 0;
    // SAFETY: valid out-pointers.
    assert_eq!(unsafe { ws_peek_output(h, &mut out, &mut n) }, OK);
    // SAFETY: `out` is `n` readable bytes until the next call.
    let code = unsafe { ws_offer_input(h, out, n, &mut used) };
    assert_eq!(code, ws_result::WS_INVALID_ARGUMENT);
    ws_client_free(h);
    ws_config_free(cfg);
}

/// Polls every ready message; appends (kind, payload) of the data messages.
fn poll_data(h: ws_client, got: &mut Vec<Vec<u8>>) {
    loop {
        let mut m = empty_message();
        // SAFETY: valid out-pointer.
        let code = unsafe { ws_poll_message(h, &mut m) };
        if code == ws_result::WS_NEED_INPUT {
            return;
        }
        assert_eq!(code, OK);
        assert_eq!(m.kind, ws_message_kind::WS_MESSAGE_BINARY);
        let data = if m.len == 0 {
            Vec::new()
        } else {
            // SAFETY: the message's bytes are valid until the next call.
            unsafe { std::slice::from_raw_parts(m.data, m.len) }.to_vec()
        };
        got.push(data);
    }
}

#[test]
fn a_window_kept_between_reads_receives_what_offer_input_would() {
    // ws_commit_prepare_input commits and lends the next window in one call: through
    // the staging buffer, through direct windows into the message buffer (large
    // frames), and across the undelivered-message bound (an empty window: poll,
    // then ws_prepare_input).
    let sizes = [0usize, 5, 125, 126, 2000, 5000, 70_000, 300_000, 16, 1];
    let want: Vec<Vec<u8>> = sizes
        .iter()
        .enumerate()
        .map(|(i, &n)| (0..n).map(|j| (i * 7 + j * 31 % 251) as u8).collect())
        .collect();
    let mut stream = Vec::new();
    for w in &want {
        stream.extend(frame(0x2, true, w));
    }
    for max_messages in [1usize, 64] {
        for step in [1usize, 7, 1000, 4096, 1 << 20] {
            let cfg = ffi_config();
            assert_eq!(ws_config_set_max_queued_messages(cfg, max_messages), OK);
            let h = ffi_open_plain(cfg);
            let mut got = Vec::new();
            let (mut p, mut cap) = window(h);
            let (mut off, mut largest, mut empties) = (0, 0, 0);
            while off < stream.len() {
                if cap == 0 {
                    empties += 1;
                    poll_data(h, &mut got);
                    (p, cap) = window(h);
                    assert!(cap > 0, "the window opens again once polled");
                    continue;
                }
                largest = largest.max(cap);
                let n = cap.min(step).min(stream.len() - off);
                // SAFETY: `n <= cap` bytes of the lent window.
                unsafe { std::ptr::copy_nonoverlapping(stream[off..].as_ptr(), p, n) };
                off += n;
                let (mut next, mut next_cap) = (std::ptr::null_mut(), 0);
                // SAFETY: valid out-pointers.
                let code = unsafe { ws_commit_prepare_input(h, n, &mut next, &mut next_cap) };
                assert_eq!(code, OK);
                (p, cap) = (next, next_cap);
            }
            poll_data(h, &mut got);
            assert_eq!(got, want, "step {step}, max_queued_messages {max_messages}");
            if step == 1 << 20 {
                assert!(largest > 16 << 10, "a direct window came back ({largest})");
            }
            assert_eq!(empties > 0, max_messages == 1, "step {step}");
            // The kept window still ends as the others do.
            assert_eq!(ws_client_trim(h), OK);
            assert_eq!(ws_commit_input(h, 1), ws_result::WS_INVALID_STATE);
            ws_client_free(h);
            ws_config_free(cfg);
        }
    }
}

fn ws_send_binary_slice(h: ws_client, data: &[u8]) -> ws_result {
    // SAFETY: valid pointer and length.
    unsafe { ws_send_binary(h, data.as_ptr(), data.len()) }
}

#[test]
fn nothing_is_delivered_after_the_close_message() {
    let cfg = ffi_config();
    assert_eq!(ws_config_set_close_timeout(cfg, 100), OK);
    let h = ffi_open_plain(cfg);
    assert_eq!(ws_client_tick(h, 0), OK);
    let payload = vec![5u8; 100_000];
    let whole = frame(0x2, true, &payload);
    assert_eq!(offer(h, &whole[..10]), OK);
    let (p, cap) = window(h);
    assert_eq!(cap, 100_000);
    // SAFETY: the rest of the frame fits the window.
    unsafe { std::ptr::copy_nonoverlapping(whole[10..].as_ptr(), p, cap) };
    let reason = b"bye";
    // SAFETY: valid pointer and length.
    assert_eq!(
        unsafe { ws_close(h, 1000, reason.as_ptr(), reason.len()) },
        OK
    );
    assert_eq!(ws_client_tick(h, 50), OK);
    assert_eq!(ws_client_tick(h, 500), OK, "the close timeout ends it");
    let commit = ws_commit_input(h, cap);
    assert!(
        commit == OK || commit == ws_result::WS_INVALID_STATE,
        "{commit:?}"
    );
    let mut kinds = Vec::new();
    loop {
        let mut m = empty_message();
        // SAFETY: valid out-pointer.
        let code = unsafe { ws_poll_message(h, &mut m) };
        if code != OK {
            assert_eq!(code, ws_result::WS_CLOSED);
            break;
        }
        kinds.push((m.kind, m.close_code));
    }
    assert_eq!(kinds, vec![(ws_message_kind::WS_MESSAGE_CLOSE, 1006)]);
    ws_client_free(h);
    ws_config_free(cfg);
}

// ----- suspicions ------------------------------------------------------------------

#[test]
fn a_full_queue_does_not_time_out_a_server_that_is_still_sending() {
    let mut config = limits(|l| l.max_queued_messages = 1);
    config.set_timeouts(Timeouts {
        idle_ms: 1000,
        keepalive_ms: 0,
        ..Timeouts::default()
    });
    let mut c = open_plain(&config, "");
    c.tick(0).unwrap();
    let mut wire = frame(0x2, true, b"one");
    wire.extend(frame(0x2, true, b"two"));
    let taken = c.offer_input(&wire).unwrap();
    assert!(taken < wire.len(), "the queue bound holds input back");
    // The application stops polling; the server's bytes wait in the socket.
    for t in [500, 1000, 5000] {
        assert_eq!(c.offer_input(&wire[taken..]).unwrap(), 0);
        c.tick(t).unwrap();
    }
    assert_eq!(c.state(), State::Open);
}

#[test]
fn after_a_caught_panic_no_half_written_frame_is_handed_out() {
    let mut c = open_plain(&Config::new(), "");
    c.send_binary(&vec![1u8; 10_000]).unwrap();
    let mut buf = vec![0u8; 100];
    assert_eq!(c.read_output(&mut buf).unwrap(), 100);
    // What the panic boundary does when a call on this client panicked (possibly in
    // the middle of writing a frame).
    c.poison("test");
    assert_eq!(c.pending_output(), 0);
    let e = c.read_output(&mut buf).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Panic);
    assert_eq!(c.peek_output().unwrap_err().kind(), ErrorKind::Panic);
}

/// A message sent over TLS reserves the output once, for every record its frame
/// becomes (the header counts: a frame just past a multiple of 16 KiB needs one record
/// more than its payload alone), so the last record does not double the allocation.
#[test]
fn a_tls_send_reserves_room_for_all_its_records_at_once() {
    let s = Setup::new();
    let mut p = s.pipe();
    p.open();
    for len in [(4 << 14) - 2, (1 << 14) - 1, 100_000, 10] {
        p.client.trim();
        assert!(p.client.output_capacity() <= 4 << 10, "trimmed");
        p.client.send_binary(&vec![7u8; len]).unwrap();
        let header = match len {
            0..=125 => 2,
            126..=65535 => 4,
            _ => 10,
        } + 4;
        let framed = len + header;
        let room = (framed + framed.div_ceil(1 << 14) * 29).max(4 << 10);
        assert!(
            p.client.output_capacity() <= room,
            "{len} bytes: output capacity {} > {room}",
            p.client.output_capacity()
        );
        p.server.echo = false;
        p.run().unwrap();
    }
}
