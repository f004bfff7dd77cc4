/* vt-channel-stream.c: how we ask, by listening
 *
 * Opens an event stream (a job's /jobs/{id}/events, or a feed's) and
 * turns each "status" event into a job observation for its caller. The
 * stream completes when the server closes it; how it closed (cleanly, a
 * dropped connection, an HTTP error, an event we cannot read, silence
 * longer than the idle timeout) is reported as a #VtExchange like any
 * request.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "vt-channel-stream-private.h"
#include "vt-error.h"
#include "vt-sse-parser-private.h"

typedef struct
{
  SoupMessage             *message;
  VtRequestCancellable     request;   /* its timer guards the connection */
  GDataInputStream        *lines;
  VtSseParser              parser;
  const VtStreamCallbacks *callbacks;
  gpointer                 callback_data;
  double                   idle_timeout;
  VtExchange              *exchange;
} StreamData;

static void
stream_data_free (StreamData *data)
{
  vt_request_cancellable_clear (&data->request);
  g_clear_object (&data->lines);
  g_clear_object (&data->message);
  vt_sse_parser_clear (&data->parser);
  g_clear_pointer (&data->exchange, vt_exchange_free);
  g_free (data);
}

static void
finish_stream (GTask *task)
{
  StreamData *data = g_task_get_task_data (task);


  vt_request_cancellable_stop_timer (&data->request);
  /* Let go of the connection now, not whenever the task is freed: a
   * stream its reader gave up on is closed with the cancelled
   * cancellable, so libsoup drops the connection rather than read on. */
  if (data->lines != NULL && data->exchange->kind == VT_EXCHANGE_CANCELLED)
    g_input_stream_close (G_INPUT_STREAM (data->lines), data->request.cancellable, NULL);
  g_clear_object (&data->lines);
  g_task_return_pointer (task, g_steal_pointer (&data->exchange),
                         (GDestroyNotify) vt_exchange_free);
}

static void
fail_stream (GTask          *task,
             VtExchangeKind  kind,
             GError         *error)
{
  StreamData *data = g_task_get_task_data (task);

  data->exchange->kind = kind;
  g_clear_error (&data->exchange->error);
  data->exchange->error = error;
  finish_stream (task);
}

/* Returns %FALSE when the event ended the stream with an error. */
static gboolean
dispatch_event (GTask      *task,
                const char *event,
                const char *text)
{
  StreamData *data = g_task_get_task_data (task);
  g_auto(VtJobObservation) observation = { 0 };
  GError *error = NULL;

  /* Unknown event types are for other clients. */
  if (g_strcmp0 (event, "status") != 0 && g_strcmp0 (event, "message") != 0)
    return TRUE;

  if (!vt_job_response_parse (text, strlen (text), &observation, &error))
    {
      fail_stream (task, VT_EXCHANGE_PROTOCOL, error);
      return FALSE;
    }

  data->callbacks->event (&observation, data->parser.last_id, data->callback_data);
  return TRUE;
}

static void read_next_line (GTask *task);

static void
on_line (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  StreamData *data = g_task_get_task_data (task);
  g_autofree char *line = NULL;
  g_autofree char *event = NULL;
  g_autofree char *text = NULL;
  GError *error = NULL;
  gsize length;

  line = g_data_input_stream_read_line_finish_utf8 (data->lines, result, &length, &error);
  if (error != NULL)
    {
      error = vt_request_cancellable_explain (&data->request, error,
                                              "The event stream was silent for too long");
      vt_exchange_set_send_error (data->exchange, error,
                                  data->request.timed_out ? NULL : data->request.cancellable);
      finish_stream (task);
      return;
    }

  if (data->idle_timeout > 0)
    vt_request_cancellable_restart_timer (&data->request, data->idle_timeout);

  if (line == NULL)
    {
      /* The server closed the stream: cleanly, as far as HTTP goes. */
      data->exchange->kind = VT_EXCHANGE_OK;
      finish_stream (task);
      return;
    }

  switch (vt_sse_parser_feed (&data->parser, line, &event, &text))
    {
    case VT_SSE_EVENT:
      if (!dispatch_event (task, event, text))
        return;
      /* The event may have ended the watch, and with it this stream. */
      if (g_cancellable_is_cancelled (data->request.cancellable))
        {
          data->exchange->kind = VT_EXCHANGE_CANCELLED;
          finish_stream (task);
          return;
        }
      break;

    case VT_SSE_TOO_LARGE:
      fail_stream (task, VT_EXCHANGE_PROTOCOL,
                   g_error_new (VT_CLIENT_ERROR, VT_CLIENT_ERROR_PROTOCOL,
                                "An event exceeds the %d-byte limit",
                                VT_SSE_MAX_EVENT_SIZE));
      return;

    case VT_SSE_NEED_MORE:
    default:
      break;
    }

  read_next_line (g_steal_pointer (&task));
}

