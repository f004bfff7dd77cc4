/* fuzz-server-request.c: arbitrary bytes as HTTP requests to vt-server
 *
 * Builds, for each input, what vt-server's main() builds: a job store,
 * the metrics and the routes attached to a SoupServer, the routes' handler
 * registered. The input is then one client connection's bytes, handed to
 * soup_server_accept_iostream() over an in-memory stream; the main
 * context runs until it is idle (every response written, or a long-poll
 * or event stream holding its message), bounded in iterations, and
 * everything is torn down the way main() does it, so that LeakSanitizer
 * sees anything one input leaves behind.
 *
 * Job ids (and the key that marks them, server/vts-job-ids.c) come from
 * GLib's global generator: seeding it per input makes the ids the same
 * every run, so corpus files can name existing jobs. Run a target with
 * VT_FUZZ_DEBUG=1 to see the ids and the bytes the server answered.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <gio/gio.h>
#include <libsoup/soup.h>
#include <stdio.h>

#include "vt-fuzz.h"
#include "vts-job-store.h"
#include "vts-metrics.h"
#include "vts-routes.h"

/* Enough for a pipelined input of dozens of requests; a connection that
 * needs more is spinning, which the bound turns into a timeout-free
 * result instead of a hang. */
#define MAX_ITERATIONS 2000

static gboolean debug;

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  vt_fuzz_init_glib ();
  debug = g_getenv ("VT_FUZZ_DEBUG") != NULL;
  return 0;
}

typedef struct
{
  VtsJobStore *store;
  VtsMetrics  *metrics;
  VtsRoutes   *routes;
  SoupServer *server;
} Fixture;

static void
on_request (SoupServer        *server,
            SoupServerMessage *msg,
            const char        *path,
            GHashTable        *query,
            gpointer           user_data)
{
  vts_routes_handle (user_data, msg, path, query);
}

/* A job for each state a route can see: the default job stays pending
 * for the whole input (long-polls and streams hold on it), the two
 * others are over at once. */
static void
add_jobs (VtsJobStore *store)
{
  VtsJobSpec completed = VTS_JOB_SPEC_INIT;
  VtsJobSpec failed = VTS_JOB_SPEC_INIT;
  g_autoptr(VtsJob) done = NULL;
  g_autoptr(VtsJob) broken = NULL;

  vts_job_store_ensure_default (store, NULL);
  completed.duration = 0;
  completed.outcome = VTS_JOB_STATE_COMPLETED;
  done = vts_job_store_create (store, &completed, NULL);
  failed.duration = 0;
  failed.outcome = VTS_JOB_STATE_ERROR;
  broken = vts_job_store_create (store, &failed, NULL);

  if (debug)
    fprintf (stderr, "jobs: pending %s, completed %s, error %s\n",
             vts_job_get_id (vts_job_store_get_default (store)),
             vts_job_get_id (done), vts_job_get_id (broken));
}

/* As vt-server's main(). The loopback listener is never connected to,
 * but libsoup keeps a connection alive only on a server that listens:
 * without one, pipelined requests after the first would go unread. */
static void
fixture_init (Fixture *fixture)
{
  VtsDurationModel durations = { VTS_DURATION_FIXED, 600.0, 0.0 };
  g_autoptr(GError) error = NULL;

  g_random_set_seed (1);
  fixture->store = vts_job_store_new (&durations, 0.2, 0.1, g_rand_new_with_seed (1));
  add_jobs (fixture->store);
  fixture->metrics = vts_metrics_new ();
  fixture->routes = vts_routes_new (fixture->store, fixture->metrics, FALSE);

  fixture->server = soup_server_new ("server-header", "vt-server ", NULL);
  vts_metrics_attach (fixture->metrics, fixture->server);
  vts_routes_attach (fixture->routes, fixture->server);
  soup_server_add_handler (fixture->server, NULL, on_request, fixture->routes, NULL);

  if (!soup_server_listen_local (fixture->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error))
    g_error ("soup_server_listen_local: %s", error->message);
}

static void
run_until_idle (void)
{
  for (guint i = 0; i < MAX_ITERATIONS; i++)
    {
      if (!g_main_context_iteration (NULL, FALSE))
        return;
    }
}

/* As vt-server's main() ends: dropping the connections ends the held
 * long-polls and streams before the routes go. */
static void
fixture_clear (Fixture *fixture)
{
  soup_server_disconnect (fixture->server);
  run_until_idle ();

  g_clear_object (&fixture->server);
  g_clear_object (&fixture->routes);
  g_clear_object (&fixture->metrics);
  g_clear_object (&fixture->store);
}

static GIOStream *
connection_new (const uint8_t  *data,
                size_t          size,
                GOutputStream **output)
{
  g_autoptr(GBytes) bytes = g_bytes_new (data, size);
  g_autoptr(GInputStream) input = g_memory_input_stream_new_from_bytes (bytes);

  *output = g_memory_output_stream_new_resizable ();
  return g_simple_io_stream_new (input, *output);
}

static void
dump_response (GOutputStream *output)
{
  GMemoryOutputStream *memory = G_MEMORY_OUTPUT_STREAM (output);

  fprintf (stderr, "--- response (%zu bytes)\n%.*s\n---\n",
           g_memory_output_stream_get_data_size (memory),
           (int) g_memory_output_stream_get_data_size (memory),
           (const char *) g_memory_output_stream_get_data (memory));
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  Fixture fixture;
  g_autoptr(GOutputStream) output = NULL;
  g_autoptr(GIOStream) stream = connection_new (data, size, &output);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) local = g_inet_socket_address_new (loopback, 5000);
  g_autoptr(GSocketAddress) remote = g_inet_socket_address_new (loopback, 40000);
  g_autoptr(GError) error = NULL;

  fixture_init (&fixture);

  if (!soup_server_accept_iostream (fixture.server, stream, local, remote, &error))
    g_error ("soup_server_accept_iostream: %s", error->message);
  run_until_idle ();

  if (debug)
    dump_response (output);

  fixture_clear (&fixture);

  return 0;
}
