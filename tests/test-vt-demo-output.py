#!/usr/bin/python3
# test-vt-demo-output.py: what vt-demo (build-aux/run-main-job) prints
#
#   test-vt-demo-output.py terminal|pipe VT-DEMO [VT-DEMO-ARGS...]
#
# terminal: runs vt-demo on a pseudo-terminal and checks the live line: a
# bar redrawn in place with carriage returns, a percentage that grows while
# the job is pending, an ETA, the bar full at `completed`, then the seed's
# `Final Status: completed` on a line of its own and no status lines.
# pipe: runs it with stdout a pipe and checks the seed's plain lines,
# exactly, and that no bar was drawn.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os
import pty
import re
import select
import signal
import subprocess
import sys
import time

TIMEOUT = 60
# One frame of the live line, as vt-demo.c's display_draw() writes it.
FRAME = re.compile(r'\r\[([=> ]{30})\]\s+(\d+|-)%  ETA (\S+)(?: s)?  (\w+)\x1b\[K')


def fail(message, output):
    sys.exit(f'FAIL: {message}\n--- output ---\n{output!r}')


def run_on_terminal(argv):
    """Runs argv with a pty as its stdout; returns (exit status, output)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.environ['TERM'] = 'xterm'
        os.execv(argv[0], argv)
    output = b''
    deadline = time.monotonic() + TIMEOUT
    while True:
        ready, _, _ = select.select([fd], [], [], max(0, deadline - time.monotonic()))
        if not ready:
            os.kill(pid, signal.SIGTERM)
            break
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the child closed the terminal's last end
            break
        if not chunk:
            break
        output += chunk
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    # The terminal turns every \n into \r\n; take that back.
    return os.waitstatus_to_exitcode(status), output.decode().replace('\r\n', '\n')


def check_terminal(argv):
    code, output = run_on_terminal(argv)
    if code != 0:
        fail(f'vt-demo exited with {code}', output)

    frames = FRAME.findall(output)
    if not frames:
        fail('no progress bar was drawn', output)
    if 'Status Updated:' in output:
        fail('status lines on a terminal, instead of the bar', output)

    pending = [int(percent) for _, percent, _, status in frames
               if status == 'pending' and percent != '-']
    if len(set(pending)) < 3:
        fail(f'the percentage did not grow while pending: {pending}', output)
    if pending != sorted(pending):
        fail(f'the percentage went back: {pending}', output)
    if not any(eta != '-' for _, _, eta, status in frames if status == 'pending'):
        fail('no ETA while pending', output)
    bar, percent, _, status = frames[-1]
    if (bar, percent, status) != ('=' * 30, '100', 'completed'):
        fail(f'the last frame is not a full bar at completed: {frames[-1]}', output)

    # The bar's line ends, then the seed's final line stands on its own.
    tail = output[output.rindex('\x1b[K') + len('\x1b[K'):]
    if not tail.startswith('\nFinal Status: completed\n'):
        fail('the final status does not follow the bar on its own line', output)
    print(f'ok - {len(frames)} frames, pending at {pending} %, then completed')


def check_pipe(argv):
    result = subprocess.run(argv, stdout=subprocess.PIPE, text=True, timeout=TIMEOUT)
    output = result.stdout
    if result.returncode != 0:
        fail(f'vt-demo exited with {result.returncode}', output)
    if '\r' in output or '\x1b' in output:
        fail('a bar was drawn into a pipe', output)
    lines = [line for line in output.splitlines()
             if not line.startswith(('Started vt-server', 'Stopped vt-server'))]
    expected = ['Status Updated: pending', 'Status Updated: completed',
                'Final Status: completed']
    if lines != expected:
        fail(f'expected the seed\'s lines {expected}, got {lines}', output)
    print('ok - the seed\'s plain lines')


def main(argv):
    if len(argv) < 3 or argv[1] not in ('terminal', 'pipe'):
        sys.exit(f'usage: {argv[0]} terminal|pipe VT-DEMO [ARGS...]')
    if argv[1] == 'terminal':
        check_terminal(argv[2:])
    else:
        check_pipe(argv[2:])


if __name__ == '__main__':
    main(sys.argv)
