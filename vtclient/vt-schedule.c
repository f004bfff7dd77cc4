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

gboolean
vt_schedule_config_equal (const VtScheduleConfig *a,
                          const VtScheduleConfig *b)
{
  return a->initial_wait == b->initial_wait &&
         a->backoff_factor == b->backoff_factor &&
         a->jitter == b->jitter &&
         a->jitter_mode == b->jitter_mode &&
         a->max_attempts == b->max_attempts &&
         a->max_wait_time == b->max_wait_time &&
         a->min_interval == b->min_interval &&
         a->max_interval == b->max_interval;
}

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

/* How many requests doubling alone makes, without jitter, the first and
 * the deadline's included; more than @most is counted as @most + 1. */
static guint
doubling_requests (const VtScheduleConfig *config,
                   guint                   most)
{
  double t = 0, wait = config->initial_wait;
  guint n = 1;

  while (t < config->max_wait_time && n <= most)
    {
      t += MAX (wait, config->max_wait_time * 1e-6);
      wait *= config->backoff_factor;
      n++;
    }

  return n;
}

/*
 * vt_schedule_cold_wait:
 * @attempts: requests made so far, all of which saw "pending" (>= 1)
 * @elapsed: seconds since the first request
 *
 * The plain schedule, for a server nothing is known of: the backoff's
 * wait, or, once the attempts left could cover the time left at that
 * wait, the time left shared evenly among them; the last attempt is kept
 * for the deadline. Early on the waits double (with their jitter), so
 * short jobs are seen soon; from the switch on they are even and every
 * attempt is spent by the deadline, where doubling alone would leave
 * attempts unused and its last gap the widest (with the defaults, 16 s
 * then 29 s, three attempts unused).
 *
 * Only while the attempts are a budget, not a safety net: a cap more than
 * twice what doubling itself makes (or none) is left to the backoff, so
 * no setting makes more than twice the requests doubling would.
 */
double
vt_schedule_cold_wait (const VtScheduleConfig *config,
                       guint                   attempts,
                       double                  elapsed,
                       GRand                  *rand)
{
  double wait = vt_schedule_backoff (config, attempts, rand);
  double left = config->max_wait_time - elapsed;
  guint attempts_left;

  if (config->max_attempts <= attempts || left <= 0 ||
      config->max_attempts > 2 * doubling_requests (config, 2 * config->max_attempts))
    return wait;

  attempts_left = config->max_attempts - attempts;
  return attempts_left == 1 ? left : MIN (wait, left / attempts_left);
}

/*
 * vt_schedule_next_delay:
 * @attempts: requests made so far (>= 1)
 * @elapsed: seconds since the first request
 * @hints: (nullable): what the last response suggested
 * @plan: (nullable): the polls placed by what was learned of this server
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
                        const VtSchedulePlan   *plan,
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

  if (plan != NULL)
    return vt_schedule_planned_delay (config, plan, attempts, elapsed, delay);

  wait = vt_schedule_cold_wait (config, attempts, elapsed, rand);
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

/* The learned schedule
 *
 * With the durations learned on a server, polls go where jobs end:
 * evenly spaced over the span from where the shortest end to where all
 * but PLAN_TAIL_SHARE of them have, each edge pushed out by the points'
 * spacing there (the next job may end a little past anything seen), then
 * further apart to the deadline, which keeps its last request. The step
 * is the smallest that fits the attempts and costs, in expectation over
 * the learned jobs, at most PLAN_BUDGET_SHARE of the requests the plain
 * backoff would make on them before its deadline request: learning saves
 * requests and spends what it saves on a shorter delay.
 *
 * Even spacing, not denser polls where jobs end more often: the delay a
 * job sees is the gap it ends in, so equal gaps bound every job's delay
 * alike, which is what a caller waiting on one job cares about.
 *
 * The first poll is half a step into the span and each watch shifts the
 * whole plan by its own share of a step, so that over many watches the
 * span's edges are polled at every phase: jobs that end before the first
 * poll or after the even polls show up as the estimate's outliers and
 * move the next plan's edges out; a plan that always polled first at the
 * same instant would never learn that jobs end earlier. Two attempts are
 * kept past the even polls when there are enough: one a step further, so
 * that a span that ends a little early costs a step, not a wait for the
 * deadline, and the deadline's. */
#define PLAN_FIRST_SHARE 0.002
#define PLAN_TAIL_SHARE 0.04
#define PLAN_BUDGET_SHARE 0.85
#define PLAN_TAIL_POLLS 2
/* Bisection steps for the step: far finer than any timer. */
#define PLAN_SEARCH_STEPS 60

