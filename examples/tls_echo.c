/*
 * tls_echo: TLS without WebSocket. A plain TCP echo protocol wrapped in wsmachine's
 * TLS object (ws_tls_*), driven by one poll() loop on a non-blocking socket.
 *
 *   cc -std=c11 -Wall -Wextra -Iinclude examples/tls_echo.c target/release/libwsmachine.a \
 *      -lpthread -ldl -lm -o tls_echo
 *   ./tls_echo HOST PORT CA_PEM [BYTES]
 *
 * Sends BYTES (default 1 MiB) of a pattern to an echo server over TLS, checks that the
 * same bytes come back, sends close_notify and waits for the server's. Prints one line
 * and exits 0 on success. scripts/test-c.sh runs it against tests/peers/tls_echo_server.py.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

#include "wsmachine.h"

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int connect_tcp(const char *host, const char *port)
{
    struct addrinfo hints = {0}, *res, *ai;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, port, &hints, &res) != 0) return -1;
    int fd = -1;
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
        if (fd >= 0) close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd >= 0) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

static int fail(ws_tls t, ws_result rc, const char *what)
{
    char msg[512];
    size_t len = 0;
    if (t == 0 || ws_tls_last_error(t, msg, sizeof msg, &len) != WS_OK || len == 0)
        ws_last_error(msg, sizeof msg, &len);
    fprintf(stderr, "tls_echo: %s: %s (%s)\n", what, ws_result_str(rc), len ? msg : "");
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s HOST PORT CA_PEM [BYTES]\n", argv[0]);
        return 2;
    }
    size_t total = argc > 4 ? (size_t)strtoull(argv[4], NULL, 10) : (size_t)1 << 20;

    /* The config: trust our private CA (read from a PEM file). */
    static uint8_t pem[64 * 1024];
    FILE *f = fopen(argv[3], "rb");
    size_t pem_len = f ? fread(pem, 1, sizeof pem, f) : 0;
    if (f) fclose(f);
    ws_config cfg;
    ws_config_new(&cfg);
    ws_result rc = ws_config_add_root_pem(cfg, pem, pem_len);
    if (rc != WS_OK) return fail(0, rc, "CA file");

    int fd = connect_tcp(argv[1], argv[2]);
    if (fd < 0) { perror("connect"); return 1; }
    ws_tls t;
    rc = ws_tls_new(cfg, argv[1], &t);
    ws_config_free(cfg); /* the TLS object keeps what it needs */
    if (rc != WS_OK) return fail(0, rc, "ws_tls_new");

    uint8_t *data = malloc(total + 1), *echo = malloc(total + 1);
    for (size_t i = 0; i < total; i++) data[i] = (uint8_t)(i * 31 + i / 251);
    size_t written = 0, echoed = 0;
    static uint8_t rx[16 * 1024], tx[16 * 1024];
    size_t tx_len = 0, tx_off = 0; /* ciphertext read out but not yet sent */
    int closing = 0, done = 0;

    while (!done) {
        /* 3. plaintext: the library buffers it, within the pending-output limit. */
        if (written < total) {
            size_t taken;
            rc = ws_tls_write(t, data + written, total - written, &taken);
            if (rc != WS_OK) return fail(t, rc, "write");
            written += taken;
        } else if (echoed == total && !closing) {
            ws_tls_close(t); /* close_notify */
            closing = 1;
        }
        /* 4. time: the handshake timeout. */
        if ((rc = ws_tls_tick(t, now_ms())) != WS_OK) return fail(t, rc, "tick");

        /* 5. drain output until empty (keeping what the socket did not take). */
        for (;;) {
            if (tx_off == tx_len) {
                tx_off = tx_len = 0;
                rc = ws_tls_read_output(t, tx, sizeof tx, &tx_len);
                if (rc != WS_OK) return fail(t, rc, "read_output");
                if (tx_len == 0) break;
            }
            ssize_t s = send(fd, tx + tx_off, tx_len - tx_off, MSG_NOSIGNAL);
            if (s < 0) break; /* EAGAIN: poll for POLLOUT */
            tx_off += (size_t)s;
        }

        struct pollfd p = {fd, POLLIN | (tx_off < tx_len ? POLLOUT : 0), 0};
        if (poll(&p, 1, 1000) < 0 && errno != EINTR) { perror("poll"); return 1; }
        if (!(p.revents & (POLLIN | POLLHUP | POLLERR))) continue;

        /* 1. feed what the socket has (n == 0: EOF). */
        ssize_t n = recv(fd, rx, sizeof rx, 0);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
        if (n < 0) n = 0; /* a reset ends the stream like EOF */
        size_t off = 0;
        do {
            size_t used;
            rc = ws_tls_offer_input(t, rx + off, (size_t)n - off, &used);
            if (rc != WS_OK) return fail(t, rc, "offer_input");
            off += used;
            /* 2. read plaintext until WS_NEED_INPUT. */
            for (;;) {
                size_t got;
                rc = ws_tls_read(t, echo + echoed, total + 1 - echoed, &got);
                if (rc == WS_OK) { echoed += got; continue; }
                if (rc == WS_NEED_INPUT) break;
                if (rc == WS_CLOSED) { done = 1; break; }
                return fail(t, rc, "read"); /* WS_TLS_TRUNCATED: EOF without close_notify */
            }
        } while (off < (size_t)n && !done);
        if (n == 0 && !done) return fail(t, WS_CONNECTION_LOST, "EOF");
    }

    ws_state state = 0;
    ws_tls_version version = 0;
    ws_tls_state(t, &state);
    ws_tls_protocol_version(t, &version);
    int same = echoed == total && memcmp(data, echo, total) == 0;
    printf("%s - TLS 1.%u echo of %zu bytes %s; state %s\n", same ? "ok" : "not ok",
           version % 10, total, same ? "matches" : "differs",
           state == WS_STATE_CLOSED ? "CLOSED" : "not CLOSED");
    ws_tls_free(t);
    close(fd);
    free(data);
    free(echo);
    return same && state == WS_STATE_CLOSED ? 0 : 1;
}
