/* vt-jobs-row.c: one job in vt-jobs' list
 *
 * A title (the video and the language), the status, a Cancel button, a
 * GtkProgressBar whose fraction is bound to the job's progress, and a
 * detail line: the ETA while pending, the result URL once completed, the
 * server's message after an error. A row is reused for other jobs as the
 * list scrolls, so everything it takes from a job is undone in
 * vt_jobs_row_set_job().
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vt-jobs-row.h"

#include <math.h>

struct _VtJobsRow
{
  GtkWidget  parent_instance;

  VtJob     *job;
  GBinding  *progress_binding;

  GtkWidget *title;
  GtkWidget *status;
  GtkWidget *cancel;
  GtkWidget *bar;
  GtkWidget *detail;
};

G_DEFINE_FINAL_TYPE (VtJobsRow, vt_jobs_row, GTK_TYPE_WIDGET)

/* The mark the app leaves on a job it cancelled. */
#define CANCELLED_KEY "vt-jobs-cancelled"

void
vt_jobs_mark_cancelled (VtJob *job)
{
  g_object_set_data (G_OBJECT (job), CANCELLED_KEY, GINT_TO_POINTER (TRUE));
}

gboolean
vt_jobs_is_cancelled (VtJob *job)
{
  return g_object_get_data (G_OBJECT (job), CANCELLED_KEY) != NULL;
}

/* "video.mp4 → fr", from the job document's source_url and
 * target_language, or the job id while the server has not sent them. */
static char *
job_title (VtJob *job)
{
  JsonObject *document = vt_job_get_document (job);
  const char *source = NULL;
  const char *language = NULL;
  g_autofree char *name = NULL;

  if (document != NULL)
    {
      source = json_object_get_string_member_with_default (document, "source_url", NULL);
      language = json_object_get_string_member_with_default (document, "target_language", NULL);
    }
  if (source == NULL || language == NULL)
    return g_strdup (vt_job_get_id (job));

  name = g_path_get_basename (source);
  return g_strdup_printf ("%s → %s", name, language);
}

static const char *
status_text (VtJob *job)
{
  if (vt_jobs_is_cancelled (job))
    return "Cancelled";

  switch (vt_job_get_status (job))
    {
    case VT_STATUS_PENDING:
      return "Pending";
    case VT_STATUS_COMPLETED:
      return "Completed";
    case VT_STATUS_ERROR:
      return "Error";
    case VT_STATUS_TIMEOUT:
      return "Timed out";
    default:
      return "";
    }
}

/* The detail line, as Pango markup: the result URL is a link. */
static char *
detail_markup (VtJob *job)
{
  const char *text;

  if (vt_jobs_is_cancelled (job))
    return g_markup_printf_escaped ("Stopped following at %.0f %%",
                                    vt_job_get_progress (job) * 100);

  switch (vt_job_get_status (job))
    {
    case VT_STATUS_PENDING:
      if (vt_job_get_eta (job) < 0)
        return g_strdup ("Waiting for the server's estimate");
      return g_markup_printf_escaped ("About %.0f s left", ceil (vt_job_get_eta (job)));
    case VT_STATUS_COMPLETED:
      text = vt_job_get_result_url (job);
      if (text == NULL)
        return g_strdup ("Done (the server gave no result URL)");
      return g_markup_printf_escaped ("<a href=\"%s\">%s</a>", text, text);
    case VT_STATUS_ERROR:
      text = vt_job_get_message (job);
      return g_markup_escape_text (text != NULL ? text : "The server gave no reason", -1);
    case VT_STATUS_TIMEOUT:
      return g_strdup ("Gave up following: the client's time budget ran out");
    default:
      return g_strdup ("");
    }
}

static void
update_labels (VtJobsRow *self)
{
  g_autofree char *title = job_title (self->job);
  g_autofree char *detail = detail_markup (self->job);
  gboolean pending = vt_job_get_status (self->job) == VT_STATUS_PENDING &&
                     !vt_job_is_finished (self->job);

  gtk_label_set_text (GTK_LABEL (self->title), title);
  gtk_label_set_text (GTK_LABEL (self->status), status_text (self->job));
  gtk_label_set_markup (GTK_LABEL (self->detail), detail);
  gtk_widget_set_sensitive (self->cancel, pending && !vt_jobs_is_cancelled (self->job));
}

static void
on_job_notify (VtJob      *job,
               GParamSpec *pspec,
               VtJobsRow  *self)
{
  update_labels (self);
}

static void
on_cancel_clicked (GtkButton *button,
                   VtJobsRow *self)
{
  g_autoptr(VtJob) job = g_object_ref (self->job);

  /* Marked first: cancelling takes the job out of the client's list at
   * once, and the row that shows it next must know why. */
  vt_jobs_mark_cancelled (job);
  vt_job_cancel (job);
  if (self->job == job)
    update_labels (self);
}

