/* test-server-events.c: vt-server against docs/protocol.md: event streams of jobs
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

#include "vt-server-test-utils.h"

static ServerArgs delay_long = { "--delay", "30", NULL };

/* The events of @events that change their job's status: a stream also
 * sends a pending job's state every 2 s (more of them the slower the
 * server), which these tests of the order of changes skip. */
static GArray *
status_changes (GArray *events)
{
  g_autoptr(GHashTable) last = g_hash_table_new (g_str_hash, g_str_equal);
  GArray *changes = g_array_new (FALSE, TRUE, sizeof (Event));

  g_array_set_clear_func (changes, (GDestroyNotify) event_clear);
  for (guint i = 0; i < events->len; i++)
    {
      Event *event = &g_array_index (events, Event, i);
      Event copy;

      if (g_strcmp0 (g_hash_table_lookup (last, event->id), event->status) == 0)
        continue;
      g_hash_table_insert (last, event->id, event->status);
      copy.event_id = g_strdup (event->event_id);
      copy.id = g_strdup (event->id);
      copy.status = g_strdup (event->status);
      g_array_append_val (changes, copy);
    }

  return changes;
}

static void
assert_event_id (GArray     *events,
                 guint       i,
                 const char *event_id)
{
  g_assert_cmpstr (g_array_index (events, Event, i).event_id, ==, event_id);
}

/* GETs @path with @last_event_id, and returns its events. */
static GArray *
fetch_events (Fixture    *f,
              const char *path,
              const char *last_event_id)
{
  SoupMessage *msg = new_message (f, "GET", path);
  g_autoptr(Response) r = send_message (f, with_header (msg, "Last-Event-ID", last_event_id));

  assert_event_stream_headers (r);
  return parse_events (r->body);
}

static void
test_events_single (Fixture       *f,
                    gconstpointer  data)
{
  g_autofree char *id = create_short_job_id (f, 0.3, "completed");
  g_autofree char *path = g_strconcat ("/jobs/", id, "/events", NULL);
  g_autoptr(Response) r = fetch (f, "GET", path, NULL);
  g_autoptr(GArray) all_events = parse_events (r->body);
  g_autoptr(GArray) events = status_changes (all_events);
  g_autoptr(Response) replay = fetch (f, "GET", path, NULL);
  g_autoptr(GArray) replay_events = parse_events (replay->body);
  g_autoptr(Response) unknown = fetch (f, "GET", "/jobs/0b8e5c4e-0000-4000-8000-000000000000/events", NULL);

  /* The state at once, the change, then the end of the body. */
  assert_event_stream_headers (r);
  g_assert_cmpuint (events->len, ==, 2);
  assert_event (events, 0, id, "pending");
  assert_event_id (events, 0, "p");
  assert_event (events, 1, id, "completed");
  assert_event_id (events, 1, "c");
  g_assert_cmpfloat (r->elapsed, >=, SCALED (0.15));
  g_assert_cmpfloat (r->elapsed, <, SCALED (5.0));

  /* An ended job: its one terminal event, at once. */
  assert_event_stream_headers (replay);
  g_assert_cmpuint (replay_events->len, ==, 1);
  assert_event (replay_events, 0, id, "completed");
  assert_event_id (replay_events, 0, "c");

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
  g_autoptr(GArray) all_events = parse_events (r->body);
  g_autoptr(GArray) events = status_changes (all_events);
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
  /* Each id is the state of every job as the client knows it then. */
  assert_event_id (events, 0, "p??");
  assert_event_id (events, 1, "pp?");
  assert_event_id (events, 2, "ppc");
  assert_event_id (events, 3, "cpc");
  assert_event_id (events, 4, "cec");
  g_assert_cmpfloat (r->elapsed, >=, SCALED (0.35));
  g_assert_cmpfloat (r->elapsed, <, SCALED (5.0));

  assert_json_error (unknown, SOUP_STATUS_NOT_FOUND, "not-found");
  assert_json_error (none, SOUP_STATUS_BAD_REQUEST, "bad-request");
}

