#!/usr/bin/python3
# vt-frontier.py: the best any plain poller could do, knowing the durations
#
#   vt-frontier.py [--durations MODEL] [--max-attempts N] [--deadline S]
#                  [--samples N] [--seed N] [--at-requests R ...]
#
# A client of a plain server learns a job has ended only by asking. Even
# one that knew the distribution of durations exactly (not each job's
# duration) can only choose when to ask. This program finds, for a
# duration model, the schedules that need the fewest requests for a given
# 95th-percentile detection delay, with the seed's budget (a first
# request at once, at most --max-attempts requests, the last one no later
# than --deadline, no job that ends in time given up on), and prints that
# frontier next to the seed's own schedule.
#
# It is the bound vt-plain's learned schedule is measured against in
# docs/benchmarks.md: a target below the frontier cannot be met by any
# plain poller. Standard library only; figures are Monte Carlo estimates
# over --samples durations.
#
# How: for a target delay X and a price mu of a late job, dynamic
# programming over a grid of poll times finds the schedule minimising
# requests + mu * (jobs seen more than X late), with the attempts as a
# second dimension; sweeping X and mu and keeping the schedules whose
# 95th percentile is lowest for their request count gives the frontier.
# --at-requests R searches one point of it closely: the lowest p95 with at
# most R requests per job (bisection on X, each step the cheapest
# schedule that meets it over a range of mu), which is what a poller's
# p95 is compared with at its own requests per job. The schedules found
# are real ones, so the figure is at or above the true bound.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import argparse
import bisect
import math
import random
import sys


def parse_model(text):
    parts = text.split(':')
    try:
        if parts[0] == 'fixed' and len(parts) == 2:
            value = float(parts[1])
            return lambda rand: value
        if parts[0] == 'uniform' and len(parts) == 3:
            low, high = float(parts[1]), float(parts[2])
            return lambda rand: rand.uniform(low, high)
        if parts[0] == 'lognormal' and len(parts) == 3:
            mu, sigma = float(parts[1]), float(parts[2])
            return lambda rand: rand.lognormvariate(mu, sigma)
    except ValueError:
        pass
    sys.exit('vt-frontier: --durations: expected fixed:S, uniform:A:B or lognormal:MU:SIGMA')


