#!/usr/bin/env bash
# Tests the WebGL plugin (bindings/csharp/Plugins/WebGL/wsmachine.jslib) in a real browser,
# and that the WebGL C# path compiles. A few minutes at most.
#
#   bash scripts/test-webgl.sh        # last line "N passed, N failed"
#
# Steps:
#  1. the jslib's functions as the C tests declare them == the C# [DllImport("__Internal")]
#     declarations == the jslib's definitions (tests/webgl/check_signatures.py)
#  2. emcc (Debian's emscripten) builds tests/webgl/jslib_test.c with --js-library
#     wsmachine.jslib and ALLOW_MEMORY_GROWTH into target/webgl/
#  3. tests/webgl/server.py: ws:// and wss:// loopback peers (Python websockets)
#  4. tests/webgl/run.mjs: headless /usr/bin/chromium (playwright-core, a fresh profile, the
#     test certificate trusted by its key hash only) runs the page; screenshot saved to
#     target/webgl/screenshot.png
#  5. mcs compiles the C# bindings and the Unity sample with -define:UNITY_WEBGL against
#     tests/unity-stub, checks that the WebGL build has the public API of the native one,
#     and runs the WebGL option checks on Mono (they throw before any browser call)
#  6. the C# WebGL driver (WsSocketConnection, WsReconnector) on Mono against the real
#     jslib in Chromium: tests/webgl/bridge.c (LD_PRELOAD) forwards each ws_js_* call to
#     the page through tests/webgl/bridge.mjs (tests/webgl/WebGLDriverTests.cs)
# Needs (.ci/install.sh): emscripten, chromium, node + tests/webgl/node_modules, python3
# with websockets, openssl, mono-mcs, nunit-console.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/target/webgl"
T="$ROOT/tests/webgl"
CS="$ROOT/bindings/csharp"
JSLIB="$CS/Plugins/WebGL/wsmachine.jslib"
mkdir -p "$OUT"
PASSED=0; FAILED=0
ok() { echo "ok: $*"; PASSED=$((PASSED + 1)); }
bad() { echo "FAILED: $*"; FAILED=$((FAILED + 1)); }
finish() { echo "$PASSED passed, $FAILED failed"; [ "$FAILED" = 0 ] && [ "$PASSED" -gt 0 ]; exit $?; }
for tool in emcc node python3 openssl mcs mono nunit-console; do
  command -v "$tool" >/dev/null || { bad "$tool not found (bash .ci/install.sh)"; finish; }
done
[ -x /usr/bin/chromium ] || { bad "/usr/bin/chromium not found (bash .ci/install.sh)"; finish; }
[ -d "$T/node_modules/playwright-core" ] || { bad "tests/webgl/node_modules missing (bash .ci/install.sh)"; finish; }

echo "== signatures: jslib_test.c vs the C# DllImports vs the jslib"
if python3 "$T/check_signatures.py" "$T/jslib_test.c" "$CS"/Runtime/WebGL/*.cs "$JSLIB" --subset "$T/autobahn_test.c"; then
  ok "signatures"; else bad "signatures"; fi

echo "== emcc"
# Debian's emcc uses its prebuilt, frozen cache under /usr/share/emscripten (no downloads).
if emcc -O1 -Wall -Wextra -Werror -sALLOW_MEMORY_GROWTH=1 -sINITIAL_MEMORY=16MB -sMAXIMUM_MEMORY=1GB \
     -sASSERTIONS=1 -sENVIRONMENT=web -sEXPORTED_FUNCTIONS=_main,_malloc,_free --js-library "$JSLIB" "$T/jslib_test.c" -o "$OUT/jslib_test.js" \
     >"$OUT/emcc.log" 2>&1; then
  cp "$T/index.html" "$OUT/index.html"
  ok "emcc --js-library wsmachine.jslib"
else
  cat "$OUT/emcc.log"; bad "emcc"; finish
fi

echo "== servers"
bash "$ROOT/tests/peers/make_certs.sh" "$OUT/certs" >/dev/null
SPKI=$(openssl x509 -pubkey -noout -in "$OUT/certs/server.pem" | openssl pkey -pubin -outform der \
  | openssl dgst -sha256 -binary | base64)
: >"$OUT/server.out"
python3 "$T/server.py" --tls-cert "$OUT/certs/server.pem" --tls-key "$OUT/certs/server.key" \
  >"$OUT/server.out" 2>"$OUT/server.log" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do grep -q '^MUTE ' "$OUT/server.out" && break; sleep 0.1; done
WS=$(awk '/^WS /{print $2}' "$OUT/server.out")
WSS=$(awk '/^WSS /{print $2}' "$OUT/server.out")
REFUSED=$(awk '/^REFUSED /{print $2}' "$OUT/server.out")
SILENT=$(awk '/^SILENT /{print $2}' "$OUT/server.out")
MUTE=$(awk '/^MUTE /{print $2}' "$OUT/server.out")
[ -n "$MUTE" ] || { cat "$OUT/server.log"; bad "server did not start"; finish; }
echo "ws:$WS wss:$WSS refused:$REFUSED silent:$SILENT mute:$MUTE spki:$SPKI"

echo "== headless Chromium"
if (cd "$T" && timeout 240 node run.mjs "$OUT" "js=jslib_test.js&arg=$WS&arg=$WSS&arg=$REFUSED" "$SPKI" \
       "$OUT/screenshot.png") \
     | tee "$OUT/browser.log"; then
  ok "jslib in Chromium: $(grep -c '^PASS' "$OUT/browser.log") cases"
else
  bad "jslib in Chromium: $(grep -c '^FAIL' "$OUT/browser.log" || true) failed"
fi

echo "== C# with -define:UNITY_WEBGL"
if bash "$T/csharp.sh" "$OUT/cs"; then ok "C# WebGL build, API parity, option checks"; else bad "C# WebGL"; finish; fi

echo "== the C# WebGL driver on Mono against the jslib in Chromium"
if gcc -shared -fPIC -O2 -Wall -Wextra -Werror -o "$OUT/libwsjsbridge.so" "$T/bridge.c" \
   && mcs -langversion:7.2 -nologo -target:exe -warnaserror+ -r:"$OUT/cs/WsMachine.WebGL.dll" -r:System.Core.dll \
        -out:"$OUT/cs/WsMachine.DriverTests.exe" "$T/WebGLDriverTests.cs" \
   && (cd "$T" && timeout 240 node bridge.mjs "$OUT" "$OUT/libwsjsbridge.so" -- \
        mono "$OUT/cs/WsMachine.DriverTests.exe" "$WS" "$SILENT" "$REFUSED" "$MUTE"); then
  ok "C# WebGL driver through the jslib"
else
  bad "C# WebGL driver through the jslib"
fi

finish
