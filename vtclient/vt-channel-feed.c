/* vt-channel-feed.c: one channel for many jobs
 *
 * The feed's life: created on the server on the first join (POST
 * /feeds), joins and leaves collected over a main-loop iteration and sent
 * as one POST (of at most VT_FEED_MAX_BATCH ids each), one delivery kept
 * open while anyone is a member (a stream resumed with Last-Event-ID, or
 * a long-poll resumed with its cursor), and, when the server forgot the
 * feed (a restart, an expiry: 404), a new one with every member joined
 * again. Failures are retried on a backoff of the feed's own; members
 * keep their budgets, and a member whose budget runs out while the feed
 * is failing reports the feed's error (vt_feed_get_error()).
 *
 * Costs are per job and per event: a join is one id in a batch, an event
 * one lookup of its job's members.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "vt-channel-feed-private.h"
#include "vt-channel-http-private.h"
#include "vt-channel-stream-private.h"
#include "vt-error.h"
#include "vt-protocol-private.h"

/* How long a held feed long-poll asks the server to wait. */
#define FEED_LONG_POLL_WAIT 30.0

/* The server pings an open feed stream every 15 s: three missed pings
 * mean the connection is dead even if no error says so. */
#define FEED_STREAM_IDLE_TIMEOUT 45.0

/* An idle delivery stays open this long for the next job to join. */
#define FEED_LINGER 10.0

/* Reconnects after failures: 0.1 s doubling up to 5 s, with jitter. */
#define FEED_RETRY_FIRST 0.1
#define FEED_RETRY_MAX   5.0

struct _VtFeed
{
  gint            ref_count;
  gboolean        closed;

  SoupSession    *session;
  VtRequestQueue *queue;
  VtTimerHeap    *timers;
  char           *base_url;
  char           *token;
  double          request_timeout;
  double          progress_interval;
  VtFeedDelivery  delivery;

  char           *feed_id;      /* NULL until the server made it */
  gboolean        creating;
  gboolean        unsupported;
  gboolean        offline;      /* send nothing until the network is back */

  GHashTable     *members;      /* job id → VtFeedMember *, a chain */
  guint           n_members;
  GPtrArray      *to_join;      /* ids, sent at the next flush */
  GPtrArray      *to_leave;
  GSource        *flush_source;

  GCancellable   *cancellable;  /* every request; cancelled on close */
  GCancellable   *delivery_cancellable;  /* the open delivery, if any */
  gint64          last_seq;     /* the last event seen */
  VtTimer         retry_timer;
  VtTimer         linger_timer;
  guint           failures;     /* in a row, of the delivery or creation */
  GError         *last_error;
  GRand          *rand;
};

static void feed_flush_soon (VtFeed *feed);
static void feed_open_delivery (VtFeed *feed);

/* ------------------------------------------------------------------ */
/* Lifetime                                                            */

static void
on_retry_timer (gpointer user_data)
{
  VtFeed *feed = user_data;

  feed_flush_soon (feed);
}

static void
on_linger_timer (gpointer user_data)
{
  VtFeed *feed = user_data;

  /* Nobody joined meanwhile: let the connection go. */
  if (feed->n_members == 0 && feed->delivery_cancellable != NULL)
    {
      g_debug ("feed %s: idle, closing its delivery", feed->feed_id);
      g_cancellable_cancel (feed->delivery_cancellable);
      g_clear_object (&feed->delivery_cancellable);
    }
}

VtFeed *
vt_feed_new (const VtFeedOptions *options)
{
  VtFeed *feed = g_new0 (VtFeed, 1);

  feed->ref_count = 1;
  feed->session = g_object_ref (options->session);
  feed->queue = vt_request_queue_ref (options->queue);
  feed->timers = options->timers;
  feed->base_url = g_strdup (options->base_url);
  feed->token = g_strdup (options->token);
  feed->request_timeout = options->request_timeout;
  feed->progress_interval = options->progress_interval;
  feed->delivery = options->delivery;
  feed->members = g_hash_table_new (g_str_hash, g_str_equal);
  feed->to_join = g_ptr_array_new_with_free_func (g_free);
  feed->to_leave = g_ptr_array_new_with_free_func (g_free);
  feed->cancellable = g_cancellable_new ();
  feed->rand = g_rand_new ();
  vt_timer_init (&feed->retry_timer, on_retry_timer, feed);
  vt_timer_init (&feed->linger_timer, on_linger_timer, feed);

  return feed;
}

