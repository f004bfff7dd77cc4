/* test-client-feeds.c: many jobs, one feed (docs/protocol.md, "Feeds")
 *
 * Against the real vt-server: what the server counted on each route, and
 * how many streams and long-polls it held, pin that a client follows its
 * jobs over one shared delivery, joins them in batches, never asks twice
 * what the server offers, and falls back per job where feeds fail.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <glib/gstdio.h>
#include <string.h>

#include "vt-test-fixture.h"

static char *
create_job (VtTestServer *server,
            double        seconds,
            const char   *outcome)
{
  return vt_test_create_job (server, seconds, outcome, NULL);
}

/* One job followed asynchronously, with what it emitted. */
typedef struct
{
  char        *id;
  GArray      *statuses;   /* VtStatus */
  VtAsyncCall  call;
  VtStatus     status;
  GError      *error;
  guint        order;      /* in which its callback ran, from 1 */
} Follow;

static guint n_done;

static void
on_status_changed (VtClient   *client,
                   const char *job_id,
                   VtStatus    status,
                   GPtrArray  *follows)
{
  for (guint i = 0; i < follows->len; i++)
    {
      Follow *follow = g_ptr_array_index (follows, i);

      if (g_strcmp0 (follow->id, job_id) == 0)
        {
          g_assert_false (follow->call.done);
          g_array_append_val (follow->statuses, status);
        }
    }
}

static void
follow_free (Follow *follow)
{
  g_free (follow->id);
  g_array_unref (follow->statuses);
  vt_async_call_clear (&follow->call);
  g_clear_error (&follow->error);
  g_free (follow);
}

static Follow *
follow_start (VtClient     *client,
              const char   *id,
              GCancellable *cancellable)
{
  Follow *follow = g_new0 (Follow, 1);

  follow->id = g_strdup (id);
  follow->statuses = g_array_new (FALSE, FALSE, sizeof (VtStatus));
  vt_client_get_status_async (client, id, cancellable, vt_async_call_ready, &follow->call);
  return follow;
}

/* Follows the job @id names, taking @id. */
static Follow *
follow_job (VtClient     *client,
            char         *id,
            GCancellable *cancellable)
{
  g_autofree char *owned = id;

  return follow_start (client, owned, cancellable);
}

/* Waits for @follow's end and reads it. */
static void
follow_finish (VtClient *client,
               Follow   *follow)
{
  vt_async_call_wait (&follow->call);
  follow->status = vt_client_get_status_finish (client, follow->call.result, &follow->error);
  follow->order = ++n_done;
}

/* Runs the main context until every follow from @first on has seen its
 * job's first status: then every one has joined its feed. */
static void
wait_first_statuses (GPtrArray *follows,
                     guint      first)
{
  for (guint i = first; i < follows->len; i++)
    while (((Follow *) g_ptr_array_index (follows, i))->statuses->len == 0)
      vt_test_iterate (TRUE);
}

static void
assert_pending_then_completed (Follow *follow)
{
  g_assert_no_error (follow->error);
  g_assert_cmpint (follow->status, ==, VT_STATUS_COMPLETED);
  g_assert_cmpuint (follow->statuses->len, ==, 2);
  g_assert_cmpint (g_array_index (follow->statuses, VtStatus, 0), ==, VT_STATUS_PENDING);
  g_assert_cmpint (g_array_index (follow->statuses, VtStatus, 1), ==, VT_STATUS_COMPLETED);
}

/* No request of any job went to a per-job route. */
static void
assert_no_job_requests (VtTestServer *server)
{
  g_assert_cmpuint (vt_test_server_requests (server, "/jobs/{id}/events", 0), ==, 0);
  g_assert_cmpuint (vt_test_server_requests (server, "/status", 0), ==, 0);
}

/* Auto mode: one GET asks what the server offers, then every job joins
 * one feed and hears its end on the feed's one stream. */
