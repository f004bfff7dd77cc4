/* vt-duration-model.c: what the client has learned of job durations
 *
 * A ring of the most recent job durations seen on one server. A push
 * channel sees a job end as it happens: an exact duration. A poll only
 * learns that the job ended between its last "pending" and the answer
 * that said otherwise: an interval. The model keeps both as intervals
 * (an exact one has no width) and treats each as spread evenly over its
 * width, which is the honest reading of what a poll saw; the quantiles
 * are those of that mixture. Pure data: the schedule reads it, the watch
 * feeds it, the client exports and imports it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <math.h>

#include "vt-duration-model-private.h"

/* Bisection steps for a quantile: the range shrinks 2^-48 times, far
 * below a millisecond for any job. */
#define QUANTILE_STEPS 48

typedef struct
{
  double low;
  double high;
} Interval;

struct _VtDurationModel
{
  Interval samples[VT_DURATION_MODEL_CAPACITY];  /* arrival order, a ring */
  guint    n_samples;
  guint    next;
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

VtDurationModel *
vt_duration_model_copy (const VtDurationModel *model)
{
  return g_memdup2 (model, sizeof *model);
}

/*
 * vt_duration_model_add_interval:
 *
 * Files a job that ended somewhere in [@low, @high] seconds.
 */
void
vt_duration_model_add_interval (VtDurationModel *model,
                                double           low,
                                double           high)
{
  if (!isfinite (low) || !isfinite (high) || low < 0 || high < low)
    return;

  model->samples[model->next] = (Interval) { low, high };
  model->next = (model->next + 1) % VT_DURATION_MODEL_CAPACITY;
  model->n_samples = MIN (model->n_samples + 1, VT_DURATION_MODEL_CAPACITY);
}

void
vt_duration_model_add (VtDurationModel *model,
                       double           seconds)
{
  vt_duration_model_add_interval (model, seconds, seconds);
}

guint
vt_duration_model_size (const VtDurationModel *model)
{
  return model->n_samples;
}

/* The share of jobs that ended by @seconds. */
double
vt_duration_model_cdf (const VtDurationModel *model,
                       double                 seconds)
{
  double done = 0;

  if (model->n_samples == 0)
    return 0.0;

  for (guint i = 0; i < model->n_samples; i++)
    {
      const Interval *sample = &model->samples[i];

      if (seconds >= sample->high)
        done += 1;
      else if (seconds > sample->low)
        done += (seconds - sample->low) / (sample->high - sample->low);
    }

  return done / model->n_samples;
}

/* The smallest duration by which a share @q (0 ≤ q ≤ 1) of the jobs had
 * ended; -1 when the model is empty. */
double
vt_duration_model_quantile (const VtDurationModel *model,
                            double                 q)
{
  double low = G_MAXDOUBLE, high = 0;

  if (model->n_samples == 0)
    return -1.0;

  for (guint i = 0; i < model->n_samples; i++)
    {
      low = MIN (low, model->samples[i].low);
      high = MAX (high, model->samples[i].high);
    }

  q = CLAMP (q, 0.0, 1.0);
  if (q <= 0)
    return low;

  for (guint step = 0; step < QUANTILE_STEPS && high > low; step++)
    {
      double middle = low + (high - low) / 2;

      if (vt_duration_model_cdf (model, middle) >= q)
        high = middle;
      else
        low = middle;
    }

  return high;
}

/* The samples in arrival order, oldest first, as pairs of doubles (low,
 * high), for export. */
GArray *
vt_duration_model_dup_samples (const VtDurationModel *model)
{
  GArray *samples = g_array_sized_new (FALSE, FALSE, sizeof (double), 2 * model->n_samples);
  guint first = model->n_samples < VT_DURATION_MODEL_CAPACITY ? 0 : model->next;

  for (guint i = 0; i < model->n_samples; i++)
    {
      const Interval *sample = &model->samples[(first + i) % VT_DURATION_MODEL_CAPACITY];

      g_array_append_val (samples, sample->low);
      g_array_append_val (samples, sample->high);
    }

  return samples;
}