VtFeed *
vt_feed_ref (VtFeed *feed)
{
  feed->ref_count++;
  return feed;
}

void
vt_feed_unref (VtFeed *feed)
{
  if (feed == NULL || --feed->ref_count > 0)
    return;

  g_assert (feed->closed || feed->n_members == 0);
  g_clear_object (&feed->session);
  g_clear_pointer (&feed->queue, vt_request_queue_unref);
  g_free (feed->base_url);
  if (feed->token != NULL)
    explicit_bzero (feed->token, strlen (feed->token));
  g_free (feed->token);
  g_free (feed->feed_id);
  g_hash_table_unref (feed->members);
  g_ptr_array_unref (feed->to_join);
  g_ptr_array_unref (feed->to_leave);
  g_clear_object (&feed->cancellable);
  g_clear_object (&feed->delivery_cancellable);
  g_clear_error (&feed->last_error);
  g_rand_free (feed->rand);
  g_free (feed);
}

/* Stops everything at once: members hear nothing more, requests in
 * flight are cancelled (and come back to a closed feed). The timer heap
 * may go after this. */
void
vt_feed_close (VtFeed *feed)
{
  if (feed->closed)
    return;

  feed->closed = TRUE;
  g_cancellable_cancel (feed->cancellable);
  if (feed->delivery_cancellable != NULL)
    g_cancellable_cancel (feed->delivery_cancellable);
  vt_timer_heap_cancel (feed->timers, &feed->retry_timer);
  vt_timer_heap_cancel (feed->timers, &feed->linger_timer);
  if (feed->flush_source != NULL)
    {
      g_source_destroy (feed->flush_source);
      g_clear_pointer (&feed->flush_source, g_source_unref);
    }
  g_hash_table_remove_all (feed->members);
  feed->n_members = 0;
}

/* Offline, the feed sends nothing (its open delivery may still end with
 * an error, retried once back); online again, it goes on at once. */
void
vt_feed_set_online (VtFeed   *feed,
                    gboolean  online)
{
  if (feed->closed || feed->offline == !online)
    return;

  feed->offline = !online;
  if (online)
    {
      feed->failures = 0;
      vt_timer_heap_cancel (feed->timers, &feed->retry_timer);
      feed_flush_soon (feed);
    }
}

const GError *
vt_feed_get_error (VtFeed *feed)
{
  return feed->last_error;
}

gboolean
vt_feed_is_unsupported (VtFeed *feed)
{
  return feed->unsupported;
}

guint
vt_feed_get_n_members (VtFeed *feed)
{
  return feed->n_members;
}

/* ------------------------------------------------------------------ */
/* Members                                                             */

void
vt_feed_member_init (VtFeedMember                *member,
                     const char                  *job_id,
                     const VtFeedMemberCallbacks *callbacks,
                     gpointer                     user_data)
{
  *member = (VtFeedMember) {
    .job_id = job_id,
    .callbacks = callbacks,
    .user_data = user_data,
  };
}

/* Takes @member out of its job's chain; the chain's head is the table's
 * key, so a new head replaces it. Returns %TRUE when the job has no
 * member left. */
static gboolean
unlink_member (VtFeed       *feed,
               VtFeedMember *member)
{
  VtFeedMember *head = g_hash_table_lookup (feed->members, member->job_id);
  VtFeedMember **link = &head;
  gboolean last;

  while (*link != NULL && *link != member)
    link = &(*link)->next;
  if (*link == NULL)
    return FALSE;

  *link = member->next;
  member->next = NULL;
  member->joined = FALSE;
  feed->n_members--;

  last = head == NULL;
  if (last)
    g_hash_table_remove (feed->members, member->job_id);
  else
    g_hash_table_replace (feed->members, (gpointer) head->job_id, head);

  return last;
}

/* Returns %FALSE when the feed cannot take members (the server has no
 * feeds, or the feed is closed): follow the job another way. */
