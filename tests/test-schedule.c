/* test-schedule.c: the polling and retry policies, with no network
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>
#include <string.h>

#include "vt-schedule-private.h"

#define SEED 20261125

/* The seed's defaults. */
static VtScheduleConfig
seed_config (void)
{
  return (VtScheduleConfig) {
    .initial_wait = 1.0,
    .backoff_factor = 2.0,
    .jitter = 0.5,
    .jitter_mode = VT_JITTER_MODE_SYMMETRIC,
    .max_attempts = 10,
    .max_wait_time = 60.0,
    .min_interval = 0.05,
    .max_interval = 30.0,
  };
}

static void
test_backoff_exact_without_jitter (void)
{
  VtScheduleConfig config = seed_config ();
  g_autoptr(GRand) rand = g_rand_new_with_seed (SEED);
  const double expected[] = { 1, 2, 4, 8, 16, 32, 64 };

  config.jitter = 0;
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    g_assert_cmpfloat_with_epsilon (vt_schedule_backoff (&config, i + 1, rand),
                                    expected[i], 1e-9);
}

/* With a seeded GRand the jittered waits are known to the last bit: a
 * second GRand with the same seed replays the draws. */
static void
test_backoff_exact_with_seeded_jitter (void)
{
  VtScheduleConfig config = seed_config ();
  g_autoptr(GRand) rand = g_rand_new_with_seed (SEED);
  g_autoptr(GRand) replay = g_rand_new_with_seed (SEED);

  for (guint attempt = 1; attempt <= 8; attempt++)
    {
      double base = pow (2.0, attempt - 1);
      double offset = g_rand_double_range (replay, -0.5, 0.5);

      g_assert_cmpfloat_with_epsilon (vt_schedule_backoff (&config, attempt, rand),
                                      base + offset, 1e-12);
    }
}

static void
test_backoff_jitter_bounds (void)
{
  VtScheduleConfig config = seed_config ();
  g_autoptr(GRand) rand = g_rand_new_with_seed (SEED);
  gboolean saw_below = FALSE, saw_above = FALSE;

  for (guint i = 0; i < 10000; i++)
    {
      guint attempt = 1 + i % 6;
      double base = pow (2.0, attempt - 1);
      double wait = vt_schedule_backoff (&config, attempt, rand);

      g_assert_cmpfloat (wait, >=, base - 0.5);
      g_assert_cmpfloat (wait, <=, base + 0.5);
      saw_below |= wait < base - 0.4;
      saw_above |= wait > base + 0.4;
    }

  /* The offsets really span both sides. */
  g_assert_true (saw_below);
  g_assert_true (saw_above);
}

static void
test_backoff_never_negative (void)
{
  VtScheduleConfig config = seed_config ();
  g_autoptr(GRand) rand = g_rand_new_with_seed (SEED);
  guint zeros = 0;

  config.initial_wait = 0.1;
  config.jitter = 0.5;
  for (guint i = 0; i < 1000; i++)
    {
      double wait = vt_schedule_backoff (&config, 1, rand);

      g_assert_cmpfloat (wait, >=, 0.0);
      g_assert_cmpfloat (wait, <=, 0.6);
      zeros += wait == 0.0;
    }

  /* 0.1 + U(-0.5, 0.5) is negative 40% of the time: those clamp to 0. */
  g_assert_cmpuint (zeros, >, 300);
  g_assert_cmpuint (zeros, <, 500);
}

static void
test_backoff_full_jitter (void)
{
  VtScheduleConfig config = seed_config ();
  g_autoptr(GRand) rand = g_rand_new_with_seed (SEED);
  g_autoptr(GRand) replay = g_rand_new_with_seed (SEED);

  config.jitter_mode = VT_JITTER_MODE_FULL;
  for (guint attempt = 1; attempt <= 6; attempt++)
    {
      double base = pow (2.0, attempt - 1);
      double wait = vt_schedule_backoff (&config, attempt, rand);

      g_assert_cmpfloat_with_epsilon (wait, g_rand_double_range (replay, 0, base), 1e-12);
      g_assert_cmpfloat (wait, >=, 0);
      g_assert_cmpfloat (wait, <, base);
    }
}

/* Follows a job that never ends with the plain schedule: the instants of
 * the requests after the first, in @times. Returns how many were made in
 * all, the first included. */
static guint
follow_pending (const VtScheduleConfig *config,
                GRand                  *rand,
                double                 *times,
                guint                   most)
{
  double now = 0, delay;
  guint attempts = 1;

  while (vt_schedule_next_delay (config, attempts, now, NULL, NULL, rand, &delay))
    {
      now += delay;
      g_assert_cmpuint (attempts - 1, <, most);
      times[attempts++ - 1] = now;
    }
  return attempts;
}

/* Without jitter, a job that never ends is asked at exactly @expected
 * (after the first request), and no more. */
static void
assert_cold_times (VtScheduleConfig *config,
                   const double     *expected,
                   guint             n_expected)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (SEED);
  double times[64];

  config->jitter = 0;
  g_assert_cmpuint (follow_pending (config, rand, times, G_N_ELEMENTS (times)), ==, n_expected + 1);
  for (guint i = 0; i < n_expected; i++)
    g_assert_cmpfloat_with_epsilon (times[i], expected[i], 1e-9);
}

