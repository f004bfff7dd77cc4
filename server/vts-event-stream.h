/* vts-event-stream.h: a text/event-stream of job changes
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <libsoup/soup.h>

#include "vts-job.h"

G_BEGIN_DECLS

typedef struct _VtsEventStream VtsEventStream;

/* Called exactly once when a stream vts_event_stream_new() returned is
 * over, ended or dropped; the owner frees it then. */
typedef void (*VtsEventStreamDoneFunc) (VtsEventStream *stream,
                                       gpointer       user_data);

VtsEventStream *vts_event_stream_new  (SoupServerMessage     *msg,
                                     VtsJob * const         *jobs,
                                     guint                  n_jobs,
                                     VtsEventStreamDoneFunc  done,
                                     gpointer               user_data);
void           vts_event_stream_free (VtsEventStream         *self);

G_END_DECLS
