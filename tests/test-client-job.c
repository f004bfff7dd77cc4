/* test-client-job.c: VtJob, what a GTK application binds to
 *
 * Against the real vt-server: the notifications of a job's properties,
 * its progress bound onto another object moving smoothly on every
 * channel, its result URL and message, the client's list of jobs, one
 * job per id, waiters and cancellation, and no growth over many jobs.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "vt-test-fixture.h"

#if defined(__SANITIZE_ADDRESS__)
# define UNDER_ASAN 1
#elif defined(__has_feature)
# if __has_feature(address_sanitizer)
#  define UNDER_ASAN 1
# endif
#endif

/* ------------------------------------------------------------------ */
/* A property to bind onto                                             */

#define TEST_TYPE_SINK (test_sink_get_type ())
G_DECLARE_FINAL_TYPE (TestSink, test_sink, TEST, SINK, GObject)

struct _TestSink
{
  GObject  parent_instance;
  double   fraction;
  GArray  *values;    /* every value set, in order */
  GArray  *times;     /* gint64, when */
};

G_DEFINE_FINAL_TYPE (TestSink, test_sink, G_TYPE_OBJECT)

static void
test_sink_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  TestSink *self = TEST_SINK (object);
  gint64 now = g_get_monotonic_time ();

  self->fraction = g_value_get_double (value);
  g_array_append_val (self->values, self->fraction);
  g_array_append_val (self->times, now);
}

static void
test_sink_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  g_value_set_double (value, TEST_SINK (object)->fraction);
}

static void
test_sink_finalize (GObject *object)
{
  TestSink *self = TEST_SINK (object);

  g_array_unref (self->values);
  g_array_unref (self->times);
  G_OBJECT_CLASS (test_sink_parent_class)->finalize (object);
}

static void
test_sink_class_init (TestSinkClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->set_property = test_sink_set_property;
  object_class->get_property = test_sink_get_property;
  object_class->finalize = test_sink_finalize;
  g_object_class_install_property (object_class, 1,
                                   g_param_spec_double ("fraction", NULL, NULL, 0.0, 1.0, 0.0,
                                                        G_PARAM_READWRITE));
}

static void
test_sink_init (TestSink *self)
{
  self->values = g_array_new (FALSE, FALSE, sizeof (double));
  self->times = g_array_new (FALSE, FALSE, sizeof (gint64));
}

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

/* Every notification of a job, with the value it notified. */
typedef struct
{
  GPtrArray *names;     /* const char * (interned) */
  GArray    *statuses;  /* VtStatus at each notify::status */
} Notes;

static void
on_notify (GObject    *object,
           GParamSpec *pspec,
           Notes      *notes)
{
  VtJob *job = VT_JOB (object);

  g_ptr_array_add (notes->names, (gpointer) g_intern_string (pspec->name));
  if (g_str_equal (pspec->name, "status"))
    {
      VtStatus status = vt_job_get_status (job);

      g_array_append_val (notes->statuses, status);
    }
}

static guint
count_notes (Notes      *notes,
             const char *name)
{
  guint n = 0;

  for (guint i = 0; i < notes->names->len; i++)
    n += g_str_equal (g_ptr_array_index (notes->names, i), name);
  return n;
}

static void
wait_job (VtJob        *job,
          VtAsyncCall  *call)
{
  vt_job_wait_async (job, NULL, vt_async_call_ready, call);
  vt_async_call_wait (call);
}

static VtStatus
wait_status (VtJob   *job,
             GError **error)
{
  VtAsyncCall call = { 0 };
  VtStatus status;

  wait_job (job, &call);
  status = vt_job_wait_finish (job, call.result, error);
  vt_async_call_clear (&call);
  return status;
}

/* Learns what the server offers with a job of its own, so that the jobs
 * of a test all take the channel the strategy picks. */
static void
learn_capabilities (VtClient     *client,
                    VtTestServer *server)
{
  g_autofree char *id = vt_test_create_job (server, 0, NULL, NULL);
  g_autoptr(VtJob) job = vt_client_follow (client, id);
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (wait_status (job, &error), ==, VT_STATUS_COMPLETED);
  g_assert_no_error (error);
}

/* ------------------------------------------------------------------ */
/* Tests                                                               */

