/* test-client-citizen.c: a good citizen of the desktop and the network
 *
 * Offline (a network monitor with no route: nothing sent, no attempt
 * spent, the deadline running on; every job asks within a second of the
 * route's return), power saver (polls further apart), conditional polls
 * (If-None-Match, 304 Not Modified seen as "unchanged"), a server's rate
 * limit shared by every job, and the jobs followed saved and followed on
 * after a restart.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <json-glib/json-glib.h>

#include "vt-fake-monitors.h"
#include "vt-test-fixture.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

/* Back online, a job asks within a second (its start jitter, capped),
 * and its request reaches the server after the time a loaded machine
 * takes to send it. */
#define RESUME_BOUND_US ((gint64) ((1.0 + S (0.05)) * G_USEC_PER_SEC))

static gboolean
on_run_for_done (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the main context for @seconds: for what must NOT happen meanwhile
 * (a request while offline), which nothing can be awaited for. */
static void
run_for (double seconds)
{
  gboolean done = FALSE;

  g_timeout_add ((guint) (seconds * 1000), on_run_for_done, &done);
  while (!done)
    vt_test_iterate (TRUE);
}

/* Runs the main context until the server saw @n requests (every path). */
static void
wait_for_requests (VtFixture *f,
                   guint      n)
{
  while (vt_fixture_count (f, NULL) < n)
    vt_test_iterate (TRUE);
}

/* The jobs "j0" … "j{n-1}", followed, each waited on into calls[i]. */
static GPtrArray *
follow_jobs (VtClient    *client,
             guint        n,
             VtAsyncCall *calls)
{
  GPtrArray *jobs = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *id = g_strdup_printf ("j%u", i);
      VtJob *job = vt_client_follow (client, id);

      vt_job_wait_async (job, NULL, vt_async_call_ready, &calls[i]);
      g_ptr_array_add (jobs, job);
    }

  return jobs;
}

static void
count_notify (guint *count)
{
  (*count)++;
}

static VtStatus
finish_job (VtJob        *job,
            VtAsyncCall  *call,
            GError      **error)
{
  vt_async_call_wait (call);
  return vt_job_wait_finish (job, call->result, error);
}

/* ------------------------------------------------------------------ */
/* The monitors                                                        */

static void
test_default_monitors (void)
{
  g_autoptr(VtClient) client = vt_client_new ("http://127.0.0.1:1");
  g_autoptr(GPowerProfileMonitor) power = g_power_profile_monitor_dup_default ();
  g_autoptr(VtFakeNetworkMonitor) network = vt_fake_network_monitor_new ();

  /* The system's, unless told otherwise; NULL turns them off. */
  g_assert_true (vt_client_get_network_monitor (client) == g_network_monitor_get_default ());
  g_assert_true (vt_client_get_power_profile_monitor (client) == power);
  g_assert_cmpfloat (vt_client_get_power_saver_factor (client), ==, 2.0);

  vt_client_set_network_monitor (client, G_NETWORK_MONITOR (network));
  g_assert_true (vt_client_get_network_monitor (client) == G_NETWORK_MONITOR (network));
  g_object_set (client, "network-monitor", NULL, "power-profile-monitor", NULL,
                "power-saver-factor", 3.0, NULL);
  g_assert_null (vt_client_get_network_monitor (client));
  g_assert_null (vt_client_get_power_profile_monitor (client));
  g_assert_cmpfloat (vt_client_get_power_saver_factor (client), ==, 3.0);
}

/* ------------------------------------------------------------------ */
/* Offline                                                             */

typedef struct
{
  VtFixture             f;
  VtFakeNetworkMonitor *network;
  VtFakePowerMonitor   *power;
} CitizenFixture;

static void
citizen_set_up (CitizenFixture *c,
                gconstpointer   data)
{
  vt_fixture_set_up (&c->f, data);
  c->network = vt_fake_network_monitor_new ();
  c->power = vt_fake_power_monitor_new ();
  g_object_set (c->f.client,
                "network-monitor", c->network,
                "power-profile-monitor", c->power,
                NULL);
}

static void
citizen_tear_down (CitizenFixture *c,
                   gconstpointer   data)
{
  vt_fixture_tear_down (&c->f, data);
  g_clear_object (&c->network);
  g_clear_object (&c->power);
}

#define CITIZEN_ADD(path, func) \
  g_test_add (path, CitizenFixture, NULL, citizen_set_up, func, citizen_tear_down)

/* Offline from the start: nothing is sent, no attempt spent (3 attempts
 * suffice afterwards for 3 answers); back online, the job asks within a
 * second and is followed to its end. */
static void
test_offline_then_back (CitizenFixture *c,
                        gconstpointer   data)
{
  static const VtReply replies[] = {
    VT_REPLY_PENDING, VT_REPLY_PENDING, VT_REPLY_COMPLETED, VT_REPLY_END
  };
  g_autoptr(GError) error = NULL;
  gint64 online_us;

  vt_fixture_script (&c->f, "/jobs/a", replies);
  g_object_set (c->f.client, "max-attempts", 3, "start-jitter", S (0.5), NULL);
  vt_fake_network_monitor_set (c->network, FALSE, FALSE);

  vt_fixture_start (&c->f, "a", NULL);
  run_for (S (0.3));
  g_assert_cmpuint (vt_fixture_count (&c->f, NULL), ==, 0);
  g_assert_false (c->f.call.done);

  online_us = g_get_monotonic_time ();
  vt_fake_network_monitor_set (c->network, TRUE, TRUE);
  g_assert_cmpint (vt_fixture_finish (&c->f, &error), ==, VT_STATUS_COMPLETED);
  g_assert_no_error (error);
  vt_fixture_assert_statuses (&c->f, 2, VT_STATUS_PENDING, VT_STATUS_COMPLETED);
  g_assert_cmpuint (vt_fixture_count (&c->f, NULL), ==, 3);
  g_assert_cmpint (vt_scripted_server_get_request (c->f.server, NULL, 0)->arrived_us - online_us,
                   <=, RESUME_BOUND_US);
}

