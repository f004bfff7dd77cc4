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
#include "vts-feeds.h"
#include "vts-long-poll.h"
#include "vts-response.h"

#include <math.h>
#include <string.h>

#define VTS_CAPABILITIES "hints, long-poll, events, feeds, conditional"
/* --no-feeds: a server of the extensions before feeds, for tests of the
 * per-job channels clients fall back to. */
#define VTS_CAPABILITIES_NO_FEEDS "hints, long-poll, events, conditional"

/* Deeper JSON than any job needs: refused before json-glib's recursive
 * parser could be made to exhaust the stack. */
#define MAX_JSON_DEPTH 32

struct _VtsRoutes
{
  GObject     parent_instance;

  VtsJobStore *store;
  VtsMetrics  *metrics;
  gboolean    plain;
  gboolean    no_feeds;
  char       *base_url;   /* nullable until the server listens */
  VtsJobFormat format;     /* what every job document follows */
  VtsFeeds    *feeds;

  GHashTable *long_polls;  /* set of VtsLongPoll, owned */
  GHashTable *streams;     /* set of VtsEventStream, owned */
};

G_DEFINE_FINAL_TYPE (VtsRoutes, vts_routes, G_TYPE_OBJECT)

/* What a request names, resolved before its handler runs. */
typedef struct
{
  VtsJob      *job;    /* the job behind "{id}" */
  VtsFeed     *feed;   /* the feed behind "{fid}" */
  GHashTable *query;  /* nullable: decoded, one value per name */
} VtsRequest;

typedef void (*VtsRouteFunc) (VtsRoutes          *self,
                             SoupServerMessage *msg,
                             const VtsRequest   *request);

typedef struct
{
  const char  *pattern;    /* "{id}" matches a segment naming a known job,
                            * "{fid}" one naming a feed */
  const char  *allow;
  gboolean     extension;  /* 404 under --plain */
  VtsRouteFunc  get;        /* also serves HEAD when allowed */
  VtsRouteFunc  post;
  VtsRouteFunc  delete;
} VtsRoute;

static void handle_status       (VtsRoutes *, SoupServerMessage *, const VtsRequest *);
static void handle_get_job      (VtsRoutes *, SoupServerMessage *, const VtsRequest *);
static void handle_post_jobs    (VtsRoutes *, SoupServerMessage *, const VtsRequest *);
static void handle_job_result   (VtsRoutes *, SoupServerMessage *, const VtsRequest *);
static void handle_job_events   (VtsRoutes *, SoupServerMessage *, const VtsRequest *);
static void handle_events       (VtsRoutes *, SoupServerMessage *, const VtsRequest *);
static void handle_post_feeds   (VtsRoutes *, SoupServerMessage *, const VtsRequest *);
static void handle_get_feed     (VtsRoutes *, SoupServerMessage *, const VtsRequest *);
static void handle_delete_feed  (VtsRoutes *, SoupServerMessage *, const VtsRequest *);
static void handle_feed_jobs    (VtsRoutes *, SoupServerMessage *, const VtsRequest *);
static void handle_feed_events  (VtsRoutes *, SoupServerMessage *, const VtsRequest *);
static void handle_capabilities (VtsRoutes *, SoupServerMessage *, const VtsRequest *);
static void handle_metrics      (VtsRoutes *, SoupServerMessage *, const VtsRequest *);
static void handle_health       (VtsRoutes *, SoupServerMessage *, const VtsRequest *);

