/* vt-bench-plot.c: a PNG scatter plot of the bench's results
 *
 * Cairo draws it when the build found cairo; it is optional, so the
 * bench itself never depends on it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vt-bench-plot.h"

#include <gio/gio.h>
#include <math.h>

#ifdef HAVE_CAIRO
#include <cairo.h>

#define WIDTH   900
#define HEIGHT  600
#define LEFT    80.0
#define RIGHT   40.0
#define TOP     50.0
#define BOTTOM  60.0

typedef struct
{
  double x_max;
  double y_max;
} Axes;

/* A round upper bound: 1, 2 or 5 × 10^k above @value. */
static double
nice_ceiling (double value)
{
  double magnitude, fraction;

  if (!(value > 0))
    return 1.0;
  magnitude = pow (10.0, floor (log10 (value)));
  fraction = value / magnitude;
  if (fraction <= 1.0)
    return magnitude;
  if (fraction <= 2.0)
    return 2 * magnitude;
  if (fraction <= 5.0)
    return 5 * magnitude;
  return 10 * magnitude;
}

static double
to_x (const Axes *axes,
      double      x)
{
  return LEFT + x / axes->x_max * (WIDTH - LEFT - RIGHT);
}

static double
to_y (const Axes *axes,
      double      y)
{
  return HEIGHT - BOTTOM - y / axes->y_max * (HEIGHT - TOP - BOTTOM);
}

static void
draw_axes (cairo_t    *cr,
           const Axes *axes,
           const char *title)
{
  char label[32];

  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);

  cairo_set_source_rgb (cr, 0.85, 0.85, 0.85);
  cairo_set_line_width (cr, 1);
  for (int i = 0; i <= 5; i++)
    {
      cairo_move_to (cr, to_x (axes, axes->x_max * i / 5), TOP);
      cairo_line_to (cr, to_x (axes, axes->x_max * i / 5), HEIGHT - BOTTOM);
      cairo_move_to (cr, LEFT, to_y (axes, axes->y_max * i / 5));
      cairo_line_to (cr, WIDTH - RIGHT, to_y (axes, axes->y_max * i / 5));
    }
  cairo_stroke (cr);

  cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
  cairo_select_font_face (cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, 12);
  for (int i = 0; i <= 5; i++)
    {
      g_snprintf (label, sizeof label, "%g", axes->x_max * i / 5);
      cairo_move_to (cr, to_x (axes, axes->x_max * i / 5) - 8, HEIGHT - BOTTOM + 18);
      cairo_show_text (cr, label);
      g_snprintf (label, sizeof label, "%g", axes->y_max * i / 5);
      cairo_move_to (cr, LEFT - 40, to_y (axes, axes->y_max * i / 5) + 4);
      cairo_show_text (cr, label);
    }
  cairo_move_to (cr, WIDTH / 2.0 - 60, HEIGHT - 18);
  cairo_show_text (cr, "requests per job");
  cairo_save (cr);
  cairo_move_to (cr, 22, HEIGHT / 2.0 + 80);
  cairo_rotate (cr, -G_PI / 2);
  cairo_show_text (cr, "p95 detection delay (s)");
  cairo_restore (cr);

  cairo_set_font_size (cr, 15);
  cairo_move_to (cr, LEFT, TOP - 20);
  cairo_show_text (cr, title);
}

static void
draw_points (cairo_t            *cr,
             const Axes         *axes,
             const VtBenchPoint *points,
             guint               n_points)
{
  cairo_set_font_size (cr, 13);
  for (guint i = 0; i < n_points; i++)
    {
      double x = to_x (axes, points[i].x), y = to_y (axes, points[i].y);

      cairo_set_source_rgb (cr, 0.11, 0.39, 0.75);
      cairo_arc (cr, x, y, 6, 0, 2 * G_PI);
      cairo_fill (cr);
      cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
      cairo_move_to (cr, x + 9, y - 7);
      cairo_show_text (cr, points[i].label);
    }
}

gboolean
vt_bench_plot_write (const char          *path,
                     const char          *title,
                     const VtBenchPoint  *points,
                     guint                n_points,
                     GError             **error)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, WIDTH, HEIGHT);
  cairo_t *cr = cairo_create (surface);
  cairo_status_t status;
  Axes axes = { 0, 0 };

  for (guint i = 0; i < n_points; i++)
    {
      axes.x_max = MAX (axes.x_max, points[i].x);
      axes.y_max = MAX (axes.y_max, points[i].y);
    }
  /* Headroom for the labels. */
  axes.x_max = nice_ceiling (axes.x_max * 1.15);
  axes.y_max = nice_ceiling (axes.y_max * 1.1);

  draw_axes (cr, &axes, title);
  draw_points (cr, &axes, points, n_points);
  cairo_destroy (cr);

  status = cairo_surface_write_to_png (surface, path);
  cairo_surface_destroy (surface);
  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "cannot write %s: %s", path, cairo_status_to_string (status));
      return FALSE;
    }
  return TRUE;
}

#else /* !HAVE_CAIRO */

gboolean
vt_bench_plot_write (const char          *path,
                     const char          *title,
                     const VtBenchPoint  *points,
                     guint                n_points,
                     GError             **error)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
               "cannot write %s: vt-bench was built without cairo", path);
  return FALSE;
}

#endif