/* Each property notifies once per change and never for an unchanged
 * value; a job ends with its status, progress 1, a result URL and the
 * server's times. */
static void
test_notify_sequence (void)
{
  g_autoptr(VtTestServer) server = vt_test_server_start_delay (0.3, NULL);
  g_autoptr(VtClient) client = vt_test_fast_client (server, VT_STRATEGY_STREAM);
  g_autofree char *id = vt_test_create_job (server, S (0.5), NULL, NULL);
  g_autoptr(VtJob) job = vt_client_follow (client, id);
  g_autoptr(GError) error = NULL;
  Notes notes = { g_ptr_array_new (), g_array_new (FALSE, FALSE, sizeof (VtStatus)) };
  JsonObject *document;

  g_signal_connect (job, "notify", G_CALLBACK (on_notify), &notes);
  g_assert_cmpstr (vt_job_get_id (job), ==, id);
  g_assert_cmpint (vt_job_get_status (job), ==, VT_STATUS_PENDING);
  g_assert_cmpfloat (vt_job_get_progress (job), ==, 0.0);
  g_assert_cmpfloat (vt_job_get_eta (job), ==, -1.0);
  g_assert_null (vt_job_get_document (job));

  g_assert_cmpint (wait_status (job, &error), ==, VT_STATUS_COMPLETED);
  g_assert_no_error (error);

  /* Pending was the value before the first answer: one status change. */
  g_assert_cmpuint (notes.statuses->len, ==, 1);
  g_assert_cmpint (g_array_index (notes.statuses, VtStatus, 0), ==, VT_STATUS_COMPLETED);
  g_assert_cmpuint (count_notes (&notes, "created-at"), ==, 1);
  g_assert_cmpuint (count_notes (&notes, "completed-at"), ==, 1);
  g_assert_cmpuint (count_notes (&notes, "result-url"), ==, 1);
  g_assert_cmpuint (count_notes (&notes, "message"), ==, 0);
  g_assert_cmpuint (count_notes (&notes, "id"), ==, 0);
  g_assert_cmpuint (count_notes (&notes, "progress"), >=, 1);
  g_assert_cmpfloat (vt_job_get_progress (job), ==, 1.0);
  g_assert_cmpfloat (vt_job_get_eta (job), ==, 0.0);
  g_assert_nonnull (vt_job_get_created_at (job));
  g_assert_nonnull (vt_job_get_completed_at (job));
  g_assert_cmpint (g_date_time_compare (vt_job_get_created_at (job),
                                        vt_job_get_completed_at (job)), <=, 0);
  g_assert_true (vt_job_is_finished (job));

  /* The document is the server's last, the result URL read from it. */
  document = vt_job_get_document (job);
  g_assert_nonnull (document);
  g_assert_cmpstr (json_object_get_string_member (document, "id"), ==, id);
  g_assert_cmpstr (json_object_get_string_member (document, "result"), ==, "completed");
  g_assert_cmpstr (json_object_get_string_member (document, "result_url"), ==,
                   vt_job_get_result_url (job));
  g_assert_true (g_str_has_prefix (vt_job_get_result_url (job), "http"));

  g_ptr_array_unref (notes.names);
  g_array_unref (notes.statuses);
}

/* A job in error: its status, and the server's reason. */
static void
test_error_message (void)
{
  g_autoptr(VtTestServer) server = vt_test_server_start_delay (0.3, NULL);
  g_autoptr(VtClient) client = vt_test_fast_client (server, VT_STRATEGY_AUTO);
  g_autofree char *id = vt_test_create_job (server, S (0.2), "error", "no audio track");
  g_autoptr(VtJob) job = vt_client_follow (client, id);
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (wait_status (job, &error), ==, VT_STATUS_ERROR);
  g_assert_no_error (error);
  g_assert_cmpint (vt_job_get_status (job), ==, VT_STATUS_ERROR);
  g_assert_cmpstr (vt_job_get_message (job), ==, "no audio track");
  g_assert_null (vt_job_get_result_url (job));
  /* Not completed: the progress is not pushed to 1. */
  g_assert_cmpfloat (vt_job_get_progress (job), <, 1.0);
}

typedef struct
{
  const char *server_arg;   /* NULL, or "--no-feeds" */
  VtStrategy  strategy;
} Channel;

