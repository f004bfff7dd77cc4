/* test-server-jobs.c: vt-server against docs/protocol.md: the classic API, jobs and their hints
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

#include "vt-server-test-utils.h"

static ServerArgs delay_long = { "--delay", "30", NULL };
static ServerArgs delay_short = { "--delay", "0.3", NULL };

/* The classic API */


static void
test_status_classic (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(Response) pending = fetch (f, "GET", "/status", NULL);
  g_autoptr(Response) ended = NULL;
  g_autoptr(Response) again = NULL;

  g_assert_cmpuint (pending->status, ==, SOUP_STATUS_OK);
  g_assert_cmpstr (header (pending, "Content-Type"), ==, "application/json");
  g_assert_cmpstr (string_member (pending, "result"), ==, "pending");
  assert_members (pending, "result", "progress", "eta", "elapsed", NULL);

  /* The server's own long-poll awaits the end: no sleeping. */
  ended = fetch (f, "GET", "/status?wait=10", NULL);
  g_assert_cmpuint (ended->status, ==, SOUP_STATUS_OK);
  g_assert_cmpstr (g_bytes_get_data (ended->body, NULL), ==, "{\"result\":\"completed\"}");
  g_assert_null (header (ended, "Retry-After"));
  g_assert_cmpfloat (ended->elapsed, <, SCALED (5.0));

  again = fetch (f, "GET", "/status", NULL);
  g_assert_cmpstr (string_member (again, "result"), ==, "completed");
}

static void
test_status_by_id (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *id = create_job_id (f, "{\"duration\": 0, \"outcome\": \"error\"}");
  g_autofree char *path = g_strconcat ("/status/", id, NULL);
  g_autofree char *query = g_strconcat ("/status?job_id=", id, NULL);
  g_autoptr(Response) by_path = fetch (f, "GET", path, NULL);
  g_autoptr(Response) by_query = fetch (f, "GET", query, NULL);
  g_autoptr(Response) default_job = fetch (f, "GET", "/status", NULL);
  g_autoptr(Response) unknown_path = fetch (f, "GET", "/status/0b8e5c4e-0000-4000-8000-000000000000", NULL);
  g_autoptr(Response) unknown_query = fetch (f, "GET", "/status?job_id=nope", NULL);

  g_assert_cmpuint (by_path->status, ==, SOUP_STATUS_OK);
  g_assert_cmpstr (g_bytes_get_data (by_path->body, NULL), ==, "{\"result\":\"error\"}");
  g_assert_cmpuint (by_query->status, ==, SOUP_STATUS_OK);
  g_assert_cmpstr (g_bytes_get_data (by_query->body, NULL), ==, "{\"result\":\"error\"}");
  /* The default job is another one, still running. */
  g_assert_cmpstr (string_member (default_job, "result"), ==, "pending");
  assert_json_error (unknown_path, SOUP_STATUS_NOT_FOUND, "not-found");
  assert_json_error (unknown_query, SOUP_STATUS_NOT_FOUND, "not-found");
}

/* Jobs */

static void
test_jobs_create (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(Response) created = create_job (f, "{\"source_url\": \"https://example.com/v.mp4\","
                                               " \"target_language\": \"fr\", \"duration\": 20}");
  g_autofree char *path = g_strconcat ("/jobs/", string_member (created, "id"), NULL);
  g_autoptr(Response) got = fetch (f, "GET", path, NULL);
  Response *responses[] = { created, got };

  for (guint i = 0; i < G_N_ELEMENTS (responses); i++)
    {
      Response *r = responses[i];
      double progress = json_object_get_double_member (object (r), "progress");
      double eta = json_object_get_double_member (object (r), "eta");

      g_assert_cmpstr (header (r, "Content-Type"), ==, "application/json");
      assert_members (r, "id", "result", "status", "created_at", "source_url",
                      "target_language", "progress", "eta", "elapsed", NULL);
      assert_uuid_v4 (string_member (r, "id"));
      g_assert_cmpstr (string_member (r, "result"), ==, "pending");
      g_assert_cmpstr (string_member (r, "status"), ==, "pending");
      assert_iso8601_ms (string_member (r, "created_at"));
      g_assert_cmpstr (string_member (r, "source_url"), ==, "https://example.com/v.mp4");
      g_assert_cmpstr (string_member (r, "target_language"), ==, "fr");
      g_assert_cmpfloat (progress, >=, 0.0);
      g_assert_cmpfloat (progress, <, 0.5);
      g_assert_cmpfloat (eta, >, 10.0);
      g_assert_cmpfloat (eta, <=, 20.0);
    }

  g_assert_cmpuint (got->status, ==, SOUP_STATUS_OK);
  g_assert_cmpstr (string_member (got, "id"), ==, string_member (created, "id"));
  g_assert_cmpstr (string_member (got, "created_at"), ==, string_member (created, "created_at"));
}

