/* vts-routes.c: the HTTP handlers of vt-server
 *
 * One table says which paths exist, which methods each takes and which
 * belong to the extensions that --plain turns off; vts_routes_handle()
 * resolves a request against it (404, 405, the job behind an {id}) so
 * that each handler only does its own work. Handlers never block: a
 * long-poll or an event stream hands its message to a VtsLongPoll or a
 * VtsEventStream and returns.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vts-routes.h"

#include "vts-event-stream.h"
#include "vts-long-poll.h"
#include "vts-response.h"

#include <math.h>
#include <string.h>

#define VTS_CAPABILITIES "hints, long-poll, events"

/* Deeper JSON than any job needs: refused before json-glib's recursive
 * parser could be made to exhaust the stack. */
#define MAX_JSON_DEPTH 32

struct _VtsRoutes
{
  GObject     parent_instance;

  VtsJobStore *store;
  VtsMetrics  *metrics;
  gboolean    plain;

  GHashTable *long_polls;  /* set of VtsLongPoll, owned */
  GHashTable *streams;     /* set of VtsEventStream, owned */
};

G_DEFINE_FINAL_TYPE (VtsRoutes, vts_routes, G_TYPE_OBJECT)

typedef void (*VtsRouteFunc) (VtsRoutes          *self,
                             SoupServerMessage *msg,
                             VtsJob             *job,
                             GHashTable        *query);

typedef struct
{
  const char  *pattern;    /* "{id}" matches a segment naming a known job */
  const char  *allow;
  gboolean     extension;  /* 404 under --plain */
  VtsRouteFunc  get;        /* also serves HEAD when allowed */
  VtsRouteFunc  post;
} VtsRoute;

static void handle_status       (VtsRoutes *, SoupServerMessage *, VtsJob *, GHashTable *);
static void handle_get_job      (VtsRoutes *, SoupServerMessage *, VtsJob *, GHashTable *);
static void handle_post_jobs    (VtsRoutes *, SoupServerMessage *, VtsJob *, GHashTable *);
static void handle_job_events   (VtsRoutes *, SoupServerMessage *, VtsJob *, GHashTable *);
static void handle_events       (VtsRoutes *, SoupServerMessage *, VtsJob *, GHashTable *);
static void handle_capabilities (VtsRoutes *, SoupServerMessage *, VtsJob *, GHashTable *);
static void handle_metrics      (VtsRoutes *, SoupServerMessage *, VtsJob *, GHashTable *);
static void handle_health       (VtsRoutes *, SoupServerMessage *, VtsJob *, GHashTable *);

static const VtsRoute routes[] = {
  { "/status",            "GET, HEAD", FALSE, handle_status,       NULL },
  { "/status/{id}",       "GET, HEAD", FALSE, handle_status,       NULL },
  { "/jobs",              "POST",      FALSE, NULL,                handle_post_jobs },
  { "/jobs/{id}",         "GET, HEAD", FALSE, handle_get_job,      NULL },
  { "/jobs/{id}/events",  "GET",       TRUE,  handle_job_events,   NULL },
  { "/events",            "GET",       TRUE,  handle_events,       NULL },
  { "/capabilities",      "GET, HEAD", TRUE,  handle_capabilities, NULL },
  { "/metrics",           "GET, HEAD", TRUE,  handle_metrics,      NULL },
  /* Not part of the protocol but of running the server: even --plain. */
  { "/health",            "GET, HEAD", FALSE, handle_health,       NULL },
};

/* Matches @path against @pattern segment by segment; an "{id}" segment
 * matches any non-empty segment, returned in @id on a match. */
