/* vt-job-list.c: the jobs a client follows, as a GListModel
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "vt-job-list-private.h"

struct _VtJobList
{
  GObject     parent_instance;

  GSequence  *jobs;    /* VtJob *, owned */
  GHashTable *iters;   /* VtJob * → its GSequenceIter */
};

static void vt_job_list_model_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (VtJobList, vt_job_list, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL,
                                                      vt_job_list_model_init))

static GType
vt_job_list_get_item_type (GListModel *model)
{
  return VT_TYPE_JOB;
}

static guint
vt_job_list_get_n_items (GListModel *model)
{
  return g_sequence_get_length (VT_JOB_LIST (model)->jobs);
}

static gpointer
vt_job_list_get_item (GListModel *model,
                      guint       position)
{
  VtJobList *self = VT_JOB_LIST (model);
  GSequenceIter *iter = g_sequence_get_iter_at_pos (self->jobs, position);

  if (g_sequence_iter_is_end (iter))
    return NULL;

  return g_object_ref (g_sequence_get (iter));
}

static void
vt_job_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = vt_job_list_get_item_type;
  iface->get_n_items = vt_job_list_get_n_items;
  iface->get_item = vt_job_list_get_item;
}

static void
vt_job_list_finalize (GObject *object)
{
  VtJobList *self = VT_JOB_LIST (object);

  g_hash_table_unref (self->iters);
  g_sequence_free (self->jobs);

  G_OBJECT_CLASS (vt_job_list_parent_class)->finalize (object);
}

static void
vt_job_list_class_init (VtJobListClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = vt_job_list_finalize;
}

static void
vt_job_list_init (VtJobList *self)
{
  self->jobs = g_sequence_new (g_object_unref);
  self->iters = g_hash_table_new (NULL, NULL);
}

VtJobList *
vt_job_list_new (void)
{
  return g_object_new (VT_TYPE_JOB_LIST, NULL);
}

void
vt_job_list_append (VtJobList *self,
                    VtJob     *job)
{
  GSequenceIter *iter;

  g_return_if_fail (!g_hash_table_contains (self->iters, job));

  iter = g_sequence_append (self->jobs, g_object_ref (job));
  g_hash_table_insert (self->iters, job, iter);
  g_list_model_items_changed (G_LIST_MODEL (self), g_sequence_iter_get_position (iter), 0, 1);
}

void
vt_job_list_remove (VtJobList *self,
                    VtJob     *job)
{
  GSequenceIter *iter = g_hash_table_lookup (self->iters, job);
  guint position;

  if (iter == NULL)
    return;

  position = g_sequence_iter_get_position (iter);
  g_hash_table_remove (self->iters, job);
  /* Emitted with the job still alive: the list's own reference goes
   * after, so a handler may still look at it. */
  g_object_ref (job);
  g_sequence_remove (iter);
  g_list_model_items_changed (G_LIST_MODEL (self), position, 1, 0);
  g_object_unref (job);
}
