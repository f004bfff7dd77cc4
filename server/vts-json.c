/* vts-json.c: JSON objects written straight as text
 *
 * The job documents are what vt-server answers most: building a
 * JsonNode tree with a JsonBuilder, generating its text and freeing the
 * tree cost more than all the rest of a GET /jobs/{id} (see
 * docs/benchmarks.md). These write the same text directly into a
 * GString, as json-glib's generator writes it: strings escaped the same
 * way (but for U+001F, which json-glib 1.6 leaves raw, making invalid
 * JSON), doubles as g_ascii_dtostr() gives them with ".0" when they
 * would read as integers.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vts-json.h"

#include <string.h>

void
vts_json_append_string (GString    *out,
                        const char *value)
{
  static const char hex[] = "0123456789abcdef";
  const char *run = value;

  g_string_append_c (out, '"');
  for (const char *p = value; *p != '\0'; p++)
    {
      guchar c = (guchar) *p;
      const char *escape = NULL;
      char unicode[7];

      if (c == '"')
        escape = "\\\"";
      else if (c == '\\')
        escape = "\\\\";
      else if (c == '\b')
        escape = "\\b";
      else if (c == '\f')
        escape = "\\f";
      else if (c == '\n')
        escape = "\\n";
      else if (c == '\r')
        escape = "\\r";
      else if (c == '\t')
        escape = "\\t";
      else if (c < 0x20 || c == 0x7f)
        {
          memcpy (unicode, "\\u00", 4);
          unicode[4] = hex[c >> 4];
          unicode[5] = hex[c & 0xf];
          unicode[6] = '\0';
          escape = unicode;
        }
      else
        continue;

      /* The plain bytes before this one, in one go. */
      g_string_append_len (out, run, p - run);
      g_string_append (out, escape);
      run = p + 1;
    }
  g_string_append (out, run);
  g_string_append_c (out, '"');
}

void
vts_json_append_double (GString *out,
                        double   value)
{
  char buffer[G_ASCII_DTOSTR_BUF_SIZE];

  g_ascii_dtostr (buffer, sizeof buffer, value);
  g_string_append (out, buffer);
  /* Ensure a double does not read as an integer. */
  if (strpbrk (buffer, ".eEn") == NULL)
    g_string_append (out, ".0");
}

void
vts_json_object_begin (VtsJsonObject *object,
                       GString       *out)
{
  object->out = out;
  object->empty = TRUE;
  g_string_append_c (out, '{');
}

static void
member_name (VtsJsonObject *object,
             const char    *name)
{
  if (!object->empty)
    g_string_append_c (object->out, ',');
  object->empty = FALSE;
  vts_json_append_string (object->out, name);
  g_string_append_c (object->out, ':');
}

void
vts_json_object_string (VtsJsonObject *object,
                        const char    *name,
                        const char    *value)
{
  member_name (object, name);
  vts_json_append_string (object->out, value);
}

void
vts_json_object_double (VtsJsonObject *object,
                        const char    *name,
                        double         value)
{
  member_name (object, name);
  vts_json_append_double (object->out, value);
}

void
vts_json_object_end (VtsJsonObject *object)
{
  g_string_append_c (object->out, '}');
}
