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

#include "vt-protocol-private.h"
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

/* A feed's answer: every job kept has an id and a known status. */
static void
check_feed_answer (const char *data,
                   gsize       size)
{
  g_auto(VtFeedAnswer) answer = { 0 };
  g_autoptr(GError) error = NULL;

  if (!vt_feed_answer_parse (data, size, &answer, &error))
    {
      g_assert_error (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_PROTOCOL);
      return;
    }

  g_assert_no_error (error);
  g_assert_true (answer.next >= -1);
  for (guint i = 0; i < answer.jobs->len; i++)
    {
      VtJobObservation *job = &g_array_index (answer.jobs, VtJobObservation, i);

      g_assert_nonnull (job->id);
      g_assert_true (job->status <= VT_STATUS_ERROR);
    }
  for (guint i = 0; i < answer.unknown->len; i++)
    g_assert_nonnull (g_ptr_array_index (answer.unknown, i));
}

/* A Location header: resolved or refused, never anything but http(s). */
static void
check_redirect (const char *data,
                gsize       size)
{
  g_autofree char *value = g_strndup (data, size);
  g_autoptr(GUri) base = g_uri_parse ("http://127.0.0.1:5000/jobs/x?wait=1",
                                      G_URI_FLAGS_ENCODED, NULL);
  g_autoptr(GUri) target = vt_protocol_redirect_target (base, value);

  if (target != NULL)
    g_assert_true (g_str_equal (g_uri_get_scheme (target), "http") ||
                   g_str_equal (g_uri_get_scheme (target), "https"));
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  check_parse ((const char *) data, size);
  check_parse_id ((const char *) data, size);
  check_headers ((const char *) data, size);
  check_feed_answer ((const char *) data, size);
  check_redirect ((const char *) data, size);

  return 0;
}
