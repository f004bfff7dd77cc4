#!/bin/bash
# tests/bench/server-get-vs-nginx.sh [BUILD_DIR] [SECONDS] [ROUNDS]
#
# GET /status and GET /jobs/{id} on vt-server, side by side in one run
# with nginx serving the very same bytes from files, and a bare
# SoupServer (tests/bench/vt-bare-soup.c) answering them from memory:
# what the HTTP library costs by itself. Each server gets one core's
# worth (nginx: one worker; vt-server and the bare SoupServer have one
# thread) and the same load, wrk -t1 -c50 for SECONDS (default 5), the
# three taken in turn, ROUNDS times (default 3); the table gives the
# median of each and the ratios: requests per second, and the server's
# own CPU time per request (its threads' schedstat), which the machine's
# other load does not change.
#
# Everything listens on 127.0.0.1: vt-server and the bare SoupServer on
# ports the kernel picks, nginx on a free high port (never 80 or 5000)
# with a configuration of its own in a temporary directory. nginx and wrk
# are installed from Debian if missing.

set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/bench/bench-common.sh
. "$here/bench-common.sh"

build=${1:-_build}
seconds=${2:-5}
rounds=${3:-3}

vt_bench_require wrk wrk
vt_bench_require nginx nginx
nginx=$(command -v nginx || echo /usr/sbin/nginx)

tmp=$(mktemp -d)
nginx_pid=
bare_pid=
cleanup () {
  [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null
  [ -n "$bare_pid" ] && kill "$bare_pid" 2>/dev/null
  [ -n "${vt_bench_server_pid:-}" ] && kill "$vt_bench_server_pid" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

# vt-server, with jobs that are over at once: their answers are the same
# bytes every time, which a file can hold.
vt_bench_start_server vt_url "$build" --delay 0
job_id=$(curl -sf -X POST -H 'Content-Type: application/json' -d '{"duration": 0}' "$vt_url/jobs" |
         sed -n 's/^{"id":"\([^"]*\)".*/\1/p')
mkdir -p "$tmp/www/jobs"
curl -sf "$vt_url/status" >"$tmp/www/status"
curl -sf "$vt_url/jobs/$job_id" >"$tmp/www/jobs/$job_id"
# nginx started by root serves as nobody: the files must be readable.
chmod -R a+rX "$tmp"

# nginx: one worker, no log, the files as application/json.
nginx_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
case $nginx_port in 80|5000) echo "refusing port $nginx_port" >&2; exit 1 ;; esac
mkdir -p "$tmp/nginx"
cat >"$tmp/nginx/nginx.conf" <<CONF
daemon off;
worker_processes 1;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  types { }
  default_type application/json;
  client_body_temp_path $tmp/nginx;
  proxy_temp_path $tmp/nginx;
  fastcgi_temp_path $tmp/nginx;
  uwsgi_temp_path $tmp/nginx;
  scgi_temp_path $tmp/nginx;
  server {
    listen 127.0.0.1:$nginx_port;
    root $tmp/www;
  }
}
CONF
"$nginx" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" 2>"$tmp/nginx/stderr" &
nginx_pid=$!
nginx_url="http://127.0.0.1:$nginx_port"

"$build/tests/bench/vt-bare-soup" --port 0 /status "$tmp/www/status" \
  "/jobs/$job_id" "$tmp/www/jobs/$job_id" >"$tmp/bare.out" &
bare_pid=$!

for _ in $(seq 100); do
  if curl -sf "$nginx_url/status" >/dev/null 2>&1 && [ -s "$tmp/bare.out" ]; then
    break
  fi
  sleep 0.05
done
bare_url=$(sed 's/^vt-bare-soup listening on //' "$tmp/bare.out")

# The same bytes from all three.
for path in /status "/jobs/$job_id"; do
  for url in "$nginx_url" "$bare_url"; do
    if ! cmp -s <(curl -sf "$vt_url$path") <(curl -sf "$url$path"); then
      echo "$url$path does not answer what vt-server does" >&2
      tail -n 3 "$tmp/nginx/stderr" "$tmp/nginx/error.log" >&2 2>/dev/null || true
      exit 1
    fi
  done
done

# The time the processes given (and their threads) spent on a CPU, in
# ns: what a request costs a server, whatever else the machine runs.
cpu_ns () {
  local pid total=0 task ns
  for pid in "$@"; do
    for task in /proc/"$pid"/task/*; do
      read -r ns _ <"$task/schedstat" 2>/dev/null || continue
      total=$((total + ns))
    done
  done
  echo "$total"
}

# Requests/s, then the server's CPU µs per request: "RPS CPU_US".
measure () {
  local url=$1 before after requests
  shift
  before=$(cpu_ns "$@")
  wrk -t1 -c50 -d"${seconds}s" "$url" >"$tmp/wrk.txt"
  after=$(cpu_ns "$@")
  requests=$(awk '/requests in/ { print $1 }' "$tmp/wrk.txt")
  echo "$(vt_bench_wrk_rps "$tmp/wrk.txt") $(awk -v ns=$((after - before)) -v n="$requests" 'BEGIN { printf "%.1f", ns / 1000 / n }')"
}

median () {
  tr ' ' '\n' | sed '/^$/d' | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

ratio () {
  awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'
}

nginx_pids="$nginx_pid $(cat /proc/"$nginx_pid"/task/*/children 2>/dev/null)"

echo "| route | bytes | | nginx | bare SoupServer | vt-server | vt-server / nginx | vt-server / bare SoupServer |"
echo "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |"
for path in /status "/jobs/$job_id"; do
  nr=() br=() vr=() nc=() bc=() vc=()
  for _ in $(seq "$rounds"); do
    # shellcheck disable=SC2086
    read -r r c < <(measure "$nginx_url$path" $nginx_pids); nr+=("$r"); nc+=("$c")
    read -r r c < <(measure "$bare_url$path" "$bare_pid"); br+=("$r"); bc+=("$c")
    read -r r c < <(measure "$vt_url$path" "$vt_bench_server_pid"); vr+=("$r"); vc+=("$c")
  done
  label=$path
  [ "$path" != /status ] && label="/jobs/{id}"
  bytes=$(curl -sf "$vt_url$path" | wc -c)
  n=$(echo "${nr[*]}" | median) b=$(echo "${br[*]}" | median) v=$(echo "${vr[*]}" | median)
  printf '| `GET %s` | %s | req/s | %s | %s | %s | %s | %s |\n' "$label" "$bytes" \
    "$n" "$b" "$v" "$(ratio "$v" "$n")" "$(ratio "$v" "$b")"
  # Per request, a server that costs less serves more: the ratios invert.
  n=$(echo "${nc[*]}" | median) b=$(echo "${bc[*]}" | median) v=$(echo "${vc[*]}" | median)
  printf '| | | server CPU µs/request | %s | %s | %s | %s | %s |\n' \
    "$n" "$b" "$v" "$(ratio "$n" "$v")" "$(ratio "$b" "$v")"
  echo "  runs, req/s: nginx ${nr[*]}; bare ${br[*]}; vt-server ${vr[*]}" >&2
  echo "  runs, CPU µs/request: nginx ${nc[*]}; bare ${bc[*]}; vt-server ${vc[*]}" >&2
done
