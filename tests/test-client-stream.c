/* test-client-stream.c: following a job on its event stream
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vt-test-fixture.h"

static void
test_channel_stream (void)
{
  g_autoptr(VtTestServer) server = vt_test_server_start_delay (0.3, NULL);
  g_autoptr(VtClient) client = vt_test_fast_client (server, VT_STRATEGY_STREAM);
  g_autofree char *id = vt_test_submit (client);
  VtObserved observed;

  vt_test_follow_completed (client, id, &observed);
  g_assert_cmpuint (observed.n_progress, >=, 1);
  g_assert_true (observed.progress_ok);
  vt_observed_assert_pending_then (&observed, VT_STATUS_COMPLETED);
  /* One request: the stream. */
  g_assert_cmpuint (vt_test_server_requests (server, "/jobs/{id}/events", 1), ==, 1);
  g_assert_cmpuint (vt_test_server_requests (server, "/jobs/{id}", 0), ==, 0);
}

static void
test_fallback (void)
{
  vt_test_assert_fallback_on_plain_server (VT_STRATEGY_STREAM);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/client/channel/stream", test_channel_stream);
  g_test_add_func ("/client/channel/fallback/stream", test_fallback);

  return g_test_run ();
}
