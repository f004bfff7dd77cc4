/* vt-gate.h: who may send requests (--token, --rate-limit)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

#define VT_TYPE_GATE (vt_gate_get_type ())
G_DECLARE_FINAL_TYPE (VtGate, vt_gate, VT, GATE, GObject)

VtGate   *vt_gate_new        (const char         *token,
                              double              requests_per_second);
gboolean  vt_gate_admit      (VtGate             *self,
                              SoupServerMessage  *msg,
                              const char         *path);
gboolean  vt_gate_parse_rate (const char         *text,
                              double             *requests_per_second,
                              GError            **error);

G_END_DECLS
