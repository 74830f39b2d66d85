#!/usr/bin/env bash
# Apple artifacts built on Linux (issue 15): the universal macOS dylib, the universal
# static library and the iOS static library in dist/, checked with LLVM's tools from
# Debian. Nothing here runs Apple code: there is no Apple hardware or OS here.
#
#   bash scripts/test-apple.sh          # ~7 min cold on 2 shared cores (5 min CPU), ~20 s warm
#   WSM_APPLE_STRICT=1 bash scripts/test-apple.sh   # missing tools count as a failure
#
# Steps:
#   1. scripts/build-release.sh macos ios-arm64 (no-ops when current; dist/ then holds
#      only these: scripts/test.sh runs this before test-cross.sh, which lays out all).
#      Without the tools (scripts/lib-apple.sh: clang-14, lld-14, llvm-14, PyPI ziglang,
#      which .ci/install.sh installs as optional items) it prints "SKIPPED: ..." and
#      passes, unless WSM_APPLE_STRICT=1.
#   2. dist/lib/universal-apple-darwin/libwsmachine.dylib (= dist/Plugins/macOS/, the
#      Unity copy), per architecture (arm64, x86_64; nothing else):
#      - exports exactly the functions of include/wsmachine.h (llvm-nm -gU);
#      - install name @rpath/libwsmachine.dylib;
#      - minimum macOS: 10.14 for x86_64 (build-release.sh's default; 11.0 for arm64),
#        or $MACOSX_DEPLOYMENT_TARGET when set;
#      - loads only Security, CoreFoundation, libiconv and libSystem, and every imported
#        symbol is bound to one of them (two-level namespace, no dynamic lookup);
#      - arm64: its ad-hoc code signature matches the file (tests/apple/check_codesign.py,
#        with a control: one changed byte must fail it).
#   3. a C program taking the address of every function of wsmachine.h links against
#      the dylib (arm64, x86_64) and against the universal .a with the system libraries
#      (-framework Security -framework CoreFoundation -liconv), each with the flags of
#      dist's pkg-config files (lib/universal-apple-darwin/pkgconfig), with clang-14 and
#      ld64.lld-14; the static programs load only system libraries.
#      The CMake package too: find_package(wsmachine) in a C project cross-built for
#      each CPU (a toolchain file for clang-14 and apple-ld), shared and static
#      (WSMACHINE_STATIC), picks lib/universal-apple-darwin and links.
#   4. dist/lib/universal-apple-darwin/libwsmachine.a: slices arm64 and x86_64, each
#      symbol-clean (apple_clean_staticlib, scripts/lib-apple.sh): one object,
#      wsmachine.o, whose only global symbols are the functions of wsmachine.h, whose
#      undefined symbols include no Rust symbol, for macOS 11.0 / 10.14 (or
#      $MACOSX_DEPLOYMENT_TARGET).
#   5. dist/Plugins/iOS/libwsmachine.a: the same, one arm64 object for iOS (platform
#      ios in LC_BUILD_VERSION), minimum iOS 12.0 (or $IPHONEOS_DEPLOYMENT_TARGET).
#   6. with a second Rust static library (tests/native/otherlib, built for the same
#      target): tests/native/two_rust_libs.c links with each clean library (arm64,
#      x86_64 macOS, iOS; both -all_load); the program's __eh_frame names both
#      personality functions, ours renamed, and no zero-length record cuts it short
#      (tests/apple/eh_personalities.py); cargo's archive in the same link fails
#      (duplicate symbols): the control. Linked only: nothing runs here.
# Output: "ok - " / "not ok - " lines and, last, "N passed, N failed".
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
export PATH="$HOME/.cargo/bin:$PATH"
# shellcheck source=lib/tap.sh
. scripts/lib/tap.sh
tap_begin test-apple
PASSED=0 FAILED=0
finish() { echo "# took $(( ($(date +%s%N) - T_START) / 1000000000 )) s"; echo "$PASSED passed, $FAILED failed"; [ "$FAILED" -eq 0 ]; exit; }

