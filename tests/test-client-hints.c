/* test-client-hints.c: polls placed by what the server says (ETA, elapsed)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vt-test-fixture.h"

static void
test_hints_few_requests (void)
{
  g_autoptr(VtTestServer) server = vt_test_server_start_delay (0.5, "--eta-noise", "0.2", "--seed", "7", NULL);
  g_autoptr(VtClient) client = vt_test_fast_client (server, VT_STRATEGY_POLL);
  g_autofree char *id = vt_test_submit (client);
  VtObserved observed;

  /* The backoff alone would take 0, 0.05, 0.15, 0.35, 0.75: five requests. */
  g_object_set (client, "min-interval", S (0.02), NULL);
  vt_test_follow_completed (client, id, &observed);
  g_assert_cmpuint (observed.n_progress, >=, 1);
  g_assert_true (observed.progress_ok);
  vt_observed_assert_pending_then (&observed, VT_STATUS_COMPLETED);
  g_assert_cmpuint (vt_test_server_requests (server, "/jobs/{id}", 1), <=, 3);
}

/* Answers stamped with the job's elapsed time calibrate the ETA on the
 * server's clock. The first answer says 0.4 s are left: the client asks
 * again halfway, 0.2 s later by its clock. The second answer says 0.4 s
 * passed on the server's clock and the ETA fell only 0.2 s: the server's
 * ETA runs at half speed, 0.2 s of ETA are 0.4 s, and the last poll comes
 * 0.4 s × 1.02 after the second answer. Timed by the client's clock the
 * ETA would have fallen as fast as time (0.2 s in 0.2 s), and the last
 * poll would have come after 0.2 s × 1.02: so a wait of at least 0.408 s,
 * a lower bound no load can break, tells the two apart. */
static void
test_eta_on_server_clock (VtFixture     *f,
                          gconstpointer  data)
{
  g_autofree char *first = g_strdup_printf ("{\"result\": \"pending\", \"eta\": %.4f, "
                                            "\"elapsed\": 10}", S (0.4));
  g_autofree char *second = g_strdup_printf ("{\"result\": \"pending\", \"eta\": %.4f, "
                                             "\"elapsed\": %.4f}", S (0.2), 10 + S (0.4));
  const VtReply replies[] = {
    { 200, first, NULL, FALSE, NULL }, { 200, second, NULL, FALSE, NULL },
    VT_REPLY_COMPLETED, VT_REPLY_END
  };
  g_autoptr(GError) error = NULL;

  vt_fixture_script (f, "/jobs/j", replies);
  g_object_set (f->client, "strategy", VT_STRATEGY_POLL, "min-interval", S (0.001),
                "max-wait-time", S (5.0), NULL);
  g_assert_cmpint (vt_fixture_follow (f, "j", NULL, &error), ==, VT_STATUS_COMPLETED);
  g_assert_no_error (error);
  vt_fixture_assert_statuses (f, 2, VT_STATUS_PENDING, VT_STATUS_COMPLETED);
  g_assert_cmpuint (vt_fixture_count (f, "/jobs/j"), ==, 3);

  g_test_message ("probe after %.3f s, last poll %.3f s later",
                  vt_scripted_server_gap (f->server, NULL, 0, 1),
                  vt_scripted_server_gap (f->server, NULL, 1, 2));
  /* The probe, halfway to the first ETA. */
  g_assert_cmpfloat (vt_scripted_server_gap (f->server, NULL, 0, 1), >=, S (0.2));
  g_assert_cmpfloat (vt_scripted_server_gap (f->server, NULL, 1, 2), >=, S (0.4) * 1.02);
  /* Placed by the ETA, not left to the 5 s deadline. */
  g_assert_cmpfloat (vt_scripted_server_gap (f->server, NULL, 0, 2), <, S (2.5));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/client/hints/few-requests", test_hints_few_requests);
  VT_FIXTURE_ADD ("/client/hints/eta-on-server-clock", test_eta_on_server_clock);

  return g_test_run ();
}
