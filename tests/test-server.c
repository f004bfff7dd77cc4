/* test-server.c: vt-server against docs/protocol.md
 *
 * Each test starts its own vt-server (tests/vt-test-server.h) with the
 * options it needs and talks HTTP to it with a SoupSession. Nothing here
 * sleeps: a test that needs a job to end awaits it with the server's own
 * long-poll or event stream, or polls on a GMainLoop timeout.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <string.h>

#include "vt-test-server.h"

typedef struct
{
  VtTestServer *server;
  SoupSession  *session;
  GIOStream    *kept;     /* a raw connection left open until the server stops */
} Fixture;

/* The server options of a test, NULL-terminated. */
typedef const char * const ServerArgs[];

/* Starts the server with @data, its --delay scaled like every short
 * duration here (see vt_test_time_scale()). */
static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  const char * const *args = data;
  g_autoptr(GPtrArray) scaled = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; args[i] != NULL; i++)
    {
      if (i > 0 && g_str_equal (args[i - 1], "--delay"))
        g_ptr_array_add (scaled, vt_test_seconds_arg (g_ascii_strtod (args[i], NULL)));
      else
        g_ptr_array_add (scaled, g_strdup (args[i]));
    }
  g_ptr_array_add (scaled, NULL);

  f->server = vt_test_server_startv ((const char * const *) scaled->pdata);
  f->session = soup_session_new ();
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_clear_object (&f->session);
  /* Stopping asserts a clean exit, with any kept connection still open. */
  g_clear_pointer (&f->server, vt_test_server_stop);
  g_clear_object (&f->kept);
}

/* One exchange, read to its end */

typedef struct
{
  SoupMessage *msg;
  guint        status;
  GBytes      *body;
  JsonNode    *json;     /* NULL unless the body parses as JSON */
  double       elapsed;  /* seconds from send to the end of the body */
} Response;

static void
response_free (Response *r)
{
  g_clear_object (&r->msg);
  g_clear_pointer (&r->body, g_bytes_unref);
  g_clear_pointer (&r->json, json_node_unref);
  g_free (r);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Response, response_free)

static char *
url_for (Fixture    *f,
         const char *path)
{
  return g_strconcat (vt_test_server_get_url (f->server), path, NULL);
}

static Response *
fetch_with (Fixture    *f,
            const char *method,
            const char *path,
            const char *content_type,
            GBytes     *body)
{
  g_autofree char *url = url_for (f, path);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  Response *r = g_new0 (Response, 1);
  gint64 start;

  r->msg = soup_message_new (method, url);
  g_assert_nonnull (r->msg);
  if (body != NULL)
    soup_message_set_request_body_from_bytes (r->msg, content_type, body);

  start = g_get_monotonic_time ();
  r->body = soup_session_send_and_read (f->session, r->msg, NULL, &error);
  r->elapsed = (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;
  g_assert_no_error (error);
  r->status = soup_message_get_status (r->msg);

  if (json_parser_load_from_data (parser, g_bytes_get_data (r->body, NULL),
                                  g_bytes_get_size (r->body), NULL) &&
      json_parser_get_root (parser) != NULL)
    r->json = json_node_copy (json_parser_get_root (parser));

  return r;
}

static Response *
fetch (Fixture    *f,
       const char *method,
       const char *path,
       const char *json_body)
{
  g_autoptr(GBytes) body = NULL;

  if (json_body != NULL)
    body = g_bytes_new (json_body, strlen (json_body));

  return fetch_with (f, method, path, "application/json", body);
}

static const char *
header (Response   *r,
        const char *name)
{
  return soup_message_headers_get_one (soup_message_get_response_headers (r->msg), name);
}

static JsonObject *
object (Response *r)
{
  g_assert_nonnull (r->json);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (r->json));

  return json_node_get_object (r->json);
}

static const char *
string_member (Response   *r,
               const char *name)
{
  JsonNode *node = json_object_get_member (object (r), name);

  g_assert_nonnull (node);
  g_assert_cmpint (json_node_get_value_type (node), ==, G_TYPE_STRING);
  return json_node_get_string (node);
}

