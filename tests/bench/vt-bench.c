/* vt-bench.c: what following a job costs, strategy by strategy
 *
 *   vt-bench [--jobs N] [--durations MODEL] [--time-scale F] [--seed N]
 *            [--strategies a,b,c] [--warm-up N] [--burst N]
 *            [--json FILE] [--csv FILE] [--plot FILE.png]
 *
 * Spawns vt-server (a --plain one and a full one with --eta-noise 0.2,
 * through the tests' shared helper), creates the same N jobs for every
 * strategy (durations drawn here from a seeded GRand and sent as each
 * job's "duration"), follows them all at once, and reports per strategy:
 * requests per job, how late the final status was seen (p50/p95/p99), how
 * many watches timed out, and how bursty the requests were.
 *
 * Every duration and every wait is multiplied by --time-scale, so an hour
 * of simulated jobs runs in a minute; every figure printed is divided by
 * it again, i.e. in the seconds the jobs would really take.
 *
 * How requests are counted: an emission hook on SoupMessage::starting
 * sees every request any SoupSession in this process sends, VtClient's
 * private one included, with its timestamp; that gives requests per job
 * and the request-rate windows for every strategy alike. Against the full
 * server, GET /metrics (vt_requests_total) is read before and after each
 * strategy as a cross-check from the server's side. The same hook has each
 * GET collect its metrics, for the bytes of every answer
 * (vt-answer-bytes.h) and of those to polls of jobs that had not changed.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <vtclient.h>

#include "vt-answer-bytes.h"
#include "vt-bench-plot.h"
#include "vt-bench-util.h"
#include "vts-duration-model.h"
#include "vt-test-server.h"

/* The seed's budget; "timed out inside the budget" is measured against it
 * for every strategy, so the column compares like with like. */
#define BUDGET_SECONDS 60.0

/* vt-server listens with GSocket's default backlog of 10: open more
 * connections at once and the kernel drops SYNs, which come back after
 * a 1 s retransmission, 50 s of simulated time at --time-scale 0.02. Keep
 * the bench's own sessions below that; keep-alive reuses them. */
#define CONTROL_CONNS  8
#define BASELINE_CONNS 8

/* Request rates are compared over windows of this many (unscaled) seconds. */
#define RATE_WINDOW_SECONDS 0.1

/* ------------------------------------------------------------------ */
/* Configuration */

typedef enum {
  FOLLOW_SEED,
  FOLLOW_FIXED,
  FOLLOW_GOOGLE,
  FOLLOW_VTCLIENT,
} FollowKind;

typedef struct
{
  const char *name;
  FollowKind  kind;
  gboolean    full_server;    /* else the --plain one */
  const char *strategy_nick;  /* VtClient:strategy, NULL: leave the default */
  const char *summary;
} StrategySpec;

static const StrategySpec strategy_specs[] = {
  { "seed", FOLLOW_SEED, FALSE, NULL,
    "1 s x 2^k +- 0.5 s, 10 attempts, gives up when the next wait passes 60 s" },
  { "fixed-1s", FOLLOW_FIXED, FALSE, NULL,
    "every 1 s, gives up when the next wait passes 60 s" },
  { "google", FOLLOW_GOOGLE, FALSE, NULL,
    "full jitter U[0, min(20, 1.5^k)] s, gives up when the next wait passes 60 s" },
  { "vt-plain", FOLLOW_VTCLIENT, FALSE, NULL,
    "VtClient defaults, --plain server" },
  { "vt-hints", FOLLOW_VTCLIENT, TRUE, "poll",
    "VtClient strategy=poll, full server, --eta-noise 0.2" },
  { "vt-long-poll", FOLLOW_VTCLIENT, TRUE, "long-poll",
    "VtClient strategy=long-poll, full server" },
  { "vt-stream", FOLLOW_VTCLIENT, TRUE, "stream",
    "VtClient strategy=stream, full server" },
  { "vt-auto", FOLLOW_VTCLIENT, TRUE, "auto",
    "VtClient strategy=auto, full server" },
};

typedef struct
{
  guint          n_jobs;
  guint          burst;
  double         start_jitter;   /* unscaled seconds, VtClient only */
  char          *jitter_mode;    /* VtClient's jitter-mode nick, or NULL */
  guint          warm_up;
  guint          warm_up_batch;
  double         time_scale;
  guint32        seed;
  VtsDurationModel durations;
  char          *durations_text;
  GPtrArray     *strategies;  /* const StrategySpec *, in run order */
  char          *json_path;
  char          *csv_path;
  char          *jobs_csv_path;
  GString       *jobs_csv;       /* per-job lines so far, with --jobs-csv */
  char          *plot_path;
} BenchConfig;

