//! The proxy tunnel in memory: the client against a scripted proxy front (our test
//! code answers CONNECT or SOCKS5, optionally inside real rustls TLS) in front of the
//! real rustls + tungstenite server of `common`. The success paths against real
//! proxies (squid, tinyproxy, dante) are in scripts/test-proxy.sh; this file tests
//! our parser and plumbing with any split of the input, and malformed answers.

mod common;

use std::io::{Read, Write};
use std::sync::Arc;

use common::*;
use rustls::ServerConnection;
use wsmachine::{Client, Config, ErrorKind, MessageKind, State};

/// What the scripted proxy does.
#[derive(Clone)]
enum Script {
    /// Answers CONNECT with these bytes; opens the tunnel when `open`.
    Http { answer: Vec<u8>, open: bool },
    /// SOCKS5: expects user/pass when `auth`; answers CONNECT with reply code `rep`.
    Socks { auth: bool, rep: u8 },
    /// Answers with these bytes, then closes the connection.
    HttpThenEof(Vec<u8>),
}

struct ProxyPipe {
    client: Client,
    /// TLS of an `https://` proxy (the proxy's side).
    tls: Option<ServerConnection>,
    server: Server,
    script: Script,
    /// Everything the proxy received before the tunnel opened.
    head: Vec<u8>,
    socks_stage: u8,
    tunnel: bool,
    eof_sent: bool,
    step: usize,
    got: Vec<Got>,
}

impl ProxyPipe {
    fn new(
        config: &Config,
        url: &str,
        server: Server,
        script: Script,
        proxy_tls: Option<Arc<rustls::ServerConfig>>,
    ) -> ProxyPipe {
        ProxyPipe {
            client: Client::new(config, url).unwrap(),
            tls: proxy_tls.map(|c| {
                let mut conn = ServerConnection::new(c).unwrap();
                conn.set_buffer_limit(None);
                conn
            }),
            server,
            script,
            head: Vec::new(),
            socks_stage: 0,
            tunnel: false,
            eof_sent: false,
            step: 1,
            got: Vec::new(),
        }
    }

    /// The proxy's reaction to bytes from the client before the tunnel opened.
    fn answer(&mut self, plain: &[u8]) -> Vec<u8> {
        self.head.extend_from_slice(plain);
        match self.script.clone() {
            Script::Http { answer, open } => {
                let Some(end) = find(&self.head, b"\r\n\r\n") else {
                    return Vec::new();
                };
                assert_eq!(
                    end + 4,
                    self.head.len(),
                    "the client pipelined after CONNECT"
                );
                self.tunnel = open;
                answer
            }
            Script::HttpThenEof(answer) => {
                if find(&self.head, b"\r\n\r\n").is_none() {
                    return Vec::new();
                }
                self.eof_sent = true;
                answer
            }
            Script::Socks { auth, rep } => {
                let h = std::mem::take(&mut self.head);
                let stage = self.socks_stage;
                self.socks_stage += 1;
                match (stage, auth) {
                    (0, false) => {
                        assert_eq!(h, [5, 1, 0]);
                        vec![5, 0]
                    }
                    (0, true) => {
                        assert_eq!(h, [5, 2, 0, 2]);
                        vec![5, 2]
                    }
                    (1, true) => {
                        assert_eq!(h, b"\x01\x04user\x06p@ss:w".to_vec());
                        vec![1, 0]
                    }
                    _ => {
                        // CONNECT with the host *name* (type 3) and the port.
                        let mut want = vec![5, 1, 0, 3, 9];
                        want.extend_from_slice(b"localhost");
                        want.extend_from_slice(&443u16.to_be_bytes());
                        assert_eq!(h, want);
                        self.tunnel = rep == 0;
                        // Bound address of type 3 (a name), to exercise the length rule.
                        let mut r = vec![5, rep, 0, 3, 4];
                        r.extend_from_slice(b"bind");
                        r.extend_from_slice(&[0x12, 0x34]);
                        r
                    }
                }
            }
        }
    }