static const VtsRoute routes[] = {
  { "/status",             "GET, HEAD",   FALSE, handle_status,       NULL, NULL },
  { "/status/{id}",        "GET, HEAD",   FALSE, handle_status,       NULL, NULL },
  { "/jobs",               "POST",        FALSE, NULL,                handle_post_jobs, NULL },
  { "/jobs/{id}",          "GET, HEAD",   FALSE, handle_get_job,      NULL, NULL },
  { "/jobs/{id}/result",   "GET, HEAD",   FALSE, handle_job_result,   NULL, NULL },
  { "/jobs/{id}/events",   "GET",         TRUE,  handle_job_events,   NULL, NULL },
  { "/events",             "GET",         TRUE,  handle_events,       NULL, NULL },
  { "/feeds",              "POST",        TRUE,  NULL,                handle_post_feeds, NULL },
  { "/feeds/{fid}",        "GET, DELETE", TRUE,  handle_get_feed,     NULL, handle_delete_feed },
  { "/feeds/{fid}/jobs",   "POST",        TRUE,  NULL,                handle_feed_jobs, NULL },
  { "/feeds/{fid}/events", "GET",         TRUE,  handle_feed_events,  NULL, NULL },
  { "/capabilities",       "GET, HEAD",   TRUE,  handle_capabilities, NULL, NULL },
  { "/metrics",            "GET, HEAD",   TRUE,  handle_metrics,      NULL, NULL },
  /* Not part of the protocol but of running the server: even --plain. */
  { "/health",             "GET, HEAD",   FALSE, handle_health,       NULL, NULL },
};

/* Matches @path against @pattern segment by segment; an "{id}" or
 * "{fid}" segment matches any non-empty segment, returned in @id on a
 * match (a pattern has at most one). */
