/* vt-scale.c: many jobs on one client
 *
 *   vt-scale [--jobs N] [--durations uniform:A:B|fixed:S] [--strategies LIST]
 *            [--seed N] [--time-limit S] [--hol] [--rate-limit N/s|N/m]
 *            [--url URL] [--json FILE] [--check]
 *   vt-scale --row NAME --url URL [same options]   (one row, as JSON on stdout)
 *
 * Follows N concurrent jobs on one vt-server through ONE follower per row:
 * a VtClient per strategy (auto, stream, long-poll, poll), and two bare
 * libsoup followers written here (one SoupSession; long-polls, or polls
 * that honour Retry-After), the simplest thing a C programmer would write.
 * Per row it prints the client's CPU per job and per request, its RSS
 * growth per job, the connections it held to the server, the requests
 * the server saw per job, errors (by GError code), timeouts, and how late
 * the final status was seen (p50/p95/p99), and the bytes of the answers
 * to polls of jobs that had not changed.
 *
 * --rate-limit: the servers limit each client address (vt-server
 * --rate-limit), and the row reports the share of 429s among the requests
 * answered after the follow phase's first second. The follower is one
 * address (127.0.0.1); the jobs are created from others (127.0.0.3 on,
 * enough of them that none runs out of its bucket) and /metrics is read
 * from 127.0.0.2, so that neither spends the follower's limit.
 *
 * Each row runs in a process of its own (this program again, with --row),
 * so that CPU, peak RSS and sockets are that row's alone, and a follower
 * that collapses is stopped at --time-limit (it reports what it has), or
 * killed, without taking the other rows with it.
 *
 * Timing: every job is created ahead (POST /jobs {"duration": d}, a few
 * in flight) so that it ends a drawn duration after one common instant,
 * the start of the follow phase; its end on the server's clock is its
 * created_at plus that duration. The delay of a job is the moment the
 * follower saw its final status minus that end: the follower's lateness
 * alone. CPU (getrusage) and RSS are taken over the follow phase only.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <vtclient.h>

#include "vt-answer-bytes.h"
#include "vt-bench-util.h"
#include "vt-scale-probe.h"
#include "vt-test-server.h"

/* POSTs in flight while jobs are created: enough to keep the server busy,
 * few enough that none waits long in libsoup's queue. */
#define CREATE_IN_FLIGHT     16
#define CALIBRATION_JOBS     50
/* What a job of the longest duration could need and still not time out. */
#define CLIENT_MAX_WAIT_TIME 120.0
#define CLIENT_MAX_ATTEMPTS  1000
/* The bare long-poller's hold, the server's cap. */
#define SOUP_LONG_POLL_WAIT  "60"
#define SAMPLE_INTERVAL_MS   100
/* Past the last job's end, before a row gives up (--time-limit 0). */
#define TIME_LIMIT_SLACK     30.0
/* --rate-limit: the time limit also allows this many requests per job
 * at the limit's rate. */
#define RATE_LIMIT_REQUESTS_PER_JOB 3.0
/* --rate-limit: the 429 share is over the requests answered after this. */
#define RATE_LIMIT_SETTLE_SECONDS   1.0
/* --rate-limit: at most this many addresses create jobs (127.0.0.3 on). */
#define CREATOR_ADDRESSES_MAX       250

/* --hol: short jobs started behind long ones. */
#define HOL_LONG_JOBS        300
#define HOL_LONG_SECONDS     30.0
#define HOL_SHORT_JOBS       50
#define HOL_SHORT_SECONDS    2.0
#define HOL_SHORT_OFFSET     1.0

/* ------------------------------------------------------------------ */
/* Rows */

typedef enum {
  FOLLOWER_VTCLIENT,
  FOLLOWER_SOUP_LONG_POLL,
  FOLLOWER_SOUP_POLL,
} FollowerKind;

typedef struct
{
  const char   *name;
  FollowerKind  kind;
  VtStrategy    strategy;
  gboolean      push;        /* held requests or streams, not polls */
  const char   *summary;
} RowSpec;

static const RowSpec row_specs[] = {
  { "auto", FOLLOWER_VTCLIENT, VT_STRATEGY_AUTO, TRUE, "VtClient, strategy auto" },
  { "stream", FOLLOWER_VTCLIENT, VT_STRATEGY_STREAM, TRUE, "VtClient, strategy stream" },
  { "long-poll", FOLLOWER_VTCLIENT, VT_STRATEGY_LONG_POLL, TRUE, "VtClient, strategy long-poll" },
  { "poll", FOLLOWER_VTCLIENT, VT_STRATEGY_POLL, FALSE, "VtClient, strategy poll (server hints)" },
  { "soup-long-poll", FOLLOWER_SOUP_LONG_POLL, 0, TRUE,
    "one SoupSession, GET /jobs/{id}?wait=" SOUP_LONG_POLL_WAIT " per job until it ends" },
  { "soup-poll", FOLLOWER_SOUP_POLL, 0, FALSE,
    "one SoupSession, GET /jobs/{id} again after each Retry-After" },
};

static const RowSpec *
row_spec_find (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (row_specs); i++)
    if (g_str_equal (row_specs[i].name, name))
      return &row_specs[i];
  return NULL;
}

/* ------------------------------------------------------------------ */
/* Configuration */

typedef struct
{
  guint       n_jobs;
  char       *durations_text;
  double      duration_low;    /* uniform over [low, high]; equal: fixed */
  double      duration_high;
  GPtrArray  *rows;            /* const RowSpec *, in run order */
  guint32     seed;
  double      time_limit;      /* seconds from the follow phase's start */
  gboolean    hol;
  gboolean    check;
  char       *rate_limit;      /* "N/s", "N/m" as given; NULL: none */
  double      rate;            /* the same in requests per second */
  char       *url;             /* a running server; NULL: start one */
  char       *json_path;
  char       *row;             /* --row: run this one row here */
  char       *add_rows;        /* rows measured elsewhere, JSON lines */
} ScaleConfig;

static void
scale_config_clear (ScaleConfig *config)
{
  g_clear_pointer (&config->durations_text, g_free);
  g_clear_pointer (&config->rows, g_ptr_array_unref);
  g_clear_pointer (&config->url, g_free);
  g_clear_pointer (&config->json_path, g_free);
  g_clear_pointer (&config->row, g_free);
  g_clear_pointer (&config->add_rows, g_free);
  g_clear_pointer (&config->rate_limit, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ScaleConfig, scale_config_clear)

static gboolean
parse_seconds (const char  *text,
               double      *value)
{
  char *end = NULL;

  *value = g_ascii_strtod (text, &end);
  return end != text && *end == '\0' && isfinite (*value) && *value >= 0;
}

/* "N/s" or "N/m", N > 0, as vt-server reads it. */
static gboolean
parse_rate_limit (ScaleConfig  *config,
                  GError      **error)
{
  char *end = NULL;
  double n;

  if (config->rate_limit == NULL)
    return TRUE;
  n = g_ascii_strtod (config->rate_limit, &end);
  if (end != config->rate_limit && n > 0 && isfinite (n) &&
      (g_str_equal (end, "/s") || g_str_equal (end, "/m")))
    {
      config->rate = g_str_equal (end, "/m") ? n / 60.0 : n;
      return TRUE;
    }
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
               "--rate-limit: expected N/s or N/m (N > 0), not \"%s\"", config->rate_limit);
  return FALSE;
}

static gboolean
parse_rows (ScaleConfig  *config,
            const char   *text,
            GError      **error)
{
  g_auto(GStrv) names = g_strsplit (text, ",", -1);

  config->rows = g_ptr_array_new ();
  for (guint i = 0; names[i] != NULL; i++)
    {
      const RowSpec *spec = row_spec_find (g_strstrip (names[i]));

      if (spec == NULL)
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       "--strategies: unknown row \"%s\" (auto, stream, long-poll, poll, "
                       "soup-long-poll, soup-poll)", names[i]);
          return FALSE;
        }
      g_ptr_array_add (config->rows, (gpointer) spec);
    }
  return TRUE;
}

