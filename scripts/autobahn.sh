#!/usr/bin/env bash
# Runs the Autobahn|Testsuite fuzzing server against wsmachine through its C ABI
# (tests/autobahn/autobahn_client.c) and regenerates docs/CONFORMANCE.md.
#
#   scripts/autobahn.sh ws|wss              # 301 cases, without 12.*/13.* (~20 s)
#   scripts/autobahn.sh ws|wss --deflate    # all 517 cases: the driver offers
#                                           # permessage-deflate (ws_config_set_deflate)
#   scripts/autobahn.sh ws --cases 1.1.1,5.*   # only these cases (a quick check; the
#                                           # report is not written to docs/CONFORMANCE.md)
#
# Steps: install the suite if missing (scripts/autobahn/install.sh, needs root or
# sudo), cargo build --release, build the C driver (one per mode, so ws and wss can run
# side by side), start the fuzzing server (scripts/autobahn/fuzzingserver.sh) in MODE
# with --no-deflate (12.* and 13.* test permessage-deflate, which the driver then does
# not enable) and its own outdir, run the driver (agent "wsmachine", timed), stop the
# server, summarize (scripts/autobahn/summarize.py), update this mode's section of
# docs/CONFORMANCE.md (under a lock: the other mode may be writing its section).
# The last line is the summarizer's "N passed, N failed"; the exit code is
# summarize.py's (non-zero on any FAILED), or 1 when the driver itself failed.
#
# Env: WSMACHINE_AUTOBAHN_OUTDIR (default /tmp/wsmachine-autobahn-<mode>),
#      AUTOBAHN_PORT (default 9001 / 9443; a free port is picked when it is busy),
#      AUTOBAHN_PREFIX (default /opt/autobahn-py2),
#      WSMACHINE_AUTOBAHN_TIMEOUT (seconds for the whole driver run, default 1800),
#      WSMACHINE_AUTOBAHN_WINDOW=1 (the driver receives through ws_prepare_input
#      instead of offering its own buffer with ws_offer_input),
#      WSMACHINE_AUTOBAHN_PROXY=squid (start squid from Debian as the test user on a free
#      port with tests/peers/squid.sh, root only, and run every case through it with HTTP
#      CONNECT; afterwards squid's access log must show a CONNECT to the fuzzing server
#      for every case) or =URL (any proxy URL, used as is). Through a proxy the outdir
#      defaults to /tmp/wsmachine-autobahn-<mode>-proxy and docs/CONFORMANCE.md is not
#      updated (its sections are for direct connections).
set -uo pipefail

usage() { echo "usage: $0 ws|wss [--deflate] [--cases LIST]" >&2; exit 2; }
MODE="${1:-}"
case "$MODE" in
  ws|wss) shift ;;
  *) usage ;;
esac
DEFLATE=0
CASES=""
while [ $# -gt 0 ]; do
  case "$1" in
    --deflate) DEFLATE=1; shift ;;
    --cases) [ $# -ge 2 ] || usage; CASES="$2"; shift 2 ;;
    *) usage ;;
  esac
done
SERVER_OPTS=(--no-deflate)
[ "$DEFLATE" = 1 ] && SERVER_OPTS=()
[ -n "$CASES" ] && SERVER_OPTS+=(--cases "$CASES")
export WSMACHINE_AUTOBAHN_DEFLATE=$DEFLATE

die() { echo "autobahn.sh: ERROR: $*" >&2; exit 1; }

HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
AB="$REPO/scripts/autobahn"
[ -f "$AB/fuzzingserver.sh" ] || die "no Autobahn scripts in $AB"
PREFIX="${AUTOBAHN_PREFIX:-/opt/autobahn-py2}"
PROXY="${WSMACHINE_AUTOBAHN_PROXY:-}"
if [ -n "$PROXY" ]; then
  OUTDIR="${WSMACHINE_AUTOBAHN_OUTDIR:-/tmp/wsmachine-autobahn-$MODE-proxy}"
