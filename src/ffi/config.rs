//! `ws_config`: shared client configuration.

use std::ffi::c_char;

use super::handles::{self, Object};
use super::panic::boundary;
use super::result::{ws_result, ws_result::*, Fail};
use super::util::{in_opt_str, in_slice, in_str, out_ptr};
use crate::config::{Config, ExternalVerification, Limits, PinMode, Timeouts, TlsVersion};
use crate::deflate::DeflateConfig;
use crate::error::Error;

/// A configuration handle: a generation-counted uint64_t; 0 is never valid.
pub type ws_config = u64;

/// TLS versions: the lowest one for ws_config_set_min_tls_version, and the
/// negotiated one from ws_client_tls_version.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ws_tls_version {
    /// TLS 1.2 (as the lowest: 1.2 and 1.3, the default).
    WS_TLS_VERSION_1_2 = 12,
    /// TLS 1.3 (as the lowest: 1.3 only).
    WS_TLS_VERSION_1_3 = 13,
}

/// Pin modes for ws_config_set_pin_mode.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ws_pin_mode {
    /// The chain must verify against the trusted roots and the key must match a pin
    /// (the default).
    WS_PIN_MODE_AND_CA = 1,
    /// Only the pin is checked (no CA, no host name): a self-signed server works.
    WS_PIN_MODE_ONLY = 2,
}

/// External verification modes for ws_config_set_external_verification.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ws_external_verify {
    /// The built-in checks decide alone (the default).
    WS_EXTERNAL_VERIFY_OFF = 0,
    /// Only a chain the trusted roots cannot anchor waits for the caller's verdict; a
    /// wrong host name, an expired certificate or a pin mismatch still fail at once,
    /// and a chain the roots trust never waits.
    WS_EXTERNAL_VERIFY_UNKNOWN_ISSUER = 1,
    /// Every chain waits for the caller's verdict once the built-in checks passed or
    /// failed only on the issuer; a resumed session too.
    WS_EXTERNAL_VERIFY_ALWAYS = 2,
}

/// Runs `f` on the config behind `cfg`; its error is recorded once, by the boundary.
pub(crate) fn with_config<T>(
    cfg: ws_config,
    f: impl FnOnce(&mut Config) -> Result<T, Error>,
) -> Result<T, Fail> {
    match handles::lock(cfg).as_deref_mut() {
        Some(Object::Config(c)) => Ok(f(c)?),
        _ => Err(Fail::new(
            WS_INVALID_HANDLE,
            "invalid, stale or wrong-type config handle",
        )),
    }
}

fn with_limits(cfg: ws_config, f: impl FnOnce(&mut Limits)) -> ws_result {
    boundary(|| {
        with_config(cfg, |c| {
            let mut limits = c.limits().clone();
            f(&mut limits);
            c.set_limits(limits)
        })?;
        Ok(WS_OK)
    })
}

fn with_timeouts(cfg: ws_config, f: impl FnOnce(&mut Timeouts)) -> ws_result {
    boundary(|| {
        with_config(cfg, |c| {
            let mut t = c.timeouts().clone();
            f(&mut t);
            c.set_timeouts(t);
            Ok(())
        })?;
        Ok(WS_OK)
    })
}

fn with_deflate(cfg: ws_config, f: impl FnOnce(&mut DeflateConfig)) -> ws_result {
    boundary(|| {
        with_config(cfg, |c| {
            let mut d = c.deflate().clone();
            f(&mut d);
            c.set_deflate(d)
        })?;
        Ok(WS_OK)
    })
}

/// A setter that cannot fail once the handle is found.
fn set(cfg: ws_config, f: impl FnOnce(&mut Config)) -> ws_result {
    boundary(|| {
        with_config(cfg, |c| {
            f(c);
            Ok(())
        })?;
        Ok(WS_OK)
    })
}

