/* vt-watch.c: following one job to its end
 *
 * A watch is the state of one get_status_async call: its task, the job,
 * the clock, the counters and the last status seen. It asks the schedule
 * when to ask next and a channel how (a plain poll, a long-poll, an event
 * stream); it tells the caller through the client's signals and completes
 * the task exactly once.
 *
 * Ownership: the task owns the watch (task data). Every pending operation,
 * the in-flight request or stream, the timers and the cancellation source,
 * holds a reference on the task; vt_watch_complete() tears all of them
 * down, so the task and the watch go away as soon as the caller has its
 * result.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <math.h>

#include "vt-channel-http-private.h"
#include "vt-channel-stream-private.h"
#include "vt-client-private.h"
#include "vt-error.h"
#include "vt-watch-private.h"

/* A body we cannot read may be a passing fault (a proxy's error page, a
 * truncated answer); after this many in a row it is the server's answer. */
#define MAX_PROTOCOL_FAILURES 3

/* The longest a long-poll may ask the server to hold (vt-server's cap). */
#define MAX_LONG_POLL_WAIT 60.0

/* A long-poll answered "pending" in less than this share of the wait it
 * asked for was not held: the server does not long-poll. */
#define LONG_POLL_HELD_FRACTION 0.5

/* The last status seen before any: no observation yet. */
#define STATUS_NONE ((int) -1)

struct _VtWatch
{
  GTask          *task;        /* strong while running, NULL once complete */
  VtClient       *client;      /* the task's source object */
  SoupSession    *session;
  VtWatchOptions  options;
  GUri           *uri;
  GUri           *events_uri;  /* NULL for the default job */
  char           *job_id;
  GRand          *rand;
  VtStrategy      channel;     /* the channel in use: poll, long-poll, stream */

  gint64          started_us;  /* monotonic time of the first request */
  gint64          sent_us;     /* when the request in flight went out */
  double          long_poll_wait;
  guint           requests;    /* every request made, failed ones too */
  guint           failures;    /* consecutive transient failures */
  guint           protocol_failures;
  guint           redirects;   /* redirects answered in a row */
  GUri           *redirect_uri; /* where the next request goes, once */
  int             last_status;
  double          last_pending_at;  /* elapsed when the request that last saw
                                     * "pending" went out, or -1 */
  double          plan_shift;       /* this watch's shift of a learned plan */
  VtSchedulePlan  plan;             /* the learned plan it follows, if planned */
  gboolean        planned;
  gboolean        plan_fetched;
  double          last_progress;
  double          last_eta;
  VtEtaSample     previous_eta;
  GError         *last_error;  /* why the last request failed, if it did */

  GCancellable   *request_cancellable;
  GSource        *timer;
  GSource        *deadline;    /* streams only: polls end by the schedule */
  GSource        *cancel_source;
};

void
vt_watch_options_clear (VtWatchOptions *options)
{
  g_clear_pointer (&options->token, g_free);
  g_clear_pointer (&options->base_url, g_free);
}

