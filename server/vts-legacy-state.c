/* vts-legacy-state.c: the JSON state file of earlier vt-servers
 *
 * Before SQLite, --state FILE was one JSON document rewritten at each
 * creation: {"version": 1, "default": ID, "jobs": [{"id", "created_us",
 * "duration_us", "outcome", "eta_factor", "source_url"?,
 * "target_language"?}, …]}. The store converts such a file into a
 * database once (see vts_job_store_open()); this reads it, refusing
 * anything malformed rather than losing a job.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vts-legacy-state.h"

#include "vts-duration-model.h"

#define LEGACY_VERSION 1

/* TRUE when @data starts like a JSON object, the only thing a version 1
 * state file could be (SQLite's files start with "SQLite format 3"). */
gboolean
vts_legacy_state_looks_like (const char *data,
                             gsize       length)
{
  for (gsize i = 0; i < length; i++)
    {
      if (!g_ascii_isspace (data[i]))
        return data[i] == '{';
    }

  return FALSE;
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

static gboolean
optional_string (JsonObject *object,
                 const char *name)
{
  return !json_object_has_member (object, name) || member_is (object, name, G_TYPE_STRING);
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
      optional_string (object, "source_url") &&
      optional_string (object, "target_language"))
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

static GPtrArray *
jobs_from_state (JsonArray  *array,
                 GError    **error)
{
  g_autoptr(GPtrArray) jobs = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      VtsJob *job = job_from_state (json_array_get_element (array, i), error);

      if (job == NULL)
        return NULL;
      g_ptr_array_add (jobs, job);
      if (!g_hash_table_add (seen, (gpointer) vts_job_get_id (job)))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "job %s appears twice", vts_job_get_id (job));
          return NULL;
        }
    }

  return g_steal_pointer (&jobs);
}

/*
 * vts_legacy_state_parse:
 * @jobs: (out) (transfer full) (element-type VtsJob): every job, in order
 * @default_id: (out) (transfer full) (nullable): the default job's id
 */
gboolean
vts_legacy_state_parse (const char  *data,
                        gsize        length,
                        GPtrArray  **jobs,
                        char       **default_id,
                        GError     **error)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  JsonNode *root;
  JsonObject *object;

  if (!json_parser_load_from_data (parser, data, length, error))
    return FALSE;

  root = json_parser_get_root (parser);
  object = root != NULL && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  if (object == NULL || !member_is (object, "version", G_TYPE_INT64) ||
      json_object_get_int_member (object, "version") != LEGACY_VERSION ||
      !json_object_has_member (object, "jobs") ||
      !JSON_NODE_HOLDS_ARRAY (json_object_get_member (object, "jobs")) ||
      !optional_string (object, "default"))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "not a version %d vt-server state", LEGACY_VERSION);
      return FALSE;
    }

  *jobs = jobs_from_state (json_object_get_array_member (object, "jobs"), error);
  if (*jobs == NULL)
    return FALSE;
  *default_id = g_strdup (json_object_get_string_member_with_default (object, "default", NULL));

  return TRUE;
}
