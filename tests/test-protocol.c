/* test-protocol.c: the pure protocol unit and the feed bodies
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "vt-error.h"
#include "vt-job-response-private.h"
#include "vt-protocol-private.h"
#include "vt-sse-parser-private.h"

static char *
uri_string (GUri *uri)
{
  return uri != NULL ? g_uri_to_string (uri) : NULL;
}

static void
test_job_uris (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GUri) status = vt_protocol_job_uri ("http://h:5000/", NULL, &error);
  g_autoptr(GUri) job = vt_protocol_job_uri ("http://h:5000/api//", "a b/c", &error);
  g_autoptr(GUri) events = vt_protocol_job_events_uri ("https://h", "x");
  g_autoptr(GUri) long_poll = NULL;
  g_autofree char *s1 = uri_string (status);
  g_autofree char *s2 = uri_string (job);
  g_autofree char *s3 = uri_string (events);
  g_autofree char *s4 = NULL;

  g_assert_no_error (error);
  g_assert_cmpstr (s1, ==, "http://h:5000/status");
  /* The id is one path segment, whatever it holds. */
  g_assert_cmpstr (s2, ==, "http://h:5000/api/jobs/a%20b%2Fc");
  g_assert_cmpstr (s3, ==, "https://h/jobs/x/events");
  g_assert_null (vt_protocol_job_events_uri ("https://h", NULL));

  /* Capped at the protocol's 60 s; any query replaced. */
  long_poll = vt_protocol_long_poll_uri (job, 75.0);
  s4 = uri_string (long_poll);
  g_assert_cmpstr (s4, ==, "http://h:5000/api/jobs/a%20b%2Fc?wait=60.000");
}

static void
test_bad_base_urls (void)
{
  const char *bad[] = { "", "ftp://h/", "http://", "/relative", "http://h/?q=1", "http://h/#f",
                        "not a url" };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GUri) uri = vt_protocol_job_uri (bad[i], "j", &error);

      g_assert_null (uri);
      g_assert_error (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_INVALID_URL);
    }

  {
    g_autoptr(GError) error = NULL;

    g_assert_null (vt_protocol_job_uri (NULL, "j", &error));
    g_assert_error (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_INVALID_URL);
  }
  {
    g_autoptr(GError) error = NULL;

    g_assert_null (vt_protocol_job_uri ("http://h", "", &error));
    g_assert_error (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_INVALID_ARGUMENT);
  }
}

static void
test_feed_uris (void)
{
  g_autoptr(GUri) feeds = vt_protocol_feed_uri ("http://h", NULL, NULL);
  g_autoptr(GUri) jobs = vt_protocol_feed_uri ("http://h", "f/1", "/jobs");
  g_autoptr(GUri) wait = vt_protocol_feed_wait_uri ("http://h/", "f1", 42, 99.0);
  g_autofree char *s1 = uri_string (feeds);
  g_autofree char *s2 = uri_string (jobs);
  g_autofree char *s3 = uri_string (wait);

  g_assert_cmpstr (s1, ==, "http://h/feeds");
  g_assert_cmpstr (s2, ==, "http://h/feeds/f%2F1/jobs");
  g_assert_cmpstr (s3, ==, "http://h/feeds/f1?after=42&wait=60.000");
}

static void
test_capabilities (void)
{
  g_assert_cmpint (vt_protocol_parse_capabilities ("hints, long-poll, events, feeds"), ==,
                   VT_CAPABILITY_HINTS | VT_CAPABILITY_LONG_POLL | VT_CAPABILITY_EVENTS |
                   VT_CAPABILITY_FEEDS);
  g_assert_cmpint (vt_protocol_parse_capabilities (" FEEDS ,,"), ==, VT_CAPABILITY_FEEDS);
  g_assert_cmpint (vt_protocol_parse_capabilities ("hints, conditional"), ==,
                   VT_CAPABILITY_HINTS | VT_CAPABILITY_CONDITIONAL);
}

