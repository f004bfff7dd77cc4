/* vt-request-queue-private.h: a bound on the requests in flight
 *
 * libsoup scans its whole message queue each time it dispatches, so ten
 * thousand requests handed to a session at once make every one of them
 * cost ten thousand steps. A VtRequestQueue lets at most a fixed number
 * of requests of one server be in flight and keeps the rest in order, at
 * O(1) each. It knows nothing of HTTP: a request is a function that
 * starts it, and whoever started it calls vt_request_queue_release() once
 * it is over. Used from one thread. Refcounted, so that a request still
 * in flight when its owner goes can release its slot.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

#include "vt-rate-limit-private.h"
#include "vt-timer-heap-private.h"

G_BEGIN_DECLS

typedef struct _VtRequestQueue VtRequestQueue;

/* Starts the request now; it holds one slot until released. */
typedef void (*VtQueuedFunc) (gpointer data);

VtRequestQueue *vt_request_queue_new         (guint           max_in_flight);
void            vt_request_queue_pace        (VtRequestQueue *queue,
                                              VtRateLimit    *limit,
                                              VtTimerHeap    *timers);
void            vt_request_queue_learn       (VtRequestQueue *queue,
                                              const VtRateInfo *info);
VtRequestQueue *vt_request_queue_ref         (VtRequestQueue *queue);
void            vt_request_queue_unref       (VtRequestQueue *queue);
void            vt_request_queue_close       (VtRequestQueue *queue);
void            vt_request_queue_push        (VtRequestQueue *queue,
                                              VtQueuedFunc    func,
                                              gpointer        data,
                                              GDestroyNotify  destroy);
void            vt_request_queue_release     (VtRequestQueue *queue);
guint           vt_request_queue_n_in_flight (VtRequestQueue *queue);
guint           vt_request_queue_n_waiting   (VtRequestQueue *queue);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VtRequestQueue, vt_request_queue_unref)

G_END_DECLS
