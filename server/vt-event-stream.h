/* vt-event-stream.h: a text/event-stream of job changes
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <libsoup/soup.h>

#include "vt-job.h"

G_BEGIN_DECLS

typedef struct _VtEventStream VtEventStream;

/* Called exactly once when a stream vt_event_stream_new() returned is
 * over, ended or dropped; the owner frees it then. */
typedef void (*VtEventStreamDoneFunc) (VtEventStream *stream,
                                       gpointer       user_data);

VtEventStream *vt_event_stream_new  (SoupServerMessage     *msg,
                                     VtJob * const         *jobs,
                                     guint                  n_jobs,
                                     VtEventStreamDoneFunc  done,
                                     gpointer               user_data);
void           vt_event_stream_free (VtEventStream         *self);

G_END_DECLS
