/* vts-job.h: one simulated translation job
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib-object.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef enum {
  VTS_JOB_STATE_PENDING,
  VTS_JOB_STATE_COMPLETED,
  VTS_JOB_STATE_ERROR,
} VtsJobState;

#define VTS_JOB_N_STATES 3

const char *vts_job_state_to_string   (VtsJobState   state);
gboolean    vts_job_state_from_string (const char  *string,
                                      VtsJobState  *state);

#define VTS_TYPE_JOB (vts_job_get_type ())
G_DECLARE_FINAL_TYPE (VtsJob, vts_job, VTS, JOB, GObject)

VtsJob      *vts_job_new                 (const char *id,
                                        gint64      created_wall_us,
                                        gint64      duration_us,
                                        VtsJobState  outcome,
                                        double      eta_factor,
                                        const char *source_url,
                                        const char *target_language);

/* How a job document is written. */
typedef struct
{
  gboolean    hints;     /* progress, eta, elapsed while pending */
  const char *base_url;  /* nullable: result_url is then a path */
} VtsJobFormat;

const char *vts_job_get_id              (VtsJob      *self);
gint64      vts_job_get_created_wall    (VtsJob      *self);
gint64      vts_job_get_duration        (VtsJob      *self);
VtsJobState  vts_job_get_outcome         (VtsJob      *self);
double      vts_job_get_eta_factor      (VtsJob      *self);
const char *vts_job_get_source_url      (VtsJob      *self);
const char *vts_job_get_target_language (VtsJob      *self);
const char *vts_job_get_message         (VtsJob      *self);
void        vts_job_set_message         (VtsJob      *self,
                                        const char *message);

VtsJobState  vts_job_get_state           (VtsJob      *self,
                                        gint64      now_us);
double      vts_job_get_progress        (VtsJob      *self,
                                        gint64      now_us);
double      vts_job_get_eta             (VtsJob      *self,
                                        gint64      now_us);
double      vts_job_get_elapsed         (VtsJob      *self,
                                        gint64      now_us);
guint       vts_job_get_retry_after     (VtsJob      *self,
                                        gint64      now_us);

JsonNode   *vts_job_to_json             (VtsJob             *self,
                                        gint64              now_us,
                                        const VtsJobFormat *format);
GBytes     *vts_job_to_json_bytes       (VtsJob      *self,
                                        gint64      now_us,
                                        const VtsJobFormat *format);
GBytes     *vts_job_to_classic_json_bytes (VtsJob    *self,
                                          gint64    now_us,
                                          gboolean  hints);
JsonNode   *vts_job_to_classic_json     (VtsJob      *self,
                                        gint64      now_us,
                                        gboolean    hints);

G_END_DECLS
