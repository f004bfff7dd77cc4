/* vts-db-writer.c: a thread that does a database's writes
 *
 * A commit waits for the disk (an fsync of the log, and now and then a
 * checkpoint): on the main loop that wait would hold up every request,
 * the GETs and the event streams too, once per commit. The writer owns
 * a connection of its own and does the writing on its thread, in
 * batches: each batch is every item queued by the time the thread is
 * free again, so that under a storm of POSTs many share one commit, and
 * a lone POST is committed at once. The outcome comes back to the main
 * context, batch by batch, through one source.
 *
 * docs/benchmarks.md measures this against committing on the main loop.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vts-db-writer.h"

struct _VtsDbWriter
{
  VtsDb                *db;      /* used by the thread only */
  VtsDbWriterWriteFunc  write;
  VtsDbWriterDoneFunc   done;
  gpointer              user_data;
  GDestroyNotify        item_free;

  GThread              *thread;
  GAsyncQueue          *todo;     /* items; the writer itself asks the thread to stop */
  GAsyncQueue          *written;  /* GPtrArray batches */
  GSource              *source;   /* in the main context: ready when a batch is written */
};

static gpointer
vts_db_writer_run (gpointer data)
{
  VtsDbWriter *self = data;
  gboolean stopping = FALSE;

  while (!stopping)
    {
      GPtrArray *batch = g_ptr_array_new_with_free_func (self->item_free);
      gpointer item = g_async_queue_pop (self->todo);

      do
        {
          if (item == self)
            stopping = TRUE;
          else
            g_ptr_array_add (batch, item);
        }
      while ((item = g_async_queue_try_pop (self->todo)) != NULL);

      if (batch->len == 0)
        {
          g_ptr_array_unref (batch);
          continue;
        }

      self->write (self->db, batch, self->user_data);
      g_async_queue_push (self->written, batch);
      /* Thread-safe: it locks the context and wakes it up. */
      g_source_set_ready_time (self->source, 0);
    }

  return NULL;
}

static void
vts_db_writer_deliver (VtsDbWriter *self)
{
  GPtrArray *batch;

  while ((batch = g_async_queue_try_pop (self->written)) != NULL)
    {
      self->done (batch, self->user_data);
      g_ptr_array_unref (batch);
    }
}

static gboolean
vts_db_writer_dispatch (GSource     *source,
                        GSourceFunc  callback,
                        gpointer     user_data)
{
  /* Before taking the batches: one written meanwhile arms it again. */
  g_source_set_ready_time (source, -1);
  vts_db_writer_deliver (user_data);

  return G_SOURCE_CONTINUE;
}

static GSourceFuncs vts_db_writer_source_funcs = {
  .dispatch = vts_db_writer_dispatch,
};

/*
 * vts_db_writer_new:
 * @db: (transfer full): a connection for the writer alone
 * @item_free: frees an item, once @done has seen it
 *
 * Starts the thread. @write and @done get @user_data; @done runs in the
 * thread-default main context of the caller.
 */
VtsDbWriter *
vts_db_writer_new (VtsDb                *db,
                   VtsDbWriterWriteFunc  write,
                   VtsDbWriterDoneFunc   done,
                   gpointer              user_data,
                   GDestroyNotify        item_free)
{
  VtsDbWriter *self = g_new0 (VtsDbWriter, 1);

  self->db = db;
  self->write = write;
  self->done = done;
  self->user_data = user_data;
  self->item_free = item_free;
  self->todo = g_async_queue_new ();
  self->written = g_async_queue_new ();

  self->source = g_source_new (&vts_db_writer_source_funcs, sizeof (GSource));
  g_source_set_name (self->source, "[vt-server] database writes done");
  g_source_set_callback (self->source, NULL, self, NULL);
  g_source_set_ready_time (self->source, -1);
  g_source_attach (self->source, g_main_context_get_thread_default ());

  self->thread = g_thread_new ("vts-db-writer", vts_db_writer_run, self);

  return self;
}

/* Queues @item for the thread; @done sees it once it is written. */
void
vts_db_writer_push (VtsDbWriter *self,
                    gpointer     item)
{
  g_return_if_fail (item != NULL && item != self);

  g_async_queue_push (self->todo, item);
}

/*
 * vts_db_writer_close:
 *
 * Waits for every item queued to be written, hands the last batches to
 * @done, then stops the thread and closes its connection.
 */
void
vts_db_writer_close (VtsDbWriter *self)
{
  if (self == NULL)
    return;

  g_async_queue_push (self->todo, self);
  g_thread_join (self->thread);
  vts_db_writer_deliver (self);

  g_source_destroy (self->source);
  g_source_unref (self->source);
  g_async_queue_unref (self->todo);
  g_async_queue_unref (self->written);
  vts_db_close (self->db);
  g_free (self);
}