static gboolean
parse_options (ScaleConfig  *config,
               int          *argc,
               char       ***argv,
               GError      **error)
{
  g_autofree char *strategies = NULL;
  int n_jobs = 1000, seed = 1;
  const GOptionEntry entries[] = {
    { "jobs", 'n', 0, G_OPTION_ARG_INT, &n_jobs, "Concurrent jobs per row (default: 1000)", "N" },
    { "durations", 0, 0, G_OPTION_ARG_STRING, &config->durations_text,
      "Job durations in seconds: uniform:A:B or fixed:S (default: uniform:5:30)", "MODEL" },
    { "strategies", 0, 0, G_OPTION_ARG_STRING, &strategies,
      "Rows, comma-separated (default: auto,stream,long-poll,poll,soup-long-poll,soup-poll)",
      "LIST" },
    { "seed", 0, 0, G_OPTION_ARG_INT, &seed, "Seed of the durations and the server (default: 1)", "N" },
    { "time-limit", 0, 0, G_OPTION_ARG_DOUBLE, &config->time_limit,
      "A row gives up this many seconds after its jobs start (default: the last job's end + 30)",
      "S" },
    { "hol", 0, 0, G_OPTION_ARG_NONE, &config->hol,
      "Head of line: 300 jobs of 30 s, then (1 s later) 50 of 2 s; ignores --jobs and --durations",
      NULL },
    { "rate-limit", 0, 0, G_OPTION_ARG_STRING, &config->rate_limit,
      "Servers limit each client address to this (vt-server --rate-limit); jobs are created "
      "from other loopback addresses; rows report their share of 429s", "N/s" },
    { "url", 0, 0, G_OPTION_ARG_STRING, &config->url,
      "Follow jobs on this running server instead of starting one", "URL" },
    { "json", 0, 0, G_OPTION_ARG_FILENAME, &config->json_path, "Also write the rows as JSON", "FILE" },
    { "check", 0, 0, G_OPTION_ARG_NONE, &config->check,
      "Fail unless every row ran cleanly with sane figures (the smoke test)", NULL },
    { "row", 0, 0, G_OPTION_ARG_STRING, &config->row,
      "Run this one row in this process and print it as JSON (needs --url)", "NAME" },
    { "add-rows", 0, 0, G_OPTION_ARG_FILENAME, &config->add_rows,
      "Rows measured elsewhere (one JSON object a line, as run-scale writes for aiohttp): "
      "shown and written after ours", "FILE" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("— many jobs on one client");

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, argc, argv, error))
    return FALSE;

  if (n_jobs < 1 || seed < 0 || !(config->time_limit >= 0))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--jobs must be positive, --seed and --time-limit not negative");
      return FALSE;
    }
  if (config->row != NULL && config->url == NULL)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--row needs --url");
      return FALSE;
    }
  if (config->url != NULL)
    {
      gsize len = strlen (config->url);

      while (len > 0 && config->url[len - 1] == '/')
        config->url[--len] = '\0';
    }

  config->n_jobs = config->hol ? HOL_LONG_JOBS + HOL_SHORT_JOBS : (guint) n_jobs;
  config->seed = seed;
  if (config->durations_text == NULL)
    config->durations_text = g_strdup ("uniform:5:30");

  return vt_bench_parse_duration_range (config->durations_text, &config->duration_low,
                                        &config->duration_high, error) &&
         parse_rate_limit (config, error) &&
         parse_rows (config, config->row != NULL ? config->row :
                             strategies != NULL ? strategies :
                             "auto,stream,long-poll,poll,soup-long-poll,soup-poll",
                     error);
}

/* ------------------------------------------------------------------ */
/* What each job is: when its follower starts and how long it runs */

typedef struct
{
  double   offset;     /* s from the follow phase's start to its follower's */
  double   duration;   /* s from then to its end */
  gboolean is_short;   /* --hol: one of the short jobs */
} JobPlan;

/* The same jobs for every row: drawn from the seed, in order. */
static GArray *
plan_jobs (const ScaleConfig *config)
{
  GArray *plan = g_array_new (FALSE, TRUE, sizeof (JobPlan));
  g_autoptr(GRand) rand = g_rand_new_with_seed (config->seed);

  if (config->hol)
    {
      for (guint i = 0; i < HOL_LONG_JOBS; i++)
        g_array_append_val (plan, ((JobPlan) { 0, HOL_LONG_SECONDS, FALSE }));
      for (guint i = 0; i < HOL_SHORT_JOBS; i++)
        g_array_append_val (plan, ((JobPlan) { HOL_SHORT_OFFSET, HOL_SHORT_SECONDS, TRUE }));
      return plan;
    }

  for (guint i = 0; i < config->n_jobs; i++)
    {
      JobPlan job = { 0, config->duration_low, FALSE };

      job.duration += (config->duration_high - config->duration_low) * g_rand_double (rand);
      g_array_append_val (plan, job);
    }
  return plan;
}

static double
plan_last_end (GArray *plan)
{
  double last = 0;

  for (guint i = 0; i < plan->len; i++)
    last = MAX (last, g_array_index (plan, JobPlan, i).offset +
                      g_array_index (plan, JobPlan, i).duration);
  return last;
}

static double
effective_time_limit (const ScaleConfig *config,
                      GArray            *plan)
{
  double extra = config->rate > 0 ? RATE_LIMIT_REQUESTS_PER_JOB * plan->len / config->rate : 0;

  if (config->time_limit > 0)
    return config->time_limit;
  return (plan_last_end (plan) + TIME_LIMIT_SLACK + extra) * vt_test_time_scale ();
}

/* ------------------------------------------------------------------ */
/* One row, in this process */

typedef enum {
  JOB_FOLLOWING,
  JOB_DONE,        /* its final status was seen */
  JOB_TIMED_OUT,
  JOB_FAILED,
} JobOutcome;

typedef struct _Run Run;

typedef struct
{
  Run           *run;
  const JobPlan *plan;
  char          *id;
  char          *url;          /* the bare followers' request */
  gint64         end_wall_us;  /* when it ends on the server */
  gint64         seen_wall_us; /* when its final status was seen; 0: not yet */
  JobOutcome     outcome;
  guint          pending_answers; /* answers that said it was pending */
} ScaleJob;

/* The server's count of requests, answered and 429. */
typedef struct
{
  gint64 answered;   /* -1: unknown */
  gint64 too_many;
} RequestCounts;

static const RequestCounts no_counts = { -1, -1 };

struct _Run
{
  const ScaleConfig *config;
  const RowSpec     *spec;
  const char        *base_url;
  guint16            port;
  GArray            *plan;
  ScaleJob          *jobs;
  guint              n_jobs;
  GHashTable        *by_id;          /* id → ScaleJob, borrowed */
  SoupSession       *control;        /* scraping /metrics */
  GPtrArray         *creators;       /* SoupSession: creating jobs, in turn */
  guint              next_creator;
  char              *failure;        /* why the row has no figures */

  /* Creating jobs */
  ScaleJob          *batch;          /* NULL: calibration jobs */
  guint              batch_next;
  guint              batch_size;
  guint              posts_in_flight;
  gint64             start_wall_us;  /* the follow phase starts then ... */
  gint64             start_mono_us;  /* ... and then, on the other clock */

  /* Following */
  VtClient          *client;
  SoupSession       *session;
  GCancellable      *cancellable;
  guint              next_to_start;
  guint              n_following;
  gboolean           time_limit_hit;
  gint64             late_start_us;
  GHashTable        *error_codes;    /* "domain:code" → count */
  guint              n_errors;
  guint              n_timeouts;
  guint64            client_requests;
  gboolean           counting;
  GHashTable        *answers;        /* HTTP status → VtAnswerTally */
  VtAnswerTally      unchanged;      /* answers on a job already seen pending, still pending */

  /* --rate-limit: the server's count one second into the follow phase */
  RequestCounts      settle_counts;
  guint              settle_source;
  gboolean           settle_scrape_pending;
  guint              settle_abort_source;
};

static Run *current_run;  /* for the request-counting hook */

static void
run_free (Run *run)
{
  for (guint i = 0; i < run->n_jobs; i++)
    {
      g_free (run->jobs[i].id);
      g_free (run->jobs[i].url);
    }
  g_free (run->jobs);
  g_array_unref (run->plan);
  g_hash_table_unref (run->by_id);
  g_hash_table_unref (run->error_codes);
  g_hash_table_unref (run->answers);
  g_clear_object (&run->control);
  g_ptr_array_unref (run->creators);
  g_clear_object (&run->client);
  g_clear_object (&run->session);
  g_object_unref (run->cancellable);
  g_free (run->failure);
  g_free (run);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Run, run_free)

/* A session for the bench's own requests, from @address (NULL: the
 * system's choice). */
static SoupSession *
session_from_address (const char *address)
{
  g_autoptr(GInetAddress) inet = address != NULL ? g_inet_address_new_from_string (address) : NULL;
  g_autoptr(GSocketAddress) local = inet != NULL ? g_inet_socket_address_new (inet, 0) : NULL;

  return soup_session_new_with_options ("max-conns", CREATE_IN_FLIGHT,
                                        "max-conns-per-host", CREATE_IN_FLIGHT,
                                        "local-address", local,
                                        NULL);
}

/* --rate-limit: the server's limit is per client address, so the bench's
 * requests come from other loopback addresses than the follower's: scrapes
 * from 127.0.0.2, job creation from as many addresses from 127.0.0.3 on as
 * hold a bucket's worth (one second's) for each job, and one more. */
static gboolean
sessions_from_other_addresses (Run      *run,
                               GUri     *uri,
                               GError  **error)
{
  const char *host = g_uri_get_host (uri);
  g_autoptr(GInetAddress) server = host != NULL ? g_inet_address_new_from_string (host) : NULL;
  double posts = run->n_jobs + CALIBRATION_JOBS;
  guint n;

  if (server == NULL || g_inet_address_get_family (server) != G_SOCKET_FAMILY_IPV4 ||
      !g_inet_address_get_is_loopback (server))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "--rate-limit: the server must be on an IPv4 loopback address "
                   "(the bench creates jobs from 127.0.0.3 on), not %s", host);
      return FALSE;
    }
  n = (guint) CLAMP (ceil (posts / MAX (run->config->rate, 1.0)) + 1, 1, CREATOR_ADDRESSES_MAX);
  run->control = session_from_address ("127.0.0.2");
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *address = g_strdup_printf ("127.0.%u.%u", (3 + i) / 256, (3 + i) % 256);

      g_ptr_array_add (run->creators, session_from_address (address));
    }
  return TRUE;
}

