/* test-client-cancel.c: cancellation and dispose end a watch at once
 *
 * "At once" is counted in main-loop iterations (VtCancelProbe): after
 * the cancel call the loop runs without blocking, so only sources already
 * due run, and the callback must come within VT_CANCEL_ITERATIONS (the
 * client's cancellation idle, then GTask's) of a cancel from a callback,
 * within one fewer of a cancel from the test between iterations. A client
 * that waits for its next timer, for the request's timeout or for the
 * server before it reports the cancellation never gets there, whatever
 * the machine's load; nor does one that takes an idle more. The
 * milliseconds are printed.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vt-test-fixture.h"

static void
cancel_on_pending (VtClient      *client,
                   const char    *job_id,
                   VtStatus       status,
                   VtCancelProbe *probe)
{
  vt_cancel_probe_cancel (probe);
}

/* The watch ended promptly, cancelled, after @n_requests requests: once
 * the sources already due have run, the server saw no more. */
static void
assert_cancelled (VtFixture     *f,
                  VtCancelProbe *probe,
                  guint          n_requests)
{
  g_autoptr(GError) error = NULL;

  vt_cancel_probe_assert_prompt (probe, &f->call, VT_CANCEL_ITERATIONS);
  vt_fixture_finish (f, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (vt_fixture_count (f, NULL), ==, n_requests);
  vt_cancel_probe_clear (probe);
}

/* Cancelled while it waits 30 s for its next poll. */
static void
test_cancel_while_waiting (VtFixture     *f,
                           gconstpointer  data)
{
  static const VtReply replies[] = { VT_REPLY_PENDING, VT_REPLY_END };
  VtCancelProbe probe;

  vt_cancel_probe_init (&probe);
  vt_fixture_script (f, "/status", replies);
  g_object_set (f->client, "initial-wait-time", 30.0, NULL);
  g_signal_connect (f->client, "status-changed", G_CALLBACK (cancel_on_pending), &probe);
  vt_fixture_start (f, NULL, probe.cancellable);
  assert_cancelled (f, &probe, 1);
  vt_fixture_assert_statuses (f, 1, VT_STATUS_PENDING);
}

/* Cancelled while the server holds its request, which it never answers:
 * no waiting out the request timeout (longer than the test's deadline),
 * and the request is abandoned on the wire (the server sees its client
 * hang up), not left running. */
static void
test_cancel_in_flight (VtFixture     *f,
                       gconstpointer  data)
{
  static const VtReply replies[] = { VT_REPLY_HANG, VT_REPLY_END };
  VtCancelProbe probe;

  vt_cancel_probe_init (&probe);
  vt_fixture_script (f, "/status", replies);
  g_object_set (f->client, "request-timeout", 2.0 * VT_TEST_DEADLINE, NULL);
  vt_fixture_start (f, NULL, probe.cancellable);
  while (vt_fixture_count (f, NULL) == 0)
    vt_test_iterate (TRUE);
  vt_cancel_probe_cancel (&probe);
  assert_cancelled (f, &probe, 1);
  g_assert_cmpuint (f->statuses->len, ==, 0);
  while (vt_scripted_server_count_hung_up (f->server) == 0)
    vt_test_iterate (TRUE);
}

/* Already cancelled: completed without asking the server anything. */
static void
test_cancel_before_start (VtFixture     *f,
                          gconstpointer  data)
{
  static const VtReply replies[] = { VT_REPLY_PENDING, VT_REPLY_END };
  VtCancelProbe probe;

  vt_cancel_probe_init (&probe);
  vt_fixture_script (f, "/status", replies);
  vt_cancel_probe_cancel (&probe);
  vt_fixture_start (f, NULL, probe.cancellable);
  assert_cancelled (f, &probe, 0);
  g_assert_cmpuint (f->statuses->len, ==, 0);
}

/* The client disposed of while a watch waits: the watch completes,
 * cancelled, as promptly as by its cancellable. */
static void
test_dispose_in_flight (VtFixture     *f,
                        gconstpointer  data)
{
  static const VtReply replies[] = { VT_REPLY_PENDING, VT_REPLY_END };
  VtCancelProbe probe;

  vt_cancel_probe_init (&probe);
  vt_fixture_script (f, "/status", replies);
  g_object_set (f->client, "initial-wait-time", 30.0, NULL);
  vt_fixture_start (f, NULL, NULL);
  while (f->statuses->len == 0)
    vt_test_iterate (TRUE);

  vt_cancel_probe_mark (&probe);
  g_object_run_dispose (G_OBJECT (f->client));
  assert_cancelled (f, &probe, 1);
}

/* Cancelled on the first event of an open stream, with 30 s of the job
 * left: completed at once, and the stream's connection is closed. */
static void
test_cancel_stream_open (void)
{
  g_autoptr(VtTestServer) server = vt_test_server_start_delay (30, NULL);
  g_autoptr(VtClient) client = vt_test_fast_client (server, VT_STRATEGY_STREAM);
  g_autofree char *id = vt_test_submit (client);
  g_autoptr(GError) error = NULL;
  VtAsyncCall call = { 0, };
  VtCancelProbe probe;

  vt_cancel_probe_init (&probe);
  g_object_set (client, "max-wait-time", S (60.0), NULL);
  g_signal_connect (client, "status-changed", G_CALLBACK (cancel_on_pending), &probe);
  vt_client_get_status_async (client, id, probe.cancellable, vt_async_call_ready, &call);
  vt_cancel_probe_assert_prompt (&probe, &call, VT_CANCEL_ITERATIONS);

  vt_client_get_status_finish (client, call.result, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  vt_async_call_clear (&call);
  /* The stream the cancelled watch held is closed, once the channel's
   * cancelled read has run: the server sees no open stream. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (vt_test_server_gauge (server, "vt_open_streams", 0), ==, 0);
  vt_cancel_probe_clear (&probe);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  VT_FIXTURE_ADD ("/client/cancel/waiting", test_cancel_while_waiting);
  VT_FIXTURE_ADD ("/client/cancel/in-flight", test_cancel_in_flight);
  VT_FIXTURE_ADD ("/client/cancel/before-start", test_cancel_before_start);
  VT_FIXTURE_ADD ("/client/dispose-in-flight", test_dispose_in_flight);
  g_test_add_func ("/client/cancel/stream-open", test_cancel_stream_open);

  return g_test_run ();
}