/* Asserts the object has exactly the members named, in any order. */
static void
assert_members (Response   *r,
                const char *first,
                ...)
{
  g_autoptr(GList) members = json_object_get_members (object (r));
  guint n = 0;
  va_list args;

  va_start (args, first);
  for (const char *name = first; name != NULL; name = va_arg (args, const char *), n++)
    {
      if (!json_object_has_member (object (r), name))
        g_error ("%s has no member %s", (const char *) g_bytes_get_data (r->body, NULL), name);
    }
  va_end (args);

  if (g_list_length (members) != n)
    g_error ("%s: expected %u members", (const char *) g_bytes_get_data (r->body, NULL), n);
}

static void
assert_json_error (Response   *r,
                   guint       status,
                   const char *code)
{
  g_assert_cmpuint (r->status, ==, status);
  g_assert_cmpstr (header (r, "Content-Type"), ==, "application/json");
  assert_members (r, "error", "message", NULL);
  g_assert_cmpstr (string_member (r, "error"), ==, code);
  g_assert_cmpstr (string_member (r, "message"), !=, "");
}

static void
assert_uuid_v4 (const char *id)
{
  g_assert_true (g_uuid_string_is_valid (id));
  g_assert_cmpint (id[14], ==, '4');
}

static void
assert_iso8601_ms (const char *text)
{
  g_assert_true (g_regex_match_simple ("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z$",
                                       text, 0, 0));
}

/* POSTs @json_body to /jobs, asserts a 201 and returns it. */
static Response *
create_job (Fixture    *f,
            const char *json_body)
{
  Response *r = fetch (f, "POST", "/jobs", json_body);
  g_autofree char *location = NULL;

  g_assert_cmpuint (r->status, ==, SOUP_STATUS_CREATED);
  location = g_strconcat ("/jobs/", string_member (r, "id"), NULL);
  g_assert_cmpstr (header (r, "Location"), ==, location);

  return r;
}

static char *
create_job_id (Fixture    *f,
               const char *json_body)
{
  g_autoptr(Response) r = create_job (f, json_body);

  return g_strdup (string_member (r, "id"));
}

/* A job whose short duration races the test: scaled, so that a slow
 * server (under valgrind) still sees it pending when the test expects. */
static char *
create_short_job_id (Fixture    *f,
                     double      seconds,
                     const char *outcome)
{
  g_autofree char *duration = vt_test_seconds_arg (seconds);
  g_autofree char *body = g_strdup_printf ("{\"duration\": %s, \"outcome\": \"%s\"}",
                                           duration, outcome);

  return create_job_id (f, body);
}

/* A path asking to wait @seconds, scaled. */
static char *
wait_path (const char *prefix,
           const char *id,
           const char *suffix,
           double      seconds)
{
  g_autofree char *wait = vt_test_seconds_arg (seconds);

  return g_strconcat (prefix, id, suffix, wait, NULL);
}

#define SCALED(seconds) ((seconds) * vt_test_time_scale ())

/* The classic API */

static ServerArgs delay_short = { "--delay", "0.3", NULL };
static ServerArgs delay_long = { "--delay", "30", NULL };
static ServerArgs plain_short = { "--plain", "--delay", "0.3", NULL };

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

  assert_members (completed, "id", "result", "status", "created_at", "completed_at", NULL);
  g_assert_cmpstr (string_member (completed, "result"), ==, "completed");
  g_assert_cmpstr (string_member (completed, "status"), ==, "completed");
  assert_iso8601_ms (string_member (completed, "completed_at"));
  /* A zero-length job ends the instant it is created. */
  g_assert_cmpstr (string_member (completed, "completed_at"), ==,
                   string_member (completed, "created_at"));
  g_assert_null (header (completed, "Retry-After"));

  g_assert_cmpstr (string_member (failed, "result"), ==, "error");
  assert_members (failed, "id", "result", "status", "created_at", "completed_at", NULL);

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

/* Lists @n outcomes of requests to f->server, one character each. */
typedef char *(*SequenceFunc) (Fixture *f,
                               guint    n);

/* Runs @sequence on the fixture's server and on a twin started with the
 * same @args (so the same --seed), asserts both agree and returns it. */
