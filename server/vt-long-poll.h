/* vt-long-poll.h: a request held until its job changes or time runs out
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <libsoup/soup.h>

#include "vt-job.h"

G_BEGIN_DECLS

typedef struct _VtLongPoll VtLongPoll;

/* Sets the response of @msg, as the request would have had without a
 * wait. Only called if the exchange is still alive. */
typedef void (*VtLongPollRespondFunc) (SoupServerMessage *msg,
                                       VtJob             *job,
                                       gpointer           user_data);
/* Called exactly once when the long-poll is over, answered or not; the
 * owner frees it then. */
typedef void (*VtLongPollDoneFunc)    (VtLongPoll        *poll,
                                       gpointer           user_data);

VtLongPoll *vt_long_poll_new  (SoupServerMessage     *msg,
                               VtJob                 *job,
                               double                 wait_seconds,
                               VtLongPollRespondFunc  respond,
                               VtLongPollDoneFunc     done,
                               gpointer               user_data);
void        vt_long_poll_free (VtLongPoll            *self);

G_END_DECLS
