/* test-schedule.c: the polling and retry policies, with no network
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>

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

/* The seed gives up when the next wait would pass the deadline; we make the
 * last request at the deadline instead. Without jitter the seed's defaults
 * poll at 0, 1, 3, 7, 15, 31 and then, instead of giving up, at 60. */
static void
test_deadline_aware_last_attempt (void)
{
  VtScheduleConfig config = seed_config ();
  g_autoptr(GRand) rand = g_rand_new_with_seed (SEED);
  const double expected_times[] = { 0, 1, 3, 7, 15, 31, 60 };
  double now = 0;
  double delay;
  guint attempts = 1;

  config.jitter = 0;
  for (guint i = 1; i < G_N_ELEMENTS (expected_times); i++)
    {
      g_assert_true (vt_schedule_next_delay (&config, attempts, now, NULL, NULL, rand, &delay));
      now += delay;
      attempts++;
      g_assert_cmpfloat_with_epsilon (now, expected_times[i], 1e-9);
    }

  /* The budget is used up: stop, though attempts remain. */
  g_assert_cmpuint (attempts, <, config.max_attempts);
  g_assert_false (vt_schedule_next_delay (&config, attempts, now, NULL, NULL, rand, &delay));
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

static void
test_learned_schedule (void)
{
  VtScheduleConfig config = seed_config ();
  g_autoptr(VtDurationModel) model = vt_duration_model_new ();
  g_autoptr(GRand) rand = g_rand_new_with_seed (SEED);
  double delay, now;
  guint polls;

  /* Too few samples: no opinion, backoff rules. */
  for (guint i = 0; i < VT_DURATION_MODEL_MIN_SAMPLES - 1; i++)
    vt_duration_model_add (model, 20.0 + 5 * i);
  g_assert_false (vt_schedule_learned_delay (&config, model, 1, 0.0, &delay));

  /* Jobs of 20 to 40 s. */
  for (guint i = 0; i <= 100; i++)
    vt_duration_model_add (model, 20.0 + 0.2 * i);
  g_assert_cmpuint (vt_duration_model_size (model), ==, 105);
  g_assert_cmpfloat_with_epsilon (vt_duration_model_quantile (model, 0.0), 20.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (vt_duration_model_quantile (model, 1.0), 40.0, 1e-9);

  /* Nothing before the shortest jobs end. */
  g_assert_true (vt_schedule_learned_delay (&config, model, 1, 0.0, &delay));
  g_assert_cmpfloat (delay, >, 19.0);
  g_assert_cmpfloat (delay, <=, 20.5);

  /* Then a grid of eighths of the jobs: 20 s of uniform durations in
   * steps of about 2.5 s (within 5 to 15 % of the time elapsed). */
  config.max_attempts = 0;
  now = delay;
  for (polls = 1; now < 40.0 && polls < 20; polls++)
    {
      g_assert_true (vt_schedule_next_delay (&config, 2, now, NULL, model, rand, &delay));
      g_assert_cmpfloat (delay, <=, 0.15 * now + 1e-9);
      g_assert_cmpfloat (delay, >=, 0.05 * now - 1e-9);
      g_assert_cmpfloat (delay, <=, 3.0);
      now += delay;
    }
  g_assert_cmpuint (polls, <=, 10);
  g_assert_cmpfloat (now, <, 43.0);

  /* With two attempts left at 21 s, the steps must still reach the 60 s
   * deadline: x where 21 × (1 + x)² = 60. */
  config.max_attempts = 10;
  g_assert_true (vt_schedule_learned_delay (&config, model, 8, 21.0, &delay));
  g_assert_cmpfloat_with_epsilon (delay, 21.0 * (sqrt (60.0 / 21.0) - 1.0), 1e-9);

  /* Long past the longest job seen: back to backoff. */
  g_assert_false (vt_schedule_learned_delay (&config, model, 1, 60.0, &delay));
  config.max_wait_time = 1000;
  g_assert_true (vt_schedule_next_delay (&config, 3, 60.0, NULL, model, rand, &delay));
  g_assert_cmpfloat (delay, >=, 3.5);
  g_assert_cmpfloat (delay, <=, 4.5);
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
  samples = vt_duration_model_dup_samples (model);
  g_assert_cmpuint (samples->len, ==, 2 * VT_DURATION_MODEL_CAPACITY);
  /* The oldest ten went; order of arrival is kept; exact samples are
   * intervals of no width. */
  g_assert_cmpfloat (g_array_index (samples, double, 0), ==, 10.0);
  g_assert_cmpfloat (g_array_index (samples, double, 1), ==, 10.0);
  g_assert_cmpfloat (g_array_index (samples, double, samples->len - 1), ==,
                     VT_DURATION_MODEL_CAPACITY + 9.0);
  g_assert_cmpfloat (vt_duration_model_quantile (model, 0.0), ==, 10.0);
  g_assert_cmpfloat_with_epsilon (vt_duration_model_cdf (model, 10.0),
                                  1.0 / VT_DURATION_MODEL_CAPACITY, 1e-12);
}

/* What a poll saw, [last pending, first final], counts as spread evenly
 * over its width. */
static void
test_duration_model_intervals (void)
{
  g_autoptr(VtDurationModel) model = vt_duration_model_new ();

  vt_duration_model_add_interval (model, 10, 20);
  vt_duration_model_add (model, 30);

  g_assert_cmpfloat_with_epsilon (vt_duration_model_cdf (model, 5), 0.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (vt_duration_model_cdf (model, 15), 0.25, 1e-12);
  g_assert_cmpfloat_with_epsilon (vt_duration_model_cdf (model, 25), 0.5, 1e-12);
  g_assert_cmpfloat_with_epsilon (vt_duration_model_cdf (model, 30), 1.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (vt_duration_model_quantile (model, 0.0), 10.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (vt_duration_model_quantile (model, 0.25), 15.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (vt_duration_model_quantile (model, 0.5), 20.0, 1e-9);
  /* Past the interval's mass, the exact sample's step. */
  g_assert_cmpfloat_with_epsilon (vt_duration_model_quantile (model, 0.75), 30.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (vt_duration_model_quantile (model, 1.0), 30.0, 1e-9);
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
  g_test_add_func ("/schedule/deadline/last-attempt", test_deadline_aware_last_attempt);
  g_test_add_func ("/schedule/deadline/fit", test_fit_deadline);
  g_test_add_func ("/schedule/attempt-cap", test_attempt_cap);
  g_test_add_func ("/schedule/hints", test_hints_preferred_and_clamped);
  g_test_add_func ("/schedule/retry", test_retry_policy);
  g_test_add_func ("/schedule/eta-calibration", test_eta_calibration);
  g_test_add_func ("/schedule/learned", test_learned_schedule);
  g_test_add_func ("/schedule/duration-model", test_duration_model_ring);
  g_test_add_func ("/schedule/duration-model/intervals", test_duration_model_intervals);

  return g_test_run ();
}