# shellcheck source=scripts/lib-apple.sh
. scripts/lib-apple.sh
why=$(apple_missing)
if [ -n "$why" ]; then
  echo "SKIPPED: Apple builds and checks: missing:$why (.ci/install.sh installs them; it printed SKIPPED if it could not)"
  [ "${WSM_APPLE_STRICT:-0}" = 1 ] && not_ok "Apple tools present (WSM_APPLE_STRICT=1)"
  finish
fi
NM=$APPLE_NM OBJDUMP=$APPLE_OBJDUMP LIPO=$APPLE_LIPO
U=dist/lib/universal-apple-darwin
DYLIB=$U/libwsmachine.dylib FAT_A=$U/libwsmachine.a IOS_A=dist/Plugins/iOS/libwsmachine.a
HEADER_FUNCS=$(grep -oE '^[a-z].* \**ws_[a-z0-9_]+\(' include/wsmachine.h | grep -oE 'ws_[a-z0-9_]+\($' | tr -d '(' | sort)
n_funcs=$(echo "$HEADER_FUNCS" | wc -l)

# check_clean_globals WHAT ARCHIVE: its defined global symbols are exactly the ws_*
# functions of wsmachine.h (apple_clean_staticlib renamed and localised the rest).
check_clean_globals() {
  local got others rust_undef
  got=$("$NM" -g --defined-only "$2" 2>"$TMP/nm.err" | awk 'NF == 3 { sub(/^_/, "", $3); print $3 }' | sort -u)
  others=$(echo "$got" | grep -v '^ws_' | head -n 5 | xargs)
  if [ "$got" = "$HEADER_FUNCS" ] && [ ! -s "$TMP/nm.err" ]; then
    ok "$1: its only global symbols are the $n_funcs functions of wsmachine.h ($("$NM" "$2" | grep -c ' ___wsm_') renamed ___wsm_* and local)"
  else
    not_ok "$1: its only global symbols are the $n_funcs functions of wsmachine.h ($(echo "$got" | grep -c '^ws_') ws_*; others: ${others:-none}; nm: $(head -c 200 "$TMP/nm.err"))"
  fi
  # What it leaves undefined is the system's (libSystem, Security, CoreFoundation,
  # libiconv): no Rust symbol (mangled _ZN/_R, or rust_*/__rust_*) comes from elsewhere.
  rust_undef=$("$NM" -u "$2" 2>/dev/null | grep -E '^(__ZN|__R[A-Z]|_+rust_)' | head -n 5 | xargs)
  [ -z "$rust_undef" ] && ok "$1: its $("$NM" -u "$2" | grep -c '^_') undefined symbols include no Rust symbol" \
    || not_ok "$1: its undefined symbols include no Rust symbol (got: $rust_undef)"
}
# member_min ARCHIVE: "PLATFORM MINOS" of each object member (LC_BUILD_VERSION), unique.
member_min() {
  "$OBJDUMP" --macho --private-headers "$1" 2>/dev/null \
    | awk '/cmd LC_BUILD_VERSION/ { b = 1 } b && /platform/ { p = $2 } b && /minos/ { print p, $2; b = 0 }' | sort -u | xargs
}

# ------------------------------------------------------------------ 1. build
t0=$SECONDS
if bash scripts/build-release.sh macos ios-arm64 >"$TMP/build.log" 2>&1; then
  ok "scripts/build-release.sh macos ios-arm64 ($((SECONDS - t0)) s)"
else
  not_ok "scripts/build-release.sh macos ios-arm64"; grep -E '^(FAILED|#   )' "$TMP/build.log" | head -n 60
fi
grep -E '^(macos|ios-arm64) ' "$TMP/build.log" | sed 's/^/#   /'
grep -E '^# (macos|ios-arm64): built' "$TMP/build.log"
for f in "$DYLIB" "$FAT_A" "$IOS_A" dist/Plugins/macOS/libwsmachine.dylib; do
  [ -f "$f" ] || { not_ok "$f was built"; finish; }
done
if cmp -s "$DYLIB" dist/Plugins/macOS/libwsmachine.dylib; then
  ok "dist/Plugins/macOS/libwsmachine.dylib (Unity) is the universal dylib"
