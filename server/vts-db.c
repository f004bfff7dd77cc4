/* vts-db.c: the jobs on SQLite, one row per job
 *
 * A row holds what decides a job (id, wall-clock creation time, duration,
 * outcome, eta noise, fields, the message of an error), never a state: read back after a restart,
 * the job is pending or has ended according to its creation time and
 * duration. The table is keyed by id (WITHOUT ROWID: a lookup is one
 * B-tree search) and indexed by the instant each job ends, which is what
 * retention deletes by. A small key/value table keeps the rest (the key
 * that marks the ids this database issued, the default job).
 *
 * The database is in WAL mode with synchronous=FULL: a COMMIT returns
 * once the transaction is in the log and the log is on disk, so that a
 * job the server answered 201 for survives a crash of the process and of
 * the machine. WAL also lets the main loop read while the writer thread
 * (vts-db-writer.c), on a connection of its own, commits.
 *
 * One process at a time: the first connection takes an exclusive flock()
 * on the file, so that a second vt-server on the same file is refused at
 * start. (flock locks are apart from the fcntl locks SQLite takes; the
 * descriptor is closed only after SQLite is done with the file, since
 * closing any descriptor of a file drops the process's fcntl locks.)
 *
 * Every statement is prepared once. A connection is used by one thread
 * at a time.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vts-db.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <unistd.h>

#include "vts-duration-model.h"

/* "vtsv": what marks a database as vt-server's */
#define VTS_DB_APPLICATION_ID 0x76747376
#define VTS_DB_SCHEMA_VERSION 1

typedef enum {
  STMT_BEGIN,
  STMT_COMMIT,
  STMT_ROLLBACK,
  STMT_INSERT,
  STMT_FIND,
  STMT_COUNT,
  STMT_DELETE_ENDED,
  STMT_GET_META,
  STMT_SET_META,
  N_STMTS
} StmtId;

static const char * const stmt_sql[N_STMTS] = {
  /* IMMEDIATE: the write lock is taken at BEGIN, not half-way through. */
  [STMT_BEGIN] = "BEGIN IMMEDIATE",
  [STMT_COMMIT] = "COMMIT",
  [STMT_ROLLBACK] = "ROLLBACK",
  [STMT_INSERT] =
    "INSERT INTO jobs (id, created_us, duration_us, outcome, eta_factor,"
    "                  source_url, target_language, message)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
  [STMT_FIND] =
    "SELECT created_us, duration_us, outcome, eta_factor, source_url, target_language, message"
    " FROM jobs WHERE id = ?1",
  [STMT_COUNT] = "SELECT outcome, count(*) FROM jobs GROUP BY outcome",
  /* A bounded chunk at a time: a sweep after a long downtime does not
   * hold the write lock (or the main loop) for one huge transaction. */
  [STMT_DELETE_ENDED] =
    "DELETE FROM jobs WHERE id IN"
    " (SELECT id FROM jobs WHERE created_us + duration_us <= ?1 AND id IS NOT ?2 LIMIT ?3)"
    " RETURNING outcome",
  [STMT_GET_META] = "SELECT value FROM meta WHERE key = ?1",
  [STMT_SET_META] = "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
};

/* What each statement does, for error messages */
static const char * const stmt_what[N_STMTS] = {
  [STMT_BEGIN] = "cannot begin a transaction",
  [STMT_COMMIT] = "cannot commit",
  [STMT_ROLLBACK] = "cannot roll back",
  [STMT_INSERT] = "cannot insert the job",
  [STMT_FIND] = "cannot read the job",
  [STMT_COUNT] = "cannot count the jobs",
  [STMT_DELETE_ENDED] = "cannot delete the jobs past retention",
  [STMT_GET_META] = "cannot read the database",
  [STMT_SET_META] = "cannot write the database",
};

