/* test-server-store.c: vt-server's job store, on SQLite
 *
 * What --state and --retention promise: a 201 only for a job that is on
 * disk, a 503 (and no job) when it cannot be written, every answered job
 * back after a crash with its outcome and timing, jobs past retention
 * gone (410) from memory and disk, memory bounded however many jobs are
 * made, the JSON state of earlier servers converted.
 *
 * The tests read the database itself (with SQLite) only once the server
 * that wrote it has stopped. Most restart servers on one file: each test
 * fills a Fixture (tests/vt-server-test-utils.h) by hand.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define _GNU_SOURCE  /* prlimit() */

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/resource.h>

#include "vt-server-test-utils.h"

/* The server is built as this test is. */
#if defined(__SANITIZE_ADDRESS__)
#define BUILT_WITH_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BUILT_WITH_ASAN 1
#endif
#endif
#ifndef BUILT_WITH_ASAN
#define BUILT_WITH_ASAN 0
#endif

/* A temporary directory holding a state file, removed with all in it */
typedef struct
{
  char *dir;
  char *path;
} StateDir;

static StateDir *
state_dir_new (void)
{
  g_autoptr(GError) error = NULL;
  StateDir *state = g_new0 (StateDir, 1);

  state->dir = g_dir_make_tmp ("vt-server-store-XXXXXX", &error);
  g_assert_no_error (error);
  state->path = g_build_filename (state->dir, "jobs.db", NULL);

  return state;
}

static void
state_dir_free (StateDir *state)
{
  g_autoptr(GDir) dir = g_dir_open (state->dir, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *file = g_build_filename (state->dir, name, NULL);

      g_assert_no_errno (g_remove (file));
    }
  g_assert_no_errno (g_rmdir (state->dir));
  g_free (state->path);
  g_free (state->dir);
  g_free (state);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (StateDir, state_dir_free)

/* Awaiting a state on a timer: what makes a job gone is time passing,
 * which no request can await. */

typedef struct
{
  Fixture    *f;
  const char *path;
  guint       status;
} StatusWait;

static gboolean
answers_status (gpointer user_data)
{
  StatusWait *wait = user_data;
  g_autoptr(Response) r = fetch (wait->f, "GET", wait->path, NULL);

  return r->status == wait->status;
}

typedef struct
{
  Fixture *f;
  guint64  n;
} StoredWait;

static guint64 stored_jobs (Fixture *f);

static gboolean
stores_n_jobs (gpointer user_data)
{
  StoredWait *wait = user_data;

  return stored_jobs (wait->f) == wait->n;
}

static VtTestServer *
start_with_state (const char *path,
                  ...) G_GNUC_NULL_TERMINATED;

/* vt-server --state @path and the given options */
static VtTestServer *
start_with_state (const char *path,
                  ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  va_list ap;

  g_ptr_array_add (args, (gpointer) "--state");
  g_ptr_array_add (args, (gpointer) path);
  va_start (ap, path);
  for (const char *arg = va_arg (ap, const char *); arg != NULL; arg = va_arg (ap, const char *))
    g_ptr_array_add (args, (gpointer) arg);
  va_end (ap);
  g_ptr_array_add (args, NULL);

  return vt_test_server_startv ((const char * const *) args->pdata);
}

/* The value of one series of GET /metrics, e.g. vt_jobs{state="error"} */
static guint64
metric (Fixture    *f,
        const char *series)
{
  g_autoptr(Response) r = fetch (f, "GET", "/metrics", NULL);
  g_auto(GStrv) lines = g_strsplit (g_bytes_get_data (r->body, NULL), "\n", -1);
  g_autofree char *prefix = g_strconcat (series, " ", NULL);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (g_str_has_prefix (lines[i], prefix))
        return g_ascii_strtoull (lines[i] + strlen (prefix), NULL, 10);
    }

  g_error ("no %s in /metrics", series);
}

/* Every job the server stores, whatever its state */
static guint64
stored_jobs (Fixture *f)
{
  return metric (f, "vt_jobs{state=\"pending\"}") +
         metric (f, "vt_jobs{state=\"completed\"}") +
         metric (f, "vt_jobs{state=\"error\"}");
}

