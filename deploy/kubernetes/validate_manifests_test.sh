#!/usr/bin/env bash
# The Kubernetes rules check (validate_manifests) over everything Trellis hands to a cluster:
# the manifests in deploy/kubernetes, webhook.yaml as make-webhook-cert fills it, and the output
# of `trellis-inject k8s` in both modes. Then the validator itself on a manifest broken in every
# way it checks, so a validator that passes everything fails this test. And the trellis-cp
# ConfigMap must hold config/examples/colorapp's files verbatim.
#
# usage: validate_manifests_test.sh VALIDATE_MANIFESTS K8S_COMMAND_DRIVER MAKE_WEBHOOK_CERT
set -euo pipefail
validate=$1 inject=$2 make_cert=$3
tmp=${TEST_TMPDIR:-$(mktemp -d)}
failed=0
pass() { echo "ok    $*"; }
fail() { echo "FAIL  $*"; failed=1; }

if "$validate" deploy/kubernetes/trellis-cp.yaml deploy/kubernetes/sidecar-native.yaml \
     deploy/kubernetes/sidecar-plain.yaml deploy/kubernetes/webhook.yaml; then
  pass "deploy/kubernetes manifests are valid"
else
  fail "deploy/kubernetes manifests"
fi

"$make_cert" "$tmp/certs" 2>/dev/null
if "$validate" "$tmp/certs/webhook.yaml" "$tmp/certs/webhook-secret.yaml"; then
  pass "make-webhook-cert's webhook.yaml and Secret are valid"
else
  fail "make-webhook-cert's output"
fi

for mode in native plain; do
  out="$tmp/injected-$mode.yaml"
  "$inject" deploy/inject/testdata/workloads.yaml deploy/inject/testdata/pods.yaml \
    deploy/inject/testdata/opted_out.yaml --virtual-node-map deploy/inject/testdata/virtual-node-map.yaml \
    --mode "$mode" -o "$out" 2>"$tmp/inject-$mode.log"
  grep -q "trellis-proxy" "$out" || fail "trellis-inject k8s --mode $mode injected nothing"
  if "$validate" "$out"; then pass "trellis-inject k8s --mode $mode output is valid"; else fail "--mode $mode output"; fi
done

set +e
"$validate" deploy/kubernetes/testdata/invalid-pod.yaml 2>"$tmp/invalid.log"
rc=$?
set -e
[ "$rc" = 1 ] && pass "the broken manifest is refused (exit 1)" || fail "the broken manifest: exit $rc, 1 expected"
while IFS= read -r expected; do
  if grep -qF -- "$expected" "$tmp/invalid.log"; then
    pass "reported: $expected"
  else
    fail "not reported: $expected"
  fi
done < deploy/kubernetes/testdata/invalid-pod.expected

if python3 - <<'PY'
import sys, yaml
docs = list(yaml.safe_load_all(open("deploy/kubernetes/trellis-cp.yaml")))
data = [d for d in docs if d["kind"] == "ConfigMap"][0]["data"]
bad = [name for name, text in data.items() if open("config/examples/colorapp/" + name).read() != text]
if bad:
    print("differ from config/examples/colorapp:", bad)
    sys.exit(1)
print(len(data), "files")
PY
then
  pass "the trellis-mesh ConfigMap holds config/examples/colorapp's files verbatim"
else
  fail "the trellis-mesh ConfigMap is out of date with config/examples/colorapp"
fi

[ "$failed" = 0 ] && echo "all checks passed" || { echo "some checks failed"; exit 1; }
