/*
 * ffi_misuse_test: the C ABI's answers to misuse, checked against the codes that
 * wsmachine.h documents. No network: ws_client_new only prepares bytes, and an
 * "open" client is made in memory by answering its ws:// upgrade request here.
 *
 * Covers NULL pointers (every pointer parameter), handle 0, garbage, wrong-type,
 * stale and double-freed handles, wrong-state calls, argument validation (close
 * codes and reasons, UTF-8, ping size), bad URLs, config validation, the last-error
 * copy-out convention, ws_result_str, and ws_read_output's WS_BUFFER_TOO_SMALL.
 * One "ok - " / "not ok - " line per check; exit status 1 on any failure.
 */
#define _POSIX_C_SOURCE 200809L
#include "test_util.h"

#include <pthread.h>

#define GARBAGE ((uint64_t)0xdeadbeef12345678ull)
#define SENTINEL_U32 0x5a5a5a5au

/* ------------------------------------------------------------------ SHA-1, base64 */

#define ROL(x, n) (((x) << (n)) | ((x) >> (32 - (n))))

static void sha1(const uint8_t *msg, size_t len, uint8_t out[20])
{
    uint32_t h[5] = {0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u};
    size_t total = ((len + 8) / 64 + 1) * 64;
    uint8_t *m = calloc(total, 1);
    memcpy(m, msg, len);
    m[len] = 0x80;
    uint64_t bits = (uint64_t)len * 8;
    for (int i = 0; i < 8; i++) {
        m[total - 1 - (size_t)i] = (uint8_t)(bits >> (8 * i));
    }
    for (size_t off = 0; off < total; off += 64) {
        uint32_t w[80];
        for (int i = 0; i < 16; i++) {
            const uint8_t *p = m + off + 4 * (size_t)i;
            w[i] = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
        }
        for (int i = 16; i < 80; i++) {
            w[i] = ROL(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
        }
        uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
        for (int i = 0; i < 80; i++) {
            uint32_t f, k;
            if (i < 20) {
                f = (b & c) | (~b & d);
                k = 0x5A827999u;
            } else if (i < 40) {
                f = b ^ c ^ d;
                k = 0x6ED9EBA1u;
            } else if (i < 60) {
                f = (b & c) | (b & d) | (c & d);
                k = 0x8F1BBCDCu;
            } else {
                f = b ^ c ^ d;
                k = 0xCA62C1D6u;
            }
            uint32_t t = ROL(a, 5) + f + e + k + w[i];
            e = d;
            d = c;
            c = ROL(b, 30);
            b = a;
            a = t;
        }
        h[0] += a;
        h[1] += b;
        h[2] += c;
        h[3] += d;
        h[4] += e;
    }
    free(m);
    for (int i = 0; i < 5; i++) {
        out[4 * i] = (uint8_t)(h[i] >> 24);
        out[4 * i + 1] = (uint8_t)(h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(h[i] >> 8);
        out[4 * i + 3] = (uint8_t)h[i];
    }
}

static void base64(const uint8_t *in, size_t n, char *out)
{
    static const char T[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) | (i + 2 < n ? in[i + 2] : 0);
        out[o++] = T[(v >> 18) & 63];
        out[o++] = T[(v >> 12) & 63];
        out[o++] = i + 1 < n ? T[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? T[v & 63] : '=';
    }
    out[o] = 0;
}

static void accept_key(const char *key, char out[32])
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
    uint8_t d[20];
    sha1((const uint8_t *)buf, strlen(buf), d);
    base64(d, 20, out);
}

/* ------------------------------------------------------------------ in-memory peer */

/* Reads everything pending into buf (NUL-terminated); returns the byte count. */
static size_t take_output(ws_client c, uint8_t *buf, size_t cap)
{
    size_t total = 0;
    for (;;) {
        size_t n = 0;
        if (ws_read_output(c, buf + total, cap - 1 - total, &n) != WS_OK || n == 0) {
            break;
        }
        total += n;
        if (total == cap - 1) {
            break;
        }
    }
    buf[total] = 0;
    return total;
}

static uint32_t offer_all(ws_client c, const void *data, size_t n)
{
    size_t used = 0;
    ws_result rc = ws_offer_input(c, (const uint8_t *)data, n, &used);
    if (rc == WS_OK && used != n) {
        diag("  ws_offer_input consumed %zu of %zu", used, n);
    }
    return rc;
}

static uint32_t state_of(ws_client c)
{
    ws_state st = 0;
    if (ws_client_state(c, &st) != WS_OK) {
        return 0;
    }
    return st;
}

static size_t pending_of(ws_client c)
{
    size_t n = (size_t)-1;
    ws_client_pending_output(c, &n);
    return n;
}

static char g_request[8192]; /* the last upgrade request answered */

/* A ws:// client answered with a correct 101, so it is OPEN without any socket. */
static ws_client open_in_memory(ws_config cfg)
{
    ws_client c = 0;
    if (ws_client_new(cfg, "ws://example.com/chat?x=1", &c) != WS_OK) {
        check(0, "in-memory: ws_client_new(ws://example.com/chat?x=1)");
        return 0;
    }
    take_output(c, (uint8_t *)g_request, sizeof g_request);
    const char *p = strstr(g_request, "Sec-WebSocket-Key: ");
    if (!p) {
        p = strstr(g_request, "sec-websocket-key: ");
    }
    char key[64] = {0};
    if (p) {
        p += strlen("Sec-WebSocket-Key: ");
        size_t l = strcspn(p, "\r\n");
        if (l < sizeof key) {
            memcpy(key, p, l);
        }
    }
    char acc[32];
    accept_key(key, acc);
    char resp[256];
    snprintf(resp, sizeof resp,
             "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Accept: %s\r\n\r\n",
             acc);
    ws_result rc = offer_all(c, resp, strlen(resp));
    ws_message m;
    uint32_t prc = ws_poll_message(c, &m);
    if (rc != WS_OK || prc != WS_NEED_INPUT || state_of(c) != WS_STATE_OPEN) {
        check(0, "in-memory: client opens (offer %s, poll %s, state %s)", code_name(rc), code_name(prc),
              state_name(state_of(c)));
        diag("  request: %s", g_request);
    }
    return c;
}

/* ------------------------------------------------------------------ sections */

static void test_result_str(void)
{
    int all_distinct = 1;
    for (size_t i = 0; i < N_CODES; i++) {
        const char *s = ws_result_str(ALL_CODES[i].code);
        int ok = s && *s && strcmp(s, "unknown result code") != 0;
        check(ok, "ws_result_str(%s = %" PRIu32 ") is a specific description (\"%s\")", ALL_CODES[i].name,
              ALL_CODES[i].code, s ? s : "(null)");
        for (size_t j = 0; s && j < i; j++) {
            const char *t = ws_result_str(ALL_CODES[j].code);
            if (t && strcmp(s, t) == 0) {
                diag("  %s and %s share \"%s\"", ALL_CODES[i].name, ALL_CODES[j].name, s);
                all_distinct = 0;
            }
        }
    }
    check(all_distinct, "ws_result_str: every code has its own description");
    static const uint32_t unknown[] = {3, 99, 108, 199, 211, 299, 307, 399, 404, 499, 503, 899, 901, 0x7fffffffu,
                                       0xffffffffu};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        const char *s = ws_result_str(unknown[i]);
        check(s && strcmp(s, "unknown result code") == 0, "ws_result_str(%" PRIu32 ") -> \"unknown result code\"",
              unknown[i]);
    }
}

/* On a new thread: ws_last_error starts empty; then a failed call fills this
 * thread's copy (a Rust thread-local String, freed when the thread exits; under
 * LeakSanitizer a missing thread-local destructor would show up as a leak). */
