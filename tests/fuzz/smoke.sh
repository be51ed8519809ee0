#!/usr/bin/env bash
# Runs each libFuzzer target for a fixed time over its seed corpus (tests/fuzz/corpus/NAME/).
# Usage: smoke.sh SECONDS BIN...   Prints PASS/FAIL per target; crashes are kept in out/fuzz/crashes/.
set -u
secs=$1; shift
here=$(cd "$(dirname "$0")" && pwd)
for bin in "$@"; do
  name=$(basename "$bin")
  corpus="$here/corpus/$name"
  work=$(mktemp -d)
  [ -d "$corpus" ] && cp -r "$corpus"/. "$work"/
  mkdir -p out/fuzz/crashes
  if "$bin" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
       -artifact_prefix=out/fuzz/crashes/"$name"- "$work" >"out/fuzz/$name.log" 2>&1; then
    echo "PASS fuzz/$name ($secs s, $(grep -o 'cov: [0-9]*' "out/fuzz/$name.log" | tail -1))"
  else
    echo "FAIL fuzz/$name: see out/fuzz/$name.log"; tail -30 "out/fuzz/$name.log"
  fi
  rm -rf "$work"
done