static Run *
run_new (const ScaleConfig *config,
         const RowSpec     *spec,
         const char        *base_url,
         GError           **error)
{
  g_autoptr(Run) run = g_new0 (Run, 1);
  g_autoptr(GUri) uri = g_uri_parse (base_url, G_URI_FLAGS_NONE, error);
  int port;

  if (uri == NULL)
    return NULL;
  port = g_uri_get_port (uri);
  if (port < 0)
    port = g_str_equal (g_uri_get_scheme (uri), "https") ? 443 : 80;

  run->config = config;
  run->spec = spec;
  run->base_url = base_url;
  run->port = (guint16) port;
  run->plan = plan_jobs (config);
  run->n_jobs = run->plan->len;
  run->jobs = g_new0 (ScaleJob, run->n_jobs);
  for (guint i = 0; i < run->n_jobs; i++)
    {
      run->jobs[i].run = run;
      run->jobs[i].plan = &g_array_index (run->plan, JobPlan, i);
    }
  run->by_id = g_hash_table_new (g_str_hash, g_str_equal);
  run->error_codes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  run->answers = vt_answer_tallies_new ();
  run->settle_counts = no_counts;
  run->cancellable = g_cancellable_new ();
  run->creators = g_ptr_array_new_with_free_func (g_object_unref);
  if (config->rate > 0 && !sessions_from_other_addresses (run, uri, error))
    return NULL;
  if (config->rate <= 0)
    {
      run->control = session_from_address (NULL);
      g_ptr_array_add (run->creators, g_object_ref (run->control));
    }
  return g_steal_pointer (&run);
}

static void
run_fail (Run        *run,
          const char *format,
          ...) G_GNUC_PRINTF (2, 3);

static void
run_fail (Run        *run,
          const char *format,
          ...)
{
  va_list args;

  if (run->failure != NULL)
    return;
  va_start (args, format);
  run->failure = g_strdup_vprintf (format, args);
  va_end (args);
}

/* An answer the follower received (vt-answer-bytes.h): its bytes by
 * status, and, when it says the job is still pending and an earlier
 * answer said so too, as a poll of a job that had not changed. (A request
 * started while counting is told when it finishes, which can be just
 * after the follow phase.) */
static void
on_answer (SoupMessage *msg,
           guint        status,
           guint64      header_bytes,
           guint64      body_bytes,
           gpointer     user_data)
{
  Run *run = current_run;
  const char *id = vt_answer_job_id (msg);
  ScaleJob *job = id != NULL && run != NULL ? g_hash_table_lookup (run->by_id, id) : NULL;

  if (run == NULL)
    return;
  vt_answer_count (run->answers, &run->unchanged, job != NULL ? &job->pending_answers : NULL,
                   msg, status, header_bytes, body_bytes);
}

static const VtAnswerWatcher answer_watcher = { on_answer, NULL };

/* Every request any SoupSession of this process starts while following:
 * VtClient's private session included (the bench's own scrapes left
 * out). Each is told to collect its metrics, which it does from the
 * moment it is sent, and tallied once when it finishes. */
static gboolean
on_message_starting (GSignalInvocationHint *hint,
                     guint                  n_params,
                     const GValue          *params,
                     gpointer               user_data)
{
  SoupMessage *msg = g_value_get_object (&params[0]);

  if (current_run == NULL || !current_run->counting ||
      g_object_get_qdata (G_OBJECT (msg), g_quark_from_static_string ("vt-scale-own")) != NULL)
    return TRUE;
  current_run->client_requests++;
  vt_answer_bytes_track (msg, &answer_watcher);
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* Creating the jobs */

typedef struct
{
  Run      *run;
  ScaleJob *job;           /* NULL: a calibration job */
  double    duration;      /* what the POST asked for, s */
  gint64    sent_wall_us;
} JobPost;

/* created_at has millisecond precision and the POST's round trip brackets
 * the same instant on this machine's wall clock: the middle of where the
 * two agree, or of the round trip if they do not. */
static gint64
creation_instant (const char *created_at,
                  gint64      sent_us,
                  gint64      received_us)
{
  g_autoptr(GDateTime) date = created_at != NULL ? g_date_time_new_from_iso8601 (created_at, NULL)
                                                 : NULL;
  gint64 first, last;

  if (date == NULL)
    return (sent_us + received_us) / 2;
  first = MAX (sent_us, g_date_time_to_unix (date) * G_USEC_PER_SEC +
                        g_date_time_get_microsecond (date));
  last = MIN (received_us, first + 1000);
  return first <= last ? (first + last) / 2 : (sent_us + received_us) / 2;
}

static void post_more_jobs (Run *run);
static void post_job (Run      *run,
                      ScaleJob *job);

static gboolean
on_post_again_due (gpointer user_data)
{
  g_autofree JobPost *post = user_data;

  post->run->posts_in_flight--;
  post_job (post->run, post->job);
  return G_SOURCE_REMOVE;
}

/* A creator's address ran out of its limit: the same job again after
 * Retry-After (its duration then counted from the new request). */
static void
post_again_later (JobPost     *post,
                  SoupMessage *msg)
{
  const char *retry_after = soup_message_headers_get_one (soup_message_get_response_headers (msg),
                                                          "Retry-After");
  double wait = 1.0;

  if (retry_after == NULL || !parse_seconds (retry_after, &wait))
    wait = 1.0;
  g_timeout_add ((guint) (wait * 1000), on_post_again_due, post);
}

/* The body as a JSON object, owned by @parser; NULL if it is not one. */
static JsonObject *
parse_json_object (JsonParser *parser,
                   GBytes     *body)
{
  JsonNode *root;

  if (!json_parser_load_from_data (parser, g_bytes_get_data (body, NULL), g_bytes_get_size (body), NULL))
    return NULL;
  root = json_parser_get_root (parser);
  return root != NULL && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
}

static void
on_job_posted (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autofree JobPost *post = user_data;
  Run *run = post->run;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (source), result);
  gint64 received_us = g_get_real_time ();
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  JsonObject *object;

  if (body != NULL && soup_message_get_status (msg) == 429 /* Too Many Requests */)
    {
      post_again_later (g_steal_pointer (&post), msg);
      return;
    }
  run->posts_in_flight--;
  if (body == NULL || soup_message_get_status (msg) != SOUP_STATUS_CREATED)
    {
      run_fail (run, "POST /jobs: %s", error != NULL ? error->message
                                                     : soup_message_get_reason_phrase (msg));
      return;
    }
  object = parse_json_object (parser, body);
  if (object == NULL || json_object_get_string_member_with_default (object, "id", NULL) == NULL)
    {
      run_fail (run, "POST /jobs: an answer without an id");
      return;
    }

  if (post->job != NULL)
    {
      const char *created_at = json_object_get_string_member_with_default (object, "created_at", NULL);

      post->job->id = g_strdup (json_object_get_string_member (object, "id"));
      post->job->end_wall_us = creation_instant (created_at, post->sent_wall_us, received_us) +
                               (gint64) (post->duration * G_USEC_PER_SEC);
      g_hash_table_insert (run->by_id, post->job->id, post->job);
    }
  post_more_jobs (run);
}

/* Seconds from now until the job should end: its planned instant. */
static double
job_time_left (const ScaleJob *job,
               gint64          now_wall_us)
{
  double end = job->run->start_wall_us / (double) G_USEC_PER_SEC +
               job->plan->offset + job->plan->duration;

  return MAX (0.001, end - now_wall_us / (double) G_USEC_PER_SEC);
}

static void
post_job (Run      *run,
          ScaleJob *job)
{
  g_autofree char *url = g_strconcat (run->base_url, "/jobs", NULL);
  g_autoptr(SoupMessage) msg = soup_message_new ("POST", url);
  JobPost *post = g_new0 (JobPost, 1);
  char number[G_ASCII_DTOSTR_BUF_SIZE];
  g_autoptr(GBytes) bytes = NULL;
  char *body;

  post->run = run;
  post->job = job;
  post->sent_wall_us = g_get_real_time ();
  post->duration = job != NULL ? job_time_left (job, post->sent_wall_us) : 0.0;
  body = g_strdup_printf ("{\"duration\": %s}",
                          g_ascii_dtostr (number, sizeof number, post->duration));
  bytes = g_bytes_new_take (body, strlen (body));
  soup_message_set_request_body_from_bytes (msg, "application/json", bytes);
  run->posts_in_flight++;
  soup_session_send_and_read_async (g_ptr_array_index (run->creators,
                                                       run->next_creator++ % run->creators->len),
                                    msg, G_PRIORITY_DEFAULT, NULL, on_job_posted, post);
}

static void
post_more_jobs (Run *run)
{
  while (run->failure == NULL && run->posts_in_flight < CREATE_IN_FLIGHT &&
         run->batch_next < run->batch_size)
    {
      ScaleJob *job = run->batch != NULL ? &run->batch[run->batch_next] : NULL;

      run->batch_next++;
      post_job (run, job);
    }
}

