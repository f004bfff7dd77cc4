/* vt-demo.c: the seed's integration test, as a program
 *
 *   vt-demo [--url URL] [--job ID] [--server PATH] [--delay SECONDS]
 *
 * Starts vt-server when none answers at URL (default http://127.0.0.1:5000;
 * port 0 always starts one, on a free port), follows a job with VtClient's
 * default schedule, prints each status update and the final status, then
 * stops the server it started. The job is the server's classic job on
 * GET /status, as in the original test, or job ID with --job. Exits with 0
 * when the job completed, 1 otherwise.
 *
 * When stdout is a terminal (and TERM is not "dumb"), the status lines give
 * way to one live line, redrawn in place with a carriage return: a bar of
 * the job's progress, the percentage, the ETA and the status, as the
 * client's progress-changed signal reports them. The final status is
 * printed on its own line either way.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <vtclient.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define ANNOUNCE_PREFIX "vt-server listening on "
#define BAR_WIDTH 30

/* What the live line shows; the plain form uses none of it. */
typedef struct
{
  gboolean live;
  VtStatus status;
  double   progress;  /* 0-1, or -1 before the server gave one */
  double   eta;       /* seconds, or -1 when unknown */
  GString *drawn;     /* the line last drawn, not drawn twice */
} Display;

static const char *
status_nick (VtStatus status)
{
  /* The class of a static enum type lives as long as the program. */
  GEnumClass *klass = g_type_class_ref (VT_TYPE_STATUS);

  return g_enum_get_value (klass, status)->value_nick;
}

/* The vt-server to start: $VT_SERVER_PATH, else the one built beside this
 * program, else the installed one. */
static const char *
server_path (void)
{
  const char *path = g_getenv ("VT_SERVER_PATH");

  if (path != NULL)
    return path;
  if (g_file_test (VT_SERVER_BUILD_PATH, G_FILE_TEST_IS_EXECUTABLE))
    return VT_SERVER_BUILD_PATH;
  return VT_SERVER_INSTALLED_PATH;
}

/* Whether anything accepts connections at host:port. */
static gboolean
server_answers (const char *host,
                int         port)
{
  g_autoptr(GSocketClient) socket_client = g_socket_client_new ();
  g_autoptr(GSocketConnection) connection = NULL;

  g_socket_client_set_timeout (socket_client, 2);
  connection = g_socket_client_connect_to_host (socket_client, host, port,
                                                NULL, NULL);
  return connection != NULL;
}

/* Starts vt-server on host:port and returns it; *url is set to the URL it
 * announces (which names the real port when port is 0). */
static GSubprocess *
start_server (const char  *host,
              int          port,
              const char  *delay,
              char       **url,
              GError     **error)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GSubprocess) server = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autofree char *line = NULL;

  g_ptr_array_add (argv, g_strdup (server_path ()));
  g_ptr_array_add (argv, g_strdup ("--host"));
  g_ptr_array_add (argv, g_strdup (host));
  g_ptr_array_add (argv, g_strdup ("--port"));
  g_ptr_array_add (argv, g_strdup_printf ("%d", port));
  if (delay != NULL)
    {
      g_ptr_array_add (argv, g_strdup ("--delay"));
      g_ptr_array_add (argv, g_strdup (delay));
    }
  g_ptr_array_add (argv, NULL);

  server = g_subprocess_newv ((const char * const *) argv->pdata,
                              G_SUBPROCESS_FLAGS_STDOUT_PIPE, error);
  if (server == NULL)
    return NULL;

  /* The server is ready once it has announced itself. */
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (server));
  g_filter_input_stream_set_close_base_stream (G_FILTER_INPUT_STREAM (out), FALSE);
  line = g_data_input_stream_read_line_utf8 (out, NULL, NULL, error);
  if (line == NULL || !g_str_has_prefix (line, ANNOUNCE_PREFIX))
    {
      if (error != NULL && *error == NULL)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                     "%s did not announce itself", (const char *) argv->pdata[0]);
      g_subprocess_force_exit (server);
      g_subprocess_wait (server, NULL, NULL);
      return NULL;
    }
  *url = g_strdup (line + strlen (ANNOUNCE_PREFIX));

  /* vt-server writes nothing after that line; the pipe stays open, unread. */
  return g_steal_pointer (&server);
}

static void
stop_server (GSubprocess *server)
{
  g_subprocess_send_signal (server, SIGTERM);
  g_subprocess_wait (server, NULL, NULL);
}

/* A terminal that can take a carriage return and an erase-line. */
static gboolean
stdout_is_live_terminal (void)
{
  const char *term = g_getenv ("TERM");

  return isatty (STDOUT_FILENO) && g_strcmp0 (term, "dumb") != 0;
}

/* "[=========>           ]  42%  ETA 3.1 s  pending", redrawn over the
 * previous one: \r goes back to the start of the line, \033[K erases what
 * a longer previous line left. */
