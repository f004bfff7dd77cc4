/* vt-server-info-private.h: what a client knows of one server
 *
 * The capabilities it announced and the job durations learned from it,
 * with the poll plan made of them, shared by every hub (one per main
 * context) that talks to that server, hence the lock of its own.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

#include "vt-duration-model-private.h"
#include "vt-protocol-private.h"
#include "vt-schedule-private.h"

G_BEGIN_DECLS

typedef struct _VtServerInfo VtServerInfo;

VtServerInfo *vt_server_info_new               (const char             *base_url);
VtServerInfo *vt_server_info_ref               (VtServerInfo           *info);
void          vt_server_info_unref             (VtServerInfo           *info);
const char   *vt_server_info_get_base_url      (VtServerInfo           *info);

gboolean      vt_server_info_get_capabilities  (VtServerInfo           *info,
                                                VtCapabilities         *capabilities);
void          vt_server_info_set_capabilities  (VtServerInfo           *info,
                                                VtCapabilities          capabilities);
void          vt_server_info_withdraw          (VtServerInfo           *info,
                                                VtCapabilities          capabilities);

void          vt_server_info_learn             (VtServerInfo           *info,
                                                double                  ended_after,
                                                double                  ended_by);
GArray       *vt_server_info_dup_durations     (VtServerInfo           *info);
gboolean      vt_server_info_get_plan          (VtServerInfo           *info,
                                                const VtScheduleConfig *config,
                                                VtSchedulePlan         *plan);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VtServerInfo, vt_server_info_unref)

G_END_DECLS