static char *
assert_reproducible (Fixture            *f,
                     const char * const *args,
                     SequenceFunc        sequence,
                     guint               n)
{
  char *first = sequence (f, n);
  g_autofree char *second = NULL;
  g_autoptr(VtTestServer) twin = vt_test_server_startv (args);
  VtTestServer *original = f->server;

  f->server = twin;
  second = sequence (f, n);
  f->server = original;

  g_assert_cmpstr (first, ==, second);
  return first;
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

/* Hints */

static void
test_retry_after (Fixture       *f,
                  gconstpointer  data)
{
  const struct {
    const char *body;
    const char *retry_after;
  } cases[] = {
    { "{\"duration\": 0.2}", "1" },
    { "{\"duration\": 3600}", "30" },
    { "{\"duration\": 0}", NULL },
  };
  g_autoptr(Response) ten = create_job (f, "{\"duration\": 10}");
  guint64 seconds = 0;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(Response) r = create_job (f, cases[i].body);
      g_autofree char *path = g_strconcat ("/jobs/", string_member (r, "id"), NULL);
      g_autoptr(Response) got = fetch (f, "GET", path, NULL);

      g_assert_cmpstr (header (r, "Retry-After"), ==, cases[i].retry_after);
      if (cases[i].retry_after != NULL && got->status == SOUP_STATUS_OK &&
          g_str_equal (string_member (got, "result"), "pending"))
        g_assert_cmpstr (header (got, "Retry-After"), ==, cases[i].retry_after);
    }

  /* ceil (eta): 10 just after creation, 9 if the request was slow. */
  g_assert_true (g_ascii_string_to_unsigned (header (ten, "Retry-After"), 10, 9, 10,
                                             &seconds, NULL));
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

/* Long-poll */

static void
test_long_poll_change (Fixture       *f,
                       gconstpointer  data)
{
  g_autofree char *id = create_short_job_id (f, 0.3, "completed");
  g_autofree char *path = wait_path ("/jobs/", id, "?wait=", 10);
  g_autoptr(Response) r = fetch (f, "GET", path, NULL);

  /* Answered when the job ended, well before the 10 s ran out (the
   * bounds are loose enough for a server under valgrind). */
  g_assert_cmpuint (r->status, ==, SOUP_STATUS_OK);
  g_assert_cmpstr (string_member (r, "status"), ==, "completed");
  g_assert_cmpfloat (r->elapsed, >=, SCALED (0.15));
  g_assert_cmpfloat (r->elapsed, <, SCALED (5.0));
  g_assert_null (header (r, "Retry-After"));
}

static void
test_long_poll_timeout (Fixture       *f,
                        gconstpointer  data)
{
  g_autofree char *id = create_job_id (f, "{\"duration\": 100}");
  g_autofree char *path = g_strconcat ("/jobs/", id, "?wait=0.3", NULL);
  g_autofree char *status_path = g_strconcat ("/status/", id, "?wait=0.2", NULL);
  g_autoptr(Response) r = fetch (f, "GET", path, NULL);
  g_autoptr(Response) classic = fetch (f, "GET", status_path, NULL);
  g_autoptr(Response) ended = NULL;
  g_autofree char *ended_id = create_job_id (f, "{\"duration\": 0}");
  g_autofree char *ended_path = g_strconcat ("/jobs/", ended_id, "?wait=30", NULL);

  g_assert_cmpuint (r->status, ==, SOUP_STATUS_OK);
  g_assert_cmpstr (string_member (r, "status"), ==, "pending");
  g_assert_cmpfloat (r->elapsed, >=, 0.29);
  g_assert_cmpfloat (r->elapsed, <, SCALED (5.0));
  g_assert_nonnull (header (r, "Retry-After"));

  g_assert_cmpstr (string_member (classic, "result"), ==, "pending");
  g_assert_cmpfloat (classic->elapsed, >=, 0.19);

  /* Nothing more can happen to an ended job: no waiting at all. */
  ended = fetch (f, "GET", ended_path, NULL);
  g_assert_cmpstr (string_member (ended, "status"), ==, "completed");
  g_assert_cmpfloat (ended->elapsed, <, SCALED (10.0));
}

static void
test_long_poll_bad_wait (Fixture       *f,
                         gconstpointer  data)
{
  const char *waits[] = { "abc", "-1", "", "nan", "1s" };

  for (guint i = 0; i < G_N_ELEMENTS (waits); i++)
    {
      g_autofree char *path = g_strconcat ("/status?wait=", waits[i], NULL);
      g_autoptr(Response) r = fetch (f, "GET", path, NULL);

      assert_json_error (r, SOUP_STATUS_BAD_REQUEST, "bad-request");
    }
}

/* Event streams */

typedef struct
{
  char *id;
  char *status;
} Event;

static void
event_clear (Event *event)
{
  g_free (event->id);
  g_free (event->status);
}

/* Parses a whole text/event-stream body, asserting its exact framing:
 * "event: status\ndata: <one-line JSON job>\n\n" per event. */
static GArray *
parse_events (GBytes *body)
{
  g_autofree char *text = g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
  g_auto(GStrv) blocks = NULL;
  GArray *events = g_array_new (FALSE, TRUE, sizeof (Event));
  guint n_blocks;

  g_array_set_clear_func (events, (GDestroyNotify) event_clear);
  g_assert_true (g_str_has_suffix (text, "\n\n"));
  text[strlen (text) - 2] = '\0';
  blocks = g_strsplit (text, "\n\n", -1);
  n_blocks = g_strv_length (blocks);

  for (guint i = 0; i < n_blocks; i++)
    {
      g_auto(GStrv) lines = g_strsplit (blocks[i], "\n", -1);
      g_autoptr(JsonParser) parser = json_parser_new ();
      g_autoptr(GError) error = NULL;
      JsonObject *job;
      Event event;

      g_assert_cmpuint (g_strv_length (lines), ==, 2);
      g_assert_cmpstr (lines[0], ==, "event: status");
      g_assert_true (g_str_has_prefix (lines[1], "data: "));
      json_parser_load_from_data (parser, lines[1] + strlen ("data: "), -1, &error);
      g_assert_no_error (error);
      job = json_node_get_object (json_parser_get_root (parser));
      event.id = g_strdup (json_object_get_string_member (job, "id"));
      event.status = g_strdup (json_object_get_string_member (job, "status"));
      g_assert_cmpstr (json_object_get_string_member (job, "result"), ==, event.status);
      /* Hints while pending, the end time once ended. */
      g_assert_cmpint (json_object_has_member (job, "eta"), ==,
                       g_str_equal (event.status, "pending"));
      g_assert_cmpint (json_object_has_member (job, "completed_at"), !=,
                       g_str_equal (event.status, "pending"));
      g_array_append_val (events, event);
    }

  return events;
}

static void
assert_event (GArray     *events,
              guint       i,
              const char *id,
              const char *status)
{
  Event *event = &g_array_index (events, Event, i);

  g_assert_cmpstr (event->id, ==, id);
  g_assert_cmpstr (event->status, ==, status);
}

static void
assert_event_stream_headers (Response *r)
{
  g_assert_cmpuint (r->status, ==, SOUP_STATUS_OK);
  g_assert_cmpstr (header (r, "Content-Type"), ==, "text/event-stream");
  g_assert_cmpstr (header (r, "Cache-Control"), ==, "no-cache");
  g_assert_cmpint (soup_message_headers_get_encoding (soup_message_get_response_headers (r->msg)),
                   ==, SOUP_ENCODING_CHUNKED);
}

static void
test_events_single (Fixture       *f,
                    gconstpointer  data)
{
  g_autofree char *id = create_short_job_id (f, 0.3, "completed");
  g_autofree char *path = g_strconcat ("/jobs/", id, "/events", NULL);
  g_autoptr(Response) r = fetch (f, "GET", path, NULL);
  g_autoptr(GArray) events = parse_events (r->body);
  g_autoptr(Response) replay = fetch (f, "GET", path, NULL);
  g_autoptr(GArray) replay_events = parse_events (replay->body);
  g_autoptr(Response) unknown = fetch (f, "GET", "/jobs/0b8e5c4e-0000-4000-8000-000000000000/events", NULL);

  /* The state at once, the change, then the end of the body. */
  assert_event_stream_headers (r);
  g_assert_cmpuint (events->len, ==, 2);
  assert_event (events, 0, id, "pending");
  assert_event (events, 1, id, "completed");
  g_assert_cmpfloat (r->elapsed, >=, SCALED (0.15));
  g_assert_cmpfloat (r->elapsed, <, SCALED (5.0));

  /* An ended job: its one terminal event, at once. */
  assert_event_stream_headers (replay);
  g_assert_cmpuint (replay_events->len, ==, 1);
  assert_event (replay_events, 0, id, "completed");

  assert_json_error (unknown, SOUP_STATUS_NOT_FOUND, "not-found");
}

static void
test_events_multiplexed (Fixture       *f,
                         gconstpointer  data)
{
  g_autofree char *a = create_short_job_id (f, 0.2, "completed");
  g_autofree char *b = create_short_job_id (f, 0.5, "error");
  g_autofree char *c = create_job_id (f, "{\"duration\": 0}");
  g_autofree char *path = g_strdup_printf ("/events?job=%s&job=%s&job=%s", a, b, c);
  g_autoptr(Response) r = fetch (f, "GET", path, NULL);
  g_autoptr(GArray) events = parse_events (r->body);
  g_autofree char *unknown_path = g_strdup_printf ("/events?job=%s&job=nope", a);
  g_autoptr(Response) unknown = fetch (f, "GET", unknown_path, NULL);
  g_autoptr(Response) none = fetch (f, "GET", "/events", NULL);

  assert_event_stream_headers (r);
  g_assert_cmpuint (events->len, ==, 5);
  assert_event (events, 0, a, "pending");
  assert_event (events, 1, b, "pending");
  assert_event (events, 2, c, "completed");
  assert_event (events, 3, a, "completed");
  assert_event (events, 4, b, "error");
  g_assert_cmpfloat (r->elapsed, >=, SCALED (0.35));
  g_assert_cmpfloat (r->elapsed, <, SCALED (5.0));

  assert_json_error (unknown, SOUP_STATUS_NOT_FOUND, "not-found");
  assert_json_error (none, SOUP_STATUS_BAD_REQUEST, "bad-request");
}

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

      g_assert_cmpstr (header (r, "Vt-Capabilities"), ==, "hints, long-poll, events");
    }

  g_assert_cmpuint (caps->status, ==, SOUP_STATUS_OK);
  g_assert_cmpstr (g_bytes_get_data (caps->body, NULL), ==,
                   "{\"hints\":true,\"long_poll\":true,\"events\":true,\"max_wait\":60}");
}

