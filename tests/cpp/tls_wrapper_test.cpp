// tls_wrapper_test --ca CA_PEM --echo PORT --echo12 PORT --greet-eof PORT --greet-notify PORT
//
// Tests wsm::tls (include/wsmachine.hpp, the TLS object ws_tls_* without WebSocket)
// against real OpenSSL peers on 127.0.0.1 (tests/peers/tls_echo_server.py: --mode echo,
// echo --tls12-only, greet-eof, greet-notify), built with -fno-exceptions -fno-rtti
// under ASan and UBSan by scripts/test-native.sh:
//   - offline: ownership (move construction and assignment, self move, reset, release;
//     no handle leaks), create errors with their detail, the state before the
//     handshake, close before the handshake, EOF during the handshake, the handshake
//     timeout on a caller clock, is_insecure;
//   - handshake (TLS 1.3 and 1.2) with plaintext written before it completes, the
//     getters after it, echoes of 1 B to 1 MiB, byte-exact, through both buffer
//     overloads, with the pending-output limit (write takes fewer) and 64 KiB of
//     ciphertext offered at once (offer_input takes fewer while 16 KiB wait unread);
//     a live object moved mid-connection; close_notify both ways (closed);
//     an end without close_notify (tls_truncated); session resumption;
//   - certificate failures: cert_untrusted, cert_wrong_host, cert_pin_mismatch, each
//     with its last error, sticky, and the alert still handed out.
// Without arguments only the offline checks run. One "ok - " / "not ok - " line per
// check; exit status 1 on any failure.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <type_traits>

#include "../../examples/cpp/net.hpp"
#include "check.hpp"
#include "wsmachine.hpp"

static_assert(!std::is_copy_constructible<wsm::tls>::value && !std::is_copy_assignable<wsm::tls>::value,
              "wsm::tls is move-only");
static_assert(std::is_nothrow_move_constructible<wsm::tls>::value && std::is_nothrow_move_assignable<wsm::tls>::value,
              "moving a wsm::tls never throws");
static_assert(sizeof(wsm::tls) == sizeof(ws_tls), "a wsm::tls is just its handle");
static_assert(wsm::code(wsm::result::tls_truncated) == WS_TLS_TRUNCATED && wsm::is_error(wsm::result::tls_truncated),
              "tls_truncated");

namespace {
bool has(const std::string &s, const char *part) { return s.find(part) != std::string::npos; }
std::string pattern(size_t n, unsigned seed) {
    std::string s(n, '\0');
    for (size_t i = 0; i < n; i++) s[i] = static_cast<char>((i * 31 + i / 251 + seed) & 0xff);
    return s;
}

// One TLS connection over a non-blocking loopback socket, pumped by hand.
struct conn {
    wsm::tls t;
    socket_t s = bad_socket;
    std::string to_write;    // plaintext not yet taken by write()
    std::string got;         // plaintext read
    std::string rx;          // ciphertext received but not yet offered
    uint8_t tx[16384];       // ciphertext read out but not yet sent: tx[tx_off..tx_len]
    size_t tx_off = 0, tx_len = 0;
    bool eof = false, eof_offered = false;
    wsm::result end = wsm::result::ok;  // closed or tls_truncated once read() said so
    size_t hold = 0;         // offer only once rx holds min(hold, expect - got) bytes
    size_t expect = 0;
    size_t partial_offers = 0, partial_writes = 0, largest_offer = 0;

    conn() = default;
    conn(const conn &) = delete;
    conn &operator=(const conn &) = delete;
    ~conn() {
        if (s != bad_socket) close_socket(s);
    }

