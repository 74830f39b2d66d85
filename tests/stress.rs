//! Concurrency stress of the C ABI handle table: 8 threads x 64 clients (and their
//! configs) created, used, closed and freed at once, while every thread also uses
//! and frees the handles its neighbours are freeing (use-after-free, double free),
//! pokes their live handles, and passes garbage and wrong-type handles.
//!
//! Checked: no crash, no deadlock (a watchdog bounds the run), every call returns a
//! documented code (never `WS_PANIC`), a freed handle answers `WS_INVALID_HANDLE`
//! even after its slot was reused, and `ws_handle_count` is back where it started.
//! No timing is asserted: the deadline only turns a hang into a failure.
//!
//! `ws_handle_count` is global to the process, so this file holds a single test.

use std::ffi::CString;
use std::ptr::{null, null_mut};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::Duration;

use wsmachine::ffi::*;

const THREADS: usize = 8;
const PER_THREAD: usize = 64;
/// Generous: this only catches a deadlock, on a loaded 2-core machine in debug.
const DEADLINE: Duration = Duration::from_secs(600);

const OK: ws_result = ws_result::WS_OK;
const INVALID_HANDLE: ws_result = ws_result::WS_INVALID_HANDLE;
const NULL_POINTER: ws_result = ws_result::WS_NULL_POINTER;
const INVALID_STATE: ws_result = ws_result::WS_INVALID_STATE;
const BUFFER_TOO_SMALL: ws_result = ws_result::WS_BUFFER_TOO_SMALL;
const BAD_RESPONSE: ws_result = ws_result::WS_BAD_RESPONSE;
const CONNECTION_LOST: ws_result = ws_result::WS_CONNECTION_LOST;
const STATE_TLS: ws_state = ws_state::WS_STATE_TLS_HANDSHAKING;
const STATE_WS: ws_state = ws_state::WS_STATE_WS_HANDSHAKING;
const STATE_FAILED: ws_state = ws_state::WS_STATE_FAILED;

/// Codes a failed connection answers with (TLS, handshake, protocol, ended).
fn is_failure(code: ws_result) -> bool {
    let code = code as u32;
    matches!(code, 200..=209 | 300..=306 | 400..=403 | 501 | 502)
}

fn is_tls_failure(code: ws_result) -> bool {
    let code = code as u32;
    matches!(code, 200..=209)
}

/// Asserts that `code` is one of `allowed` codes or a connection failure, and never
/// a panic or an unknown number.
#[track_caller]
fn documented(what: &str, code: ws_result, allowed: &[ws_result]) {
    let known = unsafe { std::ffi::CStr::from_ptr(ws_result_str(code as u32)) };
    assert_ne!(
        known.to_bytes(),
        b"unknown result code",
        "{what}: undocumented code {code:?}"
    );
    assert_ne!(
        code,
        ws_result::WS_PANIC,
        "{what}: panic inside the library"
    );
    assert!(
        allowed.contains(&code) || is_failure(code),
        "{what}: code {code:?} is not documented for it"
    );
}

/// A small deterministic generator (xorshift64*), one per thread.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[derive(Default)]
struct Shared {
    /// Clients that are alive or about to be freed (poked read-only by neighbours).
    live: Mutex<Vec<u64>>,
    /// Handles that their owner has freed or is about to free.
    doomed: Mutex<Vec<u64>>,
    /// Every handle ever issued, for the final sweep.
    all: Mutex<Vec<u64>>,
    /// Handles a neighbour freed and then saw answer `WS_INVALID_HANDLE`.
    stale_checked: AtomicUsize,
}

fn pick(list: &Mutex<Vec<u64>>, rng: &mut Rng) -> Option<u64> {
    let l = list.lock().unwrap();
    (!l.is_empty()).then(|| l[rng.below(l.len())])
}

fn new_config() -> u64 {
    let mut cfg = 0;
    assert_eq!(unsafe { ws_config_new(&mut cfg) }, OK);
    assert_ne!(cfg, 0, "0 is never a valid handle");
    cfg
}

fn new_client(cfg: u64, url: &str) -> Result<u64, ws_result> {
    let url = CString::new(url).unwrap();
    let mut c = 0;
    match unsafe { ws_client_new(cfg, url.as_ptr(), &mut c) } {
        OK => {
            assert_ne!(c, 0);
            Ok(c)
        }
        code => Err(code),
    }
}

fn state(c: u64) -> ws_state {
    let mut s = ws_state::WS_STATE_FAILED;
    assert_eq!(
        unsafe { ws_client_state(c, &mut s) },
        OK,
        "state of a live client"
    );
    s
}

