#!/usr/bin/env bash
# Regenerates include/wsmachine.h from src/ffi with cbindgen.
# With --check, fails (exit 1) when the checked-in header differs.
set -euo pipefail
cd "$(dirname "$0")/.."
out=include/wsmachine.h
if [ "${1:-}" = "--check" ]; then
  tmp=$(mktemp)
  cbindgen --quiet --config cbindgen.toml --crate wsmachine --output "$tmp"
  if ! diff -u "$out" "$tmp"; then
    echo "include/wsmachine.h is stale: run scripts/gen-header.sh and commit it" >&2
    exit 1
  fi
  echo "header up to date"
else
  cbindgen --quiet --config cbindgen.toml --crate wsmachine --output "$out"
fi
