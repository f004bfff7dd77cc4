/* vt-client.c: follow video translation jobs to the end
 *
 * The GObject surface (properties, signals), the public API and the HTTP
 * session. What is known of each server lives in a VtServerInfo; the
 * jobs of one server in one main context run on a VtHub, which the
 * client keeps per (context, base URL) and hands each job to.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <libsoup/soup.h>
#include <string.h>

#include "vt-channel-http-private.h"
#include "vt-client.h"
#include "vt-enum-types.h"
#include "vt-error.h"
#include "vt-hub-private.h"
#include "vt-state-file-private.h"
#include "vt-job-list-private.h"
#include "vt-job-private.h"
#include "vt-job-response-private.h"
#include "vt-model-file-private.h"
#include "vt-protocol-private.h"
#include "vt-server-info-private.h"

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
 * `max-wait-time` seconds) runs out. Once the attempts left could cover
 * the time left at the current wait, the time left is shared evenly among
 * them instead, the last request on the deadline: no attempt is left
 * unused while the deadline is still ahead.
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
 * One client follows any number of jobs at once. Jobs on one server
 * share a few connections: at most 8 quick requests are in flight at a
 * time, and on servers that offer feeds every job of the client is
 * followed over one event stream or long-poll, whatever their number.
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

/* What a feed is asked to send for pending jobs: progress at least this
 * often (docs/protocol.md). */
#define FEED_PROGRESS_INTERVAL    2.0

/* Extrapolated progress updates a second, by default. */
#define DEFAULT_PROGRESS_RATE     5.0

/* How much longer polling waits are in power-saver mode, by default. */
#define DEFAULT_POWER_SAVER_FACTOR 2.0

/* The hubs' bounded queues decide how many requests are in flight; this
 * only has to leave room for them and the held ones. */
#define MAX_CONNS (VT_HUB_MAX_REQUESTS + VT_HUB_MAX_HELD + 8)

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
  double        progress_rate;
  double        power_saver_factor;

  /* The desktop's word on the network and on power saving; the hubs
   * are told in their own contexts. */
  GNetworkMonitor      *network_monitor;
  gulong                network_changed_id;
  GPowerProfileMonitor *power_monitor;
  gulong                power_saver_id;

  SoupSession  *session;

  /* What is known per base URL, and the hubs that run jobs, per main
   * context and base URL. The sync API runs jobs on other threads'
   * contexts, hence the lock. */
  GMutex        lock;
  GHashTable   *servers;   /* base URL → VtServerInfo */
  GHashTable   *hubs;      /* "context base URL" → VtHub */
  GHashTable   *jobs;      /* "context base URL id" → VtJob, while followed */
  VtJobList    *job_list;  /* those of the default main context */
  gboolean      disposed;
};

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
  PROP_PROGRESS_RATE,
  PROP_NETWORK_MONITOR,
  PROP_POWER_PROFILE_MONITOR,
  PROP_POWER_SAVER_FACTOR,
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

/* ------------------------------------------------------------------ */
/* Servers and hubs                                                    */

/* Called with the lock held. */
static VtServerInfo *
lookup_server (VtClient   *self,
               const char *base_url)
{
  VtServerInfo *info = g_hash_table_lookup (self->servers, base_url);

  if (info == NULL)
    {
      info = vt_server_info_new (base_url);
      g_hash_table_insert (self->servers, g_strdup (base_url), info);
    }

  return info;
}

static char *
hub_key (GMainContext *context,
         const char   *base_url)
{
  return g_strdup_printf ("%p %s", (gpointer) context, base_url);
}

/* A hub of a context other than the global default one (the sync API's
 * private contexts, a worker thread's) goes when its last job does:
 * nothing would run its sources once the context is let go. */
static void
on_hub_idle (VtHub    *hub,
             gpointer  user_data)
{
  VtClient *self = user_data;
  GHashTableIter iter;
  gpointer value;
  gboolean found = FALSE;

  g_mutex_lock (&self->lock);
  g_hash_table_iter_init (&iter, self->hubs);
  while (!found && g_hash_table_iter_next (&iter, NULL, &value))
    if (value == hub)
      {
        vt_hub_ref (hub);
        g_hash_table_iter_remove (&iter);
        found = TRUE;
      }
  g_mutex_unlock (&self->lock);

  /* The job that just ended still holds the hub. */
  if (found)
    {
      vt_hub_set_idle_func (hub, NULL, NULL);
      vt_hub_close (hub);
      vt_hub_unref (hub);
    }
}

/* Set while a sync call starts its job: its hub, on a context of its
 * own, will run that one job only. */
static GPrivate in_sync_call;

/* Called with the lock held. */
static double
current_poll_stretch (VtClient *self)
{
  if (self->power_monitor != NULL &&
      g_power_profile_monitor_get_power_saver_enabled (self->power_monitor))
    return self->power_saver_factor;

  return 1.0;
}

/* The hub for the thread-default context and @base_url. */
static VtHub *
get_hub_for (VtClient   *self,
             const char *base_url)
{
  g_autoptr(GMainContext) context = g_main_context_ref_thread_default ();
  g_autofree char *key = hub_key (context, base_url);
  g_autoptr(GNetworkMonitor) monitor = NULL;
  VtHub *hub;
  double stretch;

  g_mutex_lock (&self->lock);
  hub = g_hash_table_lookup (self->hubs, key);
  if (hub != NULL)
    {
      g_mutex_unlock (&self->lock);
      return hub;
    }

  hub = vt_hub_new (lookup_server (self, base_url), self->session, context,
                    g_private_get (&in_sync_call) == NULL);
  if (context != g_main_context_default ())
    vt_hub_set_idle_func (hub, on_hub_idle, self);
  g_hash_table_insert (self->hubs, g_steal_pointer (&key), hub);
  monitor = self->network_monitor ? g_object_ref (self->network_monitor) : NULL;
  stretch = current_poll_stretch (self);
  g_mutex_unlock (&self->lock);

  /* This is the hub's context: it is told here, before its first job. */
  vt_hub_set_poll_stretch (hub, stretch);
  vt_hub_set_network_monitor (hub, monitor);

  return hub;
}

