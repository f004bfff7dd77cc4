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

/* The seed's doubling waits, without jitter: the polls they make after
 * the first request and before the deadline, at most @most of them, each
 * stored in @polls unless it is %NULL. */
static guint
doubling_polls (const VtScheduleConfig *config,
                guint                   most,
                double                 *polls)
{
  double t = 0;
  guint n = 0;

  while (n < most)
    {
      t += config->initial_wait * pow (config->backoff_factor, n);
      if (t >= config->max_wait_time)
        break;
      if (polls != NULL)
        polls[n] = t;
      n++;
    }

  return n;
}

/* How many requests doubling alone makes, the first and the deadline's
 * included; more than @most is counted as @most + 1. */
static guint
doubling_requests (const VtScheduleConfig *config,
                   guint                   most)
{
  return MIN (doubling_polls (config, most, NULL) + 2, most + 1);
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
 * With the durations learned on a server, polls go where jobs end. The
 * plan reads its span off the estimate: it starts at the shortest job, a
 * spacing earlier (the bulk's mean gap between points: the next job may
 * well end that much before anything seen), and ends where all but
 * PLAN_TAIL_SHARE of them have, PLAN_END_SPACINGS spacings later: a plan
 * that stops short of the longest jobs leaves them to the deadline, which
 * costs them far more than the wider step costs the others.
 *
 * Its polls are a step apart from a step into the span to a step past
 * its end, so that a watch shifted back by half a step still sees the
 * last jobs before the deadline; the attempts left are then shared
 * evenly to the deadline (no closer than a step), the last on it. Or, if
 * that needs a step no more than PLAN_TAIL_HEDGE wider, they go on a
 * step apart as far as the attempts allow: twenty jobs of a long-tailed
 * kind say little of how long the tail is, and the jobs past the learned
 * end would otherwise wait the wide gaps to the deadline. Even, not
 * denser where jobs end more often: the delay a job sees is the gap it
 * ends in, and equal gaps bound every job's delay alike, which is what a
 * p95 asks for (with the distribution known exactly, a step into the
 * span is where the fewest requests buy that bound).
 *
 * Short jobs count their delay against their duration. Where the span
 * starts early, no gap is wider than the backoff's own relative spacing
 * (its factor less one, times the time elapsed) from where the shortest
 * PLAN_RELATIVE_SHARE of the jobs end on (less PLAN_RELATIVE_MARGIN of a
 * spacing), so that no job class but those waits longer, for its size,
 * than with the backoff: the first poll is then a factor past them.
 *
 * The step is the smallest that fits the attempts, keeps every wait
 * within max_interval (a longer one would be cut short, and the request
 * that took from the deadline's would leave a job that ends before the
 * deadline timed out) and costs, in expectation over the learned jobs,
 * at most PLAN_BUDGET_SHARE of the requests the seed's own backoff (its
 * doubling waits, before its deadline request) would make on them:
 * learning saves requests and spends the rest on seeing the end sooner.
 * When the relative spacing would need a step more than PLAN_HEAD_COST
 * wider than even polls do, it starts later, where it costs no more.
 *
 * Each watch shifts the plan by its own share of each gap (at most half
 * a step), so that watches started together do not poll together and,
 * over many watches, the span's edges are polled at every phase: jobs
 * that end before the first poll or after the last close one show up in
 * the estimate and move the next plan's edges out. */
#define PLAN_FIRST_SHARE 0.002
#define PLAN_TAIL_SHARE 0.04
#define PLAN_END_SPACINGS 2.0
#define PLAN_RELATIVE_SHARE 0.05
#define PLAN_RELATIVE_MARGIN 0.5
#define PLAN_HEAD_COST 0.25
#define PLAN_TAIL_HEDGE 0.5
#define PLAN_BUDGET_SHARE 0.9
/* Bisection steps: far finer than any timer. */
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

/*
 * vt_schedule_plan_budget:
 *
 * The most requests a plan may cost on @estimate's jobs: a share of what
 * the seed's doubling polls, within the attempts, would make on them
 * before its deadline request (a safety net the plan keeps too).
 */
double
vt_schedule_plan_budget (const VtScheduleConfig   *config,
                         const VtDurationEstimate *estimate)
{
  double backoff[VT_SCHEDULE_PLAN_MAX_POLLS];
  guint n_backoff = doubling_polls (config, polls_allowed (config), backoff);

  return PLAN_BUDGET_SHARE * vt_schedule_expected_requests (estimate, backoff, n_backoff);
}