/* Creates @n jobs (@jobs NULL: @n calibration jobs that end at once) and
 * returns when all are answered. */
static gboolean
post_jobs (Run      *run,
           ScaleJob *jobs,
           guint     n)
{
  run->batch = jobs;
  run->batch_next = 0;
  run->batch_size = n;
  post_more_jobs (run);
  while (run->posts_in_flight > 0)
    g_main_context_iteration (NULL, TRUE);
  return run->failure == NULL;
}

/* Times a few POSTs, then creates every job to end its duration after a
 * start instant placed far enough ahead for all of them to exist by then:
 * the follow phase starts exactly at it. */
static gboolean
create_jobs (Run *run)
{
  gint64 before = g_get_monotonic_time ();
  double per_post, margin;

  if (!post_jobs (run, NULL, CALIBRATION_JOBS))
    return FALSE;
  per_post = (g_get_monotonic_time () - before) / (double) G_USEC_PER_SEC / CALIBRATION_JOBS;
  /* The server slows down as its pending jobs pile up: by the 10,000th
   * a POST took 2.6 times what the first 50 did, here. */
  margin = 0.5 + 3.0 * per_post * run->n_jobs;
  run->start_mono_us = g_get_monotonic_time () + (gint64) (margin * G_USEC_PER_SEC);
  run->start_wall_us = g_get_real_time () + (gint64) (margin * G_USEC_PER_SEC);
  g_printerr ("vt-scale: %s: creating %u jobs (%.2f ms each)\n",
              run->spec->name, run->n_jobs, 1000 * per_post);
  return post_jobs (run, run->jobs, run->n_jobs);
}

/* ------------------------------------------------------------------ */
/* The server's count */

/* GET /metrics from the bench's own address, marked so that the request
 * counting hook leaves it out. */
static SoupMessage *
metrics_message_new (Run *run)
{
  g_autofree char *url = g_strconcat (run->base_url, "/metrics", NULL);
  SoupMessage *msg = soup_message_new ("GET", url);

  g_object_set_qdata (G_OBJECT (msg), g_quark_from_static_string ("vt-scale-own"),
                      GINT_TO_POINTER (TRUE));
  return msg;
}

static RequestCounts
parse_request_counts (SoupMessage *msg,
                      GBytes      *body)
{
  const char *prefix = "vt_requests_total{route=\"";
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  RequestCounts counts = { 0, 0 };

  if (body == NULL || soup_message_get_status (msg) != SOUP_STATUS_OK)
    return no_counts;
  text = g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *route = lines[i] + strlen (prefix);
      const char *value = strrchr (lines[i], ' ');
      gint64 n;

      if (!g_str_has_prefix (lines[i], prefix) || value == NULL ||
          g_str_has_prefix (route, "/jobs\"") || g_str_has_prefix (route, "/metrics\""))
        continue;
      n = g_ascii_strtoll (value + 1, NULL, 10);
      counts.answered += n;
      if (strstr (route, ",code=\"429\"}") != NULL)
        counts.too_many += n;
    }
  return counts;
}

static RequestCounts
scrape_requests (Run *run)
{
  g_autoptr(SoupMessage) msg = metrics_message_new (run);
  g_autoptr(GBytes) body = soup_session_send_and_read (run->control, msg, NULL, NULL);

  return parse_request_counts (msg, body);
}

/* The server counts a request once its answer is written, which can be
 * just after the client read it: scrape until two counts agree. */
static RequestCounts
scrape_requests_settled (Run *run)
{
  RequestCounts last = scrape_requests (run), now;

  for (guint i = 0; i < 10 && last.answered >= 0; i++)
    {
      now = scrape_requests (run);
      if (now.answered == last.answered)
        break;
      last = now;
    }
  return last;
}

/* --rate-limit: the count one second in, read without stopping the
 * follower (the end's count is read once it is done). */
static gboolean
on_settle_scraped_idle (gpointer user_data)
{
  Run *run = user_data;

  /* Its connection is not the follower's. */
  run->settle_abort_source = 0;
  soup_session_abort (run->control);
  return G_SOURCE_REMOVE;
}

static void
on_settle_scraped (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  Run *run = user_data;
  g_autoptr(GBytes) body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, NULL);

  run->settle_counts = parse_request_counts (soup_session_get_async_result_message (SOUP_SESSION (source),
                                                                                    result),
                                             body);
  run->settle_scrape_pending = FALSE;
  run->settle_abort_source = g_idle_add (on_settle_scraped_idle, run);
}

static gboolean
on_settle_second (gpointer user_data)
{
  Run *run = user_data;
  g_autoptr(SoupMessage) msg = metrics_message_new (run);

  run->settle_source = 0;
  run->settle_scrape_pending = TRUE;
  soup_session_send_and_read_async (run->control, msg, G_PRIORITY_HIGH, NULL,
                                    on_settle_scraped, run);
  return G_SOURCE_REMOVE;
}

/* ------------------------------------------------------------------ */
/* Following: the outcome of one job */

/* "vt:unreachable", "gio:cancelled", "http:503", or the domain and number. */
static char *
error_key (const GError *error)
{
  GType type = error->domain == VT_CLIENT_ERROR ? VT_TYPE_CLIENT_ERROR :
               error->domain == G_IO_ERROR ? G_TYPE_IO_ERROR_ENUM : G_TYPE_INVALID;
  const char *prefix = error->domain == VT_CLIENT_ERROR ? "vt" : "gio";
  g_autoptr(GEnumClass) klass = type != G_TYPE_INVALID ? g_type_class_ref (type) : NULL;
  GEnumValue *value = klass != NULL ? g_enum_get_value (klass, error->code) : NULL;

  if (value != NULL)
    return g_strdup_printf ("%s:%s", prefix, value->value_nick);
  return g_strdup_printf ("%s:%d", g_quark_to_string (error->domain), error->code);
}

static void
job_end (ScaleJob   *job,
         JobOutcome  outcome,
         char       *error_key)   /* (transfer full) (nullable) */
{
  Run *run = job->run;

  if (job->outcome != JOB_FOLLOWING || run->time_limit_hit)
    {
      g_free (error_key);
      return;
    }
  job->outcome = outcome;
  if (outcome == JOB_DONE && job->seen_wall_us == 0)
    job->seen_wall_us = g_get_real_time ();
  if (outcome == JOB_TIMED_OUT)
    run->n_timeouts++;
  if (error_key != NULL)
    {
      guint count = GPOINTER_TO_UINT (g_hash_table_lookup (run->error_codes, error_key));

      run->n_errors++;
      g_hash_table_insert (run->error_codes, error_key, GUINT_TO_POINTER (count + 1));
    }
  run->n_following--;
}

static gboolean
is_final (VtStatus status)
{
  return status == VT_STATUS_COMPLETED || status == VT_STATUS_ERROR;
}

/* ------------------------------------------------------------------ */
/* Following with VtClient */

/* A final status is seen when status-changed announces it, which is
 * before the watch's task completes. */
static void
on_vt_status_changed (VtClient   *client,
                      const char *job_id,
                      VtStatus    status,
                      gpointer    user_data)
{
  Run *run = user_data;
  ScaleJob *job = job_id != NULL ? g_hash_table_lookup (run->by_id, job_id) : NULL;

  if (job != NULL && is_final (status) && job->seen_wall_us == 0)
    job->seen_wall_us = g_get_real_time ();
}

static void
on_vt_followed (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  ScaleJob *job = user_data;
  g_autoptr(GError) error = NULL;
  VtStatus status = vt_client_get_status_finish (VT_CLIENT (source), result, &error);

  if (error != NULL)
    job_end (job, JOB_FAILED, error_key (error));
  else if (status == VT_STATUS_TIMEOUT)
    job_end (job, JOB_TIMED_OUT, NULL);
  else
    job_end (job, JOB_DONE, NULL);
}

static void
vt_follow (ScaleJob *job)
{
  vt_client_get_status_async (job->run->client, job->id, job->run->cancellable,
                              on_vt_followed, job);
}

static void
vt_prepare (Run *run)
{
  run->client = vt_client_new (run->base_url);
  vt_client_set_strategy (run->client, run->spec->strategy);
  vt_client_set_max_wait_time (run->client,
                               MAX (CLIENT_MAX_WAIT_TIME, 2 * plan_last_end (run->plan)));
  vt_client_set_max_attempts (run->client, CLIENT_MAX_ATTEMPTS);
  g_signal_connect (run->client, "status-changed", G_CALLBACK (on_vt_status_changed), run);
}

/* ------------------------------------------------------------------ */
/* Following with a bare SoupSession */

static void soup_follow (ScaleJob *job);

static gboolean
on_soup_poll_due (gpointer user_data)
{
  soup_follow (user_data);
  return G_SOURCE_REMOVE;
}

/* "result" (or "status") of a job document; NULL if there is none. */
static const char *
job_document_status (JsonParser *parser,
                     GBytes     *body)
{
  JsonObject *object = parse_json_object (parser, body);

  if (object == NULL)
    return NULL;
  return json_object_get_string_member_with_default (object, "result",
           json_object_get_string_member_with_default (object, "status", NULL));
}

