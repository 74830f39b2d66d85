// Tests of bindings/csharp/Plugins/WebGL/wsmachine.jslib in a real browser.
//
// scripts/test-webgl.sh compiles this file with Debian's emcc and --js-library
// wsmachine.jslib (ALLOW_MEMORY_GROWTH), serves the page, and runs it in headless Chromium
// against tests/webgl/server.py over ws:// and wss://. Like a Unity game, the program
// never blocks: emscripten_set_main_loop calls frame() once per animation frame, and each
// test is a small state machine that polls its sockets there.
//
// The page passes the ports as arguments: ws_port wss_port refused_port (or "bridge": run
// nothing, for tests/webgl/bridge.mjs). Output lines:
// "PASS <name>", "FAIL <name>: <why>", and finally "DONE <passed> <failed>".

#include <emscripten.h>
#include <emscripten/heap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// The jslib's functions, declared with the types of the C# [DllImport("__Internal")]
// declarations in WebGLNative.cs (tests/webgl/check_signatures.py compares the lists):
// int is C#'s int, pointers are byte* or int*.
int ws_js_open(const char *url, const char *protocols, int max_message_bytes, int max_queued_messages,
               int max_queued_bytes, int *out_id, char *err, int err_cap);
int ws_js_send_text(int id, const uint8_t *utf8, int len, int max_pending);
int ws_js_send_binary(int id, const uint8_t *data, int len, int max_pending);
int ws_js_close(int id, int code, const uint8_t *reason, int len);
int ws_js_poll_event(int id, uint8_t *buf, int cap, int *out_kind, int *out_len, int *out_code);
int ws_js_state(int id, int *out_state);
int ws_js_buffered_amount(int id, int *out_bytes, int *out_queued);
int ws_js_subprotocol(int id, char *buf, int cap, int *out_len);
int ws_js_extensions(int id, char *buf, int cap, int *out_len);
int ws_js_free(int id);

enum { K_TEXT = 1, K_BINARY = 2, K_CLOSE = 5, K_OPEN = 16, K_ERROR = 17, K_FAILURE = 18 };
enum { R_OK = 0, R_NEED_INPUT = 1, R_INVALID_HANDLE = 101, R_INVALID_STATE = 102, R_BUFFER_TOO_SMALL = 103,
       R_INVALID_ARGUMENT = 104, R_INVALID_URL = 105, R_MESSAGE_TOO_BIG = 402, R_ALREADY_CLOSED = 500 };

#define MAX_SOCKETS 8
#define MIB (1024 * 1024)
#define BIG (64 * MIB)

static int g_ws_port, g_wss_port, g_refused_port;

typedef struct {
    int kind, len, code;
    uint8_t *data; // into the test's receive buffer
} event;

typedef struct test {
    const char *name;
    int (*step)(struct test *t); // 0: not finished; 1: passed; -1: failed (t->why)
    int phase;
    int ids[MAX_SOCKETS];
    int n;           // a counter
    int m;           // another one
    double started;  // emscripten_get_now() when the test began
    double mark;
    char why[256];
} test;

static uint8_t *g_rx;      // receive buffer, 2 MiB (reallocated by the heap test)
static int g_rx_cap;
static uint8_t *g_tx;      // send buffer, 2 MiB
static char g_url[256];

#define FAIL(...)                                          \
    do {                                                   \
        snprintf(t->why, sizeof t->why, __VA_ARGS__);      \
        return -1;                                         \
    } while (0)

static const char *url(int tls, const char *path) {
    snprintf(g_url, sizeof g_url, "%s://127.0.0.1:%d%s", tls ? "wss" : "ws", tls ? g_wss_port : g_ws_port, path);
    return g_url;
}

static int open_socket(const char *u, const char *protocols, int *out_id) {
    char err[200];
    int r = ws_js_open(u, protocols, BIG, 4096, BIG, out_id, err, sizeof err);
    if (r != R_OK) printf("open %s: %d %s\n", u, r, err);
    return r;
}

// Polls one event into g_rx. Returns the ws_js_poll_event result.
static int poll(int id, event *ev) {
    int r = ws_js_poll_event(id, g_rx, g_rx_cap, &ev->kind, &ev->len, &ev->code);
    ev->data = g_rx;
    return r;
}

