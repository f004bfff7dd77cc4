/* vt-server-test-utils.h: what the tests of vt-server share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "vt-test-server.h"

G_BEGIN_DECLS

typedef struct
{
  VtTestServer *server;
  SoupSession  *session;
  GIOStream    *kept;     /* a raw connection left open until the server stops */
} Fixture;

/* The server options of a test, NULL-terminated. */
typedef const char * const ServerArgs[];

void fixture_set_up    (Fixture       *f,
                        gconstpointer  data);
void fixture_tear_down (Fixture       *f,
                        gconstpointer  data);

#define add_server_test(path, args, func) \
  g_test_add (path, Fixture, args, fixture_set_up, func, fixture_tear_down)

#define SCALED(seconds) ((seconds) * vt_test_time_scale ())

/* One exchange, read to its end */
typedef struct
{
  SoupMessage *msg;
  guint        status;
  GBytes      *body;
  JsonNode    *json;     /* NULL unless the body parses as JSON */
  double       elapsed;  /* seconds from send to the end of the body */
} Response;

void         response_free  (Response    *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Response, response_free)

char        *url_for        (Fixture     *f,
                             const char  *path);
SoupMessage *new_message    (Fixture     *f,
                             const char  *method,
                             const char  *path);
SoupMessage *with_header    (SoupMessage *msg,
                             const char  *name,
                             const char  *value);
Response    *send_message   (Fixture     *f,
                             SoupMessage *msg);
Response    *fetch_with     (Fixture     *f,
                             const char  *method,
                             const char  *path,
                             const char  *content_type,
                             GBytes      *body);
Response    *fetch          (Fixture     *f,
                             const char  *method,
                             const char  *path,
                             const char  *json_body);

const char  *header         (Response    *r,
                             const char  *name);
JsonObject  *object         (Response    *r);
const char  *string_member  (Response    *r,
                             const char  *name);
void         assert_members (Response    *r,
                             const char  *first,
                             ...) G_GNUC_NULL_TERMINATED;
void         assert_json_error (Response *r,
                                guint     status,
                                const char *code);
void         assert_uuid_v4    (const char *id);
void         assert_iso8601_ms (const char *text);

Response    *create_job          (Fixture    *f,
                                  const char *json_body);
char        *create_job_id       (Fixture    *f,
                                  const char *json_body);
char        *create_short_job_id (Fixture    *f,
                                  double      seconds,
                                  const char *outcome);
char        *wait_path           (const char *prefix,
                                  const char *id,
                                  const char *suffix,
                                  double      seconds);

/* Lists @n outcomes of requests to f->server, one character each. */
typedef char *(*SequenceFunc) (Fixture *f,
                               guint    n);
char        *assert_reproducible (Fixture            *f,
                                  const char * const *args,
                                  SequenceFunc        sequence,
                                  guint               n);

/* One event of a stream */
typedef struct
{
  char *event_id;  /* its id: line */
  char *id;        /* the job's */
  char *status;
} Event;

void    event_clear                 (Event      *event);
GArray *parse_events                (GBytes     *body);
void    assert_event                (GArray     *events,
                                     guint       i,
                                     const char *id,
                                     const char *status);
void    assert_event_stream_headers (Response   *r);

typedef gboolean (*ConditionFunc) (gpointer user_data);
void     await_condition    (ConditionFunc  condition,
                             gpointer       user_data,
                             double         seconds,
                             const char    *what);
gboolean metrics_have_line  (Fixture       *f,
                             const char    *line);
void     await_metrics_line (Fixture       *f,
                             const char    *line);

char    *raw_exchange       (Fixture       *f,
                             const char    *request);
char    *raw_exchange_with_error (Fixture  *f,
                                  const char *request,
                                  GError  **error);

G_END_DECLS
