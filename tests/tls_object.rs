//! The TLS object (`TlsClient`, `ws_tls_*`) over real TCP on 127.0.0.1 against peers
//! we did not write: a Python `ssl` server (tests/peers/tls_echo_server.py) and
//! `openssl s_server`. Certificates come from rcgen, written to a temporary directory.

use std::io::{BufRead, BufReader, ErrorKind as IoKind, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use wsmachine::{Config, ErrorKind, Limits, TlsClient, TlsRead, TlsState, TlsVersion};

// ----- test PKI ----------------------------------------------------------------------

struct Pki {
    dir: PathBuf,
}

impl Pki {
    fn path(&self, name: &str) -> String {
        self.dir.join(name).to_str().unwrap().to_string()
    }
    fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.dir.join(name)).unwrap()
    }
}

/// ca.pem; server.pem/.key (localhost, 127.0.0.1); expired.pem/.key; client.pem/.key.
fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("wsmachine-tls-object-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "wsmachine TLS object test CA");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_key = KeyPair::generate().unwrap();
        let ca = params.self_signed(&ca_key).unwrap();
        std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
        let issuer = Issuer::new(params, ca_key);
        let leaf = |name: &str, names: &[&str], from: i32, to: i32| {
            let mut p =
                CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                    .unwrap();
            p.not_before = rcgen::date_time_ymd(from, 1, 1);
            p.not_after = rcgen::date_time_ymd(to, 1, 1);
            let key = KeyPair::generate().unwrap();
            let cert = p.signed_by(&key, &issuer).unwrap();
            std::fs::write(dir.join(format!("{name}.pem")), cert.pem()).unwrap();
            std::fs::write(dir.join(format!("{name}.key")), key.serialize_pem()).unwrap();
        };
        leaf("server", &["localhost", "127.0.0.1"], 2020, 2100);
        leaf("expired", &["localhost", "127.0.0.1"], 2019, 2020);
        leaf("client", &["wsmachine test client"], 2020, 2100);
        Pki { dir }
    })
}

fn trusting_config() -> Config {
    let mut c = Config::new();
    c.add_root_pem(&pki().read("ca.pem")).unwrap();
    c
}

// ----- peers -------------------------------------------------------------------------

/// A server process, killed when dropped.
struct Peer {
    child: Child,
    port: u16,
    stdout: Option<BufReader<std::process::ChildStdout>>,
}

impl Peer {
    fn python(args: &[&str]) -> Peer {
        Peer::python_with_cert("server", args)
    }

    fn python_with_cert(cert: &str, args: &[&str]) -> Peer {
        let root = env!("CARGO_MANIFEST_DIR");
        let mut child = Command::new("python3")
            .arg(format!("{root}/tests/peers/tls_echo_server.py"))
            .args(["--cert", &pki().path(&format!("{cert}.pem"))])
            .args(["--key", &pki().path(&format!("{cert}.key"))])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start python3");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .unwrap_or_else(|| panic!("peer said {line:?}"))
            .parse()
            .unwrap();
        Peer {
            child,
            port,
            stdout: Some(out),
        }
    }

    /// `openssl s_server` in `-rev` mode (answers each line reversed), port from its
    /// `ACCEPT` line.
    fn openssl(args: &[&str]) -> Peer {
        let mut child = Command::new("openssl")
            .args(["s_server", "-accept", "127.0.0.1:0", "-rev"])
            .args(["-cert", &pki().path("server.pem")])
            .args(["-key", &pki().path("server.key")])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start openssl s_server");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        let port = loop {
            line.clear();
            assert!(out.read_line(&mut line).unwrap() > 0, "s_server exited");
            if let Some(addr) = line.trim().strip_prefix("ACCEPT ") {
                break addr.rsplit(':').next().unwrap().parse().unwrap();
            }
        };
        // Keep draining its chatter so that it never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sink = Vec::new();
            let _ = out.read_to_end(&mut sink);
        });
        Peer {
            child,
            port,
            stdout: None,
        }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        drop(self.stdout.take());
    }
}