gboolean
vt_feed_join (VtFeed       *feed,
              VtFeedMember *member)
{
  VtFeedMember *head;

  g_return_val_if_fail (!member->joined, FALSE);

  if (feed->closed || feed->unsupported)
    return FALSE;

  head = g_hash_table_lookup (feed->members, member->job_id);
  member->next = head;
  member->joined = TRUE;
  member->ended = FALSE;
  g_hash_table_replace (feed->members, (gpointer) member->job_id, member);
  feed->n_members++;

  /* Joined again even if another member has the job: the answer is this
   * member's first news of it. */
  g_ptr_array_add (feed->to_join, g_strdup (member->job_id));
  vt_timer_heap_cancel (feed->timers, &feed->linger_timer);
  feed_flush_soon (feed);

  return TRUE;
}

void
vt_feed_leave (VtFeed       *feed,
               VtFeedMember *member)
{
  if (feed->closed || !member->joined)
    return;

  /* A job whose end was told has left the server's feed by itself. */
  if (unlink_member (feed, member) && !member->ended)
    {
      g_ptr_array_add (feed->to_leave, g_strdup (member->job_id));
      feed_flush_soon (feed);
    }

  if (feed->n_members == 0)
    vt_timer_heap_schedule_in (feed->timers, &feed->linger_timer, FEED_LINGER);
}

/* Tells every member of @job_id; they may leave as they are told. */
static void
dispatch_observation (VtFeed                 *feed,
                      const VtJobObservation *observation)
{
  g_autoptr(GPtrArray) chain = NULL;
  VtFeedMember *member = g_hash_table_lookup (feed->members, observation->id);

  if (member == NULL)
    return;

  chain = g_ptr_array_new ();
  for (; member != NULL; member = member->next)
    {
      if (observation->status != VT_STATUS_PENDING)
        member->ended = TRUE;
      g_ptr_array_add (chain, member);
    }

  for (guint i = 0; i < chain->len && !feed->closed; i++)
    {
      member = g_ptr_array_index (chain, i);
      if (member->joined)
        member->callbacks->observed (member, observation, member->user_data);
    }
}

/* Every member of @job_id, or of every job when @job_id is %NULL, is out
 * of the feed and told why. */
static void
lose_members (VtFeed       *feed,
              const char   *job_id,
              VtFeedLoss    loss,
              const GError *error)
{
  g_autoptr(GPtrArray) lost = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer value;

  if (job_id != NULL)
    {
      value = g_hash_table_lookup (feed->members, job_id);
      for (VtFeedMember *m = value; m != NULL; m = m->next)
        g_ptr_array_add (lost, m);
    }
  else
    {
      g_hash_table_iter_init (&iter, feed->members);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        for (VtFeedMember *m = value; m != NULL; m = m->next)
          g_ptr_array_add (lost, m);
    }

  for (guint i = 0; i < lost->len; i++)
    unlink_member (feed, g_ptr_array_index (lost, i));

  for (guint i = 0; i < lost->len && !feed->closed; i++)
    {
      VtFeedMember *member = g_ptr_array_index (lost, i);

      member->callbacks->lost (member, loss, error, member->user_data);
    }
}

/* ------------------------------------------------------------------ */
/* Failures                                                            */

static void
set_error (VtFeed       *feed,
           const GError *error)
{
  g_clear_error (&feed->last_error);
  if (error != NULL)
    feed->last_error = g_error_copy (error);
}

/* The server cannot do feeds (or refused our credentials): nobody can
 * be followed here. */
static void
give_up (VtFeed       *feed,
         const GError *error)
{
  gboolean unauthorized = g_error_matches (error, VT_CLIENT_ERROR,
                                           VT_CLIENT_ERROR_UNAUTHORIZED);

  g_debug ("feed: giving up: %s", error->message);
  if (!unauthorized)
    feed->unsupported = TRUE;
  g_ptr_array_set_size (feed->to_join, 0);
  lose_members (feed, NULL,
                unauthorized ? VT_FEED_LOST_FATAL : VT_FEED_LOST_UNSUPPORTED, error);
}

/* A passing failure: try again after a backoff of the feed's own. */
static void
retry_later (VtFeed       *feed,
             const GError *error,
             double        retry_after)
{
  double delay = MIN (FEED_RETRY_FIRST * pow (2.0, feed->failures), FEED_RETRY_MAX);

  feed->failures++;
  set_error (feed, error);
  delay *= g_rand_double_range (feed->rand, 0.5, 1.0);
  /* The server said when: not sooner. */
  delay = MAX (delay, retry_after);
  g_debug ("feed %s: failed (%s), again in %.3f s", feed->feed_id ? feed->feed_id : "(new)",
           error->message, delay);

  if (!vt_timer_is_scheduled (&feed->retry_timer))
    vt_timer_heap_schedule_in (feed->timers, &feed->retry_timer, delay);
}

