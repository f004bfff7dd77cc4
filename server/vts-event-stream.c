/* vts-event-stream.c: a text/event-stream of job changes
 *
 * The response is chunked and stays open: one "status" event per job at
 * once, then one per change as each job's ::changed signal fires, and the
 * body ends after every job has reached its terminal state. Between
 * events libsoup pauses the message itself (it has no chunk to write);
 * appending a chunk and unpausing sends it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vts-event-stream.h"

#include "vts-held-message.h"

#include <string.h>

typedef struct
{
  VtsEventStream *stream;
  VtsJob         *job;
  gulong         changed_id;
} VtsEventSource;

struct _VtsEventStream
{
  VtsHeldMessage         *held;
  GArray                *sources;    /* VtsEventSource */
  guint                  n_pending;
  VtsEventStreamDoneFunc  done;
  gpointer               user_data;
};

static void
vts_event_source_clear (VtsEventSource *source)
{
  g_clear_signal_handler (&source->changed_id, source->job);
  g_clear_object (&source->job);
}

static void
write_event (SoupServerMessage *msg,
             VtsJob             *job,
             gint64             now_us)
{
  g_autoptr(JsonNode) node = vts_job_to_json (job, now_us, TRUE);
  g_autofree char *data = json_to_string (node, FALSE);
  char *event;

  /* json_to_string without pretty-printing never emits a newline, so the
   * whole job fits the one data: line. */
  event = g_strdup_printf ("event: status\ndata: %s\n\n", data);
  soup_message_body_append (soup_server_message_get_response_body (msg),
                            SOUP_MEMORY_TAKE, event, strlen (event));
}


static void
vts_event_stream_on_changed (VtsJob    *job,
                            gpointer  user_data)
{
  VtsEventSource *source = user_data;
  VtsEventStream *self = source->stream;

  SoupServerMessage *msg = vts_held_message_get_message (self->held);

  g_clear_signal_handler (&source->changed_id, source->job);
  write_event (msg, job, g_get_monotonic_time ());
  if (--self->n_pending == 0)
    soup_message_body_complete (soup_server_message_get_response_body (msg));
  soup_server_message_unpause (msg);

  if (self->n_pending == 0)
    self->done (self, self->user_data);
}

static void
vts_event_stream_on_gone (gpointer user_data)
{
  VtsEventStream *self = user_data;

  self->done (self, self->user_data);
}

/*
 * vts_event_stream_new:
 * @msg: a GET whose handler is about to return
 * @jobs: (array length=n_jobs): the jobs to follow, at least one
 *
 * Starts the response of @msg: headers and the current state of every
 * job.
 *
 * Returns: (nullable): the stream, to free from @done; %NULL if every job
 * had already ended, so that the body is already complete
 */
VtsEventStream *
vts_event_stream_new (SoupServerMessage     *msg,
                     VtsJob * const         *jobs,
                     guint                  n_jobs,
                     VtsEventStreamDoneFunc  done,
                     gpointer               user_data)
{
  SoupMessageHeaders *headers;
  VtsEventStream *self;
  gint64 now = g_get_monotonic_time ();
  guint n_pending = 0;

  g_return_val_if_fail (SOUP_IS_SERVER_MESSAGE (msg), NULL);
  g_return_val_if_fail (n_jobs > 0, NULL);

  headers = soup_server_message_get_response_headers (msg);
  soup_message_headers_set_content_type (headers, "text/event-stream", NULL);
  soup_message_headers_set_encoding (headers, SOUP_ENCODING_CHUNKED);
  soup_message_headers_replace (headers, "Cache-Control", "no-cache");
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);

  /* One instant for all: a job counted pending must be written pending,
   * or its terminal state would be sent twice. */
  for (guint i = 0; i < n_jobs; i++)
    {
      write_event (msg, jobs[i], now);
      if (vts_job_get_state (jobs[i], now) == VTS_JOB_STATE_PENDING)
        n_pending++;
    }

  if (n_pending == 0)
    {
      soup_message_body_complete (soup_server_message_get_response_body (msg));
      return NULL;
    }

  self = g_new0 (VtsEventStream, 1);
  self->done = done;
  self->user_data = user_data;
  self->n_pending = n_pending;
  self->sources = g_array_sized_new (FALSE, TRUE, sizeof (VtsEventSource), n_pending);
  g_array_set_clear_func (self->sources, (GDestroyNotify) vts_event_source_clear);
  self->held = vts_held_message_new (msg, vts_event_stream_on_gone, self);

  /* Sized up front: the sources' addresses are the signal data. */
  g_array_set_size (self->sources, n_pending);
  for (guint i = 0, j = 0; i < n_jobs; i++)
    {
      VtsEventSource *source;

      if (vts_job_get_state (jobs[i], now) != VTS_JOB_STATE_PENDING)
        continue;

      source = &g_array_index (self->sources, VtsEventSource, j++);
      source->stream = self;
      source->job = g_object_ref (jobs[i]);
      source->changed_id = g_signal_connect (jobs[i], "changed",
                                             G_CALLBACK (vts_event_stream_on_changed),
                                             source);
    }

  return self;
}

void
vts_event_stream_free (VtsEventStream *self)
{
  if (self == NULL)
    return;

  g_array_unref (self->sources);
  vts_held_message_free (self->held);
  g_free (self);
}
