/* vts-job-store.c: every job the server knows, decided once at creation
 *
 * The store is the only place randomness touches a job: its duration, its
 * outcome and its eta noise are drawn here, in a fixed order, from one
 * GRand, so that a --seed makes a whole run reproducible.
 *
 * Every job is a row of a VtsDb: the --state file, or a database in
 * memory without one. A creation completes only once its row is
 * committed: on a file, vts_job_store_create_async() hands the job to
 * the writer thread (vts-db-writer.c), which commits every job queued
 * meanwhile in one transaction, off the main loop; the creation then
 * completes in the main context, with the job, or with the error that
 * kept it from being stored (then it does not exist). One fsync serves a
 * storm of POSTs and the main loop never waits for the disk
 * (docs/benchmarks.md measures this against committing on the main
 * loop). In memory, vts_job_store_create() stores a job at once.
 *
 * Memory holds only what is needed at once: every pending job (the
 * store hears each one end through its ::changed signal), the default
 * job, and up to VTS_JOB_STORE_CACHE_SIZE ended jobs, the ones asked for
 * most recently. Any other job is read from the database when asked for.
 *
 * Retention: a job that ended more than the retention ago is gone, at
 * once and exactly (lookups check the time); a sweep deletes such jobs
 * from memory and from the database in the background. Ids carry a mark
 * (vts-job-ids.c) that tells a deleted job from one that never was, so
 * that nothing is kept of the deleted. The default job is never deleted.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vts-job-store.h"

#include "vts-db.h"
#include "vts-db-writer.h"
#include "vts-job-ids.h"
#include "vts-legacy-state.h"
#include "vts-timer.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#define META_ID_KEY "id-key"
#define META_DEFAULT_JOB "default-job"

/* The most rows one sweep transaction deletes; a bigger backlog is
 * deleted over the next iterations. */
#define SWEEP_CHUNK 2000

/* A job the store holds in memory */
typedef struct
{
  VtsJobStore   *store;
  VtsJob        *job;
  gulong         pending_id;  /* ::changed, while the job is pending */
  GList          link;        /* in store->ended (data: the entry), once it ended */
  gboolean       pinned;      /* the default job: never evicted nor deleted */
} Entry;

struct _VtsJobStore
{
  GObject          parent_instance;

  VtsDurationModel durations;
  double           error_rate;
  double           eta_noise;
  GRand           *rand;

  VtsDb           *db;
  VtsJobIds       *ids;
  gboolean         persistent;  /* on a file, not in memory */
  gint64           retention;   /* µs */

  GHashTable      *entries;    /* id → Entry, owned */
  GQueue           ended;      /* Entry, the most recently used first */
  Entry           *default_entry;

  guint64          stored[VTS_JOB_N_STATES];   /* rows, by outcome */
  guint            pending_by_outcome[VTS_JOB_N_STATES];

  VtsDbWriter     *writer;        /* on a file: what writes */
  gboolean         sweeping;      /* a deletion is with the writer */
  VtsTimer         trim_timer;    /* trims the cache, after lookups */
  VtsTimer         sweep_timer;   /* retention */
};

/* What the writer does for the store */
typedef enum {
  WRITE_JOB,
  DELETE_ENDED,
} WriteKind;

typedef struct
{
  WriteKind  kind;
  GTask     *task;         /* WRITE_JOB: a creation; its data is the job */
  gint64     cutoff_wall;  /* DELETE_ENDED: delete what ended by then */
  char      *keep_id;      /* DELETE_ENDED: but the default job */
  gint64     n_deleted;
  guint64    deleted[VTS_JOB_N_STATES];
  GError    *error;
} Write;

static void
write_free (gpointer data)
{
  Write *write = data;

  g_clear_object (&write->task);
  g_free (write->keep_id);
  g_clear_error (&write->error);
  g_free (write);
}

G_DEFINE_FINAL_TYPE (VtsJobStore, vts_job_store, G_TYPE_OBJECT)

/* Entries */

static void
entry_free (gpointer data)
{
  Entry *entry = data;

  g_clear_signal_handler (&entry->pending_id, entry->job);
  g_object_unref (entry->job);
  g_free (entry);
}

static gint64
wall_end (VtsJob *job)
{
  return vts_job_get_created_wall (job) + vts_job_get_duration (job);
}

