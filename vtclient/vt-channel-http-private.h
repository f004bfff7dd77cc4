/* vt-channel-http-private.h: how we ask (one HTTP exchange)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <libsoup/soup.h>

#include "vt-job-response-private.h"
#include "vt-protocol-private.h"
#include "vt-schedule-private.h"

G_BEGIN_DECLS

/* One answer, read: what it means, and what it said. */
typedef struct
{
  VtExchangeKind    kind;
  guint             http_status;  /* 0 when no answer came */
  VtJobObservation  observation;  /* VT_EXCHANGE_OK of a job GET */
  VtScheduleHints   hints;
  VtCapabilities    capabilities;
  GError           *error;        /* set unless kind is VT_EXCHANGE_OK */
  GUri             *location;     /* VT_EXCHANGE_REDIRECT: where to ask */
  char             *etag;         /* the answer's ETag, if any */
  gboolean          unchanged;    /* a 304 to a conditional GET: OK, no body */
  VtRateInfo        rate;         /* what it said of the rate limit */
} VtExchange;

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
void            vt_request_cancellable_restart_timer (VtRequestCancellable *self,
                                                      double              timeout);
GError         *vt_request_cancellable_explain  (VtRequestCancellable *self,
                                                 GError             *error,
                                                 const char         *timeout_message);
void            vt_request_cancellable_clear    (VtRequestCancellable *self);

VtExchange     *vt_exchange_new                 (void);
void            vt_exchange_free                (VtExchange         *exchange);
void            vt_exchange_read_answer         (VtExchange         *exchange,
                                                 SoupMessage        *message,
                                                 VtRequestKind       request);
void            vt_exchange_set_send_error      (VtExchange         *exchange,
                                                 GError             *error,
                                                 GCancellable       *cancellable);

SoupMessage    *vt_channel_http_new_message     (const char         *method,
                                                 GUri               *uri,
                                                 const char         *token);
SoupMessage    *vt_channel_http_new_job_message (GUri               *uri,
                                                 const char         *token);
void            vt_channel_http_send_async      (SoupSession        *session,
                                                 SoupMessage        *message,
                                                 double              timeout,
                                                 gsize               max_size,
                                                 GCancellable       *cancellable,
                                                 GAsyncReadyCallback callback,
                                                 gpointer            user_data);
GBytes         *vt_channel_http_send_finish     (SoupSession        *session,
                                                 GAsyncResult       *result,
                                                 GError            **error);

void            vt_channel_http_get_job_async   (SoupSession        *session,
                                                 GUri               *uri,
                                                 const char         *token,
                                                 const char         *etag,
                                                 double              timeout,
                                                 GCancellable       *cancellable,
                                                 GAsyncReadyCallback callback,
                                                 gpointer            user_data);
VtExchange     *vt_channel_http_get_job_finish  (SoupSession        *session,
                                                 GAsyncResult       *result);

void            vt_channel_http_exchange_async  (SoupSession        *session,
                                                 SoupMessage        *message,
                                                 VtRequestKind       request,
                                                 double              timeout,
                                                 GCancellable       *cancellable,
                                                 GAsyncReadyCallback callback,
                                                 gpointer            user_data);
VtExchange     *vt_channel_http_exchange_finish (SoupSession        *session,
                                                 GAsyncResult       *result,
                                                 GBytes            **body);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VtExchange, vt_exchange_free)

G_END_DECLS