/* The hub for the thread-default context and the current base URL. */
static VtHub *
get_hub (VtClient *self)
{
  return get_hub_for (self, self->base_url);
}

/* Telling every hub something, in its own context (a hub is used from
 * its context only). */
typedef enum
{
  HUB_SET_NETWORK_MONITOR,
  HUB_CHECK_REACHABILITY,
  HUB_SET_POLL_STRETCH,
} HubNewsKind;

typedef struct
{
  VtHub           *hub;
  HubNewsKind      kind;
  GNetworkMonitor *monitor;
  double           stretch;
} HubNews;

static void
hub_news_free (gpointer data)
{
  HubNews *news = data;

  vt_hub_unref (news->hub);
  g_clear_object (&news->monitor);
  g_free (news);
}

static gboolean
deliver_hub_news (gpointer data)
{
  HubNews *news = data;

  switch (news->kind)
    {
    case HUB_SET_NETWORK_MONITOR:
      vt_hub_set_network_monitor (news->hub, news->monitor);
      break;
    case HUB_CHECK_REACHABILITY:
      vt_hub_check_reachability (news->hub);
      break;
    case HUB_SET_POLL_STRETCH:
      vt_hub_set_poll_stretch (news->hub, news->stretch);
      break;
    }

  return G_SOURCE_REMOVE;
}

/* Called with the lock held; delivered later, or at once when the
 * hub's context is the caller's own. */
static void
tell_hubs_locked (VtClient    *self,
                  HubNewsKind  kind)
{
  g_autoptr(GPtrArray) all = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->hubs);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      HubNews *news = g_new0 (HubNews, 1);

      news->hub = vt_hub_ref (value);
      news->kind = kind;
      news->monitor = self->network_monitor ? g_object_ref (self->network_monitor) : NULL;
      news->stretch = current_poll_stretch (self);
      g_ptr_array_add (all, news);
    }

  /* Not delivered with the lock held: a hub of this context is told at
   * once, and telling it may end jobs, whose handlers use the client. */
  g_mutex_unlock (&self->lock);
  for (guint i = 0; i < all->len; i++)
    {
      HubNews *news = g_ptr_array_index (all, i);

      g_main_context_invoke_full (vt_hub_get_context (news->hub), G_PRIORITY_DEFAULT,
                                  deliver_hub_news, news, hub_news_free);
    }
  g_mutex_lock (&self->lock);
}

static void
tell_hubs (VtClient    *self,
           HubNewsKind  kind)
{
  g_mutex_lock (&self->lock);
  tell_hubs_locked (self, kind);
  g_mutex_unlock (&self->lock);
}

static void
on_network_changed (GNetworkMonitor *monitor,
                    gboolean         available,
                    gpointer         user_data)
{
  tell_hubs (VT_CLIENT (user_data), HUB_CHECK_REACHABILITY);
}

static void
on_power_saver_changed (GPowerProfileMonitor *monitor,
                        GParamSpec           *pspec,
                        gpointer              user_data)
{
  tell_hubs (VT_CLIENT (user_data), HUB_SET_POLL_STRETCH);
}

/* ------------------------------------------------------------------ */
/* GObject                                                             */

