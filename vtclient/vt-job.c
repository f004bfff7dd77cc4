/* vt-job.c: one job being followed, as an object widgets can bind to
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <math.h>

#include "vt-enum-types.h"
#include "vt-error.h"
#include "vt-job-private.h"

/**
 * VtJob:
 *
 * A job a [class@Vt.Client] follows, from [method@Vt.Client.follow].
 *
 * Its properties tell what is known of the job as it runs: its
 * [property@Vt.Job:status], its [property@Vt.Job:progress] and
 * [property@Vt.Job:eta] while pending, and, at its end, where the
 * translated video is ([property@Vt.Job:result-url]) or why it failed
 * ([property@Vt.Job:message]). Each property notifies once per change and
 * never for an unchanged value, so widgets can be bound to them:
 *
 * ```c
 * g_autoptr(VtJob) job = vt_client_follow (client, job_id);
 *
 * g_object_bind_property (job, "progress", progress_bar, "fraction",
 *                         G_BINDING_SYNC_CREATE);
 * ```
 *
 * While a job is pending and the server has told its progress or ETA,
 * both are extrapolated between the server's answers, on the server's own
 * clock, [property@Vt.Client:progress-rate] times a second: the progress
 * never goes back, stays below 0.99 until the server says the job
 * completed, and is exactly 1 when it does. No request is added for it.
 *
 * [method@Vt.Job.wait_async] gives the final status; any number of
 * callers may wait on one job. [method@Vt.Job.cancel] stops following it.
 * Once it is no longer followed, the job leaves
 * [method@Vt.Client.get_jobs]; its properties keep their last values.
 */

/* The most a job's progress is shown at before its server says it
 * completed: an estimate is no end. */
#define MAX_EXTRAPOLATED_PROGRESS 0.99

typedef struct
{
  VtJob        *job;
  GTask        *task;
  GCancellable *cancellable;
  gulong        handler;
  gboolean      cancels_unheld;
  gboolean      cancelled;   /* its cancellable fired; ended in an idle */
} Waiter;

struct _VtJob
{
  GObject           parent_instance;

  char             *id;
  VtStatus          status;
  gboolean          status_seen;   /* an answer told it */
  double            progress;
  double            eta;
  char             *result_url;
  char             *message;
  GDateTime        *created_at;
  GDateTime        *completed_at;
  JsonObject       *document;

  gboolean          finished;
  VtStatus          final_status;
  GError           *final_error;
  GQueue            waiters;      /* Waiter * */
  guint             holds;        /* vt_client_follow() calls */
  VtWatch          *watch;        /* while it is followed */
  guint64           serial;       /* the order jobs were made in */
  const VtJobHooks *hooks;
  gpointer          hooks_data;
  GMainContext     *context;

  /* Smooth progress: the last observation with a progress or an ETA,
   * when it arrived, and the ticker that extrapolates from it. */
  double            progress_rate;
  gboolean          have_estimate;
  gint64            observed_us;
  double            observed_progress;   /* -1 when unknown */
  double            observed_eta;        /* -1 when unknown */
  double            observed_elapsed;    /* the job's age on the server, or -1 */
  double            speed;               /* progress per second, or -1 */
  GSource          *ticker;
  gboolean          watched;             /* someone showed interest in progress */
};