static void
bench_config_clear (BenchConfig *config)
{
  g_clear_pointer (&config->durations_text, g_free);
  g_clear_pointer (&config->strategies, g_ptr_array_unref);
  g_clear_pointer (&config->json_path, g_free);
  g_clear_pointer (&config->jitter_mode, g_free);
  g_clear_pointer (&config->csv_path, g_free);
  g_clear_pointer (&config->jobs_csv_path, g_free);
  if (config->jobs_csv != NULL)
    g_string_free (config->jobs_csv, TRUE);
  g_clear_pointer (&config->plot_path, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (BenchConfig, bench_config_clear)

/* ------------------------------------------------------------------ */
/* Timers with microsecond ready times
 *
 * g_timeout_add() rounds to whole milliseconds; at --time-scale 0.02 that
 * is 50 ms of simulated time. A ready-time source is only rounded by the
 * poll() timeout, up, never down. */

static gboolean
ready_source_dispatch (GSource     *source,
                       GSourceFunc  callback,
                       gpointer     user_data)
{
  g_source_set_ready_time (source, -1);
  return callback (user_data);
}

static GSourceFuncs ready_source_funcs = {
  .dispatch = ready_source_dispatch,
};

static void
timeout_add_seconds_precise (double      seconds,
                             GSourceFunc func,
                             gpointer    user_data)
{
  GSource *source = g_source_new (&ready_source_funcs, sizeof (GSource));

  g_source_set_ready_time (source, g_get_monotonic_time () +
                                   (gint64) (MAX (seconds, 0.0) * G_USEC_PER_SEC));
  g_source_set_callback (source, func, user_data, NULL);
  g_source_attach (source, NULL);
  g_source_unref (source);
}

static void
iterate_while_nonzero (const guint *counter)
{
  while (*counter > 0)
    g_main_context_iteration (NULL, TRUE);
}

/* ------------------------------------------------------------------ */
/* Counting requests: every SoupSession in the process, VtClient's too */

static GArray *recorded_requests;  /* gint64 monotonic µs, NULL: not recording */
static GHashTable *recorded_jobs;  /* job id → BenchJob, for requests per job */
static GHashTable *recorded_answers;      /* HTTP status → VtAnswerTally */
static VtAnswerTally *recorded_unchanged; /* answers to polls of unchanged jobs */

static void count_job_request (const char *path);
static void count_job_answer  (SoupMessage *msg,
                               guint        status,
                               guint64      header_bytes,
                               guint64      body_bytes,
                               gpointer     user_data);

static const VtAnswerWatcher answer_watcher = { count_job_answer, NULL };

static gboolean
on_message_starting (GSignalInvocationHint *hint,
                     guint                  n_params,
                     const GValue          *params,
                     gpointer               user_data)
{
  SoupMessage *msg = g_value_get_object (&params[0]);
  const char *path = g_uri_get_path (soup_message_get_uri (msg));
  gint64 now = g_get_monotonic_time ();

  /* The bench's own POST /jobs and /metrics scrapes are not following. */
  if (recorded_requests != NULL &&
      g_str_equal (soup_message_get_method (msg), "GET") &&
      !g_str_equal (path, "/metrics"))
    {
      g_array_append_val (recorded_requests, now);
      count_job_request (path);
      vt_answer_bytes_track (msg, &answer_watcher);
    }

  return TRUE;
}

static void
install_request_hook (void)
{
  GTypeClass *klass = g_type_class_ref (SOUP_TYPE_MESSAGE);

  g_signal_add_emission_hook (g_signal_lookup ("starting", SOUP_TYPE_MESSAGE), 0,
                              on_message_starting, NULL, NULL);
  g_type_class_unref (klass);
}

/* ------------------------------------------------------------------ */
/* Jobs */

typedef struct _Phase Phase;

typedef struct
{
  Phase       *phase;
  char        *id;
  double       duration;      /* unscaled seconds */
  gint64       done_wall_us;  /* when the server finishes it, on its wall clock */
  gint64       seen_wall_us;  /* when the client saw the final status; 0: never */
  int          final_status;  /* a VtStatus; -1 while following, or on failure */
  char        *failure;       /* why following it failed */

  double       server_duration;  /* what the POST asked for, scaled s */
  gint64       post_sent_us;  /* wall clock around the POST, to place created_at */
  gint64       follow_start_mono;  /* when its follower started */
  gint64       follow_start_wall;

  /* Baselines */
  SoupSession *session;
  guint        attempts;
  guint        pending_answers;
  guint        requests;      /* GETs for it, whoever made them */
  guint        said_pending;  /* answers whose ETag said it was pending */

  /* VtClient, in the one-client-per-job mode */
  VtClient    *client;
  gulong       status_handler;
} BenchJob;

/* /jobs/{id} and /jobs/{id}/events both count for job {id}. */
static void
count_job_request (const char *path)
{
  g_autofree char *id = NULL;
  BenchJob *job;

  if (recorded_jobs == NULL || !g_str_has_prefix (path, "/jobs/"))
    return;
  id = g_strdup (path + strlen ("/jobs/"));
  if (strchr (id, '/') != NULL)
    *strchr (id, '/') = '\0';
  job = g_hash_table_lookup (recorded_jobs, id);
  if (job != NULL)
    job->requests++;
}

/* An answer received while recording: its bytes by status and, if it
 * is one, as a poll of a job that had not changed (vt_answer_count()). */
static void
count_job_answer (SoupMessage *msg,
                  guint        status,
                  guint64      header_bytes,
                  guint64      body_bytes,
                  gpointer     user_data)
{
  const char *id = vt_answer_job_id (msg);
  BenchJob *job = id != NULL && recorded_jobs != NULL ? g_hash_table_lookup (recorded_jobs, id) : NULL;

  if (recorded_answers == NULL)
    return;
  vt_answer_count (recorded_answers, recorded_unchanged, job != NULL ? &job->said_pending : NULL,
                   msg, status, header_bytes, body_bytes);
}

static void
bench_job_free (BenchJob *job)
{
  if (job->client != NULL && job->status_handler != 0)
    g_signal_handler_disconnect (job->client, job->status_handler);
  g_clear_object (&job->client);
  g_clear_object (&job->session);
  g_free (job->id);
  g_free (job->failure);
  g_free (job);
}

/* One strategy's run over one batch of jobs. */
struct _Phase
{
  const BenchConfig  *config;
  const StrategySpec *spec;
  const char         *base_url;
  gboolean            per_job_clients;

  GPtrArray          *jobs;         /* BenchJob */
  GHashTable         *by_id;        /* id → BenchJob, borrowed */
  guint               n_busy;       /* jobs being created or followed */
  guint               n_posting;    /* POSTs not answered yet */
  gint64              late_start_us;  /* followers started this late (creation overran) */
  guint               clock_steps;  /* jobs whose created_at our clock disputes */

  SoupSession        *session;      /* shared by the baseline followers */
  VtClient           *client;       /* shared by the VtClient followers */
  GRand              *jitter_rand;  /* the baselines' jitter */
  GCancellable       *cancellable;
  GHashTable         *answers;      /* HTTP status → VtAnswerTally, while recorded */
  VtAnswerTally       unchanged;

  gint64              follow_start_mono;
  gint64              follow_start_wall;
  gint64              follow_end_mono;
};

static Phase *
phase_new (const BenchConfig  *config,
           const StrategySpec *spec,
           const char         *base_url,
           gboolean            per_job_clients)
{
  Phase *phase = g_new0 (Phase, 1);

  phase->config = config;
  phase->spec = spec;
  phase->base_url = base_url;
  phase->per_job_clients = per_job_clients;
  phase->jobs = g_ptr_array_new_with_free_func ((GDestroyNotify) bench_job_free);
  phase->by_id = g_hash_table_new (g_str_hash, g_str_equal);
  phase->jitter_rand = g_rand_new_with_seed (config->seed ^ 0x5eed);
  phase->cancellable = g_cancellable_new ();
  phase->answers = vt_answer_tallies_new ();

  return phase;
}

static void
phase_free (Phase *phase)
{
  g_ptr_array_unref (phase->jobs);
  g_hash_table_unref (phase->by_id);
  g_clear_object (&phase->session);
  g_clear_object (&phase->client);
  g_rand_free (phase->jitter_rand);
  g_object_unref (phase->cancellable);
  g_hash_table_unref (phase->answers);
  g_free (phase);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Phase, phase_free)

static double
scaled (const Phase *phase,
        double       seconds)
{
  return seconds * phase->config->time_scale;
}

/* A session for the bench's own traffic, or for baseline followers: the
 * default of 2 connections per host would queue every job behind two. */
static SoupSession *
bench_session_new (guint max_conns)
{
  return soup_session_new_with_options ("max-conns", max_conns,
                                        "max-conns-per-host", max_conns,
                                        "user-agent", "vt-bench ",
                                        NULL);
}

static JsonObject *
parse_object (GBytes  *body,
              JsonNode **root_out)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  gsize size;
  const char *data = g_bytes_get_data (body, &size);

  if (!json_parser_load_from_data (parser, data, size, NULL))
    return NULL;
  *root_out = json_parser_steal_root (parser);
  if (*root_out == NULL || !JSON_NODE_HOLDS_OBJECT (*root_out))
    return NULL;
  return json_node_get_object (*root_out);
}

/* created_at has millisecond precision; the POST's round trip brackets the
 * same instant from our side. Both are on this machine's wall clock, so
 * the tighter intersection of the two places the job's start best. */
static gint64
place_created_at (const char *created_at,
                  gint64      sent_us,
                  gint64      received_us,
                  gboolean   *clock_stepped)
{
  g_autoptr(GDateTime) date = g_date_time_new_from_iso8601 (created_at, NULL);
  gint64 low, high;

  if (date == NULL)
    {
      *clock_stepped = TRUE;
      return (sent_us + received_us) / 2;
    }

  low = g_date_time_to_unix (date) * G_USEC_PER_SEC + g_date_time_get_microsecond (date);
  high = low + 1000;
  /* Outside the round trip: the wall clock stepped, and this job's
   * delay is off by the step. Say so rather than hide it. */
  if (high < sent_us || low > received_us)
    {
      *clock_stepped = TRUE;
      return low + 500;
    }
  low = MAX (low, sent_us);
  high = MIN (high, received_us);
  return (low + high) / 2;
}

static void bench_job_end    (BenchJob   *job,
                              int         status,
                              const char *failure);
static void bench_job_follow (BenchJob   *job);

static void
on_job_created (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  BenchJob *job = user_data;
  Phase *phase = job->phase;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (source), result);
  gint64 received_us = g_get_real_time ();
  g_autoptr(JsonNode) root = NULL;
  JsonObject *object;
  gboolean clock_stepped = FALSE;

  phase->n_posting--;

  if (body == NULL || soup_message_get_status (msg) != SOUP_STATUS_CREATED ||
      (object = parse_object (body, &root)) == NULL ||
      !json_object_has_member (object, "id") ||
      !json_object_has_member (object, "created_at"))
    {
      g_autofree char *failure = g_strdup_printf ("POST /jobs failed: %s",
                                                  error != NULL ? error->message
                                                                : soup_message_get_reason_phrase (msg));
      bench_job_end (job, -1, failure);
      return;
    }

  job->id = g_strdup (json_object_get_string_member (object, "id"));
  job->done_wall_us = place_created_at (json_object_get_string_member (object, "created_at"),
                                        job->post_sent_us, received_us,
                                        &clock_stepped) +
                      (gint64) (job->server_duration * G_USEC_PER_SEC);
  g_hash_table_insert (phase->by_id, job->id, job);
  if (clock_stepped)
    phase->clock_steps++;
}

