/* vt-timer-heap.c: many timers, one main-loop source
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <math.h>

#include "vt-timer-heap-private.h"

/* The heap is the source: GLib keeps a source alive while it dispatches,
 * so a timer's callback may free the heap it runs from. */
struct _VtTimerHeap
{
  GSource     source;
  GPtrArray  *timers;   /* VtTimer *, a binary min-heap on due_us */
};

static VtTimer *
timer_at (VtTimerHeap *heap,
          guint        i)
{
  return g_ptr_array_index (heap->timers, i);
}

static void
place (VtTimerHeap *heap,
       guint        i,
       VtTimer     *timer)
{
  heap->timers->pdata[i] = timer;
  timer->index = i + 1;
}

static void
sift_up (VtTimerHeap *heap,
         guint        i)
{
  VtTimer *timer = timer_at (heap, i);

  while (i > 0)
    {
      guint parent = (i - 1) / 2;

      if (timer_at (heap, parent)->due_us <= timer->due_us)
        break;
      place (heap, i, timer_at (heap, parent));
      i = parent;
    }
  place (heap, i, timer);
}

static void
sift_down (VtTimerHeap *heap,
           guint        i)
{
  VtTimer *timer = timer_at (heap, i);
  guint n = heap->timers->len;

  for (;;)
    {
      guint child = 2 * i + 1;

      if (child >= n)
        break;
      if (child + 1 < n && timer_at (heap, child + 1)->due_us < timer_at (heap, child)->due_us)
        child++;
      if (timer->due_us <= timer_at (heap, child)->due_us)
        break;
      place (heap, i, timer_at (heap, child));
      i = child;
    }
  place (heap, i, timer);
}

static void
update_ready_time (VtTimerHeap *heap)
{
  if (g_source_is_destroyed (&heap->source))
    return;

  g_source_set_ready_time (&heap->source,
                           heap->timers->len > 0 ? timer_at (heap, 0)->due_us : -1);
}

/* Takes @timer out of the heap without touching the source. */
static void
remove_timer (VtTimerHeap *heap,
              VtTimer     *timer)
{
  guint i = timer->index - 1;
  VtTimer *last = g_ptr_array_steal_index (heap->timers, heap->timers->len - 1);

  timer->index = 0;
  if (last == timer)
    return;

  place (heap, i, last);
  sift_down (heap, i);
  sift_up (heap, last->index - 1);
}

static gboolean
heap_dispatch (GSource     *source,
               GSourceFunc  callback,
               gpointer     user_data)
{
  VtTimerHeap *heap = (VtTimerHeap *) source;
  gint64 now = g_get_monotonic_time ();

  /* Only what is due now: a callback that schedules a timer for "now"
   * runs it in the next iteration, so others get their turn. */
  while (heap->timers->len > 0 && timer_at (heap, 0)->due_us <= now &&
         !g_source_is_destroyed (source))
    {
      VtTimer *timer = timer_at (heap, 0);

      remove_timer (heap, timer);
      timer->func (timer->user_data);
    }

  update_ready_time (heap);

  return G_SOURCE_CONTINUE;
}

static void
heap_finalize (GSource *source)
{
  VtTimerHeap *heap = (VtTimerHeap *) source;

  g_ptr_array_unref (heap->timers);
}

static GSourceFuncs heap_funcs = {
  .dispatch = heap_dispatch,
  .finalize = heap_finalize,
};

VtTimerHeap *
vt_timer_heap_new (GMainContext *context,
                   const char   *name)
{
  VtTimerHeap *heap = (VtTimerHeap *) g_source_new (&heap_funcs, sizeof (VtTimerHeap));

  heap->timers = g_ptr_array_new ();
  g_source_set_name (&heap->source, name);
  g_source_set_ready_time (&heap->source, -1);
  g_source_attach (&heap->source, context);

  return heap;
}

/* Timers still scheduled never run, and are left unscheduled at once:
 * their owners may go before the source does (it lives on while it
 * dispatches). */
void
vt_timer_heap_free (VtTimerHeap *heap)
{
  if (heap == NULL)
    return;

  for (guint i = 0; i < heap->timers->len; i++)
    timer_at (heap, i)->index = 0;
  g_ptr_array_set_size (heap->timers, 0);
  g_source_destroy (&heap->source);
  g_source_unref (&heap->source);
}

guint
vt_timer_heap_size (VtTimerHeap *heap)
{
  return heap->timers->len;
}

void
vt_timer_init (VtTimer     *timer,
               VtTimerFunc  func,
               gpointer     user_data)
{
  *timer = (VtTimer) { .func = func, .user_data = user_data };
}

gboolean
vt_timer_is_scheduled (const VtTimer *timer)
{
  return timer->index != 0;
}

/* Runs @timer's function once @due_us has passed; a scheduled timer is
 * moved. */
void
vt_timer_heap_schedule (VtTimerHeap *heap,
                        VtTimer     *timer,
                        gint64       due_us)
{
  if (vt_timer_is_scheduled (timer))
    remove_timer (heap, timer);

  timer->due_us = due_us;
  g_ptr_array_add (heap->timers, timer);
  timer->index = heap->timers->len;
  sift_up (heap, heap->timers->len - 1);
  update_ready_time (heap);
}

/* Rounded up to the microsecond: a poll timed to a job's estimated end
 * must not go early. */
void
vt_timer_heap_schedule_in (VtTimerHeap *heap,
                           VtTimer     *timer,
                           double       seconds)
{
  vt_timer_heap_schedule (heap, timer,
                          g_get_monotonic_time () + (gint64) ceil (MAX (seconds, 0.0) * G_USEC_PER_SEC));
}

void
vt_timer_heap_cancel (VtTimerHeap *heap,
                      VtTimer     *timer)
{
  if (!vt_timer_is_scheduled (timer))
    return;

  remove_timer (heap, timer);
  update_ready_time (heap);
}