    fn pump(&mut self) -> wsmachine::Result<bool> {
        let mut wire = Vec::new();
        let mut buf = vec![0u8; 32 << 10];
        loop {
            let n = self.client.read_output(&mut buf).unwrap_or_default();
            if n == 0 {
                break;
            }
            wire.extend_from_slice(&buf[..n]);
        }
        let mut moved = !wire.is_empty();
        let mut plain = Vec::new();
        match self.tls.as_mut() {
            Some(tls) => {
                let mut rd = &wire[..];
                while !rd.is_empty() {
                    tls.read_tls(&mut rd).unwrap();
                    tls.process_new_packets().expect("proxy-side TLS");
                    let _ = tls.reader().read_to_end(&mut plain);
                }
            }
            None => plain = wire,
        }
        let mut to_client = Vec::new();
        if !self.tunnel && !self.eof_sent {
            if !plain.is_empty() {
                to_client = self.answer(&plain);
            }
        } else if self.tunnel {
            self.server.mem().push(&plain);
            self.server.step();
            to_client = self.server.mem().take();
        }
        let mut bytes = Vec::new();
        match self.tls.as_mut() {
            Some(tls) => {
                tls.writer().write_all(&to_client).unwrap();
                while tls.wants_write() {
                    tls.write_tls(&mut bytes).unwrap();
                }
            }
            None => bytes = to_client,
        }
        moved |= !bytes.is_empty();
        for chunk in bytes.chunks(self.step.max(1)) {
            let mut off = 0;
            while off < chunk.len() {
                off += self.client.offer_input(&chunk[off..])?;
                self.drain()?;
            }
        }
        if self.eof_sent && !bytes.is_empty() {
            self.client.offer_input(&[])?;
        }
        self.drain()?;
        Ok(moved)
    }

    fn drain(&mut self) -> wsmachine::Result<()> {
        drain_into(&mut self.client, &mut self.got)
    }

    fn run(&mut self) -> wsmachine::Result<()> {
        for _ in 0..100_000 {
            if !self.pump()? {
                return Ok(());
            }
        }
        panic!("pipe did not settle");
    }

    fn echo(&mut self, payload: &[u8]) {
        self.client.send_binary(payload).unwrap();
        self.run().unwrap();
        let got = std::mem::take(&mut self.got);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].kind, MessageKind::Binary);
        assert!(got[0].data == payload);
    }
}

fn find(h: &[u8], pat: &[u8]) -> Option<usize> {
    h.windows(pat.len()).position(|w| w == pat)
}

fn ok_answer() -> Script {
    Script::Http {
        answer: b"HTTP/1.1 200 Connection established\r\nProxy-Agent: test\r\n\r\n".to_vec(),
        open: true,
    }
}

fn origin(setup: &Setup) -> Server {
    Server::new(Some(setup.server_tls.clone()), accept())
}

/// A setup whose config goes through the plain proxy at `proxy`, and a pipe to `url`
/// through that proxy playing `script`, the TLS origin server behind it.
fn through(proxy: &str, url: &str, script: Script) -> (Setup, ProxyPipe) {
    let mut setup = Setup::new();
    setup.config.set_proxy(Some(proxy)).unwrap();
    let p = ProxyPipe::new(&setup.config, url, origin(&setup), script, None);
    (setup, p)
}

#[test]
fn http_connect_one_byte_at_a_time() {
    let (_setup, mut p) = through(
        "http://user:p%40ss%3Aw@proxy.test:3128",
        "wss://localhost/chat",
        ok_answer(),
    );
    assert_eq!(p.client.connect_address(), ("proxy.test", 3128));
    p.run().unwrap();
    assert_eq!(p.client.state(), State::Open, "{:?}", p.client.last_error());
    let head = String::from_utf8(p.head.clone()).unwrap();
    assert!(
        head.starts_with("CONNECT localhost:443 HTTP/1.1\r\nHost: localhost:443\r\n"),
        "{head}"
    );
    // "user:p@ss:w" in base64.
    assert!(
        head.contains("Proxy-Authorization: Basic dXNlcjpwQHNzOnc=\r\n"),
        "{head}"
    );
    // The origin's TLS and Host use the origin's name.
    assert!(
        p.server.request_head.contains("Host: localhost"),
        "{}",
        p.server.request_head
    );
    p.echo(b"through the tunnel");
    p.step = 64 << 10;
    p.echo(&vec![7u8; 1 << 20]);
}