static void fill(uint8_t *p, int n, int seed) {
    for (int i = 0; i < n; i++) p[i] = (uint8_t)(i * 31 + seed);
}

static int check_fill(const uint8_t *p, int n, int seed) {
    for (int i = 0; i < n; i++)
        if (p[i] != (uint8_t)(i * 31 + seed)) return i;
    return -1;
}

// --------------------------------------------------------------------------- echo

static const int SIZES[] = {0, 1, 125, 126, 65535, 65536, 100000, MIB};
#define NSIZES ((int)(sizeof SIZES / sizeof SIZES[0]))
static const char *TEXTS[] = {"", "hello", "h\xc3\xa9llo w\xc3\xb6rld \xe2\x80\x94 \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\x8e\xae",
                              "\xce\xb1\xce\xb2\xce\xb3"};
#define NTEXTS ((int)(sizeof TEXTS / sizeof TEXTS[0]))

// phase 0: open; 1: wait for open, check subprotocol, send everything; 2: receive the echoes.
static int echo_step(test *t, int tls) {
    event ev;
    int r;
    if (t->phase == 0) {
        if (open_socket(url(tls, "/echo"), "wsm.test", &t->ids[0]) != R_OK) FAIL("open failed");
        r = ws_js_send_text(t->ids[0], (const uint8_t *)"x", 1, 0);
        if (r != R_INVALID_STATE) FAIL("send while connecting returned %d, not WS_INVALID_STATE", r);
        t->phase = 1;
        return 0;
    }
    int id = t->ids[0];
    if (t->phase == 1) {
        r = poll(id, &ev);
        if (r == R_NEED_INPUT) return 0;
        if (r != R_OK || ev.kind != K_OPEN) FAIL("first event: result %d kind %d, want open", r, ev.kind);
        char proto[32];
        int plen = -1;
        r = ws_js_subprotocol(id, proto, sizeof proto, &plen);
        if (r != R_OK || plen != 8 || strcmp(proto, "wsm.test") != 0) FAIL("subprotocol: %d '%s'", r, proto);
        r = ws_js_subprotocol(id, proto, 4, &plen);
        if (r != R_BUFFER_TOO_SMALL || plen != 9) FAIL("small subprotocol buffer: %d, needed %d", r, plen);
        char ext[128];
        r = ws_js_extensions(id, ext, sizeof ext, &plen);
        if (r != R_OK || strncmp(ext, "permessage-deflate", 18) != 0)
            FAIL("extensions: %d '%s' (Chromium offers permessage-deflate; the server accepts it)", r, ext);
        for (int i = 0; i < NTEXTS; i++) {
            r = ws_js_send_text(id, (const uint8_t *)TEXTS[i], (int)strlen(TEXTS[i]), 0);
            if (r != R_OK) FAIL("send_text %d: %d", i, r);
        }
        for (int i = 0; i < NSIZES; i++) {
            fill(g_tx, SIZES[i], i);
            r = ws_js_send_binary(id, g_tx, SIZES[i], 0);
            if (r != R_OK) FAIL("send_binary %d: %d", SIZES[i], r);
            memset(g_tx, 0xEE, SIZES[i]); // the send must have copied
        }
        static const uint8_t bad[] = {0xC3, 0x28};
        r = ws_js_send_text(id, bad, 2, 0);
        if (r != R_INVALID_ARGUMENT) FAIL("invalid UTF-8 text: %d, want WS_INVALID_ARGUMENT", r);
        t->phase = 2;
        return 0;
    }
    for (;;) {
        // A buffer too small first: the event must stay queued.
        if (t->n == NTEXTS + NSIZES - 1) {
            int kind = -1, len = -1, code = -1;
            r = ws_js_poll_event(id, g_rx, 1000, &kind, &len, &code);
            if (r == R_NEED_INPUT) return 0;
            if (r != R_BUFFER_TOO_SMALL || len != MIB || kind != -1)
                FAIL("1 MiB into 1000 bytes: result %d len %d kind %d", r, len, kind);
        }
        r = poll(id, &ev);
        if (r == R_NEED_INPUT) return 0;
        if (r != R_OK) FAIL("poll: %d", r);
        int i = t->n++;
        if (i < NTEXTS) {
            int want = (int)strlen(TEXTS[i]);
            if (ev.kind != K_TEXT || ev.len != want || memcmp(ev.data, TEXTS[i], want) != 0)
                FAIL("text %d: kind %d len %d, want %d bytes", i, ev.kind, ev.len, want);
        } else if (i < NTEXTS + NSIZES) {
            int k = i - NTEXTS;
            int bad_at = check_fill(ev.data, ev.len, k);
            if (ev.kind != K_BINARY || ev.len != SIZES[k] || bad_at >= 0)
                FAIL("binary %d: kind %d len %d, first wrong byte %d", SIZES[k], ev.kind, ev.len, bad_at);
            if (k == NSIZES - 1) {
                ws_js_free(id);
                if (ws_js_state(id, &k) != R_INVALID_HANDLE) FAIL("state after free is not WS_INVALID_HANDLE");
                return 1;
            }
        }
    }
}

