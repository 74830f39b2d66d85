#!/usr/bin/env bash
# Builds the release artifacts for every platform this machine can build, lays them
# out in dist/, and prints a table of what was built and what was SKIPPED (and why).
#
#   scripts/build-release.sh                       # everything buildable here
#   scripts/build-release.sh linux-x86_64 windows-x86_64   # only these platforms
#   WSM_STRIP=0 scripts/build-release.sh           # keep debug info in dist/
#
# Platforms (docs/PLATFORMS.md has the support matrix and the commands per SDK):
#   linux-x86_64    host cargo build (Linux x86_64 only)             .so + .a
#   windows-x86_64  x86_64-pc-windows-gnu, x86_64-w64-mingw32-gcc     .dll + import lib + .def
#   linux-arm64     aarch64-unknown-linux-gnu, aarch64-linux-gnu-gcc  .so + .a
#   android-arm64, android-armv7
#                   aarch64-linux-android / armv7-linux-androideabi, with the Android
#                   NDK ($ANDROID_NDK_HOME or $ANDROID_NDK_ROOT)       .so
#   ios-arm64       aarch64-apple-ios                                .a
#   macos           aarch64- and x86_64-apple-darwin                 universal .dylib (Unity
#                   and C/C++) and universal .a
#                   Apple: with Xcode on macOS; on Linux with Debian's clang-14, lld-14
#                   and llvm-14 and PyPI's ziglang (its Apple libc headers and libSystem
#                   stub; scripts/lib-apple.sh). scripts/test-apple.sh checks them.
#   windows-arm64   aarch64-pc-windows-gnullvm with llvm-mingw        .dll
# A platform is SKIPPED, with the reason, when its Rust target cannot be added
# (rustup target add) or its C toolchain is missing: ring compiles C and assembly
# for the target, so every target needs a C compiler (and sysroot) for it. The
# Android, Windows ARM64 and Apple-with-Xcode branches cannot run on this Debian machine
# and are untested; docs/PLATFORMS.md has the same commands by hand.
#
# Every build is `cargo build --release --target <triple>` (the host's without
# --target, so it is the same build scripts/test-c.sh uses): repeated runs are no-ops,
# and scripts/test-cross.sh reuses them. A cold build takes ~1-2 min per target on
# 2 cores.
#
# dist/ (gitignored; rebuilt from scratch on every run):
#   include/wsmachine.h
#   Plugins/...        exactly the paths of bindings/csharp/Plugins/ (the Unity package,
#                      whose .meta files hold the import settings), so
#                      `cp -r dist/Plugins bindings/csharp/` installs them there:
#       Linux/x86_64/libwsmachine.so          Linux/arm64/libwsmachine.so
#       Windows/x86_64/wsmachine.dll          Windows/arm64/wsmachine.dll
#       macOS/libwsmachine.dylib              (universal: arm64 + x86_64)
#       Android/arm64-v8a/libwsmachine.so     Android/armeabi-v7a/libwsmachine.so
#       iOS/libwsmachine.a
#   lib/<rust-triple>/ for C/C++ linking: static libraries (.a; on Linux and Windows
#                      only the ws_* symbols are global, see scripts/lib-native.sh); on Linux
#                      libwsmachine.so.0.1.0 with the .so.0 (SONAME) and .so symlinks;
#                      for Windows the import library libwsmachine.dll.a and
#                      wsmachine.def; pkgconfig/wsmachine{,-static}.pc;
#                      lib/universal-apple-darwin/: macOS libwsmachine.dylib and .a
#   include/wsmachine.hpp  the C++17 wrapper
#   lib/cmake/wsmachine/   wsmachineConfig.cmake (+ version file): find_package(wsmachine)
#   lib/pkgconfig/     wsmachine.pc and wsmachine-static.pc for Linux x86_64
#   com.wsmachine.websocket-<version>.tgz
#                      the Unity package with every binary in Plugins/ above and only
#                      their .meta files, plus the Echo sample (scripts/pack-unity.sh;
#                      Unity: Package Manager, "Add package from tarball")
#   LICENSE.md         wsmachine's license (MIT OR Apache-2.0)
#   THIRD-PARTY-NOTICES.md  the licenses of the Rust crates compiled into the library
#                      (bindings/csharp/Third Party Notices.md, scripts/gen-notices.py)
#   BUILDINFO.txt      versions, and the SHA-256 of every file
# The libraries in dist/ have their debug info stripped (`strip --strip-debug`;
# symbols stay) where this machine has the target's strip; WSM_STRIP=0 keeps it.
#
# Exit status: 0 when everything that was attempted was built (SKIPPED is not a
# failure), 1 when a build failed, 2 on bad usage.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TERM_COLOR=never

