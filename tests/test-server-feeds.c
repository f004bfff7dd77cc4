/* test-server-feeds.c: vt-server against docs/protocol.md: feeds
 *
 * A feed's deliveries are followed as a client would: long-polls sent
 * asynchronously and awaited with a deadline, streams read event by event
 * on a session whose I/O times out, so that a server that stays silent
 * fails the test instead of hanging it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "vt-server-test-utils.h"

static ServerArgs delay_long = { "--delay", "30", NULL };
static ServerArgs short_ttl = { "--delay", "30", "--feed-ttl", "1", NULL };

/* POSTs @json_body to /feeds, asserts a 201 and returns the feed's id. */
static char *
create_feed (Fixture    *f,
             const char *json_body)
{
  g_autoptr(Response) r = fetch (f, "POST", "/feeds", json_body);
  g_autofree char *location = NULL;

  g_assert_cmpuint (r->status, ==, SOUP_STATUS_CREATED);
  location = g_strconcat ("/feeds/", string_member (r, "id"), NULL);
  g_assert_cmpstr (header (r, "Location"), ==, location);

  return g_strdup (string_member (r, "id"));
}

static Response *
post_members (Fixture    *f,
              const char *fid,
              const char *json_body)
{
  g_autofree char *path = g_strconcat ("/feeds/", fid, "/jobs", NULL);

  return fetch (f, "POST", path, json_body);
}

static void
join (Fixture    *f,
      const char *fid,
      const char *id)
{
  g_autofree char *body = g_strdup_printf ("{\"join\": [\"%s\"]}", id);
  g_autoptr(Response) r = post_members (f, fid, body);

  g_assert_cmpuint (r->status, ==, SOUP_STATUS_OK);
}

static char *
feed_path (const char *fid,
           guint64     after,
           const char *wait)
{
  return g_strdup_printf ("/feeds/%s?after=%" G_GUINT64_FORMAT "%s%s",
                          fid, after, wait != NULL ? "&wait=" : "", wait != NULL ? wait : "");
}

static JsonObject *
job_at (JsonArray *jobs,
        guint      i)
{
  return json_array_get_object_element (jobs, i);
}

/* Asserts a long-poll answer: its cursor, whether it is a reset, and its
 * jobs, as pairs of id and status, NULL-terminated. */
static void
assert_feed_answer (Response   *r,
                    guint64     next,
                    gboolean    reset,
                    ...)
{
  JsonArray *jobs;
  va_list args;
  guint n = 0;

  g_assert_cmpuint (r->status, ==, SOUP_STATUS_OK);
  g_assert_cmpstr (header (r, "Content-Type"), ==, "application/json");
  if (reset)
    assert_members (r, "next", "reset", "jobs", NULL);
  else
    assert_members (r, "next", "jobs", NULL);
  g_assert_cmpint (json_object_get_int_member (object (r), "next"), ==, next);
  if (reset)
    g_assert_true (json_object_get_boolean_member (object (r), "reset"));

  jobs = json_object_get_array_member (object (r), "jobs");
  va_start (args, reset);
  for (const char *id = va_arg (args, const char *); id != NULL; id = va_arg (args, const char *), n++)
    {
      const char *status = va_arg (args, const char *);

      g_assert_cmpuint (n, <, json_array_get_length (jobs));
      g_assert_cmpstr (json_object_get_string_member (job_at (jobs, n), "id"), ==, id);
      g_assert_cmpstr (json_object_get_string_member (job_at (jobs, n), "status"), ==, status);
    }
  va_end (args);
  g_assert_cmpuint (json_array_get_length (jobs), ==, n);
}

/* A long-poll sent on its own session, awaited later */

typedef struct
{
  SoupSession *session;
  SoupMessage *msg;
  Response    *r;
} Pending;

