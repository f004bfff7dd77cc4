/* vts-timer.h: every timer of the server on one heap, behind one GSource
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _VtsTimer VtsTimer;

/* Called once each time @timer comes due; it may schedule it again. */
typedef void (*VtsTimerFunc) (VtsTimer *timer,
                              gpointer  user_data);

/* Embedded in its owner (a job, a long-poll, a feed): no allocation per
 * timer, and cancelling is O(log n). The fields are private. */
struct _VtsTimer
{
  gint64        due_us;     /* on the monotonic clock */
  guint64       order;      /* ties: the first scheduled fires first */
  guint         index;      /* its place in the heap; G_MAXUINT when idle */
  VtsTimerFunc  func;
  gpointer      user_data;
};

void     vts_timer_init          (VtsTimer     *timer,
                                  VtsTimerFunc  func,
                                  gpointer      user_data);
void     vts_timer_schedule      (VtsTimer     *timer,
                                  gint64        due_us);
void     vts_timer_schedule_in   (VtsTimer     *timer,
                                  double        seconds);
void     vts_timer_cancel        (VtsTimer     *timer);
gboolean vts_timer_is_scheduled  (const VtsTimer *timer);
guint    vts_timer_get_n_scheduled (void);

G_END_DECLS
