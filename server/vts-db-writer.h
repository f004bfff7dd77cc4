/* vts-db-writer.h: a thread that does a database's writes
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "vts-db.h"

G_BEGIN_DECLS

typedef struct _VtsDbWriter VtsDbWriter;

/* In the writer's thread: writes every item of @items (a batch: all that
 * was queued when the thread got to it) and stores the outcome in them. */
typedef void (*VtsDbWriterWriteFunc) (VtsDb     *db,
                                      GPtrArray *items,
                                      gpointer   user_data);
/* In the main context, after: the same batch, written. */
typedef void (*VtsDbWriterDoneFunc)  (GPtrArray *items,
                                      gpointer   user_data);

VtsDbWriter *vts_db_writer_new   (VtsDb                *db,
                                  VtsDbWriterWriteFunc  write,
                                  VtsDbWriterDoneFunc   done,
                                  gpointer              user_data,
                                  GDestroyNotify        item_free);
void         vts_db_writer_push  (VtsDbWriter          *self,
                                  gpointer              item);
void         vts_db_writer_close (VtsDbWriter          *self);

G_END_DECLS
