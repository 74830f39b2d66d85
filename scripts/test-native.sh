#!/usr/bin/env bash
# Tests for native C and C++ users (issue 15): the packages in dist/ and the C++ wrapper.
#
#   scripts/test-native.sh      # ~1-2 min when the release builds are current
#
# Steps:
#   1. scripts/build-release.sh linux-x86_64 windows-x86_64 (no-ops when current), and
#      dist/ carries LICENSE.md and THIRD-PARTY-NOTICES.md.
#   2. the shared library: SONAME libwsmachine.so.0, the .so.0.1.0/.so.0/.so chain in
#      dist/lib/x86_64-unknown-linux-gnu/.
#   3. the clean static library: only ws_* symbols global (nm), as many as the header
#      declares; linked into one C program together with a second Rust static library
#      (tests/native/otherlib) with --whole-archive for both (as Xcode's -all_load or
#      CMake's WHOLE_ARCHIVE do), run; and the control: cargo's own libwsmachine.a in
#      the same link fails with "multiple definition".
#   4. two Python echo servers on 127.0.0.1 (ws:// and wss://), and four Python ssl
#      servers for the TLS object (tests/peers/tls_echo_server.py: echo, echo
#      --tls12-only, greet-eof, greet-notify); all killed on exit.
#   5. tests/cpp/wrapper_test.cpp (include/wsmachine.hpp), -std=c++17
#      -fno-exceptions -fno-rtti -Wall -Wextra -Werror, ASan+UBSan, against the clean
#      static library: ws://, wss:// with the test CA, wss:// without it; and
#      tests/cpp/tls_wrapper_test.cpp (wsm::tls, the TLS object) the same way against
#      the four ssl servers: handshake (TLS 1.3, 1.2), echoes up to 1 MiB, close_notify
#      both ways, an end without it, resumption, certificate failures, moves. Then
#      the header checks: wsm::result has every ws_result code, wsmachine.hpp calls
#      every function of wsmachine.h.
#   6. examples/cpp with CMake and find_package(wsmachine) against dist/: shared
#      (NEEDED libwsmachine.so.0) and static (-DWSMACHINE_STATIC=ON, no NEEDED), each
#      run against both servers; then built with `pkg-config --cflags --libs
#      wsmachine` and `wsmachine-static` and run.
#   7. Windows: examples/cpp with CMake and the mingw-w64 compilers
#      (CMAKE_SYSTEM_NAME=Windows) against dist/, shared (wsmachine.dll) and static,
#      run under wine against the ws:// server. Then step 3 for the Windows static
#      library: only ws_* global (x86_64-w64-mingw32-nm), linked with mingw-w64 into
#      one .exe together with tests/native/otherlib built for x86_64-pc-windows-gnu
#      (--whole-archive both), its unwind table (.pdata) checked, run under wine; the
#      control: cargo's own archive in the same link fails with "multiple definition".
#   8. the ABI check of the C# bindings on Mono: a library built with
#      WSMACHINE_TEST_ABI_VERSION=9999 (target/abi-mismatch/, a debug build) must make
#      the bindings throw "plugin is 9999, bindings expect 1"; the real one must not.
#
# Output: "ok - " / "not ok - " lines, "SKIPPED: <what>: <reason>" for a missing tool
# (wine, mingw, mono), and as the LAST line "N passed, N failed". Exit status 0 only
# when nothing failed. KEEP_TMP=1 keeps the temp directory.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
export PATH="$HOME/.cargo/bin:$PATH"
# shellcheck source=lib/tap.sh
. scripts/lib/tap.sh
tap_begin test-native

