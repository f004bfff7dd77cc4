/* vt-rate-limit-private.h: what one client knows of a server's limit (pure)
 *
 * A token bucket, refilled at the rate the server grants
 * (RateLimit-Policy), kept in step with what the server says is left
 * (RateLimit), and held shut for the Retry-After of a 429 or 503: one
 * job's answer paces every job's next request. Times are the caller's
 * monotonic microseconds.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

#include "vt-protocol-private.h"

G_BEGIN_DECLS

typedef struct
{
  gboolean known;          /* a policy was told: the bucket applies */
  double   rate;           /* tokens a second */
  double   burst;          /* the bucket's size */
  double   tokens;
  gint64   updated_us;
  gint64   hold_until_us;  /* no request before this */
} VtRateLimit;

void   vt_rate_limit_init  (VtRateLimit      *self);
void   vt_rate_limit_learn (VtRateLimit      *self,
                            const VtRateInfo *info,
                            gint64            now_us);
gint64 vt_rate_limit_when  (VtRateLimit      *self,
                            gint64            now_us);
void   vt_rate_limit_take  (VtRateLimit      *self,
                            gint64            now_us);

G_END_DECLS
