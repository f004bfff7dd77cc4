/* vt-bench-stats.h: percentiles, as the bench programs report them
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A GCompareFunc for doubles, in increasing order. */
int    vt_bench_compare_doubles (gconstpointer a,
                                 gconstpointer b);

/* The nearest-rank @p-th percentile (0 < @p <= 100) of @n values sorted
 * in increasing order; NAN when there are none. */
double vt_bench_percentile      (const double *sorted,
                                 guint         n,
                                 double        p);

G_END_DECLS