static void
test_auto_joins_feed (void)
{
  g_autoptr(VtTestServer) server = vt_test_server_start_delay (0.3, NULL);
  g_autoptr(VtClient) client = vt_test_fast_client (server, VT_STRATEGY_AUTO);
  g_autoptr(GPtrArray) follows = g_ptr_array_new_with_free_func ((GDestroyNotify) follow_free);
  Follow *first, *second;

  g_signal_connect (client, "status-changed", G_CALLBACK (on_status_changed), follows);

  first = follow_job (client, create_job (server, S (0.3), NULL), NULL);
  g_ptr_array_add (follows, first);
  follow_finish (client, first);
  assert_pending_then_completed (first);
  g_assert_cmpuint (vt_test_server_requests (server, "/jobs/{id}", 1), ==, 1);
  g_assert_cmpuint (vt_test_server_requests (server, "/feeds", 1), ==, 1);
  g_assert_cmpuint (vt_test_server_requests (server, "/feeds/{fid}/jobs", 1), ==, 1);

  /* Second job: no GET, no new feed, one join; the stream stays open
   * for it, and after it. */
  second = follow_job (client, create_job (server, S (0.3), NULL), NULL);
  g_ptr_array_add (follows, second);
  follow_finish (client, second);
  assert_pending_then_completed (second);
  g_assert_cmpuint (vt_test_server_requests (server, "/jobs/{id}", 1), ==, 1);
  g_assert_cmpuint (vt_test_server_requests (server, "/feeds", 1), ==, 1);
  g_assert_cmpuint (vt_test_server_requests (server, "/feeds/{fid}/jobs", 2), ==, 2);
  g_assert_cmpuint (vt_test_server_gauge (server, "vt_open_streams", 1), ==, 1);
  assert_no_job_requests (server);
}

/* Jobs started in one main-loop iteration: one feed, one join, one
 * stream or one long-poll at a time for all of them. */
static void
test_many_jobs_one_delivery (gconstpointer data)
{
  VtStrategy strategy = GPOINTER_TO_INT (data);
  g_autoptr(VtTestServer) server = vt_test_server_start_delay (0.3, NULL);
  g_autoptr(VtClient) client = vt_test_fast_client (server, strategy);
  g_autoptr(GPtrArray) follows = g_ptr_array_new_with_free_func ((GDestroyNotify) follow_free);
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  const char *gauge = strategy == VT_STRATEGY_STREAM ? "vt_open_streams" : "vt_open_long_polls";
  guint n = 50;

  g_signal_connect (client, "status-changed", G_CALLBACK (on_status_changed), follows);

  /* The capabilities are known first, from one job of its own. */
  g_ptr_array_add (follows, follow_job (client, create_job (server, 0, NULL), NULL));
  follow_finish (client, g_ptr_array_index (follows, 0));

  for (guint i = 0; i < n; i++)
    g_ptr_array_add (ids, create_job (server, S (0.5), NULL));
  for (guint i = 0; i < n; i++)
    g_ptr_array_add (follows, follow_start (client, g_ptr_array_index (ids, i), NULL));

  /* All held by one delivery while they run. */
  wait_first_statuses (follows, 1);
  g_assert_cmpuint (vt_test_server_gauge (server, "vt_feed_jobs", n), ==, n);
  g_assert_cmpuint (vt_test_server_gauge (server, gauge, 1), ==, 1);

  for (guint i = 1; i <= n; i++)
    {
      Follow *follow = g_ptr_array_index (follows, i);

      follow_finish (client, follow);
      assert_pending_then_completed (follow);
    }

  /* One join for the fifty; the first job, which asked what the server
   * offers, made the only per-job request. */
  g_assert_cmpuint (vt_test_server_requests (server, "/feeds", 1), ==, 1);
  g_assert_cmpuint (vt_test_server_requests (server, "/feeds/{fid}/jobs", 1), ==, 1);
  g_assert_cmpuint (vt_test_server_count_requests (server, (const char *[]) {
                      "/jobs/{id}", "/jobs/{id}/events", NULL }, 1), ==, 1);
}

/* A job started while others are held is under way at once: short jobs
 * started behind long ones end first. */
