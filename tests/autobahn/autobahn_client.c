/*
 * Autobahn|Testsuite client driver for wsmachine, through the C ABI only.
 *
 *   autobahn_client BASE_URL AGENT [CA_PEM]
 *
 * BASE_URL is ws://host:port or wss://host:port (the fuzzing server). It runs
 * BASE_URL/getCaseCount, then BASE_URL/runCase?case=i&agent=AGENT for i = 1..N
 * (echoing every text and binary message back with the same type), then
 * BASE_URL/updateReports?agent=AGENT. For wss, CA_PEM is trusted as a root.
 *
 * Each connection is one sans-IO loop on this thread: poll(2) on a non-blocking
 * TCP socket, ws_offer_input (or, with WSMACHINE_AUTOBAHN_WINDOW=1, recv() into
 * ws_prepare_input and ws_commit_input), ws_poll_message until WS_NEED_INPUT (echo),
 * ws_client_tick with a monotonic clock, ws_read_output until empty, write it all.
 * One line per case: case number, end state, close code, time.
 * WSMACHINE_AUTOBAHN_PROXY=URL sends every connection through that proxy
 * (ws_config_set_proxy); the socket always connects to ws_client_connect_address.
 *
 * Exit status: 0 when every connection ran (whatever the case outcomes; the
 * server's report judges them), 1 on setup errors (bad arguments, no server,
 * getCaseCount or updateReports failing).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "wsmachine.h"

#define MAX_SIZE ((size_t)16 << 20) /* 9.* send messages and frames up to 16 MiB */
#define CASE_TIMEOUT_MS 60000       /* hard limit per connection */
#define LINGER_MS 1000              /* wait for the server's TCP close after our end */
#define FLUSH_TIMEOUT_MS 5000       /* finish writing after a failure */
#define RX_SIZE (256 << 10)
#define TX_CHUNK (64 << 10)

/* ---------------------------------------------------------------- helpers */

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("autobahn_client: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static const char *result_name(uint32_t code) {
    switch (code) {
    case WS_OK: return "WS_OK";
    case WS_NEED_INPUT: return "WS_NEED_INPUT";
    case WS_CLOSED: return "WS_CLOSED";
    case WS_NULL_POINTER: return "WS_NULL_POINTER";
    case WS_INVALID_HANDLE: return "WS_INVALID_HANDLE";
    case WS_INVALID_STATE: return "WS_INVALID_STATE";
    case WS_BUFFER_TOO_SMALL: return "WS_BUFFER_TOO_SMALL";
    case WS_INVALID_ARGUMENT: return "WS_INVALID_ARGUMENT";
    case WS_INVALID_URL: return "WS_INVALID_URL";
    case WS_INVALID_CONFIG: return "WS_INVALID_CONFIG";
    case WS_OUTPUT_FULL: return "WS_OUTPUT_FULL";
    case WS_TLS_ERROR: return "WS_TLS_ERROR";
    case WS_CERT_UNTRUSTED: return "WS_CERT_UNTRUSTED";
    case WS_CERT_EXPIRED: return "WS_CERT_EXPIRED";
    case WS_CERT_NOT_YET_VALID: return "WS_CERT_NOT_YET_VALID";
    case WS_CERT_WRONG_HOST: return "WS_CERT_WRONG_HOST";
    case WS_CERT_PIN_MISMATCH: return "WS_CERT_PIN_MISMATCH";
    case WS_CERT_INVALID: return "WS_CERT_INVALID";
    case WS_TLS_ALERT: return "WS_TLS_ALERT";
    case WS_TLS_VERSION: return "WS_TLS_VERSION";
    case WS_TLS_CORRUPT: return "WS_TLS_CORRUPT";
    case WS_HANDSHAKE_ERROR: return "WS_HANDSHAKE_ERROR";
    case WS_HTTP_STATUS: return "WS_HTTP_STATUS";
    case WS_BAD_ACCEPT: return "WS_BAD_ACCEPT";
    case WS_BAD_RESPONSE: return "WS_BAD_RESPONSE";
    case WS_SUBPROTOCOL: return "WS_SUBPROTOCOL";
    case WS_EXTENSION: return "WS_EXTENSION";
    case WS_HEADER_TOO_LARGE: return "WS_HEADER_TOO_LARGE";
    case WS_PROTOCOL_ERROR: return "WS_PROTOCOL_ERROR";
    case WS_INVALID_UTF8: return "WS_INVALID_UTF8";
    case WS_MESSAGE_TOO_BIG: return "WS_MESSAGE_TOO_BIG";
    case WS_FRAME_TOO_BIG: return "WS_FRAME_TOO_BIG";
    case WS_ALREADY_CLOSED: return "WS_ALREADY_CLOSED";
    case WS_CONNECTION_LOST: return "WS_CONNECTION_LOST";
    case WS_TIMEOUT: return "WS_TIMEOUT";
    case WS_PANIC: return "WS_PANIC";
    default: return "WS_?";
    }
}