/* The budget is the caller's deadline: it runs on while offline, and
 * the job ends at it, having sent nothing, with the reason. */
static void
test_offline_until_deadline (CitizenFixture *c,
                             gconstpointer   data)
{
  static const VtReply replies[] = { VT_REPLY_COMPLETED, VT_REPLY_END };
  g_autoptr(GError) error = NULL;
  gint64 start_us = g_get_monotonic_time ();

  vt_fixture_script (&c->f, "/jobs/a", replies);
  g_object_set (c->f.client, "max-wait-time", S (0.3), NULL);
  vt_fake_network_monitor_set (c->network, FALSE, FALSE);

  g_assert_cmpint (vt_fixture_follow (&c->f, "a", NULL, &error), ==, VT_STATUS_TIMEOUT);
  g_assert_error (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_UNREACHABLE);
  g_assert_cmpuint (vt_fixture_count (&c->f, NULL), ==, 0);
  g_assert_cmpuint (c->f.statuses->len, ==, 0);
  g_assert_cmpint (g_get_monotonic_time () - start_us, >=, S (0.3) * G_USEC_PER_SEC);
}

/* No default route, but the server is on this machine: can_reach() says
 * so, and the job is followed as usual. */
static void
test_no_default_route_local_server (CitizenFixture *c,
                                    gconstpointer   data)
{
  static const VtReply replies[] = { VT_REPLY_PENDING, VT_REPLY_COMPLETED, VT_REPLY_END };
  g_autoptr(GError) error = NULL;

  vt_fixture_script (&c->f, "/jobs/a", replies);
  vt_fake_network_monitor_set (c->network, FALSE, TRUE);

  g_assert_cmpint (vt_fixture_follow (&c->f, "a", NULL, &error), ==, VT_STATUS_COMPLETED);
  g_assert_no_error (error);
  vt_fixture_assert_statuses (&c->f, 2, VT_STATUS_PENDING, VT_STATUS_COMPLETED);
  g_assert_cmpuint (vt_fixture_count (&c->f, NULL), ==, 2);
  g_assert_cmpuint (vt_fake_network_monitor_get_n_checks (c->network), >=, 1);
}

/* The target, at a tenth of its size and time: jobs polling
 * when the route goes; nothing sent while it is gone; every job asks
 * within a second of its return (spread over the start jitter, not all
 * at once), and every end is seen. */
#define N_MIDWAY 20

static void
test_offline_midway (CitizenFixture *c,
                     gconstpointer   data)
{
  static const VtReply replies[] = {
    VT_REPLY_PENDING, VT_REPLY_PENDING, VT_REPLY_PENDING, VT_REPLY_COMPLETED, VT_REPLY_END
  };
  VtAsyncCall calls[N_MIDWAY] = { { 0 } };
  g_autoptr(GPtrArray) jobs = NULL;
  gint64 online_us, first_us = G_MAXINT64, last_us = 0;
  guint before;

  for (guint i = 0; i < N_MIDWAY; i++)
    {
      g_autofree char *path = g_strdup_printf ("/jobs/j%u", i);

      vt_fixture_script (&c->f, path, replies);
    }
  g_object_set (c->f.client, "initial-wait-time", S (0.2), "backoff-factor", 1.0,
                "start-jitter", S (0.5), "max-wait-time", S (10.0), NULL);

  jobs = follow_jobs (c->f.client, N_MIDWAY, calls);
  wait_for_requests (&c->f, N_MIDWAY);

  vt_fake_network_monitor_set (c->network, FALSE, FALSE);
  /* Requests already sent may still arrive; none is sent from here. */
  run_for (0.05);
  before = vt_fixture_count (&c->f, NULL);
  run_for (S (1.0));
  g_assert_cmpuint (vt_fixture_count (&c->f, NULL), ==, before);

  online_us = g_get_monotonic_time ();
  vt_fake_network_monitor_set (c->network, TRUE, TRUE);
  for (guint i = 0; i < N_MIDWAY; i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_cmpint (finish_job (jobs->pdata[i], &calls[i], &error), ==, VT_STATUS_COMPLETED);
      g_assert_no_error (error);
      vt_async_call_clear (&calls[i]);
    }

  /* Each job's first request after the return. */
  for (guint i = 0; i < N_MIDWAY; i++)
    {
      g_autofree char *path = g_strdup_printf ("/jobs/j%u", i);
      guint n = vt_fixture_count (&c->f, path);

      for (guint r = 0; r < n; r++)
        {
          gint64 at = vt_scripted_server_get_request (c->f.server, path, r)->arrived_us;

          if (at < online_us)
            continue;
          first_us = MIN (first_us, at);
          last_us = MAX (last_us, at);
          g_assert_cmpint (at - online_us, <=, RESUME_BOUND_US);
          break;
        }
      g_assert_cmpuint (n, ==, 4);
    }
  /* Spread, not a burst: 20 draws over the start jitter, capped at a
   * second (half a second unscaled). */
  g_assert_cmpint (last_us - first_us, >=, G_USEC_PER_SEC / 10);
}

/* A poll planned before an outage, far after it: the job may have ended
 * meanwhile, so it asks within a second of the return instead. */
static void
test_offline_replans_polls (CitizenFixture *c,
                            gconstpointer   data)
{
  static const VtReply replies[] = { VT_REPLY_PENDING, VT_REPLY_COMPLETED, VT_REPLY_END };
  g_autoptr(GError) error = NULL;
  gint64 online_us;

  vt_fixture_script (&c->f, "/jobs/a", replies);
  g_object_set (c->f.client, "initial-wait-time", 30.0, "max-wait-time", 60.0,
                "start-jitter", S (0.5), NULL);

  vt_fixture_start (&c->f, "a", NULL);
  wait_for_requests (&c->f, 1);
  vt_fake_network_monitor_set (c->network, FALSE, FALSE);
  run_for (S (0.2));
  online_us = g_get_monotonic_time ();
  vt_fake_network_monitor_set (c->network, TRUE, TRUE);

  g_assert_cmpint (vt_fixture_finish (&c->f, &error), ==, VT_STATUS_COMPLETED);
  g_assert_no_error (error);
  g_assert_cmpuint (vt_fixture_count (&c->f, NULL), ==, 2);
  g_assert_cmpint (vt_scripted_server_get_request (c->f.server, NULL, 1)->arrived_us - online_us,
                   <=, RESUME_BOUND_US);
}

