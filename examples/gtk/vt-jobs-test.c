/* vt-jobs-test.c: vt-jobs' test hook (--test-dir DIR)
 *
 * Drives the window through three moments and records what it shows at
 * each, for tests/test-gtk-app.py to judge:
 *
 *   mid-1   every expected row is on screen, pending, its bar at 25 % or more
 *   mid-2   the same, every bar at 50 % or more; then the last row's Cancel
 *           button is pressed
 *   final   every row has ended (or was cancelled); then the app quits
 *
 * At each, DIR/NAME.png is the window rendered by its own GSK renderer
 * and DIR/NAME.json what the widgets hold: each visible row's title,
 * status, detail line, the bar's fraction and Cancel's sensitivity, with
 * the window coordinates of the row, the bar, its trough and its filled
 * part. Both are taken from GdkFrameClock::after-paint, once layout and
 * drawing are done, so the picture and the figures are the same frame.
 * Nothing here decides whether the test passed, except a deadline: a
 * moment not reached in 60 s fails the run (exit status 1).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vt-jobs-test.h"

#include "vt-jobs-row.h"

#define DEADLINE_SECONDS 60

typedef enum
{
  STEP_MID_1,
  STEP_MID_2,
  STEP_FINAL,
  STEP_DONE,
} Step;

typedef struct
{
  VtJobsWindow  *window;
  char          *dir;
  guint          expected_rows;
  int           *exit_status;
  Step           step;
  GdkFrameClock *clock;
  gulong         after_paint_id;
  guint          deadline_id;
} VtJobsTest;

static const char * const step_names[] = { "mid-1", "mid-2", "final" };

static void
collect_rows (GtkWidget *widget,
              GPtrArray *rows)
{
  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      if (VT_JOBS_IS_ROW (child))
        {
          if (gtk_widget_get_mapped (child))
            g_ptr_array_add (rows, child);
        }
      else
        collect_rows (child, rows);
    }
}

/* The rows on screen, top to bottom. */
static GPtrArray *
visible_rows (VtJobsTest *test)
{
  GPtrArray *rows = g_ptr_array_new ();

  collect_rows (vt_jobs_window_get_list_view (test->window), rows);
  /* The list view lays its rows out in order; no need to sort. */
  return rows;
}

static gboolean
row_pending (VtJobsRow *row)
{
  VtJob *job = vt_jobs_row_get_job (row);

  return job != NULL && !vt_job_is_finished (job) && !vt_jobs_is_cancelled (job);
}

/* Whether every expected row is on screen, pending, at least at fraction. */
static gboolean
all_pending_past (GPtrArray *rows,
                  guint      expected,
                  double     fraction)
{
  if (rows->len != expected)
    return FALSE;
  for (guint i = 0; i < rows->len; i++)
    {
      VtJobsRow *row = g_ptr_array_index (rows, i);

      if (!row_pending (row) ||
          gtk_progress_bar_get_fraction (vt_jobs_row_get_progress_bar (row)) < fraction)
        return FALSE;
    }
  return TRUE;
}

static gboolean
all_ended (GPtrArray *rows,
           guint      expected)
{
  if (rows->len != expected)
    return FALSE;
  for (guint i = 0; i < rows->len; i++)
    if (row_pending (g_ptr_array_index (rows, i)))
      return FALSE;
  return TRUE;
}

static GtkWidget *
child_by_css_name (GtkWidget  *widget,
                   const char *name)
{
  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (g_strcmp0 (gtk_widget_get_css_name (child), name) == 0)
      return child;
  return NULL;
}

/* What the screenshot shows: the window's bounds in its own coordinates,
 * which start left of and above its origin by its CSD border. Bounds in
 * the reports are given from the screenshot's top left corner. */
static graphene_rect_t
picture_bounds (VtJobsWindow *window)
{
  graphene_rect_t bounds;

  if (!gtk_widget_compute_bounds (GTK_WIDGET (window), GTK_WIDGET (window), &bounds))
    graphene_rect_init (&bounds, 0, 0, 0, 0);
  return bounds;
}

