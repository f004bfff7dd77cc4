/* vts-held-message.c: a message kept open past its handler
 *
 * Long-polls, event streams and the hang fault all return from their
 * handler with the response unfinished. Two things can then end the
 * exchange behind their back: the server dropping the connection (at
 * shutdown: SoupServerMessage::disconnected or ::finished), and the
 * client hanging up. libsoup does not watch the socket of a paused
 * message, so a client that hangs up would go unnoticed until the next
 * write; the held message watches the socket itself and, on end of file,
 * takes the connection away from libsoup and closes it.
 *
 * The server holds tens of thousands of such messages. A GSource per
 * socket would have GLib's main loop prepare, check and poll() every one
 * of them on every iteration, that is per accepted connection and per
 * event: quadratic. Every held socket is instead registered with one
 * epoll instance, and only its descriptor is watched by the main loop.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vts-held-message.h"

#include <errno.h>
#include <glib-unix.h>
#include <sys/epoll.h>

struct _VtsHeldMessage
{
  SoupServerMessage     *msg;
  VtsHeldMessageGoneFunc  gone;
  gpointer               user_data;
  int                    watched_fd;    /* in the epoll set; -1 when not */
  gulong                 disconnected_id;
  gulong                 finished_id;
};

/* The epoll set of every held socket, and the one source watching it. */
static int held_epoll_fd = -1;
static guint held_epoll_source;
static guint n_held_sockets;

static gboolean on_held_sockets_ready (int           fd,
                                       GIOCondition  condition,
                                       gpointer      user_data);

static void
unwatch_socket (VtsHeldMessage *self)
{
  if (self->watched_fd < 0)
    return;

  /* ENOENT or EBADF: the socket was closed, which removed it already. */
  epoll_ctl (held_epoll_fd, EPOLL_CTL_DEL, self->watched_fd, NULL);
  self->watched_fd = -1;
  if (--n_held_sockets == 0)
    {
      /* Nothing left to watch: nothing left behind at exit either. */
      g_clear_handle_id (&held_epoll_source, g_source_remove);
      close (held_epoll_fd);
      held_epoll_fd = -1;
    }
}

static void
watch_socket (VtsHeldMessage *self,
              GSocket        *socket)
{
  struct epoll_event event = { .events = EPOLLIN | EPOLLRDHUP, .data.ptr = self };
  int fd = g_socket_get_fd (socket);

  if (held_epoll_fd < 0)
    {
      held_epoll_fd = epoll_create1 (EPOLL_CLOEXEC);
      if (held_epoll_fd < 0)
        {
          g_warning ("epoll_create1: %s; clients that hang up on held requests go unnoticed",
                     g_strerror (errno));
          return;
        }
      held_epoll_source = g_unix_fd_add (held_epoll_fd, G_IO_IN, on_held_sockets_ready, NULL);
    }

  if (epoll_ctl (held_epoll_fd, EPOLL_CTL_ADD, fd, &event) != 0)
    {
      g_warning ("epoll_ctl: %s", g_strerror (errno));
      if (n_held_sockets == 0)
        {
          g_clear_handle_id (&held_epoll_source, g_source_remove);
          close (held_epoll_fd);
          held_epoll_fd = -1;
        }
      return;
    }
  self->watched_fd = fd;
  n_held_sockets++;
}

static void
vts_held_message_stop_watching (VtsHeldMessage *self)
{
  g_clear_signal_handler (&self->disconnected_id, self->msg);
  g_clear_signal_handler (&self->finished_id, self->msg);
  unwatch_socket (self);
}

static void
vts_held_message_on_gone (VtsHeldMessage *self)
{
  /* The owner frees us from the callback: nothing may touch self after. */
  vts_held_message_stop_watching (self);
  self->gone (self->user_data);
}

/* TRUE when the peer closed its side or the socket failed; FALSE when it
 * merely sent more bytes (a pipelined request, a TLS record), which we
 * must leave for libsoup to read. */
static gboolean
peer_has_closed (GSocket *socket)
{
  g_autoptr(GError) error = NULL;
  char byte;
  GInputVector vector = { &byte, 1 };
  int flags = G_SOCKET_MSG_PEEK;
  gssize n;

  n = g_socket_receive_message (socket, NULL, &vector, 1, NULL, NULL,
                                &flags, NULL, &error);
  if (n < 0)
    return !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);

  return n == 0;
}

static void
vts_held_message_on_socket_ready (VtsHeldMessage *self)
{
  g_autoptr(SoupServerMessage) msg = g_object_ref (self->msg);
  g_autoptr(GIOStream) stream = NULL;
  GSocket *socket = soup_server_message_get_socket (msg);

  if (socket == NULL || !peer_has_closed (socket))
    {
      /* Readable with data: watching on would spin. Shutdown or the
       * owner's own timeout still ends the exchange. */
      unwatch_socket (self);
      return;
    }

  /* Stealing makes the message emit ::disconnected, which reaches
   * vts_held_message_on_gone and so the owner, which frees self. */
  stream = soup_server_message_steal_connection (msg);
  if (stream != NULL)
    g_io_stream_close (stream, NULL, NULL);
}

/* One event at a time: handling one may free another held message,
 * whose event a batch would still hold. A bounded number per dispatch
 * keeps the main loop turning. */
static gboolean
on_held_sockets_ready (int           fd,
                       GIOCondition  condition,
                       gpointer      user_data)
{
  for (guint i = 0; i < 256 && held_epoll_fd >= 0; i++)
    {
      struct epoll_event event;

      if (epoll_wait (held_epoll_fd, &event, 1, 0) != 1)
        break;
      vts_held_message_on_socket_ready (event.data.ptr);
    }

  return G_SOURCE_CONTINUE;
}

/*
 * vts_held_message_new:
 * @msg: a message whose handler is returning without a complete response
 * @gone: called if the exchange ends without the owner
 *
 * Returns: (transfer full): a watch on @msg, to free once the owner has
 * finished the response (or from @gone)
 */
VtsHeldMessage *
vts_held_message_new (SoupServerMessage     *msg,
                     VtsHeldMessageGoneFunc  gone,
                     gpointer               user_data)
{
  VtsHeldMessage *self;
  GSocket *socket;

  g_return_val_if_fail (SOUP_IS_SERVER_MESSAGE (msg), NULL);
  g_return_val_if_fail (gone != NULL, NULL);

  self = g_new0 (VtsHeldMessage, 1);
  self->watched_fd = -1;
  self->msg = g_object_ref (msg);
  self->gone = gone;
  self->user_data = user_data;
  self->disconnected_id = g_signal_connect_swapped (msg, "disconnected",
                                                    G_CALLBACK (vts_held_message_on_gone),
                                                    self);
  self->finished_id = g_signal_connect_swapped (msg, "finished",
                                                G_CALLBACK (vts_held_message_on_gone),
                                                self);

  /* Stealing the connection later asks for both addresses; once the peer
   * has reset the socket the kernel no longer knows them and libsoup
   * warns. Asking now makes libsoup cache them while they are known. */
  soup_server_message_get_remote_address (msg);
  soup_server_message_get_local_address (msg);

  socket = soup_server_message_get_socket (msg);
  if (socket != NULL)
    watch_socket (self, socket);

  return self;
}

SoupServerMessage *
vts_held_message_get_message (VtsHeldMessage *self)
{
  return self->msg;
}

/* Stops watching; leaves the message's I/O as it is. */
void
vts_held_message_free (VtsHeldMessage *self)
{
  if (self == NULL)
    return;

  vts_held_message_stop_watching (self);
  g_object_unref (self->msg);
  g_free (self);
}