static void
on_sent (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Pending *pending = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  Response *r = g_new0 (Response, 1);

  r->body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  g_assert_no_error (error);
  r->msg = g_steal_pointer (&pending->msg);
  r->status = soup_message_get_status (r->msg);
  if (g_bytes_get_size (r->body) > 0 &&
      json_parser_load_from_data (parser, g_bytes_get_data (r->body, NULL),
                                  g_bytes_get_size (r->body), NULL))
    r->json = json_node_copy (json_parser_get_root (parser));
  pending->r = r;
}

static Pending *
fetch_async (Fixture    *f,
             const char *path)
{
  Pending *pending = g_new0 (Pending, 1);

  pending->session = soup_session_new ();
  pending->msg = new_message (f, "GET", path);
  soup_session_send_and_read_async (pending->session, pending->msg, G_PRIORITY_DEFAULT, NULL,
                                    on_sent, pending);
  return pending;
}

static gboolean
pending_answered (gpointer user_data)
{
  return ((Pending *) user_data)->r != NULL;
}

/* Frees @pending and returns its answer, awaited 10 s (scaled) at most. */
static Response *
await_response (Pending *pending)
{
  Response *r;

  await_condition (pending_answered, pending, 10.0, "a long-poll's answer");
  r = pending->r;
  g_object_unref (pending->session);
  g_free (pending);
  return r;
}

/* A feed's event stream, read event by event */

typedef struct
{
  SoupSession      *session;
  SoupMessage      *msg;
  GDataInputStream *lines;
} Stream;

static void
stream_free (Stream *stream)
{
  g_clear_object (&stream->lines);
  g_clear_object (&stream->msg);
  g_clear_object (&stream->session);
  g_free (stream);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Stream, stream_free)

static Stream *
open_stream (Fixture    *f,
             const char *fid,
             const char *last_event_id)
{
  g_autofree char *path = g_strconcat ("/feeds/", fid, "/events", NULL);
  g_autoptr(GInputStream) body = NULL;
  g_autoptr(GError) error = NULL;
  Stream *stream = g_new0 (Stream, 1);

  /* A read that waits longer than this fails instead of hanging. */
  stream->session = soup_session_new_with_options ("timeout", (guint) SCALED (10), NULL);
  stream->msg = new_message (f, "GET", path);
  if (last_event_id != NULL)
    with_header (stream->msg, "Last-Event-ID", last_event_id);
  body = soup_session_send (stream->session, stream->msg, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (soup_message_get_status (stream->msg), ==, SOUP_STATUS_OK);
  g_assert_cmpstr (soup_message_headers_get_content_type (soup_message_get_response_headers (stream->msg), NULL),
                   ==, "text/event-stream");
  stream->lines = g_data_input_stream_new (body);
  g_data_input_stream_set_newline_type (stream->lines, G_DATA_STREAM_NEWLINE_TYPE_LF);

  return stream;
}

/* Reads the next event, asserting its exact framing; FALSE at the end of
 * the body. @job is the event's document. */
static gboolean
read_event (Stream     *stream,
            guint64    *seq,
            JsonNode  **job)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  g_autofree char *event = NULL;
  g_autofree char *data = NULL;
  g_autofree char *blank = NULL;

  do
    {
      g_clear_pointer (&id, g_free);
      id = g_data_input_stream_read_line_utf8 (stream->lines, NULL, NULL, &error);
      g_assert_no_error (error);
      if (id == NULL)
        return FALSE;
      /* A comment, ": ping", is a block of its own. */
      if (g_str_has_prefix (id, ":"))
        {
          g_free (g_data_input_stream_read_line_utf8 (stream->lines, NULL, NULL, &error));
          g_assert_no_error (error);
          g_clear_pointer (&id, g_free);
        }
    }
  while (id == NULL);

  event = g_data_input_stream_read_line_utf8 (stream->lines, NULL, NULL, &error);
  g_assert_no_error (error);
  data = g_data_input_stream_read_line_utf8 (stream->lines, NULL, NULL, &error);
  g_assert_no_error (error);
  blank = g_data_input_stream_read_line_utf8 (stream->lines, NULL, NULL, &error);
  g_assert_no_error (error);

  g_assert_true (g_str_has_prefix (id, "id: "));
  g_assert_true (g_ascii_string_to_unsigned (id + 4, 10, 1, G_MAXUINT64, seq, NULL));
  g_assert_cmpstr (event, ==, "event: status");
  g_assert_true (g_str_has_prefix (data, "data: "));
  g_assert_cmpstr (blank, ==, "");
  *job = json_from_string (data + strlen ("data: "), &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (*job));

  return TRUE;
}