static gboolean
route_matches (const char  *pattern,
               const char  *path,
               char       **id)
{
  const char *id_start = NULL;
  size_t id_len = 0;

  while (*pattern != '\0')
    {
      if (g_str_has_prefix (pattern, "{id}"))
        {
          id_start = path;
          id_len = strcspn (path, "/");
          if (id_len == 0)
            return FALSE;
          pattern += strlen ("{id}");
          path += id_len;
        }
      else if (*pattern++ != *path++)
        {
          return FALSE;
        }
    }

  if (*path != '\0')
    return FALSE;

  if (id != NULL && id_start != NULL)
    *id = g_strndup (id_start, id_len);
  return TRUE;
}

static const VtsRoute *
find_route (const char  *path,
            char       **id)
{
  if (path == NULL)
    return NULL;

  for (guint i = 0; i < G_N_ELEMENTS (routes); i++)
    {
      if (route_matches (routes[i].pattern, path, id))
        return &routes[i];
    }

  return NULL;
}

/*
 * vts_routes_label_for_path:
 *
 * Returns: the route pattern @path falls under ("/jobs/{id}"), or "other":
 * a bounded set of labels, whatever paths clients make up
 */
const char *
vts_routes_label_for_path (const char *path)
{
  const VtsRoute *route = find_route (path, NULL);

  return route != NULL ? route->pattern : "other";
}

static void
vts_routes_finalize (GObject *object)
{
  VtsRoutes *self = VTS_ROUTES (object);

  g_hash_table_unref (self->long_polls);
  g_hash_table_unref (self->streams);
  g_object_unref (self->store);
  g_object_unref (self->metrics);

  G_OBJECT_CLASS (vts_routes_parent_class)->finalize (object);
}

static void
vts_routes_class_init (VtsRoutesClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = vts_routes_finalize;
}

static void
vts_routes_init (VtsRoutes *self)
{
  self->long_polls = g_hash_table_new_full (NULL, NULL,
                                            (GDestroyNotify) vts_long_poll_free, NULL);
  self->streams = g_hash_table_new_full (NULL, NULL,
                                         (GDestroyNotify) vts_event_stream_free, NULL);
}

VtsRoutes *
vts_routes_new (VtsJobStore *store,
               VtsMetrics  *metrics,
               gboolean    plain)
{
  VtsRoutes *self;

  g_return_val_if_fail (VTS_IS_JOB_STORE (store), NULL);
  g_return_val_if_fail (VTS_IS_METRICS (metrics), NULL);

  self = g_object_new (VTS_TYPE_ROUTES, NULL);
  self->store = g_object_ref (store);
  self->metrics = g_object_ref (metrics);
  self->plain = plain;

  return self;
}

guint
vts_routes_get_n_long_polls (VtsRoutes *self)
{
  g_return_val_if_fail (VTS_IS_ROUTES (self), 0);

  return g_hash_table_size (self->long_polls);
}

guint
vts_routes_get_n_streams (VtsRoutes *self)
{
  g_return_val_if_fail (VTS_IS_ROUTES (self), 0);

  return g_hash_table_size (self->streams);
}

/* Answering a job, now or after a long-poll */

static void
add_retry_after (VtsRoutes          *self,
                 SoupServerMessage *msg,
                 VtsJob             *job,
                 gint64             now)
{
  g_autofree char *seconds = NULL;

  if (self->plain || vts_job_get_state (job, now) != VTS_JOB_STATE_PENDING)
    return;

  seconds = g_strdup_printf ("%u", vts_job_get_retry_after (job, now));
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "Retry-After", seconds);
}

typedef JsonNode *(*VtsJobToJson) (VtsJob    *job,
                                  gint64    now_us,
                                  gboolean  hints);

static void
respond_job_as (VtsRoutes          *self,
                SoupServerMessage *msg,
                VtsJob             *job,
                VtsJobToJson        to_json)
{
  gint64 now = g_get_monotonic_time ();
  g_autoptr(JsonNode) node = to_json (job, now, !self->plain);

  vts_response_json (msg, SOUP_STATUS_OK, node);
  add_retry_after (self, msg, job, now);
}

