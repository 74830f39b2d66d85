#!/usr/bin/env bash
# Start / stop the Autobahn|Testsuite fuzzing SERVER (wstest -m fuzzingserver),
# which WebSocket CLIENTS are tested against. Listens on 127.0.0.1 only.
#
# Usage:
#   fuzzingserver.sh start  [ws|wss] [options]   # background; returns when the port accepts connections
#   fuzzingserver.sh stop   [ws|wss] [--outdir DIR]
#   fuzzingserver.sh status [ws|wss] [--outdir DIR]
#   fuzzingserver.sh run    [ws|wss] [options]   # foreground (Ctrl-C to stop)
#
# Options (env var in brackets):
#   --mode ws|wss        ws = ws://127.0.0.1:9001, wss = wss://127.0.0.1:9443   [AUTOBAHN_MODE] (default ws)
#   --port N             override the port                                      [AUTOBAHN_PORT]
#   --outdir DIR         work dir: spec, log, pid, TLS files                    [AUTOBAHN_OUTDIR] (default /tmp/autobahn-<mode>)
#   --reports DIR        report dir (index.json, index.html, per-case files)    [AUTOBAHN_REPORTS] (default <outdir>/reports/clients)
#   --cases LIST         comma-separated case patterns to run                   [AUTOBAHN_CASES] (default "*")
#   --exclude LIST       comma-separated case patterns to skip                  [AUTOBAHN_EXCLUDE] (default none)
#   --no-deflate         also exclude 12.* and 13.* (permessage-deflate cases)
#   --no-perf            also exclude 9.* (limits/performance cases, messages up to 16 MiB)
#   --webport N          also run wstest's web UI on 127.0.0.1:N, outdir at /cwd/ [AUTOBAHN_WEBPORT] (default 0 = off)
#   --new-cert           wss: regenerate the self-signed CA + server certificate
#   --prefix DIR         where install.sh put wstest                            [AUTOBAHN_PREFIX] (default /opt/autobahn-py2)
#   --timeout S          seconds to wait for the port (default 60)
#
# After `start` it prints, and writes to <outdir>/server.env (shell-sourceable):
#   AUTOBAHN_URL, AUTOBAHN_PID, AUTOBAHN_REPORTS, AUTOBAHN_INDEX, AUTOBAHN_LOG and, for wss,
#   AUTOBAHN_CA (CA certificate a client must trust), AUTOBAHN_CERT, AUTOBAHN_KEY.
set -euo pipefail

CMD=start
case "${1:-}" in start|stop|status|run) CMD="$1"; shift ;; esac
MODE="${AUTOBAHN_MODE:-ws}"
case "${1:-}" in ws|wss) MODE="$1"; shift ;; esac
PORT="${AUTOBAHN_PORT:-}"
OUTDIR="${AUTOBAHN_OUTDIR:-}"
REPORTS="${AUTOBAHN_REPORTS:-}"
CASES="${AUTOBAHN_CASES:-*}"
EXCLUDE="${AUTOBAHN_EXCLUDE:-}"
WEBPORT="${AUTOBAHN_WEBPORT:-0}"
PREFIX="${AUTOBAHN_PREFIX:-/opt/autobahn-py2}"
NEWCERT=0
TIMEOUT=60
BIND=127.0.0.1

usage() { sed -n '2,29p' "$0"; }
die() { printf 'fuzzingserver.sh: ERROR: %s\n' "$*" >&2; exit 1; }
add_excl() { EXCLUDE="${EXCLUDE:+$EXCLUDE,}$1"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --mode) MODE="$2"; shift 2 ;;
    --port) PORT="$2"; shift 2 ;;
    --outdir) OUTDIR="$2"; shift 2 ;;
    --reports) REPORTS="$2"; shift 2 ;;
    --cases) CASES="$2"; shift 2 ;;
    --exclude) add_excl "$2"; shift 2 ;;
    --no-deflate) add_excl "12.*,13.*"; shift ;;
    --no-perf) add_excl "9.*"; shift ;;
    --webport) WEBPORT="$2"; shift 2 ;;
    --new-cert) NEWCERT=1; shift ;;
    --prefix|--wstest) PREFIX="$2"; shift 2 ;;
    --timeout) TIMEOUT="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done

case "$MODE" in
  ws)  SCHEME=ws;  : "${PORT:=9001}" ;;
  wss) SCHEME=wss; : "${PORT:=9443}" ;;
  *) die "mode must be ws or wss, got '$MODE'" ;;