#[test]
fn http_connect_without_a_proxy_connects_to_the_url() {
    let setup = Setup::new();
    let c = Client::new(&setup.config, "wss://localhost:9443/x").unwrap();
    assert_eq!(c.connect_address(), ("localhost", 9443));
    let c = Client::new(&setup.config, "ws://[::1]/x").unwrap();
    assert_eq!(c.connect_address(), ("::1", 80));
}

#[test]
fn plain_ws_through_http_proxy() {
    let mut setup = Setup::new();
    setup
        .config
        .set_proxy(Some("http://127.0.0.1:8080"))
        .unwrap();
    let mut p = ProxyPipe::new(
        &setup.config,
        "ws://localhost:8000/",
        Server::new(None, accept()),
        ok_answer(),
        None,
    );
    p.run().unwrap();
    assert_eq!(p.client.state(), State::Open, "{:?}", p.client.last_error());
    assert!(!String::from_utf8_lossy(&p.head).contains("Proxy-Authorization"));
    p.echo(b"plain");
    p.step = 64 << 10;
    p.echo(&vec![1u8; 300_000]);
}

#[test]
fn https_proxy_is_verified_and_pins_are_for_the_origin_only() {
    let mut setup = Setup::new();
    // The origin is pinned; the proxy's key is a different one and must not be checked
    // against the pin.
    let origin_leaf = setup.pki.leaf(&["localhost"]);
    let ee = webpki::EndEntityCert::try_from(&origin_leaf.chain[0]).unwrap();
    let pin = ring::digest::digest(&ring::digest::SHA256, ee.subject_public_key_info().as_ref());
    setup.config.add_pin_sha256(pin.as_ref()).unwrap();
    let origin_tls = server_config(&origin_leaf, &[&rustls::version::TLS12]);
    let proxy_tls = server_config(&setup.pki.leaf(&["proxy.test"]), &[&rustls::version::TLS13]);
    setup
        .config
        .set_proxy(Some("https://proxy.test:8443"))
        .unwrap();
    let mut p = ProxyPipe::new(
        &setup.config,
        "wss://localhost/chat",
        Server::new(Some(origin_tls), accept()),
        ok_answer(),
        Some(proxy_tls.clone()),
    );
    p.run().unwrap();
    assert_eq!(p.client.state(), State::Open, "{:?}", p.client.last_error());
    assert_eq!(
        p.client.tls_version(),
        Some(wsmachine::TlsVersion::Tls12),
        "the origin's TLS, inside"
    );
    assert!(String::from_utf8_lossy(&p.head).starts_with("CONNECT localhost:443 "));
    p.echo(b"double TLS");
    p.step = 64 << 10;
    p.echo(&vec![9u8; 1 << 20]);
    // A server close comes through both layers.
    p.server
        .ws()
        .close(Some(tungstenite::protocol::CloseFrame {
            code: tungstenite::protocol::frame::coding::CloseCode::Normal,
            reason: "bye".into(),
        }))
        .unwrap();
    let _ = p.server.ws().flush();
    p.run().unwrap();
    assert_eq!(p.got.last().map(|g| g.code), Some(1000));
    assert_eq!(p.client.state(), State::Closed);

    // A proxy certificate for another name fails as the proxy's wrong host.
    let wrong = server_config(&setup.pki.leaf(&["other.test"]), &[&rustls::version::TLS13]);
    let mut p = ProxyPipe::new(
        &setup.config,
        "wss://localhost/chat",
        origin(&setup),
        ok_answer(),
        Some(wrong),
    );
    let e = p.run().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::CertWrongHost);
    assert!(
        e.message()
            .contains("TLS to the proxy https://proxy.test:8443"),
        "{e}"
    );
}

#[test]
fn socks5_with_and_without_credentials() {
    for auth in [false, true] {
        let url = if auth {
            "socks5://user:p%40ss%3Aw@127.0.0.1:1080"
        } else {
            "socks5h://127.0.0.1"
        };
        let (_setup, mut p) = through(url, "wss://localhost/chat", Script::Socks { auth, rep: 0 });
        assert_eq!(p.client.connect_address(), ("127.0.0.1", 1080));
        p.run().unwrap();
        assert_eq!(p.client.state(), State::Open, "{:?}", p.client.last_error());
        p.echo(b"socks");
    }
}