/* The job resource's shape, for /jobs */
static void
respond_job (SoupServerMessage *msg,
             VtsJob             *job,
             gpointer           user_data)
{
  respond_job_as (user_data, msg, job, vts_job_to_json);
}

/* The classic shape, for /status */
static void
respond_classic (SoupServerMessage *msg,
                 VtsJob             *job,
                 gpointer           user_data)
{
  respond_job_as (user_data, msg, job, vts_job_to_classic_json);
}

static void
on_long_poll_done (VtsLongPoll *poll,
                   gpointer    user_data)
{
  VtsRoutes *self = user_data;

  g_hash_table_remove (self->long_polls, poll);
}

/* ?wait=S: fractional seconds, capped; absent is 0. Sets a 400 and
 * returns FALSE when S is not a number of seconds. */
static gboolean
parse_wait (SoupServerMessage *msg,
            GHashTable        *query,
            double            *wait)
{
  const char *text = query != NULL ? g_hash_table_lookup (query, "wait") : NULL;
  char *end = NULL;

  *wait = 0.0;
  if (text == NULL)
    return TRUE;

  *wait = g_ascii_strtod (text, &end);
  if (end == text || *end != '\0' || !isfinite (*wait) || *wait < 0)
    {
      vts_response_error (msg, SOUP_STATUS_BAD_REQUEST, "bad-request",
                         "wait must be a number of seconds");
      return FALSE;
    }

  *wait = MIN (*wait, VTS_ROUTES_MAX_WAIT);
  return TRUE;
}

/* Answers at once, or holds @msg when the client asked to wait for a
 * pending job to change. --plain ignores ?wait, as a classic server
 * ignores any query it does not know. */
static void
respond_or_hold (VtsRoutes              *self,
                 SoupServerMessage     *msg,
                 VtsJob                 *job,
                 GHashTable            *query,
                 VtsLongPollRespondFunc  respond)
{
  double wait = 0.0;

  if (!self->plain && !parse_wait (msg, query, &wait))
    return;

  if (wait > 0 && vts_job_get_state (job, g_get_monotonic_time ()) == VTS_JOB_STATE_PENDING)
    {
      VtsLongPoll *poll = vts_long_poll_new (msg, job, wait, respond,
                                           on_long_poll_done, self);

      g_hash_table_add (self->long_polls, poll);
      return;
    }

  respond (msg, job, self);
}

/* Finds the job @id names, or answers why there is none: 404 for an id
 * that never was a job's, 410 for a job retention removed, 503 when the
 * database cannot be read. */
static VtsJob *
find_job_or_respond (VtsRoutes          *self,
                     SoupServerMessage *msg,
                     const char        *id)
{
  VtsJob *job = NULL;

  switch (vts_job_store_find (self->store, id, &job))
    {
    case VTS_JOB_LOOKUP_FOUND:
      return job;
    case VTS_JOB_LOOKUP_GONE:
      vts_response_error (msg, SOUP_STATUS_GONE, "gone",
                          "The job ended longer ago than the server keeps jobs");
      return NULL;
    case VTS_JOB_LOOKUP_FAILED:
      vts_response_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "unavailable",
                          "The job cannot be read now");
      return NULL;
    case VTS_JOB_LOOKUP_UNKNOWN:
    default:
      vts_response_error (msg, SOUP_STATUS_NOT_FOUND, "not-found", "No such job");
      return NULL;
    }
}

/* GET /status, /status/{id}, /status?job_id={id}: the classic shape */
static void
handle_status (VtsRoutes          *self,
               SoupServerMessage *msg,
               VtsJob             *job,
               GHashTable        *query)
{
  const char *job_id = query != NULL ? g_hash_table_lookup (query, "job_id") : NULL;

  if (job == NULL && job_id != NULL && (job = find_job_or_respond (self, msg, job_id)) == NULL)
    return;
  if (job == NULL)
    job = vts_job_store_get_default (self->store);

  respond_or_hold (self, msg, job, query, respond_classic);
}