PASSED=0 FAILED=0 RUNS=0
skip() { echo "SKIPPED: $1: $2"; }
# run_prog NAME CMD...: a TAP-printing program; its checks counted, non-zero exit fails it.
run_prog() {
  local name=$1; shift
  RUNS=$((RUNS + 1))
  local out="$TMP/run$RUNS.out" err="$TMP/run$RUNS.err" rc p f
  echo "# --- $name"
  timeout -k 5 120 "$@" >"$out.raw" 2>"$err"; rc=$?
  tr -d '\r' <"$out.raw" >"$out"
  cat "$out"
  p=$(grep -c '^ok - ' "$out" || true)
  f=$(grep -c '^not ok - ' "$out" || true)
  PASSED=$((PASSED + p)); FAILED=$((FAILED + f))
  if [ -s "$err" ]; then echo "# $name stderr:"; diag_file "$err" 30; fi
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then not_ok "$name exited with status $rc"; fi
  if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then not_ok "$name printed no checks"; fi
}
# run_echo NAME CMD...: the example client; passes when it exits 0 after a clean close
# with every echo ("closed cleanly after N echoes").
run_echo() {
  local name=$1; shift
  RUNS=$((RUNS + 1))
  local out="$TMP/run$RUNS.out"
  if timeout -k 5 60 "$@" >"$out" 2>&1 && tr -d '\r' <"$out" | grep -q '^closed cleanly after 3 echoes$' \
     && tr -d '\r' <"$out" | grep -qxF "echo: ${MSGS[0]}"; then
    ok "$name"
  else
    not_ok "$name"; diag_file "$out" 20
  fi
}

DIST=dist
LIBDIR=$DIST/lib/x86_64-unknown-linux-gnu
MSGS=("héllo C++" "two words" "3")

# ------------------------------------------------------------------ 1. dist/
echo "# scripts/build-release.sh linux-x86_64 windows-x86_64"
if bash scripts/build-release.sh linux-x86_64 windows-x86_64 >"$TMP/build.log" 2>&1; then
  ok "scripts/build-release.sh linux-x86_64 windows-x86_64"
else
  not_ok "scripts/build-release.sh linux-x86_64 windows-x86_64"; diag_file "$TMP/build.log"
fi
sed -n '/^PLATFORM/,$p' "$TMP/build.log" | sed 's/^/# /'
# The licenses travel with the binaries: wsmachine's own and every crate's in the library.
if cmp -s "bindings/csharp/Third Party Notices.md" "$DIST/THIRD-PARTY-NOTICES.md" \
   && grep -q '^| rustls | ' "$DIST/THIRD-PARTY-NOTICES.md" && grep -q '^| ring | ' "$DIST/THIRD-PARTY-NOTICES.md" \
   && cmp -s bindings/csharp/LICENSE.md "$DIST/LICENSE.md"; then
  ok "dist: LICENSE.md and THIRD-PARTY-NOTICES.md (the crates' licenses, rustls and ring among them)"
else
  not_ok "dist: LICENSE.md and THIRD-PARTY-NOTICES.md"
fi

