/* vt-job-store.c: every job the server knows, decided once at creation
 *
 * The store is the only place randomness touches a job: its duration, its
 * outcome and its eta noise are drawn here, in a fixed order, from one
 * GRand, so that a --seed makes a whole run reproducible.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vt-job-store.h"

#include <math.h>

struct _VtJobStore
{
  GObject          parent_instance;

  VtDurationModel  durations;
  double           error_rate;
  double           eta_noise;
  GRand           *rand;

  GHashTable      *jobs_by_id;  /* id → VtJob, owns a ref */
  GPtrArray       *jobs;        /* creation order, owns a ref */
  VtJob           *default_job; /* borrowed from jobs */
};

G_DEFINE_FINAL_TYPE (VtJobStore, vt_job_store, G_TYPE_OBJECT)

static void
vt_job_store_finalize (GObject *object)
{
  VtJobStore *self = VT_JOB_STORE (object);

  g_hash_table_unref (self->jobs_by_id);
  g_ptr_array_unref (self->jobs);
  g_rand_free (self->rand);

  G_OBJECT_CLASS (vt_job_store_parent_class)->finalize (object);
}

static void
vt_job_store_class_init (VtJobStoreClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = vt_job_store_finalize;
}

static void
vt_job_store_init (VtJobStore *self)
{
  self->jobs_by_id = g_hash_table_new_full (g_str_hash, g_str_equal,
                                            NULL, g_object_unref);
  self->jobs = g_ptr_array_new_with_free_func (g_object_unref);
}

/**
 * vt_job_store_new:
 * @rand: (transfer full): the source of every random decision
 */
VtJobStore *
vt_job_store_new (const VtDurationModel *durations,
                  double                 error_rate,
                  double                 eta_noise,
                  GRand                 *rand)
{
  VtJobStore *self;

  g_return_val_if_fail (durations != NULL, NULL);
  g_return_val_if_fail (rand != NULL, NULL);

  self = g_object_new (VT_TYPE_JOB_STORE, NULL);
  self->durations = *durations;
  self->error_rate = CLAMP (error_rate, 0.0, 1.0);
  self->eta_noise = CLAMP (eta_noise, 0.0, 1.0);
  self->rand = rand;

  return self;
}

/* Takes @job's reference. */
static void
vt_job_store_add (VtJobStore *self,
                  VtJob      *job)
{
  g_ptr_array_add (self->jobs, job);
  g_hash_table_insert (self->jobs_by_id, (gpointer) vt_job_get_id (job),
                       g_object_ref (job));
}

/* Returns: (transfer none) */
VtJob *
vt_job_store_create (VtJobStore      *self,
                     const VtJobSpec *spec)
{
  g_autofree char *id = NULL;
  VtJob *job;
  double duration, roll, eta_factor;
  VtJobState outcome;

  g_return_val_if_fail (VT_IS_JOB_STORE (self), NULL);
  g_return_val_if_fail (spec != NULL, NULL);

  /* Every draw happens whatever the spec overrides, so that one test's
   * explicit duration does not shift the next job's random outcome. */
  duration = vt_duration_model_sample (&self->durations, self->rand);
  roll = g_rand_double (self->rand);
  eta_factor = 1.0 + self->eta_noise * g_rand_double_range (self->rand, -1.0, 1.0);

  if (spec->duration >= 0)
    duration = MIN (spec->duration, VT_DURATION_MAX);
  outcome = spec->outcome;
  if (outcome == VT_JOB_STATE_PENDING)
    outcome = roll < self->error_rate ? VT_JOB_STATE_ERROR : VT_JOB_STATE_COMPLETED;

  id = g_uuid_string_random ();
  job = vt_job_new (id, g_get_real_time (), (gint64) llround (duration * G_USEC_PER_SEC),
                    outcome, eta_factor, spec->source_url, spec->target_language);
  vt_job_store_add (self, job);

  return job;
}

/* Returns: (transfer none) (nullable) */
VtJob *
vt_job_store_lookup (VtJobStore *self,
                     const char *id)
{
  g_return_val_if_fail (VT_IS_JOB_STORE (self), NULL);

  if (id == NULL)
    return NULL;

  return g_hash_table_lookup (self->jobs_by_id, id);
}

/* The job GET /status follows: it starts with the server. */
void
vt_job_store_ensure_default (VtJobStore *self)
{
  VtJobSpec spec = VT_JOB_SPEC_INIT;

  g_return_if_fail (VT_IS_JOB_STORE (self));

  if (self->default_job == NULL)
    self->default_job = vt_job_store_create (self, &spec);
}

/* Returns: (transfer none) */
VtJob *
vt_job_store_get_default (VtJobStore *self)
{
  g_return_val_if_fail (VT_IS_JOB_STORE (self), NULL);

  vt_job_store_ensure_default (self);
  return self->default_job;
}

void
vt_job_store_count (VtJobStore *self,
                    gint64      now_us,
                    guint       counts[VT_JOB_N_STATES])
{
  g_return_if_fail (VT_IS_JOB_STORE (self));

  for (guint i = 0; i < VT_JOB_N_STATES; i++)
    counts[i] = 0;
  for (guint i = 0; i < self->jobs->len; i++)
    counts[vt_job_get_state (g_ptr_array_index (self->jobs, i), now_us)]++;
}
