#!/usr/bin/env bash
# wsmachine through real proxies from Debian, started by this script.
#
#   scripts/test-proxy.sh        # root (it runs the proxies as the test user); ~1 min
#
# Needs (bash .ci/install.sh): squid-openssl, tinyproxy, dante-server, apache2-utils
# (htpasswd), python3 websockets, and the unprivileged test user wsmproxy with its
# test password (dante's username method checks system accounts).
#
# Every proxy runs as wsmproxy, in the foreground, on a free high port, with its own
# config and logs in a temp directory (never the system service):
#   squid        plain CONNECT; CONNECT with Basic auth (basic_ncsa_auth + htpasswd);
#                HTTPS proxy (https_port with a certificate from the test CA)
#   tinyproxy    plain CONNECT
#   danted       SOCKS5 without auth; SOCKS5 with username/password
# Through each: tests/c/proxy_test.c (ASan+UBSan) against the Python websockets echo
# server with TLS 1.2 and with TLS 1.3: text echo, 1 MiB echo, client close, server
# close (4001). After each, the proxy's log must name the origin: "CONNECT
# localhost:<port>" for squid and tinyproxy, the address it resolved
# (" 127.0.0.1.<port>" on its tcp/connect line) for dante, which logs no names.
# Failure cases: squid 407 for wrong credentials (challenges checked), squid 403 for
# a denied port, SOCKS5 wrong password, proxy unreachable (the caller's connect fails),
# and tests/peers/fake_proxy.py for answers no real proxy gives: closing mid-answer,
# garbage, an endless header, and a working tunnel that delivers its answer and the
# first 4 KiB of TLS one byte per write.
#
# Output: "ok - ..." / "not ok - ..." lines and, last, "N passed, N failed".
# Exit status 0 only when nothing failed. KEEP_TMP=1 keeps the temp directory.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
T_START=$(date +%s)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/wsm-test-proxy.XXXXXX")
PIDS=()     # our children
GROUPS_=()  # process groups of the proxies (each started with setsid; they fork helpers)
PROXY_USER=wsmproxy
PROXY_PASSWORD=wsm-socks-test   # set by .ci/install.sh