static void
test_no_head_of_line_blocking (void)
{
  g_autoptr(VtTestServer) server = vt_test_server_start_delay (0.3, NULL);
  g_autoptr(VtClient) client = vt_test_fast_client (server, VT_STRATEGY_STREAM);
  g_autoptr(GPtrArray) longs = g_ptr_array_new_with_free_func ((GDestroyNotify) follow_free);
  g_autoptr(GPtrArray) shorts = g_ptr_array_new_with_free_func ((GDestroyNotify) follow_free);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();

  g_signal_connect (client, "status-changed", G_CALLBACK (on_status_changed), longs);
  /* The capabilities are known first, from one job of its own. */
  g_ptr_array_add (longs, follow_job (client, create_job (server, 0, NULL), NULL));
  follow_finish (client, g_ptr_array_index (longs, 0));
  for (guint i = 0; i < 30; i++)
    g_ptr_array_add (longs, follow_job (client, create_job (server, S (3), NULL), cancellable));
  wait_first_statuses (longs, 1);
  g_assert_cmpuint (vt_test_server_gauge (server, "vt_feed_jobs", 30), ==, 30);

  for (guint i = 0; i < 5; i++)
    g_ptr_array_add (shorts, follow_job (client, create_job (server, S (0.2), NULL),
                                           NULL));
  for (guint i = 0; i < shorts->len; i++)
    {
      Follow *follow = g_ptr_array_index (shorts, i);

      follow_finish (client, follow);
      g_assert_no_error (follow->error);
      g_assert_cmpint (follow->status, ==, VT_STATUS_COMPLETED);
    }

  /* None of the long ones is over yet. */
  for (guint i = 1; i < longs->len; i++)
    g_assert_false (((Follow *) g_ptr_array_index (longs, i))->call.done);

  g_cancellable_cancel (cancellable);
  for (guint i = 1; i < longs->len; i++)
    {
      Follow *follow = g_ptr_array_index (longs, i);

      follow_finish (client, follow);
      g_assert_error (follow->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    }
}

/* Errors per job, through the feed: an unknown id, a job in error. */
static void
test_feed_errors (void)
{
  g_autoptr(VtTestServer) server = vt_test_server_start_delay (0.3, NULL);
  g_autoptr(VtClient) client = vt_test_fast_client (server, VT_STRATEGY_STREAM);
  g_autoptr(GPtrArray) follows = g_ptr_array_new_with_free_func ((GDestroyNotify) follow_free);
  Follow *unknown, *failed;

  g_signal_connect (client, "status-changed", G_CALLBACK (on_status_changed), follows);
  g_ptr_array_add (follows, follow_job (client, create_job (server, 0, NULL), NULL));
  follow_finish (client, g_ptr_array_index (follows, 0));

  unknown = follow_start (client, "00000000-0000-4000-8000-000000000000", NULL);
  failed = follow_job (client, create_job (server, S (0.2), "error"), NULL);
  g_ptr_array_add (follows, unknown);
  g_ptr_array_add (follows, failed);

  follow_finish (client, unknown);
  g_assert_error (unknown->error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_NOT_FOUND);
  g_assert_cmpuint (unknown->statuses->len, ==, 0);

  follow_finish (client, failed);
  g_assert_no_error (failed->error);
  g_assert_cmpint (failed->status, ==, VT_STATUS_ERROR);
  g_assert_cmpuint (failed->statuses->len, ==, 2);
  g_assert_cmpuint (vt_test_server_requests (server, "/feeds", 1), ==, 1);
}

/* Cancelling one job on a feed ends it at once and leaves the feed with
 * one more POST; the other jobs go on. */
static void
test_cancel_leaves_feed (void)
{
  g_autoptr(VtTestServer) server = vt_test_server_start_delay (0.3, NULL);
  g_autoptr(VtClient) client = vt_test_fast_client (server, VT_STRATEGY_STREAM);
  g_autoptr(GPtrArray) follows = g_ptr_array_new_with_free_func ((GDestroyNotify) follow_free);
  VtCancelProbe probe;
  Follow *cancelled, *other;

  g_signal_connect (client, "status-changed", G_CALLBACK (on_status_changed), follows);
  g_ptr_array_add (follows, follow_job (client, create_job (server, 0, NULL), NULL));
  follow_finish (client, g_ptr_array_index (follows, 0));

  vt_cancel_probe_init (&probe);
  cancelled = follow_job (client, create_job (server, S (5), NULL),
                            probe.cancellable);
  other = follow_job (client, create_job (server, S (0.5), NULL), NULL);
  g_ptr_array_add (follows, cancelled);
  g_ptr_array_add (follows, other);
  wait_first_statuses (follows, 1);
  g_assert_cmpuint (vt_test_server_gauge (server, "vt_feed_jobs", 2), ==, 2);

  vt_cancel_probe_cancel (&probe);
  vt_cancel_probe_assert_prompt (&probe, &cancelled->call, VT_CANCEL_ITERATIONS);
  follow_finish (client, cancelled);
  g_assert_error (cancelled->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  /* The leave (after the two jobs' one join; the first job, which asked
   * what the server offers, had its own stream): the server keeps only
   * the other job. */
  vt_test_wait_requests (server, "/feeds/{fid}/jobs", 2);
  g_assert_cmpuint (vt_test_server_gauge (server, "vt_feed_jobs", 1), ==, 1);

  follow_finish (client, other);
  assert_pending_then_completed (other);
  g_assert_cmpuint (vt_test_server_requests (server, "/feeds/{fid}/jobs", 2), ==, 2);
  vt_cancel_probe_clear (&probe);
}

/* The budget runs out on a feed as anywhere: a timeout, and the job
 * leaves the feed. */
static void
test_feed_deadline (void)
{
  g_autoptr(VtTestServer) server = vt_test_server_start_delay (0.3, NULL);
  g_autoptr(VtClient) client = vt_test_fast_client (server, VT_STRATEGY_LONG_POLL);
  g_autoptr(GPtrArray) follows = g_ptr_array_new_with_free_func ((GDestroyNotify) follow_free);
  Follow *follow;

  g_signal_connect (client, "status-changed", G_CALLBACK (on_status_changed), follows);
  g_ptr_array_add (follows, follow_job (client, create_job (server, 0, NULL), NULL));
  follow_finish (client, g_ptr_array_index (follows, 0));

  g_object_set (client, "max-wait-time", S (0.3), NULL);
  follow = follow_job (client, create_job (server, S (10), NULL), NULL);
  g_ptr_array_add (follows, follow);
  follow_finish (client, follow);
  g_assert_no_error (follow->error);
  g_assert_cmpint (follow->status, ==, VT_STATUS_TIMEOUT);
  g_assert_cmpuint (follow->statuses->len, ==, 1);
  /* Its join and its leave (the first job had its own long-poll). */
  vt_test_wait_requests (server, "/feeds/{fid}/jobs", 2);
  g_assert_cmpuint (vt_test_server_gauge (server, "vt_feed_jobs", 0), ==, 0);
}

/* A sync call runs one job on a context of its own: no feed for it. */
static void
test_sync_uses_per_job_channel (void)
{
  g_autoptr(VtTestServer) server = vt_test_server_start_delay (0.3, NULL);
  g_autoptr(VtClient) client = vt_test_fast_client (server, VT_STRATEGY_STREAM);
  g_autofree char *id = create_job (server, S (0.2), NULL);
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (vt_client_get_status (client, id, NULL, &error), ==, VT_STATUS_COMPLETED);
  g_assert_no_error (error);
  /* Its stream, closed once the job ended, is the one request counted. */
  g_assert_cmpuint (vt_test_server_gauge (server, "vt_open_streams", 0), ==, 0);
  g_assert_cmpuint (vt_test_server_requests (server, "/jobs/{id}/events", 1), ==, 1);
  g_assert_cmpuint (vt_test_server_requests (server, "/feeds", 0), ==, 0);
}

/* A server that forgot the feed (restarted, with its jobs kept): the
 * client makes a new one and joins its jobs again. */
static void
test_feed_recreated_after_restart (void)
{
  g_autofree char *dir = g_dir_make_tmp ("vt-feeds-XXXXXX", NULL);
  g_autofree char *state = g_build_filename (dir, "jobs.db", NULL);
  g_autoptr(VtTestServer) first = vt_test_server_start ("--port", "0", "--state", state, NULL);
  const char *url = vt_test_server_get_url (first);
  g_autofree char *port = g_strdup (strrchr (url, ':') + 1);
  g_autoptr(VtTestServer) second = NULL;
  g_autoptr(VtClient) client = vt_test_fast_client (first, VT_STRATEGY_STREAM);
  g_autoptr(GPtrArray) follows = g_ptr_array_new_with_free_func ((GDestroyNotify) follow_free);
  Follow *follow;

  g_object_set (client, "max-wait-time", S (20), NULL);
  g_signal_connect (client, "status-changed", G_CALLBACK (on_status_changed), follows);
  g_ptr_array_add (follows, follow_job (client, create_job (first, 0, NULL), NULL));
  follow_finish (client, g_ptr_array_index (follows, 0));

  follow = follow_job (client, create_job (first, S (1.5), NULL), NULL);
  g_ptr_array_add (follows, follow);
  wait_first_statuses (follows, 1);
  g_assert_cmpuint (vt_test_server_gauge (first, "vt_feed_jobs", 1), ==, 1);

  g_clear_pointer (&first, vt_test_server_stop);
  second = vt_test_server_start ("--port", port, "--state", state, NULL);

  follow_finish (client, follow);
  assert_pending_then_completed (follow);
  g_assert_cmpuint (vt_test_server_requests (second, "/feeds", 1), ==, 1);
  g_assert_cmpuint (vt_test_server_requests (second, "/feeds/{fid}/jobs", 1), >=, 1);

  g_clear_object (&client);
  g_clear_pointer (&second, vt_test_server_stop);
  g_unlink (state);
  g_rmdir (dir);
}

/* Jobs on a feed through faults on every request kind (the feed's
 * creation, its joins, its stream): all end. The jobs are made by a
 * server without faults that keeps them in a state file; the faulty one
 * starts from it. */
static void
test_feed_under_faults (gconstpointer data)
{
  const char *fault = data;
  g_autofree char *dir = g_dir_make_tmp ("vt-feeds-XXXXXX", NULL);
  g_autofree char *state = g_build_filename (dir, "jobs.db", NULL);
  g_autoptr(VtTestServer) maker = vt_test_server_start ("--state", state, NULL);
  g_autoptr(VtTestServer) server = NULL;
  g_autoptr(VtClient) client = NULL;
  g_autoptr(GPtrArray) follows = g_ptr_array_new_with_free_func ((GDestroyNotify) follow_free);
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < 20; i++)
    g_ptr_array_add (ids, create_job (maker, S (1.0), NULL));
  g_clear_pointer (&maker, vt_test_server_stop);

  server = vt_test_server_start ("--state", state, "--seed", "5", "--faults", fault, NULL);
  client = vt_test_fast_client (server, VT_STRATEGY_STREAM);
  g_object_set (client, "max-wait-time", S (20), "max-attempts", 100, "request-timeout", S (1),
                NULL);
  g_signal_connect (client, "status-changed", G_CALLBACK (on_status_changed), follows);
  for (guint i = 0; i < ids->len; i++)
    g_ptr_array_add (follows, follow_start (client, g_ptr_array_index (ids, i), NULL));

  for (guint i = 0; i < follows->len; i++)
    {
      Follow *follow = g_ptr_array_index (follows, i);

      follow_finish (client, follow);
      g_assert_no_error (follow->error);
      g_assert_cmpint (follow->status, ==, VT_STATUS_COMPLETED);
      g_assert_cmpint (g_array_index (follow->statuses, VtStatus, follow->statuses->len - 1), ==,
                       VT_STATUS_COMPLETED);
    }
  /* Most of them on the feed, not each on a stream of its own. */
  g_assert_cmpuint (vt_test_server_requests (server, "/feeds", 1), >=, 1);

  g_clear_object (&client);
  g_clear_pointer (&server, vt_test_server_stop);
  g_unlink (state);
  g_rmdir (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/client/feed/auto", test_auto_joins_feed);
  g_test_add_data_func ("/client/feed/one-delivery/stream",
                        GINT_TO_POINTER (VT_STRATEGY_STREAM), test_many_jobs_one_delivery);
  g_test_add_data_func ("/client/feed/one-delivery/long-poll",
                        GINT_TO_POINTER (VT_STRATEGY_LONG_POLL), test_many_jobs_one_delivery);
  g_test_add_func ("/client/feed/head-of-line", test_no_head_of_line_blocking);
  g_test_add_func ("/client/feed/errors", test_feed_errors);
  g_test_add_func ("/client/feed/cancel", test_cancel_leaves_feed);
  g_test_add_func ("/client/feed/deadline", test_feed_deadline);
  g_test_add_func ("/client/feed/sync", test_sync_uses_per_job_channel);
  g_test_add_func ("/client/feed/restart", test_feed_recreated_after_restart);
  g_test_add_data_func ("/client/feed/faults/status", "status=503:0.4", test_feed_under_faults);
  g_test_add_data_func ("/client/feed/faults/reset", "reset:0.3", test_feed_under_faults);
  g_test_add_data_func ("/client/feed/faults/garbage", "garbage:0.3", test_feed_under_faults);

  return g_test_run ();
}