#[test]
fn socks5_refusal_names_the_reply() {
    let (_setup, mut p) = through(
        "socks5://127.0.0.1:1080",
        "wss://localhost/chat",
        Script::Socks {
            auth: false,
            rep: 5,
        },
    );
    let e = p.run().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ProxyRefused);
    assert!(e.message().contains("reply 5 (connection refused)"), "{e}");
    assert_eq!(p.client.state(), State::Failed);
}

#[test]
fn proxy_407_gives_status_and_challenges_and_hides_credentials() {
    let answer = b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Negotiate\r\nProxy-Authenticate: Basic realm=\"corp\"\r\nContent-Length: 0\r\n\r\n".to_vec();
    let (mut setup, mut p) = through(
        "http://alice:s3cret@proxy.test:3128",
        "wss://localhost/chat",
        Script::Http {
            answer,
            open: false,
        },
    );
    let e = p.run().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ProxyAuthRequired);
    assert_eq!(p.client.http_status(), Some(407));
    assert_eq!(
        p.client.proxy_challenges(),
        ["Negotiate", "Basic realm=\"corp\""]
    );
    let msg = p.client.last_error().unwrap();
    assert!(
        msg.contains("Negotiate, Basic") && msg.contains("rejected"),
        "{msg}"
    );
    assert!(!msg.contains("s3cret") && !msg.contains("alice"), "{msg}");
    assert!(!format!("{:?}", setup.config.proxy()).contains("s3cret"));
    assert!(!format!("{:?}", setup.config).contains("s3cret"));
    assert!(!format!("{:?}", p.client).contains("s3cret"));

    // The retry with a computed Proxy-Authorization sends that instead of Basic.
    setup
        .config
        .set_proxy_authorization(Some("Negotiate YII="))
        .unwrap();
    let mut p = ProxyPipe::new(
        &setup.config,
        "wss://localhost/chat",
        origin(&setup),
        ok_answer(),
        None,
    );
    p.run().unwrap();
    let head = String::from_utf8(p.head.clone()).unwrap();
    assert!(
        head.contains("Proxy-Authorization: Negotiate YII=\r\n") && !head.contains("Basic"),
        "{head}"
    );
    assert!(
        !format!("{:?}", setup.config).contains("YII="),
        "the token in a Debug print"
    );
    assert!(setup
        .config
        .set_proxy_authorization(Some("a\r\nb: c"))
        .is_err());
}

#[test]
fn proxy_403_is_a_refusal_naming_the_answer() {
    let answer = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n".to_vec();
    let (_setup, mut p) = through(
        "http://proxy.test:3128",
        "wss://localhost:8443/chat",
        Script::Http {
            answer,
            open: false,
        },
    );
    let e = p.run().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ProxyRefused);
    assert_eq!(p.client.http_status(), Some(403));
    assert!(
        e.message()
            .contains("refused to connect to localhost:8443: HTTP 403 Forbidden"),
        "{e}"
    );
    assert!(p.client.proxy_challenges().is_empty());
}

#[test]
fn malformed_and_missing_answers() {
    let cases: Vec<(Script, ErrorKind, &str)> = vec![
        (
            Script::Http {
                answer: b"SSH-2.0-OpenSSH\r\n\r\n".to_vec(),
                open: false,
            },
            ErrorKind::ProxyBadResponse,
            "not HTTP",
        ),
        (
            Script::Http {
                answer: b"HTTP/1.1 twohundred\r\n\r\n".to_vec(),
                open: false,
            },
            ErrorKind::ProxyBadResponse,
            "not HTTP",
        ),
        (
            Script::Http {
                answer: [
                    &b"HTTP/1.1 200 OK\r\n"[..],
                    &b"X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n".repeat(600),
                ]
                .concat(),
                open: false,
            },
            ErrorKind::ProxyBadResponse,
            "header size limit",
        ),
        (
            Script::HttpThenEof(b"HTTP/1.1 200 Conn".to_vec()),
            ErrorKind::ProxyClosed,
            "in the middle of its answer",
        ),
        (
            Script::HttpThenEof(b"".to_vec()),
            ErrorKind::ProxyClosed,
            "closed the connection before the tunnel",
        ),
    ];
    for (script, kind, text) in cases {
        for step in [1, 64 << 10] {
            let (_setup, mut p) = through(
                "http://proxy.test:3128",
                "wss://localhost/chat",
                script.clone(),
            );
            p.step = step;
            let r = p.run();
            if matches!(script, Script::HttpThenEof(ref a) if a.is_empty()) {
                // Nothing was answered: the caller sees its socket close.
                p.client.offer_input(&[]).unwrap_err();
            } else {
                r.unwrap_err();
            }
            let e = p.client.failure().cloned().expect("failed");
            assert_eq!(e.kind(), kind, "{e}");
            assert!(e.message().contains(text), "{e}");
            assert_eq!(p.client.state(), State::Failed);
            // The origin never saw a byte: the ClientHello waited for the tunnel.
            assert_eq!(p.server.mem().in_flight(), 0);
        }
    }
}