/* What a C programmer would write: a pending job is asked again, at once
 * for a long-poll, after Retry-After (1 s without one) for a poll. */
static void
on_soup_answer (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  ScaleJob *job = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (source), result);
  g_autoptr(JsonParser) parser = NULL;
  const char *status, *retry_after;
  double wait = 1.0;

  if (body == NULL)
    {
      job_end (job, JOB_FAILED, error_key (error));
      return;
    }
  if (!SOUP_STATUS_IS_SUCCESSFUL (soup_message_get_status (msg)))
    {
      job_end (job, JOB_FAILED, g_strdup_printf ("http:%u", soup_message_get_status (msg)));
      return;
    }

  parser = json_parser_new_immutable ();
  status = job_document_status (parser, body);
  if (g_strcmp0 (status, "completed") == 0 || g_strcmp0 (status, "error") == 0)
    job_end (job, JOB_DONE, NULL);
  else if (g_strcmp0 (status, "pending") != 0)
    job_end (job, JOB_FAILED, g_strdup ("bench:not-a-job"));
  else if (job->run->spec->kind == FOLLOWER_SOUP_LONG_POLL)
    soup_follow (job);
  else
    {
      retry_after = soup_message_headers_get_one (soup_message_get_response_headers (msg),
                                                  "Retry-After");
      if (retry_after != NULL && !parse_seconds (retry_after, &wait))
        wait = 1.0;
      g_timeout_add ((guint) (wait * 1000), on_soup_poll_due, job);
    }
}

static void
soup_follow (ScaleJob *job)
{
  Run *run = job->run;
  g_autoptr(SoupMessage) msg = NULL;

  if (run->time_limit_hit)
    return;
  if (job->url == NULL)
    job->url = g_strconcat (run->base_url, "/jobs/", job->id,
                            run->spec->kind == FOLLOWER_SOUP_LONG_POLL ? "?wait=" SOUP_LONG_POLL_WAIT : "",
                            NULL);
  msg = soup_message_new ("GET", job->url);
  soup_session_send_and_read_async (run->session, msg, G_PRIORITY_DEFAULT, run->cancellable,
                                    on_soup_answer, job);
}

/* A held request per job needs a connection per job; polls get as many
 * as VtClient allows itself (256). */
static void
soup_prepare (Run *run)
{
  guint conns = run->spec->kind == FOLLOWER_SOUP_LONG_POLL ? MAX (run->n_jobs, 10) : 256;

  run->session = soup_session_new_with_options ("max-conns", conns,
                                                "max-conns-per-host", conns,
                                                NULL);
}

/* ------------------------------------------------------------------ */
/* The follow phase */

static gboolean on_next_start_due (gpointer user_data);

/* Starts every follower whose offset has come, in this one main-loop
 * iteration, and waits for the next. */
static void
start_due_followers (Run *run)
{
  double elapsed = (g_get_monotonic_time () - run->start_mono_us) / (double) G_USEC_PER_SEC;

  while (run->next_to_start < run->n_jobs)
    {
      ScaleJob *job = &run->jobs[run->next_to_start];

      if (job->plan->offset > elapsed + 0.0005)
        {
          vt_bench_call_at (run->start_mono_us + (gint64) (job->plan->offset * G_USEC_PER_SEC),
                            on_next_start_due, run);
          return;
        }
      run->next_to_start++;
      if (run->spec->kind == FOLLOWER_VTCLIENT)
        vt_follow (job);
      else
        soup_follow (job);
    }
}

static gboolean
on_next_start_due (gpointer user_data)
{
  start_due_followers (user_data);
  return G_SOURCE_REMOVE;
}

static gboolean
on_time_limit (gpointer user_data)
{
  Run *run = user_data;

  run->time_limit_hit = TRUE;
  return G_SOURCE_REMOVE;
}

/* The second's count, once the follow phase is over: none if it ended
 * within the second. */
static void
settle_scrape_finish (Run *run)
{
  if (run->settle_source != 0)
    g_source_remove (run->settle_source);
  run->settle_source = 0;
  while (run->settle_scrape_pending)
    g_main_context_iteration (NULL, TRUE);
  if (run->settle_abort_source != 0)
    g_source_remove (run->settle_abort_source);
  run->settle_abort_source = 0;
}

/* Follows every job from the start instant until all have ended or the
 * time limit; @usage is what the process spent meanwhile. */
static void
follow_jobs (Run          *run,
             double        time_limit,
             VtScaleUsage *usage)
{
  VtScaleProbe *probe;
  guint limit_source;

  if (run->spec->kind == FOLLOWER_VTCLIENT)
    vt_prepare (run);
  else
    soup_prepare (run);
  run->n_following = run->n_jobs;

  if (g_get_monotonic_time () < run->start_mono_us)
    vt_bench_wait_until (run->start_mono_us);
  else
    run->late_start_us = g_get_monotonic_time () - run->start_mono_us;

  probe = vt_scale_probe_start (run->port, SAMPLE_INTERVAL_MS);
  limit_source = g_timeout_add_full (G_PRIORITY_HIGH, (guint) (time_limit * 1000),
                                     on_time_limit, run, NULL);
  if (run->config->rate > 0)
    run->settle_source = vt_bench_call_at (run->start_mono_us +
                                           (gint64) (RATE_LIMIT_SETTLE_SECONDS * G_USEC_PER_SEC),
                                           on_settle_second, run);
  run->counting = TRUE;
  start_due_followers (run);
  while (run->n_following > 0 && !run->time_limit_hit)
    g_main_context_iteration (NULL, TRUE);
  run->counting = FALSE;
  vt_scale_probe_stop (probe, usage);
  /* The last answers' messages finish after their watches complete. */
  for (guint i = 0; i < 100 && g_main_context_pending (NULL); i++)
    g_main_context_iteration (NULL, FALSE);

  if (!run->time_limit_hit)
    g_source_remove (limit_source);
  settle_scrape_finish (run);
}

/* ------------------------------------------------------------------ */
/* The row's figures */

static void
set_number (JsonObject *object,
            const char *name,
            double      value)
{
  if (isnan (value) || isinf (value))
    json_object_set_null_member (object, name);
  else
    json_object_set_double_member (object, name, value);
}

static void
add_delays (JsonObject *row,
            const Run  *run)
{
  g_autoptr(GArray) delays = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) shares = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) short_delays = g_array_new (FALSE, FALSE, sizeof (double));

  for (guint i = 0; i < run->n_jobs; i++)
    {
      const ScaleJob *job = &run->jobs[i];
      double delay, share;

      if (job->outcome != JOB_DONE)
        continue;
      delay = (job->seen_wall_us - job->end_wall_us) / (double) G_USEC_PER_SEC;
      share = 100.0 * delay / MAX (job->plan->duration, 0.001);
      g_array_append_val (delays, delay);
      g_array_append_val (shares, share);
      if (job->plan->is_short)
        g_array_append_val (short_delays, delay);
    }
  vt_bench_sort_doubles (delays);
  vt_bench_sort_doubles (shares);
  vt_bench_sort_doubles (short_delays);

  json_object_set_int_member (row, "seen", delays->len);
  set_number (row, "delay_min", vt_bench_percentile (delays, 0));
  set_number (row, "delay_p50", vt_bench_percentile (delays, 50));
  set_number (row, "delay_p95", vt_bench_percentile (delays, 95));
  set_number (row, "delay_p99", vt_bench_percentile (delays, 99));
  set_number (row, "delay_max", vt_bench_percentile (delays, 100));
  set_number (row, "delay_p95_percent_of_duration", vt_bench_percentile (shares, 95));
  if (run->config->hol)
    {
      json_object_set_int_member (row, "short_seen", short_delays->len);
      set_number (row, "short_delay_p99", vt_bench_percentile (short_delays, 99));
    }
}

static JsonObject *
row_new (const RowSpec *spec,
         guint          n_jobs)
{
  JsonObject *row = json_object_new ();

  json_object_set_string_member (row, "row", spec->name);
  json_object_set_string_member (row, "description", spec->summary);
  json_object_set_int_member (row, "jobs", n_jobs);
  json_object_set_null_member (row, "failure");
  return row;
}

static void
row_set_failure (JsonObject *row,
                 const char *failure)
{
  json_object_set_string_member (row, "failure", failure);
}

/* "answers" by status, and the answers to polls of unchanged jobs. */
static void
add_answer_bytes (JsonObject *row,
                  const Run  *run)
{
  json_object_set_object_member (row, "answers", vt_answer_tallies_to_json (run->answers));
  json_object_set_int_member (row, "unchanged_polls", run->unchanged.count);
  set_number (row, "bytes_per_unchanged_poll", vt_answer_tally_mean (&run->unchanged));
}

/* --rate-limit: 429s among the requests the server answered after the
 * follow phase's first second, and over the whole phase. */
