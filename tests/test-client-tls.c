/* test-client-tls.c: https servers and the certificates they are checked against
 *
 * A program of its own: any process that loads GnuTLS trips
 * LeakSanitizer's tracer, so build-aux/run-sanitizers runs it apart.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vt-test-fixture.h"

static void
test_https_private_ca (void)
{
  g_autofree char *cert = g_test_build_filename (G_TEST_DIST, "test-server-cert.pem", NULL);
  g_autofree char *key = g_test_build_filename (G_TEST_DIST, "test-server-key.pem", NULL);
  g_autoptr(VtTestServer) server = vt_test_server_start_delay (0.2, "--tls-cert", cert, "--tls-key", key, NULL);
  g_autoptr(GTlsDatabase) database = NULL;
  g_autoptr(VtClient) trusting = NULL;
  g_autoptr(VtClient) distrusting = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (g_str_has_prefix (vt_test_server_get_url (server), "https://"));

  /* Without the private CA the certificate is refused, at once. */
  distrusting = vt_client_new (vt_test_server_get_url (server));
  g_object_set (distrusting, "initial-wait-time", S (0.05), NULL);
  g_assert_cmpint (vt_client_get_status (distrusting, NULL, NULL, &error), ==, VT_STATUS_TIMEOUT);
  g_assert_nonnull (error);
  g_assert_true (error->domain == G_TLS_ERROR);
  g_clear_error (&error);

  database = g_tls_file_database_new (cert, &error);
  g_assert_no_error (error);
  trusting = g_object_new (VT_TYPE_CLIENT,
                           "base-url", vt_test_server_get_url (server),
                           "tls-database", database,
                           "initial-wait-time", S (0.05),
                           NULL);
  g_assert_cmpint (vt_client_get_status (trusting, NULL, NULL, &error), ==, VT_STATUS_COMPLETED);
  g_assert_no_error (error);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/client/https/private-ca", test_https_private_ca);

  return g_test_run ();
}