static guint64
resident_kib (GPid pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/status", (int) pid);
  g_autofree char *text = NULL;
  const char *line;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  line = strstr (text, "\nVmRSS:");
  g_assert_nonnull (line);
  return g_ascii_strtoull (line + strlen ("\nVmRSS:"), NULL, 10);
}

static void
stop_server (Fixture *f)
{
  g_clear_pointer (&f->server, vt_test_server_stop);
}

/* The database, read directly */

typedef struct
{
  char   *id;
  char   *source_url;  /* NULL for the default job */
  gint64  duration_us;
  char   *outcome;
} Row;

static void
row_free (Row *row)
{
  g_free (row->id);
  g_free (row->source_url);
  g_free (row->outcome);
  g_free (row);
}

static char *
column_text (sqlite3_stmt *stmt,
             int           column)
{
  return g_strdup ((const char *) sqlite3_column_text (stmt, column));
}

/* Every row of the jobs table of @path, which no server holds now */
static GPtrArray *
read_rows (const char *path)
{
  GPtrArray *rows = g_ptr_array_new_with_free_func ((GDestroyNotify) row_free);
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  int rc;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT id, source_url, duration_us, outcome FROM jobs",
                                       -1, &stmt, NULL), ==, SQLITE_OK);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      Row *row = g_new0 (Row, 1);

      row->id = column_text (stmt, 0);
      row->source_url = column_text (stmt, 1);
      row->duration_us = sqlite3_column_int64 (stmt, 2);
      row->outcome = column_text (stmt, 3);
      g_ptr_array_add (rows, row);
    }
  g_assert_cmpint (rc, ==, SQLITE_DONE);
  sqlite3_finalize (stmt);
  g_assert_cmpint (sqlite3_close (db), ==, SQLITE_OK);

  return rows;
}

/* A storm: many POST /jobs at once, a bounded number in flight */

typedef struct _Storm Storm;

typedef char *(*StormBodyFunc)   (guint         index);
typedef void  (*StormAnswerFunc) (Storm        *storm,
                                  guint         index,
                                  SoupMessage  *msg,
                                  GBytes       *body,
                                  const GError *error);

struct _Storm
{
  Fixture          f;         /* the server; the session is the storm's own */
  StormBodyFunc    body;
  StormAnswerFunc  answer;
  gpointer         data;
  guint            total;
  guint            max_in_flight;

  guint            started;
  guint            in_flight;
  gboolean         stopped;   /* start no more */
  GMainLoop       *loop;
};

typedef struct
{
  Storm       *storm;
  guint        index;
  SoupMessage *msg;
} StormRequest;

static void storm_fill (Storm *storm);

static void
on_storm_answer (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  StormRequest *request = user_data;
  Storm *storm = request->storm;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = soup_session_send_and_read_finish (SOUP_SESSION (source), result,
                                                              &error);

  storm->in_flight--;
  storm->answer (storm, request->index, request->msg, body, error);
  g_object_unref (request->msg);
  g_free (request);

  storm_fill (storm);
  if (storm->in_flight == 0)
    g_main_loop_quit (storm->loop);
}

static void
storm_fill (Storm *storm)
{
  while (!storm->stopped && storm->in_flight < storm->max_in_flight &&
         storm->started < storm->total)
    {
      StormRequest *request = g_new0 (StormRequest, 1);
      g_autofree char *text = storm->body (storm->started);
      g_autoptr(GBytes) body = g_bytes_new (text, strlen (text));

      request->storm = storm;
      request->index = storm->started++;
      request->msg = new_message (&storm->f, "POST", "/jobs");
      soup_message_set_request_body_from_bytes (request->msg, "application/json", body);
      /* Else libsoup opens a connection for each POST and closes it once
       * idle, and libsoup 3.2.3's server keeps every such connection
       * (fixed in 3.3.0): thousands of sockets that are no job's. */
      soup_message_add_flags (request->msg, SOUP_MESSAGE_IDEMPOTENT);
      storm->in_flight++;
      soup_session_send_and_read_async (storm->f.session, request->msg, G_PRIORITY_DEFAULT,
                                        NULL, on_storm_answer, request);
    }
}

