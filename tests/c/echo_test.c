/*
 * echo_test URL [CA_PEM_FILE]
 *
 * Drives one wsmachine client over a real TCP socket against an echo server
 * (tests/peers/echo_server.py): handshake, text and binary echoes from 0 bytes to
 * 16 MiB (byte-exact, same type), ping/pong, close 1000 "bye", and a handle leak
 * check. One "ok - " / "not ok - " line per check; exit status 1 on any failure.
 * Overall deadline: 60 s (WSM_TEST_TIMEOUT_S overrides, e.g. under valgrind).
 * WSM_INPUT_WINDOW=1 receives with recv() straight into ws_prepare_input instead of
 * offering a buffer of our own with ws_offer_input; WSM_INPUT_WINDOW=2 keeps the window
 * lent between reads with ws_commit_prepare_input.
 */
#define _POSIX_C_SOURCE 200809L
#include "test_util.h"

#define MAX_MSG ((size_t)17 << 20) /* 16 MiB plus room */

/* Deterministic payloads. Text mixes 1- to 4-byte UTF-8 sequences so that they
 * straddle frame and TLS record boundaries, and is exactly `n` bytes long. */
static void fill_binary(uint8_t *p, size_t n, uint32_t seed)
{
    uint32_t x = seed * 2654435761u + 1u;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (uint8_t)(x >> 24);
    }
}

static void fill_text(uint8_t *p, size_t n)
{
    static const char *const seqs[] = {"a", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "Z", " "};
    size_t i = 0, k = 0;
    while (i < n) {
        const char *s = seqs[k++ % 6];
        size_t l = strlen(s);
        if (l > n - i) {
            s = "x";
            l = 1;
        }
        memcpy(p + i, s, l);
        i += l;
    }
}

static const char *kind_name(uint32_t k)
{
    switch (k) {
    case WS_MESSAGE_TEXT: return "TEXT";
    case WS_MESSAGE_BINARY: return "BINARY";
    case WS_MESSAGE_PING: return "PING";
    case WS_MESSAGE_PONG: return "PONG";
    case WS_MESSAGE_CLOSE: return "CLOSE";
    default: return "?";
    }
}

/* Next message, skipping pongs that answer the library's keepalive pings (their
 * payload differs from ours). */
static int next_non_keepalive(conn *k, owned_msg *m, const char *our_ping)
{
    for (;;) {
        if (!next_msg(k, m, 30000)) {
            return 0;
        }
        if (m->kind == WS_MESSAGE_PONG && (!our_ping || strcmp((char *)m->data, our_ping) != 0)) {
            diag("skipping keepalive pong (%zu bytes)", m->len);
            free(m->data);
            continue;
        }
        return 1;
    }
}

