#!/usr/bin/env bash
# End to end with real clients and servers from Debian: two `python3 -m http.server` upstreams,
# the built trellis-proxy between them and curl. Checks the 80/20 split over 200 requests, the
# admin endpoint (/ready, /stats), and a clean exit (code 0) on SIGTERM. Every process it
# starts is stopped by the EXIT trap, whatever happens.
#
# Usage: proxy_split_e2e_test.sh PATH_TO_TRELLIS_PROXY
set -euo pipefail

PROXY=${1:?usage: $0 PATH_TO_TRELLIS_PROXY}
REQUESTS=200
WORK=$(mktemp -d "${TEST_TMPDIR:-/tmp}/trellis-e2e.XXXXXX")
PIDS=()

cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  for log in "$WORK"/*.log; do
    [[ -f $log ]] && { echo "--- $log" >&2; tail -n 20 "$log" >&2; }
  done
  exit 1
}

# wait_for DESCRIPTION COMMAND...: retries COMMAND every 0.1 s, for at most 10 s.
wait_for() {
  local what=$1
  shift
  for _ in $(seq 100); do
    if "$@"; then return 0; fi
    sleep 0.1
  done
  fail "timed out waiting for $what"
}

# start_upstream NAME: serves a directory whose index.html says NAME, on a port the kernel
# picks (http.server binds port 0 and prints the port it got). Sets PORT_<NAME>.
start_upstream() {
  local name=$1
  mkdir -p "$WORK/$name"
  echo "$name" >"$WORK/$name/index.html"
  python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$WORK/$name" >"$WORK/$name.log" 2>&1 &
  PIDS+=($!)
  wait_for "http.server $name to listen" grep -q "Serving HTTP on" "$WORK/$name.log"
  local port
  port=$(sed -n 's/.*Serving HTTP on [0-9.]* port \([0-9]*\).*/\1/p' "$WORK/$name.log" | head -n 1)
  [[ -n $port ]] || fail "no port in $WORK/$name.log"
  printf -v "PORT_$name" '%s' "$port"
}

cluster_yaml() {
  cat <<YAML
  - name: $1
    type: STATIC
    connect_timeout: 1s
    lb_policy: ROUND_ROBIN
    load_assignment:
      cluster_name: $1
      endpoints:
      - lb_endpoints:
        - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: $2}}}
YAML
}

start_upstream red
start_upstream blue

cat >"$WORK/bootstrap.yaml" <<YAML
node: {id: e2e, cluster: e2e}
admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
static_resources:
  listeners:
  - name: outbound
    address: {socket_address: {address: 127.0.0.1, port_value: 0}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: outbound
          route_config:
            name: colors
            virtual_hosts:
            - name: colors
              domains: ["*"]
              routes:
              - match: {prefix: "/"}
                route:
                  weighted_clusters:
                    clusters:
                    - {name: red, weight: 80}
                    - {name: blue, weight: 20}
          http_filters:
          - name: envoy.filters.http.router
            typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
  clusters:
$(cluster_yaml red "$PORT_red")
$(cluster_yaml blue "$PORT_blue")
YAML

"$PROXY" -c "$WORK/bootstrap.yaml" --concurrency 2 --drain-time-s 5 \
  --admin-address-path "$WORK/admin_address" >"$WORK/proxy.log" 2>&1 &
PROXY_PID=$!
PIDS+=("$PROXY_PID")
wait_for "the proxy's admin address file" test -s "$WORK/admin_address"
ADMIN=$(head -n 1 "$WORK/admin_address")
[[ $ADMIN =~ ^127\.0\.0\.1:[0-9]+$ ]] || fail "admin address file holds '$ADMIN'"

# The listener's port, from the admin endpoint ("outbound::127.0.0.1:PORT").
LISTENERS=$(curl -fsS --max-time 5 "http://$ADMIN/listeners") || fail "GET /listeners"
PORT=$(sed -n 's/^outbound::127\.0\.0\.1:\([0-9]*\)$/\1/p' <<<"$LISTENERS")
[[ -n $PORT ]] || fail "no outbound listener in: $LISTENERS"

READY=$(curl -sS --max-time 5 -o /dev/null -w '%{http_code}' "http://$ADMIN/ready")
[[ $READY == 200 ]] || fail "/ready answered $READY"

# 200 requests; curl reuses its connection to the proxy across the URLs of one invocation.
URLS=()
for ((i = 0; i < REQUESTS; i++)); do URLS+=("http://127.0.0.1:$PORT/"); done
curl -fsS --max-time 60 "${URLS[@]}" >"$WORK/bodies.txt" || fail "curl through the proxy failed"
RED=$(grep -cx red "$WORK/bodies.txt" || true)
BLUE=$(grep -cx blue "$WORK/bodies.txt" || true)
echo "red=$RED blue=$BLUE of $REQUESTS"
((RED + BLUE == REQUESTS)) || fail "expected $REQUESTS answers, got red=$RED blue=$BLUE"
# 80% of 200 is 160 with a standard deviation of about 5.7: ±30 is more than five of them, so
# a correct proxy fails this less than once in ten million runs, and a 50/50 or 100/0 split
# always fails it.
((RED >= 130 && RED <= 190)) || fail "red got $RED of $REQUESTS, expected 160 ± 30"

STATS=$(curl -fsS --max-time 5 "http://$ADMIN/stats") || fail "GET /stats"
grep -qx "cluster.red.upstream_rq_total: $RED" <<<"$STATS" || fail "/stats disagrees on red: $(grep red.upstream_rq_total <<<"$STATS")"
grep -qx "cluster.blue.upstream_rq_total: $BLUE" <<<"$STATS" || fail "/stats disagrees on blue"
grep -qx "http.outbound.downstream_rq_2xx: $REQUESTS" <<<"$STATS" || fail "/stats: downstream_rq_2xx is not $REQUESTS"

kill -TERM "$PROXY_PID"
proxy_gone() { ! kill -0 "$PROXY_PID" 2>/dev/null; }
wait_for "the proxy to exit after SIGTERM" proxy_gone
set +e
wait "$PROXY_PID"
CODE=$?
set -e
((CODE == 0)) || fail "trellis-proxy exited with $CODE after SIGTERM"
echo "PASS"
