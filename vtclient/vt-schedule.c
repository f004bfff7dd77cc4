/* vt-schedule.c: when to ask next
 *
 * The schedule is a handful of pure functions over a configuration, the
 * number of requests made so far and the time used. It never touches the
 * network or the main loop, and draws randomness from a GRand it is given,
 * so tests pin every wait to the millisecond with a seeded GRand.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <math.h>

#include "vt-schedule-private.h"

/*
 * vt_schedule_backoff:
 * @attempts: requests made so far, all of which saw "pending" (>= 1)
 *
 * The seed's exponential backoff: initial × factor^(attempts-1), with
 * jitter applied according to the jitter mode, never below zero.
 */
double
vt_schedule_backoff (const VtScheduleConfig *config,
                     guint                   attempts,
                     GRand                  *rand)
{
  double base;

  g_return_val_if_fail (attempts >= 1, 0.0);

  base = config->initial_wait * pow (config->backoff_factor, attempts - 1);

  switch (config->jitter_mode)
    {
    case VT_JITTER_MODE_FULL:
      return base > 0 ? g_rand_double_range (rand, 0.0, base) : 0.0;

    case VT_JITTER_MODE_SYMMETRIC:
    default:
      if (config->jitter > 0)
        base += g_rand_double_range (rand, -config->jitter, config->jitter);
      return MAX (base, 0.0);
    }
}

/*
 * vt_schedule_hinted:
 *
 * The wait a server suggested, clamped to [min_interval, max_interval].
 * An ETA is preferred to Retry-After: it says when the job should end,
 * where Retry-After only says how often the server wants to be asked.
 * Returns a negative value when there is no usable hint.
 */
double
vt_schedule_hinted (const VtScheduleConfig *config,
                    const VtScheduleHints  *hints)
{
  double wait;

  if (hints == NULL)
    return -1.0;

  if (hints->eta >= 0)
    wait = hints->eta;
  else if (hints->retry_after >= 0)
    wait = hints->retry_after;
  else
    return -1.0;

  wait = MAX (wait, config->min_interval);
  if (config->max_interval > 0)
    wait = MIN (wait, config->max_interval);

  return wait;
}

/*
 * vt_schedule_fit_deadline:
 * @elapsed: seconds since the first request
 * @delay: the wait the policy wants
 * @fitted: (out): the wait to use
 *
 * Unlike the seed, a watch never gives up early: a wait that would pass the
 * deadline is shortened so the last request lands exactly on it. Returns
 * %FALSE when the budget is already used up.
 */
gboolean
vt_schedule_fit_deadline (const VtScheduleConfig *config,
                          double                  elapsed,
                          double                  delay,
                          double                 *fitted)
{
  double left = config->max_wait_time - elapsed;

  if (left <= 0)
    return FALSE;

  *fitted = MIN (delay, left);
  return TRUE;
}

/*
 * vt_schedule_next_delay:
 * @attempts: requests made so far (>= 1)
 * @elapsed: seconds since the first request
 * @hints: (nullable): what the last response suggested
 * @model: (nullable): the durations learned on this server
 * @delay: (out): seconds to wait before the next request
 *
 * Returns: %FALSE when the watch must stop with a timeout: the attempts are
 * used up or the budget is.
 */
gboolean
vt_schedule_next_delay (const VtScheduleConfig *config,
                        guint                   attempts,
                        double                  elapsed,
                        const VtScheduleHints  *hints,
                        const VtDurationModel  *model,
                        GRand                  *rand,
                        double                 *delay)
{
  double wait;

  if (config->max_attempts > 0 && attempts >= config->max_attempts)
    return FALSE;

  /* What the server says beats what we learned beats plain backoff. */
  wait = vt_schedule_hinted (config, hints);
  if (wait >= 0)
    return vt_schedule_fit_deadline (config, elapsed, wait, delay);

  if (vt_schedule_learned_delay (config, model, attempts, elapsed, delay))
    return TRUE;

  wait = vt_schedule_backoff (config, attempts, rand);
  return vt_schedule_fit_deadline (config, elapsed, wait, delay);
}

/*
 * vt_schedule_retry_delay:
 * @failures: consecutive failed requests (>= 1)
 * @elapsed: seconds since the first request
 * @retry_after: what the server asked for, negative when it did not
 * @delay: (out): seconds to wait before trying again
 *
 * The transient-fault policy, kept apart from the polling schedule: a
 * flaky network must not push the next status poll further out. Waits
 * grow as initial × factor^(failures-1) with "equal jitter" (half fixed,
 * half random, so a fleet of clients that failed together does not retry
 * together), capped by max_interval; a server's Retry-After wins when
 * given, uncapped. Either way the deadline is kept.
 *
 * Returns: %FALSE when the budget is used up.
 */
gboolean
vt_schedule_retry_delay (const VtScheduleConfig *config,
                         guint                   failures,
                         double                  elapsed,
                         double                  retry_after,
                         GRand                  *rand,
                         double                 *delay)
{
  double wait;

  g_return_val_if_fail (failures >= 1, FALSE);

  if (retry_after >= 0)
    {
      /* A server that says when to come back (a 429, a 503 in
       * maintenance) is obeyed: asking sooner only earns another refusal.
       * The deadline still holds. */
      wait = retry_after;
    }
  else
    {
      double base = config->initial_wait * pow (config->backoff_factor, failures - 1);

      if (config->max_interval > 0)
        base = MIN (base, config->max_interval);
      wait = base > 0 ? base / 2 + g_rand_double_range (rand, 0.0, base / 2) : 0.0;
    }

  return vt_schedule_fit_deadline (config, elapsed, wait, delay);
}

