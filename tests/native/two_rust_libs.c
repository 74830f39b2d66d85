/* One C program linking dist's libwsmachine.a together with a second Rust static
 * library (tests/native/otherlib). Both carry a Rust standard library; the clean
 * libwsmachine.a keeps its copy local, so the link succeeds and each library uses
 * its own runtime. Prints TAP-style lines; exit status 0 only when all pass. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "wsmachine.h"

uint32_t other_digit_sum(uint64_t n);
uint32_t other_catch_panic(void);

static int failed;
static void check(int cond, const char *what) {
    printf("%s - %s\n", cond ? "ok" : "not ok", what);
    if (!cond) failed++;
}

int main(void) {
    check(ws_abi_version() == WS_ABI_VERSION, "ws_abi_version() == WS_ABI_VERSION");
    check(other_digit_sum(987654321u) == 45, "other library: formatting and allocation");
    check(other_catch_panic() == 1, "other library: a panic is caught by its own catch_unwind");

    ws_config cfg = 0;
    ws_client c = 0;
    check(ws_config_new(&cfg) == WS_OK, "ws_config_new");
    check(ws_client_new(cfg, "wss://example.invalid/", &c) == WS_OK, "ws_client_new (TLS client built)");
    uint8_t out[4096];
    size_t n = 0;
    uint32_t rc = ws_read_output(c, out, sizeof out, &n);
    /* The first output is the TLS ClientHello: record type 22 (handshake). */
    check(rc == WS_OK && n > 5 && out[0] == 22, "ws_read_output gives a TLS ClientHello");
    uint8_t bad[] = "HTTP/1.1 200 OK\r\n\r\n";
    size_t used = 0;
    rc = ws_offer_input(c, bad, sizeof bad - 1, &used);
    char msg[256];
    size_t len = 0;
    check(rc != WS_OK && ws_client_last_error(c, msg, sizeof msg, &len) == WS_OK && len > 0,
          "plain HTTP instead of TLS is an error with a message");
    printf("# %s: %s\n", ws_result_str(rc), msg);
    ws_client_free(c);
    ws_config_free(cfg);
    check(other_digit_sum(1000000001u) == 2, "other library still works after wsmachine");
    return failed ? 1 : 0;
}
