// tests/gjs/harness.js: what the GJS binding tests share
//
// The server they run against (tests/vt-with-server exports its URL), a
// deadline for every awaited promise, the test-only POST /jobs, the
// assertions, and the TAP runner that drives a table of async tests on a
// GLib main loop.
//
// SPDX-License-Identifier: LGPL-2.1-or-later

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import Soup from 'gi://Soup?version=3.0';
import System from 'system';

Gio._promisify(Soup.Session.prototype, 'send_and_read_async', 'send_and_read_finish');

export const SERVER_URL = GLib.getenv('VT_SERVER_URL');
const DEADLINE_SECONDS = 20;

export function withDeadline(promise) {
    let id = 0;
    const deadline = new Promise((_resolve, reject) => {
        id = GLib.timeout_add_seconds(GLib.PRIORITY_DEFAULT, DEADLINE_SECONDS, () => {
            reject(new Error(`no answer within ${DEADLINE_SECONDS} s`));
            return GLib.SOURCE_REMOVE;
        });
    });
    return Promise.race([promise, deadline]).finally(() => GLib.source_remove(id));
}

// POST /jobs with the test-only fields the client API does not expose
// (duration, outcome, message); resolves to the new job's id.
export async function postJob(fields) {
    const session = new Soup.Session();
    const message = Soup.Message.new('POST', `${SERVER_URL}/jobs`);
    message.set_request_body_from_bytes('application/json',
        new GLib.Bytes(new TextEncoder().encode(JSON.stringify(fields))));
    const reply = await session.send_and_read_async(message, GLib.PRIORITY_DEFAULT, null);
    if (message.get_status() !== Soup.Status.CREATED)
        throw new Error(`POST /jobs answered ${message.get_status()}`);
    return JSON.parse(new TextDecoder().decode(reply.toArray())).id;
}

export function assert(condition, what) {
    if (!condition)
        throw new Error(what);
}

export function assertEqual(actual, expected, what) {
    const a = JSON.stringify(actual), e = JSON.stringify(expected);
    if (a !== e)
        throw new Error(`${what}: expected ${e}, got ${a}`);
}

async function runAll(tests) {
    const names = Object.keys(tests);
    let failed = 0;

    print(`1..${names.length}`);
    for (const [i, name] of names.entries()) {
        try {
            // eslint-disable-next-line no-await-in-loop
            await tests[name]();
            print(`ok ${i + 1} - ${name}`);
        } catch (e) {
            failed++;
            print(`not ok ${i + 1} - ${name}`);
            for (const line of `${e}\n${e.stack ?? ''}`.trim().split('\n'))
                print(`# ${line}`);
        }
    }
    return failed;
}

// Runs @tests (name: async function) in order as TAP on a main loop, and
// exits: 0 when every test passed.
export function runTests(tests) {
    if (!SERVER_URL) {
        printerr('VT_SERVER_URL is not set: run me under tests/vt-with-server');
        System.exit(1);
    }

    const loop = new GLib.MainLoop(null, false);
    let exitStatus = 1;
    runAll(tests).then(failed => {
        exitStatus = failed > 0 ? 1 : 0;
    }).catch(e => {
        printerr(`Bail out! ${e}`);
    }).finally(() => loop.quit());
    loop.run();
    System.exit(exitStatus);
}
