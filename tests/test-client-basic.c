/* test-client-basic.c: VtClient's properties, and jobs followed to the end
 *
 * Against the scripted in-process server (vt-test-fixture.h), each test
 * asserts the exact status sequence, the final status and the requests
 * the server answered; against the real vt-server, the same for jobs it
 * decides itself.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <glib/gstdio.h>
#include <string.h>

#include "vt-test-fixture.h"

static void
test_defaults (void)
{
  g_autoptr(VtClient) client = vt_client_new ("http://127.0.0.1:5000");
  g_autofree char *url = NULL;
  guint attempts;
  double wait, initial, factor, jitter;

  g_object_get (client,
                "base-url", &url,
                "max-attempts", &attempts,
                "max-wait-time", &wait,
                "initial-wait-time", &initial,
                "backoff-factor", &factor,
                "jitter", &jitter,
                NULL);
  g_assert_cmpstr (url, ==, "http://127.0.0.1:5000");
  g_assert_cmpuint (attempts, ==, 10);
  g_assert_cmpfloat (wait, ==, 60.0);
  g_assert_cmpfloat (initial, ==, 1.0);
  g_assert_cmpfloat (factor, ==, 2.0);
  g_assert_cmpfloat (jitter, ==, 0.5);
  g_assert_cmpuint (vt_client_get_max_attempts (client), ==, 10);
}

static void
on_notify (GObject    *object,
           GParamSpec *pspec,
           guint      *n_notify)
{
  (*n_notify)++;
}

static void
test_notify_on_change_only (void)
{
  g_autoptr(VtClient) client = vt_client_new (NULL);
  guint n_notify = 0;

  g_signal_connect (client, "notify", G_CALLBACK (on_notify), &n_notify);
  vt_client_set_jitter (client, 0.5);
  vt_client_set_base_url (client, NULL);
  g_assert_cmpuint (n_notify, ==, 0);
  vt_client_set_jitter (client, 0.25);
  vt_client_set_base_url (client, "http://localhost:1");
  vt_client_set_max_attempts (client, 3);
  g_assert_cmpuint (n_notify, ==, 3);
}

static void
test_completed (VtFixture     *f,
                gconstpointer  data)
{
  static const VtReply replies[] = {
    VT_REPLY_PENDING, VT_REPLY_PENDING, VT_REPLY_PENDING, VT_REPLY_COMPLETED, VT_REPLY_END
  };
  g_autoptr(GError) error = NULL;

  vt_fixture_script (f, "/status", replies);
  g_assert_cmpint (vt_fixture_follow (f, NULL, NULL, &error), ==, VT_STATUS_COMPLETED);
  g_assert_no_error (error);
  /* One emission per change: no repeats for the three pendings. */
  vt_fixture_assert_statuses (f, 2, VT_STATUS_PENDING, VT_STATUS_COMPLETED);
  g_assert_null (g_ptr_array_index (f->job_ids, 0));
  g_assert_cmpuint (vt_fixture_count (f, NULL), ==, 4);
}

static void
test_error (VtFixture     *f,
            gconstpointer  data)
{
  static const VtReply replies[] = { VT_REPLY_PENDING, VT_REPLY_FAILED, VT_REPLY_END };
  g_autoptr(GError) error = NULL;

  vt_fixture_script (f, "/jobs/j1", replies);
  g_assert_cmpint (vt_fixture_follow (f, "j1", NULL, &error), ==, VT_STATUS_ERROR);
  g_assert_no_error (error);
  vt_fixture_assert_statuses (f, 2, VT_STATUS_PENDING, VT_STATUS_ERROR);
  g_assert_cmpstr (g_ptr_array_index (f->job_ids, 1), ==, "j1");
  g_assert_cmpuint (vt_fixture_count (f, "/jobs/j1"), ==, 2);
}

static void
test_completed_at_once (VtFixture     *f,
                        gconstpointer  data)
{
  static const VtReply replies[] = { VT_REPLY_COMPLETED, VT_REPLY_END };
  g_autoptr(GError) error = NULL;

  vt_fixture_script (f, "/status", replies);
  g_assert_cmpint (vt_fixture_follow (f, NULL, NULL, &error), ==, VT_STATUS_COMPLETED);
  g_assert_no_error (error);
  vt_fixture_assert_statuses (f, 1, VT_STATUS_COMPLETED);
  g_assert_cmpuint (vt_fixture_count (f, NULL), ==, 1);
}

typedef struct
{
  const char  *job;
  guint       *n_done;
  GHashTable  *finals;  /* job id → status */
} MultiStart;

static void
on_multi_done (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  MultiStart *start = user_data;
  g_autoptr(GError) error = NULL;
  VtStatus status = vt_client_get_status_finish (VT_CLIENT (object), result, &error);

  g_assert_no_error (error);
  g_hash_table_insert (start->finals, g_strdup (start->job), GINT_TO_POINTER (status));
  (*start->n_done)++;
}

