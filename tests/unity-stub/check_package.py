#!/usr/bin/env python3
"""Checks a Unity package folder (UPM layout) the way Unity would read it.

    check_package.py bindings/csharp --repo [--guids-also unity-sample/Assets]
    check_package.py <unpacked>/package --dist-plugins dist/Plugins

Checks:
  - package.json: name, version (equal to Cargo.toml's with --cargo-toml), unity,
    displayName; every "samples" path exists; CHANGELOG.md names the version
  - the files Unity users expect: README.md, CHANGELOG.md, LICENSE.md, Third Party
    Notices.md (the licenses of the crates in the native library), the runtime and
    test asmdefs (WsMachine: unsafe code; WsMachine.Tests: references
    WsMachine, only with UNITY_INCLUDE_TESTS)
  - no symbolic links (Windows checkouts and UPM git URLs do not follow them)
  - every file and folder has a .meta and every .meta has its file or folder (Unity
    skips files without one in an immutable package, and deletes orphan .meta files in
    a mutable one). Folders ending in "~" and dot files are not imported and need none.
    With --repo, the .meta of a native binary under Plugins/ may wait for its binary
    (binaries come from dist/, never from git).
  - GUIDs are 32 hex digits and unique (with --guids-also, across those folders too)
  - native plugin import settings fit the Unity versions the package declares: a
    player that exists only from some Unity version on (Windows ARM64: 2023.1) is
    constrained to it with UNITY_<version>_OR_NEWER
  - with --dist-plugins: every binary built into dist/Plugins is in the package with the
    same bytes, and the package has no other binary
Prints one "ok - " or "not ok - " line per check and exits 1 if any failed.
"""
import argparse
import hashlib
import json
import os
import re
import sys

from tap import check, summary  # tests/unity-stub/tap.py, beside this file

BINARY_EXT = (".so", ".dll", ".dylib", ".a", ".bundle")
# (Standalone target, CPU) -> first Unity version that has that player.
PLAYER_SINCE = {("Win64", "ARM64"): (2023, 1)}


def walk(root):
    """Relative paths Unity imports (files and folders), and the .meta files."""
    entries, metas = [], []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and not d.endswith("~"))
        rel_dir = os.path.relpath(dirpath, root)
        for name in dirnames + sorted(filenames):
            if name.startswith("."):
                continue
            rel = os.path.normpath(os.path.join(rel_dir, name))
            (metas if name.endswith(".meta") else entries).append(rel)
    return entries, metas


def symlinks(root):
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            if os.path.islink(p):
                found.append(os.path.relpath(p, root))
    return found


def guids(root):
    out = {}
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            if name.endswith(".meta"):
                p = os.path.join(dirpath, name)
                m = re.search(r"^guid: (\S+)$", open(p, encoding="utf-8").read(), re.M)
                out[p] = m.group(1) if m else None
    return out


def version_tuple(v):
    return tuple(int(x) for x in re.findall(r"\d+", v)[:2])


