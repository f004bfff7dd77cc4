/* vt-hub.c: what one client shares among its jobs on one server
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "vt-hub-private.h"

/* A feed and what it was made for: a change of token or progress rate
 * needs another one. */
typedef struct
{
  VtFeed         *feed;
  VtFeedDelivery  delivery;
  char           *token;
  double          progress_interval;
} HubFeed;

struct _VtHub
{
  gint            ref_count;
  gboolean        closed;

  VtServerInfo   *info;
  SoupSession    *session;
  GMainContext   *context;
  VtWatchHost     host;
  VtRequestQueue *queue;
  VtRequestQueue *held_queue;
  VtTimerHeap    *timers;
  GRand          *rand;

  GQueue          watches;   /* every watch, by its own link; holds a ref */
  GQueue          parked;    /* VtWatch *, waiting to know the capabilities */
  VtWatch        *probe;     /* whose first answer will tell them */
  GArray         *feeds;     /* HubFeed */
  VtRateLimit     limit;     /* the server's, for both queues */

  gboolean        online;
  GQueue          offline;   /* VtWatch *, waiting for the network */
  GNetworkMonitor *monitor;  /* who says whether it is; NULL: always */
  GCancellable   *reach_check;  /* the can-reach question in flight */
  double          poll_stretch;

  VtHubIdleFunc   idle_func;
  gpointer        idle_data;
};

static void
hub_feed_clear (HubFeed *entry)
{
  vt_feed_close (entry->feed);
  vt_feed_unref (entry->feed);
  g_free (entry->token);
}

/* ------------------------------------------------------------------ */
/* What watches ask of their host                                      */

static gpointer
host_ref (gpointer data)
{
  return vt_hub_ref (data);
}

static void
host_unref (gpointer data)
{
  vt_hub_unref (data);
}

static VtFeed *
host_get_feed (VtFeedDelivery        delivery,
               const VtWatchOptions *options,
               double                progress_interval,
               gpointer              data)
{
  VtHub *hub = data;
  HubFeed entry;

  if (hub->closed)
    return NULL;

  for (guint i = 0; i < hub->feeds->len; i++)
    {
      HubFeed *known = &g_array_index (hub->feeds, HubFeed, i);

      if (known->delivery != delivery || g_strcmp0 (known->token, options->token) != 0 ||
          known->progress_interval != progress_interval)
        continue;

      /* The server refused to make it: nobody else tries. */
      if (vt_feed_is_unsupported (known->feed))
        {
          vt_server_info_withdraw (hub->info, VT_CAPABILITY_FEEDS);
          return NULL;
        }
      return known->feed;
    }

  entry = (HubFeed) {
    .feed = vt_feed_new (&(VtFeedOptions) {
      .session = hub->session,
      .queue = hub->queue,
      .timers = hub->timers,
      .base_url = vt_server_info_get_base_url (hub->info),
      .token = options->token,
      .request_timeout = options->request_timeout,
      .progress_interval = progress_interval,
      .delivery = delivery,
    }),
    .delivery = delivery,
    .token = g_strdup (options->token),
    .progress_interval = progress_interval,
  };
  g_array_append_val (hub->feeds, entry);
  vt_feed_set_online (entry.feed, hub->online);

  return entry.feed;
}

static gboolean
host_is_online (gpointer data)
{
  VtHub *hub = data;

  return hub->online;
}

static void
host_wait_online (VtWatch *watch,
                  gpointer data)
{
  VtHub *hub = data;

  g_queue_push_tail (&hub->offline, watch);
}

static double
host_poll_stretch (gpointer data)
{
  VtHub *hub = data;

  return hub->poll_stretch;
}

static gboolean
host_get_plan (const VtScheduleConfig *config,
               VtSchedulePlan         *plan,
               gpointer                data)
{
  VtHub *hub = data;

  return vt_server_info_get_plan (hub->info, config, plan);
}

