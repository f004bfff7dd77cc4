/* vt-client.h: follow video translation jobs to the end
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(__VTCLIENT_INSIDE__) && !defined(VTCLIENT_COMPILATION)
#error "Only <vtclient.h> can be included directly."
#endif

#include <gio/gio.h>

#include "vt-enums.h"
#include "vt-job.h"
#include "vt-version-macros.h"

G_BEGIN_DECLS

#define VT_TYPE_CLIENT (vt_client_get_type ())

VT_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (VtClient, vt_client, VT, CLIENT, GObject)

VT_AVAILABLE_IN_ALL
VtClient     *vt_client_new                 (const char           *base_url);

VT_AVAILABLE_IN_ALL
const char   *vt_client_get_base_url        (VtClient             *self);
VT_AVAILABLE_IN_ALL
void          vt_client_set_base_url        (VtClient             *self,
                                             const char           *base_url);
VT_AVAILABLE_IN_ALL
guint         vt_client_get_max_attempts    (VtClient             *self);
VT_AVAILABLE_IN_ALL
void          vt_client_set_max_attempts    (VtClient             *self,
                                             guint                 max_attempts);
VT_AVAILABLE_IN_ALL
double        vt_client_get_max_wait_time   (VtClient             *self);
VT_AVAILABLE_IN_ALL
void          vt_client_set_max_wait_time   (VtClient             *self,
                                             double                seconds);
VT_AVAILABLE_IN_ALL
double        vt_client_get_initial_wait_time (VtClient           *self);
VT_AVAILABLE_IN_ALL
void          vt_client_set_initial_wait_time (VtClient           *self,
                                               double              seconds);
VT_AVAILABLE_IN_ALL
double        vt_client_get_backoff_factor  (VtClient             *self);
VT_AVAILABLE_IN_ALL
void          vt_client_set_backoff_factor  (VtClient             *self,
                                             double                factor);
VT_AVAILABLE_IN_ALL
double        vt_client_get_jitter          (VtClient             *self);
VT_AVAILABLE_IN_ALL
void          vt_client_set_jitter          (VtClient             *self,
                                             double                seconds);

VT_AVAILABLE_IN_ALL
double        vt_client_get_request_timeout (VtClient             *self);
VT_AVAILABLE_IN_ALL
void          vt_client_set_request_timeout (VtClient             *self,
                                             double                seconds);
VT_AVAILABLE_IN_ALL
double        vt_client_get_min_interval    (VtClient             *self);
VT_AVAILABLE_IN_ALL
void          vt_client_set_min_interval    (VtClient             *self,
                                             double                seconds);
VT_AVAILABLE_IN_ALL
double        vt_client_get_max_interval    (VtClient             *self);
VT_AVAILABLE_IN_ALL
void          vt_client_set_max_interval    (VtClient             *self,
                                             double                seconds);
VT_AVAILABLE_IN_ALL
VtStrategy    vt_client_get_strategy        (VtClient             *self);
VT_AVAILABLE_IN_ALL
void          vt_client_set_strategy        (VtClient             *self,
                                             VtStrategy            strategy);
VT_AVAILABLE_IN_ALL
VtJitterMode  vt_client_get_jitter_mode     (VtClient             *self);
VT_AVAILABLE_IN_ALL
void          vt_client_set_jitter_mode     (VtClient             *self,
                                             VtJitterMode          mode);
VT_AVAILABLE_IN_ALL
const char   *vt_client_get_token           (VtClient             *self);
VT_AVAILABLE_IN_ALL
void          vt_client_set_token           (VtClient             *self,
                                             const char           *token);
VT_AVAILABLE_IN_ALL
double        vt_client_get_start_jitter    (VtClient             *self);
VT_AVAILABLE_IN_ALL
void          vt_client_set_start_jitter    (VtClient             *self,
                                             double                seconds);
VT_AVAILABLE_IN_ALL
GTlsDatabase *vt_client_get_tls_database    (VtClient             *self);
VT_AVAILABLE_IN_ALL
void          vt_client_set_tls_database    (VtClient             *self,
                                             GTlsDatabase         *database);

VT_AVAILABLE_IN_ALL
double        vt_client_get_progress_rate   (VtClient             *self);
VT_AVAILABLE_IN_ALL
void          vt_client_set_progress_rate   (VtClient             *self,
                                             double                rate);

VT_AVAILABLE_IN_ALL
GNetworkMonitor *vt_client_get_network_monitor (VtClient          *self);
VT_AVAILABLE_IN_ALL
void          vt_client_set_network_monitor (VtClient             *self,
                                             GNetworkMonitor      *monitor);

VT_AVAILABLE_IN_ALL
GPowerProfileMonitor *vt_client_get_power_profile_monitor (VtClient *self);
VT_AVAILABLE_IN_ALL
void          vt_client_set_power_profile_monitor (VtClient       *self,
                                                   GPowerProfileMonitor *monitor);

VT_AVAILABLE_IN_ALL
double        vt_client_get_power_saver_factor (VtClient          *self);
VT_AVAILABLE_IN_ALL
void          vt_client_set_power_saver_factor (VtClient          *self,
                                                double             factor);

VT_AVAILABLE_IN_ALL
VtJob        *vt_client_follow              (VtClient             *self,
                                             const char           *job_id);
VT_AVAILABLE_IN_ALL
GListModel   *vt_client_get_jobs            (VtClient             *self);

VT_AVAILABLE_IN_ALL
char         *vt_client_export_model        (VtClient             *self);
VT_AVAILABLE_IN_ALL
gboolean      vt_client_import_model        (VtClient             *self,
                                             const char           *model,
                                             GError              **error);

VT_AVAILABLE_IN_ALL
char         *vt_client_export_state        (VtClient             *self);
VT_AVAILABLE_IN_ALL
GListModel   *vt_client_import_state        (VtClient             *self,
                                             const char           *state,
                                             GError              **error);

VT_AVAILABLE_IN_ALL
void          vt_client_get_status_async    (VtClient             *self,
                                             const char           *job_id,
                                             GCancellable         *cancellable,
                                             GAsyncReadyCallback   callback,
                                             gpointer              user_data);
VT_AVAILABLE_IN_ALL
VtStatus      vt_client_get_status_finish   (VtClient             *self,
                                             GAsyncResult         *result,
                                             GError              **error);
VT_AVAILABLE_IN_ALL
VtStatus      vt_client_get_status          (VtClient             *self,
                                             const char           *job_id,
                                             GCancellable         *cancellable,
                                             GError              **error);

VT_AVAILABLE_IN_ALL
void          vt_client_submit_job_async    (VtClient             *self,
                                             const char           *source_url,
                                             const char           *target_language,
                                             GCancellable         *cancellable,
                                             GAsyncReadyCallback   callback,
                                             gpointer              user_data);
VT_AVAILABLE_IN_ALL
char         *vt_client_submit_job_finish   (VtClient             *self,
                                             GAsyncResult         *result,
                                             GError              **error);

G_END_DECLS
