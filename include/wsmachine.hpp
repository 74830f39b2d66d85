/*
 * wsmachine.hpp: a header-only C++17 wrapper over the C API of wsmachine.h.
 *
 * It adds no behaviour of its own: every member function makes exactly one call of
 * the C API with the same arguments and returns its code as wsm::result. What it adds
 * is ownership and types:
 *   - wsm::config, wsm::client and wsm::tls own their handle (RAII, move-only; the
 *     destructor calls ws_config_free / ws_client_free / ws_tls_free; a moved-from
 *     object holds 0);
 *   - enum class result / state / message_kind / tls_version / pin_mode /
 *     external_verify with the
 *     C values (result::ok == WS_OK, ...);
 *   - std::string_view and pointer+length overloads for buffers;
 *   - wsm::message, the borrowed message view (valid until the next poll, free or
 *     failure on the same client, exactly as ws_message).
 * Member names follow the C names without the ws_ prefix and the object
 * (ws_client_tick -> client::tick, ws_peek_output -> client::peek_output,
 * ws_tls_read_output -> tls::read_output); the getters of a state or version are
 * get_state / get_tls_version (the plain names are the enum types; ws_tls_state is
 * tls::get_state). No exceptions and no RTTI are used: it compiles with
 * -fno-exceptions -fno-rtti. Errors are codes; the detail comes from last_error().
 * Functions that return std::string allocate (and, like every std::string, terminate
 * on allocation failure without exceptions); each has a noexcept buffer form beside it.
 *
 * The event loop is the one of wsmachine.h:
 *
 *   wsm::config cfg;  if (wsm::config::create(cfg) != wsm::result::ok) ...
 *   wsm::client c;    if (wsm::client::create(cfg, "wss://host/path", c) != wsm::result::ok) ...
 *   for (;;) {
 *       n = recv(sock, rx, sizeof rx, 0);                       // 1. feed (0: EOF)
 *       c.offer_input(rx, n, used);                             //    (loop while used < n)
 *       wsm::message m;
 *       while (c.poll_message(m) == wsm::result::ok) handle(m); // 2. poll until empty
 *       c.tick(now_ms());                                       // 3. time
 *       while (c.read_output(tx, sizeof tx, k) == wsm::result::ok && k > 0)
 *           send_all(sock, tx, k);                              // 4. drain output
 *   }
 *
 * TLS without WebSocket (wsm::tls, the ws_tls_* object; see wsmachine.h):
 *
 *   wsm::tls t;  if (wsm::tls::create(cfg, "db.example", t) != wsm::result::ok) ...
 *   for (;;) {
 *       n = recv(sock, rx, sizeof rx, 0);                       // 1. feed (0: EOF)
 *       for (off = 0; off < n || n == 0; off += used) {         //    (used < n - off only while
 *           if (t.offer_input(rx + off, n - off, used) != wsm::result::ok) goto failed; // 16 KiB wait)
 *           while (t.read(plain, sizeof plain, got) == wsm::result::ok)
 *               handle(plain, got);                             // 2. read until need_input
 *           if (n == 0) break;                                  //    (then closed or tls_truncated)
 *       }
 *       t.write(data, len, taken);                              // 3. plaintext; keep data + taken
 *       t.tick(now_ms());                                       // 4. handshake timeout
 *       while (t.read_output(tx, sizeof tx, k) == wsm::result::ok && k > 0)
 *           send_all(sock, tx, k);                              // 5. drain output
 *   }
 *   t.close(); then drain the output (5.): close_notify.
 *
 * Check the library you loaded: wsm::abi_compatible() compares ws_abi_version() with
 * the WS_ABI_VERSION this header was compiled against.
 */
#ifndef WSMACHINE_HPP
#define WSMACHINE_HPP

#if !defined(__cplusplus) || (__cplusplus < 201703L && (!defined(_MSVC_LANG) || _MSVC_LANG < 201703L))
#error "wsmachine.hpp needs C++17; C code includes wsmachine.h"
#endif

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "wsmachine.h"