/* Vt-Eta, a 304's timing: a decimal, with the job's age as a parameter. */
static void
test_eta_header (void)
{
  const char *bad[] = {
    "", " ", "abc", "-1", ";elapsed=2", "0x10", "1e3", "inf", "nan", "1.5x", "\"1.5\"",
  };
  double eta = -2, elapsed = -2;

  g_assert_true (vt_protocol_parse_eta ("12.345;elapsed=3.210", &eta, &elapsed));
  g_assert_cmpfloat (eta, ==, 12.345);
  g_assert_cmpfloat (elapsed, ==, 3.21);
  g_assert_true (vt_protocol_parse_eta (" 0", &eta, &elapsed));
  g_assert_cmpfloat (eta, ==, 0);
  g_assert_cmpfloat (elapsed, ==, -1);
  /* Parameters it does not know, or an age that is no number, are
   * passed over. */
  g_assert_true (vt_protocol_parse_eta ("7.5;x=1;elapsed=2;y=\"z\"", &eta, &elapsed));
  g_assert_cmpfloat (eta, ==, 7.5);
  g_assert_cmpfloat (elapsed, ==, 2);
  g_assert_true (vt_protocol_parse_eta ("7.5;elapsed=-3", &eta, &elapsed));
  g_assert_cmpfloat (elapsed, ==, -1);

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      eta = elapsed = -2;
      g_test_message ("Vt-Eta: %s", bad[i]);
      g_assert_false (vt_protocol_parse_eta (bad[i], &eta, &elapsed));
      g_assert_cmpfloat (eta, ==, -2);
    }
  g_assert_false (vt_protocol_parse_eta (NULL, &eta, &elapsed));
}

/* Every status means one thing, for every kind of request. */
static void
test_classify_status (void)
{
  static const struct
  {
    guint          status;
    VtRequestKind  request;
    VtExchangeKind kind;
    int            code;   /* -1: no error */
  } cases[] = {
    { 200, VT_REQUEST_JOB, VT_EXCHANGE_OK, -1 },
    { 201, VT_REQUEST_SUBMISSION, VT_EXCHANGE_OK, -1 },
    { 204, VT_REQUEST_FEED, VT_EXCHANGE_OK, -1 },
    { 301, VT_REQUEST_JOB, VT_EXCHANGE_REDIRECT, -1 },
    { 302, VT_REQUEST_JOB, VT_EXCHANGE_REDIRECT, -1 },
    { 303, VT_REQUEST_JOB, VT_EXCHANGE_REDIRECT, -1 },
    { 307, VT_REQUEST_JOB, VT_EXCHANGE_REDIRECT, -1 },
    { 308, VT_REQUEST_JOB, VT_EXCHANGE_REDIRECT, -1 },
    { 304, VT_REQUEST_JOB, VT_EXCHANGE_FATAL, VT_CLIENT_ERROR_HTTP },
    { 400, VT_REQUEST_JOB, VT_EXCHANGE_FATAL, VT_CLIENT_ERROR_HTTP },
    { 401, VT_REQUEST_JOB, VT_EXCHANGE_FATAL, VT_CLIENT_ERROR_UNAUTHORIZED },
    { 403, VT_REQUEST_SUBMISSION, VT_EXCHANGE_FATAL, VT_CLIENT_ERROR_UNAUTHORIZED },
    { 404, VT_REQUEST_JOB, VT_EXCHANGE_FATAL, VT_CLIENT_ERROR_NOT_FOUND },
    { 404, VT_REQUEST_SUBMISSION, VT_EXCHANGE_FATAL, VT_CLIENT_ERROR_NOT_FOUND },
    { 404, VT_REQUEST_FEED, VT_EXCHANGE_FATAL, VT_CLIENT_ERROR_NOT_FOUND },
    { 405, VT_REQUEST_FEED, VT_EXCHANGE_FATAL, VT_CLIENT_ERROR_HTTP },
    { 408, VT_REQUEST_JOB, VT_EXCHANGE_TRANSIENT, VT_CLIENT_ERROR_UNREACHABLE },
    { 410, VT_REQUEST_JOB, VT_EXCHANGE_FATAL, VT_CLIENT_ERROR_NOT_FOUND },
    { 413, VT_REQUEST_SUBMISSION, VT_EXCHANGE_FATAL, VT_CLIENT_ERROR_HTTP },
    { 425, VT_REQUEST_JOB, VT_EXCHANGE_TRANSIENT, VT_CLIENT_ERROR_UNREACHABLE },
    { 429, VT_REQUEST_FEED, VT_EXCHANGE_TRANSIENT, VT_CLIENT_ERROR_UNREACHABLE },
    { 500, VT_REQUEST_JOB, VT_EXCHANGE_TRANSIENT, VT_CLIENT_ERROR_UNREACHABLE },
    { 503, VT_REQUEST_SUBMISSION, VT_EXCHANGE_TRANSIENT, VT_CLIENT_ERROR_UNREACHABLE },
    { 599, VT_REQUEST_JOB, VT_EXCHANGE_TRANSIENT, VT_CLIENT_ERROR_UNREACHABLE },
    { 600, VT_REQUEST_JOB, VT_EXCHANGE_FATAL, VT_CLIENT_ERROR_HTTP },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      VtExchangeKind kind = vt_protocol_classify_status (cases[i].status, "Reason",
                                                         cases[i].request, &error);

      g_test_message ("HTTP %u", cases[i].status);
      g_assert_cmpint (kind, ==, cases[i].kind);
      if (cases[i].code < 0)
        g_assert_no_error (error);
      else
        {
          g_assert_error (error, VT_CLIENT_ERROR, cases[i].code);
          /* The status is in the message, for the user to see. */
          g_assert_nonnull (strstr (error->message, "HTTP"));
        }
    }
}