/* A feed's long-poll answered while offline (one of its jobs ended) is
 * not asked again before the network is back, however many of its jobs
 * still wait: against the real vt-server, which holds no long-poll of
 * the client at the end of the outage. Back online, every end is seen.
 * (Two jobs end in the outage, so that one does, however slow the
 * set-up: the feed's held long-poll is answered then.) */
static void
test_offline_feed_long_poll (void)
{
  g_autoptr(VtTestServer) server = vt_test_server_start_delay (0.3, NULL);
  g_autoptr(VtClient) client = vt_test_fast_client (server, VT_STRATEGY_LONG_POLL);
  g_autoptr(VtFakeNetworkMonitor) network = vt_fake_network_monitor_new ();
  const double ends[] = { 0.3, 0.6, 1.5 };
  VtAsyncCall calls[G_N_ELEMENTS (ends)] = { { 0 } };
  VtAsyncCall probe = { 0 };
  g_autofree char *probe_id = vt_test_create_job (server, 0, NULL, NULL);
  g_autoptr(GError) error = NULL;

  g_object_set (client, "network-monitor", network, "power-profile-monitor", NULL,
                "max-wait-time", S (10.0), NULL);
  /* What the server offers is known first, from a job of its own. */
  vt_client_get_status_async (client, probe_id, NULL, vt_async_call_ready, &probe);
  vt_async_call_wait (&probe);
  g_assert_cmpint (vt_client_get_status_finish (client, probe.result, &error), ==,
                   VT_STATUS_COMPLETED);
  g_assert_no_error (error);
  vt_async_call_clear (&probe);

  for (guint i = 0; i < G_N_ELEMENTS (ends); i++)
    {
      g_autofree char *id = vt_test_create_job (server, S (ends[i]), NULL, NULL);

      vt_client_get_status_async (client, id, NULL, vt_async_call_ready, &calls[i]);
    }
  /* Joined, and the feed's long-poll (sent with the join) held. */
  vt_test_wait_requests (server, "/feeds/{fid}/jobs", 1);
  g_assert_cmpuint (vt_test_server_gauge (server, "vt_feed_jobs", G_N_ELEMENTS (ends)), ==,
                    G_N_ELEMENTS (ends));
  vt_test_wait_gauge (server, "vt_open_long_polls", 1);

  vt_fake_network_monitor_set (network, FALSE, FALSE);
  run_for (S (1.0));
  g_assert_cmpuint (vt_test_server_gauge (server, "vt_open_long_polls", 0), ==, 0);

  vt_fake_network_monitor_set (network, TRUE, TRUE);
  for (guint i = 0; i < G_N_ELEMENTS (ends); i++)
    {
      vt_async_call_wait (&calls[i]);
      g_assert_cmpint (vt_client_get_status_finish (client, calls[i].result, &error), ==,
                       VT_STATUS_COMPLETED);
      g_assert_no_error (error);
      vt_async_call_clear (&calls[i]);
    }
}

/* ------------------------------------------------------------------ */
/* Power saver                                                         */

/* Polls 0.1 s apart (no backoff, no jitter); in power-saver mode, twice
 * that, or what power-saver-factor says. */
static void
test_power_saver_stretches_polls (CitizenFixture *c,
                                  gconstpointer   data)
{
  static const VtReply replies[] = {
    VT_REPLY_PENDING, VT_REPLY_PENDING, VT_REPLY_PENDING, VT_REPLY_PENDING,
    VT_REPLY_COMPLETED, VT_REPLY_END
  };
  g_autoptr(GError) error = NULL;
  double gap = S (0.1);

  vt_fixture_script (&c->f, "/jobs/a", replies);
  g_object_set (c->f.client, "initial-wait-time", gap, "backoff-factor", 1.0,
                "min-interval", 0.0, "max-wait-time", S (5.0), NULL);
  vt_fake_power_monitor_set_power_saver (c->power, TRUE);

  vt_fixture_start (&c->f, "a", NULL);
  wait_for_requests (&c->f, 3);
  g_assert_cmpfloat (vt_scripted_server_gap (c->f.server, NULL, 0, 1), >=, 2 * gap);
  g_assert_cmpfloat (vt_scripted_server_gap (c->f.server, NULL, 1, 2), >=, 2 * gap);

  /* Told while the job runs: the next waits follow the new factor. */
  vt_client_set_power_saver_factor (c->f.client, 3.0);
  g_assert_cmpint (vt_fixture_finish (&c->f, &error), ==, VT_STATUS_COMPLETED);
  g_assert_no_error (error);
  g_assert_cmpfloat (vt_scripted_server_gap (c->f.server, NULL, 3, 4), >=, 3 * gap);
  vt_fixture_assert_statuses (&c->f, 2, VT_STATUS_PENDING, VT_STATUS_COMPLETED);
}

