/* vt-job-list-private.h: the jobs a client follows, as a GListModel
 *
 * In the order they were followed; removing one costs O(log n), not a
 * scan, so ten thousand jobs ending cost what one does ten thousand
 * times.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "vt-job.h"

G_BEGIN_DECLS

#define VT_TYPE_JOB_LIST (vt_job_list_get_type ())
G_DECLARE_FINAL_TYPE (VtJobList, vt_job_list, VT, JOB_LIST, GObject)

VtJobList *vt_job_list_new    (void);
void       vt_job_list_append (VtJobList *self,
                               VtJob     *job);
void       vt_job_list_remove (VtJobList *self,
                               VtJob     *job);

G_END_DECLS