ALL_PLATFORMS="linux-x86_64 windows-x86_64 linux-arm64 android-arm64 android-armv7 ios-arm64 macos windows-arm64"
WANT="${*:-$ALL_PLATFORMS}"
for p in $WANT; do
  [[ " $ALL_PLATFORMS " == *" $p "* ]] || { echo "unknown platform '$p' (known: $ALL_PLATFORMS)" >&2; exit 2; }
done

DIST=dist
STRIP_DEBUG="${WSM_STRIP:-1}"
ANDROID_API="${WSM_ANDROID_API:-21}"
ROWS=()      # "platform|artifact|STATUS|detail"
N_FAILED=0
T_ALL=$SECONDS
LOG_DIR="target/build-release-logs"
mkdir -p "$LOG_DIR"

row() { ROWS+=("$1|$2|$3|$4"); }
skipped() { # PLATFORM REASON
  echo "SKIPPED: $1: $2"
  row "$1" "-" SKIPPED "$2"
}
failed() { # PLATFORM WHAT LOG
  echo "FAILED: $1: $2 (log: $3)"
  [ -f "$3" ] && tail -n 25 "$3" | sed 's/^/#   /'
  row "$1" "-" FAILED "$2 (log: $3)"
  N_FAILED=$((N_FAILED + 1))
}
human_size() { numfmt --to=iec --suffix=B "$(stat -c %s "$1")" 2>/dev/null || stat -c %s "$1"; }

# install_artifact PLATFORM SRC DEST [STRIP_TOOL]: copies (and strips) one file.
install_artifact() {
  local platform=$1 src=$2 dest=$3 strip_tool=${4:-}
  mkdir -p "$(dirname "$dest")"
  cp "$src" "$dest"
  if [ "$STRIP_DEBUG" != 0 ] && [ -n "$strip_tool" ]; then
    "$strip_tool" --strip-debug "$dest" || { failed "$platform" "$strip_tool --strip-debug $dest" /dev/null; return 1; }
  fi
  row "$platform" "${dest#"$DIST"/}" BUILT "$(human_size "$dest")"
}

installed_targets=$(rustup target list --installed 2>/dev/null || true)
# need_target PLATFORM TRIPLE: the Rust standard library for TRIPLE, added if missing.
need_target() {
  local platform=$1 t=$2 out
  [[ $'\n'"$installed_targets"$'\n' == *$'\n'"$t"$'\n'* ]] && return 0
  command -v rustup >/dev/null || { skipped "$platform" "rust target $t not installed and no rustup"; return 1; }
  echo "# rustup target add $t"
  if out=$(rustup target add "$t" 2>&1); then
    installed_targets="$installed_targets"$'\n'"$t"
    return 0
  fi
  skipped "$platform" "rustup target add $t failed: $(printf '%s\n' "$out" | grep -iE 'error' | head -n1)"
  return 1
}
# need_tool PLATFORM TOOL WHY
need_tool() {
  command -v "$2" >/dev/null 2>&1 && return 0
  skipped "$1" "$2 not found ($3)"
  return 1
}

# cargo_build PLATFORM TRIPLE|host [ENV=VALUE...]: release build of the library.
cargo_build() {
  local platform=$1 triple=$2; shift 2
  local log="$LOG_DIR/$platform.log" t0=$SECONDS args=(build --release --lib)
  [ "$triple" != host ] && args+=(--target "$triple")
  echo "# $platform: cargo ${args[*]}"
  if env "$@" cargo "${args[@]}" >"$log" 2>&1; then
    echo "# $platform: built in $((SECONDS - t0)) s"
    return 0
  fi
  failed "$platform" "cargo ${args[*]}" "$log"
  return 1
}

want() { [[ " $WANT " == *" $1 "* ]]; }

# C and C++ packaging (clean static libraries, SONAME links, CMake, pkg-config).
# shellcheck source=scripts/lib-native.sh
. scripts/lib-native.sh
WSM_VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)

