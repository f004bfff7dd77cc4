/* vts-stream-writer.c: a streamed response on a connection taken from libsoup
 *
 * An event stream stays open for as long as its jobs or its feed last.
 * Left to libsoup, every one costs a GSource for its paused message, and
 * every event two more (the unpause, then the pause again): GLib's main
 * loop looks at every attached source on every iteration, so with
 * thousands of streams ticking the server spent its time in the main
 * loop and connections waiting to be accepted were reset. A stream's
 * connection is therefore taken from libsoup
 * (soup_server_message_steal_connection()) once its head is decided, and
 * written here: the status line and the headers the handler set, then
 * one HTTP/1.1 chunk per write, the last chunk on finish, and the
 * connection closes. Writes go out at once, non-blocking; what the
 * client's socket cannot take yet waits in a buffer for a pollable
 * source (the only source a stream then has, and only while it lags). A
 * client that hangs up is noticed through the server's epoll set
 * (vts-socket-watch.c).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vts-stream-writer.h"

#include "vts-socket-watch.h"
#include "vts-timer.h"

#include <string.h>

struct _VtsStreamWriter
{
  GIOStream               *connection;
  GSocket                 *socket;
  GPollableOutputStream   *output;
  GByteArray              *pending;     /* bytes the socket has not taken yet */
  GSource                 *flush_watch; /* while @pending is not empty */
  VtsSocketWatch           hangup;
  gboolean                 chunked;
  gboolean                 finished;    /* owned by itself, closing once flushed */
  gboolean                 broken;      /* lost: writes go nowhere */
  VtsTimer                 report;      /* tells the owner it is lost */
  VtsStreamWriterGoneFunc  gone;
  gpointer                 user_data;
};

static void vts_stream_writer_flush (VtsStreamWriter *self);

/* The end, whichever way it comes: nothing watches or writes any more. */
static void
vts_stream_writer_close (VtsStreamWriter *self)
{
  vts_socket_watch_stop (&self->hangup);
  if (self->flush_watch != NULL)
    {
      g_source_destroy (self->flush_watch);
      g_clear_pointer (&self->flush_watch, g_source_unref);
    }
  if (self->connection != NULL)
    g_io_stream_close (self->connection, NULL, NULL);
}

static void
on_report (VtsTimer *timer,
           gpointer  user_data)
{
  VtsStreamWriter *self = user_data;

  self->gone (self->user_data);
}

/* The owner hears of it on the next iteration, never from inside one of
 * its own writes (it may be writing to many streams in a loop). */
static void
vts_stream_writer_lost (VtsStreamWriter *self)
{
  vts_stream_writer_close (self);
  self->broken = TRUE;
  if (self->finished)
    vts_stream_writer_free (self);
  else
    vts_timer_schedule (&self->report, g_get_monotonic_time ());
}

static void
on_socket_ready (VtsSocketWatch *watch,
                 gpointer        user_data)
{
  VtsStreamWriter *self = user_data;

  if (vts_socket_peer_has_closed (self->socket))
    {
      vts_stream_writer_lost (self);
      return;
    }

  /* The client sent more (a pipelined request): nothing we will read;
   * the stream goes on, unwatched, until it ends or a write fails. */
  vts_socket_watch_stop (watch);
}

static gboolean
on_writable (GObject  *stream,
             gpointer  user_data)
{
  VtsStreamWriter *self = user_data;

  g_clear_pointer (&self->flush_watch, g_source_unref);
  vts_stream_writer_flush (self);
  return G_SOURCE_REMOVE;
}

static void
vts_stream_writer_flush (VtsStreamWriter *self)
{
  while (self->pending->len > 0)
    {
      g_autoptr(GError) error = NULL;
      gssize n = g_pollable_output_stream_write_nonblocking (self->output, self->pending->data,
                                                             self->pending->len, NULL, &error);

      if (n > 0)
        {
          g_byte_array_remove_range (self->pending, 0, n);
          continue;
        }
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        {
          if (self->flush_watch == NULL)
            {
              self->flush_watch = g_pollable_output_stream_create_source (self->output, NULL);
              g_source_set_callback (self->flush_watch, G_SOURCE_FUNC (on_writable), self, NULL);
              g_source_attach (self->flush_watch, g_main_context_get_thread_default ());
            }
          return;
        }

      vts_stream_writer_lost (self);
      return;
    }

  if (self->finished)
    {
      vts_stream_writer_close (self);
      vts_stream_writer_free (self);
    }
}

static void
append (VtsStreamWriter *self,
        const char      *text,
        gsize            length)
{
  g_byte_array_append (self->pending, (const guint8 *) text, length);
}

/* The status line and every header the handler set, as libsoup would
 * have written them, less its own framing: the body is chunked (or, for
 * an HTTP/1.0 client, ends with the connection). */
