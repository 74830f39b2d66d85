//! Interop over real TCP on 127.0.0.1 against peers we did not write: the Python
//! `websockets` server (permessage-deflate on by default) and Node's `ws` with
//! `perMessageDeflate` (context takeover on and off, several window sizes).
//! `.ci/install.sh` installs both (pip `websockets`, `npm ci` in tests/peers/node).
//!
//! A plain `cargo test` on a fresh checkout skips these tests, with a `SKIPPED:` line,
//! when a peer is missing; `scripts/test.sh` sets `WSM_REQUIRE_SERVERS=1`, which turns a
//! missing peer into a failure. `WSM_PYTHON` / `WSM_NODE` name other interpreters.

use std::io::{BufRead, BufReader, ErrorKind as IoKind, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use wsmachine::{Client, Config, DeflateConfig, MessageKind, Poll, State};

/// A server process, killed when dropped.
struct Peer {
    child: Child,
    port: u16,
}

impl Peer {
    fn start(cmd: &mut Command) -> Peer {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start peer");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .unwrap_or_else(|| panic!("peer said {line:?}"))
            .parse()
            .unwrap();
        Peer { child, port }
    }

    /// The Python `websockets` echo server, or `None` (the test is skipped) when
    /// `websockets` is not importable and `WSM_REQUIRE_SERVERS` is not 1.
    fn python(args: &[&str]) -> Option<Peer> {
        let root = env!("CARGO_MANIFEST_DIR");
        let python = std::env::var("WSM_PYTHON").unwrap_or_else(|_| "python3".into());
        if !runs(Command::new(&python).args(["-c", "import websockets.asyncio.server"])) {
            return missing(
                &format!("Python `websockets` ({python})"),
                "pip install websockets==17.4; bash .ci/install.sh does",
            );
        }
        Some(Peer::start(
            Command::new(python)
                .arg(format!("{root}/tests/peers/echo_server.py"))
                .args(["--port", "0"])
                .args(args),
        ))
    }

    /// Node's `ws` echo server, or `None` (the test is skipped) when Node or
    /// tests/peers/node/node_modules is missing and `WSM_REQUIRE_SERVERS` is not 1.
    fn node(args: &[&str]) -> Option<Peer> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/node");
        let node = std::env::var("WSM_NODE").unwrap_or_else(|_| "node".into());
        if !dir.join("node_modules/ws").exists() || !runs(Command::new(&node).arg("--version")) {
            return missing(
                &format!("Node.js ({node}) with tests/peers/node/node_modules/ws"),
                "npm ci in tests/peers/node; bash .ci/install.sh does",
            );
        }
        Some(Peer::start(
            Command::new(node)
                .arg(dir.join("echo_server.js"))
                .args(args),
        ))
    }
}

