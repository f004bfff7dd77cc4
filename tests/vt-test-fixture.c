/* vt-test-fixture.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vt-test-fixture.h"

#include <math.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Counted main-loop iterations                                        */

static guint iterations;

/* The deadline of the test that runs, from its first iteration on. */
static guint deadline_id;

static gboolean
on_deadline (gpointer user_data)
{
  g_error ("%s: still waiting after %g s", g_test_get_path (),
           VT_TEST_DEADLINE * vt_test_time_scale ());
  return G_SOURCE_REMOVE;
}

static void
remove_deadline (gpointer data)
{
  g_clear_handle_id (&deadline_id, g_source_remove);
}

/* A deadline per test, set by its first iteration and removed when the
 * test ends. */
static void
ensure_deadline (void)
{
  if (deadline_id != 0)
    return;

  deadline_id = g_timeout_add_seconds ((guint) ceil (VT_TEST_DEADLINE * vt_test_time_scale ()),
                                       on_deadline, NULL);
  g_test_queue_destroy (remove_deadline, NULL);
}

void
vt_test_iterate (gboolean may_block)
{
  ensure_deadline ();
  g_main_context_iteration (NULL, may_block);
  iterations++;
}

guint
vt_test_iteration (void)
{
  return iterations;
}

void
vt_async_call_ready (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  VtAsyncCall *call = user_data;

  g_assert_false (call->done);
  call->done = TRUE;
  call->done_iteration = vt_test_iteration ();
  call->done_us = g_get_monotonic_time ();
  call->result = g_object_ref (result);
}

void
vt_async_call_wait (VtAsyncCall *call)
{
  while (!call->done)
    vt_test_iterate (TRUE);
}

void
vt_async_call_clear (VtAsyncCall *call)
{
  g_clear_object (&call->result);
  call->done = FALSE;
}

void
vt_cancel_probe_init (VtCancelProbe *probe)
{
  *probe = (VtCancelProbe) { g_cancellable_new (), FALSE, FALSE, 0, 0 };
}

void
vt_cancel_probe_clear (VtCancelProbe *probe)
{
  g_clear_object (&probe->cancellable);
}

void
vt_cancel_probe_mark (VtCancelProbe *probe)
{
  g_assert_false (probe->cancelled);
  probe->cancelled = TRUE;
  probe->in_dispatch = g_main_depth () > 0;
  probe->cancel_iteration = vt_test_iteration ();
  probe->cancel_us = g_get_monotonic_time ();
}

void
vt_cancel_probe_cancel (VtCancelProbe *probe)
{
  vt_cancel_probe_mark (probe);
  g_cancellable_cancel (probe->cancellable);
}

void
vt_cancel_probe_assert_prompt (VtCancelProbe *probe,
                               VtAsyncCall   *call,
                               guint          max_iterations)
{
  while (!probe->cancelled && !call->done)
    vt_test_iterate (TRUE);
  g_assert_true (probe->cancelled);
  if (!probe->in_dispatch)
    {
      g_assert_cmpuint (max_iterations, >, 0);
      max_iterations--;
    }

  /* Non-blocking: a timer that is not due yet, or a request the server
   * holds, never completes the call here. */
  while (!call->done && vt_test_iteration () - probe->cancel_iteration <= max_iterations)
    vt_test_iterate (FALSE);

  g_assert_true (call->done);
  g_test_message ("cancelled → callback: %u iterations, %.3f ms",
                  call->done_iteration - probe->cancel_iteration,
                  (call->done_us - probe->cancel_us) / 1000.0);
  g_assert_cmpuint (call->done_iteration, >=, probe->cancel_iteration);
  g_assert_cmpuint (call->done_iteration - probe->cancel_iteration, <=, max_iterations);
}

/* ------------------------------------------------------------------ */
/* The scripted server                                                 */

struct _VtScriptedServer
{
  SoupServer *server;
  char       *url;
  GHashTable *scripts;  /* path → const VtReply * */
  GPtrArray  *log;      /* VtLoggedRequest *, in arrival order */
  GPtrArray  *held;     /* HeldMessage *, requests never answered */
};

/* A request the script holds, and whether its client hung up on it:
 * libsoup does not watch the socket of a paused message, so we do. */
typedef struct
{
  SoupServerMessage *msg;
  GSource           *watch;
  gboolean           hung_up;
} HeldMessage;