static void
vt_client_dispose (GObject *object)
{
  VtClient *self = VT_CLIENT (object);
  g_autoptr(GPtrArray) hubs = g_ptr_array_new_with_free_func ((GDestroyNotify) vt_hub_unref);
  g_autoptr(GPtrArray) jobs = g_ptr_array_new_with_free_func (g_object_unref);
  GHashTableIter iter;
  gpointer value;

  if (self->network_monitor != NULL)
    g_clear_signal_handler (&self->network_changed_id, self->network_monitor);
  if (self->power_monitor != NULL)
    g_clear_signal_handler (&self->power_saver_id, self->power_monitor);

  /* Closing a hub ends its jobs, whose callbacks may use the client:
   * not with the lock held, and the jobs no longer tell the client. */
  g_mutex_lock (&self->lock);
  self->disposed = TRUE;
  g_hash_table_iter_init (&iter, self->jobs);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      vt_job_detach (value);
      g_ptr_array_add (jobs, g_object_ref (value));
    }
  g_hash_table_remove_all (self->jobs);
  g_hash_table_iter_init (&iter, self->hubs);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      vt_hub_set_idle_func (value, NULL, NULL);
      g_ptr_array_add (hubs, vt_hub_ref (value));
    }
  g_hash_table_remove_all (self->hubs);
  g_mutex_unlock (&self->lock);

  for (guint i = 0; i < jobs->len; i++)
    vt_job_list_remove (self->job_list, g_ptr_array_index (jobs, i));
  for (guint i = 0; i < hubs->len; i++)
    vt_hub_close (g_ptr_array_index (hubs, i));

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
  g_clear_object (&self->network_monitor);
  g_clear_object (&self->power_monitor);
  g_clear_pointer (&self->hubs, g_hash_table_unref);
  g_clear_pointer (&self->servers, g_hash_table_unref);
  g_clear_pointer (&self->jobs, g_hash_table_unref);
  g_clear_object (&self->job_list);
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
      g_value_set_object (value, vt_client_get_tls_database (self));
      break;
    case PROP_PROGRESS_RATE:
      g_value_set_double (value, self->progress_rate);
      break;
    case PROP_NETWORK_MONITOR:
      g_value_set_object (value, self->network_monitor);
      break;
    case PROP_POWER_PROFILE_MONITOR:
      g_value_set_object (value, self->power_monitor);
      break;
    case PROP_POWER_SAVER_FACTOR:
      g_value_set_double (value, self->power_saver_factor);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
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
      vt_client_set_request_timeout (self, g_value_get_double (value));
      break;
    case PROP_MIN_INTERVAL:
      vt_client_set_min_interval (self, g_value_get_double (value));
      break;
    case PROP_START_JITTER:
      vt_client_set_start_jitter (self, g_value_get_double (value));
      break;
    case PROP_MAX_INTERVAL:
      vt_client_set_max_interval (self, g_value_get_double (value));
      break;
    case PROP_STRATEGY:
      vt_client_set_strategy (self, g_value_get_enum (value));
      break;
    case PROP_JITTER_MODE:
      vt_client_set_jitter_mode (self, g_value_get_enum (value));
      break;
    case PROP_TOKEN:
      vt_client_set_token (self, g_value_get_string (value));
      break;
    case PROP_TLS_DATABASE:
      vt_client_set_tls_database (self, g_value_get_object (value));
      break;
    case PROP_PROGRESS_RATE:
      vt_client_set_progress_rate (self, g_value_get_double (value));
      break;
    case PROP_NETWORK_MONITOR:
      vt_client_set_network_monitor (self, g_value_get_object (value));
      break;
    case PROP_POWER_PROFILE_MONITOR:
      vt_client_set_power_profile_monitor (self, g_value_get_object (value));
      break;
    case PROP_POWER_SAVER_FACTOR:
      vt_client_set_power_saver_factor (self, g_value_get_double (value));
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
   * VtClient:request-timeout: (attributes org.gtk.Property.get=vt_client_get_request_timeout org.gtk.Property.set=vt_client_set_request_timeout)
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
   * VtClient:min-interval: (attributes org.gtk.Property.get=vt_client_get_min_interval org.gtk.Property.set=vt_client_set_min_interval)
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
   * VtClient:max-interval: (attributes org.gtk.Property.get=vt_client_get_max_interval org.gtk.Property.set=vt_client_set_max_interval)
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
   * VtClient:jitter-mode: (attributes org.gtk.Property.get=vt_client_get_jitter_mode org.gtk.Property.set=vt_client_set_jitter_mode)
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
   * VtClient:token: (attributes org.gtk.Property.get=vt_client_get_token org.gtk.Property.set=vt_client_set_token)
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
   * VtClient:start-jitter: (attributes org.gtk.Property.get=vt_client_get_start_jitter org.gtk.Property.set=vt_client_set_start_jitter)
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
   * VtClient:tls-database: (attributes org.gtk.Property.get=vt_client_get_tls_database org.gtk.Property.set=vt_client_set_tls_database)
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

  /**
   * VtClient:progress-rate: (attributes org.gtk.Property.get=vt_client_get_progress_rate org.gtk.Property.set=vt_client_set_progress_rate)
   *
   * How many times a second a pending job's [property@Vt.Job:progress] and
   * [property@Vt.Job:eta] are extrapolated between the server's answers,
   * for jobs whose progress someone watches (a binding, a notify handler,
   * a handler of [signal@Vt.Client::progress-changed]). 0 turns it off:
   * they then change only with the server's answers. Jobs already
   * followed keep their rate.
   */
  props[PROP_PROGRESS_RATE] =
    g_param_spec_double ("progress-rate", NULL, NULL,
                         0.0, 1000.0, DEFAULT_PROGRESS_RATE,
                         G_PARAM_READWRITE |
                         G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * VtClient:network-monitor: (attributes org.gtk.Property.get=vt_client_get_network_monitor org.gtk.Property.set=vt_client_set_network_monitor)
   *
   * Who tells the client whether its servers can be reached: by default
   * the system's, [func@Gio.NetworkMonitor.get_default]. While it says a
   * server cannot be reached (no default route and no route to the
   * server's host: a server on this machine or the local network still
   * can), jobs on that server send nothing and spend no attempt; their
   * [property@Vt.Client:max-wait-time] keeps running, as it is the
   * caller's deadline. When the route comes back, every waiting job asks
   * within a second, spread over [property@Vt.Client:start-jitter].
   * %NULL turns this off: servers are always taken as reachable.
   */
  props[PROP_NETWORK_MONITOR] =
    g_param_spec_object ("network-monitor", NULL, NULL,
                         G_TYPE_NETWORK_MONITOR,
                         G_PARAM_READWRITE |
                         G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * VtClient:power-profile-monitor: (attributes org.gtk.Property.get=vt_client_get_power_profile_monitor org.gtk.Property.set=vt_client_set_power_profile_monitor)
   *
   * Who tells the client whether the system saves power: by default the
   * system's, [func@Gio.PowerProfileMonitor.dup_default]. In power-saver
   * mode, the waits between polls are [property@Vt.Client:power-saver-factor]
   * times longer (the last poll still comes at the deadline); pushed
   * channels, which cost nothing while they wait, are unchanged. %NULL
   * turns this off.
   */
  props[PROP_POWER_PROFILE_MONITOR] =
    g_param_spec_object ("power-profile-monitor", NULL, NULL,
                         G_TYPE_POWER_PROFILE_MONITOR,
                         G_PARAM_READWRITE |
                         G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * VtClient:power-saver-factor: (attributes org.gtk.Property.get=vt_client_get_power_saver_factor org.gtk.Property.set=vt_client_set_power_saver_factor)
   *
   * How many times longer the waits between polls are while
   * [property@Vt.Client:power-profile-monitor] reports power-saver mode.
   * 1 leaves them unchanged.
   */
  props[PROP_POWER_SAVER_FACTOR] =
    g_param_spec_double ("power-saver-factor", NULL, NULL,
                         1.0, 100.0, DEFAULT_POWER_SAVER_FACTOR,
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
  self->min_interval = DEFAULT_MIN_INTERVAL;
  self->max_interval = DEFAULT_MAX_INTERVAL;
  self->strategy = VT_STRATEGY_AUTO;
  self->jitter_mode = VT_JITTER_MODE_SYMMETRIC;
  self->progress_rate = DEFAULT_PROGRESS_RATE;
  self->power_saver_factor = DEFAULT_POWER_SAVER_FACTOR;

  self->session = soup_session_new_with_options ("max-conns", MAX_CONNS,
                                                 "max-conns-per-host", MAX_CONNS,
                                                 "user-agent", "vtclient/" PACKAGE_VERSION " ",
                                                 NULL);

  g_mutex_init (&self->lock);
  self->servers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                         (GDestroyNotify) vt_server_info_unref);
  self->hubs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                      (GDestroyNotify) vt_hub_unref);
  self->jobs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->job_list = vt_job_list_new ();

  /* The desktop's monitors, unless the caller hands in others. */
  vt_client_set_network_monitor (self, g_network_monitor_get_default ());
  {
    g_autoptr(GPowerProfileMonitor) power = g_power_profile_monitor_dup_default ();

    vt_client_set_power_profile_monitor (self, power);
  }
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

/* ------------------------------------------------------------------ */
/* Properties                                                          */

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

/* Sets a string field and notifies only on a real change. */
static void
set_string (VtClient    *self,
            char       **field,
            const char  *value,
            guint        prop_id)
{
  if (g_strcmp0 (*field, value) == 0)
    return;

  g_free (*field);
  *field = g_strdup (value);
  g_object_notify_by_pspec (G_OBJECT (self), props[prop_id]);
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

  set_string (self, &self->base_url, base_url, PROP_BASE_URL);
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

/**
 * vt_client_get_request_timeout:
 * @self: a #VtClient
 *
 * Gets the longest one HTTP request may take.
 *
 * Returns: the timeout in seconds
 */
double
vt_client_get_request_timeout (VtClient *self)
{
  g_return_val_if_fail (VT_IS_CLIENT (self), 0.0);

  return self->request_timeout;
}

/**
 * vt_client_set_request_timeout:
 * @self: a #VtClient
 * @seconds: the timeout in seconds, more than 0
 *
 * Sets the longest one HTTP request may take.
 */
void
vt_client_set_request_timeout (VtClient *self,
                               double    seconds)
{
  g_return_if_fail (VT_IS_CLIENT (self));
  g_return_if_fail (seconds > 0.0);

  set_double (self, &self->request_timeout, seconds, PROP_REQUEST_TIMEOUT);
}

/**
 * vt_client_get_min_interval:
 * @self: a #VtClient
 *
 * Gets the shortest wait a server hint or the learned schedule may ask
 * for.
 *
 * Returns: the wait in seconds
 */
double
vt_client_get_min_interval (VtClient *self)
{
  g_return_val_if_fail (VT_IS_CLIENT (self), 0.0);

  return self->min_interval;
}

/**
 * vt_client_set_min_interval:
 * @self: a #VtClient
 * @seconds: the wait in seconds, at least 0
 *
 * Sets the shortest wait a server hint or the learned schedule may ask
 * for.
 */
void
vt_client_set_min_interval (VtClient *self,
                            double    seconds)
{
  g_return_if_fail (VT_IS_CLIENT (self));
  g_return_if_fail (seconds >= 0.0);

  set_double (self, &self->min_interval, seconds, PROP_MIN_INTERVAL);
}

/**
 * vt_client_get_max_interval:
 * @self: a #VtClient
 *
 * Gets the longest wait a server hint or the learned schedule may ask
 * for.
 *
 * Returns: the wait in seconds, 0 for no cap
 */
double
vt_client_get_max_interval (VtClient *self)
{
  g_return_val_if_fail (VT_IS_CLIENT (self), 0.0);

  return self->max_interval;
}

/**
 * vt_client_set_max_interval:
 * @self: a #VtClient
 * @seconds: the wait in seconds, 0 for no cap
 *
 * Sets the longest wait a server hint or the learned schedule may ask
 * for, and the cap of the retry policy's waits.
 */
void
vt_client_set_max_interval (VtClient *self,
                            double    seconds)
{
  g_return_if_fail (VT_IS_CLIENT (self));
  g_return_if_fail (seconds >= 0.0);

  set_double (self, &self->max_interval, seconds, PROP_MAX_INTERVAL);
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

/**
 * vt_client_get_jitter_mode:
 * @self: a #VtClient
 *
 * Gets how the jitter is applied to the backoff schedule.
 *
 * Returns: the jitter mode
 */
VtJitterMode
vt_client_get_jitter_mode (VtClient *self)
{
  g_return_val_if_fail (VT_IS_CLIENT (self), VT_JITTER_MODE_SYMMETRIC);

  return self->jitter_mode;
}

/**
 * vt_client_set_jitter_mode:
 * @self: a #VtClient
 * @mode: the jitter mode
 *
 * Sets how the jitter is applied to the backoff schedule.
 */
void
vt_client_set_jitter_mode (VtClient     *self,
                           VtJitterMode  mode)
{
  g_return_if_fail (VT_IS_CLIENT (self));
  g_return_if_fail (mode <= VT_JITTER_MODE_FULL);

  if (self->jitter_mode == mode)
    return;

  self->jitter_mode = mode;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_JITTER_MODE]);
}

/**
 * vt_client_get_token:
 * @self: a #VtClient
 *
 * Gets the bearer token sent with every request.
 *
 * Returns: (nullable): the token
 */
const char *
vt_client_get_token (VtClient *self)
{
  g_return_val_if_fail (VT_IS_CLIENT (self), NULL);

  return self->token;
}

/**
 * vt_client_set_token:
 * @self: a #VtClient
 * @token: (nullable): a bearer token, or %NULL for none
 *
 * Sets the bearer token sent with every request. Watches already running
 * keep theirs.
 */
void
vt_client_set_token (VtClient   *self,
                     const char *token)
{
  g_return_if_fail (VT_IS_CLIENT (self));

  set_string (self, &self->token, token, PROP_TOKEN);
}

/**
 * vt_client_get_start_jitter:
 * @self: a #VtClient
 *
 * Gets the span over which each watch's first request is spread.
 *
 * Returns: the span in seconds
 */
double
vt_client_get_start_jitter (VtClient *self)
{
  g_return_val_if_fail (VT_IS_CLIENT (self), 0.0);

  return self->start_jitter;
}

/**
 * vt_client_set_start_jitter:
 * @self: a #VtClient
 * @seconds: the span in seconds, 0 to ask at once
 *
 * Sets the span over which each watch's first request is spread.
 */
void
vt_client_set_start_jitter (VtClient *self,
                            double    seconds)
{
  g_return_if_fail (VT_IS_CLIENT (self));
  g_return_if_fail (seconds >= 0.0);

  set_double (self, &self->start_jitter, seconds, PROP_START_JITTER);
}

/**
 * vt_client_get_tls_database:
 * @self: a #VtClient
 *
 * Gets the certificate database https servers are checked against.
 *
 * Returns: (nullable) (transfer none): the database, %NULL for the system's
 */
GTlsDatabase *
vt_client_get_tls_database (VtClient *self)
{
  g_return_val_if_fail (VT_IS_CLIENT (self), NULL);

  return self->session != NULL ? soup_session_get_tls_database (self->session) : NULL;
}

/**
 * vt_client_set_tls_database:
 * @self: a #VtClient
 * @database: (nullable): a certificate database, %NULL for the system's
 *
 * Sets the certificate database https servers are checked against. Set
 * it when creating the client, from the thread that uses it, before the
 * first request.
 */
void
vt_client_set_tls_database (VtClient     *self,
                            GTlsDatabase *database)
{
  g_return_if_fail (VT_IS_CLIENT (self));
  g_return_if_fail (database == NULL || G_IS_TLS_DATABASE (database));

  /* libsoup wants its session configured from the thread that made it,
   * before the first request. */
  if (database == soup_session_get_tls_database (self->session))
    return;

  soup_session_set_tls_database (self->session, database);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_TLS_DATABASE]);
}

