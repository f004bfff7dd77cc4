/* vt-channel-feed-private.h: one channel for many jobs (a server's feed)
 *
 * A feed is a set of jobs the server keeps for one client
 * (docs/protocol.md, "Feeds"). Jobs join it and leave it with batched
 * POSTs, and every change of every job in it comes back over one
 * delivery: an event stream, or a long-poll with a cursor. So a client
 * following ten thousand jobs holds one connection for them, and a job
 * never waits behind another job's held request.
 *
 * Members are embedded in their owners (a watch). A member's callbacks
 * run in the feed's main context; after "lost", or once the member has
 * left, it hears nothing more.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <libsoup/soup.h>

#include "vt-job-response-private.h"
#include "vt-request-queue-private.h"
#include "vt-timer-heap-private.h"

G_BEGIN_DECLS

typedef struct _VtFeed VtFeed;
typedef struct _VtFeedMember VtFeedMember;

typedef enum
{
  VT_FEED_DELIVERY_STREAM,
  VT_FEED_DELIVERY_LONG_POLL,
} VtFeedDelivery;

typedef enum
{
  VT_FEED_LOST_UNSUPPORTED,  /* the server keeps no feeds: ask another way */
  VT_FEED_LOST_FATAL,        /* the job cannot be followed: the error says why */
} VtFeedLoss;

typedef struct
{
  void (*observed) (VtFeedMember           *member,
                    const VtJobObservation *observation,
                    gpointer                user_data);
  void (*lost)     (VtFeedMember           *member,
                    VtFeedLoss              loss,
                    const GError           *error,
                    gpointer                user_data);
} VtFeedMemberCallbacks;

struct _VtFeedMember
{
  /*< private >*/
  const char                  *job_id;  /* the owner's, outlives membership */
  const VtFeedMemberCallbacks *callbacks;
  gpointer                     user_data;
  VtFeedMember                *next;    /* another member for the same job */
  gboolean                     joined;
  gboolean                     ended;   /* its job's final state was told */
};

typedef struct
{
  SoupSession    *session;
  VtRequestQueue *queue;      /* joins and leaves wait their turn here */
  VtTimerHeap    *timers;
  const char     *base_url;
  const char     *token;
  double          request_timeout;
  double          progress_interval;
  VtFeedDelivery  delivery;
} VtFeedOptions;

/* The most ids one join request carries; more are split. */
#define VT_FEED_MAX_BATCH 1000

VtFeed       *vt_feed_new              (const VtFeedOptions         *options);
VtFeed       *vt_feed_ref              (VtFeed                      *feed);
void          vt_feed_unref            (VtFeed                      *feed);
void          vt_feed_close            (VtFeed                      *feed);

void          vt_feed_member_init      (VtFeedMember                *member,
                                        const char                  *job_id,
                                        const VtFeedMemberCallbacks *callbacks,
                                        gpointer                     user_data);
gboolean      vt_feed_join             (VtFeed                      *feed,
                                        VtFeedMember                *member);
void          vt_feed_leave            (VtFeed                      *feed,
                                        VtFeedMember                *member);

void          vt_feed_set_online       (VtFeed                      *feed,
                                        gboolean                     online);
const GError *vt_feed_get_error        (VtFeed                      *feed);
gboolean      vt_feed_is_unsupported   (VtFeed                      *feed);
guint         vt_feed_get_n_members    (VtFeed                      *feed);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VtFeed, vt_feed_unref)

G_END_DECLS
