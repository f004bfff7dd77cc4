/* test-client.c: VtClient against an in-process SoupServer and vt-server
 *
 * The in-process server replays a script of answers per path and counts
 * what it saw, so each test asserts the exact status sequence, the final
 * status or error, and the number of requests the server answered.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <string.h>
#include <vtclient.h>

#include "vt-test-server.h"

/* Seconds, stretched for slow runs (see vt_test_time_scale()). */
#define S(seconds) ((seconds) * vt_test_time_scale ())

/* One scripted answer. The last answer of a script repeats. */
typedef struct
{
  guint       status;
  const char *body;
  const char *retry_after;
  gboolean    hang;        /* never answer */
} Reply;

#define PENDING   { 200, "{\"result\": \"pending\"}", NULL, FALSE }
#define COMPLETED { 200, "{\"result\": \"completed\"}", NULL, FALSE }
#define FAILED    { 200, "{\"result\": \"error\"}", NULL, FALSE }
#define END       { 0, NULL, NULL, FALSE }

typedef struct
{
  SoupServer   *server;
  char         *url;
  GHashTable   *scripts;    /* path → const Reply * */
  GHashTable   *counts;     /* path → guint */
  guint         n_requests;
  GArray       *request_times;  /* gint64 monotonic µs, every request */
  char         *last_raw_path;
  char         *last_authorization;
  GPtrArray    *held;       /* paused messages */

  VtClient     *client;
  GArray       *statuses;   /* VtStatus, as emitted */
  GPtrArray    *job_ids;    /* job id of each emission */
  GAsyncResult *result;
  gboolean      completed;  /* the callback ran */
  gint64        completed_at;
} Fixture;

static void
server_callback (SoupServer        *server,
                 SoupServerMessage *msg,
                 const char        *path,
                 GHashTable        *query,
                 gpointer           user_data)
{
  Fixture *f = user_data;
  const Reply *script = g_hash_table_lookup (f->scripts, path);
  guint count = GPOINTER_TO_UINT (g_hash_table_lookup (f->counts, path));
  const Reply *reply;
  guint len = 0;

  f->n_requests++;
  g_array_append_val (f->request_times, (gint64) { g_get_monotonic_time () });
  g_free (f->last_raw_path);
  f->last_raw_path = g_strdup (g_uri_get_path (soup_server_message_get_uri (msg)));
  g_free (f->last_authorization);
  f->last_authorization = g_strdup (soup_message_headers_get_one (
      soup_server_message_get_request_headers (msg), "Authorization"));
  g_hash_table_replace (f->counts, g_strdup (path), GUINT_TO_POINTER (count + 1));

  if (script == NULL)
    {
      soup_server_message_set_status (msg, 404, NULL);
      soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC,
                                        "{\"error\": \"not-found\"}", 22);
      return;
    }

  while (script[len].status != 0 || script[len].hang)
    len++;
  reply = &script[MIN (count, len - 1)];

  if (reply->hang)
    {
      soup_server_message_pause (msg);
      g_ptr_array_add (f->held, g_object_ref (msg));
      return;
    }

  soup_server_message_set_status (msg, reply->status, NULL);
  if (reply->retry_after != NULL)
    soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                  "Retry-After", reply->retry_after);
  if (reply->body != NULL)
    soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC,
                                      reply->body, strlen (reply->body));
}

static void
on_status_changed (VtClient   *client,
                   const char *job_id,
                   VtStatus    status,
                   Fixture    *f)
{
  /* Never after completion. */
  g_assert_false (f->completed);
  g_array_append_val (f->statuses, status);
  g_ptr_array_add (f->job_ids, g_strdup (job_id));
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoslist(GUri) uris = NULL;

  f->scripts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  f->counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  f->held = g_ptr_array_new_with_free_func (g_object_unref);
  f->request_times = g_array_new (FALSE, FALSE, sizeof (gint64));
  f->statuses = g_array_new (FALSE, FALSE, sizeof (VtStatus));
  f->job_ids = g_ptr_array_new_with_free_func (g_free);

  f->server = soup_server_new (NULL, NULL);
  soup_server_add_handler (f->server, NULL, server_callback, f, NULL);
  soup_server_listen_local (f->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);
  uris = soup_server_get_uris (f->server);
  f->url = g_strdup_printf ("http://127.0.0.1:%d", g_uri_get_port (uris->data));

  f->client = vt_client_new (f->url);
  /* Sub-second waits keep the suite fast; the logic is the same. */
  g_object_set (f->client,
                "initial-wait-time", S (0.01),
                "backoff-factor", 2.0,
                "jitter", 0.0,
                "max-attempts", 10,
                "max-wait-time", 5.0,
                NULL);
  g_signal_connect (f->client, "status-changed", G_CALLBACK (on_status_changed), f);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_clear_object (&f->client);
  g_clear_object (&f->result);
  /* Let the server see the client's connections close before it goes. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  soup_server_disconnect (f->server);
  g_clear_object (&f->server);
  g_ptr_array_unref (f->held);
  g_array_unref (f->request_times);
  g_hash_table_unref (f->scripts);
  g_hash_table_unref (f->counts);
  g_array_unref (f->statuses);
  g_ptr_array_unref (f->job_ids);
  g_free (f->url);
  g_free (f->last_raw_path);
  g_free (f->last_authorization);

  /* Let the sockets' close sources run before the next test. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static void
script (Fixture     *f,
        const char  *path,
        const Reply *replies)
{
  g_hash_table_replace (f->scripts, g_strdup (path), (gpointer) replies);
}

static guint
count (Fixture    *f,
       const char *path)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (f->counts, path));
}

static void
on_done (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  Fixture *f = user_data;

  g_assert_false (f->completed);
  f->completed = TRUE;
  f->completed_at = g_get_monotonic_time ();
  f->result = g_object_ref (result);
}

static VtStatus
follow (Fixture      *f,
        const char   *job_id,
        GCancellable *cancellable,
        GError      **error)
{
  vt_client_get_status_async (f->client, job_id, cancellable, on_done, f);
  while (!f->completed)
    g_main_context_iteration (NULL, TRUE);

  return vt_client_get_status_finish (f->client, f->result, error);
}

static void
assert_statuses (Fixture  *f,
                 guint     n,
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

static void
test_defaults (void)
{
  g_autoptr(VtClient) client = vt_client_new ("http://127.0.0.1:5000");
  g_autofree char *url = NULL;
  guint attempts;
  double wait, initial, factor, jitter;

  g_object_get (client,
                "base-url", &url,
                "max-attempts", &attempts,
                "max-wait-time", &wait,
                "initial-wait-time", &initial,
                "backoff-factor", &factor,
                "jitter", &jitter,
                NULL);
  g_assert_cmpstr (url, ==, "http://127.0.0.1:5000");
  g_assert_cmpuint (attempts, ==, 10);
  g_assert_cmpfloat (wait, ==, 60.0);
  g_assert_cmpfloat (initial, ==, 1.0);
  g_assert_cmpfloat (factor, ==, 2.0);
  g_assert_cmpfloat (jitter, ==, 0.5);
  g_assert_cmpuint (vt_client_get_max_attempts (client), ==, 10);
}

static void
on_notify (GObject    *object,
           GParamSpec *pspec,
           guint      *n_notify)
{
  (*n_notify)++;
}

static void
test_notify_on_change_only (void)
{
  g_autoptr(VtClient) client = vt_client_new (NULL);
  guint n_notify = 0;

  g_signal_connect (client, "notify", G_CALLBACK (on_notify), &n_notify);
  vt_client_set_jitter (client, 0.5);
  vt_client_set_base_url (client, NULL);
  g_assert_cmpuint (n_notify, ==, 0);
  vt_client_set_jitter (client, 0.25);
  vt_client_set_base_url (client, "http://localhost:1");
  vt_client_set_max_attempts (client, 3);
  g_assert_cmpuint (n_notify, ==, 3);
}

static void
test_completed (Fixture       *f,
                gconstpointer  data)
{
  static const Reply replies[] = { PENDING, PENDING, PENDING, COMPLETED, END };
  g_autoptr(GError) error = NULL;

  script (f, "/status", replies);
  g_assert_cmpint (follow (f, NULL, NULL, &error), ==, VT_STATUS_COMPLETED);
  g_assert_no_error (error);
  /* One emission per change: no repeats for the three pendings. */
  assert_statuses (f, 2, VT_STATUS_PENDING, VT_STATUS_COMPLETED);
  g_assert_null (g_ptr_array_index (f->job_ids, 0));
  g_assert_cmpuint (f->n_requests, ==, 4);
}

