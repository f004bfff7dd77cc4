/* test-client-auto.c: VT_STRATEGY_AUTO takes the best channel a server offers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vt-test-fixture.h"

/* A server of the per-job extensions only: one stream per job. */
static void
test_channel_auto_learns_capabilities (void)
{
  g_autoptr(VtTestServer) server = vt_test_server_start_delay (0.3, "--no-feeds", NULL);
  g_autoptr(VtClient) client = vt_test_fast_client (server, VT_STRATEGY_AUTO);
  g_autofree char *first = vt_test_submit (client);
  g_autofree char *second = vt_test_submit (client);
  VtObserved observed;

  /* First job: a plain GET reveals the event streams, then one stream. */
  vt_test_follow_completed (client, first, &observed);
  vt_observed_assert_pending_then (&observed, VT_STATUS_COMPLETED);
  g_assert_cmpuint (vt_test_server_requests (server, "/jobs/{id}", 1), ==, 1);
  g_assert_cmpuint (vt_test_server_requests (server, "/jobs/{id}/events", 1), ==, 1);

  /* Second job (created with the first, so it may have ended already):
   * straight to the stream. */
  vt_test_follow_completed (client, second, &observed);
  vt_observed_clear (&observed);
  g_assert_cmpuint (vt_test_server_requests (server, "/jobs/{id}", 1), ==, 1);
  g_assert_cmpuint (vt_test_server_requests (server, "/jobs/{id}/events", 2), ==, 2);
}

static void
test_fallback (void)
{
  vt_test_assert_fallback_on_plain_server (VT_STRATEGY_AUTO);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/client/channel/auto", test_channel_auto_learns_capabilities);
  g_test_add_func ("/client/channel/fallback/auto", test_fallback);

  return g_test_run ();
}