/* The capabilities are known: every watch that waited for them goes. */
static void
release_parked (VtHub          *hub,
                VtCapabilities  capabilities)
{
  VtWatch *watch;

  while ((watch = g_queue_pop_head (&hub->parked)) != NULL)
    vt_watch_resume (watch, TRUE, capabilities);
}

static gboolean
host_park (VtWatch        *watch,
           gboolean       *known,
           VtCapabilities *capabilities,
           gpointer        data)
{
  VtHub *hub = data;

  *known = vt_server_info_get_capabilities (hub->info, capabilities);
  if (*known || hub->probe == NULL || hub->probe == watch)
    {
      if (!*known)
        hub->probe = watch;
      return FALSE;
    }

  g_queue_push_tail (&hub->parked, watch);
  return TRUE;
}

static void
host_capabilities_seen (VtWatch        *watch,
                        VtCapabilities  capabilities,
                        gpointer        data)
{
  VtHub *hub = data;

  vt_server_info_set_capabilities (hub->info, capabilities);
  if (watch == hub->probe)
    hub->probe = NULL;
  release_parked (hub, capabilities);
}

static void
host_withdraw (VtCapabilities capabilities,
               gpointer       data)
{
  VtHub *hub = data;

  vt_server_info_withdraw (hub->info, capabilities);
}

/* The probe ended without an answer that told: the next one asks. */
static void
next_probe (VtHub *hub)
{
  VtCapabilities capabilities;

  if (vt_server_info_get_capabilities (hub->info, &capabilities))
    {
      release_parked (hub, capabilities);
      return;
    }

  hub->probe = g_queue_pop_head (&hub->parked);
  if (hub->probe != NULL)
    vt_watch_resume (hub->probe, FALSE, VT_CAPABILITY_NONE);
}

static void
host_released (VtWatch *watch,
               double   ended_after,
               double   ended_by,
               gpointer data)
{
  VtHub *hub = data;

  if (ended_after >= 0)
    vt_server_info_learn (hub->info, ended_after, ended_by);

  if (watch == hub->probe)
    {
      hub->probe = NULL;
      if (!hub->closed)
        next_probe (hub);
    }
  else
    g_queue_remove (&hub->parked, watch);
  g_queue_remove (&hub->offline, watch);

  g_queue_unlink (&hub->watches, vt_watch_get_link (watch));
  vt_watch_unref (watch);

  if (hub->watches.length == 0 && hub->idle_func != NULL)
    hub->idle_func (hub, hub->idle_data);
}

/* ------------------------------------------------------------------ */
/* The hub                                                             */

/*
 * vt_hub_new:
 * @share_feeds: whether its watches may follow their jobs on a feed: not
 *   worth it for a hub that will only ever run one (a sync call's)
 */
VtHub *
vt_hub_new (VtServerInfo *info,
            SoupSession  *session,
            GMainContext *context,
            gboolean      share_feeds)
{
  VtHub *hub = g_new0 (VtHub, 1);

  hub->ref_count = 1;
  hub->info = vt_server_info_ref (info);
  hub->session = g_object_ref (session);
  hub->context = g_main_context_ref (context);
  hub->queue = vt_request_queue_new (VT_HUB_MAX_REQUESTS);
  hub->held_queue = vt_request_queue_new (VT_HUB_MAX_HELD);
  hub->timers = vt_timer_heap_new (context, "[vtclient] timers");
  hub->rand = g_rand_new ();
  g_queue_init (&hub->watches);
  g_queue_init (&hub->parked);
  g_queue_init (&hub->offline);
  hub->online = TRUE;
  hub->poll_stretch = 1.0;
  vt_rate_limit_init (&hub->limit);
  vt_request_queue_pace (hub->queue, &hub->limit, hub->timers);
  vt_request_queue_pace (hub->held_queue, &hub->limit, hub->timers);
  hub->feeds = g_array_new (FALSE, FALSE, sizeof (HubFeed));
  g_array_set_clear_func (hub->feeds, (GDestroyNotify) hub_feed_clear);

  hub->host = (VtWatchHost) {
    .session = hub->session,
    .queue = hub->queue,
    .held_queue = hub->held_queue,
    .timers = hub->timers,
    .rand = hub->rand,
    .shares_feeds = share_feeds,
    .ref = host_ref,
    .unref = host_unref,
    .get_feed = host_get_feed,
    .get_plan = host_get_plan,
    .park = host_park,
    .is_online = host_is_online,
    .wait_online = host_wait_online,
    .poll_stretch = host_poll_stretch,
    .capabilities_seen = host_capabilities_seen,
    .withdraw = host_withdraw,
    .released = host_released,
    .host_data = hub,
  };

  return hub;
}

