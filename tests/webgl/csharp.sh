#!/usr/bin/env bash
# The WebGL path of the C# bindings on Mono (scripts/test-webgl.sh runs this):
#
#   bash tests/webgl/csharp.sh OUTDIR
#
# Compiles the bindings twice with mcs (C# 7.2): as for desktop, and with
# -define:UNITY_WEBGL (what Unity defines in a WebGL player build; XML docs required),
# compiles the Unity sample project's scripts (unity-sample/Assets) against each with the UnityEngine stub, checks that the WebGL
# build imports the jslib through "__Internal" and nothing from "wsmachine", and runs
# WebGLChecks.cs (API parity, options the browser cannot honour) on Mono.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="$1"
mkdir -p "$OUT"
CS="$ROOT/bindings/csharp"
SRC=(-recurse:"$CS/Runtime/*.cs")
SAMPLE=("$ROOT"/unity-sample/Assets/*.cs)
MCS=(mcs -langversion:7.2 -nologo)

"${MCS[@]}" -unsafe -target:library -warnaserror+ -out:"$OUT/WsMachine.dll" "${SRC[@]}"
# 1574: crefs to WsClient in shared enum docs do not resolve where WsClient compiles out.
"${MCS[@]}" -unsafe -target:library -warnaserror+ -nowarn:1574 -define:UNITY_WEBGL -doc:"$OUT/WsMachine.WebGL.xml" \
  -out:"$OUT/WsMachine.WebGL.dll" "${SRC[@]}"
# The Editor defines UNITY_WEBGL too when WebGL is the target, and must keep the native path.
"${MCS[@]}" -unsafe -target:library -warnaserror+ -define:UNITY_WEBGL -define:UNITY_EDITOR \
  -out:"$OUT/WsMachine.Editor.dll" "${SRC[@]}"
"${MCS[@]}" -target:library -nowarn:1591 -out:"$OUT/UnityEngine.dll" "$ROOT/tests/unity-stub/UnityEngine.cs"
"${MCS[@]}" -target:library -warnaserror+ -r:"$OUT/UnityEngine.dll" -r:"$OUT/WsMachine.WebGL.dll" -define:UNITY_WEBGL \
  -out:"$OUT/EchoSample.WebGL.dll" "${SAMPLE[@]}"
"${MCS[@]}" -target:library -warnaserror+ -r:"$OUT/UnityEngine.dll" -r:"$OUT/WsMachine.dll" \
  -out:"$OUT/EchoSample.dll" "${SAMPLE[@]}"
echo "compiled: desktop, WebGL (-define:UNITY_WEBGL), Editor with WebGL target, the sample for both"

monodis --method "$OUT/WsMachine.WebGL.dll" > "$OUT/webgl.methods" 2>/dev/null || true
if grep -q 'pinvokeimpl ("wsmachine"' "$OUT/webgl.methods" 2>/dev/null; then
  echo "the WebGL build imports from the native library"; exit 1
fi
grep -q 'ws_js_open' "$OUT/WsMachine.WebGL.dll" || { echo "the WebGL build does not import ws_js_open"; exit 1; }
if grep -q 'ws_js_open' "$OUT/WsMachine.dll" || grep -q 'ws_js_open' "$OUT/WsMachine.Editor.dll"; then
  echo "a non-WebGL build imports the jslib"; exit 1
fi

"${MCS[@]}" -target:exe -warnaserror+ -r:"$OUT/WsMachine.WebGL.dll" -r:System.Core.dll \
  -out:"$OUT/WsMachine.Tests.exe" "$ROOT/tests/webgl/WebGLChecks.cs"
(cd "$OUT" && mono WsMachine.Tests.exe "$OUT/WsMachine.dll")
