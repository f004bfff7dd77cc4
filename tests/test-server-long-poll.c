/* test-server-long-poll.c: vt-server against docs/protocol.md: long-polls on a job
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

#include "vt-server-test-utils.h"

static ServerArgs delay_long = { "--delay", "30", NULL };

/* Long-poll */

static void
test_long_poll_change (Fixture       *f,
                       gconstpointer  data)
{
  g_autofree char *id = create_short_job_id (f, 0.3, "completed");
  g_autofree char *path = wait_path ("/jobs/", id, "?wait=", 10);
  g_autoptr(Response) r = fetch (f, "GET", path, NULL);

  /* Answered when the job ended, well before the 10 s ran out (the
   * bounds are loose enough for a server under valgrind). */
  g_assert_cmpuint (r->status, ==, SOUP_STATUS_OK);
  g_assert_cmpstr (string_member (r, "status"), ==, "completed");
  g_assert_cmpfloat (r->elapsed, >=, SCALED (0.15));
  g_assert_cmpfloat (r->elapsed, <, SCALED (5.0));
  g_assert_null (header (r, "Retry-After"));
}

static void
test_long_poll_timeout (Fixture       *f,
                        gconstpointer  data)
{
  g_autofree char *id = create_job_id (f, "{\"duration\": 100}");
  g_autofree char *path = g_strconcat ("/jobs/", id, "?wait=0.3", NULL);
  g_autofree char *status_path = g_strconcat ("/status/", id, "?wait=0.2", NULL);
  g_autoptr(Response) r = fetch (f, "GET", path, NULL);
  g_autoptr(Response) classic = fetch (f, "GET", status_path, NULL);
  g_autoptr(Response) ended = NULL;
  g_autofree char *ended_id = create_job_id (f, "{\"duration\": 0}");
  g_autofree char *ended_path = g_strconcat ("/jobs/", ended_id, "?wait=30", NULL);

  g_assert_cmpuint (r->status, ==, SOUP_STATUS_OK);
  g_assert_cmpstr (string_member (r, "status"), ==, "pending");
  g_assert_cmpfloat (r->elapsed, >=, 0.29);
  g_assert_cmpfloat (r->elapsed, <, SCALED (5.0));
  g_assert_nonnull (header (r, "Retry-After"));

  g_assert_cmpstr (string_member (classic, "result"), ==, "pending");
  g_assert_cmpfloat (classic->elapsed, >=, 0.19);

  /* Nothing more can happen to an ended job: no waiting at all. */
  ended = fetch (f, "GET", ended_path, NULL);
  g_assert_cmpstr (string_member (ended, "status"), ==, "completed");
  g_assert_cmpfloat (ended->elapsed, <, SCALED (10.0));
}

static void
test_long_poll_bad_wait (Fixture       *f,
                         gconstpointer  data)
{
  const char *waits[] = { "abc", "-1", "", "nan", "1s" };

  for (guint i = 0; i < G_N_ELEMENTS (waits); i++)
    {
      g_autofree char *path = g_strconcat ("/status?wait=", waits[i], NULL);
      g_autoptr(Response) r = fetch (f, "GET", path, NULL);

      assert_json_error (r, SOUP_STATUS_BAD_REQUEST, "bad-request");
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  add_server_test ("/server/long-poll/change", delay_long, test_long_poll_change);
  add_server_test ("/server/long-poll/timeout", delay_long, test_long_poll_timeout);
  add_server_test ("/server/long-poll/bad-wait", delay_long, test_long_poll_bad_wait);

  return g_test_run ();
}