namespace wsm {

/** The codes of ws_result (same numbers). */
enum class result : uint32_t {
    ok = WS_OK,
    need_input = WS_NEED_INPUT,
    closed = WS_CLOSED,
    null_pointer = WS_NULL_POINTER,
    invalid_handle = WS_INVALID_HANDLE,
    invalid_state = WS_INVALID_STATE,
    buffer_too_small = WS_BUFFER_TOO_SMALL,
    invalid_argument = WS_INVALID_ARGUMENT,
    invalid_url = WS_INVALID_URL,
    invalid_config = WS_INVALID_CONFIG,
    output_full = WS_OUTPUT_FULL,
    tls_error = WS_TLS_ERROR,
    cert_untrusted = WS_CERT_UNTRUSTED,
    cert_expired = WS_CERT_EXPIRED,
    cert_not_yet_valid = WS_CERT_NOT_YET_VALID,
    cert_wrong_host = WS_CERT_WRONG_HOST,
    cert_pin_mismatch = WS_CERT_PIN_MISMATCH,
    cert_invalid = WS_CERT_INVALID,
    tls_alert = WS_TLS_ALERT,
    tls_version = WS_TLS_VERSION,
    tls_corrupt = WS_TLS_CORRUPT,
    tls_truncated = WS_TLS_TRUNCATED,
    handshake_error = WS_HANDSHAKE_ERROR,
    http_status = WS_HTTP_STATUS,
    bad_accept = WS_BAD_ACCEPT,
    bad_response = WS_BAD_RESPONSE,
    subprotocol = WS_SUBPROTOCOL,
    extension = WS_EXTENSION,
    header_too_large = WS_HEADER_TOO_LARGE,
    protocol_error = WS_PROTOCOL_ERROR,
    invalid_utf8 = WS_INVALID_UTF8,
    message_too_big = WS_MESSAGE_TOO_BIG,
    frame_too_big = WS_FRAME_TOO_BIG,
    already_closed = WS_ALREADY_CLOSED,
    connection_lost = WS_CONNECTION_LOST,
    timeout = WS_TIMEOUT,
    proxy_auth_required = WS_PROXY_AUTH_REQUIRED,
    proxy_refused = WS_PROXY_REFUSED,
    proxy_bad_response = WS_PROXY_BAD_RESPONSE,
    proxy_closed = WS_PROXY_CLOSED,
    panic = WS_PANIC,
};

/** The kinds of ws_message_kind. */
enum class message_kind : uint32_t {
    none = 0,
    text = WS_MESSAGE_TEXT,
    binary = WS_MESSAGE_BINARY,
    ping = WS_MESSAGE_PING,
    pong = WS_MESSAGE_PONG,
    close = WS_MESSAGE_CLOSE,
};

/** The states of ws_state. */
enum class state : uint32_t {
    tls_handshaking = WS_STATE_TLS_HANDSHAKING,
    ws_handshaking = WS_STATE_WS_HANDSHAKING,
    open = WS_STATE_OPEN,
    closing = WS_STATE_CLOSING,
    closed = WS_STATE_CLOSED,
    failed = WS_STATE_FAILED,
    verifying = WS_STATE_VERIFYING,
};

/** ws_tls_version. */
enum class tls_version : uint32_t { v1_2 = WS_TLS_VERSION_1_2, v1_3 = WS_TLS_VERSION_1_3 };

/** ws_pin_mode. */
enum class pin_mode : uint32_t { and_ca = WS_PIN_MODE_AND_CA, only = WS_PIN_MODE_ONLY };

/** ws_external_verify. */
enum class external_verify : uint32_t {
    off = WS_EXTERNAL_VERIFY_OFF,
    unknown_issuer = WS_EXTERNAL_VERIFY_UNKNOWN_ISSUER,
    always = WS_EXTERNAL_VERIFY_ALWAYS,
};

/** The code as the C API's uint32_t. */
constexpr uint32_t code(result r) noexcept { return static_cast<uint32_t>(r); }
/** True for the codes that are failures (100 and up); ok, need_input and closed are statuses. */
constexpr bool is_error(result r) noexcept { return code(r) >= 100; }
/** ws_result_str: a static description (never NULL, never freed). */
inline const char *describe(result r) noexcept { return ws_result_str(code(r)); }
/** ws_version: the library version, e.g. "0.1.0" (static). */
inline const char *version() noexcept { return ws_version(); }
/** ws_abi_version: the ABI version of the loaded library. */
inline uint32_t abi_version() noexcept { return ws_abi_version(); }
/** True when the loaded library has the ABI this header was compiled against. */
inline bool abi_compatible() noexcept { return ws_abi_version() == WS_ABI_VERSION; }

/** ws_last_error into a caller buffer: writes at most cap - 1 bytes and a NUL; returns the full length. */
inline size_t last_error(char *buf, size_t cap) noexcept {
    size_t len = 0;
    return ws_last_error(buf, cap, &len) == WS_OK ? len : 0;
}
/** ws_last_error: the detail of the most recent failed call on this thread ("" if none). */
inline std::string last_error() {
    std::string s(last_error(nullptr, 0), '\0');
    if (!s.empty()) {
        s.resize(last_error(&s[0], s.size() + 1));
    }
    return s;
}

/** A received message, borrowed from the client (ws_message): valid until the next
 *  poll_message, poll_message_copy or free on the same client. */
struct message {
    message_kind kind = message_kind::none;
    const uint8_t *data = nullptr;
    size_t size = 0;
    /** For a close: the close code (1005: none in the frame, 1006: dropped); 0 otherwise. */
    uint16_t close_code = 0;

