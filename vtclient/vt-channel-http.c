/* vt-channel-http.c: how we ask, one HTTP exchange at a time
 *
 * Sends one request with a deadline of its own, reads at most a bounded
 * number of bytes of the answer and says, through the protocol unit, what
 * kind of answer it was. Plain polls, long-polls, joins and feed
 * long-polls are all this exchange; they differ in the URL, the body and
 * the timeout their caller passes.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "vt-channel-http-private.h"
#include "vt-error.h"

VtExchange *
vt_exchange_new (void)
{
  VtExchange *exchange = g_new0 (VtExchange, 1);

  exchange->hints = VT_SCHEDULE_NO_HINTS;
  exchange->rate = VT_RATE_INFO_NONE;
  exchange->observation.progress = -1.0;
  exchange->observation.eta = -1.0;
  exchange->observation.elapsed = -1.0;

  return exchange;
}

void
vt_exchange_free (VtExchange *exchange)
{
  vt_job_observation_clear (&exchange->observation);
  g_clear_error (&exchange->error);
  g_clear_pointer (&exchange->location, g_uri_unref);
  g_free (exchange->etag);
  g_free (exchange);
}

/* The rate-limit fields, and a 429's or 503's Retry-After: what every
 * job's next request must heed. */
static void
read_rate_info (VtExchange         *exchange,
                SoupMessageHeaders *headers)
{
  VtRateInfo *rate = &exchange->rate;

  *rate = VT_RATE_INFO_NONE;
  if (!vt_protocol_parse_ratelimit_policy (soup_message_headers_get_one (headers, "RateLimit-Policy"),
                                           &rate->quota, &rate->window))
    rate->quota = rate->window = -1.0;
  if (!vt_protocol_parse_ratelimit (soup_message_headers_get_one (headers, "RateLimit"),
                                    &rate->remaining, &rate->reset))
    rate->remaining = rate->reset = -1.0;
  if (exchange->http_status == 429 || exchange->http_status == SOUP_STATUS_SERVICE_UNAVAILABLE)
    rate->retry_after = exchange->hints.retry_after;
}

/*
 * vt_exchange_read_answer:
 *
 * Reads what every answer says, whatever the channel: the status line
 * and what it means for @request, the headers (capabilities, Retry-After)
 * and, for a redirect, where to. A redirect without a usable http(s)
 * Location is a fatal answer.
 */
void
vt_exchange_read_answer (VtExchange    *exchange,
                         SoupMessage   *message,
                         VtRequestKind  request)
{
  SoupMessageHeaders *headers = soup_message_get_response_headers (message);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();

  exchange->http_status = soup_message_get_status (message);
  exchange->capabilities =
    vt_protocol_parse_capabilities (soup_message_headers_get_one (headers, "Vt-Capabilities"));
  exchange->hints.retry_after =
    vt_protocol_parse_retry_after (soup_message_headers_get_one (headers, "Retry-After"), now);
  g_free (exchange->etag);
  exchange->etag = g_strdup (soup_message_headers_get_one (headers, "ETag"));
  read_rate_info (exchange, headers);
  /* A 304 has no body to say the job's timing: its header does. */
  if (exchange->http_status == SOUP_STATUS_NOT_MODIFIED &&
      !vt_protocol_parse_eta (soup_message_headers_get_one (headers, "Vt-Eta"),
                              &exchange->observation.eta, &exchange->observation.elapsed))
    exchange->observation.eta = exchange->observation.elapsed = -1.0;

  g_clear_error (&exchange->error);
  exchange->kind = vt_protocol_classify_status (exchange->http_status,
                                                soup_message_get_reason_phrase (message),
                                                request, &exchange->error);
  if (exchange->kind != VT_EXCHANGE_REDIRECT)
    return;

  exchange->location =
    vt_protocol_redirect_target (soup_message_get_uri (message),
                                 soup_message_headers_get_one (headers, "Location"));
  if (exchange->location == NULL)
    {
      exchange->kind = VT_EXCHANGE_FATAL;
      g_set_error (&exchange->error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_HTTP,
                   "The server redirected (HTTP %u) to no http or https URL",
                   exchange->http_status);
    }
}

