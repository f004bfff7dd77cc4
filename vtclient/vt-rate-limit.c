/* vt-rate-limit.c: what one client knows of a server's limit
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "vt-rate-limit-private.h"

void
vt_rate_limit_init (VtRateLimit *self)
{
  *self = (VtRateLimit) { 0 };
}

static void
refill (VtRateLimit *self,
        gint64       now_us)
{
  if (self->known && now_us > self->updated_us)
    self->tokens = MIN (self->burst,
                        self->tokens + self->rate * (now_us - self->updated_us) / (double) G_USEC_PER_SEC);
  self->updated_us = MAX (self->updated_us, now_us);
}

static void
hold (VtRateLimit *self,
      double       seconds,
      gint64       now_us)
{
  self->hold_until_us = MAX (self->hold_until_us, now_us + (gint64) (seconds * G_USEC_PER_SEC));
}

/* What an answer said. The server's count of what is left wins over
 * ours when it is lower: it also saw the requests of our other jobs that
 * were in flight. */
void
vt_rate_limit_learn (VtRateLimit      *self,
                     const VtRateInfo *info,
                     gint64            now_us)
{
  refill (self, now_us);

  if (info->quota >= 1 && info->window > 0)
    {
      if (!self->known)
        self->tokens = info->quota;
      self->known = TRUE;
      self->rate = info->quota / info->window;
      self->burst = info->quota;
      self->tokens = MIN (self->tokens, self->burst);
    }

  if (info->remaining >= 0 && self->known)
    self->tokens = MIN (self->tokens, info->remaining);
  if (info->remaining == 0 && info->reset > 0)
    hold (self, info->reset, now_us);

  if (info->retry_after >= 0)
    {
      hold (self, info->retry_after, now_us);
      self->tokens = MIN (self->tokens, 0.0);
    }
}

/* The earliest a request may start: @now_us if it may now. */
gint64
vt_rate_limit_when (VtRateLimit *self,
                    gint64       now_us)
{
  gint64 when = MAX (now_us, self->hold_until_us);

  refill (self, now_us);
  if (self->known && self->tokens < 1.0)
    when = MAX (when, now_us + (gint64) ((1.0 - self->tokens) / self->rate * G_USEC_PER_SEC) + 1);

  return when;
}

/* A request starts: it spends a token. */
void
vt_rate_limit_take (VtRateLimit *self,
                    gint64       now_us)
{
  refill (self, now_us);
  if (self->known)
    self->tokens -= 1.0;
}
