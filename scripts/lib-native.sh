# shellcheck shell=bash
# Packaging for native C and C++ users, sourced by scripts/build-release.sh (issue 15).
# Kept apart from the per-platform builds there: these functions only post-process
# what the builds produced.
#
#   native_clean_staticlib IN.a OUT.a TOOLPREFIX  symbol-clean static library (ELF)
#   native_solib DIR SRC.so                       libwsmachine.so.X.Y.Z + .so.0 + .so
#   native_cmake_package DIST VERSION             lib/cmake/wsmachine/*.cmake
#   native_pkgconfig DIST TRIPLE PCDIR            wsmachine.pc + wsmachine-static.pc
#
# The system libraries each static library needs are what
# `cargo rustc --release --lib --crate-type staticlib -- --print native-static-libs`
# prints for the target (without -lc; scripts/test-native.sh links with exactly these).
WSM_LINUX_STATIC_DEPS="pthread dl m rt util gcc_s"
WSM_WINDOWS_STATIC_DEPS="ws2_32 userenv bcrypt advapi32 kernel32 ntdll dbghelp"

# native_clean_staticlib IN.a OUT.a TOOLPREFIX
#
# A Rust static library carries a whole Rust standard library (rust_eh_personality,
# __rust_alloc, core::fmt, ...) as global symbols, so a second Rust static library in
# the same program collides with it ("multiple definition" under --whole-archive,
# Xcode's -all_load, or any link that pulls both copies), or, worse, silently mixes
# the two runtimes. The clean archive holds ONE relocatable object in which only the
# ws_* functions stay global:
#   1. ld -r --whole-archive: every member into one object, so the library's internal
#      references are resolved inside it;
#   2. objcopy --remove-section .llvmbc/.llvmcmd: the embedded LLVM bitcode of the
#      members, concatenated by ld -r into something no LLVM can read (GNU nm and ld
#      with Debian's LLVMgold plugin abort on it: "LLVM ERROR: Invalid encoding");
#   3. objcopy --redefine-syms: every other defined global gets the prefix __wsm_.
#      Localising alone is not enough: comdat groups such as
#      DW.ref.rust_eh_personality are merged by name across objects, so the other
#      library's reference ends up at our (now local) copy and the link fails
#      ("relocation ... against undefined hidden symbol `DW.ref.rust_eh_personality'");
#   4. objcopy --keep-global-symbols: all but ws_* made local.
# Undefined references (libc, libgcc_s's unwinder) stay as they are.
# ELF only: a Windows GNU static library also holds import stubs with duplicate
# member names (bcryptprimitives.dlls*.o), which ld -r rejects (docs/PLATFORMS.md).
native_clean_staticlib() {
  local in=$1 out=$2 pre=${3:-} tmp rc=0
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/wsm-clean.XXXXXX")
  {
    "${pre}ld" -r --whole-archive "$in" -o "$tmp/all.o" &&
    "${pre}objcopy" --remove-section=.llvmbc --remove-section=.llvmcmd "$tmp/all.o" "$tmp/nobc.o" &&
    "${pre}nm" -g --defined-only "$tmp/nobc.o" | awk 'NF == 3 && $3 !~ /^ws_/ { print $3 " __wsm_" $3 }' \
      | sort -u >"$tmp/rename.txt" &&
    "${pre}nm" -g --defined-only "$tmp/nobc.o" | awk 'NF == 3 && $3 ~ /^ws_/ { print $3 }' >"$tmp/keep.txt" &&
    [ -s "$tmp/keep.txt" ] &&
    "${pre}objcopy" --redefine-syms="$tmp/rename.txt" "$tmp/nobc.o" "$tmp/renamed.o" &&
    "${pre}objcopy" --keep-global-symbols="$tmp/keep.txt" "$tmp/renamed.o" "$tmp/wsmachine.o" &&
    rm -f "$out" && mkdir -p "$(dirname "$out")" && "${pre}ar" rcs "$out" "$tmp/wsmachine.o"
  } || rc=1
  rm -rf "$tmp"
  return $rc
}

# native_solib DIR SRC.so VERSION: the versioned file and the usual symlinks.
native_solib() {
  local dir=$1 src=$2 version=$3
  mkdir -p "$dir"
  cp "$src" "$dir/libwsmachine.so.$version"
  ln -sf "libwsmachine.so.$version" "$dir/libwsmachine.so.0"
  ln -sf libwsmachine.so.0 "$dir/libwsmachine.so"
}

