/*
 * Shared helpers for the wsmachine C tests: TAP-like check lines, a monotonic
 * clock with an overall deadline, loopback TCP sockets, and the sans-IO pump loop
 * exactly as the comment at the top of wsmachine.h describes it:
 *
 *   1. feed socket bytes with ws_offer_input (0 bytes = EOF), polling messages
 *      (or, with use_window, recv() into ws_prepare_input and ws_commit_input)
 *      until WS_NEED_INPUT after every offer;
 *   2. ws_client_tick with clock_gettime(CLOCK_MONOTONIC) in ms
 *      (QueryPerformanceCounter on Windows);
 *   3. drain ws_read_output until it gives 0 bytes, keeping whatever a partial
 *      (non-blocking) socket write left for the next round.
 *
 * Header-only (static functions); include it first in each test program. Only the
 * public API from wsmachine.h is used. Builds on Linux, macOS and Windows (see
 * "portability" below).
 *
 * Output: one line per check, "ok - <name>" or "not ok - <name>"; a known library
 * bug is reported as "not ok - <name> # TODO <why>" (counted apart by
 * scripts/test-c.sh). Diagnostics start with "# ".
 */
#ifndef WSM_TEST_UTIL_H
#define WSM_TEST_UTIL_H

#if !defined(_WIN32) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ portability
 *
 * The tests use BSD sockets, poll and a monotonic clock. On Windows (mingw-w64 or
 * MSVC; tests/c/ runs under wine in scripts/test-cross.sh) this small layer maps them
 * to Winsock 2 (WSAStartup, WSAPoll, ioctlsocket FIONBIO, closesocket) and
 * QueryPerformanceCounter. Sockets are kept in an `int`: a Windows SOCKET is a kernel
 * handle, and handles are 32-bit significant on 64-bit Windows.
 *
 *   sock_init()                 once per process (WSAStartup); 0 on success
 *   sock_close(fd), sock_set_nonblocking(fd)
 *   sock_send(fd, buf, n), sock_recv(fd, buf, n)   -> bytes, or -1 and sock_error()
 *   sock_poll(pollfd *, n, ms)  poll / WSAPoll
 *   sock_error()                errno / WSAGetLastError()
 *   sock_would_block(e), sock_interrupted(e)
 *   sleep_ms(ms), now_ms()
 */
#ifdef _WIN32
#ifndef _WIN32_WINNT
#define _WIN32_WINNT 0x0600 /* Vista: WSAPoll */
#endif
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#undef near /* <windows.h> legacy macros that clash with ordinary names */
#undef far
#ifdef _MSC_VER
#include <BaseTsd.h>
typedef SSIZE_T ssize_t;
#endif

static inline int sock_init(void)
{
    static int started;
    WSADATA wsa;
    if (!started && WSAStartup(MAKEWORD(2, 2), &wsa) != 0) {
        return -1;
    }
    started = 1;
    return 0;
}
typedef int wsm_socklen;
static inline SOCKET os_sock(int fd) { return (SOCKET)(intptr_t)fd; }
static inline void sock_close(int fd) { closesocket(os_sock(fd)); }
static inline int sock_set_nonblocking(int fd)
{
    u_long on = 1;
    return ioctlsocket(os_sock(fd), FIONBIO, &on) == 0 ? 0 : -1;
}
static inline ssize_t sock_send(int fd, const uint8_t *buf, size_t n)
{
    return send(os_sock(fd), (const char *)buf, n > INT_MAX ? INT_MAX : (int)n, 0);
}
static inline ssize_t sock_recv(int fd, uint8_t *buf, size_t n)
{
    return recv(os_sock(fd), (char *)buf, n > INT_MAX ? INT_MAX : (int)n, 0);
}
static inline int sock_poll(struct pollfd *p, unsigned n, int ms) { return WSAPoll(p, n, ms); }
static inline int sock_error(void) { return WSAGetLastError(); }
static inline int sock_would_block(int e) { return e == WSAEWOULDBLOCK; }
static inline int sock_interrupted(int e) { return e == WSAEINTR; }
static inline void sleep_ms(int ms) { Sleep((DWORD)ms); }

#else /* POSIX */
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0 /* macOS: SO_NOSIGPIPE is set on the socket instead */
#endif

typedef socklen_t wsm_socklen;
static inline int sock_init(void) { return 0; }
static inline int os_sock(int fd) { return fd; }
static inline void sock_close(int fd) { close(fd); }
static inline int sock_set_nonblocking(int fd)
{
    int fl = fcntl(fd, F_GETFL, 0);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}
