/* vt-model-file-private.h: the learned model as JSON (pure)
 *
 * The format of vt_client_export_model() and vt_client_import_model():
 * `{"version": 1, "servers": {"<base URL>": {"durations": [...]}}}`, a
 * duration being a number of seconds or a [low, high] pair of them.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* One server's durations: [low, high] pairs of doubles, flattened. */
typedef struct
{
  char   *base_url;
  GArray *durations;
} VtModelEntry;

void       vt_model_entry_free  (VtModelEntry  *entry);
char      *vt_model_file_build  (GPtrArray     *entries);
GPtrArray *vt_model_file_parse  (const char    *json,
                                 GError       **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VtModelEntry, vt_model_entry_free)

G_END_DECLS