/* Draws @n jobs' durations from @rand; they exist here only, so far. */
static void
phase_add_jobs (Phase *phase,
                GRand *rand,
                guint  n)
{
  for (guint i = 0; i < n; i++)
    {
      BenchJob *job = g_new0 (BenchJob, 1);

      job->phase = phase;
      job->final_status = -1;
      job->duration = vts_duration_model_sample (&phase->config->durations, rand);
      g_ptr_array_add (phase->jobs, job);
    }
}

static gboolean
on_watchdog (gpointer user_data)
{
  Phase *phase = user_data;

  g_cancellable_cancel (phase->cancellable);
  return G_SOURCE_REMOVE;
}

static gboolean
on_start_instant (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Every follower of the phase starts in the same main-loop iteration, so
 * "all clients start at once" is exact, not as close as the POSTs: each
 * job is created ahead of that instant, with its duration stretched by
 * the time left until then, so it ends its drawn duration after it. */
static void
phase_start_followers (Phase *phase,
                       gint64 start_mono)
{
  gboolean now = FALSE;

  if (start_mono > g_get_monotonic_time ())
    {
      timeout_add_seconds_precise ((start_mono - g_get_monotonic_time ()) / (double) G_USEC_PER_SEC,
                                   on_start_instant, &now);
      while (!now)
        g_main_context_iteration (NULL, TRUE);
    }
  else
    phase->late_start_us = g_get_monotonic_time () - start_mono;

  phase->follow_start_mono = g_get_monotonic_time ();
  phase->follow_start_wall = g_get_real_time ();
  for (guint i = 0; i < phase->jobs->len; i++)
    {
      BenchJob *job = g_ptr_array_index (phase->jobs, i);

      if (job->id != NULL && job->failure == NULL)
        bench_job_follow (job);
    }
}

/* Creating a job takes one to two milliseconds here, with a thousand
 * clients set up; leave room for twice that. */
static double
creation_margin_seconds (guint n_jobs)
{
  return 0.1 + 0.004 * n_jobs;
}

/* POSTs every job, then starts every follower at one instant. */
static void
phase_run (Phase       *phase,
           SoupSession *control,
           GArray      *requests)
{
  g_autofree char *url = g_strconcat (phase->base_url, "/jobs", NULL);
  gint64 margin_us = (gint64) (creation_margin_seconds (phase->jobs->len) * G_USEC_PER_SEC);
  gint64 start_mono = g_get_monotonic_time () + margin_us;
  gint64 start_wall = g_get_real_time () + margin_us;
  double longest = 0;
  guint watchdog;

  for (guint i = 0; i < phase->jobs->len; i++)
    longest = MAX (longest, ((BenchJob *) g_ptr_array_index (phase->jobs, i))->duration);

  /* Generous: whatever a strategy does, a run that outlives both the
   * budget and the longest job several times over is stuck. */
  watchdog = g_timeout_add ((guint) (1000 * (10.0 + 3 * scaled (phase, MAX (longest, BUDGET_SECONDS)))),
                            on_watchdog, phase);

  phase->n_busy = phase->jobs->len;
  phase->n_posting = phase->jobs->len;

  for (guint i = 0; i < phase->jobs->len; i++)
    {
      BenchJob *job = g_ptr_array_index (phase->jobs, i);
      g_autoptr(SoupMessage) msg = soup_message_new ("POST", url);
      g_autoptr(GBytes) bytes = NULL;
      char *body;
      char number[G_ASCII_DTOSTR_BUF_SIZE];

      job->post_sent_us = g_get_real_time ();
      job->server_duration = scaled (phase, job->duration) +
                             MAX (start_wall - job->post_sent_us, 0) / (double) G_USEC_PER_SEC;
      body = g_strdup_printf ("{\"source_url\": \"bench://%s/%u\", \"target_language\": \"fr\", "
                              "\"duration\": %s}",
                              phase->spec->name, i,
                              g_ascii_dtostr (number, sizeof number, job->server_duration));
      bytes = g_bytes_new_take (body, strlen (body));
      soup_message_set_request_body_from_bytes (msg, "application/json", bytes);
      soup_session_send_and_read_async (control, msg, G_PRIORITY_DEFAULT, NULL,
                                        on_job_created, job);
    }

  iterate_while_nonzero (&phase->n_posting);

  recorded_requests = requests;
  recorded_jobs = phase->by_id;
  recorded_answers = requests != NULL ? phase->answers : NULL;
  recorded_unchanged = &phase->unchanged;
  phase_start_followers (phase, start_mono);
  iterate_while_nonzero (&phase->n_busy);
  recorded_requests = NULL;
  /* The last answers' messages finish after their watches complete. */
  for (guint i = 0; i < 100 && g_main_context_pending (NULL); i++)
    g_main_context_iteration (NULL, FALSE);
  recorded_jobs = NULL;
  recorded_answers = NULL;
  recorded_unchanged = NULL;

  if (!g_cancellable_is_cancelled (phase->cancellable))
    g_source_remove (watchdog);
}

static void
bench_job_end (BenchJob   *job,
               int         status,
               const char *failure)
{
  if (job->final_status != -1 || job->failure != NULL)
    return;

  job->final_status = status;
  job->failure = g_strdup (failure);
  job->phase->n_busy--;
  if (job->phase->n_busy == 0)
    job->phase->follow_end_mono = g_get_monotonic_time ();
}

static gboolean
is_terminal (int status)
{
  return status == VT_STATUS_COMPLETED || status == VT_STATUS_ERROR;
}

/* ------------------------------------------------------------------ */
/* The baselines: plain GET /jobs/{id} on a schedule, as naive clients do */

/* The k-th wait (from 0) after a "pending" answer, in unscaled seconds. */
static double
baseline_next_wait (FollowKind  kind,
                    guint       k,
                    GRand      *rand)
{
  switch (kind)
    {
    case FOLLOW_SEED:
      /* The seed: 1 s × 2^k, ± 0.5 s uniform, never below zero. */
      return MAX (0.0, ldexp (1.0, (int) MIN (k, 60)) + g_rand_double_range (rand, -0.5, 0.5));
    case FOLLOW_GOOGLE:
      /* api-core style: initial 1 s, × 1.5 per wait, capped at 20 s, and
       * "full jitter", a uniform draw below the capped delay. */
      return g_rand_double_range (rand, 0.0, MIN (20.0, pow (1.5, k)));
    case FOLLOW_FIXED:
    case FOLLOW_VTCLIENT:
    default:
      return 1.0;
    }
}

static guint
baseline_max_attempts (FollowKind kind)
{
  return kind == FOLLOW_SEED ? 10 : G_MAXUINT;
}

static void baseline_request (BenchJob *job);

static gboolean
baseline_on_timer (gpointer user_data)
{
  BenchJob *job = user_data;

  if (g_cancellable_is_cancelled (job->phase->cancellable))
    bench_job_end (job, -1, "stopped: the run took too long");
  else
    baseline_request (job);

  return G_SOURCE_REMOVE;
}

/* Waits for the next attempt, or gives up as the seed does: when the
 * attempts are spent or the next wait would end past the budget. */
static void
baseline_schedule_next (BenchJob *job)
{
  Phase *phase = job->phase;
  double wait = baseline_next_wait (phase->spec->kind, job->pending_answers, phase->jitter_rand);
  double elapsed = (g_get_monotonic_time () - job->follow_start_mono) /
                   (double) G_USEC_PER_SEC / phase->config->time_scale;

  job->pending_answers++;
  if (job->attempts >= baseline_max_attempts (phase->spec->kind) ||
      elapsed + wait > BUDGET_SECONDS)
    {
      bench_job_end (job, VT_STATUS_TIMEOUT, NULL);
      return;
    }

  timeout_add_seconds_precise (scaled (phase, wait), baseline_on_timer, job);
}

static int
parse_job_status (GBytes *body)
{
  g_autoptr(JsonNode) root = NULL;
  JsonObject *object = parse_object (body, &root);
  const char *text = NULL;

  if (object == NULL)
    return -1;
  if (json_object_has_member (object, "result"))
    text = json_object_get_string_member (object, "result");
  else if (json_object_has_member (object, "status"))
    text = json_object_get_string_member (object, "status");

  if (g_strcmp0 (text, "pending") == 0)
    return VT_STATUS_PENDING;
  if (g_strcmp0 (text, "completed") == 0)
    return VT_STATUS_COMPLETED;
  if (g_strcmp0 (text, "error") == 0)
    return VT_STATUS_ERROR;
  return -1;
}

static void
baseline_on_answer (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  BenchJob *job = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (source), result);
  gint64 now_wall = g_get_real_time ();
  int status = -1;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      bench_job_end (job, -1, "stopped: the run took too long");
      return;
    }

  /* A failed request is one more attempt, and the schedule goes on, as
   * the seed's retry loop did. */
  if (body != NULL && SOUP_STATUS_IS_SUCCESSFUL (soup_message_get_status (msg)))
    status = parse_job_status (body);

  if (is_terminal (status))
    {
      job->seen_wall_us = now_wall;
      bench_job_end (job, status, NULL);
      return;
    }

  baseline_schedule_next (job);
}

