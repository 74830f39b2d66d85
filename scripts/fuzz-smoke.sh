#!/usr/bin/env bash
# Fuzz smoke test: builds the cargo-fuzz targets in fuzz/ and runs each for
# FUZZ_SECONDS seconds (default 30), starting from the committed corpus in
# fuzz/corpus/<target>/. Exits non-zero when a target crashes (a panic, a broken
# invariant, a sanitizer report, an input slower than 10 s) or the build fails; a
# crashing input is saved under fuzz/artifacts/<target>/. See docs/FUZZING.md.
#
#   scripts/fuzz-smoke.sh                        # all targets, 30 s each
#   FUZZ_SECONDS=600 scripts/fuzz-smoke.sh frames   # one target, longer
#
# New inputs found during the run go to a temporary directory, never into the
# committed corpus. The last line is `N passed, N failed` (targets).
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TERM_COLOR=never
# cargo-fuzz passes -Z flags (sanitizer, coverage) that a stable rustc accepts only
# with this; no nightly toolchain is needed.
export RUSTC_BOOTSTRAP=1

secs=${FUZZ_SECONDS:-30}
if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=(handshake_response frames tls_records api_sequence proxy_reply tls_object)
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "=== installing cargo-fuzz"
  if ! cargo install cargo-fuzz --locked; then
    echo "cannot install cargo-fuzz"
    echo "0 passed, ${#targets[@]} failed"
    exit 1
  fi
fi

t0=$SECONDS
echo "=== build (debug assertions on): cargo fuzz build -a"
if ! cargo fuzz build -a; then
  echo "=== FAILED: build"
  echo "0 passed, ${#targets[@]} failed"
  exit 1
fi
echo "=== build took $((SECONDS - t0)) s"

passed=0
failed=0
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for t in "${targets[@]}"; do
  mkdir -p "$scratch/$t"
  log="$scratch/$t.log"
  t1=$SECONDS
  if cargo fuzz run -a "$t" "$scratch/$t" "fuzz/corpus/$t" -- \
      -max_total_time="$secs" -timeout=10 -print_final_stats=1 >"$log" 2>&1; then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
    echo "=== ok: $t ($((SECONDS - t1)) s, ${runs:-?} executions)"
    passed=$((passed + 1))
  else
    echo "=== FAILED: $t ($((SECONDS - t1)) s); the end of its log:"
    tail -n 40 "$log"
    failed=$((failed + 1))
  fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