/* The job's progress bound onto another object's property: it moves at
 * least 4 times a second while the job is pending, never back, stays
 * below 0.99 until the end, and ends at exactly 1. */
static void
test_bound_progress (gconstpointer data)
{
  const Channel *channel = data;
  g_autoptr(VtTestServer) server = vt_test_server_start_delay (0.3, channel->server_arg, NULL);
  g_autoptr(VtClient) client = vt_test_fast_client (server, channel->strategy);
  g_autoptr(TestSink) sink = g_object_new (TEST_TYPE_SINK, NULL);
  g_autofree char *id = NULL;
  g_autoptr(VtJob) job = NULL;
  g_autoptr(GError) error = NULL;
  double seconds, rate;
  guint n;

  learn_capabilities (client, server);
  id = vt_test_create_job (server, S (1.5), NULL, NULL);
  job = vt_client_follow (client, id);
  g_object_bind_property (job, "progress", sink, "fraction", G_BINDING_DEFAULT);

  g_assert_cmpint (wait_status (job, &error), ==, VT_STATUS_COMPLETED);
  g_assert_no_error (error);

  n = sink->values->len;
  g_assert_cmpuint (n, >=, 3);
  g_assert_cmpfloat (g_array_index (sink->values, double, n - 1), ==, 1.0);
  for (guint i = 0; i + 1 < n; i++)
    {
      g_assert_cmpfloat (g_array_index (sink->values, double, i), <=, 0.99);
      g_assert_cmpfloat (g_array_index (sink->values, double, i), <,
                         g_array_index (sink->values, double, i + 1));
    }

  /* From the first update to the last before the end. */
  seconds = (g_array_index (sink->times, gint64, n - 2) -
             g_array_index (sink->times, gint64, 0)) / (double) G_USEC_PER_SEC;
  rate = (n - 2) / seconds;
  g_test_message ("%u updates over %.3f s: %.1f a second", n, seconds, rate);
  g_assert_cmpfloat (seconds, >=, S (0.75));
  g_assert_cmpfloat (rate, >=, 4.0);

  /* On a feed, a job whose progress is watched moves to a feed that
   * sends progress events: the first feed sends status changes only. */
  if (channel->server_arg == NULL && channel->strategy != VT_STRATEGY_POLL)
    g_assert_cmpuint (vt_test_server_requests (server, "/feeds", 2), ==, 2);
}

/* With progress-rate 0 the progress moves only with the server's answers:
 * a stream's events, every 2 s, so a job of 1.5 s shows one or two. */
static void
test_progress_rate_off (void)
{
  g_autoptr(VtTestServer) server = vt_test_server_start_delay (0.3, NULL);
  g_autoptr(VtClient) client = vt_test_fast_client (server, VT_STRATEGY_STREAM);
  g_autoptr(TestSink) sink = g_object_new (TEST_TYPE_SINK, NULL);
  g_autofree char *id = NULL;
  g_autoptr(VtJob) job = NULL;

  g_object_set (client, "progress-rate", 0.0, NULL);
  learn_capabilities (client, server);
  id = vt_test_create_job (server, S (1.5), NULL, NULL);
  job = vt_client_follow (client, id);
  g_object_bind_property (job, "progress", sink, "fraction", G_BINDING_DEFAULT);
  g_assert_cmpint (wait_status (job, NULL), ==, VT_STATUS_COMPLETED);

  g_assert_cmpuint (sink->values->len, >=, 1);
  g_assert_cmpuint (sink->values->len, <=, 3);
  g_assert_cmpfloat (g_array_index (sink->values, double, sink->values->len - 1), ==, 1.0);
}

typedef struct
{
  GArray *changes;   /* guint triples: position, removed, added */
  VtJob  *removed;   /* the last job removed */
  VtStatus removed_status;
} Changes;

static void
on_items_changed (GListModel *model,
                  guint       position,
                  guint       removed,
                  guint       added,
                  Changes    *changes)
{
  guint triple[3] = { position, removed, added };

  g_array_append_vals (changes->changes, triple, 3);
}

/* The list of jobs: added as followed, in order; each leaves once it is
 * over, after its final status was notified. */
