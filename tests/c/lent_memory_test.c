/* Lent memory over a real ws:// loopback connection, under ASan or valgrind
 * (issue #19): the window ws_prepare_input lends stays valid across an idle
 * ws_client_tick (only commit, ws_offer_input, ws_client_trim and free close it), and
 * the window passed back to ws_offer_input is refused with WS_INVALID_ARGUMENT instead
 * of being decoded into itself. Over wss:// the window is the TLS input buffer, which
 * records are decrypted in: the same two rules hold for it.
 *
 *   lent_memory_test ws://127.0.0.1:PORT/               (an echo server; scripts/test-c.sh)
 *   lent_memory_test wss://localhost:PORT/ ca.pem       (the same over TLS) */
#include "test_util.h"

/* Waits until the socket is readable (or the deadline passes). */
static int wait_readable(int fd)
{
    struct pollfd p;
    p.fd = os_sock(fd);
    p.events = POLLIN;
    p.revents = 0;
    while (!past_deadline()) {
        if (sock_poll(&p, 1, 100) > 0) {
            return 1;
        }
    }
    return 0;
}

/* recv() exactly `n` bytes into `dst`. */
static int recv_exact(int fd, uint8_t *dst, size_t n)
{
    size_t got = 0;
    while (got < n) {
        if (!wait_readable(fd)) {
            return 0;
        }
        ssize_t r = sock_recv(fd, dst + got, n - got);
        if (r <= 0) {
            if (r < 0 && (sock_would_block(sock_error()) || sock_interrupted(sock_error()))) {
                continue;
            }
            return 0;
        }
        got += (size_t)r;
    }
    return 1;
}

/* Sends all pending output (the socket is loopback: it takes everything soon). */
static void send_all(conn *k)
{
    while (!past_deadline()) {
        flush_out(k);
        size_t pending = 1;
        ws_client_pending_output(k->c, &pending);
        if (pending == 0 && k->tx_off == k->tx_len) {
            return;
        }
        sleep_ms(1);
    }
}

/* Polls the next message; while there is none, receives more through fresh windows
 * (over TLS the first read may hold only a session ticket). */
