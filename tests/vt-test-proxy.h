/* vt-test-proxy.h: a logging TCP proxy in front of a spawned vt-server
 *
 * vt-server's metrics count the requests it answered; a request it drops
 * (the reset and hang faults, a slow body the client gave up on) is never
 * counted. The proxy sits between the client and the server, one
 * upstream connection per client connection, forwards every byte as it
 * comes in both directions, and logs the head of every request on its way
 * to the server: what the server saw, answered or not, and when.
 *
 * It runs in a thread and main context of its own, so that it forwards
 * whatever context the client iterates (vt_client_get_status() runs its
 * own).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _VtTestProxy VtTestProxy;

/* Listens on 127.0.0.1, a free port, in front of @upstream_url
 * ("http://127.0.0.1:PORT"). */
VtTestProxy *vt_test_proxy_new          (const char  *upstream_url);
/* Closes every connection and stops the thread. */
void         vt_test_proxy_free         (VtTestProxy *proxy);
/* "http://127.0.0.1:PORT" */
const char  *vt_test_proxy_get_url      (VtTestProxy *proxy);

/* The requests forwarded so far whose target (path and query) starts
 * with @prefix: their count, and the monotonic time (µs) at which the
 * first byte of each arrived, in order. Free with g_array_unref(). */
GArray      *vt_test_proxy_get_arrivals (VtTestProxy *proxy,
                                         const char  *prefix);
guint        vt_test_proxy_count        (VtTestProxy *proxy,
                                         const char  *prefix);
/* Their targets (path and query, as sent), in order. */
GStrv        vt_test_proxy_get_targets  (VtTestProxy *proxy,
                                         const char  *prefix);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VtTestProxy, vt_test_proxy_free)

G_END_DECLS
