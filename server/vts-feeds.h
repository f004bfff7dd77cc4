/* vts-feeds.h: every feed of the server, by id
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "vts-feed.h"

G_BEGIN_DECLS

#define VTS_TYPE_FEEDS (vts_feeds_get_type ())
G_DECLARE_FINAL_TYPE (VtsFeeds, vts_feeds, VTS, FEEDS, GObject)

VtsFeeds            *vts_feeds_new        (const VtsJobFormat *format,
                                           double              ttl);
double               vts_feeds_get_ttl    (VtsFeeds           *self);
VtsFeed             *vts_feeds_create     (VtsFeeds           *self,
                                           double              progress_interval);
VtsFeed             *vts_feeds_lookup     (VtsFeeds           *self,
                                           const char         *id);
void                 vts_feeds_delete     (VtsFeeds           *self,
                                           VtsFeed            *feed);
guint                vts_feeds_get_n_feeds (VtsFeeds          *self);
const VtsFeedCounts *vts_feeds_get_counts (VtsFeeds           *self);

G_END_DECLS
