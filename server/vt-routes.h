/* vt-routes.h: the HTTP handlers of vt-server
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <libsoup/soup.h>

#include "vt-job-store.h"
#include "vt-metrics.h"

G_BEGIN_DECLS

/* The largest request body accepted, in bytes: past it, 413. */
#define VT_ROUTES_MAX_BODY (64 * 1024)
/* The longest a long-poll is held, in seconds. */
#define VT_ROUTES_MAX_WAIT 60

#define VT_TYPE_ROUTES (vt_routes_get_type ())
G_DECLARE_FINAL_TYPE (VtRoutes, vt_routes, VT, ROUTES, GObject)

VtRoutes   *vt_routes_new                (VtJobStore        *store,
                                          VtMetrics         *metrics,
                                          gboolean           plain);
void        vt_routes_attach             (VtRoutes          *self,
                                          SoupServer        *server);
void        vt_routes_handle             (VtRoutes          *self,
                                          SoupServerMessage *msg,
                                          const char        *path,
                                          GHashTable        *query);
guint       vt_routes_get_n_long_polls   (VtRoutes          *self);
guint       vt_routes_get_n_streams      (VtRoutes          *self);

const char *vt_routes_label_for_path     (const char        *path);

G_END_DECLS
