/* vt-protocol-private.h: the protocol, without I/O (pure)
 *
 * What the client and the server agree on, as functions of strings and
 * numbers: the URLs of jobs, streams and feeds, the headers the server
 * sends (capabilities, Retry-After, redirects), and what an HTTP status
 * means for a request (an outcome and, for failures, the GError the
 * caller reports). Every channel and job submission read answers through
 * here, so one status means one thing everywhere. The JSON bodies are
 * vt-job-response.c's, the other half of the protocol.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* What the server said it supports (the Vt-Capabilities header). */
typedef enum
{
  VT_CAPABILITY_NONE      = 0,
  VT_CAPABILITY_HINTS     = 1 << 0,
  VT_CAPABILITY_LONG_POLL = 1 << 1,
  VT_CAPABILITY_EVENTS    = 1 << 2,
  VT_CAPABILITY_FEEDS     = 1 << 3,
  /* A 304 to a conditional GET of a job carries Vt-Eta. */
  VT_CAPABILITY_CONDITIONAL = 1 << 4,
} VtCapabilities;

/* What an answer (or its absence) means for the request that got it. */
typedef enum
{
  VT_EXCHANGE_OK,          /* a 2xx: read the body */
  VT_EXCHANGE_TRANSIENT,   /* network error, timeout, 5xx, 429: retry */
  VT_EXCHANGE_PROTOCOL,    /* a body we cannot read: retry, a few times */
  VT_EXCHANGE_FATAL,       /* 404, 401, other 4xx: give up at once */
  VT_EXCHANGE_REDIRECT,    /* 3xx with a Location: ask there, once */
  VT_EXCHANGE_CANCELLED,   /* the caller cancelled: nothing to report */
} VtExchangeKind;

/* Whose request an answer is for: the same status reads differently for
 * a job (404: no such job) and for a submission (404: no /jobs). */
typedef enum
{
  VT_REQUEST_JOB,
  VT_REQUEST_SUBMISSION,
  VT_REQUEST_FEED,
} VtRequestKind;

/* What an answer said of the server's rate limit (the IETF httpapi
 * draft's RateLimit-Policy and RateLimit fields, and a 429's or 503's
 * Retry-After); each figure -1 when absent. */
typedef struct
{
  double quota;        /* the policy's q: requests per window */
  double window;       /* its w, seconds */
  double remaining;    /* RateLimit's r */
  double reset;        /* its t, seconds */
  double retry_after;  /* a 429 or 503 told to wait this long */
} VtRateInfo;

#define VT_RATE_INFO_NONE ((VtRateInfo) { -1.0, -1.0, -1.0, -1.0, -1.0 })

/* The most redirects a watch follows in a row. */
#define VT_MAX_REDIRECTS 5

/* The longest a long-poll may ask the server to hold (the protocol's
 * cap, docs/protocol.md). */
#define VT_PROTOCOL_MAX_WAIT 60.0

GUri           *vt_protocol_build_uri         (const char     *base_url,
                                               const char     *path,
                                               GError        **error);
GUri           *vt_protocol_job_uri           (const char     *base_url,
                                               const char     *job_id,
                                               GError        **error);
GUri           *vt_protocol_job_events_uri    (const char     *base_url,
                                               const char     *job_id);
GUri           *vt_protocol_with_query        (GUri           *uri,
                                               const char     *query);
GUri           *vt_protocol_long_poll_uri     (GUri           *uri,
                                               double          wait);
GUri           *vt_protocol_feed_uri          (const char     *base_url,
                                               const char     *feed_id,
                                               const char     *tail);
GUri           *vt_protocol_feed_wait_uri     (const char     *base_url,
                                               const char     *feed_id,
                                               gint64          after,
                                               double          wait);

VtCapabilities  vt_protocol_parse_capabilities (const char    *header);
double          vt_protocol_parse_retry_after (const char     *value,
                                               GDateTime      *now);
GUri           *vt_protocol_redirect_target   (GUri           *request_uri,
                                               const char     *location);
gboolean        vt_protocol_same_origin       (GUri           *a,
                                               GUri           *b);

gboolean        vt_protocol_parse_ratelimit_policy (const char *value,
                                                    double     *quota,
                                                    double     *window);
gboolean        vt_protocol_parse_ratelimit   (const char     *value,
                                               double         *remaining,
                                               double         *reset);

gboolean        vt_protocol_parse_eta         (const char     *value,
                                               double         *eta,
                                               double         *elapsed);

gboolean        vt_protocol_is_redirect       (guint           http_status);
VtExchangeKind  vt_protocol_classify_status   (guint           http_status,
                                               const char     *reason,
                                               VtRequestKind   request,
                                               GError        **error);
VtExchangeKind  vt_protocol_classify_failure  (const GError   *error);

G_END_DECLS