/* Past retention: it ended more than the retention ago. */
static gboolean
job_expired (VtsJobStore *self,
             VtsJob      *job,
             gint64       now_wall)
{
  return wall_end (job) <= now_wall - self->retention;
}

/* At the next iteration: never while a lookup may still use a job. */
static void
schedule_trim (VtsJobStore *self)
{
  if (!vts_timer_is_scheduled (&self->trim_timer))
    vts_timer_schedule (&self->trim_timer, g_get_monotonic_time ());
}

/* Ended: among the cached, the most recently used (the default job
 * stays apart). Trimmed later, never while a lookup may use a job. */
static void
entry_cache (Entry *entry)
{
  VtsJobStore *self = entry->store;

  if (entry->pinned)
    return;

  g_queue_push_head_link (&self->ended, &entry->link);
  if (self->ended.length > VTS_JOB_STORE_CACHE_SIZE)
    schedule_trim (self);
}

static void
entry_on_ended (Entry *entry)
{
  g_clear_signal_handler (&entry->pending_id, entry->job);
  entry->store->pending_by_outcome[vts_job_get_outcome (entry->job)]--;
  entry_cache (entry);
}

/* Takes @job into memory: heard from while pending, cached once ended. */
static Entry *
vts_job_store_adopt (VtsJobStore *self,
                     VtsJob      *job,
                     gboolean     pinned)
{
  Entry *entry = g_hash_table_lookup (self->entries, vts_job_get_id (job));

  /* Ids are unique; a job read from the database twice is one job. */
  if (entry != NULL)
    return entry;

  entry = g_new0 (Entry, 1);
  entry->store = self;
  entry->job = g_object_ref (job);
  entry->link.data = entry;
  entry->pinned = pinned;
  g_hash_table_insert (self->entries, (gpointer) vts_job_get_id (job), entry);

  if (vts_job_get_state (job, g_get_monotonic_time ()) == VTS_JOB_STATE_PENDING)
    {
      /* Connected before any long-poll, stream or feed is: the store's
       * books are right by the time they hear of the end. */
      entry->pending_id = g_signal_connect_swapped (job, "changed",
                                                    G_CALLBACK (entry_on_ended), entry);
      self->pending_by_outcome[vts_job_get_outcome (job)]++;
    }
  else
    {
      entry_cache (entry);
    }

  return entry;
}

/* In self->ended: ended, and not the default job */
static gboolean
entry_is_cached (VtsJobStore *self,
                 Entry       *entry)
{
  return entry->link.prev != NULL || self->ended.head == &entry->link;
}

/* Forgets an ended entry. Never from within a lookup: a caller may still
 * hold a job it looked up a moment ago (see vts_job_store_find()). */
static void
vts_job_store_evict (VtsJobStore *self,
                     Entry       *entry)
{
  g_queue_unlink (&self->ended, &entry->link);
  g_hash_table_remove (self->entries, vts_job_get_id (entry->job));
}

static void
trim_cache (VtsJobStore *self)
{
  while (self->ended.length > VTS_JOB_STORE_CACHE_SIZE)
    vts_job_store_evict (self, self->ended.tail->data);
}

/* Creating */

/* One transaction for all of @jobs: all are stored, or none. */
static gboolean
insert_jobs (VtsDb    *db,
             VtsJob  **jobs,
             guint     n_jobs,
             GError  **error)
{
  if (!vts_db_begin (db, error))
    return FALSE;

  for (guint i = 0; i < n_jobs; i++)
    {
      if (!vts_db_insert_job (db, jobs[i], error))
        {
          vts_db_rollback (db);
          return FALSE;
        }
    }

  return vts_db_commit (db, error);
}

/* A job just committed: it exists from now on. */
static void
vts_job_store_add (VtsJobStore *self,
                   VtsJob      *job)
{
  self->stored[vts_job_get_outcome (job)]++;
  vts_job_store_adopt (self, job, FALSE);
}

static void
complete_creation (VtsJobStore  *self,
                   GTask        *task,
                   const GError *error)
{
  VtsJob *job = g_task_get_task_data (task);

  if (error != NULL)
    {
      g_task_return_error (task, g_error_copy (error));
      return;
    }

  vts_job_store_add (self, job);
  g_task_return_pointer (task, g_object_ref (job), g_object_unref);
}