static ws_result next_message(conn *k, ws_message *m)
{
    ws_result rc = ws_poll_message(k->c, m);
    while (rc == WS_NEED_INPUT && wait_readable(k->fd)) {
        uint8_t *w = NULL;
        size_t cap = 0;
        if (ws_prepare_input(k->c, &w, &cap) != WS_OK || cap == 0) {
            break;
        }
        ssize_t r = sock_recv(k->fd, w, cap);
        if (r <= 0 || ws_commit_input(k->c, (size_t)r) != WS_OK) {
            break;
        }
        rc = ws_poll_message(k->c, m);
    }
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: %s ws://HOST:PORT/ | wss://HOST:PORT/ CA.pem\n", argv[0]);
        return 2;
    }
    int tls = strncmp(argv[1], "wss://", 6) == 0;
    start_deadline(30);
    ws_config cfg = 0;
    check_code(ws_config_new(&cfg), WS_OK, "ws_config_new");
    if (argc == 3) {
        size_t pem_len = 0;
        uint8_t *pem = read_file(argv[2], &pem_len);
        if (!check(pem != NULL, "read CA file %s", argv[2])) {
            return finish("lent_memory_test");
        }
        check_code(ws_config_add_root_pem(cfg, pem, pem_len), WS_OK, "ws_config_add_root_pem");
        free(pem);
    }
    static conn k;
    ws_result rc = conn_open(&k, cfg, argv[1]);
    ws_config_free(cfg);
    if (!check(rc == WS_OK && k.fd >= 0, "connect to %s", argv[1]) ||
        !check(wait_for(&k, pred_open, 10000), "handshake completes")) {
        conn_free(&k);
        return finish("lent_memory_test");
    }
    send_all(&k);
    ws_client c = k.c;

    /* 1. The idle trim leaves a lent window alone. */
    uint64_t t0 = now_ms();
    check_code(ws_client_tick(c, t0), WS_OK, "tick");
    uint8_t *win = NULL;
    size_t cap = 0;
    check_code(ws_prepare_input(c, &win, &cap), WS_OK,
               tls ? "ws_prepare_input (the TLS input buffer)" : "ws_prepare_input (staging window)");
    check(win != NULL && cap >= 64, "a window of %zu bytes", cap);
    /* A second and more without traffic: the idle trim runs. */
    check_code(ws_client_tick(c, t0 + 1), WS_OK, "tick");
    check_code(ws_client_tick(c, t0 + 5000), WS_OK, "idle tick (trim time) with the window lent");
    /* Traffic after the idle ticks: the server echoes a small message. */
    static const uint8_t hello[] = "lent window";
    check_code(ws_send_binary(c, hello, sizeof hello - 1), WS_OK, "ws_send_binary");
    send_all(&k);
    if (check(wait_readable(k.fd), "the echo arrives")) {
        /* recv() straight into the window lent before the idle tick. */
        ssize_t r = sock_recv(k.fd, win, cap);
        check(r > 0, "recv into the window (%zd bytes)", r);
        check_code(ws_commit_input(c, r > 0 ? (size_t)r : 0), WS_OK, "ws_commit_input after the idle tick");
        ws_message m;
        rc = next_message(&k, &m);
        check(rc == WS_OK && m.kind == WS_MESSAGE_BINARY && m.len == sizeof hello - 1 &&
                  memcmp(m.data, hello, m.len) == 0,
              "the echo came through the window (%s)", code_name(rc));
    }

    if (tls) {
        /* 2. The window passed back to ws_offer_input is refused: over TLS the window
         * is the TLS input buffer, and the record is taken by the commit instead. */
        static const uint8_t again[] = "the TLS window passed back";
        check_code(ws_send_binary(c, again, sizeof again - 1), WS_OK, "ws_send_binary");
        send_all(&k);
        check_code(ws_prepare_input(c, &win, &cap), WS_OK, "ws_prepare_input");
        if (check(wait_readable(k.fd), "the echo arrives")) {
            ssize_t r = sock_recv(k.fd, win, cap);
            check(r > 0, "recv into the TLS window (%zd bytes)", r);
            size_t used = 12345;
            check_code(ws_offer_input(c, win, r > 0 ? (size_t)r : 0, &used), WS_INVALID_ARGUMENT,
                       "ws_offer_input(the lent TLS window) is refused");
            check(used == 12345, "out_consumed untouched");
            ws_state st = WS_STATE_FAILED;
            ws_client_state(c, &st);
            check(st == WS_STATE_OPEN, "the connection carries on");
            /* offer_input closed the window: the bytes are offered by copy. */
            uint8_t copy[65536];
            size_t n = r > 0 ? (size_t)r : 0;
            if (n > sizeof copy) {
                n = sizeof copy;
            }
            memcpy(copy, win, n);
            check_code(ws_offer_input(c, copy, n, &used), WS_OK, "offer a copy");
            check(used == n, "all taken");
            ws_message m;
            rc = next_message(&k, &m);
            check(rc == WS_OK && m.len == sizeof again - 1 && memcmp(m.data, again, m.len) == 0,
                  "the echo came through the copy (%s)", code_name(rc));
        }
        conn_free(&k);
        return finish("lent_memory_test");
    }

    /* 2. The window passed back to ws_offer_input is refused. */
    const size_t big = 100000;
    uint8_t *payload = malloc(big);
    for (size_t i = 0; i < big; i++) {
        payload[i] = (uint8_t)(i * 7);
    }
    check_code(ws_send_binary(c, payload, big), WS_OK, "ws_send_binary(100,000 bytes)");
    send_all(&k);
    uint8_t head[10];
    if (check(recv_exact(k.fd, head, sizeof head), "the echo's frame header (10 bytes)")) {
        size_t used = 0;
        check_code(ws_offer_input(c, head, sizeof head, &used), WS_OK, "offer the header");
        check_code(ws_prepare_input(c, &win, &cap), WS_OK, "ws_prepare_input inside the frame");
        check(cap == big, "the direct window covers the payload (%zu)", cap);
        if (check(recv_exact(k.fd, win, 1000), "1000 payload bytes into the window")) {
            used = 12345;
            check_code(ws_offer_input(c, win, 1000, &used), WS_INVALID_ARGUMENT,
                       "ws_offer_input(the lent window) is refused");
            check(used == 12345, "out_consumed untouched");
            ws_state st = WS_STATE_FAILED;
            ws_client_state(c, &st);
            check(st == WS_STATE_OPEN, "the connection carries on");
            /* The bytes are offered by copy instead. */
            uint8_t *copy = malloc(big);
            memcpy(copy, win, 1000);
            if (recv_exact(k.fd, copy + 1000, big - 1000)) {
                check_code(ws_offer_input(c, copy, big, &used), WS_OK, "offer a copy");
                check(used == big, "all taken");
                ws_message m;
                rc = ws_poll_message(c, &m);
                check(rc == WS_OK && m.len == big && memcmp(m.data, payload, big) == 0,
                      "the 100,000-byte echo is intact (%s)", code_name(rc));
            }
            free(copy);
        }
    }
    free(payload);
    conn_free(&k);
    return finish("lent_memory_test");
}