else
  not_ok "dist/Plugins/macOS/libwsmachine.dylib (Unity) is the universal dylib"
fi
if [ -z "$(find dist/Plugins/macOS -mindepth 1 ! -name libwsmachine.dylib)" ]; then
  ok "dist/Plugins/macOS holds only that one dylib (no per-CPU copies of the same name)"
else
  not_ok "dist/Plugins/macOS holds only that one dylib: $(cd dist/Plugins/macOS && find . -mindepth 1 | tr '\n' ' ')"
fi

# ------------------------------------------------------------------ 2. the dylib
archs=$("$LIPO" -archs "$DYLIB" 2>&1 | xargs -n1 | sort | xargs)
[ "$archs" = "arm64 x86_64" ] && ok "$DYLIB: architectures arm64 x86_64" || not_ok "$DYLIB: architectures arm64 x86_64 (got: $archs)"
for arch in arm64 x86_64; do
  thin="$TMP/libwsmachine-$arch.dylib"
  "$LIPO" -thin "$arch" -output "$thin" "$DYLIB" || { not_ok "llvm-lipo -thin $arch"; continue; }
  got=$("$NM" -gU "$thin" | awk '{ print $NF }' | sed 's/^_//' | sort)
  if [ "$got" = "$HEADER_FUNCS" ]; then
    ok "$arch: exports exactly the $n_funcs functions of wsmachine.h"
  else
    not_ok "$arch: exports exactly the $n_funcs functions of wsmachine.h ($(echo "$got" | wc -l) exports)"
    diff <(echo "$HEADER_FUNCS") <(echo "$got") | sed 's/^/#   /' | head -n 20
  fi
  "$OBJDUMP" --macho --private-headers "$thin" >"$TMP/lc-$arch.txt" 2>&1
  id=$(awk '/cmd LC_ID_DYLIB/ { f = 1 } f && /name/ { print $2; exit }' "$TMP/lc-$arch.txt")
  [ "$id" = "@rpath/libwsmachine.dylib" ] && ok "$arch: install name @rpath/libwsmachine.dylib" \
    || not_ok "$arch: install name @rpath/libwsmachine.dylib (got: ${id:-none})"
  # LC_BUILD_VERSION (platform, minos) or, below 10.14, LC_VERSION_MIN_MACOSX (version).
  want=${MACOSX_DEPLOYMENT_TARGET:-10.14}   # build-release.sh's default; arm64 starts at 11.0
  [ "$arch" = arm64 ] && [ "$(printf '%s\n' "$want" 11.0 | sort -V | head -n1)" = "$want" ] && want=11.0
  minos=$(awk '/cmd LC_BUILD_VERSION/ { b = 1 } b && /minos/ { print $2; exit } /cmd LC_VERSION_MIN_MACOSX/ { v = 1 } v && /^ *version/ { print $2; exit }' "$TMP/lc-$arch.txt")
  platform=$(awk '/cmd LC_BUILD_VERSION/ { b = 1 } b && /platform/ { print $2; exit } /cmd LC_VERSION_MIN_MACOSX/ { print "macos"; exit }' "$TMP/lc-$arch.txt")
  [ "$minos" = "$want" ] && [ "$platform" = macos ] && ok "$arch: platform macos, minimum version $want" \
    || not_ok "$arch: platform macos, minimum version $want (got: ${platform:-?} ${minos:-?})"
  libs=$(awk '/cmd LC_LOAD_DYLIB/ { f = 1 } f && /name/ { print $2; f = 0 }' "$TMP/lc-$arch.txt" | sort | xargs)
  want_libs="/System/Library/Frameworks/CoreFoundation.framework/Versions/A/CoreFoundation /System/Library/Frameworks/Security.framework/Versions/A/Security /usr/lib/libSystem.B.dylib /usr/lib/libiconv.2.dylib"
  [ "$libs" = "$want_libs" ] && ok "$arch: loads only Security, CoreFoundation, libiconv, libSystem" \
    || not_ok "$arch: loads only Security, CoreFoundation, libiconv, libSystem (got: $libs)"
  n_undef=$("$NM" -m -u "$thin" | wc -l)
  unbound=$("$NM" -m -u "$thin" | grep -v '(from \(Security\|CoreFoundation\|libiconv\|libSystem\))' | head -n 5)
  [ "$n_undef" -gt 0 ] && [ -z "$unbound" ] && ok "$arch: each of its $n_undef imports is bound to one of those libraries" \
    || not_ok "$arch: each import bound to a library (unbound: ${unbound:-none}; $n_undef imports)"
