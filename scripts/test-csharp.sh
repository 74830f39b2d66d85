#!/usr/bin/env bash
# Builds and tests the C# bindings (bindings/csharp) on Mono against real loopback servers.
#
#   bash scripts/test-csharp.sh          # build, check, test; last line "N passed, N failed"
#   bash scripts/test-csharp.sh --sync   # first copy bindings/csharp/src into unity-sample/Runtime
#
# Steps: build target/release/libwsmachine.so (cargo; a no-op when fresh), compile the
# bindings with mcs (C# 7.2, unsafe, XML docs required: a missing doc comment is an
# error), check that unity-sample/Runtime holds identical copies of the sources and that
# every package file has a .meta, compile the Unity sample against tests/unity-stub,
# compile the NUnit tests, make the test PKI, start four echo servers (wss, wss TLS
# 1.3 only, wss with an expired certificate, plain ws) and four Python ssl servers for
# the TLS object (echo, HTTP over TLS 1.3 only, close_notify, EOF without it; port 0,
# "PORT n" read back),
# run nunit-console, and count the results from TestResult.xml.
# Needs: cargo, mono-runtime, mono-mcs, nunit-console, python3 with websockets, openssl.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CS="$ROOT/bindings/csharp"
OUT="$CS/build"
PKG="$ROOT/unity-sample"
NUNIT_FW="/usr/lib/cli/nunit.framework-2.6.3/nunit.framework.dll"
MCS=(mcs -langversion:7.2 -nologo)
SYNC=0
for a in "$@"; do
  case "$a" in
    --sync) SYNC=1 ;;
    *) echo "usage: $0 [--sync]" >&2; exit 2 ;;
  esac
done

fail() { echo "test-csharp.sh: $*" >&2; echo "0 passed, 1 failed"; exit 1; }
step() { echo "== $*"; }

for tool in cargo mcs mono nunit-console python3 openssl; do
  command -v "$tool" >/dev/null || fail "$tool not found (apt-get install mono-runtime mono-mcs nunit-console)"
done
[ -f "$NUNIT_FW" ] || NUNIT_FW="$(pkg-config --variable=Libraries nunit 2>/dev/null | tr ' ' '\n' | grep framework || true)"
[ -f "$NUNIT_FW" ] || fail "nunit.framework.dll not found"
mkdir -p "$OUT"

START=$(date +%s)

step "native library"
(cd "$ROOT" && cargo build --release --quiet) || fail "cargo build --release failed"
[ -f "$ROOT/target/release/libwsmachine.so" ] || fail "target/release/libwsmachine.so missing"

