/* test-client-schedule.c: when the plain schedule's polls reach a server
 *
 * The times are those the scripted server logged as the requests arrived,
 * compared with the waits the schedule asks for: a wait shows as a lower
 * bound on the gap between two arrivals, which no load can break. Where a
 * test needs an upper bound, a broken schedule would exceed it by far
 * more than any stall.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdlib.h>
#include <string.h>

#include "vt-test-fixture.h"

static void
test_timeout_by_attempts (VtFixture     *f,
                          gconstpointer  data)
{
  static const VtReply replies[] = { VT_REPLY_PENDING, VT_REPLY_END };
  g_autoptr(GError) error = NULL;

  vt_fixture_script (f, "/status", replies);
  g_object_set (f->client, "max-attempts", 4, "initial-wait-time", 0.001, NULL);
  g_assert_cmpint (vt_fixture_follow (f, NULL, NULL, &error), ==, VT_STATUS_TIMEOUT);
  g_assert_no_error (error);
  vt_fixture_assert_statuses (f, 1, VT_STATUS_PENDING);
  g_assert_cmpuint (vt_fixture_count (f, NULL), ==, 4);
}

/* Waits of 0.05, 0.2 and 0.8 s on a 0.4 s budget: requests at 0, 0.05,
 * 0.25, then the 0.8 s wait is cut to land the last request at the
 * deadline, 0.4 s, rather than giving up early or asking past it. */
static void
test_timeout_by_wait_time (VtFixture     *f,
                           gconstpointer  data)
{
  static const VtReply replies[] = { VT_REPLY_PENDING, VT_REPLY_END };
  g_autoptr(GError) error = NULL;
  gint64 called_us;
  double last_at;

  vt_fixture_script (f, "/status", replies);
  g_object_set (f->client, "max-attempts", 100, "initial-wait-time", S (0.05),
                "backoff-factor", 4.0, "max-wait-time", S (0.4), NULL);
  called_us = g_get_monotonic_time ();
  g_assert_cmpint (vt_fixture_follow (f, NULL, NULL, &error), ==, VT_STATUS_TIMEOUT);
  g_assert_no_error (error);
  vt_fixture_assert_statuses (f, 1, VT_STATUS_PENDING);
  g_assert_cmpuint (vt_fixture_count (f, NULL), ==, 4);

  /* Each wait, at least, between two arrivals. */
  g_assert_cmpfloat (vt_scripted_server_gap (f->server, NULL, 0, 1), >=, S (0.05));
  g_assert_cmpfloat (vt_scripted_server_gap (f->server, NULL, 1, 2), >=, S (0.2));
  /* The last request not before the deadline: the budget runs from the
   * first request, which was sent after the call. */
  last_at = (vt_scripted_server_get_request (f->server, NULL, 3)->arrived_us - called_us) /
            (double) G_USEC_PER_SEC;
  g_assert_cmpfloat (last_at, >=, S (0.4));
  /* The third wait was cut: a schedule that waited its whole 0.8 s would
   * arrive at 1.05 s at the earliest. */
  g_assert_cmpfloat (vt_scripted_server_gap (f->server, NULL, 2, 3), <, S (0.8));
  g_assert_cmpfloat (vt_scripted_server_gap (f->server, NULL, 0, 3), <, S (1.05));
}

#define N_JITTERED 32

typedef struct
{
  guint n_done;
  guint n_completed;
} Jittered;

static void
on_jittered_done (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  Jittered *jittered = user_data;
  g_autoptr(GError) error = NULL;

  if (vt_client_get_status_finish (VT_CLIENT (object), result, &error) == VT_STATUS_COMPLETED)
    jittered->n_completed++;
  g_assert_no_error (error);
  jittered->n_done++;
}

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

/* 32 watches started at once with a start jitter of 0.5 s: their first
 * requests reach the server spread over the jitter, each at its own
 * instant. Each budget (0.1 s, shorter than the jitter) runs from the
 * watch's first request, so every watch still completes normally.
 *
 * With VT_STRATEGY_AUTO on a server it knows nothing of, the client holds
 * the other watches until the first has had its answer (it tells the
 * server's capabilities), and their jitter only starts then: their first
 * requests spread over up to twice the jitter. There only the spread is
 * checked. */
static void
test_start_jitter (VtFixture     *f,
                   gconstpointer  data)
{
  VtStrategy strategy = GPOINTER_TO_INT (data);
  static const VtReply replies[] = { VT_REPLY_PENDING, VT_REPLY_COMPLETED, VT_REPLY_END };
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  double offsets[N_JITTERED];
  Jittered jittered = { 0, 0 };
  gint64 called_us;
  double spread, median;

  g_object_set (f->client, "strategy", strategy, "start-jitter", S (0.5),
                "max-wait-time", S (0.1), NULL);
  for (guint i = 0; i < N_JITTERED; i++)
    {
      g_ptr_array_add (paths, g_strdup_printf ("/jobs/w%u", i));
      vt_fixture_script (f, g_ptr_array_index (paths, i), replies);
    }

  called_us = g_get_monotonic_time ();
  for (guint i = 0; i < N_JITTERED; i++)
    vt_client_get_status_async (f->client,
                                (const char *) g_ptr_array_index (paths, i) + strlen ("/jobs/"), NULL,
                                on_jittered_done, &jittered);
  while (jittered.n_done < N_JITTERED)
    vt_test_iterate (TRUE);

  g_assert_cmpuint (jittered.n_completed, ==, N_JITTERED);
  for (guint i = 0; i < N_JITTERED; i++)
    {
      const char *path = g_ptr_array_index (paths, i);

      g_assert_cmpuint (vt_fixture_count (f, path), ==, 2);
      offsets[i] = (vt_scripted_server_get_request (f->server, path, 0)->arrived_us -
                    called_us) / (double) G_USEC_PER_SEC;
    }
  qsort (offsets, N_JITTERED, sizeof offsets[0], compare_doubles);
  /* Leaving out the first: with VT_STRATEGY_AUTO it alone went ahead. */
  spread = offsets[N_JITTERED - 1] - offsets[1];
  median = offsets[N_JITTERED / 2];
  g_test_message ("first requests from %.3f to %.3f s, median %.3f s",
                  offsets[0], offsets[N_JITTERED - 1], median);

  /* Spread over at least half the jitter: 31 uniform draws fall within a
   * half of it with a probability of 31 × 2^-30, and a client that ignores
   * the jitter, or draws it once for all watches, sends them together. */
  g_assert_cmpfloat (spread, >=, S (0.5) / 2);
  /* Centred on half the jitter: half of them within the whole of it. */
  if (strategy == VT_STRATEGY_POLL)
    g_assert_cmpfloat (median, <=, S (0.5));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  VT_FIXTURE_ADD ("/client/timeout/attempts", test_timeout_by_attempts);
  VT_FIXTURE_ADD ("/client/timeout/wait-time", test_timeout_by_wait_time);
  g_test_add ("/client/start-jitter", VtFixture, GINT_TO_POINTER (VT_STRATEGY_POLL),
              vt_fixture_set_up, test_start_jitter, vt_fixture_tear_down);
  g_test_add ("/client/start-jitter/auto", VtFixture, GINT_TO_POINTER (VT_STRATEGY_AUTO),
              vt_fixture_set_up, test_start_jitter, vt_fixture_tear_down);

  return g_test_run ();
}