static void
test_error (Fixture       *f,
            gconstpointer  data)
{
  static const Reply replies[] = { PENDING, FAILED, END };
  g_autoptr(GError) error = NULL;

  script (f, "/jobs/j1", replies);
  g_assert_cmpint (follow (f, "j1", NULL, &error), ==, VT_STATUS_ERROR);
  g_assert_no_error (error);
  assert_statuses (f, 2, VT_STATUS_PENDING, VT_STATUS_ERROR);
  g_assert_cmpstr (g_ptr_array_index (f->job_ids, 1), ==, "j1");
  g_assert_cmpuint (count (f, "/jobs/j1"), ==, 2);
}

static void
test_completed_at_once (Fixture       *f,
                        gconstpointer  data)
{
  static const Reply replies[] = { COMPLETED, END };
  g_autoptr(GError) error = NULL;

  script (f, "/status", replies);
  g_assert_cmpint (follow (f, NULL, NULL, &error), ==, VT_STATUS_COMPLETED);
  g_assert_no_error (error);
  assert_statuses (f, 1, VT_STATUS_COMPLETED);
  g_assert_cmpuint (f->n_requests, ==, 1);
}

static void
test_timeout_by_attempts (Fixture       *f,
                          gconstpointer  data)
{
  static const Reply replies[] = { PENDING, END };
  g_autoptr(GError) error = NULL;

  script (f, "/status", replies);
  g_object_set (f->client, "max-attempts", 4, "initial-wait-time", 0.001, NULL);
  g_assert_cmpint (follow (f, NULL, NULL, &error), ==, VT_STATUS_TIMEOUT);
  g_assert_no_error (error);
  assert_statuses (f, 1, VT_STATUS_PENDING);
  g_assert_cmpuint (f->n_requests, ==, 4);
}

/* Waits of 0.05, 0.1 and 0.2 s on a 0.3 s budget: requests at 0, 0.05,
 * 0.15, then the 0.2 s wait is cut to land the last request at 0.3. */
static void
test_timeout_by_wait_time (Fixture       *f,
                           gconstpointer  data)
{
  static const Reply replies[] = { PENDING, END };
  g_autoptr(GError) error = NULL;
  gint64 start = g_get_monotonic_time ();
  double elapsed;

  script (f, "/status", replies);
  g_object_set (f->client, "max-attempts", 100, "initial-wait-time", S (0.05),
                "max-wait-time", S (0.3), NULL);
  g_assert_cmpint (follow (f, NULL, NULL, &error), ==, VT_STATUS_TIMEOUT);
  g_assert_no_error (error);
  elapsed = (f->completed_at - start) / (double) G_USEC_PER_SEC;
  g_assert_cmpuint (f->n_requests, ==, 4);
  g_assert_cmpfloat (elapsed, >=, S (0.3));
  g_assert_cmpfloat (elapsed, <, S (1.0));
  assert_statuses (f, 1, VT_STATUS_PENDING);
}

static void
cancel_on_pending (VtClient     *client,
                   const char   *job_id,
                   VtStatus      status,
                   GCancellable *cancellable)
{
  g_cancellable_cancel (cancellable);
}

static void
test_cancel_while_waiting (Fixture       *f,
                           gconstpointer  data)
{
  static const Reply replies[] = { PENDING, END };
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  gint64 cancelled_at;

  script (f, "/status", replies);
  /* Without cancellation this would wait 30 s. */
  g_object_set (f->client, "initial-wait-time", 30.0, NULL);
  g_signal_connect (f->client, "status-changed", G_CALLBACK (cancel_on_pending), cancellable);
  follow (f, NULL, cancellable, &error);
  cancelled_at = g_get_monotonic_time ();
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (f->n_requests, ==, 1);
  assert_statuses (f, 1, VT_STATUS_PENDING);
  (void) cancelled_at;
}

static gboolean
cancel_soon (gpointer data)
{
  g_cancellable_cancel (data);
  return G_SOURCE_REMOVE;
}