static void
test_jobs_overrides (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(Response) completed = create_job (f, "{\"duration\": 0, \"outcome\": \"completed\"}");
  g_autoptr(Response) failed = create_job (f, "{\"duration\": 0.0, \"outcome\": \"error\"}");
  g_autoptr(Response) by_model = create_job (f, NULL);
  g_autoptr(Response) empty = create_job (f, "{}");

  assert_members (completed, "id", "result", "status", "created_at", "completed_at",
                  "result_url", NULL);
  g_assert_cmpstr (string_member (completed, "result"), ==, "completed");
  g_assert_cmpstr (string_member (completed, "status"), ==, "completed");
  assert_iso8601_ms (string_member (completed, "completed_at"));
  /* A zero-length job ends the instant it is created. */
  g_assert_cmpstr (string_member (completed, "completed_at"), ==,
                   string_member (completed, "created_at"));
  g_assert_null (header (completed, "Retry-After"));

  g_assert_cmpstr (string_member (failed, "result"), ==, "error");
  assert_members (failed, "id", "result", "status", "created_at", "completed_at", "message",
                  NULL);

  /* Without a body the duration comes from --delay 30. */
  g_assert_cmpstr (string_member (by_model, "result"), ==, "pending");
  g_assert_cmpfloat (json_object_get_double_member (object (by_model), "eta"), >, 25.0);
  assert_members (empty, "id", "result", "status", "created_at", "progress", "eta", "elapsed",
                  NULL);
}

