#!/usr/bin/python3
# tests/python/test_job.py: Vt.Job from Python, what a GTK app binds to
#
# Runs under tests/vt-with-server like test_client.py, whose helpers it
# shares. Every wait is on the main loop, guarded by a deadline.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import json
import sys
import unittest

# No gi is a failure (ImportError), never a skip.
import gi

gi.require_version('GLib', '2.0')
gi.require_version('GObject', '2.0')
gi.require_version('Gio', '2.0')
gi.require_version('Soup', '3.0')
gi.require_version('Vt', '1.0')
from gi.repository import GLib, GObject, Gio, Soup, Vt  # noqa: E402

from test_client import SERVER_URL, fast_client, run_async  # noqa: E402


def post_job(**fields):
    """POST /jobs with test-only fields (duration, outcome, message)."""
    session = Soup.Session()
    message = Soup.Message.new('POST', SERVER_URL + '/jobs')
    body = json.dumps(fields).encode()
    message.set_request_body_from_bytes('application/json', GLib.Bytes.new(body))
    reply = session.send_and_read(message, None)
    if message.get_status() != Soup.Status.CREATED:
        raise AssertionError('POST /jobs answered %d' % message.get_status())
    return json.loads(reply.get_data().decode())['id']


def wait(job, cancellable=None):
    return run_async(lambda cb: job.wait_async(cancellable, cb), job.wait_finish)


class Sink(GObject.Object):
    """A property to bind a job's progress onto, as a GtkProgressBar's
    fraction would be; it keeps every value it was set to, and when."""

    def __init__(self):
        super().__init__()
        self.values = []
        self.times = []
        self._fraction = 0.0

    @GObject.Property(type=float, minimum=0.0, maximum=1.0)
    def fraction(self):
        return self._fraction

    @fraction.setter
    def fraction(self, value):
        self._fraction = value
        self.values.append(value)
        self.times.append(GLib.get_monotonic_time())