static inline ssize_t sock_send(int fd, const uint8_t *buf, size_t n) { return send(fd, buf, n, MSG_NOSIGNAL); }
static inline ssize_t sock_recv(int fd, uint8_t *buf, size_t n) { return recv(fd, buf, n, 0); }
static inline int sock_poll(struct pollfd *p, unsigned n, int ms) { return poll(p, (nfds_t)n, ms); }
static inline int sock_error(void) { return errno; }
static inline int sock_would_block(int e) { return e == EAGAIN || e == EWOULDBLOCK; }
static inline int sock_interrupted(int e) { return e == EINTR; }
static inline void sleep_ms(int ms) { poll(NULL, 0, ms); }
#endif

#include "wsmachine.h"

/* ------------------------------------------------------------------ result codes */

/* Every ws_result code in wsmachine.h (scripts/test-c.sh checks that none is
 * missing). */
typedef struct {
    uint32_t code;
    const char *name;
} code_entry;

#define RC(x) {(uint32_t)(x), #x}
static const code_entry ALL_CODES[] = {
    RC(WS_OK),
    RC(WS_NEED_INPUT),
    RC(WS_CLOSED),
    RC(WS_NULL_POINTER),
    RC(WS_INVALID_HANDLE),
    RC(WS_INVALID_STATE),
    RC(WS_BUFFER_TOO_SMALL),
    RC(WS_INVALID_ARGUMENT),
    RC(WS_INVALID_URL),
    RC(WS_INVALID_CONFIG),
    RC(WS_OUTPUT_FULL),
    RC(WS_TLS_ERROR),
    RC(WS_CERT_UNTRUSTED),
    RC(WS_CERT_EXPIRED),
    RC(WS_CERT_NOT_YET_VALID),
    RC(WS_CERT_WRONG_HOST),
    RC(WS_CERT_PIN_MISMATCH),
    RC(WS_CERT_INVALID),
    RC(WS_TLS_ALERT),
    RC(WS_TLS_VERSION),
    RC(WS_TLS_CORRUPT),
    RC(WS_TLS_TRUNCATED),
    RC(WS_HANDSHAKE_ERROR),
    RC(WS_HTTP_STATUS),
    RC(WS_BAD_ACCEPT),
    RC(WS_BAD_RESPONSE),
    RC(WS_SUBPROTOCOL),
    RC(WS_EXTENSION),
    RC(WS_HEADER_TOO_LARGE),
    RC(WS_PROTOCOL_ERROR),
    RC(WS_INVALID_UTF8),
    RC(WS_MESSAGE_TOO_BIG),
    RC(WS_FRAME_TOO_BIG),
    RC(WS_ALREADY_CLOSED),
    RC(WS_CONNECTION_LOST),
    RC(WS_TIMEOUT),
    RC(WS_PROXY_AUTH_REQUIRED),
    RC(WS_PROXY_REFUSED),
    RC(WS_PROXY_BAD_RESPONSE),
    RC(WS_PROXY_CLOSED),
    RC(WS_PANIC),
};
#undef RC
#define N_CODES (sizeof ALL_CODES / sizeof ALL_CODES[0])

static inline const char *code_name(uint32_t code)
{
    for (size_t i = 0; i < N_CODES; i++) {
        if (ALL_CODES[i].code == code) {
            return ALL_CODES[i].name;
        }
    }
    return "unknown code";
}

/* ------------------------------------------------------------------ checks */

static int g_passed, g_failed, g_todo;

static inline void vcheck(int cond, const char *todo, const char *fmt, va_list ap)
{
    fputs(cond ? "ok - " : "not ok - ", stdout);
    vfprintf(stdout, fmt, ap);
    if (!cond && todo) {
        printf(" # TODO %s", todo);
    }
    fputc('\n', stdout);
    fflush(stdout);
    if (cond) {
        g_passed++;
    } else if (todo) {
        g_todo++;
    } else {
        g_failed++;
    }
}

/* One check line. Returns cond. */
static inline int check(int cond, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vcheck(cond, NULL, fmt, ap);
    va_end(ap);
    return cond;
}

/* A check that currently fails because of a known, reported library bug. It prints
 * "ok" once the bug is fixed. */
static inline int check_todo(int cond, const char *why, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vcheck(cond, why, fmt, ap);
    va_end(ap);
    return cond;
}

static inline void diag(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("# ", stdout);
    vfprintf(stdout, fmt, ap);
    fputc('\n', stdout);
    fflush(stdout);
    va_end(ap);
}

