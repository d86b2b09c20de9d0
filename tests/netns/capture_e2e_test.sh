#!/usr/bin/env bash
# Bazel entry point for capture_e2e_test.py: the runfiles tree is the repository root.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"  # Bazel's strict test PATH leaves out where ip and iptables live
root="${TEST_SRCDIR:-$PWD}/${TEST_WORKSPACE:-trellis}"
exec python3 "$root/tests/netns/capture_e2e_test.py" "$root" "$root/$1" "$root/$2" "$root/$3"
