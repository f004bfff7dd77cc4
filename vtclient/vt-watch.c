/* vt-watch.c: following one job to its end
 *
 * A watch is the state of one job being followed: the clock, the
 * counters, the last status seen and the channel in use. It asks the
 * schedule when to ask next and a channel how: a plain poll, a long-poll,
 * the job's own event stream, or the server's feed shared with other
 * jobs. It tells its listener every observation and, exactly once, the
 * end.
 *
 * Ownership: a watch is refcounted. Its owner holds one reference, and so
 * does every operation in flight (a request, a queued request, a
 * cancellation on its way); timers are embedded and cancelled when the
 * watch ends. vt_watch_complete() is the single way out: it stops
 * everything, then tells the host and the listener.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <math.h>

#include "vt-channel-http-private.h"
#include "vt-channel-stream-private.h"
#include "vt-error.h"
#include "vt-watch-private.h"

/* A body we cannot read may be a passing fault (a proxy's error page, a
 * truncated answer); after this many in a row it is the server's answer. */
#define MAX_PROTOCOL_FAILURES 3

/* A long-poll answered "pending" in less than this share of the wait it
 * asked for was not held: the server does not long-poll. */
#define LONG_POLL_HELD_FRACTION 0.5

/* The last status seen before any: no observation yet. */
#define STATUS_NONE ((int) -1)

typedef enum
{
  CHANNEL_POLL,
  CHANNEL_LONG_POLL,
  CHANNEL_STREAM,
  CHANNEL_FEED,
} Channel;

static const char * const channel_names[] = { "poll", "long-poll", "stream", "feed" };

struct _VtWatch
{
  gatomicrefcount        ref_count;
  const VtWatchHost     *host;
  VtWatchOptions         options;
  char                  *base_url;
  char                  *job_id;
  GUri                  *uri;
  GUri                  *events_uri;   /* made when first needed */
  const VtWatchListener *listener;
  gpointer               listener_data;
  GMainContext          *context;
  GList                  link;         /* the owner's, see vt_watch_get_link() */

  GCancellable          *caller;       /* the caller's cancellable */
  gulong                 caller_handler;

  VtCapabilities         capabilities;
  gboolean               capabilities_known;
  VtCapabilities         refused;      /* channels that failed this watch */
  Channel                channel;
  VtFeedDelivery         delivery;     /* CHANNEL_FEED: which feed */
  VtFeed                *feed;         /* while a member of it */
  VtFeedMember           member;
  gboolean               progress_wanted;  /* its feed sends progress events */

  gboolean               started;
  gboolean               parked;       /* waiting for another's first answer */
  gboolean               offline;      /* waiting for the network */
  char                  *etag;         /* the job's, from its last full answer */
  gboolean               done;
  gint64                 started_us;   /* monotonic time of the first request */
  gint64                 sent_us;      /* when the request in flight went out */
  double                 long_poll_wait;
  guint                  requests;     /* every request made, failed ones too */
  guint                  failures;     /* consecutive transient failures */
  guint                  protocol_failures;
  guint                  redirects;    /* redirects answered in a row */
  GUri                  *redirect_uri; /* where the next request goes, once */
  int                    last_status;
  double                 last_pending_at;  /* elapsed when the request that last
                                            * saw "pending" went out, or -1 */
  double                 plan_shift;       /* this watch's shift of a learned plan */
  VtSchedulePlan        *plan;             /* the learned plan it follows, if any */
  gboolean               plan_fetched;
  double                 last_progress;
  double                 last_eta;
  VtEtaSample            previous_eta;
  gint64                 eta_end_us;   /* when the last full answer's ETA
                                        * said the job ends; 0: it said none */
  GError                *last_error;   /* why the last request failed, if it did */

  VtRequestQueue        *slot_queue;   /* the queue whose slot the request holds */
  GCancellable          *request_cancellable;
  VtTimer                timer;        /* the next request */
  VtTimer                deadline;     /* push channels: the end of the budget */
};

static void vt_watch_send (VtWatch *watch);
static void vt_watch_complete (VtWatch *watch, VtStatus status, GError *error);

void
vt_watch_options_clear (VtWatchOptions *options)
{
  g_clear_pointer (&options->token, g_free);
  g_clear_pointer (&options->last_event_id, g_free);
}

VtWatch *
vt_watch_ref (VtWatch *watch)
{
  g_atomic_ref_count_inc (&watch->ref_count);
  return watch;
}

void
vt_watch_unref (VtWatch *watch)
{
  if (watch == NULL || !g_atomic_ref_count_dec (&watch->ref_count))
    return;

  g_assert (watch->done || !watch->started);
  g_assert (watch->caller_handler == 0);
  g_assert (watch->feed == NULL);

  vt_watch_options_clear (&watch->options);
  g_free (watch->base_url);
  g_free (watch->job_id);
  g_clear_pointer (&watch->uri, g_uri_unref);
  g_clear_pointer (&watch->events_uri, g_uri_unref);
  g_clear_pointer (&watch->redirect_uri, g_uri_unref);
  g_clear_pointer (&watch->plan, g_free);
  g_free (watch->etag);
  g_clear_pointer (&watch->context, g_main_context_unref);
  g_clear_object (&watch->caller);
  g_clear_error (&watch->last_error);
  watch->host->unref (watch->host->host_data);
  g_free (watch);
}

const char *
vt_watch_get_job_id (VtWatch *watch)
{
  return watch->job_id;
}

const char *
vt_watch_get_base_url (VtWatch *watch)
{
  return watch->base_url;
}

guint
vt_watch_get_n_requests (VtWatch *watch)
{
  return watch->requests;
}

/* A list link for the watch's owner, which may keep it in one list. */
GList *
vt_watch_get_link (VtWatch *watch)
{
  return &watch->link;
}