done
thin="$TMP/libwsmachine-arm64.dylib"
step "arm64: the ad-hoc code signature matches every page (tests/apple/check_codesign.py)" \
  python3 tests/apple/check_codesign.py "$thin"
cp "$thin" "$TMP/changed.dylib"
printf '\001' | dd of="$TMP/changed.dylib" bs=1 seek=65536 conv=notrunc status=none
if cmp -s "$thin" "$TMP/changed.dylib"; then printf '\002' | dd of="$TMP/changed.dylib" bs=1 seek=65536 conv=notrunc status=none; fi
if python3 tests/apple/check_codesign.py "$TMP/changed.dylib" >"$TMP/control.log" 2>&1; then
  not_ok "control: check_codesign.py rejects a copy with one byte changed"; diag_file "$TMP/control.log"
else
  ok "control: check_codesign.py rejects a copy with one byte changed ($(cat "$TMP/control.log"))"
fi

# ------------------------------------------------------------------ 3. a C program links
{
  echo '#include "wsmachine.h"'
  echo '#include <stdio.h>'
  echo 'static void (*const fns[])(void) = {'
  for f in $HEADER_FUNCS; do echo "  (void (*)(void))$f,"; done
  echo '};'
  echo 'int main(void) {'
  echo '  unsigned n = 0;'
  echo '  for (unsigned i = 0; i < sizeof fns / sizeof fns[0]; i++) n += fns[i] != 0;'
  echo '  printf("%u %s %u\n", ws_abi_version(), ws_version(), n);'
  echo '  return 0;'
  echo '}'
} >"$TMP/every_function.c"
CLANG=(env "SDKROOT=$PWD/$APPLE_SDK_DIR" "WSM_LD64_LLD=$APPLE_LLD" "WSM_LLVM_NM=$NM" "$APPLE_CC" -mlinker-version=705
       -isysroot "$APPLE_SDK_DIR" "-fuse-ld=$PWD/scripts/apple/apple-ld" -Wall -Werror -Idist/include)
PC=(env "PKG_CONFIG_PATH=$PWD/$U/pkgconfig" pkg-config)
# shellcheck disable=SC2207
PC_SHARED=($("${PC[@]}" --cflags --libs wsmachine)) PC_STATIC=($("${PC[@]}" --cflags --libs wsmachine-static))
echo "# pkg-config wsmachine: ${PC_SHARED[*]}"
echo "# pkg-config wsmachine-static: ${PC_STATIC[*]}"
for t in arm64-apple-macos11 x86_64-apple-macos10.14; do
  step "C program using all $n_funcs functions links against the dylib, flags from pkg-config wsmachine ($t)" \
    "${CLANG[@]}" --target=$t "$TMP/every_function.c" "${PC_SHARED[@]}" -o "$TMP/dyn-$t"
  step "... and statically against the universal .a, flags from pkg-config wsmachine-static ($t)" \
    "${CLANG[@]}" --target=$t "$TMP/every_function.c" "${PC_STATIC[@]}" -o "$TMP/static-$t"
  if [ -f "$TMP/static-$t" ]; then
    libs=$("$OBJDUMP" --macho --private-headers "$TMP/static-$t" | awk '/cmd LC_LOAD_DYLIB/ { f = 1 } f && /name/ { print $2; f = 0 }' | grep -vc '^/\(usr/lib\|System/Library/Frameworks\)/')
    [ "$libs" -eq 0 ] && ok "the static program loads only system libraries ($t)" || not_ok "the static program loads only system libraries ($t)"
  fi
