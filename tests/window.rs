//! Receiving through the input window (`input_window` + `commit_input`), which lets
//! the caller read the socket straight into the library's memory: the same results
//! as `offer_input` at every chunk size, the direct path into the message buffer on
//! `ws://`, and caller mistakes that are reported without failing the connection.

mod common;

use common::*;
use wsmachine::{Config, ErrorKind, Limits, MessageKind, Poll, State};

fn plain_pipe(config: &Config) -> Pipe {
    let mut p = Pipe::new(config, "ws://127.0.0.1:9/w", Server::new(None, accept()));
    p.use_window = true;
    p
}

fn payloads() -> Vec<(MessageKind, Vec<u8>)> {
    let mut v = Vec::new();
    for n in [
        0usize,
        1,
        125,
        126,
        4095,
        4096,
        65_536,
        300_000,
        1 << 20,
        (1 << 20) + 7,
    ] {
        v.push((
            MessageKind::Binary,
            (0..n).map(|i| (i * 31 % 251) as u8).collect(),
        ));
    }
    // Multi-byte characters at every alignment against the window and chunk edges.
    let text = "héllo € 𝄞 ".repeat(10_000);
    v.push((MessageKind::Text, text.into_bytes()));
    v
}

#[test]
fn window_echo_matches_at_every_chunk_size_plain_and_tls() {
    let s = Setup::new();
    for step in [1usize, 7, 4096, 5000, 64 << 10, 1 << 21] {
        let mut plain = plain_pipe(&Config::new());
        let mut tls = s.pipe();
        tls.use_window = true;
        for p in [&mut plain, &mut tls] {
            p.step = step;
            p.open();
            for (kind, data) in payloads() {
                if step == 1 && data.len() > 70_000 {
                    continue; // byte at a time: the small and mid sizes are enough
                }
                p.echo(kind, &data);
            }
        }
    }
}

#[test]
fn plain_large_frames_are_received_straight_into_the_message_buffer() {
    let mut p = plain_pipe(&Config::new());
    p.open();
    p.server.echo = false;
    let payload: Vec<u8> = (0..100_000u32).map(|i| (i % 253) as u8).collect();
    // Binary frame header: FIN + opcode 2, 127 = 64-bit length.
    let mut frame = vec![0x82, 127];
    frame.extend_from_slice(&(payload.len() as u64).to_be_bytes());
    let head = frame.len();
    frame.extend_from_slice(&payload);
    p.server.write_raw(&frame);
    p.server.step();
    let wire = p.server.mem().take();
    assert_eq!(wire.len(), frame.len());

    // The header arrives through the staging window...
    let w = p.client.input_window().unwrap();
    assert_eq!(w.len(), 2 << 10, "the staging window");
    w[..head].copy_from_slice(&wire[..head]);
    p.client.commit_input(head).unwrap();
    // ...and then the window is the rest of the payload, in the message buffer.
    let mut off = head;
    let mut windows = 0;
    while off < wire.len() {
        let rest = wire.len() - off;
        let w = p.client.input_window().unwrap();
        // Commit half of each direct window, to exercise partial commits; the last
        // few KiB are not worth a window of their own and go through the stage.
        let n = if rest >= 4096 {
            assert_eq!(
                w.len(),
                rest,
                "a direct window covers the rest of the frame"
            );
            windows += 1;
            rest / 2
        } else {
            assert!(
                [2 << 10, 16 << 10].contains(&w.len()),
                "the staging window, got {}",
                w.len()
            );
            rest.min(w.len())
        };
        w[..n].copy_from_slice(&wire[off..off + n]);
        p.client.commit_input(n).unwrap();
        off += n;
    }
    assert!(windows > 2);
    match p.client.poll_message().unwrap() {
        Poll::Message(m) => {
            assert_eq!(m.kind, MessageKind::Binary);
            assert!(m.data == payload.as_slice());
        }
        other => panic!("expected the message, got {other:?}"),
    }
    // The next frame header goes through the stage again.
    assert!([2 << 10, 16 << 10].contains(&p.client.input_window().unwrap().len()));
}

#[test]
fn the_staging_window_grows_when_filled_and_shrinks_when_idle() {
    let s = Setup::new();
    let mut p = s.pipe();
    p.use_window = true;
    p.open();
    p.server.echo = false;
    // 20 small binary frames in one burst: more than the 2 KiB window.
    for i in 0..20u8 {
        p.server
            .write_raw(&[&[0x82, 126, 1, 0][..], &[i; 256]].concat());
    }
    p.server.step();
    let wire = p.server.mem().take();
    assert!(wire.len() > 2 << 10);
    let w = p.client.input_window().unwrap();
    assert_eq!(w.len(), 2 << 10, "small at first");
    let n = w.len();
    w.copy_from_slice(&wire[..n]);
    p.client.commit_input(n).unwrap();
    let w = p.client.input_window().unwrap();
    // For wss:// the window is the TLS input buffer's free room: after a full window
    // the buffer is one whole record long (16 KiB of plaintext and the most a cipher
    // adds), less the partial record the first window ended in (at most 2 KiB).
    let one_record = (16 << 10) + 2048 + 5;
    assert!(
        w.len() >= one_record - (2 << 10) && w.len() <= one_record,
        "grown after a full window: {}",
        w.len()
    );
    let rest = wire.len() - n;
    w[..rest].copy_from_slice(&wire[n..]);
    p.client.commit_input(rest).unwrap();
    p.drain().unwrap();
    let got = p.take_got();
    assert_eq!(got.len(), 20);
    assert!(got
        .iter()
        .enumerate()
        .all(|(i, g)| g.data == vec![i as u8; 256]));
    p.client.trim();
    assert_eq!(
        p.client.input_window().unwrap().len(),
        2 << 10,
        "small again after trim"
    );
}

