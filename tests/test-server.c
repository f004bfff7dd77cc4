/* test-server.c: vt-server against docs/protocol.md
 *
 * Each test starts its own vt-server (tests/vt-test-server.h) with the
 * options it needs and talks HTTP to it with a SoupSession. Nothing here
 * sleeps: a test that needs a job to end awaits it with the server's own
 * long-poll or event stream, or polls on a GMainLoop timeout.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <string.h>

#include "vt-test-server.h"

typedef struct
{
  VtTestServer *server;
  SoupSession  *session;
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
  g_clear_pointer (&f->server, vt_test_server_stop);
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
  assert_members (pending, "result", "progress", "eta", NULL);

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
                      "target_language", "progress", "eta", NULL);
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
  assert_members (empty, "id", "result", "status", "created_at", "progress", "eta", NULL);
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

static void
test_seed_reproducible (Fixture       *f,
                        gconstpointer  data)
{
  g_autofree char *first = roll_outcomes (f, 16);
  g_autofree char *second = NULL;
  g_autoptr(VtTestServer) twin = vt_test_server_startv (coin_flips);
  VtTestServer *original = f->server;

  /* The default job took the same draws in both servers. */
  f->server = twin;
  second = roll_outcomes (f, 16);
  f->server = original;

  g_assert_cmpstr (first, ==, second);
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
  g_test_add_func ("/server/sigterm", test_sigterm);
  g_test_add_func ("/server/bad-options", test_bad_options);

  return g_test_run ();
}
