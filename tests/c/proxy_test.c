/*
 * proxy_test URL CA_PEM_FILE PROXY_URL [EXPECT_CODE_NAME [HTTP_STATUS [CHALLENGE_TEXT]]]
 *
 * Through a proxy (ws_config_set_proxy), with the socket connected to
 * ws_client_connect_address (never to the URL's host):
 *
 *   without EXPECT: handshake, text echo, 1 MiB binary echo, a client close; then a
 *   second connection to URL's server at /close?code=4001&reason=proxied: the
 *   server's close (4001 "proxied") arrives and the client ends CLOSED.
 *   with EXPECT (e.g. WS_PROXY_AUTH_REQUIRED): the client fails with that code,
 *   ws_client_http_status equals HTTP_STATUS (0 = not checked), and when
 *   CHALLENGE_TEXT is given, ws_client_proxy_challenges contains it; the last error
 *   must not contain the proxy URL's password.
 *   with EXPECT = CONNECT_FAILS: the TCP connect to the connect address fails.
 *
 * WSM_PROXY_AUTHORIZATION sets ws_config_set_proxy_authorization.
 * One "ok - " / "not ok - " line per check; exit status 1 on any failure.
 */
#define _POSIX_C_SOURCE 200809L
#include "test_util.h"

static uint32_t code_by_name(const char *name)
{
    for (size_t i = 0; i < N_CODES; i++) {
        if (strcmp(ALL_CODES[i].name, name) == 0) {
            return ALL_CODES[i].code;
        }
    }
    return 0xffffffffu;
}

static ws_config make_config(const char *ca, const char *proxy)
{
    ws_config cfg = 0;
    check_code(ws_config_new(&cfg), WS_OK, "ws_config_new");
    size_t pem_len = 0;
    uint8_t *pem = read_file(ca, &pem_len);
    if (check(pem != NULL, "read CA file %s", ca)) {
        check_code(ws_config_add_root_pem(cfg, pem, pem_len), WS_OK, "ws_config_add_root_pem");
        free(pem);
    }
    check_code(ws_config_set_proxy(cfg, proxy), WS_OK, "ws_config_set_proxy");
    const char *auth = getenv("WSM_PROXY_AUTHORIZATION");
    if (auth && *auth) {
        check_code(ws_config_set_proxy_authorization(cfg, auth), WS_OK,
                   "ws_config_set_proxy_authorization");
    }
    return cfg;
}

/* The password of "scheme://user:pass@host", or "" (to check it never leaks). */
static void url_password(const char *url, char *out, size_t cap)
{
    out[0] = 0;
    const char *s = strstr(url, "://");
    const char *at = s ? strrchr(s, '@') : NULL;
    const char *colon = s ? strchr(s + 3, ':') : NULL;
    if (at && colon && colon < at && (size_t)(at - colon - 1) < cap) {
        memcpy(out, colon + 1, (size_t)(at - colon - 1));
        out[at - colon - 1] = 0;
    }
}

static int connect_checked(conn *k, ws_config cfg, const char *url, const char *proxy)
{
    uint32_t rc = conn_open(k, cfg, url);
    check_code(rc, WS_OK, "ws_client_new %s", url);
    char host[256];
    size_t len = 0;
    uint16_t port = 0;
    check_code(ws_client_connect_address(k->c, host, sizeof host, &len, &port), WS_OK,
               "ws_client_connect_address");
    diag("connect address %s:%u (proxy %s)", host, (unsigned)port, proxy);
    char tiny[2];
    check_code(ws_client_connect_address(k->c, tiny, sizeof tiny, &len, &port), WS_BUFFER_TOO_SMALL,
               "ws_client_connect_address with a 2-byte buffer -> WS_BUFFER_TOO_SMALL");
    return rc == WS_OK && check(k->fd >= 0, "TCP connect to the connect address");
}

