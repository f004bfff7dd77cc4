/* vt-offline.c: the network goes away in the middle of many jobs
 *
 *   vt-offline [--jobs N] [--durations uniform:A:B|fixed:S] [--offline-at S]
 *              [--offline-for S] [--strategies LIST] [--seed N]
 *              [--start-jitter S] [--check]
 *
 * Issue 11's first target: offline for 10 s in the middle of 100 jobs,
 * no request sent while offline, and every job's end seen within 1 s of
 * the network's return (or of the job's end, if later).
 *
 * Per row (a VtClient with strategy auto, stream, long-poll or poll, each
 * on a vt-server of its own), N jobs are created to end at drawn instants
 * after one common start; the client follows them all, its
 * network-monitor a VtFakeNetworkMonitor that this program switches off
 * --offline-at seconds after the start and on again --offline-for
 * seconds later.
 *
 * Requests are counted in this process, by emission hooks on every
 * SoupSession's request-queued and every SoupMessage's starting: they see
 * VtClient's private session, at the instant the client queues a request
 * and puts it on the wire, on the same thread and clock as the switch.
 * A request counts as sent while offline if it was queued or started
 * between the two switches. (The server's /metrics counts a request when
 * its answer is written, so a long-poll sent before the outage and
 * answered in it would count, and the proxy stamps arrivals in a thread
 * of its own: neither says what the client did, when.)
 *
 * The lateness of a job is the moment its final status was seen
 * (status-changed) minus the moment the target measures from: the
 * network's return for a job that ended while offline, its end for the
 * others. Its end is its created_at plus the duration it was given.
 *
 * A fake monitor leaves loopback up: a stream or a long-poll open when
 * the network "goes" stays connected and may bring a job's end while
 * offline (lateness below zero). A real outage breaks them. What is
 * measured is what the client sends.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <vtclient.h>

#include "vt-bench-util.h"
#include "vt-fake-monitors.h"
#include "vt-test-server.h"

/* Room for every job to be created before the start. */
#define START_MARGIN_S       0.5
#define START_MARGIN_PER_JOB 0.01
/* The caller's deadline and attempts: far enough that neither ends a job
 * (the outage spends none of them but the deadline runs). */
#define CLIENT_MAX_WAIT_TIME 120.0
#define CLIENT_MAX_ATTEMPTS  1000
/* Past the last job's end, before a row gives up. */
#define TIME_LIMIT_SLACK     30.0
/* The target, and what a poll sees of a job that ends after the return:
 * vt-scale-smoke's bound for polls. */
#define TARGET_S             1.0
#define POLL_BOUND_S         2.0

typedef struct
{
  const char *name;
  VtStrategy  strategy;
  gboolean    push;     /* a stream or long-polls: an end is told, not found */
} RowSpec;

static const RowSpec row_specs[] = {
  { "auto", VT_STRATEGY_AUTO, TRUE },
  { "stream", VT_STRATEGY_STREAM, TRUE },
  { "long-poll", VT_STRATEGY_LONG_POLL, TRUE },
  { "poll", VT_STRATEGY_POLL, FALSE },
};

/* ------------------------------------------------------------------ */
/* Configuration */

typedef struct
{
  guint      n_jobs;
  char      *durations_text;
  double     duration_low;
  double     duration_high;
  double     offline_at;
  double     offline_for;
  double     start_jitter;
  guint32    seed;
  gboolean   check;
  GPtrArray *rows;            /* const RowSpec * */
} OfflineConfig;