static gboolean
route_matches (const char  *pattern,
               const char  *path,
               char       **id)
{
  const char *id_start = NULL;
  size_t id_len = 0;

  while (*pattern != '\0')
    {
      if (*pattern == '{')
        {
          id_start = path;
          id_len = strcspn (path, "/");
          if (id_len == 0)
            return FALSE;
          pattern = strchr (pattern, '}') + 1;
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
  g_object_unref (self->feeds);
  g_free (self->base_url);
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
  self->format.hints = !plain;
  self->feeds = vts_feeds_new (&self->format, VTS_FEED_TTL);

  return self;
}

/* --feed-ttl: how long an unused feed lives, for tests. */
/* Turns feeds off: their routes answer 404 and are not announced. */
void
vts_routes_disable_feeds (VtsRoutes *self)
{
  g_return_if_fail (VTS_IS_ROUTES (self));

  self->no_feeds = TRUE;
}

void
vts_routes_set_feed_ttl (VtsRoutes *self,
                        double     seconds)
{
  g_return_if_fail (VTS_IS_ROUTES (self));

  g_clear_object (&self->feeds);
  self->feeds = vts_feeds_new (&self->format, seconds);
}

/*
 * vts_routes_set_base_url:
 * @base_url: "http://HOST:PORT", what the server announced
 *
 * Makes result_url absolute.
 */
void
vts_routes_set_base_url (VtsRoutes   *self,
                        const char *base_url)
{
  g_return_if_fail (VTS_IS_ROUTES (self));

  g_free (self->base_url);
  self->base_url = g_strdup (base_url);
  self->format.base_url = self->base_url;
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

/* A 304 has no body, and so neither the eta nor the elapsed time the
 * 200 would have had: Vt-Eta carries both, to the millisecond, for the
 * client's next poll. A structured-field item (RFC 8941): the eta, with
 * the job's age as a parameter. */
static void
add_eta (SoupServerMessage *msg,
         VtsJob             *job,
         gint64             now)
{
  char eta[G_ASCII_DTOSTR_BUF_SIZE], elapsed[G_ASCII_DTOSTR_BUF_SIZE];
  g_autofree char *value = NULL;

  if (vts_job_get_state (job, now) != VTS_JOB_STATE_PENDING)
    return;

  g_ascii_formatd (eta, sizeof eta, "%.3f", vts_job_get_eta (job, now));
  g_ascii_formatd (elapsed, sizeof elapsed, "%.3f", vts_job_get_elapsed (job, now));
  value = g_strconcat (eta, ";elapsed=", elapsed, NULL);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Vt-Eta", value);
}

/* The job resource's shape, for /jobs */
static GBytes *
job_document (VtsRoutes *self,
              VtsJob    *job,
              gint64     now)
{
  return vts_job_to_json_bytes (job, now, &self->format);
}

/* The classic shape, for /status */
static GBytes *
classic_document (VtsRoutes *self,
                  VtsJob    *job,
                  gint64     now)
{
  return vts_job_to_classic_json_bytes (job, now, !self->plain);
}

typedef GBytes *(*VtsDocumentFunc) (VtsRoutes *self,
                                   VtsJob    *job,
                                   gint64     now);

/* Whether If-None-Match (a list of entity tags, or "*") names @etag,
 * compared weakly (RFC 9110, 13.1.2): "W/" prefixes do not count. */
static gboolean
etag_listed (const char *if_none_match,
             const char *etag)
{
  g_auto(GStrv) tags = g_strsplit (if_none_match, ",", -1);
  const char *opaque = g_str_has_prefix (etag, "W/") ? etag + 2 : etag;

  for (guint i = 0; tags[i] != NULL; i++)
    {
      const char *tag = g_strstrip (tags[i]);

      if (g_str_has_prefix (tag, "W/"))
        tag += 2;
      if (g_str_equal (tag, "*") || g_str_equal (tag, opaque))
        return TRUE;
    }

  return FALSE;
}

/* A weak validator that changes only when the job's status does: a
 * pending job's progress moves, but a poll that sends it back learns
 * nothing new but the hints, which a 304 carries too. GET and HEAD
 * only, and none under --plain. */
static const char *
job_etag (VtsRoutes          *self,
          SoupServerMessage *msg,
          VtsJob             *job,
          gint64             now)
{
  static const char * const etags[VTS_JOB_N_STATES] = {
    [VTS_JOB_STATE_PENDING] = "W/\"pending\"",
    [VTS_JOB_STATE_COMPLETED] = "W/\"completed\"",
    [VTS_JOB_STATE_ERROR] = "W/\"error\"",
  };
  const char *method = soup_server_message_get_method (msg);

  if (self->plain || (method != SOUP_METHOD_GET && method != SOUP_METHOD_HEAD))
    return NULL;

  return etags[vts_job_get_state (job, now)];
}

static void
respond_job_as (VtsRoutes          *self,
                SoupServerMessage *msg,
                VtsJob             *job,
                VtsDocumentFunc     write)
{
  gint64 now = g_get_monotonic_time ();
  const char *etag = job_etag (self, msg, job, now);
  g_autoptr(GBytes) document = NULL;

  if (etag != NULL)
    {
      const char *if_none_match = soup_message_headers_get_list (soup_server_message_get_request_headers (msg),
                                                                 "If-None-Match");

      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "ETag", etag);
      if (if_none_match != NULL && etag_listed (if_none_match, etag))
        {
          soup_server_message_set_status (msg, SOUP_STATUS_NOT_MODIFIED, NULL);
          /* No body, but the 200's length (RFC 9110, 8.6: that or none):
           * libsoup 3.2's client takes a 304 without one for a body
           * read to the end of the connection and closes it, one
           * connection per 304. */
          document = write (self, job, now);
          soup_message_headers_set_content_length (soup_server_message_get_response_headers (msg),
                                                   g_bytes_get_size (document));
          add_retry_after (self, msg, job, now);
          add_eta (msg, job, now);
          /* What the answer revalidates said it (RFC 9110, 15.4.5: a
           * 304 sends only what updates the stored answer). */
          soup_message_headers_remove (soup_server_message_get_response_headers (msg),
                                       "Vt-Capabilities");
          return;
        }
    }

  document = write (self, job, now);
  vts_response_json_bytes (msg, SOUP_STATUS_OK, document);
  add_retry_after (self, msg, job, now);
}

static void
respond_job (SoupServerMessage *msg,
             VtsJob             *job,
             gpointer           user_data)
{
  respond_job_as (user_data, msg, job, job_document);
}

static void
respond_classic (SoupServerMessage *msg,
                 VtsJob             *job,
                 gpointer           user_data)
{
  respond_job_as (user_data, msg, job, classic_document);
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
               const VtsRequest   *request)
{
  const char *job_id = request->query != NULL ? g_hash_table_lookup (request->query, "job_id") : NULL;
  VtsJob *job = request->job;

  if (job == NULL && job_id != NULL && (job = find_job_or_respond (self, msg, job_id)) == NULL)
    return;
  if (job == NULL)
    job = vts_job_store_get_default (self->store);

  respond_or_hold (self, msg, job, request->query, respond_classic);
}

/* GET /jobs/{id} */
static void
handle_get_job (VtsRoutes          *self,
                SoupServerMessage *msg,
                const VtsRequest   *request)
{
  respond_or_hold (self, msg, request->job, request->query, respond_job);
}

/* GET /jobs/{id}/result: what a completed job produced. A simulator
 * translates nothing: a placeholder stands for the video. */
static void
handle_job_result (VtsRoutes          *self,
                   SoupServerMessage *msg,
                   const VtsRequest   *request)
{
  char *body;

  if (vts_job_get_state (request->job, g_get_monotonic_time ()) != VTS_JOB_STATE_COMPLETED)
    {
      vts_response_error (msg, SOUP_STATUS_NOT_FOUND, "not-found",
                         "Job %s has no result (yet)", vts_job_get_id (request->job));
      return;
    }

  body = g_strdup_printf ("vt-server placeholder for the translated video of job %s\n",
                          vts_job_get_id (request->job));
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "text/plain; charset=utf-8", SOUP_MEMORY_TAKE,
                                    body, strlen (body));
}

/* Request bodies */

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

/* The body of @msg as a JSON object: an empty body is an empty object.
 * Returns NULL after answering 413 or 400. */
static JsonNode *
read_json_object (SoupServerMessage *msg,
                  const char        *what)
{
  g_autoptr(GBytes) body = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;
  const char *data;
  gsize length;

  data = g_bytes_get_data (body, &length);
  if (length > VTS_ROUTES_MAX_BODY)
    {
      vts_response_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "payload-too-large",
                         "The body exceeds %d bytes", VTS_ROUTES_MAX_BODY);
      return NULL;
    }
  if (length == 0)
    {
      root = json_node_new (JSON_NODE_OBJECT);
      json_node_take_object (root, json_object_new ());
      return g_steal_pointer (&root);
    }

  if (!g_utf8_validate_len (data, length, NULL) || json_too_deep (data, length))
    {
      vts_response_error (msg, SOUP_STATUS_BAD_REQUEST, "bad-request",
                         "Invalid %s: the body is not valid UTF-8 JSON of reasonable depth", what);
      return NULL;
    }

  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, data, length, &error))
    {
      vts_response_error (msg, SOUP_STATUS_BAD_REQUEST, "bad-request",
                         "Invalid %s: %s", what, error->message);
      return NULL;
    }

  root = json_parser_steal_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      vts_response_error (msg, SOUP_STATUS_BAD_REQUEST, "bad-request",
                         "Invalid %s: the body must be a JSON object", what);
      return NULL;
    }

  return g_steal_pointer (&root);
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

