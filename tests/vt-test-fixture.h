/* vt-test-fixture.h: what the client tests share
 *
 * A scripted in-process SoupServer: a test gives each path a script of
 * answers and reads back the log of every request it answered (path,
 * query, headers, monotonic arrival time). A GTest fixture (VtFixture,
 * added with VT_FIXTURE_ADD) puts a VtClient with a fast schedule in front
 * of one, and records every status-changed emission and the completion.
 *
 * Main-loop iterations the tests run are counted, so that promptness is
 * pinned in iterations (VtCancelProbe), not in milliseconds that a loaded
 * machine stretches. And helpers for the tests against the real vt-server
 * (vt-test-server.h): a fast client, submitting a job, following one with
 * its signals recorded.
 *
 * libsoup's tests/test-utils.c is the model.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <libsoup/soup.h>
#include <vtclient.h>

#include "vt-test-server.h"

G_BEGIN_DECLS

/* Seconds, stretched for slow runs (see vt_test_time_scale()). */
#define S(seconds) ((seconds) * vt_test_time_scale ())

/* ------------------------------------------------------------------ */
/* Counted main-loop iterations                                        */

/* Runs one iteration of the default main context and counts it. Every
 * loop of the client tests goes through here, and so has a deadline: a
 * test still iterating VT_TEST_DEADLINE seconds (scaled) after its first
 * iteration fails there, not at the harness's timeout. */
#define VT_TEST_DEADLINE 30
void         vt_test_iterate             (gboolean      may_block);
/* The number of the iteration running now (or, between iterations, of
 * the next one). */
guint        vt_test_iteration           (void);

/* One asynchronous call: its result, and the iteration and monotonic
 * time at which its callback ran. */
typedef struct
{
  GAsyncResult *result;
  gboolean      done;
  guint         done_iteration;
  gint64        done_us;
} VtAsyncCall;

/* A GAsyncReadyCallback for a VtAsyncCall passed as user data. */
void         vt_async_call_ready         (GObject      *source,
                                          GAsyncResult *result,
                                          gpointer      call);
/* Runs the main context until the callback ran. */
void         vt_async_call_wait          (VtAsyncCall  *call);
void         vt_async_call_clear         (VtAsyncCall  *call);

/* A cancellation whose effect a test measures: the iteration and the
 * monotonic time of the g_cancellable_cancel() call. */
typedef struct
{
  GCancellable *cancellable;
  gboolean      cancelled;
  gboolean      in_dispatch;   /* cancelled from a source's callback */
  guint         cancel_iteration;
  gint64        cancel_us;
} VtCancelProbe;

void         vt_cancel_probe_init        (VtCancelProbe *probe);
void         vt_cancel_probe_clear       (VtCancelProbe *probe);
/* Records the iteration and the time: from here the call must complete
 * (for a cancellation by other means, such as a dispose). */
void         vt_cancel_probe_mark        (VtCancelProbe *probe);
/* Marks, then cancels. */
void         vt_cancel_probe_cancel      (VtCancelProbe *probe);
/* Runs the main context, blocking, until the probe has cancelled; from
 * then on without blocking, so that only sources already due run, until
 * @call's callback ran. Asserts that it ran at most @max_iterations
 * iterations after the one that cancelled (one fewer when the cancel
 * came between iterations, from the test itself: no iteration was under
 * way to finish first): a client that waits out a timer or a request
 * before it reports the cancellation fails. */
void         vt_cancel_probe_assert_prompt (VtCancelProbe *probe,
                                            VtAsyncCall   *call,
                                            guint          max_iterations);

/* What a cancellation from a callback costs through a GTask before the
 * callback runs: the client's cancellation idle runs in the iteration
 * after the one that cancelled, and a GTask returns a cancelled result
 * from an idle of its own, one iteration later. */
#define VT_CANCEL_ITERATIONS 2

/* ------------------------------------------------------------------ */
/* The scripted server                                                 */

/* One scripted answer. The last answer of a script repeats. */
typedef struct
{
  guint       status;
  const char *body;
  const char *retry_after;
  gboolean    hang;        /* never answer (the message is paused) */
  const char *location;    /* a Location header, for redirects */
  const char *headers;     /* more response headers, "Name: value" lines
                            * ("\n" between them), set after the body's
                            * Content-Type: they may replace it */
} VtReply;

#define VT_REPLY_PENDING   { 200, "{\"result\": \"pending\"}", NULL, FALSE, NULL }
#define VT_REPLY_COMPLETED { 200, "{\"result\": \"completed\"}", NULL, FALSE, NULL }
#define VT_REPLY_FAILED    { 200, "{\"result\": \"error\"}", NULL, FALSE, NULL }
#define VT_REPLY_HANG      { 0, NULL, NULL, TRUE, NULL }
/* Ends every script. */
#define VT_REPLY_END       { 0, NULL, NULL, FALSE, NULL }

/* One request the server answered (or held), as it arrived. */
typedef struct
{
  char               *method;
  char               *path;        /* decoded, as handlers see it */
  char               *query;       /* the raw query string, or NULL */
  SoupMessageHeaders *headers;     /* the request's headers */
  gint64              arrived_us;  /* g_get_monotonic_time() in the handler */
} VtLoggedRequest;

typedef struct _VtScriptedServer VtScriptedServer;

/* Listens on 127.0.0.1, a free port, in the thread-default main context.
 * Paths without a script answer 404. */
VtScriptedServer      *vt_scripted_server_new        (void);
void                   vt_scripted_server_free       (VtScriptedServer *server);
void                   vt_scripted_server_clear_log  (VtScriptedServer *server);
/* "http://127.0.0.1:PORT" */
const char            *vt_scripted_server_get_url    (VtScriptedServer *server);
SoupServer            *vt_scripted_server_get_soup_server (VtScriptedServer *server);
/* @replies must outlive the server's use of them, and end with
 * VT_REPLY_END. */