# native_pkgconfig DIST TRIPLE PCDIR VERSION: two pkg-config files, relocatable
# through ${pcfiledir}: wsmachine.pc (the shared library) and wsmachine-static.pc
# (the static library by its path, with its system libraries).
native_pkgconfig() {
  local dist=$1 triple=$2 pcdir=$3 version=$4 rel deps shared_libs
  mkdir -p "$pcdir"
  # ${pcfiledir} -> dist/: lib/pkgconfig or lib/<triple>/pkgconfig
  case "$pcdir" in
    "$dist/lib/pkgconfig") rel='${pcfiledir}/../..' ;;
    *) rel='${pcfiledir}/../../..' ;;
  esac
  case "$triple" in
    *windows*) deps=$WSM_WINDOWS_STATIC_DEPS ;;
    *) deps=$WSM_LINUX_STATIC_DEPS ;;
  esac
  shared_libs='-L${libdir} -lwsmachine'
  for f in wsmachine wsmachine-static; do
    {
      echo "prefix=$rel"
      echo "includedir=\${prefix}/include"
      echo "libdir=\${prefix}/lib/$triple"
      echo
      echo "Name: $f"
      if [ "$f" = wsmachine ]; then
        echo "Description: sans-IO secure WebSocket client for game engines (shared library)"
        echo "Version: $version"
        echo "Cflags: -I\${includedir}"
        echo "Libs: $shared_libs"
      else
        echo "Description: sans-IO secure WebSocket client for game engines (static library)"
        echo "Version: $version"
        echo "Cflags: -I\${includedir}"
        echo "Libs: \${libdir}/libwsmachine.a$(printf ' -l%s' $deps)"
      fi
    } >"$pcdir/$f.pc"
  done
}

# native_cmake_package DIST VERSION: wsmachineConfig.cmake and its version file.
native_cmake_package() {
  local dist=$1 version=$2 d="$1/lib/cmake/wsmachine"
  mkdir -p "$d"
  sed "s/@WSM_VERSION@/$version/g; s/@WSM_LINUX_DEPS@/$WSM_LINUX_STATIC_DEPS/; s/@WSM_WINDOWS_DEPS@/$WSM_WINDOWS_STATIC_DEPS/" \
    scripts/cmake/wsmachineConfig.cmake.in >"$d/wsmachineConfig.cmake"
  sed "s/@WSM_VERSION@/$version/g" scripts/cmake/wsmachineConfigVersion.cmake.in >"$d/wsmachineConfigVersion.cmake"
}

# ---- called by build-release.sh (uses its row/failed/human_size/STRIP_DEBUG) ----

# native_install_linux PLATFORM TRIPLE TOOLPREFIX RELEASE_DIR: into dist/lib/TRIPLE/
# the clean static library and the versioned shared library with its symlinks, plus
# lib/TRIPLE/pkgconfig/.
native_install_linux() {
  local p=$1 triple=$2 pre=$3 rel=$4 d="$DIST/lib/$2" f
  if native_clean_staticlib "$rel/libwsmachine.a" "$d/libwsmachine.a" "$pre"; then
    [ "$STRIP_DEBUG" != 0 ] && "${pre}strip" --strip-debug "$d/libwsmachine.a"
    row "$p" "lib/$triple/libwsmachine.a" BUILT "$(human_size "$d/libwsmachine.a") (only ws_* global)"
  else
    failed "$p" "native_clean_staticlib $rel/libwsmachine.a" /dev/null
  fi
  native_solib "$d" "$rel/libwsmachine.so" "$WSM_VERSION"
  f="$d/libwsmachine.so.$WSM_VERSION"
  [ "$STRIP_DEBUG" != 0 ] && "${pre}strip" --strip-debug "$f"
  row "$p" "lib/$triple/libwsmachine.so.$WSM_VERSION" BUILT "$(human_size "$f") (+ .so.0, .so symlinks)"
  native_pkgconfig "$DIST" "$triple" "$d/pkgconfig" "$WSM_VERSION"
  row "$p" "lib/$triple/pkgconfig/wsmachine{,-static}.pc" BUILT "pkg-config"
}

# native_install_windows PLATFORM TRIPLE RELEASE_DIR: the static library (as built:
# not symbol-clean, see native_clean_staticlib) and lib/TRIPLE/pkgconfig/.
native_install_windows() {
  local p=$1 triple=$2 rel=$3 d="$DIST/lib/$2"
  mkdir -p "$d"
  # Not stripped: mingw strip rejects the archive's empty split-debug (.dwo) members.
  cp "$rel/libwsmachine.a" "$d/libwsmachine.a"
  row "$p" "lib/$triple/libwsmachine.a" BUILT "$(human_size "$d/libwsmachine.a") (Rust symbols global)"
  native_pkgconfig "$DIST" "$triple" "$d/pkgconfig" "$WSM_VERSION"
  row "$p" "lib/$triple/pkgconfig/wsmachine{,-static}.pc" BUILT "pkg-config"
}

# native_finish: the C++ header, the CMake package, and lib/pkgconfig/ for the host.
native_finish() {
  [ -f include/wsmachine.hpp ] && cp include/wsmachine.hpp "$DIST/include/" \
    && row all include/wsmachine.hpp BUILT "$(human_size include/wsmachine.hpp)"
  native_cmake_package "$DIST" "$WSM_VERSION"
  row all lib/cmake/wsmachine/wsmachineConfig.cmake BUILT "CMake package (+ version file)"
  if [ -d "$DIST/lib/x86_64-unknown-linux-gnu" ]; then
    native_pkgconfig "$DIST" x86_64-unknown-linux-gnu "$DIST/lib/pkgconfig" "$WSM_VERSION"
    row all "lib/pkgconfig/wsmachine{,-static}.pc" BUILT "pkg-config (Linux x86_64)"
  fi
}