static void *thread_last_error(void *arg)
{
    size_t *len = arg;
    len[0] = len[1] = 12345;
    if (ws_last_error(NULL, 0, &len[0]) != WS_OK) {
        len[0] = 54321;
    }
    ws_state st = 0;
    if (ws_client_state(0, &st) == WS_INVALID_HANDLE && ws_last_error(NULL, 0, &len[1]) != WS_OK) {
        len[1] = 54321;
    }
    return NULL;
}

/* ws_last_error / ws_client_last_error / ws_client_subprotocol copy-out convention. */
typedef uint32_t (*copy_fn)(ws_client c, char *buf, size_t cap, size_t *out_len);

static uint32_t thread_copy(ws_client c, char *buf, size_t cap, size_t *out_len)
{
    (void)c;
    return ws_last_error(buf, cap, out_len);
}

static void check_copy_out(const char *name, copy_fn f, ws_client c)
{
    char full[1024];
    size_t len = 0;
    check_code(f(c, NULL, 0, &len), WS_OK, "%s(NULL, 0, &len) -> WS_OK", name);
    if (!check(len > 0 && len < sizeof full - 8, "%s: *out_len is the message length (%zu)", name, len)) {
        return;
    }
    size_t l2 = 0;
    memset(full, 'Z', sizeof full);
    check(f(c, full, len + 1, &l2) == WS_OK && l2 == len && full[len] == 0 && strlen(full) == len &&
              full[len + 1] == 'Z',
          "%s: cap = len + 1 gives the whole message and a NUL, nothing beyond", name);
    char buf[sizeof full];
    memset(buf, 'Z', sizeof buf);
    l2 = 0;
    check(f(c, buf, 0, &l2) == WS_OK && l2 == len && buf[0] == 'Z', "%s: cap 0 writes nothing, *out_len = %zu",
          name, len);
    memset(buf, 'Z', sizeof buf);
    l2 = 0;
    check(f(c, buf, 1, &l2) == WS_OK && l2 == len && buf[0] == 0 && buf[1] == 'Z',
          "%s: cap 1 writes only the NUL, *out_len = full length", name);
    memset(buf, 'Z', sizeof buf);
    l2 = 0;
    check(f(c, buf, 5, &l2) == WS_OK && l2 == len && memcmp(buf, full, 4) == 0 && buf[4] == 0 && buf[5] == 'Z',
          "%s: cap 5 truncates to 4 bytes + NUL, *out_len = full length", name);
    memset(buf, 'Z', sizeof buf);
    l2 = 0;
    check(f(c, buf, len, &l2) == WS_OK && l2 == len && memcmp(buf, full, len - 1) == 0 && buf[len - 1] == 0 &&
              buf[len] == 'Z',
          "%s: cap = len truncates the last byte", name);
    memset(buf, 'Z', sizeof buf);
    l2 = 0;
    check(f(c, buf, sizeof buf, &l2) == WS_OK && l2 == len && strcmp(buf, full) == 0 && buf[len + 1] == 'Z',
          "%s: a large cap writes len + 1 bytes only", name);
    size_t l3 = 777;
    check_code(f(c, NULL, 5, &l3), WS_NULL_POINTER, "%s(NULL, 5, &len) -> WS_NULL_POINTER", name);
    check(l3 == 777, "%s: *out_len untouched on failure", name);
    check_code(f(c, buf, sizeof buf, NULL), WS_NULL_POINTER, "%s(buf, cap, NULL) -> WS_NULL_POINTER", name);
}

static void test_last_error(ws_config cfg)
{
    ws_client c = 0;
    check_code(ws_client_new(cfg, "http://localhost/", &c), WS_INVALID_URL, "ws_client_new(http://) -> WS_INVALID_URL");
    char msg[512];
    size_t len = 0;
    ws_last_error(msg, sizeof msg, &len);
    diag("  ws_last_error: %s", msg);
    check_copy_out("ws_last_error", thread_copy, 0);

    pthread_t t;
    size_t other[2] = {999, 999};
    if (check(pthread_create(&t, NULL, thread_last_error, other) == 0, "pthread_create")) {
        pthread_join(t, NULL);
        check(other[0] == 0, "ws_last_error is per thread: 0 on a thread where nothing failed (got %zu)", other[0]);
        check(other[1] > 0 && other[1] != 12345 && other[1] != 54321,
              "ws_last_error on that thread after ws_client_state(0) failed there (len %zu)", other[1]);
    }
    size_t mine = 0;
    ws_last_error(NULL, 0, &mine);
    check(mine == len, "this thread's ws_last_error is unchanged by the other thread (%zu, was %zu)", mine, len);
}

static void test_versions(void)
{
    char want[64];
    snprintf(want, sizeof want, "%d.%d.%d", WSMACHINE_VERSION_MAJOR, WSMACHINE_VERSION_MINOR,
             WSMACHINE_VERSION_PATCH);
    const char *v = ws_version();
    check(v && strcmp(v, want) == 0, "ws_version() == \"%s\" from the header macros (got \"%s\")", want,
          v ? v : "(null)");
}