static void
write_head (VtsStreamWriter   *self,
            SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  SoupMessageHeadersIter iter;
  const char *name, *value;
  g_autofree char *status = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *date = soup_date_time_to_string (now, SOUP_DATE_HTTP);

  self->chunked = soup_server_message_get_http_version (msg) == SOUP_HTTP_1_1;
  status = g_strdup_printf ("HTTP/1.%d %u %s\r\n", self->chunked ? 1 : 0,
                            soup_server_message_get_status (msg),
                            soup_status_get_phrase (soup_server_message_get_status (msg)));
  append (self, status, strlen (status));

  /* The message keeps its headers as they are: what wraps the handlers
   * (faults) still reads a chunked response in them. */
  soup_message_headers_iter_init (&iter, headers);
  while (soup_message_headers_iter_next (&iter, &name, &value))
    {
      g_autofree char *line = NULL;

      if (g_ascii_strcasecmp (name, "Transfer-Encoding") == 0 ||
          g_ascii_strcasecmp (name, "Content-Length") == 0 ||
          g_ascii_strcasecmp (name, "Connection") == 0)
        continue;
      line = g_strdup_printf ("%s: %s\r\n", name, value);
      append (self, line, strlen (line));
    }
  {
    g_autofree char *tail = g_strdup_printf ("Date: %s\r\n%sConnection: close\r\n\r\n", date,
                                             self->chunked ? "Transfer-Encoding: chunked\r\n" : "");

    append (self, tail, strlen (tail));
  }
}

/*
 * vts_stream_writer_new:
 * @msg: a request whose handler set the status and the headers, and is
 *   about to return
 * @gone: called if the client goes away first
 *
 * Takes @msg's connection from libsoup and writes the head.
 *
 * Returns: (transfer full) (nullable): the writer, or %NULL when the
 *   connection could not be taken (it is gone already)
 */
VtsStreamWriter *
vts_stream_writer_new (SoupServerMessage       *msg,
                       VtsStreamWriterGoneFunc  gone,
                       gpointer                 user_data)
{
  VtsStreamWriter *self;
  GSocket *socket = soup_server_message_get_socket (msg);
  g_autoptr(GIOStream) connection = NULL;
  GOutputStream *output;

  g_return_val_if_fail (SOUP_IS_SERVER_MESSAGE (msg), NULL);

  /* Taking the connection asks libsoup for both addresses; ask now,
   * while the kernel still knows them (see vts-held-message.c). */
  soup_server_message_get_remote_address (msg);
  soup_server_message_get_local_address (msg);
  if (socket == NULL)
    return NULL;
  g_object_ref (socket);

  self = g_new0 (VtsStreamWriter, 1);
  self->pending = g_byte_array_new ();
  self->gone = gone;
  self->user_data = user_data;
  vts_socket_watch_init (&self->hangup);
  vts_timer_init (&self->report, on_report, self);
  write_head (self, msg);

  connection = soup_server_message_steal_connection (msg);
  output = connection != NULL ? g_io_stream_get_output_stream (connection) : NULL;
  if (output == NULL || !G_IS_POLLABLE_OUTPUT_STREAM (output))
    {
      g_object_unref (socket);
      if (connection != NULL)
        g_io_stream_close (connection, NULL, NULL);
      g_byte_array_unref (self->pending);
      g_free (self);
      return NULL;
    }

  self->connection = g_steal_pointer (&connection);
  self->socket = socket;
  self->output = G_POLLABLE_OUTPUT_STREAM (output);
  vts_socket_watch_start (&self->hangup, socket, on_socket_ready, self);
  vts_stream_writer_flush (self);

  return self;
}

/* One chunk, sent at once if the client's socket takes it. */
void
vts_stream_writer_write (VtsStreamWriter *self,
                         const char      *text)
{
  gsize length = strlen (text);

  if (self->broken || length == 0)
    return;

  if (self->chunked)
    {
      char size[32];

      g_snprintf (size, sizeof size, "%" G_GSIZE_MODIFIER "x\r\n", length);
      append (self, size, strlen (size));
    }
  append (self, text, length);
  if (self->chunked)
    append (self, "\r\n", 2);

  if (self->flush_watch == NULL)
    vts_stream_writer_flush (self);
}

/* Ends the body. The writer then belongs to itself: it closes the
 * connection once the client has taken every byte, and frees itself. */
void
vts_stream_writer_finish (VtsStreamWriter *self)
{
  if (self->broken)
    {
      vts_stream_writer_free (self);
      return;
    }
  if (self->chunked)
    append (self, "0\r\n\r\n", 5);
  /* Still watched: a client that hangs up before taking the rest must
   * not keep the connection. */
  self->finished = TRUE;
  if (self->flush_watch == NULL)
    vts_stream_writer_flush (self);
}

/* Closes the connection at once, whatever was not sent. */
void
vts_stream_writer_free (VtsStreamWriter *self)
{
  if (self == NULL)
    return;

  vts_stream_writer_close (self);
  vts_timer_cancel (&self->report);
  g_clear_object (&self->connection);
  g_clear_object (&self->socket);
  g_byte_array_unref (self->pending);
  g_free (self);
}