static void
held_message_free (HeldMessage *held)
{
  if (held->watch != NULL)
    {
      g_source_destroy (held->watch);
      g_source_unref (held->watch);
    }
  g_object_unref (held->msg);
  g_free (held);
}

/* Readable: end of file (or an error) is the client hanging up; bytes
 * (peeked at, not read) are a next request, left for libsoup. */
static gboolean
on_held_socket (GSocket      *socket,
                GIOCondition  condition,
                gpointer      user_data)
{
  HeldMessage *held = user_data;
  g_autoptr(GError) error = NULL;
  char byte;
  GInputVector vector = { &byte, 1 };
  int flags = G_SOCKET_MSG_PEEK;
  gssize n = g_socket_receive_message (socket, NULL, &vector, 1, NULL, NULL, &flags,
                                       NULL, &error);

  if (n > 0 || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
    return G_SOURCE_CONTINUE;

  held->hung_up = TRUE;
  g_clear_pointer (&held->watch, g_source_unref);
  return G_SOURCE_REMOVE;
}

static void
hold (VtScriptedServer  *self,
      SoupServerMessage *msg)
{
  HeldMessage *held = g_new0 (HeldMessage, 1);
  GSocket *socket = soup_server_message_get_socket (msg);

  held->msg = g_object_ref (msg);
  soup_server_message_pause (msg);
  held->watch = g_socket_create_source (socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
  g_source_set_callback (held->watch, (GSourceFunc) (GCallback) on_held_socket, held, NULL);
  g_source_attach (held->watch, NULL);
  g_ptr_array_add (self->held, held);
}

static void
logged_request_free (VtLoggedRequest *request)
{
  g_free (request->method);
  g_free (request->path);
  g_free (request->query);
  soup_message_headers_unref (request->headers);
  g_free (request);
}

static VtLoggedRequest *
log_request (VtScriptedServer  *self,
             SoupServerMessage *msg,
             const char        *path)
{
  VtLoggedRequest *request = g_new0 (VtLoggedRequest, 1);
  GUri *uri = soup_server_message_get_uri (msg);

  request->arrived_us = g_get_monotonic_time ();
  request->method = g_strdup (soup_server_message_get_method (msg));
  request->path = g_strdup (path);
  request->query = g_strdup (g_uri_get_query (uri));
  request->headers = soup_message_headers_ref (soup_server_message_get_request_headers (msg));
  g_ptr_array_add (self->log, request);

  return request;
}

static void
answer (SoupServerMessage *msg,
        const VtReply     *reply)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);

  soup_server_message_set_status (msg, reply->status, NULL);
  if (reply->retry_after != NULL)
    soup_message_headers_replace (headers, "Retry-After", reply->retry_after);
  if (reply->location != NULL)
    soup_message_headers_replace (headers, "Location", reply->location);
  if (reply->body != NULL)
    soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC,
                                      reply->body, strlen (reply->body));
  if (reply->headers != NULL)
    {
      g_auto(GStrv) lines = g_strsplit (reply->headers, "\n", -1);

      for (guint i = 0; lines[i] != NULL; i++)
        {
          const char *colon = strchr (lines[i], ':');
          g_autofree char *name = NULL;

          g_assert_nonnull (colon);
          name = g_strndup (lines[i], colon - lines[i]);
          soup_message_headers_replace (headers, name, g_strstrip ((char *) colon + 1));
        }
    }
}

static void
on_request (SoupServer        *server,
            SoupServerMessage *msg,
            const char        *path,
            GHashTable        *query,
            gpointer           user_data)
{
  VtScriptedServer *self = user_data;
  const VtReply *script = g_hash_table_lookup (self->scripts, path);
  guint seen = vt_scripted_server_count (self, path);
  guint len = 0;

  log_request (self, msg, path);

  if (script == NULL)
    {
      static const VtReply not_found = { 404, "{\"error\": \"not-found\"}", NULL, FALSE, NULL };

      answer (msg, &not_found);
      return;
    }

  while (script[len].status != 0 || script[len].hang)
    len++;
  g_assert_cmpuint (len, >, 0);
  script = &script[MIN (seen, len - 1)];

  if (script->hang)
    {
      hold (self, msg);
      return;
    }

  answer (msg, script);
}