// ----- the sans-IO loop over a real socket --------------------------------------------

struct Conn {
    tls: TlsClient,
    sock: TcpStream,
    /// Ciphertext read out of the TLS object that the socket has not taken yet.
    tx: Vec<u8>,
    /// Plaintext received.
    got: Vec<u8>,
    end: Option<TlsRead>,
    /// Offer input one byte per call.
    one_byte: bool,
    start: Instant,
}

impl Conn {
    fn open(config: &Config, name: &str, port: u16) -> Conn {
        let sock = TcpStream::connect(("127.0.0.1", port)).unwrap();
        sock.set_nonblocking(true).unwrap();
        sock.set_nodelay(true).unwrap();
        Conn {
            tls: TlsClient::new(config, name).unwrap(),
            sock,
            tx: Vec::new(),
            got: Vec::new(),
            end: None,
            one_byte: false,
            start: Instant::now(),
        }
    }

    /// One turn of the loop, writing from `plain`. Returns whether anything moved.
    fn step(&mut self, plain: &mut &[u8]) -> Result<bool, wsmachine::Error> {
        assert!(
            self.start.elapsed() < Duration::from_secs(60),
            "test timed out"
        );
        let mut moved = false;
        if !plain.is_empty() && self.tls.state() != TlsState::Closed {
            let n = self.tls.write(plain)?;
            *plain = &plain[n..];
            moved |= n > 0;
        }
        self.tls.tick(self.start.elapsed().as_millis() as u64)?;
        let mut buf = vec![0u8; 64 << 10];
        loop {
            let n = self.tls.read_output(&mut buf)?;
            if n == 0 {
                break;
            }
            self.tx.extend_from_slice(&buf[..n]);
        }
        while !self.tx.is_empty() {
            match self.sock.write(&self.tx) {
                Ok(n) => {
                    self.tx.drain(..n);
                    moved = true;
                }
                Err(e) if e.kind() == IoKind::WouldBlock => break,
                // The peer went away; what it said is still to be read.
                Err(_) => {
                    self.tx.clear();
                    break;
                }
            }
        }
        match self.sock.read(&mut buf) {
            Ok(n) => {
                moved = true;
                let data = &buf[..n];
                if n == 0 {
                    self.tls.offer_input(&[])?;
                }
                let mut off = 0;
                while off < n {
                    let end = if self.one_byte { off + 1 } else { n };
                    off += self.tls.offer_input(&data[off..end])?;
                    self.read_plain()?;
                }
            }
            Err(e) if e.kind() == IoKind::WouldBlock => {}
            Err(e) if e.kind() == IoKind::ConnectionReset => {
                self.tls.offer_input(&[])?;
            }
            Err(e) => panic!("socket: {e}"),
        }
        self.read_plain()?;
        if !moved {
            std::thread::sleep(Duration::from_millis(1));
        }
        Ok(moved)
    }

    fn read_plain(&mut self) -> Result<(), wsmachine::Error> {
        let mut p = [0u8; 8192];
        loop {
            match self.tls.read(&mut p)? {
                TlsRead::Data(n) => self.got.extend_from_slice(&p[..n]),
                TlsRead::NeedInput => return Ok(()),
                end => {
                    self.end = Some(end);
                    return Ok(());
                }
            }
        }
    }

    fn until(&mut self, mut done: impl FnMut(&Conn) -> bool) -> Result<(), wsmachine::Error> {
        while !done(self) {
            self.step(&mut &[][..])?;
        }
        Ok(())
    }

    /// Writes `data` and waits until `expect` bytes came back.
    fn exchange(&mut self, data: &[u8], expect: usize) -> Vec<u8> {
        let before = self.got.len();
        let mut rest = data;
        while !rest.is_empty() || self.got.len() < before + expect {
            self.step(&mut rest).unwrap();
            assert!(self.end.is_none(), "ended early: {:?}", self.end);
        }
        self.got[before..].to_vec()
    }