/* The server forgot the feed: make a new one and join everyone again. */
static void
recreate (VtFeed *feed)
{
  GHashTableIter iter;
  gpointer key;

  g_debug ("feed %s: unknown to the server, making a new one", feed->feed_id);
  g_clear_pointer (&feed->feed_id, g_free);
  feed->last_seq = 0;
  if (feed->delivery_cancellable != NULL)
    {
      g_cancellable_cancel (feed->delivery_cancellable);
      g_clear_object (&feed->delivery_cancellable);
    }

  g_ptr_array_set_size (feed->to_join, 0);
  g_hash_table_iter_init (&iter, feed->members);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (feed->to_join, g_strdup (key));

  feed_flush_soon (feed);
}

/* What any failed feed request means, once a request's own meaning is
 * handled: a forgotten feed is made again, a passing fault retried, the
 * rest ends the feed. */
static void
handle_failure (VtFeed     *feed,
                VtExchange *exchange)
{
  if (exchange->kind == VT_EXCHANGE_FATAL &&
      g_error_matches (exchange->error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_NOT_FOUND) &&
      feed->feed_id != NULL)
    recreate (feed);
  else if (exchange->kind == VT_EXCHANGE_TRANSIENT || exchange->kind == VT_EXCHANGE_PROTOCOL)
    retry_later (feed, exchange->error, exchange->hints.retry_after);
  else if (exchange->kind == VT_EXCHANGE_REDIRECT)
    {
      g_autoptr(GError) error = g_error_new (VT_CLIENT_ERROR, VT_CLIENT_ERROR_HTTP,
                                             "The server redirected a feed request (HTTP %u)",
                                             exchange->http_status);
      give_up (feed, error);
    }
  else
    give_up (feed, exchange->error);
}

/* ------------------------------------------------------------------ */
/* Requests through the queue                                          */

typedef void (*FeedAnswerFunc) (VtFeed     *feed,
                                VtExchange *exchange,
                                GBytes     *body,
                                GPtrArray  *ids);

typedef struct
{
  VtFeed         *feed;
  SoupMessage    *message;
  GPtrArray      *ids;       /* the ids a join carries, to send again */
  FeedAnswerFunc  answered;
} FeedRequest;

static void
feed_request_free (FeedRequest *request)
{
  vt_feed_unref (request->feed);
  g_clear_object (&request->message);
  g_clear_pointer (&request->ids, g_ptr_array_unref);
  g_free (request);
}

static void
on_feed_request_done (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  FeedRequest *request = user_data;
  VtFeed *feed = request->feed;
  g_autoptr(VtExchange) exchange = NULL;
  g_autoptr(GBytes) body = NULL;

  exchange = vt_channel_http_exchange_finish (SOUP_SESSION (object), result, &body);
  vt_request_queue_learn (feed->queue, &exchange->rate);
  vt_request_queue_release (feed->queue);

  if (!feed->closed && exchange->kind != VT_EXCHANGE_CANCELLED)
    request->answered (feed, exchange, body, request->ids);

  feed_request_free (request);
}

static void
start_feed_request (gpointer data)
{
  FeedRequest *request = data;

  vt_channel_http_exchange_async (request->feed->session, request->message,
                                  VT_REQUEST_FEED, request->feed->request_timeout,
                                  request->feed->cancellable,
                                  on_feed_request_done, request);
}

static void
feed_post (VtFeed         *feed,
           GUri           *uri,
           GBytes         *body,
           GPtrArray      *ids,
           gboolean        idempotent,
           FeedAnswerFunc  answered)
{
  FeedRequest *request = g_new0 (FeedRequest, 1);

  request->feed = vt_feed_ref (feed);
  request->message = vt_channel_http_new_message (SOUP_METHOD_POST, uri, feed->token);
  soup_message_set_request_body_from_bytes (request->message, "application/json", body);
  /* Joining and leaving set a membership: sending one twice changes
   * nothing, so libsoup may send it on a kept-alive connection instead of
   * opening a fresh one for every batch (it does that for plain POSTs). */
  if (idempotent)
    soup_message_add_flags (request->message, SOUP_MESSAGE_IDEMPOTENT);
  request->ids = ids;
  request->answered = answered;

  vt_request_queue_push (feed->queue, start_feed_request, request,
                         (GDestroyNotify) feed_request_free);
}

