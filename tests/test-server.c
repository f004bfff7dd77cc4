/* test-server.c: vt-server against docs/protocol.md: capabilities, --plain, metrics, input limits, TLS, signals, options
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

#include "vt-server-test-utils.h"

static ServerArgs delay_long = { "--delay", "30", NULL };
static ServerArgs plain_short = { "--plain", "--delay", "0.3", NULL };

/* Capabilities and --plain */

static void
test_capabilities (Fixture       *f,
                   gconstpointer  data)
{
  const char *paths[] = { "/status", "/capabilities", "/nope", "/metrics" };
  g_autoptr(Response) caps = fetch (f, "GET", "/capabilities", NULL);

  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      g_autoptr(Response) r = fetch (f, "GET", paths[i], NULL);

      g_assert_cmpstr (header (r, "Vt-Capabilities"), ==, "hints, long-poll, events, feeds, conditional");
    }

  g_assert_cmpuint (caps->status, ==, SOUP_STATUS_OK);
  g_assert_cmpstr (g_bytes_get_data (caps->body, NULL), ==,
                   "{\"hints\":true,\"long_poll\":true,\"events\":true,\"feeds\":true,\"conditional\":true,\"max_wait\":60}");
}

typedef struct
{
  Fixture  *f;
  Response *last;
} StatusPoll;

static gboolean
status_ended (gpointer user_data)
{
  StatusPoll *poll = user_data;

  g_clear_pointer (&poll->last, response_free);
  poll->last = fetch (poll->f, "GET", "/status", NULL);
  return !g_str_equal (string_member (poll->last, "result"), "pending");
}

static void
test_plain (Fixture       *f,
            gconstpointer  data)
{
  const char *gone[] = { "/capabilities", "/metrics", "/events?job=x", "/feeds/x",
                         "/feeds/x/events" };
  g_autoptr(Response) status = fetch (f, "GET", "/status", NULL);
  g_autoptr(Response) waited = fetch (f, "GET", "/status?wait=30", NULL);
  g_autoptr(Response) job = create_job (f, "{\"duration\": 10}");
  g_autofree char *events_path = g_strconcat ("/jobs/", string_member (job, "id"), "/events", NULL);
  g_autoptr(Response) events = fetch (f, "GET", events_path, NULL);
  g_autoptr(Response) ended = NULL;
  StatusPoll ended_poll = { f, NULL };

  g_assert_cmpuint (status->status, ==, SOUP_STATUS_OK);
  g_assert_cmpstr (g_bytes_get_data (status->body, NULL), ==, "{\"result\":\"pending\"}");
  g_assert_null (header (status, "Vt-Capabilities"));
  g_assert_null (header (status, "Retry-After"));
  g_assert_null (header (status, "ETag"));
  /* No validator, and If-None-Match is not looked at. */
  {
    SoupMessage *msg = with_header (new_message (f, "GET", "/status"), "If-None-Match", "*");
    g_autoptr(Response) conditional = send_message (f, msg);

    g_assert_cmpuint (conditional->status, ==, SOUP_STATUS_OK);
    g_assert_null (header (conditional, "ETag"));
  }

  /* A classic server ignores ?wait: answered at once. */
  g_assert_cmpstr (g_bytes_get_data (waited->body, NULL), ==, "{\"result\":\"pending\"}");
  g_assert_cmpfloat (waited->elapsed, <, SCALED (10.0));

  assert_members (job, "id", "result", "status", "created_at", NULL);
  g_assert_null (header (job, "Retry-After"));
  g_assert_null (header (job, "Vt-Capabilities"));

  assert_json_error (events, SOUP_STATUS_NOT_FOUND, "not-found");
  g_assert_null (header (events, "Vt-Capabilities"));
  for (guint i = 0; i < G_N_ELEMENTS (gone); i++)
    {
      g_autoptr(Response) r = fetch (f, "GET", gone[i], NULL);

      assert_json_error (r, SOUP_STATUS_NOT_FOUND, "not-found");
    }

  /* The classic way to follow a job: plain polling, here on a timer,
   * with a deadline of its own. */
  await_condition (status_ended, &ended_poll, 10.0, "the plain job to end");
  ended = g_steal_pointer (&ended_poll.last);
  g_assert_cmpstr (g_bytes_get_data (ended->body, NULL), ==, "{\"result\":\"completed\"}");
}



static void
on_long_poll_answered (GObject      *source,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr(GBytes) body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, NULL);

  g_assert_nonnull (body);
  *(gboolean *) user_data = TRUE;
}