rm -rf "$DIST"
mkdir -p "$DIST/include" "$DIST/Plugins" "$DIST/lib"
cp include/wsmachine.h "$DIST/include/"
row all include/wsmachine.h BUILT "$(human_size include/wsmachine.h)"
# The licenses of the crates compiled into the library (scripts/gen-notices.py), next to
# the binaries they cover; the Unity package carries the same file.
cp "bindings/csharp/Third Party Notices.md" "$DIST/THIRD-PARTY-NOTICES.md"
cp bindings/csharp/LICENSE.md "$DIST/LICENSE.md"

HOST_TRIPLE=$(rustc -vV | sed -n 's/^host: //p')

# ------------------------------------------------------------------ Linux x86_64 (host)
if want linux-x86_64; then
  P=linux-x86_64
  if [ "$HOST_TRIPLE" != x86_64-unknown-linux-gnu ]; then
    skipped $P "host is $HOST_TRIPLE (build on Linux x86_64, or add a cross linker)"
  elif cargo_build $P host; then
    install_artifact $P target/release/libwsmachine.so "$DIST/Plugins/Linux/x86_64/libwsmachine.so" strip
    native_install_linux $P x86_64-unknown-linux-gnu "" target/release
  fi
fi

# ------------------------------------------------------------------ Windows x86_64 (mingw-w64)
if want windows-x86_64; then
  P=windows-x86_64 T=x86_64-pc-windows-gnu
  if need_tool $P x86_64-w64-mingw32-gcc "Debian: apt-get install gcc-mingw-w64-x86-64; ring needs it for C and as the linker" \
     && need_target $P $T \
     && cargo_build $P $T; then
    O=target/$T/release
    install_artifact $P $O/wsmachine.dll "$DIST/Plugins/Windows/x86_64/wsmachine.dll" x86_64-w64-mingw32-strip
    install_artifact $P $O/libwsmachine.dll.a "$DIST/lib/$T/libwsmachine.dll.a"
    native_install_windows $P $T $O
    # A module-definition file from the DLL's export table: MSVC users make an import
    # library from it with `lib /def:wsmachine.def /machine:x64 /out:wsmachine.lib`.
    def="$DIST/lib/$T/wsmachine.def"
    { echo "LIBRARY wsmachine.dll"; echo "EXPORTS"
      x86_64-w64-mingw32-objdump -p $O/wsmachine.dll \
        | sed -n '/^\[Ordinal\/Name Pointer\] Table/,/^$/p' | sed -n 's/^\s*\[ *[0-9]*\] \(.*\)$/    \1/p'
    } >"$def"
    if [ "$(grep -c '^    ws_' "$def")" -gt 0 ]; then
      row $P "${def#"$DIST"/}" BUILT "$(grep -c '^    ws_' "$def") exports"
    else
      failed $P "no exports read from wsmachine.dll for $def" /dev/null
    fi
  fi
fi

# ------------------------------------------------------------------ Linux aarch64
if want linux-arm64; then
  P=linux-arm64 T=aarch64-unknown-linux-gnu
  if need_tool $P aarch64-linux-gnu-gcc "Debian: apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross" \
     && need_target $P $T \
     && cargo_build $P $T CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc \
          CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc AR_aarch64_unknown_linux_gnu=aarch64-linux-gnu-ar; then
    O=target/$T/release
    install_artifact $P $O/libwsmachine.so "$DIST/Plugins/Linux/arm64/libwsmachine.so" aarch64-linux-gnu-strip
    native_install_linux $P $T aarch64-linux-gnu- $O
  fi
fi

