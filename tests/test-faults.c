/* test-faults.c: the client against every fault vt-server can inject
 *
 * A matrix of fault kinds × ways of following a job. For each cell the
 * server injects the fault into every request (P = 1) or into some of
 * them (P = 0.3-0.5, seeded), and the test asserts the final status or
 * the exact error, the requests the server saw, and that status-changed
 * never repeated a status nor fired after the task completed.
 *
 * The requests are those a logging proxy (vt-test-proxy.h) forwarded to
 * the server, answered or not: the server's own metrics never count the
 * ones it drops. Their arrival times show the waits the client kept: a
 * Retry-After, a request timeout.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <math.h>
#include <string.h>
#include <vtclient.h>

#include "vt-test-proxy.h"
#include "vt-test-server.h"

#define S(seconds) ((seconds) * vt_test_time_scale ())

typedef enum
{
  MODE_ASYNC,      /* get_status_async, polling */
  MODE_SYNC,       /* get_status, polling */
  MODE_STREAM,
  MODE_LONG_POLL,
  N_MODES
} Mode;

static const char *mode_names[N_MODES] = { "async", "sync", "stream", "long-poll" };

/* What a cell expects: a final status, or an error code of
 * VT_CLIENT_ERROR; and bounds on the requests the server saw for the job,
 * answered or not (the proxy's log). */
typedef struct
{
  VtStatus    status;       /* when code < 0 */
  int         code;         /* VtClientError, or -1 for no error */
  guint       min_requests;
  guint       max_requests;
} Expect;

/* The waits a fault imposes between the requests the server sees: in
 * every @every consecutive gaps, one at least @seconds long. A Retry-After
 * on every answer, or on every other one; or, for requests the server
 * never answers, the request timeout each of them runs out. */
typedef struct
{
  guint       every;        /* 0: none */
  double      seconds;      /* REQUEST_TIMEOUT: the cell's request timeout */
} MinGap;

#define REQUEST_TIMEOUT (-1.0)

/* A check of the targets (path and query) of the requests the server
 * saw, in order. */
typedef void (*TargetsCheck) (GStrv targets);

typedef struct
{
  const char *fault;        /* the --faults spec */
  Mode        mode;
  double      request_timeout;
  MinGap      min_gap;
  Expect      expect;
  guint       max_attempts; /* 0: MAX_ATTEMPTS */
  TargetsCheck check;       /* or NULL */
} Cell;

typedef struct
{
  GArray   *statuses;
  gboolean  completed;
  GAsyncResult *result;
} Watch;

/* The client's budget in every cell, and how long its job takes. */
#define BUDGET S (1.5)
#define JOB_DURATION S (0.4)
/* A slow body comes in five pieces 200 ms apart, whatever the scale. */
#define SLOW_BODY_SECONDS 0.8
#define MAX_ATTEMPTS 8

static void
on_status_changed (VtClient   *client,
                   const char *job_id,
                   VtStatus    status,
                   Watch      *watch)
{
  /* Never after completion, never the same status twice in a row. */
  g_assert_false (watch->completed);
  if (watch->statuses->len > 0)
    g_assert_cmpint (g_array_index (watch->statuses, VtStatus, watch->statuses->len - 1), !=, status);
  g_array_append_val (watch->statuses, status);
}

static void
on_done (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  Watch *watch = user_data;

  watch->completed = TRUE;
  watch->result = g_object_ref (result);
}

/* Creates a job that completes @duration seconds from now, on a server
 * without faults that keeps its jobs in @state; the faulty server then
 * starts from the same file (POST /jobs would be faulted too). */