/* Sends @total POSTs, @max_in_flight at a time, until every one has its
 * answer (or its error) or the storm was stopped and the last is in. */
static void
storm_run (Storm *storm)
{
  storm->loop = g_main_loop_new (NULL, FALSE);
  storm->f.session = soup_session_new_with_options ("max-conns", storm->max_in_flight,
                                                    "max-conns-per-host", storm->max_in_flight,
                                                    NULL);
  storm_fill (storm);
  if (storm->in_flight > 0)
    g_main_loop_run (storm->loop);
  g_clear_object (&storm->f.session);
  g_clear_pointer (&storm->loop, g_main_loop_unref);
}

static char *
short_job_body (guint index)
{
  return g_strdup_printf ("{\"duration\": 0, \"source_url\": \"storm://%u\"}", index);
}

static void
expect_created (Storm        *storm,
                guint         index,
                SoupMessage  *msg,
                GBytes       *body,
                const GError *error)
{
  g_assert_no_error (error);
  g_assert_cmpuint (soup_message_get_status (msg), ==, SOUP_STATUS_CREATED);
}

/* @n short jobs, 32 at a time */
static void
create_many_jobs (Fixture *f,
                  guint    n)
{
  Storm storm = { { f->server, NULL, NULL }, short_job_body, expect_created, NULL, n, 32, };

  storm_run (&storm);
  g_assert_cmpuint (storm.started, ==, n);
}

/* Durable or not there: a full disk */

/* Starts a server whose files cannot grow past @limit bytes. It inherits
 * SIGXFSZ ignored, so that a write past the limit fails (EFBIG) instead
 * of killing it: a full disk, as SQLite sees it. */
static VtTestServer *
start_with_file_size_limit (const char *path,
                            rlim_t      limit)
{
  struct rlimit saved, limited;
  VtTestServer *server;

  g_assert_no_errno (getrlimit (RLIMIT_FSIZE, &saved));
  limited = saved;
  limited.rlim_cur = limit;
  signal (SIGXFSZ, SIG_IGN);
  g_assert_no_errno (setrlimit (RLIMIT_FSIZE, &limited));
  server = start_with_state (path, "--delay", "0", NULL);
  g_assert_no_errno (setrlimit (RLIMIT_FSIZE, &saved));

  return server;
}

static void
test_disk_full (void)
{
  g_autoptr(StateDir) state = state_dir_new ();
  g_autoptr(GHashTable) created = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GPtrArray) rows = NULL;
  g_autoptr(Response) after = NULL;
  Fixture f = { start_with_file_size_limit (state->path, 128 * 1024), soup_session_new (), NULL };
  struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
  guint n_refused = 0;

  /* A job per request until the log cannot grow: a few dozen. */
  for (guint i = 0; i < 1000 && n_refused < 3; i++)
    {
      g_autofree char *source = g_strdup_printf ("full://%u", i);
      g_autofree char *body = g_strdup_printf ("{\"source_url\": \"%s\"}", source);
      g_autoptr(Response) r = fetch (&f, "POST", "/jobs", body);

      if (r->status == SOUP_STATUS_CREATED)
        {
          g_assert_cmpuint (n_refused, ==, 0);
          g_hash_table_add (created, g_steal_pointer (&source));
          continue;
        }

      assert_json_error (r, SOUP_STATUS_SERVICE_UNAVAILABLE, "unavailable");
      g_assert_cmpstr (header (r, "Retry-After"), ==, "1");
      n_refused++;
    }
  g_assert_cmpuint (g_hash_table_size (created), >, 0);
  g_assert_cmpuint (n_refused, ==, 3);
  /* What was refused was never counted either. */
  g_assert_cmpuint (stored_jobs (&f), ==, g_hash_table_size (created) + 1);

  /* Room again: the very next job is stored. */
  g_assert_no_errno (prlimit (vt_test_server_get_pid (f.server), RLIMIT_FSIZE, &unlimited, NULL));
  after = fetch (&f, "POST", "/jobs", "{\"source_url\": \"full://after\"}");
  g_assert_cmpuint (after->status, ==, SOUP_STATUS_CREATED);
  g_hash_table_add (created, g_strdup ("full://after"));
  stop_server (&f);
  g_clear_object (&f.session);

  /* On disk: the default job and exactly the jobs that got a 201. */
  rows = read_rows (state->path);
  g_assert_cmpuint (rows->len, ==, g_hash_table_size (created) + 1);
  for (guint i = 0; i < rows->len; i++)
    {
      Row *row = g_ptr_array_index (rows, i);

      g_assert_true (row->source_url == NULL || g_hash_table_contains (created, row->source_url));
    }
}