/* A number member, left as it is when absent; FALSE when it is not a
 * number, or is outside [min, max]. */
static gboolean
get_optional_number (JsonObject *object,
                     const char *name,
                     double      min,
                     double      max,
                     double     *value)
{
  JsonNode *node = json_object_get_member (object, name);
  GType type;
  double number;

  if (node == NULL)
    return TRUE;

  type = JSON_NODE_HOLDS_VALUE (node) ? json_node_get_value_type (node) : G_TYPE_INVALID;
  if (type != G_TYPE_INT64 && type != G_TYPE_DOUBLE)
    return FALSE;

  number = json_node_get_double (node);
  if (!isfinite (number) || number < min || number > max)
    return FALSE;

  *value = number;
  return TRUE;
}

static gboolean
get_optional_duration (JsonObject  *object,
                       double      *duration,
                       GError     **error)
{
  if (!get_optional_number (object, "duration", 0, VTS_DURATION_MAX, duration))
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

/* POST /jobs */

/* 201 Created, and where: @prefix ("/jobs/") and @id. */
static void
set_created (SoupServerMessage *msg,
             const char        *prefix,
             const char        *id)
{
  g_autofree char *location = g_strconcat (prefix, id, NULL);

  soup_server_message_set_status (msg, SOUP_STATUS_CREATED, NULL);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "Location", location);
}

/* Fills @spec (and @message) from the body of a POST /jobs; the strings
 * they point to live in @object. */
