/* vts-job.c: one simulated translation job
 *
 * A job is decided entirely when it is created: its duration, its outcome
 * and the noise on its eta never change afterwards, so asking twice never
 * re-rolls anything. Its state is computed lazily from the monotonic clock
 * (created + duration); a timer on the server's one heap (vts-timer.c)
 * additionally fires at the exact end so that long-polls, event streams
 * and feeds hear about it at once. A GSource per job would cost every
 * main-loop iteration a look at every pending job.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vts-job.h"

#include "vts-timer.h"

#include <math.h>

struct _VtsJob
{
  GObject     parent_instance;

  char       *id;
  gint64      created_wall;   /* µs since the epoch: persisted, reported */
  gint64      created_mono;   /* µs on the monotonic clock: what times it */
  gint64      duration;       /* µs */
  VtsJobState  outcome;
  double      eta_factor;
  char       *source_url;
  char       *target_language;
  char       *message;        /* nullable: the reason given for an error */

  VtsTimer    end_timer;
};

enum {
  CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (VtsJob, vts_job, G_TYPE_OBJECT)

static const char * const state_names[VTS_JOB_N_STATES] = {
  [VTS_JOB_STATE_PENDING] = "pending",
  [VTS_JOB_STATE_COMPLETED] = "completed",
  [VTS_JOB_STATE_ERROR] = "error",
};

const char *
vts_job_state_to_string (VtsJobState state)
{
  g_return_val_if_fail (state < VTS_JOB_N_STATES, NULL);

  return state_names[state];
}

gboolean
vts_job_state_from_string (const char *string,
                          VtsJobState *state)
{
  for (guint i = 0; i < VTS_JOB_N_STATES; i++)
    {
      if (g_strcmp0 (string, state_names[i]) == 0)
        {
          *state = i;
          return TRUE;
        }
    }

  return FALSE;
}

static void
vts_job_finalize (GObject *object)
{
  VtsJob *self = VTS_JOB (object);

  vts_timer_cancel (&self->end_timer);
  g_free (self->id);
  g_free (self->source_url);
  g_free (self->target_language);
  g_free (self->message);

  G_OBJECT_CLASS (vts_job_parent_class)->finalize (object);
}

static void
vts_job_class_init (VtsJobClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = vts_job_finalize;

  /*
   * VtsJob::changed:
   *
   * Emitted once, at the moment the job leaves the pending state.
   */
  signals[CHANGED] = g_signal_new ("changed",
                                   G_TYPE_FROM_CLASS (klass),
                                   G_SIGNAL_RUN_LAST,
                                   0, NULL, NULL, NULL,
                                   G_TYPE_NONE, 0);
}

static void
vts_job_init (VtsJob *self)
{
}

/* At the exact monotonic instant the lazy state flips. */
static void
vts_job_on_end (VtsTimer *timer,
               gpointer  user_data)
{
  g_signal_emit (user_data, signals[CHANGED], 0);
}

VtsJob *
vts_job_new (const char *id,
            gint64      created_wall_us,
            gint64      duration_us,
            VtsJobState  outcome,
            double      eta_factor,
            const char *source_url,
            const char *target_language)
{
  VtsJob *self;

  g_return_val_if_fail (id != NULL, NULL);
  g_return_val_if_fail (duration_us >= 0, NULL);
  g_return_val_if_fail (outcome != VTS_JOB_STATE_PENDING, NULL);

  self = g_object_new (VTS_TYPE_JOB, NULL);
  self->id = g_strdup (id);
  self->created_wall = created_wall_us;
  /* A job restored from a state file was created before this process
   * started: place it on the monotonic clock by its wall-clock age. */
  self->created_mono = g_get_monotonic_time () - (g_get_real_time () - created_wall_us);
  self->duration = duration_us;
  self->outcome = outcome;
  self->eta_factor = eta_factor;
  self->source_url = g_strdup (source_url);
  self->target_language = g_strdup (target_language);

  vts_timer_init (&self->end_timer, vts_job_on_end, self);
  if (vts_job_get_state (self, g_get_monotonic_time ()) == VTS_JOB_STATE_PENDING)
    vts_timer_schedule (&self->end_timer, self->created_mono + self->duration);

  return self;
}

const char *
vts_job_get_id (VtsJob *self)
{
  g_return_val_if_fail (VTS_IS_JOB (self), NULL);

  return self->id;
}

gint64
vts_job_get_created_wall (VtsJob *self)
{
  g_return_val_if_fail (VTS_IS_JOB (self), 0);

  return self->created_wall;
}

gint64
vts_job_get_duration (VtsJob *self)
{
  g_return_val_if_fail (VTS_IS_JOB (self), 0);

  return self->duration;
}

VtsJobState
vts_job_get_outcome (VtsJob *self)
{
  g_return_val_if_fail (VTS_IS_JOB (self), VTS_JOB_STATE_ERROR);

  return self->outcome;
}

double
vts_job_get_eta_factor (VtsJob *self)
{
  g_return_val_if_fail (VTS_IS_JOB (self), 1.0);

  return self->eta_factor;
}

const char *
vts_job_get_source_url (VtsJob *self)
{
  g_return_val_if_fail (VTS_IS_JOB (self), NULL);

  return self->source_url;
}

const char *
vts_job_get_target_language (VtsJob *self)
{
  g_return_val_if_fail (VTS_IS_JOB (self), NULL);

  return self->target_language;
}

/* The server's reason for an error outcome; NULL for the default one. */
const char *
vts_job_get_message (VtsJob *self)
{
  g_return_val_if_fail (VTS_IS_JOB (self), NULL);

  return self->message;
}

void
vts_job_set_message (VtsJob      *self,
                    const char *message)
{
  g_return_if_fail (VTS_IS_JOB (self));

  g_free (self->message);
  self->message = g_strdup (message);
}

VtsJobState
vts_job_get_state (VtsJob  *self,
                  gint64  now_us)
{
  g_return_val_if_fail (VTS_IS_JOB (self), VTS_JOB_STATE_ERROR);

  if (now_us >= self->created_mono + self->duration)
    return self->outcome;

  return VTS_JOB_STATE_PENDING;
}

double
vts_job_get_progress (VtsJob  *self,
                     gint64  now_us)
{
  gint64 elapsed;

  g_return_val_if_fail (VTS_IS_JOB (self), 1.0);

  elapsed = now_us - self->created_mono;
  if (self->duration == 0 || elapsed >= self->duration)
    return 1.0;

  return CLAMP ((double) elapsed / self->duration, 0.0, 1.0);
}

double
vts_job_get_eta (VtsJob  *self,
                gint64  now_us)
{
  gint64 remaining;

  g_return_val_if_fail (VTS_IS_JOB (self), 0.0);

  remaining = self->created_mono + self->duration - now_us;
  if (remaining <= 0)
    return 0.0;

  /* Rounded to the millisecond: finer is noise to any client. */
  return round (remaining * self->eta_factor / 1000.0) / 1000.0;
}

/* The server's suggestion for the next poll: when it thinks the job ends,
 * within bounds that keep a client neither hammering nor asleep. */
guint
vts_job_get_retry_after (VtsJob  *self,
                        gint64  now_us)
{
  double eta = vts_job_get_eta (self, now_us);

  return (guint) CLAMP (ceil (eta), 1.0, 30.0);
}

static char *
format_iso8601_ms (gint64 wall_us)
{
  g_autoptr(GDateTime) date = NULL;
  g_autofree char *seconds = NULL;

  date = g_date_time_new_from_unix_utc (wall_us / G_USEC_PER_SEC);
  if (date == NULL)
    return g_strdup ("1970-01-01T00:00:00.000Z");

  seconds = g_date_time_format (date, "%Y-%m-%dT%H:%M:%S");
  return g_strdup_printf ("%s.%03dZ", seconds,
                          (int) ((wall_us % G_USEC_PER_SEC) / 1000));
}

static void
add_string_member (JsonBuilder *builder,
                   const char  *name,
                   const char  *value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_string_value (builder, value);
}

/* progress and eta, only while pending and only when hints are on */
static void
add_hint_members (VtsJob       *self,
                  JsonBuilder *builder,
                  gint64       now_us)
{
  json_builder_set_member_name (builder, "progress");
  json_builder_add_double_value (builder,
                                 round (vts_job_get_progress (self, now_us) * 1000.0) / 1000.0);
  json_builder_set_member_name (builder, "eta");
  json_builder_add_double_value (builder, vts_job_get_eta (self, now_us));
  /* The job's age as of this answer, to the millisecond: a client that
   * compares two ETAs learns exactly how much time passed between them,
   * whatever the network did to the answers. */
  json_builder_set_member_name (builder, "elapsed");
  json_builder_add_double_value (builder, round ((now_us - self->created_mono) / 1000.0) / 1000.0);
}

/* Where GET /jobs/{id}/result serves what a completed job produced. */
static char *
result_url (VtsJob             *self,
            const VtsJobFormat *format)
{
  return g_strconcat (format->base_url != NULL ? format->base_url : "",
                      "/jobs/", self->id, "/result", NULL);
}

JsonNode *
vts_job_to_json (VtsJob             *self,
                gint64              now_us,
                const VtsJobFormat *format)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  VtsJobState state;
  g_autofree char *created_at = NULL;

