/* vt-model-file.c: the learned model as JSON
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <json-glib/json-glib.h>
#include <math.h>

#include "vt-error.h"
#include "vt-model-file-private.h"

#define MODEL_FORMAT_VERSION 1

void
vt_model_entry_free (VtModelEntry *entry)
{
  g_free (entry->base_url);
  g_clear_pointer (&entry->durations, g_array_unref);
  g_free (entry);
}

/* @entries: VtModelEntry; those with no durations are left out. */
char *
vt_model_file_build (GPtrArray *entries)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, MODEL_FORMAT_VERSION);
  json_builder_set_member_name (builder, "servers");
  json_builder_begin_object (builder);

  for (guint e = 0; e < entries->len; e++)
    {
      VtModelEntry *entry = g_ptr_array_index (entries, e);
      GArray *samples = entry->durations;

      if (samples->len == 0)
        continue;

      json_builder_set_member_name (builder, entry->base_url);
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "durations");
      json_builder_begin_array (builder);
      for (guint i = 0; i + 1 < samples->len; i += 2)
        {
          double low = g_array_index (samples, double, i);
          double high = g_array_index (samples, double, i + 1);

          /* Exact durations as numbers, what a poll saw as [low, high]. */
          if (low == high)
            json_builder_add_double_value (builder, low);
          else
            {
              json_builder_begin_array (builder);
              json_builder_add_double_value (builder, low);
              json_builder_add_double_value (builder, high);
              json_builder_end_array (builder);
            }
        }
      json_builder_end_array (builder);
      json_builder_end_object (builder);
    }

  json_builder_end_object (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);

  return json_generator_to_data (generator, NULL);
}

static gpointer
model_error (GError     **error,
             const char  *what)
{
  g_set_error (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_INVALID_ARGUMENT,
               "Not a vtclient model: %s", what);
  return NULL;
}

static gboolean
read_seconds (JsonNode *node,
              double   *seconds)
{
  if (!JSON_NODE_HOLDS_VALUE (node) ||
      (json_node_get_value_type (node) != G_TYPE_DOUBLE &&
       json_node_get_value_type (node) != G_TYPE_INT64))
    return FALSE;

  *seconds = json_node_get_double (node);
  return isfinite (*seconds) && *seconds >= 0;
}

/* A duration is a number of seconds, or a [low, high] pair for a job seen
 * to end somewhere in between. */
static gboolean
read_duration (JsonNode *node,
               double   *low,
               double   *high)
{
  JsonArray *pair;

  if (!JSON_NODE_HOLDS_ARRAY (node))
    {
      if (!read_seconds (node, low))
        return FALSE;
      *high = *low;
      return TRUE;
    }

  pair = json_node_get_array (node);
  return json_array_get_length (pair) == 2 &&
         read_seconds (json_array_get_element (pair, 0), low) &&
         read_seconds (json_array_get_element (pair, 1), high) &&
         *low <= *high;
}

/* One server's entry, or NULL with @error set. */
static VtModelEntry *
read_entry (const char  *base_url,
            JsonNode    *node,
            GError     **error)
{
  g_autoptr(VtModelEntry) entry = NULL;
  JsonNode *durations;
  JsonArray *array;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return model_error (error, "a server entry is not an object");

  durations = json_object_get_member (json_node_get_object (node), "durations");
  if (durations == NULL || !JSON_NODE_HOLDS_ARRAY (durations))
    return model_error (error, "a server has no \"durations\" array");

  entry = g_new0 (VtModelEntry, 1);
  entry->base_url = g_strdup (base_url);
  entry->durations = g_array_new (FALSE, FALSE, sizeof (double));

  array = json_node_get_array (durations);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      double low, high;

      if (!read_duration (json_array_get_element (array, i), &low, &high))
        return model_error (error, "a duration is not a number of seconds "
                            "nor a [low, high] pair of them");
      g_array_append_val (entry->durations, low);
      g_array_append_val (entry->durations, high);
    }

  return g_steal_pointer (&entry);
}

/*
 * vt_model_file_parse:
 *
 * Reads a whole model, every duration checked before anything is
 * returned.
 *
 * Returns: (element-type VtModelEntry): the servers' entries, or %NULL
 *   with %VT_CLIENT_ERROR_INVALID_ARGUMENT
 */
GPtrArray *
vt_model_file_parse (const char  *json,
                     GError     **error)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GList) names = NULL;
  JsonNode *root, *servers_node, *version;
  JsonObject *servers;

  if (!json_parser_load_from_data (parser, json, -1, NULL))
    return model_error (error, "not JSON");

  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return model_error (error, "not a JSON object");

  version = json_object_get_member (json_node_get_object (root), "version");
  if (version == NULL || !JSON_NODE_HOLDS_VALUE (version) ||
      json_node_get_value_type (version) != G_TYPE_INT64 ||
      json_node_get_int (version) != MODEL_FORMAT_VERSION)
    return model_error (error, "unknown version");

  servers_node = json_object_get_member (json_node_get_object (root), "servers");
  if (servers_node == NULL || !JSON_NODE_HOLDS_OBJECT (servers_node))
    return model_error (error, "no \"servers\" object");

  servers = json_node_get_object (servers_node);
  entries = g_ptr_array_new_with_free_func ((GDestroyNotify) vt_model_entry_free);
  names = json_object_get_members (servers);
  for (GList *l = names; l != NULL; l = l->next)
    {
      VtModelEntry *entry = read_entry (l->data, json_object_get_member (servers, l->data),
                                        error);

      if (entry == NULL)
        return NULL;
      g_ptr_array_add (entries, entry);
    }

  return g_steal_pointer (&entries);
}
