/* vt-soak.c: many jobs, one client, several rounds; outcomes and memory
 *
 *   vt-soak [--jobs 1000] [--rounds 5] [--duration 120] [--max-job 0.8]
 *           [--error-share 0.2] [--no-faults] [--max-give-up-share 0.01]
 *           [--max-growth-kb 8192] [--server-kb-per-job 8] [--seed N]
 *           [-- VT-SERVER-ARGS...]
 *
 * Spawns vt-server with fault injection (SERVER_FAULTS; --no-faults
 * turns it off), then, round after round, creates --jobs jobs whose
 * outcome and duration it chooses (POST /jobs with "duration" and
 * "outcome") and follows all of them at once with one VtClient. Every job
 * must end with the outcome it was created with. A job the client gives
 * up on (a VT_CLIENT_ERROR, or a timeout) is counted apart: under
 * injected faults that is the client's documented answer to a server
 * that keeps failing, but one that must stay rare: a round fails when
 * more than --max-give-up-share of its jobs gave up. Without faults, one
 * give-up fails the round like a wrong outcome.
 *
 * After each round, with the round's objects gone, it prints the client's
 * and the server's resident memory (VmRSS): from the second round on,
 * caches are warm and the client's figure should stay flat. The server
 * keeps every job it ever created (the protocol has no expiry), so its
 * RSS may grow by what a job costs, --server-kb-per-job, on top of the
 * same --max-growth-kb slack. Hence at least three rounds. The exit
 * status is 0 only if every round passed, both RSS figures could be read
 * and stayed within those bounds between the second round and the last.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include <libsoup/soup.h>
#include <vtclient.h>

#include "vt-test-server.h"

/* What the server is asked to inject when it can: each is a share of
 * requests. Kept moderate so that most jobs see faults and recover,
 * which is what a soak wants to exercise. */
static const char * const SERVER_FAULTS[] = {
  "--faults", "status=503:0.1",
  "--faults", "reset:0.05",
  "--faults", "garbage:0.05",
  "--faults", "hang:0.02",
  NULL
};

/* A POST /jobs hit by a fault is sent again, this many times at most. */
#define MAX_POST_ATTEMPTS 20
#define POST_RETRY_MS     50

typedef struct
{
  int       jobs;
  int       rounds;
  double    duration;
  double    max_job;
  double    error_share;
  gboolean  no_faults;
  double    max_give_up_share;
  int       max_growth_kb;
  int       server_kb_per_job;
  int       seed;
  char    **server_args;
} SoakOptions;

typedef struct
{
  guint created;
  guint create_failed;
  guint correct;
  guint wrong;
  guint timed_out;
  guint client_errors;
  guint other_errors;
  guint unfinished;
} RoundCounts;

typedef struct
{
  const SoakOptions *options;
  gboolean           faults;
  char              *url;
  GRand             *rand;
  SoupSession       *session;   /* for POST /jobs only */
  VtClient          *client;
  GCancellable      *cancellable;
  RoundCounts        counts;
  guint              in_flight;  /* POSTs and watches not yet over */
  GHashTable        *error_codes;  /* VtClientError code → count */
} Soak;

/* One job: what it was created to do, and where it stands. */
typedef struct
{
  Soak     *soak;
  VtStatus  expected;
  char     *body;
  guint     post_attempts;
} SoakJob;

static void
soak_job_free (SoakJob *job)
{
  g_free (job->body);
  g_free (job);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SoakJob, soak_job_free)

/* ------------------------------------------------------------------ */
/* Memory */

/* VmRSS of @pid ("self" for this process), in KiB; -1 if unreadable. */
static long
read_rss_kb (const char *pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%s/status", pid);
  g_autofree char *contents = NULL;
  const char *line;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return -1;

  line = strstr (contents, "\nVmRSS:");
  if (line == NULL)
    return -1;

  return strtol (line + strlen ("\nVmRSS:"), NULL, 10);
}

/* ------------------------------------------------------------------ */
/* Following a job */

