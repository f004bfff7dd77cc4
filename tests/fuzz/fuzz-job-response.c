/* fuzz-job-response.c: arbitrary bytes as a job response
 *
 * Drives every pure parser the client applies to what a server sends
 * back: the JSON body of a job (as a status and as a created job's id),
 * and the Retry-After and Vt-Capabilities headers. Besides not crashing,
 * each parser must keep its documented contract, checked below.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>

#include "vt-channel-http-private.h"
#include "vt-error.h"
#include "vt-fuzz.h"
#include "vt-job-response-private.h"

/* A fixed "now" keeps Retry-After dates deterministic across runs, which
 * libFuzzer needs to reproduce what it finds. */
static GDateTime *fixed_now;

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  vt_fuzz_init_glib ();
  fixed_now = g_date_time_new_utc (2024, 6, 1, 12, 0, 0);
  return 0;
}

static void
check_parse (const char *data,
             gsize       size)
{
  g_auto(VtJobObservation) observation = { 0 };
  g_autoptr(GError) error = NULL;

  if (vt_job_response_parse (data, size, &observation, &error))
    {
      g_assert_no_error (error);
      g_assert_true (observation.status == VT_STATUS_PENDING ||
                     observation.status == VT_STATUS_COMPLETED ||
                     observation.status == VT_STATUS_ERROR);
      /* Optional numbers are -1 or within their documented range. */
      g_assert_true (observation.progress == -1.0 ||
                     (observation.progress >= 0.0 && observation.progress <= 1.0));
      g_assert_true (observation.eta == -1.0 ||
                     (observation.eta >= 0.0 && observation.eta <= 86400.0));
    }
  else
    {
      g_assert_error (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_PROTOCOL);
    }
}

static void
check_parse_id (const char *data,
                gsize       size)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id = vt_job_response_parse_id (data, size, &error);

  if (id != NULL)
    {
      g_assert_no_error (error);
      g_assert_cmpuint (strlen (id), >, 0);
    }
  else
    {
      g_assert_error (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_PROTOCOL);
    }
}

/* Header values never hold a NUL: libsoup hands them over as C strings,
 * so the input up to its first NUL is what a header could carry. */
static void
check_headers (const char *data,
               gsize       size)
{
  g_autofree char *value = g_strndup (data, size);
  double retry_after = vt_protocol_parse_retry_after (value, fixed_now);
  VtCapabilities caps = vt_protocol_parse_capabilities (value);

  g_assert_true (retry_after == -1.0 || (retry_after >= 0.0 && isfinite (retry_after)));
  g_assert_cmpuint (caps & ~(VT_CAPABILITY_HINTS | VT_CAPABILITY_LONG_POLL |
                             VT_CAPABILITY_EVENTS | VT_CAPABILITY_FEEDS), ==, 0);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  check_parse ((const char *) data, size);
  check_parse_id ((const char *) data, size);
  check_headers ((const char *) data, size);

  return 0;
}
