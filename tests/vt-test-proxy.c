/* vt-test-proxy.c
 *
 * Each client connection gets its own upstream connection and two pipes:
 * client → server, whose bytes are scanned for request heads, and
 * server → client. A pipe reads, writes what it read, reads again. When
 * either side ends (end of file, a reset, an error) both sockets are shut
 * down, so the other side sees the connection end too, and the
 * connection goes once both pipes have stopped.
 *
 * The scanner knows as much HTTP/1.1 as the clients under test send: a
 * head ends at the first empty line; a body follows when the head has a
 * Content-Length (chunked request bodies are refused).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vt-test-proxy.h"

#include <string.h>

#define PIPE_BUFFER_SIZE 16384

typedef struct _Connection Connection;

typedef struct
{
  Connection    *connection;
  GInputStream  *in;
  GOutputStream *out;
  gboolean       scan;     /* client → server: log the request heads */
  guint8         buffer[PIPE_BUFFER_SIZE];
} Pipe;

struct _Connection
{
  VtTestProxy       *proxy;
  GSocketConnection *client;
  GSocketConnection *server;
  Pipe               up;    /* client → server */
  Pipe               down;  /* server → client */
  guint              n_running;
  gboolean           shut;

  /* The request head being read, and the body left to skip. */
  GString           *head;
  gint64             head_started_us;
  guint64            body_left;
};

typedef struct
{
  char   *target;       /* path and query, as sent */
  gint64  arrived_us;
} LoggedHead;

struct _VtTestProxy
{
  GThread            *thread;
  GMainContext       *context;
  GMainLoop          *loop;
  GSocketService     *service;
  GSocketClient      *connector;
  GSocketConnectable *upstream;
  GPtrArray          *connections;  /* Connection *, proxy thread only */

  GMutex              lock;         /* guards what follows */
  GCond               started;
  char               *url;
  GPtrArray          *log;          /* LoggedHead * */
};

static void
logged_head_free (LoggedHead *head)
{
  g_free (head->target);
  g_free (head);
}

/* ------------------------------------------------------------------ */
/* The scanner                                                         */

static guint64
content_length (const char *head)
{
  g_auto(GStrv) lines = g_strsplit (head, "\r\n", -1);

  for (guint i = 1; lines[i] != NULL; i++)
    {
      if (g_ascii_strncasecmp (lines[i], "Transfer-Encoding:", 18) == 0)
        g_error ("vt-test-proxy: chunked request bodies are not supported");
      if (g_ascii_strncasecmp (lines[i], "Content-Length:", 15) == 0)
        return g_ascii_strtoull (lines[i] + 15, NULL, 10);
    }

  return 0;
}

static void
finish_head (Connection *connection)
{
  VtTestProxy *self = connection->proxy;
  const char *line = connection->head->str;
  const char *target = strchr (line, ' ');
  const char *target_end = target != NULL ? strchr (target + 1, ' ') : NULL;
  LoggedHead *logged;

  g_assert_nonnull (target_end);
  logged = g_new0 (LoggedHead, 1);
  logged->target = g_strndup (target + 1, target_end - target - 1);
  logged->arrived_us = connection->head_started_us;
  connection->body_left = content_length (line);

  g_mutex_lock (&self->lock);
  g_ptr_array_add (self->log, logged);
  g_mutex_unlock (&self->lock);

  g_string_truncate (connection->head, 0);
}

static void
scan (Connection   *connection,
      const guint8 *data,
      gsize         n)
{
  for (gsize i = 0; i < n;)
    {
      if (connection->body_left > 0)
        {
          gsize skip = MIN (connection->body_left, n - i);

          connection->body_left -= skip;
          i += skip;
          continue;
        }

      if (connection->head->len == 0)
        connection->head_started_us = g_get_monotonic_time ();
      g_string_append_c (connection->head, (char) data[i++]);
      if (g_str_has_suffix (connection->head->str, "\r\n\r\n"))
        finish_head (connection);
    }
}

/* ------------------------------------------------------------------ */
/* Pipes and connections                                               */

static void
connection_free (Connection *connection)
{
  g_io_stream_close (G_IO_STREAM (connection->client), NULL, NULL);
  g_io_stream_close (G_IO_STREAM (connection->server), NULL, NULL);
  g_object_unref (connection->client);
  g_object_unref (connection->server);
  g_string_free (connection->head, TRUE);
  g_free (connection);
}

/* Both directions end together: the peer of the side that ended sees
 * its connection end as well. */
static void
connection_shut (Connection *connection)
{
  if (connection->shut)
    return;

  connection->shut = TRUE;
  g_socket_shutdown (g_socket_connection_get_socket (connection->client), TRUE, TRUE, NULL);
  g_socket_shutdown (g_socket_connection_get_socket (connection->server), TRUE, TRUE, NULL);
}

static void
pipe_stop (Pipe *pipe)
{
  Connection *connection = pipe->connection;

  connection_shut (connection);
  if (--connection->n_running == 0)
    {
      g_ptr_array_remove (connection->proxy->connections, connection);
      connection_free (connection);
    }
}

static void pipe_read (Pipe *pipe);

static void
on_written (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  Pipe *pipe = user_data;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, NULL) ||
      pipe->connection->shut)
    {
      pipe_stop (pipe);
      return;
    }

  pipe_read (pipe);
}

static void
on_read (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Pipe *pipe = user_data;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, NULL);

  if (n <= 0 || pipe->connection->shut)
    {
      pipe_stop (pipe);
      return;
    }

  if (pipe->scan)
    scan (pipe->connection, pipe->buffer, n);
  g_output_stream_write_all_async (pipe->out, pipe->buffer, n, G_PRIORITY_DEFAULT, NULL,
                                   on_written, pipe);
}