/*
 * vt_exchange_set_send_error:
 *
 * Classifies a request that got no answer (takes @error).
 */
void
vt_exchange_set_send_error (VtExchange   *exchange,
                            GError       *error,
                            GCancellable *cancellable)
{
  g_clear_error (&exchange->error);
  exchange->kind = g_cancellable_is_cancelled (cancellable) ?
                   VT_EXCHANGE_CANCELLED : vt_protocol_classify_failure (error);
  exchange->error = error;
}

SoupMessage *
vt_channel_http_new_message (const char *method,
                             GUri       *uri,
                             const char *token)
{
  SoupMessage *message = soup_message_new_from_uri (method, uri);
  SoupMessageHeaders *headers = soup_message_get_request_headers (message);

  soup_message_headers_replace (headers, "Accept", "application/json");
  if (token != NULL && *token != '\0')
    {
      g_autofree char *auth = g_strdup_printf ("Bearer %s", token);

      soup_message_headers_replace (headers, "Authorization", auth);
    }

  return message;
}

/* A GET of a job or its events: redirects come back to the watch, which
 * counts each hop as one of its requests instead of letting libsoup
 * follow them unseen. */
SoupMessage *
vt_channel_http_new_job_message (GUri       *uri,
                                 const char *token)
{
  SoupMessage *message = vt_channel_http_new_message (SOUP_METHOD_GET, uri, token);

  soup_message_add_flags (message, SOUP_MESSAGE_NO_REDIRECT);

  return message;
}

/* ------------------------------------------------------------------ */
/* A request's own cancellable                                         */

static void
forward_cancel (GCancellable *caller,
                GCancellable *request)
{
  g_cancellable_cancel (request);
}

static gboolean
request_timed_out (gpointer user_data)
{
  VtRequestCancellable *self = user_data;

  self->timed_out = TRUE;
  g_clear_pointer (&self->timer, g_source_unref);
  g_cancellable_cancel (self->cancellable);

  return G_SOURCE_REMOVE;
}

/*
 * vt_request_cancellable_init:
 * @caller: (nullable): the caller's cancellable
 * @timeout: seconds before the timer cancels
 * @context: where the timer runs (the task's context)
 *
 * @self must stay where it is until vt_request_cancellable_clear(): the
 * timer points at it (and holds no reference, so nothing has to be undone
 * before the owner can be freed).
 */
void
vt_request_cancellable_init (VtRequestCancellable *self,
                             GCancellable         *caller,
                             double                timeout,
                             const char           *name,
                             GMainContext         *context)
{
  *self = (VtRequestCancellable) { .cancellable = g_cancellable_new () };

  if (caller != NULL)
    {
      self->caller = g_object_ref (caller);
      self->caller_handler = g_cancellable_connect (caller, G_CALLBACK (forward_cancel),
                                                    g_object_ref (self->cancellable),
                                                    g_object_unref);
    }

  self->timer = g_timeout_source_new ((guint) CLAMP (timeout * 1000.0, 1.0, G_MAXUINT));
  g_source_set_name (self->timer, name);
  g_source_set_callback (self->timer, request_timed_out, self, NULL);
  g_source_attach (self->timer, context);
}

/* The request got what the timer was guarding (a stream's headers). */
void
vt_request_cancellable_stop_timer (VtRequestCancellable *self)
{
  if (self->timer != NULL)
    {
      g_source_destroy (self->timer);
      g_clear_pointer (&self->timer, g_source_unref);
    }
}

/* Rearms the timer for @timeout seconds from now: a stream's timer,
 * once it is open, guards against silence. */
void
vt_request_cancellable_restart_timer (VtRequestCancellable *self,
                                      double                timeout)
{
  if (self->timer != NULL)
    g_source_set_ready_time (self->timer,
                             g_get_monotonic_time () + (gint64) (timeout * G_USEC_PER_SEC));
}

