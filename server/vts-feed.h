/* vts-feed.h: a set of jobs followed over one delivery (docs/protocol.md)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <libsoup/soup.h>

#include "vts-job.h"

G_BEGIN_DECLS

/* A feed no request has used for this long (seconds), with no delivery
 * open, goes; --feed-ttl changes it, for tests. */
#define VTS_FEED_TTL 60
/* The default, the smallest and the largest progress interval, seconds;
 * 0 turns progress events off. */
#define VTS_FEED_PROGRESS_INTERVAL 2.0
#define VTS_FEED_MIN_PROGRESS_INTERVAL 0.5
#define VTS_FEED_MAX_PROGRESS_INTERVAL 60.0
/* Seconds between two ": ping" comments on an open stream. */
#define VTS_FEED_PING_INTERVAL 15
/* Ended jobs whose terminal event is kept for a reconnecting client. */
#define VTS_FEED_MAX_ENDED_KEPT 4096

typedef struct _VtsFeed VtsFeed;

/* Called when the feed expired (its ttl ran out); the owner frees it. */
typedef void (*VtsFeedExpiredFunc) (VtsFeed  *feed,
                                    gpointer  user_data);

/* What a feed tells its owner about the numbers /metrics shows. */
typedef struct
{
  guint n_jobs;        /* pending jobs in feeds */
  guint n_streams;     /* open feed streams */
  guint n_long_polls;  /* held feed long-polls */
} VtsFeedCounts;

VtsFeed    *vts_feed_new             (double               progress_interval,
                                      double               ttl,
                                      const VtsJobFormat  *format,
                                      VtsFeedCounts       *counts,
                                      VtsFeedExpiredFunc   expired,
                                      gpointer             user_data);
void        vts_feed_free            (VtsFeed             *self);

const char *vts_feed_get_id          (VtsFeed             *self);
double      vts_feed_get_progress_interval (VtsFeed       *self);
void        vts_feed_touch           (VtsFeed             *self);

JsonNode   *vts_feed_join            (VtsFeed             *self,
                                      VtsJob              *job,
                                      gint64               now_us);
void        vts_feed_leave           (VtsFeed             *self,
                                      const char          *job_id);

void        vts_feed_open_stream     (VtsFeed             *self,
                                      SoupServerMessage   *msg,
                                      const char          *last_event_id);
void        vts_feed_long_poll       (VtsFeed             *self,
                                      SoupServerMessage   *msg,
                                      guint64              after,
                                      double               wait_seconds);

G_END_DECLS
