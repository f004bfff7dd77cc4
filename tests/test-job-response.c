/* test-job-response.c: response bodies and headers to observations
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "vt-channel-http-private.h"
#include "vt-error.h"
#include "vt-job-response-private.h"
#include "vt-sse-parser-private.h"

static gboolean
parse (const char        *body,
       VtJobObservation  *observation,
       GError           **error)
{
  return vt_job_response_parse (body, strlen (body), observation, error);
}

static void
test_statuses (void)
{
  const struct { const char *body; VtStatus status; } cases[] = {
    { "{\"result\": \"pending\"}", VT_STATUS_PENDING },
    { "{\"result\": \"completed\"}", VT_STATUS_COMPLETED },
    { "{\"result\": \"error\"}", VT_STATUS_ERROR },
    /* Peers of the classic API call the field "status". */
    { "{\"status\": \"completed\"}", VT_STATUS_COMPLETED },
    /* "result" wins when both are there. */
    { "{\"status\": \"pending\", \"result\": \"error\"}", VT_STATUS_ERROR },
    /* A non-string "result" does not hide a good "status". */
    { "{\"result\": 3, \"status\": \"pending\"}", VT_STATUS_PENDING },
    { " \n{\"result\":\"pending\",\"extra\":[1,{\"a\":null}]}\n", VT_STATUS_PENDING },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto(VtJobObservation) observation = { 0 };
      g_autoptr(GError) error = NULL;

      g_assert_true (parse (cases[i].body, &observation, &error));
      g_assert_no_error (error);
      g_assert_cmpint (observation.status, ==, cases[i].status);
      g_assert_cmpfloat (observation.progress, <, 0);
      g_assert_cmpfloat (observation.eta, <, 0);
      g_assert_cmpfloat (observation.elapsed, <, 0);
      g_assert_null (observation.id);
    }
}

