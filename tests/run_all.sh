#!/usr/bin/env bash
# Runs every test suite and prints the closing line "N passed, N failed, N skipped".
# A suite is any program printing lines "PASS name", "FAIL name: why" or "SKIP name: why".
# A suite that exits non-zero without reporting a FAIL counts as one failure itself.
# Usage: tests/run_all.sh SUITE_CMD...   (each argument is one command line, run with bash -c)
set -u
passed=0; failed=0; skipped=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

for cmd in "$@"; do
  echo "== $cmd"
  : >"$log"
  timeout --foreground -k 10 "${SUITE_TIMEOUT:-1800}" bash -c "$cmd" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  p=$(grep -c '^PASS ' "$log"); f=$(grep -c '^FAIL ' "$log"); s=$(grep -c '^SKIP ' "$log")
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    echo "FAIL $cmd: exited with status $rc"
    f=1
  fi
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