    /** The payload as characters (text, or a close reason). */
    std::string_view text() const noexcept {
        return size ? std::string_view(reinterpret_cast<const char *>(data), size) : std::string_view();
    }
};

namespace detail {
inline const uint8_t *bytes(const void *p) noexcept { return static_cast<const uint8_t *>(p); }
inline const uint8_t *bytes(std::string_view s) noexcept { return reinterpret_cast<const uint8_t *>(s.data()); }
}  // namespace detail

/** Owns a ws_config handle. Build once, share among clients; see wsmachine.h for
 *  every setter's meaning. Freeing it while clients still use it is safe. */
class config {
public:
    config() noexcept = default;
    /** Takes ownership of a handle from ws_config_new. */
    explicit config(ws_config h) noexcept : h_(h) {}
    config(const config &) = delete;
    config &operator=(const config &) = delete;
    config(config &&o) noexcept : h_(std::exchange(o.h_, 0)) {}
    config &operator=(config &&o) noexcept {
        if (this != &o) {
            reset();
            h_ = std::exchange(o.h_, 0);
        }
        return *this;
    }
    ~config() { reset(); }

    /** ws_config_new into out (which frees what it held first). */
    static result create(config &out) noexcept {
        ws_config h = 0;
        ws_result rc = ws_config_new(&h);
        if (rc == WS_OK) {
            out = config(h);
        }
        return result(rc);
    }

    /** ws_config_free (0 afterwards; a no-op on an empty object). */
    void reset() noexcept {
        if (h_ != 0) {
            ws_config_free(h_);
            h_ = 0;
        }
    }
    /** Gives up ownership: the caller frees the returned handle. */
    ws_config release() noexcept { return std::exchange(h_, 0); }
    ws_config handle() const noexcept { return h_; }
    explicit operator bool() const noexcept { return h_ != 0; }

