/* vt-plan-sim.c: the plain schedule and the learned plan, simulated
 *
 *   vt-plan-sim [--durations MODEL] [--warm-up N] [--jobs N] [--sets N]
 *               [--seed N] [--latency S] [--frontier FILE] [--verbose]
 *               [--check]
 *
 * What vt-bench measures for vt-plain, without a server or a clock, so
 * that designs can be compared over hundreds of warm-up sets in seconds:
 * for each set, a fresh duration model, --warm-up jobs followed one after
 * another (each watch takes the plan that stands when it starts and its
 * own random shift, and files what it saw), then --jobs jobs followed
 * together on the plan that stands after them; and the seed's schedule on
 * the same jobs. It runs the library's own schedule and estimate
 * (vt-schedule.c, vt-duration-model.c) with the seed's defaults, a
 * request taking --latency seconds.
 *
 * Per set and over the sets (median and quartiles): requests per job,
 * p95 and p99 delay, p95 of delay over duration, timeouts of jobs that ended
 * inside the budget. With --frontier, the output of
 * `vt-frontier.py --at-requests R ...` for the same durations, also each
 * set's p95 over the frontier at its own requests per job (interpolated
 * between the points given). --check exits 1 unless no job that ended
 * inside the budget timed out, and the median set made fewer requests
 * per job than the seed and saw the end sooner at p95 (what the suite's
 * smoke runs hold the loop of learning, planning and following to).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vt-bench-util.h"
#include "vts-duration-model.h"
#include "vt-schedule-private.h"

typedef struct
{
  double requests;
  double p95;
  double p99;
  double p95_relative;
  guint  timeouts_in_budget;
} Figures;

#define BUDGET 60.0

static VtScheduleConfig
seed_config (void)
{
  return (VtScheduleConfig) {
    .initial_wait = 1.0, .backoff_factor = 2.0, .jitter = 0.5,
    .jitter_mode = VT_JITTER_MODE_SYMMETRIC, .max_attempts = 10,
    .max_wait_time = BUDGET, .min_interval = 0.05, .max_interval = 30.0,
  };
}

/* One watch of a job of @duration s, on @plan if any: its requests,
 * and in @delay how late it saw the end (negative: it timed out), in
 * @low, @high what it learned. */
static guint
follow (const VtScheduleConfig *config,
        const VtSchedulePlan   *plan,
        double                  latency,
        double                  duration,
        GRand                  *rand,
        double                 *delay,
        double                 *low,
        double                 *high)
{
  VtSchedulePlan shifted;
  double t = 0, wait;
  guint requests = 1;

  /* The watch's shift is drawn first, as vt-watch.c does. */
  if (plan != NULL)
    {
      shifted = *plan;
      shifted.shift = g_rand_double_range (rand, -0.5, 0.5);
    }
  else
    g_rand_double_range (rand, -0.5, 0.5);

  for (;;)
    {
      if (duration <= t)
        {
          *delay = t + latency - duration;
          *high = t + latency;
          return requests;
        }
      *low = t;
      if (!vt_schedule_next_delay (config, requests, t + latency, NULL,
                                   plan != NULL ? &shifted : NULL, rand, &wait))
        {
          *delay = -1;
          return requests;
        }
      t += latency + wait;
      requests++;
    }
}

/* The seed's schedule, as vt-bench's seed row follows it. */
static guint
follow_seed (double  latency,
             double  duration,
             GRand  *rand,
             double *delay)
{
  double t = 0;
  guint requests = 1;

  for (guint k = 0;; k++)
    {
      double wait;

      if (duration <= t)
        {
          *delay = t + latency - duration;
          return requests;
        }
      wait = MAX (ldexp (1.0, (int) k) + g_rand_double_range (rand, -0.5, 0.5), 0.0);
      if (requests >= 10 || t + wait > BUDGET)
        {
          *delay = -1;
          return requests;
        }
      t += latency + wait;
      requests++;
    }
}