/// Whether a command runs and exits with status 0.
fn runs(cmd: &mut Command) -> bool {
    cmd.stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A missing peer: a failure under `WSM_REQUIRE_SERVERS=1` (scripts/test.sh), else a skip.
fn missing(what: &str, fix: &str) -> Option<Peer> {
    let msg = format!("{what} is not available ({fix})");
    if std::env::var("WSM_REQUIRE_SERVERS").as_deref() == Ok("1") {
        panic!("{msg}; WSM_REQUIRE_SERVERS=1 requires it");
    }
    eprintln!("SKIPPED: {msg}; WSM_REQUIRE_SERVERS=1 makes this a failure");
    None
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Drives one client over a real socket: the sans-IO loop.
struct Conn {
    client: Client,
    sock: TcpStream,
    got: Vec<(MessageKind, Vec<u8>, u16)>,
    wire_in: usize,
    wire_out: usize,
}

impl Conn {
    fn open(config: &Config, url: &str, port: u16) -> Conn {
        let sock = TcpStream::connect(("127.0.0.1", port)).unwrap();
        sock.set_nonblocking(true).unwrap();
        let mut c = Conn {
            client: Client::new(config, url).unwrap(),
            sock,
            got: vec![],
            wire_in: 0,
            wire_out: 0,
        };
        c.until(|c| c.client.state() == State::Open);
        c
    }

    fn step(&mut self) -> bool {
        let mut moved = false;
        let mut buf = [0u8; 64 << 10];
        loop {
            let n = self.client.read_output(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            self.wire_out += n;
            moved = true;
            let mut off = 0;
            while off < n {
                match self.sock.write(&buf[off..n]) {
                    Ok(w) => off += w,
                    Err(e) if e.kind() == IoKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(1))
                    }
                    Err(e) => panic!("write: {e}"),
                }
            }
        }
        match self.sock.read(&mut buf) {
            Ok(n) => {
                moved = true;
                self.wire_in += n;
                let mut off = 0;
                loop {
                    off += self.client.offer_input(&buf[off..n]).unwrap();
                    while let Poll::Message(m) = self.client.poll_message().unwrap() {
                        self.got.push((m.kind, m.data.to_vec(), m.close_code));
                    }
                    if off >= n {
                        break;
                    }
                }
            }
            Err(e) if e.kind() == IoKind::WouldBlock => {}
            Err(e) => panic!("read: {e}"),
        }
        moved
    }

    fn until(&mut self, mut done: impl FnMut(&Conn) -> bool) {
        let start = Instant::now();
        while !done(self) {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "timed out; state {:?} {:?}",
                self.client.state(),
                self.client.last_error()
            );
            if !self.step() {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }

    fn echo(&mut self, kind: MessageKind, data: &[u8]) {
        let before = self.got.len();
        match kind {
            MessageKind::Text => self.client.send_text(data).unwrap(),
            _ => self.client.send_binary(data).unwrap(),
        }
        self.until(|c| c.got.len() > before);
        let (k, d, _) = &self.got[before];
        assert_eq!(*k, kind);
        assert!(d == data, "echo of {} bytes differs", data.len());
    }

    fn close(&mut self) {
        self.client.close(1000, b"done").unwrap();
        self.until(|c| c.client.state() == State::Closed);
    }
}

fn game_json(i: usize) -> Vec<u8> {
    format!(
        r#"{{"type":"state","tick":{i},"players":[{{"id":1,"x":10.5,"y":20.25,"hp":100,"name":"alice"}},{{"id":2,"x":11.5,"y":21.25,"hp":90,"name":"bob"}},{{"id":3,"x":12.5,"y":22.25,"hp":80,"name":"carol"}}]}}"#
    )
    .into_bytes()
}

fn deflate_config() -> Config {
    let mut config = Config::new();
    config
        .set_deflate(DeflateConfig {
            enabled: true,
            ..DeflateConfig::default()
        })
        .unwrap();
    config
}

/// Echoes game-like JSON and more; `out_pct`/`in_pct` bound the bytes on the wire
/// each way as a percentage of the payload (None: not compressed that way).
fn exercise(c: &mut Conn, out_pct: Option<usize>, in_pct: Option<usize>) {
    let (in0, out0) = (c.wire_in, c.wire_out);
    let mut payload = 0;
    for i in 0..50 {
        let m = game_json(i);
        payload += m.len();
        c.echo(MessageKind::Text, &m);
    }
    let (sent, received) = (c.wire_out - out0, c.wire_in - in0);
    match out_pct {
        Some(pct) => assert!(sent * 100 < payload * pct, "sent {sent} for {payload}"),
        None => assert!(sent > payload, "sent uncompressed: {sent} for {payload}"),
    }
    if let Some(pct) = in_pct {
        assert!(
            received * 100 < payload * pct,
            "received {received} for {payload}"
        );
    }
    c.echo(
        MessageKind::Binary,
        &(0..200_000u32).map(|i| (i % 251) as u8).collect::<Vec<_>>(),
    );
    c.echo(MessageKind::Text, b"short");
    c.echo(MessageKind::Binary, &[]);
    c.echo(
        MessageKind::Text,
        "h\u{e9}llo \u{1f3ae}".repeat(5000).as_bytes(),
    );
    c.close();
}

#[test]
fn python_websockets_with_compression() {
    let Some(peer) = Peer::python(&[]) else {
        return;
    };
    let mut c = Conn::open(
        &deflate_config(),
        &format!("ws://127.0.0.1:{}/", peer.port),
        peer.port,
    );
    let p = c
        .client
        .deflate()
        .expect("websockets accepts permessage-deflate");
    assert_eq!(
        p.server_max_window_bits, 12,
        "websockets 17 answers server_max_window_bits=12"
    );
    exercise(&mut c, Some(25), Some(25));
}

#[test]
fn python_websockets_no_context_takeover_over_wss() {
    // A private CA made with rcgen, written for the Python server.
    let dir = std::env::temp_dir().join(format!("wsmachine-interop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let ca_pem = ca.self_signed(&ca_key).unwrap().pem();
    let issuer = rcgen::Issuer::new(ca, ca_key);
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    std::fs::write(dir.join("server.pem"), leaf.pem()).unwrap();
    std::fs::write(dir.join("server.key"), leaf_key.serialize_pem()).unwrap();
    let Some(peer) = Peer::python(&[
        "--tls-cert",
        dir.join("server.pem").to_str().unwrap(),
        "--tls-key",
        dir.join("server.key").to_str().unwrap(),
    ]) else {
        return;
    };
    let mut config = Config::new();
    config.add_root_pem(ca_pem.as_bytes()).unwrap();
    config
        .set_deflate(DeflateConfig {
            enabled: true,
            client_no_context_takeover: true,
            server_no_context_takeover: true,
            ..DeflateConfig::default()
        })
        .unwrap();
    let mut c = Conn::open(
        &config,
        &format!("wss://localhost:{}/", peer.port),
        peer.port,
    );
    let p = c.client.deflate().unwrap();
    assert!(p.server_no_context_takeover && p.client_no_context_takeover);
    // Each message is compressed on its own: a smaller gain, but a gain.
    exercise(&mut c, Some(85), Some(85));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn python_websockets_without_compression_when_not_offered() {
    let Some(peer) = Peer::python(&[]) else {
        return;
    };
    let mut c = Conn::open(
        &Config::new(),
        &format!("ws://127.0.0.1:{}/", peer.port),
        peer.port,
    );
    assert!(
        c.client.deflate().is_none(),
        "off by default: nothing offered, nothing negotiated"
    );
    c.echo(MessageKind::Text, &game_json(1));
    c.close();
}

fn node_case(
    server_args: &[&str],
    client: DeflateConfig,
    pct: (Option<usize>, Option<usize>),
    expect: impl Fn(&wsmachine::DeflateParams),
) {
    let Some(peer) = Peer::node(server_args) else {
        return;
    };
    let mut config = Config::new();
    config
        .set_deflate(DeflateConfig {
            enabled: true,
            ..client
        })
        .unwrap();
    let mut c = Conn::open(
        &config,
        &format!("ws://127.0.0.1:{}/", peer.port),
        peer.port,
    );
    // The server's first message reports what it negotiated.
    c.until(|c| !c.got.is_empty());
    let hello = String::from_utf8(c.got.remove(0).1).unwrap();
    assert!(hello.contains("permessage-deflate"), "{hello}");
    expect(&c.client.deflate().expect("negotiated"));
    exercise(&mut c, pct.0, pct.1);
}

#[test]
fn node_ws_context_takeover_on() {
    node_case(&[], DeflateConfig::default(), (Some(25), Some(25)), |p| {
        assert!(!p.server_no_context_takeover && !p.client_no_context_takeover);
    });
}

#[test]
fn node_ws_context_takeover_off_both_ways() {
    node_case(
        &[
            "--server-no-context-takeover",
            "--client-no-context-takeover",
        ],
        DeflateConfig::default(),
        (Some(85), Some(85)),
        |p| {
            assert!(p.server_no_context_takeover && p.client_no_context_takeover);
        },
    );
}

#[test]
fn node_ws_window_sizes() {
    for (server_bits, client_bits) in [(9u8, 9u8), (10, 12), (15, 15)] {
        let sb = server_bits.to_string();
        let cb = client_bits.to_string();
        node_case(
            &[
                "--server-max-window-bits",
                &sb,
                "--client-max-window-bits",
                &cb,
            ],
            DeflateConfig::default(),
            (Some(40), Some(40)),
            |p| {
                assert_eq!(p.server_max_window_bits, server_bits);
                assert_eq!(p.client_max_window_bits, client_bits);
            },
        );
    }
    // We ask the server for a small window ourselves.
    node_case(
        &[],
        DeflateConfig {
            server_max_window_bits: Some(10),
            ..DeflateConfig::default()
        },
        (Some(40), Some(40)),
        |p| {
            assert_eq!(p.server_max_window_bits, 10);
        },
    );
}

#[test]
fn node_ws_client_window_8_sends_uncompressed_but_works() {
    node_case(
        &["--client-max-window-bits", "8"],
        DeflateConfig::default(),
        (None, Some(40)),
        |p| {
            assert_eq!(p.client_max_window_bits, 8);
        },
    );
}
