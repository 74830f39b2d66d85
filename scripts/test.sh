#!/usr/bin/env bash
# Runs every test of wsmachine: the README's second command, and what `.ci/run` runs.
# It first runs .ci/install.sh (idempotent; a few seconds when everything is there),
# which installs what the tests need on a fresh Debian 12 machine.
#
#   bash scripts/test.sh                       # install, then everything
#   WSM_NO_INSTALL=1 bash scripts/test.sh      # without .ci/install.sh
#   WS_ONLY=C bash scripts/test.sh             # only steps whose name contains a word
#   WS_SKIP=autobahn bash scripts/test.sh      # skip steps whose name contains a word
#   WSM_AUTOBAHN_CASES=1.*,5.* bash scripts/test.sh   # Autobahn on a subset of cases
#                                              # (quick; docs/CONFORMANCE.md is not rewritten)
# One test alone: `cargo test --test <file> <name>`, `bash scripts/test-c.sh <program>`,
# `bash scripts/test-csharp.sh <NUnit name>` (see each script's header).
#
# WSM_REQUIRE_SERVERS=1 is exported: the interop tests (Python websockets, Node ws) and
# the C# server tests fail instead of skipping when a peer is missing.
# Each step runs even when an earlier one failed; the script exits non-zero if any
# failed, and ends with a summary line. The two Autobahn runs (ws on port 9001, wss on
# 9443) run side by side; their logs are kept apart in target/autobahn/{ws,wss}.log and
# printed one after the other.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TERM_COLOR=never
export WSM_REQUIRE_SERVERS=1

if [ "${WSM_NO_INSTALL:-0}" != 1 ]; then
  echo "=== bash .ci/install.sh (WSM_NO_INSTALL=1 skips it)"
  bash .ci/install.sh || { echo "=== FAILED: .ci/install.sh"; echo "steps: 0 passed, 1 failed"; exit 1; }
fi

passed=0; failed=0; failed_steps=()
wanted() { # NAME: not excluded by WS_SKIP / WS_ONLY
  if [ -n "${WS_SKIP:-}" ] && [[ "$1" == *"$WS_SKIP"* ]]; then
    echo "=== SKIPPED (WS_SKIP): $1"; return 1
  fi
  if [ -n "${WS_ONLY:-}" ] && [[ "$1" != *"$WS_ONLY"* ]]; then
    return 1
  fi
  return 0
}
step() {
  local name=$1; shift
  wanted "$name" || return 0
  echo "=== $name: $*"
  local t0=$SECONDS
  if "$@"; then
    echo "=== ok: $name ($((SECONDS - t0)) s)"; passed=$((passed + 1))
  else
    echo "=== FAILED: $name ($((SECONDS - t0)) s)"; failed=$((failed + 1)); failed_steps+=("$name")
  fi
}

step "format" cargo fmt --check
step "clippy" cargo clippy --all-targets -- -D warnings
step "header is current" scripts/gen-header.sh --check
step "third-party notices are current" python3 scripts/gen-notices.py --check
step "docs build" env RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --quiet
step "rust tests" cargo test
step "demo" cargo run --quiet --example demo
step "release build" cargo build --release
step "hostile peers: memory bounds over loopback (tests/hostile.rs)" cargo test --release --test hostile
[ -f scripts/test-c.sh ] && step "C tests (ASan/UBSan, valgrind)" bash scripts/test-c.sh
# squid (plain, Basic auth, HTTPS), tinyproxy, dante (SOCKS5 with and without auth): ~1 min.
[ -f scripts/test-proxy.sh ] && step "through real proxies (squid, tinyproxy, dante)" bash scripts/test-proxy.sh
# All 517 cases, permessage-deflate (12.*, 13.*) included: 7-8 minutes per mode alone,
# both modes side by side (different ports and outdirs; one driver binary per mode).
AB_NAME_WS="autobahn ws (all cases, input window)"
AB_NAME_WSS="autobahn wss (all cases)"
AB_ARGS=(--deflate)
if [ -n "${WSM_AUTOBAHN_CASES:-}" ]; then
  AB_ARGS+=(--cases "$WSM_AUTOBAHN_CASES")
  AB_NAME_WS="autobahn ws (cases $WSM_AUTOBAHN_CASES, input window)"
  AB_NAME_WSS="autobahn wss (cases $WSM_AUTOBAHN_CASES)"
fi
mkdir -p target/autobahn
AB_PID_WS="" AB_PID_WSS=""
if wanted "$AB_NAME_WS"; then
  env WSMACHINE_AUTOBAHN_WINDOW=1 bash scripts/autobahn.sh ws "${AB_ARGS[@]}" >target/autobahn/ws.log 2>&1 &
  AB_PID_WS=$!
fi
if wanted "$AB_NAME_WSS"; then
  bash scripts/autobahn.sh wss "${AB_ARGS[@]}" >target/autobahn/wss.log 2>&1 &
  AB_PID_WSS=$!
fi
finished() { # PID LOG: waits for a background run, prints its log, returns its status
  local rc=0
  wait "$1" || rc=$?
  cat "$2"
  return "$rc"
}
[ -n "$AB_PID_WS" ] && step "$AB_NAME_WS" finished "$AB_PID_WS" target/autobahn/ws.log
[ -n "$AB_PID_WSS" ] && step "$AB_NAME_WSS" finished "$AB_PID_WSS" target/autobahn/wss.log
# The 301 non-deflate cases once more, every connection through squid (HTTP CONNECT): ~1 min.
step "autobahn wss through squid (non-deflate cases)" env WSMACHINE_AUTOBAHN_PROXY=squid bash scripts/autobahn.sh wss
[ -f scripts/test-csharp.sh ] && step "C# bindings on Mono" bash scripts/test-csharp.sh
[ -f scripts/test-trust-squid.sh ] && step "trust: squid ssl_bump, corporate CA via system roots" bash scripts/test-trust-squid.sh
[ -f scripts/test-webgl.sh ] && step "WebGL: jslib in headless Chromium, C# WebGL build" bash scripts/test-webgl.sh
# Sections 1-10 through the jslib in Chromium, about 4 minutes (docs/CONFORMANCE.md, webgl).
[ -f scripts/autobahn-webgl.sh ] && step "autobahn webgl (1-10, jslib in Chromium)" bash scripts/autobahn-webgl.sh
# Before test-cross.sh: its build-release.sh run lays out dist/ anew (the Unity tarball too).
# Apple (macOS universal dylib and .a, iOS .a) built with clang-14/lld-14, checked with
# LLVM's tools (~7 min cold on 2 shared cores, ~20 s warm); SKIPPED without the optional tools.
[ -f scripts/test-apple.sh ] && step "Apple: macOS universal dylib, iOS static library (built and checked, not run)" bash scripts/test-apple.sh
[ -f scripts/test-native.sh ] && step "native packages: C++ wrapper, CMake, pkg-config, clean static lib, ABI check" bash scripts/test-native.sh
[ -f scripts/test-cross.sh ] && step "cross: Windows (wine), ARM64 (qemu), C# layout" bash scripts/test-cross.sh
# After test-cross.sh, whose build-release.sh run packed the tarball.
[ -f scripts/test-unity-package.sh ] && step "Unity package tarball (dist/*.tgz)" bash scripts/test-unity-package.sh
[ -f scripts/fuzz-smoke.sh ] && step "fuzz smoke (6 targets x 30 s)" bash scripts/fuzz-smoke.sh

echo
if [ "$failed" -gt 0 ]; then
  echo "failed steps: ${failed_steps[*]}"
fi
echo "steps: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