/* Statuses are below 100; everything from 100 on is a failure of some kind. */
static int is_failure(uint32_t code) { return code >= 100; }

/* ---------------------------------------------------------------- base URL */

static char g_base[512]; /* BASE_URL without a trailing '/' */
static char g_host[256]; /* BASE_URL's host, checked (the socket connects to ws_client_connect_address) */
static char g_port[16];
static int g_window; /* WSMACHINE_AUTOBAHN_WINDOW=1: receive through ws_prepare_input */

static void parse_base(const char *url) {
    size_t n = strlen(url);
    const char *p;
    const char *def_port;
    const char *host;
    const char *host_end;
    const char *port = NULL;

    if (n == 0 || n >= sizeof g_base) die("BASE_URL too long or empty");
    memcpy(g_base, url, n + 1);
    while (n > 0 && g_base[n - 1] == '/') g_base[--n] = '\0';

    if (strncmp(g_base, "ws://", 5) == 0) {
        p = g_base + 5;
        def_port = "80";
    } else if (strncmp(g_base, "wss://", 6) == 0) {
        p = g_base + 6;
        def_port = "443";
    } else {
        die("BASE_URL must start with ws:// or wss:// (got %s)", url);
    }
    if (strchr(p, '/') || strchr(p, '?')) die("BASE_URL must be scheme://host[:port] (got %s)", url);
    if (*p == '[') { /* [v6]:port */
        host = p + 1;
        host_end = strchr(host, ']');
        if (!host_end) die("bad IPv6 literal in %s", url);
        if (host_end[1] == ':') port = host_end + 2;
    } else {
        host = p;
        host_end = strchr(host, ':');
        if (host_end) port = host_end + 1;
        else host_end = host + strlen(host);
    }
    if (host_end == host || (size_t)(host_end - host) >= sizeof g_host) die("bad host in %s", url);
    memcpy(g_host, host, (size_t)(host_end - host));
    g_host[host_end - host] = '\0';
    if (!port || !*port) port = def_port;
    if (strlen(port) >= sizeof g_port) die("bad port in %s", url);
    strcpy(g_port, port);
}

/* Connects to where the client says (the URL's host and port, or the proxy's). */
static int tcp_connect(ws_client c) {
    struct addrinfo hints, *res, *ai;
    int fd = -1, rc, one = 1;
    char host[256], port[8];
    size_t host_len = 0;
    uint16_t port_num = 0;

    if (ws_client_connect_address(c, host, sizeof host, &host_len, &port_num) != WS_OK) {
        fprintf(stderr, "autobahn_client: ws_client_connect_address failed\n");
        return -1;
    }
    snprintf(port, sizeof port, "%u", (unsigned)port_num);
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, "autobahn_client: getaddrinfo %s:%s: %s\n", host, port, gai_strerror(rc));
        return -1;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        fprintf(stderr, "autobahn_client: connect %s:%s: %s\n", host, port, strerror(errno));
        return -1;
    }
    /* Echo latency matters in 9.7/9.8 (round-trip timing). */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