static void
baseline_request (BenchJob *job)
{
  Phase *phase = job->phase;
  g_autofree char *url = g_strconcat (phase->base_url, "/jobs/", job->id, NULL);
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);
  SoupSession *session = job->session != NULL ? job->session : phase->session;

  job->attempts++;
  soup_session_send_and_read_async (session, msg, G_PRIORITY_DEFAULT, phase->cancellable,
                                    baseline_on_answer, job);
}

/* ------------------------------------------------------------------ */
/* VtClient */

/* Sets a double property in seconds to its default × the time scale, if
 * this version of VtClient has it: the bench runs against a library that
 * is still growing, and says so rather than failing to build. */
static void
scale_client_property (VtClient   *client,
                       const char *name,
                       double      time_scale)
{
  GParamSpec *pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (client), name);
  double value;

  if (pspec == NULL || G_PARAM_SPEC_VALUE_TYPE (pspec) != G_TYPE_DOUBLE)
    return;

  g_object_get (client, name, &value, NULL);
  value = MAX (value * time_scale, G_PARAM_SPEC_DOUBLE (pspec)->minimum);
  g_object_set (client, name, value, NULL);
}

static VtClient *
bench_client_new (const Phase  *phase,
                  GError      **error)
{
  static const char * const timed[] = {
    "initial-wait-time", "max-wait-time", "jitter",
    "min-interval", "max-interval", "request-timeout",
  };
  g_autoptr(VtClient) client = vt_client_new (phase->base_url);
  const char *nick = phase->spec->strategy_nick;

  for (guint i = 0; i < G_N_ELEMENTS (timed); i++)
    scale_client_property (client, timed[i], phase->config->time_scale);

  if (phase->config->jitter_mode != NULL)
    {
      GEnumClass *modes = g_type_class_ref (VT_TYPE_JITTER_MODE);
      GEnumValue *mode = g_enum_get_value_by_nick (modes, phase->config->jitter_mode);

      if (mode == NULL)
        {
          g_type_class_unref (modes);
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       "unknown jitter mode “%s” (symmetric, full)", phase->config->jitter_mode);
          return NULL;
        }
      g_object_set (client, "jitter-mode", mode->value, NULL);
      g_type_class_unref (modes);
    }

  /* Spreading the first requests is the caller's choice (the default asks
   * at once): --start-jitter makes it for the burst scenario. */
  if (phase->config->start_jitter > 0)
    g_object_set (client, "start-jitter",
                  phase->config->start_jitter * phase->config->time_scale, NULL);

  if (nick != NULL)
    {
      GParamSpec *pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (client), "strategy");
      GEnumValue *value = NULL;

      if (pspec != NULL && G_IS_PARAM_SPEC_ENUM (pspec))
        value = g_enum_get_value_by_nick (G_PARAM_SPEC_ENUM (pspec)->enum_class, nick);
      if (value == NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                       "this VtClient has no \"strategy\" property with a \"%s\" value", nick);
          return NULL;
        }
      g_object_set (client, "strategy", value->value, NULL);
    }

  return g_steal_pointer (&client);
}

static void
vt_on_status_changed (VtClient   *client,
                      const char *job_id,
                      VtStatus    status,
                      gpointer    user_data)
{
  Phase *phase = user_data;
  BenchJob *job = job_id != NULL ? g_hash_table_lookup (phase->by_id, job_id) : NULL;

  /* The signal comes before the task completes: the earliest moment the
   * caller can know. */
  if (job != NULL && is_terminal (status) && job->seen_wall_us == 0)
    job->seen_wall_us = g_get_real_time ();
}

static void
vt_on_done (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  BenchJob *job = user_data;
  g_autoptr(GError) error = NULL;
  VtStatus status = vt_client_get_status_finish (VT_CLIENT (source), result, &error);

  if (error != NULL)
    {
      bench_job_end (job, -1, error->message);
      return;
    }
  if (is_terminal (status) && job->seen_wall_us == 0)
    job->seen_wall_us = g_get_real_time ();
  bench_job_end (job, status, NULL);
}

/* ------------------------------------------------------------------ */
/* Running a phase */