static void
offline_config_clear (OfflineConfig *config)
{
  g_clear_pointer (&config->durations_text, g_free);
  g_clear_pointer (&config->rows, g_ptr_array_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (OfflineConfig, offline_config_clear)

/* Jobs that take some time: the network goes while they run. */
static gboolean
parse_durations (OfflineConfig  *config,
                 GError        **error)
{
  if (!vt_bench_parse_duration_range (config->durations_text, &config->duration_low,
                                      &config->duration_high, error))
    return FALSE;
  if (config->duration_low > 0)
    return TRUE;

  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
               "--durations: expected uniform:A:B (0 < A <= B) or fixed:S (S > 0), not \"%s\"",
               config->durations_text);
  return FALSE;
}

static gboolean
parse_rows (OfflineConfig  *config,
            const char     *text,
            GError        **error)
{
  g_auto(GStrv) names = g_strsplit (text, ",", -1);

  config->rows = g_ptr_array_new ();
  for (guint i = 0; names[i] != NULL; i++)
    {
      const RowSpec *spec = NULL;

      for (guint j = 0; j < G_N_ELEMENTS (row_specs); j++)
        if (g_str_equal (row_specs[j].name, g_strstrip (names[i])))
          spec = &row_specs[j];
      if (spec == NULL)
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       "--strategies: unknown row \"%s\" (auto, stream, long-poll, poll)",
                       names[i]);
          return FALSE;
        }
      g_ptr_array_add (config->rows, (gpointer) spec);
    }
  return TRUE;
}

static gboolean
parse_options (OfflineConfig  *config,
               int            *argc,
               char         ***argv,
               GError        **error)
{
  g_autofree char *strategies = NULL;
  int n_jobs = 100, seed = 1;
  const GOptionEntry entries[] = {
    { "jobs", 'n', 0, G_OPTION_ARG_INT, &n_jobs, "Jobs per row (default: 100)", "N" },
    { "durations", 0, 0, G_OPTION_ARG_STRING, &config->durations_text,
      "Job durations in seconds after the start: uniform:A:B or fixed:S (default: uniform:5:30)",
      "MODEL" },
    { "offline-at", 0, 0, G_OPTION_ARG_DOUBLE, &config->offline_at,
      "The network goes this many seconds after the start (default: 5)", "S" },
    { "offline-for", 0, 0, G_OPTION_ARG_DOUBLE, &config->offline_for,
      "... and comes back this many seconds later (default: 10)", "S" },
    { "start-jitter", 0, 0, G_OPTION_ARG_DOUBLE, &config->start_jitter,
      "The client's start-jitter (default: 0, the client's default)", "S" },
    { "strategies", 0, 0, G_OPTION_ARG_STRING, &strategies,
      "Rows, comma-separated (default: auto,stream,long-poll,poll)", "LIST" },
    { "seed", 0, 0, G_OPTION_ARG_INT, &seed,
      "Seed of the durations and the server (default: 1)", "N" },
    { "check", 0, 0, G_OPTION_ARG_NONE, &config->check,
      "Exit with 1 unless every row meets the targets (the smoke test)", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = NULL;

  context = g_option_context_new ("— offline in the middle of many jobs");
  config->offline_at = 5.0;
  config->offline_for = 10.0;
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, argc, argv, error))
    return FALSE;

  if (n_jobs < 1 || seed < 0 || !(config->offline_at >= 0) || !(config->offline_for > 0) ||
      !(config->start_jitter >= 0) || !isfinite (config->offline_at + config->offline_for))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--jobs and --offline-for must be positive; --seed, --offline-at and "
                   "--start-jitter not negative");
      return FALSE;
    }
  config->n_jobs = n_jobs;
  config->seed = seed;
  if (config->durations_text == NULL)
    config->durations_text = g_strdup ("uniform:5:30");

  return parse_durations (config, error) &&
         parse_rows (config, strategies != NULL ? strategies : "auto,stream,long-poll,poll", error);
}

/* ------------------------------------------------------------------ */
/* One row */

typedef enum {
  JOB_FOLLOWING,
  JOB_DONE,
  JOB_TIMED_OUT,
  JOB_FAILED,
} JobOutcome;

typedef struct
{
  char       *id;
  double      duration;      /* s from the start to its end, as drawn */
  gint64      end_wall_us;   /* its end on the server's clock */
  gint64      seen_wall_us;  /* its final status seen; 0: not yet */
  JobOutcome  outcome;
} OfflineJob;

