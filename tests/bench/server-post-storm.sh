#!/bin/bash
# tests/bench/server-post-storm.sh [BUILD_DIR] [SECONDS] [CONNECTIONS]
#
# A storm of POST /jobs against vt-server --state, and in the same run a
# single connection asking GET /health one request after another: how
# many jobs the server stores per second, how long a POST waits for its
# 201, and how long the main loop makes anything else wait meanwhile.
# Prints one table row (Markdown). wrk is installed from Debian if
# missing. Defaults: _build, 10 s, 50 connections.

set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/bench/bench-common.sh
. "$here/bench-common.sh"

build=${1:-_build}
seconds=${2:-10}
connections=${3:-50}

vt_bench_require wrk wrk

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"duration": 0, "source_url": "https://example.com/v.mp4"}'
wrk.headers["Content-Type"] = "application/json"
LUA

vt_bench_start_server url "$build" --state "$tmp/jobs.db" --delay 0
wrk -t1 -c"$connections" -d"${seconds}s" --latency -s "$tmp/post.lua" "$url/jobs" >"$tmp/post.txt" &
post_pid=$!
wrk -t1 -c1 -d"${seconds}s" --latency "$url/health" >"$tmp/health.txt"
wait "$post_pid"
vt_bench_stop_server

echo "| POST/s | POST p50 ms | POST p99 ms | /health p50 ms | /health p99 ms | /health max ms |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: |"
printf '| %s | %s | %s | %s | %s | %s |\n' \
  "$(vt_bench_wrk_rps "$tmp/post.txt")" \
  "$(vt_bench_wrk_latency "$tmp/post.txt" 50)" "$(vt_bench_wrk_latency "$tmp/post.txt" 99)" \
  "$(vt_bench_wrk_latency "$tmp/health.txt" 50)" "$(vt_bench_wrk_latency "$tmp/health.txt" 99)" \
  "$(vt_bench_wrk_latency "$tmp/health.txt" max)"
