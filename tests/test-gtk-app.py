#!/usr/bin/python3
# test-gtk-app.py: vt-jobs (examples/gtk) on a real X display
#
#   vt-with-server --delay 3 --error-rate 0.5 --seed 2 -- \
#     test-gtk-app.py XVFB VT-JOBS OUT-DIR
#
# Starts Xvfb on a free display (-displayfd), runs vt-jobs there against
# $VT_SERVER_URL, submitting three jobs through its form (--submit), with
# its test hook writing a screenshot and a report of the widgets at three
# moments into OUT-DIR (--test-dir; see examples/gtk/vt-jobs-test.c):
# mid-1 and mid-2 while every job is pending, then final once all ended
# (the last one cancelled through its Cancel button in between).
#
# Checks: three rows on screen, one above the other, inside the window; at
# mid-1 and mid-2 each bar's fraction read from the widget, the width of its
# filled part as laid out, and the filled pixels counted on the screenshot
# agree, and all three grew from mid-1 to mid-2; at the end, the completed
# job shows its result URL, the failed one the server's message, the
# cancelled one says so, and no Cancel button is left sensitive. With
# --seed 2 and --error-rate 0.5, vt-server's first three jobs end
# completed, error, completed (the last one is cancelled before).
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import gi

gi.require_version('GdkPixbuf', '2.0')
from gi.repository import GdkPixbuf  # noqa: E402

JOBS = [('https://example.com/talk.mp4', 'fr'),
        ('https://example.com/lecture.mp4', 'de'),
        ('https://example.com/trailer.mp4', 'es')]
TITLES = [f'{os.path.basename(url)} → {language}' for url, language in JOBS]
APP_TIMEOUT = 90


def fail(message):
    sys.exit(f'FAIL: {message}')


def start_xvfb(xvfb):
    """Xvfb on the first free display; returns (process, ':N')."""
    read_end, write_end = os.pipe()
    process = subprocess.Popen(
        [xvfb, '-displayfd', str(write_end), '-screen', '0', '1024x768x24',
         '-nolisten', 'tcp', '-noreset'],
        pass_fds=[write_end], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_end)
    with os.fdopen(read_end) as announced:
        display = announced.readline().strip()
    if not display.isdigit():
        process.kill()
        fail('Xvfb announced no display')
    return process, f':{display}'


