//! The C ABI called directly from Rust: echo over the in-memory pipe through the
//! exports, misuse of handles and pointers, and the panic boundary.

mod common;

use std::ffi::CString;
use std::ptr::{null, null_mut};

use common::*;
use wsmachine::ffi::*;

const OK: ws_result = ws_result::WS_OK;

fn new_config() -> ws_config {
    let mut cfg = 0;
    assert_eq!(unsafe { ws_config_new(&mut cfg) }, OK);
    assert_ne!(cfg, 0);
    cfg
}

fn new_client(cfg: ws_config, url: &str) -> ws_client {
    let url = CString::new(url).unwrap();
    let mut c = 0;
    assert_eq!(unsafe { ws_client_new(cfg, url.as_ptr(), &mut c) }, OK);
    c
}

fn state(c: ws_client) -> ws_state {
    let mut s = ws_state::WS_STATE_FAILED;
    assert_eq!(unsafe { ws_client_state(c, &mut s) }, OK);
    s
}

fn last_error(c: ws_client) -> String {
    let mut len = 0;
    assert_eq!(
        unsafe { ws_client_last_error(c, null_mut(), 0, &mut len) },
        OK
    );
    let mut buf = vec![0u8; len + 1];
    assert_eq!(
        unsafe { ws_client_last_error(c, buf.as_mut_ptr().cast(), buf.len(), &mut len) },
        OK
    );
    buf.truncate(len);
    String::from_utf8(buf).unwrap()
}

/// Moves bytes between a C-ABI client and the in-memory server, `step` bytes per
/// offer, echoing every message the client receives into `got`.
struct FfiPipe {
    c: ws_client,
    server: Server,
    step: usize,
    got: Vec<(ws_message_kind, Vec<u8>, u16)>,
}

impl FfiPipe {
    fn pump(&mut self) -> Result<bool, ws_result> {
        let mut moved = false;
        let mut buf = vec![0u8; 16 << 10];
        loop {
            let mut n = 0;
            let r = unsafe { ws_read_output(self.c, buf.as_mut_ptr(), buf.len(), &mut n) };
            if r != OK || n == 0 {
                break;
            }
            moved = true;
            self.server.mem().push(&buf[..n]);
        }
        self.server.step();
        let out = self.server.mem().take();
        moved |= !out.is_empty();
        for chunk in out.chunks(self.step) {
            let mut off = 0;
            while off < chunk.len() {
                let mut used = 0;
                let r = unsafe {
                    ws_offer_input(self.c, chunk[off..].as_ptr(), chunk.len() - off, &mut used)
                };
                if r != OK {
                    return Err(r);
                }
                off += used;
                self.poll()?;
            }
        }
        self.poll()?;
        Ok(moved)
    }

    fn poll(&mut self) -> Result<(), ws_result> {
        loop {
            let mut m = ws_message {
                kind: ws_message_kind::WS_MESSAGE_TEXT,
                data: null(),
                len: 0,
                close_code: 0,
            };
            match unsafe { ws_poll_message(self.c, &mut m) } {
                r if r == OK => {
                    assert!(!m.data.is_null());
                    let data = unsafe { std::slice::from_raw_parts(m.data, m.len) }.to_vec();
                    self.got.push((m.kind, data, m.close_code));
                }
                r if r == ws_result::WS_NEED_INPUT || r == ws_result::WS_CLOSED => return Ok(()),
                r => return Err(r),
            }
        }
    }

    fn run(&mut self) -> Result<(), ws_result> {
        for _ in 0..10_000 {
            if !self.pump()? {
                return Ok(());
            }
        }
        panic!("did not settle");
    }
}

