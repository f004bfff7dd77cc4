/* test-client-long-poll.c: following a job with requests the server holds
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vt-test-fixture.h"

static void
test_channel_long_poll (void)
{
  g_autoptr(VtTestServer) server = vt_test_server_start_delay (0.3, NULL);
  g_autoptr(VtClient) client = vt_test_fast_client (server, VT_STRATEGY_LONG_POLL);
  g_autofree char *id = vt_test_submit (client);
  VtObserved observed;

  vt_test_follow_completed (client, id, &observed);
  /* The state at once (a GET with no wait), then one request held to
   * the end. */
  vt_observed_assert_pending_then (&observed, VT_STATUS_COMPLETED);
  g_assert_cmpuint (vt_test_server_requests (server, "/jobs/{id}", 2), ==, 2);
}

static void
test_fallback (void)
{
  vt_test_assert_fallback_on_plain_server (VT_STRATEGY_LONG_POLL);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/client/channel/long-poll", test_channel_long_poll);
  g_test_add_func ("/client/channel/fallback/long-poll", test_fallback);

  return g_test_run ();
}
