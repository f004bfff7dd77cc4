/* test-server-gate.c: vt-server against docs/protocol.md: --token and --rate-limit
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <glib/gstdio.h>
#include <signal.h>
#include <stdlib.h>
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

/* Parses RateLimit: "default";r=R;t=T. */
static void
parse_rate_limit (Response *r,
                  guint    *remaining,
                  guint    *reset)
{
  const char *field = header (r, "RateLimit");
  g_autoptr(GMatchInfo) match = NULL;
  g_autoptr(GRegex) regex = g_regex_new ("^\"default\";r=(\\d+);t=(\\d+)$", 0, 0, NULL);
  g_autofree char *r_text = NULL;
  g_autofree char *t_text = NULL;

  g_assert_nonnull (field);
  if (!g_regex_match (regex, field, 0, &match))
    g_error ("RateLimit: %s", field);
  r_text = g_match_info_fetch (match, 1);
  t_text = g_match_info_fetch (match, 2);
  *remaining = atoi (r_text);
  *reset = atoi (t_text);
}

static void
test_rate_limit (Fixture       *f,
                 gconstpointer  data)
{
  guint n_ok = 0, remaining = 0, reset = 0;
  gint64 start = g_get_monotonic_time ();
  double window;
  g_autoptr(Response) limited = NULL;
  g_autoptr(Response) health = NULL;

  /* A burst: the bucket holds three, refilled at three a second. */
  for (guint i = 0; i < 20 && limited == NULL; i++)
    {
      Response *r = fetch (f, "GET", "/status", NULL);

      g_assert_cmpstr (header (r, "RateLimit-Policy"), ==, "\"default\";q=3;w=1");
      parse_rate_limit (r, &remaining, &reset);
      if (r->status != SOUP_STATUS_OK)
        {
          limited = r;
          break;
        }
      /* A full bucket of three: two left after the first request. */
      if (n_ok == 0)
        g_assert_cmpuint (remaining, ==, 2);
      g_assert_cmpuint (reset, ==, 1);
      n_ok++;
      response_free (r);
    }
  window = (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;

  /* Exactly the bucket before the first 429, plus what refilled while
   * the burst went on: a third of a second per request. */
  g_assert_nonnull (limited);
  g_assert_cmpuint (n_ok, >=, 3);
  g_assert_cmpuint (n_ok, <=, 3 + (guint) (window * 3));
  if (window < 1.0 / 3)
    g_assert_cmpuint (n_ok, ==, 3);

  assert_json_error (limited, 429, "too-many-requests");
  g_assert_cmpstr (header (limited, "Retry-After"), ==, "1");
  g_assert_cmpuint (remaining, ==, 0);
  /* The draft: Retry-After no earlier than the end of the window. */
  g_assert_cmpuint (reset, ==, 1);

  /* The health check is not limited, and says nothing of limits. */
  health = fetch (f, "GET", "/health", NULL);
  g_assert_cmpuint (health->status, ==, SOUP_STATUS_OK);
  g_assert_null (header (health, "RateLimit"));
  g_assert_null (header (health, "RateLimit-Policy"));
}

static ServerArgs with_slow_rate_limit = { "--rate-limit", "30/m", NULL };

static void
test_rate_limit_per_minute (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(Response) first = fetch (f, "GET", "/status", NULL);
  g_autoptr(Response) second = fetch (f, "GET", "/status", NULL);
  guint remaining = 0, reset = 0;

  /* One second's worth is half a request: the bucket holds one, and
   * takes 2 s to refill. */
  g_assert_cmpuint (first->status, ==, SOUP_STATUS_OK);
  g_assert_cmpstr (header (first, "RateLimit-Policy"), ==, "\"default\";q=1;w=2");
  parse_rate_limit (first, &remaining, &reset);
  g_assert_cmpuint (remaining, ==, 0);
  g_assert_cmpuint (reset, ==, 2);

  assert_json_error (second, 429, "too-many-requests");
  parse_rate_limit (second, &remaining, &reset);
  g_assert_cmpuint (remaining, ==, 0);
  g_assert_cmpuint (reset, >=, 1);
  g_assert_cmpuint (reset, <=, 2);
  g_assert_cmpstr (header (second, "Retry-After"), ==, reset == 1 ? "1" : "2");
}

static ServerArgs with_token_and_rate_limit = { "--token", "s3cret", "--rate-limit", "3/s", NULL };

static void
test_authenticate_first (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(Response) allowed = NULL;
  guint remaining = 0, reset = 0;

  /* Ten unauthenticated requests, well over the limit: each a 401, never
   * a 429, and none of them spends the limit. */
  for (guint i = 0; i < 10; i++)
    {
      g_autoptr(Response) r = fetch_authorized (f, "/status", i % 2 == 0 ? NULL : "Bearer wrong");

      assert_json_error (r, SOUP_STATUS_UNAUTHORIZED, "unauthorized");
      g_assert_null (header (r, "RateLimit"));
    }

  allowed = fetch_authorized (f, "/status", "Bearer s3cret");
  g_assert_cmpuint (allowed->status, ==, SOUP_STATUS_OK);
  parse_rate_limit (allowed, &remaining, &reset);
  g_assert_cmpuint (remaining, ==, 2);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  add_server_test ("/server/token", with_token, test_token);
  add_server_test ("/server/rate-limit", with_rate_limit, test_rate_limit);
  add_server_test ("/server/rate-limit/per-minute", with_slow_rate_limit, test_rate_limit_per_minute);
  add_server_test ("/server/rate-limit/authenticate-first", with_token_and_rate_limit,
                   test_authenticate_first);

  return g_test_run ();
}