#[test]
fn echo_through_the_c_abi_one_byte_at_a_time() {
    let s = Setup::new();
    let cfg = new_config();
    assert_eq!(
        unsafe { ws_config_add_root_pem(cfg, s.pki.ca_pem.as_ptr(), s.pki.ca_pem.len()) },
        OK
    );
    let c = new_client(cfg, "wss://localhost/echo");
    // The config may be freed while its clients live.
    assert_eq!(ws_config_free(cfg), OK);
    assert_eq!(state(c), ws_state::WS_STATE_TLS_HANDSHAKING);
    let mut p = FfiPipe {
        c,
        server: Server::new(Some(s.server_tls.clone()), accept()),
        step: 1,
        got: vec![],
    };
    p.run().unwrap();
    assert_eq!(state(c), ws_state::WS_STATE_OPEN);
    p.step = 7;
    for n in [0usize, 1, 125, 126, 65535, 65536, 1 << 20] {
        let payload: Vec<u8> = (0..n).map(|i| (i % 200) as u8).collect();
        assert_eq!(
            unsafe { ws_send_binary(c, payload.as_ptr(), payload.len()) },
            OK
        );
        p.run().unwrap();
        let (kind, data, _) = p.got.pop().unwrap();
        assert_eq!(kind, ws_message_kind::WS_MESSAGE_BINARY);
        assert!(data == payload);
    }
    let reason = b"bye";
    assert_eq!(
        unsafe { ws_close(c, 1000, reason.as_ptr(), reason.len()) },
        OK
    );
    p.run().unwrap();
    let (kind, data, close) = p.got.pop().unwrap();
    assert_eq!((kind, close), (ws_message_kind::WS_MESSAGE_CLOSE, 1000));
    assert_eq!(data, b"bye", "tungstenite echoes the reason");
    assert_eq!(state(c), ws_state::WS_STATE_CLOSED);
    let mut m = ws_message {
        kind: ws_message_kind::WS_MESSAGE_TEXT,
        data: null(),
        len: 0,
        close_code: 0,
    };
    assert_eq!(unsafe { ws_poll_message(c, &mut m) }, ws_result::WS_CLOSED);
    assert_eq!(
        unsafe { ws_send_text(c, b"x".as_ptr(), 1) },
        ws_result::WS_ALREADY_CLOSED
    );
    assert_eq!(ws_client_free(c), OK);
}

#[test]
fn copy_out_poll_reports_size_needed() {
    let cfg = new_config();
    let c = new_client(cfg, "ws://localhost/");
    let mut p = FfiPipe {
        c,
        server: Server::new(None, accept()),
        step: 100,
        got: vec![],
    };
    p.run().unwrap();
    p.server.echo = false;
    p.server.write_raw(&[0x82, 5, 1, 2, 3, 4, 5]);
    p.server.step();
    let bytes = p.server.mem().take();
    let mut used = 0;
    assert_eq!(
        unsafe { ws_offer_input(c, bytes.as_ptr(), bytes.len(), &mut used) },
        OK
    );
    let (mut kind, mut len, mut cc) = (ws_message_kind::WS_MESSAGE_TEXT, 0usize, 0u16);
    let mut small = [0u8; 4];
    let r = unsafe {
        ws_poll_message_copy(
            c,
            small.as_mut_ptr(),
            small.len(),
            &mut kind,
            &mut len,
            &mut cc,
        )
    };
    assert_eq!((r, len), (ws_result::WS_BUFFER_TOO_SMALL, 5));
    let mut big = [0u8; 8];
    let r = unsafe {
        ws_poll_message_copy(c, big.as_mut_ptr(), big.len(), &mut kind, &mut len, &mut cc)
    };
    assert_eq!((r, kind, len), (OK, ws_message_kind::WS_MESSAGE_BINARY, 5));
    assert_eq!(&big[..5], &[1, 2, 3, 4, 5]);
    let r = unsafe {
        ws_poll_message_copy(c, big.as_mut_ptr(), big.len(), &mut kind, &mut len, &mut cc)
    };
    assert_eq!(r, ws_result::WS_NEED_INPUT);
    ws_client_free(c);
    ws_config_free(cfg);
}

