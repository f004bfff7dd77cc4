/* follow-job.vala: submit a translation job to vt-server and follow it to the end
 *
 *   follow-job-vala [URL]
 *
 * URL defaults to $VT_SERVER_URL, then to http://127.0.0.1:5000. Prints each
 * status update as it is observed and the final status; exits with 0 when the
 * job completed, 1 otherwise.
 *
 * Build it against an installed vtclient with
 *   valac --pkg vtclient-1 follow-job.vala
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

static unowned string status_nick (Vt.Status status) {
    return ((EnumClass) typeof (Vt.Status).class_ref ()).get_value (status).value_nick;
}

static async Vt.Status follow (Vt.Client client) throws Error {
    string job_id = yield client.submit_job_async ("https://example.com/video.mp4", "fr", null);
    print ("Submitted job %s\n", job_id);
    return yield client.get_status_async (job_id, null);
}

int main (string[] args) {
    string? url = args.length > 1 ? args[1] : Environment.get_variable ("VT_SERVER_URL");
    if (url == null || url == "")
        url = "http://127.0.0.1:5000";

    var client = new Vt.Client (url);
    client.status_changed.connect ((job_id, status) => {
        print ("Status Updated: %s\n", status_nick (status));
    });

    var loop = new MainLoop ();
    Vt.Status final_status = Vt.Status.PENDING;
    Error? failure = null;
    follow.begin (client, (obj, res) => {
        try {
            final_status = follow.end (res);
        } catch (Error e) {
            failure = e;
        }
        loop.quit ();
    });
    loop.run ();

    if (failure != null) {
        printerr ("follow-job: %s\n", failure.message);
        return 1;
    }
    print ("Final Status: %s\n", status_nick (final_status));
    return final_status == Vt.Status.COMPLETED ? 0 : 1;
}