static gboolean
phase_prepare_followers (Phase   *phase,
                         GError **error)
{
  if (phase->spec->kind != FOLLOW_VTCLIENT)
    {
      if (phase->per_job_clients)
        for (guint i = 0; i < phase->jobs->len; i++)
          ((BenchJob *) g_ptr_array_index (phase->jobs, i))->session = bench_session_new (4);
      else
        phase->session = bench_session_new (BASELINE_CONNS);
      return TRUE;
    }

  if (!phase->per_job_clients)
    {
      phase->client = bench_client_new (phase, error);
      if (phase->client == NULL)
        return FALSE;
      g_signal_connect (phase->client, "status-changed", G_CALLBACK (vt_on_status_changed), phase);
      return TRUE;
    }

  for (guint i = 0; i < phase->jobs->len; i++)
    {
      BenchJob *job = g_ptr_array_index (phase->jobs, i);

      job->client = bench_client_new (phase, error);
      if (job->client == NULL)
        return FALSE;
      job->status_handler = g_signal_connect (job->client, "status-changed",
                                              G_CALLBACK (vt_on_status_changed), phase);
    }
  return TRUE;
}


static void
bench_job_follow (BenchJob *job)
{
  Phase *phase = job->phase;

  job->follow_start_mono = g_get_monotonic_time ();
  job->follow_start_wall = g_get_real_time ();

  if (phase->spec->kind != FOLLOW_VTCLIENT)
    baseline_request (job);
  else
    vt_client_get_status_async (job->client != NULL ? job->client : phase->client,
                                job->id, phase->cancellable, vt_on_done, job);
}

/* ------------------------------------------------------------------ */
/* The server's own count */

/* Requests answered on the routes that follow jobs: everything but
 * POST /jobs and /metrics. -1 when the server has no /metrics (--plain). */
static gint64
scrape_follow_requests (SoupSession *control,
                        const char  *base_url)
{
  g_autofree char *url = g_strconcat (base_url, "/metrics", NULL);
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);
  g_autoptr(GBytes) body = soup_session_send_and_read (control, msg, NULL, NULL);
  g_auto(GStrv) lines = NULL;
  gint64 total = 0;

  if (body == NULL || soup_message_get_status (msg) != SOUP_STATUS_OK)
    return -1;

  lines = g_strsplit (g_bytes_get_data (body, NULL) != NULL ? g_bytes_get_data (body, NULL) : "",
                      "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *prefix = "vt_requests_total{route=\"";
      const char *value;

      if (!g_str_has_prefix (lines[i], prefix) ||
          g_str_has_prefix (lines[i] + strlen (prefix), "/jobs\"") ||
          g_str_has_prefix (lines[i] + strlen (prefix), "/metrics\""))
        continue;
      value = strrchr (lines[i], ' ');
      if (value != NULL)
        total += g_ascii_strtoll (value + 1, NULL, 10);
    }
  return total;
}

/* ------------------------------------------------------------------ */
/* Results */

typedef struct
{
  const StrategySpec *spec;
  gboolean  plain_server;
  guint     n_jobs;
  char     *failure;             /* why the row has no figures, or NULL */
  char     *note;                /* a partial failure, or NULL */

  double    requests_per_job;    /* counted in this process */
  double    server_requests_per_job;  /* from /metrics, or NAN */
  double    p50, p95, p99, max;  /* detection delay, unscaled s, NAN: none seen */
  double    p95_relative;        /* of delay / the job's duration, in % */
  guint     seen;
  guint     timeouts;
  guint     timeouts_in_budget;
  guint     failed;
  guint     clock_steps;         /* jobs placed by a disputed created_at */
  double    late_start;          /* real s the followers started after the planned instant */
  guint     peak_window;         /* requests in the busiest window */
  double    mean_window;         /* requests per window on average */
  double    peak_to_mean;
  double    real_seconds;        /* how long following took here */
  GHashTable *answers;           /* HTTP status → VtAnswerTally, or NULL */
  guint     unchanged_polls;
  double    bytes_per_unchanged_poll;  /* NAN: none */
} BenchRow;

static void
bench_row_free (BenchRow *row)
{
  g_free (row->failure);
  g_free (row->note);
  g_clear_pointer (&row->answers, g_hash_table_unref);
  g_free (row);
}

static BenchRow *
bench_row_new (const StrategySpec *spec,
               guint               n_jobs)
{
  BenchRow *row = g_new0 (BenchRow, 1);

  row->spec = spec;
  row->plain_server = !spec->full_server;
  row->n_jobs = n_jobs;
  row->server_requests_per_job = NAN;
  row->p50 = row->p95 = row->p99 = row->max = row->p95_relative = NAN;
  row->peak_to_mean = NAN;
  row->bytes_per_unchanged_poll = NAN;
  return row;
}

/* How late the final status was seen, in unscaled seconds. */
static double
bench_job_delay (const BenchJob *job)
{
  return (job->seen_wall_us - job->done_wall_us) /
         (double) G_USEC_PER_SEC / job->phase->config->time_scale;
}

static void
bench_row_add_delays (BenchRow    *row,
                      const Phase *phase)
{
  g_autoptr(GArray) delays = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) relative = g_array_new (FALSE, FALSE, sizeof (double));
  gint64 budget = (gint64) (scaled (phase, BUDGET_SECONDS) * G_USEC_PER_SEC);

  for (guint i = 0; i < phase->jobs->len; i++)
    {
      BenchJob *job = g_ptr_array_index (phase->jobs, i);

      if (job->failure != NULL)
        {
          if (row->failed++ == 0)
            row->note = g_strdup (job->failure);
          continue;
        }
      if (job->final_status == VT_STATUS_TIMEOUT)
        {
          row->timeouts++;
          if (job->done_wall_us <= job->follow_start_wall + budget)
            row->timeouts_in_budget++;
        }
      if (job->seen_wall_us != 0)
        {
          double delay = bench_job_delay (job);
          double share = 100.0 * delay / job->duration;

          g_array_append_val (delays, delay);
          g_array_append_val (relative, share);
        }
    }

  vt_bench_sort_doubles (delays);
  vt_bench_sort_doubles (relative);
  row->p95_relative = vt_bench_percentile (relative, 95);
  row->clock_steps = phase->clock_steps;
  row->late_start = phase->late_start_us / (double) G_USEC_PER_SEC;
  row->seen = delays->len;
  row->p50 = vt_bench_percentile (delays, 50);
  row->p95 = vt_bench_percentile (delays, 95);
  row->p99 = vt_bench_percentile (delays, 99);
  row->max = vt_bench_percentile (delays, 100);
}

/* Counts requests in windows of RATE_WINDOW_SECONDS (unscaled) from the
 * moment every follower started; the mean runs to the last request. */
static void
bench_row_add_rate (BenchRow    *row,
                    const Phase *phase,
                    GArray      *requests)
{
  gint64 window_us = MAX (1, (gint64) (scaled (phase, RATE_WINDOW_SECONDS) * G_USEC_PER_SEC));
  g_autofree guint *counts = NULL;
  guint n_windows = 0;

  row->requests_per_job = requests->len / (double) MAX (phase->jobs->len, 1);
  row->real_seconds = (phase->follow_end_mono - phase->follow_start_mono) / (double) G_USEC_PER_SEC;
  if (requests->len == 0)
    return;

  for (guint i = 0; i < requests->len; i++)
    n_windows = MAX (n_windows, (guint) ((g_array_index (requests, gint64, i) -
                                          phase->follow_start_mono) / window_us) + 1);
  counts = g_new0 (guint, n_windows);
  for (guint i = 0; i < requests->len; i++)
    counts[(g_array_index (requests, gint64, i) - phase->follow_start_mono) / window_us]++;

  for (guint i = 0; i < n_windows; i++)
    row->peak_window = MAX (row->peak_window, counts[i]);
  row->mean_window = requests->len / (double) n_windows;
  row->peak_to_mean = row->peak_window / row->mean_window;
}