/* GET /jobs/{id} */
static void
handle_get_job (VtsRoutes          *self,
                SoupServerMessage *msg,
                VtsJob             *job,
                GHashTable        *query)
{
  respond_or_hold (self, msg, job, query, respond_job);
}

/* POST /jobs */

static gboolean
json_too_deep (const char *data,
               gsize       length)
{
  gboolean in_string = FALSE;
  int depth = 0;

  for (gsize i = 0; i < length; i++)
    {
      if (in_string)
        {
          if (data[i] == '\\')
            i++;
          else if (data[i] == '"')
            in_string = FALSE;
        }
      else if (data[i] == '"')
        in_string = TRUE;
      else if ((data[i] == '{' || data[i] == '[') && ++depth > MAX_JSON_DEPTH)
        return TRUE;
      else if (data[i] == '}' || data[i] == ']')
        depth--;
    }

  return FALSE;
}

static gboolean
get_optional_string (JsonObject  *object,
                     const char  *name,
                     const char **value,
                     GError     **error)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL)
    return TRUE;

  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s must be a string", name);
      return FALSE;
    }

  *value = json_node_get_string (node);
  return TRUE;
}

static gboolean
get_optional_duration (JsonObject  *object,
                       double      *duration,
                       GError     **error)
{
  JsonNode *node = json_object_get_member (object, "duration");
  GType type;

  if (node == NULL)
    return TRUE;

  type = JSON_NODE_HOLDS_VALUE (node) ? json_node_get_value_type (node) : G_TYPE_INVALID;
  if (type == G_TYPE_INT64 || type == G_TYPE_DOUBLE)
    *duration = json_node_get_double (node);

  if ((type != G_TYPE_INT64 && type != G_TYPE_DOUBLE) ||
      !isfinite (*duration) || *duration < 0 || *duration > VTS_DURATION_MAX)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "duration must be a number of seconds in [0, %.0f]", VTS_DURATION_MAX);
      return FALSE;
    }

  return TRUE;
}

static gboolean
get_optional_outcome (JsonObject  *object,
                      VtsJobState  *outcome,
                      GError     **error)
{
  const char *name = NULL;

  if (!get_optional_string (object, "outcome", &name, error))
    return FALSE;

  if (name != NULL &&
      (!vts_job_state_from_string (name, outcome) || *outcome == VTS_JOB_STATE_PENDING))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "outcome must be \"completed\" or \"error\"");
      return FALSE;
    }

  return TRUE;
}

/* Fills @spec from the body of a POST /jobs; the strings it points to
 * live in the returned node. An empty body asks for a default job. */
static JsonNode *
parse_job_spec (GBytes     *body,
                VtsJobSpec  *spec,
                GError    **error)
{
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(JsonNode) root = NULL;
  const char *data;
  gsize length;
  JsonObject *object;

  data = g_bytes_get_data (body, &length);
  if (length == 0)
    return json_node_new (JSON_NODE_NULL);

  if (!g_utf8_validate_len (data, length, NULL) || json_too_deep (data, length))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "the body is not valid UTF-8 JSON of reasonable depth");
      return NULL;
    }

  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, data, length, error))
    return NULL;

  root = json_parser_steal_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "the body must be a JSON object");
      return NULL;
    }

  object = json_node_get_object (root);
  if (!get_optional_string (object, "source_url", &spec->source_url, error) ||
      !get_optional_string (object, "target_language", &spec->target_language, error) ||
      !get_optional_duration (object, &spec->duration, error) ||
      !get_optional_outcome (object, &spec->outcome, error))
    return NULL;

  return g_steal_pointer (&root);
}

/* A POST /jobs waiting for its job to be stored. The connection may go
 * meanwhile (the server stopping drops it): then there is no one to
 * answer. */
typedef struct
{
  VtsRoutes          *routes;
  SoupServerMessage *msg;
  gulong             gone_ids[2];
} PendingPost;