/* The seed gives up when the next wait would pass the deadline, with
 * attempts left. The plain schedule doubles its waits until the attempts
 * left could cover the time left at the current wait, then shares the
 * time left evenly among them: without jitter the seed's defaults ask at
 * 0, 1, 3, 7, 15 and then every 9 s, the tenth request on the deadline. */
static void
test_cold_schedule_exact (void)
{
  VtScheduleConfig config = seed_config ();
  const double expected[] = { 1, 3, 7, 15, 24, 33, 42, 51, 60 };

  assert_cold_times (&config, expected, G_N_ELEMENTS (expected));
}

/* With the seed's jitter, a seeded GRand pins every wait: the doubling
 * ones carry their offset, the even ones share out what is left to the
 * deadline. To the millisecond, and by replaying the draws. */
static void
test_cold_schedule_seeded_jitter (void)
{
  VtScheduleConfig config = seed_config ();
  g_autoptr(GRand) rand = g_rand_new_with_seed (SEED);
  g_autoptr(GRand) replay = g_rand_new_with_seed (SEED);
  const double expected[] = { 1.0756, 3.4606, 6.9907, 14.6808, 23.7446,
                              32.8085, 41.8723, 50.9362, 60.0 };
  double times[64], now = 0;

  g_assert_cmpuint (follow_pending (&config, rand, times, G_N_ELEMENTS (times)), ==, 10);
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      double backoff = pow (2.0, i) + g_rand_double_range (replay, -0.5, 0.5);
      double even = (60.0 - now) / (10 - (i + 1));

      g_assert_cmpfloat_with_epsilon (times[i], expected[i], 5e-4);
      g_assert_cmpfloat_with_epsilon (times[i] - now, MIN (backoff, even), 1e-12);
      now = times[i];
    }
  /* The switch to even waits came at the fifth: 16 s ± 0.5 is more than
   * the 45.3 s left shared by five. */
  g_assert_cmpfloat (times[3] - times[2], <, (60.0 - times[2]) / 6);
  g_assert_cmpfloat_with_epsilon (times[4] - times[3], (60.0 - times[3]) / 5, 1e-12);
}

/* A job that never ends gets every attempt, the last on the deadline (a
 * job that ends within the budget is never a timeout), none after it.
 * Over many seeds and settings, both jitter modes; doubling alone makes
 * 7, 7, 7, 10, 6, 11 and 8 requests in these, half the cap or more. */
static void
test_cold_schedule_every_attempt (void)
{
  const struct { double initial, factor; guint attempts; double budget; } cases[] = {
    { 1.0, 2.0, 10, 60.0 }, { 1.0, 2.0, 4, 60.0 }, { 1.0, 2.0, 14, 60.0 },
    { 0.5, 1.5, 10, 30.0 }, { 5.0, 3.0, 6, 600.0 }, { 2.0, 1.0, 12, 20.0 },
    { 0.1, 2.0, 16, 10.0 },
  };

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    for (guint mode = 0; mode < 2; mode++)
      for (guint seed = 0; seed < 50; seed++)
        {
          VtScheduleConfig config = seed_config ();
          g_autoptr(GRand) rand = g_rand_new_with_seed (SEED + seed);
          double times[64];
          guint made;

          config.initial_wait = cases[c].initial;
          config.backoff_factor = cases[c].factor;
          config.max_attempts = cases[c].attempts;
          config.max_wait_time = cases[c].budget;
          config.jitter_mode = mode == 0 ? VT_JITTER_MODE_SYMMETRIC : VT_JITTER_MODE_FULL;

          made = follow_pending (&config, rand, times, G_N_ELEMENTS (times));
          g_assert_cmpuint (made, ==, config.max_attempts);
          for (guint i = 1; i + 1 < made; i++)
            g_assert_cmpfloat (times[i], >=, times[i - 1]);
          g_assert_cmpfloat_with_epsilon (times[made - 2], config.max_wait_time, 1e-9);
        }
}

/* The earlier schedule, doubling to the deadline, is still there: with
 * no attempt cap, with as many attempts as it used (7 with the defaults:
 * the attempts left never cover the time left before the last wait), and
 * with a cap more than twice that, a safety net rather than a budget. */
static void
test_cold_schedule_pure_doubling (void)
{
  const guint caps[] = { 0, 7, 15, 1000 };
  const double expected[] = { 1, 3, 7, 15, 31, 60 };

  for (guint c = 0; c < G_N_ELEMENTS (caps); c++)
    {
      VtScheduleConfig config = seed_config ();

      config.max_attempts = caps[c];
      assert_cold_times (&config, expected, G_N_ELEMENTS (expected));
    }
}

static void
test_fit_deadline (void)
{
  VtScheduleConfig config = seed_config ();
  double fitted = -1;

  g_assert_true (vt_schedule_fit_deadline (&config, 50.0, 16.0, &fitted));
  g_assert_cmpfloat_with_epsilon (fitted, 10.0, 1e-9);
  g_assert_true (vt_schedule_fit_deadline (&config, 10.0, 4.0, &fitted));
  g_assert_cmpfloat_with_epsilon (fitted, 4.0, 1e-9);
  g_assert_false (vt_schedule_fit_deadline (&config, 60.0, 1.0, &fitted));
  g_assert_false (vt_schedule_fit_deadline (&config, 61.0, 1.0, &fitted));
}

