#!/usr/bin/env -S gjs -m
// follow-job.js: submit a translation job to vt-server and follow it to the end
//
//   gjs -m follow-job.js [URL]
//
// URL defaults to $VT_SERVER_URL, then to http://127.0.0.1:5000. Prints each
// status update as it is observed and the final status; exits with 0 when the
// job completed, 1 otherwise. Needs the Vt-1.0 typelib (installed, or found
// through GI_TYPELIB_PATH).
//
// SPDX-License-Identifier: LGPL-2.1-or-later

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import Vt from 'gi://Vt?version=1.0';
import System from 'system';

Gio._promisify(Vt.Client.prototype, 'submit_job_async', 'submit_job_finish');
Gio._promisify(Vt.Client.prototype, 'get_status_async', 'get_status_finish');

function statusNick(status) {
    const name = Object.keys(Vt.Status).find(key => Vt.Status[key] === status);
    return name ? name.toLowerCase() : `${status}`;
}

async function main(args) {
    const url = args[0] || GLib.getenv('VT_SERVER_URL') || 'http://127.0.0.1:5000';
    const client = Vt.Client.new(url);

    client.connect('status-changed', (_client, _jobId, status) => {
        print(`Status Updated: ${statusNick(status)}`);
    });

    const jobId = await client.submit_job_async('https://example.com/video.mp4', 'fr', null);
    print(`Submitted job ${jobId}`);
    const status = await client.get_status_async(jobId, null);
    print(`Final Status: ${statusNick(status)}`);
    return status === Vt.Status.COMPLETED ? 0 : 1;
}

const loop = new GLib.MainLoop(null, false);
let exitStatus = 1;
main(ARGV).then(status => {
    exitStatus = status;
}).catch(e => {
    printerr(`follow-job: ${e.message}`);
}).finally(() => loop.quit());
loop.run();
System.exit(exitStatus);
