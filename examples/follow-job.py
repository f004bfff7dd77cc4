#!/usr/bin/python3
# follow-job.py: submit a translation job to vt-server and follow it to the end
#
#   follow-job.py [URL]
#
# URL defaults to $VT_SERVER_URL, then to http://127.0.0.1:5000. Prints each
# status update as it is observed and the final status; exits with 0 when the
# job completed, 1 otherwise. Needs Debian's python3-gi and the Vt-1.0 typelib
# (installed, or found through GI_TYPELIB_PATH).
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os
import sys

import gi

gi.require_version('GLib', '2.0')
gi.require_version('Vt', '1.0')
from gi.repository import GLib, Vt  # noqa: E402


def main(argv):
    url = (argv[1] if len(argv) > 1 else os.environ.get('VT_SERVER_URL')) \
        or 'http://127.0.0.1:5000'
    client = Vt.Client.new(url)
    loop = GLib.MainLoop()
    outcome = {}

    def on_status_changed(client, job_id, status):
        print(f'Status Updated: {status.value_nick}', flush=True)

    def on_followed(client, result):
        try:
            outcome['status'] = client.get_status_finish(result)
        except GLib.Error as error:
            outcome['error'] = error
        loop.quit()

    def on_submitted(client, result):
        try:
            job_id = client.submit_job_finish(result)
        except GLib.Error as error:
            outcome['error'] = error
            loop.quit()
            return
        print(f'Submitted job {job_id}', flush=True)
        client.get_status_async(job_id, None, on_followed)

    client.connect('status-changed', on_status_changed)
    client.submit_job_async('https://example.com/video.mp4', 'fr', None,
                            on_submitted)
    loop.run()

    if 'error' in outcome:
        print(f'follow-job: {outcome["error"].message}', file=sys.stderr)
        return 1
    print(f'Final Status: {outcome["status"].value_nick}')
    return 0 if outcome['status'] == Vt.Status.COMPLETED else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv))
