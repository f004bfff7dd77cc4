/* vts-metrics.h: request counters in the Prometheus text format
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <libsoup/soup.h>

#include "vts-job-store.h"

G_BEGIN_DECLS

#define VTS_TYPE_METRICS (vts_metrics_get_type ())
G_DECLARE_FINAL_TYPE (VtsMetrics, vts_metrics, VTS, METRICS, GObject)

VtsMetrics *vts_metrics_new    (void);
void       vts_metrics_attach (VtsMetrics  *self,
                              SoupServer *server);
void       vts_metrics_count  (VtsMetrics         *self,
                              SoupServerMessage *msg);
/* What the owners of held requests and feeds report at scrape time. */
typedef struct
{
  guint open_long_polls;
  guint open_streams;
  guint open_feeds;
  guint feed_jobs;
} VtsMetricsGauges;

char      *vts_metrics_render (VtsMetrics             *self,
                              VtsJobStore            *store,
                              const VtsMetricsGauges *gauges);

G_END_DECLS