static void
test_events_progress (Fixture       *f,
                      gconstpointer  data)
{
  g_autofree char *id = create_short_job_id (f, 2.5, "completed");
  g_autofree char *path = g_strconcat ("/jobs/", id, "/events", NULL);
  g_autoptr(Response) r = fetch (f, "GET", path, NULL);
  g_autoptr(GArray) events = parse_events (r->body);
  double previous = -1.0;

  /* The state at once, again at least every 2 s while pending (so a
   * client's progress extrapolation is corrected), then the end. */
  g_assert_cmpuint (events->len, >=, 3);
  for (guint i = 0; i + 1 < events->len; i++)
    {
      assert_event (events, i, id, "pending");
      assert_event_id (events, i, "p");
    }
  assert_event (events, events->len - 1, id, "completed");

  /* The server's clock: never two events of a pending job closer than
   * the 2 s period less the quarter-second grid the streams share. */
  {
    g_autofree char *text = g_strndup (g_bytes_get_data (r->body, NULL), g_bytes_get_size (r->body));
    g_auto(GStrv) lines = g_strsplit (text, "\n", -1);

    for (guint i = 0; lines[i] != NULL; i++)
      {
        g_autoptr(JsonNode) node = NULL;
        JsonObject *job;

        if (!g_str_has_prefix (lines[i], "data: "))
          continue;
        node = json_from_string (lines[i] + strlen ("data: "), NULL);
        job = json_node_get_object (node);
        if (!json_object_has_member (job, "elapsed"))
          continue;
        if (previous >= 0)
          g_assert_cmpfloat (json_object_get_double_member (job, "elapsed") - previous, >=, 1.75 - 0.002);
        previous = json_object_get_double_member (job, "elapsed");
      }
  }
}

static void
test_events_last_event_id (Fixture       *f,
                           gconstpointer  data)
{
  /* Shorter than the 2 s between progress events, whatever the scale:
   * any pending event would be one sent at once. */
  g_autofree char *a = create_short_job_id (f, 0.15, "completed");
  g_autofree char *b = create_job_id (f, "{\"duration\": 0, \"outcome\": \"error\"}");
  g_autofree char *single = g_strconcat ("/jobs/", a, "/events", NULL);
  g_autofree char *ended = g_strconcat ("/jobs/", b, "/events", NULL);
  g_autofree char *both = g_strdup_printf ("/events?job=%s&job=%s", a, b);
  g_autoptr(GArray) resumed = NULL;
  g_autoptr(GArray) nothing = NULL;
  g_autoptr(GArray) multiplexed = NULL;
  g_autoptr(GArray) foreign = NULL;

  /* The client saw pending: not sent again, only the end. */
  resumed = fetch_events (f, single, "p");
  g_assert_cmpuint (resumed->len, ==, 1);
  assert_event (resumed, 0, a, "completed");
  assert_event_id (resumed, 0, "c");

  /* The client saw the end: nothing more, and the stream ends. */
  nothing = fetch_events (f, ended, "e");
  g_assert_cmpuint (nothing->len, ==, 0);

  /* Several jobs: only what the client lacks (a's end, not b's). */
  multiplexed = fetch_events (f, both, "pe");
  g_assert_cmpuint (multiplexed->len, ==, 1);
  assert_event (multiplexed, 0, a, "completed");
  assert_event_id (multiplexed, 0, "ce");

  /* An id that is not one of ours for this stream: everything. */
  foreign = fetch_events (f, both, "p");
  g_assert_cmpuint (foreign->len, ==, 2);
  assert_event (foreign, 0, a, "completed");
  assert_event_id (foreign, 0, "c?");
  assert_event (foreign, 1, b, "error");
  assert_event_id (foreign, 1, "ce");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  add_server_test ("/server/events/single", delay_long, test_events_single);
  add_server_test ("/server/events/multiplexed", delay_long, test_events_multiplexed);
  add_server_test ("/server/events/progress", delay_long, test_events_progress);
  add_server_test ("/server/events/last-event-id", delay_long, test_events_last_event_id);

  return g_test_run ();
}