/// Drains the output; returns the bytes read and the code that ended the drain.
fn drain(c: u64) -> (usize, ws_result) {
    let mut buf = [0u8; 1024];
    let mut total = 0;
    loop {
        let mut n = usize::MAX;
        let code = unsafe { ws_read_output(c, buf.as_mut_ptr(), buf.len(), &mut n) };
        documented("ws_read_output", code, &[OK]);
        if code != OK {
            assert_eq!(n, 0, "read_output failure writes *out_len = 0");
            return (total, code);
        }
        assert!(n <= buf.len(), "read_output returned more than the buffer");
        if n == 0 {
            return (total, OK);
        }
        total += n;
    }
}

fn offer(c: u64, data: &[u8]) -> ws_result {
    let mut used = usize::MAX;
    let code = unsafe { ws_offer_input(c, data.as_ptr(), data.len(), &mut used) };
    documented("ws_offer_input", code, &[OK, INVALID_HANDLE]);
    if code == OK {
        assert!(used <= data.len());
    }
    code
}

fn send_text(c: u64, text: &str) -> ws_result {
    let code = unsafe { ws_send_text(c, text.as_ptr(), text.len()) };
    documented(
        "ws_send_text",
        code,
        &[
            OK,
            INVALID_STATE,
            INVALID_HANDLE,
            ws_result::WS_ALREADY_CLOSED,
        ],
    );
    code
}

fn last_error_len(c: u64) -> (ws_result, usize) {
    let mut buf = [0u8; 64];
    let mut len = usize::MAX;
    let code = unsafe { ws_client_last_error(c, buf.as_mut_ptr().cast(), buf.len(), &mut len) };
    documented("ws_client_last_error", code, &[OK, INVALID_HANDLE]);
    if code == OK {
        let written = len.min(buf.len() - 1);
        assert_eq!(buf[written], 0, "last error is NUL-terminated");
    }
    (code, len)
}

/// Every client call on a handle that must be invalid answers `WS_INVALID_HANDLE`.
fn assert_stale_client(c: u64) {
    let mut buf = [0u8; 16];
    let mut n = 0usize;
    let mut s = ws_state::WS_STATE_FAILED;
    let mut d = 0u64;
    let mut msg = ws_message {
        kind: ws_message_kind::WS_MESSAGE_TEXT,
        data: null(),
        len: 0,
        close_code: 0,
    };
    unsafe {
        assert_eq!(
            ws_read_output(c, buf.as_mut_ptr(), buf.len(), &mut n),
            INVALID_HANDLE
        );
        assert_eq!(ws_offer_input(c, b"x".as_ptr(), 1, &mut n), INVALID_HANDLE);
        assert_eq!(ws_offer_input(c, null(), 0, &mut n), INVALID_HANDLE);
        assert_eq!(ws_send_text(c, b"x".as_ptr(), 1), INVALID_HANDLE);
        assert_eq!(ws_send_binary(c, null(), 0), INVALID_HANDLE);
        assert_eq!(ws_send_ping(c, null(), 0), INVALID_HANDLE);
        assert_eq!(ws_close(c, 1000, null(), 0), INVALID_HANDLE);
        assert_eq!(ws_poll_message(c, &mut msg), INVALID_HANDLE);
        assert_eq!(ws_client_state(c, &mut s), INVALID_HANDLE);
        assert_eq!(ws_client_tick(c, 1), INVALID_HANDLE);
        assert_eq!(ws_client_next_deadline(c, &mut d), INVALID_HANDLE);
        assert_eq!(ws_client_pending_output(c, &mut n), INVALID_HANDLE);
        assert_eq!(
            ws_client_last_error(c, buf.as_mut_ptr().cast(), buf.len(), &mut n),
            INVALID_HANDLE
        );
    }
}

/// Read-only calls on someone else's client: it may be live, failed or freed.
fn poke(c: u64) {
    let mut s = ws_state::WS_STATE_FAILED;
    let mut n = 0usize;
    let mut d = 0u64;
    let mut status = 0u16;
    unsafe {
        let code = ws_client_state(c, &mut s);
        documented("poke state", code, &[OK, INVALID_HANDLE]);
        if code == OK {
            assert!((1..=6).contains(&(s as u32)), "state {s:?}");
        }
        let code = ws_client_pending_output(c, &mut n);
        documented("poke pending_output", code, &[OK, INVALID_HANDLE]);
        let code = ws_client_next_deadline(c, &mut d);
        documented("poke next_deadline", code, &[OK, INVALID_HANDLE]);
        let code = ws_client_http_status(c, &mut status);
        documented("poke http_status", code, &[OK, INVALID_HANDLE]);
        // cap 0 never takes bytes: it reports the pending count.
        let code = ws_read_output(c, null_mut(), 0, &mut n);
        documented(
            "poke read_output(cap 0)",
            code,
            &[OK, BUFFER_TOO_SMALL, INVALID_HANDLE],
        );
    }
    last_error_len(c);
}

