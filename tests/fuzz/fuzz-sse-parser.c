/* fuzz-sse-parser.c: arbitrary bytes as a Server-Sent Events stream
 *
 * Splits the input into lines as the client's stream channel does
 * (GDataInputStream with G_DATA_STREAM_NEWLINE_TYPE_ANY: "\n", "\r" or
 * "\r\n"), feeds them to the SSE parser, and parses the data of each
 * dispatched event as a job, as the channel does with every event.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "vt-error.h"
#include "vt-fuzz.h"
#include "vt-job-response-private.h"
#include "vt-sse-parser-private.h"

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  vt_fuzz_init_glib ();
  return 0;
}

static void
check_event (const char *event,
             const char *data)
{
  g_auto(VtJobObservation) observation = { 0 };
  g_autoptr(GError) error = NULL;

  g_assert_nonnull (event);
  g_assert_nonnull (data);
  g_assert_cmpuint (strlen (data), <, VT_SSE_MAX_EVENT_SIZE);

  if (!vt_job_response_parse (data, strlen (data), &observation, &error))
    g_assert_error (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_PROTOCOL);
}

/* Returns FALSE once the parser refuses the stream, where the channel
 * stops reading. */
static gboolean
feed_line (VtSseParser *parser,
           const char  *line)
{
  g_autofree char *event = NULL;
  g_autofree char *data = NULL;

  switch (vt_sse_parser_feed (parser, line, &event, &data))
    {
    case VT_SSE_EVENT:
      check_event (event, data);
      return TRUE;
    case VT_SSE_TOO_LARGE:
      g_assert_null (event);
      g_assert_null (data);
      return FALSE;
    case VT_SSE_NEED_MORE:
      g_assert_null (event);
      g_assert_null (data);
      return TRUE;
    default:
      g_assert_not_reached ();
    }
}

/* A line with a NUL reaches the parser cut short, as a C string. */
static gboolean
feed_range (VtSseParser *parser,
            const char  *start,
            gsize        length)
{
  g_autofree char *line = g_strndup (start, length);

  return feed_line (parser, line);
}

/* The length of the line terminator at @p, 0 if none. */
static gsize
newline_length (const char *p,
                const char *end)
{
  if (*p == '\n')
    return 1;
  if (*p == '\r')
    return (p + 1 < end && p[1] == '\n') ? 2 : 1;
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *bytes,
                        size_t         size)
{
  g_auto(VtSseParser) parser = { 0 };
  const char *p = (const char *) bytes;
  const char *end = p + size;
  const char *start = p;

  vt_sse_parser_init (&parser);

  while (p < end)
    {
      gsize nl = newline_length (p, end);

      if (nl == 0)
        {
          p++;
          continue;
        }

      if (!feed_range (&parser, start, p - start))
        return 0;
      p += nl;
      start = p;
    }

  /* A last line without its terminator is still a line to
   * GDataInputStream; the end of the stream dispatches nothing. */
  if (start < end)
    feed_range (&parser, start, end - start);

  return 0;
}
