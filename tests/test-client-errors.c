/* test-client-errors.c: watches that cannot follow their job, and why
 *
 * Each ends with the exact VT_CLIENT_ERROR code, after the exact number
 * of requests the server answered, without reporting a status it did not
 * see.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vt-test-fixture.h"

static void
test_not_found (VtFixture     *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (vt_fixture_follow (f, "missing", NULL, &error), ==, VT_STATUS_TIMEOUT);
  g_assert_error (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_NOT_FOUND);
  g_assert_cmpuint (vt_fixture_count (f, "/jobs/missing"), ==, 1);
  g_assert_cmpuint (f->statuses->len, ==, 0);
}

static void
test_malformed_json (VtFixture     *f,
                     gconstpointer  data)
{
  static const VtReply replies[] = {
    { 200, "{\"result\": \"pend", NULL, FALSE, NULL }, VT_REPLY_END
  };
  g_autoptr(GError) error = NULL;

  vt_fixture_script (f, "/status", replies);
  vt_fixture_follow (f, NULL, NULL, &error);
  g_assert_error (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_PROTOCOL);
  /* Retried in case it was passing, then reported: three requests. */
  g_assert_cmpuint (vt_fixture_count (f, NULL), ==, 3);
  g_assert_cmpuint (f->statuses->len, ==, 0);
}

static void
test_unknown_status (VtFixture     *f,
                     gconstpointer  data)
{
  static const VtReply replies[] = {
    VT_REPLY_PENDING, { 200, "{\"result\": \"exploded\"}", NULL, FALSE, NULL }, VT_REPLY_END
  };
  g_autoptr(GError) error = NULL;

  vt_fixture_script (f, "/status", replies);
  vt_fixture_follow (f, NULL, NULL, &error);
  g_assert_error (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_PROTOCOL);
  g_assert_cmpuint (vt_fixture_count (f, NULL), ==, 4);
  /* Never taken as pending, and never reported as a status. */
  vt_fixture_assert_statuses (f, 1, VT_STATUS_PENDING);
}

static void
test_invalid_base_url (void)
{
  const char *urls[] = { NULL, "", "not a url", "ftp://example.com", "http://",
                         "http://host:5000/?q=1", "/status" };

  for (guint i = 0; i < G_N_ELEMENTS (urls); i++)
    {
      g_autoptr(VtClient) client = vt_client_new (urls[i]);
      g_autoptr(GError) error = NULL;

      g_test_message ("base URL: %s", urls[i] ? urls[i] : "(null)");
      g_assert_cmpint (vt_client_get_status (client, NULL, NULL, &error), ==, VT_STATUS_TIMEOUT);
      g_assert_error (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_INVALID_URL);
    }
}

static void
test_empty_job_id (VtFixture     *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  vt_fixture_follow (f, "", NULL, &error);
  g_assert_error (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_INVALID_ARGUMENT);
  g_assert_cmpuint (vt_fixture_count (f, NULL), ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  VT_FIXTURE_ADD ("/client/errors/not-found", test_not_found);
  VT_FIXTURE_ADD ("/client/errors/malformed-json", test_malformed_json);
  VT_FIXTURE_ADD ("/client/errors/unknown-status", test_unknown_status);
  VT_FIXTURE_ADD ("/client/errors/empty-job-id", test_empty_job_id);
  g_test_add_func ("/client/errors/invalid-base-url", test_invalid_base_url);

  return g_test_run ();
}