static gboolean
parse_job_spec (JsonObject  *object,
                VtsJobSpec  *spec,
                const char **message,
                GError     **error)
{
  return get_optional_string (object, "source_url", &spec->source_url, error) &&
         get_optional_string (object, "target_language", &spec->target_language, error) &&
         get_optional_duration (object, &spec->duration, error) &&
         get_optional_outcome (object, &spec->outcome, error) &&
         get_optional_string (object, "message", message, error);
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
      respond_job (msg, job, self);
      set_created (msg, "/jobs/", vts_job_get_id (job));
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
                  const VtsRequest   *request)
{
  g_autoptr(JsonNode) root = read_json_object (msg, "job");
  g_autoptr(GError) error = NULL;
  VtsJobSpec spec = VTS_JOB_SPEC_INIT;
  const char *message = NULL;

  if (root == NULL)
    return;

  if (!parse_job_spec (json_node_get_object (root), &spec, &message, &error))
    {
      vts_response_error (msg, SOUP_STATUS_BAD_REQUEST, "bad-request",
                         "Invalid job: %s", error->message);
      return;
    }

  /* In memory, storing is instant. On a file, the writer thread commits
   * the job (with others: one commit for a storm) and it is answered
   * once stored. */
  spec.message = message;
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

static const char *
last_event_id (SoupServerMessage *msg)
{
  return soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                       "Last-Event-ID");
}

static void
start_stream (VtsRoutes          *self,
              SoupServerMessage *msg,
              GPtrArray         *jobs)
{
  VtsEventStream *stream;

  stream = vts_event_stream_new (msg, (VtsJob * const *) jobs->pdata, jobs->len,
                                &self->format, last_event_id (msg),
                                on_stream_done, self);
  /* An open stream has its connection taken from libsoup, which then
   * counts nothing: count it here. */
  if (stream != NULL)
    {
      g_hash_table_add (self->streams, stream);
      vts_metrics_count (self->metrics, msg);
    }
}

/* GET /jobs/{id}/events */
static void
handle_job_events (VtsRoutes          *self,
                   SoupServerMessage *msg,
                   const VtsRequest   *request)
{
  g_autoptr(GPtrArray) jobs = g_ptr_array_new ();

  g_ptr_array_add (jobs, request->job);
  start_stream (self, msg, jobs);
}

/* GET /events?job=A&job=B: libsoup's query table keeps one value per
 * name, so the repeated parameter is read from the raw query. */
static void
handle_events (VtsRoutes          *self,
               SoupServerMessage *msg,
               const VtsRequest   *request)
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

/* Feeds */

/* Seconds as an integer when they are one: "ttl": 60, not 60.0. */
static void
add_seconds_value (JsonBuilder *builder,
                   double       seconds)
{
  if (seconds == floor (seconds) && fabs (seconds) < 1e15)
    json_builder_add_int_value (builder, (gint64) seconds);
  else
    json_builder_add_double_value (builder, seconds);
}

/* POST /feeds */
static void
handle_post_feeds (VtsRoutes          *self,
                   SoupServerMessage *msg,
                   const VtsRequest   *request)
{
  g_autoptr(JsonNode) root = read_json_object (msg, "feed");
  g_autoptr(JsonBuilder) builder = NULL;
  g_autoptr(JsonNode) answer = NULL;
  double interval = VTS_FEED_PROGRESS_INTERVAL;
  VtsFeed *feed;

  if (root == NULL)
    return;

  if (!get_optional_number (json_node_get_object (root), "progress_interval",
                            0, VTS_FEED_MAX_PROGRESS_INTERVAL, &interval) ||
      (interval > 0 && interval < VTS_FEED_MIN_PROGRESS_INTERVAL))
    {
      vts_response_error (msg, SOUP_STATUS_BAD_REQUEST, "bad-request",
                         "progress_interval must be 0 or a number of seconds in [%g, %g]",
                         VTS_FEED_MIN_PROGRESS_INTERVAL, VTS_FEED_MAX_PROGRESS_INTERVAL);
      return;
    }

  feed = vts_feeds_create (self->feeds, interval);

  builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_string_value (builder, vts_feed_get_id (feed));
  json_builder_set_member_name (builder, "ttl");
  add_seconds_value (builder, vts_feeds_get_ttl (self->feeds));
  json_builder_set_member_name (builder, "progress_interval");
  add_seconds_value (builder, interval);
  json_builder_end_object (builder);
  answer = json_builder_get_root (builder);

  vts_response_json (msg, SOUP_STATUS_OK, answer);
  set_created (msg, "/feeds/", vts_feed_get_id (feed));
}

