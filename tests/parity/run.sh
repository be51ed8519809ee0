#!/usr/bin/env bash
# Parity of llmbox against llama.cpp: synthetic models of every arch x tensor type, the real
# default model, malformed files. Usage: run.sh fast|full|real|bad|synthetic|only KEY...
# (details and tolerances in parity.py). Prints PASS/FAIL lines for tests/run_all.sh.
set -u
cd "$(dirname "$0")/../.." || exit 1
exec "${PYTHON:-/usr/bin/python3}" tests/parity/parity.py "${@:-fast}"
