/* vt-job-store.h: every job the server knows, decided once at creation
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "vt-duration-model.h"
#include "vt-job.h"

G_BEGIN_DECLS

/* What a POST /jobs asks for; unset fields are drawn by the store. */
typedef struct
{
  const char *source_url;       /* nullable */
  const char *target_language;  /* nullable */
  double      duration;         /* seconds; < 0: draw from the model */
  VtJobState  outcome;          /* PENDING: draw with the error rate */
} VtJobSpec;

#define VT_JOB_SPEC_INIT { NULL, NULL, -1.0, VT_JOB_STATE_PENDING }

#define VT_TYPE_JOB_STORE (vt_job_store_get_type ())
G_DECLARE_FINAL_TYPE (VtJobStore, vt_job_store, VT, JOB_STORE, GObject)

VtJobStore *vt_job_store_new         (const VtDurationModel *durations,
                                      double                 error_rate,
                                      double                 eta_noise,
                                      GRand                 *rand);

VtJob      *vt_job_store_create      (VtJobStore            *self,
                                      const VtJobSpec       *spec);
VtJob      *vt_job_store_lookup      (VtJobStore            *self,
                                      const char            *id);
VtJob      *vt_job_store_get_default (VtJobStore            *self);
void        vt_job_store_ensure_default (VtJobStore         *self);
void        vt_job_store_count       (VtJobStore            *self,
                                      gint64                 now_us,
                                      guint                  counts[VT_JOB_N_STATES]);
gboolean    vt_job_store_load        (VtJobStore            *self,
                                      const char            *path,
                                      GError               **error);

G_END_DECLS
