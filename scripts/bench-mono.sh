#!/usr/bin/env bash
# C# on Mono over real loopback sockets: wsmachine's WsSocketConnection against Mono's
# ClientWebSocket, both talking wss to the same echo server. Results: docs/BENCH-MONO.md.
#
#   bash scripts/bench-mono.sh [--reps N] [--seconds S] [--warmup S] [--no-experiments]
#
# Steps: cargo build --release (library and examples/bench_echo_server.rs), compile the
# bindings (bindings/csharp/Runtime) and benches/mono/MonoBench.cs with mcs,
# make the test PKI (tests/peers/make_certs.sh), trust its CA in a PRIVATE Mono store (HOME
# points at a temporary directory: the machine's and the user's stores are not touched),
# start the echo server, run the matrix interleaved --reps times (default 3), and print a
# table of medians, wsmachine/ClientWebSocket ratios and the echo server's CPU share.
#
# Matrix: round trips/s with 16 B and 1 KiB binary messages (one in flight), MB/s of echoed
# payload with 64 KiB messages (4 in flight; MB = 10^6 bytes, counted one way), for
#   cws    ClientWebSocket, TLS 1.2 (Mono 6.8's SslStream has no TLS 1.3)
#   wsm    WsSocketConnection, TLS 1.2 (same server port, same cipher suite)
#   wsm13  WsSocketConnection, TLS 1.3
#   wsm-spin   wsm, TLS 1.2, round trips only, pumped in a busy loop like a game's main loop
#              that never sleeps (about the one core ClientWebSocket's threads use);
#              --no-experiments skips it
#   floor      benches/c/loopback_floor.c: a C client and echo server, plain TCP, the same
#              four syscalls per round trip as the sleeping driver (no TLS, WebSocket or
#              runtime): the kernel's share, which no driver on this machine goes below;
#              benches/mono/SocketFloor.cs: the same calls from Mono against that echo
#              server, through System.Net.Sockets (Mono's socket layer added) and through
#              P/Invoke to libc (what bypassing it would leave)
# Raw RESULT lines go to target/bench-mono/results.txt.
# Needs: cargo, mono-runtime, mono-mcs, openssl, python3, cc.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CS="$ROOT/bindings/csharp"
OUT="$ROOT/target/bench-mono"
REPS=3
SECONDS_RUN=3
WARMUP=1
EXPERIMENTS=1
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) REPS="$2"; shift 2 ;;
    --seconds) SECONDS_RUN="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --no-experiments) EXPERIMENTS=0; shift ;;
    *) echo "usage: $0 [--reps N] [--seconds S] [--warmup S] [--no-experiments]" >&2; exit 2 ;;
  esac
done

fail() { echo "bench-mono.sh: $*" >&2; exit 1; }
step() { echo "== $*" >&2; }
for tool in cargo mcs mono openssl python3 cc; do
  command -v "$tool" >/dev/null || fail "$tool not found (apt-get install mono-runtime mono-mcs openssl python3 gcc)"
done
mkdir -p "$OUT"

step "native library and echo server (cargo build --release)"
(cd "$ROOT" && cargo build --release --quiet && cargo build --release --quiet --example bench_echo_server) \
  || fail "cargo build failed"
SERVER_BIN="$ROOT/target/release/examples/bench_echo_server"

step "compile bindings and MonoBench (mcs -langversion:7.2 -unsafe)"
MCS=(mcs -langversion:7.2 -nologo -unsafe -optimize+)
"${MCS[@]}" -target:library -nowarn:1591 -out:"$OUT/WsMachine.dll" -recurse:"$CS/Runtime/*.cs"
"${MCS[@]}" -r:"$OUT/WsMachine.dll" -out:"$OUT/MonoBench.exe" "$ROOT/benches/mono/MonoBench.cs"
cc -O2 -o "$OUT/loopback_floor" "$ROOT/benches/c/loopback_floor.c" || fail "cc benches/c/loopback_floor.c failed"
"${MCS[@]}" -out:"$OUT/SocketFloor.exe" "$ROOT/benches/mono/SocketFloor.cs"

step "test PKI and a private Mono trust store"
bash "$ROOT/tests/peers/make_certs.sh" "$OUT/certs" >/dev/null
TMP="$(mktemp -d "${TMPDIR:-/tmp}/bench-mono.XXXXXX")"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT
# Mono 6.8 uses its BoringSSL provider (btls); ClientWebSocket ignores
# ServicePointManager.ServerCertificateValidationCallback over wss, so the CA must be in
# Mono's store. btls reads the user store ~/.config/.mono/new-certs/Trust as an OpenSSL
# hashed directory (<subject hash>.0, PEM), which is what `cert-sync --user` writes.
# HOME (and so ~/.config) points at $TMP for every mono process below: nothing outside
# $TMP is written, and it is deleted on exit.
export HOME="$TMP/home"
unset XDG_CONFIG_HOME
TRUST="$HOME/.config/.mono/new-certs/Trust"
mkdir -p "$TRUST"
openssl x509 -in "$OUT/certs/ca.pem" -out "$TRUST/$(openssl x509 -noout -subject_hash -in "$OUT/certs/ca.pem").0"

