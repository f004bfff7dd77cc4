/* vt-job-response.c: bytes to job observation
 *
 * Pure functions from a response body to what it says about a job. They
 * see no HTTP and no main loop, which is what lets the fuzzers and the
 * unit tests drive them with arbitrary bytes.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "vt-error.h"
#include "vt-job-response-private.h"

void
vt_job_observation_clear (VtJobObservation *observation)
{
  g_clear_pointer (&observation->id, g_free);
  g_clear_pointer (&observation->result_url, g_free);
  g_clear_pointer (&observation->message, g_free);
  g_clear_pointer (&observation->created_at, g_date_time_unref);
  g_clear_pointer (&observation->completed_at, g_date_time_unref);
  g_clear_pointer (&observation->document, json_object_unref);
}

/* The statuses a server may report. "timeout" is the client's own verdict
 * and never a server's, so it is not accepted here. */
gboolean
vt_job_status_from_string (const char *str,
                           VtStatus   *status)
{
  if (g_strcmp0 (str, "pending") == 0)
    *status = VT_STATUS_PENDING;
  else if (g_strcmp0 (str, "completed") == 0)
    *status = VT_STATUS_COMPLETED;
  else if (g_strcmp0 (str, "error") == 0)
    *status = VT_STATUS_ERROR;
  else
    return FALSE;

  return TRUE;
}

/* The deepest nesting a job response may have. json-glib parses
 * recursively, so a body of 64 KiB of '[' would otherwise go 64 Ki frames
 * deep; a job is a flat object. */
#define MAX_JSON_DEPTH 32

/* A cheap pass before json-glib: refuses nesting deeper than @max_depth,
 * and anything but white space after the top-level value is closed (which
 * json-glib would quietly accept: "{...}{...}" is not a job). */
static gboolean
json_shape_ok (const char *data,
               gsize       length,
               guint       max_depth)
{
  gboolean in_string = FALSE;
  gboolean closed = FALSE;
  guint depth = 0;

  for (gsize i = 0; i < length; i++)
    {
      char c = data[i];

      if (in_string)
        {
          if (c == '\\')
            i++;
          else if (c == '"')
            in_string = FALSE;
        }
      else if (closed && !g_ascii_isspace (c))
        return FALSE;
      else if (c == '"')
        in_string = TRUE;
      else if (c == '{' || c == '[')
        {
          if (++depth > max_depth)
            return FALSE;
        }
      else if ((c == '}' || c == ']') && depth > 0)
        closed = --depth == 0;
    }

  return TRUE;
}

static JsonObject *
parse_object (JsonParser  *parser,
              const char  *data,
              gsize        length,
              gsize        max_size,
              GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  JsonNode *root;

  if (length > max_size)
    {
      g_set_error (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_PROTOCOL,
                   "Response body of %" G_GSIZE_FORMAT " bytes exceeds the "
                   "%" G_GSIZE_FORMAT "-byte limit", length, max_size);
      return NULL;
    }

  /* json-glib needs valid UTF-8 and stops at an embedded NUL: check both
   * so a binary body is reported as such and not half-parsed. */
  if (length == 0 || memchr (data, '\0', length) != NULL ||
      !g_utf8_validate (data, length, NULL))
    {
      g_set_error_literal (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_PROTOCOL,
                           "Response body is empty or not UTF-8 text");
      return NULL;
    }

  if (!json_shape_ok (data, length, MAX_JSON_DEPTH))
    {
      g_set_error (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_PROTOCOL,
                   "Response body nests deeper than %d levels or has data "
                   "after its JSON value", MAX_JSON_DEPTH);
      return NULL;
    }

  if (!json_parser_load_from_data (parser, data, length, &local_error))
    {
      g_set_error (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_PROTOCOL,
                   "Response body is not JSON: %s", local_error->message);
      return NULL;
    }

  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error_literal (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_PROTOCOL,
                           "Response body is not a JSON object");
      return NULL;
    }

  return json_node_get_object (root);
}

static const char *
get_string_member (JsonObject *object,
                   const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;

  return json_node_get_string (node);
}

/* A finite number, or -1 when absent or of another type: hints are
 * optional and a bad hint is ignored rather than failing the poll. */
static double
get_optional_number (JsonObject *object,
                     const char *name,
                     double      max)
{
  JsonNode *node = json_object_get_member (object, name);
  double value;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return -1.0;

  switch (json_node_get_value_type (node))
    {
    case G_TYPE_DOUBLE:
      value = json_node_get_double (node);
      break;
    case G_TYPE_INT64:
      value = (double) json_node_get_int (node);
      break;
    default:
      return -1.0;
    }

  if (!isfinite (value) || value < 0 || value > max)
    return -1.0;

  return value;
}