  g_return_val_if_fail (VTS_IS_JOB (self), NULL);

  state = vts_job_get_state (self, now_us);
  created_at = format_iso8601_ms (self->created_wall);

  json_builder_begin_object (builder);
  add_string_member (builder, "id", self->id);
  /* Classic peers call it result, others status: say both. */
  add_string_member (builder, "result", vts_job_state_to_string (state));
  add_string_member (builder, "status", vts_job_state_to_string (state));
  add_string_member (builder, "created_at", created_at);
  if (self->source_url != NULL)
    add_string_member (builder, "source_url", self->source_url);
  if (self->target_language != NULL)
    add_string_member (builder, "target_language", self->target_language);

  if (state == VTS_JOB_STATE_PENDING)
    {
      if (format->hints)
        add_hint_members (self, builder, now_us);
    }
  else
    {
      g_autofree char *completed_at = format_iso8601_ms (self->created_wall + self->duration);

      add_string_member (builder, "completed_at", completed_at);
    }

  if (state == VTS_JOB_STATE_COMPLETED)
    {
      g_autofree char *url = result_url (self, format);

      add_string_member (builder, "result_url", url);
    }
  else if (state == VTS_JOB_STATE_ERROR)
    {
      add_string_member (builder, "message",
                         self->message != NULL ? self->message
                                               : "The translation failed (simulated by vt-server)");
    }
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

JsonNode *
vts_job_to_classic_json (VtsJob    *self,
                        gint64    now_us,
                        gboolean  hints)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  VtsJobState state;

  g_return_val_if_fail (VTS_IS_JOB (self), NULL);

  state = vts_job_get_state (self, now_us);

  json_builder_begin_object (builder);
  add_string_member (builder, "result", vts_job_state_to_string (state));
  if (state == VTS_JOB_STATE_PENDING && hints)
    add_hint_members (self, builder, now_us);
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}