static void
test_jobs_errors (Fixture       *f,
                  gconstpointer  data)
{
  const struct {
    const char *body;
    guint status;
    const char *code;
  } bad_bodies[] = {
    { "{", SOUP_STATUS_BAD_REQUEST, "bad-request" },
    { "{\"duration\": 1,}", SOUP_STATUS_BAD_REQUEST, "bad-request" },
    { "[1, 2]", SOUP_STATUS_BAD_REQUEST, "bad-request" },
    { "\"job\"", SOUP_STATUS_BAD_REQUEST, "bad-request" },
    { "null", SOUP_STATUS_BAD_REQUEST, "bad-request" },
    { "42", SOUP_STATUS_BAD_REQUEST, "bad-request" },
    { "{\"source_url\": 1}", SOUP_STATUS_BAD_REQUEST, "bad-request" },
    { "{\"target_language\": [\"fr\"]}", SOUP_STATUS_BAD_REQUEST, "bad-request" },
    { "{\"source_url\": null}", SOUP_STATUS_BAD_REQUEST, "bad-request" },
    { "{\"duration\": \"1\"}", SOUP_STATUS_BAD_REQUEST, "bad-request" },
    { "{\"duration\": -1}", SOUP_STATUS_BAD_REQUEST, "bad-request" },
    { "{\"duration\": true}", SOUP_STATUS_BAD_REQUEST, "bad-request" },
    { "{\"duration\": 1e300}", SOUP_STATUS_BAD_REQUEST, "bad-request" },
    { "{\"outcome\": \"pending\"}", SOUP_STATUS_BAD_REQUEST, "bad-request" },
    { "{\"outcome\": \"done\"}", SOUP_STATUS_BAD_REQUEST, "bad-request" },
    { "{\"outcome\": 1}", SOUP_STATUS_BAD_REQUEST, "bad-request" },
    { "{\"message\": 1}", SOUP_STATUS_BAD_REQUEST, "bad-request" },
    { "{\"a\": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
      SOUP_STATUS_BAD_REQUEST, "bad-request" },
    { "{\"source_url\": \"\xff\xfe\"}", SOUP_STATUS_BAD_REQUEST, "bad-request" },
  };
  const struct {
    const char *method;
    const char *path;
    guint status;
    const char *code;
    const char *allow;
  } bad_requests[] = {
    { "GET", "/jobs/0b8e5c4e-0000-4000-8000-000000000000", SOUP_STATUS_NOT_FOUND, "not-found", NULL },
    { "GET", "/jobs/not-a-uuid", SOUP_STATUS_NOT_FOUND, "not-found", NULL },
    { "GET", "/jobs/", SOUP_STATUS_NOT_FOUND, "not-found", NULL },
    { "GET", "/nope", SOUP_STATUS_NOT_FOUND, "not-found", NULL },
    { "GET", "/", SOUP_STATUS_NOT_FOUND, "not-found", NULL },
    { "GET", "/status/a/b", SOUP_STATUS_NOT_FOUND, "not-found", NULL },
    { "GET", "/jobs", SOUP_STATUS_METHOD_NOT_ALLOWED, "method-not-allowed", "POST" },
    { "DELETE", "/jobs", SOUP_STATUS_METHOD_NOT_ALLOWED, "method-not-allowed", "POST" },
    { "POST", "/status", SOUP_STATUS_METHOD_NOT_ALLOWED, "method-not-allowed", "GET, HEAD" },
    { "PUT", "/status", SOUP_STATUS_METHOD_NOT_ALLOWED, "method-not-allowed", "GET, HEAD" },
    { "PATCH", "/capabilities", SOUP_STATUS_METHOD_NOT_ALLOWED, "method-not-allowed", "GET, HEAD" },
  };
  g_autofree char *huge = NULL;
  g_autoptr(GBytes) huge_bytes = NULL;
  g_autoptr(Response) too_large = NULL;
  g_autoptr(Response) still_serving = NULL;
  g_autoptr(Response) deleted = NULL;
  g_autofree char *id = create_job_id (f, NULL);
  g_autofree char *path = g_strconcat ("/jobs/", id, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (bad_bodies); i++)
    {
      g_autoptr(Response) r = fetch (f, "POST", "/jobs", bad_bodies[i].body);
      g_autofree char *escaped = g_strescape (bad_bodies[i].body, NULL);

      g_test_message ("POST /jobs %s", escaped);
      assert_json_error (r, bad_bodies[i].status, bad_bodies[i].code);
    }

  for (guint i = 0; i < G_N_ELEMENTS (bad_requests); i++)
    {
      g_autoptr(Response) r = fetch (f, bad_requests[i].method, bad_requests[i].path, NULL);

      g_test_message ("%s %s", bad_requests[i].method, bad_requests[i].path);
      assert_json_error (r, bad_requests[i].status, bad_requests[i].code);
      g_assert_cmpstr (header (r, "Allow"), ==, bad_requests[i].allow);
    }

  deleted = fetch (f, "DELETE", path, NULL);
  assert_json_error (deleted, SOUP_STATUS_METHOD_NOT_ALLOWED, "method-not-allowed");
  g_assert_cmpstr (header (deleted, "Allow"), ==, "GET, HEAD");

  /* 70 KiB of otherwise valid JSON is over the 64 KiB limit. */
  huge = g_strdup_printf ("{\"source_url\": \"%0*d\"}", 70 * 1024, 0);
  huge_bytes = g_bytes_new_take (g_steal_pointer (&huge), 70 * 1024 + 19);
  too_large = fetch_with (f, "POST", "/jobs", "application/json", huge_bytes);
  assert_json_error (too_large, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "payload-too-large");

  still_serving = fetch (f, "GET", "/status", NULL);
  g_assert_cmpuint (still_serving->status, ==, SOUP_STATUS_OK);
}

static ServerArgs always_error = { "--delay", "0", "--error-rate", "1", NULL };
static ServerArgs never_error = { "--delay", "0", "--error-rate", "0", NULL };

static void
test_error_rate (Fixture       *f,
                 gconstpointer  data)
{
  const char *expected = data == always_error ? "error" : "completed";
  g_autoptr(Response) status = fetch (f, "GET", "/status", NULL);

  g_assert_cmpstr (string_member (status, "result"), ==, expected);
  for (guint i = 0; i < 5; i++)
    {
      g_autoptr(Response) job = create_job (f, NULL);

      g_assert_cmpstr (string_member (job, "result"), ==, expected);
    }
}

static ServerArgs coin_flips = { "--delay", "0", "--error-rate", "0.5", "--seed", "7", NULL };

