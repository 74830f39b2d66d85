/*
 * wsmachine: a sans-IO secure WebSocket client (rustls + tungstenite) for game
 * engines. The caller owns the socket, the thread and the clock.
 *
 * The event loop, on one thread:
 *
 *   ws_config cfg; ws_config_new(&cfg);
 *   ws_config_add_root_pem(cfg, ca_pem, ca_len);        // optional: private CA
 *   ws_client c;   ws_client_new(cfg, "wss://host:443/path", &c);
 *   for (;;) {
 *       n = recv(sock, rx, sizeof rx, 0);                  // 1. feed (n == 0: EOF)
 *       for (off = 0; off < n || n == 0; off += used) {
 *           if (ws_offer_input(c, rx + off, n - off, &used) != WS_OK) goto failed;
 *           while (ws_poll_message(c, &msg) == WS_OK) {    // 2. poll until empty
 *               handle(msg.kind, msg.data, msg.len);       //    data valid until next poll
 *           }
 *           if (n == 0) break;
 *       }
 *       ws_client_tick(c, now_ms());                       // 3. time (keepalive, timeouts)
 *       while (ws_read_output(c, tx, sizeof tx, &k) == WS_OK && k > 0)
 *           send_all(sock, tx, k);                         // 4. drain output until empty
 *   }
 *
 * Behind a proxy: ws_config_set_proxy(cfg, "http://proxy:3128") (or https://,
 * socks5://), then connect the socket to ws_client_connect_address(c, host, cap,
 * &len, &port) instead of the URL's host, and run the same loop: the CONNECT or
 * SOCKS5 exchange happens inside it. A 407 fails with WS_PROXY_AUTH_REQUIRED (see
 * ws_client_proxy_challenges, ws_config_set_proxy_authorization).
 *
 * After a pause (the app was in the background, the loop stalled), call
 * ws_client_probe(c, now, deadline) before the first tick: a ping with its own deadline
 * instead of an idle timeout for the jump; silence until then is WS_CONNECTION_LOST.
 *
 * Without the copies: recv() into the window of ws_prepare_input and pass the count
 * to ws_commit_input (instead of 1.), and send from ws_peek_output, then
 * ws_consume_output what the socket took (instead of 4.). To cross into the library
 * once per read, keep the window between reads: ws_prepare_input once, then
 * ws_commit_prepare_input(c, n, &buf, &cap) after each recv() into buf, which
 * commits n bytes and lends the next window (cap 0: poll messages, then
 * ws_prepare_input again).
 *
 * Names: verbs on bytes and messages read ws_<verb>_<noun> (ws_offer_input,
 * ws_prepare_input, ws_commit_input, ws_commit_prepare_input, ws_read_output,
 * ws_peek_output, ws_consume_output, ws_poll_message, ws_send_text, ws_close, and for the TLS
 * object ws_tls_offer_input, ws_tls_read_output, ws_tls_write, ws_tls_read);
 * everything else reads ws_config_<x>, ws_client_<x> or ws_tls_<x> after the object
 * it acts on; library-wide functions read ws_<x> (ws_version, ws_result_str,
 * ws_last_error). Each enum's
 * constants carry the enum's name (WS_STATE_OPEN, WS_TLS_VERSION_1_3); result codes
 * carry just WS_.
 *
 * Rules: every function except ws_result_str and ws_version returns a ws_result
 * code (a uint32_t; WS_OK == 0; WS_NEED_INPUT and WS_CLOSED are statuses, not
 * errors); functions that take a code or a mode take a uint32_t. Handles are
 * uint64_t, 0 is never valid, and stale handles return WS_INVALID_HANDLE.
 * Out-parameters are typed (ws_state *) and written only on success. A buffer is
 * followed by its length and must hold that many bytes; (NULL, 0) is a valid empty
 * buffer; strings are NUL-terminated UTF-8. No pointer is kept after a call
 * returns, except where a function lends library memory and says how long it stays
 * valid. No callbacks, no threads: sends only queue bytes for ws_read_output. After
 * a failure every call returns the same code (except _free, _state and
 * _last_error), with two exceptions that lose nothing: ws_poll_message first hands
 * out the messages that arrived before the failure, and ws_read_output (and
 * ws_peek_output) first hand out the alert or close frame that tells the server why.
 * A connection that ends without a close handshake (EOF, close timeout) delivers a
 * CLOSE message with code 1006, then WS_CLOSED; nothing comes after a CLOSE message.
 *
 * Lent memory: a polled message's data and the ws_peek_output view are valid until
 * the next call on the client. The window of ws_prepare_input (and of
 * ws_commit_prepare_input) is valid until ws_commit_input, ws_commit_prepare_input,
 * ws_offer_input, ws_prepare_input, ws_client_trim or ws_client_free; no other call (polls, sends, ticks, output) moves it. Passing
 * memory the client lent back to ws_offer_input returns WS_INVALID_ARGUMENT.
 *
 * The header reads: result codes and types, then the library-wide functions, then
 * ws_config, then ws_client, then ws_tls. ws_handle_count is a test hook, not part of
 * the API.
 *
 * TLS without WebSocket (ws_tls_*, any protocol over TCP: the SSLEngine .NET lacks).
 * The same config gives trust, pins, client certificate, minimum version, handshake
 * timeout, pending-output limit and session resumption. The event loop:
 *
 *   ws_tls t;      ws_tls_new(cfg, "db.example", &t);  // ClientHello is ready
 *   for (;;) {
 *       n = recv(sock, rx, sizeof rx, 0);                  // 1. feed (n == 0: EOF)
 *       for (off = 0; off < n || n == 0; off += used) {
 *           if (ws_tls_offer_input(t, rx + off, n - off, &used) != WS_OK) goto failed;
 *           while (ws_tls_read(t, plain, sizeof plain, &got) == WS_OK)
 *               handle(plain, got);                        // 2. read until WS_NEED_INPUT
 *           if (n == 0) break;                             //    (then WS_CLOSED, or
 *       }                                                  //    WS_TLS_TRUNCATED: no close_notify)
 *       ws_tls_write(t, data, len, &taken);                // 3. plaintext; keep data+taken
 *       ws_tls_tick(t, now_ms());                          // 4. handshake timeout
 *       while (ws_tls_read_output(t, tx, sizeof tx, &k) == WS_OK && k > 0)
 *           send_all(sock, tx, k);                         // 5. drain output until empty
 *   }
 *   ws_tls_close(t); then drain output (5.): close_notify.
 *
 * Plaintext written before the handshake completes is buffered (within the
 * pending-output limit) and sent once it completes. ws_tls_offer_input takes fewer
 * bytes than offered only while 16 KiB of plaintext wait unread: read, then offer
 * the rest. ws_tls_write takes fewer when the pending-output limit is reached: drain
 * the output, then write the rest.
 */

#ifndef WSMACHINE_H
#define WSMACHINE_H

/* Generated with cbindgen:0.29.4 */

/* Generated by cbindgen from src/ffi/. Do not edit; run scripts/gen-header.sh. */

#include <stddef.h>
#include <stdint.h>
#define WSMACHINE_VERSION_MAJOR 0
#define WSMACHINE_VERSION_MINOR 1
#define WSMACHINE_VERSION_PATCH 0
/** Written by ws_client_next_deadline when no timer is running. */
#define WS_NO_DEADLINE UINT64_MAX


/**
 * Default maximum size of one received message: 64 MiB.
 */
#define WS_DEFAULT_MAX_MESSAGE_SIZE (64 << 20)

/**
 * Default maximum size of one received frame: 16 MiB.
 */
#define WS_DEFAULT_MAX_FRAME_SIZE (16 << 20)

/**
 * Default maximum size of the server's HTTP upgrade response head: 16 KiB.
 */
#define WS_DEFAULT_MAX_HEADER_SIZE (16 << 10)

/**
 * Default bound on decoded messages waiting to be polled before input is refused: 1024.
 */
#define WS_DEFAULT_MAX_QUEUED_MESSAGES 1024

/**
 * Default bound on the bytes of decoded messages waiting to be polled before input
 * is refused: 128 MiB (twice the default message limit).
 */
#define WS_DEFAULT_MAX_QUEUED_BYTES (128 << 20)

/**
 * Default bound on bytes waiting in the output (ws_read_output): 128 MiB.
 */
#define WS_DEFAULT_MAX_PENDING_OUTPUT (128 << 20)

/**
 * Default handshake timeout (TLS plus HTTP upgrade): 15 s.
 */
#define WS_DEFAULT_HANDSHAKE_TIMEOUT_MS 15000

/**
 * Default time to wait for the peer's close frame after sending ours: 5 s.
 */
#define WS_DEFAULT_CLOSE_TIMEOUT_MS 5000

/**
 * Default keepalive ping interval when the line is quiet: 20 s.
 */
#define WS_DEFAULT_KEEPALIVE_INTERVAL_MS 20000

/**
 * Default dead-peer timeout (no bytes at all from the peer): 60 s.
 */
#define WS_DEFAULT_IDLE_TIMEOUT_MS 60000

/**
 * Decrypted plaintext that may wait unread before `offer_input` stops taking input
 * (rustls's own bound on received plaintext).
 */
