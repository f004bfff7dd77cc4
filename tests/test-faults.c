/* test-faults.c: the client against every fault vt-server can inject
 *
 * A matrix of fault kinds × ways of following a job. For each cell the
 * server injects the fault into every request (P = 1) or into half of them
 * (P = 0.5, seeded), and the test asserts the final status or the exact
 * error, the requests the server saw, and that status-changed never
 * repeated a status nor fired after the task completed.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <string.h>
#include <vtclient.h>

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
 * VT_CLIENT_ERROR; and bounds on the requests the server saw for the job. */
typedef struct
{
  VtStatus    status;       /* when code < 0 */
  int         code;         /* VtClientError, or -1 for no error */
  guint       min_requests;
  guint       max_requests;
} Expect;

typedef struct
{
  const char *fault;        /* the --faults spec */
  Mode        mode;
  double      request_timeout;
  Expect      expect;
  guint       max_attempts; /* 0: the usual 8 */
} Cell;

typedef struct
{
  GArray   *statuses;
  gboolean  completed;
  GAsyncResult *result;
} Watch;

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

/* The server's Retry-After (a second) is not stretched with the test's
 * times: a stretched budget (valgrind) leaves room for more tries, up to
 * the 8 attempts. */
static guint
max_requests (const Cell *cell)
{
  if (g_str_has_prefix (cell->fault, "retry-after"))
    return MIN (8, (guint) (cell->expect.max_requests * vt_test_time_scale ()));

  return cell->expect.max_requests;
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

static const char * const job_routes[] = { "/jobs/{id}", "/jobs/{id}/events", NULL };

static void
test_cell (gconstpointer data)
{
  const Cell *cell = data;
  g_autofree char *dir = g_dir_make_tmp ("vt-faults-XXXXXX", NULL);
  g_autofree char *state = g_build_filename (dir, "jobs.json", NULL);
  g_autofree char *id = create_job (state, S (0.4));
  g_autoptr(VtTestServer) server =
    vt_test_server_start ("--state", state, "--seed", "11", "--faults", cell->fault, NULL);
  g_autoptr(VtClient) client = vt_client_new (vt_test_server_get_url (server));
  g_autoptr(GError) error = NULL;
  Watch watch = { g_array_new (FALSE, FALSE, sizeof (VtStatus)), FALSE, NULL };
  VtStatus status;
  guint requests;

  g_object_set (client,
                "strategy", cell->mode == MODE_STREAM ? VT_STRATEGY_STREAM :
                            cell->mode == MODE_LONG_POLL ? VT_STRATEGY_LONG_POLL :
                            VT_STRATEGY_POLL,
                "initial-wait-time", S (0.02), "jitter", 0.0,
                "min-interval", S (0.01), "max-interval", S (0.1),
                "max-attempts", cell->max_attempts ? cell->max_attempts : 8,
                "max-wait-time", S (1.5),
                "request-timeout", request_timeout (cell),
                NULL);
  g_signal_connect (client, "status-changed", G_CALLBACK (on_status_changed), &watch);

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

  requests = vt_test_server_count_requests (server, job_routes, cell->expect.min_requests);
  g_test_message ("%s × %s: status %d, error %s, %u requests, %u signals",
                  cell->fault, mode_names[cell->mode], status,
                  error ? error->message : "none", requests, watch.statuses->len);

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

  g_assert_cmpuint (requests, >=, cell->expect.min_requests);
  g_assert_cmpuint (requests, <=, max_requests (cell));

  g_array_unref (watch.statuses);
  g_unlink (state);
  g_rmdir (dir);
}

int
main (int   argc,
      char *argv[])
{
  /* Every fault, into every request: what must come out, for polling
   * (async and sync) and for the push channels (stream and long-poll).
   * Faults that spoil a finished body leave held long-polls and open
   * streams alone (there is no finished body to spoil), so those cells
   * follow the job to its true end. */
  static const struct
  {
    const char *fault;
    double      request_timeout;
    Expect      poll, push;
  } always[] = {
    /* Retried until the budget is spent; half the 503s carry a
     * Retry-After of a second, which is obeyed. */
    { "status=503:1", 0.25, { 0, VT_CLIENT_ERROR_UNREACHABLE, 2, 8 },
                            { 0, VT_CLIENT_ERROR_UNREACHABLE, 2, 8 } },
    /* Retry-After (about 1 s) is obeyed: the 1.5 s budget allows a few. */
    { "retry-after=429:1", 0.25, { 0, VT_CLIENT_ERROR_UNREACHABLE, 2, 4 },
                                 { 0, VT_CLIENT_ERROR_UNREACHABLE, 2, 4 } },
    /* Dropped connections, before or in the middle of the body; the
     * server does not count the requests it dropped. */
    { "reset:1", 0.25, { 0, VT_CLIENT_ERROR_UNREACHABLE, 0, 8 },
                       { VT_STATUS_COMPLETED, -1, 0, 8 } },
    /* Each request times out after 0.25 s. */
    { "hang:1", 0.25, { 0, VT_CLIENT_ERROR_UNREACHABLE, 0, 8 },
                      { 0, VT_CLIENT_ERROR_UNREACHABLE, 0, 8 } },
    /* Unreadable bodies: three in a row are the server's answer. */
    { "garbage:1", 0.25, { 0, VT_CLIENT_ERROR_PROTOCOL, 3, 3 },
                         { VT_STATUS_COMPLETED, -1, 1, 8 } },
    /* 10 MB, refused on its Content-Length; the server may not count a
     * response the client hung up on. */
    { "huge:1", 0.25, { 0, VT_CLIENT_ERROR_PROTOCOL, 1, 3 },
                      { VT_STATUS_COMPLETED, -1, 1, 8 } },
    { "no-status:1", 0.25, { 0, VT_CLIENT_ERROR_PROTOCOL, 3, 3 },
                           { VT_STATUS_COMPLETED, -1, 1, 8 } },
    /* One redirect to the same resource is followed; each hop is one of
     * the watch's requests: 4 polls 0.1 s apart use up the 8 attempts
     * before the job's end at 0.4 s, a held request sees the end. */
    { "redirect:1", 0.25, { VT_STATUS_TIMEOUT, -1, 8, 8 },
                          { VT_STATUS_COMPLETED, -1, 2, 2 } },
    /* A loop: every hop counts against max-attempts (8), so the watch
     * makes exactly its 8 requests and fails with a redirect error. */
    { "redirect-loop:1", 0.25, { 0, VT_CLIENT_ERROR_HTTP, 8, 8 },
                               { 0, VT_CLIENT_ERROR_HTTP, 8, 8 } },
    /* A body dribbled over a second: slower than a 0.25 s request
     * timeout, which ends each request (uncounted, as the client hung up
     * before the server finished)... */
    { "slow-body:1", 0.25, { 0, VT_CLIENT_ERROR_UNREACHABLE, 0, 8 },
                           { VT_STATUS_COMPLETED, -1, 1, 8 } },
    /* ...and inside a 3 s one. */
    { "slow-body:1", 3.0, { VT_STATUS_COMPLETED, -1, 1, 8 },
                          { VT_STATUS_COMPLETED, -1, 1, 8 } },
  };
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
        gboolean push = mode == MODE_STREAM || mode == MODE_LONG_POLL;

        cells[n] = (Cell) { always[i].fault, mode, always[i].request_timeout,
                            push ? always[i].push : always[i].poll };
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
        guint attempts = g_str_has_prefix (sometimes[i], "redirect") ? 16 : 8;

        cells[n] = (Cell) { sometimes[i], mode, timeout,
                            { VT_STATUS_COMPLETED, -1, 1, attempts }, attempts };
        g_test_add_data_func (path, &cells[n++], test_cell);
      }

  return g_test_run ();
}
