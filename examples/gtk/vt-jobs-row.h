/* vt-jobs-row.h: one job in vt-jobs' list
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gtk/gtk.h>
#include <vtclient.h>

G_BEGIN_DECLS

#define VT_JOBS_TYPE_ROW (vt_jobs_row_get_type ())

G_DECLARE_FINAL_TYPE (VtJobsRow, vt_jobs_row, VT_JOBS, ROW, GtkWidget)

GtkWidget      *vt_jobs_row_new              (void);
void            vt_jobs_row_set_job          (VtJobsRow *self,
                                              VtJob     *job);
VtJob          *vt_jobs_row_get_job          (VtJobsRow *self);

/* A job the user cancelled: vt_job_cancel() leaves its status pending. */
void            vt_jobs_mark_cancelled       (VtJob     *job);
gboolean        vt_jobs_is_cancelled         (VtJob     *job);

/* What the row shows, for the test hook (vt-jobs-test.c). */
const char     *vt_jobs_row_get_title_text   (VtJobsRow *self);
GtkProgressBar *vt_jobs_row_get_progress_bar (VtJobsRow *self);
const char     *vt_jobs_row_get_status_text  (VtJobsRow *self);
const char     *vt_jobs_row_get_detail_text  (VtJobsRow *self);
GtkWidget      *vt_jobs_row_get_cancel_button (VtJobsRow *self);

G_END_DECLS
