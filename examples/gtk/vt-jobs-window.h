/* vt-jobs-window.h: vt-jobs' window, a form to submit jobs over their list
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gtk/gtk.h>
#include <vtclient.h>

G_BEGIN_DECLS

#define VT_JOBS_TYPE_WINDOW (vt_jobs_window_get_type ())

G_DECLARE_FINAL_TYPE (VtJobsWindow, vt_jobs_window, VT_JOBS, WINDOW, GtkApplicationWindow)

GtkWidget   *vt_jobs_window_new           (GtkApplication *application,
                                           VtClient       *client);
void         vt_jobs_window_submit        (VtJobsWindow   *self,
                                           const char     *source_url,
                                           const char     *target_language);
GListModel  *vt_jobs_window_get_jobs      (VtJobsWindow   *self);
GtkWidget   *vt_jobs_window_get_list_view (VtJobsWindow   *self);

G_END_DECLS