/* Reads an event and asserts its sequence number, job and status. */
static JsonNode *
expect_event (Stream     *stream,
              guint64     seq,
              const char *id,
              const char *status)
{
  JsonNode *job = NULL;
  guint64 got = 0;

  g_assert_true (read_event (stream, &got, &job));
  g_assert_cmpuint (got, ==, seq);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (job), "id"), ==, id);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (job), "status"), ==, status);

  return job;
}

static void
expect_end (Stream *stream)
{
  g_autoptr(JsonNode) job = NULL;
  guint64 seq;

  g_assert_false (read_event (stream, &seq, &job));
}

/* Tests */

static void
test_feeds_create (Fixture       *f,
                   gconstpointer  data)
{
  const char *bad[] = {
    "{\"progress_interval\": -1}", "{\"progress_interval\": 0.2}",
    "{\"progress_interval\": 60.5}", "{\"progress_interval\": \"2\"}",
    "{\"progress_interval\": true}", "{\"progress_interval\": [1]}", "{", "[]", "3",
  };
  const char *unknown[][2] = {
    { "GET", "/feeds/0b8e5c4e-0000-4000-8000-000000000000" },
    { "GET", "/feeds/nope?after=0" },
    { "GET", "/feeds/nope/events" },
    { "POST", "/feeds/nope/jobs" },
    { "DELETE", "/feeds/nope" },
  };
  g_autoptr(Response) created = fetch (f, "POST", "/feeds", NULL);
  g_autoptr(Response) quiet = fetch (f, "POST", "/feeds", "{\"progress_interval\": 0}");
  g_autoptr(Response) fast = fetch (f, "POST", "/feeds", "{\"progress_interval\": 0.5}");
  g_autofree char *location = g_strconcat ("/feeds/", string_member (created, "id"), NULL);
  g_autofree char *huge = g_strdup_printf ("{\"x\": \"%0*d\"}", 70 * 1024, 0);
  g_autoptr(Response) too_large = fetch (f, "POST", "/feeds", huge);
  g_autoptr(Response) put = fetch (f, "PUT", location, NULL);
  g_autoptr(Response) get_all = fetch (f, "GET", "/feeds", NULL);

  g_assert_cmpuint (created->status, ==, SOUP_STATUS_CREATED);
  g_assert_cmpstr (header (created, "Location"), ==, location);
  assert_members (created, "id", "ttl", "progress_interval", NULL);
  assert_uuid_v4 (string_member (created, "id"));
  /* Whole seconds are integers, as in docs/protocol.md. */
  g_assert_cmpint (json_node_get_value_type (json_object_get_member (object (created), "ttl")),
                   ==, G_TYPE_INT64);
  g_assert_cmpint (json_object_get_int_member (object (created), "ttl"), ==, 60);
  g_assert_cmpint (json_object_get_int_member (object (created), "progress_interval"), ==, 2);
  g_assert_cmpfloat (json_object_get_double_member (object (quiet), "progress_interval"), ==, 0);
  g_assert_cmpfloat (json_object_get_double_member (object (fast), "progress_interval"), ==, 0.5);
  g_assert_cmpstr (string_member (quiet, "id"), !=, string_member (created, "id"));

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(Response) r = fetch (f, "POST", "/feeds", bad[i]);

      g_test_message ("POST /feeds %s", bad[i]);
      assert_json_error (r, SOUP_STATUS_BAD_REQUEST, "bad-request");
    }
  assert_json_error (too_large, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "payload-too-large");

  for (guint i = 0; i < G_N_ELEMENTS (unknown); i++)
    {
      g_autoptr(Response) r = fetch (f, unknown[i][0], unknown[i][1], NULL);

      g_test_message ("%s %s", unknown[i][0], unknown[i][1]);
      assert_json_error (r, SOUP_STATUS_NOT_FOUND, "not-found");
    }

  assert_json_error (put, SOUP_STATUS_METHOD_NOT_ALLOWED, "method-not-allowed");
  g_assert_cmpstr (header (put, "Allow"), ==, "GET, DELETE");
  assert_json_error (get_all, SOUP_STATUS_METHOD_NOT_ALLOWED, "method-not-allowed");
  g_assert_cmpstr (header (get_all, "Allow"), ==, "POST");
  g_assert_true (metrics_have_line (f, "vt_open_feeds 3"));
}

