#!/usr/bin/env bash
# Bazel entry point for gateway_e2e_test.py: the runfiles tree is the repository root.
set -euo pipefail
root="${TEST_SRCDIR:-$PWD}/${TEST_WORKSPACE:-trellis}"
exec python3 "$root/tests/e2e/gateway_e2e_test.py" "$root" "$root/$1" "$root/$2"