/* Sorts @values in place for the percentile. */
static double
percentile (double *values,
            guint   n,
            double  p)
{
  qsort (values, n, sizeof (double), vt_bench_compare_doubles);
  return vt_bench_percentile_of (values, n, p);
}

static Figures
figures_of (const double *durations,
            const double *delays,
            const guint  *requests,
            guint         n)
{
  g_autofree double *seen = g_new (double, n);
  g_autofree double *relative = g_new (double, n);
  Figures figures = { 0 };
  guint n_seen = 0;

  for (guint i = 0; i < n; i++)
    {
      figures.requests += requests[i] / (double) n;
      if (delays[i] >= 0)
        {
          seen[n_seen] = delays[i];
          relative[n_seen++] = 100 * delays[i] / durations[i];
        }
      else if (durations[i] <= BUDGET)
        figures.timeouts_in_budget++;
    }
  figures.p95 = percentile (seen, n_seen, 95);
  figures.p99 = percentile (seen, n_seen, 99);
  figures.p95_relative = percentile (relative, n_seen, 95);
  return figures;
}

/* The points `vt-frontier.py --at-requests` printed: the requests each
 * schedule found made, and its p95. */
typedef struct
{
  GArray *requests;
  GArray *p95;
} Frontier;

static gboolean
frontier_load (Frontier   *frontier,
               const char *path,
               GError    **error)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;

  if (!g_file_get_contents (path, &text, NULL, error))
    return FALSE;
  frontier->requests = g_array_new (FALSE, FALSE, sizeof (double));
  frontier->p95 = g_array_new (FALSE, FALSE, sizeof (double));
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      double budget, p95, requests;

      if (sscanf (lines[i], "at %lf requests per job: p95 %lf s with %lf requests",
                  &budget, &p95, &requests) == 3)
        {
          g_array_append_val (frontier->requests, requests);
          g_array_append_val (frontier->p95, p95);
        }
    }
  return frontier->requests->len > 0;
}

/* The lowest p95 found with at most @requests, interpolated between the
 * points on either side. */
static double
frontier_at (const Frontier *frontier,
             double          requests)
{
  double below_r = 0, below_p = NAN, above_r = G_MAXDOUBLE, above_p = NAN;

  for (guint i = 0; i < frontier->requests->len; i++)
    {
      double r = g_array_index (frontier->requests, double, i);
      double p = g_array_index (frontier->p95, double, i);

      if (r <= requests && r >= below_r && (isnan (below_p) || r > below_r || p < below_p))
        below_r = r, below_p = p;
      if (r > requests && r < above_r)
        above_r = r, above_p = p;
    }
  if (isnan (below_p) || isnan (above_p))
    return isnan (below_p) ? above_p : below_p;
  return below_p + (above_p - below_p) * (requests - below_r) / (above_r - below_r);
}

/* Sorts @values in place for the median, the quartiles and the worst. */
static void
print_spread (const char *name,
              double     *values,
              guint       n,
              int         decimals)
{
  qsort (values, n, sizeof (double), vt_bench_compare_doubles);
  g_print ("  %-26s median %.*f  quartiles %.*f %.*f  worst %.*f\n", name,
           decimals, values[n / 2], decimals, values[n / 4], decimals, values[(3 * n) / 4],
           decimals, values[n - 1]);
}

/* One figure of every set: the one at @offset in Figures. */
static double *
column_of (const Figures *sets,
           guint          n,
           gsize          offset)
{
  double *column = g_new (double, n);

  for (guint i = 0; i < n; i++)
    column[i] = G_STRUCT_MEMBER (double, &sets[i], offset);
  return column;
}

/* The median print_spread() prints. */
static double
median_of (const Figures *sets,
           guint          n,
           gsize          offset)
{
  g_autofree double *column = column_of (sets, n, offset);

  qsort (column, n, sizeof (double), vt_bench_compare_doubles);
  return column[n / 2];
}