/* ------------------------------------------------------------------ */
/* Following a job                                                     */

/* Called with the lock held. */
static void
snapshot_options (VtClient       *self,
                  VtWatchOptions *options)
{
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
    .progress_interval = FEED_PROGRESS_INTERVAL,
    .token = g_strdup (self->token),
  };
}

/* ------------------------------------------------------------------ */
/* Jobs                                                                */

static void snapshot_options (VtClient       *self,
                              VtWatchOptions *options);

static void
on_job_status_changed (VtJob    *job,
                       VtStatus  status,
                       gpointer  user_data)
{
  /* A timeout is the client's verdict, not an observed status: only the
   * operation's result tells it. */
  if (status != VT_STATUS_TIMEOUT)
    g_signal_emit (user_data, signals[STATUS_CHANGED], 0, vt_job_get_id (job), status);
}

static void
on_job_progress_changed (VtJob    *job,
                         double    progress,
                         double    eta,
                         gpointer  user_data)
{
  g_signal_emit (user_data, signals[PROGRESS_CHANGED], 0, vt_job_get_id (job), progress, eta);
}

static gboolean
job_wants_progress (VtJob    *job,
                    gpointer  user_data)
{
  return g_signal_has_handler_pending (user_data, signals[PROGRESS_CHANGED], 0, TRUE);
}

