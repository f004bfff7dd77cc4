/* standalone-main.c: replays corpus files through a fuzz target
 *
 * Without libFuzzer (gcc, or -Dfuzzing=false) each target links this
 * main() instead: every argument is a file, or a directory whose files
 * are run in name order, each once through LLVMFuzzerTestOneInput(). It
 * does no fuzzing; it keeps the corpus passing in every build, under
 * ASan and valgrind too.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdio.h>
#include <stdlib.h>

#include "vt-fuzz.h"

static gboolean
run_file (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  g_autofree uint8_t *input = NULL;
  gsize length;

  if (!g_file_get_contents (path, &contents, &length, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return FALSE;
    }

  /* A copy of exactly @length bytes, so that ASan catches a target that
   * reads past the input (g_file_get_contents() adds a NUL). */
  input = g_memdup2 (contents, length);
  LLVMFuzzerTestOneInput (input, length);

  return TRUE;
}

static int
compare_paths (gconstpointer a,
               gconstpointer b)
{
  return g_strcmp0 (*(const char * const *) a, *(const char * const *) b);
}

/* Returns the number of files run, or -1 on an unreadable entry. */
static int
run_path (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GPtrArray) paths = NULL;
  const char *name;
  int n = 0;

  if (!g_file_test (path, G_FILE_TEST_IS_DIR))
    return run_file (path) ? 1 : -1;

  dir = g_dir_open (path, 0, &error);
  if (dir == NULL)
    {
      fprintf (stderr, "%s\n", error->message);
      return -1;
    }

  paths = g_ptr_array_new_with_free_func (g_free);
  while ((name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (paths, g_build_filename (path, name, NULL));
  g_ptr_array_sort (paths, compare_paths);

  for (guint i = 0; i < paths->len; i++)
    {
      if (!run_file (paths->pdata[i]))
        return -1;
      n++;
    }

  return n;
}

int
main (int   argc,
      char *argv[])
{
  int total = 0;

  LLVMFuzzerInitialize (&argc, &argv);

  if (argc < 2)
    {
      fprintf (stderr, "Usage: %s FILE|DIR...\n", argv[0]);
      return 2;
    }

  for (int i = 1; i < argc; i++)
    {
      int n = run_path (argv[i]);

      if (n < 0)
        return 1;
      total += n;
    }

  /* An empty corpus would pass while testing nothing. */
  if (total == 0)
    {
      fprintf (stderr, "%s: no input files\n", argv[0]);
      return 1;
    }

  printf ("%s: %d inputs ran\n", argv[0], total);
  return 0;
}