/* Checks that a call returned `want`; on mismatch prints both codes with names. */
static inline int check_code(uint32_t got, uint32_t want, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vcheck(got == want, NULL, fmt, ap);
    va_end(ap);
    if (got != want) {
        diag("  got %" PRIu32 " %s (%s), want %" PRIu32 " %s", got, code_name(got), ws_result_str(got),
             want, code_name(want));
    }
    return got == want;
}

static inline int finish(const char *prog)
{
    size_t handles = (size_t)-1;
    if (ws_handle_count(&handles) == WS_OK && handles != 0) {
        diag("%s: %zu handle(s) still live at exit", prog, handles);
    }
    diag("%s: %d passed, %d failed, %d todo", prog, g_passed, g_failed, g_todo);
    return g_failed ? 1 : 0;
}

/* ------------------------------------------------------------------ clock */

static inline uint64_t now_ms(void)
{
#ifdef _WIN32
    LARGE_INTEGER freq, count;
    QueryPerformanceFrequency(&freq);
    QueryPerformanceCounter(&count);
    uint64_t f = (uint64_t)freq.QuadPart, c = (uint64_t)count.QuadPart;
    return c / f * 1000u + c % f * 1000u / f;
#else
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
#endif
}

static uint64_t g_deadline_ms; /* hard overall deadline (monotonic ms) */

/* Sets the overall deadline: WSM_TEST_TIMEOUT_S seconds, else `default_s`. */
static inline void start_deadline(unsigned default_s)
{
    const char *env = getenv("WSM_TEST_TIMEOUT_S");
    unsigned s = default_s;
    if (env && *env) {
        s = (unsigned)strtoul(env, NULL, 10);
    }
    g_deadline_ms = now_ms() + (uint64_t)s * 1000u;
}

static inline int past_deadline(void)
{
    return now_ms() >= g_deadline_ms;
}

/* ------------------------------------------------------------------ files */

static inline uint8_t *read_file(const char *path, size_t *out_len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
        if (len == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        if (n == 0) {
            break;
        }
        len += n;
    }
    fclose(f);
    *out_len = len;
    return buf;
}

/* ------------------------------------------------------------------ URLs, sockets */

/* A non-blocking TCP connection to where the client must connect (the URL's host
 * and port, or the proxy's): ws_client_connect_address, so no URL parsing here.
 * -1 on failure. */
static inline int tcp_connect(ws_client c)
{
    char host[256], port[16];
    size_t host_len = 0;
    uint16_t port_num = 0;
    if (ws_client_connect_address(c, host, sizeof host, &host_len, &port_num) != WS_OK) {
        return -1;
    }
    snprintf(port, sizeof port, "%u", (unsigned)port_num);
    if (sock_init() != 0) {
        return -1;
    }
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, port, &hints, &res) != 0) {
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
#ifdef _WIN32
        SOCKET s = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (s == INVALID_SOCKET) {
            continue;
        }
        fd = (int)(intptr_t)s; /* see "portability" above */
#else
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) {
            continue;
        }
#endif
        if (connect(os_sock(fd), ai->ai_addr, (wsm_socklen)ai->ai_addrlen) == 0) { /* loopback: fast */
            break;
        }
        sock_close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        return -1;
    }
    int one = 1;
    setsockopt(os_sock(fd), IPPROTO_TCP, TCP_NODELAY, (const char *)&one, sizeof one);
#ifdef SO_NOSIGPIPE
    setsockopt(os_sock(fd), SOL_SOCKET, SO_NOSIGPIPE, (const char *)&one, sizeof one);
#endif
    if (sock_set_nonblocking(fd) != 0) {
        sock_close(fd);
        return -1;
    }
    return fd;
}

/* ------------------------------------------------------------------ connection */

typedef struct {
    uint32_t kind;
    uint16_t close_code;
    size_t len;
    uint8_t *data; /* owned copy, NUL-terminated for convenience */
} owned_msg;

#define TX_CAP (64 * 1024)
#define RX_CAP (64 * 1024)

typedef struct {
    int fd;
    ws_client c;
    uint8_t tx[TX_CAP]; /* bytes taken from ws_read_output, not yet on the socket */
    size_t tx_off, tx_len;
    uint8_t rx[RX_CAP];
    owned_msg *q; /* messages polled from the client, owned by the test */
    size_t q_head, q_len, q_cap;
    uint32_t fail;      /* first failure code (>= 100) seen from any call in the loop */
    int closed;         /* ws_poll_message returned WS_CLOSED */
    int eof;            /* the peer closed its end of the TCP stream */
    int write_errno;    /* a socket write failed (not EAGAIN): errno / WSAGetLastError() */
    unsigned states;    /* bit (1 << WS_STATE_*) for every state observed */
    ws_state state;     /* last observed state */
    size_t partial_writes;
    size_t pings_seen;  /* server pings (answered by the library) */
    int use_window;     /* recv() straight into ws_prepare_input, then ws_commit_input */
} conn;