static void
test_list_model (void)
{
  g_autoptr(VtTestServer) server = vt_test_server_start_delay (0.3, NULL);
  g_autoptr(VtClient) client = vt_test_fast_client (server, VT_STRATEGY_STREAM);
  GListModel *jobs = vt_client_get_jobs (client);
  Changes changes = { g_array_new (FALSE, FALSE, sizeof (guint)) };
  g_autoptr(VtJob) first = NULL;
  g_autoptr(VtJob) second = NULL;
  g_autoptr(VtJob) third = NULL;
  g_autofree char *a = NULL, *b = NULL, *c = NULL;
  g_autoptr(VtJob) item = NULL;

  learn_capabilities (client, server);
  g_assert_cmpuint (g_list_model_get_n_items (jobs), ==, 0);
  g_assert_true (g_list_model_get_item_type (jobs) == VT_TYPE_JOB);
  g_signal_connect (jobs, "items-changed", G_CALLBACK (on_items_changed), &changes);

  a = vt_test_create_job (server, S (0.6), NULL, NULL);
  b = vt_test_create_job (server, S (0.2), NULL, NULL);
  c = vt_test_create_job (server, S (0.4), NULL, NULL);
  first = vt_client_follow (client, a);
  second = vt_client_follow (client, b);
  third = vt_client_follow (client, c);
  g_assert_cmpuint (g_list_model_get_n_items (jobs), ==, 3);
  item = g_list_model_get_item (jobs, 1);
  g_assert_true (item == second);
  g_assert_null (g_list_model_get_item (jobs, 3));

  g_assert_cmpint (wait_status (second, NULL), ==, VT_STATUS_COMPLETED);
  g_assert_cmpint (wait_status (third, NULL), ==, VT_STATUS_COMPLETED);
  g_assert_cmpint (wait_status (first, NULL), ==, VT_STATUS_COMPLETED);
  g_assert_cmpuint (g_list_model_get_n_items (jobs), ==, 0);

  /* Three added at 0, 1, 2; then b (at 1), c (at 1), a (at 0) left. */
  {
    static const guint expected[] = { 0, 0, 1, 1, 0, 1, 2, 0, 1, 1, 1, 0, 1, 1, 0, 0, 1, 0 };

    g_assert_cmpuint (changes.changes->len, ==, G_N_ELEMENTS (expected));
    for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
      g_assert_cmpuint (g_array_index (changes.changes, guint, i), ==, expected[i]);
  }

  g_signal_handlers_disconnect_by_func (jobs, on_items_changed, &changes);
  g_array_unref (changes.changes);
}

static void
on_removed_check_final (GListModel *model,
                        guint       position,
                        guint       removed,
                        guint       added,
                        VtJob      *job)
{
  /* Left after its last notify: its final status is there already. */
  if (removed > 0)
    g_assert_cmpint (vt_job_get_status (job), ==, VT_STATUS_COMPLETED);
}

static void
test_list_leaves_after_notify (void)
{
  g_autoptr(VtTestServer) server = vt_test_server_start_delay (0.3, NULL);
  g_autoptr(VtClient) client = vt_test_fast_client (server, VT_STRATEGY_AUTO);
  g_autofree char *id = vt_test_create_job (server, S (0.2), NULL, NULL);
  g_autoptr(VtJob) job = vt_client_follow (client, id);
  GListModel *jobs = vt_client_get_jobs (client);

  g_signal_connect (jobs, "items-changed", G_CALLBACK (on_removed_check_final), job);
  g_assert_cmpint (wait_status (job, NULL), ==, VT_STATUS_COMPLETED);
  g_assert_cmpuint (g_list_model_get_n_items (jobs), ==, 0);
  g_signal_handlers_disconnect_by_func (jobs, on_removed_check_final, job);
}

/* One job per id while it is followed; a new one once it ended. And
 * get_status_async() on a followed id waits on that job: one watch. */