static void
pipe_read (Pipe *pipe)
{
  g_input_stream_read_async (pipe->in, pipe->buffer, sizeof pipe->buffer, G_PRIORITY_DEFAULT,
                             NULL, on_read, pipe);
}

static void
pipe_start (Pipe              *pipe,
            Connection        *connection,
            GSocketConnection *from,
            GSocketConnection *to,
            gboolean           scan_requests)
{
  pipe->connection = connection;
  pipe->in = g_io_stream_get_input_stream (G_IO_STREAM (from));
  pipe->out = g_io_stream_get_output_stream (G_IO_STREAM (to));
  pipe->scan = scan_requests;
  connection->n_running++;
  pipe_read (pipe);
}

static gboolean
on_incoming (GSocketService    *service,
             GSocketConnection *client,
             GObject           *source_object,
             gpointer           user_data)
{
  VtTestProxy *self = user_data;
  g_autoptr(GError) error = NULL;
  GSocketConnection *server;
  Connection *connection;

  /* Loopback: connecting is immediate. A server that refuses leaves the
   * client's connection to close, as if it had refused it. */
  server = g_socket_client_connect (self->connector, self->upstream, NULL, &error);
  if (server == NULL)
    return TRUE;

  connection = g_new0 (Connection, 1);
  connection->proxy = self;
  connection->client = g_object_ref (client);
  connection->server = server;
  connection->head = g_string_new (NULL);
  g_ptr_array_add (self->connections, connection);
  pipe_start (&connection->up, connection, client, server, TRUE);
  pipe_start (&connection->down, connection, server, client, FALSE);

  return TRUE;
}

/* ------------------------------------------------------------------ */
/* The thread                                                          */

static gpointer
proxy_thread (gpointer data)
{
  VtTestProxy *self = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;

  g_main_context_push_thread_default (self->context);

  self->service = g_socket_service_new ();
  g_signal_connect (self->service, "incoming", G_CALLBACK (on_incoming), self);
  g_socket_listener_add_address (G_SOCKET_LISTENER (self->service), address,
                                 G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL,
                                 &bound, &error);
  g_assert_no_error (error);

  g_mutex_lock (&self->lock);
  self->url = g_strdup_printf ("http://127.0.0.1:%u",
                               g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  g_cond_signal (&self->started);
  g_mutex_unlock (&self->lock);

  g_main_loop_run (self->loop);

  /* Stop taking connections, end those open, let their pipes stop. */
  g_socket_service_stop (self->service);
  g_socket_listener_close (G_SOCKET_LISTENER (self->service));
  for (guint i = 0; i < self->connections->len; i++)
    connection_shut (g_ptr_array_index (self->connections, i));
  while (self->connections->len > 0)
    g_main_context_iteration (self->context, TRUE);
  g_clear_object (&self->service);

  g_main_context_pop_thread_default (self->context);
  return NULL;
}

VtTestProxy *
vt_test_proxy_new (const char *upstream_url)
{
  VtTestProxy *self = g_new0 (VtTestProxy, 1);
  g_autoptr(GError) error = NULL;

  self->upstream = g_network_address_parse_uri (upstream_url, 80, &error);
  g_assert_no_error (error);
  self->connector = g_socket_client_new ();
  self->context = g_main_context_new ();
  self->loop = g_main_loop_new (self->context, FALSE);
  self->connections = g_ptr_array_new ();
  self->log = g_ptr_array_new_with_free_func ((GDestroyNotify) logged_head_free);
  g_mutex_init (&self->lock);
  g_cond_init (&self->started);

  g_mutex_lock (&self->lock);
  self->thread = g_thread_new ("vt-test-proxy", proxy_thread, self);
  while (self->url == NULL)
    g_cond_wait (&self->started, &self->lock);
  g_mutex_unlock (&self->lock);

  return self;
}

static gboolean
quit_loop (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

void
vt_test_proxy_free (VtTestProxy *self)
{
  if (self == NULL)
    return;

  g_main_context_invoke (self->context, quit_loop, self->loop);
  g_thread_join (self->thread);

  g_ptr_array_unref (self->connections);
  g_ptr_array_unref (self->log);
  g_main_loop_unref (self->loop);
  g_main_context_unref (self->context);
  g_object_unref (self->connector);
  g_object_unref (self->upstream);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->started);
  g_free (self->url);
  g_free (self);
}

const char *
vt_test_proxy_get_url (VtTestProxy *self)
{
  return self->url;
}

GArray *
vt_test_proxy_get_arrivals (VtTestProxy *self,
                            const char  *prefix)
{
  GArray *arrivals = g_array_new (FALSE, FALSE, sizeof (gint64));

  g_mutex_lock (&self->lock);
  for (guint i = 0; i < self->log->len; i++)
    {
      const LoggedHead *head = g_ptr_array_index (self->log, i);

      if (g_str_has_prefix (head->target, prefix))
        g_array_append_val (arrivals, head->arrived_us);
    }
  g_mutex_unlock (&self->lock);

  return arrivals;
}

GStrv
vt_test_proxy_get_targets (VtTestProxy *self,
                           const char  *prefix)
{
  g_autoptr(GStrvBuilder) targets = g_strv_builder_new ();

  g_mutex_lock (&self->lock);
  for (guint i = 0; i < self->log->len; i++)
    {
      const LoggedHead *head = g_ptr_array_index (self->log, i);

      if (g_str_has_prefix (head->target, prefix))
        g_strv_builder_add (targets, head->target);
    }
  g_mutex_unlock (&self->lock);

  return g_strv_builder_end (targets);
}

guint
vt_test_proxy_count (VtTestProxy *self,
                     const char  *prefix)
{
  g_autoptr(GArray) arrivals = vt_test_proxy_get_arrivals (self, prefix);

  return arrivals->len;
}
