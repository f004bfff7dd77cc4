/* vts-response.h: setting JSON responses and errors on a message
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

/* RFC 6585; libsoup 3.2 has no name for it. */
#define VTS_HTTP_TOO_MANY_REQUESTS 429

void vts_response_json  (SoupServerMessage *msg,
                        guint              status,
                        JsonNode          *node);
void vts_response_json_bytes (SoupServerMessage *msg,
                              guint              status,
                              GBytes            *text);
void vts_response_error (SoupServerMessage *msg,
                        guint              status,
                        const char        *code,
                        const char        *format,
                        ...) G_GNUC_PRINTF (4, 5);

G_END_DECLS
