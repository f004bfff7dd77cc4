/* vt-job.h: one simulated translation job
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib-object.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef enum {
  VT_JOB_STATE_PENDING,
  VT_JOB_STATE_COMPLETED,
  VT_JOB_STATE_ERROR,
} VtJobState;

#define VT_JOB_N_STATES 3

const char *vt_job_state_to_string   (VtJobState   state);
gboolean    vt_job_state_from_string (const char  *string,
                                      VtJobState  *state);

#define VT_TYPE_JOB (vt_job_get_type ())
G_DECLARE_FINAL_TYPE (VtJob, vt_job, VT, JOB, GObject)

VtJob      *vt_job_new                 (const char *id,
                                        gint64      created_wall_us,
                                        gint64      duration_us,
                                        VtJobState  outcome,
                                        double      eta_factor,
                                        const char *source_url,
                                        const char *target_language);

const char *vt_job_get_id              (VtJob      *self);
gint64      vt_job_get_created_wall    (VtJob      *self);
gint64      vt_job_get_duration        (VtJob      *self);
VtJobState  vt_job_get_outcome         (VtJob      *self);
double      vt_job_get_eta_factor      (VtJob      *self);
const char *vt_job_get_source_url      (VtJob      *self);
const char *vt_job_get_target_language (VtJob      *self);

VtJobState  vt_job_get_state           (VtJob      *self,
                                        gint64      now_us);
double      vt_job_get_progress        (VtJob      *self,
                                        gint64      now_us);
double      vt_job_get_eta             (VtJob      *self,
                                        gint64      now_us);
guint       vt_job_get_retry_after     (VtJob      *self,
                                        gint64      now_us);

JsonNode   *vt_job_to_json             (VtJob      *self,
                                        gint64      now_us,
                                        gboolean    hints);
JsonNode   *vt_job_to_classic_json     (VtJob      *self,
                                        gint64      now_us,
                                        gboolean    hints);

G_END_DECLS
