/* vt-with-server.c: run a command with a fresh vt-server
 *
 *   vt-with-server [SERVER-ARGS...] -- COMMAND [ARGS...]
 *
 * Starts vt-server (vt_test_server_get_path ()) on a free port with
 * SERVER-ARGS, exports its URL as VT_SERVER_URL, runs COMMAND, stops the
 * server and exits with COMMAND's status. The Python and GJS tests run
 * under it, so they share the C tests' way of starting a server instead of
 * carrying copies.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vt-test-server.h"

#include <string.h>

#ifdef VT_INSTALLED_LIBDIR
/* Appends dir to the search path variable for the command: what the
 * environment names (a staged tree, say) still comes first. */
static void
append_search_dir (GSubprocessLauncher *launcher,
                   const char          *variable,
                   const char          *dir)
{
  const char *current = g_getenv (variable);
  g_autofree char *value = NULL;

  if (current != NULL && *current != '\0')
    value = g_strconcat (current, G_SEARCHPATH_SEPARATOR_S, dir, NULL);
  else
    value = g_strdup (dir);
  g_subprocess_launcher_setenv (launcher, variable, value, TRUE);
}
#endif

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GPtrArray) server_args = g_ptr_array_new ();
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) child = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(VtTestServer) server = NULL;
  int i;

  for (i = 1; i < argc && strcmp (argv[i], "--") != 0; i++)
    g_ptr_array_add (server_args, argv[i]);
  g_ptr_array_add (server_args, NULL);

  if (i + 1 >= argc)
    {
      g_printerr ("usage: %s [SERVER-ARGS...] -- COMMAND [ARGS...]\n", argv[0]);
      return 2;
    }

  server = vt_test_server_startv ((const char * const *) server_args->pdata);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_subprocess_launcher_setenv (launcher, "VT_SERVER_URL",
                                vt_test_server_get_url (server), TRUE);
  g_subprocess_launcher_setenv (launcher, "VT_SERVER_PATH",
                                vt_test_server_get_path (), TRUE);
#ifdef VT_INSTALLED_LIBDIR
  /* Installed, the binding tests find the typelib and the library it
   * names where they were installed, even in a prefix GObject
   * introspection and the dynamic linker do not search by themselves. */
  append_search_dir (launcher, "GI_TYPELIB_PATH", VT_INSTALLED_LIBDIR "/girepository-1.0");
  append_search_dir (launcher, "LD_LIBRARY_PATH", VT_INSTALLED_LIBDIR);
#endif
  child = g_subprocess_launcher_spawnv (launcher,
                                        (const char * const *) &argv[i + 1],
                                        &error);
  if (child == NULL)
    {
      g_printerr ("%s: %s\n", argv[0], error->message);
      return 2;
    }

  g_subprocess_wait (child, NULL, NULL);

  if (g_subprocess_get_if_exited (child))
    return g_subprocess_get_exit_status (child);
  return 1;
}