    result add_root_pem(const void *pem, size_t len) noexcept { return result(ws_config_add_root_pem(h_, detail::bytes(pem), len)); }
    result add_root_pem(std::string_view pem) noexcept { return add_root_pem(pem.data(), pem.size()); }
    result add_pin_sha256(const void *sha256, size_t len) noexcept {
        return result(ws_config_add_pin_sha256(h_, detail::bytes(sha256), len));
    }
    result set_pin_mode(pin_mode m) noexcept { return result(ws_config_set_pin_mode(h_, static_cast<uint32_t>(m))); }
    result set_client_cert_pem(const void *chain, size_t chain_len, const void *key, size_t key_len) noexcept {
        return result(ws_config_set_client_cert_pem(h_, detail::bytes(chain), chain_len, detail::bytes(key), key_len));
    }
    result set_client_cert_pem(std::string_view chain, std::string_view key) noexcept {
        return set_client_cert_pem(chain.data(), chain.size(), key.data(), key.size());
    }
    /** Turns certificate verification off (tests against self-signed servers only). */
    result dangerous_disable_certificate_verification() noexcept {
        return result(ws_config_dangerous_disable_certificate_verification(h_));
    }
    result set_deflate(bool enabled) noexcept { return result(ws_config_set_deflate(h_, enabled ? 1u : 0u)); }
    result set_deflate_window_bits(uint32_t client_bits, uint32_t server_bits) noexcept {
        return result(ws_config_set_deflate_window_bits(h_, client_bits, server_bits));
    }
    result set_deflate_no_context_takeover(bool client, bool server) noexcept {
        return result(ws_config_set_deflate_no_context_takeover(h_, client ? 1u : 0u, server ? 1u : 0u));
    }
    result set_deflate_threshold(size_t bytes) noexcept { return result(ws_config_set_deflate_threshold(h_, bytes)); }
    result set_deflate_level(uint32_t level) noexcept { return result(ws_config_set_deflate_level(h_, level)); }
    result set_builtin_roots(bool enabled) noexcept { return result(ws_config_set_builtin_roots(h_, enabled ? 1u : 0u)); }
    /** Also trust the operating system's store, read in this call. */
    result set_system_roots(bool on) noexcept { return result(ws_config_set_system_roots(h_, on ? 1u : 0u)); }
    result system_roots_count(size_t &loaded, size_t &skipped) noexcept {
        return result(ws_config_system_roots_count(h_, &loaded, &skipped));
    }
    result set_external_verification(external_verify mode) noexcept {
        return result(ws_config_set_external_verification(h_, static_cast<uint32_t>(mode)));
    }
    /** Comma-separated list, NUL-terminated. */
    result set_subprotocols(const char *protocols) noexcept { return result(ws_config_set_subprotocols(h_, protocols)); }
    result set_subprotocols(const std::string &protocols) noexcept { return set_subprotocols(protocols.c_str()); }
    result add_header(const char *name, const char *value) noexcept { return result(ws_config_add_header(h_, name, value)); }
    result add_header(const std::string &name, const std::string &value) noexcept {
        return add_header(name.c_str(), value.c_str());
    }
    result set_server_name(const char *name) noexcept { return result(ws_config_set_server_name(h_, name)); }
    result set_server_name(const std::string &name) noexcept { return set_server_name(name.c_str()); }
    /** http://, https:// or socks5:// proxy URL, NUL-terminated; NULL or "" clears it. */
    result set_proxy(const char *url) noexcept { return result(ws_config_set_proxy(h_, url)); }
    result set_proxy(const std::string &url) noexcept { return set_proxy(url.c_str()); }
    result set_proxy_authorization(const char *value) noexcept {
        return result(ws_config_set_proxy_authorization(h_, value));
    }
    result set_proxy_authorization(const std::string &value) noexcept { return set_proxy_authorization(value.c_str()); }
    result set_min_tls_version(tls_version v) noexcept {
        return result(ws_config_set_min_tls_version(h_, static_cast<uint32_t>(v)));
    }
    result set_max_message_size(size_t bytes) noexcept { return result(ws_config_set_max_message_size(h_, bytes)); }
    result set_max_frame_size(size_t bytes) noexcept { return result(ws_config_set_max_frame_size(h_, bytes)); }
    result set_max_header_size(size_t bytes) noexcept { return result(ws_config_set_max_header_size(h_, bytes)); }
    result set_max_queued_messages(size_t count) noexcept { return result(ws_config_set_max_queued_messages(h_, count)); }
    result set_max_queued_bytes(size_t bytes) noexcept { return result(ws_config_set_max_queued_bytes(h_, bytes)); }
    result set_max_pending_output(size_t bytes) noexcept { return result(ws_config_set_max_pending_output(h_, bytes)); }
    result set_handshake_timeout(uint64_t ms) noexcept { return result(ws_config_set_handshake_timeout(h_, ms)); }
    result set_close_timeout(uint64_t ms) noexcept { return result(ws_config_set_close_timeout(h_, ms)); }
    result set_keepalive_interval(uint64_t ms) noexcept { return result(ws_config_set_keepalive_interval(h_, ms)); }
    result set_idle_timeout(uint64_t ms) noexcept { return result(ws_config_set_idle_timeout(h_, ms)); }

private:
    ws_config h_ = 0;
};

/** Owns a ws_client handle; every member is the C function of the same name. */
class client {
public:
    client() noexcept = default;
    /** Takes ownership of a handle from ws_client_new. */
    explicit client(ws_client h) noexcept : h_(h) {}
    client(const client &) = delete;
    client &operator=(const client &) = delete;
    client(client &&o) noexcept : h_(std::exchange(o.h_, 0)) {}
    client &operator=(client &&o) noexcept {
        if (this != &o) {
            reset();
            h_ = std::exchange(o.h_, 0);
        }
        return *this;
    }
    ~client() { reset(); }