static void
test_same_id (void)
{
  g_autoptr(VtTestServer) server = vt_test_server_start_delay (0.3, "--no-feeds", NULL);
  g_autoptr(VtClient) client = vt_test_fast_client (server, VT_STRATEGY_STREAM);
  g_autofree char *id = vt_test_create_job (server, S (0.3), NULL, NULL);
  g_autoptr(VtJob) first = vt_client_follow (client, id);
  g_autoptr(VtJob) again = vt_client_follow (client, id);
  g_autoptr(VtJob) later = NULL;
  VtAsyncCall call = { 0 };
  g_autoptr(GError) error = NULL;

  g_assert_true (first == again);
  vt_client_get_status_async (client, id, NULL, vt_async_call_ready, &call);
  g_assert_cmpint (wait_status (first, NULL), ==, VT_STATUS_COMPLETED);
  vt_async_call_wait (&call);
  g_assert_cmpint (vt_client_get_status_finish (client, call.result, &error), ==,
                   VT_STATUS_COMPLETED);
  g_assert_no_error (error);
  vt_async_call_clear (&call);
  /* One stream for the three of them. */
  g_assert_cmpuint (vt_test_server_gauge (server, "vt_open_streams", 0), ==, 0);
  g_assert_cmpuint (vt_test_server_requests (server, "/jobs/{id}/events", 1), ==, 1);

  later = vt_client_follow (client, id);
  g_assert_true (later != first);
  g_assert_cmpint (wait_status (later, NULL), ==, VT_STATUS_COMPLETED);
}

/* Several waiters: cancelling one wait ends that wait only; cancelling
 * the job ends every other one, and no more requests are made. */
static void
test_cancel_waiters (void)
{
  g_autoptr(VtTestServer) server = vt_test_server_start_delay (0.3, NULL);
  g_autoptr(VtClient) client = vt_test_fast_client (server, VT_STRATEGY_LONG_POLL);
  g_autofree char *id = NULL;
  g_autoptr(VtJob) job = NULL;
  g_autoptr(GCancellable) one = g_cancellable_new ();
  VtAsyncCall calls[3] = { 0 };
  VtAsyncCall status_call = { 0 };
  g_autoptr(GError) error = NULL;

  learn_capabilities (client, server);
  id = vt_test_create_job (server, S (30), NULL, NULL);
  job = vt_client_follow (client, id);
  vt_job_wait_async (job, one, vt_async_call_ready, &calls[0]);
  vt_job_wait_async (job, NULL, vt_async_call_ready, &calls[1]);
  vt_job_wait_async (job, NULL, vt_async_call_ready, &calls[2]);
  vt_client_get_status_async (client, id, NULL, vt_async_call_ready, &status_call);
  while (vt_job_get_document (job) == NULL)
    vt_test_iterate (TRUE);

  g_cancellable_cancel (one);
  vt_async_call_wait (&calls[0]);
  g_assert_cmpint (vt_job_wait_finish (job, calls[0].result, &error), ==, VT_STATUS_TIMEOUT);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_false (calls[1].done);
  g_assert_false (vt_job_is_finished (job));

  vt_job_cancel (job);
  for (guint i = 1; i < 3; i++)
    {
      vt_async_call_wait (&calls[i]);
      vt_job_wait_finish (job, calls[i].result, &error);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_clear_error (&error);
    }
  vt_async_call_wait (&status_call);
  vt_client_get_status_finish (client, status_call.result, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_true (vt_job_is_finished (job));
  g_assert_cmpuint (g_list_model_get_n_items (vt_client_get_jobs (client)), ==, 0);
  /* Left the feed (its join, its leave): the server keeps none of the
   * client's jobs. */
  vt_test_wait_requests (server, "/feeds/{fid}/jobs", 2);
  g_assert_cmpuint (vt_test_server_gauge (server, "vt_feed_jobs", 0), ==, 0);

  /* A wait on a job already over completes at once, the same way. */
  {
    VtAsyncCall late = { 0 };

    wait_job (job, &late);
    vt_job_wait_finish (job, late.result, &error);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    vt_async_call_clear (&late);
  }

  for (guint i = 0; i < 3; i++)
    vt_async_call_clear (&calls[i]);
  vt_async_call_clear (&status_call);
}

/* A job that cannot be followed is given finished, with the error. */
static void
test_follow_invalid (void)
{
  g_autoptr(VtClient) client = vt_client_new ("ftp://nowhere");
  g_autoptr(VtJob) job = vt_client_follow (client, "j");
  g_autoptr(VtClient) empty = vt_client_new ("http://127.0.0.1:1");
  g_autoptr(VtJob) nameless = vt_client_follow (empty, "");
  g_autoptr(GError) error = NULL;

  g_assert_true (vt_job_is_finished (job));
  wait_status (job, &error);
  g_assert_error (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_INVALID_URL);
  g_clear_error (&error);
  wait_status (nameless, &error);
  g_assert_error (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_INVALID_ARGUMENT);
  g_assert_cmpuint (g_list_model_get_n_items (vt_client_get_jobs (client)), ==, 0);
}

static long
rss_kib (void)
{
  g_autofree char *status = NULL;
  const char *line;

  g_assert_true (g_file_get_contents ("/proc/self/status", &status, NULL, NULL));
  line = strstr (status, "VmRSS:");
  g_assert_nonnull (line);
  return strtol (line + strlen ("VmRSS:"), NULL, 10);
}

/* A process that follows jobs one after another does not grow: after a
 * thousand jobs to warm up, the next thousands leave the memory where it
 * was, and the client keeps no job. */
static void
test_sequential_no_growth (VtFixture     *f,
                           gconstpointer  data)
{
  static const VtReply replies[] = { VT_REPLY_COMPLETED, VT_REPLY_END };
  guint warm = g_getenv ("VT_VALGRIND") ? 100 : 1000;
  guint n = g_getenv ("VT_VALGRIND") ? 1000 : 10000;
  long before = 0;

  vt_fixture_script (f, "/jobs/j", replies);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(VtJob) job = vt_client_follow (f->client, "j");
      g_autoptr(GError) error = NULL;

      g_assert_cmpint (wait_status (job, &error), ==, VT_STATUS_COMPLETED);
      g_assert_no_error (error);
      g_assert_cmpuint (g_list_model_get_n_items (vt_client_get_jobs (f->client)), ==, 0);
      /* What the test itself keeps (the server's log, the statuses the
       * fixture records) goes. */
      vt_scripted_server_clear_log (f->server);
      g_array_set_size (f->statuses, 0);
      g_ptr_array_set_size (f->job_ids, 0);
      if (i + 1 == warm)
        before = rss_kib ();
    }

  g_test_message ("RSS after %u jobs: %ld KiB, after %u: %ld KiB", warm, before, n, rss_kib ());
#ifdef UNDER_ASAN
  /* AddressSanitizer keeps freed memory in quarantine: RSS says nothing
   * there (its leak check does). */
  return;
#endif
  /* Memcheck's own allocator grows as it records every block: there its
   * leak check is what says nothing is kept. */
  if (g_getenv ("VT_VALGRIND") != NULL)
    return;
  /* Nothing kept per job: 9,000 more jobs move RSS by less than 1 MiB
   * (allocator slack). */
  g_assert_cmpint (rss_kib () - before, <, 1024);
}

