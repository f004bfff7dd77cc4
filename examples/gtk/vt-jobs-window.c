/* vt-jobs-window.c: vt-jobs' window, a form to submit jobs over their list
 *
 * The list is a GtkListView over two models, one after the other (a
 * GtkFlattenListModel): the jobs this window saw finish, in the order they
 * ended, then vt_client_get_jobs(), the jobs the client is following. A job
 * leaves the client's model when it ends (after its last notify); the
 * window moves it into its own store then, so that the result URL or the
 * error message stays on screen. When jobs end in the order they were
 * submitted, no row moves.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vt-jobs-window.h"

#include "vt-jobs-row.h"

struct _VtJobsWindow
{
  GtkApplicationWindow parent_instance;

  VtClient     *client;
  GCancellable *cancellable;

  GListModel   *following;  /* vt_client_get_jobs (): not ours */
  GPtrArray    *mirror;     /* what following held before its last change */
  GListStore   *finished;
  GListModel   *jobs;       /* finished, then following */

  GtkWidget    *source;
  GtkWidget    *language;
  GtkWidget    *submit;
  GtkWidget    *problem;
  GtkWidget    *list_view;
};

enum
{
  PROP_0,
  PROP_CLIENT,
  N_PROPS
};

enum
{
  SUBMITTED,
  N_SIGNALS
};

static GParamSpec *props[N_PROPS];
static guint signals[N_SIGNALS];

static const char * const languages[] = { "fr", "de", "es", "it", "ja", "pt", NULL };

G_DEFINE_FINAL_TYPE (VtJobsWindow, vt_jobs_window, GTK_TYPE_APPLICATION_WINDOW)

/* The client's model tells which positions changed, not which jobs left:
 * the mirror does. Jobs that left are appended to the finished store. */
static void
on_following_changed (GListModel   *following,
                      guint         position,
                      guint         removed,
                      guint         added,
                      VtJobsWindow *self)
{
  for (guint i = 0; i < removed; i++)
    g_list_store_append (self->finished, g_ptr_array_index (self->mirror, position + i));
  g_ptr_array_remove_range (self->mirror, position, removed);
  for (guint i = 0; i < added; i++)
    g_ptr_array_insert (self->mirror, position + i, g_list_model_get_item (following, position + i));
}

static void
show_problem (VtJobsWindow *self,
              const char   *text)
{
  gtk_label_set_text (GTK_LABEL (self->problem), text != NULL ? text : "");
  gtk_widget_set_visible (self->problem, text != NULL);
}