#[test]
fn misuse_returns_codes_never_crashes() {
    let inv = ws_result::WS_INVALID_HANDLE;
    let nul = ws_result::WS_NULL_POINTER;
    let mut n = 0usize;
    let mut st = ws_state::WS_STATE_FAILED;
    unsafe {
        assert_eq!(ws_config_new(null_mut()), nul);
        assert_eq!(ws_client_state(0, &mut st), inv);
        assert_eq!(ws_client_state(0xdead_beef_1234_5678, &mut st), inv);
        assert_eq!(ws_offer_input(u64::MAX, b"x".as_ptr(), 1, &mut n), inv);
        assert_eq!(ws_client_free(0), OK);
        assert_eq!(ws_config_free(12345), OK);

        let cfg = new_config();
        // A handle one bit off a live one was never issued.
        assert_eq!(ws_config_set_idle_timeout(cfg ^ (1 << 32), 0), inv);
        assert_eq!(ws_config_free(cfg ^ (1 << 32)), OK);
        assert_eq!(
            ws_config_set_idle_timeout(cfg, 0),
            OK,
            "the live handle survived"
        );
        assert_eq!(ws_config_set_idle_timeout(1, 0), inv);
        // A config handle is not a client handle, and vice versa.
        assert_eq!(ws_client_state(cfg, &mut st), inv);
        let c = new_client(cfg, "wss://localhost/");
        assert_eq!(ws_config_set_max_message_size(c, 10), inv);
        assert_eq!(
            ws_client_new(cfg, null(), &mut n as *mut usize as *mut u64),
            nul
        );
        assert_eq!(ws_offer_input(c, null(), 5, &mut n), nul);
        assert_eq!(ws_offer_input(c, null(), 0, null_mut()), nul);
        assert_eq!(ws_send_binary(c, null(), 3), nul);
        assert_eq!(ws_send_binary(c, null(), 0), ws_result::WS_INVALID_STATE);
        assert_eq!(
            ws_read_output(c, null_mut(), 0, &mut n),
            ws_result::WS_BUFFER_TOO_SMALL
        );
        assert!(n > 0, "size of the pending ClientHello");
        assert_eq!(
            ws_config_set_max_message_size(cfg, 0),
            ws_result::WS_INVALID_CONFIG
        );
        assert_eq!(
            ws_config_set_min_tls_version(cfg, 11),
            ws_result::WS_INVALID_ARGUMENT
        );

        let bad = CString::new("http://example.com/").unwrap();
        let mut c2 = 0u64;
        assert_eq!(
            ws_client_new(cfg, bad.as_ptr(), &mut c2),
            ws_result::WS_INVALID_URL
        );
        assert_eq!(c2, 0, "out-params are written only on success");
        let mut len = 0;
        assert_eq!(ws_last_error(null_mut(), 0, &mut len), OK);
        let mut buf = [0u8; 8];
        assert_eq!(
            ws_last_error(buf.as_mut_ptr().cast(), buf.len(), &mut len),
            OK
        );
        assert!(len > 7, "full length is reported");
        assert_eq!(buf[7], 0, "truncated text is NUL-terminated");

        // Stale handles after free, and a double free.
        assert_eq!(ws_client_free(c), OK);
        assert_eq!(ws_client_free(c), OK);
        assert_eq!(ws_client_state(c, &mut st), inv);
        assert_eq!(ws_config_free(cfg), OK);
        let cfg2 = new_config();
        assert_ne!(cfg2, cfg, "a reused slot gets a new generation");
        assert_eq!(ws_config_set_max_message_size(cfg, 10), inv);
        ws_config_free(cfg2);
        assert!(!std::ffi::CStr::from_ptr(ws_result_str(999_999))
            .to_bytes()
            .is_empty());
        // WS_CLOSED also follows an end without a close handshake (1006): not "cleanly".
        let closed = std::ffi::CStr::from_ptr(ws_result_str(2)).to_str().unwrap();
        assert!(!closed.contains("cleanly"), "{closed}");
        assert_eq!(
            std::ffi::CStr::from_ptr(ws_version()).to_str().unwrap(),
            env!("CARGO_PKG_VERSION")
        );
    }
}

#[test]
fn a_panic_poisons_only_its_handle() {
    let cfg = new_config();
    let a = new_client(cfg, "ws://localhost/a");
    let b = new_client(cfg, "ws://localhost/b");
    assert_eq!(__test_panic_inside(a), ws_result::WS_PANIC);
    assert_eq!(state(a), ws_state::WS_STATE_FAILED);
    assert!(last_error(a).contains("panic"));
    let mut n = 0;
    assert_eq!(
        unsafe { ws_offer_input(a, b"x".as_ptr(), 1, &mut n) },
        ws_result::WS_PANIC
    );
    // The other handle is unaffected.
    assert_eq!(state(b), ws_state::WS_STATE_WS_HANDSHAKING);
    let mut buf = [0u8; 1024];
    assert_eq!(
        unsafe { ws_read_output(b, buf.as_mut_ptr(), buf.len(), &mut n) },
        OK
    );
    assert!(n > 0);
    ws_client_free(a);
    ws_client_free(b);
    ws_config_free(cfg);
}

