#!/usr/bin/env bash
# trellis-init against the real iptables, in a network namespace of its own: install, idempotence,
# changed settings, --dry-run, refused settings, --clean back to exactly the state before, and
# connections actually redirected (outbound from an ordinary UID, inbound to an app port) or not
# (outbound from the proxy's UID 1337).
#
# Needs root (network namespaces, iptables). It never passes silently: without root, or when a
# namespace cannot be made, it fails loudly saying why.
#
#   capture_netns_test.sh PATH_TO_trellis-init
set -euo pipefail

loud() {
  {
    echo "################################################################################"
    echo "# capture_netns_test CANNOT RUN: $*"
    echo "# It needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN) to create a network namespace and"
    echo "# run iptables in it, and Bazel's sandbox must be off (tags no-sandbox, local)."
    echo "# This is a failure, not a skip."
    echo "################################################################################"
  } >&2
  exit 1
}
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
pass() { echo "ok: $*"; }

[ $# -eq 1 ] || fail "usage: $0 PATH_TO_trellis-init"
export PATH="$PATH:/usr/sbin:/sbin"  # Bazel's strict test PATH leaves out where iptables lives
[ "$(id -u)" = 0 ] || loud "not running as root (uid $(id -u))"
BIN="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
[ -x "$BIN" ] || fail "$BIN is not executable"
for tool in ip iptables-save iptables-restore ip6tables-save ip6tables-restore setpriv /usr/bin/python3; do
  command -v "$tool" >/dev/null || loud "$tool is not installed (scripts/setup installs iptables, iproute2, python3)"
done

NS="trellis-init-test-$$"
PEER="trellis-init-peer-$$"
TMP="$(mktemp -d)"
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  ip netns del "$NS" 2>/dev/null || true
  ip netns del "$PEER" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT
ip netns add "$NS" 2>"$TMP/netns.err" || loud "ip netns add $NS failed: $(cat "$TMP/netns.err")"
in_ns() { ip netns exec "$NS" "$@"; }
in_ns ip link set lo up  # also gives the namespace ::1, so TRELLIS_ENABLE_IPV6=auto includes IPv6
in_ns ip6tables-save -t nat >/dev/null 2>&1 || loud "ip6tables' nat table does not work in a namespace"

# Both families' nat tables, without '#' lines and counters.
snapshot() {
  in_ns iptables-save -t nat | grep -v '^#' | sed -E 's/\[[0-9]+:[0-9]+\]//g'
  echo "---- ip6tables"
  in_ns ip6tables-save -t nat | grep -v '^#' | sed -E 's/\[[0-9]+:[0-9]+\]//g'
}
same() {  # same SNAPSHOT_FILE WHAT
  snapshot >"$TMP/now"
  diff -u "$1" "$TMP/now" >&2 || fail "$2: the nat tables changed"
}
count() { grep -c -- "$1" "$2" || true; }

SETTINGS=(
  APPMESH_APP_PORTS=8080,9090
  APPMESH_IGNORE_UID=1337
  APPMESH_EGRESS_IGNORED_IP=169.254.169.254,169.254.170.2,fd00:ec2::254
  APPMESH_EGRESS_IGNORED_PORTS=443
)
run_init() { in_ns env "$@"; }  # run_init [VAR=value...] "$BIN" [flags]

# Something of someone else's in the table, which trellis-init must leave as it is.
in_ns iptables -t nat -A POSTROUTING -s 10.99.0.0/16 -j MASQUERADE
snapshot >"$TMP/before"

# --- install
run_init "${SETTINGS[@]}" "$BIN" || fail "install exited $?"
snapshot >"$TMP/installed"
v4="$(in_ns iptables-save -t nat)"
v6="$(in_ns ip6tables-save -t nat)"
echo "$v4" >"$TMP/v4"
echo "$v6" >"$TMP/v6"
for want in \
  "-A OUTPUT -p tcp -m addrtype ! --dst-type LOCAL -m comment --comment trellis-init -j TRELLIS_EGRESS" \
  "-A PREROUTING -p tcp -m addrtype ! --src-type LOCAL -m comment --comment trellis-init -j TRELLIS_INGRESS" \
  "-A TRELLIS_EGRESS -m owner --uid-owner 1337 -j RETURN" \
  "-A TRELLIS_EGRESS -d 169.254.169.254/32 -j RETURN" \
  "-A TRELLIS_EGRESS -d 169.254.170.2/32 -j RETURN" \
  "-A TRELLIS_EGRESS -p tcp -m multiport --dports 22,443 -j RETURN" \
  "-A TRELLIS_EGRESS -p tcp -j REDIRECT --to-ports 15001" \
  "-A TRELLIS_INGRESS -p tcp -m multiport --dports 8080,9090 -j REDIRECT --to-ports 15000" \
  "-A POSTROUTING -s 10.99.0.0/16 -j MASQUERADE"; do
  grep -qxF -- "$want" "$TMP/v4" || { cat "$TMP/v4" >&2; fail "IPv4 rule missing: $want"; }
done
grep -q "fd00:ec2" "$TMP/v4" && fail "an IPv6 address went to iptables"
for want in \
  "-A OUTPUT -p tcp -m addrtype ! --dst-type LOCAL -m comment --comment trellis-init -j TRELLIS_EGRESS" \
  "-A TRELLIS_EGRESS -m owner --uid-owner 1337 -j RETURN" \
  "-A TRELLIS_EGRESS -d fd00:ec2::254/128 -j RETURN" \
  "-A TRELLIS_EGRESS -p tcp -j REDIRECT --to-ports 15001" \
  "-A TRELLIS_INGRESS -p tcp -m multiport --dports 8080,9090 -j REDIRECT --to-ports 15000"; do
  grep -qxF -- "$want" "$TMP/v6" || { cat "$TMP/v6" >&2; fail "IPv6 rule missing: $want"; }
done
grep -q "169.254" "$TMP/v6" && fail "an IPv4 address went to ip6tables"
pass "install: the rules are in both families"

# --- install again: nothing changes
run_init "${SETTINGS[@]}" "$BIN" 2>"$TMP/err" || fail "second install exited $?"
same "$TMP/installed" "second install"
grep -q "already installed" "$TMP/err" || fail "second install did not say it was already installed: $(cat "$TMP/err")"
pass "install twice: identical tables"

# --- changed settings: chains rewritten, jumps still single
run_init APPMESH_APP_PORTS=7070 APPMESH_ENVOY_EGRESS_PORT=16001 APPMESH_IGNORE_GID=1338 "$BIN" || fail "changed install exited $?"
snapshot >"$TMP/changed"
grep -q -- "--to-ports 16001" "$TMP/changed" || fail "changed settings: no redirect to 16001"
grep -q -- "--to-ports 15001" "$TMP/changed" && fail "changed settings: the old redirect to 15001 is still there"
grep -q -- "--gid-owner 1338" "$TMP/changed" || fail "changed settings: no GID exemption"
grep -q -- "--dports 7070 -j REDIRECT" "$TMP/changed" || fail "changed settings: no ingress redirect of 7070"
grep -q -- "8080,9090" "$TMP/changed" && fail "changed settings: the old app ports are still there"
[ "$(count "comment trellis-init -j TRELLIS_EGRESS" "$TMP/changed")" = 2 ] || fail "changed settings: OUTPUT jumps not one per family"
[ "$(count "comment trellis-init -j TRELLIS_INGRESS" "$TMP/changed")" = 2 ] || fail "changed settings: PREROUTING jumps not one per family"
# Without app ports, the ingress part goes away.
run_init APPMESH_ENVOY_EGRESS_PORT=16001 "$BIN" || fail "install without app ports exited $?"
snapshot >"$TMP/noingress"
grep -q "TRELLIS_INGRESS" "$TMP/noingress" && fail "no app ports: TRELLIS_INGRESS is still there"
# And back: exactly the first install.
run_init "${SETTINGS[@]}" "$BIN" || fail "reinstall exited $?"
same "$TMP/installed" "reinstall of the first settings"
pass "changed settings rewrite the chains; jumps stay single; back again gives the same tables"

# --- --dry-run changes nothing
run_init APPMESH_ENVOY_EGRESS_PORT=17001 "$BIN" --dry-run >"$TMP/dry" || fail "--dry-run exited $?"
same "$TMP/installed" "--dry-run"
grep -q -- "--to-ports 17001" "$TMP/dry" || fail "--dry-run did not print the would-be rules: $(cat "$TMP/dry")"
grep -q "TRELLIS_EGRESS_PORT=17001" "$TMP/dry" || fail "--dry-run did not print the settings"
run_init "$BIN" --dry-run --clean >"$TMP/dryclean" || fail "--dry-run --clean exited $?"
same "$TMP/installed" "--dry-run --clean"
grep -q -- "^-D OUTPUT .*trellis-init" "$TMP/dryclean" || fail "--dry-run --clean did not print the deletes"
pass "--dry-run prints and changes nothing"

# --- refused settings: exit 2, the variable named, nothing touched
expect_refused() {  # expect_refused WORD_IN_MESSAGE VAR=value...
  local word="$1" rc=0
  shift
  run_init "$@" "$BIN" 2>"$TMP/err" || rc=$?
  [ "$rc" = 2 ] || fail "$*: exit $rc, want 2"
  grep -q "^trellis-init: .*$word" "$TMP/err" || fail "$*: message does not name $word: $(cat "$TMP/err")"
  same "$TMP/installed" "refused $*"
}
expect_refused 'APPMESH_ENVOY_EGRESS_PORT="70000"' APPMESH_ENVOY_EGRESS_PORT=70000
expect_refused 'TRELLIS_INGRESS_PORT and TRELLIS_EGRESS_PORT' TRELLIS_INGRESS_PORT=15001
expect_refused 'APPMESH_APP_PORTS="8080,,9090"' APPMESH_APP_PORTS=8080,,9090
expect_refused 'TRELLIS_IGNORE_UID' APPMESH_IGNORE_UID=1337 TRELLIS_IGNORE_UID=0
rc=0
run_init "$BIN" --bogus 2>/dev/null || rc=$?
[ "$rc" = 2 ] || fail "unknown flag: exit $rc, want 2"
run_init APPMESH_START_ENABLED=0 APPMESH_ENVOY_EGRESS_PORT=1 "$BIN" 2>"$TMP/err" || fail "disabled: exit $?"
grep -q "disabled" "$TMP/err" || fail "disabled: no message"
same "$TMP/installed" "capture disabled"
pass "bad settings exit 2 naming the variable and change nothing; disabled changes nothing"

# --- traffic: outbound from an ordinary UID is redirected to 15001, from UID 1337 (and to port 22)
# it is not; inbound to an app port from another namespace is redirected to 15000. The other end
# is a peer namespace on a veth pair, with its own listeners on 80 and 22.
ip netns add "$PEER" || loud "ip netns add $PEER failed"
in_peer() { ip netns exec "$PEER" "$@"; }
in_ns ip link add v0 type veth peer name v1 || loud "cannot create a veth pair"
in_ns ip link set v1 netns "$PEER"
in_ns ip addr add 198.19.0.1/24 dev v0
in_ns ip link set v0 up
in_peer ip addr add 198.19.0.2/24 dev v1
in_peer ip link set v1 up
in_peer ip link set lo up

# A listener that answers each connection with its own port and the destination the client had
# asked for (SO_ORIGINAL_DST when redirected, else its own address), and writes "ready" to a FIFO
# once it listens.
cat >"$TMP/listener.py" <<'PY'
import socket, struct, sys
addr, port, ready = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((addr, port))
s.listen(16)
with open(ready, "w") as f:
    f.write("ready\n")
while True:
    c, _ = s.accept()
    try:
        dport, dip = struct.unpack("!2xH4s8x", c.getsockopt(socket.SOL_IP, 80, 16))  # SO_ORIGINAL_DST
        dest = "%s:%d" % (socket.inet_ntoa(dip), dport)
    except OSError:
        dest = "%s:%d" % c.getsockname()
    c.sendall(("via %d from %s\n" % (port, dest)).encode())
    c.close()
PY
# A client: prints what the listener said, or "failed: ERROR".
CLIENT='
import socket, sys
try:
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
    print(s.recv(200).decode().strip())
except OSError as e:
    print("failed: %s" % e)
'
start_listener() {  # start_listener NETNS ADDR PORT
  local fifo="$TMP/ready-$1-$3" line=""
  mkfifo "$fifo"
  ip netns exec "$1" /usr/bin/python3 "$TMP/listener.py" "$2" "$3" "$fifo" &
  pids+=($!)
  read -r -t 10 line <"$fifo" || true  # the listener's own event, bounded
  [ "$line" = ready ] || fail "listener on $2:$3 in $1 did not start"
}
start_listener "$NS" 127.0.0.1 15001
start_listener "$NS" 0.0.0.0 15000
start_listener "$PEER" 198.19.0.2 80
start_listener "$PEER" 198.19.0.2 22
as() { local id="$1"; shift; in_ns setpriv --reuid="$id" --regid="$id" --clear-groups /usr/bin/python3 -c "$CLIENT" "$@"; }
expect() {  # expect WHAT GOT WANT
  [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
}
expect "UID 65534 to 198.19.0.2:80" "$(as 65534 198.19.0.2 80)" "via 15001 from 198.19.0.2:80"
expect "UID 1337 to 198.19.0.2:80" "$(as 1337 198.19.0.2 80)" "via 80 from 198.19.0.2:80"
expect "UID 65534 to port 22" "$(as 65534 198.19.0.2 22)" "via 22 from 198.19.0.2:22"
expect "inbound to 198.19.0.1:8080" "$(in_peer /usr/bin/python3 -c "$CLIENT" 198.19.0.1 8080)" "via 15000 from 198.19.0.1:8080"
pass "traffic: UID 65534 redirected to 15001, UID 1337 and port 22 not, inbound 8080 redirected to 15000"

# --- IPv6 failing after IPv4 applied: IPv4 is put back as it was (here: the first install),
# exit 1. A stand-in ip6tables-restore, first on PATH, fails every transaction.
mkdir "$TMP/failing6"
printf '#!/bin/sh\necho "stand-in ip6tables-restore: refusing" >&2\nexit 4\n' >"$TMP/failing6/ip6tables-restore"
chmod +x "$TMP/failing6/ip6tables-restore"
rc=0
run_init PATH="$TMP/failing6:$PATH" APPMESH_ENVOY_EGRESS_PORT=18001 TRELLIS_ENABLE_IPV6=1 "$BIN" 2>"$TMP/err" || rc=$?
[ "$rc" = 1 ] || fail "failing IPv6: exit $rc, want 1"
grep -q "undid the IPv4 change" "$TMP/err" || fail "failing IPv6: IPv4 not undone: $(cat "$TMP/err")"
same "$TMP/installed" "failing IPv6 over an install"
pass "IPv6 failing after IPv4: IPv4 restored to the previous install, exit 1"

# --- clean: exactly the state before, in both families; twice is fine
run_init "$BIN" --clean || fail "--clean exited $?"
same "$TMP/before" "install + clean"
run_init "$BIN" --clean 2>"$TMP/err" || fail "second --clean exited $?"
same "$TMP/before" "second clean"
expect "after --clean, UID 65534 to 198.19.0.2:80" "$(as 65534 198.19.0.2 80)" "via 80 from 198.19.0.2:80"
pass "--clean restores the exact tables from before; twice is fine"

rc=0
run_init PATH="$TMP/failing6:$PATH" "${SETTINGS[@]}" "$BIN" 2>"$TMP/err" || rc=$?
[ "$rc" = 1 ] || fail "failing IPv6 on a clean table: exit $rc, want 1"
same "$TMP/before" "failing IPv6 on a clean table"
pass "IPv6 failing on a clean table: nothing left installed"

echo "PASS"
