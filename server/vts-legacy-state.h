/* vts-legacy-state.h: the JSON state file of earlier vt-servers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "vts-job.h"

G_BEGIN_DECLS

gboolean vts_legacy_state_looks_like (const char  *data,
                                      gsize        length);
gboolean vts_legacy_state_parse      (const char  *data,
                                      gsize        length,
                                      GPtrArray  **jobs,
                                      char       **default_id,
                                      GError     **error);

G_END_DECLS