/* ---------------------------------------------------------------- one connection */

enum end_kind { END_CLOSED, END_FAILED, END_TIMEOUT, END_SOCKET };

struct conn_result {
    enum end_kind end;
    uint32_t code;        /* failure code for END_FAILED */
    int close_code;       /* the server's close code (WS_MESSAGE_CLOSE), -1 if none seen */
    ws_state state;       /* ws_client_state at the end */
    char last_error[160]; /* ws_client_last_error */
    uint32_t tls_version; /* 12, 13, or 0 for ws:// */
    uint32_t resumed;     /* TLS session resumed from an earlier connection */
    /* getCaseCount: the first text message */
    char first_text[64];
    int got_text;
};

/* Bytes from ws_read_output that the socket has not taken yet. */
struct txbuf {
    uint8_t *data;
    size_t len, off, cap;
};

static void tx_reserve(struct txbuf *tx, size_t extra) {
    if (tx->off > 0 && tx->off == tx->len) tx->off = tx->len = 0;
    if (tx->len + extra <= tx->cap) return;
    if (tx->off > 0) { /* compact first */
        memmove(tx->data, tx->data + tx->off, tx->len - tx->off);
        tx->len -= tx->off;
        tx->off = 0;
        if (tx->len + extra <= tx->cap) return;
    }
    size_t cap = tx->cap ? tx->cap : TX_CHUNK;
    while (cap < tx->len + extra) cap *= 2;
    uint8_t *p = realloc(tx->data, cap);
    if (!p) die("out of memory (%zu bytes)", cap);
    tx->data = p;
    tx->cap = cap;
}

/* Drains ws_read_output into tx until it reports nothing left. Returns WS_OK, or
 * the failure code once a failed client's last bytes are gone. */
static uint32_t drain_output(ws_client c, struct txbuf *tx) {
    for (;;) {
        size_t k = 0;
        tx_reserve(tx, TX_CHUNK);
        ws_result rc = ws_read_output(c, tx->data + tx->len, tx->cap - tx->len, &k);
        if (rc != WS_OK) return rc;
        if (k == 0) return WS_OK;
        tx->len += k;
    }
}