static void
on_trim (VtsTimer *timer,
         gpointer  user_data)
{
  trim_cache (user_data);
}

/* Returns: (transfer full): a new job, every draw made in a fixed order */
static VtsJob *
draw_job (VtsJobStore      *self,
          const VtsJobSpec *spec)
{
  g_autofree char *id = NULL;
  double duration, roll, eta_factor;
  VtsJobState outcome;
  VtsJob *job;

  /* Every draw happens whatever the spec overrides, so that one test's
   * explicit duration does not shift the next job's random outcome. */
  duration = vts_duration_model_sample (&self->durations, self->rand);
  roll = g_rand_double (self->rand);
  eta_factor = 1.0 + self->eta_noise * g_rand_double_range (self->rand, -1.0, 1.0);

  if (spec->duration >= 0)
    duration = MIN (spec->duration, VTS_DURATION_MAX);
  outcome = spec->outcome;
  if (outcome == VTS_JOB_STATE_PENDING)
    outcome = roll < self->error_rate ? VTS_JOB_STATE_ERROR : VTS_JOB_STATE_COMPLETED;

  id = vts_job_ids_issue (self->ids);
  job = vts_job_new (id, g_get_real_time (), (gint64) llround (duration * G_USEC_PER_SEC),
                     outcome, eta_factor, spec->source_url, spec->target_language);
  vts_job_set_message (job, spec->message);

  return job;
}

/*
 * vts_job_store_create:
 *
 * Draws a new job and stores it now, in a transaction of its own: what a
 * store in memory does for every job. A store on a file (see
 * vts_job_store_is_persistent()) creates them with
 * vts_job_store_create_async().
 *
 * Returns: (transfer full) (nullable): the new job, stored; %NULL with
 * @error set if it could not be (it does not exist then)
 */
VtsJob *
vts_job_store_create (VtsJobStore       *self,
                      const VtsJobSpec  *spec,
                      GError           **error)
{
  g_autoptr(VtsJob) job = NULL;

  g_return_val_if_fail (VTS_IS_JOB_STORE (self), NULL);
  g_return_val_if_fail (spec != NULL, NULL);
  g_return_val_if_fail (!self->persistent, NULL);

  job = draw_job (self, spec);
  if (!insert_jobs (self->db, &job, 1, error))
    return NULL;

  vts_job_store_add (self, job);
  return g_steal_pointer (&job);
}

/*
 * vts_job_store_create_async:
 * @spec: what the job must be; its strings are copied at once
 *
 * Draws a new job and stores it. The job exists once @callback is
 * called and vts_job_store_create_finish() returns it: its row is then
 * committed. If it could not be stored, it never exists.
 */
void
vts_job_store_create_async (VtsJobStore         *self,
                            const VtsJobSpec    *spec,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (VTS_IS_JOB_STORE (self));
  g_return_if_fail (spec != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, vts_job_store_create_async);
  g_task_set_task_data (task, draw_job (self, spec), g_object_unref);

  if (self->writer != NULL)
    {
      Write *write = g_new0 (Write, 1);

      write->kind = WRITE_JOB;
      write->task = g_steal_pointer (&task);
      vts_db_writer_push (self->writer, write);
    }
  else
    {
      g_autoptr(GError) error = NULL;
      VtsJob *job = g_task_get_task_data (task);

      /* In memory, or closed: at once. */
      if (!self->persistent)
        insert_jobs (self->db, &job, 1, &error);
      else
        g_set_error (&error, G_IO_ERROR, G_IO_ERROR_CLOSED, "the store is closed");
      complete_creation (self, task, error);
    }
}

/*
 * vts_job_store_create_finish:
 *
 * Returns: (transfer full) (nullable): the new job, stored; %NULL with
 * @error set if it could not be (it does not exist then)
 */
