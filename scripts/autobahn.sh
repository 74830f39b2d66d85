#!/usr/bin/env bash
# Runs the Autobahn|Testsuite fuzzing server against wsmachine through its C ABI
# (tests/autobahn/autobahn_client.c) and regenerates docs/CONFORMANCE.md.
#
#   scripts/autobahn.sh ws|wss              # 301 cases, without 12.*/13.* (~20 s)
#   scripts/autobahn.sh ws|wss --deflate    # all 517 cases: the driver offers
#                                           # permessage-deflate (ws_config_set_deflate)
#
# Steps: install the suite if missing (<shared>/autobahn/install.sh, needs root or
# sudo), cargo build --release, build the C driver, start the fuzzing server in
# MODE with --no-deflate (12.* and 13.* test permessage-deflate, which the driver
# does not enable) and its own outdir, run the driver (agent "wsmachine", timed),
# stop the server, summarize, update this mode's section of docs/CONFORMANCE.md.
# The last line is the summarizer's "N passed, N failed"; the exit code is
# summarize.py's (non-zero on any FAILED), or 1 when the driver itself failed.
#
# Env: WSMACHINE_AUTOBAHN_OUTDIR (default /tmp/wsmachine-autobahn-<mode>),
#      AUTOBAHN_PORT (default 9001 / 9443; a free port is picked when it is busy),
#      AUTOBAHN_PREFIX (default /opt/autobahn-py2), WSMACHINE_SHARED (the shared dir),
#      WSMACHINE_AUTOBAHN_TIMEOUT (seconds for the whole driver run, default 1800),
#      WSMACHINE_AUTOBAHN_WINDOW=1 (the driver receives through ws_prepare_input
#      instead of offering its own buffer with ws_offer_input).
set -uo pipefail

MODE="${1:-}"
case "$MODE" in
  ws|wss) ;;
  *) echo "usage: $0 ws|wss [--deflate]" >&2; exit 2 ;;
esac
DEFLATE=0
case "${2:-}" in
  "") ;;
  --deflate) DEFLATE=1 ;;
  *) echo "usage: $0 ws|wss [--deflate]" >&2; exit 2 ;;
esac
SERVER_OPTS=(--no-deflate)
[ "$DEFLATE" = 1 ] && SERVER_OPTS=()
export WSMACHINE_AUTOBAHN_DEFLATE=$DEFLATE

die() { echo "autobahn.sh: ERROR: $*" >&2; exit 1; }

HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(git -C "$HERE" rev-parse --show-toplevel 2>/dev/null || (cd "$HERE/.." && pwd))"
SHARED="${WSMACHINE_SHARED:-$(dirname "$REPO")/shared}"
[ -d "$SHARED/autobahn" ] || SHARED=/work/shared
AB="$SHARED/autobahn"
[ -x "$AB/fuzzingserver.sh" ] || die "no Autobahn scripts in $AB"
PREFIX="${AUTOBAHN_PREFIX:-/opt/autobahn-py2}"
OUTDIR="${WSMACHINE_AUTOBAHN_OUTDIR:-/tmp/wsmachine-autobahn-$MODE}"
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
    "$AB/install.sh" || die "install.sh failed"
  else
    sudo "$AB/install.sh" || die "install.sh failed"
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
BIN=target/autobahn/autobahn_client
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

"$AB/fuzzingserver.sh" stop "$MODE" --outdir "$OUTDIR" >/dev/null 2>&1 || true  # a leftover of ours
rm -rf "$OUTDIR/reports" "$OUTDIR/client.log" "$OUTDIR/summary.txt" "$OUTDIR/wall_time.txt" "$OUTDIR/commit.txt"
echo "== starting the fuzzing server ($MODE, ${SERVER_OPTS[*]:-all cases}, outdir $OUTDIR)"
"$AB/fuzzingserver.sh" start "$MODE" ${SERVER_OPTS[@]+"${SERVER_OPTS[@]}"} --outdir "$OUTDIR" --port "$PORT" \
  --prefix "$PREFIX" || die "the fuzzing server did not start"
stop_server() { "$AB/fuzzingserver.sh" stop "$MODE" --outdir "$OUTDIR" || true; }
trap stop_server EXIT
# shellcheck disable=SC1091
. "$OUTDIR/server.env"

# ---------------------------------------------------------------- 4. driver
echo "$COMMIT" > "$OUTDIR/commit.txt"
if [ "${WSMACHINE_AUTOBAHN_WINDOW:-0}" = 1 ]; then
  echo "ws_prepare_input/ws_commit_input" > "$OUTDIR/input.txt"
else
  echo "ws_offer_input" > "$OUTDIR/input.txt"
fi
echo "== running the driver: $BIN $AUTOBAHN_URL $AGENT ${AUTOBAHN_CA:-}"
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

# ---------------------------------------------------------------- 5. summary + docs
python3 "$AB/summarize.py" "$AUTOBAHN_INDEX" --agent "$AGENT" > "$OUTDIR/summary.txt" 2>&1
SUM_RC=$?
if [ "$SUM_RC" != 2 ]; then
  python3 scripts/conformance_report.py --mode "$MODE" --outdir "$OUTDIR" --wall-time "$WALL" \
    --doc docs/CONFORMANCE.md || echo "autobahn.sh: WARNING: docs/CONFORMANCE.md not updated" >&2
fi
cat "$OUTDIR/summary.txt"
if [ "$SUM_RC" != 0 ]; then exit "$SUM_RC"; fi
if [ "$DRIVER_RC" != 0 ]; then exit 1; fi
exit 0
