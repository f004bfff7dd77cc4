/* test-client-redirect.c: a watch follows redirects itself
 *
 * The contract: 301, 302, 303, 307 and 308 are followed by the watch, each
 * hop one of its requests (the server sees it, max-attempts counts it); a
 * redirected poll goes to the Location for that one request, the next
 * starts again from the job's own URL; at most five redirects in a row
 * are followed; the bearer token never leaves the job URL's origin.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "vt-test-fixture.h"

/* The paths of the requests @server saw, in order. */
static void
assert_paths (VtScriptedServer *server,
              const char       *first,
              ...)
{
  va_list ap;
  guint n = 0;

  va_start (ap, first);
  for (const char *path = first; path != NULL; path = va_arg (ap, const char *), n++)
    g_assert_cmpstr (vt_scripted_server_get_request (server, NULL, n)->path, ==, path);
  va_end (ap);
  g_assert_cmpuint (vt_scripted_server_count (server, NULL), ==, n);
}

static void
assert_redirect_error (const GError *error)
{
  g_assert_error (error, VT_CLIENT_ERROR, VT_CLIENT_ERROR_HTTP);
  g_assert_nonnull (strstr (error->message, "redirect"));
}

/* Every redirect status: the hop is a request of its own, to the
 * Location, and the next poll goes to the job's URL again. */
static void
test_redirect_status (VtFixture     *f,
                      gconstpointer  data)
{
  guint status = GPOINTER_TO_UINT (data);
  const VtReply job[] = {
    { status, NULL, NULL, FALSE, "/moved/j" }, VT_REPLY_COMPLETED, VT_REPLY_END
  };
  static const VtReply moved[] = { VT_REPLY_PENDING, VT_REPLY_END };
  g_autoptr(GError) error = NULL;

  vt_fixture_script (f, "/jobs/j", job);
  vt_fixture_script (f, "/moved/j", moved);
  g_assert_cmpint (vt_fixture_follow (f, "j", NULL, &error), ==, VT_STATUS_COMPLETED);
  g_assert_no_error (error);
  vt_fixture_assert_statuses (f, 2, VT_STATUS_PENDING, VT_STATUS_COMPLETED);
  assert_paths (f->server, "/jobs/j", "/moved/j", "/jobs/j", NULL);
}

/* Each hop counts against max-attempts: with three attempts and a job
 * URL that always redirects, the third request is a redirect there are no
 * attempts left to follow. */
static void
test_redirect_counted (VtFixture     *f,
                       gconstpointer  data)
{
  static const VtReply job[] = { { 307, NULL, NULL, FALSE, "/moved/j" }, VT_REPLY_END };
  static const VtReply moved[] = { VT_REPLY_PENDING, VT_REPLY_END };
  g_autoptr(GError) error = NULL;

  vt_fixture_script (f, "/jobs/j", job);
  vt_fixture_script (f, "/moved/j", moved);
  g_object_set (f->client, "max-attempts", 3, NULL);
  vt_fixture_follow (f, "j", NULL, &error);
  assert_redirect_error (error);
  vt_fixture_assert_statuses (f, 1, VT_STATUS_PENDING);
  assert_paths (f->server, "/jobs/j", "/moved/j", "/jobs/j", NULL);
}

/* A chain of redirects: five are followed, the sixth answer is not: the
 * end of the chain is never asked for, though attempts are left for it.
 * What comes after (the watch gives up, or starts again from the job's
 * URL until its attempts run out) ends with a redirect error. */
