/* main.c: vt-server, the video translation job simulator
 *
 *   vt-server [--host 127.0.0.1] [--port 5000] [--delay SECONDS]
 *             [--durations MODEL] [--error-rate P] [--eta-noise F]
 *             [--seed N] [--plain] [--faults SPEC]... [--token TOKEN]
 *             [--rate-limit N/s] [--state FILE] [--retention SECONDS]
 *             [--tls-cert FILE --tls-key FILE]
 *
 * Parses the options, builds the job store, the routes and what wraps
 * them, listens, and announces "vt-server listening on http://HOST:PORT"
 * (https with TLS) on stdout, one line, flushed: what tests wait for,
 * with --port 0 choosing a free port. Runs until SIGTERM or SIGINT, then
 * frees everything.
 *
 * A request goes gate (rate limit, token) → faults → routes.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <glib-unix.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "vts-faults.h"
#include "vts-feed.h"
#include "vts-gate.h"
#include "vts-job-store.h"
#include "vts-metrics.h"
#include "vts-routes.h"

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
  gboolean  no_feeds;
  char    **faults;
  char     *token;
  char     *rate_limit;
  char     *state;
  double    retention;
  char     *tls_cert;
  char     *tls_key;
  double    feed_ttl;
} VtsOptions;

static void
vts_options_clear (VtsOptions *options)
{
  g_free (options->host);
  g_free (options->delay);
  g_free (options->durations);
  g_free (options->seed);
  g_strfreev (options->faults);
  if (options->token != NULL)
    explicit_bzero (options->token, strlen (options->token));
  g_free (options->token);
  g_free (options->rate_limit);
  g_free (options->state);
  g_free (options->tls_cert);
  g_free (options->tls_key);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (VtsOptions, vts_options_clear)

/* What the options build: everything a request goes through. */
typedef struct
{
  VtsJobStore *store;
  VtsMetrics  *metrics;
  VtsRoutes   *routes;
  VtsGate     *gate;
  VtsFaults   *faults;
} VtsServer;

static void
vts_server_clear (VtsServer *server)
{
  g_clear_object (&server->faults);
  g_clear_object (&server->gate);
  g_clear_object (&server->routes);
  g_clear_object (&server->metrics);
  g_clear_object (&server->store);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (VtsServer, vts_server_clear)

static gboolean
parse_options (VtsOptions        *options,
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
    { "no-feeds", 0, 0, G_OPTION_ARG_NONE, &options->no_feeds,
      "Offer no feeds, only the per-job extensions (hints, long-polls, events)", NULL },
    { "plain", 0, 0, G_OPTION_ARG_NONE, &options->plain,
      "Speak only the classic protocol: no hints, long-polls, events or metrics", NULL },
    { "faults", 0, 0, G_OPTION_ARG_STRING_ARRAY, &options->faults,
      "Inject a fault into a share P of requests (repeatable): status=5XX:P, "
      "retry-after=4XX:P, reset:P, hang:P, garbage:P, slow-body:P, huge:P, "
      "no-status:P, redirect:P, redirect-loop:P", "SPEC" },
    { "token", 0, 0, G_OPTION_ARG_STRING, &options->token,
      "Require Authorization: Bearer TOKEN on every route but GET /health", "TOKEN" },
    { "rate-limit", 0, 0, G_OPTION_ARG_STRING, &options->rate_limit,
      "Answer 429 past N requests per second (N/s) or minute (N/m) per client address", "N/s" },
    { "state", 0, 0, G_OPTION_ARG_FILENAME, &options->state,
      "Keep the jobs in FILE (an SQLite database), across restarts", "FILE" },
    { "retention", 0, 0, G_OPTION_ARG_DOUBLE, &options->retention,
      "Delete a job this long after it ended (default: 86400)", "SECONDS" },
    { "tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &options->tls_cert,
      "Serve https with this PEM certificate (with --tls-key)", "FILE" },
    { "tls-key", 0, 0, G_OPTION_ARG_FILENAME, &options->tls_key,
      "The PEM private key of --tls-cert", "FILE" },
    { "feed-ttl", 0, 0, G_OPTION_ARG_DOUBLE, &options->feed_ttl,
      "Seconds an unused feed lives (default: 60; for tests)", "SECONDS" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("— simulate video translation jobs");

  options->port = 5000;
  options->retention = VTS_JOB_STORE_DEFAULT_RETENTION;
  options->feed_ttl = VTS_FEED_TTL;

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
  /* A century at most: any longer is forever, and overflows nothing. */
  if (!(options->retention >= 0.0 && options->retention <= 100 * 365.25 * 24 * 3600))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--retention must be a number of seconds, at least 0");
      return FALSE;
    }
  if (!(options->feed_ttl > 0 && options->feed_ttl <= 86400))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--feed-ttl must lie in (0, 86400]");
      return FALSE;
    }
  if ((options->tls_cert == NULL) != (options->tls_key == NULL))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--tls-cert and --tls-key go together");
      return FALSE;
    }

  return TRUE;
}