static void test_null_pointers(ws_config cfg)
{
    ws_client c = 0;
    check_code(ws_client_new(cfg, "wss://localhost:1/", &c), WS_OK, "fresh wss:// client for NULL checks");
    uint8_t data[16] = "abc";
    char cbuf[16];
    size_t n = 0;
    uint32_t u = 0;
    uint16_t u16 = 0;
    uint64_t u64 = 0;
    ws_message m;
    ws_client c2 = 0;
    size_t before = pending_of(c);

    check_code(ws_client_new(cfg, NULL, &c2), WS_NULL_POINTER, "ws_client_new(url NULL)");
    check_code(ws_client_new(cfg, "wss://localhost/", NULL), WS_NULL_POINTER, "ws_client_new(out_client NULL)");
    check_code(ws_offer_input(c, NULL, 5, &n), WS_NULL_POINTER, "ws_offer_input(data NULL, len 5)");
    check_code(ws_offer_input(c, data, 3, NULL), WS_NULL_POINTER, "ws_offer_input(out_consumed NULL)");
    check_code(ws_read_output(c, NULL, 10, &n), WS_NULL_POINTER, "ws_read_output(buf NULL, cap 10)");
    check_code(ws_read_output(c, data, sizeof data, NULL), WS_NULL_POINTER, "ws_read_output(out_len NULL)");
    check_code(ws_client_pending_output(c, NULL), WS_NULL_POINTER, "ws_client_pending_output(NULL)");
    check_code(ws_poll_message(c, NULL), WS_NULL_POINTER, "ws_poll_message(NULL)");
    {
        uint8_t *win = NULL;
        size_t cap = 0;
        const uint8_t *view = NULL;
        check_code(ws_prepare_input(c, NULL, &cap), WS_NULL_POINTER, "ws_prepare_input(out_buf NULL)");
        check_code(ws_prepare_input(c, &win, NULL), WS_NULL_POINTER, "ws_prepare_input(out_cap NULL)");
        check_code(ws_peek_output(c, NULL, &cap), WS_NULL_POINTER, "ws_peek_output(out_data NULL)");
        check_code(ws_peek_output(c, &view, NULL), WS_NULL_POINTER, "ws_peek_output(out_len NULL)");
        check_code(ws_commit_input(c, 1), WS_INVALID_STATE, "ws_commit_input without a window -> WS_INVALID_STATE");
        check_code(ws_prepare_input(c, &win, &cap), WS_OK, "ws_prepare_input");
        check(win != NULL && cap > 0, "ws_prepare_input lends a window (%zu bytes)", cap);
        check_code(ws_commit_input(c, cap + 1), WS_INVALID_ARGUMENT,
                   "ws_commit_input(more than the window) -> WS_INVALID_ARGUMENT");
        check_code(ws_commit_input(c, 0), WS_INVALID_STATE, "the window is gone after a refused commit");
        ws_state st = 0;
        check(ws_client_state(c, &st) == WS_OK && st == WS_STATE_TLS_HANDSHAKING,
              "caller mistakes leave the client as it was");
    }
    check_code(ws_poll_message_copy(c, NULL, 10, &u, &n, &u16), WS_NULL_POINTER,
               "ws_poll_message_copy(buf NULL, cap 10)");
    check_code(ws_poll_message_copy(c, data, sizeof data, NULL, &n, &u16), WS_NULL_POINTER,
               "ws_poll_message_copy(out_kind NULL)");
    check_code(ws_poll_message_copy(c, data, sizeof data, &u, NULL, &u16), WS_NULL_POINTER,
               "ws_poll_message_copy(out_len NULL)");
    check_code(ws_poll_message_copy(c, data, sizeof data, &u, &n, NULL), WS_NULL_POINTER,
               "ws_poll_message_copy(out_close_code NULL)");
    check_code(ws_send_text(c, NULL, 3), WS_NULL_POINTER, "ws_send_text(NULL, 3)");
    check_code(ws_send_binary(c, NULL, 3), WS_NULL_POINTER, "ws_send_binary(NULL, 3)");
    check_code(ws_send_ping(c, NULL, 3), WS_NULL_POINTER, "ws_send_ping(NULL, 3)");
    check_code(ws_close(c, 1000, NULL, 3), WS_NULL_POINTER, "ws_close(reason NULL, 3)");
    check_code(ws_client_next_deadline(c, NULL), WS_NULL_POINTER, "ws_client_next_deadline(NULL)");
    check_code(ws_client_state(c, NULL), WS_NULL_POINTER, "ws_client_state(NULL)");
    check_code(ws_client_last_error(c, NULL, 10, &n), WS_NULL_POINTER, "ws_client_last_error(buf NULL, cap 10)");
    check_code(ws_client_last_error(c, cbuf, sizeof cbuf, NULL), WS_NULL_POINTER, "ws_client_last_error(out_len NULL)");
    check_code(ws_client_http_status(c, NULL), WS_NULL_POINTER, "ws_client_http_status(NULL)");
    check_code(ws_client_is_resumed(c, NULL), WS_NULL_POINTER, "ws_client_is_resumed(NULL)");
    check_code(ws_client_tls_version(c, NULL), WS_NULL_POINTER, "ws_client_tls_version(NULL)");
    check_code(ws_client_subprotocol(c, NULL, 10, &n), WS_NULL_POINTER, "ws_client_subprotocol(buf NULL, cap 10)");
    check_code(ws_client_subprotocol(c, cbuf, sizeof cbuf, NULL), WS_NULL_POINTER,
               "ws_client_subprotocol(out_len NULL)");
    check_code(ws_handle_count(NULL), WS_NULL_POINTER, "ws_handle_count(NULL)");
    check_code(ws_config_new(NULL), WS_NULL_POINTER, "ws_config_new(NULL)");
    check_code(ws_config_add_root_pem(cfg, NULL, 10), WS_NULL_POINTER, "ws_config_add_root_pem(NULL, 10)");
    check_code(ws_config_add_header(cfg, NULL, "v"), WS_NULL_POINTER, "ws_config_add_header(name NULL)");
    check_code(ws_config_add_header(cfg, "X-Test", NULL), WS_NULL_POINTER, "ws_config_add_header(value NULL)");
    check_code(ws_last_error(NULL, 5, &n), WS_NULL_POINTER, "ws_last_error(buf NULL, cap 5)");
    check_code(ws_last_error(cbuf, sizeof cbuf, NULL), WS_NULL_POINTER, "ws_last_error(out_len NULL)");
    /* NULL where the header allows it */
    check_code(ws_config_set_subprotocols(cfg, NULL), WS_OK, "ws_config_set_subprotocols(NULL) offers none");
    check_code(ws_config_set_server_name(cfg, NULL), WS_OK, "ws_config_set_server_name(NULL) restores the URL host");
    check_code(ws_poll_message_copy(c, NULL, 0, &u, &n, &u16), WS_NEED_INPUT,
               "ws_poll_message_copy(NULL, 0) is a valid empty buffer -> WS_NEED_INPUT");
    check_code(ws_client_last_error(c, NULL, 0, &n), WS_OK, "ws_client_last_error(NULL, 0, &len) -> WS_OK");
    check_code(ws_config_add_root_pem(cfg, NULL, 0), WS_INVALID_CONFIG,
               "ws_config_add_root_pem(NULL, 0): empty, no certificate -> WS_INVALID_CONFIG");

    /* None of that touched the client. */
    check(state_of(c) == WS_STATE_TLS_HANDSHAKING && pending_of(c) == before,
          "NULL-pointer calls left the client unchanged (state %s, pending %zu of %zu)", state_name(state_of(c)),
          pending_of(c), before);
    check_code(ws_poll_message(c, &m), WS_NEED_INPUT, "fresh client: ws_poll_message -> WS_NEED_INPUT");
    u64 = 1;
    check(ws_client_next_deadline(c, &u64) == WS_OK && u64 == 0, "ws_client_next_deadline is 0 before the first tick");
    ws_client_free(c);
}

/* Every client function with an invalid client handle; out-params stay untouched. */
static void check_bad_client_handle(ws_client h, const char *what)
{
    uint8_t data[8] = "abc";
    char cbuf[8];
    size_t n = 4242;
    uint32_t u = SENTINEL_U32;
    uint16_t u16 = 4242;
    uint64_t u64 = 4242;
    ws_message m;
    memset(&m, 0x5a, sizeof m);
#define BAD(call, fname) check_code(call, WS_INVALID_HANDLE, "%s with %s -> WS_INVALID_HANDLE", fname, what)
    BAD(ws_offer_input(h, data, 3, &n), "ws_offer_input");
    BAD(ws_read_output(h, data, sizeof data, &n), "ws_read_output");
    BAD(ws_client_pending_output(h, &n), "ws_client_pending_output");
    BAD(ws_poll_message(h, &m), "ws_poll_message");
    BAD(ws_poll_message_copy(h, data, sizeof data, &u, &n, &u16), "ws_poll_message_copy");
    BAD(ws_send_text(h, data, 3), "ws_send_text");
    BAD(ws_send_binary(h, data, 3), "ws_send_binary");
    BAD(ws_send_ping(h, data, 3), "ws_send_ping");
    BAD(ws_close(h, 1000, data, 3), "ws_close");
    BAD(ws_client_tick(h, 1000), "ws_client_tick");
    BAD(ws_client_next_deadline(h, &u64), "ws_client_next_deadline");
    BAD(ws_client_state(h, &u), "ws_client_state");
    BAD(ws_client_last_error(h, cbuf, sizeof cbuf, &n), "ws_client_last_error");
    BAD(ws_client_http_status(h, &u16), "ws_client_http_status");
    BAD(ws_client_is_resumed(h, &u), "ws_client_is_resumed");
    BAD(ws_client_tls_version(h, &u), "ws_client_tls_version");
    BAD(ws_client_subprotocol(h, cbuf, sizeof cbuf, &n), "ws_client_subprotocol");
    {
        uint8_t *win = NULL;
        const uint8_t *view = NULL;
        BAD(ws_prepare_input(h, &win, &n), "ws_prepare_input");
        BAD(ws_commit_input(h, 1), "ws_commit_input");
        BAD(ws_peek_output(h, &view, &n), "ws_peek_output");
        BAD(ws_consume_output(h, 1), "ws_consume_output");
        BAD(ws_client_trim(h), "ws_client_trim");
        check(win == NULL && view == NULL, "no window or view lent for %s", what);
    }
#undef BAD
    ws_message z;
    memset(&z, 0x5a, sizeof z);
    check(n == 4242 && u == SENTINEL_U32 && u16 == 4242 && u64 == 4242 && memcmp(&m, &z, sizeof m) == 0,
          "no out-parameter written for %s", what);
    size_t count0 = 0, count1 = 0;
    ws_handle_count(&count0);
    check_code(ws_client_free(h), WS_OK, "ws_client_free(%s) -> WS_OK (no-op)", what);
    ws_handle_count(&count1);
    check(count0 == count1, "ws_client_free(%s) freed nothing (%zu -> %zu handles)", what, count0, count1);
}