static void
test_feeds_join_leave (Fixture       *f,
                       gconstpointer  data)
{
  g_autofree char *fid = create_feed (f, "{\"progress_interval\": 0}");
  g_autofree char *pending = create_job_id (f, "{\"duration\": 100}");
  g_autofree char *ended = create_job_id (f, "{\"duration\": 0}");
  g_autofree char *body = g_strdup_printf ("{\"join\": [\"%s\", \"%s\", \"nope\", \"%s\"]}",
                                           pending, ended, pending);
  g_autoptr(Response) joined = post_members (f, fid, body);
  g_autoptr(GString) too_many = g_string_new ("{\"join\": [");
  g_autofree char *leave = g_strdup_printf ("{\"leave\": [\"%s\", \"nope\"]}", pending);
  g_autofree char *rejoin = g_strdup_printf ("{\"leave\": [\"%s\"], \"join\": [\"%s\"]}",
                                             pending, pending);
  g_autofree char *poll = feed_path (fid, 0, NULL);
  const char *bad[] = { "{\"join\": \"x\"}", "{\"join\": [1]}", "{\"leave\": {}}", "[]", "{" };
  JsonArray *jobs;

  /* Every job that exists, in the order asked, a joined one again. */
  g_assert_cmpuint (joined->status, ==, SOUP_STATUS_OK);
  assert_members (joined, "jobs", "unknown", "gone", NULL);
  jobs = json_object_get_array_member (object (joined), "jobs");
  g_assert_cmpuint (json_array_get_length (jobs), ==, 3);
  g_assert_cmpstr (json_object_get_string_member (job_at (jobs, 0), "id"), ==, pending);
  g_assert_cmpstr (json_object_get_string_member (job_at (jobs, 0), "status"), ==, "pending");
  g_assert_true (json_object_has_member (job_at (jobs, 0), "eta"));
  g_assert_cmpstr (json_object_get_string_member (job_at (jobs, 1), "id"), ==, ended);
  g_assert_cmpstr (json_object_get_string_member (job_at (jobs, 1), "status"), ==, "completed");
  g_assert_cmpstr (json_object_get_string_member (job_at (jobs, 2), "id"), ==, pending);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (object (joined), "unknown")), ==, 1);
  g_assert_cmpstr (json_array_get_string_element (json_object_get_array_member (object (joined), "unknown"), 0),
                   ==, "nope");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (object (joined), "gone")), ==, 0);
  /* The pending one is kept once; the ended one is not kept. */
  g_assert_true (metrics_have_line (f, "vt_feed_jobs 1"));

  /* Joining records no event. */
  {
    g_autoptr(Response) nothing = fetch (f, "GET", poll, NULL);

    assert_feed_answer (nothing, 0, FALSE, NULL);
  }

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(Response) r = post_members (f, fid, bad[i]);

      assert_json_error (r, SOUP_STATUS_BAD_REQUEST, "bad-request");
    }
  for (guint i = 0; i < 1001; i++)
    g_string_append_printf (too_many, "%s\"%u\"", i > 0 ? ", " : "", i);
  g_string_append (too_many, "]}");
  {
    g_autoptr(Response) r = post_members (f, fid, too_many->str);

    assert_json_error (r, SOUP_STATUS_BAD_REQUEST, "bad-request");
  }

  {
    g_autoptr(Response) left = post_members (f, fid, leave);

    g_assert_cmpuint (left->status, ==, SOUP_STATUS_OK);
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (object (left), "jobs")), ==, 0);
    g_assert_true (metrics_have_line (f, "vt_feed_jobs 0"));
  }
  {
    g_autoptr(Response) again = post_members (f, fid, rejoin);

    g_assert_cmpuint (again->status, ==, SOUP_STATUS_OK);
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (object (again), "jobs")), ==, 1);
    g_assert_true (metrics_have_line (f, "vt_feed_jobs 1"));
  }
}