static gboolean
parse_durations (const VtsOptions  *options,
                 VtsDurationModel  *durations,
                 GError          **error)
{
  g_autofree char *spec = NULL;

  if (options->durations != NULL)
    return vts_duration_model_parse (durations, options->durations, error);

  /* --delay S is the fixed model, with the same checks. */
  spec = g_strconcat ("fixed:", options->delay != NULL ? options->delay : "5", NULL);
  if (!vts_duration_model_parse (durations, spec, error))
    {
      g_prefix_error (error, "--delay: ");
      return FALSE;
    }

  return TRUE;
}

/* The jobs and the faults draw from generators of their own, both from
 * --seed: a fault never shifts which job fails. */
static gboolean
new_rand (const VtsOptions  *options,
          guint32           salt,
          GRand           **rand,
          GError          **error)
{
  guint64 seed;

  if (options->seed == NULL)
    {
      *rand = g_rand_new ();
      return TRUE;
    }

  if (!g_ascii_string_to_unsigned (options->seed, 10, 0, G_MAXUINT32, &seed, NULL))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--seed must be an integer in [0, %u]", G_MAXUINT32);
      return FALSE;
    }

  *rand = g_rand_new_with_seed ((guint32) seed ^ salt);
  return TRUE;
}

/* Builds what requests go through from @options; FALSE on a bad value. */
static gboolean
vts_server_init (VtsServer         *server,
                const VtsOptions  *options,
                GError          **error)
{
  VtsDurationModel durations;
  double rate = 0.0;
  GRand *rand;

  if (!parse_durations (options, &durations, error) ||
      (options->rate_limit != NULL && !vts_gate_parse_rate (options->rate_limit, &rate, error)) ||
      !new_rand (options, 0, &rand, error))
    return FALSE;

  server->store = vts_job_store_new (&durations, options->error_rate, options->eta_noise, rand);
  if (options->state != NULL && !vts_job_store_open (server->store, options->state, error))
    return FALSE;
  vts_job_store_set_retention (server->store, options->retention);
  if (!vts_job_store_ensure_default (server->store, error))
    return FALSE;

  if (!new_rand (options, 0x5eedfa17, &rand, error))
    return FALSE;
  server->faults = vts_faults_new (rand);
  for (guint i = 0; options->faults != NULL && options->faults[i] != NULL; i++)
    {
      if (!vts_faults_add (server->faults, options->faults[i], error))
        return FALSE;
    }

  server->gate = vts_gate_new (options->token, rate);
  server->metrics = vts_metrics_new ();
  server->routes = vts_routes_new (server->store, server->metrics, options->plain);
  vts_routes_set_feed_ttl (server->routes, options->feed_ttl);
  if (options->no_feeds)
    vts_routes_disable_feeds (server->routes);

  return TRUE;
}

static void
route_request (SoupServerMessage *msg,
               const char        *path,
               GHashTable        *query,
               gpointer           user_data)
{
  vts_routes_handle (user_data, msg, path, query);
}