/// Creates a configuration with secure defaults: the built-in Mozilla roots
/// (webpki-roots) are trusted, certificates and host names are verified, TLS 1.2 and
/// 1.3 are allowed, and the default limits and timeouts apply (see the setters).
///
/// A config is built once and shared by many clients; each client copies what it
/// needs when created, so the config may be changed or freed while its clients live.
/// All clients of one config share a TLS session cache, so reconnecting to the same
/// server resumes the TLS session.
///
/// Ownership: free the handle with `ws_config_free`.
/// Returns `WS_OK` and writes `*out_config`, `WS_NULL_POINTER`, or `WS_INVALID_STATE`
/// when 4,194,304 handles are already live.
#[no_mangle]
pub unsafe extern "C" fn ws_config_new(out_config: *mut ws_config) -> ws_result {
    boundary(|| {
        // SAFETY: the caller passes a writable ws_config (or NULL, refused here).
        let out = unsafe { out_ptr(out_config) }?;
        out.write(handles::insert_or_fail(Object::Config(Box::default()))?);
        Ok(WS_OK)
    })
}

/// Frees a configuration. Clients made from it keep working. Freeing 0 or a stale
/// handle does nothing. Returns `WS_OK` (also for 0 and stale handles).
#[no_mangle]
pub extern "C" fn ws_config_free(cfg: ws_config) -> ws_result {
    boundary(|| {
        handles::remove(cfg, |o| matches!(o, Object::Config(_)));
        Ok(WS_OK)
    })
}

/// Trusts the PEM certificate(s) in `pem[0..len]` (one certificate or a bundle) as
/// roots, in addition to the built-in ones. This is how a self-signed or private-CA
/// server becomes trusted. Affects clients created afterwards.
///
/// The bytes are copied. Returns `WS_OK`, `WS_INVALID_CONFIG` (no or malformed
/// certificate; nothing is added), `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
#[no_mangle]
pub unsafe extern "C" fn ws_config_add_root_pem(
    cfg: ws_config,
    pem: *const u8,
    len: usize,
) -> ws_result {
    boundary(|| {
        // SAFETY: the caller passes len readable bytes at pem.
        let pem = unsafe { in_slice(pem, len) }?;
        with_config(cfg, |c| c.add_root_pem(pem))?;
        Ok(WS_OK)
    })
}

/// Pins the server's public key. `sha256[0..len]` (len must be 32) is the SHA-256
/// of the server certificate's DER SubjectPublicKeyInfo: the value behind
/// `pin-sha256="..."`, base64-decoded. It can be computed with
/// `openssl x509 -pubkey -noout -in cert.pem | openssl pkey -pubin -outform der |
/// openssl dgst -sha256 -binary`. Several pins may be added (for key rotation).
///
/// With pins, a server whose key matches none fails with `WS_CERT_PIN_MISMATCH`, and
/// `ws_client_last_error` names the key it presented (base64 and hex), ready to copy.
/// See `ws_config_set_pin_mode` for whether the CA is checked too (by default, yes).
/// The bytes are copied. Returns `WS_OK`, `WS_INVALID_CONFIG` (not 32 bytes),
/// `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
#[no_mangle]
pub unsafe extern "C" fn ws_config_add_pin_sha256(
    cfg: ws_config,
    sha256: *const u8,
    len: usize,
) -> ws_result {
    boundary(|| {
        // SAFETY: the caller passes len readable bytes at sha256.
        let pin = unsafe { in_slice(sha256, len) }?;
        with_config(cfg, |c| c.add_pin_sha256(pin))?;
        Ok(WS_OK)
    })
}

/// Sets how pins combine with CA verification: `WS_PIN_MODE_AND_CA` (1, the default: both
/// must pass) or `WS_PIN_MODE_ONLY` (2: only the pin is checked, so a self-signed server
/// works without a CA; the host name is not checked either, the pin identifies the
/// server). Without pins the mode has no effect.
/// Returns `WS_OK`, `WS_INVALID_ARGUMENT` or `WS_INVALID_HANDLE`.
#[no_mangle]
pub extern "C" fn ws_config_set_pin_mode(cfg: ws_config, mode: u32) -> ws_result {
    boundary(|| {
        let mode = match mode {
            1 => PinMode::PinAndCa,
            2 => PinMode::PinOnly,
            _ => {
                return Err(Fail::new(
                    WS_INVALID_ARGUMENT,
                    "pin mode must be WS_PIN_MODE_AND_CA (1) or WS_PIN_MODE_ONLY (2)",
                ))
            }
        };
        with_config(cfg, |c| {
            c.set_pin_mode(mode);
            Ok(())
        })?;
        Ok(WS_OK)
    })
}