static void
test_attempt_cap (void)
{
  VtScheduleConfig config = seed_config ();
  g_autoptr(GRand) rand = g_rand_new_with_seed (SEED);
  double delay;

  config.max_wait_time = 1e9;
  g_assert_true (vt_schedule_next_delay (&config, 9, 0.0, NULL, NULL, rand, &delay));
  g_assert_false (vt_schedule_next_delay (&config, 10, 0.0, NULL, NULL, rand, &delay));
  g_assert_false (vt_schedule_next_delay (&config, 11, 0.0, NULL, NULL, rand, &delay));

  /* 0 lifts the cap. */
  config.max_attempts = 0;
  g_assert_true (vt_schedule_next_delay (&config, 1000, 0.0, NULL, NULL, rand, &delay));
}

static void
test_hints_preferred_and_clamped (void)
{
  VtScheduleConfig config = seed_config ();
  g_autoptr(GRand) rand = g_rand_new_with_seed (SEED);
  VtScheduleHints hints = VT_SCHEDULE_NO_HINTS;
  double delay;

  g_assert_cmpfloat (vt_schedule_hinted (&config, &hints), <, 0);
  g_assert_cmpfloat (vt_schedule_hinted (&config, NULL), <, 0);

  hints.retry_after = 3;
  g_assert_true (vt_schedule_next_delay (&config, 1, 0.0, &hints, NULL, rand, &delay));
  g_assert_cmpfloat_with_epsilon (delay, 3.0, 1e-9);

  /* An ETA says when the job ends: it wins over Retry-After. */
  hints.eta = 7.5;
  g_assert_true (vt_schedule_next_delay (&config, 1, 0.0, &hints, NULL, rand, &delay));
  g_assert_cmpfloat_with_epsilon (delay, 7.5, 1e-9);

  hints.eta = 0.0;
  g_assert_cmpfloat_with_epsilon (vt_schedule_hinted (&config, &hints), 0.05, 1e-9);
  hints.eta = 500.0;
  g_assert_cmpfloat_with_epsilon (vt_schedule_hinted (&config, &hints), 30.0, 1e-9);

  /* And the deadline still holds. */
  g_assert_true (vt_schedule_next_delay (&config, 1, 55.0, &hints, NULL, rand, &delay));
  g_assert_cmpfloat_with_epsilon (delay, 5.0, 1e-9);
}

static void
test_retry_policy (void)
{
  VtScheduleConfig config = seed_config ();
  g_autoptr(GRand) rand = g_rand_new_with_seed (SEED);
  g_autoptr(GRand) replay = g_rand_new_with_seed (SEED);
  double delay;

  /* Equal jitter: half the base fixed, half random. */
  for (guint failures = 1; failures <= 8; failures++)
    {
      double base = MIN (pow (2.0, failures - 1), config.max_interval);

      g_assert_true (vt_schedule_retry_delay (&config, failures, 0.0, -1, rand, &delay));
      g_assert_cmpfloat_with_epsilon (delay,
                                      base / 2 + g_rand_double_range (replay, 0, base / 2),
                                      1e-12);
      g_assert_cmpfloat (delay, >=, base / 2);
      g_assert_cmpfloat (delay, <=, base);
    }

  /* Retry-After wins, past max_interval, within the deadline. */
  g_assert_true (vt_schedule_retry_delay (&config, 1, 0.0, 12, rand, &delay));
  g_assert_cmpfloat_with_epsilon (delay, 12.0, 1e-9);
  g_assert_true (vt_schedule_retry_delay (&config, 1, 0.0, 45, rand, &delay));
  g_assert_cmpfloat_with_epsilon (delay, 45.0, 1e-9);
  g_assert_true (vt_schedule_retry_delay (&config, 1, 0.0, 120, rand, &delay));
  g_assert_cmpfloat_with_epsilon (delay, 60.0, 1e-9);
  g_assert_true (vt_schedule_retry_delay (&config, 1, 50.0, 12, rand, &delay));
  g_assert_cmpfloat_with_epsilon (delay, 10.0, 1e-9);
  g_assert_false (vt_schedule_retry_delay (&config, 1, 60.0, 12, rand, &delay));
}

static void
test_eta_calibration (void)
{
  VtScheduleConfig config = seed_config ();
  VtEtaSample first = { 0.0, 24.0, 0.0, TRUE };
  VtEtaSample second = { 10.0, 12.0, 0.0, TRUE };
  VtEtaSample garbage = { 10.0, 30.0, 0.0, TRUE };
  VtEtaSample short_eta = { 0.0, 0.5, 0.0, TRUE };
  VtEtaSample ours_first = { 0.0, 24.0, 0.2, FALSE };
  VtEtaSample ours_second = { 10.0, 12.0, 0.05, FALSE };

  /* One long ETA of unknown quality: probe halfway. */
  g_assert_cmpfloat_with_epsilon (vt_schedule_eta_wait (&config, NULL, &first), 12.0, 1e-9);
  /* A short one: go for it, just after. */
  g_assert_cmpfloat_with_epsilon (vt_schedule_eta_wait (&config, NULL, &short_eta), 0.51, 1e-9);
  /* The ETA fell 12 s in 10 s of the job's life on the server: it
   * overestimates by 1.2, so the 12 s it announces are 10 s, plus the
   * 2 % margin. */
  g_assert_cmpfloat_with_epsilon (vt_schedule_eta_wait (&config, &first, &second), 10.2, 1e-9);
  /* A rising ETA is no steady factor: take it as it is. */
  g_assert_cmpfloat_with_epsilon (vt_schedule_eta_wait (&config, &first, &garbage), 30.6, 1e-9);
  g_assert_cmpfloat (vt_schedule_eta_wait (&config, &first, NULL), <, 0);

  /* Timed by our clock, the 10 s between the answers may have been up to
   * 10.2 s between the ETAs (the first was computed up to its 0.2 s
   * round trip before it arrived): a factor up to 2 % too large, so the
   * wait is stretched by 2 %: 10 × (1.02 + 0.02). */
  g_assert_cmpfloat_with_epsilon (vt_schedule_eta_wait (&config, &ours_first, &ours_second),
                                  10.4, 1e-9);
  /* Samples on two different clocks do not compare: probe again. */
  g_assert_cmpfloat_with_epsilon (vt_schedule_eta_wait (&config, &ours_first, &second), 6.0, 1e-9);
}