static char *
job_key (GMainContext *context,
         const char   *base_url,
         const char   *job_id)
{
  return g_strdup_printf ("%p %s %s%s", (gpointer) context, base_url ? base_url : "",
                          job_id ? "id:" : "", job_id ? job_id : "(default)");
}

/* The key a job has in the client's table, kept on the job. */
static G_DEFINE_QUARK (vt-client-job-key, job_key)

/* The job leaves the table and the list, for a later follow of its id to
 * make a new one. */
static void
on_job_finished (VtJob    *job,
                 gpointer  user_data)
{
  VtClient *self = user_data;
  const char *key = g_object_get_qdata (G_OBJECT (job), job_key_quark ());

  g_object_ref (job);
  g_mutex_lock (&self->lock);
  /* By its key, not by a walk over the table: 10,000 jobs ending one
   * after another must not cost 10,000 walks. */
  if (key != NULL && g_hash_table_lookup (self->jobs, key) == job)
    g_hash_table_remove (self->jobs, key);
  g_mutex_unlock (&self->lock);

  vt_job_list_remove (self->job_list, job);
  g_object_unref (job);
}

static const VtJobHooks job_hooks = {
  .status_changed = on_job_status_changed,
  .progress_changed = on_job_progress_changed,
  .wants_progress = job_wants_progress,
  .finished = on_job_finished,
};

/* A job that cannot be followed at all: finished at once, with @error. */
static VtJob *
failed_job (const char *job_id,
            GError     *error)
{
  VtJob *job = vt_job_new (job_id, 0, NULL, NULL);

  vt_job_listener ()->finished (NULL, VT_STATUS_TIMEOUT, error, g_object_ref (job));
  g_error_free (error);
  return job;
}

/* The job followed for @job_id on @base_url in the thread-default
 * context: the one already followed there, or a new one, started (with
 * what is left of an earlier run's budget when @resume is given). */
