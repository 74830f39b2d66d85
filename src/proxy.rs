//! Proxies: the tunnel below TLS and WebSocket.
//!
//! With a proxy configured ([`crate::Config::set_proxy`]), the caller's socket connects
//! to the proxy, and the tunnel first asks the proxy for a connection to the
//! origin (`host:port` of the WebSocket URL):
//!
//! - `http://` proxies get `CONNECT host:port HTTP/1.1`; a `2xx` opens the tunnel.
//! - `https://` proxies do the same inside a TLS connection to the proxy (rustls,
//!   verified with the origin's trust settings except pins and the client
//!   certificate, which are for the origin only). The origin's TLS runs inside it.
//! - `socks5://` proxies get the RFC 1928 greeting, RFC 1929 username/password when
//!   the URL has credentials, and a CONNECT with the host *name* (address type 3), so
//!   the proxy resolves it, as curl's `socks5h://` does.
//!
//! Everything is sans-IO: bytes from the socket go through the tunnel first and bytes
//! for the socket go through it last. The proxy's answer is read up to its end only;
//! bytes after it in the same read belong to the origin and are handed on. The answer
//! is bounded by the header size limit, and the handshake timeout covers it.
//!
//! Credentials from the proxy URL are never part of an error message or a `Debug`
//! print.

use std::fmt;
use std::io::{BufRead, Write};
use std::sync::Arc;

use crate::bytes::Source;
use crate::error::{Error, ErrorKind, Result};
use crate::transport::Output;

/// The kind of proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyKind {
    /// An HTTP proxy, spoken to in plain text (`CONNECT`).
    Http,
    /// An HTTP proxy behind TLS (`CONNECT` inside TLS to the proxy).
    Https,
    /// A SOCKS5 proxy (host names resolved by the proxy).
    Socks5,
}

/// A parsed proxy URL. Its `Debug` form hides the credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyUrl {
    kind: ProxyKind,
    host: String,
    port: u16,
    credentials: Option<(String, String)>,
}

impl fmt::Debug for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxyUrl")
            .field("kind", &self.kind)
            .field("host", &self.host)
            .field("port", &self.port)
            .field(
                "credentials",
                &self.credentials.as_ref().map(|_| "<hidden>"),
            )
            .finish()
    }
}

impl ProxyUrl {
    /// Parses `http://[user:pass@]host[:port][/]`, `https://...` or `socks5://...`
    /// (`socks5h://` is accepted as the same thing). Default ports: 80, 443, 1080.
    /// User and password are percent-decoded. The error never repeats the URL, so
    /// that credentials in it stay out of logs.
    pub fn parse(url: &str) -> Result<ProxyUrl> {
        let bad =
            |why: &str| Error::new(ErrorKind::InvalidUrl, format!("invalid proxy URL: {why}"));
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| bad("missing scheme (http://, https:// or socks5://)"))?;
        let (kind, default_port) = match scheme.to_ascii_lowercase().as_str() {
            "http" => (ProxyKind::Http, 80),
            "https" => (ProxyKind::Https, 443),
            "socks5" | "socks5h" => (ProxyKind::Socks5, 1080),
            _ => {
                return Err(bad(
                    "unsupported scheme (use http://, https:// or socks5://)",
                ))
            }
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains(['/', '?', '#']) {
            return Err(bad("a proxy URL has no path, query or fragment"));
        }
        let (userinfo, hostport) = match rest.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, rest),
        };
        let credentials = match userinfo {
            None => None,
            Some(u) => {
                let (user, pass) = u.split_once(':').unwrap_or((u, ""));
                let user =
                    percent_decode(user).ok_or_else(|| bad("bad %-escape in the user name"))?;
                let pass =
                    percent_decode(pass).ok_or_else(|| bad("bad %-escape in the password"))?;
                if user.is_empty() {
                    return Err(bad("empty user name"));
                }
                Some((user, pass))
            }
        };
        let (host, port_text) = if let Some(v6) = hostport.strip_prefix('[') {
            let (h, after) = v6
                .split_once(']')
                .ok_or_else(|| bad("unclosed '[' in the host"))?;
            if h.parse::<std::net::Ipv6Addr>().is_err() {
                return Err(bad("invalid IPv6 address"));
            }
            match after {
                "" => (h, None),
                p => (
                    h,
                    Some(p.strip_prefix(':').ok_or_else(|| bad("junk after ']'"))?),
                ),
            }
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (hostport, None),
            }
        };
        if host.is_empty() {
            return Err(bad("missing host"));
        }
        if !host.starts_with('[')
            && !host.contains(':')
            && !host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
        {
            return Err(bad("invalid character in the host name"));
        }
        let port = match port_text {
            None => default_port,
            Some(p) => match p.parse::<u16>() {
                Ok(n) if n > 0 => n,
                _ => return Err(bad("the port must be a number from 1 to 65535")),
            },
        };
        if kind == ProxyKind::Socks5 {
            if let Some((u, p)) = &credentials {
                if u.len() > 255 || p.len() > 255 {
                    return Err(bad(
                        "SOCKS5 user name and password are at most 255 bytes each",
                    ));
                }
            }
        }
        Ok(ProxyUrl {
            kind,
            host: host.to_string(),
            port,
            credentials,
        })
    }

    /// The kind of proxy.
    pub fn kind(&self) -> ProxyKind {
        self.kind
    }

    /// The proxy's host name or IP address (without IPv6 brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The proxy's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Whether the URL carried a user name (and password).
    pub fn has_credentials(&self) -> bool {
        self.credentials.is_some()
    }

    /// `scheme://host:port`, without credentials (for messages).
    fn display(&self) -> String {
        let scheme = match self.kind {
            ProxyKind::Http => "http",
            ProxyKind::Https => "https",
            ProxyKind::Socks5 => "socks5",
        };
        format!("{scheme}://{}", host_port(&self.host, self.port))
    }
}

fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

pub(crate) fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in data.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The proxy settings a client is created with. Its `Debug` form hides the
/// credentials (the URL's and the `Proxy-Authorization` value).
#[derive(Clone, Default)]
pub(crate) struct ProxySettings {
    pub url: Option<ProxyUrl>,
    /// A `Proxy-Authorization` value computed by the caller (overrides Basic from the URL).
    pub authorization: Option<String>,
}

impl fmt::Debug for ProxySettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxySettings")
            .field("url", &self.url)
            .field(
                "authorization",
                &self.authorization.as_ref().map(|_| "<hidden>"),
            )
            .finish()
    }
}

impl fmt::Debug for Tunnel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tunnel")
            .field("proxy", &self.proxy)
            .field("step", &self.step)
            .finish_non_exhaustive()
    }
}

/// Where the exchange with the proxy stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Waiting for the answer to CONNECT.
    HttpReply,
    /// Waiting for the SOCKS5 method selection (2 bytes).
    SocksMethod,
    /// Waiting for the username/password verdict (2 bytes).
    SocksAuth,
    /// Waiting for the SOCKS5 CONNECT reply.
    SocksReply,
    /// The tunnel is open.
    Open,
}

/// What [`Tunnel::input`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fed {
    /// Socket bytes taken.
    pub used: usize,
    /// The proxy's TLS connection ended (close_notify): the origin's stream ended.
    pub eof: bool,
}

/// The tunnel through a proxy. See the [module docs](self).
pub(crate) struct Tunnel {
    proxy: ProxyUrl,
    target: String,
    target_host: String,
    target_port: u16,
    step: Step,
    /// The proxy's answer so far.
    reply: Vec<u8>,
    max_reply: usize,
    /// TLS to an `https://` proxy.
    tls: Option<Box<rustls::ClientConnection>>,
    /// Bytes for the socket.
    wire: Output,
    status: Option<u16>,
    challenges: Vec<String>,
}

