#!/usr/bin/python3
# vt-bench-smoke.py: a tiny vt-bench run whose table is checked
#
#   vt-bench-smoke.py VT-BENCH SOURCE-DIR
#
# Runs every strategy on three jobs at a fiftieth of real time, with
# --json, and checks what the table says, not only that the bench ran:
# the bench exits 0, every row is measured, every job is accounted for
# (seen, timed out or failed, and none failed), and each strategy's
# requests per job and delays lie where its schedule puts them. The
# bounds are wide (three jobs, timers at a fiftieth of real time) but
# each is one a broken client or a broken count would cross.
#
# The bytes of the answers are checked too: on the polling rows every
# request got an answer counted by status; the plain server sends no ETag,
# so its rows have no poll of an unchanged job, and vt-hints has some; a
# 304, where there is one, costs at most 60 % of a full answer. (Whether
# conditional polls halve what an unchanged poll costs is a figure,
# docs/benchmarks.md, "Rate limits, shared".)
#
# Under `meson test --setup valgrind` (VT_VALGRIND set) the bench runs
# under valgrind too, as the spawned servers do, and VT_TEST_TIME_SCALE
# stretches the time scale. Standard library only.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import json
import math
import os
import subprocess
import sys
import tempfile

JOBS = 3
BUDGET = 60.0

# strategy: (fewest, most) requests per job on 20-40 s jobs. The seed
# makes 5 or 6 (it gives up at 31 s); the plain schedule, cold after two
# warm-up jobs, 6 to 8 (polls at 1, 3, 7, 15, 24, 33, 42 s); hints 3 or
# so; the push channels at most a couple per job, and none where one
# stream or long-poll opened before serves every job.
REQUESTS = {
    'seed': (5, 6),
    'fixed-1s': (15, 45),
    'google': (4, 40),
    'vt-plain': (4, 8.5),
    'vt-hints': (2, 5),
    'vt-long-poll': (0, 2.5),
    'vt-stream': (0, 2.5),
    'vt-auto': (0, 2.5),
}

# The most delay a strategy may show, in (unscaled) seconds: its widest
# gap between two requests and, for every strategy, room for the main
# loop running 100 ms late on a loaded machine (5 s at this time scale).
# A push channel that fell back to polling shows in its requests.
MOST_DELAY = {
    'seed': 22.0,
    'fixed-1s': 7.0,
    'google': 26.0,
    'vt-plain': 15.0,
    'vt-hints': 12.0,
    'vt-long-poll': 6.0,
    'vt-stream': 6.0,
    'vt-auto': 6.0,
}


def fail(message):
    print(f'vt-bench-smoke: {message}', file=sys.stderr)
    sys.exit(1)


# Rows that poll: every request is one answer.
POLLING = ('seed', 'fixed-1s', 'google', 'vt-plain', 'vt-hints')


def check_answers(row):
    name = row['strategy']
    answers = row['answers'] or {}
    answered = sum(tally['count'] for tally in answers.values())
    if name in POLLING and answered != round(row['requests_per_job'] * JOBS):
        fail(f'{name}: {answered} answers counted for '
             f'{row["requests_per_job"] * JOBS:.0f} requests')
    if row['server'] == 'plain' and row['unchanged_polls'] != 0:
        fail(f'{name}: {row["unchanged_polls"]} polls of an unchanged job seen without an ETag')
    full, unchanged = answers.get('200'), answers.get('304')
    if name == 'vt-hints' and (row['unchanged_polls'] == 0 or full is None):
        fail(f'{name}: no poll of an unchanged job, or no 200, among {answers}')
    if full is not None and unchanged is not None and \
            unchanged['bytes_per_answer'] > 0.6 * full['bytes_per_answer']:
        fail(f'{name}: {unchanged["bytes_per_answer"]:.0f} B per 304, '
             f'against {full["bytes_per_answer"]:.0f} B per 200')


def check_row(row, time_scale):
    name = row['strategy']
    if row['failure'] is not None:
        fail(f'{name}: not measured: {row["failure"]}')
    if row['jobs'] != JOBS:
        fail(f'{name}: {row["jobs"]} jobs, not {JOBS}')
    if row['failed'] != 0:
        fail(f'{name}: {row["failed"]} watches failed: {row["note"]}')
    if row['seen'] + row['timeouts'] != JOBS:
        fail(f'{name}: {row["seen"]} seen and {row["timeouts"]} timed out of {JOBS} jobs')
    if name != 'seed' and row['timeouts_in_budget'] != 0:
        fail(f'{name}: {row["timeouts_in_budget"]} timeouts inside the budget')

    fewest, most = REQUESTS[name]
    requests = row['requests_per_job']
    if not fewest <= requests <= most:
        fail(f'{name}: {requests:.2f} requests per job, outside [{fewest}, {most}]')
    server = row['server_requests_per_job']
    if server is not None and abs(server - requests) > 1.0:
        fail(f'{name}: the server saw {server:.2f} requests per job, the client {requests:.2f}')

    check_answers(row)

    if row['seen'] == 0:
        return
    delays = [row[key] for key in ('delay_p50', 'delay_p95', 'delay_p99', 'delay_max')]
    if any(d is None or math.isnan(d) for d in delays) or delays != sorted(delays):
        fail(f'{name}: delays p50/p95/p99/max {delays} are not in order')
    # A job ends on the server's clock, placed within a millisecond: that
    # much early is rounding.
    slack = 0.002 / time_scale
    if delays[0] < -slack or delays[-1] > MOST_DELAY[name]:
        fail(f'{name}: delays {delays} s outside [0, {MOST_DELAY[name]}]')
    if row['peak_to_mean'] is not None and row['peak_to_mean'] < 1.0:
        fail(f'{name}: peak/mean {row["peak_to_mean"]} below 1')


def main():
    if len(sys.argv) != 3:
        fail('usage: vt-bench-smoke.py VT-BENCH SOURCE-DIR')
    bench, source_dir = sys.argv[1], sys.argv[2]
    time_scale = 0.02 * float(os.environ.get('VT_TEST_TIME_SCALE', '1'))

    command = []
    if os.environ.get('VT_VALGRIND'):
        command = ['valgrind', '--error-exitcode=97', '--leak-check=full',
                   '--errors-for-leak-kinds=definite', '-q',
                   '--suppressions=/usr/share/glib-2.0/valgrind/glib.supp',
                   f'--suppressions={source_dir}/tests/vtclient.supp']

    with tempfile.TemporaryDirectory() as directory:
        output = os.path.join(directory, 'smoke.json')
        command += [bench, '--jobs', str(JOBS), '--warm-up', '2', '--durations', 'uniform:20:40',
                    '--time-scale', f'{time_scale:g}', '--json', output]
        result = subprocess.run(command)
        if result.returncode != 0:
            fail(f'vt-bench exited with {result.returncode}')
        with open(output) as f:
            table = json.load(f)

    rows = {row['strategy']: row for row in table['rows']}
    missing = sorted(set(REQUESTS) - set(rows))
    if missing:
        fail(f'rows missing: {", ".join(missing)}')
    if table['jobs'] != JOBS or table['durations'] != 'uniform:20:40':
        fail(f'the table is for {table["jobs"]} jobs of {table["durations"]}')
    for name in REQUESTS:
        check_row(rows[name], time_scale)
    print(f'vt-bench-smoke: {len(rows)} rows checked')


if __name__ == '__main__':
    main()
