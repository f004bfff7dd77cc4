/* vts-faults.c: injected failures around the handlers (--faults)
 *
 * Each request but /health and /metrics draws one number from the faults'
 * own GRand (so that a --seed makes the sequence reproducible without
 * shifting the jobs' draws) and gets at most one fault, chosen by the
 * rules' probabilities in the order they were given. A fault either
 * answers instead of the handler (status, retry-after, reset before the
 * response, hang, redirect, redirect-loop) or lets the handler answer and
 * spoils its response (reset mid-body, garbage, slow-body, huge,
 * no-status). The latter only touch a response the handler completed at
 * once: a held long-poll or an event stream goes through unspoiled.
 *
 * Kinds with two flavours alternate between them, rule by rule, so that a
 * client sees both.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vts-faults.h"

#include "vts-held-message.h"
#include "vts-response.h"

#include <json-glib/json-glib.h>
#include <string.h>

/* A redirect points at the same resource with this parameter, which
 * exempts the second request from faults: exactly one redirect. */
#define REDIRECTED_PARAM "vt-redirected"
/* A redirect loop counts its hops in this parameter; a request carrying
 * it is redirected again, always. */
#define LOOP_PARAM "vt-loop"

#define HUGE_BODY_SIZE (10 * 1024 * 1024)
#define SLOW_BODY_PIECES 5
#define SLOW_BODY_INTERVAL_MS 200

typedef enum {
  FAULT_STATUS,
  FAULT_RETRY_AFTER,
  FAULT_RESET,
  FAULT_HANG,
  FAULT_GARBAGE,
  FAULT_SLOW_BODY,
  FAULT_HUGE,
  FAULT_NO_STATUS,
  FAULT_REDIRECT,
  FAULT_REDIRECT_LOOP,
} FaultKind;

typedef struct
{
  const char *name;
  FaultKind   kind;
  guint       default_status;  /* 0: the kind takes no =CODE */
  guint       min_status;
  guint       max_status;
} FaultKindInfo;

static const FaultKindInfo fault_kinds[] = {
  { "status",        FAULT_STATUS,        503, 500, 599 },
  { "retry-after",   FAULT_RETRY_AFTER,   429, 400, 599 },
  { "reset",         FAULT_RESET,         0 },
  { "hang",          FAULT_HANG,          0 },
  { "garbage",       FAULT_GARBAGE,       0 },
  { "slow-body",     FAULT_SLOW_BODY,     0 },
  { "huge",          FAULT_HUGE,          0 },
  { "no-status",     FAULT_NO_STATUS,     0 },
  { "redirect",      FAULT_REDIRECT,      0 },
  { "redirect-loop", FAULT_REDIRECT_LOOP, 0 },
};

typedef struct
{
  FaultKind kind;
  guint     status;
  double    probability;
  guint     n_injected;  /* which flavour comes next */
} FaultRule;

struct _VtsFaults
{
  GObject     parent_instance;

  GRand      *rand;
  GArray     *rules;   /* FaultRule */
  double      total;   /* sum of the probabilities, at most 1 */
  GHashTable *tasks;   /* set of FaultTask: responses still being spoiled */
};

G_DEFINE_FINAL_TYPE (VtsFaults, vts_faults, G_TYPE_OBJECT)

/* A message a fault keeps past its handler: hung, dribbled or about to
 * be cut. */
typedef struct
{
  VtsFaults      *faults;
  VtsHeldMessage *held;
  GSource       *source;
  GBytes        *body;    /* slow-body: the whole body; reset: the raw bytes */
  gsize          offset;
} FaultTask;

static void
fault_task_free (FaultTask *task)
{
  if (task->source != NULL)
    {
      g_source_destroy (task->source);
      g_source_unref (task->source);
    }
  g_clear_pointer (&task->held, vts_held_message_free);
  g_clear_pointer (&task->body, g_bytes_unref);
  g_free (task);
}

static void
fault_task_on_gone (gpointer user_data)
{
  FaultTask *task = user_data;

  g_hash_table_remove (task->faults->tasks, task);
}

static FaultTask *
fault_task_new (VtsFaults          *self,
                SoupServerMessage *msg)
{
  FaultTask *task = g_new0 (FaultTask, 1);

  task->faults = self;
  task->held = vts_held_message_new (msg, fault_task_on_gone, task);
  g_hash_table_add (self->tasks, task);

  return task;
}

