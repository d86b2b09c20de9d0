#!/usr/bin/env bash
# trellis-proxy without -c: the bootstrap made from App Mesh's environment, as --print-bootstrap
# shows it. It is JSON that -c reads back to the same document; ignored variables are noted on
# stderr (stdout stays the document); a missing node or a bad value exits 1 naming the variable.
#
#   print_bootstrap_test.sh TRELLIS_PROXY
set -euo pipefail
proxy=$1
tmp=${TEST_TMPDIR:?}
fail() { echo "FAIL: $*" >&2; exit 1; }

env -i APPMESH_VIRTUAL_NODE_NAME=mesh/m/virtualNode/front TRELLIS_CP_ADDRESS=127.0.0.1:15999 \
  ENVOY_ADMIN_ACCESS_PORT=9555 ENABLE_ENVOY_XRAY_TRACING=1 \
  "$proxy" --print-bootstrap > "$tmp/env.json" 2> "$tmp/env.err" || fail "--print-bootstrap exited $?: $(cat "$tmp/env.err")"
python3 - "$tmp/env.json" <<'PY' || fail "the printed bootstrap is not what the environment says: $(cat "$tmp/env.json")"
import json, sys
b = json.load(open(sys.argv[1]))
assert b["node"]["id"] == "mesh/m/virtualNode/front", b["node"]
assert b["node"]["cluster"] == "front"
assert b["admin"]["address"]["socket_address"] == {"address": "0.0.0.0", "port_value": 9555}
ep = b["static_resources"]["clusters"][0]["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]
assert ep["address"]["socket_address"] == {"address": "127.0.0.1", "port_value": 15999}
assert b["dynamic_resources"]["lds_config"]["initial_fetch_timeout"] == "0s"
PY
grep -q "ENABLE_ENVOY_XRAY_TRACING=1: ignored" "$tmp/env.err" || fail "the ignored variable was not noted on stderr: $(cat "$tmp/env.err")"
echo "ok: the environment's bootstrap, ignored variable on stderr"

# -c reads the printed document back to the same bootstrap.
env -i APPMESH_VIRTUAL_NODE_NAME=mesh/m/virtualNode/front "$proxy" -c "$tmp/env.json" --print-bootstrap > "$tmp/again.json" ||
  fail "-c did not accept the printed bootstrap"
cmp -s "$tmp/env.json" "$tmp/again.json" || fail "the round trip changed the bootstrap: $(diff "$tmp/env.json" "$tmp/again.json")"
echo "ok: -c reads the printed bootstrap back unchanged"

rc=0; env -i "$proxy" --print-bootstrap > "$tmp/none.out" 2> "$tmp/none.err" || rc=$?
[ "$rc" = 1 ] || fail "without a node the exit status is $rc, not 1"
grep -q "APPMESH_RESOURCE_ARN: required when trellis-proxy starts without -c" "$tmp/none.err" || fail "unexpected error: $(cat "$tmp/none.err")"
[ ! -s "$tmp/none.out" ] || fail "an error wrote to stdout"
rc=0; env -i APPMESH_VIRTUAL_NODE_NAME=mesh/m/virtualNode/front ENVOY_ADMIN_ACCESS_PORT=http "$proxy" 2> "$tmp/bad.err" || rc=$?
[ "$rc" = 1 ] || fail "a bad port exits $rc, not 1"
grep -qF "ENVOY_ADMIN_ACCESS_PORT='http': the port must be a number from 1 to 65535" "$tmp/bad.err" || fail "unexpected error: $(cat "$tmp/bad.err")"
echo "ok: a missing node and a bad value exit 1 naming the variable"
