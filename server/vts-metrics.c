/* vts-metrics.c: request counters in the Prometheus text format
 *
 * Counting hooks the server's request-finished and request-aborted
 * signals, so no handler has to remember to count; the gauges are read
 * from their owners at scrape time.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vts-metrics.h"

#include "vts-routes.h"

#include <string.h>

struct _VtsMetrics
{
  GObject     parent_instance;

  GHashTable *requests;  /* "route\ncode" → guint64 count, boxed */
  /* The same counts, found without building the key: route label (one
   * of the route table's strings) → status code → count in requests */
  GHashTable *by_route;
};

G_DEFINE_FINAL_TYPE (VtsMetrics, vts_metrics, G_TYPE_OBJECT)

static void
vts_metrics_finalize (GObject *object)
{
  VtsMetrics *self = VTS_METRICS (object);

  g_hash_table_unref (self->by_route);
  g_hash_table_unref (self->requests);

  G_OBJECT_CLASS (vts_metrics_parent_class)->finalize (object);
}

static void
vts_metrics_class_init (VtsMetricsClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = vts_metrics_finalize;
}

static void
vts_metrics_init (VtsMetrics *self)
{
  self->requests = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->by_route = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) g_hash_table_unref);
}

VtsMetrics *
vts_metrics_new (void)
{
  return g_object_new (VTS_TYPE_METRICS, NULL);
}

/*
 * vts_metrics_count:
 *
 * Counts @msg, with the status it has now: what the server's signals do
 * for every request, and what a stream whose connection was taken from
 * libsoup (which then emits neither) asks for itself.
 */
void
vts_metrics_count (VtsMetrics         *self,
                  SoupServerMessage *msg)
{
  GUri *uri = soup_server_message_get_uri (msg);
  const char *route = vts_routes_label_for_path (uri != NULL ? g_uri_get_path (uri) : NULL);
  guint status = soup_server_message_get_status (msg);
  GHashTable *by_status = g_hash_table_lookup (self->by_route, route);
  guint64 *count = by_status != NULL ? g_hash_table_lookup (by_status, GUINT_TO_POINTER (status))
                                     : NULL;

  /* Every request is counted: two lookups by pointer, nothing built. */
  if (count == NULL)
    {
      count = g_new0 (guint64, 1);
      g_hash_table_insert (self->requests, g_strdup_printf ("%s\n%u", route, status), count);
      if (by_status == NULL)
        {
          by_status = g_hash_table_new (NULL, NULL);
          g_hash_table_insert (self->by_route, (gpointer) route, by_status);
        }
      g_hash_table_insert (by_status, GUINT_TO_POINTER (status), count);
    }
  (*count)++;
}

static void
vts_metrics_on_request_done (SoupServer        *server,
                            SoupServerMessage *msg,
                            gpointer           user_data)
{
  vts_metrics_count (user_data, msg);
}

void
vts_metrics_attach (VtsMetrics  *self,
                   SoupServer *server)
{
  g_return_if_fail (VTS_IS_METRICS (self));
  g_return_if_fail (SOUP_IS_SERVER (server));

  g_signal_connect_object (server, "request-finished",
                           G_CALLBACK (vts_metrics_on_request_done), self, 0);
  g_signal_connect_object (server, "request-aborted",
                           G_CALLBACK (vts_metrics_on_request_done), self, 0);
}

static int
compare_keys (gconstpointer a,
              gconstpointer b,
              gpointer      user_data)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

static void
render_requests (VtsMetrics *self,
                 GString   *out)
{
  g_autofree const char **keys = NULL;
  guint n_keys;

  g_string_append (out,
                   "# HELP vt_requests_total HTTP requests answered, by route and status code.\n"
                   "# TYPE vt_requests_total counter\n");

  /* Sorted, so that a scrape reads the same from one run to the next. */
  keys = (const char **) g_hash_table_get_keys_as_array (self->requests, &n_keys);
  g_qsort_with_data (keys, n_keys, sizeof (char *),
                     compare_keys, NULL);
  for (guint i = 0; i < n_keys; i++)
    {
      const char *newline = strchr (keys[i], '\n');
      guint64 *count = g_hash_table_lookup (self->requests, keys[i]);

      g_string_append_printf (out, "vt_requests_total{route=\"%.*s\",code=\"%s\"} %" G_GUINT64_FORMAT "\n",
                              (int) (newline - keys[i]), keys[i], newline + 1, *count);
    }
}

static void
render_gauge (GString    *out,
              const char *name,
              const char *help,
              guint       value)
{
  g_string_append_printf (out, "# HELP %s %s\n# TYPE %s gauge\n%s %u\n",
                          name, help, name, name, value);
}

char *
vts_metrics_render (VtsMetrics             *self,
                   VtsJobStore            *store,
                   const VtsMetricsGauges *gauges)
{
  GString *out = g_string_new (NULL);
  guint counts[VTS_JOB_N_STATES];

  g_return_val_if_fail (VTS_IS_METRICS (self), NULL);

  render_requests (self, out);
  render_gauge (out, "vt_open_long_polls", "Requests held by a long-poll now, feeds' included.",
                gauges->open_long_polls);
  render_gauge (out, "vt_open_streams", "Event streams open now, feeds' included.",
                gauges->open_streams);
  render_gauge (out, "vt_open_feeds", "Feeds that exist now.", gauges->open_feeds);
  render_gauge (out, "vt_feed_jobs", "Pending jobs in feeds now, counted once per feed.",
                gauges->feed_jobs);
  render_gauge (out, "vt_jobs_in_memory", "Jobs held in memory (the others are on disk).",
                vts_job_store_get_n_in_memory (store));

  vts_job_store_count (store, g_get_monotonic_time (), counts);
  g_string_append (out, "# HELP vt_jobs Jobs stored, by state.\n# TYPE vt_jobs gauge\n");
  for (guint i = 0; i < VTS_JOB_N_STATES; i++)
    g_string_append_printf (out, "vt_jobs{state=\"%s\"} %u\n",
                            vts_job_state_to_string (i), counts[i]);

  return g_string_free (out, FALSE);
}