VtHub *
vt_hub_ref (VtHub *hub)
{
  g_atomic_int_inc (&hub->ref_count);
  return hub;
}

void
vt_hub_unref (VtHub *hub)
{
  if (hub == NULL || !g_atomic_int_dec_and_test (&hub->ref_count))
    return;

  g_assert (hub->watches.length == 0);
  g_clear_object (&hub->monitor);
  g_clear_object (&hub->reach_check);
  g_array_unref (hub->feeds);
  vt_request_queue_close (hub->queue);
  vt_request_queue_close (hub->held_queue);
  vt_request_queue_unref (hub->queue);
  vt_request_queue_unref (hub->held_queue);
  vt_timer_heap_free (hub->timers);
  g_rand_free (hub->rand);
  g_main_context_unref (hub->context);
  g_object_unref (hub->session);
  vt_server_info_unref (hub->info);
  g_free (hub);
}

/* Ends every watch (cancelled) and every feed; the hub takes no more.
 * Call from the hub's context. */
void
vt_hub_close (VtHub *hub)
{
  if (hub->closed)
    return;

  /* The watches' ends may drop every other reference. */
  vt_hub_ref (hub);
  hub->closed = TRUE;
  hub->idle_func = NULL;
  g_queue_clear (&hub->parked);
  g_queue_clear (&hub->offline);
  hub->probe = NULL;
  if (hub->reach_check != NULL)
    g_cancellable_cancel (hub->reach_check);

  /* Each one leaves the list as it ends. */
  while (hub->watches.head != NULL)
    vt_watch_cancel (hub->watches.head->data);

  g_array_set_size (hub->feeds, 0);
  vt_request_queue_close (hub->queue);
  vt_request_queue_close (hub->held_queue);
  vt_hub_unref (hub);
}

void
vt_hub_set_idle_func (VtHub         *hub,
                      VtHubIdleFunc  func,
                      gpointer       user_data)
{
  hub->idle_func = func;
  hub->idle_data = user_data;
}

/*
 * vt_hub_follow:
 *
 * Starts following a job. Its first request goes at once (or after its
 * start jitter) when the server's capabilities are known or do not
 * matter; else one watch asks and the others wait for its answer (see
 * host_park()). Call from the hub's context.
 *
 * Returns: (transfer none): the watch, which the hub holds until it ends
 */
VtWatch *
vt_hub_follow (VtHub                 *hub,
               const VtWatchOptions  *options,
               const char            *job_id,
               GUri                  *uri,
               GCancellable          *cancellable,
               const VtWatchListener *listener,
               gpointer               listener_data)
{
  VtWatch *watch;
  VtCapabilities capabilities;
  gboolean known;

  g_return_val_if_fail (!hub->closed, NULL);

  watch = vt_watch_new (&hub->host, options, vt_server_info_get_base_url (hub->info),
                        job_id, uri, cancellable, listener, listener_data);
  g_queue_push_tail_link (&hub->watches, vt_watch_get_link (watch));

  known = vt_server_info_get_capabilities (hub->info, &capabilities);
  vt_watch_start (watch, known, capabilities);

  return watch;
}

/*
 * vt_hub_set_online:
 *
 * Whether the server can be reached. Going offline, nothing more is
 * sent; coming back, every watch that waited asks within a second, as
 * does every polling watch whose next poll is further off (its job may
 * have ended meanwhile), and the feeds go on. Call from the hub's
 * context.
 */
