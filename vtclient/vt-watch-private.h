/* vt-watch-private.h: the state machine of one job being followed
 *
 * A watch knows nothing of the client or of the hub that runs it: it is
 * handed what it sends with (a VtWatchHost: session, request queues,
 * timers, feeds) and whom it tells (a VtWatchListener: every observation,
 * then the end, exactly once).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <libsoup/soup.h>

#include "vt-channel-feed-private.h"
#include "vt-enums.h"
#include "vt-job-response-private.h"
#include "vt-protocol-private.h"
#include "vt-request-queue-private.h"
#include "vt-schedule-private.h"
#include "vt-timer-heap-private.h"

G_BEGIN_DECLS

typedef struct _VtWatch VtWatch;

/* The client's settings, copied when a watch is made, so that changing
 * a property never disturbs a watch in flight. */
typedef struct
{
  VtScheduleConfig  schedule;
  VtStrategy        strategy;
  double            request_timeout;
  double            start_jitter;
  double            progress_interval;  /* asked of feeds for jobs whose
                                         * progress is wanted */
  char             *token;
  /* Resuming a job followed before (vt_client_import_state()): the
   * last event its stream sent, sent as Last-Event-ID. */
  char             *last_event_id;
} VtWatchOptions;

void vt_watch_options_clear (VtWatchOptions *options);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (VtWatchOptions, vt_watch_options_clear)

/* What runs a watch. Everything here outlives the watch: the watch holds
 * the host (ref/unref) for as long as it lives. */
typedef struct
{
  SoupSession    *session;
  VtRequestQueue *queue;        /* polls: bounded, in order */
  VtRequestQueue *held_queue;   /* requests a server holds: per-job
                                 * long-polls and streams */
  VtTimerHeap    *timers;
  GRand          *rand;
  gboolean        shares_feeds; /* %FALSE: per-job channels only */

  gpointer  (*ref)               (gpointer            host_data);
  void      (*unref)             (gpointer            host_data);
  /* The shared feed for @delivery, @options' token and a progress
   * event every @progress_interval seconds (0: status changes only);
   * %NULL when the server has none. */
  VtFeed   *(*get_feed)          (VtFeedDelivery      delivery,
                                  const VtWatchOptions *options,
                                  double              progress_interval,
                                  gpointer            host_data);
  /* Where a polling watch with @config polls, by what was learned;
   * %FALSE when nothing is. Asked once, at the first pending poll. */
  gboolean  (*get_plan)          (const VtScheduleConfig *config,
                                  VtSchedulePlan     *plan,
                                  gpointer            host_data);
  /* Before a first request with nothing known of the server: %FALSE to
   * send it (the host may have learned the capabilities meanwhile: then
   * *@known is set), %TRUE when the watch is to wait for another one's
   * answer: the host then calls vt_watch_resume(). */
  gboolean  (*park)              (VtWatch            *watch,
                                  gboolean           *known,
                                  VtCapabilities     *capabilities,
                                  gpointer            host_data);
  /* Whether the server can be reached now (the network monitor's
   * word); while it cannot, the watch waits for wait_online() to end
   * with vt_watch_resume_online(), spending no attempt. */
  gboolean  (*is_online)         (gpointer            host_data);
  void      (*wait_online)       (VtWatch            *watch,
                                  gpointer            host_data);
  /* How much longer polling waits are (power saver: > 1). */
  double    (*poll_stretch)      (gpointer            host_data);
  /* The first answer told what the server can do. */
  void      (*capabilities_seen) (VtWatch            *watch,
                                  VtCapabilities      capabilities,
                                  gpointer            host_data);
  /* A channel the server announced was refused. */
  void      (*withdraw)          (VtCapabilities      capabilities,
                                  gpointer            host_data);
  /* The watch is over; @ended_after < 0 when it learned no duration,
   * else the job ended between @ended_after and @ended_by seconds in. */
  void      (*released)          (VtWatch            *watch,
                                  double              ended_after,
                                  double              ended_by,
                                  gpointer            host_data);
  gpointer  host_data;
} VtWatchHost;

/* Whom a watch tells. */
typedef struct
{
  /* An answer about the job: @status_changed when its status differs
   * from the last one seen (the first one included), @progress_changed
   * when a pending job's progress or ETA did. */
  void (*observed) (VtWatch                *watch,
                    const VtJobObservation *observation,
                    gboolean                status_changed,
                    gboolean                progress_changed,
                    gpointer                user_data);
  /* Exactly once: the final status, or why the job could not be
   * followed (@error, with a status of VT_STATUS_TIMEOUT). */
  void (*finished) (VtWatch                *watch,
                    VtStatus                status,
                    const GError           *error,
                    gpointer                user_data);
} VtWatchListener;

VtWatch        *vt_watch_new                (const VtWatchHost     *host,
                                             const VtWatchOptions  *options,
                                             const char            *base_url,
                                             const char            *job_id,
                                             GUri                  *uri,
                                             GCancellable          *cancellable,
                                             const VtWatchListener *listener,
                                             gpointer               listener_data);
VtWatch        *vt_watch_ref                (VtWatch               *watch);
void            vt_watch_unref              (VtWatch               *watch);

gboolean        vt_watch_wants_capabilities (VtWatch               *watch);
void            vt_watch_start              (VtWatch               *watch,
                                             gboolean               capabilities_known,
                                             VtCapabilities         capabilities);
void            vt_watch_resume             (VtWatch               *watch,
                                             gboolean               capabilities_known,
                                             VtCapabilities         capabilities);
void            vt_watch_cancel             (VtWatch               *watch);
void            vt_watch_want_progress      (VtWatch               *watch);
void            vt_watch_resume_online      (VtWatch               *watch);
void            vt_watch_network_returned   (VtWatch               *watch);
gboolean        vt_watch_is_done            (VtWatch               *watch);

const char     *vt_watch_get_job_id         (VtWatch               *watch);
const char     *vt_watch_get_base_url       (VtWatch               *watch);
guint           vt_watch_get_n_requests     (VtWatch               *watch);
double          vt_watch_get_time_left      (VtWatch               *watch);
guint           vt_watch_get_attempts_left  (VtWatch               *watch);
const char     *vt_watch_get_last_event_id  (VtWatch               *watch);
GList          *vt_watch_get_link           (VtWatch               *watch);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VtWatch, vt_watch_unref)

G_END_DECLS
