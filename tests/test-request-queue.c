/* test-request-queue.c: a bound on the requests in flight
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vt-request-queue-private.h"

typedef struct
{
  VtRequestQueue *queue;
  GArray         *started;   /* guint */
  guint           number;
  gboolean        release_at_once;
} Request;

static void
start_request (gpointer data)
{
  Request *request = data;

  g_array_append_val (request->started, request->number);
  if (request->release_at_once)
    vt_request_queue_release (request->queue);
}

static void
start_never (gpointer data)
{
  g_assert_not_reached ();
}

static void
count_dropped (gpointer data)
{
  (*(guint *) data)++;
}

/* At most the bound in flight, the rest in order, one started per
 * release. */
static void
test_queue_bound (void)
{
  g_autoptr(VtRequestQueue) queue = vt_request_queue_new (3);
  g_autoptr(GArray) started = g_array_new (FALSE, FALSE, sizeof (guint));
  Request requests[8];

  for (guint i = 0; i < G_N_ELEMENTS (requests); i++)
    {
      requests[i] = (Request) { queue, started, i, FALSE };
      vt_request_queue_push (queue, start_request, &requests[i], NULL);
    }
  g_assert_cmpuint (started->len, ==, 3);
  g_assert_cmpuint (vt_request_queue_n_in_flight (queue), ==, 3);
  g_assert_cmpuint (vt_request_queue_n_waiting (queue), ==, 5);

  vt_request_queue_release (queue);
  g_assert_cmpuint (started->len, ==, 4);
  g_assert_cmpuint (g_array_index (started, guint, 3), ==, 3);
  for (guint i = 0; i < 4; i++)
    vt_request_queue_release (queue);
  g_assert_cmpuint (started->len, ==, 8);
  for (guint i = 0; i < 8; i++)
    g_assert_cmpuint (g_array_index (started, guint, i), ==, i);
  g_assert_cmpuint (vt_request_queue_n_in_flight (queue), ==, 3);
  for (guint i = 0; i < 3; i++)
    vt_request_queue_release (queue);
  g_assert_cmpuint (vt_request_queue_n_in_flight (queue), ==, 0);
}

/* Requests that end as they start (their caller gave up) free their slot
 * without recursing: thousands of them in a row run in a loop. */
static void
test_queue_release_at_once (void)
{
  g_autoptr(VtRequestQueue) queue = vt_request_queue_new (1);
  g_autoptr(GArray) started = g_array_new (FALSE, FALSE, sizeof (guint));
  guint n = 100000;
  Request *requests = g_new0 (Request, n);
  Request blocker = { queue, started, G_MAXUINT, FALSE };

  vt_request_queue_push (queue, start_request, &blocker, NULL);
  for (guint i = 0; i < n; i++)
    {
      requests[i] = (Request) { queue, started, i, TRUE };
      vt_request_queue_push (queue, start_request, &requests[i], NULL);
    }
  g_assert_cmpuint (started->len, ==, 1);

  vt_request_queue_release (queue);
  g_assert_cmpuint (started->len, ==, n + 1);
  g_assert_cmpuint (vt_request_queue_n_in_flight (queue), ==, 0);
  g_free (requests);
}

/* Closing drops the waiting requests (their data destroyed) and every
 * later one; those in flight still release. */
static void
test_queue_close (void)
{
  VtRequestQueue *queue = vt_request_queue_new (1);
  g_autoptr(GArray) started = g_array_new (FALSE, FALSE, sizeof (guint));
  Request first = { queue, started, 0, FALSE };
  guint dropped = 0;

  vt_request_queue_push (queue, start_request, &first, NULL);
  vt_request_queue_push (queue, start_never, &dropped, count_dropped);
  vt_request_queue_push (queue, start_never, &dropped, count_dropped);
  g_assert_cmpuint (dropped, ==, 0);

  vt_request_queue_ref (queue);
  vt_request_queue_close (queue);
  g_assert_cmpuint (dropped, ==, 2);
  vt_request_queue_push (queue, start_never, &dropped, count_dropped);
  g_assert_cmpuint (dropped, ==, 3);
  g_assert_cmpuint (started->len, ==, 1);

  /* The owner goes; the request in flight ends later. */
  vt_request_queue_unref (queue);
  vt_request_queue_release (queue);
  vt_request_queue_unref (queue);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/request-queue/bound", test_queue_bound);
  g_test_add_func ("/request-queue/release-at-once", test_queue_release_at_once);
  g_test_add_func ("/request-queue/close", test_queue_close);

  return g_test_run ();
}
