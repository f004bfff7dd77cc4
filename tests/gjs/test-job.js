// tests/gjs/test-job.js: Vt.Job from GJS, what a GTK app binds to
//
//   vt-with-server --delay 0.3 -- gjs -m test-job.js
//
// Runs under tests/vt-with-server. Speaks TAP. Every wait is an awaited
// promise, guarded by a deadline: nothing sleeps.
//
// SPDX-License-Identifier: LGPL-2.1-or-later

import GLib from 'gi://GLib';
import GObject from 'gi://GObject';
import Gio from 'gi://Gio';
import Vt from 'gi://Vt?version=1.0';

import {SERVER_URL, assert, assertEqual, postJob, runTests, withDeadline} from './harness.js';

Gio._promisify(Vt.Job.prototype, 'wait_async', 'wait_finish');

function fastClient(strategy = Vt.Strategy.AUTO) {
    return new Vt.Client({
        base_url: SERVER_URL, strategy, initial_wait_time: 0.05, backoff_factor: 1.5,
        jitter: 0.02, max_wait_time: 10.0, max_attempts: 50,
    });
}

// A property to bind a job's progress onto, as a GtkProgressBar's fraction
// would be; it keeps every value set, and when.
const Sink = GObject.registerClass({
    Properties: {
        fraction: GObject.ParamSpec.double('fraction', null, null,
            GObject.ParamFlags.READWRITE, 0, 1, 0),
    },
}, class Sink extends GObject.Object {
    constructor() {
        super();
        this.values = [];
        this.times = [];
    }

    get fraction() {
        return this._fraction ?? 0;
    }

    set fraction(value) {
        this._fraction = value;
        this.values.push(value);
        this.times.push(GLib.get_monotonic_time());
    }
});

async function learn(client) {
    const job = client.follow(await postJob({duration: 0}));
    assertEqual(await withDeadline(job.wait_async(null)), Vt.Status.COMPLETED, 'first job');
}

const tests = {
    async 'properties notify once per change'() {
        const client = fastClient();
        const job = client.follow(await postJob({duration: 0.5}));
        const statuses = [];
        job.connect('notify::status', () => statuses.push(job.status));

        assertEqual(job.status, Vt.Status.PENDING, 'status before any answer');
        assertEqual(await withDeadline(job.wait_async(null)), Vt.Status.COMPLETED, 'final');
        assertEqual(statuses, [Vt.Status.COMPLETED], 'status notifications');
        assertEqual(job.progress, 1, 'progress at the end');
        assert(job.result_url.startsWith('http'), `result-url ${job.result_url}`);
        assertEqual(job.get_document().get_string_member('result_url'), job.result_url,
            'result-url from the document');
        assert(job.created_at !== null && job.completed_at !== null, 'times');
    },

    async 'a job in error tells why'() {
        const client = fastClient();
        const job = client.follow(await postJob({duration: 0.2, outcome: 'error',
            message: 'no audio track'}));
        assertEqual(await withDeadline(job.wait_async(null)), Vt.Status.ERROR, 'final');
        assertEqual(job.message, 'no audio track', 'message');
        assertEqual(job.result_url, null, 'result-url');
    },

    async 'bound progress moves smoothly on every channel'() {
        for (const strategy of [Vt.Strategy.STREAM, Vt.Strategy.LONG_POLL, Vt.Strategy.POLL]) {
            const client = fastClient(strategy);
            // eslint-disable-next-line no-await-in-loop
            await learn(client);
            const sink = new Sink();
            // eslint-disable-next-line no-await-in-loop
            const job = client.follow(await postJob({duration: 1.5}));
            job.bind_property('progress', sink, 'fraction', GObject.BindingFlags.DEFAULT);

            // eslint-disable-next-line no-await-in-loop
            assertEqual(await withDeadline(job.wait_async(null)), Vt.Status.COMPLETED, 'final');

            const values = sink.values;
            assertEqual(values[values.length - 1], 1, 'last value');
            for (let i = 0; i + 1 < values.length; i++) {
                assert(values[i] <= 0.99, `value ${values[i]} before the end`);
                assert(values[i] < values[i + 1], `not monotonic at ${i}`);
            }
            const seconds = (sink.times[values.length - 2] - sink.times[0]) / 1e6;
            assert(seconds >= 0.75, `updates over ${seconds} s only`);
            assert((values.length - 2) / seconds >= 4,
                `${values.length} updates over ${seconds} s (strategy ${strategy})`);
        }
    },

    async 'the list of jobs changes as jobs start and end'() {
        const client = fastClient();
        const jobs = client.get_jobs();
        const changes = [];
        jobs.connect('items-changed', (_m, position, removed, added) =>
            changes.push([position, removed, added]));

        const first = client.follow(await postJob({duration: 0.4}));
        const second = client.follow(await postJob({duration: 0.2}));
        assertEqual(jobs.get_n_items(), 2, 'jobs followed');
        assert(jobs.get_item(1) === second, 'second job at 1');
        await withDeadline(second.wait_async(null));
        await withDeadline(first.wait_async(null));
        assertEqual(changes, [[0, 0, 1], [1, 0, 1], [1, 1, 0], [0, 1, 0]], 'items-changed');
        assertEqual(jobs.get_n_items(), 0, 'jobs left');
    },

    async 'one job for one id'() {
        const client = fastClient();
        const id = await postJob({duration: 0.3});
        const job = client.follow(id);
        assert(client.follow(id) === job, 'same job');
        await withDeadline(job.wait_async(null));
        assert(client.follow(id) !== job, 'a new one once over');
    },

    async 'cancelling a job ends every wait'() {
        const client = fastClient();
        const job = client.follow(await postJob({duration: 30}));
        const waits = [job.wait_async(null), job.wait_async(null), job.wait_async(null)];
        GLib.timeout_add(GLib.PRIORITY_DEFAULT, 100, () => {
            job.cancel();
            return GLib.SOURCE_REMOVE;
        });
        const outcomes = await withDeadline(Promise.allSettled(waits));
        for (const outcome of outcomes) {
            assertEqual(outcome.status, 'rejected', 'wait');
            assert(outcome.reason.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED),
                `${outcome.reason}`);
        }
        assert(job.is_finished(), 'finished');
        assertEqual(client.get_jobs().get_n_items(), 0, 'jobs left');
    },
};

runTests(tests);