typedef struct
{
  const OfflineConfig  *config;
  const RowSpec        *spec;
  guint                 generation;   /* tells this row's requests from the last one's */
  const char           *base_url;
  SoupSession          *control;      /* this program's own requests */
  VtClient             *client;
  VtFakeNetworkMonitor *network;
  GCancellable         *cancellable;
  OfflineJob           *jobs;
  GHashTable           *by_id;        /* id → OfflineJob, borrowed */
  char                 *failure;

  gint64                start_wall_us;
  gint64                start_mono_us;
  gint64                late_start_us;
  gint64                offline_wall_us;   /* the switches, as made */
  gint64                online_wall_us;
  gboolean              offline;
  gboolean              back;
  gboolean              time_limit_hit;

  guint                 n_following;
  guint                 unfinished;        /* at the time limit */
  guint                 n_errors;
  guint                 n_timeouts;
  char                 *first_error;
  guint                 requests;          /* put on the wire */
  guint                 requests_offline;  /* queued or started while offline */
  GString              *offline_log;
} Row;

static Row *current_row;  /* for the request hooks */

static void
row_free (Row *row)
{
  for (guint i = 0; i < row->config->n_jobs; i++)
    g_free (row->jobs[i].id);
  g_free (row->jobs);
  g_hash_table_unref (row->by_id);
  g_clear_object (&row->control);
  g_clear_object (&row->client);
  g_clear_object (&row->network);
  g_clear_object (&row->cancellable);
  g_free (row->failure);
  g_free (row->first_error);
  g_string_free (row->offline_log, TRUE);
  g_free (row);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Row, row_free)

/* The same durations for every row, drawn from the seed in order. */
static Row *
row_new (const OfflineConfig *config,
         const RowSpec       *spec,
         guint                generation,
         const char          *base_url)
{
  Row *row = g_new0 (Row, 1);
  g_autoptr(GRand) rand = g_rand_new_with_seed (config->seed);

  row->config = config;
  row->spec = spec;
  row->generation = generation;
  row->base_url = base_url;
  row->control = soup_session_new ();
  row->network = vt_fake_network_monitor_new ();
  row->cancellable = g_cancellable_new ();
  row->jobs = g_new0 (OfflineJob, config->n_jobs);
  for (guint i = 0; i < config->n_jobs; i++)
    row->jobs[i].duration = config->duration_low +
                            (config->duration_high - config->duration_low) * g_rand_double (rand);
  row->by_id = g_hash_table_new (g_str_hash, g_str_equal);
  row->offline_log = g_string_new (NULL);
  return row;
}

static double
seconds_since_start (const Row *row)
{
  return (g_get_monotonic_time () - row->start_mono_us) / (double) G_USEC_PER_SEC;
}

/* ------------------------------------------------------------------ */
/* Counting the client's requests */

/* Set on each of the client's messages as it is queued. */
typedef struct
{
  guint    generation;
  gboolean offline;     /* already counted as sent while offline */
} RequestMark;

static GQuark
request_mark_quark (void)
{
  return g_quark_from_static_string ("vt-offline-request");
}

/* Counts @msg once as sent while offline, and says what it was. */
static void
note_if_offline (Row         *row,
                 SoupMessage *msg,
                 RequestMark *mark,
                 const char  *event)
{
  g_autofree char *path = NULL;

  if (!row->offline || mark->offline)
    return;
  mark->offline = TRUE;
  row->requests_offline++;
  path = g_uri_to_string_partial (soup_message_get_uri (msg), G_URI_HIDE_PASSWORD);
  g_string_append_printf (row->offline_log, "  %s at +%.3f s: %s %s\n", event,
                          seconds_since_start (row), soup_message_get_method (msg), path);
}

static gboolean
on_request_queued (GSignalInvocationHint *hint,
                   guint                  n_params,
                   const GValue          *params,
                   gpointer               user_data)
{
  Row *row = current_row;
  SoupMessage *msg;
  RequestMark *mark;

  if (row == NULL || g_value_get_object (&params[0]) == (GObject *) row->control)
    return TRUE;
  msg = g_value_get_object (&params[1]);
  mark = g_new0 (RequestMark, 1);
  mark->generation = row->generation;
  g_object_set_qdata_full (G_OBJECT (msg), request_mark_quark (), mark, g_free);
  note_if_offline (row, msg, mark, "queued");
  return TRUE;
}