/* @name of @object: absent, or an array of strings (counted in @n_ids).
 * Returns FALSE for anything else. */
static gboolean
get_optional_id_list (JsonObject  *object,
                      const char  *name,
                      JsonArray  **ids,
                      guint       *n_ids)
{
  JsonNode *node = json_object_get_member (object, name);

  *ids = NULL;
  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return FALSE;

  *ids = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (*ids); i++)
    {
      JsonNode *id = json_array_get_element (*ids, i);

      if (!JSON_NODE_HOLDS_VALUE (id) || json_node_get_value_type (id) != G_TYPE_STRING)
        return FALSE;
    }

  *n_ids += json_array_get_length (*ids);
  return TRUE;
}

/* POST /feeds/{fid}/jobs: leaves first, then joins, so that leaving and
 * joining one id in one request follows it anew. */
static void
handle_feed_jobs (VtsRoutes          *self,
                  SoupServerMessage *msg,
                  const VtsRequest   *request)
{
  g_autoptr(JsonNode) root = read_json_object (msg, "membership");
  g_autoptr(JsonNode) answer = NULL;
  JsonArray *join, *leave;
  JsonArray *documents, *unknown, *gone;
  JsonObject *object;
  gint64 now = g_get_monotonic_time ();
  guint n_ids = 0;

  if (root == NULL)
    return;

  object = json_node_get_object (root);
  if (!get_optional_id_list (object, "join", &join, &n_ids) ||
      !get_optional_id_list (object, "leave", &leave, &n_ids) ||
      n_ids > VTS_ROUTES_MAX_FEED_IDS)
    {
      vts_response_error (msg, SOUP_STATUS_BAD_REQUEST, "bad-request",
                         "join and leave must be arrays of job ids, %d ids at most in all",
                         VTS_ROUTES_MAX_FEED_IDS);
      return;
    }

  for (guint i = 0; leave != NULL && i < json_array_get_length (leave); i++)
    vts_feed_leave (request->feed, json_array_get_string_element (leave, i));

  documents = json_array_new ();
  unknown = json_array_new ();
  gone = json_array_new ();
  for (guint i = 0; join != NULL && i < json_array_get_length (join); i++)
    {
      const char *id = json_array_get_string_element (join, i);
      VtsJob *job = NULL;

      switch (vts_job_store_find (self->store, id, &job))
        {
        case VTS_JOB_LOOKUP_FOUND:
          json_array_add_element (documents, vts_feed_join (request->feed, job, now));
          break;
        case VTS_JOB_LOOKUP_GONE:
          json_array_add_string_element (gone, id);
          break;
        case VTS_JOB_LOOKUP_FAILED:
          /* Not "unknown": the client would stop following it. */
          find_job_or_respond (self, msg, id);
          json_array_unref (documents);
          json_array_unref (unknown);
          json_array_unref (gone);
          return;
        case VTS_JOB_LOOKUP_UNKNOWN:
        default:
          json_array_add_string_element (unknown, id);
          break;
        }
    }

  answer = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (answer, json_object_new ());
  json_object_set_array_member (json_node_get_object (answer), "jobs", documents);
  json_object_set_array_member (json_node_get_object (answer), "unknown", unknown);
  json_object_set_array_member (json_node_get_object (answer), "gone", gone);
  vts_response_json (msg, SOUP_STATUS_OK, answer);
}

/* GET /feeds/{fid}/events */
static void
handle_feed_events (VtsRoutes          *self,
                    SoupServerMessage *msg,
                    const VtsRequest   *request)
{
  vts_feed_open_stream (request->feed, msg, last_event_id (msg));
  /* Its connection is taken from libsoup, which then counts nothing. */
  vts_metrics_count (self->metrics, msg);
}

