#!/usr/bin/env bash
# Builds both OCI images with deploy/image/build from the Bazel-built binaries and checks them:
#
#  1. Always, from the oci-archive files alone: each image's config (user, entrypoint, exposed
#     ports) and its layer's file list (the binaries, every library ldd lists for them, and for
#     the proxy image /bin/sh, grep and curl for App Mesh's health check).
#  2. With podman (as root, vfs storage and runc under the test's temporary folder): trellis-cp's
#     image serves config/examples/colorapp, the proxy image runs with only App Mesh's
#     environment (APPMESH_VIRTUAL_NODE_NAME, ENVOY_ADMIN_ACCESS_PORT), in the cp container's
#     network namespace (private, so no host port is taken); App Mesh's container health check
#     `curl -s http://localhost:9901/server_info | grep state | grep -q LIVE` succeeds inside the
#     proxy container once the ADS configuration arrived, and the proxy runs as uid 1337.
#
# If podman cannot start a container here for a reason that is a property of the machine (and
# only then), part 2 is skipped with a line in capitals naming the reason; any other failure fails.
#
#   image_test.sh TRELLIS_PROXY TRELLIS_CP TRELLIS_INIT
set -euo pipefail

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

[ $# -eq 5 ] || fail "usage: image_test.sh TRELLIS_PROXY TRELLIS_CP TRELLIS_INIT TRELLIS_HCL2JSON TRELLIS_WEBHOOK"
src="${TEST_SRCDIR:?}/${TEST_WORKSPACE:?}"
export PATH="$PATH:/usr/sbin:/sbin"  # Bazel tests run with a short PATH
export PATH="$PATH:/usr/sbin:/sbin"
tmp="${TEST_TMPDIR:?}/image"
rm -rf "$tmp" && mkdir -p "$tmp/bin" "$tmp/out"
cp "$1" "$2" "$3" "$4" "$5" "$tmp/bin/"
[ "$(id -u)" = 0 ] || fail "needs root (buildah and podman run as root here)"
for tool in buildah podman python3; do command -v "$tool" >/dev/null || fail "$tool missing (scripts/setup installs it)"; done
version=$(head -n1 "$src/VERSION" | tr -d '[:space:]')

"$src/deploy/image/build" --binaries "$tmp/bin" --out "$tmp/out" | tee "$tmp/build.out"
proxy_archive="$tmp/out/trellis-proxy_${version}.oci.tar"
cp_archive="$tmp/out/trellis-cp_${version}.oci.tar"
[ -f "$proxy_archive" ] && [ -f "$cp_archive" ] || fail "deploy/image/build did not write both archives"
proxy_mb=$(( $(stat -c %s "$proxy_archive") / 1048576 ))
[ "$proxy_mb" -lt 50 ] || fail "the proxy image archive is ${proxy_mb} MB (the aim is under 50)"

# --- 1. the archives ------------------------------------------------------------------------
# Prints the image config as JSON and writes the layer's file list to $3.
inspect_archive() {
  python3 - "$1" "$2" <<'PY'
import json, sys, tarfile
archive, listing = sys.argv[1], sys.argv[2]
with tarfile.open(archive) as t:
    def blob(digest):
        return t.extractfile("blobs/sha256/" + digest.split(":", 1)[1])
    index = json.load(t.extractfile("index.json"))
    manifest = json.load(blob(index["manifests"][0]["digest"]))
    config = json.load(blob(manifest["config"]["digest"]))
    with open(listing, "w") as out:
        for layer in manifest["layers"]:
            with tarfile.open(fileobj=blob(layer["digest"]), mode="r:*") as lt:
                for m in lt.getmembers():
                    out.write(m.name.lstrip("./") + "\n")
    print(json.dumps(config["config"]))
PY
}
check_config() {  # CONFIG_JSON PYTHON_EXPRESSION DESCRIPTION
  python3 -c "import json,sys; c=json.loads(sys.argv[1]); sys.exit(0 if ($2) else 1)" "$1" || fail "$3: $1"
}
has_file() { grep -qxF "$2" "$1" || fail "$(basename "$1" .files) image has no $2"; }
libs_of() { ldd "$1" | sed -n -e 's/^.*=> \/\(usr\/\)\{0,1\}\([^ ]*\) (0x.*$/usr\/\2/p' -e 's/^[[:space:]]*\/\(usr\/\)\{0,1\}\([^ ]*\) (0x.*$/usr\/\2/p'; }

proxy_config=$(inspect_archive "$proxy_archive" "$tmp/proxy.files")
check_config "$proxy_config" 'c["User"] in ("1337", "1337:1337")' "proxy image user is not 1337"
check_config "$proxy_config" 'c["Entrypoint"] == ["/usr/bin/trellis-proxy"]' "proxy image entrypoint"
check_config "$proxy_config" 'all(p in c["ExposedPorts"] for p in ("9901/tcp", "15000/tcp", "15001/tcp"))' "proxy image ports"
for f in usr/bin/trellis-proxy usr/bin/trellis-init usr/bin/curl usr/bin/busybox usr/bin/sh usr/bin/grep \
         usr/sbin/iptables-restore usr/sbin/ip6tables-save etc/passwd etc/nsswitch.conf bin lib64; do
  has_file "$tmp/proxy.files" "$f"
done
for lib in $(libs_of "$tmp/bin/trellis-proxy") $(libs_of "$tmp/bin/trellis-init") $(libs_of "$(command -v curl)"); do
  has_file "$tmp/proxy.files" "$lib"
done
ok "proxy image: user 1337, entrypoint trellis-proxy, ports 9901 15000 15001, binaries and their libraries"

cp_config=$(inspect_archive "$cp_archive" "$tmp/cp.files")
check_config "$cp_config" 'c["Entrypoint"] == ["/usr/bin/trellis-cp", "--mesh-dir", "/mesh", "--listen", "0.0.0.0:15010", "--admin", "0.0.0.0:15011"]' "cp image entrypoint"
check_config "$cp_config" 'c["User"] not in ("", "0", "root")' "cp image runs as root"
check_config "$cp_config" 'all(p in c["ExposedPorts"] for p in ("15010/tcp", "15011/tcp"))' "cp image ports"
has_file "$tmp/cp.files" usr/bin/trellis-cp
has_file "$tmp/cp.files" usr/bin/trellis-hcl2json  # trellis-cp reads .tf files with it
has_file "$tmp/cp.files" usr/bin/trellis-webhook   # deploy/kubernetes/webhook.yaml runs it
for lib in $(libs_of "$tmp/bin/trellis-cp"); do has_file "$tmp/cp.files" "$lib"; done
ok "cp image: entrypoint trellis-cp --mesh-dir /mesh on 0.0.0.0:15010/15011, non-root, binary and libraries"

# --- 2. podman ------------------------------------------------------------------------------
runtime=runc
command -v runc >/dev/null || runtime=crun
# podman wants a runroot path of at most 50 characters: a short folder of our own in /tmp.
short=$(mktemp -d /tmp/trellis-pod.XXXXXX)
podman=(podman --storage-driver vfs --root "$tmp/storage" --runroot "$short/run" --runtime "$runtime"
        --cgroup-manager cgroupfs --events-backend file --tmpdir "$short/libpod")
# podman's default rlimits for root are above this machine's hard limits when the container
# runtime lacks CAP_SYS_RESOURCE; ask for what we have.
limits=(--ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit "nproc=4096:4096")
cp_name="trellis-cp-test-$$"
proxy_name="trellis-proxy-test-$$"
cleanup() {
  "${podman[@]}" rm -f -t 0 "$proxy_name" "$cp_name" >/dev/null 2>&1 || true
  "${podman[@]}" rmi -a -f >/dev/null 2>&1 || true
  rm -rf "$tmp/storage" "$short" 2>/dev/null || true
}
trap cleanup EXIT

"${podman[@]}" load -q -i "$proxy_archive" >/dev/null
"${podman[@]}" load -q -i "$cp_archive" >/dev/null
proxy_image="localhost/trellis-proxy:$version"
cp_image="localhost/trellis-cp:$version"

# Can this machine run a container at all? Only named machine limits excuse a failure.
if ! probe=$("${podman[@]}" run --rm --network none "${limits[@]}" "$proxy_image" --version 2>&1); then
  reason=
  case "$probe" in
    *"cgroups in hybrid mode not supported"*) reason="the OCI runtime ($runtime) refuses this machine's hybrid cgroup v1/v2 layout" ;;
    *"setrlimit"*"Operation not permitted"*) reason="the container runtime may not set rlimits (no CAP_SYS_RESOURCE): $probe" ;;
    *"user namespaces"*|*"unshare"*"Operation not permitted"*) reason="namespaces cannot be created here: $probe" ;;
    *"no cgroup mount found"*) reason="no cgroup filesystem is mounted (a chroot, such as the fresh-machine check's, has none): the OCI runtime ($runtime) cannot create a container" ;;
    *"mount"*"Operation not permitted"*|*"mount"*"permission denied"*) reason="mounts are not permitted here: $probe" ;;
  esac
  if [ -n "$reason" ]; then
    echo "PODMAN CANNOT RUN HERE: $(tr '[:lower:]' '[:upper:]' <<<"$reason")"
    echo "SKIPPED: the images were checked from their archives only (part 1 passed)"
    exit 0
  fi
  fail "podman could not run the proxy image, for a reason that is not a known machine limit: $probe"
