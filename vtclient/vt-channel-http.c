/* vt-channel-http.c: how we ask, one HTTP exchange at a time
 *
 * Sends one request with a deadline of its own, reads at most
 * VT_JOB_RESPONSE_MAX_SIZE bytes of the answer and says what kind of
 * answer it was. Plain polling and long-polling are both this exchange;
 * they differ only in the URL's ?wait= and the timeout the watch passes.
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
  exchange->observation.progress = -1.0;
  exchange->observation.eta = -1.0;
  exchange->observation.elapsed = -1.0;

  return exchange;
}

/* Status line and the headers every channel reads. */
void
vt_exchange_read_headers (VtExchange  *exchange,
                          SoupMessage *message)
{
  SoupMessageHeaders *headers = soup_message_get_response_headers (message);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();

  exchange->http_status = soup_message_get_status (message);
  exchange->capabilities =
    vt_capabilities_parse (soup_message_headers_get_one (headers, "Vt-Capabilities"));
  exchange->hints.retry_after =
    vt_retry_after_parse (soup_message_headers_get_one (headers, "Retry-After"), now);
}

void
vt_exchange_free (VtExchange *exchange)
{
  vt_job_observation_clear (&exchange->observation);
  g_clear_error (&exchange->error);
  g_clear_pointer (&exchange->location, g_uri_unref);
  g_free (exchange);
}

VtCapabilities
vt_capabilities_parse (const char *header)
{
  g_auto(GStrv) tokens = NULL;
  VtCapabilities caps = VT_CAPABILITY_NONE;

  if (header == NULL)
    return caps;

  tokens = g_strsplit (header, ",", -1);
  for (guint i = 0; tokens[i] != NULL; i++)
    {
      const char *token = g_strstrip (tokens[i]);

      if (g_ascii_strcasecmp (token, "hints") == 0)
        caps |= VT_CAPABILITY_HINTS;
      else if (g_ascii_strcasecmp (token, "long-poll") == 0)
        caps |= VT_CAPABILITY_LONG_POLL;
      else if (g_ascii_strcasecmp (token, "events") == 0)
        caps |= VT_CAPABILITY_EVENTS;
    }

  return caps;
}

/*
 * vt_retry_after_parse:
 * @value: (nullable): a Retry-After header
 * @now: the current time, for the HTTP-date form
 *
 * Returns: the seconds to wait (>= 0), or -1 when absent or unreadable.
 */