static void
add_too_many (JsonObject          *row,
              const Run           *run,
              const RequestCounts *before,
              const RequestCounts *after)
{
  const RequestCounts *settle = &run->settle_counts;
  gboolean known = after->answered >= 0 && settle->answered >= 0;
  gint64 answered = known ? after->answered - settle->answered : -1;
  gint64 too_many = known ? after->too_many - settle->too_many : -1;

  json_object_set_string_member (row, "rate_limit", run->config->rate_limit);
  json_object_set_int_member (row, "requests_after_first_second", answered);
  json_object_set_int_member (row, "too_many_after_first_second", too_many);
  set_number (row, "too_many_percent", known ? 100.0 * too_many / MAX (answered, 1) : NAN);
  json_object_set_int_member (row, "too_many_requests",
                              after->answered >= 0 && before->answered >= 0
                                ? after->too_many - before->too_many : -1);
}

static JsonObject *
run_figures (const Run           *run,
             const VtScaleUsage  *usage,
             const RequestCounts *before,
             const RequestCounts *after,
             double               time_limit)
{
  JsonObject *row = row_new (run->spec, run->n_jobs);
  gint64 server_requests = before->answered >= 0 && after->answered >= 0
                             ? after->answered - before->answered : -1;
  g_autoptr(JsonObject) codes = json_object_new ();
  guint unfinished = run->n_following;
  double requests = server_requests >= 0 ? server_requests : (double) run->client_requests;
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, run->error_codes);
  while (g_hash_table_iter_next (&iter, &key, &value))
    json_object_set_int_member (codes, key, GPOINTER_TO_UINT (value));

  json_object_set_int_member (row, "errors", run->n_errors);
  json_object_set_object_member (row, "error_codes", g_steal_pointer (&codes));
  json_object_set_int_member (row, "timeouts", run->n_timeouts);
  json_object_set_int_member (row, "unfinished", unfinished);
  set_number (row, "cpu_seconds", usage->cpu_seconds);
  set_number (row, "sampler_cpu_seconds", usage->sampler_cpu_seconds);
  set_number (row, "cpu_ms_per_job", 1000 * usage->cpu_seconds / run->n_jobs);
  set_number (row, "cpu_ms_per_request", 1000 * usage->cpu_seconds / requests);
  json_object_set_int_member (row, "rss_start_kib", usage->rss_start_kib);
  json_object_set_int_member (row, "rss_peak_kib", usage->rss_peak_kib);
  set_number (row, "rss_kib_per_job",
              MAX (0, usage->rss_peak_kib - usage->rss_start_kib) / (double) run->n_jobs);
  json_object_set_int_member (row, "peak_connections", usage->peak_connections);
  json_object_set_int_member (row, "connection_samples", usage->samples);
  if (server_requests >= 0)
    json_object_set_int_member (row, "server_requests", server_requests);
  else
    json_object_set_null_member (row, "server_requests");
  json_object_set_int_member (row, "client_requests", run->client_requests);
  set_number (row, "requests_per_job", requests / run->n_jobs);
  set_number (row, "client_requests_per_job", run->client_requests / (double) run->n_jobs);
  set_number (row, "follow_seconds", usage->wall_seconds);
  set_number (row, "late_start_seconds", run->late_start_us / (double) G_USEC_PER_SEC);
  add_delays (row, run);
  add_answer_bytes (row, run);
  if (run->config->rate > 0)
    add_too_many (row, run, before, after);

  if (run->time_limit_hit)
    {
      g_autofree char *failure = g_strdup_printf ("time limit: %u of %u jobs unfinished after %.0f s",
                                                  unfinished, run->n_jobs, time_limit);
      row_set_failure (row, failure);
    }
  else if (run->n_errors > 0 || run->n_timeouts > 0)
    {
      g_autofree char *failure = g_strdup_printf ("%u errors, %u timeouts",
                                                  run->n_errors, run->n_timeouts);
      row_set_failure (row, failure);
    }
  return row;
}

static void
print_row (JsonObject *row)
{
  g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), row);
  g_autofree char *text = json_to_string (node, FALSE);

  g_print ("%s\n", text);
  fflush (stdout);
}

/* --row: creates the jobs, follows them, prints the row. */
static int
run_one_row (const ScaleConfig *config)
{
  const RowSpec *spec = g_ptr_array_index (config->rows, 0);
  g_autoptr(GError) error = NULL;
  g_autoptr(Run) run = run_new (config, spec, config->url, &error);
  g_autoptr(JsonObject) row = NULL;
  VtScaleUsage usage = { 0 };
  RequestCounts before, after;
  double time_limit;
  gulong hook;

  if (run == NULL)
    {
      row = row_new (spec, config->n_jobs);
      row_set_failure (row, error->message);
      print_row (row);
      return 0;
    }
  time_limit = effective_time_limit (config, run->plan);

  if (!create_jobs (run))
    {
      row = row_new (spec, run->n_jobs);
      row_set_failure (row, run->failure);
      print_row (row);
      return 0;
    }
  before = scrape_requests (run);
  /* The bench's own connections are not the follower's. */
  soup_session_abort (run->control);
  g_ptr_array_foreach (run->creators, (GFunc) soup_session_abort, NULL);

  current_run = run;
  hook = g_signal_add_emission_hook (g_signal_lookup ("starting", SOUP_TYPE_MESSAGE), 0,
                                     on_message_starting, NULL, NULL);
  g_printerr ("vt-scale: %s: following %u jobs\n", spec->name, run->n_jobs);
  follow_jobs (run, time_limit, &usage);
  g_signal_remove_emission_hook (g_signal_lookup ("starting", SOUP_TYPE_MESSAGE), hook);
  current_run = NULL;

  /* Its requests answered or aborted, the server has counted them all. */
  if (!run->time_limit_hit)
    {
      g_clear_object (&run->client);
      g_clear_object (&run->session);
    }
  after = scrape_requests_settled (run);
  row = run_figures (run, &usage, &before, &after, time_limit);
  print_row (row);

  /* A follower stopped at the time limit may be anywhere, and may take
   * long to unwind: its figures are out, leave it. */
  if (run->time_limit_hit)
    _exit (0);
  return 0;
}

/* ------------------------------------------------------------------ */
/* Every row, each in a process of its own */

static double
member_number (JsonObject *row,
               const char *name)
{
  JsonNode *node = json_object_get_member (row, name);

  return node != NULL && JSON_NODE_HOLDS_VALUE (node) ? json_node_get_double (node) : NAN;
}

static const char *
member_string (JsonObject *row,
               const char *name)
{
  JsonNode *node = json_object_get_member (row, name);

  return node != NULL && JSON_NODE_HOLDS_VALUE (node) ? json_node_get_string (node) : NULL;
}


typedef struct
{
  gboolean     done;
  char        *output;
  GError      *error;
} ChildResult;

static void
on_child_output (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  ChildResult *child = user_data;

  g_subprocess_communicate_utf8_finish (G_SUBPROCESS (source), result, &child->output, NULL,
                                        &child->error);
  child->done = TRUE;
}

