# tests/bench/bench-common.sh: what the server benchmark scripts share.
# Source it; it defines functions and changes nothing by itself.
#
#   vt_bench_require PROGRAM PACKAGE
#                     install Debian's PACKAGE when PROGRAM is missing
#                     (sudo when not root)
#   vt_bench_start_server VAR DIR ARGS...
#                     start DIR/server/vt-server --port 0 ARGS..., wait for
#                     its announce line, set VAR to its URL and
#                     vt_bench_server_pid to its pid
#   vt_bench_stop_server
#                     stop the server the last call started (SIGTERM)
#   vt_bench_wrk_rps FILE, vt_bench_wrk_latency FILE PERCENTILE
#                     requests/s, and a latency percentile in ms (50, 99,
#                     or max), from wrk --latency output
#
# Every server listens on 127.0.0.1 with a port the kernel picks.

vt_bench_require () {
  local program=$1 package=$2
  local sudo=()

  if command -v "$program" >/dev/null 2>&1; then
    return 0
  fi
  if [ "$(id -u)" -ne 0 ]; then
    sudo=(sudo)
  fi
  echo "installing $package for $program" >&2
  "${sudo[@]}" apt-get update -q >&2
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "$package" >&2
}

vt_bench_start_server () {
  local var=$1 dir=$2 out line
  shift 2

  out=$(mktemp)
  "$dir/server/vt-server" --port 0 "$@" >"$out" &
  vt_bench_server_pid=$!
  for _ in $(seq 100); do
    line=$(head -n1 "$out")
    if [ -n "$line" ]; then
      break
    fi
    sleep 0.05
  done
  rm -f "$out"
  if [ -z "$line" ]; then
    echo "vt-server did not announce itself" >&2
    return 1
  fi
  printf -v "$var" '%s' "${line#vt-server listening on }"
}

vt_bench_stop_server () {
  kill "$vt_bench_server_pid"
  wait "$vt_bench_server_pid" || true
}

vt_bench_wrk_rps () {
  awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$1"
}

# wrk prints latencies as 1.23ms, 456.00us or 1.20s: in ms.
vt_bench_wrk_latency () {
  local file=$1 which=$2

  awk -v which="$which" '
    function ms(v) {
      if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
      if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
      if (v ~ /s$/)  return substr(v, 1, length(v) - 1) * 1000
      return v
    }
    which == "max" && $1 == "Latency" && $2 ~ /^[0-9]/ { printf "%.2f", ms($4) }
    which != "max" && $1 == which "%" { printf "%.2f", ms($2) }
  ' "$file"
}
