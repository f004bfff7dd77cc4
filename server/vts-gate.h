/* vts-gate.h: who may send requests (--token, --rate-limit)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

#define VTS_TYPE_GATE (vts_gate_get_type ())
G_DECLARE_FINAL_TYPE (VtsGate, vts_gate, VTS, GATE, GObject)

VtsGate   *vts_gate_new        (const char         *token,
                              double              requests_per_second);
gboolean  vts_gate_admit      (VtsGate             *self,
                              SoupServerMessage  *msg,
                              const char         *path);
gboolean  vts_gate_parse_rate (const char         *text,
                              double             *requests_per_second,
                              GError            **error);

G_END_DECLS