static void
test_plain (Fixture       *f,
            gconstpointer  data)
{
  const char *gone[] = { "/capabilities", "/metrics", "/events?job=x" };
  g_autoptr(Response) status = fetch (f, "GET", "/status", NULL);
  g_autoptr(Response) waited = fetch (f, "GET", "/status?wait=30", NULL);
  g_autoptr(Response) job = create_job (f, "{\"duration\": 10}");
  g_autofree char *events_path = g_strconcat ("/jobs/", string_member (job, "id"), "/events", NULL);
  g_autoptr(Response) events = fetch (f, "GET", events_path, NULL);
  g_autoptr(Response) ended = NULL;

  g_assert_cmpuint (status->status, ==, SOUP_STATUS_OK);
  g_assert_cmpstr (g_bytes_get_data (status->body, NULL), ==, "{\"result\":\"pending\"}");
  g_assert_null (header (status, "Vt-Capabilities"));
  g_assert_null (header (status, "Retry-After"));

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

  /* The classic way to follow a job: plain polling, here on a timer. */
  for (;;)
    {
      g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);

      ended = fetch (f, "GET", "/status", NULL);
      if (!g_str_equal (string_member (ended, "result"), "pending"))
        break;
      g_clear_pointer (&ended, response_free);
      g_timeout_add_once (50, (GSourceOnceFunc) g_main_loop_quit, loop);
      g_main_loop_run (loop);
    }
  g_assert_cmpstr (g_bytes_get_data (ended->body, NULL), ==, "{\"result\":\"completed\"}");
}