#define MAX_UNREAD_PLAINTEXT (16 << 10)

/**
 * The ABI version of this header: it changes whenever a function signature, a struct
 * layout or the meaning of a result code changes incompatibly (and the Linux SONAME
 * libwsmachine.so.N with it). Additions (new functions, new codes) do not change it.
 */
#define WS_ABI_VERSION 1

/**
 * Result codes: every function returns one, as a ws_result (a uint32_t in C). The
 * numbers are stable and never reused; they fall in blocks: 0-99 statuses that are
 * not errors, 100-199 caller errors, 200-299 TLS, 300-399 opening handshake,
 * 400-499 WebSocket protocol and capacity, 500-599 connection ended, 600-699 proxy,
 * 900 panic.
 * Functions that take a code (ws_result_str) take it as a uint32_t.
 */
enum ws_result
#if defined(__cplusplus) || __STDC_VERSION__ >= 202311L
  : uint32_t
#endif // defined(__cplusplus) || __STDC_VERSION__ >= 202311L
 {
  /**
   * Success.
   */
  WS_OK = 0,
  /**
   * Not an error: no message is ready; offer more input.
   */
  WS_NEED_INPUT = 1,
  /**
   * Not an error: the connection ended and every message has been polled (the last
   * was a CLOSE message; code 1006 when it ended without a close handshake).
   */
  WS_CLOSED = 2,
  /**
   * A required pointer argument was NULL.
   */
  WS_NULL_POINTER = 100,
  /**
   * The handle is 0, stale (already freed), of the wrong type, or garbage.
   */
  WS_INVALID_HANDLE = 101,
  /**
   * The call is not allowed in the current state (for example a send before the
   * handshake completed).
   */
  WS_INVALID_STATE = 102,
  /**
   * The caller's buffer is too small; the size needed was written to `*out_len`.
   */
  WS_BUFFER_TOO_SMALL = 103,
  /**
   * An argument is out of range or malformed (close code, invalid UTF-8 text, ...).
   */
  WS_INVALID_ARGUMENT = 104,
  /**
   * The URL is malformed or not `ws://`/`wss://`.
   */
  WS_INVALID_URL = 105,
  /**
   * A configuration value was rejected (bad PEM, header, limit).
   */
  WS_INVALID_CONFIG = 106,
  /**
   * Queueing this send would exceed the pending-output limit; drain
   * `ws_read_output` and retry. Nothing was queued.
   */
  WS_OUTPUT_FULL = 107,
  /**
   * A TLS error without a more specific code.
   */
  WS_TLS_ERROR = 200,
  /**
   * The server certificate does not chain to a trusted root (add its CA with
   * `ws_config_add_root_pem`).
   */
  WS_CERT_UNTRUSTED = 201,
  /**
   * The server certificate has expired.
   */
  WS_CERT_EXPIRED = 202,
  /**
   * The server certificate is not valid yet (check the device clock).
   */
  WS_CERT_NOT_YET_VALID = 203,
  /**
   * The server certificate is not valid for the host name or IP in the URL.
   */
  WS_CERT_WRONG_HOST = 204,
  /**
   * The server's public key matches none of the configured pins.
   */
  WS_CERT_PIN_MISMATCH = 205,
  /**
   * The certificate is malformed, badly signed, revoked or unsupported.
   */
  WS_CERT_INVALID = 206,
  /**
   * The server sent a fatal TLS alert (named in the last error).
   */
  WS_TLS_ALERT = 207,
  /**
   * No TLS version or cipher suite in common with the server.
   */
  WS_TLS_VERSION = 208,
  /**
   * The server sent bytes that are not valid TLS.
   */
  WS_TLS_CORRUPT = 209,
  /**
   * `ws_tls_read`: the peer's stream ended without close_notify, after everything
   * before the end was read. What arrived may be cut short (a truncation attack
   * looks the same); many servers end this way after a complete answer.
   */
  WS_TLS_TRUNCATED = 210,
  /**
   * The opening handshake failed without a more specific code.
   */
  WS_HANDSHAKE_ERROR = 300,
  /**
   * The server answered the upgrade with an HTTP status other than 101
   * (read it with `ws_client_http_status`).
   */
  WS_HTTP_STATUS = 301,
  /**
   * `Sec-WebSocket-Accept` did not match.
   */
  WS_BAD_ACCEPT = 302,
  /**
   * The upgrade response is not valid HTTP or lacks required headers.
   */
  WS_BAD_RESPONSE = 303,
  /**
   * The server selected a subprotocol that was not offered.
   */
  WS_SUBPROTOCOL = 304,
  /**
   * The server selected an extension that was not offered.
   */
  WS_EXTENSION = 305,
  /**
   * The upgrade response head exceeds the configured limit.
   */
  WS_HEADER_TOO_LARGE = 306,
  /**
   * The server violated the WebSocket protocol (close code 1002 was sent).
   */
  WS_PROTOCOL_ERROR = 400,
  /**
   * A text message or close reason was not valid UTF-8 (close code 1007 was sent).
   */
  WS_INVALID_UTF8 = 401,
  /**
   * A message exceeds the maximum message size (close code 1009 was sent).
   */
  WS_MESSAGE_TOO_BIG = 402,
  /**
   * A frame exceeds the maximum frame size (close code 1009 was sent).
   */
  WS_FRAME_TOO_BIG = 403,
  /**
   * The connection is closing or closed; nothing more can be sent.
   */
  WS_ALREADY_CLOSED = 500,
  /**
   * The server closed the connection during the handshake, or did not answer a
   * liveness probe (`ws_client_probe`) in time.
   */
  WS_CONNECTION_LOST = 501,
  /**
   * A handshake or idle (dead-peer) timeout expired.
   */
  WS_TIMEOUT = 502,
  /**
   * The proxy wants credentials: HTTP 407 (`ws_client_http_status` returns 407,
   * `ws_client_proxy_challenges` gives its `Proxy-Authenticate` challenges; retry on
   * a new connection with `ws_config_set_proxy_authorization`), or a SOCKS5 proxy
   * rejected the user name and password (or wants some).
   */
  WS_PROXY_AUTH_REQUIRED = 600,
  /**
   * The proxy refused the tunnel: an HTTP status other than 2xx and 407 (read it
   * with `ws_client_http_status`), or a SOCKS5 reply code; the last error names it.
   */
  WS_PROXY_REFUSED = 601,
  /**
   * The proxy's answer is not valid HTTP or SOCKS5, or exceeds the header size limit.
   */
  WS_PROXY_BAD_RESPONSE = 602,
  /**
   * The proxy closed the connection before the tunnel to the server was open.
   */
  WS_PROXY_CLOSED = 603,
  /**
   * An internal error (a caught panic). The handle is poisoned; others still work.
   */
  WS_PANIC = 900,
};
#ifndef __cplusplus
#if __STDC_VERSION__ >= 202311L
typedef enum ws_result ws_result;
#else
typedef uint32_t ws_result;
#endif // __STDC_VERSION__ >= 202311L
#endif // __cplusplus

/**
 * Kinds of received messages (the kind of a ws_message).
 */
enum ws_message_kind
#if defined(__cplusplus) || __STDC_VERSION__ >= 202311L
  : uint32_t
#endif // defined(__cplusplus) || __STDC_VERSION__ >= 202311L
 {
  /**
   * A UTF-8 text message.
   */
  WS_MESSAGE_TEXT = 1,
  /**
   * A binary message.
   */
  WS_MESSAGE_BINARY = 2,
  /**
   * A ping from the server (already answered with a pong).
   */
  WS_MESSAGE_PING = 3,
  /**
   * A pong from the server.
   */
  WS_MESSAGE_PONG = 4,
  /**
   * The server's close frame (`close_code`, `data` = reason), or 1006 when the
   * connection dropped without one.
   */
  WS_MESSAGE_CLOSE = 5,
};
#ifndef __cplusplus
#if __STDC_VERSION__ >= 202311L
typedef enum ws_message_kind ws_message_kind;
#else
typedef uint32_t ws_message_kind;
#endif // __STDC_VERSION__ >= 202311L
#endif // __cplusplus

/**
 * Connection states, written by ws_client_state.
 */
enum ws_state
#if defined(__cplusplus) || __STDC_VERSION__ >= 202311L
  : uint32_t
#endif // defined(__cplusplus) || __STDC_VERSION__ >= 202311L
 {
  /**
   * TLS handshake in progress (`wss://` only).
   */
  WS_STATE_TLS_HANDSHAKING = 1,
  /**
   * HTTP upgrade in progress.
   */
  WS_STATE_WS_HANDSHAKING = 2,
  /**
   * Messages flow both ways.
   */
  WS_STATE_OPEN = 3,
  /**
   * A close frame was sent or received, or final bytes still wait in the output.
   */
  WS_STATE_CLOSING = 4,
  /**
   * Ended (after a close handshake, or with a 1006 CLOSE message when it ended
   * without one), and everything to send has been read out.
   */
  WS_STATE_CLOSED = 5,
  /**
   * Failed; every call returns the failure code (see `ws_client_last_error`).
   */
  WS_STATE_FAILED = 6,
  /**
   * The TLS handshake is done and the server's chain waits for the caller's verdict
   * (`ws_client_set_verdict`; external verification only). Nothing of the
   * application (the upgrade request with its headers, queued messages) has been
   * sent; the handshake timeout keeps running.
   */
  WS_STATE_VERIFYING = 7,
};
#ifndef __cplusplus
#if __STDC_VERSION__ >= 202311L
typedef enum ws_state ws_state;
#else
typedef uint32_t ws_state;
#endif // __STDC_VERSION__ >= 202311L
#endif // __cplusplus

