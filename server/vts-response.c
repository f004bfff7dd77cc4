/* vts-response.c: setting JSON responses and errors on a message
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vts-response.h"

#include <string.h>

void
vts_response_json (SoupServerMessage *msg,
                  guint              status,
                  JsonNode          *node)
{
  char *text = json_to_string (node, FALSE);

  soup_server_message_set_status (msg, status,
                                  status == VTS_HTTP_TOO_MANY_REQUESTS ? "Too Many Requests" : NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE,
                                    text, strlen (text));
}

/* A JSON text already written: the body holds a reference, no copy. */
void
vts_response_json_bytes (SoupServerMessage *msg,
                         guint              status,
                         GBytes            *text)
{
  SoupMessageBody *body = soup_server_message_get_response_body (msg);

  soup_server_message_set_status (msg, status,
                                  status == VTS_HTTP_TOO_MANY_REQUESTS ? "Too Many Requests" : NULL);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "Content-Type", "application/json");
  soup_message_body_truncate (body);
  soup_message_body_append_bytes (body, text);
}

/* Every error is {"error": CODE, "message": TEXT}: a machine-readable
 * code a client can switch on, and words for a human. */
void
vts_response_error (SoupServerMessage *msg,
                   guint              status,
                   const char        *code,
                   const char        *format,
                   ...)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "error");
  json_builder_add_string_value (builder, code);
  json_builder_set_member_name (builder, "message");
  json_builder_add_string_value (builder, message);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  vts_response_json (msg, status, root);
}
