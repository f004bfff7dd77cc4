/* vts-routes.h: the HTTP handlers of vt-server
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <libsoup/soup.h>

#include "vts-job-store.h"
#include "vts-metrics.h"

G_BEGIN_DECLS

/* The largest request body accepted, in bytes: past it, 413. */
#define VTS_ROUTES_MAX_BODY (64 * 1024)
/* The longest a long-poll is held, in seconds. */
#define VTS_ROUTES_MAX_WAIT 60
/* The most job ids one POST /feeds/{fid}/jobs names, join and leave. */
#define VTS_ROUTES_MAX_FEED_IDS 1000

#define VTS_TYPE_ROUTES (vts_routes_get_type ())
G_DECLARE_FINAL_TYPE (VtsRoutes, vts_routes, VTS, ROUTES, GObject)

VtsRoutes   *vts_routes_new                (VtsJobStore        *store,
                                          VtsMetrics         *metrics,
                                          gboolean           plain);
void        vts_routes_set_feed_ttl       (VtsRoutes          *self,
                                          double             seconds);
void        vts_routes_set_base_url       (VtsRoutes          *self,
                                          const char        *base_url);
void        vts_routes_attach             (VtsRoutes          *self,
                                          SoupServer        *server);
void        vts_routes_handle             (VtsRoutes          *self,
                                          SoupServerMessage *msg,
                                          const char        *path,
                                          GHashTable        *query);
guint       vts_routes_get_n_long_polls   (VtsRoutes          *self);
guint       vts_routes_get_n_streams      (VtsRoutes          *self);

const char *vts_routes_label_for_path     (const char        *path);

G_END_DECLS