step "echo server"
: >"$OUT/server.ports"
"$SERVER_BIN" "$OUT/certs/server.pem" "$OUT/certs/server.key" >"$OUT/server.ports" 2>"$OUT/server.log" &
SERVER_PID=$!
for _ in $(seq 1 100); do grep -q '^PORT13 ' "$OUT/server.ports" && break; sleep 0.05; done
P12=$(awk '/^PORT12 /{print $2}' "$OUT/server.ports")
P13=$(awk '/^PORT13 /{print $2}' "$OUT/server.ports")
if [ -z "$P12" ] || [ -z "$P13" ]; then fail "echo server did not start: $(cat "$OUT/server.log")"; fi

export LD_LIBRARY_PATH="$ROOT/target/release${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
RESULTS="$OUT/results.txt"
: >"$RESULTS"
: >"$OUT/floor.txt"
COMMON=(--ca "$OUT/certs/ca.pem" --seconds "$SECONDS_RUN" --warmup "$WARMUP" --server-pid "$SERVER_PID")

# run LABEL DIR ARGS...: one measurement, its RESULT line appended with the label.
run() {
  local label="$1" dir="$2"; shift 2
  local line
  line=$(cd "$dir" && timeout 120 mono MonoBench.exe "${COMMON[@]}" "$@" 2>"$OUT/last.err" | grep '^RESULT ') \
    || fail "$label $* failed: $(tail -5 "$OUT/last.err")"
  echo "$line label=$label rep=$REP" | tee -a "$RESULTS" >&2
}

# ClientWebSocket connects to "localhost": Mono's btls rejects 127.0.0.1 for this
# certificate (IP SAN) even with the CA trusted. wsmachine uses 127.0.0.1 (no DNS).
CWS12="wss://localhost:$P12/"
WSM12="wss://127.0.0.1:$P12/"
WSM13="wss://127.0.0.1:$P13/"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
START=$(date +%s)
for REP in $(seq 1 "$REPS"); do
  step "round $REP of $REPS"
  for w in "rt 16" "rt 1024" "tput 65536"; do
    # shellcheck disable=SC2086  # "MODE SIZE" split on purpose
    set -- $w
    run cws "$OUT" --impl cws --url "$CWS12" --mode "$1" --size "$2"
    run wsm "$OUT" --impl wsm --url "$WSM12" --mode "$1" --size "$2"
    run wsm13 "$OUT" --impl wsm --url "$WSM13" --tls13 --mode "$1" --size "$2"
    if [ "$EXPERIMENTS" = 1 ] && [ "$1" = rt ]; then
      run wsm-spin "$OUT" --impl wsm --url "$WSM12" --spin --mode "$1" --size "$2"
    fi
  done
  line=$("$OUT/loopback_floor" 51 "$SECONDS_RUN" | grep '^RESULT ') || fail "loopback_floor failed"
  echo "$line rep=$REP" | tee -a "$OUT/floor.txt" >&2
  (cd "$OUT" && mono SocketFloor.exe "$OUT/loopback_floor" "$SECONDS_RUN" 1) | grep '^RESULT ' \
    | sed "s/\$/ rep=$REP/" | tee -a "$OUT/floor.txt" >&2 || fail "SocketFloor.exe failed"
done
REP=0
step "driver overheads (idle connection)"
(cd "$OUT" && mono MonoBench.exe --impl wsm --url "$WSM12" --ca "$OUT/certs/ca.pem" --mode overhead) \
  | grep '^OVERHEAD' >"$OUT/overhead.txt" || true
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
ELAPSED=$(( $(date +%s) - START ))
grep -E 'TLSv1_[23]' "$OUT/server.log" | awk '{print $3, $4}' | sort | uniq -c >"$OUT/suites.txt" || true

python3 - "$RESULTS" "$OUT/overhead.txt" "$OUT/suites.txt" "$OUT/floor.txt" <<PY
import sys, statistics as st
rows = []
for line in open(sys.argv[1]):
    d = dict(kv.split("=", 1) for kv in line.split()[1:])
    rows.append(d)
def med(label, mode, size, key):
    v = [float(r[key]) for r in rows if r["label"] == label and r["mode"] == mode and r["size"] == size]
    v = [x for x in v if x == x]  # drop NaN
    return (st.median(v), min(v), max(v), len(v)) if v else None
cases = [("rt", "16", "rate", "round trips/s, 16 B"), ("rt", "1024", "rate", "round trips/s, 1 KiB"),
         ("tput", "65536", "mbps", "MB/s, 64 KiB (4 in flight)")]
labels = ["cws", "wsm", "wsm13", "wsm-spin"]
names = {"cws": "ClientWebSocket TLS 1.2", "wsm": "wsmachine TLS 1.2", "wsm13": "wsmachine TLS 1.3",
         "wsm-spin": "wsmachine TLS 1.2, busy loop (no sleep)"}