#[test]
fn last_error_is_the_most_recent_detail() {
    let cfg = new_config();
    let c = new_client(cfg, "ws://localhost/");
    // A rejected call: sending before the handshake.
    assert_eq!(
        unsafe { ws_send_text(c, b"x".as_ptr(), 1) },
        ws_result::WS_INVALID_STATE
    );
    let early = last_error(c);
    assert!(!early.is_empty());
    let mut p = FfiPipe {
        c,
        server: Server::new(None, accept()),
        step: 64,
        got: vec![],
    };
    p.run().unwrap();
    assert_eq!(state(c), ws_state::WS_STATE_OPEN);
    assert_eq!(last_error(c), early, "nothing newer happened yet");
    // Then the TCP stream ends without a close frame: that is the newer detail.
    let mut used = 0;
    assert_eq!(unsafe { ws_offer_input(c, null(), 0, &mut used) }, OK);
    p.poll().unwrap();
    assert_eq!(state(c), ws_state::WS_STATE_CLOSED);
    let now = last_error(c);
    assert_ne!(now, early);
    assert!(now.contains("close"), "{now}");
    // And a rejected call after that is newer again.
    assert_eq!(
        unsafe { ws_send_text(c, b"x".as_ptr(), 1) },
        ws_result::WS_ALREADY_CLOSED
    );
    assert_ne!(last_error(c), now);
    ws_client_free(c);
    ws_config_free(cfg);
}

#[test]
fn failure_is_sticky_through_the_c_abi() {
    let cfg = new_config();
    let c = new_client(cfg, "ws://localhost/");
    let mut p = FfiPipe {
        c,
        server: Server::new(None, accept()),
        step: 3,
        got: vec![],
    };
    p.run().unwrap();
    p.server.echo = false;
    p.server.write_raw(&[0x83, 0]); // reserved opcode
    let err = p.run().unwrap_err();
    assert_eq!(err, ws_result::WS_PROTOCOL_ERROR);
    assert_eq!(state(c), ws_state::WS_STATE_FAILED);
    let msg = last_error(c);
    assert!(msg.contains("opcode"), "{msg}");
    let mut n = 0;
    let mut buf = [0u8; 64];
    // The 1002 close frame is still handed out, then the failure code.
    assert_eq!(
        unsafe { ws_read_output(c, buf.as_mut_ptr(), buf.len(), &mut n) },
        OK
    );
    assert!(n > 0);
    assert_eq!(
        unsafe { ws_read_output(c, buf.as_mut_ptr(), buf.len(), &mut n) },
        err
    );
    assert_eq!(n, 0);
    assert_eq!(unsafe { ws_send_text(c, b"x".as_ptr(), 1) }, err);
    assert_eq!(ws_client_tick(c, 5), err);
    ws_client_free(c);
    ws_config_free(cfg);
}

#[test]
fn zero_copy_output_peek_and_consume() {
    let cfg = new_config();
    let c = new_client(cfg, "ws://localhost/peek");
    let (mut data, mut len) = (null(), 0usize);
    unsafe {
        assert_eq!(ws_peek_output(c, &mut data, &mut len), OK);
        assert!(len > 20);
        let view = std::slice::from_raw_parts(data, len);
        assert!(view.starts_with(b"GET /peek HTTP/1.1\r\n"));
        let mut pending = 0;
        ws_client_pending_output(c, &mut pending);
        assert_eq!(pending, len, "peeking removes nothing");
        assert_eq!(
            ws_consume_output(c, len + 1),
            ws_result::WS_INVALID_ARGUMENT
        );
        assert_eq!(ws_consume_output(c, 4), OK);
        let (mut d2, mut l2) = (null(), 0usize);
        assert_eq!(ws_peek_output(c, &mut d2, &mut l2), OK);
        assert_eq!(l2, len - 4);
        assert!(std::slice::from_raw_parts(d2, l2).starts_with(b"/peek"));
        assert_eq!(ws_consume_output(c, l2), OK);
        assert_eq!(ws_peek_output(c, &mut d2, &mut l2), OK);
        assert_eq!(l2, 0);
        assert!(!d2.is_null());
        assert_eq!(
            ws_peek_output(c, null_mut(), &mut l2),
            ws_result::WS_NULL_POINTER
        );
    }
    assert_eq!(ws_client_trim(c), OK);
    assert_eq!(ws_client_trim(0), ws_result::WS_INVALID_HANDLE);
    ws_client_free(c);
    ws_config_free(cfg);
}

