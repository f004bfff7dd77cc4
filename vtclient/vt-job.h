/* vt-job.h: one job being followed, as an object widgets can bind to
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(__VTCLIENT_INSIDE__) && !defined(VTCLIENT_COMPILATION)
#error "Only <vtclient.h> can be included directly."
#endif

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "vt-enums.h"
#include "vt-version-macros.h"

G_BEGIN_DECLS

#define VT_TYPE_JOB (vt_job_get_type ())

VT_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (VtJob, vt_job, VT, JOB, GObject)

VT_AVAILABLE_IN_ALL
const char   *vt_job_get_id           (VtJob               *self);
VT_AVAILABLE_IN_ALL
VtStatus      vt_job_get_status       (VtJob               *self);
VT_AVAILABLE_IN_ALL
double        vt_job_get_progress     (VtJob               *self);
VT_AVAILABLE_IN_ALL
double        vt_job_get_eta          (VtJob               *self);
VT_AVAILABLE_IN_ALL
const char   *vt_job_get_result_url   (VtJob               *self);
VT_AVAILABLE_IN_ALL
const char   *vt_job_get_message      (VtJob               *self);
VT_AVAILABLE_IN_ALL
GDateTime    *vt_job_get_created_at   (VtJob               *self);
VT_AVAILABLE_IN_ALL
GDateTime    *vt_job_get_completed_at (VtJob               *self);
VT_AVAILABLE_IN_ALL
JsonObject   *vt_job_get_document     (VtJob               *self);
VT_AVAILABLE_IN_ALL
gboolean      vt_job_is_finished      (VtJob               *self);

VT_AVAILABLE_IN_ALL
void          vt_job_wait_async       (VtJob               *self,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data);
VT_AVAILABLE_IN_ALL
VtStatus      vt_job_wait_finish      (VtJob               *self,
                                       GAsyncResult        *result,
                                       GError             **error);
VT_AVAILABLE_IN_ALL
void          vt_job_cancel           (VtJob               *self);

G_END_DECLS
