#!/usr/bin/env python3
"""Expected C struct layout, read from the C# bindings, as -D flags for layout_check.c.

    csharp_layout.py --ptr 8 [--cs bindings/csharp/Runtime/NativeMethods.cs]
                     [--header include/wsmachine.h] [--table]

Reads every `[StructLayout(...)] struct` in the C# file whose <summary> names a C
struct (`<c>ws_message</c>`), and every `typedef struct ws_* { ... } ws_*;` in the
header. It fails (exit 1, reason on stderr) when a header struct has no C#
counterpart, when the field names or their order differ, or when a C# field is not
blittable. Otherwise it lays the C# struct out the way the .NET marshaller and IL2CPP
do for a target with `--ptr`-byte pointers and prints one -D flag per line:

    -DWSM_EXP_PTR=8
    -DWSM_EXP_ws_message_SIZE=32
    -DWSM_EXP_ws_message_NFIELDS=4
    -DWSM_EXP_ws_message_kind=0 ...

Layout rules: LayoutKind.Sequential places each field at the next multiple of
min(its alignment, Pack) (Pack 0 = the default, 8), and rounds the size up to the
largest alignment used (or to Size= if larger). LayoutKind.Explicit uses the
[FieldOffset] values. A type's alignment is its size: byte 1, (u)short 2, (u)int and
float 4, (u)long and double 8, pointers, IntPtr, UIntPtr, nint and nuint --ptr.
(On 32-bit x86 Linux a C compiler aligns 64-bit fields to 4, not 8; neither struct
has one.) --table prints a readable table instead of flags.
"""
import argparse
import re
import sys

PRIMITIVES = {
    "byte": 1, "sbyte": 1,
    "short": 2, "ushort": 2, "Int16": 2, "UInt16": 2,
    "int": 4, "uint": 4, "float": 4, "Int32": 4, "UInt32": 4, "Single": 4,
    "long": 8, "ulong": 8, "double": 8, "Int64": 8, "UInt64": 8, "Double": 8,
}
POINTER_SIZED = {"IntPtr", "UIntPtr", "nint", "nuint"}
NOT_BLITTABLE = {"bool", "char", "string", "decimal", "object", "Boolean", "Char", "String"}


def fail(msg):
    print(f"csharp_layout.py: {msg}", file=sys.stderr)
    sys.exit(1)


def strip_c_comments(text):
    return re.sub(r"/\*.*?\*/", "", re.sub(r"//[^\n]*", "", text, flags=0), flags=re.S)


def header_structs(path):
    text = open(path, encoding="utf-8").read()
    out = {}
    for m in re.finditer(r"typedef struct (ws_\w+) \{(.*?)\} \1;", text, re.S):
        fields = []
        for stmt in strip_c_comments(m.group(2)).split(";"):
            stmt = stmt.strip()
            if stmt:
                name = re.search(r"(\w+)\s*(\[[^\]]*\])?$", stmt)
                fields.append(name.group(1))
        out[m.group(1)] = fields
    return out