/* ------------------------------------------------------------------ */
/* Creating the feed, joining and leaving                              */

static void
on_created (VtFeed     *feed,
            VtExchange *exchange,
            GBytes     *body,
            GPtrArray  *ids)
{
  g_autoptr(GError) error = NULL;
  char *feed_id = NULL;

  feed->creating = FALSE;
  if (exchange->kind == VT_EXCHANGE_OK)
    {
      feed_id = vt_job_response_parse_id (g_bytes_get_data (body, NULL),
                                          g_bytes_get_size (body), &error);
      if (feed_id == NULL)
        {
          exchange->kind = VT_EXCHANGE_PROTOCOL;
          g_clear_error (&exchange->error);
          exchange->error = g_steal_pointer (&error);
        }
    }

  if (exchange->kind != VT_EXCHANGE_OK)
    {
      /* No such route: the server keeps no feeds. */
      handle_failure (feed, exchange);
      return;
    }

  g_debug ("feed %s: created", feed_id);
  feed->feed_id = feed_id;
  feed->failures = 0;
  set_error (feed, NULL);
  feed_flush_soon (feed);
}

static void
create_feed (VtFeed *feed)
{
  g_autoptr(GUri) uri = vt_protocol_feed_uri (feed->base_url, NULL, NULL);
  g_autoptr(GBytes) body = vt_feed_create_build (feed->progress_interval);

  feed->creating = TRUE;
  feed_post (feed, uri, body, NULL, FALSE, on_created);
}

/* Reads a 2xx's body as a feed answer: one that is not turns the
 * exchange into a protocol failure. */
static gboolean
read_answer (VtExchange   *exchange,
             GBytes       *body,
             VtFeedAnswer *answer)
{
  GError *error = NULL;

  if (exchange->kind != VT_EXCHANGE_OK)
    return FALSE;

  if (vt_feed_answer_parse (g_bytes_get_data (body, NULL), g_bytes_get_size (body),
                            answer, &error))
    return TRUE;

  exchange->kind = VT_EXCHANGE_PROTOCOL;
  g_clear_error (&exchange->error);
  exchange->error = error;
  return FALSE;
}

static void
on_joined (VtFeed     *feed,
           VtExchange *exchange,
           GBytes     *body,
           GPtrArray  *ids)
{
  g_auto(VtFeedAnswer) answer = { 0 };

  if (!read_answer (exchange, body, &answer))
    {
      /* Sent again with the next batch, for whoever is still a member. */
      if (exchange->kind == VT_EXCHANGE_TRANSIENT || exchange->kind == VT_EXCHANGE_PROTOCOL)
        for (guint i = 0; i < ids->len; i++)
          if (g_hash_table_contains (feed->members, g_ptr_array_index (ids, i)))
            g_ptr_array_add (feed->to_join, g_strdup (g_ptr_array_index (ids, i)));
      handle_failure (feed, exchange);
      return;
    }

  for (guint i = 0; i < answer.jobs->len && !feed->closed; i++)
    dispatch_observation (feed, &g_array_index (answer.jobs, VtJobObservation, i));

  for (guint i = 0; i < answer.unknown->len && !feed->closed; i++)
    {
      g_autoptr(GError) unknown = g_error_new (VT_CLIENT_ERROR, VT_CLIENT_ERROR_NOT_FOUND,
                                               "The server does not know this job");

      lose_members (feed, g_ptr_array_index (answer.unknown, i), VT_FEED_LOST_FATAL, unknown);
    }

  for (guint i = 0; i < answer.gone->len && !feed->closed; i++)
    {
      g_autoptr(GError) gone = g_error_new (VT_CLIENT_ERROR, VT_CLIENT_ERROR_NOT_FOUND,
                                            "The server no longer keeps this job (gone)");

      lose_members (feed, g_ptr_array_index (answer.gone, i), VT_FEED_LOST_FATAL, gone);
    }
}

