# shellcheck shell=bash
# Apple builds on Linux, without Xcode (issue 15), sourced by scripts/build-release.sh
# and scripts/test-apple.sh. Tools (all from the package registries; .ci/install.sh
# installs them as optional items):
#   clang-14         (Debian) compiles ring's C and assembly for the Apple targets
#   ld64.lld-14      (Debian lld-14) links the macOS dylibs, through scripts/apple/apple-ld
#   llvm-ar-14, llvm-nm-14, llvm-strip-14, llvm-lipo-14, llvm-objdump-14 (Debian llvm-14)
#   ziglang          (PyPI) only for the Apple libc headers and the libSystem stub it
#                    ships; scripts/apple/sdk.py makes a stand-in SDK of them in
#                    target/apple-sdk/ (SDKROOT). zig itself does not compile or link here.
# What is not from Apple's SDK: our TargetConditionals.h (scripts/apple/), the framework
# stubs (scripts/apple/apple-ld), libiconv.tbd (scripts/apple/sdk.py).
#
#   apple_missing                prints why Apple builds cannot run here (empty: they can)
#   apple_env                    prints the ENV=VALUE words for cargo (after apple_make_sdk)
#   apple_make_sdk               (re)makes target/apple-sdk
# On macOS with Xcode (xcrun finds the SDK), none of this is used: build-release.sh
# builds with Xcode's tools.

APPLE_SDK_DIR="target/apple-sdk"

apple_tool() { # NAME...: the first that exists
  local t
  for t in "$@"; do command -v "$t" >/dev/null 2>&1 && { command -v "$t"; return 0; }; done
  return 1
}
APPLE_CC=$(apple_tool clang-14 clang || true)
APPLE_LLD=$(apple_tool ld64.lld-14 ld64.lld /usr/lib/llvm-14/bin/ld64.lld || true)
APPLE_AR=$(apple_tool llvm-ar-14 llvm-ar || true)
APPLE_NM=$(apple_tool llvm-nm-14 llvm-nm || true)
APPLE_STRIP=$(apple_tool llvm-strip-14 llvm-strip || true)
APPLE_LIPO=$(apple_tool llvm-lipo-14 llvm-lipo || true)
APPLE_OBJDUMP=$(apple_tool llvm-objdump-14 llvm-objdump || true)

apple_missing() {
  local why=""
  [ -n "$APPLE_CC" ] || why="$why clang-14 (apt-get install clang-14);"
  [ -n "$APPLE_LLD" ] || why="$why ld64.lld-14 (apt-get install lld-14);"
  [ -n "$APPLE_AR" ] && [ -n "$APPLE_NM" ] && [ -n "$APPLE_STRIP" ] && [ -n "$APPLE_LIPO" ] && [ -n "$APPLE_OBJDUMP" ] \
    || why="$why llvm-ar/nm/strip/lipo/objdump-14 (apt-get install llvm-14);"
  python3 -c 'import ziglang' >/dev/null 2>&1 || why="$why the ziglang Python package (pip install ziglang);"
  printf '%s' "${why%;}"
}

apple_make_sdk() {
  python3 scripts/apple/sdk.py sdk "$APPLE_SDK_DIR"
}

apple_env() {
  local t up
  echo "SDKROOT=$PWD/$APPLE_SDK_DIR"
  for t in aarch64-apple-darwin x86_64-apple-darwin aarch64-apple-ios; do
    echo "CC_${t//-/_}=$APPLE_CC"
    echo "AR_${t//-/_}=$APPLE_AR"
  done
  for t in aarch64-apple-darwin x86_64-apple-darwin; do
    up=$(echo "$t" | tr 'a-z-' 'A-Z_')
    echo "CARGO_TARGET_${up}_LINKER=$PWD/scripts/apple/apple-ld"
  done
  echo "WSM_LD64_LLD=$APPLE_LLD"
  echo "WSM_LLVM_NM=$APPLE_NM"
}