VtScriptedServer *
vt_scripted_server_new (void)
{
  VtScriptedServer *self = g_new0 (VtScriptedServer, 1);
  g_autoptr(GError) error = NULL;
  g_autoslist(GUri) uris = NULL;

  self->scripts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->log = g_ptr_array_new_with_free_func ((GDestroyNotify) logged_request_free);
  self->held = g_ptr_array_new_with_free_func ((GDestroyNotify) held_message_free);

  self->server = soup_server_new (NULL, NULL);
  soup_server_add_handler (self->server, NULL, on_request, self, NULL);
  soup_server_listen_local (self->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);
  uris = soup_server_get_uris (self->server);
  self->url = g_strdup_printf ("http://127.0.0.1:%d", g_uri_get_port (uris->data));

  return self;
}

void
vt_scripted_server_free (VtScriptedServer *self)
{
  if (self == NULL)
    return;

  soup_server_disconnect (self->server);
  g_clear_object (&self->server);
  g_ptr_array_unref (self->held);
  g_ptr_array_unref (self->log);
  g_hash_table_unref (self->scripts);
  g_free (self->url);
  g_free (self);
}

/* Forgets the requests logged so far: a long test's log would be what
 * grows. */
void
vt_scripted_server_clear_log (VtScriptedServer *self)
{
  g_ptr_array_set_size (self->log, 0);
}

const char *
vt_scripted_server_get_url (VtScriptedServer *self)
{
  return self->url;
}

SoupServer *
vt_scripted_server_get_soup_server (VtScriptedServer *self)
{
  return self->server;
}

void
vt_scripted_server_script (VtScriptedServer *self,
                           const char       *path,
                           const VtReply    *replies)
{
  g_hash_table_replace (self->scripts, g_strdup (path), (gpointer) replies);
}

guint
vt_scripted_server_count (VtScriptedServer *self,
                          const char       *path)
{
  guint n = 0;

  for (guint i = 0; i < self->log->len; i++)
    {
      const VtLoggedRequest *request = g_ptr_array_index (self->log, i);

      if (path == NULL || g_str_equal (request->path, path))
        n++;
    }

  return n;
}

const VtLoggedRequest *
vt_scripted_server_get_request (VtScriptedServer *self,
                                const char       *path,
                                guint             n)
{
  for (guint i = 0; i < self->log->len; i++)
    {
      const VtLoggedRequest *request = g_ptr_array_index (self->log, i);

      if ((path == NULL || g_str_equal (request->path, path)) && n-- == 0)
        return request;
    }

  g_error ("no request %u on %s", n, path != NULL ? path : "any path");
}

guint
vt_scripted_server_count_hung_up (VtScriptedServer *self)
{
  guint n = 0;

  for (guint i = 0; i < self->held->len; i++)
    n += ((HeldMessage *) g_ptr_array_index (self->held, i))->hung_up;

  return n;
}

double
vt_scripted_server_gap (VtScriptedServer *self,
                        const char       *path,
                        guint             first,
                        guint             second)
{
  const VtLoggedRequest *a = vt_scripted_server_get_request (self, path, first);
  const VtLoggedRequest *b = vt_scripted_server_get_request (self, path, second);

  return (b->arrived_us - a->arrived_us) / (double) G_USEC_PER_SEC;
}

/* ------------------------------------------------------------------ */
/* The fixture                                                         */

static void
on_fixture_status_changed (VtClient   *client,
                           const char *job_id,
                           VtStatus    status,
                           VtFixture  *f)
{
  /* Never after completion. */
  g_assert_false (f->call.done);
  g_array_append_val (f->statuses, status);
  g_ptr_array_add (f->job_ids, g_strdup (job_id));
}

void
vt_fixture_set_up (VtFixture     *f,
                   gconstpointer  data)
{
  f->server = vt_scripted_server_new ();
  f->statuses = g_array_new (FALSE, FALSE, sizeof (VtStatus));
  f->job_ids = g_ptr_array_new_with_free_func (g_free);

  f->client = vt_client_new (vt_scripted_server_get_url (f->server));
  /* Sub-second waits keep the suite fast; the logic is the same. */
  g_object_set (f->client,
                "initial-wait-time", S (0.01),
                "backoff-factor", 2.0,
                "jitter", 0.0,
                "max-attempts", 10,
                "max-wait-time", 5.0,
                NULL);
  g_signal_connect (f->client, "status-changed", G_CALLBACK (on_fixture_status_changed), f);
}