done

# CMake: the package's Darwin branch (find_package(wsmachine), shared and static) in a
# C project cross-built for each CPU with a toolchain file for clang-14 and apple-ld.
if command -v cmake >/dev/null 2>&1; then
  mkdir -p "$TMP/cmake"
  cp "$TMP/every_function.c" "$TMP/cmake/"
  cat >"$TMP/cmake/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.13)
project(wsm_apple_cmake C)
find_package(wsmachine 0.1 REQUIRED)
message(STATUS "wsmachine_TRIPLE=${wsmachine_TRIPLE}")
add_executable(every_function every_function.c)
target_link_libraries(every_function PRIVATE wsmachine::wsmachine)
CMAKE
  for arch in arm64 x86_64; do
    t=arm64-apple-macos11; [ "$arch" = x86_64 ] && t=x86_64-apple-macos10.14
    cat >"$TMP/cmake/$arch.cmake" <<TC
set(CMAKE_SYSTEM_NAME Darwin)
set(CMAKE_SYSTEM_PROCESSOR $arch)
set(CMAKE_C_COMPILER $APPLE_CC)
set(CMAKE_C_COMPILER_TARGET $t)
set(CMAKE_OSX_SYSROOT $PWD/$APPLE_SDK_DIR)
set(CMAKE_OSX_ARCHITECTURES $arch)
set(CMAKE_EXE_LINKER_FLAGS_INIT "-fuse-ld=$PWD/scripts/apple/apple-ld -mlinker-version=705")
TC
    for st in OFF ON; do
      b="$TMP/cmake/build-$arch-$st"
      if env "SDKROOT=$PWD/$APPLE_SDK_DIR" "WSM_LD64_LLD=$APPLE_LLD" "WSM_LLVM_NM=$NM" sh -c \
           'cmake -S "$1" -B "$2" -DCMAKE_TOOLCHAIN_FILE="$1/$3.cmake" -DCMAKE_PREFIX_PATH="$4" -DWSMACHINE_STATIC="$5" && cmake --build "$2"' \
           sh "$TMP/cmake" "$b" "$arch" "$PWD/dist" "$st" >"$TMP/cmake-$arch-$st.log" 2>&1 \
         && grep -q 'wsmachine_TRIPLE=universal-apple-darwin' "$TMP/cmake-$arch-$st.log"; then
        libs=$("$OBJDUMP" --macho --private-headers "$b/every_function" | awk '/cmd LC_LOAD_DYLIB/ { f = 1 } f && /name/ { print $2; f = 0 }' | xargs)
        if { [ "$st" = OFF ] && [[ " $libs " == *" @rpath/libwsmachine.dylib "* ]]; } \
           || { [ "$st" = ON ] && [[ " $libs " != *wsmachine* ]] && [[ " $libs " == *Security* ]]; }; then
          ok "CMake find_package(wsmachine), WSMACHINE_STATIC=$st, $arch: links ($libs)"
        else
          not_ok "CMake find_package(wsmachine), WSMACHINE_STATIC=$st, $arch: links the $([ "$st" = ON ] && echo static || echo shared) library (loads: $libs)"
        fi
      else
        not_ok "CMake find_package(wsmachine), WSMACHINE_STATIC=$st, $arch: configure and build"
        diag_file "$TMP/cmake-$arch-$st.log" 30
      fi
    done
  done
else
  echo "SKIPPED: CMake package for macOS: cmake not found"
fi

