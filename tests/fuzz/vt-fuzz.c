/* vt-fuzz.c: GLib settings every fuzz target wants
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdio.h>

#include "vt-fuzz.h"

/* Warnings the input provokes in libraries we do not test are printed a
 * few times, then counted in silence: a fuzzer makes millions of them. */
#define MAX_FOREIGN_WARNINGS 5

static void
on_foreign_warning (const char     *domain,
                    GLogLevelFlags  level,
                    const char     *message,
                    gpointer        user_data)
{
  static guint count;

  if (++count <= MAX_FOREIGN_WARNINGS)
    fprintf (stderr, "%s-WARNING (not fatal): %s\n", domain, message);
}

/* Called before GLib allocates anything. */
void
vt_fuzz_init_glib (void)
{
  /* Plain malloc, so that ASan and LeakSanitizer see every block. */
  g_setenv ("G_SLICE", "always-malloc", TRUE);

  /* A critical is a g_return_if_fail() the input reached: in our code or
   * in a library, a crash worth reporting. A warning from our own code is
   * too; warnings of GLib and libsoup about what a peer sent are not our
   * bug (libsoup warns on "Content-Length: -5", for one). */
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL);
  g_log_set_fatal_mask ("vtclient", G_LOG_LEVEL_WARNING | G_LOG_LEVEL_CRITICAL);
  g_log_set_fatal_mask ("vt-server", G_LOG_LEVEL_WARNING | G_LOG_LEVEL_CRITICAL);
  g_log_set_handler ("GLib-GObject", G_LOG_LEVEL_WARNING, on_foreign_warning, NULL);
  g_log_set_handler ("GLib", G_LOG_LEVEL_WARNING, on_foreign_warning, NULL);
  g_log_set_handler ("GLib-GIO", G_LOG_LEVEL_WARNING, on_foreign_warning, NULL);
  g_log_set_handler ("libsoup", G_LOG_LEVEL_WARNING, on_foreign_warning, NULL);
}
