/* vt-test-server.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vt-test-server.h"

#include <libsoup/soup.h>

#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/prctl.h>
#include <string.h>

struct _VtTestServer
{
  GSubprocess *process;
  char        *url;
};

#ifdef VT_INSTALLED_TESTS
/* An installed test runs the vt-server on PATH (what the installation put
 * there, or a staged tree put first), else the one installed beside it. */
static const char *
installed_server_path (void)
{
  static char *path;

  if (g_once_init_enter (&path))
    {
      char *found = g_find_program_in_path ("vt-server");

      g_once_init_leave (&path, found != NULL ? found : g_strdup (VT_SERVER_INSTALLED_PATH));
    }
  return path;
}
#endif

const char *
vt_test_server_get_path (void)
{
  const char *path = g_getenv ("VT_SERVER_PATH");

  if (path != NULL)
    return path;
#ifdef VT_INSTALLED_TESTS
  return installed_server_path ();
#else
  return VT_SERVER_BUILD_PATH;
#endif
}

const char * const *
vt_test_valgrind_argv (void)
{
  static const char * const valgrind[] = {
    "valgrind",
    "--error-exitcode=97",
    "--leak-check=full",
    "--errors-for-leak-kinds=definite",
    "--show-leak-kinds=definite",
    "--suppressions=/usr/share/glib-2.0/valgrind/glib.supp",
    "--suppressions=" VT_SOURCE_DIR "/tests/vtclient.supp",
    "-q",
    NULL
  };

  return g_getenv ("VT_VALGRIND") != NULL ? valgrind : valgrind + G_N_ELEMENTS (valgrind) - 1;
}

/* A test that aborts must not leave its server running: it would keep
 * the test's output pipe open and hang the harness. */
static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

VtTestServer *
vt_test_server_startv (const char * const *args)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autofree char *line = NULL;
  const char *prefix = "vt-server listening on ";
  VtTestServer *server;

  /* Under `meson test --setup valgrind` the server is checked too. */
  for (const char * const *arg = vt_test_valgrind_argv (); *arg != NULL; arg++)
    g_ptr_array_add (argv, (gpointer) *arg);
  g_ptr_array_add (argv, (gpointer) vt_test_server_get_path ());
  g_ptr_array_add (argv, (gpointer) "--port");
  g_ptr_array_add (argv, (gpointer) "0");
  for (guint i = 0; args != NULL && args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);

  server = g_new0 (VtTestServer, 1);
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  server->process = g_subprocess_launcher_spawnv (launcher,
                                                  (const char * const *) argv->pdata,
                                                  &error);
  g_assert_no_error (error);

  /* Blocks until the server announces itself: awaiting, not sleeping. */
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (server->process));
  line = g_data_input_stream_read_line_utf8 (out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (line);
  g_assert_true (g_str_has_prefix (line, prefix));
  server->url = g_strdup (line + strlen (prefix));

  return server;
}

VtTestServer *
vt_test_server_start (const char *first_arg,
                      ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  va_list ap;

  va_start (ap, first_arg);
  for (const char *arg = first_arg; arg != NULL; arg = va_arg (ap, const char *))
    g_ptr_array_add (args, (gpointer) arg);
  va_end (ap);
  g_ptr_array_add (args, NULL);

  return vt_test_server_startv ((const char * const *) args->pdata);
}

const char *
vt_test_server_get_url (VtTestServer *server)
{
  return server->url;
}

void
vt_test_server_stop (VtTestServer *server)
{
  if (server == NULL)
    return;

  g_subprocess_send_signal (server->process, SIGTERM);
  g_subprocess_wait (server->process, NULL, NULL);
  /* The server exits cleanly on SIGTERM; anything else (a crash, a leak
   * under valgrind) fails the test that ran it. */
  g_assert_true (g_subprocess_get_if_exited (server->process));
  g_assert_cmpint (g_subprocess_get_exit_status (server->process), ==, 0);
  g_clear_object (&server->process);
  g_free (server->url);
  g_free (server);
}

void
vt_test_server_kill (VtTestServer *server)
{
  g_subprocess_force_exit (server->process);
  g_subprocess_wait (server->process, NULL, NULL);
  g_assert_true (g_subprocess_get_if_signaled (server->process));
  g_clear_object (&server->process);
  g_free (server->url);
  g_free (server);
}