static void
test_classify_failure (void)
{
  g_autoptr(GError) tls = g_error_new_literal (G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE, "x");
  g_autoptr(GError) ours = g_error_new_literal (VT_CLIENT_ERROR, VT_CLIENT_ERROR_PROTOCOL, "x");
  g_autoptr(GError) net = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED, "x");

  g_assert_cmpint (vt_protocol_classify_failure (tls), ==, VT_EXCHANGE_FATAL);
  g_assert_cmpint (vt_protocol_classify_failure (ours), ==, VT_EXCHANGE_PROTOCOL);
  g_assert_cmpint (vt_protocol_classify_failure (net), ==, VT_EXCHANGE_TRANSIENT);
}

static void
test_redirect_target (void)
{
  g_autoptr(GUri) request = g_uri_parse ("http://h:5000/jobs/1?wait=2", G_URI_FLAGS_ENCODED, NULL);
  static const struct
  {
    const char *location;
    const char *target;   /* NULL: refused */
  } cases[] = {
    { "/jobs/1?vt-redirected=1", "http://h:5000/jobs/1?vt-redirected=1" },
    { "2", "http://h:5000/jobs/2" },
    { "https://other/x", "https://other/x" },
    { "//h2/y", "http://h2/y" },
    { "ftp://h/x", NULL },
    { "file:///etc/passwd", NULL },
    { "http://", NULL },
    { NULL, NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GUri) target = vt_protocol_redirect_target (request, cases[i].location);
      g_autofree char *text = uri_string (target);

      g_assert_cmpstr (text, ==, cases[i].target);
    }

  g_assert_true (vt_protocol_is_redirect (307));
  g_assert_false (vt_protocol_is_redirect (304));
  g_assert_false (vt_protocol_is_redirect (300));
}

static void
test_same_origin (void)
{
  g_autoptr(GUri) a = g_uri_parse ("http://H:80/x", G_URI_FLAGS_ENCODED, NULL);
  g_autoptr(GUri) b = g_uri_parse ("http://h/y?z", G_URI_FLAGS_ENCODED, NULL);
  g_autoptr(GUri) c = g_uri_parse ("https://h/x", G_URI_FLAGS_ENCODED, NULL);
  g_autoptr(GUri) d = g_uri_parse ("http://h:8080/x", G_URI_FLAGS_ENCODED, NULL);
  g_autoptr(GUri) e = g_uri_parse ("https://h:443/x", G_URI_FLAGS_ENCODED, NULL);

  g_assert_true (vt_protocol_same_origin (a, b));
  g_assert_false (vt_protocol_same_origin (a, c));
  g_assert_false (vt_protocol_same_origin (a, d));
  g_assert_true (vt_protocol_same_origin (c, e));
}

static void
test_feed_answer (void)
{
  static const char body[] =
    "{\"next\": 17, \"reset\": true,"
    " \"jobs\": [{\"id\": \"a\", \"result\": \"pending\", \"progress\": 0.5, \"eta\": 3,"
    "             \"elapsed\": 1.25},"
    "            {\"id\": \"b\", \"result\": \"completed\"},"
    "            {\"result\": \"completed\"},"
    "            {\"id\": \"c\", \"result\": \"paused\"},"
    "            7],"
    " \"unknown\": [\"x\", 3, \"y\"], \"gone\": [\"z\"]}";
  g_auto(VtFeedAnswer) answer = { 0 };
  g_autoptr(GError) error = NULL;
  VtJobObservation *a, *b;

  g_assert_true (vt_feed_answer_parse (body, strlen (body), &answer, &error));
  g_assert_no_error (error);
  g_assert_cmpint (answer.next, ==, 17);
  g_assert_true (answer.reset);
  /* Jobs without an id or with an unknown status are left out. */
  g_assert_cmpuint (answer.jobs->len, ==, 2);
  a = &g_array_index (answer.jobs, VtJobObservation, 0);
  b = &g_array_index (answer.jobs, VtJobObservation, 1);
  g_assert_cmpstr (a->id, ==, "a");
  g_assert_cmpint (a->status, ==, VT_STATUS_PENDING);
  g_assert_cmpfloat (a->progress, ==, 0.5);
  g_assert_cmpfloat (a->eta, ==, 3.0);
  g_assert_cmpfloat (a->elapsed, ==, 1.25);
  g_assert_cmpstr (b->id, ==, "b");
  g_assert_cmpint (b->status, ==, VT_STATUS_COMPLETED);
  g_assert_cmpuint (answer.unknown->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (answer.unknown, 1), ==, "y");
  g_assert_cmpuint (answer.gone->len, ==, 1);
}