/* Writes what the socket takes now. Returns 0, or -1 when the socket is dead. */
static int tx_write(int fd, struct txbuf *tx) {
    while (tx->off < tx->len) {
        ssize_t w = send(fd, tx->data + tx->off, tx->len - tx->off, MSG_NOSIGNAL);
        if (w > 0) {
            tx->off += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
        return -1;
    }
    tx->off = tx->len = 0;
    return 0;
}

static int tx_pending(const struct txbuf *tx) { return tx->off < tx->len; }

/* Blocks (with poll) until tx is written or deadline passes. */
static void tx_flush_until(int fd, struct txbuf *tx, uint64_t deadline) {
    while (tx_pending(tx)) {
        uint64_t t = now_ms();
        if (t >= deadline) return;
        struct pollfd pfd = {fd, POLLOUT, 0};
        int r = poll(&pfd, 1, (int)(deadline - t));
        if (r < 0 && errno != EINTR) return;
        if (r > 0 && tx_write(fd, tx) < 0) return;
    }
}

/* After our side is done: read and discard until the server closes TCP, or timeout. */
static void linger(int fd, uint64_t ms) {
    static uint8_t sink[16 << 10];
    uint64_t deadline = now_ms() + ms;
    for (;;) {
        uint64_t t = now_ms();
        if (t >= deadline) return;
        struct pollfd pfd = {fd, POLLIN, 0};
        int r = poll(&pfd, 1, (int)(deadline - t));
        if (r < 0 && errno != EINTR) return;
        if (r <= 0) continue;
        ssize_t n = recv(fd, sink, sizeof sink, 0);
        if (n == 0) return;
        if (n < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) return;
    }
}

/* Polls every ready message; echoes text and binary. Returns WS_OK, WS_NEED_INPUT
 * or WS_CLOSED when drained, or a failure code. */
static uint32_t pump_messages(ws_client c, struct txbuf *tx, struct conn_result *res) {
    for (;;) {
        ws_message msg;
        ws_result rc = ws_poll_message(c, &msg);
        if (rc != WS_OK) return rc;
        switch (msg.kind) {
        case WS_MESSAGE_TEXT:
        case WS_MESSAGE_BINARY: {
            if (msg.kind == WS_MESSAGE_TEXT && !res->got_text) {
                size_t n = msg.len < sizeof res->first_text - 1 ? msg.len : sizeof res->first_text - 1;
                memcpy(res->first_text, msg.data, n);
                res->first_text[n] = '\0';
                res->got_text = 1;
            }
            for (;;) { /* echo straight from msg.data: sends do not invalidate it */
                uint32_t s = msg.kind == WS_MESSAGE_TEXT ? ws_send_text(c, msg.data, msg.len)
                                                         : ws_send_binary(c, msg.data, msg.len);
                if (s == WS_OUTPUT_FULL) { /* move the library's output to ours, retry */
                    uint32_t d = drain_output(c, tx);
                    if (d != WS_OK) return d;
                    continue;
                }
                if (s == WS_OK || s == WS_ALREADY_CLOSED) break; /* closing: nothing to echo into */
                return s;
            }
            break;
        }
        case WS_MESSAGE_CLOSE:
            res->close_code = msg.close_code;
            break;
        default: /* pings are answered by the library; pongs ignored */
            break;
        }
    }
}

static void run_connection(ws_config cfg, const char *url, struct conn_result *res) {
    static uint8_t rx[RX_SIZE];
    struct txbuf tx = {0};
    ws_client c = 0;
    uint64_t start = now_ms(), deadline = start + CASE_TIMEOUT_MS;
    ws_result rc = WS_OK;
    int fd, eof = 0;

    memset(res, 0, sizeof *res);
    res->close_code = -1;
    res->end = END_SOCKET;

    rc = ws_client_new(cfg, url, &c);
    if (rc != WS_OK) {
        char buf[256];
        size_t n;
        ws_last_error(buf, sizeof buf, &n);
        die("ws_client_new(%s): %s: %s", url, result_name(rc), buf);
    }
    fd = tcp_connect(c);
    if (fd < 0) {
        ws_client_free(c);
        return;
    }

    for (;;) {
        uint64_t t = now_ms();
        ws_state state = 0;

        /* 3. time */
        rc = ws_client_tick(c, t);
        if (is_failure(rc)) break;

        /* 4. drain output until empty, write what the socket takes */
        rc = drain_output(c, &tx);
        if (is_failure(rc)) break;
        if (tx_write(fd, &tx) < 0) {
            /* The server is gone; let the library know (a 1006 close). */
            if (!eof) {
                size_t used = 0;
                eof = 1;
                rc = ws_offer_input(c, NULL, 0, &used);
                if (is_failure(rc)) break;
                rc = pump_messages(c, &tx, res);
                if (is_failure(rc)) break;
            }
            tx.off = tx.len = 0;
        }

        ws_client_state(c, &state);
        if (state == WS_STATE_CLOSED && !tx_pending(&tx)) {
            rc = WS_OK;
            res->end = END_CLOSED;
            break;
        }
        if (t >= deadline) {
            res->end = END_TIMEOUT;
            goto done;
        }

        /* wait: input, room to write, or the next deadline */
        uint64_t next = WS_NO_DEADLINE;
        ws_client_next_deadline(c, &next);
        uint64_t wake = deadline;
        if (next < wake) wake = next;
        int timeout = wake > t ? (int)(wake - t) : 0;
        if (timeout > 1000) timeout = 1000;
        struct pollfd pfd = {fd, (short)((eof ? 0 : POLLIN) | (tx_pending(&tx) ? POLLOUT : 0)), 0};
        int pr = poll(&pfd, 1, timeout);
        if (pr < 0 && errno != EINTR) die("poll: %s", strerror(errno));
        if (pr <= 0 || eof || !(pfd.revents & (POLLIN | POLLHUP | POLLERR))) continue;

        /* 1. feed: recv() into our buffer and offer it, or (WSMACHINE_AUTOBAHN_WINDOW=1)
         * recv() straight into the library's input window and commit the count. */
        uint8_t *into = rx;
        size_t cap = sizeof rx;
        if (g_window) {
            rc = ws_prepare_input(c, &into, &cap);
            if (is_failure(rc)) break;
            if (cap == 0) { /* the undelivered-message bound: poll first */
                rc = pump_messages(c, &tx, res);
                if (is_failure(rc)) break;
                continue;
            }
        }
        ssize_t n = recv(fd, into, cap, 0);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
            n = 0; /* reset: treat like EOF */
        }
        if (n == 0) eof = 1;
        if (n > 0 && g_window) {
            rc = ws_commit_input(c, (size_t)n);
            if (is_failure(rc)) break;
            rc = pump_messages(c, &tx, res);
            if (is_failure(rc)) break;
            continue;
        }
        size_t off = 0;
        do {
            size_t used = 0;
            rc = ws_offer_input(c, rx + off, (size_t)n - off, &used);
            if (is_failure(rc)) break;
            off += used;
            /* 2. poll until empty (echo) */
            rc = pump_messages(c, &tx, res);
            if (is_failure(rc)) break;
        } while (off < (size_t)n);
        if (is_failure(rc)) break;
    }

    if (is_failure(rc)) {
        /* The library still hands out the close frame / alert that tells the
         * server why: drain it, write it, then let the server close first. */
        res->end = END_FAILED;
        res->code = rc;
        drain_output(c, &tx);
        tx_flush_until(fd, &tx, now_ms() + FLUSH_TIMEOUT_MS);
        pump_messages(c, &tx, res); /* messages queued before the failure */
        if (!eof) linger(fd, LINGER_MS);
    } else if (res->end == END_CLOSED) {
        if (!eof) linger(fd, LINGER_MS);
    }

done:
    ws_client_state(c, &res->state);
    ws_client_tls_version(c, &res->tls_version);
    ws_client_is_resumed(c, &res->resumed);
    {
        size_t n = 0;
        ws_client_last_error(c, res->last_error, sizeof res->last_error, &n);
    }
    ws_client_free(c);
    close(fd);
    free(tx.data);
}

