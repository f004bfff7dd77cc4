/* vts-feed.c: a set of jobs followed over one delivery (docs/protocol.md)
 *
 * A feed keeps, for each job in it, the last event it recorded for that
 * job (its sequence number and the job document of that instant): an
 * older event of the same job is superseded, since every event carries
 * the whole document. These kept events sit on one queue in sequence
 * order, so that "every job with an event after N, once, in the order of
 * their last events" is a walk over the tail of that queue, and dropping
 * what a cursor acknowledges is a walk over its head. Nothing is ever
 * scanned per event: recording one is O(1) (move to the tail), a job
 * knows its feeds through its ::changed handlers, and progress events
 * come from one timer per feed that walks the feed's pending jobs once
 * per interval.
 *
 * A job that ended is no longer a member, but its terminal event is kept
 * until a cursor acknowledges it, or until more than
 * VTS_FEED_MAX_ENDED_KEPT ended jobs wait: the oldest then goes and the
 * feed's floor rises to its sequence number. A cursor below the floor has
 * lost events: it gets a reset (long-poll) or a snapshot (stream).
 *
 * One delivery at a time: a stream (events written as they are recorded)
 * or a held long-poll (woken on the next main-loop iteration after the
 * first new event, so that the events of one iteration share an answer).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vts-feed.h"

#include "vts-event-stream.h"
#include "vts-held-message.h"
#include "vts-stream-writer.h"
#include "vts-timer.h"

#include <string.h>

typedef enum {
  DELIVERY_NONE,
  DELIVERY_STREAM,
  DELIVERY_LONG_POLL,
} VtsFeedDelivery;

typedef struct
{
  VtsFeed  *feed;
  VtsJob   *job;
  gulong    changed_id;   /* while a member */
  guint64   seq;          /* of its kept event */
  char     *data;         /* that event's document, one line of JSON */
  gboolean  member;       /* pending, in feed->members */
  gboolean  kept;         /* in feed->events */
  gboolean  ended;        /* in feed->ended */
  GList     member_link;
  GList     event_link;
  GList     ended_link;
} VtsFeedEntry;

struct _VtsFeed
{
  char                *id;
  double               progress_interval;
  double               ttl;
  const VtsJobFormat  *format;
  VtsFeedCounts       *counts;
  VtsFeedExpiredFunc   expired;
  gpointer             user_data;

  GHashTable          *entries;   /* job id → VtsFeedEntry, owned */
  GQueue               members;   /* pending entries, in join order */
  GQueue               events;    /* entries with a kept event, by seq */
  GQueue               ended;     /* ended entries, by seq */
  guint64              last_seq;
  guint64              floor;     /* events up to here may be gone */

  VtsFeedDelivery      delivery;
  VtsHeldMessage      *held;      /* the held long-poll */
  VtsStreamWriter     *writer;    /* the stream, on its connection */
  guint64              poll_after;
  VtsTimer             poll_timer;      /* the held long-poll's deadline or wake-up */
  VtsTimer             progress_timer;
  VtsTimer             ping_timer;
  VtsTimer             expiry_timer;
};

/* Entries */

static void
entry_unlink (VtsFeedEntry *entry)
{
  VtsFeed *feed = entry->feed;

  if (entry->member)
    {
      g_clear_signal_handler (&entry->changed_id, entry->job);
      g_queue_unlink (&feed->members, &entry->member_link);
      entry->member = FALSE;
      feed->counts->n_jobs--;
    }
  if (entry->kept)
    {
      g_queue_unlink (&feed->events, &entry->event_link);
      entry->kept = FALSE;
    }
  if (entry->ended)
    {
      g_queue_unlink (&feed->ended, &entry->ended_link);
      entry->ended = FALSE;
    }
}

static void
entry_free (VtsFeedEntry *entry)
{
  entry_unlink (entry);
  g_free (entry->data);
  g_object_unref (entry->job);
  g_free (entry);
}

static void
remove_entry (VtsFeed      *self,
              VtsFeedEntry *entry)
{
  g_hash_table_remove (self->entries, vts_job_get_id (entry->job));
}