VtsJob *
vts_job_store_create_finish (VtsJobStore   *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == vts_job_store_create_async,
                        NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Looking up */

/* The job stored under @id, if it is a job's and not gone. */
static VtsJobLookup
load_job (VtsJobStore  *self,
          const char   *id,
          gint64        now_wall,
          Entry       **entry)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(VtsJob) job = NULL;

  /* Junk is not worth a query; a malformed id names nothing. */
  if (!g_uuid_string_is_valid (id))
    return VTS_JOB_LOOKUP_UNKNOWN;

  job = vts_db_find_job (self->db, id, &error);
  if (error != NULL)
    {
      g_warning ("Cannot read job %s: %s", id, error->message);
      return VTS_JOB_LOOKUP_FAILED;
    }
  if (job == NULL)
    return vts_job_ids_issued (self->ids, id) ? VTS_JOB_LOOKUP_GONE : VTS_JOB_LOOKUP_UNKNOWN;
  if (job_expired (self, job, now_wall))
    return VTS_JOB_LOOKUP_GONE;

  *entry = vts_job_store_adopt (self, job, FALSE);
  return VTS_JOB_LOOKUP_FOUND;
}

/*
 * vts_job_store_find:
 * @id: (nullable): a job id, as a client sent it
 * @job: (out) (transfer none) (optional): the job, when found
 *
 * Finds a job in memory, else in the database. A job found stays valid
 * until the main loop runs again: the store never lets go of a job while
 * a lookup may still be using it. Hold a reference to keep it longer.
 *
 * Returns: whether @id names a job, a job removed by retention (gone),
 * nothing, or could not be read
 */
VtsJobLookup
vts_job_store_find (VtsJobStore  *self,
                    const char   *id,
                    VtsJob      **job)
{
  gint64 now_wall = g_get_real_time ();
  VtsJobLookup lookup = VTS_JOB_LOOKUP_FOUND;
  Entry *entry;

  g_return_val_if_fail (VTS_IS_JOB_STORE (self), VTS_JOB_LOOKUP_UNKNOWN);

  if (job != NULL)
    *job = NULL;
  if (id == NULL)
    return VTS_JOB_LOOKUP_UNKNOWN;

  entry = g_hash_table_lookup (self->entries, id);
  if (entry == NULL)
    lookup = load_job (self, id, now_wall, &entry);
  else if (!entry->pinned && entry->pending_id == 0 && job_expired (self, entry->job, now_wall))
    lookup = VTS_JOB_LOOKUP_GONE;  /* the sweep has not got to it yet */

  if (lookup != VTS_JOB_LOOKUP_FOUND)
    return lookup;

  if (entry_is_cached (self, entry))
    {
      /* Ended and cached: now the most recently used. */
      g_queue_unlink (&self->ended, &entry->link);
      g_queue_push_head_link (&self->ended, &entry->link);
    }
  if (job != NULL)
    *job = entry->job;

  return VTS_JOB_LOOKUP_FOUND;
}

/*
 * vts_job_store_lookup:
 *
 * vts_job_store_find() for callers that only need the job.
 *
 * Returns: (transfer none) (nullable): the job, or %NULL if @id names no
 * job (any more)
 */
VtsJob *
vts_job_store_lookup (VtsJobStore *self,
                      const char  *id)
{
  VtsJob *job = NULL;

  vts_job_store_find (self, id, &job);
  return job;
}

/* The default job */

static gboolean
store_default (VtsJobStore  *self,
               VtsJob       *job,
               GError      **error)
{
  const char *id = vts_job_get_id (job);

  if (!vts_db_begin (self->db, error))
    return FALSE;
  if (!vts_db_insert_job (self->db, job, error) ||
      !vts_db_set_meta (self->db, META_DEFAULT_JOB, id, strlen (id), error))
    {
      vts_db_rollback (self->db);
      return FALSE;
    }

  return vts_db_commit (self->db, error);
}

/*
 * vts_job_store_ensure_default:
 *
 * Creates the job GET /status follows, unless the state file has it: it
 * starts with the first server, not with each.
 */
gboolean
vts_job_store_ensure_default (VtsJobStore  *self,
                              GError      **error)
{
  VtsJobSpec spec = VTS_JOB_SPEC_INIT;
  g_autoptr(VtsJob) job = NULL;

  g_return_val_if_fail (VTS_IS_JOB_STORE (self), FALSE);

  if (self->default_entry != NULL)
    return TRUE;

  job = draw_job (self, &spec);
  if (!store_default (self, job, error))
    {
      g_prefix_error (error, "cannot store the default job: ");
      return FALSE;
    }

  self->stored[vts_job_get_outcome (job)]++;
  self->default_entry = vts_job_store_adopt (self, job, TRUE);
  return TRUE;
}

