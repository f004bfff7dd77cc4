#!/bin/bash
# tests/bench/server-get-callgrind.sh [BUILD_DIR] [SECONDS]
#
# The request path, instruction by instruction: vt-server and the bare
# SoupServer (tests/bench/vt-bare-soup.c) under callgrind, each answering
# GET /status and GET /jobs/{id} (an ended job) to wrk -t1 -c10 for
# SECONDS (default 8), counting only the requests (callgrind is zeroed
# once the server is up). Prints the user-space instructions per request
# of each, and vt-server's own functions that cost most per request
# (inclusive). Unlike timings, the counts do not depend on what else the
# machine runs. Needs valgrind and wrk (installed from Debian if missing).

set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/bench/bench-common.sh
. "$here/bench-common.sh"

build=${1:-_build}
seconds=${2:-8}

vt_bench_require wrk wrk
vt_bench_require valgrind valgrind

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# profile NAME PATH-OR-JOB PROGRAM ARGS...: prints "NAME PATH REQUESTS IR"
profile () {
  local name=$1 path=$2 pid url id requests total
  shift 2

  valgrind --tool=callgrind --callgrind-out-file="$tmp/$name.out" "$@" \
    >"$tmp/$name.announce" 2>"$tmp/$name.log" &
  pid=$!
  for _ in $(seq 600); do
    [ -s "$tmp/$name.announce" ] && break
    sleep 0.1
  done
  url=$(sed 's/.* listening on //' "$tmp/$name.announce")
  if [ "$path" = JOB ]; then
    id=$(curl -sf -X POST -d '{"duration": 0}' "$url/jobs" | sed -n 's/^{"id":"\([^"]*\)".*/\1/p')
    path=/jobs/$id
  fi
  curl -sf "$url$path" >/dev/null
  callgrind_control -z "$pid" >/dev/null 2>&1
  requests=$(wrk -t1 -c10 -d"${seconds}s" "$url$path" | awk '/requests in/ { print $1 }')
  callgrind_control -d "$pid" >/dev/null 2>&1
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  total=$(callgrind_annotate "$tmp/$name.out.1" | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
  echo "$name $path $requests $total"
}

vt="$build/server/vt-server"
bare="$build/tests/bench/vt-bare-soup"
echo '{"result":"completed"}' | tr -d '\n' >"$tmp/status"

read -r _ _ vs_n vs_ir < <(profile vt-status /status "$vt" --port 0 --delay 0)
read -r _ _ bs_n bs_ir < <(profile bare-status /status "$bare" --port 0 /status "$tmp/status")
read -r _ job vj_n vj_ir < <(profile vt-job JOB "$vt" --port 0 --delay 0)
# The bare server answers the same bytes as vt-server did for its job.
vt_bench_start_server url "$build" --delay 0
id=$(curl -sf -X POST -d '{"duration": 0}' "$url/jobs" | sed -n 's/^{"id":"\([^"]*\)".*/\1/p')
curl -sf "$url/jobs/$id" >"$tmp/job"
vt_bench_stop_server
read -r _ _ bj_n bj_ir < <(profile bare-job /jobs/x "$bare" --port 0 /jobs/x "$tmp/job")

per () {
  awk -v total="$1" -v n="$2" 'BEGIN { printf "%.0f", total / n }'
}

echo "| route | vt-server instructions/request | bare SoupServer | vt-server / bare |"
echo "| --- | ---: | ---: | ---: |"
printf '| `GET /status` | %s | %s | %s |\n' "$(per "$vs_ir" "$vs_n")" "$(per "$bs_ir" "$bs_n")" \
  "$(awk -v a="$(per "$vs_ir" "$vs_n")" -v b="$(per "$bs_ir" "$bs_n")" 'BEGIN { printf "%.2f", a / b }')"
printf '| `GET /jobs/{id}` | %s | %s | %s |\n' "$(per "$vj_ir" "$vj_n")" "$(per "$bj_ir" "$bj_n")" \
  "$(awk -v a="$(per "$vj_ir" "$vj_n")" -v b="$(per "$bj_ir" "$bj_n")" 'BEGIN { printf "%.2f", a / b }')"
echo
echo "vt-server's own functions, GET /jobs/{id}, instructions per request (inclusive):"
callgrind_annotate --inclusive=yes "$tmp/vt-job.out.1" |
  awk -v n="$vj_n" 'match($0, /\/server\/[a-z-]+\.c:[a-z_.0-9]+/) && !/:main / {
      where = substr($0, RSTART + 8, RLENGTH - 8); gsub(",", "", $1);
      if (!seen[where]++) printf "  %8.0f  %s\n", $1 / n, where }' | head -10
