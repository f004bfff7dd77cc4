// tests/gjs/test-client.js: the Vt-1.0 typelib from GJS, as an ES module
//
//   vt-with-server --delay 0.3 -- gjs -m test-client.js
//
// Runs under tests/vt-with-server, which starts the built vt-server on a
// free port and exports its URL as VT_SERVER_URL. Speaks TAP. Every wait is
// an awaited promise, guarded by a deadline: nothing sleeps.
//
// SPDX-License-Identifier: LGPL-2.1-or-later

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import Vt from 'gi://Vt?version=1.0';

import {SERVER_URL, assertEqual, postJob, runTests, withDeadline} from './harness.js';

Gio._promisify(Vt.Client.prototype, 'get_status_async', 'get_status_finish');
Gio._promisify(Vt.Client.prototype, 'submit_job_async', 'submit_job_finish');

// Jobs end in 0.3 s: a sub-second schedule follows them in well under a second.
const FAST_SCHEDULE = {
    initial_wait_time: 0.05,
    backoff_factor: 1.5,
    jitter: 0.02,
    max_wait_time: 10.0,
    max_attempts: 50,
};

function fastClient() {
    return new Vt.Client({base_url: SERVER_URL, ...FAST_SCHEDULE});
}

// Records every status-changed emission as [jobId, status].
function recordStatus(client) {
    const events = [];
    client.connect('status-changed', (_client, jobId, status) => {
        events.push([jobId, status]);
    });
    return events;
}

// A job of @duration seconds that ends in @outcome, as a real submission
// would describe it.
function postTimedJob(duration, outcome) {
    return postJob({
        source_url: 'https://example.com/v.mp4',
        target_language: 'fr',
        duration,
        outcome,
    });
}

async function assertRejects(promise, domain, code, what) {
    try {
        await promise;
    } catch (e) {
        if (!(e instanceof GLib.Error) || !e.matches(domain, code))
            throw new Error(`${what}: expected error code ${code}, got ${e}`);
        return e;
    }
    throw new Error(`${what}: expected an error, got success`);
}

const tests = {
    async 'defaults match the seed'() {
        const client = Vt.Client.new(SERVER_URL);
        assertEqual(client.base_url, SERVER_URL, 'base-url');
        assertEqual(client.max_attempts, 10, 'max-attempts');
        assertEqual(client.max_wait_time, 60, 'max-wait-time');
        assertEqual(client.initial_wait_time, 1, 'initial-wait-time');
        assertEqual(client.backoff_factor, 2, 'backoff-factor');
        assertEqual(client.jitter, 0.5, 'jitter');
    },

    async 'follow a submitted job to completion'() {
        const client = fastClient();
        const events = recordStatus(client);

        const jobId = await client.submit_job_async('https://example.com/v.mp4', 'fr', null);
        if (typeof jobId !== 'string' || jobId === '')
            throw new Error(`bad job id ${jobId}`);
        assertEqual(events, [], 'signals before following');

        const status = await withDeadline(client.get_status_async(jobId, null));

        assertEqual(status, Vt.Status.COMPLETED, 'final status');
        assertEqual(events, [[jobId, Vt.Status.PENDING], [jobId, Vt.Status.COMPLETED]],
            'status-changed sequence');
    },

    async 'an error outcome gives ERROR'() {
        const client = fastClient();
        const events = recordStatus(client);
        const jobId = await postTimedJob(0.3, 'error');

        const status = await withDeadline(client.get_status_async(jobId, null));

        assertEqual(status, Vt.Status.ERROR, 'final status');
        assertEqual(events, [[jobId, Vt.Status.PENDING], [jobId, Vt.Status.ERROR]],
            'status-changed sequence');
    },

    async 'the classic job on /status completes'() {
        const client = fastClient();
        const events = recordStatus(client);

        const status = await withDeadline(client.get_status_async(null, null));

        assertEqual(status, Vt.Status.COMPLETED, 'final status');
        // The classic job started with the server: this watch may first see
        // it pending or already completed.
        const last = events[events.length - 1];
        assertEqual(last, [null, Vt.Status.COMPLETED], 'last status-changed');
        if (events.length === 2)
            assertEqual(events[0], [null, Vt.Status.PENDING], 'first status-changed');
        else
            assertEqual(events.length, 1, 'number of status-changed');
    },

    async 'an unknown job is NOT_FOUND'() {
        const client = fastClient();
        const events = recordStatus(client);

        const error = await assertRejects(
            withDeadline(client.get_status_async('00000000-0000-4000-8000-000000000000', null)),
            Vt.ClientError, Vt.ClientError.NOT_FOUND, 'unknown job');

        assertEqual(error.code, Vt.ClientError.NOT_FOUND, 'error code');
        assertEqual(events, [], 'status-changed sequence');
    },

    async 'cancelling while pending gives CANCELLED'() {
        const client = fastClient();
        const events = recordStatus(client);
        const cancellable = new Gio.Cancellable();
        const jobId = await postTimedJob(30, 'completed');
        client.connect('status-changed', () => cancellable.cancel());

        await assertRejects(withDeadline(client.get_status_async(jobId, cancellable)),
            Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED, 'cancelled watch');

        assertEqual(events, [[jobId, Vt.Status.PENDING]], 'status-changed sequence');
    },
};

runTests(tests);