/*
 * vt_schedule_expected_requests:
 * @polls: (array length=n_polls): polls after the first request, in
 *   seconds since it
 *
 * The requests a watch following @polls makes on average over
 * @estimate's jobs: the first, and each poll whose previous request still
 * saw the job pending.
 */
double
vt_schedule_expected_requests (const VtDurationEstimate *estimate,
                               const double             *polls,
                               guint                     n_polls)
{
  double expected = 1.0;

  for (guint i = 0; i < n_polls; i++)
    expected += 1.0 - vt_duration_estimate_cdf (estimate, i == 0 ? 0.0 : polls[i - 1]);

  return expected;
}

static guint
polls_allowed (const VtScheduleConfig *config)
{
  if (config->max_attempts == 0)
    return VT_SCHEDULE_PLAN_MAX_POLLS;
  return MIN (config->max_attempts - 1, VT_SCHEDULE_PLAN_MAX_POLLS);
}

/* The plain backoff's polls, without jitter, up to the last one its own
 * steps reach before the deadline: what the plan must beat. (Its extra
 * request on the deadline is a safety net the plan keeps too.) */
static guint
backoff_polls (const VtScheduleConfig *config,
               double                 *polls)
{
  guint allowed = polls_allowed (config), n = 0;
  double t = 0;

  while (n < allowed)
    {
      t += config->initial_wait * pow (config->backoff_factor, n);
      if (t >= config->max_wait_time)
        break;
      polls[n++] = t;
    }

  return n;
}

static gboolean
plan_add (VtSchedulePlan *plan,
          guint           allowed,
          double          t)
{
  if (plan->n_polls >= allowed)
    return FALSE;
  plan->polls[plan->n_polls++] = t;
  return TRUE;
}

static double
tail_wait (const VtScheduleConfig *config,
           double                  previous)
{
  double wait = previous * MAX (config->backoff_factor, 1.0);

  return config->max_interval > 0 ? MIN (wait, config->max_interval) : wait;
}

/* The tail, from the even polls' last to the deadline: one more step,
 * then waits growing by the backoff factor or, when the attempts left
 * cannot pay for that, by whatever factor reaches the deadline with the
 * last one. */
static gboolean
plan_lay_tail (const VtScheduleConfig *config,
               guint                   allowed,
               VtSchedulePlan         *plan)
{
  double deadline = config->max_wait_time;
  double t, wait = plan->step;
  guint kept, left;

  if (allowed - plan->n_polls >= 2 && plan->polls[plan->n_polls - 1] + wait < deadline)
    plan_add (plan, allowed, plan->polls[plan->n_polls - 1] + wait);

  /* Growing waits, as long as the attempts last. */
  kept = plan->n_polls;
  t = plan->polls[kept - 1];
  while (t < deadline)
    {
      wait = tail_wait (config, wait);
      t = MIN (t + wait, deadline);
      if (!plan_add (plan, allowed, t))
        break;
    }
  if (t >= deadline && plan->polls[plan->n_polls - 1] >= deadline)
    return TRUE;

  /* They do not last: whatever factor reaches the deadline with the last. */
  plan->n_polls = kept;
  t = plan->polls[kept - 1];
  left = allowed - kept;
  if (left == 0 || t <= 0)
    return FALSE;

  for (guint i = 1; i <= left; i++)
    plan_add (plan, allowed, i == left ? deadline : t * pow (deadline / t, (double) i / left));
  return TRUE;
}

/* Polls @step apart from @first + @step / 2 until one is past
 * @bulk_end, then the tail, for which PLAN_TAIL_POLLS attempts are kept
 * when there are enough. %FALSE when the attempts do not allow it. */
static gboolean
plan_lay_out (const VtScheduleConfig *config,
              double                  first,
              double                  bulk_end,
              double                  step,
              VtSchedulePlan         *plan)
{
  guint allowed = polls_allowed (config);
  guint for_bulk = allowed > 2 * PLAN_TAIL_POLLS ? allowed - PLAN_TAIL_POLLS : allowed - 1;
  double deadline = config->max_wait_time;
  double t = first + step / 2;

  plan->n_polls = 0;
  plan->step = step;
  plan->shift = 0;

  for (;;)
    {
      if (!plan_add (plan, for_bulk, MIN (t, deadline)))
        return FALSE;
      if (t >= bulk_end || t >= deadline)
        break;
      t += step;
    }

  return t >= deadline || plan_lay_tail (config, allowed, plan);
}