/* Runs vt-server --state @path, expecting it to refuse to start. */
static char *
refused_start (const char *path)
{
  const char *argv[] = { vt_test_server_get_path (), "--port", "0", "--state", path, NULL };
  g_autoptr(GSubprocess) server = NULL;
  g_autoptr(GError) error = NULL;
  char *err = NULL;

  server = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                              G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (server, NULL, NULL, NULL, &err, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_subprocess_get_exit_status (server), ==, 1);

  return err;
}

/* One server per state file */
static void
test_in_use (void)
{
  g_autoptr(StateDir) state = state_dir_new ();
  VtTestServer *server = start_with_state (state->path, NULL);
  g_autofree char *err = refused_start (state->path);

  g_assert_nonnull (strstr (err, "in use by another process"));
  /* The first one still runs, unharmed. */
  vt_test_server_stop (server);
}

/* A file that is an SQLite database, but not vt-server's, is refused. */
static void
test_foreign_database (void)
{
  g_autoptr(StateDir) state = state_dir_new ();
  g_autofree char *err = NULL;
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open (state->path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "CREATE TABLE photos (name TEXT)", NULL, NULL, NULL),
                   ==, SQLITE_OK);
  sqlite3_close (db);

  err = refused_start (state->path);
  g_assert_nonnull (strstr (err, "not a vt-server state"));
}

/* The JSON state of an earlier server */

#define LEGACY_DEFAULT "0b8e5c4e-1111-4222-8333-444455556666"
#define LEGACY_FAILED "1b8e5c4e-1111-4222-8333-444455556666"

