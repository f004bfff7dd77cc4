/* vt-answer-bytes.h: the bytes of the answers a bench's follower receives
 *
 * A bench's SoupMessage::starting emission hook hands each request of the
 * follower to vt_answer_bytes_track(): the message then collects its
 * metrics (SOUP_MESSAGE_COLLECT_METRICS: libsoup picks them up when it
 * sends the message, just after "starting") and, once it finishes with a
 * status line, the watcher is told its status and the bytes libsoup read
 * from the socket for it: the status line, headers and blank line, and
 * the body as it came on the wire. Requests that got no status line
 * (cancelled, reset) are not answers and are not told.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct
{
  guint64 count;
  guint64 header_bytes;
  guint64 body_bytes;
} VtAnswerTally;

typedef struct
{
  void     (*answered) (SoupMessage *msg,
                        guint        status,
                        guint64      header_bytes,
                        guint64      body_bytes,
                        gpointer     user_data);
  gpointer   user_data;
} VtAnswerWatcher;

/* Tells @watcher (which must outlive the message) of @msg's answer; a
 * message handed in again (a restart) is told once. */
void        vt_answer_bytes_track     (SoupMessage           *msg,
                                       const VtAnswerWatcher *watcher);

void        vt_answer_tally_add       (VtAnswerTally         *tally,
                                       guint64                header_bytes,
                                       guint64                body_bytes);
/* Mean bytes (headers and body) per answer; NAN when there is none. */
double      vt_answer_tally_mean      (const VtAnswerTally   *tally);

/* HTTP status → VtAnswerTally, for vt_answer_tallies_add(). */
GHashTable *vt_answer_tallies_new     (void);
void        vt_answer_tallies_add     (GHashTable            *tallies,
                                       guint                  status,
                                       guint64                header_bytes,
                                       guint64                body_bytes);
/* {"200": {"count", "header_bytes", "body_bytes", "bytes_per_answer"}, …} */
JsonObject *vt_answer_tallies_to_json (GHashTable            *tallies);

/* The job id of a GET /jobs/{id} (a poll or a long-poll, not its event
 * stream), in @msg's path (it lives as long as the message's URI); NULL
 * for any other request. */
const char *vt_answer_job_id          (SoupMessage           *msg);
/* Counts @msg's answer (@status and its bytes) in @tallies and, when it
 * says the job is still pending (vt-server's ETag W/"pending", on a 200
 * and a 304 alike) and an earlier answer of the job said so too, in
 * @unchanged: a poll of a job that had not changed. @said_pending counts
 * the job's answers that said so; %NULL for an answer of no job followed.
 * The plain server sends no ETag: its answers are never unchanged. */
void        vt_answer_count           (GHashTable            *tallies,
                                       VtAnswerTally         *unchanged,
                                       guint                 *said_pending,
                                       SoupMessage           *msg,
                                       guint                  status,
                                       guint64                header_bytes,
                                       guint64                body_bytes);

G_END_DECLS
