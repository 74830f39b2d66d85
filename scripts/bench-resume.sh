#!/usr/bin/env bash
# Resume-to-usable time of the C# driver on Mono (benches/mono/ResumeBench.cs):
# after a pause with the server alive (liveness probe), and after a server restart
# (reconnect with TLS session resumption vs a full handshake), over loopback wss to
# Node's `ws` with fixed ticket keys (tests/peers/node/restart_server.js).
# A benchmark, not a test: it asserts nothing about time. Results: docs/BENCH-MONO.md.
#
#   bash scripts/bench-resume.sh [REPS]     # default 30
#
# Needs: cargo, mono-runtime, mono-mcs, openssl, node + tests/peers/node/node_modules.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CS="$ROOT/bindings/csharp"
OUT="$ROOT/target/bench-resume"
REPS="${1:-30}"
mkdir -p "$OUT"
[ -d "$ROOT/tests/peers/node/node_modules/ws" ] || (cd "$ROOT/tests/peers/node" && npm ci --no-audit --no-fund --loglevel=error)
(cd "$ROOT" && cargo build --release --quiet)
MCS=(mcs -langversion:7.2 -nologo -unsafe -optimize+)
"${MCS[@]}" -target:library -nowarn:1591 -out:"$OUT/WsMachine.dll" -recurse:"$CS/Runtime/*.cs"
"${MCS[@]}" -r:"$OUT/WsMachine.dll" -out:"$OUT/ResumeBench.exe" "$ROOT/benches/mono/ResumeBench.cs"
bash "$ROOT/tests/peers/make_certs.sh" "$OUT/certs" >/dev/null
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
(cd "$OUT" && LD_LIBRARY_PATH="$ROOT/target/release${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
  timeout 600 mono ResumeBench.exe "$ROOT/tests/peers/node/restart_server.js" "$OUT/certs" "$REPS")
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