static void
test_cancel_in_flight (Fixture       *f,
                       gconstpointer  data)
{
  static const Reply replies[] = { { 0, NULL, NULL, TRUE }, END };
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  gint64 cancel_time;

  script (f, "/status", replies);
  g_timeout_add (50, cancel_soon, cancellable);
  cancel_time = g_get_monotonic_time () + 50 * 1000;
  follow (f, NULL, cancellable, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  /* Promptly: no waiting out the request timeout. */
  g_assert_cmpint (f->completed_at - cancel_time, <, S (50 * 1000));
  g_assert_cmpuint (f->n_requests, ==, 1);
  g_assert_cmpuint (f->statuses->len, ==, 0);
}

static void
test_cancel_before_start (Fixture       *f,
                          gconstpointer  data)
{
  static const Reply replies[] = { PENDING, END };
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;

  script (f, "/status", replies);
  g_cancellable_cancel (cancellable);
  follow (f, NULL, cancellable, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (f->statuses->len, ==, 0);
}

static void
test_not_found (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (follow (f, "missing", NULL, &error), ==, VT_STATUS_TIMEOUT);
  g_assert_error (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_NOT_FOUND);
  g_assert_cmpuint (count (f, "/jobs/missing"), ==, 1);
  g_assert_cmpuint (f->statuses->len, ==, 0);
}

static void
test_malformed_json (Fixture       *f,
                     gconstpointer  data)
{
  static const Reply replies[] = { { 200, "{\"result\": \"pend", NULL, FALSE }, END };
  g_autoptr(GError) error = NULL;

  script (f, "/status", replies);
  follow (f, NULL, NULL, &error);
  g_assert_error (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_PROTOCOL);
  /* Retried in case it was passing, then reported: three requests. */
  g_assert_cmpuint (f->n_requests, ==, 3);
  g_assert_cmpuint (f->statuses->len, ==, 0);
}

static void
test_unknown_status (Fixture       *f,
                     gconstpointer  data)
{
  static const Reply replies[] = { PENDING, { 200, "{\"result\": \"exploded\"}", NULL, FALSE }, END };
  g_autoptr(GError) error = NULL;

  script (f, "/status", replies);
  follow (f, NULL, NULL, &error);
  g_assert_error (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_PROTOCOL);
  g_assert_cmpuint (f->n_requests, ==, 4);
  /* Never taken as pending, and never reported as a status. */
  assert_statuses (f, 1, VT_STATUS_PENDING);
}

static void
test_passing_garbage_is_retried (Fixture       *f,
                                 gconstpointer  data)
{
  static const Reply replies[] = { PENDING, { 200, "<html>proxy</html>", NULL, FALSE },
                                   COMPLETED, END };
  g_autoptr(GError) error = NULL;

  script (f, "/status", replies);
  g_assert_cmpint (follow (f, NULL, NULL, &error), ==, VT_STATUS_COMPLETED);
  g_assert_no_error (error);
  assert_statuses (f, 2, VT_STATUS_PENDING, VT_STATUS_COMPLETED);
  g_assert_cmpuint (f->n_requests, ==, 3);
}

static void
test_503_then_success (Fixture       *f,
                       gconstpointer  data)
{
  static const Reply replies[] = { { 503, "{\"error\": \"busy\"}", NULL, FALSE },
                                   { 502, NULL, NULL, FALSE },
                                   PENDING, COMPLETED, END };
  g_autoptr(GError) error = NULL;

  script (f, "/status", replies);
  g_assert_cmpint (follow (f, NULL, NULL, &error), ==, VT_STATUS_COMPLETED);
  g_assert_no_error (error);
  assert_statuses (f, 2, VT_STATUS_PENDING, VT_STATUS_COMPLETED);
  g_assert_cmpuint (f->n_requests, ==, 4);
}

static void
test_429_retry_after (Fixture       *f,
                      gconstpointer  data)
{
  static const Reply replies[] = { { 429, NULL, "1", FALSE }, COMPLETED, END };
  g_autoptr(GError) error = NULL;
  gint64 start = g_get_monotonic_time ();

  script (f, "/status", replies);
  g_assert_cmpint (follow (f, NULL, NULL, &error), ==, VT_STATUS_COMPLETED);
  g_assert_no_error (error);
  g_assert_cmpuint (f->n_requests, ==, 2);
  /* The server asked for a second; the client's own policy says 10 ms. */
  g_assert_cmpint (f->completed_at - start, >=, G_USEC_PER_SEC);
}

static void
test_unreachable_until_budget (Fixture       *f,
                               gconstpointer  data)
{
  static const Reply replies[] = { { 503, NULL, NULL, FALSE }, END };
  g_autoptr(GError) error = NULL;

  script (f, "/status", replies);
  g_object_set (f->client, "max-attempts", 5, "initial-wait-time", 0.001, NULL);
  g_assert_cmpint (follow (f, NULL, NULL, &error), ==, VT_STATUS_TIMEOUT);
  g_assert_error (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_UNREACHABLE);
  g_assert_cmpuint (f->n_requests, ==, 5);
  g_assert_cmpuint (f->statuses->len, ==, 0);
}

static void
test_connection_refused_until_budget (void)
{
  g_autoptr(VtClient) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  g_autofree char *url = NULL;
  VtStatus status;

  /* A port that was free a moment ago and has no listener now. */
  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, 0, &error);
  g_assert_no_error (error);
  address = g_inet_socket_address_new_from_string ("127.0.0.1", 0);
  g_socket_bind (socket, address, TRUE, &error);
  g_assert_no_error (error);
  g_clear_object (&address);
  address = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  url = g_strdup_printf ("http://127.0.0.1:%u",
                         g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (address)));
  g_socket_close (socket, NULL);

  client = vt_client_new (url);
  g_object_set (client, "initial-wait-time", 0.01, "max-wait-time", 0.2,
                "max-attempts", 100, NULL);
  status = vt_client_get_status (client, NULL, NULL, &error);
  g_assert_error (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_UNREACHABLE);
  g_assert_cmpint (status, ==, VT_STATUS_TIMEOUT);
}

typedef struct
{
  Fixture *f;
  guint16  port;
} ListenLater;

static gboolean
listen_now (gpointer user_data)
{
  ListenLater *later = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, later->port);

  soup_server_listen (later->f->server, address, 0, &error);
  g_assert_no_error (error);

  return G_SOURCE_REMOVE;
}

static void
test_connection_refused_then_success (Fixture       *f,
                                      gconstpointer  data)
{
  static const Reply replies[] = { COMPLETED, END };
  g_autoptr(GError) error = NULL;
  g_autoslist(GUri) uris = soup_server_get_uris (f->server);
  ListenLater later = { f, g_uri_get_port (uris->data) };

  script (f, "/status", replies);
  /* Nobody listens for the first 100 ms: those requests are refused. */
  soup_server_disconnect (f->server);
  g_timeout_add (100, listen_now, &later);
  g_object_set (f->client, "max-attempts", 1000, "initial-wait-time", 0.01,
                "backoff-factor", 1.0, NULL);

  g_assert_cmpint (follow (f, NULL, NULL, &error), ==, VT_STATUS_COMPLETED);
  g_assert_no_error (error);
  assert_statuses (f, 1, VT_STATUS_COMPLETED);
  /* Only the request after the server came up reached it. */
  g_assert_cmpuint (f->n_requests, ==, 1);
}

typedef struct
{
  Fixture  *f;
  guint     n_done;
  GHashTable *finals;  /* job id → status */
} Multi;

static void
on_multi_done (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  Multi *m = user_data;
  g_autoptr(GError) error = NULL;
  VtStatus status = vt_client_get_status_finish (VT_CLIENT (object), result, &error);
  const char *job = g_object_get_data (G_OBJECT (result), "job");

  g_assert_no_error (error);
  g_hash_table_insert (m->finals, g_strdup (job), GINT_TO_POINTER (status));
  m->n_done++;
}

typedef struct
{
  const char *job;
  Multi      *m;
} MultiStart;

static void
on_multi_done_tagged (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  MultiStart *start = user_data;

  g_object_set_data (G_OBJECT (result), "job", (gpointer) start->job);
  on_multi_done (object, result, start->m);
}

static guint
n_emissions_for (Fixture    *f,
                 const char *job,
                 VtStatus   *last)
{
  guint n = 0;

  for (guint i = 0; i < f->job_ids->len; i++)
    if (g_strcmp0 (g_ptr_array_index (f->job_ids, i), job) == 0)
      {
        n++;
        *last = g_array_index (f->statuses, VtStatus, i);
      }

  return n;
}

static void
test_concurrent_jobs (Fixture       *f,
                      gconstpointer  data)
{
  static const Reply a[] = { PENDING, COMPLETED, END };
  static const Reply b[] = { PENDING, PENDING, PENDING, FAILED, END };
  static const Reply c[] = { COMPLETED, END };
  Multi m = { f, 0, g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL) };
  MultiStart starts[] = { { "a", &m }, { "b", &m }, { "c", &m } };
  VtStatus last;

  script (f, "/jobs/a", a);
  script (f, "/jobs/b", b);
  script (f, "/jobs/c", c);
  for (guint i = 0; i < G_N_ELEMENTS (starts); i++)
    vt_client_get_status_async (f->client, starts[i].job, NULL, on_multi_done_tagged, &starts[i]);
  while (m.n_done < 3)
    g_main_context_iteration (NULL, TRUE);

  g_assert_cmpint (GPOINTER_TO_INT (g_hash_table_lookup (m.finals, "a")), ==, VT_STATUS_COMPLETED);
  g_assert_cmpint (GPOINTER_TO_INT (g_hash_table_lookup (m.finals, "b")), ==, VT_STATUS_ERROR);
  g_assert_cmpint (GPOINTER_TO_INT (g_hash_table_lookup (m.finals, "c")), ==, VT_STATUS_COMPLETED);
  g_assert_cmpuint (n_emissions_for (f, "a", &last), ==, 2);
  g_assert_cmpint (last, ==, VT_STATUS_COMPLETED);
  g_assert_cmpuint (n_emissions_for (f, "b", &last), ==, 2);
  g_assert_cmpint (last, ==, VT_STATUS_ERROR);
  g_assert_cmpuint (n_emissions_for (f, "c", &last), ==, 1);
  g_assert_cmpuint (count (f, "/jobs/a"), ==, 2);
  g_assert_cmpuint (count (f, "/jobs/b"), ==, 4);
  g_assert_cmpuint (count (f, "/jobs/c"), ==, 1);

  g_hash_table_unref (m.finals);
}

