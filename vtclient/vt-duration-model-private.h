/* vt-duration-model-private.h: what the client has learned of job durations
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* How many recent durations a model keeps: enough for stable quantiles,
 * few enough that the model follows a server whose jobs change. */
#define VT_DURATION_MODEL_CAPACITY 256

/* Fewer samples than this and the model is not trusted. */
#define VT_DURATION_MODEL_MIN_SAMPLES 5

typedef struct _VtDurationModel VtDurationModel;

/* Where the model's jobs ended, one point each, in increasing order: the
 * empirical distribution the learned schedule places its polls by. */
typedef struct
{
  guint  n_points;
  double points[VT_DURATION_MODEL_CAPACITY];
} VtDurationEstimate;

VtDurationModel *vt_duration_model_new      (void);
void             vt_duration_model_free     (VtDurationModel       *model);
void             vt_duration_model_add      (VtDurationModel       *model,
                                             double                 seconds);
void             vt_duration_model_add_interval (VtDurationModel   *model,
                                                 double             low,
                                                 double             high);
guint            vt_duration_model_size     (const VtDurationModel *model);
guint64          vt_duration_model_version  (const VtDurationModel *model);
GArray          *vt_duration_model_dup_samples (const VtDurationModel *model);
gboolean         vt_duration_model_estimate (const VtDurationModel *model,
                                             VtDurationEstimate    *estimate);

double           vt_duration_estimate_cdf      (const VtDurationEstimate *estimate,
                                                double                    seconds);
double           vt_duration_estimate_quantile (const VtDurationEstimate *estimate,
                                                double                    q);
double           vt_duration_estimate_spacing  (const VtDurationEstimate *estimate);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VtDurationModel, vt_duration_model_free)

G_END_DECLS