/* Returns: (transfer none): the default job (vts_job_store_ensure_default()) */
VtsJob *
vts_job_store_get_default (VtsJobStore *self)
{
  g_return_val_if_fail (VTS_IS_JOB_STORE (self), NULL);
  g_return_val_if_fail (self->default_entry != NULL, NULL);

  return self->default_entry->job;
}

/* Counting */

/* The jobs stored, by state (a job whose end is this very instant may
 * count as pending: its ::changed has not run yet). */
void
vts_job_store_count (VtsJobStore *self,
                     gint64       now_us,
                     guint        counts[VTS_JOB_N_STATES])
{
  g_return_if_fail (VTS_IS_JOB_STORE (self));

  counts[VTS_JOB_STATE_PENDING] = 0;
  for (guint i = 0; i < VTS_JOB_N_STATES; i++)
    {
      guint pending = self->pending_by_outcome[i];

      if (i == VTS_JOB_STATE_PENDING)
        continue;
      counts[VTS_JOB_STATE_PENDING] += pending;
      counts[i] = (guint) MIN (self->stored[i] - MIN (pending, self->stored[i]), G_MAXUINT);
    }
}

/* TRUE when the jobs are on a file: committing one is worth batching */
gboolean
vts_job_store_is_persistent (VtsJobStore *self)
{
  g_return_val_if_fail (VTS_IS_JOB_STORE (self), FALSE);

  return self->persistent;
}

/* How many jobs the store holds in memory: pending, default, cached */
guint
vts_job_store_get_n_in_memory (VtsJobStore *self)
{
  g_return_val_if_fail (VTS_IS_JOB_STORE (self), 0);

  return g_hash_table_size (self->entries);
}

/* Retention */

static gint64
sweep_interval (VtsJobStore *self)
{
  return CLAMP (self->retention / 4, 10 * G_TIME_SPAN_MILLISECOND, 60 * G_TIME_SPAN_SECOND);
}

static void
sweep_memory (VtsJobStore *self,
              gint64       cutoff_wall)
{
  GList *link = self->ended.head;

  while (link != NULL)
    {
      Entry *entry = link->data;

      link = link->next;
      if (wall_end (entry->job) <= cutoff_wall)
        vts_job_store_evict (self, entry);
    }
}

/* Deletes one chunk of the rows past retention, in a transaction.
 * Returns: how many, -1 on error */
static gint64
delete_ended (VtsDb       *db,
              gint64       cutoff_wall,
              const char  *keep_id,
              guint64      deleted[VTS_JOB_N_STATES],
              GError     **error)
{
  gint64 n;

  if (!vts_db_begin (db, error))
    return -1;

  n = vts_db_delete_ended (db, cutoff_wall, keep_id, SWEEP_CHUNK, deleted, error);
  if (n <= 0)
    {
      vts_db_rollback (db);
      return n;
    }

  return vts_db_commit (db, error) ? n : -1;
}

static void
arm_sweep (VtsJobStore *self,
           gboolean     at_once)
{
  vts_timer_schedule (&self->sweep_timer,
                      g_get_monotonic_time () + (at_once ? 0 : sweep_interval (self)));
}

/* The rows are gone: so are their counts. A full chunk means more to
 * delete: on at the next iteration. */
static void
swept (VtsJobStore  *self,
       gint64        n,
       guint64       deleted[VTS_JOB_N_STATES],
       const GError *error)
{
  if (n < 0)
    g_warning ("Cannot delete the jobs past retention: %s", error->message);

  for (guint i = 0; n > 0 && i < VTS_JOB_N_STATES; i++)
    self->stored[i] -= MIN (deleted[i], self->stored[i]);

  self->sweeping = FALSE;
  arm_sweep (self, n == SWEEP_CHUNK);
}