step "unity-sample/Runtime copies"
meta_cs() {  # a MonoImporter .meta with a GUID derived from the path (stable across runs)
  local rel="$1" guid
  guid=$(printf 'wsmachine-unity:./%s' "$rel" | md5sum | cut -c1-32)
  printf 'fileFormatVersion: 2\nguid: %s\nMonoImporter:\n  externalObjects: {}\n  serializedVersion: 2\n  defaultReferences: []\n  executionOrder: 0\n  icon: {instanceID: 0}\n  userData: \n  assetBundleName: \n  assetBundleVariant: \n' "$guid"
}
if [ "$SYNC" = 1 ]; then
  rm -f "$PKG"/Runtime/*.cs
  cp "$CS"/src/*.cs "$PKG/Runtime/"
  for f in "$PKG"/Runtime/*.cs; do
    [ -f "$f.meta" ] || meta_cs "Runtime/$(basename "$f")" > "$f.meta"
  done
  for m in "$PKG"/Runtime/*.cs.meta; do [ -f "${m%.meta}" ] || rm -f "$m"; done
fi
diff -r -q -x '*.meta' -x '*.asmdef' "$CS/src" "$PKG/Runtime" \
  || fail "unity-sample/Runtime differs from bindings/csharp/src (the source of truth): run $0 --sync"
# Unity ignores files without a .meta in an immutable (git) package: every file and
# folder of the package, except Samples~ (never imported), needs one; GUIDs must be unique.
missing=$(cd "$PKG" && find . -mindepth 1 -not -path './Samples~*' -not -name '*.meta' | while read -r p; do
  [ -f "$p.meta" ] || echo "$p"; done)
[ -z "$missing" ] || fail "missing .meta for: $missing"
dups=$(cd "$PKG" && find . -name '*.meta' -exec grep -h '^guid:' {} + | sort | uniq -d)
[ -z "$dups" ] || fail "duplicate GUIDs in unity-sample: $dups"
# Every plugin .meta points at a binary that the Plugins README explains how to build.
for m in $(cd "$PKG" && find Plugins -name '*.meta' -exec grep -l PluginImporter {} +); do
  b="${m%.meta}"
  grep -q "$b" "$PKG/Plugins/README.md" || fail "Plugins/README.md does not mention $b"
done

step "compile bindings (mcs, C# 7.2, docs required)"
"${MCS[@]}" -unsafe -target:library -warnaserror+ -doc:"$OUT/WsMachine.xml" \
  -out:"$OUT/WsMachine.dll" "$CS"/src/*.cs || fail "bindings do not compile"
# The iOS variant (static linking through "__Internal") must compile too.
"${MCS[@]}" -unsafe -target:library -warnaserror+ -nowarn:1591 -define:UNITY_IOS \
  -out:"$OUT/WsMachine.iOS.dll" "$CS"/src/*.cs || fail "bindings do not compile with UNITY_IOS"
grep -q '__Internal' "$OUT/WsMachine.iOS.dll" || fail "UNITY_IOS build does not import from __Internal"
if grep -q '__Internal' "$OUT/WsMachine.dll"; then fail "desktop build imports from __Internal"; fi

step "compile Unity sample against tests/unity-stub"
"${MCS[@]}" -target:library -nowarn:1591 -out:"$OUT/UnityEngine.dll" "$ROOT/tests/unity-stub/UnityEngine.cs" \
  || fail "unity stub does not compile"
"${MCS[@]}" -target:library -warnaserror+ -r:"$OUT/UnityEngine.dll" -r:"$OUT/WsMachine.dll" \
  -out:"$OUT/EchoSample.dll" "$PKG/Samples~/EchoSample/EchoSample.cs" || fail "the Unity sample does not compile"

step "compile tests"
"${MCS[@]}" -unsafe -target:library -warnaserror+ -r:"$OUT/WsMachine.dll" -r:"$NUNIT_FW" -r:System.Core.dll \
  -out:"$OUT/WsMachine.Tests.dll" "$CS"/tests/*.cs || fail "tests do not compile"

step "test PKI and servers"
bash "$ROOT/tests/peers/make_certs.sh" "$OUT/certs" >/dev/null
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
start_server() {  # NAME ARGS... -> prints the port
  local name="$1"; shift
  python3 "$ROOT/tests/peers/echo_server.py" --port 0 "$@" >"$OUT/$name.port" 2>"$OUT/$name.log" &
  PIDS+=($!)
  local i
  for i in $(seq 1 100); do
    if grep -q '^PORT ' "$OUT/$name.port" 2>/dev/null; then
      awk '/^PORT /{print $2; exit}' "$OUT/$name.port"; return 0
    fi
    sleep 0.1
  done
  cat "$OUT/$name.log" >&2
  return 1
}
C="$OUT/certs"
: >"$OUT/wss.port" >"$OUT/wss13.port" >"$OUT/expired.port" >"$OUT/ws.port"
start_server wss --tls-cert "$C/server.pem" --tls-key "$C/server.key" >/dev/null || fail "wss server did not start"
start_server wss13 --tls-cert "$C/server.pem" --tls-key "$C/server.key" --tls13-only >/dev/null || fail "TLS 1.3 server did not start"
start_server expired --tls-cert "$C/expired.pem" --tls-key "$C/expired.key" >/dev/null || fail "expired server did not start"
start_server ws >/dev/null || fail "ws server did not start"
start_tls() {  # NAME ARGS... -> a tests/peers/tls_echo_server.py; prints the port
  local name="$1"; shift
  : >"$OUT/$name.port"
  python3 "$ROOT/tests/peers/tls_echo_server.py" --port 0 --cert "$C/server.pem" --key "$C/server.key" "$@" \
    >"$OUT/$name.port" 2>"$OUT/$name.log" &
  PIDS+=($!)
  local i
  for i in $(seq 1 100); do
    if grep -q '^PORT ' "$OUT/$name.port" 2>/dev/null; then
      awk '/^PORT /{print $2; exit}' "$OUT/$name.port"; return 0
    fi
    sleep 0.1
  done
  cat "$OUT/$name.log" >&2
  return 1
}
export WSM_TLS_ECHO_PORT; WSM_TLS_ECHO_PORT=$(start_tls tls_echo --mode echo --tls13-only) || fail "TLS echo server did not start"
export WSM_TLS_HTTP13_PORT; WSM_TLS_HTTP13_PORT=$(start_tls tls_http13 --mode http --tls13-only) || fail "TLS 1.3 HTTP server did not start"
export WSM_TLS_NOTIFY_PORT; WSM_TLS_NOTIFY_PORT=$(start_tls tls_notify --mode greet-notify) || fail "TLS close_notify server did not start"
export WSM_TLS_EOF_PORT; WSM_TLS_EOF_PORT=$(start_tls tls_eof --mode greet-eof) || fail "TLS EOF server did not start"
export WSM_WSS_PORT; WSM_WSS_PORT=$(awk '/^PORT /{print $2}' "$OUT/wss.port")
export WSM_WSS13_PORT; WSM_WSS13_PORT=$(awk '/^PORT /{print $2}' "$OUT/wss13.port")
export WSM_WSS_EXPIRED_PORT; WSM_WSS_EXPIRED_PORT=$(awk '/^PORT /{print $2}' "$OUT/expired.port")
export WSM_WS_PORT; WSM_WS_PORT=$(awk '/^PORT /{print $2}' "$OUT/ws.port")
export WSM_CA_PEM="$C/ca.pem"
export WSM_HEADER="$ROOT/include/wsmachine.h"
export WSM_REQUIRE_SERVERS=1
# base64 SHA-256 of the server certificate's SubjectPublicKeyInfo, for the pinning tests
export WSM_SERVER_PIN; WSM_SERVER_PIN=$(openssl x509 -pubkey -noout -in "$C/server.pem" \
  | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64)
echo "wss:$WSM_WSS_PORT wss13:$WSM_WSS13_PORT expired:$WSM_WSS_EXPIRED_PORT ws:$WSM_WS_PORT tls:$WSM_TLS_ECHO_PORT,$WSM_TLS_HTTP13_PORT,$WSM_TLS_NOTIFY_PORT,$WSM_TLS_EOF_PORT"

step "nunit-console"
rm -f "$OUT/TestResult.xml"
set +e
(cd "$OUT" && LD_LIBRARY_PATH="$ROOT/target/release${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
  timeout 900 nunit-console -nologo -noshadow -labels -timeout=120000 \
  WsMachine.Tests.dll -xml="$OUT/TestResult.xml") 2>&1 | tee "$OUT/nunit.log" | grep -v '^\*\*\*\*\* ' 
NUNIT_RC=${PIPESTATUS[0]}
set -e

cleanup
trap - EXIT
echo "run time: $(( $(date +%s) - START )) s (nunit-console exit $NUNIT_RC)"
[ -s "$OUT/TestResult.xml" ] || fail "no TestResult.xml (nunit-console exit $NUNIT_RC)"
# Passed = executed and successful; everything else (failures, errors, tests not run)
# counts as failed, so a silently skipped test cannot pass the run.
read -r PASSED FAILED < <(python3 - "$OUT/TestResult.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
cases = ET.parse(sys.argv[1]).getroot().iter("test-case")
passed = failed = 0
for c in cases:
    if c.get("executed") == "True" and c.get("success") == "True":
        passed += 1
    else:
        failed += 1
print(passed, failed)
PY
)
[ "$NUNIT_RC" = 0 ] || [ "$FAILED" != 0 ] || FAILED=1
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ] && [ "$PASSED" -gt 0 ]