static int echo_ws(test *t) { return echo_step(t, 0); }
static int echo_wss(test *t) { return echo_step(t, 1); }

// --------------------------------------------------------------------------- burst

static int burst(test *t) {
    event ev;
    int r, id = t->ids[0];
    if (t->phase == 0) {
        if (open_socket(url(1, "/echo"), NULL, &t->ids[0]) != R_OK) FAIL("open failed");
        t->phase = 1;
        return 0;
    }
    if (t->phase == 1) {
        r = poll(id, &ev);
        if (r == R_NEED_INPUT) return 0;
        if (r != R_OK || ev.kind != K_OPEN) FAIL("want open, got %d/%d", r, ev.kind);
        for (int i = 0; i < 1000; i++) {
            char msg[32];
            int n = snprintf(msg, sizeof msg, "message %d", i);
            if (i % 2) {
                r = ws_js_send_binary(id, (const uint8_t *)msg, n, 0);
            } else {
                r = ws_js_send_text(id, (const uint8_t *)msg, n, 0);
            }
            if (r != R_OK) FAIL("send %d: %d", i, r);
        }
        t->phase = 2;
        return 0;
    }
    while ((r = poll(id, &ev)) == R_OK) {
        char msg[32];
        int n = snprintf(msg, sizeof msg, "message %d", t->n);
        int kind = t->n % 2 ? K_BINARY : K_TEXT;
        if (ev.kind != kind || ev.len != n || memcmp(ev.data, msg, n) != 0)
            FAIL("message %d out of order or wrong: kind %d '%.*s'", t->n, ev.kind, ev.len, (char *)ev.data);
        if (++t->n == 1000) {
            ws_js_free(id);
            return 1;
        }
    }
    if (r != R_NEED_INPUT) FAIL("poll: %d", r);
    return 0;
}

// --------------------------------------------------------------------------- closes

static const char REASON[] = "bye \xc3\xbc"; // "bye ü"

static int server_close(test *t) {
    event ev;
    int r, id = t->ids[0];
    if (t->phase == 0) {
        if (open_socket(url(0, "/close?code=4321&reason=bye%20%C3%BC"), NULL, &t->ids[0]) != R_OK) FAIL("open");
        t->phase = 1;
        return 0;
    }
    while ((r = poll(id, &ev)) == R_OK) {
        if (t->phase == 1) {
            if (ev.kind != K_OPEN) FAIL("want open first, got %d", ev.kind);
            t->phase = 2;
            continue;
        }
        if (ev.kind != K_CLOSE || ev.code != 4321 || ev.len != (int)strlen(REASON) || memcmp(ev.data, REASON, ev.len))
            FAIL("close: kind %d code %d reason '%.*s'", ev.kind, ev.code, ev.len, (char *)ev.data);
        int st = -1;
        if (ws_js_state(id, &st) != R_OK || st != 3) FAIL("state after close %d, want 3 (closed)", st);
        r = ws_js_send_text(id, (const uint8_t *)"x", 1, 0);
        if (r != R_ALREADY_CLOSED) FAIL("send after close: %d, want WS_ALREADY_CLOSED", r);
        if (poll(id, &ev) != R_NEED_INPUT) FAIL("an event after the close");
        ws_js_free(id);
        return 1;
    }
    if (r != R_NEED_INPUT) FAIL("poll: %d", r);
    return 0;
}