static void
test_feeds_long_poll (Fixture       *f,
                      gconstpointer  data)
{
  g_autofree char *fid = create_feed (f, "{\"progress_interval\": 0}");
  g_autofree char *a = create_short_job_id (f, 0.3, "completed");
  g_autofree char *b = create_short_job_id (f, 0.6, "error");
  g_autofree char *c = create_job_id (f, "{\"duration\": 100}");
  g_autofree char *wait10 = vt_test_seconds_arg (10);
  g_autofree char *first_path = feed_path (fid, 0, wait10);
  g_autofree char *second_path = feed_path (fid, 1, wait10);
  g_autofree char *quiet_path = feed_path (fid, 2, "0.3");
  g_autofree char *old_path = feed_path (fid, 0, wait10);
  g_autofree char *future_path = feed_path (fid, 99, wait10);
  g_autofree char *bad_after = g_strconcat ("/feeds/", fid, "?after=-1", NULL);
  g_autofree char *bad_wait = g_strconcat ("/feeds/", fid, "?after=0&wait=soon", NULL);
  g_autoptr(Response) first = NULL;
  g_autoptr(Response) second = NULL;
  g_autoptr(Response) quiet = NULL;
  g_autoptr(Response) old = NULL;
  g_autoptr(Response) future = NULL;
  g_autoptr(Response) bad_after_r = NULL;
  g_autoptr(Response) bad_wait_r = NULL;

  join (f, fid, a);
  join (f, fid, b);
  join (f, fid, c);

  /* Held until the first change, which is the first event. */
  first = fetch (f, "GET", first_path, NULL);
  assert_feed_answer (first, 1, FALSE, a, "completed", NULL);
  g_assert_cmpfloat (first->elapsed, >=, SCALED (0.1));
  g_assert_true (json_object_has_member (job_at (json_object_get_array_member (object (first), "jobs"), 0),
                                         "result_url"));
  second = fetch (f, "GET", second_path, NULL);
  assert_feed_answer (second, 2, FALSE, b, "error", NULL);
  g_assert_true (json_object_has_member (job_at (json_object_get_array_member (object (second), "jobs"), 0),
                                         "message"));
  /* Nothing more: the wait runs out. */
  quiet = fetch (f, "GET", quiet_path, NULL);
  assert_feed_answer (quiet, 2, FALSE, NULL);
  g_assert_cmpfloat (quiet->elapsed, >=, 0.29);
  /* Ended jobs left the feed after their terminal event. */
  g_assert_true (metrics_have_line (f, "vt_feed_jobs 1"));

  /* A cursor behind what was acknowledged, or ahead of anything given
   * out, is a reset: the state of every job in the feed, at once. */
  old = fetch (f, "GET", old_path, NULL);
  assert_feed_answer (old, 3, TRUE, c, "pending", NULL);
  future = fetch (f, "GET", future_path, NULL);
  assert_feed_answer (future, 4, TRUE, c, "pending", NULL);

  bad_after_r = fetch (f, "GET", bad_after, NULL);
  assert_json_error (bad_after_r, SOUP_STATUS_BAD_REQUEST, "bad-request");
  bad_wait_r = fetch (f, "GET", bad_wait, NULL);
  assert_json_error (bad_wait_r, SOUP_STATUS_BAD_REQUEST, "bad-request");
}