static const char schema_sql[] =
  "CREATE TABLE jobs ("
  "  id              TEXT PRIMARY KEY NOT NULL,"
  "  created_us      INTEGER NOT NULL,"
  "  duration_us     INTEGER NOT NULL CHECK (duration_us >= 0),"
  "  outcome         TEXT NOT NULL CHECK (outcome IN ('completed', 'error')),"
  "  eta_factor      REAL NOT NULL,"
  "  source_url      TEXT,"
  "  target_language TEXT,"
  "  message         TEXT"
  ") WITHOUT ROWID;"
  "CREATE INDEX jobs_by_end ON jobs (created_us + duration_us);"
  "CREATE TABLE meta ("
  "  key   TEXT PRIMARY KEY NOT NULL,"
  "  value BLOB NOT NULL"
  ") WITHOUT ROWID;";

struct _VtsDb
{
  sqlite3      *db;
  sqlite3_stmt *stmts[N_STMTS];
  char         *path;     /* NULL in memory */
  int           lock_fd;  /* the first connection's flock, else -1 */
};

/* SQLite's result codes, as the GIOErrorEnum a caller can act on */
static GIOErrorEnum
io_error_from_sqlite (int rc)
{
  switch (rc & 0xff)
    {
    case SQLITE_FULL:
      return G_IO_ERROR_NO_SPACE;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return G_IO_ERROR_BUSY;
    case SQLITE_READONLY:
    case SQLITE_PERM:
      return G_IO_ERROR_READ_ONLY;
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      return G_IO_ERROR_INVALID_DATA;
    default:
      return G_IO_ERROR_FAILED;
    }
}

static void
set_sqlite_error (sqlite3     *db,
                  int          rc,
                  const char  *what,
                  GError     **error)
{
  g_set_error (error, G_IO_ERROR, io_error_from_sqlite (rc), "%s: %s", what,
               db != NULL ? sqlite3_errmsg (db) : sqlite3_errstr (rc));
}

/* Ready to run again, with nothing bound */
static void
reset_statement (sqlite3_stmt *stmt)
{
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
}

/* Runs statement @id (bound already) to its end and resets it. */
static gboolean
step_to_done (VtsDb         *self,
              StmtId         id,
              GError       **error)
{
  sqlite3_stmt *stmt = self->stmts[id];
  int rc = sqlite3_step (stmt);

  if (rc != SQLITE_DONE)
    set_sqlite_error (self->db, rc, stmt_what[id], error);
  reset_statement (stmt);

  return rc == SQLITE_DONE;
}

/* Runs @sql, a setup step: @what says which, for the error message. */
static gboolean
exec (sqlite3     *db,
      const char  *sql,
      const char  *what,
      GError     **error)
{
  int rc = sqlite3_exec (db, sql, NULL, NULL, NULL);

  if (rc != SQLITE_OK)
    {
      set_sqlite_error (db, rc, what, error);
      return FALSE;
    }

  return TRUE;
}

/* A pragma that answers one integer (or a word, for journal_mode) */
static gboolean
query_pragma (sqlite3     *db,
              const char  *sql,
              gint64      *number,
              char       **word,
              GError     **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc = sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL);

  if (rc == SQLITE_OK)
    {
      rc = sqlite3_step (stmt);
      if (rc == SQLITE_ROW)
        {
          if (number != NULL)
            *number = sqlite3_column_int64 (stmt, 0);
          if (word != NULL)
            *word = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
          rc = SQLITE_OK;
        }
    }
  if (rc != SQLITE_OK)
    set_sqlite_error (db, rc, "cannot read the database", error);
  sqlite3_finalize (stmt);

  return rc == SQLITE_OK;
}

/* Creates the tables in a new database, or checks that an existing one
 * is vt-server's, of the version this server reads. */
static gboolean
ensure_schema (sqlite3     *db,
               GError     **error)
{
  gint64 application_id = 0, version = 0, n_objects = 0;
  g_autofree char *create = NULL;

  if (!query_pragma (db, "PRAGMA application_id", &application_id, NULL, error) ||
      !query_pragma (db, "PRAGMA user_version", &version, NULL, error) ||
      !query_pragma (db, "SELECT count(*) FROM sqlite_schema", &n_objects, NULL, error))
    return FALSE;

  if (n_objects == 0)
    {
      create = g_strdup_printf ("BEGIN IMMEDIATE; %s PRAGMA application_id = %d;"
                                " PRAGMA user_version = %d; COMMIT",
                                schema_sql, VTS_DB_APPLICATION_ID, VTS_DB_SCHEMA_VERSION);
      return exec (db, create, "cannot create the tables", error);
    }

  if (application_id != VTS_DB_APPLICATION_ID)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "an SQLite database, but not vt-server's");
      return FALSE;
    }
  if (version != VTS_DB_SCHEMA_VERSION)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "a vt-server database of version %" G_GINT64_FORMAT
                   ", this server reads version %d", version, VTS_DB_SCHEMA_VERSION);
      return FALSE;
    }

  return TRUE;
}