static void
on_sweep (VtsTimer *timer,
          gpointer  user_data)
{
  VtsJobStore *self = user_data;
  gint64 cutoff_wall = g_get_real_time () - self->retention;
  const char *keep = self->default_entry != NULL ? vts_job_get_id (self->default_entry->job) : NULL;

  sweep_memory (self, cutoff_wall);

  if (self->writer != NULL)
    {
      Write *write = g_new0 (Write, 1);

      write->kind = DELETE_ENDED;
      write->cutoff_wall = cutoff_wall;
      write->keep_id = g_strdup (keep);
      self->sweeping = TRUE;
      vts_db_writer_push (self->writer, write);
    }
  else if (!self->persistent)
    {
      g_autoptr(GError) error = NULL;
      guint64 deleted[VTS_JOB_N_STATES] = { 0, };
      gint64 n = delete_ended (self->db, cutoff_wall, keep, deleted, &error);

      swept (self, n, deleted, error);
    }
}

/* The writer thread */

/* In the writer's thread: the new jobs in one transaction, then the
 * deletions. Touches nothing but @db and the writes. */
static void
write_in_thread (VtsDb     *db,
                 GPtrArray *writes,
                 gpointer   user_data)
{
  g_autoptr(GPtrArray) jobs = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < writes->len; i++)
    {
      Write *write = g_ptr_array_index (writes, i);

      if (write->kind == WRITE_JOB)
        g_ptr_array_add (jobs, g_task_get_task_data (write->task));
    }

  if (jobs->len > 0 && !insert_jobs (db, (VtsJob **) jobs->pdata, jobs->len, &error))
    g_warning ("Cannot store %u new jobs: %s", jobs->len, error->message);

  for (guint i = 0; i < writes->len; i++)
    {
      Write *write = g_ptr_array_index (writes, i);

      if (write->kind == WRITE_JOB && error != NULL)
        write->error = g_error_copy (error);
      else if (write->kind == DELETE_ENDED)
        write->n_deleted = delete_ended (db, write->cutoff_wall, write->keep_id,
                                         write->deleted, &write->error);
    }
}

/* In the main context: the writes of one batch, done */
static void
on_written (GPtrArray *writes,
            gpointer   user_data)
{
  VtsJobStore *self = user_data;

  for (guint i = 0; i < writes->len; i++)
    {
      Write *write = g_ptr_array_index (writes, i);

      if (write->kind == WRITE_JOB)
        complete_creation (self, write->task, write->error);
      else
        swept (self, write->n_deleted, write->deleted, write->error);
    }
}

/*
 * vts_job_store_close:
 *
 * Waits for the writes under way: each creation completes (its callback
 * runs at the next iteration of the main context); any later one fails.
 * Call it when the server stops; the store closes itself when it goes.
 */
void
vts_job_store_close (VtsJobStore *self)
{
  g_return_if_fail (VTS_IS_JOB_STORE (self));

  g_clear_pointer (&self->writer, vts_db_writer_close);
}

/*
 * vts_job_store_set_retention:
 * @seconds: how long an ended job is kept, ≥ 0
 */
void
vts_job_store_set_retention (VtsJobStore *self,
                             double       seconds)
{
  g_return_if_fail (VTS_IS_JOB_STORE (self));
  g_return_if_fail (seconds >= 0 && seconds <= G_MAXINT64 / G_USEC_PER_SEC / 2);

  self->retention = (gint64) llround (seconds * G_USEC_PER_SEC);
  if (!self->sweeping)
    arm_sweep (self, FALSE);
}

/* Opening */

/* Reads what the database keeps besides the jobs: the id key (made on
 * first use), the default job, the counts. */
static gboolean
vts_job_store_take_db (VtsJobStore  *self,
                       VtsDb        *db,
                       GError      **error)
{
  g_autoptr(VtsDb) owned = db;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GBytes) key = NULL;
  g_autoptr(GBytes) default_id = NULL;
  g_autoptr(VtsJob) default_job = NULL;

  key = vts_db_get_meta (db, META_ID_KEY, &local_error);
  if (key == NULL && local_error == NULL)
    {
      key = vts_job_ids_new_key ();
      if (vts_db_begin (db, &local_error) &&
          !vts_db_set_meta (db, META_ID_KEY, g_bytes_get_data (key, NULL),
                            g_bytes_get_size (key), &local_error))
        vts_db_rollback (db);
      if (local_error == NULL)
        vts_db_commit (db, &local_error);
    }
  if (local_error == NULL && g_bytes_get_size (key) != VTS_JOB_IDS_KEY_SIZE)
    g_set_error (&local_error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "the id key is malformed");

  if (local_error == NULL)
    default_id = vts_db_get_meta (db, META_DEFAULT_JOB, &local_error);
  if (local_error == NULL && default_id != NULL)
    {
      g_autofree char *id = g_strndup (g_bytes_get_data (default_id, NULL),
                                       g_bytes_get_size (default_id));

      /* Missing (a file edited by hand): a new one is made. */
      default_job = vts_db_find_job (db, id, &local_error);
    }
  if (local_error == NULL)
    vts_db_count_jobs (db, self->stored, &local_error);

  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  g_clear_pointer (&self->db, vts_db_close);
  self->db = g_steal_pointer (&owned);
  g_clear_pointer (&self->ids, vts_job_ids_free);
  self->ids = vts_job_ids_new (key);
  if (default_job != NULL)
    self->default_entry = vts_job_store_adopt (self, default_job, TRUE);

  return TRUE;
}