static void record_event (VtsFeedEntry *entry,
                          gint64        now_us);

static void
on_job_changed (VtsJob   *job,
                gpointer  user_data)
{
  record_event (user_data, g_get_monotonic_time ());
}

static VtsFeedEntry *
add_member (VtsFeed *self,
            VtsJob  *job)
{
  VtsFeedEntry *entry = g_new0 (VtsFeedEntry, 1);

  entry->feed = self;
  entry->job = g_object_ref (job);
  entry->member_link.data = entry;
  entry->event_link.data = entry;
  entry->ended_link.data = entry;
  entry->member = TRUE;
  entry->changed_id = g_signal_connect (job, "changed", G_CALLBACK (on_job_changed), entry);
  g_queue_push_tail_link (&self->members, &entry->member_link);
  self->counts->n_jobs++;
  g_hash_table_insert (self->entries, (gpointer) vts_job_get_id (job), entry);

  return entry;
}

/* Writing and waking */

static void
write_chunk (VtsFeed *self,
             char    *text)
{
  if (self->writer != NULL)
    vts_stream_writer_write (self->writer, text);
  g_free (text);
}

static void
write_event (VtsFeed      *self,
             VtsFeedEntry *entry)
{
  write_chunk (self, g_strdup_printf ("id: %" G_GUINT64_FORMAT "\nevent: status\ndata: %s\n\n",
                                      entry->seq, entry->data));
}

/* A new event for the delivery that is open, if any. */
static void
deliver (VtsFeed      *self,
         VtsFeedEntry *entry)
{
  if (self->delivery == DELIVERY_STREAM)
    write_event (self, entry);
  else if (self->delivery == DELIVERY_LONG_POLL &&
           self->poll_timer.due_us > g_get_monotonic_time ())
    /* Answered on the next iteration: whatever else happens in this one
     * (a progress tick records every job) goes in the same answer. */
    vts_timer_schedule (&self->poll_timer, g_get_monotonic_time ());
}

/* Keeps at most VTS_FEED_MAX_ENDED_KEPT terminal events; a cursor older
 * than one that went can no longer be answered event by event. */
static void
evict_ended (VtsFeed *self)
{
  while (self->ended.length > VTS_FEED_MAX_ENDED_KEPT)
    {
      VtsFeedEntry *oldest = self->ended.head->data;

      self->floor = MAX (self->floor, oldest->seq);
      remove_entry (self, oldest);
    }
}

static void
keep_event (VtsFeedEntry *entry,
            char         *data)
{
  VtsFeed *self = entry->feed;

  if (data != NULL)
    {
      g_free (entry->data);
      entry->data = data;
    }
  entry->seq = ++self->last_seq;
  if (entry->kept)
    g_queue_unlink (&self->events, &entry->event_link);
  g_queue_push_tail_link (&self->events, &entry->event_link);
  entry->kept = TRUE;
  if (entry->ended)
    {
      g_queue_unlink (&self->ended, &entry->ended_link);
      g_queue_push_tail_link (&self->ended, &entry->ended_link);
    }
}

/* Records the job's state at @now_us as the feed's next event. A job
 * found ended (by its ::changed signal, or lazily by a progress tick
 * that came first) leaves the members with this, its terminal event. */
static void
record_event (VtsFeedEntry *entry,
              gint64        now_us)
{
  VtsFeed *self = entry->feed;
  g_autoptr(JsonNode) node = NULL;

  if (!entry->member)
    return;

  node = vts_job_to_json (entry->job, now_us, self->format);
  if (vts_job_get_state (entry->job, now_us) != VTS_JOB_STATE_PENDING)
    {
      g_clear_signal_handler (&entry->changed_id, entry->job);
      g_queue_unlink (&self->members, &entry->member_link);
      entry->member = FALSE;
      self->counts->n_jobs--;
      g_queue_push_tail_link (&self->ended, &entry->ended_link);
      entry->ended = TRUE;
    }

  keep_event (entry, json_to_string (node, FALSE));
  deliver (self, entry);
  if (entry->ended)
    evict_ended (self);
}