impl Tunnel {
    /// Starts the exchange with the proxy for the origin `host:port`: the first bytes
    /// (TLS ClientHello, CONNECT request or SOCKS greeting) are ready in the output.
    pub(crate) fn new(
        settings: &ProxySettings,
        host: &str,
        port: u16,
        proxy_tls: Option<Arc<rustls::ClientConfig>>,
        max_reply: usize,
    ) -> Result<Tunnel> {
        let proxy = settings.url.clone().expect("a proxy URL");
        let tls = match (proxy.kind, proxy_tls) {
            (ProxyKind::Https, Some(config)) => {
                let name =
                    rustls::pki_types::ServerName::try_from(proxy.host.clone()).map_err(|_| {
                        Error::new(
                            ErrorKind::InvalidUrl,
                            format!("invalid TLS server name for the proxy {:?}", proxy.host),
                        )
                    })?;
                let mut conn = rustls::ClientConnection::new(config, name)
                    .map_err(|e| proxy_tls_error(&proxy, &e))?;
                conn.set_buffer_limit(None);
                Some(Box::new(conn))
            }
            (ProxyKind::Https, None) => {
                return Err(Error::new(
                    ErrorKind::InvalidConfig,
                    "no TLS config for the proxy",
                ))
            }
            _ => None,
        };
        let mut t = Tunnel {
            target: host_port(host, port),
            target_host: host.to_string(),
            target_port: port,
            step: Step::Open,
            reply: Vec::new(),
            max_reply,
            tls,
            wire: Output::default(),
            status: None,
            challenges: Vec::new(),
            proxy,
        };
        match t.proxy.kind {
            ProxyKind::Http | ProxyKind::Https => {
                let mut req = format!(
                    "CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n",
                    target = t.target
                );
                let auth = match (&settings.authorization, &t.proxy.credentials) {
                    (Some(a), _) => Some(a.clone()),
                    (None, Some((u, p))) => {
                        Some(format!("Basic {}", base64(format!("{u}:{p}").as_bytes())))
                    }
                    (None, None) => None,
                };
                if let Some(a) = auth {
                    req.push_str(&format!("Proxy-Authorization: {a}\r\n"));
                }
                req.push_str("\r\n");
                t.step = Step::HttpReply;
                t.send(req.as_bytes());
            }
            ProxyKind::Socks5 => {
                // Offer "no authentication", and username/password when we have them.
                let greeting: &[u8] = if t.proxy.credentials.is_some() {
                    &[5, 2, 0, 2]
                } else {
                    &[5, 1, 0]
                };
                t.step = Step::SocksMethod;
                t.send(greeting);
            }
        }
        Ok(t)
    }

    /// Whether the tunnel is open and passes bytes through unchanged (no TLS to the
    /// proxy): the session may bypass it.
    pub(crate) fn is_transparent(&self) -> bool {
        self.step == Step::Open && self.tls.is_none()
    }

    /// Whether the tunnel is open.
    pub(crate) fn is_open(&self) -> bool {
        self.step == Step::Open
    }

    /// The HTTP status of a refusing proxy, once known.
    pub(crate) fn status(&self) -> Option<u16> {
        self.status
    }

    /// The `Proxy-Authenticate` challenges of a 407 answer, in order.
    pub(crate) fn challenges(&self) -> &[String] {
        &self.challenges
    }

    /// The proxy's host and port, where the caller's socket connects.
    pub(crate) fn address(&self) -> (&str, u16) {
        (&self.proxy.host, self.proxy.port)
    }

    /// Queues bytes for the proxy (inside its TLS when there is one).
    fn send(&mut self, data: &[u8]) {
        match self.tls.as_mut() {
            Some(conn) => {
                conn.writer()
                    .write_all(data)
                    .expect("unbounded rustls buffer");
                self.wire.take_tls(conn);
            }
            None => self.wire.extend(data),
        }
    }

    /// The output the socket must send: the tunnel's own bytes, then (once open)
    /// `inner`'s, moved or encrypted here. Before the tunnel opens, `inner` waits.
    pub(crate) fn output<'a>(&'a mut self, inner: &'a mut Output) -> &'a mut Output {
        if self.step != Step::Open {
            return &mut self.wire;
        }
        match self.tls.as_mut() {
            Some(conn) => {
                if inner.len() > 0 {
                    conn.writer()
                        .write_all(inner.peek())
                        .expect("unbounded rustls buffer");
                    let n = inner.len();
                    inner.consume(n);
                }
                self.wire.take_tls(conn);
                &mut self.wire
            }
            None if self.wire.len() == 0 => inner,
            None => {
                if inner.len() > 0 {
                    self.wire.extend(inner.peek());
                    let n = inner.len();
                    inner.consume(n);
                }
                &mut self.wire
            }
        }
    }

    /// Bytes waiting in the tunnel's own output (not counting the origin's).
    pub(crate) fn pending(&self) -> usize {
        self.wire.len()
    }