/**
 * TLS versions: the lowest one for ws_config_set_min_tls_version, and the
 * negotiated one from ws_client_tls_version.
 */
enum ws_tls_version
#if defined(__cplusplus) || __STDC_VERSION__ >= 202311L
  : uint32_t
#endif // defined(__cplusplus) || __STDC_VERSION__ >= 202311L
 {
  /**
   * TLS 1.2 (as the lowest: 1.2 and 1.3, the default).
   */
  WS_TLS_VERSION_1_2 = 12,
  /**
   * TLS 1.3 (as the lowest: 1.3 only).
   */
  WS_TLS_VERSION_1_3 = 13,
};
#ifndef __cplusplus
#if __STDC_VERSION__ >= 202311L
typedef enum ws_tls_version ws_tls_version;
#else
typedef uint32_t ws_tls_version;
#endif // __STDC_VERSION__ >= 202311L
#endif // __cplusplus

/**
 * Pin modes for ws_config_set_pin_mode.
 */
enum ws_pin_mode
#if defined(__cplusplus) || __STDC_VERSION__ >= 202311L
  : uint32_t
#endif // defined(__cplusplus) || __STDC_VERSION__ >= 202311L
 {
  /**
   * The chain must verify against the trusted roots and the key must match a pin
   * (the default).
   */
  WS_PIN_MODE_AND_CA = 1,
  /**
   * Only the pin is checked (no CA, no host name): a self-signed server works.
   */
  WS_PIN_MODE_ONLY = 2,
};
#ifndef __cplusplus
#if __STDC_VERSION__ >= 202311L
typedef enum ws_pin_mode ws_pin_mode;
#else
typedef uint32_t ws_pin_mode;
#endif // __STDC_VERSION__ >= 202311L
#endif // __cplusplus

/**
 * External verification modes for ws_config_set_external_verification.
 */
enum ws_external_verify
#if defined(__cplusplus) || __STDC_VERSION__ >= 202311L
  : uint32_t
#endif // defined(__cplusplus) || __STDC_VERSION__ >= 202311L
 {
  /**
   * The built-in checks decide alone (the default).
   */
  WS_EXTERNAL_VERIFY_OFF = 0,
  /**
   * Only a chain the trusted roots cannot anchor waits for the caller's verdict; a
   * wrong host name, an expired certificate or a pin mismatch still fail at once,
   * and a chain the roots trust never waits.
   */
  WS_EXTERNAL_VERIFY_UNKNOWN_ISSUER = 1,
  /**
   * Every chain waits for the caller's verdict once the built-in checks passed or
   * failed only on the issuer; a resumed session too.
   */
  WS_EXTERNAL_VERIFY_ALWAYS = 2,
};
#ifndef __cplusplus
#if __STDC_VERSION__ >= 202311L
typedef enum ws_external_verify ws_external_verify;
#else
typedef uint32_t ws_external_verify;
#endif // __STDC_VERSION__ >= 202311L
#endif // __cplusplus

/**
 * A configuration handle: a generation-counted uint64_t; 0 is never valid.
 */
typedef uint64_t ws_config;

/**
 * A client handle: a generation-counted uint64_t; 0 is never valid.
 */
typedef uint64_t ws_client;

/**
 * A received message, borrowed from the client.
 *
 * `data` stays valid until the next `ws_poll_message`, `ws_poll_message_copy` or
 * `ws_client_free` on the same handle; sends do not invalidate it, so echoing
 * straight from `data` is legal. `data` is never NULL (an empty message points to a
 * static empty buffer).
 */
typedef struct ws_message {
  /**
   * One of WS_MESSAGE_TEXT, _BINARY, _PING, _PONG, _CLOSE.
   */
  ws_message_kind kind;
  /**
   * The payload; for a close, the UTF-8 reason.
   */
  const uint8_t *data;
  /**
   * Payload length in bytes.
   */
  size_t len;
  /**
   * For a close: the code (1005 = the frame had none, 1006 = the connection
   * dropped without a close frame); 0 for other kinds.
   */
  uint16_t close_code;
} ws_message;

/**
 * What permessage-deflate negotiated (see `ws_client_deflate`).
 */
typedef struct ws_deflate_info {
  /**
   * 1 when compression was negotiated, else 0 (and the other fields are 0).
   */
  uint32_t enabled;
  /**
   * The window our compressor uses (8-15; 8 means we send uncompressed).
   */
  uint32_t client_max_window_bits;
  /**
   * The window the server compresses with (8-15).
   */
  uint32_t server_max_window_bits;
  /**
   * 1 when we reset our compressor after every message.
   */
  uint32_t client_no_context_takeover;
  /**
   * 1 when the server resets its compressor after every message.
   */
  uint32_t server_no_context_takeover;
} ws_deflate_info;

/**
 * A TLS object handle: a generation-counted uint64_t; 0 is never valid.
 */
typedef uint64_t ws_tls;