/*
 * vt_schedule_plan_build:
 * @estimate: (nullable): the durations learned on this server
 * @plan: (out caller-allocates): where to poll
 *
 * Returns: %FALSE when nothing is learned yet, or no plan fits the
 * attempts and the budget: the backoff then rules.
 */
gboolean
vt_schedule_plan_build (const VtScheduleConfig   *config,
                        const VtDurationEstimate *estimate,
                        VtSchedulePlan           *plan)
{
  double backoff[VT_SCHEDULE_PLAN_MAX_POLLS];
  double first, bulk_end, budget, low, high;
  guint n_backoff;

  if (estimate == NULL || estimate->n_points < VT_DURATION_MODEL_MIN_SAMPLES ||
      config->max_wait_time <= 0 || (config->max_attempts != 0 && config->max_attempts < 2))
    return FALSE;

  first = MAX (vt_duration_estimate_quantile (estimate, PLAN_FIRST_SHARE) -
               vt_duration_estimate_spacing (estimate, PLAN_FIRST_SHARE), 0.0);
  bulk_end = MIN (vt_duration_estimate_quantile (estimate, 1.0 - PLAN_TAIL_SHARE) +
                  vt_duration_estimate_spacing (estimate, 1.0 - PLAN_TAIL_SHARE),
                  config->max_wait_time);
  n_backoff = backoff_polls (config, backoff);
  budget = PLAN_BUDGET_SHARE * vt_schedule_expected_requests (estimate, backoff, n_backoff);

  low = MAX (config->min_interval, config->max_wait_time * 1e-6);
  high = config->max_interval > 0 ? MIN (config->max_interval, config->max_wait_time)
                                   : config->max_wait_time;
  if (low > high)
    return FALSE;

  /* The smallest step that fits: fewer polls for a longer one, so both
   * tests only get easier as the step grows. */
  if (!plan_lay_out (config, first, bulk_end, high, plan) ||
      vt_schedule_expected_requests (estimate, plan->polls, plan->n_polls) > budget)
    return FALSE;

  for (guint i = 0; i < PLAN_SEARCH_STEPS; i++)
    {
      double step = sqrt (low * high);

      if (plan_lay_out (config, first, bulk_end, step, plan) &&
          vt_schedule_expected_requests (estimate, plan->polls, plan->n_polls) <= budget)
        high = step;
      else
        low = step;
    }

  return plan_lay_out (config, first, bulk_end, high, plan);
}

/* Where the plan's @i-th poll falls for the watch following it: shifted
 * by its share of a step, but for the deadline's. */
static double
plan_poll_at (const VtScheduleConfig *config,
              const VtSchedulePlan   *plan,
              guint                   i)
{
  if (plan->polls[i] >= config->max_wait_time)
    return config->max_wait_time;
  return CLAMP (plan->polls[i] + plan->shift * plan->step, 0.0, config->max_wait_time);
}

/*
 * vt_schedule_planned_delay:
 * @attempts: requests made so far (>= 1)
 * @elapsed: seconds since the first request
 * @delay: (out): seconds to wait before the next request
 *
 * The wait until the plan's next poll. A watch with fewer attempts left
 * than the plan has polls (retries spent some) skips the earliest ones it
 * cannot pay for, never the last, on the deadline.
 *
 * Returns: %FALSE when the budget is used up
 */
gboolean
vt_schedule_planned_delay (const VtScheduleConfig *config,
                           const VtSchedulePlan   *plan,
                           guint                   attempts,
                           double                  elapsed,
                           double                 *delay)
{
  guint next = 0, remaining;
  double wait;

  while (next < plan->n_polls && plan_poll_at (config, plan, next) <= elapsed)
    next++;
  if (next == plan->n_polls)
    return vt_schedule_fit_deadline (config, elapsed, config->max_wait_time - elapsed, delay);

  remaining = plan->n_polls - next;
  if (config->max_attempts > 0 && remaining > config->max_attempts - MIN (attempts, config->max_attempts))
    next += remaining - (config->max_attempts - MIN (attempts, config->max_attempts));
  if (next >= plan->n_polls)
    return FALSE;

  wait = MAX (plan_poll_at (config, plan, next) - elapsed, config->min_interval);
  if (config->max_interval > 0)
    wait = MIN (wait, config->max_interval);

  return vt_schedule_fit_deadline (config, elapsed, wait, delay);
}