else
  OUTDIR="${WSMACHINE_AUTOBAHN_OUTDIR:-/tmp/wsmachine-autobahn-$MODE}"
fi
AGENT=wsmachine
DRIVER_TIMEOUT="${WSMACHINE_AUTOBAHN_TIMEOUT:-1800}"
cd "$REPO" || die "cannot cd to $REPO"
# Leftovers of a sourced server.env would redirect fuzzingserver.sh (reports, cases, CA).
unset AUTOBAHN_MODE AUTOBAHN_URL AUTOBAHN_PID AUTOBAHN_OUTDIR AUTOBAHN_REPORTS AUTOBAHN_INDEX \
  AUTOBAHN_LOG AUTOBAHN_CA AUTOBAHN_CERT AUTOBAHN_KEY AUTOBAHN_CASES AUTOBAHN_EXCLUDE AUTOBAHN_WEBPORT

# ---------------------------------------------------------------- 1. the suite
if ! [ -x "$PREFIX/bin/wstest" ]; then
  echo "== installing Autobahn|Testsuite into $PREFIX"
  if [ "$(id -u)" = 0 ]; then
    bash "$AB/install.sh" || die "install.sh failed"
  else
    sudo bash "$AB/install.sh" || die "install.sh failed"
  fi
fi

# ---------------------------------------------------------------- 2. build
echo "== building"
# What is tested, for the report: the commit, and whether the build has local changes.
COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [ -n "$(git status --porcelain -- src Cargo.toml Cargo.lock 2>/dev/null)" ]; then
  COMMIT="$COMMIT + uncommitted changes"
fi
cargo build --release || die "cargo build --release failed"
mkdir -p target/autobahn
BIN=target/autobahn/autobahn_client-$MODE
gcc -O2 -Wall -Wextra -Werror -Iinclude -o "$BIN" tests/autobahn/autobahn_client.c \
  target/release/libwsmachine.a -lpthread -ldl -lm || die "building the C driver failed"

# ---------------------------------------------------------------- 3. server
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PORT="${AUTOBAHN_PORT:-}"
if [ -z "$PORT" ]; then
  if [ "$MODE" = ws ]; then PORT=9001; else PORT=9443; fi
  if port_busy "$PORT"; then
    PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    echo "default port busy (another run?), using $PORT"
  fi
fi

bash "$AB/fuzzingserver.sh" stop "$MODE" --outdir "$OUTDIR" >/dev/null 2>&1 || true  # a leftover of ours
rm -rf "$OUTDIR/reports" "$OUTDIR/client.log" "$OUTDIR/summary.txt" "$OUTDIR/wall_time.txt" "$OUTDIR/commit.txt"
echo "== starting the fuzzing server ($MODE, ${SERVER_OPTS[*]:-all cases}, outdir $OUTDIR)"
bash "$AB/fuzzingserver.sh" start "$MODE" ${SERVER_OPTS[@]+"${SERVER_OPTS[@]}"} --outdir "$OUTDIR" --port "$PORT" \
  --prefix "$PREFIX" || die "the fuzzing server did not start"
stop_server() { bash "$AB/fuzzingserver.sh" stop "$MODE" --outdir "$OUTDIR" || true; }
trap stop_server EXIT
# shellcheck disable=SC1091
. "$OUTDIR/server.env"

# ---------------------------------------------------------------- 3b. proxy
SQUID_GROUP=""
stop_squid() { [ -n "$SQUID_GROUP" ] && kill -TERM -- "-$SQUID_GROUP" 2>/dev/null; SQUID_GROUP=""; }
if [ "$PROXY" = squid ]; then
  SQUID_PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  rm -rf "$OUTDIR/squid"; mkdir -p "$OUTDIR/squid"
  setsid bash tests/peers/squid.sh "$OUTDIR/squid" "$SQUID_PORT" >"$OUTDIR/squid.log" 2>&1 &
  SQUID_GROUP=$!
  trap 'stop_squid; stop_server' EXIT
  for i in $(seq 1 100); do port_busy "$SQUID_PORT" && break; sleep 0.1; done
  port_busy "$SQUID_PORT" || { cat "$OUTDIR/squid.log" >&2; die "squid did not start"; }
  PROXY="http://127.0.0.1:$SQUID_PORT"
  echo "== squid on 127.0.0.1:$SQUID_PORT (log $OUTDIR/squid/access.log)"
