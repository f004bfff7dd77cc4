/* test-client-model.c: what the client learns of a server's job durations
 *
 * The model is exported and imported as JSON, and a client that learned
 * how long a plain server's jobs take places its polls where they end.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <json-glib/json-glib.h>
#include <string.h>

#include "vt-test-fixture.h"

static void
assert_model_refused (VtClient   *client,
                      const char *model)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (vt_client_import_model (client, model, &error));
  g_assert_error (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_INVALID_ARGUMENT);
}

static void
test_model_export_import (void)
{
  g_autoptr(VtTestServer) server = vt_test_server_start_delay (0.2, NULL);
  g_autoptr(VtClient) client = vt_test_fast_client (server, VT_STRATEGY_STREAM);
  g_autoptr(VtClient) other = vt_client_new (NULL);
  g_autofree char *id = vt_test_submit (client);
  g_autofree char *exported = NULL;
  g_autofree char *reexported = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonArray *durations;
  VtObserved observed;
  gint64 called_us, done_us;
  double duration;

  called_us = g_get_monotonic_time ();
  vt_test_follow_completed (client, id, &observed);
  done_us = g_get_monotonic_time ();
  vt_observed_clear (&observed);

  exported = vt_client_export_model (client);
  json_parser_load_from_data (parser, exported, -1, &error);
  g_assert_no_error (error);
  durations = json_object_get_array_member (
      json_object_get_object_member (
          json_object_get_object_member (json_node_get_object (json_parser_get_root (parser)),
                                         "servers"),
          vt_test_server_get_url (server)),
      "durations");
  g_assert_cmpuint (json_array_get_length (durations), ==, 1);
  /* Seen on a stream, from the watch's start to the end it saw: the
   * job's 0.2 s, less what passed between its creation and the watch,
   * and never more than the call took by this test's clock. */
  duration = json_array_get_double_element (durations, 0);
  g_assert_cmpfloat (duration, >=, S (0.1));
  g_assert_cmpfloat (duration, <=, (done_us - called_us) / (double) G_USEC_PER_SEC);

  g_assert_true (vt_client_import_model (other, exported, &error));
  g_assert_no_error (error);
  reexported = vt_client_export_model (other);
  g_assert_cmpstr (reexported, ==, exported);

  assert_model_refused (other, "{\"version\": 1, \"servers\": "
                        "{\"x\": {\"durations\": [1, \"a\"]}}}");
  assert_model_refused (other, "{\"version\": 1, \"servers\": "
                        "{\"x\": {\"durations\": [[3, 2]]}}}");
  assert_model_refused (other, "nonsense");
  /* Nothing of the refused models was imported. */
  g_free (reexported);
  reexported = vt_client_export_model (other);
  g_assert_cmpstr (reexported, ==, exported);

  /* What polls saw, [low, high], round-trips as such. */
  {
    const char *intervals = "{\"version\":1,\"servers\":{\"http://h:1\":"
                            "{\"durations\":[[10.0,20.0],30.0]}}}";
    g_autoptr(VtClient) fresh = vt_client_new (NULL);
    g_autofree char *round_trip = NULL;

    g_assert_true (vt_client_import_model (fresh, intervals, &error));
    g_assert_no_error (error);
    round_trip = vt_client_export_model (fresh);
    g_assert_cmpstr (round_trip, ==, intervals);
  }
}

/* A job on a plain server that ends @duration after the first request,
 * and the times of every request. */
typedef struct
{
  double  duration;
  gint64  first_us;
  GArray *times;   /* seconds since the first request */
} TimedJob;

static void
timed_job_callback (SoupServer        *server,
                    SoupServerMessage *msg,
                    const char        *path,
                    GHashTable        *query,
                    gpointer           user_data)
{
  TimedJob *job = user_data;
  gint64 now = g_get_monotonic_time ();
  double at;
  const char *body;

  if (job->times->len == 0)
    job->first_us = now;
  at = (now - job->first_us) / (double) G_USEC_PER_SEC;
  g_array_append_val (job->times, at);

  body = at < job->duration ? "{\"result\": \"pending\"}" : "{\"result\": \"completed\"}";
  soup_server_message_set_status (msg, 200, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC,
                                    body, strlen (body));
}

/* A client that learned how long this server's jobs take polls where
 * they end: none before the shortest ends, no more requests than the
 * backoff's five (0, 0.05, 0.15, 0.35, 0.75 s) for a 0.5 s job, and it
 * sees the end within a step of the plan (about 0.05 s) of the last poll
 * that saw the job pending, where the backoff's polls are 0.4 s apart
 * there. */
static void
test_learned_plan (void)
{
  TimedJob job = { S (0.5), 0, g_array_new (FALSE, FALSE, sizeof (double)) };
  g_autoptr(SoupServer) server = soup_server_new (NULL, NULL);
  g_autoptr(GError) error = NULL;
  g_autoslist(GUri) uris = NULL;
  g_autofree char *url = NULL;
  g_autoptr(GString) model = g_string_new (NULL);
  g_autoptr(VtClient) client = NULL;
  VtAsyncCall call = { 0, };
  VtObserved observed;
  double last, before_last;

  soup_server_add_handler (server, "/jobs", timed_job_callback, &job, NULL);
  soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);
  uris = soup_server_get_uris (server);
  url = g_strdup_printf ("http://127.0.0.1:%d", g_uri_get_port (uris->data));

  /* Twenty jobs seen to take 0.4 to 0.6 s here. */
  g_string_append_printf (model, "{\"version\": 1, \"servers\": {\"%s\": {\"durations\": [", url);
  for (guint i = 0; i < 20; i++)
    {
      char number[G_ASCII_DTOSTR_BUF_SIZE];

      g_string_append_printf (model, "%s%s", i > 0 ? ", " : "",
                              g_ascii_formatd (number, sizeof number, "%.4f", S (0.4 + 0.01 * i)));
    }
  g_string_append (model, "]}}}");

  client = vt_client_new (url);
  g_object_set (client, "strategy", VT_STRATEGY_POLL, "initial-wait-time", S (0.05),
                "jitter", 0.0, "min-interval", S (0.01), "max-wait-time", S (5.0), NULL);
  g_assert_true (vt_client_import_model (client, model->str, &error));
  g_assert_no_error (error);

  /* Async: the server answers on this thread's main context. */
  vt_observed_start (&observed, client);
  vt_client_get_status_async (client, "j", NULL, vt_async_call_ready, &call);
  vt_async_call_wait (&call);
  g_assert_cmpint (vt_client_get_status_finish (client, call.result, &error), ==,
                   VT_STATUS_COMPLETED);
  g_assert_no_error (error);
  vt_async_call_clear (&call);
  vt_observed_stop (&observed);
  vt_observed_assert_pending_then (&observed, VT_STATUS_COMPLETED);

  g_assert_cmpuint (job.times->len, >=, 2);
  g_assert_cmpuint (job.times->len, <=, 5);
  g_assert_cmpfloat (g_array_index (job.times, double, 1), >=, S (0.35));
  last = g_array_index (job.times, double, job.times->len - 1);
  before_last = g_array_index (job.times, double, job.times->len - 2);
  g_test_message ("last polls at %.3f and %.3f s", before_last, last);
  g_assert_cmpfloat (before_last, <, S (0.5));
  g_assert_cmpfloat (last, >=, S (0.5));
  g_assert_cmpfloat (last - before_last, <, S (0.2));

  g_array_unref (job.times);
  soup_server_disconnect (server);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/client/model/export-import", test_model_export_import);
  g_test_add_func ("/client/model/learned-plan", test_learned_plan);

  return g_test_run ();
}