static void
test_feed_answer_errors (void)
{
  const char *bad[] = { "", "[]", "{}", "{\"jobs\": {}}", "{\"jobs\": [] } x", "{\"jobs\": [" };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_auto(VtFeedAnswer) answer = { 0 };
      g_autoptr(GError) error = NULL;

      g_assert_false (vt_feed_answer_parse (bad[i], strlen (bad[i]), &answer, &error));
      g_assert_error (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_PROTOCOL);
    }

  {
    /* No cursor, no reset: a join's answer. */
    g_auto(VtFeedAnswer) answer = { 0 };
    const char *join = "{\"jobs\": [], \"next\": -3, \"reset\": \"yes\"}";

    g_assert_true (vt_feed_answer_parse (join, strlen (join), &answer, NULL));
    g_assert_cmpint (answer.next, ==, -1);
    g_assert_false (answer.reset);
    g_assert_cmpuint (answer.unknown->len, ==, 0);
  }
}

static void
test_feed_bodies (void)
{
  const char *join[] = { "a", "b\"c" };
  const char *leave[] = { "d" };
  g_autoptr(GBytes) both = vt_feed_jobs_build (join, 2, leave, 1);
  g_autoptr(GBytes) only_leave = vt_feed_jobs_build (NULL, 0, leave, 1);
  g_autoptr(GBytes) create = vt_feed_create_build (2.0);
  g_autofree char *t1 = g_strndup (g_bytes_get_data (both, NULL), g_bytes_get_size (both));
  g_autofree char *t2 = g_strndup (g_bytes_get_data (only_leave, NULL), g_bytes_get_size (only_leave));
  g_autofree char *t3 = g_strndup (g_bytes_get_data (create, NULL), g_bytes_get_size (create));

  g_assert_cmpstr (t1, ==, "{\"join\":[\"a\",\"b\\\"c\"],\"leave\":[\"d\"]}");
  g_assert_cmpstr (t2, ==, "{\"leave\":[\"d\"]}");
  g_assert_cmpstr (t3, ==, "{\"progress_interval\":2.0}");
}

/* The last event id is the SSE standard's buffer: kept across events
 * until the next id field, and not reset by a blank line. */
static void
test_sse_last_id (void)
{
  g_auto(VtSseParser) parser;
  const char *lines[] = { "id: 5", "data: a", "", "data: b", "", "id: 6", "data: c", "", NULL };
  const char *ids[] = { "5", "5", "6" };
  guint n = 0;

  vt_sse_parser_init (&parser);
  g_assert_null (parser.last_id);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autofree char *event = NULL;
      g_autofree char *data = NULL;

      if (vt_sse_parser_feed (&parser, lines[i], &event, &data) == VT_SSE_EVENT)
        g_assert_cmpstr (parser.last_id, ==, ids[n++]);
    }
  g_assert_cmpuint (n, ==, 3);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/protocol/uri/job", test_job_uris);
  g_test_add_func ("/protocol/uri/bad-base", test_bad_base_urls);
  g_test_add_func ("/protocol/uri/feed", test_feed_uris);
  g_test_add_func ("/protocol/capabilities", test_capabilities);
  g_test_add_func ("/protocol/eta-header", test_eta_header);
  g_test_add_func ("/protocol/classify/status", test_classify_status);
  g_test_add_func ("/protocol/classify/failure", test_classify_failure);
  g_test_add_func ("/protocol/redirect", test_redirect_target);
  g_test_add_func ("/protocol/same-origin", test_same_origin);
  g_test_add_func ("/protocol/feed/answer", test_feed_answer);
  g_test_add_func ("/protocol/feed/answer-errors", test_feed_answer_errors);
  g_test_add_func ("/protocol/feed/bodies", test_feed_bodies);
  g_test_add_func ("/protocol/sse/last-id", test_sse_last_id);

  return g_test_run ();
}
