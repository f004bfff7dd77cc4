#!/bin/bash
# tests/bench/server-post-flat.sh [BUILD_DIR] [POSTS] [CONNECTIONS]
#
# POST throughput with --state, flat in the number of jobs stored: sends
# POSTS (default 100,000) POST /jobs to one vt-server --state on a fresh
# file, CONNECTIONS (default 16) at a time, and compares the rate of the
# last 1,000 answers with that of the first 1,000 (the target: no slower
# by more than 20 %). The server runs with its default job durations (5
# s), so that the pending set is as large as a real storm's. wrk (from
# Debian, installed if missing) sends them; a LuaJIT clock in its script
# times the answers. Prints one Markdown table row ("jobs stored" counts
# the default job and the POSTs in flight when the last answer came),
# then the rate over each tenth of the run.

set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/bench/bench-common.sh
. "$here/bench-common.sh"

build=${1:-_build}
posts=${2:-100000}
connections=${3:-16}

vt_bench_require wrk wrk

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

vt_bench_start_server url "$build" --state "$tmp/jobs.db"
# The server's threads (main loop, database writer, GLib's): their time
# on a CPU, from the kernel, says what a POST costs the server whatever
# else runs on the machine.
schedstats=""
for task in /proc/"$vt_bench_server_pid"/task/*; do
  schedstats="$schedstats\"$task/schedstat\", "
done

cat >"$tmp/flat.lua" <<LUA
local ffi = require("ffi")
ffi.cdef[[
  typedef struct { long tv_sec; long tv_nsec; } vt_timespec;
  int clock_gettime(int clock, vt_timespec *ts);
]]
local ts = ffi.new("vt_timespec")
local function now()
  ffi.C.clock_gettime(1, ts)  -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) / 1e9
end

local schedstats = { $schedstats }
local function server_cpu()
  local ns = 0
  for _, path in ipairs(schedstats) do
    local file = io.open(path)
    if file then
      ns = ns + (tonumber(file:read("*n")) or 0)
      file:close()
    end
  end
  return ns / 1e9
end

local total = $posts
wrk.method = "POST"
wrk.body = '{"source_url": "https://example.com/v.mp4", "target_language": "fr"}'
wrk.headers["Content-Type"] = "application/json"

answers, failures, t0, t_first, t_last0, t_end = 0, 0, 0, 0, 0, 0
local c0, c_first, c_last0, c_end = 0, 0, 0, 0
local tenth, t_tenth, c_tenth, tenths, cpu_tenths = math.floor(total / 10), 0, 0, {}, {}

function init(args)
  t0 = now()
  c0 = server_cpu()
end

function response(status, headers, body)
  answers = answers + 1
  if status ~= 201 then failures = failures + 1 end
  if answers == 1000 then t_first, c_first = now(), server_cpu() end
  if answers == total - 1000 then t_last0, c_last0 = now(), server_cpu() end
  if answers % tenth == 0 then
    local t, c = now(), server_cpu()
    table.insert(tenths, string.format("%.0f", tenth / (t - (t_tenth > 0 and t_tenth or t0))))
    table.insert(cpu_tenths, string.format("%.0f", (c - (c_tenth > 0 and c_tenth or c0)) * 1e6 / tenth))
    t_tenth, c_tenth = t, c
  end
  if answers == total then
    t_end, c_end = now(), server_cpu()
    -- wrk itself runs for its whole -d: the script stops it on this file.
    local out = io.open("$tmp/result", "w")
    out:write(string.format("%d %d %.0f %.0f %.0f %.1f %.1f\n", answers, failures,
                            1000 / (t_first - t0), 1000 / (t_end - t_last0),
                            answers / (t_end - t0),
                            (c_first - c0) * 1e6 / 1000, (c_end - c_last0) * 1e6 / 1000))
    out:close()
    out = io.open("$tmp/tenths", "w")
    out:write(table.concat(tenths, " ") .. "\n" .. table.concat(cpu_tenths, " ") .. "\n")
    out:close()
    wrk.thread:stop()
  end
end
LUA

wrk -t1 -c"$connections" -d3600s -s "$tmp/flat.lua" "$url/jobs" >"$tmp/wrk.txt" &
wrk_pid=$!
while [ ! -s "$tmp/result" ] && kill -0 "$wrk_pid" 2>/dev/null; do
  sleep 0.2
done
kill "$wrk_pid" 2>/dev/null || true
wait "$wrk_pid" 2>/dev/null || true
jobs_stored=$(curl -s "$url/metrics" | awk '/^vt_jobs\{/ { n += $2 } END { print n }')
vt_bench_stop_server
db_kib=$(du -k "$tmp/jobs.db" | cut -f1)

read -r answers failures first last all cpu_first cpu_last <"$tmp/result"
ratio () {
  awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'
}
echo "| POSTs | failed | jobs stored | first 1,000 POST/s | last 1,000 POST/s | last/first | all POST/s | server CPU µs/POST, first 1,000 | last 1,000 | last/first | database KiB |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
  "$answers" "$failures" "$jobs_stored" "$first" "$last" "$(ratio "$last" "$first")" "$all" \
  "$cpu_first" "$cpu_last" "$(ratio "$cpu_last" "$cpu_first")" "$db_kib"
echo
echo "POST/s by tenth of the run: $(sed -n 1p "$tmp/tenths")"
echo "server CPU µs/POST by tenth: $(sed -n 2p "$tmp/tenths")"