def percentile(values, q):
    """Nearest rank, as vt-bench reports it."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


def follow(durations, polls):
    """Requests per job and the delays of the jobs seen end, for polls at
    fixed times after a first request at 0."""
    requests, delays = [], []
    for duration in durations:
        i = bisect.bisect_left(polls, duration)
        if duration <= 0:
            requests.append(1)
            delays.append(0.0)
        elif i == len(polls):
            requests.append(1 + len(polls))
        else:
            requests.append(2 + i)
            delays.append(polls[i] - duration)
    return sum(requests) / len(requests), percentile(delays, 0.95) if delays else math.nan


def seed_schedule(durations, args, rand):
    """The seed's: waits of 1 s x 2^k +- 0.5 s, giving up when the next
    wait would pass the deadline."""
    requests, delays = [], []
    for duration in durations:
        t, n, k = 0.0, 1, 0
        while True:
            if duration <= t:
                delays.append(t - duration)
                break
            wait = max(0.0, 2.0 ** k + rand.uniform(-0.5, 0.5))
            k += 1
            if n >= args.max_attempts or t + wait > args.deadline:
                break
            t += wait
            n += 1
        requests.append(n)
    return sum(requests) / len(requests), percentile(delays, 0.95)


def best_schedule(durations, args, late_after, price, step):
    """Polls minimising requests + price * (jobs more than late_after
    late), on a grid of step seconds, the last poll on the deadline."""
    n = int(round(args.deadline / step)) + 1
    grid = [i * step for i in range(n)]
    ended = [0.0] * (n + 1)              # jobs ended by grid[i], cumulative
    for duration in durations:
        if duration <= args.deadline:
            ended[min(n - 1, max(0, math.ceil(duration / step - 1e-9))) + 1] += 1
    for i in range(n):
        ended[i + 1] += ended[i]
    total = len(durations)
    late_cells = int(round(late_after / step))
    cap = args.max_attempts
    # cost[k][i]: k requests made, the last at grid[i], the job pending.
    cost = [[0.0] * n for _ in range(cap + 1)]
    choice = [[n - 1] * n for _ in range(cap + 1)]
    for i in range(n):
        # Out of attempts with jobs still to end in time: never acceptable.
        cost[cap][i] = 1e9 * (ended[n] - ended[i + 1])
    for k in range(cap - 1, 0, -1):
        for i in range(n - 2, -1, -1):
            pending = total - ended[i + 1]
            if pending <= 0:
                continue
            best = math.inf
            for j in range(i + 1, n):
                late = ended[max(i + 1, j - late_cells)] - ended[i + 1]
                value = pending + price * late + (cost[k + 1][j] if j < n - 1 else 0.0)
                if value < best:
                    best, choice[k][i] = value, j
            cost[k][i] = best
    polls, i, k = [], 0, 1
    while i < n - 1 and k < cap:
        i = choice[k][i]
        polls.append(grid[i])
        k += 1
    return polls


def cheapest_within(durations, args, late_after):
    """The cheapest schedule found whose p95 delay is at most late_after,
    over prices of a late job from 1/20 to 10^5 requests (the cheapest
    for a price need not get cheaper or later as the price falls, so
    they are all tried, not bisected). The programme counts delays in
    whole cells of the grid, so it is asked for one cell less."""
    cells = max(late_after - args.grid, 0.0)
    best = None
    for k in range(16):
        price = 0.05 * (2e6 ** (k / 15))
        polls = best_schedule(durations, args, cells, price, args.grid)
        requests, p95 = follow(durations, polls)
        if p95 <= late_after + 1e-9 and (best is None or requests < best[0]):
            best = (requests, p95, polls)
    return best


def best_at(durations, args, budget):
    """The lowest p95 found for at most budget requests per job: bisection
    on the p95 asked for, each step the cheapest schedule that meets it."""
    low, high, best = 0.0, args.deadline, None
    for _ in range(16):
        middle = (low + high) / 2
        found = cheapest_within(durations, args, middle)
        if found is not None and found[0] <= budget:
            high, best = found[1], found
        else:
            low = middle
        if high - low < args.grid / 4:
            break
    return best


def main():
    parser = argparse.ArgumentParser(description='The best any plain poller could do, '
                                     'knowing the distribution of durations.')
    parser.add_argument('--durations', default='uniform:20:40')
    parser.add_argument('--max-attempts', type=int, default=10)
    parser.add_argument('--deadline', type=float, default=60.0)
    parser.add_argument('--samples', type=int, default=4000)
    parser.add_argument('--grid', type=float, default=0.2, help='poll time resolution, s')
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--at-requests', type=float, action='append', default=[], metavar='R',
                        help='also search the lowest p95 for at most R requests per job (repeatable)')
    args = parser.parse_args()
    if args.max_attempts < 2 or args.samples < 20 or args.grid <= 0:
        sys.exit('vt-frontier: --max-attempts >= 2, --samples >= 20, --grid > 0')

    rand = random.Random(args.seed)
    draw = parse_model(args.durations)
    durations = [draw(rand) for _ in range(args.samples)]

    seed_requests, seed_p95 = seed_schedule(durations, args, rand)
    print(f'durations {args.durations}, {args.max_attempts} attempts, deadline {args.deadline:g} s, '
          f'{args.samples} samples')
    print(f'seed: {seed_requests:.2f} requests per job, p95 delay {seed_p95:.2f} s '
          f'(a quarter: {seed_p95 / 4:.2f} s)')

    points = []
    for tenths in range(10, 81, 5):
        late_after = tenths / 10.0
        for price in (2, 4, 8, 16, 64):
            polls = best_schedule(durations, args, late_after, price, args.grid)
            requests, p95 = follow(durations, polls)
            points.append((requests, p95, polls))

    print('\nfewest requests per job for a p95 delay, knowing the distribution:')
    print(f'{"p95 s":>7} {"req/job":>8}  polls after the first request, s')
    frontier = []
    for requests, p95, polls in sorted(points, key=lambda point: (point[1], point[0])):
        if not frontier or requests < frontier[-1][0] - 1e-9:
            frontier.append((requests, p95, polls))
    for requests, p95, polls in frontier:
        print(f'{p95:7.2f} {requests:8.2f}  ' + ' '.join(f'{t:.1f}' for t in polls))

    for budget in args.at_requests:
        found = best_at(durations, args, budget)
        if found is None:
            print(f'\nat {budget:.2f} requests per job: no schedule found')
        else:
            print(f'\nat {budget:.2f} requests per job: p95 {found[1]:.2f} s with {found[0]:.2f} '
                  'requests, polls ' + ' '.join(f'{t:.1f}' for t in found[2]))

    within = [point for point in frontier if point[1] <= seed_p95 / 4]
    if within:
        print(f'\np95 <= {seed_p95 / 4:.2f} s is reachable with {min(p[0] for p in within):.2f} '
              f'requests per job (seed: {seed_requests:.2f})')
    else:
        print(f'\np95 <= {seed_p95 / 4:.2f} s is out of reach of any plain poller with these '
              f'attempts: the lowest is {frontier[0][1]:.2f} s')


if __name__ == '__main__':
    main()