/* Metrics */

static gboolean
metrics_have_line (Fixture    *f,
                   const char *line)
{
  g_autoptr(Response) r = fetch (f, "GET", "/metrics", NULL);
  g_autofree char *text = g_strndup (g_bytes_get_data (r->body, NULL), g_bytes_get_size (r->body));
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);

  g_assert_cmpuint (r->status, ==, SOUP_STATUS_OK);
  g_assert_cmpstr (header (r, "Content-Type"), ==, "text/plain; version=0.0.4");

  return g_strv_contains ((const char * const *) lines, line);
}

typedef struct
{
  Fixture    *f;
  const char *line;
  GMainLoop  *loop;
} MetricsWait;

static gboolean
check_metrics (gpointer user_data)
{
  MetricsWait *wait = user_data;

  if (!metrics_have_line (wait->f, wait->line))
    return G_SOURCE_CONTINUE;

  g_main_loop_quit (wait->loop);
  return G_SOURCE_REMOVE;
}

/* Scrapes /metrics on a timer until @line shows up: for states reached
 * by another connection, which the test cannot otherwise observe. */
static void
await_metrics_line (Fixture    *f,
                    const char *line)
{
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  MetricsWait wait = { f, line, loop };

  g_timeout_add (20, check_metrics, &wait);
  g_main_loop_run (loop);
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
  while (!answered)
    g_main_context_iteration (NULL, TRUE);

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

/* Sends @request on a connection of its own and reads to EOF: to see
 * exactly the bytes a spoiled response is made of (as a string: none of
 * them holds a NUL). */
static char *
raw_exchange (Fixture    *f,
              const char *request)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GByteArray) received = g_byte_array_new ();
  g_autoptr(GError) error = NULL;
  GInputStream *input;
  guint8 buffer[4096];
  gssize n;

  connection = g_socket_client_connect_to_uri (client, vt_test_server_get_url (f->server),
                                               0, NULL, &error);
  g_assert_no_error (error);
  g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (connection)),
                             request, strlen (request), NULL, NULL, &error);
  g_assert_no_error (error);

  input = g_io_stream_get_input_stream (G_IO_STREAM (connection));
  while ((n = g_input_stream_read (input, buffer, sizeof buffer, NULL, &error)) > 0)
    g_byte_array_append (received, buffer, n);
  /* A reset may end the stream with an error rather than an EOF. */
  g_clear_error (&error);

  g_byte_array_append (received, (const guint8 *) "", 1);
  return (char *) g_byte_array_free (g_steal_pointer (&received), FALSE);
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

