/* vts-json.h: JSON objects written straight as text
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* An object being written to @out: '{' at begin, '}' at end */
typedef struct
{
  GString  *out;
  gboolean  empty;
} VtsJsonObject;

void vts_json_object_begin  (VtsJsonObject *object,
                             GString       *out);
void vts_json_object_string (VtsJsonObject *object,
                             const char    *name,
                             const char    *value);
void vts_json_object_double (VtsJsonObject *object,
                             const char    *name,
                             double         value);
void vts_json_object_end    (VtsJsonObject *object);

void vts_json_append_string (GString       *out,
                             const char    *value);
void vts_json_append_double (GString       *out,
                             double         value);

G_END_DECLS
