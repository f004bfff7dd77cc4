/* vt-schedule-private.h: when to ask next (pure policy, no I/O)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

#include "vt-duration-model-private.h"
#include "vt-enums.h"

G_BEGIN_DECLS

/* A snapshot of the client's settings, taken when a watch starts so that
 * changing a property never disturbs a watch in flight. Times in seconds. */
typedef struct
{
  double       initial_wait;
  double       backoff_factor;
  double       jitter;
  VtJitterMode jitter_mode;
  guint        max_attempts;   /* requests per watch, 0 = no cap */
  double       max_wait_time;  /* budget from the first request */
  double       min_interval;   /* floor for hinted waits */
  double       max_interval;   /* ceiling for hinted waits */
} VtScheduleConfig;

gboolean vt_schedule_config_equal (const VtScheduleConfig *a,
                                   const VtScheduleConfig *b);

/* What the server told us about the next poll; negative means absent. */
typedef struct
{
  double retry_after;
  double eta;
} VtScheduleHints;

#define VT_SCHEDULE_NO_HINTS ((VtScheduleHints) { -1.0, -1.0 })

double   vt_schedule_backoff      (const VtScheduleConfig *config,
                                   guint                   attempts,
                                   GRand                  *rand);
double   vt_schedule_cold_wait    (const VtScheduleConfig *config,
                                   guint                   attempts,
                                   double                  elapsed,
                                   GRand                  *rand);
double   vt_schedule_hinted       (const VtScheduleConfig *config,
                                   const VtScheduleHints  *hints);
gboolean vt_schedule_fit_deadline (const VtScheduleConfig *config,
                                   double                  elapsed,
                                   double                  delay,
                                   double                 *fitted);
/* The polls a learned schedule places, in seconds since the first
 * request: @step apart over where the learned jobs end (closer where
 * short jobs end, by the backoff's relative spacing), the last on the
 * deadline. @shift, in [-0.5, 0.5], moves one watch's polls by that
 * share of their gap from the previous one (@start for the first), at
 * most a step, all but the deadline's: watches started together do not
 * poll together, and polls at every phase keep what is learned from them
 * sharp. Whoever follows the plan sets it. */
#define VT_SCHEDULE_PLAN_MAX_POLLS 64

typedef struct
{
  guint  n_polls;
  double step;
  double shift;
  double start;
  double polls[VT_SCHEDULE_PLAN_MAX_POLLS];
} VtSchedulePlan;

gboolean vt_schedule_next_delay   (const VtScheduleConfig *config,
                                   guint                   attempts,
                                   double                  elapsed,
                                   const VtScheduleHints  *hints,
                                   const VtSchedulePlan   *plan,
                                   GRand                  *rand,
                                   double                 *delay);
gboolean vt_schedule_retry_delay  (const VtScheduleConfig *config,
                                   guint                   failures,
                                   double                  elapsed,
                                   double                  retry_after,
                                   GRand                  *rand,
                                   double                 *delay);

/* One pending observation's ETA and the instant @t the server computed
 * it. On the server's clock (its "elapsed" for the job) the instant is
 * exact; on the watch's clock it is when the answer arrived, and the ETA
 * may have been computed up to @uncertainty (the round trip) earlier. */
typedef struct
{
  double   t;
  double   eta;
  double   uncertainty;
  gboolean server_clock;
} VtEtaSample;

#define VT_ETA_SAMPLE_NONE ((VtEtaSample) { -1.0, -1.0, 0.0, FALSE })

double   vt_schedule_eta_wait     (const VtScheduleConfig *config,
                                   const VtEtaSample      *previous,
                                   const VtEtaSample      *current);
double   vt_schedule_expected_requests (const VtDurationEstimate *estimate,
                                        const double             *polls,
                                        guint                     n_polls);
/* What a learned plan reads off the estimate, in seconds since the first
 * request: the span where jobs end, the gaps' relative bound (gaps within
 * @ratio of the time elapsed, counted from @relative_from on), and
 * whether polls go on a step apart past the span as far as the attempts
 * allow (@fill) or share the attempts left evenly to the deadline. */
typedef struct
{
  double   start;
  double   end;
  double   ratio;
  double   relative_from;
  gboolean fill;
} VtScheduleSpan;

void     vt_schedule_span_from_estimate (const VtScheduleConfig   *config,
                                         const VtDurationEstimate *estimate,
                                         VtScheduleSpan           *span);
double   vt_schedule_plan_budget  (const VtScheduleConfig   *config,
                                   const VtDurationEstimate *estimate);
gboolean vt_schedule_plan_lay_out (const VtScheduleConfig   *config,
                                   const VtScheduleSpan     *span,
                                   double                    step,
                                   VtSchedulePlan           *plan);
gboolean vt_schedule_plan_build   (const VtScheduleConfig   *config,
                                   const VtDurationEstimate *estimate,
                                   VtSchedulePlan           *plan);
gboolean vt_schedule_planned_delay (const VtScheduleConfig *config,
                                    const VtSchedulePlan   *plan,
                                    guint                   attempts,
                                    double                  elapsed,
                                    double                 *delay);

G_END_DECLS