static void
add_bounds (JsonBuilder  *builder,
            const char   *name,
            GtkWidget    *widget,
            VtJobsWindow *window)
{
  graphene_rect_t bounds;
  graphene_rect_t window_bounds = picture_bounds (window);

  json_builder_set_member_name (builder, name);
  if (widget == NULL || !gtk_widget_compute_bounds (widget, GTK_WIDGET (window), &bounds))
    {
      json_builder_add_null_value (builder);
      return;
    }
  json_builder_begin_array (builder);
  json_builder_add_double_value (builder, bounds.origin.x - window_bounds.origin.x);
  json_builder_add_double_value (builder, bounds.origin.y - window_bounds.origin.y);
  json_builder_add_double_value (builder, bounds.size.width);
  json_builder_add_double_value (builder, bounds.size.height);
  json_builder_end_array (builder);
}

static void
add_row (JsonBuilder  *builder,
         VtJobsRow    *row,
         VtJobsWindow *window)
{
  GtkProgressBar *bar = vt_jobs_row_get_progress_bar (row);
  GtkWidget *trough = child_by_css_name (GTK_WIDGET (bar), "trough");
  GtkWidget *progress = trough != NULL ? child_by_css_name (trough, "progress") : NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "title");
  json_builder_add_string_value (builder, vt_jobs_row_get_title_text (row));
  json_builder_set_member_name (builder, "status");
  json_builder_add_string_value (builder, vt_jobs_row_get_status_text (row));
  json_builder_set_member_name (builder, "detail");
  json_builder_add_string_value (builder, vt_jobs_row_get_detail_text (row));
  json_builder_set_member_name (builder, "fraction");
  json_builder_add_double_value (builder, gtk_progress_bar_get_fraction (bar));
  json_builder_set_member_name (builder, "cancel_sensitive");
  json_builder_add_boolean_value (builder, gtk_widget_is_sensitive (vt_jobs_row_get_cancel_button (row)));
  add_bounds (builder, "row", GTK_WIDGET (row), window);
  add_bounds (builder, "bar", GTK_WIDGET (bar), window);
  add_bounds (builder, "trough", trough, window);
  add_bounds (builder, "progress", progress, window);
  json_builder_end_object (builder);
}

static gboolean
write_report (VtJobsTest  *test,
              GPtrArray   *rows,
              const char  *path,
              GError     **error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  graphene_rect_t bounds = picture_bounds (test->window);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "width");
  json_builder_add_double_value (builder, bounds.size.width);
  json_builder_set_member_name (builder, "height");
  json_builder_add_double_value (builder, bounds.size.height);
  json_builder_set_member_name (builder, "rows");
  json_builder_begin_array (builder);
  for (guint i = 0; i < rows->len; i++)
    add_row (builder, g_ptr_array_index (rows, i), test->window);
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  return json_generator_to_file (generator, path, error);
}

/* The window as its renderer draws it, the way GTK's inspector records
 * it: the widget's paintable snapshotted, rendered to a texture. */
static gboolean
save_screenshot (VtJobsTest  *test,
                 const char  *path,
                 GError     **error)
{
  GtkWidget *widget = GTK_WIDGET (test->window);
  graphene_rect_t bounds = picture_bounds (test->window);
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  GskRenderer *renderer = gtk_native_get_renderer (GTK_NATIVE (widget));
  graphene_rect_t viewport = GRAPHENE_RECT_INIT (0, 0, bounds.size.width, bounds.size.height);

  /* The paintable draws those bounds from (0, 0). */
  gdk_paintable_snapshot (paintable, snapshot, bounds.size.width, bounds.size.height);
  node = gtk_snapshot_free_to_node (snapshot);
  if (node == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "the window drew nothing");
      return FALSE;
    }
  texture = gsk_renderer_render_texture (renderer, node, &viewport);
  if (!gdk_texture_save_to_png (texture, path))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "could not write %s", path);
      return FALSE;
    }
  return TRUE;
}