enum {
  PROP_0,
  PROP_ID,
  PROP_STATUS,
  PROP_PROGRESS,
  PROP_ETA,
  PROP_RESULT_URL,
  PROP_MESSAGE,
  PROP_CREATED_AT,
  PROP_COMPLETED_AT,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

G_DEFINE_FINAL_TYPE (VtJob, vt_job, G_TYPE_OBJECT)

static void vt_job_stop_ticker (VtJob *self);
static void vt_job_progress_read (VtJob *self);
static void update_ticker (VtJob *self);
static void become_watched (VtJob *self);

static void
vt_job_dispose (GObject *object)
{
  VtJob *self = VT_JOB (object);

  vt_job_stop_ticker (self);
  g_assert (self->waiters.length == 0);

  G_OBJECT_CLASS (vt_job_parent_class)->dispose (object);
}

static void
vt_job_finalize (GObject *object)
{
  VtJob *self = VT_JOB (object);

  g_clear_pointer (&self->watch, vt_watch_unref);
  g_free (self->id);
  g_free (self->result_url);
  g_free (self->message);
  g_clear_pointer (&self->created_at, g_date_time_unref);
  g_clear_pointer (&self->completed_at, g_date_time_unref);
  g_clear_pointer (&self->document, json_object_unref);
  g_clear_error (&self->final_error);
  g_clear_pointer (&self->context, g_main_context_unref);

  G_OBJECT_CLASS (vt_job_parent_class)->finalize (object);
}

static void
vt_job_get_property (GObject    *object,
                     guint       prop_id,
                     GValue     *value,
                     GParamSpec *pspec)
{
  VtJob *self = VT_JOB (object);

  switch (prop_id)
    {
    case PROP_ID:
      g_value_set_string (value, self->id);
      break;
    case PROP_STATUS:
      g_value_set_enum (value, self->status);
      break;
    case PROP_PROGRESS:
      g_value_set_double (value, self->progress);
      vt_job_progress_read (self);
      break;
    case PROP_ETA:
      g_value_set_double (value, self->eta);
      vt_job_progress_read (self);
      break;
    case PROP_RESULT_URL:
      g_value_set_string (value, self->result_url);
      break;
    case PROP_MESSAGE:
      g_value_set_string (value, self->message);
      break;
    case PROP_CREATED_AT:
      g_value_set_boxed (value, self->created_at);
      break;
    case PROP_COMPLETED_AT:
      g_value_set_boxed (value, self->completed_at);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
vt_job_class_init (VtJobClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = vt_job_dispose;
  object_class->finalize = vt_job_finalize;
  object_class->get_property = vt_job_get_property;

  /**
   * VtJob:id: (attributes org.gtk.Property.get=vt_job_get_id)
   *
   * The job's id on its server, or %NULL for the server's classic job
   * (`GET /status`).
   */
  props[PROP_ID] =
    g_param_spec_string ("id", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * VtJob:status: (attributes org.gtk.Property.get=vt_job_get_status)
   *
   * The job's status as last seen: [enum@Vt.Status.PENDING] while it
   * runs (and before the first answer), its final status once it ended,
   * [enum@Vt.Status.TIMEOUT] when the client's budget ran out first. A
   * job that could not be followed (see [method@Vt.Job.wait_finish])
   * keeps the last status seen.
   */
  props[PROP_STATUS] =
    g_param_spec_enum ("status", NULL, NULL, VT_TYPE_STATUS, VT_STATUS_PENDING,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * VtJob:progress: (attributes org.gtk.Property.get=vt_job_get_progress)
   *
   * The share of the job done, from 0 to 1: the server's, extrapolated
   * between its answers, monotonic, below 0.99 until the job completed,
   * exactly 1 when it did. 0 while nothing is known.
   */
  props[PROP_PROGRESS] =
    g_param_spec_double ("progress", NULL, NULL, 0.0, 1.0, 0.0,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * VtJob:eta: (attributes org.gtk.Property.get=vt_job_get_eta)
   *
   * The seconds left by the server's estimate, counted down between its
   * answers; 0 once the job ended, -1 while unknown.
   */
  props[PROP_ETA] =
    g_param_spec_double ("eta", NULL, NULL, -1.0, G_MAXDOUBLE, -1.0,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * VtJob:result-url: (attributes org.gtk.Property.get=vt_job_get_result_url)
   *
   * Where the translated video is, once the job completed, if the server
   * said; else %NULL.
   */
  props[PROP_RESULT_URL] =
    g_param_spec_string ("result-url", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * VtJob:message: (attributes org.gtk.Property.get=vt_job_get_message)
   *
   * The server's reason, for a job that ended in error; else %NULL.
   */
  props[PROP_MESSAGE] =
    g_param_spec_string ("message", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * VtJob:created-at: (attributes org.gtk.Property.get=vt_job_get_created_at)
   *
   * When the server created the job, if it said.
   */
  props[PROP_CREATED_AT] =
    g_param_spec_boxed ("created-at", NULL, NULL, G_TYPE_DATE_TIME,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * VtJob:completed-at: (attributes org.gtk.Property.get=vt_job_get_completed_at)
   *
   * When the job ended, by the server, if it said.
   */
  props[PROP_COMPLETED_AT] =
    g_param_spec_boxed ("completed-at", NULL, NULL, G_TYPE_DATE_TIME,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, props);
}

static void
vt_job_init (VtJob *self)
{
  self->status = VT_STATUS_PENDING;
  self->eta = -1.0;
  self->observed_progress = -1.0;
  self->observed_eta = -1.0;
  self->observed_elapsed = -1.0;
  self->speed = -1.0;
  g_queue_init (&self->waiters);
}

/*
 * vt_job_new:
 * @job_id: (nullable): %NULL for the server's classic job
 * @progress_rate: extrapolated progress updates a second, 0 for none
 *
 * A job of the thread-default main context, where its notifications run.
 */
static gsize next_serial;

VtJob *
vt_job_new (const char       *job_id,
            double            progress_rate,
            const VtJobHooks *hooks,
            gpointer          hooks_data)
{
  VtJob *self = g_object_new (VT_TYPE_JOB, NULL);

  self->id = g_strdup (job_id);
  self->progress_rate = progress_rate;
  self->hooks = hooks;
  self->hooks_data = hooks_data;
  self->context = g_main_context_ref_thread_default ();
  self->serial = g_atomic_pointer_add (&next_serial, 1);

  return self;
}

/* ------------------------------------------------------------------ */
/* Properties, changed                                                 */

/* The property notifies when its value changes; the client's
 * status-changed also tells the first status seen, pending as it may be
 * (the property's value before any answer). */
static void
set_status (VtJob    *self,
            VtStatus  status)
{
  gboolean first = !self->status_seen;

  if (self->status == status && !first)
    return;

  self->status_seen = TRUE;
  if (self->status != status)
    {
      self->status = status;
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_STATUS]);
    }
  if (self->hooks != NULL)
    self->hooks->status_changed (self, status, self->hooks_data);
}

static void
set_string (VtJob       *self,
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

static void
set_time (VtJob      *self,
          GDateTime **field,
          GDateTime  *value,
          guint       prop_id)
{
  if (value == NULL || (*field != NULL && g_date_time_equal (*field, value)))
    return;

  g_clear_pointer (field, g_date_time_unref);
  *field = g_date_time_ref (value);
  g_object_notify_by_pspec (G_OBJECT (self), props[prop_id]);
}

/* Progress and ETA change together, and progress-changed tells both: it
 * fires when either moved, never for the same pair twice. */
static void
set_progress (VtJob  *self,
              double  progress,
              double  eta)
{
  gboolean progress_moved = progress != self->progress;
  gboolean eta_moved = eta != self->eta;

  if (!progress_moved && !eta_moved)
    return;

  g_object_freeze_notify (G_OBJECT (self));
  self->progress = progress;
  self->eta = eta;
  if (progress_moved)
    g_object_notify_by_pspec (G_OBJECT (self), props[PROP_PROGRESS]);
  if (eta_moved)
    g_object_notify_by_pspec (G_OBJECT (self), props[PROP_ETA]);
  g_object_thaw_notify (G_OBJECT (self));

  /* The signal is for servers that tell progress; the property goes to 1
   * at the end whatever the server. */
  if (self->hooks != NULL && self->have_estimate)
    self->hooks->progress_changed (self, progress, eta, self->hooks_data);
}

/* ------------------------------------------------------------------ */
/* Smooth progress                                                     */

/* Where the job is now by the last observation: the ETA counted down,
 * the progress moved toward 1 so as to get there when the ETA runs out
 * (or, with no ETA, at the speed two observations showed). */
static void
extrapolate (VtJob  *self,
             double *progress,
             double *eta)
{
  double dt = (g_get_monotonic_time () - self->observed_us) / (double) G_USEC_PER_SEC;
  double p0 = self->observed_progress;
  double e0 = self->observed_eta;
  double p = p0;

  if (e0 > 0 && p0 >= 0)
    p = p0 + (1.0 - p0) * dt / e0;
  else if (e0 > 0 && self->observed_elapsed >= 0)
    p = (self->observed_elapsed + dt) / (self->observed_elapsed + e0);
  else if (e0 == 0)
    p = MAX_EXTRAPOLATED_PROGRESS;
  else if (p0 >= 0 && self->speed > 0)
    p = p0 + self->speed * dt;

  *progress = CLAMP (p, 0.0, MAX_EXTRAPOLATED_PROGRESS);
  *eta = e0 >= 0 ? MAX (0.0, e0 - dt) : -1.0;
}

/* Moves the properties to the estimate of now; progress never goes
 * back, even when a new observation says less than was shown. */
static void
update_progress (VtJob *self)
{
  double progress, eta;

  if (!self->have_estimate)
    return;

  extrapolate (self, &progress, &eta);
  set_progress (self, MAX (progress, self->progress), eta);
}

/* Reading the progress as a property (a binding's first sync, a list
 * row's expression) is interest too, whoever connected what. */
static void
vt_job_progress_read (VtJob *self)
{
  if (!self->watched && !self->finished)
    {
      become_watched (self);
      update_ticker (self);
    }
}

static gboolean
on_tick (gpointer user_data)
{
  update_progress (user_data);

  return G_SOURCE_CONTINUE;
}

static void
vt_job_stop_ticker (VtJob *self)
{
  if (self->ticker == NULL)
    return;

  g_source_destroy (self->ticker);
  g_clear_pointer (&self->ticker, g_source_unref);
}

static gboolean
is_watched (VtJob *self)
{
  static guint notify_id;

  if (notify_id == 0)
    notify_id = g_signal_lookup ("notify", G_TYPE_OBJECT);

  /* A binding or a handler of notify::progress or ::eta, or of notify
   * itself; or someone listening to the client's progress-changed. */
  return g_signal_has_handler_pending (self, notify_id, g_quark_from_static_string ("progress"), TRUE) ||
         g_signal_has_handler_pending (self, notify_id, g_quark_from_static_string ("eta"), TRUE) ||
         (self->hooks != NULL && self->hooks->wants_progress (self, self->hooks_data));
}

/* The first sign of interest in the job's progress: from then on its
 * watch asks for progress events, and it ticks. */
static void
become_watched (VtJob *self)
{
  if (self->watched || self->finished)
    return;

  self->watched = TRUE;
  if (self->watch != NULL)
    vt_watch_want_progress (self->watch);
}

/* Ticks only for a job someone watches, that has something to
 * extrapolate: ten thousand jobs nobody shows cost no timer. */
static void
update_ticker (VtJob *self)
{
  gboolean wanted;

  if (is_watched (self))
    become_watched (self);

  wanted = self->progress_rate > 0 && self->have_estimate &&
           self->status == VT_STATUS_PENDING && !self->finished && self->watched;

  if (!wanted)
    {
      vt_job_stop_ticker (self);
      return;
    }

  if (self->ticker != NULL)
    return;

  self->ticker = g_timeout_source_new ((guint) MAX (1.0, 1000.0 / self->progress_rate));
  g_source_set_name (self->ticker, "[vtclient] job progress");
  g_source_set_callback (self->ticker, on_tick, self, NULL);
  g_source_attach (self->ticker, self->context);
}

/* A pending job's news: the new base of the extrapolation. The speed of
 * progress between two observations serves servers that send no ETA. */
static void
observe_progress (VtJob                  *self,
                  const VtJobObservation *observation)
{
  if (observation->progress < 0 && observation->eta < 0)
    return;

  if (observation->progress >= 0 && self->observed_progress >= 0 &&
      observation->elapsed > self->observed_elapsed && self->observed_elapsed >= 0)
    self->speed = (observation->progress - self->observed_progress) /
                  (observation->elapsed - self->observed_elapsed);

  self->have_estimate = TRUE;
  self->observed_us = g_get_monotonic_time ();
  self->observed_progress = observation->progress;
  self->observed_eta = observation->eta;
  self->observed_elapsed = observation->elapsed;
  update_progress (self);
}

/* ------------------------------------------------------------------ */
/* What the watch tells                                                */

static void
on_observed (VtWatch                *watch,
             const VtJobObservation *observation,
             gboolean                status_changed,
             gboolean                progress_changed,
             gpointer                user_data)
{
  VtJob *self = user_data;

  g_object_freeze_notify (G_OBJECT (self));
  if (observation->document != NULL && observation->document != self->document)
    {
      g_clear_pointer (&self->document, json_object_unref);
      self->document = json_object_ref (observation->document);
    }
  set_time (self, &self->created_at, observation->created_at, PROP_CREATED_AT);
  set_time (self, &self->completed_at, observation->completed_at, PROP_COMPLETED_AT);
  set_string (self, &self->result_url, observation->result_url, PROP_RESULT_URL);
  set_string (self, &self->message, observation->message, PROP_MESSAGE);

  if (observation->status == VT_STATUS_PENDING)
    observe_progress (self, observation);
  g_object_thaw_notify (G_OBJECT (self));

  set_status (self, observation->status);
  if (observation->status == VT_STATUS_PENDING)
    {
      update_ticker (self);
      return;
    }

  /* The end, as the server says it: all done, or not; told after the
   * status, so that whoever draws a full bar sees it completed. */
  vt_job_stop_ticker (self);
  if (observation->status == VT_STATUS_COMPLETED)
    set_progress (self, 1.0, 0.0);
  else if (self->eta > 0)
    set_progress (self, self->progress, 0.0);
}

static void waiter_free (Waiter *waiter);

static void
return_waiter (Waiter *waiter)
{
  VtJob *self = waiter->job;
  g_autoptr(GTask) task = g_object_ref (waiter->task);

  /* Disconnected first: a cancellation cannot come after the result. */
  waiter_free (waiter);
  if (self->final_error != NULL)
    g_task_return_error (task, g_error_copy (self->final_error));
  else
    g_task_return_int (task, self->final_status);
}

static void
on_finished (VtWatch      *watch,
             VtStatus      status,
             const GError *error,
             gpointer      user_data)
{
  VtJob *self = user_data;
  Waiter *waiter;

  self->finished = TRUE;
  self->final_status = status;
  self->final_error = error != NULL ? g_error_copy (error) : NULL;
  vt_job_stop_ticker (self);
  if (error == NULL && status == VT_STATUS_TIMEOUT)
    set_status (self, VT_STATUS_TIMEOUT);

  if (self->hooks != NULL)
    self->hooks->finished (self, self->hooks_data);

  while ((waiter = g_queue_pop_head (&self->waiters)) != NULL)
    return_waiter (waiter);

  g_clear_pointer (&self->watch, vt_watch_unref);
  /* The reference the watch held, to the end. */
  g_object_unref (self);
}

static const VtWatchListener job_listener = {
  .observed = on_observed,
  .finished = on_finished,
};

/* What a job's watch reports to; its data is a reference on the job,
 * which the end releases. */
const VtWatchListener *
vt_job_listener (void)
{
  return &job_listener;
}

/* The watch that follows the job, %NULL once it is no longer followed. */
VtWatch *
vt_job_get_watch (VtJob *self)
{
  return self->watch;
}

/* Orders jobs as they were made. */
int
vt_job_compare_age (VtJob *a,
                    VtJob *b)
{
  return a->serial < b->serial ? -1 : a->serial > b->serial;
}

/* The context the job was followed in, where it notifies. */
GMainContext *
vt_job_get_context (VtJob *self)
{
  return self->context;
}

/* The watch that follows the job: kept, to stop it. */
void
vt_job_set_watch (VtJob   *self,
                  VtWatch *watch)
{
  g_return_if_fail (self->watch == NULL);

  self->watch = vt_watch_ref (watch);
}

/* vt_client_follow() asked for it: it is followed until cancelled or
 * over, whoever waits or not. */
void
vt_job_hold (VtJob *self)
{
  self->holds++;
}

/* The client goes: no more hooks. */
void
vt_job_detach (VtJob *self)
{
  self->hooks = NULL;
  self->hooks_data = NULL;
}

/* ------------------------------------------------------------------ */
/* Waiting                                                             */

static void
waiter_free (Waiter *waiter)
{
  if (waiter->handler != 0)
    g_cancellable_disconnect (waiter->cancellable, waiter->handler);
  g_clear_object (&waiter->task);
  g_clear_object (&waiter->cancellable);
  g_free (waiter);
}

/* Ends the waiters whose cancellable fired (those the job's end did not
 * return first). */
static gboolean
end_cancelled_waiters (gpointer user_data)
{
  VtJob *self = user_data;
  gboolean unheld = FALSE;
  GList *link = self->waiters.head;
  while (link != NULL)
    {
      GList *next = link->next;
      Waiter *waiter = link->data;

      if (waiter->cancelled)
        {
          g_queue_delete_link (&self->waiters, link);
          unheld |= waiter->cancels_unheld;
          g_task_return_new_error (waiter->task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                   "The operation was cancelled");
          waiter_free (waiter);
        }
      link = next;
    }

  /* The caller that started it for its own waiting gave up, and nobody
   * else wants it: stop asking the server. */
  if (unheld && self->holds == 0 && self->waiters.length == 0)
    vt_job_cancel (self);

  return G_SOURCE_REMOVE;
}

/* From any thread (the handler is disconnected, waiting for it, before
 * the waiter goes): the waiter ends in the job's context. */
static void
on_waiter_cancelled (GCancellable *cancellable,
                     gpointer      user_data)
{
  Waiter *waiter = user_data;
  g_autoptr(GSource) idle = g_idle_source_new ();

  waiter->cancelled = TRUE;
  g_source_set_name (idle, "[vtclient] wait cancelled");
  g_source_set_priority (idle, G_PRIORITY_DEFAULT);
  g_source_set_callback (idle, end_cancelled_waiters, g_object_ref (waiter->job),
                         g_object_unref);
  g_source_attach (idle, waiter->job->context);
}

/*
 * vt_job_add_waiter:
 * @task: completed with the final status (an int), or the error
 * @cancels_unheld: cancelling @task's cancellable also stops following
 *   the job when nothing else wants it (the job was made for this wait)
 */
void
vt_job_add_waiter (VtJob    *self,
                   GTask    *task,
                   gboolean  cancels_unheld)
{
  Waiter *waiter;
  GCancellable *cancellable = g_task_get_cancellable (task);

  if (self->finished)
    {
      if (self->final_error != NULL)
        g_task_return_error (task, g_error_copy (self->final_error));
      else
        g_task_return_int (task, self->final_status);
      return;
    }

  waiter = g_new0 (Waiter, 1);
  waiter->job = self;
  waiter->task = g_object_ref (task);
  waiter->cancels_unheld = cancels_unheld;
  g_queue_push_tail (&self->waiters, waiter);

  if (cancellable != NULL)
    {
      waiter->cancellable = g_object_ref (cancellable);
      waiter->handler = g_cancellable_connect (cancellable, G_CALLBACK (on_waiter_cancelled),
                                               waiter, NULL);
    }
}

/**
 * vt_job_wait_async:
 * @self: a #VtJob
 * @cancellable: (nullable): a #GCancellable; cancelling it ends this wait,
 *   not the following of the job
 * @callback: (scope async): called when the job has a final status
 * @user_data: data for @callback
 *
 * Waits for the job's final status. Any number of callers may wait on
 * one job; a job already over completes the wait at once.
 */
void
vt_job_wait_async (VtJob               *self,
                   GCancellable        *cancellable,
                   GAsyncReadyCallback  callback,
                   gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (VT_IS_JOB (self));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, vt_job_wait_async);
  g_task_set_name (task, "vt_job_wait_async");

  vt_job_add_waiter (self, task, FALSE);
}

/**
 * vt_job_wait_finish:
 * @self: a #VtJob
 * @result: the #GAsyncResult passed to the callback
 * @error: return location for a #GError
 *
 * Gets the final status of a job waited for with
 * [method@Vt.Job.wait_async], with the contract of
 * [method@Vt.Client.get_status_finish]: a job that completed, failed or
 * outlived the client's budget is no error; %G_IO_ERROR_CANCELLED and the
 * %VT_CLIENT_ERROR codes are.
 *
 * Returns: %VT_STATUS_COMPLETED, %VT_STATUS_ERROR or %VT_STATUS_TIMEOUT;
 *   %VT_STATUS_TIMEOUT as well when @error is set
 */
VtStatus
vt_job_wait_finish (VtJob         *self,
                    GAsyncResult  *result,
                    GError       **error)
{
  g_autoptr(GError) local_error = NULL;
  gssize status;

  g_return_val_if_fail (VT_IS_JOB (self), VT_STATUS_TIMEOUT);
  g_return_val_if_fail (g_task_is_valid (result, self), VT_STATUS_TIMEOUT);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == vt_job_wait_async,
                        VT_STATUS_TIMEOUT);

  status = g_task_propagate_int (G_TASK (result), &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return VT_STATUS_TIMEOUT;
    }

  return (VtStatus) status;
}

/**
 * vt_job_cancel:
 * @self: a #VtJob
 *
 * Stops following the job: no more requests are made for it, every
 * waiter gets %G_IO_ERROR_CANCELLED, and the job leaves
 * [method@Vt.Client.get_jobs]. Nothing happens to the job on the server.
 * Does nothing for a job no longer followed.
 */
void
vt_job_cancel (VtJob *self)
{
  g_return_if_fail (VT_IS_JOB (self));

  if (self->finished || self->watch == NULL)
    return;

  vt_watch_cancel (self->watch);
}

/* ------------------------------------------------------------------ */
/* Getters                                                             */

/**
 * vt_job_get_id:
 * @self: a #VtJob
 *
 * Gets the job's id.
 *
 * Returns: (nullable): the id, %NULL for the server's classic job
 */
const char *
vt_job_get_id (VtJob *self)
{
  g_return_val_if_fail (VT_IS_JOB (self), NULL);

  return self->id;
}

/**
 * vt_job_get_status:
 * @self: a #VtJob
 *
 * Gets the job's status as last seen.
 *
 * Returns: the status
 */
VtStatus
vt_job_get_status (VtJob *self)
{
  g_return_val_if_fail (VT_IS_JOB (self), VT_STATUS_PENDING);

  return self->status;
}

/**
 * vt_job_get_progress:
 * @self: a #VtJob
 *
 * Gets the share of the job done.
 *
 * Returns: the progress, from 0 to 1
 */
double
vt_job_get_progress (VtJob *self)
{
  g_return_val_if_fail (VT_IS_JOB (self), 0.0);

  return self->progress;
}

/**
 * vt_job_get_eta:
 * @self: a #VtJob
 *
 * Gets the seconds the job has left, by the server's estimate.
 *
 * Returns: the seconds, or -1 when unknown
 */
double
vt_job_get_eta (VtJob *self)
{
  g_return_val_if_fail (VT_IS_JOB (self), -1.0);

  return self->eta;
}

/**
 * vt_job_get_result_url:
 * @self: a #VtJob
 *
 * Gets where the translated video is.
 *
 * Returns: (nullable): the URL, once the job completed, if the server said
 */
const char *
vt_job_get_result_url (VtJob *self)
{
  g_return_val_if_fail (VT_IS_JOB (self), NULL);

  return self->result_url;
}

/**
 * vt_job_get_message:
 * @self: a #VtJob
 *
 * Gets the server's reason for a job that ended in error.
 *
 * Returns: (nullable): the message
 */
const char *
vt_job_get_message (VtJob *self)
{
  g_return_val_if_fail (VT_IS_JOB (self), NULL);

  return self->message;
}

/**
 * vt_job_get_created_at:
 * @self: a #VtJob
 *
 * Gets when the server created the job.
 *
 * Returns: (nullable) (transfer none): the time, if the server said
 */
GDateTime *
vt_job_get_created_at (VtJob *self)
{
  g_return_val_if_fail (VT_IS_JOB (self), NULL);

  return self->created_at;
}

/**
 * vt_job_get_completed_at:
 * @self: a #VtJob
 *
 * Gets when the job ended, by the server.
 *
 * Returns: (nullable) (transfer none): the time, if the server said
 */
GDateTime *
vt_job_get_completed_at (VtJob *self)
{
  g_return_val_if_fail (VT_IS_JOB (self), NULL);

  return self->completed_at;
}

/**
 * vt_job_get_document:
 * @self: a #VtJob
 *
 * Gets the last job document the server sent, for the fields the library
 * does not read. The object is sealed: read it, do not change it.
 *
 * Returns: (nullable) (transfer none): the document, %NULL before the
 *   first answer
 */
JsonObject *
vt_job_get_document (VtJob *self)
{
  g_return_val_if_fail (VT_IS_JOB (self), NULL);

  return self->document;
}

/**
 * vt_job_is_finished:
 * @self: a #VtJob
 *
 * Gets whether the job is no longer followed: it ended, the client's
 * budget ran out, it could not be followed, or it was cancelled.
 *
 * Returns: %TRUE once [method@Vt.Job.wait_async] would complete at once
 */
gboolean
vt_job_is_finished (VtJob *self)
{
  g_return_val_if_fail (VT_IS_JOB (self), FALSE);

  return self->finished;
}