#[test]
fn handshake_timeout_covers_a_silent_proxy() {
    let mut setup = Setup::new();
    setup
        .config
        .set_proxy(Some("http://proxy.test:3128"))
        .unwrap();
    let mut c = Client::new(&setup.config, "wss://localhost/chat").unwrap();
    let mut buf = [0u8; 4096];
    let n = c.read_output(&mut buf).unwrap();
    assert!(buf[..n].starts_with(b"CONNECT localhost:443 HTTP/1.1\r\n"));
    c.tick(0).unwrap();
    c.offer_input(b"HTTP/1.1 200 OK\r\nX: ").unwrap(); // an endless, slow header
    assert_eq!(c.tick(20_000).unwrap_err().kind(), ErrorKind::Timeout);
}

#[test]
fn proxy_url_parsing() {
    let mut c = Config::new();
    for good in [
        "http://h:1",
        "HTTP://h",
        "https://[::1]:8443/",
        "socks5://u:p@10.0.0.1:1080",
        "socks5h://h",
    ] {
        c.set_proxy(Some(good))
            .unwrap_or_else(|e| panic!("{good}: {e}"));
    }
    assert_eq!(c.proxy().unwrap().port(), 1080);
    for bad in [
        "h:3128",
        "ftp://h:1",
        "http://h:0",
        "http://h:70000",
        "http://h/path",
        "http://user:pw@",
        "http://[::1",
        "http://h h:1",
        "socks5://u:%zz@h",
    ] {
        let e = c.set_proxy(Some(bad)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidUrl, "{bad}");
        assert!(
            !e.message().contains("pw") && !e.message().contains("%zz"),
            "{e}"
        );
    }
    // A rejected URL leaves the previous setting; "" clears it.
    assert_eq!(c.proxy().unwrap().host(), "h");
    c.set_proxy(Some("")).unwrap();
    assert!(c.proxy().is_none());
}

#[test]
fn pending_output_through_an_https_proxy_is_bounded() {
    let mut setup = Setup::new();
    let proxy_tls = server_config(&setup.pki.leaf(&["proxy.test"]), &[&rustls::version::TLS13]);
    setup
        .config
        .set_proxy(Some("https://proxy.test:8443"))
        .unwrap();
    let mut limits = setup.config.limits().clone();
    limits.max_pending_output = 64 << 10;
    setup.config.set_limits(limits).unwrap();
    let mut p = ProxyPipe::new(
        &setup.config,
        "wss://localhost/chat",
        origin(&setup),
        ok_answer(),
        Some(proxy_tls),
    );
    p.step = 64 << 10;
    p.run().unwrap();
    assert_eq!(p.client.state(), State::Open, "{:?}", p.client.last_error());
    // Without draining, sends stop at the limit: peeking (which moves the bytes into
    // the proxy's TLS) does not make room.
    let chunk = vec![3u8; 8 << 10];
    let mut sent = 0;
    loop {
        let _ = p.client.peek_output();
        match p.client.send_binary(&chunk) {
            Ok(()) => sent += 1,
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::OutputFull);
                break;
            }
        }
        assert!(sent < 100, "sends never hit the pending-output limit");
    }
    assert!(p.client.pending_output() <= 64 << 10);
    // Draining makes room again, and everything arrives.
    p.run().unwrap();
    assert_eq!(std::mem::take(&mut p.got).len(), sent);
    let before = p.client.retained_capacity();
    p.client.trim();
    assert!(p.client.retained_capacity() < before);
}
