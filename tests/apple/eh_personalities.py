#!/usr/bin/env python3
"""The personality functions a linked 64-bit Mach-O program's __eh_frame names.

    eh_personalities.py PROGRAM NM_OUTPUT

Rust on arm64/x86_64 macOS describes the unwinding of functions with a landing pad in
__eh_frame (compact unwind mode DWARF); each CIE with augmentation "zPLR" points,
pc-relative and indirect (encoding 0x9b), to a GOT slot holding the personality
function's address. This prints, one per line and sorted, the symbol name of every
distinct personality function (NM_OUTPUT: `llvm-nm PROGRAM`, for address -> name; a
slot filled at load time by dyld, i.e. an imported personality, prints as "import").
scripts/test-apple.sh uses it on a program with two Rust static libraries: each must
unwind through its own personality (ours renamed ___wsm_rust_eh_personality).
A zero-length record before the section's end (which linear parsers such as
libunwind's fallback search take for the end) prints as zero-length-record-at-N-of-M.
"""
import struct
import sys


def main():
    prog, nm_out = sys.argv[1:3]
    data = open(prog, "rb").read()
    ncmds = struct.unpack_from("<I", data, 16)[0]
    off = 32
    sections = {}
    segs = []  # (vmaddr, vmsize, fileoff)
    for _ in range(ncmds):
        cmd, size = struct.unpack_from("<II", data, off)
        if cmd == 0x19:
            vmaddr, vmsize, fileoff = struct.unpack_from("<QQQ", data, off + 24)
            segs.append((vmaddr, vmsize, fileoff))
            nsects = struct.unpack_from("<I", data, off + 64)[0]
            for i in range(nsects):
                s = off + 72 + 80 * i
                name = data[s:s + 16].rstrip(b"\0").decode()
                addr, sz, foff = struct.unpack_from("<QQI", data, s + 32)
                sections[name] = (addr, sz, foff)
        off += size

    def read64(addr):
        for vmaddr, vmsize, fileoff in segs:
            if vmaddr <= addr < vmaddr + vmsize:
                return struct.unpack_from("<Q", data, fileoff + addr - vmaddr)[0]
        raise SystemExit(f"address {addr:#x} in no segment")

    names = {}
    for line in open(nm_out):
        f = line.split()
        if len(f) == 3 and f[1] in "tT":
            names.setdefault(int(f[0], 16), f[2])
    addr, size, foff = sections["__eh_frame"]
    pos, end, found = foff, foff + size, set()
    while pos < end:
        length = struct.unpack_from("<I", data, pos)[0]
        if length == 0:  # a terminator before the end: linear parsers stop here
            found.add(f"zero-length-record-at-{pos - foff}-of-{size}")
            pos += 4
            continue
        cie_id = struct.unpack_from("<I", data, pos + 4)[0]
        if cie_id == 0:  # a CIE: version, augmentation string, alignments, RA column
            p = pos + 9
            aug_end = data.index(b"\0", p)
            aug = data[p:aug_end].decode()
            p = aug_end + 1

            def uleb(q):
                v = shift = 0
                while True:
                    b = data[q]
                    q += 1
                    v |= (b & 0x7F) << shift
                    shift += 7
                    if not b & 0x80:
                        return v, q
            _, p = uleb(p)  # code alignment
            while data[p] & 0x80:  # data alignment (sleb)
                p += 1
            p += 1
            p += 1  # return address register (version 1: one byte)
            if aug.startswith("z"):
                _, p = uleb(p)
                for c in aug[1:]:
                    if c == "P":
                        enc = data[p]
                        p += 1
                        if enc != 0x9B:
                            raise SystemExit(f"personality encoding {enc:#x} not handled")
                        rel = struct.unpack_from("<i", data, p)[0]
                        slot = addr + (p - foff) + rel
                        target = read64(slot)
                        found.add(names.get(target, f"unknown {target:#x}") if target else "import")
                        p += 4
                    elif c in "LR":
                        p += 1
        pos += 4 + length
    for n in sorted(found):
        print(n)


if __name__ == "__main__":
    main()