static void
vt_watch_free (VtWatch *watch)
{
  g_assert (watch->task == NULL);
  g_assert (watch->timer == NULL);
  g_assert (watch->request_cancellable == NULL);

  vt_watch_options_clear (&watch->options);
  g_clear_object (&watch->session);
  g_clear_pointer (&watch->uri, g_uri_unref);
  g_clear_pointer (&watch->events_uri, g_uri_unref);
  g_clear_pointer (&watch->redirect_uri, g_uri_unref);
  g_clear_pointer (&watch->job_id, g_free);
  g_clear_pointer (&watch->rand, g_rand_free);
  g_clear_error (&watch->last_error);
  g_free (watch);
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

static void
destroy_source (GSource **source)
{
  if (*source != NULL)
    {
      g_source_destroy (*source);
      g_clear_pointer (source, g_source_unref);
    }
}

static void
vt_watch_cancel_request (VtWatch *watch)
{
  if (watch->request_cancellable != NULL)
    {
      g_cancellable_cancel (watch->request_cancellable);
      g_clear_object (&watch->request_cancellable);
    }
}

/* Files what this job taught us: how long it took, and what the server
 * can do. Push channels see the end as it happens; a poll only knows it
 * came after the server answered "pending" (no earlier than that request
 * went out) and before the final answer arrived, and files that
 * interval. */
static void
vt_watch_learn (VtWatch *watch)
{
  double now = vt_watch_elapsed (watch);
  double ended_after = -1.0;

  /* A job already over at the first answer says nothing of its length. */
  if (watch->last_pending_at >= 0)
    ended_after = watch->channel == VT_STRATEGY_POLL ? watch->last_pending_at : now;

  vt_client_learn (watch->client, watch->options.base_url,
                   watch->options.capabilities, ended_after, ended_after >= 0 ? now : -1.0);
}

/* The single way out: every path that ends a watch, the final status,
 * an error, cancellation and the client's dispose, comes through here. */
static void
vt_watch_complete (VtWatch  *watch,
                   VtStatus  status,
                   GError   *error)
{
  g_autoptr(GTask) task = g_steal_pointer (&watch->task);

  g_return_if_fail (task != NULL);

  destroy_source (&watch->timer);
  destroy_source (&watch->deadline);
  destroy_source (&watch->cancel_source);
  vt_watch_cancel_request (watch);

  vt_client_watch_finished (watch->client, watch);

  if (error != NULL)
    {
      g_debug ("job %s: failed after %u requests: %s",
               vt_watch_name (watch), watch->requests, error->message);
      g_task_return_error (task, error);
    }
  else
    {
      g_debug ("job %s: final status %d after %u requests, %.3f s",
               vt_watch_name (watch), status, watch->requests,
               vt_watch_elapsed (watch));
      if (status != VT_STATUS_TIMEOUT)
        vt_watch_learn (watch);
      g_task_return_int (task, status);
    }
}

static void
vt_watch_observe (VtWatch                *watch,
                  const VtJobObservation *observation)
{
  if (observation->status == VT_STATUS_PENDING)
    {
      /* The server saw the job pending after this request went out. */
      watch->last_pending_at = (watch->sent_us - watch->started_us) / (double) G_USEC_PER_SEC;

      if (observation->progress != watch->last_progress ||
          observation->eta != watch->last_eta)
        {
          watch->last_progress = observation->progress;
          watch->last_eta = observation->eta;
          if (observation->progress >= 0 || observation->eta >= 0)
            vt_client_emit_progress_changed (watch->client, watch->job_id,
                                             observation->progress,
                                             observation->eta);
        }
    }

  if ((int) observation->status == watch->last_status)
    return;

  watch->last_status = observation->status;
  vt_client_emit_status_changed (watch->client, watch->job_id, observation->status);
}

static void vt_watch_send (VtWatch *watch);

static gboolean
on_timer (gpointer user_data)
{
  VtWatch *watch = g_task_get_task_data (G_TASK (user_data));

  g_clear_pointer (&watch->timer, g_source_unref);
  vt_watch_send (watch);

  return G_SOURCE_REMOVE;
}

static void
vt_watch_wait (VtWatch *watch,
               double   delay)
{
  g_debug ("job %s: waiting %.3f s (%.3f s elapsed)",
           vt_watch_name (watch), delay, vt_watch_elapsed (watch));

  /* Rounded up: a poll timed to a job's estimated end must not go early. */
  watch->timer = g_timeout_source_new ((guint) ceil (delay * 1000.0));
  g_source_set_name (watch->timer, "[vtclient] poll timer");
  g_task_attach_source (watch->task, watch->timer, on_timer);
}

/* The budget ran out. A watch whose last request failed never learned the
 * status: that is an error, not a timeout. */
static void
vt_watch_give_up (VtWatch *watch)
{
  GError *error = NULL;

  if (watch->last_error != NULL && watch->last_error->domain == VT_CLIENT_ERROR)
    error = g_error_copy (watch->last_error);
  else if (watch->last_error != NULL)
    error = g_error_new (VT_CLIENT_ERROR, VT_CLIENT_ERROR_UNREACHABLE,
                         "The server stayed unreachable: %s",
                         watch->last_error->message);

  vt_watch_complete (watch, VT_STATUS_TIMEOUT, error);
}

static gboolean
vt_watch_attempts_left (VtWatch *watch)
{
  guint max = watch->options.schedule.max_attempts;

  return max == 0 || watch->requests < max;
}

/* The best channel for what the server announced. */
static VtStrategy
vt_watch_pick_channel (VtWatch *watch,
                       guint    capabilities)
{
  if ((capabilities & VT_CAPABILITY_EVENTS) && watch->events_uri != NULL)
    return VT_STRATEGY_STREAM;
  if (capabilities & VT_CAPABILITY_LONG_POLL)
    return VT_STRATEGY_LONG_POLL;
  return VT_STRATEGY_POLL;
}

/* A channel was refused (a server without event streams answers their
 * URL with 404, say): step down to the next one without losing the task.
 * Explicit strategies too: a plain poll then tells a missing job from a
 * missing channel. Returns %FALSE when there is nothing below. */
static gboolean
vt_watch_fall_back (VtWatch *watch)
{
  if (watch->channel == VT_STRATEGY_POLL)
    return FALSE;

  watch->options.capabilities &= watch->channel == VT_STRATEGY_STREAM ?
                                 ~VT_CAPABILITY_EVENTS : ~VT_CAPABILITY_LONG_POLL;
  watch->channel = vt_watch_pick_channel (watch, watch->options.capabilities);
  g_debug ("job %s: falling back to channel %d", vt_watch_name (watch), watch->channel);

  return TRUE;
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
  double delay;

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

  if (watch->channel == VT_STRATEGY_LONG_POLL)
    {
      double held = (g_get_monotonic_time () - watch->sent_us) / (double) G_USEC_PER_SEC;

      /* Held until the wait ran out: ask again at once. */
      if (held >= watch->long_poll_wait * LONG_POLL_HELD_FRACTION)
        {
          if (vt_watch_elapsed (watch) < watch->options.schedule.max_wait_time)
            vt_watch_send (watch);
          else
            vt_watch_give_up (watch);
          return;
        }

      /* Not held: this server does not long-poll. Poll on the schedule. */
      g_debug ("job %s: long-poll answered at once, polling instead", vt_watch_name (watch));
      watch->options.capabilities &= ~VT_CAPABILITY_LONG_POLL;
      watch->channel = VT_STRATEGY_POLL;
    }

  hints.eta = vt_schedule_eta_wait (&watch->options.schedule, &watch->previous_eta, &current);
  watch->previous_eta = current;

  /* One plan for the whole watch, the one that stood when it started:
   * its attempts are counted for that plan, and a plan remade while a
   * batch of jobs runs would have learned only the batch's short ones. */
  if (!watch->plan_fetched)
    {
      watch->planned = vt_client_get_plan (watch->client, watch->options.base_url,
                                           &watch->options.schedule, &watch->plan);
      watch->plan.shift = watch->plan_shift;
      watch->plan_fetched = TRUE;
    }
  if (!vt_schedule_next_delay (&watch->options.schedule, watch->requests,
                               vt_watch_elapsed (watch), &hints,
                               watch->planned ? &watch->plan : NULL, watch->rand, &delay))
    {
      vt_watch_give_up (watch);
      return;
    }

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
                                exchange->hints.retry_after, watch->rand, &delay))
    {
      vt_watch_give_up (watch);
      return;
    }

  vt_watch_wait (watch, delay);
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

  if (observation->status == VT_STATUS_PENDING)
    return FALSE;

  vt_watch_complete (watch, observation->status, NULL);
  return TRUE;
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