/* Lists the outcomes of @n new jobs, one character each. */
static char *
roll_outcomes (Fixture *f,
               guint    n)
{
  GString *outcomes = g_string_new (NULL);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(Response) job = create_job (f, NULL);

      g_string_append_c (outcomes, string_member (job, "result")[0]);
    }

  return g_string_free (outcomes, FALSE);
}

static void
test_outcome_decided_once (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) results = g_ptr_array_new_with_free_func (g_free);
  guint n_errors = 0;

  for (guint i = 0; i < 20; i++)
    {
      g_autoptr(Response) job = create_job (f, NULL);

      g_ptr_array_add (ids, g_strdup (string_member (job, "id")));
      g_ptr_array_add (results, g_strdup (string_member (job, "result")));
      n_errors += g_str_equal (string_member (job, "result"), "error");
    }
  /* With p = 0.5 both outcomes show up (for this seed, and nearly any). */
  g_assert_cmpuint (n_errors, >, 0);
  g_assert_cmpuint (n_errors, <, 20);

  for (guint round = 0; round < 3; round++)
    {
      for (guint i = 0; i < ids->len; i++)
        {
          g_autofree char *path = g_strconcat ("/jobs/", (char *) ids->pdata[i], NULL);
          g_autoptr(Response) again = fetch (f, "GET", path, NULL);

          g_assert_cmpstr (string_member (again, "result"), ==, results->pdata[i]);
        }
    }
}



static void
test_seed_reproducible (Fixture       *f,
                        gconstpointer  data)
{
  /* The default job took the same draws in both servers. */
  g_autofree char *outcomes = assert_reproducible (f, coin_flips, roll_outcomes, 16);

  g_assert_nonnull (strchr (outcomes, 'e'));
}

static void
test_ids_unique (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (guint i = 0; i < 50; i++)
    {
      g_autofree char *id = create_job_id (f, NULL);

      assert_uuid_v4 (id);
      g_assert_true (g_hash_table_add (seen, g_steal_pointer (&id)));
    }
}

/* What a job produced, or why it failed */

static void
test_jobs_result (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(Response) completed = create_job (f, "{\"duration\": 0, \"outcome\": \"completed\"}");
  g_autoptr(Response) pending = create_job (f, "{\"duration\": 100}");
  g_autoptr(Response) failed = create_job (f, "{\"duration\": 0, \"outcome\": \"error\","
                                              " \"message\": \"No audio track\"}");
  g_autoptr(Response) failed_default = create_job (f, "{\"duration\": 0, \"outcome\": \"error\"}");
  g_autofree char *expected_url = g_strconcat (vt_test_server_get_url (f->server), "/jobs/",
                                               string_member (completed, "id"), "/result", NULL);
  g_autofree char *result_path = g_strconcat ("/jobs/", string_member (completed, "id"), "/result", NULL);
  g_autofree char *pending_result = g_strconcat ("/jobs/", string_member (pending, "id"), "/result", NULL);
  g_autofree char *failed_result = g_strconcat ("/jobs/", string_member (failed, "id"), "/result", NULL);
  g_autofree char *failed_path = g_strconcat ("/jobs/", string_member (failed, "id"), NULL);
  g_autoptr(Response) result = NULL;
  g_autoptr(Response) not_yet = fetch (f, "GET", pending_result, NULL);
  g_autoptr(Response) never = fetch (f, "GET", failed_result, NULL);
  g_autoptr(Response) failed_again = fetch (f, "GET", failed_path, NULL);
  g_autoptr(Response) unknown = fetch (f, "GET", "/jobs/0b8e5c4e-0000-4000-8000-000000000000/result", NULL);
  g_autofree char *expected_body = NULL;

  /* An absolute URL, where something is served. */
  g_assert_cmpstr (string_member (completed, "result_url"), ==, expected_url);
  g_assert_false (json_object_has_member (object (completed), "message"));
  result = fetch (f, "GET", result_path, NULL);
  g_assert_cmpuint (result->status, ==, SOUP_STATUS_OK);
  g_assert_cmpstr (header (result, "Content-Type"), ==, "text/plain; charset=utf-8");
  expected_body = g_strdup_printf ("vt-server placeholder for the translated video of job %s\n",
                                   string_member (completed, "id"));
  g_assert_cmpmem (g_bytes_get_data (result->body, NULL), g_bytes_get_size (result->body),
                   expected_body, strlen (expected_body));

  /* None until completed, and never for an error. */
  g_assert_false (json_object_has_member (object (pending), "result_url"));
  g_assert_false (json_object_has_member (object (pending), "message"));
  assert_json_error (not_yet, SOUP_STATUS_NOT_FOUND, "not-found");
  assert_json_error (never, SOUP_STATUS_NOT_FOUND, "not-found");
  assert_json_error (unknown, SOUP_STATUS_NOT_FOUND, "not-found");

  /* The reason given at creation, else the server's own. */
  g_assert_cmpstr (string_member (failed, "message"), ==, "No audio track");
  g_assert_cmpstr (string_member (failed_again, "message"), ==, "No audio track");
  g_assert_false (json_object_has_member (object (failed), "result_url"));
  g_assert_cmpstr (string_member (failed_default, "message"), ==,
                   "The translation failed (simulated by vt-server)");
}

