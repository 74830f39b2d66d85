#!/usr/bin/env python3
"""Checks that unity-sample/ is a Unity project that opens on the package by path.

    check_sample.py unity-sample

  - Packages/manifest.json depends on com.wsmachine.websocket through a "file:" path
    that resolves (from Packages/) to the package folder with that name
  - ProjectSettings/ProjectVersion.txt names an Editor no older than the package's "unity"
  - every file and folder in Assets/ has a .meta, and no .meta is orphaned
  - Assets/EchoSample.unity uses the script by the GUID of EchoSample.cs.meta, sets only
    fields the script has, and is the scene in EditorBuildSettings.asset (by GUID)
  - the sample is not duplicated: no EchoSample.cs elsewhere in the repository
Prints "ok - " / "not ok - " lines, exits 1 if any failed.
"""
import json
import os
import re
import sys

from tap import check, summary  # tests/unity-stub/tap.py, beside this file


def guid_of(meta):
    m = re.search(r"^guid: ([0-9a-f]{32})$", open(meta, encoding="utf-8").read(), re.M)
    return m.group(1) if m else None


def main():
    root = sys.argv[1].rstrip("/")
    repo = os.path.dirname(os.path.abspath(root))
    manifest = json.load(open(os.path.join(root, "Packages/manifest.json"), encoding="utf-8"))
    dep = manifest.get("dependencies", {}).get("com.wsmachine.websocket", "")
    check(dep.startswith("file:"), "manifest.json takes com.wsmachine.websocket from a path (%s)" % dep)
    pkg_dir = os.path.normpath(os.path.join(root, "Packages", dep[len("file:"):]))
    pkg = {}
    try:
        pkg = json.load(open(os.path.join(pkg_dir, "package.json"), encoding="utf-8"))
    except (OSError, ValueError):
        pass
    check(pkg.get("name") == "com.wsmachine.websocket",
          "%s resolves to the package (%s)" % (dep, os.path.relpath(pkg_dir, repo)))
    check(os.path.relpath(pkg_dir, repo) == os.path.join("bindings", "csharp"), "the package is bindings/csharp")

    pv = open(os.path.join(root, "ProjectSettings/ProjectVersion.txt"), encoding="utf-8").read()
    m = re.search(r"^m_EditorVersion: (\d+)\.(\d+)\.\S+$", pv, re.M)
    want = tuple(int(x) for x in pkg.get("unity", "0.0").split("."))
    check(m and (int(m.group(1)), int(m.group(2))) >= want,
          "ProjectVersion.txt (%s) is no older than the package's unity %s" % (m and m.group(0), pkg.get("unity")))

    assets = os.path.join(root, "Assets")
    names = sorted(n for n in os.listdir(assets) if not n.startswith("."))
    files = [n for n in names if not n.endswith(".meta")]
    metas = [n for n in names if n.endswith(".meta")]
    check(all(f + ".meta" in metas for f in files) and all(x[:-5] in files for x in metas),
          "every file in Assets/ has its .meta and every .meta its file (%s)" % ", ".join(files))

    script_guid = guid_of(os.path.join(assets, "EchoSample.cs.meta"))
    scene = open(os.path.join(assets, "EchoSample.unity"), encoding="utf-8").read()
    check(scene.startswith("%YAML 1.1\n%TAG !u! tag:unity3d.com,2011:\n"), "EchoSample.unity is a Unity YAML scene")
    check(re.search(r"m_Script: \{fileID: 11500000, guid: %s, type: 3\}" % script_guid, scene),
          "the scene's MonoBehaviour is EchoSample.cs (guid %s)" % script_guid)
    source = open(os.path.join(assets, "EchoSample.cs"), encoding="utf-8").read()
    body = scene.split("m_EditorClassIdentifier:", 1)[-1]
    fields = re.findall(r"^  (\w+): ", body, re.M)
    unknown = [f for f in fields if not re.search(r"public \S+ %s\b" % f, source)]
    check(fields and not unknown, "the scene sets only public fields of EchoSample (%s)" % ", ".join(fields))
    ebs = open(os.path.join(root, "ProjectSettings/EditorBuildSettings.asset"), encoding="utf-8").read()
    check("guid: %s" % guid_of(os.path.join(assets, "EchoSample.unity.meta")) in ebs
          and "path: Assets/EchoSample.unity" in ebs, "EditorBuildSettings.asset lists the scene")

    dups = []
    for dirpath, dirnames, filenames in os.walk(repo):
        dirnames[:] = [d for d in dirnames if d not in (".git", "target", "node_modules", "dist")]
        for n in filenames:
            if n == "EchoSample.cs" and os.path.join(dirpath, n) != os.path.join(os.path.abspath(assets), n):
                dups.append(os.path.relpath(os.path.join(dirpath, n), repo))
    check(not dups, "EchoSample.cs exists once%s" % (": also " + ", ".join(dups) if dups else ""))

    return summary()


if __name__ == "__main__":
    sys.exit(main())