/// Sets a client certificate for mutual TLS: `chain_pem` holds the certificate chain
/// (PEM, leaf first) and `key_pem` its private key (PEM: PKCS#8, PKCS#1 RSA or SEC1
/// EC). It is presented when the server asks for one. Both are copied; the key is
/// checked against the certificate now.
/// Returns `WS_OK`, `WS_INVALID_CONFIG` (bad PEM, unusable or mismatched key),
/// `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
#[no_mangle]
pub unsafe extern "C" fn ws_config_set_client_cert_pem(
    cfg: ws_config,
    chain_pem: *const u8,
    chain_len: usize,
    key_pem: *const u8,
    key_len: usize,
) -> ws_result {
    boundary(|| {
        // SAFETY: the caller passes chain_len and key_len readable bytes.
        let chain = unsafe { in_slice(chain_pem, chain_len) }?;
        // SAFETY: as above.
        let key = unsafe { in_slice(key_pem, key_len) }?;
        with_config(cfg, |c| c.set_client_cert_pem(chain, key))?;
        Ok(WS_OK)
    })
}

/// **DANGEROUS: turns off certificate and host-name verification.** Any server is
/// accepted, including an attacker in the middle on public Wi-Fi. For development
/// against throw-away servers only; ship with `ws_config_add_root_pem` or a pin
/// instead. There is no way to turn it back on for this config. Every client made
/// from it reports `*out_insecure == 1` from `ws_client_is_insecure`.
/// Returns `WS_OK` or `WS_INVALID_HANDLE`.
#[no_mangle]
pub extern "C" fn ws_config_dangerous_disable_certificate_verification(
    cfg: ws_config,
) -> ws_result {
    set(cfg, Config::dangerous_disable_certificate_verification)
}

/// Offers permessage-deflate compression (RFC 7692) when `enabled != 0`. Off by
/// default: it costs about 300 KiB per connection once used and CPU per message,
/// and compressing secrets together with attacker-influenced data is a side channel
/// (CRIME/BREACH). Turn it on for JSON-heavy traffic (typically 3x smaller). What
/// the server accepted is reported by `ws_client_deflate`.
/// Returns `WS_OK` or `WS_INVALID_HANDLE`.
#[no_mangle]
pub extern "C" fn ws_config_set_deflate(cfg: ws_config, enabled: u32) -> ws_result {
    with_deflate(cfg, |d| d.enabled = enabled != 0)
}

/// Window sizes for permessage-deflate. `client_max_window_bits` (8-15, default 15)
/// caps our compressor's window and is offered so the server may lower it (with 8 we
/// send uncompressed: zlib cannot make 256-byte-window streams).
/// `server_max_window_bits` (8-15) asks the server to cap its window; 0 (default)
/// asks nothing. Returns `WS_OK`, `WS_INVALID_CONFIG` or `WS_INVALID_HANDLE`.
#[no_mangle]
pub extern "C" fn ws_config_set_deflate_window_bits(
    cfg: ws_config,
    client_max_window_bits: u32,
    server_max_window_bits: u32,
) -> ws_result {
    with_deflate(cfg, |d| {
        d.client_max_window_bits = client_max_window_bits.min(255) as u8;
        d.server_max_window_bits =
            (server_max_window_bits != 0).then_some(server_max_window_bits.min(255) as u8);
    })
}

/// Context takeover for permessage-deflate: `client != 0` promises to reset our
/// compressor after every message (less memory on the server, worse compression);
/// `server != 0` asks the server to do the same. Default: both 0.
/// Returns `WS_OK` or `WS_INVALID_HANDLE`.
#[no_mangle]
pub extern "C" fn ws_config_set_deflate_no_context_takeover(
    cfg: ws_config,
    client: u32,
    server: u32,
) -> ws_result {
    with_deflate(cfg, |d| {
        d.client_no_context_takeover = client != 0;
        d.server_no_context_takeover = server != 0;
    })
}