static void
test_legacy_json (void)
{
  static const char legacy[] =
    "{\"version\": 1, \"default\": \"" LEGACY_DEFAULT "\", \"jobs\": ["
    "{\"id\": \"" LEGACY_DEFAULT "\", \"created_us\": 1700000000000000,"
    " \"duration_us\": 5000000, \"outcome\": \"completed\", \"eta_factor\": 1.0},"
    "{\"id\": \"" LEGACY_FAILED "\", \"created_us\": 1700000000123456,"
    " \"duration_us\": 2500000, \"outcome\": \"error\", \"eta_factor\": 1,"
    " \"source_url\": \"https://example.com/v.mp4\", \"target_language\": \"fr\"}]}";
  g_autoptr(StateDir) state = state_dir_new ();
  g_autofree char *backup = g_strconcat (state->path, ".v1.json", NULL);
  g_autofree char *kept = NULL;
  g_autofree char *head = NULL;
  g_autoptr(GError) error = NULL;

  g_file_set_contents (state->path, legacy, -1, &error);
  g_assert_no_error (error);

  /* Twice: converted by the first server, a database for the second. */
  for (guint run = 0; run < 2; run++)
    {
      Fixture f = { start_with_state (state->path, "--retention", "1e9", NULL),
                    soup_session_new (), NULL };
      g_autoptr(Response) failed = fetch (&f, "GET", "/jobs/" LEGACY_FAILED, NULL);
      g_autoptr(Response) classic = fetch (&f, "GET", "/status", NULL);

      g_assert_cmpuint (failed->status, ==, SOUP_STATUS_OK);
      g_assert_cmpstr (g_bytes_get_data (failed->body, NULL), ==,
                       "{\"id\":\"" LEGACY_FAILED "\",\"result\":\"error\",\"status\":\"error\","
                       "\"created_at\":\"2023-11-14T22:13:20.123Z\","
                       "\"source_url\":\"https://example.com/v.mp4\",\"target_language\":\"fr\","
                       "\"completed_at\":\"2023-11-14T22:13:22.623Z\","
                       "\"message\":\"The translation failed (simulated by vt-server)\"}");
      /* The default job is the old one: ended long ago. */
      g_assert_cmpstr (g_bytes_get_data (classic->body, NULL), ==, "{\"result\":\"completed\"}");
      g_assert_cmpuint (stored_jobs (&f), ==, 2);
      stop_server (&f);
      g_clear_object (&f.session);
    }

  g_file_get_contents (backup, &kept, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (kept, ==, legacy);
  g_file_get_contents (state->path, &head, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (head, "SQLite format 3"));
}

/* Retention */

static void
assert_gone (Fixture    *f,
             const char *prefix,
             const char *id,
             const char *suffix)
{
  g_autofree char *path = g_strconcat (prefix, id, suffix, NULL);
  g_autoptr(Response) r = fetch (f, "GET", path, NULL);

  assert_json_error (r, SOUP_STATUS_GONE, "gone");
}

/* A feed told to follow @ended and @never sorts them: gone, unknown. */
static void
assert_feed_sorts (Fixture    *f,
                   const char *ended,
                   const char *never)
{
  g_autoptr(Response) feed = fetch (f, "POST", "/feeds", NULL);
  g_autofree char *path = g_strconcat ("/feeds/", string_member (feed, "id"), "/jobs", NULL);
  g_autofree char *body = g_strdup_printf ("{\"join\": [\"%s\", \"%s\"]}", ended, never);
  g_autoptr(Response) joined = fetch (f, "POST", path, body);
  JsonArray *gone, *unknown;

  g_assert_cmpuint (joined->status, ==, SOUP_STATUS_OK);
  gone = json_object_get_array_member (object (joined), "gone");
  unknown = json_object_get_array_member (object (joined), "unknown");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (object (joined), "jobs")),
                    ==, 0);
  g_assert_cmpuint (json_array_get_length (gone), ==, 1);
  g_assert_cmpstr (json_array_get_string_element (gone, 0), ==, ended);
  g_assert_cmpuint (json_array_get_length (unknown), ==, 1);
  g_assert_cmpstr (json_array_get_string_element (unknown, 0), ==, never);
}

static void
test_retention_gone (void)
{
  g_autoptr(StateDir) state = state_dir_new ();
  g_autofree char *retention = vt_test_seconds_arg (0.2);
  Fixture f = { start_with_state (state->path, "--delay", "0", "--retention", retention, NULL),
                soup_session_new (), NULL };
  g_autofree char *ended = create_job_id (&f, "{\"duration\": 0}");
  g_autofree char *running = create_job_id (&f, "{\"duration\": 600}");
  g_autofree char *ended_path = g_strconcat ("/jobs/", ended, NULL);
  g_autofree char *running_path = g_strconcat ("/jobs/", running, NULL);
  g_autofree char *never = g_uuid_string_random ();
  g_autofree char *never_path = g_strconcat ("/jobs/", never, NULL);
  StatusWait gone = { &f, ended_path, SOUP_STATUS_GONE };
  StoredWait swept = { &f, 2 };

  {
    g_autoptr(Response) first = fetch (&f, "GET", ended_path, NULL);

    g_assert_cmpuint (first->status, ==, SOUP_STATUS_OK);
  }

  /* Past retention: 410 on every route that names the job... */
  await_condition (answers_status, &gone, 10, "the ended job to be gone");
  assert_gone (&f, "/jobs/", ended, "");
  assert_gone (&f, "/jobs/", ended, "/events");
  assert_gone (&f, "/status/", ended, "");
  assert_gone (&f, "/status?job_id=", ended, "");
  assert_gone (&f, "/events?job=", ended, "");
  assert_feed_sorts (&f, ended, never);
  /* ...while a job that never was stays a 404, and a pending job (or
   * the default job, ended at once) is never gone. */
  {
    g_autoptr(Response) unknown = fetch (&f, "GET", never_path, NULL);
    g_autoptr(Response) junk = fetch (&f, "GET", "/jobs/not-an-id", NULL);
    g_autoptr(Response) pending = fetch (&f, "GET", running_path, NULL);
    g_autoptr(Response) classic = fetch (&f, "GET", "/status", NULL);

    assert_json_error (unknown, SOUP_STATUS_NOT_FOUND, "not-found");
    assert_json_error (junk, SOUP_STATUS_NOT_FOUND, "not-found");
    g_assert_cmpstr (string_member (pending, "status"), ==, "pending");
    g_assert_cmpstr (g_bytes_get_data (classic->body, NULL), ==, "{\"result\":\"completed\"}");
  }
  /* The sweep that deletes it runs a quarter of the retention later. */
  await_condition (stores_n_jobs, &swept, 10, "the ended job to be deleted");
  stop_server (&f);

  /* Off the disk too, and still gone after a restart. */
  {
    g_autoptr(GPtrArray) rows = read_rows (state->path);

    g_assert_cmpuint (rows->len, ==, 2);
    for (guint i = 0; i < rows->len; i++)
      g_assert_cmpstr (((Row *) g_ptr_array_index (rows, i))->id, !=, ended);

    f.server = start_with_state (state->path, "--retention", retention, NULL);
    assert_gone (&f, "/jobs/", ended, "");
    stop_server (&f);
  }
  g_clear_object (&f.session);
}

