#!/usr/bin/env bash
# Packs the Unity package (bindings/csharp) with the native binaries in dist/Plugins into
# dist/com.wsmachine.websocket-<version>.tgz, for Unity's "Add package from tarball".
# scripts/build-release.sh runs it last; run it alone to repack an existing dist/.
#
#   bash scripts/pack-unity.sh            # prints the tarball's path on its last line
#
# The tarball (npm layout: everything under package/) holds:
#   package.json       the repository's, plus a "samples" entry for Samples~/EchoSample
#   README.md, CHANGELOG.md, LICENSE.md, Runtime/, Tests/   as in bindings/csharp
#   Plugins/...        every binary of dist/Plugins with its .meta from bindings/csharp/Plugins
#                      (and the .meta of each folder above it); nothing else, so there is
#                      no .meta without its binary. A binary without a .meta is an error.
#   Plugins/WebGL/     the WebGL plugin (wsmachine.jslib), a committed source, as it is
#   Samples~/EchoSample   unity-sample/Assets (the script and its scene), copied at pack time
# The files come from `git ls-files` when this is a git checkout (so stray local files do
# not ship), else from the folder. Entries are sorted, owned by 0:0 and dated by the last
# commit, so the same tree packs to the same bytes.
# Exit status: 0 when packed, 1 on an error.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PKG=bindings/csharp
SAMPLE=unity-sample/Assets
DIST=dist
die() { echo "pack-unity.sh: $*" >&2; exit 1; }

[ -f "$PKG/package.json" ] || die "$PKG/package.json missing"
VERSION=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$PKG/package.json")
NAME=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["name"])' "$PKG/package.json")
STAGE_ROOT=target/unity-package
STAGE=$STAGE_ROOT/package
OUT="$DIST/$NAME-$VERSION.tgz"
rm -rf "$STAGE_ROOT"
mkdir -p "$STAGE" "$DIST"

# ---------------------------------------------------------------- package files (not Plugins/)
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t FILES < <(git ls-files -- "$PKG" | sed "s|^$PKG/||" | awk '!/^Plugins\// || /^Plugins\/WebGL(\/|\.meta$)/' \
    | grep -v '^Plugins\.meta$')
else
  mapfile -t FILES < <(cd "$PKG" && find . -type f \( -not -path './Plugins/*' -o -path './Plugins/WebGL*' \) \
    -not -name 'Plugins.meta' | sed 's|^\./||' | sort)
fi
[ "${#FILES[@]}" -gt 0 ] || die "no package files found in $PKG"
for f in "${FILES[@]}"; do
  [ -f "$PKG/$f" ] || continue   # deleted in the work tree, not yet in git
  [ -L "$PKG/$f" ] && die "$PKG/$f is a symbolic link (UPM and Windows checkouts do not follow them)"
  mkdir -p "$STAGE/$(dirname "$f")"
  cp "$PKG/$f" "$STAGE/$f"
done

# ---------------------------------------------------------------- native binaries + their .meta
n_bin=0
if [ -d "$DIST/Plugins" ]; then
  while IFS= read -r rel; do
    meta="$PKG/Plugins/$rel.meta"
    [ -f "$meta" ] || die "dist/Plugins/$rel has no import settings ($meta): add one"
    mkdir -p "$STAGE/Plugins/$(dirname "$rel")"
    cp "$DIST/Plugins/$rel" "$STAGE/Plugins/$rel"
    cp "$meta" "$STAGE/Plugins/$rel.meta"
    d=$(dirname "$rel")
    while [ "$d" != . ]; do
      [ -f "$PKG/Plugins/$d.meta" ] || die "folder $PKG/Plugins/$d has no .meta"
      cp "$PKG/Plugins/$d.meta" "$STAGE/Plugins/$d.meta"
      d=$(dirname "$d")
    done
    n_bin=$((n_bin + 1))
  done < <(cd "$DIST/Plugins" && find . -type f | sed 's|^\./||' | sort)
fi
if [ "$n_bin" -gt 0 ] || [ -d "$STAGE/Plugins" ]; then
  cp "$PKG/Plugins.meta" "$STAGE/Plugins.meta"
fi
if [ "$n_bin" -eq 0 ]; then
  echo "pack-unity.sh: WARNING: no binaries in dist/Plugins: the package has no native library" >&2
fi

# ---------------------------------------------------------------- sample
mkdir -p "$STAGE/Samples~/EchoSample"
for f in "$SAMPLE"/*; do
  [ -f "$f" ] && cp "$f" "$STAGE/Samples~/EchoSample/"
done
python3 - "$STAGE/package.json" <<'PY'
import json, sys
p = sys.argv[1]
d = json.load(open(p, encoding="utf-8"))
d["samples"] = [{
    "displayName": "Echo Sample",
    "description": "A scene and two MonoBehaviours: EchoSample (allocation-free, with reconnects and pause handling) connects, sends what you type and shows what comes back; EventSample shows the event style.",
    "path": "Samples~/EchoSample",
}]
with open(p, "w", encoding="utf-8") as f:
    json.dump(d, f, indent=2)
    f.write("\n")
PY

# ---------------------------------------------------------------- tarball
MTIME=$(git log -1 --format=%ct 2>/dev/null || date +%s)
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$MTIME" --format=ustar \
  -C "$STAGE_ROOT" -cf - package | gzip -n -9 >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "packed $n_bin native binaries and $(find "$STAGE" -name '*.cs' | wc -l) C# files"
echo "$OUT"