static void
fault_task_schedule (FaultTask   *task,
                     guint        interval_ms,
                     GSourceFunc  func)
{
  task->source = g_timeout_source_new (interval_ms);
  g_source_set_name (task->source, "[vt-server] fault");
  g_source_set_callback (task->source, func, task, NULL);
  g_source_attach (task->source, g_main_context_get_thread_default ());
}

static void
vts_faults_finalize (GObject *object)
{
  VtsFaults *self = VTS_FAULTS (object);

  g_hash_table_unref (self->tasks);
  g_array_unref (self->rules);
  g_rand_free (self->rand);

  G_OBJECT_CLASS (vts_faults_parent_class)->finalize (object);
}

static void
vts_faults_class_init (VtsFaultsClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = vts_faults_finalize;
}

static void
vts_faults_init (VtsFaults *self)
{
  self->rules = g_array_new (FALSE, FALSE, sizeof (FaultRule));
  self->tasks = g_hash_table_new_full (NULL, NULL, (GDestroyNotify) fault_task_free, NULL);
}

/*
 * vts_faults_new:
 * @rand: (transfer full): the source of every fault decision
 */
VtsFaults *
vts_faults_new (GRand *rand)
{
  VtsFaults *self = g_object_new (VTS_TYPE_FAULTS, NULL);

  self->rand = rand;
  return self;
}

static gboolean
parse_probability (const char  *text,
                   double      *probability)
{
  char *end = NULL;

  *probability = g_ascii_strtod (text, &end);
  return end != text && *end == '\0' && *probability >= 0.0 && *probability <= 1.0;
}

/*
 * vts_faults_add:
 * @spec: "KIND:P" or "KIND=CODE:P", e.g. "reset:0.1", "status=503:0.3"
 *
 * Adds a rule. The probabilities of all rules may sum to 1 at most.
 */
gboolean
vts_faults_add (VtsFaults    *self,
               const char  *spec,
               GError     **error)
{
  g_autofree char *name = NULL;
  const char *colon = strrchr (spec, ':');
  char *equals;
  const FaultKindInfo *info = NULL;
  FaultRule rule = { 0, };
  guint64 status = 0;

  g_return_val_if_fail (VTS_IS_FAULTS (self), FALSE);

  if (colon == NULL || !parse_probability (colon + 1, &rule.probability))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--faults “%s”: expected KIND:P or KIND=CODE:P, P in [0, 1]", spec);
      return FALSE;
    }

  name = g_strndup (spec, colon - spec);
  equals = strchr (name, '=');
  if (equals != NULL)
    *equals++ = '\0';
  for (guint i = 0; i < G_N_ELEMENTS (fault_kinds); i++)
    {
      if (strcmp (name, fault_kinds[i].name) == 0)
        info = &fault_kinds[i];
    }
  if (info == NULL)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--faults “%s”: unknown kind", spec);
      return FALSE;
    }

  status = info->default_status;
  if (equals != NULL &&
      (info->default_status == 0 ||
       !g_ascii_string_to_unsigned (equals, 10, info->min_status, info->max_status,
                                    &status, NULL)))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--faults “%s”: not a status code %s takes", spec, info->name);
      return FALSE;
    }

  if (self->total + rule.probability > 1.0 + 1e-9)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--faults: the probabilities add up to more than 1");
      return FALSE;
    }

  rule.kind = info->kind;
  rule.status = status;
  self->total += rule.probability;
  g_array_append_val (self->rules, rule);

  return TRUE;
}

/* Answering instead of the handler */

static void
inject_status (FaultRule         *rule,
               SoupServerMessage *msg)
{
  vts_response_error (msg, rule->status, "injected-fault",
                     "Injected failure (--faults status)");
  /* Half of them say when to come back, half leave the client to guess. */
  if (rule->n_injected % 2 == 0)
    soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                  "Retry-After", "1");
}

static void
inject_retry_after (FaultRule         *rule,
                    SoupServerMessage *msg)
{
  g_autofree char *value = NULL;

  vts_response_error (msg, rule->status, "injected-fault",
                     "Injected throttling (--faults retry-after)");

  /* Both forms RFC 9110 allows: delay-seconds, then an HTTP-date (two
   * seconds ahead: the date only has whole seconds). */
  if (rule->n_injected % 2 == 0)
    {
      value = g_strdup ("1");
    }
  else
    {
      g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
      g_autoptr(GDateTime) later = g_date_time_add_seconds (now, 2);

      value = soup_date_time_to_string (later, SOUP_DATE_HTTP);
    }
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "Retry-After", value);
}

