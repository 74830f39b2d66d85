//! The WebSocket opening handshake (RFC 6455 section 4) over in-memory bytes.
//!
//! The request is built with tungstenite's request types (`IntoClientRequest`,
//! `generate_request`, which also makes the `Sec-WebSocket-Key`). The response is
//! collected byte by byte until the end of the head (so input split anywhere works),
//! parsed with `httparse`, and verified: status 101, `Upgrade`, `Connection`,
//! `Sec-WebSocket-Accept` (tungstenite's `derive_accept_key`), subprotocol and
//! extensions. Bytes after the head belong to the frame layer and are handed on.

use tungstenite::client::IntoClientRequest;
use tungstenite::handshake::client::generate_request;
use tungstenite::handshake::derive_accept_key;
use tungstenite::http::Uri;

use crate::config::Settings;
use crate::deflate::{DeflateConfig, DeflateParams};
use crate::error::{err, Error, ErrorKind, Result};

/// Where to connect, parsed from a `ws://` or `wss://` URL.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// `wss://`.
    pub tls: bool,
    /// Host name or IP address, without IPv6 brackets.
    pub host: String,
    /// The port (the URL's, or 443/80 by default).
    pub port: u16,
    /// The request bytes to send.
    pub request: Vec<u8>,
    /// The `Sec-WebSocket-Accept` value the server must answer with.
    pub accept: String,
}

fn url_error(url: &str, why: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::InvalidUrl, format!("invalid URL {url:?}: {why}"))
}

/// Parses `url` and builds the upgrade request with the headers of `settings`.
pub(crate) fn prepare(url: &str, settings: &Settings) -> Result<Target> {
    let uri: Uri = url.parse().map_err(|e| url_error(url, e))?;
    let tls = match uri.scheme_str() {
        Some(s) if s.eq_ignore_ascii_case("wss") => true,
        Some(s) if s.eq_ignore_ascii_case("ws") => false,
        Some(s) => return Err(url_error(url, format!("scheme {s:?} is not ws or wss"))),
        None => return Err(url_error(url, "missing ws:// or wss://")),
    };
    // `http::Uri` keeps the port as text and accepts e.g. "99999"; check it here.
    let authority = uri.authority().map(|a| a.as_str()).unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or("");
    let port_text = match host_port.rfind(']') {
        Some(end) => host_port[end + 1..].strip_prefix(':'),
        None => host_port.rsplit_once(':').map(|(_, p)| p),
    };
    if let Some(p) = port_text {
        if !p.is_empty() && !matches!(p.parse::<u16>(), Ok(1..)) {
            return Err(url_error(url, "the port must be a number from 1 to 65535"));
        }
    }
    let host = uri.host().ok_or_else(|| url_error(url, "missing host"))?;
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    if host.is_empty() {
        return Err(url_error(url, "empty host"));
    }
    let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
    // `http::Uri` leaves the path empty for "ws://host:port"; the request needs "/".
    let uri = if uri.path_and_query().is_none() || uri.path().is_empty() {
        let mut parts = uri.into_parts();
        parts.path_and_query = Some("/".parse().expect("static path"));
        Uri::from_parts(parts).map_err(|e| url_error(url, e))?
    } else {
        uri
    };
    let mut request = uri.into_client_request().map_err(|e| url_error(url, e))?;
    let headers = request.headers_mut();
    if !settings.subprotocols.is_empty() {
        let value = settings.subprotocols.join(", ");
        headers.insert(
            "Sec-WebSocket-Protocol",
            value
                .parse()
                .map_err(|_| Error::new(ErrorKind::InvalidConfig, "bad subprotocol"))?,
        );
    }
    let (mut bytes, key) = generate_request(request).map_err(|e| {
        Error::new(
            ErrorKind::InvalidConfig,
            format!("cannot build request: {e}"),
        )
    })?;
    // Extra headers go in as given: the `http` crate would lower-case their names, and
    // some servers compare names case-sensitively. `Config::add_header` validated them.
    let mut extra: Vec<(&str, String)> = Vec::new();
    if settings.deflate.enabled {
        extra.push(("Sec-WebSocket-Extensions", settings.deflate.offer()));
    }
    extra.extend(
        settings
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.clone())),
    );
    if !extra.is_empty() {
        debug_assert!(bytes.ends_with(b"\r\n\r\n"));
        bytes.truncate(bytes.len() - 2);
        for (name, value) in extra {
            bytes.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        bytes.extend_from_slice(b"\r\n");
    }
    Ok(Target {
        tls,
        host,
        port,
        request: bytes,
        accept: derive_accept_key(key.as_bytes()),
    })
}

/// What the server agreed to in its 101 response.
#[derive(Debug, Clone, Default)]
pub(crate) struct Agreed {
    /// The subprotocol the server selected, if any.
    pub subprotocol: Option<String>,
    /// permessage-deflate, if the server accepted it.
    pub deflate: Option<DeflateParams>,
}