/* ---------------------------------------------------------------- main */

static void url_encode(const char *in, char *out, size_t cap) {
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (; *in && o + 4 < cap; in++) {
        unsigned char ch = (unsigned char)*in;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '_' || ch == '.' || ch == '~') {
            out[o++] = (char)ch;
        } else {
            out[o++] = '%';
            out[o++] = hex[ch >> 4];
            out[o++] = hex[ch & 15];
        }
    }
    out[o] = '\0';
}

static char *read_file(const char *path, size_t *out_len) {
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;
    if (!f) die("cannot open %s: %s", path, strerror(errno));
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
        die("cannot read %s", path);
    buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) die("cannot read %s", path);
    fclose(f);
    *out_len = (size_t)n;
    return buf;
}

static void check(uint32_t rc, const char *what) {
    if (rc != WS_OK) {
        char buf[256];
        size_t n = 0;
        ws_last_error(buf, sizeof buf, &n);
        die("%s: %s (%s)", what, result_name(rc), n ? buf : ws_result_str(rc));
    }
}

static const char *end_name(const struct conn_result *r) {
    switch (r->end) {
    case END_CLOSED: return "CLOSED";
    case END_FAILED: return "FAILED";
    case END_TIMEOUT: return "TIMEOUT";
    default: return "NOCONN";
    }
}

