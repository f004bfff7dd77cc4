/* vts-feeds.c: every feed of the server, by id
 *
 * Feeds are kept in memory only: after a restart every fid is a 404 and
 * clients create new feeds (docs/protocol.md). A feed leaves the table
 * when it is deleted or its ttl runs out; freeing it ends its delivery.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vts-feeds.h"

struct _VtsFeeds
{
  GObject             parent_instance;

  const VtsJobFormat *format;
  double              ttl;
  GHashTable         *feeds;   /* id → VtsFeed, owned */
  VtsFeedCounts       counts;
};

G_DEFINE_FINAL_TYPE (VtsFeeds, vts_feeds, G_TYPE_OBJECT)

static void
vts_feeds_finalize (GObject *object)
{
  VtsFeeds *self = VTS_FEEDS (object);

  g_hash_table_unref (self->feeds);

  G_OBJECT_CLASS (vts_feeds_parent_class)->finalize (object);
}

static void
vts_feeds_class_init (VtsFeedsClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = vts_feeds_finalize;
}

static void
vts_feeds_init (VtsFeeds *self)
{
  self->feeds = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                       (GDestroyNotify) vts_feed_free);
}

/*
 * vts_feeds_new:
 * @format: how the feeds write job documents; outlives them
 * @ttl: the seconds an unused feed lives
 */
VtsFeeds *
vts_feeds_new (const VtsJobFormat *format,
               double              ttl)
{
  VtsFeeds *self = g_object_new (VTS_TYPE_FEEDS, NULL);

  self->format = format;
  self->ttl = ttl;
  return self;
}

double
vts_feeds_get_ttl (VtsFeeds *self)
{
  g_return_val_if_fail (VTS_IS_FEEDS (self), 0);

  return self->ttl;
}

static void
on_feed_expired (VtsFeed  *feed,
                 gpointer  user_data)
{
  vts_feeds_delete (user_data, feed);
}

/* Returns: (transfer none): a new feed */
VtsFeed *
vts_feeds_create (VtsFeeds *self,
                  double    progress_interval)
{
  VtsFeed *feed;

  g_return_val_if_fail (VTS_IS_FEEDS (self), NULL);

  feed = vts_feed_new (progress_interval, self->ttl, self->format, &self->counts, on_feed_expired, self);
  g_hash_table_insert (self->feeds, (gpointer) vts_feed_get_id (feed), feed);
  return feed;
}

/* Returns: (transfer none) (nullable) */
VtsFeed *
vts_feeds_lookup (VtsFeeds   *self,
                  const char *id)
{
  g_return_val_if_fail (VTS_IS_FEEDS (self), NULL);

  return id != NULL ? g_hash_table_lookup (self->feeds, id) : NULL;
}

void
vts_feeds_delete (VtsFeeds *self,
                  VtsFeed  *feed)
{
  g_return_if_fail (VTS_IS_FEEDS (self));

  g_hash_table_remove (self->feeds, vts_feed_get_id (feed));
}

guint
vts_feeds_get_n_feeds (VtsFeeds *self)
{
  g_return_val_if_fail (VTS_IS_FEEDS (self), 0);

  return g_hash_table_size (self->feeds);
}

const VtsFeedCounts *
vts_feeds_get_counts (VtsFeeds *self)
{
  g_return_val_if_fail (VTS_IS_FEEDS (self), NULL);

  return &self->counts;
}