static gboolean
configure (sqlite3     *db,
           gboolean     on_disk,
           GError     **error)
{
  g_autofree char *mode = NULL;

  sqlite3_extended_result_codes (db, 1);
  /* The two connections (main loop, writer) meet only on rare locks: a
   * checkpoint, the log's recovery. */
  sqlite3_busy_timeout (db, 5000);
  if (!exec (db, "PRAGMA synchronous = FULL", "cannot configure the database", error))
    return FALSE;

  if (!on_disk)
    return TRUE;

  if (!query_pragma (db, "PRAGMA journal_mode = WAL", NULL, &mode, error))
    return FALSE;
  if (g_strcmp0 (mode, "wal") != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "cannot use write-ahead logging (journal mode %s)", mode);
      return FALSE;
    }

  return TRUE;
}

static gboolean
prepare_statements (VtsDb   *self,
                    GError **error)
{
  for (guint i = 0; i < N_STMTS; i++)
    {
      int rc = sqlite3_prepare_v3 (self->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                                   &self->stmts[i], NULL);

      if (rc != SQLITE_OK)
        {
          set_sqlite_error (self->db, rc, "cannot prepare a statement", error);
          return FALSE;
        }
    }

  return TRUE;
}

/* One vt-server per file: an exclusive flock() on it, kept open. */
static int
lock_file (const char  *path,
           GError     **error)
{
  int fd = g_open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  int saved_errno;

  if (fd >= 0 && flock (fd, LOCK_EX | LOCK_NB) == 0)
    return fd;

  saved_errno = errno;
  if (fd >= 0)
    close (fd);
  if (saved_errno == EWOULDBLOCK)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_BUSY, "locked");
  else
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                 "%s", g_strerror (saved_errno));
  return -1;
}

static VtsDb *
open_connection (const char  *path,
                 gboolean     lock,
                 GError     **error)
{
  g_autoptr(VtsDb) self = g_new0 (VtsDb, 1);
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  int rc;

  self->path = g_strdup (path);
  self->lock_fd = -1;
  if (lock && path != NULL && (self->lock_fd = lock_file (path, error)) < 0)
    return NULL;

  rc = sqlite3_open_v2 (path != NULL ? path : ":memory:", &self->db, flags, NULL);
  if (rc != SQLITE_OK)
    {
      set_sqlite_error (self->db, rc, "cannot open the database", error);
      return NULL;
    }

  /* SQLite opens a file it may not write read-only, silently: every job
   * would then fail. Refuse at start instead. */
  if (sqlite3_db_readonly (self->db, "main") == 1)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_READ_ONLY, "the file is not writable");
      return NULL;
    }

  if (!configure (self->db, path != NULL, error) ||
      !ensure_schema (self->db, error) ||
      !prepare_statements (self, error))
    return NULL;

  return g_steal_pointer (&self);
}

/*
 * vts_db_open:
 * @path: (nullable): the database file, created when missing; %NULL
 *   keeps the jobs in memory, for a server without --state
 *
 * Returns: (transfer full) (nullable): the open database, or %NULL with
 * @error set (G_IO_ERROR_INVALID_DATA for a file that is not a vt-server
 * database, G_IO_ERROR_BUSY when another process holds it)
 */
VtsDb *
vts_db_open (const char  *path,
             GError     **error)
{
  return open_connection (path, TRUE, error);
}

/*
 * vts_db_open_another:
 *
 * Returns: (transfer full) (nullable): a second connection to the file
 * of @self, for another thread; close it before @self
 */
VtsDb *
vts_db_open_another (VtsDb   *self,
                     GError **error)
{
  g_return_val_if_fail (self->path != NULL, NULL);

  return open_connection (self->path, FALSE, error);
}