static void
job_over (Soak *soak)
{
  g_assert (soak->in_flight > 0);
  soak->in_flight--;
}

static void
count_error (Soak         *soak,
             const GError *error)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      soak->counts.unfinished++;
    }
  else if (error->domain == VT_CLIENT_ERROR)
    {
      gpointer key = GINT_TO_POINTER (error->code);
      guint n = GPOINTER_TO_UINT (g_hash_table_lookup (soak->error_codes, key));

      soak->counts.client_errors++;
      g_hash_table_insert (soak->error_codes, key, GUINT_TO_POINTER (n + 1));
    }
  else
    {
      /* The API promises VT_CLIENT_ERROR or cancellation, nothing else. */
      soak->counts.other_errors++;
      g_printerr ("vt-soak: unexpected error %s: %s\n",
                  g_quark_to_string (error->domain), error->message);
    }
}

static void
on_status (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(SoakJob) job = user_data;
  g_autoptr(GError) error = NULL;
  Soak *soak = job->soak;
  VtStatus status;

  status = vt_client_get_status_finish (VT_CLIENT (source), result, &error);
  if (error != NULL)
    count_error (soak, error);
  else if (status == job->expected)
    soak->counts.correct++;
  else if (status == VT_STATUS_TIMEOUT)
    soak->counts.timed_out++;
  else
    soak->counts.wrong++;

  job_over (soak);
}

static void post_job (SoakJob *job);

static gboolean
retry_post (gpointer user_data)
{
  post_job (user_data);
  return G_SOURCE_REMOVE;
}

/* The job's id, from the Location of a 201; NULL for anything else a
 * fault may have turned the answer into. */
static char *
created_job_id (SoupMessage *msg)
{
  const char *location;

  if (soup_message_get_status (msg) != SOUP_STATUS_CREATED)
    return NULL;

  location = soup_message_headers_get_one (soup_message_get_response_headers (msg),
                                           "Location");
  if (location == NULL || !g_str_has_prefix (location, "/jobs/") ||
      location[strlen ("/jobs/")] == '\0')
    return NULL;

  return g_strdup (location + strlen ("/jobs/"));
}

static void
on_posted (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  SoakJob *job = user_data;
  Soak *soak = job->soak;
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (source), result);
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;

  body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  if (body != NULL)
    id = created_job_id (msg);

  if (id != NULL)
    {
      soak->counts.created++;
      vt_client_get_status_async (soak->client, id, soak->cancellable, on_status, job);
      return;
    }

  if (!g_cancellable_is_cancelled (soak->cancellable) &&
      job->post_attempts < MAX_POST_ATTEMPTS)
    {
      g_timeout_add (POST_RETRY_MS, retry_post, job);
      return;
    }

  if (g_cancellable_is_cancelled (soak->cancellable))
    soak->counts.unfinished++;
  else
    soak->counts.create_failed++;
  soak_job_free (job);
  job_over (soak);
}

static void
post_job (SoakJob *job)
{
  Soak *soak = job->soak;
  g_autofree char *url = g_strconcat (soak->url, "/jobs", NULL);
  g_autoptr(SoupMessage) msg = soup_message_new (SOUP_METHOD_POST, url);
  g_autoptr(GBytes) body = g_bytes_new (job->body, strlen (job->body));

  job->post_attempts++;
  soup_message_set_request_body_from_bytes (msg, "application/json", body);
  soup_session_send_and_read_async (soak->session, msg, G_PRIORITY_DEFAULT,
                                    soak->cancellable, on_posted, job);
}

/* A job of random length (sub-second, so that a round takes seconds)
 * and of the outcome it must be seen to end with. */
