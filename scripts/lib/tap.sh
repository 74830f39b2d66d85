# Sourced by scripts/test-c.sh, scripts/test-native.sh and scripts/test-cross.sh (after
# `cd` to the repository root): what they share.
#   tap_begin NAME  T_START; TMP, a fresh ${TMPDIR:-/tmp}/wsm-NAME.XXXXXX (KEEP_TMP=1
#                   keeps it); SERVER_PIDS, the servers killed and waited for on exit
#   ok / not_ok     one "ok - " / "not ok - " line, counted in PASSED / FAILED
#   diag_file FILE [N]  the last N (40) lines of FILE as "#   " diagnostics
#   step DESCRIPTION CMD...  one check line for a command; its output only on failure

tap_begin() {
  T_START=$(date +%s%N)
  TMP=$(mktemp -d "${TMPDIR:-/tmp}/wsm-$1.XXXXXX")
  SERVER_PIDS=()
  trap tap_cleanup EXIT
  trap 'exit 130' INT TERM
}

tap_cleanup() {
  local p
  for p in "${SERVER_PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${SERVER_PIDS[@]}"; do wait "$p" 2>/dev/null; done
  if [ "${KEEP_TMP:-0}" = 1 ]; then echo "# kept $TMP" >&2; else rm -rf "$TMP"; fi
}

ok() { echo "ok - $*"; PASSED=$((PASSED + 1)); }
not_ok() { echo "not ok - $*"; FAILED=$((FAILED + 1)); }
diag_file() { sed 's/^/#   /' "$1" | tail -n "${2:-40}"; }

step() {
  local desc=$1; shift
  if "$@" >"$TMP/step.log" 2>&1; then ok "$desc"; return 0; fi
  not_ok "$desc"; diag_file "$TMP/step.log"; return 1
}