static inline void note_code(conn *k, uint32_t rc)
{
    if (rc == WS_CLOSED) {
        k->closed = 1;
    } else if (rc >= 100 && k->fail == 0) {
        k->fail = rc;
    }
}

static inline void observe_state(conn *k)
{
    ws_state st = 0;
    if (ws_client_state(k->c, &st) == WS_OK) {
        k->state = st;
        if (st < 32) {
            k->states |= 1u << st;
        }
    }
}

static inline void push_msg(conn *k, const ws_message *m)
{
    if (m->kind == WS_MESSAGE_PING) {
        k->pings_seen++;
        return;
    }
    if (k->q_head + k->q_len == k->q_cap) {
        if (k->q_head > 0) {
            memmove(k->q, k->q + k->q_head, k->q_len * sizeof *k->q);
            k->q_head = 0;
        } else {
            k->q_cap = k->q_cap ? k->q_cap * 2 : 16;
            k->q = realloc(k->q, k->q_cap * sizeof *k->q);
        }
    }
    owned_msg *o = &k->q[k->q_head + k->q_len++];
    o->kind = m->kind;
    o->close_code = m->close_code;
    o->len = m->len;
    o->data = malloc(m->len + 1);
    if (m->len) {
        memcpy(o->data, m->data, m->len); /* m->data is valid until the next poll */
    }
    o->data[m->len] = 0;
}

/* 2. poll until WS_NEED_INPUT (or WS_CLOSED / a failure). */
static inline void poll_all(conn *k)
{
    for (;;) {
        ws_message m;
        ws_result rc = ws_poll_message(k->c, &m);
        if (rc == WS_OK) {
            push_msg(k, &m);
            continue;
        }
        note_code(k, rc);
        break;
    }
}

/* 1. feed `n` received bytes (n == 0: EOF), polling after every offer. */
static inline void feed(conn *k, const uint8_t *data, size_t n)
{
    size_t off = 0;
    for (;;) {
        size_t used = 0;
        ws_result rc = ws_offer_input(k->c, n ? data + off : NULL, n - off, &used);
        if (rc != WS_OK) {
            note_code(k, rc);
            poll_all(k); /* messages that arrived before the failure still come out */
            return;
        }
        off += used;
        poll_all(k);
        if (off >= n) {
            return;
        }
        /* used < len: the undelivered-message bound was hit; we just polled, go on */
    }
}

/* 3. drain ws_read_output until 0, writing to the socket; keep partial writes. */
static inline void flush_out(conn *k)
{
    for (;;) {
        if (k->tx_off == k->tx_len) {
            size_t got = 0;
            ws_result rc = ws_read_output(k->c, k->tx, sizeof k->tx, &got);
            if (rc != WS_OK) {
                note_code(k, rc);
                return;
            }
            if (got == 0) {
                return;
            }
            k->tx_off = 0;
            k->tx_len = got;
        }
        if (k->fd < 0 || k->write_errno) {
            k->tx_off = k->tx_len; /* no socket: drop */
            continue;
        }
        size_t want = k->tx_len - k->tx_off;
        ssize_t w = sock_send(k->fd, k->tx + k->tx_off, want);
        if (w < 0) {
            int e = sock_error();
            if (sock_interrupted(e)) {
                continue;
            }
            if (sock_would_block(e)) {
                return; /* socket full: the rest waits in tx[] for POLLOUT */
            }
            k->write_errno = e;
            continue;
        }
        if ((size_t)w < want) {
            k->partial_writes++;
        }
        k->tx_off += (size_t)w;
    }
}

