/* main.c: vt-server, the video translation job simulator
 *
 *   vt-server [--host 127.0.0.1] [--port 5000] [--delay SECONDS]
 *             [--durations MODEL] [--error-rate P] [--eta-noise F]
 *             [--seed N] [--plain]
 *
 * Parses the options, builds the job store and the routes, listens, and
 * announces "vt-server listening on http://HOST:PORT" on stdout, one line,
 * flushed: what tests wait for, with --port 0 choosing a free port. Runs
 * until SIGTERM or SIGINT, then frees everything.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <glib-unix.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "vt-job-store.h"
#include "vt-metrics.h"
#include "vt-routes.h"

typedef struct
{
  char     *host;
  int       port;
  char     *delay;
  char     *durations;
  double    error_rate;
  double    eta_noise;
  char     *seed;
  gboolean  plain;
} VtOptions;

static void
vt_options_clear (VtOptions *options)
{
  g_free (options->host);
  g_free (options->delay);
  g_free (options->durations);
  g_free (options->seed);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (VtOptions, vt_options_clear)

static gboolean
parse_options (VtOptions        *options,
               VtDurationModel  *durations,
               GRand           **rand,
               int              *argc,
               char           ***argv,
               GError          **error)
{
  const GOptionEntry entries[] = {
    { "host", 0, 0, G_OPTION_ARG_STRING, &options->host,
      "Address to listen on (default: 127.0.0.1)", "HOST" },
    { "port", 0, 0, G_OPTION_ARG_INT, &options->port,
      "Port to listen on; 0 picks a free one (default: 5000)", "PORT" },
    { "delay", 0, 0, G_OPTION_ARG_STRING, &options->delay,
      "Seconds every job takes (default: 5)", "SECONDS" },
    { "durations", 0, 0, G_OPTION_ARG_STRING, &options->durations,
      "Job durations: fixed:S, uniform:A:B or lognormal:MU:SIGMA (seconds)", "MODEL" },
    { "error-rate", 0, 0, G_OPTION_ARG_DOUBLE, &options->error_rate,
      "Probability that a job ends in error (default: 0)", "P" },
    { "eta-noise", 0, 0, G_OPTION_ARG_DOUBLE, &options->eta_noise,
      "Scale each job's eta by a factor drawn once from [1-F, 1+F]", "F" },
    { "seed", 0, 0, G_OPTION_ARG_STRING, &options->seed,
      "Seed every random decision, for reproducible runs", "N" },
    { "plain", 0, 0, G_OPTION_ARG_NONE, &options->plain,
      "Speak only the classic protocol: no hints, long-polls, events or metrics", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("— simulate video translation jobs");
  guint64 seed;

  options->port = 5000;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, argc, argv, error))
    return FALSE;

  if (options->host == NULL)
    options->host = g_strdup ("127.0.0.1");

  if (options->port < 0 || options->port > 65535)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--port must lie in [0, 65535]");
      return FALSE;
    }
  if (!(options->error_rate >= 0.0 && options->error_rate <= 1.0) ||
      !(options->eta_noise >= 0.0 && options->eta_noise <= 1.0))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--error-rate and --eta-noise must lie in [0, 1]");
      return FALSE;
    }

  if (options->durations != NULL && options->delay != NULL)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--delay and --durations are exclusive");
      return FALSE;
    }
  if (options->durations != NULL)
    {
      if (!vt_duration_model_parse (durations, options->durations, error))
        return FALSE;
    }
  else
    {
      g_autofree char *spec = g_strconcat ("fixed:", options->delay != NULL ? options->delay : "5", NULL);

      /* --delay S is the fixed model, with the same checks. */
      if (!vt_duration_model_parse (durations, spec, error))
        {
          g_prefix_error (error, "--delay: ");
          return FALSE;
        }
    }

  if (options->seed == NULL)
    {
      *rand = g_rand_new ();
    }
  else if (g_ascii_string_to_unsigned (options->seed, 10, 0, G_MAXUINT32, &seed, error))
    {
      *rand = g_rand_new_with_seed ((guint32) seed);
    }
  else
    {
      g_prefix_error (error, "--seed: ");
      return FALSE;
    }

  return TRUE;
}

static gboolean
quit_on_signal (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_CONTINUE;
}

static GSocketAddress *
resolve_host (const char  *host,
              int          port,
              GError     **error)
{
  g_autoptr(GInetAddress) address = g_inet_address_new_from_string (host);
  g_autolist(GInetAddress) addresses = NULL;

  if (address != NULL)
    return g_inet_socket_address_new (address, port);

  addresses = g_resolver_lookup_by_name (g_resolver_get_default (), host, NULL, error);
  if (addresses == NULL)
    return NULL;

  return g_inet_socket_address_new (addresses->data, port);
}

/* The port the kernel gave us when asked for 0. */
static int
listening_port (SoupServer *server)
{
  GSList *uris = soup_server_get_uris (server);
  int port = uris != NULL ? g_uri_get_port (uris->data) : -1;

  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  return port;
}

static void
on_request (SoupServer        *server,
            SoupServerMessage *msg,
            const char        *path,
            GHashTable        *query,
            gpointer           user_data)
{
  vt_routes_handle (user_data, msg, path, query);
}

int
main (int   argc,
      char *argv[])
{
  g_auto(VtOptions) options = { 0, };
  g_autoptr(GError) error = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(VtJobStore) store = NULL;
  g_autoptr(VtMetrics) metrics = NULL;
  g_autoptr(VtRoutes) routes = NULL;
  g_autoptr(SoupServer) server = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  VtDurationModel durations;
  GRand *rand = NULL;
  guint sigterm_id, sigint_id;

  if (!parse_options (&options, &durations, &rand, &argc, &argv, &error))
    {
      g_printerr ("vt-server: %s\n", error->message);
      return 2;
    }

  store = vt_job_store_new (&durations, options.error_rate, options.eta_noise, rand);
  vt_job_store_ensure_default (store);
  metrics = vt_metrics_new ();
  routes = vt_routes_new (store, metrics, options.plain);

  server = soup_server_new ("server-header", "vt-server ", NULL);
  vt_metrics_attach (metrics, server);
  vt_routes_attach (routes, server);
  soup_server_add_handler (server, NULL, on_request, routes, NULL);

  /* Before the announce: whoever reads it may signal us at once. */
  loop = g_main_loop_new (NULL, FALSE);
  sigterm_id = g_unix_signal_add (SIGTERM, quit_on_signal, loop);
  sigint_id = g_unix_signal_add (SIGINT, quit_on_signal, loop);

  address = resolve_host (options.host, options.port, &error);
  if (address == NULL ||
      !soup_server_listen (server, address, 0, &error))
    {
      g_printerr ("vt-server: cannot listen on %s:%d: %s\n",
                  options.host, options.port, error->message);
      return 1;
    }

  g_print ("vt-server listening on http://%s%s%s:%d\n",
           strchr (options.host, ':') != NULL ? "[" : "", options.host,
           strchr (options.host, ':') != NULL ? "]" : "", listening_port (server));
  fflush (stdout);

  g_main_loop_run (loop);
  g_source_remove (sigterm_id);
  g_source_remove (sigint_id);

  /* Dropping every connection ends the held long-polls and streams
   * through their ::disconnected handlers, before the routes go. */
  soup_server_disconnect (server);
  while (g_main_context_iteration (NULL, FALSE))
    ;

  return 0;
}