void
vt_jobs_row_set_job (VtJobsRow *self,
                     VtJob     *job)
{
  static const char * const shown[] = { "status", "eta", "result-url", "message" };

  g_return_if_fail (VT_JOBS_IS_ROW (self));

  if (self->job == job)
    return;

  if (self->job != NULL)
    {
      g_clear_pointer (&self->progress_binding, g_binding_unbind);
      g_signal_handlers_disconnect_by_data (self->job, self);
      g_clear_object (&self->job);
    }

  if (job == NULL)
    return;

  self->job = g_object_ref (job);
  /* A binding of progress is what asks the job to update it smoothly. */
  self->progress_binding = g_object_bind_property (job, "progress", self->bar, "fraction",
                                                   G_BINDING_SYNC_CREATE);
  for (guint i = 0; i < G_N_ELEMENTS (shown); i++)
    {
      g_autofree char *signal = g_strconcat ("notify::", shown[i], NULL);

      g_signal_connect (job, signal, G_CALLBACK (on_job_notify), self);
    }
  update_labels (self);
}

VtJob *
vt_jobs_row_get_job (VtJobsRow *self)
{
  g_return_val_if_fail (VT_JOBS_IS_ROW (self), NULL);

  return self->job;
}

const char *
vt_jobs_row_get_title_text (VtJobsRow *self)
{
  return gtk_label_get_text (GTK_LABEL (self->title));
}

GtkProgressBar *
vt_jobs_row_get_progress_bar (VtJobsRow *self)
{
  return GTK_PROGRESS_BAR (self->bar);
}

const char *
vt_jobs_row_get_status_text (VtJobsRow *self)
{
  return gtk_label_get_text (GTK_LABEL (self->status));
}

const char *
vt_jobs_row_get_detail_text (VtJobsRow *self)
{
  return gtk_label_get_text (GTK_LABEL (self->detail));
}

GtkWidget *
vt_jobs_row_get_cancel_button (VtJobsRow *self)
{
  return self->cancel;
}

static void
vt_jobs_row_dispose (GObject *object)
{
  VtJobsRow *self = VT_JOBS_ROW (object);
  GtkWidget *child;

  vt_jobs_row_set_job (self, NULL);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (vt_jobs_row_parent_class)->dispose (object);
}

static void
vt_jobs_row_class_init (VtJobsRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = vt_jobs_row_dispose;
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BOX_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "vtjobsrow");
}

static void
vt_jobs_row_init (VtJobsRow *self)
{
  GtkLayoutManager *layout = gtk_widget_get_layout_manager (GTK_WIDGET (self));
  GtkWidget *header = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);

  gtk_orientable_set_orientation (GTK_ORIENTABLE (layout), GTK_ORIENTATION_VERTICAL);
  gtk_box_layout_set_spacing (GTK_BOX_LAYOUT (layout), 6);
  gtk_widget_set_margin_top (GTK_WIDGET (self), 9);
  gtk_widget_set_margin_bottom (GTK_WIDGET (self), 9);
  gtk_widget_set_margin_start (GTK_WIDGET (self), 12);
  gtk_widget_set_margin_end (GTK_WIDGET (self), 12);

  self->title = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (self->title), 0);
  gtk_label_set_ellipsize (GTK_LABEL (self->title), PANGO_ELLIPSIZE_MIDDLE);
  gtk_widget_set_hexpand (self->title, TRUE);
  gtk_widget_add_css_class (self->title, "heading");
  gtk_box_append (GTK_BOX (header), self->title);

  self->status = gtk_label_new (NULL);
  gtk_widget_add_css_class (self->status, "dim-label");
  gtk_box_append (GTK_BOX (header), self->status);

  self->cancel = gtk_button_new_with_mnemonic ("_Cancel");
  g_signal_connect (self->cancel, "clicked", G_CALLBACK (on_cancel_clicked), self);
  gtk_box_append (GTK_BOX (header), self->cancel);
  gtk_widget_set_parent (header, GTK_WIDGET (self));

  self->bar = gtk_progress_bar_new ();
  gtk_progress_bar_set_show_text (GTK_PROGRESS_BAR (self->bar), TRUE);
  gtk_widget_set_parent (self->bar, GTK_WIDGET (self));

  self->detail = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (self->detail), 0);
  gtk_label_set_ellipsize (GTK_LABEL (self->detail), PANGO_ELLIPSIZE_MIDDLE);
  gtk_label_set_selectable (GTK_LABEL (self->detail), TRUE);
  gtk_widget_set_parent (self->detail, GTK_WIDGET (self));
}

GtkWidget *
vt_jobs_row_new (void)
{
  return g_object_new (VT_JOBS_TYPE_ROW, NULL);
}