    /** ws_client_new into out (which frees what it held first). url is NUL-terminated. */
    static result create(const config &cfg, const char *url, client &out) noexcept {
        ws_client h = 0;
        ws_result rc = ws_client_new(cfg.handle(), url, &h);
        if (rc == WS_OK) {
            out = client(h);
        }
        return result(rc);
    }
    static result create(const config &cfg, const std::string &url, client &out) noexcept {
        return create(cfg, url.c_str(), out);
    }

    /** ws_client_free (0 afterwards; a no-op on an empty object). */
    void reset() noexcept {
        if (h_ != 0) {
            ws_client_free(h_);
            h_ = 0;
        }
    }
    ws_client release() noexcept { return std::exchange(h_, 0); }
    ws_client handle() const noexcept { return h_; }
    explicit operator bool() const noexcept { return h_ != 0; }

    // ----- bytes in
    /** ws_offer_input; len 0 means the peer closed its end. */
    result offer_input(const void *data, size_t len, size_t &consumed) noexcept {
        return result(ws_offer_input(h_, detail::bytes(data), len, &consumed));
    }
    /** ws_prepare_input: a library buffer to receive into, then commit_input(n). */
    result prepare_input(uint8_t *&buf, size_t &cap) noexcept { return result(ws_prepare_input(h_, &buf, &cap)); }
    result commit_input(size_t n) noexcept { return result(ws_commit_input(h_, n)); }

    // ----- bytes out
    result read_output(void *buf, size_t cap, size_t &len) noexcept {
        return result(ws_read_output(h_, static_cast<uint8_t *>(buf), cap, &len));
    }
    /** ws_peek_output: the pending bytes, borrowed until the next mutating call. */
    result peek_output(const uint8_t *&data, size_t &len) noexcept { return result(ws_peek_output(h_, &data, &len)); }
    result consume_output(size_t n) noexcept { return result(ws_consume_output(h_, n)); }
    result pending_output(size_t &len) noexcept { return result(ws_client_pending_output(h_, &len)); }
    result trim() noexcept { return result(ws_client_trim(h_)); }

    // ----- messages
    /** ws_poll_message: result::need_input when none is ready (not an error). */
    result poll_message(message &out) noexcept {
        ws_message m{};
        ws_result rc = ws_poll_message(h_, &m);
        if (rc == WS_OK) {
            out.kind = message_kind(m.kind);
            out.data = m.data;
            out.size = m.len;
            out.close_code = m.close_code;
        }
        return result(rc);
    }
    /** ws_poll_message_copy: the payload copied into buf; with result::buffer_too_small,
     *  len is the size needed and the message stays queued. */
    result poll_message_copy(void *buf, size_t cap, message_kind &kind, size_t &len, uint16_t &close_code) noexcept {
        ws_message_kind k{};
        ws_result rc = ws_poll_message_copy(h_, static_cast<uint8_t *>(buf), cap, &k, &len, &close_code);
        if (rc == WS_OK) {
            kind = message_kind(k);
        }
        return result(rc);
    }
    result send_text(const char *utf8, size_t len) noexcept { return result(ws_send_text(h_, detail::bytes(utf8), len)); }
    result send_text(std::string_view utf8) noexcept { return send_text(utf8.data(), utf8.size()); }
    result send_binary(const void *data, size_t len) noexcept { return result(ws_send_binary(h_, detail::bytes(data), len)); }
    result send_binary(std::string_view data) noexcept { return send_binary(data.data(), data.size()); }
    result send_ping(const void *data, size_t len) noexcept { return result(ws_send_ping(h_, detail::bytes(data), len)); }
    result send_ping(std::string_view data) noexcept { return send_ping(data.data(), data.size()); }
    result close(uint16_t code, const char *reason, size_t len) noexcept {
        return result(ws_close(h_, code, detail::bytes(reason), len));
    }
    result close(uint16_t code = 1000, std::string_view reason = {}) noexcept {
        return close(code, reason.data(), reason.size());
    }

