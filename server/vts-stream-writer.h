/* vts-stream-writer.h: a streamed response on a connection taken from libsoup
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct _VtsStreamWriter VtsStreamWriter;

/* The client went away (or a write failed); the owner frees the writer. */
typedef void (*VtsStreamWriterGoneFunc) (gpointer user_data);

VtsStreamWriter *vts_stream_writer_new    (SoupServerMessage       *msg,
                                           VtsStreamWriterGoneFunc  gone,
                                           gpointer                 user_data);
void             vts_stream_writer_write  (VtsStreamWriter         *self,
                                           const char              *text);
void             vts_stream_writer_finish (VtsStreamWriter         *self);
void             vts_stream_writer_free   (VtsStreamWriter         *self);

G_END_DECLS