static void
test_hints_and_id (void)
{
  g_auto(VtJobObservation) observation = { 0 };
  g_autoptr(GError) error = NULL;

  g_assert_true (parse ("{\"id\": \"abc\", \"result\": \"pending\", "
                        "\"progress\": 0.25, \"eta\": 12, \"elapsed\": 4.125}",
                        &observation, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (observation.id, ==, "abc");
  g_assert_cmpfloat_with_epsilon (observation.progress, 0.25, 1e-12);
  g_assert_cmpfloat_with_epsilon (observation.eta, 12.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (observation.elapsed, 4.125, 1e-12);

  /* Bad hints are dropped, not fatal. */
  g_assert_true (parse ("{\"result\": \"pending\", \"progress\": 7, \"eta\": -3, "
                        "\"elapsed\": \"long\"}", &observation, &error));
  g_assert_no_error (error);
  g_assert_cmpfloat (observation.progress, <, 0);
  g_assert_cmpfloat (observation.eta, <, 0);
  g_assert_cmpfloat (observation.elapsed, <, 0);
  g_assert_null (observation.id);

  g_assert_true (parse ("{\"result\": \"pending\", \"progress\": \"half\", \"eta\": 1e300}",
                        &observation, &error));
  g_assert_no_error (error);
  g_assert_cmpfloat (observation.progress, <, 0);
  g_assert_cmpfloat (observation.eta, <, 0);
}

static void
test_protocol_errors (void)
{
  const char *bodies[] = {
    "",
    "not json",
    "{\"result\": \"pending\"",
    "[\"pending\"]",
    "\"pending\"",
    "null",
    "{}",
    "{\"result\": null}",
    "{\"result\": 1}",
    "{\"result\": \"PENDING\"}",
    "{\"result\": \"timeout\"}",
    "{\"result\": \"running\"}",
    "{\"status\": \"done\"}",
    "{\"result\": \"pending\"}{\"result\": \"completed\"}",
    "\xff\xfe{\"result\": \"pending\"}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bodies); i++)
    {
      g_auto(VtJobObservation) observation = { 0 };
      g_autoptr(GError) error = NULL;
      g_autofree char *printable = g_strescape (bodies[i], NULL);

      g_test_message ("body: %s", printable);
      g_assert_false (parse (bodies[i], &observation, &error));
      g_assert_error (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_PROTOCOL);
    }
}

static void
test_embedded_nul (void)
{
  static const char body[] = "{\"result\": \"pending\"}\0garbage";
  g_auto(VtJobObservation) observation = { 0 };
  g_autoptr(GError) error = NULL;

  g_assert_false (vt_job_response_parse (body, sizeof body - 1, &observation, &error));
  g_assert_error (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_PROTOCOL);
}

static void
test_limits (void)
{
  g_auto(VtJobObservation) observation = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) deep = g_string_new ("{\"result\": \"pending\", \"x\": ");
  g_autofree char *big = NULL;

  /* Deep nesting is refused before json-glib recurses into it. */
  for (guint i = 0; i < 100000; i++)
    g_string_append_c (deep, '[');
  g_assert_false (vt_job_response_parse (deep->str, MIN (deep->len, VT_JOB_RESPONSE_MAX_SIZE),
                                         &observation, &error));
  g_assert_error (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_PROTOCOL);
  g_clear_error (&error);

  /* Brackets inside strings are not nesting. */
  g_string_assign (deep, "{\"result\": \"pending\", \"x\": \"");
  for (guint i = 0; i < 1000; i++)
    g_string_append (deep, "[{");
  g_string_append (deep, "\\\"\"}");
  g_assert_true (vt_job_response_parse (deep->str, deep->len, &observation, &error));
  g_assert_no_error (error);

  big = g_malloc0 (VT_JOB_RESPONSE_MAX_SIZE + 2);
  memset (big, ' ', VT_JOB_RESPONSE_MAX_SIZE + 1);
  memcpy (big, "{\"result\": \"pending\"}", 21);
  g_assert_false (vt_job_response_parse (big, VT_JOB_RESPONSE_MAX_SIZE + 1, &observation, &error));
  g_assert_error (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_PROTOCOL);
  g_clear_error (&error);
  g_assert_true (vt_job_response_parse (big, VT_JOB_RESPONSE_MAX_SIZE, &observation, &error));
  g_assert_no_error (error);
}

static void
test_created_id (void)
{
  const char *good = "{\"id\": \"0b8e5c4e\", \"result\": \"pending\"}";
  const char *bad[] = { "{\"result\": \"pending\"}", "{\"id\": \"\"}", "{\"id\": 3}", "[]" };
  g_autofree char *id = NULL;
  g_autoptr(GError) error = NULL;

  id = vt_job_response_parse_id (good, strlen (good), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (id, ==, "0b8e5c4e");

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_assert_null (vt_job_response_parse_id (bad[i], strlen (bad[i]), &error));
      g_assert_error (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_PROTOCOL);
      g_clear_error (&error);
    }
}

static void
test_job_request (void)
{
  g_autoptr(GBytes) body = vt_job_request_build ("https://example.com/a \"b\".mp4", "fr");
  g_autofree char *text = g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));

  g_assert_cmpstr (text, ==,
                   "{\"source_url\":\"https://example.com/a \\\"b\\\".mp4\","
                   "\"target_language\":\"fr\"}");
}

static void
test_retry_after (void)
{
  g_autoptr(GDateTime) now = g_date_time_new_utc (2026, 11, 25, 4, 0, 0);

  g_assert_cmpfloat (vt_protocol_parse_retry_after (NULL, now), <, 0);
  g_assert_cmpfloat (vt_protocol_parse_retry_after ("", now), <, 0);
  g_assert_cmpfloat (vt_protocol_parse_retry_after ("soon", now), <, 0);
  g_assert_cmpfloat (vt_protocol_parse_retry_after ("5x", now), <, 0);
  g_assert_cmpfloat (vt_protocol_parse_retry_after ("-5", now), <, 0);
  g_assert_cmpfloat (vt_protocol_parse_retry_after ("99999999999999999999", now), <, 0);
  g_assert_cmpfloat_with_epsilon (vt_protocol_parse_retry_after ("0", now), 0.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (vt_protocol_parse_retry_after (" 7 ", now), 7.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (vt_protocol_parse_retry_after ("Wed, 25 Nov 2026 04:00:30 GMT", now),
                                  30.0, 1e-9);
  /* A date in the past means "now". */
  g_assert_cmpfloat_with_epsilon (vt_protocol_parse_retry_after ("Wed, 25 Nov 2026 03:00:00 GMT", now),
                                  0.0, 1e-9);
}

static void
test_capabilities (void)
{
  g_assert_cmpint (vt_protocol_parse_capabilities (NULL), ==, VT_CAPABILITY_NONE);
  g_assert_cmpint (vt_protocol_parse_capabilities (""), ==, VT_CAPABILITY_NONE);
  g_assert_cmpint (vt_protocol_parse_capabilities ("hints, long-poll, events"), ==,
                   VT_CAPABILITY_HINTS | VT_CAPABILITY_LONG_POLL | VT_CAPABILITY_EVENTS);
  g_assert_cmpint (vt_protocol_parse_capabilities ("Events,teleport"), ==, VT_CAPABILITY_EVENTS);
}

static void
test_sse_parser (void)
{
  g_auto(VtSseParser) parser;
  const char *lines[] = {
    ": a comment",
    "event: status",
    "data: {\"result\":",
    "data:  \"pending\"}\r",
    "id: 7",
    "",
    "",
    "data",
    "",
    "retry: 10",
    "data:x",
    NULL,
  };
  guint n_events = 0;

  vt_sse_parser_init (&parser);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autofree char *event = NULL;
      g_autofree char *data = NULL;

      if (vt_sse_parser_feed (&parser, lines[i], &event, &data) != VT_SSE_EVENT)
        continue;

      n_events++;
      if (n_events == 1)
        {
          g_assert_cmpstr (event, ==, "status");
          /* One space after the colon is dropped, the next is data. */
          g_assert_cmpstr (data, ==, "{\"result\":\n \"pending\"}");
        }
      else
        {
          /* A field with no colon has an empty value; no event type set. */
          g_assert_cmpstr (event, ==, "message");
          g_assert_cmpstr (data, ==, "");
        }
    }

  /* The trailing "data:x" was never dispatched. */
  g_assert_cmpuint (n_events, ==, 2);
}

static void
test_sse_parser_limit (void)
{
  g_auto(VtSseParser) parser;
  g_autofree char *chunk = g_strnfill (1000, 'a');
  g_autofree char *line = g_strconcat ("data: ", chunk, NULL);
  VtSseResult result = VT_SSE_NEED_MORE;
  char *event = NULL, *data = NULL;
  guint i;

  vt_sse_parser_init (&parser);
  for (i = 0; i < 100 && result == VT_SSE_NEED_MORE; i++)
    result = vt_sse_parser_feed (&parser, line, &event, &data);

  g_assert_cmpint (result, ==, VT_SSE_TOO_LARGE);
  g_assert_cmpuint (i, ==, VT_SSE_MAX_EVENT_SIZE / 1001 + 1);
  g_assert_null (event);
  g_assert_null (data);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/job-response/statuses", test_statuses);
  g_test_add_func ("/job-response/hints-and-id", test_hints_and_id);
  g_test_add_func ("/job-response/protocol-errors", test_protocol_errors);
  g_test_add_func ("/job-response/embedded-nul", test_embedded_nul);
  g_test_add_func ("/job-response/limits", test_limits);
  g_test_add_func ("/job-response/created-id", test_created_id);
  g_test_add_func ("/job-request/build", test_job_request);
  g_test_add_func ("/headers/retry-after", test_retry_after);
  g_test_add_func ("/headers/capabilities", test_capabilities);
  g_test_add_func ("/sse/parser", test_sse_parser);
  g_test_add_func ("/sse/limit", test_sse_parser_limit);

  return g_test_run ();
}