static guint
n_emissions_for (VtFixture  *f,
                 const char *job,
                 VtStatus   *last)
{
  guint n = 0;

  for (guint i = 0; i < f->job_ids->len; i++)
    if (g_strcmp0 (g_ptr_array_index (f->job_ids, i), job) == 0)
      {
        n++;
        *last = g_array_index (f->statuses, VtStatus, i);
      }

  return n;
}

static void
test_concurrent_jobs (VtFixture     *f,
                      gconstpointer  data)
{
  static const VtReply a[] = { VT_REPLY_PENDING, VT_REPLY_COMPLETED, VT_REPLY_END };
  static const VtReply b[] = {
    VT_REPLY_PENDING, VT_REPLY_PENDING, VT_REPLY_PENDING, VT_REPLY_FAILED, VT_REPLY_END
  };
  static const VtReply c[] = { VT_REPLY_COMPLETED, VT_REPLY_END };
  g_autoptr(GHashTable) finals = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  guint n_done = 0;
  MultiStart starts[] = { { "a", &n_done, finals }, { "b", &n_done, finals },
                          { "c", &n_done, finals } };
  VtStatus last;

  vt_fixture_script (f, "/jobs/a", a);
  vt_fixture_script (f, "/jobs/b", b);
  vt_fixture_script (f, "/jobs/c", c);
  for (guint i = 0; i < G_N_ELEMENTS (starts); i++)
    vt_client_get_status_async (f->client, starts[i].job, NULL, on_multi_done, &starts[i]);
  while (n_done < 3)
    vt_test_iterate (TRUE);

  g_assert_cmpint (GPOINTER_TO_INT (g_hash_table_lookup (finals, "a")), ==, VT_STATUS_COMPLETED);
  g_assert_cmpint (GPOINTER_TO_INT (g_hash_table_lookup (finals, "b")), ==, VT_STATUS_ERROR);
  g_assert_cmpint (GPOINTER_TO_INT (g_hash_table_lookup (finals, "c")), ==, VT_STATUS_COMPLETED);
  g_assert_cmpuint (n_emissions_for (f, "a", &last), ==, 2);
  g_assert_cmpint (last, ==, VT_STATUS_COMPLETED);
  g_assert_cmpuint (n_emissions_for (f, "b", &last), ==, 2);
  g_assert_cmpint (last, ==, VT_STATUS_ERROR);
  g_assert_cmpuint (n_emissions_for (f, "c", &last), ==, 1);
  g_assert_cmpuint (vt_fixture_count (f, "/jobs/a"), ==, 2);
  g_assert_cmpuint (vt_fixture_count (f, "/jobs/b"), ==, 4);
  g_assert_cmpuint (vt_fixture_count (f, "/jobs/c"), ==, 1);
}

static void
test_job_id_escaped (VtFixture     *f,
                     gconstpointer  data)
{
  static const VtReply replies[] = { VT_REPLY_COMPLETED, VT_REPLY_END };
  g_autoptr(GError) error = NULL;
  const VtLoggedRequest *request;

  /* libsoup hands handlers the decoded path. */
  vt_fixture_script (f, "/jobs/a/b c?d", replies);
  g_assert_cmpint (vt_fixture_follow (f, "a/b c?d", NULL, &error), ==, VT_STATUS_COMPLETED);
  g_assert_no_error (error);
  /* The id arrived whole: its "?" did not start a query string. */
  g_assert_cmpuint (vt_fixture_count (f, NULL), ==, 1);
  request = vt_scripted_server_get_request (f->server, NULL, 0);
  g_assert_cmpstr (request->path, ==, "/jobs/a/b c?d");
  g_assert_null (request->query);
}

static void
test_token_sent (VtFixture     *f,
                 gconstpointer  data)
{
  static const VtReply replies[] = { VT_REPLY_PENDING, VT_REPLY_COMPLETED, VT_REPLY_END };
  g_autoptr(GError) error = NULL;

  vt_fixture_script (f, "/status", replies);
  g_object_set (f->client, "token", "s3cret", NULL);
  g_assert_cmpint (vt_fixture_follow (f, NULL, NULL, &error), ==, VT_STATUS_COMPLETED);
  g_assert_no_error (error);
  /* On every request, not only the first. */
  g_assert_cmpuint (vt_fixture_count (f, NULL), ==, 2);
  for (guint i = 0; i < 2; i++)
    {
      const VtLoggedRequest *request = vt_scripted_server_get_request (f->server, NULL, i);

      g_assert_cmpstr (soup_message_headers_get_one (request->headers, "Authorization"), ==,
                       "Bearer s3cret");
    }
}

/* Collects every vtclient log message, debug included. */
static GLogWriterOutput
collect_log (GLogLevelFlags   level,
             const GLogField *fields,
             gsize            n_fields,
             gpointer         user_data)
{
  GString *collected = user_data;

  for (gsize i = 0; i < n_fields; i++)
    if (g_strcmp0 (fields[i].key, "MESSAGE") == 0)
      {
        g_string_append (collected, fields[i].value);
        g_string_append_c (collected, '\n');
      }

  return G_LOG_WRITER_HANDLED;
}