/* Every config function with an invalid config handle. */
static void check_bad_config_handle(ws_config h, const char *what)
{
    ws_client c = 4242;
    uint8_t pem[] = "x";
#define BAD(call, fname) check_code(call, WS_INVALID_HANDLE, "%s with %s -> WS_INVALID_HANDLE", fname, what)
    BAD(ws_client_new(h, "wss://localhost/", &c), "ws_client_new");
    BAD(ws_config_add_root_pem(h, pem, 1), "ws_config_add_root_pem");
    BAD(ws_config_set_builtin_roots(h, 1), "ws_config_set_builtin_roots");
    BAD(ws_config_set_subprotocols(h, "chat"), "ws_config_set_subprotocols");
    BAD(ws_config_add_header(h, "X-A", "b"), "ws_config_add_header");
    BAD(ws_config_set_server_name(h, "localhost"), "ws_config_set_server_name");
    BAD(ws_config_set_min_tls_version(h, WS_TLS_VERSION_1_3), "ws_config_set_min_tls_version");
    BAD(ws_config_set_max_message_size(h, 1000), "ws_config_set_max_message_size");
    BAD(ws_config_set_max_frame_size(h, 1000), "ws_config_set_max_frame_size");
    BAD(ws_config_set_max_header_size(h, 1000), "ws_config_set_max_header_size");
    BAD(ws_config_set_max_queued_messages(h, 10), "ws_config_set_max_queued_messages");
    BAD(ws_config_set_max_pending_output(h, 1000), "ws_config_set_max_pending_output");
    BAD(ws_config_set_handshake_timeout(h, 1000), "ws_config_set_handshake_timeout");
    BAD(ws_config_set_close_timeout(h, 1000), "ws_config_set_close_timeout");
    BAD(ws_config_set_keepalive_interval(h, 1000), "ws_config_set_keepalive_interval");
    BAD(ws_config_set_idle_timeout(h, 1000), "ws_config_set_idle_timeout");
#undef BAD
    check(c == 4242, "ws_client_new with %s leaves *out_client untouched", what);
    size_t count0 = 0, count1 = 0;
    ws_handle_count(&count0);
    check_code(ws_config_free(h), WS_OK, "ws_config_free(%s) -> WS_OK (no-op)", what);
    ws_handle_count(&count1);
    check(count0 == count1, "ws_config_free(%s) freed nothing (%zu -> %zu handles)", what, count0, count1);
}

static void test_handles(void)
{
    size_t base = 0;
    ws_handle_count(&base);
    ws_config cfg = 0, cfg2 = 0;
    ws_config_new(&cfg);
    ws_config_new(&cfg2);
    ws_client c = 0;
    ws_client_new(cfg, "wss://localhost/", &c);
    check(cfg != 0 && cfg2 != 0 && c != 0 && cfg != c && cfg2 != c && cfg != cfg2, "handles are non-zero and distinct");

    check_bad_client_handle(0, "handle 0");
    check_bad_client_handle(GARBAGE, "garbage handle 0xdeadbeef12345678");
    check_bad_client_handle(cfg, "a config handle");
    check_bad_config_handle(0, "handle 0");
    check_bad_config_handle(GARBAGE, "garbage handle 0xdeadbeef12345678");
    check_bad_config_handle(c, "a client handle");

    /* The wrong-type frees above did not free the objects. */
    ws_state st = 0;
    check(ws_client_state(c, &st) == WS_OK && st == WS_STATE_TLS_HANDSHAKING,
          "the client survived ws_config_free(client handle)");
    check_code(ws_config_set_idle_timeout(cfg, 0), WS_OK, "the config survived ws_client_free(config handle)");

    /* Garbage close to a live handle: same slot, other generation bits. */
    {
        uint64_t near[] = {c ^ (1ull << 22), c + (2ull << 22), c ^ 1ull, c | (0xffffull << 48)};
        const char *names[] = {"live client handle with generation bit 0 flipped",
                               "live client handle with generation + 2", "live client handle with slot bit 0 flipped",
                               "live client handle with high generation bits set"};
        for (size_t i = 0; i < 4; i++) {
            if (near[i] == cfg || near[i] == cfg2) {
                continue;
            }
            uint32_t s2 = SENTINEL_U32;
            ws_result rc = ws_client_state(near[i], &s2);
            /* A handle that does not round-trip exactly was never issued, even when it
             * differs from a live one by a single generation bit. */
            check(rc == WS_INVALID_HANDLE, "ws_client_state(%s = 0x%016" PRIx64 ") -> WS_INVALID_HANDLE (got %s)",
                  names[i], near[i], code_name(rc));
        }
    }

    {
        uint64_t alias = cfg2 ^ (1ull << 32);
        check(ws_config_set_idle_timeout(alias, 0) == WS_INVALID_HANDLE,
                   "ws_config_set_idle_timeout(live config handle with generation bit 0 flipped = 0x%016" PRIx64
                   ") -> WS_INVALID_HANDLE",
                   alias);
    }

    /* Stale after free, double free, and slot reuse. */
    size_t cnt = 0, cnt2 = 0;
    ws_handle_count(&cnt);
    check_code(ws_client_free(c), WS_OK, "ws_client_free(client)");
    ws_handle_count(&cnt2);
    check(cnt2 == cnt - 1, "ws_client_free removed exactly one handle (%zu -> %zu)", cnt, cnt2);
    check_bad_client_handle(c, "a stale (freed) client handle");
    check_code(ws_client_free(c), WS_OK, "double ws_client_free -> WS_OK");
    ws_client c_new = 0;
    check_code(ws_client_new(cfg, "wss://localhost/", &c_new), WS_OK, "a new client after the free");
    check(c_new != c, "the new client's handle differs from the freed one (0x%016" PRIx64 " vs 0x%016" PRIx64 ")",
          c_new, c);
    check_code(ws_client_state(c, &st), WS_INVALID_HANDLE, "the stale handle stays invalid after slot reuse");
    ws_client_free(c);
    check(ws_client_state(c_new, &st) == WS_OK, "freeing the stale handle again did not free the new client");
    ws_client_free(c_new);

    check_code(ws_config_free(cfg2), WS_OK, "ws_config_free(config)");
    check_bad_config_handle(cfg2, "a stale (freed) config handle");
    check_code(ws_config_free(cfg2), WS_OK, "double ws_config_free -> WS_OK");

    /* A client outlives its config. */
    ws_client c3 = 0;
    ws_client_new(cfg, "ws://localhost/", &c3);
    check_code(ws_config_free(cfg), WS_OK, "ws_config_free while a client uses it");
    uint8_t buf[1024];
    size_t n = 0;
    check(ws_read_output(c3, buf, sizeof buf, &n) == WS_OK && n > 4 && memcmp(buf, "GET ", 4) == 0,
          "the client still works after its config was freed");
    ws_client_free(c3);

    size_t end = 99;
    ws_handle_count(&end);
    check(end == base, "ws_handle_count back to %zu after the handle tests (got %zu)", base, end);
}