/* Hints */

static void
test_retry_after (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(Response) ten = create_job (f, "{\"duration\": 10}");
  g_autoptr(Response) short_job = create_job (f, "{\"duration\": 0.2}");
  g_autoptr(Response) long_job = create_job (f, "{\"duration\": 3600}");
  g_autoptr(Response) ended = create_job (f, "{\"duration\": 0}");
  g_autofree char *long_path = g_strconcat ("/jobs/", string_member (long_job, "id"), NULL);
  g_autofree char *long_classic = g_strconcat ("/status/", string_member (long_job, "id"), NULL);
  g_autofree char *ended_path = g_strconcat ("/jobs/", string_member (ended, "id"), NULL);
  g_autoptr(Response) long_again = fetch (f, "GET", long_path, NULL);
  g_autoptr(Response) long_classic_again = fetch (f, "GET", long_classic, NULL);
  g_autoptr(Response) ended_again = fetch (f, "GET", ended_path, NULL);
  guint64 seconds = 0;

  /* ⌈eta⌉ within [1, 30]: at least 1, at most 30. */
  g_assert_cmpstr (header (short_job, "Retry-After"), ==, "1");
  g_assert_cmpstr (header (long_job, "Retry-After"), ==, "30");
  /* On GET too, always: an hour-long job is surely still pending. */
  g_assert_cmpstr (string_member (long_again, "status"), ==, "pending");
  g_assert_cmpstr (header (long_again, "Retry-After"), ==, "30");
  g_assert_cmpstr (header (long_classic_again, "Retry-After"), ==, "30");
  /* None once ended. */
  g_assert_null (header (ended, "Retry-After"));
  g_assert_null (header (ended_again, "Retry-After"));

  /* ceil (eta): 10 just after creation, 9 if the request was slow. */
  g_assert_true (g_ascii_string_to_unsigned (header (ten, "Retry-After"), 10, 9, 10,
                                             &seconds, NULL));
}

/* GETs @path with If-None-Match: @tags (NULL: none) and returns it. */
static Response *
fetch_if_none_match (Fixture    *f,
                     const char *method,
                     const char *path,
                     const char *tags)
{
  SoupMessage *msg = new_message (f, method, path);

  if (tags != NULL)
    with_header (msg, "If-None-Match", tags);
  return send_message (f, msg);
}

/* A 304 for a pending job of @duration seconds: no body, the validator,
 * the hints, and its timing in Vt-Eta ("ETA;elapsed=AGE", both to the
 * millisecond, adding up to @duration unless it is -1) since there is no
 * body to carry it, and the 200's length; not the capabilities
 * the answer it revalidates had. */
static void
assert_not_modified (Response   *r,
                     const char *etag,
                     double      duration)
{
  const char *timing = header (r, "Vt-Eta");
  const char *elapsed;
  double eta, age;
  char *end;

  g_assert_cmpuint (r->status, ==, SOUP_STATUS_NOT_MODIFIED);
  g_assert_cmpuint (g_bytes_get_size (r->body), ==, 0);
  g_assert_cmpstr (header (r, "ETag"), ==, etag);
  g_assert_nonnull (header (r, "Retry-After"));
  g_assert_null (header (r, "Vt-Capabilities"));
  g_assert_null (header (r, "Content-Type"));
  /* The length of the 200 it stands for (RFC 9110, 8.6), without which
   * libsoup's client would close the connection after every 304. */
  g_assert_nonnull (header (r, "Content-Length"));
  g_assert_cmpint (g_ascii_strtoll (header (r, "Content-Length"), NULL, 10), >, 0);

  g_assert_nonnull (timing);
  eta = g_ascii_strtod (timing, &end);
  g_assert_cmpstr (end, ==, strstr (timing, ";elapsed="));
  g_assert_cmpuint (strchr (timing, '.') + 4 - timing, ==, end - timing);
  elapsed = end + strlen (";elapsed=");
  age = g_ascii_strtod (elapsed, &end);
  g_assert_cmpstr (end, ==, "");
  g_assert_cmpuint (strchr (elapsed, '.') + 4 - elapsed, ==, end - elapsed);
  g_assert_cmpfloat (age, >=, 0);
  if (duration >= 0)
    g_assert_cmpfloat_with_epsilon (eta + age, duration, 0.0015);
}

