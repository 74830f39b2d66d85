#!/usr/bin/env bash
# Builds and tests the C# bindings (the Unity package bindings/csharp) on Mono against
# real loopback servers.
#
#   bash scripts/test-csharp.sh                  # build, check, test; last line "N passed, N failed"
#   bash scripts/test-csharp.sh FILTER[,FILTER]  # only these NUnit tests: a namespace, fixture or
#                                                # test, e.g. WsMachine.Tests.ClientTests or
#                                                # WsMachine.Tests.ClientTests.HandshakeOverWssWithPrivateCa
#
# Steps: build target/release/libwsmachine.so (cargo; a no-op when fresh), check the
# package layout (tests/unity-stub/check_package.py: .meta files, GUIDs, asmdefs, plugin
# import settings, no symlinks, no C# file twice) and the sample project
# (tests/unity-stub/check_sample.py), compile bindings/csharp/Runtime/**/*.cs in place with mcs
# (C# 7.2, unsafe, XML docs required: a missing doc comment is an error), again for iOS,
# tvOS and visionOS (each must import "__Internal"), compile the sample
# (unity-sample/Assets/EchoSample.cs) against tests/unity-stub, compile the NUnit tests
# (bindings/csharp/Tests/Runtime and tests/unity-stub/EchoSampleTests.cs), make the test
# PKI, start four echo servers (wss, wss TLS 1.3 only, wss with an expired certificate,
# plain ws) and four Python ssl servers for the TLS object (echo, HTTP over TLS 1.3
# only, close_notify, EOF without it; port 0, "PORT n" read back), run nunit-console, and count the results from
# TestResult.xml. Build output: target/csharp/.
# After the native build, the script runs itself again inside a private user+network+
# mount namespace (unshare -rnm, scripts/netns-blackhole.sh) that holds a real black
# hole for the Happy Eyeballs test; every server and test then lives on that namespace's
# loopback. Without unshare permission that one test fails (set WSM_NETNS=0 to skip
# the namespace knowingly).
# Needs: cargo, mono-runtime, mono-mcs, nunit-console, python3 with websockets, openssl,
# node with tests/peers/node/node_modules (npm ci; the reconnect-with-resumption test),
# squid-openssl and the proxy test user (ProxyTests go through squid with Basic auth).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PKG="$ROOT/bindings/csharp"
SAMPLE="$ROOT/unity-sample"
STUB="$ROOT/tests/unity-stub"
OUT="$ROOT/target/csharp"
NUNIT_FW="/usr/lib/cli/nunit.framework-2.6.3/nunit.framework.dll"
MCS=(mcs -langversion:7.2 -nologo)
FILTER=""
case "${1:-}" in
  -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
  -*) echo "usage: $0 [FILTER]" >&2; exit 2 ;;
  *) FILTER="${1:-}" ;;
