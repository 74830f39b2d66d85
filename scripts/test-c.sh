#!/usr/bin/env bash
# The C test suite (tests/c/) against loopback echo servers.
#
#   scripts/test-c.sh          # from anywhere; ~20 s once the library is built
#   scripts/test-c.sh FILTER   # only the program runs whose name contains FILTER, e.g.
#                              # ffi_misuse_test, tls_errors_test, "echo_test ws://",
#                              # "input window", valgrind (the build and header checks
#                              # always run; names are the "# --- ..." lines)
#
# Steps:
#   1. cargo build --release (a no-op when up to date)
#   2. test certificates (tests/peers/make_certs.sh) and five python echo servers on
#      127.0.0.1 (good, expired, wronghost, TLS-1.3-only, plain). They are killed on exit.
#   3. the header alone as C11 and as C++11 (-Wall -Wextra -Werror -pedantic), plus a
#      C++ program linked against the static library (extern "C" names)
#   4. ffi_misuse_test, echo_test (wss:// and ws://, each with ws_offer_input and with
#      the input window), lent_memory_test (ws://, and wss:// where the window is the TLS
#      input buffer) and tls_errors_test, built with ASan+UBSan against
#      target/release/libwsmachine.a; examples/tls_echo.c (the TLS object without
#      WebSocket) against two Python ssl echo servers (TLS 1.3 and 1.2)
#   5. echo_test again, built against libwsmachine.so without sanitizers, under
#      valgrind --leak-check=full: wss:// with undefined-value errors off (ring's
#      assembly makes Memcheck report its AES-GCM/SHA output as uninitialised), and
#      ws:// with them on, so every byte wsmachine itself produces is checked
#      (tests/c/valgrind.supp: one third-party entry, see there); ws:// once more through
#      the input window (the message buffer lent to recv()); lent_memory_test on ws://
#      (a window lent across an idle tick, and passed back), and on wss:// with
#      undefined-value errors off. WSM_VALGRIND=0 skips.
#
# Output: every check line of every program ("ok - ..." / "not ok - ..."), the
# script's own checks in the same form, and as the LAST line "N passed, N failed".
# A known library bug shows as "not ok - ... # TODO ..." and is counted in neither.
# Exit status: 0 only when nothing failed. KEEP_TMP=1 keeps the temp directory.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
FILTER="${1:-}"
case "$FILTER" in -h|--help) sed -n '2,30p' "$0"; exit 0 ;; esac
# shellcheck source=lib/tap.sh
. scripts/lib/tap.sh
tap_begin test-c

PASSED=0 FAILED=0 TODO=0 RUNS=0