/* The spread over the sets of each figure a strategy has. */
static void
print_figures (const char    *name,
               const Figures *sets,
               guint          n)
{
  static const struct { const char *name; gsize offset; int decimals; } columns[] = {
    { "requests per job", G_STRUCT_OFFSET (Figures, requests), 2 },
    { "p95 delay, s", G_STRUCT_OFFSET (Figures, p95), 2 },
    { "p99 delay, s", G_STRUCT_OFFSET (Figures, p99), 2 },
    { "p95 delay / duration, %", G_STRUCT_OFFSET (Figures, p95_relative), 1 },
  };

  g_print ("%s:\n", name);
  for (guint c = 0; c < G_N_ELEMENTS (columns); c++)
    {
      g_autofree double *column = column_of (sets, n, columns[c].offset);

      print_spread (columns[c].name, column, n, columns[c].decimals);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *durations_text = NULL;
  g_autofree char *frontier_path = NULL;
  int warm_up = 20, n_jobs = 200, n_sets = 100, seed = 1;
  double latency = 0.01;
  gboolean verbose = FALSE, check = FALSE;
  const GOptionEntry entries[] = {
    { "durations", 0, 0, G_OPTION_ARG_STRING, &durations_text,
      "fixed:S, uniform:A:B or lognormal:MU:SIGMA (default: uniform:20:40)", "MODEL" },
    { "warm-up", 0, 0, G_OPTION_ARG_INT, &warm_up, "Jobs learned first, one after another (default: 20)", "N" },
    { "jobs", 0, 0, G_OPTION_ARG_INT, &n_jobs, "Jobs followed together after them (default: 200)", "N" },
    { "sets", 0, 0, G_OPTION_ARG_INT, &n_sets, "Warm-up sets (default: 100)", "N" },
    { "seed", 0, 0, G_OPTION_ARG_INT, &seed, "First set's seed (default: 1)", "N" },
    { "latency", 0, 0, G_OPTION_ARG_DOUBLE, &latency, "Seconds a request takes (default: 0.01)", "S" },
    { "frontier", 0, 0, G_OPTION_ARG_FILENAME, &frontier_path,
      "vt-frontier.py --at-requests output for these durations", "FILE" },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "Print each set's figures and plan", NULL },
    { "check", 0, 0, G_OPTION_ARG_NONE, &check,
      "Exit 1 on a timeout inside the budget, or a median set no better than the seed", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("— the plain schedule and the learned plan, simulated");
  g_autoptr(GError) error = NULL;
  VtScheduleConfig config = seed_config ();
  Frontier frontier = { NULL, NULL };
  VtsDurationModel model;
  g_autofree Figures *ours = NULL, *theirs = NULL;
  g_autofree double *ratio = NULL;
  guint timeouts = 0, relative_worse = 0, sets_over_half = 0, sets_both = 0;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) ||
      !vts_duration_model_parse (&model, durations_text != NULL ? durations_text : "uniform:20:40",
                                 &error) ||
      warm_up < 0 || n_jobs < 1 || n_sets < 1 || latency < 0 ||
      (frontier_path != NULL && !frontier_load (&frontier, frontier_path, &error)))
    {
      g_printerr ("vt-plan-sim: %s\n", error != NULL ? error->message : "bad arguments");
      return 2;
    }

  ours = g_new (Figures, n_sets);
  theirs = g_new (Figures, n_sets);
  ratio = g_new (double, n_sets);

  for (int s = 0; s < n_sets; s++)
    {
      g_autoptr(GRand) warm_rand = g_rand_new_with_seed (seed + s + 1000);
      g_autoptr(GRand) job_rand = g_rand_new_with_seed (seed + s);
      g_autoptr(GRand) rand = g_rand_new_with_seed (7 * (seed + s));
      g_autoptr(VtDurationModel) learned = vt_duration_model_new ();
      g_autofree double *durations = g_new (double, n_jobs);
      g_autofree double *delays = g_new (double, n_jobs);
      g_autofree guint *counts = g_new (guint, n_jobs);
      VtDurationEstimate estimate;
      VtSchedulePlan plan;
      gboolean planned;
      const Figures *we = &ours[s], *they = &theirs[s];

      for (int w = 0; w < warm_up; w++)
        {
          double delay, low = -1, high = -1;

          planned = vt_duration_model_estimate (learned, &estimate) &&
                    vt_schedule_plan_build (&config, &estimate, &plan);
          follow (&config, planned ? &plan : NULL, latency, vts_duration_model_sample (&model, warm_rand), rand,
                  &delay, &low, &high);
          if (delay >= 0 && low >= 0)
            vt_duration_model_add_interval (learned, low, high);
        }
      planned = vt_duration_model_estimate (learned, &estimate) &&
                vt_schedule_plan_build (&config, &estimate, &plan);

      for (int j = 0; j < n_jobs; j++)
        {
          double low, high;

          durations[j] = vts_duration_model_sample (&model, job_rand);
          counts[j] = follow (&config, planned ? &plan : NULL, latency, durations[j], rand,
                              &delays[j], &low, &high);
        }
      ours[s] = figures_of (durations, delays, counts, n_jobs);
      for (int j = 0; j < n_jobs; j++)
        counts[j] = follow_seed (latency, durations[j], rand, &delays[j]);
      theirs[s] = figures_of (durations, delays, counts, n_jobs);

      ratio[s] = frontier.requests != NULL ? we->p95 / frontier_at (&frontier, we->requests) : NAN;
      timeouts += we->timeouts_in_budget;
      relative_worse += we->p95_relative > they->p95_relative;
      sets_over_half += we->p95 > they->p95 / 2;
      sets_both += we->p95_relative <= they->p95_relative && we->p95 <= they->p95 / 2;

      if (verbose)
        {
          g_print ("set %d: %.2f requests, p95 %.2f s (%.1f %%), %u timeouts in budget; seed %.2f, %.2f s (%.1f %%)",
                   s, we->requests, we->p95, we->p95_relative, we->timeouts_in_budget,
                   they->requests, they->p95, they->p95_relative);
          if (!isnan (ratio[s]))
            g_print ("; %.2fx the frontier", ratio[s]);
          g_print ("\n  plan:");
          for (guint i = 0; planned && i < plan.n_polls; i++)
            g_print (" %.2f", plan.polls[i]);
          g_print (planned ? " (step %.2f)\n" : " none\n", plan.step);
        }
    }

  g_print ("%d warm-up sets of %d jobs learned, %d followed, durations %s\n", n_sets, warm_up, n_jobs,
           durations_text != NULL ? durations_text : "uniform:20:40");
  print_figures ("vt-plain", ours, n_sets);
  if (frontier.requests != NULL)
    print_spread ("p95 / frontier", ratio, n_sets, 3);
  g_print ("  timeouts of jobs ending inside the budget: %u in all\n", timeouts);
  g_print ("  sets where p95 %% is worse than the seed's: %u; p95 over half the seed's: %u\n",
           relative_worse, sets_over_half);
  g_print ("  sets with both p95 %% at most the seed's and p95 at most half of it: %u\n", sets_both);
  print_figures ("seed", theirs, n_sets);

  if (frontier.requests != NULL)
    {
      g_array_unref (frontier.requests);
      g_array_unref (frontier.p95);
    }

  if (check && (timeouts > 0 ||
                median_of (ours, n_sets, G_STRUCT_OFFSET (Figures, requests)) >=
                median_of (theirs, n_sets, G_STRUCT_OFFSET (Figures, requests)) ||
                median_of (ours, n_sets, G_STRUCT_OFFSET (Figures, p95)) >=
                median_of (theirs, n_sets, G_STRUCT_OFFSET (Figures, p95))))
    {
      g_printerr ("vt-plan-sim: check failed\n");
      return 1;
    }
  return 0;
}
