/* vt-answer-bytes.c: the bytes of the answers a bench's follower receives
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vt-answer-bytes.h"

#include <math.h>
#include <string.h>

static GQuark
tracked_quark (void)
{
  return g_quark_from_static_string ("vt-answer-bytes-tracked");
}

static void
on_message_finished (SoupMessage *msg,
                     gpointer     user_data)
{
  const VtAnswerWatcher *watcher = user_data;
  SoupMessageMetrics *metrics = soup_message_get_metrics (msg);
  guint status = soup_message_get_status (msg);

  if (status < 100 || metrics == NULL)
    return;
  watcher->answered (msg, status,
                     soup_message_metrics_get_response_header_bytes_received (metrics),
                     soup_message_metrics_get_response_body_bytes_received (metrics),
                     watcher->user_data);
}

void
vt_answer_bytes_track (SoupMessage           *msg,
                       const VtAnswerWatcher *watcher)
{
  if (g_object_get_qdata (G_OBJECT (msg), tracked_quark ()) != NULL)
    return;
  g_object_set_qdata (G_OBJECT (msg), tracked_quark (), GINT_TO_POINTER (TRUE));
  soup_message_add_flags (msg, SOUP_MESSAGE_COLLECT_METRICS);
  g_signal_connect (msg, "finished", G_CALLBACK (on_message_finished), (gpointer) watcher);
}

void
vt_answer_tally_add (VtAnswerTally *tally,
                     guint64        header_bytes,
                     guint64        body_bytes)
{
  tally->count++;
  tally->header_bytes += header_bytes;
  tally->body_bytes += body_bytes;
}

double
vt_answer_tally_mean (const VtAnswerTally *tally)
{
  return tally->count > 0 ? (tally->header_bytes + tally->body_bytes) / (double) tally->count : NAN;
}

GHashTable *
vt_answer_tallies_new (void)
{
  return g_hash_table_new_full (NULL, NULL, NULL, g_free);
}

void
vt_answer_tallies_add (GHashTable *tallies,
                       guint       status,
                       guint64     header_bytes,
                       guint64     body_bytes)
{
  VtAnswerTally *tally = g_hash_table_lookup (tallies, GUINT_TO_POINTER (status));

  if (tally == NULL)
    {
      tally = g_new0 (VtAnswerTally, 1);
      g_hash_table_insert (tallies, GUINT_TO_POINTER (status), tally);
    }
  vt_answer_tally_add (tally, header_bytes, body_bytes);
}

JsonObject *
vt_answer_tallies_to_json (GHashTable *tallies)
{
  JsonObject *answers = json_object_new ();
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, tallies);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      const VtAnswerTally *tally = value;
      JsonObject *object = json_object_new ();
      g_autofree char *status = g_strdup_printf ("%u", GPOINTER_TO_UINT (key));

      json_object_set_int_member (object, "count", tally->count);
      json_object_set_int_member (object, "header_bytes", tally->header_bytes);
      json_object_set_int_member (object, "body_bytes", tally->body_bytes);
      json_object_set_double_member (object, "bytes_per_answer", vt_answer_tally_mean (tally));
      json_object_set_object_member (answers, status, object);
    }
  return answers;
}

const char *
vt_answer_job_id (SoupMessage *msg)
{
  const char *path = g_uri_get_path (soup_message_get_uri (msg));
  const char *id = path + strlen ("/jobs/");

  if (!g_str_has_prefix (path, "/jobs/") || *id == '\0' || strchr (id, '/') != NULL)
    return NULL;
  return id;
}

/* Whether @msg's answer (@status) says the job is still pending:
 * vt-server's ETag W/"pending", on a 200 and a 304 alike. */
static gboolean
says_pending (SoupMessage *msg,
              guint        status)
{
  const char *etag = soup_message_headers_get_one (soup_message_get_response_headers (msg), "ETag");

  return (status == SOUP_STATUS_OK || status == SOUP_STATUS_NOT_MODIFIED) &&
         g_strcmp0 (etag, "W/\"pending\"") == 0;
}

void
vt_answer_count (GHashTable    *tallies,
                 VtAnswerTally *unchanged,
                 guint         *said_pending,
                 SoupMessage   *msg,
                 guint          status,
                 guint64        header_bytes,
                 guint64        body_bytes)
{
  vt_answer_tallies_add (tallies, status, header_bytes, body_bytes);
  if (said_pending != NULL && says_pending (msg, status) && (*said_pending)++ > 0)
    vt_answer_tally_add (unchanged, header_bytes, body_bytes);
}
