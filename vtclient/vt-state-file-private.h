/* vt-state-file-private.h: the jobs being followed, as JSON (pure)
 *
 * The format of vt_client_export_state() and vt_client_import_state():
 *
 *   {"version": 1, "jobs": [{"base-url": "http://127.0.0.1:5000",
 *                            "id": "…" or null (the default job),
 *                            "deadline": "2026-12-01T16:20:00.250000Z",
 *                            "attempts-left": 12 (1 or more),
 *                            "last-event-id": "p" (optional)}]}
 *
 * The deadline is wall-clock time, as the application may restart after
 * the machine did: a monotonic clock would not survive that.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  char   *base_url;
  char   *job_id;         /* NULL: the server's default job */
  gint64  deadline_us;    /* wall clock, as g_get_real_time() */
  guint   attempts_left;  /* 1 or more */
  char   *last_event_id;  /* nullable */
} VtStateEntry;

VtStateEntry *vt_state_entry_new   (const char  *base_url,
                                    const char  *job_id,
                                    gint64       deadline_us,
                                    guint        attempts_left,
                                    const char  *last_event_id);
void          vt_state_entry_free  (VtStateEntry *entry);
char         *vt_state_file_build  (GPtrArray   *entries);
GPtrArray    *vt_state_file_parse  (const char  *json,
                                    GError     **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VtStateEntry, vt_state_entry_free)

G_END_DECLS