static char *
create_job (const char *state,
            double      duration)
{
  g_autoptr(VtTestServer) server = vt_test_server_start ("--state", state, NULL);
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree char *url = g_strconcat (vt_test_server_get_url (server), "/jobs", NULL);
  g_autofree char *body = g_strdup_printf ("{\"duration\": %.3f}", duration);
  g_autoptr(SoupMessage) message = soup_message_new ("POST", url);
  g_autoptr(GBytes) request = g_bytes_new (body, strlen (body));
  g_autoptr(GBytes) response = NULL;
  g_autoptr(GError) error = NULL;
  const char *id;

  soup_message_set_request_body_from_bytes (message, "application/json", request);
  response = soup_session_send_and_read (session, message, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (soup_message_get_status (message), ==, SOUP_STATUS_CREATED);
  id = strstr (g_bytes_get_data (response, NULL), "\"id\":\"");
  g_assert_nonnull (id);

  return g_strndup (id + 6, 36);
}

/* A slow body takes the server a real second whatever the test's time
 * scale: its cells keep their request timeouts unstretched, one shorter
 * and one longer than that second. */
static double
request_timeout (const Cell *cell)
{
  if (g_str_has_prefix (cell->fault, "slow-body"))
    return cell->request_timeout;

  return S (cell->request_timeout);
}

static double
min_gap_seconds (const Cell *cell)
{
  return cell->min_gap.seconds == REQUEST_TIMEOUT ? request_timeout (cell) :
                                                    cell->min_gap.seconds;
}

/* The most requests a client that keeps the cell's gaps can make in the
 * budget: of the gaps between them, all but the last (the deadline's
 * request may cut a Retry-After short) hold one such gap in every
 * @every, so (n - 2) / every of them fit in the budget. The server's
 * seconds do not stretch with the test's time scale: a stretched budget
 * (valgrind) leaves room for more tries, up to the attempts. */
static guint
max_requests (const Cell *cell)
{
  guint kept;

  /* Polls that wait out a slow body see a stretched job (valgrind)
   * pending more often: one more time per slow body it lasts. */
  if (g_str_has_prefix (cell->fault, "slow-body:1") && cell->expect.code < 0 &&
      (cell->mode == MODE_ASYNC || cell->mode == MODE_SYNC))
    return cell->expect.max_requests + (guint) ceil (JOB_DURATION / SLOW_BODY_SECONDS) - 1;

  if (cell->min_gap.every == 0)
    return cell->expect.max_requests;

  kept = cell->min_gap.every * ((guint) (BUDGET / min_gap_seconds (cell)) + 1) + 1;
  return MIN (cell->expect.max_requests, kept);
}

/* In every @every consecutive gaps between the requests the server saw,
 * one is at least the cell's gap; only the deadline's request (at the
 * budget's end, which runs from a first request sent after @called_us)
 * may come sooner. */
static void
assert_gaps_kept (const Cell *cell,
                  GArray     *arrivals,
                  gint64      called_us)
{
  guint every = cell->min_gap.every;
  guint n_gaps;

  if (every == 0 || arrivals->len < 2)
    return;

  /* The last gap counts unless the last request is the deadline's. */
  n_gaps = arrivals->len - 1;
  if ((g_array_index (arrivals, gint64, n_gaps) - called_us) / (double) G_USEC_PER_SEC >= BUDGET)
    n_gaps--;

  for (guint first = 0; first + every <= n_gaps; first++)
    {
      double longest = 0;

      for (guint i = first; i < first + every; i++)
        longest = MAX (longest, (g_array_index (arrivals, gint64, i + 1) -
                                 g_array_index (arrivals, gint64, i)) / (double) G_USEC_PER_SEC);
      g_assert_cmpfloat (longest, >=, min_gap_seconds (cell));
    }
}

static const char * const job_routes[] = { "/jobs/{id}", "/jobs/{id}/events", NULL };

/* The number in @target's query parameter @name, or 0 without it. */
static guint64
query_number (const char *target,
              const char *name)
{
  const char *query = strchr (target, '?');
  g_autoptr(GHashTable) params = NULL;
  const char *value;

  if (query == NULL)
    return 0;

  params = g_uri_parse_params (query + 1, -1, "&", G_URI_PARAMS_NONE, NULL);
  value = params != NULL ? g_hash_table_lookup (params, name) : NULL;

  return value != NULL ? g_ascii_strtoull (value, NULL, 10) : 0;
}

/* One redirect per request: each request to the job's own URL is sent on
 * to the Location, for that one request, and the next starts from the
 * job's URL again: own, redirected, own, redirected... */
static void
check_redirected_once (GStrv targets)
{
  guint n = g_strv_length (targets);

  g_assert_cmpuint (n % 2, ==, 0);
  for (guint i = 0; i < n; i++)
    g_assert_cmpuint (query_number (targets[i], "vt-redirected"), ==, i % 2);
}

/* The most redirects a watch follows in a row. */
#define MAX_REDIRECTS 5

/* A loop: each hop follows the one before (vt-loop=1, 2, ...), at most
 * MAX_REDIRECTS in a row; after the answer that would be one more, the
 * watch starts again from the job's own URL (or stops). */
static void
check_redirect_chains (GStrv targets)
{
  guint64 previous = 0;

  for (guint i = 0; targets[i] != NULL; i++)
    {
      guint64 hops = query_number (targets[i], "vt-loop");

      g_assert_cmpuint (hops, <=, MAX_REDIRECTS);
      if (hops > 0)
        g_assert_cmpuint (hops, ==, previous + 1);
      else if (i > 0)
        g_assert_cmpuint (previous, ==, MAX_REDIRECTS);
      previous = hops;
    }
}

static void
log_arrivals (const Cell *cell,
              GArray     *arrivals,
              gint64      called_us)
{
  g_autoptr(GString) times = g_string_new (NULL);

  for (guint i = 0; i < arrivals->len; i++)
    g_string_append_printf (times, " %.3f",
                            (g_array_index (arrivals, gint64, i) - called_us) /
                            (double) G_USEC_PER_SEC);
  g_test_message ("%s × %s: requests at%s s", cell->fault, mode_names[cell->mode], times->str);
}

static void
test_cell (gconstpointer data)
{
  const Cell *cell = data;
  g_autofree char *dir = g_dir_make_tmp ("vt-faults-XXXXXX", NULL);
  g_autofree char *state = g_build_filename (dir, "jobs.json", NULL);
  g_autofree char *id = create_job (state, JOB_DURATION);
  g_autofree char *job_path = g_strconcat ("/jobs/", id, NULL);
  g_autoptr(VtTestServer) server =
    vt_test_server_start ("--state", state, "--seed", "11", "--faults", cell->fault,
                          /* The per-job channels: a feed is no job's route. */
                          "--no-feeds", NULL);
  g_autoptr(VtTestProxy) proxy = vt_test_proxy_new (vt_test_server_get_url (server));
  g_autoptr(VtClient) client = vt_client_new (vt_test_proxy_get_url (proxy));
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) arrivals = NULL;
  g_auto(GStrv) targets = NULL;
  Watch watch = { g_array_new (FALSE, FALSE, sizeof (VtStatus)), FALSE, NULL };
  VtStatus status;
  gint64 called_us;
  guint answered;

  g_object_set (client,
                "strategy", cell->mode == MODE_STREAM ? VT_STRATEGY_STREAM :
                            cell->mode == MODE_LONG_POLL ? VT_STRATEGY_LONG_POLL :
                            VT_STRATEGY_POLL,
                "initial-wait-time", S (0.02), "jitter", 0.0,
                "min-interval", S (0.01), "max-interval", S (0.1),
                "max-attempts", cell->max_attempts ? cell->max_attempts : MAX_ATTEMPTS,
                "max-wait-time", BUDGET,
                "request-timeout", request_timeout (cell),
                NULL);
  g_signal_connect (client, "status-changed", G_CALLBACK (on_status_changed), &watch);

  called_us = g_get_monotonic_time ();
  if (cell->mode == MODE_SYNC)
    {
      status = vt_client_get_status (client, id, NULL, &error);
      watch.completed = TRUE;
    }
  else
    {
      vt_client_get_status_async (client, id, NULL, on_done, &watch);
      while (!watch.completed)
        g_main_context_iteration (NULL, TRUE);
      status = vt_client_get_status_finish (client, watch.result, &error);
      g_clear_object (&watch.result);
    }

  arrivals = vt_test_proxy_get_arrivals (proxy, job_path);
  targets = vt_test_proxy_get_targets (proxy, job_path);
  answered = vt_test_server_count_requests (server, job_routes, 0);
  log_arrivals (cell, arrivals, called_us);
  if (cell->check != NULL)
    for (guint i = 0; targets[i] != NULL; i++)
      g_test_message ("request %u: %s", i, targets[i]);
  g_test_message ("%s × %s: status %d, error %s, %u requests seen, %u answered, %u signals",
                  cell->fault, mode_names[cell->mode], status,
                  error ? error->message : "none", arrivals->len, answered,
                  watch.statuses->len);

  if (cell->expect.code < 0)
    {
      g_assert_no_error (error);
      g_assert_cmpint (status, ==, cell->expect.status);
      /* The job was followed to its end, or to the end of the budget
       * while pending: the last signal says which. */
      g_assert_cmpuint (watch.statuses->len, >=, 1);
      g_assert_cmpint (g_array_index (watch.statuses, VtStatus, watch.statuses->len - 1), ==,
                       status == VT_STATUS_TIMEOUT ? VT_STATUS_PENDING : status);
    }
  else
    g_assert_error (error, VT_CLIENT_ERROR, cell->expect.code);
  /* The only HTTP errors here are redirects the watch would not follow. */
  if (cell->expect.code == VT_CLIENT_ERROR_HTTP)
    g_assert_nonnull (strstr (error->message, "redirect"));

  /* Every request the server answered went through the proxy. */
  g_assert_cmpuint (answered, <=, arrivals->len);
  g_assert_cmpuint (arrivals->len, >=, cell->expect.min_requests);
  g_assert_cmpuint (arrivals->len, <=, max_requests (cell));
  assert_gaps_kept (cell, arrivals, called_us);
  if (cell->check != NULL)
    cell->check (targets);

  g_array_unref (watch.statuses);
  g_unlink (state);
  g_rmdir (dir);
}

