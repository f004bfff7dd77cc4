/* vt-bench-stats.c: percentiles, as the bench programs report them
 *
 * vt-bench and vt-plan-sim report the same figures, and must compute
 * them alike for their tables to compare.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>

#include "vt-bench-stats.h"

int
vt_bench_compare_doubles (gconstpointer a,
                          gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y ? 1 : 0;
}

double
vt_bench_percentile (const double *sorted,
                     guint         n,
                     double        p)
{
  guint rank;

  if (n == 0)
    return NAN;
  rank = (guint) ceil (p / 100.0 * n);
  return sorted[CLAMP (rank, 1, n) - 1];
}