/* Ended jobs beyond what the store caches are read back from disk. */
static void
test_cache_reads_disk (void)
{
  g_autoptr(StateDir) state = state_dir_new ();
  Fixture f = { start_with_state (state->path, "--delay", "0", NULL), soup_session_new (), NULL };
  g_autofree char *first = create_job_id (&f, "{\"duration\": 0, \"source_url\": \"first\"}");
  g_autofree char *first_path = g_strconcat ("/jobs/", first, NULL);
  g_autoptr(Response) r = NULL;
  /* server/vts-job-store.h: VTS_JOB_STORE_CACHE_SIZE */
  const guint cache_size = 4096;

  create_many_jobs (&f, cache_size + 500);

  /* The default job, the cache, and nothing else in memory... */
  g_assert_cmpuint (metric (&f, "vt_jobs_in_memory"), <=, cache_size + 1);
  g_assert_cmpuint (stored_jobs (&f), ==, cache_size + 500 + 2);
  /* ...and the oldest job read from disk when asked for. */
  r = fetch (&f, "GET", first_path, NULL);
  g_assert_cmpuint (r->status, ==, SOUP_STATUS_OK);
  g_assert_cmpstr (string_member (r, "source_url"), ==, "first");
  g_assert_cmpstr (string_member (r, "status"), ==, "completed");
  stop_server (&f);
  g_clear_object (&f.session);
}

/* Jobs made forever, memory flat: retention deletes as fast as jobs come. */
static void
test_memory_bounded (void)
{
  g_autoptr(StateDir) state = state_dir_new ();
  g_autofree char *retention = vt_test_seconds_arg (0.05);
  Fixture f = { start_with_state (state->path, "--delay", "0", "--retention", retention, NULL),
                soup_session_new (), NULL };
  GPid pid = vt_test_server_get_pid (f.server);
  guint64 rss_warm, rss_end, in_memory, stored;

  create_many_jobs (&f, 2000);
  rss_warm = resident_kib (pid);
  create_many_jobs (&f, 6000);
  rss_end = resident_kib (pid);
  in_memory = metric (&f, "vt_jobs_in_memory");
  stored = stored_jobs (&f);
  stop_server (&f);
  g_clear_object (&f.session);

  g_test_message ("8000 jobs: %" G_GUINT64_FORMAT " stored, %" G_GUINT64_FORMAT
                  " in memory, RSS %" G_GUINT64_FORMAT " → %" G_GUINT64_FORMAT " KiB",
                  stored, in_memory, rss_warm, rss_end);
  /* Only what ended within the retention (and a sweep) is left. */
  g_assert_cmpuint (stored, <, 2000);
  g_assert_cmpuint (in_memory, <, 2000);
  /* Unbounded, 6000 more jobs would be megabytes more (≥ 1 KiB each in
   * memory). Under valgrind or AddressSanitizer (which keeps what is
   * freed in quarantine), the process's memory says nothing of the
   * server's. */
  if (g_getenv ("VT_VALGRIND") == NULL && !BUILT_WITH_ASAN)
    g_assert_cmpuint (rss_end, <, rss_warm + 2048);
}

