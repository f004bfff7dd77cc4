/* vt-request-queue.c: a bound on the requests in flight
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "vt-request-queue-private.h"

typedef struct
{
  VtQueuedFunc   func;
  gpointer       data;
  GDestroyNotify destroy;
} Entry;

struct _VtRequestQueue
{
  gint         ref_count;
  gboolean     closed;
  guint        max_in_flight;
  guint        in_flight;
  GQueue       waiting;   /* Entry *, oldest first */
  gboolean     running;   /* in run_waiting(): releases do not recurse */

  /* Pacing, when the server told a limit: its owner's, shared. */
  VtRateLimit *limit;
  VtTimerHeap *timers;
  VtTimer      wake;      /* the limit lets the next one start then */
};

static void run_waiting (VtRequestQueue *queue);

static void
on_wake (gpointer user_data)
{
  run_waiting (user_data);
}

static void
entry_free (Entry *entry)
{
  if (entry->destroy != NULL)
    entry->destroy (entry->data);
  g_free (entry);
}

VtRequestQueue *
vt_request_queue_new (guint max_in_flight)
{
  VtRequestQueue *queue = g_new0 (VtRequestQueue, 1);

  g_return_val_if_fail (max_in_flight > 0, NULL);

  queue->ref_count = 1;
  queue->max_in_flight = max_in_flight;
  g_queue_init (&queue->waiting);
  vt_timer_init (&queue->wake, on_wake, queue);

  return queue;
}

/*
 * vt_request_queue_pace:
 * @limit: what is known of the server's rate limit; outlives the queue's
 *   closing
 * @timers: where the queue waits for its next token
 *
 * Requests start only as fast as @limit allows.
 */
void
vt_request_queue_pace (VtRequestQueue *queue,
                       VtRateLimit    *limit,
                       VtTimerHeap    *timers)
{
  queue->limit = limit;
  queue->timers = timers;
}

/* What an answer told of the limit: a held bucket holds every waiting
 * request, whichever job's answer it was. */
void
vt_request_queue_learn (VtRequestQueue   *queue,
                        const VtRateInfo *info)
{
  if (queue->limit != NULL && !queue->closed)
    vt_rate_limit_learn (queue->limit, info, g_get_monotonic_time ());
}

/* Whether a request may start now; if not, the queue wakes when one
 * may. */
static gboolean
may_start (VtRequestQueue *queue)
{
  gint64 now, when;

  if (queue->limit == NULL)
    return TRUE;

  now = g_get_monotonic_time ();
  when = vt_rate_limit_when (queue->limit, now);
  if (when <= now)
    {
      vt_rate_limit_take (queue->limit, now);
      return TRUE;
    }

  if (!vt_timer_is_scheduled (&queue->wake) || queue->wake.due_us > when)
    vt_timer_heap_schedule (queue->timers, &queue->wake, when);
  return FALSE;
}

VtRequestQueue *
vt_request_queue_ref (VtRequestQueue *queue)
{
  queue->ref_count++;
  return queue;
}

void
vt_request_queue_unref (VtRequestQueue *queue)
{
  if (queue == NULL || --queue->ref_count > 0)
    return;

  g_queue_clear_full (&queue->waiting, (GDestroyNotify) entry_free);
  g_free (queue);
}

/* Requests still waiting are dropped unstarted (their data destroyed),
 * later ones too; those in flight may still be released. */
void
vt_request_queue_close (VtRequestQueue *queue)
{
  queue->closed = TRUE;
  if (queue->timers != NULL)
    vt_timer_heap_cancel (queue->timers, &queue->wake);
  queue->limit = NULL;
  g_queue_clear_full (&queue->waiting, (GDestroyNotify) entry_free);
}

static void
start (VtRequestQueue *queue,
       VtQueuedFunc    func,
       gpointer        data)
{
  queue->in_flight++;
  func (data);
}

/* A loop, not a recursion: a request that ends as it starts (its caller
 * gave up meanwhile) releases its slot from inside start(). */
static void
run_waiting (VtRequestQueue *queue)
{
  queue->running = TRUE;
  while (queue->in_flight < queue->max_in_flight && !g_queue_is_empty (&queue->waiting) &&
         may_start (queue))
    {
      Entry *entry = g_queue_pop_head (&queue->waiting);

      start (queue, entry->func, entry->data);
      g_free (entry);
    }
  queue->running = FALSE;
}

/*
 * vt_request_queue_push:
 * @func: starts the request; @data is its from then on
 * @destroy: (nullable): frees @data if the queue is closed before @func
 *   ran
 *
 * Runs @func at once if a slot is free, else once the requests before it
 * have been released.
 */
void
vt_request_queue_push (VtRequestQueue *queue,
                       VtQueuedFunc    func,
                       gpointer        data,
                       GDestroyNotify  destroy)
{
  Entry *entry;

  if (queue->closed)
    {
      if (destroy != NULL)
        destroy (data);
      return;
    }

  if (queue->in_flight < queue->max_in_flight && g_queue_is_empty (&queue->waiting) &&
      may_start (queue))
    {
      start (queue, func, data);
      return;
    }

  entry = g_new (Entry, 1);
  *entry = (Entry) { func, data, destroy };
  g_queue_push_tail (&queue->waiting, entry);
}

/* A request started by the queue is over: its slot goes to the next. */
void
vt_request_queue_release (VtRequestQueue *queue)
{
  g_return_if_fail (queue->in_flight > 0);

  queue->in_flight--;
  if (!queue->running)
    run_waiting (queue);
}

guint
vt_request_queue_n_in_flight (VtRequestQueue *queue)
{
  return queue->in_flight;
}

guint
vt_request_queue_n_waiting (VtRequestQueue *queue)
{
  return queue->waiting.length;
}