    /// Releases the output buffer's memory when it is empty and larger than `keep`.
    pub(crate) fn trim(&mut self, keep: usize) {
        self.wire.trim(keep);
        self.reply.shrink_to_fit();
    }

    /// Capacity of the tunnel's own buffers (not counting rustls).
    pub(crate) fn capacity(&self) -> usize {
        self.wire.capacity() + self.reply.capacity()
    }

    /// Takes bytes from the socket. The proxy's answer is consumed here; what comes
    /// after it (the origin's bytes) goes to `inner`, which returns how many it took.
    /// `more` says whether more input may be processed (the bound on undelivered
    /// messages); it is asked between TLS records.
    pub(crate) fn input(
        &mut self,
        data: &[u8],
        more: &mut dyn FnMut() -> bool,
        inner: &mut dyn FnMut(&[u8]) -> Result<usize>,
    ) -> Result<Fed> {
        if self.tls.is_none() {
            let mut used = 0;
            if self.step != Step::Open {
                used = self.exchange(data)?;
                if self.step != Step::Open {
                    return Ok(Fed { used, eof: false });
                }
            }
            if used < data.len() {
                used += inner(&data[used..])?;
            }
            return Ok(Fed { used, eof: false });
        }
        let mut used = 0;
        let mut eof = false;
        loop {
            // Hand on what is already decrypted, before reading more.
            self.drain(inner)?;
            if eof || used == data.len() || !more() {
                break;
            }
            let conn = self.tls.as_mut().expect("tls");
            let n = conn.read_tls(&mut Source(&data[used..])).map_err(|e| {
                Error::new(
                    ErrorKind::Tls,
                    format!("TLS input from the proxy refused: {e}"),
                )
            })?;
            if n == 0 {
                // Nothing is taken after the proxy's close_notify.
                used = data.len();
                break;
            }
            used += n;
            let io = match conn.process_new_packets() {
                Ok(io) => io,
                Err(e) => {
                    self.wire.take_tls(conn);
                    return Err(proxy_tls_error(&self.proxy, &e));
                }
            };
            eof = io.peer_has_closed();
            self.wire.take_tls(conn);
        }
        Ok(Fed { used, eof })
    }

    /// Passes decrypted bytes to the exchange, then (once open) to `inner`.
    fn drain(&mut self, inner: &mut dyn FnMut(&[u8]) -> Result<usize>) -> Result<()> {
        loop {
            let conn = self.tls.as_mut().expect("tls");
            let mut reader = conn.reader();
            let buf = match reader.fill_buf() {
                Ok([]) => return Ok(()),
                Ok(buf) => buf,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
                Err(e) => {
                    return Err(Error::new(
                        ErrorKind::Tls,
                        format!("TLS read from the proxy failed: {e}"),
                    ))
                }
            };
            if self.step == Step::Open {
                let n = inner(buf)?;
                reader.consume(n);
                if n == 0 {
                    return Ok(());
                }
            } else {
                // The answer is short: copy it out of rustls to parse it.
                let chunk = buf.to_vec();
                let n = self.exchange(&chunk)?;
                self.tls.as_mut().expect("tls").reader().consume(n);
            }
        }
    }

    /// Parses the proxy's answer; returns how many bytes of `data` belong to it.
    fn exchange(&mut self, data: &[u8]) -> Result<usize> {
        let mut used = 0;
        while used < data.len() && self.step != Step::Open {
            used += match self.step {
                Step::HttpReply => self.http_reply(&data[used..])?,
                Step::SocksMethod | Step::SocksAuth | Step::SocksReply => {
                    self.socks_reply(&data[used..])?
                }
                Step::Open => 0,
            };
        }
        Ok(used)
    }

