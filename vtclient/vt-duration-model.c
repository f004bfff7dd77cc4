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
 * wider: those of jobs that ended before a watch's first planned poll or
 * after its last close one, and those of the first watches, which
 * followed the plain schedule. For the former the estimate continues the
 * bulk's density past the edge, a spacing per job, which moves the next
 * plan's edge toward them, and the more of them there are, the further;
 * the latter, spanning the jobs the narrow samples already show, tell
 * nothing more and are left out. (A maximum-likelihood estimate was tried
 * instead: it collapses what wide intervals hold onto the narrow samples
 * next to them, so a plan that started too late kept starting too late;
 * spreading wide intervals evenly kept the first, plain-schedule samples
 * smearing the estimate long after; spreading jobs seen between the same
 * two polls evenly over them, instead of at their middle, widened the
 * plans it made on long-tailed jobs more than it sharpened the others.)
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

/* The mean gap between sorted @points from the 10th to the 90th
 * percentile: how densely jobs end in the bulk, which the edges are
 * continued with. */
static double
bulk_spacing (const double *points,
              guint         n)
{
  guint low = n / 10, high = n > 0 ? n - 1 - n / 10 : 0;

  return high > low ? (points[high] - points[low]) / (high - low) : 0.0;
}

static void
add_point (VtDurationEstimate *estimate,
           double              seconds)
{
  estimate->points[estimate->n_points++] = seconds;
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
  double before[VT_DURATION_MODEL_CAPACITY], after[VT_DURATION_MODEL_CAPACITY];
  double width, coarse, shortest = G_MAXDOUBLE, longest = 0, spacing, edge;
  guint n_narrow, n_before = 0, n_after = 0;

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
          add_point (estimate, (sample->low + sample->high) / 2);
          shortest = MIN (shortest, sample->low);
          longest = MAX (longest, sample->high);
        }
    }
  n_narrow = estimate->n_points;

  /* Too few narrow samples to stand on: take every middle. */
  if (n_narrow < VT_DURATION_MODEL_MIN_SAMPLES)
    {
      estimate->n_points = 0;
      for (guint i = 0; i < model->n_samples; i++)
        add_point (estimate, (model->samples[i].low + model->samples[i].high) / 2);
      qsort (estimate->points, estimate->n_points, sizeof (double), compare_doubles);
      return TRUE;
    }

  qsort (estimate->points, n_narrow, sizeof (double), compare_doubles);
  spacing = bulk_spacing (estimate->points, n_narrow);

  for (guint i = 0; i < model->n_samples; i++)
    {
      const Interval *sample = &model->samples[i];

      if (sample->high - sample->low <= coarse)
        continue;
      if (sample->high <= shortest + width)
        before[n_before++] = sample->high;
      else if (sample->low >= longest - width)
        after[n_after++] = sample->low;
    }

  /* A job seen end only at a watch's first poll, or only past its last
   * close one, ended outside what the narrow samples show: the bulk's
   * density goes on past the edge, a spacing per such job, from no
   * further in than the job was last seen. */
  qsort (before, n_before, sizeof (double), compare_doubles);
  qsort (after, n_after, sizeof (double), compare_doubles);
  edge = estimate->points[0];
  for (guint i = n_before; i-- > 0;)
    {
      edge = MIN (edge, before[i]) - spacing;
      add_point (estimate, MAX (edge, 0.0));
    }
  edge = estimate->points[n_narrow - 1];
  for (guint i = 0; i < n_after; i++)
    {
      edge = MAX (edge, after[i]) + spacing;
      add_point (estimate, edge);
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

/* The smallest point by which a share @q of the jobs had ended. */
double
vt_duration_estimate_quantile (const VtDurationEstimate *estimate,
                               double                    q)
{
  double rank = ceil (CLAMP (q, 0.0, 1.0) * estimate->n_points);

  return estimate->points[(guint) CLAMP (rank, 1, estimate->n_points) - 1];
}

/* How far apart the points lie in the bulk of the estimate: how far past
 * the points at an edge the next job may well end. */
double
vt_duration_estimate_spacing (const VtDurationEstimate *estimate)
{
  return bulk_spacing (estimate->points, estimate->n_points);
}
