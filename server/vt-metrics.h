/* vt-metrics.h: request counters in the Prometheus text format
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <libsoup/soup.h>

#include "vt-job-store.h"

G_BEGIN_DECLS

#define VT_TYPE_METRICS (vt_metrics_get_type ())
G_DECLARE_FINAL_TYPE (VtMetrics, vt_metrics, VT, METRICS, GObject)

VtMetrics *vt_metrics_new    (void);
void       vt_metrics_attach (VtMetrics  *self,
                              SoupServer *server);
char      *vt_metrics_render (VtMetrics  *self,
                              VtJobStore *store,
                              guint       open_long_polls,
                              guint       open_streams);

G_END_DECLS
