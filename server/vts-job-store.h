/* vts-job-store.h: every job the server knows, decided once at creation
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "vts-duration-model.h"
#include "vts-job.h"

G_BEGIN_DECLS

/* What a POST /jobs asks for; unset fields are drawn by the store. */
typedef struct
{
  const char *source_url;       /* nullable */
  const char *target_language;  /* nullable */
  double      duration;         /* seconds; < 0: draw from the model */
  VtsJobState  outcome;          /* PENDING: draw with the error rate */
} VtsJobSpec;

#define VTS_JOB_SPEC_INIT { NULL, NULL, -1.0, VTS_JOB_STATE_PENDING }

#define VTS_TYPE_JOB_STORE (vts_job_store_get_type ())
G_DECLARE_FINAL_TYPE (VtsJobStore, vts_job_store, VTS, JOB_STORE, GObject)

VtsJobStore *vts_job_store_new         (const VtsDurationModel *durations,
                                      double                 error_rate,
                                      double                 eta_noise,
                                      GRand                 *rand);

VtsJob      *vts_job_store_create      (VtsJobStore            *self,
                                      const VtsJobSpec       *spec);
VtsJob      *vts_job_store_lookup      (VtsJobStore            *self,
                                      const char            *id);
VtsJob      *vts_job_store_get_default (VtsJobStore            *self);
void        vts_job_store_ensure_default (VtsJobStore         *self);
void        vts_job_store_count       (VtsJobStore            *self,
                                      gint64                 now_us,
                                      guint                  counts[VTS_JOB_N_STATES]);
gboolean    vts_job_store_load        (VtsJobStore            *self,
                                      const char            *path,
                                      GError               **error);

G_END_DECLS