# ------------------------------------------------------------------ 2. SONAME
soname=$(readelf -d "$LIBDIR/libwsmachine.so.0.1.0" 2>/dev/null | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
[ "$soname" = libwsmachine.so.0 ] && ok "SONAME is libwsmachine.so.0" || not_ok "SONAME is libwsmachine.so.0 (got '$soname')"
if [ "$(readlink "$LIBDIR/libwsmachine.so")" = libwsmachine.so.0 ] \
   && [ "$(readlink "$LIBDIR/libwsmachine.so.0")" = libwsmachine.so.0.1.0 ] && [ -f "$LIBDIR/libwsmachine.so.0.1.0" ]; then
  ok "dist: libwsmachine.so -> libwsmachine.so.0 -> libwsmachine.so.0.1.0"
else
  not_ok "dist: libwsmachine.so -> libwsmachine.so.0 -> libwsmachine.so.0.1.0"; ls -la "$LIBDIR" | sed 's/^/#   /'
fi
readelf -d "$DIST/Plugins/Linux/x86_64/libwsmachine.so" | grep -q 'SONAME' \
  && ok "Plugins/Linux/x86_64/libwsmachine.so (Unity) is the same library" || not_ok "Unity plugin has the SONAME"

# ------------------------------------------------------------------ 3. clean static library
n_header=$(grep -cE '^(uint32_t |const char \*|ws_result )ws_[a-z0-9_]+\(' include/wsmachine.h)
# check_ws_globals NM CLEAN.a CARGO.a WHAT: only the header's ws_* functions are global
# in the clean archive; prints how many other globals cargo's own archive has.
check_ws_globals() {
  local nm=$1 lib=$2 raw=$3 what=$4 n_ws others n_rust
  "$nm" -g --defined-only "$lib" 2>"$TMP/nm.err" | awk 'NF == 3 { print $3 }' >"$TMP/globals.txt"
  n_ws=$(grep -c '^ws_' "$TMP/globals.txt")
  others=$(grep -v '^ws_' "$TMP/globals.txt" | head -n 5 | tr '\n' ' ')
  if [ -s "$TMP/globals.txt" ] && [ -z "$others" ] && [ ! -s "$TMP/nm.err" ]; then
    ok "clean $what: only ws_* symbols are global ($n_ws)"
  else
    not_ok "clean $what: only ws_* symbols are global (others: ${others:-none}; nm: $(head -c 200 "$TMP/nm.err"))"
  fi
  [ "$n_ws" -eq "$n_header" ] && ok "its ws_* globals are the header's $n_header functions" \
    || not_ok "its ws_* globals are the header's functions ($n_ws vs $n_header)"
  n_rust=$("$nm" -g --defined-only "$raw" 2>/dev/null | awk 'NF == 3 && $3 !~ /^ws_/' | wc -l)
  echo "# for comparison, cargo's $what has $n_rust other global symbols"
}
check_ws_globals nm "$LIBDIR/libwsmachine.a" target/release/libwsmachine.a libwsmachine.a

OTHER=target/otherlib/release/libotherlib.a
if step "build tests/native/otherlib (a second Rust static library)" \
     env CARGO_TARGET_DIR="$PWD/target/otherlib" cargo build --release --quiet \
     --manifest-path tests/native/otherlib/Cargo.toml; then
  WA=(-Wl,--whole-archive "$LIBDIR/libwsmachine.a" "$OTHER" -Wl,--no-whole-archive)
  if step "link clean libwsmachine.a + libotherlib.a (--whole-archive both) into one C program" \
       gcc -std=c11 -Wall -Wextra -Werror -Iinclude tests/native/two_rust_libs.c "${WA[@]}" \
       -lpthread -ldl -lm -o "$TMP/two_rust_libs"; then
    run_prog "two_rust_libs" "$TMP/two_rust_libs"
  fi
  if gcc -std=c11 -Iinclude tests/native/two_rust_libs.c -Wl,--whole-archive target/release/libwsmachine.a "$OTHER" \
       -Wl,--no-whole-archive -lpthread -ldl -lm -o "$TMP/two_unclean" >"$TMP/unclean.log" 2>&1; then
    not_ok "control: cargo's libwsmachine.a + libotherlib.a fails to link (it linked: the test cannot tell)"
  elif grep -q 'multiple definition of' "$TMP/unclean.log"; then
    ok "control: cargo's libwsmachine.a + libotherlib.a fails ($(grep -c 'multiple definition of' "$TMP/unclean.log") multiple definitions)"
  else
    not_ok "control: the unclean link failed for another reason"; diag_file "$TMP/unclean.log" 10
  fi
fi

# ------------------------------------------------------------------ 4. servers
step "test certificates (tests/peers/make_certs.sh)" bash tests/peers/make_certs.sh "$TMP/certs"
C="$TMP/certs"
start_server() { # NAME ARGS...
  python3 tests/peers/echo_server.py --port 0 "${@:2}" >"$TMP/srv-$1.port" 2>"$TMP/srv-$1.log" &
  SERVER_PIDS+=("$!")
}
wait_port() { # NAME -> echo port
  local i word port
  for i in $(seq 1 150); do
    if read -r word port <"$TMP/srv-$1.port" 2>/dev/null && [ "$word" = PORT ]; then echo "$port"; return 0; fi
    sleep 0.1
  done
  echo 1
}
start_server plain
start_server tls --tls-cert "$C/server.pem" --tls-key "$C/server.key"
start_tls() { # NAME ARGS...: a tests/peers/tls_echo_server.py for the TLS object
  python3 tests/peers/tls_echo_server.py --port 0 --cert "$C/server.pem" --key "$C/server.key" "${@:2}" \
    >"$TMP/srv-$1.port" 2>"$TMP/srv-$1.log" &
  SERVER_PIDS+=("$!")
}
start_tls tlsecho --mode echo
start_tls tlsecho12 --mode echo --tls12-only
start_tls greeteof --mode greet-eof
start_tls greetnotify --mode greet-notify
P_PLAIN=$(wait_port plain); P_TLS=$(wait_port tls)
[ "$P_PLAIN" != 1 ] && [ "$P_TLS" != 1 ] && ok "echo servers on 127.0.0.1:$P_PLAIN (ws) and :$P_TLS (wss)" \
  || { not_ok "echo servers started"; diag_file "$TMP/srv-plain.log"; diag_file "$TMP/srv-tls.log"; }
WS="ws://127.0.0.1:$P_PLAIN/"
WSS="wss://localhost:$P_TLS/"

# ------------------------------------------------------------------ 5. C++ wrapper test
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
CXXFLAGS=(-std=c++17 -Wall -Wextra -Werror -pedantic -Wshadow -fno-exceptions -fno-rtti -g -I"$DIST/include")
if step "build wrapper_test (-fno-exceptions -fno-rtti, ASan+UBSan, clean static library)" \
     g++ "${CXXFLAGS[@]}" -fsanitize=address,undefined -fno-omit-frame-pointer tests/cpp/wrapper_test.cpp \
     "$LIBDIR/libwsmachine.a" -lpthread -ldl -lm -o "$TMP/wrapper_test"; then
  run_prog "wrapper_test $WS (ASan)" "$TMP/wrapper_test" "$WS"
  run_prog "wrapper_test $WSS + CA (ASan)" "$TMP/wrapper_test" "$WSS" "$C/ca.pem"
  run_prog "wrapper_test $WSS without the CA (ASan)" "$TMP/wrapper_test" "$WSS"
fi
P_TE=$(wait_port tlsecho); P_TE12=$(wait_port tlsecho12); P_GE=$(wait_port greeteof); P_GN=$(wait_port greetnotify)
if [ "$P_TE" != 1 ] && [ "$P_TE12" != 1 ] && [ "$P_GE" != 1 ] && [ "$P_GN" != 1 ]; then
  ok "tls_echo_server.py on 127.0.0.1:$P_TE (echo), :$P_TE12 (TLS 1.2), :$P_GE (greet-eof), :$P_GN (greet-notify)"
else
  not_ok "tls_echo_server.py servers started"; for srv in tlsecho tlsecho12 greeteof greetnotify; do diag_file "$TMP/srv-$srv.log" 5; done
fi
if step "build tls_wrapper_test (wsm::tls; -fno-exceptions -fno-rtti, ASan+UBSan, clean static library)" \
     g++ "${CXXFLAGS[@]}" -fsanitize=address,undefined -fno-omit-frame-pointer tests/cpp/tls_wrapper_test.cpp \
     "$LIBDIR/libwsmachine.a" -lpthread -ldl -lm -o "$TMP/tls_wrapper_test"; then
  run_prog "tls_wrapper_test (wsm::tls against OpenSSL; ASan)" "$TMP/tls_wrapper_test" --ca "$C/ca.pem" \
    --echo "$P_TE" --echo12 "$P_TE12" --greet-eof "$P_GE" --greet-notify "$P_GN"
fi
codes=$(sed -n '/^enum ws_result$/,/^};/p' include/wsmachine.h | grep -oE '^ +WS_[A-Z0-9_]+ = ' | tr -d ' =')
missing=""
for c in $codes; do grep -q "= $c,\$" include/wsmachine.hpp || missing="$missing $c"; done
if [ -n "$codes" ] && [ -z "$missing" ]; then
  ok "wsm::result in wsmachine.hpp has every ws_result code of the header ($(echo "$codes" | wc -l))"
else
  not_ok "wsm::result in wsmachine.hpp has every ws_result code of the header (missing:${missing:- could not parse the enum})"
fi
n_c=$(grep -cE '^(uint32_t |const char \*|ws_result )ws_[a-z0-9_]+\(' include/wsmachine.h)
unwrapped=""
for f in $(sed -nE 's/^(uint32_t |const char \*|ws_result )(ws_[a-z0-9_]+)\(.*/\2/p' include/wsmachine.h); do
  [ "$f" = ws_handle_count ] && continue # test hook
  grep -qw "$f" include/wsmachine.hpp || unwrapped="$unwrapped $f"
done
[ -z "$unwrapped" ] && ok "wsmachine.hpp calls every function of the header ($n_c, ws_handle_count aside)" \
  || not_ok "wsmachine.hpp calls every function of the header (not:$unwrapped)"
step "wsmachine.hpp without wsmachine.h first, twice (include guard), C++17 -pedantic" \
  bash -c 'printf "#include \"wsmachine.hpp\"\n#include \"wsmachine.hpp\"\nint main(){return wsm::abi_compatible()?0:1;}\n" >"$1/inc.cpp" &&
           g++ -std=c++17 -Wall -Wextra -Werror -pedantic -fno-exceptions -fno-rtti -Iinclude "$1/inc.cpp" -fsyntax-only' _ "$TMP"
if g++ -std=c++14 -Iinclude -x c++ -fsyntax-only include/wsmachine.hpp >"$TMP/cxx14.log" 2>&1; then
  not_ok "wsmachine.hpp refuses C++14 with a clear error"
else
  grep -q 'needs C++17' "$TMP/cxx14.log" && ok "wsmachine.hpp refuses C++14 with a clear error" \
    || { not_ok "wsmachine.hpp refuses C++14 with a clear error"; diag_file "$TMP/cxx14.log" 5; }
fi

# ------------------------------------------------------------------ 6. CMake and pkg-config (Linux)
if command -v cmake >/dev/null; then
  for kind in shared static; do
    B="$TMP/cmake-$kind"
    if step "cmake: examples/cpp with find_package(wsmachine) against dist/ ($kind)" \
         bash -c 'cmake -S examples/cpp -B "$1" -DCMAKE_PREFIX_PATH="$PWD/dist" -DWSMACHINE_STATIC=$2 \
                    -DCMAKE_CXX_FLAGS="-Wall -Wextra -Werror -fno-exceptions -fno-rtti" && cmake --build "$1"' \
         _ "$B" "$([ $kind = static ] && echo ON || echo OFF)"; then
      needed=$(readelf -d "$B/echo_client" | grep -c 'NEEDED.*libwsmachine' || true)
      if [ $kind = shared ]; then
        readelf -d "$B/echo_client" | grep -q 'NEEDED.*\[libwsmachine.so.0\]' \
          && ok "cmake shared: echo_client needs libwsmachine.so.0" || not_ok "cmake shared: echo_client needs libwsmachine.so.0"
      else
        [ "$needed" -eq 0 ] && ok "cmake static: echo_client needs no libwsmachine shared library" \
          || not_ok "cmake static: echo_client needs no libwsmachine shared library"
      fi
      run_echo "cmake $kind: echo_client $WS" "$B/echo_client" "$WS" "${MSGS[@]}"
      run_echo "cmake $kind: echo_client $WSS" "$B/echo_client" "$WSS" "$C/ca.pem" "${MSGS[@]}"
    fi
  done
  step "find_package(wsmachine 0.2) rejects 0.1.0 (version file)" \
    bash -c '! cmake -S "$1" -B "$1/b" -DCMAKE_PREFIX_PATH="$PWD/dist" >"$1/log" 2>&1 && grep -q "0.1.0" "$1/log"' \
    _ "$(mkdir -p "$TMP/cmv" && printf 'cmake_minimum_required(VERSION 3.13)\nproject(v CXX)\nfind_package(wsmachine 0.2 REQUIRED)\n' >"$TMP/cmv/CMakeLists.txt" && echo "$TMP/cmv")"
else
  not_ok "cmake not found (apt-get install cmake; .ci/install.sh)"
fi
if command -v pkg-config >/dev/null; then
  export PKG_CONFIG_PATH="$PWD/$DIST/lib/pkgconfig"
  for pc in wsmachine wsmachine-static; do
    flags=$(pkg-config --cflags --libs "$pc" 2>"$TMP/pc.err")
    echo "# pkg-config --cflags --libs $pc: $flags"
    # shellcheck disable=SC2086
    if step "pkg-config: build examples/cpp/echo_client.cpp with $pc" \
         g++ -std=c++17 -Wall -Wextra -Werror examples/cpp/echo_client.cpp $flags -o "$TMP/echo_$pc"; then
      run_echo "pkg-config $pc: echo_client $WSS" env LD_LIBRARY_PATH="$PWD/$LIBDIR" "$TMP/echo_$pc" "$WSS" "$C/ca.pem" "${MSGS[@]}"
    fi
  done
  [ "$(pkg-config --modversion wsmachine)" = "$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)" ] \
    && ok "pkg-config --modversion wsmachine is the crate version" || not_ok "pkg-config --modversion"
else
  not_ok "pkg-config not found (apt-get install pkgconf; .ci/install.sh)"
fi

# ------------------------------------------------------------------ 7. Windows (mingw + wine)
WINE=""
for w in ${WSM_WINE:-wine64 /usr/lib/wine/wine64 wine}; do
  if command -v "$w" >/dev/null 2>&1; then WINE=$(command -v "$w"); break; fi
done
if ! command -v x86_64-w64-mingw32-g++ >/dev/null || ! command -v cmake >/dev/null; then
  skip "Windows CMake build" "x86_64-w64-mingw32-g++ or cmake missing"
elif [ ! -f "$DIST/Plugins/Windows/x86_64/wsmachine.dll" ]; then
  not_ok "dist has the Windows build"
else
  export WINEDEBUG="${WINEDEBUG:--all}" WINEDLLOVERRIDES="${WINEDLLOVERRIDES:-mscoree,mshtml=}"
  for kind in shared static; do
    B="$TMP/cmake-win-$kind"
    if step "cmake (mingw-w64, CMAKE_SYSTEM_NAME=Windows): examples/cpp against dist/ ($kind)" \
         bash -c 'cmake -S examples/cpp -B "$1" -DCMAKE_SYSTEM_NAME=Windows -DCMAKE_SYSTEM_PROCESSOR=x86_64 \
                    -DCMAKE_CXX_COMPILER=x86_64-w64-mingw32-g++ -DCMAKE_RC_COMPILER=x86_64-w64-mingw32-windres \
                    -DCMAKE_FIND_ROOT_PATH="$PWD/dist" -DCMAKE_PREFIX_PATH="$PWD/dist" \
                    -DCMAKE_FIND_ROOT_PATH_MODE_PACKAGE=BOTH \
                    -DCMAKE_EXE_LINKER_FLAGS="-static-libgcc -static-libstdc++ -static" -DWSMACHINE_STATIC=$2 \
                    -DCMAKE_CXX_FLAGS="-Wall -Wextra -Werror" && cmake --build "$1"' \
         _ "$B" "$([ $kind = static ] && echo ON || echo OFF)"; then
      imports=$(x86_64-w64-mingw32-objdump -p "$B/echo_client.exe" | sed -n 's/^\s*DLL Name: //p' | tr '\n' ' ')
      if [ $kind = shared ]; then
        [[ "$imports" == *wsmachine.dll* ]] && ok "mingw shared: echo_client.exe imports wsmachine.dll" \
          || not_ok "mingw shared: echo_client.exe imports wsmachine.dll ($imports)"
        cp "$DIST/Plugins/Windows/x86_64/wsmachine.dll" "$B/"
      else
        [[ "$imports" != *wsmachine* ]] && ok "mingw static: echo_client.exe imports no wsmachine.dll ($imports)" \
          || not_ok "mingw static: echo_client.exe imports no wsmachine.dll ($imports)"
      fi
      if [ -z "$WINE" ]; then
        skip "run echo_client.exe" "wine not found"
      else
        wine_ver=$("$WINE" --version 2>/dev/null | sed -n 's/^wine-\([0-9]*\)\.\([0-9]*\).*/\1 \2/p')
        read -r wmaj wmin <<<"${wine_ver:-0 0}"
        if [ "$wmaj" -lt 8 ] || { [ "$wmaj" -eq 8 ] && [ "$wmin" -lt 13 ]; }; then
          # Test-only: wine < 8.13 lacks bcryptprimitives.dll (see scripts/test-cross.sh).
          x86_64-w64-mingw32-gcc -O2 -shared tests/c/wine/bcryptprimitives_shim.c -lbcrypt -o "$B/bcryptprimitives.dll"
        fi
        # ASCII only: Windows passes argv in the ANSI code page, not UTF-8.
        saved=("${MSGS[@]}"); MSGS=("hello C++" "two words" "3")
        run_echo "mingw $kind: echo_client.exe $WS (wine)" env -C "$B" "$WINE" ./echo_client.exe "$WS" "${MSGS[@]}"
        MSGS=("${saved[@]}")
      fi
    fi
  done
fi

# The clean Windows static library (native_clean_staticlib_pe), as step 3 for Linux.
WINLIB=$DIST/lib/x86_64-pc-windows-gnu/libwsmachine.a
if ! command -v x86_64-w64-mingw32-gcc >/dev/null; then
  skip "Windows static library with a second Rust library" "x86_64-w64-mingw32-gcc missing"
elif [ ! -f "$WINLIB" ]; then
  not_ok "dist has the Windows static library"
else
  check_ws_globals x86_64-w64-mingw32-nm "$WINLIB" target/x86_64-pc-windows-gnu/release/libwsmachine.a \
    "Windows libwsmachine.a"
  WOTHER=target/otherlib/x86_64-pc-windows-gnu/release/libotherlib.a
  if step "build tests/native/otherlib for x86_64-pc-windows-gnu" \
       env CARGO_TARGET_DIR="$PWD/target/otherlib" CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc \
       cargo build --release --quiet --target x86_64-pc-windows-gnu --manifest-path tests/native/otherlib/Cargo.toml; then
    # cargo's windows-gnu archive carries std's split-debug members (*.dwo); under
    # --whole-archive they become sections below the image base and the .exe does not
    # start ("Bad EXE format"). Not our library's problem (ours has none): the test's
    # copy of the other library goes without them.
    mkdir -p "$TMP/win2"
    cp "$WOTHER" "$TMP/win2/libotherlib.a"
    mapfile -t dwo < <(x86_64-w64-mingw32-ar t "$TMP/win2/libotherlib.a" | grep '\.dwo$')
    # (ar's LLVM plugin complains about the other library's bitcode, on stdout)
    [ "${#dwo[@]}" -gt 0 ] && x86_64-w64-mingw32-ar d "$TMP/win2/libotherlib.a" "${dwo[@]}" >/dev/null 2>&1
    # the system libraries as dist's wsmachine-static.pc for Windows lists them
    read -ra WDEPS <<<"$(sed -n 's/^Libs: [^ ]* //p' "$DIST/lib/x86_64-pc-windows-gnu/pkgconfig/wsmachine-static.pc")"
    echo "# Windows system libraries (wsmachine-static.pc): ${WDEPS[*]}"
    if step "mingw: link clean libwsmachine.a + libotherlib.a (--whole-archive both) into one .exe" \
         x86_64-w64-mingw32-gcc -std=c11 -Wall -Wextra -Werror -Iinclude tests/native/two_rust_libs.c \
         -Wl,--whole-archive "$WINLIB" "$TMP/win2/libotherlib.a" -Wl,--no-whole-archive "${WDEPS[@]}" -static \
         -o "$TMP/win2/two_rust_libs.exe"; then
      # The unwind table of the .exe: sorted, no entry overlapping the next, no ws_*
      # function inside another function's entry (ld -r's .pdata sort scrambled it:
      # thousands out of order, and the other library's caught panic then hung)
      { x86_64-w64-mingw32-nm "$TMP/win2/two_rust_libs.exe" | awk '$2 == "T" && $3 ~ /^ws_/ { print "F", $1 }'
        x86_64-w64-mingw32-objdump -p "$TMP/win2/two_rust_libs.exe" | sed -n '/^The Function Table/,/^$/p' \
          | awk 'NF == 4 && $1 ~ /:$/ { print "E", $2, $3 }'
      } | sort -k2,2 | awk '
        $1 == "F" { nf++; if (n && $2 != cb && ($2 "") < pe) inside++; if ($2 == cb) starts++; next }
        { b = $2 ""; e = $3 ""; n++; if (b >= e || (n > 1 && b < pe)) bad++; pe = e; cb = b }
        END { printf "%d entries, %d out of order or overlapping, %d ws_* inside another entry, %d of %d ws_* start one\n",
                n, bad, inside, starts, nf
              exit (n > 0 && nf > 0 && !bad && !inside) ? 0 : 1 }' >"$TMP/pdata.txt" \
        && ok "two_rust_libs.exe: .pdata (unwind table) consistent: $(cat "$TMP/pdata.txt")" \
        || not_ok "two_rust_libs.exe: .pdata (unwind table) consistent: $(cat "$TMP/pdata.txt")"
      if [ -z "$WINE" ]; then
        skip "run two_rust_libs.exe" "wine not found"
      else
        wine_ver=$("$WINE" --version 2>/dev/null | sed -n 's/^wine-\([0-9]*\)\.\([0-9]*\).*/\1 \2/p')
        read -r wmaj wmin <<<"${wine_ver:-0 0}"
        if [ "$wmaj" -lt 8 ] || { [ "$wmaj" -eq 8 ] && [ "$wmin" -lt 13 ]; }; then
          x86_64-w64-mingw32-gcc -O2 -shared tests/c/wine/bcryptprimitives_shim.c -lbcrypt -o "$TMP/win2/bcryptprimitives.dll"
        fi
        run_prog "two_rust_libs.exe (wine)" env -C "$TMP/win2" "$WINE" ./two_rust_libs.exe
      fi
    fi
    if x86_64-w64-mingw32-gcc -std=c11 -Iinclude tests/native/two_rust_libs.c -Wl,--whole-archive \
         target/x86_64-pc-windows-gnu/release/libwsmachine.a "$TMP/win2/libotherlib.a" -Wl,--no-whole-archive \
         "${WDEPS[@]}" -static -o "$TMP/win2/two_unclean.exe" >"$TMP/wunclean.log" 2>&1; then
      not_ok "control: cargo's Windows libwsmachine.a + libotherlib.a fails to link (it linked: the test cannot tell)"
    elif grep -q 'multiple definition of' "$TMP/wunclean.log"; then
      ok "control: cargo's Windows libwsmachine.a + libotherlib.a fails ($(grep -c 'multiple definition of' "$TMP/wunclean.log") multiple definitions)"
    else
      not_ok "control: the unclean Windows link failed for another reason"; grep -v 'bfd plugin' "$TMP/wunclean.log" | tail -n 10 | sed 's/^/#   /'
    fi
  fi
fi

# ------------------------------------------------------------------ 8. C# ABI check (Mono)
if ! command -v mcs >/dev/null || ! command -v mono >/dev/null; then
  skip "C# ABI check" "mcs/mono missing"
else
  # Seeded from the debug build of `cargo test` when there is one: only wsmachine rebuilds.
  if [ ! -d target/abi-mismatch/debug ] && [ -d target/debug/deps ]; then
    mkdir -p target/abi-mismatch && cp -a target/debug target/abi-mismatch/ && rm -rf target/abi-mismatch/debug/incremental
  fi
fi
if ! command -v mcs >/dev/null || ! command -v mono >/dev/null; then
  :
elif step "library with WSMACHINE_TEST_ABI_VERSION=9999 (target/abi-mismatch, debug)" \
       env CARGO_TARGET_DIR="$PWD/target/abi-mismatch" WSMACHINE_TEST_ABI_VERSION=9999 cargo build --lib --quiet; then
  if step "compile the C# bindings (bindings/csharp/Runtime) and tests/native/AbiCheck.cs (mcs)" \
       mcs -langversion:7.2 -nologo -unsafe -target:exe -out:"$TMP/AbiCheck.exe" \
       -recurse:'bindings/csharp/Runtime/*.cs' tests/native/AbiCheck.cs; then
    mkdir -p "$TMP/abi-good" "$TMP/abi-bad"
    cp target/release/libwsmachine.so "$TMP/abi-good/"
    cp target/abi-mismatch/debug/libwsmachine.so "$TMP/abi-bad/"
    run_prog "AbiCheck (Mono) against the real library" env LD_LIBRARY_PATH="$TMP/abi-good" mono "$TMP/AbiCheck.exe" 1
    run_prog "AbiCheck (Mono) against the ABI 9999 library" env LD_LIBRARY_PATH="$TMP/abi-bad" mono "$TMP/AbiCheck.exe" 9999
  fi
fi

echo "# took $(( ($(date +%s%N) - T_START) / 1000000 )) ms"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
