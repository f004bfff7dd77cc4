/* vt-bench-util.h: what the bench programs share
 *
 * Percentiles of measured delays, a verdict line for --check, and timers
 * to the microsecond on the default main context.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A GCompareFunc for doubles, ascending. */
int       vt_bench_compare_doubles (gconstpointer a,
                                    gconstpointer b);
/* Sorts an array of doubles, ascending. */
void      vt_bench_sort_doubles (GArray     *values);
/* The nearest-rank @p-th percentile of @n doubles sorted ascending (p 0:
 * the least); NAN when there are none. vt-bench, vt-scale, vt-offline
 * and vt-plan-sim report the same figures, computed alike. */
double    vt_bench_percentile_of (const double *sorted,
                                  guint         n,
                                  double        p);
/* The same, over a GArray of doubles. */
double    vt_bench_percentile   (GArray     *sorted,
                                 double      p);

/* --durations fixed:S or uniform:A:B, read as vt-server reads a
 * duration spec (vts-duration-model.c), as the range [@low, @high]: for
 * the benches that place each job's end themselves. */
gboolean  vt_bench_parse_duration_range (const char  *text,
                                         double      *low,
                                         double      *high,
                                         GError     **error);

/* Prints "check failed: ROW: WHAT" unless @ok; returns @ok. */
gboolean  vt_bench_check        (gboolean    ok,
                                 const char *row,
                                 const char *format,
                                 ...) G_GNUC_PRINTF (3, 4);

/* Calls @func at @ready_us on the monotonic clock, to the microsecond
 * (g_timeout_add() rounds to milliseconds), on the default main context.
 * Returns the source's id. */
guint     vt_bench_call_at      (gint64      ready_us,
                                 GSourceFunc func,
                                 gpointer    user_data);
/* Runs the default main context until @ready_us on the monotonic clock. */
void      vt_bench_wait_until   (gint64      ready_us);

G_END_DECLS
