/* vt-bench-plot.h: a PNG scatter plot of the bench's results
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  const char *label;
  double      x;  /* requests per job */
  double      y;  /* p95 detection delay, seconds */
} VtBenchPoint;

/* Writes a scatter of @points to @path as PNG. Fails with
 * G_IO_ERROR_NOT_SUPPORTED when the bench was built without cairo. */
gboolean vt_bench_plot_write (const char          *path,
                              const char          *title,
                              const VtBenchPoint  *points,
                              guint                n_points,
                              GError             **error);

G_END_DECLS