static void
pending_post_on_gone (PendingPost *post)
{
  for (guint i = 0; i < G_N_ELEMENTS (post->gone_ids); i++)
    g_clear_signal_handler (&post->gone_ids[i], post->msg);
  g_clear_object (&post->msg);
}

static PendingPost *
pending_post_new (VtsRoutes          *self,
                  SoupServerMessage *msg)
{
  PendingPost *post = g_new0 (PendingPost, 1);

  post->routes = g_object_ref (self);
  post->msg = g_object_ref (msg);
  post->gone_ids[0] = g_signal_connect_swapped (msg, "disconnected",
                                                G_CALLBACK (pending_post_on_gone), post);
  post->gone_ids[1] = g_signal_connect_swapped (msg, "finished",
                                                G_CALLBACK (pending_post_on_gone), post);
  return post;
}

static void
pending_post_free (PendingPost *post)
{
  if (post->msg != NULL)
    pending_post_on_gone (post);
  g_object_unref (post->routes);
  g_free (post);
}

static void
respond_created (VtsRoutes          *self,
                 SoupServerMessage *msg,
                 VtsJob             *job)
{
  g_autofree char *location = g_strconcat ("/jobs/", vts_job_get_id (job), NULL);

  respond_job (msg, job, self);
  soup_server_message_set_status (msg, SOUP_STATUS_CREATED, NULL);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "Location", location);
}

/* 201 once the job is stored; if it could not be, it does not exist,
 * and the client is told to try again. */
static void
respond_stored (VtsRoutes          *self,
                SoupServerMessage *msg,
                VtsJob             *job,
                const GError      *error)
{
  if (job != NULL)
    {
      respond_created (self, msg, job);
      return;
    }

  vts_response_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "unavailable",
                      "The job could not be stored: %s", error->message);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "Retry-After", "1");
}

static void
on_job_stored (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  PendingPost *post = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(VtsJob) job = vts_job_store_create_finish (VTS_JOB_STORE (source), result, &error);

  if (post->msg != NULL)
    {
      respond_stored (post->routes, post->msg, job, error);
      soup_server_message_unpause (post->msg);
    }
  pending_post_free (post);
}

static void
handle_post_jobs (VtsRoutes          *self,
                  SoupServerMessage *msg,
                  VtsJob             *unused,
                  GHashTable        *query)
{
  g_autoptr(GBytes) body = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;
  VtsJobSpec spec = VTS_JOB_SPEC_INIT;

  body = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  if (g_bytes_get_size (body) > VTS_ROUTES_MAX_BODY)
    {
      vts_response_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "payload-too-large",
                         "The body exceeds %d bytes", VTS_ROUTES_MAX_BODY);
      return;
    }

  root = parse_job_spec (body, &spec, &error);
  if (root == NULL)
    {
      vts_response_error (msg, SOUP_STATUS_BAD_REQUEST, "bad-request",
                         "Invalid job: %s", error->message);
      return;
    }

  /* In memory, storing is instant. On a file, the POSTs of one main-loop
   * iteration share one commit, and each is answered after it. */
  if (!vts_job_store_is_persistent (self->store))
    {
      g_autoptr(VtsJob) job = vts_job_store_create (self->store, &spec, &error);

      respond_stored (self, msg, job, error);
      return;
    }

  soup_server_message_pause (msg);
  vts_job_store_create_async (self->store, &spec, NULL, on_job_stored,
                              pending_post_new (self, msg));
}

/* Event streams */

static void
on_stream_done (VtsEventStream *stream,
                gpointer       user_data)
{
  VtsRoutes *self = user_data;

  g_hash_table_remove (self->streams, stream);
}

static void
start_stream (VtsRoutes          *self,
              SoupServerMessage *msg,
              GPtrArray         *jobs)
{
  VtsEventStream *stream;

  stream = vts_event_stream_new (msg, (VtsJob * const *) jobs->pdata, jobs->len,
                                on_stream_done, self);
  if (stream != NULL)
    g_hash_table_add (self->streams, stream);
}

