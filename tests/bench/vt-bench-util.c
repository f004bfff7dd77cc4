/* vt-bench-util.c: what the bench programs share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>
#include <stdio.h>

#include "vt-bench-util.h"
#include "vts-duration-model.h"

int
vt_bench_compare_doubles (gconstpointer a,
                          gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

void
vt_bench_sort_doubles (GArray *values)
{
  g_array_sort (values, vt_bench_compare_doubles);
}

double
vt_bench_percentile_of (const double *sorted,
                        guint         n,
                        double        p)
{
  guint rank;

  if (n == 0)
    return NAN;
  rank = (guint) ceil (p / 100.0 * n);
  return sorted[CLAMP (rank, 1, n) - 1];
}

double
vt_bench_percentile (GArray *sorted,
                     double  p)
{
  return vt_bench_percentile_of ((const double *) sorted->data, sorted->len, p);
}

gboolean
vt_bench_parse_duration_range (const char  *text,
                               double      *low,
                               double      *high,
                               GError     **error)
{
  VtsDurationModel model;

  if (!vts_duration_model_parse (&model, text, error))
    return FALSE;
  if (model.kind == VTS_DURATION_LOGNORMAL)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--durations: expected uniform:A:B or fixed:S, not \"%s\"", text);
      return FALSE;
    }

  *low = model.a;
  *high = model.kind == VTS_DURATION_UNIFORM ? model.b : model.a;
  return TRUE;
}

gboolean
vt_bench_check (gboolean    ok,
                const char *row,
                const char *format,
                ...)
{
  g_autofree char *what = NULL;
  va_list args;

  if (ok)
    return TRUE;
  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  g_print ("check failed: %s: %s\n", row, what);
  return FALSE;
}

guint
vt_bench_call_at (gint64      ready_us,
                  GSourceFunc func,
                  gpointer    user_data)
{
  g_autoptr(GSource) source = g_timeout_source_new (0);

  g_source_set_ready_time (source, ready_us);
  g_source_set_callback (source, func, user_data, NULL);
  return g_source_attach (source, NULL);
}

static gboolean
on_instant (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

void
vt_bench_wait_until (gint64 ready_us)
{
  gboolean now = FALSE;

  vt_bench_call_at (ready_us, on_instant, &now);
  while (!now)
    g_main_context_iteration (NULL, TRUE);
}