static void
display_draw (Display *display)
{
  double fraction = CLAMP (display->progress, 0.0, 1.0);
  int filled = (int) (fraction * BAR_WIDTH + 0.5);
  g_autoptr(GString) line = g_string_new ("\r[");

  for (int i = 0; i < BAR_WIDTH; i++)
    g_string_append_c (line, i < filled ? '=' : (i == filled ? '>' : ' '));
  g_string_append_c (line, ']');
  if (display->progress >= 0)
    g_string_append_printf (line, " %3d%%", (int) (fraction * 100));
  else
    g_string_append (line, "   -%");
  if (display->eta >= 0)
    g_string_append_printf (line, "  ETA %.1f s", display->eta);
  else
    g_string_append (line, "  ETA -");
  g_string_append_printf (line, "  %s\033[K", status_nick (display->status));

  if (g_string_equal (line, display->drawn))
    return;
  g_string_assign (display->drawn, line->str);
  fputs (line->str, stdout);
  fflush (stdout);
}

static void
on_status_changed (VtClient   *client,
                   const char *job_id,
                   VtStatus    status,
                   gpointer    user_data)
{
  Display *display = user_data;

  if (!display->live)
    {
      g_print ("Status Updated: %s\n", status_nick (status));
      return;
    }

  display->status = status;
  if (status == VT_STATUS_COMPLETED)
    {
      display->progress = 1.0;
      display->eta = 0.0;
    }
  display_draw (display);
}

static void
on_progress_changed (VtClient   *client,
                     const char *job_id,
                     double      progress,
                     double      eta,
                     gpointer    user_data)
{
  Display *display = user_data;

  if (!display->live)
    return;

  display->progress = progress;
  display->eta = eta;
  display_draw (display);
}

/* Ends the live line, so that what follows starts on a line of its own. */
static void
display_finish (Display *display)
{
  if (display->live)
    g_print ("\n");
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *url = NULL;
  g_autofree char *delay = NULL;
  g_autofree char *server_arg = NULL;
  g_autofree char *job_id = NULL;
  const GOptionEntry entries[] = {
    { "url", 'u', 0, G_OPTION_ARG_STRING, &url,
      "The server to follow (default: http://127.0.0.1:5000)", "URL" },
    { "job", 'j', 0, G_OPTION_ARG_STRING, &job_id,
      "Follow this job (GET /jobs/ID), not the classic job on GET /status", "ID" },
    { "server", 0, 0, G_OPTION_ARG_FILENAME, &server_arg,
      "The vt-server to start when none answers", "PATH" },
    { "delay", 0, 0, G_OPTION_ARG_STRING, &delay,
      "--delay for the vt-server this starts", "SECONDS" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GUri) uri = NULL;
  g_autoptr(VtClient) client = NULL;
  g_autoptr(GSubprocess) server = NULL;
  VtStatus status = VT_STATUS_PENDING;
  g_autoptr(GString) drawn = g_string_new (NULL);
  Display display = { stdout_is_live_terminal (), VT_STATUS_PENDING, -1, -1, drawn };
  const char *host;
  int port;

  context = g_option_context_new ("- follow a job on vt-server to the end");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("vt-demo: %s\n", error->message);
      return 2;
    }
  if (url == NULL)
    url = g_strdup ("http://127.0.0.1:5000");
  if (server_arg != NULL)
    g_setenv ("VT_SERVER_PATH", server_arg, TRUE);

  uri = g_uri_parse (url, G_URI_FLAGS_NONE, &error);
  if (uri == NULL || g_uri_get_host (uri) == NULL)
    {
      g_printerr ("vt-demo: bad URL %s\n", url);
      return 2;
    }
  host = g_uri_get_host (uri);
  port = g_uri_get_port (uri);
  if (port < 0)
    port = 80;

  if (port != 0 && server_answers (host, port))
    {
      g_print ("Using the server already running at %s\n", url);
    }
  else
    {
      g_free (url);
      url = NULL;
      server = start_server (host, port, delay, &url, &error);
      if (server == NULL)
        {
          g_printerr ("vt-demo: could not start %s: %s\n", server_path (), error->message);
          return 1;
        }
      g_print ("Started vt-server (pid %s) at %s\n",
               g_subprocess_get_identifier (server), url);
    }

  client = vt_client_new (url);
  g_signal_connect (client, "status-changed", G_CALLBACK (on_status_changed), &display);
  g_signal_connect (client, "progress-changed", G_CALLBACK (on_progress_changed), &display);
  status = vt_client_get_status (client, job_id, NULL, &error);
  display_finish (&display);
  if (error != NULL)
    g_printerr ("vt-demo: %s\n", error->message);
  else
    g_print ("Final Status: %s\n", status_nick (status));

  if (server != NULL)
    {
      stop_server (server);
      g_print ("Stopped vt-server\n");
    }

  return error == NULL && status == VT_STATUS_COMPLETED ? 0 : 1;
}