#[test]
fn probe_through_the_c_abi() {
    let s = Setup::new();
    let cfg = new_config();
    assert_eq!(
        unsafe { ws_config_add_root_pem(cfg, s.pki.ca_pem.as_ptr(), s.pki.ca_pem.len()) },
        OK
    );
    assert_eq!(ws_config_set_keepalive_interval(cfg, 1000), OK);
    assert_eq!(ws_config_set_idle_timeout(cfg, 3000), OK);
    let c = new_client(cfg, "wss://localhost/echo");
    assert_eq!(
        ws_client_probe(c, 0, 1000),
        ws_result::WS_INVALID_STATE,
        "not open yet"
    );
    let mut p = FfiPipe {
        c,
        server: Server::new(Some(s.server_tls.clone()), accept()),
        step: 64 << 10,
        got: vec![],
    };
    p.run().unwrap();
    assert_eq!(ws_client_tick(c, 10_000), OK);
    assert_eq!(
        ws_client_probe(c, 20_000, 0),
        ws_result::WS_INVALID_ARGUMENT
    );
    assert_eq!(
        ws_client_probe(0, 20_000, 500),
        ws_result::WS_INVALID_HANDLE
    );

    // A jump of an hour, a probe, an answer: still open.
    let now = 10_000 + 3_600_000;
    assert_eq!(ws_client_probe(c, now, 500), OK);
    assert_eq!(ws_client_tick(c, now), OK);
    let mut deadline = 0;
    assert_eq!(unsafe { ws_client_next_deadline(c, &mut deadline) }, OK);
    assert_eq!(deadline, now + 500);
    p.run().unwrap();
    assert_eq!(p.got.pop().unwrap().0, ws_message_kind::WS_MESSAGE_PONG);
    assert_eq!(ws_client_tick(c, now + 600), OK);
    assert_eq!(state(c), ws_state::WS_STATE_OPEN);

    // Another jump; this time the ping is lost and nothing comes back.
    let now = now + 3_600_000;
    assert_eq!(ws_client_probe(c, now, 500), OK);
    let mut sink = vec![0u8; 1000];
    let mut n = 0;
    assert_eq!(
        unsafe { ws_read_output(c, sink.as_mut_ptr(), sink.len(), &mut n) },
        OK
    );
    assert!(n > 0);
    assert_eq!(ws_client_tick(c, now + 499), OK);
    let lost = ws_result::WS_CONNECTION_LOST;
    assert_eq!(ws_client_tick(c, now + 500), lost);
    assert!(
        last_error(c).contains("liveness probe"),
        "{}",
        last_error(c)
    );
    assert_eq!(ws_client_probe(c, now + 501, 500), lost, "sticky");
    assert_eq!(ws_client_free(c), OK);
    assert_eq!(ws_config_free(cfg), OK);
}

