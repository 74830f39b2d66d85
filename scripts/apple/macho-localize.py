#!/usr/bin/env python3
"""Rename and localise the global symbols of one 64-bit Mach-O object (issue 15).

    macho-localize.py IN.o OUT.o KEEP_PREFIX RENAME_PREFIX

scripts/lib-apple.sh (apple_clean_staticlib) runs it on the one relocatable object that
zig's Mach-O linker makes of a whole Rust static library (`zig cc -r`): LLVM 14's
llvm-objcopy renames Mach-O symbols (--redefine-sym) but cannot localise them
("option not supported by llvm-objcopy for MachO"), and ld64.lld has no -r. Every
defined external symbol whose name does not start with KEEP_PREFIX (`_ws_`) is
renamed: the C-level name X (Mach-O `_X`) becomes RENAME_PREFIX + X (`__wsm_X`,
Mach-O `___wsm_X`, as the ELF and PE cleanups name it) and made
local (N_EXT, N_PEXT and the weak-definition bits cleared). Undefined symbols (what
libSystem and the frameworks provide) are left as they are.

A Mach-O object lists its symbols as locals, then external definitions, then
undefined ones (LC_DYSYMTAB's three ranges); the table is rewritten in that order
(externals and undefined sorted by name, as LLVM's writer does), with a new string
table, and every external relocation's symbol number is remapped. Symbol table and
string table must be the last data of the file (they are in zig's and LLVM's
output); objects with an indirect symbol table or scattered relocations are refused.
Prints one line: counts of kept, localised and undefined symbols.
"""
import struct
import sys

MH_MAGIC_64 = 0xFEEDFACF
MH_OBJECT = 1
LC_SEGMENT_64 = 0x19
LC_SYMTAB = 0x2
LC_DYSYMTAB = 0xB
N_STAB, N_PEXT, N_TYPE, N_EXT = 0xE0, 0x10, 0x0E, 0x01
N_UNDF, N_INDR = 0x0, 0xA
N_WEAK_REF, N_WEAK_DEF = 0x0040, 0x0080


def fail(msg):
    sys.exit("macho-localize: " + msg)


