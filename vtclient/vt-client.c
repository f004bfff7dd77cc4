/* vt-client.c: follow video translation jobs to the end
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <libsoup/soup.h>
#include <string.h>

#include "vt-channel-http-private.h"
#include "vt-duration-model-private.h"
#include "vt-client-private.h"
#include "vt-enum-types.h"
#include "vt-error.h"
#include "vt-job-response-private.h"

/**
 * VtClient:
 *
 * Follows video translation jobs on a server until they finish.
 *
 * A `VtClient` asks a vt-server (or any server speaking its protocol) for
 * the status of a job. The first request is made at once; while the job
 * is pending, the next one waits `initial-wait-time × backoff-factor^k`
 * seconds plus a random jitter, on GLib main-loop timeouts, until the job
 * completes, fails, or the client's budget (`max-attempts` requests or
 * `max-wait-time` seconds) runs out. The last request is made at the
 * deadline rather than giving up early.
 *
 * Every change of the observed status is announced with
 * [signal@Vt.Client::status-changed]; the final status comes back from
 * [method@Vt.Client.get_status_finish]:
 *
 * ```c
 * static void
 * on_done (GObject *source, GAsyncResult *result, gpointer user_data)
 * {
 *   g_autoptr(GError) error = NULL;
 *   VtStatus status = vt_client_get_status_finish (VT_CLIENT (source), result, &error);
 *
 *   if (error != NULL)
 *     g_printerr ("Could not follow the job: %s\n", error->message);
 *   else
 *     g_print ("Final status: %d\n", status);
 * }
 *
 * g_autoptr(VtClient) client = vt_client_new ("http://127.0.0.1:5000");
 * vt_client_get_status_async (client, NULL, NULL, on_done, NULL);
 * ```
 *
 * One client follows any number of jobs at once over one HTTP session.
 * Debug output is available with `G_MESSAGES_DEBUG=vtclient`.
 */

/* Defaults, the seed's. */
#define DEFAULT_MAX_ATTEMPTS      10
#define DEFAULT_MAX_WAIT_TIME     60.0
#define DEFAULT_INITIAL_WAIT_TIME 1.0
#define DEFAULT_BACKOFF_FACTOR    2.0
#define DEFAULT_JITTER            0.5
#define DEFAULT_REQUEST_TIMEOUT   30.0
#define DEFAULT_MIN_INTERVAL      0.05
#define DEFAULT_MAX_INTERVAL      30.0

/* Long-polls and streams hold a connection each; libsoup's default of 2
 * per host would queue every job behind two of them. */
#define MAX_CONNS 256

struct _VtClient
{
  GObject       parent_instance;

  char         *base_url;
  guint         max_attempts;
  double        max_wait_time;
  double        initial_wait_time;
  double        backoff_factor;
  double        jitter;
  double        request_timeout;
  double        start_jitter;
  double        min_interval;
  double        max_interval;
  VtStrategy    strategy;
  VtJitterMode  jitter_mode;
  char         *token;

  SoupSession  *session;

  /* Watches in flight, so dispose can end them, and what finished watches
   * taught us per base URL. The sync API runs watches on other threads'
   * contexts, hence the lock. */
  GMutex        lock;
  GPtrArray    *watches;
  GHashTable   *servers;   /* base URL → ServerKnowledge */
};

/* What the client learned about one server, and the plan it makes of it:
 * remade when the model changed, or when a watch's settings differ from
 * the last. */
typedef struct
{
  VtDurationModel    *model;
  guint               capabilities;
  gboolean            capabilities_known;

  VtScheduleConfig    plan_config;
  VtSchedulePlan      plan;
  guint64             plan_version;      /* the model's version it was made at */
  gboolean            planned;           /* plan_* are set */
  gboolean            plan_usable;
} ServerKnowledge;

static void
server_knowledge_free (ServerKnowledge *knowledge)
{
  vt_duration_model_free (knowledge->model);
  g_free (knowledge);
}

/* Called with the lock held. */
static ServerKnowledge *
lookup_server (VtClient   *self,
               const char *base_url)
{
  ServerKnowledge *knowledge = g_hash_table_lookup (self->servers, base_url);

  if (knowledge == NULL)
    {
      knowledge = g_new0 (ServerKnowledge, 1);
      knowledge->model = vt_duration_model_new ();
      g_hash_table_insert (self->servers, g_strdup (base_url), knowledge);
    }

  return knowledge;
}

enum {
  PROP_0,
  PROP_BASE_URL,
  PROP_MAX_ATTEMPTS,
  PROP_MAX_WAIT_TIME,
  PROP_INITIAL_WAIT_TIME,
  PROP_BACKOFF_FACTOR,
  PROP_JITTER,
  PROP_REQUEST_TIMEOUT,
  PROP_MIN_INTERVAL,
  PROP_MAX_INTERVAL,
  PROP_STRATEGY,
  PROP_JITTER_MODE,
  PROP_TOKEN,
  PROP_TLS_DATABASE,
  PROP_START_JITTER,
  N_PROPS
};

enum {
  STATUS_CHANGED,
  PROGRESS_CHANGED,
  N_SIGNALS
};