/* Closing the last connection checkpoints the log and deletes it: after
 * a clean stop, the database is one file again. */
void
vts_db_close (VtsDb *self)
{
  if (self == NULL)
    return;

  for (guint i = 0; i < N_STMTS; i++)
    sqlite3_finalize (self->stmts[i]);
  if (self->db != NULL && sqlite3_close (self->db) != SQLITE_OK)
    g_warning ("Cannot close the database: %s", sqlite3_errmsg (self->db));
  if (self->lock_fd >= 0)
    close (self->lock_fd);
  g_free (self->path);
  g_free (self);
}

gboolean
vts_db_begin (VtsDb   *self,
              GError **error)
{
  return step_to_done (self, STMT_BEGIN, error);
}

/* On failure the transaction is rolled back: nothing of it was stored. */
gboolean
vts_db_commit (VtsDb   *self,
               GError **error)
{
  if (step_to_done (self, STMT_COMMIT, error))
    return TRUE;

  vts_db_rollback (self);
  return FALSE;
}

void
vts_db_rollback (VtsDb *self)
{
  /* A failed statement may have rolled back already (SQLITE_FULL can). */
  if (!sqlite3_get_autocommit (self->db))
    step_to_done (self, STMT_ROLLBACK, NULL);
}

static void
bind_optional_text (sqlite3_stmt *stmt,
                    int           index,
                    const char   *text)
{
  if (text != NULL)
    sqlite3_bind_text (stmt, index, text, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null (stmt, index);
}

/* Within a transaction (vts_db_begin()). */
gboolean
vts_db_insert_job (VtsDb   *self,
                   VtsJob  *job,
                   GError **error)
{
  sqlite3_stmt *stmt = self->stmts[STMT_INSERT];

  sqlite3_bind_text (stmt, 1, vts_job_get_id (job), -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, vts_job_get_created_wall (job));
  sqlite3_bind_int64 (stmt, 3, vts_job_get_duration (job));
  sqlite3_bind_text (stmt, 4, vts_job_state_to_string (vts_job_get_outcome (job)), -1,
                     SQLITE_STATIC);
  sqlite3_bind_double (stmt, 5, vts_job_get_eta_factor (job));
  bind_optional_text (stmt, 6, vts_job_get_source_url (job));
  bind_optional_text (stmt, 7, vts_job_get_target_language (job));
  bind_optional_text (stmt, 8, vts_job_get_message (job));

  return step_to_done (self, STMT_INSERT, error);
}

/* The row under @stmt, as a job; NULL when what is stored cannot be one
 * (the CHECK constraints make that a file edited by hand). */
static VtsJob *
job_from_row (sqlite3_stmt  *stmt,
              const char    *id,
              GError       **error)
{
  gint64 duration = sqlite3_column_int64 (stmt, 1);
  double eta_factor = sqlite3_column_double (stmt, 3);
  VtsJobState outcome = VTS_JOB_STATE_PENDING;
  VtsJob *job;

  vts_job_state_from_string ((const char *) sqlite3_column_text (stmt, 2), &outcome);
  if (outcome == VTS_JOB_STATE_PENDING || duration < 0 ||
      duration > VTS_DURATION_MAX * G_USEC_PER_SEC || !(eta_factor >= 0.0 && eta_factor <= 2.0))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "the stored job %s is malformed", id);
      return NULL;
    }

  job = vts_job_new (id, sqlite3_column_int64 (stmt, 0), duration, outcome, eta_factor,
                     (const char *) sqlite3_column_text (stmt, 4),
                     (const char *) sqlite3_column_text (stmt, 5));
  vts_job_set_message (job, (const char *) sqlite3_column_text (stmt, 6));

  return job;
}

/* Selects the row keyed @key with statement @id. Returns: the statement
 * on its row, to read then reset with reset_statement(); NULL when there
 * is no such row (@error unset) or on error. */
static sqlite3_stmt *
select_row (VtsDb       *self,
            StmtId       id,
            const char  *key,
            GError     **error)
{
  sqlite3_stmt *stmt = self->stmts[id];
  int rc;

  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    return stmt;

  if (rc != SQLITE_DONE)
    set_sqlite_error (self->db, rc, stmt_what[id], error);
  reset_statement (stmt);
  return NULL;
}

