#!/usr/bin/env bash
# Checks trellis-hcl2json against fixtures: the JSON it writes for every kind of expression, and
# that a syntax error exits 1 with HCL's diagnostic naming the file, line and column.
set -u
converter="$1"
here="$(dirname "$0")/testdata"
[ -d "$here" ] || here="config/appmesh/terraform/hcl2json/testdata"
failures=0
passes=0
check() {  # NAME CONDITION-RESULT DETAIL
  if [ "$2" = 0 ]; then passes=$((passes + 1)); echo "ok: $1"; else failures=$((failures + 1)); echo "FAIL: $1: $3"; fi
}

out="$("$converter" "$here/expressions.tf" 2>&1)"; rc=$?
check "expressions.tf converts" "$rc" "exit $rc: $out"
expected="$(cat "$here/expressions.json")"
[ "$out" = "$expected" ]; check "expressions.tf JSON matches expressions.json" $? "got: $out"

out="$("$converter" -name stdin.tf < "$here/expressions.tf" 2>&1)"; rc=$?
[ $rc = 0 ] && [ "$out" = "$expected" ]; check "standard input with -name" $? "exit $rc: $out"

err="$("$converter" "$here/syntax_error.tf" 2>&1 >/dev/null)"; rc=$?
[ $rc = 1 ]; check "syntax error exits 1" $? "exit $rc"
case "$err" in
  *syntax_error.tf:3,9*"Invalid expression"*) check "diagnostic names file:line,col" 0 "" ;;
  *) check "diagnostic names file:line,col" 1 "got: $err" ;;
esac

"$converter" >/dev/null 2>&1; rc=$?
[ $rc = 2 ]; check "no argument is a usage error" $? "exit $rc"

echo "$passes passed, $failures failed"
[ $failures = 0 ]