    // ----- time
    result tick(uint64_t now_ms) noexcept { return result(ws_client_tick(h_, now_ms)); }
    /** WS_NO_DEADLINE when no timer runs. */
    result next_deadline(uint64_t &deadline_ms) noexcept { return result(ws_client_next_deadline(h_, &deadline_ms)); }

    /** ws_client_probe: a liveness ping that must be answered within deadline_ms. */
    result probe(uint64_t now_ms, uint64_t deadline_ms) noexcept { return result(ws_client_probe(h_, now_ms, deadline_ms)); }

    // ----- getters
    result get_state(wsm::state &out) noexcept {
        ws_state s{};
        ws_result rc = ws_client_state(h_, &s);
        if (rc == WS_OK) {
            out = wsm::state(s);
        }
        return result(rc);
    }
    /** ws_client_last_error into a caller buffer; len is the full length. */
    result last_error(char *buf, size_t cap, size_t &len) noexcept { return result(ws_client_last_error(h_, buf, cap, &len)); }
    /** The detail of this client's failure ("" if none). */
    std::string last_error() {
        size_t len = 0;
        if (ws_client_last_error(h_, nullptr, 0, &len) != WS_OK || len == 0) {
            return std::string();
        }
        std::string s(len, '\0');
        if (ws_client_last_error(h_, &s[0], len + 1, &len) != WS_OK) {
            return std::string();
        }
        s.resize(len < s.size() ? len : s.size());
        return s;
    }
    result http_status(uint16_t &status) noexcept { return result(ws_client_http_status(h_, &status)); }
    result is_resumed(bool &resumed) noexcept { return flag(ws_client_is_resumed, resumed); }
    result is_insecure(bool &insecure) noexcept { return flag(ws_client_is_insecure, insecure); }
    result deflate(ws_deflate_info &info) noexcept { return result(ws_client_deflate(h_, &info)); }
    result get_tls_version(wsm::tls_version &v) noexcept {
        ws_tls_version x{};
        ws_result rc = ws_client_tls_version(h_, &x);
        if (rc == WS_OK) {
            v = wsm::tls_version(x);
        }
        return result(rc);
    }
    /** ws_client_subprotocol into a caller buffer ("" when none was agreed). */
    result subprotocol(char *buf, size_t cap, size_t &len) noexcept { return result(ws_client_subprotocol(h_, buf, cap, &len)); }