void
vt_hub_set_online (VtHub    *hub,
                   gboolean  online)
{
  VtWatch *watch;

  if (hub->closed || hub->online == online)
    return;

  g_debug ("%s: %s", vt_server_info_get_base_url (hub->info),
           online ? "reachable again" : "unreachable, waiting");
  hub->online = online;
  for (guint i = 0; i < hub->feeds->len; i++)
    vt_feed_set_online (g_array_index (hub->feeds, HubFeed, i).feed, online);

  if (!online)
    return;
  while ((watch = g_queue_pop_head (&hub->offline)) != NULL)
    vt_watch_resume_online (watch);
  /* And those whose next poll was planned before the outage. */
  for (GList *l = hub->watches.head; l != NULL; l = l->next)
    vt_watch_network_returned (l->data);
}

/* Whether @error says the host has no route, as can_reach() tells it;
 * other errors (a failed lookup) leave it to the requests to find out. */
static gboolean
is_unreachable_error (const GError *error)
{
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_HOST_UNREACHABLE) ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NETWORK_UNREACHABLE);
}

static void
on_reach_checked (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  VtHub *hub = user_data;
  g_autoptr(GError) error = NULL;
  gboolean reachable;

  reachable = g_network_monitor_can_reach_finish (G_NETWORK_MONITOR (object), result, &error);
  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    vt_hub_set_online (hub, reachable || !is_unreachable_error (error));
  vt_hub_unref (hub);
}

/*
 * vt_hub_check_reachability:
 *
 * Asks the hub's network monitor again whether the server can be
 * reached: at once when the monitor has a default route (the usual
 * answer, and no lookup), else by its can_reach(), so that a server on
 * this machine or on the local network is still followed with no
 * Internet. While the question runs the hub waits: the monitor just
 * said there is no default route. A later check makes an earlier one's
 * answer moot. Call from the hub's context.
 */
void
vt_hub_check_reachability (VtHub *hub)
{
  g_autoptr(GSocketConnectable) server = NULL;

  if (hub->closed)
    return;

  if (hub->reach_check != NULL)
    g_cancellable_cancel (hub->reach_check);
  g_clear_object (&hub->reach_check);

  if (hub->monitor == NULL || g_network_monitor_get_network_available (hub->monitor))
    {
      vt_hub_set_online (hub, TRUE);
      return;
    }

  /* A URL that does not parse fails the requests, with a clear error. */
  server = g_network_address_parse_uri (vt_server_info_get_base_url (hub->info), 80, NULL);
  if (server == NULL)
    {
      vt_hub_set_online (hub, TRUE);
      return;
    }

  vt_hub_set_online (hub, FALSE);
  hub->reach_check = g_cancellable_new ();
  g_network_monitor_can_reach_async (hub->monitor, server, hub->reach_check,
                                     on_reach_checked, vt_hub_ref (hub));
}

/*
 * vt_hub_set_network_monitor:
 * @monitor: (nullable): who tells whether the server can be reached;
 *   %NULL: it always can
 *
 * Call from the hub's context; the hub asks it at once.
 */
void
vt_hub_set_network_monitor (VtHub           *hub,
                            GNetworkMonitor *monitor)
{
  g_set_object (&hub->monitor, monitor);
  vt_hub_check_reachability (hub);
}

/* Power saver: polling waits are this many times longer (1: not). */
void
vt_hub_set_poll_stretch (VtHub  *hub,
                         double  stretch)
{
  hub->poll_stretch = MAX (stretch, 1.0);
}

VtRequestQueue *
vt_hub_get_queue (VtHub *hub)
{
  return hub->queue;
}

GMainContext *
vt_hub_get_context (VtHub *hub)
{
  return hub->context;
}

guint
vt_hub_get_n_watches (VtHub *hub)
{
  return hub->watches.length;
}
