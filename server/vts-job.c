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

#include "vts-json.h"

#include "vts-timer.h"

#include <math.h>
#include <string.h>

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
  char        created_at[32];    /* ISO 8601, to the millisecond */
  char        completed_at[32];

  /* Once ended, the document is the same every time: written once. */
  GBytes     *document;
  char       *document_base_url;

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
  g_clear_pointer (&self->document, g_bytes_unref);
  g_free (self->document_base_url);
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

/* ISO 8601 in UTC, to the millisecond: "2026-11-25T04:05:56.123Z" */
static void
format_iso8601_ms (gint64  wall_us,
                   char    buffer[32])
{
  g_autoptr(GDateTime) date = g_date_time_new_from_unix_utc (wall_us / G_USEC_PER_SEC);

  if (date == NULL)
    {
      g_strlcpy (buffer, "1970-01-01T00:00:00.000Z", 32);
      return;
    }

  g_snprintf (buffer, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
              g_date_time_get_year (date), g_date_time_get_month (date),
              g_date_time_get_day_of_month (date), g_date_time_get_hour (date),
              g_date_time_get_minute (date), g_date_time_get_second (date),
              (int) ((wall_us % G_USEC_PER_SEC) / 1000));
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
  /* Reported in every document, and they never change. */
  format_iso8601_ms (created_wall_us, self->created_at);
  format_iso8601_ms (created_wall_us + duration_us, self->completed_at);

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
  g_clear_pointer (&self->document, g_bytes_unref);
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

/* The job's age, to the millisecond: a client that compares two ETAs
 * learns exactly how much time passed between them, whatever the network
 * did to the answers. */
double
vts_job_get_elapsed (VtsJob  *self,
                     gint64  now_us)
{
  g_return_val_if_fail (VTS_IS_JOB (self), 0.0);

  return round ((now_us - self->created_mono) / 1000.0) / 1000.0;
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

/* progress and eta, only while pending and only when hints are on */
static void
write_hint_members (VtsJob         *self,
                    VtsJsonObject *object,
                    gint64         now_us)
{
  vts_json_object_double (object, "progress",
                          round (vts_job_get_progress (self, now_us) * 1000.0) / 1000.0);
  vts_json_object_double (object, "eta", vts_job_get_eta (self, now_us));
  vts_json_object_double (object, "elapsed", vts_job_get_elapsed (self, now_us));
}

static void
write_document (VtsJob             *self,
                GString            *out,
                VtsJobState         state,
                gint64              now_us,
                const VtsJobFormat *format)
{
  VtsJsonObject object;

  vts_json_object_begin (&object, out);
  vts_json_object_string (&object, "id", self->id);
  /* Classic peers call it result, others status: say both. */
  vts_json_object_string (&object, "result", vts_job_state_to_string (state));
  vts_json_object_string (&object, "status", vts_job_state_to_string (state));
  vts_json_object_string (&object, "created_at", self->created_at);
  if (self->source_url != NULL)
    vts_json_object_string (&object, "source_url", self->source_url);
  if (self->target_language != NULL)
    vts_json_object_string (&object, "target_language", self->target_language);

  if (state == VTS_JOB_STATE_PENDING)
    {
      if (format->hints)
        write_hint_members (self, &object, now_us);
    }
  else
    {
      vts_json_object_string (&object, "completed_at", self->completed_at);
    }

  if (state == VTS_JOB_STATE_COMPLETED)
    {
      /* Where GET /jobs/{id}/result serves what the job produced. */
      g_autofree char *url = g_strconcat (format->base_url != NULL ? format->base_url : "",
                                          "/jobs/", self->id, "/result", NULL);

      vts_json_object_string (&object, "result_url", url);
    }
  else if (state == VTS_JOB_STATE_ERROR)
    {
      vts_json_object_string (&object, "message",
                              self->message != NULL ? self->message
                                                    : "The translation failed (simulated by vt-server)");
    }
  vts_json_object_end (&object);
}

/*
 * vts_job_to_json_bytes:
 *
 * Returns: (transfer full): the job's document as JSON text: what
 * GET /jobs/{id} answers. An ended job's is written once and kept.
 */
GBytes *
vts_job_to_json_bytes (VtsJob             *self,
                       gint64              now_us,
                       const VtsJobFormat *format)
{
  VtsJobState state;
  GString *out;
  GBytes *document;

  g_return_val_if_fail (VTS_IS_JOB (self), NULL);

  state = vts_job_get_state (self, now_us);
  if (self->document != NULL && g_strcmp0 (self->document_base_url, format->base_url) == 0)
    return g_bytes_ref (self->document);

  out = g_string_sized_new (256);
  write_document (self, out, state, now_us, format);
  document = g_string_free_to_bytes (out);

  if (state != VTS_JOB_STATE_PENDING)
    {
      g_clear_pointer (&self->document, g_bytes_unref);
      self->document = g_bytes_ref (document);
      g_free (self->document_base_url);
      self->document_base_url = g_strdup (format->base_url);
    }

  return document;
}

/*
 * vts_job_to_classic_json_bytes:
 *
 * Returns: (transfer full): the classic document, {"result": …}, as text
 */
GBytes *
vts_job_to_classic_json_bytes (VtsJob   *self,
                               gint64    now_us,
                               gboolean  hints)
{
  static const char * const ended[VTS_JOB_N_STATES] = {
    [VTS_JOB_STATE_COMPLETED] = "{\"result\":\"completed\"}",
    [VTS_JOB_STATE_ERROR] = "{\"result\":\"error\"}",
  };
  VtsJobState state;
  VtsJsonObject object;
  GString *out;

  g_return_val_if_fail (VTS_IS_JOB (self), NULL);

  state = vts_job_get_state (self, now_us);
  if (state != VTS_JOB_STATE_PENDING)
    return g_bytes_new_static (ended[state], strlen (ended[state]));

  out = g_string_sized_new (96);
  vts_json_object_begin (&object, out);
  vts_json_object_string (&object, "result", vts_job_state_to_string (state));
  if (hints)
    write_hint_members (self, &object, now_us);
  vts_json_object_end (&object);

  return g_string_free_to_bytes (out);
}

static JsonNode *
parse_document (GBytes *document)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  gsize length;
  const char *text = g_bytes_get_data (document, &length);

  if (!json_parser_load_from_data (parser, text, length, NULL))
    g_return_val_if_reached (NULL);

  return json_parser_steal_root (parser);
}

/* The same document as a JsonNode, for those that put it in another */
JsonNode *
vts_job_to_json (VtsJob             *self,
                 gint64              now_us,
                 const VtsJobFormat *format)
{
  g_autoptr(GBytes) document = vts_job_to_json_bytes (self, now_us, format);

  return parse_document (document);
}

JsonNode *
vts_job_to_classic_json (VtsJob    *self,
                         gint64     now_us,
                         gboolean   hints)
{
  g_autoptr(GBytes) document = vts_job_to_classic_json_bytes (self, now_us, hints);

  return parse_document (document);
}
