/* vt-state-file.c: the jobs being followed, as JSON
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <json-glib/json-glib.h>

#include "vt-error.h"
#include "vt-state-file-private.h"

#define STATE_FORMAT_VERSION 1

VtStateEntry *
vt_state_entry_new (const char *base_url,
                    const char *job_id,
                    gint64      deadline_us,
                    guint       attempts_left,
                    const char *last_event_id)
{
  VtStateEntry *entry = g_new0 (VtStateEntry, 1);

  entry->base_url = g_strdup (base_url);
  entry->job_id = g_strdup (job_id);
  entry->deadline_us = deadline_us;
  entry->attempts_left = attempts_left;
  entry->last_event_id = g_strdup (last_event_id);

  return entry;
}

void
vt_state_entry_free (VtStateEntry *entry)
{
  g_free (entry->base_url);
  g_free (entry->job_id);
  g_free (entry->last_event_id);
  g_free (entry);
}

static char *
format_deadline (gint64 deadline_us)
{
  g_autoptr(GDateTime) deadline = g_date_time_new_from_unix_utc (deadline_us / G_USEC_PER_SEC);
  g_autoptr(GDateTime) exact = NULL;

  exact = g_date_time_add (deadline, deadline_us % G_USEC_PER_SEC);
  return g_date_time_format_iso8601 (exact);
}

/* @entries: VtStateEntry */
char *
vt_state_file_build (GPtrArray *entries)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, STATE_FORMAT_VERSION);
  json_builder_set_member_name (builder, "jobs");
  json_builder_begin_array (builder);

  for (guint i = 0; i < entries->len; i++)
    {
      VtStateEntry *entry = g_ptr_array_index (entries, i);
      g_autofree char *deadline = format_deadline (entry->deadline_us);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "base-url");
      json_builder_add_string_value (builder, entry->base_url);
      json_builder_set_member_name (builder, "id");
      if (entry->job_id != NULL)
        json_builder_add_string_value (builder, entry->job_id);
      else
        json_builder_add_null_value (builder);
      json_builder_set_member_name (builder, "deadline");
      json_builder_add_string_value (builder, deadline);
      json_builder_set_member_name (builder, "attempts-left");
      json_builder_add_int_value (builder, entry->attempts_left);
      if (entry->last_event_id != NULL)
        {
          json_builder_set_member_name (builder, "last-event-id");
          json_builder_add_string_value (builder, entry->last_event_id);
        }
      json_builder_end_object (builder);
    }

  json_builder_end_array (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);

  return json_generator_to_data (generator, NULL);
}

static gpointer
state_error (GError     **error,
             guint        index,
             const char  *what)
{
  if (index == G_MAXUINT)
    g_set_error (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_INVALID_ARGUMENT,
                 "Not a vtclient state: %s", what);
  else
    g_set_error (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_INVALID_ARGUMENT,
                 "Not a vtclient state: job %u: %s", index, what);
  return NULL;
}

/* A string member, or NULL (absent, or null when @nullable). */
static gboolean
read_string (JsonObject  *object,
             const char  *name,
             gboolean     nullable,
             const char **value)
{
  JsonNode *node = json_object_get_member (object, name);

  *value = NULL;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return nullable;

  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return FALSE;

  *value = json_node_get_string (node);
  return TRUE;
}

static VtStateEntry *
read_entry (JsonNode  *node,
            guint      index,
            GError   **error)
{
  const char *base_url, *job_id, *deadline_text, *last_event_id;
  g_autoptr(GDateTime) deadline = NULL;
  JsonObject *object;
  JsonNode *attempts;
  gint64 attempts_left;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return state_error (error, index, "not an object");
  object = json_node_get_object (node);

  if (!read_string (object, "base-url", FALSE, &base_url) || *base_url == '\0')
    return state_error (error, index, "no \"base-url\" string");
  if (!read_string (object, "id", TRUE, &job_id) || (job_id != NULL && *job_id == '\0'))
    return state_error (error, index, "\"id\" is neither a job id nor null");
  if (!read_string (object, "deadline", FALSE, &deadline_text) ||
      (deadline = g_date_time_new_from_iso8601 (deadline_text, NULL)) == NULL)
    return state_error (error, index, "no ISO 8601 \"deadline\" with a time zone");
  if (!read_string (object, "last-event-id", TRUE, &last_event_id))
    return state_error (error, index, "\"last-event-id\" is not a string");

  attempts = json_object_get_member (object, "attempts-left");
  if (attempts == NULL || !JSON_NODE_HOLDS_VALUE (attempts) ||
      json_node_get_value_type (attempts) != G_TYPE_INT64 ||
      (attempts_left = json_node_get_int (attempts)) < 1 || attempts_left > G_MAXUINT)
    return state_error (error, index, "\"attempts-left\" is not a count of 1 or more");

  return vt_state_entry_new (base_url, job_id,
                             g_date_time_to_unix (deadline) * G_USEC_PER_SEC +
                             g_date_time_get_microsecond (deadline),
                             (guint) attempts_left, last_event_id);
}

/*
 * vt_state_file_parse:
 *
 * Reads a whole state, every job checked before anything is returned.
 *
 * Returns: (element-type VtStateEntry): the jobs, or %NULL with
 *   %VT_CLIENT_ERROR_INVALID_ARGUMENT
 */
GPtrArray *
vt_state_file_parse (const char  *json,
                     GError     **error)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(GPtrArray) entries = NULL;
  JsonNode *root, *version, *jobs_node;
  JsonArray *jobs;

  if (!json_parser_load_from_data (parser, json, -1, NULL))
    return state_error (error, G_MAXUINT, "not JSON");

  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return state_error (error, G_MAXUINT, "not a JSON object");

  version = json_object_get_member (json_node_get_object (root), "version");
  if (version == NULL || !JSON_NODE_HOLDS_VALUE (version) ||
      json_node_get_value_type (version) != G_TYPE_INT64 ||
      json_node_get_int (version) != STATE_FORMAT_VERSION)
    return state_error (error, G_MAXUINT, "unknown version");

  jobs_node = json_object_get_member (json_node_get_object (root), "jobs");
  if (jobs_node == NULL || !JSON_NODE_HOLDS_ARRAY (jobs_node))
    return state_error (error, G_MAXUINT, "no \"jobs\" array");

  jobs = json_node_get_array (jobs_node);
  entries = g_ptr_array_new_with_free_func ((GDestroyNotify) vt_state_entry_free);
  for (guint i = 0; i < json_array_get_length (jobs); i++)
    {
      VtStateEntry *entry = read_entry (json_array_get_element (jobs, i), i, error);

      if (entry == NULL)
        return NULL;
      g_ptr_array_add (entries, entry);
    }

  return g_steal_pointer (&entries);
}