    /** ws_client_connect_address: where the socket must connect (the proxy, or the
     *  URL's host); the host into a caller buffer, len its full length. */
    result connect_address(char *buf, size_t cap, size_t &len, uint16_t &port) noexcept {
        return result(ws_client_connect_address(h_, buf, cap, &len, &port));
    }
    /** The same into a std::string. */
    result connect_address(std::string &host, uint16_t &port) {
        size_t len = 0;
        uint16_t p = 0;
        char small[256];
        ws_result rc = ws_client_connect_address(h_, small, sizeof small, &len, &p);
        if (rc == WS_BUFFER_TOO_SMALL) {
            std::string big(len, '\0');
            rc = ws_client_connect_address(h_, &big[0], len + 1, &len, &p);
            if (rc == WS_OK) {
                host = std::move(big);
            }
        } else if (rc == WS_OK) {
            host.assign(small, len);
        }
        if (rc == WS_OK) {
            port = p;
        }
        return result(rc);
    }
    /** ws_client_peer_certificate: certificate `index` of the server's chain (DER, leaf
     *  first), lent until the client is freed; result::invalid_argument past the end. */
    result peer_certificate(size_t index, const uint8_t *&der, size_t &len) noexcept {
        return result(ws_client_peer_certificate(h_, index, &der, &len));
    }
    /** ws_client_set_verdict while state::verifying; reason may be nullptr. */
    result set_verdict(bool accept, const char *reason) noexcept {
        return result(ws_client_set_verdict(h_, accept ? 1u : 0u, reason));
    }
    /** ws_client_verify_with_platform: BLOCKS (run it on a thread of your own); the reason
     *  into a caller buffer, len its full length. */
    result verify_with_platform(bool &trusted, char *reason, size_t cap, size_t &len) noexcept {
        uint32_t t = 0;
        ws_result rc = ws_client_verify_with_platform(h_, &t, reason, cap, &len);
        if (rc == WS_OK) {
            trusted = t != 0;
        }
        return result(rc);
    }
    /** ws_client_proxy_challenges: the Proxy-Authenticate lines of a 407, into a caller buffer. */
    result proxy_challenges(char *buf, size_t cap, size_t &len) noexcept {
        return result(ws_client_proxy_challenges(h_, buf, cap, &len));
    }

private:
    result flag(ws_result (*f)(ws_client, uint32_t *), bool &out) noexcept {
        uint32_t v = 0;
        ws_result rc = f(h_, &v);
        if (rc == WS_OK) {
            out = v != 0;
        }
        return result(rc);
    }
    ws_client h_ = 0;
};

/** Owns a ws_tls handle: TLS without WebSocket over the caller's socket (ciphertext in
 *  and out through caller buffers, plaintext through write/read). Every member is the
 *  ws_tls_ function of the same name; see wsmachine.h for the event loop and the codes. */
class tls {
public:
    tls() noexcept = default;
    /** Takes ownership of a handle from ws_tls_new. */
    explicit tls(ws_tls h) noexcept : h_(h) {}
    tls(const tls &) = delete;
    tls &operator=(const tls &) = delete;
    tls(tls &&o) noexcept : h_(std::exchange(o.h_, 0)) {}
    tls &operator=(tls &&o) noexcept {
        if (this != &o) {
            reset();
            h_ = std::exchange(o.h_, 0);
        }
        return *this;
    }
    ~tls() { reset(); }

    /** ws_tls_new into out (which frees what it held first). server_name (a DNS name or
     *  an IP literal, NUL-terminated) is used for SNI and verification; the ClientHello
     *  is ready in read_output at once. */
    static result create(const config &cfg, const char *server_name, tls &out) noexcept {
        ws_tls h = 0;
        ws_result rc = ws_tls_new(cfg.handle(), server_name, &h);
        if (rc == WS_OK) {
            out = tls(h);
        }
        return result(rc);
    }
    static result create(const config &cfg, const std::string &server_name, tls &out) noexcept {
        return create(cfg, server_name.c_str(), out);
    }

    /** ws_tls_free (0 afterwards; a no-op on an empty object). It sends nothing: close()
     *  and drain the output first for a clean shutdown. */
    void reset() noexcept {
        if (h_ != 0) {
            ws_tls_free(h_);
            h_ = 0;
        }
    }
    ws_tls release() noexcept { return std::exchange(h_, 0); }
    ws_tls handle() const noexcept { return h_; }
    explicit operator bool() const noexcept { return h_ != 0; }

    // ----- ciphertext
    /** ws_tls_offer_input: bytes from the socket, len 0 for EOF. consumed < len only while
     *  16 KiB of plaintext wait unread: read(), then offer the rest. */
    result offer_input(const void *data, size_t len, size_t &consumed) noexcept {
        return result(ws_tls_offer_input(h_, detail::bytes(data), len, &consumed));
    }
    /** ws_tls_read_output: ciphertext for the socket; call until len is 0. */
    result read_output(void *buf, size_t cap, size_t &len) noexcept {
        return result(ws_tls_read_output(h_, static_cast<uint8_t *>(buf), cap, &len));
    }
    /** ws_tls_wants_write: true when ciphertext waits for read_output. */
    result wants_write(bool &wants) noexcept { return flag(ws_tls_wants_write, wants); }

