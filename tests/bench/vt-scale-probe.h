/* vt-scale-probe.h: what this process spends while it follows jobs
 *
 * A probe brackets one phase of vt-scale: it takes the process's CPU time
 * and resets its peak RSS when it starts, and from then on a thread of its
 * own samples, every interval, how many sockets the process holds to one
 * TCP port (its descriptors in /proc/self/fd, by their peer address) and
 * its VmRSS. The sampling thread's own CPU is left out of the figures: it
 * is the bench's cost, not the cost of what it measures.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _VtScaleProbe VtScaleProbe;

typedef struct
{
  double  cpu_seconds;        /* user + sys of the process, the sampler's taken out */
  double  sampler_cpu_seconds;
  double  wall_seconds;
  gint64  rss_start_kib;      /* VmRSS when the probe started */
  gint64  rss_peak_kib;       /* VmHWM since then (or the highest VmRSS sampled) */
  guint   peak_connections;   /* most sockets held to the port in one sample */
  guint   samples;
} VtScaleUsage;

/* Starts measuring now; samples every @interval_ms. */
VtScaleProbe *vt_scale_probe_start (guint16       port,
                                    guint         interval_ms);
/* Stops measuring now: fills @usage and frees the probe. */
void          vt_scale_probe_stop  (VtScaleProbe *probe,
                                    VtScaleUsage *usage);

/* How many sockets this process holds to @port right now. */
guint         vt_scale_count_connections (guint16 port);

G_END_DECLS