/* GET /feeds/{fid}?after=N&wait=S */
static void
handle_get_feed (VtsRoutes          *self,
                 SoupServerMessage *msg,
                 const VtsRequest   *request)
{
  const char *after_text = request->query != NULL ? g_hash_table_lookup (request->query, "after") : NULL;
  guint64 after = 0;
  double wait = 0.0;

  if (after_text != NULL &&
      !g_ascii_string_to_unsigned (after_text, 10, 0, G_MAXUINT64, &after, NULL))
    {
      vts_response_error (msg, SOUP_STATUS_BAD_REQUEST, "bad-request",
                         "after must be an event sequence number");
      return;
    }
  if (!parse_wait (msg, request->query, &wait))
    return;

  vts_feed_long_poll (request->feed, msg, after, wait);
}

/* DELETE /feeds/{fid} */
static void
handle_delete_feed (VtsRoutes          *self,
                    SoupServerMessage *msg,
                    const VtsRequest   *request)
{
  vts_feeds_delete (self->feeds, request->feed);
  soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, NULL);
}

/* GET /capabilities */
static void
handle_capabilities (VtsRoutes          *self,
                     SoupServerMessage *msg,
                     const VtsRequest   *request)
{
  const char *features[] = { "hints", "long_poll", "events", "feeds", "conditional" };
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (builder);
  for (guint i = 0; i < G_N_ELEMENTS (features); i++)
    {
      json_builder_set_member_name (builder, features[i]);
      json_builder_add_boolean_value (builder,
                                      !self->no_feeds || strcmp (features[i], "feeds") != 0);
    }
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
                const VtsRequest   *request)
{
  const VtsFeedCounts *feeds = vts_feeds_get_counts (self->feeds);
  VtsMetricsGauges gauges = {
    .open_long_polls = g_hash_table_size (self->long_polls) + feeds->n_long_polls,
    .open_streams = g_hash_table_size (self->streams) + feeds->n_streams,
    .open_feeds = vts_feeds_get_n_feeds (self->feeds),
    .feed_jobs = feeds->n_jobs,
  };
  char *text = vts_metrics_render (self->metrics, self->store, &gauges);

  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "text/plain; version=0.0.4", SOUP_MEMORY_TAKE,
                                    text, strlen (text));
}

/* GET /health: answers whenever the main loop runs */
static void
handle_health (VtsRoutes          *self,
               SoupServerMessage *msg,
               const VtsRequest   *request)
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
  if (method == SOUP_METHOD_DELETE)
    return route->delete;

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
  VtsRequest request = { NULL, NULL, query };

  g_return_if_fail (VTS_IS_ROUTES (self));

  route = find_route (path, &id);
  if (route == NULL || (route->extension && self->plain) ||
      (self->no_feeds && g_str_has_prefix (route->pattern, "/feeds")))
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

  /* Any id that is not a job's (a feed's), well-formed or not, is a 404:
   * the answer does not tell a prober which ids could exist. */
  if (id != NULL && strstr (route->pattern, "{fid}") != NULL)
    {
      request.feed = vts_feeds_lookup (self->feeds, id);
      if (request.feed == NULL)
        {
          vts_response_error (msg, SOUP_STATUS_NOT_FOUND, "not-found", "No such feed");
          return;
        }
      vts_feed_touch (request.feed);
    }
  else if (id != NULL && (request.job = find_job_or_respond (self, msg, id)) == NULL)
    {
      return;
    }

  func (self, msg, &request);
}

/* Server-wide behaviour, before and around the handlers */

static void
on_request_started (SoupServer        *server,
                    SoupServerMessage *msg,
                    gpointer           user_data)
{
  VtsRoutes *self = user_data;

  /* A new message has no such header yet: no need to look for one. */
  if (!self->plain)
    soup_message_headers_append (soup_server_message_get_response_headers (msg),
                                 "Vt-Capabilities",
                                 self->no_feeds ? VTS_CAPABILITIES_NO_FEEDS : VTS_CAPABILITIES);
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

  SoupEncoding encoding = soup_message_headers_get_encoding (headers);

  if (encoding == SOUP_ENCODING_CONTENT_LENGTH &&
      soup_message_headers_get_content_length (headers) > VTS_ROUTES_MAX_BODY)
    refuse_body_too_large (msg);
  else if (encoding == SOUP_ENCODING_CHUNKED)
    /* Only then can it grow unannounced; a GET has no body at all, and
     * a signal handler per request is a good part of one. */
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