static void
test_redirect_chain_limit (VtFixture     *f,
                           gconstpointer  data)
{
  static const VtReply job[] = { { 302, NULL, NULL, FALSE, "/r1" }, VT_REPLY_END };
  static const VtReply r1[] = { { 302, NULL, NULL, FALSE, "/r2" }, VT_REPLY_END };
  static const VtReply r2[] = { { 302, NULL, NULL, FALSE, "/r3" }, VT_REPLY_END };
  static const VtReply r3[] = { { 302, NULL, NULL, FALSE, "/r4" }, VT_REPLY_END };
  static const VtReply r4[] = { { 302, NULL, NULL, FALSE, "/r5" }, VT_REPLY_END };
  static const VtReply r5[] = { { 302, NULL, NULL, FALSE, "/r6" }, VT_REPLY_END };
  static const VtReply r6[] = { VT_REPLY_COMPLETED, VT_REPLY_END };
  g_autoptr(GError) error = NULL;

  vt_fixture_script (f, "/jobs/j", job);
  vt_fixture_script (f, "/r1", r1);
  vt_fixture_script (f, "/r2", r2);
  vt_fixture_script (f, "/r3", r3);
  vt_fixture_script (f, "/r4", r4);
  vt_fixture_script (f, "/r5", r5);
  vt_fixture_script (f, "/r6", r6);
  g_object_set (f->client, "max-attempts", 8, NULL);
  vt_fixture_follow (f, "j", NULL, &error);
  assert_redirect_error (error);
  g_assert_cmpuint (f->statuses->len, ==, 0);
  g_assert_cmpuint (vt_fixture_count (f, "/r6"), ==, 0);
  g_assert_cmpuint (vt_fixture_count (f, NULL), <=, 8);
  for (guint i = 0; i < vt_fixture_count (f, NULL); i++)
    {
      const char *expected[] = { "/jobs/j", "/r1", "/r2", "/r3", "/r4", "/r5" };

      g_assert_cmpstr (vt_scripted_server_get_request (f->server, NULL, i)->path, ==,
                       expected[i % G_N_ELEMENTS (expected)]);
    }
  g_assert_cmpuint (vt_fixture_count (f, NULL), >=, 6);
}

/* The token goes with every request to the job URL's origin, redirected
 * there or not, and never to another origin a redirect points at. */
static void
test_redirect_token_stays_home (VtFixture     *f,
                                gconstpointer  data)
{
  g_autoptr(VtScriptedServer) elsewhere = vt_scripted_server_new ();
  g_autofree char *away = g_strconcat (vt_scripted_server_get_url (elsewhere), "/away/j", NULL);
  const VtReply job[] = {
    { 307, NULL, NULL, FALSE, "/moved/j" }, { 307, NULL, NULL, FALSE, away },
    VT_REPLY_COMPLETED, VT_REPLY_END
  };
  static const VtReply pending[] = { VT_REPLY_PENDING, VT_REPLY_END };
  g_autoptr(GError) error = NULL;
  const VtLoggedRequest *request;

  vt_fixture_script (f, "/jobs/j", job);
  vt_fixture_script (f, "/moved/j", pending);
  vt_scripted_server_script (elsewhere, "/away/j", pending);
  g_object_set (f->client, "token", "s3cret", NULL);
  g_assert_cmpint (vt_fixture_follow (f, "j", NULL, &error), ==, VT_STATUS_COMPLETED);
  g_assert_no_error (error);

  assert_paths (f->server, "/jobs/j", "/moved/j", "/jobs/j", "/jobs/j", NULL);
  for (guint i = 0; i < 4; i++)
    {
      request = vt_scripted_server_get_request (f->server, NULL, i);
      g_assert_cmpstr (soup_message_headers_get_one (request->headers, "Authorization"), ==,
                       "Bearer s3cret");
    }
  g_assert_cmpuint (vt_scripted_server_count (elsewhere, NULL), ==, 1);
  request = vt_scripted_server_get_request (elsewhere, "/away/j", 0);
  g_assert_null (soup_message_headers_get_one (request->headers, "Authorization"));
}

int
main (int   argc,
      char *argv[])
{
  static const guint statuses[] = { 301, 302, 303, 307, 308 };

  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (statuses); i++)
    {
      g_autofree char *path = g_strdup_printf ("/client/redirect/status/%u", statuses[i]);

      g_test_add (path, VtFixture, GUINT_TO_POINTER (statuses[i]),
                  vt_fixture_set_up, test_redirect_status, vt_fixture_tear_down);
    }
  VT_FIXTURE_ADD ("/client/redirect/counted", test_redirect_counted);
  VT_FIXTURE_ADD ("/client/redirect/chain-limit", test_redirect_chain_limit);
  VT_FIXTURE_ADD ("/client/redirect/token-stays-home", test_redirect_token_stays_home);

  return g_test_run ();
}