/* A plan made by hand, to check how a watch follows one. */
static VtSchedulePlan
hand_plan (void)
{
  VtSchedulePlan plan = { 0 };
  const double polls[] = { 20.0, 22.5, 25.0, 27.5, 35.0, 60.0 };

  plan.n_polls = G_N_ELEMENTS (polls);
  plan.step = 2.5;
  memcpy (plan.polls, polls, sizeof polls);
  return plan;
}

static void
test_plan_follow (void)
{
  VtScheduleConfig config = seed_config ();
  VtSchedulePlan plan = hand_plan ();
  g_autoptr(GRand) rand = g_rand_new_with_seed (SEED);
  double delay;

  /* Poll by poll, whatever the hints are not saying. */
  g_assert_true (vt_schedule_next_delay (&config, 1, 0.01, NULL, &plan, rand, &delay));
  g_assert_cmpfloat_with_epsilon (delay, 19.99, 1e-9);
  g_assert_true (vt_schedule_planned_delay (&config, &plan, 2, 20.03, &delay));
  g_assert_cmpfloat_with_epsilon (delay, 2.47, 1e-9);
  g_assert_true (vt_schedule_planned_delay (&config, &plan, 5, 27.6, &delay));
  g_assert_cmpfloat_with_epsilon (delay, 7.4, 1e-9);
  g_assert_true (vt_schedule_planned_delay (&config, &plan, 6, 35.0, &delay));
  g_assert_cmpfloat_with_epsilon (delay, 25.0, 1e-9);
  /* Past the deadline's poll: the budget is spent. */
  g_assert_false (vt_schedule_planned_delay (&config, &plan, 7, 60.0, &delay));

  /* A watch's shift moves every poll by its share of its gap from the
   * one before, at most a step, but the deadline's. */
  plan.shift = 0.4;
  g_assert_true (vt_schedule_planned_delay (&config, &plan, 1, 0.0, &delay));
  g_assert_cmpfloat_with_epsilon (delay, 21.0, 1e-9);
  g_assert_true (vt_schedule_planned_delay (&config, &plan, 6, 36.0, &delay));
  g_assert_cmpfloat_with_epsilon (delay, 24.0, 1e-9);

  /* Gaps narrower than the step move by their own share: a plan that
   * doubles from 2 s before its 5 s step, shifted by half. */
  {
    VtSchedulePlan doubling = { .n_polls = 5, .step = 5.0, .shift = 0.5, .start = 1.0,
                                .polls = { 2.0, 4.0, 8.0, 13.0, 60.0 } };
    const double shifted[] = { 2.5, 5.0, 10.0, 15.5 };
    double now = 0;

    for (guint i = 0; i < G_N_ELEMENTS (shifted); i++)
      {
        g_assert_true (vt_schedule_planned_delay (&config, &doubling, i + 1, now, &delay));
        now += delay;
        g_assert_cmpfloat_with_epsilon (now, shifted[i], 1e-9);
      }
  }

  /* Two attempts left (retries spent the others) and four polls to go:
   * the earliest two are skipped, the deadline's is kept. */
  plan.shift = 0;
  g_assert_true (vt_schedule_planned_delay (&config, &plan, 8, 22.6, &delay));
  g_assert_cmpfloat_with_epsilon (delay, 35.0 - 22.6, 1e-9);
  g_assert_true (vt_schedule_planned_delay (&config, &plan, 9, 35.0, &delay));
  g_assert_cmpfloat_with_epsilon (delay, 25.0, 1e-9);
  g_assert_false (vt_schedule_next_delay (&config, 10, 35.0, NULL, &plan, rand, &delay));

  /* Waits stay within the intervals' bounds. */
  config.min_interval = 1.0;
  config.max_interval = 10.0;
  g_assert_true (vt_schedule_planned_delay (&config, &plan, 2, 19.9, &delay));
  g_assert_cmpfloat_with_epsilon (delay, 1.0, 1e-9);
  g_assert_true (vt_schedule_planned_delay (&config, &plan, 6, 35.0, &delay));
  g_assert_cmpfloat_with_epsilon (delay, 10.0, 1e-9);

  /* What the server says still comes first. */
  {
    VtScheduleHints hints = { 4.0, -1.0 };

    g_assert_true (vt_schedule_next_delay (&config, 2, 20.0, &hints, &plan, rand, &delay));
    g_assert_cmpfloat_with_epsilon (delay, 4.0, 1e-9);
  }
}

/* 201 jobs learned exactly, four at 30 s and one every 0.1 s from 20 to
 * 39.6 s: the bulk's points are 0.0975 s apart (the 21st to the 181st,
 * 22.0 to 37.6 s, over 160 gaps). */