/* Crash safety: kill -9 during a storm of POSTs */

#define CRASH_REQUESTS 3000
#define CRASH_KILL_AFTER 400
#define CRASH_IN_FLIGHT 48

/* Request @index asks for a duration, an outcome (and an error's message)
 * of its own, and says who it is in source_url, so that its job can be
 * told apart on disk. */
static double
crash_duration (guint index)
{
  return (index % 7) * 0.01;
}

static const char *
crash_outcome (guint index)
{
  return index % 3 == 0 ? "error" : "completed";
}

static char *
crash_body (guint index)
{
  char duration[G_ASCII_DTOSTR_BUF_SIZE];

  return g_strdup_printf ("{\"duration\": %s, \"outcome\": \"%s\", \"source_url\": \"crash://%u\","
                          " \"message\": \"crash %u\"}",
                          g_ascii_formatd (duration, sizeof duration, "%.2f",
                                           crash_duration (index)),
                          crash_outcome (index), index, index);
}

typedef struct
{
  GHashTable   *created;    /* index → the 201's job document (JsonNode) */
  GHashTable   *refused;    /* indexes answered anything else */
  guint         n_unanswered;
  guint         in_flight_at_kill;
} Crash;

static void
on_crash_answer (Storm        *storm,
                 guint         index,
                 SoupMessage  *msg,
                 GBytes       *body,
                 const GError *error)
{
  Crash *crash = storm->data;

  if (error != NULL)
    crash->n_unanswered++;
  else if (soup_message_get_status (msg) == SOUP_STATUS_CREATED)
    g_hash_table_insert (crash->created, GUINT_TO_POINTER (index),
                         json_from_string (g_bytes_get_data (body, NULL), NULL));
  else
    g_hash_table_add (crash->refused, GUINT_TO_POINTER (index));

  if (storm->f.server != NULL && g_hash_table_size (crash->created) == CRASH_KILL_AFTER)
    {
      /* Mid-storm: requests in flight, a batch perhaps half-committed. */
      crash->in_flight_at_kill = storm->in_flight;
      g_clear_pointer (&storm->f.server, vt_test_server_kill);
      storm->stopped = TRUE;
    }
}

static gint64
iso8601_us (const char *text)
{
  g_autoptr(GDateTime) date = g_date_time_new_from_iso8601 (text, NULL);

  g_assert_nonnull (date);
  return g_date_time_to_unix (date) * G_USEC_PER_SEC + g_date_time_get_microsecond (date);
}

/* The job @index asked for, as the restarted server answers it: ended
 * (awaited with a long-poll), with the outcome, duration and message
 * asked for, and the @created_at of its 201 if it got one. */
static void
assert_job_as_asked (Fixture    *f,
                     const char *id,
                     guint       index,
                     const char *created_at)
{
  g_autofree char *path = wait_path ("/jobs/", id, "?wait=", 5);
  g_autofree char *source = g_strdup_printf ("crash://%u", index);
  g_autoptr(Response) job = fetch (f, "GET", path, NULL);

  g_assert_cmpuint (job->status, ==, SOUP_STATUS_OK);
  g_assert_cmpstr (string_member (job, "source_url"), ==, source);
  g_assert_cmpstr (string_member (job, "status"), ==, crash_outcome (index));
  if (g_str_equal (crash_outcome (index), "error"))
    {
      g_autofree char *message = g_strdup_printf ("crash %u", index);

      g_assert_cmpstr (string_member (job, "message"), ==, message);
    }
  if (created_at != NULL)
    g_assert_cmpstr (string_member (job, "created_at"), ==, created_at);
  g_assert_cmpint (iso8601_us (string_member (job, "completed_at")) -
                   iso8601_us (string_member (job, "created_at")),
                   ==, (gint64) llround (crash_duration (index) * 1000) * 1000);
}

static guint
row_index (Row *row)
{
  guint64 index;

  g_assert_true (g_str_has_prefix (row->source_url, "crash://"));
  g_assert_true (g_ascii_string_to_unsigned (row->source_url + strlen ("crash://"), 10,
                                             0, CRASH_REQUESTS - 1, &index, NULL));
  return (guint) index;
}

