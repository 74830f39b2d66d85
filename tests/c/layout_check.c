/*
 * layout_check: do the C# bindings and this C compiler agree on the structs of
 * include/wsmachine.h, for the target being compiled for?
 *
 * The C# side (bindings/csharp/Runtime/NativeMethods.cs) declares ws_message and
 * ws_deflate_info as blittable [StructLayout(LayoutKind.Sequential)] structs, and
 * Mono/IL2CPP lay them out by their own rules. tests/c/csharp_layout.py reads that
 * file, applies those rules for one pointer width and passes the result as -D flags:
 *
 *   WSM_EXP_PTR                    the pointer width (bytes) the expectations are for
 *   WSM_EXP_<struct>_SIZE          sizeof
 *   WSM_EXP_<struct>_NFIELDS       number of fields the C# struct declares
 *   WSM_EXP_<struct>_<field>       offset of each field
 *
 * Built normally, it prints one "ok - " / "not ok - " line per fact and exits 1 on
 * any mismatch (scripts/test-cross.sh runs it natively, under qemu-aarch64 and under
 * wine). Built with -DWSM_LAYOUT_STATIC, every fact is a _Static_assert and compiling
 * is the check: that works for targets with no C library here, e.g.
 * `gcc -m32 -ffreestanding -fsyntax-only` for 32-bit pointers (the ws_message layout
 * that ARMv7 Android and 32-bit Windows get).
 */
#include <stddef.h>
#include <stdint.h>

#include "wsmachine.h"

#ifndef WSM_EXP_PTR
#error "expected values missing: build through scripts/test-cross.sh (tests/c/csharp_layout.py)"
#endif

/* The fields of each struct, in header order. A field the header loses breaks the
 * build here; one it gains is caught by csharp_layout.py (the C# struct must list
 * exactly the header's fields) and by the NFIELDS fact. */
#define WS_MESSAGE_FIELDS(X) X(ws_message, kind) X(ws_message, data) X(ws_message, len) X(ws_message, close_code)
#define WS_DEFLATE_INFO_FIELDS(X)                                                                          \
    X(ws_deflate_info, enabled) X(ws_deflate_info, client_max_window_bits)                                \
    X(ws_deflate_info, server_max_window_bits) X(ws_deflate_info, client_no_context_takeover)             \
    X(ws_deflate_info, server_no_context_takeover)
#define COUNT_FIELD(s, f) +1

#ifdef WSM_LAYOUT_STATIC
#define FACT(cond, desc, got, want) _Static_assert(cond, desc);
#else
#include <stdio.h>

static int g_failed;

static void fact(int cond, const char *desc, unsigned long got, unsigned long want)
{
    printf("%s - %s: %lu (C#/expected %lu)\n", cond ? "ok" : "not ok", desc, got, want);
    g_failed += !cond;
}
#define FACT(cond, desc, got, want) fact(cond, desc, (unsigned long)(got), (unsigned long)(want));
#endif

#define FIELD_FACT(s, f)                                                                                    \
    FACT(offsetof(s, f) == WSM_EXP_##s##_##f, #s "." #f " offset", offsetof(s, f), WSM_EXP_##s##_##f)
#define STRUCT_FACTS(s, FIELDS)                                                                             \
    FACT(sizeof(s) == WSM_EXP_##s##_SIZE, "sizeof(" #s ")", sizeof(s), WSM_EXP_##s##_SIZE)                 \
    FACT((0 FIELDS(COUNT_FIELD)) == WSM_EXP_##s##_NFIELDS, #s ": C# declares as many fields as the header", \
         (0 FIELDS(COUNT_FIELD)), WSM_EXP_##s##_NFIELDS)                                                   \
    FIELDS(FIELD_FACT)

int main(void)
{
#ifndef WSM_LAYOUT_STATIC
    printf("# layout_check: %u-bit pointers, size_t %u bytes, alignof(uint64_t) %u\n",
           (unsigned)(sizeof(void *) * 8), (unsigned)sizeof(size_t), (unsigned)_Alignof(uint64_t));
#endif
    /* The expectations were computed for this target's pointer width. */
    FACT(sizeof(void *) == WSM_EXP_PTR, "pointer width the expectations were made for", sizeof(void *),
         WSM_EXP_PTR)
    /* size_t parameters and fields are UIntPtr in C#: pointer-sized. */
    FACT(sizeof(size_t) == sizeof(void *), "sizeof(size_t) == sizeof(void *) (C# UIntPtr)", sizeof(size_t),
         sizeof(void *))
    /* Handles are ulong in C#, on every target. */
    FACT(sizeof(ws_client) == 8, "sizeof(ws_client) (C# ulong)", sizeof(ws_client), 8)
    FACT(sizeof(ws_config) == 8, "sizeof(ws_config) (C# ulong)", sizeof(ws_config), 8)
    STRUCT_FACTS(ws_message, WS_MESSAGE_FIELDS)
    STRUCT_FACTS(ws_deflate_info, WS_DEFLATE_INFO_FIELDS)
#ifdef WSM_LAYOUT_STATIC
    return 0;
#else
    printf("# layout_check: %d failed\n", g_failed);
    return g_failed ? 1 : 0;
#endif
}