static void
test_feeds_coalesced (Fixture       *f,
                      gconstpointer  data)
{
  g_autofree char *fid = create_feed (f, "{\"progress_interval\": 0.5}");
  g_autofree char *a = create_job_id (f, "{\"duration\": 100}");
  g_autofree char *b = create_job_id (f, "{\"duration\": 100}");
  g_autofree char *wait10 = vt_test_seconds_arg (10);
  g_autofree char *tick_path = feed_path (fid, 0, wait10);
  g_autofree char *later_path = feed_path (fid, 2, NULL);
  g_autoptr(Response) tick = NULL;
  g_autoptr(Response) later = NULL;
  g_autoptr(Stream) stream = NULL;
  guint64 last = 0;

  join (f, fid, a);
  join (f, fid, b);

  /* One progress tick records both jobs: one answer holds both. */
  tick = fetch (f, "GET", tick_path, NULL);
  assert_feed_answer (tick, 2, FALSE, a, "pending", b, "pending", NULL);

  /* A stream (which acknowledges nothing) sees a snapshot, then ticks. */
  stream = open_stream (f, fid, NULL);
  json_node_unref (expect_event (stream, 3, a, "pending"));
  json_node_unref (expect_event (stream, 4, b, "pending"));
  json_node_unref (expect_event (stream, 5, a, "pending"));
  json_node_unref (expect_event (stream, 6, b, "pending"));
  g_clear_pointer (&stream, stream_free);

  /* Four events and more after 2, two jobs: each once, latest first. */
  later = fetch (f, "GET", later_path, NULL);
  last = json_object_get_int_member (object (later), "next");
  g_assert_cmpuint (last, >=, 6);
  assert_feed_answer (later, last, FALSE, a, "pending", b, "pending", NULL);
}

static void
test_feeds_stream (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *fid = create_feed (f, "{\"progress_interval\": 0}");
  g_autofree char *a = create_short_job_id (f, 0.3, "completed");
  g_autofree char *b = create_job_id (f, "{\"duration\": 100}");
  g_autofree char *path = g_strconcat ("/feeds/", fid, NULL);
  g_autoptr(Stream) first = NULL;
  g_autoptr(Stream) resumed = NULL;
  g_autoptr(Stream) caught_up = NULL;
  g_autoptr(Stream) lost = NULL;
  g_autoptr(Response) deleted = NULL;
  g_autoptr(Response) gone = NULL;

  join (f, fid, a);
  join (f, fid, b);

  /* No Last-Event-ID: the state of every job, then every change. */
  first = open_stream (f, fid, NULL);
  json_node_unref (expect_event (first, 1, a, "pending"));
  json_node_unref (expect_event (first, 2, b, "pending"));
  json_node_unref (expect_event (first, 3, a, "completed"));
  g_assert_true (metrics_have_line (f, "vt_open_streams 1"));

  /* A reconnection resumes after its Last-Event-ID, with the same ids;
   * the stream before it ends (one delivery at a time). */
  resumed = open_stream (f, fid, "1");
  expect_end (first);
  json_node_unref (expect_event (resumed, 2, b, "pending"));
  json_node_unref (expect_event (resumed, 3, a, "completed"));

  /* Caught up: nothing to replay. */
  caught_up = open_stream (f, fid, "3");
  expect_end (resumed);

  /* An id the feed cannot resume from: a snapshot, as new events (the
   * ended job was acknowledged by the id 3 before). */
  lost = open_stream (f, fid, "abc");
  expect_end (caught_up);
  json_node_unref (expect_event (lost, 4, b, "pending"));

  /* Deleting the feed ends its stream. */
  deleted = fetch (f, "DELETE", path, NULL);
  g_assert_cmpuint (deleted->status, ==, SOUP_STATUS_NO_CONTENT);
  g_assert_cmpuint (g_bytes_get_size (deleted->body), ==, 0);
  expect_end (lost);
  gone = fetch (f, "GET", path, NULL);
  assert_json_error (gone, SOUP_STATUS_NOT_FOUND, "not-found");
  await_metrics_line (f, "vt_open_streams 0");
  g_assert_true (metrics_have_line (f, "vt_open_feeds 0"));
  g_assert_true (metrics_have_line (f, "vt_feed_jobs 0"));
}