static gboolean
flag_is_set (gpointer user_data)
{
  return *(gboolean *) user_data;
}

static void
test_metrics (Fixture       *f,
              gconstpointer  data)
{
  g_autofree char *ended_id = create_job_id (f, "{\"duration\": 0}");
  g_autofree char *slow_id = create_job_id (f, "{\"duration\": 100}");
  g_autofree char *jobs_url = NULL;
  g_autofree char *poll_url = NULL;
  g_autofree char *stream_url = NULL;
  g_autoptr(SoupSession) other = soup_session_new ();
  g_autoptr(SoupMessage) poll = NULL;
  g_autoptr(SoupMessage) stream_msg = NULL;
  g_autoptr(GInputStream) stream = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  gboolean answered = FALSE;

  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(Response) r = fetch (f, "GET", "/status", NULL);
      g_autoptr(Response) missing = fetch (f, "GET", "/jobs/nope", NULL);

      g_assert_cmpuint (r->status, ==, SOUP_STATUS_OK);
      g_assert_cmpuint (missing->status, ==, SOUP_STATUS_NOT_FOUND);
    }
  assert_uuid_v4 (ended_id);

  g_assert_true (metrics_have_line (f, "vt_requests_total{route=\"/status\",code=\"200\"} 2"));
  g_assert_true (metrics_have_line (f, "vt_requests_total{route=\"/jobs/{id}\",code=\"404\"} 2"));
  g_assert_true (metrics_have_line (f, "vt_requests_total{route=\"/jobs\",code=\"201\"} 2"));
  g_assert_true (metrics_have_line (f, "vt_requests_total{route=\"/metrics\",code=\"200\"} 3"));
  g_assert_true (metrics_have_line (f, "vt_jobs{state=\"pending\"} 2"));
  g_assert_true (metrics_have_line (f, "vt_jobs{state=\"completed\"} 1"));
  g_assert_true (metrics_have_line (f, "vt_jobs{state=\"error\"} 0"));
  g_assert_true (metrics_have_line (f, "vt_open_long_polls 0"));
  g_assert_true (metrics_have_line (f, "vt_open_streams 0"));

  /* A held long-poll counts while held. */
  jobs_url = url_for (f, "/jobs/");
  poll_url = wait_path (jobs_url, slow_id, "?wait=", 0.5);
  poll = soup_message_new ("GET", poll_url);
  soup_session_send_and_read_async (other, poll, G_PRIORITY_DEFAULT, NULL,
                                    on_long_poll_answered, &answered);
  await_metrics_line (f, "vt_open_long_polls 1");
  await_metrics_line (f, "vt_open_long_polls 0");
  await_condition (flag_is_set, &answered, 10.0, "the long-poll's answer");

  /* An open stream counts until its client hangs up. */
  stream_url = g_strconcat (jobs_url, slow_id, "/events", NULL);
  stream_msg = soup_message_new ("GET", stream_url);
  stream = soup_session_send (other, stream_msg, cancellable, &error);
  g_assert_no_error (error);
  g_assert_true (metrics_have_line (f, "vt_open_streams 1"));
  g_input_stream_close (stream, NULL, NULL);
  g_clear_object (&stream);
  g_clear_object (&other);
  await_metrics_line (f, "vt_open_streams 0");
}

/* Shutdown */

static void
test_sigterm (void)
{
  const char *argv[] = { vt_test_server_get_path (), "--port", "0", NULL };
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;

  process = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (process));
  line = g_data_input_stream_read_line_utf8 (out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_regex_match_simple ("^vt-server listening on http://127\\.0\\.0\\.1:[0-9]+$",
                                       line, 0, 0));

  g_subprocess_send_signal (process, SIGTERM);
  g_subprocess_wait (process, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (process));
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 0);
}

static void
test_bad_options (void)
{
  const char *cases[][4] = {
    { "--error-rate", "2", NULL },
    { "--delay", "-1", NULL },
    { "--durations", "gaussian:1:2", NULL },
    { "--delay", "1", "--durations", "fixed:1" },
    { "--port", "70000", NULL },
    { "--seed", "x", NULL },
    { "--faults", "bogus:0.1", NULL },
    { "--faults", "status=200:0.5", NULL },
    { "--faults", "reset=500:0.1", NULL },
    { "--faults", "reset:2", NULL },
    { "--faults", "status=503:0.6", "--faults", "reset:0.6" },
    { "--rate-limit", "fast", NULL },
    { "--rate-limit", "0/s", NULL },
    { "--tls-cert", "cert.pem", NULL },
    { "--feed-ttl", "0", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const char *argv[7] = { vt_test_server_get_path (), NULL, };
      g_autoptr(GSubprocess) process = NULL;
      g_autoptr(GError) error = NULL;

      for (guint j = 0; j < 4 && cases[i][j] != NULL; j++)
        argv[j + 1] = cases[i][j];
      process = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                   G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error);
      g_assert_no_error (error);
      g_subprocess_wait (process, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 2);
    }
}


