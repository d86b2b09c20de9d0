#!/usr/bin/env bash
# trellis-inject as a user runs it: subcommand dispatch, exit statuses, stdout and stderr.
set -uo pipefail
bin="$1"
data="deploy/inject/testdata"
tmp="${TEST_TMPDIR:?bazel test sets TEST_TMPDIR}"
failures=0
check() {  # check NAME CONDITION...
  local name="$1"; shift
  if "$@"; then echo "ok: $name"; else echo "FAIL: $name"; failures=$((failures + 1)); fi
}

"$bin" ecs "$data/appmesh-colorteller.json" >"$tmp/out.json" 2>"$tmp/err"; rc=$?
check "ecs converts (exit 0)" test "$rc" = 0
check "ecs output has the Trellis image" grep -q '"image": "trellis/trellis-proxy:' "$tmp/out.json"
check "ecs reports the image change" grep -q 'containerDefinitions\[2\] (envoy): image .*aws-appmesh-envoy:v1.29.12.1-prod -> trellis/trellis-proxy:' "$tmp/err"

"$bin" ecs "$data/plain-taskdef.json" >"$tmp/out2" 2>"$tmp/err2"; rc=$?
check "no App Mesh and no --node: exit 2" test "$rc" = 2
check "no App Mesh and no --node: nothing on stdout" test ! -s "$tmp/out2"
check "no App Mesh and no --node: says why" grep -q 'no --node; give --node mesh/MESH/virtualNode/NODE' "$tmp/err2"

"$bin" k8s "$tmp/no-such-pod.yaml" >/dev/null 2>"$tmp/err3"; rc=$?
check "k8s with an unreadable file: fails" test "$rc" != 0
check "k8s with an unreadable file: names it" grep -q 'no-such-pod.yaml: cannot be read' "$tmp/err3"
check "k8s with an unreadable file: writes nothing" grep -q 'trellis-inject k8s: nothing written' "$tmp/err3"

"$bin" frobnicate >/dev/null 2>"$tmp/err4"; rc=$?
check "unknown subcommand: exit 2" test "$rc" = 2
check "unknown subcommand: named" grep -q 'unknown subcommand "frobnicate"' "$tmp/err4"

"$bin" ecs --help >"$tmp/help"; rc=$?
check "ecs --help: exit 0" test "$rc" = 0
check "ecs --help: the default image" grep -q 'default trellis/trellis-proxy:' "$tmp/help"

passed=$(( 12 - failures ))
echo "$passed passed, $failures failed"
[ "$failures" = 0 ]
