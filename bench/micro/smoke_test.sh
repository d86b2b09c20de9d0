#!/bin/bash
# Runs every micro-benchmark once, briefly, so the benchmarks cannot rot unnoticed: each
# benchmark function must run without reporting an error (Google Benchmark exits 0 even when a
# benchmark calls SkipWithError, so its output is checked), and the allocation benchmark must
# proxy a small number of requests through a real in-process trellis-proxy and print its table.
#
# Arguments: the four Google Benchmark binaries, then the alloc_per_request binary.
set -euo pipefail

if [[ $# -ne 5 ]]; then
  echo "usage: smoke_test.sh PARSER ROUTE WEIGHTED COMPILE ALLOC" >&2
  exit 2
fi

status=0
for bench in "$1" "$2" "$3" "$4"; do
  name=$(basename "$bench")
  if ! out=$("$bench" --benchmark_min_time=0.0001 --benchmark_color=false 2>&1); then
    echo "FAIL: $name exited non-zero"
    echo "$out"
    status=1
    continue
  fi
  if grep -q "ERROR OCCURRED" <<<"$out"; then
    echo "FAIL: $name reported an error"
    grep "ERROR OCCURRED" <<<"$out"
    status=1
    continue
  fi
  count=$(grep -c "^BM_" <<<"$out" || true)
  if [[ "$count" -lt 3 ]]; then
    echo "FAIL: $name ran only $count benchmarks"
    echo "$out"
    status=1
    continue
  fi
  echo "ok: $name ($count benchmarks)"
done

name=$(basename "$5")
if ! out=$("$5" --warmup=200 --requests=1000 --connections=2 --body_sizes=64,65536 --samples=100 2>&1); then
  echo "FAIL: $name exited non-zero"
  echo "$out"
  status=1
elif ! grep -q "^| 64 B | " <<<"$out" || ! grep -q "^| 64 KiB | " <<<"$out"; then
  echo "FAIL: $name did not print a result row per body size"
  echo "$out"
  status=1
else
  echo "ok: $name"
  grep "^| 64" <<<"$out"
fi
exit $status