/* GET /jobs/{id}/events */
static void
handle_job_events (VtsRoutes          *self,
                   SoupServerMessage *msg,
                   VtsJob             *job,
                   GHashTable        *query)
{
  g_autoptr(GPtrArray) jobs = g_ptr_array_new ();

  g_ptr_array_add (jobs, job);
  start_stream (self, msg, jobs);
}

/* GET /events?job=A&job=B: libsoup's query table keeps one value per
 * name, so the repeated parameter is read from the raw query. */
static void
handle_events (VtsRoutes          *self,
               SoupServerMessage *msg,
               VtsJob             *unused,
               GHashTable        *query)
{
  const char *raw = g_uri_get_query (soup_server_message_get_uri (msg));
  g_auto(GStrv) params = g_strsplit (raw != NULL ? raw : "", "&", -1);
  g_autoptr(GPtrArray) jobs = g_ptr_array_new ();

  for (guint i = 0; params[i] != NULL; i++)
    {
      g_autofree char *id = NULL;
      VtsJob *job;

      if (!g_str_has_prefix (params[i], "job="))
        continue;

      id = g_uri_unescape_string (params[i] + strlen ("job="), NULL);
      if ((job = find_job_or_respond (self, msg, id)) == NULL)
        return;
      g_ptr_array_add (jobs, job);
    }

  if (jobs->len == 0)
    {
      vts_response_error (msg, SOUP_STATUS_BAD_REQUEST, "bad-request",
                         "Name at least one job: /events?job=ID&job=ID");
      return;
    }

  start_stream (self, msg, jobs);
}

/* GET /capabilities */
static void
handle_capabilities (VtsRoutes          *self,
                     SoupServerMessage *msg,
                     VtsJob             *unused,
                     GHashTable        *query)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "hints");
  json_builder_add_boolean_value (builder, TRUE);
  json_builder_set_member_name (builder, "long_poll");
  json_builder_add_boolean_value (builder, TRUE);
  json_builder_set_member_name (builder, "events");
  json_builder_add_boolean_value (builder, TRUE);
  json_builder_set_member_name (builder, "max_wait");
  json_builder_add_int_value (builder, VTS_ROUTES_MAX_WAIT);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  vts_response_json (msg, SOUP_STATUS_OK, root);
}

/* GET /metrics */
static void
handle_metrics (VtsRoutes          *self,
                SoupServerMessage *msg,
                VtsJob             *unused,
                GHashTable        *query)
{
  char *text = vts_metrics_render (self->metrics, self->store,
                                  g_hash_table_size (self->long_polls),
                                  g_hash_table_size (self->streams));

  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "text/plain; version=0.0.4", SOUP_MEMORY_TAKE,
                                    text, strlen (text));
}

/* GET /health: answers whenever the main loop runs */
static void
handle_health (VtsRoutes          *self,
               SoupServerMessage *msg,
               VtsJob             *unused,
               GHashTable        *query)
{
  static const char ok[] = "{\"ok\":true}";

  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC,
                                    ok, strlen (ok));
}

/* Dispatch */

static VtsRouteFunc
route_func_for_method (const VtsRoute *route,
                       const char    *method)
{
  if (method == SOUP_METHOD_GET ||
      (method == SOUP_METHOD_HEAD && strstr (route->allow, "HEAD") != NULL))
    return route->get;
  if (method == SOUP_METHOD_POST)
    return route->post;

  return NULL;
}

/*
 * vts_routes_handle:
 * @path: the request's path
 * @query: (nullable): its query, decoded, one value per name
 *
 * Answers @msg: a 404 for what does not exist (including the extensions
 * under --plain and unknown job ids), a 405 with Allow for a method a
 * route does not take, else whatever the route's handler says.
 */