/* An ISO 8601 date and time, or NULL when absent or unreadable. */
static GDateTime *
get_optional_time (JsonObject *object,
                   const char *name)
{
  const char *text = get_string_member (object, name);

  return text != NULL ? g_date_time_new_from_iso8601 (text, NULL) : NULL;
}

/* A whole number >= 0, or -1 when absent or of another type. */
static gint64
get_optional_count (JsonObject *object,
                    const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_INT64 || json_node_get_int (node) < 0)
    return -1;

  return json_node_get_int (node);
}

/* Reads one job document: `{"result": "pending" | "completed" | "error",
 * ...}`. Peers of the classic API may call the field "status"; "result"
 * wins when both are present. A missing or unknown status is a protocol
 * error: treating it as pending would poll a broken server until the
 * budget ran out. */
static gboolean
observation_from_object (JsonObject        *object,
                         VtJobObservation  *observation,
                         GError           **error)
{
  const char *status;

  status = get_string_member (object, "result");
  if (status == NULL)
    status = get_string_member (object, "status");
  if (status == NULL)
    {
      g_set_error_literal (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_PROTOCOL,
                           "Response has no \"result\" or \"status\" string");
      return FALSE;
    }

  if (!vt_job_status_from_string (status, &observation->status))
    {
      g_set_error (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_PROTOCOL,
                   "Unknown job status \"%.64s\"", status);
      return FALSE;
    }

  observation->progress = get_optional_number (object, "progress", 1.0);
  /* An ETA over a day is not a hint we would act on. */
  observation->eta = get_optional_number (object, "eta", 86400.0);
  /* A year: a job's age on the server, which times its ETAs exactly. */
  observation->elapsed = get_optional_number (object, "elapsed", 365 * 86400.0);
  g_free (observation->id);
  observation->id = g_strdup (get_string_member (object, "id"));
  g_free (observation->result_url);
  observation->result_url = g_strdup (get_string_member (object, "result_url"));
  g_free (observation->message);
  observation->message = g_strdup (get_string_member (object, "message"));
  g_clear_pointer (&observation->created_at, g_date_time_unref);
  observation->created_at = get_optional_time (object, "created_at");
  g_clear_pointer (&observation->completed_at, g_date_time_unref);
  observation->completed_at = get_optional_time (object, "completed_at");
  g_clear_pointer (&observation->document, json_object_unref);
  observation->document = json_object_ref (object);

  return TRUE;
}

/*
 * vt_job_response_parse:
 *
 * Reads the answer to a GET of one job (see observation_from_object()).
 */
gboolean
vt_job_response_parse (const char        *data,
                       gsize              length,
                       VtJobObservation  *observation,
                       GError           **error)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  JsonObject *object;

  g_return_val_if_fail (observation != NULL, FALSE);

  object = parse_object (parser, data, length, VT_JOB_RESPONSE_MAX_SIZE, error);
  if (object == NULL)
    return FALSE;

  return observation_from_object (object, observation, error);
}

/*
 * vt_job_response_parse_id:
 *
 * Reads the "id" of a job a POST /jobs created.
 */
char *
vt_job_response_parse_id (const char  *data,
                          gsize        length,
                          GError     **error)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  JsonObject *object;
  const char *id;

  object = parse_object (parser, data, length, VT_JOB_RESPONSE_MAX_SIZE, error);
  if (object == NULL)
    return NULL;

  id = get_string_member (object, "id");
  if (id == NULL || *id == '\0')
    {
      g_set_error_literal (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_PROTOCOL,
                           "Created job has no \"id\" string");
      return NULL;
    }

  return g_strdup (id);
}

/*
 * vt_job_request_build:
 *
 * The body of a POST /jobs.
 */
static GBytes *
builder_to_bytes (JsonBuilder *builder)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = json_builder_get_root (builder);
  char *data;
  gsize length;

  json_generator_set_root (generator, root);
  data = json_generator_to_data (generator, &length);

  return g_bytes_new_take (data, length);
}

GBytes *
vt_job_request_build (const char *source_url,
                      const char *target_language)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "source_url");
  json_builder_add_string_value (builder, source_url);
  json_builder_set_member_name (builder, "target_language");
  json_builder_add_string_value (builder, target_language);
  json_builder_end_object (builder);

  return builder_to_bytes (builder);
}

