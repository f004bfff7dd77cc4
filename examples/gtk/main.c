/* main.c: vt-jobs, a GTK 4 application that submits translation jobs to
 * vt-server and shows them as they run
 *
 *   vt-jobs [--server URL] [--submit SOURCE-URL@LANGUAGE ...] [--test-dir DIR]
 *
 * URL defaults to $VT_SERVER_URL, then to http://127.0.0.1:5000. Each
 * --submit fills the form and presses Translate once the previous one was
 * answered, as a user would. --test-dir is the test hook of
 * vt-jobs-test.c: screenshots and reports of three moments into DIR, then
 * the application quits, with status 1 if a moment was not reached.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vt-jobs-test.h"
#include "vt-jobs-window.h"

typedef struct
{
  char  *server_url;
  char **submissions;
  char  *test_dir;
  guint  next_submission;
  int    test_status;
} VtJobs;

/* "https://example.com/a.mp4@de": the URL, and the language after the
 * last @ (French without one). */
static void
submit_spec (VtJobsWindow *window,
             const char   *spec)
{
  const char *at = strrchr (spec, '@');
  g_autofree char *source = at != NULL ? g_strndup (spec, at - spec) : g_strdup (spec);

  vt_jobs_window_submit (window, source, at != NULL ? at + 1 : "fr");
}

static void
submit_next (VtJobsWindow *window,
             VtJobs       *jobs)
{
  if (jobs->submissions != NULL && jobs->submissions[jobs->next_submission] != NULL)
    submit_spec (window, jobs->submissions[jobs->next_submission++]);
}

static void
on_submitted (VtJobsWindow *window,
              VtJob        *job,
              VtJobs       *jobs)
{
  submit_next (window, jobs);
}

static void
on_activate (GtkApplication *application,
             VtJobs         *jobs)
{
  const char *url = jobs->server_url != NULL ? jobs->server_url : g_getenv ("VT_SERVER_URL");
  g_autoptr(VtClient) client = NULL;
  GtkWidget *window;
  GList *windows = gtk_application_get_windows (application);

  if (windows != NULL)
    {
      gtk_window_present (windows->data);
      return;
    }

  if (url == NULL || *url == '\0')
    url = "http://127.0.0.1:5000";
  client = vt_client_new (url);
  window = vt_jobs_window_new (application, client);
  g_signal_connect (window, "submitted", G_CALLBACK (on_submitted), jobs);
  gtk_window_present (GTK_WINDOW (window));

  if (jobs->test_dir != NULL)
    vt_jobs_test_start (VT_JOBS_WINDOW (window), jobs->test_dir,
                        jobs->submissions != NULL ? g_strv_length (jobs->submissions) : 0,
                        &jobs->test_status);
  submit_next (VT_JOBS_WINDOW (window), jobs);
}

int
main (int   argc,
      char *argv[])
{
  VtJobs jobs = { NULL, };
  const GOptionEntry entries[] = {
    { "server", 's', 0, G_OPTION_ARG_STRING, &jobs.server_url,
      "The server (default: $VT_SERVER_URL, then http://127.0.0.1:5000)", "URL" },
    { "submit", 0, 0, G_OPTION_ARG_STRING_ARRAY, &jobs.submissions,
      "Submit a job through the form at start (repeatable)", "SOURCE-URL@LANGUAGE" },
    { "test-dir", 0, 0, G_OPTION_ARG_FILENAME, &jobs.test_dir,
      "Test hook: screenshots and reports into DIR, then quit", "DIR" },
    { NULL }
  };
  g_autoptr(GtkApplication) application = NULL;
  int status;

  /* Non-unique: each run is its own instance (tests start several). */
  application = gtk_application_new ("org.example.VtJobs", G_APPLICATION_NON_UNIQUE);
  g_application_add_main_option_entries (G_APPLICATION (application), entries);
  g_signal_connect (application, "activate", G_CALLBACK (on_activate), &jobs);
  status = g_application_run (G_APPLICATION (application), argc, argv);

  g_free (jobs.server_url);
  g_strfreev (jobs.submissions);
  g_free (jobs.test_dir);
  return status != 0 ? status : jobs.test_status;
}
