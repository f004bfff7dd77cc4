/* vt-watch.c: following one job to its end
 *
 * A watch is the state of one get_status_async call: its task, the job,
 * the clock, the counters and the last status seen. It asks the schedule
 * when to ask next and the channel how; it tells the caller through the
 * client's status-changed signal and completes the task exactly once.
 *
 * Ownership: the task owns the watch (task data). Every pending operation,
 * the in-flight request, the timer and the cancellation source, holds a
 * reference on the task; vt_watch_complete() tears all three down, so the
 * task and the watch go away as soon as the caller has its result.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "vt-channel-http-private.h"
#include "vt-client-private.h"
#include "vt-error.h"
#include "vt-watch-private.h"

/* A body we cannot read may be a passing fault (a proxy's error page, a
 * truncated answer); after this many in a row it is the server's answer. */
#define MAX_PROTOCOL_FAILURES 3

/* The last status seen before any: no observation yet. */
#define STATUS_NONE ((int) -1)

struct _VtWatch
{
  GTask          *task;        /* strong while running, NULL once complete */
  VtClient       *client;      /* the task's source object */
  SoupSession    *session;
  VtWatchOptions  options;
  GUri           *uri;
  char           *job_id;
  GRand          *rand;

  gint64          started_us;  /* monotonic time of the first request */
  guint           requests;    /* every request made, failed ones too */
  guint           polls;       /* requests that saw "pending" */
  guint           failures;    /* consecutive transient failures */
  guint           protocol_failures;
  int             last_status;
  GError         *last_error;  /* why the last request failed, if it did */

  GCancellable   *request_cancellable;
  GSource        *timer;
  GSource        *cancel_source;
};

void
vt_watch_options_clear (VtWatchOptions *options)
{
  g_clear_pointer (&options->token, g_free);
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
  g_clear_pointer (&watch->job_id, g_free);
  g_clear_pointer (&watch->rand, g_rand_free);
  g_clear_error (&watch->last_error);
  g_free (watch);
}

static double
vt_watch_elapsed (VtWatch *watch)
{
  return (g_get_monotonic_time () - watch->started_us) / (double) G_USEC_PER_SEC;
}

static void
vt_watch_stop_timer (VtWatch *watch)
{
  if (watch->timer != NULL)
    {
      g_source_destroy (watch->timer);
      g_clear_pointer (&watch->timer, g_source_unref);
    }
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

  vt_watch_stop_timer (watch);
  if (watch->request_cancellable != NULL)
    {
      g_cancellable_cancel (watch->request_cancellable);
      g_clear_object (&watch->request_cancellable);
    }
  if (watch->cancel_source != NULL)
    {
      g_source_destroy (watch->cancel_source);
      g_clear_pointer (&watch->cancel_source, g_source_unref);
    }

  vt_client_watch_finished (watch->client, watch);

  if (error != NULL)
    {
      g_debug ("job %s: failed after %u requests: %s",
               watch->job_id ? watch->job_id : "(default)", watch->requests,
               error->message);
      g_task_return_error (task, error);
    }
  else
    {
      g_debug ("job %s: final status %d after %u requests",
               watch->job_id ? watch->job_id : "(default)", status,
               watch->requests);
      g_task_return_int (task, status);
    }
}

static void
vt_watch_observe (VtWatch  *watch,
                  VtStatus  status)
{
  if ((int) status == watch->last_status)
    return;

  watch->last_status = status;
  vt_client_emit_status_changed (watch->client, watch->job_id, status);
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
           watch->job_id ? watch->job_id : "(default)", delay,
           vt_watch_elapsed (watch));

  watch->timer = g_timeout_source_new ((guint) (delay * 1000.0 + 0.5));
  g_source_set_name (watch->timer, "[vtclient] poll timer");
  g_task_attach_source (watch->task, watch->timer, on_timer);
}

/* The budget ran out. A watch whose last request failed never learned the
 * status: that is an error, not a timeout. */
static void
vt_watch_give_up (VtWatch *watch)
{
  if (watch->last_error != NULL)
    {
      GError *error;

      if (watch->last_error->domain == VT_CLIENT_ERROR)
        error = g_error_copy (watch->last_error);
      else
        error = g_error_new (VT_CLIENT_ERROR, VT_CLIENT_ERROR_UNREACHABLE,
                             "The server stayed unreachable: %s",
                             watch->last_error->message);
      vt_watch_complete (watch, VT_STATUS_TIMEOUT, error);
    }
  else
    vt_watch_complete (watch, VT_STATUS_TIMEOUT, NULL);
}

static gboolean
vt_watch_attempts_left (VtWatch *watch)
{
  guint max = watch->options.schedule.max_attempts;

  return max == 0 || watch->requests < max;
}

static void
vt_watch_on_pending (VtWatch          *watch,
                     VtExchange       *exchange)
{
  double delay;

  watch->polls++;

  if (!vt_schedule_next_delay (&watch->options.schedule, watch->requests,
                               vt_watch_elapsed (watch), &exchange->hints,
                               watch->rand, &delay))
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
           watch->job_id ? watch->job_id : "(default)", watch->requests,
           watch->last_error->message);

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

  switch (exchange->kind)
    {
    case VT_EXCHANGE_OK:
      g_clear_error (&watch->last_error);
      watch->failures = 0;
      watch->protocol_failures = 0;
      vt_watch_observe (watch, exchange->observation.status);
      if (exchange->observation.status != VT_STATUS_PENDING)
        vt_watch_complete (watch, exchange->observation.status, NULL);
      else if (!vt_watch_attempts_left (watch))
        vt_watch_give_up (watch);
      else
        vt_watch_on_pending (watch, exchange);
      break;

    case VT_EXCHANGE_TRANSIENT:
    case VT_EXCHANGE_PROTOCOL:
      vt_watch_on_failure (watch, exchange);
      break;

    case VT_EXCHANGE_FATAL:
      vt_watch_complete (watch, VT_STATUS_TIMEOUT, g_steal_pointer (&exchange->error));
      break;

    case VT_EXCHANGE_CANCELLED:
    default:
      /* Only vt_watch_complete() cancels requests, and it already ran. */
      g_assert_not_reached ();
    }
}

static void
vt_watch_send (VtWatch *watch)
{
  watch->requests++;

  g_debug ("job %s: GET %s (request %u, %.3f s elapsed)",
           watch->job_id ? watch->job_id : "(default)",
           g_uri_get_path (watch->uri), watch->requests,
           watch->requests == 1 ? 0.0 : vt_watch_elapsed (watch));

  watch->request_cancellable = g_cancellable_new ();
  vt_channel_http_get_job_async (watch->session, watch->uri,
                                 watch->options.token,
                                 watch->options.request_timeout,
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

/*
 * vt_watch_start:
 * @task: the caller's task; the watch becomes its task data
 *
 * Makes the first request at once.
 */
VtWatch *
vt_watch_start (VtClient             *client,
                SoupSession          *session,
                const VtWatchOptions *options,
                GUri                 *uri,
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
  watch->uri = g_uri_ref (uri);
  watch->job_id = g_strdup (job_id);
  watch->rand = g_rand_new ();
  watch->last_status = STATUS_NONE;
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