def main():
    if len(sys.argv) != 5:
        fail("usage: macho-localize.py IN.o OUT.o KEEP_PREFIX RENAME_PREFIX")
    src, dst, keep, prefix = sys.argv[1:]
    data = bytearray(open(src, "rb").read())
    magic, _cpu, _sub, ftype, ncmds, _size, _flags, _res = struct.unpack_from("<IiiIIIII", data, 0)
    if magic != MH_MAGIC_64 or ftype != MH_OBJECT:
        fail(f"{src}: not a 64-bit little-endian Mach-O object")
    off = 32
    sections = []  # (reloff, nreloc)
    all_sections = []  # (header offset, addr, size)
    segment = eh_frame = None
    symtab = dysymtab = None
    data_end = 0
    for _ in range(ncmds):
        cmd, cmdsize = struct.unpack_from("<II", data, off)
        if cmd == LC_SEGMENT_64:
            if segment is not None:
                fail(f"{src}: more than one segment")
            segment = off
            nsects = struct.unpack_from("<I", data, off + 64)[0]
            for i in range(nsects):
                s = off + 72 + 80 * i
                addr, size, offset, _align, reloff, nreloc, flags = struct.unpack_from("<QQIIIII", data, s + 32)
                all_sections.append((s, addr, size))
                if data[s:s + 16].rstrip(b"\0") == b"__eh_frame":
                    eh_frame = s
                stype = flags & 0xFF
                if offset and stype not in (0x1, 0xC, 0x12):  # S_ZEROFILL, S_GB_ZEROFILL, S_THREAD_LOCAL_ZEROFILL
                    data_end = max(data_end, offset + size)
                if nreloc:
                    data_end = max(data_end, reloff + 8 * nreloc)
                    sections.append((reloff, nreloc))
        elif cmd == LC_SYMTAB:
            symtab = off
        elif cmd == LC_DYSYMTAB:
            dysymtab = off
        elif cmd in (0x26, 0x29, 0x2E):  # function starts, data in code, linker optimisation hints (no symbol indices)
            doff, dsize = struct.unpack_from("<II", data, off + 8)
            data_end = max(data_end, doff + dsize)
        off += cmdsize
    if symtab is None or dysymtab is None:
        fail(f"{src}: no LC_SYMTAB/LC_DYSYMTAB")
    symoff, nsyms, stroff, strsize = struct.unpack_from("<IIII", data, symtab + 8)
    dys = list(struct.unpack_from("<18I", data, dysymtab + 8))
    if dys[13]:  # nindirectsyms
        fail(f"{src}: has an indirect symbol table ({dys[13]} entries): not handled")
    if dys[7] or dys[9] or dys[11] or dys[15] or dys[17]:  # ntoc, nmodtab, nextrefsyms, nextrel, nlocrel
        fail(f"{src}: has a table of contents, module or external reference table, or dynamic relocations: not handled")
    if data_end > min(symoff, stroff):
        fail(f"{src}: symbol or string table not at the end of the file")

    def name_at(strx):
        end = data.index(b"\0", stroff + strx)
        return bytes(data[stroff + strx:end])

    syms = []  # [old index, name, n_type, n_sect, n_desc, n_value]
    for i in range(nsyms):
        strx, ntype, nsect, ndesc, nvalue = struct.unpack_from("<IBBHQ", data, symoff + 16 * i)
        if not ntype & N_STAB and ntype & N_TYPE == N_INDR:  # n_value is a string index
            fail(f"{src}: indirect symbol (N_INDR): not handled")
        syms.append([i, name_at(strx) if strx else b"", ntype, nsect, ndesc, nvalue])
    keepb, prefixb = keep.encode(), prefix.encode()
    locals_, extdefs, undefs = [], [], []
    n_localised = 0
    for s in syms:
        ntype = s[2]
        if ntype & N_STAB or not ntype & N_EXT:
            locals_.append(s)
        elif ntype & N_TYPE == N_UNDF:
            if s[5]:
                fail(f"{src}: common symbol {s[1].decode()}: not handled")
            undefs.append(s)
        elif s[1].startswith(keepb):
            extdefs.append(s)
        else:
            # C name X (Mach-O _X) becomes __wsm_X (Mach-O ___wsm_X)
            s[1] = b"_" + prefixb + s[1][1:] if s[1].startswith(b"_") else prefixb + s[1]
            s[2] = ntype & ~(N_EXT | N_PEXT)
            s[4] &= ~(N_WEAK_DEF | N_WEAK_REF)
            locals_.append(s)
            n_localised += 1
    if not extdefs:
        fail(f"{src}: no defined symbol starts with {keep}: nothing would stay global")
    extdefs.sort(key=lambda s: s[1])
    undefs.sort(key=lambda s: s[1])
    order = locals_ + extdefs + undefs
    new_index = {s[0]: i for i, s in enumerate(order)}

    for reloff, nreloc in sections:
        for j in range(nreloc):
            p = reloff + 8 * j
            addr, info = struct.unpack_from("<iI", data, p)
            if addr & 0x80000000:
                fail(f"{src}: scattered relocation: not handled")
            if info & (1 << 27):  # r_extern: r_symbolnum is a symbol index
                info = (info & ~0xFFFFFF) | new_index[info & 0xFFFFFF]
                struct.pack_into("<I", data, p + 4, info)

    strtab = bytearray(b"\0")
    table = bytearray()
    for s in order:
        strx = 0
        if s[1]:
            strx = len(strtab)
            strtab += s[1] + b"\0"
        table += struct.pack("<IBBHQ", strx, s[2], s[3], s[4], s[5])
    while len(strtab) % 8:
        strtab += b"\0"
    base = min(symoff, stroff)
    base += -base % 8
    out = data[:base]
    out += b"\0" * (base - len(out))
    pad_eh_frame(src, out, segment, eh_frame, all_sections)
    new_symoff = len(out)
    out += table
    new_stroff = len(out)
    out += strtab
    struct.pack_into("<IIII", out, symtab + 8, new_symoff, len(order), new_stroff, len(strtab))
    dys[0:6] = [0, len(locals_), len(locals_), len(extdefs), len(locals_) + len(extdefs), len(undefs)]
    struct.pack_into("<18I", out, dysymtab + 8, *dys)
    open(dst, "wb").write(out)
    print(f"{len(extdefs)} kept global, {n_localised} renamed {prefix}* and localised, {len(undefs)} undefined")


def pad_eh_frame(src, out, segment, eh_frame, all_sections):
    """zig's __eh_frame is 4 bytes short of its 8-byte alignment: a linker that pads
    between input sections (ld64.lld) then puts 4 zero bytes after it, which linear
    __eh_frame parsers (libunwind's fallback search) take for the end of the section,
    losing the records of every object linked after this one. The section is moved
    to the end of the file's data (OUT grows) with its last record 4 bytes longer
    (DW_CFA_nop padding), so its size is a multiple of 8."""
    if eh_frame is None:
        return
    addr, size, offset, align = struct.unpack_from("<QQII", out, eh_frame + 32)
    pad = -size % 8
    if not pad:
        return
    if pad != 4 or align < 3:
        fail(f"{src}: __eh_frame size {size} with alignment 2^{align}: not handled")
    for s, a, sz in all_sections:
        if s != eh_frame and addr < a + max(sz, 1) and a < addr + size + pad:
            fail(f"{src}: no address space after __eh_frame to pad it")
    body = bytearray(out[offset:offset + size])
    p = last = 0
    while p < size:
        length = struct.unpack_from("<I", body, p)[0]
        if length in (0, 0xFFFFFFFF):
            fail(f"{src}: __eh_frame record of length {length:#x} at {p}: not handled")
        last, p = p, p + 4 + length
    if p != size:
        fail(f"{src}: __eh_frame records do not end at the section's end")
    struct.pack_into("<I", body, last, struct.unpack_from("<I", body, last)[0] + pad)
    body += b"\0" * pad
    new_off = len(out)
    out += body
    struct.pack_into("<QQI", out, eh_frame + 32, addr, size + pad, new_off)
    # the segment covers all section data and addresses
    vmaddr, vmsize, fileoff, filesize = struct.unpack_from("<QQQQ", out, segment + 24)
    struct.pack_into("<QQQQ", out, segment + 24, vmaddr, max(vmsize, addr + size + pad - vmaddr),
                     fileoff, len(out) - fileoff)


if __name__ == "__main__":
    main()