/* The cursor @after says the client has every event up to it. */
static void
acknowledge (VtsFeed *self,
             guint64  after)
{
  while (self->events.head != NULL)
    {
      VtsFeedEntry *entry = self->events.head->data;

      if (entry->seq > after)
        break;
      if (entry->ended)
        {
          remove_entry (self, entry);
          continue;
        }
      g_queue_unlink (&self->events, &entry->event_link);
      entry->kept = FALSE;
    }
  self->floor = MAX (self->floor, after);
}

/* The state of every job in the feed, and of every ended one whose
 * terminal event is still kept, as new events (which the open stream,
 * if any, is sent). */
static void
record_snapshot (VtsFeed *self,
                 gint64   now_us)
{
  guint n_ended = self->ended.length;
  GList *link;

  /* Ended ones first: a member that ends while recorded below joins the
   * ended queue and must not be sent twice. */
  for (guint i = 0; i < n_ended; i++)
    {
      VtsFeedEntry *entry = self->ended.head->data;

      keep_event (entry, NULL);
      deliver (self, entry);
    }

  link = self->members.head;
  while (link != NULL)
    {
      VtsFeedEntry *entry = link->data;

      link = link->next;
      record_event (entry, now_us);
    }
}

/* Timers */

static void
on_progress_tick (VtsTimer *timer,
                  gpointer  user_data)
{
  VtsFeed *self = user_data;
  gint64 now = g_get_monotonic_time ();
  gint64 interval = (gint64) (self->progress_interval * G_USEC_PER_SEC);
  GList *link = self->members.head;

  while (link != NULL)
    {
      VtsFeedEntry *entry = link->data;

      link = link->next;
      record_event (entry, now);
    }

  /* On the grid, unless the server fell a whole interval behind. */
  vts_timer_schedule (timer, MAX (timer->due_us + interval, now + interval / 2));
}

static void
on_ping (VtsTimer *timer,
         gpointer  user_data)
{
  VtsFeed *self = user_data;

  if (self->delivery != DELIVERY_STREAM)
    return;

  write_chunk (self, g_strdup (": ping\n\n"));
  vts_timer_schedule_in (timer, VTS_FEED_PING_INTERVAL);
}

static void
on_expiry (VtsTimer *timer,
           gpointer  user_data)
{
  VtsFeed *self = user_data;

  self->expired (self, self->user_data);
}

/*
 * vts_feed_touch:
 *
 * A request used the feed: its ttl starts again, unless a delivery is
 * open, which keeps it alive anyway.
 */
void
vts_feed_touch (VtsFeed *self)
{
  if (self->delivery == DELIVERY_NONE)
    vts_timer_schedule_in (&self->expiry_timer, self->ttl);
  else
    vts_timer_cancel (&self->expiry_timer);
}

/* Deliveries */

static void
set_delivery (VtsFeed           *self,
              VtsFeedDelivery    delivery,
              SoupServerMessage *msg);

static void
on_delivery_gone (gpointer user_data)
{
  set_delivery (user_data, DELIVERY_NONE, NULL);
}

/* Ends whatever delivery is open (held message freed), then opens
 * @delivery on @msg, if any. */
static void
set_delivery (VtsFeed           *self,
              VtsFeedDelivery    delivery,
              SoupServerMessage *msg)
{
  if (self->delivery == DELIVERY_STREAM)
    self->counts->n_streams--;
  else if (self->delivery == DELIVERY_LONG_POLL)
    self->counts->n_long_polls--;
  g_clear_pointer (&self->held, vts_held_message_free);
  g_clear_pointer (&self->writer, vts_stream_writer_free);
  vts_timer_cancel (&self->poll_timer);
  vts_timer_cancel (&self->ping_timer);

  self->delivery = delivery;
  if (delivery == DELIVERY_STREAM)
    self->counts->n_streams++;
  else if (delivery == DELIVERY_LONG_POLL)
    self->counts->n_long_polls++;
  if (delivery == DELIVERY_STREAM)
    {
      self->writer = vts_stream_writer_new (msg, on_delivery_gone, self);
      if (self->writer == NULL)
        {
          self->counts->n_streams--;
          self->delivery = DELIVERY_NONE;
        }
    }
  else if (msg != NULL)
    {
      self->held = vts_held_message_new (msg, on_delivery_gone, self);
    }

  vts_feed_touch (self);
}