    fn handshake(&mut self) -> Result<(), wsmachine::Error> {
        self.until(|c| c.tls.state() != TlsState::Handshaking)
    }

    /// Sends close_notify and waits for the peer's and a drained output.
    fn close(&mut self) {
        self.tls.close().unwrap();
        self.until(|c| c.tls.state() == TlsState::Closed && c.tx.is_empty())
            .unwrap();
        assert_eq!(self.end, Some(TlsRead::Closed));
    }
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 + i / 251) as u8).collect()
}

fn fails_with(config: &Config, name: &str, port: u16) -> wsmachine::Error {
    let mut c = Conn::open(config, name, port);
    let e = c.handshake().expect_err("the handshake must fail");
    assert_eq!(c.tls.state(), TlsState::Failed);
    // Sticky: every call returns the same failure.
    assert_eq!(c.tls.write(b"x").unwrap_err(), e);
    assert_eq!(c.tls.offer_input(b"x").unwrap_err(), e);
    assert_eq!(c.tls.last_error(), Some(e.message()));
    e
}

// ----- Python ssl --------------------------------------------------------------------

fn echo_sizes(version_flag: &str, version: TlsVersion) {
    let peer = Peer::python(&["--mode", "echo", version_flag]);
    let mut c = Conn::open(&trusting_config(), "localhost", peer.port);
    // Written before the handshake completes: buffered, sent once it does.
    let early = c.tls.write(b"early bird").unwrap();
    assert_eq!(early, 10);
    c.handshake().unwrap();
    assert_eq!(c.tls.protocol_version(), Some(version));
    assert!(c.tls.cipher_suite().is_some());
    assert_eq!(c.exchange(&[], 10), b"early bird");
    for len in [1, 2, 100, 16383, 16384, 16385, 100_000, 1 << 20, 8 << 20] {
        let data = pattern(len);
        let back = c.exchange(&data, len);
        assert!(back == data, "echo of {len} bytes differs");
    }
    c.close();
}

#[test]
fn python_echo_1_byte_to_8_mib_tls13() {
    echo_sizes("--tls13-only", TlsVersion::Tls13);
}

#[test]
fn python_echo_1_byte_to_8_mib_tls12() {
    echo_sizes("--tls12-only", TlsVersion::Tls12);
}

#[test]
fn python_input_offered_one_byte_at_a_time() {
    let peer = Peer::python(&["--mode", "echo"]);
    let mut c = Conn::open(&trusting_config(), "localhost", peer.port);
    c.one_byte = true;
    c.handshake().unwrap();
    let data = pattern(40_000);
    assert!(c.exchange(&data, data.len()) == data);
    c.close();
}

#[test]
fn python_close_notify_from_the_server_then_ours() {
    let peer = Peer::python(&["--mode", "greet-notify"]);
    let mut c = Conn::open(&trusting_config(), "localhost", peer.port);
    c.until(|c| c.end.is_some()).unwrap();
    assert_eq!(c.got, b"hello\n");
    assert_eq!(c.end, Some(TlsRead::Closed));
    assert_eq!(c.tls.state(), TlsState::Closing, "we have not closed yet");
    assert_eq!(c.tls.read(&mut [0; 10]).unwrap(), TlsRead::Closed, "stays");
    // Half-closed: we may still write (TLS 1.3), then close.
    c.tls.close().unwrap();
    assert_eq!(
        c.tls.write(b"x").unwrap_err().kind(),
        ErrorKind::AlreadyClosed
    );
    c.until(|c| c.tls.state() == TlsState::Closed && c.tx.is_empty())
        .unwrap();
}

#[test]
fn python_eof_without_close_notify_is_reported_as_possible_truncation() {
    let peer = Peer::python(&["--mode", "greet-eof"]);
    let mut c = Conn::open(&trusting_config(), "localhost", peer.port);
    c.until(|c| c.end.is_some()).unwrap();
    assert_eq!(c.got, b"hello\n", "everything before the end is delivered");
    assert_eq!(c.end, Some(TlsRead::Truncated));
    assert!(c.tls.last_error().unwrap().contains("without close_notify"));
    assert_eq!(
        c.tls.read(&mut [0; 10]).unwrap(),
        TlsRead::Truncated,
        "stays"
    );
    assert_ne!(c.tls.state(), TlsState::Failed);
}