gboolean
vt_watch_is_done (VtWatch *watch)
{
  return watch->done;
}

static const char *
vt_watch_name (VtWatch *watch)
{
  return watch->job_id ? watch->job_id : "(default)";
}

static double
vt_watch_elapsed (VtWatch *watch)
{
  return (g_get_monotonic_time () - watch->started_us) / (double) G_USEC_PER_SEC;
}

static gboolean
vt_watch_attempts_left (VtWatch *watch)
{
  guint max = watch->options.schedule.max_attempts;

  return max == 0 || watch->requests < max;
}

/* What is left of the watch's budget: seconds, and attempts (at least
 * 1 while a request is in flight, which a restarted application sends
 * again; G_MAXUINT with no limit). */
double
vt_watch_get_time_left (VtWatch *watch)
{
  if (!watch->started)
    return watch->options.schedule.max_wait_time;

  return MAX (0.0, watch->options.schedule.max_wait_time - vt_watch_elapsed (watch));
}

guint
vt_watch_get_attempts_left (VtWatch *watch)
{
  guint max = watch->options.schedule.max_attempts;

  if (max == 0)
    return G_MAXUINT;

  return watch->requests < max ? max - watch->requests : 1;
}

/* The id of the last event the job's stream sent, if any. */
const char *
vt_watch_get_last_event_id (VtWatch *watch)
{
  return watch->options.last_event_id;
}

/* ------------------------------------------------------------------ */
/* Channels                                                            */

/* The feed that @strategy and the server's capabilities call for, if
 * any: a stream where events are offered or asked for, else long-polls. */
static gboolean
vt_watch_pick_feed (VtWatch        *watch,
                    VtCapabilities  capabilities,
                    VtFeedDelivery *delivery)
{
  VtStrategy strategy = watch->options.strategy;

  if (watch->job_id == NULL || !watch->host->shares_feeds ||
      !(capabilities & VT_CAPABILITY_FEEDS))
    return FALSE;

  if (strategy == VT_STRATEGY_STREAM ||
      (strategy == VT_STRATEGY_AUTO && (capabilities & VT_CAPABILITY_EVENTS)))
    *delivery = VT_FEED_DELIVERY_STREAM;
  else if (strategy == VT_STRATEGY_LONG_POLL ||
           (strategy == VT_STRATEGY_AUTO && (capabilities & VT_CAPABILITY_LONG_POLL)))
    *delivery = VT_FEED_DELIVERY_LONG_POLL;
  else
    return FALSE;

  return TRUE;
}

/* The best channel for what the server announced (auto), or for the
 * strategy asked for. */
static Channel
vt_watch_pick_channel (VtWatch *watch)
{
  VtCapabilities caps = watch->capabilities;

  if (watch->options.strategy == VT_STRATEGY_POLL)
    return CHANNEL_POLL;

  if (watch->capabilities_known && vt_watch_pick_feed (watch, caps, &watch->delivery))
    return CHANNEL_FEED;

  switch (watch->options.strategy)
    {
    case VT_STRATEGY_STREAM:
      return watch->job_id != NULL && (!watch->capabilities_known || (caps & VT_CAPABILITY_EVENTS)) ?
             CHANNEL_STREAM : CHANNEL_LONG_POLL;
    case VT_STRATEGY_LONG_POLL:
      return CHANNEL_LONG_POLL;
    case VT_STRATEGY_AUTO:
    case VT_STRATEGY_POLL:
    default:
      /* Auto with nothing known starts with a plain poll, whose answer
       * says what else the server offers. */
      if (!watch->capabilities_known)
        return CHANNEL_POLL;
      if ((caps & VT_CAPABILITY_EVENTS) && watch->job_id != NULL)
        return CHANNEL_STREAM;
      if (caps & VT_CAPABILITY_LONG_POLL)
        return CHANNEL_LONG_POLL;
      return CHANNEL_POLL;
    }
}

/* What the server refused when @channel was: the capability it stands
 * for. */
static VtCapabilities
capability_of (Channel channel)
{
  switch (channel)
    {
    case CHANNEL_FEED:
      return VT_CAPABILITY_FEEDS;
    case CHANNEL_STREAM:
      return VT_CAPABILITY_EVENTS;
    case CHANNEL_LONG_POLL:
      return VT_CAPABILITY_LONG_POLL;
    case CHANNEL_POLL:
    default:
      return VT_CAPABILITY_NONE;
    }
}

/* A channel was refused (a server without event streams answers their
 * URL with 404, say): step down to the next one without losing the job.
 * Explicit strategies too: a plain poll then tells a missing job from a
 * missing channel. Returns %FALSE when there is nothing below. */
static gboolean
vt_watch_fall_back (VtWatch *watch)
{
  VtCapabilities refused = capability_of (watch->channel);

  if (watch->channel == CHANNEL_POLL)
    return FALSE;

  watch->capabilities &= ~refused;
  watch->refused |= refused;

  /* Known now, if it was not: this channel is not there. */
  watch->capabilities_known = TRUE;
  watch->channel = vt_watch_pick_channel (watch);
  if (watch->channel != CHANNEL_POLL && capability_of (watch->channel) == refused)
    watch->channel = CHANNEL_POLL;
  g_debug ("job %s: falling back to %s", vt_watch_name (watch),
           channel_names[watch->channel]);

  return TRUE;
}

/* The first answer tells what the server can do, and the host files it
 * for the watches after. Auto mode's first poll then picks the channel;
 * a watch already on a stream or a long-poll keeps it. */
static void
vt_watch_learn_capabilities (VtWatch        *watch,
                             VtCapabilities  capabilities)
{
  if (watch->capabilities_known)
    return;

  watch->capabilities = capabilities;
  watch->capabilities_known = TRUE;
  if (watch->channel == CHANNEL_POLL)
    watch->channel = vt_watch_pick_channel (watch);
  watch->host->capabilities_seen (watch, capabilities, watch->host->host_data);
}