# ------------------------------------------------------------------ 4. the universal .a
"$OBJDUMP" --macho --universal-headers "$FAT_A" >"$TMP/fat.txt" 2>&1
archs=$(awk '/^architecture/ { print $2 }' "$TMP/fat.txt" | sort | xargs)
[ "$archs" = "arm64 x86_64" ] && ok "$FAT_A: architectures arm64 x86_64" || not_ok "$FAT_A: architectures arm64 x86_64 (got: $archs)"
for arch in arm64 x86_64; do
  t=aarch64-apple-darwin; [ "$arch" = x86_64 ] && t=x86_64-apple-darwin
  "$LIPO" -thin "$arch" -output "$TMP/thin-$arch.a" "$FAT_A" 2>"$TMP/thin.err"
  # apple_clean_staticlib (scripts/lib-apple.sh): one object, only ws_* global.
  members=$("$APPLE_AR" t "$TMP/thin-$arch.a" 2>"$TMP/thin.err" | xargs)
  [ "$members" = wsmachine.o ] && ok "$arch slice of the .a: one object, wsmachine.o (cargo's $t archive: $("$APPLE_AR" t "target/$t/release/libwsmachine.a" | wc -l) members)" \
    || not_ok "$arch slice of the .a: one object, wsmachine.o (got: ${members:-$(head -c 200 "$TMP/thin.err")})"
  check_clean_globals "$arch slice of the .a" "$TMP/thin-$arch.a"
  want=${MACOSX_DEPLOYMENT_TARGET:-10.14}
  [ "$arch" = arm64 ] && [ "$(printf '%s\n' "$want" 11.0 | sort -V | head -n1)" = "$want" ] && want=11.0
  got=$(member_min "$TMP/thin-$arch.a")
  [ "$got" = "macos $want" ] && ok "$arch slice of the .a: platform macos, minimum version $want" \
    || not_ok "$arch slice of the .a: platform macos, minimum version $want (got: ${got:-none})"
done

# ------------------------------------------------------------------ 5. iOS
IOS_ABS=$PWD/$IOS_A
mkdir -p "$TMP/ios" && (cd "$TMP/ios" && "$APPLE_AR" x "$IOS_ABS")
members=$("$APPLE_AR" t "$IOS_A" 2>/dev/null | xargs)
[ "$members" = wsmachine.o ] && ok "$IOS_A: one object, wsmachine.o (cargo's archive: $("$APPLE_AR" t target/aarch64-apple-ios/release/libwsmachine.a | wc -l) members)" \
  || not_ok "$IOS_A: one object, wsmachine.o (got: ${members:-none})"
want=${IPHONEOS_DEPLOYMENT_TARGET:-12.0}
got=$(member_min "$IOS_A")
[ "$got" = "ios $want" ] && ok "$IOS_A: built for iOS, minimum version $want (LC_BUILD_VERSION)" \
  || not_ok "$IOS_A: built for iOS, minimum version $want (got: ${got:-none})"