esac
[ $# -le 1 ] || { echo "usage: $0 [FILTER]" >&2; exit 2; }

fail() { echo "test-csharp.sh: $*" >&2; echo "0 passed, 1 failed"; exit 1; }
step() { echo "== $*"; }

for tool in cargo mcs mono nunit-console python3 openssl node; do
  command -v "$tool" >/dev/null || fail "$tool not found (bash .ci/install.sh installs it)"
done
[ -f "$NUNIT_FW" ] || NUNIT_FW="$(ls /usr/lib/cli/nunit.framework-2.6*/nunit.framework.dll 2>/dev/null | head -n1 || true)"
[ -f "$NUNIT_FW" ] || fail "nunit.framework.dll not found"
mkdir -p "$OUT"

START=$(date +%s)

step "native library"
(cd "$ROOT" && cargo build --release --quiet ${WSM_NETNS:+--offline}) || fail "cargo build --release failed"
[ -f "$ROOT/target/release/libwsmachine.so" ] || fail "target/release/libwsmachine.so missing"

# Real root needs no user namespace, and keeps real user ids inside: squid for the proxy
# tests drops to the test user, which a user namespace (-r maps only root) could not do.
NS_OPTS=-rnm
[ "$(id -u)" = 0 ] && NS_OPTS=-nm
if [ -z "${WSM_NETNS:-}" ]; then
  if unshare $NS_OPTS true 2>/dev/null; then
    step "into a private network namespace (scripts/netns-blackhole.sh, unshare $NS_OPTS)"
    exec env WSM_NETNS=1 unshare $NS_OPTS bash "$ROOT/scripts/netns-blackhole.sh" bash "$0" "$@"
  fi
  echo "test-csharp.sh: unshare $NS_OPTS is not permitted here; the Happy Eyeballs test will fail" >&2
fi

step "package layout (bindings/csharp) and sample project (unity-sample)"
python3 "$STUB/check_package.py" "$PKG" --repo --cargo-toml "$ROOT/Cargo.toml" --guids-also "$SAMPLE/Assets" \
  || fail "the package layout is wrong (see 'not ok' above)"
python3 "$STUB/check_sample.py" "$SAMPLE" || fail "the sample project is wrong (see 'not ok' above)"
links=$(find "$PKG" "$SAMPLE" -type l)
[ -z "$links" ] || fail "symbolic links (Windows checkouts and UPM git URLs do not follow them): $links"
# One home for each C# source: no file name twice among the repository's C# files.
dups=$(cd "$ROOT" && find . -name '*.cs' -not -path './target/*' -not -path './dist/*' -not -path '*/node_modules/*' \
  -printf '%f\n' | sort | uniq -d)
[ -z "$dups" ] || fail "C# files that exist twice: $dups"

step "compile bindings/csharp/Runtime (mcs, C# 7.2, docs required)"
"${MCS[@]}" -unsafe -target:library -warnaserror+ -doc:"$OUT/WsMachine.xml" \
  -out:"$OUT/WsMachine.dll" -recurse:"$PKG/Runtime/*.cs" || fail "bindings do not compile"
if grep -q '__Internal' "$OUT/WsMachine.dll"; then fail "desktop build imports from __Internal"; fi
# Statically linked Apple players (iOS, tvOS, visionOS) bind to "__Internal".
for define in UNITY_IOS UNITY_TVOS UNITY_VISIONOS; do
  "${MCS[@]}" -unsafe -target:library -warnaserror+ -nowarn:1591 -define:"$define" \
    -out:"$OUT/WsMachine.$define.dll" -recurse:"$PKG/Runtime/*.cs" || fail "bindings do not compile with $define"
  grep -q '__Internal' "$OUT/WsMachine.$define.dll" || fail "the $define build does not import from __Internal"
  "${MCS[@]}" -unsafe -target:library -nowarn:1591 -define:"$define" -define:UNITY_EDITOR \
    -out:"$OUT/WsMachine.$define.Editor.dll" -recurse:"$PKG/Runtime/*.cs" || fail "bindings do not compile with $define in the Editor"
  if grep -q '__Internal' "$OUT/WsMachine.$define.Editor.dll"; then fail "the Editor ($define selected) imports from __Internal"; fi
done

step "compile the Unity sample against tests/unity-stub"
"${MCS[@]}" -target:library -nowarn:1591 -out:"$OUT/UnityEngine.dll" "$STUB/UnityEngine.cs" \
  || fail "unity stub does not compile"
"${MCS[@]}" -target:library -warnaserror+ -r:"$OUT/UnityEngine.dll" -r:"$OUT/WsMachine.dll" \
  -out:"$OUT/EchoSample.dll" "$SAMPLE"/Assets/*.cs || fail "the Unity sample does not compile"

step "compile tests"
"${MCS[@]}" -unsafe -target:library -warnaserror+ -r:"$OUT/WsMachine.dll" -r:"$NUNIT_FW" -r:System.Core.dll \
  -out:"$OUT/WsMachine.Tests.dll" -recurse:"$PKG/Tests/Runtime/*.cs" || fail "tests do not compile"
"${MCS[@]}" -target:library -warnaserror+ -r:"$OUT/EchoSample.dll" -r:"$OUT/UnityEngine.dll" -r:"$OUT/WsMachine.dll" -r:"$NUNIT_FW" \
  -r:System.Core.dll -out:"$OUT/WsMachine.SampleTests.dll" "$STUB/EchoSampleTests.cs" || fail "sample tests do not compile"

step "test PKI and servers"
bash "$ROOT/tests/peers/make_certs.sh" "$OUT/certs" >/dev/null
PIDS=()
SQUID_GROUP=""
cleanup() {
  local p
  [ -n "$SQUID_GROUP" ] && { kill -TERM -- "-$SQUID_GROUP" 2>/dev/null || true; }
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
wait_port() {  # NAME -> prints the port the server wrote to $OUT/NAME.port (else its log, fails)
  local name="$1" i
  for i in $(seq 1 100); do
    if grep -q '^PORT ' "$OUT/$name.port" 2>/dev/null; then
      awk '/^PORT /{print $2; exit}' "$OUT/$name.port"; return 0
    fi
    sleep 0.1
  done
  cat "$OUT/$name.log" >&2
  return 1
}
start_server() {  # NAME ARGS... -> prints the port
  local name="$1"; shift
  python3 "$ROOT/tests/peers/echo_server.py" --port 0 "$@" >"$OUT/$name.port" 2>"$OUT/$name.log" &
  PIDS+=($!)
  wait_port "$name"
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
  wait_port "$name"
}
# Not in $(...): the server's PID must reach PIDS in this shell, for the cleanup.
start_tls tls_echo --mode echo --tls13-only >/dev/null || fail "TLS echo server did not start"
start_tls tls_http13 --mode http --tls13-only >/dev/null || fail "TLS 1.3 HTTP server did not start"
start_tls tls_notify --mode greet-notify >/dev/null || fail "TLS close_notify server did not start"
start_tls tls_eof --mode greet-eof >/dev/null || fail "TLS EOF server did not start"
export WSM_TLS_ECHO_PORT; WSM_TLS_ECHO_PORT=$(awk '/^PORT /{print $2}' "$OUT/tls_echo.port")
export WSM_TLS_HTTP13_PORT; WSM_TLS_HTTP13_PORT=$(awk '/^PORT /{print $2}' "$OUT/tls_http13.port")
export WSM_TLS_NOTIFY_PORT; WSM_TLS_NOTIFY_PORT=$(awk '/^PORT /{print $2}' "$OUT/tls_notify.port")
export WSM_TLS_EOF_PORT; WSM_TLS_EOF_PORT=$(awk '/^PORT /{print $2}' "$OUT/tls_eof.port")
export WSM_WSS_PORT; WSM_WSS_PORT=$(awk '/^PORT /{print $2}' "$OUT/wss.port")
export WSM_WSS13_PORT; WSM_WSS13_PORT=$(awk '/^PORT /{print $2}' "$OUT/wss13.port")
export WSM_WSS_EXPIRED_PORT; WSM_WSS_EXPIRED_PORT=$(awk '/^PORT /{print $2}' "$OUT/expired.port")
export WSM_WS_PORT; WSM_WS_PORT=$(awk '/^PORT /{print $2}' "$OUT/ws.port")
# TrustTests: an RSA chain, because Mono's X509Chain cannot decode EC keys ("unknown OID
# 1.2.840.10045.2.1"), which make_certs.sh uses.
R="$OUT/rsa"
if ! openssl x509 -noout -checkend 86400 -in "$R/server.pem" >/dev/null 2>&1; then
  mkdir -p "$R"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$R/ca.key" -out "$R/ca.pem" -days 3650 \
    -subj "/CN=wsmachine RSA test CA" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null || fail "RSA CA"
  openssl req -newkey rsa:2048 -nodes -keyout "$R/server.key" -out "$R/server.csr" -subj "/CN=localhost" 2>/dev/null \
    || fail "RSA server key"
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$R/ext.cnf"
  openssl x509 -req -in "$R/server.csr" -CA "$R/ca.pem" -CAkey "$R/ca.key" -CAcreateserial -days 3650 \
    -extfile "$R/ext.cnf" -out "$R/server.pem" 2>/dev/null || fail "RSA server certificate"
fi
: >"$OUT/wssrsa.port"
start_server wssrsa --tls-cert "$R/server.pem" --tls-key "$R/server.key" >/dev/null || fail "RSA wss server did not start"
export WSM_WSS_RSA_PORT; WSM_WSS_RSA_PORT=$(awk '/^PORT /{print $2}' "$OUT/wssrsa.port")
export WSM_RSA_CA_PEM="$R/ca.pem"
export WSM_CA_PEM="$C/ca.pem"
export WSM_HEADER="$ROOT/include/wsmachine.h"
export WSM_REQUIRE_SERVERS=1
# TrustTests add the test CA to Mono's CurrentUser store: keep that store throw-away.
export XDG_CONFIG_HOME="$OUT/xdg-config"
rm -rf "$XDG_CONFIG_HOME"; mkdir -p "$XDG_CONFIG_HOME"
# base64 SHA-256 of the server certificate's SubjectPublicKeyInfo, for the pinning tests
export WSM_SERVER_PIN; WSM_SERVER_PIN=$(openssl x509 -pubkey -noout -in "$C/server.pem" \
  | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64)
# squid with Basic auth for ProxyTests (tests/peers/squid.sh: runs as the test user
# wsmproxy from .ci/install.sh, in its own process group, stopped by cleanup).
export WSM_SQUID_AUTH_PORT; WSM_SQUID_AUTH_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
rm -rf "$OUT/squid"; mkdir -p "$OUT/squid"
setsid bash "$ROOT/tests/peers/squid.sh" "$OUT/squid" "$WSM_SQUID_AUTH_PORT" --auth player 'p@ss word' \
  >"$OUT/squid.log" 2>&1 &
SQUID_GROUP=$!; PIDS+=($!)
export WSM_SQUID_AUTH_LOG="$OUT/squid/access.log"
for i in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$WSM_SQUID_AUTH_PORT") 2>/dev/null && break; sleep 0.1; done
(exec 3<>"/dev/tcp/127.0.0.1/$WSM_SQUID_AUTH_PORT") 2>/dev/null || { cat "$OUT/squid.log" >&2; fail "squid did not start"; }
echo "wss:$WSM_WSS_PORT wss13:$WSM_WSS13_PORT expired:$WSM_WSS_EXPIRED_PORT ws:$WSM_WS_PORT squid(auth):$WSM_SQUID_AUTH_PORT tls:$WSM_TLS_ECHO_PORT,$WSM_TLS_HTTP13_PORT,$WSM_TLS_NOTIFY_PORT,$WSM_TLS_EOF_PORT"

step "nunit-console"
rm -f "$OUT/TestResult.xml"
set +e
(cd "$OUT" && LD_LIBRARY_PATH="$ROOT/target/release${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
  timeout 900 nunit-console -nologo -noshadow -labels -timeout=120000 ${FILTER:+-run="$FILTER"} \
  WsMachine.Tests.dll WsMachine.SampleTests.dll -xml="$OUT/TestResult.xml") 2>&1 | tee "$OUT/nunit.log" | grep -v '^\*\*\*\*\* ' 
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