/* With one ETA and no idea how good it is, ask again halfway there, unless
 * it is already short: the second answer tells how fast the ETA falls. */
#define ETA_PROBE_FRACTION 0.5
#define ETA_PROBE_MIN_INTERVALS 20.0

/* A server's ETA may be off by a steady factor; believe a measured factor
 * only within these bounds. */
#define ETA_FACTOR_MIN 0.25
#define ETA_FACTOR_MAX 4.0

/* Land just after the estimated end rather than just before it: early
 * costs a whole extra request, late costs this much delay. */
#define ETA_MARGIN 1.02

/*
 * vt_schedule_eta_wait:
 * @previous: (nullable): the ETA seen one request earlier
 * @current: the ETA just seen
 *
 * The wait an ETA suggests, counted from the answer that brought
 * @current. If the server's estimate is off by a steady factor k (ETA =
 * k × true time left, as with a rate estimate that is off), two answers
 * reveal it: between them the ETA fell by k × the time that passed.
 * Dividing by the measured k gives the true time left.
 *
 * On the watch's clock the time that passed is known only roughly: each
 * ETA was computed some time before its answer arrived, the earlier one
 * up to its round trip before. Measured too short, it makes k too large
 * and the wait too short, so the wait is stretched by that share; a
 * server that stamps its answers with the job's elapsed time needs no
 * stretch. The current ETA's own instant only errs late: it was computed
 * before the wait starts.
 *
 * Returns: the wait in seconds, or -1 without an ETA
 */
double
vt_schedule_eta_wait (const VtScheduleConfig *config,
                      const VtEtaSample      *previous,
                      const VtEtaSample      *current)
{
  double factor, passed, stretch;

  if (current == NULL || current->eta < 0)
    return -1.0;

  if (previous == NULL || previous->eta < 0 ||
      previous->server_clock != current->server_clock ||
      current->t <= previous->t)
    {
      if (current->eta > ETA_PROBE_MIN_INTERVALS * config->min_interval)
        return current->eta * ETA_PROBE_FRACTION;
      return current->eta * ETA_MARGIN;
    }

  passed = current->t - previous->t;
  factor = (previous->eta - current->eta) / passed;
  if (factor < ETA_FACTOR_MIN || factor > ETA_FACTOR_MAX)
    return current->eta * ETA_MARGIN;

  stretch = previous->uncertainty / passed;
  return current->eta / factor * (ETA_MARGIN + stretch);
}

/* Learned schedule. Polls go on a grid of the learned distribution's
 * quantiles, each cell holding the same share of jobs: dense where jobs
 * end, sparse where few do, the same expected number of polls whatever
 * the durations. Each wait is also kept between two fractions of the time
 * elapsed: the upper bounds the delay relative to the job's length in a
 * long tail, the lower stops polls crowding where cells are narrow. */
#define LEARNED_GRID_CELLS 8
#define LEARNED_RELATIVE_MIN_STEP 0.05
#define LEARNED_RELATIVE_STEP 0.15
/* The first poll goes where the shortest jobs end. */
#define LEARNED_FIRST_QUANTILE 0.02
/* Past the longest job seen (with this slack), the model knows nothing. */
#define LEARNED_TAIL_SLACK 1.25

/* The smallest wait that still reaches the deadline within the requests
 * left, if every later wait grows by the same factor. Without it a capped
 * watch would spend its attempts early and time out on a long job. */
static double
budget_step (const VtScheduleConfig *config,
             guint                   attempts,
             double                  elapsed)
{
  guint left;

  if (config->max_attempts == 0 || attempts >= config->max_attempts || elapsed <= 0)
    return 0.0;

  left = config->max_attempts - attempts;
  return elapsed * (pow (config->max_wait_time / elapsed, 1.0 / left) - 1.0);
}

gboolean
vt_schedule_learned_delay (const VtScheduleConfig *config,
                           const VtDurationModel  *model,
                           guint                   attempts,
                           double                  elapsed,
                           double                 *delay)
{
  double first, longest, level, target, wait;

  if (model == NULL || vt_duration_model_size (model) < VT_DURATION_MODEL_MIN_SAMPLES)
    return FALSE;

  first = vt_duration_model_quantile (model, LEARNED_FIRST_QUANTILE);
  longest = vt_duration_model_quantile (model, 1.0);

  if (elapsed > longest * LEARNED_TAIL_SLACK)
    return FALSE;

  if (elapsed < first)
    wait = first - elapsed;
  else
    {
      level = vt_duration_model_cdf (model, elapsed);
      level = (floor (level * LEARNED_GRID_CELLS) + 1) / LEARNED_GRID_CELLS;
      target = vt_duration_model_quantile (model, level);
      wait = CLAMP (target - elapsed,
                    LEARNED_RELATIVE_MIN_STEP * elapsed,
                    LEARNED_RELATIVE_STEP * elapsed);
      wait = MAX (wait, budget_step (config, attempts, elapsed));
    }

  wait = MAX (wait, config->min_interval);
  if (config->max_interval > 0)
    wait = MIN (wait, config->max_interval);

  return vt_schedule_fit_deadline (config, elapsed, wait, delay);
}