static gboolean
on_child_deadline (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

static GPtrArray *
child_argv (const ScaleConfig *config,
            const char        *self,
            const RowSpec     *spec,
            const char        *url)
{
  GPtrArray *argv = g_ptr_array_new_with_free_func (g_free);

  for (const char * const *arg = vt_test_valgrind_argv (); *arg != NULL; arg++)
    g_ptr_array_add (argv, g_strdup (*arg));
  g_ptr_array_add (argv, g_strdup (self));
  g_ptr_array_add (argv, g_strdup ("--row"));
  g_ptr_array_add (argv, g_strdup (spec->name));
  g_ptr_array_add (argv, g_strdup ("--url"));
  g_ptr_array_add (argv, g_strdup (url));
  g_ptr_array_add (argv, g_strdup_printf ("--jobs=%u", config->n_jobs));
  g_ptr_array_add (argv, g_strdup_printf ("--durations=%s", config->durations_text));
  g_ptr_array_add (argv, g_strdup_printf ("--seed=%u", config->seed));
  if (config->time_limit > 0)
    g_ptr_array_add (argv, g_strdup_printf ("--time-limit=%g", config->time_limit));
  if (config->hol)
    g_ptr_array_add (argv, g_strdup ("--hol"));
  if (config->rate_limit != NULL)
    g_ptr_array_add (argv, g_strdup_printf ("--rate-limit=%s", config->rate_limit));
  g_ptr_array_add (argv, NULL);
  return argv;
}

/* The row's JSON from the child's last line of output. */
static JsonObject *
parse_row (const char *output)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_auto(GStrv) lines = g_strsplit (output != NULL ? output : "", "\n", -1);
  guint n = g_strv_length (lines);
  JsonNode *root;

  while (n > 0 && lines[n - 1][0] == '\0')
    n--;
  if (n == 0 || !json_parser_load_from_data (parser, lines[n - 1], -1, NULL) ||
      (root = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;
  return json_object_ref (json_node_get_object (root));
}

static JsonObject *
run_row_in_child (const ScaleConfig *config,
                  const char        *self,
                  const RowSpec     *spec,
                  const char        *url,
                  double             deadline_seconds)
{
  g_autoptr(GPtrArray) argv = child_argv (config, self, spec, url);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) process = g_subprocess_newv ((const char * const *) argv->pdata,
                                                      G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
  ChildResult child = { 0 };
  gboolean late = FALSE;
  guint deadline;
  JsonObject *row;
  g_autofree char *failure = NULL;

  if (process == NULL)
    failure = g_strdup_printf ("could not start: %s", error->message);
  else
    {
      deadline = g_timeout_add_seconds ((guint) ceil (deadline_seconds), on_child_deadline, &late);
      g_subprocess_communicate_utf8_async (process, NULL, NULL, on_child_output, &child);
      while (!child.done && !late)
        g_main_context_iteration (NULL, TRUE);
      if (late)
        {
          g_subprocess_force_exit (process);
          while (!child.done)
            g_main_context_iteration (NULL, TRUE);
        }
      else
        g_source_remove (deadline);
      g_subprocess_wait (process, NULL, NULL);
    }

  row = failure == NULL && !late ? parse_row (child.output) : NULL;
  /* A row, then a failure: valgrind's errors (97), or a crash on the
   * way out. */
  if (row != NULL && !(g_subprocess_get_if_exited (process) &&
                       g_subprocess_get_exit_status (process) == 0))
    {
      failure = g_subprocess_get_if_signaled (process) ?
                  g_strdup_printf ("crashed after its row: signal %d", g_subprocess_get_term_sig (process)) :
                  g_strdup_printf ("exited with status %d after its row",
                                   g_subprocess_get_exit_status (process));
      row_set_failure (row, failure);
    }
  if (row == NULL && failure == NULL)
    failure = late ? g_strdup_printf ("killed: no row after %.0f s", deadline_seconds) :
              child.error != NULL ? g_strdup (child.error->message) :
              g_subprocess_get_if_signaled (process) ?
                g_strdup_printf ("crashed: signal %d", g_subprocess_get_term_sig (process)) :
                g_strdup_printf ("exited with status %d and no row",
                                 g_subprocess_get_exit_status (process));
  if (row == NULL)
    {
      row = row_new (spec, config->n_jobs);
      row_set_failure (row, failure);
    }
  g_free (child.output);
  g_clear_error (&child.error);
  return row;
}

/* Runs one row in a child, on the server of --url or on a server of its
 * own. Its own: libsoup 3.2's SoupServer never closes a kept-alive
 * connection the client closed (fixed in 3.3.0), so every connection a
 * row opens stays open on the server, and a server shared by the rows
 * of a 10,000-job run runs out of descriptors by the third; a new
 * server also gives every row the same start. */
static JsonObject *
run_row (const ScaleConfig *config,
         const char        *self,
         const RowSpec     *spec,
         double             deadline_seconds)
{
  g_autofree char *seed = g_strdup_printf ("%u", config->seed);
  g_autoptr(VtTestServer) server = NULL;

  if (config->url != NULL)
    return run_row_in_child (config, self, spec, config->url, deadline_seconds);
  server = config->rate_limit != NULL ?
             vt_test_server_start ("--seed", seed, "--rate-limit", config->rate_limit, NULL) :
             vt_test_server_start ("--seed", seed, NULL);
  return run_row_in_child (config, self, spec, vt_test_server_get_url (server), deadline_seconds);
}

/* --add-rows: one row object a line. */
static gboolean
read_added_rows (const char  *path,
                 GPtrArray   *rows,
                 GError     **error)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;

  if (!g_file_get_contents (path, &text, NULL, error))
    return FALSE;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      JsonObject *row;

      if (*g_strstrip (lines[i]) == '\0')
        continue;
      row = parse_row (lines[i]);
      if (row == NULL || member_string (row, "row") == NULL)
        {
          g_clear_pointer (&row, json_object_unref);
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "%s:%u: not a row object", path, i + 1);
          return FALSE;
        }
      g_ptr_array_add (rows, row);
    }
  return TRUE;
}

/* The path to run this program again: argv[0], not /proc/self/exe, which
 * is valgrind's tool under valgrind. */
static char *
self_path (const char *argv0)
{
  if (strchr (argv0, '/') != NULL)
    return g_canonicalize_filename (argv0, NULL);
  return g_find_program_in_path (argv0);
}

/* ------------------------------------------------------------------ */
/* The table */

static char *
format_cell (double value,
             int    decimals)
{
  return isnan (value) ? g_strdup ("-") : g_strdup_printf ("%.*f", decimals, value);
}

/* "bytes: poll: 200 3000 x 190+252 B, 304 ...; unchanged polls 1000 x 442 B" */
static void
print_answer_bytes (JsonObject *row)
{
  JsonNode *node = json_object_get_member (row, "answers");
  JsonObject *answers = node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  g_autoptr(GList) statuses = answers != NULL ? json_object_get_members (answers) : NULL;

  if (statuses == NULL)
    return;
  g_print ("bytes: %s:", member_string (row, "row"));
  for (GList *l = statuses; l != NULL; l = l->next)
    {
      JsonObject *tally = json_object_get_object_member (answers, l->data);
      double count = member_number (tally, "count");

      g_print ("%s %s %.0f x %.0f+%.0f B", l == statuses ? "" : ",", (const char *) l->data, count,
               member_number (tally, "header_bytes") / count, member_number (tally, "body_bytes") / count);
    }
  if (member_number (row, "unchanged_polls") > 0)
    g_print ("; unchanged polls %.0f x %.0f B", member_number (row, "unchanged_polls"),
             member_number (row, "bytes_per_unchanged_poll"));
  g_print ("\n");
}

static void
print_table (const ScaleConfig *config,
             const char        *servers,
             GPtrArray         *rows)
{
  if (config->hol)
    g_print ("\nHead of line: %u jobs of %.0f s, then %.0f s later %u of %.0f s; seed %u, server %s\n",
             HOL_LONG_JOBS, HOL_LONG_SECONDS, HOL_SHORT_OFFSET, HOL_SHORT_JOBS, HOL_SHORT_SECONDS,
             config->seed, servers);
  else
    g_print ("\nMany jobs on one client: %u jobs, durations %s, seed %u, server %s%s%s\n",
             config->n_jobs, config->durations_text, config->seed, servers,
             config->rate_limit != NULL ? ", --rate-limit " : "",
             config->rate_limit != NULL ? config->rate_limit : "");
  g_print ("(delay: final status seen - job ended; cpu: user+sys over the follow phase)\n\n");
  g_print ("%-17s %6s %6s %5s %6s %7s %7s %7s %6s %7s %7s %7s %7s %6s %6s%s%s  %s\n",
           "row", "jobs", "errors", "t/o", "unfin", "ms/job", "ms/req", "KiB/job", "conns",
           "req/job", "p50 s", "p95 s", "p99 s", "p95 %", "B/unch", config->hol ? " short p99" : "",
           config->rate_limit != NULL ? "  429 %" : "", "result");

  for (guint i = 0; i < rows->len; i++)
    {
      JsonObject *row = g_ptr_array_index (rows, i);
      const char *failure = member_string (row, "failure");
      g_autofree char *cpu_job = format_cell (member_number (row, "cpu_ms_per_job"), 3);
      g_autofree char *cpu_req = format_cell (member_number (row, "cpu_ms_per_request"), 3);
      g_autofree char *rss = format_cell (member_number (row, "rss_kib_per_job"), 1);
      g_autofree char *conns = format_cell (member_number (row, "peak_connections"), 0);
      g_autofree char *req = format_cell (member_number (row, "requests_per_job"), 2);
      g_autofree char *p50 = format_cell (member_number (row, "delay_p50"), 3);
      g_autofree char *p95 = format_cell (member_number (row, "delay_p95"), 3);
      g_autofree char *p99 = format_cell (member_number (row, "delay_p99"), 3);
      g_autofree char *share = format_cell (member_number (row, "delay_p95_percent_of_duration"), 1);
      g_autofree char *short_p99 = format_cell (member_number (row, "short_delay_p99"), 3);
      g_autofree char *errors = format_cell (member_number (row, "errors"), 0);
      g_autofree char *timeouts = format_cell (member_number (row, "timeouts"), 0);
      g_autofree char *unfinished = format_cell (member_number (row, "unfinished"), 0);
      g_autofree char *unchanged = format_cell (member_number (row, "bytes_per_unchanged_poll"), 0);
      g_autofree char *too_many = format_cell (member_number (row, "too_many_percent"), 2);

      g_print ("%-17s %6.0f %6s %5s %6s %7s %7s %7s %6s %7s %7s %7s %7s %6s %6s",
               member_string (row, "row"), member_number (row, "jobs"), errors, timeouts,
               unfinished, cpu_job, cpu_req, rss, conns, req, p50, p95, p99, share, unchanged);
      if (config->hol)
        g_print (" %10s", short_p99);
      if (config->rate_limit != NULL)
        g_print (" %6s", too_many);
      g_print ("  %s%s\n", failure != NULL ? "FAILED: " : "ok", failure != NULL ? failure : "");
    }

  for (guint i = 0; i < rows->len; i++)
    {
      JsonObject *row = g_ptr_array_index (rows, i);
      JsonNode *codes = json_object_get_member (row, "error_codes");

      if (codes != NULL && JSON_NODE_HOLDS_OBJECT (codes) &&
          json_object_get_size (json_node_get_object (codes)) > 0)
        {
          g_autoptr(GList) names = json_object_get_members (json_node_get_object (codes));

          g_print ("errors: %s:", member_string (row, "row"));
          for (GList *l = names; l != NULL; l = l->next)
            g_print (" %s %" G_GINT64_FORMAT, (const char *) l->data,
                     json_object_get_int_member (json_node_get_object (codes), l->data));
          g_print ("\n");
        }
      print_answer_bytes (row);
      if (config->rate_limit != NULL && member_number (row, "too_many_requests") >= 0)
        g_print ("429s: %s: %.0f of %.0f answered after the first second, %.0f in all\n",
                 member_string (row, "row"), member_number (row, "too_many_after_first_second"),
                 member_number (row, "requests_after_first_second"),
                 member_number (row, "too_many_requests"));
      if (!isnan (member_number (row, "max_rss_mib")))
        g_print ("note: %s: peak RSS of the whole process %.0f MiB (it measures no growth)\n",
                 member_string (row, "row"), member_number (row, "max_rss_mib"));
      if (member_number (row, "late_start_seconds") > 0)
        g_print ("note: %s: creating the jobs overran its margin; following started %.3f s late\n",
                 member_string (row, "row"), member_number (row, "late_start_seconds"));
    }
  g_print ("\nms/job, ms/req: client CPU per job, per request the server saw; KiB/job: peak RSS\n"
           "growth / jobs; conns: most sockets held to the server in one %u ms sample; req/job:\n"
           "as the server counted them; p95 %%: of each job's delay over its duration; B/unch:\n"
           "bytes received (status line, headers, body) per answer to a poll of a job an earlier\n"
           "answer said was pending and that still is%s\n",
           SAMPLE_INTERVAL_MS,
           config->rate_limit != NULL ? "; 429 %: of the requests the server answered after\n"
                                        "the follow phase's first second" : "");
}