static void
test_etag (Fixture       *f,
           gconstpointer  data)
{
  g_autofree char *pending = create_job_id (f, "{\"duration\": 100}");
  g_autoptr(Response) created = create_job (f, "{\"duration\": 0}");
  g_autofree char *job_path = g_strconcat ("/jobs/", pending, NULL);
  g_autofree char *classic_path = g_strconcat ("/status/", pending, NULL);
  g_autofree char *ended_path = g_strconcat ("/jobs/", string_member (created, "id"), NULL);
  g_autofree char *held_path = g_strconcat ("/jobs/", pending, "?wait=0.3", NULL);
  const char *paths[] = { job_path, classic_path, "/status" };
  /* The default job's length is the server's own. */
  const double durations[] = { 100, 100, -1 };
  const char *matching[] = { "W/\"pending\"", "\"pending\"", "*", "\"x\", W/\"pending\"" };

  /* POST answers no validator: only GET and HEAD do. */
  g_assert_null (header (created, "ETag"));

  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      g_autoptr(Response) plain = fetch (f, "GET", paths[i], NULL);
      g_autoptr(Response) other = fetch_if_none_match (f, "GET", paths[i], "W/\"completed\"");
      g_autoptr(Response) head = fetch_if_none_match (f, "HEAD", paths[i], "W/\"pending\"");

      g_test_message ("GET %s", paths[i]);
      g_assert_cmpuint (plain->status, ==, SOUP_STATUS_OK);
      g_assert_cmpstr (header (plain, "ETag"), ==, "W/\"pending\"");
      for (guint j = 0; j < G_N_ELEMENTS (matching); j++)
        {
          g_autoptr(Response) r = fetch_if_none_match (f, "GET", paths[i], matching[j]);

          assert_not_modified (r, "W/\"pending\"", durations[i]);
        }
      g_assert_cmpuint (other->status, ==, SOUP_STATUS_OK);
      g_assert_cmpstr (string_member (other, "result"), ==, "pending");
      assert_not_modified (head, "W/\"pending\"", durations[i]);
    }

  /* 304s keep the connection: libsoup's client reuses it. */
  {
    g_autoptr(Response) first = fetch_if_none_match (f, "GET", job_path, "W/\"pending\"");
    g_autoptr(Response) second = fetch_if_none_match (f, "GET", job_path, "W/\"pending\"");
    g_autoptr(Response) third = fetch (f, "GET", job_path, NULL);

    assert_not_modified (first, "W/\"pending\"", 100);
    assert_not_modified (second, "W/\"pending\"", 100);
    g_assert_cmpuint (soup_message_get_connection_id (first->msg), !=, 0);
    g_assert_cmpuint (soup_message_get_connection_id (second->msg), ==,
                      soup_message_get_connection_id (first->msg));
    g_assert_cmpuint (soup_message_get_connection_id (third->msg), ==,
                      soup_message_get_connection_id (first->msg));
  }

  /* A changed status is a changed validator: the whole job again. */
  {
    g_autoptr(Response) r = fetch_if_none_match (f, "GET", ended_path, "W/\"pending\"");

    g_assert_cmpuint (r->status, ==, SOUP_STATUS_OK);
    g_assert_cmpstr (header (r, "ETag"), ==, "W/\"completed\"");
    g_assert_cmpstr (string_member (r, "status"), ==, "completed");
  }

  /* A long-poll that saw no change answers 304 when its wait runs out. */
  {
    g_autoptr(Response) r = fetch_if_none_match (f, "GET", held_path, "W/\"pending\"");

    assert_not_modified (r, "W/\"pending\"", 100);
    g_assert_cmpfloat (r->elapsed, >=, 0.29);
  }
}