/// Messages shorter than `bytes` are sent uncompressed (default 64).
/// Returns `WS_OK` or `WS_INVALID_HANDLE`.
#[no_mangle]
pub extern "C" fn ws_config_set_deflate_threshold(cfg: ws_config, bytes: usize) -> ws_result {
    with_deflate(cfg, |d| d.threshold = bytes)
}

/// zlib compression level 0-9 for outgoing messages (default 1, the fastest: on small
/// JSON messages level 6 costs about 5x the CPU for about 14% fewer bytes).
/// Returns `WS_OK`, `WS_INVALID_CONFIG` or `WS_INVALID_HANDLE`.
#[no_mangle]
pub extern "C" fn ws_config_set_deflate_level(cfg: ws_config, level: u32) -> ws_result {
    with_deflate(cfg, |d| d.level = level)
}

/// Switches the built-in Mozilla roots on (`enabled != 0`, the default) or off. With
/// them off, only roots added with `ws_config_add_root_pem` are trusted.
/// Returns `WS_OK` or `WS_INVALID_HANDLE`.
#[no_mangle]
pub extern "C" fn ws_config_set_builtin_roots(cfg: ws_config, enabled: u32) -> ws_result {
    set(cfg, |c| c.set_builtin_roots(enabled != 0))
}

/// Offers subprotocols, given as one NUL-terminated, comma-separated UTF-8 list in
/// order of preference (for example `"v2.game, v1.game"`). NULL or `""` offers none.
/// The server must select one of them or none; anything else fails the handshake
/// with `WS_SUBPROTOCOL`. Read the choice with `ws_client_subprotocol`.
/// Returns `WS_OK`, `WS_INVALID_CONFIG` (not a token), `WS_INVALID_ARGUMENT` (not
/// UTF-8) or `WS_INVALID_HANDLE`.
#[no_mangle]
pub unsafe extern "C" fn ws_config_set_subprotocols(
    cfg: ws_config,
    protocols: *const c_char,
) -> ws_result {
    boundary(|| {
        // SAFETY: the caller passes NULL or a NUL-terminated string.
        let list = unsafe { in_opt_str(protocols) }?.unwrap_or("");
        let items = list.split(',').map(str::trim).filter(|s| !s.is_empty());
        with_config(cfg, |c| c.set_subprotocols(items))?;
        Ok(WS_OK)
    })
}

/// Adds a header to the upgrade request, such as `Authorization`, `Origin` or
/// `Cookie`. Both strings are NUL-terminated UTF-8 and are copied. Headers the
/// handshake sets itself (Host, Upgrade, Sec-WebSocket-*) are refused.
/// Returns `WS_OK`, `WS_INVALID_CONFIG`, `WS_NULL_POINTER`, `WS_INVALID_ARGUMENT` or
/// `WS_INVALID_HANDLE`.
#[no_mangle]
pub unsafe extern "C" fn ws_config_add_header(
    cfg: ws_config,
    name: *const c_char,
    value: *const c_char,
) -> ws_result {
    boundary(|| {
        // SAFETY: the caller passes NUL-terminated strings.
        let name = unsafe { in_str(name) }?;
        // SAFETY: as above.
        let value = unsafe { in_str(value) }?;
        with_config(cfg, |c| c.add_header(name, value))?;
        Ok(WS_OK)
    })
}

/// Verifies the server certificate against `name` and sends it as SNI, instead of
/// the URL's host (useful when connecting to an IP address). NULL restores the URL's
/// host. Returns `WS_OK`, `WS_INVALID_CONFIG`, `WS_INVALID_ARGUMENT` or
/// `WS_INVALID_HANDLE`.
#[no_mangle]
pub unsafe extern "C" fn ws_config_set_server_name(
    cfg: ws_config,
    name: *const c_char,
) -> ws_result {
    boundary(|| {
        // SAFETY: the caller passes NULL or a NUL-terminated string.
        let name = unsafe { in_opt_str(name) }?;
        with_config(cfg, |c| c.set_server_name(name))?;
        Ok(WS_OK)
    })
}

