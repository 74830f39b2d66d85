#!/usr/bin/env bash
# Runs every test of wsmachine. `.ci/run` calls exactly this (after .ci/install.sh).
#
#   scripts/test.sh            # everything
#   WS_SKIP=autobahn scripts/test.sh   # skip steps whose name contains a word (local use)
#
# Each step runs even when an earlier one failed; the script exits non-zero if any
# failed, and ends with a summary line.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TERM_COLOR=never

passed=0; failed=0; failed_steps=()
step() {
  local name=$1; shift
  if [ -n "${WS_SKIP:-}" ] && [[ "$name" == *"$WS_SKIP"* ]]; then
    echo "=== SKIPPED (WS_SKIP): $name"; return
  fi
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
step "docs build" env RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --quiet
step "rust tests" cargo test
step "demo" cargo run --quiet --example demo
step "release build" cargo build --release
step "hostile peers: memory bounds over loopback (tests/hostile.rs)" cargo test --release --test hostile
[ -f scripts/test-c.sh ] && step "C tests (ASan/UBSan, valgrind)" bash scripts/test-c.sh
# All 517 cases, permessage-deflate (12.*, 13.*) included: about 10 minutes per mode.
[ -f scripts/autobahn.sh ] && step "autobahn ws (all cases, input window)" env WSMACHINE_AUTOBAHN_WINDOW=1 bash scripts/autobahn.sh ws --deflate
[ -f scripts/autobahn.sh ] && step "autobahn wss (all cases)" bash scripts/autobahn.sh wss --deflate
[ -f scripts/test-csharp.sh ] && step "C# bindings on Mono" bash scripts/test-csharp.sh
[ -f scripts/test-cross.sh ] && step "cross: Windows (wine), ARM64 (qemu), C# layout" bash scripts/test-cross.sh
[ -f scripts/fuzz-smoke.sh ] && step "fuzz smoke (4 targets x 30 s)" bash scripts/fuzz-smoke.sh

echo
if [ "$failed" -gt 0 ]; then
  echo "failed steps: ${failed_steps[*]}"
fi
echo "steps: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