static void
on_request (SoupServer        *soup_server,
            SoupServerMessage *msg,
            const char        *path,
            GHashTable        *query,
            gpointer           user_data)
{
  VtsServer *server = user_data;

  if (!vts_gate_admit (server->gate, msg, path))
    return;

  vts_faults_handle (server->faults, msg, path, query, route_request, server->routes);
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

/* Every held long-poll and open stream is a socket: the usual soft limit
 * of 1,024 descriptors would refuse the 1,021st client (accept() fails
 * with EMFILE and libsoup drops the connection). Raised to the hard limit,
 * which only root can raise further; says nothing unless it fails. */
static void
raise_fd_limit (void)
{
  struct rlimit limit;

  if (getrlimit (RLIMIT_NOFILE, &limit) != 0)
    {
      g_printerr ("vt-server: cannot read the open-file limit: %s\n", g_strerror (errno));
      return;
    }
  if (limit.rlim_cur == limit.rlim_max)
    return;

  limit.rlim_cur = limit.rlim_max;
  if (setrlimit (RLIMIT_NOFILE, &limit) != 0)
    g_printerr ("vt-server: cannot raise the open-file limit to %llu: %s\n",
                (unsigned long long) limit.rlim_max, g_strerror (errno));
}

/* Thousands of clients connect at once in the benchmarks and the soak;
 * GSocket's default backlog of 10 would make the kernel drop most of
 * their SYNs and the clients retry a second later. The kernel caps it at
 * net.core.somaxconn (4096 by default since Linux 5.4; see README.md). */
#define LISTEN_BACKLOG 4096

static GSocket *
listening_socket (GSocketAddress  *address,
                  GError         **error)
{
  g_autoptr(GSocket) socket = NULL;

  socket = g_socket_new (g_socket_address_get_family (address), G_SOCKET_TYPE_STREAM,
                         G_SOCKET_PROTOCOL_TCP, error);
  if (socket == NULL)
    return NULL;

  g_socket_set_listen_backlog (socket, LISTEN_BACKLOG);
  if (!g_socket_bind (socket, address, TRUE, error) || !g_socket_listen (socket, error))
    return NULL;

  return g_steal_pointer (&socket);
}

static gboolean
listen_on (SoupServer       *soup_server,
           const VtsOptions  *options,
           GError          **error)
{
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GSocket) socket = NULL;
  SoupServerListenOptions flags = 0;

  if (options->tls_cert != NULL)
    {
      g_autoptr(GTlsCertificate) certificate = NULL;

      certificate = g_tls_certificate_new_from_files (options->tls_cert, options->tls_key, error);
      if (certificate == NULL)
        return FALSE;
      soup_server_set_tls_certificate (soup_server, certificate);
      flags |= SOUP_SERVER_LISTEN_HTTPS;
    }

  address = resolve_host (options->host, options->port, error);
  if (address == NULL)
    return FALSE;

  socket = listening_socket (address, error);
  if (socket == NULL)
    return FALSE;

  return soup_server_listen_socket (soup_server, socket, flags, error);
}

/* The port the kernel gave us when asked for 0. */
static int
listening_port (SoupServer *soup_server)
{
  GSList *uris = soup_server_get_uris (soup_server);
  int port = uris != NULL ? g_uri_get_port (uris->data) : -1;

  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  return port;
}

/* "http://HOST:PORT": what the announce line says, and what result_url
 * starts with. */
static char *
base_url (SoupServer      *soup_server,
          const VtsOptions *options)
{
  gboolean ipv6 = strchr (options->host, ':') != NULL;

  return g_strdup_printf ("%s://%s%s%s:%d",
                          options->tls_cert != NULL ? "https" : "http",
                          ipv6 ? "[" : "", options->host, ipv6 ? "]" : "",
                          listening_port (soup_server));
}

int
main (int   argc,
      char *argv[])
{
  g_auto(VtsOptions) options = { 0, };
  g_auto(VtsServer) server = { 0, };
  g_autoptr(GError) error = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(SoupServer) soup_server = NULL;
  guint sigterm_id, sigint_id;
  int status = 0;

  raise_fd_limit ();
  if (!parse_options (&options, &argc, &argv, &error) ||
      !vts_server_init (&server, &options, &error))
    {
      g_printerr ("vt-server: %s\n", error->message);
      /* 2 for a bad command line, 1 for a state file that cannot be read */
      return error->domain == G_OPTION_ERROR ? 2 : 1;
    }

  soup_server = soup_server_new ("server-header", "vt-server ", NULL);
  vts_metrics_attach (server.metrics, soup_server);
  vts_routes_attach (server.routes, soup_server);
  soup_server_add_handler (soup_server, NULL, on_request, &server, NULL);

  /* Before the announce: whoever reads it may signal us at once. */
  loop = g_main_loop_new (NULL, FALSE);
  sigterm_id = g_unix_signal_add (SIGTERM, quit_on_signal, loop);
  sigint_id = g_unix_signal_add (SIGINT, quit_on_signal, loop);

  if (listen_on (soup_server, &options, &error))
    {
      g_autofree char *url = base_url (soup_server, &options);

      vts_routes_set_base_url (server.routes, url);
      g_print ("vt-server listening on %s\n", url);
      fflush (stdout);
      g_main_loop_run (loop);
    }
  else
    {
      g_printerr ("vt-server: cannot listen on %s:%d: %s\n",
                  options.host, options.port, error->message);
      status = 1;
    }

  g_source_remove (sigterm_id);
  g_source_remove (sigint_id);

  /* Dropping every connection ends the held long-polls, streams and hung
   * requests through their ::disconnected handlers, before their owners
   * go. The job store then finishes the writes under way (the clients
   * are gone; the jobs are stored all the same), and the iterations let
   * the closes and completions under way finish. */
  soup_server_disconnect (soup_server);
  vts_job_store_close (server.store);
  while (g_main_context_iteration (NULL, FALSE))
    ;

  return status;
}