static int client_close(test *t) {
    event ev;
    int r, id = t->ids[0];
    if (t->phase == 0) {
        if (open_socket(url(1, "/echo"), NULL, &t->ids[0]) != R_OK) FAIL("open");
        t->phase = 1;
        return 0;
    }
    while ((r = poll(id, &ev)) == R_OK) {
        if (t->phase == 1) {
            if (ev.kind != K_OPEN) FAIL("want open first, got %d", ev.kind);
            r = ws_js_close(id, 1001, NULL, 0);
            if (r != R_INVALID_ARGUMENT) FAIL("close with 1001: %d, want WS_INVALID_ARGUMENT (browsers refuse it)", r);
            static uint8_t long_reason[124];
            memset(long_reason, 'a', sizeof long_reason);
            r = ws_js_close(id, 1000, long_reason, 124);
            if (r != R_INVALID_ARGUMENT) FAIL("124-byte reason: %d, want WS_INVALID_ARGUMENT", r);
            if (ws_js_send_text(id, (const uint8_t *)"last", 4, 0) != R_OK) FAIL("send");
            r = ws_js_close(id, 4000, (const uint8_t *)REASON, (int)strlen(REASON));
            if (r != R_OK) FAIL("close: %d", r);
            if (ws_js_close(id, 4000, NULL, 0) != R_OK) FAIL("a second close is not a no-op");
            int st = -1;
            ws_js_state(id, &st);
            if (st != 2) FAIL("state after close %d, want 2 (closing)", st);
            t->phase = 2;
            continue;
        }
        // The echo of "last" is not delivered: browsers drop messages that arrive once
        // close() was called (readyState CLOSING; WHATWG WebSockets, "message received").
        if (ev.kind != K_CLOSE || ev.code != 4000 || ev.len != (int)strlen(REASON) || memcmp(ev.data, REASON, ev.len))
            FAIL("close: kind %d code %d reason '%.*s'", ev.kind, ev.code, ev.len, (char *)ev.data);
        ws_js_free(id);
        return 1;
    }
    if (r != R_NEED_INPUT) FAIL("poll: %d", r);
    return 0;
}

static int refused(test *t) {
    event ev;
    int r, id = t->ids[0];
    if (t->phase == 0) {
        char u[64];
        snprintf(u, sizeof u, "ws://127.0.0.1:%d/", g_refused_port);
        if (open_socket(u, NULL, &t->ids[0]) != R_OK) FAIL("open");
        t->phase = 1;
        return 0;
    }
    while ((r = poll(id, &ev)) == R_OK) {
        if (ev.kind == K_OPEN) FAIL("opened a port nobody listens on");
        if (ev.kind == K_ERROR) {
            t->n++;
            continue;
        }
        if (ev.kind != K_CLOSE || ev.code != 1006) FAIL("kind %d code %d, want close 1006", ev.kind, ev.code);
        if (t->n != 1) FAIL("%d error events before the close, want 1", t->n);
        ws_js_free(id);
        return 1;
    }
    if (r != R_NEED_INPUT) FAIL("poll: %d", r);
    return 0;
}

static int bad_open(test *t) {
    char err[200];
    int id = -7, r;
    r = ws_js_open("ftp://127.0.0.1/", NULL, BIG, 10, BIG, &id, err, sizeof err);
    if (r != R_INVALID_URL || id != -7 || strstr(err, "SyntaxError") == NULL) FAIL("ftp URL: %d id %d '%s'", r, id, err);
    r = ws_js_open(url(0, "/echo"), "bad protocol", BIG, 10, BIG, &id, err, sizeof err);
    if (r != R_INVALID_ARGUMENT || id != -7) FAIL("protocol with a space: %d '%s'", r, err);
    r = ws_js_open(url(0, "/echo"), NULL, 0, 10, BIG, &id, err, sizeof err);
    if (r != R_INVALID_ARGUMENT) FAIL("a zero limit: %d", r);
    r = ws_js_open("ftp://127.0.0.1/", NULL, BIG, 10, BIG, &id, err, 8); // truncated, still terminated
    if (r != R_INVALID_URL || strlen(err) != 7) FAIL("short error buffer: '%s'", err);
    event ev;
    if (ws_js_poll_event(12345, g_rx, g_rx_cap, &ev.kind, &ev.len, &ev.code) != R_INVALID_HANDLE) FAIL("unknown id");
    if (ws_js_free(12345) != R_OK) FAIL("freeing an unknown id");
    return 1;
}

