/* vt-timer-heap-private.h: many timers, one main-loop source
 *
 * GLib's main loop looks at every attached source on every iteration, so
 * a timeout source per job makes each iteration cost as much as there are
 * jobs. A VtTimerHeap keeps any number of timers in a binary heap keyed
 * by their due time and attaches a single source whose ready time is the
 * earliest of them: scheduling and cancelling cost O(log n), an iteration
 * O(1). Timers are embedded in their owners (no allocation) and run in
 * the heap's main context; a heap is used from that context's thread
 * only.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _VtTimerHeap VtTimerHeap;

typedef void (*VtTimerFunc) (gpointer user_data);

typedef struct
{
  /*< private >*/
  gint64       due_us;     /* on the monotonic clock */
  guint        index;      /* 1 + position in the heap, 0 when not scheduled */
  VtTimerFunc  func;
  gpointer     user_data;
} VtTimer;

VtTimerHeap *vt_timer_heap_new      (GMainContext *context,
                                     const char   *name);
void         vt_timer_heap_free     (VtTimerHeap  *heap);
guint        vt_timer_heap_size     (VtTimerHeap  *heap);

void         vt_timer_init          (VtTimer      *timer,
                                     VtTimerFunc   func,
                                     gpointer      user_data);
gboolean     vt_timer_is_scheduled  (const VtTimer *timer);
void         vt_timer_heap_schedule (VtTimerHeap  *heap,
                                     VtTimer      *timer,
                                     gint64        due_us);
void         vt_timer_heap_schedule_in (VtTimerHeap *heap,
                                        VtTimer     *timer,
                                        double       seconds);
void         vt_timer_heap_cancel   (VtTimerHeap  *heap,
                                     VtTimer      *timer);

G_END_DECLS
