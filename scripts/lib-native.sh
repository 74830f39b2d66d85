# shellcheck shell=bash
# Packaging for native C and C++ users, sourced by scripts/build-release.sh (issue 15).
# Kept apart from the per-platform builds there: these functions only post-process
# what the builds produced.
#
#   native_clean_staticlib IN.a OUT.a TOOLPREFIX  symbol-clean static library (ELF)
#   native_clean_staticlib_pe IN.a OUT.a TOOLPREFIX  the same for windows-gnu (PE/COFF)
#   native_solib DIR SRC.so                       libwsmachine.so.X.Y.Z + .so.0 + .so
#   native_cmake_package DIST VERSION             lib/cmake/wsmachine/*.cmake
#   native_pkgconfig DIST TRIPLE PCDIR            wsmachine.pc + wsmachine-static.pc
#
# The system libraries each static library needs are what
# `cargo rustc --release --lib --crate-type staticlib -- --print native-static-libs`
# prints for the target (without -lc; scripts/test-native.sh links with exactly these).
WSM_LINUX_STATIC_DEPS="pthread dl m rt util gcc_s"
# macOS and iOS (rustc: -framework Security -framework CoreFoundation -liconv -lSystem
# -lc -lm; libSystem, libc and libm come with every link).
WSM_APPLE_STATIC_LIBS="-framework Security -framework CoreFoundation -liconv"
WSM_WINDOWS_STATIC_DEPS="ws2_32 userenv bcrypt advapi32 kernel32 ntdll dbghelp"

# native_keep_ws_globals TMP OUT.a TOOLPREFIX: the last steps of both clean-up
# functions, on the merged object TMP/nobc.o: every defined global but ws_* gets the
# prefix __wsm_ and is made local (see native_clean_staticlib for why both), and the
# result, TMP/wsmachine.o, becomes the one member of OUT.a.
native_keep_ws_globals() {
  local tmp=$1 out=$2 pre=${3:-}
  "${pre}nm" -g --defined-only "$tmp/nobc.o" | awk 'NF == 3 && $3 !~ /^ws_/ { print $3 " __wsm_" $3 }' \
    | sort -u >"$tmp/rename.txt" &&
  "${pre}nm" -g --defined-only "$tmp/nobc.o" | awk 'NF == 3 && $3 ~ /^ws_/ { print $3 }' >"$tmp/keep.txt" &&
  [ -s "$tmp/keep.txt" ] &&
  "${pre}objcopy" --redefine-syms="$tmp/rename.txt" "$tmp/nobc.o" "$tmp/renamed.o" &&
  "${pre}objcopy" --keep-global-symbols="$tmp/keep.txt" "$tmp/renamed.o" "$tmp/wsmachine.o" &&
  rm -f "$out" && mkdir -p "$(dirname "$out")" && "${pre}ar" rcs "$out" "$tmp/wsmachine.o"
}

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
# ELF only; native_clean_staticlib_pe below does the same for a windows-gnu library.
native_clean_staticlib() {
  local in=$1 out=$2 pre=${3:-} tmp rc=0
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/wsm-clean.XXXXXX")
  {
    "${pre}ld" -r --whole-archive "$in" -o "$tmp/all.o" &&
    "${pre}objcopy" --remove-section=.llvmbc --remove-section=.llvmcmd "$tmp/all.o" "$tmp/nobc.o" &&
    native_keep_ws_globals "$tmp" "$out" "$pre"
  } || rc=1
  rm -rf "$tmp"
  return $rc
}

