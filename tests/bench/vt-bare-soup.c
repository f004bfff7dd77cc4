/* vt-bare-soup.c: a bare SoupServer answering fixed bytes, for comparison
 *
 *   vt-bare-soup [--port PORT] PATH FILE [PATH FILE]...
 *
 * Answers GET PATH with the bytes of FILE (application/json), 404 for
 * any other path, with nothing else on the request path: what libsoup's
 * SoupServer costs by itself, the ceiling for vt-server on the same
 * machine (tests/bench/server-get-vs-nginx.sh). Listens on 127.0.0.1
 * like vt-server (same backlog), announces
 * "vt-bare-soup listening on http://127.0.0.1:PORT" and runs until
 * SIGTERM or SIGINT.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <glib-unix.h>
#include <libsoup/soup.h>
#include <stdio.h>
#include <string.h>

static void
on_request (SoupServer        *server,
            SoupServerMessage *msg,
            const char        *path,
            GHashTable        *query,
            gpointer           user_data)
{
  GBytes *body = g_hash_table_lookup (user_data, path);

  if (body == NULL)
    {
      soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
      return;
    }

  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC,
                                    g_bytes_get_data (body, NULL), g_bytes_get_size (body));
}

static gboolean
quit (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

int
main (int   argc,
      char *argv[])
{
  int port = 0;
  const GOptionEntry entries[] = {
    { "port", 0, 0, G_OPTION_ARG_INT, &port, "Port (default: 0, a free one)", "PORT" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("PATH FILE [PATH FILE]...");
  g_autoptr(GHashTable) bodies = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                        (GDestroyNotify) g_bytes_unref);
  g_autoptr(GError) error = NULL;
  g_autoptr(SoupServer) server = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GSocket) socket = NULL;
  GSList *uris;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || argc < 3 || argc % 2 == 0)
    {
      g_printerr ("vt-bare-soup: %s\n", error != NULL ? error->message : "give PATH FILE pairs");
      return 2;
    }

  for (int i = 1; i + 1 < argc; i += 2)
    {
      char *data = NULL;
      gsize length;

      if (!g_file_get_contents (argv[i + 1], &data, &length, &error))
        {
          g_printerr ("vt-bare-soup: %s\n", error->message);
          return 1;
        }
      g_hash_table_insert (bodies, g_strdup (argv[i]), g_bytes_new_take (data, length));
    }

  server = soup_server_new ("server-header", "vt-bare-soup ", NULL);
  soup_server_add_handler (server, NULL, on_request, bodies, NULL);

  /* As vt-server listens: its own socket, a deep backlog. */
  address = g_inet_socket_address_new (loopback, port);
  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  if (socket != NULL)
    g_socket_set_listen_backlog (socket, 4096);
  if (socket == NULL || !g_socket_bind (socket, address, TRUE, &error) ||
      !g_socket_listen (socket, &error) ||
      !soup_server_listen_socket (server, socket, 0, &error))
    {
      g_printerr ("vt-bare-soup: %s\n", error->message);
      return 1;
    }

  uris = soup_server_get_uris (server);
  g_print ("vt-bare-soup listening on http://127.0.0.1:%d\n", g_uri_get_port (uris->data));
  fflush (stdout);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGTERM, quit, loop);
  g_unix_signal_add (SIGINT, quit, loop);
  g_main_loop_run (loop);

  return 0;
}
