/* vts-socket-watch.h: one epoll set for every socket the server keeps open
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _VtsSocketWatch VtsSocketWatch;

/* The socket is readable, or the peer hung up; the watch is still on. */
typedef void (*VtsSocketReadyFunc) (VtsSocketWatch *watch,
                                    gpointer        user_data);

/* Embedded in its owner; the fields are private. */
struct _VtsSocketWatch
{
  int                 fd;   /* in the epoll set; -1 when not */
  VtsSocketReadyFunc  func;
  gpointer            user_data;
};

void     vts_socket_watch_init  (VtsSocketWatch     *watch);
gboolean vts_socket_watch_start (VtsSocketWatch     *watch,
                                 GSocket            *socket,
                                 VtsSocketReadyFunc  func,
                                 gpointer            user_data);
void     vts_socket_watch_stop  (VtsSocketWatch     *watch);
gboolean vts_socket_peer_has_closed (GSocket        *socket);

G_END_DECLS