def csharp_structs(path):
    text = open(path, encoding="utf-8").read()
    out = {}
    pat = re.compile(
        r"(?P<doc>(?:[ \t]*///[^\n]*\n)*)"
        r"(?P<attrs>(?:[ \t]*\[[^\]\n]*\][ \t]*\n)*)"
        r"[ \t]*(?:(?:public|internal|private|unsafe|readonly|partial)\s+)*struct\s+(?P<name>\w+)\s*"
        r"\{(?P<body>[^{}]*)\}")
    for m in pat.finditer(text):
        layout = re.search(r"StructLayout\(\s*LayoutKind\.(\w+)(?P<rest>[^\]]*)\)", m.group("attrs"))
        cname = re.search(r"<c>(ws_\w+)</c>", m.group("doc"))
        if not layout or not cname:
            continue
        pack = re.search(r"Pack\s*=\s*(\d+)", layout.group("rest"))
        size = re.search(r"Size\s*=\s*(\d+)", layout.group("rest"))
        fields = []
        body = re.sub(r"//[^\n]*", "", m.group("body"))
        for stmt in body.split(";"):
            stmt = stmt.strip()
            if not stmt:
                continue
            attrs = re.findall(r"\[([^\]]*)\]", stmt)
            decl = re.sub(r"\[[^\]]*\]", "", stmt).split()
            if "static" in decl or "const" in decl:
                continue
            decl = [w for w in decl if w not in ("public", "internal", "private", "readonly", "fixed")]
            if len(decl) != 2 or "(" in stmt.replace("[", "").split("]")[-1]:
                fail(f"{m.group('name')}: cannot parse member `{stmt}`")
            ctype, fname = decl
            off = None
            for a in attrs:
                fo = re.match(r"\s*FieldOffset\(\s*(\d+)\s*\)", a)
                if fo:
                    off = int(fo.group(1))
                elif a.strip().startswith("MarshalAs"):
                    fail(f"{m.group('name')}.{fname}: [MarshalAs] makes the struct non-blittable")
            fields.append((fname, ctype, off))
        out[cname.group(1)] = {
            "cs": m.group("name"), "kind": layout.group(1), "fields": fields,
            "pack": int(pack.group(1)) if pack else 0, "size": int(size.group(1)) if size else 0,
        }
    return out


def type_size(cs_struct, fname, ctype, ptr):
    if ctype.endswith("*") or ctype in POINTER_SIZED:
        return ptr
    if ctype in PRIMITIVES:
        return PRIMITIVES[ctype]
    if ctype in NOT_BLITTABLE:
        fail(f"{cs_struct}.{fname}: `{ctype}` is not blittable")
    fail(f"{cs_struct}.{fname}: unknown type `{ctype}`")


def layout(st, ptr):
    pack = st["pack"] or 8
    off, max_align, result = 0, 1, []
    for fname, ctype, explicit in st["fields"]:
        size = type_size(st["cs"], fname, ctype, ptr)
        align = min(size, pack)
        max_align = max(max_align, align)
        if st["kind"] == "Explicit":
            if explicit is None:
                fail(f"{st['cs']}.{fname}: LayoutKind.Explicit without [FieldOffset]")
            result.append((fname, explicit))
            off = max(off, explicit + size)
        elif st["kind"] == "Sequential":
            off = (off + align - 1) // align * align
            result.append((fname, off))
            off += size
        else:
            fail(f"{st['cs']}: LayoutKind.{st['kind']} is not a fixed layout")
    size = (off + max_align - 1) // max_align * max_align
    return result, max(size, st["size"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ptr", type=int, required=True, choices=(4, 8), help="pointer width in bytes")
    ap.add_argument("--cs", default="bindings/csharp/Runtime/NativeMethods.cs")
    ap.add_argument("--header", default="include/wsmachine.h")
    ap.add_argument("--table", action="store_true", help="print a table instead of -D flags")
    args = ap.parse_args()

    c = header_structs(args.header)
    cs = csharp_structs(args.cs)
    if not c:
        fail(f"no `typedef struct ws_* {{...}}` found in {args.header}")
    flags = [f"-DWSM_EXP_PTR={args.ptr}"]
    for name, cfields in c.items():
        if name not in cs:
            fail(f"{args.cs} declares no [StructLayout] struct documented as <c>{name}</c>")
        csfields = [f[0] for f in cs[name]["fields"]]
        if csfields != cfields:
            fail(f"{name}: header fields {cfields} but C# {cs[name]['cs']} declares {csfields}")
        offsets, size = layout(cs[name], args.ptr)
        if args.table:
            print(f"{name} (C# {cs[name]['cs']}, {args.ptr * 8}-bit): size {size}; "
                  + ", ".join(f"{f}@{o}" for f, o in offsets))
        flags.append(f"-DWSM_EXP_{name}_SIZE={size}")
        flags.append(f"-DWSM_EXP_{name}_NFIELDS={len(offsets)}")
        flags += [f"-DWSM_EXP_{name}_{f}={o}" for f, o in offsets]
    if not args.table:
        print("\n".join(flags))


if __name__ == "__main__":
    main()
