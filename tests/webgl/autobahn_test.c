// Autobahn|Testsuite client through wsmachine.jslib in a browser (scripts/autobahn-webgl.sh).
//
// Arguments: the fuzzing server's base URL (ws://127.0.0.1:PORT) and the agent name.
// Like a game, it polls once per animation frame: getCaseCount, then every case
// (/runCase?case=N&agent=A) echoing each text and binary message with its type until the
// close event, then /updateReports. Prints "case N: close CODE" per case and finally
// "DONE <cases run> <cases with a jslib error>".

#include <emscripten.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// As in jslib_test.c (checked against WebGLNative.cs by check_signatures.py).
int ws_js_open(const char *url, const char *protocols, int max_message_bytes, int max_queued_messages,
               int max_queued_bytes, int *out_id, char *err, int err_cap);
int ws_js_send_text(int id, const uint8_t *utf8, int len, int max_pending);
int ws_js_send_binary(int id, const uint8_t *data, int len, int max_pending);
int ws_js_poll_event(int id, uint8_t *buf, int cap, int *out_kind, int *out_len, int *out_code);
int ws_js_free(int id);

enum { K_TEXT = 1, K_BINARY = 2, K_CLOSE = 5, K_FAILURE = 18 };
enum { R_OK = 0, R_NEED_INPUT = 1, R_BUFFER_TOO_SMALL = 103 };
#define LIMIT (64 * 1024 * 1024)

static const char *g_base, *g_agent;
static int g_cases = -1, g_case, g_id, g_errors;
static int g_phase; // 0 count, 1 cases, 2 reports, 3 done
static uint8_t *g_buf;
static int g_cap;

static int open_path(const char *path) {
    char url[512], err[200];
    snprintf(url, sizeof url, "%s%s", g_base, path);
    int r = ws_js_open(url, NULL, LIMIT, 1 << 20, LIMIT, &g_id, err, sizeof err);
    if (r != R_OK) {
        printf("open %s: %d %s\n", url, r, err);
        g_errors++;
        return -1;
    }
    return 0;
}

static void next(void) {
    char path[256];
    if (g_phase == 1 && g_case < g_cases) {
        g_case++;
        snprintf(path, sizeof path, "/runCase?case=%d&agent=%s", g_case, g_agent);
    } else {
        g_phase = 2;
        snprintf(path, sizeof path, "/updateReports?agent=%s", g_agent);
    }
    open_path(path);
}

static void frame(void) {
    if (g_phase == 3) return;
    for (;;) {
        int kind, len, code;
        int r = ws_js_poll_event(g_id, g_buf, g_cap, &kind, &len, &code);
        if (r == R_BUFFER_TOO_SMALL) {
            free(g_buf);
            g_cap = len;
            g_buf = malloc(g_cap);
            continue;
        }
        if (r == R_NEED_INPUT) return;
        if (r != R_OK) {
            printf("poll: %d\n", r);
            g_errors++;
            g_phase = 3;
            printf("DONE %d %d\n", g_case, g_errors);
            emscripten_cancel_main_loop();
            return;
        }
        if (kind == K_TEXT || kind == K_BINARY) {
            if (g_phase == 0) {
                char count[16] = {0};
                memcpy(count, g_buf, len < 15 ? len : 15);
                g_cases = atoi(count);
                continue;
            }
            r = kind == K_TEXT ? ws_js_send_text(g_id, g_buf, len, 0) : ws_js_send_binary(g_id, g_buf, len, 0);
            (void)r; // after a close from the server, sends fail: the browser's rules
        } else if (kind == K_FAILURE) {
            printf("case %d: failure %d %.*s\n", g_case, code, len, (char *)g_buf);
            g_errors++;
        } else if (kind == K_CLOSE) {
            ws_js_free(g_id);
            if (g_phase == 0) {
                printf("%d cases\n", g_cases);
                g_phase = 1;
                next();
            } else if (g_phase == 1) {
                printf("case %d: close %d\n", g_case, code);
                next();
            } else {
                g_phase = 3;
                printf("DONE %d %d\n", g_case, g_errors);
                emscripten_cancel_main_loop();
            }
            return;
        }
    }
}

int main(int argc, char **argv) {
    if (argc < 3) {
        printf("usage: BASE_URL AGENT\nDONE 0 1\n");
        return 1;
    }
    g_base = argv[1];
    g_agent = argv[2];
    g_cap = 1 << 20;
    g_buf = malloc(g_cap);
    if (open_path("/getCaseCount") != 0) {
        printf("DONE 0 1\n");
        return 1;
    }
    emscripten_set_main_loop(frame, 0, 0);
    return 0;
}