/*
 * vts_db_find_job:
 *
 * Returns: (transfer full) (nullable): the job stored under @id; %NULL
 * with @error unset when there is none
 */
VtsJob *
vts_db_find_job (VtsDb       *self,
                 const char  *id,
                 GError     **error)
{
  sqlite3_stmt *stmt = select_row (self, STMT_FIND, id, error);
  VtsJob *job;

  if (stmt == NULL)
    return NULL;

  job = job_from_row (stmt, id, error);
  reset_statement (stmt);
  return job;
}

static void
count_outcome (sqlite3_stmt *stmt,
               int           column,
               guint64       counts[VTS_JOB_N_STATES],
               guint64       n)
{
  VtsJobState outcome;

  if (vts_job_state_from_string ((const char *) sqlite3_column_text (stmt, column), &outcome))
    counts[outcome] += n;
}

/* Every stored job, by outcome (whether it has ended yet or not). */
gboolean
vts_db_count_jobs (VtsDb   *self,
                   guint64  counts[VTS_JOB_N_STATES],
                   GError **error)
{
  sqlite3_stmt *stmt = self->stmts[STMT_COUNT];
  int rc;

  for (guint i = 0; i < VTS_JOB_N_STATES; i++)
    counts[i] = 0;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    count_outcome (stmt, 0, counts, (guint64) sqlite3_column_int64 (stmt, 1));
  if (rc != SQLITE_DONE)
    set_sqlite_error (self->db, rc, stmt_what[STMT_COUNT], error);
  sqlite3_reset (stmt);

  return rc == SQLITE_DONE;
}

/*
 * vts_db_delete_ended:
 * @before_wall_us: delete the jobs that ended at or before this instant
 * @keep_id: (nullable): a job never to delete (the default job)
 * @limit: the most jobs deleted in one call
 * @deleted: (out caller-allocates): how many were deleted, by outcome
 *
 * Within a transaction. Returns: how many jobs were deleted, -1 on error
 */
gint64
vts_db_delete_ended (VtsDb       *self,
                     gint64       before_wall_us,
                     const char  *keep_id,
                     guint        limit,
                     guint64      deleted[VTS_JOB_N_STATES],
                     GError     **error)
{
  sqlite3_stmt *stmt = self->stmts[STMT_DELETE_ENDED];
  gint64 n = 0;
  int rc;

  for (guint i = 0; i < VTS_JOB_N_STATES; i++)
    deleted[i] = 0;

  sqlite3_bind_int64 (stmt, 1, before_wall_us);
  bind_optional_text (stmt, 2, keep_id);
  sqlite3_bind_int (stmt, 3, (int) MIN (limit, G_MAXINT));
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      count_outcome (stmt, 0, deleted, 1);
      n++;
    }
  if (rc != SQLITE_DONE)
    set_sqlite_error (self->db, rc, stmt_what[STMT_DELETE_ENDED], error);
  reset_statement (stmt);

  return rc == SQLITE_DONE ? n : -1;
}

/*
 * vts_db_get_meta:
 *
 * Returns: (transfer full) (nullable): the value stored under @key;
 * %NULL with @error unset when there is none
 */
GBytes *
vts_db_get_meta (VtsDb       *self,
                 const char  *key,
                 GError     **error)
{
  sqlite3_stmt *stmt = select_row (self, STMT_GET_META, key, error);
  GBytes *value;

  if (stmt == NULL)
    return NULL;

  value = g_bytes_new (sqlite3_column_blob (stmt, 0), sqlite3_column_bytes (stmt, 0));
  reset_statement (stmt);
  return value;
}

/* Within a transaction. */
gboolean
vts_db_set_meta (VtsDb         *self,
                 const char    *key,
                 gconstpointer  data,
                 gsize          size,
                 GError       **error)
{
  sqlite3_stmt *stmt = self->stmts[STMT_SET_META];

  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);
  sqlite3_bind_blob (stmt, 2, data, (int) size, SQLITE_STATIC);

  return step_to_done (self, STMT_SET_META, error);
}