static void
on_left (VtFeed     *feed,
         VtExchange *exchange,
         GBytes     *body,
         GPtrArray  *ids)
{
  /* Nothing to do either way: a job left behind on the server ends its
   * own membership with its terminal event, whose news nobody hears. */
}

/* Sends what was joined and left since the last flush, a batch at a
 * time. */
static void
send_batches (VtFeed *feed)
{
  g_autoptr(GUri) uri = vt_protocol_feed_uri (feed->base_url, feed->feed_id, "/jobs");

  while (feed->to_join->len > 0)
    {
      guint n = MIN (feed->to_join->len, VT_FEED_MAX_BATCH);
      GPtrArray *ids = g_ptr_array_new_with_free_func (g_free);
      g_autoptr(GBytes) body = NULL;

      for (guint i = 0; i < n; i++)
        g_ptr_array_add (ids, g_ptr_array_steal_index (feed->to_join, 0));
      body = vt_feed_jobs_build ((const char * const *) ids->pdata, ids->len, NULL, 0);
      feed_post (feed, uri, body, ids, TRUE, on_joined);
    }

  while (feed->to_leave->len > 0)
    {
      guint n = MIN (feed->to_leave->len, VT_FEED_MAX_BATCH);
      g_autoptr(GBytes) body = vt_feed_jobs_build (NULL, 0,
                                                   (const char * const *) feed->to_leave->pdata, n);

      g_ptr_array_remove_range (feed->to_leave, 0, n);
      feed_post (feed, uri, body, NULL, TRUE, on_left);
    }
}

static gboolean
on_flush (gpointer user_data)
{
  VtFeed *feed = user_data;

  g_clear_pointer (&feed->flush_source, g_source_unref);

  if (feed->closed || feed->offline || vt_timer_is_scheduled (&feed->retry_timer))
    return G_SOURCE_REMOVE;

  if (feed->feed_id == NULL)
    {
      if (!feed->creating && feed->n_members > 0)
        create_feed (feed);
      else if (feed->n_members == 0)
        g_ptr_array_set_size (feed->to_leave, 0);
      return G_SOURCE_REMOVE;
    }

  send_batches (feed);
  if (feed->n_members > 0 && feed->delivery_cancellable == NULL)
    feed_open_delivery (feed);

  return G_SOURCE_REMOVE;
}

/* Everything asked in this main-loop iteration goes out together, in
 * the next one. */
static void
feed_flush_soon (VtFeed *feed)
{
  if (feed->flush_source != NULL || feed->closed)
    return;

  feed->flush_source = g_idle_source_new ();
  g_source_set_name (feed->flush_source, "[vtclient] feed flush");
  g_source_set_callback (feed->flush_source, on_flush, feed, NULL);
  g_source_attach (feed->flush_source, g_main_context_get_thread_default ());
}

/* ------------------------------------------------------------------ */
/* Delivery                                                            */

/* A delivery request ends: go on if anyone still listens. */
static void
delivery_ended (VtFeed       *feed,
                GCancellable *cancellable,
                VtExchange   *exchange)
{
  /* Replaced (a recreate) or let go (linger) meanwhile. */
  if (cancellable != feed->delivery_cancellable)
    return;
  g_clear_object (&feed->delivery_cancellable);

  if (exchange != NULL && exchange->kind != VT_EXCHANGE_OK)
    {
      handle_failure (feed, exchange);
      return;
    }

  /* Offline, the next one waits: vt_feed_set_online() opens it. */
  if (feed->n_members > 0 && !feed->offline)
    feed_open_delivery (feed);
}

typedef struct
{
  VtFeed       *feed;
  GCancellable *cancellable;
  SoupMessage  *message;      /* long-poll only */
} Delivery;

static void
on_stream_opened (VtCapabilities capabilities,
                  gpointer       user_data)
{
  Delivery *delivery = user_data;

  delivery->feed->failures = 0;
  set_error (delivery->feed, NULL);
}

/* Events of a stream that was replaced or let go are not the feed's
 * any more: their sequence numbers may be another feed's. */
