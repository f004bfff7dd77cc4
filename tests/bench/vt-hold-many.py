#!/usr/bin/python3
"""Can vt-server hold N long-polls and N event streams open at once? (issue 8, point 3)

  apt-get install python3-aiohttp
  tests/bench/vt-hold-many.py [--server PATH] [--n N] [--wait S]

For each phase, starts a vt-server of its own on 127.0.0.1 with --port 0, creates N jobs of
120 s, then:
1. opens N long-polls GET /jobs/{id}?wait=S at once (no client-side connection limit) and waits
   for every answer (each is held until its wait runs out, so all N are open together);
2. opens N event streams GET /jobs/{id}/events at once, reads each one's first event, checks
   that the server counts N open streams while all are held, then closes them.
Prints, per phase, how many were answered, how many failed (connection reset or any other
error), the time to open and answer them all, and the server's gauge. Exits non-zero when any
failed. Loopback only, bounded in count and time (a phase gives up after 120 s).
"""
import argparse, asyncio, os, re, resource, subprocess, sys, time

import aiohttp

HERE = os.path.dirname(os.path.abspath(__file__))


def start_server(path):
    proc = subprocess.Popen([path, "--host", "127.0.0.1", "--port", "0", "--delay", "120"],
                            stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    m = re.match(r"vt-server listening on (http://\S+)", line)
    if not m:
        proc.kill()
        sys.exit(f"vt-server did not announce itself: {line!r}")
    return proc, m.group(1)


async def gauge(session, url, name):
    async with session.get(url + "/metrics") as r:
        text = await r.text()
    m = re.search(rf"^{name} (\d+)$", text, re.M)
    return int(m.group(1)) if m else -1


def count_errors(results):
    errors = {}
    for r in results:
        if isinstance(r, BaseException):
            key = type(r).__name__ + (": " + str(r) if "reset" in str(r).lower() else "")
            errors[key] = errors.get(key, 0) + 1
    return errors


async def long_polls(url, ids, wait):
    conn = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(connector=conn, timeout=timeout) as s, \
               aiohttp.ClientSession() as probe:
        async def one(jid):
            async with s.get(f"{url}/jobs/{jid}?wait={wait}") as r:
                body = await r.json()
                if r.status != 200 or body["status"] != "pending":
                    raise RuntimeError(f"{r.status} {body}")
                return True

        t0 = time.monotonic()
        tasks = [asyncio.ensure_future(one(j)) for j in ids]
        peak = 0
        while not all(t.done() for t in tasks) and time.monotonic() - t0 < 120:
            await asyncio.sleep(0.5)
            peak = max(peak, await gauge(probe, url, "vt_open_long_polls"))
        results = await asyncio.gather(*tasks, return_exceptions=True)
        elapsed = time.monotonic() - t0
    ok = sum(1 for r in results if r is True)
    return ok, count_errors(results), elapsed, peak


async def streams(url, ids):
    conn = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(connector=conn, timeout=timeout) as s, \
               aiohttp.ClientSession() as probe:
        release = asyncio.Event()

        async def one(jid):
            async with s.get(f"{url}/jobs/{jid}/events") as r:
                if r.status != 200:
                    raise RuntimeError(str(r.status))
                first = await r.content.readuntil(b"\n\n")
                if b"event: status" not in first:
                    raise RuntimeError(first[:80])
                await release.wait()
                return True

        t0 = time.monotonic()
        tasks = [asyncio.ensure_future(one(j)) for j in ids]
        opened = 0
        while time.monotonic() - t0 < 120:
            await asyncio.sleep(0.5)
            opened = await gauge(probe, url, "vt_open_streams")
            if opened >= len(ids) or all(t.done() for t in tasks):
                break
        elapsed = time.monotonic() - t0
        release.set()
        results = await asyncio.gather(*tasks, return_exceptions=True)
    ok = sum(1 for r in results if r is True)
    return ok, count_errors(results), elapsed, opened


async def create_jobs(url, n):
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64)) as s:
        async def post():
            async with s.post(url + "/jobs", json={"duration": 120}) as r:
                return (await r.json())["id"]
        return await asyncio.gather(*(post() for _ in range(n)))


def peak_rss(proc):
    m = re.search(r"VmHWM:\s+(\d+) kB", open(f"/proc/{proc.pid}/status").read())
    return f", vt-server peak RSS {int(m.group(1)) / 1024:.0f} MiB" if m else ""


async def phase(args, name):
    """One phase on a server of its own (or --url): libsoup 3.2.3 keeps the connections the
    first phase's client closed open (CLOSE-WAIT) and so their descriptors."""
    proc, url = start_server(args.server) if args.url is None else (None, args.url)
    try:
        ids = await create_jobs(url, args.n)
        if name == "long-polls":
            ok, errors, elapsed, peak = await long_polls(url, ids, args.wait)
            print(f"long-polls N={args.n} wait={args.wait:g}s: {ok} answered, errors {errors or 0}, "
                  f"all answered {elapsed:.1f} s after the first was sent, "
                  f"server's vt_open_long_polls peak {peak}" + (peak_rss(proc) if proc else ""))
            return ok == args.n
        ok, errors, elapsed, opened = await streams(url, ids)
        print(f"streams N={args.n}: {ok} read their first event and stayed open, errors "
              f"{errors or 0}, all open {elapsed:.1f} s after the first was sent, "
              f"server's vt_open_streams {opened}" + (peak_rss(proc) if proc else ""))
        return ok == args.n and opened == args.n
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(10)


async def main(args):
    passed = True
    for name in ("long-polls", "streams"):
        if args.only in (None, name):
            passed &= await phase(args, name)
    return 0 if passed else 1


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--server", default=os.path.join(HERE, "..", "..", "_build", "server", "vt-server"))
    p.add_argument("--url", help="a vt-server already running (--delay 120), instead of one of ours")
    p.add_argument("--n", type=int, default=10000)
    p.add_argument("--wait", type=float, default=20)
    p.add_argument("--only", choices=["long-polls", "streams"])
    a = p.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    sys.exit(asyncio.run(main(a)))
