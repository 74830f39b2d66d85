// wrapper_test URL [CA_PEM_FILE]
//
// Tests include/wsmachine.hpp against a real loopback echo server
// (tests/peers/echo_server.py), built with -fno-exceptions -fno-rtti under ASan and
// UBSan by scripts/test-native.sh: the enums against the C codes, ownership (move,
// reset, release; no handle leaks), errors with their detail, and one connection
// driven through both input paths (offer_input; prepare_input/commit_input or
// commit_prepare_input) and both
// output paths (read_output; peek_output/consume_output), with text, binary (with
// NUL bytes), ping/pong, poll_message_copy, the getters and a clean close.
// For wss:// without CA_PEM_FILE it checks that verification fails (cert_untrusted).
// wsm::tls (the TLS object without WebSocket) has its own test, tls_wrapper_test.cpp.
// One "ok - " / "not ok - " line per check; exit status 1 on any failure.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <type_traits>

#include "../../examples/cpp/net.hpp"
#include "check.hpp"
#include "wsmachine.hpp"

// ws_handle_count: the live-handle count, a test hook of the header.

static_assert(!std::is_copy_constructible<wsm::config>::value && !std::is_copy_assignable<wsm::client>::value,
              "owners are move-only");
static_assert(std::is_nothrow_move_constructible<wsm::client>::value &&
                  std::is_nothrow_move_assignable<wsm::config>::value,
              "moves never throw");
static_assert(sizeof(wsm::client) == sizeof(ws_client) && sizeof(wsm::config) == sizeof(ws_config),
              "an owner is just its handle");
static_assert(wsm::code(wsm::result::ok) == WS_OK && wsm::code(wsm::result::need_input) == WS_NEED_INPUT &&
                  wsm::code(wsm::result::closed) == WS_CLOSED && wsm::code(wsm::result::panic) == WS_PANIC,
              "result codes");
static_assert(!wsm::is_error(wsm::result::closed) && wsm::is_error(wsm::result::null_pointer), "is_error");

namespace {

// The codes of the header, in the order of enum ws_result, against the enum class.
void check_codes() {
    const std::pair<wsm::result, uint32_t> all[] = {
        {wsm::result::ok, WS_OK}, {wsm::result::need_input, WS_NEED_INPUT}, {wsm::result::closed, WS_CLOSED},
        {wsm::result::null_pointer, WS_NULL_POINTER}, {wsm::result::invalid_handle, WS_INVALID_HANDLE},
        {wsm::result::invalid_state, WS_INVALID_STATE}, {wsm::result::buffer_too_small, WS_BUFFER_TOO_SMALL},
        {wsm::result::invalid_argument, WS_INVALID_ARGUMENT}, {wsm::result::invalid_url, WS_INVALID_URL},
        {wsm::result::invalid_config, WS_INVALID_CONFIG}, {wsm::result::output_full, WS_OUTPUT_FULL},
        {wsm::result::tls_error, WS_TLS_ERROR}, {wsm::result::cert_untrusted, WS_CERT_UNTRUSTED},
        {wsm::result::cert_expired, WS_CERT_EXPIRED}, {wsm::result::cert_not_yet_valid, WS_CERT_NOT_YET_VALID},
        {wsm::result::cert_wrong_host, WS_CERT_WRONG_HOST}, {wsm::result::cert_pin_mismatch, WS_CERT_PIN_MISMATCH},
        {wsm::result::cert_invalid, WS_CERT_INVALID}, {wsm::result::tls_alert, WS_TLS_ALERT},
        {wsm::result::tls_version, WS_TLS_VERSION}, {wsm::result::tls_corrupt, WS_TLS_CORRUPT},
        {wsm::result::tls_truncated, WS_TLS_TRUNCATED},
        {wsm::result::handshake_error, WS_HANDSHAKE_ERROR}, {wsm::result::http_status, WS_HTTP_STATUS},
        {wsm::result::bad_accept, WS_BAD_ACCEPT}, {wsm::result::bad_response, WS_BAD_RESPONSE},
        {wsm::result::subprotocol, WS_SUBPROTOCOL}, {wsm::result::extension, WS_EXTENSION},
        {wsm::result::header_too_large, WS_HEADER_TOO_LARGE}, {wsm::result::protocol_error, WS_PROTOCOL_ERROR},
        {wsm::result::invalid_utf8, WS_INVALID_UTF8}, {wsm::result::message_too_big, WS_MESSAGE_TOO_BIG},
        {wsm::result::frame_too_big, WS_FRAME_TOO_BIG}, {wsm::result::already_closed, WS_ALREADY_CLOSED},
        {wsm::result::connection_lost, WS_CONNECTION_LOST}, {wsm::result::timeout, WS_TIMEOUT},
        {wsm::result::proxy_auth_required, WS_PROXY_AUTH_REQUIRED}, {wsm::result::proxy_refused, WS_PROXY_REFUSED},
        {wsm::result::proxy_bad_response, WS_PROXY_BAD_RESPONSE}, {wsm::result::proxy_closed, WS_PROXY_CLOSED},
        {wsm::result::panic, WS_PANIC},
    };
    bool same = true, described = true;
    for (const auto &p : all) {
        same = same && wsm::code(p.first) == p.second;
        described = described && std::strcmp(wsm::describe(p.first), ws_result_str(p.second)) == 0;
    }
    check(same && sizeof all / sizeof all[0] == 41, "wsm::result has the 41 codes of ws_result with their numbers");
    check(described, "wsm::describe is ws_result_str");
}

// A connection over a real socket; alternates the input and output paths per round.
struct conn {
    wsm::client c;
    socket_t s = bad_socket;
    bool eof = false;
    unsigned round = 0;