class JobTest(unittest.TestCase):

    def learn(self, client):
        """One job of its own first: the capabilities are then known and
        the next jobs take their channel at once."""
        job = client.follow(post_job(duration=0))
        self.assertEqual(wait(job), Vt.Status.COMPLETED)

    def test_notify_once_per_change(self):
        client = fast_client()
        job = client.follow(post_job(duration=0.5))
        notes = []
        job.connect('notify', lambda obj, pspec: notes.append(
            (pspec.name, obj.get_property(pspec.name))))

        self.assertEqual(job.props.status, Vt.Status.PENDING)
        self.assertEqual(job.props.eta, -1.0)
        self.assertEqual(wait(job), Vt.Status.COMPLETED)

        statuses = [value for name, value in notes if name == 'status']
        self.assertEqual(statuses, [Vt.Status.COMPLETED])
        urls = [value for name, value in notes if name == 'result-url']
        self.assertEqual(len(urls), 1)
        self.assertTrue(urls[0].startswith('http'))
        self.assertEqual(job.props.result_url, urls[0])
        self.assertEqual(job.get_document().get_string_member('result_url'), urls[0])
        self.assertEqual(job.props.progress, 1.0)
        self.assertIsNotNone(job.props.created_at)
        self.assertIsNotNone(job.props.completed_at)
        # Never notified with the value it already had.
        for name in set(name for name, _ in notes):
            values = [value for n, value in notes if n == name]
            for before, after in zip(values, values[1:]):
                self.assertNotEqual(before, after, name)

    def test_error_message(self):
        client = fast_client()
        job = client.follow(post_job(duration=0.2, outcome='error',
                                     message='no audio track'))
        self.assertEqual(wait(job), Vt.Status.ERROR)
        self.assertEqual(job.props.message, 'no audio track')
        self.assertIsNone(job.props.result_url)

    def test_bound_progress_moves_smoothly(self):
        for strategy in (Vt.Strategy.STREAM, Vt.Strategy.LONG_POLL, Vt.Strategy.POLL):
            with self.subTest(strategy=strategy.value_nick):
                client = fast_client()
                client.props.strategy = strategy
                self.learn(client)
                sink = Sink()
                job = client.follow(post_job(duration=1.5))
                job.bind_property('progress', sink, 'fraction', GObject.BindingFlags.DEFAULT)

                self.assertEqual(wait(job), Vt.Status.COMPLETED)

                values = sink.values
                self.assertEqual(values[-1], 1.0)
                self.assertTrue(all(value <= 0.99 for value in values[:-1]))
                self.assertEqual(values, sorted(values))
                seconds = (sink.times[-2] - sink.times[0]) / 1e6
                self.assertGreaterEqual(seconds, 0.75)
                self.assertGreaterEqual((len(values) - 2) / seconds, 4.0)

    def test_list_model(self):
        client = fast_client()
        jobs = client.get_jobs()
        changes = []
        jobs.connect('items-changed',
                     lambda model, position, removed, added:
                     changes.append((position, removed, added)))

        first = client.follow(post_job(duration=0.4))
        second = client.follow(post_job(duration=0.2))
        self.assertEqual(jobs.get_n_items(), 2)
        self.assertIs(jobs.get_item(0), first)
        self.assertIs(jobs.get_item(1), second)
        self.assertEqual(wait(second), Vt.Status.COMPLETED)
        self.assertEqual(wait(first), Vt.Status.COMPLETED)

        self.assertEqual(changes, [(0, 0, 1), (1, 0, 1), (1, 1, 0), (0, 1, 0)])
        self.assertEqual(jobs.get_n_items(), 0)

    def test_same_job_for_same_id(self):
        client = fast_client()
        job_id = post_job(duration=0.3)
        job = client.follow(job_id)
        self.assertIs(client.follow(job_id), job)
        self.assertEqual(wait(job), Vt.Status.COMPLETED)
        self.assertIsNot(client.follow(job_id), job)

    def test_cancel_with_several_waiters(self):
        client = fast_client()
        job = client.follow(post_job(duration=30))
        results = []
        loop = GLib.MainLoop()

        def on_done(source, result):
            try:
                results.append(job.wait_finish(result))
            except GLib.Error as error:
                results.append(error)
            if len(results) == 3:
                loop.quit()

        for _ in range(3):
            job.wait_async(None, on_done)
        GLib.timeout_add(100, lambda: job.cancel() and False)
        guard = GLib.timeout_add_seconds(20, loop.quit)
        loop.run()
        GLib.source_remove(guard)

        self.assertEqual(len(results), 3)
        for error in results:
            self.assertIsInstance(error, GLib.Error)
            self.assertTrue(error.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED))
        self.assertTrue(job.is_finished())
        self.assertEqual(client.get_jobs().get_n_items(), 0)

    def test_restart_from_saved_state(self):
        # What an application does as it quits and starts again: save the
        # jobs it follows (a string for GSettings or a file), and follow
        # them on, from a new client, to their end.
        job_id = post_job(duration=0.6, outcome='completed')
        client = fast_client()
        job = client.follow(job_id)
        state = client.export_state()
        saved = json.loads(state)
        self.assertEqual(saved['version'], 1)
        self.assertEqual([j['id'] for j in saved['jobs']], [job_id])
        self.assertEqual(saved['jobs'][0]['base-url'], SERVER_URL)
        job.cancel()

        restarted = fast_client()
        jobs = restarted.import_state(state)
        self.assertIsInstance(jobs, Gio.ListModel)
        self.assertEqual(jobs.get_n_items(), 1)
        resumed = jobs.get_item(0)
        self.assertEqual(resumed.props.id, job_id)
        self.assertEqual(wait(resumed), Vt.Status.COMPLETED)

    def test_bad_state_is_an_error(self):
        client = fast_client()
        with self.assertRaises(GLib.Error) as caught:
            client.import_state('{"version": 1}')
        self.assertTrue(caught.exception.matches(Vt.client_error_quark(),
                                                 Vt.ClientError.INVALID_ARGUMENT))
        self.assertEqual(client.get_jobs().get_n_items(), 0)

    def test_monitors_can_be_turned_off(self):
        client = fast_client()
        self.assertIsNotNone(client.props.network_monitor)
        self.assertEqual(client.props.power_saver_factor, 2.0)
        client.props.network_monitor = None
        client.props.power_profile_monitor = None
        self.assertIsNone(client.get_network_monitor())
        self.assertIsNone(client.get_power_profile_monitor())


if __name__ == '__main__':
    if not SERVER_URL:
        sys.exit('VT_SERVER_URL is not set: run me under tests/vt-with-server')
    unittest.main(verbosity=2)