// --------------------------------------------------------------------------- bad pointers

// Buffers that run past the heap, and misaligned out-parameters, are refused with
// WS_INVALID_ARGUMENT (no exception inside the program, nothing half-done).
static int bad_pointers(test *t) {
    event ev;
    int r, id = t->ids[0];
    if (t->phase == 0) {
        if (open_socket(url(0, "/echo"), NULL, &t->ids[0]) != R_OK) FAIL("open");
        t->phase = 1;
        return 0;
    }
    r = poll(id, &ev);
    if (r == R_NEED_INPUT) return 0;
    if (r != R_OK || ev.kind != K_OPEN) FAIL("want open");
    uint8_t *top = (uint8_t *)(uintptr_t)emscripten_get_heap_size();
    r = ws_js_send_binary(id, top - 10, 100, 0);
    if (r != R_INVALID_ARGUMENT) FAIL("send past the heap: %d", r);
    r = ws_js_send_text(id, top - 10, 100, 0);
    if (r != R_INVALID_ARGUMENT) FAIL("text past the heap: %d", r);
    r = ws_js_send_binary(id, g_tx, -1, 0);
    if (r != R_INVALID_ARGUMENT) FAIL("negative length: %d", r);
    r = ws_js_close(id, 1000, top - 2, 10);
    if (r != R_INVALID_ARGUMENT) FAIL("close reason past the heap: %d", r);
    int out[2];
    r = ws_js_state(id, (int *)((char *)out + 1));
    if (r != R_INVALID_ARGUMENT) FAIL("misaligned out-parameter: %d", r);
    r = ws_js_poll_event(id, top - 10, 100, &ev.kind, &ev.len, &ev.code);
    if (r != R_INVALID_ARGUMENT) FAIL("poll buffer past the heap: %d", r);
    char sub[8];
    r = ws_js_subprotocol(id, (char *)top - 2, 8, &ev.len);
    if (r != R_INVALID_ARGUMENT) FAIL("subprotocol buffer past the heap: %d", r);
    (void)sub;
    // The socket still works afterwards.
    if (ws_js_send_text(id, (const uint8_t *)"ok", 2, 0) != R_OK) FAIL("send after the refusals");
    t->phase = 2;
    ws_js_free(id);
    return 1;
}

// --------------------------------------------------------------------------- several

static int several(test *t) {
    event ev;
    int r;
    if (t->phase == 0) {
        for (int i = 0; i < MAX_SOCKETS; i++)
            if (open_socket(url(i % 2, "/echo"), NULL, &t->ids[i]) != R_OK) FAIL("open %d", i);
        t->phase = 1;
        return 0;
    }
    for (int i = 0; i < MAX_SOCKETS; i++) {
        int bit = 1 << i;
        while ((r = poll(t->ids[i], &ev)) == R_OK) {
            if (ev.kind == K_OPEN) {
                char msg[32];
                int n = snprintf(msg, sizeof msg, "socket %d", i);
                if (ws_js_send_text(t->ids[i], (const uint8_t *)msg, n, 0) != R_OK) FAIL("send %d", i);
                continue;
            }
            char msg[32];
            int n = snprintf(msg, sizeof msg, "socket %d", i);
            if (ev.kind != K_TEXT || ev.len != n || memcmp(ev.data, msg, n)) FAIL("socket %d got another's message", i);
            t->n |= bit;
        }
        if (r != R_NEED_INPUT) FAIL("poll %d: %d", i, r);
    }
    if (t->n != (1 << MAX_SOCKETS) - 1) return 0;
    for (int i = 0; i < MAX_SOCKETS; i++) ws_js_free(t->ids[i]);
    return 1;
}

// --------------------------------------------------------------------------- heap growth