static SoakJob *
soak_job_new (Soak *soak)
{
  SoakJob *job = g_new0 (SoakJob, 1);
  double duration = g_rand_double_range (soak->rand, 0.0, soak->options->max_job);
  char text[G_ASCII_DTOSTR_BUF_SIZE];

  job->soak = soak;
  job->expected = g_rand_double (soak->rand) < soak->options->error_share ?
                  VT_STATUS_ERROR : VT_STATUS_COMPLETED;
  job->body = g_strdup_printf ("{\"duration\": %s, \"outcome\": \"%s\"}",
                               g_ascii_formatd (text, sizeof text, "%.3f", duration),
                               job->expected == VT_STATUS_ERROR ? "error" : "completed");
  return job;
}

/* ------------------------------------------------------------------ */
/* Rounds */

static gboolean
on_round_deadline (gpointer user_data)
{
  Soak *soak = user_data;

  g_printerr ("vt-soak: round deadline reached with %u jobs in flight; cancelling\n",
              soak->in_flight);
  g_cancellable_cancel (soak->cancellable);
  return G_SOURCE_REMOVE;
}

/* A fresh client and session per round: what the round leaves behind once
 * they are gone is what the RSS figures measure. */
static void
run_round (Soak   *soak,
           double  deadline)
{
  guint deadline_id;

  memset (&soak->counts, 0, sizeof soak->counts);
  g_hash_table_remove_all (soak->error_codes);
  soak->cancellable = g_cancellable_new ();
  /* The I/O timeout ends a POST the server's hang fault never answers;
   * without it the hung POSTs would hold every connection. */
  soak->session = soup_session_new_with_options ("max-conns", 16,
                                                 "max-conns-per-host", 16,
                                                 "timeout", 2,
                                                 NULL);
  soak->client = vt_client_new (soak->url);
  /* Sub-second jobs: start asking soon, and let attempts, not time, be
   * what a persistently failing server exhausts. */
  vt_client_set_initial_wait_time (soak->client, 0.05);
  vt_client_set_jitter (soak->client, 0.05);
  vt_client_set_max_wait_time (soak->client, MAX (deadline - 5.0, 5.0));
  vt_client_set_max_attempts (soak->client, 200);
  /* A hung request counts as a failed attempt after a second, not 30. */
  g_object_set (soak->client, "request-timeout", 1.0, NULL);

  deadline_id = g_timeout_add_seconds ((guint) MAX (deadline, 1.0), on_round_deadline, soak);

  for (int i = 0; i < soak->options->jobs; i++)
    {
      soak->in_flight++;
      post_job (soak_job_new (soak));
    }

  while (soak->in_flight > 0)
    g_main_context_iteration (NULL, TRUE);

  if (!g_cancellable_is_cancelled (soak->cancellable))
    g_source_remove (deadline_id);

  g_clear_object (&soak->client);
  g_clear_object (&soak->session);
  g_clear_object (&soak->cancellable);

  /* Let the closed connections' sources run down. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

/* Jobs the client gave up on: it could not reach their end. */
static guint
gave_up (const RoundCounts *c)
{
  return c->timed_out + c->client_errors;
}

static gboolean
round_ok (Soak *soak)
{
  const RoundCounts *c = &soak->counts;
  double allowed = soak->faults ? soak->options->max_give_up_share : 0.0;

  if (c->wrong > 0 || c->other_errors > 0 || c->unfinished > 0 || c->create_failed > 0)
    return FALSE;
  /* Under faults a few jobs may give up, never most of them; without,
   * none may. A round that created nothing has nothing to show. */
  return c->created > 0 && gave_up (c) <= allowed * c->created;
}

static void
print_round (Soak   *soak,
             int     round,
             double  seconds,
             long    client_rss,
             long    server_rss)
{
  const RoundCounts *c = &soak->counts;
  GHashTableIter iter;
  gpointer key, value;
  g_autoptr(GString) codes = g_string_new (NULL);
  g_autoptr(GEnumClass) error_class = g_type_class_ref (VT_TYPE_CLIENT_ERROR);

  g_hash_table_iter_init (&iter, soak->error_codes);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      GEnumValue *code = g_enum_get_value (error_class, GPOINTER_TO_INT (key));

      g_string_append_printf (codes, " %s=%u",
                              code != NULL ? code->value_nick : "?",
                              GPOINTER_TO_UINT (value));
    }

  printf ("round %d: %.1f s, created %u (create failed %u), correct %u, wrong %u, "
          "timed out %u, client errors %u%s%s%s, other errors %u, unfinished %u, "
          "gave up %.1f%%; RSS client %ld KiB, server %ld KiB%s\n",
          round, seconds, c->created, c->create_failed, c->correct, c->wrong,
          c->timed_out, c->client_errors,
          codes->len > 0 ? " (" : "", codes->len > 0 ? codes->str + 1 : "",
          codes->len > 0 ? ")" : "", c->other_errors, c->unfinished,
          c->created > 0 ? 100.0 * gave_up (c) / c->created : 0.0,
          client_rss, server_rss, round_ok (soak) ? "" : "  << FAILED");
  fflush (stdout);
}