static void
test_job_id_escaped (Fixture       *f,
                     gconstpointer  data)
{
  static const Reply replies[] = { COMPLETED, END };
  g_autoptr(GError) error = NULL;

  /* libsoup hands handlers the decoded path. */
  script (f, "/jobs/a/b c?d", replies);
  g_assert_cmpint (follow (f, "a/b c?d", NULL, &error), ==, VT_STATUS_COMPLETED);
  g_assert_no_error (error);
  /* The id arrived whole: its "?" did not start a query string. */
  g_assert_cmpstr (f->last_raw_path, ==, "/jobs/a/b c?d");
  g_assert_cmpuint (f->n_requests, ==, 1);
}

static void
test_invalid_base_url (void)
{
  const char *urls[] = { NULL, "", "not a url", "ftp://example.com", "http://",
                         "http://host:5000/?q=1", "/status" };

  for (guint i = 0; i < G_N_ELEMENTS (urls); i++)
    {
      g_autoptr(VtClient) client = vt_client_new (urls[i]);
      g_autoptr(GError) error = NULL;

      g_test_message ("base URL: %s", urls[i] ? urls[i] : "(null)");
      g_assert_cmpint (vt_client_get_status (client, NULL, NULL, &error), ==, VT_STATUS_TIMEOUT);
      g_assert_error (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_INVALID_URL);
    }
}

static void
test_empty_job_id (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  follow (f, "", NULL, &error);
  g_assert_error (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_INVALID_ARGUMENT);
  g_assert_cmpuint (f->n_requests, ==, 0);
}