/// Sends every connection made with this config through a proxy. `url` is
/// `http://[user:pass@]host:port` (HTTP CONNECT), `https://[user:pass@]host:port`
/// (CONNECT inside TLS to the proxy; the server's TLS runs inside that) or
/// `socks5://[user:pass@]host:port` (the proxy resolves the server's host name, like
/// curl's `socks5h://`). User and password may be %-encoded; for HTTP proxies they are
/// sent as `Proxy-Authorization: Basic` on the first request. NULL or `""` clears it.
///
/// The caller's socket then connects to the proxy: ask `ws_client_connect_address`.
/// SNI, certificate verification and `Host` still use the URL's host. An `https://`
/// proxy's certificate is verified with this config's roots and TLS settings; pins,
/// the pin mode and the client certificate apply to the server only.
///
/// Returns `WS_OK`; `WS_INVALID_URL` for a malformed URL (the previous setting stays;
/// the message from `ws_last_error` never repeats the URL, which may hold a password),
/// `WS_INVALID_ARGUMENT` (not UTF-8) or `WS_INVALID_HANDLE`.
///
/// # Safety
/// `url` must be NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn ws_config_set_proxy(cfg: ws_config, url: *const c_char) -> ws_result {
    boundary(|| {
        // SAFETY: the caller passes NULL or a NUL-terminated string.
        let url = unsafe { in_opt_str(url) }?;
        with_config(cfg, |c| c.set_proxy(url))?;
        Ok(WS_OK)
    })
}

/// Sends `value` as the `Proxy-Authorization` header of the CONNECT request (for
/// example `Basic dXNlcjpwYXNz`, or an NTLM/Negotiate token the caller computed after
/// a 407), instead of Basic credentials from the proxy URL. NULL or `""` clears it.
/// SOCKS5 proxies ignore it. Returns `WS_OK`, `WS_INVALID_CONFIG` (CR, LF or NUL),
/// `WS_INVALID_ARGUMENT` (not UTF-8) or `WS_INVALID_HANDLE`.
///
/// # Safety
/// `value` must be NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn ws_config_set_proxy_authorization(
    cfg: ws_config,
    value: *const c_char,
) -> ws_result {
    boundary(|| {
        // SAFETY: the caller passes NULL or a NUL-terminated string.
        let value = unsafe { in_opt_str(value) }?;
        with_config(cfg, |c| c.set_proxy_authorization(value))?;
        Ok(WS_OK)
    })
}

/// Sets the lowest TLS version: `WS_TLS_VERSION_1_2` (12, the default) or `WS_TLS_VERSION_1_3` (13).
/// Returns `WS_OK`, `WS_INVALID_ARGUMENT` or `WS_INVALID_HANDLE`.
#[no_mangle]
pub extern "C" fn ws_config_set_min_tls_version(cfg: ws_config, version: u32) -> ws_result {
    boundary(|| {
        let version = match version {
            12 => TlsVersion::Tls12,
            13 => TlsVersion::Tls13,
            _ => {
                return Err(Fail::new(
                    WS_INVALID_ARGUMENT,
                    "TLS version must be WS_TLS_VERSION_1_2 (12) or WS_TLS_VERSION_1_3 (13)",
                ))
            }
        };
        with_config(cfg, |c| {
            c.set_min_tls_version(version);
            Ok(())
        })?;
        Ok(WS_OK)
    })
}

/// Largest message accepted from the server, after reassembly (default 64 MiB).
/// A larger one fails the connection with `WS_MESSAGE_TOO_BIG` (close 1009).
/// Returns `WS_OK`, `WS_INVALID_CONFIG` (0) or `WS_INVALID_HANDLE`.
#[no_mangle]
pub extern "C" fn ws_config_set_max_message_size(cfg: ws_config, bytes: usize) -> ws_result {
    with_limits(cfg, |l| l.max_message_size = bytes)
}

/// Largest single frame accepted from the server (default 16 MiB). A larger one fails
/// the connection with `WS_FRAME_TOO_BIG` (close 1009).
/// Returns `WS_OK`, `WS_INVALID_CONFIG` (0) or `WS_INVALID_HANDLE`.
#[no_mangle]
pub extern "C" fn ws_config_set_max_frame_size(cfg: ws_config, bytes: usize) -> ws_result {
    with_limits(cfg, |l| l.max_frame_size = bytes)
}

