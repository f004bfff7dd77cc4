/* vts-socket-watch.c: one epoll set for every socket the server keeps open
 *
 * The server holds tens of thousands of requests open (long-polls,
 * streams) and must notice a client that hangs up on one. A GSource per
 * socket would have GLib's main loop prepare, check and poll() every one
 * of them on every iteration, that is per accepted connection and per
 * event: quadratic. Every such socket is instead registered with one
 * epoll instance, and only its descriptor is watched by the main loop.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vts-socket-watch.h"

#include <errno.h>
#include <glib-unix.h>
#include <sys/epoll.h>
#include <unistd.h>

static int epoll_fd = -1;
static guint epoll_source;
static guint n_watched;

static void
close_epoll (void)
{
  g_clear_handle_id (&epoll_source, g_source_remove);
  close (epoll_fd);
  epoll_fd = -1;
}

/* One event at a time: handling one may stop another watch, whose event
 * a batch would still hold. A bounded number per dispatch keeps the main
 * loop turning. */
static gboolean
on_sockets_ready (int           fd,
                  GIOCondition  condition,
                  gpointer      user_data)
{
  for (guint i = 0; i < 256 && epoll_fd >= 0; i++)
    {
      struct epoll_event event;
      VtsSocketWatch *watch;

      if (epoll_wait (epoll_fd, &event, 1, 0) != 1)
        break;
      watch = event.data.ptr;
      watch->func (watch, watch->user_data);
    }

  return G_SOURCE_CONTINUE;
}

void
vts_socket_watch_init (VtsSocketWatch *watch)
{
  *watch = (VtsSocketWatch) { .fd = -1 };
}

/* Calls @func whenever @socket is readable or its peer hung up, until
 * stopped. Returns FALSE (after a warning) when it cannot watch. */
gboolean
vts_socket_watch_start (VtsSocketWatch     *watch,
                        GSocket            *socket,
                        VtsSocketReadyFunc  func,
                        gpointer            user_data)
{
  struct epoll_event event = { .events = EPOLLIN | EPOLLRDHUP, .data.ptr = watch };
  int fd = g_socket_get_fd (socket);

  g_return_val_if_fail (watch->fd < 0, FALSE);

  if (epoll_fd < 0)
    {
      epoll_fd = epoll_create1 (EPOLL_CLOEXEC);
      if (epoll_fd < 0)
        {
          g_warning ("epoll_create1: %s; clients that hang up on held requests go unnoticed",
                     g_strerror (errno));
          return FALSE;
        }
      epoll_source = g_unix_fd_add (epoll_fd, G_IO_IN, on_sockets_ready, NULL);
    }

  if (epoll_ctl (epoll_fd, EPOLL_CTL_ADD, fd, &event) != 0)
    {
      g_warning ("epoll_ctl: %s", g_strerror (errno));
      if (n_watched == 0)
        close_epoll ();
      return FALSE;
    }

  watch->fd = fd;
  watch->func = func;
  watch->user_data = user_data;
  n_watched++;
  return TRUE;
}

/* Idempotent. */
void
vts_socket_watch_stop (VtsSocketWatch *watch)
{
  if (watch->fd < 0)
    return;

  /* ENOENT or EBADF: the socket was closed, which removed it already. */
  epoll_ctl (epoll_fd, EPOLL_CTL_DEL, watch->fd, NULL);
  watch->fd = -1;
  /* Nothing left to watch: nothing left behind at exit either. */
  if (--n_watched == 0)
    close_epoll ();
}

/* TRUE when the peer closed its side or the socket failed; FALSE when it
 * merely sent more bytes (a pipelined request, a TLS record). */
gboolean
vts_socket_peer_has_closed (GSocket *socket)
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