# run_prog NAME CMD...: runs a test program (hard limit 180 s), echoes its output,
# counts its check lines, and fails it when the exit status is non-zero (ASan,
# LeakSanitizer, valgrind) even though every check passed.
run_prog() {
  local name=$1; shift
  if [ -n "$FILTER" ] && [[ "$name" != *"$FILTER"* ]]; then return 0; fi
  RUNS=$((RUNS + 1))
  local out="$TMP/run$RUNS.out" err="$TMP/run$RUNS.err" rc p f t
  echo "# --- $name"
  timeout -k 5 180 "$@" >"$out" 2>"$err"; rc=$?
  cat "$out"
  p=$(grep -c '^ok - ' "$out" || true)
  f=$(grep '^not ok - ' "$out" | grep -vc ' # TODO ' || true)
  t=$(grep '^not ok - ' "$out" | grep -c ' # TODO ' || true)
  PASSED=$((PASSED + p)); FAILED=$((FAILED + f)); TODO=$((TODO + t))
  if [ -s "$err" ]; then echo "# $name stderr:"; diag_file "$err" 60; fi
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    not_ok "$name exited with status $rc$([ "$rc" -eq 124 ] && echo ' (timeout)')"
  elif [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
    not_ok "$name printed no checks"
  fi
}

CFLAGS_COMMON=(-std=c11 -Wall -Wextra -Werror -g -Iinclude)
SAN=(-fsanitize=address,undefined -fno-omit-frame-pointer)
LIBS=(-lpthread -ldl -lm)
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export LSAN_OPTIONS="report_objects=1"

# ------------------------------------------------------------------ 1. library
step "cargo build --release" cargo build --release --quiet
for f in target/release/libwsmachine.a target/release/libwsmachine.so include/wsmachine.h; do
  [ -f "$f" ] || { not_ok "$f exists"; echo "$PASSED passed, $FAILED failed"; exit 1; }
done

# ------------------------------------------------------------------ 2. certificates, servers
step "test certificates (tests/peers/make_certs.sh)" bash tests/peers/make_certs.sh "$TMP/certs"
C="$TMP/certs"

start_server() { # NAME ARGS...
  local name=$1; shift
  python3 tests/peers/echo_server.py --port 0 "$@" >"$TMP/srv-$name.port" 2>"$TMP/srv-$name.log" &
  SERVER_PIDS+=("$!")
  eval "PID_$name=$!"
}
wait_port() { # NAME -> sets PORT_NAME
  local name=$1 pid word port i
  eval "pid=\$PID_$name"
  for i in $(seq 1 150); do
    if read -r word port <"$TMP/srv-$name.port" 2>/dev/null && [ "$word" = PORT ]; then
      eval "PORT_$name=$port"; ok "echo server '$name' listening on 127.0.0.1:$port"; return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  not_ok "echo server '$name' started"; diag_file "$TMP/srv-$name.log"; eval "PORT_$name=1"; return 1
}
start_server good --tls-cert "$C/server.pem" --tls-key "$C/server.key"
start_server expired --tls-cert "$C/expired.pem" --tls-key "$C/expired.key"
start_server wronghost --tls-cert "$C/wronghost.pem" --tls-key "$C/wronghost.key"
start_server tls13 --tls13-only --tls-cert "$C/server.pem" --tls-key "$C/server.key"
start_server plain
# The TLS object's example (examples/tls_echo.c) talks to a Python ssl echo server.
start_tls() { # NAME ARGS...
  local name=$1; shift
  python3 tests/peers/tls_echo_server.py --port 0 --cert "$C/server.pem" --key "$C/server.key" "$@" \
    >"$TMP/srv-$name.port" 2>"$TMP/srv-$name.log" &
  SERVER_PIDS+=("$!")
  eval "PID_$name=$!"
}
start_tls tlsecho13 --mode echo --tls13-only
start_tls tlsecho12 --mode echo --tls12-only

# ------------------------------------------------------------------ 3. header (servers start meanwhile)
step "header alone compiles as C11 (-pedantic)" \
  gcc -std=c11 -Wall -Wextra -Werror -pedantic -fsyntax-only -x c include/wsmachine.h
step "header alone compiles as C++11 (-pedantic)" \
  g++ -std=c++11 -Wall -Wextra -Werror -pedantic -fsyntax-only -x c++ include/wsmachine.h
cat >"$TMP/cxx_link.cpp" <<'EOF'
#include "wsmachine.h"
#include "wsmachine.h" /* include guard */
int main() {
    ws_config cfg = 0;
    ws_result rc = ws_config_new(&cfg);
    ws_config_free(cfg);
    return rc == WS_OK && ws_result_str(WS_OK) != nullptr ? 0 : 1;
}
EOF
step "C++11 program links against libwsmachine.a and runs (extern \"C\")" \
  bash -c 'g++ -std=c++11 -Wall -Wextra -Werror -pedantic -Iinclude "$1/cxx_link.cpp" \
             target/release/libwsmachine.a -lpthread -ldl -lm -o "$1/cxx_link" && "$1/cxx_link"' _ "$TMP"

# Every ws_result code in the header is in the tests' code table.
codes=$(sed -n '/^enum ws_result$/,/^};/p' include/wsmachine.h | grep -oE '^ +WS_[A-Z0-9_]+ = ' | tr -d ' =')
missing=""
for c in $codes; do grep -q "RC($c)" tests/c/test_util.h || missing="$missing $c"; done
if [ -n "$codes" ] && [ -z "$missing" ]; then
  ok "tests/c/test_util.h lists every ws_result code in the header ($(echo "$codes" | wc -l))"
else
  not_ok "tests/c/test_util.h lists every ws_result code in the header (missing:${missing:- could not parse the enum})"
fi

# ------------------------------------------------------------------ 4. ASan + UBSan programs
BUILT=()
for prog in ffi_misuse_test echo_test tls_errors_test lent_memory_test trust_test; do
  if step "build $prog (ASan+UBSan, static)" gcc "${CFLAGS_COMMON[@]}" "${SAN[@]}" "tests/c/$prog.c" \
       target/release/libwsmachine.a "${LIBS[@]}" -o "$TMP/$prog"; then
    BUILT+=("$prog")
  fi
done
if step "build examples/tls_echo.c (ASan+UBSan, static)" gcc "${CFLAGS_COMMON[@]}" "${SAN[@]}" examples/tls_echo.c \
     target/release/libwsmachine.a "${LIBS[@]}" -o "$TMP/tls_echo"; then
  BUILT+=(tls_echo)
fi
built() { [[ " ${BUILT[*]} " == *" $1 "* ]]; }

built ffi_misuse_test && run_prog "ffi_misuse_test (ASan)" "$TMP/ffi_misuse_test"

wait_port good; wait_port expired; wait_port wronghost; wait_port tls13; wait_port plain
WSS="wss://localhost:$PORT_good"
built echo_test && run_prog "echo_test $WSS/ (ASan)" "$TMP/echo_test" "$WSS/" "$C/ca.pem"
built echo_test && run_prog "echo_test ws://127.0.0.1:$PORT_plain/ (ASan)" "$TMP/echo_test" "ws://127.0.0.1:$PORT_plain/"
built echo_test && run_prog "echo_test $WSS/ (ASan, input window)" env WSM_INPUT_WINDOW=1 "$TMP/echo_test" "$WSS/" "$C/ca.pem"
built echo_test && run_prog "echo_test ws://127.0.0.1:$PORT_plain/ (ASan, input window)" env WSM_INPUT_WINDOW=1 \
  "$TMP/echo_test" "ws://127.0.0.1:$PORT_plain/"
built echo_test && run_prog "echo_test $WSS/ (ASan, window kept between reads)" env WSM_INPUT_WINDOW=2 \
  "$TMP/echo_test" "$WSS/" "$C/ca.pem"
built echo_test && run_prog "echo_test ws://127.0.0.1:$PORT_plain/ (ASan, window kept between reads)" \
  env WSM_INPUT_WINDOW=2 "$TMP/echo_test" "ws://127.0.0.1:$PORT_plain/"
built lent_memory_test && run_prog "lent_memory_test ws://127.0.0.1:$PORT_plain/ (ASan)" "$TMP/lent_memory_test" \
  "ws://127.0.0.1:$PORT_plain/"
built lent_memory_test && run_prog "lent_memory_test $WSS/ (ASan, the TLS input buffer lent)" \
  "$TMP/lent_memory_test" "$WSS/" "$C/ca.pem"
built tls_errors_test && run_prog "tls_errors_test (ASan)" "$TMP/tls_errors_test" --ca "$C/ca.pem" \
  --good "$WSS" --expired "wss://localhost:$PORT_expired" --wronghost "wss://localhost:$PORT_wronghost" \
  --tls13 "wss://localhost:$PORT_tls13" --plain "ws://127.0.0.1:$PORT_plain"
built trust_test && run_prog "trust_test (ASan): system roots, external verification" "$TMP/trust_test" \
  --min-roots 1 --good "$WSS/"

wait_port tlsecho13; wait_port tlsecho12
for size in 1 100000 8388608; do
  built tls_echo && run_prog "tls_echo (TLS object, TLS 1.3, $size bytes, ASan)" "$TMP/tls_echo" localhost "$PORT_tlsecho13" "$C/ca.pem" "$size"
done
built tls_echo && run_prog "tls_echo (TLS object, TLS 1.2, 1 MiB, ASan)" "$TMP/tls_echo" 127.0.0.1 "$PORT_tlsecho12" "$C/ca.pem"

# ------------------------------------------------------------------ 5. valgrind on the .so
if [ "${WSM_VALGRIND:-1}" != 0 ]; then
  VG=(valgrind -q --leak-check=full --error-exitcode=1 --suppressions=tests/c/valgrind.supp)
  # The .so's SONAME is libwsmachine.so.0, which the programs record: the usual symlink.
  mkdir -p "$TMP/lib" && ln -sf "$PWD/target/release/libwsmachine.so" "$TMP/lib/libwsmachine.so.0"
  if step "build echo_test (no sanitizers, libwsmachine.so)" gcc "${CFLAGS_COMMON[@]}" -O1 tests/c/echo_test.c \
       -Ltarget/release -lwsmachine "${LIBS[@]}" -o "$TMP/echo_test_so"; then
    run_prog "echo_test $WSS/ (valgrind, .so, leaks + invalid accesses)" \
      env LD_LIBRARY_PATH="$TMP/lib" WSM_TEST_TIMEOUT_S=150 \
      "${VG[@]}" --undef-value-errors=no "$TMP/echo_test_so" "$WSS/" "$C/ca.pem"
    run_prog "echo_test ws://127.0.0.1:$PORT_plain/ (valgrind, .so, all checks)" \
      env LD_LIBRARY_PATH="$TMP/lib" WSM_TEST_TIMEOUT_S=150 \
      "${VG[@]}" "$TMP/echo_test_so" "ws://127.0.0.1:$PORT_plain/"
    # The direct window lends the message buffer: no read of memory nobody wrote.
    run_prog "echo_test ws://127.0.0.1:$PORT_plain/ (valgrind, .so, all checks, input window)" \
      env LD_LIBRARY_PATH="$TMP/lib" WSM_TEST_TIMEOUT_S=150 WSM_INPUT_WINDOW=1 \
      "${VG[@]}" "$TMP/echo_test_so" "ws://127.0.0.1:$PORT_plain/"
  fi
  # Lent memory across an idle tick, and the window passed back (issue #19).
  if step "build lent_memory_test (no sanitizers, libwsmachine.so)" gcc "${CFLAGS_COMMON[@]}" -O1 \
       tests/c/lent_memory_test.c -Ltarget/release -lwsmachine "${LIBS[@]}" -o "$TMP/lent_memory_test_so"; then
    run_prog "lent_memory_test ws://127.0.0.1:$PORT_plain/ (valgrind, .so, all checks)" \
      env LD_LIBRARY_PATH="$TMP/lib" WSM_TEST_TIMEOUT_S=60 \
      "${VG[@]}" "$TMP/lent_memory_test_so" "ws://127.0.0.1:$PORT_plain/"
    run_prog "lent_memory_test $WSS/ (valgrind, .so, leaks + invalid accesses)" \
      env LD_LIBRARY_PATH="$TMP/lib" WSM_TEST_TIMEOUT_S=60 \
      "${VG[@]}" --undef-value-errors=no "$TMP/lent_memory_test_so" "$WSS/" "$C/ca.pem"
  fi
fi

# ------------------------------------------------------------------ summary
if [ -n "$FILTER" ] && [ "$RUNS" -eq 0 ]; then not_ok "some program run matches the filter '$FILTER'"; fi
for name in good expired wronghost tls13 plain tlsecho13 tlsecho12; do
  if grep -qiE 'Traceback|ERROR' "$TMP/srv-$name.log" 2>/dev/null; then
    echo "# echo server '$name' logged:"; diag_file "$TMP/srv-$name.log" 20
  fi
done
[ "$TODO" -gt 0 ] && echo "# $TODO check(s) marked TODO for known library bugs (counted in neither number)"
echo "# took $(( ($(date +%s%N) - T_START) / 1000000 )) ms"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
