#!/usr/bin/env python3
"""Checks that three lists of the jslib's functions agree, as HeaderTests does for the header.

    python3 tests/webgl/check_signatures.py jslib_test.c WebGLNative.cs [more .cs] wsmachine.jslib \
        [--subset autobahn_test.c ...]

* the C declarations in the test program (what emcc links and Chromium runs),
* the C# [DllImport("__Internal")] declarations (what Unity links in a WebGL player),
* the functions the jslib defines (name and parameter count).

Same names, same return type, same parameter types in the same order (C int = C# int,
any byte/char pointer = byte*, int * = int*), same parameter count in the jslib.
A --subset C file may declare fewer functions; those it declares must match too.
Exits 1 with the differences.
"""

import re
import sys

C_TYPES = {
    "int": "int",
    "const char *": "byte*",
    "char *": "byte*",
    "const uint8_t *": "byte*",
    "uint8_t *": "byte*",
    "int *": "int*",
}
CS_TYPES = {"int": "int", "byte*": "byte*", "int*": "int*"}


def c_decls(path):
    text = open(path, encoding="utf-8").read()
    out = {}
    for m in re.finditer(r"^(int)\s+(ws_js_\w+)\s*\(([^)]*)\)\s*;", text, re.M | re.S):
        params = []
        for p in " ".join(m.group(3).split()).split(","):
            p = p.strip()
            pm = re.match(r"^(.*?)(\w+)$", p)
            ctype = " ".join(pm.group(1).replace("*", " *").split())
            ctype = ctype.replace(" *", " *")
            params.append(C_TYPES.get(ctype, "?" + ctype))
        out[m.group(2)] = (m.group(1), params)
    return out


def cs_decls(paths):
    out = {}
    for path in paths:
        text = open(path, encoding="utf-8").read()
        pat = r'\[DllImport\((\w+|"[^"]*")\)\]\s*internal static extern (\w+\*?) (ws_js_\w+)\(([^)]*)\);'
        for m in re.finditer(pat, text, re.S):
            lib = m.group(1)
            if lib not in ("Lib", '"__Internal"'):
                out[m.group(3)] = ("bad library " + lib, [])
                continue
            if lib == "Lib" and 'private const string Lib = "__Internal";' not in text:
                out[m.group(3)] = ("Lib is not __Internal", [])
                continue
            params = []
            for p in " ".join(m.group(4).split()).split(","):
                t = p.strip().rsplit(" ", 1)[0]
                params.append(CS_TYPES.get(t, "?" + t))
            out[m.group(3)] = (m.group(2), params)
    return out


def jslib_defs(path):
    text = open(path, encoding="utf-8").read()
    return {m.group(1): len([a for a in m.group(2).split(",") if a.strip()])
            for m in re.finditer(r"^  (ws_js_\w+): function \(([^)]*)\)", text, re.M)}


def main():
    args, subsets = sys.argv[1:], []
    while "--subset" in args:
        i = args.index("--subset")
        subsets.append(args[i + 1])
        del args[i:i + 2]
    c_path, js_path, cs_paths = args[0], args[-1], args[1:-1]
    c, cs, js = c_decls(c_path), cs_decls(cs_paths), jslib_defs(js_path)
    errors = []
    for sub in subsets:
        decls = c_decls(sub)
        if not decls:
            errors.append(f"{sub}: no ws_js_ declarations parsed")
        for name, sig in decls.items():
            if name not in cs or cs[name] != sig:
                errors.append(f"{name}: {sub} declares {sig}, C# {cs.get(name)}")
    if not c or not cs or not js:
        errors.append(f"nothing parsed: {len(c)} C, {len(cs)} C#, {len(js)} jslib functions")
    for name in sorted(set(c) | set(cs) | set(js)):
        if name not in c:
            errors.append(f"{name}: not declared in {c_path}")
        if name not in cs:
            errors.append(f"{name}: no [DllImport(\"__Internal\")] in the C# sources")
        if name not in js:
            errors.append(f"{name}: not defined in the jslib")
        if name in c and name in cs and c[name] != cs[name]:
            errors.append(f"{name}: C {c[name]} != C# {cs[name]}")
        if name in c and name in js and len(c[name][1]) != js[name]:
            errors.append(f"{name}: {len(c[name][1])} parameters in C, {js[name]} in the jslib")
    for e in errors:
        print("MISMATCH " + e)
    print(f"{len(cs)} functions: C, C# and jslib " + ("agree" if not errors else "differ"))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