    // read() until need_input; closed / tls_truncated end the stream.
    wsm::result read_all() {
        for (;;) {
            uint8_t buf[16384];
            size_t n = 0;
            wsm::result r = t.read(buf, sizeof buf, n);
            if (r == wsm::result::ok) {
                got.append(reinterpret_cast<const char *>(buf), n);
                continue;
            }
            if (r == wsm::result::need_input) return wsm::result::ok;
            if (r == wsm::result::closed || r == wsm::result::tls_truncated) {
                end = r;
                return wsm::result::ok;
            }
            return r;
        }
    }
    // One round: write, tick, drain (non-blocking), wait up to 50 ms, receive, offer, read.
    wsm::result pump() {
        wsm::result r;
        if (!to_write.empty()) {
            size_t taken = 0;
            if ((r = t.write(to_write, taken)) != wsm::result::ok) return r;
            if (taken < to_write.size()) partial_writes++;
            to_write.erase(0, taken);
        }
        if ((r = t.tick(net::now_ms())) != wsm::result::ok) return r;
        for (;;) {
            if (tx_off == tx_len) {
                tx_off = tx_len = 0;
                if ((r = t.read_output(tx, sizeof tx, tx_len)) != wsm::result::ok) return r;
                if (tx_len == 0) break;
            }
            long k = net::send_some(s, tx + tx_off, tx_len - tx_off);
            if (k < 0) return wsm::result::connection_lost;
            if (k == 0) break;
            tx_off += static_cast<size_t>(k);
        }
        pollfd p{};
        p.fd = s;
        p.events = static_cast<short>(POLLIN | (tx_off < tx_len ? POLLOUT : 0));
        poll_fds(&p, 1, 50);
        while (!eof && (p.revents & (POLLIN | POLLHUP | POLLERR))) {
            uint8_t buf[65536];
            long n = net::recv_some(s, buf, sizeof buf);
            if (n == -2) break;
            if (n <= 0) {
                eof = true;  // a reset ends the stream like EOF
                break;
            }
            rx.append(reinterpret_cast<const char *>(buf), static_cast<size_t>(n));
            if (rx.size() >= (1u << 20)) break;
        }
        size_t want = expect > got.size() ? std::min(hold, expect - got.size()) : 0;
        if (rx.empty() || (rx.size() < want && !eof)) return read_all();
        largest_offer = std::max(largest_offer, rx.size());
        while (!rx.empty()) {
            size_t used = 0;
            if ((r = t.offer_input(rx.data(), rx.size(), used)) != wsm::result::ok) return r;
            if (used < rx.size()) partial_offers++;
            rx.erase(0, used);
            if ((r = read_all()) != wsm::result::ok) return r;
        }
        if (eof && !eof_offered) {
            size_t used = 0;
            eof_offered = true;
            if ((r = t.offer_input(nullptr, 0, used)) != wsm::result::ok) return r;
        }
        return read_all();
    }
    // Pumps until done() or a failure (returned), for at most ~15 s.
    template <class F>
    wsm::result until(F done) {
        for (int i = 0; i < 300; i++) {
            if (done()) return wsm::result::ok;
            wsm::result r = pump();
            if (r != wsm::result::ok) return r;
        }
        return done() ? wsm::result::ok : wsm::result::timeout;
    }
    wsm::state state() {
        wsm::state st = wsm::state::failed;
        t.get_state(st);
        return st;
    }
};

bool open_conn(conn &k, const wsm::config &cfg, const char *server_name, const std::string &port) {
    if (wsm::tls::create(cfg, server_name, k.t) != wsm::result::ok) return false;
    k.s = net::connect_tcp("127.0.0.1", port, 5000);
    return k.s != bad_socket;
}

std::string read_file(const std::string &path) {
    std::ifstream f(path, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

// ----------------------------------------------------------------- offline
void offline_checks(const std::string &ca_pem) {
    size_t before = handles();
    wsm::config cfg;
    check(wsm::config::create(cfg) == wsm::result::ok, "config::create");
    if (!ca_pem.empty()) cfg.add_root_pem(ca_pem);

    wsm::tls a;
    check(!a && a.handle() == 0, "a default wsm::tls owns nothing");
    size_t n = 7;
    check(a.read_output(nullptr, 0, n) == wsm::result::invalid_handle && n == 7,
          "a call on an empty wsm::tls -> invalid_handle, out-param untouched");

    wsm::config none;
    wsm::result r = wsm::tls::create(none, "localhost", a);
    check(r == wsm::result::invalid_handle && !a, "tls::create with an empty config -> invalid_handle: " + name(r));
    r = wsm::tls::create(cfg, "not a host name!", a);
    check(r == wsm::result::invalid_argument && !a, "tls::create(\"not a host name!\") -> invalid_argument: " + name(r));
    check(!wsm::last_error().empty(), "wsm::last_error() explains it: " + wsm::last_error());
    r = wsm::tls::create(cfg, static_cast<const char *>(nullptr), a);
    check(r == wsm::result::null_pointer && !a, "tls::create(nullptr) -> null_pointer: " + name(r));

    check(wsm::tls::create(cfg, std::string("localhost"), a) == wsm::result::ok && a, "tls::create(std::string)");
    check(handles() == before + 2, "config + tls: two handles");
    wsm::state st{};
    check(a.get_state(st) == wsm::result::ok && st == wsm::state::tls_handshaking, "get_state(): tls_handshaking");
    bool wants = false;
    check(a.wants_write(wants) == wsm::result::ok && wants, "wants_write(): the ClientHello is ready at once");
    wsm::tls_version v = wsm::tls_version::v1_3;
    check(a.protocol_version(v) == wsm::result::ok && static_cast<uint32_t>(v) == 0,
          "protocol_version(): 0 before the handshake");
    check(a.cipher_suite().empty(), "cipher_suite(): \"\" before the handshake");
    bool flag = true;
    check(a.is_insecure(flag) == wsm::result::ok && !flag, "is_insecure(): false (verification on)");
    check(a.is_resumed(flag) == wsm::result::ok && !flag, "is_resumed(): false");
    r = a.close();
    check(r == wsm::result::invalid_state, "close() before the handshake -> invalid_state: " + name(r));
    check(!a.last_error().empty(), "last_error() says why: " + a.last_error());
    char small[8];
    size_t len = 0;
    check(a.last_error(small, sizeof small, len) == wsm::result::ok && len == a.last_error().size() &&
              std::strlen(small) == sizeof small - 1,
          "last_error(buf, cap): truncated with a NUL, full length");
    uint8_t hello[4096];
    check(a.read_output(hello, sizeof hello, len) == wsm::result::ok && len > 5 && hello[0] == 22,
          "read_output(): a TLS handshake record (the ClientHello)");
    check(a.wants_write(wants) == wsm::result::ok && !wants, "wants_write(): false once drained");

    // Move construction, move assignment (frees what the target held), self move.
    ws_tls raw = a.handle();
    wsm::tls b(std::move(a));
    check(!a && b.handle() == raw, "move construction transfers the handle and empties the source");
    wsm::tls c;
    check(wsm::tls::create(cfg, "localhost", c) == wsm::result::ok && handles() == before + 3, "a second tls");
    c = std::move(b);
    check(!b && c.handle() == raw && handles() == before + 2, "move assignment frees the target's old handle");
    c = std::move(c);
    check(c.handle() == raw && c.get_state(st) == wsm::result::ok, "self move assignment keeps the handle");

    // EOF during the handshake fails, sticky; the handle stays valid until reset.
    size_t used = 1;
    r = c.offer_input(nullptr, 0, used);
    check(r == wsm::result::connection_lost, "offer_input(EOF) during the handshake -> connection_lost: " + name(r));
    check(c.write("x", used) == r && c.get_state(st) == wsm::result::ok && st == wsm::state::failed,
          "sticky: write() returns it, get_state() failed");
    ws_tls released = c.release();
    check(!c && released != 0 && handles() == before + 2, "release() gives up ownership");
    wsm::tls again(released);
    again.reset();
    again.reset();
    check(!again && handles() == before + 1, "reset() frees (twice is harmless)");
    check(again.tick(1) == wsm::result::invalid_handle, "calls after reset -> invalid_handle");

    // The handshake timeout on the caller's clock.
    cfg.set_handshake_timeout(1000);
    wsm::tls t;
    check(wsm::tls::create(cfg, "localhost", t) == wsm::result::ok, "tls::create with a 1 s handshake timeout");
    uint64_t d = 1;
    check(t.next_deadline(d) == wsm::result::ok && d == 0, "next_deadline(): 0 before the first tick");
    check(t.tick(5000) == wsm::result::ok && t.next_deadline(d) == wsm::result::ok && d == 6000,
          "tick(5000) starts the clock: next_deadline() == 6000");
    check(t.tick(5999) == wsm::result::ok, "tick(5999): still in time");
    r = t.tick(6000);
    check(r == wsm::result::timeout, "tick(6000) -> timeout: " + name(r));
    check(has(t.last_error(), "handshake"), "last_error(): " + t.last_error());
    t.reset();

    // Verification off, under its unmistakable name.
    wsm::config danger;
    wsm::config::create(danger);
    danger.dangerous_disable_certificate_verification();
    check(wsm::tls::create(danger, "127.0.0.1", t) == wsm::result::ok && t.is_insecure(flag) == wsm::result::ok && flag,
          "is_insecure(): true with dangerous_disable_certificate_verification (IP literal name)");
    t.reset();
    danger.reset();
    cfg.reset();
    check(handles() == before, "offline: every handle freed");
}

// ----------------------------------------------------------------- online
bool echo(conn &k, const std::string &data, bool pointer_overload, const std::string &what) {
    k.got.clear();
    k.expect = data.size();
    if (pointer_overload) {
        size_t taken = 0;
        wsm::result r = k.t.write(data.data(), data.size(), taken);
        if (r != wsm::result::ok) {
            check(false, what + ": write -> " + name(r));
            return false;
        }
        k.to_write = data.substr(taken);
        if (taken < data.size()) k.partial_writes++;
    } else {
        k.to_write = data;
    }
    wsm::result r = k.until([&] { return k.got.size() >= data.size() || k.end != wsm::result::ok; });
    bool same = r == wsm::result::ok && k.got == data;
    check(same, what + (same ? "" : ": " + name(r) + ", got " + std::to_string(k.got.size()) + " bytes"));
    k.expect = 0;
    return same;
}

// close(): our close_notify, the server's answer, then closed.
void close_both(conn &k, const std::string &what) {
    check(k.t.close() == wsm::result::ok, what + ": close() (close_notify)");
    check(k.t.close() == wsm::result::ok, what + ": close() again does nothing");
    size_t taken = 9;
    wsm::result r = k.t.write("late", taken);
    check(r == wsm::result::already_closed && taken == 9, what + ": write after close -> already_closed: " + name(r));
    r = k.until([&] { return k.end != wsm::result::ok; });
    check(r == wsm::result::ok && k.end == wsm::result::closed,
          what + ": the server's close_notify: read() -> closed: " + name(k.end));
    r = k.until([&] { return k.state() == wsm::state::closed; });
    check(r == wsm::result::ok, what + ": get_state() closed once both ended and the output is drained");
}

void tls13_checks(const std::string &ca_pem, const std::string &port) {
    size_t before = handles();
    wsm::config cfg;
    wsm::config::create(cfg);
    check(cfg.add_root_pem(ca_pem.data(), ca_pem.size()) == wsm::result::ok, "add_root_pem(ptr, len) with the test CA");
    check(cfg.set_max_pending_output(64 * 1024) == wsm::result::ok, "set_max_pending_output(64 KiB)");

    conn k;
    check(open_conn(k, cfg, "localhost", port), "tls::create(\"localhost\") and TCP to the echo server :" + port);
    uint64_t d = 1;
    size_t taken = 0;
    check(k.t.write(std::string_view("early "), taken) == wsm::result::ok && taken == 6,
          "write(string_view) before the handshake is buffered (6 of 6 taken)");
    wsm::result r = k.until([&] { return k.state() != wsm::state::tls_handshaking; });
    check(r == wsm::result::ok && k.state() == wsm::state::open, "TLS handshake with OpenSSL: open: " + name(r));
    wsm::tls_version v{};
    check(k.t.protocol_version(v) == wsm::result::ok && v == wsm::tls_version::v1_3, "protocol_version(): v1_3");
    std::string suite = k.t.cipher_suite();
    char sbuf[8];
    size_t slen = 0;
    check(has(suite, "TLS13_") && k.t.cipher_suite(sbuf, sizeof sbuf, slen) == wsm::result::ok && slen == suite.size() &&
              std::strncmp(sbuf, suite.c_str(), sizeof sbuf - 1) == 0,
          "cipher_suite(): " + suite + " (and the truncating buffer form)");
    bool flag = true;
    check(k.t.is_resumed(flag) == wsm::result::ok && !flag, "is_resumed(): false on the first connection");
    check(k.t.is_insecure(flag) == wsm::result::ok && !flag, "is_insecure(): false");
    check(k.t.next_deadline(d) == wsm::result::ok && d == WS_NO_DEADLINE, "next_deadline(): none after the handshake");

    k.expect = 6;
    r = k.until([&] { return k.got.size() >= 6; });
    check(r == wsm::result::ok && k.got == "early ", "the plaintext written before the handshake is echoed");

    echo(k, "x", false, "echo 1 byte");
    echo(k, pattern(1000, 1), true, "echo 1000 bytes (write(ptr, len))");
    echo(k, pattern(16385, 2), false, "echo 16385 bytes (two records)");
    echo(k, pattern(100000, 3), true, "echo 100000 bytes");
    k.partial_writes = k.partial_offers = k.largest_offer = 0;
    k.hold = 64 * 1024;
    echo(k, pattern(1 << 20, 4), true, "echo 1 MiB, ciphertext offered 64 KiB at a time");
    k.hold = 0;
    check(k.partial_writes > 0, "write() took fewer bytes than given at the 64 KiB pending-output limit (" +
                                    std::to_string(k.partial_writes) + " times), the rest later");
    check(k.largest_offer >= 64 * 1024 && k.partial_offers > 0,
          "offer_input() took fewer bytes than offered while 16 KiB waited unread (" +
              std::to_string(k.partial_offers) + " times, largest offer " + std::to_string(k.largest_offer) +
              "), the rest after read()");

    // A live object moved out and back mid-connection keeps the connection.
    ws_tls raw = k.t.handle();
    wsm::tls elsewhere(std::move(k.t));
    check(!k.t && elsewhere.handle() == raw, "a live wsm::tls moved out (construction)");
    k.t = std::move(elsewhere);
    check(k.t.handle() == raw && !elsewhere && handles() == before + 2,
          "and back (assignment); still one tls handle (and the config)");
    echo(k, "after the move", false, "echo after the moves");

    close_both(k, "TLS 1.3");
    k.t.reset();

    // A second connection of the same config resumes the session (tickets arrived above).
    conn k2;
    check(open_conn(k2, cfg, "localhost", port), "second connection of the same config");
    r = k2.until([&] { return k2.state() != wsm::state::tls_handshaking; });
    check(r == wsm::result::ok && k2.state() == wsm::state::open, "second connection: open: " + name(r));
    echo(k2, "ping", false, "second connection: echo");
    check(k2.t.is_resumed(flag) == wsm::result::ok && flag, "is_resumed(): true (session resumption)");
    close_both(k2, "second connection");
    k2.t.reset();
    cfg.reset();
    check(handles() == before, "TLS 1.3: every handle freed");
}

void tls12_checks(const std::string &ca_pem, const std::string &port) {
    size_t before = handles();
    wsm::config cfg;
    wsm::config::create(cfg);
    cfg.add_root_pem(ca_pem);
    conn k;
    check(open_conn(k, cfg, "127.0.0.1", port), "tls::create(\"127.0.0.1\") (IP literal) to the TLS 1.2 server");
    cfg.reset();  // the object keeps what it needs
    wsm::result r = k.until([&] { return k.state() != wsm::state::tls_handshaking; });
    check(r == wsm::result::ok && k.state() == wsm::state::open, "TLS 1.2 handshake: open: " + name(r));
    wsm::tls_version v{};
    check(k.t.protocol_version(v) == wsm::result::ok && v == wsm::tls_version::v1_2, "protocol_version(): v1_2");
    std::string suite = k.t.cipher_suite();
    check(has(suite, "TLS_ECDHE_"), "cipher_suite(): " + suite);
    echo(k, pattern(100000, 5), true, "TLS 1.2: echo 100000 bytes");
    close_both(k, "TLS 1.2");
    k.t.reset();
    check(handles() == before, "TLS 1.2: every handle freed");
}

void end_checks(const std::string &ca_pem, const std::string &eof_port, const std::string &notify_port) {
    size_t before = handles();
    wsm::config cfg;
    wsm::config::create(cfg);
    cfg.add_root_pem(ca_pem);
    {
        conn k;
        check(open_conn(k, cfg, "localhost", eof_port), "greet-eof server");
        wsm::result r = k.until([&] { return k.end != wsm::result::ok; });
        check(r == wsm::result::ok && k.got == "hello\n" && k.end == wsm::result::tls_truncated,
              "an end without close_notify: \"hello\\n\" then read() -> tls_truncated: " + name(k.end));
        check(has(k.t.last_error(), "close_notify"), "last_error(): " + k.t.last_error());
        uint8_t b[8];
        size_t n = 0;
        check(k.t.read(b, sizeof b, n) == wsm::result::tls_truncated && k.state() != wsm::state::failed,
              "tls_truncated stays; the state is not failed");
    }
    {
        conn k;
        check(open_conn(k, cfg, "localhost", notify_port), "greet-notify server");
        wsm::result r = k.until([&] { return k.end != wsm::result::ok; });
        check(r == wsm::result::ok && k.got == "hello\n" && k.end == wsm::result::closed,
              "the server's close_notify first: \"hello\\n\" then read() -> closed: " + name(k.end));
        check(k.state() == wsm::state::closing, "get_state(): closing (our side still open)");
        check(k.t.close() == wsm::result::ok, "close() answers with close_notify");
        r = k.until([&] { return k.state() == wsm::state::closed; });
        check(r == wsm::result::ok, "get_state(): closed once the answer is drained");
    }
    cfg.reset();
    check(handles() == before, "ends: every handle freed");
}

// A certificate failure: its code from offer_input, the detail, sticky, the alert out.
void cert_failure(const wsm::config &cfg, const char *server_name, const std::string &port, wsm::result want,
                  const char *detail, const std::string &what) {
    conn k;
    check(open_conn(k, cfg, server_name, port), what + ": connected");
    wsm::result r = k.until([&] { return false; });
    check(r == want, what + ": offer_input -> " + name(r));
    std::string e = k.t.last_error();
    check(has(e, detail), what + ": last_error(): " + e);
    size_t taken = 0;
    uint8_t b[16];
    size_t n = 0;
    check(k.t.write("x", taken) == want && k.t.read(b, sizeof b, n) == want && k.t.tick(net::now_ms()) == want &&
              k.state() == wsm::state::failed,
          what + ": sticky (write, read, tick return it; failed)");
    // The alert telling the server why is still handed out, then the failure.
    std::string alert;
    for (;;) {
        n = 5;
        r = k.t.read_output(b, sizeof b, n);
        if (r != wsm::result::ok || n == 0) break;
        alert.append(reinterpret_cast<const char *>(b), n);
    }
    check(alert.size() >= 7 && r == want && n == 0,
          what + ": read_output hands out the alert (" + std::to_string(alert.size()) +
              " bytes), then the failure with len 0 (the documented exception)");
    net::send_some(k.s, reinterpret_cast<const uint8_t *>(alert.data()), alert.size());
}

void cert_checks(const std::string &ca_pem, const std::string &port) {
    size_t before = handles();
    wsm::config builtin;  // the built-in roots only
    wsm::config::create(builtin);
    cert_failure(builtin, "localhost", port, wsm::result::cert_untrusted, "certificate", "without the test CA");
    builtin.reset();

    wsm::config cfg;
    wsm::config::create(cfg);
    cfg.add_root_pem(ca_pem);
    cert_failure(cfg, "wrong.example", port, wsm::result::cert_wrong_host, "wrong.example",
                 "server_name \"wrong.example\"");

    const uint8_t zeros[32] = {0};
    check(cfg.add_pin_sha256(zeros, sizeof zeros) == wsm::result::ok, "add_pin_sha256(32 zero bytes)");
    cert_failure(cfg, "localhost", port, wsm::result::cert_pin_mismatch, "pin", "a pin nothing matches");
    cfg.reset();
    check(handles() == before, "certificate failures: every handle freed");
}

}  // namespace

int main(int argc, char **argv) {
    net::startup winsock;
    (void)winsock;
    std::string ca, echo13, echo12, greet_eof, greet_notify;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string k = argv[i], v = argv[i + 1];
        if (k == "--ca") ca = v;
        else if (k == "--echo") echo13 = v;
        else if (k == "--echo12") echo12 = v;
        else if (k == "--greet-eof") greet_eof = v;
        else if (k == "--greet-notify") greet_notify = v;
        else {
            std::fprintf(stderr, "unknown argument %s\n", k.c_str());
            return 2;
        }
    }
    std::string ca_pem = ca.empty() ? std::string() : read_file(ca);
    if (!ca.empty()) check(has(ca_pem, "BEGIN CERTIFICATE"), "read the test CA " + ca);
    offline_checks(ca_pem);
    if (!ca_pem.empty() && !echo13.empty()) {
        tls13_checks(ca_pem, echo13);
        cert_checks(ca_pem, echo13);
    }
    if (!ca_pem.empty() && !echo12.empty()) tls12_checks(ca_pem, echo12);
    if (!ca_pem.empty() && !greet_eof.empty() && !greet_notify.empty()) end_checks(ca_pem, greet_eof, greet_notify);
    std::printf("# tls_wrapper_test: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
