// echo_client URL [CA_PEM_FILE] [MESSAGE...]
//
// A complete wsmachine client in C++17 (include/wsmachine.hpp) over a real
// non-blocking socket: resolves the host (IPv6 and IPv4 addresses in turn), connects,
// sends each MESSAGE (default: "hello", "wsmachine") once the connection is open,
// prints every echo, then closes with 1000 "bye" and waits for the server's close.
// The loop is the one of wsmachine.h: feed what the socket received, poll messages
// until none is left, tick the timers, send what the library produced (partial sends
// keep the rest for when poll() says the socket is writable). Exit status 0 after a
// clean close with every echo received.
//
//   cmake -S examples/cpp -B build -DCMAKE_PREFIX_PATH=$PWD/dist && cmake --build build
//   build/echo_client wss://echo.example.org/ "hi there"
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "net.hpp"
#include "wsmachine.hpp"

namespace {

int fail(const char *what, wsm::result r, const std::string &detail) {
    std::fprintf(stderr, "%s: %s (%u): %s\n", what, wsm::describe(r), wsm::code(r), detail.c_str());
    return 1;
}

}  // namespace

int main(int argc, char **argv) {
    std::setvbuf(stdout, nullptr, _IOLBF, 1024);  // a line at a time, also into a pipe
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s ws[s]://host[:port]/path [CA_PEM_FILE] [MESSAGE...]\n", argv[0]);
        return 2;
    }
    if (!wsm::abi_compatible()) {
        std::fprintf(stderr, "libwsmachine has ABI %u, this program was built for %u\n", wsm::abi_version(),
                     static_cast<unsigned>(WS_ABI_VERSION));
        return 1;
    }
    const std::string url = argv[1];
    std::vector<std::string> to_send;
    int first_msg = 2;
    wsm::config cfg;
    wsm::result r = wsm::config::create(cfg);
    if (r != wsm::result::ok) {
        return fail("ws_config_new", r, wsm::last_error());
    }
    if (argc > 2 && std::string(argv[2]).find(".pem") != std::string::npos) {
        std::ifstream f(argv[2], std::ios::binary);
        std::stringstream pem;
        pem << f.rdbuf();
        if (!f || (r = cfg.add_root_pem(pem.str())) != wsm::result::ok) {
            return fail("ws_config_add_root_pem", r, wsm::last_error());
        }
        first_msg = 3;
    }
    for (int i = first_msg; i < argc; i++) {
        to_send.emplace_back(argv[i]);
    }
    if (to_send.empty()) {
        to_send = {"hello", "wsmachine"};
    }

    wsm::client c;
    if ((r = wsm::client::create(cfg, url, c)) != wsm::result::ok) {
        return fail("ws_client_new", r, wsm::last_error());
    }
    cfg.reset();  // the client keeps what it needs

    // Where to connect: the URL's host and port (or the proxy's, with ws_config_set_proxy).
    std::string host;
    uint16_t port = 0;
    if ((r = c.connect_address(host, port)) != wsm::result::ok) {
        return fail("ws_client_connect_address", r, c.last_error());
    }
    net::startup winsock;
    (void)winsock;
    socket_t s = net::connect_tcp(host, std::to_string(port), 5000);
    if (s == bad_socket) {
        return 1;
    }

    size_t echoes = 0;
    bool sent = false, eof = false, clean = false;
    uint8_t rx[16384];
    for (;;) {
        // 4. send what the library produced, as far as the socket takes it.
        bool blocked = false;
        const uint8_t *out = nullptr;
        size_t out_len = 0;
        while ((r = c.peek_output(out, out_len)) == wsm::result::ok && out_len > 0) {
            long n = net::send_some(s, out, out_len);
            if (n < 0) {
                std::fprintf(stderr, "send failed\n");
                close_socket(s);
                return 1;
            }
            if (n == 0) {
                blocked = true;  // socket full: wait for POLLOUT
                break;
            }
            c.consume_output(static_cast<size_t>(n));
        }
        if (clean || (eof && !blocked)) {
            break;
        }

        // Wait for the socket or the library's next deadline.
        uint64_t deadline = WS_NO_DEADLINE;
        c.next_deadline(deadline);
        uint64_t now = net::now_ms();
        int wait_ms = deadline == WS_NO_DEADLINE ? 1000 : (deadline <= now ? 0 : static_cast<int>(deadline - now));
        pollfd p{};
        p.fd = s;
        p.events = static_cast<short>(POLLIN | (blocked ? POLLOUT : 0));
        if (poll_fds(&p, 1, wait_ms) < 0) {
            std::fprintf(stderr, "poll failed\n");
            break;
        }

        // 1. feed what arrived (0 bytes: the server closed its end).
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            long n = net::recv_some(s, rx, sizeof rx);
            if (n >= 0) {
                eof = n == 0;
                size_t off = 0, used = 0;
                do {
                    r = c.offer_input(rx + off, static_cast<size_t>(n) - off, used);
                    off += used;
                } while (r == wsm::result::ok && off < static_cast<size_t>(n));
            } else if (n == -1) {
                eof = true;
                size_t used = 0;
                c.offer_input(nullptr, 0, used);
            }
        }

        // 2. poll messages until none is left.
        wsm::message m;
        while ((r = c.poll_message(m)) == wsm::result::ok) {
            if (m.kind == wsm::message_kind::text || m.kind == wsm::message_kind::binary) {
                std::printf("echo: %.*s\n", static_cast<int>(m.size), reinterpret_cast<const char *>(m.data));
                if (++echoes == to_send.size()) {
                    c.close(1000, "bye");
                }
            } else if (m.kind == wsm::message_kind::close) {
                std::printf("server closed: %u %.*s\n", m.close_code, static_cast<int>(m.size),
                            reinterpret_cast<const char *>(m.data));
            }
        }
        if (r == wsm::result::closed) {
            clean = true;  // drain the last bytes, then stop
        } else if (wsm::is_error(r)) {
            close_socket(s);
            return fail("connection failed", r, c.last_error());
        }

        // Once open, queue the messages (their bytes leave through step 4).
        wsm::state st = wsm::state::tls_handshaking;
        if (!sent && c.get_state(st) == wsm::result::ok && st == wsm::state::open) {
            for (const std::string &msg : to_send) {
                if ((r = c.send_text(msg)) != wsm::result::ok) {  // e.g. invalid_utf8
                    close_socket(s);
                    return fail("ws_send_text", r, c.last_error());
                }
                std::printf("sent: %s\n", msg.c_str());
            }
            sent = true;
        }

        // 3. time: keepalive pings, handshake/close timeouts.
        if (wsm::is_error(r = c.tick(net::now_ms()))) {
            close_socket(s);
            return fail("timer", r, c.last_error());
        }
    }
    close_socket(s);
    if (clean && echoes == to_send.size()) {
        std::printf("closed cleanly after %zu echoes\n", echoes);
        return 0;
    }
    std::fprintf(stderr, "connection ended after %zu of %zu echoes (%s)\n", echoes, to_send.size(),
                 clean ? "clean close" : "no clean close");
    return 1;
}