/* --token, --rate-limit */

static ServerArgs with_token = { "--token", "s3cret", NULL };
static ServerArgs with_rate_limit = { "--rate-limit", "3/s", NULL };

static Response *
fetch_authorized (Fixture    *f,
                  const char *path,
                  const char *authorization)
{
  g_autofree char *url = url_for (f, path);
  g_autoptr(GError) error = NULL;
  Response *r = g_new0 (Response, 1);

  r->msg = soup_message_new ("GET", url);
  if (authorization != NULL)
    soup_message_headers_replace (soup_message_get_request_headers (r->msg),
                                  "Authorization", authorization);
  r->body = soup_session_send_and_read (f->session, r->msg, NULL, &error);
  g_assert_no_error (error);
  r->status = soup_message_get_status (r->msg);
  r->json = json_from_string (g_bytes_get_data (r->body, NULL), NULL);

  return r;
}

static void
test_token (Fixture       *f,
            gconstpointer  data)
{
  const char *refused[] = { NULL, "Bearer wrong", "Bearer s3cre", "Bearer s3cret2", "Basic s3cret", "s3cret" };
  const char *paths[] = { "/status", "/jobs/x", "/metrics", "/capabilities", "/nope" };

  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      for (guint j = 0; j < G_N_ELEMENTS (paths); j++)
        {
          g_autoptr(Response) r = fetch_authorized (f, paths[j], refused[i]);

          assert_json_error (r, SOUP_STATUS_UNAUTHORIZED, "unauthorized");
          g_assert_true (g_str_has_prefix (header (r, "WWW-Authenticate"), "Bearer"));
          g_assert_null (strstr (g_bytes_get_data (r->body, NULL), "s3cret"));
        }
    }

  {
    g_autoptr(Response) allowed = fetch_authorized (f, "/status", "Bearer s3cret");
    g_autoptr(Response) health = fetch_authorized (f, "/health", NULL);

    g_assert_cmpuint (allowed->status, ==, SOUP_STATUS_OK);
    g_assert_cmpstr (string_member (allowed, "result"), ==, "pending");
    g_assert_cmpuint (health->status, ==, SOUP_STATUS_OK);
  }
}