void                   vt_scripted_server_script     (VtScriptedServer *server,
                                                      const char       *path,
                                                      const VtReply    *replies);
/* Requests on @path, or on every path when NULL. */
guint                  vt_scripted_server_count      (VtScriptedServer *server,
                                                      const char       *path);
/* The @n-th (from 0) request on @path (every path when NULL). */
const VtLoggedRequest *vt_scripted_server_get_request (VtScriptedServer *server,
                                                       const char       *path,
                                                       guint             n);
/* The held requests (VT_REPLY_HANG) whose client has hung up. */
guint                  vt_scripted_server_count_hung_up (VtScriptedServer *server);
/* Seconds from the arrival of the @first-th request on @path to that of
 * the @second-th. */
double                 vt_scripted_server_gap        (VtScriptedServer *server,
                                                      const char       *path,
                                                      guint             first,
                                                      guint             second);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VtScriptedServer, vt_scripted_server_free)

/* ------------------------------------------------------------------ */
/* The fixture: a client in front of a scripted server                 */

typedef struct
{
  VtScriptedServer *server;
  VtClient         *client;
  GArray           *statuses;   /* VtStatus, as emitted */
  GPtrArray        *job_ids;    /* the job id of each emission */
  VtAsyncCall       call;       /* the one vt_fixture_start() made */
} VtFixture;

/* The client's schedule: initial wait 0.01 s (scaled), factor 2, no
 * jitter, 10 attempts, 5 s budget. */
void      vt_fixture_set_up        (VtFixture      *f,
                                    gconstpointer   data);
void      vt_fixture_tear_down     (VtFixture      *f,
                                    gconstpointer   data);

#define VT_FIXTURE_ADD(path, func) \
  g_test_add (path, VtFixture, NULL, vt_fixture_set_up, func, vt_fixture_tear_down)

void      vt_fixture_script        (VtFixture      *f,
                                    const char     *path,
                                    const VtReply  *replies);
guint     vt_fixture_count         (VtFixture      *f,
                                    const char     *path);
/* vt_client_get_status_async() into f->call. */
void      vt_fixture_start         (VtFixture      *f,
                                    const char     *job_id,
                                    GCancellable   *cancellable);
VtStatus  vt_fixture_finish        (VtFixture      *f,
                                    GError        **error);
/* Start, wait, finish. */
VtStatus  vt_fixture_follow        (VtFixture      *f,
                                    const char     *job_id,
                                    GCancellable   *cancellable,
                                    GError        **error);
/* Asserts the emitted statuses are exactly the @n given (VtStatus). */
void      vt_fixture_assert_statuses (VtFixture    *f,
                                      guint         n,
                                      ...);

/* ------------------------------------------------------------------ */
/* Against the real vt-server                                          */

/* vt-server with --delay @seconds (scaled) and the further arguments,
 * NULL-terminated. */
VtTestServer *vt_test_server_start_delay (double      seconds,
                                          ...) G_GNUC_NULL_TERMINATED;

/* A client for @server's URL with a fast schedule: initial wait 0.05 s,
 * no jitter, min-interval 0.01 s, a 5 s budget (all scaled). */
VtClient *vt_test_fast_client      (VtTestServer   *server,
                                    VtStrategy      strategy);
/* POST /jobs through @client, waiting on the main context; the id. */
char     *vt_test_submit           (VtClient       *client);
/* POST /jobs straight to @server, a job that ends @seconds from now
 * (scale them yourself), with @outcome ("completed", "error" or NULL for
 * the server's draw) and, for an error, @message (nullable): the id. */
char     *vt_test_create_job       (VtTestServer   *server,
                                    double          seconds,
                                    const char     *outcome,
                                    const char     *message);

/* What a watch emitted. */
typedef struct
{
  GArray   *statuses;     /* VtStatus */
  guint     n_progress;
  gboolean  progress_ok;  /* every progress in [0, 1], every eta >= 0 */
  VtClient *client;
  gulong    handlers[2];
} VtObserved;

/* Records @client's signals into @observed from now until
 * vt_observed_stop(). */
void      vt_observed_start        (VtObserved     *observed,
                                    VtClient       *client);
void      vt_observed_stop         (VtObserved     *observed);

/* vt_client_get_status() with the signals recorded into @observed (clear
 * it with vt_observed_clear()): start, follow, stop. Asserts the job
 * completed, without error. */
void      vt_test_follow_completed (VtClient       *client,
                                    const char     *job_id,
                                    VtObserved     *observed);
/* Asserts the statuses were pending, then @final; clears them. */
void      vt_observed_assert_pending_then (VtObserved *observed,
                                           VtStatus    final);
void      vt_observed_clear        (VtObserved     *observed);

/* Follows a job of a vt-server --plain with @strategy: whatever channel
 * it asked for, the client falls back to polling and sees the job
 * pending, then completed, with no progress (a plain server sends none). */
void      vt_test_assert_fallback_on_plain_server (VtStrategy strategy);

/* The requests @server counted on one route (GET /metrics), scraped
 * until there are @at_least. */
guint     vt_test_server_requests  (VtTestServer   *server,
                                    const char     *route,
                                    guint           at_least);

/* Runs the main context, so that the client sends what it has to, until
 * @server has counted @n requests on @route: what a client sends without
 * telling anyone (a feed's leave) cannot be awaited otherwise. */
void      vt_test_wait_requests    (VtTestServer   *server,
                                    const char     *route,
                                    guint           n);

/* Runs the main context until the gauge @name of @server reads @value. */
void      vt_test_wait_gauge       (VtTestServer   *server,
                                    const char     *name,
                                    guint           value);

G_END_DECLS