int main(int argc, char **argv) {
    ws_config cfg = 0;
    char agent[256], url[1024];
    struct conn_result res;
    long count, tls = 0, resumed = 0, tls13 = 0;
    uint64_t t0;

    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: %s BASE_URL AGENT [CA_PEM]\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    parse_base(argv[1]);
    url_encode(argv[2], agent, sizeof agent);

    check(ws_config_new(&cfg), "ws_config_new");
    if (argc == 4) {
        size_t len;
        char *pem = read_file(argv[3], &len);
        check(ws_config_add_root_pem(cfg, (const uint8_t *)pem, len), "ws_config_add_root_pem");
        free(pem);
    }
    check(ws_config_set_max_message_size(cfg, MAX_SIZE), "ws_config_set_max_message_size");
    check(ws_config_set_max_frame_size(cfg, MAX_SIZE), "ws_config_set_max_frame_size");
    /* WSMACHINE_AUTOBAHN_DEFLATE=1 offers permessage-deflate (sections 12 and 13). */
    const char *deflate = getenv("WSMACHINE_AUTOBAHN_DEFLATE");
    if (deflate && strcmp(deflate, "1") == 0) {
        check(ws_config_set_deflate(cfg, 1), "ws_config_set_deflate");
    }
    const char *proxy = getenv("WSMACHINE_AUTOBAHN_PROXY");
    if (proxy && *proxy) {
        check(ws_config_set_proxy(cfg, proxy), "ws_config_set_proxy");
        printf("through the proxy %s\n", proxy);
    }
    const char *window = getenv("WSMACHINE_AUTOBAHN_WINDOW");
    g_window = window && strcmp(window, "1") == 0;
    printf("input through %s\n", g_window ? "ws_prepare_input/ws_commit_input" : "ws_offer_input");

    printf("wsmachine %s, %s, agent %s\n", ws_version(), g_base, argv[2]);
    t0 = now_ms();

    snprintf(url, sizeof url, "%s/getCaseCount", g_base);
    run_connection(cfg, url, &res);
    if (!res.got_text) die("getCaseCount: no answer (%s %s: %s)", end_name(&res), result_name(res.code), res.last_error);
    count = strtol(res.first_text, NULL, 10);
    if (count <= 0) die("getCaseCount: bad answer '%s'", res.first_text);
    printf("%ld cases\n", count);

    for (long i = 1; i <= count; i++) {
        uint64_t t = now_ms();
        snprintf(url, sizeof url, "%s/runCase?case=%ld&agent=%s", g_base, i, agent);
        run_connection(cfg, url, &res);
        double secs = (double)(now_ms() - t) / 1000.0;
        char close_str[16] = "-";
        if (res.close_code >= 0) snprintf(close_str, sizeof close_str, "%d", res.close_code);
        if (res.tls_version) {
            tls++;
            resumed += res.resumed != 0;
            tls13 += res.tls_version == 13;
        }
        if (res.end == END_FAILED) {
            printf("case %ld: FAILED %s close=%s %.2fs (%s)\n", i, result_name(res.code), close_str, secs,
                   res.last_error);
        } else if (res.end == END_CLOSED) {
            printf("case %ld: CLOSED close=%s %.2fs\n", i, close_str, secs);
        } else {
            printf("case %ld: %s state=%u close=%s %.2fs (%s)\n", i, end_name(&res), res.state, close_str, secs,
                   res.last_error);
        }
        if (res.end == END_SOCKET) die("case %ld: cannot connect", i);
    }

    snprintf(url, sizeof url, "%s/updateReports?agent=%s", g_base, agent);
    run_connection(cfg, url, &res);
    if (res.end != END_CLOSED) die("updateReports: %s %s (%s)", end_name(&res), result_name(res.code), res.last_error);
    if (tls) printf("TLS: %ld of %ld case connections resumed a session, %ld used TLS 1.3\n", resumed, tls, tls13);
    printf("reports updated; %ld cases in %.1fs\n", count, (double)(now_ms() - t0) / 1000.0);

    ws_config_free(cfg);
    {
        size_t live = 0;
        ws_handle_count(&live);
        if (live != 0) die("%zu handles leaked", live);
    }
    return 0;
}