#[test]
fn invalid_utf8_through_a_direct_window_fails_with_1007() {
    let mut p = plain_pipe(&Config::new());
    p.open();
    p.server.echo = false;
    let mut payload = vec![b'a'; 10_000];
    payload[9_000] = 0xff;
    let mut frame = vec![0x81, 126];
    frame.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    frame.extend_from_slice(&payload);
    p.server.write_raw(&frame);
    let e = p.run().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidUtf8);
    assert_eq!(p.client.state(), State::Failed);
    // Sticky.
    assert_eq!(
        p.client.input_window().unwrap_err().kind(),
        ErrorKind::InvalidUtf8
    );
    assert_eq!(
        p.client.commit_input(1).unwrap_err().kind(),
        ErrorKind::InvalidUtf8
    );
}

#[test]
fn caller_mistakes_are_reported_without_failing_the_connection() {
    let s = Setup::new();
    let mut p = s.pipe();
    p.use_window = true;
    p.open();
    let e = p.client.commit_input(1).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidState, "no window lent");
    let cap = p.client.input_window().unwrap().len();
    let e = p.client.commit_input(cap + 1).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    // offer_input closes the window.
    p.server.echo = false;
    p.server.write_raw(&[0x82, 2, 1, 2]);
    p.server.step();
    let wire = p.server.mem().take();
    p.client.input_window().unwrap();
    assert_eq!(p.client.offer_input(&wire).unwrap(), wire.len());
    let e = p.client.commit_input(1).unwrap_err();
    assert_eq!(
        e.kind(),
        ErrorKind::InvalidState,
        "offer_input came in between"
    );
    assert!(matches!(p.client.poll_message().unwrap(), Poll::Message(m) if m.data == [1, 2]));
    assert_eq!(p.client.state(), State::Open);

    let mut r = s.pipe();
    r.use_window = true;
    r.open();
    r.client.input_window().unwrap();
    assert!(
        r.client.commit_input(0).is_ok(),
        "an empty commit does nothing"
    );
    assert_eq!(
        r.client.commit_input(0).unwrap_err().kind(),
        ErrorKind::InvalidState,
        "a window is committed once"
    );
    assert_eq!(r.client.state(), State::Open, "still open");
    r.echo(MessageKind::Binary, b"still works");
}

#[test]
fn the_window_is_empty_while_the_message_bound_is_reached() {
    let limits = Limits {
        max_queued_messages: 2,
        ..Default::default()
    };
    let mut config = Config::new();
    config.set_limits(limits).unwrap();
    let mut p = plain_pipe(&config);
    p.open();
    p.server.echo = false;
    for _ in 0..3 {
        p.server.write_raw(&[0x82, 1, 9]);
    }
    p.server.step();
    let wire = p.server.mem().take();
    let w = p.client.input_window().unwrap();
    w[..wire.len()].copy_from_slice(&wire);
    p.client.commit_input(wire.len()).unwrap();
    assert_eq!(
        p.client.queued_messages(),
        3,
        "a commit takes all its bytes"
    );
    assert!(p.client.input_window().unwrap().is_empty(), "poll first");
    for _ in 0..3 {
        assert!(matches!(p.client.poll_message().unwrap(), Poll::Message(_)));
    }
    assert!(!p.client.input_window().unwrap().is_empty());
}

/// For `wss://` the window is the TLS input buffer: never larger than one record (so
/// a commit decodes at most that much past the bound on undelivered messages), and
/// the buffer stops at its bound when a server cuts a handshake message into records
/// of one byte (each record's header stays in the buffer until the message is whole):
/// the client fails with `TlsCorrupt` instead of growing.
#[test]
fn the_tls_window_is_bounded_by_one_record_and_the_buffer_by_its_limit() {
    let s = Setup::new();
    let mut c = wsmachine::Client::new(&s.config, "wss://localhost/").unwrap();
    let mut hello = vec![0u8; 4096];
    assert!(c.read_output(&mut hello).unwrap() > 0, "the ClientHello");
    let wire = server_hello_in_one_byte_records(40_000);
    let one_record = (16 << 10) + 2048 + 5;
    let mut off = 0;
    let e = loop {
        let w = match c.input_window() {
            Ok(w) => w,
            Err(e) => break e,
        };
        assert!(
            !w.is_empty() && w.len() <= one_record,
            "window of {}",
            w.len()
        );
        assert!(off < wire.len(), "the whole flight was taken");
        let n = w.len().min(wire.len() - off);
        w[..n].copy_from_slice(&wire[off..off + n]);
        off += n;
        if let Err(e) = c.commit_input(n) {
            break e;
        }
        assert!(
            c.retained_capacity() <= 65_539 + one_record + (8 << 10),
            "retained {}",
            c.retained_capacity()
        );
    };
    assert_eq!(e.kind(), ErrorKind::TlsCorrupt, "{e}");
    assert!(off > 65_539, "failed only at the bound ({off} bytes taken)");
}
