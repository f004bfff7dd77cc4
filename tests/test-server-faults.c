/* test-server-faults.c: vt-server against docs/protocol.md: --faults
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

#include "vt-server-test-utils.h"

/* Faults (--faults) */

static ServerArgs fault_status = { "--faults", "status=503:1", "--seed", "1", NULL };
static ServerArgs fault_retry_after = { "--faults", "retry-after=429:1", NULL };
static ServerArgs fault_reset = { "--faults", "reset:1", NULL };
static ServerArgs fault_hang = { "--faults", "hang:1", NULL };
static ServerArgs fault_garbage = { "--faults", "garbage:1", NULL };
static ServerArgs fault_slow_body = { "--faults", "slow-body:1", NULL };
static ServerArgs fault_huge = { "--faults", "huge:1", NULL };
static ServerArgs fault_no_status = { "--faults", "no-status:1", NULL };
static ServerArgs fault_redirect = { "--faults", "redirect:1", NULL };
static ServerArgs fault_redirect_loop = { "--faults", "redirect-loop:1", NULL };
static ServerArgs fault_coin = { "--faults", "status=503:0.5", "--seed", "9", NULL };

/* The health check and the metrics always see the server as it is. */
static void
assert_exempt_from_faults (Fixture *f)
{
  g_autoptr(Response) health = fetch (f, "GET", "/health", NULL);
  g_autoptr(Response) metrics = fetch (f, "GET", "/metrics", NULL);

  g_assert_cmpuint (health->status, ==, SOUP_STATUS_OK);
  g_assert_cmpstr (g_bytes_get_data (health->body, NULL), ==, "{\"ok\":true}");
  g_assert_cmpuint (metrics->status, ==, SOUP_STATUS_OK);
}

static void
test_fault_status (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(Response) first = fetch (f, "GET", "/status", NULL);
  g_autoptr(Response) second = fetch (f, "POST", "/jobs", NULL);

  assert_json_error (first, SOUP_STATUS_SERVICE_UNAVAILABLE, "injected-fault");
  g_assert_cmpstr (header (first, "Retry-After"), ==, "1");
  assert_json_error (second, SOUP_STATUS_SERVICE_UNAVAILABLE, "injected-fault");
  g_assert_null (header (second, "Retry-After"));
  assert_exempt_from_faults (f);
}

static void
test_fault_retry_after (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(Response) seconds = fetch (f, "GET", "/status", NULL);
  g_autoptr(Response) date = fetch (f, "GET", "/status", NULL);
  g_autoptr(GDateTime) when = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();

  assert_json_error (seconds, 429, "injected-fault");
  g_assert_cmpstr (header (seconds, "Retry-After"), ==, "1");

  assert_json_error (date, 429, "injected-fault");
  when = soup_date_time_new_from_http_string (header (date, "Retry-After"));
  g_assert_nonnull (when);
  g_assert_cmpint (g_date_time_difference (when, now), >, 0);
  g_assert_cmpint (g_date_time_difference (when, now), <=, 3 * G_TIME_SPAN_SECOND);
}



#define GET_STATUS "GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"

static void
test_fault_reset (Fixture       *f,
                  gconstpointer  data)
{
  g_autofree char *before = raw_exchange (f, GET_STATUS);
  g_autofree char *text = raw_exchange (f, GET_STATUS);
  g_autoptr(GMatchInfo) match = NULL;
  g_autoptr(GRegex) regex = g_regex_new ("^HTTP/1\\.1 200 OK\r\n.*Content-Length: ([0-9]+)\r\n.*?\r\n\r\n(.*)$",
                                         G_REGEX_DOTALL, 0, NULL);
  g_autofree char *length = NULL;
  g_autofree char *body = NULL;

  /* First the connection closes before a byte of the response... */
  g_assert_cmpstr (before, ==, "");

  /* ...then in the middle of the body its head announced. */
  g_assert_true (g_regex_match (regex, text, 0, &match));
  length = g_match_info_fetch (match, 1);
  body = g_match_info_fetch (match, 2);
  g_assert_cmpuint (strlen (body), >, 0);
  g_assert_cmpuint (strlen (body), <, g_ascii_strtoull (length, NULL, 10));
  g_assert_true (g_str_has_prefix (body, "{\"result\""));

  assert_exempt_from_faults (f);
}

static void
test_fault_hang (Fixture       *f,
                 gconstpointer  data)
{
  g_autofree char *url = url_for (f, "/status");
  g_autoptr(SoupSession) impatient = soup_session_new_with_options ("timeout", 1, NULL);
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketClient) client = g_socket_client_new ();

  body = soup_session_send_and_read (impatient, msg, NULL, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_clear_error (&error);
  assert_exempt_from_faults (f);

  /* One more hung request, still open when the server is stopped: it must
   * exit cleanly all the same (the teardown asserts it). */
  f->kept = G_IO_STREAM (g_socket_client_connect_to_uri (client, vt_test_server_get_url (f->server),
                                                         0, NULL, &error));
  g_assert_no_error (error);
  g_output_stream_write_all (g_io_stream_get_output_stream (f->kept),
                             GET_STATUS, strlen (GET_STATUS), NULL, NULL, &error);
  g_assert_no_error (error);
}

