/* vt-job-response-private.h: bytes to job observation (pure parser)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <json-glib/json-glib.h>

#include "vt-enums.h"

G_BEGIN_DECLS

/* The largest response body the client accepts; anything bigger is a
 * protocol error rather than memory we would have to hold. */
#define VT_JOB_RESPONSE_MAX_SIZE (64 * 1024)

/* What one response told us about a job. Optional numbers are negative
 * when the server did not send them. */
typedef struct
{
  VtStatus    status;
  double      progress;
  double      eta;
  double      elapsed;       /* the job's age when the server answered */
  char       *id;
  char       *result_url;    /* where the translated video is, once completed */
  char       *message;       /* the server's reason for an error */
  GDateTime  *created_at;
  GDateTime  *completed_at;
  JsonObject *document;      /* the whole answer, for fields not read here */
} VtJobObservation;

void     vt_job_observation_clear  (VtJobObservation *observation);
gboolean vt_job_status_from_string (const char       *str,
                                    VtStatus         *status);
gboolean vt_job_response_parse     (const char       *data,
                                    gsize             length,
                                    VtJobObservation *observation,
                                    GError          **error);
char    *vt_job_response_parse_id  (const char       *data,
                                    gsize             length,
                                    GError          **error);
GBytes  *vt_job_request_build      (const char       *source_url,
                                    const char       *target_language);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (VtJobObservation, vt_job_observation_clear)

/* A feed's answers hold many jobs: up to all of a client's, on a reset. */
#define VT_FEED_RESPONSE_MAX_SIZE (16 * 1024 * 1024)

/* What a join or a feed's long-poll answered. */
typedef struct
{
  GArray    *jobs;     /* VtJobObservation, each with its id */
  GPtrArray *unknown;  /* ids the server does not know */
  GPtrArray *gone;     /* ids of jobs it removed */
  gint64     next;     /* the long-poll's cursor, -1 when absent */
  gboolean   reset;    /* the events asked for are lost: a full state */
} VtFeedAnswer;

void     vt_feed_answer_clear      (VtFeedAnswer     *answer);
gboolean vt_feed_answer_parse      (const char       *data,
                                    gsize             length,
                                    VtFeedAnswer     *answer,
                                    GError          **error);
GBytes  *vt_feed_create_build      (double            progress_interval);
GBytes  *vt_feed_jobs_build        (const char * const *join,
                                    guint             n_join,
                                    const char * const *leave,
                                    guint             n_leave);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (VtFeedAnswer, vt_feed_answer_clear)

G_END_DECLS
