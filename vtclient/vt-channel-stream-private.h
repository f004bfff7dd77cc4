/* vt-channel-stream-private.h: how we ask, by listening (Server-Sent Events)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "vt-channel-http-private.h"

G_BEGIN_DECLS

/* What an open stream tells as it goes, before it completes. */
typedef struct
{
  /* The stream is open (nullable): what the server announced. */
  void (*opened) (VtCapabilities          capabilities,
                  gpointer                user_data);
  /* One job observation, in order, with the event's id (nullable). */
  void (*event)  (const VtJobObservation *observation,
                  const char             *event_id,
                  gpointer                user_data);
} VtStreamCallbacks;

void        vt_channel_stream_async  (SoupSession             *session,
                                      GUri                    *uri,
                                      const char              *token,
                                      const char              *last_event_id,
                                      double                   connect_timeout,
                                      double                   idle_timeout,
                                      GCancellable            *cancellable,
                                      const VtStreamCallbacks *callbacks,
                                      gpointer                 callback_data,
                                      GAsyncReadyCallback      callback,
                                      gpointer                 user_data);
VtExchange *vt_channel_stream_finish (SoupSession             *session,
                                      GAsyncResult            *result);

G_END_DECLS
