/* vt-enums.h: public enumerations
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(__VTCLIENT_INSIDE__) && !defined(VTCLIENT_COMPILATION)
#error "Only <vtclient.h> can be included directly."
#endif

#include <glib.h>

G_BEGIN_DECLS

/**
 * VtStatus:
 * @VT_STATUS_PENDING: the job is still running
 * @VT_STATUS_COMPLETED: the job finished successfully
 * @VT_STATUS_ERROR: the job finished with an error on the server
 * @VT_STATUS_TIMEOUT: the client gave up: its attempts or its wait time ran out
 *   before the job finished
 *
 * The status of a video translation job as the client sees it.
 *
 * %VT_STATUS_TIMEOUT is never reported by a server; it is the final status of
 * a watch whose budget ran out.
 */
typedef enum {
  VT_STATUS_PENDING,
  VT_STATUS_COMPLETED,
  VT_STATUS_ERROR,
  VT_STATUS_TIMEOUT,
} VtStatus;

/**
 * VtStrategy:
 * @VT_STRATEGY_AUTO: use the best channel the server offers (event stream,
 *   then long-poll, then hinted polling, then plain backoff), falling back when
 *   a channel fails
 * @VT_STRATEGY_POLL: plain requests on the backoff schedule, honouring server
 *   hints when present
 * @VT_STRATEGY_LONG_POLL: requests that the server holds until the status
 *   changes (`?wait=`)
 * @VT_STRATEGY_STREAM: one Server-Sent Events stream per job
 *
 * How a #VtClient follows a job.
 */
typedef enum {
  VT_STRATEGY_AUTO,
  VT_STRATEGY_POLL,
  VT_STRATEGY_LONG_POLL,
  VT_STRATEGY_STREAM,
} VtStrategy;

/**
 * VtJitterMode:
 * @VT_JITTER_MODE_SYMMETRIC: add a uniform offset in [-jitter, +jitter]
 *   seconds to each backoff wait (the seed's jitter)
 * @VT_JITTER_MODE_FULL: wait a uniform time in [0, backoff wait] ("full
 *   jitter"), which spreads many clients best
 *
 * How random jitter is applied to the backoff schedule.
 */
typedef enum {
  VT_JITTER_MODE_SYMMETRIC,
  VT_JITTER_MODE_FULL,
} VtJitterMode;

G_END_DECLS
