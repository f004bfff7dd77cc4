/* vt-watch-private.h: what the caller sees of one job being followed
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <libsoup/soup.h>

#include "vt-client.h"
#include "vt-schedule-private.h"

G_BEGIN_DECLS

typedef struct _VtWatch VtWatch;

/* Everything a watch needs from the client, copied when it starts, so a
 * watch never reads client state another thread may be changing. */
typedef struct
{
  VtScheduleConfig  schedule;
  VtStrategy        strategy;
  double            request_timeout;
  double            start_jitter;
  char             *token;
  char             *base_url;       /* what learned durations are filed under */
  guint             capabilities;   /* VtCapabilities the server announced */
  gboolean          capabilities_known;
} VtWatchOptions;

void     vt_watch_options_clear (VtWatchOptions *options);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (VtWatchOptions, vt_watch_options_clear)

VtWatch *vt_watch_start         (VtClient             *client,
                                 SoupSession          *session,
                                 const VtWatchOptions *options,
                                 GUri                 *uri,
                                 GUri                 *events_uri,
                                 const char           *job_id,
                                 GTask                *task);
void     vt_watch_cancel        (VtWatch              *watch);

G_END_DECLS
