/* vts-job-store.c: every job the server knows, decided once at creation
 *
 * The store is the only place randomness touches a job: its duration, its
 * outcome and its eta noise are drawn here, in a fixed order, from one
 * GRand, so that a --seed makes a whole run reproducible.
 *
 * With a state file (--state), every job is written out when it is
 * created, atomically (g_file_set_contents() renames a complete file over
 * the old one). A job is persisted as what decides it (id, wall-clock
 * creation time, duration, outcome, eta noise, fields), never as a state:
 * reloaded after a restart, it is still pending or has ended according
 * to its creation time and duration.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vts-job-store.h"

#include <math.h>

#define STATE_VERSION 1

struct _VtsJobStore
{
  GObject          parent_instance;

  VtsDurationModel  durations;
  double           error_rate;
  double           eta_noise;
  GRand           *rand;

  GHashTable      *jobs_by_id;  /* id → VtsJob, owns a ref */
  GPtrArray       *jobs;        /* creation order, owns a ref */
  VtsJob           *default_job; /* borrowed from jobs */
  char            *state_path;  /* nullable */
};

G_DEFINE_FINAL_TYPE (VtsJobStore, vts_job_store, G_TYPE_OBJECT)

static void
vts_job_store_finalize (GObject *object)
{
  VtsJobStore *self = VTS_JOB_STORE (object);

  g_hash_table_unref (self->jobs_by_id);
  g_ptr_array_unref (self->jobs);
  g_rand_free (self->rand);
  g_free (self->state_path);

  G_OBJECT_CLASS (vts_job_store_parent_class)->finalize (object);
}

static void
vts_job_store_class_init (VtsJobStoreClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = vts_job_store_finalize;
}

static void
vts_job_store_init (VtsJobStore *self)
{
  self->jobs_by_id = g_hash_table_new_full (g_str_hash, g_str_equal,
                                            NULL, g_object_unref);
  self->jobs = g_ptr_array_new_with_free_func (g_object_unref);
}

/*
 * vts_job_store_new:
 * @rand: (transfer full): the source of every random decision
 */
VtsJobStore *
vts_job_store_new (const VtsDurationModel *durations,
                  double                 error_rate,
                  double                 eta_noise,
                  GRand                 *rand)
{
  VtsJobStore *self;

  g_return_val_if_fail (durations != NULL, NULL);
  g_return_val_if_fail (rand != NULL, NULL);

  self = g_object_new (VTS_TYPE_JOB_STORE, NULL);
  self->durations = *durations;
  self->error_rate = CLAMP (error_rate, 0.0, 1.0);
  self->eta_noise = CLAMP (eta_noise, 0.0, 1.0);
  self->rand = rand;

  return self;
}

/* Takes @job's reference. */
static void
vts_job_store_add (VtsJobStore *self,
                  VtsJob      *job)
{
  g_ptr_array_add (self->jobs, job);
  g_hash_table_insert (self->jobs_by_id, (gpointer) vts_job_get_id (job),
                       g_object_ref (job));
}

static void vts_job_store_save (VtsJobStore *self);

/* Returns: (transfer none) */
VtsJob *
vts_job_store_create (VtsJobStore      *self,
                     const VtsJobSpec *spec)
{
  g_autofree char *id = NULL;
  VtsJob *job;
  double duration, roll, eta_factor;
  VtsJobState outcome;

  g_return_val_if_fail (VTS_IS_JOB_STORE (self), NULL);
  g_return_val_if_fail (spec != NULL, NULL);

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

  id = g_uuid_string_random ();
  job = vts_job_new (id, g_get_real_time (), (gint64) llround (duration * G_USEC_PER_SEC),
                    outcome, eta_factor, spec->source_url, spec->target_language);
  vts_job_store_add (self, job);
  vts_job_store_save (self);

  return job;
}

