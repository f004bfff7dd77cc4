/* vts-db.h: the jobs on SQLite, one row per job
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "vts-job.h"

G_BEGIN_DECLS

typedef struct _VtsDb VtsDb;

VtsDb    *vts_db_open            (const char  *path,
                                  GError     **error);
VtsDb    *vts_db_open_another    (VtsDb       *self,
                                  GError     **error);
void      vts_db_close           (VtsDb       *self);

gboolean  vts_db_begin           (VtsDb       *self,
                                  GError     **error);
gboolean  vts_db_commit          (VtsDb       *self,
                                  GError     **error);
void      vts_db_rollback        (VtsDb       *self);

gboolean  vts_db_insert_job      (VtsDb       *self,
                                  VtsJob      *job,
                                  GError     **error);
VtsJob   *vts_db_find_job        (VtsDb       *self,
                                  const char  *id,
                                  GError     **error);
gboolean  vts_db_count_jobs      (VtsDb       *self,
                                  guint64      counts[VTS_JOB_N_STATES],
                                  GError     **error);
gint64    vts_db_delete_ended    (VtsDb       *self,
                                  gint64       before_wall_us,
                                  const char  *keep_id,
                                  guint        limit,
                                  guint64      deleted[VTS_JOB_N_STATES],
                                  GError     **error);

GBytes   *vts_db_get_meta        (VtsDb       *self,
                                  const char  *key,
                                  GError     **error);
gboolean  vts_db_set_meta        (VtsDb       *self,
                                  const char  *key,
                                  gconstpointer data,
                                  gsize        size,
                                  GError     **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VtsDb, vts_db_close)

G_END_DECLS
