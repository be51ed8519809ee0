#!/usr/bin/env bash
# Production binaries: static, no glibc symbol versions, and a --version that names the build.
# Usage: run.sh VERSION BIN...
set -u
version=$1; shift
for bin in "$@"; do
  name=$(basename "$bin")
  desc=$(file -b "$bin")
  if [[ $desc == *"statically linked"* || $desc == *"static-pie linked"* ]]; then
    echo "PASS build/$name is static"
  else
    echo "FAIL build/$name is static: $desc"
  fi
  if grep -aq 'GLIBC_' "$bin"; then
    echo "FAIL build/$name has no glibc symbol versions: found GLIBC_ strings"
  else
    echo "PASS build/$name has no glibc symbol versions"
  fi
  out=$("$bin" --version 2>&1 </dev/null | head -n 1)
  if [[ $out == *"$version"* ]]; then
    echo "PASS build/$name --version ($out)"
  else
    echo "FAIL build/$name --version: expected '$version' in '$out'"
  fi
done