static VtJob *
follow_job_at (VtClient           *self,
               const char         *base_url,
               const char         *job_id,
               const VtStateEntry *resume)
{
  g_autoptr(GMainContext) context = g_main_context_ref_thread_default ();
  g_autofree char *key = job_key (context, base_url, job_id);
  g_autoptr(GUri) uri = NULL;
  g_auto(VtWatchOptions) options = { 0 };
  GError *error = NULL;
  VtWatch *watch;
  VtJob *job;

  g_mutex_lock (&self->lock);
  job = g_hash_table_lookup (self->jobs, key);
  if (job != NULL)
    {
      g_object_ref (job);
      g_mutex_unlock (&self->lock);
      return job;
    }
  g_mutex_unlock (&self->lock);

  uri = vt_protocol_job_uri (base_url, job_id, &error);
  if (uri == NULL)
    return failed_job (job_id, error);

  /* Its budget ran out while the application was away. */
  if (resume != NULL && resume->deadline_us <= g_get_real_time ())
    {
      job = vt_job_new (job_id, 0, NULL, NULL);
      vt_job_listener ()->finished (NULL, VT_STATUS_TIMEOUT, NULL, g_object_ref (job));
      return job;
    }

  job = vt_job_new (job_id, self->progress_rate, &job_hooks, self);
  g_mutex_lock (&self->lock);
  snapshot_options (self, &options);
  g_object_set_qdata_full (G_OBJECT (job), job_key_quark (), g_strdup (key), g_free);
  g_hash_table_insert (self->jobs, g_steal_pointer (&key), g_object_ref (job));
  g_mutex_unlock (&self->lock);
  if (context == g_main_context_default ())
    vt_job_list_append (self->job_list, job);

  if (resume != NULL)
    {
      options.schedule.max_wait_time =
        MAX (0.0, (resume->deadline_us - g_get_real_time ()) / (double) G_USEC_PER_SEC);
      options.schedule.max_attempts = resume->attempts_left;
      options.last_event_id = g_strdup (resume->last_event_id);
    }

  /* The watch holds the job until it tells it the end. */
  watch = vt_hub_follow (get_hub_for (self, base_url), &options, job_id, uri, NULL,
                         vt_job_listener (), g_object_ref (job));
  vt_job_set_watch (job, watch);

  return job;
}

static VtJob *
follow_job (VtClient   *self,
            const char *job_id)
{
  return follow_job_at (self, self->base_url, job_id, NULL);
}

/**
 * vt_client_follow:
 * @self: a #VtClient
 * @job_id: (nullable): the job to follow, or %NULL for the server's
 *   default job (`GET /status`)
 *
 * Follows a job, as [method@Vt.Client.get_status_async] does, and gives
 * it as an object to bind widgets to and to wait on. Following an id the
 * client follows already, from the same thread, gives the same #VtJob;
 * once a job is no longer followed, following its id again makes a new
 * one. The job is followed until it ends, the client's budget runs out or
 * [method@Vt.Job.cancel], whether anyone keeps a reference or not.
 *
 * A job that cannot be followed (an invalid base URL, an empty id) is
 * given finished: its waiters get the error.
 *
 * Returns: (transfer full): the job
 */
VtJob *
vt_client_follow (VtClient   *self,
                  const char *job_id)
{
  VtJob *job;

  g_return_val_if_fail (VT_IS_CLIENT (self), NULL);

  job = follow_job (self, job_id);
  vt_job_hold (job);

  return job;
}

/**
 * vt_client_get_jobs:
 * @self: a #VtClient
 *
 * Gets the jobs the client follows in the thread's default main context
 * (a GUI's), in the order they were followed: a #GListModel of #VtJob. A
 * job leaves it once it is no longer followed, after its last property
 * notification. Jobs of blocking calls and of other threads are not in
 * it.
 *
 * Returns: (transfer none): the jobs
 */
GListModel *
vt_client_get_jobs (VtClient *self)
{
  g_return_val_if_fail (VT_IS_CLIENT (self), NULL);

  return G_LIST_MODEL (self->job_list);
}

/**
 * vt_client_get_progress_rate:
 * @self: a #VtClient
 *
 * Gets how many times a second a watched job's progress is extrapolated.
 *
 * Returns: the rate, 0 when off
 */
double
vt_client_get_progress_rate (VtClient *self)
{
  g_return_val_if_fail (VT_IS_CLIENT (self), 0.0);

  return self->progress_rate;
}

/**
 * vt_client_set_progress_rate:
 * @self: a #VtClient
 * @rate: updates a second, 0 to turn it off
 *
 * Sets how many times a second a watched job's progress is
 * extrapolated, for the jobs followed from then on.
 */
void
vt_client_set_progress_rate (VtClient *self,
                             double    rate)
{
  g_return_if_fail (VT_IS_CLIENT (self));
  g_return_if_fail (rate >= 0.0 && rate <= 1000.0);

  set_double (self, &self->progress_rate, rate, PROP_PROGRESS_RATE);
}

/**
 * vt_client_get_network_monitor:
 * @self: a #VtClient
 *
 * Gets who tells the client whether its servers can be reached.
 *
 * Returns: (transfer none) (nullable): the monitor, %NULL when off
 */
GNetworkMonitor *
vt_client_get_network_monitor (VtClient *self)
{
  g_return_val_if_fail (VT_IS_CLIENT (self), NULL);

  return self->network_monitor;
}

/**
 * vt_client_set_network_monitor:
 * @self: a #VtClient
 * @monitor: (nullable): the monitor, or %NULL to take servers as always
 *   reachable
 *
 * Sets who tells the client whether its servers can be reached. Jobs
 * already followed hear the new monitor's word.
 */
void
vt_client_set_network_monitor (VtClient        *self,
                               GNetworkMonitor *monitor)
{
  g_return_if_fail (VT_IS_CLIENT (self));
  g_return_if_fail (monitor == NULL || G_IS_NETWORK_MONITOR (monitor));

  g_mutex_lock (&self->lock);
  if (self->network_monitor == monitor)
    {
      g_mutex_unlock (&self->lock);
      return;
    }
  if (self->network_monitor != NULL)
    g_clear_signal_handler (&self->network_changed_id, self->network_monitor);
  g_set_object (&self->network_monitor, monitor);
  if (monitor != NULL)
    self->network_changed_id = g_signal_connect_object (monitor, "network-changed",
                                                        G_CALLBACK (on_network_changed),
                                                        self, G_CONNECT_DEFAULT);
  tell_hubs_locked (self, HUB_SET_NETWORK_MONITOR);
  g_mutex_unlock (&self->lock);

  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_NETWORK_MONITOR]);
}

/**
 * vt_client_get_power_profile_monitor:
 * @self: a #VtClient
 *
 * Gets who tells the client whether the system saves power.
 *
 * Returns: (transfer none) (nullable): the monitor, %NULL when off
 */
