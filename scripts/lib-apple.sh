# shellcheck shell=bash
# Apple builds on Linux, without Xcode (issue 15), sourced by scripts/build-release.sh
# and scripts/test-apple.sh. Tools (all from the package registries; .ci/install.sh
# installs them as optional items):
#   clang-14         (Debian) compiles ring's C and assembly for the Apple targets
#   ld64.lld-14      (Debian lld-14) links the macOS dylibs, through scripts/apple/apple-ld
#   llvm-ar-14, llvm-nm-14, llvm-strip-14, llvm-lipo-14, llvm-objdump-14, llvm-objcopy-14
#                    (Debian llvm-14)
#   ziglang          (PyPI) for the Apple libc headers and the libSystem stub it
#                    ships (scripts/apple/sdk.py makes a stand-in SDK of them in
#                    target/apple-sdk/, SDKROOT), and its Mach-O linker's -r for the
#                    static libraries (apple_clean_staticlib). zig compiles nothing here.
# What is not from Apple's SDK: our TargetConditionals.h (scripts/apple/), the framework
# stubs (scripts/apple/apple-ld), libiconv.tbd (scripts/apple/sdk.py).
#
#   apple_missing                prints why Apple builds cannot run here (empty: they can)
#   apple_env                    prints the ENV=VALUE words for cargo (after apple_make_sdk)
#   apple_make_sdk               (re)makes target/apple-sdk
#   apple_clean_staticlib IN.a OUT.a ZIG_TARGET
#                                symbol-clean thin static library: only ws_* global
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
APPLE_OBJCOPY=$(apple_tool llvm-objcopy-14 llvm-objcopy || true)

apple_missing() {
  local why=""
  [ -n "$APPLE_CC" ] || why="$why clang-14 (apt-get install clang-14);"
  [ -n "$APPLE_LLD" ] || why="$why ld64.lld-14 (apt-get install lld-14);"
  [ -n "$APPLE_AR" ] && [ -n "$APPLE_NM" ] && [ -n "$APPLE_STRIP" ] && [ -n "$APPLE_LIPO" ] && [ -n "$APPLE_OBJDUMP" ] \
    && [ -n "$APPLE_OBJCOPY" ] || why="$why llvm-ar/nm/strip/lipo/objdump/objcopy-14 (apt-get install llvm-14);"
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

# apple_clean_staticlib IN.a OUT.a ZIG_TARGET   (ZIG_TARGET: aarch64-macos.11.0,
# x86_64-macos.10.14, aarch64-ios.12.0: CPU, OS and the minimum version written into
# the object's LC_BUILD_VERSION)
#
# The Mach-O version of native_clean_staticlib (scripts/lib-native.sh): OUT.a holds one
# object, wsmachine.o, in which only the ws_* functions are global; the rest of the
# Rust code (our crates and Rust's standard library: rust_eh_personality,
# __rust_alloc, ...) is renamed __wsm_* (Mach-O ___wsm_*) and local, so a second Rust
# static library in the same app does not collide with it (Xcode's -all_load included).
#   1. the members are extracted by position (`llvm-ar xN`: a name may repeat);
#   2. `zig cc -target ZIG_TARGET -r`: zig's own Mach-O linker links them into one
#      relocatable object (ld64.lld has no -r; Apple's ld -r would do it on a Mac);
#   3. llvm-objcopy drops the __LLVM segment's sections (the embedded bitcode and its
#      command line: rustc's standard library carries LLVM 22 bitcode, which LLVM 14's
#      tools cannot read, and nothing needs it: Apple stopped accepting bitcode);
#   4. scripts/apple/macho-localize.py renames and localises every defined global but
#      _ws_* (llvm-objcopy 14 cannot localise Mach-O symbols);
#   5. llvm-ar --format=darwin (the BSD format Apple's tools read, as cargo writes it).
# Left global: the ws_* functions, and, undefined, what libSystem, Security,
# CoreFoundation and libiconv provide.
apple_clean_staticlib() {
  local in=$1 out=$2 zt=$3 tmp rc=0 absin
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/wsm-cleanmacho.XXXXXX")
  absin=$(cd "$(dirname "$in")" && pwd)/$(basename "$in")
  {
    mkdir -p "$tmp/m" "$tmp/x" &&
    "$APPLE_AR" t "$absin" >"$tmp/members" &&
    (cd "$tmp/x" && "$APPLE_AR" x "$absin") &&
    (
      declare -A total=() seen=()
      cd "$tmp/x" || exit 1
      while IFS= read -r n; do total[$n]=$(( ${total[$n]:-0} + 1 )); done <"$tmp/members"
      i=0
      while IFS= read -r n; do
        i=$((i + 1)); seen[$n]=$(( ${seen[$n]:-0} + 1 ))
        f=$(printf '../m/%05d-%s' "$i" "$n")
        if [ "${total[$n]}" -eq 1 ]; then
          mv "$n" "$f" || exit 1
        else
          "$APPLE_AR" xN "${seen[$n]}" "$absin" "$n" && mv "$n" "$f" || exit 1
        fi
      done <"$tmp/members"
    ) &&
    python3 -m ziglang cc -target "$zt" -r "$tmp"/m/* -o "$tmp/all.o" &&
    "$APPLE_OBJDUMP" --macho --private-headers "$tmp/all.o" \
      | awk '$1 == "sectname" { s = $2 } $1 == "segname" && $2 == "__LLVM" { print "--remove-section=__LLVM," s }' >"$tmp/rm" &&
    xargs -a "$tmp/rm" "$APPLE_OBJCOPY" "$tmp/all.o" "$tmp/nobc.o" &&
    python3 scripts/apple/macho-localize.py "$tmp/nobc.o" "$tmp/wsmachine.o" _ws_ __wsm_ &&
    rm -f "$out" && mkdir -p "$(dirname "$out")" && "$APPLE_AR" --format=darwin rcs "$out" "$tmp/wsmachine.o"
  } || rc=1
  rm -rf "$tmp"
  return $rc
}
