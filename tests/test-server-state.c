/* test-server-state.c: vt-server against docs/protocol.md: --state
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

#include "vt-server-test-utils.h"

/* --state */

static VtTestServer *
start_with_state (const char *state_path)
{
  g_autofree char *delay = vt_test_seconds_arg (30);
  const char *args[] = { "--state", state_path, "--delay", delay, NULL };

  return vt_test_server_startv (args);
}

static void
test_state_restart (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("vt-server-state-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "jobs.json", NULL);
  Fixture fixture = { 0, }, *f = &fixture;
  g_autoptr(Response) failed = NULL;
  g_autoptr(Response) slow = NULL;
  g_autoptr(Response) classic = NULL;
  g_autofree char *short_id = NULL;

  g_assert_no_error (error);
  f->session = soup_session_new ();
  f->server = start_with_state (path);
  failed = create_job (f, "{\"duration\": 0, \"outcome\": \"error\", \"source_url\": \"u\"}");
  slow = create_job (f, "{\"duration\": 600, \"target_language\": \"fr\"}");
  short_id = create_short_job_id (f, 0.5, "completed");
  classic = fetch (f, "GET", "/status", NULL);
  g_clear_pointer (&f->server, vt_test_server_stop);

  /* A new process: every job is back, each where time has taken it. */
  f->server = start_with_state (path);
  {
    g_autofree char *failed_path = g_strconcat ("/jobs/", string_member (failed, "id"), NULL);
    g_autofree char *slow_path = g_strconcat ("/jobs/", string_member (slow, "id"), NULL);
    g_autofree char *short_path = wait_path ("/jobs/", short_id, "?wait=", 10);
    g_autoptr(Response) failed_again = fetch (f, "GET", failed_path, NULL);
    g_autoptr(Response) slow_again = fetch (f, "GET", slow_path, NULL);
    g_autoptr(Response) short_again = fetch (f, "GET", short_path, NULL);
    g_autoptr(Response) classic_again = fetch (f, "GET", "/status", NULL);

    g_assert_cmpstr (g_bytes_get_data (failed_again->body, NULL), ==,
                     g_bytes_get_data (failed->body, NULL));
    g_assert_cmpstr (string_member (slow_again, "status"), ==, "pending");
    g_assert_cmpstr (string_member (slow_again, "created_at"), ==, string_member (slow, "created_at"));
    g_assert_cmpstr (string_member (slow_again, "target_language"), ==, "fr");
    g_assert_cmpfloat (json_object_get_double_member (object (slow_again), "eta"), <,
                       json_object_get_double_member (object (slow), "eta"));
    g_assert_cmpstr (string_member (short_again, "status"), ==, "completed");
    /* The default job is the same one: it did not start over. */
    g_assert_cmpfloat (json_object_get_double_member (object (classic_again), "eta"), <,
                       json_object_get_double_member (object (classic), "eta"));
  }
  g_clear_pointer (&f->server, vt_test_server_stop);
  g_clear_object (&f->session);

  g_assert_no_errno (g_remove (path));
  g_assert_no_errno (g_rmdir (dir));
}

static void
test_state_corrupt (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("vt-server-state-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "jobs.json", NULL);
  const char *contents[] = {
    "not json",
    "[]",
    "{\"version\": 2, \"jobs\": []}",
    "{\"version\": 1, \"jobs\": [{\"id\": \"x\"}]}",
  };

  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (contents); i++)
    {
      const char *argv[] = { vt_test_server_get_path (), "--port", "0", "--state", path, NULL };
      g_autoptr(GSubprocess) process = NULL;

      g_file_set_contents (path, contents[i], -1, &error);
      g_assert_no_error (error);
      process = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                   G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error);
      g_assert_no_error (error);
      g_subprocess_wait (process, NULL, &error);
      g_assert_no_error (error);
      /* Refused, rather than starting over and losing every job. */
      g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 1);
    }

  g_assert_no_errno (g_remove (path));
  g_assert_no_errno (g_rmdir (dir));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/server/state/restart", test_state_restart);
  g_test_add_func ("/server/state/corrupt", test_state_corrupt);

  return g_test_run ();
}
