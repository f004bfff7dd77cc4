/* vt-channel-http-private.h: how we ask (one HTTP exchange)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <libsoup/soup.h>

#include "vt-job-response-private.h"
#include "vt-schedule-private.h"

G_BEGIN_DECLS

/* What the server said it supports (the Vt-Capabilities header). */
typedef enum
{
  VT_CAPABILITY_NONE      = 0,
  VT_CAPABILITY_HINTS     = 1 << 0,
  VT_CAPABILITY_LONG_POLL = 1 << 1,
  VT_CAPABILITY_EVENTS    = 1 << 2,
} VtCapabilities;

typedef enum
{
  VT_EXCHANGE_OK,          /* observation is valid */
  VT_EXCHANGE_TRANSIENT,   /* network error, timeout, 5xx, 429: retry */
  VT_EXCHANGE_PROTOCOL,    /* a body we cannot read: retry, a few times */
  VT_EXCHANGE_FATAL,       /* 404, 401, other 4xx: give up at once */
  VT_EXCHANGE_REDIRECT,    /* 3xx with a Location: ask there, once */
  VT_EXCHANGE_CANCELLED,   /* the caller cancelled: nothing to report */
} VtExchangeKind;

typedef struct
{
  VtExchangeKind    kind;
  guint             http_status;
  VtJobObservation  observation;
  VtScheduleHints   hints;
  VtCapabilities    capabilities;
  GError           *error;   /* set unless kind is VT_EXCHANGE_OK */
  GUri             *location; /* VT_EXCHANGE_REDIRECT: where to ask */
} VtExchange;

/* The most redirects a watch follows in a row; the next one fails it. */
#define VT_MAX_REDIRECTS 5

/* A request's own cancellable: cancelled when the caller's is, or when
 * its timer runs out. Both channels need one; the timer is what bounds a
 * request a hung server never answers. */
typedef struct
{
  GCancellable *cancellable;
  GCancellable *caller;
  gulong        caller_handler;
  GSource      *timer;
  gboolean      timed_out;
} VtRequestCancellable;

void            vt_request_cancellable_init     (VtRequestCancellable *self,
                                                 GCancellable       *caller,
                                                 double              timeout,
                                                 const char         *name,
                                                 GMainContext       *context);
void            vt_request_cancellable_stop_timer (VtRequestCancellable *self);
GError         *vt_request_cancellable_explain  (VtRequestCancellable *self,
                                                 GError             *error,
                                                 const char         *timeout_message);
void            vt_request_cancellable_clear    (VtRequestCancellable *self);

VtExchange     *vt_exchange_new                 (void);
void            vt_exchange_free                (VtExchange         *exchange);
void            vt_exchange_read_headers        (VtExchange         *exchange,
                                                 SoupMessage        *message);
void            vt_exchange_set_http_error      (VtExchange         *exchange,
                                                 SoupMessage        *message);
void            vt_exchange_set_send_error      (VtExchange         *exchange,
                                                 GError             *error,
                                                 GCancellable       *cancellable);
VtCapabilities  vt_capabilities_parse           (const char         *header);
double          vt_retry_after_parse            (const char         *value,
                                                 GDateTime          *now);

SoupMessage    *vt_channel_http_new_message     (const char         *method,
                                                 GUri               *uri,
                                                 const char         *token);
SoupMessage    *vt_channel_http_new_job_message (GUri               *uri,
                                                 const char         *token);
gboolean        vt_exchange_read_redirect       (VtExchange         *exchange,
                                                 SoupMessage        *message);
gboolean        vt_uri_same_origin              (GUri               *a,
                                                 GUri               *b);
void            vt_channel_http_send_async      (SoupSession        *session,
                                                 SoupMessage        *message,
                                                 double              timeout,
                                                 GCancellable       *cancellable,
                                                 GAsyncReadyCallback callback,
                                                 gpointer            user_data);
GBytes         *vt_channel_http_send_finish     (SoupSession        *session,
                                                 GAsyncResult       *result,
                                                 GError            **error);

void            vt_channel_http_get_job_async   (SoupSession        *session,
                                                 GUri               *uri,
                                                 const char         *token,
                                                 double              timeout,
                                                 GCancellable       *cancellable,
                                                 GAsyncReadyCallback callback,
                                                 gpointer            user_data);
VtExchange     *vt_channel_http_get_job_finish  (SoupSession        *session,
                                                 GAsyncResult       *result);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VtExchange, vt_exchange_free)

G_END_DECLS