int
main (int   argc,
      char *argv[])
{
  static const Channel feed_stream = { NULL, VT_STRATEGY_STREAM };
  static const Channel feed_long_poll = { NULL, VT_STRATEGY_LONG_POLL };
  static const Channel auto_feed = { NULL, VT_STRATEGY_AUTO };
  static const Channel poll = { NULL, VT_STRATEGY_POLL };
  static const Channel stream = { "--no-feeds", VT_STRATEGY_STREAM };
  static const Channel long_poll = { "--no-feeds", VT_STRATEGY_LONG_POLL };

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/client/job/notify", test_notify_sequence);
  g_test_add_func ("/client/job/error-message", test_error_message);
  g_test_add_data_func ("/client/job/progress/feed-stream", &feed_stream, test_bound_progress);
  g_test_add_data_func ("/client/job/progress/feed-long-poll", &feed_long_poll, test_bound_progress);
  g_test_add_data_func ("/client/job/progress/auto", &auto_feed, test_bound_progress);
  g_test_add_data_func ("/client/job/progress/poll", &poll, test_bound_progress);
  g_test_add_data_func ("/client/job/progress/stream", &stream, test_bound_progress);
  g_test_add_data_func ("/client/job/progress/long-poll", &long_poll, test_bound_progress);
  g_test_add_func ("/client/job/progress/rate-off", test_progress_rate_off);
  g_test_add_func ("/client/job/list", test_list_model);
  g_test_add_func ("/client/job/list/after-notify", test_list_leaves_after_notify);
  g_test_add_func ("/client/job/same-id", test_same_id);
  g_test_add_func ("/client/job/cancel-waiters", test_cancel_waiters);
  g_test_add_func ("/client/job/invalid", test_follow_invalid);
  VT_FIXTURE_ADD ("/client/job/sequential", test_sequential_no_growth);

  return g_test_run ();
}