int main(int argc, char **argv)
{
    if (argc < 4 || argc > 7) {
        fprintf(stderr, "usage: %s URL CA_PEM PROXY_URL [EXPECT_CODE [HTTP_STATUS [CHALLENGE]]]\n", argv[0]);
        return 2;
    }
    const char *url = argv[1], *ca = argv[2], *proxy = argv[3];
    start_deadline(60);
    diag("proxy_test %s (wsmachine %s)", url, ws_version());
    ws_config cfg = make_config(ca, proxy);
    static conn k;

    if (argc >= 5 && strcmp(argv[4], "CONNECT_FAILS") == 0) {
        /* The proxy is unreachable: the caller's own connect fails, and the client
         * (which never saw a byte) is simply freed. */
        check_code(conn_open(&k, cfg, url), WS_OK, "ws_client_new");
        check(k.fd < 0, "the TCP connect to the unreachable proxy fails");
        uint32_t st = 0;
        check(ws_client_state(k.c, &st) == WS_OK && st == WS_STATE_TLS_HANDSHAKING,
              "the client waits in its handshake state");
        conn_free(&k);
        ws_config_free(cfg);
        return finish("proxy_test");
    }
    if (argc >= 5) {
        uint32_t want = code_by_name(argv[4]);
        uint16_t want_status = argc >= 6 ? (uint16_t)atoi(argv[5]) : 0;
        if (connect_checked(&k, cfg, url, proxy)) {
            wait_for(&k, pred_failed, 15000);
            check_code(k.fail, want, "the client fails with %s", argv[4]);
            const char *err = client_error(k.c);
            diag("last error: %s", err);
            char pw[128];
            url_password(proxy, pw, sizeof pw);
            check(pw[0] == 0 || strstr(err, pw) == NULL, "the last error does not contain the password");
            check(strstr(err, "proxy") != NULL, "the last error names the proxy");
            uint16_t status = 0;
            check_code(ws_client_http_status(k.c, &status), WS_OK, "ws_client_http_status");
            check(want_status == 0 || status == want_status, "HTTP status %u (got %u)", want_status, status);
            if (argc >= 7) {
                char ch[1024];
                size_t len = 0;
                check_code(ws_client_proxy_challenges(k.c, ch, sizeof ch, &len), WS_OK,
                           "ws_client_proxy_challenges");
                diag("challenges: %s", ch);
                check(strstr(ch, argv[6]) != NULL, "the challenges contain %s", argv[6]);
            }
        }
        conn_free(&k);
        ws_config_free(cfg);
        return finish("proxy_test");
    }

    if (connect_checked(&k, cfg, url, proxy)
        && check(wait_for(&k, pred_open, 15000), "handshake through the proxy completes (OPEN)")) {
        uint32_t ver = 0;
        ws_client_tls_version(k.c, &ver);
        diag("origin TLS version %" PRIu32, ver);
        static const char hello[] = "hello through the proxy";
        check_code(ws_send_text(k.c, (const uint8_t *)hello, strlen(hello)), WS_OK, "ws_send_text");
        owned_msg m;
        if (check(next_msg(&k, &m, 15000), "text echo arrives")) {
            check(m.kind == WS_MESSAGE_TEXT && m.len == strlen(hello) && memcmp(m.data, hello, m.len) == 0,
                  "text echo is byte-exact");
            free(m.data);
        }
        size_t n = (size_t)1 << 20;
        uint8_t *buf = malloc(n);
        for (size_t i = 0; i < n; i++) {
            buf[i] = (uint8_t)(i * 7 + (i >> 11));
        }
        check_code(ws_send_binary(k.c, buf, n), WS_OK, "ws_send_binary 1 MiB");
        if (check(next_msg(&k, &m, 30000), "1 MiB echo arrives")) {
            check(m.kind == WS_MESSAGE_BINARY && m.len == n && memcmp(m.data, buf, n) == 0,
                  "1 MiB echo is byte-exact");
            free(m.data);
        }
        free(buf);
        check_code(ws_close(k.c, 1000, NULL, 0), WS_OK, "ws_close(1000)");
        check(wait_for(&k, pred_closed, 10000), "closed cleanly (state %s)", state_name(k.state));
    } else {
        diag("fail=%" PRIu32 " (%s) state %s: %s", k.fail, ws_result_str(k.fail), state_name(k.state),
             client_error(k.c));
    }
    conn_free(&k);

    /* The server closes: /close?code=4001&reason=proxied on the same server. */
    char close_url[512];
    const char *path = strchr(strstr(url, "://") + 3, '/');
    size_t base = path ? (size_t)(path - url) : strlen(url);
    snprintf(close_url, sizeof close_url, "%.*s/close?code=4001&reason=proxied", (int)base, url);
    if (connect_checked(&k, cfg, close_url, proxy)) {
        owned_msg m;
        if (check(next_msg(&k, &m, 15000), "the server's close arrives")) {
            check(m.kind == WS_MESSAGE_CLOSE && m.close_code == 4001 && strcmp((char *)m.data, "proxied") == 0,
                  "server close 4001 \"proxied\" (got code %u \"%s\")", m.close_code, (char *)m.data);
            free(m.data);
        }
        check(wait_for(&k, pred_closed, 10000), "closed after the server's close (state %s)", state_name(k.state));
        check(k.fail == 0, "no failure (got %s)", ws_result_str(k.fail));
    }
    conn_free(&k);
    ws_config_free(cfg);
    size_t handles = 99;
    check(ws_handle_count(&handles) == WS_OK && handles == 0, "no handle left (got %zu)", handles);
    return finish("proxy_test");
}