/* One round of the event loop, waiting at most `wait_ms` for the socket. */
static inline void pump(conn *k, int wait_ms)
{
    flush_out(k);
    if (k->fd >= 0 && !k->eof) {
        struct pollfd p;
        p.fd = os_sock(k->fd);
        p.events = POLLIN | (k->tx_off < k->tx_len ? POLLOUT : 0);
        p.revents = 0;
        if (sock_poll(&p, 1, wait_ms) > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR))) {
            for (int i = 0; i < 64; i++) { /* read what is there, then tick and write */
                uint8_t *into = k->rx;
                size_t cap = sizeof k->rx;
                if (k->use_window) {
                    ws_result rc = ws_prepare_input(k->c, &into, &cap);
                    if (rc != WS_OK) {
                        note_code(k, rc);
                        poll_all(k);
                        break;
                    }
                    if (cap == 0) { /* the undelivered-message bound: poll first */
                        poll_all(k);
                        continue;
                    }
                }
                ssize_t n = sock_recv(k->fd, into, cap);
                if (n > 0 && k->use_window) {
                    note_code(k, ws_commit_input(k->c, (size_t)n));
                    poll_all(k);
                    continue;
                }
                if (n > 0) {
                    feed(k, k->rx, (size_t)n);
                    continue;
                }
                int e = n < 0 ? sock_error() : 0;
                if (n < 0 && sock_interrupted(e)) {
                    continue;
                }
                if (n < 0 && sock_would_block(e)) {
                    break;
                }
                k->eof = 1; /* orderly shutdown or reset: tell the library */
                feed(k, NULL, 0);
                break;
            }
        }
    } else if (wait_ms > 0) {
        sleep_ms(wait_ms < 10 ? wait_ms : 10);
    }
    ws_result rc = ws_client_tick(k->c, now_ms());
    if (rc != WS_OK) {
        note_code(k, rc);
    }
    flush_out(k);
    observe_state(k);
}

/* Creates the client and connects the socket. Returns the ws_client_new code, or
 * WS_OK with k->fd < 0 when the TCP connect failed. */
static inline uint32_t conn_open(conn *k, ws_config cfg, const char *url)
{
    memset(k, 0, sizeof *k);
    k->fd = -1;
    ws_result rc = ws_client_new(cfg, url, &k->c);
    if (rc != WS_OK) {
        return rc;
    }
    observe_state(k);
    k->fd = tcp_connect(k->c);
    return WS_OK;
}

static inline void conn_free(conn *k)
{
    if (k->fd >= 0) {
        sock_close(k->fd);
    }
    k->fd = -1;
    ws_client_free(k->c);
    k->c = 0;
    for (size_t i = 0; i < k->q_len; i++) {
        free(k->q[k->q_head + i].data);
    }
    free(k->q);
    k->q = NULL;
    k->q_head = k->q_len = k->q_cap = 0;
}

typedef int (*conn_pred)(conn *k);

static inline int pred_open(conn *k) { return k->state == WS_STATE_OPEN; }
static inline int pred_msg(conn *k) { return k->q_len > 0; }
static inline int pred_failed(conn *k) { return k->fail != 0; }
static inline int pred_closed(conn *k) { return k->closed && k->state == WS_STATE_CLOSED; }

/* Pumps until pred(k), a failure, `timeout_ms`, or the overall deadline. Returns
 * pred(k). */
static inline int wait_for(conn *k, conn_pred pred, uint64_t timeout_ms)
{
    uint64_t end = now_ms() + timeout_ms;
    if (end > g_deadline_ms) {
        end = g_deadline_ms;
    }
    observe_state(k);
    while (!pred(k)) {
        if (k->fail && pred != pred_failed) {
            break;
        }
        uint64_t t = now_ms();
        if (t >= end) {
            if (past_deadline()) {
                diag("overall deadline reached");
            }
            break;
        }
        uint64_t left = end - t;
        pump(k, left < 50 ? (int)left : 50);
    }
    return pred(k);
}

/* Waits for the next message (server pings are answered by the library and only
 * counted). Returns 1 and moves it into *out (caller frees out->data), or 0. */
static inline int next_msg(conn *k, owned_msg *out, uint64_t timeout_ms)
{
    if (!wait_for(k, pred_msg, timeout_ms)) {
        return 0;
    }
    *out = k->q[k->q_head];
    k->q_head++;
    k->q_len--;
    return 1;
}

/* The client's detailed last error, in a static buffer. */
static inline const char *client_error(ws_client c)
{
    static char buf[1024];
    size_t len = 0;
    buf[0] = 0;
    if (ws_client_last_error(c, buf, sizeof buf, &len) != WS_OK) {
        snprintf(buf, sizeof buf, "(ws_client_last_error failed)");
    }
    return buf;
}

static inline const char *state_name(uint32_t st)
{
    switch (st) {
    case WS_STATE_TLS_HANDSHAKING: return "TLS_HANDSHAKING";
    case WS_STATE_WS_HANDSHAKING: return "WS_HANDSHAKING";
    case WS_STATE_OPEN: return "OPEN";
    case WS_STATE_CLOSING: return "CLOSING";
    case WS_STATE_CLOSED: return "CLOSED";
    case WS_STATE_FAILED: return "FAILED";
    case WS_STATE_VERIFYING: return "VERIFYING";
    default: return "?";
    }
}

#endif /* WSM_TEST_UTIL_H */
