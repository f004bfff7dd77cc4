/* vts-held-message.c: a message kept open past its handler
 *
 * Long-polls, event streams and the hang fault all return from their
 * handler with the response unfinished. Two things can then end the
 * exchange behind their back: the server dropping the connection (at
 * shutdown: SoupServerMessage::disconnected or ::finished), and the
 * client hanging up. libsoup does not watch the socket of a paused
 * message, so a client that hangs up would go unnoticed until the next
 * write; the held message watches the socket itself and, on end of file,
 * takes the connection away from libsoup and closes it. The watch is one
 * entry of the server's one epoll set
 * (vts-socket-watch.c), not a GSource of its own.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vts-held-message.h"

#include "vts-socket-watch.h"

struct _VtsHeldMessage
{
  SoupServerMessage     *msg;
  VtsHeldMessageGoneFunc  gone;
  gpointer               user_data;
  VtsSocketWatch         socket_watch;
  gulong                 disconnected_id;
  gulong                 finished_id;
};

static void
vts_held_message_stop_watching (VtsHeldMessage *self)
{
  g_clear_signal_handler (&self->disconnected_id, self->msg);
  g_clear_signal_handler (&self->finished_id, self->msg);
  vts_socket_watch_stop (&self->socket_watch);
}

static void
vts_held_message_on_gone (VtsHeldMessage *self)
{
  /* The owner frees us from the callback: nothing may touch self after. */
  vts_held_message_stop_watching (self);
  self->gone (self->user_data);
}

static void
vts_held_message_on_socket_ready (VtsSocketWatch *watch,
                                 gpointer        user_data)
{
  VtsHeldMessage *self = user_data;
  g_autoptr(SoupServerMessage) msg = g_object_ref (self->msg);
  g_autoptr(GIOStream) stream = NULL;
  GSocket *socket = soup_server_message_get_socket (msg);

  if (socket == NULL || !vts_socket_peer_has_closed (socket))
    {
      /* Readable with data: watching on would spin. Shutdown or the
       * owner's own timeout still ends the exchange. */
      vts_socket_watch_stop (watch);
      return;
    }

  /* Stealing makes the message emit ::disconnected, which reaches
   * vts_held_message_on_gone and so the owner, which frees self. */
  stream = soup_server_message_steal_connection (msg);
  if (stream != NULL)
    g_io_stream_close (stream, NULL, NULL);
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
  vts_socket_watch_init (&self->socket_watch);
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
    vts_socket_watch_start (&self->socket_watch, socket, vts_held_message_on_socket_ready, self);

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
