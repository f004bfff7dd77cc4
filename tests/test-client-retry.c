/* test-client-retry.c: transient faults retried, and the budget they use
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vt-test-fixture.h"

static void
test_passing_garbage_is_retried (VtFixture     *f,
                                 gconstpointer  data)
{
  static const VtReply replies[] = {
    VT_REPLY_PENDING, { 200, "<html>proxy</html>", NULL, FALSE, NULL },
    VT_REPLY_COMPLETED, VT_REPLY_END
  };
  g_autoptr(GError) error = NULL;

  vt_fixture_script (f, "/status", replies);
  g_assert_cmpint (vt_fixture_follow (f, NULL, NULL, &error), ==, VT_STATUS_COMPLETED);
  g_assert_no_error (error);
  vt_fixture_assert_statuses (f, 2, VT_STATUS_PENDING, VT_STATUS_COMPLETED);
  g_assert_cmpuint (vt_fixture_count (f, NULL), ==, 3);
}

static void
test_503_then_success (VtFixture     *f,
                       gconstpointer  data)
{
  static const VtReply replies[] = {
    { 503, "{\"error\": \"busy\"}", NULL, FALSE, NULL },
    { 502, NULL, NULL, FALSE, NULL },
    VT_REPLY_PENDING, VT_REPLY_COMPLETED, VT_REPLY_END
  };
  g_autoptr(GError) error = NULL;

  vt_fixture_script (f, "/status", replies);
  g_assert_cmpint (vt_fixture_follow (f, NULL, NULL, &error), ==, VT_STATUS_COMPLETED);
  g_assert_no_error (error);
  vt_fixture_assert_statuses (f, 2, VT_STATUS_PENDING, VT_STATUS_COMPLETED);
  g_assert_cmpuint (vt_fixture_count (f, NULL), ==, 4);
}

static void
test_429_retry_after (VtFixture     *f,
                      gconstpointer  data)
{
  static const VtReply replies[] = {
    { 429, NULL, "1", FALSE, NULL }, VT_REPLY_COMPLETED, VT_REPLY_END
  };
  g_autoptr(GError) error = NULL;

  vt_fixture_script (f, "/status", replies);
  g_assert_cmpint (vt_fixture_follow (f, NULL, NULL, &error), ==, VT_STATUS_COMPLETED);
  g_assert_no_error (error);
  g_assert_cmpuint (vt_fixture_count (f, NULL), ==, 2);
  /* The server asked for a second; the client's own policy says 10 ms.
   * The second request cannot arrive sooner than a second after the
   * first, whose answer started the wait. */
  g_assert_cmpfloat (vt_scripted_server_gap (f->server, NULL, 0, 1), >=, 1.0);
}

static void
test_unreachable_until_budget (VtFixture     *f,
                               gconstpointer  data)
{
  static const VtReply replies[] = { { 503, NULL, NULL, FALSE, NULL }, VT_REPLY_END };
  g_autoptr(GError) error = NULL;

  vt_fixture_script (f, "/status", replies);
  g_object_set (f->client, "max-attempts", 5, "initial-wait-time", 0.001, NULL);
  g_assert_cmpint (vt_fixture_follow (f, NULL, NULL, &error), ==, VT_STATUS_TIMEOUT);
  g_assert_error (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_UNREACHABLE);
  g_assert_cmpuint (vt_fixture_count (f, NULL), ==, 5);
  g_assert_cmpuint (f->statuses->len, ==, 0);
}

static void
test_connection_refused_until_budget (void)
{
  g_autoptr(VtClient) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  g_autofree char *url = NULL;
  VtStatus status;

  /* A port that was free a moment ago and has no listener now. */
  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, 0, &error);
  g_assert_no_error (error);
  address = g_inet_socket_address_new_from_string ("127.0.0.1", 0);
  g_socket_bind (socket, address, TRUE, &error);
  g_assert_no_error (error);
  g_clear_object (&address);
  address = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  url = g_strdup_printf ("http://127.0.0.1:%u",
                         g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (address)));
  g_socket_close (socket, NULL);

  client = vt_client_new (url);
  g_object_set (client, "initial-wait-time", 0.01, "max-wait-time", 0.2,
                "max-attempts", 100, NULL);
  status = vt_client_get_status (client, NULL, NULL, &error);
  g_assert_error (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_UNREACHABLE);
  g_assert_cmpint (status, ==, VT_STATUS_TIMEOUT);
}

typedef struct
{
  SoupServer *server;
  guint16     port;
} ListenLater;

static gboolean
listen_now (gpointer user_data)
{
  ListenLater *later = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, later->port);

  soup_server_listen (later->server, address, 0, &error);
  g_assert_no_error (error);

  return G_SOURCE_REMOVE;
}

static void
test_connection_refused_then_success (VtFixture     *f,
                                      gconstpointer  data)
{
  static const VtReply replies[] = { VT_REPLY_COMPLETED, VT_REPLY_END };
  SoupServer *server = vt_scripted_server_get_soup_server (f->server);
  g_autoslist(GUri) uris = soup_server_get_uris (server);
  ListenLater later = { server, g_uri_get_port (uris->data) };
  g_autoptr(GError) error = NULL;

  vt_fixture_script (f, "/status", replies);
  /* Nobody listens for the first 100 ms: those requests are refused. */
  soup_server_disconnect (server);
  g_timeout_add (100, listen_now, &later);
  g_object_set (f->client, "max-attempts", 1000, "initial-wait-time", 0.01,
                "backoff-factor", 1.0, NULL);

  g_assert_cmpint (vt_fixture_follow (f, NULL, NULL, &error), ==, VT_STATUS_COMPLETED);
  g_assert_no_error (error);
  vt_fixture_assert_statuses (f, 1, VT_STATUS_COMPLETED);
  /* Only the request after the server came up reached it. */
  g_assert_cmpuint (vt_fixture_count (f, NULL), ==, 1);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  VT_FIXTURE_ADD ("/client/retry/garbage-then-success", test_passing_garbage_is_retried);
  VT_FIXTURE_ADD ("/client/retry/503-then-success", test_503_then_success);
  VT_FIXTURE_ADD ("/client/retry/429-retry-after", test_429_retry_after);
  VT_FIXTURE_ADD ("/client/retry/unreachable-until-budget", test_unreachable_until_budget);
  g_test_add_func ("/client/retry/refused-until-budget", test_connection_refused_until_budget);
  VT_FIXTURE_ADD ("/client/retry/refused-then-success", test_connection_refused_then_success);

  return g_test_run ();
}
