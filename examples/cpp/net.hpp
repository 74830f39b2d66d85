// A non-blocking TCP socket for the wsmachine C++ example (POSIX poll(), or WSAPoll on
// Windows): name resolution that tries every address (IPv6 and IPv4) in turn, partial
// sends, EOF, and a monotonic millisecond clock. It knows nothing about wsmachine.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
using socket_t = SOCKET;
static const socket_t bad_socket = INVALID_SOCKET;
inline int sock_error() { return WSAGetLastError(); }
inline bool would_block(int e) { return e == WSAEWOULDBLOCK || e == WSAEINPROGRESS; }
inline int poll_fds(pollfd *fds, unsigned n, int ms) { return WSAPoll(fds, n, ms); }
inline void close_socket(socket_t s) { closesocket(s); }
#else
#include <cerrno>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
using socket_t = int;
static const socket_t bad_socket = -1;
inline int sock_error() { return errno; }
inline bool would_block(int e) { return e == EAGAIN || e == EWOULDBLOCK || e == EINPROGRESS || e == EINTR; }
inline int poll_fds(pollfd *fds, unsigned n, int ms) { return poll(fds, n, ms); }
inline void close_socket(socket_t s) { close(s); }
#endif

namespace net {

/** Milliseconds from a monotonic clock (what ws_client_tick wants). */
inline uint64_t now_ms() {
    using namespace std::chrono;
    return static_cast<uint64_t>(duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count());
}

/** Winsock start-up (a no-op elsewhere). */
struct startup {
#ifdef _WIN32
    startup() {
        WSADATA d;
        WSAStartup(MAKEWORD(2, 2), &d);
    }
    ~startup() { WSACleanup(); }
#endif
};

inline bool set_nonblocking(socket_t s) {
#ifdef _WIN32
    u_long on = 1;
    return ioctlsocket(s, FIONBIO, &on) == 0;
#else
    int fl = fcntl(s, F_GETFL, 0);
    return fl >= 0 && fcntl(s, F_SETFL, fl | O_NONBLOCK) == 0;
#endif
}

/** Resolves host:port (AF_UNSPEC: IPv6 and IPv4 answers, in the resolver's order) and
 *  connects to each address in turn, non-blocking, waiting up to timeout_ms for each.
 *  Returns the connected socket or bad_socket (the reason on stderr). */
inline socket_t connect_tcp(const std::string &host, const std::string &port, int timeout_ms) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    addrinfo *list = nullptr;
    int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &list);
    if (rc != 0) {
        std::fprintf(stderr, "resolve %s:%s failed (%d)\n", host.c_str(), port.c_str(), rc);
        return bad_socket;
    }
    socket_t s = bad_socket;
    for (addrinfo *a = list; a != nullptr; a = a->ai_next) {
        const char *family = a->ai_family == AF_INET6 ? "IPv6" : "IPv4";
        s = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (s == bad_socket) {
            continue;
        }
        if (!set_nonblocking(s)) {
            close_socket(s);
            s = bad_socket;
            continue;
        }
        if (connect(s, a->ai_addr, static_cast<socklen_t>(a->ai_addrlen)) == 0) {
            std::fprintf(stderr, "connected over %s\n", family);
            break;
        }
        if (would_block(sock_error())) {
            pollfd p{};
            p.fd = s;
            p.events = POLLOUT;
            int err = 0;
            socklen_t len = sizeof err;
            if (poll_fds(&p, 1, timeout_ms) == 1 &&
                getsockopt(s, SOL_SOCKET, SO_ERROR, reinterpret_cast<char *>(&err), &len) == 0 && err == 0) {
                std::fprintf(stderr, "connected over %s\n", family);
                break;
            }
        }
        std::fprintf(stderr, "connect over %s failed; trying the next address\n", family);
        close_socket(s);
        s = bad_socket;
    }
    freeaddrinfo(list);
    if (s != bad_socket) {
        int one = 1;
        setsockopt(s, IPPROTO_TCP, TCP_NODELAY, reinterpret_cast<const char *>(&one), sizeof one);
    }
    return s;
}

/** One non-blocking send: bytes sent (may be fewer than len), 0 when the socket
 *  is full, -1 on error. */
inline long send_some(socket_t s, const uint8_t *data, size_t len) {
#ifdef _WIN32
    int n = send(s, reinterpret_cast<const char *>(data), static_cast<int>(len > 1u << 30 ? 1u << 30 : len), 0);
#else
    ssize_t n = send(s, data, len, MSG_NOSIGNAL);
#endif
    if (n >= 0) {
        return static_cast<long>(n);
    }
    return would_block(sock_error()) ? 0 : -1;
}

/** One non-blocking receive: bytes received, 0 on EOF, -2 when nothing is there yet,
 *  -1 on error. */
inline long recv_some(socket_t s, uint8_t *buf, size_t cap) {
#ifdef _WIN32
    int n = recv(s, reinterpret_cast<char *>(buf), static_cast<int>(cap > 1u << 30 ? 1u << 30 : cap), 0);
#else
    ssize_t n = recv(s, buf, cap, 0);
#endif
    if (n >= 0) {
        return static_cast<long>(n);
    }
    return would_block(sock_error()) ? -2 : -1;
}

}  // namespace net