/* Leaving power-saver mode, the polls are as usual again. */
static void
test_power_saver_off (CitizenFixture *c,
                      gconstpointer   data)
{
  static const VtReply replies[] = {
    VT_REPLY_PENDING, VT_REPLY_PENDING, VT_REPLY_PENDING, VT_REPLY_COMPLETED, VT_REPLY_END
  };
  g_autoptr(GError) error = NULL;
  double gap = S (0.1);

  vt_fixture_script (&c->f, "/jobs/a", replies);
  g_object_set (c->f.client, "initial-wait-time", gap, "backoff-factor", 1.0,
                "min-interval", 0.0, "power-saver-factor", 10.0, "max-wait-time", S (5.0), NULL);
  vt_fake_power_monitor_set_power_saver (c->power, TRUE);
  vt_fake_power_monitor_set_power_saver (c->power, FALSE);

  g_assert_cmpint (vt_fixture_follow (&c->f, "a", NULL, &error), ==, VT_STATUS_COMPLETED);
  g_assert_no_error (error);
  for (guint i = 0; i < 3; i++)
    {
      g_assert_cmpfloat (vt_scripted_server_gap (c->f.server, NULL, i, i + 1), >=, gap);
      g_assert_cmpfloat (vt_scripted_server_gap (c->f.server, NULL, i, i + 1), <, 5 * gap);
    }
}

/* ------------------------------------------------------------------ */
/* Conditional polls                                                   */

#define PENDING_ETAG "ETag: W/\"pending\""

/* The If-None-Match that request @n sent, if any. */
static const char *
if_none_match (VtFixture *f,
               guint      n)
{
  return soup_message_headers_get_one (vt_scripted_server_get_request (f->server, NULL, n)->headers,
                                       "If-None-Match");
}

static void
test_conditional_polls (VtFixture     *f,
                        gconstpointer  data)
{
  static const VtReply replies[] = {
    { 200, "{\"result\": \"pending\"}", NULL, FALSE, NULL, PENDING_ETAG },
    { 304, NULL, NULL, FALSE, NULL, PENDING_ETAG },
    { 304, NULL, NULL, FALSE, NULL, PENDING_ETAG },
    { 200, "{\"result\": \"completed\"}", NULL, FALSE, NULL, "ETag: W/\"completed\"" },
    VT_REPLY_END
  };
  g_autoptr(GError) error = NULL;

  vt_fixture_script (f, "/jobs/a", replies);
  g_assert_cmpint (vt_fixture_follow (f, "a", NULL, &error), ==, VT_STATUS_COMPLETED);
  g_assert_no_error (error);

  /* A 304 is "unchanged": no status-changed. */
  vt_fixture_assert_statuses (f, 2, VT_STATUS_PENDING, VT_STATUS_COMPLETED);
  g_assert_cmpuint (vt_fixture_count (f, NULL), ==, 4);
  g_assert_null (if_none_match (f, 0));
  for (guint i = 1; i < 4; i++)
    g_assert_cmpstr (if_none_match (f, i), ==, "W/\"pending\"");
}

/* A 304 keeps the server's Retry-After: it is a hint like any other. */
static void
test_conditional_poll_retry_after (VtFixture     *f,
                                   gconstpointer  data)
{
  static const VtReply replies[] = {
    { 200, "{\"result\": \"pending\"}", NULL, FALSE, NULL, PENDING_ETAG },
    { 304, NULL, "1", FALSE, NULL, PENDING_ETAG },
    VT_REPLY_COMPLETED,
    VT_REPLY_END
  };
  g_autoptr(GError) error = NULL;

  vt_fixture_script (f, "/jobs/a", replies);
  g_assert_cmpint (vt_fixture_follow (f, "a", NULL, &error), ==, VT_STATUS_COMPLETED);
  g_assert_no_error (error);
  g_assert_cmpuint (vt_fixture_count (f, NULL), ==, 3);
  g_assert_cmpfloat (vt_scripted_server_gap (f->server, NULL, 1, 2), >=, 1.0);
}

/* A 304 has no body, so what the ETA said is all there is: while the
 * job's ETA is still ahead (the poll was brought forward by
 * max-interval) the poll is conditional; once it has run out, the next
 * poll asks for the whole answer, and a fresh ETA. */
static void
test_conditional_while_eta_ahead (VtFixture     *f,
                                  gconstpointer  data)
{
  static const VtReply replies[] = {
    { 200, "{\"result\": \"pending\", \"eta\": 30}", NULL, FALSE, NULL, PENDING_ETAG },
    { 304, NULL, NULL, FALSE, NULL, PENDING_ETAG },
    VT_REPLY_COMPLETED,
    VT_REPLY_END
  };
  g_autoptr(GError) error = NULL;

  vt_fixture_script (f, "/jobs/a", replies);
  g_object_set (f->client, "min-interval", 0.0, "max-interval", S (0.05), NULL);
  g_assert_cmpint (vt_fixture_follow (f, "a", NULL, &error), ==, VT_STATUS_COMPLETED);
  g_assert_no_error (error);
  g_assert_cmpuint (vt_fixture_count (f, NULL), ==, 3);
  g_assert_cmpstr (if_none_match (f, 1), ==, "W/\"pending\"");
  /* After a 304 the ETA, run down, still says 30 s: still conditional. */
  g_assert_cmpstr (if_none_match (f, 2), ==, "W/\"pending\"");
  /* And the wait stayed the ETA's, capped at max-interval, not the
   * backoff's 20 ms. */
  g_assert_cmpfloat (vt_scripted_server_gap (f->server, NULL, 1, 2), >=, S (0.045));
}

static void
test_unconditional_once_eta_ran_out (VtFixture     *f,
                                     gconstpointer  data)
{
  static const VtReply replies[] = {
    { 200, "{\"result\": \"pending\", \"eta\": 0.05}", NULL, FALSE, NULL, PENDING_ETAG },
    VT_REPLY_COMPLETED,
    VT_REPLY_END
  };
  g_autoptr(GError) error = NULL;

  vt_fixture_script (f, "/jobs/a", replies);
  g_object_set (f->client, "min-interval", 0.2, NULL);
  g_assert_cmpint (vt_fixture_follow (f, "a", NULL, &error), ==, VT_STATUS_COMPLETED);
  g_assert_no_error (error);
  g_assert_cmpuint (vt_fixture_count (f, NULL), ==, 2);
  g_assert_null (if_none_match (f, 1));
}

