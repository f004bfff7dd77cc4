/* vt-duration-model.c: what the client has learned of job durations
 *
 * A ring of the most recent job durations seen on one server. A push
 * channel sees a job end as it happens: an exact duration. A poll only
 * learns that the job ended between its last "pending" and the answer
 * that said otherwise: an interval, as wide as the polls were apart.
 *
 * The estimate turns each sample into one point, where its job most
 * likely ended, and keeps the points sorted: their empirical distribution
 * is what the schedule plans by. Most samples are intervals of about the
 * learned schedule's step, and their middle is the point. A few are much
 * wider: those of the first watches, which followed the plain backoff,
 * and those of jobs that ended before the first planned poll or after the
 * last: for the latter the estimate assumes the job ended within a usual
 * width of the polls it fell outside of, which moves the next plan's
 * edge toward it; the former, spanning the jobs the narrow samples
 * already show, tell nothing more and are left out. (A maximum-likelihood
 * estimate was tried instead: it collapses what wide intervals hold onto
 * the narrow samples next to them, so a plan that started too late kept
 * starting too late; spreading wide intervals evenly instead kept the
 * first, backoff-timed samples smearing the estimate long after.)
 *
 * Pure data: the schedule reads estimates, the watch feeds the model,
 * the client exports and imports it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <math.h>
#include <stdlib.h>

#include "vt-duration-model-private.h"

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
  guint64  version;                              /* samples ever added */
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

/*
 * vt_duration_model_add_interval:
 *
 * Files a job that ended somewhere in (@low, @high] seconds.
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
  model->version++;
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

/* Counts every sample ever added, so a reader can tell the model changed
 * even once the ring is full. */
guint64
vt_duration_model_version (const VtDurationModel *model)
{
  return model->version;
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

/* A sample wider than this many times the median width is coarse. */
#define COARSE_WIDTH_FACTOR 2.0

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y ? 1 : 0;
}

static double
median_width (const VtDurationModel *model)
{
  double widths[VT_DURATION_MODEL_CAPACITY];

  for (guint i = 0; i < model->n_samples; i++)
    widths[i] = model->samples[i].high - model->samples[i].low;
  qsort (widths, model->n_samples, sizeof (double), compare_doubles);

  return widths[model->n_samples / 2];
}

/*
 * vt_duration_model_estimate:
 * @estimate: (out caller-allocates): where the jobs ended
 *
 * Returns: %FALSE when the model holds no sample
 */
gboolean
vt_duration_model_estimate (const VtDurationModel *model,
                            VtDurationEstimate    *estimate)
{
  double width, coarse, shortest = G_MAXDOUBLE, longest = 0;
  guint n_fine = 0;

  if (model->n_samples == 0)
    return FALSE;

  width = median_width (model);
  coarse = COARSE_WIDTH_FACTOR * width;
  estimate->n_points = 0;

  for (guint i = 0; i < model->n_samples; i++)
    {
      const Interval *sample = &model->samples[i];

      if (sample->high - sample->low <= coarse)
        {
          estimate->points[estimate->n_points++] = (sample->low + sample->high) / 2;
          shortest = MIN (shortest, sample->low);
          longest = MAX (longest, sample->high);
          n_fine++;
        }
    }

  /* Too few narrow samples to stand on: take every middle. */
  if (n_fine < VT_DURATION_MODEL_MIN_SAMPLES)
    {
      estimate->n_points = 0;
      for (guint i = 0; i < model->n_samples; i++)
        estimate->points[estimate->n_points++] =
          (model->samples[i].low + model->samples[i].high) / 2;
    }
  else
    {
      for (guint i = 0; i < model->n_samples; i++)
        {
          const Interval *sample = &model->samples[i];

          if (sample->high - sample->low <= coarse)
            continue;
          if (sample->high <= shortest + width)
            estimate->points[estimate->n_points++] = MAX (sample->high - width / 2, 0.0);
          else if (sample->low >= longest - width)
            estimate->points[estimate->n_points++] = sample->low + width / 2;
        }
    }

  qsort (estimate->points, estimate->n_points, sizeof (double), compare_doubles);
  return TRUE;
}

/* The share of jobs that had ended by @seconds. */
double
vt_duration_estimate_cdf (const VtDurationEstimate *estimate,
                          double                    seconds)
{
  guint low = 0, high = estimate->n_points;

  /* The number of points at or below @seconds, by bisection. */
  while (low < high)
    {
      guint middle = low + (high - low) / 2;

      if (estimate->points[middle] <= seconds)
        low = middle + 1;
      else
        high = middle;
    }

  return estimate->n_points > 0 ? (double) low / estimate->n_points : 0.0;
}

static guint
quantile_index (const VtDurationEstimate *estimate,
                double                    q)
{
  double rank = ceil (CLAMP (q, 0.0, 1.0) * estimate->n_points);

  return (guint) CLAMP (rank, 1, estimate->n_points) - 1;
}

/* The smallest point by which a share @q of the jobs had ended. */
double
vt_duration_estimate_quantile (const VtDurationEstimate *estimate,
                               double                    q)
{
  return estimate->points[quantile_index (estimate, q)];
}

/* How far apart points lie about quantile @q: the mean gap over the few
 * points on its inner side (the median's way), which says how far past
 * the points at an edge the next job may well end. */
#define SPACING_POINTS 3

double
vt_duration_estimate_spacing (const VtDurationEstimate *estimate,
                              double                    q)
{
  guint i = quantile_index (estimate, q);
  guint k = MIN (SPACING_POINTS, estimate->n_points - 1);

  if (k == 0)
    return 0.0;
  if (q < 0.5)
    return (estimate->points[MIN (i + k, estimate->n_points - 1)] - estimate->points[i]) / k;
  return (estimate->points[i] - estimate->points[i >= k ? i - k : 0]) / k;
}
