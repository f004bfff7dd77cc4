/* test-state-file.c: the saved jobs' format (pure)
 *
 * What vt_client_export_state() writes, vt_client_import_state() reads
 * back exactly: the deadline to the microsecond, the default job as a
 * null id, an absent last event id as absent. What it refuses is in
 * test-client-citizen.c, through the client.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vt-error.h"
#include "vt-state-file-private.h"

static void
test_round_trip (void)
{
  g_autoptr(GPtrArray) entries = g_ptr_array_new_with_free_func ((GDestroyNotify) vt_state_entry_free);
  g_autoptr(GPtrArray) back = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *json = NULL;
  VtStateEntry *e;

  g_ptr_array_add (entries, vt_state_entry_new ("http://127.0.0.1:5000", "a1",
                                                G_GINT64_CONSTANT (1796140800123456), 7, "p"));
  g_ptr_array_add (entries, vt_state_entry_new ("https://vt.example:8443/api", NULL,
                                                G_GINT64_CONSTANT (1796140801000000), 1, NULL));

  json = vt_state_file_build (entries);
  g_assert_nonnull (strstr (json, "\"deadline\":\"2026-12-01T"));
  back = vt_state_file_parse (json, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (back->len, ==, 2);

  e = g_ptr_array_index (back, 0);
  g_assert_cmpstr (e->base_url, ==, "http://127.0.0.1:5000");
  g_assert_cmpstr (e->job_id, ==, "a1");
  g_assert_cmpint (e->deadline_us, ==, G_GINT64_CONSTANT (1796140800123456));
  g_assert_cmpuint (e->attempts_left, ==, 7);
  g_assert_cmpstr (e->last_event_id, ==, "p");

  e = g_ptr_array_index (back, 1);
  g_assert_cmpstr (e->base_url, ==, "https://vt.example:8443/api");
  g_assert_null (e->job_id);
  g_assert_cmpint (e->deadline_us, ==, G_GINT64_CONSTANT (1796140801000000));
  g_assert_cmpuint (e->attempts_left, ==, 1);
  g_assert_null (e->last_event_id);
}

static void
test_empty (void)
{
  g_autoptr(GPtrArray) entries = g_ptr_array_new_with_free_func ((GDestroyNotify) vt_state_entry_free);
  g_autoptr(GPtrArray) back = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *json = vt_state_file_build (entries);

  g_assert_cmpstr (json, ==, "{\"version\":1,\"jobs\":[]}");
  back = vt_state_file_parse (json, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (back->len, ==, 0);
}

/* A deadline in another time zone is the same instant. */
static void
test_time_zones (void)
{
  g_autoptr(GPtrArray) back = NULL;
  g_autoptr(GError) error = NULL;

  back = vt_state_file_parse ("{\"version\": 1, \"jobs\": [{\"base-url\": \"http://x\", "
                              "\"id\": \"a\", \"deadline\": \"2026-12-01T17:00:00.5+01:00\", "
                              "\"attempts-left\": 1}]}", &error);
  g_assert_no_error (error);
  g_assert_cmpint (((VtStateEntry *) g_ptr_array_index (back, 0))->deadline_us, ==,
                   G_GINT64_CONSTANT (1796140800500000));
}

static void
test_error_says_which_job (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) back = NULL;

  back = vt_state_file_parse ("{\"version\": 1, \"jobs\": [{\"base-url\": \"http://x\", "
                              "\"id\": \"a\", \"deadline\": \"2026-12-01T17:00:00Z\", "
                              "\"attempts-left\": 1}, {\"base-url\": 5}]}", &error);
  g_assert_null (back);
  g_assert_error (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "job 1"));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/state-file/round-trip", test_round_trip);
  g_test_add_func ("/state-file/empty", test_empty);
  g_test_add_func ("/state-file/time-zones", test_time_zones);
  g_test_add_func ("/state-file/error-says-which-job", test_error_says_which_job);

  return g_test_run ();
}
