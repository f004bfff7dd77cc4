/* test-server-gate.c: vt-server against docs/protocol.md: --token and --rate-limit
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

#include "vt-server-test-utils.h"

/* --token, --rate-limit */

static ServerArgs with_token = { "--token", "s3cret", NULL };
static ServerArgs with_rate_limit = { "--rate-limit", "3/s", NULL };

static Response *
fetch_authorized (Fixture    *f,
                  const char *path,
                  const char *authorization)
{
  g_autofree char *url = url_for (f, path);
  g_autoptr(GError) error = NULL;
  Response *r = g_new0 (Response, 1);

  r->msg = soup_message_new ("GET", url);
  if (authorization != NULL)
    soup_message_headers_replace (soup_message_get_request_headers (r->msg),
                                  "Authorization", authorization);
  r->body = soup_session_send_and_read (f->session, r->msg, NULL, &error);
  g_assert_no_error (error);
  r->status = soup_message_get_status (r->msg);
  r->json = json_from_string (g_bytes_get_data (r->body, NULL), NULL);

  return r;
}

static void
test_token (Fixture       *f,
            gconstpointer  data)
{
  const char *refused[] = { NULL, "Bearer wrong", "Bearer s3cre", "Bearer s3cret2", "Basic s3cret", "s3cret" };
  const char *paths[] = { "/status", "/jobs/x", "/metrics", "/capabilities", "/nope" };

  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      for (guint j = 0; j < G_N_ELEMENTS (paths); j++)
        {
          g_autoptr(Response) r = fetch_authorized (f, paths[j], refused[i]);

          assert_json_error (r, SOUP_STATUS_UNAUTHORIZED, "unauthorized");
          g_assert_true (g_str_has_prefix (header (r, "WWW-Authenticate"), "Bearer"));
          g_assert_null (strstr (g_bytes_get_data (r->body, NULL), "s3cret"));
        }
    }

  {
    g_autoptr(Response) allowed = fetch_authorized (f, "/status", "Bearer s3cret");
    g_autoptr(Response) health = fetch_authorized (f, "/health", NULL);

    g_assert_cmpuint (allowed->status, ==, SOUP_STATUS_OK);
    g_assert_cmpstr (string_member (allowed, "result"), ==, "pending");
    g_assert_cmpuint (health->status, ==, SOUP_STATUS_OK);
  }
}

static void
test_rate_limit (Fixture       *f,
                 gconstpointer  data)
{
  guint n_ok = 0, n_limited = 0;

  /* A burst of twenty: the bucket holds three, refilled at three a second. */
  for (guint i = 0; i < 20; i++)
    {
      g_autoptr(Response) r = fetch (f, "GET", "/status", NULL);
      g_autoptr(Response) health = fetch (f, "GET", "/health", NULL);

      g_assert_cmpuint (health->status, ==, SOUP_STATUS_OK);
      if (i < 3)
        g_assert_cmpuint (r->status, ==, SOUP_STATUS_OK);
      if (r->status == SOUP_STATUS_OK)
        {
          n_ok++;
          continue;
        }

      assert_json_error (r, 429, "too-many-requests");
      g_assert_cmpstr (header (r, "Retry-After"), ==, "1");
      n_limited++;
    }

  g_assert_cmpuint (n_limited, >, 0);
  g_assert_cmpuint (n_ok, >=, 3);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  add_server_test ("/server/token", with_token, test_token);
  add_server_test ("/server/rate-limit", with_rate_limit, test_rate_limit);

  return g_test_run ();
}