/* Writes @path + @suffix with @data, durably, or fails. */
static gboolean
save_copy (const char  *path,
           const char  *suffix,
           const char  *data,
           gsize        length,
           char       **copy_path,
           GError     **error)
{
  *copy_path = g_strconcat (path, suffix, NULL);

  return g_file_set_contents_full (*copy_path, data, length,
                                   G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                   0644, error);
}

static void
remove_database_files (const char *path)
{
  const char *suffixes[] = { "", "-wal", "-shm", "-journal" };

  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *file = g_strconcat (path, suffixes[i], NULL);

      g_unlink (file);
    }
}

static gboolean
fill_converted (const char  *path,
                GPtrArray   *jobs,
                const char  *default_id,
                GError     **error)
{
  g_autoptr(VtsDb) db = vts_db_open (path, error);

  if (db == NULL || !vts_db_begin (db, error))
    return FALSE;

  for (guint i = 0; i < jobs->len; i++)
    {
      if (!vts_db_insert_job (db, g_ptr_array_index (jobs, i), error))
        {
          vts_db_rollback (db);
          return FALSE;
        }
    }
  if (default_id != NULL &&
      !vts_db_set_meta (db, META_DEFAULT_JOB, default_id, strlen (default_id), error))
    {
      vts_db_rollback (db);
      return FALSE;
    }

  return vts_db_commit (db, error);
}

/* An earlier server's JSON state at @path becomes a database at @path,
 * the JSON kept next to it. Until the final rename, @path is the JSON
 * file untouched: a conversion cut short is done again at the next
 * start. */
static gboolean
convert_legacy_state (const char  *path,
                      GError     **error)
{
  g_autofree char *data = NULL;
  g_autofree char *default_id = NULL;
  g_autofree char *converting = g_strconcat (path, ".converting", NULL);
  g_autofree char *backup = NULL;
  g_autoptr(GPtrArray) jobs = NULL;
  gsize length;

  if (!g_file_get_contents (path, &data, &length, error) ||
      !vts_legacy_state_parse (data, length, &jobs, &default_id, error))
    return FALSE;

  remove_database_files (converting);
  if (!fill_converted (converting, jobs, default_id, error) ||
      !save_copy (path, ".v1.json", data, length, &backup, error))
    {
      remove_database_files (converting);
      return FALSE;
    }

  if (g_rename (converting, path) != 0)
    {
      int saved_errno = errno;

      remove_database_files (converting);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "cannot replace it: %s", g_strerror (saved_errno));
      return FALSE;
    }

  g_message ("%s: converted %u jobs from a version 1 JSON state to SQLite; "
             "the JSON file is kept as %s", path, jobs->len, backup);
  return TRUE;
}

/* The first bytes of @path, to tell a JSON state from a database;
 * an empty string for a file that does not exist yet. */
static gboolean
read_head (const char  *path,
           char        *head,
           gsize        size,
           gsize       *length,
           GError     **error)
{
  int fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  gssize n;

  *length = 0;
  if (fd < 0 && errno == ENOENT)
    return TRUE;
  if (fd < 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "%s", g_strerror (saved_errno));
      return FALSE;
    }

  n = read (fd, head, size);
  close (fd);
  *length = n > 0 ? (gsize) n : 0;

  return TRUE;
}