print()
print("machine: %s, %d cores; load average before %s, after $LOAD_AFTER; %d s" % (
    "$(uname -srm)", $(nproc), "$LOAD_BEFORE", $ELAPSED))
print("mono: $(mono --version | head -1 | sed 's/ (.*//')")
print("runs: $REPS interleaved rounds x ${SECONDS_RUN} s (after ${WARMUP} s warm-up); median [min-max]")
print()
# The headline (issue 18): client CPU per message, and the latency from bytes arriving (the
# wake-up that found them) to the message being available, for the round-trip cases.
print("| round trips | client | client CPU per round trip (us) | bytes arrived -> message available (us, median) |")
print("| --- | --- | ---: | ---: |")
for mode, size, key, title in cases:
    if mode != "rt":
        continue
    for lab in labels:
        per = [float(r["client_cpu"]) / float(r[key]) * 1e6 for r in rows
               if r["label"] == lab and r["mode"] == mode and r["size"] == size and float(r[key]) > 0]
        if not per:
            continue
        av = med(lab, mode, size, "avail_us") if all("avail_us" in r for r in rows) else None
        print("| %s B | %s | %.1f | %s |" % (size, names[lab], st.median(per),
              "%.1f" % av[0] if av else "-"))
    if size == "16":
        floors = [dict(kv.split("=", 1) for kv in l.split()[1:]) for l in open(sys.argv[4])]
        for impl, title in [("mono-managed", "Mono sockets alone: plain TCP, same calls (SocketFloor.cs)"),
                            ("mono-libc", "the same through P/Invoke to libc (SocketFloor.cs)"),
                            ("c-loopback", "kernel floor: C client, plain TCP, same syscalls (loopback_floor.c)")]:
            v = [float(f["client_cpu_us_per_rt"]) for f in floors if f["impl"] == impl]
            if v:
                print("| 16 B | %s | %.1f | - |" % (title, st.median(v)))
print()
print("| metric | client | median | min-max | vs ClientWebSocket (TLS 1.2) | client CPU (cores) | CPU per op | server CPU (cores) | machine busy (cores) |")
print("| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
for mode, size, key, title in cases:
    base = med("cws", mode, size, key)
    basecpu = None
    for lab in labels:
        m = med(lab, mode, size, key)
        if not m:
            continue
        cpu = med(lab, mode, size, "client_cpu")
        srv = med(lab, mode, size, "server_cpu")
        busy = med(lab, mode, size, "machine_busy")
        # client CPU per operation: per round trip (us) or per MB (ms)
        per = [float(r["client_cpu"]) / float(r[key]) for r in rows
               if r["label"] == lab and r["mode"] == mode and r["size"] == size and float(r[key]) > 0]
        per = st.median(per) if per else float("nan")
        if lab == "cws":
            basecpu = per
        ratio = "1.00x" if lab == "cws" else ("%.2fx" % (m[0] / base[0]) if base else "-")
        cpuratio = "" if lab == "cws" or not basecpu else " (%.1fx less)" % (basecpu / per)
        unit = ("%.1f us/rt" % (per * 1e6)) if mode == "rt" else ("%.2f ms/MB" % (per * 1e3))
        fmt = "%.0f" if mode == "rt" else "%.1f"
        print("| %s | %s | %s | %s-%s | %s | %.2f | %s%s | %.2f (max %.2f) | %.2f |" % (
            title, names[lab], fmt % m[0], fmt % m[1], fmt % m[2], ratio, cpu[0], unit, cpuratio,
            srv[0], srv[2], busy[0]))
print()
# Each round runs every client back to back, so a ratio within a round sees similar load.
print("ratios to ClientWebSocket within each round (median):")
for mode, size, key, title in cases:
    for lab in labels[1:]:
        rs = []
        for rep in sorted(set(r["rep"] for r in rows)):
            b = [float(r[key]) for r in rows if r["label"] == "cws" and r["mode"] == mode and r["size"] == size and r["rep"] == rep]
            w = [float(r[key]) for r in rows if r["label"] == lab and r["mode"] == mode and r["size"] == size and r["rep"] == rep]
            if b and w and b[0] > 0:
                rs.append(w[0] / b[0])
        if rs:
            print("  %-26s %-10s %s  median %.2fx" % (title, lab, " ".join("%.1f" % x for x in rs), st.median(rs)))
print()
runq = [(r["label"], float(r["client_runq"]), float(r["client_cpu"])) for r in rows]
for lab in labels:
    v = [(q, c) for l, q, c in runq if l == lab and q == q]
    if v:
        print("%-10s client time runnable but waiting for a CPU: median %.2f cores (on CPU: %.2f)" % (
            lab, st.median(q for q, _ in v), st.median(c for _, c in v)))
print()
for line in open(sys.argv[2]):
    print(line.strip())
print()
print("echo server connections by TLS version and suite:")
for line in open(sys.argv[3]):
    print("  " + line.strip())
PY