#ifdef __cplusplus
extern "C" {
#endif // __cplusplus

/**
 * A static, NUL-terminated description of a result code, for example
 * ws_result_str(WS_CERT_EXPIRED). Unknown codes give "unknown result code". The
 * string is owned by the library, lives forever, and must not be freed.
 */
const char *ws_result_str(uint32_t code);

/**
 * The library version as a static, NUL-terminated string (for example "0.1.0"),
 * matching the WSMACHINE_VERSION_* macros of the header it was built with. Owned by
 * the library; never free it.
 */
const char *ws_version(void);

/**
 * The ABI version of the loaded library: the WS_ABI_VERSION of the header it was
 * built with. A program compares it with the WS_ABI_VERSION it was compiled against
 * before anything else and refuses a different one; the C# bindings do so on their
 * first call. Unlike the other functions it returns the value itself, not a
 * ws_result: it takes nothing, cannot fail and never panics, and may be called
 * before any other function.
 */
uint32_t ws_abi_version(void);

/**
 * Copies the detailed message of the most recent failed call on this thread (any
 * function, including ones without a handle such as ws_client_new).
 *
 * Writes at most cap - 1 bytes plus a NUL to buf and sets *out_len to the full length
 * without the NUL, so a caller can size a buffer; *out_len is 0 when no call has
 * failed on this thread. buf may be NULL when cap is 0.
 *
 * Returns WS_OK, or WS_NULL_POINTER (out_len NULL, or buf NULL with cap > 0).
 */
ws_result ws_last_error(char *buf, size_t cap, size_t *out_len);

/**
 * Test hook, not part of the API: writes the number of live handles (configs plus
 * clients, in the whole process) to *out_count, for leak checks in tests.
 *
 * Returns WS_OK or WS_NULL_POINTER.
 */
ws_result ws_handle_count(size_t *out_count);

/**
 * Creates a configuration with secure defaults: the built-in Mozilla roots
 * (webpki-roots) are trusted, certificates and host names are verified, TLS 1.2 and
 * 1.3 are allowed, and the default limits and timeouts apply (see the setters).
 *
 * A config is built once and shared by many clients; each client copies what it
 * needs when created, so the config may be changed or freed while its clients live.
 * All clients of one config share a TLS session cache, so reconnecting to the same
 * server resumes the TLS session.
 *
 * Ownership: free the handle with `ws_config_free`.
 * Returns `WS_OK` and writes `*out_config`, `WS_NULL_POINTER`, or `WS_INVALID_STATE`
 * when 4,194,304 handles are already live.
 */
ws_result ws_config_new(ws_config *out_config);

/**
 * Frees a configuration. Clients made from it keep working. Freeing 0 or a stale
 * handle does nothing. Returns `WS_OK` (also for 0 and stale handles).
 */
ws_result ws_config_free(ws_config cfg);

/**
 * Trusts the PEM certificate(s) in `pem[0..len]` (one certificate or a bundle) as
 * roots, in addition to the built-in ones. This is how a self-signed or private-CA
 * server becomes trusted. Affects clients created afterwards.
 *
 * The bytes are copied. Returns `WS_OK`, `WS_INVALID_CONFIG` (no or malformed
 * certificate; nothing is added), `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
 */
ws_result ws_config_add_root_pem(ws_config cfg, const uint8_t *pem, size_t len);

/**
 * Pins the server's public key. `sha256[0..len]` (len must be 32) is the SHA-256
 * of the server certificate's DER SubjectPublicKeyInfo: the value behind
 * `pin-sha256="..."`, base64-decoded. It can be computed with
 * `openssl x509 -pubkey -noout -in cert.pem | openssl pkey -pubin -outform der |
 * openssl dgst -sha256 -binary`. Several pins may be added (for key rotation).
 *
 * With pins, a server whose key matches none fails with `WS_CERT_PIN_MISMATCH`, and
 * `ws_client_last_error` names the key it presented (base64 and hex), ready to copy.
 * See `ws_config_set_pin_mode` for whether the CA is checked too (by default, yes).
 * The bytes are copied. Returns `WS_OK`, `WS_INVALID_CONFIG` (not 32 bytes),
 * `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
 */
ws_result ws_config_add_pin_sha256(ws_config cfg, const uint8_t *sha256, size_t len);

/**
 * Sets how pins combine with CA verification: `WS_PIN_MODE_AND_CA` (1, the default: both
 * must pass) or `WS_PIN_MODE_ONLY` (2: only the pin is checked, so a self-signed server
 * works without a CA; the host name is not checked either, the pin identifies the
 * server). Without pins the mode has no effect.
 * Returns `WS_OK`, `WS_INVALID_ARGUMENT` or `WS_INVALID_HANDLE`.
 */
ws_result ws_config_set_pin_mode(ws_config cfg, uint32_t mode);

/**
 * Sets a client certificate for mutual TLS: `chain_pem` holds the certificate chain
 * (PEM, leaf first) and `key_pem` its private key (PEM: PKCS#8, PKCS#1 RSA or SEC1
 * EC). It is presented when the server asks for one. Both are copied; the key is
 * checked against the certificate now.
 * Returns `WS_OK`, `WS_INVALID_CONFIG` (bad PEM, unusable or mismatched key),
 * `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
 */
ws_result ws_config_set_client_cert_pem(ws_config cfg,
                                        const uint8_t *chain_pem,
                                        size_t chain_len,
                                        const uint8_t *key_pem,
                                        size_t key_len);

/**
 * **DANGEROUS: turns off certificate and host-name verification.** Any server is
 * accepted, including an attacker in the middle on public Wi-Fi. For development
 * against throw-away servers only; ship with `ws_config_add_root_pem` or a pin
 * instead. There is no way to turn it back on for this config. Every client made
 * from it reports `*out_insecure == 1` from `ws_client_is_insecure`.
 * Returns `WS_OK` or `WS_INVALID_HANDLE`.
 */
ws_result ws_config_dangerous_disable_certificate_verification(ws_config cfg);

/**
 * Offers permessage-deflate compression (RFC 7692) when `enabled != 0`. Off by
 * default: it costs about 300 KiB per connection once used and CPU per message,
 * and compressing secrets together with attacker-influenced data is a side channel
 * (CRIME/BREACH). Turn it on for JSON-heavy traffic (typically 3x smaller). What
 * the server accepted is reported by `ws_client_deflate`.
 * Returns `WS_OK` or `WS_INVALID_HANDLE`.
 */
ws_result ws_config_set_deflate(ws_config cfg, uint32_t enabled);

/**
 * Window sizes for permessage-deflate. `client_max_window_bits` (8-15, default 15)
 * caps our compressor's window and is offered so the server may lower it (with 8 we
 * send uncompressed: zlib cannot make 256-byte-window streams).
 * `server_max_window_bits` (8-15) asks the server to cap its window; 0 (default)
 * asks nothing. Returns `WS_OK`, `WS_INVALID_CONFIG` or `WS_INVALID_HANDLE`.
 */
ws_result ws_config_set_deflate_window_bits(ws_config cfg,
                                            uint32_t client_max_window_bits,
                                            uint32_t server_max_window_bits);

/**
 * Context takeover for permessage-deflate: `client != 0` promises to reset our
 * compressor after every message (less memory on the server, worse compression);
 * `server != 0` asks the server to do the same. Default: both 0.
 * Returns `WS_OK` or `WS_INVALID_HANDLE`.
 */
ws_result ws_config_set_deflate_no_context_takeover(ws_config cfg,
                                                    uint32_t client,
                                                    uint32_t server);

/**
 * Messages shorter than `bytes` are sent uncompressed (default 64).
 * Returns `WS_OK` or `WS_INVALID_HANDLE`.
 */
ws_result ws_config_set_deflate_threshold(ws_config cfg, size_t bytes);

/**
 * zlib compression level 0-9 for outgoing messages (default 1, the fastest: on small
 * JSON messages level 6 costs about 5x the CPU for about 14% fewer bytes).
 * Returns `WS_OK`, `WS_INVALID_CONFIG` or `WS_INVALID_HANDLE`.
 */
ws_result ws_config_set_deflate_level(ws_config cfg, uint32_t level);

/**
 * Switches the built-in Mozilla roots on (`enabled != 0`, the default) or off. With
 * them off, only roots added with `ws_config_add_root_pem` are trusted.
 * Returns `WS_OK` or `WS_INVALID_HANDLE`.
 */
ws_result ws_config_set_builtin_roots(ws_config cfg, uint32_t enabled);

/**
 * Offers subprotocols, given as one NUL-terminated, comma-separated UTF-8 list in
 * order of preference (for example `"v2.game, v1.game"`). NULL or `""` offers none.
 * The server must select one of them or none; anything else fails the handshake
 * with `WS_SUBPROTOCOL`. Read the choice with `ws_client_subprotocol`.
 * Returns `WS_OK`, `WS_INVALID_CONFIG` (not a token), `WS_INVALID_ARGUMENT` (not
 * UTF-8) or `WS_INVALID_HANDLE`.
 */
ws_result ws_config_set_subprotocols(ws_config cfg, const char *protocols);

/**
 * Adds a header to the upgrade request, such as `Authorization`, `Origin` or
 * `Cookie`. Both strings are NUL-terminated UTF-8 and are copied. Headers the
 * handshake sets itself (Host, Upgrade, Sec-WebSocket-*) are refused.
 * Returns `WS_OK`, `WS_INVALID_CONFIG`, `WS_NULL_POINTER`, `WS_INVALID_ARGUMENT` or
 * `WS_INVALID_HANDLE`.
 */
ws_result ws_config_add_header(ws_config cfg, const char *name, const char *value);

/**
 * Verifies the server certificate against `name` and sends it as SNI, instead of
 * the URL's host (useful when connecting to an IP address). NULL restores the URL's
 * host. Returns `WS_OK`, `WS_INVALID_CONFIG`, `WS_INVALID_ARGUMENT` or
 * `WS_INVALID_HANDLE`.
 */
ws_result ws_config_set_server_name(ws_config cfg, const char *name);

/**
 * Sends every connection made with this config through a proxy. `url` is
 * `http://[user:pass@]host:port` (HTTP CONNECT), `https://[user:pass@]host:port`
 * (CONNECT inside TLS to the proxy; the server's TLS runs inside that) or
 * `socks5://[user:pass@]host:port` (the proxy resolves the server's host name, like
 * curl's `socks5h://`). User and password may be %-encoded; for HTTP proxies they are
 * sent as `Proxy-Authorization: Basic` on the first request. NULL or `""` clears it.
 *
 * The caller's socket then connects to the proxy: ask `ws_client_connect_address`.
 * SNI, certificate verification and `Host` still use the URL's host. An `https://`
 * proxy's certificate is verified with this config's roots and TLS settings; pins,
 * the pin mode and the client certificate apply to the server only.
 *
 * Returns `WS_OK`; `WS_INVALID_URL` for a malformed URL (the previous setting stays;
 * the message from `ws_last_error` never repeats the URL, which may hold a password),
 * `WS_INVALID_ARGUMENT` (not UTF-8) or `WS_INVALID_HANDLE`.
 *
 * # Safety
 * `url` must be NULL or a NUL-terminated string.
 */
ws_result ws_config_set_proxy(ws_config cfg, const char *url);

/**
 * Sends `value` as the `Proxy-Authorization` header of the CONNECT request (for
 * example `Basic dXNlcjpwYXNz`, or an NTLM/Negotiate token the caller computed after
 * a 407), instead of Basic credentials from the proxy URL. NULL or `""` clears it.
 * SOCKS5 proxies ignore it. Returns `WS_OK`, `WS_INVALID_CONFIG` (CR, LF or NUL),
 * `WS_INVALID_ARGUMENT` (not UTF-8) or `WS_INVALID_HANDLE`.
 *
 * # Safety
 * `value` must be NULL or a NUL-terminated string.
 */
ws_result ws_config_set_proxy_authorization(ws_config cfg, const char *value);

/**
 * Sets the lowest TLS version: `WS_TLS_VERSION_1_2` (12, the default) or `WS_TLS_VERSION_1_3` (13).
 * Returns `WS_OK`, `WS_INVALID_ARGUMENT` or `WS_INVALID_HANDLE`.
 */
ws_result ws_config_set_min_tls_version(ws_config cfg, uint32_t version);

/**
 * Largest message accepted from the server, after reassembly (default 64 MiB).
 * A larger one fails the connection with `WS_MESSAGE_TOO_BIG` (close 1009).
 * Returns `WS_OK`, `WS_INVALID_CONFIG` (0) or `WS_INVALID_HANDLE`.
 */
ws_result ws_config_set_max_message_size(ws_config cfg, size_t bytes);

/**
 * Largest single frame accepted from the server (default 16 MiB). A larger one fails
 * the connection with `WS_FRAME_TOO_BIG` (close 1009).
 * Returns `WS_OK`, `WS_INVALID_CONFIG` (0) or `WS_INVALID_HANDLE`.
 */
ws_result ws_config_set_max_frame_size(ws_config cfg, size_t bytes);

/**
 * Largest HTTP upgrade response head accepted (default 16 KiB, at least 256).
 * Returns `WS_OK`, `WS_INVALID_CONFIG` or `WS_INVALID_HANDLE`.
 */
ws_result ws_config_set_max_header_size(ws_config cfg, size_t bytes);

/**
 * Undelivered messages after which `ws_offer_input` stops taking input (default
 * 1024); poll messages, then offer the rest. On `ws://` through `ws_offer_input` the
 * bound is exact; a TLS record (16 KiB of plaintext) or a committed input window (at
 * most one record's size) is decoded whole, so the queue may exceed it by the
 * messages of one record or window.
 * Returns `WS_OK`, `WS_INVALID_CONFIG` (0) or `WS_INVALID_HANDLE`.
 */
ws_result ws_config_set_max_queued_messages(ws_config cfg, size_t count);

/**
 * Payload bytes of undelivered messages after which `ws_offer_input` stops taking
 * input (default 128 MiB, twice the default message limit); poll messages, then offer
 * the rest, exactly as for `ws_config_set_max_queued_messages`. The message that
 * crosses the bound is still queued, so at most `bytes` plus one message wait.
 * Returns `WS_OK`, `WS_INVALID_CONFIG` (0) or `WS_INVALID_HANDLE`.
 */
ws_result ws_config_set_max_queued_bytes(ws_config cfg, size_t bytes);

/**
 * Bytes waiting in the output after which sends return `WS_OUTPUT_FULL` (default
 * 128 MiB). Returns `WS_OK`, `WS_INVALID_CONFIG` (0) or `WS_INVALID_HANDLE`.
 */
ws_result ws_config_set_max_pending_output(ws_config cfg, size_t bytes);

/**
 * Time allowed for the TLS and WebSocket handshakes, in ms of the caller's clock
 * (default 15000; 0 = off). Expiry fails the client with `WS_TIMEOUT`.
 * Returns `WS_OK` or `WS_INVALID_HANDLE`.
 */
ws_result ws_config_set_handshake_timeout(ws_config cfg, uint64_t ms);

/**
 * Time to wait for the server's close frame after sending ours (default 5000;
 * 0 = off). Expiry ends the connection with a 1006 close message and state CLOSED.
 * Returns `WS_OK` or `WS_INVALID_HANDLE`.
 */
ws_result ws_config_set_close_timeout(ws_config cfg, uint64_t ms);

/**
 * Sends a ping when nothing was received for this long (default 20000; 0 = off).
 * Returns `WS_OK` or `WS_INVALID_HANDLE`.
 */
ws_result ws_config_set_keepalive_interval(ws_config cfg, uint64_t ms);

/**
 * Dead-peer timeout: fails the client with `WS_TIMEOUT` when nothing at all was
 * received for this long while open (default 60000; 0 = off).
 * Returns `WS_OK` or `WS_INVALID_HANDLE`.
 */
ws_result ws_config_set_idle_timeout(ws_config cfg, uint64_t ms);

/**
 * Also trusts the operating system's certificate store (`on` = 1), or stops trusting
 * it (`on` = 0, the default). The store is read now, in this call (it may take a few
 * milliseconds), never during a handshake: the Windows store, the macOS keychain, or
 * on other Unix systems the file in `SSL_CERT_FILE` and the directories in
 * `SSL_CERT_DIR` when set, else the distribution's bundle (rustls-native-certs).
 * Certificates that do not parse are skipped and counted: read the counts with
 * `ws_config_system_roots_count`. The roots add to the built-in ones, those of
 * `ws_config_add_root_pem`, and pins. Calling it again reloads. Affects clients
 * created afterwards.
 *
 * This makes networks that inspect TLS work (a corporate proxy or an antivirus
 * re-signing traffic with a CA installed in the OS store). iOS, Android and WebGL
 * offer no store to read this way: use `ws_config_set_external_verification` there.
 *
 * Returns `WS_OK`; `WS_INVALID_CONFIG` when the store yields no usable certificate
 * (the setting is unchanged; `ws_last_error` says what was tried);
 * `WS_INVALID_HANDLE`.
 */
ws_result ws_config_set_system_roots(ws_config cfg, uint32_t on);

/**
 * Writes how many certificates `ws_config_set_system_roots` loaded from the
 * operating system's store to `*out_loaded`, and how many it skipped because they do
 * not parse to `*out_skipped` (both 0 while system roots are off).
 * Returns `WS_OK`, `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
 */
ws_result ws_config_system_roots_count(ws_config cfg, size_t *out_loaded, size_t *out_skipped);

/**
 * Lets the application decide about the server's certificate chain with any
 * verifier (the platform's: Android, iOS, Windows, a corporate policy) on its own
 * schedule, without blocking: `mode` is `WS_EXTERNAL_VERIFY_OFF` (0, the default),
 * `WS_EXTERNAL_VERIFY_UNKNOWN_ISSUER` (1) or `WS_EXTERNAL_VERIFY_ALWAYS` (2).
 *
 * A chain that waits puts the client in `WS_STATE_VERIFYING` once the TLS handshake
 * is done. Read the chain with `ws_client_peer_certificate`, verify it (on a worker
 * thread if the verifier blocks), then call `ws_client_set_verdict`. Until an accept,
 * nothing of the application leaves: the peer has seen only the TLS handshake. The
 * handshake timeout keeps running. TLS sessions are resumed only from connections
 * whose chain was accepted or trusted by the built-in checks.
 *
 * A client certificate (`ws_config_set_client_cert_pem`) cannot be combined with it:
 * TLS sends it before any verdict, so `ws_client_new` refuses such a config with
 * `WS_INVALID_CONFIG`. Affects clients created afterwards.
 * Returns `WS_OK`, `WS_INVALID_ARGUMENT` (unknown mode) or `WS_INVALID_HANDLE`.
 */
ws_result ws_config_set_external_verification(ws_config cfg, uint32_t mode);

/**
 * Creates a client for `url`: `ws://` or `wss://host[:port]/path?query`, UTF-8 and
 * NUL-terminated (`ws://` means no TLS). The config's settings are copied; the config
 * may be freed afterwards. Nothing is sent by itself: the TLS ClientHello (or, for
 * `ws://`, the upgrade request) is ready in `ws_read_output` at once.
 *
 * Ownership: free the client with `ws_client_free`.
 * Returns `WS_OK` and writes `*out_client`; `WS_INVALID_URL` (details from
 * `ws_last_error`), `WS_INVALID_HANDLE` (config), `WS_NULL_POINTER`,
 * `WS_INVALID_ARGUMENT` (URL not UTF-8), `WS_INVALID_CONFIG`, or `WS_INVALID_STATE`
 * when 4,194,304 handles are already live.
 */
ws_result ws_client_new(ws_config cfg, const char *url, ws_client *out_client);

/**
 * Frees a client and everything it holds (any borrowed `ws_message` data becomes
 * invalid). It does not send anything: close first for a clean shutdown. Freeing 0,
 * a stale handle, or freeing twice does nothing. Returns `WS_OK`.
 */
ws_result ws_client_free(ws_client c);

/**
 * Offers `data[0..len]`, bytes received from the socket. `len == 0` means the peer
 * closed the TCP stream. The bytes are processed at once (TLS records decrypted,
 * frames decoded into messages, automatic pongs and close replies queued to the
 * output) and are not referenced after the call.
 *
 * `*out_consumed` is written on success and is less than `len` only when a bound on
 * undelivered messages (`max_queued_messages`, `max_queued_bytes`) was reached:
 * poll messages, then offer the rest. Input after the connection ended is taken and
 * discarded. Ending without a close frame delivers a CLOSE message with code 1006.
 *
 * Returns `WS_OK`, or on failure the failure code (TLS, handshake, protocol; sticky:
 * every later call returns it), `WS_INVALID_ARGUMENT` when `data` lies in memory the
 * client owns (the window of `ws_prepare_input`, a message buffer, the pending
 * output; nothing is read and the connection carries on), `WS_NULL_POINTER`,
 * `WS_INVALID_HANDLE`.
 */
ws_result ws_offer_input(ws_client c, const uint8_t *data, size_t len, size_t *out_consumed);

/**
 * Lends a window of the library's memory to receive socket bytes into, saving the
 * copy `ws_offer_input` makes: `recv()` straight into `*out_buf[0..*out_cap]`, then
 * pass the count received to `ws_commit_input`. On a plain `ws://` connection inside
 * a large frame the window is the message buffer itself, so payload is never copied
 * again. On `wss://` it is the TLS input buffer itself (records are decrypted where
 * they were received): 2 KiB at first, one whole TLS record (18,437 bytes) once a
 * commit fills it. Otherwise it is a staging buffer of 2 KiB, which grows to 16 KiB
 * once a commit fills it. Both shrink back at the idle trim.
 *
 * The window stays valid until `ws_commit_input` (or `ws_commit_prepare_input`),
 * `ws_offer_input`, the next `ws_prepare_input`, `ws_client_trim` or
 * `ws_client_free`; no other call moves it
 * (the idle trim of `ws_client_tick` leaves a lent window alone). Passing the window
 * itself to `ws_offer_input` is refused with `WS_INVALID_ARGUMENT`. `*out_cap` is 0
 * while the undelivered messages are at `max_queued_messages` or
 * `max_queued_bytes`: poll messages first. If the connection ends while a window is
 * lent, the commit takes its bytes and discards them. The end of the stream is still
 * reported with `ws_offer_input(c, NULL, 0, ...)`.
 *
 * Returns `WS_OK`, the sticky failure code, `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
 */
ws_result ws_prepare_input(ws_client c, uint8_t **out_buf, size_t *out_cap);

/**
 * Processes the first `n` bytes written into the window of the last
 * `ws_prepare_input` call, as `ws_offer_input` would; all `n` are taken. `n == 0`
 * does nothing.
 *
 * Returns `WS_OK`, the failure code (sticky, as for `ws_offer_input`),
 * `WS_INVALID_STATE` (no window open: none was lent, or `ws_offer_input`,
 * `ws_client_trim` or another `ws_prepare_input` came in between),
 * `WS_INVALID_ARGUMENT` (`n` larger than the window; the window is closed) or
 * `WS_INVALID_HANDLE`.
 */
ws_result ws_commit_input(ws_client c, size_t n);

/**
 * `ws_commit_input(c, n)`, then `ws_prepare_input(c, out_buf, out_cap)`, in one
 * call: processes the first `n` bytes received into the lent window and lends the
 * next window. A loop that keeps the window between reads (`recv()` into it, pass
 * the count here, receive into the new window next time) crosses into the library
 * once per read, as `ws_offer_input` does, without its copy. The new window follows
 * the rules of `ws_prepare_input`: valid until `ws_commit_input`,
 * `ws_commit_prepare_input`, `ws_offer_input`, `ws_prepare_input`, `ws_client_trim`
 * or `ws_client_free`; `*out_cap` is 0 while the undelivered messages are at a bound
 * (poll messages, then call `ws_prepare_input`). A lent window is never trimmed by
 * `ws_client_tick`: `ws_client_trim` releases it when the connection goes quiet.
 *
 * Returns `WS_OK`, or what `ws_commit_input` returns (the out-parameters are then
 * not written and no window is lent), `WS_NULL_POINTER` (nothing is committed).
 */
ws_result ws_commit_prepare_input(ws_client c, size_t n, uint8_t **out_buf, size_t *out_cap);

/**
 * Copies up to `cap` bytes that must be written to the socket into `buf`: TLS
 * records, the HTTP upgrade, frames, automatic pongs, close frames, close_notify.
 * Call until `*out_len` is 0. Bytes are removed from the library as they are copied;
 * the caller must send them all, in order (keep what a partial socket write left).
 *
 * Returns `WS_OK` with `*out_len == 0` when nothing is pending. After a failure the
 * pending bytes (an alert or close frame telling the peer why) are still handed out
 * with `WS_OK`; once they are gone it returns the failure code with `*out_len = 0`.
 * `WS_BUFFER_TOO_SMALL` when `cap` is 0 and bytes are pending (`*out_len` = pending
 * count). Also `WS_NULL_POINTER`, `WS_INVALID_HANDLE`.
 */
ws_result ws_read_output(ws_client c, uint8_t *buf, size_t cap, size_t *out_len);

/**
 * Zero-copy output: points `*out_data` at the bytes waiting to be written to the
 * socket and writes their count to `*out_len` (0 when nothing is pending; then
 * `*out_data` points to a static empty buffer, never NULL). Write from there, then
 * call `ws_consume_output` with how many bytes the socket took. Nothing is removed by
 * peeking. The view is all of the pending output: once it is consumed, nothing is
 * pending until the next call that produces output (a send, input, a tick, a close),
 * so a caller that sent it all need not peek again. The view stays valid until the next call on this handle other than
 * `ws_peek_output`, `ws_client_pending_output`, `ws_client_state` and
 * `ws_client_last_error`; the memory belongs to the library.
 *
 * Returns `WS_OK`; after a failure, pending bytes are still shown with `WS_OK` and
 * once they are gone the failure code (with `*out_len = 0`). Also `WS_NULL_POINTER`,
 * `WS_INVALID_HANDLE`.
 */
ws_result ws_peek_output(ws_client c,
                         const uint8_t **out_data,
                         size_t *out_len);

/**
 * Marks the first `n` bytes shown by `ws_peek_output` as sent. `n` larger than what
 * is pending is `WS_INVALID_ARGUMENT` and nothing is consumed; `n == 0` does nothing.
 * Returns `WS_OK`, `WS_INVALID_ARGUMENT` or `WS_INVALID_HANDLE`.
 */
ws_result ws_consume_output(ws_client c, size_t n);

/**
 * Releases memory kept for large messages. Buffers keep the size of the largest
 * recent message, so that a stream of large messages does not allocate per message;
 * `ws_client_tick` trims them (to 4 KiB each; the TLS input buffer is freed) after a second
 * without traffic, and this does it now, for example after a burst of large messages.
 * Borrowed `ws_message` data stays valid. Returns `WS_OK` or `WS_INVALID_HANDLE`.
 */
ws_result ws_client_trim(ws_client c);

/**
 * Writes the number of bytes waiting for `ws_read_output` to `*out_len`.
 * Returns `WS_OK`, `WS_NULL_POINTER` or `WS_INVALID_HANDLE` (also when failed: the
 * count stays readable).
 */
ws_result ws_client_pending_output(ws_client c, size_t *out_len);

/**
 * Takes the next received message into `*out_msg` (see `ws_message` for how long
 * its data stays valid). Never blocks.
 *
 * Returns `WS_OK` with a message; `WS_NEED_INPUT` when none is ready (not an error);
 * `WS_CLOSED` when the connection ended and every message has been taken (the last
 * message was a CLOSE: the server's code, or 1006 when it ended without a close
 * handshake). Nothing is delivered after a CLOSE message. Messages that arrived
 * before a close or a failure come out first; after a failure it then returns the
 * failure code. Also `WS_NULL_POINTER`, `WS_INVALID_HANDLE`.
 */
ws_result ws_poll_message(ws_client c, struct ws_message *out_msg);

/**
 * Like `ws_poll_message`, but copies the payload into the caller's `buf[0..cap]`,
 * so no library memory is borrowed. On success writes the kind, length and close
 * code. When `cap` is too small it returns `WS_BUFFER_TOO_SMALL`, writes the size
 * needed to `*out_len`, and the message stays queued.
 *
 * Returns `WS_OK`, `WS_BUFFER_TOO_SMALL`, `WS_NEED_INPUT`, `WS_CLOSED`, the failure
 * code, `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
 */
ws_result ws_poll_message_copy(ws_client c,
                               uint8_t *buf,
                               size_t cap,
                               ws_message_kind *out_kind,
                               size_t *out_len,
                               uint16_t *out_close_code);

/**
 * Queues a text message; its bytes leave through `ws_read_output`. The bytes are
 * copied. Invalid UTF-8 is refused with `WS_INVALID_ARGUMENT` and nothing is sent.
 *
 * Returns `WS_OK`; `WS_INVALID_STATE` before the handshake completed (sends are
 * refused, not queued, until `WS_STATE_OPEN`); `WS_ALREADY_CLOSED` once a close was
 * sent; `WS_OUTPUT_FULL`; the failure code; `WS_NULL_POINTER`; `WS_INVALID_HANDLE`.
 */
ws_result ws_send_text(ws_client c, const uint8_t *utf8, size_t len);

/**
 * Queues a binary message. Same rules and codes as `ws_send_text`, without the
 * UTF-8 check.
 */
ws_result ws_send_binary(ws_client c, const uint8_t *data, size_t len);

/**
 * Queues a ping with up to 125 bytes of payload; the pong arrives as a
 * `WS_MESSAGE_PONG` message. Codes as `ws_send_text`, plus `WS_INVALID_ARGUMENT`
 * for a payload over 125 bytes.
 */
ws_result ws_send_ping(ws_client c, const uint8_t *data, size_t len);

/**
 * Starts the close handshake with `code` and a UTF-8 `reason` of at most 123 bytes.
 * Accepted codes: 1000-1003, 1007-1011, 3000-4999; anything else is
 * `WS_INVALID_ARGUMENT` and nothing is sent. Messages keep arriving until the
 * server's close frame (delivered as `WS_MESSAGE_CLOSE`); then TLS ends with
 * close_notify, and the state becomes `WS_STATE_CLOSED` once the output is drained.
 *
 * Returns `WS_OK`, `WS_INVALID_ARGUMENT`, `WS_INVALID_STATE` (handshake not done),
 * `WS_ALREADY_CLOSED`, the failure code, `WS_NULL_POINTER`, `WS_INVALID_HANDLE`.
 */
ws_result ws_close(ws_client c, uint16_t code, const uint8_t *reason, size_t len);

/**
 * Tells the client the time, in milliseconds of any monotonic clock of the caller's
 * (the library never reads a clock). The first call starts the timers. It sends
 * keepalive pings and applies the handshake, idle and close timeouts. Call it every
 * frame, or when `ws_client_next_deadline` says.
 *
 * Returns `WS_OK`; `WS_TIMEOUT` when the handshake or idle timeout expired (the
 * client fails); the failure code; `WS_INVALID_HANDLE`. A close timeout is not a
 * failure: a 1006 close message is delivered and the state becomes CLOSED.
 */
ws_result ws_client_tick(ws_client c, uint64_t now_ms);

/**
 * Writes when `ws_client_tick` should next be called (caller-clock ms) to
 * `*out_deadline_ms`: 0 before the first tick, `UINT64_MAX` when no timer runs.
 * Returns `WS_OK`, `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
 */
ws_result ws_client_next_deadline(ws_client c, uint64_t *out_deadline_ms);

/**
 * Checks that the server is still there after the caller's clock jumped (the game
 * was paused or in the background, a long load blocked the loop): queues a ping and
 * gives the server `deadline_ms` from `now_ms` to send anything (the pong, or any
 * other input). Call it with the jumped time before `ws_client_tick`: the time up to
 * `now_ms` no longer counts toward the idle timeout, and the idle timeout and
 * keepalive wait until the answer arrives. When a `ws_client_tick` at or after
 * `now_ms + deadline_ms` finds no input since the probe, the client fails with
 * `WS_CONNECTION_LOST` ("no answer to the liveness probe within N ms").
 * `ws_client_next_deadline` reports the probe's deadline while it waits; a probe while
 * one waits sends another ping but keeps the earlier deadline.
 *
 * Returns `WS_OK` (the ping leaves through `ws_read_output`); `WS_INVALID_ARGUMENT`
 * for a `deadline_ms` of 0; `WS_INVALID_STATE` before the handshake completed;
 * `WS_ALREADY_CLOSED` once closing; `WS_OUTPUT_FULL`; the failure code;
 * `WS_INVALID_HANDLE`. A refused probe changes nothing.
 */
ws_result ws_client_probe(ws_client c, uint64_t now_ms, uint64_t deadline_ms);

/**
 * Writes the connection state (`WS_STATE_*`) to `*out_state`. Works in every state,
 * including failed. Returns `WS_OK`, `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
 */
ws_result ws_client_state(ws_client c, ws_state *out_state);

/**
 * Copies the detailed last error of this client: the failure if it failed, else
 * the most recent of the last failed call on it and why the connection ended
 * uncleanly (for example "the server closed the connection without a close frame").
 *
 * Writes at most `cap - 1` bytes plus a NUL and sets `*out_len` to the full length
 * without the NUL (0 = no error), so a caller can size a buffer. `buf` may be NULL
 * when `cap` is 0. Returns `WS_OK`, `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
 */
ws_result ws_client_last_error(ws_client c, char *buf, size_t cap, size_t *out_len);

/**
 * Writes the HTTP status of the upgrade response (101 on success, for example 403
 * when refused) to `*out_status`, or 0 when no response head was received yet.
 * Returns `WS_OK`, `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
 */
ws_result ws_client_http_status(ws_client c, uint16_t *out_status);

/**
 * Writes 1 to `*out_resumed` when the TLS session was resumed from an earlier
 * connection made with the same config (TLS 1.3 ticket or TLS 1.2 session), else 0.
 * Returns `WS_OK`, `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
 */
ws_result ws_client_is_resumed(ws_client c, uint32_t *out_resumed);

/**
 * Writes 1 to `*out_insecure` when certificate verification is off for this client
 * (its config used `ws_config_dangerous_disable_certificate_verification`), else 0.
 * Returns `WS_OK`, `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
 */
ws_result ws_client_is_insecure(ws_client c, uint32_t *out_insecure);

/**
 * Writes what permessage-deflate negotiated to `*out_info` (all 0 when it was not,
 * or before the handshake completed).
 * Returns `WS_OK`, `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
 */
ws_result ws_client_deflate(ws_client c, struct ws_deflate_info *out_info);

/**
 * Writes the negotiated TLS version to `*out_version`: `WS_TLS_VERSION_1_2` (12) or
 * `WS_TLS_VERSION_1_3` (13), or 0 for `ws://` and before the TLS handshake completed.
 * Returns `WS_OK`, `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
 */
ws_result ws_client_tls_version(ws_client c, ws_tls_version *out_version);

/**
 * Copies the subprotocol the server selected (empty when none), with the
 * `ws_client_last_error` copy-out convention.
 * Returns `WS_OK`, `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
 */
ws_result ws_client_subprotocol(ws_client c, char *buf, size_t cap, size_t *out_len);

/**
 * Where the caller's socket must connect: the proxy's host and port when the config
 * has a proxy (`ws_config_set_proxy`), else the URL's host and port (443 for `wss://`
 * and 80 for `ws://` by default). The host is a name or an IP address, without IPv6
 * brackets; resolve and connect it, then drive the client as usual.
 *
 * Writes the host like `ws_client_last_error` does (at most `cap - 1` bytes plus a
 * NUL; `*out_len` = its full length) and the port to `*out_port`. When the host does
 * not fit, returns `WS_BUFFER_TOO_SMALL` with `*out_len` set and `*out_port` untouched
 * (a cut host name is no use). Works in every state. Returns `WS_OK`,
 * `WS_BUFFER_TOO_SMALL`, `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
 */
ws_result ws_client_connect_address(ws_client c,
                                    char *buf,
                                    size_t cap,
                                    size_t *out_len,
                                    uint16_t *out_port);

/**
 * Copies the `Proxy-Authenticate` challenges of a proxy's 407 answer (the client
 * failed with `WS_PROXY_AUTH_REQUIRED`), one per line, separated by `\n`, in the
 * proxy's order (for example `Basic realm="corp"` and `NTLM`). Compute a
 * `Proxy-Authorization` value from them, set it with
 * `ws_config_set_proxy_authorization` and connect again with a new client.
 *
 * Same buffer conventions as `ws_client_last_error`; `*out_len` is 0 when there were
 * none. Returns `WS_OK`, `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
 */
ws_result ws_client_proxy_challenges(ws_client c, char *buf, size_t cap, size_t *out_len);

/**
 * Lends certificate `index` of the server's chain as it sent it (0 = the leaf, then
 * the intermediates in the server's order; for a resumed session, the chain of the
 * session it resumed): `*out_der` points to its DER bytes and `*out_len` is their
 * length. Meant for `WS_STATE_VERIFYING` (hand the chain to the platform's verifier),
 * and works in every later state too.
 *
 * The bytes are owned by the client and stay valid, unchanged, until
 * `ws_client_free`. Returns `WS_OK`; `WS_INVALID_ARGUMENT` when `index` is past the
 * end of the chain (iterate from 0 until it is returned); `WS_INVALID_STATE` for
 * `ws://` and before the server's certificate arrived; `WS_NULL_POINTER`,
 * `WS_INVALID_HANDLE`.
 */
ws_result ws_client_peer_certificate(ws_client c,
                                     size_t index,
                                     const uint8_t **out_der,
                                     size_t *out_len);

/**
 * Gives the caller's verdict on the server's chain while the client is in
 * `WS_STATE_VERIFYING`: `accept` = 1 sends the upgrade request and the handshake
 * goes on; `accept` = 0 fails the client with `WS_CERT_UNTRUSTED`, its last error
 * naming `reason` (UTF-8, NUL-terminated; NULL = none given), and forgets the TLS
 * sessions of this server, so that the next connection does a full handshake and
 * asks again. Bytes to send (the request, or nothing) are in `ws_read_output`.
 *
 * Returns `WS_OK` once the verdict is taken (also a reject: the client's state then
 * says `WS_STATE_FAILED`); `WS_INVALID_STATE` when no verdict is awaited; the
 * failure code of a failed client (the handshake timeout, for example);
 * `WS_INVALID_ARGUMENT` (reason not UTF-8), `WS_INVALID_HANDLE`.
 */
ws_result ws_client_set_verdict(ws_client c, uint32_t accept, const char *reason);

/**
 * Asks the operating system's verifier about the chain the client waits with in
 * `WS_STATE_VERIFYING` (rustls-platform-verifier: Windows CertGetCertificateChain,
 * macOS/iOS SecTrust, Linux webpki with the distribution's roots), for the URL's
 * host (or `ws_config_set_server_name`'s). **It blocks** (the OS may check
 * revocation over the network): call it on a worker thread of your own, then give
 * the answer to `ws_client_set_verdict` on the thread that drives the client. The
 * client is locked only while its chain is copied, so driving it meanwhile is fine.
 *
 * Writes 1 to `*out_trusted` when the OS trusts the chain, else 0, and copies why
 * not (empty when trusted) with the `ws_client_last_error` convention (`reason` may
 * be NULL when `cap` is 0; `*out_len` is the full length). Not available on Android
 * (the verifier there needs the app's JNI context and a Kotlin component; verify
 * from Java, or with the C# `WsPlatformTrust`) nor on the web.
 *
 * Returns `WS_OK` when the verifier ran; `WS_INVALID_STATE` when the client is not
 * verifying or on a platform without it; the failure code of a failed client;
 * `WS_NULL_POINTER`, `WS_INVALID_HANDLE`.
 */
ws_result ws_client_verify_with_platform(ws_client c,
                                         uint32_t *out_trusted,
                                         char *reason,
                                         size_t cap,
                                         size_t *out_len);

/**
 * Creates a TLS client connection to `server_name`: a DNS host name or an IP
 * literal, UTF-8 and NUL-terminated; SNI and certificate verification use it. It
 * uses the config's trust settings (roots, pins, pin mode, client certificate,
 * minimum version, the dangerous no-verification switch), its handshake timeout and
 * pending-output limit, and its TLS session store: a second connection of one config
 * to the same name resumes the session. No ALPN protocol is offered. The config's
 * settings are copied; the config may be freed afterwards. The ClientHello is ready
 * in `ws_tls_read_output` at once.
 *
 * Ownership: free the object with `ws_tls_free`.
 * Returns `WS_OK` and writes `*out_tls`; `WS_INVALID_ARGUMENT` (not a valid name, or
 * not UTF-8), `WS_INVALID_HANDLE` (config), `WS_NULL_POINTER`, `WS_INVALID_CONFIG`,
 * or `WS_INVALID_STATE` when 4,194,304 handles are already live.
 */
ws_result ws_tls_new(ws_config cfg, const char *server_name, ws_tls *out_tls);

/**
 * Frees a TLS object. It sends nothing: `ws_tls_close` and drain the output first
 * for a clean shutdown. Freeing 0, a stale handle, or freeing twice does nothing.
 * Returns `WS_OK`.
 */
ws_result ws_tls_free(ws_tls t);

/**
 * Offers `data[0..len]`, ciphertext received from the socket; `len == 0` means the
 * peer's stream ended (EOF). The bytes are processed at once (handshake messages
 * answered into the output, records decrypted) and not referenced after the call.
 *
 * `*out_consumed` is written on success and is less than `len` only while 16 KiB of
 * decrypted plaintext wait unread: `ws_tls_read` them, then offer the rest. Input
 * after the peer's close_notify is taken and discarded. EOF is not a failure once the
 * handshake completed: `ws_tls_read` reports it (`WS_CLOSED` or `WS_TLS_TRUNCATED`).
 *
 * Returns `WS_OK`; on failure the failure code (a certificate code such as
 * `WS_CERT_UNTRUSTED`, `WS_TLS_ALERT`, `WS_TLS_CORRUPT`, `WS_CONNECTION_LOST` for EOF
 * or close_notify during the handshake; sticky: every later call returns it, and the
 * alert telling the peer why waits in `ws_tls_read_output`); `WS_NULL_POINTER`;
 * `WS_INVALID_HANDLE`.
 */
ws_result ws_tls_offer_input(ws_tls t, const uint8_t *data, size_t len, size_t *out_consumed);

/**
 * Copies up to `cap` bytes of ciphertext that must be written to the socket into
 * `buf`: handshake messages, records of written plaintext, alerts, close_notify. Call
 * until `*out_len` is 0; the caller must send every byte, in order.
 *
 * Returns `WS_OK` with `*out_len == 0` when nothing is pending (also when `cap` is 0;
 * `ws_tls_wants_write` tells whether anything is). After a failure the pending alert
 * is still handed out with `WS_OK`; once it is gone the failure code is returned with
 * `*out_len = 0`. Also `WS_NULL_POINTER`, `WS_INVALID_HANDLE`.
 */
ws_result ws_tls_read_output(ws_tls t, uint8_t *buf, size_t cap, size_t *out_len);

/**
 * Queues plaintext `data[0..len]` to be encrypted and sent; its records leave
 * through `ws_tls_read_output`. The bytes are copied. `*out_consumed` says how many
 * were taken: fewer than `len` (even 0) when the pending-output limit
 * (`ws_config_set_max_pending_output`, default 128 MiB) is reached; drain
 * `ws_tls_read_output`, then write the rest. Before the handshake completes,
 * plaintext is buffered (within the same limit) and encrypted once it completes.
 *
 * Returns `WS_OK`; `WS_ALREADY_CLOSED` after `ws_tls_close`; the failure code;
 * `WS_NULL_POINTER`; `WS_INVALID_HANDLE`.
 */
ws_result ws_tls_write(ws_tls t, const uint8_t *data, size_t len, size_t *out_consumed);

/**
 * Copies decrypted plaintext into `buf[0..cap]` and writes the count to `*out_len`.
 * Never blocks.
 *
 * Returns `WS_OK` with `*out_len > 0` (or 0 when `cap` is 0); `WS_NEED_INPUT` when no
 * plaintext is waiting (not an error); `WS_CLOSED` once the peer sent close_notify
 * and everything before it was read; `WS_TLS_TRUNCATED` once the peer's stream ended
 * without close_notify and everything before it was read (the data may be cut short;
 * the state is not failed). Plaintext that arrived before a failure is still
 * delivered, then the failure code is returned. Also `WS_NULL_POINTER`,
 * `WS_INVALID_HANDLE`.
 */
ws_result ws_tls_read(ws_tls t, uint8_t *buf, size_t cap, size_t *out_len);

/**
 * Sends close_notify after the plaintext already written; it leaves through
 * `ws_tls_read_output`. Nothing more can be written; reading goes on until the
 * peer's close_notify (`WS_CLOSED`) or EOF. The state becomes `WS_STATE_CLOSED` once
 * the peer ended too and the output is drained. Closing twice does nothing.
 *
 * Returns `WS_OK`; `WS_INVALID_STATE` before the handshake completed (free the
 * object instead); the failure code; `WS_INVALID_HANDLE`.
 */
ws_result ws_tls_close(ws_tls t);

/**
 * Tells the object the time, in milliseconds of any monotonic clock of the caller's.
 * The first call starts the handshake clock; a handshake still running after the
 * config's handshake timeout (`ws_config_set_handshake_timeout`, default 15 s) fails
 * with `WS_TIMEOUT`. The other timeouts of the config do not apply to a TLS object
 * (the protocol on top decides what idle means).
 *
 * Returns `WS_OK`, `WS_TIMEOUT`, the failure code or `WS_INVALID_HANDLE`.
 */
ws_result ws_tls_tick(ws_tls t, uint64_t now_ms);

/**
 * Writes when `ws_tls_tick` should next be called (caller-clock ms) to
 * `*out_deadline_ms`: 0 before the first tick, `WS_NO_DEADLINE` (`UINT64_MAX`) once
 * the handshake completed or when no timer runs.
 * Returns `WS_OK`, `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
 */
ws_result ws_tls_next_deadline(ws_tls t, uint64_t *out_deadline_ms);

/**
 * Writes 1 to `*out_wants` when ciphertext waits for `ws_tls_read_output` (wait for
 * the socket to be writable), else 0. Returns `WS_OK`, `WS_NULL_POINTER` or
 * `WS_INVALID_HANDLE`.
 */
ws_result ws_tls_wants_write(ws_tls t, uint32_t *out_wants);

/**
 * Writes the state to `*out_state`, with the client's `WS_STATE_*` values:
 * `WS_STATE_TLS_HANDSHAKING`, `WS_STATE_OPEN`, `WS_STATE_CLOSING` (close_notify sent
 * or received, EOF, or final bytes still in the output), `WS_STATE_CLOSED` (both
 * sides ended and the output is drained), `WS_STATE_FAILED`. Works in every state.
 * Returns `WS_OK`, `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
 */
ws_result ws_tls_state(ws_tls t, ws_state *out_state);

/**
 * Copies the detailed last error of this object: the failure if it failed, else the
 * last failed call on it, else a stream that ended without close_notify. Same
 * copy-out convention as `ws_client_last_error` (`*out_len` = full length, 0 = none).
 * Returns `WS_OK`, `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
 */
ws_result ws_tls_last_error(ws_tls t, char *buf, size_t cap, size_t *out_len);

/**
 * Writes the negotiated TLS version to `*out_version`: 12 or 13
 * (`ws_tls_version` values), or 0 before the handshake completed.
 * Returns `WS_OK`, `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
 */
ws_result ws_tls_protocol_version(ws_tls t, ws_tls_version *out_version);

/**
 * Copies the negotiated cipher suite's name (for example
 * "TLS13_AES_128_GCM_SHA256"; empty before the handshake completed), with the
 * `ws_client_last_error` copy-out convention.
 * Returns `WS_OK`, `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
 */
ws_result ws_tls_cipher_suite(ws_tls t, char *buf, size_t cap, size_t *out_len);

/**
 * Writes 1 to `*out_resumed` when the session was resumed from an earlier
 * connection of the same config (TLS 1.3 ticket or TLS 1.2 session), else 0.
 * Returns `WS_OK`, `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
 */
ws_result ws_tls_is_resumed(ws_tls t, uint32_t *out_resumed);

/**
 * Writes 1 to `*out_insecure` when certificate verification is off for this object
 * (its config used `ws_config_dangerous_disable_certificate_verification`), else 0.
 * Returns `WS_OK`, `WS_NULL_POINTER` or `WS_INVALID_HANDLE`.
 */
ws_result ws_tls_is_insecure(ws_tls t, uint32_t *out_insecure);

#ifdef __cplusplus
}  // extern "C"
#endif  // __cplusplus

#endif  /* WSMACHINE_H */