/* Takes @error; a cancellation our timer caused comes back as a timeout. */
GError *
vt_request_cancellable_explain (VtRequestCancellable *self,
                                GError               *error,
                                const char           *timeout_message)
{
  if (self->timed_out && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_error_free (error);
      return g_error_new_literal (G_IO_ERROR, G_IO_ERROR_TIMED_OUT, timeout_message);
    }

  return error;
}

void
vt_request_cancellable_clear (VtRequestCancellable *self)
{
  vt_request_cancellable_stop_timer (self);
  if (self->caller != NULL)
    g_cancellable_disconnect (self->caller, self->caller_handler);
  g_clear_object (&self->caller);
  g_clear_object (&self->cancellable);
}

/* ------------------------------------------------------------------ */
/* Send one request and read a size-capped body                        */

typedef struct
{
  SoupMessage          *message;
  VtRequestCancellable  request;
  GInputStream         *stream;
  guint8               *buffer;
  gsize                 max_size;
} SendData;

static void
send_data_free (SendData *data)
{
  vt_request_cancellable_clear (&data->request);
  if (data->stream != NULL)
    g_input_stream_close_async (data->stream, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
  g_clear_object (&data->stream);
  g_clear_object (&data->message);
  g_free (data->buffer);
  g_free (data);
}

/* Every way out of a send goes through here. */
static void
finish_send (GTask  *task,
             GBytes *body,
             GError *error)
{
  SendData *data = g_task_get_task_data (task);

  vt_request_cancellable_stop_timer (&data->request);

  if (error == NULL)
    g_task_return_pointer (task, body, (GDestroyNotify) g_bytes_unref);
  else
    g_task_return_error (task, vt_request_cancellable_explain (
        &data->request, error, "No answer from the server within the request timeout"));
}

static GError *
new_oversize_error (gsize max_size)
{
  return g_error_new (VT_CLIENT_ERROR, VT_CLIENT_ERROR_PROTOCOL,
                      "Response body exceeds the %" G_GSIZE_FORMAT "-byte limit",
                      max_size);
}

/* A connection that closes before the announced length arrived is a
 * network fault, to be retried, not a body to parse. A 304's length is
 * the 200's it stands for, with no body (RFC 9110, 8.6). */
static gboolean
body_was_cut (SoupMessage *message,
              gsize        n_read)
{
  SoupMessageHeaders *headers = soup_message_get_response_headers (message);

  return soup_message_get_status (message) != SOUP_STATUS_NOT_MODIFIED &&
         soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH &&
         (goffset) n_read < soup_message_headers_get_content_length (headers);
}

static void
on_body_read (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SendData *data = g_task_get_task_data (task);
  GError *error = NULL;
  gsize n_read = 0;

  if (!g_input_stream_read_all_finish (G_INPUT_STREAM (object), result, &n_read, &error))
    finish_send (task, NULL, error);
  else if (body_was_cut (data->message, n_read))
    finish_send (task, NULL,
                 g_error_new_literal (G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT,
                                      "The connection closed in the middle of the answer"));
  else if (n_read > data->max_size)
    finish_send (task, NULL, new_oversize_error (data->max_size));
  else
    finish_send (task, g_bytes_new_take (g_steal_pointer (&data->buffer), n_read), NULL);
}

static void
on_sent (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SendData *data = g_task_get_task_data (task);
  SoupMessageHeaders *headers;
  GError *error = NULL;
  gsize size;

  data->stream = soup_session_send_finish (SOUP_SESSION (object), result, &error);
  if (data->stream == NULL)
    {
      finish_send (task, NULL, error);
      return;
    }

  /* Refuse a body announced as too large before reading any of it. */
  headers = soup_message_get_response_headers (data->message);
  if (soup_message_headers_get_content_length (headers) > (goffset) data->max_size)
    {
      finish_send (task, NULL, new_oversize_error (data->max_size));
      return;
    }

  /* One byte more than allowed tells "exactly at the limit" from "over";
   * a body announced shorter needs no more room than that. */
  size = soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH ?
         (gsize) soup_message_headers_get_content_length (headers) + 1 : data->max_size + 1;
  data->buffer = g_malloc (MIN (size, data->max_size + 1));
  g_input_stream_read_all_async (data->stream, data->buffer,
                                 MIN (size, data->max_size + 1),
                                 G_PRIORITY_DEFAULT, data->request.cancellable,
                                 on_body_read, g_steal_pointer (&task));
}

/*
 * vt_channel_http_send_async:
 * @timeout: seconds the whole exchange may take, body included
 * @max_size: the most bytes of body accepted
 *
 * Sends @message and reads its body. Completes with the body whatever the
 * HTTP status; the caller reads the status from @message.
 */
void
vt_channel_http_send_async (SoupSession         *session,
                            SoupMessage         *message,
                            double               timeout,
                            gsize                max_size,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  SendData *data;

  task = g_task_new (session, cancellable, callback, user_data);
  g_task_set_source_tag (task, vt_channel_http_send_async);
  g_task_set_name (task, "vt_channel_http_send_async");
  /* The caller decides what a cancellation means; report it as an error
   * like any other and let the caller look at its cancellable. */
  g_task_set_check_cancellable (task, FALSE);

  data = g_new0 (SendData, 1);
  data->message = g_object_ref (message);
  data->max_size = max_size;
  vt_request_cancellable_init (&data->request, cancellable, timeout,
                               "[vtclient] request timeout", g_task_get_context (task));
  g_task_set_task_data (task, data, (GDestroyNotify) send_data_free);

  soup_session_send_async (session, message, G_PRIORITY_DEFAULT,
                           data->request.cancellable, on_sent,
                           g_steal_pointer (&task));
}

GBytes *
vt_channel_http_send_finish (SoupSession   *session,
                             GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, session), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ------------------------------------------------------------------ */
/* One exchange, classified                                            */

typedef struct
{
  SoupMessage   *message;
  VtRequestKind  request;
  GBytes        *body;
} ExchangeData;

static void
exchange_data_free (ExchangeData *data)
{
  g_clear_object (&data->message);
  g_clear_pointer (&data->body, g_bytes_unref);
  g_free (data);
}

static void
on_exchanged (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ExchangeData *data = g_task_get_task_data (task);
  VtExchange *exchange = vt_exchange_new ();
  GError *error = NULL;

  data->body = vt_channel_http_send_finish (SOUP_SESSION (object), result, &error);
  if (data->body == NULL)
    vt_exchange_set_send_error (exchange, error, g_task_get_cancellable (task));
  else
    vt_exchange_read_answer (exchange, data->message, data->request);

  g_task_return_pointer (task, exchange, (GDestroyNotify) vt_exchange_free);
}

static gsize
max_body_size (VtRequestKind request)
{
  return request == VT_REQUEST_FEED ? VT_FEED_RESPONSE_MAX_SIZE : VT_JOB_RESPONSE_MAX_SIZE;
}

/*
 * vt_channel_http_exchange_async:
 *
 * Sends @message and classifies its answer for @request. Never fails:
 * every outcome, cancellation included, is a kind of exchange; the body,
 * if one came, is handed out by the finish function.
 */
void
vt_channel_http_exchange_async (SoupSession         *session,
                                SoupMessage         *message,
                                VtRequestKind        request,
                                double               timeout,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  ExchangeData *data = g_new0 (ExchangeData, 1);

  task = g_task_new (session, cancellable, callback, user_data);
  g_task_set_source_tag (task, vt_channel_http_exchange_async);
  g_task_set_name (task, "vt_channel_http_exchange_async");
  g_task_set_check_cancellable (task, FALSE);

  data->message = g_object_ref (message);
  data->request = request;
  g_task_set_task_data (task, data, (GDestroyNotify) exchange_data_free);

  vt_channel_http_send_async (session, message, timeout, max_body_size (request),
                              cancellable, on_exchanged, g_steal_pointer (&task));
}

/*
 * vt_channel_http_exchange_finish:
 * @body: (out) (optional) (transfer full): the answer's body, if any
 */
VtExchange *
vt_channel_http_exchange_finish (SoupSession   *session,
                                 GAsyncResult  *result,
                                 GBytes       **body)
{
  ExchangeData *data;

  g_return_val_if_fail (g_task_is_valid (result, session), NULL);

  data = g_task_get_task_data (G_TASK (result));
  if (body != NULL)
    *body = g_steal_pointer (&data->body);

  return g_task_propagate_pointer (G_TASK (result), NULL);
}

static void
on_job_exchanged (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GBytes) body = NULL;
  VtExchange *exchange;

  exchange = vt_channel_http_exchange_finish (SOUP_SESSION (object), result, &body);

  /* A 304 answers a conditional GET: the job is as it was. */
  if (exchange->http_status == SOUP_STATUS_NOT_MODIFIED && g_task_get_task_data (task) != NULL)
    {
      exchange->kind = VT_EXCHANGE_OK;
      exchange->unchanged = TRUE;
      exchange->hints.eta = exchange->observation.eta;
      g_clear_error (&exchange->error);
    }
  /* Nothing was asked that it could answer: an answer that says nothing
   * of the job, retried like any other. */
  else if (exchange->http_status == SOUP_STATUS_NOT_MODIFIED)
    {
      exchange->kind = VT_EXCHANGE_PROTOCOL;
      g_clear_error (&exchange->error);
      exchange->error = g_error_new_literal (VT_CLIENT_ERROR, VT_CLIENT_ERROR_PROTOCOL,
                                             "The server answered 304 Not Modified "
                                             "to a request that was not conditional");
    }
  else if (exchange->kind == VT_EXCHANGE_OK)
    {
      gsize size;
      const char *data = g_bytes_get_data (body, &size);

      if (vt_job_response_parse (data, size, &exchange->observation, &exchange->error))
        exchange->hints.eta = exchange->observation.eta;
      else
        exchange->kind = VT_EXCHANGE_PROTOCOL;
    }

  g_task_return_pointer (task, exchange, (GDestroyNotify) vt_exchange_free);
}

