/*
 * A stand-in bcryptprimitives.dll for running Rust-built Windows binaries under
 * Wine older than 8.13 (Debian 12 ships Wine 8.0), used only by scripts/test-cross.sh.
 *
 * Since Rust 1.78 the standard library seeds its hash maps from ProcessPrng, which
 * bcryptprimitives.dll exports on Windows 10 and later, so wsmachine.dll imports it.
 * Wine 8.0 has no bcryptprimitives.dll and refuses to load wsmachine.dll. This shim
 * exports the one function, answered by Wine's BCryptGenRandom. It is placed next to
 * the test executable and is never shipped: real Windows has the real DLL.
 */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <bcrypt.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG n = len > 0x10000000u ? 0x10000000u : (ULONG)len;
        if (!BCRYPT_SUCCESS(BCryptGenRandom(NULL, data, n, BCRYPT_USE_SYSTEM_PREFERRED_RNG))) {
            return FALSE;
        }
        data += n;
        len -= n;
    }
    return TRUE;
}
