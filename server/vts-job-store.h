/* vts-job-store.h: every job the server knows, decided once at creation
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

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
  const char *message;          /* nullable: the reason given for an error */
} VtsJobSpec;

#define VTS_JOB_SPEC_INIT { NULL, NULL, -1.0, VTS_JOB_STATE_PENDING, NULL }

/* What became of the job an id names */
typedef enum {
  VTS_JOB_LOOKUP_FOUND,
  VTS_JOB_LOOKUP_UNKNOWN,  /* never a job here */
  VTS_JOB_LOOKUP_GONE,     /* a job once, removed by retention */
  VTS_JOB_LOOKUP_FAILED,   /* the database could not be read */
} VtsJobLookup;

/* --retention's default: a day, in seconds */
#define VTS_JOB_STORE_DEFAULT_RETENTION (24.0 * 3600.0)
/* The most ended jobs kept in memory; the others are read on demand. */
#define VTS_JOB_STORE_CACHE_SIZE 4096

#define VTS_TYPE_JOB_STORE (vts_job_store_get_type ())
G_DECLARE_FINAL_TYPE (VtsJobStore, vts_job_store, VTS, JOB_STORE, GObject)

VtsJobStore  *vts_job_store_new            (const VtsDurationModel *durations,
                                            double                  error_rate,
                                            double                  eta_noise,
                                            GRand                  *rand);
gboolean      vts_job_store_open           (VtsJobStore            *self,
                                            const char             *path,
                                            GError                **error);
void          vts_job_store_set_retention  (VtsJobStore            *self,
                                            double                  seconds);
gboolean      vts_job_store_ensure_default (VtsJobStore            *self,
                                            GError                **error);
void          vts_job_store_close          (VtsJobStore            *self);

gboolean      vts_job_store_is_persistent  (VtsJobStore            *self);

VtsJob       *vts_job_store_create         (VtsJobStore            *self,
                                            const VtsJobSpec       *spec,
                                            GError                **error);
void          vts_job_store_create_async   (VtsJobStore            *self,
                                            const VtsJobSpec       *spec,
                                            GCancellable           *cancellable,
                                            GAsyncReadyCallback     callback,
                                            gpointer                user_data);
VtsJob       *vts_job_store_create_finish  (VtsJobStore            *self,
                                            GAsyncResult           *result,
                                            GError                **error);

VtsJobLookup  vts_job_store_find           (VtsJobStore            *self,
                                            const char             *id,
                                            VtsJob                **job);
VtsJob       *vts_job_store_lookup         (VtsJobStore            *self,
                                            const char             *id);
VtsJob       *vts_job_store_get_default    (VtsJobStore            *self);

void          vts_job_store_count          (VtsJobStore            *self,
                                            gint64                  now_us,
                                            guint                   counts[VTS_JOB_N_STATES]);
guint         vts_job_store_get_n_in_memory (VtsJobStore           *self);

G_END_DECLS