#[test]
fn proxy_exports() {
    let cfg = new_config();
    let bad = CString::new("ftp://alice:s3cret@proxy:1").unwrap();
    assert_eq!(
        unsafe { ws_config_set_proxy(cfg, bad.as_ptr()) },
        ws_result::WS_INVALID_URL
    );
    let mut len = 0;
    let mut buf = [0u8; 256];
    unsafe { ws_last_error(buf.as_mut_ptr().cast(), buf.len(), &mut len) };
    let msg = String::from_utf8_lossy(&buf[..len]).to_string();
    assert!(
        msg.contains("proxy URL") && !msg.contains("s3cret"),
        "{msg}"
    );

    // Without a proxy the connect address is the URL's.
    let c = new_client(cfg, "wss://game.example:8443/ws");
    let (mut host, mut port) = ([0u8; 64], 0u16);
    assert_eq!(
        unsafe { ws_client_connect_address(c, host.as_mut_ptr().cast(), 64, &mut len, &mut port) },
        OK
    );
    assert_eq!((&host[..len], port), (&b"game.example"[..], 8443));
    assert_eq!(host[len], 0, "NUL-terminated");
    ws_client_free(c);

    let good = CString::new("socks5://alice:s3cret@[::1]:1080").unwrap();
    assert_eq!(unsafe { ws_config_set_proxy(cfg, good.as_ptr()) }, OK);
    let c = new_client(cfg, "wss://game.example/ws");
    // Too small: the length needed, the port untouched.
    let mut port = 7u16;
    assert_eq!(
        unsafe { ws_client_connect_address(c, host.as_mut_ptr().cast(), 3, &mut len, &mut port) },
        ws_result::WS_BUFFER_TOO_SMALL
    );
    assert_eq!((len, port), (3, 7));
    assert_eq!(
        unsafe { ws_client_connect_address(c, host.as_mut_ptr().cast(), 64, &mut len, &mut port) },
        OK
    );
    assert_eq!((&host[..len], port), (&b"::1"[..], 1080));
    // NULL out-parameters are refused, a stale handle too.
    assert_eq!(
        unsafe { ws_client_connect_address(c, host.as_mut_ptr().cast(), 64, &mut len, null_mut()) },
        ws_result::WS_NULL_POINTER
    );
    assert_eq!(
        unsafe { ws_client_connect_address(c, null_mut(), 64, &mut len, &mut port) },
        ws_result::WS_NULL_POINTER
    );
    assert_eq!(
        unsafe { ws_client_proxy_challenges(c, null_mut(), 0, &mut len) },
        OK
    );
    assert_eq!(len, 0, "no challenges before a 407");
    ws_client_free(c);
    assert_eq!(
        unsafe { ws_client_proxy_challenges(c, null_mut(), 0, &mut len) },
        ws_result::WS_INVALID_HANDLE
    );

    // A 407 through the exports: status, code, challenges.
    let http = CString::new("http://alice:s3cret@proxy.test:3128").unwrap();
    assert_eq!(unsafe { ws_config_set_proxy(cfg, http.as_ptr()) }, OK);
    let c = new_client(cfg, "wss://game.example/ws");
    let mut out = [0u8; 4096];
    let mut n = 0;
    assert_eq!(
        unsafe { ws_read_output(c, out.as_mut_ptr(), out.len(), &mut n) },
        OK
    );
    assert!(out[..n].starts_with(b"CONNECT game.example:443 HTTP/1.1\r\n"));
    let answer = b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: NTLM\r\nProxy-Authenticate: Basic realm=\"x\"\r\n\r\n";
    let mut used = 0;
    assert_eq!(
        unsafe { ws_offer_input(c, answer.as_ptr(), answer.len(), &mut used) },
        ws_result::WS_PROXY_AUTH_REQUIRED
    );
    let mut status = 0;
    assert_eq!(unsafe { ws_client_http_status(c, &mut status) }, OK);
    assert_eq!(status, 407);
    assert_eq!(
        unsafe { ws_client_proxy_challenges(c, buf.as_mut_ptr().cast(), buf.len(), &mut len) },
        OK
    );
    assert_eq!(&buf[..len], b"NTLM\nBasic realm=\"x\"");
    assert!(!last_error(c).contains("s3cret"));
    let auth = CString::new("NTLM TlRMTVNTUAAB").unwrap();
    assert_eq!(
        unsafe { ws_config_set_proxy_authorization(cfg, auth.as_ptr()) },
        OK
    );
    let crlf = CString::new("x\r\ny").unwrap();
    assert_eq!(
        unsafe { ws_config_set_proxy_authorization(cfg, crlf.as_ptr()) },
        ws_result::WS_INVALID_CONFIG
    );
    assert_eq!(unsafe { ws_config_set_proxy(cfg, null()) }, OK);
    ws_client_free(c);
    ws_config_free(cfg);
}