#[test]
fn python_resumption_between_two_connections_of_one_config() {
    for flag in ["--tls13-only", "--tls12-only"] {
        let peer = Peer::python(&["--mode", "echo", flag]);
        let config = trusting_config();
        let mut first = Conn::open(&config, "localhost", peer.port);
        first.handshake().unwrap();
        // A round trip lets the TLS 1.3 tickets (sent after the handshake) arrive.
        first.exchange(b"ping", 4);
        assert!(!first.tls.is_resumed());
        first.close();
        let mut second = Conn::open(&config, "localhost", peer.port);
        second.handshake().unwrap();
        second.exchange(b"ping", 4);
        assert!(second.tls.is_resumed(), "{flag}: second connection resumed");
        second.close();
        // Another config has its own store.
        let mut other = Conn::open(&trusting_config(), "localhost", peer.port);
        other.handshake().unwrap();
        assert!(!other.tls.is_resumed());
    }
}

#[test]
fn python_wrong_host_untrusted_ca_pin_mismatch_expired() {
    let peer = Peer::python(&["--mode", "echo"]);
    let e = fails_with(&trusting_config(), "wrong.example", peer.port);
    assert_eq!(e.kind(), ErrorKind::CertWrongHost, "{e}");

    let e = fails_with(&Config::new(), "localhost", peer.port);
    assert_eq!(e.kind(), ErrorKind::CertUntrusted, "{e}");

    let mut pinned = trusting_config();
    pinned.add_pin_sha256(&[7u8; 32]).unwrap();
    let e = fails_with(&pinned, "localhost", peer.port);
    assert_eq!(e.kind(), ErrorKind::CertPinMismatch, "{e}");

    let expired = Peer::python_with_cert("expired", &["--mode", "echo"]);
    let e = fails_with(&trusting_config(), "localhost", expired.port);
    assert_eq!(e.kind(), ErrorKind::CertExpired, "{e}");

    // The IP literal is a valid name, and the certificate covers it.
    let mut c = Conn::open(&trusting_config(), "127.0.0.1", peer.port);
    c.handshake().unwrap();
    assert_eq!(c.exchange(b"ip", 2), b"ip");
}

#[test]
fn python_client_certificate() {
    let ca = pki().path("ca.pem");
    let peer = Peer::python(&["--mode", "echo", "--client-ca", &ca]);
    let mut config = trusting_config();
    config
        .set_client_cert_pem(&pki().read("client.pem"), &pki().read("client.key"))
        .unwrap();
    let mut c = Conn::open(&config, "localhost", peer.port);
    c.handshake().unwrap();
    assert_eq!(c.exchange(b"mutual", 6), b"mutual");
    c.close();
}

#[test]
fn write_back_pressure_at_the_pending_output_limit() {
    let peer = Peer::python(&["--mode", "echo"]);
    let mut config = trusting_config();
    config
        .set_limits(Limits {
            max_pending_output: 64 << 10,
            ..Limits::default()
        })
        .unwrap();
    let mut c = Conn::open(&config, "localhost", peer.port);
    let big = pattern(1 << 20);
    // Before the handshake: buffered up to the limit, the rest refused.
    let n = c.tls.write(&big).unwrap();
    assert_eq!(n, 64 << 10);
    assert_eq!(c.tls.write(&big[n..]).unwrap(), 0);
    c.handshake().unwrap();
    // After it: the records wait in the output until read out.
    let mut rest = &big[n..];
    let mut taken = 0;
    while let Ok(k) = c.tls.write(rest) {
        if k == 0 {
            break;
        }
        taken += k;
        rest = &rest[k..];
    }
    assert!(taken <= 64 << 10, "at most the limit is queued ({taken})");
    assert!(!rest.is_empty());
    let back = c.exchange(rest, big.len());
    assert!(back == big);
    c.close();
}