static void
test_progress_eta (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *id = create_short_job_id (f, 0.5, "completed");
  g_autofree char *path = wait_path ("/jobs/", id, "?wait=", 0.25);
  g_autoptr(Response) later = fetch (f, "GET", path, NULL);
  double progress = json_object_get_double_member (object (later), "progress");
  double eta = json_object_get_double_member (object (later), "eta");

  /* Held 0.25 s of 0.5 s: about half way, and eta says what is left. */
  g_assert_cmpstr (string_member (later, "result"), ==, "pending");
  g_assert_cmpfloat (progress, >=, 0.45);
  g_assert_cmpfloat (progress, <, 1.0);
  g_assert_cmpfloat_with_epsilon (eta, SCALED (0.5) * (1.0 - progress), 0.01);
  /* The job's age as of the answer: what progress is a share of. */
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (object (later), "elapsed"),
                                  SCALED (0.5) * progress, 0.01);
}

static ServerArgs noisy = { "--eta-noise", "0.5", "--seed", "3", "--delay", "30", NULL };

static void
test_eta_noise (Fixture       *f,
                gconstpointer  data)
{
  double min_factor = 2.0, max_factor = 0.0;

  for (guint i = 0; i < 10; i++)
    {
      g_autoptr(Response) job = create_job (f, "{\"duration\": 100}");
      g_autofree char *path = g_strconcat ("/jobs/", string_member (job, "id"), NULL);
      g_autoptr(Response) again = fetch (f, "GET", path, NULL);
      double factor = json_object_get_double_member (object (job), "eta") / 100.0;
      double factor_again = json_object_get_double_member (object (again), "eta") / 100.0;

      /* Within [1 - f, 1 + f], and drawn once: the same on every ask. */
      g_assert_cmpfloat (factor, >=, 0.5 - 0.01);
      g_assert_cmpfloat (factor, <=, 1.5);
      g_assert_cmpfloat_with_epsilon (factor, factor_again, 0.01);
      min_factor = MIN (min_factor, factor);
      max_factor = MAX (max_factor, factor);
    }

  g_assert_cmpfloat (max_factor - min_factor, >, 0.05);
}

static ServerArgs uniform = { "--durations", "uniform:100:200", NULL };

static void
test_duration_model (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(Response) status = fetch (f, "GET", "/status", NULL);
  double eta = json_object_get_double_member (object (status), "eta");

  g_assert_cmpfloat (eta, >, 95.0);
  g_assert_cmpfloat (eta, <=, 200.0);

  for (guint i = 0; i < 10; i++)
    {
      g_autoptr(Response) job = create_job (f, NULL);

      eta = json_object_get_double_member (object (job), "eta");
      g_assert_cmpfloat (eta, >, 99.0);
      g_assert_cmpfloat (eta, <=, 200.0);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  add_server_test ("/server/status/classic", delay_short, test_status_classic);
  add_server_test ("/server/status/by-id", delay_long, test_status_by_id);
  add_server_test ("/server/jobs/create", delay_long, test_jobs_create);
  add_server_test ("/server/jobs/overrides", delay_long, test_jobs_overrides);
  add_server_test ("/server/jobs/errors", delay_long, test_jobs_errors);
  add_server_test ("/server/jobs/error-rate-1", always_error, test_error_rate);
  add_server_test ("/server/jobs/error-rate-0", never_error, test_error_rate);
  add_server_test ("/server/jobs/outcome-decided-once", coin_flips, test_outcome_decided_once);
  add_server_test ("/server/jobs/seed-reproducible", coin_flips, test_seed_reproducible);
  add_server_test ("/server/jobs/ids-unique", delay_long, test_ids_unique);
  add_server_test ("/server/jobs/result", delay_long, test_jobs_result);
  add_server_test ("/server/hints/retry-after", delay_long, test_retry_after);
  add_server_test ("/server/hints/etag", delay_long, test_etag);
  add_server_test ("/server/hints/progress-eta", delay_long, test_progress_eta);
  add_server_test ("/server/hints/eta-noise", noisy, test_eta_noise);
  add_server_test ("/server/hints/duration-model", uniform, test_duration_model);

  return g_test_run ();
}