static void test_urls(ws_config cfg)
{
    /* http::Uri keeps the port as text; wsmachine checks it is 1-65535. */
    static const struct {
        const char *url;
        uint32_t want;
    } cases[] = {
        {"http://localhost/", WS_INVALID_URL},
        {"https://localhost/", WS_INVALID_URL},
        {"", WS_INVALID_URL},
        {"wss://", WS_INVALID_URL},
        {"ws://", WS_INVALID_URL},
        {"localhost:443", WS_INVALID_URL},
        {"wss://local host/", WS_INVALID_URL},
        {"wss://localhost:99999/", WS_INVALID_URL},
        {"ws://localhost:abc/", WS_INVALID_URL},
        {"ws://localhost:0/", WS_INVALID_URL},
        {"ws://localhost:65536/", WS_INVALID_URL},
        {"wss://localhost/\xff\xfe", WS_INVALID_ARGUMENT},
        {"\xc3\x28", WS_INVALID_ARGUMENT},
    };
    size_t base = 0;
    ws_handle_count(&base);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ws_client c = 4242;
        ws_result rc = ws_client_new(cfg, cases[i].url, &c);
        char shown[64];
        size_t o = 0;
        for (const char *p = cases[i].url; *p && o < sizeof shown - 5; p++) {
            o += (size_t)snprintf(shown + o, sizeof shown - o, (unsigned char)*p >= 0x80 ? "\\x%02x" : "%c",
                                  (unsigned char)*p);
        }
        shown[o] = 0;
        check_code(rc, cases[i].want, "ws_client_new(\"%s\") -> %s", shown, code_name(cases[i].want));
        if (rc == WS_OK) {
            ws_client_free(c);
            continue;
        }
        size_t len = 0;
        ws_last_error(NULL, 0, &len);
        check(c == 4242 && len > 0, "ws_client_new(\"%s\"): *out_client untouched, ws_last_error set", shown);
    }
    static const char *const good[] = {"wss://localhost/", "ws://127.0.0.1:8080/a/b?c=d&e=f", "wss://[::1]:9443/x"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        ws_client c = 0;
        check_code(ws_client_new(cfg, good[i], &c), WS_OK, "ws_client_new(\"%s\") -> WS_OK", good[i]);
        ws_client_free(c);
    }
    size_t end = 99;
    ws_handle_count(&end);
    check(end == base, "no handle leaked by rejected URLs");
}

static void test_config_validation(void)
{
    ws_config cfg = 0;
    ws_config_new(&cfg);
    check_code(ws_config_set_max_message_size(cfg, 0), WS_INVALID_CONFIG, "ws_config_set_max_message_size(0)");
    check_code(ws_config_set_max_frame_size(cfg, 0), WS_INVALID_CONFIG, "ws_config_set_max_frame_size(0)");
    check_code(ws_config_set_max_queued_messages(cfg, 0), WS_INVALID_CONFIG, "ws_config_set_max_queued_messages(0)");
    check_code(ws_config_set_max_pending_output(cfg, 0), WS_INVALID_CONFIG, "ws_config_set_max_pending_output(0)");
    check_code(ws_config_set_max_header_size(cfg, 255), WS_INVALID_CONFIG, "ws_config_set_max_header_size(255)");
    check_code(ws_config_set_max_header_size(cfg, 256), WS_OK, "ws_config_set_max_header_size(256)");
    check_code(ws_config_set_min_tls_version(cfg, 11), WS_INVALID_ARGUMENT, "ws_config_set_min_tls_version(11)");
    check_code(ws_config_set_min_tls_version(cfg, 14), WS_INVALID_ARGUMENT, "ws_config_set_min_tls_version(14)");
    check_code(ws_config_set_min_tls_version(cfg, WS_TLS_VERSION_1_2), WS_OK, "ws_config_set_min_tls_version(12)");
    static const uint8_t junk[] = "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n";
    check_code(ws_config_add_root_pem(cfg, junk, sizeof junk - 1), WS_INVALID_CONFIG,
               "ws_config_add_root_pem(malformed PEM)");
    check_code(ws_config_add_root_pem(cfg, (const uint8_t *)"hello", 5), WS_INVALID_CONFIG,
               "ws_config_add_root_pem(no certificate)");
    check_code(ws_config_add_header(cfg, "Host", "evil"), WS_INVALID_CONFIG, "ws_config_add_header(Host) refused");
    check_code(ws_config_add_header(cfg, "Sec-WebSocket-Key", "x"), WS_INVALID_CONFIG,
               "ws_config_add_header(Sec-WebSocket-Key) refused");
    check_code(ws_config_add_header(cfg, "Bad Name", "x"), WS_INVALID_CONFIG, "ws_config_add_header(\"Bad Name\")");
    check_code(ws_config_add_header(cfg, "X-Inject", "a\r\nHost: evil"), WS_INVALID_CONFIG,
               "ws_config_add_header(value with CRLF) refused");
    check_code(ws_config_add_header(cfg, "X-Utf", "\xff"), WS_INVALID_ARGUMENT, "ws_config_add_header(value not UTF-8)");
    check_code(ws_config_add_header(cfg, "X-Ok", "yes"), WS_OK, "ws_config_add_header(X-Ok: yes)");
    check_code(ws_config_set_subprotocols(cfg, "a b"), WS_INVALID_CONFIG, "ws_config_set_subprotocols(\"a b\")");
    check_code(ws_config_set_subprotocols(cfg, "\xff"), WS_INVALID_ARGUMENT, "ws_config_set_subprotocols(not UTF-8)");
    check_code(ws_config_set_subprotocols(cfg, "chat, superchat"), WS_OK,
               "ws_config_set_subprotocols(\"chat, superchat\")");
    check_code(ws_config_set_server_name(cfg, "not a name!"), WS_INVALID_CONFIG,
               "ws_config_set_server_name(\"not a name!\")");
    check_code(ws_config_set_server_name(cfg, "\xff"), WS_INVALID_ARGUMENT, "ws_config_set_server_name(not UTF-8)");
    check_code(ws_config_set_server_name(cfg, "example.com"), WS_OK, "ws_config_set_server_name(example.com)");
    check_code(ws_config_set_builtin_roots(cfg, 0), WS_OK, "ws_config_set_builtin_roots(0)");

    ws_client c = 0;
    ws_client_new(cfg, "ws://localhost/", &c);
    char req[4096];
    take_output(c, (uint8_t *)req, sizeof req);
    check(strstr(req, "\r\nX-Ok: yes\r\n") != NULL || strstr(req, "\r\nx-ok: yes\r\n") != NULL,
          "the added header is in the upgrade request");
    check(strstr(req, "evil") == NULL, "refused headers are not in the upgrade request");
    check(strstr(req, "chat, superchat") != NULL || strstr(req, "chat,superchat") != NULL,
          "the subprotocols are offered in the upgrade request");
    ws_client_free(c);
    ws_config_free(cfg);
}