/* The token goes on the wire, never into the log, debug output included. */
static void
test_token_not_logged (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(VtClient) client = vt_client_new ("http://127.0.0.1:9");
      g_autoptr(GString) collected = g_string_new (NULL);
      g_autoptr(GError) error = NULL;

      g_log_set_writer_func (collect_log, collected, NULL);
      g_object_set (client, "token", "s3cret-token", "max-attempts", 3,
                    "initial-wait-time", 0.001, NULL);
      vt_client_get_status (client, "job", NULL, &error);
      g_assert_error (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_UNREACHABLE);
      /* Something was logged, and none of it was the token. */
      g_assert_nonnull (strstr (collected->str, "request 3"));
      g_assert_null (strstr (collected->str, "s3cret-token"));
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

/* ------------------------------------------------------------------ */
/* Against the real vt-server                                          */

static void
test_vt_server_error_rate (void)
{
  g_autoptr(VtTestServer) server = vt_test_server_start_delay (0, "--error-rate", "1", NULL);
  g_autoptr(VtClient) client = vt_client_new (vt_test_server_get_url (server));
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (vt_client_get_status (client, NULL, NULL, &error), ==, VT_STATUS_ERROR);
  g_assert_no_error (error);
}

static void
test_vt_server_submit_and_follow (void)
{
  g_autoptr(VtTestServer) server = vt_test_server_start_delay (0.2, NULL);
  g_autoptr(VtClient) client = vt_client_new (vt_test_server_get_url (server));
  g_autoptr(GError) error = NULL;
  g_autofree char *id = vt_test_submit (client);
  VtObserved observed;

  g_assert_true (g_uuid_string_is_valid (id));
  /* The default strategy, on a fast schedule. */
  g_object_set (client, "initial-wait-time", S (0.05), "jitter", S (0.01), NULL);
  vt_test_follow_completed (client, id, &observed);
  vt_observed_assert_pending_then (&observed, VT_STATUS_COMPLETED);

  /* An id the server never issued. */
  g_assert_cmpint (vt_client_get_status (client, "00000000-0000-4000-8000-000000000000",
                                         NULL, &error), ==, VT_STATUS_TIMEOUT);
  g_assert_error (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_NOT_FOUND);
}

typedef struct
{
  VtTestServer *server;
  char         *state;
  gboolean      restarted;
} Restart;

/* On the first "pending": stop the server and start another on the same
 * port and state file, while the watch waits. */
static void
restart_on_pending (VtClient   *client,
                    const char *job_id,
                    VtStatus    status,
                    Restart    *restart)
{
  g_autoptr(GUri) uri = NULL;
  g_autofree char *port = NULL;

  if (status != VT_STATUS_PENDING || restart->restarted)
    return;

  uri = g_uri_parse (vt_test_server_get_url (restart->server), G_URI_FLAGS_NONE, NULL);
  port = g_strdup_printf ("%d", g_uri_get_port (uri));
  vt_test_server_stop (restart->server);
  /* The later --port wins over the helper's --port 0. */
  restart->server = vt_test_server_start ("--state", restart->state, "--port", port, NULL);
  restart->restarted = TRUE;
}

static void
test_follow_across_restart (void)
{
  g_autofree char *dir = g_dir_make_tmp ("vt-restart-XXXXXX", NULL);
  g_autofree char *state = g_build_filename (dir, "jobs.json", NULL);
  Restart restart = { vt_test_server_start_delay (0.5, "--state", state, NULL), state, FALSE };
  g_autoptr(VtClient) client = vt_test_fast_client (restart.server, VT_STRATEGY_POLL);
  g_autofree char *id = vt_test_submit (client);
  VtObserved observed;

  g_object_set (client, "initial-wait-time", S (0.1), NULL);
  g_signal_connect (client, "status-changed", G_CALLBACK (restart_on_pending), &restart);
  vt_test_follow_completed (client, id, &observed);
  g_assert_true (restart.restarted);
  /* The job, and its outcome, outlived the server that created it: the
   * new server answered the rest. */
  vt_observed_assert_pending_then (&observed, VT_STATUS_COMPLETED);
  g_assert_cmpuint (vt_test_server_requests (restart.server, "/jobs/{id}", 1), >=, 1);

  vt_test_server_stop (restart.server);
  g_unlink (state);
  g_rmdir (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/client/defaults", test_defaults);
  g_test_add_func ("/client/notify", test_notify_on_change_only);
  VT_FIXTURE_ADD ("/client/completed", test_completed);
  VT_FIXTURE_ADD ("/client/completed-at-once", test_completed_at_once);
  VT_FIXTURE_ADD ("/client/error", test_error);
  VT_FIXTURE_ADD ("/client/concurrent-jobs", test_concurrent_jobs);
  VT_FIXTURE_ADD ("/client/job-id-escaped", test_job_id_escaped);
  VT_FIXTURE_ADD ("/client/token", test_token_sent);
  g_test_add_func ("/client/token/not-logged", test_token_not_logged);
  g_test_add_func ("/client/vt-server/error-rate", test_vt_server_error_rate);
  g_test_add_func ("/client/vt-server/submit-and-follow", test_vt_server_submit_and_follow);
  g_test_add_func ("/client/vt-server/across-restart", test_follow_across_restart);

  return g_test_run ();
}