/// The life of one client on its owner's thread, with exact expectations.
fn life(cfg: u64, tls: bool, eof: bool, sh: &Shared, rng: &mut Rng) {
    let url = if tls {
        "wss://localhost/stress"
    } else {
        "ws://localhost/stress"
    };
    let c = new_client(cfg, url).expect("client from a live config");
    sh.all.lock().unwrap().push(c);
    sh.live.lock().unwrap().push(c);

    assert_eq!(state(c), if tls { STATE_TLS } else { STATE_WS });
    unsafe {
        assert_eq!(ws_client_state(c, null_mut()), NULL_POINTER);
        let mut n = 0;
        assert_eq!(ws_offer_input(c, null(), 5, &mut n), NULL_POINTER);
    }
    // Sends before the handshake are refused, not queued.
    assert_eq!(send_text(c, "too early"), INVALID_STATE);
    // The ClientHello or upgrade request is ready at once.
    let (n, code) = drain(c);
    assert_eq!(code, OK);
    assert!(n > 0, "nothing to send at the start");

    // End the connection: EOF, or bytes that are neither HTTP nor TLS.
    let failure = if eof {
        let mut used = 0;
        let code = unsafe { ws_offer_input(c, null(), 0, &mut used) };
        assert_eq!(code, CONNECTION_LOST, "EOF during the handshake");
        code
    } else if tls {
        let code = offer(c, b"HTTP/1.1 400 Bad Request\r\n\r\n");
        assert!(is_tls_failure(code), "garbage instead of TLS gave {code:?}");
        code
    } else {
        let code = offer(c, b"garbage\r\n\r\n");
        assert_eq!(code, BAD_RESPONSE, "garbage instead of HTTP");
        code
    };
    // Sticky: every call now returns the failure.
    assert_eq!(state(c), STATE_FAILED);
    assert_eq!(send_text(c, "after failure"), failure);
    assert_eq!(offer(c, b"more"), failure);
    assert_eq!(ws_client_tick(c, 1), failure);
    let (_, code) = drain(c); // a TLS alert may still be pending
    assert_eq!(code, failure);
    let (code, len) = last_error_len(c);
    assert_eq!(code, OK);
    assert!(len > 0, "a failed client explains itself");

    // Meanwhile, poke someone else's client.
    if let Some(other) = pick(&sh.live, rng) {
        poke(other);
    }

    // Free: publish first so that a neighbour may race us to it.
    sh.doomed.lock().unwrap().push(c);
    assert_eq!(ws_client_free(c), OK);
    assert_eq!(ws_client_free(c), OK, "double free is a no-op");
    assert_stale_client(c);
    sh.live.lock().unwrap().retain(|&h| h != c);
}

/// A neighbour's turn: free a doomed handle (maybe racing its owner), then check
/// that it is stale; also garbage and wrong-type handles.
fn attack(sh: &Shared, rng: &mut Rng, own_cfg: u64) {
    if let Some(h) = pick(&sh.doomed, rng) {
        // It may be a client or a config: both frees are no-ops on the wrong type.
        assert_eq!(ws_client_free(h), OK);
        assert_eq!(ws_config_free(h), OK);
        assert_stale_client(h);
        assert_eq!(ws_config_set_max_message_size(h, 1000), INVALID_HANDLE);
        let url = CString::new("ws://localhost/").unwrap();
        let mut c = 0;
        assert_eq!(
            unsafe { ws_client_new(h, url.as_ptr(), &mut c) },
            INVALID_HANDLE
        );
        assert_eq!(c, 0, "out_client written on failure");
        sh.stale_checked.fetch_add(1, Ordering::Relaxed);
    }
    // Garbage: slot indexes far beyond anything issued, any generation.
    let garbage = (rng.next() << 32) | 0xffff_0000 | (rng.next() & 0xffff);
    assert_stale_client(garbage);
    assert_stale_client(0);
    assert_eq!(ws_client_free(garbage), OK);
    assert_eq!(ws_config_free(0), OK);
    // Wrong type: a live config is not a client, and a client is not a config.
    assert_stale_client(own_cfg);
    if let Some(c) = pick(&sh.live, rng) {
        let code = ws_config_set_max_frame_size(c, 1000);
        assert_eq!(code, INVALID_HANDLE, "a client handle used as a config");
        assert_eq!(
            ws_config_free(c),
            OK,
            "freeing a client as a config is a no-op"
        );
    }
}