/* ------------------------------------------------------------------ */
/* Start-up */

static VtTestServer *
start_server (const SoakOptions *options,
              gboolean           faults)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_add (args, g_strdup ("--seed"));
  g_ptr_array_add (args, g_strdup_printf ("%d", options->seed));
  for (guint i = 0; faults && SERVER_FAULTS[i] != NULL; i++)
    g_ptr_array_add (args, g_strdup (SERVER_FAULTS[i]));
  for (guint i = 0; options->server_args != NULL && options->server_args[i] != NULL; i++)
    g_ptr_array_add (args, g_strdup (options->server_args[i]));
  g_ptr_array_add (args, NULL);

  return vt_test_server_startv ((const char * const *) args->pdata);
}

static gboolean
parse_options (SoakOptions  *options,
               int          *argc,
               char       ***argv,
               GError      **error)
{
  const GOptionEntry entries[] = {
    { "jobs", 0, 0, G_OPTION_ARG_INT, &options->jobs, "Jobs per round (1000)", "N" },
    { "rounds", 0, 0, G_OPTION_ARG_INT, &options->rounds, "Rounds (5)", "N" },
    { "duration", 0, 0, G_OPTION_ARG_DOUBLE, &options->duration,
      "Seconds the whole run may take; each round gets its share (120)", "S" },
    { "max-job", 0, 0, G_OPTION_ARG_DOUBLE, &options->max_job,
      "Longest job, in seconds; durations are uniform below it (0.8)", "S" },
    { "error-share", 0, 0, G_OPTION_ARG_DOUBLE, &options->error_share,
      "Share of jobs created to end in error (0.2)", "P" },
    { "no-faults", 0, 0, G_OPTION_ARG_NONE, &options->no_faults,
      "Do not ask the server to inject faults", NULL },
    { "max-give-up-share", 0, 0, G_OPTION_ARG_DOUBLE, &options->max_give_up_share,
      "Under faults, the share of a round's jobs the client may give up on (0.01)", "P" },
    { "max-growth-kb", 0, 0, G_OPTION_ARG_INT, &options->max_growth_kb,
      "RSS growth from round 2 to the last that fails the run (8192)", "KIB" },
    { "server-kb-per-job", 0, 0, G_OPTION_ARG_INT, &options->server_kb_per_job,
      "Server RSS growth allowed per job it keeps (8)", "KIB" },
    { "seed", 0, 0, G_OPTION_ARG_INT, &options->seed, "Seed of every random choice (1)", "N" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &options->server_args,
      NULL, "[-- VT-SERVER-ARGS...]" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("— soak VtClient and vt-server");

  options->jobs = 1000;
  options->rounds = 5;
  options->duration = 120.0;
  options->max_job = 0.8;
  options->error_share = 0.2;
  options->max_give_up_share = 0.01;
  options->max_growth_kb = 8192;
  options->server_kb_per_job = 8;
  options->seed = 1;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, argc, argv, error))
    return FALSE;

  if (options->jobs < 1 || options->rounds < 3 || !(options->duration > 0) ||
      !(options->max_job >= 0) || !(options->error_share >= 0 && options->error_share <= 1) ||
      !(options->max_give_up_share >= 0 && options->max_give_up_share < 1))
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           "--jobs must be positive, --rounds at least 3 (memory is "
                           "compared from round 2 to the last), --duration > 0, "
                           "--max-job >= 0, --error-share in [0, 1], "
                           "--max-give-up-share in [0, 1)");
      return FALSE;
    }

  return TRUE;
}