/// Collects and verifies the server's upgrade response.
#[derive(Debug)]
pub(crate) struct ResponseReader {
    head: Vec<u8>,
    max: usize,
    accept: String,
    offered: Vec<String>,
    deflate: Option<DeflateConfig>,
    /// The HTTP status once the head has been parsed.
    pub status: Option<u16>,
}

/// Outcome of feeding bytes to a [`ResponseReader`].
pub(crate) enum Progress {
    /// All bytes were taken; the head is not complete yet.
    NeedMore,
    /// The handshake succeeded; `usize` bytes of the input belonged to the head.
    Done(usize, Agreed),
}

impl ResponseReader {
    pub(crate) fn new(accept: String, settings: &Settings) -> Self {
        ResponseReader {
            head: Vec::new(),
            max: settings.limits.max_header_size,
            accept,
            offered: settings.subprotocols.clone(),
            deflate: settings.deflate.enabled.then(|| settings.deflate.clone()),
            status: None,
        }
    }

    /// Takes input bytes. Returns how many belonged to the response head once it is
    /// complete and valid; the rest are WebSocket frames.
    pub(crate) fn feed(&mut self, data: &[u8]) -> Result<Progress> {
        let old = self.head.len();
        let room = self.max.saturating_sub(old);
        let take = data.len().min(room.saturating_add(1));
        self.head.extend_from_slice(&data[..take]);
        let from = old.saturating_sub(3);
        match find_head_end(&self.head[from..]) {
            Some(rel) => {
                let end = from + rel;
                if end > self.max {
                    return self.too_large();
                }
                self.head.truncate(end);
                let agreed = self.verify()?;
                self.head = Vec::new();
                Ok(Progress::Done(end - old, agreed))
            }
            None if self.head.len() > self.max => self.too_large(),
            None => Ok(Progress::NeedMore),
        }
    }

    fn too_large<T>(&self) -> Result<T> {
        err(
            ErrorKind::HeaderTooLarge,
            format!("the upgrade response head exceeds {} bytes", self.max),
        )
    }

    fn verify(&mut self) -> Result<Agreed> {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut resp = httparse::Response::new(&mut headers);
        match resp.parse(&self.head) {
            Ok(httparse::Status::Complete(_)) => {}
            Ok(httparse::Status::Partial) => {
                return err(ErrorKind::BadResponse, "incomplete HTTP response head")
            }
            Err(e) => {
                return err(
                    ErrorKind::BadResponse,
                    format!("malformed HTTP response: {e}"),
                )
            }
        }
        let code = resp.code.unwrap_or(0);
        self.status = Some(code);
        if code != 101 {
            let reason = resp.reason.unwrap_or("");
            return err(
                ErrorKind::HttpStatus,
                format!("the server answered the upgrade with HTTP {code} {reason}"),
            );
        }
        let get = |name: &str| -> Vec<&[u8]> {
            resp.headers
                .iter()
                .filter(|h| h.name.eq_ignore_ascii_case(name))
                .map(|h| h.value)
                .collect()
        };
        let has_token = |values: &[&[u8]], token: &str| {
            values.iter().any(|v| {
                v.split(|&b| b == b',')
                    .any(|t| t.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
            })
        };
        if !has_token(&get("Upgrade"), "websocket") {
            return err(
                ErrorKind::BadResponse,
                "the 101 response lacks `Upgrade: websocket`",
            );
        }
        if !has_token(&get("Connection"), "upgrade") {
            return err(
                ErrorKind::BadResponse,
                "the 101 response lacks `Connection: Upgrade`",
            );
        }
        match get("Sec-WebSocket-Accept").as_slice() {
            [v] if v.trim_ascii() == self.accept.as_bytes() => {}
            [v] => {
                return err(
                    ErrorKind::BadAccept,
                    format!(
                        "Sec-WebSocket-Accept {:?} does not match the expected {:?}",
                        String::from_utf8_lossy(v),
                        self.accept
                    ),
                )
            }
            _ => {
                return err(
                    ErrorKind::BadAccept,
                    "missing or repeated Sec-WebSocket-Accept",
                )
            }
        }
        let deflate =
            crate::deflate::negotiate(&get("Sec-WebSocket-Extensions"), self.deflate.as_ref())?;
        let subprotocol = match get("Sec-WebSocket-Protocol").as_slice() {
            [] => None,
            [v] => {
                let chosen = String::from_utf8_lossy(v).trim().to_string();
                if !self.offered.contains(&chosen) {
                    return err(
                        ErrorKind::Subprotocol,
                        format!(
                            "the server selected subprotocol {chosen:?}, which was not offered"
                        ),
                    );
                }
                Some(chosen)
            }
            _ => {
                return err(
                    ErrorKind::Subprotocol,
                    "more than one Sec-WebSocket-Protocol",
                )
            }
        };
        Ok(Agreed {
            subprotocol,
            deflate,
        })
    }
}

fn find_head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4)
}
