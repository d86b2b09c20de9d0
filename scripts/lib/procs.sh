# Shared by scripts/demo and the end-to-end tests: start background processes, learn their
# ports without races (everything binds port 0 and reports what it got), and stop them all.
# Source it; it installs an EXIT trap that kills what was started.

TRELLIS_PIDS=()
TRELLIS_TMP=$(mktemp -d "${TMPDIR:-/tmp}/trellis.XXXXXX")

trellis_cleanup() {
  local pid
  for pid in "${TRELLIS_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${TRELLIS_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
  rm -rf "$TRELLIS_TMP"
}
trap trellis_cleanup EXIT
trap 'exit 130' INT TERM

# start NAME CMD...: runs CMD in the background, output in $TRELLIS_TMP/NAME.log.
start() {
  local name=$1; shift
  "$@" >"$TRELLIS_TMP/$name.log" 2>&1 &
  TRELLIS_PIDS+=($!)
  eval "PID_${name//-/_}=$!"
}

# wait_for_line FILE REGEX [SECONDS]: waits until FILE has a line matching REGEX; prints it.
wait_for_line() {
  local file=$1 re=$2 limit=${3:-20} i
  for ((i = 0; i < limit * 20; i++)); do
    if [ -f "$file" ] && grep -qE "$re" "$file"; then grep -m1 -E "$re" "$file"; return 0; fi
    sleep 0.05
  done
  echo "timed out after ${limit}s waiting for /$re/ in $file:" >&2
  tail -20 "$file" >&2 2>/dev/null
  return 1
}

# start_app NAME: a sample app answering NAME; sets PORT_<NAME>.
start_app() {
  local name=$1 root
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  start "app-$name" python3 "$root/config/examples/apps/sample_app.py" --name "$name"
  local line
  line=$(wait_for_line "$TRELLIS_TMP/app-$name.log" '^listening on [0-9]+') || return 1
  eval "PORT_${name//-/_}=${line##* }"
}

# start_proxy NAME BOOTSTRAP [ARGS...]: trellis-proxy with its admin address written to a file;
# sets ADMIN_<NAME> (host:port) once the proxy is ready.
start_proxy() {
  local name=$1 bootstrap=$2; shift 2
  local addr_file="$TRELLIS_TMP/$name.admin"
  start "proxy-$name" "$TRELLIS_PROXY" -c "$bootstrap" --admin-address-path "$addr_file" "$@"
  wait_for_line "$addr_file" ':[0-9]+$' >/dev/null || { cat "$TRELLIS_TMP/proxy-$name.log" >&2; return 1; }
  eval "ADMIN_${name//-/_}=$(cat "$addr_file")"
}

# listener_port ADMIN NAME: the port a proxy's listener NAME is bound to.
listener_port() {
  curl -fsS "http://$1/listeners" | awk -F'::' -v n="$2" '$1 == n {sub(/.*:/, "", $2); print $2}'
}
