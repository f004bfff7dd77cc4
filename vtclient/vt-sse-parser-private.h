/* vt-sse-parser-private.h: Server-Sent Events, one line at a time (pure)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The most data one event may carry; a job is a few hundred bytes. */
#define VT_SSE_MAX_EVENT_SIZE (64 * 1024)

/* The longest event id kept; a longer one is ignored. */
#define VT_SSE_MAX_ID_SIZE 256

typedef struct
{
  GString *data;
  char    *event;
  char    *last_id;   /* the last "id" field seen, or NULL */
  gboolean has_data;
} VtSseParser;

typedef enum
{
  VT_SSE_NEED_MORE,   /* keep feeding */
  VT_SSE_EVENT,       /* an event is complete: *event and *data are set */
  VT_SSE_TOO_LARGE,   /* the event exceeds VT_SSE_MAX_EVENT_SIZE */
} VtSseResult;

void        vt_sse_parser_init  (VtSseParser *parser);
void        vt_sse_parser_clear (VtSseParser *parser);
VtSseResult vt_sse_parser_feed  (VtSseParser *parser,
                                 const char  *line,
                                 char       **event,
                                 char       **data);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (VtSseParser, vt_sse_parser_clear)

G_END_DECLS