static void test_fresh_client(ws_config cfg)
{
    ws_client c = 0;
    check_code(ws_client_new(cfg, "wss://localhost:1/", &c), WS_OK, "fresh wss:// client");
    check(state_of(c) == WS_STATE_TLS_HANDSHAKING, "fresh wss:// client is TLS_HANDSHAKING");
    size_t pending = pending_of(c);
    check(pending > 0 && pending != (size_t)-1, "the ClientHello is pending at once (%zu bytes)", pending);

    /* WS_BUFFER_TOO_SMALL for cap 0 while bytes are pending; nothing is consumed. */
    size_t n = 0;
    uint8_t b[8];
    check_code(ws_read_output(c, NULL, 0, &n), WS_BUFFER_TOO_SMALL, "ws_read_output(NULL, 0) with output pending");
    check(n == pending, "  ... and *out_len = pending count (%zu, want %zu)", n, pending);
    n = 0;
    check_code(ws_read_output(c, b, 0, &n), WS_BUFFER_TOO_SMALL, "ws_read_output(buf, 0) with output pending");
    check(pending_of(c) == pending, "  ... and nothing was consumed");

    /* Wrong state: the handshake is not done. */
    check_code(ws_send_text(c, (const uint8_t *)"hi", 2), WS_INVALID_STATE, "ws_send_text before open");
    check_code(ws_send_binary(c, (const uint8_t *)"hi", 2), WS_INVALID_STATE, "ws_send_binary before open");
    check_code(ws_send_ping(c, (const uint8_t *)"hi", 2), WS_INVALID_STATE, "ws_send_ping before open");
    check_code(ws_send_text(c, NULL, 0), WS_INVALID_STATE, "ws_send_text(NULL, 0) before open");
    check_code(ws_close(c, 1000, (const uint8_t *)"bye", 3), WS_INVALID_STATE, "ws_close before open");
    check(pending_of(c) == pending && state_of(c) == WS_STATE_TLS_HANDSHAKING,
          "refused calls queued nothing and did not fail the client");
    check_copy_out("ws_client_last_error", ws_client_last_error, c);

    /* Small reads take exactly what fits. */
    check(ws_read_output(c, b, 5, &n) == WS_OK && n == 5 && b[0] == 0x16 && b[1] == 0x03,
          "ws_read_output(cap 5) gives the first 5 bytes of a TLS handshake record");
    check(pending_of(c) == pending - 5, "  ... and 5 fewer bytes are pending");
    uint8_t rest[4096];
    take_output(c, rest, sizeof rest);
    n = 77;
    check(ws_read_output(c, NULL, 0, &n) == WS_OK && n == 0, "ws_read_output(NULL, 0) with nothing pending -> WS_OK, 0");

    uint32_t u = 99;
    uint16_t s = 99;
    check(ws_client_tls_version(c, &u) == WS_OK && u == 0, "ws_client_tls_version == 0 before the handshake");
    check(ws_client_http_status(c, &s) == WS_OK && s == 0, "ws_client_http_status == 0 before a response");
    check(ws_client_is_resumed(c, &u) == WS_OK && u == 0, "ws_client_is_resumed == 0 before the handshake");
    char sp[8];
    size_t spl = 9;
    check(ws_client_subprotocol(c, sp, sizeof sp, &spl) == WS_OK && spl == 0 && sp[0] == 0,
          "ws_client_subprotocol is empty (len 0, NUL written)");

    /* Handshake timeout on the caller's clock. */
    uint64_t d = 0;
    check_code(ws_client_tick(c, 1000), WS_OK, "first ws_client_tick(1000)");
    uint32_t drc = ws_client_next_deadline(c, &d);
    check(drc == WS_OK && d > 1000 && d != WS_NO_DEADLINE,
          "ws_client_next_deadline after the first tick is a time after it (%" PRIu64 ")", d);
    check_code(ws_client_tick(c, 1000 + WS_DEFAULT_HANDSHAKE_TIMEOUT_MS + 1), WS_TIMEOUT,
               "ws_client_tick past the handshake timeout -> WS_TIMEOUT");
    check(state_of(c) == WS_STATE_FAILED, "  ... and the client is FAILED");
    check_code(ws_send_text(c, (const uint8_t *)"x", 1), WS_TIMEOUT, "  ... and stays failed (sticky WS_TIMEOUT)");
    ws_client_free(c);

    /* EOF during the handshake. */
    check_code(ws_client_new(cfg, "ws://localhost/", &c), WS_OK, "fresh ws:// client");
    check(state_of(c) == WS_STATE_WS_HANDSHAKING, "fresh ws:// client is WS_HANDSHAKING");
    ws_result rc = ws_offer_input(c, NULL, 0, &n);
    check(rc == WS_OK || rc == WS_CONNECTION_LOST, "ws_offer_input(NULL, 0) = EOF during the handshake (got %s)",
          code_name(rc));
    ws_message m;
    check_code(ws_poll_message(c, &m), WS_CONNECTION_LOST, "  ... then ws_poll_message -> WS_CONNECTION_LOST");
    check(state_of(c) == WS_STATE_FAILED, "  ... and the client is FAILED");
    ws_client_free(c);
}