GPid
vt_test_server_get_pid (VtTestServer *server)
{
  const char *identifier = g_subprocess_get_identifier (server->process);

  g_assert_nonnull (identifier);
  return (GPid) g_ascii_strtoll (identifier, NULL, 10);
}

double
vt_test_time_scale (void)
{
  const char *scale = g_getenv ("VT_TEST_TIME_SCALE");
  double value = scale ? g_ascii_strtod (scale, NULL) : 1.0;

  return value > 0 ? value : 1.0;
}

char *
vt_test_seconds_arg (double seconds)
{
  char buffer[G_ASCII_DTOSTR_BUF_SIZE];

  return g_strdup (g_ascii_formatd (buffer, sizeof buffer, "%.3f",
                                    seconds * vt_test_time_scale ()));
}

static GStrv
scrape (SoupSession *session,
        const char  *url)
{
  g_autoptr(SoupMessage) message = soup_message_new ("GET", url);
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;

  body = soup_session_send_and_read (session, message, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (soup_message_get_status (message), ==, SOUP_STATUS_OK);

  return g_strsplit (g_bytes_get_data (body, NULL), "\n", -1);
}

static guint
scrape_requests (SoupSession        *session,
                 const char         *url,
                 const char * const *routes)
{
  g_auto(GStrv) lines = scrape (session, url);
  guint total = 0;

  for (guint i = 0; lines[i] != NULL; i++)
    for (guint r = 0; routes[r] != NULL; r++)
      {
        g_autofree char *prefix = g_strdup_printf ("vt_requests_total{route=\"%s\",", routes[r]);

        if (g_str_has_prefix (lines[i], prefix))
          total += (guint) g_ascii_strtoull (strrchr (lines[i], ' ') + 1, NULL, 10);
      }

  return total;
}

/* Whether to scrape once more, the value sought not read yet: until
 * @deadline, a millisecond apart, so that a loaded machine's CPU goes to
 * the server rather than to scrapes. */
static gboolean
scrape_again (gint64 deadline)
{
  if (g_get_monotonic_time () >= deadline)
    return FALSE;

  g_usleep (G_TIME_SPAN_MILLISECOND);
  return TRUE;
}

static gint64
scrape_deadline (void)
{
  return g_get_monotonic_time () + (gint64) (5 * G_TIME_SPAN_SECOND * vt_test_time_scale ());
}

guint
vt_test_server_count_requests (VtTestServer       *server,
                               const char * const *routes,
                               guint               at_least)
{
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree char *url = g_strconcat (server->url, "/metrics", NULL);
  gint64 deadline = scrape_deadline ();
  guint total;

  do
    total = scrape_requests (session, url, routes);
  while (total < at_least && scrape_again (deadline));

  return total;
}

/* One scrape's value of the gauge @name; G_MAXUINT if it has none. */
static guint
scrape_gauge (SoupSession *session,
              const char  *url,
              const char  *name)
{
  g_auto(GStrv) lines = scrape (session, url);
  g_autofree char *prefix = g_strconcat (name, " ", NULL);

  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], prefix))
      return (guint) g_ascii_strtoull (lines[i] + strlen (prefix), NULL, 10);

  return G_MAXUINT;
}

guint
vt_test_server_gauge (VtTestServer *server,
                      const char   *name,
                      guint         expected)
{
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree char *url = g_strconcat (server->url, "/metrics", NULL);
  gint64 deadline = scrape_deadline ();
  guint value;

  do
    value = scrape_gauge (session, url, name);
  while (value != expected && scrape_again (deadline));

  return value;
}

guint
vt_test_server_read_gauge (VtTestServer *server,
                           const char   *name)
{
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree char *url = g_strconcat (server->url, "/metrics", NULL);

  return scrape_gauge (session, url, name);
}

void
vt_test_raise_fd_limit (void)
{
  struct rlimit limit;

  if (getrlimit (RLIMIT_NOFILE, &limit) != 0)
    return;

  limit.rlim_cur = limit.rlim_max;
  if (setrlimit (RLIMIT_NOFILE, &limit) != 0)
    g_printerr ("%s: cannot raise RLIMIT_NOFILE: %s\n", g_get_prgname (), g_strerror (errno));
}