/// Largest HTTP upgrade response head accepted (default 16 KiB, at least 256).
/// Returns `WS_OK`, `WS_INVALID_CONFIG` or `WS_INVALID_HANDLE`.
#[no_mangle]
pub extern "C" fn ws_config_set_max_header_size(cfg: ws_config, bytes: usize) -> ws_result {
    with_limits(cfg, |l| l.max_header_size = bytes)
}

/// Undelivered messages after which `ws_offer_input` stops taking input (default
/// 1024); poll messages, then offer the rest. On `ws://` through `ws_offer_input` the
/// bound is exact; a TLS record (16 KiB of plaintext) or a committed input window (at
/// most one record's size) is decoded whole, so the queue may exceed it by the
/// messages of one record or window.
/// Returns `WS_OK`, `WS_INVALID_CONFIG` (0) or `WS_INVALID_HANDLE`.
#[no_mangle]
pub extern "C" fn ws_config_set_max_queued_messages(cfg: ws_config, count: usize) -> ws_result {
    with_limits(cfg, |l| l.max_queued_messages = count)
}

/// Payload bytes of undelivered messages after which `ws_offer_input` stops taking
/// input (default 128 MiB, twice the default message limit); poll messages, then offer
/// the rest, exactly as for `ws_config_set_max_queued_messages`. The message that
/// crosses the bound is still queued, so at most `bytes` plus one message wait.
/// Returns `WS_OK`, `WS_INVALID_CONFIG` (0) or `WS_INVALID_HANDLE`.
#[no_mangle]
pub extern "C" fn ws_config_set_max_queued_bytes(cfg: ws_config, bytes: usize) -> ws_result {
    with_limits(cfg, |l| l.max_queued_bytes = bytes)
}

/// Bytes waiting in the output after which sends return `WS_OUTPUT_FULL` (default
/// 128 MiB). Returns `WS_OK`, `WS_INVALID_CONFIG` (0) or `WS_INVALID_HANDLE`.
#[no_mangle]
pub extern "C" fn ws_config_set_max_pending_output(cfg: ws_config, bytes: usize) -> ws_result {
    with_limits(cfg, |l| l.max_pending_output = bytes)
}

/// Time allowed for the TLS and WebSocket handshakes, in ms of the caller's clock
/// (default 15000; 0 = off). Expiry fails the client with `WS_TIMEOUT`.
/// Returns `WS_OK` or `WS_INVALID_HANDLE`.
#[no_mangle]
pub extern "C" fn ws_config_set_handshake_timeout(cfg: ws_config, ms: u64) -> ws_result {
    with_timeouts(cfg, |t| t.handshake_ms = ms)
}

/// Time to wait for the server's close frame after sending ours (default 5000;
/// 0 = off). Expiry ends the connection with a 1006 close message and state CLOSED.
/// Returns `WS_OK` or `WS_INVALID_HANDLE`.
#[no_mangle]
pub extern "C" fn ws_config_set_close_timeout(cfg: ws_config, ms: u64) -> ws_result {
    with_timeouts(cfg, |t| t.close_ms = ms)
}

/// Sends a ping when nothing was received for this long (default 20000; 0 = off).
/// Returns `WS_OK` or `WS_INVALID_HANDLE`.
#[no_mangle]
pub extern "C" fn ws_config_set_keepalive_interval(cfg: ws_config, ms: u64) -> ws_result {
    with_timeouts(cfg, |t| t.keepalive_ms = ms)
}

/// Dead-peer timeout: fails the client with `WS_TIMEOUT` when nothing at all was
/// received for this long while open (default 60000; 0 = off).
/// Returns `WS_OK` or `WS_INVALID_HANDLE`.
#[no_mangle]
pub extern "C" fn ws_config_set_idle_timeout(cfg: ws_config, ms: u64) -> ws_result {
    with_timeouts(cfg, |t| t.idle_ms = ms)
}