n_members=$(find "$TMP/ios" -name '*.o' | wc -l)
notarm=$("$OBJDUMP" --macho --private-header "$TMP"/ios/*.o 2>/dev/null | awk '/MH_MAGIC/ && $2 != "ARM64" { print }' | head -n 3)
n_arm=$("$OBJDUMP" --macho --private-header "$TMP"/ios/*.o 2>/dev/null | awk '/MH_MAGIC/ && $2 == "ARM64"' | wc -l)
[ "$n_members" -gt 0 ] && [ "$n_arm" -eq "$n_members" ] && [ -z "$notarm" ] && ok "$IOS_A: all members are arm64" \
  || not_ok "$IOS_A: all members are arm64 ($n_arm of $n_members; other: ${notarm:-none})"
check_clean_globals "$IOS_A" "$IOS_A"

# ------------------------------------------------------------------ 6. with a second Rust library
# The issue's test: one C program (tests/native/two_rust_libs.c) linked with the clean
# library and a second, independent Rust static library (tests/native/otherlib, its
# own copy of Rust's standard library), both force-loaded (-all_load, as Xcode's
# "Other Linker Flags" often has it). It links with the clean slices; cargo's archive
# in its place must fail (duplicate symbols): the control. Linked only, never run.
# Each library's code must unwind through its own rust_eh_personality: the CIEs of the
# program's __eh_frame (where Rust's landing pads are described) name two personality
# functions, ours renamed (tests/apple/eh_personalities.py).
step_otherlib() { # TRIPLE: tests/native/otherlib for it, into target/otherlib/TRIPLE/release
  env MACOSX_DEPLOYMENT_TARGET="${MACOSX_DEPLOYMENT_TARGET:-10.14}" IPHONEOS_DEPLOYMENT_TARGET="${IPHONEOS_DEPLOYMENT_TARGET:-12.0}" \
    CARGO_TARGET_DIR="$PWD/target/otherlib" cargo build --release --quiet \
    --manifest-path tests/native/otherlib/Cargo.toml --target "$1"
}
SYSLIBS=(-framework Security -framework CoreFoundation -liconv)
# For iOS: the stand-in SDK's libSystem and libiconv stubs list macOS only; a copy
# lists arm64-ios too (scripts/apple/apple-ld writes iOS framework stubs for
# -platform_version ios). Test programs only: the release builds link no iOS executable.
IOS_SDK=$TMP/ios-sdk
mkdir -p "$IOS_SDK/usr/lib" && ln -s "$PWD/$APPLE_SDK_DIR/usr/include" "$IOS_SDK/usr/include"
for f in libSystem libiconv; do
  sed 's/arm64-macos/arm64-macos, arm64-ios/g' "$APPLE_SDK_DIR/usr/lib/$f.tbd" >"$IOS_SDK/usr/lib/$f.tbd"
done
CLANG_IOS=(env "SDKROOT=$IOS_SDK" "WSM_LD64_LLD=$APPLE_LLD" "WSM_LLVM_NM=$NM" "$APPLE_CC" -mlinker-version=705
           -isysroot "$IOS_SDK" "-fuse-ld=$PWD/scripts/apple/apple-ld" -Wall -Werror -Idist/include)
for arch in arm64 x86_64 ios; do
  t=aarch64-apple-darwin tt=arm64-apple-macos11 lib=$TMP/thin-$arch.a cc=("${CLANG[@]}")
  [ "$arch" = x86_64 ] && t=x86_64-apple-darwin tt=x86_64-apple-macos10.14
  [ "$arch" = ios ] && t=aarch64-apple-ios tt=arm64-apple-ios${IPHONEOS_DEPLOYMENT_TARGET:-12.0} lib=$IOS_A cc=("${CLANG_IOS[@]}")
  other=target/otherlib/$t/release/libotherlib.a
  step "build tests/native/otherlib for $t" step_otherlib $t || continue
  if step "$arch: two_rust_libs.c links with the clean library and libotherlib.a, both -all_load ($tt)" \
       "${cc[@]}" --target=$tt tests/native/two_rust_libs.c -Wl,-all_load "$lib" "$other" "${SYSLIBS[@]}" -o "$TMP/two-$arch"; then
    "$NM" "$TMP/two-$arch" >"$TMP/two-$arch.nm" 2>&1
    pers=$(python3 tests/apple/eh_personalities.py "$TMP/two-$arch" "$TMP/two-$arch.nm" 2>&1 | xargs)
    [ "$pers" = "___wsm_rust_eh_personality _rust_eh_personality" ] \
      && ok "$arch: its __eh_frame names two personality functions, ours renamed ($pers; tests/apple/eh_personalities.py)" \
      || not_ok "$arch: its __eh_frame names two personality functions, ours renamed (got: ${pers:-none})"
  fi
  if "${cc[@]}" --target=$tt tests/native/two_rust_libs.c -Wl,-all_load "target/$t/release/libwsmachine.a" "$other" "${SYSLIBS[@]}" \
       -o "$TMP/two-unclean-$arch" >"$TMP/unclean-$arch.log" 2>&1; then
    not_ok "control ($arch): cargo's libwsmachine.a + libotherlib.a fails to link (it linked: the test cannot tell)"
  elif grep -q 'duplicate symbol' "$TMP/unclean-$arch.log"; then
    ok "control ($arch): cargo's libwsmachine.a + libotherlib.a fails ($(grep -c 'duplicate symbol' "$TMP/unclean-$arch.log") duplicate symbols, lld's error limit; the first: $(grep -m1 -o 'duplicate symbol: [^ ]*' "$TMP/unclean-$arch.log" | cut -d' ' -f3))"
  else
    not_ok "control ($arch): the unclean link failed for another reason"; diag_file "$TMP/unclean-$arch.log" 10
  fi
done
finish