/* --tls-cert, --tls-key */

static gboolean
accept_test_certificate (SoupMessage          *msg,
                         GTlsCertificate      *certificate,
                         GTlsCertificateFlags  errors,
                         gpointer              user_data)
{
  return g_tls_certificate_is_same (certificate, user_data);
}

static void
test_tls (void)
{
  g_autofree char *cert_path = g_test_build_filename (G_TEST_DIST, "test-server-cert.pem", NULL);
  g_autofree char *key_path = g_test_build_filename (G_TEST_DIST, "test-server-key.pem", NULL);
  const char *args[] = { "--tls-cert", cert_path, "--tls-key", key_path, NULL };
  g_autoptr(VtTestServer) server = vt_test_server_startv (args);
  g_autoptr(GTlsCertificate) expected = NULL;
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree char *url = g_strconcat (vt_test_server_get_url (server), "/status", NULL);
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (g_regex_match_simple ("^https://127\\.0\\.0\\.1:[0-9]+$",
                                       vt_test_server_get_url (server), 0, 0));

  /* Self-signed: trusted here because it is the very certificate. */
  expected = g_tls_certificate_new_from_file (cert_path, &error);
  g_assert_no_error (error);
  g_signal_connect (msg, "accept-certificate", G_CALLBACK (accept_test_certificate), expected);
  body = soup_session_send_and_read (session, msg, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (soup_message_get_status (msg), ==, SOUP_STATUS_OK);
  g_assert_cmpstr (g_bytes_get_data (body, NULL), !=, "");
}

/* Input limits */

static void
test_input_limits (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *brew = raw_exchange (f, "BREW /status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  g_autofree char *escape = raw_exchange (f, "GET /status/..%2f..%2fetc HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  g_autofree char *outside = raw_exchange (f, "GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  g_autofree char *big_header = g_strdup_printf ("GET /status HTTP/1.1\r\nHost: x\r\nX-Big: %0*d\r\n"
                                                 "Connection: close\r\n\r\n", 100 * 1024, 0);
  g_autoptr(GError) reset = NULL;
  g_autofree char *too_big = raw_exchange_with_error (f, big_header, &reset);
  g_autoptr(Response) health = NULL;

  g_assert_true (g_str_has_prefix (brew, "HTTP/1.1 405 "));
  g_assert_nonnull (strstr (brew, "\r\nAllow: GET, HEAD\r\n"));
  /* An encoded ".." that would climb out is refused by libsoup... */
  g_assert_true (g_str_has_prefix (escape, "HTTP/1.1 400 "));
  g_assert_true (g_str_has_suffix (escape, "{\"error\":\"bad-request\",\"message\":\"Bad Request\"}"));
  /* ...and a literal one resolves to a path that does not exist. */
  g_assert_true (g_str_has_prefix (outside, "HTTP/1.1 404 "));
  /* Headers over libsoup's limit: the connection is reset, with no
   * response at all (server/README.md), and no harm done. Whether the
   * reset cuts the write of the 100 KiB or the read after it is the
   * kernel's business; a reset it is, not an end of file. */
  g_assert_cmpstr (too_big, ==, "");
  g_assert_nonnull (reset);
  if (!g_error_matches (reset, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED) &&
      !g_error_matches (reset, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE))
    g_error ("expected a reset, got: %s", reset->message);

  health = fetch (f, "GET", "/health", NULL);
  g_assert_cmpuint (health->status, ==, SOUP_STATUS_OK);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  add_server_test ("/server/capabilities", delay_long, test_capabilities);
  add_server_test ("/server/plain", plain_short, test_plain);
  add_server_test ("/server/metrics", delay_long, test_metrics);
  add_server_test ("/server/input-limits", delay_long, test_input_limits);
  g_test_add_func ("/server/tls", test_tls);
  g_test_add_func ("/server/sigterm", test_sigterm);
  g_test_add_func ("/server/bad-options", test_bad_options);

  return g_test_run ();
}