/* ------------------------------------------------------------------ */
/* One strategy, end to end */

typedef struct
{
  VtTestServer *plain;
  VtTestServer *full;
  SoupSession  *control;
} BenchServers;

/* The learned model needs finished jobs to learn from: follow a few with
 * the same client before measuring, --warm-up-batch at a time (one after
 * another by default, as an application that translates one video at a
 * time: each job can then use what the earlier ones taught). Not
 * recorded. */
static gboolean
warm_up_client (const BenchConfig  *config,
                const StrategySpec *spec,
                const char         *base_url,
                SoupSession        *control,
                VtClient           *client,
                GError            **error)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (config->seed + 1);

  for (guint done = 0; done < config->warm_up; done += config->warm_up_batch)
    {
      g_autoptr(Phase) phase = phase_new (config, spec, base_url, FALSE);
      gulong handler;

      phase_add_jobs (phase, rand, MIN (config->warm_up_batch, config->warm_up - done));
      phase->client = g_object_ref (client);
      handler = g_signal_connect (client, "status-changed", G_CALLBACK (vt_on_status_changed), phase);
      phase_run (phase, control, NULL);
      g_signal_handler_disconnect (client, handler);

      for (guint i = 0; i < phase->jobs->len; i++)
        {
          BenchJob *job = g_ptr_array_index (phase->jobs, i);

          if (job->failure != NULL)
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "warm-up: %s", job->failure);
              return FALSE;
            }
        }
    }
  return TRUE;
}

/* One line per job: what it took to follow, in unscaled seconds. */
static void
append_jobs_csv (GString     *out,
                 const Phase *phase)
{
  for (guint i = 0; i < phase->jobs->len; i++)
    {
      BenchJob *job = g_ptr_array_index (phase->jobs, i);
      char number[G_ASCII_DTOSTR_BUF_SIZE];

      g_string_append_printf (out, "%s,%s,%u,", phase->spec->name,
                              g_ascii_formatd (number, sizeof number, "%.4f", job->duration),
                              job->requests);
      if (job->seen_wall_us != 0)
        g_string_append (out, g_ascii_formatd (number, sizeof number, "%.4f", bench_job_delay (job)));
      g_string_append_printf (out, ",%s\n",
                              job->failure != NULL ? "failed" :
                              job->final_status == VT_STATUS_TIMEOUT ? "timeout" :
                              job->final_status == VT_STATUS_ERROR ? "error" : "completed");
    }
}

static BenchRow *
run_strategy (const BenchConfig  *config,
              const StrategySpec *spec,
              BenchServers       *servers,
              guint               n_jobs,
              gboolean            burst)
{
  BenchRow *row = bench_row_new (spec, n_jobs);
  const char *base_url = vt_test_server_get_url (spec->full_server ? servers->full : servers->plain);
  g_autoptr(Phase) phase = phase_new (config, spec, base_url, burst);
  /* The same seed for every strategy: the same durations, in order. */
  g_autoptr(GRand) rand = g_rand_new_with_seed (config->seed);
  g_autoptr(GArray) requests = g_array_sized_new (FALSE, FALSE, sizeof (gint64), n_jobs * 8);
  g_autoptr(GError) error = NULL;
  gint64 before, after;

  phase_add_jobs (phase, rand, n_jobs);
  if (!phase_prepare_followers (phase, &error) ||
      (spec->kind == FOLLOW_VTCLIENT && !burst && config->warm_up > 0 &&
       !warm_up_client (config, spec, base_url, servers->control, phase->client, &error)))
    {
      row->failure = g_strdup (error->message);
      return row;
    }

  before = scrape_follow_requests (servers->control, base_url);
  g_printerr ("vt-bench: %s: following %u jobs\n", spec->name, n_jobs);
  phase_run (phase, servers->control, requests);
  after = scrape_follow_requests (servers->control, base_url);

  if (before >= 0 && after >= 0)
    row->server_requests_per_job = (after - before) / (double) n_jobs;
  bench_row_add_delays (row, phase);
  bench_row_add_rate (row, phase, requests);
  row->answers = g_hash_table_ref (phase->answers);
  row->unchanged_polls = phase->unchanged.count;
  row->bytes_per_unchanged_poll = vt_answer_tally_mean (&phase->unchanged);
  if (config->jobs_csv != NULL)
    append_jobs_csv (config->jobs_csv, phase);
  if (row->failed == n_jobs)
    row->failure = g_strdup_printf ("every watch failed: %s", row->note);

  return row;
}

/* ------------------------------------------------------------------ */
/* Output */

static void
format_number (char   *buf,
               gsize   size,
               double  value,
               int     decimals)
{
  if (isnan (value))
    g_strlcpy (buf, "-", size);
  else
    g_snprintf (buf, size, "%.*f", decimals, value);
}

static void
print_table (const BenchConfig *config,
             GPtrArray         *rows,
             gboolean           burst)
{
  g_print ("\n%s: %u jobs, durations %s, time scale %g, seed %u%s\n"
           "(seconds are unscaled; delay = final status seen - job finished on the server)\n\n",
           burst ? "Burst" : "Follow",
           burst ? config->burst : config->n_jobs, config->durations_text,
           config->time_scale, config->seed,
           burst ? ", one client per job" : ", one client per strategy");
  g_print ("%-13s %-6s %8s %8s %7s %7s %7s %7s %6s %12s %6s %9s %6s\n",
           "strategy", "server", "req/job", "(server)", "p50 s", "p95 s", "p99 s", "max s",
           "p95 %", "timeouts b/a", "failed", "peak/mean", "B/unch");

  for (guint i = 0; i < rows->len; i++)
    {
      BenchRow *row = g_ptr_array_index (rows, i);
      char req[32], srv[32], p50[32], p95[32], p99[32], max[32], rel[32], peak[32], unch[32];

      if (row->failure != NULL)
        {
          g_print ("%-13s %-6s  not measured: %s\n", row->spec->name,
                   row->plain_server ? "plain" : "full", row->failure);
          continue;
        }
      format_number (req, sizeof req, row->requests_per_job, 2);
      format_number (srv, sizeof srv, row->server_requests_per_job, 2);
      format_number (p50, sizeof p50, row->p50, 2);
      format_number (p95, sizeof p95, row->p95, 2);
      format_number (p99, sizeof p99, row->p99, 2);
      format_number (max, sizeof max, row->max, 2);
      format_number (rel, sizeof rel, row->p95_relative, 1);
      format_number (peak, sizeof peak, row->peak_to_mean, 1);
      format_number (unch, sizeof unch, row->bytes_per_unchanged_poll, 0);
      g_print ("%-13s %-6s %8s %8s %7s %7s %7s %7s %6s %5u/%-6u %6u %9s %6s\n",
               row->spec->name, row->plain_server ? "plain" : "full",
               req, srv, p50, p95, p99, max, rel,
               row->timeouts_in_budget, row->timeouts, row->failed, peak, unch);
    }

  for (guint i = 0; i < rows->len; i++)
    {
      BenchRow *row = g_ptr_array_index (rows, i);

      if (row->failure == NULL && row->note != NULL)
        g_print ("note: %s: %u watches failed, first: %s\n", row->spec->name, row->failed, row->note);
      if (row->late_start > 0)
        g_print ("note: %s: creating the jobs overran its margin; the followers started %.3f s (real)"
                 " late, and every job was that much closer to its end\n",
                 row->spec->name, row->late_start);
      if (row->clock_steps > 0)
        g_print ("note: %s: for %u jobs the server's created_at fell outside the POST's round trip:"
                 " the wall clock stepped, their delays are off by the step\n",
                 row->spec->name, row->clock_steps);
    }
  g_print ("\np95 %%: the 95th percentile of each job's delay as a share of its duration\n"
           "timeouts b/a: timed out although the job ended within the %.0f s budget / all timeouts\n"
           "peak/mean: busiest %.0f ms window over the mean window, from the moment all clients start\n"
           "B/unch: bytes received (status line, headers, body) per answer to a poll of a job an\n"
           "earlier answer said was pending and that still is (by its ETag: none on the plain server)\n",
           BUDGET_SECONDS, RATE_WINDOW_SECONDS * 1000);
}