static void
test_fault_garbage (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(Response) truncated = fetch (f, "GET", "/status", NULL);
  g_autoptr(Response) html = fetch (f, "GET", "/status", NULL);

  g_assert_cmpuint (truncated->status, ==, SOUP_STATUS_OK);
  g_assert_cmpstr (header (truncated, "Content-Type"), ==, "application/json");
  g_assert_null (truncated->json);
  g_assert_cmpuint (g_bytes_get_size (truncated->body), >, 0);

  g_assert_cmpuint (html->status, ==, SOUP_STATUS_OK);
  g_assert_cmpstr (header (html, "Content-Type"), ==, "text/html");
  g_assert_null (html->json);
}

static void
test_fault_slow_body (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(Response) r = fetch (f, "GET", "/status", NULL);

  /* Five pieces, 200 ms apart: the whole, valid body, late. */
  g_assert_cmpuint (r->status, ==, SOUP_STATUS_OK);
  g_assert_cmpstr (string_member (r, "result"), ==, "pending");
  g_assert_cmpfloat (r->elapsed, >=, 0.8);
  assert_exempt_from_faults (f);
}

static void
test_fault_huge (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(Response) r = fetch (f, "GET", "/status", NULL);

  g_assert_cmpuint (r->status, ==, SOUP_STATUS_OK);
  g_assert_cmpuint (g_bytes_get_size (r->body), >=, 10 * 1024 * 1024);
  g_assert_cmpstr (string_member (r, "result"), ==, "pending");
}

static void
test_fault_no_status (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(Response) missing = create_job (f, NULL);
  g_autofree char *path = g_strconcat ("/jobs/", string_member (missing, "id"), NULL);
  g_autoptr(Response) unknown = fetch (f, "GET", path, NULL);

  g_assert_false (json_object_has_member (object (missing), "status"));
  g_assert_false (json_object_has_member (object (missing), "result"));
  g_assert_cmpstr (string_member (unknown, "status"), ==, "paused");
  g_assert_cmpstr (string_member (unknown, "result"), ==, "paused");
}

static void
test_fault_redirect (Fixture       *f,
                     gconstpointer  data)
{
  g_autofree char *url = url_for (f, "/status?wait=0");
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);
  g_autoptr(GBytes) body = NULL;
  g_autoptr(Response) followed = NULL;
  g_autoptr(GError) error = NULL;

  soup_message_add_flags (msg, SOUP_MESSAGE_NO_REDIRECT);
  body = soup_session_send_and_read (f->session, msg, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (soup_message_get_status (msg), ==, SOUP_STATUS_TEMPORARY_REDIRECT);
  g_assert_cmpstr (soup_message_headers_get_one (soup_message_get_response_headers (msg), "Location"),
                   ==, "/status?wait=0&vt-redirected=1");

  /* Followed, it leads to the resource: one redirect, not two. */
  followed = fetch (f, "GET", "/status", NULL);
  g_assert_cmpuint (followed->status, ==, SOUP_STATUS_OK);
  g_assert_cmpstr (string_member (followed, "result"), ==, "pending");
  g_assert_true (g_str_has_suffix (g_uri_get_query (soup_message_get_uri (followed->msg)),
                                   "vt-redirected=1"));
}

static void
test_fault_redirect_loop (Fixture       *f,
                          gconstpointer  data)
{
  g_autofree char *url = url_for (f, "/status");
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;

  body = soup_session_send_and_read (f->session, msg, NULL, &error);
  g_assert_error (error, SOUP_SESSION_ERROR, SOUP_SESSION_ERROR_TOO_MANY_REDIRECTS);
  assert_exempt_from_faults (f);
}

/* The status codes of @n requests, one character each. */
static char *
fault_sequence (Fixture *f,
                guint    n)
{
  GString *codes = g_string_new (NULL);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(Response) r = fetch (f, "GET", "/status", NULL);

      g_string_append_c (codes, r->status == SOUP_STATUS_OK ? '.' : 'X');
    }

  return g_string_free (codes, FALSE);
}

static void
test_fault_reproducible (Fixture       *f,
                         gconstpointer  data)
{
  g_autofree char *codes = assert_reproducible (f, fault_coin, fault_sequence, 24);

  g_assert_nonnull (strchr (codes, '.'));
  g_assert_nonnull (strchr (codes, 'X'));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  add_server_test ("/server/faults/status", fault_status, test_fault_status);
  add_server_test ("/server/faults/retry-after", fault_retry_after, test_fault_retry_after);
  add_server_test ("/server/faults/reset", fault_reset, test_fault_reset);
  add_server_test ("/server/faults/hang", fault_hang, test_fault_hang);
  add_server_test ("/server/faults/garbage", fault_garbage, test_fault_garbage);
  add_server_test ("/server/faults/slow-body", fault_slow_body, test_fault_slow_body);
  add_server_test ("/server/faults/huge", fault_huge, test_fault_huge);
  add_server_test ("/server/faults/no-status", fault_no_status, test_fault_no_status);
  add_server_test ("/server/faults/redirect", fault_redirect, test_fault_redirect);
  add_server_test ("/server/faults/redirect-loop", fault_redirect_loop, test_fault_redirect_loop);
  add_server_test ("/server/faults/reproducible", fault_coin, test_fault_reproducible);

  return g_test_run ();
}