/* A server whose 304s carry Vt-Eta ("conditional" in Vt-Capabilities)
 * loses nothing to a 304: every poll after the first is conditional,
 * the ETA run out or not, and the next poll is planned from the header's
 * ETA, as from a body's. */
static void
test_conditional_with_eta_header (VtFixture     *f,
                                  gconstpointer  data)
{
  g_autofree char *first = g_strdup_printf ("{\"result\": \"pending\", \"eta\": %.3f, \"elapsed\": 0}",
                                            S (0.05));
  /* With the length of the 200 it stands for, as vt-server sends: no
   * body to wait for all the same. */
  g_autofree char *timing = g_strdup_printf (PENDING_ETAG "\nVt-Eta: %.3f;elapsed=%.3f\nContent-Length: 60",
                                             S (0.3), S (0.25));
  const VtReply replies[] = {
    { 200, first, NULL, FALSE, NULL, PENDING_ETAG "\nVt-Capabilities: hints, conditional" },
    { 304, NULL, NULL, FALSE, NULL, timing },
    { 200, "{\"result\": \"completed\"}", NULL, FALSE, NULL, "ETag: W/\"completed\"" },
    VT_REPLY_END
  };
  g_autoptr(GError) error = NULL;
  double gap;

  vt_fixture_script (f, "/jobs/a", replies);
  g_object_set (f->client, "min-interval", S (0.2), NULL);
  g_assert_cmpint (vt_fixture_follow (f, "a", NULL, &error), ==, VT_STATUS_COMPLETED);
  g_assert_no_error (error);
  vt_fixture_assert_statuses (f, 2, VT_STATUS_PENDING, VT_STATUS_COMPLETED);
  g_assert_cmpuint (vt_fixture_count (f, NULL), ==, 3);
  g_assert_null (if_none_match (f, 0));
  /* Sent after the first ETA ran out, and conditional all the same. */
  g_assert_cmpfloat (vt_scripted_server_gap (f->server, NULL, 0, 1), >=, S (0.2));
  g_assert_cmpstr (if_none_match (f, 1), ==, "W/\"pending\"");
  g_assert_cmpstr (if_none_match (f, 2), ==, "W/\"pending\"");
  /* The header's 0.3 s placed the last poll: not the backoff's next
   * wait (min-interval, 0.2 s), nor an unknown ETA's. */
  gap = vt_scripted_server_gap (f->server, NULL, 1, 2);
  g_test_message ("304 to the next poll: %.3f s", gap);
  g_assert_cmpfloat (gap, >=, S (0.28));
  g_assert_cmpfloat (gap, <, S (0.3) + S (0.15));
}

/* Someone watches the job's progress: a 304 would not tell it, so the
 * polls ask for the whole answer. */
static void
test_unconditional_when_progress_watched (VtFixture     *f,
                                          gconstpointer  data)
{
  static const VtReply replies[] = {
    { 200, "{\"result\": \"pending\", \"progress\": 0.1}", NULL, FALSE, NULL, PENDING_ETAG },
    { 200, "{\"result\": \"pending\", \"progress\": 0.5}", NULL, FALSE, NULL, PENDING_ETAG },
    VT_REPLY_COMPLETED,
    VT_REPLY_END
  };
  g_autoptr(VtJob) job = NULL;
  g_autoptr(GError) error = NULL;
  VtAsyncCall call = { 0 };
  guint n_progress = 0;

  vt_fixture_script (f, "/jobs/a", replies);
  job = vt_client_follow (f->client, "a");
  g_signal_connect_swapped (job, "notify::progress", G_CALLBACK (count_notify), &n_progress);
  vt_job_wait_async (job, NULL, vt_async_call_ready, &call);
  g_assert_cmpint (finish_job (job, &call, &error), ==, VT_STATUS_COMPLETED);
  g_assert_no_error (error);
  vt_async_call_clear (&call);
  g_assert_cmpuint (vt_fixture_count (f, NULL), ==, 3);
  g_assert_null (if_none_match (f, 1));
  g_assert_null (if_none_match (f, 2));
  g_assert_cmpuint (n_progress, >=, 2);
}

/* A server that sends no ETag is never asked a conditional question. */
static void
test_no_etag_no_condition (VtFixture     *f,
                           gconstpointer  data)
{
  static const VtReply replies[] = {
    VT_REPLY_PENDING, VT_REPLY_PENDING, VT_REPLY_COMPLETED, VT_REPLY_END
  };
  g_autoptr(GError) error = NULL;

  vt_fixture_script (f, "/jobs/a", replies);
  g_assert_cmpint (vt_fixture_follow (f, "a", NULL, &error), ==, VT_STATUS_COMPLETED);
  g_assert_no_error (error);
  for (guint i = 0; i < 3; i++)
    g_assert_null (if_none_match (f, i));
}

/* A 304 to a client that asked nothing conditional is not an answer
 * about the job: it is retried, and the job still ends right. */
static void
test_unasked_304 (VtFixture     *f,
                  gconstpointer  data)
{
  static const VtReply replies[] = {
    { 304, NULL, NULL, FALSE, NULL, NULL }, VT_REPLY_COMPLETED, VT_REPLY_END
  };
  g_autoptr(GError) error = NULL;

  vt_fixture_script (f, "/jobs/a", replies);
  g_assert_cmpint (vt_fixture_follow (f, "a", NULL, &error), ==, VT_STATUS_COMPLETED);
  g_assert_no_error (error);
  vt_fixture_assert_statuses (f, 1, VT_STATUS_COMPLETED);
  g_assert_cmpuint (vt_fixture_count (f, NULL), ==, 2);
}

/* ------------------------------------------------------------------ */
/* Shared rate limits                                                  */

/* One job's 429 with Retry-After holds back every job's next request to
 * that server, not only its own. */
