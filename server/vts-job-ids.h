/* vts-job-ids.h: job ids that tell whether this server issued them
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The size of the secret key, in bytes */
#define VTS_JOB_IDS_KEY_SIZE 32

typedef struct _VtsJobIds VtsJobIds;

GBytes    *vts_job_ids_new_key (void);
VtsJobIds *vts_job_ids_new     (GBytes      *key);
void       vts_job_ids_free    (VtsJobIds   *self);

char      *vts_job_ids_issue   (VtsJobIds   *self);
gboolean   vts_job_ids_issued  (VtsJobIds   *self,
                                const char  *id);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VtsJobIds, vts_job_ids_free)

G_END_DECLS