    fn http_reply(&mut self, data: &[u8]) -> Result<usize> {
        // Take bytes up to the end of the head and no further.
        let start = self.reply.len();
        let mut take = data.len();
        let mut done = false;
        for (i, &b) in data.iter().enumerate() {
            let len = start + i + 1;
            if b == b'\n'
                && ((len >= 4 && self.tail_is(&data[..=i], b"\r\n\r\n"))
                    || (len >= 2 && self.tail_is(&data[..=i], b"\n\n")))
            {
                take = i + 1;
                done = true;
                break;
            }
        }
        if start + take > self.max_reply {
            return Err(Error::new(
                ErrorKind::ProxyBadResponse,
                format!(
                    "the proxy {}'s answer to CONNECT exceeds the header size limit of {} bytes",
                    self.proxy.display(),
                    self.max_reply
                ),
            ));
        }
        self.reply.extend_from_slice(&data[..take]);
        if !done {
            // Reject garbage early, before the limit: an HTTP answer starts with "HTTP/".
            let n = self.reply.len().min(5);
            if !b"HTTP/"[..n].eq_ignore_ascii_case(&self.reply[..n]) {
                return Err(self.garbage());
            }
            return Ok(take);
        }
        let head = std::mem::take(&mut self.reply);
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut resp = httparse::Response::new(&mut headers);
        match resp.parse(&head) {
            Ok(httparse::Status::Complete(_)) => {}
            _ => return Err(self.garbage()),
        }
        let code = resp.code.unwrap_or(0);
        if (100..200).contains(&code) {
            // An informational answer (100 Continue, ...): the real one follows.
            return Ok(take);
        }
        if (200..300).contains(&code) {
            self.step = Step::Open;
            return Ok(take);
        }
        self.status = Some(code);
        let reason = resp.reason.unwrap_or("").to_string();
        let reason: String = reason
            .chars()
            .filter(|c| !c.is_control())
            .take(100)
            .collect();
        if code == 407 {
            self.challenges = resp
                .headers
                .iter()
                .filter(|h| h.name.eq_ignore_ascii_case("proxy-authenticate"))
                .map(|h| String::from_utf8_lossy(h.value).trim().to_string())
                .collect();
            let schemes: Vec<&str> = self
                .challenges
                .iter()
                .map(|c| c.split_whitespace().next().unwrap_or(""))
                .collect();
            return Err(Error::new(
                ErrorKind::ProxyAuthRequired,
                format!(
                    "the proxy {} requires authentication (407 {reason}){}; {}",
                    self.proxy.display(),
                    if schemes.is_empty() {
                        String::new()
                    } else {
                        format!(", schemes offered: {}", schemes.join(", "))
                    },
                    if self.proxy.credentials.is_some() {
                        "the credentials sent were rejected"
                    } else {
                        "no credentials were sent"
                    }
                ),
            ));
        }
        Err(Error::new(
            ErrorKind::ProxyRefused,
            format!(
                "the proxy {} refused to connect to {}: HTTP {code} {reason}",
                self.proxy.display(),
                self.target
            ),
        ))
    }

    fn tail_is(&self, data: &[u8], end: &[u8]) -> bool {
        // The last `end.len()` bytes of reply + data.
        let total = self.reply.len() + data.len();
        (0..end.len()).all(|k| {
            let pos = total - end.len() + k;
            let b = if pos < self.reply.len() {
                self.reply[pos]
            } else {
                data[pos - self.reply.len()]
            };
            b == end[k]
        })
    }

    fn garbage(&self) -> Error {
        Error::new(
            ErrorKind::ProxyBadResponse,
            format!(
                "the proxy {} answered CONNECT with something that is not HTTP",
                self.proxy.display()
            ),
        )
    }

    /// Collects exactly `want` bytes of a SOCKS message; returns (taken, complete).
    fn collect(&mut self, data: &[u8], want: usize) -> (usize, bool) {
        let take = want.saturating_sub(self.reply.len()).min(data.len());
        self.reply.extend_from_slice(&data[..take]);
        (take, self.reply.len() >= want)
    }