/* ------------------------------------------------------------------ */
/* Feeds (docs/protocol.md, "Feeds")                                   */

/*
 * vt_feed_create_build:
 *
 * The body of a POST /feeds.
 */
GBytes *
vt_feed_create_build (double progress_interval)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "progress_interval");
  json_builder_add_double_value (builder, progress_interval);
  json_builder_end_object (builder);

  return builder_to_bytes (builder);
}

static void
add_id_array (JsonBuilder        *builder,
              const char         *name,
              const char * const *ids,
              guint               n_ids)
{
  if (n_ids == 0)
    return;

  json_builder_set_member_name (builder, name);
  json_builder_begin_array (builder);
  for (guint i = 0; i < n_ids; i++)
    json_builder_add_string_value (builder, ids[i]);
  json_builder_end_array (builder);
}

/*
 * vt_feed_jobs_build:
 *
 * The body of a POST /feeds/{fid}/jobs: the ids to join and to leave.
 */
GBytes *
vt_feed_jobs_build (const char * const *join,
                    guint               n_join,
                    const char * const *leave,
                    guint               n_leave)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  add_id_array (builder, "join", join, n_join);
  add_id_array (builder, "leave", leave, n_leave);
  json_builder_end_object (builder);

  return builder_to_bytes (builder);
}

void
vt_feed_answer_clear (VtFeedAnswer *answer)
{
  g_clear_pointer (&answer->jobs, g_array_unref);
  g_clear_pointer (&answer->unknown, g_ptr_array_unref);
  g_clear_pointer (&answer->gone, g_ptr_array_unref);
}

/* The strings of an optional array member; anything else in it is
 * ignored. */
static GPtrArray *
read_id_array (JsonObject *object,
               const char *name)
{
  JsonNode *node = json_object_get_member (object, name);
  GPtrArray *ids = g_ptr_array_new_with_free_func (g_free);
  JsonArray *array;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return ids;

  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);

      if (JSON_NODE_HOLDS_VALUE (element) &&
          json_node_get_value_type (element) == G_TYPE_STRING)
        g_ptr_array_add (ids, g_strdup (json_node_get_string (element)));
    }

  return ids;
}

/*
 * vt_feed_answer_parse:
 *
 * Reads the answer to a join (`{"jobs": [...], "unknown": [...], "gone":
 * [...]}`) or to a feed's long-poll (`{"next": N, "jobs": [...], "reset":
 * true}`). A job document without an id or with an unreadable status is
 * left out: one broken job does not keep the others' news from the
 * client. Fails only when the body is not such an object.
 */
gboolean
vt_feed_answer_parse (const char    *data,
                      gsize          length,
                      VtFeedAnswer  *answer,
                      GError       **error)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  JsonObject *object;
  JsonNode *jobs;
  JsonNode *reset;

  object = parse_object (parser, data, length, VT_FEED_RESPONSE_MAX_SIZE, error);
  if (object == NULL)
    return FALSE;

  jobs = json_object_get_member (object, "jobs");
  if (jobs == NULL || !JSON_NODE_HOLDS_ARRAY (jobs))
    {
      g_set_error_literal (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_PROTOCOL,
                           "Feed answer has no \"jobs\" array");
      return FALSE;
    }

  answer->jobs = g_array_new (FALSE, TRUE, sizeof (VtJobObservation));
  g_array_set_clear_func (answer->jobs, (GDestroyNotify) vt_job_observation_clear);
  for (guint i = 0; i < json_array_get_length (json_node_get_array (jobs)); i++)
    {
      JsonNode *element = json_array_get_element (json_node_get_array (jobs), i);
      VtJobObservation observation = { 0 };

      if (!JSON_NODE_HOLDS_OBJECT (element) ||
          !observation_from_object (json_node_get_object (element), &observation, NULL) ||
          observation.id == NULL)
        {
          vt_job_observation_clear (&observation);
          continue;
        }
      g_array_append_val (answer->jobs, observation);
    }

  answer->unknown = read_id_array (object, "unknown");
  answer->gone = read_id_array (object, "gone");
  answer->next = get_optional_count (object, "next");
  reset = json_object_get_member (object, "reset");
  answer->reset = reset != NULL && JSON_NODE_HOLDS_VALUE (reset) &&
                  json_node_get_value_type (reset) == G_TYPE_BOOLEAN &&
                  json_node_get_boolean (reset);

  return TRUE;
}