static void
test_429_holds_every_job (VtFixture     *f,
                          gconstpointer  data)
{
  static const VtReply limited[] = {
    { 429, "{\"error\": \"slow down\"}", "1", FALSE, NULL }, VT_REPLY_COMPLETED, VT_REPLY_END
  };
  static const VtReply pending[] = {
    VT_REPLY_PENDING, VT_REPLY_PENDING, VT_REPLY_COMPLETED, VT_REPLY_END
  };
  VtAsyncCall calls[2] = { { 0 } };
  g_autoptr(GPtrArray) jobs = NULL;
  gint64 limited_us;

  vt_fixture_script (f, "/jobs/j0", limited);
  vt_fixture_script (f, "/jobs/j1", pending);
  g_object_set (f->client, "min-interval", 0.0, NULL);

  jobs = follow_jobs (f->client, 2, calls);
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_cmpint (finish_job (jobs->pdata[i], &calls[i], &error), ==, VT_STATUS_COMPLETED);
      g_assert_no_error (error);
      vt_async_call_clear (&calls[i]);
    }

  /* The 429 went out first or beside j1's first poll; nothing reached
   * the server in the second after it but what was already in flight. */
  limited_us = vt_scripted_server_get_request (f->server, "/jobs/j0", 0)->arrived_us;
  for (guint i = 0; i < vt_fixture_count (f, NULL); i++)
    {
      const VtLoggedRequest *r = vt_scripted_server_get_request (f->server, NULL, i);

      if (r->arrived_us > limited_us + S (0.05) * G_USEC_PER_SEC)
        g_assert_cmpint (r->arrived_us - limited_us, >=, 1 * G_USEC_PER_SEC - 10000);
    }
  g_assert_cmpuint (vt_fixture_count (f, "/jobs/j0"), ==, 2);
  g_assert_cmpuint (vt_fixture_count (f, "/jobs/j1"), ==, 3);
}

/* RateLimit-Policy and RateLimit (the IETF httpapi draft, as vt-server
 * --rate-limit sends them): 5 requests a second, none left until the
 * window resets in a second. Every job waits for the reset, and no
 * window holds more than the quota, where the jobs' own schedule (10 ms
 * apart) would have sent everything within 50 ms. */
#define RATE_HEADERS "RateLimit-Policy: \"default\";q=5;w=1\nRateLimit: \"default\";r=0;t=1"
#define N_PACED 3

static void
test_ratelimit_headers_pace_every_job (VtFixture     *f,
                                       gconstpointer  data)
{
  static const VtReply replies[] = {
    { 200, "{\"result\": \"pending\"}", NULL, FALSE, NULL, RATE_HEADERS },
    { 200, "{\"result\": \"completed\"}", NULL, FALSE, NULL, RATE_HEADERS },
    VT_REPLY_END
  };
  VtAsyncCall calls[N_PACED] = { { 0 } };
  g_autoptr(GPtrArray) jobs = NULL;
  guint n;

  for (guint i = 0; i < N_PACED; i++)
    {
      g_autofree char *path = g_strdup_printf ("/jobs/j%u", i);

      vt_fixture_script (f, path, replies);
    }
  g_object_set (f->client, "min-interval", 0.0, "backoff-factor", 1.0, NULL);

  jobs = follow_jobs (f->client, N_PACED, calls);
  for (guint i = 0; i < N_PACED; i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_cmpint (finish_job (jobs->pdata[i], &calls[i], &error), ==, VT_STATUS_COMPLETED);
      g_assert_no_error (error);
      vt_async_call_clear (&calls[i]);
    }

  n = vt_fixture_count (f, NULL);
  g_assert_cmpuint (n, ==, 2 * N_PACED);
  /* The first request is the only one before anything was known (the
   * others wait for its answer, which told the limit). */
  for (guint i = 1; i < n; i++)
    g_assert_cmpfloat (vt_scripted_server_gap (f->server, NULL, 0, i), >=, 0.99);
  /* At most the quota in any second, and the last wave after a second
   * reset. */
  for (guint i = 0; i + 5 < n; i++)
    g_assert_cmpfloat (vt_scripted_server_gap (f->server, NULL, i, i + 5), >=, 0.99);
  g_assert_cmpfloat (vt_scripted_server_gap (f->server, NULL, 0, n - 1), >=, 1.98);
}

/* ------------------------------------------------------------------ */
/* Resume after restart                                                */

static JsonObject *
parse_state (JsonParser *parser,
             const char *state,
             guint       n_jobs)
{
  JsonObject *root;

  g_assert_true (json_parser_load_from_data (parser, state, -1, NULL));
  root = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpint (json_object_get_int_member (root, "version"), ==, 1);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (root, "jobs")), ==, n_jobs);

  return root;
}

/* Two jobs followed, saved, the client gone; a new client follows them
 * on from the saved state with what was left of their budgets. */