static void
add_double_member (JsonBuilder *builder,
                   const char  *name,
                   double       value)
{
  json_builder_set_member_name (builder, name);
  if (isnan (value))
    json_builder_add_null_value (builder);
  else
    json_builder_add_double_value (builder, value);
}

static void
add_int_member (JsonBuilder *builder,
                const char  *name,
                gint64       value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_int_value (builder, value);
}

static void
add_string_member (JsonBuilder *builder,
                   const char  *name,
                   const char  *value)
{
  json_builder_set_member_name (builder, name);
  if (value == NULL)
    json_builder_add_null_value (builder);
  else
    json_builder_add_string_value (builder, value);
}

static void
add_row_json (JsonBuilder    *builder,
              const BenchRow *row)
{
  json_builder_begin_object (builder);
  add_string_member (builder, "strategy", row->spec->name);
  add_string_member (builder, "description", row->spec->summary);
  add_string_member (builder, "server", row->plain_server ? "plain" : "full");
  add_int_member (builder, "jobs", row->n_jobs);
  add_string_member (builder, "failure", row->failure);
  add_string_member (builder, "note", row->note);
  add_double_member (builder, "requests_per_job", row->failure ? NAN : row->requests_per_job);
  add_double_member (builder, "server_requests_per_job", row->server_requests_per_job);
  add_double_member (builder, "delay_p50", row->p50);
  add_double_member (builder, "delay_p95", row->p95);
  add_double_member (builder, "delay_p99", row->p99);
  add_double_member (builder, "delay_max", row->max);
  add_double_member (builder, "delay_p95_percent_of_duration", row->p95_relative);
  add_int_member (builder, "seen", row->seen);
  add_int_member (builder, "timeouts", row->timeouts);
  add_int_member (builder, "timeouts_in_budget", row->timeouts_in_budget);
  add_int_member (builder, "failed", row->failed);
  add_int_member (builder, "clock_steps", row->clock_steps);
  add_int_member (builder, "peak_window_requests", row->peak_window);
  add_double_member (builder, "mean_window_requests", row->failure ? NAN : row->mean_window);
  add_double_member (builder, "peak_to_mean", row->peak_to_mean);
  add_double_member (builder, "real_seconds", row->failure ? NAN : row->real_seconds);
  add_int_member (builder, "unchanged_polls", row->unchanged_polls);
  add_double_member (builder, "bytes_per_unchanged_poll", row->bytes_per_unchanged_poll);
  json_builder_set_member_name (builder, "answers");
  if (row->answers != NULL)
    json_builder_add_value (builder, json_node_init_object (json_node_alloc (),
                                                            vt_answer_tallies_to_json (row->answers)));
  else
    json_builder_add_null_value (builder);
  json_builder_end_object (builder);
}

static gboolean
write_json (const BenchConfig  *config,
            GPtrArray          *rows,
            gboolean            burst,
            GError            **error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (builder);
  add_string_member (builder, "scenario", burst ? "burst" : "follow");
  add_int_member (builder, "jobs", burst ? config->burst : config->n_jobs);
  add_string_member (builder, "durations", config->durations_text);
  add_double_member (builder, "time_scale", config->time_scale);
  add_int_member (builder, "seed", config->seed);
  add_int_member (builder, "warm_up", burst ? 0 : config->warm_up);
  add_double_member (builder, "budget_seconds", BUDGET_SECONDS);
  add_double_member (builder, "rate_window_seconds", RATE_WINDOW_SECONDS);
  json_builder_set_member_name (builder, "rows");
  json_builder_begin_array (builder);
  for (guint i = 0; i < rows->len; i++)
    add_row_json (builder, g_ptr_array_index (rows, i));
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  return json_generator_to_file (generator, config->json_path, error);
}

static void
append_csv_number (GString *out,
                   double   value)
{
  char number[G_ASCII_DTOSTR_BUF_SIZE];

  g_string_append_c (out, ',');
  if (!isnan (value))
    g_string_append (out, g_ascii_formatd (number, sizeof number, "%.4f", value));
}

static gboolean
write_csv (const BenchConfig  *config,
           GPtrArray          *rows,
           GError            **error)
{
  g_autoptr(GString) out = g_string_new ("strategy,server,jobs,requests_per_job,server_requests_per_job,"
                                         "delay_p50,delay_p95,delay_p99,delay_max,"
                                         "delay_p95_percent_of_duration,timeouts_in_budget,"
                                         "timeouts,failed,peak_to_mean,bytes_per_unchanged_poll,failure\n");

  for (guint i = 0; i < rows->len; i++)
    {
      BenchRow *row = g_ptr_array_index (rows, i);
      gboolean ok = row->failure == NULL;
      g_autofree char *failure = g_strdup (ok ? "" : row->failure);

      /* Keep the cell a cell. */
      g_strdelimit (failure, ",\"\n", ' ');
      g_string_append_printf (out, "%s,%s,%u", row->spec->name,
                              row->plain_server ? "plain" : "full", row->n_jobs);
      append_csv_number (out, ok ? row->requests_per_job : NAN);
      append_csv_number (out, row->server_requests_per_job);
      append_csv_number (out, row->p50);
      append_csv_number (out, row->p95);
      append_csv_number (out, row->p99);
      append_csv_number (out, row->max);
      append_csv_number (out, row->p95_relative);
      g_string_append_printf (out, ",%u,%u,%u", row->timeouts_in_budget, row->timeouts, row->failed);
      append_csv_number (out, row->peak_to_mean);
      append_csv_number (out, row->bytes_per_unchanged_poll);
      g_string_append_printf (out, ",%s\n", failure);
    }

  return g_file_set_contents (config->csv_path, out->str, out->len, error);
}

static gboolean
write_plot (const BenchConfig  *config,
            GPtrArray          *rows,
            GError            **error)
{
  g_autoptr(GArray) points = g_array_new (FALSE, FALSE, sizeof (VtBenchPoint));
  g_autofree char *title = g_strdup_printf ("%u jobs, durations %s, time scale %g",
                                            config->n_jobs, config->durations_text,
                                            config->time_scale);

  for (guint i = 0; i < rows->len; i++)
    {
      BenchRow *row = g_ptr_array_index (rows, i);
      VtBenchPoint point = { row->spec->name, row->requests_per_job, row->p95 };

      if (row->failure == NULL && !isnan (row->p95))
        g_array_append_val (points, point);
    }

  return vt_bench_plot_write (config->plot_path, title,
                              (const VtBenchPoint *) points->data, points->len, error);
}

/* ------------------------------------------------------------------ */
/* Start-up */