    fn socks_reply(&mut self, data: &[u8]) -> Result<usize> {
        let proxy = self.proxy.display();
        let bad = |what: &str| {
            Error::new(
                ErrorKind::ProxyBadResponse,
                format!("the SOCKS5 proxy {proxy} sent an invalid {what}"),
            )
        };
        match self.step {
            Step::SocksMethod => {
                let (n, done) = self.collect(data, 2);
                if !done {
                    return Ok(n);
                }
                let r = std::mem::take(&mut self.reply);
                if r[0] != 5 {
                    return Err(bad("method selection (not SOCKS version 5)"));
                }
                match r[1] {
                    0 => self.socks_connect(),
                    2 if self.proxy.credentials.is_some() => {
                        let (u, p) = self.proxy.credentials.clone().expect("checked");
                        let mut m = vec![1, u.len() as u8];
                        m.extend_from_slice(u.as_bytes());
                        m.push(p.len() as u8);
                        m.extend_from_slice(p.as_bytes());
                        self.step = Step::SocksAuth;
                        self.send(&m);
                    }
                    0xff => {
                        return Err(Error::new(
                            if self.proxy.credentials.is_some() {
                                ErrorKind::ProxyRefused
                            } else {
                                ErrorKind::ProxyAuthRequired
                            },
                            format!(
                                "the SOCKS5 proxy {proxy} accepts none of the offered authentication methods ({})",
                                if self.proxy.credentials.is_some() {
                                    "none, username/password"
                                } else {
                                    "none; it may want a user name and password in the proxy URL"
                                }
                            ),
                        ))
                    }
                    m => return Err(bad(&format!("method selection (method {m} was not offered)"))),
                }
                Ok(n)
            }
            Step::SocksAuth => {
                let (n, done) = self.collect(data, 2);
                if !done {
                    return Ok(n);
                }
                let r = std::mem::take(&mut self.reply);
                if r[0] != 1 {
                    return Err(bad("username/password answer (not version 1)"));
                }
                if r[1] != 0 {
                    return Err(Error::new(
                        ErrorKind::ProxyAuthRequired,
                        format!("the SOCKS5 proxy {proxy} rejected the user name and password (status {})", r[1]),
                    ));
                }
                self.socks_connect();
                Ok(n)
            }
            Step::SocksReply => {
                // VER REP RSV ATYP BND.ADDR BND.PORT; the length depends on ATYP.
                let (mut n, done) = self.collect(data, 5);
                if !done {
                    return Ok(n);
                }
                let want = match self.reply[3] {
                    1 => 4 + 4 + 2,
                    3 => 4 + 1 + self.reply[4] as usize + 2,
                    4 => 4 + 16 + 2,
                    _ => return Err(bad("CONNECT reply (unknown address type)")),
                };
                let (m, done) = self.collect(&data[n..], want);
                n += m;
                if !done {
                    return Ok(n);
                }
                let r = std::mem::take(&mut self.reply);
                if r[0] != 5 {
                    return Err(bad("CONNECT reply (not SOCKS version 5)"));
                }
                if r[1] != 0 {
                    let why = match r[1] {
                        1 => "general SOCKS server failure",
                        2 => "connection not allowed by ruleset",
                        3 => "network unreachable",
                        4 => "host unreachable",
                        5 => "connection refused",
                        6 => "TTL expired",
                        7 => "command not supported",
                        8 => "address type not supported",
                        _ => "unknown reply code",
                    };
                    return Err(Error::new(
                        ErrorKind::ProxyRefused,
                        format!(
                            "the SOCKS5 proxy {proxy} refused to connect to {}: reply {} ({why})",
                            self.target, r[1]
                        ),
                    ));
                }
                self.step = Step::Open;
                Ok(n)
            }
            _ => Ok(0),
        }
    }

    fn socks_connect(&mut self) {
        let mut m = vec![5, 1, 0];
        let host = &self.target_host;
        if let Ok(ip) = host.parse::<std::net::Ipv4Addr>() {
            m.push(1);
            m.extend_from_slice(&ip.octets());
        } else if let Ok(ip) = host.parse::<std::net::Ipv6Addr>() {
            m.push(4);
            m.extend_from_slice(&ip.octets());
        } else {
            // The name goes to the proxy, which resolves it (socks5h). Names longer
            // than 255 bytes are not valid DNS names; cut, the proxy then fails it.
            let name = &host.as_bytes()[..host.len().min(255)];
            m.push(3);
            m.push(name.len() as u8);
            m.extend_from_slice(name);
        }
        m.extend_from_slice(&self.target_port.to_be_bytes());
        self.step = Step::SocksReply;
        self.send(&m);
    }

    /// The error for the socket ending before the tunnel opened.
    pub(crate) fn eof_error(&self) -> Error {
        Error::new(
            ErrorKind::ProxyClosed,
            format!(
                "the proxy {} closed the connection before the tunnel to {} was open{}",
                self.proxy.display(),
                self.target,
                if self.reply.is_empty() {
                    ""
                } else {
                    " (in the middle of its answer)"
                }
            ),
        )
    }
}