double
vt_retry_after_parse (const char *value,
                      GDateTime  *now)
{
  g_autoptr(GDateTime) date = NULL;
  guint64 seconds;

  if (value == NULL)
    return -1.0;

  while (g_ascii_isspace (*value))
    value++;

  if (g_ascii_isdigit (*value))
    {
      char *end;

      seconds = g_ascii_strtoull (value, &end, 10);
      while (g_ascii_isspace (*end))
        end++;
      if (*end != '\0' || seconds > 86400)
        return -1.0;
      return (double) seconds;
    }

  date = soup_date_time_new_from_http_string (value);
  if (date == NULL)
    return -1.0;

  return MAX (0.0, g_date_time_difference (date, now) / (double) G_TIME_SPAN_SECOND);
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

static gboolean
is_redirect_status (guint status)
{
  return status == SOUP_STATUS_MOVED_PERMANENTLY ||
         status == SOUP_STATUS_FOUND ||
         status == SOUP_STATUS_SEE_OTHER ||
         status == SOUP_STATUS_TEMPORARY_REDIRECT ||
         status == SOUP_STATUS_PERMANENT_REDIRECT;
}

/*
 * vt_exchange_read_redirect:
 *
 * Returns: %TRUE when @message was answered with a redirect: @exchange is
 * then a VT_EXCHANGE_REDIRECT to an http(s) Location, resolved against the
 * request's URI, or VT_EXCHANGE_FATAL when the Location is missing or
 * points elsewhere than http(s).
 */
gboolean
vt_exchange_read_redirect (VtExchange  *exchange,
                           SoupMessage *message)
{
  guint status = soup_message_get_status (message);
  const char *location;
  g_autoptr(GUri) target = NULL;
  const char *scheme;

  if (!is_redirect_status (status))
    return FALSE;

  location = soup_message_headers_get_one (soup_message_get_response_headers (message),
                                           "Location");
  if (location != NULL)
    target = g_uri_parse_relative (soup_message_get_uri (message), location,
                                   G_URI_FLAGS_ENCODED, NULL);
  scheme = target != NULL ? g_uri_get_scheme (target) : NULL;

  if (target == NULL || g_uri_get_host (target) == NULL ||
      (g_strcmp0 (scheme, "http") != 0 && g_strcmp0 (scheme, "https") != 0))
    {
      exchange->kind = VT_EXCHANGE_FATAL;
      g_set_error (&exchange->error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_HTTP,
                   "The server redirected (HTTP %u) to no http or https URL", status);
      return TRUE;
    }

  exchange->kind = VT_EXCHANGE_REDIRECT;
  exchange->location = g_steal_pointer (&target);
  return TRUE;
}

static int
effective_port (GUri *uri)
{
  int port = g_uri_get_port (uri);

  if (port != -1)
    return port;
  return g_strcmp0 (g_uri_get_scheme (uri), "https") == 0 ? 443 : 80;
}

/* Same scheme, host and port: where a bearer token may go. */
gboolean
vt_uri_same_origin (GUri *a,
                    GUri *b)
{
  return g_ascii_strcasecmp (g_uri_get_scheme (a), g_uri_get_scheme (b)) == 0 &&
         g_ascii_strcasecmp (g_uri_get_host (a), g_uri_get_host (b)) == 0 &&
         effective_port (a) == effective_port (b);
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
new_oversize_error (void)
{
  return g_error_new (VT_CLIENT_ERROR, VT_CLIENT_ERROR_PROTOCOL,
                      "Response body exceeds the %d-byte limit",
                      VT_JOB_RESPONSE_MAX_SIZE);
}

/* A connection that closes before the announced length arrived is a
 * network fault, to be retried, not a body to parse. */
static gboolean
body_was_cut (SoupMessage *message,
              gsize        n_read)
{
  SoupMessageHeaders *headers = soup_message_get_response_headers (message);

  return soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH &&
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
  else if (n_read > VT_JOB_RESPONSE_MAX_SIZE)
    finish_send (task, NULL, new_oversize_error ());
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

  data->stream = soup_session_send_finish (SOUP_SESSION (object), result, &error);
  if (data->stream == NULL)
    {
      finish_send (task, NULL, error);
      return;
    }

  /* Refuse a body announced as too large before reading any of it. */
  headers = soup_message_get_response_headers (data->message);
  if (soup_message_headers_get_content_length (headers) > VT_JOB_RESPONSE_MAX_SIZE)
    {
      finish_send (task, NULL, new_oversize_error ());
      return;
    }

  /* One byte more than allowed tells "exactly at the limit" from "over". */
  data->buffer = g_malloc (VT_JOB_RESPONSE_MAX_SIZE + 1);
  g_input_stream_read_all_async (data->stream, data->buffer,
                                 VT_JOB_RESPONSE_MAX_SIZE + 1,
                                 G_PRIORITY_DEFAULT, data->request.cancellable,
                                 on_body_read, g_steal_pointer (&task));
}

/*
 * vt_channel_http_send_async:
 * @timeout: seconds the whole exchange may take, body included
 *
 * Sends @message and reads its body, at most VT_JOB_RESPONSE_MAX_SIZE
 * bytes. Completes with the body whatever the HTTP status; the caller reads
 * the status from @message.
 */
void
vt_channel_http_send_async (SoupSession         *session,
                            SoupMessage         *message,
                            double               timeout,
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
/* GET a job and classify the answer                                   */

static gboolean
is_transient_http_status (guint status)
{
  return status == SOUP_STATUS_REQUEST_TIMEOUT ||
         status == 425 /* Too Early */ ||
         status == 429 /* Too Many Requests */ ||
         (status >= 500 && status <= 599);
}

/* Network trouble is worth another try; a certificate we do not trust is
 * not going to change between two polls. */
/*
 * vt_exchange_set_send_error:
 *
 * Classifies a request that got no answer. Network trouble is worth another
 * try; a certificate we do not trust is not going to change between two
 * polls.
 */
void
vt_exchange_set_send_error (VtExchange   *exchange,
                            GError       *error,
                            GCancellable *cancellable)
{
  if (g_cancellable_is_cancelled (cancellable))
    exchange->kind = VT_EXCHANGE_CANCELLED;
  else if (error->domain == G_TLS_ERROR)
    exchange->kind = VT_EXCHANGE_FATAL;
  else if (error->domain == VT_CLIENT_ERROR)
    exchange->kind = VT_EXCHANGE_PROTOCOL;
  else
    exchange->kind = VT_EXCHANGE_TRANSIENT;
  exchange->error = error;
}

/*
 * vt_exchange_set_http_error:
 *
 * Classifies a non-2xx answer: 404 and 401 are final, 5xx and 429 are
 * worth retrying, other statuses are final.
 */
void
vt_exchange_set_http_error (VtExchange  *exchange,
                            SoupMessage *message)
{
  guint status = soup_message_get_status (message);
  const char *reason = soup_message_get_reason_phrase (message);

  if (status == SOUP_STATUS_NOT_FOUND || status == SOUP_STATUS_GONE)
    {
      exchange->kind = VT_EXCHANGE_FATAL;
      g_set_error (&exchange->error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_NOT_FOUND,
                   "The server does not know this job (HTTP %u)", status);
    }
  else if (status == SOUP_STATUS_UNAUTHORIZED || status == SOUP_STATUS_FORBIDDEN)
    {
      exchange->kind = VT_EXCHANGE_FATAL;
      g_set_error (&exchange->error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_UNAUTHORIZED,
                   "The server refused the credentials (HTTP %u %s)", status,
                   reason ? reason : "");
    }
  else if (is_transient_http_status (status))
    {
      exchange->kind = VT_EXCHANGE_TRANSIENT;
      g_set_error (&exchange->error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_UNREACHABLE,
                   "The server answered HTTP %u %s", status, reason ? reason : "");
    }
  else
    {
      exchange->kind = VT_EXCHANGE_FATAL;
      g_set_error (&exchange->error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_HTTP,
                   "The server answered HTTP %u %s", status, reason ? reason : "");
    }
}

static void
on_job_sent (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SoupMessage *message = g_task_get_task_data (task);
  g_autoptr(VtExchange) exchange = vt_exchange_new ();
  g_autoptr(GBytes) body = NULL;
  GError *error = NULL;

  body = vt_channel_http_send_finish (SOUP_SESSION (object), result, &error);

  if (body == NULL)
    {
      vt_exchange_set_send_error (exchange, error, g_task_get_cancellable (task));
      g_task_return_pointer (task, g_steal_pointer (&exchange),
                             (GDestroyNotify) vt_exchange_free);
      return;
    }

  vt_exchange_read_headers (exchange, message);

  if (vt_exchange_read_redirect (exchange, message))
    ;
  else if (SOUP_STATUS_IS_SUCCESSFUL (exchange->http_status))
    {
      gsize size;
      const char *data = g_bytes_get_data (body, &size);

      if (vt_job_response_parse (data, size, &exchange->observation, &exchange->error))
        {
          exchange->kind = VT_EXCHANGE_OK;
          exchange->hints.eta = exchange->observation.eta;
        }
      else
        exchange->kind = VT_EXCHANGE_PROTOCOL;
    }
  else
    vt_exchange_set_http_error (exchange, message);

  g_task_return_pointer (task, g_steal_pointer (&exchange),
                         (GDestroyNotify) vt_exchange_free);
}

/*
 * vt_channel_http_get_job_async:
 *
 * GETs @uri and turns the answer into a #VtExchange. Never fails: every
 * outcome, cancellation included, is a kind of exchange.
 */
void
vt_channel_http_get_job_async (SoupSession         *session,
                               GUri                *uri,
                               const char          *token,
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
  g_task_set_task_data (task, g_object_ref (message), g_object_unref);

  vt_channel_http_send_async (session, message, timeout, cancellable,
                              on_job_sent, g_steal_pointer (&task));
}

VtExchange *
vt_channel_http_get_job_finish (SoupSession  *session,
                                GAsyncResult *result)
{
  g_return_val_if_fail (g_task_is_valid (result, session), NULL);

  return g_task_propagate_pointer (G_TASK (result), NULL);
}