/* Argument validation on an OPEN client, where only the argument can be wrong. */
static void test_open_client(ws_config cfg)
{
    ws_client c = open_in_memory(cfg);
    if (!check(c != 0 && state_of(c) == WS_STATE_OPEN, "in-memory ws:// client is OPEN")) {
        ws_client_free(c);
        return;
    }
    uint16_t st = 0;
    check(ws_client_http_status(c, &st) == WS_OK && st == 101, "in-memory: ws_client_http_status == 101");

    static const uint16_t bad_codes[] = {0, 999, 1004, 1005, 1006, 1012, 1015, 2999, 5000, 65535};
    for (size_t i = 0; i < sizeof bad_codes / sizeof bad_codes[0]; i++) {
        check_code(ws_close(c, bad_codes[i], NULL, 0), WS_INVALID_ARGUMENT, "ws_close(code %u)", bad_codes[i]);
    }
    uint8_t reason[200];
    memset(reason, 'r', sizeof reason);
    check_code(ws_close(c, 1000, reason, 124), WS_INVALID_ARGUMENT, "ws_close(1000, 124-byte reason)");
    check_code(ws_close(c, 1000, (const uint8_t *)"\xc3\x28", 2), WS_INVALID_ARGUMENT,
               "ws_close(1000, reason not UTF-8)");

    static const struct {
        const char *bytes;
        size_t len;
        const char *what;
    } bad_utf8[] = {
        {"\xff", 1, "0xFF"},
        {"abc\xc3", 4, "truncated 2-byte sequence"},
        {"\xc0\xaf", 2, "overlong '/'"},
        {"\xed\xa0\x80", 3, "UTF-16 surrogate"},
        {"\xf4\x90\x80\x80", 4, "above U+10FFFF"},
        {"\xe2\x82", 2, "truncated 3-byte sequence"},
        {"ok\x80", 3, "lone continuation byte"},
    };
    for (size_t i = 0; i < sizeof bad_utf8 / sizeof bad_utf8[0]; i++) {
        check_code(ws_send_text(c, (const uint8_t *)bad_utf8[i].bytes, bad_utf8[i].len), WS_INVALID_ARGUMENT,
                   "ws_send_text(invalid UTF-8: %s)", bad_utf8[i].what);
    }
    check_code(ws_send_ping(c, reason, 126), WS_INVALID_ARGUMENT, "ws_send_ping(126 bytes)");
    check(pending_of(c) == 0 && state_of(c) == WS_STATE_OPEN,
          "rejected arguments queued nothing and the client stays OPEN");

    check_code(ws_send_ping(c, reason, 125), WS_OK, "ws_send_ping(125 bytes)");
    check_code(ws_send_text(c, (const uint8_t *)"\xf0\x9f\x98\x80 ok", 7), WS_OK, "ws_send_text(valid 4-byte UTF-8)");
    check_code(ws_send_text(c, NULL, 0), WS_OK, "ws_send_text(NULL, 0) sends an empty message");
    check_code(ws_send_binary(c, NULL, 0), WS_OK, "ws_send_binary(NULL, 0)");
    uint8_t out[4096];
    size_t n = take_output(c, out, sizeof out);
    check(n == (2 + 4 + 125) + (2 + 4 + 7) + (2 + 4) + (2 + 4) && out[0] == 0x89 && out[1] == (0x80 | 125),
          "the queued frames are masked and in order (%zu bytes, first 0x%02x 0x%02x)", n, out[0], out[1]);

    /* Messages from the peer: ws_poll_message_copy sizing, empty data, auto-pong. */
    static const uint8_t text_frame[] = {0x81, 0x05, 'h', 'e', 'l', 'l', 'o'};
    check_code(offer_all(c, text_frame, sizeof text_frame), WS_OK, "offer a text frame \"hello\"");
    uint8_t small[2];
    uint32_t kind = SENTINEL_U32;
    size_t len = 0;
    uint16_t cc = 7;
    check_code(ws_poll_message_copy(c, small, sizeof small, &kind, &len, &cc), WS_BUFFER_TOO_SMALL,
               "ws_poll_message_copy(cap 2) for 5 bytes");
    check(len == 5, "  ... writes the size needed to *out_len (got %zu)", len);
    len = 0;
    check_code(ws_poll_message_copy(c, NULL, 0, &kind, &len, &cc), WS_BUFFER_TOO_SMALL,
               "ws_poll_message_copy(NULL, 0) for 5 bytes");
    uint8_t five[5];
    check(ws_poll_message_copy(c, five, sizeof five, &kind, &len, &cc) == WS_OK && kind == WS_MESSAGE_TEXT &&
              len == 5 && memcmp(five, "hello", 5) == 0 && cc == 0,
          "  ... the message stayed queued; cap 5 copies it");
    check_code(ws_poll_message_copy(c, five, sizeof five, &kind, &len, &cc), WS_NEED_INPUT,
               "ws_poll_message_copy then -> WS_NEED_INPUT");

    static const uint8_t empty_bin[] = {0x82, 0x00};
    offer_all(c, empty_bin, sizeof empty_bin);
    ws_message m;
    memset(&m, 0, sizeof m);
    check(ws_poll_message(c, &m) == WS_OK && m.kind == WS_MESSAGE_BINARY && m.len == 0 && m.data != NULL,
          "an empty binary message has len 0 and non-NULL data");

    static const uint8_t ping_frame[] = {0x89, 0x02, 'h', 'i'};
    offer_all(c, ping_frame, sizeof ping_frame);
    check(ws_poll_message(c, &m) == WS_OK && m.kind == WS_MESSAGE_PING && m.len == 2 && memcmp(m.data, "hi", 2) == 0,
          "a server ping is delivered as WS_MESSAGE_PING");
    n = take_output(c, out, sizeof out);
    int pong_ok = n == 8 && out[0] == 0x8A && out[1] == 0x82 && (out[6] ^ out[2]) == 'h' && (out[7] ^ out[3]) == 'i';
    check(pong_ok, "the automatic pong leaves through ws_read_output, masked, same payload");

    /* Close handshake, client first. */
    memset(reason, 'x', 123);
    check_code(ws_close(c, 4999, reason, 123), WS_OK, "ws_close(4999, 123-byte reason)");
    check(state_of(c) == WS_STATE_CLOSING, "state CLOSING after ws_close");
    check_code(ws_close(c, 1000, NULL, 0), WS_ALREADY_CLOSED, "second ws_close -> WS_ALREADY_CLOSED");
    check_code(ws_send_text(c, (const uint8_t *)"x", 1), WS_ALREADY_CLOSED, "ws_send_text after close -> WS_ALREADY_CLOSED");
    check_code(ws_send_ping(c, NULL, 0), WS_ALREADY_CLOSED, "ws_send_ping after close -> WS_ALREADY_CLOSED");
    n = take_output(c, out, sizeof out);
    check(n == 2 + 4 + 2 + 123 && out[0] == 0x88 && out[1] == (0x80 | 125) && ((out[6] ^ out[2]) << 8 | (out[7] ^ out[3])) == 4999,
          "the close frame carries 4999 and the reason (%zu bytes)", n);
    static const uint8_t close_frame[] = {0x88, 0x02, 0x13, 0x87}; /* 4999 */
    check_code(offer_all(c, close_frame, sizeof close_frame), WS_OK, "offer the server's close frame");
    check(ws_poll_message(c, &m) == WS_OK && m.kind == WS_MESSAGE_CLOSE && m.close_code == 4999 && m.len == 0,
          "the server's close is delivered as WS_MESSAGE_CLOSE 4999");
    take_output(c, out, sizeof out);
    check_code(offer_all(c, NULL, 0), WS_OK, "offer EOF after the close handshake");
    check_code(ws_poll_message(c, &m), WS_CLOSED, "then ws_poll_message -> WS_CLOSED");
    check(state_of(c) == WS_STATE_CLOSED, "and the state is CLOSED (got %s)", state_name(state_of(c)));
    check_code(offer_all(c, "junk", 4), WS_OK, "input after the end is taken and discarded");
    ws_client_free(c);

    /* Protocol errors are sticky, and the close frame that says why still goes out. */
    c = open_in_memory(cfg);
    static const uint8_t masked[] = {0x81, 0x81, 1, 2, 3, 4, 'a' ^ 1};
    check_code(offer_all(c, masked, sizeof masked), WS_PROTOCOL_ERROR, "a masked server frame -> WS_PROTOCOL_ERROR");
    check(state_of(c) == WS_STATE_FAILED, "  ... the client is FAILED");
    check_code(ws_send_binary(c, (const uint8_t *)"x", 1), WS_PROTOCOL_ERROR, "  ... ws_send_binary returns it (sticky)");
    check_code(offer_all(c, empty_bin, sizeof empty_bin), WS_PROTOCOL_ERROR, "  ... ws_offer_input returns it (sticky)");
    n = 0;
    check(ws_read_output(c, out, sizeof out, &n) == WS_OK && n >= 4 && out[0] == 0x88 &&
              ((out[2 + 4] ^ out[2]) << 8 | (out[2 + 5] ^ out[3])) == 1002,
          "  ... the close 1002 frame is still handed out");
    n = 99;
    check(ws_read_output(c, out, sizeof out, &n) == WS_PROTOCOL_ERROR && n == 0,
          "  ... then ws_read_output returns the failure with *out_len 0");
    size_t el = 0;
    check(ws_client_last_error(c, NULL, 0, &el) == WS_OK && el > 0, "  ... and ws_client_last_error explains it");
    ws_client_free(c);

    c = open_in_memory(cfg);
    static const uint8_t bad_text[] = {0x81, 0x02, 0xc3, 0x28};
    ws_result rc = offer_all(c, bad_text, sizeof bad_text);
    ws_message pm;
    uint32_t prc = ws_poll_message(c, &pm);
    check(rc == WS_INVALID_UTF8 || prc == WS_INVALID_UTF8,
          "invalid UTF-8 text from the server -> WS_INVALID_UTF8 (offer %s, poll %s)", code_name(rc), code_name(prc));
    ws_client_free(c);
}

/* The TLS object (ws_tls_*): bad handles of every kind, NULLs, bad names, calls that
 * do not fit the state, garbage from the "server", and no out-parameter written on
 * failure. */
static void check_bad_tls_handle(ws_tls h, const char *what)
{
    uint8_t data[8] = "abc";
    char cbuf[8];
    size_t n = 4242;
    uint32_t u = SENTINEL_U32;
    ws_state st = (ws_state)SENTINEL_U32;
    ws_tls_version v = (ws_tls_version)SENTINEL_U32;
    uint64_t u64 = 4242;
#define BAD(call, fname) check_code(call, WS_INVALID_HANDLE, "%s with %s -> WS_INVALID_HANDLE", fname, what)
    BAD(ws_tls_offer_input(h, data, 3, &n), "ws_tls_offer_input");
    BAD(ws_tls_read_output(h, data, sizeof data, &n), "ws_tls_read_output");
    BAD(ws_tls_write(h, data, 3, &n), "ws_tls_write");
    BAD(ws_tls_read(h, data, sizeof data, &n), "ws_tls_read");
    BAD(ws_tls_close(h), "ws_tls_close");
    BAD(ws_tls_tick(h, 1000), "ws_tls_tick");
    BAD(ws_tls_next_deadline(h, &u64), "ws_tls_next_deadline");
    BAD(ws_tls_wants_write(h, &u), "ws_tls_wants_write");
    BAD(ws_tls_state(h, &st), "ws_tls_state");
    BAD(ws_tls_last_error(h, cbuf, sizeof cbuf, &n), "ws_tls_last_error");
    BAD(ws_tls_protocol_version(h, &v), "ws_tls_protocol_version");
    BAD(ws_tls_cipher_suite(h, cbuf, sizeof cbuf, &n), "ws_tls_cipher_suite");
    BAD(ws_tls_is_resumed(h, &u), "ws_tls_is_resumed");
    BAD(ws_tls_is_insecure(h, &u), "ws_tls_is_insecure");
#undef BAD
    check(n == 4242 && u == SENTINEL_U32 && (uint32_t)st == SENTINEL_U32 && (uint32_t)v == SENTINEL_U32 && u64 == 4242,
          "no ws_tls out-parameter written for %s", what);
    size_t count0 = 0, count1 = 0;
    ws_handle_count(&count0);
    check_code(ws_tls_free(h), WS_OK, "ws_tls_free(%s) -> WS_OK (no-op)", what);
    ws_handle_count(&count1);
    check(count0 == count1, "ws_tls_free(%s) freed nothing (%zu -> %zu handles)", what, count0, count1);
}