static void
on_exchange (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  VtWatch *watch = g_task_get_task_data (task);
  g_autoptr(VtExchange) exchange = NULL;

  exchange = vt_channel_http_get_job_finish (SOUP_SESSION (object), result);

  /* Completed meanwhile (cancelled, disposed): nothing more to say. */
  if (watch->task == NULL)
    return;

  g_clear_object (&watch->request_cancellable);
  if (exchange->kind != VT_EXCHANGE_REDIRECT)
    watch->redirects = 0;

  /* The first answer in auto mode tells what the server can do. */
  if (exchange->kind == VT_EXCHANGE_OK && !watch->options.capabilities_known)
    {
      watch->options.capabilities = exchange->capabilities;
      watch->options.capabilities_known = TRUE;
      if (watch->options.strategy == VT_STRATEGY_AUTO)
        watch->channel = vt_watch_pick_channel (watch, exchange->capabilities);
    }

  switch (exchange->kind)
    {
    case VT_EXCHANGE_OK:
      if (!vt_watch_on_observation (watch, &exchange->observation))
        {
          /* Switched to a push channel: open it now, no wait. */
          if (watch->channel == VT_STRATEGY_STREAM)
            vt_watch_send (watch);
          else
            vt_watch_on_pending (watch, exchange);
        }
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
      if (watch->channel == VT_STRATEGY_LONG_POLL &&
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
on_stream_event (const VtJobObservation *observation,
                 gpointer                user_data)
{
  VtWatch *watch = user_data;

  if (watch->task != NULL)
    vt_watch_on_observation (watch, observation);
}

static void
on_stream_closed (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  VtWatch *watch = g_task_get_task_data (task);
  g_autoptr(VtExchange) exchange = NULL;

  exchange = vt_channel_stream_finish (SOUP_SESSION (object), result);

  if (watch->task == NULL)
    return;

  g_clear_object (&watch->request_cancellable);
  destroy_source (&watch->deadline);
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

static gboolean
on_deadline (gpointer user_data)
{
  VtWatch *watch = g_task_get_task_data (G_TASK (user_data));

  g_clear_pointer (&watch->deadline, g_source_unref);
  vt_watch_give_up (watch);

  return G_SOURCE_REMOVE;
}

static void
vt_watch_open_stream (VtWatch    *watch,
                      GUri       *uri,
                      const char *token)
{
  double left = watch->options.schedule.max_wait_time - vt_watch_elapsed (watch);

  /* A quiet stream is fine for as long as the job runs, but not past the
   * caller's budget. */
  watch->deadline = g_timeout_source_new ((guint) (MAX (left, 0.0) * 1000.0 + 0.5));
  g_source_set_name (watch->deadline, "[vtclient] stream deadline");
  g_task_attach_source (watch->task, watch->deadline, on_deadline);

  vt_channel_stream_async (watch->session, uri, token,
                           watch->options.request_timeout, watch->request_cancellable,
                           on_stream_event, watch,
                           on_stream_closed, g_object_ref (watch->task));
}

/* The job's URL with ?wait= for as long as the budget allows, capped. */
static GUri *
vt_watch_long_poll_uri (VtWatch *watch)
{
  g_autofree char *query = NULL;
  double left = watch->options.schedule.max_wait_time - vt_watch_elapsed (watch);

  watch->long_poll_wait = CLAMP (left, 0.0, MAX_LONG_POLL_WAIT);
  query = g_strdup_printf ("wait=%.3f", watch->long_poll_wait);

  return g_uri_build (G_URI_FLAGS_ENCODED,
                      g_uri_get_scheme (watch->uri), g_uri_get_userinfo (watch->uri),
                      g_uri_get_host (watch->uri), g_uri_get_port (watch->uri),
                      g_uri_get_path (watch->uri), query, NULL);
}

/* Where the next request goes: a redirect's Location once, else the
 * channel's own URL. The token goes only where the job's URL points. */
static GUri *
vt_watch_next_uri (VtWatch     *watch,
                   const char **token)
{
  GUri *uri;

  if (watch->redirect_uri != NULL)
    uri = g_steal_pointer (&watch->redirect_uri);
  else if (watch->channel == VT_STRATEGY_STREAM)
    uri = g_uri_ref (watch->events_uri);
  else if (watch->channel == VT_STRATEGY_LONG_POLL)
    uri = vt_watch_long_poll_uri (watch);
  else
    uri = g_uri_ref (watch->uri);

  *token = vt_uri_same_origin (uri, watch->uri) ? watch->options.token : NULL;
  return uri;
}

static void
vt_watch_send (VtWatch *watch)
{
  g_autoptr(GUri) uri = NULL;
  const char *token;
  double timeout = watch->options.request_timeout;

  watch->sent_us = g_get_monotonic_time ();
  /* The budget runs from the first request, start jitter or not. */
  if (watch->requests++ == 0)
    watch->started_us = watch->sent_us;
  watch->request_cancellable = g_cancellable_new ();

  g_debug ("job %s: request %u on channel %d (%.3f s elapsed)",
           vt_watch_name (watch), watch->requests, watch->channel,
           vt_watch_elapsed (watch));

  uri = vt_watch_next_uri (watch, &token);
  if (watch->channel == VT_STRATEGY_STREAM)
    {
      vt_watch_open_stream (watch, uri, token);
      return;
    }

  /* A long-poll may be held for its wait, then answer. */
  if (watch->channel == VT_STRATEGY_LONG_POLL)
    timeout += watch->long_poll_wait;

  vt_channel_http_get_job_async (watch->session, uri, token, timeout,
                                 watch->request_cancellable,
                                 on_exchange, g_object_ref (watch->task));
}

static gboolean
on_cancelled (GCancellable *cancellable,
              gpointer      user_data)
{
  VtWatch *watch = g_task_get_task_data (G_TASK (user_data));

  vt_watch_cancel (watch);

  return G_SOURCE_REMOVE;
}

/* The channel of the first request. Auto mode with nothing known about the
 * server starts with a plain poll, whose answer says what else it offers. */
static VtStrategy
vt_watch_first_channel (VtWatch *watch)
{
  switch (watch->options.strategy)
    {
    case VT_STRATEGY_STREAM:
      return watch->events_uri != NULL ? VT_STRATEGY_STREAM : VT_STRATEGY_LONG_POLL;
    case VT_STRATEGY_LONG_POLL:
    case VT_STRATEGY_POLL:
      return watch->options.strategy;
    case VT_STRATEGY_AUTO:
    default:
      return watch->options.capabilities_known ?
             vt_watch_pick_channel (watch, watch->options.capabilities) :
             VT_STRATEGY_POLL;
    }
}

/*
 * vt_watch_start:
 * @events_uri: (nullable): the job's event stream
 * @task: the caller's task; the watch becomes its task data
 *
 * Makes the first request at once, or after a random part of the start
 * jitter.
 */
VtWatch *
vt_watch_start (VtClient             *client,
                SoupSession          *session,
                const VtWatchOptions *options,
                GUri                 *uri,
                GUri                 *events_uri,
                const char           *job_id,
                GTask                *task)
{
  VtWatch *watch = g_new0 (VtWatch, 1);
  GCancellable *cancellable = g_task_get_cancellable (task);

  watch->task = g_object_ref (task);
  watch->client = client;
  watch->session = g_object_ref (session);
  watch->options = *options;
  watch->options.token = g_strdup (options->token);
  watch->options.base_url = g_strdup (options->base_url);
  watch->uri = g_uri_ref (uri);
  watch->events_uri = events_uri ? g_uri_ref (events_uri) : NULL;
  watch->job_id = g_strdup (job_id);
  watch->rand = g_rand_new ();
  watch->last_status = STATUS_NONE;
  watch->last_pending_at = -1.0;
  watch->last_progress = -1.0;
  watch->last_eta = -1.0;
  watch->previous_eta = VT_ETA_SAMPLE_NONE;
  watch->channel = vt_watch_first_channel (watch);
  /* Watches started together and following one learned plan would poll
   * together: each shifts it by its own share of a step (unless the
   * caller asked for no randomness at all). */
  if (options->schedule.jitter > 0)
    watch->plan_shift = g_rand_double_range (watch->rand, -0.5, 0.5);
  g_task_set_task_data (task, watch, (GDestroyNotify) vt_watch_free);

  /* Cancellation is noticed by a source on the task's context, so it
   * completes the task promptly from whatever thread cancelled. */
  if (cancellable != NULL)
    {
      watch->cancel_source = g_cancellable_source_new (cancellable);
      g_source_set_name (watch->cancel_source, "[vtclient] cancellation");
      g_task_attach_source (task, watch->cancel_source, (GSourceFunc) on_cancelled);
    }

  watch->started_us = g_get_monotonic_time ();
  if (options->start_jitter > 0)
    vt_watch_wait (watch, g_rand_double_range (watch->rand, 0.0, options->start_jitter));
  else
    vt_watch_send (watch);

  return watch;
}

/*
 * vt_watch_cancel:
 *
 * Completes the watch with G_IO_ERROR_CANCELLED, if it is still running.
 */
void
vt_watch_cancel (VtWatch *watch)
{
  if (watch->task == NULL)
    return;

  vt_watch_complete (watch, VT_STATUS_TIMEOUT,
                     g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                          "The operation was cancelled"));
}
