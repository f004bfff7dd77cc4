/* vt-client-private.h: what watches call back into the client
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "vt-client.h"
#include "vt-duration-model-private.h"
#include "vt-schedule-private.h"
#include "vt-watch-private.h"

G_BEGIN_DECLS

void vt_client_emit_status_changed (VtClient   *self,
                                    const char *job_id,
                                    VtStatus    status);
void vt_client_emit_progress_changed (VtClient *self,
                                      const char *job_id,
                                      double    progress,
                                      double    eta);
void vt_client_watch_finished      (VtClient   *self,
                                    VtWatch    *watch);
void vt_client_learn               (VtClient   *self,
                                    const char *base_url,
                                    guint       capabilities,
                                    double      ended_after,
                                    double      ended_by);
gboolean vt_client_get_plan         (VtClient               *self,
                                    const char             *base_url,
                                    const VtScheduleConfig *config,
                                    VtSchedulePlan         *plan);

G_END_DECLS