    ~conn() {
        if (s != bad_socket) close_socket(s);
    }
    // Sends what is pending (read_output on even rounds, peek/consume on odd ones).
    bool flush() {
        for (;;) {
            uint8_t buf[8192];
            const uint8_t *p = nullptr;
            size_t n = 0;
            wsm::result r = round % 2 ? c.peek_output(p, n) : c.read_output(buf, sizeof buf, n);
            if (r != wsm::result::ok || n == 0) return true;
            if (!(round % 2)) p = buf;
            size_t off = 0;
            while (off < n) {
                long k = net::send_some(s, p + off, n - off);
                if (k < 0) return false;
                if (k == 0) {
                    pollfd w{};
                    w.fd = s;
                    w.events = POLLOUT;
                    poll_fds(&w, 1, 1000);
                    continue;
                }
                off += static_cast<size_t>(k);
            }
            if (round % 2) c.consume_output(n);
        }
    }
    // One round: flush, wait up to 100 ms, feed (offer_input or prepare/commit), tick.
    wsm::result pump() {
        round++;
        if (!flush()) return wsm::result::connection_lost;
        pollfd p{};
        p.fd = s;
        p.events = POLLIN;
        poll_fds(&p, 1, 100);
        if (!eof && (p.revents & (POLLIN | POLLHUP | POLLERR))) {
            if (round % 2) {
                uint8_t *w = nullptr;
                size_t cap = 0;
                wsm::result r = c.prepare_input(w, cap);
                if (r != wsm::result::ok) return r;
                long n = net::recv_some(s, w, cap);
                if (n == -2) n = 0, p.revents = 0;
                if (n < 0) n = 0;
                eof = n == 0 && p.revents != 0;
                if (round % 4 == 1) {
                    // The combined call; the next window it lends is left unused (the
                    // next prepare_input replaces it).
                    uint8_t *next = nullptr;
                    size_t next_cap = 0;
                    r = c.commit_prepare_input(static_cast<size_t>(n), next, next_cap);
                    if (r == wsm::result::ok && next == nullptr && next_cap > 0) return wsm::result::invalid_state;
                } else {
                    r = c.commit_input(static_cast<size_t>(n));
                }
                if (r != wsm::result::ok) return r;
            } else {
                uint8_t rx[4096];
                long n = net::recv_some(s, rx, sizeof rx);
                if (n >= 0) {
                    eof = n == 0;
                    size_t off = 0, used = 0;
                    do {
                        wsm::result r = c.offer_input(rx + off, static_cast<size_t>(n) - off, used);
                        if (r != wsm::result::ok) return r;
                        off += used;
                    } while (off < static_cast<size_t>(n));
                }
            }
        }
        return c.tick(net::now_ms());
    }
    // Pumps until a message (skipping keepalive pongs it did not ask for) or a status.
    wsm::result next(wsm::message &m, const char *expect_pong = nullptr) {
        for (int i = 0; i < 300; i++) {
            wsm::result r = c.poll_message(m);
            if (r == wsm::result::ok) {
                if (m.kind == wsm::message_kind::pong && (!expect_pong || m.text() != expect_pong)) continue;
                return r;
            }
            if (r != wsm::result::need_input) return r;
            if ((r = pump()) != wsm::result::ok) return r;
        }
        return wsm::result::timeout;
    }
};

bool connect_conn(conn &k, const wsm::config &cfg, const std::string &url) {
    if (wsm::client::create(cfg, url, k.c) != wsm::result::ok) return false;
    std::string host;
    uint16_t port = 0;
    if (k.c.connect_address(host, port) != wsm::result::ok) return false;
    char tiny[4];
    size_t len = 0;
    uint16_t p2 = 0;
    check(k.c.connect_address(tiny, sizeof tiny, len, p2) == wsm::result::buffer_too_small && len == host.size() &&
              p2 == 0,
          "connect_address(buf, cap): buffer_too_small, full length, port untouched");
    check(url.find("://" + host + ":" + std::to_string(port) + "/") != std::string::npos,
          "connect_address(): " + host + " port " + std::to_string(port) + " from the URL");
    k.s = net::connect_tcp(host, std::to_string(port), 5000);
    return k.s != bad_socket;
}

void offline_checks() {
    size_t before = handles();
    check(wsm::abi_compatible() && wsm::abi_version() == WS_ABI_VERSION, "abi_compatible(): library ABI == WS_ABI_VERSION");
    check(std::string(wsm::version()) == ws_version(), "wsm::version() is ws_version()");

    wsm::config a;
    check(!a && a.handle() == 0, "a default config owns nothing");
    check(a.set_max_message_size(1) == wsm::result::invalid_handle, "a call on an empty config -> invalid_handle");
    check(wsm::config::create(a) == wsm::result::ok && a, "config::create");
    check(handles() == before + 1, "config::create made one handle");
    ws_config raw = a.handle();
    wsm::config b(std::move(a));
    check(!a && b.handle() == raw, "move construction transfers the handle and empties the source");
    wsm::config d;
    d = std::move(b);
    check(!b && d.handle() == raw && handles() == before + 1, "move assignment transfers it; still one handle");
    d = std::move(d);
    check(d.handle() == raw, "self move assignment keeps the handle");

    wsm::client c;
    wsm::result r = wsm::client::create(d, "http://not-a-websocket/", c);
    check(r == wsm::result::invalid_url && !c, "client::create with an http:// URL -> invalid_url, no handle: " + name(r));
    check(!wsm::last_error().empty(), "last_error() explains it: " + wsm::last_error());
    char small[8];
    size_t full = wsm::last_error(small, sizeof small);
    check(full == wsm::last_error().size() && std::strlen(small) == sizeof small - 1,
          "last_error(buf, cap) truncates with a NUL and returns the full length");
    check(wsm::client::create(d, std::string("ws://127.0.0.1:9/"), c) == wsm::result::ok && c,
          "client::create (std::string URL)");
    check(d.set_max_message_size(1 << 20) == wsm::result::ok, "config setters work while a client uses the config");
    check(d.set_max_queued_bytes(0) == wsm::result::invalid_config && d.set_max_queued_bytes(1 << 20) == wsm::result::ok,
          "set_max_queued_bytes: 0 -> invalid_config, 1 MiB ok");
    wsm::state st{};
    check(c.get_state(st) == wsm::result::ok && st == wsm::state::ws_handshaking, "ws:// client starts in ws_handshaking");
    ws_client rc = c.release();
    check(!c && rc != 0, "release() gives up ownership");
    wsm::client again(rc);
    again.reset();
    check(!again && again.send_text("x") == wsm::result::invalid_handle, "reset() frees; calls then -> invalid_handle");
    d.reset();
    d.reset();
    check(handles() == before, "every handle freed (no leak, no double free)");
}

void online_checks(const std::string &url, const std::string &ca) {
    const bool tls = url.rfind("wss://", 0) == 0;
    size_t before = handles();
    wsm::config cfg;
    check(wsm::config::create(cfg) == wsm::result::ok, "config::create");
    if (!ca.empty()) {
        std::ifstream f(ca, std::ios::binary);
        std::stringstream pem;
        pem << f.rdbuf();
        check(cfg.add_root_pem(pem.str()) == wsm::result::ok, "add_root_pem(string_view) with the test CA");
    }
    cfg.set_keepalive_interval(0);
    conn k;
    check(connect_conn(k, cfg, url), "client created and TCP connected to " + url);
    cfg.reset();
    wsm::message m;
    if (tls && ca.empty()) {
        wsm::result r = k.next(m);
        check(r == wsm::result::cert_untrusted, "without the test CA: cert_untrusted: " + name(r));
        check(k.c.last_error().find("certificate") != std::string::npos ||
                  k.c.last_error().find("issuer") != std::string::npos,
              "client last_error() says why: " + k.c.last_error());
        check(k.c.send_text("x") == r, "failure is sticky through the wrapper");
        k.c.reset();
        check(handles() == before, "no handle leak");
        return;
    }
    wsm::state st{};
    for (int i = 0; i < 100 && k.c.get_state(st) == wsm::result::ok && st != wsm::state::open; i++) k.pump();
    check(st == wsm::state::open, "connection open");
    uint16_t status = 0;
    check(k.c.http_status(status) == wsm::result::ok && status == 101, "http_status() == 101");
    bool insecure = true;
    check(k.c.is_insecure(insecure) == wsm::result::ok && !insecure, "is_insecure() == false");
    if (tls) {
        wsm::tls_version v{};
        check(k.c.get_tls_version(v) == wsm::result::ok && (v == wsm::tls_version::v1_3 || v == wsm::tls_version::v1_2),
              "get_tls_version()");
    }

    // Text through string_view and through pointer + length.
    const std::string t1 = "h\xc3\xa9llo from C++";
    check(k.c.send_text(t1) == wsm::result::ok, "send_text(string_view)");
    wsm::result r = k.next(m);
    check(r == wsm::result::ok && m.kind == wsm::message_kind::text && m.text() == t1, "text echo, byte-exact");
    check(k.c.send_text(t1.data(), 5) == wsm::result::ok, "send_text(ptr, len)");
    r = k.next(m);
    check(r == wsm::result::ok && m.text() == t1.substr(0, 5), "partial-buffer text echo");

    // Binary with NUL bytes, 100 KiB (several frames and TLS records).
    std::string bin(100 * 1024, '\0');
    for (size_t i = 0; i < bin.size(); i++) bin[i] = static_cast<char>((i * 7) % 251);
    check(k.c.send_binary(bin.data(), bin.size()) == wsm::result::ok, "send_binary(ptr, len) 100 KiB");
    r = k.next(m);
    check(r == wsm::result::ok && m.kind == wsm::message_kind::binary && m.size == bin.size() &&
              std::memcmp(m.data, bin.data(), bin.size()) == 0,
          "binary echo, byte-exact with NUL bytes");

    // poll_message_copy: too small first, then the size it asked for.
    check(k.c.send_binary(std::string_view("0123456789")) == wsm::result::ok, "send_binary(string_view)");
    for (int i = 0; i < 200; i++) {
        size_t pending = 0;
        k.c.pending_output(pending);
        uint8_t tiny[4];
        wsm::message_kind kind{};
        size_t len = 0;
        uint16_t cc = 0;
        r = k.c.poll_message_copy(tiny, sizeof tiny, kind, len, cc);
        if (r != wsm::result::need_input) {
            check(r == wsm::result::buffer_too_small && len == 10, "poll_message_copy: buffer_too_small, needs 10");
            char big[16] = {0};
            r = k.c.poll_message_copy(big, sizeof big, kind, len, cc);
            check(r == wsm::result::ok && kind == wsm::message_kind::binary && len == 10 &&
                      std::memcmp(big, "0123456789", 10) == 0,
                  "poll_message_copy then copies the message");
            break;
        }
        k.pump();
    }

    // Ping -> pong with the same payload.
    check(k.c.send_ping(std::string_view("are you there")) == wsm::result::ok, "send_ping");
    r = k.next(m, "are you there");
    check(r == wsm::result::ok && m.kind == wsm::message_kind::pong && m.text() == "are you there", "pong echoes the ping");

    uint64_t deadline = 0;
    check(k.c.probe(net::now_ms(), 5000) == wsm::result::ok, "probe(now, 5000 ms)");
    check(k.c.next_deadline(deadline) == wsm::result::ok && deadline != WS_NO_DEADLINE &&
              deadline <= net::now_ms() + 5000,
          "next_deadline() is the probe's");
    for (int i = 0; i < 20; i++) k.pump();  // the probe's pong arrives, uncounted
    char ch[8];
    size_t chl = 1;
    check(k.c.proxy_challenges(ch, sizeof ch, chl) == wsm::result::ok && chl == 0, "proxy_challenges(): none");
    check(k.c.trim() == wsm::result::ok, "trim()");

    // Moving a live client keeps the connection.
    wsm::client moved(std::move(k.c));
    k.c = std::move(moved);
    check(k.c && !moved, "a live client moved out and back");

    // Close: the server's close, then closed; sends after it are refused.
    check(k.c.close(1000, "bye") == wsm::result::ok, "close(1000, \"bye\")");
    r = k.next(m);
    check(r == wsm::result::ok && m.kind == wsm::message_kind::close && m.close_code == 1000 && m.text() == "bye",
          "server's close frame 1000 \"bye\"");
    r = k.next(m);
    check(r == wsm::result::closed, "then poll_message -> closed: " + name(r));
    check(k.c.send_text("late") == wsm::result::already_closed, "send after close -> already_closed");
    k.flush();
    k.c.reset();
    check(handles() == before, "no handle leak");
}

}  // namespace

int main(int argc, char **argv) {
    net::startup winsock;
    (void)winsock;
    check_codes();
    offline_checks();
    if (argc > 1) online_checks(argv[1], argc > 2 ? argv[2] : "");
    std::printf("# wrapper_test: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