# ------------------------------------------------------------------ Android (NDK)
NDK="${ANDROID_NDK_HOME:-${ANDROID_NDK_ROOT:-}}"
NDK_BIN=""
[ -n "$NDK" ] && NDK_BIN=$(ls -d "$NDK"/toolchains/llvm/prebuilt/*/bin 2>/dev/null | head -n1)
build_android() { # PLATFORM TRIPLE CLANG_PREFIX ABI
  local p=$1 t=$2 clang="$NDK_BIN/$3$ANDROID_API-clang" abi=$4 up
  if [ -z "$NDK" ]; then
    skipped "$p" "no Android NDK: ANDROID_NDK_HOME/ANDROID_NDK_ROOT unset (the NDK is not in Debian's apt; ring needs the NDK's clang and bionic sysroot, the .so its linker)"
    return
  fi
  [ -x "$clang" ] || { skipped "$p" "$clang not found (NDK r23+ layout expected)"; return; }
  need_target "$p" "$t" || return
  up=$(echo "$t" | tr 'a-z-' 'A-Z_')
  # max-page-size=16384: Android 15+ devices with 16 KB pages (Google Play requires it).
  cargo_build "$p" "$t" "CARGO_TARGET_${up}_LINKER=$clang" "CC_${t//-/_}=$clang" "AR_${t//-/_}=$NDK_BIN/llvm-ar" \
    "CARGO_TARGET_${up}_RUSTFLAGS=-C link-arg=-Wl,-z,max-page-size=16384" || return
  install_artifact "$p" "target/$t/release/libwsmachine.so" "$DIST/Plugins/Android/$abi/libwsmachine.so" "$NDK_BIN/llvm-strip"
}
want android-arm64 && build_android android-arm64 aarch64-linux-android aarch64-linux-android arm64-v8a
want android-armv7 && build_android android-armv7 armv7-linux-androideabi armv7a-linux-androideabi armeabi-v7a

# ------------------------------------------------------------------ Apple
# With Xcode (macOS, xcrun finds the SDK): Xcode's tools. Elsewhere: Debian's clang-14
# and ld64.lld-14 with the stand-in SDK of scripts/lib-apple.sh (ziglang's headers and
# libSystem stub; no Apple SDK, so the dylibs are linked and checked, never run, here).
# shellcheck source=scripts/lib-apple.sh
. scripts/lib-apple.sh
xcode_sdk() { command -v xcrun >/dev/null 2>&1 && xcrun --sdk "$1" --show-sdk-path >/dev/null 2>&1; }
# Minimum OS versions: macOS 10.14 because rustls-platform-verifier calls
# SecTrustEvaluateWithError (10.14; Rust does not weak-link, so an older macOS could not
# load the dylib); arm64 starts at 11.0 anyway. iOS 12.0: the same function, and
# Unity 2021.3's minimum. No debug info: the dylib gets none anyway (scripts/apple/apple-ld
# links with -S), and it builds faster.
APPLE_MODE="" APPLE_WHY=""
APPLE_ENV=("MACOSX_DEPLOYMENT_TARGET=${MACOSX_DEPLOYMENT_TARGET:-10.14}"
           "IPHONEOS_DEPLOYMENT_TARGET=${IPHONEOS_DEPLOYMENT_TARGET:-12.0}"
           "CARGO_PROFILE_RELEASE_DEBUG=${WSM_APPLE_DEBUG:-0}")
if want ios-arm64 || want macos; then
  if xcode_sdk macosx; then
    APPLE_MODE=xcode
  else
    APPLE_WHY=$(apple_missing)
    if [ -n "$APPLE_WHY" ]; then
      APPLE_WHY="no Xcode (xcrun) and missing for the Linux build (scripts/lib-apple.sh):$APPLE_WHY"
    elif apple_make_sdk >"$LOG_DIR/apple-sdk.log" 2>&1; then
      APPLE_MODE=llvm
      mapfile -t -O "${#APPLE_ENV[@]}" APPLE_ENV < <(apple_env)
    else
      APPLE_WHY="scripts/apple/sdk.py sdk failed: $(tail -n1 "$LOG_DIR/apple-sdk.log")"
    fi
  fi
fi
if want ios-arm64; then
  P=ios-arm64 T=aarch64-apple-ios
  if [ -z "$APPLE_MODE" ]; then
    skipped $P "$APPLE_WHY"
  elif [ "$APPLE_MODE" = xcode ] && ! xcode_sdk iphoneos; then
    skipped $P "no iPhoneOS SDK in Xcode (xcrun --sdk iphoneos)"
  elif need_target $P $T; then
    # Only the static library: Unity links it into the player with "__Internal".
    log="$LOG_DIR/$P.log" t0=$SECONDS
    echo "# $P: cargo rustc --release --lib --target $T --crate-type staticlib"
    if env "${APPLE_ENV[@]}" cargo rustc --release --lib --target $T --crate-type staticlib >"$log" 2>&1; then
      echo "# $P: built in $((SECONDS - t0)) s"
      if [ "$APPLE_MODE" = xcode ]; then
        install_artifact $P target/$T/release/libwsmachine.a "$DIST/Plugins/iOS/libwsmachine.a"
      else
        # Symbol-clean: one object, only ws_* global (apple_clean_staticlib,
        # scripts/lib-apple.sh); llvm-strip -S: any debug info left.
        S="target/apple-clean"
        if apple_clean_staticlib target/$T/release/libwsmachine.a "$S/$T.a" \
             "aarch64-ios.${IPHONEOS_DEPLOYMENT_TARGET:-12.0}" >"$LOG_DIR/$P-clean.log" 2>&1; then
          install_artifact $P "$S/$T.a" "$DIST/Plugins/iOS/libwsmachine.a" "$APPLE_STRIP" \
            && echo "# $P: clean static library: $(tail -n1 "$LOG_DIR/$P-clean.log")"
        else
          failed $P "apple_clean_staticlib $T (scripts/lib-apple.sh)" "$LOG_DIR/$P-clean.log"
        fi
      fi
    else
      failed $P "cargo rustc --target $T --crate-type staticlib" "$log"
    fi
  fi
fi
if want macos; then
  P=macos
  log="$LOG_DIR/$P.log" t0=$SECONDS
  if [ -z "$APPLE_MODE" ]; then
    skipped $P "$APPLE_WHY"
  elif need_target $P aarch64-apple-darwin && need_target $P x86_64-apple-darwin; then
    # Both CPUs in one cargo run (their crates compile side by side).
    echo "# $P: cargo build --release --lib --target aarch64-apple-darwin --target x86_64-apple-darwin"
    if env "${APPLE_ENV[@]}" cargo build --release --lib --target aarch64-apple-darwin --target x86_64-apple-darwin \
         >"$log" 2>&1; then
      echo "# $P: built in $((SECONDS - t0)) s"
      if [ "$APPLE_MODE" = xcode ]; then LIPO=(lipo -create -output); else LIPO=("$APPLE_LIPO" -create -output); fi
      U="$DIST/lib/universal-apple-darwin"
      mkdir -p "$U" "$DIST/Plugins/macOS"
      # One universal dylib, for C/C++ and for Unity: two same-named per-CPU dylibs in
      # a Unity package collide in a Universal macOS player build. Not stripped after
      # the link: that would break the arm64 code signature (the Linux link writes no
      # debug map instead, see scripts/apple/apple-ld).
      if "${LIPO[@]}" "$U/libwsmachine.dylib" target/aarch64-apple-darwin/release/libwsmachine.dylib \
           target/x86_64-apple-darwin/release/libwsmachine.dylib; then
        row $P "lib/universal-apple-darwin/libwsmachine.dylib" BUILT "$(human_size "$U/libwsmachine.dylib") (arm64+x86_64)"
        install_artifact $P "$U/libwsmachine.dylib" "$DIST/Plugins/macOS/libwsmachine.dylib"
      else
        failed $P "lipo -create libwsmachine.dylib" /dev/null
      fi
      # The static library. Linux build: per CPU one symbol-clean object, only ws_*
      # global (apple_clean_staticlib, scripts/lib-apple.sh), llvm-strip -S, in one fat
      # file (scripts/apple/sdk.py fat; llvm-lipo 14 cannot read cargo's archives, whose
      # members carry LLVM 22 bitcode). Xcode: cargo's archives (Rust symbols global).
      S="target/apple-clean" clean_note="only ws_* global" diag_log=""
      if [ "$APPLE_MODE" = xcode ]; then
        clean_note="Rust symbols global"
        lipo -create -output "$U/libwsmachine.a" target/aarch64-apple-darwin/release/libwsmachine.a \
          target/x86_64-apple-darwin/release/libwsmachine.a
      else
        mac_min=${MACOSX_DEPLOYMENT_TARGET:-10.14}
        arm_min=$(printf '%s\n' "$mac_min" 11.0 | sort -V | tail -n1)
        apple_clean_staticlib target/aarch64-apple-darwin/release/libwsmachine.a "$S/aarch64-apple-darwin.a" \
            "aarch64-macos.$arm_min" >"$LOG_DIR/$P-clean.log" 2>&1 \
          && apple_clean_staticlib target/x86_64-apple-darwin/release/libwsmachine.a "$S/x86_64-apple-darwin.a" \
            "x86_64-macos.$mac_min" >>"$LOG_DIR/$P-clean.log" 2>&1 \
          && { [ "$STRIP_DEBUG" = 0 ] || "$APPLE_STRIP" -S "$S/aarch64-apple-darwin.a" "$S/x86_64-apple-darwin.a"; } \
          && python3 scripts/apple/sdk.py fat "$U/libwsmachine.a" arm64="$S/aarch64-apple-darwin.a" x86_64="$S/x86_64-apple-darwin.a" \
          && sed 's/^/# macos: clean static library: /' "$LOG_DIR/$P-clean.log" \
          || { diag_log="$LOG_DIR/$P-clean.log"; false; }
      fi && native_pkgconfig "$DIST" universal-apple-darwin "$U/pkgconfig" "$WSM_VERSION" \
         && row $P "lib/universal-apple-darwin/pkgconfig/wsmachine{,-static}.pc" BUILT "pkg-config" \
         && row $P "lib/universal-apple-darwin/libwsmachine.a" BUILT "$(human_size "$U/libwsmachine.a") (arm64+x86_64; $clean_note)" \
         || failed $P "universal libwsmachine.a (apple_clean_staticlib, scripts/lib-apple.sh)" "${diag_log:-/dev/null}"
    else
      failed $P "cargo build --target aarch64-apple-darwin --target x86_64-apple-darwin" "$log"
    fi
  fi
fi

# ------------------------------------------------------------------ Windows ARM64
if want windows-arm64; then
  P=windows-arm64 T=aarch64-pc-windows-gnullvm
  if ! command -v aarch64-w64-mingw32-clang >/dev/null 2>&1; then
    skipped $P "no ARM64 Windows C toolchain: aarch64-pc-windows-msvc needs Visual Studio's ARM64 build tools (and clang for ring) on Windows; aarch64-pc-windows-gnullvm needs llvm-mingw (aarch64-w64-mingw32-clang), not packaged in Debian 12"
  elif need_target $P $T \
       && cargo_build $P $T CARGO_TARGET_AARCH64_PC_WINDOWS_GNULLVM_LINKER=aarch64-w64-mingw32-clang \
            CC_aarch64_pc_windows_gnullvm=aarch64-w64-mingw32-clang AR_aarch64_pc_windows_gnullvm=llvm-ar; then
    install_artifact $P target/$T/release/wsmachine.dll "$DIST/Plugins/Windows/arm64/wsmachine.dll"
    install_artifact $P target/$T/release/libwsmachine.dll.a "$DIST/lib/$T/libwsmachine.dll.a"
  fi
fi

# ------------------------------------------------------------------ C/C++ packages
native_finish

# ------------------------------------------------------------------ Unity package tarball
# Every binary built above, with its import settings (scripts/pack-unity.sh).
if pack_out=$(bash scripts/pack-unity.sh 2>&1); then
  tgz=$(printf '%s\n' "$pack_out" | tail -n1)
  row unity "${tgz#"$DIST"/}" BUILT "$(human_size "$tgz"); $(printf '%s\n' "$pack_out" | sed -n 's/^packed //p')"
else
  printf '%s\n' "$pack_out" | sed 's/^/#   /'
  failed unity "scripts/pack-unity.sh" /dev/null
fi

# ------------------------------------------------------------------ BUILDINFO, table
{
  echo "wsmachine $(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)"
  echo "git: $(git describe --always --dirty 2>/dev/null || echo unknown)"
  echo "rustc: $(rustc --version)"
  echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $HOST_TRIPLE; debug info $([ "$STRIP_DEBUG" != 0 ] && echo stripped || echo kept)"
  echo
  echo "sha256:"
  (cd "$DIST" && find . -type f ! -name BUILDINFO.txt | sort | sed 's|^\./||' | xargs -r sha256sum)
} >"$DIST/BUILDINFO.txt"

echo
printf '%-16s %-52s %-8s %s\n' PLATFORM ARTIFACT STATUS DETAIL
for r in "${ROWS[@]}"; do
  IFS='|' read -r p a s d <<<"$r"
  printf '%-16s %-52s %-8s %s\n' "$p" "$a" "$s" "$d"
done
n_built=0 n_skipped=0
for r in "${ROWS[@]}"; do
  case "$r" in *"|BUILT|"*) n_built=$((n_built + 1)) ;; *"|SKIPPED|"*) n_skipped=$((n_skipped + 1)) ;; esac
done
echo
echo "dist/: $n_built artifacts built, $n_skipped platforms skipped, $N_FAILED failed ($((SECONDS - T_ALL)) s)"
[ "$N_FAILED" -eq 0 ]
