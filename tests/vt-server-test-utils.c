/* vt-server-test-utils.c: what the tests of vt-server share
 *
 * Each test starts its own vt-server (tests/vt-test-server.h) with the
 * options it needs and talks HTTP to it with a SoupSession; these are the
 * fixture, the exchanges and the assertions every test-server-*.c uses
 * (as libsoup's tests share tests/test-utils.c). Nothing here sleeps: a
 * test that needs a job to end awaits it with the server's own long-poll
 * or event stream, or checks on a timer with a deadline of its own.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vt-server-test-utils.h"

#include <string.h>

/* Starts the server with @data, its --delay and --feed-ttl scaled like every short
 * duration here (see vt_test_time_scale()). */
void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  const char * const *args = data;
  g_autoptr(GPtrArray) scaled = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; args[i] != NULL; i++)
    {
      if (i > 0 && (g_str_equal (args[i - 1], "--delay") || g_str_equal (args[i - 1], "--feed-ttl")))
        g_ptr_array_add (scaled, vt_test_seconds_arg (g_ascii_strtod (args[i], NULL)));
      else
        g_ptr_array_add (scaled, g_strdup (args[i]));
    }
  g_ptr_array_add (scaled, NULL);

  f->server = vt_test_server_startv ((const char * const *) scaled->pdata);
  f->session = soup_session_new ();
}

void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_clear_object (&f->session);
  /* Stopping asserts a clean exit, with any kept connection still open. */
  g_clear_pointer (&f->server, vt_test_server_stop);
  g_clear_object (&f->kept);
}

void
response_free (Response *r)
{
  g_clear_object (&r->msg);
  g_clear_pointer (&r->body, g_bytes_unref);
  g_clear_pointer (&r->json, json_node_unref);
  g_free (r);
}

char *
url_for (Fixture    *f,
         const char *path)
{
  return g_strconcat (vt_test_server_get_url (f->server), path, NULL);
}

/* A request to build before sending it with send_message(). */
SoupMessage *
new_message (Fixture    *f,
             const char *method,
             const char *path)
{
  g_autofree char *url = url_for (f, path);
  SoupMessage *msg = soup_message_new (method, url);

  g_assert_nonnull (msg);
  return msg;
}

/* Sets a request header of @msg; returns @msg, for chaining. */
SoupMessage *
with_header (SoupMessage *msg,
             const char  *name,
             const char  *value)
{
  soup_message_headers_replace (soup_message_get_request_headers (msg), name, value);
  return msg;
}

/* Sends @msg (taking it) and reads the answer to its end. */
Response *
send_message (Fixture     *f,
              SoupMessage *msg)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  Response *r = g_new0 (Response, 1);
  gint64 start;

  r->msg = msg;
  start = g_get_monotonic_time ();
  r->body = soup_session_send_and_read (f->session, r->msg, NULL, &error);
  r->elapsed = (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;
  g_assert_no_error (error);
  r->status = soup_message_get_status (r->msg);

  if (g_bytes_get_size (r->body) > 0 &&
      json_parser_load_from_data (parser, g_bytes_get_data (r->body, NULL),
                                  g_bytes_get_size (r->body), NULL) &&
      json_parser_get_root (parser) != NULL)
    r->json = json_node_copy (json_parser_get_root (parser));

  return r;
}

Response *
fetch_with (Fixture    *f,
            const char *method,
            const char *path,
            const char *content_type,
            GBytes     *body)
{
  SoupMessage *msg = new_message (f, method, path);

  if (body != NULL)
    soup_message_set_request_body_from_bytes (msg, content_type, body);

  return send_message (f, msg);
}

Response *
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

const char *
header (Response   *r,
        const char *name)
{
  return soup_message_headers_get_one (soup_message_get_response_headers (r->msg), name);
}

JsonObject *
object (Response *r)
{
  g_assert_nonnull (r->json);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (r->json));

  return json_node_get_object (r->json);
}

const char *
string_member (Response   *r,
               const char *name)
{
  JsonNode *node = json_object_get_member (object (r), name);

  g_assert_nonnull (node);
  g_assert_cmpint (json_node_get_value_type (node), ==, G_TYPE_STRING);
  return json_node_get_string (node);
}

/* Asserts the object has exactly the members named, in any order. */
void
assert_members (Response   *r,
                const char *first,
                ...)
{
  g_autoptr(GList) members = json_object_get_members (object (r));
  g_autofree char *body = g_strndup (g_bytes_get_data (r->body, NULL), g_bytes_get_size (r->body));
  guint n = 0;
  va_list args;

  va_start (args, first);
  for (const char *name = first; name != NULL; name = va_arg (args, const char *), n++)
    {
      if (!json_object_has_member (object (r), name))
        g_error ("%s has no member %s", body, name);
    }
  va_end (args);

  if (g_list_length (members) != n)
    g_error ("%s: expected %u members", body, n);
}

void
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

void
assert_uuid_v4 (const char *id)
{
  g_assert_true (g_uuid_string_is_valid (id));
  g_assert_cmpint (id[14], ==, '4');
}

void
assert_iso8601_ms (const char *text)
{
  g_assert_true (g_regex_match_simple ("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z$",
                                       text, 0, 0));
}

/* POSTs @json_body to /jobs, asserts a 201 and returns it. */
Response *
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

char *
create_job_id (Fixture    *f,
               const char *json_body)
{
  g_autoptr(Response) r = create_job (f, json_body);

  return g_strdup (string_member (r, "id"));
}

/* A job whose short duration races the test: scaled, so that a slow
 * server (under valgrind) still sees it pending when the test expects. */
