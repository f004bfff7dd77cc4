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
              GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  JsonNode *root;

  if (length > VT_JOB_RESPONSE_MAX_SIZE)
    {
      g_set_error (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_PROTOCOL,
                   "Response body of %" G_GSIZE_FORMAT " bytes exceeds the "
                   "%d-byte limit", length, VT_JOB_RESPONSE_MAX_SIZE);
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

/*
 * vt_job_response_parse:
 *
 * Reads `{"result": "pending" | "completed" | "error", ...}`. Peers of the
 * classic API may call the field "status"; "result" wins when both are
 * present. A missing or unknown status is a protocol error: treating it as
 * pending would poll a broken server until the budget ran out.
 */
gboolean
vt_job_response_parse (const char        *data,
                       gsize              length,
                       VtJobObservation  *observation,
                       GError           **error)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  JsonObject *object;
  const char *status;
  const char *id;

  g_return_val_if_fail (observation != NULL, FALSE);

  object = parse_object (parser, data, length, error);
  if (object == NULL)
    return FALSE;

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
  id = get_string_member (object, "id");
  g_free (observation->id);
  observation->id = g_strdup (id);

  return TRUE;
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

  object = parse_object (parser, data, length, error);
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
GBytes *
vt_job_request_build (const char *source_url,
                   const char *target_language)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  char *data;
  gsize length;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "source_url");
  json_builder_add_string_value (builder, source_url);
  json_builder_set_member_name (builder, "target_language");
  json_builder_add_string_value (builder, target_language);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  data = json_generator_to_data (generator, &length);

  return g_bytes_new_take (data, length);
}