void
vts_routes_handle (VtsRoutes          *self,
                  SoupServerMessage *msg,
                  const char        *path,
                  GHashTable        *query)
{
  g_autofree char *id = NULL;
  const VtsRoute *route;
  VtsRouteFunc func;
  VtsJob *job = NULL;

  g_return_if_fail (VTS_IS_ROUTES (self));

  route = find_route (path, &id);
  if (route == NULL || (route->extension && self->plain))
    {
      vts_response_error (msg, SOUP_STATUS_NOT_FOUND, "not-found", "No such resource");
      return;
    }

  func = route_func_for_method (route, soup_server_message_get_method (msg));
  if (func == NULL)
    {
      vts_response_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "method-not-allowed",
                         "%s takes %s", route->pattern, route->allow);
      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                    "Allow", route->allow);
      return;
    }

  /* Any id that is not a job's, well-formed or not, is a 404: the
   * answer does not tell a prober which ids could exist. */
  if (id != NULL && (job = find_job_or_respond (self, msg, id)) == NULL)
    return;

  func (self, msg, job, query);
}

/* Server-wide behaviour, before and around the handlers */

static void
on_request_started (SoupServer        *server,
                    SoupServerMessage *msg,
                    gpointer           user_data)
{
  VtsRoutes *self = user_data;

  if (!self->plain)
    soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                  "Vt-Capabilities", VTS_CAPABILITIES);
}

static void
refuse_body_too_large (SoupServerMessage *msg)
{
  /* Stop keeping what is still read: the client may send gigabytes. */
  soup_message_body_set_accumulate (soup_server_message_get_request_body (msg), FALSE);
  soup_message_body_truncate (soup_server_message_get_request_body (msg));
  vts_response_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "payload-too-large",
                     "The body exceeds %d bytes", VTS_ROUTES_MAX_BODY);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "Connection", "close");
}

/* A chunked body announces no length: count as it arrives. */
static void
on_got_chunk (SoupServerMessage *msg,
              GBytes            *chunk,
              gpointer           user_data)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);

  if (soup_server_message_get_status (msg) == 0 && body->length > VTS_ROUTES_MAX_BODY)
    refuse_body_too_large (msg);
}

/* Runs once the headers are read, before the body: a declared length
 * over the limit is refused without buffering the body. */
static void
on_early_request (SoupServer        *server,
                  SoupServerMessage *msg,
                  const char        *path,
                  GHashTable        *query,
                  gpointer           user_data)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);

  if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH &&
      soup_message_headers_get_content_length (headers) > VTS_ROUTES_MAX_BODY)
    refuse_body_too_large (msg);
  else
    g_signal_connect (msg, "got-chunk", G_CALLBACK (on_got_chunk), NULL);
}

/* libsoup answers some malformed requests itself (a 400 for an encoded
 * "..", say) with an empty body; give those the JSON error shape too. */
static void
on_request_read (SoupServer        *server,
                 SoupServerMessage *msg,
                 gpointer           user_data)
{
  guint status = soup_server_message_get_status (msg);

  if (status >= 400 && soup_server_message_get_response_body (msg)->length == 0)
    vts_response_error (msg, status, "bad-request", "%s", soup_status_get_phrase (status));
}

/*
 * vts_routes_attach:
 *
 * Connects what applies to every request of @server: the capabilities
 * header, the body size limit, JSON error bodies. The request handler
 * itself is registered by the caller, which may wrap vts_routes_handle().
 */
void
vts_routes_attach (VtsRoutes   *self,
                  SoupServer *server)
{
  g_return_if_fail (VTS_IS_ROUTES (self));
  g_return_if_fail (SOUP_IS_SERVER (server));

  g_signal_connect_object (server, "request-started",
                           G_CALLBACK (on_request_started), self, 0);
  g_signal_connect_object (server, "request-read",
                           G_CALLBACK (on_request_read), self, 0);
  soup_server_add_early_handler (server, NULL, on_early_request, NULL, NULL);
}
