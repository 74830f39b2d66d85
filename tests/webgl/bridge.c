// Test bridge: the jslib's functions for Mono, forwarded to the real jslib in Chromium.
//
// The C# WebGL driver imports ws_js_* from "__Internal". On Mono, with this library in
// LD_PRELOAD, those symbols resolve here; each call becomes one request line on fd 3 and
// waits for one reply line on fd 4. tests/webgl/bridge.mjs answers by calling the same
// function of wsmachine.jslib inside the test page in headless Chromium, with the
// buffers copied into and out of the wasm heap. So the C# driver runs against the
// browser's real WebSocket events; only the memory it lends is copied in between.
//
// Lines are tab-separated; byte strings are hex ("-" for none). Requests:
//   open URL PROTOCOLS MAXMSG MAXCOUNT MAXBYTES ERRCAP   -> R ID ERR
//   send_text|send_binary ID DATA MAXPENDING             -> R
//   close ID CODE REASON                                 -> R
//   poll ID CAP                                          -> R KIND LEN CODE DATA
//   state ID                                             -> R STATE
//   buffered ID                                          -> R BYTES QUEUED
//   subprotocol|extensions ID CAP                        -> R LEN TEXT
//   free ID                                              -> R
// (R is the jslib's return code; the other fields are "-" when it wrote nothing.)

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *g_line;
static size_t g_line_cap;

static void put(const char *s, size_t n) {
    while (n > 0) {
        ssize_t k = write(3, s, n);
        if (k <= 0) {
            perror("bridge: write fd 3");
            exit(70);
        }
        s += k;
        n -= (size_t)k;
    }
}

static void put_hex(const uint8_t *p, size_t n) {
    static const char digits[] = "0123456789abcdef";
    put("\t", 1);
    if (p == NULL) {
        put("-", 1);
        return;
    }
    char buf[4096];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        buf[k++] = digits[p[i] >> 4];
        buf[k++] = digits[p[i] & 15];
        if (k == sizeof buf) {
            put(buf, k);
            k = 0;
        }
    }
    put(buf, k);
}

static void put_int(int v) {
    char buf[24];
    int n = snprintf(buf, sizeof buf, "\t%d", v);
    put(buf, (size_t)n);
}

// Sends the request ended by a newline, reads the reply line, returns its fields.
static char *g_fields[8];

static int call(void) {
    put("\n", 1);
    size_t len = 0;
    for (;;) {
        if (len + 1 >= g_line_cap) {
            g_line_cap = g_line_cap ? g_line_cap * 2 : 1 << 16;
            g_line = realloc(g_line, g_line_cap);
        }
        ssize_t k = read(4, g_line + len, 1);
        if (k <= 0) {
            perror("bridge: read fd 4");
            exit(70);
        }
        if (g_line[len] == '\n') break;
        len++;
    }
    g_line[len] = 0;
    int n = 0;
    char *save = NULL;
    for (char *f = strtok_r(g_line, "\t", &save); f && n < 8; f = strtok_r(NULL, "\t", &save)) g_fields[n++] = f;
    for (int i = n; i < 8; i++) g_fields[i] = "-";
    return atoi(g_fields[0]);
}

static int hexval(char c) { return c <= '9' ? c - '0' : c - 'a' + 10; }

// Copies hex field f into (dst, cap); returns the byte count.
static int from_hex(const char *f, uint8_t *dst, int cap) {
    if (strcmp(f, "-") == 0) return 0;
    int n = (int)strlen(f) / 2;
    for (int i = 0; i < n && i < cap; i++) dst[i] = (uint8_t)(hexval(f[2 * i]) << 4 | hexval(f[2 * i + 1]));
    return n;
}

static void set(int *p, const char *f) {
    if (strcmp(f, "-") != 0) *p = atoi(f);
}

int ws_js_open(const uint8_t *url, const uint8_t *protocols, int max_message_bytes, int max_queued_messages,
               int max_queued_bytes, int *out_id, uint8_t *err, int err_cap) {
    put("open", 4);
    put_hex(url, url ? strlen((const char *)url) : 0);
    put_hex(protocols, protocols ? strlen((const char *)protocols) : 0);
    put_int(max_message_bytes);
    put_int(max_queued_messages);
    put_int(max_queued_bytes);
    put_int(err_cap);
    int r = call();
    set(out_id, g_fields[1]);
    if (err_cap > 0) {
        int n = from_hex(g_fields[2], err, err_cap - 1);
        err[n < err_cap ? n : err_cap - 1] = 0;
    }
    return r;
}

static int send(const char *what, int id, const uint8_t *data, int len, int max_pending) {
    put(what, strlen(what));
    put_int(id);
    put_hex(data ? data : (const uint8_t *)"", (size_t)len);
    put_int(max_pending);
    return call();
}

int ws_js_send_text(int id, const uint8_t *utf8, int len, int max_pending) {
    return send("send_text", id, utf8, len, max_pending);
}

int ws_js_send_binary(int id, const uint8_t *data, int len, int max_pending) {
    return send("send_binary", id, data, len, max_pending);
}

int ws_js_close(int id, int code, const uint8_t *reason, int len) {
    put("close", 5);
    put_int(id);
    put_int(code);
    put_hex(reason ? reason : (const uint8_t *)"", (size_t)len);
    return call();
}

int ws_js_poll_event(int id, uint8_t *buf, int cap, int *out_kind, int *out_len, int *out_code) {
    put("poll", 4);
    put_int(id);
    put_int(cap);
    int r = call();
    set(out_kind, g_fields[1]);
    set(out_len, g_fields[2]);
    set(out_code, g_fields[3]);
    if (r == 0) from_hex(g_fields[4], buf, cap);
    return r;
}

int ws_js_state(int id, int *out_state) {
    put("state", 5);
    put_int(id);
    int r = call();
    set(out_state, g_fields[1]);
    return r;
}

int ws_js_buffered_amount(int id, int *out_bytes, int *out_queued) {
    put("buffered", 8);
    put_int(id);
    int r = call();
    set(out_bytes, g_fields[1]);
    set(out_queued, g_fields[2]);
    return r;
}

static int text(const char *what, int id, uint8_t *buf, int cap, int *out_len) {
    put(what, strlen(what));
    put_int(id);
    put_int(cap);
    int r = call();
    set(out_len, g_fields[1]);
    if (r == 0) {
        int n = from_hex(g_fields[2], buf, cap - 1);
        buf[n] = 0;
    }
    return r;
}

int ws_js_subprotocol(int id, uint8_t *buf, int cap, int *out_len) { return text("subprotocol", id, buf, cap, out_len); }

int ws_js_extensions(int id, uint8_t *buf, int cap, int *out_len) { return text("extensions", id, buf, cap, out_len); }

int ws_js_free(int id) {
    put("free", 4);
    put_int(id);
    return call();
}
