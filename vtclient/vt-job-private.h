/* vt-job-private.h: what the client does with a VtJob
 *
 * A VtJob is the public face of one watch: the watch reports to it (it is
 * the watch's VtWatchListener), and it tells its client through hooks the
 * client hands it, so that it includes nothing of the client.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "vt-job.h"
#include "vt-watch-private.h"

G_BEGIN_DECLS

typedef struct
{
  /* The job's status changed (what status-changed announces). */
  void     (*status_changed)   (VtJob    *job,
                                VtStatus  status,
                                gpointer  user_data);
  /* Its progress or ETA changed (what progress-changed announces). */
  void     (*progress_changed) (VtJob    *job,
                                double    progress,
                                double    eta,
                                gpointer  user_data);
  /* Whether anyone listens to the above. */
  gboolean (*wants_progress)   (VtJob    *job,
                                gpointer  user_data);
  /* It is no longer followed: after its last notify, before its waiters
   * hear. */
  void     (*finished)         (VtJob    *job,
                                gpointer  user_data);
} VtJobHooks;

VtJob                 *vt_job_new          (const char       *job_id,
                                            double            progress_rate,
                                            const VtJobHooks *hooks,
                                            gpointer          hooks_data);
const VtWatchListener *vt_job_listener     (void);
void                   vt_job_set_watch    (VtJob            *self,
                                            VtWatch          *watch);
void                   vt_job_hold         (VtJob            *self);
void                   vt_job_add_waiter   (VtJob            *self,
                                            GTask            *task,
                                            gboolean          cancels_unheld);
void                   vt_job_detach       (VtJob            *self);
VtWatch               *vt_job_get_watch    (VtJob            *self);
GMainContext          *vt_job_get_context  (VtJob            *self);
int                    vt_job_compare_age  (VtJob            *a,
                                            VtJob            *b);

G_END_DECLS