fn proxy_tls_error(proxy: &ProxyUrl, e: &rustls::Error) -> Error {
    let mapped = crate::tls::map_error(e);
    Error::new(
        mapped.kind(),
        format!("TLS to the proxy {}: {}", proxy.display(), mapped.message()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tunnel(url: &str) -> Tunnel {
        let settings = ProxySettings {
            url: Some(ProxyUrl::parse(url).unwrap()),
            authorization: None,
        };
        Tunnel::new(&settings, "origin.test", 443, None, 16 << 10).unwrap()
    }

    /// Feeds `data` in `step`-byte chunks; returns what reached the inner layer.
    fn feed(t: &mut Tunnel, data: &[u8], step: usize) -> Vec<u8> {
        let mut inner = Vec::new();
        for chunk in data.chunks(step) {
            let fed = t
                .input(chunk, &mut || true, &mut |b| {
                    inner.extend_from_slice(b);
                    Ok(b.len())
                })
                .unwrap();
            assert_eq!(fed.used, chunk.len());
        }
        inner
    }

    #[test]
    fn bytes_after_the_2xx_head_reach_the_inner_layer() {
        for step in [1, 2, 7, 1000] {
            let mut t = tunnel("http://p:1");
            let mut out = Output::default();
            assert!(t
                .output(&mut out)
                .peek()
                .starts_with(b"CONNECT origin.test:443 HTTP/1.1\r\n"));
            let got = feed(
                &mut t,
                b"HTTP/1.0 200 OK\r\nVia: x\r\n\r\n\x16\x03\x03LEFTOVER",
                step,
            );
            assert!(t.is_open() && t.is_transparent());
            assert_eq!(got, b"\x16\x03\x03LEFTOVER", "step {step}");
        }
    }

    #[test]
    fn informational_answers_are_skipped() {
        let mut t = tunnel("http://p:1");
        let got = feed(
            &mut t,
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\nX",
            1,
        );
        assert!(t.is_open());
        assert_eq!(got, b"X");
    }

    #[test]
    fn bytes_after_the_socks_reply_reach_the_inner_layer() {
        for step in [1, 3, 1000] {
            let mut t = tunnel("socks5://p");
            let mut out = Output::default();
            assert_eq!(t.output(&mut out).peek(), [5, 1, 0]);
            t.output(&mut out).consume(3);
            assert!(feed(&mut t, &[5, 0], step).is_empty());
            let connect = t.output(&mut out).peek().to_vec();
            assert_eq!(&connect[..5], [5, 1, 0, 3, 11]);
            assert_eq!(&connect[5..16], b"origin.test");
            assert_eq!(&connect[16..], 443u16.to_be_bytes());
            let mut reply = vec![5, 0, 0, 4];
            reply.extend_from_slice(&[0; 16]);
            reply.extend_from_slice(&[0, 80]);
            reply.extend_from_slice(b"REST");
            assert_eq!(feed(&mut t, &reply, step), b"REST", "step {step}");
            assert!(t.is_open());
        }
    }

    #[test]
    fn an_ip_origin_goes_as_an_address() {
        let settings = ProxySettings {
            url: Some(ProxyUrl::parse("socks5://p").unwrap()),
            authorization: None,
        };
        let mut t = Tunnel::new(&settings, "::1", 8443, None, 1024).unwrap();
        let mut out = Output::default();
        t.output(&mut out).consume(3);
        feed(&mut t, &[5, 0], 1);
        let connect = t.output(&mut out).peek().to_vec();
        assert_eq!(connect[3], 4);
        assert_eq!(connect.len(), 4 + 16 + 2);
        // CONNECT for an HTTP proxy brackets IPv6.
        let settings = ProxySettings {
            url: Some(ProxyUrl::parse("http://p").unwrap()),
            authorization: None,
        };
        let mut t = Tunnel::new(&settings, "::1", 8443, None, 1024).unwrap();
        assert!(t
            .output(&mut out)
            .peek()
            .starts_with(b"CONNECT [::1]:8443 HTTP/1.1\r\nHost: [::1]:8443\r\n"));
    }
}
