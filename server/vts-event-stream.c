/* vts-event-stream.c: a text/event-stream of job changes
 *
 * The response is chunked and stays open: one "status" event per job at
 * once, then one per change as each job's ::changed signal fires, one
 * for every pending job every VTS_EVENT_STREAM_PROGRESS_INTERVAL seconds
 * (one timer per stream, so that a client's progress extrapolation is
 * corrected; on a grid shared by every stream, see next_progress_time()),
 * and the body ends after every job has reached its terminal
 * state. A stream that stays open is written on its connection, taken
 * from libsoup (vts-stream-writer.c): libsoup would keep a GSource for
 * every paused stream and add two per event.
 *
 * Every event's id is the state of every job of the stream as the client
 * knows it once it has this event: one letter per job, in the order the
 * request named them, p(ending), c(ompleted) or e(rror). A client that
 * reconnects with it as Last-Event-ID is not sent again a state it
 * already has; only what changed since, then the stream goes on.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vts-event-stream.h"

#include "vts-stream-writer.h"
#include "vts-timer.h"

#include <string.h>

typedef struct
{
  VtsEventStream *stream;
  VtsJob         *job;
  guint          index;       /* in the request, and in the id */
  gulong         changed_id;  /* while pending */
} VtsEventSource;

struct _VtsEventStream
{
  VtsStreamWriter        *writer;    /* NULL until the head is decided */
  GString               *initial;   /* the events before that */
  GArray                *sources;    /* VtsEventSource, one per job named */
  char                  *states;     /* the id: what the client knows */
  guint                  n_pending;
  const VtsJobFormat     *format;
  VtsTimer               progress_timer;
  VtsEventStreamDoneFunc  done;
  gpointer               user_data;
};

/* At most VTS_EVENT_STREAM_PROGRESS_INTERVAL after @now_us, rounded down
 * to a grid of a quarter second shared by every stream: the ticks of
 * thousands of streams then fall in a few main-loop iterations instead of
 * one each, and an iteration costs GLib a look at every source, which
 * libsoup keeps one of for every paused message. */
static gint64
next_progress_time (gint64 now_us)
{
  const gint64 grid = G_USEC_PER_SEC / 4;
  gint64 due = now_us + VTS_EVENT_STREAM_PROGRESS_INTERVAL * G_USEC_PER_SEC;

  return due - due % grid;
}

static char
state_letter (VtsJobState state)
{
  return vts_job_state_to_string (state)[0];
}

static void
vts_event_source_clear (VtsEventSource *source)
{
  g_clear_signal_handler (&source->changed_id, source->job);
  g_clear_object (&source->job);
}

static void
write_event (VtsEventStream *self,
             VtsJob         *job,
             gint64          now_us)
{
  g_autoptr(JsonNode) node = vts_job_to_json (job, now_us, self->format);
  g_autofree char *data = json_to_string (node, FALSE);
  g_autofree char *event = NULL;

  /* json_to_string without pretty-printing never emits a newline, so the
   * whole job fits the one data: line. */
  event = g_strdup_printf ("id: %s\nevent: status\ndata: %s\n\n", self->states, data);
  if (self->writer != NULL)
    vts_stream_writer_write (self->writer, event);
  else
    g_string_append (self->initial, event);
}

/* Writes @source's job as of @now_us; a job found ended (by ::changed,
 * or by a progress tick that came first) stops being followed. Returns
 * FALSE once no job is pending: the body is then complete. */
static gboolean
record (VtsEventSource *source,
        gint64          now_us)
{
  VtsEventStream *self = source->stream;
  VtsJobState state = vts_job_get_state (source->job, now_us);

  self->states[source->index] = state_letter (state);
  write_event (self, source->job, now_us);
  if (state != VTS_JOB_STATE_PENDING)
    {
      g_clear_signal_handler (&source->changed_id, source->job);
      self->n_pending--;
    }

  if (self->n_pending > 0)
    return TRUE;

  /* The writer sends the last chunk and closes on its own. */
  vts_stream_writer_finish (g_steal_pointer (&self->writer));
  return FALSE;
}

/* Hands the stream back once it is over. */
static void
flush (VtsEventStream *self,
       gboolean        going_on)
{
  if (!going_on)
    {
      vts_timer_cancel (&self->progress_timer);
      self->done (self, self->user_data);
    }
}

static void
vts_event_stream_on_changed (VtsJob    *job,
                            gpointer  user_data)
{
  VtsEventSource *source = user_data;

  flush (source->stream, record (source, g_get_monotonic_time ()));
}

static void
vts_event_stream_on_progress (VtsTimer *timer,
                             gpointer  user_data)
{
  VtsEventStream *self = user_data;
  gint64 now = g_get_monotonic_time ();
  gboolean going_on = TRUE;

  for (guint i = 0; i < self->sources->len && going_on; i++)
    {
      VtsEventSource *source = &g_array_index (self->sources, VtsEventSource, i);

      if (source->changed_id != 0)
        going_on = record (source, now);
    }

  if (going_on)
    vts_timer_schedule (timer, next_progress_time (now));
  flush (self, going_on);
}