# native_clean_staticlib_pe IN.a OUT.a TOOLPREFIX
#
# The windows-gnu version of native_clean_staticlib: one relocatable object with only
# the ws_* functions global, plus what PE/COFF and GNU ld on PE need (docs/PLATFORMS.md,
# "The Windows x86_64 static library"):
#   1. every member extracted by its position (`ar xN`): the archive repeats member
#      names, because it holds several dlltool-style import libraries that rustc
#      made for raw-dylib imports (bcryptprimitives.dllh.o, .dlls00000.o, .dllt.o
#      from our crates and again from std), so a plain `ar x` or `ld -r
#      --whole-archive` mixes them up ("multiple definition of ProcessPrng");
#   2. the split-debug .dwo members of std are dropped (debug data only; linked into
#      an image they become sections below the image base: "Bad EXE format");
#   3. the object members lose .llvmbc/.llvmcmd (as for ELF), and their reference
#      to the CRT's _tls_used is renamed for the ld -r: on PE, ld -r runs the image
#      post-processing too and stops with "unable to fill in DataDictionary[9]
#      because __tls_used is missing"; it is renamed back afterwards, so the final
#      link still resolves it to the CRT;
#   4. the import stubs are grouped by the import library they belong to (head
#      .dllh.o, stubs .dllsNNNNN.o, tail .dllt.o, linked by their _head_* and
#      *_iname symbols) and renamed G<n>-<name>, so that sorting by member name
#      (what GNU ld does for .idata$N) keeps each group's import lookup and address
#      tables contiguous, head first and null-terminated by the tail;
#   5. ld -r with the default -r script (`ld -r --verbose`) changed in two places:
#      .idata$2/4/5/6/7 sorted by member name into separate output sections (the
#      default script leaves them as orphans in load order, which scatters heads,
#      stubs and tails), and the output section for .pdata named .pdata.wsm: ld -r
#      sorts a section named .pdata by its 12-byte entries' begin addresses without
#      moving their relocations, which scrambles the unwind table (a panic in the
#      program then never gets caught); objcopy names it .pdata again. The stubs are
#      an archive not under --whole-archive, so only the imports used are linked
#      (each function once, whichever import library has it first);
#   6. .drectve removed (-exclude-symbols: directives for names that are then
#      renamed), _tls_used restored, then rename to __wsm_* and localise as for ELF.
# Left undefined for the final link: kernel32/ws2_32/... functions that std and the
# crates import through the system import libraries (WSM_WINDOWS_STATIC_DEPS),
# libgcc's unwinder, msvcrt (memcpy, ...) and _tls_used.
native_clean_staticlib_pe() {
  local in=$1 out=$2 pre=${3:-} tmp rc=0 absin n i f k
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/wsm-cleanpe.XXXXXX")
  absin=$(cd "$(dirname "$in")" && pwd)/$(basename "$in")
  {
    mkdir -p "$tmp/all" "$tmp/m" "$tmp/dup" "$tmp/o" "$tmp/s" &&
    (cd "$tmp/all" && "${pre}ar" x "$absin") &&
    "${pre}ar" t "$absin" >"$tmp/members" &&
    (
      # 1. by position: NNNNN-name; repeated names one by one with `ar xN k`
      declare -A total=() seen=()
      while IFS= read -r n; do total[$n]=$(( ${total[$n]:-0} + 1 )); done <"$tmp/members"
      i=0
      while IFS= read -r n; do
        i=$((i + 1)); seen[$n]=$(( ${seen[$n]:-0} + 1 ))
        f=$(printf '%s/m/%05d-%s' "$tmp" "$i" "$n")
        if [ "${total[$n]}" -eq 1 ]; then
          mv "$tmp/all/$n" "$f" || exit 1
        else
          (cd "$tmp/dup" && "${pre}ar" xN "${seen[$n]}" "$absin" "$n") && mv "$tmp/dup/$n" "$f" || exit 1
        fi
      done <"$tmp/members"
    ) &&
    # 2.-4. sort the members: .dwo dropped, import stubs (they have .idata$N sections), objects
    rm -f "$tmp"/m/*.dwo &&
    "${pre}objdump" -h "$tmp"/m/* 2>/dev/null | awk '/:     file format / { f = $1; sub(/:$/, "", f) }
      $2 ~ /^\.idata\$/ { print f }' | sort -u >"$tmp/stubs" &&
    (
      for f in "$tmp"/m/*; do
        grep -qxF "$f" "$tmp/stubs" && continue
        "${pre}objcopy" --remove-section=.llvmbc --remove-section=.llvmcmd \
          --redefine-sym _tls_used=__wsm_tls_used_ref "$f" "$tmp/o/${f##*/}" || exit 1
      done
    ) &&
    # group = the _head_ symbol: defined by the head, referenced by each stub; the
    # head references the tail's *_iname symbol
    xargs -r "${pre}nm" -A <"$tmp/stubs" 2>/dev/null | awk '
      { split($1, p, ":"); f = p[1]; n = split(f, q, "/"); f = q[n] }
      $2 == "U" && $3 ~ /^_head_/     { ref[f] = $3 }
      $2 == "U" && $3 ~ /_iname$/     { hiname[f] = $3 }
      $2 != "U" && $3 ~ /^_head_/     { head[f] = $3; if (!($3 in gi)) gi[$3] = ++ng }
      $2 != "U" && $3 ~ /_iname$/     { tail[$3] = f }
      { all[f] = 1 }
      END {
        for (f in head) { grp[f] = gi[head[f]]; if (hiname[f] in tail) grp[tail[hiname[f]]] = gi[head[f]] }
        for (f in ref) if (ref[f] in gi) grp[f] = gi[ref[f]]
        for (f in all) {
          if (!(f in grp)) { print "native_clean_staticlib_pe: import stub " f " belongs to no import library" > "/dev/stderr"; bad = 1; continue }
          n = f; sub(/^[0-9]+-/, "", n); printf "%s G%03d-%s\n", f, grp[f], n
        }
        exit bad
      }' >"$tmp/groups" &&
    (while read -r f k; do cp "$tmp/m/$f" "$tmp/s/$k" || exit 1; done <"$tmp/groups") &&
    "${pre}ar" rcs "$tmp/objs.a" "$tmp"/o/* &&
    (cd "$tmp/s" && find . -name '*.o' | sort | xargs "${pre}ar" rcs ../stubs.a) &&
    # 5. the -r script
    "${pre}ld" -r --verbose 2>/dev/null | sed -n '/^=======/,/^=======/p' | sed '1d;$d' | awk '
      /^  \.pdata  :$/ { print "  .pdata.wsm  :"; next }
      /^  \.idata  :$/ { for (k = 2; k <= 7; k++) if (k != 3) printf "  .idata$%d  :\n  {\n    KEEP (SORT(*)(.idata$%d))\n  }\n", k, k }
      { print }' >"$tmp/r.ld" &&
    grep -q '^  \.pdata\.wsm  :$' "$tmp/r.ld" && grep -qF 'KEEP (SORT(*)(.idata$5))' "$tmp/r.ld" &&
    "${pre}ld" -r -T "$tmp/r.ld" --whole-archive "$tmp/objs.a" --no-whole-archive "$tmp/stubs.a" -o "$tmp/all.o" &&
    # 6.
    "${pre}objcopy" --rename-section .pdata.wsm=.pdata --redefine-sym __wsm_tls_used_ref=_tls_used \
      --remove-section=.drectve "$tmp/all.o" "$tmp/nobc.o" &&
    ! "${pre}nm" -u "$tmp/nobc.o" | grep -qE ' (_head_|__wsm_)' &&
    native_keep_ws_globals "$tmp" "$out" "$pre"
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
  local dist=$1 triple=$2 pcdir=$3 version=$4 rel static_libs shared_libs
  mkdir -p "$pcdir"
  # ${pcfiledir} -> dist/: lib/pkgconfig or lib/<triple>/pkgconfig
  case "$pcdir" in
    "$dist/lib/pkgconfig") rel='${pcfiledir}/../..' ;;
    *) rel='${pcfiledir}/../../..' ;;
  esac
  case "$triple" in
    *windows*) static_libs=$(printf ' -l%s' $WSM_WINDOWS_STATIC_DEPS) ;;
    *apple*) static_libs=" $WSM_APPLE_STATIC_LIBS" ;;
    *) static_libs=$(printf ' -l%s' $WSM_LINUX_STATIC_DEPS) ;;
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
        echo "Libs: \${libdir}/libwsmachine.a$static_libs"
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

# native_install_windows PLATFORM TRIPLE RELEASE_DIR: the clean static library
# (native_clean_staticlib_pe) and lib/TRIPLE/pkgconfig/.
native_install_windows() {
  local p=$1 triple=$2 rel=$3 d="$DIST/lib/$2" pre=x86_64-w64-mingw32-
  mkdir -p "$d"
  if native_clean_staticlib_pe "$rel/libwsmachine.a" "$d/libwsmachine.a" "$pre" 2>"$LOG_DIR/$p-clean.log"; then
    [ "$STRIP_DEBUG" != 0 ] && "${pre}strip" --strip-debug "$d/libwsmachine.a"
    row "$p" "lib/$triple/libwsmachine.a" BUILT "$(human_size "$d/libwsmachine.a") (only ws_* global)"
  else
    failed "$p" "native_clean_staticlib_pe $rel/libwsmachine.a" "$LOG_DIR/$p-clean.log"
  fi
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