/* ------------------------------------------------------------------ */
/* The end                                                             */

static void
vt_watch_leave_feed (VtWatch *watch)
{
  if (watch->feed == NULL)
    return;

  vt_feed_leave (watch->feed, &watch->member);
  g_clear_pointer (&watch->feed, vt_feed_unref);
}

/* Push channels see the end as it happens; a poll only knows it came
 * after the server answered "pending" (no earlier than that request went
 * out) and before the final answer arrived. A job already over at the
 * first answer says nothing of its length. */
static void
vt_watch_ended_between (VtWatch *watch,
                        VtStatus status,
                        GError  *error,
                        double  *ended_after,
                        double  *ended_by)
{
  double now = vt_watch_elapsed (watch);

  *ended_after = *ended_by = -1.0;
  if (error != NULL || status == VT_STATUS_TIMEOUT || watch->last_pending_at < 0)
    return;

  *ended_after = watch->channel == CHANNEL_POLL ? watch->last_pending_at : now;
  *ended_by = now;
}

/* The single way out: every path that ends a watch, the final status,
 * an error, cancellation and the owner's cancel, comes through here. */
static void
vt_watch_complete (VtWatch  *watch,
                   VtStatus  status,
                   GError   *error)
{
  double ended_after, ended_by;

  g_return_if_fail (!watch->done);

  /* The listener may drop the last other reference. */
  vt_watch_ref (watch);
  watch->done = TRUE;
  vt_timer_heap_cancel (watch->host->timers, &watch->timer);
  vt_timer_heap_cancel (watch->host->timers, &watch->deadline);
  if (watch->request_cancellable != NULL)
    g_cancellable_cancel (watch->request_cancellable);
  vt_watch_leave_feed (watch);
  if (watch->caller_handler != 0)
    {
      g_cancellable_disconnect (watch->caller, watch->caller_handler);
      watch->caller_handler = 0;
    }

  if (error != NULL)
    g_debug ("job %s: failed after %u requests: %s",
             vt_watch_name (watch), watch->requests, error->message);
  else
    g_debug ("job %s: final status %d after %u requests, %.3f s",
             vt_watch_name (watch), status, watch->requests,
             watch->started ? vt_watch_elapsed (watch) : 0.0);

  /* A channel refused to a watch that then followed its job through
   * another is one the server does not have (refused to a watch that
   * failed, it may be the job that was missing). */
  if (error == NULL && status != VT_STATUS_TIMEOUT && watch->refused != 0)
    watch->host->withdraw (watch->refused, watch->host->host_data);

  vt_watch_ended_between (watch, status, error, &ended_after, &ended_by);
  watch->host->released (watch, ended_after, ended_by, watch->host->host_data);
  watch->listener->finished (watch, status, error, watch->listener_data);

  g_clear_error (&error);
  vt_watch_unref (watch);
}

/* The budget ran out. A watch whose last request failed never learned the
 * status: that is an error, not a timeout. On a feed, the feed's trouble
 * is the watch's. */
static void
vt_watch_give_up (VtWatch *watch)
{
  const GError *last = watch->last_error;
  GError *error = NULL;

  if (last == NULL && watch->feed != NULL)
    last = vt_feed_get_error (watch->feed);

  if (last != NULL && last->domain == VT_CLIENT_ERROR)
    error = g_error_copy (last);
  else if (last != NULL)
    error = g_error_new (VT_CLIENT_ERROR, VT_CLIENT_ERROR_UNREACHABLE,
                         "The server stayed unreachable: %s", last->message);

  vt_watch_complete (watch, VT_STATUS_TIMEOUT, error);
}

/*
 * vt_watch_cancel:
 *
 * Completes the watch with G_IO_ERROR_CANCELLED, if it is still running.
 */
void
vt_watch_cancel (VtWatch *watch)
{
  if (watch->done)
    return;

  vt_watch_complete (watch, VT_STATUS_TIMEOUT,
                     g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                          "The operation was cancelled"));
}

static gboolean
on_cancel_idle (gpointer user_data)
{
  vt_watch_cancel (user_data);

  return G_SOURCE_REMOVE;
}

/* The caller's cancellable may be cancelled from any thread, and this
 * handler may not disconnect itself: the watch ends in its own context,
 * in the next iteration. */
static void
on_caller_cancelled (GCancellable *cancellable,
                     gpointer      user_data)
{
  VtWatch *watch = user_data;
  g_autoptr(GSource) idle = g_idle_source_new ();

  g_source_set_name (idle, "[vtclient] cancellation");
  g_source_set_priority (idle, G_PRIORITY_DEFAULT);
  g_source_set_callback (idle, on_cancel_idle, vt_watch_ref (watch),
                         (GDestroyNotify) vt_watch_unref);
  g_source_attach (idle, watch->context);
}

/* ------------------------------------------------------------------ */
/* Observations                                                        */

static void
vt_watch_observe (VtWatch                *watch,
                  const VtJobObservation *observation)
{
  gboolean progress_changed = FALSE;
  gboolean status_changed;

  if (observation->status == VT_STATUS_PENDING)
    {
      /* The server saw the job pending after this request went out. */
      watch->last_pending_at = (watch->sent_us - watch->started_us) / (double) G_USEC_PER_SEC;

      if (observation->progress != watch->last_progress ||
          observation->eta != watch->last_eta)
        {
          watch->last_progress = observation->progress;
          watch->last_eta = observation->eta;
          progress_changed = observation->progress >= 0 || observation->eta >= 0;
        }
    }

  status_changed = (int) observation->status != watch->last_status;
  watch->last_status = observation->status;

  if (status_changed || progress_changed)
    watch->listener->observed (watch, observation, status_changed, progress_changed,
                               watch->listener_data);
}

