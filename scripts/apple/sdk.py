#!/usr/bin/env python3
"""Stand-ins for the two things of Xcode that wsmachine's Apple builds need on Linux.

  sdk.py sdk OUTDIR            a stand-in SDK (for SDKROOT): headers and libSystem stub
  sdk.py fat OUT ARCH=FILE...  a universal (fat) file from per-architecture files

`sdk`: OUTDIR/usr/include holds the Apple libc headers that the ziglang package (PyPI)
ships (lib/libc/include/any-darwin-any; symbolic links into the installed package),
with scripts/apple/TargetConditionals.h instead of Apple's (see that file);
OUTDIR/usr/lib/libSystem.tbd is zig's text stub of libSystem, with the architecture
names LLVM 14's ld64.lld does not know (arm64e.x1-*) and the Mac Catalyst variants
dropped, and arm64-macos listed beside arm64e-macos (zig's copy names only arm64e);
libc.tbd and libm.tbd point at it, as in Apple's SDK; libiconv.tbd is a stub for the
`-liconv` that Rust's standard library passes (/usr/lib/libiconv.2.dylib, which every
macOS has). The frameworks are stubbed per link by scripts/apple/apple-ld. Nothing of
this is shipped: it is only read while building.

`fat`: llvm-lipo-14 cannot read the Rust static libraries (their members carry LLVM
bitcode newer than LLVM 14), so the universal .a is written here: a fat header and
the files as they are, each at a 2^14 boundary. Mach-O files work too.
"""
import os
import re
import shutil
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# CPU_TYPE_* | CPU_ARCH_ABI64, CPU_SUBTYPE_*_ALL (mach/machine.h)
CPU = {"x86_64": (0x01000007, 3), "arm64": (0x0100000C, 0)}
FAT_ALIGN = 14

ICONV_TBD = """--- !tapi-tbd
tbd-version: 4
targets: [ x86_64-macos, arm64-macos ]
install-name: '/usr/lib/libiconv.2.dylib'
current-version: 7
compatibility-version: 7
exports:
  - targets: [ x86_64-macos, arm64-macos ]
    symbols: [ _iconv, _iconv_close, _iconv_open, _iconvctl ]
...
"""


def ziglang_libc():
    try:
        import ziglang
    except ImportError:
        sys.exit("sdk.py: the ziglang package is not installed (pip install ziglang)")
    d = os.path.join(os.path.dirname(ziglang.__file__), "lib", "libc")
    for p in ("include/any-darwin-any/stdlib.h", "darwin/libSystem.tbd"):
        if not os.path.isfile(os.path.join(d, p)):
            sys.exit("sdk.py: %s missing in the ziglang package (%s)" % (p, d))
    return d


def fix_targets(text):
    """Target lists of zig's libSystem.tbd, made readable by LLVM 14."""
    def fix(m):
        items = [s.strip() for s in m.group(1).split(",") if s.strip()]
        if not items or not all(re.fullmatch(r"[a-z0-9_.]+-(macos|maccatalyst)", s) for s in items):
            return m.group(0)
        out = []
        for s in items:
            if ".x1-" in s or s.endswith("-maccatalyst"):
                continue
            for t in (["arm64-macos", s] if s == "arm64e-macos" else [s]):
                if t not in out:
                    out.append(t)
        return "[ " + ", ".join(out) + " ]"
    return re.sub(r"\[([^\[\]]*)\]", fix, text, flags=re.S)


def make_sdk(out):
    libc = ziglang_libc()
    tmp = out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    inc = os.path.join(tmp, "usr", "include")
    lib = os.path.join(tmp, "usr", "lib")
    os.makedirs(inc)
    os.makedirs(lib)
    src_inc = os.path.join(libc, "include", "any-darwin-any")
    for name in sorted(os.listdir(src_inc)):
        if name != "TargetConditionals.h":
            os.symlink(os.path.join(src_inc, name), os.path.join(inc, name))
    shutil.copy(os.path.join(HERE, "TargetConditionals.h"), inc)
    with open(os.path.join(libc, "darwin", "libSystem.tbd")) as f:
        tbd = fix_targets(f.read())
    if "arm64-macos" not in tbd or "x86_64-macos" not in tbd or ".x1-" in tbd:
        sys.exit("sdk.py: unexpected libSystem.tbd in the ziglang package")
    with open(os.path.join(lib, "libSystem.tbd"), "w") as f:
        f.write(tbd)
    os.symlink("libSystem.tbd", os.path.join(lib, "libc.tbd"))
    os.symlink("libSystem.tbd", os.path.join(lib, "libm.tbd"))
    with open(os.path.join(lib, "libiconv.tbd"), "w") as f:
        f.write(ICONV_TBD)
    # clang reads the SDK version from here (it wants both keys).
    with open(os.path.join(tmp, "SDKSettings.json"), "w") as f:
        f.write('{"Version": "14.0", "MaximumDeploymentTarget": "14.99", "CanonicalName": "macosx14.0"}\n')
    shutil.rmtree(out, ignore_errors=True)
    os.rename(tmp, out)
    print("sdk.py: %s (headers and libSystem.tbd from %s)" % (out, libc))


def make_fat(out, specs):
    slices = []
    for spec in specs:
        arch, _, path = spec.partition("=")
        if arch not in CPU or not path:
            sys.exit("sdk.py fat: bad slice %r (ARCH=FILE, ARCH one of %s)" % (spec, ", ".join(CPU)))
        with open(path, "rb") as f:
            slices.append((arch, f.read()))
    header = struct.pack(">II", 0xCAFEBABE, len(slices))
    offset = len(header) + 20 * len(slices)
    entries, body = [], []
    for arch, data in slices:
        offset = (offset + (1 << FAT_ALIGN) - 1) & ~((1 << FAT_ALIGN) - 1)
        cputype, subtype = CPU[arch]
        entries.append(struct.pack(">iiIII", cputype, subtype, offset, len(data), FAT_ALIGN))
        body.append((offset, data))
        offset += len(data)
    if offset >= 1 << 32:
        sys.exit("sdk.py fat: %s would be larger than 4 GiB" % out)
    with open(out + ".tmp", "wb") as f:
        f.write(header + b"".join(entries))
        for off, data in body:
            f.write(b"\0" * (off - f.tell()))
            f.write(data)
    os.replace(out + ".tmp", out)


def main(argv):
    if len(argv) == 3 and argv[1] == "sdk":
        make_sdk(os.path.abspath(argv[2]))
    elif len(argv) >= 4 and argv[1] == "fat":
        make_fat(argv[2], argv[3:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
