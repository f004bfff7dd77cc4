/* vt-duration-model.c: what the client has learned of job durations
 *
 * A ring of the most recent job durations seen on one server, and their
 * empirical quantiles. Pure data: the schedule reads it, the watch feeds
 * it, the client exports and imports it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vt-duration-model-private.h"

struct _VtDurationModel
{
  double samples[VT_DURATION_MODEL_CAPACITY];  /* in arrival order, a ring */
  guint  n_samples;
  guint  next;
  double sorted[VT_DURATION_MODEL_CAPACITY];   /* kept sorted for quantiles */
};

VtDurationModel *
vt_duration_model_new (void)
{
  return g_new0 (VtDurationModel, 1);
}

void
vt_duration_model_free (VtDurationModel *model)
{
  g_free (model);
}

static int
compare_doubles (const void *a,
                 const void *b)
{
  double x = *(const double *) a;
  double y = *(const double *) b;

  return (x > y) - (x < y);
}

void
vt_duration_model_add (VtDurationModel *model,
                       double           seconds)
{
  if (!isfinite (seconds) || seconds < 0)
    return;

  model->samples[model->next] = seconds;
  model->next = (model->next + 1) % VT_DURATION_MODEL_CAPACITY;
  model->n_samples = MIN (model->n_samples + 1, VT_DURATION_MODEL_CAPACITY);

  memcpy (model->sorted, model->samples, model->n_samples * sizeof (double));
  qsort (model->sorted, model->n_samples, sizeof (double), compare_doubles);
}

guint
vt_duration_model_size (const VtDurationModel *model)
{
  return model->n_samples;
}

/* The q-quantile (0 ≤ q ≤ 1), linearly interpolated; -1 when empty. */
double
vt_duration_model_quantile (const VtDurationModel *model,
                            double                 q)
{
  double position;
  guint below;

  if (model->n_samples == 0)
    return -1.0;

  position = CLAMP (q, 0.0, 1.0) * (model->n_samples - 1);
  below = (guint) floor (position);
  if (below + 1 >= model->n_samples)
    return model->sorted[model->n_samples - 1];

  return model->sorted[below] +
         (position - below) * (model->sorted[below + 1] - model->sorted[below]);
}

/* The samples in arrival order, oldest first, for export. */
GArray *
vt_duration_model_dup_samples (const VtDurationModel *model)
{
  GArray *samples = g_array_sized_new (FALSE, FALSE, sizeof (double), model->n_samples);
  guint first = model->n_samples < VT_DURATION_MODEL_CAPACITY ? 0 : model->next;

  for (guint i = 0; i < model->n_samples; i++)
    g_array_append_val (samples, model->samples[(first + i) % VT_DURATION_MODEL_CAPACITY]);

  return samples;
}

/* The fraction of samples at or below @seconds. */
double
vt_duration_model_cdf (const VtDurationModel *model,
                       double                 seconds)
{
  guint below = 0;

  if (model->n_samples == 0)
    return 0.0;

  while (below < model->n_samples && model->sorted[below] <= seconds)
    below++;

  return below / (double) model->n_samples;
}

VtDurationModel *
vt_duration_model_copy (const VtDurationModel *model)
{
  return g_memdup2 (model, sizeof *model);
}
