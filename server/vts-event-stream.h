/* vts-event-stream.h: a text/event-stream of job changes
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <libsoup/soup.h>

#include "vts-job.h"

G_BEGIN_DECLS

/* Seconds between two events of a pending job on a stream. */
#define VTS_EVENT_STREAM_PROGRESS_INTERVAL 2

typedef struct _VtsEventStream VtsEventStream;

/* Called exactly once when a stream vts_event_stream_new() returned is
 * over, ended or dropped; the owner frees it then. */
typedef void (*VtsEventStreamDoneFunc) (VtsEventStream *stream,
                                       gpointer       user_data);

VtsEventStream *vts_event_stream_new  (SoupServerMessage     *msg,
                                     VtsJob * const         *jobs,
                                     guint                  n_jobs,
                                     const VtsJobFormat     *format,
                                     const char            *last_event_id,
                                     VtsEventStreamDoneFunc  done,
                                     gpointer               user_data);
void           vts_event_stream_free (VtsEventStream         *self);
void           vts_event_stream_start_response (SoupServerMessage *msg);

G_END_DECLS