esac
: "${OUTDIR:=/tmp/autobahn-$MODE}"
mkdir -p "$OUTDIR"
OUTDIR="$(cd "$OUTDIR" && pwd)"
: "${REPORTS:=$OUTDIR/reports/clients}"
case "$REPORTS" in /*) ;; *) REPORTS="$PWD/$REPORTS" ;; esac
PIDFILE="$OUTDIR/fuzzingserver.pid"
LOGFILE="$OUTDIR/fuzzingserver.log"
SPEC="$OUTDIR/fuzzingserver.json"
LAUNCHER="$OUTDIR/wstest_loopback.py"
ENVFILE="$OUTDIR/server.env"
URL="$SCHEME://$BIND:$PORT"

port_open() { (exec 3<>"/dev/tcp/$BIND/$1") 2>/dev/null; }
running_pid() {
  local pid
  [ -f "$PIDFILE" ] || return 1
  pid="$(cat "$PIDFILE" 2>/dev/null)"
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF "$LAUNCHER" || return 1
  echo "$pid"
}

if [ "$CMD" = stop ]; then
  if pid="$(running_pid)"; then
    kill -TERM "$pid"
    for _ in $(seq 1 50); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
    [ -d "/proc/$pid" ] && kill -KILL "$pid" 2>/dev/null || true
    echo "fuzzingserver ($MODE) stopped (pid $pid)"
  else
    echo "fuzzingserver ($MODE) not running (no live pid in $PIDFILE)"
  fi
  rm -f "$PIDFILE"
  exit 0
fi
if [ "$CMD" = status ]; then
  if pid="$(running_pid)"; then echo "running pid $pid $URL"; exit 0; fi
  echo "not running"; exit 1
fi

[ -x "$PREFIX/bin/python" ] && [ -x "$PREFIX/bin/wstest" ] || die "no wstest in $PREFIX - run scripts/autobahn/install.sh first"
if pid="$(running_pid)"; then die "already running (pid $pid) for $OUTDIR; run: $0 stop $MODE --outdir $OUTDIR"; fi
port_open "$PORT" && die "port $BIND:$PORT is already in use"
[ "$WEBPORT" != 0 ] && port_open "$WEBPORT" && die "web port $BIND:$WEBPORT is already in use"
mkdir -p "$REPORTS"

# ---------------------------------------------------------------- TLS material
TLSDIR="$OUTDIR/tls"
CA="$TLSDIR/ca.pem"; CERT="$TLSDIR/server.pem"; KEY="$TLSDIR/server.key"
if [ "$MODE" = wss ]; then
  command -v openssl >/dev/null || die "openssl not found (apt-get install openssl)"
  if [ "$NEWCERT" = 1 ] || ! [ -s "$CA" ] || ! [ -s "$CERT" ] || ! [ -s "$KEY" ] \
     || ! openssl x509 -checkend 86400 -noout -in "$CERT" >/dev/null 2>&1; then
    mkdir -p "$TLSDIR"; chmod 700 "$TLSDIR"
    # A tiny private CA + a leaf signed by it: strict verifiers (rustls/webpki,
    # Python 3.13's VERIFY_X509_STRICT) reject a CA:TRUE cert as end-entity,
    # so the server cert is a proper leaf with SANs for 127.0.0.1 and localhost.
    openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
      -keyout "$TLSDIR/ca.key" -out "$CA" -subj "/CN=Autobahn fuzzingserver test CA" \
      -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign" \
      -addext "subjectKeyIdentifier=hash" >/dev/null 2>&1
    openssl req -newkey rsa:2048 -nodes -sha256 -keyout "$KEY" -out "$TLSDIR/server.csr" \
      -subj "/CN=localhost" >/dev/null 2>&1
    printf '%s\n' "basicConstraints=critical,CA:FALSE" \
      "keyUsage=critical,digitalSignature,keyEncipherment" \
      "extendedKeyUsage=serverAuth" \
      "subjectAltName=IP:127.0.0.1,DNS:localhost" \
      "subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid" > "$TLSDIR/server.ext"
    openssl x509 -req -in "$TLSDIR/server.csr" -CA "$CA" -CAkey "$TLSDIR/ca.key" -CAcreateserial \
      -days 825 -sha256 -extfile "$TLSDIR/server.ext" -out "$CERT" >/dev/null 2>&1
    cat "$CERT" "$CA" > "$TLSDIR/server-chain.pem"
    rm -f "$TLSDIR/server.csr" "$TLSDIR/ca.srl"
    openssl verify -CAfile "$CA" "$CERT" >/dev/null || die "generated certificate does not verify"
    echo "generated TLS CA $CA and server cert $CERT (SAN IP:127.0.0.1, DNS:localhost)"
  fi
fi

# ---------------------------------------------------------------- spec
json_list() {  # "a,b , c" -> ["a", "b", "c"]
  local out="" x arr=()
  IFS=, read -r -a arr <<< "$1"    # no globbing: patterns like "*" stay literal
  for x in ${arr[@]+"${arr[@]}"}; do
    x="${x//[[:space:]]/}"
    if [ -n "$x" ]; then out="${out:+$out, }\"$x\""; fi
  done
  printf '[%s]' "$out"
}
{
  printf '{\n'
  printf '   "url": "%s",\n' "$URL"
  printf '   "outdir": "%s",\n' "$REPORTS"
  printf '   "options": {"failByDrop": false},\n'
  if [ "$MODE" = wss ]; then
    printf '   "key": "%s",\n   "cert": "%s",\n' "$KEY" "$CERT"
  fi
  printf '   "cases": %s,\n' "$(json_list "$CASES")"
  printf '   "exclude-cases": %s,\n' "$(json_list "$EXCLUDE")"
  printf '   "exclude-agent-cases": {}\n'
  printf '}\n'
} > "$SPEC"

# wstest binds every listener to all interfaces; this launcher makes the
# reactor bind to $WSTEST_BIND (127.0.0.1) instead, without patching the package.
cat > "$LAUNCHER" <<'PYEOF'
# -*- coding: utf-8 -*-
# Runs `wstest` with every Twisted listener bound to $WSTEST_BIND (default 127.0.0.1).
import os, sys
from autobahntestsuite import wstest          # installs the epoll reactor
from twisted.internet import reactor

BIND = os.environ.get("WSTEST_BIND", "127.0.0.1")
_listenTCP, _listenSSL = reactor.listenTCP, reactor.listenSSL

def listenTCP(port, factory, backlog=50, interface=''):
    return _listenTCP(port, factory, backlog, interface or BIND)

def listenSSL(port, factory, contextFactory, backlog=50, interface=''):
    return _listenSSL(port, factory, contextFactory, backlog, interface or BIND)

reactor.listenTCP, reactor.listenSSL = listenTCP, listenSSL

pidfile = os.environ.get("WSTEST_PIDFILE")
if pidfile:
    with open(pidfile, "w") as f:
        f.write("%d\n" % os.getpid())
sys.argv[0] = "wstest"
wstest.run()
PYEOF

ARGS=("$PREFIX/bin/python" -u "$LAUNCHER" -m fuzzingserver -s "$SPEC" -u "$WEBPORT")
export WSTEST_BIND="$BIND" WSTEST_PIDFILE="$PIDFILE" PYTHONWARNINGS=ignore

write_env() {
  {
    echo "export AUTOBAHN_MODE=$MODE"
    echo "export AUTOBAHN_URL=$URL"
    echo "export AUTOBAHN_PID=$1"
    echo "export AUTOBAHN_OUTDIR=$OUTDIR"
    echo "export AUTOBAHN_REPORTS=$REPORTS"
    echo "export AUTOBAHN_INDEX=$REPORTS/index.json"
    echo "export AUTOBAHN_LOG=$LOGFILE"
    if [ "$MODE" = wss ]; then
      echo "export AUTOBAHN_CA=$CA"; echo "export AUTOBAHN_CERT=$CERT"; echo "export AUTOBAHN_KEY=$KEY"
    fi
  } > "$ENVFILE"
}

cd "$OUTDIR"   # the embedded web server (if any) also exposes the cwd under /cwd
if [ "$CMD" = run ]; then
  write_env $$
  echo "fuzzingserver ($MODE) on $URL (foreground), reports -> $REPORTS"
  if [ "$MODE" = wss ]; then echo "trust CA: $CA"; fi
  exec "${ARGS[@]}"
fi

rm -f "$PIDFILE"
setsid "${ARGS[@]}" > "$LOGFILE" 2>&1 < /dev/null &
BGPID=$!
deadline=$(( $(date +%s) + TIMEOUT ))
until port_open "$PORT"; do
  if ! kill -0 "$BGPID" 2>/dev/null; then
    tail -n 30 "$LOGFILE" >&2; die "wstest exited before listening (log: $LOGFILE)"
  fi
  [ "$(date +%s)" -lt "$deadline" ] || { kill -TERM "$BGPID" 2>/dev/null; tail -n 30 "$LOGFILE" >&2; die "port $PORT not open after ${TIMEOUT}s"; }
  sleep 0.2
done
PID="$(cat "$PIDFILE" 2>/dev/null || echo "$BGPID")"
write_env "$PID"
NCASES="$(sed -n 's/^Ok, will run \([0-9]*\) test cases.*/\1/p' "$LOGFILE" | head -n1)"
echo "fuzzingserver ($MODE) running: pid $PID, $URL, ${NCASES:-?} cases"
echo "  pid file : $PIDFILE"
echo "  log      : $LOGFILE"
echo "  reports  : $REPORTS (index.json after /updateReports)"
if [ "$WEBPORT" != 0 ]; then echo "  web      : http$( [ "$MODE" = wss ] && echo s )://127.0.0.1:$WEBPORT/  (reports under /cwd/)"; fi
if [ "$MODE" = wss ]; then
  echo "  trust CA : $CA"
  echo "  cert/key : $CERT  $KEY"
fi
echo "  env file : $ENVFILE"
echo "  stop     : $0 stop $MODE --outdir $OUTDIR"