static GParamSpec *props[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (VtClient, vt_client, G_TYPE_OBJECT)

static void
vt_client_dispose (GObject *object)
{
  VtClient *self = VT_CLIENT (object);
  g_autoptr(GPtrArray) watches = NULL;

  /* Ending a watch removes it from the array: work on a copy. */
  g_mutex_lock (&self->lock);
  watches = g_ptr_array_copy (self->watches, NULL, NULL);
  g_mutex_unlock (&self->lock);

  for (guint i = 0; i < watches->len; i++)
    vt_watch_cancel (g_ptr_array_index (watches, i));

  if (self->session != NULL)
    soup_session_abort (self->session);
  g_clear_object (&self->session);

  G_OBJECT_CLASS (vt_client_parent_class)->dispose (object);
}

static void
vt_client_finalize (GObject *object)
{
  VtClient *self = VT_CLIENT (object);

  g_clear_pointer (&self->base_url, g_free);
  g_clear_pointer (&self->token, g_free);
  g_clear_pointer (&self->watches, g_ptr_array_unref);
  g_clear_pointer (&self->servers, g_hash_table_unref);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (vt_client_parent_class)->finalize (object);
}

static void
vt_client_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  VtClient *self = VT_CLIENT (object);

  switch (prop_id)
    {
    case PROP_BASE_URL:
      g_value_set_string (value, self->base_url);
      break;
    case PROP_MAX_ATTEMPTS:
      g_value_set_uint (value, self->max_attempts);
      break;
    case PROP_MAX_WAIT_TIME:
      g_value_set_double (value, self->max_wait_time);
      break;
    case PROP_INITIAL_WAIT_TIME:
      g_value_set_double (value, self->initial_wait_time);
      break;
    case PROP_BACKOFF_FACTOR:
      g_value_set_double (value, self->backoff_factor);
      break;
    case PROP_JITTER:
      g_value_set_double (value, self->jitter);
      break;
    case PROP_REQUEST_TIMEOUT:
      g_value_set_double (value, self->request_timeout);
      break;
    case PROP_MIN_INTERVAL:
      g_value_set_double (value, self->min_interval);
      break;
    case PROP_START_JITTER:
      g_value_set_double (value, self->start_jitter);
      break;
    case PROP_MAX_INTERVAL:
      g_value_set_double (value, self->max_interval);
      break;
    case PROP_STRATEGY:
      g_value_set_enum (value, self->strategy);
      break;
    case PROP_JITTER_MODE:
      g_value_set_enum (value, self->jitter_mode);
      break;
    case PROP_TOKEN:
      g_value_set_string (value, self->token);
      break;
    case PROP_TLS_DATABASE:
      g_value_set_object (value, soup_session_get_tls_database (self->session));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

/* Sets a double field and notifies only on a real change. */
static void
set_double (VtClient *self,
            double   *field,
            double    value,
            guint     prop_id)
{
  if (*field == value)
    return;

  *field = value;
  g_object_notify_by_pspec (G_OBJECT (self), props[prop_id]);
}

static void
vt_client_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  VtClient *self = VT_CLIENT (object);

  switch (prop_id)
    {
    case PROP_BASE_URL:
      vt_client_set_base_url (self, g_value_get_string (value));
      break;
    case PROP_MAX_ATTEMPTS:
      vt_client_set_max_attempts (self, g_value_get_uint (value));
      break;
    case PROP_MAX_WAIT_TIME:
      vt_client_set_max_wait_time (self, g_value_get_double (value));
      break;
    case PROP_INITIAL_WAIT_TIME:
      vt_client_set_initial_wait_time (self, g_value_get_double (value));
      break;
    case PROP_BACKOFF_FACTOR:
      vt_client_set_backoff_factor (self, g_value_get_double (value));
      break;
    case PROP_JITTER:
      vt_client_set_jitter (self, g_value_get_double (value));
      break;
    case PROP_REQUEST_TIMEOUT:
      set_double (self, &self->request_timeout, g_value_get_double (value), prop_id);
      break;
    case PROP_MIN_INTERVAL:
      set_double (self, &self->min_interval, g_value_get_double (value), prop_id);
      break;
    case PROP_START_JITTER:
      set_double (self, &self->start_jitter, g_value_get_double (value), prop_id);
      break;
    case PROP_MAX_INTERVAL:
      set_double (self, &self->max_interval, g_value_get_double (value), prop_id);
      break;
    case PROP_STRATEGY:
      vt_client_set_strategy (self, g_value_get_enum (value));
      break;
    case PROP_JITTER_MODE:
      if (self->jitter_mode != (VtJitterMode) g_value_get_enum (value))
        {
          self->jitter_mode = g_value_get_enum (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    case PROP_TOKEN:
      if (g_strcmp0 (self->token, g_value_get_string (value)) != 0)
        {
          g_free (self->token);
          self->token = g_value_dup_string (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    case PROP_TLS_DATABASE:
      /* libsoup wants its session configured from the thread that made it,
       * before the first request: hence construct-time or early use. */
      if (g_value_get_object (value) != soup_session_get_tls_database (self->session))
        {
          soup_session_set_tls_database (self->session, g_value_get_object (value));
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
vt_client_class_init (VtClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = vt_client_dispose;
  object_class->finalize = vt_client_finalize;
  object_class->get_property = vt_client_get_property;
  object_class->set_property = vt_client_set_property;

  /**
   * VtClient:base-url: (attributes org.gtk.Property.get=vt_client_get_base_url org.gtk.Property.set=vt_client_set_base_url)
   *
   * The server's base URL, such as `http://127.0.0.1:5000`.
   *
   * Job URLs are built by appending `/status` or `/jobs/{id}` to it. It is
   * checked when a request is made: an invalid URL fails the request with
   * %VT_CLIENT_ERROR_INVALID_URL.
   */
  props[PROP_BASE_URL] =
    g_param_spec_string ("base-url", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT |
                         G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * VtClient:max-attempts: (attributes org.gtk.Property.get=vt_client_get_max_attempts org.gtk.Property.set=vt_client_set_max_attempts)
   *
   * The most requests one status watch makes before it ends with
   * %VT_STATUS_TIMEOUT. Failed requests count too.
   */
  props[PROP_MAX_ATTEMPTS] =
    g_param_spec_uint ("max-attempts", NULL, NULL,
                       1, G_MAXUINT, DEFAULT_MAX_ATTEMPTS,
                       G_PARAM_READWRITE |
                       G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * VtClient:max-wait-time: (attributes org.gtk.Property.get=vt_client_get_max_wait_time org.gtk.Property.set=vt_client_set_max_wait_time)
   *
   * The time budget of one status watch, in seconds, from its first
   * request. The last request is made at this deadline; after it the watch
   * ends with %VT_STATUS_TIMEOUT.
   */
  props[PROP_MAX_WAIT_TIME] =
    g_param_spec_double ("max-wait-time", NULL, NULL,
                         0.0, G_MAXDOUBLE, DEFAULT_MAX_WAIT_TIME,
                         G_PARAM_READWRITE |
                         G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * VtClient:initial-wait-time: (attributes org.gtk.Property.get=vt_client_get_initial_wait_time org.gtk.Property.set=vt_client_set_initial_wait_time)
   *
   * The wait after the first "pending" answer, in seconds.
   */
  props[PROP_INITIAL_WAIT_TIME] =
    g_param_spec_double ("initial-wait-time", NULL, NULL,
                         0.0, G_MAXDOUBLE, DEFAULT_INITIAL_WAIT_TIME,
                         G_PARAM_READWRITE |
                         G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * VtClient:backoff-factor: (attributes org.gtk.Property.get=vt_client_get_backoff_factor org.gtk.Property.set=vt_client_set_backoff_factor)
   *
   * The factor each wait grows by: the k-th wait (from 0) is
   * `initial-wait-time × backoff-factor^k`, before jitter.
   */
  props[PROP_BACKOFF_FACTOR] =
    g_param_spec_double ("backoff-factor", NULL, NULL,
                         1.0, 1000.0, DEFAULT_BACKOFF_FACTOR,
                         G_PARAM_READWRITE |
                         G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * VtClient:jitter: (attributes org.gtk.Property.get=vt_client_get_jitter org.gtk.Property.set=vt_client_set_jitter)
   *
   * The largest random offset added to or taken from each wait, in seconds.
   * A wait never goes below zero.
   */
  props[PROP_JITTER] =
    g_param_spec_double ("jitter", NULL, NULL,
                         0.0, G_MAXDOUBLE, DEFAULT_JITTER,
                         G_PARAM_READWRITE |
                         G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * VtClient:request-timeout:
   *
   * The longest one HTTP request may take, in seconds, answer included. A
   * request that takes longer counts as a failed attempt and is retried,
   * so a server that hangs cannot stall a watch.
   */
  props[PROP_REQUEST_TIMEOUT] =
    g_param_spec_double ("request-timeout", NULL, NULL,
                         0.001, G_MAXDOUBLE, DEFAULT_REQUEST_TIMEOUT,
                         G_PARAM_READWRITE |
                         G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * VtClient:min-interval:
   *
   * The shortest wait between two polls a server hint (`Retry-After`, an
   * ETA) or the learned schedule may ask for, in seconds.
   */
  props[PROP_MIN_INTERVAL] =
    g_param_spec_double ("min-interval", NULL, NULL,
                         0.0, G_MAXDOUBLE, DEFAULT_MIN_INTERVAL,
                         G_PARAM_READWRITE |
                         G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * VtClient:max-interval:
   *
   * The longest wait between two polls a server hint or the learned
   * schedule may ask for, and the cap of the retry policy's waits, in
   * seconds. 0 means no cap.
   */
  props[PROP_MAX_INTERVAL] =
    g_param_spec_double ("max-interval", NULL, NULL,
                         0.0, G_MAXDOUBLE, DEFAULT_MAX_INTERVAL,
                         G_PARAM_READWRITE |
                         G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * VtClient:strategy: (attributes org.gtk.Property.get=vt_client_get_strategy org.gtk.Property.set=vt_client_set_strategy)
   *
   * How jobs are followed. [enum@Vt.Strategy.AUTO] uses the best channel
   * the server announces and falls back when a channel is refused.
   */
  props[PROP_STRATEGY] =
    g_param_spec_enum ("strategy", NULL, NULL,
                       VT_TYPE_STRATEGY, VT_STRATEGY_AUTO,
                       G_PARAM_READWRITE |
                       G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * VtClient:jitter-mode:
   *
   * How [property@Vt.Client:jitter] is applied to the backoff schedule.
   * The default, [enum@Vt.JitterMode.SYMMETRIC], is the seed's.
   */
  props[PROP_JITTER_MODE] =
    g_param_spec_enum ("jitter-mode", NULL, NULL,
                       VT_TYPE_JITTER_MODE, VT_JITTER_MODE_SYMMETRIC,
                       G_PARAM_READWRITE |
                       G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * VtClient:token:
   *
   * A bearer token sent as `Authorization: Bearer …` with every request,
   * or %NULL. It never appears in debug output.
   */
  props[PROP_TOKEN] =
    g_param_spec_string ("token", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE |
                         G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * VtClient:start-jitter:
   *
   * Spreads the first request of each watch uniformly over this many
   * seconds. 0, the default, asks at once; a fleet of clients that start
   * together (after a server restart, say) can set it so their first
   * requests do not all arrive in the same instant. The time budget runs
   * from the first request.
   */
  props[PROP_START_JITTER] =
    g_param_spec_double ("start-jitter", NULL, NULL,
                         0.0, G_MAXDOUBLE, 0.0,
                         G_PARAM_READWRITE |
                         G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * VtClient:tls-database:
   *
   * The certificate database https servers are checked against, for
   * servers whose certificates a private CA signed; %NULL (the default)
   * means the system's. Set it when creating the client, from the thread
   * that uses it, before the first request.
   */
  props[PROP_TLS_DATABASE] =
    g_param_spec_object ("tls-database", NULL, NULL,
                         G_TYPE_TLS_DATABASE,
                         G_PARAM_READWRITE |
                         G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, props);

  /**
   * VtClient::progress-changed:
   * @client: the client
   * @job_id: (nullable): the job, or %NULL for the server's default job
   * @progress: the share of the job done, from 0 to 1, or -1 if unknown
   * @eta: the server's estimate of the seconds left, or -1 if unknown
   *
   * Emitted when a pending job's progress or ETA changes, for servers that
   * report them. Like [signal@Vt.Client::status-changed], never after the
   * watch's task has completed.
   */
  signals[PROGRESS_CHANGED] =
    g_signal_new ("progress-changed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  NULL,
                  G_TYPE_NONE,
                  3,
                  G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE,
                  G_TYPE_DOUBLE,
                  G_TYPE_DOUBLE);

  /**
   * VtClient::status-changed:
   * @client: the client
   * @job_id: (nullable): the job, or %NULL for the server's default job
   * @status: the newly observed status
   *
   * Emitted each time a watch observes a status different from the last it
   * observed, the first observation included, so a job followed to its end
   * emits [enum@Vt.Status.PENDING] (if it was seen pending) and then its
   * final status. It is always emitted before the watch's task completes
   * and never after. A timeout is not an observed status and is reported
   * only by [method@Vt.Client.get_status_finish].
   */
  signals[STATUS_CHANGED] =
    g_signal_new ("status-changed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  NULL,
                  G_TYPE_NONE,
                  2,
                  G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE,
                  VT_TYPE_STATUS);
}

static void
vt_client_init (VtClient *self)
{
  self->max_attempts = DEFAULT_MAX_ATTEMPTS;
  self->max_wait_time = DEFAULT_MAX_WAIT_TIME;
  self->initial_wait_time = DEFAULT_INITIAL_WAIT_TIME;
  self->backoff_factor = DEFAULT_BACKOFF_FACTOR;
  self->jitter = DEFAULT_JITTER;
  self->request_timeout = DEFAULT_REQUEST_TIMEOUT;

  self->session = soup_session_new_with_options ("max-conns", MAX_CONNS,
                                                 "max-conns-per-host", MAX_CONNS,
                                                 "user-agent", "vtclient/" PACKAGE_VERSION " ",
                                                 NULL);
  self->min_interval = DEFAULT_MIN_INTERVAL;
  self->max_interval = DEFAULT_MAX_INTERVAL;
  self->strategy = VT_STRATEGY_AUTO;
  self->jitter_mode = VT_JITTER_MODE_SYMMETRIC;

  g_mutex_init (&self->lock);
  self->watches = g_ptr_array_new ();
  self->servers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                         (GDestroyNotify) server_knowledge_free);
}

/**
 * vt_client_new:
 * @base_url: (nullable): the server's base URL, such as `http://127.0.0.1:5000`
 *
 * Creates a client with the default settings.
 *
 * Returns: (transfer full): a new #VtClient
 */
VtClient *
vt_client_new (const char *base_url)
{
  return g_object_new (VT_TYPE_CLIENT, "base-url", base_url, NULL);
}

/**
 * vt_client_get_base_url:
 * @self: a #VtClient
 *
 * Gets the server's base URL.
 *
 * Returns: (nullable): the base URL
 */
const char *
vt_client_get_base_url (VtClient *self)
{
  g_return_val_if_fail (VT_IS_CLIENT (self), NULL);

  return self->base_url;
}

/**
 * vt_client_set_base_url:
 * @self: a #VtClient
 * @base_url: (nullable): the server's base URL
 *
 * Sets the server's base URL. Watches already running keep the URL they
 * started with.
 */
void
vt_client_set_base_url (VtClient   *self,
                        const char *base_url)
{
  g_return_if_fail (VT_IS_CLIENT (self));

  if (g_strcmp0 (self->base_url, base_url) == 0)
    return;

  g_free (self->base_url);
  self->base_url = g_strdup (base_url);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_BASE_URL]);
}

/**
 * vt_client_get_max_attempts:
 * @self: a #VtClient
 *
 * Gets the most requests one watch makes.
 *
 * Returns: the maximum number of requests
 */
guint
vt_client_get_max_attempts (VtClient *self)
{
  g_return_val_if_fail (VT_IS_CLIENT (self), 0);

  return self->max_attempts;
}

/**
 * vt_client_set_max_attempts:
 * @self: a #VtClient
 * @max_attempts: the most requests one watch makes, at least 1
 *
 * Sets the most requests one watch makes.
 */
void
vt_client_set_max_attempts (VtClient *self,
                            guint     max_attempts)
{
  g_return_if_fail (VT_IS_CLIENT (self));
  g_return_if_fail (max_attempts >= 1);

  if (self->max_attempts == max_attempts)
    return;

  self->max_attempts = max_attempts;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_MAX_ATTEMPTS]);
}

/**
 * vt_client_get_max_wait_time:
 * @self: a #VtClient
 *
 * Gets the time budget of one watch.
 *
 * Returns: the budget in seconds
 */
double
vt_client_get_max_wait_time (VtClient *self)
{
  g_return_val_if_fail (VT_IS_CLIENT (self), 0.0);

  return self->max_wait_time;
}

/**
 * vt_client_set_max_wait_time:
 * @self: a #VtClient
 * @seconds: the budget in seconds, at least 0
 *
 * Sets the time budget of one watch.
 */
void
vt_client_set_max_wait_time (VtClient *self,
                             double    seconds)
{
  g_return_if_fail (VT_IS_CLIENT (self));
  g_return_if_fail (seconds >= 0.0);

  set_double (self, &self->max_wait_time, seconds, PROP_MAX_WAIT_TIME);
}

/**
 * vt_client_get_initial_wait_time:
 * @self: a #VtClient
 *
 * Gets the wait after the first "pending" answer.
 *
 * Returns: the wait in seconds
 */
double
vt_client_get_initial_wait_time (VtClient *self)
{
  g_return_val_if_fail (VT_IS_CLIENT (self), 0.0);

  return self->initial_wait_time;
}

/**
 * vt_client_set_initial_wait_time:
 * @self: a #VtClient
 * @seconds: the wait in seconds, at least 0
 *
 * Sets the wait after the first "pending" answer.
 */
void
vt_client_set_initial_wait_time (VtClient *self,
                                 double    seconds)
{
  g_return_if_fail (VT_IS_CLIENT (self));
  g_return_if_fail (seconds >= 0.0);

  set_double (self, &self->initial_wait_time, seconds, PROP_INITIAL_WAIT_TIME);
}

/**
 * vt_client_get_backoff_factor:
 * @self: a #VtClient
 *
 * Gets the factor each wait grows by.
 *
 * Returns: the backoff factor
 */
double
vt_client_get_backoff_factor (VtClient *self)
{
  g_return_val_if_fail (VT_IS_CLIENT (self), 0.0);

  return self->backoff_factor;
}

/**
 * vt_client_set_backoff_factor:
 * @self: a #VtClient
 * @factor: the factor, at least 1
 *
 * Sets the factor each wait grows by.
 */
void
vt_client_set_backoff_factor (VtClient *self,
                              double    factor)
{
  g_return_if_fail (VT_IS_CLIENT (self));
  g_return_if_fail (factor >= 1.0);

  set_double (self, &self->backoff_factor, factor, PROP_BACKOFF_FACTOR);
}

/**
 * vt_client_get_jitter:
 * @self: a #VtClient
 *
 * Gets the largest random offset applied to each wait.
 *
 * Returns: the jitter in seconds
 */
double
vt_client_get_jitter (VtClient *self)
{
  g_return_val_if_fail (VT_IS_CLIENT (self), 0.0);

  return self->jitter;
}

/**
 * vt_client_set_jitter:
 * @self: a #VtClient
 * @seconds: the jitter in seconds, at least 0
 *
 * Sets the largest random offset applied to each wait.
 */
void
vt_client_set_jitter (VtClient *self,
                      double    seconds)
{
  g_return_if_fail (VT_IS_CLIENT (self));
  g_return_if_fail (seconds >= 0.0);

  set_double (self, &self->jitter, seconds, PROP_JITTER);
}

/* ------------------------------------------------------------------ */
/* Watches                                                             */

void
vt_client_emit_status_changed (VtClient   *self,
                               const char *job_id,
                               VtStatus    status)
{
  g_signal_emit (self, signals[STATUS_CHANGED], 0, job_id, status);
}

void
vt_client_emit_progress_changed (VtClient   *self,
                                 const char *job_id,
                                 double      progress,
                                 double      eta)
{
  g_signal_emit (self, signals[PROGRESS_CHANGED], 0, job_id, progress, eta);
}

/* A watch ended: file what the server offers, and that the job ended
 * between @ended_after and @ended_by seconds into the watch (negative
 * when the watch could not tell). */
void
vt_client_learn (VtClient   *self,
                 const char *base_url,
                 guint       capabilities,
                 double      ended_after,
                 double      ended_by)
{
  ServerKnowledge *knowledge;

  g_mutex_lock (&self->lock);
  knowledge = lookup_server (self, base_url);
  knowledge->capabilities = capabilities;
  knowledge->capabilities_known = TRUE;
  if (ended_after >= 0)
    vt_duration_model_add_interval (knowledge->model, ended_after, ended_by);
  g_mutex_unlock (&self->lock);
}

static void
log_plan (const char            *base_url,
          const ServerKnowledge *knowledge)
{
  g_autoptr(GString) polls = NULL;

  if (!knowledge->plan_usable)
    {
      g_debug ("%s: no learned plan (%u samples)", base_url,
               vt_duration_model_size (knowledge->model));
      return;
    }

  polls = g_string_new (NULL);
  for (guint i = 0; i < knowledge->plan.n_polls; i++)
    g_string_append_printf (polls, " %.3f", knowledge->plan.polls[i]);
  g_debug ("%s: learned plan from %u samples, step %.3f s, polls at%s", base_url,
           vt_duration_model_size (knowledge->model), knowledge->plan.step, polls->str);
}

/* Where a watch with @config should poll @base_url's jobs, by what was
 * learned of them so far: %FALSE when too little is. Asked once per
 * watch, at its first "pending": what one job teaches serves the watches
 * that start after it ends. */
gboolean
vt_client_get_plan (VtClient               *self,
                    const char             *base_url,
                    const VtScheduleConfig *config,
                    VtSchedulePlan         *plan)
{
  ServerKnowledge *knowledge;
  VtDurationEstimate estimate;
  guint64 version;
  gboolean usable;

  g_mutex_lock (&self->lock);
  knowledge = lookup_server (self, base_url);
  version = vt_duration_model_version (knowledge->model);

  if (!knowledge->planned || knowledge->plan_version != version ||
      !vt_schedule_config_equal (&knowledge->plan_config, config))
    {
      knowledge->plan_usable = vt_duration_model_estimate (knowledge->model, &estimate) &&
                               vt_schedule_plan_build (config, &estimate, &knowledge->plan);
      knowledge->plan_config = *config;
      knowledge->plan_version = version;
      knowledge->planned = TRUE;
      log_plan (base_url, knowledge);
    }

  usable = knowledge->plan_usable;
  if (usable)
    *plan = knowledge->plan;
  g_mutex_unlock (&self->lock);

  return usable;
}

void
vt_client_watch_finished (VtClient *self,
                          VtWatch  *watch)
{
  g_mutex_lock (&self->lock);
  g_ptr_array_remove_fast (self->watches, watch);
  g_mutex_unlock (&self->lock);
}

/* Checks the base URL and appends @path (already escaped) to it. */
static GUri *
vt_client_build_uri (VtClient    *self,
                     const char  *path,
                     GError     **error)
{
  g_autoptr(GUri) base = NULL;
  g_autofree char *url = NULL;
  const char *scheme;
  gsize len;

  if (self->base_url == NULL || *self->base_url == '\0')
    {
      g_set_error_literal (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_INVALID_URL,
                           "No base URL is set");
      return NULL;
    }

  base = g_uri_parse (self->base_url, G_URI_FLAGS_ENCODED, NULL);
  scheme = base ? g_uri_get_scheme (base) : NULL;
  if (base == NULL ||
      (g_strcmp0 (scheme, "http") != 0 && g_strcmp0 (scheme, "https") != 0) ||
      g_uri_get_host (base) == NULL || *g_uri_get_host (base) == '\0' ||
      g_uri_get_query (base) != NULL || g_uri_get_fragment (base) != NULL)
    {
      g_set_error (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_INVALID_URL,
                   "“%s” is not an http or https base URL", self->base_url);
      return NULL;
    }

  len = strlen (self->base_url);
  while (len > 0 && self->base_url[len - 1] == '/')
    len--;
  url = g_strdup_printf ("%.*s%s", (int) len, self->base_url, path);

  return g_uri_parse (url, G_URI_FLAGS_ENCODED, error);
}

static GUri *
vt_client_build_status_uri (VtClient    *self,
                            const char  *job_id,
                            GError     **error)
{
  g_autofree char *escaped = NULL;
  g_autofree char *path = NULL;

  if (job_id == NULL)
    return vt_client_build_uri (self, "/status", error);

  if (*job_id == '\0')
    {
      g_set_error_literal (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_INVALID_ARGUMENT,
                           "The job id is empty");
      return NULL;
    }

  escaped = g_uri_escape_string (job_id, NULL, FALSE);
  path = g_strconcat ("/jobs/", escaped, NULL);

  return vt_client_build_uri (self, path, error);
}

/* Called with the lock held. */
static void
vt_client_snapshot_options (VtClient       *self,
                            VtWatchOptions *options)
{
  ServerKnowledge *knowledge = lookup_server (self, self->base_url);

  *options = (VtWatchOptions) {
    .schedule = {
      .initial_wait = self->initial_wait_time,
      .backoff_factor = self->backoff_factor,
      .jitter = self->jitter,
      .jitter_mode = self->jitter_mode,
      .max_attempts = self->max_attempts,
      .max_wait_time = self->max_wait_time,
      .min_interval = self->min_interval,
      .max_interval = self->max_interval,
    },
    .strategy = self->strategy,
    .request_timeout = self->request_timeout,
    .start_jitter = self->start_jitter,
    .token = g_strdup (self->token),
    .base_url = g_strdup (self->base_url),
    .capabilities = knowledge->capabilities,
    .capabilities_known = knowledge->capabilities_known,
  };
}

static GUri *
vt_client_build_events_uri (VtClient   *self,
                            const char *job_id)
{
  g_autofree char *escaped = NULL;
  g_autofree char *path = NULL;

  if (job_id == NULL)
    return NULL;

  escaped = g_uri_escape_string (job_id, NULL, FALSE);
  path = g_strconcat ("/jobs/", escaped, "/events", NULL);

  return vt_client_build_uri (self, path, NULL);
}

/**
 * vt_client_get_status_async:
 * @self: a #VtClient
 * @job_id: (nullable): the job to follow, or %NULL for the server's default
 *   job (`GET /status`)
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the job has a final status
 * @user_data: data for @callback
 *
 * Follows a job until it completes or fails, or until the client's budget
 * runs out.
 *
 * The first request is made at once. While the job is pending, the client
 * waits on its backoff schedule between requests and emits
 * [signal@Vt.Client::status-changed] on every change. Network failures and
 * 5xx answers in between are retried.
 *
 * Call [method@Vt.Client.get_status_finish] from @callback for the result.
 */
void
vt_client_get_status_async (VtClient            *self,
                            const char          *job_id,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GUri) uri = NULL;
  g_autoptr(GUri) events_uri = NULL;
  g_auto(VtWatchOptions) options = { 0 };
  GError *error = NULL;
  VtWatch *watch;

  g_return_if_fail (VT_IS_CLIENT (self));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, vt_client_get_status_async);
  g_task_set_name (task, "vt_client_get_status_async");

  uri = vt_client_build_status_uri (self, job_id, &error);
  if (uri == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  events_uri = vt_client_build_events_uri (self, job_id);

  /* The first request goes out asynchronously: the watch cannot finish
   * (and remove itself) before it is in the array. */
  g_mutex_lock (&self->lock);
  vt_client_snapshot_options (self, &options);
  watch = vt_watch_start (self, self->session, &options, uri, events_uri, job_id, task);
  g_ptr_array_add (self->watches, watch);
  g_mutex_unlock (&self->lock);
}

/**
 * vt_client_get_status_finish:
 * @self: a #VtClient
 * @result: the #GAsyncResult passed to the callback
 * @error: return location for a #GError
 *
 * Gets the final status of a job followed with
 * [method@Vt.Client.get_status_async].
 *
 * A job that completed, failed, or outlived the client's budget is not an
 * error: the status says which. @error is set when the job could not be
 * followed: %G_IO_ERROR_CANCELLED, or a %VT_CLIENT_ERROR such as
 * %VT_CLIENT_ERROR_NOT_FOUND for an unknown job,
 * %VT_CLIENT_ERROR_PROTOCOL for answers that are not the expected JSON,
 * %VT_CLIENT_ERROR_UNREACHABLE when the last requests all failed.
 *
 * Returns: %VT_STATUS_COMPLETED, %VT_STATUS_ERROR or %VT_STATUS_TIMEOUT;
 *   %VT_STATUS_TIMEOUT as well when @error is set
 */
VtStatus
vt_client_get_status_finish (VtClient      *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  g_autoptr(GError) local_error = NULL;
  gssize status;

  g_return_val_if_fail (VT_IS_CLIENT (self), VT_STATUS_TIMEOUT);
  g_return_val_if_fail (g_task_is_valid (result, self), VT_STATUS_TIMEOUT);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        vt_client_get_status_async, VT_STATUS_TIMEOUT);

  status = g_task_propagate_int (G_TASK (result), &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return VT_STATUS_TIMEOUT;
    }

  return (VtStatus) status;
}

static void
on_sync_done (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

/**
 * vt_client_get_status:
 * @self: a #VtClient
 * @job_id: (nullable): the job to follow, or %NULL for the server's default job
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Follows a job like [method@Vt.Client.get_status_async], blocking until
 * it has a final status.
 *
 * The waiting happens on a private main context, so this works from a
 * program with no main loop and from a worker thread. Signal handlers of
 * [signal@Vt.Client::status-changed] run in the calling thread.
 *
 * Returns: the final status, as [method@Vt.Client.get_status_finish]
 */
VtStatus
vt_client_get_status (VtClient      *self,
                      const char    *job_id,
                      GCancellable  *cancellable,
                      GError       **error)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(GAsyncResult) result = NULL;
  VtStatus status;

  g_return_val_if_fail (VT_IS_CLIENT (self), VT_STATUS_TIMEOUT);
  g_return_val_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable), VT_STATUS_TIMEOUT);

  g_main_context_push_thread_default (context);

  vt_client_get_status_async (self, job_id, cancellable, on_sync_done, &result);
  while (result == NULL)
    g_main_context_iteration (context, TRUE);

  status = vt_client_get_status_finish (self, result, error);

  /* Let closes and cleanups queued on this context run before it goes. */
  while (g_main_context_pending (context))
    g_main_context_iteration (context, FALSE);

  g_main_context_pop_thread_default (context);

  return status;
}

/* ------------------------------------------------------------------ */
/* Submitting jobs                                                     */

static void
on_job_submitted (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SoupMessage *message = g_task_get_task_data (task);
  g_autoptr(GBytes) body = NULL;
  GError *error = NULL;
  const char *data;
  gsize size;
  guint status;
  char *id;

  body = vt_channel_http_send_finish (SOUP_SESSION (object), result, &error);
  if (body == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  status = soup_message_get_status (message);
  if (!SOUP_STATUS_IS_SUCCESSFUL (status))
    {
      g_task_return_new_error (task, VT_CLIENT_ERROR,
                               status == SOUP_STATUS_UNAUTHORIZED ||
                               status == SOUP_STATUS_FORBIDDEN ?
                               VT_CLIENT_ERROR_UNAUTHORIZED : VT_CLIENT_ERROR_HTTP,
                               "The server refused the job: HTTP %u %s", status,
                               soup_message_get_reason_phrase (message));
      return;
    }

  data = g_bytes_get_data (body, &size);
  id = vt_job_response_parse_id (data, size, &error);
  if (id == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, id, g_free);
}

/**
 * vt_client_submit_job_async:
 * @self: a #VtClient
 * @source_url: the URL of the video to translate
 * @target_language: the language to translate it to, such as `"fr"`
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the server has answered
 * @user_data: data for @callback
 *
 * Creates a job on the server (`POST /jobs`). Follow it by passing the id
 * from [method@Vt.Client.submit_job_finish] to
 * [method@Vt.Client.get_status_async].
 */
void
vt_client_submit_job_async (VtClient            *self,
                            const char          *source_url,
                            const char          *target_language,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GUri) uri = NULL;
  g_autoptr(SoupMessage) message = NULL;
  g_autoptr(GBytes) body = NULL;
  GError *error = NULL;

  g_return_if_fail (VT_IS_CLIENT (self));
  g_return_if_fail (source_url != NULL);
  g_return_if_fail (target_language != NULL);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, vt_client_submit_job_async);
  g_task_set_name (task, "vt_client_submit_job_async");

  uri = vt_client_build_uri (self, "/jobs", &error);
  if (uri == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  message = vt_channel_http_new_message (SOUP_METHOD_POST, uri, self->token);
  body = vt_job_request_build (source_url, target_language);
  soup_message_set_request_body_from_bytes (message, "application/json", body);
  g_task_set_task_data (task, g_object_ref (message), g_object_unref);

  vt_channel_http_send_async (self->session, message, self->request_timeout,
                              cancellable, on_job_submitted,
                              g_steal_pointer (&task));
}

/**
 * vt_client_submit_job_finish:
 * @self: a #VtClient
 * @result: the #GAsyncResult passed to the callback
 * @error: return location for a #GError
 *
 * Gets the id of a job created with [method@Vt.Client.submit_job_async].
 *
 * Returns: (transfer full): the new job's id, or %NULL with @error set
 */
char *
vt_client_submit_job_finish (VtClient      *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (VT_IS_CLIENT (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        vt_client_submit_job_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * vt_client_get_strategy:
 * @self: a #VtClient
 *
 * Gets how jobs are followed.
 *
 * Returns: the strategy
 */
VtStrategy
vt_client_get_strategy (VtClient *self)
{
  g_return_val_if_fail (VT_IS_CLIENT (self), VT_STRATEGY_AUTO);

  return self->strategy;
}

/**
 * vt_client_set_strategy:
 * @self: a #VtClient
 * @strategy: the strategy
 *
 * Sets how jobs are followed. Watches already running keep theirs.
 */
void
vt_client_set_strategy (VtClient   *self,
                        VtStrategy  strategy)
{
  g_return_if_fail (VT_IS_CLIENT (self));
  g_return_if_fail (strategy <= VT_STRATEGY_STREAM);

  if (self->strategy == strategy)
    return;

  self->strategy = strategy;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_STRATEGY]);
}

/* ------------------------------------------------------------------ */
/* The learned model                                                   */

#define MODEL_FORMAT_VERSION 1

/**
 * vt_client_export_model:
 * @self: a #VtClient
 *
 * Exports what the client has learned of job durations, per base URL, as
 * JSON, so an application can keep it across runs and pass it to
 * [method@Vt.Client.import_model] next time.
 *
 * Durations are measured from the start of a watch to the moment the job
 * was seen to end, so they suit applications that start following a job
 * when they submit it.
 *
 * Returns: (transfer full): the model as a JSON document
 */
char *
vt_client_export_model (VtClient *self)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  GHashTableIter iter;
  gpointer key, value;

  g_return_val_if_fail (VT_IS_CLIENT (self), NULL);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, MODEL_FORMAT_VERSION);
  json_builder_set_member_name (builder, "servers");
  json_builder_begin_object (builder);

  g_mutex_lock (&self->lock);
  g_hash_table_iter_init (&iter, self->servers);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      ServerKnowledge *knowledge = value;
      g_autoptr(GArray) samples = vt_duration_model_dup_samples (knowledge->model);

      if (samples->len == 0)
        continue;

      json_builder_set_member_name (builder, key);
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
  g_mutex_unlock (&self->lock);

  json_builder_end_object (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);

  return json_generator_to_data (generator, NULL);
}

static gboolean
model_error (GError     **error,
             const char  *what)
{
  g_set_error (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_INVALID_ARGUMENT,
               "Not a vtclient model: %s", what);
  return FALSE;
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

/* Checks every server's durations before anything is imported. */
static gboolean
validate_model (JsonObject  *servers,
                GError     **error)
{
  g_autoptr(GList) names = json_object_get_members (servers);

  for (GList *l = names; l != NULL; l = l->next)
    {
      JsonNode *node = json_object_get_member (servers, l->data);
      JsonNode *durations;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        return model_error (error, "a server entry is not an object");

      durations = json_object_get_member (json_node_get_object (node), "durations");
      if (durations == NULL || !JSON_NODE_HOLDS_ARRAY (durations))
        return model_error (error, "a server has no \"durations\" array");

      for (guint i = 0; i < json_array_get_length (json_node_get_array (durations)); i++)
        {
          JsonNode *sample = json_array_get_element (json_node_get_array (durations), i);
          double low, high;

          if (!read_duration (sample, &low, &high))
            return model_error (error, "a duration is not a number of seconds "
                                "nor a [low, high] pair of them");
        }
    }

  return TRUE;
}

/**
 * vt_client_import_model:
 * @self: a #VtClient
 * @model: a model from [method@Vt.Client.export_model]
 * @error: return location for a #GError
 *
 * Adds the durations of an exported model to what the client has learned.
 * Nothing is imported when @model is not valid.
 *
 * Returns: %TRUE on success; %FALSE with %VT_CLIENT_ERROR_INVALID_ARGUMENT
 */
gboolean
vt_client_import_model (VtClient    *self,
                        const char  *model,
                        GError     **error)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(GList) names = NULL;
  JsonNode *root, *servers_node, *version;
  JsonObject *servers;

  g_return_val_if_fail (VT_IS_CLIENT (self), FALSE);
  g_return_val_if_fail (model != NULL, FALSE);

  if (!json_parser_load_from_data (parser, model, -1, NULL))
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
  if (!validate_model (servers, error))
    return FALSE;

  names = json_object_get_members (servers);
  g_mutex_lock (&self->lock);
  for (GList *l = names; l != NULL; l = l->next)
    {
      JsonObject *entry = json_object_get_object_member (servers, l->data);
      JsonArray *durations = json_object_get_array_member (entry, "durations");
      ServerKnowledge *knowledge = lookup_server (self, l->data);

      for (guint i = 0; i < json_array_get_length (durations); i++)
        {
          double low = 0, high = 0;

          read_duration (json_array_get_element (durations, i), &low, &high);
          vt_duration_model_add_interval (knowledge->model, low, high);
        }
    }
  g_mutex_unlock (&self->lock);

  return TRUE;
}