GPowerProfileMonitor *
vt_client_get_power_profile_monitor (VtClient *self)
{
  g_return_val_if_fail (VT_IS_CLIENT (self), NULL);

  return self->power_monitor;
}

/**
 * vt_client_set_power_profile_monitor:
 * @self: a #VtClient
 * @monitor: (nullable): the monitor, or %NULL to poll alike in every
 *   power mode
 *
 * Sets who tells the client whether the system saves power. Jobs
 * already followed poll by the new monitor's word from their next wait.
 */
void
vt_client_set_power_profile_monitor (VtClient             *self,
                                     GPowerProfileMonitor *monitor)
{
  g_return_if_fail (VT_IS_CLIENT (self));
  g_return_if_fail (monitor == NULL || G_IS_POWER_PROFILE_MONITOR (monitor));

  g_mutex_lock (&self->lock);
  if (self->power_monitor == monitor)
    {
      g_mutex_unlock (&self->lock);
      return;
    }
  if (self->power_monitor != NULL)
    g_clear_signal_handler (&self->power_saver_id, self->power_monitor);
  g_set_object (&self->power_monitor, monitor);
  if (monitor != NULL)
    self->power_saver_id = g_signal_connect_object (monitor, "notify::power-saver-enabled",
                                                    G_CALLBACK (on_power_saver_changed),
                                                    self, G_CONNECT_DEFAULT);
  tell_hubs_locked (self, HUB_SET_POLL_STRETCH);
  g_mutex_unlock (&self->lock);

  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_POWER_PROFILE_MONITOR]);
}

/**
 * vt_client_get_power_saver_factor:
 * @self: a #VtClient
 *
 * Gets how many times longer the waits between polls are in power-saver
 * mode.
 *
 * Returns: the factor, 1 or more
 */
double
vt_client_get_power_saver_factor (VtClient *self)
{
  g_return_val_if_fail (VT_IS_CLIENT (self), DEFAULT_POWER_SAVER_FACTOR);

  return self->power_saver_factor;
}

/**
 * vt_client_set_power_saver_factor:
 * @self: a #VtClient
 * @factor: the factor, from 1 (no change) to 100
 *
 * Sets how many times longer the waits between polls are in power-saver
 * mode.
 */
void
vt_client_set_power_saver_factor (VtClient *self,
                                  double    factor)
{
  g_return_if_fail (VT_IS_CLIENT (self));
  g_return_if_fail (factor >= 1.0 && factor <= 100.0);

  if (self->power_saver_factor == factor)
    return;

  g_mutex_lock (&self->lock);
  self->power_saver_factor = factor;
  tell_hubs_locked (self, HUB_SET_POLL_STRETCH);
  g_mutex_unlock (&self->lock);

  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_POWER_SAVER_FACTOR]);
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
 * This is waiting on the job of [method@Vt.Client.follow]: cancelling
 * @cancellable ends this call and, unless someone else follows or waits
 * for the job, stops following it.
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
  g_autoptr(VtJob) job = NULL;

  g_return_if_fail (VT_IS_CLIENT (self));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, vt_client_get_status_async);
  g_task_set_name (task, "vt_client_get_status_async");

  job = follow_job (self, job_id);
  vt_job_add_waiter (job, task, TRUE);
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

  g_private_set (&in_sync_call, GINT_TO_POINTER (TRUE));
  vt_client_get_status_async (self, job_id, cancellable, on_sync_done, &result);
  g_private_set (&in_sync_call, NULL);
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

typedef struct
{
  SoupSession    *session;
  SoupMessage    *message;
  VtRequestQueue *queue;
  double          timeout;
} Submission;

static void
submission_free (Submission *submission)
{
  g_clear_object (&submission->session);
  g_clear_object (&submission->message);
  g_clear_pointer (&submission->queue, vt_request_queue_unref);
  g_free (submission);
}

static void
on_job_submitted (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Submission *submission = g_task_get_task_data (task);
  g_autoptr(VtExchange) exchange = NULL;
  g_autoptr(GBytes) body = NULL;
  GError *error = NULL;
  char *id;

  exchange = vt_channel_http_exchange_finish (SOUP_SESSION (object), result, &body);
  vt_request_queue_learn (submission->queue, &exchange->rate);
  vt_request_queue_release (submission->queue);

  /* A POST is not repeated on its own: every failure is the caller's. */
  if (exchange->kind == VT_EXCHANGE_CANCELLED)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                               "The operation was cancelled");
      return;
    }
  if (exchange->kind != VT_EXCHANGE_OK)
    {
      g_task_return_error (task, g_steal_pointer (&exchange->error));
      return;
    }

  id = vt_job_response_parse_id (g_bytes_get_data (body, NULL), g_bytes_get_size (body),
                                 &error);
  if (id == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, id, g_free);
}

/* The client went before the request's turn came. */
static void
drop_submission (gpointer data)
{
  g_autoptr(GTask) task = data;

  g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                           "The client was disposed before the job was sent");
}