cleanup() {
  local p
  for p in "${GROUPS_[@]}"; do kill -TERM -- "-$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  sleep 0.2
  for p in "${GROUPS_[@]}"; do kill -KILL -- "-$p" 2>/dev/null; done
  if [ "${KEEP_TMP:-0}" = 1 ]; then echo "# kept $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PASSED=0 FAILED=0 RUNS=0
ok() { echo "ok - $*"; PASSED=$((PASSED + 1)); }
not_ok() { echo "not ok - $*"; FAILED=$((FAILED + 1)); }
diag_file() { sed 's/^/#   /' "$1" | tail -n "${2:-30}"; }
step() {
  local desc=$1; shift
  if "$@" >"$TMP/step.log" 2>&1; then ok "$desc"; return 0; fi
  not_ok "$desc"; diag_file "$TMP/step.log"; return 1
}
run_prog() { # NAME CMD...: counts the program's check lines
  local name=$1; shift
  RUNS=$((RUNS + 1))
  local out="$TMP/run$RUNS.out" rc p f
  echo "# --- $name"
  timeout -k 5 120 "$@" >"$out" 2>"$TMP/run$RUNS.err"; rc=$?
  grep -E '^(ok|not ok) - ' "$out" | grep -v '^ok - ' ; true
  grep '^#' "$out" | tail -n 4
  p=$(grep -c '^ok - ' "$out" || true)
  f=$(grep -c '^not ok - ' "$out" || true)
  PASSED=$((PASSED + p)); FAILED=$((FAILED + f))
  echo "#   $p checks passed, $f failed"
  [ -s "$TMP/run$RUNS.err" ] && { echo "# stderr:"; diag_file "$TMP/run$RUNS.err" 20; }
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then not_ok "$name exited with status $rc"; fi
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_listen() { # PORT PID NAME LOG
  local i
  for i in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then ok "$3 listening on 127.0.0.1:$1"; return 0; fi
    kill -0 "$2" 2>/dev/null || break
    sleep 0.1
  done
  not_ok "$3 started"; diag_file "$4"; return 1
}

[ "$(id -u)" = 0 ] || { echo "run as root (the proxies run as $PROXY_USER)"; exit 2; }
for t in squid tinyproxy danted htpasswd setpriv setsid; do
  command -v "$t" >/dev/null || { not_ok "$t installed (bash .ci/install.sh)"; echo "$PASSED passed, $FAILED failed"; exit 1; }
done
id "$PROXY_USER" >/dev/null 2>&1 || { not_ok "user $PROXY_USER exists (bash .ci/install.sh)"; echo "$PASSED passed, $FAILED failed"; exit 1; }
chmod 755 "$TMP"

# ------------------------------------------------------------------ library, program, certs
step "cargo build --release" cargo build --release --quiet
step "build proxy_test (ASan+UBSan)" gcc -std=c11 -Wall -Wextra -Werror -g -Iinclude \
  -fsanitize=address,undefined -fno-omit-frame-pointer tests/c/proxy_test.c \
  target/release/libwsmachine.a -lpthread -ldl -lm -o "$TMP/proxy_test"
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1"
step "test certificates" bash tests/peers/make_certs.sh "$TMP/certs"
C="$TMP/certs"
chmod 755 "$C"; chmod 644 "$C"/*

# ------------------------------------------------------------------ echo servers
start_echo() { # NAME ARGS...
  local name=$1; shift
  python3 tests/peers/echo_server.py --port 0 --tls-cert "$C/server.pem" --tls-key "$C/server.key" "$@" \
    >"$TMP/echo-$name.port" 2>"$TMP/echo-$name.log" &
  PIDS+=("$!")
}
start_echo tls12 --tls12-only
start_echo tls13 --tls13-only
for name in tls12 tls13; do
  for i in $(seq 1 100); do read -r w p <"$TMP/echo-$name.port" 2>/dev/null && [ "$w" = PORT ] && break; sleep 0.1; done
  eval "ECHO_$name=\$p"
done
# A closed port: bound, then released.
DENIED_PORT=$(free_port)

# ------------------------------------------------------------------ proxies
mkdir -p "$TMP/p"; chown "$PROXY_USER" "$TMP/p"
start_proxy() { # NAME PORT CMD...: runs as the test user in the foreground
  local name=$1 port=$2; shift 2
  setsid bash -c 'exec setpriv --reuid="$0" --regid="$0" --init-groups -- "$@"' "$PROXY_USER" "$@" \
    >"$TMP/p/$name/stdout.log" 2>&1 &
  PIDS+=("$!"); GROUPS_+=("$!")
  wait_listen "$port" "$!" "$name" "$TMP/p/$name/stdout.log"
}
newdir() { mkdir -p "$TMP/p/$1"; chown "$PROXY_USER" "$TMP/p/$1"; echo "$TMP/p/$1"; }

start_squid() { # NAME PORT OPTIONS... (tests/peers/squid.sh)
  local name=$1 port=$2; shift 2
  mkdir -p "$TMP/p/$name"
  setsid bash tests/peers/squid.sh "$TMP/p/$name" "$port" "$@" >"$TMP/p/$name/stdout.log" 2>&1 &
  PIDS+=("$!"); GROUPS_+=("$!")
  wait_listen "$port" "$!" "$name" "$TMP/p/$name/stdout.log"
}
SQUID_PORT=$(free_port) SQUID_AUTH_PORT=$(free_port) SQUID_HTTPS_PORT=$(free_port)
start_squid squid "$SQUID_PORT" --deny-port "$DENIED_PORT"
start_squid squid-auth "$SQUID_AUTH_PORT" --auth player 'p@ss word'
start_squid squid-https "$SQUID_HTTPS_PORT" --https "$C/server.pem" "$C/server.key"

D=$(newdir tinyproxy); TINY_PORT=$(free_port)
cat >"$D/tinyproxy.conf" <<EOF
Port $TINY_PORT
Listen 127.0.0.1
Timeout 60
LogFile "$D/tinyproxy.log"
LogLevel Connect
PidFile "$D/tinyproxy.pid"
MaxClients 20
Allow 127.0.0.1
EOF
start_proxy tinyproxy "$TINY_PORT" tinyproxy -d -c "$D/tinyproxy.conf"

dante_conf() { # DIR PORT METHOD
  cat >"$1/danted.conf" <<EOF
logoutput: $1/danted.log
internal: 127.0.0.1 port = $2
external: 127.0.0.1
socksmethod: $3
clientmethod: none
client pass {
  from: 127.0.0.0/8 to: 0.0.0.0/0
  log: connect disconnect error
}
socks pass {
  from: 127.0.0.0/8 to: 0.0.0.0/0
  command: connect
  log: connect disconnect error
}
EOF
}
D=$(newdir dante); DANTE_PORT=$(free_port)
dante_conf "$D" "$DANTE_PORT" none
start_proxy dante "$DANTE_PORT" danted -f "$D/danted.conf" -p "$D/danted.pid" -N 1
D=$(newdir dante-auth); DANTE_AUTH_PORT=$(free_port)
dante_conf "$D" "$DANTE_AUTH_PORT" username
start_proxy dante-auth "$DANTE_AUTH_PORT" danted -f "$D/danted.conf" -p "$D/danted.pid" -N 1

# ------------------------------------------------------------------ success paths
log_names() { # LOGFILE PATTERN DESC
  local i
  for i in $(seq 1 30); do grep -qF -- "$2" "$1" 2>/dev/null && { ok "$3"; return 0; }; sleep 0.1; done
  not_ok "$3"; diag_file "$1" 10
}
through() { # NAME PROXY_URL LOGFILE LOG_PATTERN_PREFIX
  local name=$1 proxy=$2 log=$3 prefix=$4 v port
  for v in tls12 tls13; do
    eval "port=\$ECHO_$v"
    run_prog "$name, origin $v" "$TMP/proxy_test" "wss://localhost:$port/" "$C/ca.pem" "$proxy"
    log_names "$log" "${prefix}$port" "$name: its log names the origin (${prefix}$port)"
  done
}
ENC_PW='p%40ss%20word'
through "squid CONNECT" "http://127.0.0.1:$SQUID_PORT" "$TMP/p/squid/access.log" "CONNECT localhost:"
through "squid CONNECT, Basic auth" "http://player:$ENC_PW@127.0.0.1:$SQUID_AUTH_PORT" "$TMP/p/squid-auth/access.log" "CONNECT localhost:"
through "squid HTTPS proxy" "https://localhost:$SQUID_HTTPS_PORT" "$TMP/p/squid-https/access.log" "CONNECT localhost:"
through "tinyproxy CONNECT" "http://127.0.0.1:$TINY_PORT" "$TMP/p/tinyproxy/tinyproxy.log" "CONNECT localhost:"
through "dante SOCKS5" "socks5://127.0.0.1:$DANTE_PORT" "$TMP/p/dante/danted.log" " 127.0.0.1."
through "dante SOCKS5, username/password" "socks5://$PROXY_USER:$PROXY_PASSWORD@127.0.0.1:$DANTE_AUTH_PORT" \
  "$TMP/p/dante-auth/danted.log" " 127.0.0.1."

# ------------------------------------------------------------------ failures
WSS="wss://localhost:$ECHO_tls13/"
run_prog "squid: wrong password -> 407 with its challenge" "$TMP/proxy_test" "$WSS" "$C/ca.pem" \
  "http://player:wrong-secret@127.0.0.1:$SQUID_AUTH_PORT" WS_PROXY_AUTH_REQUIRED 407 'Basic realm="wsmachine-test"'
run_prog "squid: no credentials -> 407" "$TMP/proxy_test" "$WSS" "$C/ca.pem" \
  "http://127.0.0.1:$SQUID_AUTH_PORT" WS_PROXY_AUTH_REQUIRED 407 'Basic'
run_prog "squid: computed Proxy-Authorization works (retry after 407)" \
  env WSM_PROXY_AUTHORIZATION="Basic $(printf 'player:p@ss word' | base64)" \
  "$TMP/proxy_test" "$WSS" "$C/ca.pem" "http://127.0.0.1:$SQUID_AUTH_PORT"
run_prog "squid: denied port -> 403" "$TMP/proxy_test" "wss://localhost:$DENIED_PORT/" "$C/ca.pem" \
  "http://127.0.0.1:$SQUID_PORT" WS_PROXY_REFUSED 403
run_prog "squid: closed origin port -> refusal (503)" "$TMP/proxy_test" "wss://127.0.0.1:$(free_port)/" "$C/ca.pem" \
  "http://127.0.0.1:$SQUID_PORT" WS_PROXY_REFUSED 503
run_prog "dante: wrong password" "$TMP/proxy_test" "$WSS" "$C/ca.pem" \
  "socks5://$PROXY_USER:wrong@127.0.0.1:$DANTE_AUTH_PORT" WS_PROXY_AUTH_REQUIRED
run_prog "dante: closed origin port -> SOCKS reply" "$TMP/proxy_test" "wss://127.0.0.1:$(free_port)/" "$C/ca.pem" \
  "socks5://127.0.0.1:$DANTE_PORT" WS_PROXY_REFUSED
run_prog "proxy unreachable: the caller's connect fails" "$TMP/proxy_test" "$WSS" "$C/ca.pem" \
  "http://127.0.0.1:$(free_port)" CONNECT_FAILS

for mode in midclose garbage endless trickle; do
  python3 tests/peers/fake_proxy.py --mode "$mode" >"$TMP/fake-$mode.port" 2>"$TMP/fake-$mode.log" &
  PIDS+=("$!")
done
for mode in midclose garbage endless trickle; do
  for i in $(seq 1 100); do read -r w p <"$TMP/fake-$mode.port" 2>/dev/null && [ "$w" = PORT ] && break; sleep 0.1; done
  eval "FAKE_$mode=\$p"
done
run_prog "fake proxy closes mid-answer" "$TMP/proxy_test" "$WSS" "$C/ca.pem" "http://127.0.0.1:$FAKE_midclose" WS_PROXY_CLOSED
run_prog "fake proxy answers garbage" "$TMP/proxy_test" "$WSS" "$C/ca.pem" "http://127.0.0.1:$FAKE_garbage" WS_PROXY_BAD_RESPONSE
run_prog "fake proxy answers an endless header" "$TMP/proxy_test" "$WSS" "$C/ca.pem" "http://127.0.0.1:$FAKE_endless" WS_PROXY_BAD_RESPONSE
for v in tls12 tls13; do
  eval "port=\$ECHO_$v"
  run_prog "fake proxy trickles its answer and the first TLS bytes 1 byte per write ($v)" \
    "$TMP/proxy_test" "wss://localhost:$port/" "$C/ca.pem" "http://127.0.0.1:$FAKE_trickle"
done

# ------------------------------------------------------------------ summary
for f in "$TMP"/echo-*.log "$TMP"/p/*/cache.log; do
  if grep -qE 'Traceback|FATAL' "$f" 2>/dev/null; then echo "# $f:"; diag_file "$f" 15; fi
done
echo "# took $(( $(date +%s) - T_START )) s"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