/* Returns: (transfer none) (nullable) */
VtsJob *
vts_job_store_lookup (VtsJobStore *self,
                     const char *id)
{
  g_return_val_if_fail (VTS_IS_JOB_STORE (self), NULL);

  if (id == NULL)
    return NULL;

  return g_hash_table_lookup (self->jobs_by_id, id);
}

/* The job GET /status follows: it starts with the server. */
void
vts_job_store_ensure_default (VtsJobStore *self)
{
  VtsJobSpec spec = VTS_JOB_SPEC_INIT;

  g_return_if_fail (VTS_IS_JOB_STORE (self));

  if (self->default_job == NULL)
    {
      self->default_job = vts_job_store_create (self, &spec);
      vts_job_store_save (self);
    }
}

/* Returns: (transfer none) */
VtsJob *
vts_job_store_get_default (VtsJobStore *self)
{
  g_return_val_if_fail (VTS_IS_JOB_STORE (self), NULL);

  vts_job_store_ensure_default (self);
  return self->default_job;
}

void
vts_job_store_count (VtsJobStore *self,
                    gint64      now_us,
                    guint       counts[VTS_JOB_N_STATES])
{
  g_return_if_fail (VTS_IS_JOB_STORE (self));

  for (guint i = 0; i < VTS_JOB_N_STATES; i++)
    counts[i] = 0;
  for (guint i = 0; i < self->jobs->len; i++)
    counts[vts_job_get_state (g_ptr_array_index (self->jobs, i), now_us)]++;
}

/* Persistence */

static void
add_job_state (JsonBuilder *builder,
               VtsJob       *job)
{
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_string_value (builder, vts_job_get_id (job));
  json_builder_set_member_name (builder, "created_us");
  json_builder_add_int_value (builder, vts_job_get_created_wall (job));
  json_builder_set_member_name (builder, "duration_us");
  json_builder_add_int_value (builder, vts_job_get_duration (job));
  json_builder_set_member_name (builder, "outcome");
  json_builder_add_string_value (builder, vts_job_state_to_string (vts_job_get_outcome (job)));
  json_builder_set_member_name (builder, "eta_factor");
  json_builder_add_double_value (builder, vts_job_get_eta_factor (job));
  if (vts_job_get_source_url (job) != NULL)
    {
      json_builder_set_member_name (builder, "source_url");
      json_builder_add_string_value (builder, vts_job_get_source_url (job));
    }
  if (vts_job_get_target_language (job) != NULL)
    {
      json_builder_set_member_name (builder, "target_language");
      json_builder_add_string_value (builder, vts_job_get_target_language (job));
    }
  json_builder_end_object (builder);
}

static void
vts_job_store_save (VtsJobStore *self)
{
  g_autoptr(JsonBuilder) builder = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  if (self->state_path == NULL)
    return;

  builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, STATE_VERSION);
  if (self->default_job != NULL)
    {
      json_builder_set_member_name (builder, "default");
      json_builder_add_string_value (builder, vts_job_get_id (self->default_job));
    }
  json_builder_set_member_name (builder, "jobs");
  json_builder_begin_array (builder);
  for (guint i = 0; i < self->jobs->len; i++)
    add_job_state (builder, g_ptr_array_index (self->jobs, i));
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  text = json_to_string (root, FALSE);
  /* A request is not failed for it: the job exists in memory either way. */
  if (!g_file_set_contents (self->state_path, text, -1, &error))
    g_warning ("Cannot save the jobs to %s: %s", self->state_path, error->message);
}

static gboolean
member_is (JsonObject *object,
           const char *name,
           GType       type)
{
  JsonNode *node = json_object_get_member (object, name);

  return node != NULL && JSON_NODE_HOLDS_VALUE (node) &&
         json_node_get_value_type (node) == type;
}

