#!/usr/bin/env bash
# Checks the Unity package tarball that scripts/build-release.sh writes: unpacks it, checks
# its layout, compiles its C# against the UnityEngine stub, and runs the header and sample
# tests on Mono against the native library inside it.
#
#   bash scripts/test-unity-package.sh [FILTER]   # dist/com.wsmachine.websocket-<version>.tgz
#   WSM_PACKAGE_TGZ=path.tgz bash scripts/test-unity-package.sh
#
# FILTER: NUnit -run names (default: WsMachine.Tests.HeaderTests and the sample tests).
# Unless WSM_PACKAGE_TGZ names one, it first packs dist/ with scripts/pack-unity.sh (after
# `scripts/build-release.sh linux-x86_64` when dist/ has no binaries).
# Checks:
#   1. the archive: every entry under package/, no links, no absolute or ".." paths
#   2. tests/unity-stub/check_package.py on the unpacked package with --dist-plugins
#      dist/Plugins: package.json (version = Cargo.toml's), README/CHANGELOG/LICENSE,
#      asmdefs, a .meta for every file and folder and no .meta without its file, unique
#      GUIDs, plugin settings within the declared Unity versions, every binary of
#      dist/Plugins carried byte for byte and no other binary, the sample's path
#   3. mcs: the package's Runtime/*.cs (docs required), its Tests/Runtime/*.cs, and its
#      Samples~/EchoSample against tests/unity-stub
#   4. nunit-console: HeaderTests (the shipped C# against include/wsmachine.h) and
#      EchoSampleTests, loading Plugins/Linux/x86_64/libwsmachine.so from the tarball
# Output: "ok - " / "not ok - " lines and, last, "N passed, N failed".
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
ROOT=$(pwd)
FILTER="${1:-WsMachine.Tests.HeaderTests,WsMachine.SampleTests}"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/wsm-unity-pkg.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
MCS=(mcs -langversion:7.2 -nologo)
NUNIT_FW="$(ls /usr/lib/cli/nunit.framework-2.6*/nunit.framework.dll 2>/dev/null | head -n1)"

PASSED=0 FAILED=0
ok() { echo "ok - $*"; PASSED=$((PASSED + 1)); }
not_ok() { echo "not ok - $*"; FAILED=$((FAILED + 1)); }
step() { # DESCRIPTION CMD...
  local desc=$1; shift
  if "$@" >"$TMP/step.log" 2>&1; then ok "$desc"; return 0; fi
  not_ok "$desc"; sed 's/^/#   /' "$TMP/step.log" | tail -n 40; return 1
}
finish() { echo "$PASSED passed, $FAILED failed"; [ "$FAILED" -eq 0 ]; exit $?; }

VERSION=$(python3 -c 'import json; print(json.load(open("bindings/csharp/package.json"))["version"])')
TGZ="${WSM_PACKAGE_TGZ:-dist/com.wsmachine.websocket-$VERSION.tgz}"
if [ -z "${WSM_PACKAGE_TGZ:-}" ]; then
  # Repack dist/ (cheap, and byte-identical to build-release.sh's when nothing changed),
  # so the tarball checked is that of the current sources.
  if [ -z "$(find dist/Plugins -type f 2>/dev/null | head -n1)" ]; then
    step "scripts/build-release.sh linux-x86_64 (no binaries in dist/ yet)" bash scripts/build-release.sh linux-x86_64
  else
    step "scripts/pack-unity.sh (the package with the binaries in dist/Plugins)" bash scripts/pack-unity.sh
  fi
fi
[ -f "$TGZ" ] || { not_ok "$TGZ exists"; finish; }
ok "$TGZ exists ($(stat -c %s "$TGZ") bytes)"

# ------------------------------------------------------------------ 1. the archive
tar -tvzf "$TGZ" >"$TMP/list" 2>"$TMP/tar.err" || { not_ok "tar can read $TGZ"; cat "$TMP/tar.err"; finish; }
# The names alone (one per line; "Third Party Notices.md" has spaces, so not a column of -v).
tar -tzf "$TGZ" >"$TMP/names" 2>>"$TMP/tar.err" || { not_ok "tar can list $TGZ"; cat "$TMP/tar.err"; finish; }
bad=$(grep -v '^package/' "$TMP/names" || true)
[ -z "$bad" ] && ok "every entry is under package/ (npm layout)" || not_ok "entries outside package/: $bad"
links=$(grep -E '^[lh]' "$TMP/list" || true)
[ -z "$links" ] && ok "no symbolic or hard links" || not_ok "links in the tarball: $links"
unsafe=$(grep -E '^/|(^|/)\.\.(/|$)' "$TMP/names" || true)
[ -z "$unsafe" ] && ok "no absolute or '..' paths" || not_ok "unsafe paths: $unsafe"
mkdir -p "$TMP/x"
step "unpack" tar -xzf "$TGZ" -C "$TMP/x" || finish
P="$TMP/x/package"