static void
vts_event_stream_on_gone (gpointer user_data)
{
  VtsEventStream *self = user_data;

  g_clear_pointer (&self->writer, vts_stream_writer_free);
  vts_timer_cancel (&self->progress_timer);
  self->done (self, self->user_data);
}

/* The states a reconnecting client says it knows: Last-Event-ID when it
 * is one of ours for this many jobs, else nothing known ('?'). */
static char *
known_states (const char *last_event_id,
              guint       n_jobs)
{
  if (last_event_id != NULL && strlen (last_event_id) == n_jobs &&
      strspn (last_event_id, "pce") == n_jobs)
    return g_strdup (last_event_id);

  return g_strnfill (n_jobs, '?');
}

/* The head every event stream answers with, feeds' too. */
void
vts_event_stream_start_response (SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);

  soup_message_headers_set_content_type (headers, "text/event-stream", NULL);
  soup_message_headers_set_encoding (headers, SOUP_ENCODING_CHUNKED);
  soup_message_headers_replace (headers, "Cache-Control", "no-cache");
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
}

/*
 * vts_event_stream_new:
 * @msg: a GET whose handler is about to return
 * @jobs: (array length=n_jobs): the jobs to follow, at least one
 * @format: how job documents are written; outlives the stream
 * @last_event_id: (nullable): the request's Last-Event-ID
 *
 * Starts the response of @msg: headers and the state of every job the
 * client does not know yet.
 *
 * Returns: (nullable): the stream, to free from @done; %NULL if every job
 * had already ended, so that the body is already complete
 */
VtsEventStream *
vts_event_stream_new (SoupServerMessage     *msg,
                     VtsJob * const         *jobs,
                     guint                  n_jobs,
                     const VtsJobFormat     *format,
                     const char            *last_event_id,
                     VtsEventStreamDoneFunc  done,
                     gpointer               user_data)
{
  VtsEventStream *self;
  gint64 now = g_get_monotonic_time ();

  g_return_val_if_fail (SOUP_IS_SERVER_MESSAGE (msg), NULL);
  g_return_val_if_fail (n_jobs > 0, NULL);

  vts_event_stream_start_response (msg);

  self = g_new0 (VtsEventStream, 1);
  self->done = done;
  self->user_data = user_data;
  self->format = format;
  self->states = known_states (last_event_id, n_jobs);
  self->sources = g_array_sized_new (FALSE, TRUE, sizeof (VtsEventSource), n_jobs);
  g_array_set_clear_func (self->sources, (GDestroyNotify) vts_event_source_clear);
  self->initial = g_string_new (NULL);
  vts_timer_init (&self->progress_timer, vts_event_stream_on_progress, self);

  /* Sized up front: the sources' addresses are the signal data. One
   * instant for all: a job counted pending must be written pending, or
   * its terminal state would be sent twice. */
  g_array_set_size (self->sources, n_jobs);
  for (guint i = 0; i < n_jobs; i++)
    {
      VtsEventSource *source = &g_array_index (self->sources, VtsEventSource, i);
      VtsJobState state = vts_job_get_state (jobs[i], now);

      source->stream = self;
      source->job = g_object_ref (jobs[i]);
      source->index = i;
      if (self->states[i] != state_letter (state))
        {
          self->states[i] = state_letter (state);
          write_event (self, jobs[i], now);
        }
      if (state == VTS_JOB_STATE_PENDING)
        {
          self->n_pending++;
          source->changed_id = g_signal_connect (jobs[i], "changed",
                                                 G_CALLBACK (vts_event_stream_on_changed),
                                                 source);
        }
    }

  /* Over already: libsoup writes it all, as any response. */
  if (self->n_pending == 0)
    {
      SoupMessageBody *body = soup_server_message_get_response_body (msg);

      if (self->initial->len > 0)
        soup_message_body_append (body, SOUP_MEMORY_COPY, self->initial->str, self->initial->len);
      soup_message_body_complete (body);
      vts_event_stream_free (self);
      return NULL;
    }

  self->writer = vts_stream_writer_new (msg, vts_event_stream_on_gone, self);
  if (self->writer == NULL)
    {
      vts_event_stream_free (self);
      return NULL;
    }
  vts_stream_writer_write (self->writer, self->initial->str);
  g_string_truncate (self->initial, 0);

  vts_timer_schedule (&self->progress_timer, next_progress_time (now));
  return self;
}

void
vts_event_stream_free (VtsEventStream *self)
{
  if (self == NULL)
    return;

  vts_timer_cancel (&self->progress_timer);
  g_array_unref (self->sources);
  g_clear_pointer (&self->writer, vts_stream_writer_free);
  g_string_free (self->initial, TRUE);
  g_free (self->states);
  g_free (self);
}
