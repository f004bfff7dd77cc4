/* test-client-sync.c: vt_client_get_status(), the blocking call
 *
 * It runs its own main context: from a thread while this one serves the
 * scripted server, and with no main loop at all against vt-server.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vt-test-fixture.h"

typedef struct
{
  VtClient  *client;
  VtStatus   status;
  GError    *error;
  GThread   *caller;
  gboolean   signal_in_caller;
  gint       done;
} ThreadCall;

static void
on_thread_status (VtClient   *client,
                  const char *job_id,
                  VtStatus    status,
                  ThreadCall *call)
{
  call->signal_in_caller = g_thread_self () == call->caller;
}

static gpointer
sync_in_thread (gpointer data)
{
  ThreadCall *call = data;

  call->caller = g_thread_self ();
  call->status = vt_client_get_status (call->client, "t1", NULL, &call->error);
  g_atomic_int_set (&call->done, TRUE);
  g_main_context_wakeup (NULL);

  return NULL;
}

static void
test_sync_from_thread (VtFixture     *f,
                       gconstpointer  data)
{
  static const VtReply replies[] = {
    VT_REPLY_PENDING, VT_REPLY_PENDING, VT_REPLY_COMPLETED, VT_REPLY_END
  };
  ThreadCall call = { f->client, 0, NULL, NULL, FALSE, FALSE };
  GThread *thread;

  vt_fixture_script (f, "/jobs/t1", replies);
  g_signal_connect (f->client, "status-changed", G_CALLBACK (on_thread_status), &call);
  thread = g_thread_new ("sync-caller", sync_in_thread, &call);
  /* The in-process server is served by this thread's main context. */
  while (!g_atomic_int_get (&call.done))
    vt_test_iterate (TRUE);
  g_thread_join (thread);

  g_assert_no_error (call.error);
  g_assert_cmpint (call.status, ==, VT_STATUS_COMPLETED);
  g_assert_true (call.signal_in_caller);
  vt_fixture_assert_statuses (f, 2, VT_STATUS_PENDING, VT_STATUS_COMPLETED);
  g_assert_cmpuint (vt_fixture_count (f, "/jobs/t1"), ==, 3);
}

static void
test_vt_server_classic_sync (void)
{
  g_autoptr(VtTestServer) server = vt_test_server_start_delay (0.3, NULL);
  g_autoptr(VtClient) client = vt_client_new (vt_test_server_get_url (server));
  VtObserved observed;

  g_object_set (client, "initial-wait-time", S (0.05), "jitter", S (0.01), NULL);
  /* No main loop here: the sync call runs its own. */
  vt_test_follow_completed (client, NULL, &observed);
  vt_observed_assert_pending_then (&observed, VT_STATUS_COMPLETED);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  VT_FIXTURE_ADD ("/client/sync-from-thread", test_sync_from_thread);
  g_test_add_func ("/client/vt-server/classic-sync", test_vt_server_classic_sync);

  return g_test_run ();
}