# ------------------------------------------------------------------ 2. layout
if python3 tests/unity-stub/check_package.py "$P" --dist-plugins dist/Plugins --cargo-toml Cargo.toml >"$TMP/layout" 2>&1; then
  ok "package layout (check_package.py: $(tail -n1 "$TMP/layout"))"
else
  not_ok "package layout (check_package.py)"; grep -v '^ok - ' "$TMP/layout" | sed 's/^/#   /'
fi
grep '^ok - ' "$TMP/layout" | sed 's/^/#   /'
[ -f "$P/Samples~/EchoSample/EchoSample.cs" ] && [ -f "$P/Samples~/EchoSample/EchoSample.unity" ] \
  && ok "Samples~/EchoSample holds the sample script and scene" || not_ok "Samples~/EchoSample holds the sample script and scene"
cmp -s "$P/Samples~/EchoSample/EchoSample.cs" unity-sample/Assets/EchoSample.cs \
  && ok "the packed sample is unity-sample/Assets/EchoSample.cs" || not_ok "the packed sample is unity-sample/Assets/EchoSample.cs"

# ------------------------------------------------------------------ 3. compile
B="$TMP/build"; mkdir -p "$B"
step "the package's Runtime/*.cs compiles (mcs, C# 7.2, docs required)" \
  "${MCS[@]}" -unsafe -target:library -warnaserror+ -doc:"$B/WsMachine.xml" -out:"$B/WsMachine.dll" -recurse:"$P/Runtime/*.cs"
step "UnityEngine stub" "${MCS[@]}" -target:library -nowarn:1591 -out:"$B/UnityEngine.dll" tests/unity-stub/UnityEngine.cs
step "the package's Samples~/EchoSample compiles against the stub" \
  "${MCS[@]}" -target:library -warnaserror+ -r:"$B/UnityEngine.dll" -r:"$B/WsMachine.dll" -out:"$B/EchoSample.dll" \
  "$P"/Samples~/EchoSample/*.cs
if [ -n "$NUNIT_FW" ]; then
  step "the package's Tests/Runtime/*.cs compiles" \
    "${MCS[@]}" -unsafe -target:library -warnaserror+ -r:"$B/WsMachine.dll" -r:"$NUNIT_FW" -r:System.Core.dll \
    -out:"$B/WsMachine.Tests.dll" -recurse:"$P/Tests/Runtime/*.cs"
  step "EchoSampleTests compiles against the packed sample" \
    "${MCS[@]}" -target:library -warnaserror+ -r:"$B/EchoSample.dll" -r:"$B/UnityEngine.dll" -r:"$B/WsMachine.dll" \
    -r:"$NUNIT_FW" -r:System.Core.dll -out:"$B/WsMachine.SampleTests.dll" tests/unity-stub/EchoSampleTests.cs
else
  not_ok "nunit.framework.dll found (bash .ci/install.sh installs libnunit-cil-dev)"
fi

# ------------------------------------------------------------------ 4. run on the packed library
SO="$P/Plugins/Linux/x86_64/libwsmachine.so"
if [ "$(uname -sm)" != "Linux x86_64" ]; then
  echo "SKIPPED: running the packed library: host is $(uname -sm)"
elif [ ! -f "$SO" ]; then
  not_ok "the tarball carries Plugins/Linux/x86_64/libwsmachine.so (built on this host)"
elif [ -f "$B/WsMachine.Tests.dll" ] && [ -f "$B/WsMachine.SampleTests.dll" ]; then
  (cd "$B" && WSM_HEADER="$ROOT/include/wsmachine.h" LD_LIBRARY_PATH="$(dirname "$SO")" \
     timeout 300 nunit-console -nologo -noshadow -run="$FILTER" WsMachine.Tests.dll WsMachine.SampleTests.dll \
     -xml="$B/TestResult.xml" >"$B/nunit.log" 2>&1)
  rc=$?
  read -r p f < <(python3 - "$B/TestResult.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
try:
    cases = list(ET.parse(sys.argv[1]).getroot().iter("test-case"))
except Exception:
    cases = []
ok = sum(1 for c in cases if c.get("executed") == "True" and c.get("success") == "True")
print(ok, len(cases) - ok)
PY
)
  if [ "$rc" = 0 ] && [ "${p:-0}" -gt 0 ] && [ "${f:-1}" = 0 ]; then
    ok "nunit-console $FILTER on the packed C# and libwsmachine.so: $p passed"
  else
    not_ok "nunit-console $FILTER on the packed C# and libwsmachine.so (exit $rc, $p passed, $f failed)"
    grep -vE '^\*\*\*\*\* ' "$B/nunit.log" | tail -n 30 | sed 's/^/#   /'
  fi
fi
finish