/// Also trusts the operating system's certificate store (`on` = 1), or stops trusting
/// it (`on` = 0, the default). The store is read now, in this call (it may take a few
/// milliseconds), never during a handshake: the Windows store, the macOS keychain, or
/// on other Unix systems the file in `SSL_CERT_FILE` and the directories in
/// `SSL_CERT_DIR` when set, else the distribution's bundle (rustls-native-certs).
/// Certificates that do not parse are skipped and counted: read the counts with
/// `ws_config_system_roots_count`. The roots add to the built-in ones, those of
/// `ws_config_add_root_pem`, and pins. Calling it again reloads. Affects clients
/// created afterwards.
///
/// This makes networks that inspect TLS work (a corporate proxy or an antivirus
/// re-signing traffic with a CA installed in the OS store). iOS, Android and WebGL
/// offer no store to read this way: use `ws_config_set_external_verification` there.
///
/// Returns `WS_OK`; `WS_INVALID_CONFIG` when the store yields no usable certificate
/// (the setting is unchanged; `ws_last_error` says what was tried);
/// `WS_INVALID_HANDLE`.
#[no_mangle]
pub extern "C" fn ws_config_set_system_roots(cfg: ws_config, on: u32) -> ws_result {
    boundary(|| {
        with_config(cfg, |c| c.set_system_roots(on != 0))?;
        Ok(WS_OK)
    })
}

/// Writes how many certificates `ws_config_set_system_roots` loaded from the
/// operating system's store to `*out_loaded`, and how many it skipped because they do
/// not parse to `*out_skipped` (both 0 while system roots are off).
/// Returns `WS_OK`, `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
#[no_mangle]
pub unsafe extern "C" fn ws_config_system_roots_count(
    cfg: ws_config,
    out_loaded: *mut usize,
    out_skipped: *mut usize,
) -> ws_result {
    boundary(|| {
        // SAFETY: the caller passes writable out-parameters (or NULL, refused here).
        let loaded = unsafe { out_ptr(out_loaded) }?;
        // SAFETY: as above.
        let skipped = unsafe { out_ptr(out_skipped) }?;
        let counts = with_config(cfg, |c| Ok(c.system_roots().unwrap_or_default()))?;
        loaded.write(counts.loaded);
        skipped.write(counts.skipped);
        Ok(WS_OK)
    })
}

/// Lets the application decide about the server's certificate chain with any
/// verifier (the platform's: Android, iOS, Windows, a corporate policy) on its own
/// schedule, without blocking: `mode` is `WS_EXTERNAL_VERIFY_OFF` (0, the default),
/// `WS_EXTERNAL_VERIFY_UNKNOWN_ISSUER` (1) or `WS_EXTERNAL_VERIFY_ALWAYS` (2).
///
/// A chain that waits puts the client in `WS_STATE_VERIFYING` once the TLS handshake
/// is done. Read the chain with `ws_client_peer_certificate`, verify it (on a worker
/// thread if the verifier blocks), then call `ws_client_set_verdict`. Until an accept,
/// nothing of the application leaves: the peer has seen only the TLS handshake. The
/// handshake timeout keeps running. TLS sessions are resumed only from connections
/// whose chain was accepted or trusted by the built-in checks.
///
/// A client certificate (`ws_config_set_client_cert_pem`) cannot be combined with it:
/// TLS sends it before any verdict, so `ws_client_new` refuses such a config with
/// `WS_INVALID_CONFIG`. Affects clients created afterwards.
/// Returns `WS_OK`, `WS_INVALID_ARGUMENT` (unknown mode) or `WS_INVALID_HANDLE`.
#[no_mangle]
pub extern "C" fn ws_config_set_external_verification(cfg: ws_config, mode: u32) -> ws_result {
    boundary(|| {
        let mode = match mode {
            0 => ExternalVerification::Off,
            1 => ExternalVerification::UnknownIssuer,
            2 => ExternalVerification::Always,
            _ => {
                return Err(Fail::new(
                    WS_INVALID_ARGUMENT,
                    "external verification mode must be WS_EXTERNAL_VERIFY_OFF (0), _UNKNOWN_ISSUER (1) or _ALWAYS (2)",
                ))
            }
        };
        with_config(cfg, |c| {
            c.set_external_verification(mode);
            Ok(())
        })?;
        Ok(WS_OK)
    })
}
