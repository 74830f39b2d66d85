/*
 * Trust through the C ABI against a real loopback server: the operating system's
 * roots (ws_config_set_system_roots, counted), and external verification (the client
 * waits in WS_STATE_VERIFYING, lends the chain, and sends the upgrade only after
 * ws_client_set_verdict accepts). Runs natively under ASan (scripts/test-c.sh) and as
 * a Windows program under wine (scripts/test-cross.sh), where the roots come from the
 * Windows certificate store (wine's, which it fills from the host's bundle).
 *
 *   trust_test [--min-roots N] [--good wss://localhost:PORT]
 */
#define _POSIX_C_SOURCE 200809L
#include "test_util.h"

static void system_roots(size_t min_roots)
{
    ws_config cfg = 0;
    check_code(ws_config_new(&cfg), WS_OK, "ws_config_new");
    size_t loaded = 9, skipped = 9;
    check_code(ws_config_system_roots_count(cfg, &loaded, &skipped), WS_OK, "ws_config_system_roots_count");
    check(loaded == 0 && skipped == 0, "system roots are off by default");
    ws_result rc = ws_config_set_system_roots(cfg, 1);
    if (rc != WS_OK) {
        char buf[512];
        size_t n = 0;
        ws_last_error((char *)buf, sizeof buf, &n);
        diag("ws_last_error: %s", buf);
    }
    check_code(rc, WS_OK, "ws_config_set_system_roots(cfg, 1)");
    check_code(ws_config_system_roots_count(cfg, &loaded, &skipped), WS_OK, "ws_config_system_roots_count");
    diag("the operating system's store: %zu roots loaded, %zu skipped", loaded, skipped);
    check(loaded >= min_roots, "at least %zu roots loaded (%zu)", min_roots, loaded);
    check_code(ws_config_set_system_roots(cfg, 0), WS_OK, "ws_config_set_system_roots(cfg, 0)");
    check_code(ws_config_system_roots_count(cfg, &loaded, &skipped), WS_OK, "count after off");
    check(loaded == 0, "off again: 0 loaded");
    check_code(ws_config_set_external_verification(cfg, 3), WS_INVALID_ARGUMENT, "unknown external mode");
    check_code(ws_config_set_system_roots(0, 1), WS_INVALID_HANDLE, "set_system_roots(0)");
    check_code(ws_config_system_roots_count(cfg, NULL, &skipped), WS_NULL_POINTER, "system_roots_count(NULL)");
    ws_config_free(cfg);
}

static int pred_verifying(conn *k) { return k->state == WS_STATE_VERIFYING; }

static void verdict(const char *url)
{
    ws_config cfg = 0;
    check_code(ws_config_new(&cfg), WS_OK, "ws_config_new");
    /* The built-in roots do not know the test CA: the chain waits for us. */
    check_code(ws_config_set_external_verification(cfg, WS_EXTERNAL_VERIFY_UNKNOWN_ISSUER), WS_OK,
               "ws_config_set_external_verification(UNKNOWN_ISSUER)");
    conn k;
    check_code(conn_open(&k, cfg, url), WS_OK, "ws_client_new %s", url);
    if (!check(k.fd >= 0, "TCP connect %s", url)) {
        conn_free(&k);
        ws_config_free(cfg);
        return;
    }
    const uint8_t *der = NULL;
    size_t len = 0;
    check_code(ws_client_peer_certificate(k.c, 0, &der, &len), WS_INVALID_STATE, "no chain before the handshake");
    check_code(ws_client_set_verdict(k.c, 1, NULL), WS_INVALID_STATE, "no verdict awaited yet");
    check(wait_for(&k, pred_verifying, 10000), "WS_STATE_VERIFYING (state %s, %s)", state_name(k.state),
          client_error(k.c));
    /* Nothing happens while we think it over. */
    for (int i = 0; i < 5; i++) {
        pump(&k, 10);
    }
    check(k.state == WS_STATE_VERIFYING && k.fail == 0, "still verifying after pumping");
    size_t count = 0;
    const uint8_t *leaf = NULL;
    size_t leaf_len = 0;
    while (ws_client_peer_certificate(k.c, count, &der, &len) == WS_OK) {
        if (count == 0) {
            leaf = der;
            leaf_len = len;
        }
        count++;
    }
    check(count >= 1 && leaf_len > 0 && leaf[0] == 0x30, "the chain: %zu certificate(s), leaf is DER", count);
    /* The operating system's verifier (blocking; a caller runs it on a worker thread):
     * the test CA is in no OS store, so it says no, and why. */
    uint32_t trusted = 9;
    char why[512];
    size_t why_len = 0;
    check_code(ws_client_verify_with_platform(k.c, &trusted, why, sizeof why, &why_len), WS_OK,
               "ws_client_verify_with_platform");
    diag("platform verifier: trusted=%u: %s", trusted, why);
    check(trusted == 0 && why_len > 0, "the OS does not trust the private test CA, and says why");
    check_code(ws_client_peer_certificate(k.c, count, &der, &len), WS_INVALID_ARGUMENT, "index past the end");
    check_code(ws_client_set_verdict(k.c, 1, NULL), WS_OK, "ws_client_set_verdict(accept)");
    check(wait_for(&k, pred_open, 10000), "open after the verdict (state %s, %s)", state_name(k.state),
          client_error(k.c));
    check_code(ws_send_text(k.c, (const uint8_t *)"verdict", 7), WS_OK, "send");
    owned_msg m = {0, 0, 0, NULL};
    if (check(next_msg(&k, &m, 10000), "echo")) {
        check(m.len == 7 && memcmp(m.data, "verdict", 7) == 0, "the echo matches");
        free(m.data);
    }
    check(leaf[0] == 0x30, "the lent leaf is still there");
    conn_free(&k);

    /* The accepted session resumes without asking again (its chain was accepted), so
     * the reject runs on a fresh config: a certificate code and our reason. */
    ws_config_free(cfg);
    check_code(ws_config_new(&cfg), WS_OK, "ws_config_new");
    check_code(ws_config_set_external_verification(cfg, WS_EXTERNAL_VERIFY_ALWAYS), WS_OK, "ALWAYS");
    check_code(conn_open(&k, cfg, url), WS_OK, "ws_client_new (reject)");
    check(wait_for(&k, pred_verifying, 10000), "VERIFYING again (state %s)", state_name(k.state));
    check_code(ws_client_set_verdict(k.c, 0, "not on my watch"), WS_OK, "ws_client_set_verdict(reject)");
    ws_state st = 0;
    ws_client_state(k.c, &st);
    check(st == WS_STATE_FAILED, "failed after a reject");
    const char *e = client_error(k.c);
    check(strstr(e, "not on my watch") != NULL, "the reason is in the last error: %s", e);
    conn_free(&k);
    ws_config_free(cfg);
}

int main(int argc, char **argv)
{
    size_t min_roots = 1;
    const char *good = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--min-roots") == 0) {
            min_roots = (size_t)strtoul(argv[i + 1], NULL, 10);
        } else if (strcmp(argv[i], "--good") == 0) {
            good = argv[i + 1];
        }
    }
    if (sock_init() != 0) {
        return 2;
    }
    start_deadline(60);
    system_roots(min_roots);
    if (good) {
        verdict(good);
    }
    return finish("trust_test");
}
