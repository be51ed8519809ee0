#!/usr/bin/env bash
# `make bench` entry point: see bench/run.py (needs out/bin/llmbox, out/bench/bin/*, out/oracle).
set -euo pipefail
cd "$(dirname "$0")/.."
exec "${PYTHON:-/usr/bin/python3}" bench/run.py "$@"
