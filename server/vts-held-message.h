/* vts-held-message.h: a message kept open past its handler
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct _VtsHeldMessage VtsHeldMessage;

/* Called at most once, when the client went away or the server dropped
 * the connection; the owner then frees the VtsHeldMessage. */
typedef void (*VtsHeldMessageGoneFunc) (gpointer user_data);

VtsHeldMessage     *vts_held_message_new         (SoupServerMessage     *msg,
                                                VtsHeldMessageGoneFunc  gone,
                                                gpointer               user_data);
SoupServerMessage *vts_held_message_get_message (VtsHeldMessage         *self);
void               vts_held_message_free        (VtsHeldMessage         *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VtsHeldMessage, vts_held_message_free)

G_END_DECLS