static void
respond_long_poll (SoupServerMessage *msg,
                   guint64            next,
                   GQueue            *events,
                   gboolean           reset)
{
  GString *text = g_string_new (NULL);

  g_string_append_printf (text, "{\"next\":%" G_GUINT64_FORMAT ",", next);
  if (reset)
    g_string_append (text, "\"reset\":true,");
  g_string_append (text, "\"jobs\":[");
  for (GList *link = events != NULL ? events->head : NULL; link != NULL; link = link->next)
    {
      VtsFeedEntry *entry = link->data;

      g_string_append (text, entry->data);
      if (link->next != NULL)
        g_string_append_c (text, ',');
    }
  g_string_append (text, "]}");

  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE,
                                    text->str, text->len);
  g_string_free (text, FALSE);
}

/* Ends the open delivery the way the protocol says: a stream's body
 * completes, a held long-poll is answered as if its wait ran out. */
static void
end_delivery (VtsFeed *self)
{
  g_autoptr(SoupServerMessage) msg = NULL;

  if (self->delivery == DELIVERY_STREAM)
    {
      /* The writer sends the last chunk and closes on its own. */
      vts_stream_writer_finish (g_steal_pointer (&self->writer));
      set_delivery (self, DELIVERY_NONE, NULL);
      return;
    }
  if (self->delivery != DELIVERY_LONG_POLL)
    return;

  msg = g_object_ref (vts_held_message_get_message (self->held));
  respond_long_poll (msg, self->poll_after, NULL, FALSE);
  set_delivery (self, DELIVERY_NONE, NULL);
  soup_server_message_unpause (msg);
}

static void
on_poll_timer (VtsTimer *timer,
               gpointer  user_data)
{
  VtsFeed *self = user_data;
  g_autoptr(SoupServerMessage) msg = g_object_ref (vts_held_message_get_message (self->held));

  /* Every kept event is after the cursor: it acknowledged the rest. */
  respond_long_poll (msg, self->last_seq, &self->events, FALSE);
  set_delivery (self, DELIVERY_NONE, NULL);
  soup_server_message_unpause (msg);
}

/* A Last-Event-ID the feed can resume from: a number it gave out, not
 * older than what it still has. */
static gboolean
parse_last_event_id (VtsFeed    *self,
                     const char *text,
                     guint64    *seq)
{
  return text != NULL &&
         g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT64, seq, NULL) &&
         *seq >= self->floor && *seq <= self->last_seq;
}

/*
 * vts_feed_open_stream:
 * @msg: a GET whose handler is about to return
 * @last_event_id: (nullable): the request's Last-Event-ID
 *
 * Ends the delivery before, if any, and makes @msg the feed's event
 * stream: the kept events after @last_event_id when the feed can resume
 * from it, else a snapshot, then every new event.
 */
void
vts_feed_open_stream (VtsFeed           *self,
                      SoupServerMessage *msg,
                      const char        *last_event_id)
{
  guint64 seq = 0;

  end_delivery (self);
  vts_event_stream_start_response (msg);
  set_delivery (self, DELIVERY_STREAM, msg);
  if (self->delivery != DELIVERY_STREAM)
    return;  /* the client is gone already */
  vts_timer_schedule_in (&self->ping_timer, VTS_FEED_PING_INTERVAL);

  if (!parse_last_event_id (self, last_event_id, &seq))
    {
      record_snapshot (self, g_get_monotonic_time ());
      return;
    }

  acknowledge (self, seq);
  for (GList *link = self->events.head; link != NULL; link = link->next)
    write_event (self, link->data);
}

/*
 * vts_feed_long_poll:
 * @after: the client's cursor: it has every event up to this one
 * @wait_seconds: how long to hold the request when nothing is new
 *
 * Ends the delivery before, if any, and answers @msg with the latest
 * state of every job with an event after @after, at once or as soon as
 * there is one, or with none once @wait_seconds ran out.
 */