static void
test_rate_limit (Fixture       *f,
                 gconstpointer  data)
{
  guint n_ok = 0, n_limited = 0;

  /* A burst of twenty: the bucket holds three, refilled at three a second. */
  for (guint i = 0; i < 20; i++)
    {
      g_autoptr(Response) r = fetch (f, "GET", "/status", NULL);
      g_autoptr(Response) health = fetch (f, "GET", "/health", NULL);

      g_assert_cmpuint (health->status, ==, SOUP_STATUS_OK);
      if (i < 3)
        g_assert_cmpuint (r->status, ==, SOUP_STATUS_OK);
      if (r->status == SOUP_STATUS_OK)
        {
          n_ok++;
          continue;
        }

      assert_json_error (r, 429, "too-many-requests");
      g_assert_cmpstr (header (r, "Retry-After"), ==, "1");
      n_limited++;
    }

  g_assert_cmpuint (n_limited, >, 0);
  g_assert_cmpuint (n_ok, >=, 3);
}

/* --state */

static VtTestServer *
start_with_state (const char *state_path)
{
  g_autofree char *delay = vt_test_seconds_arg (30);
  const char *args[] = { "--state", state_path, "--delay", delay, NULL };

  return vt_test_server_startv (args);
}

static void
test_state_restart (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("vt-server-state-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "jobs.json", NULL);
  Fixture fixture = { 0, }, *f = &fixture;
  g_autoptr(Response) failed = NULL;
  g_autoptr(Response) slow = NULL;
  g_autoptr(Response) classic = NULL;
  g_autofree char *short_id = NULL;

  g_assert_no_error (error);
  f->session = soup_session_new ();
  f->server = start_with_state (path);
  failed = create_job (f, "{\"duration\": 0, \"outcome\": \"error\", \"source_url\": \"u\"}");
  slow = create_job (f, "{\"duration\": 600, \"target_language\": \"fr\"}");
  short_id = create_short_job_id (f, 0.5, "completed");
  classic = fetch (f, "GET", "/status", NULL);
  g_clear_pointer (&f->server, vt_test_server_stop);

  /* A new process: every job is back, each where time has taken it. */
  f->server = start_with_state (path);
  {
    g_autofree char *failed_path = g_strconcat ("/jobs/", string_member (failed, "id"), NULL);
    g_autofree char *slow_path = g_strconcat ("/jobs/", string_member (slow, "id"), NULL);
    g_autofree char *short_path = wait_path ("/jobs/", short_id, "?wait=", 10);
    g_autoptr(Response) failed_again = fetch (f, "GET", failed_path, NULL);
    g_autoptr(Response) slow_again = fetch (f, "GET", slow_path, NULL);
    g_autoptr(Response) short_again = fetch (f, "GET", short_path, NULL);
    g_autoptr(Response) classic_again = fetch (f, "GET", "/status", NULL);

    g_assert_cmpstr (g_bytes_get_data (failed_again->body, NULL), ==,
                     g_bytes_get_data (failed->body, NULL));
    g_assert_cmpstr (string_member (slow_again, "status"), ==, "pending");
    g_assert_cmpstr (string_member (slow_again, "created_at"), ==, string_member (slow, "created_at"));
    g_assert_cmpstr (string_member (slow_again, "target_language"), ==, "fr");
    g_assert_cmpfloat (json_object_get_double_member (object (slow_again), "eta"), <,
                       json_object_get_double_member (object (slow), "eta"));
    g_assert_cmpstr (string_member (short_again, "status"), ==, "completed");
    /* The default job is the same one: it did not start over. */
    g_assert_cmpfloat (json_object_get_double_member (object (classic_again), "eta"), <,
                       json_object_get_double_member (object (classic), "eta"));
  }
  g_clear_pointer (&f->server, vt_test_server_stop);
  g_clear_object (&f->session);

  g_assert_no_errno (g_remove (path));
  g_assert_no_errno (g_rmdir (dir));
}

static void
test_state_corrupt (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("vt-server-state-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "jobs.json", NULL);
  const char *contents[] = {
    "not json",
    "[]",
    "{\"version\": 2, \"jobs\": []}",
    "{\"version\": 1, \"jobs\": [{\"id\": \"x\"}]}",
  };

  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (contents); i++)
    {
      const char *argv[] = { vt_test_server_get_path (), "--port", "0", "--state", path, NULL };
      g_autoptr(GSubprocess) process = NULL;

      g_file_set_contents (path, contents[i], -1, &error);
      g_assert_no_error (error);
      process = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                   G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error);
      g_assert_no_error (error);
      g_subprocess_wait (process, NULL, &error);
      g_assert_no_error (error);
      /* Refused, rather than starting over and losing every job. */
      g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 1);
    }

  g_assert_no_errno (g_remove (path));
  g_assert_no_errno (g_rmdir (dir));
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
  g_autofree char *too_big = raw_exchange (f, big_header);
  g_autoptr(Response) health = NULL;

  g_assert_true (g_str_has_prefix (brew, "HTTP/1.1 405 "));
  g_assert_nonnull (strstr (brew, "\r\nAllow: GET, HEAD\r\n"));
  /* An encoded ".." that would climb out is refused by libsoup... */
  g_assert_true (g_str_has_prefix (escape, "HTTP/1.1 400 "));
  g_assert_true (g_str_has_suffix (escape, "{\"error\":\"bad-request\",\"message\":\"Bad Request\"}"));
  /* ...and a literal one resolves to a path that does not exist. */
  g_assert_true (g_str_has_prefix (outside, "HTTP/1.1 404 "));
  /* Headers over libsoup's limit: no response, and no harm done. */
  g_assert_false (g_str_has_prefix (too_big, "HTTP/1.1 200"));

  health = fetch (f, "GET", "/health", NULL);
  g_assert_cmpuint (health->status, ==, SOUP_STATUS_OK);
}

