/* vt-held-message.h: a message kept open past its handler
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct _VtHeldMessage VtHeldMessage;

/* Called at most once, when the client went away or the server dropped
 * the connection; the owner then frees the VtHeldMessage. */
typedef void (*VtHeldMessageGoneFunc) (gpointer user_data);

VtHeldMessage     *vt_held_message_new         (SoupServerMessage     *msg,
                                                VtHeldMessageGoneFunc  gone,
                                                gpointer               user_data);
SoupServerMessage *vt_held_message_get_message (VtHeldMessage         *self);
void               vt_held_message_free        (VtHeldMessage         *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VtHeldMessage, vt_held_message_free)

G_END_DECLS