static gboolean
parse_strategies (BenchConfig  *config,
                  const char   *text,
                  GError      **error)
{
  g_auto(GStrv) names = g_strsplit (text != NULL ? text : "all", ",", -1);

  config->strategies = g_ptr_array_new ();
  for (guint i = 0; names[i] != NULL; i++)
    {
      gboolean found = FALSE;

      for (guint j = 0; j < G_N_ELEMENTS (strategy_specs); j++)
        if (g_str_equal (names[i], "all") || g_str_equal (names[i], strategy_specs[j].name))
          {
            g_ptr_array_add (config->strategies, (gpointer) &strategy_specs[j]);
            found = TRUE;
          }
      if (!found)
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       "--strategies: unknown strategy \"%s\"", names[i]);
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
parse_options (BenchConfig  *config,
               int          *argc,
               char       ***argv,
               GError      **error)
{
  g_autofree char *strategies = NULL;
  int n_jobs = 200, burst = 0, warm_up = 20, warm_up_batch = 1, seed = 1;
  const GOptionEntry entries[] = {
    { "jobs", 'n', 0, G_OPTION_ARG_INT, &n_jobs, "Jobs followed per strategy (default: 200)", "N" },
    { "durations", 0, 0, G_OPTION_ARG_STRING, &config->durations_text,
      "Job durations: fixed:S, uniform:A:B or lognormal:MU:SIGMA, in seconds (default: uniform:20:40)", "MODEL" },
    { "time-scale", 0, 0, G_OPTION_ARG_DOUBLE, &config->time_scale,
      "Multiply every duration and wait by F (default: 0.02)", "F" },
    { "seed", 0, 0, G_OPTION_ARG_INT, &seed, "Seed for durations, jitter and the servers (default: 1)", "N" },
    { "strategies", 0, 0, G_OPTION_ARG_STRING, &strategies,
      "Comma-separated: seed, fixed-1s, google, vt-plain, vt-hints, vt-long-poll, vt-stream, vt-auto (default: all)",
      "LIST" },
    { "warm-up", 0, 0, G_OPTION_ARG_INT, &warm_up,
      "Jobs each VtClient follows before it is measured, to train its model (default: 20)", "N" },
    { "warm-up-batch", 0, 0, G_OPTION_ARG_INT, &warm_up_batch,
      "Warm-up jobs followed together, batch after batch (default: 1, one after another)", "N" },
    { "burst", 0, 0, G_OPTION_ARG_INT, &burst,
      "Instead: N independent clients, one per job, started together", "N" },
    { "jitter-mode", 0, 0, G_OPTION_ARG_STRING, &config->jitter_mode,
      "VtClient's jitter-mode: symmetric (the default) or full", "MODE" },
    { "start-jitter", 0, 0, G_OPTION_ARG_DOUBLE, &config->start_jitter,
      "Spread each VtClient's first request over S seconds (default: 0, at once)", "S" },
    { "json", 0, 0, G_OPTION_ARG_FILENAME, &config->json_path, "Also write the results as JSON", "FILE" },
    { "csv", 0, 0, G_OPTION_ARG_FILENAME, &config->csv_path, "Also write the results as CSV", "FILE" },
    { "jobs-csv", 0, 0, G_OPTION_ARG_FILENAME, &config->jobs_csv_path,
      "Also write every job's duration, requests and delay as CSV", "FILE" },
    { "plot", 0, 0, G_OPTION_ARG_FILENAME, &config->plot_path,
      "Also plot p95 delay against requests per job", "FILE.png" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("— compare ways of following jobs");

  config->time_scale = 0.02;
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, argc, argv, error))
    return FALSE;

  if (n_jobs < 1 || burst < 0 || warm_up < 0 || warm_up_batch < 1 || seed < 0 ||
      !(config->time_scale > 0 && config->time_scale <= 1000))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--jobs and --warm-up-batch must be positive, --time-scale in (0, 1000], the others not negative");
      return FALSE;
    }
  config->n_jobs = n_jobs;
  config->burst = burst;
  config->warm_up = warm_up;
  config->warm_up_batch = warm_up_batch;
  config->seed = seed;
  if (config->jobs_csv_path != NULL)
    config->jobs_csv = g_string_new ("strategy,duration,requests,delay,outcome\n");
  if (config->durations_text == NULL)
    config->durations_text = g_strdup ("uniform:20:40");

  return vts_duration_model_parse (&config->durations, config->durations_text, error) &&
         parse_strategies (config, strategies, error);
}

static void
start_servers (const BenchConfig *config,
               BenchServers      *servers)
{
  g_autofree char *seed = g_strdup_printf ("%u", config->seed);
  gboolean need_plain = FALSE, need_full = FALSE;

  for (guint i = 0; i < config->strategies->len; i++)
    {
      const StrategySpec *spec = g_ptr_array_index (config->strategies, i);

      need_full |= spec->full_server;
      need_plain |= !spec->full_server;
    }

  /* The server's own duration model is never used: every job says. */
  if (need_plain)
    servers->plain = vt_test_server_start ("--plain", "--seed", seed, NULL);
  if (need_full)
    servers->full = vt_test_server_start ("--eta-noise", "0.2", "--seed", seed, NULL);
  servers->control = bench_session_new (CONTROL_CONNS);
}

static void
stop_servers (BenchServers *servers)
{
  g_clear_object (&servers->control);
  g_clear_pointer (&servers->plain, vt_test_server_stop);
  g_clear_pointer (&servers->full, vt_test_server_stop);
}

static gboolean
write_outputs (const BenchConfig  *config,
               GPtrArray          *rows,
               gboolean            burst,
               GError            **error)
{
  if (config->json_path != NULL && !write_json (config, rows, burst, error))
    return FALSE;
  if (config->csv_path != NULL && !write_csv (config, rows, error))
    return FALSE;
  if (config->jobs_csv_path != NULL &&
      !g_file_set_contents (config->jobs_csv_path, config->jobs_csv->str, config->jobs_csv->len, error))
    return FALSE;
  if (config->plot_path != NULL && !write_plot (config, rows, error))
    return FALSE;
  return TRUE;
}

int
main (int   argc,
      char *argv[])
{
  g_auto(BenchConfig) config = { 0, };
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) bench_row_free);
  BenchServers servers = { 0, };
  guint n_unmeasured = 0;
  gboolean burst;

  if (!parse_options (&config, &argc, &argv, &error))
    {
      g_printerr ("vt-bench: %s\n", error->message);
      return 2;
    }
  burst = config.burst > 0;

  vt_test_raise_fd_limit ();
  install_request_hook ();
  start_servers (&config, &servers);

  for (guint i = 0; i < config.strategies->len; i++)
    g_ptr_array_add (rows, run_strategy (&config, g_ptr_array_index (config.strategies, i),
                                         &servers, burst ? config.burst : config.n_jobs, burst));

  stop_servers (&servers);
  print_table (&config, rows, burst);

  if (!write_outputs (&config, rows, burst, &error))
    {
      g_printerr ("vt-bench: %s\n", error->message);
      return 1;
    }

  /* A row that could not be measured (the strategy failed to start, or
   * every one of its watches failed) fails the run: a table with a hole
   * in it is not a result. */
  for (guint i = 0; i < rows->len; i++)
    n_unmeasured += ((BenchRow *) g_ptr_array_index (rows, i))->failure != NULL;
  if (n_unmeasured > 0)
    {
      g_printerr ("vt-bench: %u of %u strategies not measured\n", n_unmeasured, rows->len);
      return 1;
    }
  return 0;
}