/*
 * vt_schedule_span_from_estimate:
 * @span: (out caller-allocates): what the plan reads off @estimate
 */
void
vt_schedule_span_from_estimate (const VtScheduleConfig   *config,
                                const VtDurationEstimate *estimate,
                                VtScheduleSpan           *span)
{
  double spacing = vt_duration_estimate_spacing (estimate);

  span->start = MAX (vt_duration_estimate_quantile (estimate, PLAN_FIRST_SHARE) - spacing, 0.0);
  span->end = MIN (vt_duration_estimate_quantile (estimate, 1.0 - PLAN_TAIL_SHARE) +
                   PLAN_END_SPACINGS * spacing, config->max_wait_time);
  span->fill = FALSE;
  span->ratio = config->backoff_factor > 1 ? config->backoff_factor - 1 : INFINITY;
  span->relative_from = MAX (vt_duration_estimate_quantile (estimate, PLAN_RELATIVE_SHARE) -
                             PLAN_RELATIVE_MARGIN * spacing,
                             config->min_interval);
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

/* The gap after a poll at @t: the step, or less where the backoff's
 * relative spacing is tighter. */
static double
plan_gap (const VtScheduleSpan *span,
          double                step,
          double                t)
{
  return isinf (span->ratio) ? step : MIN (step, span->ratio * MAX (t, span->relative_from));
}

/*
 * vt_schedule_plan_lay_out:
 * @step: the widest gap between polls over the span
 * @plan: (out caller-allocates): the polls
 *
 * Polls a step apart (or the relative spacing) up to a step past the
 * span's end, then the attempts left shared evenly to the deadline, the
 * last on it, as the plain schedule does: jobs that run past what was
 * learned are still asked about as often as the attempts allow.
 *
 * Returns: %FALSE when the attempts do not reach a step past the span's
 * end, or leave a wait to the deadline longer than max_interval (it would
 * be cut short, and the request it took would leave a job that ends
 * before the deadline timed out)
 */
gboolean
vt_schedule_plan_lay_out (const VtScheduleConfig *config,
                          const VtScheduleSpan   *span,
                          double                  step,
                          VtSchedulePlan         *plan)
{
  guint allowed = polls_allowed (config), left;
  double deadline = config->max_wait_time, last, last_gap, share;
  /* A step into the span, or the backoff's relative spacing past the
   * shortest jobs if that comes first. */
  double t = MIN (span->start + step, (1 + span->ratio) * MAX (span->start, span->relative_from));

  plan->n_polls = 0;
  plan->step = step;
  plan->shift = 0;
  plan->start = t - MIN (step, isinf (span->ratio) ? t : span->ratio / (1 + span->ratio) * t);

  while (t < deadline && (plan->n_polls == 0 || plan->polls[plan->n_polls - 1] < span->end + step))
    {
      if (!plan_add (plan, allowed - 1, t))
        return FALSE;
      t += plan_gap (span, step, t);
    }
  if (span->fill)
    while (t < deadline && plan_add (plan, allowed - 1, t))
      t += plan_gap (span, step, t);
  /* The rest to the deadline, no closer than a step (none if no poll
   * came before it: the span starts past the deadline). The deadline's
   * is never shifted: a watch shifted back waits for it as much longer
   * as the poll before moved, half its gap (at most half a step). */
  if (plan->n_polls == 0)
    return plan_add (plan, allowed, deadline);
  last = plan->polls[plan->n_polls - 1];
  last_gap = last - (plan->n_polls > 1 ? plan->polls[plan->n_polls - 2] : plan->start);
  left = MIN (allowed - plan->n_polls, (guint) MAX (ceil ((deadline - last) / step), 1.0));
  share = (deadline - last) / left;
  if (config->max_interval > 0 &&
      share + MIN (left == 1 ? last_gap : share, step) / 2 > config->max_interval)
    return FALSE;
  for (guint i = 1; i <= left; i++)
    plan_add (plan, allowed, i == left ? deadline : last + share * i);

  return TRUE;
}

static gboolean
plan_fits (const VtScheduleConfig   *config,
           const VtScheduleSpan     *span,
           const VtDurationEstimate *estimate,
           double                    budget,
           double                    step,
           VtSchedulePlan           *plan)
{
  return vt_schedule_plan_lay_out (config, span, step, plan) &&
         vt_schedule_expected_requests (estimate, plan->polls, plan->n_polls) <= budget;
}

/* The smallest step that fits the attempts and the budget. Fewer polls
 * for a longer step, each later, so both tests mostly get easier as the
 * step grows, but not always: where short jobs' gaps double, the wait to
 * the deadline may outgrow max_interval at long steps. So the first
 * step that fits on a coarse scale from below, then bisection down from
 * it. */
#define PLAN_SCAN_STEPS 120

static gboolean
plan_smallest_step (const VtScheduleConfig   *config,
                    const VtScheduleSpan     *span,
                    const VtDurationEstimate *estimate,
                    double                    budget,
                    VtSchedulePlan           *plan)
{
  double low = MAX (config->min_interval, config->max_wait_time * 1e-6);
  double high = config->max_interval > 0 ? MIN (config->max_interval, config->max_wait_time)
                                         : config->max_wait_time;
  double ratio, below = low;
  guint i;

  if (low > high)
    return FALSE;

  ratio = pow (high / low, 1.0 / PLAN_SCAN_STEPS);
  for (i = 0; i <= PLAN_SCAN_STEPS; i++)
    {
      double step = i == PLAN_SCAN_STEPS ? high : low * pow (ratio, i);

      if (plan_fits (config, span, estimate, budget, step, plan))
        {
          high = step;
          break;
        }
      below = step;
    }
  if (i > PLAN_SCAN_STEPS)
    return FALSE;

  for (guint k = 0; i > 0 && k < PLAN_SEARCH_STEPS; k++)
    {
      double step = sqrt (below * high);

      if (plan_fits (config, span, estimate, budget, step, plan))
        high = step;
      else
        below = step;
    }

  return vt_schedule_plan_lay_out (config, span, high, plan);
}

/*
 * vt_schedule_plan_build:
 * @estimate: (nullable): the durations learned on this server
 * @plan: (out caller-allocates): where to poll
 *
 * Returns: %FALSE when nothing is learned yet, or no plan fits the
 * attempts and the budget: the plain schedule then rules.
 */
gboolean
vt_schedule_plan_build (const VtScheduleConfig   *config,
                        const VtDurationEstimate *estimate,
                        VtSchedulePlan           *plan)
{
  VtScheduleSpan span, even;
  VtSchedulePlan relative;
  double budget, most, low, high;

  if (estimate == NULL || estimate->n_points < VT_DURATION_MODEL_MIN_SAMPLES ||
      config->max_wait_time <= 0 || (config->max_attempts != 0 && config->max_attempts < 2))
    return FALSE;

  vt_schedule_span_from_estimate (config, estimate, &span);
  budget = vt_schedule_plan_budget (config, estimate);

  /* Even polls over the span, the attempts left shared to the deadline;
   * or a step apart all the way, if that needs a step no more than
   * PLAN_TAIL_HEDGE wider. */
  even = span;
  even.ratio = INFINITY;
  if (!plan_smallest_step (config, &even, estimate, budget, plan))
    return FALSE;
  even.fill = TRUE;
  if (plan_smallest_step (config, &even, estimate, budget, &relative) &&
      relative.step <= (1 + PLAN_TAIL_HEDGE) * plan->step)
    {
      span.fill = TRUE;
      *plan = relative;
    }
  if (isinf (span.ratio))
    return TRUE;

  /* Short jobs' relative spacing, if it costs the step no more than
   * PLAN_HEAD_COST. */
  most = (1 + PLAN_HEAD_COST) * plan->step;
  if (plan_smallest_step (config, &span, estimate, budget, &relative) && relative.step <= most)
    {
      *plan = relative;
      return TRUE;
    }

  /* It costs too much from the shortest jobs on: from how late on does
   * it not? From the deadline, it is the even plan. */
  low = span.relative_from;
  high = config->max_wait_time;
  for (guint i = 0; i < PLAN_SEARCH_STEPS / 2; i++)
    {
      span.relative_from = (low + high) / 2;
      if (plan_smallest_step (config, &span, estimate, budget, &relative) && relative.step <= most)
        {
          high = span.relative_from;
          *plan = relative;
        }
      else
        low = span.relative_from;
    }

  return TRUE;
}

/* Where the plan's @i-th poll falls for the watch following it: shifted
 * by its share of its own gap (at most a step), but for the deadline's. */
static double
plan_poll_at (const VtScheduleConfig *config,
              const VtSchedulePlan   *plan,
              guint                   i)
{
  double gap;

  if (plan->polls[i] >= config->max_wait_time)
    return config->max_wait_time;
  gap = plan->polls[i] - (i == 0 ? plan->start : plan->polls[i - 1]);
  return CLAMP (plan->polls[i] + plan->shift * MIN (gap, plan->step), 0.0, config->max_wait_time);
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