/* Its turn in the server's request queue. */
static void
start_submission (gpointer data)
{
  GTask *task = data;
  Submission *submission = g_task_get_task_data (task);

  vt_channel_http_exchange_async (submission->session, submission->message,
                                  VT_REQUEST_SUBMISSION, submission->timeout,
                                  g_task_get_cancellable (task), on_job_submitted, task);
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
  g_autoptr(GBytes) body = NULL;
  Submission *submission;
  GError *error = NULL;

  g_return_if_fail (VT_IS_CLIENT (self));
  g_return_if_fail (source_url != NULL);
  g_return_if_fail (target_language != NULL);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, vt_client_submit_job_async);
  g_task_set_name (task, "vt_client_submit_job_async");

  uri = vt_protocol_build_uri (self->base_url, "/jobs", &error);
  if (uri == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  submission = g_new0 (Submission, 1);
  submission->session = g_object_ref (self->session);
  submission->message = vt_channel_http_new_message (SOUP_METHOD_POST, uri, self->token);
  submission->queue = vt_request_queue_ref (vt_hub_get_queue (get_hub (self)));
  submission->timeout = self->request_timeout;
  body = vt_job_request_build (source_url, target_language);
  soup_message_set_request_body_from_bytes (submission->message, "application/json", body);
  g_task_set_task_data (task, submission, (GDestroyNotify) submission_free);

  vt_request_queue_push (submission->queue, start_submission, g_steal_pointer (&task),
                         drop_submission);
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

/* ------------------------------------------------------------------ */
/* The learned model                                                   */

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
  g_autoptr(GPtrArray) entries = NULL;
  GHashTableIter iter;
  gpointer key, value;

  g_return_val_if_fail (VT_IS_CLIENT (self), NULL);

  entries = g_ptr_array_new_with_free_func ((GDestroyNotify) vt_model_entry_free);
  g_mutex_lock (&self->lock);
  g_hash_table_iter_init (&iter, self->servers);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      VtModelEntry *entry = g_new0 (VtModelEntry, 1);

      entry->base_url = g_strdup (key);
      entry->durations = vt_server_info_dup_durations (value);
      g_ptr_array_add (entries, entry);
    }
  g_mutex_unlock (&self->lock);

  return vt_model_file_build (entries);
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
  g_autoptr(GPtrArray) entries = NULL;

  g_return_val_if_fail (VT_IS_CLIENT (self), FALSE);
  g_return_val_if_fail (model != NULL, FALSE);

  entries = vt_model_file_parse (model, error);
  if (entries == NULL)
    return FALSE;

  g_mutex_lock (&self->lock);
  for (guint e = 0; e < entries->len; e++)
    {
      VtModelEntry *entry = g_ptr_array_index (entries, e);
      VtServerInfo *info = lookup_server (self, entry->base_url);

      for (guint i = 0; i + 1 < entry->durations->len; i += 2)
        vt_server_info_learn (info, g_array_index (entry->durations, double, i),
                              g_array_index (entry->durations, double, i + 1));
    }
  g_mutex_unlock (&self->lock);

  return TRUE;
}

static int
compare_job_pointers_by_age (gconstpointer a,
                             gconstpointer b)
{
  return vt_job_compare_age (*(VtJob **) a, *(VtJob **) b);
}

/**
 * vt_client_export_state:
 * @self: a #VtClient
 *
 * Saves the jobs the client follows in the thread-default main context,
 * for an application that restarts to follow them on with
 * [method@Vt.Client.import_state]: for each, its server and id, what is
 * left of its budget (the deadline, as a wall-clock time, and the
 * attempts) and the id of the last event its stream sent. The result
 * is JSON, to keep in a file of the application's (a GKeyFile value, a
 * GSettings string).
 *
 * Returns: (transfer full): the state
 */
char *
vt_client_export_state (VtClient *self)
{
  g_autoptr(GMainContext) context = g_main_context_ref_thread_default ();
  g_autoptr(GPtrArray) entries = g_ptr_array_new_with_free_func ((GDestroyNotify) vt_state_entry_free);
  g_autoptr(GPtrArray) jobs = g_ptr_array_new_with_free_func (g_object_unref);
  GHashTableIter iter;
  gpointer value;
  gint64 now_us = g_get_real_time ();

  g_return_val_if_fail (VT_IS_CLIENT (self), NULL);

  g_mutex_lock (&self->lock);
  g_hash_table_iter_init (&iter, self->jobs);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (vt_job_get_context (value) == context)
      g_ptr_array_add (jobs, g_object_ref (value));
  g_mutex_unlock (&self->lock);

  /* In the order they were followed, the list's, where there is one. */
  g_ptr_array_sort (jobs, compare_job_pointers_by_age);

  /* These watches run in this context: reading them here is safe. */
  for (guint i = 0; i < jobs->len; i++)
    {
      VtWatch *watch = vt_job_get_watch (g_ptr_array_index (jobs, i));

      if (watch == NULL || vt_watch_is_done (watch))
        continue;
      g_ptr_array_add (entries,
                       vt_state_entry_new (vt_watch_get_base_url (watch),
                                           vt_watch_get_job_id (watch),
                                           now_us + (gint64) (vt_watch_get_time_left (watch) *
                                                              G_USEC_PER_SEC),
                                           vt_watch_get_attempts_left (watch),
                                           vt_watch_get_last_event_id (watch)));
    }

  return vt_state_file_build (entries);
}

/**
 * vt_client_import_state:
 * @self: a #VtClient
 * @state: a state from [method@Vt.Client.export_state]
 * @error: return location for a #GError
 *
 * Follows on the jobs of a saved state, in the thread-default main
 * context, each on the server it was followed on and with what was left
 * of its budget: a job whose deadline has passed ends at once with
 * %VT_STATUS_TIMEOUT. A stream resumes after the last event it had sent.
 * The client's other settings (strategy, token, schedule) are its own,
 * not the saved ones. A job the client already follows is given as it
 * is. Nothing is followed when @state is not valid.
 *
 * Returns: (transfer full): a #GListModel of the #VtJob followed, in the
 *   state's order; %NULL with %VT_CLIENT_ERROR_INVALID_ARGUMENT when
 *   @state is not valid
 */
GListModel *
vt_client_import_state (VtClient    *self,
                        const char  *state,
                        GError     **error)
{
  g_autoptr(GPtrArray) entries = NULL;
  GListStore *jobs;

  g_return_val_if_fail (VT_IS_CLIENT (self), NULL);
  g_return_val_if_fail (state != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  entries = vt_state_file_parse (state, error);
  if (entries == NULL)
    return NULL;

  jobs = g_list_store_new (VT_TYPE_JOB);
  for (guint i = 0; i < entries->len; i++)
    {
      VtStateEntry *entry = g_ptr_array_index (entries, i);
      g_autoptr(VtJob) job = follow_job_at (self, entry->base_url, entry->job_id, entry);

      vt_job_hold (job);
      g_list_store_append (jobs, job);
    }

  return G_LIST_MODEL (jobs);
}