    // ----- plaintext
    /** ws_tls_write: consumed < len when the pending-output limit is reached (drain the
     *  output, then write the rest); result::already_closed after close(). */
    result write(const void *data, size_t len, size_t &consumed) noexcept {
        return result(ws_tls_write(h_, detail::bytes(data), len, &consumed));
    }
    result write(std::string_view data, size_t &consumed) noexcept { return write(data.data(), data.size(), consumed); }
    /** ws_tls_read: result::need_input when nothing waits (not an error); result::closed
     *  after the peer's close_notify; result::tls_truncated after an EOF without it. */
    result read(void *buf, size_t cap, size_t &len) noexcept {
        return result(ws_tls_read(h_, static_cast<uint8_t *>(buf), cap, &len));
    }
    /** ws_tls_close: close_notify (leaves through read_output); result::invalid_state
     *  before the handshake completed. */
    result close() noexcept { return result(ws_tls_close(h_)); }

    // ----- time
    result tick(uint64_t now_ms) noexcept { return result(ws_tls_tick(h_, now_ms)); }
    /** 0 before the first tick, WS_NO_DEADLINE once the handshake completed. */
    result next_deadline(uint64_t &deadline_ms) noexcept { return result(ws_tls_next_deadline(h_, &deadline_ms)); }

    // ----- getters
    /** ws_tls_state, with the client's states (no ws_handshaking). */
    result get_state(wsm::state &out) noexcept {
        ws_state s{};
        ws_result rc = ws_tls_state(h_, &s);
        if (rc == WS_OK) {
            out = wsm::state(s);
        }
        return result(rc);
    }
    /** ws_tls_last_error into a caller buffer; len is the full length. */
    result last_error(char *buf, size_t cap, size_t &len) noexcept { return result(ws_tls_last_error(h_, buf, cap, &len)); }
    /** The detail of this object's failure, or of its last failed call, or of an end
     *  without close_notify ("" if none). */
    std::string last_error() { return copy_out(ws_tls_last_error); }
    /** ws_tls_protocol_version: tls_version(0) before the handshake completed. */
    result protocol_version(wsm::tls_version &v) noexcept {
        ws_tls_version x{};
        ws_result rc = ws_tls_protocol_version(h_, &x);
        if (rc == WS_OK) {
            v = wsm::tls_version(x);
        }
        return result(rc);
    }
    /** ws_tls_cipher_suite into a caller buffer ("" before the handshake completed). */
    result cipher_suite(char *buf, size_t cap, size_t &len) noexcept {
        return result(ws_tls_cipher_suite(h_, buf, cap, &len));
    }
    /** The negotiated cipher suite's name, e.g. "TLS13_AES_128_GCM_SHA256" ("" before). */
    std::string cipher_suite() { return copy_out(ws_tls_cipher_suite); }
    result is_resumed(bool &resumed) noexcept { return flag(ws_tls_is_resumed, resumed); }
    result is_insecure(bool &insecure) noexcept { return flag(ws_tls_is_insecure, insecure); }

private:
    result flag(ws_result (*f)(ws_tls, uint32_t *), bool &out) noexcept {
        uint32_t v = 0;
        ws_result rc = f(h_, &v);
        if (rc == WS_OK) {
            out = v != 0;
        }
        return result(rc);
    }
    std::string copy_out(ws_result (*f)(ws_tls, char *, size_t, size_t *)) {
        size_t len = 0;
        if (f(h_, nullptr, 0, &len) != WS_OK || len == 0) {
            return std::string();
        }
        std::string s(len, '\0');
        if (f(h_, &s[0], len + 1, &len) != WS_OK) {
            return std::string();
        }
        s.resize(len < s.size() ? len : s.size());
        return s;
    }
    ws_tls h_ = 0;
};

}  // namespace wsm

#endif  // WSMACHINE_HPP