/*
 * vts_job_store_open:
 * @path: the state file: the database, created if missing
 *
 * Keeps the jobs in @path from now on, and takes back those of earlier
 * runs, each with its outcome and its place in time. A JSON state file
 * of an earlier vt-server is converted first (the JSON is kept as
 * @path.v1.json). Anything else that is not a vt-server database is an
 * error, so that a typo never silently loses jobs. Call it before any
 * job is created.
 */
gboolean
vts_job_store_open (VtsJobStore  *self,
                    const char   *path,
                    GError      **error)
{
  g_autoptr(GError) local_error = NULL;
  char head[64];
  gsize length;
  VtsDb *db, *writer_db;

  g_return_val_if_fail (VTS_IS_JOB_STORE (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (g_hash_table_size (self->entries) == 0, FALSE);

  if (!read_head (path, head, sizeof head, &length, error) ||
      (vts_legacy_state_looks_like (head, length) && !convert_legacy_state (path, error)))
    {
      g_prefix_error (error, "%s: ", path);
      return FALSE;
    }

  db = vts_db_open (path, &local_error);
  if (db == NULL || !vts_job_store_take_db (self, db, &local_error))
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_BUSY))
        g_prefix_error (&local_error, "%s: in use by another process: ", path);
      else if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA))
        g_prefix_error (&local_error, "%s: not a vt-server state (a vt-server database, or "
                        "the JSON state of an earlier version): ", path);
      else
        g_prefix_error (&local_error, "%s: ", path);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  writer_db = vts_db_open_another (self->db, &local_error);
  if (writer_db == NULL)
    {
      g_prefix_error (&local_error, "%s: ", path);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  self->persistent = TRUE;
  self->writer = vts_db_writer_new (writer_db, write_in_thread, on_written, self, write_free);
  return TRUE;
}

/* Construction */

static void
vts_job_store_dispose (GObject *object)
{
  VtsJobStore *self = VTS_JOB_STORE (object);

  vts_job_store_close (self);
  vts_timer_cancel (&self->trim_timer);
  vts_timer_cancel (&self->sweep_timer);

  G_OBJECT_CLASS (vts_job_store_parent_class)->dispose (object);
}

static void
vts_job_store_finalize (GObject *object)
{
  VtsJobStore *self = VTS_JOB_STORE (object);

  /* self->ended links the entries themselves: nothing to free. */
  g_hash_table_unref (self->entries);
  vts_job_ids_free (self->ids);
  vts_db_close (self->db);
  g_rand_free (self->rand);

  G_OBJECT_CLASS (vts_job_store_parent_class)->finalize (object);
}

static void
vts_job_store_class_init (VtsJobStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = vts_job_store_dispose;
  object_class->finalize = vts_job_store_finalize;
}

static void
vts_job_store_init (VtsJobStore *self)
{
  self->entries = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, entry_free);
  g_queue_init (&self->ended);
  self->retention = (gint64) (VTS_JOB_STORE_DEFAULT_RETENTION * G_USEC_PER_SEC);

  vts_timer_init (&self->trim_timer, on_trim, self);
  vts_timer_init (&self->sweep_timer, on_sweep, self);
}

/*
 * vts_job_store_new:
 * @rand: (transfer full): the source of every random decision
 *
 * A store in memory; vts_job_store_open() puts it on a file.
 */
VtsJobStore *
vts_job_store_new (const VtsDurationModel *durations,
                   double                  error_rate,
                   double                  eta_noise,
                   GRand                  *rand)
{
  g_autoptr(GError) error = NULL;
  VtsJobStore *self;
  VtsDb *db;

  g_return_val_if_fail (durations != NULL, NULL);
  g_return_val_if_fail (rand != NULL, NULL);

  self = g_object_new (VTS_TYPE_JOB_STORE, NULL);
  self->durations = *durations;
  self->error_rate = CLAMP (error_rate, 0.0, 1.0);
  self->eta_noise = CLAMP (eta_noise, 0.0, 1.0);
  self->rand = rand;

  /* In memory, only running out of it could fail. */
  db = vts_db_open (NULL, &error);
  if (db == NULL || !vts_job_store_take_db (self, db, &error))
    g_error ("Cannot create a database in memory: %s", error->message);
  vts_job_store_set_retention (self, VTS_JOB_STORE_DEFAULT_RETENTION);

  return self;
}
