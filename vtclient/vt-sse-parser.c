/* vt-sse-parser.c: Server-Sent Events, one line at a time
 *
 * Implements the event-stream interpretation of the HTML living standard
 * for what vtclient needs: "event", "data" and "id" fields, comments,
 * dispatch on a blank line. The last event id is kept across events, as
 * the standard's "last event ID buffer", for a reconnect to resume from.
 * "retry" is read and ignored: reconnects follow the client's own retry
 * schedule.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "vt-sse-parser-private.h"

void
vt_sse_parser_init (VtSseParser *parser)
{
  parser->data = g_string_new (NULL);
  parser->event = NULL;
  parser->last_id = NULL;
  parser->has_data = FALSE;
}

void
vt_sse_parser_clear (VtSseParser *parser)
{
  if (parser->data != NULL)
    g_string_free (parser->data, TRUE);
  parser->data = NULL;
  g_clear_pointer (&parser->event, g_free);
  g_clear_pointer (&parser->last_id, g_free);
}

static void
vt_sse_parser_reset (VtSseParser *parser)
{
  g_string_truncate (parser->data, 0);
  g_clear_pointer (&parser->event, g_free);
  parser->has_data = FALSE;
}

/*
 * vt_sse_parser_feed:
 * @line: one line, without its line terminator (a trailing "\r" is
 *   tolerated)
 * @event: (out): on %VT_SSE_EVENT, the event type ("message" by default)
 * @data: (out): on %VT_SSE_EVENT, the event's data
 */
VtSseResult
vt_sse_parser_feed (VtSseParser  *parser,
                    const char   *line,
                    char        **event,
                    char        **data)
{
  g_autofree char *field = NULL;
  const char *value;
  const char *colon;
  gsize len = strlen (line);

  if (len > 0 && line[len - 1] == '\r')
    len--;

  if (len == 0)
    {
      /* A blank line dispatches; an event with no data is dropped. */
      if (!parser->has_data)
        {
          vt_sse_parser_reset (parser);
          return VT_SSE_NEED_MORE;
        }

      *event = g_strdup (parser->event ? parser->event : "message");
      *data = g_strndup (parser->data->str, parser->data->len);
      vt_sse_parser_reset (parser);
      return VT_SSE_EVENT;
    }

  if (line[0] == ':')
    return VT_SSE_NEED_MORE;

  colon = memchr (line, ':', len);
  if (colon != NULL)
    {
      field = g_strndup (line, colon - line);
      value = colon + 1;
      if (*value == ' ')
        value++;
    }
  else
    {
      field = g_strndup (line, len);
      value = line + len;
    }

  len -= value - line;

  if (strcmp (field, "data") == 0)
    {
      if (parser->data->len + len + 1 > VT_SSE_MAX_EVENT_SIZE)
        {
          vt_sse_parser_reset (parser);
          return VT_SSE_TOO_LARGE;
        }
      if (parser->has_data)
        g_string_append_c (parser->data, '\n');
      g_string_append_len (parser->data, value, len);
      parser->has_data = TRUE;
    }
  else if (strcmp (field, "event") == 0)
    {
      g_free (parser->event);
      parser->event = g_strndup (value, len);
    }
  else if (strcmp (field, "id") == 0 && len <= VT_SSE_MAX_ID_SIZE &&
           memchr (value, '\0', len) == NULL)
    {
      g_free (parser->last_id);
      parser->last_id = g_strndup (value, len);
    }

  return VT_SSE_NEED_MORE;
}