fi
export WSMACHINE_AUTOBAHN_PROXY="$PROXY"

# ---------------------------------------------------------------- 4. driver
echo "$COMMIT" > "$OUTDIR/commit.txt"
if [ "${WSMACHINE_AUTOBAHN_WINDOW:-0}" = 1 ]; then
  echo "ws_prepare_input/ws_commit_input" > "$OUTDIR/input.txt"
else
  echo "ws_offer_input" > "$OUTDIR/input.txt"
fi
echo "== running the driver: $BIN $AUTOBAHN_URL $AGENT ${AUTOBAHN_CA:-}${PROXY:+ (through $PROXY)}"
T0=$(date +%s.%N)
timeout "$DRIVER_TIMEOUT" "$BIN" "$AUTOBAHN_URL" "$AGENT" ${AUTOBAHN_CA:+"$AUTOBAHN_CA"} \
  > "$OUTDIR/client.log" 2>&1
DRIVER_RC=$?
T1=$(date +%s.%N)
WALL="$(python3 -c "print('%.1f' % ($T1 - $T0))")"
echo "$WALL" > "$OUTDIR/wall_time.txt"
echo "driver rc=$DRIVER_RC, wall time ${WALL} s, log $OUTDIR/client.log"
if [ "$DRIVER_RC" != 0 ]; then tail -n 5 "$OUTDIR/client.log"; fi
grep -E ': (TIMEOUT|NOCONN)' "$OUTDIR/client.log" || true

trap - EXIT
stop_server
PROXY_RC=0
if [ -n "$SQUID_GROUP" ]; then
  stop_squid
  # Every case went through squid: one CONNECT to the fuzzing server per connection.
  CASES=$(grep -cE '^case [0-9]+:' "$OUTDIR/client.log" || true)
  CONNECTS=$(grep -c "CONNECT [^ ]*:$PORT " "$OUTDIR/squid/access.log" 2>/dev/null || true)
  echo "squid logged $CONNECTS CONNECTs to the fuzzing server's port $PORT ($CASES case lines in client.log)"
  if [ "${CONNECTS:-0}" -lt "${CASES:-1}" ] || [ "${CONNECTS:-0}" = 0 ]; then
    echo "autobahn.sh: ERROR: fewer CONNECTs in squid's log than cases" >&2; PROXY_RC=1
  fi
fi

# ---------------------------------------------------------------- 5. summary + docs
python3 "$AB/summarize.py" "$AUTOBAHN_INDEX" --agent "$AGENT" > "$OUTDIR/summary.txt" 2>&1
SUM_RC=$?
if [ -n "$CASES" ]; then
  echo "autobahn.sh: --cases $CASES: docs/CONFORMANCE.md left as it is (a subset)"
elif [ -n "$PROXY" ]; then
  echo "autobahn.sh: through a proxy: docs/CONFORMANCE.md left as it is (its sections are for direct connections)"
elif [ "$SUM_RC" != 2 ]; then
  # ws and wss may finish together: one rewrite of the document at a time.
  flock target/autobahn/conformance.lock \
    python3 scripts/conformance_report.py --mode "$MODE" --outdir "$OUTDIR" --wall-time "$WALL" \
    --doc docs/CONFORMANCE.md || echo "autobahn.sh: WARNING: docs/CONFORMANCE.md not updated" >&2
fi
cat "$OUTDIR/summary.txt"
if [ "$SUM_RC" != 0 ]; then exit "$SUM_RC"; fi
if [ "$DRIVER_RC" != 0 ]; then exit 1; fi
exit "$PROXY_RC"