static void
build_uniform_estimate (VtDurationEstimate *estimate)
{
  g_autoptr(VtDurationModel) model = vt_duration_model_new ();

  for (guint i = 0; i < 4; i++)
    vt_duration_model_add (model, 30.0);
  for (guint i = 0; i <= 196; i++)
    vt_duration_model_add (model, 20.0 + 0.1 * i);
  g_assert_true (vt_duration_model_estimate (model, estimate));
  g_assert_cmpuint (estimate->n_points, ==, 201);
}

static void
test_plan_build (void)
{
  VtScheduleConfig config = seed_config ();
  g_autoptr(VtDurationModel) model = vt_duration_model_new ();
  const double backoff[] = { 1, 3, 7, 15, 31 };
  VtDurationEstimate estimate;
  VtScheduleSpan span;
  VtSchedulePlan plan, again;
  double spacing = 15.6 / 160, budget;

  /* Nothing learned, or too little: no plan, the plain schedule rules. */
  g_assert_false (vt_schedule_plan_build (&config, NULL, &plan));
  for (guint i = 0; i < VT_DURATION_MODEL_MIN_SAMPLES - 1; i++)
    vt_duration_model_add (model, 30.0);
  g_assert_true (vt_duration_model_estimate (model, &estimate));
  g_assert_false (vt_schedule_plan_build (&config, &estimate, &plan));

  build_uniform_estimate (&estimate);
  g_assert_cmpfloat_with_epsilon (vt_duration_estimate_spacing (&estimate), spacing, 1e-9);

  /* The span: from the shortest job a spacing earlier, to the 193rd of
   * the 201 two spacings later. Short jobs' relative spacing would count
   * from the 11th, 21 s, less half a spacing, and the backoff's
   * factor 2 allows gaps as long as the time elapsed. */
  vt_schedule_span_from_estimate (&config, &estimate, &span);
  g_assert_cmpfloat_with_epsilon (span.start, 20.0 - spacing, 1e-9);
  g_assert_cmpfloat_with_epsilon (span.end, 38.8 + 2 * spacing, 1e-9);
  g_assert_cmpfloat_with_epsilon (span.relative_from, 21.0 - 0.5 * spacing, 1e-9);
  g_assert_cmpfloat (span.ratio, ==, 1.0);
  g_assert_false (span.fill);

  /* The budget: 90 % of the six requests the seed's doubling makes on
   * these jobs before its deadline request. */
  budget = vt_schedule_plan_budget (&config, &estimate);
  g_assert_cmpfloat_with_epsilon (vt_schedule_expected_requests (&estimate, backoff, 5), 6.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (budget, 0.9 * 6.0, 1e-9);

  /* The plan: a step into the span, then a step apart, eight polls and
   * the deadline's, the seed's ten requests; the eighth a step past the
   * span's end. The attempts bind: that makes the step a seventh of the
   * span, 2.73 s, at 5.14 requests a job. */
  g_assert_true (vt_schedule_plan_build (&config, &estimate, &plan));
  g_assert_cmpuint (plan.n_polls, ==, 9);
  g_assert_cmpfloat_with_epsilon (plan.step, (span.end - span.start) / 7, 1e-6);
  g_assert_cmpfloat_with_epsilon (plan.step, 2.7275, 0.0001);
  g_assert_cmpfloat_with_epsilon (plan.polls[0], span.start + plan.step, 1e-9);
  g_assert_cmpfloat_with_epsilon (plan.start, span.start, 1e-9);
  for (guint i = 1; i < 8; i++)
    g_assert_cmpfloat_with_epsilon (plan.polls[i] - plan.polls[i - 1], plan.step, 1e-9);
  g_assert_cmpfloat_with_epsilon (plan.polls[7], span.end + plan.step, 1e-5);
  g_assert_cmpfloat (plan.polls[8], ==, 60.0);
  g_assert_cmpfloat (vt_schedule_expected_requests (&estimate, plan.polls, plan.n_polls), <=, budget);
  g_assert_cmpfloat_with_epsilon (vt_schedule_expected_requests (&estimate, plan.polls, plan.n_polls),
                                  5.139, 0.001);

  /* It is the span's plan at that step, and the smallest step: one a
   * hundredth shorter does not reach a step past the span's end. */
  g_assert_true (vt_schedule_plan_lay_out (&config, &span, plan.step, &again));
  g_assert_cmpmem (again.polls, again.n_polls * sizeof (double), plan.polls, plan.n_polls * sizeof (double));
  g_assert_false (vt_schedule_plan_lay_out (&config, &span, plan.step - 0.01, &again));
  g_assert_true (vt_schedule_plan_lay_out (&config, &span, plan.step + 0.01, &again));

  /* With no attempt cap the budget binds instead: the smallest step that
   * keeps to it, one a hundredth shorter costs more. Polls past the last
   * job cost nothing, so they go on a step apart to the deadline. */
  config.max_attempts = 0;
  g_assert_true (vt_schedule_plan_build (&config, &estimate, &plan));
  g_assert_cmpfloat (plan.step, <, 2.7275);
  g_assert_cmpfloat (vt_schedule_expected_requests (&estimate, plan.polls, plan.n_polls), <=, budget);
  g_assert_true (vt_schedule_plan_lay_out (&config, &span, plan.step - 0.01, &again));
  g_assert_cmpfloat (vt_schedule_expected_requests (&estimate, again.polls, again.n_polls), >, budget);
  for (guint i = 1; i + 1 < plan.n_polls; i++)
    g_assert_cmpfloat_with_epsilon (plan.polls[i] - plan.polls[i - 1], plan.step, 1e-9);
  g_assert_cmpfloat (60.0 - plan.polls[plan.n_polls - 2], <=, plan.step);
  config.max_attempts = 10;

  /* Jobs that end past the deadline: the polls stop there. */
  {
    g_autoptr(VtDurationModel) slow = vt_duration_model_new ();

    for (guint i = 0; i < 50; i++)
      vt_duration_model_add (slow, 50.0 + i);
    g_assert_true (vt_duration_model_estimate (slow, &estimate));
    g_assert_true (vt_schedule_plan_build (&config, &estimate, &plan));
    g_assert_cmpfloat (plan.polls[plan.n_polls - 1], ==, 60.0);
    g_assert_cmpuint (plan.n_polls, <=, 9);
    for (guint i = 1; i < plan.n_polls; i++)
      g_assert_cmpfloat (plan.polls[i], >, plan.polls[i - 1]);
  }
}

/* The smallest step at which @span's plan fits the attempts and the
 * budget, by bisection: the builder's search, done here apart. */
static double
smallest_step (const VtScheduleConfig   *config,
               const VtScheduleSpan     *span,
               const VtDurationEstimate *estimate)
{
  double budget = vt_schedule_plan_budget (config, estimate), low = 0.05, high = 30.0;
  VtSchedulePlan plan;

  for (guint i = 0; i < 60; i++)
    {
      double step = (low + high) / 2;

      if (vt_schedule_plan_lay_out (config, span, step, &plan) &&
          vt_schedule_expected_requests (estimate, plan.polls, plan.n_polls) <= budget)
        high = step;
      else
        low = step;
    }
  return high;
}

/* The relative spacing of @plan: its gaps, never wider than the step,
 * double from its first poll until they reach the step. */
static void
assert_doubles_then_even (const VtSchedulePlan *plan)
{
  for (guint i = 1; i + 1 < plan->n_polls; i++)
    g_assert_cmpfloat_with_epsilon (plan->polls[i] - plan->polls[i - 1],
                                    MIN (plan->step, plan->polls[i - 1]), 1e-9);
}

/* Where short jobs end among longer ones, no gap is wider than the time
 * elapsed (the backoff's relative spacing, factor 2) from the shortest
 * 5 % on, the first poll a factor 2 past them, as long as that costs the
 * step no more than a quarter over even polls. */
static void
test_plan_relative_spacing (void)
{
  VtScheduleConfig config = seed_config ();
  g_autoptr(VtDurationModel) model = vt_duration_model_new ();
  VtDurationEstimate estimate;
  VtScheduleSpan span, even, earlier;
  VtSchedulePlan plan;
  double even_step;

  /* A few short jobs, 3 to 3.9 s, among many of 20 to 40 s: cheap. */
  for (guint i = 0; i < 10; i++)
    vt_duration_model_add (model, 3.0 + 0.1 * i);
  for (guint i = 0; i < 90; i++)
    vt_duration_model_add (model, 20.0 + 20.0 * i / 89);
  g_assert_true (vt_duration_model_estimate (model, &estimate));
  vt_schedule_span_from_estimate (&config, &estimate, &span);
  g_assert_cmpfloat_with_epsilon (span.relative_from,
                                  3.4 - 0.5 * vt_duration_estimate_spacing (&estimate), 1e-9);
  g_assert_true (vt_schedule_plan_build (&config, &estimate, &plan));
  g_assert_cmpfloat_with_epsilon (plan.polls[0], 2 * span.relative_from, 1e-9);
  g_assert_cmpfloat (plan.polls[0], <, span.start + plan.step);
  g_assert_cmpfloat_with_epsilon (plan.step, smallest_step (&config, &span, &estimate), 1e-6);
  assert_doubles_then_even (&plan);
  g_assert_cmpfloat (plan.polls[plan.n_polls - 1], ==, 60.0);

  /* Long-tailed jobs, 1 s to 46.9 s, each 4 % longer than the one
   * before: doubling from 2.3 s would need a step far wider than even
   * polls do, so it starts later, just where it needs no more than a
   * quarter more: a little earlier needs more. */
  g_clear_pointer (&model, vt_duration_model_free);
  model = vt_duration_model_new ();
  for (guint i = 0; i < 99; i++)
    vt_duration_model_add (model, pow (1.04, i));
  g_assert_true (vt_duration_model_estimate (model, &estimate));
  vt_schedule_span_from_estimate (&config, &estimate, &span);
  even = span;
  even.ratio = INFINITY;
  even_step = smallest_step (&config, &even, &estimate);
  g_assert_cmpfloat (smallest_step (&config, &span, &estimate), >, 1.25 * even_step);

  g_assert_true (vt_schedule_plan_build (&config, &estimate, &plan));
  g_assert_cmpfloat (plan.step, <=, 1.25 * even_step + 1e-6);
  g_assert_cmpfloat (plan.step, >, even_step);
  g_assert_cmpfloat (plan.polls[0] / 2, >, span.relative_from);
  assert_doubles_then_even (&plan);
  g_assert_cmpfloat (plan.polls[plan.n_polls - 1], ==, 60.0);
  g_assert_cmpfloat (vt_schedule_expected_requests (&estimate, plan.polls, plan.n_polls), <=,
                     vt_schedule_plan_budget (&config, &estimate));
  earlier = span;
  earlier.relative_from = plan.polls[0] / 2 - 0.01;
  g_assert_cmpfloat (smallest_step (&config, &earlier, &estimate), >, 1.25 * even_step);

  /* A backoff factor of 1 has no relative spacing to keep: even polls. */
  config.backoff_factor = 1.0;
  g_assert_true (vt_schedule_plan_build (&config, &estimate, &plan));
  for (guint i = 1; i + 1 < plan.n_polls; i++)
    g_assert_cmpfloat_with_epsilon (plan.polls[i] - plan.polls[i - 1], plan.step, 1e-9);
}

/* Whatever was learned and however a watch is shifted, a job that never
 * ends is asked about up to the deadline, the last request on it, within
 * the attempts, no wait past max_interval: a job that ends inside the
 * budget is never a timeout. */
static void
test_plan_reaches_deadline (void)
{
  const double spans[][2] = { { 20, 40 }, { 5, 10 }, { 40, 55 }, { 1, 60 }, { 2, 4 }, { 25, 26 },
                              { 3, 25 }, { 3, 26 }, { 3, 27 }, { 4, 28 } };
  VtScheduleConfig config = seed_config ();
  g_autoptr(GRand) rand = g_rand_new_with_seed (SEED);

  for (guint m = 0; m <= G_N_ELEMENTS (spans); m++)
    {
      g_autoptr(VtDurationModel) model = vt_duration_model_new ();
      VtDurationEstimate estimate;
      VtSchedulePlan plan;

      /* The spans above, learned through polls 3 s apart, and a long
       * tail (4 % longer each job). */
      for (guint i = 0; i < 40; i++)
        {
          double d = m < G_N_ELEMENTS (spans) ? spans[m][0] + (spans[m][1] - spans[m][0]) * i / 39
                                              : pow (1.04, i + 20);
          vt_duration_model_add_interval (model, MAX (d - 1.5, 0.0), d + 1.5);
        }
      g_assert_true (vt_duration_model_estimate (model, &estimate));
      g_assert_true (vt_schedule_plan_build (&config, &estimate, &plan));

      for (int k = -4; k <= 4; k++)
        {
          double now = 0, delay;
          guint attempts = 1;

          plan.shift = k / 8.0;
          while (vt_schedule_next_delay (&config, attempts, now, NULL, &plan, rand, &delay))
            {
              g_assert_cmpfloat (delay, <=, config.max_interval + 1e-9);
              now += delay;
              attempts++;
            }
          g_assert_cmpuint (attempts, <=, config.max_attempts);
          g_assert_cmpfloat_with_epsilon (now, config.max_wait_time, 1e-9);
        }
    }
}

static void
test_duration_model_ring (void)
{
  g_autoptr(VtDurationModel) model = vt_duration_model_new ();
  g_autoptr(GArray) samples = NULL;

  for (guint i = 0; i < VT_DURATION_MODEL_CAPACITY + 10; i++)
    vt_duration_model_add (model, i);
  vt_duration_model_add (model, -1);
  vt_duration_model_add (model, NAN);
  vt_duration_model_add_interval (model, 5, 4);

  g_assert_cmpuint (vt_duration_model_size (model), ==, VT_DURATION_MODEL_CAPACITY);
  /* Refused samples do not count as changes. */
  g_assert_cmpuint (vt_duration_model_version (model), ==, VT_DURATION_MODEL_CAPACITY + 10);
  samples = vt_duration_model_dup_samples (model);
  g_assert_cmpuint (samples->len, ==, 2 * VT_DURATION_MODEL_CAPACITY);
  /* The oldest ten went; order of arrival is kept; exact samples are
   * intervals of no width. */
  g_assert_cmpfloat (g_array_index (samples, double, 0), ==, 10.0);
  g_assert_cmpfloat (g_array_index (samples, double, 1), ==, 10.0);
  g_assert_cmpfloat (g_array_index (samples, double, samples->len - 1), ==,
                     VT_DURATION_MODEL_CAPACITY + 9.0);
}

/* Exact durations: the estimate is their empirical distribution. */
static void
test_duration_estimate_exact (void)
{
  g_autoptr(VtDurationModel) model = vt_duration_model_new ();
  VtDurationEstimate estimate;

  g_assert_false (vt_duration_model_estimate (model, &estimate));

  for (guint i = 100; i >= 1; i--)
    vt_duration_model_add (model, 0.4 * i);
  g_assert_true (vt_duration_model_estimate (model, &estimate));
  g_assert_cmpuint (estimate.n_points, ==, 100);
  for (guint i = 1; i < estimate.n_points; i++)
    g_assert_cmpfloat (estimate.points[i], >=, estimate.points[i - 1]);

  g_assert_cmpfloat (vt_duration_estimate_cdf (&estimate, 0.0), ==, 0.0);
  g_assert_cmpfloat_with_epsilon (vt_duration_estimate_cdf (&estimate, 20.0), 0.5, 1e-12);
  g_assert_cmpfloat_with_epsilon (vt_duration_estimate_cdf (&estimate, 20.1), 0.5, 1e-12);
  g_assert_cmpfloat (vt_duration_estimate_cdf (&estimate, 1000.0), ==, 1.0);
  g_assert_cmpfloat_with_epsilon (vt_duration_estimate_quantile (&estimate, 0.5), 20.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (vt_duration_estimate_quantile (&estimate, 0.96), 38.4, 1e-9);
  g_assert_cmpfloat_with_epsilon (vt_duration_estimate_quantile (&estimate, 0.0), 0.4, 1e-9);
  g_assert_cmpfloat_with_epsilon (vt_duration_estimate_quantile (&estimate, 1.0), 40.0, 1e-9);
  /* The bulk's spacing: the mean gap from the 11th point to the 90th. */
  g_assert_cmpfloat_with_epsilon (vt_duration_estimate_spacing (&estimate), 0.4, 1e-9);
}

/* What a poll saw, (last pending, first final], counts as its middle.
 * Much wider samples than usual either fall outside the narrow ones, and
 * continue the bulk's density past its edge, or span them, and are left
 * out. */
static void
test_duration_estimate_intervals (void)
{
  g_autoptr(VtDurationModel) model = vt_duration_model_new ();
  VtDurationEstimate estimate;

  /* Too few narrow samples: every middle counts. */
  for (guint i = 0; i < 3; i++)
    vt_duration_model_add_interval (model, 30, 32);
  vt_duration_model_add_interval (model, 10, 40);
  vt_duration_model_add_interval (model, 0, 29);
  vt_duration_model_add_interval (model, 31, 45);
  g_assert_true (vt_duration_model_estimate (model, &estimate));
  g_assert_cmpuint (estimate.n_points, ==, 6);
  g_assert_cmpfloat (estimate.points[0], ==, 14.5);
  g_assert_cmpfloat (estimate.points[5], ==, 38.0);

  /* Twenty samples of 2 s, a job ending every half second from 31 to
   * 40.5 s: their bulk is 0.5 s apart. Of the wide ones, the one that
   * spans them goes; the two seen end only at a first poll, by 29 and by
   * 31 s, continue that spacing below the narrow ones, from no later than
   * they were seen; the one seen only past 40 s, above. */
  g_clear_pointer (&model, vt_duration_model_free);
  model = vt_duration_model_new ();
  for (guint i = 0; i < 20; i++)
    vt_duration_model_add_interval (model, 30 + 0.5 * i, 32 + 0.5 * i);
  vt_duration_model_add_interval (model, 0, 29);
  vt_duration_model_add_interval (model, 0, 31);
  vt_duration_model_add_interval (model, 20, 50);
  vt_duration_model_add_interval (model, 40, 60);
  g_assert_true (vt_duration_model_estimate (model, &estimate));
  g_assert_cmpuint (estimate.n_points, ==, 23);
  g_assert_cmpfloat_with_epsilon (estimate.points[0], 28.5, 1e-9);
  g_assert_cmpfloat_with_epsilon (estimate.points[1], 30.5, 1e-9);
  g_assert_cmpfloat_with_epsilon (estimate.points[2], 31.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (estimate.points[21], 40.5, 1e-9);
  g_assert_cmpfloat_with_epsilon (estimate.points[22], 41.0, 1e-9);

  /* Seven more seen end only at the first poll, at 31 s: each a spacing
   * further down, the more of them, the further the edge moves. */
  for (guint i = 0; i < 7; i++)
    vt_duration_model_add_interval (model, 0, 31);
  g_assert_true (vt_duration_model_estimate (model, &estimate));
  g_assert_cmpuint (estimate.n_points, ==, 30);
  for (guint i = 0; i < 9; i++)
    g_assert_cmpfloat_with_epsilon (estimate.points[i], 26.5 + 0.5 * i, 1e-9);
  g_assert_cmpfloat_with_epsilon (estimate.points[9], 31.0, 1e-9);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/schedule/backoff/exact", test_backoff_exact_without_jitter);
  g_test_add_func ("/schedule/backoff/seeded-jitter", test_backoff_exact_with_seeded_jitter);
  g_test_add_func ("/schedule/backoff/jitter-bounds", test_backoff_jitter_bounds);
  g_test_add_func ("/schedule/backoff/never-negative", test_backoff_never_negative);
  g_test_add_func ("/schedule/backoff/full-jitter", test_backoff_full_jitter);
  g_test_add_func ("/schedule/cold/exact", test_cold_schedule_exact);
  g_test_add_func ("/schedule/cold/seeded-jitter", test_cold_schedule_seeded_jitter);
  g_test_add_func ("/schedule/cold/every-attempt", test_cold_schedule_every_attempt);
  g_test_add_func ("/schedule/cold/pure-doubling", test_cold_schedule_pure_doubling);
  g_test_add_func ("/schedule/deadline/fit", test_fit_deadline);
  g_test_add_func ("/schedule/attempt-cap", test_attempt_cap);
  g_test_add_func ("/schedule/hints", test_hints_preferred_and_clamped);
  g_test_add_func ("/schedule/retry", test_retry_policy);
  g_test_add_func ("/schedule/eta-calibration", test_eta_calibration);
  g_test_add_func ("/schedule/plan/follow", test_plan_follow);
  g_test_add_func ("/schedule/plan/build", test_plan_build);
  g_test_add_func ("/schedule/plan/relative-spacing", test_plan_relative_spacing);
  g_test_add_func ("/schedule/plan/reaches-deadline", test_plan_reaches_deadline);
  g_test_add_func ("/schedule/duration-model", test_duration_model_ring);
  g_test_add_func ("/schedule/duration-estimate/exact", test_duration_estimate_exact);
  g_test_add_func ("/schedule/duration-estimate/intervals", test_duration_estimate_intervals);

  return g_test_run ();
}