static void
run_pending_sources (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

void
vt_fixture_tear_down (VtFixture     *f,
                      gconstpointer  data)
{
  g_clear_object (&f->client);
  vt_async_call_clear (&f->call);
  /* Let the server see the client's connections close before it goes. */
  run_pending_sources ();
  g_clear_pointer (&f->server, vt_scripted_server_free);
  g_array_unref (f->statuses);
  g_ptr_array_unref (f->job_ids);

  /* Let the sockets' close sources run before the next test. */
  run_pending_sources ();
}

void
vt_fixture_script (VtFixture     *f,
                   const char    *path,
                   const VtReply *replies)
{
  vt_scripted_server_script (f->server, path, replies);
}

guint
vt_fixture_count (VtFixture  *f,
                  const char *path)
{
  return vt_scripted_server_count (f->server, path);
}

void
vt_fixture_start (VtFixture    *f,
                  const char   *job_id,
                  GCancellable *cancellable)
{
  g_assert_false (f->call.done);
  vt_client_get_status_async (f->client, job_id, cancellable, vt_async_call_ready, &f->call);
}

VtStatus
vt_fixture_finish (VtFixture  *f,
                   GError    **error)
{
  vt_async_call_wait (&f->call);
  return vt_client_get_status_finish (f->client, f->call.result, error);
}

VtStatus
vt_fixture_follow (VtFixture     *f,
                   const char    *job_id,
                   GCancellable  *cancellable,
                   GError       **error)
{
  vt_fixture_start (f, job_id, cancellable);
  return vt_fixture_finish (f, error);
}

void
vt_fixture_assert_statuses (VtFixture *f,
                            guint      n,
                            ...)
{
  va_list ap;

  g_assert_cmpuint (f->statuses->len, ==, n);
  va_start (ap, n);
  for (guint i = 0; i < n; i++)
    g_assert_cmpint (g_array_index (f->statuses, VtStatus, i), ==, va_arg (ap, int));
  va_end (ap);
}

/* ------------------------------------------------------------------ */
/* Against the real vt-server                                          */

VtTestServer *
vt_test_server_start_delay (double seconds,
                            ...)
{
  g_autofree char *delay = vt_test_seconds_arg (seconds);
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  va_list ap;

  g_ptr_array_add (args, (gpointer) "--delay");
  g_ptr_array_add (args, delay);
  va_start (ap, seconds);
  for (const char *arg = va_arg (ap, const char *); arg != NULL; arg = va_arg (ap, const char *))
    g_ptr_array_add (args, (gpointer) arg);
  va_end (ap);
  g_ptr_array_add (args, NULL);

  return vt_test_server_startv ((const char * const *) args->pdata);
}

VtClient *
vt_test_fast_client (VtTestServer *server,
                     VtStrategy    strategy)
{
  VtClient *client = vt_client_new (vt_test_server_get_url (server));

  g_object_set (client, "strategy", strategy, "initial-wait-time", S (0.05),
                "jitter", 0.0, "min-interval", S (0.01), "max-wait-time", S (5.0), NULL);
  return client;
}

static void
on_submitted (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  char **id = user_data;
  g_autoptr(GError) error = NULL;

  *id = vt_client_submit_job_finish (VT_CLIENT (object), result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (*id);
}

char *
vt_test_submit (VtClient *client)
{
  char *id = NULL;

  vt_client_submit_job_async (client, "https://example.com/v.mp4", "de", NULL, on_submitted, &id);
  while (id == NULL)
    vt_test_iterate (TRUE);

  return id;
}

char *
vt_test_create_job (VtTestServer *server,
                    double        seconds,
                    const char   *outcome,
                    const char   *message)
{
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree char *url = g_strconcat (vt_test_server_get_url (server), "/jobs", NULL);
  g_autoptr(GString) body = g_string_new (NULL);
  g_autoptr(SoupMessage) request = soup_message_new ("POST", url);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GBytes) response = NULL;
  g_autoptr(GError) error = NULL;
  const char *id;

  g_string_printf (body, "{\"duration\": %.3f", seconds);
  if (outcome != NULL)
    g_string_append_printf (body, ", \"outcome\": \"%s\"", outcome);
  if (message != NULL)
    g_string_append_printf (body, ", \"message\": \"%s\"", message);
  g_string_append_c (body, '}');

  bytes = g_bytes_new (body->str, body->len);
  soup_message_set_request_body_from_bytes (request, "application/json", bytes);
  response = soup_session_send_and_read (session, request, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (soup_message_get_status (request), ==, SOUP_STATUS_CREATED);
  id = strstr (g_bytes_get_data (response, NULL), "\"id\":\"");
  g_assert_nonnull (id);

  return g_strndup (id + 6, 36);
}

static void
on_observed_status (VtClient   *client,
                    const char *job_id,
                    VtStatus    status,
                    VtObserved *observed)
{
  g_array_append_val (observed->statuses, status);
}

static void
on_observed_progress (VtClient   *client,
                      const char *job_id,
                      double      progress,
                      double      eta,
                      VtObserved *observed)
{
  observed->n_progress++;
  observed->progress_ok &= progress >= 0 && progress <= 1 && eta >= 0;
}

void
vt_observed_start (VtObserved *observed,
                   VtClient   *client)
{
  *observed = (VtObserved) { g_array_new (FALSE, FALSE, sizeof (VtStatus)), 0, TRUE, client, };
  observed->handlers[0] = g_signal_connect (client, "status-changed",
                                            G_CALLBACK (on_observed_status), observed);
  observed->handlers[1] = g_signal_connect (client, "progress-changed",
                                            G_CALLBACK (on_observed_progress), observed);
}

void
vt_observed_stop (VtObserved *observed)
{
  for (guint i = 0; i < G_N_ELEMENTS (observed->handlers); i++)
    g_clear_signal_handler (&observed->handlers[i], observed->client);
  observed->client = NULL;
}

void
vt_test_follow_completed (VtClient   *client,
                          const char *job_id,
                          VtObserved *observed)
{
  g_autoptr(GError) error = NULL;
  VtStatus status;

  vt_observed_start (observed, client);
  status = vt_client_get_status (client, job_id, NULL, &error);
  vt_observed_stop (observed);
  g_assert_no_error (error);
  g_assert_cmpint (status, ==, VT_STATUS_COMPLETED);
}

void
vt_observed_assert_pending_then (VtObserved *observed,
                                 VtStatus    final)
{
  g_assert_cmpuint (observed->statuses->len, ==, 2);
  g_assert_cmpint (g_array_index (observed->statuses, VtStatus, 0), ==, VT_STATUS_PENDING);
  g_assert_cmpint (g_array_index (observed->statuses, VtStatus, 1), ==, final);
  vt_observed_clear (observed);
}

void
vt_observed_clear (VtObserved *observed)
{
  g_clear_pointer (&observed->statuses, g_array_unref);
}

guint
vt_test_server_requests (VtTestServer *server,
                         const char   *route,
                         guint         at_least)
{
  const char *routes[] = { route, NULL };

  return vt_test_server_count_requests (server, routes, at_least);
}

void
vt_test_assert_fallback_on_plain_server (VtStrategy strategy)
{
  g_autoptr(VtTestServer) server = vt_test_server_start_delay (0.3, "--plain", NULL);
  g_autoptr(VtClient) client = vt_test_fast_client (server, strategy);
  g_autofree char *id = vt_test_submit (client);
  VtObserved observed;

  vt_test_follow_completed (client, id, &observed);
  /* A long-poll not held shows the pending status first, too. */
  g_assert_cmpuint (observed.n_progress, ==, 0);
  vt_observed_assert_pending_then (&observed, VT_STATUS_COMPLETED);
}

static gboolean
on_tick (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

void
vt_test_wait_requests (VtTestServer *server,
                       const char   *route,
                       guint         n)
{
  const char *routes[] = { route, NULL };
  guint tick = g_timeout_add (10, on_tick, NULL);

  while (vt_test_server_count_requests (server, routes, 0) < n)
    vt_test_iterate (TRUE);

  g_source_remove (tick);
}

void
vt_test_wait_gauge (VtTestServer *server,
                    const char   *name,
                    guint         value)
{
  guint tick = g_timeout_add (10, on_tick, NULL);

  while (vt_test_server_read_gauge (server, name) != value)
    vt_test_iterate (TRUE);

  g_source_remove (tick);
}