/* The request's path and query with @name=@value in place of any
 * earlier @name. */
static char *
same_resource_with (SoupServerMessage *msg,
                    const char        *name,
                    const char        *value)
{
  GUri *uri = soup_server_message_get_uri (msg);
  const char *query = g_uri_get_query (uri);
  g_auto(GStrv) params = g_strsplit (query != NULL ? query : "", "&", -1);
  g_autofree char *prefix = g_strconcat (name, "=", NULL);
  GString *location = g_string_new (g_uri_get_path (uri));
  char separator = '?';

  for (guint i = 0; params[i] != NULL; i++)
    {
      if (*params[i] == '\0' || g_str_has_prefix (params[i], prefix))
        continue;
      g_string_append_printf (location, "%c%s", separator, params[i]);
      separator = '&';
    }
  g_string_append_printf (location, "%c%s%s", separator, prefix, value);

  return g_string_free (location, FALSE);
}

static void
redirect_to (SoupServerMessage *msg,
             const char        *location)
{
  /* 307: the method and body are kept, so a POST is redirected as one. */
  vts_response_error (msg, SOUP_STATUS_TEMPORARY_REDIRECT, "redirect",
                     "Moved for now (--faults redirect)");
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "Location", location);
}

static void
inject_redirect_loop (SoupServerMessage *msg,
                      GHashTable        *query)
{
  const char *hops = query != NULL ? g_hash_table_lookup (query, LOOP_PARAM) : NULL;
  guint64 n = 0;
  g_autofree char *next_hop = NULL;
  g_autofree char *location = NULL;

  if (hops != NULL)
    g_ascii_string_to_unsigned (hops, 10, 0, G_MAXUINT32 - 1, &n, NULL);
  next_hop = g_strdup_printf ("%" G_GUINT64_FORMAT, n + 1);
  location = same_resource_with (msg, LOOP_PARAM, next_hop);
  redirect_to (msg, location);
}

static gboolean
fault_task_hang_up (gpointer user_data);

/* Cuts the connection from an idle, once the handler has returned: never
 * from under libsoup while it is still reading the request. */
static void
reset_later (VtsFaults          *self,
             SoupServerMessage *msg,
             GBytes            *raw)
{
  FaultTask *task;

  soup_server_message_pause (msg);
  task = fault_task_new (self, msg);
  task->body = raw != NULL ? g_bytes_ref (raw) : NULL;
  fault_task_schedule (task, 0, fault_task_hang_up);
}

static void
on_partial_response_written (GObject      *source,
                             GAsyncResult *result,
                             gpointer      user_data)
{
  g_autoptr(GIOStream) stream = user_data;

  g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, NULL);
  g_io_stream_close_async (stream, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
}

static gboolean
fault_task_hang_up (gpointer user_data)
{
  FaultTask *task = user_data;
  g_autoptr(SoupServerMessage) msg = g_object_ref (vts_held_message_get_message (task->held));
  g_autoptr(GBytes) raw = task->body != NULL ? g_bytes_ref (task->body) : NULL;
  g_autoptr(GIOStream) stream = NULL;

  /* Done with the task before stealing, which would report the message
   * gone to it. */
  g_clear_pointer (&task->source, g_source_unref);
  g_hash_table_remove (task->faults->tasks, task);

  stream = soup_server_message_steal_connection (msg);
  if (stream == NULL)
    return G_SOURCE_REMOVE;

  if (raw != NULL)
    g_output_stream_write_all_async (g_io_stream_get_output_stream (stream),
                                     g_bytes_get_data (raw, NULL), g_bytes_get_size (raw),
                                     G_PRIORITY_DEFAULT, NULL,
                                     on_partial_response_written, g_object_ref (stream));
  else
    g_io_stream_close_async (stream, G_PRIORITY_DEFAULT, NULL, NULL, NULL);

  return G_SOURCE_REMOVE;
}

static void
inject_hang (VtsFaults          *self,
             SoupServerMessage *msg)
{
  /* Never answered: the task only goes when the client or the server
   * drops the connection. */
  soup_server_message_pause (msg);
  fault_task_new (self, msg);
}

/* Spoiling the handler's response */

