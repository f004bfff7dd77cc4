/* vt-channel-stream-private.h: how we ask, by listening (Server-Sent Events)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "vt-channel-http-private.h"

G_BEGIN_DECLS

/* Called for each job observation the stream delivers, in order. */
typedef void (*VtStreamEventFunc) (const VtJobObservation *observation,
                                   gpointer                user_data);

void        vt_channel_stream_async  (SoupSession         *session,
                                      GUri                *uri,
                                      const char          *token,
                                      double               connect_timeout,
                                      GCancellable        *cancellable,
                                      VtStreamEventFunc    on_event,
                                      gpointer             event_data,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data);
VtExchange *vt_channel_stream_finish (SoupSession         *session,
                                      GAsyncResult        *result);

G_END_DECLS
