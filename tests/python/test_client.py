#!/usr/bin/python3
# tests/python/test_client.py: the Vt-1.0 typelib from Python (PyGObject)
#
# Runs under tests/vt-with-server, which starts the built vt-server on a
# free port and exports its URL as VT_SERVER_URL. Every wait is on the main
# loop, guarded by a deadline: nothing sleeps.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import json
import os
import sys
import unittest

# No gi means the bindings cannot be tested: that is a failure (ImportError,
# exit status 1), never a skip.
import gi

gi.require_version('GLib', '2.0')
gi.require_version('Gio', '2.0')
gi.require_version('Soup', '3.0')
gi.require_version('Vt', '1.0')
from gi.repository import GLib, Gio, Soup, Vt  # noqa: E402

SERVER_URL = os.environ.get('VT_SERVER_URL')

# How long one test may wait on the main loop before it fails.
DEADLINE_SECONDS = 20

# Jobs end in 0.3 s (the server runs with --delay 0.3, or the job is posted
# with that duration): a sub-second schedule follows them in well under a
# second.
FAST_SCHEDULE = {
    'initial_wait_time': 0.05,
    'backoff_factor': 1.5,
    'jitter': 0.02,
    'max_wait_time': 10.0,
    'max_attempts': 50,
}


def fast_client():
    return Vt.Client(base_url=SERVER_URL, **FAST_SCHEDULE)


def run_async(start, finish):
    """Calls start(callback), runs a main loop until callback fires, and
    returns finish(result), raising what it raises."""
    loop = GLib.MainLoop()
    outcome = {}

    def on_ready(source, result, *user_data):
        try:
            outcome['value'] = finish(result)
        except GLib.Error as error:
            outcome['error'] = error
        loop.quit()

    def on_deadline():
        outcome['deadline'] = True
        loop.quit()
        return GLib.SOURCE_REMOVE

    guard = GLib.timeout_add_seconds(DEADLINE_SECONDS, on_deadline)
    start(on_ready)
    loop.run()
    if 'deadline' in outcome:
        raise AssertionError('no answer within %d s' % DEADLINE_SECONDS)
    GLib.source_remove(guard)
    if 'error' in outcome:
        raise outcome['error']
    return outcome['value']


def post_job(duration, outcome):
    """POST /jobs with the test-only fields the client API does not expose
    (duration, outcome); returns the new job's id."""
    session = Soup.Session()
    message = Soup.Message.new('POST', SERVER_URL + '/jobs')
    body = json.dumps({'source_url': 'https://example.com/v.mp4',
                       'target_language': 'fr',
                       'duration': duration,
                       'outcome': outcome}).encode()
    message.set_request_body_from_bytes('application/json', GLib.Bytes.new(body))
    reply = session.send_and_read(message, None)
    if message.get_status() != Soup.Status.CREATED:
        raise AssertionError('POST /jobs answered %d' % message.get_status())
    return json.loads(reply.get_data().decode())['id']


class StatusRecorder:
    """Records every status-changed emission as (job_id, status)."""

    def __init__(self, client):
        self.events = []
        client.connect('status-changed', self._on_status_changed)

    def _on_status_changed(self, client, job_id, status):
        self.events.append((job_id, status))


class ClientTest(unittest.TestCase):

    def follow(self, client, job_id, cancellable=None):
        return run_async(
            lambda cb: client.get_status_async(job_id, cancellable, cb),
            client.get_status_finish)

    def test_defaults_match_the_seed(self):
        client = Vt.Client.new(SERVER_URL)
        self.assertEqual(client.props.base_url, SERVER_URL)
        self.assertEqual(client.props.max_attempts, 10)
        self.assertEqual(client.props.max_wait_time, 60.0)
        self.assertEqual(client.props.initial_wait_time, 1.0)
        self.assertEqual(client.props.backoff_factor, 2.0)
        self.assertEqual(client.props.jitter, 0.5)

    def test_follow_submitted_job(self):
        client = fast_client()
        recorder = StatusRecorder(client)

        job_id = run_async(
            lambda cb: client.submit_job_async('https://example.com/v.mp4',
                                               'fr', None, cb),
            client.submit_job_finish)
        self.assertIsInstance(job_id, str)
        self.assertNotEqual(job_id, '')
        self.assertEqual(recorder.events, [])

        seen_at_completion = []

        def finish(result):
            seen_at_completion.extend(recorder.events)
            return client.get_status_finish(result)

        status = run_async(
            lambda cb: client.get_status_async(job_id, None, cb), finish)

        self.assertEqual(status, Vt.Status.COMPLETED)
        expected = [(job_id, Vt.Status.PENDING), (job_id, Vt.Status.COMPLETED)]
        self.assertEqual(recorder.events, expected)
        # Every emission happened before the task completed.
        self.assertEqual(seen_at_completion, expected)

    def test_classic_job_sync(self):
        client = fast_client()
        recorder = StatusRecorder(client)

        status = client.get_status(None, None)

        self.assertEqual(status, Vt.Status.COMPLETED)
        # The server's classic job started with the server, so this watch
        # may first see it pending or already completed; either way it saw
        # no job id and ended on COMPLETED, reporting each change once.
        self.assertIn(recorder.events,
                      ([(None, Vt.Status.PENDING), (None, Vt.Status.COMPLETED)],
                       [(None, Vt.Status.COMPLETED)]))

    def test_error_outcome(self):
        client = fast_client()
        recorder = StatusRecorder(client)
        job_id = post_job(0.3, 'error')

        status = self.follow(client, job_id)

        self.assertEqual(status, Vt.Status.ERROR)
        self.assertEqual(recorder.events,
                         [(job_id, Vt.Status.PENDING), (job_id, Vt.Status.ERROR)])

    def test_unknown_job_is_not_found(self):
        client = fast_client()
        recorder = StatusRecorder(client)

        with self.assertRaises(GLib.Error) as raised:
            self.follow(client, '00000000-0000-4000-8000-000000000000')

        error = raised.exception
        self.assertEqual(error.domain, 'vt-client-error-quark')
        self.assertEqual(error.code, Vt.ClientError.NOT_FOUND)
        self.assertTrue(error.matches(Vt.ClientError.quark(),
                                      Vt.ClientError.NOT_FOUND))
        self.assertEqual(recorder.events, [])

    def test_cancel_while_pending(self):
        client = fast_client()
        recorder = StatusRecorder(client)
        cancellable = Gio.Cancellable()
        job_id = post_job(30, 'completed')

        # Cancel as soon as the first observation arrives.
        client.connect('status-changed',
                       lambda *args: cancellable.cancel())

        with self.assertRaises(GLib.Error) as raised:
            self.follow(client, job_id, cancellable)

        self.assertTrue(raised.exception.matches(Gio.io_error_quark(),
                                                 Gio.IOErrorEnum.CANCELLED))
        self.assertEqual(recorder.events, [(job_id, Vt.Status.PENDING)])


if __name__ == '__main__':
    if not SERVER_URL:
        sys.exit('VT_SERVER_URL is not set: run me under tests/vt-with-server')
    unittest.main(verbosity=2)