/* The body of a response the handler completed at once, else NULL. */
static GBytes *
complete_response_body (SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);

  if (soup_server_message_get_status (msg) == 0 ||
      soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CHUNKED)
    return NULL;

  return soup_message_body_flatten (soup_server_message_get_response_body (msg));
}

static void
replace_body (SoupServerMessage *msg,
              const char        *content_type,
              SoupMemoryUse      use,
              const char        *data,
              gsize              length)
{
  soup_message_body_truncate (soup_server_message_get_response_body (msg));
  soup_server_message_set_response (msg, content_type, use, data, length);
}

static void
spoil_reset (VtsFaults          *self,
             SoupServerMessage *msg,
             GBytes            *body)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  guint status = soup_server_message_get_status (msg);
  const char *content_type = soup_message_headers_get_content_type (headers, NULL);
  gsize length = g_bytes_get_size (body);
  g_autoptr(GBytes) raw = NULL;
  GString *text;

  /* The head promises the whole body; half of it comes, then EOF. */
  text = g_string_new (NULL);
  g_string_append_printf (text, "HTTP/1.1 %u %s\r\nContent-Type: %s\r\n"
                          "Content-Length: %" G_GSIZE_FORMAT "\r\nConnection: close\r\n\r\n",
                          status, soup_status_get_phrase (status),
                          content_type != NULL ? content_type : "application/json", length);
  g_string_append_len (text, g_bytes_get_data (body, NULL), length / 2);
  raw = g_string_free_to_bytes (text);

  reset_later (self, msg, raw);
}

static void
spoil_garbage (FaultRule         *rule,
               SoupServerMessage *msg,
               GBytes            *body)
{
  static const char html[] = "<html><body><h1>502 Bad Gateway</h1></body></html>\n";

  if (rule->n_injected % 2 == 0)
    replace_body (msg, "application/json", SOUP_MEMORY_COPY,
                  g_bytes_get_data (body, NULL), g_bytes_get_size (body) / 2);
  else
    replace_body (msg, "text/html", SOUP_MEMORY_STATIC, html, strlen (html));
}

static void
spoil_no_status (FaultRule         *rule,
                 SoupServerMessage *msg,
                 GBytes            *body)
{
  g_autoptr(JsonNode) root = json_from_string (g_bytes_get_data (body, NULL), NULL);
  JsonObject *object;
  char *text;

  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return;

  object = json_node_get_object (root);
  if (rule->n_injected % 2 == 0)
    {
      json_object_remove_member (object, "result");
      json_object_remove_member (object, "status");
    }
  else
    {
      json_object_set_string_member (object, "result", "paused");
      json_object_set_string_member (object, "status", "paused");
    }

  text = json_to_string (root, FALSE);
  replace_body (msg, "application/json", SOUP_MEMORY_TAKE, text, strlen (text));
}

static void
spoil_huge (SoupServerMessage *msg,
            GBytes            *body)
{
  gsize length = g_bytes_get_size (body);
  char *data = g_malloc (length + HUGE_BODY_SIZE);

  /* Trailing whitespace: still the same valid JSON, only ten megabytes
   * of it, for a client to refuse or to cope with. */
  memcpy (data, g_bytes_get_data (body, NULL), length);
  memset (data + length, ' ', HUGE_BODY_SIZE);
  replace_body (msg, "application/json", SOUP_MEMORY_TAKE, data, length + HUGE_BODY_SIZE);
}

static gboolean
fault_task_dribble (gpointer user_data)
{
  FaultTask *task = user_data;
  SoupServerMessage *msg = vts_held_message_get_message (task->held);
  SoupMessageBody *response_body = soup_server_message_get_response_body (msg);
  gsize length = g_bytes_get_size (task->body);
  gsize piece_length = MIN ((length + SLOW_BODY_PIECES - 1) / SLOW_BODY_PIECES,
                             length - task->offset);
  g_autoptr(GBytes) piece = g_bytes_new_from_bytes (task->body, task->offset, piece_length);

  soup_message_body_append_bytes (response_body, piece);
  task->offset += piece_length;
  soup_server_message_unpause (msg);

  if (task->offset < length)
    return G_SOURCE_CONTINUE;

  soup_message_body_complete (response_body);
  g_clear_pointer (&task->source, g_source_unref);
  g_hash_table_remove (task->faults->tasks, task);
  return G_SOURCE_REMOVE;
}