def run_app(app, display, out_dir):
    runtime_dir = tempfile.mkdtemp(prefix='vt-jobs-runtime-')
    env = dict(os.environ,
               DISPLAY=display,
               GDK_BACKEND='x11',
               # The software renderer: the same pixels on any machine.
               GSK_RENDERER='cairo',
               GTK_A11Y='none',
               # Adwaita, whatever the user's settings: its accent blue is
               # what filled_pixels() counts.
               GTK_THEME='Adwaita',
               GSETTINGS_BACKEND='memory',
               XDG_RUNTIME_DIR=runtime_dir,
               XDG_CONFIG_HOME=runtime_dir)
    env.pop('DBUS_SESSION_BUS_ADDRESS', None)
    argv = [app, '--server', os.environ['VT_SERVER_URL'], '--test-dir', out_dir]
    for url, language in JOBS:
        argv += ['--submit', f'{url}@{language}']
    try:
        result = subprocess.run(argv, env=env, timeout=APP_TIMEOUT,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    finally:
        shutil.rmtree(runtime_dir, ignore_errors=True)
    print(result.stdout, end='')
    if result.returncode != 0:
        fail(f'vt-jobs exited with {result.returncode}')


def load(out_dir, name):
    with open(os.path.join(out_dir, f'{name}.json'), encoding='utf-8') as report:
        shown = json.load(report)
    picture = GdkPixbuf.Pixbuf.new_from_file(os.path.join(out_dir, f'{name}.png'))
    return shown, picture


def check_rows(name, shown):
    """Three rows, stacked, inside the window, with the three titles."""
    rows = shown['rows']
    if len(rows) != 3:
        fail(f'{name}: {len(rows)} rows on screen, not 3')
    if sorted(row['title'] for row in rows) != sorted(TITLES):
        fail(f'{name}: titles {[row["title"] for row in rows]}')
    for above, below in zip(rows, rows[1:]):
        if below['row'][1] < above['row'][1] + above['row'][3]:
            fail(f'{name}: rows overlap: {above["row"]} {below["row"]}')
    for row in rows:
        x, y, width, height = row['row']
        if x < 0 or y < 0 or x + width > shown['width'] or y + height > shown['height'] or height < 1:
            fail(f'{name}: row {row["title"]} at {row["row"]}, outside the window')
    return {row['title']: row for row in rows}


def filled_pixels(picture, trough):
    """Pixels of the progress colour on the trough's middle line."""
    x, y, width, height = trough
    channels = picture.get_n_channels()
    stride = picture.get_rowstride()
    pixels = picture.get_pixels()
    line = int(y + height / 2)
    count = 0
    for column in range(int(x), int(x + width)):
        offset = line * stride + column * channels
        red, green, blue = pixels[offset], pixels[offset + 1], pixels[offset + 2]
        # Adwaita's accent blue (53, 132, 228) on a grey trough.
        if blue - red > 60:
            count += 1
    return count


def check_bars(name, rows, picture):
    """Each bar: the widget's fraction, its layout and its pixels agree."""
    filled = {}
    for title, row in rows.items():
        if row['status'] != 'Pending' or not row['cancel_sensitive']:
            fail(f'{name}: {title} is {row["status"]!r}, not a pending job')
        trough_width = row['trough'][2]
        laid_out = row['progress'][2] / trough_width
        counted = filled_pixels(picture, row['trough'])
        if abs(laid_out - row['fraction']) > 0.02:
            fail(f'{name}: {title}: fraction {row["fraction"]:.3f}, laid out {laid_out:.3f}')
        if abs(counted / trough_width - row['fraction']) > 0.05:
            fail(f'{name}: {title}: fraction {row["fraction"]:.3f}, '
                 f'{counted} of {trough_width:.0f} pixels filled on the screenshot')
        filled[title] = (row['fraction'], counted)
    print(f'ok - {name}: ' + ', '.join(f'{title} {fraction:.0%} ({pixels} px)'
                                      for title, (fraction, pixels) in filled.items()))
    return filled


def check_final(rows):
    by_status = {}
    for title, row in rows.items():
        by_status.setdefault(row['status'], []).append(row)
        if row['cancel_sensitive']:
            fail(f'final: {title} can still be cancelled')
    cancelled = rows[TITLES[2]]
    if cancelled['status'] != 'Cancelled' or not cancelled['detail'].startswith('Stopped following at'):
        fail(f'final: the cancelled job shows {cancelled["status"]!r}, {cancelled["detail"]!r}')
    completed = by_status.get('Completed', [])
    failed = by_status.get('Error', [])
    if len(completed) != 1 or len(failed) != 1:
        fail(f'final: statuses {sorted(by_status)}; expected one completed, one error, one cancelled')
    if not re.fullmatch(r'http://127\.0\.0\.1:\d+/jobs/[^/]+/result', completed[0]['detail']):
        fail(f'final: the completed job shows {completed[0]["detail"]!r}, not its result URL')
    if completed[0]['fraction'] != 1.0:
        fail(f'final: the completed job\'s bar is at {completed[0]["fraction"]}')
    if failed[0]['detail'] != 'The translation failed (simulated by vt-server)':
        fail(f'final: the failed job shows {failed[0]["detail"]!r}, not the server\'s message')
    print(f'ok - final: {completed[0]["title"]} completed, {failed[0]["title"]} failed, '
          f'{cancelled["title"]} cancelled at {cancelled["fraction"]:.0%}')


def main(argv):
    if len(argv) != 4:
        sys.exit(f'usage: {argv[0]} XVFB VT-JOBS OUT-DIR')
    xvfb, app, out_dir = argv[1:]
    shutil.rmtree(out_dir, ignore_errors=True)
    os.makedirs(out_dir)

    server, display = start_xvfb(xvfb)
    try:
        run_app(app, display, out_dir)
    finally:
        server.terminate()
        server.wait()

    first, first_picture = load(out_dir, 'mid-1')
    second, second_picture = load(out_dir, 'mid-2')
    final, _ = load(out_dir, 'final')

    before = check_bars('mid-1', check_rows('mid-1', first), first_picture)
    after = check_bars('mid-2', check_rows('mid-2', second), second_picture)
    for title in TITLES:
        if not (after[title][0] > before[title][0] and after[title][1] > before[title][1]):
            fail(f'{title}: the bar did not move: {before[title]} then {after[title]}')
    print('ok - every bar moved between the two screenshots')
    check_final(check_rows('final', final))


if __name__ == '__main__':
    main(sys.argv)