static void
test_dispose_in_flight (Fixture       *f,
                        gconstpointer  data)
{
  static const Reply replies[] = { PENDING, END };
  g_autoptr(GError) error = NULL;

  script (f, "/status", replies);
  g_object_set (f->client, "initial-wait-time", 30.0, NULL);
  vt_client_get_status_async (f->client, NULL, NULL, on_done, f);
  while (f->statuses->len == 0)
    g_main_context_iteration (NULL, TRUE);

  g_object_run_dispose (G_OBJECT (f->client));
  while (!f->completed)
    g_main_context_iteration (NULL, TRUE);
  vt_client_get_status_finish (f->client, f->result, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (f->n_requests, ==, 1);
}

typedef struct
{
  VtClient  *client;
  VtStatus   status;
  GError    *error;
  GThread   *caller;
  gboolean   signal_in_caller;
  gint       done;
} ThreadCall;

static void
on_thread_status (VtClient   *client,
                  const char *job_id,
                  VtStatus    status,
                  ThreadCall *call)
{
  call->signal_in_caller = g_thread_self () == call->caller;
}

static gpointer
sync_in_thread (gpointer data)
{
  ThreadCall *call = data;

  call->caller = g_thread_self ();
  call->status = vt_client_get_status (call->client, "t1", NULL, &call->error);
  g_atomic_int_set (&call->done, TRUE);
  g_main_context_wakeup (NULL);

  return NULL;
}

static void
test_sync_from_thread (Fixture       *f,
                       gconstpointer  data)
{
  static const Reply replies[] = { PENDING, PENDING, COMPLETED, END };
  ThreadCall call = { f->client, 0, NULL, NULL, FALSE, FALSE };
  GThread *thread;

  script (f, "/jobs/t1", replies);
  g_signal_connect (f->client, "status-changed", G_CALLBACK (on_thread_status), &call);
  thread = g_thread_new ("sync-caller", sync_in_thread, &call);
  /* The in-process server is served by this thread's main context. */
  while (!g_atomic_int_get (&call.done))
    g_main_context_iteration (NULL, TRUE);
  g_thread_join (thread);

  g_assert_no_error (call.error);
  g_assert_cmpint (call.status, ==, VT_STATUS_COMPLETED);
  g_assert_true (call.signal_in_caller);
  g_assert_cmpuint (count (f, "/jobs/t1"), ==, 3);
}

/* ------------------------------------------------------------------ */
/* Against the real vt-server                                          */

static void
on_real_status (VtClient   *client,
                const char *job_id,
                VtStatus    status,
                GArray     *statuses)
{
  g_array_append_val (statuses, status);
}

static void
test_vt_server_classic_sync (void)
{
  g_autofree char *delay = vt_test_seconds_arg (0.3);
  g_autoptr(VtTestServer) server = vt_test_server_start ("--delay", delay, NULL);
  g_autoptr(VtClient) client = vt_client_new (vt_test_server_get_url (server));
  g_autoptr(GArray) statuses = g_array_new (FALSE, FALSE, sizeof (VtStatus));
  g_autoptr(GError) error = NULL;

  g_object_set (client, "initial-wait-time", S (0.05), "jitter", S (0.01), NULL);
  g_signal_connect (client, "status-changed", G_CALLBACK (on_real_status), statuses);
  /* No main loop here: the sync call runs its own. */
  g_assert_cmpint (vt_client_get_status (client, NULL, NULL, &error), ==, VT_STATUS_COMPLETED);
  g_assert_no_error (error);
  g_assert_cmpuint (statuses->len, ==, 2);
  g_assert_cmpint (g_array_index (statuses, VtStatus, 0), ==, VT_STATUS_PENDING);
  g_assert_cmpint (g_array_index (statuses, VtStatus, 1), ==, VT_STATUS_COMPLETED);
}

static void
test_vt_server_error_rate (void)
{
  g_autofree char *delay = vt_test_seconds_arg (0);
  g_autoptr(VtTestServer) server =
    vt_test_server_start ("--delay", delay, "--error-rate", "1", NULL);
  g_autoptr(VtClient) client = vt_client_new (vt_test_server_get_url (server));
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (vt_client_get_status (client, NULL, NULL, &error), ==, VT_STATUS_ERROR);
  g_assert_no_error (error);
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

static void
test_vt_server_submit_and_follow (void)
{
  g_autofree char *delay = vt_test_seconds_arg (0.2);
  g_autoptr(VtTestServer) server = vt_test_server_start ("--delay", delay, NULL);
  g_autoptr(VtClient) client = vt_client_new (vt_test_server_get_url (server));
  g_autoptr(GArray) statuses = g_array_new (FALSE, FALSE, sizeof (VtStatus));
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;

  vt_client_submit_job_async (client, "https://example.com/v.mp4", "fr", NULL, on_submitted, &id);
  while (id == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (g_uuid_string_is_valid (id));

  g_object_set (client, "initial-wait-time", S (0.05), "jitter", S (0.01), NULL);
  g_signal_connect (client, "status-changed", G_CALLBACK (on_real_status), statuses);
  g_assert_cmpint (vt_client_get_status (client, id, NULL, &error), ==, VT_STATUS_COMPLETED);
  g_assert_no_error (error);
  g_assert_cmpuint (statuses->len, ==, 2);
  g_assert_cmpint (g_array_index (statuses, VtStatus, 0), ==, VT_STATUS_PENDING);
  g_assert_cmpint (g_array_index (statuses, VtStatus, 1), ==, VT_STATUS_COMPLETED);

  /* An id the server never issued. */
  g_assert_cmpint (vt_client_get_status (client, "00000000-0000-4000-8000-000000000000",
                                         NULL, &error), ==, VT_STATUS_TIMEOUT);
  g_assert_error (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_NOT_FOUND);
}

/* Collects every vtclient log message, debug included. */
static GLogWriterOutput
collect_log (GLogLevelFlags   level,
             const GLogField *fields,
             gsize            n_fields,
             gpointer         user_data)
{
  GString *collected = user_data;

  for (gsize i = 0; i < n_fields; i++)
    if (g_strcmp0 (fields[i].key, "MESSAGE") == 0)
      {
        g_string_append (collected, fields[i].value);
        g_string_append_c (collected, '\n');
      }

  return G_LOG_WRITER_HANDLED;
}

static void
test_token_sent (Fixture       *f,
                 gconstpointer  data)
{
  static const Reply replies[] = { COMPLETED, END };
  g_autoptr(GError) error = NULL;

  script (f, "/status", replies);
  g_object_set (f->client, "token", "s3cret", NULL);
  g_assert_cmpint (follow (f, NULL, NULL, &error), ==, VT_STATUS_COMPLETED);
  g_assert_no_error (error);
  g_assert_cmpstr (f->last_authorization, ==, "Bearer s3cret");
}

/* The token goes on the wire, never into the log, debug output included. */
static void
test_token_not_logged (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(VtClient) client = vt_client_new ("http://127.0.0.1:9");
      g_autoptr(GString) collected = g_string_new (NULL);
      g_autoptr(GError) error = NULL;

      g_log_set_writer_func (collect_log, collected, NULL);
      g_object_set (client, "token", "s3cret-token", "max-attempts", 3,
                    "initial-wait-time", 0.001, NULL);
      vt_client_get_status (client, "job", NULL, &error);
      g_assert_error (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_UNREACHABLE);
      /* Something was logged, and none of it was the token. */
      g_assert_nonnull (strstr (collected->str, "request 3"));
      g_assert_null (strstr (collected->str, "s3cret-token"));
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

static void
test_start_jitter (Fixture       *f,
                   gconstpointer  data)
{
  static const Reply replies[] = { PENDING, COMPLETED, END };
  g_autoptr(GError) error = NULL;
  gint64 start = g_get_monotonic_time ();
  double elapsed;

  script (f, "/status", replies);
  /* A budget shorter than the start jitter: it runs from the first
   * request, so the watch still completes normally. */
  g_object_set (f->client, "start-jitter", S (0.2), "max-wait-time", S (0.1), NULL);
  g_assert_cmpint (follow (f, NULL, NULL, &error), ==, VT_STATUS_COMPLETED);
  g_assert_no_error (error);
  elapsed = (f->completed_at - start) / (double) G_USEC_PER_SEC;
  g_assert_cmpfloat (elapsed, <, S (0.2) + S (0.1) + S (0.5));
  assert_statuses (f, 2, VT_STATUS_PENDING, VT_STATUS_COMPLETED);
  g_assert_cmpuint (f->n_requests, ==, 2);
}

/* ------------------------------------------------------------------ */
/* Channels against the real vt-server                                 */

/* Requests the server counted on @route, at least @at_least if it gets
 * there. */
static guint
server_requests (VtTestServer *server,
                 const char   *route,
                 guint         at_least)
{
  const char *routes[] = { route, NULL };

  return vt_test_server_count_requests (server, routes, at_least);
}

static char *
submit (VtClient *client)
{
  char *id = NULL;

  vt_client_submit_job_async (client, "https://example.com/v.mp4", "de", NULL, on_submitted, &id);
  while (id == NULL)
    g_main_context_iteration (NULL, TRUE);

  return id;
}

typedef struct
{
  GArray *statuses;
  guint   n_progress;
  gboolean progress_ok;
} Observed;

static void
on_observed_status (VtClient   *client,
                    const char *job_id,
                    VtStatus    status,
                    Observed   *observed)
{
  g_array_append_val (observed->statuses, status);
}

static void
on_observed_progress (VtClient   *client,
                      const char *job_id,
                      double      progress,
                      double      eta,
                      Observed   *observed)
{
  observed->n_progress++;
  observed->progress_ok &= progress >= 0 && progress <= 1 && eta >= 0;
}

static VtStatus
follow_real (VtClient    *client,
             const char  *id,
             Observed    *observed,
             GError     **error)
{
  gulong status_handler, progress_handler;
  VtStatus status;

  observed->statuses = g_array_new (FALSE, FALSE, sizeof (VtStatus));
  observed->n_progress = 0;
  observed->progress_ok = TRUE;
  status_handler = g_signal_connect (client, "status-changed",
                                     G_CALLBACK (on_observed_status), observed);
  progress_handler = g_signal_connect (client, "progress-changed",
                                       G_CALLBACK (on_observed_progress), observed);
  status = vt_client_get_status (client, id, NULL, error);
  g_signal_handler_disconnect (client, status_handler);
  g_signal_handler_disconnect (client, progress_handler);

  return status;
}

static void
assert_pending_then (Observed *observed,
                     VtStatus  final)
{
  g_assert_cmpuint (observed->statuses->len, ==, 2);
  g_assert_cmpint (g_array_index (observed->statuses, VtStatus, 0), ==, VT_STATUS_PENDING);
  g_assert_cmpint (g_array_index (observed->statuses, VtStatus, 1), ==, final);
  g_clear_pointer (&observed->statuses, g_array_unref);
}

static VtClient *
new_fast_client (VtTestServer *server,
                 VtStrategy    strategy)
{
  VtClient *client = vt_client_new (vt_test_server_get_url (server));

  g_object_set (client, "strategy", strategy, "initial-wait-time", S (0.05),
                "jitter", 0.0, "min-interval", S (0.01), "max-wait-time", S (5.0), NULL);
  return client;
}

static void
test_channel_stream (void)
{
  g_autofree char *delay = vt_test_seconds_arg (0.3);
  g_autoptr(VtTestServer) server = vt_test_server_start ("--delay", delay, NULL);
  g_autoptr(VtClient) client = new_fast_client (server, VT_STRATEGY_STREAM);
  g_autofree char *id = submit (client);
  g_autoptr(GError) error = NULL;
  Observed observed;

  g_assert_cmpint (follow_real (client, id, &observed, &error), ==, VT_STATUS_COMPLETED);
  g_assert_no_error (error);
  assert_pending_then (&observed, VT_STATUS_COMPLETED);
  /* One request: the stream. */
  g_assert_cmpuint (server_requests (server, "/jobs/{id}/events", 1), ==, 1);
  g_assert_cmpuint (server_requests (server, "/jobs/{id}", 0), ==, 0);
  g_assert_cmpuint (observed.n_progress, >=, 1);
  g_assert_true (observed.progress_ok);
}

static void
test_channel_long_poll (void)
{
  g_autofree char *delay = vt_test_seconds_arg (0.3);
  g_autoptr(VtTestServer) server = vt_test_server_start ("--delay", delay, NULL);
  g_autoptr(VtClient) client = new_fast_client (server, VT_STRATEGY_LONG_POLL);
  g_autofree char *id = submit (client);
  g_autoptr(GError) error = NULL;
  Observed observed;

  g_assert_cmpint (follow_real (client, id, &observed, &error), ==, VT_STATUS_COMPLETED);
  g_assert_no_error (error);
  /* Held from the start: the answer is the final status. */
  g_assert_cmpuint (observed.statuses->len, ==, 1);
  g_assert_cmpint (g_array_index (observed.statuses, VtStatus, 0), ==, VT_STATUS_COMPLETED);
  g_clear_pointer (&observed.statuses, g_array_unref);
  g_assert_cmpuint (server_requests (server, "/jobs/{id}", 1), ==, 1);
}

static void
test_channel_auto_learns_capabilities (void)
{
  g_autofree char *delay = vt_test_seconds_arg (0.3);
  g_autoptr(VtTestServer) server = vt_test_server_start ("--delay", delay, NULL);
  g_autoptr(VtClient) client = new_fast_client (server, VT_STRATEGY_AUTO);
  g_autofree char *first = submit (client);
  g_autofree char *second = submit (client);
  g_autoptr(GError) error = NULL;
  Observed observed;

  /* First job: a plain GET reveals the event streams, then one stream. */
  g_assert_cmpint (follow_real (client, first, &observed, &error), ==, VT_STATUS_COMPLETED);
  g_assert_no_error (error);
  assert_pending_then (&observed, VT_STATUS_COMPLETED);
  g_assert_cmpuint (server_requests (server, "/jobs/{id}", 1), ==, 1);
  g_assert_cmpuint (server_requests (server, "/jobs/{id}/events", 1), ==, 1);

  /* Second job: straight to the stream. */
  g_assert_cmpint (follow_real (client, second, &observed, &error), ==, VT_STATUS_COMPLETED);
  g_assert_no_error (error);
  g_clear_pointer (&observed.statuses, g_array_unref);
  g_assert_cmpuint (server_requests (server, "/jobs/{id}", 1), ==, 1);
  g_assert_cmpuint (server_requests (server, "/jobs/{id}/events", 2), ==, 2);
}

static void
test_channel_fallback_on_plain_server (gconstpointer data)
{
  VtStrategy strategy = GPOINTER_TO_INT (data);
  g_autofree char *delay = vt_test_seconds_arg (0.3);
  g_autoptr(VtTestServer) server = vt_test_server_start ("--delay", delay, "--plain", NULL);
  g_autoptr(VtClient) client = new_fast_client (server, strategy);
  g_autofree char *id = submit (client);
  g_autoptr(GError) error = NULL;
  Observed observed;

  g_assert_cmpint (follow_real (client, id, &observed, &error), ==, VT_STATUS_COMPLETED);
  g_assert_no_error (error);
  /* A long-poll not held shows the pending status first, too. */
  assert_pending_then (&observed, VT_STATUS_COMPLETED);
  g_assert_cmpuint (observed.n_progress, ==, 0);
}

static void
test_hints_few_requests (void)
{
  g_autofree char *delay = vt_test_seconds_arg (0.5);
  g_autoptr(VtTestServer) server =
    vt_test_server_start ("--delay", delay, "--eta-noise", "0.2", "--seed", "7", NULL);
  g_autoptr(VtClient) client = new_fast_client (server, VT_STRATEGY_POLL);
  g_autofree char *id = submit (client);
  g_autoptr(GError) error = NULL;
  Observed observed;

  /* The backoff alone would take 0, 0.05, 0.15, 0.35, 0.75: five requests. */
  g_object_set (client, "min-interval", S (0.02), NULL);
  g_assert_cmpint (follow_real (client, id, &observed, &error), ==, VT_STATUS_COMPLETED);
  g_assert_no_error (error);
  assert_pending_then (&observed, VT_STATUS_COMPLETED);
  g_assert_cmpuint (server_requests (server, "/jobs/{id}", 1), <=, 3);
  g_assert_cmpuint (observed.n_progress, >=, 1);
  g_assert_true (observed.progress_ok);
}

/* Answers stamped with the job's elapsed time calibrate the ETA on the
 * server's clock. The two answers are 0.1 s apart there and the ETA fell
 * 0.1 s: it is exact, and the last poll comes 0.3 s × 1.02 after the
 * second answer. Timed by our clock the probe's 0.2 s wait would have
 * made the ETA look twice too long, and the wait twice as long. */
static void
test_eta_on_server_clock (Fixture       *f,
                          gconstpointer  data)
{
  g_autofree char *first = g_strdup_printf ("{\"result\": \"pending\", \"eta\": %.4f, "
                                            "\"elapsed\": 10}", S (0.4));
  g_autofree char *second = g_strdup_printf ("{\"result\": \"pending\", \"eta\": %.4f, "
                                             "\"elapsed\": %.4f}", S (0.3), 10 + S (0.1));
  const Reply replies[] = {
    { 200, first, NULL, FALSE }, { 200, second, NULL, FALSE }, COMPLETED, END
  };
  g_autoptr(GError) error = NULL;
  double last_wait;

  script (f, "/jobs/j", replies);
  g_object_set (f->client, "strategy", VT_STRATEGY_POLL, "min-interval", S (0.001),
                "max-wait-time", S (5.0), NULL);
  g_assert_cmpint (follow (f, "j", NULL, &error), ==, VT_STATUS_COMPLETED);
  g_assert_no_error (error);
  assert_statuses (f, 2, VT_STATUS_PENDING, VT_STATUS_COMPLETED);
  g_assert_cmpuint (count (f, "/jobs/j"), ==, 3);

  last_wait = (g_array_index (f->request_times, gint64, 2) -
               g_array_index (f->request_times, gint64, 1)) / (double) G_USEC_PER_SEC;
  g_assert_cmpfloat (last_wait, >=, S (0.3) * 1.02);
  g_assert_cmpfloat (last_wait, <, S (0.45));
}

/* A job on a plain server that ends @duration after the first request,
 * and the times of every request. */
typedef struct
{
  double  duration;
  gint64  first_us;
  GArray *times;   /* seconds since the first request */
} TimedJob;

static void
timed_job_callback (SoupServer        *server,
                    SoupServerMessage *msg,
                    const char        *path,
                    GHashTable        *query,
                    gpointer           user_data)
{
  TimedJob *job = user_data;
  gint64 now = g_get_monotonic_time ();
  double at;
  const char *body;

  if (job->times->len == 0)
    job->first_us = now;
  at = (now - job->first_us) / (double) G_USEC_PER_SEC;
  g_array_append_val (job->times, at);

  body = at < job->duration ? "{\"result\": \"pending\"}" : "{\"result\": \"completed\"}";
  soup_server_message_set_status (msg, 200, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC,
                                    body, strlen (body));
}

static void
on_learned_done (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

/* A client that learned how long this server's jobs take polls where
 * they end: none before the shortest ends, no more requests than the
 * backoff's five (0, 0.05, 0.15, 0.35, 0.75 s) for a 0.5 s job, and it
 * sees the end within a step of the plan (about 0.05 s), where the
 * backoff sees it 0.25 s late. */
static void
test_learned_plan (void)
{
  TimedJob job = { S (0.5), 0, g_array_new (FALSE, FALSE, sizeof (double)) };
  g_autoptr(SoupServer) server = soup_server_new (NULL, NULL);
  g_autoptr(GError) error = NULL;
  g_autoslist(GUri) uris = NULL;
  g_autofree char *url = NULL;
  g_autoptr(GString) model = g_string_new (NULL);
  g_autoptr(VtClient) client = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  Observed observed;
  double last;

  soup_server_add_handler (server, "/jobs", timed_job_callback, &job, NULL);
  soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);
  uris = soup_server_get_uris (server);
  url = g_strdup_printf ("http://127.0.0.1:%d", g_uri_get_port (uris->data));

  /* Twenty jobs seen to take 0.4 to 0.6 s here. */
  g_string_append_printf (model, "{\"version\": 1, \"servers\": {\"%s\": {\"durations\": [", url);
  for (guint i = 0; i < 20; i++)
    {
      char number[G_ASCII_DTOSTR_BUF_SIZE];

      g_string_append_printf (model, "%s%s", i > 0 ? ", " : "",
                              g_ascii_formatd (number, sizeof number, "%.4f", S (0.4 + 0.01 * i)));
    }
  g_string_append (model, "]}}}");

  client = vt_client_new (url);
  g_object_set (client, "strategy", VT_STRATEGY_POLL, "initial-wait-time", S (0.05),
                "jitter", 0.0, "min-interval", S (0.01), "max-wait-time", S (5.0), NULL);
  g_assert_true (vt_client_import_model (client, model->str, &error));
  g_assert_no_error (error);

  /* Async: the server answers on this thread's main context. */
  observed.statuses = g_array_new (FALSE, FALSE, sizeof (VtStatus));
  g_signal_connect (client, "status-changed", G_CALLBACK (on_observed_status), &observed);
  vt_client_get_status_async (client, "j", NULL, on_learned_done, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (vt_client_get_status_finish (client, result, &error), ==, VT_STATUS_COMPLETED);
  g_assert_no_error (error);
  assert_pending_then (&observed, VT_STATUS_COMPLETED);

  g_assert_cmpuint (job.times->len, >=, 2);
  g_assert_cmpuint (job.times->len, <=, 5);
  g_assert_cmpfloat (g_array_index (job.times, double, 1), >=, S (0.35));
  last = g_array_index (job.times, double, job.times->len - 1);
  g_assert_cmpfloat (last, >=, S (0.5));
  g_assert_cmpfloat (last, <, S (0.6));

  g_array_unref (job.times);
  soup_server_disconnect (server);
}

typedef struct
{
  gboolean      done;
  gint64        done_at;
  gint64        cancel_seen_at;
  GAsyncResult *result;
} Watch;

static void
on_real_done (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  Watch *watch = user_data;

  watch->done = TRUE;
  watch->done_at = g_get_monotonic_time ();
  watch->result = g_object_ref (result);
}

static void
cancel_on_first_status (VtClient     *client,
                        const char   *job_id,
                        VtStatus      status,
                        GCancellable *cancellable)
{
  Watch *watch = g_object_get_data (G_OBJECT (cancellable), "watch");

  watch->cancel_seen_at = g_get_monotonic_time ();
  g_cancellable_cancel (cancellable);
}

static void
test_cancel_stream_open (void)
{
  g_autofree char *delay = vt_test_seconds_arg (30);
  g_autoptr(VtTestServer) server = vt_test_server_start ("--delay", delay, NULL);
  g_autoptr(VtClient) client = new_fast_client (server, VT_STRATEGY_STREAM);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *id = submit (client);
  g_autoptr(GError) error = NULL;
  Watch watch = { 0 };
  gint64 cancelled_at;

  /* The stream's first event cancels; the job would run 30 s more. */
  g_object_set (client, "max-wait-time", S (60.0), NULL);
  g_object_set_data (G_OBJECT (cancellable), "watch", &watch);
  g_signal_connect (client, "status-changed", G_CALLBACK (cancel_on_first_status), cancellable);
  vt_client_get_status_async (client, id, cancellable, on_real_done, &watch);
  while (!watch.done)
    g_main_context_iteration (NULL, TRUE);
  cancelled_at = watch.done_at;

  vt_client_get_status_finish (client, watch.result, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_object (&watch.result);
  /* Completed within a few milliseconds of the cancellation. */
  g_assert_cmpint (cancelled_at - watch.cancel_seen_at, <, S (20 * 1000));
  /* The stream the cancelled watch held is closed, once the channel's
   * cancelled read has run: the server sees no open stream. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (vt_test_server_gauge (server, "vt_open_streams", 0), ==, 0);
}

static void
test_https_private_ca (void)
{
  g_autofree char *cert = g_test_build_filename (G_TEST_DIST, "test-server-cert.pem", NULL);
  g_autofree char *key = g_test_build_filename (G_TEST_DIST, "test-server-key.pem", NULL);
  g_autofree char *delay = vt_test_seconds_arg (0.2);
  g_autoptr(VtTestServer) server =
    vt_test_server_start ("--delay", delay, "--tls-cert", cert, "--tls-key", key, NULL);
  g_autoptr(GTlsDatabase) database = NULL;
  g_autoptr(VtClient) trusting = NULL;
  g_autoptr(VtClient) distrusting = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (g_str_has_prefix (vt_test_server_get_url (server), "https://"));

  /* Without the private CA the certificate is refused, at once. */
  distrusting = vt_client_new (vt_test_server_get_url (server));
  g_object_set (distrusting, "initial-wait-time", S (0.05), NULL);
  g_assert_cmpint (vt_client_get_status (distrusting, NULL, NULL, &error), ==, VT_STATUS_TIMEOUT);
  g_assert_nonnull (error);
  g_assert_true (error->domain == G_TLS_ERROR);
  g_clear_error (&error);

  database = g_tls_file_database_new (cert, &error);
  g_assert_no_error (error);
  trusting = g_object_new (VT_TYPE_CLIENT,
                           "base-url", vt_test_server_get_url (server),
                           "tls-database", database,
                           "initial-wait-time", S (0.05),
                           NULL);
  g_assert_cmpint (vt_client_get_status (trusting, NULL, NULL, &error), ==, VT_STATUS_COMPLETED);
  g_assert_no_error (error);
}

typedef struct
{
  VtTestServer *server;
  char         *state;
  gboolean      restarted;
} Restart;

/* On the first "pending": stop the server and start another on the same
 * port and state file, while the watch waits. */
static void
restart_on_pending (VtClient   *client,
                    const char *job_id,
                    VtStatus    status,
                    Restart    *restart)
{
  g_autoptr(GUri) uri = NULL;
  g_autofree char *port = NULL;

  if (status != VT_STATUS_PENDING || restart->restarted)
    return;

  uri = g_uri_parse (vt_test_server_get_url (restart->server), G_URI_FLAGS_NONE, NULL);
  port = g_strdup_printf ("%d", g_uri_get_port (uri));
  vt_test_server_stop (restart->server);
  /* The later --port wins over the helper's --port 0. */
  restart->server = vt_test_server_start ("--state", restart->state, "--port", port, NULL);
  restart->restarted = TRUE;
}

static void
test_follow_across_restart (void)
{
  g_autofree char *dir = g_dir_make_tmp ("vt-restart-XXXXXX", NULL);
  g_autofree char *state = g_build_filename (dir, "jobs.json", NULL);
  g_autofree char *delay = vt_test_seconds_arg (0.5);
  Restart restart = { vt_test_server_start ("--state", state, "--delay", delay, NULL), state, FALSE };
  g_autoptr(VtClient) client = new_fast_client (restart.server, VT_STRATEGY_POLL);
  g_autofree char *id = submit (client);
  g_autoptr(GError) error = NULL;
  Observed observed;

  g_object_set (client, "initial-wait-time", S (0.1), NULL);
  g_signal_connect (client, "status-changed", G_CALLBACK (restart_on_pending), &restart);
  g_assert_cmpint (follow_real (client, id, &observed, &error), ==, VT_STATUS_COMPLETED);
  g_assert_no_error (error);
  g_assert_true (restart.restarted);
  /* The job, and its outcome, outlived the server that created it. */
  assert_pending_then (&observed, VT_STATUS_COMPLETED);

  vt_test_server_stop (restart.server);
  g_unlink (state);
  g_rmdir (dir);
}

static void
test_model_export_import (void)
{
  g_autofree char *delay = vt_test_seconds_arg (0.2);
  g_autoptr(VtTestServer) server = vt_test_server_start ("--delay", delay, NULL);
  g_autoptr(VtClient) client = new_fast_client (server, VT_STRATEGY_STREAM);
  g_autoptr(VtClient) other = vt_client_new (NULL);
  g_autofree char *id = submit (client);
  g_autofree char *exported = NULL;
  g_autofree char *reexported = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonArray *durations;
  Observed observed;
  double duration;

  g_assert_cmpint (follow_real (client, id, &observed, &error), ==, VT_STATUS_COMPLETED);
  g_clear_pointer (&observed.statuses, g_array_unref);

  exported = vt_client_export_model (client);
  json_parser_load_from_data (parser, exported, -1, &error);
  g_assert_no_error (error);
  durations = json_object_get_array_member (
      json_object_get_object_member (
          json_object_get_object_member (json_node_get_object (json_parser_get_root (parser)),
                                         "servers"),
          vt_test_server_get_url (server)),
      "durations");
  g_assert_cmpuint (json_array_get_length (durations), ==, 1);
  /* Seen on a stream: the job's 0.2 s, give or take the scheduler. */
  duration = json_array_get_double_element (durations, 0);
  g_assert_cmpfloat (duration, >=, S (0.1));
  g_assert_cmpfloat (duration, <, S (1.0));

  g_assert_true (vt_client_import_model (other, exported, &error));
  g_assert_no_error (error);
  reexported = vt_client_export_model (other);
  g_assert_cmpstr (reexported, ==, exported);

  g_assert_false (vt_client_import_model (other, "{\"version\": 1, \"servers\": "
                                          "{\"x\": {\"durations\": [1, \"a\"]}}}", &error));
  g_assert_error (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (vt_client_import_model (other, "{\"version\": 1, \"servers\": "
                                          "{\"x\": {\"durations\": [[3, 2]]}}}", &error));
  g_assert_error (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (vt_client_import_model (other, "nonsense", &error));
  g_assert_error (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* Nothing of the refused models was imported. */
  g_free (reexported);
  reexported = vt_client_export_model (other);
  g_assert_cmpstr (reexported, ==, exported);

  /* What polls saw, [low, high], round-trips as such. */
  {
    const char *intervals = "{\"version\":1,\"servers\":{\"http://h:1\":"
                            "{\"durations\":[[10.0,20.0],30.0]}}}";
    g_autoptr(VtClient) fresh = vt_client_new (NULL);
    g_autofree char *round_trip = NULL;

    g_assert_true (vt_client_import_model (fresh, intervals, &error));
    g_assert_no_error (error);
    round_trip = vt_client_export_model (fresh);
    g_assert_cmpstr (round_trip, ==, intervals);
  }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  g_test_add_func ("/client/defaults", test_defaults);
  g_test_add_func ("/client/notify", test_notify_on_change_only);
  ADD ("/client/completed", test_completed);
  ADD ("/client/completed-at-once", test_completed_at_once);
  ADD ("/client/error", test_error);
  ADD ("/client/timeout/attempts", test_timeout_by_attempts);
  ADD ("/client/timeout/wait-time", test_timeout_by_wait_time);
  ADD ("/client/cancel/waiting", test_cancel_while_waiting);
  ADD ("/client/cancel/in-flight", test_cancel_in_flight);
  ADD ("/client/cancel/before-start", test_cancel_before_start);
  ADD ("/client/errors/not-found", test_not_found);
  ADD ("/client/errors/malformed-json", test_malformed_json);
  ADD ("/client/errors/unknown-status", test_unknown_status);
  ADD ("/client/errors/empty-job-id", test_empty_job_id);
  g_test_add_func ("/client/errors/invalid-base-url", test_invalid_base_url);
  ADD ("/client/retry/garbage-then-success", test_passing_garbage_is_retried);
  ADD ("/client/retry/503-then-success", test_503_then_success);
  ADD ("/client/retry/429-retry-after", test_429_retry_after);
  ADD ("/client/retry/unreachable-until-budget", test_unreachable_until_budget);
  g_test_add_func ("/client/retry/refused-until-budget", test_connection_refused_until_budget);
  ADD ("/client/retry/refused-then-success", test_connection_refused_then_success);
  ADD ("/client/concurrent-jobs", test_concurrent_jobs);
  ADD ("/client/job-id-escaped", test_job_id_escaped);
  ADD ("/client/dispose-in-flight", test_dispose_in_flight);
  ADD ("/client/sync-from-thread", test_sync_from_thread);
  g_test_add_func ("/client/vt-server/classic-sync", test_vt_server_classic_sync);
  g_test_add_func ("/client/vt-server/error-rate", test_vt_server_error_rate);
  g_test_add_func ("/client/vt-server/submit-and-follow", test_vt_server_submit_and_follow);
  ADD ("/client/token", test_token_sent);
  g_test_add_func ("/client/token/not-logged", test_token_not_logged);
  ADD ("/client/start-jitter", test_start_jitter);
  g_test_add_func ("/client/channel/stream", test_channel_stream);
  g_test_add_func ("/client/channel/long-poll", test_channel_long_poll);
  g_test_add_func ("/client/channel/auto", test_channel_auto_learns_capabilities);
  g_test_add_data_func ("/client/channel/fallback/auto", GINT_TO_POINTER (VT_STRATEGY_AUTO),
                        test_channel_fallback_on_plain_server);
  g_test_add_data_func ("/client/channel/fallback/stream", GINT_TO_POINTER (VT_STRATEGY_STREAM),
                        test_channel_fallback_on_plain_server);
  g_test_add_data_func ("/client/channel/fallback/long-poll", GINT_TO_POINTER (VT_STRATEGY_LONG_POLL),
                        test_channel_fallback_on_plain_server);
  g_test_add_func ("/client/hints/few-requests", test_hints_few_requests);
  ADD ("/client/hints/eta-on-server-clock", test_eta_on_server_clock);
  g_test_add_func ("/client/model/export-import", test_model_export_import);
  g_test_add_func ("/client/model/learned-plan", test_learned_plan);
  g_test_add_func ("/client/cancel/stream-open", test_cancel_stream_open);
  g_test_add_func ("/client/https/private-ca", test_https_private_ca);
  g_test_add_func ("/client/vt-server/across-restart", test_follow_across_restart);

#undef ADD

  return g_test_run ();
}