static VtsJob *
job_from_state (JsonNode  *node,
                GError   **error)
{
  JsonObject *object = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  VtsJobState outcome = VTS_JOB_STATE_PENDING;
  gint64 duration = -1;
  double eta_factor = -1.0;

  if (object != NULL &&
      member_is (object, "id", G_TYPE_STRING) &&
      member_is (object, "created_us", G_TYPE_INT64) &&
      member_is (object, "duration_us", G_TYPE_INT64) &&
      member_is (object, "outcome", G_TYPE_STRING) &&
      (member_is (object, "eta_factor", G_TYPE_DOUBLE) ||
       member_is (object, "eta_factor", G_TYPE_INT64)) &&
      (!json_object_has_member (object, "source_url") ||
       member_is (object, "source_url", G_TYPE_STRING)) &&
      (!json_object_has_member (object, "target_language") ||
       member_is (object, "target_language", G_TYPE_STRING)))
    {
      duration = json_object_get_int_member (object, "duration_us");
      eta_factor = json_object_get_double_member (object, "eta_factor");
      vts_job_state_from_string (json_object_get_string_member (object, "outcome"), &outcome);
    }

  if (object == NULL ||
      !g_uuid_string_is_valid (json_object_get_string_member_with_default (object, "id", "")) ||
      duration < 0 || duration > VTS_DURATION_MAX * G_USEC_PER_SEC ||
      outcome == VTS_JOB_STATE_PENDING || !(eta_factor >= 0.0 && eta_factor <= 2.0))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "a job is malformed");
      return NULL;
    }

  return vts_job_new (json_object_get_string_member (object, "id"),
                     json_object_get_int_member (object, "created_us"),
                     duration, outcome, eta_factor,
                     json_object_get_string_member_with_default (object, "source_url", NULL),
                     json_object_get_string_member_with_default (object, "target_language", NULL));
}

static gboolean
vts_job_store_restore (VtsJobStore  *self,
                      JsonNode    *root,
                      GError     **error)
{
  JsonObject *object = root != NULL && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  JsonArray *jobs;
  const char *default_id;

  if (object == NULL || !member_is (object, "version", G_TYPE_INT64) ||
      json_object_get_int_member (object, "version") != STATE_VERSION ||
      !json_object_has_member (object, "jobs") ||
      !JSON_NODE_HOLDS_ARRAY (json_object_get_member (object, "jobs")))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "not a version %d vt-server state", STATE_VERSION);
      return FALSE;
    }

  jobs = json_object_get_array_member (object, "jobs");
  for (guint i = 0; i < json_array_get_length (jobs); i++)
    {
      VtsJob *job = job_from_state (json_array_get_element (jobs, i), error);

      if (job == NULL)
        return FALSE;
      if (g_hash_table_contains (self->jobs_by_id, vts_job_get_id (job)))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "job %s appears twice", vts_job_get_id (job));
          g_object_unref (job);
          return FALSE;
        }
      vts_job_store_add (self, job);
    }

  default_id = json_object_get_string_member_with_default (object, "default", NULL);
  self->default_job = vts_job_store_lookup (self, default_id);

  return TRUE;
}

/*
 * vts_job_store_load:
 * @path: the state file: read if it exists, written on every change
 *
 * Restores the jobs of an earlier run, each with its outcome and its
 * place in time. A missing file is an empty state; an unreadable or
 * malformed one is an error, so that a typo never silently loses jobs.
 */
gboolean
vts_job_store_load (VtsJobStore  *self,
                   const char  *path,
                   GError     **error)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(GError) local_error = NULL;
  g_autofree char *text = NULL;
  gsize length;

  g_return_val_if_fail (VTS_IS_JOB_STORE (self), FALSE);
  g_return_val_if_fail (self->jobs->len == 0, FALSE);

  g_free (self->state_path);
  self->state_path = g_strdup (path);

  if (!g_file_get_contents (path, &text, &length, &local_error))
    {
      if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  if (!json_parser_load_from_data (parser, text, length, error) ||
      !vts_job_store_restore (self, json_parser_get_root (parser), error))
    {
      g_prefix_error (error, "%s: ", path);
      return FALSE;
    }

  return TRUE;
}
