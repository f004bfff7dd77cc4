/* vts-timer.c: every timer of the server on one heap, behind one GSource
 *
 * A job's end, a long-poll's deadline, a feed's progress tick, ping and
 * expiry: the server holds tens of thousands of these at once. GLib's
 * main loop prepares and checks every attached source on every
 * iteration, so a GSource per timer costs O(timers) per iteration, that
 * is per event. Here they are kept on one binary min-heap keyed by due
 * time, and one GSource whose ready time is the earliest due time stands
 * for all of them: scheduling and cancelling are O(log n), and the main
 * loop sees a single source.
 *
 * The heap belongs to the thread-default main context in use when the
 * first timer is scheduled; the server has one thread. The source exists
 * only while some timer is scheduled, so nothing is left behind at exit.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vts-timer.h"

#define IDLE G_MAXUINT

typedef struct
{
  GSource    source;
  GPtrArray *heap;   /* VtsTimer *, borrowed: their owners outlive them */
} VtsTimerSource;

static VtsTimerSource *timers;
/* Never reset, not even when the source goes: see the dispatch limit. */
static guint64 next_order;

static gboolean
timer_before (const VtsTimer *a,
              const VtsTimer *b)
{
  return a->due_us < b->due_us || (a->due_us == b->due_us && a->order < b->order);
}

static VtsTimer *
heap_at (guint i)
{
  return g_ptr_array_index (timers->heap, i);
}

static void
heap_put (VtsTimer *timer,
          guint     i)
{
  timers->heap->pdata[i] = timer;
  timer->index = i;
}

static void
sift_up (guint i)
{
  VtsTimer *timer = heap_at (i);

  while (i > 0 && timer_before (timer, heap_at ((i - 1) / 2)))
    {
      heap_put (heap_at ((i - 1) / 2), i);
      i = (i - 1) / 2;
    }
  heap_put (timer, i);
}

static void
sift_down (guint i)
{
  VtsTimer *timer = heap_at (i);
  guint n = timers->heap->len;

  for (;;)
    {
      guint child = 2 * i + 1;

      if (child >= n)
        break;
      if (child + 1 < n && timer_before (heap_at (child + 1), heap_at (child)))
        child++;
      if (!timer_before (heap_at (child), timer))
        break;
      heap_put (heap_at (child), i);
      i = child;
    }
  heap_put (timer, i);
}

static void
heap_remove (VtsTimer *timer)
{
  guint i = timer->index;
  VtsTimer *last = g_ptr_array_steal_index_fast (timers->heap, timers->heap->len - 1);

  timer->index = IDLE;
  if (last == timer)
    return;

  /* The last one takes the hole, then finds its place either way. */
  heap_put (last, i);
  if (i > 0 && timer_before (last, heap_at ((i - 1) / 2)))
    sift_up (i);
  else
    sift_down (i);
}

static void vts_timer_source_update (void);

static gboolean
vts_timer_source_dispatch (GSource     *source,
                           GSourceFunc  callback,
                           gpointer     user_data)
{
  gint64 now = g_get_monotonic_time ();
  /* A timer scheduled from a callback for "now" fires on the next
   * iteration, not in this loop: the main loop keeps turning. */
  guint64 limit = next_order;

  g_source_ref (source);
  while (timers != NULL && timers->heap->len > 0)
    {
      VtsTimer *timer = heap_at (0);

      if (timer->due_us > now || timer->order >= limit)
        break;
      heap_remove (timer);
      timer->func (timer, timer->user_data);
    }
  vts_timer_source_update ();
  g_source_unref (source);

  return G_SOURCE_CONTINUE;
}

static void
vts_timer_source_finalize (GSource *source)
{
  VtsTimerSource *self = (VtsTimerSource *) source;

  g_ptr_array_unref (self->heap);
}

static GSourceFuncs vts_timer_source_funcs = {
  .dispatch = vts_timer_source_dispatch,
  .finalize = vts_timer_source_finalize,
};

/* The ready time follows the earliest timer; with none left the source
 * goes, so that an idle server holds nothing. */
static void
vts_timer_source_update (void)
{
  if (timers == NULL)
    return;

  if (timers->heap->len == 0)
    {
      GSource *source = (GSource *) timers;

      timers = NULL;
      g_source_destroy (source);
      g_source_unref (source);
      return;
    }

  if (g_source_get_ready_time ((GSource *) timers) != heap_at (0)->due_us)
    g_source_set_ready_time ((GSource *) timers, heap_at (0)->due_us);
}

static void
vts_timer_source_ensure (void)
{
  GSource *source;

  if (timers != NULL)
    return;

  source = g_source_new (&vts_timer_source_funcs, sizeof (VtsTimerSource));
  g_source_set_name (source, "[vt-server] timers");
  timers = (VtsTimerSource *) source;
  timers->heap = g_ptr_array_new ();
  g_source_attach (source, g_main_context_get_thread_default ());
}

void
vts_timer_init (VtsTimer     *timer,
                VtsTimerFunc  func,
                gpointer      user_data)
{
  *timer = (VtsTimer) { .index = IDLE, .func = func, .user_data = user_data };
}

/*
 * vts_timer_schedule:
 * @due_us: when, on the monotonic clock; a past time fires on the next
 *   main-loop iteration
 *
 * Schedules @timer, or moves it if it was already scheduled.
 */
void
vts_timer_schedule (VtsTimer *timer,
                    gint64    due_us)
{
  g_return_if_fail (timer != NULL && timer->func != NULL);

  if (timer->index != IDLE)
    heap_remove (timer);

  vts_timer_source_ensure ();
  timer->due_us = due_us;
  timer->order = next_order++;
  g_ptr_array_add (timers->heap, timer);
  timer->index = timers->heap->len - 1;
  sift_up (timer->index);
  vts_timer_source_update ();
}

void
vts_timer_schedule_in (VtsTimer *timer,
                       double    seconds)
{
  vts_timer_schedule (timer, g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC));
}

/* Idempotent: cancelling an idle timer does nothing. */
void
vts_timer_cancel (VtsTimer *timer)
{
  if (timer == NULL || timer->index == IDLE)
    return;

  heap_remove (timer);
  vts_timer_source_update ();
}

gboolean
vts_timer_is_scheduled (const VtsTimer *timer)
{
  return timer->index != IDLE;
}

guint
vts_timer_get_n_scheduled (void)
{
  return timers != NULL ? timers->heap->len : 0;
}