void
vts_feed_long_poll (VtsFeed           *self,
                    SoupServerMessage *msg,
                    guint64            after,
                    double             wait_seconds)
{
  end_delivery (self);

  if (after < self->floor || after > self->last_seq)
    {
      /* Events the client lacks are gone: everything again, as new
       * events, so that the next cursor is exact. */
      record_snapshot (self, g_get_monotonic_time ());
      respond_long_poll (msg, self->last_seq, &self->events, TRUE);
      vts_feed_touch (self);
      return;
    }

  acknowledge (self, after);
  if (self->events.length > 0 || wait_seconds <= 0)
    {
      respond_long_poll (msg, self->last_seq, &self->events, FALSE);
      vts_feed_touch (self);
      return;
    }

  soup_server_message_pause (msg);
  set_delivery (self, DELIVERY_LONG_POLL, msg);
  self->poll_after = after;
  vts_timer_schedule_in (&self->poll_timer, wait_seconds);
}

/* Membership */

/*
 * vts_feed_join:
 *
 * Returns: (transfer full): @job's document now; a pending job is kept
 * (once), an ended one is not. Joining records no event.
 */
JsonNode *
vts_feed_join (VtsFeed *self,
               VtsJob  *job,
               gint64   now_us)
{
  VtsFeedEntry *entry = g_hash_table_lookup (self->entries, vts_job_get_id (job));

  if (vts_job_get_state (job, now_us) == VTS_JOB_STATE_PENDING && entry == NULL)
    add_member (self, job);

  return vts_job_to_json (job, now_us, self->format);
}

/* A job that left gets no further events; its kept one goes too. */
void
vts_feed_leave (VtsFeed    *self,
                const char *job_id)
{
  VtsFeedEntry *entry = g_hash_table_lookup (self->entries, job_id);

  if (entry != NULL)
    remove_entry (self, entry);
}

/* Life */

/*
 * vts_feed_new:
 * @progress_interval: seconds between progress events; 0 for none
 * @ttl: seconds unused, with no delivery open, before it expires
 * @format: how job documents are written; outlives the feed
 * @counts: the owner's gauges, which the feed keeps up to date
 * @expired: called once the ttl ran out
 */
VtsFeed *
vts_feed_new (double              progress_interval,
              double              ttl,
              const VtsJobFormat *format,
              VtsFeedCounts      *counts,
              VtsFeedExpiredFunc  expired,
              gpointer            user_data)
{
  VtsFeed *self = g_new0 (VtsFeed, 1);

  self->id = g_uuid_string_random ();
  self->progress_interval = progress_interval;
  self->ttl = ttl;
  self->format = format;
  self->counts = counts;
  self->expired = expired;
  self->user_data = user_data;
  self->entries = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                         (GDestroyNotify) entry_free);
  g_queue_init (&self->members);
  g_queue_init (&self->events);
  g_queue_init (&self->ended);

  vts_timer_init (&self->poll_timer, on_poll_timer, self);
  vts_timer_init (&self->progress_timer, on_progress_tick, self);
  vts_timer_init (&self->ping_timer, on_ping, self);
  vts_timer_init (&self->expiry_timer, on_expiry, self);
  if (progress_interval > 0)
    vts_timer_schedule_in (&self->progress_timer, progress_interval);
  vts_feed_touch (self);

  return self;
}

/* Ends the open delivery as the protocol says (DELETE, expiry, shutdown). */
void
vts_feed_free (VtsFeed *self)
{
  if (self == NULL)
    return;

  end_delivery (self);
  vts_timer_cancel (&self->progress_timer);
  vts_timer_cancel (&self->expiry_timer);
  g_hash_table_unref (self->entries);
  g_free (self->id);
  g_free (self);
}

const char *
vts_feed_get_id (VtsFeed *self)
{
  return self->id;
}

double
vts_feed_get_progress_interval (VtsFeed *self)
{
  return self->progress_interval;
}