static void
on_submitted (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(VtJobsWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *job_id = NULL;
  g_autoptr(VtJob) job = NULL;

  job_id = vt_client_submit_job_finish (VT_CLIENT (source), result, &error);
  if (job_id == NULL)
    {
      g_autofree char *text = NULL;

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      text = g_strdup_printf ("Could not submit the job: %s", error->message);
      show_problem (self, text);
      g_signal_emit (self, signals[SUBMITTED], 0, NULL);
      return;
    }

  show_problem (self, NULL);
  /* The job appears in the client's model, hence in the list. One that
   * cannot be followed at all is given finished, never in that model. */
  job = vt_client_follow (self->client, job_id);
  if (vt_job_is_finished (job))
    g_list_store_append (self->finished, job);
  g_signal_emit (self, signals[SUBMITTED], 0, job);
}

static void
on_submit_clicked (GtkButton    *button,
                   VtJobsWindow *self)
{
  const char *source = gtk_editable_get_text (GTK_EDITABLE (self->source));
  guint selected = gtk_drop_down_get_selected (GTK_DROP_DOWN (self->language));
  GListModel *model = gtk_drop_down_get_model (GTK_DROP_DOWN (self->language));
  const char *language;

  if (*source == '\0' || selected == GTK_INVALID_LIST_POSITION)
    {
      show_problem (self, "Enter the URL of a video and pick a language");
      return;
    }
  language = gtk_string_list_get_string (GTK_STRING_LIST (model), selected);

  vt_client_submit_job_async (self->client, source, language, self->cancellable,
                              on_submitted, g_object_ref (self));
}

/* The language's position in the drop-down, added when it is not there. */
static guint
language_position (VtJobsWindow *self,
                   const char   *language)
{
  GtkStringList *list = GTK_STRING_LIST (gtk_drop_down_get_model (GTK_DROP_DOWN (self->language)));
  guint n = g_list_model_get_n_items (G_LIST_MODEL (list));

  for (guint i = 0; i < n; i++)
    if (g_strcmp0 (gtk_string_list_get_string (list, i), language) == 0)
      return i;

  gtk_string_list_append (list, language);
  return n;
}

/* Fills the form and presses Translate: what a user does. */
void
vt_jobs_window_submit (VtJobsWindow *self,
                       const char   *source_url,
                       const char   *target_language)
{
  g_return_if_fail (VT_JOBS_IS_WINDOW (self));

  gtk_drop_down_set_selected (GTK_DROP_DOWN (self->language),
                              language_position (self, target_language));
  gtk_editable_set_text (GTK_EDITABLE (self->source), source_url);
  gtk_widget_activate (self->submit);
}

GListModel *
vt_jobs_window_get_jobs (VtJobsWindow *self)
{
  return self->jobs;
}

GtkWidget *
vt_jobs_window_get_list_view (VtJobsWindow *self)
{
  return self->list_view;
}

static void
setup_row (GtkSignalListItemFactory *factory,
           GtkListItem              *item,
           gpointer                  user_data)
{
  gtk_list_item_set_child (item, vt_jobs_row_new ());
  gtk_list_item_set_activatable (item, FALSE);
}

static void
bind_row (GtkSignalListItemFactory *factory,
          GtkListItem              *item,
          gpointer                  user_data)
{
  vt_jobs_row_set_job (VT_JOBS_ROW (gtk_list_item_get_child (item)),
                       gtk_list_item_get_item (item));
}

static void
unbind_row (GtkSignalListItemFactory *factory,
            GtkListItem              *item,
            gpointer                  user_data)
{
  vt_jobs_row_set_job (VT_JOBS_ROW (gtk_list_item_get_child (item)), NULL);
}

static GtkWidget *
build_form (VtJobsWindow *self)
{
  GtkWidget *form = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);

  self->source = gtk_entry_new ();
  gtk_entry_set_placeholder_text (GTK_ENTRY (self->source), "URL of the video to translate");
  gtk_editable_set_text (GTK_EDITABLE (self->source), "https://example.com/video.mp4");
  gtk_widget_set_hexpand (self->source, TRUE);
  gtk_box_append (GTK_BOX (form), self->source);

  self->language = gtk_drop_down_new_from_strings (languages);
  gtk_widget_set_tooltip_text (self->language, "Target language");
  gtk_box_append (GTK_BOX (form), self->language);

  self->submit = gtk_button_new_with_mnemonic ("_Translate");
  gtk_widget_add_css_class (self->submit, "suggested-action");
  g_signal_connect (self->submit, "clicked", G_CALLBACK (on_submit_clicked), self);
  gtk_box_append (GTK_BOX (form), self->submit);

  /* Enter in the URL field submits too. */
  g_signal_connect_swapped (self->source, "activate", G_CALLBACK (gtk_widget_activate), self->submit);

  return form;
}

static GtkWidget *
build_list (VtJobsWindow *self)
{
  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
  GtkWidget *scrolled = gtk_scrolled_window_new ();

  g_signal_connect (factory, "setup", G_CALLBACK (setup_row), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_row), NULL);
  g_signal_connect (factory, "unbind", G_CALLBACK (unbind_row), NULL);

  /* The list view takes the selection model and the factory. */
  self->list_view = gtk_list_view_new (GTK_SELECTION_MODEL (gtk_no_selection_new (g_object_ref (self->jobs))),
                                       factory);
  gtk_widget_add_css_class (self->list_view, "rich-list");
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), self->list_view);
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_widget_set_vexpand (scrolled, TRUE);
  gtk_widget_add_css_class (scrolled, "frame");

  return scrolled;
}