static void
finish (VtJobsTest *test,
        int         status)
{
  *test->exit_status = status;
  test->step = STEP_DONE;
  g_clear_signal_handler (&test->after_paint_id, test->clock);
  g_clear_handle_id (&test->deadline_id, g_source_remove);
  g_application_quit (g_application_get_default ());
}

static gboolean
capture (VtJobsTest *test,
         GPtrArray  *rows)
{
  const char *name = step_names[test->step];
  g_autofree char *png = g_strdup_printf ("%s/%s.png", test->dir, name);
  g_autofree char *json = g_strdup_printf ("%s/%s.json", test->dir, name);
  g_autoptr(GError) error = NULL;

  if (!save_screenshot (test, png, &error) || !write_report (test, rows, json, &error))
    {
      g_printerr ("vt-jobs test: %s: %s\n", name, error->message);
      finish (test, 1);
      return FALSE;
    }
  g_print ("vt-jobs test: %s: %u rows, %s\n", name, rows->len, png);
  return TRUE;
}

/* Pressing Cancel is left to the main loop: not from inside a paint. */
static void
press_last_cancel (gpointer user_data)
{
  VtJobsTest *test = user_data;
  g_autoptr(GPtrArray) rows = visible_rows (test);

  if (rows->len > 0)
    gtk_widget_activate (vt_jobs_row_get_cancel_button (g_ptr_array_index (rows, rows->len - 1)));
}

static void
on_after_paint (GdkFrameClock *clock,
                VtJobsTest    *test)
{
  g_autoptr(GPtrArray) rows = visible_rows (test);

  switch (test->step)
    {
    case STEP_MID_1:
      if (all_pending_past (rows, test->expected_rows, 0.25) && capture (test, rows))
        test->step = STEP_MID_2;
      break;
    case STEP_MID_2:
      if (all_pending_past (rows, test->expected_rows, 0.5) && capture (test, rows))
        {
          test->step = STEP_FINAL;
          g_idle_add_once (press_last_cancel, test);
        }
      break;
    case STEP_FINAL:
      if (all_ended (rows, test->expected_rows) && capture (test, rows))
        finish (test, 0);
      break;
    case STEP_DONE:
    default:
      break;
    }
}

static gboolean
on_deadline (gpointer user_data)
{
  VtJobsTest *test = user_data;

  test->deadline_id = 0;
  g_printerr ("vt-jobs test: %s not reached in %d s\n", step_names[test->step], DEADLINE_SECONDS);
  finish (test, 1);
  return G_SOURCE_REMOVE;
}

static void
vt_jobs_test_free (gpointer data)
{
  VtJobsTest *test = data;

  g_clear_signal_handler (&test->after_paint_id, test->clock);
  g_clear_handle_id (&test->deadline_id, g_source_remove);
  g_clear_object (&test->clock);
  g_free (test->dir);
  g_free (test);
}

/* Starts the run on a realized window; the test lives as long as it. */
void
vt_jobs_test_start (VtJobsWindow *window,
                    const char   *dir,
                    guint         expected_rows,
                    int          *exit_status)
{
  VtJobsTest *test = g_new0 (VtJobsTest, 1);

  g_return_if_fail (gtk_widget_get_realized (GTK_WIDGET (window)));

  test->window = window;
  test->dir = g_strdup (dir);
  test->expected_rows = expected_rows;
  test->exit_status = exit_status;
  test->step = STEP_MID_1;
  test->clock = g_object_ref (gtk_widget_get_frame_clock (GTK_WIDGET (window)));
  test->after_paint_id = g_signal_connect (test->clock, "after-paint",
                                           G_CALLBACK (on_after_paint), test);
  test->deadline_id = g_timeout_add_seconds (DEADLINE_SECONDS, on_deadline, test);
  g_object_set_data_full (G_OBJECT (window), "vt-jobs-test", test, vt_jobs_test_free);
}