char *
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
char *
wait_path (const char *prefix,
           const char *id,
           const char *suffix,
           double      seconds)
{
  g_autofree char *wait = vt_test_seconds_arg (seconds);

  return g_strconcat (prefix, id, suffix, wait, NULL);
}


/* Runs @sequence on the fixture's server and on a twin started with the
 * same @args (so the same --seed), asserts both agree and returns it. */
char *
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

void
event_clear (Event *event)
{
  g_free (event->event_id);
  g_free (event->id);
  g_free (event->status);
}

/* Parses a whole text/event-stream body, asserting its exact framing:
 * "id: <id>\nevent: status\ndata: <one-line JSON job>\n\n" per event.
 * An empty body has no events. */
GArray *
parse_events (GBytes *body)
{
  g_autofree char *text = g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
  g_auto(GStrv) blocks = NULL;
  GArray *events = g_array_new (FALSE, TRUE, sizeof (Event));
  guint n_blocks;

  g_array_set_clear_func (events, (GDestroyNotify) event_clear);
  if (text == NULL)
    return events;
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

      g_assert_cmpuint (g_strv_length (lines), ==, 3);
      g_assert_true (g_str_has_prefix (lines[0], "id: "));
      g_assert_cmpstr (lines[1], ==, "event: status");
      g_assert_true (g_str_has_prefix (lines[2], "data: "));
      json_parser_load_from_data (parser, lines[2] + strlen ("data: "), -1, &error);
      g_assert_no_error (error);
      job = json_node_get_object (json_parser_get_root (parser));
      event.event_id = g_strdup (lines[0] + strlen ("id: "));
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

void
assert_event (GArray     *events,
              guint       i,
              const char *id,
              const char *status)
{
  Event *event = &g_array_index (events, Event, i);

  g_assert_cmpstr (event->id, ==, id);
  g_assert_cmpstr (event->status, ==, status);
}

void
assert_event_stream_headers (Response *r)
{
  g_assert_cmpuint (r->status, ==, SOUP_STATUS_OK);
  g_assert_cmpstr (header (r, "Content-Type"), ==, "text/event-stream");
  g_assert_cmpstr (header (r, "Cache-Control"), ==, "no-cache");
  g_assert_cmpint (soup_message_headers_get_encoding (soup_message_get_response_headers (r->msg)),
                   ==, SOUP_ENCODING_CHUNKED);
}


gboolean
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
  ConditionFunc  condition;
  gpointer       user_data;
  gint64         deadline;
  const char    *what;
  GMainLoop     *loop;
} ConditionWait;

static gboolean
check_condition (gpointer user_data)
{
  ConditionWait *wait = user_data;

  if (wait->condition (wait->user_data))
    {
      g_main_loop_quit (wait->loop);
      return G_SOURCE_REMOVE;
    }
  if (g_get_monotonic_time () > wait->deadline)
    g_error ("still waiting for %s after its deadline", wait->what);

  return G_SOURCE_CONTINUE;
}

/* Checks @condition every 20 ms on a main loop until it holds, for
 * states the test cannot otherwise await; fails the test (instead of
 * hanging) when @seconds (scaled) pass first. */
void
await_condition (ConditionFunc  condition,
                 gpointer       user_data,
                 double         seconds,
                 const char    *what)
{
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  ConditionWait wait = {
    condition, user_data, g_get_monotonic_time () + (gint64) (SCALED (seconds) * G_USEC_PER_SEC),
    what, loop
  };

  if (condition (user_data))
    return;
  g_timeout_add (20, check_condition, &wait);
  g_main_loop_run (loop);
}

typedef struct
{
  Fixture    *f;
  const char *line;
} MetricsLine;

static gboolean
metrics_line_shows (gpointer user_data)
{
  MetricsLine *wanted = user_data;

  return metrics_have_line (wanted->f, wanted->line);
}

/* Scrapes /metrics until @line shows up, 10 s (scaled) at most. */
void
await_metrics_line (Fixture    *f,
                    const char *line)
{
  MetricsLine wanted = { f, line };

  await_condition (metrics_line_shows, &wanted, 10.0, line);
}

/* Sends @request on a connection of its own and reads to EOF: to see
 * exactly the bytes a spoiled response is made of (as a string: none of
 * them holds a NUL). */
char *
raw_exchange (Fixture    *f,
              const char *request)
{
  g_autoptr(GError) error = NULL;

  /* A reset may end the stream with an error rather than an EOF. */
  return raw_exchange_with_error (f, request, &error);
}

/* As raw_exchange(), and sets @error when the exchange ended with one
 * (a reset, while writing or reading) rather than an end of file. */
char *
raw_exchange_with_error (Fixture     *f,
                         const char  *request,
                         GError     **error)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GByteArray) received = g_byte_array_new ();
  g_autoptr(GError) connect_error = NULL;
  GInputStream *input;
  guint8 buffer[4096];
  gssize n;

  connection = g_socket_client_connect_to_uri (client, vt_test_server_get_url (f->server),
                                               0, NULL, &connect_error);
  g_assert_no_error (connect_error);
  if (g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (connection)),
                                 request, strlen (request), NULL, NULL, error))
    {
      input = g_io_stream_get_input_stream (G_IO_STREAM (connection));
      while ((n = g_input_stream_read (input, buffer, sizeof buffer, NULL, error)) > 0)
        g_byte_array_append (received, buffer, n);
    }

  g_byte_array_append (received, (const guint8 *) "", 1);
  return (char *) g_byte_array_free (g_steal_pointer (&received), FALSE);
}