static void
vt_jobs_window_constructed (GObject *object)
{
  VtJobsWindow *self = VT_JOBS_WINDOW (object);
  GListStore *parts = g_list_store_new (G_TYPE_LIST_MODEL);
  GtkWidget *content = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  GtkWidget *server = gtk_label_new (NULL);
  guint n;

  G_OBJECT_CLASS (vt_jobs_window_parent_class)->constructed (object);

  g_assert (self->client != NULL);
  self->following = vt_client_get_jobs (self->client);
  n = g_list_model_get_n_items (self->following);
  for (guint i = 0; i < n; i++)
    g_ptr_array_add (self->mirror, g_list_model_get_item (self->following, i));
  g_signal_connect_object (self->following, "items-changed",
                           G_CALLBACK (on_following_changed), self, 0);

  g_list_store_append (parts, self->finished);
  g_list_store_append (parts, self->following);
  self->jobs = G_LIST_MODEL (gtk_flatten_list_model_new (G_LIST_MODEL (parts)));

  gtk_window_set_title (GTK_WINDOW (self), "Translation jobs");
  gtk_window_set_default_size (GTK_WINDOW (self), 640, 540);
  gtk_window_set_titlebar (GTK_WINDOW (self), gtk_header_bar_new ());

  gtk_widget_set_margin_top (content, 12);
  gtk_widget_set_margin_bottom (content, 12);
  gtk_widget_set_margin_start (content, 12);
  gtk_widget_set_margin_end (content, 12);
  gtk_box_append (GTK_BOX (content), build_form (self));

  self->problem = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (self->problem), 0);
  gtk_label_set_wrap (GTK_LABEL (self->problem), TRUE);
  gtk_widget_add_css_class (self->problem, "error");
  gtk_widget_set_visible (self->problem, FALSE);
  gtk_box_append (GTK_BOX (content), self->problem);

  gtk_box_append (GTK_BOX (content), build_list (self));

  gtk_label_set_text (GTK_LABEL (server), vt_client_get_base_url (self->client));
  gtk_label_set_xalign (GTK_LABEL (server), 0);
  gtk_widget_add_css_class (server, "dim-label");
  gtk_widget_add_css_class (server, "caption");
  gtk_box_append (GTK_BOX (content), server);

  gtk_window_set_child (GTK_WINDOW (self), content);
  gtk_window_set_default_widget (GTK_WINDOW (self), self->submit);
}

static void
vt_jobs_window_dispose (GObject *object)
{
  VtJobsWindow *self = VT_JOBS_WINDOW (object);

  g_cancellable_cancel (self->cancellable);
  if (self->following != NULL)
    g_signal_handlers_disconnect_by_data (self->following, self);
  self->following = NULL;

  G_OBJECT_CLASS (vt_jobs_window_parent_class)->dispose (object);
}

static void
vt_jobs_window_finalize (GObject *object)
{
  VtJobsWindow *self = VT_JOBS_WINDOW (object);

  g_clear_object (&self->jobs);
  g_clear_object (&self->finished);
  g_clear_pointer (&self->mirror, g_ptr_array_unref);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->client);

  G_OBJECT_CLASS (vt_jobs_window_parent_class)->finalize (object);
}

static void
vt_jobs_window_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  VtJobsWindow *self = VT_JOBS_WINDOW (object);

  switch (prop_id)
    {
    case PROP_CLIENT:
      self->client = g_value_dup_object (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
vt_jobs_window_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  VtJobsWindow *self = VT_JOBS_WINDOW (object);

  switch (prop_id)
    {
    case PROP_CLIENT:
      g_value_set_object (value, self->client);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
vt_jobs_window_class_init (VtJobsWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = vt_jobs_window_constructed;
  object_class->dispose = vt_jobs_window_dispose;
  object_class->finalize = vt_jobs_window_finalize;
  object_class->set_property = vt_jobs_window_set_property;
  object_class->get_property = vt_jobs_window_get_property;

  props[PROP_CLIENT] =
    g_param_spec_object ("client", NULL, NULL, VT_TYPE_CLIENT,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);

  /* Emitted once a submission is answered: with the job now followed, or
   * NULL when the server refused it (the window shows why). */
  signals[SUBMITTED] =
    g_signal_new ("submitted", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, VT_TYPE_JOB);
}

static void
vt_jobs_window_init (VtJobsWindow *self)
{
  self->cancellable = g_cancellable_new ();
  self->mirror = g_ptr_array_new_with_free_func (g_object_unref);
  self->finished = g_list_store_new (VT_TYPE_JOB);
}

GtkWidget *
vt_jobs_window_new (GtkApplication *application,
                    VtClient       *client)
{
  return g_object_new (VT_JOBS_TYPE_WINDOW,
                       "application", application,
                       "client", client,
                       NULL);
}