static void test_tls_object(ws_config cfg)
{
    ws_tls t = 4242;
    check_code(ws_tls_new(cfg, NULL, &t), WS_NULL_POINTER, "ws_tls_new(NULL name) -> WS_NULL_POINTER");
    check_code(ws_tls_new(cfg, "localhost", NULL), WS_NULL_POINTER, "ws_tls_new(NULL out) -> WS_NULL_POINTER");
    check_code(ws_tls_new(cfg, "not a host", &t), WS_INVALID_ARGUMENT, "ws_tls_new(\"not a host\") -> WS_INVALID_ARGUMENT");
    check_code(ws_tls_new(cfg, "\xff", &t), WS_INVALID_ARGUMENT, "ws_tls_new(invalid UTF-8) -> WS_INVALID_ARGUMENT");
    check_code(ws_tls_new(0, "localhost", &t), WS_INVALID_HANDLE, "ws_tls_new(config 0) -> WS_INVALID_HANDLE");
    check(t == 4242, "ws_tls_new leaves *out_tls untouched on failure");

    ws_client c = 0;
    ws_client_new(cfg, "wss://localhost/", &c);
    check_bad_tls_handle(0, "handle 0");
    check_bad_tls_handle(cfg, "a config handle");
    check_bad_tls_handle(c, "a client handle");
    check_bad_tls_handle(0xdeadbeefcafef00dull, "a garbage handle");

    check_code(ws_tls_new(cfg, "127.0.0.1", &t), WS_OK, "ws_tls_new(IP literal)");
    ws_state st = WS_STATE_FAILED;
    check_code(ws_tls_state(t, &st), WS_OK, "ws_tls_state");
    check(st == WS_STATE_TLS_HANDSHAKING, "a new TLS object is handshaking");
    ws_state cst = WS_STATE_OPEN;
    check_code(ws_client_state(t, &cst), WS_INVALID_HANDLE, "ws_client_state(a TLS handle) -> WS_INVALID_HANDLE");
    check_code(ws_client_free(t), WS_OK, "ws_client_free(a TLS handle) -> WS_OK (no-op)");
    check_code(ws_tls_state(t, &st), WS_OK, "the TLS object survived ws_client_free of its handle");

    size_t n = 4242;
    uint8_t buf[4096];
    check_code(ws_tls_read_output(t, NULL, 10, &n), WS_NULL_POINTER, "ws_tls_read_output(NULL, 10) -> WS_NULL_POINTER");
    check_code(ws_tls_read_output(t, buf, sizeof buf, NULL), WS_NULL_POINTER, "ws_tls_read_output(out NULL) -> WS_NULL_POINTER");
    check_code(ws_tls_write(t, NULL, 3, &n), WS_NULL_POINTER, "ws_tls_write(NULL, 3) -> WS_NULL_POINTER");
    check_code(ws_tls_read(t, buf, sizeof buf, NULL), WS_NULL_POINTER, "ws_tls_read(out NULL) -> WS_NULL_POINTER");
    check_code(ws_tls_state(t, NULL), WS_NULL_POINTER, "ws_tls_state(NULL) -> WS_NULL_POINTER");
    check(n == 4242, "no out-parameter written by the NULL calls");
    check_code(ws_tls_read(t, buf, sizeof buf, &n), WS_NEED_INPUT, "ws_tls_read before the handshake -> WS_NEED_INPUT");
    check_code(ws_tls_close(t), WS_INVALID_STATE, "ws_tls_close before the handshake -> WS_INVALID_STATE");
    check_code(ws_tls_write(t, (const uint8_t *)"early", 5, &n), WS_OK, "ws_tls_write before the handshake");
    check(n == 5, "plaintext before the handshake is buffered (%zu of 5)", n);
    check_code(ws_tls_read_output(t, buf, sizeof buf, &n), WS_OK, "ws_tls_read_output: the ClientHello");
    check(n > 0 && buf[0] == 0x16, "the output is a TLS handshake record (%zu bytes)", n);

    /* Not TLS from the "server": a specific, sticky failure; the alert comes out first. */
    static const char http[] = "HTTP/1.1 400 Bad Request\r\n\r\n";
    size_t used = 4242;
    check_code(ws_tls_offer_input(t, (const uint8_t *)http, sizeof http - 1, &used), WS_TLS_CORRUPT,
               "HTTP instead of TLS -> WS_TLS_CORRUPT");
    check(used == 4242, "*out_consumed untouched on failure");
    check_code(ws_tls_read_output(t, buf, sizeof buf, &n), WS_OK, "the alert is handed out");
    check(n > 0 && buf[0] == 0x15, "the output is a TLS alert record");
    check_code(ws_tls_read_output(t, buf, sizeof buf, &n), WS_TLS_CORRUPT, "then the failure, sticky");
    check(n == 0, "*out_len is 0 after the failure");
    check_code(ws_tls_write(t, buf, 1, &n), WS_TLS_CORRUPT, "ws_tls_write after the failure -> the failure");
    check_code(ws_tls_tick(t, 0), WS_TLS_CORRUPT, "ws_tls_tick after the failure -> the failure");
    check_code(ws_tls_state(t, &st), WS_OK, "ws_tls_state works after the failure");
    check(st == WS_STATE_FAILED, "state FAILED");
    char msg[256];
    size_t mlen = 0;
    check_code(ws_tls_last_error(t, msg, sizeof msg, &mlen), WS_OK, "ws_tls_last_error");
    check(mlen > 0 && strstr(msg, "TLS") != NULL, "last error explains: %s", msg);

    check_code(ws_tls_free(t), WS_OK, "ws_tls_free");
    check_bad_tls_handle(t, "a freed TLS handle");
    check_code(ws_tls_free(t), WS_OK, "ws_tls_free twice -> WS_OK");

    /* EOF during the handshake. */
    check_code(ws_tls_new(cfg, "localhost", &t), WS_OK, "ws_tls_new");
    check_code(ws_tls_offer_input(t, NULL, 0, &used), WS_CONNECTION_LOST, "EOF during the handshake -> WS_CONNECTION_LOST");
    ws_tls_free(t);
    ws_client_free(c);
}

int main(void)
{
    start_deadline(60);
    diag("ffi_misuse_test (wsmachine %s)", ws_version());
    size_t count = 99;
    ws_result hrc = ws_handle_count(&count);
    check(hrc == WS_OK && count == 0, "ws_handle_count == 0 at start (got %zu)", count);

    char acc[32];
    accept_key("dGhlIHNhbXBsZSBub25jZQ==", acc);
    check(strcmp(acc, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == 0, "test peer: RFC 6455 accept-key example");

    test_versions();
    test_result_str();

    ws_config cfg = 0;
    check_code(ws_config_new(&cfg), WS_OK, "ws_config_new");
    test_last_error(cfg);
    test_null_pointers(cfg);
    test_handles();
    test_urls(cfg);
    test_config_validation();
    test_fresh_client(cfg);
    test_open_client(cfg);
    test_tls_object(cfg);
    ws_config_free(cfg);

    count = 99;
    ws_result rc = ws_handle_count(&count);
    check(rc == WS_OK && count == 0, "ws_handle_count == 0 at the end (got %zu)", count);
    return finish("ffi_misuse_test");
}