// The message arrives while we do nothing; then the heap grows (a big allocation touched
// end to end), and only then is it polled into a buffer at the top of the grown heap. A
// jslib holding a view from before the growth writes into a detached buffer and the data
// never shows up (or throws).
static int heap_growth(test *t) {
    event ev;
    int r, id = t->ids[0];
    if (t->phase == 0) {
        if (open_socket(url(0, "/echo"), NULL, &t->ids[0]) != R_OK) FAIL("open");
        t->phase = 1;
        return 0;
    }
    if (t->phase == 1) {
        r = poll(id, &ev);
        if (r == R_NEED_INPUT) return 0;
        if (ev.kind != K_OPEN) FAIL("want open");
        fill(g_tx, 300000, 7);
        if (ws_js_send_binary(id, g_tx, 300000, 0) != R_OK) FAIL("send");
        t->mark = emscripten_get_now();
        t->phase = 2;
        return 0;
    }
    if (t->phase == 2) {
        if (emscripten_get_now() - t->mark < 300) return 0; // let the echo arrive first
        size_t before = emscripten_get_heap_size();
        uint8_t *big = malloc(256 * MIB);
        if (!big) FAIL("malloc(256 MiB) failed");
        memset(big, 1, 256 * MIB);
        size_t after = emscripten_get_heap_size();
        if (after <= before) FAIL("the heap did not grow (%zu -> %zu)", before, after);
        uint8_t *rx = big + 256 * MIB - 400000; // at the top of the new memory
        int kind = 0, len = 0, code = 0;
        r = ws_js_poll_event(id, rx, 400000, &kind, &len, &code);
        if (r != R_OK || kind != K_BINARY || len != 300000) FAIL("poll after growth: %d kind %d len %d", r, kind, len);
        int bad_at = check_fill(rx, len, 7);
        if (bad_at >= 0) FAIL("payload wrong at byte %d after growth (a stale heap view?)", bad_at);
        // And a send from the grown memory, checked by its echo.
        fill(rx, 200000, 9);
        if (ws_js_send_binary(id, rx, 200000, 0) != R_OK) FAIL("send from the grown heap");
        free(big);
        printf("heap %zu -> %zu bytes\n", before, after);
        t->phase = 3;
        return 0;
    }
    r = poll(id, &ev);
    if (r == R_NEED_INPUT) return 0;
    if (r != R_OK || ev.kind != K_BINARY || ev.len != 200000 || check_fill(ev.data, ev.len, 9) >= 0)
        FAIL("echo of the send from the grown heap: %d kind %d len %d", r, ev.kind, ev.len);
    ws_js_free(id);
    return 1;
}

// --------------------------------------------------------------------------- queue bound

// The server pushes 500 messages while the test does not poll (as in a hidden tab, where
// no frame runs). With a bound of 100 messages, the first 100 come out in order, then a
// failure event naming the bound, then the close with 4008 (our close, echoed back).
static int bound_step(test *t, int max_count, int max_bytes, int max_message, const char *path, int want_kept,
                      int want_close, const char *want_text) {
    event ev;
    int r, id = t->ids[0];
    if (t->phase == 0) {
        char err[200];
        r = ws_js_open(url(0, path), NULL, max_message, max_count, max_bytes, &t->ids[0], err, sizeof err);
        if (r != R_OK) FAIL("open: %s", err);
        t->mark = emscripten_get_now();
        t->phase = 1;
        return 0;
    }
    if (t->phase == 1) {
        int st = -1, bytes, queued = 0;
        ws_js_state(id, &st);
        ws_js_buffered_amount(id, &bytes, &queued);
        if (st != 3) {
            if (emscripten_get_now() - t->mark > 8000) FAIL("the socket did not close (state %d, %d queued)", st, queued);
            return 0; // no polling until the socket closed
        }
        t->phase = 2;
    }
    int expect_close = 0;
    while ((r = poll(id, &ev)) == R_OK) {
        if (expect_close) {
            if (ev.kind != K_CLOSE || ev.code != want_close) FAIL("after the failure: kind %d code %d", ev.kind, ev.code);
            if (poll(id, &ev) != R_NEED_INPUT) FAIL("events after the close");
            ws_js_free(id);
            return 1;
        }
        if (ev.kind == K_OPEN) continue;
        if (ev.kind == K_BINARY) {
            uint32_t index = ev.data[0] | ev.data[1] << 8 | ev.data[2] << 16 | (uint32_t)ev.data[3] << 24;
            if ((int)index != t->n) FAIL("message %u where %d was due", index, t->n);
            t->n++;
            continue;
        }
        if (ev.kind != K_FAILURE) FAIL("kind %d code %d after %d messages", ev.kind, ev.code, t->n);
        if (t->n != want_kept) FAIL("%d messages before the failure, want %d", t->n, want_kept);
        if (ev.code != R_MESSAGE_TOO_BIG) FAIL("failure code %d", ev.code);
        ev.data[ev.len] = 0;
        if (strstr((char *)ev.data, want_text) == NULL) FAIL("failure text '%s' lacks '%s'", (char *)ev.data, want_text);
        printf("%s: %s\n", t->name, (char *)ev.data);
        expect_close = 1;
    }
    FAIL("queue ended (%d) without a failure and a close", r);
}