/* Growth is judged from round 2, once every cache (libsoup's connections,
 * GType classes, malloc's arenas) has been filled by round 1. */
static gboolean
rss_flat (const char *who,
          long        first,
          long        last,
          long        max_growth_kb)
{
  gboolean ok;

  /* Memory that cannot be read is memory that was not checked. */
  if (first < 0 || last < 0)
    {
      printf ("%s RSS could not be read  << FAILED\n", who);
      return FALSE;
    }

  ok = last - first <= max_growth_kb;
  printf ("%s RSS from round 2 to the last: %+ld KiB (limit %ld)%s\n",
          who, last - first, max_growth_kb, ok ? "" : "  << FAILED");
  return ok;
}

int
main (int   argc,
      char *argv[])
{
  SoakOptions options = { 0, };
  g_autoptr(GError) error = NULL;
  g_autoptr(VtTestServer) server = NULL;
  g_autofree char *server_pid = NULL;
  Soak soak = { 0, };
  long client_rss[2] = { -1, -1 }, server_rss[2] = { -1, -1 };
  guint kept_since_round2 = 0;
  gboolean ok = TRUE;

  if (!parse_options (&options, &argc, &argv, &error))
    {
      g_printerr ("vt-soak: %s\n", error->message);
      return 2;
    }

  vt_test_raise_fd_limit ();
  soak.options = &options;
  soak.faults = !options.no_faults;
  server = start_server (&options, soak.faults);
  soak.url = g_strdup (vt_test_server_get_url (server));
  server_pid = g_strdup_printf ("%d", (int) vt_test_server_get_pid (server));
  soak.rand = g_rand_new_with_seed ((guint32) options.seed);
  soak.error_codes = g_hash_table_new (NULL, NULL);

  printf ("vt-soak: %d rounds of %d jobs (0-%.2f s, %.0f%% errors) on %s, faults %s\n",
          options.rounds, options.jobs, options.max_job, options.error_share * 100,
          soak.url, soak.faults ? "injected" : "off");

  for (int round = 1; round <= options.rounds; round++)
    {
      gint64 start = g_get_monotonic_time ();
      long client_now, server_now;

      run_round (&soak, options.duration / options.rounds);
      /* Give freed memory back first, so VmRSS follows what is live
       * rather than what malloc keeps cached. */
      malloc_trim (0);
      client_now = read_rss_kb ("self");
      server_now = read_rss_kb (server_pid);
      print_round (&soak, round, (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC,
                   client_now, server_now);
      ok = round_ok (&soak) && ok;

      if (round > 2)
        kept_since_round2 += soak.counts.created;
      if (round == 2)
        {
          client_rss[0] = client_now;
          server_rss[0] = server_now;
        }
      client_rss[1] = client_now;
      server_rss[1] = server_now;
    }

  ok = rss_flat ("client", client_rss[0], client_rss[1], options.max_growth_kb) && ok;
  ok = rss_flat ("server", server_rss[0], server_rss[1],
                 options.max_growth_kb +
                 (long) kept_since_round2 * options.server_kb_per_job) && ok;
  if (kept_since_round2 > 0 && server_rss[0] >= 0 && server_rss[1] >= 0)
    printf ("server RSS per job kept since round 2: %.2f KiB\n",
            (server_rss[1] - server_rss[0]) / (double) kept_since_round2);

  printf ("vt-soak: %s\n", ok ? "PASS" : "FAIL");

  g_hash_table_unref (soak.error_codes);
  g_rand_free (soak.rand);
  g_free (soak.url);
  g_strfreev (options.server_args);

  return ok ? 0 : 1;
}