static void
test_feeds_progress (Fixture       *f,
                     gconstpointer  data)
{
  g_autofree char *fid = create_feed (f, "{\"progress_interval\": 0.5}");
  g_autofree char *a = create_job_id (f, "{\"duration\": 100}");
  g_autoptr(Stream) stream = NULL;
  double elapsed[4];

  join (f, fid, a);
  stream = open_stream (f, fid, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (elapsed); i++)
    {
      g_autoptr(JsonNode) job = expect_event (stream, i + 1, a, "pending");

      elapsed[i] = json_object_get_double_member (json_node_get_object (job), "elapsed");
      g_assert_true (json_object_has_member (json_node_get_object (job), "progress"));
      if (i > 0)
        g_assert_cmpfloat (elapsed[i], >, elapsed[i - 1]);
    }

  /* Ticks on the server's clock: the snapshot came at any time, but
   * never two ticks closer than half an interval. */
  g_assert_cmpfloat (elapsed[2] - elapsed[1], >=, 0.25 - 0.002);
  g_assert_cmpfloat (elapsed[3] - elapsed[2], >=, 0.25 - 0.002);
}

static void
test_feeds_one_delivery (Fixture       *f,
                         gconstpointer  data)
{
  g_autofree char *fid = create_feed (f, "{\"progress_interval\": 0}");
  g_autofree char *a = create_job_id (f, "{\"duration\": 100}");
  g_autofree char *wait30 = vt_test_seconds_arg (30);
  g_autofree char *held_path = feed_path (fid, 0, wait30);
  g_autofree char *after_path = feed_path (fid, 1, wait30);
  g_autofree char *path = g_strconcat ("/feeds/", fid, NULL);
  g_autoptr(Response) first = NULL;
  g_autoptr(Response) second = NULL;
  g_autoptr(Response) third = NULL;
  g_autoptr(Response) deleted = NULL;
  g_autoptr(Stream) stream = NULL;
  Pending *pending;

  join (f, fid, a);

  pending = fetch_async (f, held_path);
  await_metrics_line (f, "vt_open_long_polls 1");

  /* A second long-poll answers the first as if its wait ran out. */
  {
    Pending *next = fetch_async (f, held_path);

    first = await_response (pending);
    assert_feed_answer (first, 0, FALSE, NULL);
    pending = next;
  }
  await_metrics_line (f, "vt_open_long_polls 1");

  /* A stream answers the held long-poll, then has the feed. */
  stream = open_stream (f, fid, NULL);
  second = await_response (pending);
  assert_feed_answer (second, 0, FALSE, NULL);
  json_node_unref (expect_event (stream, 1, a, "pending"));

  /* A long-poll ends the stream. */
  pending = fetch_async (f, after_path);
  await_metrics_line (f, "vt_open_long_polls 1");
  expect_end (stream);

  /* Deleting the feed answers its held long-poll. */
  deleted = fetch (f, "DELETE", path, NULL);
  g_assert_cmpuint (deleted->status, ==, SOUP_STATUS_NO_CONTENT);
  third = await_response (pending);
  assert_feed_answer (third, 1, FALSE, NULL);
  await_metrics_line (f, "vt_open_long_polls 0");
  g_assert_true (metrics_have_line (f, "vt_open_streams 0"));
}