static int bound_count(test *t) {
    return bound_step(t, 100, BIG, BIG, "/push?n=500&size=1000", 100, 4008, "bound 100 messages");
}

static int bound_bytes(test *t) {
    // 50 KiB bound, 1000-byte messages: 51 fit (51,000 bytes), the 52nd would not.
    return bound_step(t, 4096, 50 * 1024, BIG, "/push?n=500&size=1000", 51, 4008, "51200 bytes");
}

static int too_big(test *t) {
    return bound_step(t, 4096, BIG, 5000, "/push?n=3&size=6000", 0, 4009, "exceeds the maximum message size of 5000");
}

// --------------------------------------------------------------------------- runner

static test g_tests[] = {
    {.name = "echo text and binary 0 B..1 MiB over ws", .step = echo_ws},
    {.name = "echo text and binary 0 B..1 MiB over wss", .step = echo_wss},
    {.name = "burst of 1000 messages in order", .step = burst},
    {.name = "server close with code and reason", .step = server_close},
    {.name = "client close with code and reason", .step = client_close},
    {.name = "connection refused", .step = refused},
    {.name = "bad URL, bad subprotocol, bad limits, unknown ids", .step = bad_open},
    {.name = "bad pointers and lengths refused", .step = bad_pointers},
    {.name = "several sockets at once", .step = several},
    {.name = "heap growth between calls", .step = heap_growth},
    {.name = "queue bound (messages) reported", .step = bound_count},
    {.name = "queue bound (bytes) reported", .step = bound_bytes},
    {.name = "message too big reported", .step = too_big},
};
#define NTESTS ((int)(sizeof g_tests / sizeof g_tests[0]))

static int g_current, g_passed, g_failed;

static void frame(void) {
    if (g_current >= NTESTS) return;
    test *t = &g_tests[g_current];
    if (t->started == 0) t->started = emscripten_get_now();
    int r = t->step(t);
    if (r == 0 && emscripten_get_now() - t->started > 15000) {
        snprintf(t->why, sizeof t->why, "timed out in phase %d (counter %d)", t->phase, t->n);
        r = -1;
    }
    if (r == 0) return;
    if (r > 0) {
        g_passed++;
        printf("PASS %s (%.0f ms)\n", t->name, emscripten_get_now() - t->started);
    } else {
        g_failed++;
        printf("FAIL %s: %s\n", t->name, t->why);
        for (int i = 0; i < MAX_SOCKETS; i++) ws_js_free(t->ids[i]);
    }
    g_current++;
    if (g_current == NTESTS) {
        printf("DONE %d %d\n", g_passed, g_failed);
        emscripten_cancel_main_loop();
    }
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "bridge") == 0) {
        // tests/webgl/bridge.mjs calls the jslib's functions itself (the C# driver on Mono).
        printf("BRIDGE READY\n");
        return 0;
    }
    if (argc < 4) {
        printf("usage: ws_port wss_port refused_port\nDONE 0 1\n");
        return 1;
    }
    g_ws_port = atoi(argv[1]);
    g_wss_port = atoi(argv[2]);
    g_refused_port = atoi(argv[3]);
    g_rx_cap = 2 * MIB;
    g_rx = malloc(g_rx_cap);
    g_tx = malloc(2 * MIB);
    emscripten_set_main_loop(frame, 0, 0);
    return 0;
}