static void
on_stream_event (const VtJobObservation *observation,
                 const char             *event_id,
                 gpointer                user_data)
{
  Delivery *delivery = user_data;
  VtFeed *feed = delivery->feed;
  gint64 seq;

  if (feed->closed || g_cancellable_is_cancelled (delivery->cancellable))
    return;

  if (event_id != NULL && g_ascii_string_to_signed (event_id, 10, 0, G_MAXINT64, &seq, NULL))
    feed->last_seq = seq;

  if (observation->id != NULL)
    dispatch_observation (feed, observation);
}

static const VtStreamCallbacks stream_callbacks = {
  .opened = on_stream_opened,
  .event = on_stream_event,
};

static void
delivery_free (Delivery *delivery)
{
  vt_feed_unref (delivery->feed);
  g_clear_object (&delivery->cancellable);
  g_clear_object (&delivery->message);
  g_free (delivery);
}

static void
on_stream_closed (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  Delivery *delivery = user_data;
  g_autoptr(VtExchange) exchange = vt_channel_stream_finish (SOUP_SESSION (object), result);

  /* A feed's stream is open for as long as the feed: a close, clean as
   * it may be, is retried like a drop, so a server that keeps closing
   * is not asked again in a tight loop. Cancelled: whoever cancelled
   * already let the delivery go. */
  if (!delivery->feed->closed && exchange->kind != VT_EXCHANGE_CANCELLED)
    {
      vt_request_queue_learn (delivery->feed->queue, &exchange->rate);
      if (exchange->kind == VT_EXCHANGE_OK)
        {
          exchange->kind = VT_EXCHANGE_TRANSIENT;
          exchange->error = g_error_new_literal (VT_CLIENT_ERROR, VT_CLIENT_ERROR_UNREACHABLE,
                                                 "The feed's event stream closed");
        }
      delivery_ended (delivery->feed, delivery->cancellable, exchange);
    }

  delivery_free (delivery);
}

static void
on_long_poll_answered (GObject      *object,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  Delivery *delivery = user_data;
  VtFeed *feed = delivery->feed;
  g_autoptr(VtExchange) exchange = NULL;
  g_autoptr(GBytes) body = NULL;
  g_auto(VtFeedAnswer) answer = { 0 };

  exchange = vt_channel_http_exchange_finish (SOUP_SESSION (object), result, &body);

  if (feed->closed || exchange->kind == VT_EXCHANGE_CANCELLED)
    {
      delivery_free (delivery);
      return;
    }
  vt_request_queue_learn (feed->queue, &exchange->rate);

  if (read_answer (exchange, body, &answer))
    {
      feed->failures = 0;
      set_error (feed, NULL);
      if (answer.next >= 0)
        feed->last_seq = answer.next;
      for (guint i = 0; i < answer.jobs->len && !feed->closed; i++)
        dispatch_observation (feed, &g_array_index (answer.jobs, VtJobObservation, i));
    }

  if (!feed->closed)
    delivery_ended (feed, delivery->cancellable, exchange);
  delivery_free (delivery);
}

static void
feed_open_delivery (VtFeed *feed)
{
  Delivery *delivery = g_new0 (Delivery, 1);
  g_autoptr(GUri) uri = NULL;

  feed->delivery_cancellable = g_cancellable_new ();
  delivery->feed = vt_feed_ref (feed);
  delivery->cancellable = g_object_ref (feed->delivery_cancellable);

  if (feed->delivery == VT_FEED_DELIVERY_STREAM)
    {
      g_autofree char *last_id = g_strdup_printf ("%" G_GINT64_FORMAT, feed->last_seq);

      uri = vt_protocol_feed_uri (feed->base_url, feed->feed_id, "/events");
      vt_channel_stream_async (feed->session, uri, feed->token, last_id,
                               feed->request_timeout, FEED_STREAM_IDLE_TIMEOUT,
                               delivery->cancellable, &stream_callbacks, delivery,
                               on_stream_closed, delivery);
      return;
    }

  uri = vt_protocol_feed_wait_uri (feed->base_url, feed->feed_id, feed->last_seq,
                                   FEED_LONG_POLL_WAIT);
  delivery->message = vt_channel_http_new_message (SOUP_METHOD_GET, uri, feed->token);
  vt_channel_http_exchange_async (feed->session, delivery->message, VT_REQUEST_FEED,
                                  FEED_LONG_POLL_WAIT + feed->request_timeout,
                                  delivery->cancellable, on_long_poll_answered, delivery);
}