// ----- openssl s_server ----------------------------------------------------------------

fn openssl_case(flag: &str, version: TlsVersion) {
    let peer = Peer::openssl(&[flag]);
    let mut c = Conn::open(&trusting_config(), "localhost", peer.port);
    c.handshake().unwrap();
    assert_eq!(c.tls.protocol_version(), Some(version));
    for line in ["hello\n", "wsmachine over openssl\n"] {
        let reversed: Vec<u8> = line.trim_end().bytes().rev().chain(*b"\n").collect();
        let back = c.exchange(line.as_bytes(), reversed.len());
        assert_eq!(back, reversed);
    }
    c.tls.close().unwrap();
    c.until(|c| c.tls.state() == TlsState::Closed || c.end.is_some())
        .unwrap();
}

#[test]
fn openssl_s_server_tls13() {
    openssl_case("-tls1_3", TlsVersion::Tls13);
}

#[test]
fn openssl_s_server_tls12() {
    openssl_case("-tls1_2", TlsVersion::Tls12);
}

#[test]
fn openssl_s_server_requires_a_client_certificate() {
    let ca = pki().path("ca.pem");
    let verify = ["-Verify", "1", "-verifyCAfile", &ca, "-verify_return_error"];
    // Without one the server refuses the handshake.
    let peer = Peer::openssl(&verify);
    let mut c = Conn::open(&trusting_config(), "localhost", peer.port);
    let r = c.handshake().and_then(|()| {
        // TLS 1.3: the client finishes first; the refusal arrives after.
        c.until(|c| c.end.is_some())
    });
    let e = r.expect_err("refused without a client certificate");
    assert_eq!(e.kind(), ErrorKind::TlsAlertReceived, "{e}");
    drop(peer);
    // With one it works.
    let peer = Peer::openssl(&verify);
    let mut config = trusting_config();
    config
        .set_client_cert_pem(&pki().read("client.pem"), &pki().read("client.key"))
        .unwrap();
    let mut c = Conn::open(&config, "localhost", peer.port);
    c.handshake().unwrap();
    assert_eq!(c.exchange(b"abc\n", 4), b"cba\n");
}

// ----- without a peer ----------------------------------------------------------------

#[test]
fn handshake_timeout_on_the_callers_clock() {
    let mut config = trusting_config();
    let mut t = config.timeouts().clone();
    t.handshake_ms = 1000;
    config.set_timeouts(t);
    let mut tls = TlsClient::new(&config, "localhost").unwrap();
    assert_eq!(tls.next_deadline(), Some(0));
    tls.tick(5000).unwrap();
    assert_eq!(tls.next_deadline(), Some(6000));
    tls.tick(5999).unwrap();
    let e = tls.tick(6000).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout);
    assert_eq!(tls.state(), TlsState::Failed);
    assert_eq!(tls.next_deadline(), None);
}

#[test]
fn bad_names_and_garbage_input() {
    let config = trusting_config();
    for bad in ["", "bad name", "host..example", "-"] {
        let e = TlsClient::new(&config, bad).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{bad:?}");
    }
    let mut tls = TlsClient::new(&config, "localhost").unwrap();
    let mut hello = vec![0; 4096];
    assert!(tls.read_output(&mut hello).unwrap() > 0, "ClientHello");
    assert_eq!(tls.close().unwrap_err().kind(), ErrorKind::NotOpen);
    let e = tls
        .offer_input(b"HTTP/1.1 400 Bad Request\r\n\r\n")
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TlsCorrupt, "{e}");
    assert_eq!(tls.state(), TlsState::Failed);
    // The alert telling the peer why is handed out, then the failure.
    assert!(tls.read_output(&mut hello).unwrap() > 0);
    assert_eq!(tls.read_output(&mut hello).unwrap_err(), e);
    // EOF during the handshake.
    let mut tls = TlsClient::new(&config, "localhost").unwrap();
    let e = tls.offer_input(&[]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ConnectionLost);
}