static void
test_export_import_state (VtFixture     *f,
                          gconstpointer  data)
{
  static const VtReply replies[] = { VT_REPLY_PENDING, VT_REPLY_END };
  static const VtReply completed[] = { VT_REPLY_COMPLETED, VT_REPLY_END };
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(VtClient) restarted = NULL;
  g_autoptr(GListModel) jobs = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *state = NULL;
  g_autofree char *empty = NULL;
  g_autoptr(VtJob) a = NULL;
  g_autoptr(VtJob) b = NULL;
  VtAsyncCall calls[2] = { { 0 } };
  JsonObject *root, *entry;
  gint64 deadline_before_us = g_get_real_time () + 5 * G_USEC_PER_SEC;

  vt_fixture_script (f, "/jobs/a", replies);
  vt_fixture_script (f, "/jobs/b", replies);
  g_object_set (f->client, "initial-wait-time", S (0.05), "backoff-factor", 1.0,
                "max-attempts", 50, "max-wait-time", 5.0, NULL);

  a = vt_client_follow (f->client, "a");
  b = vt_client_follow (f->client, "b");
  wait_for_requests (f, 4);
  state = vt_client_export_state (f->client);

  root = parse_state (parser, state, 2);
  entry = json_array_get_object_element (json_object_get_array_member (root, "jobs"), 0);
  g_assert_cmpstr (json_object_get_string_member (entry, "base-url"), ==,
                   vt_scripted_server_get_url (f->server));
  g_assert_cmpstr (json_object_get_string_member (entry, "id"), ==, "a");
  g_assert_cmpint (json_object_get_int_member (entry, "attempts-left"), <=, 48);
  g_assert_cmpint (json_object_get_int_member (entry, "attempts-left"), >=, 40);
  {
    g_autoptr(GDateTime) deadline =
      g_date_time_new_from_iso8601 (json_object_get_string_member (entry, "deadline"), NULL);

    g_assert_nonnull (deadline);
    g_assert_cmpint (g_date_time_to_unix (deadline), <=, deadline_before_us / G_USEC_PER_SEC);
    g_assert_cmpint (g_date_time_to_unix (deadline), >=, deadline_before_us / G_USEC_PER_SEC - 2);
  }
  entry = json_array_get_object_element (json_object_get_array_member (root, "jobs"), 1);
  g_assert_cmpstr (json_object_get_string_member (entry, "id"), ==, "b");

  /* The application quits; the jobs end meanwhile. */
  vt_job_cancel (a);
  vt_job_cancel (b);
  vt_fixture_script (f, "/jobs/a", completed);
  vt_fixture_script (f, "/jobs/b", completed);
  vt_scripted_server_clear_log (f->server);

  restarted = vt_client_new ("http://127.0.0.1:1");  /* another server: the state says which */
  g_object_set (restarted, "initial-wait-time", S (0.05), NULL);
  jobs = vt_client_import_state (restarted, state, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (jobs), ==, 2);
  g_assert_cmpuint (g_list_model_get_n_items (vt_client_get_jobs (restarted)), ==, 2);
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(VtJob) job = g_list_model_get_item (jobs, i);
      g_autoptr(GError) wait_error = NULL;

      g_assert_cmpstr (vt_job_get_id (job), ==, i == 0 ? "a" : "b");
      vt_job_wait_async (job, NULL, vt_async_call_ready, &calls[i]);
      g_assert_cmpint (finish_job (job, &calls[i], &wait_error), ==, VT_STATUS_COMPLETED);
      g_assert_no_error (wait_error);
      vt_async_call_clear (&calls[i]);
    }
  g_assert_cmpuint (vt_fixture_count (f, "/jobs/a"), ==, 1);
  g_assert_cmpuint (vt_fixture_count (f, "/jobs/b"), ==, 1);

  /* Nothing followed any more: nothing to save. */
  empty = vt_client_export_state (restarted);
  parse_state (parser, empty, 0);
}

/* A job whose deadline passed while the application was away ends at
 * once, as its budget ran out, without a request. */
static void
test_import_past_deadline (VtFixture     *f,
                           gconstpointer  data)
{
  g_autofree char *state = g_strdup_printf (
    "{\"version\": 1, \"jobs\": [{\"base-url\": \"%s\", \"id\": \"a\", "
    "\"deadline\": \"2020-01-01T00:00:00Z\", \"attempts-left\": 3}]}",
    vt_scripted_server_get_url (f->server));
  g_autoptr(GListModel) jobs = NULL;
  g_autoptr(VtJob) job = NULL;
  g_autoptr(GError) error = NULL;
  VtAsyncCall call = { 0 };

  vt_fixture_script (f, "/jobs/a", (const VtReply[]) { VT_REPLY_COMPLETED, VT_REPLY_END });
  jobs = vt_client_import_state (f->client, state, &error);
  g_assert_no_error (error);
  job = g_list_model_get_item (jobs, 0);
  vt_job_wait_async (job, NULL, vt_async_call_ready, &call);
  g_assert_cmpint (finish_job (job, &call, &error), ==, VT_STATUS_TIMEOUT);
  g_assert_no_error (error);
  vt_async_call_clear (&call);
  g_assert_cmpuint (vt_fixture_count (f, NULL), ==, 0);
}

/* Bad states are refused whole, with a clear error, and follow nothing. */
static void
test_import_bad_states (VtFixture     *f,
                        gconstpointer  data)
{
  static const char *const bad[] = {
    "",
    "[]",
    "{\"version\": 2, \"jobs\": []}",
    "{\"version\": 1}",
    "{\"version\": 1, \"jobs\": [1]}",
    "{\"version\": 1, \"jobs\": [{\"id\": \"a\", \"deadline\": \"2030-01-01T00:00:00Z\", \"attempts-left\": 1}]}",
    "{\"version\": 1, \"jobs\": [{\"base-url\": \"http://x\", \"id\": \"\", \"deadline\": \"2030-01-01T00:00:00Z\", \"attempts-left\": 1}]}",
    "{\"version\": 1, \"jobs\": [{\"base-url\": \"http://x\", \"id\": \"a\", \"deadline\": \"tomorrow\", \"attempts-left\": 1}]}",
    "{\"version\": 1, \"jobs\": [{\"base-url\": \"http://x\", \"id\": \"a\", \"deadline\": \"2030-01-01T00:00:00\", \"attempts-left\": 1}]}",
    "{\"version\": 1, \"jobs\": [{\"base-url\": \"http://x\", \"id\": \"a\", \"deadline\": \"2030-01-01T00:00:00Z\", \"attempts-left\": -1}]}",
    "{\"version\": 1, \"jobs\": [{\"base-url\": \"http://x\", \"id\": \"a\", \"deadline\": \"2030-01-01T00:00:00Z\", \"attempts-left\": 0}]}",
    "{\"version\": 1, \"jobs\": [{\"base-url\": \"http://x\", \"id\": \"a\", \"deadline\": \"2030-01-01T00:00:00Z\", \"attempts-left\": 1, \"last-event-id\": 7}]}",
    /* The first job is good, the second is not: neither is followed. */
    "{\"version\": 1, \"jobs\": [{\"base-url\": \"http://x\", \"id\": \"a\", \"deadline\": \"2030-01-01T00:00:00Z\", \"attempts-left\": 1}, {}]}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GListModel) jobs = vt_client_import_state (f->client, bad[i], &error);

      g_assert_null (jobs);
      g_assert_error (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_INVALID_ARGUMENT);
      g_assert_cmpuint (g_list_model_get_n_items (vt_client_get_jobs (f->client)), ==, 0);
    }
}