static gboolean
on_message_starting (GSignalInvocationHint *hint,
                     guint                  n_params,
                     const GValue          *params,
                     gpointer               user_data)
{
  Row *row = current_row;
  SoupMessage *msg = g_value_get_object (&params[0]);
  RequestMark *mark = g_object_get_qdata (G_OBJECT (msg), request_mark_quark ());

  if (row == NULL || mark == NULL || mark->generation != row->generation)
    return TRUE;
  row->requests++;
  note_if_offline (row, msg, mark, "started");
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* Creating the jobs */

/* created_at is the creation instant cut to the millisecond: the middle
 * of that millisecond, in µs of the wall clock. */
static gboolean
parse_created_at (JsonObject *object,
                  gint64     *wall_us)
{
  const char *text = json_object_get_string_member_with_default (object, "created_at", NULL);
  g_autoptr(GDateTime) date = text != NULL ? g_date_time_new_from_iso8601 (text, NULL) : NULL;

  if (date == NULL)
    return FALSE;
  *wall_us = g_date_time_to_unix (date) * G_USEC_PER_SEC + g_date_time_get_microsecond (date) + 500;
  return TRUE;
}

/* POST /jobs {"duration": d}, d the time left until the job's planned
 * end; sets its id and its end. */
static gboolean
create_job (Row        *row,
            OfflineJob *job)
{
  g_autofree char *url = g_strconcat (row->base_url, "/jobs", NULL);
  g_autoptr(SoupMessage) msg = soup_message_new ("POST", url);
  gint64 planned_end_us = row->start_wall_us + (gint64) (job->duration * G_USEC_PER_SEC);
  gint64 duration_us = MAX (1000, planned_end_us - g_get_real_time ());
  char number[G_ASCII_DTOSTR_BUF_SIZE];
  g_autofree char *body = g_strdup_printf ("{\"duration\": %s}",
                                           g_ascii_dtostr (number, sizeof number,
                                                           duration_us / (double) G_USEC_PER_SEC));
  g_autoptr(GBytes) request = g_bytes_new (body, strlen (body));
  g_autoptr(GBytes) answer = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  JsonNode *root;
  JsonObject *object;
  gint64 created_us;

  soup_message_set_request_body_from_bytes (msg, "application/json", request);
  answer = soup_session_send_and_read (row->control, msg, NULL, &error);
  if (answer == NULL || soup_message_get_status (msg) != SOUP_STATUS_CREATED)
    {
      row->failure = g_strdup_printf ("POST /jobs: %s", error != NULL ? error->message
                                                      : soup_message_get_reason_phrase (msg));
      return FALSE;
    }
  if (!json_parser_load_from_data (parser, g_bytes_get_data (answer, NULL),
                                   g_bytes_get_size (answer), NULL) ||
      (root = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_OBJECT (root) ||
      json_object_get_string_member_with_default (object = json_node_get_object (root),
                                                  "id", NULL) == NULL ||
      !parse_created_at (object, &created_us))
    {
      row->failure = g_strdup ("POST /jobs: an answer without an id or a created_at");
      return FALSE;
    }

  job->id = g_strdup (json_object_get_string_member (object, "id"));
  job->end_wall_us = created_us + duration_us;
  g_hash_table_insert (row->by_id, job->id, job);
  return TRUE;
}

/* Every job is created to end its drawn duration after a start a little
 * ahead; following starts then. */
static gboolean
create_jobs (Row *row)
{
  double margin = START_MARGIN_S + START_MARGIN_PER_JOB * row->config->n_jobs;

  row->start_mono_us = g_get_monotonic_time () + (gint64) (margin * G_USEC_PER_SEC);
  row->start_wall_us = g_get_real_time () + (gint64) (margin * G_USEC_PER_SEC);
  for (guint i = 0; i < row->config->n_jobs; i++)
    if (!create_job (row, &row->jobs[i]))
      return FALSE;
  /* Its connections are not the client's. */
  soup_session_abort (row->control);
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* Following */

static gboolean
is_final (VtStatus status)
{
  return status == VT_STATUS_COMPLETED || status == VT_STATUS_ERROR;
}

/* A final status is seen when status-changed tells it, before the
 * watch completes. */
static void
on_status_changed (VtClient   *client,
                   const char *job_id,
                   VtStatus    status,
                   gpointer    user_data)
{
  Row *row = user_data;
  OfflineJob *job = job_id != NULL ? g_hash_table_lookup (row->by_id, job_id) : NULL;

  if (job != NULL && is_final (status) && job->seen_wall_us == 0)
    job->seen_wall_us = g_get_real_time ();
}

typedef struct
{
  Row        *row;
  OfflineJob *job;
} FollowData;

static void
on_followed (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autofree FollowData *data = user_data;
  Row *row = data->row;
  g_autoptr(GError) error = NULL;
  VtStatus status = vt_client_get_status_finish (VT_CLIENT (source), result, &error);

  row->n_following--;
  /* Stopped at the time limit: not one of the row's outcomes. */
  if (row->time_limit_hit)
    return;
  if (error != NULL)
    {
      data->job->outcome = JOB_FAILED;
      row->n_errors++;
      if (row->first_error == NULL)
        row->first_error = g_strdup_printf ("job %s at +%.3f s: %s", data->job->id,
                                            seconds_since_start (row), error->message);
    }
  else if (status == VT_STATUS_TIMEOUT)
    {
      data->job->outcome = JOB_TIMED_OUT;
      row->n_timeouts++;
    }
  else
    data->job->outcome = JOB_DONE;
}

static double
last_end (const OfflineConfig *config)
{
  return MAX (config->duration_high, config->offline_at + config->offline_for);
}

static void
prepare_client (Row *row)
{
  row->client = vt_client_new (row->base_url);
  vt_client_set_strategy (row->client, row->spec->strategy);
  vt_client_set_max_wait_time (row->client,
                               MAX (CLIENT_MAX_WAIT_TIME, 2 * last_end (row->config)));
  vt_client_set_max_attempts (row->client, CLIENT_MAX_ATTEMPTS);
  vt_client_set_start_jitter (row->client, row->config->start_jitter);
  vt_client_set_network_monitor (row->client, G_NETWORK_MONITOR (row->network));
  /* The host's power mode must not stretch the polls. */
  vt_client_set_power_profile_monitor (row->client, NULL);
  g_signal_connect (row->client, "status-changed", G_CALLBACK (on_status_changed), row);
}

/* The row's flag first, then the monitor: what the client sends as it
 * is told counts as sent offline when the network goes, and as sent
 * after the return when it comes back. */
static void
switch_network (Row      *row,
                gboolean  online)
{
  row->offline = !online;
  row->back |= online;
  *(online ? &row->online_wall_us : &row->offline_wall_us) = g_get_real_time ();
  g_printerr ("vt-offline: %s: %s at +%.3f s\n", row->spec->name, online ? "online" : "offline",
              seconds_since_start (row));
  vt_fake_network_monitor_set (row->network, online, online);
}

static gboolean
on_offline_due (gpointer user_data)
{
  switch_network (user_data, FALSE);
  return G_SOURCE_REMOVE;
}

static gboolean
on_online_due (gpointer user_data)
{
  switch_network (user_data, TRUE);
  return G_SOURCE_REMOVE;
}

static gboolean
on_time_limit (gpointer user_data)
{
  ((Row *) user_data)->time_limit_hit = TRUE;
  return G_SOURCE_REMOVE;
}

/* From the start until every job ended and the network is back. */
static void
follow_jobs (Row *row)
{
  const OfflineConfig *config = row->config;
  gint64 offline_us = row->start_mono_us + (gint64) (config->offline_at * G_USEC_PER_SEC);
  gint64 online_us = offline_us + (gint64) (config->offline_for * G_USEC_PER_SEC);
  gint64 limit_us = row->start_mono_us +
                    (gint64) ((last_end (config) + TIME_LIMIT_SLACK) * vt_test_time_scale () *
                              G_USEC_PER_SEC);
  guint limit_source;

  prepare_client (row);
  if (g_get_monotonic_time () < row->start_mono_us)
    vt_bench_wait_until (row->start_mono_us);
  else
    row->late_start_us = g_get_monotonic_time () - row->start_mono_us;

  vt_bench_call_at (offline_us, on_offline_due, row);
  vt_bench_call_at (online_us, on_online_due, row);
  limit_source = vt_bench_call_at (limit_us, on_time_limit, row);

  g_printerr ("vt-offline: %s: following %u jobs\n", row->spec->name, config->n_jobs);
  row->n_following = config->n_jobs;
  for (guint i = 0; i < config->n_jobs; i++)
    {
      FollowData *data = g_new0 (FollowData, 1);

      data->row = row;
      data->job = &row->jobs[i];
      vt_client_get_status_async (row->client, row->jobs[i].id, row->cancellable,
                                  on_followed, data);
    }

  while ((row->n_following > 0 || !row->back) && !row->time_limit_hit)
    g_main_context_iteration (NULL, TRUE);
  if (!row->time_limit_hit)
    {
      g_source_remove (limit_source);
      return;
    }

  /* The watches left end cancelled, their callbacks before the row. */
  row->unfinished = row->n_following;
  g_cancellable_cancel (row->cancellable);
  while (row->n_following > 0)
    g_main_context_iteration (NULL, TRUE);
}

/* ------------------------------------------------------------------ */
/* Figures */

typedef struct
{
  guint  jobs;
  guint  seen;
  guint  seen_offline;   /* told while the network was away */
  double p50, p95, max, min;
} Lateness;

typedef struct
{
  const char *name;
  gboolean    push;
  char       *failure;
  guint       jobs;
  guint       requests_offline;
  guint       before_window;  /* jobs that ended before the outage */
  Lateness    before;
  Lateness    during;
  Lateness    after;
  double      requests_per_job;
  guint       errors;
  guint       timeouts;
  double      late_start;
} RowFigures;

static void
row_figures_clear (RowFigures *figures)
{
  g_free (figures->failure);
}

static void
lateness_finish (Lateness *lateness,
                 GArray   *values)
{
  vt_bench_sort_doubles (values);
  lateness->seen = values->len;
  lateness->min = vt_bench_percentile (values, 0);
  lateness->p50 = vt_bench_percentile (values, 50);
  lateness->p95 = vt_bench_percentile (values, 95);
  lateness->max = vt_bench_percentile (values, 100);
}

/* Which group a job is in: ended before the outage, in it, after it. */
typedef enum {
  ENDED_BEFORE,
  ENDED_OFFLINE,
  ENDED_AFTER,
} EndedWhen;

static EndedWhen
job_ended_when (const OfflineJob *job,
                const Row        *row)
{
  if (job->end_wall_us < row->offline_wall_us)
    return ENDED_BEFORE;
  return job->end_wall_us < row->online_wall_us ? ENDED_OFFLINE : ENDED_AFTER;
}

/* Each job's lateness, from the network's return if it ended while
 * offline, else from its end. */
static void
row_figures_fill (RowFigures *figures,
                  const Row  *row)
{
  Lateness *groups[] = { &figures->before, &figures->during, &figures->after };
  GArray *values[G_N_ELEMENTS (groups)];

  figures->name = row->spec->name;
  figures->push = row->spec->push;
  figures->jobs = row->config->n_jobs;
  figures->requests_offline = row->requests_offline;
  figures->requests_per_job = row->requests / (double) row->config->n_jobs;
  figures->errors = row->n_errors;
  figures->timeouts = row->n_timeouts;
  figures->late_start = row->late_start_us / (double) G_USEC_PER_SEC;

  for (guint g = 0; g < G_N_ELEMENTS (groups); g++)
    values[g] = g_array_new (FALSE, FALSE, sizeof (double));
  for (guint i = 0; i < row->config->n_jobs; i++)
    {
      const OfflineJob *job = &row->jobs[i];
      EndedWhen when = job_ended_when (job, row);
      gint64 from_us = when == ENDED_OFFLINE ? row->online_wall_us : job->end_wall_us;
      double value;

      groups[when]->jobs++;
      if (job->outcome != JOB_DONE || job->seen_wall_us == 0)
        continue;
      if (job->seen_wall_us < row->online_wall_us && when == ENDED_OFFLINE)
        groups[when]->seen_offline++;
      value = (job->seen_wall_us - from_us) / (double) G_USEC_PER_SEC;
      g_array_append_val (values[when], value);
    }
  for (guint g = 0; g < G_N_ELEMENTS (groups); g++)
    {
      lateness_finish (groups[g], values[g]);
      g_array_unref (values[g]);
    }

  if (row->failure != NULL)
    figures->failure = g_strdup (row->failure);
  else if (row->time_limit_hit)
    figures->failure = g_strdup_printf ("time limit: %u of %u jobs unfinished",
                                        row->unfinished, row->config->n_jobs);
}

/* One row on a vt-server of its own, a client of its own. */
static void
run_row (const OfflineConfig *config,
         const RowSpec       *spec,
         guint                generation,
         RowFigures          *figures)
{
  g_autofree char *seed = g_strdup_printf ("%u", config->seed);
  g_autoptr(VtTestServer) server = vt_test_server_start ("--seed", seed, NULL);
  g_autoptr(Row) row = row_new (config, spec, generation, vt_test_server_get_url (server));

  g_printerr ("vt-offline: %s: creating %u jobs on %s\n", spec->name, config->n_jobs,
              row->base_url);
  current_row = row;
  if (create_jobs (row))
    follow_jobs (row);
  row_figures_fill (figures, row);
  current_row = NULL;

  if (row->offline_log->len > 0)
    g_printerr ("vt-offline: %s: %u requests while offline:\n%s", spec->name,
                row->requests_offline, row->offline_log->str);
  if (row->first_error != NULL)
    g_printerr ("vt-offline: %s: first error: %s\n", spec->name, row->first_error);

  /* What the client cancels as it goes is done with before the server. */
  g_clear_object (&row->client);
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

/* ------------------------------------------------------------------ */
/* The table and the verdict */

static char *
format_lateness (const Lateness *lateness)
{
  if (lateness->seen == 0)
    return g_strdup ("-");
  return g_strdup_printf ("%.3f / %.3f / %.3f", lateness->p50, lateness->p95, lateness->max);
}

static void
print_table (const OfflineConfig *config,
             const RowFigures    *rows,
             guint                n_rows)
{
  g_print ("\nOffline for %g s at +%g s: %u jobs, durations %s after the start, seed %u, "
           "start-jitter %g s, a new vt-server --seed %u per row\n\n",
           config->offline_for, config->offline_at, config->n_jobs, config->durations_text,
           config->seed, config->start_jitter, config->seed);
  g_print ("| row | requests while offline | jobs ending offline | of them seen offline "
           "| lateness from the return p50 / p95 / max (s) | jobs ending after the return "
           "| lateness from the end p50 / p95 / max (s) | requests / job | errors | timeouts |\n");
  g_print ("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
  for (guint i = 0; i < n_rows; i++)
    {
      const RowFigures *row = &rows[i];
      g_autofree char *during = format_lateness (&row->during);
      g_autofree char *after = format_lateness (&row->after);

      g_print ("| %s | %u | %u | %u | %s | %u | %s | %.2f | %u | %u |\n",
               row->name, row->requests_offline, row->during.jobs, row->during.seen_offline,
               during, row->after.jobs, after, row->requests_per_job, row->errors,
               row->timeouts);
    }
  g_print ("\n");
  for (guint i = 0; i < n_rows; i++)
    {
      const RowFigures *row = &rows[i];
      g_autofree char *before = format_lateness (&row->before);

      if (row->failure != NULL)
        g_print ("%s: FAILED: %s\n", row->name, row->failure);
      if (row->before.jobs > 0)
        g_print ("%s: %u jobs ended before the outage, lateness p50 / p95 / max %s s\n",
                 row->name, row->before.jobs, before);
      if (row->late_start > 0)
        g_print ("%s: creating the jobs overran its margin; following started %.3f s late\n",
                 row->name, row->late_start);
    }
  g_print ("requests: what the client queued or started (SoupSession request-queued, "
           "SoupMessage starting); lateness: final status seen - the network's return "
           "(jobs ending offline) or - the job's end (the others); below 0: told offline "
           "over a connection the fake outage left open\n");
}

/* Nothing sent while offline; every job seen to end, none before its
 * end, within 1 s of the return or of its end. A poll finds an end that
 * comes after the return on its schedule: its bound is the ordinary
 * one. Stretched under valgrind. */
static gboolean
check_row (const RowFigures *row)
{
  double scale = vt_test_time_scale ();
  double after_bound = (row->push ? TARGET_S : POLL_BOUND_S) * scale;
  const Lateness *groups[] = { &row->before, &row->during, &row->after };
  gboolean ok = TRUE;

  ok &= vt_bench_check (row->failure == NULL, row->name, "%s", row->failure);
  ok &= vt_bench_check (row->requests_offline == 0, row->name, "%u requests while offline",
                        row->requests_offline);
  ok &= vt_bench_check (row->errors == 0 && row->timeouts == 0, row->name,
                        "%u errors, %u timeouts", row->errors, row->timeouts);
  for (guint i = 0; i < G_N_ELEMENTS (groups); i++)
    ok &= vt_bench_check (groups[i]->seen == groups[i]->jobs, row->name,
                          "saw %u of %u jobs end", groups[i]->seen, groups[i]->jobs);
  ok &= vt_bench_check (row->during.seen == 0 || row->during.max <= TARGET_S * scale, row->name,
                        "a job that ended offline seen %.3f s after the return", row->during.max);
  ok &= vt_bench_check (row->after.seen == 0 || row->after.max <= after_bound, row->name,
                        "a job that ended after the return seen %.3f s after its end "
                        "(bound %.1f s)", row->after.max, after_bound);
  ok &= vt_bench_check (row->before.seen == 0 || row->before.max <= after_bound, row->name,
                        "a job that ended before the outage seen %.3f s after its end",
                        row->before.max);
  ok &= vt_bench_check ((row->after.seen == 0 || row->after.min >= -0.01) &&
                        (row->before.seen == 0 || row->before.min >= -0.01), row->name,
                        "a job seen ended before it ended");
  return ok;
}

int
main (int   argc,
      char *argv[])
{
  g_auto(OfflineConfig) config = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree RowFigures *rows = NULL;
  guint queued_hook, starting_hook, queued_id, starting_id;
  gboolean ok = TRUE;

  if (!parse_options (&config, &argc, &argv, &error))
    {
      g_printerr ("vt-offline: %s\n", error->message);
      return 2;
    }

  /* Their signals exist once their classes do. */
  g_type_class_unref (g_type_class_ref (SOUP_TYPE_SESSION));
  g_type_class_unref (g_type_class_ref (SOUP_TYPE_MESSAGE));
  queued_id = g_signal_lookup ("request-queued", SOUP_TYPE_SESSION);
  starting_id = g_signal_lookup ("starting", SOUP_TYPE_MESSAGE);
  queued_hook = g_signal_add_emission_hook (queued_id, 0, on_request_queued, NULL, NULL);
  starting_hook = g_signal_add_emission_hook (starting_id, 0, on_message_starting, NULL, NULL);

  rows = g_new0 (RowFigures, config.rows->len);
  for (guint i = 0; i < config.rows->len; i++)
    run_row (&config, g_ptr_array_index (config.rows, i), i + 1, &rows[i]);

  g_signal_remove_emission_hook (queued_id, queued_hook);
  g_signal_remove_emission_hook (starting_id, starting_hook);

  print_table (&config, rows, config.rows->len);
  for (guint i = 0; i < config.rows->len; i++)
    {
      ok &= rows[i].failure == NULL;
      if (config.check)
        ok &= check_row (&rows[i]);
    }
  if (config.check)
    g_print ("check: %s\n", ok ? "ok" : "FAILED");
  for (guint i = 0; i < config.rows->len; i++)
    row_figures_clear (&rows[i]);
  return ok ? 0 : 1;
}