static void
test_feeds_hang_up (Fixture       *f,
                    gconstpointer  data)
{
  g_autofree char *fid = create_feed (f, "{\"progress_interval\": 0.5}");
  g_autofree char *a = create_job_id (f, "{\"duration\": 100}");
  g_autofree char *path = feed_path (fid, 0, NULL);
  g_autoptr(Stream) stream = NULL;
  g_autoptr(Response) after = NULL;

  join (f, fid, a);
  stream = open_stream (f, fid, NULL);
  json_node_unref (expect_event (stream, 1, a, "pending"));
  g_assert_true (metrics_have_line (f, "vt_open_streams 1"));

  /* The client goes: the server notices and drops the stream, not the
   * feed, whose events are kept for the next delivery. */
  g_clear_pointer (&stream, stream_free);
  await_metrics_line (f, "vt_open_streams 0");
  after = fetch (f, "GET", path, NULL);
  g_assert_cmpuint (after->status, ==, SOUP_STATUS_OK);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (object (after), "jobs")), ==, 1);
}

typedef struct
{
  Fixture    *f;
  const char *path;
} FeedGone;

static gboolean
feed_is_gone (gpointer user_data)
{
  FeedGone *gone = user_data;

  /* /metrics, unlike a request on the feed, does not keep it alive;
   * the other feed, held, stays. */
  return metrics_have_line (gone->f, "vt_open_feeds 1");
}

static void
test_feeds_ttl (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *fid = create_feed (f, NULL);
  g_autofree char *path = g_strconcat ("/feeds/", fid, NULL);
  g_autofree char *hold = NULL;
  g_autofree char *wait = vt_test_seconds_arg (2.5);
  g_autoptr(Response) created = fetch (f, "POST", "/feeds", "{\"progress_interval\": 0}");
  g_autofree char *kept = g_strdup (string_member (created, "id"));
  FeedGone gone = { f, path };
  Pending *pending;

  g_assert_cmpfloat (json_object_get_double_member (object (created), "ttl"), ==, SCALED (1));

  /* The second feed is held by a long-poll longer than its ttl. */
  hold = feed_path (kept, 0, wait);
  pending = fetch_async (f, hold);
  await_metrics_line (f, "vt_open_long_polls 1");

  /* The first, unused, goes. */
  await_condition (feed_is_gone, &gone, 10.0, "the unused feed to expire");
  {
    g_autoptr(Response) r = fetch (f, "GET", path, NULL);

    assert_json_error (r, SOUP_STATUS_NOT_FOUND, "not-found");
  }

  /* ...while the held one was kept alive by its delivery. */
  {
    g_autoptr(Response) answered = await_response (pending);
    g_autofree char *again = feed_path (kept, 0, NULL);
    g_autoptr(Response) r = fetch (f, "GET", again, NULL);

    assert_feed_answer (answered, 0, FALSE, NULL);
    assert_feed_answer (r, 0, FALSE, NULL);
  }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  add_server_test ("/server/feeds/create", delay_long, test_feeds_create);
  add_server_test ("/server/feeds/join-leave", delay_long, test_feeds_join_leave);
  add_server_test ("/server/feeds/long-poll", delay_long, test_feeds_long_poll);
  add_server_test ("/server/feeds/coalesced", delay_long, test_feeds_coalesced);
  add_server_test ("/server/feeds/stream", delay_long, test_feeds_stream);
  add_server_test ("/server/feeds/progress", delay_long, test_feeds_progress);
  add_server_test ("/server/feeds/one-delivery", delay_long, test_feeds_one_delivery);
  add_server_test ("/server/feeds/hang-up", delay_long, test_feeds_hang_up);
  add_server_test ("/server/feeds/ttl", short_ttl, test_feeds_ttl);

  return g_test_run ();
}