/* An answer that tells the status, from any channel. Returns %TRUE when
 * the watch is over. */
static gboolean
vt_watch_on_observation (VtWatch                *watch,
                         const VtJobObservation *observation)
{
  g_clear_error (&watch->last_error);
  watch->failures = 0;
  watch->protocol_failures = 0;
  vt_watch_observe (watch, observation);

  if (watch->done)
    return TRUE;
  if (observation->status == VT_STATUS_PENDING)
    return FALSE;

  vt_watch_complete (watch, observation->status, NULL);
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* Waiting                                                             */

static void
on_timer (gpointer user_data)
{
  vt_watch_send (user_data);
}

/* The budget ran out: on a push channel, or while the network was
 * away. */
static void
on_deadline (gpointer user_data)
{
  VtWatch *watch = user_data;

  watch->offline = FALSE;
  vt_watch_give_up (watch);
}

static void
vt_watch_wait (VtWatch *watch,
               double   delay)
{
  g_debug ("job %s: waiting %.3f s (%.3f s elapsed)",
           vt_watch_name (watch), delay, watch->started ? vt_watch_elapsed (watch) : 0.0);

  vt_timer_heap_schedule_in (watch->host->timers, &watch->timer, delay);
}

/* A quiet push channel is fine for as long as the job runs, but not past
 * the caller's budget. */
static void
vt_watch_arm_deadline (VtWatch *watch)
{
  vt_timer_heap_schedule (watch->host->timers, &watch->deadline,
                          watch->started_us +
                          (gint64) (watch->options.schedule.max_wait_time * G_USEC_PER_SEC));
}

static void
vt_watch_on_pending (VtWatch    *watch,
                     VtExchange *exchange)
{
  /* When the server computed the ETA: its own clock if it says, else
   * somewhere in our request's round trip, at the latest when the answer
   * came. */
  gint64 now_us = g_get_monotonic_time ();
  VtEtaSample current = {
    (now_us - watch->started_us) / (double) G_USEC_PER_SEC,
    exchange->observation.eta,
    (now_us - watch->sent_us) / (double) G_USEC_PER_SEC,
    FALSE,
  };
  VtScheduleHints hints = exchange->hints;
  double delay, stretch;

  if (exchange->observation.elapsed >= 0)
    {
      current.t = exchange->observation.elapsed;
      current.uncertainty = 0.0;
      current.server_clock = TRUE;
    }

  if (!vt_watch_attempts_left (watch))
    {
      vt_watch_give_up (watch);
      return;
    }

  if (watch->channel == CHANNEL_LONG_POLL)
    {
      double held = (now_us - watch->sent_us) / (double) G_USEC_PER_SEC;

      /* Held until the wait ran out, or the first answer (asked with no
       * wait): ask again at once. */
      if (watch->long_poll_wait == 0.0 || held >= watch->long_poll_wait * LONG_POLL_HELD_FRACTION)
        {
          if (vt_watch_elapsed (watch) < watch->options.schedule.max_wait_time)
            vt_watch_send (watch);
          else
            vt_watch_give_up (watch);
          return;
        }

      /* Not held: this server does not long-poll. Poll on the schedule. */
      g_debug ("job %s: long-poll answered at once, polling instead", vt_watch_name (watch));
      watch->capabilities &= ~VT_CAPABILITY_LONG_POLL;
      watch->channel = CHANNEL_POLL;
    }

  /* A 304 has no body: the ETA is its Vt-Eta header's if it has one,
   * else the last full answer's, run down. */
  if (exchange->unchanged && exchange->observation.eta < 0)
    hints.eta = watch->eta_end_us > now_us ? (watch->eta_end_us - now_us) / (double) G_USEC_PER_SEC
                                           : -1.0;
  else
    {
      hints.eta = vt_schedule_eta_wait (&watch->options.schedule, &watch->previous_eta, &current);
      watch->previous_eta = current;
      watch->eta_end_us = hints.eta >= 0 ? now_us + (gint64) (hints.eta * G_USEC_PER_SEC) : 0;
    }

  /* One plan for the whole watch, the one that stood at its first
   * pending poll: its attempts are counted for that plan, and a plan
   * remade while a batch of jobs runs would have learned only the
   * batch's short ones. */
  if (!watch->plan_fetched)
    {
      VtSchedulePlan plan;

      watch->plan_fetched = TRUE;
      if (watch->host->get_plan (&watch->options.schedule, &plan, watch->host->host_data))
        {
          watch->plan = g_memdup2 (&plan, sizeof plan);
          watch->plan->shift = watch->plan_shift;
        }
    }
  if (!vt_schedule_next_delay (&watch->options.schedule, watch->requests,
                               vt_watch_elapsed (watch), &hints, watch->plan,
                               watch->host->rand, &delay))
    {
      vt_watch_give_up (watch);
      return;
    }

  /* Power saver: polls further apart, the last one still at the
   * deadline at the latest. */
  stretch = watch->host->poll_stretch (watch->host->host_data);
  if (stretch > 1.0)
    delay = MIN (delay * stretch,
                 MAX (0.0, watch->options.schedule.max_wait_time - vt_watch_elapsed (watch)));

  vt_watch_wait (watch, delay);
}

static void
vt_watch_on_failure (VtWatch    *watch,
                     VtExchange *exchange)
{
  double delay;

  g_clear_error (&watch->last_error);
  watch->last_error = g_steal_pointer (&exchange->error);
  watch->failures++;

  g_debug ("job %s: request %u failed: %s",
           vt_watch_name (watch), watch->requests, watch->last_error->message);

  if (exchange->kind == VT_EXCHANGE_PROTOCOL &&
      ++watch->protocol_failures >= MAX_PROTOCOL_FAILURES)
    {
      vt_watch_complete (watch, VT_STATUS_TIMEOUT, g_steal_pointer (&watch->last_error));
      return;
    }

  if (!vt_watch_attempts_left (watch) ||
      !vt_schedule_retry_delay (&watch->options.schedule, watch->failures,
                                vt_watch_elapsed (watch),
                                exchange->hints.retry_after, watch->host->rand, &delay))
    {
      vt_watch_give_up (watch);
      return;
    }

  vt_watch_wait (watch, delay);
}

/* A redirect is followed at once, as one more request of this watch; the
 * request after it starts again from the job's own URL. A chain longer
 * than VT_MAX_REDIRECTS is a failed attempt like a 5xx: retried on the
 * retry schedule from the job's own URL, so a loop ends the watch with
 * VT_CLIENT_ERROR_HTTP once its attempts or its time run out. */
static void
vt_watch_on_redirect (VtWatch    *watch,
                      VtExchange *exchange)
{
  if (++watch->redirects > VT_MAX_REDIRECTS)
    {
      watch->redirects = 0;
      exchange->kind = VT_EXCHANGE_TRANSIENT;
      g_clear_error (&exchange->error);
      exchange->error = g_error_new (VT_CLIENT_ERROR, VT_CLIENT_ERROR_HTTP,
                                     "Too many redirects: the server answered "
                                     "HTTP %u more than %d times in a row",
                                     exchange->http_status, VT_MAX_REDIRECTS);
      vt_watch_on_failure (watch, exchange);
      return;
    }

  if (!vt_watch_attempts_left (watch))
    {
      g_clear_error (&watch->last_error);
      watch->last_error = g_error_new (VT_CLIENT_ERROR, VT_CLIENT_ERROR_HTTP,
                                       "The server redirected (HTTP %u) the last request",
                                       exchange->http_status);
      vt_watch_give_up (watch);
      return;
    }

  g_debug ("job %s: redirected (HTTP %u)", vt_watch_name (watch), exchange->http_status);
  g_clear_pointer (&watch->redirect_uri, g_uri_unref);
  watch->redirect_uri = g_steal_pointer (&exchange->location);
  vt_watch_send (watch);
}

/* ------------------------------------------------------------------ */
/* Answers                                                             */

/* A request is over: its slot goes to the next in line. Returns %FALSE
 * when the watch ended meanwhile (cancelled, say) and there is nothing
 * more to do. */
static gboolean
vt_watch_request_done (VtWatch    *watch,
                       VtExchange *exchange)
{
  if (exchange != NULL)
    vt_request_queue_learn (watch->slot_queue, &exchange->rate);
  vt_request_queue_release (watch->slot_queue);
  g_clear_pointer (&watch->slot_queue, vt_request_queue_unref);

  if (watch->done)
    return FALSE;

  g_clear_object (&watch->request_cancellable);
  return TRUE;
}

static void
on_exchange (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(VtWatch) watch = user_data;
  g_autoptr(VtExchange) exchange = NULL;

  exchange = vt_channel_http_get_job_finish (SOUP_SESSION (object), result);
  if (!vt_watch_request_done (watch, exchange))
    return;

  if (exchange->kind != VT_EXCHANGE_REDIRECT)
    watch->redirects = 0;
  if (exchange->kind == VT_EXCHANGE_OK)
    vt_watch_learn_capabilities (watch, exchange->capabilities);

  switch (exchange->kind)
    {
    case VT_EXCHANGE_OK:
      if (exchange->unchanged)
        {
          /* As it was: nothing to tell, the next poll to plan. */
          g_clear_error (&watch->last_error);
          watch->failures = 0;
          watch->protocol_failures = 0;
          watch->last_pending_at = (watch->sent_us - watch->started_us) / (double) G_USEC_PER_SEC;
          vt_watch_on_pending (watch, exchange);
          break;
        }
      g_free (watch->etag);
      watch->etag = g_strdup (exchange->etag);
      if (vt_watch_on_observation (watch, &exchange->observation))
        break;
      /* Switched to a push channel: take it now, no wait. */
      if (watch->channel == CHANNEL_STREAM || watch->channel == CHANNEL_FEED)
        vt_watch_send (watch);
      else
        vt_watch_on_pending (watch, exchange);
      break;

    case VT_EXCHANGE_TRANSIENT:
    case VT_EXCHANGE_PROTOCOL:
      vt_watch_on_failure (watch, exchange);
      break;

    case VT_EXCHANGE_REDIRECT:
      vt_watch_on_redirect (watch, exchange);
      break;

    case VT_EXCHANGE_FATAL:
      /* A long-poll refused (400/405) may still be a job we can poll. */
      if (watch->channel == CHANNEL_LONG_POLL &&
          !g_error_matches (exchange->error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_NOT_FOUND) &&
          vt_watch_fall_back (watch))
        vt_watch_send (watch);
      else
        vt_watch_complete (watch, VT_STATUS_TIMEOUT, g_steal_pointer (&exchange->error));
      break;

    case VT_EXCHANGE_CANCELLED:
    default:
      /* Only vt_watch_complete() cancels requests, and it already ran. */
      g_assert_not_reached ();
    }
}

static void
on_stream_opened (VtCapabilities capabilities,
                  gpointer       user_data)
{
  VtWatch *watch = user_data;

  if (!watch->done)
    vt_watch_learn_capabilities (watch, capabilities);
}

static void
on_stream_event (const VtJobObservation *observation,
                 const char             *event_id,
                 gpointer                user_data)
{
  VtWatch *watch = user_data;

  /* Where a new stream resumes: after this restart or a restart of
   * the application (vt_client_export_state()). */
  if (event_id != NULL && g_strcmp0 (event_id, watch->options.last_event_id) != 0)
    {
      g_free (watch->options.last_event_id);
      watch->options.last_event_id = g_strdup (event_id);
    }
  if (!watch->done)
    vt_watch_on_observation (watch, observation);
}

static const VtStreamCallbacks stream_callbacks = {
  .opened = on_stream_opened,
  .event = on_stream_event,
};

static void
on_stream_closed (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(VtWatch) watch = user_data;
  g_autoptr(VtExchange) exchange = NULL;

  exchange = vt_channel_stream_finish (SOUP_SESSION (object), result);
  if (!vt_watch_request_done (watch, exchange))
    return;

  vt_timer_heap_cancel (watch->host->timers, &watch->deadline);
  if (exchange->kind != VT_EXCHANGE_REDIRECT)
    watch->redirects = 0;

  switch (exchange->kind)
    {
    case VT_EXCHANGE_REDIRECT:
      vt_watch_on_redirect (watch, exchange);
      break;

    case VT_EXCHANGE_OK:
      /* Closed before the job ended: a dropped stream, open it again. */
      exchange->kind = VT_EXCHANGE_TRANSIENT;
      exchange->error = g_error_new_literal (VT_CLIENT_ERROR, VT_CLIENT_ERROR_UNREACHABLE,
                                             "The event stream closed before the job ended");
      vt_watch_on_failure (watch, exchange);
      break;

    case VT_EXCHANGE_TRANSIENT:
      vt_watch_on_failure (watch, exchange);
      break;

    case VT_EXCHANGE_PROTOCOL:
    case VT_EXCHANGE_FATAL:
      if (vt_watch_fall_back (watch))
        vt_watch_send (watch);
      else if (exchange->kind == VT_EXCHANGE_PROTOCOL)
        vt_watch_on_failure (watch, exchange);
      else
        vt_watch_complete (watch, VT_STATUS_TIMEOUT, g_steal_pointer (&exchange->error));
      break;

    case VT_EXCHANGE_CANCELLED:
    default:
      g_assert_not_reached ();
    }
}

/* ------------------------------------------------------------------ */
/* The feed                                                            */

static void
on_feed_observed (VtFeedMember           *member,
                  const VtJobObservation *observation,
                  gpointer                user_data)
{
  VtWatch *watch = user_data;

  /* Pushed: the server saw it as it answered. */
  watch->sent_us = g_get_monotonic_time ();
  vt_watch_on_observation (watch, observation);
}

static void
on_feed_lost (VtFeedMember *member,
              VtFeedLoss    loss,
              const GError *error,
              gpointer      user_data)
{
  VtWatch *watch = user_data;

  g_clear_pointer (&watch->feed, vt_feed_unref);
  if (loss == VT_FEED_LOST_UNSUPPORTED && vt_watch_fall_back (watch))
    {
      vt_timer_heap_cancel (watch->host->timers, &watch->deadline);
      if (vt_watch_attempts_left (watch))
        vt_watch_send (watch);
      else
        vt_watch_give_up (watch);
      return;
    }

  vt_watch_complete (watch, VT_STATUS_TIMEOUT, g_error_copy (error));
}

static const VtFeedMemberCallbacks feed_callbacks = {
  .observed = on_feed_observed,
  .lost = on_feed_lost,
};

/* Joining the feed is this watch's request; the feed's own requests are
 * shared and counted by no watch. Returns %FALSE when there is no feed to
 * join after all. */
static gboolean
vt_watch_join_feed (VtWatch *watch)
{
  VtFeed *feed = watch->host->get_feed (watch->delivery, &watch->options,
                                        watch->progress_wanted ?
                                        watch->options.progress_interval : 0.0,
                                        watch->host->host_data);

  if (feed == NULL)
    return FALSE;

  vt_feed_member_init (&watch->member, watch->job_id, &feed_callbacks, watch);
  if (!vt_feed_join (feed, &watch->member))
    return FALSE;

  watch->feed = vt_feed_ref (feed);
  watch->sent_us = g_get_monotonic_time ();
  vt_watch_arm_deadline (watch);
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* Asking                                                              */

/* Where the next request goes: a redirect's Location once, else the
 * channel's own URL. The token goes only where the job's URL points. */
static GUri *
vt_watch_next_uri (VtWatch     *watch,
                   const char **token)
{
  GUri *uri;

  if (watch->redirect_uri != NULL)
    uri = g_steal_pointer (&watch->redirect_uri);
  else if (watch->channel == CHANNEL_STREAM)
    {
      if (watch->events_uri == NULL)
        watch->events_uri = vt_protocol_job_events_uri (watch->base_url, watch->job_id);
      uri = g_uri_ref (watch->events_uri);
    }
  else if (watch->channel == CHANNEL_LONG_POLL && watch->requests == 1)
    {
      /* The first request asks without a wait, so the job's state is
       * known within a round trip; the held requests follow (a retry
       * too: a server that spoils quick answers may still hold). */
      watch->long_poll_wait = 0.0;
      uri = g_uri_ref (watch->uri);
    }
  else if (watch->channel == CHANNEL_LONG_POLL)
    {
      double left = watch->options.schedule.max_wait_time - vt_watch_elapsed (watch);

      watch->long_poll_wait = CLAMP (left, 0.0, VT_PROTOCOL_MAX_WAIT);
      uri = vt_protocol_long_poll_uri (watch->uri, watch->long_poll_wait);
    }
  else
    uri = g_uri_ref (watch->uri);

  *token = vt_protocol_same_origin (uri, watch->uri) ? watch->options.token : NULL;
  return uri;
}

/* Whether a 304 would lose nothing the watch needs: not when someone
 * watches the job's progress (a weak ETag changes with the status only,
 * and a 304 has no body), nor, unless the server's 304s carry Vt-Eta,
 * when the last ETA ran out (a fresh one places the next poll).
 * Conditional on the job's own URL only, what its ETag stood for. */
static gboolean
vt_watch_may_ask_if_changed (VtWatch *watch)
{
  if (watch->etag == NULL || watch->progress_wanted)
    return FALSE;
  if (watch->capabilities & VT_CAPABILITY_CONDITIONAL)
    return TRUE;

  return watch->eta_end_us == 0 || watch->eta_end_us > g_get_monotonic_time ();
}

/* The queue gave this request its turn. The queue's reference on the
 * watch becomes the request's. */
static void
vt_watch_start_request (gpointer data)
{
  VtWatch *watch = data;
  g_autoptr(GUri) uri = NULL;
  const char *token;
  double timeout = watch->options.request_timeout;
  gboolean redirected;

  if (watch->done)
    {
      vt_watch_request_done (watch, NULL);
      vt_watch_unref (watch);
      return;
    }

  watch->sent_us = g_get_monotonic_time ();
  watch->request_cancellable = g_cancellable_new ();
  redirected = watch->redirect_uri != NULL;
  uri = vt_watch_next_uri (watch, &token);

  g_debug ("job %s: request %u on %s (%.3f s elapsed)", vt_watch_name (watch),
           watch->requests, channel_names[watch->channel], vt_watch_elapsed (watch));

  if (watch->channel == CHANNEL_STREAM)
    {
      vt_watch_arm_deadline (watch);
      vt_channel_stream_async (watch->host->session, uri, token,
                               redirected ? NULL : watch->options.last_event_id,
                               watch->options.request_timeout, 0.0,
                               watch->request_cancellable, &stream_callbacks, watch,
                               on_stream_closed, watch);
      return;
    }

  /* A long-poll may be held for its wait, then answer. */
  if (watch->channel == CHANNEL_LONG_POLL)
    timeout += watch->long_poll_wait;

  vt_channel_http_get_job_async (watch->host->session, uri, token,
                                 redirected || !vt_watch_may_ask_if_changed (watch) ? NULL : watch->etag,
                                 timeout,
                                 watch->request_cancellable, on_exchange, watch);
}

static void
vt_watch_unref_unstarted (gpointer data)
{
  VtWatch *watch = data;

  g_clear_pointer (&watch->slot_queue, vt_request_queue_unref);
  vt_watch_unref (watch);
}

/* Sets what is known of the server and picks the channel by it. */
static void
vt_watch_set_capabilities (VtWatch        *watch,
                           gboolean        known,
                           VtCapabilities  capabilities)
{
  watch->capabilities = capabilities;
  watch->capabilities_known = known;
  watch->channel = vt_watch_pick_channel (watch);
}

/* No route to the server: nothing is sent and no attempt spent until the
 * network is back, but the budget runs on: it is the caller's
 * deadline. */
static gboolean
vt_watch_wait_if_offline (VtWatch *watch)
{
  if (watch->host->is_online (watch->host->host_data))
    return FALSE;

  if (watch->requests == 0)
    watch->started_us = g_get_monotonic_time ();
  g_clear_error (&watch->last_error);
  watch->last_error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_NETWORK_UNREACHABLE,
                                           "The network is unreachable");
  g_debug ("job %s: offline, waiting for the network", vt_watch_name (watch));
  watch->offline = TRUE;
  vt_watch_arm_deadline (watch);
  watch->host->wait_online (watch, watch->host->host_data);
  return TRUE;
}

static void
vt_watch_send (VtWatch *watch)
{
  VtRequestQueue *queue;

  if (vt_watch_wait_if_offline (watch))
    return;

  /* Nothing known of the server yet: one watch asks, the others wait for
   * its answer rather than each asking. */
  if (watch->requests == 0 && !watch->capabilities_known && vt_watch_wants_capabilities (watch))
    {
      gboolean known = FALSE;
      VtCapabilities capabilities = VT_CAPABILITY_NONE;

      if (watch->host->park (watch, &known, &capabilities, watch->host->host_data))
        {
          watch->parked = TRUE;
          return;
        }
      if (known)
        vt_watch_set_capabilities (watch, known, capabilities);
    }

  /* The budget runs from the first request, start jitter or not. */
  if (watch->requests++ == 0)
    watch->started_us = g_get_monotonic_time ();

  if (watch->channel == CHANNEL_FEED)
    {
      if (vt_watch_join_feed (watch))
        {
          g_debug ("job %s: request %u: joining the %s feed", vt_watch_name (watch),
                   watch->requests, watch->delivery == VT_FEED_DELIVERY_STREAM ?
                   "stream" : "long-poll");
          return;
        }
      /* No feed after all: that was no request. */
      watch->requests--;
      vt_watch_fall_back (watch);
      vt_watch_send (watch);
      return;
    }

  /* Held requests do not take the slots of quick ones. */
  queue = watch->channel == CHANNEL_POLL ? watch->host->queue : watch->host->held_queue;
  watch->slot_queue = vt_request_queue_ref (queue);
  vt_request_queue_push (queue, vt_watch_start_request, vt_watch_ref (watch),
                         vt_watch_unref_unstarted);
}

/* ------------------------------------------------------------------ */
/* Making and starting                                                 */

/*
 * vt_watch_new:
 * @job_id: (nullable): the job, %NULL for the server's classic one
 * @uri: the job's URL
 * @cancellable: (nullable): the caller's; cancelling it ends the watch
 *   in its main context's next iteration, from any thread
 *
 * Makes a watch in the thread-default main context; nothing is sent
 * before vt_watch_start().
 */
VtWatch *
vt_watch_new (const VtWatchHost     *host,
              const VtWatchOptions  *options,
              const char            *base_url,
              const char            *job_id,
              GUri                  *uri,
              GCancellable          *cancellable,
              const VtWatchListener *listener,
              gpointer               listener_data)
{
  VtWatch *watch = g_new0 (VtWatch, 1);

  g_atomic_ref_count_init (&watch->ref_count);
  watch->host = host;
  host->ref (host->host_data);
  watch->options = *options;
  watch->options.token = g_strdup (options->token);
  watch->options.last_event_id = g_strdup (options->last_event_id);
  watch->base_url = g_strdup (base_url);
  watch->job_id = g_strdup (job_id);
  watch->uri = g_uri_ref (uri);
  watch->listener = listener;
  watch->listener_data = listener_data;
  watch->context = g_main_context_ref_thread_default ();
  watch->link.data = watch;
  watch->last_status = STATUS_NONE;
  watch->last_pending_at = -1.0;
  watch->last_progress = -1.0;
  watch->last_eta = -1.0;
  watch->previous_eta = VT_ETA_SAMPLE_NONE;
  vt_timer_init (&watch->timer, on_timer, watch);
  vt_timer_init (&watch->deadline, on_deadline, watch);

  /* Watches started together and following one learned plan would poll
   * together: each shifts it by its own share of a step (unless the
   * caller asked for no randomness at all). */
  if (options->schedule.jitter > 0)
    watch->plan_shift = g_rand_double_range (host->rand, -0.5, 0.5);

  if (cancellable != NULL)
    {
      watch->caller = g_object_ref (cancellable);
      watch->caller_handler = g_cancellable_connect (cancellable,
                                                     G_CALLBACK (on_caller_cancelled),
                                                     watch, NULL);
    }

  return watch;
}

/*
 * vt_watch_resume:
 *
 * A parked watch makes its first request: with what the other watch's
 * answer told, or, when that told nothing, as the one that asks.
 */
void
vt_watch_resume (VtWatch        *watch,
                 gboolean        capabilities_known,
                 VtCapabilities  capabilities)
{
  g_return_if_fail (watch->parked);

  watch->parked = FALSE;
  if (watch->done)
    return;

  if (capabilities_known)
    vt_watch_set_capabilities (watch, TRUE, capabilities);
  vt_watch_send (watch);
}

/*
 * vt_watch_resume_online:
 *
 * The network is back: the watch asks within a second, at a random
 * instant of its start jitter (capped at that second), so that every
 * watch that waited does not ask at once.
 */
void
vt_watch_resume_online (VtWatch *watch)
{
  double delay = 0.0;

  if (watch->done || !watch->offline)
    return;

  watch->offline = FALSE;
  /* A push channel re-arms its deadline as it opens. */
  vt_timer_heap_cancel (watch->host->timers, &watch->deadline);
  if (watch->options.start_jitter > 0)
    delay = g_rand_double_range (watch->host->rand, 0.0, MIN (watch->options.start_jitter, 1.0));
  vt_timer_heap_schedule_in (watch->host->timers, &watch->timer, delay);
}

/*
 * vt_watch_network_returned:
 *
 * The network is back after an outage, and the watch was not waiting for
 * it: its next poll was planned before the outage and may be far off,
 * while the job may have ended meanwhile. It asks within a second, as
 * the watches that waited do, unless it was to ask sooner anyway. Push
 * channels and requests in flight are left alone.
 */
void
vt_watch_network_returned (VtWatch *watch)
{
  double delay = 0.0;
  gint64 latest_us;

  if (watch->done || watch->offline || !watch->started ||
      !vt_timer_is_scheduled (&watch->timer))
    return;

  if (watch->options.start_jitter > 0)
    delay = g_rand_double_range (watch->host->rand, 0.0, MIN (watch->options.start_jitter, 1.0));
  latest_us = g_get_monotonic_time () + (gint64) (delay * G_USEC_PER_SEC);
  if (watch->timer.due_us > latest_us)
    vt_timer_heap_schedule (watch->host->timers, &watch->timer, latest_us);
}

/*
 * vt_watch_want_progress:
 *
 * Someone watches the job's progress: on a feed, it moves to one that
 * sends progress events, so that what is extrapolated between answers
 * is corrected. Jobs nobody watches stay on a feed that tells status
 * changes only: ten thousand of them cost no event stream's worth of
 * progress.
 */
void
vt_watch_want_progress (VtWatch *watch)
{
  if (watch->done || watch->progress_wanted)
    return;

  watch->progress_wanted = TRUE;
  if (watch->channel != CHANNEL_FEED || watch->feed == NULL ||
      watch->options.progress_interval <= 0)
    return;

  g_debug ("job %s: its progress is watched, to a feed with progress events",
           vt_watch_name (watch));
  vt_watch_leave_feed (watch);
  /* The move is the feed's business, not one of the watch's requests. */
  if (!vt_watch_join_feed (watch))
    {
      vt_timer_heap_cancel (watch->host->timers, &watch->deadline);
      if (vt_watch_fall_back (watch))
        vt_watch_send (watch);
      else
        vt_watch_give_up (watch);
    }
}

/* Whether the channel depends on what the server offers: a watch that
 * only polls has nothing to wait for. */
gboolean
vt_watch_wants_capabilities (VtWatch *watch)
{
  return watch->options.strategy != VT_STRATEGY_POLL;
}

/*
 * vt_watch_start:
 * @capabilities_known: whether @capabilities says what the server offers
 *
 * Makes the first request at once, or after a random part of the start
 * jitter.
 */
void
vt_watch_start (VtWatch        *watch,
                gboolean        capabilities_known,
                VtCapabilities  capabilities)
{
  g_return_if_fail (!watch->started);

  if (watch->done)
    return;

  watch->started = TRUE;
  vt_watch_set_capabilities (watch, capabilities_known, capabilities);

  watch->started_us = g_get_monotonic_time ();
  if (watch->options.start_jitter > 0)
    vt_watch_wait (watch, g_rand_double_range (watch->host->rand, 0.0,
                                               watch->options.start_jitter));
  else
    vt_watch_send (watch);
}