def sha256(p):
    return hashlib.sha256(open(p, "rb").read()).hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("root")
    ap.add_argument("--repo", action="store_true", help="the package in the repository (binaries not there)")
    ap.add_argument("--dist-plugins", help="dist/Plugins: the binaries the package must carry")
    ap.add_argument("--cargo-toml", help="Cargo.toml whose version the package must have")
    ap.add_argument("--guids-also", action="append", default=[], help="more folders whose GUIDs must not clash")
    args = ap.parse_args()
    root = args.root.rstrip("/")

    # ---------------------------------------------------------------- package.json
    try:
        pkg = json.load(open(os.path.join(root, "package.json"), encoding="utf-8"))
    except (OSError, ValueError) as e:
        check(False, "package.json readable: %s" % e)
        return 1
    check(pkg.get("name") == "com.wsmachine.websocket", "package.json name is com.wsmachine.websocket")
    version = pkg.get("version", "")
    check(re.fullmatch(r"\d+\.\d+\.\d+(-[0-9A-Za-z.]+)?", version), "package.json version %r is semver" % version)
    if args.cargo_toml:
        m = re.search(r'^version = "([^"]+)"', open(args.cargo_toml, encoding="utf-8").read(), re.M)
        check(m and m.group(1) == version, "package.json version %s equals Cargo.toml's %s" % (version, m and m.group(1)))
    unity = pkg.get("unity", "")
    check(re.fullmatch(r"\d{4}\.\d", unity), "package.json declares the minimum Unity version (%r)" % unity)
    check(pkg.get("displayName"), "package.json has a displayName")
    for s in pkg.get("samples", []):
        check(os.path.isdir(os.path.join(root, s.get("path", ""))), "sample path %s exists" % s.get("path"))

    # ---------------------------------------------------------------- expected files
    for f in ("package.json", "README.md", "CHANGELOG.md", "LICENSE.md", "Third Party Notices.md",
              "Runtime/WsMachine.asmdef", "Tests/Runtime/WsMachine.Tests.asmdef"):
        check(os.path.isfile(os.path.join(root, f)), "%s is in the package" % f)
    try:
        check(("[%s]" % version) in open(os.path.join(root, "CHANGELOG.md"), encoding="utf-8").read(),
              "CHANGELOG.md has an entry for %s" % version)
        rt = json.load(open(os.path.join(root, "Runtime/WsMachine.asmdef"), encoding="utf-8"))
        check(rt.get("name") == "WsMachine" and rt.get("allowUnsafeCode"),
              "Runtime/WsMachine.asmdef: assembly WsMachine, unsafe code allowed")
        ts = json.load(open(os.path.join(root, "Tests/Runtime/WsMachine.Tests.asmdef"), encoding="utf-8"))
        check(ts.get("name") == "WsMachine.Tests" and "WsMachine" in ts.get("references", [])
              and "UNITY_INCLUDE_TESTS" in ts.get("defineConstraints", []),
              "Tests/Runtime/WsMachine.Tests.asmdef: references WsMachine, only with UNITY_INCLUDE_TESTS")
    except (OSError, ValueError) as e:
        check(False, "package files readable: %s" % e)
    cs = [e for e in walk(root)[0] if e.endswith(".cs")]
    check(any(e.startswith("Runtime" + os.sep) for e in cs), "Runtime/ holds the C# sources (%d .cs files in all)" % len(cs))

    # ---------------------------------------------------------------- links, metas, GUIDs
    links = symlinks(root)
    check(not links, "no symbolic links%s" % (": " + ", ".join(links) if links else ""))
    entries, metas = walk(root)
    missing = [e for e in entries if e + ".meta" not in metas]
    check(not missing, "every file and folder has a .meta%s" % (": missing for " + ", ".join(missing) if missing else ""))
    orphans = []
    for m in metas:
        target = m[: -len(".meta")]
        if target in entries:
            continue
        if args.repo and target.startswith("Plugins" + os.sep) and target.endswith(BINARY_EXT):
            continue  # the binary comes from dist/
        orphans.append(m)
    check(not orphans, "no .meta without its file%s" % (": " + ", ".join(orphans) if orphans else ""))
    all_guids = guids(root)
    for extra in args.guids_also:
        all_guids.update(guids(extra))
    bad = [p for p, g in all_guids.items() if not (g and re.fullmatch(r"[0-9a-f]{32}", g))]
    check(not bad, "every GUID is 32 hex digits%s" % (": " + ", ".join(bad) if bad else ""))
    seen, dups = {}, []
    for p, g in sorted(all_guids.items()):
        if g in seen:
            dups.append("%s and %s" % (seen[g], p))
        seen[g] = p
    check(not dups, "GUIDs are unique%s" % (": " + "; ".join(dups) if dups else ""))

    # ---------------------------------------------------------------- plugin import settings
    declared = version_tuple(unity) if unity else (0, 0)
    for m in sorted(metas):
        text = open(os.path.join(root, m), encoding="utf-8").read()
        if "PluginImporter:" not in text:
            continue
        constraints = re.findall(r"^  - (UNITY_\w+)$", text.split("isPreloaded")[0], re.M)
        for (target, cpu), since in PLAYER_SINCE.items():
            block = re.search(r"Standalone: %s\n    second:\n      enabled: 1\n      settings:\n        CPU: %s\n"
                              % (target, cpu), text)
            if block and declared < since:
                want = "UNITY_%d_%d_OR_NEWER" % since
                check(want in constraints, "%s: the %s %s player exists from Unity %d.%d on, the package declares %s: "
                      "constrained with %s" % (m, target, cpu, since[0], since[1], unity, want))

    # ---------------------------------------------------------------- binaries from dist/
    if args.dist_plugins:
        built = {}
        for dirpath, _, filenames in os.walk(args.dist_plugins):
            for name in filenames:
                p = os.path.join(dirpath, name)
                built[os.path.join("Plugins", os.path.relpath(p, args.dist_plugins))] = sha256(p)
        check(built, "dist/Plugins holds binaries (%d)" % len(built))
        for rel, digest in sorted(built.items()):
            p = os.path.join(root, rel)
            check(os.path.isfile(p) and sha256(p) == digest, "%s is in the package, identical to dist/" % rel)
        extra = [e for e in entries if e.endswith(BINARY_EXT) and e not in built]
        check(not extra, "no binary that dist/ did not build%s" % (": " + ", ".join(extra) if extra else ""))

    return summary()


if __name__ == "__main__":
    sys.exit(main())
