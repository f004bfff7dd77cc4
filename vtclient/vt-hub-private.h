/* vt-hub-private.h: what one client shares among its jobs on one server
 *
 * A hub runs the watches of one server in one main context: it hands
 * them the bounded request queues, the timer heap and the shared feeds,
 * asks the server what it can do once for all of them (the first watch's
 * answer; the others wait for it rather than each asking), and files what
 * their jobs taught in the server's VtServerInfo.
 *
 * Hubs are per main context because libsoup messages and GLib sources
 * belong to the context they were started in: a feed shared across
 * threads would deliver its events in the wrong one.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "vt-server-info-private.h"
#include "vt-watch-private.h"

G_BEGIN_DECLS

typedef struct _VtHub VtHub;

/* The hub has no watch left. */
typedef void (*VtHubIdleFunc) (VtHub    *hub,
                               gpointer  user_data);

/* Quick requests in flight to one server, and held ones (per-job
 * long-polls and streams, for servers without feeds). */
#define VT_HUB_MAX_REQUESTS 8
#define VT_HUB_MAX_HELD     200

VtHub          *vt_hub_new            (VtServerInfo          *info,
                                       SoupSession           *session,
                                       GMainContext          *context,
                                       gboolean               share_feeds);
VtHub          *vt_hub_ref            (VtHub                 *hub);
void            vt_hub_unref          (VtHub                 *hub);
void            vt_hub_close          (VtHub                 *hub);
void            vt_hub_set_idle_func  (VtHub                 *hub,
                                       VtHubIdleFunc          func,
                                       gpointer               user_data);

VtWatch        *vt_hub_follow         (VtHub                 *hub,
                                       const VtWatchOptions  *options,
                                       const char            *job_id,
                                       GUri                  *uri,
                                       GCancellable          *cancellable,
                                       const VtWatchListener *listener,
                                       gpointer               listener_data);

void            vt_hub_set_online     (VtHub                 *hub,
                                       gboolean               online);
void            vt_hub_set_network_monitor (VtHub            *hub,
                                            GNetworkMonitor  *monitor);
void            vt_hub_check_reachability  (VtHub            *hub);
void            vt_hub_set_poll_stretch (VtHub               *hub,
                                         double               stretch);
VtRequestQueue *vt_hub_get_queue      (VtHub                 *hub);
GMainContext   *vt_hub_get_context    (VtHub                 *hub);
guint           vt_hub_get_n_watches  (VtHub                 *hub);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VtHub, vt_hub_unref)

G_END_DECLS