/* A stream resumes after its last event: the event id is saved, and
 * the restarted client's stream sends it as Last-Event-ID. Within one
 * run too: a stream that drops reconnects with it. */
#define SSE_PENDING "id: p\nevent: status\ndata: {\"result\": \"pending\"}\n\n"
#define SSE_COMPLETED "id: c\nevent: status\ndata: {\"result\": \"completed\"}\n\n"
#define SSE_HEADERS "Content-Type: text/event-stream"

static void
test_stream_last_event_id (VtFixture     *f,
                           gconstpointer  data)
{
  static const VtReply pending[] = {
    { 200, SSE_PENDING, NULL, FALSE, NULL, SSE_HEADERS },
    VT_REPLY_HANG,
    VT_REPLY_END
  };
  static const VtReply completed[] = {
    { 200, SSE_COMPLETED, NULL, FALSE, NULL, SSE_HEADERS }, VT_REPLY_END
  };
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(VtClient) restarted = NULL;
  g_autoptr(GListModel) jobs = NULL;
  g_autoptr(VtJob) job = NULL;
  g_autoptr(VtJob) resumed = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *state = NULL;
  VtAsyncCall call = { 0 };
  JsonObject *entry;

  vt_fixture_script (f, "/jobs/a/events", pending);
  vt_client_set_strategy (f->client, VT_STRATEGY_STREAM);
  job = vt_client_follow (f->client, "a");

  /* The first stream tells "pending" and ends; the second is held. */
  wait_for_requests (f, 2);
  g_assert_null (soup_message_headers_get_one (vt_scripted_server_get_request (f->server, NULL, 0)->headers,
                                               "Last-Event-ID"));
  g_assert_cmpstr (soup_message_headers_get_one (vt_scripted_server_get_request (f->server, NULL, 1)->headers,
                                                 "Last-Event-ID"), ==, "p");

  state = vt_client_export_state (f->client);
  entry = json_array_get_object_element (
    json_object_get_array_member (parse_state (parser, state, 1), "jobs"), 0);
  g_assert_cmpstr (json_object_get_string_member (entry, "last-event-id"), ==, "p");
  vt_job_cancel (job);

  vt_fixture_script (f, "/jobs/a/events", completed);
  vt_scripted_server_clear_log (f->server);
  restarted = vt_client_new (NULL);
  vt_client_set_strategy (restarted, VT_STRATEGY_STREAM);
  jobs = vt_client_import_state (restarted, state, &error);
  g_assert_no_error (error);
  resumed = g_list_model_get_item (jobs, 0);
  vt_job_wait_async (resumed, NULL, vt_async_call_ready, &call);
  g_assert_cmpint (finish_job (resumed, &call, &error), ==, VT_STATUS_COMPLETED);
  g_assert_no_error (error);
  vt_async_call_clear (&call);
  g_assert_cmpuint (vt_fixture_count (f, NULL), ==, 1);
  g_assert_cmpstr (soup_message_headers_get_one (vt_scripted_server_get_request (f->server, NULL, 0)->headers,
                                                 "Last-Event-ID"), ==, "p");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/client/citizen/monitors/defaults", test_default_monitors);
  CITIZEN_ADD ("/client/citizen/offline/then-back", test_offline_then_back);
  CITIZEN_ADD ("/client/citizen/offline/until-deadline", test_offline_until_deadline);
  CITIZEN_ADD ("/client/citizen/offline/local-server", test_no_default_route_local_server);
  CITIZEN_ADD ("/client/citizen/offline/midway", test_offline_midway);
  CITIZEN_ADD ("/client/citizen/offline/replans-polls", test_offline_replans_polls);
  g_test_add_func ("/client/citizen/offline/feed-long-poll", test_offline_feed_long_poll);
  CITIZEN_ADD ("/client/citizen/power-saver/stretch", test_power_saver_stretches_polls);
  CITIZEN_ADD ("/client/citizen/power-saver/off", test_power_saver_off);
  VT_FIXTURE_ADD ("/client/citizen/conditional/304", test_conditional_polls);
  VT_FIXTURE_ADD ("/client/citizen/conditional/retry-after", test_conditional_poll_retry_after);
  VT_FIXTURE_ADD ("/client/citizen/conditional/no-etag", test_no_etag_no_condition);
  VT_FIXTURE_ADD ("/client/citizen/conditional/eta-ahead", test_conditional_while_eta_ahead);
  VT_FIXTURE_ADD ("/client/citizen/conditional/eta-ran-out", test_unconditional_once_eta_ran_out);
  VT_FIXTURE_ADD ("/client/citizen/conditional/eta-header", test_conditional_with_eta_header);
  VT_FIXTURE_ADD ("/client/citizen/conditional/progress-watched", test_unconditional_when_progress_watched);
  VT_FIXTURE_ADD ("/client/citizen/conditional/unasked-304", test_unasked_304);
  VT_FIXTURE_ADD ("/client/citizen/rate-limit/429-holds-every-job", test_429_holds_every_job);
  VT_FIXTURE_ADD ("/client/citizen/rate-limit/headers-pace", test_ratelimit_headers_pace_every_job);
  VT_FIXTURE_ADD ("/client/citizen/state/export-import", test_export_import_state);
  VT_FIXTURE_ADD ("/client/citizen/state/past-deadline", test_import_past_deadline);
  VT_FIXTURE_ADD ("/client/citizen/state/bad", test_import_bad_states);
  VT_FIXTURE_ADD ("/client/citizen/state/last-event-id", test_stream_last_event_id);

  return g_test_run ();
}
