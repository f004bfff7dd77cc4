/* test-rate-limit.c: what a client knows of a server's rate limit (pure)
 *
 * The RateLimit-Policy and RateLimit fields of the IETF httpapi draft as
 * vt-server --rate-limit sends them, and the token bucket every job's
 * request to one server goes through. Times are made up: no clock.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vt-rate-limit-private.h"

#define SEC G_USEC_PER_SEC

static void
test_parse_policy (void)
{
  double quota = -1, window = -1;

  g_assert_true (vt_protocol_parse_ratelimit_policy ("\"default\";q=50;w=1", &quota, &window));
  g_assert_cmpfloat (quota, ==, 50);
  g_assert_cmpfloat (window, ==, 1);

  /* Parameters in any order, more than one policy (the first counts),
   * unknown parameters ignored. */
  g_assert_true (vt_protocol_parse_ratelimit_policy ("\"burst\";w=60;pk=:YWJj:;q=100, \"day\";q=1000;w=86400",
                                                     &quota, &window));
  g_assert_cmpfloat (quota, ==, 100);
  g_assert_cmpfloat (window, ==, 60);

  /* A policy without its quota, or with one that is not a count, says
   * nothing. */
  g_assert_false (vt_protocol_parse_ratelimit_policy ("\"default\";w=1", &quota, &window));
  g_assert_false (vt_protocol_parse_ratelimit_policy ("", &quota, &window));
  g_assert_false (vt_protocol_parse_ratelimit_policy ("default", &quota, &window));
  g_assert_false (vt_protocol_parse_ratelimit_policy ("default;q", &quota, &window));
  g_assert_false (vt_protocol_parse_ratelimit_policy ("default;q=", &quota, &window));
  g_assert_false (vt_protocol_parse_ratelimit_policy ("\"default", &quota, &window));
  g_assert_false (vt_protocol_parse_ratelimit_policy ("\"default\\", &quota, &window));
  g_assert_true (vt_protocol_parse_ratelimit_policy ("default;q=7", &quota, &window));
  g_assert_cmpfloat (quota, ==, 7);
  g_assert_false (vt_protocol_parse_ratelimit_policy ("\"default\";q=abc;w=1", &quota, &window));
  g_assert_false (vt_protocol_parse_ratelimit_policy ("\"default\";q=-5;w=1", &quota, &window));
}

static void
test_parse_ratelimit (void)
{
  double remaining = -1, reset = -1;

  g_assert_true (vt_protocol_parse_ratelimit ("\"default\";r=12;t=3", &remaining, &reset));
  g_assert_cmpfloat (remaining, ==, 12);
  g_assert_cmpfloat (reset, ==, 3);

  g_assert_true (vt_protocol_parse_ratelimit ("\"default\";t=0;r=0", &remaining, &reset));
  g_assert_cmpfloat (remaining, ==, 0);
  g_assert_cmpfloat (reset, ==, 0);

  g_assert_false (vt_protocol_parse_ratelimit ("\"default\";t=3", &remaining, &reset));
  g_assert_false (vt_protocol_parse_ratelimit ("garbage", &remaining, &reset));
}

static VtRateInfo
policy (double quota,
        double window)
{
  VtRateInfo info = VT_RATE_INFO_NONE;

  info.quota = quota;
  info.window = window;
  return info;
}

/* Nothing known: no limit at all. */
static void
test_bucket_unknown (void)
{
  VtRateLimit limit;

  vt_rate_limit_init (&limit);
  for (int i = 0; i < 1000; i++)
    {
      g_assert_cmpint (vt_rate_limit_when (&limit, 5 * SEC), ==, 5 * SEC);
      vt_rate_limit_take (&limit, 5 * SEC);
    }
}

/* A policy of 10 a second: a burst of 10, then one every 0.1 s. */
static void
test_bucket_paces (void)
{
  VtRateInfo info = policy (10, 1);
  VtRateLimit limit;
  gint64 now = 100 * SEC;

  vt_rate_limit_init (&limit);
  vt_rate_limit_learn (&limit, &info, now);
  for (int i = 0; i < 10; i++)
    {
      g_assert_cmpint (vt_rate_limit_when (&limit, now), ==, now);
      vt_rate_limit_take (&limit, now);
    }
  g_assert_cmpint (vt_rate_limit_when (&limit, now), >, now + SEC / 10 - 10);
  g_assert_cmpint (vt_rate_limit_when (&limit, now), <=, now + SEC / 10 + 10);

  /* Paced from there: 20 more take 2 s. */
  for (int i = 0; i < 20; i++)
    {
      now = vt_rate_limit_when (&limit, now);
      vt_rate_limit_take (&limit, now);
    }
  g_assert_cmpint (now, >=, 102 * SEC - 100);
  g_assert_cmpint (now, <=, 102 * SEC + 100);
}

/* The server's count of what is left wins when it is lower (it saw the
 * requests other jobs had in flight); none left with a reset holds
 * every request until then. */
static void
test_bucket_remaining_and_reset (void)
{
  VtRateInfo info = policy (10, 1);
  VtRateLimit limit;
  gint64 now = 100 * SEC;

  vt_rate_limit_init (&limit);
  info.remaining = 2;
  vt_rate_limit_learn (&limit, &info, now);
  vt_rate_limit_take (&limit, now);
  vt_rate_limit_take (&limit, now);
  g_assert_cmpint (vt_rate_limit_when (&limit, now), >, now);

  info.remaining = 0;
  info.reset = 3;
  vt_rate_limit_learn (&limit, &info, now);
  g_assert_cmpint (vt_rate_limit_when (&limit, now), ==, now + 3 * SEC);
  g_assert_cmpint (vt_rate_limit_when (&limit, now + 2 * SEC), ==, now + 3 * SEC);
  /* After the reset the bucket has refilled. */
  g_assert_cmpint (vt_rate_limit_when (&limit, now + 3 * SEC), ==, now + 3 * SEC);
}

/* A 429's Retry-After holds every request for that long, policy or
 * not, and a later, shorter one does not shorten it. */
static void
test_bucket_retry_after (void)
{
  VtRateInfo info = VT_RATE_INFO_NONE;
  VtRateLimit limit;
  gint64 now = 100 * SEC;

  vt_rate_limit_init (&limit);
  info.retry_after = 2;
  vt_rate_limit_learn (&limit, &info, now);
  g_assert_cmpint (vt_rate_limit_when (&limit, now), ==, now + 2 * SEC);

  info.retry_after = 0.5;
  vt_rate_limit_learn (&limit, &info, now + SEC);
  g_assert_cmpint (vt_rate_limit_when (&limit, now + SEC), ==, now + 2 * SEC);
  g_assert_cmpint (vt_rate_limit_when (&limit, now + 2 * SEC), ==, now + 2 * SEC);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/rate-limit/parse/policy", test_parse_policy);
  g_test_add_func ("/rate-limit/parse/ratelimit", test_parse_ratelimit);
  g_test_add_func ("/rate-limit/bucket/unknown", test_bucket_unknown);
  g_test_add_func ("/rate-limit/bucket/paces", test_bucket_paces);
  g_test_add_func ("/rate-limit/bucket/remaining-and-reset", test_bucket_remaining_and_reset);
  g_test_add_func ("/rate-limit/bucket/retry-after", test_bucket_retry_after);

  return g_test_run ();
}