#define add_server_test(path, args, func) \
  g_test_add (path, Fixture, args, fixture_set_up, func, fixture_tear_down)

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
  add_server_test ("/server/hints/retry-after", delay_long, test_retry_after);
  add_server_test ("/server/hints/progress-eta", delay_long, test_progress_eta);
  add_server_test ("/server/hints/eta-noise", noisy, test_eta_noise);
  add_server_test ("/server/hints/duration-model", uniform, test_duration_model);
  add_server_test ("/server/long-poll/change", delay_long, test_long_poll_change);
  add_server_test ("/server/long-poll/timeout", delay_long, test_long_poll_timeout);
  add_server_test ("/server/long-poll/bad-wait", delay_long, test_long_poll_bad_wait);
  add_server_test ("/server/events/single", delay_long, test_events_single);
  add_server_test ("/server/events/multiplexed", delay_long, test_events_multiplexed);
  add_server_test ("/server/capabilities", delay_long, test_capabilities);
  add_server_test ("/server/plain", plain_short, test_plain);
  add_server_test ("/server/metrics", delay_long, test_metrics);
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
  add_server_test ("/server/token", with_token, test_token);
  add_server_test ("/server/rate-limit", with_rate_limit, test_rate_limit);
  add_server_test ("/server/input-limits", delay_long, test_input_limits);
  g_test_add_func ("/server/state/restart", test_state_restart);
  g_test_add_func ("/server/state/corrupt", test_state_corrupt);
  g_test_add_func ("/server/tls", test_tls);
  g_test_add_func ("/server/sigterm", test_sigterm);
  g_test_add_func ("/server/bad-options", test_bad_options);

  return g_test_run ();
}