fi
[ "$probe" = "trellis-proxy $version" ] || fail "trellis-proxy --version in the image said '$probe'"
ok "podman runs the proxy image ($runtime): $probe"

mesh="$tmp/mesh"
mkdir -p "$mesh"
cp -L "$src"/config/examples/colorapp/*.json "$src"/config/examples/colorapp/*.yaml "$mesh/"
chmod -R a+rX "$mesh"
"${podman[@]}" run -d --name "$cp_name" --network none "${limits[@]}" -v "$mesh:/mesh:ro" "$cp_image" >/dev/null
node=mesh/color-mesh/virtualNode/front
# Only App Mesh's variables; the control plane is in the same namespace, on loopback.
"${podman[@]}" run -d --name "$proxy_name" --network "container:$cp_name" "${limits[@]}" \
  -e APPMESH_VIRTUAL_NODE_NAME="$node" -e TRELLIS_CP_ADDRESS=127.0.0.1:15010 \
  -e ENVOY_ADMIN_ACCESS_PORT=9901 -e ENVOY_LOG_LEVEL=info -e ENABLE_ENVOY_XRAY_TRACING=1 "$proxy_image" >/dev/null

health='curl -s http://localhost:9901/server_info | grep state | grep -q LIVE'
deadline=$((SECONDS + 60))
until "${podman[@]}" exec "$proxy_name" sh -c "$health" 2>/dev/null; do
  state=$("${podman[@]}" inspect -f '{{.State.Status}}' "$proxy_name" 2>/dev/null || echo gone)
  cp_state=$("${podman[@]}" inspect -f '{{.State.Status}} (exit code {{.State.ExitCode}})' "$cp_name" 2>/dev/null || echo gone)
  if [ "$state" != running ] || [ "${cp_state%% *}" != running ] || [ $SECONDS -ge $deadline ]; then
    echo "--- trellis-cp logs"; "${podman[@]}" logs "$cp_name" 2>&1 | tail -20
    echo "--- trellis-proxy logs"; "${podman[@]}" logs "$proxy_name" 2>&1 | tail -20
    fail "App Mesh's health check did not pass inside the proxy container (proxy: $state; trellis-cp: $cp_state)"
  fi
  sleep 0.5  # no event to await from outside the container: the check itself is the probe
done
ok "App Mesh's health check passes inside the proxy container: $health"

"${podman[@]}" exec "$proxy_name" sh -c 'curl -s http://localhost:9901/server_info' | grep -q "\"id\": *\"$node\"" ||
  fail "/server_info does not show node.id $node"
uid=$("${podman[@]}" exec "$proxy_name" id -u)
[ "$uid" = 1337 ] || fail "the container's processes run as uid $uid, not 1337"
proc_uid=$("${podman[@]}" exec "$proxy_name" sh -c "grep '^Uid:' /proc/1/status" | awk '{print $2, $3, $4, $5}')
[ "$proc_uid" = "1337 1337 1337 1337" ] || fail "trellis-proxy (pid 1) has uids '$proc_uid'"
ok "trellis-proxy runs as uid 1337 with node.id $node"
logs=$("${podman[@]}" logs "$proxy_name" 2>&1)
grep -q "ENABLE_ENVOY_XRAY_TRACING=1: ignored" <<<"$logs" || fail "the proxy did not log ENABLE_ENVOY_XRAY_TRACING as ignored: $logs"
ok "ignored App Mesh variables are logged"
# The same image as trellis-init's (root, NET_ADMIN, in a namespace of its own): the rules land.
rules=$("${podman[@]}" run --rm --network none "${limits[@]}" --user 0 --cap-add NET_ADMIN --cap-add NET_RAW \
  -e APPMESH_APP_PORTS=8080 --entrypoint /bin/sh "$proxy_image" -c 'trellis-init && iptables-save -t nat' 2>&1) ||
  fail "trellis-init in the proxy image failed: $rules"
grep -q -- "-A TRELLIS_INGRESS -p tcp -m multiport --dports 8080 -j REDIRECT --to-ports 15000" <<<"$rules" ||
  fail "trellis-init in the proxy image did not install the ingress rule: $rules"
grep -q -- "-A TRELLIS_EGRESS -m owner --uid-owner 1337 -j RETURN" <<<"$rules" ||
  fail "trellis-init in the proxy image did not exempt uid 1337: $rules"
ok "trellis-init runs from the proxy image (root, NET_ADMIN) and installs the capture rules"
echo "PASS: $(grep -h 'MB' "$tmp/build.out" | tr '\n' ';')"