int
main (int   argc,
      char *argv[])
{
  /* Every fault, into every request: what must come out, for polling
   * (async and sync), a stream and a long-poll. Faults that spoil a
   * finished body leave held long-polls and open streams alone (there is
   * no finished body to spoil), so those cells follow the job to its true
   * end. */
#define UNREACHABLE(min, max) { 0, VT_CLIENT_ERROR_UNREACHABLE, min, max }
#define PROTOCOL(min, max)    { 0, VT_CLIENT_ERROR_PROTOCOL, min, max }
#define COMPLETED(min, max)   { VT_STATUS_COMPLETED, -1, min, max }
#define TIMEOUT(min, max)     { VT_STATUS_TIMEOUT, -1, min, max }
#define HTTP(min, max)        { 0, VT_CLIENT_ERROR_HTTP, min, max }
  static const struct
  {
    const char *fault;
    double      request_timeout;
    MinGap      min_gap;
    Expect      poll, stream, long_poll;
    guint       max_attempts;
    TargetsCheck check;
  } always[] = {
    /* Retried until the budget is spent; every other 503 carries a
     * Retry-After of a second, which is obeyed: at most five requests in
     * the 1.5 s budget (0, 1, 1 and a bit, and the deadline's), where a
     * client that ignored it would use all eight attempts. */
    { "status=503:1", 0.25, { 2, 1.0 },
      UNREACHABLE (3, MAX_ATTEMPTS), UNREACHABLE (3, MAX_ATTEMPTS), UNREACHABLE (3, MAX_ATTEMPTS) },
    /* Every 429 carries a Retry-After: 1 s, or an HTTP-date 2 s ahead in
     * whole seconds (at least 1 s, less the time its answer took). */
    { "retry-after=429:1", 0.25, { 1, 0.9 },
      UNREACHABLE (2, MAX_ATTEMPTS), UNREACHABLE (2, MAX_ATTEMPTS), UNREACHABLE (2, MAX_ATTEMPTS) },
    /* Dropped connections, before or in the middle of the body. Polling
     * retries each at once, until the attempts run out (all eight well
     * inside the budget); a stream or long-poll is dropped once, before
     * any byte, then goes through (held answers are not spoiled). */
    { "reset:1", 0.25, { 0, 0 },
      UNREACHABLE (MAX_ATTEMPTS, MAX_ATTEMPTS), COMPLETED (2, 2), COMPLETED (2, 2) },
    /* Never answered: each request runs out its 0.25 s timeout, and the
     * next is only sent then: four to eight in the budget. A long-poll
     * is held for the rest of the budget anyway: one, two at most. */
    { "hang:1", 0.25, { 1, REQUEST_TIMEOUT },
      UNREACHABLE (4, MAX_ATTEMPTS), UNREACHABLE (4, MAX_ATTEMPTS), UNREACHABLE (1, 2) },
    /* Unreadable bodies: three in a row are the server's answer. Held
     * answers are not spoiled: a stream follows the job to its end. A
     * long-poll's first request asks with no wait, is spoiled, and its
     * Retry-After (1 s) takes the next past the job's end: answered at
     * once, spoiled too. */
    { "garbage:1", 0.25, { 0, 0 }, PROTOCOL (3, 3), COMPLETED (1, 1), PROTOCOL (3, 3) },
    /* 10 MB, refused on its Content-Length, headers unread: the retry
     * after a long-poll's first request is soon, and held. */
    { "huge:1", 0.25, { 0, 0 }, PROTOCOL (3, 3), COMPLETED (1, 1), COMPLETED (2, 2) },
    { "no-status:1", 0.25, { 0, 0 }, PROTOCOL (3, 3), COMPLETED (1, 1), PROTOCOL (3, 3) },
    /* One redirect to the same resource is followed, for that request
     * (the job's URL and the redirected one take turns), each hop one of
     * the watch's requests: with 4 attempts, 2 polls 0.1 s apart spend
     * them well before the job's end at 0.4 s; a stream sees the end
     * after one hop, a long-poll after two (its first request asked with
     * no wait, then the held one). */
    { "redirect:1", 0.25, { 0, 0 }, TIMEOUT (4, 4), COMPLETED (2, 2), COMPLETED (4, 4), 4,
      check_redirected_once },
    /* A loop: every hop counts against max-attempts; five redirects in a
     * row are followed, the sixth answer is a failed attempt, retried
     * from the job's own URL: the watch makes exactly its 8 requests and
     * fails with the redirect error. */
    { "redirect-loop:1", 0.25, { 0, 0 },
      HTTP (MAX_ATTEMPTS, MAX_ATTEMPTS), HTTP (MAX_ATTEMPTS, MAX_ATTEMPTS),
      HTTP (MAX_ATTEMPTS, MAX_ATTEMPTS), 0, check_redirect_chains },
    /* A body dribbled over a second: slower than a 0.25 s request
     * timeout, which ends each request as a hang does (a long-poll's
     * first, asked with no wait; the held one after it is not
     * spoiled)... */
    { "slow-body:1", 0.25, { 1, REQUEST_TIMEOUT },
      UNREACHABLE (4, MAX_ATTEMPTS), COMPLETED (1, 1), COMPLETED (2, 2) },
    /* ...and inside a 3 s one: the first answer says pending, the second,
     * a second later, completed. */
    { "slow-body:1", 3.0, { 0, 0 }, COMPLETED (2, 2), COMPLETED (1, 1), COMPLETED (2, 2) },
  };
#undef UNREACHABLE
#undef PROTOCOL
#undef COMPLETED
#undef TIMEOUT
#undef HTTP
  static const char *sometimes[] = {
    "status=503:0.5", "retry-after=429:0.3", "reset:0.5", "hang:0.3", "garbage:0.5",
    "huge:0.5", "no-status:0.5", "redirect:0.5", "redirect-loop:0.3", "slow-body:0.5",
  };
  static Cell cells[G_N_ELEMENTS (always) * N_MODES + G_N_ELEMENTS (sometimes) * N_MODES];
  guint n = 0;

  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (always); i++)
    for (Mode mode = 0; mode < N_MODES; mode++)
      {
        g_autofree char *path = g_strdup_printf ("/faults/always/%s/%s/timeout-%g",
                                                 always[i].fault, mode_names[mode],
                                                 always[i].request_timeout);
        const Expect *expect = mode == MODE_STREAM ? &always[i].stream :
                               mode == MODE_LONG_POLL ? &always[i].long_poll :
                               &always[i].poll;

        cells[n] = (Cell) { always[i].fault, mode, always[i].request_timeout,
                            always[i].min_gap, *expect, always[i].max_attempts,
                            always[i].check };
        g_test_add_data_func (path, &cells[n++], test_cell);
      }

  /* Some requests faulty: the job is still followed to its end. */
  for (guint i = 0; i < G_N_ELEMENTS (sometimes); i++)
    for (Mode mode = 0; mode < N_MODES; mode++)
      {
        g_autofree char *path = g_strdup_printf ("/faults/sometimes/%s/%s",
                                                 sometimes[i], mode_names[mode]);

        /* A dribbled body needs a request timeout longer than its second. */
        double timeout = g_str_has_prefix (sometimes[i], "slow-body") ? 3.0 : 0.25;
        /* Redirect hops are requests too: room for them. */
        guint attempts = g_str_has_prefix (sometimes[i], "redirect") ? 2 * MAX_ATTEMPTS :
                                                                        MAX_ATTEMPTS;
        /* A connection the client reused and the server dropped before
         * any byte of its answer: libsoup sends the request again, once,
         * on a new connection, unseen by the watch's attempt count. */
        guint max = g_str_has_prefix (sometimes[i], "reset") ? 2 * attempts : attempts;

        cells[n] = (Cell) { sometimes[i], mode, timeout, { 0, 0 },
                            { VT_STATUS_COMPLETED, -1, 1, max }, attempts, NULL };
        g_test_add_data_func (path, &cells[n++], test_cell);
      }

  return g_test_run ();
}