static gboolean
write_json (const ScaleConfig  *config,
            const char         *servers,
            GPtrArray          *rows,
            GError            **error)
{
  g_autoptr(JsonObject) top = json_object_new ();
  g_autoptr(JsonArray) array = json_array_new ();
  g_autoptr(GArray) plan = plan_jobs (config);
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonGenerator) generator = json_generator_new ();

  json_object_set_string_member (top, "scenario", config->hol ? "hol" : "follow");
  json_object_set_int_member (top, "jobs", config->n_jobs);
  json_object_set_string_member (top, "durations", config->hol ? "hol" : config->durations_text);
  json_object_set_int_member (top, "seed", config->seed);
  json_object_set_double_member (top, "time_limit", effective_time_limit (config, plan));
  json_object_set_string_member (top, "server", servers);
  for (guint i = 0; i < rows->len; i++)
    json_array_add_object_element (array, json_object_ref (g_ptr_array_index (rows, i)));
  json_object_set_array_member (top, "rows", g_steal_pointer (&array));

  root = json_node_init_object (json_node_alloc (), top);
  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  return json_generator_to_file (generator, config->json_path, error);
}

/* ------------------------------------------------------------------ */
/* --check: the smoke test's verdict on its own rows */

/* A polling row's requests were each answered and tallied, with the
 * bytes of at least a status line and a few headers; with --rate-limit,
 * the server's 429s after the first second were read. */
static gboolean
check_answers (JsonObject        *row,
               const RowSpec     *spec,
               const ScaleConfig *config)
{
  const char *name = member_string (row, "row");
  JsonNode *node = json_object_get_member (row, "answers");
  JsonObject *answers = node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  g_autoptr(GList) statuses = answers != NULL ? json_object_get_members (answers) : NULL;
  double answered = 0, short_answers = 0;
  gboolean ok = TRUE;

  for (GList *l = statuses; l != NULL; l = l->next)
    {
      JsonObject *tally = json_object_get_object_member (answers, l->data);

      answered += member_number (tally, "count");
      if (member_number (tally, "header_bytes") < 100 * member_number (tally, "count"))
        short_answers += member_number (tally, "count");
    }
  if (!spec->push)
    {
      ok &= vt_bench_check (answered == member_number (row, "client_requests"), name,
                            "%.0f answers tallied for %.0f requests", answered,
                            member_number (row, "client_requests"));
      ok &= vt_bench_check (answered > 0 && short_answers == 0, name,
                            "answers with under 100 bytes of headers: %.0f of %.0f", short_answers,
                            answered);
    }
  if (config->rate_limit != NULL)
    ok &= vt_bench_check (member_number (row, "requests_after_first_second") >= 0 &&
                          member_number (row, "too_many_percent") >= 0, name,
                          "no count of 429s after the first second");
  return ok;
}

/* Every row ran, followed every job to its end without an error, at
 * delays a loaded machine still meets (stretched under valgrind). */
static gboolean
check_row (JsonObject        *row,
           const ScaleConfig *config)
{
  const char *name = member_string (row, "row");
  const RowSpec *spec = row_spec_find (name);
  double scale = vt_test_time_scale ();
  double bound, jobs, requests;
  gboolean ok = TRUE;

  ok &= vt_bench_check (member_string (row, "failure") == NULL, name, "%s",
                        member_string (row, "failure"));
  /* A row measured elsewhere has only some of the figures. */
  if (!ok || spec == NULL)
    return ok;
  bound = (spec->push ? 1.0 : 2.0) * scale;
  jobs = member_number (row, "jobs");
  requests = member_number (row, "requests_per_job");
  ok &= vt_bench_check (member_number (row, "errors") == 0 && member_number (row, "timeouts") == 0,
                        name, "%.0f errors, %.0f timeouts", member_number (row, "errors"),
                        member_number (row, "timeouts"));
  ok &= vt_bench_check (member_number (row, "seen") == jobs, name, "saw %.0f of %.0f jobs end",
                        member_number (row, "seen"), jobs);
  ok &= vt_bench_check (member_number (row, "delay_min") >= -0.01, name,
                        "a job seen ended %.3f s before it ended",
                        -member_number (row, "delay_min"));
  ok &= vt_bench_check (member_number (row, "delay_p50") <= member_number (row, "delay_p95") &&
                        member_number (row, "delay_p95") <= member_number (row, "delay_p99") &&
                        member_number (row, "delay_p99") <= bound,
                        name, "delays p50 %.3f, p95 %.3f, p99 %.3f s (p99 bound %.1f s)",
                        member_number (row, "delay_p50"), member_number (row, "delay_p95"),
                        member_number (row, "delay_p99"), bound);
  /* VtClient's push rows share a feed: a few requests for all the jobs
   * (none at all is a count gone wrong); the bare long-poll asks per
   * job; polls ask a few times each. */
  if (spec->push && spec->kind == FOLLOWER_VTCLIENT)
    ok &= vt_bench_check (requests > 0 && requests <= 1.5, name, "%.2f requests per job", requests);
  else
    ok &= vt_bench_check (requests >= 1 && requests <= (spec->push ? 3 : 100), name,
                          "%.2f requests per job", requests);
  ok &= vt_bench_check (member_number (row, "cpu_seconds") > 0 &&
                        member_number (row, "peak_connections") >= 1 &&
                        member_number (row, "rss_peak_kib") > 0,
                        name, "no CPU, connections or RSS measured");
  ok &= check_answers (row, spec, config);
  return ok;
}

static gboolean
check_rows (const ScaleConfig *config,
            GPtrArray         *rows)
{
  gboolean ok = vt_bench_check (rows->len >= config->rows->len, "all", "%u rows of %u",
                                rows->len, config->rows->len);

  for (guint i = 0; i < rows->len; i++)
    ok &= check_row (g_ptr_array_index (rows, i), config);
  g_print ("check: %s\n", ok ? "ok" : "FAILED");
  return ok;
}

/* ------------------------------------------------------------------ */

int
main (int   argc,
      char *argv[])
{
  g_auto(ScaleConfig) config = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  g_autofree char *self = self_path (argv[0]);
  g_autoptr(GArray) plan = NULL;
  g_autofree char *servers = NULL;
  double deadline;
  gboolean ran = TRUE;

  if (!parse_options (&config, &argc, &argv, &error))
    {
      g_printerr ("vt-scale: %s\n", error->message);
      return 2;
    }
  vt_test_raise_fd_limit ();

  if (config.row != NULL)
    return run_one_row (&config);

  /* A child gets its time limit, the time to create its jobs, and a
   * minute to report, before it is killed. */
  plan = plan_jobs (&config);
  deadline = effective_time_limit (&config, plan) +
             (60 + 0.01 * config.n_jobs) * vt_test_time_scale ();

  for (guint i = 0; i < config.rows->len; i++)
    g_ptr_array_add (rows, run_row (&config, self, g_ptr_array_index (config.rows, i), deadline));
  if (config.add_rows != NULL && !read_added_rows (config.add_rows, rows, &error))
    {
      g_printerr ("vt-scale: %s\n", error->message);
      return 1;
    }
  for (guint i = 0; i < rows->len; i++)
    ran &= member_string (g_ptr_array_index (rows, i), "failure") == NULL;

  servers = config.url != NULL ? g_strdup (config.url)
                               : g_strdup_printf ("a new vt-server --seed %u per row", config.seed);
  print_table (&config, servers, rows);
  if (config.json_path != NULL && !write_json (&config, servers, rows, &error))
    {
      g_printerr ("vt-scale: %s\n", error->message);
      return 1;
    }
  if (config.check && !check_rows (&config, rows))
    return 1;
  return ran ? 0 : 1;
}
