#!/usr/bin/env python3
"""Checks the ad-hoc code signature of a thin Mach-O file (scripts/test-apple.sh).

  check_codesign.py FILE

macOS on Apple silicon runs no arm64 code without a signature, and the kernel checks
each page against its hash when it maps it, so a file changed after the link (a strip,
an install_name_tool) fails there even though it looks fine here. This recomputes
every page hash of the CodeDirectory from the file's bytes (no Apple tool needed) and
checks that the hashes cover the file up to the signature. Exit 0 when all match.
"""
import hashlib
import struct
import sys

LC_CODE_SIGNATURE = 0x1D
CSMAGIC_EMBEDDED_SIGNATURE = 0xFADE0CC0
CSMAGIC_CODEDIRECTORY = 0xFADE0C02
HASHES = {1: hashlib.sha1, 2: hashlib.sha256}


def fail(msg):
    print("check_codesign: %s" % msg)
    sys.exit(1)


def main(path):
    data = open(path, "rb").read()
    magic, _, _, _, ncmds, _, _ = struct.unpack_from("<IiiIIII", data, 0)
    if magic != 0xFEEDFACF:
        fail("%s is not a thin 64-bit Mach-O file (magic %#x)" % (path, magic))
    off, sig = 32, None
    for _ in range(ncmds):
        cmd, size = struct.unpack_from("<II", data, off)
        if cmd == LC_CODE_SIGNATURE:
            sig = struct.unpack_from("<II", data, off + 8)
        off += size
    if sig is None:
        fail("%s has no LC_CODE_SIGNATURE" % path)
    dataoff, datasize = sig
    blob = data[dataoff:dataoff + datasize]
    smagic, _, count = struct.unpack_from(">III", blob, 0)
    if smagic != CSMAGIC_EMBEDDED_SIGNATURE:
        fail("signature superblob magic %#x" % smagic)
    cd_off = None
    for i in range(count):
        btype, boff = struct.unpack_from(">II", blob, 12 + 8 * i)
        if btype == 0:
            cd_off = boff
    if cd_off is None:
        fail("no CodeDirectory")
    cd = blob[cd_off:]
    (cmagic, _, _, flags, hash_off, ident_off, _, n_code, code_limit, hash_size, hash_type, _,
     page_log2) = struct.unpack_from(">IIIIIIIIIBBBB", cd, 0)
    if cmagic != CSMAGIC_CODEDIRECTORY:
        fail("CodeDirectory magic %#x" % cmagic)
    if hash_type not in HASHES:
        fail("hash type %d" % hash_type)
    if code_limit != dataoff:
        fail("the hashes cover %d bytes, the signature starts at %d" % (code_limit, dataoff))
    page = 1 << page_log2
    if n_code != (code_limit + page - 1) // page:
        fail("%d code slots for %d bytes of %d-byte pages" % (n_code, code_limit, page))
    bad = 0
    for i in range(n_code):
        want = cd[hash_off + i * hash_size:hash_off + (i + 1) * hash_size]
        got = HASHES[hash_type](data[i * page:min((i + 1) * page, code_limit)]).digest()[:hash_size]
        bad += want != got
    ident = cd[ident_off:cd.index(b"\0", ident_off)].decode()
    if bad:
        fail("%d of %d page hashes do not match the file" % (bad, n_code))
    print("check_codesign: %s: %d page hashes match (flags %#x%s, identifier %s)"
          % (path, n_code, flags, ", ad hoc" if flags & 0x2 else "", ident))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