fn worker(t: usize, sh: Arc<Shared>, start: Arc<Barrier>) {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (t as u64 + 1).wrapping_mul(0x1234_5678_9abc_def1));
    start.wait();
    // One config per thread lives the whole run; others come and go.
    let shared_cfg = new_config();
    sh.all.lock().unwrap().push(shared_cfg);
    for i in 0..PER_THREAD {
        let own = rng.below(2) == 0;
        let cfg = if own {
            let cfg = new_config();
            sh.all.lock().unwrap().push(cfg);
            assert_eq!(ws_config_set_max_message_size(cfg, 1 << 20), OK);
            cfg
        } else {
            shared_cfg
        };
        // Every 4th client is wss:// (building its TLS config costs more).
        life(cfg, i % 4 == t % 4, rng.below(3) == 0, &sh, &mut rng);
        if own {
            // Clients outlive nothing here, but freeing a config in use is safe too.
            sh.doomed.lock().unwrap().push(cfg);
            assert_eq!(ws_config_free(cfg), OK);
            assert_eq!(ws_config_set_idle_timeout(cfg, 1), INVALID_HANDLE);
            let url = CString::new("ws://localhost/").unwrap();
            let mut c = 0;
            assert_eq!(
                unsafe { ws_client_new(cfg, url.as_ptr(), &mut c) },
                INVALID_HANDLE
            );
        }
        for _ in 0..4 {
            attack(&sh, &mut rng, shared_cfg);
        }
    }
    // A client made from a config that is freed while the client lives.
    let cfg = new_config();
    let c = new_client(cfg, "ws://localhost/late").unwrap();
    assert_eq!(ws_config_free(cfg), OK);
    assert_eq!(state(c), STATE_WS);
    assert!(drain(c).0 > 0);
    assert_eq!(ws_client_free(c), OK);
    assert_eq!(ws_config_free(shared_cfg), OK);
    sh.doomed.lock().unwrap().push(shared_cfg);
}

#[test]
fn handles_under_concurrent_use_free_and_misuse() {
    let mut start_count = 0usize;
    assert_eq!(unsafe { ws_handle_count(&mut start_count) }, OK);
    assert_eq!(unsafe { ws_handle_count(null_mut()) }, NULL_POINTER);

    let sh = Arc::new(Shared::default());
    let barrier = Arc::new(Barrier::new(THREADS));
    let (done_tx, done_rx) = mpsc::channel();
    let mut handles = Vec::new();
    for t in 0..THREADS {
        let sh = Arc::clone(&sh);
        let barrier = Arc::clone(&barrier);
        let done = done_tx.clone();
        handles.push(
            thread::Builder::new()
                .name(format!("stress-{t}"))
                .spawn(move || {
                    // Report even when the worker panics, so the watchdog sees it.
                    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        worker(t, sh, barrier)
                    }));
                    let _ = done.send((t, r.is_ok()));
                    if let Err(p) = r {
                        std::panic::resume_unwind(p);
                    }
                })
                .unwrap(),
        );
    }
    drop(done_tx);

    // Watchdog: a deadlocked worker never reports; fail instead of hanging.
    for _ in 0..THREADS {
        match done_rx.recv_timeout(DEADLINE) {
            Ok((t, ok)) => assert!(ok, "worker {t} failed (see its panic above)"),
            Err(_) => panic!("a worker did not finish within {DEADLINE:?}: deadlock?"),
        }
    }
    for h in handles {
        h.join().unwrap();
    }

    // Every handle ever issued is stale now, and freeing it again changes nothing.
    let all = std::mem::take(&mut *sh.all.lock().unwrap());
    assert!(all.len() >= THREADS * (1 + PER_THREAD));
    // Slots were reused all the time, yet no handle value was ever issued twice.
    let mut unique = all.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), all.len(), "a handle value was issued twice");
    for &h in &all {
        assert_eq!(ws_client_free(h), OK);
        assert_eq!(ws_config_free(h), OK);
        assert_stale_client(h);
    }
    assert!(
        sh.stale_checked.load(Ordering::Relaxed) > 0,
        "no neighbour ever freed a handle"
    );

    let mut end_count = usize::MAX;
    assert_eq!(unsafe { ws_handle_count(&mut end_count) }, OK);
    assert_eq!(end_count, start_count, "handles leaked (or freed twice)");
}