static void
spoil_slow_body (VtsFaults          *self,
                 SoupServerMessage *msg,
                 GBytes            *body)
{
  FaultTask *task;

  if (g_bytes_get_size (body) == 0)
    return;

  /* The length is announced; the bytes come a fifth at a time. */
  soup_message_headers_set_content_length (soup_server_message_get_response_headers (msg),
                                           g_bytes_get_size (body));
  soup_message_body_truncate (soup_server_message_get_response_body (msg));
  task = fault_task_new (self, msg);
  task->body = g_bytes_ref (body);
  fault_task_schedule (task, SLOW_BODY_INTERVAL_MS, fault_task_dribble);
}

/* Lets the handler answer, then spoils what it answered. */
static void
inject_after (VtsFaults          *self,
              FaultRule         *rule,
              SoupServerMessage *msg)
{
  g_autoptr(GBytes) body = complete_response_body (msg);

  if (body == NULL)
    return;

  switch (rule->kind)
    {
    case FAULT_RESET:
      spoil_reset (self, msg, body);
      break;
    case FAULT_GARBAGE:
      spoil_garbage (rule, msg, body);
      break;
    case FAULT_NO_STATUS:
      spoil_no_status (rule, msg, body);
      break;
    case FAULT_HUGE:
      spoil_huge (msg, body);
      break;
    case FAULT_SLOW_BODY:
      spoil_slow_body (self, msg, body);
      break;
    default:
      g_assert_not_reached ();
    }
}

/* Answers instead of the handler; FALSE if the handler must run first. */
static gboolean
inject_before (VtsFaults          *self,
               FaultRule         *rule,
               SoupServerMessage *msg,
               GHashTable        *query)
{
  g_autofree char *location = NULL;

  switch (rule->kind)
    {
    case FAULT_STATUS:
      inject_status (rule, msg);
      return TRUE;
    case FAULT_RETRY_AFTER:
      inject_retry_after (rule, msg);
      return TRUE;
    case FAULT_RESET:
      /* Before any byte of the response, or (odd turns) mid-body. */
      if (rule->n_injected % 2 == 1)
        return FALSE;
      reset_later (self, msg, NULL);
      return TRUE;
    case FAULT_HANG:
      inject_hang (self, msg);
      return TRUE;
    case FAULT_REDIRECT:
      location = same_resource_with (msg, REDIRECTED_PARAM, "1");
      redirect_to (msg, location);
      return TRUE;
    case FAULT_REDIRECT_LOOP:
      inject_redirect_loop (msg, query);
      return TRUE;
    case FAULT_GARBAGE:
    case FAULT_SLOW_BODY:
    case FAULT_HUGE:
    case FAULT_NO_STATUS:
    default:
      return FALSE;
    }
}

static gboolean
is_exempt (const char *path,
           GHashTable *query)
{
  /* Health checks and scrapes must see the server as it is. */
  return g_strcmp0 (path, "/health") == 0 || g_strcmp0 (path, "/metrics") == 0 ||
         (query != NULL && g_hash_table_contains (query, REDIRECTED_PARAM));
}

static FaultRule *
draw_rule (VtsFaults *self)
{
  double roll = g_rand_double (self->rand);

  for (guint i = 0; i < self->rules->len; i++)
    {
      FaultRule *rule = &g_array_index (self->rules, FaultRule, i);

      if (roll < rule->probability)
        return rule;
      roll -= rule->probability;
    }

  return NULL;
}

/*
 * vts_faults_handle:
 * @next: answers the request for real
 *
 * Answers @msg through @next, unless a fault is drawn for it.
 */
void
vts_faults_handle (VtsFaults          *self,
                  SoupServerMessage *msg,
                  const char        *path,
                  GHashTable        *query,
                  VtsFaultsNextFunc   next,
                  gpointer           next_data)
{
  FaultRule *rule = NULL;
  gboolean answered;

  g_return_if_fail (VTS_IS_FAULTS (self));

  if (query != NULL && g_hash_table_contains (query, LOOP_PARAM))
    {
      inject_redirect_loop (msg, query);
      return;
    }

  if (self->rules->len > 0 && !is_exempt (path, query))
    rule = draw_rule (self);

  if (rule == NULL)
    {
      next (msg, path, query, next_data);
      return;
    }

  answered = inject_before (self, rule, msg, query);
  if (!answered)
    {
      next (msg, path, query, next_data);
      inject_after (self, rule, msg);
    }
  rule->n_injected++;
}