static void
read_next_line (GTask *task)
{
  StreamData *data = g_task_get_task_data (task);

  g_data_input_stream_read_line_async (data->lines, G_PRIORITY_DEFAULT,
                                       data->request.cancellable, on_line, task);
}

static void
on_stream_opened (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  StreamData *data = g_task_get_task_data (task);
  g_autoptr(GInputStream) body = NULL;
  const char *content_type;
  GError *error = NULL;

  body = soup_session_send_finish (SOUP_SESSION (object), result, &error);
  if (data->idle_timeout > 0)
    vt_request_cancellable_restart_timer (&data->request, data->idle_timeout);
  else
    vt_request_cancellable_stop_timer (&data->request);

  if (body == NULL)
    {
      error = vt_request_cancellable_explain (&data->request, error,
                                              "The event stream did not open in time");
      vt_exchange_set_send_error (data->exchange, error,
                                  data->request.timed_out ? NULL : data->request.cancellable);
      finish_stream (task);
      return;
    }

  vt_exchange_read_answer (data->exchange, data->message, VT_REQUEST_JOB);
  if (data->exchange->kind != VT_EXCHANGE_OK)
    {
      finish_stream (task);
      return;
    }

  content_type = soup_message_headers_get_content_type (
      soup_message_get_response_headers (data->message), NULL);
  if (g_strcmp0 (content_type, "text/event-stream") != 0)
    {
      fail_stream (task, VT_EXCHANGE_PROTOCOL,
                   g_error_new (VT_CLIENT_ERROR, VT_CLIENT_ERROR_PROTOCOL,
                                "Expected an event stream, got “%s”",
                                content_type ? content_type : "no content type"));
      return;
    }

  if (data->callbacks->opened != NULL)
    data->callbacks->opened (data->exchange->capabilities, data->callback_data);

  /* The callback may have given up on the stream. */
  if (g_cancellable_is_cancelled (data->request.cancellable))
    {
      data->exchange->kind = VT_EXCHANGE_CANCELLED;
      finish_stream (task);
      return;
    }

  data->lines = g_data_input_stream_new (body);
  g_data_input_stream_set_newline_type (data->lines, G_DATA_STREAM_NEWLINE_TYPE_ANY);
  read_next_line (g_steal_pointer (&task));
}

/*
 * vt_channel_stream_async:
 * @last_event_id: (nullable): sent as Last-Event-ID, to resume after it
 * @connect_timeout: seconds the server has to start answering
 * @idle_timeout: once open, the longest silence between two lines, or 0
 *   to let a quiet stream be for as long as the job runs (servers that
 *   send no heartbeat)
 * @callbacks: told as the stream opens and for each observation, before
 *   the stream completes; they must outlive it
 */
void
vt_channel_stream_async (SoupSession             *session,
                         GUri                    *uri,
                         const char              *token,
                         const char              *last_event_id,
                         double                   connect_timeout,
                         double                   idle_timeout,
                         GCancellable            *cancellable,
                         const VtStreamCallbacks *callbacks,
                         gpointer                 callback_data,
                         GAsyncReadyCallback      callback,
                         gpointer                 user_data)
{
  g_autoptr(GTask) task = NULL;
  StreamData *data;

  task = g_task_new (session, cancellable, callback, user_data);
  g_task_set_source_tag (task, vt_channel_stream_async);
  g_task_set_name (task, "vt_channel_stream_async");
  g_task_set_check_cancellable (task, FALSE);

  data = g_new0 (StreamData, 1);
  data->message = vt_channel_http_new_job_message (uri, token);
  soup_message_headers_replace (soup_message_get_request_headers (data->message),
                                "Accept", "text/event-stream");
  if (last_event_id != NULL)
    soup_message_headers_replace (soup_message_get_request_headers (data->message),
                                  "Last-Event-ID", last_event_id);
  data->callbacks = callbacks;
  data->callback_data = callback_data;
  data->idle_timeout = idle_timeout;
  data->exchange = vt_exchange_new ();
  vt_sse_parser_init (&data->parser);
  g_task_set_task_data (task, data, (GDestroyNotify) stream_data_free);

  vt_request_cancellable_init (&data->request, cancellable, connect_timeout,
                               "[vtclient] stream connect timeout", g_task_get_context (task));

  soup_session_send_async (session, data->message, G_PRIORITY_DEFAULT,
                           data->request.cancellable, on_stream_opened,
                           g_steal_pointer (&task));
}

VtExchange *
vt_channel_stream_finish (SoupSession  *session,
                          GAsyncResult *result)
{
  g_return_val_if_fail (g_task_is_valid (result, session), NULL);

  return g_task_propagate_pointer (G_TASK (result), NULL);
}