/*
 * vt_channel_http_get_job_async:
 * @etag: (nullable): the job's last ETag, to ask whether it changed: a
 *   304 is then an exchange that is OK and unchanged, with no observation
 *
 * GETs @uri, a job, and reads its answer into a #VtExchange's
 * observation. Never fails, like vt_channel_http_exchange_async().
 */
void
vt_channel_http_get_job_async (SoupSession         *session,
                               GUri                *uri,
                               const char          *token,
                               const char          *etag,
                               double               timeout,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(SoupMessage) message = NULL;

  task = g_task_new (session, cancellable, callback, user_data);
  g_task_set_source_tag (task, vt_channel_http_get_job_async);
  g_task_set_name (task, "vt_channel_http_get_job_async");
  g_task_set_check_cancellable (task, FALSE);

  message = vt_channel_http_new_job_message (uri, token);
  if (etag != NULL)
    {
      soup_message_headers_replace (soup_message_get_request_headers (message),
                                    "If-None-Match", etag);
      /* Marks the request as conditional for its answer. */
      g_task_set_task_data (task, GINT_TO_POINTER (TRUE), NULL);
    }
  vt_channel_http_exchange_async (session, message, VT_REQUEST_JOB, timeout, cancellable,
                                  on_job_exchanged, g_steal_pointer (&task));
}

VtExchange *
vt_channel_http_get_job_finish (SoupSession  *session,
                                GAsyncResult *result)
{
  g_return_val_if_fail (g_task_is_valid (result, session), NULL);

  return g_task_propagate_pointer (G_TASK (result), NULL);
}