static void
test_crash (void)
{
  g_autoptr(StateDir) state = state_dir_new ();
  g_autoptr(GHashTable) created = g_hash_table_new_full (NULL, NULL, NULL,
                                                         (GDestroyNotify) json_node_unref);
  g_autoptr(GHashTable) refused = g_hash_table_new (NULL, NULL);
  g_autoptr(GHashTable) on_disk = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  g_autoptr(GPtrArray) rows = NULL;
  Crash crash = { created, refused, 0, 0 };
  Storm storm = { { start_with_state (state->path, NULL), NULL, NULL }, crash_body,
                  on_crash_answer, &crash, CRASH_REQUESTS, CRASH_IN_FLIGHT, };
  Fixture f = { NULL, soup_session_new (), NULL };
  GHashTableIter iter;
  gpointer key, value;
  guint n_unanswered_stored = 0;

  storm_run (&storm);
  g_assert_null (storm.f.server);
  g_assert_cmpuint (g_hash_table_size (created), >=, CRASH_KILL_AFTER);
  g_test_message ("killed with %u requests in flight: %u created, %u refused, %u unanswered",
                  crash.in_flight_at_kill, g_hash_table_size (created),
                  g_hash_table_size (refused), crash.n_unanswered);

  /* Restarted on the same file: every job that got a 201 is back, the
   * same job. */
  f.server = start_with_state (state->path, NULL);
  g_hash_table_iter_init (&iter, created);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      JsonObject *object = json_node_get_object (value);

      assert_job_as_asked (&f, json_object_get_string_member (object, "id"),
                           GPOINTER_TO_UINT (key),
                           json_object_get_string_member (object, "created_at"));
    }
  stop_server (&f);

  /* On disk: each row is one request's job, at most once; none for a
   * request answered with an error; besides the 201s, at most the
   * requests that were in flight (committed, unanswered: allowed). */
  rows = read_rows (state->path);
  for (guint i = 0; i < rows->len; i++)
    {
      Row *row = g_ptr_array_index (rows, i);
      guint index;

      if (row->source_url == NULL)
        continue;  /* the default job */
      index = row_index (row);
      g_assert_true (g_hash_table_insert (on_disk, GUINT_TO_POINTER (index), g_strdup (row->id)));
      g_assert_false (g_hash_table_contains (refused, GUINT_TO_POINTER (index)));
      g_assert_cmpstr (row->outcome, ==, crash_outcome (index));
      g_assert_cmpint (row->duration_us, ==, (gint64) llround (crash_duration (index) * 1e6));
      if (!g_hash_table_contains (created, GUINT_TO_POINTER (index)))
        n_unanswered_stored++;
    }
  g_assert_cmpuint (g_hash_table_size (on_disk), ==, g_hash_table_size (created) + n_unanswered_stored);
  g_assert_cmpuint (n_unanswered_stored, <=, crash.in_flight_at_kill);
  g_test_message ("on disk: the %u created and %u never answered", g_hash_table_size (created),
                  n_unanswered_stored);

  /* Those the clients never heard of are whole jobs too. */
  f.server = start_with_state (state->path, NULL);
  g_hash_table_iter_init (&iter, on_disk);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      if (!g_hash_table_contains (created, key))
        assert_job_as_asked (&f, value, GPOINTER_TO_UINT (key), NULL);
    }
  stop_server (&f);
  g_clear_object (&f.session);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/server/store/disk-full", test_disk_full);
  g_test_add_func ("/server/store/in-use", test_in_use);
  g_test_add_func ("/server/store/foreign-database", test_foreign_database);
  g_test_add_func ("/server/store/legacy-json", test_legacy_json);
  g_test_add_func ("/server/store/retention/gone", test_retention_gone);
  g_test_add_func ("/server/store/cache-reads-disk", test_cache_reads_disk);
  g_test_add_func ("/server/store/memory-bounded", test_memory_bounded);
  g_test_add_func ("/server/store/crash", test_crash);

  return g_test_run ();
}