static void echo_once(conn *k, uint32_t kind, size_t n, uint8_t *buf)
{
    const char *what = kind == WS_MESSAGE_TEXT ? "text" : "binary";
    if (kind == WS_MESSAGE_TEXT) {
        fill_text(buf, n);
    } else {
        fill_binary(buf, n, (uint32_t)n);
    }
    uint64_t t0 = now_ms();
    /* (NULL, 0) is a valid empty buffer. */
    ws_result rc = kind == WS_MESSAGE_TEXT ? ws_send_text(k->c, n ? buf : NULL, n)
                                          : ws_send_binary(k->c, n ? buf : NULL, n);
    if (!check_code(rc, WS_OK, "send %s %zu bytes", what, n)) {
        return;
    }
    owned_msg m;
    if (!next_non_keepalive(k, &m, NULL)) {
        check(0, "echo %s %zu bytes", what, n);
        diag("  no message (fail=%" PRIu32 " %s, state %s): %s", k->fail, ws_result_str(k->fail),
             state_name(k->state), client_error(k->c));
        return;
    }
    int same = m.kind == kind && m.len == n && (n == 0 || memcmp(m.data, buf, n) == 0);
    check(same, "echo %s %zu bytes (type and content byte-exact)", what, n);
    if (!same) {
        size_t diff = 0;
        while (diff < n && diff < m.len && m.data[diff] == buf[diff]) {
            diff++;
        }
        diag("  got %s %zu bytes, want %s %zu; first difference at %zu", kind_name(m.kind), m.len,
             kind_name(kind), n, diff);
    } else if (n >= ((size_t)1 << 20)) {
        diag("  %zu bytes round trip in %" PRIu64 " ms", n, now_ms() - t0);
    }
    free(m.data);
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s URL [CA_PEM_FILE]\n", argv[0]);
        return 2;
    }
    const char *url = argv[1];
    int tls = strncmp(url, "wss://", 6) == 0;
    start_deadline(60);
    diag("echo_test %s (wsmachine %s)", url, ws_version());

    ws_config cfg = 0;
    check_code(ws_config_new(&cfg), WS_OK, "ws_config_new");
    if (argc == 3) {
        size_t pem_len = 0;
        uint8_t *pem = read_file(argv[2], &pem_len);
        if (!check(pem != NULL, "read CA file %s", argv[2])) {
            return finish("echo_test");
        }
        check_code(ws_config_add_root_pem(cfg, pem, pem_len), WS_OK, "ws_config_add_root_pem");
        free(pem);
    }
    check_code(ws_config_set_max_message_size(cfg, MAX_MSG), WS_OK,
               "ws_config_set_max_message_size(17 MiB)");

    static conn k; /* large buffers: keep off the stack */
    ws_result rc = conn_open(&k, cfg, url);
    const char *window = getenv("WSM_INPUT_WINDOW");
    k.use_window = window == NULL ? 0 : strcmp(window, "1") == 0 ? 1 : strcmp(window, "2") == 0 ? 2 : 0;
    diag("input through %s", k.use_window == 2   ? "ws_commit_prepare_input (window kept between reads)"
                             : k.use_window == 1 ? "ws_prepare_input/ws_commit_input"
                                                 : "ws_offer_input");
    check_code(rc, WS_OK, "ws_client_new");
    if (rc != WS_OK || !check(k.fd >= 0, "TCP connect to %s", url)) {
        conn_free(&k);
        ws_config_free(cfg);
        return finish("echo_test");
    }
    /* The config may be freed while its clients live. */
    check_code(ws_config_free(cfg), WS_OK, "ws_config_free while the client lives");

    ws_state st = k.state;
    check(st == (tls ? WS_STATE_TLS_HANDSHAKING : WS_STATE_WS_HANDSHAKING),
          "initial state is %s", tls ? "TLS_HANDSHAKING" : "WS_HANDSHAKING");
    if (!check(wait_for(&k, pred_open, 15000), "handshake completes (WS_STATE_OPEN)")) {
        diag("  fail=%" PRIu32 " (%s) state %s: %s", k.fail, ws_result_str(k.fail), state_name(k.state),
             client_error(k.c));
        conn_free(&k);
        return finish("echo_test");
    }
    uint16_t status = 0;
    ws_client_http_status(k.c, &status);
    check(status == 101, "ws_client_http_status == 101");
    uint32_t ver = 99;
    ws_client_tls_version(k.c, &ver);
    check(tls ? (ver == 12 || ver == 13) : ver == 0, "ws_client_tls_version is %s (got %" PRIu32 ")",
          tls ? "12 or 13" : "0 for ws://", ver);

    static const size_t sizes[] = {0, 1, 125, 126, 65535, 65536, (size_t)1 << 20, (size_t)16 << 20};
    uint8_t *buf = malloc((size_t)16 << 20);
    for (int t = 0; t < 2 && !past_deadline(); t++) {
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0] && !past_deadline(); i++) {
            echo_once(&k, t == 0 ? WS_MESSAGE_TEXT : WS_MESSAGE_BINARY, sizes[i], buf);
        }
    }
    free(buf);

    /* ping -> PONG with the same payload */
    static const char ping[] = "wsmachine ping 0123456789";
    check_code(ws_send_ping(k.c, (const uint8_t *)ping, strlen(ping)), WS_OK, "ws_send_ping");
    owned_msg m;
    if (next_non_keepalive(&k, &m, ping)) {
        check(m.kind == WS_MESSAGE_PONG && m.len == strlen(ping) && memcmp(m.data, ping, m.len) == 0,
              "pong received with the ping's payload");
        free(m.data);
    } else {
        check(0, "pong received with the ping's payload");
    }

    /* liveness probe: a ping with its own deadline, answered by the server's pong */
    check_code(ws_client_probe(k.c, now_ms(), 0), WS_INVALID_ARGUMENT, "ws_client_probe(deadline 0) refused");
    uint64_t probe_at = now_ms();
    check_code(ws_client_probe(k.c, probe_at, 5000), WS_OK, "ws_client_probe(now, 5000)");
    uint64_t deadline = 0;
    check(ws_client_next_deadline(k.c, &deadline) == WS_OK && deadline == probe_at + 5000,
          "ws_client_next_deadline is the probe's deadline (got %" PRIu64 ")", deadline);
    int answered = 0;
    while (!answered && next_msg(&k, &m, 5000)) {
        answered = m.kind == WS_MESSAGE_PONG && m.len == 0;
        free(m.data);
    }
    check(answered, "the probe's pong arrived");
    check(k.fail == 0 && k.state == WS_STATE_OPEN, "still open after the probe (state %s)", state_name(k.state));

    /* close 1000 "bye" -> the server's close, then CLOSED */
    check_code(ws_close(k.c, 1000, (const uint8_t *)"bye", 3), WS_OK, "ws_close(1000, \"bye\")");
    observe_state(&k);
    check(k.state == WS_STATE_CLOSING, "state CLOSING after ws_close (got %s)", state_name(k.state));
    check_code(ws_send_text(k.c, (const uint8_t *)"x", 1), WS_ALREADY_CLOSED,
               "ws_send_text after ws_close -> WS_ALREADY_CLOSED");
    if (next_non_keepalive(&k, &m, ping)) {
        check(m.kind == WS_MESSAGE_CLOSE && m.close_code == 1000,
              "server's WS_MESSAGE_CLOSE with code 1000 (got %s %u)", kind_name(m.kind), m.close_code);
        check(m.len == 3 && memcmp(m.data, "bye", 3) == 0, "close reason echoed as \"bye\" (got \"%s\")",
              (char *)m.data);
        free(m.data);
    } else {
        check(0, "server's WS_MESSAGE_CLOSE with code 1000");
    }
    check(wait_for(&k, pred_closed, 10000), "ws_poll_message -> WS_CLOSED and state WS_STATE_CLOSED (state %s)",
          state_name(k.state));
    ws_message pm;
    check_code(ws_poll_message(k.c, &pm), WS_CLOSED, "ws_poll_message stays WS_CLOSED");
    check(k.fail == 0, "no failure code during the session (got %" PRIu32 " %s)", k.fail,
          ws_result_str(k.fail));
    check(k.write_errno == 0, "no socket write error (errno %d)", k.write_errno);
    size_t pending = 1;
    check(ws_client_pending_output(k.c, &pending) == WS_OK && pending == 0, "no output left after close");
    diag("partial socket writes handled: %zu; server pings answered: %zu", k.partial_writes, k.pings_seen);

    conn_free(&k);
    size_t handles = 99;
    ws_result hrc = ws_handle_count(&handles);
    check(hrc == WS_OK && handles == 0, "ws_handle_count == 0 at the end (got %zu)", handles);
    if (past_deadline()) {
        check(0, "finished within the overall deadline");
    }
    return finish("echo_test");
}
