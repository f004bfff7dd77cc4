/* vts-long-poll.h: a request held until its job changes or time runs out
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <libsoup/soup.h>

#include "vts-job.h"

G_BEGIN_DECLS

typedef struct _VtsLongPoll VtsLongPoll;

/* Sets the response of @msg, as the request would have had without a
 * wait. Only called if the exchange is still alive. */
typedef void (*VtsLongPollRespondFunc) (SoupServerMessage *msg,
                                       VtsJob             *job,
                                       gpointer           user_data);
/* Called exactly once when the long-poll is over, answered or not; the
 * owner frees it then. */
typedef void (*VtsLongPollDoneFunc)    (VtsLongPoll        *poll,
                                       gpointer           user_data);

VtsLongPoll *vts_long_poll_new  (SoupServerMessage     *msg,
                               VtsJob                 *job,
                               double                 wait_seconds,
                               VtsLongPollRespondFunc  respond,
                               VtsLongPollDoneFunc     done,
                               gpointer               user_data);
void        vts_long_poll_free (VtsLongPoll            *self);

G_END_DECLS
