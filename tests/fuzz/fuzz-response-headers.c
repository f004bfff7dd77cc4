/* fuzz-response-headers.c: arbitrary bytes as the header values the
 * client reads
 *
 * Each line of the input (split at "\n"; a NUL cuts a line short, as a
 * header value reaches the client as a C string) goes, as libsoup would
 * hand it over, to every parser of a response header: Vt-Capabilities,
 * Retry-After, RateLimit-Policy, RateLimit, Vt-Eta and a redirect's
 * Location.
 * Each must return what its contract says and never read past the value.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>
#include <string.h>

#include "vt-fuzz.h"
#include "vt-protocol-private.h"

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  vt_fuzz_init_glib ();
  return 0;
}

static void
check_retry_after (const char *value,
                   GDateTime  *now)
{
  double seconds = vt_protocol_parse_retry_after (value, now);

  g_assert_true (seconds == -1.0 || (isfinite (seconds) && seconds >= 0));
}

static void
check_ratelimit (const char *value)
{
  double a = -2.0, b = -2.0;

  if (vt_protocol_parse_ratelimit_policy (value, &a, &b))
    {
      /* A quota and a window: numbers, the window positive. */
      g_assert_true (isfinite (a) && a >= 0);
      g_assert_true (isfinite (b) && b > 0);
    }

  a = b = -2.0;
  if (vt_protocol_parse_ratelimit (value, &a, &b))
    {
      g_assert_true (isfinite (a) && a >= 0);
      g_assert_true (b == -1.0 || (isfinite (b) && b >= 0));
    }
}

static void
check_eta (const char *value)
{
  double eta = -2.0, elapsed = -2.0;

  if (vt_protocol_parse_eta (value, &eta, &elapsed))
    {
      g_assert_true (isfinite (eta) && eta >= 0);
      g_assert_true (elapsed == -1.0 || (isfinite (elapsed) && elapsed >= 0));
    }
  else
    g_assert_true (eta == -2.0 && elapsed == -2.0);
}

static void
check_location (GUri       *request_uri,
                const char *value)
{
  g_autoptr(GUri) target = vt_protocol_redirect_target (request_uri, value);
  const char *scheme;

  if (target == NULL)
    return;

  scheme = g_uri_get_scheme (target);
  g_assert_true (g_strcmp0 (scheme, "http") == 0 || g_strcmp0 (scheme, "https") == 0);
  g_assert_nonnull (g_uri_get_host (target));
  g_assert_cmpstr (g_uri_get_host (target), !=, "");
  /* Same origin is symmetric, and a URL is its own origin. */
  g_assert_true (vt_protocol_same_origin (target, target));
  g_assert_true (vt_protocol_same_origin (target, request_uri) ==
                 vt_protocol_same_origin (request_uri, target));
}

static void
check_value (GUri       *request_uri,
             GDateTime  *now,
             const char *value)
{
  VtCapabilities caps = vt_protocol_parse_capabilities (value);

  g_assert_cmpuint (caps & ~(VT_CAPABILITY_HINTS | VT_CAPABILITY_LONG_POLL |
                             VT_CAPABILITY_EVENTS | VT_CAPABILITY_FEEDS |
                             VT_CAPABILITY_CONDITIONAL), ==, 0);
  check_retry_after (value, now);
  check_ratelimit (value);
  check_eta (value);
  check_location (request_uri, value);
}

int
LLVMFuzzerTestOneInput (const uint8_t *bytes,
                        size_t         size)
{
  g_autoptr(GUri) request_uri = g_uri_parse ("http://127.0.0.1:5000/jobs/abc?wait=30",
                                             G_URI_FLAGS_ENCODED, NULL);
  g_autoptr(GDateTime) now = g_date_time_new_from_unix_utc (1700000000);
  const char *p = (const char *) bytes;
  const char *end = p + size;

  while (p <= end)
    {
      const char *newline = memchr (p, '\n', end - p);
      const char *line_end = newline != NULL ? newline : end;
      /* An exact copy, no terminator to spare: ASan sees any overread. */
      g_autofree char *value = g_strndup (p, line_end - p);

      check_value (request_uri, now, value);
      p = line_end + 1;
    }

  return 0;
}
